"""The analyst map: the figure builder on tiny frames, and the page's builders and callbacks on the demo."""

from __future__ import annotations

import json
import math
import sys
from urllib.parse import parse_qs, urlparse

import dash
import pandas as pd
import plotly.graph_objects as go
import pytest

from dashboard import ids
from dashboard.analyst.state import ViewState
from dashboard.analyst.view import open_view
from dashboard.app import create_app
from dashboard.figures import analyst_map as fig
from layers import registry
from metrics.grids import grid_aggregates
from tests.conftest import FIXTURE_NOW, as_principal

AREAS = pd.DataFrame({
    "area_id": ["A", "B", "C"], "name": ["甲", "乙", "丙"], "name_en": ["A", "B", "C"], "residents": [100, 0, 50],
    "cases": [4, 0, 2], "per_10k": [400.0, math.nan, 400.0], "open": [1, 0, 3], "overdue": [0, 0, 1],
    "on_time_pct": [75.0, math.nan, math.nan],
})
SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
FC = {"type": "FeatureCollection", "features": [{"type": "Feature", "id": a, "properties": None, "geometry": SQUARE}
                                                for a in ("A", "B", "C")]}
LABELS = {k: k for k in fig.HOVER_COLUMNS}


# --- the figure builder ----------------------------------------------------------------------------
def test_heat_draws_areas_with_a_value_and_greys_the_others():
    heat, grey = fig.heat_traces(AREAS, FC, "per_10k", ["a", "b", "c"], LABELS)
    assert heat["locations"] == ["A", "C"] and heat["z"] == [400.0, 400.0]
    assert [f["id"] for f in heat["geojson"]["features"]] == ["A", "C"]
    assert grey["locations"] == ["B"] and grey["text"] == ["b"] and grey["showscale"] is False
    assert heat["customdata"][0] == [4, "400.0", 1, 0, "75.0%"] and grey["customdata"][0][4] == "—"
    heat, grey = fig.heat_traces(AREAS, FC, "cases", ["a", "b", "c"], LABELS)
    assert heat["locations"] == ["A", "B", "C"] and heat["z"] == [4, 0, 2] and grey["locations"] == []
    heat, _ = fig.heat_traces(AREAS, FC, "on_time_pct", ["a", "b", "c"], LABELS)
    assert heat["locations"] == ["A"] and heat["z"] == [75.0]


def test_measures_colour_ranges_and_axis():
    with pytest.raises(ValueError):
        fig.measure_values(AREAS, "nonsense")
    assert fig.color_range(AREAS["cases"], "cases") == (0.0, 4.0)
    assert fig.color_range(pd.Series([0, 1]), "cases") == (0.0, 3.0)  # one case is not the darkest colour
    assert fig.color_range(pd.Series([0.2]), "per_10k") == (0.0, 1.0)
    assert fig.color_range(pd.Series([61.0, 99.5]), "on_time_pct") == (60.0, 100.0)
    assert fig.color_range(pd.Series([math.nan]), "on_time_pct") == (0.0, 100.0)
    many = pd.Series([1] * 50 + [100])
    assert fig.color_range(many, "open") == (0.0, 3.0)  # one outlier does not wash out the rest
    assert fig.coloraxis("t", 60, 100, "on_time_pct")["reversescale"] is True  # low on-time is dark
    axis = fig.coloraxis("t", 0, 40, "cases")
    assert axis["reversescale"] is False and axis["colorbar"]["ticktext"] == ["0", "20", "≥40"]
    assert fig.coloraxis("t", 0, 40, "cases", saturated=False)["colorbar"]["ticktext"] == ["0", "20", "40"]


