"""Surges: reports of one category in one grid or micro-grid in the last hours, far above their usual.

Counts are tested against the same hours of the week in the previous 4 weeks by a Poisson test
with a minimum count, its significance corrected for the number of cells tested (Bonferroni), so
a run over the whole district raises a false alarm with probability about 1 % even with 145 000
cells (``docs/metrics.md`` shows how the parameters were chosen).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from scipy import stats

from metrics import cache, queries
from metrics.scope import Scope
from metrics.vitals import BASELINE_QUANTUM
from metrics.warnings.model import Warning
from settings import Settings

__all__ = ["SurgeModel", "surges"]


@dataclass(frozen=True)
class SurgeModel:
    """Parameters of the surge detector (``docs/metrics.md`` shows how they were chosen).

    Every run tests every grid and micro-grid of the scope against every category (145 000
    cells for the whole district), so the per-cell significance is Bonferroni-corrected: a cell
    is flagged at ``family_alpha / cells``, the chance that a run raises any false alarm if the
    counts were Poisson around their expectation.

    Attributes:
        min_count: reports in the window below which nothing is flagged, however unusual.
        family_alpha: per-run false-alarm probability for amber (``None``: use ``alpha`` as is).
        family_alpha_red: the same for red.
        alpha: per-cell p-value threshold when ``family_alpha`` is ``None``.
        alpha_red: per-cell red threshold when ``family_alpha`` is ``None``.
        floor: the least expected count in a window; keeps a cell never seen before from turning
            a handful of reports into a certainty.
        weeks: weeks of same-hours history (at most 4).
    """

    min_count: int = 5
    family_alpha: float | None = 0.01
    family_alpha_red: float = 1e-4
    alpha: float = 1e-5
    alpha_red: float = 1e-7
    floor: float = 0.5
    weeks: int = 4


def surges(con: duckdb.DuckDBPyConnection, scope: Scope, now: datetime, settings: Settings, hours: float = 6,
           model: SurgeModel | None = None) -> list[Warning]:
    """Surges of one category in one grid or micro-grid in the last ``hours``.

    The expected count ``lam`` of an area and category in the window is the larger of (a) its
    mean in the same hours of the week over the previous 4 weeks and (b) its count over the 28
    days before the window scaled by the share of the scope's reports that fall in those
    same-hours windows (a steadier estimate for sparse cells), and at least ``model.floor``.
    The history is taken up to the quarter hour before the window (see :func:`_surge_history`).
    A count ``n >= model.min_count`` is flagged when ``P(X >= n | Poisson(lam))`` is below
    ``model.family_alpha`` divided by the number of cells tested (red below
    ``model.family_alpha_red`` / cells). A grid is not reported again when one of its micro-grids
    already is for the same category, unless the grid's count is clearly more than the
    micro-grids explain.

    Args:
        con: a cursor on a snapshot.
        scope: area and filters (the area limits where to look).
        now: the as-of time; the window is ``[now - hours, now)``.
        settings: the deployment's settings (zone, SLA rules, holiday file).
        hours: window length.
        model: detector parameters.

    Returns:
        Warnings, the most significant first.
    """
    model = model or SurgeModel()
    ctx = queries.prepare(con, now, settings)
    ws0, we0 = ctx.now - timedelta(hours=hours), ctx.now
    first = ctx.facts.first_day
    if first is None or first > (ws0 - timedelta(weeks=model.weeks)).date():
        # the data does not reach back over the whole baseline: "usually" is unknown, so nothing is a
        # surge (an imported 3-day extract would otherwise flag every busy category on its first day)
        return []
    cand = ctx.run("surge_current", {"ws0": ws0, "we0": we0, "min_count": model.min_count}, scope=scope)
    if cand.empty:  # the usual case: nothing reaches the minimum count, one cheap query
        return []
    hist, totals = _surge_history(ctx, scope, hours, model.weeks)
    keys = pd.MultiIndex.from_frame(cand[["level", "area_id", "category_id"]])
    found = hist.reindex(keys).fillna(0).reset_index(drop=True)
    df = pd.concat([cand.reset_index(drop=True), found], axis=1)
    df = df.assign(d_same=totals["d_same"], d_long=totals["d_long"])
    weeks = min(model.weeks, 4)
    same = df[[f"b{k}" for k in range(1, weeks + 1)]].sum(axis=1) / weeks
    long = np.where(df["d_long"] > 0, df["n_long"] * df["d_same"] / df["d_long"].where(df["d_long"] > 0, 1) / weeks, 0)
    lam = np.maximum(np.maximum(same.to_numpy(dtype=float), long.astype(float)), model.floor)
    p = stats.poisson.sf(df["n"].to_numpy() - 1, lam)
    df = df.assign(expected=lam, usual=same.to_numpy(dtype=float), long_run=long.astype(float), p_value=p)
    alpha, alpha_red = model.alpha, model.alpha_red
    if model.family_alpha is not None:
        cells = _cells(ctx, scope)
        alpha, alpha_red = model.family_alpha / cells, model.family_alpha_red / cells
    flagged = df[(df["n"] >= model.min_count) & (df["p_value"] < alpha)]
    if flagged.empty:
        return []
    names = _area_names(ctx, list(flagged["area_id"]))
    flagged = _drop_explained_grids(flagged, names)
    cats = ctx.reference("ref_categories").set_index("category_id")
    out = []
    order = flagged.sort_values(["p_value", "n", "area_id", "category_id"], ascending=[True, False, True, True])
    for rec in order.itertuples(index=False):
        area = names.get(rec.area_id, {})
        out.append(Warning(
            kind="surge",
            level="red" if rec.p_value < alpha_red else "amber",
            area_id=rec.area_id,
            names={"street": (area.get("street_name") or "", area.get("street_name_en") or ""),
                   "area": (area.get("name") or "", area.get("name_en") or ""),
                   "category": (cats["name"].get(rec.category_id, rec.category_id),
                                cats["name_en"].get(rec.category_id, rec.category_id))},
            evidence={"level": rec.level, "category_id": rec.category_id, "count": int(rec.n),
                      "expected": float(rec.expected), "usual": float(rec.usual), "long_run": float(rec.long_run),
                      "p_value": float(rec.p_value), "alpha": float(alpha),
                      "same_hours_counts": [int(getattr(rec, f"b{k}")) for k in range(1, 5)],
                      "count_28d": int(rec.n_long), "hours": float(hours), "window_start": ws0, "window_end": we0},
            detected_at=ctx.now,
        ))
    return out


def _surge_history(ctx: queries.QueryContext, scope: Scope, hours: float, weeks: int
                   ) -> tuple[pd.DataFrame, pd.Series]:
    """Every cell's history for the surge test, remembered per quarter hour.

    The history ends at the window's start rounded down to the quarter hour (and the same-hours
    windows are those of the window ending at that quarter hour): a few minutes' shift that
    changes no expectation measurably, and lets one grouping pass over 28 days serve every
    request of the quarter hour.
    """
    q = int(BASELINE_QUANTUM.total_seconds())
    qe = pd.Timestamp(ctx.now).floor(f"{q}s").to_pydatetime()
    qs = qe - timedelta(hours=hours)
    params: dict[str, Any] = {"ws0": qs, "lo": qs - timedelta(days=7 * weeks)}
    for k in range(1, 5):
        params.update({f"ws{k}": qs - timedelta(weeks=k), f"we{k}": qe - timedelta(weeks=k)})

    def compute() -> tuple[pd.DataFrame, pd.Series]:
        hist = ctx.run("surge_history", params, scope=scope).set_index(["level", "area_id", "category_id"])
        return hist[["n_long", "b1", "b2", "b3", "b4"]], ctx.run("surge_totals", params, scope=scope).iloc[0]

    return cache.memo(ctx, ("surge_history", scope, qe, float(hours), weeks), compute)


def _cells(ctx: queries.QueryContext, scope: Scope) -> int:
    """How many (area, category) cells a run tests: grids and micro-grids of the scope x its categories."""
    areas = ctx.reference("surge_cells", {}, scope=scope).iloc[0]["n"]
    cats = ctx.reference("ref_categories")
    cats = cats[cats["level"] == 2]
    if scope.categories:
        wanted = set(scope.categories)
        cats = cats[cats["category_id"].isin(wanted) | cats["parent_id"].isin(wanted)]
    return max(int(areas) * len(cats), 1)


def _drop_explained_grids(flagged: pd.DataFrame, names: dict[str, dict[str, str]]) -> pd.DataFrame:
    """Drop a grid flag when flagged micro-grids of that grid and category hold most of its count."""
    levels = flagged["level"].to_numpy(dtype=object)
    if not (levels == "microgrid").any():
        return flagged
    # plain dicts: a handful of flags, where a groupby costs more than the query that found them
    areas, cats = flagged["area_id"].to_numpy(dtype=object), flagged["category_id"].to_numpy(dtype=object)
    counts = flagged["n"].to_numpy()
    explained: dict[tuple[Any, Any], Any] = {}
    for level, area, cat, n in zip(levels, areas, cats, counts, strict=True):
        grid = names.get(area, {}).get("grid_id") if level == "microgrid" else None
        if grid is not None and not pd.isna(grid) and not pd.isna(cat):
            explained[(grid, cat)] = explained.get((grid, cat), 0) + n
    keep = [level != "grid" or explained.get((area, cat), 0) < 0.5 * n
            for level, area, cat, n in zip(levels, areas, cats, counts, strict=True)]
    return flagged[np.array(keep, dtype=bool)]


def _area_names(ctx: queries.QueryContext, ids: list[str]) -> dict[str, dict[str, str]]:
    """Names of the areas, their grid and their street (with its names)."""
    info = ctx.reference("area_parents", {"ids": ids})
    return {r.area_id: {"name": r.name, "name_en": r.name_en, "grid_id": r.grid_id, "street_name": r.street_name,
                        "street_name_en": r.street_name_en} for r in info.itertuples(index=False)}
