"""What made a warehouse: the ``warehouse_meta`` table (origin, and the case-id prefix a demo minted).

A warehouse built by ``python app.py demo`` says so (``origin = demo``); one loaded by the ETL
from a landing zone has no row, which reads as ``live``. Code that fabricates records (the live
simulator) asks here first, so a real deployment left on default settings is never written to by
anything but its own sources.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from data.snapshot import read_current
from data.warehouse import connect

__all__ = ["ORIGIN", "CASE_ID_PREFIX", "DEMO", "LIVE", "read_meta", "write_meta", "snapshot_meta", "is_demo"]

ORIGIN = "origin"
CASE_ID_PREFIX = "case_id_prefix"
DEMO = "demo"
LIVE = "live"


def read_meta(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The key/value rows of ``warehouse_meta`` (empty for a warehouse older than the table)."""
    has = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                      "AND table_name = 'warehouse_meta'").fetchone()[0]
    if not has:
        return {}
    return dict(con.execute("SELECT key, value FROM warehouse_meta").fetchall())


def write_meta(con: duckdb.DuckDBPyConnection, values: dict[str, str]) -> None:
    """Set keys of ``warehouse_meta`` (a key already there gets the new value)."""
    for key, value in values.items():
        con.execute("INSERT OR REPLACE INTO warehouse_meta (key, value) VALUES (?, ?)", [key, value])


def snapshot_meta(current_file: Path, timezone: str) -> dict[str, str] | None:
    """``warehouse_meta`` of the snapshot ``CURRENT`` names, or None when none is published (or it went away)."""
    info = read_current(current_file)
    if info is None:
        return None
    try:
        con = connect(info.path, timezone, read_only=True)
    except duckdb.Error:  # pruned between reading CURRENT and opening it
        return None
    try:
        return read_meta(con)
    finally:
        con.close()


def is_demo(meta: dict[str, str] | None) -> bool:
    """True when the warehouse was built by the demo (``origin = demo``)."""
    return bool(meta) and meta.get(ORIGIN) == DEMO
