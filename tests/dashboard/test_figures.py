"""Figure builders: backlog charts and the wall map, validated by plotly; patches carry only values."""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.graph_objects as go
from dash._utils import to_json

from dashboard.figures import backlog, wall_map

DAYS = pd.DataFrame({"day": [date(2026, 11, 24), date(2026, 11, 23)], "inflow": [10, 8], "outflow": [9, 7.0],
                     "open_end": [30, 29], "overdue_end": [2, 1], "inflow_ma7": [9.0, 8.5],
                     "inflow_last_year": [None, None]})
TZ = ZoneInfo("Asia/Shanghai")


def test_days_frame_sorts_and_makes_ints():
    f = backlog.days_frame(DAYS)
    assert f == {"x": ["2026-11-23", "2026-11-24"], "inflow": [8, 10], "outflow": [7, 9], "open": [29, 30]}
    assert backlog.days_frame(None)["x"] == []


def test_hours_frame_accepts_integer_or_timestamp_hours():
    ints = pd.DataFrame({"hour": [1, 0], "inflow": [3, 2], "outflow": [1, 0], "open": [11, 10]})
    assert backlog.hours_frame(ints) == {"x": [0, 1], "inflow": [2, 3], "outflow": [0, 1], "open": [10, 11]}
    stamps = ints.assign(hour=[datetime(2026, 11, 25, 1, tzinfo=TZ), datetime(2026, 11, 25, 0, tzinfo=TZ)])
    assert backlog.hours_frame(stamps)["x"] == [0, 1]


def test_backlog_figures_are_valid_plotly_and_scale_their_fonts():
    small = backlog.days_figure(DAYS, "zh", 1.0)
    big = backlog.days_figure(DAYS, "en", 2.0)
    go.Figure(small)
    go.Figure(backlog.hours_figure(None, "en", 1.0))
    assert [t["name"] for t in small["data"]] == ["流入", "流出", "在办积压"]
    assert [t["name"] for t in big["data"]] == ["Inflow", "Outflow", "Open backlog"]
    assert big["layout"]["xaxis"]["tickfont"]["size"] == 2 * small["layout"]["xaxis"]["tickfont"]["size"]
    assert small["data"][2]["yaxis"] == "y2"
    assert "template" not in small["layout"]  # the default template would add ~10 KB per refresh


def test_series_patch_sets_only_x_and_y():
    p = backlog.series_patch(backlog.days_frame(DAYS))
    ops = p.to_plotly_json()["operations"]
    assert {tuple(o["location"]) for o in ops} == {("data", i, k) for i in range(3) for k in ("x", "y")}


HEAT = {"type": "choroplethmap", "locations": ["A"], "z": [1], "customdata": [[1, 0, 0, 1.0]],
        "geojson": {"type": "FeatureCollection", "features": []}, "coloraxis": "coloraxis"}
LABELS = {"type": "scattermap", "mode": "markers+text", "lon": [120.1], "lat": [30.1], "text": ["① A · 1"]}


def test_map_figure_is_valid_and_needs_no_internet():
    axis = wall_map.coloraxis("今日报件", 3.0, "cases", 1.0)
    layers = [{"sourcetype": "geojson", "source": HEAT["geojson"], "type": "line"}] * 3
    fig = wall_map.map_figure(HEAT, LABELS, layers, (120.18, 30.19), 11.5, axis, 1.0, "k")
    go.Figure(fig)
    style = fig["layout"]["map"]["style"]
    assert "glyphs" not in style and "sprite" not in style  # MapLibre would fetch them from the internet
    assert style["sources"] and all(src["type"] == "geojson" for src in style["sources"].values())
    assert "http" not in json.dumps(fig)  # no tile, glyph or sprite URL anywhere
    assert axis["colorbar"]["ticktext"] == ["0", "2", "≥3"]
    assert wall_map.coloraxis("x", 2.5, "per_10k", 1.0)["colorbar"]["ticktext"] == ["0", "1.2", "≥2.5"]


def test_map_patch_sends_only_what_changed():
    assert wall_map.map_patch().to_plotly_json()["operations"] == []
    z = {"z": list(range(3116)), "customdata": [[1, 2, 3, 4.5]] * 3116}
    p = wall_map.map_patch(values=z, view=(120.1, 30.2, 12.0))
    locations = {tuple(o["location"]) for o in p.to_plotly_json()["operations"]}
    assert locations == {("data", 0, "z"), ("data", 0, "customdata"), ("layout", "map", "center"),
                         ("layout", "map", "zoom")}
    assert len(to_json(p)) < 100_000  # a refresh of every micro-grid stays well under 100 KB
