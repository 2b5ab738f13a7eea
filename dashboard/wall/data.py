"""The wall's data: one loader per panel (the "query" step), each cached per snapshot.

A panel's numbers are a function of the snapshot and of "now". Within one snapshot they change
only as time passes (a case crossing its deadline), so a loader's result is reused for the same
snapshot, scope and day for up to one ETL cycle (``etl_interval_seconds``): the numbers are
never older than the data itself. Every wall screen and every analyst asking for the same scope
shares one computation, and :mod:`dashboard.wall.warmup` computes the next snapshot's numbers in
the background as soon as the ETL publishes it, so a refresh finds them ready.

What is *not* cached: the data status (snapshot age and the stale warning must follow the
clock to the second) and everything drawn (language, screen size). The cache is bounded (an LRU
of :data:`MAX_ENTRIES` results) and single-flight: concurrent requests for the same key wait
for one computation instead of starting their own.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import pandas as pd

from dashboard import shared_cache
from dashboard.components.ticker import ticker_rows
from dashboard.components.warnings import newest_first
from dashboard.runtime import Deployment
from data.snapshot import SnapshotInfo
from layers import grid_heat, resources, shapes
from metrics.backlog import backlog_daily, backlog_hourly
from metrics.scope import Scope, Window
from metrics.vitals import VitalSigns, vital_signs
from metrics.warnings import efficiency_warnings, sla_ticker, surges
from settings import Settings

__all__ = ["Source", "source", "Cache", "CACHE", "MAX_ENTRIES", "MAX_ROWS", "SURGE_HOURS", "Risk", "scope_name",
           "vitals", "risk", "warnings", "resource_summary", "backlog_days", "backlog_hours", "map_numbers"]

MAX_ENTRIES = 64
MAX_ROWS = 30  # rows any layout shows at most (ticker, warnings); the cache keeps this many candidates
# Every case at risk is counted (the summary); "ok" cases are never shown.
SURGE_HOURS = 6


@dataclass(frozen=True)
class Source:
    """Where and when a loader reads: a cursor on a snapshot, the scope, today's window and now."""

    con: duckdb.DuckDBPyConnection
    info: SnapshotInfo
    scope: Scope
    window: Window
    now: datetime
    settings: Settings
    deployment: Deployment

    def key(self, panel: str, *extra: Hashable) -> tuple:
        """The cache key of a panel: snapshot, scope and day (a new day is a new "today")."""
        return (self.info.name, panel, self.scope, self.window.start.date(), *extra)


class Cache:
    """A small thread-safe LRU with a maximum age and single-flight computation."""

    def __init__(self, max_entries: int = MAX_ENTRIES):
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._inflight: dict[Hashable, threading.Event] = {}
        self._max = max_entries

    def get(self, key: Hashable, compute: Callable[[], Any], max_age: float, aged: bool = False) -> Any:
        """The cached value of ``key`` if younger than ``max_age`` seconds, else ``compute()`` once.

        With ``aged``, ``compute`` returns ``(age in seconds, value)``: a value computed elsewhere
        before (the shared results) is as old here as it is, not new from the moment it arrived.
        """
        while True:
            with self._lock:
                hit = self._entries.get(key)
                if hit is not None and time.monotonic() - hit[0] < max_age:
                    self._entries.move_to_end(key)
                    return hit[1]
                event = self._inflight.get(key)
                owner = event is None
                if owner:
                    event = self._inflight[key] = threading.Event()
            if not owner:
                event.wait(timeout=60)  # then look again: the owner stored it, or failed and we compute
                continue
            try:
                age, value = compute() if aged else (0.0, compute())
            except BaseException:
                with self._lock:
                    self._inflight.pop(key).set()
                raise
            with self._lock:
                self._entries[key] = (time.monotonic() - age, value)
                self._entries.move_to_end(key)
                while len(self._entries) > self._max:
                    self._entries.popitem(last=False)
                self._inflight.pop(key).set()
            return value

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def clear(self) -> None:
        """Forget everything (tests)."""
        with self._lock:
            self._entries.clear()


CACHE = Cache()


