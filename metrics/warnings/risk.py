"""SLA risk: every open case with the deadline of the stage it waits on and the probability of missing it.

The probability comes from the historical distribution of that stage's duration for its
category and department, conditioned on the time already elapsed:
``P(T > due | T > elapsed) = S(due) / S(elapsed)`` with ``S`` the empirical survival function.
:func:`sla_ticker` gives the same ranking's counts and the rows either side of now. The model and
its measured calibration are in ``docs/metrics.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import numpy as np
import pandas as pd

from data.contract import STAGE_HISTORY_DAYS, stage_history, stage_quantiles_sql
from metrics import cache, queries
from metrics.scope import Scope
from settings import Settings

__all__ = ["HISTORY_DAYS", "LEVEL_ORDER", "LIST_ORDERS", "MIN_HISTORY", "P_AMBER", "P_RED", "RED_MARGIN_S",
           "RISK_COLUMNS", "SlaRiskList", "SlaTicker", "breach_probability", "sla_risk", "sla_risk_list", "sla_ticker"]

# area_id: the case's place, its micro-grid, else grid, else street; area_name(_en): that area's names
RISK_COLUMNS = ("case_id", "stage", "due_at", "seconds_left", "p_breach", "level", "category_id", "category_name",
                "category_name_en", "grid_id", "microgrid_id", "street_id", "area_id", "area_name", "area_name_en",
                "department_id", "department_name", "department_name_en", "received_at", "status")
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
            table = ctx.con.execute(stage_quantiles_sql(), {"hs": hs, "he": he}).df()
        # a (category, department) or category distribution needs MIN_HISTORY cases; a stage's
        # overall distribution is used whatever its size
        keep = (table["n"] >= MIN_HISTORY) | table["category_id"].isna()
        table = table[keep & ~(table["category_id"].isna() & table["department_id"].notna())].reset_index(drop=True)
        rows = [np.asarray(q, dtype=float) for q in table["q"]]
        rows.append(np.full(len(_PROBS), 1e11))  # no history at all: S = 1 until past the deadline
        keys = table[["stage_key", "category_id", "department_id"]].assign(gid=np.arange(len(table), dtype=np.int64))
        return _Quantiles(np.vstack(rows), keys, he)

    return cache.memo(ctx, ("stage_quantiles", he), compute)


def _register_keys(ctx: queries.QueryContext, quant: _Quantiles) -> None:
    """Make the day's quantile keys the temp table ``sla_qkeys`` of this cursor (once per cursor and day)."""
    _qkeys_on = cache.per_cursor("sla_qkeys")
    token = (id(quant), quant.day)
    if _qkeys_on.get(ctx.con) == token:
        return
    ctx.con.register("_sla_qkeys_df", quant.keys)
    try:
        ctx.con.execute("CREATE OR REPLACE TEMP TABLE sla_qkeys AS SELECT * FROM _sla_qkeys_df")
    finally:
        ctx.con.unregister("_sla_qkeys_df")
    _qkeys_on[ctx.con] = token


