"""The web tier's runtime: settings, clock, snapshot reader and deployment identity in one object.

:func:`dashboard.app.create_app` builds one :class:`Runtime` per app and stores it on the Flask
server (``app.server.config[RUNTIME_KEY]``). Layouts and callbacks reach it through
:func:`current` (Flask's ``current_app``, so two apps in one process, as in the tests, never see
each other's settings or clock); background threads get it passed explicitly
(:mod:`dashboard.wall.warmup`). Nothing here is a module-level singleton.

What it holds:

* **settings**, the deployment's typed settings;
* **now**, from the clock given to ``create_app`` (the wall clock in production). Tests and
  benchmarks pin it, because the demo data ends at a fixed moment and "cases today" only means
  something relative to that moment. Metrics never read the wall clock themselves. Without a
  given clock, **historical data is shown as of its newest case**: when the current snapshot's
  newest case is more than a day older than the wall clock (``metrics.freshness.HISTORICAL_AFTER``),
  "now" is that case's receipt time (:meth:`Runtime.historical`, read once per snapshot), so an
  archive of 2020 shows its last day instead of an empty "today". A given clock always wins;
* **a cursor on the current snapshot**, asked for per request (:meth:`Runtime.snapshot`), so a
  page never serves numbers read at start-up and switches by itself when the ETL publishes;
* **the deployment's identity** (:class:`Deployment`): the district's id, names and map extent,
  read from the snapshot's ``areas`` table (the one area of level ``district``) and cached per
  snapshot, never from settings that would duplicate the demo's geography.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

import dash
import duckdb
import flask

from dashboard import shared_cache
from dashboard.auth import access
from data.snapshot import NoSnapshotError, SnapshotInfo, SnapshotReader
from layers import view
from metrics.areas import ancestors
from metrics.freshness import historical_as_of, newest_case
from metrics.scope import Level, Scope, UnknownAreaError, deployment_levels, district_area
from settings import Settings

__all__ = ["Clock", "Deployment", "NoDistrictError", "Runtime", "RUNTIME_KEY", "current", "of"]

Clock = Callable[[], datetime]
RUNTIME_KEY = "GRIDPULSE_RUNTIME"
# Longest the analyst pages keep answering from the previous snapshot while the new one is warmed (served()).
WARM_GRACE_S = 20.0
# Prepared cursors kept for reuse per process (one per request thread that may run at once is plenty).
IDLE_CURSORS = 8


class NoDistrictError(LookupError):
    """The snapshot's ``areas`` table has no district row (reference data not loaded yet)."""


@dataclass(frozen=True)
class Deployment:
    """Who this deployment is, as its warehouse says.

    Attributes:
        district_id: the area id of the one area of level ``district`` (the default scope).
        name: its zh-CN name.
        name_en: its English name (may be empty; :func:`dashboard.i18n.pick` falls back).
        bounds: ``(west, south, east, north)`` of its polygon, or ``None`` without geometry; the
            wall map frames it when nothing narrower is known.
        levels: the deployment's levels top-down with their names (``metrics.scope.deployment_levels``):
            2 to 5 of the slots district ... microgrid; :func:`dashboard.i18n.level_name` names them.
    """

    district_id: str
    name: str
    name_en: str
    bounds: view.Bounds | None
    levels: tuple[Level, ...] = ()

    @property
    def slots(self) -> tuple[str, ...]:
        """The slots (``areas.level`` values) of :attr:`levels`, top-down; all five when unknown."""
        return tuple(lv.level for lv in self.levels) or ("district", "street", "community", "grid", "microgrid")

    def level(self, slot: str) -> Level:
        """The :class:`~metrics.scope.Level` of ``slot`` (unnamed when the deployment does not list it)."""
        for lv in self.levels:
            if lv.level == slot:
                return lv
        return Level(slot, -1)

    @property
    def centre(self) -> tuple[float, float] | None:
        """(lon, lat) of the middle of :attr:`bounds`."""
        if self.bounds is None:
            return None
        west, south, east, north = self.bounds
        return (west + east) / 2, (south + north) / 2

    @property
    def scope(self) -> Scope:
        """The whole district as a resolved scope."""
        return Scope(self.district_id, level="district")


def read_deployment(con: duckdb.DuckDBPyConnection) -> Deployment:
    """The deployment's identity from the ``areas`` table of the snapshot behind ``con``.

    Raises:
        NoDistrictError: ``areas`` has no district.
    """
    row = district_area(con)
    if row is None:
        raise NoDistrictError("the current snapshot's areas table has no area of level 'district'")
    geometry = row.get("geojson_simple")
    bounds = view.bounds([json.loads(geometry)]) if geometry else None
    return Deployment(str(row["area_id"]), str(row["name"] or row["area_id"]), str(row["name_en"] or ""), bounds,
                      tuple(deployment_levels(con)))


