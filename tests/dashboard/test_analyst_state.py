"""The analyst pages' URL state: parsed, written back and changed by the filter bar without a browser."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dashboard.analyst.filters import apply_filters
from dashboard.analyst.state import DEFAULT_WINDOW, ViewState
from metrics.scope import Window

TZ = "Asia/Shanghai"
NOW = datetime(2026, 11, 25, 10, 30, tzinfo=ZoneInfo(TZ))  # a Wednesday


def test_the_default_view_has_an_empty_query_string():
    state = ViewState.from_query({})
    assert state == ViewState()
    assert state.search() == "" and state.window == DEFAULT_WINDOW


def test_a_view_survives_the_round_trip_through_its_url():
    state = ViewState(window="custom", first=date(2026, 11, 1), last=date(2026, 11, 7), scope="A1",
                      categories=("C1", "C2"), channels=("qr",), departments=("D1",), urgency="urgent",
                      lang="en").with_extra(measure="open", layers="cameras,depots")
    search = state.search()
    assert search.startswith("?win=custom&from=2026-11-01&to=2026-11-07&scope=A1&cat=C1,C2")
    assert ViewState.from_search(search) == state
    assert ViewState.from_dict(state.to_dict()) == state


@pytest.mark.parametrize("query, expected", [
    ({"win": "fortnight"}, ViewState()),  # an unknown window: the default
    ({"win": "custom"}, ViewState()),  # custom without dates: the default
    ({"win": "custom", "from": "2026-11-09", "to": "2026-11-02"},  # swapped dates are put in order
     ViewState(window="custom", first=date(2026, 11, 2), last=date(2026, 11, 9))),
    ({"win": "custom", "from": "2026-13-01", "to": "2026-11-02"}, ViewState()),  # a malformed date
    ({"win": "30d", "from": "2026-11-01", "to": "2026-11-02"}, ViewState(window="30d")),  # dates only for custom
    ({"urg": "very"}, ViewState()),
    ({"lang": ["en", "zh"]}, ViewState(lang="en")),  # Dash hands repeated keys over as lists
    ({"cat": ["A,B", "B", " ", "C"]}, ViewState(categories=("A", "B", "C"))),
    ({"scope": ""}, ViewState()),
    ({"nonsense": "1", "measure": "open"}, ViewState(extra=(("measure", "open"),))),
])
def test_values_no_url_of_ours_produces_fall_back_to_the_default(query, expected):
    assert ViewState.from_query(query) == expected


def test_a_hand_made_url_cannot_make_a_huge_state():
    state = ViewState.from_query({"cat": ",".join(f"C{i}" for i in range(10_000)), "scope": "x" * 100_000})
    assert len(state.categories) == 50 and len(state.scope) == 200


def test_page_keys_are_checked_and_dropped_from_links_to_other_pages():
    state = ViewState(window="30d").with_extra(measure="open")
    assert state.search(page_keys=False) == "?win=30d"
    assert state.filters_only() == ViewState(window="30d")
    with pytest.raises(ValueError, match="page key"):
        state.with_extra(colour="red")
    assert state.with_extra(measure=None) == ViewState(window="30d")


@pytest.mark.parametrize("key, start, end", [
    ("today", datetime(2026, 11, 25, 0, 0), NOW),
    ("7d", datetime(2026, 11, 18, 10, 30), NOW),
    ("90d", datetime(2026, 8, 27, 10, 30), NOW),
    ("this_week", datetime(2026, 11, 23, 0, 0), NOW),
    ("last_week", datetime(2026, 11, 16, 0, 0), datetime(2026, 11, 23, 0, 0)),
])
def test_named_windows(key, start, end):
    window = ViewState(window=key).window_at(NOW, TZ)
    assert window.start == start.replace(tzinfo=ZoneInfo(TZ)) and window.end == end.replace(tzinfo=ZoneInfo(TZ))
    assert window.key == key


def test_a_custom_window_is_whole_local_days_and_never_reaches_past_now():
    past = ViewState(window="custom", first=date(2026, 11, 2), last=date(2026, 11, 8)).window_at(NOW, TZ)
    assert (past.start, past.end) == (datetime(2026, 11, 2, tzinfo=ZoneInfo(TZ)), datetime(2026, 11, 9, tzinfo=ZoneInfo(TZ)))
    assert past.step == timedelta(days=7)
    running = ViewState(window="custom", first=date(2026, 11, 20), last=date(2026, 11, 30)).window_at(NOW, TZ)
    assert running.end == NOW


def test_previous_windows_step_back_by_the_window_kind():
    today = Window.named("today", NOW, TZ)
    assert [w.start.day for w in today.previous(3)] == [24, 23, 22]
    assert all(w.end - w.start == today.end - today.start for w in today.previous(3))
    month = Window.named("30d", NOW, TZ)
    assert month.previous(1)[0].end == month.start


def test_daylight_saving_weeks_start_at_local_midnight():
    ny = "America/New_York"
    window = Window.named("this_week", datetime(2026, 11, 3, 12, 0, tzinfo=ZoneInfo(ny)), ny)  # DST ended Sun Nov 1
    assert window.start == datetime(2026, 11, 2, 0, 0, tzinfo=ZoneInfo(ny))
    last = Window.named("last_week", datetime(2026, 11, 3, 12, 0, tzinfo=ZoneInfo(ny)), ny)
    assert last.start == datetime(2026, 10, 26, 0, 0, tzinfo=ZoneInfo(ny))
    elapsed = last.end.astimezone(ZoneInfo("UTC")) - last.start.astimezone(ZoneInfo("UTC"))
    assert elapsed == timedelta(days=7, hours=1)  # the week has 169 hours


def _apply(state: ViewState, **changes) -> ViewState:
    values = {"window": state.window, "first": None, "last": None, "scope": state.scope, "categories": [],
              "channels": [], "urgency": None, "departments": [], **changes}
    return apply_filters(state, values["window"], values["first"], values["last"], values["scope"],
                         values["categories"], values["channels"], values["urgency"], values["departments"],
                         "D0", date(2026, 11, 25))


def test_the_filter_bar_writes_the_new_filters_and_keeps_the_page_keys():
    state = ViewState().with_extra(measure="open")
    new = _apply(state, window="30d", categories=["C1"], urgency="urgent", scope="A7")
    assert new == ViewState(window="30d", categories=("C1",), urgency="urgent", scope="A7", extra=(("measure", "open"),))


def test_choosing_the_district_writes_no_scope():
    assert _apply(ViewState(scope="A7"), scope="D0").scope is None


def test_choosing_custom_starts_from_the_last_seven_days_until_dates_are_picked():
    new = _apply(ViewState(), window="custom")
    assert (new.window, new.first, new.last) == ("custom", date(2026, 11, 19), date(2026, 11, 25))
    picked = _apply(new, window="custom", first="2026-11-01", last="2026-11-03T00:00:00")
    assert (picked.first, picked.last) == (date(2026, 11, 1), date(2026, 11, 3))


def test_a_filter_change_closes_the_open_case():
    state = ViewState().with_extra(case="X1", sort="received:desc")
    assert _apply(state, categories=["C1"]).get("case") is None
    assert _apply(state, categories=["C1"]).get("sort") == "received:desc"
    assert _apply(state).get("case") == "X1"  # nothing changed: the case stays open
