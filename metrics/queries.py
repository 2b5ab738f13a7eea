"""Running the metric SQL files: loading, scope markers, the SLA relations and per-snapshot facts.

Every metric is one ``.sql`` file under ``metrics/sql/`` with named parameters (``$now``,
``$start`` ...). Two kinds of text may be spliced in, both from a fixed vocabulary and never
carrying a value:

* scope markers: ``/*scope:e*/`` becomes the :class:`~metrics.scope.Scope` predicate over the
  events alias ``e`` (area and filters), ``/*area_events:e*/`` only its area part over events,
  and ``/*area:a*/`` its area part over an ``areas`` alias (whose micro-grid id is ``area_id``);
  their values are bound as ``$s_*`` parameters;
* identifiers from a whitelist (an area level's column), through ``columns=``.

:func:`prepare` gets a cursor ready for the metric SQL: it fills two tiny temporary tables with
the SLA rules and, per rule, the closure deadline of every receipt day from the working-day
calendar (``sla_default``, ``sla_override``), and defines the temporary views ``case_due`` (every
event plus ``accept_due``, ``dispatch_due`` and ``close_due``) and ``open_due`` (the same over
``mart_open_cases``), so that each deadline rule is written once (``sql/due_view.sql``, the twin
of ``case_deadlines.sql`` and :func:`metrics.sla.deadlines`).

Snapshots never change once published, and the past rarely does: :func:`memo` keeps results
about earlier weeks (baselines, historical duration quantiles) per warehouse, keyed by
everything they depend on. On a writable database (the ETL's own connection) nothing is cached.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from metrics.calendar import WorkCalendar, default_calendar
from metrics.scope import Scope
from metrics.sla import SlaRule, SlaRules

__all__ = ["SQL_DIR", "QueryContext", "clear_caches", "clear_snapshot_caches", "load_sql", "memo", "prepare", "render",
           "run"]

SQL_DIR = Path(__file__).resolve().parent / "sql"
# Identifiers a query may have spliced in through ``columns=`` (never values).
# "NULL" groups every row together (the district level, which has no column of its own).
_IDENTIFIERS = frozenset({"street_id", "community_id", "grid_id", "microgrid_id", "area_id", "category_id",
                          "category_l1", "department_id", "channel", "NULL"})
_EPOCH_DAY = date(1970, 1, 1)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


@lru_cache(maxsize=64)
def load_sql(name: str) -> str:
    """The text of ``metrics/sql/<name>.sql`` (cached: the files do not change while running)."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def render(name: str, scope: Scope | None = None, columns: dict[str, str] | None = None, slots: int = 1,
           district_id: str | None = None) -> tuple[str, dict]:
    """The SQL of ``name`` with its markers filled in.

    Args:
        name: file name under ``metrics/sql`` without ``.sql``.
        scope: the scope for ``/*scope:X*/``, ``/*area_events:X*/`` and ``/*area:X*/`` markers.
        columns: ``{"marker": "column_name"}``; each ``/*col:marker*/`` (or ``/*col:marker:alias*/``,
            qualified) becomes the column name, which must be one of a fixed set of identifiers.
        slots: how many windows ``/*or_ranges:COL:LO:HI*/`` covers: it becomes
            ``(COL >= $LO0 AND COL < $HI0) OR ...`` up to ``slots - 1``.
        district_id: the warehouse's district; a district scope on it needs no predicate at all.

    Returns:
        The SQL text and the named parameters the scope needs.
    """
    sql = load_sql(name)
    params: dict[str, Any] = {}
    if scope is not None:
        area_only = Scope(area_id=scope.area_id, level=scope.level)
        whole = district_id is not None and scope.area_id == district_id and scope.area_level == "district"
        for alias in _markers(sql, "scope"):
            pred, p = scope.predicate(alias, whole_district=whole)
            sql = sql.replace(f"/*scope:{alias}*/", f"({pred})")
            params.update(p)
        for alias in _markers(sql, "area_events"):
            pred, p = area_only.predicate(alias, whole_district=whole)
            sql = sql.replace(f"/*area_events:{alias}*/", f"({pred})")
            params.update(p)
        for alias in _markers(sql, "area"):
            pred, p = scope.area_predicate(alias, microgrid_column="area_id", whole_district=whole)
            sql = sql.replace(f"/*area:{alias}*/", f"({pred})")
            params.update(p)
    for marker, column in (columns or {}).items():
        if column not in _IDENTIFIERS:
            raise ValueError(f"{column!r} is not a column a metric query may group by")
        for spec in _markers(sql, "col"):
            name_, _, alias = spec.partition(":")
            if name_ == marker:
                qualified = column if column == "NULL" or not alias else f"{alias}.{column}"
                sql = sql.replace(f"/*col:{spec}*/", qualified)
    for spec in _markers(sql, "or_ranges"):
        column, lo, hi = spec.split(":")
        if not (_NAME.fullmatch(column) and _NAME.fullmatch(lo) and _NAME.fullmatch(hi)):
            raise ValueError(f"bad or_ranges marker {spec!r} in {name}.sql")
        ors = " OR ".join(f"({column} >= ${lo}{k} AND {column} < ${hi}{k})" for k in range(slots))
        sql = sql.replace(f"/*or_ranges:{spec}*/", f"({ors})")
    if "/*scope:" in sql or "/*area" in sql or "/*col:" in sql or "/*or_ranges:" in sql:
        raise ValueError(f"{name}.sql has a marker that was not filled in")
    return sql, params


