"""The layers' own SQL on the demo snapshot: polygons per level and scope."""

from __future__ import annotations

import json

import duckdb
import pytest

from data.snapshot import read_current
from layers import shapes
from metrics.scope import Scope


@pytest.fixture
def con(small_demo):
    c = duckdb.connect(str(read_current(small_demo.current_file).path), read_only=True)
    yield c
    c.close()


def test_points_and_shapes_list_the_same_areas_in_the_same_order(con):
    pts = shapes.points(con, Scope("330108"), "grid")
    geo = shapes.shapes(con, Scope("330108"), "grid")
    n = con.execute("SELECT count(*) FROM areas WHERE level = 'grid'").fetchone()[0]
    assert len(pts) == n and pts["area_id"].tolist() == geo["area_id"].tolist()
    assert pts["area_id"].is_monotonic_increasing
    json.loads(geo["geojson_simple"].iloc[0])


def test_a_street_scope_keeps_only_its_own_areas(con):
    street = con.execute("SELECT area_id FROM areas WHERE level = 'street' ORDER BY 1 LIMIT 1").fetchone()[0]
    pts = shapes.points(con, Scope(street), "microgrid")
    assert len(pts) > 0 and set(pts["street_id"]) == {street}


def test_geometry_of_named_areas(con):
    df = shapes.geometry_of(con, ["330108", "G001"])
    assert df["area_id"].tolist() == ["330108", "G001"]
    assert shapes.geometry_of(con, []).empty

