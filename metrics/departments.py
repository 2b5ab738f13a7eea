"""Departments: each department's volume, on-time rate per SLA stage, median times, backlog and trend.

Every number is a vital sign (:mod:`metrics.vitals`) of a one-department scope, computed by the
same SQL (``vitals_windows.sql`` for the window's stages and medians, ``open_by.sql`` for the open
and overdue cases now, ``departments_trend.sql`` for the trend (receipts per bucket)): a department's row equals
``vital_signs(con, Scope(area, departments=(d,)), ...)`` for the same window and as-of time, and
the "all departments" row equals the vital signs of the scope itself. A stage counts in the window
where its deadline falls (met if done by it, breached if done late or still open).

Joint-handling cases (``events.route = 'joint'``, 多部门联办: one lead department, others
assisting) are counted in their lead department's row like any other case, and shown once more
on their own row (:attr:`DepartmentTable.joint`), measured the same way over the joint cases of
the scope, so a reader can see whether multi-department work keeps its promises. The row is read
through :class:`RouteScope`, a :class:`~metrics.scope.Scope` with one more filter.

Cost: ``vitals_windows.sql`` runs once for all departments in its grouped form (:func:`_grouped`:
each case grouped once by department and route, with the values behind each median), rolled up
here into the department, "all" and joint rows (counts add up; medians exact, :func:`median`), so
the stage rules stay written once; plus ``open_by`` (open and overdue now), ``open_now`` for the
joint cases and ``departments_trend.sql`` (receipts per bucket). At 10 million cases and 30 days
the table costs about 1.2 s of CPU where counting each case in two to four groups (``unnest``)
cost 2.5 s (``docs/performance.md``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from metrics import queries, sqlfiles
from metrics.backlog import backlog_by, bucket_edges, default_granularity
from metrics.scope import Scope, Window
from metrics.vitals import NOT_RECORDED, window_params
from settings import Settings

__all__ = ["COLUMNS", "SORTABLE", "DepartmentTable", "RouteScope", "department_table", "median", "sort_rows",
           "trend_granularity"]

# The measures of a row, in table order (keys of the vital signs where one exists).
COLUMNS = ("received", "accept_1min_pct", "dispatch_5min_pct", "close_on_time_urgent_pct", "close_on_time_other_pct",
           "median_accept_s", "median_dispatch_s", "median_close_h", "satisfaction_pct", "open", "overdue", "joint")
# What the table can be sorted by (the URL's ``sort`` key: the column, or ``-column`` for descending).
SORTABLE = ("name", *COLUMNS)
_STAGE_COUNTS = {"accept_1min_pct": ("accept_n", "accept_met"), "dispatch_5min_pct": ("dispatch_n", "dispatch_met"),
                 "close_on_time_urgent_pct": ("urgent_n", "urgent_met"),
                 "close_on_time_other_pct": ("other_n", "other_met")}
JOINT_KEY = "__joint__"
ALL_KEY = "__all__"


@dataclass(frozen=True)
class RouteScope(Scope):
    """A :class:`~metrics.scope.Scope` that also keeps only cases of one handling route (``events.route``).

    Attributes:
        route: ``"auto"``, ``"one_thing"`` or ``"joint"`` (docs/data-dictionary.md); ``None``: any.
    """

    route: str | None = None

    def predicate(self, alias: str = "e", prefix: str = "s", whole_district: bool = False
                  ) -> tuple[str, dict[str, Any]]:
        """The scope's predicate with ``<alias>.route = $<prefix>_route`` added."""
        sql, params = super().predicate(alias, prefix, whole_district)
        if self.route is None:
            return sql, params
        return f"{sql} AND {alias}.route = ${prefix}_route", {**params, f"{prefix}_route": self.route}

    @property
    def has_filters(self) -> bool:
        """A route is a filter."""
        return super().has_filters or self.route is not None


@dataclass(frozen=True)
class DepartmentTable:
    """The departments page's numbers.

    Attributes:
        rows: one row per department of the scope (the catalogue, narrowed by the scope's own
            department filter; departments with no case listed with zeros): ``key``, ``name``,
            ``name_en``, the :data:`COLUMNS` (rates in %, ``None`` where nothing was due or the
            stage is not recorded; medians in seconds / hours), each stage's ``<n>``/``<met>``
            counts, and ``trend`` (cases received per bucket of :attr:`trend_starts`). Most
            received first.
        total: the same measures over the whole scope (every department), one row.
        joint: the same measures over the scope's joint-handling cases, one row (``joint`` is
            their count, ``received`` too).
        trend_gran: ``"hour"``, ``"day"`` or ``"week"``.
        trend_starts: the start of each trend bucket.
        not_recorded: the stages the source does not record (``"accept"``, ``"dispatch"``).
        window: the window measured (its end clipped to the as-of time).
    """

    rows: pd.DataFrame
    total: pd.DataFrame
    joint: pd.DataFrame
    trend_gran: str
    trend_starts: list[datetime]
    not_recorded: tuple[str, ...]
    window: Window


