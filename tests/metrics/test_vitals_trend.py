"""The vital signs' trend (the overview's sparklines): hand counts per window, what is read and when.

The counts are checked against plain pandas over the snapshot's events; the caching rules (the
current window shared with ``vital_signs``, the past of long windows read once a day, windows before
the data never read) are checked by counting what ``metrics.vitals._measures`` is asked for.
"""

from __future__ import annotations

import math
from datetime import timedelta

import pandas as pd
import pytest

from metrics import vitals
from metrics.scope import Scope, Window, district_area
from metrics.vitals import LONG_WINDOW, TREND_KEYS, baseline_windows, past_end, vital_signs, vitals_trend


@pytest.fixture
def district(demo):
    con = demo.cursor()
    try:
        return Scope(district_area(con)["area_id"], level="district")
    finally:
        con.close()


def _count(events: pd.DataFrame, ws, we) -> int:
    return int(((events["received_at"] >= ws) & (events["received_at"] < we)).sum())


@pytest.mark.parametrize("key", ["today", "7d", "30d"])
def test_received_per_window_is_a_hand_count(demo, district, key):
    con = demo.cursor()
    trend = vitals_trend(con, district, Window.named(key, demo.now, demo.settings.timezone), demo.now, demo.settings)
    first_day = demo.events["received_at"].min().date()
    assert len(trend) == 9
    measured = 0
    for row in trend.itertuples(index=False):
        if row.start.date() < first_day:
            assert math.isnan(row.received)  # a window the data only partly covers is no point
            continue
        assert row.received == _count(demo.events, row.start, row.end), (key, row.start, row.end)
        measured += 1
    assert measured >= 2
    last = trend.iloc[-1]
    window = Window.named(key, demo.now, demo.settings.timezone)
    assert (last["start"], last["end"]) == (window.start, window.end)


@pytest.mark.parametrize("key", ["today", "30d"])
def test_the_last_row_is_the_vital_signs_of_the_window(demo, district, key):
    con = demo.cursor()
    window = Window.named(key, demo.now, demo.settings.timezone)
    trend = vitals_trend(con, district, window, demo.now, demo.settings)
    signs = vital_signs(con, district, window, demo.now, demo.settings).by_key()
    for k in TREND_KEYS:
        got, want = trend.iloc[-1][k], signs[k].value
        assert (want is None and math.isnan(got)) or got == pytest.approx(want, rel=1e-12), k


def test_long_windows_look_back_from_local_midnight_with_their_own_length(demo, district):
    window = Window.named("30d", demo.now, demo.settings.timezone)
    trend = vitals_trend(demo.cursor(), district, window, demo.now, demo.settings)
    midnight = demo.now.replace(hour=0, minute=0, second=0, microsecond=0)
    past = trend.iloc[:-1]
    assert list(past["end"]) == [midnight - k * timedelta(days=30) for k in range(8, 0, -1)]
    assert all(e - s == window.end - window.start for s, e in zip(past["start"], past["end"], strict=True))


def test_today_looks_back_from_midnight_to_the_quarter_hour(demo, district):
    now = demo.now + timedelta(minutes=7)  # 10:37 -> the past days end at 10:30
    window = Window.named("today", now, demo.settings.timezone)
    past = vitals_trend(demo.cursor(), district, window, now, demo.settings).iloc[:-1]
    for k, (s, e) in enumerate(zip(past["start"], past["end"], strict=True)):
        day = 8 - k
        assert s == window.start - timedelta(days=day)
        assert e == now.replace(minute=30, second=0, microsecond=0) - timedelta(days=day)


def test_baseline_windows_of_a_long_window_are_the_windows_before_it_from_midnight(demo):
    """A long window's baseline: the four windows of its length before it (back from local midnight),
    which are its trend's first four points (the same window a week earlier was mostly itself)."""
    window = Window.named("90d", demo.now, demo.settings.timezone)
    wins = baseline_windows(window.start, window.end)
    midnight = demo.now.replace(hour=0, minute=0, second=0, microsecond=0)
    assert [e for _, e in wins] == [midnight - timedelta(days=90 * k) for k in range(1, 5)]
    assert all(e - s == window.end - window.start for s, e in wins)
    anchor = Window(midnight - (window.end - window.start), midnight, "90d")
    assert wins == [(w.start, w.end) for w in anchor.previous(4)]
    short = Window.named("7d", demo.now + timedelta(minutes=7), demo.settings.timezone)
    assert short.end - short.start <= LONG_WINDOW
    assert [e for _, e in baseline_windows(short.start, short.end)] == [
        past_end(short.start, short.end) - timedelta(weeks=k) for k in range(1, 5)]
    assert past_end(short.start, short.end).minute == 30
    assert all(s.minute % 15 == 0 and s.second == 0 for s, _ in baseline_windows(short.start, short.end))