def _markers(sql: str, kind: str) -> list[str]:
    """Aliases used with ``/*kind:alias*/`` markers in ``sql``."""
    out = []
    token = f"/*{kind}:"
    start = sql.find(token)
    while start >= 0:
        end = sql.index("*/", start)
        out.append(sql[start + len(token):end])
        start = sql.find(token, end)
    return sorted(set(out))


def run(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None,
        scope: Scope | None = None, columns: dict[str, str] | None = None, slots: int = 1,
        district_id: str | None = None) -> pd.DataFrame:
    """Run one metric SQL file with bound parameters and return its rows as a DataFrame."""
    sql, scope_params = render(name, scope, columns, slots, district_id)
    bound = {**scope_params, **(params or {})}
    used = {k: v for k, v in bound.items() if f"${k}" in sql}
    return con.execute(sql, used).df()


# --------------------------------------------------------------------------------------------
# Per-snapshot facts
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _SnapshotFacts:
    """What the metrics need to know about a snapshot before querying it."""

    first_day: date | None  # local day of the earliest received_at
    last_day: date | None  # local day of the latest received_at
    district_id: str | None  # the one district of the warehouse
    ref_key: int | None = None  # fingerprint of the reference tables (areas, catalogues)


_facts_cache: dict[str, _SnapshotFacts] = {}
_tables_cache: dict[tuple, Any] = {}
_memo_cache: OrderedDict[tuple, Any] = OrderedDict()
_MEMO_SIZE = 512
_lock = threading.Lock()


def clear_caches() -> None:
    """Forget every cached fact, SLA table and memoised result (tests; a warehouse rebuilt in place)."""
    with _lock:
        _facts_cache.clear()
        _tables_cache.clear()
        _memo_cache.clear()


def clear_snapshot_caches() -> None:
    """Forget what is remembered per snapshot (as when a new snapshot is published), keep the rest."""
    with _lock:
        for key in [k for k in _memo_cache if k and isinstance(k[0], str) and k[0].endswith(".duckdb")]:
            del _memo_cache[key]
        _facts_cache.clear()


