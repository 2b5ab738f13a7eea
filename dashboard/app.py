"""Dash app factory. The shell only builds the page container; pages register themselves."""

from __future__ import annotations

from pathlib import Path

import dash

from settings import Settings, get_settings, use_settings

__all__ = ["create_app"]

_ROOT = Path(__file__).resolve().parent.parent


def create_app(settings: Settings | None = None) -> dash.Dash:
    """Build the Dash app. No data is read here: layouts read the snapshot when asked.

    Everything the browser loads is served by this app (``serve_locally``): no CDN, so the
    command center works on a closed network.
    """
    settings = settings or get_settings()
    use_settings(settings)
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder=str(Path(__file__).resolve().parent / "pages"),
        assets_folder=str(_ROOT / "assets"),
        serve_locally=True,
        suppress_callback_exceptions=True,
        title="GridPulse",
        update_title=None,
    )
    app.server.config["GRIDPULSE_SETTINGS"] = settings
    app.layout = dash.page_container
    return app
