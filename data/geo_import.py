"""``python app.py geography import``: a city's own area polygons, at its own levels, as the warehouse's ``areas``.

The mapping's ``[geography]`` section (TOML, documented with a complete example in ``docs/geography.md``)
names the levels top-down and, per level, the file, the properties holding the id, the name (or a name
template), the parent id and the residents. What this module does with them:

* reads GeoJSON, GeoPackage or Shapefile with geopandas; reprojects to WGS84 when the file declares another
  CRS, and refuses a file without a CRS whose coordinates cannot be longitude/latitude;
* repairs invalid polygons with ``shapely.make_valid`` (a feature nothing polygonal is left of is an error
  naming its id), dissolves a level drawn from a finer file's property (LA's regions are groups of councils);
* finds a parent not given by a property by containment (the parent holding the child's representative
  point), synthesises the one top area when the first level has several features, and maps the levels onto
  the product's slots: ``district`` on top, ``microgrid`` at the finest level, ``street``, ``community``,
  ``grid`` top-down for the levels between;
* computes ``area_km2`` (equal-area projection), the representative point and the per-level simplified
  GeoJSON with :mod:`data.geography`, and the ``area_levels`` rows;
* writes a new warehouse with these areas (empty catalogues) and publishes a snapshot. A warehouse that
  holds cases is refused unless ``--replace``, which keeps it as a backup.

Every failure is a :class:`GeoImportError` whose message :func:`cmd_geography_import` prints as one
``error: ...`` line (exit status 1).
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from data.geography import COLUMNS, LEVELS, areas_table, polygon_parts

__all__ = ["GeoImportError", "GeographyMapping", "LevelMapping", "Geography", "parse_mapping", "build_geography",
           "slots_for", "write_warehouse", "cmd_geography_import"]

log = logging.getLogger(__name__)

# The slots of ``areas.level`` used by a deployment with n levels (top-down): the top is always ``district``,
# the finest always ``microgrid``, the levels between take street, community, grid in that order.
_MIDDLE = ("street", "community", "grid")
_TOP_DEFAULT_NAMES = ("全域", "Whole area")
_TOP_ID = "ALL"


class GeoImportError(ValueError):
    """A mapping or a file the import cannot use; the message is the operator's one line."""


@dataclass(frozen=True)
class LevelMapping:
    """One level of the mapping (``[[geography.levels]]``), top-down."""

    name: str
    name_en: str
    file: str | int | None
    id: str
    name_property: str | None = None
    name_template: str | None = None
    name_en_property: str | None = None
    name_en_template: str | None = None
    parent: str | None = None
    residents: str | None = None
    filter: dict[str, Any] = field(default_factory=dict)
    dissolve: bool = False
    id_prefix: str = ""


@dataclass(frozen=True)
class GeographyMapping:
    """The ``[geography]`` section: the place, its top area's level names, the levels and a residents CSV."""

    levels: tuple[LevelMapping, ...]
    name: str | None = None
    name_en: str | None = None
    id: str = _TOP_ID
    level_name: str = _TOP_DEFAULT_NAMES[0]
    level_name_en: str = _TOP_DEFAULT_NAMES[1]
    residents_csv: Path | None = None
    residents_id_column: str = "area_id"
    residents_column: str = "residents"


@dataclass
class Geography:
    """What the import computed: the areas (``data.geography.COLUMNS``), the levels, and notes for the operator."""

    areas: gpd.GeoDataFrame
    levels: pd.DataFrame  # area_levels rows: level, depth, name, name_en
    notes: list[str]


# ----------------------------------------------------------------------------------------------- the mapping
_LEVEL_KEYS = {"name", "name_en", "file", "id", "name_property", "name_template", "name_en_property",
               "name_en_template", "parent", "residents", "filter", "dissolve", "id_prefix"}
_TOP_KEYS = {"name", "name_en", "id", "level_name", "level_name_en", "levels", "residents_csv",
             "residents_id_column", "residents_column"}


