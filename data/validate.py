"""Row validation of staged landing files, in DuckDB SQL: every check runs on whole columns at once.

The table contract (column names, types, NOT NULL) is read from the schema DDL itself, so a column
added to ``data/schema/*.sql`` is validated without touching this module; what the DDL cannot say
(enumerations, ranges, which ids must exist, the lifecycle order of a case) is listed here.

The flow for one staged file (view ``stg_in_<tag>``, see :mod:`data.readers`):

1. :func:`plan_columns` maps the file's columns onto the table: unknown or missing required columns
   reject the file (``file_columns``); personal-data columns are hashed or dropped (:mod:`data.pii`).
2. :func:`check_rows` builds the temp table ``stg_chk``: typed values (``TRY_CAST``) and, per row, the
   first failing check as a reason code (:data:`REASONS`) and a detail.
3. :func:`locate` (tables with a place) tests coordinates against the district and places rows that
   have coordinates but no micro-grid, with a vectorised STRtree query.
4. :func:`mark_duplicates` keeps one row per id (the newest ``updated_at``, then the last line).
5. :func:`quarantine_rows` writes every failing row, its raw text masked, to ``quarantine``.

Counts add up by construction: each staged row ends with exactly one of "reason set" (quarantined)
or "no reason" (loaded); :func:`data.etl` asserts it per file.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import numpy as np
import pyarrow as pa
import shapely

from data import pii as pii_mod
from data.enums import (
    AGE_BANDS,
    ASSET_KINDS,
    ASSET_STATUSES,
    ENTERPRISE_SIZES,
    HOUSING_KINDS,
    INDUSTRIES,
    PEOPLE_KINDS,
    RISK_LEVELS,
    ROUTES,
    STATUSES,
    URGENCIES,
)
from data.readers import FileError, Staged
from data.warehouse import apply_schema, connect

__all__ = [
    "reset",
    "REASONS", "TableSpec", "ColumnPlan", "spec", "LANDING_TABLES", "plan_columns", "check_rows", "locate",
    "mark_duplicates", "quarantine_rows", "MicrogridIndex", "microgrid_index", "META_COLUMNS",
]

# Row-level reason codes, in the order the checks run (a row gets the first that fails).
REASONS: dict[str, str] = {
    "malformed_row": "the reader could not split the record (wrong number of fields, unterminated quote, invalid JSON)",
    "truncated_row": "the file does not end with a newline and this, its last record, may be cut off",
    "too_long": "a value (or the whole record) is longer than allowed",
    "missing_value": "a required field is empty",
    "bad_timestamp": "a timestamp cannot be read",
    "bad_number": "a number cannot be read or is out of range",
    "bad_boolean": "a true/false field cannot be read",
    "bad_value": "a value cannot be read as its type",
    "bad_enum": "a value is not one of the allowed values",
    "unknown_category": "the category id is not a level-2 category",
    "unknown_department": "the department id is unknown",
    "unknown_channel": "the channel is not in the channels table",
    "unknown_area": "the micro-grid id is not a micro-grid",
    "time_order": "lifecycle times out of order (accepted before received, ...)",
    "status_mismatch": "the status contradicts the lifecycle times",
    "due_before_received": "the case's own deadline (due_at) is before it was received",
    "future_time": "a time is more than 15 minutes in the future",
    "bad_coordinates": "only one of lon/lat, or a value outside -180..180 / -90..90",
    "null_island": "coordinates (0, 0): an unset GPS fix",
    "no_location": "neither a micro-grid nor coordinates",
    "outside_district": "the coordinates are outside every micro-grid of the district",
    "bad_geometry": "an area geometry cannot be read",
    "duplicate_id": "the same id appears more than once in the file; the newest (then the last) row is kept",
}
# Tables a landing folder may feed, in load order (reference data before what refers to it).
LANDING_TABLES = ("areas", "departments", "categories", "channels", "housing", "people", "enterprises", "assets",
                  "events")
# Optional control columns of reference extracts (see docs/etl.md).
META_COLUMNS = ("_extract", "_deleted")
FUTURE_TOLERANCE_MINUTES = 15
_TEXT_LIMIT = 256
_TEXT_LIMITS = {"summary": 2000, "geojson": None, "geojson_simple": None}
_FREE_TEXT = frozenset({"summary", "name", "name_en", "geojson", "geojson_simple"})
_MICROGRIDS = "SELECT area_id FROM areas WHERE level = 'microgrid'"
_DEPARTMENTS = "SELECT department_id FROM departments"


@dataclass(frozen=True)
class TableSpec:
    """What a landing file of one table must look like, beyond the DDL."""

    name: str
    key: str
    types: Mapping[str, str]  # column -> DuckDB type, in table order
    not_null: frozenset[str]
    derived: frozenset[str] = frozenset()  # filled by the ETL; ignored when the file has them
    enums: Mapping[str, tuple] = field(default_factory=dict)
    ranges: Mapping[str, tuple[float | None, float | None]] = field(default_factory=dict)
    refs: tuple[tuple[str, str, str], ...] = ()  # (column, SQL of the allowed ids, reason)
    located: bool = False  # has microgrid_id, lon, lat: placed by point-in-polygon
    reference: bool = True  # loaded as full or delta extracts (events: always upserted)

    @property
    def columns(self) -> tuple[str, ...]:
        """The table's columns, in table order."""
        return tuple(self.types)

    @property
    def has_updated_at(self) -> bool:
        """The table has ``updated_at``: a newer record replaces an older one."""
        return "updated_at" in self.types


