"""Compute the wall's numbers for a new snapshot as soon as it is published, off the request path.

The ETL publishes a snapshot every minute and a wall refreshes every minute, so without help
nearly every refresh would be the first request on a new snapshot and pay for all its metrics
(about a second at 10 million cases). Instead, one background thread per warehouse watches the
``CURRENT`` pointer (once a second; a file read) and, when it changes, runs the loaders of
:mod:`dashboard.wall.data` for every wall seen in the last :data:`IDLE_S` seconds. The refresh
then finds the numbers in the cache; if it arrives during the computation it waits for it
instead of starting another (the cache is single-flight).

The thread starts when a wall page is requested, or at server start for the default wall
(:func:`start`, called by ``app.py serve``); nothing runs at import. A wall configuration
seen for the first time wakes it at once, so that page's numbers are computed while the browser
is still loading its scripts. It stops by itself when no wall has refreshed for :data:`IDLE_S`
seconds, and at once on :func:`stop` (the server's orderly shutdown).

Only walls whose scope exists in the current snapshot are noted (the caller has looked the area
up); a plan whose area disappears from a later snapshot is dropped quietly. The plans are a
bounded LRU (:data:`MAX_PLANS`, the least recently seen evicted), never a growing list, so a
crawler trying made-up scopes costs nothing in the background.

Each app's :class:`dashboard.runtime.Runtime` is passed in explicitly: the thread reads its
snapshot, clock and settings, never a process-wide default.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from dashboard import ids
from dashboard.runtime import Runtime
from dashboard.wall import data
from data.snapshot import NoSnapshotError, read_current
from metrics.scope import UnknownAreaError

__all__ = ["note", "start", "stop", "reset", "enabled", "set_enabled", "warm", "plans", "POLL_S", "IDLE_S",
           "MAX_PLANS"]

log = logging.getLogger(__name__)

POLL_S = 1.0
IDLE_S = 600.0
MAX_PLANS = 32

_lock = threading.Lock()
_enabled = True
# (runtime, scope, map level, panels) -> last seen (monotonic); oldest first
_plans: OrderedDict[tuple, float] = OrderedDict()
_threads: dict[Runtime, threading.Thread] = {}
_kicks: dict[Runtime, threading.Event] = {}  # set when a wall configuration is seen for the first time
_stopping = threading.Event()


@dataclass(frozen=True)
class _Plan:
    scope: str
    level: str


def enabled() -> bool:
    """Whether new snapshots are computed in the background (on by default)."""
    return _enabled


def set_enabled(on: bool) -> None:
    """Switch the background computation on or off (benchmarks measure both)."""
    global _enabled
    _enabled = on


def plans(runtime: Runtime | None = None) -> list[tuple[str, str, tuple[str, ...]]]:
    """The noted wall configurations (scope, map level, panels), least recently seen first."""
    with _lock:
        return [(scope, level, panels) for (rt, scope, level, panels) in _plans if runtime in (None, rt)]


def note(runtime: Runtime, opts, text_panels: Sequence[str], graph_panels: Sequence[str]) -> None:
    """Remember that a wall with these options refreshed, and make sure the watcher runs.

    The caller has checked that ``opts.scope`` exists in the current snapshot.
    """
    if not _enabled or _stopping.is_set():
        return
    panels = tuple(sorted({*text_panels, *graph_panels}))
    key = (runtime, opts.scope, opts.level, panels)
    with _lock:
        if key not in _plans:
            _kicks.setdefault(runtime, threading.Event()).set()
        _plans[key] = time.monotonic()
        _plans.move_to_end(key)
        while len(_plans) > MAX_PLANS:  # forget the least recently seen configuration
            _plans.popitem(last=False)
        thread = _threads.get(runtime)
        if thread is None or not thread.is_alive():
            home = runtime.settings.warehouse_dir
            thread = threading.Thread(target=_watch, args=(runtime,), name=f"wall-warmup:{home}", daemon=True)
            _threads[runtime] = thread
            thread.start()


def start(runtime: Runtime) -> None:
    """Compute the default wall's numbers at server start, before the first wall asks for them.

    Walls reconnect as soon as a restarted server answers; at 10 million cases a truly cold
    server needs over a second for the first wall's numbers (baselines, surge history, duration
    quantiles, polygons), which the walls would otherwise wait for. Without a snapshot (an empty
    ``var/``) there is nothing to compute and nothing starts.
    """
    from dashboard.wall.layout import panels_of
    from dashboard.wall.options import WallOptions

    _stopping.clear()
    try:
        with runtime.snapshot() as (con, info):
            deployment = runtime.deployment(con, info)
            district = deployment.scope
            opts = WallOptions.from_query({}, runtime.settings, district.area_id).fitted(con, district,
                                                                                         deployment.slots)
    except (NoSnapshotError, LookupError):
        return
    note(runtime, opts, *panels_of(opts.layout))


def stop(timeout: float = 10.0) -> None:
    """End every watcher thread (an orderly shutdown) and forget the plans.

    A computation under way finishes first (DuckDB cannot be interrupted safely); waits at most
    ``timeout`` seconds for each thread. :func:`note` and :func:`start` start them again.
    """
    _stopping.set()
    with _lock:
        threads = list(_threads.values())
        for kick in _kicks.values():
            kick.set()
    for thread in threads:
        if thread is not threading.current_thread():
            thread.join(timeout)
    with _lock:
        _plans.clear()
        _threads.clear()
        _kicks.clear()
    _stopping.clear()


def reset() -> None:
    """Stop the watchers and switch the warm-up back on (tests: no state leaks between them)."""
    stop()
    set_enabled(True)


def warm(runtime: Runtime, plan, panels: Sequence[str]) -> str:
    """Run the loaders a wall with ``plan`` and ``panels`` will ask for, on the current snapshot.

    Returns:
        The name of the snapshot computed (the reader may still be on the previous one for up to
        a second after ``CURRENT`` changed; the watcher then tries again).

    Raises:
        metrics.scope.UnknownAreaError: the plan's area is not in the current snapshot.
    """
    now = runtime.now()
    with runtime.snapshot() as (con, info):
        scope = runtime.scope(con, info, plan.scope)
        src = data.source(con, info, scope, now, runtime.settings, runtime.deployment(con, info))
        loaders = {
            ids.PANEL_SCOPE: data.scope_name, ids.PANEL_VITALS: data.vitals, ids.PANEL_SLA: data.risk,
            ids.PANEL_WARNINGS: data.warnings, ids.PANEL_RESOURCES: data.resource_summary,
            ids.PANEL_BACKLOG_DAYS: data.backlog_days, ids.PANEL_BACKLOG_HOURS: data.backlog_hours,
        }
        for panel in panels:
            if _stopping.is_set():
                break
            if panel in loaders:
                loaders[panel](src)
        if (ids.PANEL_MAP in panels or ids.PANEL_WORST in panels) and not _stopping.is_set():
            data.map_numbers(src, plan.level)
        return info.name


def _watch(runtime: Runtime) -> None:
    try:
        _loop(runtime)
    except SystemExit:  # the process (or a test server: dash.testing stops its threads so) is stopping us
        pass
    finally:
        with _lock:
            if _threads.get(runtime) is threading.current_thread():
                del _threads[runtime]


def _loop(runtime: Runtime) -> None:
    with _lock:
        kick = _kicks.setdefault(runtime, threading.Event())
    last: str | None = None
    while not _stopping.is_set():
        # a new wall configuration wakes the watcher at once: its page is loading and wants numbers
        kicked = kick.wait(timeout=POLL_S)
        kick.clear()
        if _stopping.is_set():
            return
        with _lock:
            now = time.monotonic()
            mine = [(key, _Plan(key[1], key[2]), key[3]) for key, seen in _plans.items()
                    if key[0] is runtime and now - seen < IDLE_S]
            if not mine or not _enabled:
                if _threads.get(runtime) is threading.current_thread():
                    del _threads[runtime]  # under the lock: a note() from now on starts a new watcher
                return
        try:
            current = read_current(runtime.settings.current_file)
        except (OSError, ValueError):
            continue
        if current is None or (current.name == last and not kicked):
            continue
        done = True
        for key, plan, panels in mine:
            if _stopping.is_set():
                return
            try:
                done = warm(runtime, plan, panels) == current.name and done
            except UnknownAreaError:  # the area left the warehouse (a reference reload): forget the wall
                log.info("wall warm-up: area %r is no longer in the warehouse; plan dropped", plan.scope)
                with _lock:
                    _plans.pop(key, None)
            except Exception:  # the refresh will compute (and report) it itself
                log.exception("wall warm-up failed for %s", plan)
        if done:
            last = current.name
