"""Surge and efficiency warnings: order, sentences and markup."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dashboard.components.warnings import kind_key, newest_first, warning_list, warning_text
from metrics.warnings import Warning as W  # the real dataclass, so the test cannot drift from it

NOW = datetime(2026, 11, 25, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def surge(area: str, level: str, when: datetime, count: int = 9, usual: float = 0.4, street=("东湖街道", "Donghu Street"),
          name=("微网格 002-1", "Micro-grid 002-1"), category=("施工噪音", "Construction noise")) -> W:
    return W("surge", level, area, {"street": street, "area": name, "category": category},
             {"count": count, "usual": usual, "hours": 6.0, "category_id": "ENV-01"}, when)


def efficiency(unit: str, level: str, when: datetime, week: float = 0.61, norm: float = 0.88) -> W:
    return W("efficiency", level, "D1", {"unit": (f"{unit}局", f"{unit} Bureau")},
             {"unit_kind": "department", "unit": unit, "rate_week": week, "rate_norm": norm}, when)


WARNINGS = [
    surge("G001-1", "amber", NOW - timedelta(hours=2), name=("旧", "old")),
    efficiency("D-ZJ", "amber", NOW - timedelta(minutes=5)),
    surge("G059-4", "red", NOW - timedelta(minutes=5), name=("新", "new")),
    surge("G100-1", "amber", NOW - timedelta(minutes=30), name=("中", "middle")),
]


def test_newest_first_red_before_amber_on_ties():
    assert [w.area_id for w in newest_first(WARNINGS, 10)] == ["G059-4", "D1", "G100-1", "G001-1"]
    assert len(newest_first(WARNINGS, 2)) == 2


def test_one_refresh_keeps_the_detectors_ranking():
    # every warning of one refresh has the same detection time; the detector ranked G500-1 first
    ranked = [surge(a, "amber", NOW, count=c) for a, c in
              (("G500-1", 40), ("G100-1", 12), ("G200-1", 11), ("G300-1", 10), ("G400-1", 9))]
    merged = [*ranked, efficiency("D-ZJ", "red", NOW), efficiency("D-CG", "amber", NOW)]
    assert [w.area_id for w in newest_first(ranked, 4)] == ["G500-1", "G100-1", "G200-1", "G300-1"]
    # several detectors merged: red first, each detector's own order kept within a level
    assert [w.evidence.get("unit", w.area_id) for w in newest_first(merged, 4)] == ["D-ZJ", "G500-1", "G100-1",
                                                                                   "G200-1"]


def test_kind_tags():
    assert kind_key("surge") == "surge" and kind_key("category_surge") == "surge"
    assert kind_key("efficiency") == "efficiency" and kind_key("slow_dispatch") == "efficiency"
    assert kind_key("something") == "other"


def test_surge_sentences_in_both_languages():
    w = surge("G002-1", "amber", NOW, count=9, usual=0.4)
    assert warning_text(w, "zh") == "东湖街道 微网格 002-1 施工噪音：6 小时内 9 件，通常不到 1 件"
    assert warning_text(w, "en") == "Donghu Street Micro-grid 002-1 construction noise: 9 reports in 6 h, " \
                                    "usually fewer than 1"
    assert warning_text(surge("G", "red", NOW, usual=2.04), "zh").endswith("通常 2 件")
    assert warning_text(surge("G", "red", NOW, usual=1.3), "en").endswith("usually 1.3")
    # an area without a street (a grid's own name only) has no stray space
    assert warning_text(surge("G", "red", NOW, street=("", "")), "en").startswith("Micro-grid 002-1 construction")


def test_efficiency_sentences_in_both_languages():
    w = efficiency("城管", "red", NOW, week=0.612, norm=0.88)
    assert warning_text(w, "zh") == "城管局 本周按时办结率 61%，常态 88%"
    assert warning_text(w, "en") == "城管 Bureau on-time closure this week 61%, usually 88%"


def test_markup():
    items = warning_list(WARNINGS, "zh", "Asia/Shanghai", 2)
    assert len(items) == 2
    first = items[0].children
    assert items[0].className == "gp-warn gp-s-red"
    assert [c.children for c in first] == ["■", "激增", "东湖街道 新 施工噪音：6 小时内 9 件，通常不到 1 件", "10:25"]
    assert items[1].children[1].children == "效能"
    assert warning_list([], "en", "Asia/Shanghai", 3)[0].children == "No warnings"
    assert warning_list(WARNINGS, "en", "Asia/Shanghai", 1)[0].children[2].children.startswith("Donghu Street new ")
