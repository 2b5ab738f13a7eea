"""Framing the map: bounding boxes and the zoom that fits them."""

from __future__ import annotations

import math

import pytest

from layers.view import TILE_PX, bounds, fit

SQUARE = {"type": "Polygon", "coordinates": [[[120.0, 30.0], [120.2, 30.0], [120.2, 30.1], [120.0, 30.1], [120.0, 30.0]]]}
MULTI = {"type": "MultiPolygon", "coordinates": [[[[121.0, 31.0], [121.5, 31.0], [121.5, 31.2], [121.0, 31.0]]]]}


def test_bounds_of_polygons_and_multipolygons():
    assert bounds([SQUARE]) == (120.0, 30.0, 120.2, 30.1)
    assert bounds([SQUARE, MULTI]) == (120.0, 30.0, 121.5, 31.2)


def test_bounds_of_nothing_is_none():
    assert bounds([]) is None
    assert bounds([{"type": "Polygon", "coordinates": []}]) is None


def _width_px(box, zoom):
    return (box[2] - box[0]) / 360 * TILE_PX * 2 ** zoom


def test_fit_fills_the_limiting_side_and_centres_the_box():
    box = (120.0, 30.0, 120.2, 30.1)  # wider than tall on a square map: the width limits
    lon, lat, zoom = fit(box, 800, 800, padding=0)
    assert lon == pytest.approx(120.1)
    assert 30.0 < lat < 30.1
    assert _width_px(box, zoom) == pytest.approx(800, rel=1e-3)


def test_fit_leaves_the_padding_free():
    box = (120.0, 30.0, 120.2, 30.1)
    _, _, zoom = fit(box, 800, 800, padding=0.1)
    assert _width_px(box, zoom) == pytest.approx(640, rel=1e-3)


def test_a_screen_twice_as_big_zooms_in_by_one():
    box = (120.0, 30.0, 120.2, 30.25)
    _, _, z1 = fit(box, 845, 820)
    _, _, z2 = fit(box, 1690, 1640)
    assert z2 - z1 == pytest.approx(1.0, abs=1e-3)


def test_tiny_areas_are_capped():
    _, _, zoom = fit((120.0, 30.0, 120.0000001, 30.0000001), 800, 800, max_zoom=17)
    assert zoom == 17
    assert not math.isnan(zoom)