def parse_mapping(path: Path) -> GeographyMapping:
    """Read the ``[geography]`` section of a TOML mapping file.

    Raises:
        GeoImportError: the file is missing, not TOML, has no ``[geography]`` section, or a level lacks
            ``name_en`` or ``id``, or names an unknown key (a typo should fail, not be ignored).
    """
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GeoImportError(f"mapping {path} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise GeoImportError(f"mapping {path} is not valid TOML: {exc}") from None
    geo = doc.get("geography")
    if not isinstance(geo, dict):
        raise GeoImportError(f"mapping {path} has no [geography] section")
    unknown = sorted(set(geo) - _TOP_KEYS)
    if unknown:
        raise GeoImportError(f"mapping {path}: unknown key(s) in [geography]: {', '.join(unknown)}")
    raw_levels = geo.get("levels")
    if not isinstance(raw_levels, list) or not raw_levels:
        raise GeoImportError(f"mapping {path}: [geography] needs at least one [[geography.levels]] table")
    levels = []
    for i, lv in enumerate(raw_levels, start=1):
        where = f"mapping {path}: level {i}"
        unknown = sorted(set(lv) - _LEVEL_KEYS)
        if unknown:
            raise GeoImportError(f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(_LEVEL_KEYS))})")
        for key in ("id", "name_en"):
            if not str(lv.get(key, "")).strip():
                raise GeoImportError(f"{where}: `{key}` is required")
        if lv.get("name_property") and lv.get("name_template"):
            raise GeoImportError(f"{where}: give `name_property` or `name_template`, not both")
        if not isinstance(lv.get("filter", {}), dict):
            raise GeoImportError(f"{where}: `filter` must be a table of property = value")
        levels.append(LevelMapping(
            name=str(lv.get("name") or lv["name_en"]), name_en=str(lv["name_en"]), file=lv.get("file"),
            id=str(lv["id"]), name_property=lv.get("name_property"), name_template=lv.get("name_template"),
            name_en_property=lv.get("name_en_property"), name_en_template=lv.get("name_en_template"),
            parent=lv.get("parent"), residents=lv.get("residents"), filter=dict(lv.get("filter", {})),
            dissolve=bool(lv.get("dissolve", False)), id_prefix=str(lv.get("id_prefix", "")),
        ))
    csv = geo.get("residents_csv")
    return GeographyMapping(
        levels=tuple(levels), name=geo.get("name"), name_en=geo.get("name_en"), id=str(geo.get("id", _TOP_ID)),
        level_name=str(geo.get("level_name", _TOP_DEFAULT_NAMES[0])),
        level_name_en=str(geo.get("level_name_en", _TOP_DEFAULT_NAMES[1])),
        residents_csv=(path.parent / csv) if csv else None,
        residents_id_column=str(geo.get("residents_id_column", "area_id")),
        residents_column=str(geo.get("residents_column", "residents")),
    )


def slots_for(n_levels: int) -> tuple[str, ...]:
    """The ``areas.level`` slots of a deployment with ``n_levels`` levels, top-down.

    >>> slots_for(3)
    ('district', 'street', 'microgrid')
    >>> slots_for(5) == LEVELS
    True
    """
    if not 2 <= n_levels <= len(LEVELS):
        raise GeoImportError(f"a deployment has 2 to 5 levels (the top area included), the mapping gives {n_levels}")
    return ("district", *_MIDDLE[: n_levels - 2], "microgrid")


# ----------------------------------------------------------------------------------------------- reading
def _read(path: Path) -> gpd.GeoDataFrame:
    """One polygon file in WGS84 (reprojected when it declares another CRS; refused when it plainly is not)."""
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises its own DataSourceError, fiona others
        raise GeoImportError(f"{path}: cannot read it as GeoJSON, GeoPackage or Shapefile ({exc})") from None
    if frame.geometry is None or len(frame) == 0:
        raise GeoImportError(f"{path}: no feature")
    # GDAL reads a GeoJSON without a "crs" member as WGS84, so a geographic CRS is checked as well as none.
    if frame.crs is None or frame.crs.is_geographic:
        west, south, east, north = frame.total_bounds
        if max(abs(west), abs(east)) > 180 or max(abs(south), abs(north)) > 90:
            raise GeoImportError(
                f"{path}: coordinates up to ({max(abs(west), abs(east)):.0f}, {max(abs(south), abs(north)):.0f}) "
                "are not longitude/latitude and the file declares no CRS; save it with its CRS (e.g. a .prj beside "
                "a Shapefile) or reproject it to WGS84 (EPSG:4326)")
    if frame.crs is None:
        frame = frame.set_crs(4326)
    elif frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    return frame