def with_place_name(deployment: Deployment, settings: Settings) -> Deployment:
    """The deployment with the ``place_name`` / ``place_name_en`` settings over its top area's names (when set)."""
    names = {k: v for k, v in (("name", settings.place_name), ("name_en", settings.place_name_en)) if v}
    return replace(deployment, **names) if names else deployment


class Runtime:
    """One web app's settings, clock, snapshot reader and per-snapshot identity."""

    def __init__(self, settings: Settings, clock: Clock | None = None, reader: SnapshotReader | None = None):
        """Build the runtime; opens nothing (the reader connects on the first cursor).

        Args:
            settings: deployment settings.
            clock: where "now" comes from (returns an aware datetime); ``None`` is the wall clock.
            reader: the snapshot reader (default: a new one on ``settings``' warehouse).
        """
        self.settings = settings
        self._clock = clock
        self._reader = reader or SnapshotReader(settings.warehouse_dir, settings.timezone)
        self._lock = threading.Lock()
        # What is read once per snapshot (its deployment, the levels of the areas asked for), for the two
        # newest snapshots: the analyst pages may answer from the previous one while the wall reads the newest.
        self._per_snapshot: dict[str, dict] = {}
        self._newest: tuple[str, datetime | None] | None = None  # (snapshot name, its newest case)
        # Idle cursors on the current snapshot, ready for the metric SQL (see snapshot()).
        self._idle: tuple[str, list[duckdb.DuckDBPyConnection]] = ("", [])
        # view_now() with a given clock: its reading when a snapshot state (name, fresh_at) was first seen
        self._seen: dict[tuple[str, datetime], datetime] = {}
        # served(): the snapshot whose analyst views the warm-up finished, and the newest state seen while waiting
        self._ready: SnapshotInfo | None = None
        self._pending: tuple[tuple[str, datetime], float] | None = None

    def now(self) -> datetime:
        """The current time in the deployment's zone.

        The configured clock if any; else the wall clock or, for historical data, the snapshot's
        newest case (:meth:`historical`).

        Raises:
            ValueError: the clock returned a naive datetime (a zone-less time is ambiguous).
        """
        if self._clock is None:
            return self.historical() or datetime.now(self.settings.zone)
        moment = self._clock()
        if moment.tzinfo is None:
            raise ValueError("the clock must return a timezone-aware datetime")
        return moment.astimezone(self.settings.zone)

    def view_now(self, info: SnapshotInfo | None = None) -> datetime:
        """The "as of" time of the analyst pages: when the ETL last confirmed the data they show.

        That is snapshot ``info``'s (default: :meth:`served`) ``fresh_at``: the moment the ETL last
        found its data current, the same in every worker process and on every host, so a view asked
        by any analyst on any worker while that snapshot is served is the same view, computed once
        (:meth:`remember`, :mod:`dashboard.analyst.warmup`). The ETL confirms the data every cycle
        (a minute), so the pages' time moves a minute at a time, as before.

        When the data is stale (not confirmed for ``stale_after_cycles`` ETL cycles: the ETL is down)
        time goes on without it: the wall clock cut to the minute, so deadlines still pass. Historical
        data is shown as of its newest case. A given clock (tests, benchmarks) has no relation to the
        pointer's times: its reading when this runtime first saw the snapshot's state stands in for
        ``fresh_at``, with the same staleness rule.
        """
        if self.historical() is not None:
            return self.now()
        if info is None:
            try:
                info = self.served()
            except (NoSnapshotError, duckdb.Error):
                return self.now().replace(second=0, microsecond=0)
        now = self.now()
        if self._clock is None:
            fresh = info.fresh_at.astimezone(self.settings.zone)
        else:
            state = (info.name, info.fresh_at)
            with self._lock:
                fresh = self._seen.get(state)
                if fresh is None:
                    fresh = self._seen[state] = now
                    while len(self._seen) > 8:
                        self._seen.pop(next(iter(self._seen)))
        # the previous snapshot is served up to WARM_GRACE_S longer while the newest is warmed (served())
        limit = self.settings.stale_after_cycles * self.settings.etl_interval_seconds + WARM_GRACE_S
        if (now - fresh).total_seconds() > limit:
            return now.replace(second=0, microsecond=0)
        return fresh

    def newest(self) -> SnapshotInfo:
        """The newest published snapshot (what :meth:`snapshot` opens).

        Raises:
            data.snapshot.NoSnapshotError: nothing has been published yet.
        """
        return self._reader.current()

    def served(self) -> SnapshotInfo:
        """The snapshot the analyst pages answer from: the newest, or for a few seconds the one before.

        When the ETL publishes, :mod:`dashboard.analyst.warmup` computes the views analysts asked for
        recently on the new snapshot; until it is done (at most :data:`WARM_GRACE_S` seconds) the
        pages keep answering from the previous snapshot, whose results are ready, instead of making
        the first analyst of every minute wait for a computation. Without anything to warm, and
        when the previous snapshot's connection is gone, the newest is served at once.

        Raises:
            data.snapshot.NoSnapshotError: nothing has been published yet.
        """
        newest = self._reader.current()
        state = (newest.name, newest.fresh_at)
        with self._lock:
            ready, pending = self._ready, self._pending
            if ready is None or (ready.name, ready.fresh_at) == state:
                return newest
            if pending is None or pending[0] != state:
                self._pending = pending = (state, time.monotonic())
        if time.monotonic() - pending[1] > WARM_GRACE_S:
            return newest
        return ready

    @property
    def warm(self) -> SnapshotInfo | None:
        """The snapshot whose analyst views the warm-up finished last (``None``: nothing is warmed)."""
        with self._lock:
            return self._ready

    def warmed(self, info: SnapshotInfo | None) -> None:
        """Tell :meth:`served` that snapshot ``info``'s views are computed (``None``: nothing to wait for)."""
        with self._lock:
            self._ready = info

    @contextmanager
    def view_snapshot(self) -> Iterator[tuple[duckdb.DuckDBPyConnection, SnapshotInfo]]:
        """:meth:`snapshot`, on the snapshot :meth:`served` names (the analyst pages' cursor)."""
        served = self.served()
        with self.snapshot() as (con, info):
            if info.name == served.name:
                yield con, served
                return
        cur = self._reader.cursor_on(served.name)
        if cur is None:  # the reader has moved on twice: the newest it is
            with self.snapshot() as (con, info):
                yield con, info
            return
        try:
            yield cur, served
        finally:
            _close_quietly(cur)

    def remember(self, key: tuple, compute: Callable[[], object]) -> object:
        """``compute()``, kept for later requests under ``key`` (which must hold the snapshot and the time).

        Kept in the deployment's shared results (:mod:`dashboard.shared_cache`): every worker
        process answers the same view from one computation, and a view being computed by another
        request or the warm-up is waited for rather than computed again.
        """
        return shared_cache.results(self.settings).get(key, compute)

    def historical(self) -> datetime | None:
        """The newest case's receipt time when the current snapshot is historical, else ``None``.

        Historical: its newest case is more than a day older than the wall clock. Always ``None``
        with a clock given to ``create_app`` (tests, benchmarks: the given clock wins) and before
        the first snapshot. The newest case is read once per snapshot.
        """
        if self._clock is not None:
            return None
        newest = self._newest_case()
        as_of = historical_as_of(newest, datetime.now(self.settings.zone))
        return None if as_of is None else as_of.astimezone(self.settings.zone)

    def _newest_case(self) -> datetime | None:
        """The current snapshot's newest receipt time (``None`` without a snapshot or cases), cached per snapshot.

        Asked on every refresh (``now()`` and the status panel): the snapshot's name comes from the
        reader without a cursor, and a cursor is opened only when the snapshot changed.
        """
        try:
            name = self._reader.info().name
        except (NoSnapshotError, duckdb.Error):  # the request itself reports an unreadable snapshot
            return None
        with self._lock:
            if self._newest is not None and self._newest[0] == name:
                return self._newest[1]
        try:
            cur = self._reader.cursor()
        except (NoSnapshotError, duckdb.Error):
            return None
        try:
            name = self._reader.info().name  # the cursor may have switched to a newer snapshot
            newest = newest_case(cur)
        except duckdb.Error:
            return None
        finally:
            cur.close()
        with self._lock:
            self._newest = (name, newest)
        return newest

    @contextmanager
    def snapshot(self) -> Iterator[tuple[duckdb.DuckDBPyConnection, SnapshotInfo]]:
        """A cursor on the current snapshot and that snapshot's info, returned to a small pool on exit.

        :func:`metrics.queries.prepare` sets a cursor up for the metric SQL (the SLA rule tables,
        macros and deadline views: 25-90 ms at 10 million cases) and remembers it per cursor, so
        a request that borrows a cursor an earlier request prepared skips that work. The pool holds
        at most :data:`IDLE_CURSORS` cursors of the current snapshot; a new snapshot starts an empty
        one (the old cursors are closed), and a cursor whose request failed is closed, not reused.

        Raises:
            data.snapshot.NoSnapshotError: nothing has been published yet.
        """
        info = self._reader.current()
        cur = None
        with self._lock:
            name, idle = self._idle
            if name != info.name:
                stale, self._idle = idle, (info.name, [])
                idle = self._idle[1]
                for old in stale:
                    _close_quietly(old)
            if idle:
                cur = idle.pop()
        if cur is None:
            cur = self._reader.cursor()
            info = self._reader.info()
        try:
            yield cur, info
        except BaseException:
            _close_quietly(cur)
            raise
        with self._lock:
            name, idle = self._idle
            if name == info.name and len(idle) < IDLE_CURSORS:
                idle.append(cur)
                return
        _close_quietly(cur)

    def deployment(self, con: duckdb.DuckDBPyConnection, info: SnapshotInfo) -> Deployment:
        """The deployment's identity in snapshot ``info`` (read once per snapshot).

        Raises:
            NoDistrictError: the snapshot has no district.
        """
        with self._lock:
            found = self._memo(info.name).get("deployment")
        if found is None:
            found = with_place_name(read_deployment(con), self.settings)
            with self._lock:
                self._memo(info.name)["deployment"] = found
        return found

    def _memo(self, name: str) -> dict:
        """The per-snapshot memo of ``name`` (held under ``self._lock``); the two newest are kept."""
        memo = self._per_snapshot.get(name)
        if memo is None:
            memo = self._per_snapshot[name] = {"levels": {}}
            while len(self._per_snapshot) > 2:
                self._per_snapshot.pop(next(iter(self._per_snapshot)))
        return memo

    def scope(self, con: duckdb.DuckDBPyConnection, info: SnapshotInfo, area_id: str) -> Scope:
        """A resolved scope for ``area_id`` in snapshot ``info``, when the request's principal may see it.

        This is where every area id a request names (a URL's ``scope``, a callback's state, a
        download's folder) becomes something a query uses, so this is where the account's areas
        are enforced (:mod:`dashboard.auth.access`). An area's level and ancestors are remembered
        per snapshot.

        Raises:
            metrics.scope.UnknownAreaError: the snapshot has no such area.
            dashboard.auth.access.AreaNotAllowedError: the area is outside the principal's areas
                (a subclass of ``UnknownAreaError``).
        """
        with self._lock:
            known = self._memo(info.name)["levels"]
            found = known.get(area_id)
        if found is None:
            rows = ancestors(con, area_id)
            found = (str(rows["level"].iloc[-1]), tuple(rows["area_id"].astype(str))) if len(rows) else (None, ())
            with self._lock:
                if len(known) < 10_000:  # bounded: ids come from URLs
                    known[area_id] = found
        level, chain = found
        if level is None:
            raise UnknownAreaError(area_id)
        if not access.current().allows(chain):
            raise access.AreaNotAllowedError(area_id)
        return Scope(area_id, level=level)

    def allows(self, con: duckdb.DuckDBPyConnection, info: SnapshotInfo, area_id: str) -> bool:
        """Whether ``area_id`` is an area of snapshot ``info`` that this request's principal may see."""
        try:
            self.scope(con, info, area_id)
        except UnknownAreaError:  # AreaNotAllowedError included
            return False
        return True

    def home(self, deployment: Deployment) -> str:
        """The area a view without ``scope`` shows to this request's principal (the district, or its first area)."""
        return access.current().home(deployment.district_id)

    def close(self) -> None:
        """Close the idle cursors and the snapshot reader's connections (an orderly shutdown).

        Stop the threads that use this runtime first (``dashboard.wall.warmup.stop()``): DuckDB
        refuses to close a connection a cursor is still running a query on.
        """
        self._reader.close()


def _close_quietly(cur: duckdb.DuckDBPyConnection) -> None:
    """Close a cursor whose connection may already be gone."""
    try:
        cur.close()
    except duckdb.Error:
        pass


def of(app: dash.Dash) -> Runtime:
    """The runtime of ``app`` (built by :func:`dashboard.app.create_app`)."""
    return app.server.config[RUNTIME_KEY]


def current() -> Runtime:
    """The runtime of the app serving this request (layouts and callbacks).

    Raises:
        RuntimeError: called outside a request of an app built by ``create_app``.
    """
    try:
        return flask.current_app.config[RUNTIME_KEY]
    except KeyError:
        raise RuntimeError("this Flask app has no GridPulse runtime; build it with dashboard.app.create_app") from None
