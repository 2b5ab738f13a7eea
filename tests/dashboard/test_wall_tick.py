"""One refresh of the wall on the demo snapshot: whole figures first, then patches or nothing."""

from __future__ import annotations

import pytest
from dash import Patch, no_update
from dash._utils import to_json

from dashboard import data_access, ids
from dashboard.wall import data, warmup
from dashboard.wall.options import WallOptions
from dashboard.wall.tick import run_tick
from settings import use_settings
from tests.conftest import FIXTURE_NOW

TEXTS = [ids.PANEL_STATUS, ids.PANEL_SCOPE, ids.PANEL_VITALS, ids.PANEL_SLA, ids.PANEL_WARNINGS,
         ids.PANEL_RESOURCES, ids.PANEL_MAP_TITLE]
GRAPHS = [ids.PANEL_BACKLOG_DAYS, ids.PANEL_BACKLOG_HOURS, ids.PANEL_MAP]
VIEWPORT = {"w": 1920, "h": 1080, "scale": 1.0, "map_w": 803, "map_h": 794}


@pytest.fixture
def wall(small_demo):
    use_settings(small_demo)
    data_access.use_clock(lambda: FIXTURE_NOW)
    warmup.set_enabled(False)  # no background thread in unit tests
    data.CACHE.clear()
    yield small_demo
    warmup.set_enabled(True)
    data_access.use_clock(None)


def _options(settings, **query):
    return WallOptions.from_query(query, settings).to_dict()


def test_first_refresh_draws_everything_then_the_map_sends_nothing_until_numbers_change(wall):
    first = run_tick(_options(wall), VIEWPORT, {}, TEXTS, GRAPHS, settings=wall)
    heat = first.graphs[2]["data"][0]
    assert heat["type"] == "choroplethmap" and len(heat["geojson"]["features"]) == len(heat["z"]) == 503  # grids by default
    assert all(isinstance(g, dict) for g in first.graphs)
    assert first.meta["server_now"] == int(FIXTURE_NOW.timestamp() * 1000)
    assert first.drawn["map"]["key"] and first.drawn[ids.PANEL_BACKLOG_DAYS]
    again = run_tick(_options(wall), VIEWPORT, first.drawn, TEXTS, GRAPHS, settings=wall)
    assert again.graphs[2] is no_update  # same numbers: zero bytes for the map
    assert isinstance(again.graphs[0], Patch) and isinstance(again.graphs[1], Patch)
    changed = {**first.drawn, "map": {**first.drawn["map"], "digest": "older numbers"}}
    patched = run_tick(_options(wall), VIEWPORT, changed, TEXTS, GRAPHS, settings=wall)
    assert isinstance(patched.graphs[2], Patch)
    assert len(to_json(patched.graphs[2])) < 100_000 < len(to_json(first.graphs[2]))
    assert "geojson" not in to_json(patched.graphs[2])


def test_a_new_screen_size_or_language_redraws_the_map(wall):
    first = run_tick(_options(wall), VIEWPORT, {}, TEXTS, GRAPHS, settings=wall)
    bigger = run_tick(_options(wall), {**VIEWPORT, "scale": 2.0, "map_w": 1606, "map_h": 1588}, first.drawn, TEXTS,
                      GRAPHS, settings=wall)
    assert isinstance(bigger.graphs[2], dict) and isinstance(bigger.graphs[0], dict)
    english = run_tick(_options(wall, lang="en"), VIEWPORT, first.drawn, TEXTS, GRAPHS, settings=wall)
    assert isinstance(english.graphs[2], dict)


def test_only_the_panels_on_screen_are_built_and_rotation_touches_only_the_map(wall):
    texts, graphs = [ids.PANEL_STATUS, ids.PANEL_WORST, ids.PANEL_MAP_TITLE], [ids.PANEL_MAP]
    opts = _options(wall, layout="map", rotate="10")
    first = run_tick(opts, VIEWPORT, {}, texts, graphs, settings=wall)
    assert len(first.texts) == 3 and len(first.graphs) == 1
    rotated = run_tick(opts, VIEWPORT, first.drawn, texts, graphs, rotate_step=1, rotate_only=True, settings=wall)
    assert rotated.texts[0] is no_update  # the status waits for the next refresh
    assert rotated.texts[2][0].children == "在办"  # the caption names the next measure
    assert isinstance(rotated.graphs[0], Patch)


def test_a_street_wall_and_an_unknown_area(wall):
    street = run_tick(_options(wall, scope="330108001"), VIEWPORT, {}, TEXTS, GRAPHS, settings=wall)
    assert street.texts[1] == "西兴街道"
    assert street.graphs[2]["layout"]["map"]["layers"][0]["source"]["features"]  # its communities are outlined
    unknown = run_tick(_options(wall, scope="G999"), VIEWPORT, {}, TEXTS, GRAPHS, settings=wall)
    assert unknown.texts[1] == "未知区域 G999"
    typo = run_tick(_options(wall, scope="xixing"), VIEWPORT, {}, TEXTS, GRAPHS, settings=wall)  # no known id form
    assert typo.texts[1] == "未知区域 xixing" and typo.texts[3][0].children == "已超时 0 · 临近 0"