_RULES: dict[str, dict] = {
    "events": dict(
        derived=frozenset({"category_l1", "grid_id", "community_id", "street_id", "repeat_7d"}),
        enums={"urgency": tuple(URGENCIES), "route": tuple(ROUTES), "status": tuple(STATUSES)},
        ranges={"satisfaction": (1, 5), "lon": (-180, 180), "lat": (-90, 90)},
        refs=(("category_id", "SELECT category_id FROM categories WHERE level = 2", "unknown_category"),
              ("department_id", _DEPARTMENTS, "unknown_department"),
              ("channel", "SELECT channel FROM channels", "unknown_channel"),
              ("microgrid_id", _MICROGRIDS, "unknown_area")),
        located=True, reference=False),
    "people": dict(
        enums={"kind": PEOPLE_KINDS, "sex": ("F", "M"), "age_band": AGE_BANDS},
        refs=(("microgrid_id", _MICROGRIDS, "unknown_area"),)),
    "housing": dict(
        enums={"kind": HOUSING_KINDS}, ranges={"occupants": (0, None), "built_year": (1800, 2100)},
        refs=(("microgrid_id", _MICROGRIDS, "unknown_area"),), located=True),
    "enterprises": dict(
        enums={"industry": tuple(INDUSTRIES), "size": ENTERPRISE_SIZES, "risk_level": RISK_LEVELS},
        ranges={"employees": (0, None)}, refs=(("microgrid_id", _MICROGRIDS, "unknown_area"),), located=True),
    "assets": dict(
        enums={"kind": tuple(ASSET_KINDS), "status": ASSET_STATUSES},
        refs=(("microgrid_id", _MICROGRIDS, "unknown_area"), ("department_id", _DEPARTMENTS, "unknown_department")),
        located=True),
    "areas": dict(
        enums={"level": ("district", "street", "community", "grid", "microgrid"),
               "land_use": ("residential", "mixed", "commercial", "industrial", "park")},
        ranges={"residents": (0, None), "area_km2": (0, None), "centroid_lon": (-180, 180),
                "centroid_lat": (-90, 90)},
        derived=frozenset()),
    "categories": dict(ranges={"level": (1, 2)}, refs=(("department_id", _DEPARTMENTS, "unknown_department"),)),
    "departments": dict(enums={"kind": ("bureau", "street")}),
    "channels": dict(),
}