def sla_risk(con: duckdb.DuckDBPyConnection, scope: Scope, now: datetime, settings: Settings, limit: int = 50,
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
        settings: the deployment's settings (zone, SLA rules, holiday file).
        limit: rows returned (``None`` for all).
        levels: keep only these levels (e.g. ``("red", "amber")`` for the ticker of what can
            still be saved).

    Returns:
        Columns :data:`RISK_COLUMNS`, most urgent first: breached cases first (the most overdue
        first), then by breach probability (highest first) and time left (least first).
    """
    ctx = queries.prepare(con, now, settings)
    if limit is not None and limit > 0 and (levels is None or "breached" in levels):
        head = ctx.run("sla_most_overdue", {"limit": int(limit)}, scope=scope)
        if len(head) == limit and (head["seconds_left"] < 0).all():
            # at least `limit` cases are past their deadline: they are the list, most overdue first
            return _finish(head.assign(p_breach=1.0, level="breached",
                                       stage=head["stage"].map({0: "accept", 1: "dispatch", 2: "close"})), ctx)
    open_ = _open_risk(ctx, scope)
    if open_ is None:
        return _empty_risk(ctx.tz)
    order = _ranked(open_, levels)
    if limit is not None:
        order = order[:limit]
    return _with_details(ctx, open_, order)


def _ranked(risk: _OpenRisk, levels: tuple[str, ...] | None) -> np.ndarray:
    """Positions in ``risk`` of the cases of ``levels`` (``None``: all), in :func:`sla_risk`'s order."""
    keep = np.ones(len(risk.key), dtype=bool) if levels is None else np.isin(
        risk.level, [LEVEL_ORDER[x] for x in levels])
    idx = np.flatnonzero(keep)
    sort_p = np.where(risk.level[idx] == 0, 0.0, -risk.p[idx])
    # last keys first: level, then p (breached: none), then time left; ties by receipt, then key
    return idx[np.lexsort((risk.key[idx], risk.received_us[idx], risk.left[idx], sort_p, risk.level[idx]))]


@dataclass(frozen=True)
class SlaRiskList:
    """A list page's share of the SLA ranking: how many cases per level, and the first rows of one choice.

    Attributes:
        counts: open cases per level asked for (``{"breached": n, "red": n, ...}``).
        rows: at most ``limit`` cases of the chosen level (or of every level asked for) in the chosen
            order, columns :data:`RISK_COLUMNS` plus ``rank`` (the position in :func:`sla_risk`'s
            order over those levels).
    """

    counts: dict[str, int]
    rows: pd.DataFrame


LIST_ORDERS = ("urgent", "newest", "area")


def sla_risk_list(con: duckdb.DuckDBPyConnection, scope: Scope, now: datetime, settings: Settings,
                  levels: tuple[str, ...], level: str | None = None, order: str = "urgent",
                  limit: int = 200) -> SlaRiskList:
    """The counts per level and the first ``limit`` rows of :func:`sla_risk` (``limit=None``, ``levels``) for a list.

    The same ranking, counted from its arrays; details (names, ids) are read only for the rows
    returned. At 10 million cases a district has tens of thousands of flagged cases, and reading
    all their details was most of the warnings page's time.

    Args:
        con: a cursor on a snapshot.
        scope: area and filters.
        now: the as-of time.
        settings: the deployment's settings.
        levels: the levels counted and listed (e.g. breached, red, amber).
        level: list only this one of ``levels`` (``None``: all of them).
        order: ``"urgent"`` (the ranking), ``"newest"`` (latest receipt first) or ``"area"`` (by
            ``area_id``, the case's micro-grid, else grid, else street; the details of every case of
            the level are then read, since the order needs them); ties by rank.
        limit: rows returned at most.
    """
    if order not in LIST_ORDERS:
        raise ValueError(f"order must be one of {LIST_ORDERS}, got {order!r}")
    ctx = queries.prepare(con, now, settings)
    counts = dict.fromkeys(levels, 0)
    open_ = _open_risk(ctx, scope)
    if open_ is None:
        return SlaRiskList(counts, _empty_risk(ctx.tz).assign(rank=pd.Series([], dtype="int64")))
    ranked = _ranked(open_, levels)
    ranked_level = open_.level[ranked]
    for x in levels:
        counts[x] = int((ranked_level == LEVEL_ORDER[x]).sum())
    rank = np.arange(len(ranked)) if level is None else np.flatnonzero(ranked_level == LEVEL_ORDER[level])
    if order == "newest":
        rank = rank[np.lexsort((rank, -open_.received_us[ranked[rank]]))]
    if order != "area":
        rank = rank[:limit]
    rows = _with_details(ctx, open_, ranked[rank]).assign(rank=rank)
    if order == "area":
        area = rows["area_id"].fillna("").to_numpy(dtype=str)
        rows = rows.iloc[np.lexsort((rows["rank"].to_numpy(), area))].head(limit)
    return SlaRiskList(counts, rows.reset_index(drop=True))


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


def sla_ticker(con: duckdb.DuckDBPyConnection, scope: Scope, now: datetime, settings: Settings,
               rows: int = 30) -> SlaTicker:
    """The counts and rows of a timeline around ``now``: the latest breaches and the next deadlines at risk.

    The same ranking as :func:`sla_risk` over every open case, but the details (names, ids) are
    read only for the rows shown: at 10 million cases a district has thousands of cases at risk.
    """
    ctx = queries.prepare(con, now, settings)
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
    arr = ctx.con.execute(*ctx.render("sla_open_stages", {"fallback_gid": len(quant.q) - 1}, scope)).fetchnumpy()
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


def _empty_risk(tz: str) -> pd.DataFrame:
    """No rows, in the :data:`RISK_COLUMNS` layout with their dtypes."""
    df = pd.DataFrame({c: pd.Series([], dtype=object) for c in RISK_COLUMNS})
    for c in ("due_at", "received_at"):
        df[c] = pd.Series([], dtype=f"datetime64[us, {tz}]")
    df["seconds_left"] = pd.Series([], dtype=float)
    df["p_breach"] = pd.Series([], dtype=float)
    return df
