"""ISO weeks of the briefing, across the 2026-W53 / 2027-W01 new year."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dashboard.briefing.week import IsoWeek

SH = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("text", ["2026-W47", "2026W47", " 2026-w47 "])
def test_parse_accepts_the_iso_forms(text):
    assert IsoWeek.parse(text) == IsoWeek(2026, 47)
    assert str(IsoWeek.parse(text)) == "2026-W47"


@pytest.mark.parametrize("text, message", [("2026-47", "ISO week"), ("W47", "ISO week"), ("2025-W53", "no ISO week 53"),
                                           ("2026-W00", "no ISO week 0"), ("2026-W54", "no ISO week 54")])
def test_parse_refuses_what_is_not_a_week(text, message):
    with pytest.raises(ValueError, match=message):
        IsoWeek.parse(text)


def test_2026_has_53_weeks_and_w53_spans_the_new_year():
    assert IsoWeek.weeks_in(2026) == 53 and IsoWeek.weeks_in(2025) == 52
    w53 = IsoWeek(2026, 53)
    assert (w53.monday, w53.sunday) == (date(2026, 12, 28), date(2027, 1, 3))
    start, end = w53.bounds("Asia/Shanghai")
    assert start == datetime(2026, 12, 28, tzinfo=SH) and end == datetime(2027, 1, 4, tzinfo=SH)
    assert IsoWeek.of(date(2027, 1, 1)) == w53
    assert IsoWeek(2027, 1).previous() == w53 and IsoWeek(2027, 1).monday == date(2027, 1, 4)


@pytest.mark.parametrize("now, week", [
    (datetime(2027, 1, 4, 8, 0, tzinfo=SH), IsoWeek(2026, 53)),     # the Monday after W53
    (datetime(2027, 1, 11, 8, 0, tzinfo=SH), IsoWeek(2027, 1)),     # the Monday after W01
    (datetime(2027, 1, 3, 23, 59, tzinfo=SH), IsoWeek(2026, 52)),   # W53 is not over yet
    (datetime(2026, 11, 30, 0, 30, tzinfo=SH), IsoWeek(2026, 48)),
])
def test_last_complete_week(now, week):
    assert IsoWeek.last_complete(now, "Asia/Shanghai") == week
    assert week.is_over(now, "Asia/Shanghai")
    following = IsoWeek.of(week.monday + timedelta(days=7))
    assert not following.is_over(now, "Asia/Shanghai")


def test_last_complete_week_is_taken_in_the_deployment_zone():
    # Monday 01:00 in Shanghai is still Sunday in UTC: the week that just ended is the Shanghai one
    moment = datetime(2027, 1, 4, 1, 0, tzinfo=SH)
    assert IsoWeek.last_complete(moment, "Asia/Shanghai") == IsoWeek(2026, 53)
    assert IsoWeek.last_complete(moment, "UTC") == IsoWeek(2026, 52)
