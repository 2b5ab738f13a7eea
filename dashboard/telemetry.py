"""Metrics for operators: a Prometheus ``/metrics`` endpoint summed over every process of a deployment.

Not the domain's metrics (``metrics/``: cases, SLAs, backlog): these say how GridPulse itself runs.

* **Requests** (every web worker): ``gridpulse_http_request_duration_seconds``, a histogram by ``kind``
  (``page``, ``callback``, ``route``), ``handler`` and ``status`` class (``2xx`` ... ``5xx``). The
  handler is the page's registered path, the callback's output key as the app registered it
  (``app.callback_map``), or the Flask route's rule; anything else is ``other``, so a client cannot
  grow the label set whatever it sends.
* **Snapshot and ETL state**, read from ``CURRENT`` and ``LAST_RUN.json`` when ``/metrics`` is asked
  (never stored): ``gridpulse_snapshot_age_seconds``, ``gridpulse_etl_last_cycle_failed``,
  ``gridpulse_etl_last_cycle_finished_timestamp_seconds``.
* **ETL cycles** (the scheduler's process, through the ``on_cycle`` hook :func:`record_cycle` that
  ``app.py`` hands to ``data.schedule``): cycles by kind and outcome, their duration, rows loaded by
  table, rows quarantined by table and reason, files by table and status.
* **Briefing runs** by trigger and outcome (:func:`record_briefing`, in the process that wrote it).
* **Sign-in failures** by reason (:func:`record_signin_failure`, from the sign-in gate).

Processes: ``app.py serve`` runs gunicorn's workers and the scheduler as separate processes, so
prometheus_client runs in its *multiprocess mode*: each process writes its counters and histograms
to memory-mapped files in a folder of the deployment's own in ``/dev/shm`` (:func:`multiprocess_dir`;
``<var_dir>/prometheus/`` where there is no ``/dev/shm``) (:func:`use_multiprocess_dir`, which must run
before prometheus_client is first imported: the library picks its mode at import), and whichever
worker answers ``/metrics`` adds up every file. The Flask development server (``--debug``), the
command line and the tests without that environment variable keep one in-process registry.

Who may read ``/metrics``: clients from the ``metrics_allow`` networks (this machine by default), or
any client presenting the ``metrics_token`` setting as ``Authorization: Bearer <token>``; everyone
else gets 403 (401 for a wrong token). See ``docs/serving.md``, "Metrics for operators".

Recording never fails a request or a job: an error is logged once per process and the number is
lost. The files are memory-mapped and grown sparse (``ftruncate``): on a full file system, touching a
new page kills the process with SIGBUS, which no ``except`` catches. That is why they live in RAM
(``/dev/shm``), away from ``var/``'s disk, which the warehouse and the landing files can fill.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import dash
import flask
from dash._pages import _path_to_page

from data.contract import read_current, read_last_run
from settings import Settings

__all__ = ["ENV_VAR", "OTHER", "install", "use_multiprocess_dir", "single_process", "multiprocess_dir",
           "remove_multiprocess_dir", "process_ended", "record_cycle", "record_briefing", "record_signin_failure", "route_label",
           "exposition", "reset"]

log = logging.getLogger(__name__)

ENV_VAR = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's switch to multiprocess mode, read at its import
OTHER = "other"  # the label of anything not in a known, bounded set
_T0 = "gridpulse.request_started"  # WSGI environ key: perf_counter() when the request reached the app
# Request latency buckets (seconds): the wall's steady refresh takes ~50 ms alone, the target is p95 < 0.5 s
# for every callback, and the first full wall refresh of 20 screens took 2.8 s (issue 14).
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# ETL cycle buckets (seconds): an idle minute cycle takes ~0.05 s, a loaded one with a publish 1-3 s at
# 300k cases and ~10 s at 10M (docs/performance.md); the nightly reference cycle longer.
CYCLE_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)
_CODE = re.compile(r"[a-z][a-z0-9_-]{0,39}")  # what a table, reason, trigger or outcome code looks like


# --- processes --------------------------------------------------------------------------------------


OWNER = "owner"  # in the folder: the pid of the `serve` run that emptied it last (the one that may remove it)
SHM = Path("/dev/shm")  # RAM-backed on Linux: the metric files never share var/'s disk


def multiprocess_dir(settings: Settings) -> Path:
    """Where the processes of a deployment write their metric files.

    ``/dev/shm/gridpulse-metrics-<12 hex digits of the var/ folder's resolved path>``: in RAM, one folder
    per deployment on the machine, the same for every process of one deployment. A full ``var/`` must
    not kill the web workers (SIGBUS on the memory-mapped files, see the module's doc). Without a
    writable ``/dev/shm`` (not Linux), ``<var_dir>/prometheus/``.
    """
    if SHM.is_dir() and os.access(SHM, os.W_OK | os.X_OK):
        digest = hashlib.sha256(str(settings.var_dir.resolve()).encode()).hexdigest()[:12]
        return SHM / f"gridpulse-metrics-{digest}"
    return settings.var_dir / "prometheus"


def use_multiprocess_dir(settings: Settings, *, wipe: bool) -> Path:
    """Put this process (and the processes it starts) in multiprocess mode on :func:`multiprocess_dir`.

    Call it before anything imports prometheus_client: the library reads ``PROMETHEUS_MULTIPROC_DIR``
    at import to choose how values are stored. ``app.py serve`` calls it with ``wipe=True`` before it
    starts gunicorn and the scheduler (prometheus_client's documentation: the folder must be emptied
    between runs, or the counters of the last run add to this one's); ``app.py scheduler`` alone
    calls it without wiping, so a scheduler (re)started beside a running server adds to its files.

    Raises:
        RuntimeError: prometheus_client was imported before in this process, in the other mode.
        OSError: the folder cannot be made.
    """
    path = multiprocess_dir(settings)
    if "prometheus_client" in sys.modules and os.environ.get(ENV_VAR) != str(path):
        raise RuntimeError(f"{ENV_VAR} must be set before prometheus_client is imported")
    path.mkdir(mode=0o700, parents=True, exist_ok=True)  # other users of the machine have no business here
    if wipe:
        _wipe(path)
        (path / OWNER).write_text(f"{os.getpid()}\n", encoding="ascii")  # this run's now (see remove_...)
    os.environ[ENV_VAR] = str(path)
    return path


def remove_multiprocess_dir(path: Path) -> None:
    """Remove a run's folder in ``/dev/shm`` once every process of the run has ended (``serve``'s exit).

    Only a folder under ``/dev/shm`` and only prometheus_client's ``*.db`` files: a ``var/prometheus/``
    fallback stays (it costs no RAM), as does anything else someone put there.

    A run that a newer one took over leaves the folder alone: when a server is started again before the
    old one has finished stopping (an overlapping restart), the new run empties the folder and names
    itself its owner, and the old run's exit must not delete the new run's files (its /metrics then
    failed with "metric files cannot be read" until the next restart).
    """
    if path.parent != SHM:
        return
    try:
        owner = (path / OWNER).read_text(encoding="ascii").strip()
    except OSError:
        owner = None
    if owner is not None and owner != str(os.getpid()):
        return
    _wipe(path)
    (path / OWNER).unlink(missing_ok=True)
    try:
        path.rmdir()
    except OSError:  # not empty, or gone already
        pass


def _wipe(path: Path) -> None:
    """Delete prometheus_client's files (``*.db``) in ``path``: nothing else there is touched."""
    for old in path.glob("*.db"):
        old.unlink(missing_ok=True)


def single_process() -> None:
    """One process serves and schedules (``serve --debug``): an in-process registry, no files."""
    if "prometheus_client" not in sys.modules:
        os.environ.pop(ENV_VAR, None)


def process_ended(pid: int) -> None:
    """Bookkeeping for a process that stopped (gunicorn's ``child_exit``, the scheduler's end).

    prometheus_client's :func:`~prometheus_client.multiprocess.mark_process_dead` removes the dead
    process's live-gauge files; its counters and histograms stay in the sum, as a counter must.
    """
    if os.environ.get(ENV_VAR):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


# --- the instruments --------------------------------------------------------------------------------


class _Instruments:
    """Every metric object of the process, built on first use (after the mode is decided)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram, values

        # The mode prometheus_client itself is in (chosen at its import from PROMETHEUS_MULTIPROC_DIR).
        self.multiprocess = bool(getattr(values.ValueClass, "_multiprocess", False))
        # Multiprocess mode exports what the files hold: the objects are registered nowhere.
        self.registry = None if self.multiprocess else CollectorRegistry()
        r = self.registry
        self.requests = Histogram(
            "gridpulse_http_request_duration_seconds",
            "Time from a request reaching the app to its response, by page, callback or route, and status class.",
            ["kind", "handler", "status"], buckets=REQUEST_BUCKETS, registry=r)
        self.request_series: dict[tuple[str, str, str], Any] = {}  # labels -> child: labels() costs ~5 µs a call
        self.cycles = Counter("gridpulse_etl_cycles", "ETL cycles by kind and outcome (published, unchanged, "
                              "failed, not_run: the warehouse could not be opened).", ["kind", "outcome"], registry=r)
        self.cycle_seconds = Histogram("gridpulse_etl_cycle_duration_seconds", "Duration of ETL cycles that ran.",
                                       ["kind"], buckets=CYCLE_BUCKETS, registry=r)
        self.rows_loaded = Counter("gridpulse_etl_rows_loaded", "Rows merged into their table by committed cycles.",
                                   ["table"], registry=r)
        self.rows_quarantined = Counter("gridpulse_etl_rows_quarantined",
                                        "Rows set aside in quarantine by committed cycles, by reason code.",
                                        ["table", "reason"], registry=r)
        self.files = Counter("gridpulse_etl_files", "Landing files handled by committed cycles (loaded, rejected).",
                             ["table", "status"], registry=r)
        self.briefings = Counter("gridpulse_briefing_runs", "Weekly briefing runs by trigger and outcome.",
                                 ["trigger", "outcome"], registry=r)
        self.signin_failures = Counter("gridpulse_signin_failures", "Refused sign-ins by reason.", ["reason"],
                                       registry=r)


_lock = threading.Lock()
_current: _Instruments | None = None
_failed_once = False


def _instruments() -> _Instruments:
    global _current
    found = _current
    if found is None:
        with _lock:
            if _current is None:
                _current = _Instruments()
            found = _current
    return found


def reset() -> None:
    """Forget the instruments: the next use builds them again in the mode prometheus_client is in now (tests)."""
    global _current, _failed_once
    with _lock:
        _current = None
        _failed_once = False


def _never_fails(func: Callable) -> Callable:
    """Run a recording function so that its failure is logged (once per process) and never raised."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> None:
        global _failed_once
        try:
            func(*args, **kwargs)
        except Exception:
            if not _failed_once:
                _failed_once = True
                log.exception("could not record a metric (logged once per process; numbers are being lost)")

    return run


def _code(value: object) -> str:
    """``value`` when it looks like one of our codes (a table, reason, trigger), else :data:`OTHER`."""
    return value if isinstance(value, str) and _CODE.fullmatch(value) else OTHER


# --- recording --------------------------------------------------------------------------------------


@_never_fails
def record_cycle(kind: str, result: Any) -> None:
    """The scheduler's ``on_cycle`` hook: one ETL cycle, or ``result=None`` when it could not run.

    Rows and files count only for committed cycles (``status == "ok"``): a failed cycle rolls back.

    Args:
        kind: ``events`` or ``reference``.
        result: the cycle's :class:`data.runs.CycleResult`, or ``None``.
    """
    m = _instruments()
    kind = _code(kind)
    if result is None:
        m.cycles.labels(kind, "not_run").inc()
        return
    ok = result.status == "ok"
    m.cycles.labels(kind, ("published" if result.snapshot else "unchanged") if ok else "failed").inc()
    m.cycle_seconds.labels(kind).observe(max(0.0, float(result.duration_s)))
    if not ok:
        return
    for f in result.files:
        table = _code(f.table)
        m.files.labels(table, _code(f.status)).inc()
        if f.rows_loaded:
            m.rows_loaded.labels(table).inc(f.rows_loaded)
        for reason, count in f.reasons.items():
            if count:
                m.rows_quarantined.labels(table, _code(reason)).inc(count)


@_never_fails
def record_briefing(trigger: str, outcome: str) -> None:
    """One briefing run ended (``ok`` or ``failed``), started by ``cli``, ``page``, ``schedule`` or ``catch-up``."""
    _instruments().briefings.labels(_code(trigger), _code(outcome)).inc()


@_never_fails
def record_signin_failure(reason: str) -> None:
    """A refused sign-in: ``wrong_password``, ``locked``, ``bad_form`` or ``token_refused``."""
    _instruments().signin_failures.labels(_code(reason)).inc()


# --- requests ---------------------------------------------------------------------------------------


def route_label(app: dash.Dash, request: flask.Request) -> tuple[str, str]:
    """``(kind, handler)`` of a request, from sets the app defines (never from what the client sent).

    * ``callback``: Dash's ``/_dash-update-component`` with the body's ``output`` key when it is one of
      ``app.callback_map``'s keys, else ``other``;
    * ``page``: Dash's index and catch-all routes, labelled by the registered page they lay out (its
      ``path_template`` or ``path``), else ``other`` (an unknown path, a 404);
    * ``route``: any other Flask route, by its rule (``/assets/<path:filename>``); no route: ``other``.
    """
    rule = request.url_rule
    if rule is None:
        return "route", OTHER
    prefix = app.config.routes_pathname_prefix
    endpoint = request.endpoint
    if endpoint == prefix + "_dash-update-component":
        body = request.get_json(silent=True)  # Dash (or the gate) parsed it already: Flask keeps it
        output = body.get("output") if isinstance(body, dict) else None
        return "callback", output if isinstance(output, str) and output in app.callback_map else OTHER
    if endpoint in (prefix, prefix + "<path:path>"):
        page, _variables = _path_to_page(app.strip_relative_path(request.path))
        return "page", (page.get("path_template") or page.get("path") or OTHER) if page else OTHER
    return "route", rule.rule


_STATUS = {1: "1xx", 2: "2xx", 3: "3xx", 4: "4xx", 5: "5xx"}


def _start_clock() -> None:
    flask.request.environ[_T0] = time.perf_counter()


def _observer(app: dash.Dash) -> Callable[[flask.Response], flask.Response]:
    @_never_fails
    def observe(response: flask.Response) -> None:
        request = flask.request._get_current_object()  # one look-up, not one per attribute through the proxy
        started = request.environ.get(_T0)
        if started is None:
            return
        kind, handler = route_label(app, request)
        key = (kind, handler, _STATUS.get(response.status_code // 100, OTHER))
        m = _instruments()
        child = m.request_series.get(key)
        if child is None:  # bounded: the labels come from the app's own pages, callbacks and routes
            child = m.request_series[key] = m.requests.labels(*key)
        child.observe(time.perf_counter() - started)

    def after(response: flask.Response) -> flask.Response:
        observe(response)
        return response

    return after


def install(app: dash.Dash, settings: Settings) -> None:
    """Time every request of ``app`` and serve ``/metrics`` (call it last in ``create_app``, after ``harden``).

    The clock starts in the first ``before_request`` function (before the host check and the gate)
    and stops in the last ``after_request`` one (after compression and the security headers), so a
    request refused by the gate is timed and counted too. A streamed download is timed to its first byte.
    """
    server = app.server
    networks = allowed_networks(settings.metrics_allow)
    server.add_url_rule("/metrics", "gridpulse_metrics", lambda: _metrics(settings, networks))
    server.before_request_funcs.setdefault(None, []).insert(0, _start_clock)
    # after_request functions run last-registered first: the front of the list runs last
    server.after_request_funcs.setdefault(None, []).insert(0, _observer(app))


# --- /metrics ---------------------------------------------------------------------------------------


def allowed_networks(value: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The ``metrics_allow`` setting as networks (``settings.py`` has checked every entry)."""
    return [ipaddress.ip_network(e.strip(), strict=False) for e in value.split(",") if e.strip()]


_FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


def _address_allowed(request: flask.Request, networks: Sequence, proxy_hops: int) -> bool:
    """Whether the client's address is in ``networks``.

    With ``proxy_hops`` 0 a request that carries forwarding headers came through a proxy nobody told
    us about (nginx on this machine makes every client look like 127.0.0.1): its address proves
    nothing, so only the token opens ``/metrics`` to it.
    """
    if not proxy_hops and any(h in request.headers for h in _FORWARDING_HEADERS):
        return False
    try:
        address = ipaddress.ip_address((request.remote_addr or "").split("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 on a dual-stack socket
    return any(address.version == n.version and address in n for n in networks)


def _refusal(request: flask.Request, settings: Settings, networks: Sequence) -> flask.Response | None:
    """``None`` when the request may read ``/metrics``, else the 401 or 403 to answer."""
    header = request.headers.get("Authorization", "")
    if settings.metrics_token and header:
        scheme, _, given = header.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), settings.metrics_token.encode()):
            return None
        response = flask.Response("Unauthorized: wrong metrics token.\n", status=401, mimetype="text/plain")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if _address_allowed(request, networks, settings.proxy_hops):
        return None
    return flask.Response("Forbidden: /metrics is for the operators' monitoring (metrics_allow, metrics_token).\n",
                          status=403, mimetype="text/plain")


def _metrics(settings: Settings, networks: Sequence) -> flask.Response:
    refused = _refusal(flask.request, settings, networks)
    if refused is not None:
        return refused
    try:
        body, content_type = exposition(settings, flask.request.headers.get("Accept", ""))
    except (OSError, ValueError) as exc:  # the metric folder removed or unreadable under a running server
        log.warning("metrics: the processes' metric files cannot be read: %s", exc)
        return flask.Response("Service Unavailable: the metric files cannot be read.\n", status=503,
                              mimetype="text/plain")
    return flask.Response(body, content_type=content_type)


class _StateNow:
    """A collector that reads the snapshot pointer and the last ETL run when asked (nothing is stored)."""

    def __init__(self, settings: Settings, now: Callable[[], float] = time.time):
        self.settings, self.now = settings, now

    def collect(self) -> Iterator:
        from prometheus_client.core import GaugeMetricFamily

        age = GaugeMetricFamily("gridpulse_snapshot_age_seconds",
                                "Seconds since the current snapshot's data was last confirmed current (CURRENT: "
                                "the later of its publication and the last ETL cycle that found nothing new); "
                                "absent while nothing is published.")
        try:
            info = read_current(self.settings.current_file)
        except (OSError, ValueError) as exc:
            log.warning("metrics: CURRENT cannot be read: %s", exc)
            info = None
        if info is not None:
            age.add_metric([], max(0.0, self.now() - info.fresh_at.timestamp()))
        yield age
        failed = GaugeMetricFamily("gridpulse_etl_last_cycle_failed",
                                   "1 when the last ETL cycle failed (LAST_RUN.json), else 0; absent before the first.")
        finished = GaugeMetricFamily("gridpulse_etl_last_cycle_finished_timestamp_seconds",
                                     "When the last ETL cycle ended (Unix time): a scheduler that stopped shows here.")
        run = read_last_run(self.settings.warehouse_dir)
        if run is not None and run.status:
            failed.add_metric([], 1.0 if run.status == "failed" else 0.0)
            if run.finished_at is not None:
                finished.add_metric([], run.finished_at.timestamp())
        yield failed
        yield finished


class _Registered:
    """A registry's metrics, as a collector of another registry (the in-process mode)."""

    def __init__(self, registry: Any):
        self.registry = registry

    def collect(self) -> Iterator:
        return self.registry.collect()


def exposition(settings: Settings, accept: str = "") -> tuple[bytes, str]:
    """What ``/metrics`` answers, and its content type: every process's metrics (or this process's) and the state now.

    The format is the one the ``Accept`` header asks for, as prometheus_client negotiates it: Prometheus'
    text format 0.0.4 by default, OpenMetrics or text 1.0.0 when the scraper asks for them.
    """
    from prometheus_client import CollectorRegistry
    from prometheus_client.exposition import choose_encoder
    from prometheus_client.multiprocess import MultiProcessCollector

    m = _instruments()
    registry = CollectorRegistry()
    if m.multiprocess:
        MultiProcessCollector(registry, path=os.environ.get(ENV_VAR))
    else:
        registry.register(_Registered(m.registry))
    registry.register(_StateNow(settings))
    encode, content_type = choose_encoder(accept)
    return encode(registry), content_type
