"""Boundary layers drawn over the heatmap."""

from __future__ import annotations

import pandas as pd
import pytest

from layers import outlines


@pytest.mark.parametrize(("scope", "display", "expected"), [
    ("district", "microgrid", "street"),
    ("district", "grid", "street"),
    ("district", "community", "street"),
    ("district", "street", None),
    ("street", "microgrid", "community"),
    ("street", "community", None),
    ("community", "microgrid", "grid"),
    ("grid", "microgrid", None),
])
def test_outline_level(scope, display, expected):
    assert outlines.outline_level(scope, display) == expected


def test_transform_and_highlight_are_geojson_line_layers_scaled_with_the_screen():
    df = pd.DataFrame({"area_id": ["S1"], "geojson_simple": ['{"type":"Polygon","coordinates":[[[1,2],[3,4],[1,2]]]}']})
    layer = outlines.transform(df, scale=2.0)
    assert layer["type"] == "line" and layer["sourcetype"] == "geojson"
    assert layer["source"]["features"][0]["id"] == "S1"
    assert layer["line"]["width"] == outlines.STYLE["width"] * 2
    focus = outlines.highlight(None, "focus")
    assert focus["source"]["features"] == [] and focus["color"] == outlines.STYLE["focus_color"]