def _file_of(level: LevelMapping, i: int, files: list[Path]) -> Path:
    if level.file is None:
        if len(files) == 1:
            return files[0]
        raise GeoImportError(f"level {i} ({level.name_en}): {len(files)} files given; say which one with `file`")
    if isinstance(level.file, int) and not isinstance(level.file, bool):
        if not 1 <= level.file <= len(files):
            raise GeoImportError(f"level {i} ({level.name_en}): file = {level.file}, but {len(files)} file(s) given")
        return files[level.file - 1]
    matches = [f for f in files if f.name == str(level.file) or str(f) == str(level.file)]
    if not matches:
        raise GeoImportError(f"level {i} ({level.name_en}): file {level.file!r} is not among the files given "
                             f"({', '.join(f.name for f in files)})")
    return matches[0]


def _text(value: Any) -> str | None:
    """A property as text: integers without a decimal point (47.0 → "47"), None for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def _number(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or f < 0 else f


def _level_frame(level: LevelMapping, i: int, frame: gpd.GeoDataFrame, path: Path, notes: list[str]) -> pd.DataFrame:
    """The areas of one level: raw id, name, name_en, raw parent id, residents, repaired geometry."""
    where = f"level {i} ({level.name_en}), {path.name}"
    wanted = [p for p in (level.id, level.name_property, level.name_en_property, level.parent, level.residents,
                          *level.filter) if p]
    missing = [p for p in wanted if p not in frame.columns]
    if missing:
        props = ", ".join(c for c in frame.columns if c != frame.geometry.name)
        raise GeoImportError(f"{where}: no property {', '.join(missing)} (the file has: {props})")
    for prop, value in level.filter.items():
        frame = frame[frame[prop].map(_text) == _text(value)]
    if frame.empty:
        raise GeoImportError(f"{where}: no feature left after the filter {level.filter}")
    props = frame.drop(columns=frame.geometry.name)
    ids = [_text(v) for v in props[level.id]]
    if any(v is None for v in ids):
        raise GeoImportError(f"{where}: {sum(v is None for v in ids)} feature(s) have no {level.id}")

    geoms = np.asarray(frame.geometry.values, dtype=object)
    invalid = ~shapely.is_valid(geoms)
    repaired = []
    for k in np.flatnonzero(invalid):
        parts = polygon_parts(shapely.make_valid(geoms[k]))
        if not parts:
            raise GeoImportError(f"{where}: feature {ids[k]} is not a polygon shapely.make_valid can repair")
        geoms[k] = shapely.union_all(parts) if len(parts) > 1 else parts[0]
        repaired.append(ids[k])
    for k, g in enumerate(geoms):
        if not polygon_parts(g):
            raise GeoImportError(f"{where}: feature {ids[k]} has no polygon")
    if repaired:
        notes.append(f"{level.name_en}: repaired {len(repaired)} invalid polygon(s): {', '.join(repaired[:10])}")

    def names(prop: str | None, template: str | None, fallback: list[str]) -> list[str]:
        if prop:
            return [_text(v) or fallback[k] for k, v in enumerate(props[prop])]
        if template:
            records = props.to_dict("records")
            try:
                return [template.format(**{**{str(c): _text(v) or "" for c, v in r.items()}, "id": ids[k]})
                        for k, r in enumerate(records)]
            except (KeyError, IndexError, ValueError) as exc:
                raise GeoImportError(f"{where}: name template {template!r} cannot be filled ({exc})") from None
        return fallback

    name = names(level.name_property, level.name_template, ids)
    out = pd.DataFrame({
        "raw_id": ids, "name": name, "name_en": names(level.name_en_property, level.name_en_template, name),
        "raw_parent": [_text(v) for v in props[level.parent]] if level.parent else None,
        "residents": [_number(v) for v in props[level.residents]] if level.residents else None,
        "geometry": geoms,
    })
    if level.dissolve:
        groups = out.groupby("raw_id", sort=False)
        first = groups.first().reset_index()
        first["geometry"] = [shapely.union_all(np.asarray(g, dtype=object)) for _, g in groups["geometry"]]
        if level.residents:
            first["residents"] = groups["residents"].sum(min_count=1).to_numpy()
        out = first
    else:
        dup = out["raw_id"][out["raw_id"].duplicated()].unique()
        if len(dup):
            raise GeoImportError(f"{where}: {level.id} is not unique ({', '.join(map(str, dup[:10]))}); "
                                 "set dissolve = true to merge features that share an id")
    return out


# ----------------------------------------------------------------------------------------------- building
def build_geography(mapping: GeographyMapping, files: list[Path]) -> Geography:
    """The areas and levels the mapping makes of ``files`` (nothing is written).

    Raises:
        GeoImportError: a file, property, parent or level count the import cannot use.
    """
    notes: list[str] = []
    frames: dict[Path, gpd.GeoDataFrame] = {}
    parts = []
    for i, level in enumerate(mapping.levels, start=1):
        path = _file_of(level, i, files)
        if path not in frames:
            frames[path] = _read(path)
        parts.append(_level_frame(level, i, frames[path], path, notes))

    synthesise = len(parts[0]) > 1
    level_names = [(lv.name, lv.name_en) for lv in mapping.levels]
    if synthesise:
        if not mapping.name and not mapping.name_en:
            raise GeoImportError(f"the first level ({mapping.levels[0].name_en}) has {len(parts[0])} areas: give the "
                                 "place's name (`name`, `name_en` in [geography]) for the one area above them")
        top = pd.DataFrame({"raw_id": [mapping.id], "name": [mapping.name or mapping.name_en],
                            "name_en": [mapping.name_en or mapping.name], "raw_parent": [None], "residents": [None],
                            "geometry": [shapely.union_all(np.asarray(parts[0]["geometry"], dtype=object))]})
        parts.insert(0, top)
        level_names.insert(0, (mapping.level_name, mapping.level_name_en))
    elif mapping.name or mapping.name_en:  # the place's own name overrides the top feature's
        parts[0].loc[:, "name"] = mapping.name or mapping.name_en
        parts[0].loc[:, "name_en"] = mapping.name_en or mapping.name
    slots = slots_for(len(parts))
    specs = ([None] if synthesise else []) + list(mapping.levels)

    # ids unique across levels: the level's own prefix, and an automatic one when raw ids still collide
    prefixes = [(spec.id_prefix if spec else "") for spec in specs]
    seen: dict[str, int] = {}
    collide = False
    for d, part in enumerate(parts):
        for raw in part["raw_id"]:
            key = prefixes[d] + raw
            if seen.setdefault(key, d) != d:
                collide = True
    if collide:
        prefixes = [p if d == 0 else f"{p}L{d}-" for d, p in enumerate(prefixes)]
        notes.append("area ids repeat between levels: the ids below the top are prefixed L1-, L2- ... by depth")
    for d, part in enumerate(parts):
        part["area_id"] = [prefixes[d] + r for r in part["raw_id"]]
        part["level"] = slots[d]

    _assign_parents(parts, specs, level_names, notes)
    areas = pd.concat(parts, ignore_index=True)
    _ancestors(areas)
    _residents(areas, mapping, parts, notes)
    gdf = _measured(areas)
    levels = pd.DataFrame({"level": list(slots), "depth": list(range(len(slots))),
                           "name": [n for n, _ in level_names], "name_en": [e for _, e in level_names]})
    return Geography(gdf, levels, notes)


def _assign_parents(parts: list[pd.DataFrame], specs: list, level_names: list, notes: list[str]) -> None:
    """``parent_id`` of every level: the top has none, depth 1 the top, deeper ones by property or containment."""
    parts[0]["parent_id"] = None
    if len(parts) > 1:
        parts[1]["parent_id"] = parts[0]["area_id"].iloc[0]
    for d in range(2, len(parts)):
        child, parent, spec = parts[d], parts[d - 1], specs[d]
        where = f"level {level_names[d][1]}"
        if spec is not None and spec.parent:
            by_raw = dict(zip(parent["raw_id"], parent["area_id"], strict=True))
            found = child["raw_parent"].map(by_raw)
            lost = child.loc[found.isna(), "raw_id"].tolist()
            if lost:
                raise GeoImportError(f"{where}: {len(lost)} area(s) name a parent ({spec.parent}) that level "
                                     f"{level_names[d - 1][1]} does not have: {', '.join(lost[:10])}")
            child["parent_id"] = found.to_numpy()
            continue
        child["parent_id"] = _contained_in(child, parent, where, level_names[d - 1][1], notes)


def _contained_in(child: pd.DataFrame, parent: pd.DataFrame, where: str, parent_name: str,
                  notes: list[str]) -> np.ndarray:
    """The parent holding each child's representative point; else the one it overlaps most (with a note)."""
    tree = shapely.STRtree(np.asarray(parent["geometry"], dtype=object))
    pgeoms = np.asarray(parent["geometry"], dtype=object)
    cgeoms = np.asarray(child["geometry"], dtype=object)
    points = shapely.point_on_surface(cgeoms)
    ci, pi = tree.query(points, predicate="intersects")
    order = np.lexsort((pi, ci))
    ci, pi = ci[order], pi[order]
    out = np.full(len(child), None, dtype=object)
    first = np.unique(ci, return_index=True)[1]
    out[ci[first]] = parent["area_id"].to_numpy()[pi[first]]
    loose = []
    for k in np.flatnonzero(pd.isna(out)):
        overlap = shapely.area(shapely.intersection(pgeoms, cgeoms[k]))
        if overlap.max() > 0:
            out[k] = parent["area_id"].iloc[int(np.argmax(overlap))]
            loose.append(child["raw_id"].iloc[k])
        else:
            raise GeoImportError(f"{where}: area {child['raw_id'].iloc[k]} lies in no area of level {parent_name} "
                                 "(give its parent with a `parent` property)")
    if loose:
        notes.append(f"{where}: {len(loose)} area(s) placed in the {parent_name} they overlap most: "
                     f"{', '.join(loose[:10])}")
    return out


