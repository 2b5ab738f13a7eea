"""The backlog and departments pages' pure parts: figure builders (light theme), the sparkline, URL keys."""

from __future__ import annotations

import base64
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from dashboard.analyst.state import ViewState
from dashboard.app import create_app
from dashboard.figures.analyst_backlog import OTHER_COLOUR, age_figure, spark_bars, split_figure
from dashboard.figures.backlog import LIGHT, days_figure, window_figure, window_frame
from dashboard.theme import GRID, SERIES, TEXT
from metrics.backlog import AGE_BUCKETS
from tests.conftest import FIXTURE_NOW, settings_for

SH = ZoneInfo("Asia/Shanghai")


def _series(n: int = 4) -> pd.DataFrame:
    start = datetime(2026, 11, 20, tzinfo=SH)
    return pd.DataFrame({
        "start": [start + timedelta(days=i) for i in range(n)], "end": [start + timedelta(days=i + 1) for i in range(n)],
        "inflow": [5, 7, 0, 3][:n], "outflow": [4, 2, 1, 6][:n], "open_start": [10, 11, 16, 15][:n],
        "overdue_start": [1, 1, 2, 2][:n], "open_end": [11, 16, 15, 12][:n], "overdue_end": [1, 2, 2, 0][:n]})


def test_the_wall_chart_keeps_its_dark_theme():
    df = pd.DataFrame({"day": pd.date_range("2026-11-01", periods=3).date, "inflow": [1, 2, 3],
                       "outflow": [1, 1, 1], "open_end": [3, 4, 5]})
    fig = days_figure(df, "zh")
    assert [d["marker"]["color"] for d in fig["data"][:2]] == [SERIES["inflow"], SERIES["outflow"]]
    assert fig["data"][2]["line"]["color"] == SERIES["open"] and len(fig["data"]) == 3
    assert fig["layout"]["font"]["color"] == TEXT and fig["layout"]["xaxis"]["gridcolor"] == GRID
    assert fig["layout"]["uirevision"] == "wall"


def test_window_figure_is_light_and_carries_the_series():
    df = _series()
    fig = window_figure(df, "en", "day")
    assert [d["name"] for d in fig["data"]] == ["Inflow", "Outflow", "Open backlog", "Overdue"]
    assert fig["data"][0]["y"] == [5, 7, 0, 3] and fig["data"][2]["y"] == [10, 11, 16, 15, 12]
    assert fig["data"][3]["y"] == [1, 1, 2, 2, 0] and fig["data"][3]["yaxis"] == "y2"
    # levels where they hold: the window's start (the backlog then), then each bucket's end
    assert fig["data"][2]["x"] == ["2026-11-20 00:00", "2026-11-21 00:00", "2026-11-22 00:00", "2026-11-23 00:00",
                                   "2026-11-24 00:00"] == fig["data"][3]["x"]
    assert fig["data"][0]["x"][0] == "2026-11-20 00:00" and len(fig["data"][0]["x"]) == 4
    assert fig["data"][2]["line"]["color"] == LIGHT["series"]["open"] and fig["layout"]["font"]["color"] == LIGHT["text"]
    assert fig["layout"]["uirevision"] == "analyst-backlog"
    assert window_frame(df)["x"][0] == "2026-11-20 00:00"
    assert window_figure(df.iloc[0:0], "zh", "hour")["data"][0]["x"] == []


def test_split_figure_stacks_members_in_rank_order_with_other_in_grey():
    rows = []
    for key, name, scale in (("a", "甲", 3), ("b", "乙", 2), ("__other__", "其他", 1)):
        part = _series().assign(key=key, name=name, name_en=name.upper(), inflow=lambda d, s=scale: d["inflow"] * s)
        rows.append(part)
    fig = split_figure(pd.concat(rows, ignore_index=True), "zh", "week")
    assert [d["name"] for d in fig["data"]] == ["甲", "乙", "其他"]
    assert fig["data"][0]["y"] == [15, 21, 0, 9] and fig["data"][-1]["marker"]["color"] == OTHER_COLOUR
    assert fig["layout"]["barmode"] == "stack" and fig["data"][0]["marker"]["color"] != OTHER_COLOUR


def test_age_figure_marks_the_old_buckets():
    ages = pd.DataFrame({"bucket": [b[0] for b in AGE_BUCKETS], "n": range(len(AGE_BUCKETS)),
                         "label_zh": [b[2] for b in AGE_BUCKETS], "label_en": [b[3] for b in AGE_BUCKETS]})
    fig = age_figure(ages, "en")
    bar = fig["data"][0]
    assert bar["x"][0] == "< 1 h" and bar["y"] == list(range(len(AGE_BUCKETS)))
    red = LIGHT["series"]["overdue"]
    assert [c == red for c in bar["marker"]["color"]] == [False] * 4 + [True] * 3


def test_spark_bars_draws_one_column_per_count():
    assert spark_bars([], "#000") is None and spark_bars([0, 0], "#000") is None
    svg = base64.b64decode(spark_bars([1, 0, 4, 2], "#123456").split(",", 1)[1]).decode()
    assert svg.count("<rect") == 3 and 'fill="#123456"' in svg
    tallest = [part for part in svg.split("<rect")[1:] if 'height="22.0"' in part]
    assert len(tallest) == 1  # the 4: full height (24 px minus a pixel above and below)


def _page(name: str):
    """A page module as the app loaded it (Dash imports pages itself; importing one again registers it twice)."""
    return next(m for k, m in sys.modules.items() if k.endswith(f"pages.{name}") and hasattr(m, "layout"))


def test_page_keys_fall_back_to_their_defaults(tmp_path):
    create_app(settings_for(tmp_path / "var"), clock=lambda: FIXTURE_NOW)
    split_of, sort_of = _page("backlog").split_of, _page("departments").sort_of

    assert split_of(ViewState.from_search("?by=department")) == "department"
    assert split_of(ViewState.from_search("?by=colour")) == split_of(ViewState()) == "street"
    assert sort_of(ViewState.from_search("?sort=-median_close_h")) == "-median_close_h"
    assert sort_of(ViewState.from_search("?sort=name")) == "name"
    assert sort_of(ViewState.from_search("?sort=drop")) == sort_of(ViewState()) == "-received"