def test_the_figure_is_valid_plotly_offline_and_json():
    traces = fig.heat_traces(AREAS, FC, "open", ["a", "b", "c"], LABELS)
    overlays = registry.case_traces(pd.DataFrame({"grp": ["cases"], "n": [3], "lon": [0.5], "lat": [0.5],
                                                  "label": ["X · K"]}))
    selected = fig.selected_trace({"type": "FeatureCollection", "features": FC["features"][:1]})
    figure = fig.map_figure(traces, overlays, selected, (0, 0, 1, 1), fig.coloraxis("open", 0, 3, "open"), "rev")
    go.Figure(figure)  # plotly validates every property
    text = json.dumps(figure, allow_nan=False)
    assert "http" not in text  # no tiles, no glyph server
    assert [d["type"] for d in figure["data"]] == ["choropleth", "choropleth", "choropleth", "scattergeo"]
    assert figure["layout"]["geo"]["visible"] is False and "map" not in figure["layout"]  # SVG, no WebGL
    assert figure["data"][2]["hoverinfo"] == "skip" and figure["data"][2]["locations"] == ["A"]
    assert figure["layout"]["showlegend"] is True
    assert figure["data"][0]["marker"]["opacity"] == fig.OVERLAID_OPACITY < traces[0]["marker"]["opacity"]
    geo = figure["layout"]["geo"]
    assert geo["lataxis"]["range"] == [-0.041, 1.041]  # the areas' box, padded
    west, east = geo["lonaxis"]["range"]  # and widened to the panel's shape
    assert west < -0.041 and east > 1.041 and (east - west) / 1.082 == pytest.approx(fig.VIEW_ASPECT, rel=0.01)
    assert fig.map_figure(traces, [], fig.selected_trace(None), (0, 0, 1, 1), {}, "r")["layout"]["showlegend"] is False
    assert fig.selected_trace(None) == [] and fig.selected_trace({"features": []}) == []


# --- the page on the demo --------------------------------------------------------------------------
def _page():
    """The page module as Dash loaded it (importing ``dashboard.pages.map`` again would register /map twice)."""
    name = next(p["module"] for p in dash.page_registry.values() if p["path"] == "/map")
    return sys.modules[name]


@pytest.fixture
def app(small_demo):
    return create_app(small_demo, clock=lambda: FIXTURE_NOW)


def _map_children(app, search: str):
    page = _page()

    with app.server.app_context(), open_view(ViewState.from_search(search)) as v:
        return page._map(v), v


def test_plan_draws_children_or_the_finest_area_among_its_siblings(app):
    page = _page()

    with app.server.app_context(), open_view(ViewState()) as v:
        slots = v.deployment.slots
        p = page.plan(v.con, "330108", "district", slots)
        assert (p.frame_id, p.level, p.selected, p.finest) == ("330108", "street", None, False)
        p = page.plan(v.con, "G001", "grid", slots)
        assert (p.frame_id, p.level, p.finest) == ("G001", "microgrid", False)
        p = page.plan(v.con, "G001-3", "microgrid", slots)
        assert (p.frame_id, p.frame_level, p.level, p.selected, p.finest) == ("G001", "grid", "microgrid", "G001-3",
                                                                              True)
        # a click drills one level down inside the area, never sideways or two levels down
        assert page.drill_target(v.con, "330108", "district", slots, "330108002") == "330108002"
        assert page.drill_target(v.con, "330108", "district", slots, "G001") is None
        assert page.drill_target(v.con, "330108001", "street", slots, "330108002001") is None
        assert page.drill_target(v.con, "G001-3", "microgrid", slots, "G001-4") == "G001-4"  # a sibling: switch
        assert page.drill_target(v.con, "G001-3", "microgrid", slots, "G001-3") is None  # itself
        other = v.con.execute("SELECT area_id FROM areas WHERE level = 'microgrid' AND area_id NOT LIKE 'G001-%' "
                              "LIMIT 1").fetchone()[0]
        assert page.drill_target(v.con, "G001-3", "microgrid", slots, other) is None  # another grid's
        assert page.drill_target(v.con, "330108", "district", slots, "nowhere") is None


