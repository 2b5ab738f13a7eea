"""``app.py geography import`` on small polygons made here, and on LA's council file when it is present."""

from __future__ import annotations

import json
from argparse import Namespace
from pathlib import Path

import duckdb
import geopandas as gpd
import pytest
from shapely.geometry import Polygon, box

from data.geo_import import cmd_geography_import
from data.warehouse import apply_schema, connect
from tests.conftest import settings_for, shared_data

# A 2 x 1 degree "city" near 10°E 50°N: two boroughs (west, east), each cut into two districts (south, north).
WEST, EAST = box(10.0, 50.0, 10.5, 50.5), box(10.5, 50.0, 11.0, 50.5)
DISTRICTS = {"11": box(10.0, 50.0, 10.5, 50.25), "12": box(10.0, 50.25, 10.5, 50.5),
             "21": box(10.5, 50.0, 11.0, 50.25), "22": box(10.5, 50.25, 11.0, 50.5)}


def _geojson(path: Path, features: list[tuple[dict, Polygon]], crs: str | None = None) -> Path:
    """A GeoJSON file written by hand (so "no CRS" really is no CRS member)."""
    doc = {"type": "FeatureCollection",
           "features": [{"type": "Feature", "properties": p, "geometry": g.__geo_interface__} for p, g in features]}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _boroughs(tmp_path: Path) -> Path:
    return _geojson(tmp_path / "boroughs.geojson", [({"BoroCode": 1, "BoroName": "West Side"}, WEST),
                                                    ({"BoroCode": 2, "BoroName": "East Side"}, EAST)])


def _districts(tmp_path: Path, name: str = "districts.geojson") -> Path:
    return _geojson(tmp_path / name, [({"cd": k, "pop": 1000 * int(k)}, g) for k, g in DISTRICTS.items()])


