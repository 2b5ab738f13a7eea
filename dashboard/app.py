"""Dash app factory. The shell only builds the page container; pages register themselves."""

from __future__ import annotations

from pathlib import Path

import dash
from dash import dcc, html

from dashboard import ids, telemetry, web
from dashboard.analyst import exports, filters
from dashboard.auth import admin, gate
from dashboard.briefing import serve as briefing_files
from dashboard.runtime import RUNTIME_KEY, Clock, Runtime
from settings import Settings

__all__ = ["create_app", "RENDERER_HOOKS"]

_ROOT = Path(__file__).resolve().parent.parent

# The renderer tells assets/wall.js when a server request starts and when one succeeds; a request
# that never succeeds (server down, error) turns the wall's "reconnecting" badge on. A 401 is seen by
# wall.js's own fetch wrapper (these hooks never get a failed request's status): it reloads the page.
RENDERER_HOOKS = {
    "request_pre": "function () { if (window.gpWallHooks) { window.gpWallHooks.pre(); } }",
    "request_post": "function () { if (window.gpWallHooks) { window.gpWallHooks.post(); } }",
}


def create_app(settings: Settings, clock: Clock | None = None) -> dash.Dash:
    """Build the Dash app and its :class:`~dashboard.runtime.Runtime`. No data is read here.

    Layouts and callbacks reach the runtime through :func:`dashboard.runtime.current`; the
    process holds no settings or clock of its own, so two apps in one process stay apart.

    Everything the browser loads is served by this app (``serve_locally``): no CDN, so the
    command center works on a closed network.

    Args:
        settings: deployment settings.
        clock: where "now" comes from (a callable returning an aware datetime). ``None`` is the wall
            clock; tests and benchmarks pin it to the end of their demo data, because the demo's
            "today" is a fixed day in the past.
    """
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
    app.server.config[RUNTIME_KEY] = Runtime(settings, clock)
    # The analyst pages' filter bar writes the URL through this Location (a history entry per change, no
    # reload); it lives outside the page container so a page's new layout never replaces it.
    app.layout = html.Div([dcc.Location(id=ids.AN_URL, refresh="callback-nav"), dash.page_container])
    filters.register(app)  # the analyst filter bar: filters -> URL, the area search
    exports.register(app.server)  # /analyst/export/cases.csv and .xlsx
    briefing_files.register(app.server)  # /analyst/briefings/download|preview/<scope>/<week>.pdf
    gate.install(app, settings)  # sign-in: sessions, wall tokens, /login, who may open what (docs/access.md)
    admin.register(app.server)  # /admin: accounts, wall tokens, the audit log (admins only)
    web.harden(app, settings)  # compression, caching, limits, host names, headers, /healthz /readyz
    telemetry.install(app, settings)  # request latency and /metrics (last: its clock starts first, stops last)
    return app