def trend_granularity(window: Window) -> str:
    """The trend's buckets: hours for a day, days up to 31 days, weeks beyond (at most about 14 points a quarter)."""
    if window.end - window.start > timedelta(days=31):
        return "week"
    return default_granularity(window)


def _pct(met: Any, n: Any) -> float | None:
    return 100.0 * float(met) / float(n) if n else None


# The grouped form of vitals_windows.sql: its /*by:TEXT*/ comments become TEXT (the grouping columns),
# and each median the list of its values, which _measures rolls up.
_BY = re.compile(r"/\*by:(.*?)\*/", re.S)
_MEDIANS = ("median_accept_s", "median_dispatch_s", "median_close_h")  # the median( of vitals_windows.sql
_COUNTS = ("received", *(c for pair in _STAGE_COUNTS.values() for c in pair), "rated", "satisfied")


def _grouped(sql: str) -> str:
    """The rendered ``vitals_windows.sql`` in its grouped form: one row per department and route.

    Each case is grouped once, by department (``dep``) and route (``jnt``: joint or not), with the
    values behind each median as a list; :func:`_measures` rolls the groups up into the department,
    "all" and joint rows (the ``unnest`` into two to four groups per case this replaces cost 1.8
    times the CPU at 10 million cases). The median count is checked, so a change to the file fails
    here (and in the tests) instead of giving other numbers.
    """
    found = sql.count("median(")
    if found != len(_MEDIANS) or not _BY.search(sql):
        raise RuntimeError(f"vitals_windows.sql changed: {found} medians (expected {len(_MEDIANS)}) or no /*by:*/ marker")
    return _BY.sub(lambda m: m.group(1), sql).replace("median(", "list(")


def median(parts: list[Any]) -> float | None:
    """DuckDB's ``median`` of the values of ``parts`` (arrays; ``None`` or masked entries skipped) put together.

    Exactly DuckDB's continuous median: the middle value, or for an even count ``lo + (hi - lo) * 0.5``
    of the two middle ones (its interpolation, in the same floating-point operations). ``None``
    when there is no value, as SQL's median of no rows.
    """
    arrays = [np.ma.compressed(np.ma.asarray(p, dtype=float)) for p in parts if p is not None and p is not np.ma.masked]
    values = np.concatenate(arrays) if arrays else np.empty(0)
    n = len(values)
    if n == 0:
        return None
    f = (n - 1) // 2
    if n % 2:
        return float(np.partition(values, f)[f])
    part = np.partition(values, [f, f + 1])
    lo, hi = part[f], part[f + 1]
    return float(lo + (hi - lo) * 0.5)


def _measures(ctx: queries.QueryContext, scope: Scope, start: datetime, end: datetime,
              skip: set[str]) -> dict[str, dict[str, Any]]:
    """The window's stage counts, rates and medians per group (department, all, joint; ``vitals_windows.sql``).

    The grouped query (:func:`_grouped`) gives one row per department and route; counts add up, and
    each median is :func:`median` of the groups' values put together (DuckDB's list median of the
    same values took four times as long). Cases without a department count in "all" (and joint) only.
    """
    sql, scope_params = sqlfiles.render("vitals_windows", scope, slots=1, district_id=ctx.facts.district_id,
                                        flags=ctx.facts.flags)
    sql = _grouped(sql)
    params = {"now": ctx.now, **window_params(ctx, [(start, end)]), **scope_params}
    g = ctx.con.execute(sql, sqlfiles.used_params(sql, params)).fetchnumpy()
    deps = [None if d is np.ma.masked else d for d in g["dep"]]
    joint = np.ma.filled(np.ma.asarray(g["jnt"]), False).astype(bool)
    members = {ALL_KEY: np.ones(len(deps), dtype=bool), JOINT_KEY: joint}
    for d in sorted({d for d in deps if d is not None}):
        members[str(d)] = np.array([x == d for x in deps], dtype=bool)
    out: dict[str, dict[str, Any]] = {}
    for grp, rows in members.items():
        if not rows.any():
            continue
        st = {c: int(np.ma.filled(np.ma.asarray(g[c])[rows], 0).sum()) for c in _COUNTS}
        m: dict[str, Any] = {"received": st["received"]}
        for key, (n, met) in _STAGE_COUNTS.items():
            m[n], m[met] = st[n], st[met]
            m[key] = None if key in skip else _pct(st[met], st[n])
        for key in _MEDIANS:
            m[key] = None if key in skip else median([g[key][i] for i in np.flatnonzero(rows)])
        m["satisfaction_pct"] = _pct(st["satisfied"], st["rated"])
        m["joint"] = int(np.ma.filled(np.ma.asarray(g["received"])[rows & joint], 0).sum())
        out[grp] = m
    return out


