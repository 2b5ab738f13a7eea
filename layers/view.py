"""Framing the map: the bounding box of some polygons and the centre and zoom that fit it.

A wall map has nobody to pan or zoom it, and the same URL runs on 1920×1080 and 3840×2160
screens, so the view is computed from the area's polygons and the map's size in pixels (which
the browser reports) instead of being a constant.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = ["Bounds", "bounds", "fit", "TILE_PX"]

Bounds = tuple[float, float, float, float]  # west, south, east, north (degrees)
# MapLibre's world is 512 px wide at zoom 0.
TILE_PX = 512


def _points(coords) -> Iterable[tuple[float, float]]:
    """Every (lon, lat) in a GeoJSON coordinates array of any depth."""
    if coords and isinstance(coords[0], (int, float)):
        yield float(coords[0]), float(coords[1])
        return
    for part in coords or ():
        yield from _points(part)


def bounds(geometries: Iterable[dict]) -> Bounds | None:
    """The bounding box of GeoJSON geometries; ``None`` when there are none.

    >>> bounds([{"type": "Polygon", "coordinates": [[[120.1, 30.1], [120.3, 30.1], [120.2, 30.25], [120.1, 30.1]]]}])
    (120.1, 30.1, 120.3, 30.25)
    """
    west = south = math.inf
    east = north = -math.inf
    for geometry in geometries:
        for lon, lat in _points((geometry or {}).get("coordinates")):
            west, east = min(west, lon), max(east, lon)
            south, north = min(south, lat), max(north, lat)
    if west == math.inf:
        return None
    return west, south, east, north


def _mercator_y(lat: float) -> float:
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def _inverse_mercator_y(y: float) -> float:
    return math.degrees(2 * math.atan(math.exp(y)) - math.pi / 2)


def fit(box: Bounds, width_px: float, height_px: float, padding: float = 0.04,
        max_zoom: float = 17.0) -> tuple[float, float, float]:
    """The centre (lon, lat) and zoom at which ``box`` fits a ``width_px`` × ``height_px`` map.

    Args:
        box: west, south, east, north.
        width_px: map width in CSS pixels.
        height_px: map height in CSS pixels.
        padding: share of each side left empty around the box.
        max_zoom: cap for tiny areas (a single micro-grid).

    Returns:
        ``(lon, lat, zoom)`` for ``layout.map.center`` and ``layout.map.zoom``.
    """
    west, south, east, north = box
    y_south, y_north = _mercator_y(south), _mercator_y(north)
    lon = (west + east) / 2
    lat = _inverse_mercator_y((y_south + y_north) / 2)
    frac_x = max((east - west) / 360.0, 1e-9)
    frac_y = max((y_north - y_south) / (2 * math.pi), 1e-9)
    usable_w = max(width_px * (1 - 2 * padding), 1.0)
    usable_h = max(height_px * (1 - 2 * padding), 1.0)
    zoom = math.log2(min(usable_w / (TILE_PX * frac_x), usable_h / (TILE_PX * frac_y)))
    return lon, lat, round(min(zoom, max_zoom), 3)
