"""Freshness: how old the numbers on screen are, and whether to say "data is stale".

The ETL publishes a snapshot after every good cycle (every ``etl_interval_seconds``). A snapshot
older than ``stale_after_cycles`` cycles means cycles are failing or not running, and the wall
must say so rather than show yesterday's pulse as today's. The calendar notice (deadlines resting
on the Monday-Friday fallback for a year without statutory data) travels with it, because both
are "how far can you trust these numbers" messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from data.contract import SnapshotInfo, read_last_run
from metrics import sqlfiles
from metrics.calendar import calendar_notice, default_calendar
from settings import Settings

__all__ = ["Freshness", "freshness"]


@dataclass(frozen=True)
class Freshness:
    """How fresh the current snapshot is.

    Attributes:
        published_at: when the snapshot was published (UTC).
        age_s: seconds from publication to ``now``.
        stale: older than ``stale_after_cycles`` ETL cycles, or the last ETL run failed.
        last_run_status: ``"ok"``, ``"failed"``, ``"running"`` or ``None`` when unknown.
        last_run_error: the failed run's error message.
        calendar_notice_zh: the working-day fallback notice in Chinese, ``None`` when not needed.
        calendar_notice_en: the same in English.
    """

    published_at: datetime
    age_s: float
    stale: bool
    last_run_status: str | None
    last_run_error: str | None
    calendar_notice_zh: str | None
    calendar_notice_en: str | None


def freshness(con: duckdb.DuckDBPyConnection, info: SnapshotInfo, now: datetime, settings: Settings) -> Freshness:
    """The freshness of the snapshot ``info`` as of ``now``.

    The last ETL run is the newer of the snapshot's own ``etl_runs`` row and the
    ``LAST_RUN.json`` file beside ``CURRENT`` (when the ETL writes one). The calendar notice
    covers the last 30 days and the next 14 (where open cases' deadlines fall).

    Args:
        con: a cursor on the snapshot ``info`` names.
        info: the snapshot (``SnapshotReader.info()``).
        now: the as-of time (timezone-aware).
        settings: deployment settings (``etl_interval_seconds``, ``stale_after_cycles``, zone).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    # age of the data as last confirmed: publication, or a later ETL cycle that found nothing new
    age = (now - getattr(info, "fresh_at", info.published_at)).total_seconds()
    status, error, run_id = _last_run(con)
    # LAST_RUN.json: a failed cycle publishes no snapshot, so the snapshot's own etl_runs cannot know of it
    side = read_last_run(Path(settings.warehouse_dir))
    if side is not None and (run_id is None or (side.run_id or 0) >= run_id):
        status, error = side.status, side.error
    limit = settings.stale_after_cycles * settings.etl_interval_seconds
    stale = age > limit or status == "failed"
    local_today = pd.Timestamp(now).tz_convert(settings.timezone).date()
    notice = calendar_notice(default_calendar(settings), local_today - timedelta(days=30),
                             local_today + timedelta(days=14))
    return Freshness(
        published_at=info.published_at, age_s=age, stale=stale, last_run_status=status, last_run_error=error,
        calendar_notice_zh=notice.zh if notice else None, calendar_notice_en=notice.en if notice else None,
    )


def _last_run(con: duckdb.DuckDBPyConnection) -> tuple[str | None, str | None, int | None]:
    """Status, error and id of the latest run recorded in the snapshot."""
    df = sqlfiles.run(con, "last_etl_run")
    if df.empty:
        return None, None, None
    row = df.iloc[0]
    error = None if pd.isna(row["error"]) else str(row["error"])
    return str(row["status"]), error, int(row["run_id"])
