"""The wall on a 3-level deployment named like LA's (city → region → council), imported with the geography import.

No demo here: the areas come from ``app.py geography import`` on polygons made by the test, a few cases are
written straight into the warehouse, and the wall's tick must speak of regions and councils, never of the
demo's streets, communities and grids.
"""

from __future__ import annotations

import json
from argparse import Namespace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dash._utils import to_json
from shapely.geometry import box

from dashboard import ids
from dashboard.runtime import Runtime
from dashboard.wall import warmup
from dashboard.wall.layout import wall_layout
from dashboard.wall.options import WallOptions
from dashboard.wall.tick import run_tick
from data.geo_import import cmd_geography_import
from data.marts import refresh_all
from data.snapshot import publish
from data.warehouse import connect
from tests.conftest import settings_for

NOW = datetime(2020, 1, 3, 14, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
TEXTS = [ids.PANEL_STATUS, ids.PANEL_SCOPE, ids.PANEL_VITALS, ids.PANEL_SLA, ids.PANEL_WARNINGS,
         ids.PANEL_RESOURCES, ids.PANEL_MAP_TITLE]
GRAPHS = [ids.PANEL_BACKLOG_DAYS, ids.PANEL_BACKLOG_HOURS, ids.PANEL_MAP]
VIEWPORT = {"w": 1920, "h": 1080, "scale": 1.0, "map_w": 803, "map_h": 794}
COUNCILS = {"11": box(-118.5, 34.0, -118.4, 34.05), "12": box(-118.5, 34.05, -118.4, 34.1),
            "21": box(-118.4, 34.0, -118.3, 34.05), "22": box(-118.4, 34.05, -118.3, 34.1)}
MAPPING = """
[geography]
id = "CITY"
name = "天使市"
name_en = "Angel City"
level_name = "城市"
level_name_en = "City"

[[geography.levels]]
name = "片区"
name_en = "Region"
id = "region"
dissolve = true
name_template = "Region {region}"

[[geography.levels]]
name = "邻里议会"
name_en = "Neighborhood Council"
id = "nc"
name_template = "Council {nc}"
parent = "region"
"""


@pytest.fixture(scope="module")
def la_like(tmp_path_factory):
    root = tmp_path_factory.mktemp("la_like")
    settings = settings_for(root / "var", timezone="America/Los_Angeles", language="en")
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"nc": k, "region": f"R{k[0]}"}, "geometry": g.__geo_interface__}
        for k, g in COUNCILS.items()]}
    (root / "councils.geojson").write_text(json.dumps(doc), encoding="utf-8")
    (root / "geography.toml").write_text(MAPPING, encoding="utf-8")
    assert cmd_geography_import(settings, Namespace(mapping=root / "geography.toml",
                                                    files=[root / "councils.geojson"], replace=False)) == 0
    con = connect(settings.work_db, settings.timezone)
    try:
        for i, nc in enumerate(["11", "11", "12", "21", "22", "22"]):
            received = NOW - timedelta(hours=2 + 5 * i)
            con.execute(
                "INSERT INTO events (case_id, channel, category_id, category_l1, urgency, route, department_id, "
                "needs_dispatch, microgrid_id, street_id, received_at, status, updated_at) VALUES "
                "(?, 'other', 'graffiti', 'graffiti', 'normal', 'auto', 'sanitation', false, ?, ?, ?, 'received', ?)",
                [f"LA{i}", nc, f"R{nc[0]}", received, received])
        refresh_all(con, NOW.date(), settings.timezone)
        publish(con, settings.warehouse_dir)
    finally:
        con.close()
    return settings


@pytest.fixture
def wall(la_like):
    warmup.set_enabled(False)
    rt = Runtime(la_like, clock=lambda: NOW)
    yield rt
    rt.close()


def _plain(component) -> str:
    """Dash JSON with non-ASCII text as itself (``to_json`` escapes it), for substring checks."""
    return json.dumps(json.loads(to_json(component)), ensure_ascii=False)


def _tick(rt, **query):
    with rt.snapshot() as (con, info):
        deployment = rt.deployment(con, info)
    opts = WallOptions.from_query(query, rt.settings, deployment.district_id).to_dict()
    return run_tick(rt, opts, VIEWPORT, {}, TEXTS, GRAPHS), deployment


