"""The vital-signs strip: tiles from hand-made metrics.vitals.Metric values."""

from __future__ import annotations

import dataclasses

from dashboard.components.format import DASH
from dashboard.components.vitals import WALL_VITALS, index_tile, status_badge, vital_tile, vitals_strip
from metrics.vitals import Metric


def M(key: str, label_zh: str, label_en: str, value: float | None, unit: str, target: float | None, status: str,
      baseline: float | None, change: float | None, direction: str = "higher") -> Metric:
    """A real metrics.vitals.Metric with the fields the tile reads (score and definitions left empty)."""
    return Metric(key, label_zh, label_en, value, unit, target, direction, None, status, baseline, change, "", "")


ACCEPT = M("accept_1min_pct", "1分钟受理率", "Accepted within 1 min", 91.24, "%", 95.0, "amber", 93.0, -0.019)
RECEIVED = M("received", "受理量", "Cases received", 115.0, "cases", None, "none", 86.5, 0.33)


def _texts(component) -> list[str]:
    out = []

    def walk(c):
        if isinstance(c, str):
            out.append(c)
        elif isinstance(c, (list, tuple)):
            for x in c:
                walk(x)
        elif c is not None and hasattr(c, "children"):
            walk(c.children)
    walk(component)
    return out


def _find(component, class_name):
    if hasattr(component, "className") and class_name in (component.className or "").split():
        return component
    children = getattr(component, "children", None)
    for c in children if isinstance(children, list) else [children]:
        if c is not None and not isinstance(c, str):
            hit = _find(c, class_name)
            if hit is not None:
                return hit
    return None


def test_scored_tile_says_value_status_in_shape_and_word_target_and_change():
    tile = vital_tile(ACCEPT, "zh")
    assert tile.className == "gp-vital gp-s-amber"
    assert getattr(tile, "data-key") == "accept_1min_pct"
    assert _find(tile, "gp-vital-num").children == "91.2"
    assert _find(tile, "gp-vital-unit").children == "%"
    assert _find(tile, "gp-badge").children == "▲ 预警"  # not colour alone
    assert _find(tile, "gp-vital-target").children == "≥95%"  # "▲ 预警 ≥95%": the status, then the goal
    assert _find(tile, "gp-vital-label").children == "1分钟受理率"
    assert _find(tile, "gp-vital-change").children == "↓1.8 pt 较基线"


def test_unscored_tile_has_no_badge_and_no_target_in_english():
    tile = vital_tile(RECEIVED, "en")
    assert _find(tile, "gp-badge") is None
    label = _find(tile, "gp-vital-label")
    assert label.children == "Cases today" and tile.title == "Cases received"  # short label, full on hover (anywhere)
    assert _find(tile, "gp-vital-num").children == "115"
    assert _find(tile, "gp-vital-change").children == "↑33% vs baseline"


def test_a_metric_without_a_short_label_keeps_its_own():
    tile = vital_tile(M("repeat_rate_pct", "重复报件率", "Repeat reports", 3.0, "%", 4.0, "green", 3.5, None,
                        "lower"), "en")
    assert _find(tile, "gp-vital-label").children == "Repeat reports"
    assert _find(tile, "gp-vital-target").children == "≤4%"


def test_missing_value_shows_a_dash_not_zero_and_says_why():
    tile = vital_tile(M("satisfaction_pct", "满意率", "Satisfaction", None, "%", 90.0, "none", None, None), "zh")
    assert _find(tile, "gp-vital-num").children == "—"
    assert "今日无评价" in _texts(tile)
    # a Monday morning: no working-day closure deadline has fallen yet today
    other = M("close_on_time_other_pct", "一般件按时办结率", "Other cases closed on time", None, "%", 90.0, "none",
              95.0, None)
    assert "None due today" in _texts(vital_tile(other, "en"))
    assert "None due today" not in _texts(vital_tile(ACCEPT, "en"))


def test_a_stage_the_source_does_not_record_says_so_instead_of_none_due():
    # an LA / NYC / Open311 export: no acceptance or dispatch time anywhere (metrics.vitals sets the reason)
    blank = dataclasses.replace(ACCEPT, value=None, score=None, status="none", baseline=None, change=None,
                                reason="accept_not_recorded")
    for lang, words in (("zh", "来源未记录"), ("en", "Not recorded")):
        tile = vital_tile(blank, lang)
        assert _find(tile, "gp-vital-num").children == DASH  # not 0 %
        assert words in _texts(tile)
        assert "None due today" not in _texts(tile) and "今日无到期件" not in _texts(tile)
        assert _find(tile, "gp-badge") is None
    dispatch = M("dispatch_5min_pct", "5分钟派遣率", "Dispatched within 5 min", None, "%", 95.0, "none", None, None)
    median = dataclasses.replace(dispatch, key="median_dispatch_s", unit="s", reason="dispatch_not_recorded")
    assert "来源未记录" in _texts(vital_tile(median, "zh"))
    assert "Not recorded" in _texts(vital_tile(median, "en"))


def test_badges_for_every_status():
    assert status_badge("green", "en").children == "● OK"
    assert status_badge("red", "zh").children == "■ 告警"
    assert status_badge("bogus", "zh").className == "gp-badge gp-s-none"


def test_index_tile_and_strip_order():
    assert _find(index_tile(0.983, "green", "zh"), "gp-vital-num").children == "98"
    assert _find(index_tile(None, "none", "zh"), "gp-vital-num").children == "—"
    strip = vitals_strip([RECEIVED, ACCEPT], 0.97, "green", "zh")
    assert [getattr(t, "data-key") for t in strip] == ["index", "received", "accept_1min_pct"]
    assert WALL_VITALS[0] == "received" and len(WALL_VITALS) == 8


def test_the_index_tile_says_what_the_index_is():
    tile = index_tile(0.97, "green", "en")
    assert "mean" in tile.title and "capped at 1.2" in tile.title
    assert "平均值" in index_tile(None, "none", "zh").title