def _ancestors(areas: pd.DataFrame) -> None:
    """``street_id``, ``community_id``, ``grid_id``: the ancestor (or the area itself) at each slot; NULL if none."""
    level_of = dict(zip(areas["area_id"], areas["level"], strict=True))
    parent_of = dict(zip(areas["area_id"], areas["parent_id"], strict=True))
    cols: dict[str, list] = {s: [] for s in _MIDDLE}
    for area in areas["area_id"]:
        found: dict[str, str] = {}
        node = area
        while node is not None:
            found[level_of[node]] = node
            node = parent_of[node]
        for slot in _MIDDLE:
            cols[slot].append(found.get(slot))
    for slot in _MIDDLE:
        areas[f"{slot}_id"] = pd.Series(cols[slot], dtype=object)


def _residents(areas: pd.DataFrame, mapping: GeographyMapping, parts: list, notes: list[str]) -> None:
    """Residents from the properties and the CSV, summed up to a parent whose children all have them."""
    if "residents" not in areas or areas["residents"].isna().all():
        areas["residents"] = np.nan
    areas["residents"] = pd.to_numeric(areas["residents"], errors="coerce")
    if mapping.residents_csv is not None:
        path = mapping.residents_csv
        try:
            csv = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
        except (OSError, pd.errors.ParserError) as exc:
            raise GeoImportError(f"residents CSV {path}: {exc}") from None
        for col in (mapping.residents_id_column, mapping.residents_column):
            if col not in csv.columns:
                raise GeoImportError(f"residents CSV {path}: no column {col} (it has: {', '.join(csv.columns)})")
        values = dict(zip(csv[mapping.residents_id_column].str.strip(),
                          pd.to_numeric(csv[mapping.residents_column].str.replace(",", ""), errors="coerce"),
                          strict=True))
        by_raw = {**dict(zip(areas["raw_id"], areas["area_id"], strict=True)),
                  **dict(zip(areas["area_id"], areas["area_id"], strict=True))}
        unknown = [k for k in values if k not in by_raw]
        for key, value in values.items():
            if key in by_raw and value is not None and not math.isnan(value):
                areas.loc[areas["area_id"] == by_raw[key], "residents"] = value
        if unknown:
            notes.append(f"residents CSV: {len(unknown)} id(s) match no area: {', '.join(unknown[:10])}")
    for slot in reversed(slots_for(len(parts))[:-1]):  # bottom-up: a parent gets its children's sum
        for idx in np.flatnonzero((areas["level"] == slot).to_numpy() & areas["residents"].isna().to_numpy()):
            kids = areas.loc[areas["parent_id"] == areas["area_id"].iloc[idx], "residents"]
            if len(kids) and kids.notna().all():
                areas.loc[areas.index[idx], "residents"] = kids.sum()
    areas["residents"] = areas["residents"].round().astype("Int64")


