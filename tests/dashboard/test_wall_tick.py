"""One refresh of the wall on the demo snapshot: whole figures first, then patches or nothing."""

from __future__ import annotations

import pytest
from dash import Patch, no_update
from dash._utils import to_json

from dashboard import ids
from dashboard.runtime import Runtime
from dashboard.wall import warmup
from dashboard.wall.options import BadOptions, WallOptions
from dashboard.wall.tick import run_tick
from metrics.scope import UnknownAreaError
from tests.conftest import FIXTURE_NOW

TEXTS = [ids.PANEL_STATUS, ids.PANEL_SCOPE, ids.PANEL_VITALS, ids.PANEL_SLA, ids.PANEL_WARNINGS,
         ids.PANEL_RESOURCES, ids.PANEL_MAP_TITLE]
GRAPHS = [ids.PANEL_BACKLOG_DAYS, ids.PANEL_BACKLOG_HOURS, ids.PANEL_MAP]
VIEWPORT = {"w": 1920, "h": 1080, "scale": 1.0, "map_w": 803, "map_h": 794}


@pytest.fixture
def wall(small_demo):
    warmup.set_enabled(False)  # no background thread in unit tests (the autouse fixture switches it back)
    rt = Runtime(small_demo, clock=lambda: FIXTURE_NOW)
    yield rt
    rt.close()


def _options(rt, **query):
    with rt.snapshot() as (con, info):
        district = rt.deployment(con, info).district_id
    return WallOptions.from_query(query, rt.settings, district).to_dict()


def test_first_refresh_draws_everything_then_the_map_sends_nothing_until_numbers_change(wall):
    first = run_tick(wall, _options(wall), VIEWPORT, {}, TEXTS, GRAPHS)
    heat = first.graphs[2]["data"][0]
    assert heat["type"] == "choroplethmap" and len(heat["geojson"]["features"]) == len(heat["z"]) == 503  # grids by default
    assert all(isinstance(g, dict) for g in first.graphs)
    assert first.meta["server_now"] == int(FIXTURE_NOW.timestamp() * 1000)
    assert first.drawn["map"]["key"] and first.drawn[ids.PANEL_BACKLOG_DAYS]
    again = run_tick(wall, _options(wall), VIEWPORT, first.drawn, TEXTS, GRAPHS)
    assert again.graphs[2] is no_update  # same numbers: zero bytes for the map
    assert isinstance(again.graphs[0], Patch) and isinstance(again.graphs[1], Patch)
    changed = {**first.drawn, "map": {**first.drawn["map"], "digest": "older numbers"}}
    patched = run_tick(wall, _options(wall), VIEWPORT, changed, TEXTS, GRAPHS)
    assert isinstance(patched.graphs[2], Patch)
    assert len(to_json(patched.graphs[2])) < 100_000 < len(to_json(first.graphs[2]))
    assert "geojson" not in to_json(patched.graphs[2])


def test_a_new_screen_size_or_language_redraws_the_map(wall):
    first = run_tick(wall, _options(wall), VIEWPORT, {}, TEXTS, GRAPHS)
    bigger = run_tick(wall, _options(wall), {**VIEWPORT, "scale": 2.0, "map_w": 1606, "map_h": 1588}, first.drawn, TEXTS,
                      GRAPHS)
    assert isinstance(bigger.graphs[2], dict) and isinstance(bigger.graphs[0], dict)
    english = run_tick(wall, _options(wall, lang="en"), VIEWPORT, first.drawn, TEXTS, GRAPHS)
    assert isinstance(english.graphs[2], dict)


