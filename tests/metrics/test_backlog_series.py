"""backlog_series against hand counts, pandas and backlog_daily; its buckets and granularity rules."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from metrics.backlog import (
    backlog_daily,
    backlog_series,
    bucket_edges,
    data_first_day,
    default_granularity,
    granularities,
    granularity,
    top_members,
)
from metrics.calendar import default_calendar
from metrics.scope import Scope, Window
from metrics.sla import SlaRules, deadlines
from tests.conftest import FIXTURE_NOW
from tests.metrics.conftest import SYN_STREET, build_warehouse, events_frame, open_cursor

TZ = "Asia/Shanghai"
SH = ZoneInfo(TZ)
FLOWS = ["inflow", "outflow", "open_start", "overdue_start", "open_end", "overdue_end"]


def _close_due(demo, ev):
    dl = deadlines(ev.assign(status="closed"), SlaRules.from_settings(demo.settings), default_calendar(demo.settings),
                   TZ, demo.now)
    return dl[dl["stage"] == "close"].set_index("case_id")["due_at"]


def _open_at(ev, t):
    return ev[(ev["received_at"] < t) & (ev["closed_at"].isna() | (ev["closed_at"] >= t))]


# ------------------------------------------------------------------------------------------ pure parts
def test_bucket_edges_cut_the_window_at_local_hours_days_and_mondays():
    w = Window(datetime(2026, 11, 18, 10, 37, tzinfo=SH), datetime(2026, 11, 25, 10, 30, tzinfo=SH), "7d")
    days = bucket_edges(w, "day", TZ)
    assert days[0] == w.start and days[-1] == w.end and len(days) == 9  # 18th (partial) .. 25th (partial)
    assert days[1] == datetime(2026, 11, 19, tzinfo=SH)
    hours = bucket_edges(w, "hour", TZ)
    assert len(hours) - 1 == 7 * 24 + 1 and hours[1] == datetime(2026, 11, 18, 11, tzinfo=SH)
    weeks = bucket_edges(Window.named("30d", FIXTURE_NOW, TZ), "week", TZ)
    assert all(t.weekday() == 0 and t.hour == 0 for t in weeks[1:-1]) and len(weeks) == 6
    with pytest.raises(ValueError):
        bucket_edges(w, "month", TZ)


def test_hour_buckets_follow_daylight_saving():
    la = ZoneInfo("America/Los_Angeles")
    fold = Window(datetime(2026, 11, 1, tzinfo=la), datetime(2026, 11, 2, tzinfo=la), "custom")  # clocks go back
    assert len(bucket_edges(fold, "hour", "America/Los_Angeles")) - 1 == 25
    assert len(bucket_edges(fold, "day", "America/Los_Angeles")) - 1 == 1


def test_granularity_rules():
    today, week = (Window.named(k, FIXTURE_NOW, TZ) for k in ("today", "7d"))
    month, quarter = (Window.named(k, FIXTURE_NOW, TZ) for k in ("30d", "90d"))
    assert granularities(today) == granularities(week) == ("hour", "day")
    assert granularities(month) == granularities(quarter) == ("day", "week")
    assert default_granularity(today) == "hour" and default_granularity(week) == "day"
    assert granularity("hour", month) == "day" and granularity("week", quarter) == "week"
    assert granularity(None, today) == "hour" and granularity("nonsense", week) == "day"


# ------------------------------------------------------------------------------------------ hand counts
def test_hand_counted_series(tmp_path):
    """Five cases over three days, every number counted by hand (all closed after 2 h unless still open).

    Window: Nov 22 12:00 .. Nov 25 10:30 (now). Receipts (local):
      a  Nov 21 23:00  closed Nov 22 01:00   before the window: never open in it
      b  Nov 22 11:00  closed Nov 22 13:00   open at the window's start, closes in bucket 0
      c  Nov 22 23:30  closed Nov 23 01:30   received in bucket 0, closed in bucket 1
      d  Nov 24 09:00  closed Nov 24 11:00   in and out in bucket 2
      e  Nov 25 09:30  still open at 10:30   received in bucket 3 (the partial today)
    """
    rows = [("G001-1", "G001", f"{SYN_STREET}001", SYN_STREET, "CITY-01", t) for t in (
        datetime(2026, 11, 21, 23, 0, tzinfo=SH), datetime(2026, 11, 22, 11, 0, tzinfo=SH),
        datetime(2026, 11, 22, 23, 30, tzinfo=SH), datetime(2026, 11, 24, 9, 0, tzinfo=SH),
        datetime(2026, 11, 25, 9, 30, tzinfo=SH))]
    settings = build_warehouse(tmp_path / "var", events_frame(rows, FIXTURE_NOW))
    w = Window(datetime(2026, 11, 22, 12, 0, tzinfo=SH), FIXTURE_NOW, "custom")
    df = backlog_series(open_cursor(settings), Scope("330108"), w, FIXTURE_NOW, settings, "day")
    assert [t.day for t in df["start"]] == [22, 23, 24, 25]
    assert df["start"].iloc[0] == w.start and df["end"].iloc[-1] == FIXTURE_NOW
    assert df["inflow"].tolist() == [1, 0, 1, 1]
    assert df["outflow"].tolist() == [1, 1, 1, 0]
    assert df["open_start"].tolist() == [1, 1, 0, 0]
    assert df["open_end"].tolist() == [1, 0, 0, 1]
    assert df["overdue_end"].tolist() == [0, 0, 0, 0]  # 3 working days: nothing is late yet
    hours = backlog_series(open_cursor(settings), Scope("330108"), Window.named("today", FIXTURE_NOW, TZ),
                           FIXTURE_NOW, settings, "hour")
    assert len(hours) == 11 and hours["inflow"].sum() == 1 and hours.loc[9, "inflow"] == 1
    assert hours["open_end"].tolist() == [0] * 9 + [1, 1]


# ------------------------------------------------------------------------------------------ the demo
def test_day_series_equals_backlog_daily(demo):
    daily = backlog_daily(demo.cursor(), Scope("330108"), demo.now, demo.settings, days=14)
    w = Window.days(daily["day"].iloc[0], daily["day"].iloc[-1], TZ)
    df = backlog_series(demo.cursor(), Scope("330108"), w, demo.now, demo.settings, "day")
    assert [t.date() for t in df["start"]] == daily["day"].tolist()
    for col, other in (("inflow", "inflow"), ("outflow", "outflow"), ("open_end", "open_end"),
                       ("overdue_end", "overdue_end")):
        assert df[col].tolist() == daily[other].tolist(), col


@pytest.mark.parametrize(("key", "gran", "scope"), [
    ("7d", "hour", Scope("330108")),
    ("30d", "week", Scope("330108003", categories=("PROP",))),
    ("90d", "day", Scope("330108", urgency="urgent")),
], ids=["7d-hour", "30d-week-street", "90d-day-urgent"])
def test_series_matches_pandas(demo, key, gran, scope):
    ev = demo.events
    if scope.area_id != "330108":
        ev = ev[(ev["street_id"] == scope.area_id) & (ev["category_l1"] == "PROP")]
    if scope.urgency:
        ev = ev[ev["urgency"] == scope.urgency]
    due = _close_due(demo, ev)
    w = Window.named(key, demo.now, TZ)
    df = backlog_series(demo.cursor(), scope, w, demo.now, demo.settings, gran)
    assert df["start"].iloc[0] == w.start and df["end"].iloc[-1] == demo.now
    assert (df["start"].iloc[1:].to_numpy() == df["end"].iloc[:-1].to_numpy()).all()
    first = _open_at(ev, w.start)
    assert df["open_start"].iloc[0] == len(first)
    assert df["overdue_start"].iloc[0] == (first["case_id"].map(due) < w.start).sum()
    for row in df.itertuples():
        assert row.inflow == ((ev["received_at"] >= row.start) & (ev["received_at"] < row.end)).sum(), row.start
        assert row.outflow == ((ev["closed_at"] >= row.start) & (ev["closed_at"] < row.end)).sum(), row.start
        open_ = _open_at(ev, row.end)
        assert row.open_end == len(open_), row.start
        assert row.overdue_end == (open_["case_id"].map(due) < row.end).sum(), row.start
    # open(end) = open(start) + inflow - outflow, and each bucket starts where the last ended
    assert (df["open_end"] == df["open_start"] + df["inflow"] - df["outflow"]).all()
    assert (df["open_start"].iloc[1:].to_numpy() == df["open_end"].iloc[:-1].to_numpy()).all()
    assert df["inflow"].sum() > 0 and df["overdue_end"].max() > 0


def test_split_adds_up_to_the_whole(demo):
    w = Window.named("30d", demo.now, TZ)
    whole = backlog_series(demo.cursor(), Scope("330108"), w, demo.now, demo.settings, "week")
    for by in ("street", "category", "department"):
        split = backlog_series(demo.cursor(), Scope("330108"), w, demo.now, demo.settings, "week", by=by)
        summed = split.groupby("start", as_index=False)[FLOWS].sum()
        assert summed[FLOWS].to_numpy().tolist() == whole[FLOWS].to_numpy().tolist(), by
        assert split["name"].notna().all()
    streets = backlog_series(demo.cursor(), Scope("330108"), w, demo.now, demo.settings, "week", by="street")
    one = streets[streets["key"] == "330108003"].reset_index(drop=True)
    alone = backlog_series(demo.cursor(), Scope("330108003"), w, demo.now, demo.settings, "week")
    assert one[FLOWS].to_numpy().tolist() == alone[FLOWS].to_numpy().tolist()


def test_top_members_fold_the_rest_into_other(demo):
    w = Window.named("30d", demo.now, TZ)
    split = backlog_series(demo.cursor(), Scope("330108"), w, demo.now, demo.settings, "week", by="category")
    top = top_members(split, 8)
    keys = list(dict.fromkeys(top["key"]))
    assert len(keys) == 9 and keys[-1] == "__other__"
    totals = split.groupby("key")["inflow"].sum().sort_values(ascending=False)
    assert keys[:8] == list(totals.index[:8]) or set(keys[:8]) == set(totals.index[:8])
    for frame in (split, top):
        assert frame.groupby("start")[FLOWS].sum().to_numpy().tolist() == \
            split.groupby("start")[FLOWS].sum().to_numpy().tolist()
    few = top_members(split[split["key"].isin(keys[:3])], 8)
    assert "__other__" not in set(few["key"])


def test_empty_scope_gives_zero_buckets(demo):
    w = Window.named("7d", demo.now, TZ)
    df = backlog_series(demo.cursor(), Scope("330108", categories=("NO-SUCH",)), w, demo.now, demo.settings)
    assert len(df) == 8 and (df[FLOWS] == 0).all().all()
    split = backlog_series(demo.cursor(), Scope("330108", categories=("NO-SUCH",)), w, demo.now, demo.settings,
                           by="street")
    assert split.empty
    with pytest.raises(ValueError):
        backlog_series(demo.cursor(), Scope("330108"), w, demo.now, demo.settings, by="colour")


def test_data_first_day_is_the_first_local_day_with_a_case(demo):
    first = demo.events["received_at"].min().tz_convert(TZ).date()
    assert data_first_day(demo.cursor(), demo.now, demo.settings) == first


def test_window_end_is_clipped_to_now(demo):
    w = Window(demo.now - timedelta(days=2), demo.now + timedelta(days=3), "custom")
    df = backlog_series(demo.cursor(), Scope("330108"), w, demo.now, demo.settings, "day")
    assert df["end"].iloc[-1] == demo.now and len(df) == 3
    assert isinstance(df["start"].iloc[0], datetime) and date(2026, 11, 23) == df["start"].iloc[0].date()
    assert not pd.isna(df["open_end"]).any()