def _mapping(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "geography.toml"
    path.write_text(text, encoding="utf-8")
    return path


THREE_LEVELS = """
[geography]
name = "测试市"
name_en = "Testville"
level_name = "城市"
level_name_en = "City"

[[geography.levels]]
name = "区"
name_en = "Borough"
file = 1
id = "BoroCode"
name_property = "BoroName"

[[geography.levels]]
name = "社区区"
name_en = "Community District"
file = "districts.geojson"
id = "cd"
name_template = "Community District {id}"
residents = "pop"
"""


def _run(settings, mapping: Path, *files: Path, replace: bool = False) -> int:
    return cmd_geography_import(settings, Namespace(mapping=mapping, files=list(files), replace=replace))


def _rows(settings, sql: str) -> list[tuple]:
    con = connect(settings.work_db, settings.timezone, read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _snapshot_rows(settings, sql: str) -> list[tuple]:
    from data.snapshot import read_current

    info = read_current(settings.current_file)
    con = connect(info.path, settings.timezone, read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _add_case(settings) -> None:
    con = connect(settings.work_db, settings.timezone)
    try:
        mg = con.execute("SELECT area_id, street_id FROM areas WHERE level = 'microgrid' LIMIT 1").fetchone()
        con.execute("INSERT INTO events (case_id, channel, category_id, category_l1, urgency, route, department_id, "
                    "needs_dispatch, microgrid_id, street_id, received_at, status, updated_at) VALUES "
                    "('C1', 'other', 'x', 'x', 'normal', 'auto', 'd', false, ?, ?, now(), 'received', now())", list(mg))
    finally:
        con.close()


def test_three_levels_with_a_template_containment_and_residents_summed_up(tmp_path, capsys):
    settings = settings_for(tmp_path / "var")
    code = _run(settings, _mapping(tmp_path, THREE_LEVELS), _boroughs(tmp_path), _districts(tmp_path))
    assert code == 0, capsys.readouterr().err
    assert "imported 7 areas (1 City, 2 Borough, 4 Community District)" in capsys.readouterr().out
    areas = {r[0]: r[1:] for r in _snapshot_rows(
        settings, "SELECT area_id, level, name, parent_id, street_id, community_id, grid_id, residents FROM areas")}
    assert areas["ALL"] == ("district", "测试市", None, None, None, None, 11_000 + 12_000 + 21_000 + 22_000)
    assert areas["1"] == ("street", "West Side", "ALL", "1", None, None, 11_000 + 12_000)
    # parents found by containment (no parent property): the districts 1x lie in borough 1
    assert areas["12"] == ("microgrid", "Community District 12", "1", "1", None, None, 12_000)
    assert areas["22"][2:4] == ("2", "2")
    assert _snapshot_rows(settings, "SELECT level, depth, name, name_en FROM area_levels ORDER BY depth") == [
        ("district", 0, "城市", "City"), ("street", 1, "区", "Borough"),
        ("microgrid", 2, "社区区", "Community District")]
    km2, lon, lat = _rows(settings, "SELECT area_km2, centroid_lon, centroid_lat FROM areas WHERE area_id = '11'")[0]
    assert 10.0 < lon < 10.5 and 50.0 < lat < 50.25
    assert km2 == pytest.approx(35.8 * 27.8, rel=0.02)  # 0.5° of longitude at 50°N x 0.25° of latitude


def test_two_levels_from_one_feature_on_top_and_the_place_name_from_the_mapping(tmp_path, capsys):
    settings = settings_for(tmp_path / "var")
    city = _geojson(tmp_path / "city.geojson", [({"id": "T"}, box(10.0, 50.0, 11.0, 50.5))])
    mapping = _mapping(tmp_path, """
[geography]
name_en = "Testville"
[[geography.levels]]
name_en = "City"
file = 1
id = "id"
[[geography.levels]]
name_en = "District"
file = 2
id = "cd"
""")
    assert _run(settings, mapping, city, _districts(tmp_path)) == 0, capsys.readouterr().err
    rows = _snapshot_rows(settings, "SELECT area_id, level, name_en, parent_id, street_id, residents FROM areas "
                                    "ORDER BY area_id")
    assert rows[0] == ("11", "microgrid", "11", "T", None, None)  # no residents published: NULL, not 0
    assert rows[-1] == ("T", "district", "Testville", None, None, None)
    assert [r[0] for r in _snapshot_rows(settings, "SELECT level FROM area_levels ORDER BY depth")] == [
        "district", "microgrid"]


def test_a_file_in_web_mercator_is_reprojected(tmp_path, capsys):
    settings = settings_for(tmp_path / "var")
    frame = gpd.GeoDataFrame({"cd": list(DISTRICTS)}, geometry=list(DISTRICTS.values()), crs=4326).to_crs(3857)
    frame.to_file(tmp_path / "districts.gpkg", driver="GPKG")
    mapping = _mapping(tmp_path, THREE_LEVELS.replace('"districts.geojson"', '"districts.gpkg"').replace(
        'residents = "pop"', ""))
    assert _run(settings, mapping, _boroughs(tmp_path), tmp_path / "districts.gpkg") == 0, capsys.readouterr().err
    lon, lat = _rows(settings, "SELECT centroid_lon, centroid_lat FROM areas WHERE area_id = '21'")[0]
    assert 10.5 < lon < 11.0 and 50.0 < lat < 50.25


def test_projected_coordinates_without_a_crs_are_refused(tmp_path, capsys):
    settings = settings_for(tmp_path / "var")
    metres = _geojson(tmp_path / "districts.geojson",
                      [({"cd": "11"}, box(1_113_194, 6_446_275, 1_168_854, 6_489_463))])
    mapping = _mapping(tmp_path, THREE_LEVELS.replace('residents = "pop"', ""))
    assert _run(settings, mapping, _boroughs(tmp_path), metres) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "not longitude/latitude" in err and "districts.geojson" in err
    assert not settings.work_db.exists()


def test_a_bow_tie_is_repaired_and_said_so(tmp_path, capsys):
    settings = settings_for(tmp_path / "var")
    bow_tie = Polygon([(10.0, 50.0), (10.5, 50.5), (10.5, 50.0), (10.0, 50.5)])
    assert not bow_tie.is_valid
    parts = _geojson(tmp_path / "districts.geojson", [({"cd": "11"}, bow_tie)])
    mapping = _mapping(tmp_path, THREE_LEVELS.replace('residents = "pop"', ""))
    assert _run(settings, mapping, _boroughs(tmp_path), parts) == 0
    assert "repaired 1 invalid polygon(s): 11" in capsys.readouterr().err
    assert _rows(settings, "SELECT count(*) FROM areas WHERE area_id = '11'") == [(1,)]


def test_residents_from_a_csv(tmp_path, capsys):
    settings = settings_for(tmp_path / "var")
    (tmp_path / "pop.csv").write_text("code,population\n11,\"1,500\"\n12,500\n21,100\n22,0\n99,7\n", encoding="utf-8")
    mapping = _mapping(tmp_path, THREE_LEVELS.replace('residents = "pop"', "").replace(
        'level_name_en = "City"', 'level_name_en = "City"\nresidents_csv = "pop.csv"\nresidents_id_column = "code"\n'
                                  'residents_column = "population"'))
    assert _run(settings, mapping, _boroughs(tmp_path), _districts(tmp_path)) == 0
    assert "1 id(s) match no area: 99" in capsys.readouterr().err
    res = dict(_rows(settings, "SELECT area_id, residents FROM areas"))
    assert (res["11"], res["1"], res["2"], res["ALL"]) == (1500, 2000, 100, 2100)


def test_a_parent_property_that_names_no_parent_is_one_error_line(tmp_path, capsys):
    settings = settings_for(tmp_path / "var")
    mapping = _mapping(tmp_path, THREE_LEVELS.replace('residents = "pop"', 'parent = "pop"'))
    assert _run(settings, mapping, _boroughs(tmp_path), _districts(tmp_path)) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: level Community District: 4 area(s) name a parent") and err.count("\n") == 1


def test_a_missing_property_lists_the_files_properties(tmp_path, capsys):
    settings = settings_for(tmp_path / "var")
    mapping = _mapping(tmp_path, THREE_LEVELS.replace('id = "cd"', 'id = "BoroCD"'))
    assert _run(settings, mapping, _boroughs(tmp_path), _districts(tmp_path)) == 1
    assert "no property BoroCD (the file has: cd, pop)" in capsys.readouterr().err


def test_a_warehouse_with_cases_is_refused_then_replaced_with_a_backup(tmp_path, capsys):
    settings = settings_for(tmp_path / "var")
    mapping, files = _mapping(tmp_path, THREE_LEVELS), (_boroughs(tmp_path), _districts(tmp_path))
    assert _run(settings, mapping, *files) == 0
    assert _run(settings, mapping, *files) == 0  # areas but no cases: simply replaced
    assert not list(settings.warehouse_dir.glob("*.backup-*"))
    _add_case(settings)
    capsys.readouterr()
    assert _run(settings, mapping, *files) == 1
    assert "holds 1 cases" in capsys.readouterr().err
    assert _rows(settings, "SELECT count(*) FROM events") == [(1,)]
    assert _run(settings, mapping, *files, replace=True) == 0
    assert "kept the previous warehouse as" in capsys.readouterr().err
    backups = list(settings.warehouse_dir.glob("work.backup-*.duckdb"))
    assert len(backups) == 1
    assert _rows(settings, "SELECT count(*) FROM events") == [(0,)]
    old = duckdb.connect(str(backups[0]), read_only=True)
    assert old.execute("SELECT count(*) FROM events").fetchone() == (1,)
    old.close()


def test_an_old_warehouse_accepts_null_ancestors_and_residents_after_the_upgrade(tmp_path):
    con = connect(tmp_path / "old.duckdb", "UTC")
    apply_schema(con)
    for table, column in (("events", "street_id"), ("events", "community_id"), ("events", "grid_id"),
                          ("areas", "residents"), ("mart_daily_counts", "street_id")):
        con.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL")  # as before issue 10
    done = apply_schema(con)
    assert "events.street_id may be NULL" in done and "areas.residents may be NULL" in done
    assert con.execute("SELECT count(*) FROM duckdb_columns() WHERE column_name IN ('street_id', 'community_id', "
                       "'grid_id', 'residents') AND NOT is_nullable").fetchone() == (0,)
    assert "areas.residents may be NULL" in con.execute(
        "SELECT note FROM etl_runs WHERE kind = 'upgrade'").fetchone()[0]
    assert apply_schema(con) == []
    con.close()


def test_la_councils_under_their_regions():
    councils = shared_data("la311", "la_nc_boundary_2019_modified.geojson")
    from data.geo_import import build_geography, parse_mapping

    mapping = parse_mapping(Path(__file__).resolve().parents[2] / "examples" / "la311" / "geography.toml")
    geo = build_geography(mapping, [councils])
    areas = geo.areas
    assert areas["level"].value_counts().to_dict() == {"district": 1, "street": 12, "microgrid": 99}
    micro = areas[areas["level"] == "microgrid"]
    assert micro["parent_id"].isin(areas.loc[areas["level"] == "street", "area_id"]).all()
    assert (micro["street_id"] == micro["parent_id"]).all() and micro["community_id"].isna().all()
    assert areas.geometry.is_valid.all()
    assert areas.loc[areas["level"] == "district", "name_en"].tolist() == ["Los Angeles"]
    assert geo.levels[["level", "name", "name_en"]].values.tolist() == [
        ["district", "城市", "City"], ["street", "片区", "Region"], ["microgrid", "社区委员会", "Neighborhood Council"]]


def test_la_example_is_published(tmp_path, capsys):
    councils = shared_data("la311", "la_nc_boundary_2019_modified.geojson")
    settings = settings_for(tmp_path / "var")
    mapping = Path(__file__).resolve().parents[2] / "examples" / "la311" / "geography.toml"
    assert _run(settings, mapping, councils) == 0, capsys.readouterr().err
    assert _snapshot_rows(settings, "SELECT level, count(*) FROM areas GROUP BY level ORDER BY level") == [
        ("district", 1), ("microgrid", 99), ("street", 12)]
