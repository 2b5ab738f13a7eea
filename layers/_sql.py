"""The layers' SQL files (``layers/sql/``), run by the one renderer of :mod:`metrics.sqlfiles`.

Markers and parameters follow the metric SQL's rules: the only text spliced in is the scope's area
predicate at ``/*area:a*/`` (column names and ``$s_*`` parameters), never a value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from metrics import sqlfiles
from metrics.scope import Scope

SQL_DIR = Path(__file__).resolve().parent / "sql"


def run(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None,
        scope: Scope | None = None) -> pd.DataFrame:
    """Run ``layers/sql/<name>.sql`` with named parameters and, if it has one, the scope's area marker.

    Args:
        con: a cursor on a snapshot.
        name: file name without ``.sql``.
        params: named parameters (``$level`` ...).
        scope: the scope whose area predicate replaces ``/*area:a*/`` (alias ``a`` = ``areas``).

    Raises:
        ValueError: the file has an area marker and no scope was given.
    """
    return sqlfiles.run(con, name, params, scope, folder=SQL_DIR)
