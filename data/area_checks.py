"""Checks and completions only an ``areas`` file needs: readable polygons, and the geometry columns it may leave out.

Called by :mod:`data.load` on the staged rows of a batch of ``areas`` files (``stg_chk`` before the
merge, ``stg_ok`` after validation), inside the cycle's transaction. Vectorised with shapely: a
district's 3,000 micro-grids are checked in milliseconds.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import shapely

__all__ = ["check_geometry", "complete_areas", "geometries"]


def check_geometry(con: duckdb.DuckDBPyConnection) -> None:
    """Quarantine area rows whose geometry (WKB, or GeoJSON when there is no WKB) is not a readable polygon."""
    tbl = con.sql("SELECT __row, geometry_wkb, geojson FROM stg_chk WHERE __reason IS NULL").to_arrow_table()
    if tbl.num_rows == 0:
        return
    geoms = geometries(tbl.column("geometry_wkb").to_pylist(), tbl.column("geojson").to_pylist())
    kind = shapely.get_type_id(geoms)  # 3 Polygon, 6 MultiPolygon, -1 missing
    ok = np.isin(kind, (3, 6)) & ~shapely.is_empty(geoms)
    bad = np.asarray(tbl.column("__row").to_pylist(), dtype=np.int64)[~ok]
    if bad.size:
        con.execute("UPDATE stg_chk SET __reason = 'bad_geometry', __detail = 'geometry is not a readable polygon' "
                    "WHERE list_contains(?, __row)", [bad.tolist()])


def geometries(wkb: list, geojson: list) -> np.ndarray:
    """Shapely geometries from WKB, falling back to GeoJSON; None where neither parses (vectorised)."""
    geoms = shapely.from_wkb(np.array([bytes(w) if w is not None else None for w in wkb], dtype=object),
                             on_invalid="ignore")
    missing = np.flatnonzero(shapely.is_missing(geoms))
    if missing.size:
        texts = np.array([geojson[i] for i in missing], dtype=object)
        geoms[missing] = shapely.from_geojson(texts, on_invalid="ignore")
    return geoms


def complete_areas(con: duckdb.DuckDBPyConnection) -> None:
    """Fill the geometry columns an areas file may leave out.

    WKB from GeoJSON or back, the simplified GeoJSON as the full one, a label point inside the
    polygon.
    """
    tbl = con.sql("""SELECT area_id, geometry_wkb, geojson, geojson_simple, centroid_lon, centroid_lat FROM stg_ok
                         WHERE geometry_wkb IS NULL OR geojson IS NULL OR geojson_simple IS NULL
                            OR centroid_lon IS NULL OR centroid_lat IS NULL""").to_arrow_table()
    if tbl.num_rows == 0:
        return
    wkb, gj = tbl.column("geometry_wkb").to_pylist(), tbl.column("geojson").to_pylist()
    geoms = geometries(wkb, gj)
    label = shapely.point_on_surface(geoms)
    new_wkb = shapely.to_wkb(geoms)
    new_gj = shapely.to_geojson(geoms)
    simple = tbl.column("geojson_simple").to_pylist()
    lon, lat = tbl.column("centroid_lon").to_pylist(), tbl.column("centroid_lat").to_pylist()
    fill = pa.table({
        "area_id": tbl.column("area_id"),
        "geometry_wkb": pa.array([bytes(w) if w is not None else n for w, n in zip(wkb, new_wkb, strict=True)],
                                 type=pa.binary()),
        "geojson": pa.array([g if g is not None else n for g, n in zip(gj, new_gj, strict=True)], type=pa.string()),
        "geojson_simple": pa.array([s if s is not None else (g if g is not None else n)
                                    for s, g, n in zip(simple, gj, new_gj, strict=True)], type=pa.string()),
        "centroid_lon": pa.array([v if v is not None else x for v, x in zip(lon, shapely.get_x(label), strict=True)]),
        "centroid_lat": pa.array([v if v is not None else y for v, y in zip(lat, shapely.get_y(label), strict=True)]),
    })
    con.register("stg_areas_fill", fill)
    try:
        con.execute("""UPDATE stg_ok SET geometry_wkb = f.geometry_wkb, geojson = f.geojson,
                              geojson_simple = f.geojson_simple, centroid_lon = f.centroid_lon,
                              centroid_lat = f.centroid_lat
                       FROM stg_areas_fill f WHERE stg_ok.area_id = f.area_id""")
    finally:
        con.unregister("stg_areas_fill")
