"""The app's own defences when it faces a network: one entry, :func:`harden`, called by ``create_app``.

What it adds to the Dash app's Flask server (each measured or argued in ``docs/serving.md``):

* **Compression** (Flask-Compress): brotli or gzip, as the browser asks, for HTML, JSON, JS and CSS.
  Component bundles are compressed once per process and encoding and then served from memory:
  plotly's 4.8 MB bundle takes 0.22 s to gzip and 0.30 s to brotli, which every page load would
  otherwise pay.
* **Caching by version**: Dash's fingerprinted bundles (``...v4_4_1m1796163027.min.js``) and assets
  with a ``?m=`` stamp may be kept a year (``immutable``); other static files are revalidated
  (``no-cache``, ETag); everything else (pages, ``_dash-*`` JSON, callbacks, exports, briefing
  downloads, errors) is ``no-store``.
* **A request size limit**: Flask's ``MAX_CONTENT_LENGTH`` from the ``max_request_bytes`` setting;
  a bigger body is refused with 413 before it is read.
* **Host names**: only the ``allowed_hosts`` setting's names are served; any other ``Host`` header
  gets 400 (DNS rebinding). The health endpoints answer any name: a load balancer probes by address.
* **No versions**: ``_dash-config`` loses the Python, Dash and plotly versions and the version
  check's URL (the renderer calls that URL only in debug mode, and a wall has no internet anyway);
  the favicon's ``?v=<dash version>`` goes. The ``Server`` header is the WSGI server's, written after
  the app has answered (Werkzeug's names itself and Python; gunicorn's: see ``docs/serving.md``).
* **404, never 500, for what does not exist**: an unknown package or file under
  ``/_dash-component-suites/`` (Dash raises ``DependencyException`` or ``FileNotFoundError``: a
  500 before), and a path that names no page (Dash's catch-all answers it with the app and its
  "page not found" view: the same page now comes with status 404).
* **Security headers** on every response: a Content-Security-Policy that lets Dash run without
  ``'unsafe-inline'`` or ``'unsafe-eval'`` scripts (the inline scripts Dash writes are allowed by
  their hashes, ``app.csp_hashes()``), ``frame-ancestors 'self'`` and ``X-Frame-Options``,
  ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: same-origin``.
* **Behind reverse proxies** (the ``proxy_hops`` setting): Werkzeug's ``ProxyFix`` takes the client's
  address and scheme from that many proxies' ``X-Forwarded-For`` and ``X-Forwarded-Proto``, so the
  sign-in limits and the audit see people, not the proxy, and cookies are Secure behind TLS. Without
  the setting those headers are ignored (anyone could send them).
* **Health endpoints**, no sign-in: ``/healthz`` (the process answers) and ``/readyz`` (a snapshot is
  open and not stale, judged as the wall's status panel judges it: :func:`metrics.freshness.freshness`).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable

import dash
import duckdb
import flask
from dash._pages import _path_to_page
from dash.exceptions import DependencyException
from dash.fingerprint import check_fingerprint
from flask_compress import Compress
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboard import runtime as web_runtime
from data.contract import read_store_status
from data.snapshot import NoSnapshotError
from metrics.freshness import freshness
from settings import Settings

__all__ = ["harden"]

log = logging.getLogger(__name__)

ONE_YEAR = 31_536_000  # seconds: what "cache forever" means to browsers (RFC 9111 advises at most a year)
HEALTH_PATHS = ("/healthz", "/readyz")
_SUITES_PREFIX = "/_dash-component-suites/"  # Dash's route for the components' and plotly's bundles
# Always allowed when allowed_hosts is empty: the machine itself, by name and by address (IPv4 and IPv6).
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
# A Host header: a name or IPv4 address, or an IPv6 address in brackets; then an optional port.
_HOST_HEADER = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::[0-9]{1,5})?", re.IGNORECASE | re.ASCII)
# Keys of Dash's _dash-config that tell versions; the renderer needs them only for the debug-mode
# version badge and its check against plotly's server.
_VERSION_KEYS = ("dash_version", "python_version", "dash_version_url", "ddk_version", "plotly_version")
# Unknown host names logged once each (bounded: the names come from requests).
_LOGGED_HOSTS_MAX = 100
# Compressed bundles kept per process: ~20 bundles x 2 encodings; plotly's is 1.4 MB compressed.
_COMPRESSED_KEPT = 64

# Everything the pages load comes from this server (no CDN, no tiles, no web fonts). The smallest policy under
# which /wall, /, /map, /cases, /warnings and /briefings run with no violation (tests/browser/test_web_headers.py):
# MapLibre (plotly's map traces) starts its workers from blob: URLs; plotly, ag-grid and Dash's components set
# inline styles and use data: images in their CSS. Scripts need neither 'unsafe-inline' nor 'unsafe-eval'.
_CSP = (
    "default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'self'"
)


def harden(app: dash.Dash, settings: Settings) -> None:
    """Fit ``app`` to face a network: compression, caching rules, limits, host check, headers, health.

    Call it once, after every route and callback of the app is registered (the last line of
    :func:`dashboard.app.create_app`).

    Args:
        app: the Dash app (its Flask server is changed in place).
        settings: deployment settings (``allowed_hosts``, ``host``, ``max_request_bytes``).
    """
    server = app.server
    if settings.proxy_hops:  # the client's address and scheme as the trusted proxies saw them
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops)
    server.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    _compress(server)
    # first of all before_request functions: a refused host name starts nothing of Dash's
    server.before_request_funcs.setdefault(None, []).insert(0, _host_check(_allowed_hosts(settings)))
    _health_routes(app)
    server.register_error_handler(DependencyException, _not_found)
    server.register_error_handler(FileNotFoundError, _missing_file)
    _hide_versions(app)
    server.after_request(lambda response: _finish(app, response))


# --- compression ----------------------------------------------------------------------------------


class _CompressedBundles:
    """Flask-Compress's cache backend: compressed component bundles, least recently used dropped.

    Keys other than a bundle's (see :func:`_bundle_key`) end in ``;`` and are never kept, so
    callback answers and pages are compressed afresh each time.
    """

    def __init__(self) -> None:
        """An empty cache."""
        self._data: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        """The compressed body kept under ``key``, or ``None``."""
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def set(self, key: str, value: bytes) -> None:
        """Keep ``value`` under ``key`` unless the key marks an answer that is not a bundle."""
        if key.endswith(";"):
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > _COMPRESSED_KEPT:
                self._data.popitem(last=False)


def _bundle_key(request: flask.Request) -> str:
    """The cache key of a component bundle (its path), else ``""`` (not kept).

    Fingerprinted paths name the version and mtime. Dash 4 asks for plotly's bundle and the
    components' async chunks without a fingerprint (``/_dash-component-suites/plotly/package_data/
    plotly.min.js``); they come from the installed packages, which do not change under a running
    process, so their path is key enough.
    """
    if request.method == "GET" and request.path.startswith(_SUITES_PREFIX):
        return request.path
    return ""


def _compress(server: flask.Flask) -> None:
    """Brotli or gzip for text responses (Flask-Compress); bundles compressed once (see module docstring).

    Dash's own ``compress=True`` is not used: Dash 4.4 then forces gzip only (its check for a
    configured algorithm never sees the config key) and offers no place to set the cache.
    """
    server.config.update(
        # Chromium asks for br and zstd only over HTTPS; over plain HTTP it gets gzip.
        COMPRESS_ALGORITHM=["br", "gzip"],
        # Files sent by Flask (assets) are streamed; gzip too (Flask-Compress leaves it out by default).
        COMPRESS_ALGORITHM_STREAMING=["br", "gzip"],
        COMPRESS_MIMETYPES=["text/html", "text/css", "text/plain", "text/javascript", "application/javascript",
                            "application/json", "image/svg+xml", "image/x-icon", "image/vnd.microsoft.icon"],
        COMPRESS_CACHE_BACKEND=_CompressedBundles,
        COMPRESS_CACHE_KEY=_bundle_key,
    )
    Compress(server)


# --- host names -----------------------------------------------------------------------------------


def _allowed_hosts(settings: Settings) -> frozenset[str] | None:
    """The host names the app answers to, lower case without brackets; ``None`` for any (``*``)."""
    names = [e.strip().lower().strip("[]") for e in settings.allowed_hosts.split(",") if e.strip()]
    if "*" in names:
        return None
    if not names:
        names = list(LOCAL_HOSTS)
        if settings.host.strip("[]") not in ("", "0.0.0.0", "::"):  # one interface, named: people type it
            names.append(settings.host.strip().lower().strip("[]"))
    return frozenset(n.rstrip(".") for n in names)


def _host_allowed(header: str, allowed: frozenset[str]) -> bool:
    """Whether the ``Host`` header value names an allowed host (``.example.org`` allows its subdomains)."""
    match = _HOST_HEADER.fullmatch(header.strip())
    if match is None:
        return False
    name = match.group(1).lower().strip("[]").rstrip(".")
    return name in allowed or any(a.startswith(".") and (name.endswith(a) or name == a[1:]) for a in allowed)


def _host_check(allowed: frozenset[str] | None) -> Callable[[], flask.Response | None]:
    """The app's first ``before_request``: 400 for a ``Host`` header the settings do not allow.

    The health endpoints answer any name. Each refused name is logged once (at most
    :data:`_LOGGED_HOSTS_MAX` of them per app), with the allowed list, so an operator sees what to set.
    """
    logged: set[str] = set()

    def check_host() -> flask.Response | None:
        if allowed is None or flask.request.path in HEALTH_PATHS:
            return None
        header = flask.request.environ.get("HTTP_HOST", "")
        if _host_allowed(header, allowed):
            return None
        if header not in logged and len(logged) < _LOGGED_HOSTS_MAX:
            logged.add(header)
            log.warning("refused a request for host %r: not in the allowed_hosts setting (%s)", header[:100],
                        ", ".join(sorted(allowed)))
        return flask.Response("Bad Request: this server does not answer to that host name.\n", status=400,
                              mimetype="text/plain")

    return check_host


# --- not found --------------------------------------------------------------------------------------


def _not_found(_error: Exception) -> flask.Response:
    """404 for a file Dash does not serve (an unknown package or a path it did not register)."""
    return flask.Response("Not Found\n", status=404, mimetype="text/plain")


def _missing_file(error: FileNotFoundError) -> flask.Response:
    """404 for a registered component file that is not on disk (Dash lists source maps it does not ship).

    Elsewhere a missing file is a fault of ours, and stays a 500.
    """
    if flask.request.path.startswith(_SUITES_PREFIX):
        return _not_found(error)
    raise error


def _is_fingerprinted_bundle(request: flask.Request) -> bool:
    """Whether the request is for a ``/_dash-component-suites/`` file named with its version fingerprint."""
    if not request.path.startswith(_SUITES_PREFIX):
        return False
    return check_fingerprint(request.path.rsplit("/", 1)[-1])[1]


def _is_unknown_page(app: dash.Dash, request: flask.Request) -> bool:
    """Whether Dash's catch-all route answers a path that is none of the registered pages.

    Decided by the function Dash's own router uses (``dash._pages._path_to_page``), so a path the
    status calls unknown is one the page container shows as "page not found".
    """
    if request.endpoint != app.config.routes_pathname_prefix + "<path:path>":  # Dash's catch-all route
        return False
    page, _variables = _path_to_page(app.strip_relative_path(request.path))
    return not page


# --- versions ---------------------------------------------------------------------------------------


def _hide_versions(app: dash.Dash) -> None:
    """Take the version strings out of the page Dash writes (``_dash-config``, the favicon's URL).

    ``interpolate_index`` is the hook Dash documents for changing its HTML; the original is called
    with the cleaned parts, so Dash's own checks of the page still run.
    """
    original = app.interpolate_index

    def interpolate_index(**parts: str) -> str:
        if "config" in parts:
            parts["config"] = _config_without_versions(parts["config"])
        if "favicon" in parts:
            parts["favicon"] = re.sub(r"\?v=[^\"]*", "", parts["favicon"])
        return original(**parts)

    app.interpolate_index = interpolate_index


def _config_without_versions(tag: str) -> str:
    """The ``<script id="_dash-config">`` tag with the version keys removed and the version check off."""
    start, end = tag.index(">") + 1, tag.rindex("</script>")
    config = json.loads(tag[start:end])
    for key in _VERSION_KEYS:
        config.pop(key, None)
    config["disable_version_check"] = True
    text = json.dumps(config, ensure_ascii=False, separators=(",", ":"))
    # as Dash writes it: no "<", ">", "&" or "/" that could end the script element early
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("/", "\\u002f")):
        text = text.replace(char, escape)
    return tag[:start] + text + tag[end:]


# --- every response ---------------------------------------------------------------------------------


def _finish(app: dash.Dash, response: flask.Response) -> flask.Response:
    """After every request: the status of unknown pages, caching rules and security headers."""
    request = flask.request
    if response.status_code == 200 and _is_unknown_page(app, request):
        response.status_code = 404
    headers = response.headers
    headers["Cache-Control"] = _cache_control(request, response)
    headers["Content-Security-Policy"] = _CSP.format(hashes=" ".join(app.csp_hashes()))
    headers["X-Frame-Options"] = "SAMEORIGIN"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    return response


def _cache_control(request: flask.Request, response: flask.Response) -> str:
    """``Cache-Control`` for ``response``: a year for versioned bundles, revalidation for other static files, else no-store."""
    if response.status_code not in (200, 304):
        return "no-store"
    if _is_fingerprinted_bundle(request):
        return f"public, max-age={ONE_YEAR}, immutable"
    endpoint = request.endpoint or ""
    if endpoint.endswith(".static"):  # /assets/: with ?m=<mtime> a changed file is a new URL
        return f"public, max-age={ONE_YEAR}, immutable" if request.args.get("m") else "no-cache"
    if request.path.startswith(_SUITES_PREFIX) or endpoint.endswith("_favicon.ico"):
        return "no-cache"  # kept, but asked again (ETag): unversioned bundle files, the favicon
    return "no-store"


# --- health -----------------------------------------------------------------------------------------


def _health_routes(app: dash.Dash) -> None:
    """``/healthz`` and ``/readyz`` (GET and HEAD), answered before any page or sign-in."""
    server = app.server
    server.add_url_rule("/healthz", "gridpulse_healthz", lambda: flask.jsonify(status="ok"))
    server.add_url_rule("/readyz", "gridpulse_readyz", _readiness(app))


def _readiness(app: dash.Dash) -> Callable[[], flask.Response]:
    """The ``/readyz`` view of ``app``: 200 when a snapshot is open and not stale, else 503 with the reason."""

    def readyz() -> flask.Response:
        runtime = web_runtime.of(app)
        try:
            with runtime.snapshot() as (con, info):
                fresh = freshness(con, info, runtime.now(), runtime.settings, runtime.historical())
        except NoSnapshotError:
            status = read_store_status(runtime.settings.warehouse_dir) if runtime.settings.object_store_url else None
            if status is not None and not status.ok:  # a new pull host that has never reached its store
                return _unready(f"no snapshot yet: the object store has not answered ({status.error})")
            return _unready("no snapshot yet: nothing has been published (run the ETL or `app.py demo`)")
        except (duckdb.Error, OSError) as exc:
            log.warning("readiness: the current snapshot cannot be read: %s", exc)
            return _unready("the current snapshot cannot be read")
        body = {"snapshot": info.name, "age_s": max(0, round(fresh.age_s)), "historical": fresh.historical_as_of is not None}
        store = _store_problem(fresh)
        if store is not None:  # still ready while the last snapshot is fresh enough; said either way
            body["store"] = store
        if fresh.stale:
            if fresh.last_run_status == "failed":
                reason = "snapshot stale: the last ETL run failed"
            else:
                limit = runtime.settings.stale_after_cycles * runtime.settings.etl_interval_seconds
                reason = f"snapshot stale: published {round(fresh.age_s)} s ago, more than {limit} s"
            return _unready(reason + (f"; {store}" if store else ""), **body)
        return flask.jsonify(status="ready", **body)

    return readyz


def _store_problem(fresh) -> str | None:
    """What ``/readyz`` says about the object store this host pulls from or publishes to (issue 14), if anything."""
    if fresh.store_unreachable_since is not None:
        return f"object store unreachable since {fresh.store_unreachable_since.isoformat(timespec='seconds')}"
    if fresh.store_error:
        return f"object store: {fresh.store_error}"
    return None


def _unready(reason: str, **extra: object) -> flask.Response:
    response = flask.jsonify(status="unavailable", reason=reason, **extra)
    response.status_code = 503
    return response
