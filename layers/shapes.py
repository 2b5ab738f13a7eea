"""Area polygons and label points from the ``areas`` table: the geometry every map layer draws on.

Geometry is big (3,116 micro-grid polygons are about 560 KB of GeoJSON) and changes only when
the reference tables are reloaded, so it is queried only when a map is drawn from scratch;
refreshes ask for :func:`points` (ids, names, label points) and compare the ids.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import duckdb
import pandas as pd

from layers import _sql
from metrics.scope import Scope

__all__ = ["shapes", "points", "geometry_of", "feature_collection", "ids_digest", "EMPTY_COLLECTION"]

EMPTY_COLLECTION: dict = {"type": "FeatureCollection", "features": []}


def shapes(con: duckdb.DuckDBPyConnection, scope: Scope, level: str) -> pd.DataFrame:
    """Areas of ``level`` inside the scope's area, with ``geojson_simple``, ordered by id."""
    return _sql.run(con, "area_shapes", {"level": level}, scope=scope)


def points(con: duckdb.DuckDBPyConnection, scope: Scope, level: str) -> pd.DataFrame:
    """Like :func:`shapes` without the polygons: ids, names, residents and label points."""
    return _sql.run(con, "area_points", {"level": level}, scope=scope)


def geometry_of(con: duckdb.DuckDBPyConnection, area_ids: Sequence[str]) -> pd.DataFrame:
    """Polygons of a few named areas (any level)."""
    if not area_ids:
        return pd.DataFrame(columns=["area_id", "level", "name", "name_en", "centroid_lon", "centroid_lat",
                                     "geojson_simple"])
    return _sql.run(con, "area_geometry", {"ids": [str(a) for a in area_ids]})


def feature_collection(df: pd.DataFrame) -> dict:
    """A GeoJSON FeatureCollection whose feature ids are the area ids (plotly's ``locations``).

    >>> fc = feature_collection(pd.DataFrame({"area_id": ["A"], "geojson_simple": ['{"type":"Point","coordinates":[1,2]}']}))
    >>> fc["features"][0]["id"], fc["features"][0]["geometry"]["type"]
    ('A', 'Point')
    """
    if df is None or df.empty:
        return dict(EMPTY_COLLECTION)
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "id": str(area_id), "properties": None, "geometry": json.loads(geom)}
                     for area_id, geom in zip(df["area_id"], df["geojson_simple"], strict=True)],
    }


def ids_digest(area_ids: Sequence[str]) -> str:
    """A short fingerprint of the polygon order: when it changes, the map must be redrawn whole."""
    h = hashlib.blake2b(digest_size=8)
    for area_id in area_ids:
        h.update(str(area_id).encode())
        h.update(b"\0")
    return h.hexdigest()
