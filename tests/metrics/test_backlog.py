"""Backlog series against pandas: daily and hourly flows, the open and overdue backlog, ages, splits."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from metrics.backlog import AGE_BUCKETS, backlog_by, backlog_daily, backlog_hourly, open_age
from metrics.calendar import default_calendar
from metrics.scope import Scope
from metrics.sla import SlaRules, deadlines

TZ = "Asia/Shanghai"


def _close_due(demo, ev):
    dl = deadlines(ev.assign(status="closed"), SlaRules.from_settings(demo.settings), default_calendar(demo.settings),
                   TZ, demo.now)
    return dl[dl["stage"] == "close"].set_index("case_id")["due_at"]


def _open_at(ev, t):
    return ev[(ev["received_at"] < t) & (ev["closed_at"].isna() | (ev["closed_at"] >= t))]


@pytest.mark.parametrize("scope", [Scope("330108"), Scope("330108003", categories=("PROP",))], ids=["district", "street"])
def test_backlog_daily_matches_pandas(demo, scope):
    ev = demo.events
    if scope.area_id != "330108":
        ev = ev[(ev["street_id"] == scope.area_id) & (ev["category_l1"] == "PROP")]
    due = _close_due(demo, ev)
    df = backlog_daily(demo.cursor(), scope, demo.now, days=30, settings=demo.settings)
    assert len(df) == 30 and df["day"].iloc[-1] == demo.now.date()
    for row in df.itertuples():
        start = datetime(row.day.year, row.day.month, row.day.day, tzinfo=ZoneInfo(TZ))
        end = min(start + timedelta(days=1), demo.now)
        assert row.inflow == ((ev["received_at"] >= start) & (ev["received_at"] < end)).sum()
        assert row.outflow == ((ev["closed_at"] >= start) & (ev["closed_at"] < end)).sum()
        open_ = _open_at(ev, end)
        assert row.open_end == len(open_), row.day
        assert row.overdue_end == (open_["case_id"].map(due) < end).sum(), row.day
        week = [start - timedelta(days=k) for k in range(7)]  # this day and the 6 before
        inflows = [((ev["received_at"] >= d) & (ev["received_at"] < min(d + timedelta(days=1), demo.now))).sum()
                   for d in week]
        assert row.inflow_ma7 == pytest.approx(np.mean(inflows)), row.day
    # the identity behind the definition of "open at the end of a day"
    flows = df["open_end"].diff().iloc[1:]
    assert (flows == (df["inflow"] - df["outflow"]).iloc[1:]).all()
    # the demo holds 60 days: nothing a year ago
    assert df["inflow_last_year"].isna().all()


def test_backlog_daily_compares_with_last_year_where_data_allows(demo):
    later = demo.now + timedelta(days=364)  # "as of" a year on: last year's days are the demo's
    df = backlog_daily(demo.cursor(), Scope("330108"), later, days=10, settings=demo.settings)
    ev = demo.events
    for row in df.itertuples():
        d = row.day - timedelta(days=364)
        start = datetime(d.year, d.month, d.day, tzinfo=ZoneInfo(TZ))
        end = min(start + timedelta(days=1), later - timedelta(days=364))
        expected = ((ev["received_at"] >= start) & (ev["received_at"] < end)).sum()
        assert row.inflow_last_year == expected


def test_backlog_hourly_matches_pandas(demo):
    df = backlog_hourly(demo.cursor(), Scope("330108001"), demo.now, settings=demo.settings)
    ev = demo.events[demo.events["street_id"] == "330108001"]
    midnight = datetime(2026, 11, 25, tzinfo=ZoneInfo(TZ))
    assert list(df["hour"]) == [midnight + timedelta(hours=h) for h in range(11)]
    for row in df.itertuples():
        end = min(row.hour + timedelta(hours=1), demo.now)
        assert row.inflow == ((ev["received_at"] >= row.hour) & (ev["received_at"] < end)).sum()
        assert row.outflow == ((ev["closed_at"] >= row.hour) & (ev["closed_at"] < end)).sum()
        assert row.open == len(_open_at(ev, end))


def test_open_age_buckets_cover_the_open_backlog(demo):
    df = open_age(demo.cursor(), Scope("330108"), demo.now, settings=demo.settings)
    assert list(df["bucket"]) == [b[0] for b in AGE_BUCKETS] and list(df["bucket_order"]) == list(range(7))
    open_ = _open_at(demo.events, demo.now)
    age = (demo.now - open_["received_at"]).dt.total_seconds()
    edges = [b[1] for b in AGE_BUCKETS] + [np.inf]
    expected = [((age >= lo) & (age < hi)).sum() for lo, hi in zip(edges, edges[1:], strict=False)]
    assert list(df["n"]) == expected and sum(expected) == len(open_)


@pytest.mark.parametrize("by", ["street", "category", "department", "channel", "category_l1"])
def test_backlog_by_splits_the_whole_backlog(demo, by):
    df = backlog_by(demo.cursor(), Scope("330108"), demo.now, by, settings=demo.settings)
    open_ = _open_at(demo.events, demo.now)
    column = {"street": "street_id", "category": "category_id", "department": "department_id",
              "channel": "channel", "category_l1": "category_l1"}[by]
    expected = open_.groupby(column).size()
    got = df.set_index("key")["open"]
    assert got[got > 0].sort_index().to_dict() == expected.sort_index().to_dict()
    assert df["open"].sum() == len(open_)
    assert df["open"].is_monotonic_decreasing
    zero_filled = {"street": 3, "category": 40, "department": 14, "channel": 5, "category_l1": 10}[by]
    assert len(df) == zero_filled and df["name"].notna().all() and df["name_en"].notna().all()
    assert (df["overdue"] <= df["open"]).all()


def test_backlog_by_respects_the_scope(demo):
    df = backlog_by(demo.cursor(), Scope("330108002", categories=("ENV",)), demo.now, "category",
                    settings=demo.settings)
    assert set(df["key"]) == {c for c in demo.events["category_id"].unique() if c.startswith("ENV-")} | set(
        df["key"])  # only ENV sub-categories are listed
    assert all(k.startswith("ENV-") for k in df["key"])
    open_ = _open_at(demo.events, demo.now)
    sel = open_[(open_["street_id"] == "330108002") & (open_["category_l1"] == "ENV")]
    assert df["open"].sum() == len(sel)
    with pytest.raises(ValueError):
        backlog_by(demo.cursor(), Scope("330108"), demo.now, "weather", settings=demo.settings)


def test_backlog_is_empty_not_broken_before_the_data(demo):
    before = demo.now - timedelta(days=400)
    df = backlog_daily(demo.cursor(), Scope("330108"), before, days=5, settings=demo.settings)
    assert (df[["inflow", "outflow", "open_end", "overdue_end"]] == 0).all().all()
    assert isinstance(df, pd.DataFrame)
