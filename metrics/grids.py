"""Grid aggregates: one row per area at a chosen level under a scope, what the heatmaps colour.

For every street, community, grid or micro-grid inside the scope's area (zero rows filled in,
so a quiet micro-grid is a pale cell, not a hole): cases received in the window, cases per
10 000 residents, open and overdue cases now, the on-time closure rate of the closure deadlines
that fell in the window, the most frequent category, and the change against the baseline (the
vital signs' baseline windows: the same window in each of the previous 4 weeks, or for a window over a
week the 4 periods of its length before it; :func:`metrics.vitals.baseline_windows`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from metrics import cache, queries
from metrics.scope import LEVEL_COLUMNS, Scope, Window, check_display_level
from metrics.vitals import BASELINE_WEEKS, baseline_covered, baseline_windows, pass_step_us, query_passes
from settings import Settings

__all__ = ["GRID_COLUMNS", "grid_aggregates"]

GRID_COLUMNS = ("area_id", "name", "name_en", "parent_id", "residents", "cases", "per_10k", "open", "overdue",
                "on_time_pct", "top_category", "top_category_name", "top_category_name_en", "baseline", "change_pct")


def grid_aggregates(con: duckdb.DuckDBPyConnection, scope: Scope, level: str, window: Window, now: datetime,
                    settings: Settings) -> pd.DataFrame:
    """Per-area aggregates at ``level`` inside ``scope`` for ``window``, as of ``now``.

    Args:
        con: a cursor on a snapshot.
        scope: the area (any level) and filters; the filters apply to every count.
        level: ``"street"``, ``"community"``, ``"grid"`` or ``"microgrid"`` (or ``"district"``
            for the one district row); not above the scope's own level.
        window: the time window (its end is clipped to ``now``).
        now: the as-of time.
        settings: the deployment's settings (zone, SLA rules, holiday file).

    Returns:
        Columns :data:`GRID_COLUMNS`, one row per area in id order: ``cases`` received in the
        window, ``per_10k`` (NaN for an area without residents), ``open`` and ``overdue`` at
        ``now``, ``on_time_pct`` (closure deadlines in the window met; NaN when none fell),
        ``top_category`` (``None`` without cases), ``baseline`` (mean cases in the baseline
        windows the data covers; NaN when it covers none) and ``change_pct`` (NaN when the baseline is 0).
    """
    check_display_level(con, scope, level)
    ctx = queries.prepare(con, now, settings)
    column = LEVEL_COLUMNS.get(level, "NULL")
    start = ctx.local(window.start)
    end = min(ctx.local(window.end), ctx.now)
    start = min(start, end)

    areas = ctx.reference("areas_under", {"level": level}, scope=scope)
    current = _cases(ctx, scope, column, [(start, end)])
    past_windows = baseline_covered(baseline_windows(start, end, BASELINE_WEEKS), ctx.facts.first_day)
    past = cache.memo(ctx, ("grid_baseline", scope, column, tuple(past_windows), ctx.tables.sla_key),
                        lambda: _cases(ctx, scope, column, past_windows))
    (ulo, uhi), (nlo, nhi) = ctx.close_receipt_ranges(start, end)
    judged_df = ctx.run("grid_on_time", {"ws": start, "we": end, "ulo": ulo, "uhi": uhi, "nlo": nlo, "nhi": nhi},
                        scope=scope, columns={"area": column})
    if end == ctx.now:  # the cases open now are shared with the other metrics of the refresh
        open_mg = ctx.open_now(scope)
    else:
        open_mg = ctx.run("open_now", {"now": end}, scope=scope)
    district = areas["area_id"].iloc[0] if len(areas) else scope.area_id
    ids = pd.Index(areas["area_id"].to_numpy(dtype=object), dtype=object)

    def keys_of(keys: Any) -> np.ndarray:
        """Row keys as plain objects (the district level has one group: every row is the district)."""
        return np.full(len(keys), district, dtype=object) if column == "NULL" else np.asarray(keys, dtype=object)

    def where(keys: Any) -> np.ndarray:
        """Positions of row keys in ``ids`` (-1: not an area of the scope); looked up once per result."""
        return ids.get_indexer(keys_of(keys))

    def total(pos: np.ndarray, values: Any) -> np.ndarray:
        """``values`` summed into the areas' positions (several micro-grids add up to their grid)."""
        return _sum_pos(len(ids), pos, np.asarray(values, dtype=float))

    cur0 = current[current["k"] == 0]
    cur_pos = where(cur0["area_id"])
    cases = total(cur_pos, cur0["cases"])
    residents = areas["residents"].to_numpy(dtype=float)
    open_key = open_mg[column] if column != "NULL" else open_mg["microgrid_id"]
    open_pos = where(open_key)
    opened = total(open_pos, open_mg["open"])
    overdue = total(open_pos, open_mg["overdue"])
    judged_pos = where(judged_df["area_id"])
    judged = total(judged_pos, judged_df["judged"])
    met = total(judged_pos, judged_df["met"])
    top = np.full(len(ids), None, dtype=object)
    hit = cur_pos >= 0
    top[cur_pos[hit]] = cur0["top_category"].to_numpy(dtype=object)[hit]
    names = ctx.reference("ref_categories")
    cat_ids = pd.Index(names["category_id"].to_numpy(dtype=object), dtype=object)
    top_pos = cat_ids.get_indexer(top)
    # Looked up only where found: a warehouse without a category catalogue (areas imported, cases landed
    # with ids the catalogue lacks) has nothing to index, and np.where would index it anyway.
    name_zh, name_en = np.full(len(ids), None, dtype=object), np.full(len(ids), None, dtype=object)
    found = top_pos >= 0
    name_zh[found] = names["name"].to_numpy(dtype=object)[top_pos[found]]
    name_en[found] = names["name_en"].to_numpy(dtype=object)[top_pos[found]]

    length = (end - start).total_seconds()
    weekly = []
    past_pos = where(past["area_id"])
    past_k = past["k"].to_numpy()
    past_cases = past["cases"].to_numpy(dtype=float)
    for k, (ws, we) in enumerate(past_windows):
        in_k = past_k == k
        span = (we - ws).total_seconds()
        scale = length / span if span > 0 else 1.0  # baseline windows may end up to a quantum earlier
        weekly.append(total(past_pos[in_k], past_cases[in_k]) * scale)
    baseline = sum(weekly) / len(weekly) if weekly else np.full(len(ids), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame({
            "area_id": ids.to_numpy(), "name": areas["name"].to_numpy(dtype=object),
            "name_en": areas["name_en"].to_numpy(dtype=object), "parent_id": areas["parent_id"].to_numpy(dtype=object),
            "residents": areas["residents"].to_numpy(), "cases": cases.astype("int64"),
            "per_10k": np.where(residents > 0, 10_000 * cases / residents, np.nan),
            "open": opened.astype("int64"), "overdue": overdue.astype("int64"),
            "on_time_pct": np.where(judged > 0, 100.0 * met / judged, np.nan),
            "top_category": top, "top_category_name": name_zh, "top_category_name_en": name_en,
            "baseline": baseline, "change_pct": np.where(baseline > 0, 100.0 * (cases / baseline - 1.0), np.nan),
        })
    return out[list(GRID_COLUMNS)].reset_index(drop=True)


def _sum_pos(size: int, pos: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Sum ``values`` into positions ``pos`` of an array of ``size`` zeros (negative positions dropped).

    Positional lookups on plain object arrays: mapping Series of Arrow strings row by row costs
    more than all the queries of :func:`grid_aggregates` together.
    """
    out = np.zeros(size)
    hit = pos >= 0
    np.add.at(out, pos[hit], values[hit])
    return out


def _cases(ctx: queries.QueryContext, scope: Scope, column: str, windows: list[tuple[datetime, datetime]]
           ) -> pd.DataFrame:
    """Cases per area and window (``k`` = position in ``windows``), with window 0's top category.

    Windows one step apart share a pass (:func:`metrics.vitals.query_passes`).
    """
    frames, k0 = [], 0
    for group in query_passes(windows):
        params: dict[str, Any] = {"step_us": pass_step_us(group), "n": len(group) - 1}
        for k, (ws, we) in enumerate(group):
            params.update({f"ws{k}": ws, f"we{k}": we})
        df = ctx.run("grid_cases", params, scope=scope, columns={"area": column}, slots=len(group))
        frames.append(df.assign(k=df["k"] + k0))
        k0 += len(group)
    if not frames:  # no baseline window the data covers
        return pd.DataFrame({"area_id": pd.Series([], dtype=object), "k": pd.Series([], dtype="int64"),
                             "cases": pd.Series([], dtype="int64"), "top_category": pd.Series([], dtype=object)})
    return pd.concat(frames, ignore_index=True)
