"""Ranking and labelling the worst areas."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from layers import worst

ALIGNED = pd.DataFrame({
    "area_id": ["A", "B", "C", "D", "E"], "name": ["微网格 001-1", "微网格 001-2", "东湖街道", "d", "e"],
    "name_en": ["Micro-grid 001-1", "Micro-grid 001-2", "Donghu Street", "d", "e"],
    "centroid_lon": [120.1, 120.2, 120.3, 120.4, 120.5], "centroid_lat": [30.1, 30.2, 30.3, 30.4, 30.5],
    "cases": [3, 7, 3, 1, 0], "open": [1, 2, 3, 4, 5], "overdue": [0, 0, 0, 0, 0],
    "per_10k": [1.5, 0.0, 0.2, float("nan"), 0.0],
})


def test_rank_orders_by_value_then_id_and_ignores_single_cases():
    r = worst.rank(ALIGNED, "cases", 10)
    assert r["area_id"].tolist() == ["B", "A", "C"]  # D has one case: not a hotspot
    assert r["rank"].tolist() == [1, 2, 3]
    assert worst.rank(ALIGNED, "cases", 2)["area_id"].tolist() == ["B", "A"]


def test_rank_of_rates_keeps_anything_above_zero():
    assert worst.rank(ALIGNED, "per_10k", 10)["area_id"].tolist() == ["A", "C"]


def test_long_names_are_cut_with_an_ellipsis():
    name = "UNITED NEIGHBORHOODS OF THE HISTORIC ARLINGTON HEIGHTS, WEST ADAMS, AND JEFFERSON PARK COMMUNITY"
    assert worst.short_name(name) == "UNITED NEIGHBORHOO…" and len(worst.short_name(name)) == worst.MAX_LABEL
    assert worst.short_name("PACOIMA NC") == "PACOIMA NC"


def test_short_names_drop_the_level_word():
    assert worst.short_name("微网格 017-3") == "017-3"
    assert worst.short_name("Micro-grid 017-3") == "017-3"
    assert worst.short_name("东湖街道") == "东湖街道"
    assert worst.short_name("Donghu Street") == "Donghu Street"


def test_labels_in_both_languages():
    r = worst.rank(ALIGNED, "cases", 3)
    rows = list(r.itertuples(index=False))
    assert worst.label_text(rows[0], "cases", "zh") == "① 001-2 · 7"
    assert worst.label_text(rows[2], "cases", "en") == "③ Donghu Street · 3"
    r = worst.rank(ALIGNED, "per_10k", 1)
    assert worst.label_text(next(r.itertuples(index=False)), "per_10k", "zh") == "① 001-1 · 1.5"


def test_transform_is_a_valid_text_trace():
    trace = worst.transform(worst.rank(ALIGNED, "cases", 2), "cases", "zh", 19.0, "Noto Sans CJK SC")
    assert trace["type"] == "scattermap" and trace["lon"] == [120.2, 120.1]
    assert trace["text"][0].startswith("①") and trace["textfont"]["size"] == 19.0
    go.Figure(data=[trace])
