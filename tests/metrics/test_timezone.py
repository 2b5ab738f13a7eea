"""Days and hours follow the deployment's zone, across daylight-saving changes (America/Los_Angeles).

2026-11-01 has 25 local hours (01:00-02:00 happens twice), 2026-03-08 has 23 (02:00-03:00 is
skipped). The daily backlog must have one row per local day, and the hourly backlog one row per
elapsed hour, each labelled with the instant it starts, so no hour is counted twice or lost.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from metrics.backlog import backlog_daily, backlog_hourly
from metrics.scope import Scope
from tests.metrics.conftest import build_warehouse, open_cursor, synthetic_events

LA = "America/Los_Angeles"
ZONE = ZoneInfo(LA)


def district(con) -> Scope:
    """The synthetic warehouse's district, read from its areas (tests name no deployment's ids)."""
    return Scope(con.execute("SELECT area_id FROM areas WHERE level = 'district'").fetchone()[0], level="district")


def _warehouse(tmp_path, end: datetime):
    events = synthetic_events(end, weeks=5, rate_per_hour=0.3, seed=3)
    settings = dataclasses.replace(build_warehouse(tmp_path / "var", events), timezone=LA, calendar="US-CA")
    received = pd.to_datetime(events["received_at"], utc=True).dt.tz_convert(LA)
    closed = pd.to_datetime(events["closed_at"], utc=True).dt.tz_convert(LA)
    return settings, received, closed


def test_daily_backlog_over_the_november_change_has_one_row_per_local_day(tmp_path):
    now = datetime(2026, 11, 10, 12, 0, tzinfo=ZONE)
    settings, received, closed = _warehouse(tmp_path, now)
    con = open_cursor(settings)
    df = backlog_daily(con, district(con), now, settings, days=24)
    days = list(df["day"])
    assert len(days) == 24 and len(set(days)) == 24
    assert days[0] == pd.Timestamp("2026-10-18").date() and days[-1] == now.date()
    assert all((b - a).days == 1 for a, b in zip(days, days[1:], strict=False))
    # inflow per local day: a plain pandas count by the local date (25 hours on Nov 1, counted once)
    want = received[received < pd.Timestamp(now)].dt.date.value_counts()
    assert df["inflow"].tolist() == [int(want.get(d, 0)) for d in days]
    assert df["inflow"].sum() == int(((received >= pd.Timestamp("2026-10-18", tz=LA))
                                      & (received < pd.Timestamp(now))).sum())
    out_want = closed[closed < pd.Timestamp(now)].dt.date.value_counts()
    assert df["outflow"].tolist() == [int(out_want.get(d, 0)) for d in days]
    # the running backlog adds up day by day
    change = (df["inflow"] - df["outflow"]).tolist()
    opens = df["open_end"].tolist()
    assert all(opens[i] == opens[i - 1] + change[i] for i in range(1, len(days)))


@pytest.mark.parametrize(("now", "hours"), [
    (datetime(2026, 11, 1, 23, 30, tzinfo=ZONE), 25),  # clocks go back: 24.5 h since midnight
    (datetime(2026, 3, 8, 23, 30, tzinfo=ZONE), 23),  # clocks go forward: 22.5 h since midnight
])
def test_hourly_backlog_on_a_daylight_saving_day_counts_each_elapsed_hour_once(tmp_path, now, hours):
    settings, received, _ = _warehouse(tmp_path, now)
    con = open_cursor(settings)
    df = backlog_hourly(con, district(con), now, settings)
    assert len(df) == hours
    starts = [pd.Timestamp(h) for h in df["hour"]]
    assert len(set(starts)) == hours
    midnight = pd.Timestamp(now.date(), tz=LA)
    assert starts[0] == midnight
    # one elapsed hour apart: the repeated 01:00 is two rows, the skipped 02:00 none
    assert all(b - a == pd.Timedelta(hours=1) for a, b in zip(starts, starts[1:], strict=False))
    want = [int(((received >= s) & (received < min(s + pd.Timedelta(hours=1), pd.Timestamp(now)))).sum())
            for s in starts]
    assert df["inflow"].tolist() == want
    assert sum(want) == int(((received >= midnight) & (received < pd.Timestamp(now))).sum())
    local = [s.tz_convert(LA).strftime("%H:%M %Z") for s in starts]
    if hours == 25:
        assert local[1:3] == ["01:00 PDT", "01:00 PST"]
    else:
        assert local[1:3] == ["01:00 PST", "03:00 PDT"]


@pytest.mark.parametrize(("now", "weeks", "key"), [
    (datetime(2026, 11, 5, 12, 0, tzinfo=ZONE), 3, "today"),   # the trend's days include the 25-hour Nov 1
    (datetime(2026, 11, 20, 12, 0, tzinfo=ZONE), 6, "7d"),     # baseline weeks across the change
    (datetime(2027, 1, 15, 12, 0, tzinfo=ZONE), 20, "30d"),    # a 30-day period holding the change
    (datetime(2026, 11, 1, 1, 30, tzinfo=ZONE), 3, "today"),   # in the repeated hour itself
])
def test_windows_read_together_across_a_clock_change_equal_each_read_alone_and_pandas(tmp_path, now, weeks, key):
    """Windows share a query pass only when equal in elapsed time (the queries step on the epoch, Python
    subtracts one zone's times on the wall clock): a trend or baseline holding the change reads exactly
    what each window read alone reads, and the baseline equals a pandas count."""
    from metrics import queries, vitals
    from metrics.grids import grid_aggregates
    from metrics.scope import Window

    events = synthetic_events(now, weeks=weeks, rate_per_hour=0.3, seed=3)
    settings = dataclasses.replace(build_warehouse(tmp_path / "var", events), timezone=LA, calendar="US-CA")
    received = pd.to_datetime(events["received_at"], utc=True)
    con = open_cursor(settings)
    scope = district(con)
    window = Window.named(key, now, LA)
    trend = vitals.vitals_trend(con, scope, window, now, settings)
    ctx = queries.prepare(con, now, settings)
    rows = [r for r in trend.iloc[:-1].itertuples() if not pd.isna(r.received)]
    assert len(rows) >= 2
    for r in rows:
        alone = vitals._values(vitals._measure_group(ctx, scope, [(r.start, r.end)])[0], None)
        for k in ("received", "open_backlog", "overdue_open", "accept_1min_pct", "close_on_time_other_pct"):
            got, want = getattr(r, k), alone[k]
            assert (want is None and pd.isna(got)) or got == pytest.approx(want), (r.start, k, got, want)
        assert r.received == ((received >= pd.Timestamp(r.start)) & (received < pd.Timestamp(r.end))).sum()
    vs = vitals.vital_signs(con, scope, window, now, settings).by_key()
    ws, we = window.start, min(window.end, now)
    first = received.min().tz_convert(LA).date()
    wins = vitals.baseline_covered(vitals.baseline_windows(ws, we), first)
    length = (we - ws).total_seconds()
    want = sum(((received >= pd.Timestamp(a)) & (received < pd.Timestamp(b))).sum() * length / (b - a).total_seconds()
               for a, b in wins) / len(wins)
    assert vs["received"].baseline == pytest.approx(want)
    grids = grid_aggregates(con, scope, "street", window, now, settings)
    assert grids["baseline"].sum() == pytest.approx(want)
