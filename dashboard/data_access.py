"""Small read-side helpers of the web tier that are not metrics (the home page's table counts).

The cursor and "now" come from the app's :class:`dashboard.runtime.Runtime`; this module holds
no state.
"""

from __future__ import annotations

import duckdb

from data.warehouse import TABLES

__all__ = ["table_counts"]


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows per table of the snapshot behind ``con``."""
    # Table names are the warehouse's own constants, not input: only they are pasted into the text.
    sql = " UNION ALL ".join(f"SELECT '{t}' AS t, count(*) AS n FROM {t}" for t in TABLES)
    return dict(con.execute(sql).fetchall())