def _measured(areas: pd.DataFrame) -> gpd.GeoDataFrame:
    """``area_km2`` in an equal-area projection centred on the place, the representative point, COLUMNS order."""
    gdf = gpd.GeoDataFrame(areas, geometry="geometry", crs="EPSG:4326")
    centre = shapely.centroid(gdf.geometry.iloc[0])
    laea = f"+proj=laea +lat_0={centre.y:.6f} +lon_0={centre.x:.6f} +datum=WGS84 +units=m +no_defs"
    gdf["area_km2"] = gdf.geometry.to_crs(laea).area.to_numpy() / 1e6
    rep = shapely.get_coordinates(shapely.point_on_surface(np.asarray(gdf.geometry.values, dtype=object)))
    gdf["centroid_lon"], gdf["centroid_lat"] = rep[:, 0], rep[:, 1]
    gdf["land_use"] = None
    for col in ("area_id", "level", "name", "name_en"):
        gdf[col] = gdf[col].astype(str)
    gdf["_order"] = gdf["level"].map({lv: i for i, lv in enumerate(LEVELS)})
    gdf = gdf.sort_values(["_order", "area_id"], kind="stable").drop(columns="_order").reset_index(drop=True)
    return gdf[list(COLUMNS)]


# ----------------------------------------------------------------------------------------------- writing
def _cases_in(path: Path, timezone: str) -> int:
    """Cases in an existing warehouse (0 when it has no ``events`` table yet)."""
    from data.warehouse import connect

    con = connect(path, timezone, read_only=True)
    try:
        return con.execute("SELECT count(*) FROM events").fetchone()[0]
    except duckdb.CatalogException:
        return 0
    finally:
        con.close()