def test_click_target_reads_polygons_only(app):
    click_target = _page().click_target

    assert click_target({"points": [{"location": "G001", "z": 3}]}) == "G001"
    assert click_target({"points": [{"lon": 1, "lat": 2}]}) is None  # a case point
    assert click_target(None) is None and click_target({"points": []}) is None


def test_the_map_colours_what_grid_aggregates_says(app, small_demo):
    children, v = _map_children(app, "?win=30d&scope=330108002&measure=overdue&cat=ENV")
    figure = children[0].figure
    df = grid_aggregates_of(app, small_demo, "?win=30d&scope=330108002&cat=ENV", "community")
    heat = figure["data"][0]
    assert heat["locations"] == df["area_id"].tolist()
    assert heat["z"] == df["overdue"].astype(int).tolist()
    assert figure["layout"]["coloraxis"]["colorbar"]["title"]["text"] == "超期在办"
    assert children[1].id == "map-how" and children[1].to_plotly_json()["props"]["data-level"] == "community"


def grid_aggregates_of(app, settings, search: str, level: str) -> pd.DataFrame:
    with app.server.app_context(), open_view(ViewState.from_search(search)) as v:
        return grid_aggregates(v.con, v.scope, level, v.window, v.now, settings)


def test_the_finest_level_outlines_the_area_among_its_siblings(app):
    children, _ = _map_children(app, "?scope=G001-3")
    figure = children[0].figure
    locations = figure["data"][0]["locations"] + figure["data"][1]["locations"]
    assert "G001-3" in locations and "G001-4" in locations and all(a.startswith("G001-") for a in locations)
    outline = figure["data"][2]
    assert outline["name"] == "selected" and outline["locations"] == ["G001-3"]
    assert [f["id"] for f in outline["geojson"]["features"]] == ["G001-3"]
    assert children[1].to_plotly_json()["props"]["data-finest"] == "true"
    children, _ = _map_children(app, "?scope=G001")  # above the finest level nothing is outlined
    assert [d["name"] for d in children[0].figure["data"]] == ["heat", "no_value"]


def test_case_points_are_clustered_counted_and_worded(app):
    children, v = _map_children(app, "?win=30d&layers=cases,cameras")
    figure = children[0].figure
    cases, *cameras = figure["data"][2:]
    n = v.con.execute("SELECT count(*) FROM events WHERE received_at >= ? AND received_at < ? AND lon IS NOT NULL",
                      [v.window.start, min(v.window.end, v.now)]).fetchone()[0]
    # every case of the window is in some mark, and there are far fewer marks than cases
    assert sum(cases["customdata"]) == n and len(cases["lon"]) < n / 3
    assert cases["name"] == f"事件点位 ({n:,})"
    single = cases["customdata"].index(1)
    assert " · " in cases["hovertext"][single] and cases["text"][single] == ""
    names = {r[0] for r in v.con.execute("SELECT name FROM categories").fetchall()}
    assert cases["hovertext"][single].split(" · ")[1] in names  # the category's name, not its code
    many = max(range(len(cases["customdata"])), key=cases["customdata"].__getitem__)
    assert cases["hovertext"][many] == f"此处 {cases['customdata'][many]:,} 个事件点位（下钻可逐个查看）"
    assert cases["marker"]["size"][many] > cases["marker"]["size"][single]
    cams = v.con.execute("SELECT count(*) FROM assets WHERE kind = 'camera' AND lon IS NOT NULL").fetchone()[0]
    assert [c["name"].split(" (")[0] for c in cameras] == ["摄像头在线", "摄像头离线"]
    assert sum(sum(c["customdata"]) for c in cameras) == cams


