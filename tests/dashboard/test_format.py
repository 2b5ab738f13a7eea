"""How the wall writes numbers, changes, targets, countdowns and times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dashboard.components import format as fmt


@pytest.mark.parametrize(("value", "unit", "lang", "expected"), [
    (97.34, "%", "zh", ("97.3", "%")),
    (1204.0, "cases", "zh", ("1,204", "件")),
    (1204.0, "cases", "en", ("1,204", "")),
    (18.4, "s", "zh", ("18", "秒")),
    (18.4, "s", "en", ("18", "s")),
    (5.25, "h", "en", ("5.2", "h")),
    (3.45, "per 10k", "zh", ("3.5", "/万人")),
    (None, "%", "zh", (fmt.DASH, "")),
    (float("nan"), "cases", "en", (fmt.DASH, "")),
    (7.0, "furlongs", "en", ("7.0", "furlongs")),
])
def test_value_parts(value, unit, lang, expected):
    assert fmt.value_parts(value, unit, lang) == expected


@pytest.mark.parametrize(("value", "baseline", "change", "unit", "expected"), [
    (97.0, 95.0, 0.021, "%", "↑2.0 pt"),  # shares move in points, not in percent of a percent
    (93.0, 95.0, -0.021, "%", "↓2.0 pt"),
    (95.02, 95.0, 0.0, "%", "→0.0 pt"),
    (120, 100, 0.2, "cases", "↑20%"),
    (80, 100, -0.2, "cases", "↓20%"),
    (100, 100, 0.001, "cases", "→0%"),
    (120, None, None, "cases", ""),
    (None, 95.0, None, "%", ""),
])
def test_change_text(value, baseline, change, unit, expected):
    assert fmt.change_text(value, baseline, change, unit) == expected


def test_target_text():
    assert fmt.target_text(95.0, "%", "zh", "higher") == "目标 ≥95%"
    assert fmt.target_text(95.5, "%", "en", "higher") == "Goal ≥95.5%"
    assert fmt.target_text(559.4, "cases", "zh", "lower") == "目标 ≤559件"
    assert fmt.target_text(30.0, "s", "en", "lower") == "Goal ≤30 s"
    assert fmt.target_text(30.0, "s", "en") == "Goal 30 s"
    assert fmt.target_text(None, "%", "en") == ""
    assert fmt.target_text(95.0, "%", "zh", "higher", compact=True) == "≥95%"
    assert fmt.target_text(95.0, "%", "zh", compact=True) == "目标 95%"  # no side known: keep the word


@pytest.mark.parametrize(("seconds", "expected"), [
    (0, "00:00"), (59.9, "00:59"), (125, "02:05"), (-125, "02:05"), (3599, "59:59"), (3600, "1:00:00"),
    (-3725, "1:02:05"), (86399, "23:59:59"), (90061, "1d 01:01"), (3 * 86400 + 7200, "3d 02:00"),
])
def test_countdown(seconds, expected):
    assert fmt.countdown(seconds) == expected


def test_countdown_day_word_and_clock_time():
    assert fmt.countdown(90061, "天") == "1天 01:01"
    moment = datetime(2026, 11, 25, 2, 30, 5, tzinfo=UTC)
    assert fmt.clock_time(moment, "Asia/Shanghai") == "10:30:05"
    assert fmt.clock_time(moment, "Asia/Shanghai", with_date=True) == "11-25 10:30:05"
    assert fmt.clock_time(None, "Asia/Shanghai") == fmt.DASH


def test_number():
    assert fmt.number(12345.678, 1) == "12,345.7"
    assert fmt.number(None) == fmt.DASH


def test_a_deadline_at_midnight_reads_as_the_end_of_the_day_before():
    import pandas as pd

    from dashboard.components.format import moment_text

    midnight = pd.Timestamp("2026-12-01T16:00:00Z")  # 2026-12-02 00:00 in Shanghai
    assert moment_text(midnight, "Asia/Shanghai", end_of_day=True) == "2026-12-01 24:00"
    assert moment_text(midnight, "Asia/Shanghai") == "2026-12-02 00:00:00"
    assert moment_text(midnight + pd.Timedelta(seconds=1), "Asia/Shanghai", end_of_day=True) == "2026-12-02 00:00:01"
    # the end of a day in Los Angeles, where the day before had 25 hours
    assert moment_text(pd.Timestamp("2026-11-02T08:00:00Z"), "America/Los_Angeles", end_of_day=True) == "2026-11-01 24:00"
