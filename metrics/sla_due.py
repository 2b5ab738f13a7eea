"""The deadline arithmetic of the metric SQL: SLA rule tables, the deadline views, receipt ranges.

:func:`metrics.sla.deadlines` states the rules in pandas (the oracle); the metric SQL computes the
same deadlines in DuckDB from two tiny temporary tables built here: the SLA rules and, per rule,
the closure deadline of every receipt day from the working-day calendar (``sla_default``,
``sla_override``). :func:`setup` fills them on a cursor and defines the temporary views
``case_due`` (every event plus ``accept_due``, ``dispatch_due`` and ``close_due``) and
``open_due`` (the same over ``mart_open_cases``), so each deadline rule is written once
(``sql/due_view.sql``). Tests compare both views with :func:`metrics.sla.deadlines`.

:func:`close_receipt_ranges` answers the inverse question a window query needs: which receipt
times can have a closure deadline inside ``[ws, we)`` under the rules. A case with its own
deadline (``events.due_at``, which ``close_due`` takes instead of the rule's) can be due at any
time: the queries that use the ranges leave such cases out of them and find them by ``due_at``
itself (``grid_on_time.sql``, ``on_time_by_unit.sql``, ``vitals_windows.sql``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from metrics.cache import per_cursor, remember
from metrics.calendar import WorkCalendar
from metrics.sla import SlaRule, SlaRules
from metrics.sqlfiles import apply_flags, load_sql

__all__ = ["DUE_VIEWS", "SlaTables", "close_receipt_ranges", "from_micros", "micros", "setup", "sla_tables"]

_EPOCH_DAY = date(1970, 1, 1)
# The views of due_view.sql: every case, and the cases never closed (see data/schema/04_marts.sql).
DUE_VIEWS = (("case_due", "events"), ("open_due", "mart_open_cases"))


@dataclass(frozen=True)
class SlaTables:
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


def sla_tables(rules: SlaRules, calendar: WorkCalendar, first: date, last: date, tz: str) -> SlaTables:
    """The SLA temp tables for receipt days ``first..last`` (built once per rules, calendar, span and zone)."""
    overrides = tuple(sorted(rules.overrides.items()))
    key = (calendar, rules.default, overrides, first, last, tz)
    return remember("sla_tables", key, lambda: _build(rules, overrides, calendar, first, last, tz), limit=32)


def _build(rules: SlaRules, overrides: tuple[tuple[str, SlaRule], ...], calendar: WorkCalendar, first: date,
           last: date, tz: str) -> SlaTables:
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
    return SlaTables(
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


def setup(con: duckdb.DuckDBPyConnection, tables: SlaTables, flags: dict[str, bool] | None = None) -> None:
    """Fill the SLA rule tables and define the macros and views on ``con``, once per cursor and rule set.

    ``flags``: the snapshot's optional SQL blocks (``due_at``: some case has its own deadline).
    """
    prepared = per_cursor("sla_setup")
    token = (tables.sla_key, tables.first, tables.last, tuple(sorted((flags or {}).items())))
    try:
        if prepared.get(con) == token:
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
    view = apply_flags(_due_view_sql(has_overrides=tables.overrides.num_rows > 0), flags)
    for name, source in DUE_VIEWS:
        con.execute(view.replace("__view__", name).replace("__source__", source))
    con.execute(load_sql("open_stages"))
    try:
        prepared[con] = token
    except TypeError:
        pass


def _due_view_sql(has_overrides: bool) -> str:
    """``due_view.sql`` with its rule markers filled in (see that file)."""
    sql = load_sql("due_view")
    for column in ("acc_us", "dis_us", "urg_us", "d0", "dues"):
        sql = sql.replace(f"/*rule:{column}*/", f"coalesce(r.{column}, d.{column})" if has_overrides else f"d.{column}")
    join = "LEFT JOIN sla_override AS r ON r.category_id = e.category_id" if has_overrides else ""
    return sql.replace("/*override_join*/", join)


def close_receipt_ranges(tables: SlaTables, ws: datetime, we: datetime, tz: str
                         ) -> tuple[tuple[datetime, datetime], tuple[datetime, datetime]]:
    """Receipt times of cases whose rule-based closure deadline can fall in ``[ws, we)``: (urgent, other).

    Cases with their own ``due_at`` are not bounded by these ranges (see the module docstring).

    Urgent deadlines are a fixed time after receipt. Working-day deadlines are 24:00 of a due
    day that never decreases with the receipt day, so the receipt days whose deadline falls in
    the window are one contiguous run, found by binary search in the calendar. Each range is
    ``(lo, hi)``, half-open; an empty range has ``lo == hi``.
    """
    t = tables
    ws_us, we_us = micros(ws), micros(we)
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
    return ((from_micros(urgent[0], tz), from_micros(urgent[1], tz)),
            (from_micros(other[0], tz), from_micros(other[1], tz)))


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


def _index_micros(index: pd.DatetimeIndex) -> np.ndarray:
    """A tz-aware DatetimeIndex as UTC microseconds."""
    return index.tz_convert("UTC").tz_localize(None).to_numpy().astype("datetime64[us]").astype(np.int64)


def micros(t: datetime) -> int:
    """UTC microseconds since the epoch."""
    return (pd.Timestamp(t) - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(microseconds=1)


def from_micros(us: int, tz: str) -> datetime:
    """UTC microseconds since the epoch as a datetime in ``tz``."""
    return (pd.Timestamp(us, unit="us", tz="UTC")).tz_convert(tz).to_pydatetime()
