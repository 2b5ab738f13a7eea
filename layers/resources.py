"""Resources by street: cameras online, staff on duty, vehicles free (物 of 人房企事物).

Not in ``metrics/`` (whose vital signs give district-wide shares only), so the per-street
counts are queried here, from ``layers/sql/resources_by_street.sql``; the pure
:func:`transform` turns them into one row per street plus a total.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from layers import _sql
from metrics.scope import Scope

__all__ = ["COLUMNS", "SUMMARY_COLUMNS", "query", "transform", "TOTAL_ID"]

COLUMNS = ("street_id", "name", "name_en", "kind", "online", "busy", "offline", "total")
SUMMARY_COLUMNS = ("street_id", "name", "name_en", "cameras_online", "cameras", "staff_on_duty", "staff",
                   "vehicles_free", "vehicles")
TOTAL_ID = "*total*"


def query(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Status counts of cameras, staff and vehicles per street of the scope's area.

    Only the area part of the scope applies: assets have no category or channel.
    """
    return _sql.run(con, "resources_by_street", scope=scope)[list(COLUMNS)]


def transform(df: pd.DataFrame) -> pd.DataFrame:
    """One row per street and a last total row (``street_id`` = :data:`TOTAL_ID`).

    Cameras count as online when ``online``; staff are on duty when ``online`` or ``busy`` (busy =
    on a case); vehicles are free only when ``online`` (a busy vehicle is not available).
    """
    if df is None or df.empty:
        return pd.DataFrame(columns=list(SUMMARY_COLUMNS))
    rows = []
    for (street_id, name, name_en), g in df.groupby(["street_id", "name", "name_en"], sort=True):
        k = g.set_index("kind")

        def get(kind: str, col: str, k=k) -> int:
            return int(k.at[kind, col]) if kind in k.index else 0

        rows.append({
            "street_id": street_id, "name": name, "name_en": name_en,
            "cameras_online": get("camera", "online"), "cameras": get("camera", "total"),
            "staff_on_duty": get("staff", "online") + get("staff", "busy"), "staff": get("staff", "total"),
            "vehicles_free": get("vehicle", "online"), "vehicles": get("vehicle", "total"),
        })
    out = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    if len(out) > 1:
        total = out.drop(columns=["street_id", "name", "name_en"]).sum()
        out.loc[len(out)] = {"street_id": TOTAL_ID, "name": "", "name_en": "", **total.to_dict()}
    return out
