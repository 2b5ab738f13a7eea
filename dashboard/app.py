"""Dash app factory. The shell only builds the page container; pages register themselves."""

from __future__ import annotations

from pathlib import Path

import dash

from dashboard.data_access import Clock, use_clock
from settings import Settings, get_settings, use_settings

__all__ = ["create_app", "RENDERER_HOOKS"]

_ROOT = Path(__file__).resolve().parent.parent

# The renderer tells assets/wall.js when a server request starts and when one succeeds; a request
# that never succeeds (server down, error) turns the wall's "reconnecting" badge on.
RENDERER_HOOKS = {
    "request_pre": "function () { if (window.gpWallHooks) { window.gpWallHooks.pre(); } }",
    "request_post": "function () { if (window.gpWallHooks) { window.gpWallHooks.post(); } }",
}


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> dash.Dash:
    """Build the Dash app. No data is read here: layouts and callbacks read the snapshot when asked.

    Everything the browser loads is served by this app (``serve_locally``): no CDN, so the
    command center works on a closed network.

    Args:
        settings: deployment settings (default: the process's, from the environment).
        clock: where "now" comes from (a callable returning an aware datetime). ``None`` is the wall
            clock; tests and benchmarks pin it to the end of their demo data, because the demo's
            "today" is a fixed day in the past.
    """
    settings = settings or get_settings()
    use_settings(settings)
    use_clock(clock)
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder=str(Path(__file__).resolve().parent / "pages"),
        assets_folder=str(_ROOT / "assets"),
        serve_locally=True,
        suppress_callback_exceptions=True,
        title="GridPulse",
        update_title=None,
        hooks=RENDERER_HOOKS,
    )
    app.server.config["GRIDPULSE_SETTINGS"] = settings
    app.layout = dash.page_container
    return app