def write_warehouse(settings, geo: Geography, replace: bool) -> tuple[Any, Path | None]:
    """Build a new warehouse with ``geo``'s areas (and empty catalogues) and publish it.

    Returns:
        The published snapshot and the backup of the replaced warehouse (``None`` when nothing was kept).

    Raises:
        GeoImportError: the warehouse holds cases and ``replace`` is false.
    """
    from data.snapshot import publish
    from data.warehouse import apply_schema, connect

    work = Path(settings.work_db)
    backup = None
    if work.exists():
        cases = _cases_in(work, settings.timezone)
        if cases and not replace:
            raise GeoImportError(f"{work} holds {cases:,} cases; importing areas would replace the warehouse. Use "
                                 "another var_dir, or --replace to keep it as a backup")
        if cases:
            backup = work.with_name(f"{work.stem}.backup-{int(work.stat().st_mtime)}.duckdb")
            work.rename(backup)
    started = time.perf_counter()
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    tmp = settings.warehouse_dir / f".work.{os.getpid()}.geography.duckdb"
    tmp.unlink(missing_ok=True)
    con = connect(tmp, settings.timezone)
    try:
        apply_schema(con)
        con.register("areas_df", areas_table(geo.areas))
        con.execute("INSERT INTO areas SELECT * FROM areas_df")
        con.register("levels_df", geo.levels)
        con.execute("INSERT INTO area_levels (level, depth, name, name_en) SELECT level, depth, name, name_en "
                    "FROM levels_df")
        con.execute("INSERT INTO etl_runs (run_id, kind, started_at, finished_at, rows_in, rows_loaded, duration_s, "
                    "status, note) VALUES (nextval('etl_run_seq'), 'geography', ?, now(), ?, ?, ?, 'ok', ?)",
                    [datetime.now(settings.zone), len(geo.areas), len(geo.areas), time.perf_counter() - started,
                     "areas imported by app.py geography import"])
        con.execute("CHECKPOINT")
        con.close()
        os.replace(tmp, work)
        con = connect(work, settings.timezone)
        run_id = con.execute("SELECT max(run_id) FROM etl_runs").fetchone()[0]
        info = publish(con, settings.warehouse_dir, keep=settings.snapshots_keep, run_id=run_id)
        con.execute("UPDATE etl_runs SET snapshot = ? WHERE run_id = ?", [info.name, run_id])
        return info, backup
    finally:
        con.close()
        tmp.unlink(missing_ok=True)


def cmd_geography_import(settings, args) -> int:
    """``app.py geography import --mapping MAP FILE... [--replace]``; returns the exit status.

    Prints what was imported per level (and any repair or placement notes) on stderr, the published snapshot
    on stdout; a failure is one ``error: ...`` line and status 1.
    """
    try:
        files = [Path(f) for f in args.files]
        for f in files:
            if not f.exists():
                raise GeoImportError(f"file {f} does not exist")
        mapping = parse_mapping(Path(args.mapping))
        geo = build_geography(mapping, files)
        info, backup = write_warehouse(settings, geo, bool(getattr(args, "replace", False)))
    except GeoImportError as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    for note in geo.notes:
        print(f"note: {note}", file=sys.stderr)  # noqa: T201
    if backup is not None:
        print(f"kept the previous warehouse as {backup}", file=sys.stderr)  # noqa: T201
    counts = geo.areas["level"].value_counts()
    summary = ", ".join(f"{int(counts.get(r.level, 0))} {r.name_en}" for r in geo.levels.itertuples())
    print(f"imported {len(geo.areas)} areas ({summary}); published snapshot {info.name}")  # noqa: T201
    return 0
