"""Cases received split by one key (category, department, channel or an area level), this window and the last.

What the analyst overview's "top categories" and the briefing's category table read: for every
value of the key, the cases received in the window, in the window before it (the same length,
:attr:`metrics.scope.Window.step` earlier) and how many of the window's cases are still open at its
end. Counted straight from ``events`` with the scope's filters, so a number here equals the cases
table's count for the same filters.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import numpy as np
import pandas as pd

from metrics import queries
from metrics.backlog import BACKLOG_BY, members
from metrics.scope import Scope, Window
from settings import Settings

__all__ = ["received_by"]


def received_by(con: duckdb.DuckDBPyConnection, scope: Scope, window: Window, now: datetime, by: str,
                settings: Settings, limit: int | None = None) -> pd.DataFrame:
    """Cases received in ``window`` per value of ``by``, with the previous window's count.

    Args:
        con: a cursor on a snapshot.
        scope: area and filters.
        window: the window (its end is clipped to ``now``).
        now: the as-of time.
        by: a key of :data:`metrics.backlog.BACKLOG_BY` (``"category"``, ``"category_l1"``,
            ``"department"``, ``"channel"``, ``"street"`` ...).
        settings: the deployment's settings.
        limit: keep the first ``limit`` rows (most cases first); ``None`` keeps every value with cases.

    Returns:
        Columns ``key``, ``name``, ``name_en``, ``cases``, ``previous``, ``change_pct`` (NaN when the
        previous window had none), ``still_open``, ``share_pct`` (of the window's cases); most cases
        first, then by key.
    """
    if by not in BACKLOG_BY:
        raise ValueError(f"by must be one of {sorted(BACKLOG_BY)}, got {by!r}")
    ctx = queries.prepare(con, now, settings)
    end = min(ctx.local(window.end), ctx.now)
    start = min(ctx.local(window.start), end)
    step = window.step
    df = ctx.run("received_by", {"ws": start, "we": end, "pws": start - step, "pwe": end - step},
                 scope=scope, columns={"key": BACKLOG_BY[by]})
    df = df[df["cases"] > 0].copy()
    names = members(ctx, scope, by)
    df = df.merge(names, on="key", how="left")
    df["name"] = df["name"].fillna(df["key"])
    df["name_en"] = df["name_en"].fillna(df["name"])
    total = float(df["cases"].sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        prev = df["previous"].to_numpy(dtype=float)
        df["change_pct"] = np.where(prev > 0, 100.0 * (df["cases"].to_numpy(dtype=float) / prev - 1.0), np.nan)
        df["share_pct"] = 100.0 * df["cases"].to_numpy(dtype=float) / total if total else np.nan
    df = df.sort_values(["cases", "key"], ascending=[False, True], kind="stable")
    if limit is not None:
        df = df.head(limit)
    cols = ["key", "name", "name_en", "cases", "previous", "change_pct", "still_open", "share_pct"]
    return df[cols].astype({"cases": "int64", "previous": "int64", "still_open": "int64"}).reset_index(drop=True)
