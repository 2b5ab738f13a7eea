"""The header's data status: live, stale (by age or failed run), calendar notice."""

from __future__ import annotations

from datetime import UTC, datetime

from dashboard.components.header import data_status, no_snapshot_status
from metrics.freshness import Freshness as F  # the real dataclass, so the test cannot drift from it

NOW = datetime(2026, 11, 25, 2, 30, tzinfo=UTC)  # 10:30 in Shanghai


def _text(children):
    return [c.children if isinstance(c.children, str) else [x.children for x in c.children] for c in children]


def test_live():
    out = data_status(F(datetime(2026, 11, 25, 2, 29, 30, tzinfo=UTC), 30, False, "ok", None, None, None),
                      "zh", "Asia/Shanghai", NOW)
    assert _text(out) == [["数据时间", "10:29:30"], "● 数据实时"]
    assert getattr(out[1], "data-stale") == "false"


def test_stale_by_age_says_how_old_in_words():
    out = data_status(F(datetime(2026, 11, 25, 2, 18, tzinfo=UTC), 720, True, "ok", None, None, None),
                      "en", "Asia/Shanghai", NOW)
    assert out[1].children == "■ Data 12 min old"
    assert out[1].className == "gp-fresh gp-s-red" and getattr(out[1], "data-stale") == "true"


def test_failed_run_and_calendar_notice():
    out = data_status(F(datetime(2026, 11, 24, 2, 0, tzinfo=UTC), 88200, True, "failed", "disk full",
                        "2027 年法定节假日数据缺失", "No statutory holiday data for 2027"), "zh", "Asia/Shanghai", NOW)
    assert out[0].children[1].children == "11-24 10:00:00"  # another day: the date is shown
    assert out[1].children == "■ 数据已滞后 1470 分钟 · 最近一次数据更新失败"
    assert out[1].title == "disk full"
    assert out[2].children == "▲ 2027 年法定节假日数据缺失"


def test_failed_run_on_fresh_data_and_no_snapshot():
    out = data_status(F(NOW, 0, True, "failed", "boom", None, None), "en", "Asia/Shanghai", NOW)
    assert out[1].children == "■ Last data update failed"
    assert no_snapshot_status("en")[0].children == "■ No data snapshot yet"
