"""The heatmap layer's transform on tiny frames: alignment to the polygons, values, colour range."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from layers import grid_heat

POINTS = pd.DataFrame({
    "area_id": ["G1-1", "G1-2", "G1-3"], "name": ["微网格 1-1", "微网格 1-2", "微网格 1-3"],
    "name_en": ["Micro-grid 1-1", "Micro-grid 1-2", "Micro-grid 1-3"], "parent_id": ["G1"] * 3,
    "street_id": ["S1"] * 3, "residents": [100, 0, 400], "centroid_lon": [120.1, 120.2, 120.3],
    "centroid_lat": [30.1, 30.2, 30.3],
})
AGG = pd.DataFrame({  # documented grid_aggregates columns (a subset is enough), out of order, one area missing
    "area_id": ["G1-3", "G1-1"], "name": ["", ""], "name_en": ["", ""], "parent_id": ["G1", "G1"],
    "residents": [400, 100], "cases": [8, 2], "per_10k": [200.0, 200.0], "open": [5, 1], "overdue": [1, 0],
})


def test_align_follows_polygon_order_and_fills_missing_areas_with_zero():
    a = grid_heat.align(AGG, POINTS)
    assert a["area_id"].tolist() == ["G1-1", "G1-2", "G1-3"]
    assert a["cases"].tolist() == [2, 0, 8]
    assert a["open"].tolist() == [1, 0, 5]
    assert a["overdue"].tolist() == [0, 0, 1]


def test_align_rate_is_missing_without_residents_and_zero_without_cases():
    agg = AGG[AGG["area_id"] == "G1-3"]
    a = grid_heat.align(agg, POINTS)
    assert a["per_10k"].iloc[0] == 0.0  # residents, no case
    assert math.isnan(a["per_10k"].iloc[1])  # no residents: no rate
    assert a["per_10k"].iloc[2] == 200.0


def test_align_without_aggregates_is_all_zero():
    a = grid_heat.align(None, POINTS)
    assert a["cases"].sum() == 0 and len(a) == 3


def test_values_are_small_json_lists():
    v = grid_heat.values(grid_heat.align(AGG, POINTS), "cases")
    assert v["z"] == [2, 0, 8]
    assert v["customdata"][0] == [2, 1, 0, 200.0]
    assert v["customdata"][1][3] is None  # NaN would not survive JSON
    v = grid_heat.values(grid_heat.align(AGG, POINTS), "per_10k")
    assert v["z"] == [200.0, None, 200.0]


def test_unknown_measure_is_refused():
    with pytest.raises(ValueError, match="unknown measure"):
        grid_heat.measure_series(grid_heat.align(AGG, POINTS), "bogus")


@pytest.mark.parametrize(("values", "measure", "top"), [
    ([0, 2, 2, 3, 100] + [2] * 200, "cases", 3.0),  # the 98th percentile, not one outlier
    ([0, 1, 2, 3, 100], "cases", 95.0),
    ([0, 1, 1, 1], "cases", 3.0),  # counts never top out below 3
    ([0, 0], "open", 3.0),
    ([0.0, 0.24], "per_10k", 1.0),
    ([0.0, 12.3, 45.6], "per_10k", 45.0),
    ([np.nan, 2.5], "per_10k", 2.5),
])
def test_color_range(values, measure, top):
    assert grid_heat.color_range(pd.Series(values), measure) == top


def test_transform_is_a_valid_choroplethmap_with_geometry_only_when_given():
    a = grid_heat.align(AGG, POINTS)
    labels = {"cases": "Cases", "open": "Open", "overdue": "Overdue", "per_10k": "Per 10k"}
    fc = {"type": "FeatureCollection", "features": []}
    trace = grid_heat.transform(a, "open", ["a", "b", "c"], labels, geojson=fc)
    assert trace["type"] == "choroplethmap" and trace["geojson"] is fc
    assert trace["z"] == [1, 0, 5] and trace["locations"] == ["G1-1", "G1-2", "G1-3"]
    assert "customdata[3]" in trace["hovertemplate"] and "Overdue" in trace["hovertemplate"]
    go.Figure(data=[trace])  # plotly accepts every key
    assert "geojson" not in grid_heat.transform(a, "open", ["a", "b", "c"], labels)