def test_the_wall_speaks_of_regions_and_councils(wall):
    for lang, wanted, slot_names in (
            ("en", ("Neighborhood Council", "Region"), ("Streets", "Communities", "Grids", "Micro-grid")),
            ("zh", ("邻里议会", "片区"), ("街道", "社区", "网格"))):
        result, deployment = _tick(wall, lang=lang)
        heat = result.graphs[2]["data"][0]
        assert len(heat["z"]) == 4  # 4 councils <= 600: the finest level is the default map level
        text = _plain(result.texts) + _plain(result.graphs)
        with wall.snapshot() as (con, info):
            opts = WallOptions.from_query({"lang": lang}, wall.settings, deployment.district_id)
            page = _plain(wall_layout(opts.fitted(con, deployment.scope, deployment.slots), wall.settings,
                                       deployment, NOW))
        for name in wanted:
            assert name in text + page, (lang, name)
        for slot in slot_names:
            assert slot not in text + page, (lang, slot)
    assert "no residents data" in to_json(_tick(wall, lang="en")[0].graphs[2])


def test_a_region_wall_names_its_level_and_colours_its_councils(wall):
    result, _ = _tick(wall, lang="en", scope="R1")
    assert result.texts[1] == "Region · Region R1"
    assert len(result.graphs[2]["data"][0]["z"]) == 2
    assert result.texts[-1][1].children == "Neighborhood Council"


def test_every_panel_draws_without_unavailable(wall, caplog):
    result, _ = _tick(wall, lang="en")
    assert "Unavailable" not in _plain(result.texts) + _plain(result.graphs)
    assert not [r for r in caplog.records if "failed" in r.getMessage()]


def test_a_two_level_deployment_draws_its_wall(tmp_path):
    settings = settings_for(tmp_path / "var", timezone="America/Los_Angeles", language="en")
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"nc": k}, "geometry": g.__geo_interface__} for k, g in COUNCILS.items()]}
    (tmp_path / "areas.geojson").write_text(json.dumps(doc), encoding="utf-8")
    (tmp_path / "geography.toml").write_text(
        '[geography]\nname_en = "Two Town"\nlevel_name_en = "Town"\n'
        '[[geography.levels]]\nname_en = "Ward"\nid = "nc"\nname_template = "Ward {id}"\n', encoding="utf-8")
    assert cmd_geography_import(settings, Namespace(mapping=tmp_path / "geography.toml",
                                                    files=[tmp_path / "areas.geojson"], replace=False)) == 0
    con = connect(settings.work_db, settings.timezone)
    try:
        con.execute("INSERT INTO events (case_id, channel, category_id, category_l1, urgency, route, department_id, "
                    "needs_dispatch, microgrid_id, received_at, status, updated_at) VALUES "
                    "('W1', 'other', 'x', 'x', 'normal', 'auto', 'd', false, '11', ?, 'received', ?)", [NOW, NOW])
        refresh_all(con, NOW.date(), settings.timezone)
        publish(con, settings.warehouse_dir)
    finally:
        con.close()
    warmup.set_enabled(False)
    rt = Runtime(settings, clock=lambda: NOW)
    try:
        result, deployment = _tick(rt, lang="en")
        assert deployment.slots == ("district", "microgrid")
        assert len(result.graphs[2]["data"][0]["z"]) == 4
        assert result.texts[-1][1].children == "Ward"
        ward, _ = _tick(rt, lang="en", scope="11")  # the finest level's own wall
        assert ward.texts[1] == "Ward · Ward 11"
    finally:
        rt.close()


def test_the_place_name_settings_name_the_top_area(la_like):
    settings = la_like.replace(place_name_en="City of Angels")
    rt = Runtime(settings, clock=lambda: NOW)
    try:
        with rt.snapshot() as (con, info):
            deployment = rt.deployment(con, info)
        assert (deployment.name, deployment.name_en) == ("天使市", "City of Angels")
        assert [lv.name_en for lv in deployment.levels] == ["City", "Region", "Neighborhood Council"]
    finally:
        rt.close()


def test_per_10k_without_residents_is_no_number_not_zero(wall):
    result, _ = _tick(wall, lang="en", measure="per_10k")
    heat = result.graphs[2]["data"][0]
    assert len(heat["z"]) == 4 and all(z is None or z != z for z in heat["z"])  # NaN or null, never 0
    assert "Unavailable" not in _plain(result.texts) + _plain(result.graphs)
