"""The web tier's door to the current snapshot (read-only)."""

from __future__ import annotations

from data.snapshot import SnapshotInfo, reader
from data.warehouse import TABLES
from settings import get_settings


def table_counts() -> tuple[dict[str, int], SnapshotInfo]:
    """Rows per table of the current snapshot, and which snapshot it is."""
    r = reader(get_settings())
    cur = r.cursor()
    try:
        sql = " UNION ALL ".join(f"SELECT '{t}' AS t, count(*) AS n FROM {t}" for t in TABLES)
        counts = dict(cur.execute(sql).fetchall())
    finally:
        cur.close()
    return counts, r.info()
