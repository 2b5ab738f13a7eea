"""Resources: people, housing, enterprises and assets per area (人、房、企、物), what the command center plans with.

The reference tables hold each thing's current state, so these numbers are "now" whatever the
window: a resident's registration, a unit's rental flag, a camera's status. Per area at one level
(:func:`resources_by_area`) and for the scope as a whole (:func:`resources_now`, the same query at
the scope's own level, so the totals and the rows below add up by construction). Asset rules are
those of the vital signs (``vitals_resources.sql``): :func:`resources_now`'s cameras and staff give
exactly ``cameras_online_pct`` and ``staff_on_duty_pct``. Only the area and the department filter
apply (staff belong to departments; people, housing and enterprises have no category or channel).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from metrics import queries
from metrics.scope import LEVEL_COLUMNS, Scope, check_display_level
from settings import Settings

__all__ = ["COUNT_COLUMNS", "PER_10K", "RESOURCE_COLUMNS", "RESOURCE_TABLES", "assets_status", "resources_by_area",
           "resources_loaded", "resources_now"]

RESOURCE_TABLES = ("people", "housing", "enterprises", "assets")
# The counts of resources_by_area.sql, per area.
COUNT_COLUMNS = ("people", "registered", "floating", "aged_60_plus", "elderly_alone", "disability", "low_income",
                 "key_care", "housing_units", "buildings", "rental_units", "enterprises", "high_risk_enterprises",
                 "employees", "cameras", "cameras_online", "staff", "staff_on_duty", "vehicles", "vehicles_free",
                 "supply_depots", "hydrants", "aeds")
# Counts that read better per 10,000 residents (areas differ in size by a factor of ten).
PER_10K = ("enterprises", "cameras", "staff", "elderly_alone")
RESOURCE_COLUMNS = ("area_id", "name", "name_en", "residents", *COUNT_COLUMNS, "cameras_offline",
                    "cameras_online_pct", "staff_on_duty_pct", "rental_pct", "floating_pct",
                    *(f"{c}_per_10k" for c in PER_10K))
# Which table each count comes from (a table with no rows at all: "not loaded", not zero).
SOURCE = {**{c: "people" for c in COUNT_COLUMNS[:8]}, **{c: "housing" for c in COUNT_COLUMNS[8:11]},
          **{c: "enterprises" for c in COUNT_COLUMNS[11:14]}, **{c: "assets" for c in COUNT_COLUMNS[14:]}}


def resources_loaded(con: duckdb.DuckDBPyConnection, now: datetime, settings: Settings) -> dict[str, int]:
    """Rows of each resource table in the whole warehouse (``0``: never loaded, e.g. LA's cases-only feed)."""
    ctx = queries.prepare(con, now, settings)
    row = ctx.run("resources_loaded").iloc[0]
    return {t: int(row[t]) for t in RESOURCE_TABLES}


def resources_by_area(con: duckdb.DuckDBPyConnection, scope: Scope, level: str, now: datetime,
                      settings: Settings) -> pd.DataFrame:
    """People, housing, enterprises and assets of every area at ``level`` inside ``scope``.

    Args:
        con: a cursor on a snapshot.
        scope: the area (any level); only its department filter applies (to the staff).
        level: a level at or below the scope's own (at its own level: one row, the scope itself).
        now: the as-of time (the tables hold current state; ``now`` sets the zone and the SQL context).
        settings: the deployment's settings.

    Returns:
        Columns :data:`RESOURCE_COLUMNS`, one row per area in id order, zeros for an area without
        any: the counts, ``cameras_offline``, the shares ``cameras_online_pct``,
        ``staff_on_duty_pct``, ``rental_pct`` and ``floating_pct`` (NaN when the denominator is 0)
        and ``<count>_per_10k`` for :data:`PER_10K` (NaN for an area without residents).
    """
    check_display_level(con, scope, level)
    ctx = queries.prepare(con, now, settings)
    column = "area_id" if level == "microgrid" else LEVEL_COLUMNS.get(level, "NULL")
    df = ctx.run("resources_by_area", {"level": level, "self": scope.area_id,
                                       "departments": list(scope.departments)},
                 scope=scope, columns={"area": column})
    return _derive(df)


def resources_now(con: duckdb.DuckDBPyConnection, scope: Scope, now: datetime, settings: Settings) -> dict[str, Any]:
    """The scope's whole totals (one row of :func:`resources_by_area` at the scope's own level) as a dict.

    ``cameras_online_pct`` and ``staff_on_duty_pct`` equal the vital signs' of the same scope
    (``None`` where the vital sign is ``None``: no cameras or no staff).
    """
    ctx = queries.prepare(con, now, settings)
    df = resources_by_area(con, scope, scope.level_in(ctx.con), now, settings)
    if df.empty:
        raise ValueError(f"area {scope.area_id!r} is not in the warehouse")
    row = df.iloc[0].to_dict()
    return {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}


def assets_status(con: duckdb.DuckDBPyConnection, scope: Scope, now: datetime, settings: Settings) -> pd.DataFrame:
    """The scope's assets by kind and status now: columns ``kind, online, busy, offline, total``.

    Staff are narrowed by the scope's department filter; kinds without an asset have no row.
    """
    ctx = queries.prepare(con, now, settings)
    df = ctx.run("assets_status", {"departments": list(scope.departments)}, scope=scope)
    for c in ("online", "busy", "offline", "total"):
        df[c] = df[c].astype("int64")
    return df[["kind", "online", "busy", "offline", "total"]].reset_index(drop=True)


def _derive(df: pd.DataFrame) -> pd.DataFrame:
    """Shares and per-10,000 rates from the counts (pure; NaN where the denominator is 0 or unknown)."""
    out = df.copy()
    for c in COUNT_COLUMNS:
        out[c] = out[c].astype("int64")
    residents = pd.to_numeric(out["residents"], errors="coerce").to_numpy(dtype=float)
    out["cameras_offline"] = out["cameras"] - out["cameras_online"]

    def share(num: str, den: str) -> np.ndarray:
        n, d = out[num].to_numpy(dtype=float), out[den].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(d > 0, 100.0 * n / d, np.nan)

    out["cameras_online_pct"] = share("cameras_online", "cameras")
    out["staff_on_duty_pct"] = share("staff_on_duty", "staff")
    out["rental_pct"] = share("rental_units", "housing_units")
    out["floating_pct"] = share("floating", "people")
    with np.errstate(divide="ignore", invalid="ignore"):
        for c in PER_10K:
            out[f"{c}_per_10k"] = np.where(residents > 0, 10_000 * out[c].to_numpy(dtype=float) / residents, np.nan)
    return out[list(RESOURCE_COLUMNS)].reset_index(drop=True)
