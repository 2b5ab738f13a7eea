"""The urgent cases whose closure promise was broken in a window: the briefing's list of breaches.

A breach of the urgent promise (closed within ``sla_urgent_close_hours``, 24 h by default) is an
urgent case whose closure deadline fell inside the window, before the as-of time, and that was
closed after it or is still not closed. Counted by the deadline, as the on-time rates are: the
week's breaches are the deadlines the week missed (``docs/metrics.md``).
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import duckdb
import pandas as pd

from metrics import queries
from metrics.scope import LEVEL_COLUMNS, Scope, Window
from settings import Settings

__all__ = ["Breaches", "urgent_breaches"]


class Breaches(NamedTuple):
    """The most overdue breaches (``rows``) and how many there were in all (``total``)."""

    rows: pd.DataFrame
    total: int


def urgent_breaches(con: duckdb.DuckDBPyConnection, scope: Scope, window: Window, now: datetime, settings: Settings,
                    area_level: str = "grid", limit: int = 30) -> Breaches:
    """Urgent cases whose closure deadline in ``window`` (before ``now``) was missed, most overdue first.

    Args:
        con: a cursor on a snapshot.
        scope: area and filters.
        window: the deadlines' window; its end is clipped to ``now``.
        now: the as-of time: a case not closed by then counts as open.
        settings: the deployment's settings (zone, SLA rules, calendar).
        area_level: the level whose area names the list shows (``"grid"``, or the deployment's finest).
        limit: rows returned (the total is counted over all).

    Returns:
        ``rows`` with ``case_id``, category, area and department ids and names (zh and ``_en``),
        ``received_at``, ``due_at`` and ``closed_at`` (local times; ``closed_at`` empty while open)
        and ``overdue_h`` (hours from the deadline to the closure, or to ``now`` while open);
        ``total`` the number of breaches.
    """
    ctx = queries.prepare(con, now, settings)
    end = min(ctx.local(window.end), ctx.now)
    start = min(ctx.local(window.start), end)
    (ulo, uhi), _ = ctx.close_receipt_ranges(start, end)
    df = ctx.run("urgent_breaches", {"ws": start, "we": end, "ulo": ulo, "uhi": uhi, "limit": int(limit)},
                 scope=scope, columns={"area": LEVEL_COLUMNS.get(area_level, "microgrid_id")})
    total = int(df["n_total"].iloc[0]) if len(df) else 0
    df = df.drop(columns=["n_total"])
    df["due_at"] = pd.to_datetime(df["due_us"], unit="us", utc=True).dt.tz_convert(ctx.tz)
    df = df.drop(columns=["due_us"])
    for col in ("received_at", "closed_at"):
        df[col] = pd.to_datetime(df[col], utc=True).dt.tz_convert(ctx.tz)
    return Breaches(df.reset_index(drop=True), total)