def test_only_the_panels_on_screen_are_built_and_rotation_touches_only_the_map(wall):
    texts, graphs = [ids.PANEL_STATUS, ids.PANEL_WORST, ids.PANEL_MAP_TITLE], [ids.PANEL_MAP]
    opts = _options(wall, layout="map", rotate="10")
    first = run_tick(wall, opts, VIEWPORT, {}, texts, graphs)
    assert len(first.texts) == 3 and len(first.graphs) == 1
    rotated = run_tick(wall, opts, VIEWPORT, first.drawn, texts, graphs, rotate_step=1, rotate_only=True)
    assert rotated.texts[0] is no_update  # the status waits for the next refresh
    assert rotated.texts[2][0].children == "在办"  # the caption names the next measure
    assert isinstance(rotated.graphs[0], Patch)


def test_a_street_wall_and_an_unknown_area(wall):
    street = run_tick(wall, _options(wall, scope="330108001"), VIEWPORT, {}, TEXTS, GRAPHS)
    assert street.texts[1] == "街道 · 西兴街道"  # the level as the deployment names it, then the area
    assert street.graphs[2]["layout"]["map"]["layers"][0]["source"]["features"]  # its communities are outlined
    for unknown in ("G999", "xixing", "330199"):  # shaped like an id or not: looked up, not guessed
        with pytest.raises(UnknownAreaError, match=unknown):
            run_tick(wall, _options(wall, scope=unknown), VIEWPORT, {}, TEXTS, GRAPHS)


def test_an_unknown_area_computes_nothing_and_is_not_noted(wall, monkeypatch):
    warmup.set_enabled(True)
    noted, computed = [], []
    monkeypatch.setattr(warmup, "note", lambda *a, **k: noted.append(a))
    from dashboard.wall import data

    monkeypatch.setattr(data, "vitals", lambda src: computed.append(src))
    with pytest.raises(UnknownAreaError):
        run_tick(wall, _options(wall, scope="nonexistent"), VIEWPORT, {}, TEXTS, GRAPHS)
    assert noted == [] and computed == []


def test_the_vital_tiles_name_the_promise_in_force(small_demo):
    warmup.set_enabled(False)
    rt = Runtime(small_demo.replace(sla_accept_seconds=120, sla_dispatch_seconds=600, sla_urgent_close_hours=12,
                                    sla_other_close_working_days=5), clock=lambda: FIXTURE_NOW)
    try:
        for lang, accept, dispatch in (("zh", "2分钟受理率", "10分钟派遣率"), ("en", "Accept ≤2 min", "Dispatch ≤10 min")):
            tick = run_tick(rt, _options(rt, lang=lang), VIEWPORT, {}, TEXTS, GRAPHS)
            tiles = {getattr(t, "data-key"): t for t in tick.texts[2]}
            labels = {k: t.children[0] for k, t in tiles.items()}
            assert labels["accept_1min_pct"].children == accept
            assert labels["dispatch_5min_pct"].children == dispatch
            assert ("12小时" if lang == "zh" else "12 h") in tiles["close_on_time_urgent_pct"].title
            assert ("第 5 个工作日" if lang == "zh" else "5th working day") in tiles["close_on_time_other_pct"].title
            assert "1分钟" not in str(tick.texts[2]) and "1 min" not in str(tick.texts[2])
    finally:
        rt.close()


@pytest.mark.parametrize(("options", "viewport", "drawn", "step"), [
    ({}, VIEWPORT, {}, 0),
    ("abc", VIEWPORT, {}, 0),
    (None, VIEWPORT, {}, 0),
    ("OK", "abc", {}, 0),
    ("OK", {"scale": "abc"}, {}, 0),
    ("OK", {"map_w": [1]}, {}, 0),
    ("OK", {"scale": "nan"}, {}, 0),
    ("OK", VIEWPORT, "abc", 0),
    ("OK", VIEWPORT, {}, "x"),
    ("OK", VIEWPORT, {}, -1),
])
def test_malformed_inputs_are_rejected_before_anything_runs(wall, options, viewport, drawn, step):
    options = _options(wall) if options == "OK" else options
    with pytest.raises(BadOptions):
        run_tick(wall, options, viewport, drawn, TEXTS, GRAPHS, rotate_step=step)
