"""Surge and efficiency warnings, newest first."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dashboard.components.warnings import kind_key, newest_first, warning_list
from metrics.warnings import Warning as W  # the real dataclass, so the test cannot drift from it

NOW = datetime(2026, 11, 25, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


WARNINGS = [
    W("surge", "amber", "G001-1", "旧激增", "old surge", {}, NOW - timedelta(hours=2)),
    W("efficiency", "amber", "D-ZJ", "派遣慢", "slow dispatch", {}, NOW - timedelta(minutes=5)),
    W("surge", "red", "G059-4", "新激增", "new surge", {}, NOW - timedelta(minutes=5)),
    W("surge", "amber", "G100-1", "中", "middle", {}, NOW - timedelta(minutes=30)),
]


def test_newest_first_red_before_amber_on_ties():
    assert [w.area_id for w in newest_first(WARNINGS, 10)] == ["G059-4", "D-ZJ", "G100-1", "G001-1"]
    assert len(newest_first(WARNINGS, 2)) == 2


def test_kind_tags():
    assert kind_key("surge") == "surge" and kind_key("category_surge") == "surge"
    assert kind_key("efficiency") == "efficiency" and kind_key("slow_dispatch") == "efficiency"
    assert kind_key("something") == "other"


def test_markup():
    items = warning_list(WARNINGS, "zh", "Asia/Shanghai", 2)
    assert len(items) == 2
    first = items[0].children
    assert items[0].className == "gp-warn gp-s-red"
    assert [c.children for c in first] == ["■", "激增", "新激增", "10:25"]
    assert items[1].children[1].children == "效能"
    assert warning_list([], "en", "Asia/Shanghai", 3)[0].children == "No warnings"
    assert warning_list(WARNINGS, "en", "Asia/Shanghai", 1)[0].children[2].children == "new surge"
