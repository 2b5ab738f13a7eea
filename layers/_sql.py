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


def clustered(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any], scope: Scope,
              cells: int) -> pd.DataFrame:
    """The points of ``layers/sql/<name>.sql`` gathered into cells by ``layers/sql/cluster.sql``.

    The points file (columns ``grp, label, label_en, lon, lat``) becomes the ``pts`` CTE of the cluster file:
    both are our own files, so only their text is joined; values stay bound parameters.

    Args:
        con: a cursor on a snapshot.
        name: the points file without ``.sql``.
        params: its named parameters.
        scope: the scope of its area or scope marker.
        cells: cells along the longer side of the points' extent.

    Returns:
        One row per group and non-empty cell: ``grp, n, lon, lat, label, label_en``.
    """
    points, scope_params = sqlfiles.render(name, scope, folder=SQL_DIR)
    sql = f"WITH pts AS (\n{points}\n)\n{sqlfiles.load_sql('cluster', SQL_DIR)}"
    return con.execute(sql, sqlfiles.used_params(sql, {**scope_params, **params, "cells": int(cells)})).df()
