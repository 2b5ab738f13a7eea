"""The oldest open cases of a scope: the cases behind an area's backlog, oldest first.

What the analyst map's side panel lists under an area's numbers: the cases open at the as-of time
(the same definition as the ``open`` count of :func:`metrics.grids.grid_aggregates` and the vital
signs) that have waited longest, each with its category, department, receipt time and age.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd

from metrics import queries
from metrics.scope import Scope
from settings import Settings

__all__ = ["OPEN_COLUMNS", "oldest_open"]

OPEN_COLUMNS = ("case_id", "category_id", "category_name", "category_name_en", "department_id", "department_name",
                "department_name_en", "received_at", "age_s", "overdue")


def oldest_open(con: duckdb.DuckDBPyConnection, scope: Scope, now: datetime, settings: Settings,
                n: int = 15) -> pd.DataFrame:
    """The ``n`` cases of ``scope`` open at ``now`` that were received first.

    Args:
        con: a cursor on a snapshot.
        scope: area and filters.
        now: the as-of time (timezone-aware).
        settings: the deployment's settings (zone, SLA rules for the overdue flag).
        n: how many cases at most (0 gives an empty frame).

    Returns:
        Columns :data:`OPEN_COLUMNS`, oldest first (ties: smaller case id): ``received_at`` in the
        deployment zone, ``age_s`` seconds from receipt to ``now``, ``overdue`` whether the closure
        deadline has passed at ``now``.
    """
    if n < 0:
        raise ValueError(f"n must be 0 or more, got {n}")
    ctx = queries.prepare(con, now, settings)
    df = ctx.run("cases_oldest_open", {"n": int(n)}, scope=scope)
    received = pd.to_datetime(df["received_at"]).dt.tz_convert(ctx.tz)
    df["received_at"] = received
    df["age_s"] = (pd.Timestamp(ctx.now) - received).dt.total_seconds()
    df["overdue"] = df["overdue"].fillna(False).astype(bool)
    return df[list(OPEN_COLUMNS)].reset_index(drop=True)
