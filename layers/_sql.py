"""Running the layers' SQL files: one query per file under ``layers/sql/``, bound parameters only.

The only text spliced into a query is the scope's area predicate at the ``/*area:a*/`` marker
(built by :meth:`metrics.scope.Scope.area_predicate`, column names and ``$s_area`` only), never a
value.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from metrics.scope import Scope

SQL_DIR = Path(__file__).resolve().parent / "sql"
_AREA_MARKER = "/*area:a*/"


@lru_cache(maxsize=32)
def load_sql(name: str) -> str:
    """The text of ``layers/sql/<name>.sql`` (files do not change while the server runs)."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def run(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None,
        scope: Scope | None = None) -> pd.DataFrame:
    """Run ``layers/sql/<name>.sql`` with named parameters and, if it has one, the scope's area marker.

    Args:
        con: a cursor on a snapshot.
        name: file name without ``.sql``.
        params: named parameters (``$level`` ...).
        scope: the scope whose area predicate replaces ``/*area:a*/`` (alias ``a`` = ``areas``).
    """
    sql = load_sql(name)
    bound = dict(params or {})
    if _AREA_MARKER in sql:
        if scope is None:
            raise ValueError(f"{name}.sql needs a scope")
        pred, p = scope.area_predicate("a", microgrid_column="area_id")
        sql = sql.replace(_AREA_MARKER, f"({pred})")
        bound.update(p)
    return con.execute(sql, bound).fetchdf()
