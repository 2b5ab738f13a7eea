"""Marts: the small tables the pages read, rebuilt from ``events`` and ``areas``; and ``repeat_7d``.

Each mart is one SQL file under ``data/sql/`` (``mart_<name>.sql``) that returns the mart's rows;
:func:`refresh_marts` replaces each mart's contents with it inside the caller's transaction.

The ETL refreshes them after every load. A full rebuild reads every case (seconds at a million
cases), so after a small load :func:`refresh_marts_for_days` recomputes only the local days whose
rows can have changed, from ``mart_<name>_days.sql`` / ``mart_<name>_since.sql``: the same query
restricted to those days (a test checks that both give the same tables).

``events.repeat_7d`` is derived from other cases (an earlier report of the same category in the same
micro-grid within 7 days), so it is set after each load by :func:`refresh_repeats`, before the marts.
Code that writes ``events`` outside the ETL (the demo generator, tests) calls :func:`refresh_all`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from data.contract import STAGE_HISTORY_DAYS, stage_history, stage_quantiles_sql

__all__ = ["MARTS", "refresh_marts", "rebuild_marts", "refresh_marts_for_days", "INCREMENTAL_MAX_DAYS", "mart_sql",
           "rebuild_mart", "refresh_repeats", "refresh_all", "refresh_stage_quantiles", "stage_history",
           "STAGE_HISTORY_DAYS"]  # the last two: re-exported from data.contract (old import path)

SQL_DIR = Path(__file__).resolve().parent / "sql"
MARTS = ("mart_daily_counts", "mart_backlog_daily", "mart_area_stats", "mart_open_cases")
# Above this many changed days an incremental refresh is no cheaper than a rebuild.
INCREMENTAL_MAX_DAYS = 60


def mart_sql(name: str) -> str:
    """The query of ``data/sql/<name>.sql`` (a mart's rows, or a step of refreshing them)."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def refresh_repeats(con: duckdb.DuckDBPyConnection, since: date | datetime | None = None) -> None:
    """Set ``events.repeat_7d`` for the cases received on or after ``since`` (every case when ``None``).

    After a load, ``since`` is the earliest local day any changed case was received on, before or
    after the change: no other flag can change (``data/sql/events_repeats.sql``).
    """
    if since is None:
        since = datetime(1970, 1, 8)  # the epoch plus the 7-day look-back of the query: every case
    con.execute(mart_sql("events_repeats"), {"since": since})


def refresh_all(con: duckdb.DuckDBPyConnection, day: date | None = None, tz: str | None = None) -> None:
    """Recompute every derived column and mart from the core tables (after writing events directly).

    With ``day`` and ``tz``, also the stage-duration quantiles of that local day.
    """
    refresh_repeats(con)
    refresh_marts(con)
    if day is not None and tz is not None:
        refresh_stage_quantiles(con, day, tz, force=True)


def refresh_stage_quantiles(con: duckdb.DuckDBPyConnection, day: date, tz: str, force: bool = False) -> bool:
    """Store the stage-duration quantiles of local ``day`` in ``mart_stage_quantiles`` unless already there.

    Kept: ``day`` and the day before (a reader may still be on yesterday). The history ends at
    the day's midnight, so once stored the rows stand for the whole day, as the per-day memo of
    :func:`metrics.warnings.sla_risk` would (later changes to older cases wait for the next day).
    ``force`` recomputes them (after a full rebuild, the history itself may differ). Returns
    whether anything was computed.
    """
    if not force and con.execute("SELECT count(*) FROM mart_stage_quantiles WHERE day = ?", [day]).fetchall()[0][0]:
        return False
    hs, he = stage_history(day, tz)
    con.execute("DELETE FROM mart_stage_quantiles WHERE day >= ? OR day < ?", [day, day - timedelta(days=1)])
    con.execute(f"INSERT INTO mart_stage_quantiles SELECT CAST($day AS DATE), * FROM ({stage_quantiles_sql()})",
                {"day": day, "hs": hs, "he": he})
    return True


def rebuild_mart(con: duckdb.DuckDBPyConnection, mart: str) -> None:
    """Replace the rows of one mart (one of :data:`MARTS`) with its query's, in the caller's transaction."""
    if mart not in MARTS:
        raise ValueError(f"{mart!r} is not a mart")
    con.execute(f"DELETE FROM {mart}")
    con.execute(f"INSERT INTO {mart} {mart_sql(mart)}")


def refresh_marts(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild every mart from the core tables (one transaction per mart)."""
    for mart in MARTS:
        con.execute("BEGIN")
        try:
            rebuild_mart(con, mart)
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise


def rebuild_marts(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild every mart inside the caller's open transaction (the ETL's one-transaction cycle)."""
    for mart in MARTS:
        rebuild_mart(con, mart)


def refresh_marts_for_days(con: duckdb.DuckDBPyConnection, days: Sequence[date]) -> None:
    """Refresh the marts inside the caller's transaction after cases changed on ``days`` only.

    ``days`` are the local days of the received and closed times of every changed case, before and
    after the change. ``mart_daily_counts`` rows of those days are recomputed; ``mart_backlog_daily``
    from the earliest of them on (a backlog carries forward); ``mart_area_stats`` is rebuilt (one row
    per area, and its 30-day window moves with every new case) and so is ``mart_open_cases`` (a
    few tens of thousands of rows). Falls back to :func:`rebuild_marts` when there are more than
    :data:`INCREMENTAL_MAX_DAYS` days.
    """
    days = sorted(set(days))
    if not days:  # no received or closed day changed, but a stage or status may have
        rebuild_mart(con, "mart_open_cases")
        return
    if len(days) > INCREMENTAL_MAX_DAYS:
        rebuild_marts(con)
        return
    con.execute("CREATE OR REPLACE TEMP TABLE mart_days AS SELECT unnest(?::DATE[]) AS day", [days])
    try:
        since = days[0]
        midnight = con.execute("SELECT ?::DATE::TIMESTAMPTZ", [since]).fetchone()[0]
        con.execute("DELETE FROM mart_daily_counts WHERE day IN (SELECT day FROM mart_days)")
        con.execute(f"INSERT INTO mart_daily_counts {mart_sql('mart_daily_counts_days')}", [midnight])
        _refresh_backlog(con, midnight, since)
        rebuild_mart(con, "mart_area_stats")
        rebuild_mart(con, "mart_open_cases")
    finally:
        con.execute("DROP TABLE IF EXISTS temp.mart_days")


def _refresh_backlog(con: duckdb.DuckDBPyConnection, midnight, since: date) -> None:
    """Replace the backlog rows from ``since`` on.

    The new rows continue from the mart's rows before ``since``; those are kept by the delete, so the
    order (compute, delete, insert) only matters for clarity.
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE mart_backlog_new AS {mart_sql('mart_backlog_daily_since')}",
                [midnight, since])
    try:
        con.execute("DELETE FROM mart_backlog_daily WHERE day >= ?", [since])
        con.execute("INSERT INTO mart_backlog_daily SELECT * FROM mart_backlog_new")
    finally:
        con.execute("DROP TABLE IF EXISTS temp.mart_backlog_new")
