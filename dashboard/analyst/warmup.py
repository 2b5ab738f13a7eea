"""Compute the analyst views asked for recently on each new snapshot, before the pages switch to it.

Every analyst panel is a function of the snapshot, its "as of" time and the view (page state and
resolved area), remembered in the deployment's shared results (:meth:`Runtime.remember`). The ETL
confirms or replaces the snapshot every minute, which changes that time, so without help the first
analyst to ask for a view each minute would wait for its computation (at 10 million cases up to
a second for the overview's vital signs). Instead:

* :func:`note` records each panel a request computed or found (its builder, state and area) in a
  bounded LRU of plans (:data:`MAX_PLANS`; a plan unseen for :data:`IDLE_S` seconds is dropped);
* one thread per app watches ``CURRENT`` (once a second, a file read) and, when the snapshot or
  its ``fresh_at`` changes, renders every plan on it, most recently seen first;
* meanwhile :meth:`Runtime.served` keeps the pages on the previous snapshot, whose results are
  ready, and switches when the pass is done (or after ``WARM_GRACE_S`` seconds at the latest).

With several worker processes each has its own plans and thread, but the results are shared and
computed under a lock (:mod:`dashboard.shared_cache`): the first worker computes a view, the others
find it. The thread runs as the deployment (:data:`dashboard.auth.access.SYSTEM`): a plan holds an
area that a signed-in account was allowed to see, and a request still checks its own account's
areas before it is answered from a result.

Nothing runs at import; the thread starts with the first noted plan and ends when no plan is
left, or at :func:`stop`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import flask

from dashboard import runtime as runtime_module
from dashboard.runtime import Runtime

__all__ = ["note", "stop", "reset", "plans", "MAX_PLANS", "IDLE_S", "POLL_S"]

log = logging.getLogger(__name__)

MAX_PLANS = 48
IDLE_S = 300.0
POLL_S = 1.0

_lock = threading.Lock()
_plans: OrderedDict[tuple, _Plan] = OrderedDict()  # (runtime id, panel, area, state) -> plan, oldest first
_threads: dict[int, threading.Thread] = {}
_stopping = threading.Event()


@dataclass
class _Plan:
    server: flask.Flask
    runtime: Runtime
    panel: str
    state: dict[str, str]  # the page state with the resolved area as its scope
    build: Callable[[Any], Any]
    seen: float


def note(panel: str, state: dict[str, str], build: Callable[[Any], Any]) -> None:
    """Remember that a request showed ``panel`` for ``state`` (whose scope is the resolved area).

    Called by :func:`dashboard.analyst.view.render` inside a request; does nothing outside one.
    """
    if not flask.has_request_context() or _stopping.is_set():
        return
    server = flask.current_app._get_current_object()
    rt = runtime_module.current()
    key = (id(rt), panel, tuple(sorted(state.items())))
    with _lock:
        _plans[key] = _Plan(server, rt, panel, state, build, time.monotonic())
        _plans.move_to_end(key)
        while len(_plans) > MAX_PLANS:
            _plans.popitem(last=False)
        thread = _threads.get(id(rt))
        if thread is None or not thread.is_alive():
            thread = threading.Thread(target=_watch, args=(rt,), name="analyst-warmup", daemon=True)
            _threads[id(rt)] = thread
            thread.start()


def plans(runtime: Runtime | None = None) -> list[tuple[str, dict[str, str]]]:
    """The noted plans (panel, state), least recently seen first."""
    with _lock:
        return [(p.panel, p.state) for p in _plans.values() if runtime is None or p.runtime is runtime]


def stop(timeout: float = 10.0) -> None:
    """End the watcher threads and forget the plans (a computation under way finishes first)."""
    _stopping.set()
    with _lock:
        threads = list(_threads.values())
    for thread in threads:
        if thread is not threading.current_thread():
            thread.join(timeout)
    with _lock:
        _plans.clear()
        _threads.clear()
    _stopping.clear()


def reset() -> None:
    """Stop the watchers (tests: no state leaks between them)."""
    stop()


def _mine(rt: Runtime) -> list[_Plan]:
    """This runtime's live plans, most recently seen first; stale ones are dropped."""
    now = time.monotonic()
    with _lock:
        for key in [k for k, p in _plans.items() if now - p.seen >= IDLE_S]:
            del _plans[key]
        return [p for p in reversed(_plans.values()) if p.runtime is rt]


def _watch(rt: Runtime) -> None:
    from dashboard.analyst.view import render

    last: tuple | None = None
    try:
        while not _stopping.wait(POLL_S):
            mine = _mine(rt)
            if not mine:
                rt.warmed(None)  # nothing to wait for: the pages follow the newest snapshot at once
                return
            try:
                info = rt.newest()
            except Exception:  # no snapshot yet, or an unreadable one: the requests report it
                continue
            if (info.name, info.fresh_at) == last:
                continue
            started = time.perf_counter()
            for plan in mine:
                if _stopping.is_set():
                    return
                with plan.server.app_context():
                    # render() turns every failure into a message panel (and logs it): the pass goes on
                    render(plan.state, plan.build, plan.panel, warming=True)
            last = (info.name, info.fresh_at)
            rt.warmed(info)
            log.info("analyst warm-up: %d views on %s in %.2f s", len(mine), info.name,
                     time.perf_counter() - started)
    except SystemExit:  # the process (or a test server: dash.testing stops its threads so) is stopping us
        pass
    finally:
        with _lock:
            if _threads.get(id(rt)) is threading.current_thread():
                del _threads[id(rt)]
        if _stopping.is_set() or not _mine(rt):
            rt.warmed(None)