@functools.cache
def _contract() -> dict[str, tuple[dict[str, str], frozenset[str], str]]:
    """(types, NOT NULL columns, key) of every table, read from the DDL in an in-memory database."""
    con = connect(":memory:", "UTC")
    try:
        apply_schema(con)
        out = {}
        for table in LANDING_TABLES:
            rows = con.execute(
                "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                "WHERE table_name = ? ORDER BY ordinal_position", [table]).fetchall()
            key = con.execute(
                "SELECT constraint_column_names[1] FROM duckdb_constraints() "
                "WHERE table_name = ? AND constraint_type = 'PRIMARY KEY'", [table]).fetchone()[0]
            out[table] = ({r[0]: r[1] for r in rows}, frozenset(r[0] for r in rows if r[2] == "NO"), key)
        return out
    finally:
        con.close()


@functools.cache
def spec(table: str) -> TableSpec:
    """The validation spec of a landing table (contract from the DDL plus :data:`_RULES`)."""
    types, not_null, key = _contract()[table]
    return TableSpec(name=table, key=key, types=types, not_null=not_null, **_RULES[table])


# ------------------------------------------------------------------------------------------------
# Columns
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ColumnPlan:
    """How one file's columns map onto its table."""

    spec: TableSpec
    fmt: str
    source: tuple[str, ...]  # the file's columns, in order
    source_types: Mapping[str, str]  # staged type of each source column
    view: str  # the staging view (see data.readers)
    present: frozenset[str]  # table columns the file provides
    pii: pii_mod.PiiColumns
    hashed_key: str | None  # the id column whose keyed hash becomes the table's key
    meta: frozenset[str]  # control columns present (_extract, _deleted)


def plan_columns(con: duckdb.DuckDBPyConnection, table: str, staged: Staged) -> ColumnPlan:
    """Check the file's columns against the table and decide what each becomes.

    Raises:
        FileError: ``file_columns`` for unknown columns or missing required ones, listing both.
    """
    s = spec(table)
    cols = list(staged.columns)
    table_cols = set(s.columns)
    pii = pii_mod.classify(cols, table_cols)
    meta = frozenset(c for c in cols if c in META_COLUMNS and s.reference)
    unknown = [c for c in cols if c not in table_cols and c not in pii.all and c not in meta]
    present = frozenset(c for c in cols if c in table_cols) - s.derived
    hashed_key = None
    if s.key == "person_key" and "person_key" not in present and pii.id_columns:
        hashed_key = pii.id_columns[0]
        present = present | {"person_key"}
    optional = set(s.derived)
    if s.located and {"lon", "lat"} <= present:
        optional.add("microgrid_id")
    if table == "areas":
        optional |= {"geojson_simple", "centroid_lon", "centroid_lat"}
        optional |= {"geometry_wkb"} if "geojson" in present else set()
        optional |= {"geojson"} if "geometry_wkb" in present else set()
    missing = sorted((s.not_null - present) - optional, key=s.columns.index)
    if unknown or missing:
        parts = []
        if missing:
            parts.append(f"missing required columns: {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown columns: {', '.join(unknown[:20])}")
        parts.append(f"a {table} file has the columns of the table: {', '.join(s.columns)}")
        raise FileError("file_columns", "; ".join(parts))
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE {staged.view}").fetchall()}
    return ColumnPlan(s, staged.fmt, tuple(cols), {c: types.get(c, "VARCHAR") for c in cols}, staged.view, present,
                      pii, hashed_key, meta)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def _kind(duck_type: str) -> str:
    t = duck_type.upper()
    if t.startswith("TIMESTAMP") or t == "DATE":
        return "timestamp"
    if t == "BOOLEAN":
        return "boolean"
    if t in {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "DOUBLE", "FLOAT", "REAL"} or t.startswith("DECIMAL"):
        return "number"
    if t == "BLOB":
        return "blob"
    return "text"


# ------------------------------------------------------------------------------------------------
# Row checks
# ------------------------------------------------------------------------------------------------
def check_rows(con: duckdb.DuckDBPyConnection, plan: ColumnPlan, key: bytes, now: datetime) -> None:
    """Build ``stg_chk``: the typed table columns plus the check's bookkeeping columns.

    Those are ``__file`` (index in the batch), ``__line``, ``__row`` (both in one number),
    ``__reason``, ``__detail`` and ``__deleted``.

    One statement, four nested selects: clean the text (trim, '' as NULL; hash an ID column), cast
    with ``TRY_CAST``, find the index of the first failing check, and turn it into a reason code and
    a detail (the detail is computed for failing rows only).
    """
    s = plan.spec
    params: list = []
    clean: list[str] = []  # level 1: "__s_<col>": the cleaned source value
    typed: list[str] = []  # level 2: "<col>": typed
    for col in s.columns:
        sc = _q("__s_" + col)
        if col in s.derived or col not in plan.present:
            typed.append(f"NULL::{s.types[col]} AS {_q(col)}")
            continue
        if col == s.key and plan.hashed_key:
            sql, p = pii_mod.hmac_sql(f"s.{_q(plan.hashed_key)}", key)
            clean.append(f"{sql} AS {sc}")
            params.extend(p)
            is_text = True
        else:
            is_text = _kind(plan.source_types[col]) == "text"
            src = f"s.{_q(col)}"
            # Ids and codes are trimmed; timestamps and numbers need not be (TRY_CAST skips spaces), nor
            # free text: trimming every value costs about a second per million rows.
            if is_text and _kind(s.types[col]) in ("text", "boolean") and col not in _FREE_TEXT:
                clean.append(f"NULLIF(trim({src}), '') AS {sc}")
            elif is_text:
                clean.append(f"NULLIF({src}, '') AS {sc}")
            else:
                clean.append(f"{src} AS {sc}")
        if _kind(s.types[col]) == "text":
            typed.append(f"{sc} AS {_q(col)}")
        else:
            typed.append(f"TRY_CAST({sc} AS {s.types[col]}) AS {_q(col)}")
    if "_deleted" in plan.meta:
        clean.append("s._deleted AS __s__deleted")
        typed.append("coalesce(TRY_CAST(NULLIF(trim(CAST(__s__deleted AS VARCHAR)), '') AS BOOLEAN), false) "
                     "AS __deleted")
    else:
        typed.append("false AS __deleted")

    checks = _checks(plan, now)
    when = "\n".join(f"WHEN {cond} THEN {i + 1}" for i, (cond, _, _) in enumerate(checks))
    reasons = "\n".join(f"WHEN {i + 1} THEN {r}" for i, (_, r, _) in enumerate(checks))
    details = "\n".join(f"WHEN {i + 1} THEN left({d}, 500)" for i, (_, _, d) in enumerate(checks))
    keep = ", ".join(_q(c) for c in s.columns)
    level1 = ", ".join(["s.__file", "s.__line", "(s.__file::BIGINT << 40) + s.__line AS __row", "s.__bad",
                        "s.__bad_detail", *clean])
    level2 = ", ".join(["*", *typed])
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE stg_chk AS
        SELECT __file, __line, __row, {keep}, __deleted,
               CASE __check {reasons} END AS __reason,
               CASE __check {details} END AS __detail
        FROM (SELECT *, CASE {when} END AS __check
              FROM (SELECT {level2} FROM (SELECT {level1} FROM {plan.view} s)))""", params)


def _checks(plan: ColumnPlan, now: datetime) -> list[tuple[str, str, str]]:
    """(condition, reason SQL, detail SQL) in priority order.

    Conditions see ``__s_<col>`` (the cleaned source value) and the typed columns. The first check
    passes on the reader's own verdict (``__bad``: malformed_row, truncated_row, too_long).
    """
    s = plan.spec
    out: list[tuple[str, str, str]] = [("__bad IS NOT NULL", "__bad", "__bad_detail")]
    checked = [c for c in s.columns if c in plan.present and c not in s.derived]

    def src(c: str) -> str:
        return _q("__s_" + c)

    def shown(c: str) -> str:
        return f"left(CAST({src(c)} AS VARCHAR), 80)"

    def add(cond: str, reason: str, detail: str) -> None:
        out.append((cond, _lit(reason), detail))

    for c in checked:
        limit = _TEXT_LIMITS.get(c, _TEXT_LIMIT)
        if _kind(s.types[c]) == "text" and limit:
            add(f"length({src(c)}) > {limit}", "too_long",
                f"'{c}: ' || length({src(c)}) || ' characters (at most {limit})'")
    required = (s.not_null - s.derived) - ({"microgrid_id"} if s.located else set())
    def blank(c: str) -> str:  # an untrimmed timestamp or number made only of spaces counts as empty
        if _kind(s.types[c]) in ("text", "boolean") or _kind(plan.source_types.get(c, "VARCHAR")) != "text":
            return f"{src(c)} IS NULL"
        return f"({src(c)} IS NULL OR ({_q(c)} IS NULL AND trim({src(c)}) = ''))"

    for c in checked:
        if c in required:
            add(blank(c), "missing_value", f"'{c} is empty'")
    for c in checked:
        kind = _kind(s.types[c])
        if kind == "text":
            continue
        reason = {"timestamp": "bad_timestamp", "number": "bad_number", "boolean": "bad_boolean"}.get(kind, "bad_value")
        if c == "geometry_wkb":
            reason = "bad_geometry"
        what = {"timestamp": "a timestamp", "number": f"a number ({s.types[c]})", "boolean": "true/false"}.get(
            kind, s.types[c])
        add(f"NOT {blank(c)} AND {_q(c)} IS NULL", reason, f"'{c}: cannot read ' || {shown(c)} || ' as {what}'")
    for c, (lo, hi) in s.ranges.items():
        if c not in checked:
            continue
        reason = "bad_coordinates" if c in ("lon", "lat") else "bad_number"
        conds = ([f"{_q(c)} < {lo}"] if lo is not None else []) + ([f"{_q(c)} > {hi}"] if hi is not None else [])
        rng = f"{lo if lo is not None else '-inf'}..{hi if hi is not None else 'inf'}"
        add(" OR ".join(conds), reason, f"'{c}: ' || {_q(c)} || ' is outside {rng}'")
    for c, allowed in s.enums.items():
        if c in checked:
            values = ", ".join(_lit(v) for v in allowed)
            add(f"{_q(c)} NOT IN ({values})", "bad_enum",
                f"'{c}: ' || {shown(c)} || ' is not one of {', '.join(map(str, allowed))}'")
    for c, sql, reason in s.refs:
        if c in checked:
            add(f"{_q(c)} IS NOT NULL AND {_q(c)} NOT IN ({sql})", reason, f"'{c}: unknown id ' || {shown(c)}")
    if s.name == "events":
        for cond, reason, detail in _lifecycle_checks():
            add(cond, reason, detail)
    limit = f"'{now.isoformat()}'::TIMESTAMPTZ + INTERVAL {FUTURE_TOLERANCE_MINUTES} MINUTE"
    for c in ("received_at", "updated_at"):
        if c in checked:
            add(f"{_q(c)} > {limit}", "future_time", f"'{c}: ' || {_q(c)} || ' is in the future'")
    if s.located:
        lon, lat = ("lon" in plan.present), ("lat" in plan.present)
        has_mg = "microgrid_id" in plan.present
        if lon != lat:
            add("true", "bad_coordinates", "'the file has only one of the columns lon and lat'")
        elif lon:
            add("(lon IS NULL) <> (lat IS NULL)", "bad_coordinates", "'only one of lon and lat is set'")
            add("abs(lon) < 1e-9 AND abs(lat) < 1e-9", "null_island", "'coordinates are (0, 0)'")
        conds = (["microgrid_id IS NULL"] if has_mg else []) + (["lon IS NULL"] if lon and lat else [])
        add(" AND ".join(conds) or "true", "no_location", "'neither microgrid_id nor lon/lat'")
    return out


def _lifecycle_checks() -> list[tuple[str, str, str]]:
    """Timestamp order and status consistency of a case (what a case's record may say)."""
    order = [
        ("accepted_at < received_at", "'accepted_at ' || accepted_at || ' is before received_at ' || received_at"),
        ("dispatched_at < coalesce(accepted_at, received_at)",
         "'dispatched_at ' || dispatched_at || ' is before accepted_at/received_at'"),
        ("closed_at < greatest(received_at, accepted_at, dispatched_at)",
         "'closed_at ' || closed_at || ' is before an earlier stage'"),
        ("updated_at < greatest(received_at, accepted_at, dispatched_at, closed_at)",
         "'updated_at ' || updated_at || ' is before the last stage time'"),
    ]
    out = [(cond, "time_order", detail) for cond, detail in order]
    out.append(("due_at < received_at", "due_before_received",
                "'due_at ' || due_at || ' is before received_at ' || received_at"))
    done = "('closed', 'cancelled')"
    out += [
        (f"(status IN {done}) <> (closed_at IS NOT NULL)", "status_mismatch",
         "'status ' || status || CASE WHEN closed_at IS NULL THEN ' without' ELSE ' with' END || ' closed_at'"),
        # a closed case may lack accepted_at: many sources record only receipt and closure (LA 311, NYC 311)
        ("status IN ('accepted', 'dispatched', 'in_progress') AND accepted_at IS NULL", "status_mismatch",
         "'status ' || status || ' without accepted_at'"),
        ("status IN ('dispatched', 'in_progress') AND dispatched_at IS NULL", "status_mismatch",
         "'status ' || status || ' without dispatched_at'"),
        ("status = 'received' AND accepted_at IS NOT NULL", "status_mismatch", "'status received with accepted_at'"),
        ("status = 'accepted' AND dispatched_at IS NOT NULL", "status_mismatch",
         "'status accepted with dispatched_at'"),
    ]
    return out


# ------------------------------------------------------------------------------------------------
# Location
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MicrogridIndex:
    """The micro-grid polygons of one version of ``areas``, ready for vectorised point queries."""

    fingerprint: tuple
    ids: np.ndarray
    tree: shapely.STRtree
    district: shapely.Geometry  # union of the micro-grids, prepared


_index_lock = threading.Lock()
_index_cache: dict[str, MicrogridIndex] = {}


def reset() -> None:
    """Forget the remembered micro-grid indexes (the test suite's process-state reset)."""
    _index_cache.clear()


def microgrid_index(con: duckdb.DuckDBPyConnection) -> MicrogridIndex | None:
    """The micro-grid index of the warehouse's current ``areas``, built once per process and content.

    Keyed by a fingerprint of the micro-grid rows (count and a hash of ids and geometries), so a
    reloaded ``areas`` table is picked up by the next cycle, and an unchanged one costs one small query.
    """
    fp = con.execute("""SELECT count(*), coalesce(sum(hash(area_id, geometry_wkb)), 0)
                        FROM areas WHERE level = 'microgrid'""").fetchall()[0]
    if fp[0] == 0:
        return None
    key = str(fp)
    with _index_lock:
        if key not in _index_cache:
            rows = con.execute("SELECT area_id, geometry_wkb FROM areas WHERE level = 'microgrid' ORDER BY area_id"
                               ).fetchall()
            ids = np.array([r[0] for r in rows], dtype=object)
            polys = shapely.from_wkb([bytes(r[1]) for r in rows])
            district = shapely.union_all(polys)
            shapely.prepare(district)
            _index_cache.clear()  # one warehouse per process in production; tests switch often
            _index_cache[key] = MicrogridIndex(tuple(fp), ids, shapely.STRtree(polys), district)
        return _index_cache[key]


def locate(con: duckdb.DuckDBPyConnection, plan: ColumnPlan) -> int:
    """Place rows with coordinates but no micro-grid; quarantine points outside the district.

    Only rows that passed every SQL check are looked at. The district test is one prepared-polygon
    ``contains_xy`` over all points; placement is an STRtree query over the points that need it
    (:func:`data.geography.locate_points`). Returns the number of rows placed.
    """
    from data.geography import locate_points

    if not plan.spec.located or "lon" not in plan.present:
        return 0
    pts = con.execute("""SELECT __row, lon, lat, microgrid_id IS NULL AS need
                         FROM stg_chk WHERE __reason IS NULL AND lon IS NOT NULL""").fetchnumpy()
    if len(pts["__row"]) == 0:
        return 0
    index = microgrid_index(con)
    lines = np.asarray(pts["__row"], dtype=np.int64)
    lon = np.asarray(pts["lon"], dtype=float)
    lat = np.asarray(pts["lat"], dtype=float)
    need = np.asarray(pts["need"], dtype=bool)
    placed = np.full(len(lines), None, dtype=object)
    if index is None:
        inside = np.zeros(len(lines), dtype=bool)
    else:
        inside = shapely.contains_xy(index.district, lon, lat)
        todo = need & inside
        if todo.any():
            placed[todo] = locate_points(lon[todo], lat[todo], index.tree, index.ids)
        # a point on the outer edge is "inside" the union but in no polygon's interior: locate decides
        inside = np.where(need, placed != None, inside)  # noqa: E711 (element-wise on an object array)
    sel = (need & inside) | ~inside
    if not sel.any():
        return 0
    table = pa.table({"line": lines[sel], "placed": pa.array(list(placed[sel]), type=pa.string()),
                      "outside": ~inside[sel]})
    con.register("stg_located", table)
    try:
        con.execute("""
            UPDATE stg_chk SET microgrid_id = coalesce(stg_chk.microgrid_id, l.placed),
                   __reason = CASE WHEN l.outside THEN 'outside_district' END,
                   __detail = CASE WHEN l.outside THEN 'lon/lat ' || round(stg_chk.lon, 6) || ', '
                                   || round(stg_chk.lat, 6) || ' is outside the district' END
            FROM stg_located l WHERE stg_chk.__row = l.line""")
    finally:
        con.unregister("stg_located")
    return int((need & inside).sum())


def mark_duplicates(con: duckdb.DuckDBPyConnection, plan: ColumnPlan) -> None:
    """Quarantine all but one row of each id that appears more than once among the valid rows of a file.

    The kept row is the one with the newest ``updated_at`` (a file may carry a case's creation and a
    later update), then the last line. Duplicates are looked for only among ids seen twice (a hash
    aggregate), so the window runs on a handful of rows.
    """
    key = _q(plan.spec.key)
    order = "updated_at DESC NULLS LAST, __line DESC" if plan.spec.has_updated_at else "__line DESC"
    con.execute(f"""
        UPDATE stg_chk SET __reason = 'duplicate_id', __detail = d.detail
        FROM (
            SELECT __row, '{plan.spec.key} ' || {key} || ' also on line ' || first_value(__line) OVER w
                          || ' (kept)' AS detail,
                   row_number() OVER w AS rn
            FROM stg_chk
            WHERE __reason IS NULL AND (__file, {key}) IN (
                SELECT (__file, {key}) FROM stg_chk WHERE __reason IS NULL GROUP BY __file, {key} HAVING count(*) > 1)
            WINDOW w AS (PARTITION BY __file, {key} ORDER BY {order})
        ) d
        WHERE stg_chk.__row = d.__row AND d.rn > 1""")


def quarantine_rows(con: duckdb.DuckDBPyConnection, plan: ColumnPlan, run_id: int, files: list[str]) -> dict[int, int]:
    """Insert every row of ``stg_chk`` with a reason into ``quarantine``; returns how many per file index.

    ``files`` are the landing paths of the batch, by ``__file`` index.

    The raw text is the record as read (JSON Lines, unparsable CSV lines) or rebuilt from the staged
    columns (a CSV line, or a JSON object for Parquet); personal-data columns show ``***`` and any
    ID-number- or phone-looking digits are masked; at most 64 KB is kept.
    """
    raw = _raw_sql(plan)
    masked = pii_mod.mask_text_sql(f"left({raw}, 65536)")
    con.execute(f"""
        INSERT INTO quarantine (run_id, file, line, table_name, reason, detail, raw, quarantined_at)
        SELECT ?, (?::VARCHAR[])[c.__file + 1], c.__line, ?, c.__reason, c.__detail, {masked}, now()
        FROM stg_chk c JOIN {plan.view} s ON s.__file = c.__file AND s.__line = c.__line
        WHERE c.__reason IS NOT NULL
        ORDER BY c.__file, c.__line""", [run_id, files, plan.spec.name])
    return dict(con.execute("SELECT __file, count(*) FROM stg_chk WHERE __reason IS NOT NULL GROUP BY ALL").fetchall())


def _raw_sql(plan: ColumnPlan) -> str:
    """SQL of a quarantined row's raw text over the staging view ``s`` (personal data shown as ``***``)."""
    hidden = set(plan.pii.all)
    mask = _lit(pii_mod.MASK)

    def val(c: str) -> str:
        return mask if c in hidden else f"CAST(s.{_q(c)} AS VARCHAR)"

    if plan.fmt == "csv":
        fields = []
        for c in plan.source:
            v = val(c)
            fields.append(f"CASE WHEN {v} IS NULL THEN '' WHEN regexp_matches({v}, '[,\"\\r\\n]') "
                          f"THEN '\"' || replace({v}, '\"', '\"\"') || '\"' ELSE {v} END")
        rebuilt = " || ',' || ".join(fields) if fields else "''"
        raw = "s.__raw"
        if hidden:  # an unparsable line: mask the PII columns' positions, as far as a naive split allows
            pos = ", ".join(str(i + 1) for i, c in enumerate(plan.source) if c in hidden)
            raw = (f"array_to_string(list_transform(string_split(s.__raw, ','), "
                   f"lambda x, i: CASE WHEN i IN ({pos}) THEN {mask} ELSE x END), ',')")
        return f"coalesce({raw}, {rebuilt})"
    obj = "{" + ", ".join(f"{_lit(c)}: {val(c)}" for c in plan.source) + "}" if plan.source else "{}"
    rebuilt = f"to_json({obj})::VARCHAR" if plan.source else "'{}'"
    if plan.fmt == "jsonl":
        if hidden:
            # a valid line is rebuilt from its values (PII shown as ***); an invalid one keeps its text with
            # the values of PII keys masked by pattern
            keys = "|".join(sorted(hidden))
            masked = f"regexp_replace(s.__raw, '\"({keys})\"\\s*:\\s*(\"[^\"]*\"|[^,}}]*)', '\"\\1\": \"***\"', 'gi')"
            return f"CASE WHEN s.__bad IS NULL THEN {rebuilt} ELSE {masked} END"
        return "s.__raw"
    return f"coalesce(s.__raw, {rebuilt})"