def _snapshot_path(con: duckdb.DuckDBPyConnection) -> str | None:
    """The snapshot file behind ``con`` when it is read-only (so results may be cached), else ``None``."""
    rows = con.execute(
        "SELECT path, readonly FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    row = rows[0] if rows else None
    if row is None or not row[1] or not row[0]:
        return None
    return str(row[0])


_cursor_paths: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cursor_snapshot(con: duckdb.DuckDBPyConnection) -> str | None:
    """:func:`_snapshot_path`, asked once per cursor (a cursor never changes database)."""
    try:
        if con in _cursor_paths:
            return _cursor_paths[con]
    except TypeError:
        return _snapshot_path(con)
    path = _snapshot_path(con)
    _cursor_paths[con] = path
    return path


def _facts(con: duckdb.DuckDBPyConnection, key: str | None) -> _SnapshotFacts:
    """The snapshot's day range (cached per snapshot file: a published snapshot never changes)."""
    with _lock:
        cached = _facts_cache.get(key) if key else None
    if cached is not None:
        return cached
    bounds = run(con, "snapshot_bounds").iloc[0]
    first, last = (None if pd.isna(d) else pd.Timestamp(d).date() for d in (bounds["first_day"], bounds["last_day"]))
    district = None if pd.isna(bounds["district_id"]) else str(bounds["district_id"])
    ref_key = None
    if key:  # only worth knowing where results are remembered
        ref = con.execute(load_sql("ref_key")).fetchall()[0][0]
        ref_key = None if ref is None else int(ref)
    facts = _SnapshotFacts(first, last, district, ref_key)
    if key:
        with _lock:
            if len(_facts_cache) > 64:
                _facts_cache.clear()
            _facts_cache[key] = facts
    return facts


def memo(ctx: QueryContext, key: tuple, compute: Callable[[], Any], per_snapshot: bool = False) -> Any:
    """``compute()``, remembered per warehouse under ``key`` (read-only snapshots only).

    For results about the past that later snapshots do not change (baselines over earlier weeks,
    historical duration quantiles): the key must hold everything the result depends on except
    the warehouse, which is added here. With ``per_snapshot`` the result is remembered for the
    current snapshot file only (reference tables; what several metrics of one refresh share, such
    as the cases open at ``now``). On a writable connection nothing is remembered.
    """
    owner = ctx.snapshot if per_snapshot else ctx.warehouse
    if owner is None:
        return compute()
    full = (owner, *key)
    with _lock:
        if full in _memo_cache:
            _memo_cache.move_to_end(full)
            return _memo_cache[full]
    value = compute()
    with _lock:
        _memo_cache[full] = value
        while len(_memo_cache) > _MEMO_SIZE:
            _memo_cache.popitem(last=False)
    return value


@dataclass(frozen=True)
class _SlaTables:
    """The SLA rule tables of ``due_view.sql``, and spans derived from the rules and calendar."""

    default: pa.Table  # sla_default: the default rule, one row
    overrides: pa.Table  # sla_override: one row per category with its own rule
    off_us: int | None  # the zone's fixed UTC offset in microseconds, None with daylight saving
    first: date  # receipt days covered by the deadline lists
    last: date
    sla_key: tuple  # what the deadlines depend on (rules, calendar, zone): part of memo keys
    due_lookback_s: float  # longest receipt-to-deadline span of any rule
    min_due_s: float  # shortest receipt-to-closure-deadline span: no case is overdue sooner
    ad_lead_s: float  # longest acceptance or dispatch limit
    urgent_min_us: int  # shortest and longest urgent closure limit, microseconds
    urgent_max_us: int
    # per close_working_days: receipt-day starts and close deadlines, UTC microseconds, ascending
    receipt_us: dict[int, np.ndarray]
    due_us: dict[int, np.ndarray]


@dataclass(frozen=True)
class QueryContext:
    """A cursor made ready for the metric SQL, and what the metrics need to know about the snapshot.

    Attributes:
        con: the cursor (with the temp tables, macros and views of ``sql/session_setup.sql``).
        now: the "as of" time, in the deployment zone.
        tz: the deployment zone.
        rules: the SLA rules in force.
        calendar: the working-day calendar.
        due_lookback: the longest time from receipt to any deadline: a stage due at t belongs to
            a case received after ``t - due_lookback``.
        facts: per-snapshot facts (day range).
        tables: the ``$sla`` parameter and the spans derived from it.
        warehouse: the folder of the snapshot files when ``con`` is a read-only snapshot (the
            key of :func:`memo`), else ``None``.
    """

    con: duckdb.DuckDBPyConnection
    now: datetime
    tz: str
    rules: SlaRules
    calendar: WorkCalendar
    due_lookback: timedelta
    facts: _SnapshotFacts
    tables: _SlaTables
    warehouse: str | None = None
    snapshot: str | None = None

    @property
    def off_us(self) -> int | None:
        """The zone's fixed UTC offset in microseconds (``None`` with daylight saving), for ``local_dayno``."""
        return self.tables.off_us

    @property
    def ad_lead(self) -> timedelta:
        """The longest acceptance or dispatch limit: those deadlines fall this long after receipt at most."""
        return timedelta(seconds=self.tables.ad_lead_s)

    @property
    def min_due(self) -> timedelta:
        """The shortest time from receipt to a closure deadline: no case is overdue sooner."""
        return timedelta(seconds=self.tables.min_due_s)

    def run(self, name: str, params: dict[str, Any] | None = None, scope: Scope | None = None,
            columns: dict[str, str] | None = None, slots: int = 1) -> pd.DataFrame:
        """:func:`run` on this cursor, binding ``$now`` when the query uses it."""
        return run(self.con, name, {"now": self.now, **(params or {})}, scope,
                   columns, slots, self.facts.district_id)

    def open_now(self, scope: Scope) -> pd.DataFrame:
        """Cases open (and overdue) at :attr:`now` per micro-grid (``open_now.sql``).

        Shared by the vital signs, the grid aggregates and the backlog of one refresh.
        """
        return memo(self, ("open_now", self.now, scope), lambda: self.run("open_now", {}, scope), per_snapshot=True)

    def reference(self, name: str, params: dict[str, Any] | None = None, scope: Scope | None = None
                  ) -> pd.DataFrame:
        """:meth:`run` for reference data (areas, catalogues), remembered while those tables do not change.

        Results are kept per warehouse under the tables' fingerprint (``ref_key.sql``), so a new
        snapshot with the same areas and catalogues reads none of them again.
        """
        frozen = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in (params or {}).items()))
        if self.facts.ref_key is not None:
            key = ("reference", self.facts.ref_key, self.facts.district_id, name, frozen, scope)
            return memo(self, key, lambda: self.run(name, params, scope))
        key = ("reference", name, frozen, scope)
        return memo(self, key, lambda: self.run(name, params, scope), per_snapshot=True)

    def close_receipt_ranges(self, ws: datetime, we: datetime) -> tuple[tuple[datetime, datetime],
                                                                         tuple[datetime, datetime]]:
        """Receipt times of cases whose closure deadline can fall in ``[ws, we)``: (urgent, other).

        Urgent deadlines are a fixed time after receipt. Working-day deadlines are 24:00 of a due
        day that never decreases with the receipt day, so the receipt days whose deadline falls in
        the window are one contiguous run, found by binary search in the calendar. Each range is
        ``(lo, hi)``, half-open; an empty range has ``lo == hi``.
        """
        t = self.tables
        ws_us, we_us = _micros(ws), _micros(we)
        urgent = (ws_us - t.urgent_max_us, max(we_us - t.urgent_min_us, ws_us - t.urgent_max_us))
        lo, hi = None, None
        for n, due in t.due_us.items():
            starts = t.receipt_us[n]
            first = int(np.searchsorted(due, ws_us, side="left"))
            last = int(np.searchsorted(due, we_us, side="left"))  # receipt days [first, last) qualify
            if first < last:
                day_lo = int(starts[first])
                day_hi = int(starts[last]) if last < len(starts) else int(starts[-1]) + 2 * 86_400_000_000
                lo = day_lo if lo is None else min(lo, day_lo)
                hi = day_hi if hi is None else max(hi, day_hi)
        other = (lo, hi) if lo is not None else (ws_us, ws_us)
        return ((_from_micros(urgent[0], self.tz), _from_micros(urgent[1], self.tz)),
                (_from_micros(other[0], self.tz), _from_micros(other[1], self.tz)))

    def local(self, t: datetime) -> datetime:
        """``t`` in the deployment zone."""
        return t.astimezone(ZoneInfo(self.tz))


