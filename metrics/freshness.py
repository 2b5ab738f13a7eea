"""Freshness: how old the numbers on screen are, and whether to say "data is stale".

The ETL publishes a snapshot after every good cycle (every ``etl_interval_seconds``). A snapshot
older than ``stale_after_cycles`` cycles means cycles are failing or not running, and the wall
must say so rather than show yesterday's pulse as today's. The calendar notice (deadlines resting
on the Monday-Friday fallback for a year without statutory data) travels with it, because both
are "how far can you trust these numbers" messages.

Historical data is not stale data: a dataset whose newest case is more than
:data:`HISTORICAL_AFTER` older than the wall clock (an export of 2020, a city's archive) is shown
as of that newest case (:func:`newest_case`, :func:`historical_as_of`; the web tier's clock
follows it) with a "data as of ..., historical" banner instead of the stale-data warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from data.contract import SnapshotInfo, read_last_run, read_store_status
from metrics import sqlfiles
from metrics.calendar import calendar_notice, default_calendar
from settings import Settings

__all__ = ["HISTORICAL_AFTER", "Freshness", "freshness", "historical_as_of", "newest_case"]

# A snapshot whose newest case is older than this (by the wall clock) is historical. A live
# deployment receives cases every few minutes, and a quiet night is hours, never a whole day.
HISTORICAL_AFTER = timedelta(days=1)


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
        historical_as_of: the newest case's time when the data is historical (shown as of that
            moment, never "stale"), else ``None``.
        store_unreachable_since: with an object store (issue 14), since when this host has failed to
            reach it (it keeps serving its last snapshot, which turns stale by age), else ``None``.
        store_error: the object store's last failure on this host (unreachable, or a snapshot that
            failed its check), else ``None``.
    """

    published_at: datetime
    age_s: float
    stale: bool
    last_run_status: str | None
    last_run_error: str | None
    calendar_notice_zh: str | None
    calendar_notice_en: str | None
    historical_as_of: datetime | None = None
    store_unreachable_since: datetime | None = None
    store_error: str | None = None


def newest_case(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The receipt time of the snapshot's newest case (``newest_case.sql``), ``None`` without cases."""
    value = sqlfiles.run(con, "newest_case").iloc[0]["newest"]
    return None if pd.isna(value) else pd.Timestamp(value).to_pydatetime()


def historical_as_of(newest: datetime | None, wall: datetime) -> datetime | None:
    """``newest`` when the data is historical by the wall clock ``wall`` (see :data:`HISTORICAL_AFTER`), else ``None``."""
    if newest is None or wall - newest <= HISTORICAL_AFTER:
        return None
    return newest


def freshness(con: duckdb.DuckDBPyConnection, info: SnapshotInfo, now: datetime, settings: Settings,
              historical: datetime | None = None) -> Freshness:
    """The freshness of the snapshot ``info`` as of ``now``.

    The last ETL run is the newer of the snapshot's own ``etl_runs`` row and the
    ``LAST_RUN.json`` file beside ``CURRENT`` (when the ETL writes one). The calendar notice
    covers the last 30 days and the next 14 (where open cases' deadlines fall).

    Args:
        con: a cursor on the snapshot ``info`` names.
        info: the snapshot (``SnapshotReader.info()``).
        now: the as-of time (timezone-aware).
        settings: deployment settings (``etl_interval_seconds``, ``stale_after_cycles``, zone).
        historical: the newest case's time when the web tier shows historical data as of it
            (``Runtime.historical``); the data is then never stale by age (only a failed ETL
            run is reported).
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
    stale = (age > limit and historical is None) or status == "failed"
    local_today = pd.Timestamp(now).tz_convert(settings.timezone).date()
    notice = calendar_notice(default_calendar(settings), local_today - timedelta(days=30),
                             local_today + timedelta(days=14))
    store = read_store_status(Path(settings.warehouse_dir)) if settings.object_store_url else None
    store_failing = store is not None and not store.ok
    return Freshness(
        published_at=info.published_at, age_s=age, stale=stale, last_run_status=status, last_run_error=error,
        calendar_notice_zh=notice.zh if notice else None, calendar_notice_en=notice.en if notice else None,
        historical_as_of=historical, store_unreachable_since=store.unreachable_since if store_failing else None,
        store_error=store.error if store_failing else None,
    )


def _last_run(con: duckdb.DuckDBPyConnection) -> tuple[str | None, str | None, int | None]:
    """Status, error and id of the latest run recorded in the snapshot."""
    df = sqlfiles.run(con, "last_etl_run")
    if df.empty:
        return None, None, None
    row = df.iloc[0]
    error = None if pd.isna(row["error"]) else str(row["error"])
    return str(row["status"]), error, int(row["run_id"])