def _zero(skip: set[str]) -> dict[str, Any]:
    """The measures of a group with no case in the window."""
    m: dict[str, Any] = {"received": 0, "median_accept_s": None, "median_dispatch_s": None, "median_close_h": None,
                         "satisfaction_pct": None}
    for key, (n, met) in _STAGE_COUNTS.items():
        m[n], m[met], m[key] = 0, 0, None
    return m


def department_table(con: duckdb.DuckDBPyConnection, scope: Scope, window: Window, now: datetime,
                     settings: Settings) -> DepartmentTable:
    """Every department of ``scope``: volume, on-time % per stage, medians, open and overdue now, trend.

    Args:
        con: a cursor on a snapshot.
        scope: area and filters (a department filter narrows the list of departments).
        window: the time window; its end is clipped to ``now``.
        now: the "as of" time (timezone-aware).
        settings: the deployment's settings (zone, SLA rules, holiday file).

    Returns:
        The :class:`DepartmentTable`; open and overdue are counted at ``now`` (as the vital signs do
        for a window ending now).
    """
    ctx = queries.prepare(con, now, settings)
    end = min(ctx.local(window.end), ctx.now)
    start = min(ctx.local(window.start), end)
    current = Window(start, end, window.key)
    not_recorded = tuple(s for s in NOT_RECORDED if not ctx.facts.recorded(s))
    skip = {k for s in not_recorded for k in NOT_RECORDED[s]}
    backlog = backlog_by(con, scope, now, "department", settings)
    gran = trend_granularity(current)
    edges = bucket_edges(current, gran, ctx.tz)
    starts = edges[:-1]
    trends = _trends(ctx, scope, edges)
    joint_scope = RouteScope(scope.area_id, scope.categories, scope.channels, scope.departments, scope.urgency,
                             scope.level, route="joint")
    groups = _measures(ctx, scope, start, end, skip)
    rows = []
    for r in backlog.itertuples(index=False):
        rows.append({"key": r.key, "name": r.name, "name_en": r.name_en, **groups.get(str(r.key), _zero(skip)),
                     "open": int(r.open), "overdue": int(r.overdue),
                     "joint": groups.get(str(r.key), {"joint": 0})["joint"],
                     "trend": trends.get(str(r.key), [0] * len(starts))})
    columns = ["key", "name", "name_en", *_all_columns(), "trend"]
    table = sort_rows(pd.DataFrame(rows, columns=columns), "-received")
    o_all, o_joint = ctx.open_now(scope), ctx.open_now(joint_scope)
    total = pd.DataFrame([{"key": ALL_KEY, "name": "全部部门", "name_en": "All departments",
                           **groups.get(ALL_KEY, _zero(skip)), "open": int(o_all["open"].sum()),
                           "overdue": int(o_all["overdue"].sum()), "joint": groups.get(JOINT_KEY, {"received": 0})["received"],
                           "trend": trends.get(ALL_KEY, [0] * len(starts))}], columns=columns)
    jm = groups.get(JOINT_KEY, _zero(skip))
    joint = pd.DataFrame([{"key": JOINT_KEY, "name": "多部门联办", "name_en": "Joint handling", **jm,
                           "open": int(o_joint["open"].sum()), "overdue": int(o_joint["overdue"].sum()),
                           "joint": jm["received"], "trend": trends.get(JOINT_KEY, [0] * len(starts))}],
                         columns=columns)
    return DepartmentTable(table, total, joint, gran, starts, not_recorded, current)


def _trends(ctx: queries.QueryContext, scope: Scope, edges: list[datetime]) -> dict[str, list[int]]:
    """Cases received per bucket of ``edges`` per group (department, all, joint; ``departments_trend.sql``)."""
    n = len(edges) - 1
    if n <= 0:
        return {}
    us = [int(e.timestamp() * 1_000_000) for e in edges]
    df = ctx.run("departments_trend", {"edges": us, "start_us": us[0], "start": edges[0], "end": edges[-1]},
                 scope=scope)
    out: dict[str, list[int]] = {}
    for grp, i, inflow in df[["grp", "i", "inflow"]].itertuples(index=False):
        out.setdefault(str(grp), [0] * n)[int(i)] = int(inflow)
    return out


def _all_columns() -> list[str]:
    counts = [c for pair in _STAGE_COUNTS.values() for c in pair]
    return [*COLUMNS, *counts]


def sort_rows(rows: pd.DataFrame, sort: str | None, lang: str = "zh") -> pd.DataFrame:
    """``rows`` ordered by ``sort`` (a :data:`SORTABLE` column, ``-`` first for descending; unknown: most received).

    Missing values (a rate with nothing due) go last either way; ties keep the department key order.
    """
    desc = bool(sort) and sort.startswith("-")
    col = (sort or "").lstrip("-")
    if col not in SORTABLE:
        col, desc = "received", True
    if col == "name":
        col = "name_en" if lang == "en" else "name"
    ordered = rows.sort_values("key", kind="stable")
    return ordered.sort_values(col, ascending=not desc, na_position="last", kind="stable").reset_index(drop=True)