def prepare(con: duckdb.DuckDBPyConnection, now: datetime, settings: Any,
            calendar: WorkCalendar | None = None, rules: SlaRules | None = None) -> QueryContext:
    """Get ``con`` ready for the metric SQL: SLA temp tables, macros and views, and snapshot facts.

    Every metric function calls it on the cursor it is given. Temporary objects are per cursor in
    DuckDB; the second call on the same cursor (same rules) costs well under a millisecond.

    Args:
        con: a cursor on a snapshot (or any database with the warehouse tables).
        now: the "as of" time (timezone-aware).
        settings: the deployment settings (zone, SLA rules, holiday file).
        calendar: override the deployment calendar (tests).
        rules: override the SLA rules (tests).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    tz = settings.timezone
    ZoneInfo(tz)  # a bad zone fails here rather than in the middle of a query
    con.execute("SET TimeZone = ?", [tz]).fetchall()  # results must be consumed before register()
    rules = rules or SlaRules.from_settings(settings)
    calendar = calendar or default_calendar(settings)
    path = _cursor_snapshot(con)
    facts = _facts(con, path)
    local_now = now.astimezone(ZoneInfo(tz))
    first = min(facts.first_day or local_now.date(), local_now.date())
    last = max(facts.last_day or local_now.date(), local_now.date()) + timedelta(days=1)
    tables = _sla_tables(rules, calendar, first, last, tz)
    _setup(con, tables)
    return QueryContext(con, local_now, tz, rules, calendar, timedelta(seconds=tables.due_lookback_s), facts,
                        tables, str(Path(path).parent) if path else None, path)


_prepared: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# The views of due_view.sql: every case, and the cases never closed (see data/schema/04_marts.sql).
_DUE_VIEWS = (("case_due", "events"), ("open_due", "mart_open_cases"))


def _setup(con: duckdb.DuckDBPyConnection, tables: _SlaTables) -> None:
    """Fill the SLA rule tables and define the macros and views, once per cursor and rule set."""
    token = (tables.sla_key, tables.first, tables.last)
    try:
        if _prepared.get(con) == token:
            return
    except TypeError:  # a connection type without weak references: set up every time
        pass
    for table, frame in (("sla_default", tables.default), ("sla_override", tables.overrides)):
        con.register("_sla_frame", frame)
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM _sla_frame")
        finally:
            con.unregister("_sla_frame")
    con.execute(load_sql("session_setup"))
    view = _due_view_sql(has_overrides=tables.overrides.num_rows > 0)
    for name, source in _DUE_VIEWS:
        con.execute(view.replace("__view__", name).replace("__source__", source))
    con.execute(load_sql("open_stages"))
    try:
        _prepared[con] = token
    except TypeError:
        pass


def _due_view_sql(has_overrides: bool) -> str:
    """``due_view.sql`` with its rule markers filled in (see that file)."""
    sql = load_sql("due_view")
    for column in ("acc_us", "dis_us", "urg_us", "d0", "dues"):
        sql = sql.replace(f"/*rule:{column}*/", f"coalesce(r.{column}, d.{column})" if has_overrides else f"d.{column}")
    join = "LEFT JOIN sla_override AS r ON r.category_id = e.category_id" if has_overrides else ""
    return sql.replace("/*override_join*/", join)


def _fixed_offset_us(tz: str, first: date, last: date) -> int | None:
    """The zone's UTC offset in microseconds if it is the same throughout the span, else ``None``."""
    zone = ZoneInfo(tz)
    offsets = set()
    day = first - timedelta(days=1)
    end = last + timedelta(days=400)  # deadlines reach past the last receipt
    while day <= end:
        offsets.add(datetime(day.year, day.month, day.day, 12, tzinfo=zone).utcoffset())
        if len(offsets) > 1:
            return None
        day += timedelta(days=1)
    (offset,) = offsets
    return int(offset.total_seconds() * 1_000_000)