def test_switches_and_clicks_write_the_url(app):
    page = _page()

    state = ViewState.from_search("?win=30d&scope=330108001&layers=cases").to_dict()
    # the switches write the address in place (the search only), starting from the address as it is now
    assert page._switches_to_url("open", ["cases"], state, None) == "?win=30d&scope=330108001&layers=cases&measure=open"
    assert page._switches_to_url("open", ["cases"], state, "?win=30d&scope=330108001&layers=cases&measure=open") \
        is dash.no_update
    back = page._switches_to_url("cases", [], ViewState.from_search("?measure=open").to_dict(), "?measure=open")
    assert back == ""  # the default measure and no layers: nothing in the URL
    assert page._switches_to_url("cases", ["staff", "cases", "bogus"], state, None).endswith("layers=cases,staff")
    # a click drills down with the switches as the address has them now, not as the page was laid out
    with app.server.app_context():
        href = page._click_to_url({"points": [{"location": "330108001003"}]}, state, "?win=30d&scope=330108001&"
                                  "layers=cases&measure=overdue", "/map")
    assert parse_qs(urlparse(href).query) == {"win": ["30d"], "scope": ["330108001003"], "layers": ["cases"],
                                              "measure": ["overdue"]}
    # a click on a point or bubble of a layer drills into the area beneath it; outside every area, nothing
    with app.server.app_context(), open_view(ViewState.from_search("?scope=330108001")) as v:
        lon, lat = v.con.execute("SELECT centroid_lon, centroid_lat FROM areas WHERE area_id = '330108001003'"
                                 ).fetchone()
        href = page._click_to_url({"points": [{"lon": lon, "lat": lat, "customdata": 7}]}, state, None, "/map")
        assert parse_qs(urlparse(href).query)["scope"] == ["330108001003"]
        assert page._click_to_url({"points": [{"lon": 0.0, "lat": 0.0}]}, state, None, "/map") is dash.no_update


def test_layout_reflects_the_url(app):
    page = _page()

    with app.server.test_request_context("/map"):
        as_principal()
        tree = page.layout(measure="per_10k", layers="cameras,x")
    found = {c.id: c for c in _walk(tree) if getattr(c, "id", None) in (ids.MAP_MEASURE, ids.MAP_LAYERS)}
    assert found[ids.MAP_MEASURE].value == "per_10k" and found[ids.MAP_LAYERS].value == ["cameras"]
    assert page.measure_of(ViewState.from_search("?measure=bogus")) == "cases"


def _walk(component):
    yield component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if hasattr(child, "to_plotly_json"):
            yield from _walk(child)


def test_a_filter_that_matches_nothing_says_so_on_the_map(app):
    children, _ = _map_children(app, "?scope=330108001&cat=NO-SUCH-CATEGORY")
    assert children[0].figure["data"][0]["z"] == [0] * len(children[0].figure["data"][0]["z"])
    note = json.dumps(children[1].to_plotly_json(), ensure_ascii=False, default=str)
    assert "没有符合当前筛选条件的数据" in note
    children, _ = _map_children(app, "?scope=330108001")
    assert "没有符合" not in json.dumps(children[1].to_plotly_json(), ensure_ascii=False, default=str)


def test_another_measure_is_drawn_in_the_readers_view_of_the_same_frame_only():
    figure = fig.map_figure([], [], [], (120.0, 30.0, 120.2, 30.2), {"colorscale": "Reds"}, revision="330108|street")
    seen = {"rev": "330108|street", "scale": 3.5, "rot": 120.11, "lon": 120.12, "lat": 30.05}
    geo = fig.in_view(figure, seen)["layout"]["geo"]
    assert geo["projection"] == {"type": "mercator", "scale": 3.5, "rotation": {"lon": 120.11}}
    assert geo["center"] == {"lon": 120.12, "lat": 30.05}
    assert geo["lonaxis"] == figure["layout"]["geo"]["lonaxis"]  # the frame itself is unchanged
    # another frame or level (a drill-down), nothing seen yet, or garbage: the frame's own view
    for other in ({**seen, "rev": "330108001|community"}, None, {"rev": "330108|street", "scale": "x", "rot": 1,
                                                                "lon": 1, "lat": 1}):
        assert fig.in_view(figure, other) == figure
