"""The archive's files over HTTP: a briefing's PDF as a download and its first page as a PNG preview.

Two Flask routes on the app's server (:func:`register`), ``/analyst/briefings/download/<scope>/<name>``
and ``/analyst/briefings/preview/<scope>/<name>``. Nothing but an archived briefing is ever served:
both parts go through :func:`dashboard.briefing.archive.find_report`, which accepts only archive
names (a scope folder and ``2026-W47[.en].pdf``), so ``../settings.py``, encoded or not, a run log or
a ``.tmp`` file is a 404, like a week nobody wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import flask

from dashboard import runtime
from dashboard.auth import access
from dashboard.auth.gate import auditor
from dashboard.briefing.archive import find_report
from dashboard.briefing.listing import DOWNLOAD_PREFIX, PREVIEW_PREFIX, download_name
from data.snapshot import NoSnapshotError
from settings import Settings

__all__ = ["may_see", "register"]

_ROOT = DOWNLOAD_PREFIX.rsplit("/", 1)[0]  # /analyst/briefings


def _current_settings() -> Settings:
    return runtime.current().settings


def register(server: flask.Flask, settings_getter: Callable[[], Settings] = _current_settings) -> None:
    """Add the download and preview routes to the app's Flask ``server`` (once per app).

    Args:
        server: the Dash app's Flask server.
        settings_getter: where the archive's settings come from in a request (default: the app's runtime).
    """

    def download(folder: str, name: str) -> flask.Response:
        path = find_report(settings_getter().reports_dir, folder, name) if may_see(folder) else None
        if path is None:
            flask.abort(404)
        auditor()("briefing.download", {"scope": folder, "file": name})
        filename = download_name(folder, name)
        response = flask.send_file(path, mimetype="application/pdf", as_attachment=True, download_name=filename,
                                   max_age=0)
        response.headers["Content-Disposition"] = \
            f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"
        return response

    def preview(folder: str, name: str) -> flask.Response:
        path = find_report(settings_getter().reports_dir, folder, name) if may_see(folder) else None
        png = path.with_suffix(".png") if path is not None else None
        if png is None or not png.is_file():
            flask.abort(404)
        return flask.send_file(png, mimetype="image/png", max_age=0)

    server.add_url_rule(f"{DOWNLOAD_PREFIX}/<folder>/<name>", "gridpulse_briefing_download", download)
    server.add_url_rule(f"{PREVIEW_PREFIX}/<folder>/<name>", "gridpulse_briefing_preview", preview)
    # Anything else under the prefix (``../..`` in any spelling, a third path segment) is a 404 here rather
    # than Dash's page shell, which answers every unknown path with 200 and its own "not found".
    server.add_url_rule(f"{_ROOT}/<path:rest>", "gridpulse_briefing_other", _not_found)


def may_see(folder: str) -> bool:
    """Whether this request's account may see the briefings filed under ``folder`` (an area id).

    Resolved through the runtime (:meth:`dashboard.runtime.Runtime.scope`), the one place that checks
    an area against the account; an unknown area is refused like a forbidden one. Without a snapshot
    nothing can be checked: only an account that sees everywhere may then have a file.
    """
    rt = runtime.current()
    try:
        with rt.snapshot() as (con, info):
            return rt.allows(con, info, folder)
    except NoSnapshotError:
        return access.current().everywhere


def _not_found(rest: str) -> flask.Response:
    flask.abort(404)