def test_a_rolling_week_shares_its_past_within_the_quarter_hour(demo, district, asked):
    """``7d`` starts at "now" minus 7 days: unrounded, its start moved with every request and nothing was reused."""
    con = demo.cursor()
    for minutes in (1, 9):
        now = demo.now + timedelta(minutes=minutes)
        window = Window.named("7d", now, demo.settings.timezone)
        vitals_trend(con, district, window, now, demo.settings)
        vital_signs(con, district, window, now, demo.settings)
    first = Window.named("7d", demo.now + timedelta(minutes=1), demo.settings.timezone)
    second = Window.named("7d", demo.now + timedelta(minutes=9), demo.settings.timezone)
    past = [w for w in asked if w not in ((first.start, first.end), (second.start, second.end))]
    assert len(past) == len(set(past))  # every past window read once, for both requests


@pytest.fixture
def asked(monkeypatch):
    """Every window ``_measures`` is asked for, in order."""
    calls: list[tuple] = []
    original = vitals._measures

    def counting(ctx, scope, windows):
        calls.extend(windows)
        return original(ctx, scope, windows)

    monkeypatch.setattr(vitals, "_measures", counting)
    return calls


def test_windows_before_the_data_are_never_read(demo, district, asked):
    window = Window.named("30d", demo.now, demo.settings.timezone)
    trend = vitals_trend(demo.cursor(), district, window, demo.now, demo.settings)
    first_day = demo.events["received_at"].min().date()
    assert asked and all(ws.date() >= first_day for ws, _ in asked)
    assert trend["received"].isna().sum() == sum(1 for s in trend["start"] if s.date() < first_day) >= 6


def test_the_current_window_is_computed_once_for_vital_signs_and_trend(demo, district, asked):
    con = demo.cursor()
    window = Window.named("7d", demo.now, demo.settings.timezone)
    vital_signs(con, district, window, demo.now, demo.settings)
    vitals_trend(con, district, window, demo.now, demo.settings)
    assert asked.count((window.start, window.end)) == 1


def test_the_past_of_a_long_window_is_read_once_a_day(demo, district, asked):
    con = demo.cursor()
    first = vitals_trend(con, district, Window.named("30d", demo.now, demo.settings.timezone), demo.now,
                         demo.settings)
    n_first = len(asked)
    later = demo.now + timedelta(hours=2)  # the same local day
    window = Window.named("30d", later, demo.settings.timezone)
    second = vitals_trend(con, district, window, later, demo.settings)
    assert asked[n_first:] == [(window.start, window.end)]  # only the current window again
    pd.testing.assert_frame_equal(first.iloc[:-1].reset_index(drop=True), second.iloc[:-1].reset_index(drop=True))
    vitals_trend(con, district, Window.named("today", later, demo.settings.timezone), later, demo.settings)
    assert len(asked) > n_first + 1  # a short window's past is its own


@pytest.mark.parametrize("key", ["today", "7d"])  # the demo's data covers one past 30-day window only
def test_windows_read_in_one_pass_equal_each_window_read_alone(demo, district, key, monkeypatch):
    """A trend's equal windows, one after another, share a query pass (up to five each); every value of
    every such window equals the same window's read on its own (one slot, its own deadlines)."""
    from metrics import cache, queries

    cache.clear_caches()  # nothing remembered from another test: every window is read here
    passes = []
    group = vitals._measure_group
    monkeypatch.setattr(vitals, "_measure_group", lambda ctx, scope, windows: passes.append(len(windows))
                        or group(ctx, scope, windows))
    con = demo.cursor()
    window = Window.named(key, demo.now, demo.settings.timezone)
    trend = vitals_trend(con, district, window, demo.now, demo.settings)
    monkeypatch.undo()
    past = [(r.start, r.end) for r in trend.iloc[:-1].itertuples() if not math.isnan(r.received)]
    assert len(past) >= 2 and max(passes) >= 2  # some were read together
    ctx = queries.prepare(con, demo.now, demo.settings)
    area = con.execute("SELECT residents FROM areas WHERE area_id = ?", [district.area_id]).fetchone()[0]
    for (ws, we), row in zip(past, (r for r in trend.iloc[:-1].itertuples() if not math.isnan(r.received)),
                             strict=True):
        alone = vitals._values(vitals._measure_group(ctx, district, [(ws, we)])[0], float(area) if area else None)
        for k in TREND_KEYS:
            got, want = getattr(row, k), alone[k]
            assert (want is None and math.isnan(got)) or got == pytest.approx(want), (key, ws, k, got, want)


def test_passes_group_equal_windows_a_step_apart_and_never_overlapping_ones():
    day = timedelta(days=1)
    t = pd.Timestamp("2026-11-25T00:00:00+08:00").to_pydatetime()
    trend = [(t - (k + 1) * 30 * day, t - k * 30 * day) for k in range(8)]  # a 30-day trend, newest first
    assert [len(p) for p in vitals.query_passes(trend)] == [5, 3]
    base = [(t - 30 * day - k * 7 * day, t - k * 7 * day) for k in range(1, 5)]  # 30 days, a week apart: overlap
    assert [len(p) for p in vitals.query_passes(base)] == [1, 1, 1, 1]
    weeks = [(t - 7 * day - k * 7 * day, t - k * 7 * day) for k in range(1, 5)]  # a week's baselines
    assert [len(p) for p in vitals.query_passes(weeks)] == [4]
    uneven = [trend[0], trend[1], trend[3]]  # a gap: the step changes
    assert [len(p) for p in vitals.query_passes(uneven)] == [2, 1]
