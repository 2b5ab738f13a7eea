"""SQL rendering: the ``.sql`` files of ``metrics/`` and ``layers/``, their markers and bound parameters.

Every query is one ``.sql`` file with named parameters (``$now``, ``$start`` ...). The one
renderer here serves both folders (``metrics/sql`` by default, ``layers/sql`` with
``folder=``). Text spliced in comes from a fixed vocabulary and never carries a value:

* scope markers: ``/*scope:e*/`` becomes the :class:`~metrics.scope.Scope` predicate over the
  events alias ``e`` (area and filters), ``/*area_events:e*/`` only its area part over events,
  and ``/*area:a*/`` its area part over an ``areas`` alias (whose micro-grid id is ``area_id``);
  their values are bound as ``$s_*`` parameters;
* identifiers from a whitelist (an area level's column), through ``columns=``;
* ``/*or_ranges:COL:LO:HI*/``: ``slots`` half-open ranges over bound parameters ``$LO0, $HI0 ...``.

A parameter is bound only when the rendered text uses it, matched by its whole name
(:func:`used_params`): ``$s_area`` is not "used" by a query that only says ``$s_area2``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from metrics.scope import Scope

__all__ = ["SQL_DIR", "load_sql", "render", "run", "used_params"]

SQL_DIR = Path(__file__).resolve().parent / "sql"
# Identifiers a query may have spliced in through ``columns=`` (never values).
# "NULL" groups every row together (the district level, which has no column of its own).
_IDENTIFIERS = frozenset({"street_id", "community_id", "grid_id", "microgrid_id", "area_id", "category_id",
                          "category_l1", "department_id", "channel", "NULL"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
# A ``$name`` parameter reference: the name runs to the first character that cannot continue it.
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_MARKER_KINDS = ("/*scope:", "/*area", "/*col:", "/*or_ranges:")


@lru_cache(maxsize=128)
def load_sql(name: str, folder: Path = SQL_DIR) -> str:
    """The text of ``<folder>/<name>.sql`` (cached: the files do not change while running)."""
    return (folder / f"{name}.sql").read_text(encoding="utf-8")


def apply_flags(sql: str, flags: dict[str, bool] | None) -> str:
    """Keep or drop the optional blocks ``/*if:NAME*/ ... /*fi:NAME*/`` of ``sql``.

    A block whose flag is false is removed with its markers; any other block (flag true or not
    given) keeps its text. Used for SQL a snapshot does not need (the ``due_at`` branches when no
    case has its own deadline): correct either way, only cheaper without.

    >>> apply_flags("a /*if:x*/AND b/*fi:x*/ c", {"x": False}), apply_flags("a /*if:x*/AND b/*fi:x*/ c", None)
    ('a  c', 'a AND b c')
    """
    for name, on in (flags or {}).items():
        if not on:
            sql = re.sub(rf"/\*if:{name}\*/.*?/\*fi:{name}\*/", "", sql, flags=re.S)
    return re.sub(r"/\*(if|fi):[A-Za-z_]+\*/", "", sql)


def render(name: str, scope: Scope | None = None, columns: dict[str, str] | None = None, slots: int = 1,
           district_id: str | None = None, folder: Path = SQL_DIR, flags: dict[str, bool] | None = None
           ) -> tuple[str, dict]:
    """The SQL of ``name`` with its markers filled in.

    Args:
        name: file name under ``folder`` without ``.sql``.
        scope: the scope for ``/*scope:X*/``, ``/*area_events:X*/`` and ``/*area:X*/`` markers.
        columns: ``{"marker": "column_name"}``; each ``/*col:marker*/`` (or ``/*col:marker:alias*/``,
            qualified) becomes the column name, which must be one of a fixed set of identifiers.
        slots: how many windows ``/*or_ranges:COL:LO:HI*/`` covers: it becomes
            ``(COL >= $LO0 AND COL < $HI0) OR ...`` up to ``slots - 1``.
        district_id: the warehouse's district; a district scope on it needs no predicate at all.
        folder: the folder of the file (``metrics/sql`` or ``layers/sql``).
        flags: which optional ``/*if:NAME*/`` blocks to keep (see :func:`apply_flags`).

    Returns:
        The SQL text and the named parameters the scope needs.

    Raises:
        ValueError: a marker is left unfilled (e.g. a scope marker without a scope), or a column or
            ``or_ranges`` marker is not from the fixed vocabulary.
    """
    sql = apply_flags(load_sql(name, folder), flags)
    params: dict[str, Any] = {}
    if scope is not None:
        area_only = Scope(area_id=scope.area_id, level=scope.level)
        whole = district_id is not None and scope.area_id == district_id and scope.area_level == "district"
        for alias in _markers(sql, "scope"):
            pred, p = scope.predicate(alias, whole_district=whole)
            sql = sql.replace(f"/*scope:{alias}*/", f"({pred})")
            params.update(p)
        for alias in _markers(sql, "area_events"):
            pred, p = area_only.predicate(alias, whole_district=whole)
            sql = sql.replace(f"/*area_events:{alias}*/", f"({pred})")
            params.update(p)
        for alias in _markers(sql, "area"):
            pred, p = scope.area_predicate(alias, microgrid_column="area_id", whole_district=whole)
            sql = sql.replace(f"/*area:{alias}*/", f"({pred})")
            params.update(p)
    for marker, column in (columns or {}).items():
        if column not in _IDENTIFIERS:
            raise ValueError(f"{column!r} is not a column a metric query may group by")
        for spec in _markers(sql, "col"):
            name_, _, alias = spec.partition(":")
            if name_ == marker:
                qualified = column if column == "NULL" or not alias else f"{alias}.{column}"
                sql = sql.replace(f"/*col:{spec}*/", qualified)
    for spec in _markers(sql, "or_ranges"):
        column, lo, hi = spec.split(":")
        if not (_NAME.fullmatch(column) and _NAME.fullmatch(lo) and _NAME.fullmatch(hi)):
            raise ValueError(f"bad or_ranges marker {spec!r} in {name}.sql")
        ors = " OR ".join(f"({column} >= ${lo}{k} AND {column} < ${hi}{k})" for k in range(slots))
        sql = sql.replace(f"/*or_ranges:{spec}*/", f"({ors})")
    if any(kind in sql for kind in _MARKER_KINDS):
        raise ValueError(f"{name}.sql has a marker that was not filled in"
                         + ("" if scope is not None else " (it needs a scope)"))
    return sql, params


def used_params(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    """The entries of ``params`` whose ``$name`` appears in ``sql`` as a whole parameter name.

    DuckDB refuses named parameters a statement does not use, so the scope's ``$s_*`` values and
    the shared ``$now`` are offered to every query and filtered here. A substring test would keep
    ``$s_area`` for a query that only uses ``$s_area2`` (and fail); names are matched whole.
    """
    names = set(_PARAM.findall(sql))
    return {k: v for k, v in params.items() if k in names}


def run(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None,
        scope: Scope | None = None, columns: dict[str, str] | None = None, slots: int = 1,
        district_id: str | None = None, folder: Path = SQL_DIR, flags: dict[str, bool] | None = None
        ) -> pd.DataFrame:
    """Run one SQL file with bound parameters and return its rows as a DataFrame (see :func:`render`)."""
    sql, scope_params = render(name, scope, columns, slots, district_id, folder, flags)
    return con.execute(sql, used_params(sql, {**scope_params, **(params or {})})).df()


def _markers(sql: str, kind: str) -> list[str]:
    """Aliases used with ``/*kind:alias*/`` markers in ``sql``."""
    out = []
    token = f"/*{kind}:"
    start = sql.find(token)
    while start >= 0:
        end = sql.index("*/", start)
        out.append(sql[start + len(token):end])
        start = sql.find(token, end)
    return sorted(set(out))
