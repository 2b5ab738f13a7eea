"""Areas in the warehouse: the level names, the ``areas`` table's rows, and locating points in micro-grids.

Every deployment has areas with ids, names, parents, residents and polygons at five levels, whoever
drew them: the ETL's point-in-polygon step (:func:`locate_points`), the maps and the area checks
only need this module. A boundary file is read with :func:`load_outline`. The demo's synthetic
tessellation of a district outline lives in :mod:`data.demo.geography`.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon

LEVELS: tuple[str, ...] = ("district", "street", "community", "grid", "microgrid")
LAND_USES: tuple[str, ...] = ("residential", "mixed", "commercial", "industrial", "park")
COLUMNS: tuple[str, ...] = (
    "area_id", "level", "name", "name_en", "parent_id", "street_id", "community_id", "grid_id", "residents",
    "land_use", "area_km2", "centroid_lon", "centroid_lat", "geometry",
)
TABLE_COLUMNS: tuple[str, ...] = COLUMNS[:-1] + ("geometry_wkb", "geojson", "geojson_simple")

# Simplification tolerance (degrees) of `geojson_simple` per level: about 50 m for micro-grids up to about 200 m
# for streets, which is below one screen pixel at the zoom where each level is drawn.
SIMPLIFY_TOLERANCE: dict[str, float] = {
    "microgrid": 0.0005, "grid": 0.0008, "community": 0.0012, "street": 0.002, "district": 0.002,
}

__all__ = [
    "COLUMNS", "LAND_USES", "LEVELS", "SIMPLIFY_TOLERANCE", "TABLE_COLUMNS", "areas_table", "load_outline",
    "locate_points", "microgrid_index", "polygon_parts",
]


def polygon_parts(geom: shapely.Geometry | None) -> list[Polygon]:
    """The non-empty polygons inside any geometry (intersections can return lines and points as well)."""
    if geom is None or geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom] if geom.area > 0 else []
    if hasattr(geom, "geoms"):
        return [p for g in geom.geoms for p in polygon_parts(g)]
    return []


def load_outline(path: str | Path) -> Polygon | MultiPolygon:
    """Read a boundary file (GeoJSON or anything GDAL reads) as the union of all its polygonal features.

    Args:
        path: The boundary file. Coordinates are converted to WGS84 when the file declares another CRS.

    Returns:
        A Polygon, or a MultiPolygon when the boundary has several separate parts.

    Raises:
        ValueError: If the file holds no polygon, naming the file.
    """
    path = Path(path)
    frame = gpd.read_file(path)
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    geoms = np.asarray(frame.geometry.values, dtype=object) if len(frame) else np.empty(0, dtype=object)
    parts = [p for g in geoms if g is not None for p in polygon_parts(shapely.make_valid(g))]
    if not parts:
        raise ValueError(f"{path}: the boundary file contains no Polygon or MultiPolygon feature")
    outline = shapely.union_all(parts)
    if isinstance(outline, MultiPolygon) and len(outline.geoms) == 1:
        outline = outline.geoms[0]
    return outline


# ----------------------------------------------------------------------------------------- derived outputs
def _rounded(geoms: np.ndarray, digits: int = 5) -> np.ndarray:
    """Round coordinates so the web tier sends a few bytes per vertex (5 decimals is about 1 m).

    Plain rounding keeps shared edges identical; the rare tiny polygon that rounding folds onto itself is
    snapped with GEOS's precision reducer instead, which keeps it valid at the cost of a sub-metre mismatch.
    """
    out = shapely.transform(geoms, lambda c: np.round(c, digits))
    bad = ~shapely.is_valid(out)
    if bad.any():
        fixed = shapely.set_precision(geoms[bad], 10.0**-digits)
        out[bad] = np.where(shapely.is_empty(fixed), out[bad], fixed)
    return out


def areas_table(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """Rows for the warehouse table ``areas``: the attributes plus the geometry as WKB and as GeoJSON text.

    ``geojson_simple`` is simplified per level with coverage simplification, so neighbouring areas keep their
    shared edges (no slivers or gaps on the map), and rounded to 5 decimals (about 1 m).

    Args:
        gdf: The output of `build_areas`.

    Returns:
        A DataFrame with columns ``TABLE_COLUMNS`` in that order.
    """
    df = pd.DataFrame(gdf.drop(columns="geometry"))
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    df["geometry_wkb"] = list(shapely.to_wkb(geoms))
    df["geojson"] = list(shapely.to_geojson(geoms))
    simple = np.empty(len(geoms), dtype=object)
    level = gdf["level"].to_numpy()
    for lv in LEVELS:
        mine = level == lv
        if mine.any():
            simple[mine] = shapely.coverage_simplify(geoms[mine], SIMPLIFY_TOLERANCE[lv])
    df["geojson_simple"] = list(shapely.to_geojson(_rounded(simple)))
    return df[list(TABLE_COLUMNS)]


def microgrid_index(gdf: gpd.GeoDataFrame) -> tuple[shapely.STRtree, np.ndarray]:
    """An STRtree over the micro-grid polygons and the matching array of micro-grid ids, for `locate_points`."""
    micro = gdf[gdf["level"] == "microgrid"]
    geoms = np.asarray(micro.geometry.values, dtype=object)
    return shapely.STRtree(geoms), micro["area_id"].to_numpy(dtype=object)


def locate_points(lon: np.ndarray, lat: np.ndarray, tree: shapely.STRtree, ids: np.ndarray) -> np.ndarray:
    """The micro-grid id of each point (object array; None outside every micro-grid or for NaN coordinates).

    A point on an edge shared by several micro-grids goes to the one that comes first in ``ids``, so the
    answer never depends on the order of the points.
    """
    lon, lat = np.atleast_1d(np.asarray(lon, dtype=float)), np.atleast_1d(np.asarray(lat, dtype=float))
    out = np.full(len(lon), None, dtype=object)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return out
    where = np.flatnonzero(ok)
    point_idx, tree_idx = tree.query(shapely.points(lon[ok], lat[ok]), predicate="intersects")
    order = np.lexsort((tree_idx, point_idx))
    point_idx, tree_idx = point_idx[order], tree_idx[order]
    first = np.unique(point_idx, return_index=True)[1]
    out[where[point_idx[first]]] = ids[tree_idx[first]]
    return out