def _sla_tables(rules: SlaRules, calendar: WorkCalendar, first: date, last: date, tz: str) -> _SlaTables:
    """Build (or reuse) the SLA temp tables for receipt days ``first..last``."""
    overrides = tuple(sorted(rules.overrides.items()))
    key = (calendar, rules.default, overrides, first, last, tz)
    with _lock:
        cached = _tables_cache.get(key)
    if cached is not None:
        return cached
    default = rules.default
    all_rules = [default, *(r for _, r in overrides)]
    ns = sorted({int(r.close_working_days) for r in all_rules})
    receipt_by_n, due_by_n = {}, {}
    for n in ns:
        cal = calendar.frame(first, last, n)
        due_day = pd.DatetimeIndex(pd.to_datetime(cal["close_due_day"]))
        # 24:00 of the due day = the first instant of the next local day (the rule of metrics.sla)
        due = (due_day + pd.Timedelta(days=1)).tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
        start = pd.DatetimeIndex(pd.to_datetime(cal["day"])).tz_localize(tz, ambiguous=True,
                                                                          nonexistent="shift_forward")
        receipt_by_n[n], due_by_n[n] = _index_micros(start), _index_micros(due)

    def urg_us(r: SlaRule) -> int:
        return int(np.floor(r.urgent_close_hours * 3_600_000_000 + 0.5))

    off_us = _fixed_offset_us(tz, first, last)
    day0 = (first - _EPOCH_DAY).days

    def rule_table(pairs: list[tuple[str, SlaRule]], with_category: bool) -> pa.Table:
        columns = {"category_id": pa.array([c for c, _ in pairs], pa.string())} if with_category else {}
        columns.update({
            "acc_us": pa.array([int(r.accept_seconds) * 1_000_000 for _, r in pairs], pa.int64()),
            "dis_us": pa.array([int(r.dispatch_seconds) * 1_000_000 for _, r in pairs], pa.int64()),
            "urg_us": pa.array([urg_us(r) for _, r in pairs], pa.int64()),
            "d0": pa.array([day0] * len(pairs), pa.int64()),
            "dues": pa.array([due_by_n[int(r.close_working_days)] for _, r in pairs], pa.list_(pa.int64())),
        })
        if not with_category:
            columns["off_us"] = pa.array([off_us] * len(pairs), pa.int64())
        return pa.table(columns)

    spans = [float(((due_by_n[n] - receipt_by_n[n]) / 1e6).max()) for n in ns if len(due_by_n[n])]
    min_spans = [float(((due_by_n[n] - receipt_by_n[n]) / 1e6).min()) - 86_400 for n in ns if len(due_by_n[n])]
    urgent = [urg_us(r) for r in all_rules]
    tables = _SlaTables(
        default=rule_table([("*", default)], with_category=False),
        overrides=rule_table(list(overrides), with_category=True), off_us=off_us, first=first, last=last,
        sla_key=(calendar, rules.default, overrides, tz),
        due_lookback_s=max([*spans, max(urgent) / 1e6, *(float(r.dispatch_seconds) for r in all_rules),
                            *(float(r.accept_seconds) for r in all_rules)]),
        # a working-day deadline is 24:00 of a later day: at least (due - day start) - 1 day after receipt
        min_due_s=max(0.0, min([*min_spans, min(urgent) / 1e6])),
        ad_lead_s=float(max(max(r.dispatch_seconds for r in all_rules), max(r.accept_seconds for r in all_rules))),
        urgent_min_us=min(urgent), urgent_max_us=max(urgent),
        receipt_us=receipt_by_n, due_us=due_by_n,
    )
    with _lock:
        if len(_tables_cache) > 32:
            _tables_cache.clear()
        _tables_cache[key] = tables
    return tables


def _index_micros(index: pd.DatetimeIndex) -> np.ndarray:
    """A tz-aware DatetimeIndex as UTC microseconds."""
    return index.tz_convert("UTC").tz_localize(None).to_numpy().astype("datetime64[us]").astype(np.int64)


def _micros(t: datetime) -> int:
    """UTC microseconds since the epoch."""
    return (pd.Timestamp(t) - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(microseconds=1)


def _from_micros(us: int, tz: str) -> datetime:
    return (pd.Timestamp(us, unit="us", tz="UTC")).tz_convert(tz).to_pydatetime()
