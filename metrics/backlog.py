"""Backlog and trends: is the work keeping up?

Daily and hourly inflow (cases received), outflow (closed or cancelled) and the open backlog,
the overdue backlog, the age of open cases, and the backlog split by street, category or
department. All series use one definition of "open at time t" (see ``docs/metrics.md``):

    received_at < t  and  (closed_at is NULL or closed_at >= t)

so that ``open(end of day) = open(start of day) + inflow - outflow`` holds exactly, and a case
is overdue at t when it is open and its closure deadline is before t. Everything is computed by
DuckDB over the snapshot for an explicit ``now``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from metrics import cache, queries
from metrics.scope import LEVEL_COLUMNS, LEVELS, Scope, Window
from settings import Settings

__all__ = ["AGE_BUCKETS", "BACKLOG_BY", "GRANULARITIES", "backlog_by", "members", "backlog_daily", "backlog_hourly",
           "backlog_series", "bucket_edges", "data_first_day", "default_granularity", "granularities", "granularity", "open_age",
           "top_members"]

# Age buckets of open cases: (key, lower bound in seconds, zh, en). Chosen around the promises:
# the first hour (acceptance and dispatch), the first day (urgent closure), 3 days (about 3
# working days), then a week and a month.
AGE_BUCKETS: tuple[tuple[str, int, str, str], ...] = (
    ("0-1h", 0, "1小时内", "< 1 h"),
    ("1-4h", 3_600, "1–4小时", "1–4 h"),
    ("4-24h", 4 * 3_600, "4–24小时", "4–24 h"),
    ("1-3d", 86_400, "1–3天", "1–3 days"),
    ("3-7d", 3 * 86_400, "3–7天", "3–7 days"),
    ("7-30d", 7 * 86_400, "7–30天", "7–30 days"),
    ("30d+", 30 * 86_400, "30天以上", "> 30 days"),
)
# What backlog_by can split by: the key column of events and where the names come from.
BACKLOG_BY = {
    "street": "street_id", "community": "community_id", "grid": "grid_id", "microgrid": "microgrid_id",
    "category": "category_id", "category_l1": "category_l1", "department": "department_id", "channel": "channel",
}
_EPOCH = date(1970, 1, 1)
# Granularities of backlog_series, finest first. Hours only for windows up to 7 days (168 bars; a
# 30-day window would be 720), weeks only from 30 days (a shorter window has 1-4 of them, mostly
# partial); days always. An hour of slack for a daylight-saving week, which lasts 7 days and 1 hour.
GRANULARITIES = ("hour", "day", "week")
_HOUR_MAX = timedelta(days=7, hours=1)
_WEEK_MIN = timedelta(days=30, hours=-1)


def backlog_daily(con: duckdb.DuckDBPyConnection, scope: Scope, now: datetime, settings: Settings,
                  days: int = 30) -> pd.DataFrame:
    """The daily backlog series of the last ``days`` local days, today last (up to ``now``).

    Args:
        con: a cursor on a snapshot.
        scope: area and filters.
        now: the as-of time; today's row counts up to it.
        settings: the deployment's settings (zone, SLA rules, holiday file).
        days: number of days, today included.

    Returns:
        One row per day with ``day`` (date), ``inflow``, ``outflow``, ``open_end`` (open at the
        end of the day; today at ``now``), ``overdue_end``, ``inflow_ma7`` (mean inflow of the 7
        days ending that day; today is partial) and ``inflow_last_year`` (the same day 52 weeks
        earlier, up to the same time of day for today; ``None`` where the data does not reach).
    """
    ctx = queries.prepare(con, now, settings)
    today = ctx.now.date()
    first_day = today - timedelta(days=days - 1)
    d0, d1 = (first_day - _EPOCH).days, (today - _EPOCH).days
    data_d0 = (ctx.facts.first_day - _EPOCH).days if ctx.facts.first_day else d1 + 1
    midnight = _midnight(today, ctx.tz)
    # Days before today are over: their values no longer change when new snapshots arrive, so
    # they are computed once a day (with "now" at midnight) and only today's row is live.
    past = cache.memo(ctx, ("backlog_days", scope, d0, d1, data_d0, ctx.tables.sla_key), lambda: ctx.run(
        "backlog_daily", {"first": _midnight(first_day, ctx.tz), "now": midnight, "d0": d0, "d1": d1 - 1,
                          "off_us": ctx.off_us, "data_d0": data_d0}, scope=scope))
    live = ctx.run("backlog_today", {"midnight": midnight}, scope=scope).iloc[0]
    open_now = ctx.open_now(scope)
    six_before = past[past["day_no"] >= d1 - 6]["inflow"].astype(float).tolist()
    today_row = pd.DataFrame([{
        "day_no": d1, "inflow": int(live["inflow"]), "outflow": int(live["outflow"]),
        "open_end": int(open_now["open"].sum()), "overdue_end": int(open_now["overdue"].sum()),
        "inflow_ma7": (sum(six_before) + int(live["inflow"])) / (len(six_before) + 1),
        "inflow_last_year": int(live["inflow_last_year"]) if d1 - 364 >= data_d0 else None,
    }])
    df = pd.concat([past[past["day_no"] >= d0], today_row], ignore_index=True)
    out = pd.DataFrame({
        "day": [_EPOCH + timedelta(days=int(d)) for d in df["day_no"]],
        "inflow": df["inflow"].astype("int64"),
        "outflow": df["outflow"].astype("int64"),
        "open_end": df["open_end"].astype("int64"),
        "overdue_end": df["overdue_end"].astype("int64"),
        "inflow_ma7": df["inflow_ma7"].astype(float),
        "inflow_last_year": pd.array(df["inflow_last_year"].tolist(), dtype="Int64"),
    })
    return out


def backlog_hourly(con: duckdb.DuckDBPyConnection, scope: Scope, now: datetime, settings: Settings) -> pd.DataFrame:
    """Today's hourly inflow, outflow and open backlog, from local midnight to the hour of ``now``.

    Returns:
        One row per hour with ``hour`` (timezone-aware start of the local hour), ``inflow``,
        ``outflow`` and ``open`` (open at the end of the hour; the current hour at ``now``).
    """
    ctx = queries.prepare(con, now, settings)
    midnight = _midnight(ctx.now.date(), ctx.tz)
    # Elapsed hours, in UTC: Python subtracts and adds aware times of one zone on the wall clock,
    # which would merge the repeated hour of a daylight-saving night or invent the skipped one.
    start = midnight.astimezone(UTC)
    h1 = int((ctx.now.astimezone(UTC) - start).total_seconds() // 3600)
    df = ctx.run("backlog_hourly", {"midnight": midnight, "h1": h1}, scope=scope)
    zone = ZoneInfo(ctx.tz)
    return pd.DataFrame({
        "hour": [(start + timedelta(hours=int(h))).astimezone(zone) for h in df["h"]],
        "inflow": df["inflow"].astype("int64"),
        "outflow": df["outflow"].astype("int64"),
        "open": df["open"].astype("int64"),
    })


def open_age(con: duckdb.DuckDBPyConnection, scope: Scope, now: datetime, settings: Settings) -> pd.DataFrame:
    """Open cases at ``now`` by age (time since receipt), every bucket present.

    Returns:
        Columns ``bucket`` (key such as ``"1-4h"``), ``bucket_order`` (0 = youngest), ``n``,
        ``label_zh``, ``label_en``, in bucket order.
    """
    ctx = queries.prepare(con, now, settings)
    edges = [float(b[1]) for b in AGE_BUCKETS]
    df = ctx.run("open_age", {"edges": edges}, scope=scope)
    counts = dict(zip(df["bucket_order"].astype(int), df["n"].astype(int), strict=True))
    return pd.DataFrame({
        "bucket": [b[0] for b in AGE_BUCKETS],
        "bucket_order": list(range(len(AGE_BUCKETS))),
        "n": [counts.get(i, 0) for i in range(len(AGE_BUCKETS))],
        "label_zh": [b[2] for b in AGE_BUCKETS],
        "label_en": [b[3] for b in AGE_BUCKETS],
    })


def backlog_by(con: duckdb.DuckDBPyConnection, scope: Scope, now: datetime, by: str, settings: Settings) -> pd.DataFrame:
    """Open and overdue cases at ``now`` split by street, category or department (or another key).

    Every member of the split is listed, with zeros where nothing is open: the streets (or
    communities, grids, micro-grids) inside the scope's area, the categories and departments of
    the catalogue (narrowed by the scope's own filters).

    Args:
        con: a cursor on the snapshot.
        scope: the area and filters.
        now: the as-of time (timezone-aware).
        by: ``"street"``, ``"category"`` (level 2), ``"department"``; also ``"community"``,
            ``"grid"``, ``"microgrid"``, ``"category_l1"`` or ``"channel"``.
        settings: the deployment's settings (zone, SLA rules, holiday file).

    Returns:
        Columns ``key``, ``name``, ``name_en``, ``open``, ``overdue``; most open first.
    """
    if by not in BACKLOG_BY:
        raise ValueError(f"by must be one of {sorted(BACKLOG_BY)}, got {by!r}")
    ctx = queries.prepare(con, now, settings)
    counts = ctx.run("open_by", {}, scope=scope, columns={"key": BACKLOG_BY[by]})
    listed = members(ctx, scope, by)
    out = listed.merge(counts, on="key", how="left")
    extra = counts[~counts["key"].isin(listed["key"])]  # a key missing from the catalogue still shows
    if len(extra):
        out = pd.concat([out, extra.assign(name=extra["key"], name_en=extra["key"])], ignore_index=True)
    out[["open", "overdue"]] = out[["open", "overdue"]].fillna(0).astype("int64")
    out = out.sort_values(["open", "overdue", "key"], ascending=[False, False, True], kind="stable")
    return out[["key", "name", "name_en", "open", "overdue"]].reset_index(drop=True)


def members(ctx: queries.QueryContext, scope: Scope, by: str) -> pd.DataFrame:
    """Everything a split by ``by`` lists: key, name, name_en."""
    if by in LEVEL_COLUMNS:
        scope_level = scope.level_in(ctx.con)
        if LEVELS.index(by) < LEVELS.index(scope_level):
            # asking for streets inside one community: the street holding it
            info = ctx.reference("area_info", {"area_id": scope.area_id})
            key = info.iloc[0][LEVEL_COLUMNS[by]] if len(info) else None
            areas = ctx.reference("area_info", {"area_id": key}) if key else info.iloc[0:0]
        else:
            areas = ctx.reference("areas_under", {"level": by}, scope=scope)
        return pd.DataFrame({"key": areas["area_id"], "name": areas["name"], "name_en": areas["name_en"]})
    if by in ("category", "category_l1"):
        cats = ctx.reference("ref_categories")
        if scope.categories:
            wanted = set(scope.categories)
            if by == "category":  # a listed sub-category, or any sub-category of a listed top level
                keep = cats["category_id"].isin(wanted) | cats["parent_id"].isin(wanted)
            else:  # a listed top level, or the parent of a listed sub-category
                parents = set(cats.loc[cats["category_id"].isin(wanted), "parent_id"].dropna())
                keep = cats["category_id"].isin(wanted | parents)
            cats = cats[keep]
        cats = cats[cats["level"] == (2 if by == "category" else 1)]
        return pd.DataFrame({"key": cats["category_id"], "name": cats["name"], "name_en": cats["name_en"]})
    if by == "department":
        deps = ctx.reference("ref_departments")
        if scope.departments:
            deps = deps[deps["department_id"].isin(scope.departments)]
        return pd.DataFrame({"key": deps["department_id"], "name": deps["name"], "name_en": deps["name_en"]})
    chans = ctx.reference("ref_channels")
    if scope.channels:
        chans = chans[chans["channel"].isin(scope.channels)]
    return pd.DataFrame({"key": chans["channel"], "name": chans["name"], "name_en": chans["name_en"]})


def _midnight(day: date, tz: str) -> datetime:
    """Local midnight starting ``day``."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz))


def granularities(window: Window) -> tuple[str, ...]:
    """The granularities :func:`backlog_series` offers for ``window`` (hour up to 7 days, week from 30)."""
    length = window.end - window.start
    return tuple(g for g in GRANULARITIES
                 if (g != "hour" or length <= _HOUR_MAX) and (g != "week" or length >= _WEEK_MIN))


def default_granularity(window: Window) -> str:
    """Hours for a window of a day or less (a single daily bar says nothing), days otherwise."""
    return "hour" if window.end - window.start <= timedelta(days=1, hours=1) else "day"


def granularity(asked: str | None, window: Window) -> str:
    """``asked`` when ``window`` offers it (:func:`granularities`), else :func:`default_granularity`."""
    return asked if asked in granularities(window) else default_granularity(window)


def bucket_edges(window: Window, gran: str, tz: str) -> list[datetime]:
    """The bounds of the buckets of ``window``: its start, every local hour, day or week start inside, its end.

    The first and last buckets are cut by the window (a rolling 7-day window starting at 10:37
    has a first day from 10:37 to midnight). Days start at local midnight, weeks on Monday (ISO).
    Hours are counted in elapsed time from the first local hour, so a daylight-saving day has 23
    or 25 of them.

    Raises:
        ValueError: an unknown granularity.
    """
    if gran not in GRANULARITIES:
        raise ValueError(f"gran must be one of {GRANULARITIES}, got {gran!r}")
    zone = ZoneInfo(tz)
    start, end = window.start.astimezone(zone), window.end.astimezone(zone)
    inner: list[datetime] = []
    if gran == "hour":
        t = start.replace(minute=0, second=0, microsecond=0).astimezone(UTC) + timedelta(hours=1)
        while t < end:
            inner.append(t.astimezone(zone))
            t += timedelta(hours=1)
    else:
        day = start.date() + timedelta(days=1)
        if gran == "week":
            day = start.date() + timedelta(days=7 - start.weekday())
        step = timedelta(days=1 if gran == "day" else 7)
        while _midnight(day, tz) < end:
            inner.append(_midnight(day, tz))
            day += step
    inner = [t for t in inner if start < t < end]
    return [start, *inner, end] if end > start else [start]


def data_first_day(con: duckdb.DuckDBPyConnection, now: datetime, settings: Settings) -> date | None:
    """The local day of the warehouse's first case (``None`` without cases): before it a series is zero for want of data."""
    return queries.prepare(con, now, settings).facts.first_day


def backlog_series(con: duckdb.DuckDBPyConnection, scope: Scope, window: Window, now: datetime,
                   settings: Settings, gran: str = "day", by: str | None = None) -> pd.DataFrame:
    """Inflow, outflow, open and overdue per hour, day or week of ``window``; per member of a split with ``by``.

    The general form of :func:`backlog_daily` (which is tied to the last N days up to now): any
    window, any of :data:`GRANULARITIES`, the same definition of open and overdue at t
    (``backlog_series.sql``). Each row satisfies ``open_end = open_start + inflow - outflow`` exactly
    and ``open_start`` is the previous row's ``open_end``; ``open_start`` of the first bucket is
    the backlog at the window's start.

    Args:
        con: a cursor on a snapshot.
        scope: area and filters.
        window: the time range; its end is clipped to ``now`` (nothing after ``now`` is seen).
        now: the "as of" time (timezone-aware).
        settings: the deployment's settings (zone, SLA rules, holiday file).
        gran: ``"hour"``, ``"day"`` or ``"week"`` (see :func:`bucket_edges`; not checked against
            :func:`granularities`, which is the pages' rule).
        by: ``None`` for one series, or a key of :data:`BACKLOG_BY` for one series per member
            (only members with a case alive in the window are listed).

    Returns:
        One row per bucket (per member: ``key``, ``name``, ``name_en`` first, members by key,
        then buckets in order) with ``start``, ``end`` (local times), ``inflow``, ``outflow``,
        ``open_start``, ``overdue_start``, ``open_end``, ``overdue_end``. Without ``by`` every
        bucket is listed even when nothing happened.
    """
    if by is not None and by not in BACKLOG_BY:
        raise ValueError(f"by must be one of {sorted(BACKLOG_BY)}, got {by!r}")
    ctx = queries.prepare(con, now, settings)
    end = min(ctx.local(window.end), ctx.now)
    start = min(ctx.local(window.start), end)
    edges = bucket_edges(Window(start, end, window.key), gran, ctx.tz)
    n = len(edges) - 1
    cols = ["start", "end", "inflow", "outflow", "open_start", "overdue_start", "open_end", "overdue_end"]
    if n == 0:
        return pd.DataFrame(columns=(["key", "name", "name_en"] if by else []) + cols)
    us = [int(e.timestamp() * 1_000_000) for e in edges]
    df = ctx.run("backlog_series", {"edges": us, "start_us": us[0], "end_us": us[-1], "start": start, "end": end,
                                    "n": n}, scope=scope, columns={"key": BACKLOG_BY[by] if by else "NULL"})
    ints = ["inflow", "outflow", "open_start", "overdue_start", "open_end", "overdue_end"]
    if by is None:
        full = pd.DataFrame({"i": range(n)}).merge(df.drop(columns="key"), on="i", how="left")
        out = full.fillna(0)
    else:  # the SQL gives "" for a case without the split's column (NULL would not join by equality)
        out = df.assign(key=df["key"].where(df["key"] != "", None)).sort_values(["key", "i"], kind="stable")
    out = out.assign(start=[edges[int(i)] for i in out["i"]], end=[edges[int(i) + 1] for i in out["i"]])
    out[ints] = out[ints].astype("int64")
    if by is None:
        return out[cols].reset_index(drop=True)
    names = members(ctx, scope, by)
    out = out.merge(names, on="key", how="left")
    out["name"] = out["name"].fillna(out["key"].fillna("—").astype(str))
    out["name_en"] = out["name_en"].fillna(out["name"])
    return out[["key", "name", "name_en", *cols]].reset_index(drop=True)


def top_members(series: pd.DataFrame, n: int = 8, other: tuple[str, str] = ("其他", "other")) -> pd.DataFrame:
    """A split series (:func:`backlog_series` with ``by``) cut to its ``n`` members of most inflow plus "other".

    The members are ranked by inflow over the whole window (ties: most open at the end, then key);
    the rest are summed bucket by bucket into one member with key ``"__other__"`` (left out when
    there is no rest), so every bucket's totals are unchanged.

    Returns:
        The same columns, the top members in rank order, then "other"; buckets in order within each.
    """
    if series.empty:
        return series
    last = series.groupby("key", dropna=False)["end"].transform("max") == series["end"]
    rank = (series.groupby("key", dropna=False)["inflow"].sum().rename("total").to_frame()
            .join(series[last].set_index("key")["open_end"].rename("open_last"))
            .reset_index().sort_values(["total", "open_last", "key"], ascending=[False, False, True], kind="stable"))
    keep = list(rank["key"].head(n))
    top = series[series["key"].isin(keep)].copy()
    top["_rank"] = top["key"].map({k: i for i, k in enumerate(keep)})
    top = top.sort_values(["_rank", "start"], kind="stable").drop(columns="_rank")
    rest = series[~series["key"].isin(keep)]
    if rest.empty:
        return top.reset_index(drop=True)
    sums = ["inflow", "outflow", "open_start", "overdue_start", "open_end", "overdue_end"]
    folded = rest.groupby(["start", "end"], as_index=False)[sums].sum()
    folded.insert(0, "name_en", other[1])
    folded.insert(0, "name", other[0])
    folded.insert(0, "key", "__other__")
    return pd.concat([top, folded[top.columns]], ignore_index=True)
