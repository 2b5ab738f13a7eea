"""Opening the warehouse and applying its schema.

The ETL process is the only writer of ``work.duckdb``; everything else reads published snapshots
through :mod:`data.snapshot`. Every connection sets ``TimeZone`` to the deployment's zone so that
local days and hours come out of plain SQL.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from data.marts import MARTS, mart_sql, refresh_repeats

__all__ = ["SCHEMA_DIR", "connect", "apply_schema", "schema_sql", "TABLES"]

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
# Every table of the contract, in dependency order.
TABLES = (
    "areas", "categories", "departments", "channels",
    "events", "people", "housing", "enterprises", "assets",
    "etl_runs", "etl_files", "quarantine",
    "mart_daily_counts", "mart_backlog_daily", "mart_area_stats", "mart_open_cases",
)


def schema_sql() -> str:
    """All DDL files, in file-name order, as one script."""
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(SCHEMA_DIR.glob("*.sql")))


def connect(path: Path | str, timezone: str, read_only: bool = False, threads: int | None = None
            ) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB database with the deployment's time zone set.

    Args:
        path: database file (``":memory:"`` for tests).
        timezone: IANA zone, e.g. ``Asia/Shanghai``.
        read_only: open read-only (the web tier always does).
        threads: DuckDB worker threads (default: DuckDB's own choice).
    """
    config = {"threads": threads} if threads else {}
    if str(path) != ":memory:" and not read_only:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only, config=config)
    # TimeZone cannot go in the connect config: it needs ICU, which loads after the config is read.
    con.execute("SET TimeZone = ?", [timezone])
    return con


def apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table that does not exist yet (idempotent), and bring an older warehouse up to date.

    A warehouse from before ``events.repeat_7d`` gets the column, computed at once. A mart added by
    a newer version to a warehouse that already holds cases is filled at once, so the next
    snapshot published from it is complete without a full rebuild.
    """
    existing = {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND NOT temporary"
    ).fetchall()}
    if "events" in existing and not con.execute(
            "SELECT count(*) FROM duckdb_columns() WHERE database_name = current_database() "
            "AND table_name = 'events' AND column_name = 'repeat_7d'").fetchall()[0][0]:
        con.execute("ALTER TABLE events ADD COLUMN repeat_7d BOOLEAN NOT NULL DEFAULT FALSE")
        refresh_repeats(con)
        con.execute("DROP TABLE IF EXISTS mart_open_cases")  # has the columns of events: made again below
        existing.discard("mart_open_cases")
    con.execute(schema_sql())
    if "events" in existing:
        for mart in MARTS:
            if mart not in existing:
                con.execute(f"INSERT INTO {mart} {mart_sql(mart)}")
