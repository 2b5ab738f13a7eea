"""Marts: the small tables the pages read, rebuilt from ``events`` and ``areas``.

Each mart is one SQL file under ``data/sql/`` (``mart_<name>.sql``) that returns the mart's rows;
:func:`refresh_marts` replaces each mart's contents with it inside the caller's transaction.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

__all__ = ["MARTS", "refresh_marts"]

SQL_DIR = Path(__file__).resolve().parent / "sql"
MARTS = ("mart_daily_counts", "mart_backlog_daily", "mart_area_stats")


def refresh_marts(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild every mart from the core tables (one transaction per mart)."""
    for mart in MARTS:
        query = (SQL_DIR / f"{mart}.sql").read_text(encoding="utf-8")
        con.execute("BEGIN")
        try:
            con.execute(f"DELETE FROM {mart}")
            con.execute(f"INSERT INTO {mart} {query}")
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
