"""Tests of the synthetic geography: exact counts, a clean hierarchy, exact tiling, residents and lookups."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, mapping

from data.demo.geography import BINJIANG, DistrictSpec, StreetSpec, build_areas, default_outline
from data.geography import (
    COLUMNS,
    LAND_USES,
    LEVELS,
    TABLE_COLUMNS,
    areas_table,
    load_outline,
    locate_points,
    microgrid_index,
)

REAL_OUTLINE = Path("/work/shared/data/binjiang/330108_binjiang_district.geojson")
EXPECTED_COUNTS = {"district": 1, "street": 3, "community": 65, "grid": 503, "microgrid": 3116}
PARENT_LEVEL = dict(zip(LEVELS[1:], LEVELS[:-1], strict=True))
ANCESTOR_COLUMN = {"street": "street_id", "community": "community_id", "grid": "grid_id"}
RIVER_POINT = (120.16, 30.215)  # in the Qiantang, north of the district's river bank


@pytest.fixture(scope="module")
def areas() -> gpd.GeoDataFrame:
    return build_areas()


@pytest.fixture(scope="module")
def table(areas: gpd.GeoDataFrame) -> pd.DataFrame:
    return areas_table(areas)


def _level(gdf: gpd.GeoDataFrame, level: str) -> gpd.GeoDataFrame:
    return gdf[gdf["level"] == level]


def _assert_tiles(gdf: gpd.GeoDataFrame) -> None:
    """Children's union equals the parent and children do not overlap (area sum equals the parent's)."""
    for level in LEVELS[1:]:
        children = _level(gdf, level)
        parents = _level(gdf, PARENT_LEVEL[level]).set_index("area_id").geometry
        for parent_id, kids in children.groupby("parent_id").geometry:
            parent = parents[parent_id]
            kids = np.asarray(kids.values, dtype=object)
            gap = shapely.union_all(kids).symmetric_difference(parent).area
            assert gap < 1e-6 * parent.area, (level, parent_id, gap / parent.area)
            assert shapely.area(kids).sum() == pytest.approx(parent.area, rel=1e-6), (level, parent_id)


# --------------------------------------------------------------------------------------------- structure
def test_exact_counts_per_level(areas: gpd.GeoDataFrame) -> None:
    assert areas["level"].value_counts().to_dict() == EXPECTED_COUNTS
    assert areas["area_id"].is_unique


def test_columns_crs_and_order(areas: gpd.GeoDataFrame) -> None:
    assert tuple(areas.columns) == COLUMNS
    assert areas.crs.to_epsg() == 4326
    assert areas["residents"].dtype == np.int64
    rank = areas["level"].map({lv: i for i, lv in enumerate(LEVELS)}).to_numpy()
    assert (np.diff(rank) >= 0).all()
    for _, ids in areas.groupby("level")["area_id"]:
        assert list(ids) == sorted(ids)


def test_ids_and_names(areas: gpd.GeoDataFrame) -> None:
    district = _level(areas, "district").iloc[0]
    assert (district["area_id"], district["name"], district["name_en"]) == ("330108", "滨江区", "Binjiang District")
    streets = _level(areas, "street")
    assert list(streets["area_id"]) == ["330108001", "330108002", "330108003"]
    assert list(streets["name"]) == ["西兴街道", "长河街道", "浦沿街道"]
    communities = _level(areas, "community")
    assert all(re.fullmatch(r"33010800[123]\d{3}", i) for i in communities["area_id"])
    assert (communities["area_id"].str[:9] == communities["parent_id"]).all()
    assert communities["name"].is_unique and communities["name"].str.endswith("社区").all()
    assert communities["name_en"].is_unique and communities["name_en"].str.endswith(" Community").all()
    grids = _level(areas, "grid")
    assert set(grids["area_id"]) == {f"G{i:03d}" for i in range(1, 504)}
    assert (grids["name"] == "网格 " + grids["area_id"].str[1:]).all()
    assert (grids["name_en"] == "Grid " + grids["area_id"].str[1:]).all()
    micro = _level(areas, "microgrid")
    assert micro["area_id"].str.fullmatch(r"G\d{3}-\d+").all()
    assert (micro["area_id"].str.split("-").str[0] == micro["parent_id"]).all()
    assert (micro["name"] == "微网格 " + micro["area_id"].str[1:]).all()
    assert (micro["name_en"] == "Micro-grid " + micro["area_id"].str[1:]).all()
    for grid_id, ids in micro.groupby("parent_id")["area_id"]:  # numbered 1..n within each grid
        assert sorted(int(i.split("-")[1]) for i in ids) == list(range(1, len(ids) + 1)), grid_id


def test_grids_numbered_along_streets(areas: gpd.GeoDataFrame) -> None:
    grids = _level(areas, "grid").sort_values("area_id")
    assert list(grids["community_id"]) == sorted(grids["community_id"])


def test_parent_links_and_ancestor_columns(areas: gpd.GeoDataFrame) -> None:
    district = _level(areas, "district").iloc[0]
    assert district["parent_id"] is None
    assert all(district[col] is None for col in ANCESTOR_COLUMN.values())
    rows = areas.set_index("area_id")
    for level in LEVELS[1:]:
        part = _level(areas, level)
        assert part["parent_id"].isin(_level(areas, PARENT_LEVEL[level])["area_id"]).all(), level
        parents = rows.loc[part["parent_id"]]
        for other, col in ANCESTOR_COLUMN.items():
            own = part[col].to_numpy(dtype=object)
            if other == level:  # the own-level column repeats the area's id
                assert (own == part["area_id"].to_numpy()).all(), (level, col)
            elif LEVELS.index(other) < LEVELS.index(level):  # inherited from the parent
                assert (own == parents[col].to_numpy(dtype=object)).all(), (level, col)
            else:
                assert all(v is None for v in own), (level, col)


def test_minimum_children(areas: gpd.GeoDataFrame) -> None:
    assert _level(areas, "grid")["parent_id"].value_counts().min() >= 2
    assert _level(areas, "microgrid")["parent_id"].value_counts().min() >= 2
    assert _level(areas, "community")["parent_id"].value_counts().min() >= 1


# ----------------------------------------------------------------------------------------------- geometry
def test_geometry_is_valid_and_single_polygons(areas: gpd.GeoDataFrame) -> None:
    assert areas.is_valid.all()
    assert (areas.geom_type == "Polygon").all()
    for level in LEVELS[1:]:
        assert shapely.coverage_is_valid(np.asarray(_level(areas, level).geometry.values, dtype=object)), level


def test_children_tile_their_parent(areas: gpd.GeoDataFrame) -> None:
    _assert_tiles(areas)


def test_each_microgrid_lies_in_exactly_one_ancestor(areas: gpd.GeoDataFrame) -> None:
    micro = _level(areas, "microgrid")
    points = shapely.points(micro["centroid_lon"].to_numpy(), micro["centroid_lat"].to_numpy())
    for level, col in ANCESTOR_COLUMN.items():
        part = _level(areas, level)
        tree = shapely.STRtree(np.asarray(part.geometry.values, dtype=object))
        point_idx, hit = tree.query(points, predicate="within")
        assert np.array_equal(np.bincount(point_idx, minlength=len(micro)), np.ones(len(micro))), level
        assert (part["area_id"].to_numpy()[hit] == micro[col].to_numpy()[point_idx]).all(), level


def test_label_points_inside_and_areas_plausible(areas: gpd.GeoDataFrame) -> None:
    geoms = np.asarray(areas.geometry.values, dtype=object)
    assert shapely.contains_xy(geoms, areas["centroid_lon"].to_numpy(), areas["centroid_lat"].to_numpy()).all()
    district_km2 = _level(areas, "district")["area_km2"].iloc[0]
    assert 65 < district_km2 < 82
    for level in LEVELS[1:]:
        assert _level(areas, level)["area_km2"].sum() == pytest.approx(district_km2, rel=1e-6), level


def test_default_outline_is_binjiang_sized() -> None:
    outline = default_outline()
    assert outline.is_valid and 25 <= len(outline.exterior.coords) - 1 <= 40
    minx, miny, maxx, maxy = outline.bounds
    assert 120.12 <= minx < maxx <= 120.24 and 30.13 <= miny < maxy <= 30.24
    km2 = gpd.GeoSeries([outline], crs=4326).to_crs(32650).area.iloc[0] / 1e6
    assert 65 < km2 < 82
    assert not outline.contains(Point(*RIVER_POINT))


# ---------------------------------------------------------------------------------------------- residents
def test_street_residents_exact_and_sums_consistent(areas: gpd.GeoDataFrame) -> None:
    streets = _level(areas, "street").set_index("area_id")["residents"]
    assert streets.to_dict() == {s.street_id: s.residents for s in BINJIANG.streets}
    assert _level(areas, "district")["residents"].iloc[0] == 503_859
    assert (areas["residents"] >= 0).all()
    rows = areas.set_index("area_id")["residents"]
    for level in LEVELS[1:]:
        sums = _level(areas, level).groupby("parent_id")["residents"].sum()
        assert (rows.loc[sums.index] == sums).all(), level


def test_grid_residents_look_like_real_grids(areas: gpd.GeoDataFrame) -> None:
    grids = _level(areas, "grid")
    assert 800 < grids["residents"].median() < 1300  # a real grid is about 1,000 residents
    dense = grids[grids["land_use"] == "residential"]
    sparse = grids[grids["land_use"].isin(["industrial", "park"])]
    assert len(sparse) > 0
    assert sparse["area_km2"].median() > 2 * dense["area_km2"].median()
    assert sparse["residents"].median() < dense["residents"].median()


# -------------------------------------------------------------------------------------------------- realism
def test_land_use_values_and_dominance(areas: gpd.GeoDataFrame) -> None:
    micro = _level(areas, "microgrid")
    assert set(micro["land_use"]) == set(LAND_USES)
    assert areas["land_use"].isin(LAND_USES).all()
    by_use = micro.groupby(["grid_id", "land_use"])["area_km2"].sum().unstack(fill_value=0.0)
    grids = _level(areas, "grid").set_index("area_id")["land_use"]
    dominant = by_use.idxmax(axis=1)
    assert (grids.loc[dominant.index] == dominant).mean() > 0.99  # exact ties may resolve either way


def test_area_sizes_vary_like_real_grids(areas: gpd.GeoDataFrame) -> None:
    micro = _level(areas, "microgrid")
    p10, p90 = micro["area_km2"].quantile([0.1, 0.9])
    assert p90 / p10 > 5
    median = micro.groupby("land_use")["area_km2"].median()
    assert median["industrial"] > median["residential"]
    assert median["park"] > median["residential"]


# ------------------------------------------------------------------------------------------- determinism
def test_same_seed_same_output_other_seed_other_geometry(areas: gpd.GeoDataFrame) -> None:
    again = build_areas()
    assert list(again["area_id"]) == list(areas["area_id"])
    assert np.array_equal(again["residents"].to_numpy(), areas["residents"].to_numpy())
    assert list(shapely.to_wkb(again.geometry.values)) == list(shapely.to_wkb(areas.geometry.values))
    other = build_areas(seed=7)
    assert other["level"].value_counts().to_dict() == EXPECTED_COUNTS
    micro_a = _level(areas, "microgrid").geometry.values
    micro_b = _level(other, "microgrid").geometry.values
    assert list(shapely.to_wkb(micro_a)) != list(shapely.to_wkb(micro_b))


# ---------------------------------------------------------------------------------------------- table
def test_areas_table_columns_and_full_precision(areas: gpd.GeoDataFrame, table: pd.DataFrame) -> None:
    assert tuple(table.columns) == TABLE_COLUMNS
    assert len(table) == len(areas)
    geoms = np.asarray(areas.geometry.values, dtype=object)
    assert shapely.equals_exact(shapely.from_wkb(table["geometry_wkb"].to_numpy()), geoms, tolerance=0).all()
    parsed = [json.loads(text) for text in table["geojson"]]
    assert {p["type"] for p in parsed} <= {"Polygon", "MultiPolygon"}
    assert shapely.equals_exact(shapely.from_geojson(table["geojson"].to_numpy()), geoms, tolerance=1e-12).all()


def test_areas_table_simplified_geometry(areas: gpd.GeoDataFrame, table: pd.DataFrame) -> None:
    simple = shapely.from_geojson(table["geojson_simple"].to_numpy())
    full = np.asarray(areas.geometry.values, dtype=object)
    assert not shapely.is_empty(simple).any()
    assert shapely.get_num_coordinates(simple).sum() < shapely.get_num_coordinates(full).sum()
    coords = shapely.get_coordinates(simple)
    assert np.allclose(coords, np.round(coords, 5), rtol=0, atol=1e-9)
    for text in table["geojson_simple"].head(50):
        assert json.loads(text)["type"] in {"Polygon", "MultiPolygon"}
    # Coverage simplification keeps neighbours together: each level still covers the district.
    district_area = full[0].area
    for level in ("street", "grid", "microgrid"):
        mine = (table["level"] == level).to_numpy()
        assert shapely.area(simple[mine]).sum() == pytest.approx(district_area, rel=0.02), level
        assert shapely.coverage_is_valid(simple[mine]), level


# -------------------------------------------------------------------------------------------- locating
def test_locate_points(areas: gpd.GeoDataFrame) -> None:
    tree, ids = microgrid_index(areas)
    micro = _level(areas, "microgrid")
    assert list(ids) == list(micro["area_id"])
    found = locate_points(micro["centroid_lon"].to_numpy(), micro["centroid_lat"].to_numpy(), tree, ids)
    assert list(found) == list(micro["area_id"])
    outside = locate_points(np.array([0.0, RIVER_POINT[0], np.nan]), np.array([0.0, RIVER_POINT[1], 30.2]), tree, ids)
    assert outside.dtype == object and list(outside) == [None, None, None]


def test_locate_points_on_shared_edge_is_deterministic(areas: gpd.GeoDataFrame) -> None:
    tree, ids = microgrid_index(areas)
    first = tree.geometries[0]
    neighbours = tree.query(first, predicate="touches")
    shared = shapely.intersection(first.boundary, shapely.boundary(tree.geometries[neighbours]))
    best = int(np.argmax(shapely.length(shared)))
    line = next(p for p in shapely.get_parts(shapely.line_merge(shared[best])) if p.geom_type == "LineString")
    point = line.interpolate(0.5, normalized=True)
    lon, lat = np.array([point.x, 0.0, point.x]), np.array([point.y, 0.0, point.y])
    forward = locate_points(lon, lat, tree, ids)
    backward = locate_points(lon[::-1], lat[::-1], tree, ids)[::-1]
    assert forward[0] is not None and forward[0] == forward[2] == backward[0] == backward[2]
    assert forward[0] in {ids[0], ids[neighbours[best]]}


# ------------------------------------------------------------------------------------- other boundaries
def test_load_outline_rejects_a_file_without_polygons(tmp_path: Path) -> None:
    path = tmp_path / "points.geojson"
    feature = {"type": "Feature", "properties": {}, "geometry": mapping(Point(120.2, 30.2))}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    with pytest.raises(ValueError, match="points.geojson"):
        load_outline(path)


def test_small_spec_on_a_custom_boundary(tmp_path: Path) -> None:
    path = tmp_path / "square.geojson"
    square = shapely.box(120.0, 30.0, 120.03, 30.03)
    path.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": mapping(square)}))
    spec = DistrictSpec(
        "900001", "测试区", "Test District",
        (StreetSpec("900001001", "甲街道", "Jia Street", 1000), StreetSpec("900001002", "乙街道", "Yi Street", 2500)),
        n_communities=3, n_grids=7, n_microgrids=20,
    )
    gdf = build_areas(seed=1, boundary=path, spec=spec)
    assert gdf["level"].value_counts().to_dict() == {"district": 1, "street": 2, "community": 3, "grid": 7,
                                                     "microgrid": 20}
    assert _level(gdf, "street").set_index("area_id")["residents"].to_dict() == {"900001001": 1000, "900001002": 2500}
    _assert_tiles(gdf)
    with pytest.raises(ValueError):
        build_areas(spec=DistrictSpec("1", "x", "x", spec.streets, n_communities=3, n_grids=5, n_microgrids=20))


@pytest.mark.skipif(not REAL_OUTLINE.exists(), reason=f"real Binjiang outline not available at {REAL_OUTLINE}")
def test_real_boundary() -> None:
    real = load_outline(REAL_OUTLINE)
    gdf = build_areas(boundary=REAL_OUTLINE)
    assert gdf["level"].value_counts().to_dict() == EXPECTED_COUNTS
    assert _level(gdf, "street")["residents"].sum() == 503_859
    micro = np.asarray(_level(gdf, "microgrid").geometry.values, dtype=object)
    assert shapely.union_all(micro).symmetric_difference(real).area < 1e-6 * real.area
    assert shapely.area(micro).sum() == pytest.approx(real.area, rel=1e-6)
    _assert_tiles(gdf)
