"""Early warnings: cases about to miss their promise, surges of reports, departments falling behind.

Three detectors, each documented with its model and measured false-alarm rate in
``docs/metrics.md``:

* :func:`sla_risk` - every open case with the deadline of the stage it waits on and the
  probability of missing it, from the historical distribution of that stage's duration for its
  category and department, conditioned on the time already elapsed:
  ``P(T > due | T > elapsed) = S(due) / S(elapsed)`` with ``S`` the empirical survival function.
  :func:`sla_ticker` gives the same ranking's counts and the rows either side of now.
* :func:`surges` - reports per area and category in the last hours against the same hours of the
  week in the previous 4 weeks, flagged by a Poisson test with a minimum count, its significance
  corrected for the number of cells tested (Bonferroni), so a run over the whole district raises
  a false alarm with probability about 1 % even with 145 000 cells.
* :func:`efficiency_warnings` - departments and streets whose on-time closure rate this week is
  clearly below their norm of the previous 8 weeks (two-proportion test and a minimum drop).

All three take an explicit ``now`` and return data (DataFrames or :class:`Warning` records with
messages in both languages), never markup.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from scipy import stats

from data.marts import STAGE_HISTORY_DAYS, mart_sql, stage_history
from metrics import queries
from metrics.scope import LEVELS, Scope
from metrics.vitals import BASELINE_QUANTUM

__all__ = [
    "LEVEL_ORDER",
    "RISK_COLUMNS",
    "SurgeModel",
    "EfficiencyModel",
    "Warning",
    "breach_probability",
    "efficiency_warnings",
    "SlaTicker",
    "sla_risk",
    "sla_ticker",
    "surges",
]

RISK_COLUMNS = ("case_id", "stage", "due_at", "seconds_left", "p_breach", "level", "category_id", "category_name",
                "category_name_en", "grid_id", "microgrid_id", "street_id", "department_id", "department_name",
                "department_name_en", "received_at", "status")
LEVEL_ORDER = {"breached": 0, "red": 1, "amber": 2, "ok": 3}
# Quantiles per stage distribution: 0 %, 1 %, ..., 100 % (what data/sql/stage_quantiles.sql returns).
_PROBS = np.linspace(0.0, 1.0, 101)
# A distribution needs this many completed stages before it is trusted; otherwise fall back from
# (category, department) to category, then to every case of that stage.
MIN_HISTORY = 30
HISTORY_DAYS = STAGE_HISTORY_DAYS
# Red however likely a breach looks when this little time is left: the last hour of a closure,
# the last 30 s of an acceptance, the last minute of a dispatch.
RED_MARGIN_S = {"accept": 30.0, "dispatch": 60.0, "close": 3600.0}
P_RED, P_AMBER = 0.5, 0.2


@dataclass(frozen=True)
class Warning:  # noqa: A001 - the dashboard's word for it; shadows the builtin only inside this module
    """One early warning, in both languages, with the numbers behind it.

    Attributes:
        kind: ``"sla"``, ``"surge"`` or ``"efficiency"``.
        level: ``"breached"``, ``"red"`` or ``"amber"``.
        area_id: the area it is about (for a department: the scope's area).
        message_zh: one line in Chinese.
        message_en: one line in English.
        evidence: the numbers (counts, expected counts, p-values, rates) and ids behind it.
        detected_at: the as-of time of the detector run.
    """

    kind: str
    level: str
    area_id: str
    message_zh: str
    message_en: str
    evidence: dict = field(default_factory=dict)
    detected_at: datetime | None = None


# ------------------------------------------------------------------------------------------------
# SLA risk
# ------------------------------------------------------------------------------------------------
def breach_probability(quantiles: np.ndarray, elapsed: np.ndarray, due: np.ndarray) -> np.ndarray:
    """``P(T > due | T > elapsed)`` for each row, from its distribution's 101 quantiles of T.

    The survival function ``S(x) = 1 - F(x)`` is read off the quantiles by linear interpolation
    (``F`` rises by 1 % from one quantile to the next). A case already waiting longer than any
    case in the history (``S(elapsed) = 0``) gets probability 1: the data cannot vouch for it. A
    case past its deadline gets 1.

    Args:
        quantiles: shape (n, 101), each row non-decreasing.
        elapsed: seconds already waited, shape (n,).
        due: seconds from receipt to the deadline, shape (n,).
    """
    surv_elapsed = 1.0 - _cdf(quantiles, elapsed)
    surv_due = 1.0 - _cdf(quantiles, due)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(surv_elapsed > 1e-12, surv_due / surv_elapsed, 1.0)
    p = np.where(due <= elapsed, 1.0, p)
    return np.clip(p, 0.0, 1.0)


def _cdf(q: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Row-wise interpolated CDF at ``x`` of distributions given by quantile rows ``q``."""
    n, m = q.shape
    if n == 0:
        return np.empty(0)
    idx = (q <= x[:, None]).sum(axis=1)  # quantiles at or below x
    return _interpolate(q, np.arange(n), idx, x)


def _interpolate(q: np.ndarray, rows: np.ndarray, idx: np.ndarray, x: np.ndarray) -> np.ndarray:
    """CDF at ``x`` given, per value, its quantile row and how many of the row's quantiles are <= x."""
    m = q.shape[1]
    below = np.clip(idx - 1, 0, m - 1)
    above = np.clip(idx, 0, m - 1)
    lo, hi = q[rows, below], q[rows, above]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(hi > lo, (x - lo) / (hi - lo), 0.0)
    cdf = (below + np.clip(frac, 0.0, 1.0)) / (m - 1)
    cdf = np.where(idx == 0, 0.0, cdf)
    return np.where(idx >= m, 1.0, cdf)


def _grouped_breach_probability(q: np.ndarray, gid: np.ndarray, elapsed: np.ndarray, due: np.ndarray) -> np.ndarray:
    """:func:`breach_probability` for many cases sharing few distributions (rows of ``q`` by ``gid``).

    All groups' quantiles go into one sorted array (group g's values offset by g times a span
    larger than any duration), so one ``searchsorted`` finds every case's position in its own
    distribution: tens of thousands of open cases cost a millisecond.
    """
    span = 1e12  # seconds: far beyond any duration (the no-history row holds 1e11)
    flat = (q + span * np.arange(len(q))[:, None]).ravel()
    both = np.concatenate([elapsed, due])
    gid2 = np.concatenate([gid, gid])
    keys = np.minimum(both, span / 2) + span * gid2
    order = np.argsort(keys, kind="stable")  # sorted queries: three times faster than scattered ones
    pos = np.empty(len(keys), dtype=np.int64)
    pos[order] = np.searchsorted(flat, keys[order], side="right")
    cdf = _interpolate(q, gid2, pos - gid2 * q.shape[1], both)
    surv_elapsed, surv_due = 1.0 - cdf[: len(elapsed)], 1.0 - cdf[len(elapsed):]
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(surv_elapsed > 1e-12, surv_due / surv_elapsed, 1.0)
    p = np.where(due <= elapsed, 1.0, p)
    return np.clip(p, 0.0, 1.0)


@dataclass(frozen=True)
class _Quantiles:
    """The day's stage-duration distributions: a matrix of quantile rows and the keys that select them."""

    q: np.ndarray  # (groups + 1, 101); the last row is the "no history" fallback (S = 1)
    keys: pd.DataFrame  # stage_key, category_id, department_id (NULL = any), gid
    day: datetime


def _quantiles(ctx: queries.QueryContext) -> _Quantiles:
    """Stage-duration quantiles over the stages completed in the 28 days before today.

    The ETL stores them once a day (``mart_stage_quantiles``, from ``data/sql/stage_quantiles.sql``);
    they are computed here only for a day it has not stored (an "as of" in the past, a warehouse
    not loaded since midnight). Either way they are remembered per warehouse and day: the history
    ends at local midnight, so it is the same for every request of the day (sorting the 2 million
    stages behind it at 10 million cases takes 0.85 s).
    """
    today = ctx.now.date()
    hs, he = stage_history(today, ctx.tz)

    def compute() -> _Quantiles:
        try:
            table = ctx.con.execute("SELECT stage_key, category_id, department_id, n, q FROM mart_stage_quantiles "
                                    "WHERE day = ?", [today]).df()
        except duckdb.CatalogException:  # a snapshot from before the mart existed
            table = pd.DataFrame()
        if table.empty:
            table = ctx.con.execute(mart_sql("stage_quantiles"), {"hs": hs, "he": he}).df()
        # a (category, department) or category distribution needs MIN_HISTORY cases; a stage's
        # overall distribution is used whatever its size
        keep = (table["n"] >= MIN_HISTORY) | table["category_id"].isna()
        table = table[keep & ~(table["category_id"].isna() & table["department_id"].notna())].reset_index(drop=True)
        rows = [np.asarray(q, dtype=float) for q in table["q"]]
        rows.append(np.full(len(_PROBS), 1e11))  # no history at all: S = 1 until past the deadline
        keys = table[["stage_key", "category_id", "department_id"]].assign(gid=np.arange(len(table), dtype=np.int64))
        return _Quantiles(np.vstack(rows), keys, he)

    return queries.memo(ctx, ("stage_quantiles", he), compute)


_qkeys_on: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _register_keys(ctx: queries.QueryContext, quant: _Quantiles) -> None:
    """Make the day's quantile keys the temp table ``sla_qkeys`` of this cursor (once per cursor and day)."""
    token = (id(quant), quant.day)
    if _qkeys_on.get(ctx.con) == token:
        return
    ctx.con.register("_sla_qkeys_df", quant.keys)
    try:
        ctx.con.execute("CREATE OR REPLACE TEMP TABLE sla_qkeys AS SELECT * FROM _sla_qkeys_df")
    finally:
        ctx.con.unregister("_sla_qkeys_df")
    _qkeys_on[ctx.con] = token


def sla_risk(con: duckdb.DuckDBPyConnection, scope: Scope, now: datetime, settings: Any = None, limit: int = 50,
             levels: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Open cases ranked by how urgently they need attention, with their breach probability.

    Each open case waits on one stage: acceptance until accepted, then dispatch (when a crew is
    needed) until dispatched, then closure. Its breach probability is
    ``S(due) / S(elapsed)``, ``S`` the survival function of that stage's duration over the last
    28 days of completed stages of the same category and department (at least
    :data:`MIN_HISTORY` of them; else the category's, else every case's), closure split by
    urgency. Levels: ``breached`` (past the deadline), ``red`` (p >= 0.5, or less than an hour
    left to close / 30 s to accept / a minute to dispatch), ``amber`` (p >= 0.2), ``ok``.

    Args:
        con: a cursor on a snapshot.
        scope: area and filters.
        now: the as-of time.
        settings: deployment settings; default the process-wide ones.
        limit: rows returned (``None`` for all).
        levels: keep only these levels (e.g. ``("red", "amber")`` for the ticker of what can
            still be saved).

    Returns:
        Columns :data:`RISK_COLUMNS`, most urgent first: breached cases first (the most overdue
        first), then by breach probability (highest first) and time left (least first).
    """
    ctx = queries.prepare(con, now, _settings(settings))
    if limit is not None and limit > 0 and (levels is None or "breached" in levels):
        head = ctx.run("sla_most_overdue", {"limit": int(limit)}, scope=scope)
        if len(head) == limit and (head["seconds_left"] < 0).all():
            # at least `limit` cases are past their deadline: they are the list, most overdue first
            return _finish(head.assign(p_breach=1.0, level="breached",
                                       stage=head["stage"].map({0: "accept", 1: "dispatch", 2: "close"})), ctx)
    open_ = _open_risk(ctx, scope)
    if open_ is None:
        return _empty_risk(ctx.tz)
    keep = np.ones(len(open_.key), dtype=bool) if levels is None else np.isin(
        open_.level, [LEVEL_ORDER[x] for x in levels])
    idx = np.flatnonzero(keep)
    sort_p = np.where(open_.level[idx] == 0, 0.0, -open_.p[idx])
    # last keys first: level, then p (breached: none), then time left; ties by receipt, then key
    order = idx[np.lexsort((open_.key[idx], open_.received_us[idx], open_.left[idx], sort_p, open_.level[idx]))]
    if limit is not None:
        order = order[:limit]
    return _with_details(ctx, open_, order)


@dataclass(frozen=True)
class SlaTicker:
    """What an SLA ticker shows: how many cases are breached and due soon, and the rows either side of now.

    Attributes:
        breached: open cases past the deadline of the stage they wait on.
        due_soon: open cases not yet breached at level ``red`` or ``amber``.
        latest_breaches: the most recently breached cases (the least overdue first), columns
            :data:`RISK_COLUMNS`, at most ``rows``.
        next_due: the ``red`` and ``amber`` cases with the least time left, soonest first.
    """

    breached: int
    due_soon: int
    latest_breaches: pd.DataFrame
    next_due: pd.DataFrame


def sla_ticker(con: duckdb.DuckDBPyConnection, scope: Scope, now: datetime, settings: Any = None,
               rows: int = 30) -> SlaTicker:
    """The counts and rows of a timeline around ``now``: the latest breaches and the next deadlines at risk.

    The same ranking as :func:`sla_risk` over every open case, but the details (names, ids) are
    read only for the rows shown: at 10 million cases a district has thousands of cases at risk.
    """
    ctx = queries.prepare(con, now, _settings(settings))
    open_ = _open_risk(ctx, scope)
    if open_ is None:
        empty = _empty_risk(ctx.tz)
        return SlaTicker(0, 0, empty, empty.copy())
    late = np.flatnonzero(open_.level == 0)
    soon = np.flatnonzero((open_.level == 1) | (open_.level == 2))
    # most recently breached: the largest (least negative) time left; ties by receipt, then key
    late_order = late[np.lexsort((open_.key[late], open_.received_us[late], -open_.left[late]))][:rows]
    soon_order = soon[np.lexsort((open_.key[soon], open_.received_us[soon], open_.left[soon]))][:rows]
    both = _with_details(ctx, open_, np.concatenate([late_order, soon_order]))
    return SlaTicker(len(late), len(soon), both.iloc[:len(late_order)].reset_index(drop=True),
                     both.iloc[len(late_order):].reset_index(drop=True))


@dataclass(frozen=True)
class _OpenRisk:
    """Every open case's stage, deadline, breach probability and level, as aligned arrays."""

    key: np.ndarray  # 64-bit hash of case_id
    received_us: np.ndarray
    stage: np.ndarray  # 0 accept, 1 dispatch, 2 close
    due: np.ndarray  # deadline, seconds after receipt
    left: np.ndarray  # seconds left (negative: overdue)
    p: np.ndarray  # breach probability (1 when breached)
    level: np.ndarray  # LEVEL_ORDER values


def _open_risk(ctx: queries.QueryContext, scope: Scope) -> _OpenRisk | None:
    """Every case open at ``ctx.now`` in ``scope`` with its risk (``sla_open_stages.sql``); ``None`` when none is."""
    quant = _quantiles(ctx)
    _register_keys(ctx, quant)
    arr = ctx.con.execute(*_rendered(ctx, "sla_open_stages", {"fallback_gid": len(quant.q) - 1}, scope)).fetchnumpy()
    if len(arr["key"]) == 0:
        return None
    stage = np.asarray(arr["stage"], dtype=np.int64)
    elapsed = np.asarray(arr["elapsed_s"], dtype=float)
    due = np.asarray(arr["due_s"], dtype=float)
    left = np.asarray(arr["seconds_left"], dtype=float)
    gid = np.asarray(arr["gid"], dtype=np.int64)
    breached = left < 0
    p = np.ones(len(left))
    live = ~breached
    p[live] = _grouped_breach_probability(quant.q, gid[live], elapsed[live], due[live])
    margin = np.array([RED_MARGIN_S["accept"], RED_MARGIN_S["dispatch"], RED_MARGIN_S["close"]])[stage]
    level = np.select([breached, (p >= P_RED) | (left < margin), p >= P_AMBER], [0, 1, 2], 3)
    return _OpenRisk(np.asarray(arr["key"], dtype=np.int64), np.asarray(arr["received_us"], dtype=np.int64),
                     stage, due, left, p, level)


def _with_details(ctx: queries.QueryContext, risk: _OpenRisk, order: np.ndarray) -> pd.DataFrame:
    """The cases at positions ``order`` of ``risk``, in that order, with their details (:data:`RISK_COLUMNS`)."""
    if len(order) == 0:
        return _empty_risk(ctx.tz)
    details = ctx.run("sla_case_details", {"keys": risk.key[order].tolist(),
                                           "received": risk.received_us[order].tolist()})
    names = {0: "breached", 1: "red", 2: "amber", 3: "ok"}
    ranked = pd.DataFrame({
        "key": risk.key[order],
        "stage": np.array(["accept", "dispatch", "close"], dtype=object)[risk.stage[order]],
        "due_at": pd.to_datetime(risk.received_us[order] + np.round(risk.due[order] * 1e6).astype(np.int64),
                                 unit="us", utc=True).tz_convert(ctx.tz),
        "seconds_left": risk.left[order],
        "p_breach": risk.p[order],
        "level": [names[x] for x in risk.level[order]],
    })
    out = ranked.merge(details.drop_duplicates("key"), on="key", how="left")
    return _finish(out, ctx)


def _finish(df: pd.DataFrame, ctx: queries.QueryContext) -> pd.DataFrame:
    """The ranked cases in the :data:`RISK_COLUMNS` layout, times in the deployment zone."""
    out = df.copy()
    if "due_at" not in out:
        due_us = out["received_us"].astype(np.int64) + np.round(out["due_s"].astype(float) * 1e6).astype(np.int64)
        out["due_at"] = pd.to_datetime(due_us, unit="us", utc=True).dt.tz_convert(ctx.tz)
    out["received_at"] = pd.to_datetime(out["received_at"]).dt.tz_convert(ctx.tz)
    return out[list(RISK_COLUMNS)].reset_index(drop=True)


def _rendered(ctx: queries.QueryContext, name: str, params: dict[str, Any], scope: Scope) -> tuple[str, dict]:
    """The SQL and bound parameters of ``name`` for a raw ``execute`` (when a DataFrame is not wanted)."""
    sql, scope_params = queries.render(name, scope, district_id=ctx.facts.district_id)
    bound = {"now": ctx.now, **params, **scope_params}
    return sql, {k: v for k, v in bound.items() if f"${k}" in sql}


def _empty_risk(tz: str) -> pd.DataFrame:
    df = pd.DataFrame({c: pd.Series([], dtype=object) for c in RISK_COLUMNS})
    for c in ("due_at", "received_at"):
        df[c] = pd.Series([], dtype=f"datetime64[us, {tz}]")
    df["seconds_left"] = pd.Series([], dtype=float)
    df["p_breach"] = pd.Series([], dtype=float)
    return df


# ------------------------------------------------------------------------------------------------
# Surges
# ------------------------------------------------------------------------------------------------
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


def surges(con: duckdb.DuckDBPyConnection, scope: Scope, now: datetime, hours: float = 6, settings: Any = None,
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
        hours: window length.
        settings: deployment settings; default the process-wide ones.
        model: detector parameters.

    Returns:
        Warnings, the most significant first.
    """
    model = model or SurgeModel()
    ctx = queries.prepare(con, now, _settings(settings))
    ws0, we0 = ctx.now - timedelta(hours=hours), ctx.now
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
    for rec in flagged.sort_values(["p_value", "n", "area_id", "category_id"], ascending=[True, False, True, True]).itertuples(index=False):
        area = names.get(rec.area_id, {})
        cat_zh = cats["name"].get(rec.category_id, rec.category_id)
        cat_en = cats["name_en"].get(rec.category_id, rec.category_id)
        where_zh = " ".join(x for x in (area.get("street_name"), area.get("name")) if x)
        where_en = " ".join(x for x in (area.get("street_name_en"), area.get("name_en")) if x)
        usual_zh, usual_en = _usual(rec.usual)
        h = f"{hours:g}"
        out.append(Warning(
            kind="surge",
            level="red" if rec.p_value < alpha_red else "amber",
            area_id=rec.area_id,
            message_zh=f"{where_zh} {cat_zh}：{h} 小时内 {rec.n} 件，{usual_zh}",
            message_en=f"{where_en} {_lower_first(cat_en)}: {rec.n} reports in {h} h, {usual_en}",
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

    return queries.memo(ctx, ("surge_history", scope, qe, float(hours), weeks), compute)


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


def _usual(usual: float) -> tuple[str, str]:
    """"通常 2 件" / "usually 2"; below one report a window: "通常不到 1 件" / "usually fewer than 1"."""
    if usual < 1:
        return "通常不到 1 件", "usually fewer than 1"
    n = f"{usual:.0f}" if usual >= 1.5 or abs(usual - round(usual)) < 0.05 else f"{usual:.1f}"
    return f"通常 {n} 件", f"usually {n}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text


# ------------------------------------------------------------------------------------------------
# Efficiency
# ------------------------------------------------------------------------------------------------
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


def efficiency_warnings(con: duckdb.DuckDBPyConnection, scope: Scope, now: datetime, settings: Any = None,
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
    ctx = queries.prepare(con, now, _settings(settings))
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

    week_past, norm_all = queries.memo(ctx, ("efficiency_totals", scope, first, midnight, ctx.tables.sla_key),
                                       summarise)
    live = _on_time(ctx, scope, midnight, ctx.now)
    week_all = _unit_totals(live, None, into={k: list(v) for k, v in week_past.items()})
    ws, ns, ne = midnight - timedelta(days=week_days - 1), first, midnight - timedelta(days=week_days - 1)
    we = ctx.now
    kinds = ["department"]
    scope_level = scope.area_level or "district"
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
            zh, en = names.get(unit, (unit, unit))
            area_id = unit if kind == "street" else scope.area_id
            out.append(Warning(
                kind="efficiency",
                level="red" if drop[i] >= model.red_drop else "amber",
                area_id=area_id,
                message_zh=f"{zh} 本周按时办结率 {p1[i]:.0%}，常态 {p0[i]:.0%}",
                message_en=f"{en} on-time closure this week {p1[i]:.0%}, usually {p0[i]:.0%}",
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
    if not units:
        return {}
    if kind == "department":
        deps = ctx.reference("ref_departments")
        return {r.department_id: (r.name, r.name_en) for r in deps.itertuples(index=False)}
    info = ctx.reference("area_parents", {"ids": units})
    return {r.area_id: (r.name, r.name_en) for r in info.itertuples(index=False)}


def _settings(settings: Any) -> Any:
    if settings is not None:
        return settings
    from settings import get_settings

    return get_settings()
