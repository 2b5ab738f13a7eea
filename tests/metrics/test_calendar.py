"""Working-day calendar: statutory days, make-up working weekends, the Mon–Fri fallback and its notice."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.calendar import (
    HolidayFileError,
    WorkCalendar,
    calendar_notice,
    default_calendar,
    read_holiday_file,
)
from tests.conftest import settings_for

D = dt.date


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


@pytest.fixture
def holiday_file(tmp_path: Path) -> Path:
    path = tmp_path / "holidays.csv"
    path.write_text(
        "date,kind,note\n"
        "# operator entries for 2027, before the State Council publishes them\n"
        "\n"
        "2027-01-01,holiday,元旦\n"
        "2027-01-09, workday ,make-up Saturday\n",
        encoding="utf-8",
    )
    return path


# --- statutory calendar -----------------------------------------------------------------------
def test_national_day_2026_third_working_day_is_the_make_up_saturday(cal):
    assert all(not cal.is_workday(D(2026, 10, d)) for d in range(1, 8))
    assert cal.is_workday(D(2026, 10, 10))  # Saturday, worked in lieu
    assert cal.nth_workday_after(D(2026, 9, 30), 3) == D(2026, 10, 10)
    assert cal.nth_workday_after(D(2026, 9, 30), 1) == D(2026, 10, 8)


def test_spring_festival_2026_matches_the_package_schedule(cal):
    # chinesecalendar 1.11.0: holiday Sun Feb 15 – Mon Feb 23, make-up workdays Sat Feb 14 and Sat Feb 28.
    holiday = [D(2026, 2, d) for d in range(15, 24)]
    assert all(chinese_calendar.is_holiday(d) for d in holiday)
    assert chinese_calendar.is_workday(D(2026, 2, 14)) and chinese_calendar.is_workday(D(2026, 2, 28))
    assert not any(cal.is_workday(d) for d in holiday)
    assert cal.is_workday(D(2026, 2, 14)) and cal.is_workday(D(2026, 2, 28))
    # Thu Feb 12 → Fri 13, Sat 14 (make-up), then nothing until Tue 24.
    assert cal.nth_workday_after(D(2026, 2, 12), 3) == D(2026, 2, 24)
    # Fri Feb 13 → Sat 14, Tue 24, Wed 25.
    assert cal.nth_workday_after(D(2026, 2, 13), 3) == D(2026, 2, 25)


def test_friday_before_a_make_up_saturday_counts_the_saturday(cal):
    # Fri Feb 27 2026 → Sat 28 (make-up), Mon Mar 2, Tue Mar 3.
    assert cal.nth_workday_after(D(2026, 2, 27), 3) == D(2026, 3, 3)
    # An ordinary Friday skips the weekend: Fri 2026-11-20 → Mon 23, Tue 24, Wed 25.
    assert cal.nth_workday_after(D(2026, 11, 20), 3) == D(2026, 11, 25)


def test_agrees_with_chinese_calendar_on_every_covered_day(cal):
    first, last = min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year
    day = D(first, 1, 1)
    while day.year <= last:
        assert cal.is_workday(day) == chinese_calendar.is_workday(day), day
        day += dt.timedelta(days=1)


def test_nth_workday_after_refuses_zero(cal):
    with pytest.raises(ValueError, match="n must be"):
        cal.nth_workday_after(D(2026, 1, 5), 0)


# --- coverage and fallback ------------------------------------------------------------------------
def test_covers_exactly_the_package_years(cal):
    assert cal.covers(2004) and cal.covers(2026)
    assert not cal.covers(2003) and not cal.covers(2027)
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(D(2027, 3, 1))  # if this starts passing, the package grew 2027


def test_fallback_years_reports_2027(cal):
    assert cal.fallback_years(D(2026, 12, 1), D(2027, 2, 1)) == [2027]
    assert cal.fallback_years(D(2026, 1, 1), D(2028, 1, 1)) == [2027, 2028]
    assert cal.fallback_years(D(2025, 1, 1), D(2026, 12, 31)) == []


def test_2027_without_file_is_monday_to_friday(cal):
    assert cal.is_workday(D(2027, 1, 1))  # a Friday; statutory New Year unknown to the package
    assert not cal.is_workday(D(2027, 1, 2)) and not cal.is_workday(D(2027, 1, 3))
    assert cal.nth_workday_after(D(2026, 12, 31), 3) == D(2027, 1, 5)
    frame = cal.frame(D(2026, 12, 31), D(2027, 1, 1), 3)
    assert frame["statutory"].tolist() == [True, False]


def test_holiday_file_entries_are_honoured_in_2027(holiday_file):
    cal = WorkCalendar(holiday_file)
    assert not cal.is_workday(D(2027, 1, 1))
    assert cal.is_workday(D(2027, 1, 9))  # a Saturday the file makes a working day
    assert cal.nth_workday_after(D(2026, 12, 31), 1) == D(2027, 1, 4)
    assert cal.nth_workday_after(D(2027, 1, 7), 2) == D(2027, 1, 9)
    frame = cal.frame(D(2027, 1, 1), D(2027, 1, 9), 1).set_index("day")
    assert not frame.loc[D(2027, 1, 1), "is_workday"] and frame.loc[D(2027, 1, 9), "is_workday"]
    assert not frame["statutory"].any()


def test_holiday_file_wins_over_the_package(tmp_path):
    path = tmp_path / "holidays.csv"
    path.write_text("2026-10-09,holiday\n", encoding="utf-8")
    cal = WorkCalendar(path)
    assert not cal.is_workday(D(2026, 10, 9))
    assert cal.nth_workday_after(D(2026, 9, 30), 3) == D(2026, 10, 12)
    frame = cal.frame(D(2026, 10, 8), D(2026, 10, 10), 3)
    assert frame["statutory"].tolist() == [True, False, True]


def test_missing_holiday_file_means_no_entries(tmp_path):
    assert read_holiday_file(tmp_path / "absent.csv") == {}
    assert WorkCalendar(tmp_path / "absent.csv").is_workday(D(2027, 1, 1))


@pytest.mark.parametrize(("line", "message"), [
    ("2027-13-01,holiday", "bad date"),
    ("2027-01-01,vacation", "bad kind"),
    ("2027-01-01", "expected 'date,kind'"),
])
def test_bad_holiday_file_line_names_file_and_line(tmp_path, line, message):
    path = tmp_path / "holidays.csv"
    path.write_text(f"# header comment\n{line}\n", encoding="utf-8")
    with pytest.raises(HolidayFileError, match=message) as info:
        WorkCalendar(path)
    assert f"{path}:2" in str(info.value)


def test_holiday_file_contradiction_is_refused(tmp_path):
    path = tmp_path / "holidays.csv"
    path.write_text("2027-01-01,holiday\n2027-01-01,workday\n", encoding="utf-8")
    with pytest.raises(HolidayFileError, match="both"):
        WorkCalendar(path)


def test_notice_text_for_2027(cal, holiday_file):
    notice = calendar_notice(cal, D(2026, 12, 1), D(2027, 1, 31))
    assert notice is not None and notice.years == (2027,)
    assert notice.zh == "2027 年法定节假日数据缺失，按周一至周五计算工作日"
    assert notice.en == "No statutory holiday data for 2027: working days assumed Mon–Fri"
    assert notice.text("zh") == notice.zh and notice.text("en") == notice.en
    assert calendar_notice(cal, D(2026, 1, 1), D(2026, 12, 31)) is None
    with_file = calendar_notice(WorkCalendar(holiday_file), D(2027, 1, 1), D(2027, 1, 31))
    assert "holidays.csv" in with_file.zh and "holidays.csv" in with_file.en


# --- frame -----------------------------------------------------------------------------------------
def test_frame_has_one_row_per_day_and_matches_nth_workday_after(cal):
    frame = cal.frame(D(2026, 9, 25), D(2026, 10, 15), 3)
    assert list(frame.columns) == ["day", "is_workday", "statutory", "close_due_day", "close_working_days"]
    assert frame["day"].tolist() == [D(2026, 9, 25) + dt.timedelta(days=i) for i in range(21)]
    for row in frame.itertuples():
        assert row.close_due_day == cal.nth_workday_after(row.day, 3)
        assert row.is_workday == cal.is_workday(row.day)
    assert frame.set_index("day").loc[D(2026, 9, 30), "close_due_day"] == D(2026, 10, 10)
    assert cal.frame(D(2026, 1, 2), D(2026, 1, 1), 3).empty


def test_frame_of_two_years_is_fast_even_cold():
    started = time.perf_counter()
    frame = WorkCalendar().frame(D(2026, 1, 1), D(2027, 12, 31), 3)
    elapsed = time.perf_counter() - started
    assert len(frame) == 730
    assert elapsed < 0.1, f"{elapsed * 1000:.0f} ms"


# --- default calendar -------------------------------------------------------------------------------
def test_default_calendar_is_cached_and_notices_edits(tmp_path):
    settings = settings_for(tmp_path / "var")
    first = default_calendar(settings)
    assert first is default_calendar(settings)
    assert first.is_workday(D(2027, 1, 1))
    path = tmp_path / "var" / "calendar" / "holidays.csv"
    path.parent.mkdir(parents=True)
    path.write_text("2027-01-01,holiday\n", encoding="utf-8")
    edited = default_calendar(settings)
    assert edited is not first and not edited.is_workday(D(2027, 1, 1))
    path.write_text("2027-01-01,workday\n", encoding="utf-8")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))  # a distinct mtime even on coarse clocks
    assert default_calendar(settings).is_workday(D(2027, 1, 1))


# --- properties ---------------------------------------------------------------------------------------
days = st.dates(min_value=D(2004, 1, 1), max_value=D(2029, 12, 31))
_CAL = WorkCalendar()  # shared by the property tests; hypothesis refuses function-scoped fixtures


@settings(max_examples=200, deadline=None)
@given(day=days, n=st.integers(min_value=1, max_value=12))
def test_nth_workday_after_is_the_nth_working_day(day, n):
    cal = _CAL
    due = cal.nth_workday_after(day, n)
    assert due > day and cal.is_workday(due)
    between = [day + dt.timedelta(days=i) for i in range(1, (due - day).days)]
    assert sum(cal.is_workday(d) for d in between) == n - 1


@settings(max_examples=200, deadline=None)
@given(a=days, b=days, n=st.integers(min_value=1, max_value=5))
def test_nth_workday_after_is_monotone(a, b, n):
    cal = _CAL
    early, late = sorted((a, b))
    assert cal.nth_workday_after(early, n) <= cal.nth_workday_after(late, n)


# --- calendars of the holidays package (the calendar setting) ------------------------------------------
def test_us_ny_third_working_day_skips_thanksgiving():
    us = WorkCalendar(code="US-NY")
    # by hand: Wed 2026-11-25; Thu 26 is Thanksgiving; Fri 27 (1st), Sat/Sun off, Mon 30 (2nd), Tue Dec 1 (3rd)
    assert not us.is_workday(D(2026, 11, 26))
    assert us.is_workday(D(2026, 11, 27))  # the day after Thanksgiving is no New York public holiday
    assert us.nth_workday_after(D(2026, 11, 25), 3) == D(2026, 12, 1)
    # Independence Day 2026 falls on a Saturday and is observed on Friday, July 3
    assert not us.is_workday(D(2026, 7, 3)) and us.is_workday(D(2026, 7, 2))
    assert us.fallback_years(D(2020, 1, 1), D(2040, 12, 31)) == []  # rules, not yearly announcements
    assert calendar_notice(us, D(2027, 1, 1), D(2027, 12, 31)) is None


def test_subdivision_holidays_differ_from_the_country():
    # Lincoln's Birthday (Feb 12) is a New York holiday, not a federal one; Cesar Chavez Day (Mar 31) a Californian one
    ny, ca, us = WorkCalendar(code="US-NY"), WorkCalendar(code="US-CA"), WorkCalendar(code="US")
    assert not ny.is_workday(D(2026, 2, 12)) and us.is_workday(D(2026, 2, 12)) and ca.is_workday(D(2026, 2, 12))
    assert not ca.is_workday(D(2026, 3, 31)) and us.is_workday(D(2026, 3, 31))


def test_holiday_file_applies_to_a_holidays_package_calendar(tmp_path):
    path = tmp_path / "holidays.csv"
    path.write_text("2026-11-27,holiday,county closure\n2026-11-28,workday\n", encoding="utf-8")
    us = WorkCalendar(path, code="US-NY")
    # Sat 28 (1st, the file), Mon 30 (2nd), Tue Dec 1 (3rd): Fri 27 closed by the file
    assert not us.is_workday(D(2026, 11, 27)) and us.is_workday(D(2026, 11, 28))
    assert us.nth_workday_after(D(2026, 11, 25), 2) == D(2026, 11, 30)


def test_default_calendar_follows_the_calendar_setting(tmp_path):
    from dataclasses import replace

    base = settings_for(tmp_path / "var")
    cn, us = default_calendar(base), default_calendar(replace(base, calendar="US-NY"))
    assert cn.code == "cn" and us.code == "US-NY" and us is default_calendar(replace(base, calendar="US-NY"))
    assert len({cn, us}) == 2  # hashable: calendars key caches


@pytest.mark.parametrize("code", ["XX", "US-ZZ", "-NY"])
def test_unknown_calendar_code_stops_start_up_naming_the_setting(code):
    from settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match=r"setting calendar \(GRIDPULSE_CALENDAR\)"):
        load_settings(env={"GRIDPULSE_CALENDAR": code}, toml_path=None)
    with pytest.raises(ValueError, match="calendar"):
        WorkCalendar(code=code)


def test_known_calendar_codes_are_accepted_and_a_missing_holiday_file_is_refused(tmp_path):
    from settings import SettingsError, load_settings

    assert load_settings(env={"GRIDPULSE_CALENDAR": "US-CA"}).calendar == "US-CA"
    with pytest.raises(SettingsError, match=r"setting holiday_file"):
        load_settings(env={"GRIDPULSE_HOLIDAY_FILE": str(tmp_path / "nope.csv")})
