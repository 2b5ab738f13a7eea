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
seconds. It holds a bounded set of "plans" (one per
distinct wall configuration), never a growing list.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from dashboard import data_access, ids
from dashboard.wall import data
from data.snapshot import read_current
from settings import Settings

__all__ = ["note", "start", "enabled", "set_enabled", "warm", "POLL_S", "IDLE_S", "MAX_PLANS"]

log = logging.getLogger(__name__)

POLL_S = 1.0
IDLE_S = 600.0
MAX_PLANS = 16

_lock = threading.Lock()
_enabled = True
_plans: dict[tuple, tuple[Settings, object, tuple[str, ...], float]] = {}
_threads: dict[str, threading.Thread] = {}
_kicks: dict[str, threading.Event] = {}  # set when a wall configuration is seen for the first time


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


def note(settings: Settings, opts, text_panels: Sequence[str], graph_panels: Sequence[str]) -> None:
    """Remember that a wall with these options refreshed, and make sure the watcher runs."""
    if not _enabled:
        return
    panels = tuple(sorted({*text_panels, *graph_panels}))
    home = str(settings.warehouse_dir)
    key = (home, opts.scope, opts.level, panels)
    with _lock:
        if key not in _plans:
            _kicks.setdefault(home, threading.Event()).set()
        _plans[key] = (settings, _Plan(opts.scope, opts.level), panels, time.monotonic())
        if len(_plans) > MAX_PLANS:  # forget the least recently seen configuration
            del _plans[min(_plans, key=lambda k: _plans[k][3])]
        thread = _threads.get(home)
        if thread is None or not thread.is_alive():
            thread = threading.Thread(target=_watch, args=(settings,), name=f"wall-warmup:{home}", daemon=True)
            _threads[home] = thread
            thread.start()


def start(settings: Settings) -> None:
    """Compute the default wall's numbers at server start, before the first wall asks for them.

    Walls reconnect as soon as a restarted server answers; at 10 million cases a truly cold
    server needs over a second for the first wall's numbers (baselines, surge history, duration
    quantiles, polygons), which the walls would otherwise wait for.
    """
    from dashboard.wall.layout import panels_of
    from dashboard.wall.options import WallOptions

    opts = WallOptions.from_query({}, settings)
    note(settings, opts, *panels_of(opts.layout))


def warm(settings: Settings, plan, panels: Sequence[str]) -> str:
    """Run the loaders a wall with ``plan`` and ``panels`` will ask for, on the current snapshot.

    Returns:
        The name of the snapshot computed (the reader may still be on the previous one for up to
        a second after ``CURRENT`` changed; the watcher then tries again).
    """
    now = data_access.now(settings)
    with data_access.snapshot(settings) as (con, info):
        src = data.source(con, info, plan.scope, now, settings)
        loaders = {
            ids.PANEL_SCOPE: data.scope_name, ids.PANEL_VITALS: data.vitals, ids.PANEL_SLA: data.risk,
            ids.PANEL_WARNINGS: data.warnings, ids.PANEL_RESOURCES: data.resource_summary,
            ids.PANEL_BACKLOG_DAYS: data.backlog_days, ids.PANEL_BACKLOG_HOURS: data.backlog_hours,
        }
        for panel in panels:
            if panel in loaders:
                loaders[panel](src)
        if ids.PANEL_MAP in panels or ids.PANEL_WORST in panels:
            data.map_numbers(src, plan.level)
        return info.name


def _watch(settings: Settings) -> None:
    try:
        _loop(settings)
    except SystemExit:  # the process (or a test server: dash.testing stops its threads so) is stopping us
        with _lock:
            if _threads.get(str(settings.warehouse_dir)) is threading.current_thread():
                del _threads[str(settings.warehouse_dir)]


def _loop(settings: Settings) -> None:
    home = str(settings.warehouse_dir)
    with _lock:
        kick = _kicks.setdefault(home, threading.Event())
    last: str | None = None
    while True:
        # a new wall configuration wakes the watcher at once: its page is loading and wants numbers
        kicked = kick.wait(timeout=POLL_S)
        kick.clear()
        with _lock:
            now = time.monotonic()
            mine = [(s, plan, panels) for (h, *_), (s, plan, panels, seen) in _plans.items()
                    if h == home and now - seen < IDLE_S]
            if not mine or not _enabled:
                if _threads.get(home) is threading.current_thread():
                    del _threads[home]
                return
        try:
            current = read_current(settings.current_file)
        except (OSError, ValueError):
            continue
        if current is None or (current.name == last and not kicked):
            continue
        done = True
        for s, plan, panels in mine:
            try:
                done = warm(s, plan, panels) == current.name and done
            except Exception:  # the refresh will compute (and report) it itself
                log.exception("wall warm-up failed for %s", plan)
        if done:
            last = current.name
