"""Efficiency: departments and streets whose on-time closure rate this week is clearly below their norm.

The norm is the previous 8 weeks; a two-proportion test and a minimum drop decide
(``docs/metrics.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb
import numpy as np
import pandas as pd
from scipy import stats

from metrics import cache, queries
from metrics.scope import LEVELS, Scope
from metrics.warnings.model import Warning
from settings import Settings

__all__ = ["EfficiencyModel", "efficiency_warnings"]


@dataclass(frozen=True)
class EfficiencyModel:
    """Parameters of the efficiency detector.

    Attributes:
        min_judged: closure deadlines this week below which a unit is not judged.
        min_drop: least drop of the on-time rate (fraction, 0.10 = 10 points) worth a warning.
        red_drop: drop from which the warning is red.
        alpha: one-sided p-value of the two-proportion test below which the drop is real.
        norm_weeks: weeks of norm before this week.
    """

    min_judged: int = 30
    min_drop: float = 0.10
    red_drop: float = 0.20
    alpha: float = 0.001
    norm_weeks: int = 8


def efficiency_warnings(con: duckdb.DuckDBPyConnection, scope: Scope, now: datetime, settings: Settings,
                        model: EfficiencyModel | None = None) -> list[Warning]:
    """Departments and streets whose on-time closure rate this week dropped clearly below their norm.

    This week is today up to ``now`` and the 6 days before; the norm the 8 weeks before that.
    For each department and each street inside the scope (one level below a district scope,
    otherwise the scope's own street), the closure deadlines that fell in each period are counted
    with how many were met (past days once a day, today on every call).
    A unit is flagged when it had at least ``model.min_judged`` deadlines this week, its rate
    dropped by at least ``model.min_drop``, and a one-sided two-proportion z-test gives
    ``p < model.alpha``.

    Returns:
        Warnings, the largest drop first.
    """
    model = model or EfficiencyModel()
    ctx = queries.prepare(con, now, settings)
    today = ctx.now.date()
    midnight = datetime(today.year, today.month, today.day, tzinfo=ctx.now.tzinfo)
    d_today = (today - date(1970, 1, 1)).days
    week_days, norm_days = 7, 7 * model.norm_weeks
    first = midnight - timedelta(days=week_days - 1 + norm_days)

    def summarise() -> tuple[dict[tuple[str, str], list[int]], dict[tuple[str, str], list[int]]]:
        """Week-so-far (before today) and norm totals.

        Days before today are over, their deadlines met or not once and for all, so they are
        counted once a day; only today's are read per call.
        """
        days = _on_time(ctx, scope, first, midnight)
        in_week = days["day_no"].to_numpy() > d_today - week_days
        return _unit_totals(days, in_week), _unit_totals(days, ~in_week)

    week_past, norm_all = cache.memo(ctx, ("efficiency_totals", scope, first, midnight, ctx.tables.sla_key),
                                       summarise)
    live = _on_time(ctx, scope, midnight, ctx.now)
    week_all = _unit_totals(live, None, into={k: list(v) for k, v in week_past.items()})
    ws, ns, ne = midnight - timedelta(days=week_days - 1), first, midnight - timedelta(days=week_days - 1)
    we = ctx.now
    kinds = ["department"]
    scope_level = scope.level_in(ctx.con)
    if LEVELS.index(scope_level) <= LEVELS.index("street"):
        kinds.append("street")
    out: list[Warning] = []
    for kind in kinds:
        # the units of this kind with deadlines in both periods (plain arrays: a handful of units,
        # where DataFrame merges cost more than the query)
        units = sorted(u for (k, u) in week_all if k == kind and (k, u) in norm_all)
        if not units:
            continue
        jw = np.array([week_all[(kind, u)][0] for u in units], dtype=float)
        mw = np.array([week_all[(kind, u)][1] for u in units], dtype=float)
        jn = np.array([norm_all[(kind, u)][0] for u in units], dtype=float)
        mn = np.array([norm_all[(kind, u)][1] for u in units], dtype=float)
        keep = (jw >= model.min_judged) & (jn > 0)
        if not keep.any():
            continue
        units = [u for u, k in zip(units, keep, strict=True) if k]
        jw, mw, jn, mn = jw[keep], mw[keep], jn[keep], mn[keep]
        p1 = mw / jw
        p0 = mn / jn
        pooled = (mw + mn) / (jw + jn)
        se = np.sqrt(pooled * (1 - pooled) * (1 / jw + 1 / jn))
        z = np.where(se > 0, (p1 - p0) / np.where(se > 0, se, 1), 0.0)
        pval = stats.norm.cdf(z)
        drop = p0 - p1
        hit = np.flatnonzero((drop >= model.min_drop) & (pval < model.alpha))
        names = _unit_names(ctx, kind, [units[i] for i in hit])
        for i in sorted(hit, key=lambda i: -drop[i]):
            unit = units[i]
            area_id = unit if kind == "street" else scope.area_id
            out.append(Warning(
                kind="efficiency",
                level="red" if drop[i] >= model.red_drop else "amber",
                area_id=area_id,
                names={"unit": names.get(unit, (unit, unit))},
                evidence={"unit_kind": kind, "unit": unit, "judged_week": int(jw[i]),
                          "met_week": int(mw[i]), "judged_norm": int(jn[i]), "met_norm": int(mn[i]),
                          "rate_week": float(p1[i]), "rate_norm": float(p0[i]),
                          "drop": float(drop[i]), "z": float(z[i]), "p_value": float(pval[i]),
                          "week": (ws, we), "norm": (ns, ne)},
                detected_at=ctx.now,
            ))
    out.sort(key=lambda w: -w.evidence["drop"])
    return out


def _unit_totals(days: pd.DataFrame, rows: np.ndarray | None,
                 into: dict[tuple[str, str], list[int]] | None = None) -> dict[tuple[str, str], list[int]]:
    """Deadlines judged and met per (unit_kind, unit).

    Summed over the ``rows`` of an ``on_time_by_unit`` result (all rows when ``None``) and added to
    ``into`` when given (plain dicts: a few dozen units).
    """
    out = into if into is not None else {}
    kinds, units = days["unit_kind"].to_numpy(dtype=object), days["unit"].to_numpy(dtype=object)
    judged, met = days["judged"].to_numpy(dtype="int64"), days["met"].to_numpy(dtype="int64")
    for i in (range(len(days)) if rows is None else np.flatnonzero(rows)):
        if pd.isna(units[i]):  # as a groupby would: a case without a department or street is no unit
            continue
        tot = out.setdefault((kinds[i], units[i]), [0, 0])
        tot[0] += int(judged[i])
        tot[1] += int(met[i])
    return out


def _on_time(ctx: queries.QueryContext, scope: Scope, ws: datetime, we: datetime) -> pd.DataFrame:
    """Closure deadlines falling in ``[ws, we)`` and how many were met, per local day, department and street."""
    (ulo, uhi), (nlo, nhi) = ctx.close_receipt_ranges(ws, we)
    return ctx.run("on_time_by_unit", {"ws": ws, "we": we, "ulo": ulo, "uhi": uhi, "nlo": nlo, "nhi": nhi,
                                       "off_us": ctx.off_us}, scope=scope)


def _unit_names(ctx: queries.QueryContext, kind: str, units: list[str]) -> dict[str, tuple[str, str]]:
    """The (zh, en) names of departments or streets, from the reference tables."""
    if not units:
        return {}
    if kind == "department":
        deps = ctx.reference("ref_departments")
        return {r.department_id: (r.name, r.name_en) for r in deps.itertuples(index=False)}
    info = ctx.reference("area_parents", {"ids": units})
    return {r.area_id: (r.name, r.name_en) for r in info.itertuples(index=False)}
