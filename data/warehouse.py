"""Opening the warehouse and applying its schema.

The ETL process is the only writer of ``work.duckdb``; everything else reads published snapshots
through :mod:`data.snapshot`. Every connection sets ``TimeZone`` to the deployment's zone so that
local days and hours come out of plain SQL.

The read side imports :func:`connect` from here, so this module does not import the write side at
import time: :func:`apply_schema` loads :mod:`data.marts` when it is called.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import duckdb

from data.contract import TABLES

__all__ = ["SCHEMA_DIR", "connect", "apply_schema", "schema_sql", "TABLES"]  # TABLES: from data.contract

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"


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


def apply_schema(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Create every table that does not exist yet (idempotent), and bring an older warehouse up to date.

    Columns a newer version added to an existing table are added (with their default), and what
    derives from them is computed at once: ``events.repeat_7d``, and ``mart_open_cases``, which
    mirrors the columns of ``events``. A mart new to a warehouse that already holds cases is filled.
    Each upgrade is recorded as an ``etl_runs`` row of kind ``upgrade`` (``note`` says what), so
    the next ETL cycle publishes it even when no landing file arrived: readers of the old snapshot
    would miss the new tables and columns.

    Returns:
        What was upgraded, one line each (empty for a new or up-to-date warehouse).
    """
    from data.marts import MARTS, mart_sql, refresh_repeats  # the write side, only when writing (see above)

    existing = {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND NOT temporary"
    ).fetchall()}
    done = _add_missing_columns(con, existing)
    relaxed = _relax_not_null(con, existing)
    if "events.repeat_7d" in done:
        refresh_repeats(con)
    if any(c.startswith("events.") for c in done):
        con.execute("DROP TABLE IF EXISTS mart_open_cases")  # has the columns of events: made again below
        existing.discard("mart_open_cases")
    done = [f"{c} added" for c in done] + [f"{c} may be NULL" for c in relaxed]
    con.execute(schema_sql())
    if "events" in existing:
        for mart in MARTS:
            if mart not in existing:
                con.execute(f"INSERT INTO {mart} {mart_sql(mart)}")
                done.append(f"{mart} added and filled")
    if done:
        con.execute("INSERT INTO etl_runs (run_id, kind, started_at, finished_at, status, note) "
                    "VALUES (nextval('etl_run_seq'), 'upgrade', now(), now(), 'ok', ?)", ["; ".join(done)])
    return done


@lru_cache(maxsize=1)
def _ddl_columns() -> tuple[tuple, ...]:
    """(table, column, type, default, nullable) of every column the DDL defines (read once per process)."""
    ddl = duckdb.connect(":memory:")
    try:
        ddl.execute(schema_sql())
        return tuple(ddl.execute("SELECT table_name, column_name, data_type, column_default, is_nullable "
                                 "FROM information_schema.columns ORDER BY table_name, ordinal_position").fetchall())
    finally:
        ddl.close()


def _relax_not_null(con: duckdb.DuckDBPyConnection, existing: set[str]) -> list[str]:
    """Drop the NOT NULL the DDL no longer has (``areas.residents``, the ancestor columns of ``events``).

    A deployment with fewer than five levels leaves an ancestor column NULL, and a city that publishes no
    residents leaves ``residents`` NULL; a warehouse created before issue 10 still refuses both. Returns
    ``table.column`` of each column changed.
    """
    nullable = {(t, c) for t, c, _, _, n in _ddl_columns() if n == "YES" and t != "mart_open_cases"}
    strict = con.execute("SELECT table_name, column_name FROM duckdb_columns() "
                         "WHERE database_name = current_database() AND NOT is_nullable").fetchall()
    changed = []
    for table, column in strict:
        if table in existing and (table, column) in nullable:
            con.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" DROP NOT NULL')
            changed.append(f"{table}.{column}")
    return changed


def _add_missing_columns(con: duckdb.DuckDBPyConnection, existing: set[str]) -> list[str]:
    """Add to the existing tables the columns the DDL has and they lack; returns ``table.column`` of each."""
    wanted = _ddl_columns()
    have = {(t, c) for t, c in con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = current_database()").fetchall()}
    added = []
    for table, column, dtype, default, nullable in wanted:
        if table == "mart_open_cases":  # mirrors events: made again whenever events gains a column
            continue
        if table in existing and (table, column) not in have:
            sql = f'ALTER TABLE {table} ADD COLUMN "{column}" {dtype}'
            if default is not None:
                sql += f" DEFAULT {default}"
            if nullable == "NO":
                sql += " NOT NULL"
            con.execute(sql)
            added.append(f"{table}.{column}")
    return added