def source(con: duckdb.DuckDBPyConnection, info: SnapshotInfo, scope: Scope, now: datetime,
           settings: Settings, deployment: Deployment) -> Source:
    """The loaders' view of one refresh: snapshot, resolved scope, today and now.

    Raises:
        ValueError: ``scope`` is not resolved. The caller looks the area up first
            (:meth:`dashboard.runtime.Runtime.scope`); an unknown area never gets this far, so
            nothing is computed for it.
    """
    if scope.level is None:
        raise ValueError(f"scope {scope.area_id!r} is not resolved; look its level up first")
    return Source(con, info, scope, Window.named("today", now, settings.timezone), now, settings, deployment)


def _cached(src: Source, panel: str, compute: Callable[[], Any], *extra: Hashable) -> Any:
    """``compute()`` once per key and ETL cycle in this process, and once in all the deployment's workers.

    A result is at most one cycle old however it arrived: one another worker stored 50 s ago is kept
    here for the cycle's last 10 s, not for another whole cycle.
    """
    max_age = src.settings.etl_interval_seconds
    shared = shared_cache.results(src.settings)
    return CACHE.get(src.key(panel, *extra),
                     lambda: shared.get_aged(("wall", *src.key(panel, *extra)), compute, max_age),
                     max_age=max_age, aged=True)


def scope_name(src: Source) -> tuple[str, str] | None:
    """(name, name_en) of the scope's area; ``None`` when the warehouse does not know it."""
    def compute():
        row = shapes.geometry_of(src.con, [src.scope.area_id])
        return None if row.empty else (str(row["name"].iloc[0]), str(row["name_en"].iloc[0]))
    return _cached(src, "scope", compute)


def vitals(src: Source) -> VitalSigns:
    """``metrics.vitals.vital_signs`` for today."""
    return _cached(src, "vitals", lambda: vital_signs(src.con, src.scope, src.window, src.now, src.settings))


@dataclass(frozen=True)
class Risk:
    """What the SLA ticker needs: enough candidate rows for any layout, and the counts of all."""

    rows: pd.DataFrame
    breached: int
    soon: int


def risk(src: Source) -> Risk:
    """Cases at risk: the ticker's candidates (see :func:`dashboard.components.ticker.ticker_rows`)."""
    def compute() -> Risk:
        t = sla_ticker(src.con, src.scope, src.now, src.settings, rows=MAX_ROWS)
        return Risk(ticker_rows(pd.concat([t.latest_breaches, t.next_due]), 2 * MAX_ROWS), t.breached, t.due_soon)
    return _cached(src, "sla", compute)


def warnings(src: Source) -> list:
    """Surge and efficiency warnings, newest first (at most :data:`MAX_ROWS`)."""
    def compute() -> list:
        found = [*surges(src.con, src.scope, src.now, hours=SURGE_HOURS, settings=src.settings),
                 *efficiency_warnings(src.con, src.scope, src.now, settings=src.settings)]
        return newest_first(found, MAX_ROWS)
    return _cached(src, "warnings", compute)


def resource_summary(src: Source) -> pd.DataFrame:
    """Cameras, staff and vehicles by street (``layers.resources``)."""
    return _cached(src, "resources", lambda: resources.transform(resources.query(src.con, src.scope)))


def backlog_days(src: Source) -> pd.DataFrame:
    """``metrics.backlog.backlog_daily`` for the last 30 days."""
    return _cached(src, "backlog_days",
                   lambda: backlog_daily(src.con, src.scope, src.now, days=30, settings=src.settings))


def backlog_hours(src: Source) -> pd.DataFrame:
    """``metrics.backlog.backlog_hourly`` for today."""
    return _cached(src, "backlog_hours", lambda: backlog_hourly(src.con, src.scope, src.now, settings=src.settings))


def map_numbers(src: Source, level: str) -> pd.DataFrame:
    """Every area of ``level`` with its numbers, in the map's polygon order (``layers.grid_heat.align``)."""
    def compute() -> pd.DataFrame:
        points = shapes.points(src.con, src.scope, level)
        return grid_heat.align(grid_heat.query(src.con, src.scope, src.window, src.now, level, src.settings), points)
    return _cached(src, "map", compute, level)
