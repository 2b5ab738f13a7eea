"""Vital signs: every measure against an independent pandas computation on the small demo.

The reference below reads the events table into pandas and recomputes each number from the
definitions in docs/metrics.md; deadlines come from metrics.sla.deadlines (the pandas twin of
the SLA rules, tested on its own), never from the SQL under test.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from metrics import queries
from metrics.calendar import default_calendar
from metrics.scope import Scope, Window
from metrics.sla import SlaRules, deadlines
from metrics.vitals import (
    SCORE_CAP,
    SPECS,
    Limit,
    Metric,
    VitalSigns,
    baseline_windows,
    limits,
    score,
    status_for,
    vital_signs,
)

TZ = "Asia/Shanghai"


# --------------------------------------------------------------------------------------------
# The pandas reference
# --------------------------------------------------------------------------------------------
def _in_area(df: pd.DataFrame, areas: pd.DataFrame, area_id: str) -> pd.Series:
    level = areas.set_index("area_id").loc[area_id, "level"]
    if level == "district":
        return pd.Series(True, index=df.index)
    column = {"street": "street_id", "community": "community_id", "grid": "grid_id", "microgrid": "microgrid_id"}[level]
    return df[column] == area_id


def _scoped(demo, scope: Scope) -> pd.DataFrame:
    ev = demo.events
    keep = _in_area(ev, demo.areas, scope.area_id)
    if scope.channels:
        keep &= ev["channel"].isin(scope.channels)
    if scope.categories:
        keep &= ev["category_id"].isin(scope.categories) | ev["category_l1"].isin(scope.categories)
    if scope.departments:
        keep &= ev["department_id"].isin(scope.departments)
    if scope.urgency:
        keep &= ev["urgency"] == scope.urgency
    return ev[keep]


def _deadlines(demo, ev: pd.DataFrame) -> pd.DataFrame:
    """Stage deadlines from metrics.sla; the close deadline also for cancelled cases (for open-at-t)."""
    rules = SlaRules.from_settings(demo.settings)
    cal = default_calendar(demo.settings)
    dl = deadlines(ev, rules, cal, TZ, demo.now)
    close_all = deadlines(ev.assign(status="closed"), rules, cal, TZ, demo.now)
    close_all = close_all[close_all["stage"] == "close"].set_index("case_id")["due_at"]
    return dl, close_all


def _window_values(demo, ev, dl, close_due, ws, we) -> dict[str, float | None]:
    def pct(num, den):
        return 100.0 * num / den if den else None

    rec = ev[(ev["received_at"] >= ws) & (ev["received_at"] < we)]
    judged = dl[(dl["due_at"] >= ws) & (dl["due_at"] < we)]
    met = judged["done_at"].notna() & (judged["done_at"] <= judged["due_at"])
    urgency = judged["case_id"].map(ev.set_index("case_id")["urgency"])
    out: dict[str, float | None] = {"received": float(len(rec))}
    for key, stage, mask in (("accept_1min_pct", "accept", True), ("dispatch_5min_pct", "dispatch", True),
                             ("close_on_time_urgent_pct", "close", urgency == "urgent"),
                             ("close_on_time_other_pct", "close", urgency != "urgent")):
        sel = (judged["stage"] == stage) & mask
        out[key] = pct(int((sel & met).sum()), int(sel.sum()))
    acc = rec[rec["accepted_at"] < we]
    out["median_accept_s"] = _median((acc["accepted_at"] - acc["received_at"]).dt.total_seconds())
    dis = rec[rec["dispatched_at"] < we]
    out["median_dispatch_s"] = _median((dis["dispatched_at"] - dis["received_at"]).dt.total_seconds())
    closed = ev[(ev["status"] == "closed") & (ev["closed_at"] >= ws) & (ev["closed_at"] < we)]
    out["median_close_h"] = _median((closed["closed_at"] - closed["received_at"]).dt.total_seconds() / 3600)
    rated = closed["satisfaction"].notna()
    out["satisfaction_pct"] = pct(int((closed["satisfaction"] >= 4).sum()), int(rated.sum()))
    open_ = ev[(ev["received_at"] < we) & (ev["closed_at"].isna() | (ev["closed_at"] >= we))]
    out["open_backlog"] = float(len(open_))
    out["overdue_open"] = float((open_["case_id"].map(close_due) < we).sum())
    return out


def _median(values: pd.Series) -> float | None:
    return None if values.empty else float(values.median())


def _repeat_rates(demo, scope: Scope, windows: list[tuple[datetime, datetime]]) -> list[float | None]:
    """Repeat reports: any earlier case of the same micro-grid and category within 7 days (any channel)."""
    ev = demo.events[_in_area(demo.events, demo.areas, scope.area_id)].sort_values(
        ["microgrid_id", "category_id", "received_at"])
    prev = ev.groupby(["microgrid_id", "category_id"])["received_at"].shift()
    repeat = prev >= ev["received_at"] - pd.Timedelta(days=7)
    counted = set(_scoped(demo, scope)["case_id"])
    out = []
    for ws, we in windows:
        sel = (ev["received_at"] >= ws) & (ev["received_at"] < we) & ev["case_id"].isin(counted)
        n = int(sel.sum())
        out.append(100.0 * int((sel & repeat).sum()) / n if n else None)
    return out


def reference(demo, scope: Scope, window: Window) -> dict[str, tuple[float | None, float | None]]:
    """(value, baseline) of every vital sign, by pandas."""
    ev = _scoped(demo, scope)
    dl, close_due = _deadlines(demo, ev)
    ws, we = window.start, min(window.end, demo.now)
    residents = float(demo.areas.set_index("area_id").loc[scope.area_id, "residents"])
    first_day = demo.events["received_at"].min().date()
    past = [w for w in baseline_windows(ws, we) if w[0].date() >= first_day]  # none from before the data
    cur = _window_values(demo, ev, dl, close_due, ws, we)
    weekly = [_window_values(demo, ev, dl, close_due, a, b) for a, b in past]
    length = (we - ws).total_seconds()
    for w, (a, b) in zip(weekly, past, strict=True):
        w["received"] *= length / (b - a).total_seconds()
    reps = _repeat_rates(demo, scope, [(ws, we), *past])
    cur["repeat_rate_pct"] = reps[0]
    for w, r in zip(weekly, reps[1:], strict=True):
        w["repeat_rate_pct"] = r
    cur["per_10k"] = 10_000 * cur["received"] / residents
    for w in weekly:
        w["per_10k"] = 10_000 * w["received"] / residents
    out = {}
    for key, value in cur.items():
        known = [w[key] for w in weekly if w[key] is not None]
        out[key] = (value, sum(known) / len(known) if known else None)
    if we - ws > timedelta(days=7):  # stocks (counted at now): the same moment of the previous weeks, any window
        stock = [_window_values(demo, ev, dl, close_due, a, b) for a, b in baseline_windows(we - timedelta(days=7), we)
                 if a.date() >= first_day]
        for key in ("open_backlog", "overdue_open"):
            out[key] = (out[key][0], sum(w[key] for w in stock) / len(stock) if stock else None)
    mgs = demo.areas[(demo.areas["level"] == "microgrid") & _in_area(demo.areas.assign(
        microgrid_id=demo.areas["area_id"]), demo.areas, scope.area_id)]["area_id"]
    assets = demo.assets[demo.assets["microgrid_id"].isin(mgs)]
    cams = assets[assets["kind"] == "camera"]
    staff = assets[assets["kind"] == "staff"]
    if scope.departments:
        staff = staff[staff["department_id"].isin(scope.departments)]
    out["cameras_online_pct"] = (100.0 * (cams["status"] != "offline").sum() / len(cams) if len(cams) else None, None)
    out["staff_on_duty_pct"] = (100.0 * staff["status"].isin(["online", "busy"]).sum() / len(staff)
                                if len(staff) else None, None)
    return out


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------
CASES = [
    (Scope("330108"), "today"),
    (Scope("330108"), "7d"),
    (Scope("330108002"), "30d"),
    (Scope("330108001", channels=("qr", "hotline")), "7d"),
    (Scope("330108003", categories=("ENV",), urgency="normal"), "30d"),
]


@pytest.mark.parametrize(("scope", "key"), CASES, ids=[f"{s.area_id}-{k}-{i}" for i, (s, k) in enumerate(CASES)])
def test_every_vital_sign_matches_pandas(demo, scope, key):
    window = Window.named(key, demo.now, TZ)
    vs = vital_signs(demo.cursor(), scope, window, demo.now, demo.settings)
    expected = reference(demo, scope, window)
    got = vs.by_key()
    assert set(got) == {s.key for s in SPECS} == set(expected)
    wrong = {k: (got[k].value, got[k].baseline, expected[k]) for k in expected
             if not (_close(got[k].value, expected[k][0]) and _close(got[k].baseline, expected[k][1]))}
    assert not wrong, wrong


def test_vital_signs_are_data_with_targets_and_a_composite_index(demo):
    window = Window.named("7d", demo.now, TZ)
    vs = vital_signs(demo.cursor(), Scope("330108"), window, demo.now, demo.settings)
    assert isinstance(vs, VitalSigns) and all(isinstance(m, Metric) for m in vs.metrics)
    assert vs.as_of == demo.now and vs.window.end == demo.now
    by = vs.by_key()
    assert by["received"].status == "none" and by["received"].score is None  # counts are not scored
    assert by["open_backlog"].target == pytest.approx(by["open_backlog"].baseline)  # target = baseline
    assert by["accept_1min_pct"].target == 95.0 and by["accept_1min_pct"].direction == "higher"
    assert by["received"].change == pytest.approx(by["received"].value / by["received"].baseline - 1)
    scores = [m.score for m in vs.metrics if m.score is not None]
    assert len(scores) >= 10
    assert vs.index == pytest.approx(sum(scores) / len(scores))
    assert vs.index_status == status_for(vs.index, demo.settings)
    for m in vs.metrics:
        assert m.definition_zh and m.definition_en and m.label_zh and m.label_en
        if m.score is not None:
            assert m.status == status_for(m.score, demo.settings)


def test_labels_limits_and_targets_follow_the_sla_rules_in_force(demo):
    window = Window.named("today", demo.now, TZ)
    by = vital_signs(demo.cursor(), Scope("330108"), window, demo.now, demo.settings).by_key()
    assert by["accept_1min_pct"].limit == Limit("accept", 60.0, "s", False, (60.0,))
    assert (by["accept_1min_pct"].label_zh, by["accept_1min_pct"].label_en) == ("1分钟受理率", "Accepted within 1 min")
    assert by["dispatch_5min_pct"].limit.value == 300 and by["dispatch_5min_pct"].label_en == "Dispatched within 5 min"
    assert by["close_on_time_urgent_pct"].limit == Limit("close_urgent", 24.0, "h", False, (24.0,))
    assert by["close_on_time_other_pct"].limit == Limit("close_other", 3.0, "working_days", False, (3.0,))
    assert "3rd working day" in by["close_on_time_other_pct"].definition_en
    assert by["median_accept_s"].target == 30 and by["median_dispatch_s"].target == 150
    assert by["received"].limit is None and by["satisfaction_pct"].limit is None
    # a deployment that promises acceptance within 2 minutes says so, and aims the median at half of it
    slower = dataclasses.replace(demo.settings, sla_accept_seconds=120)
    by = vital_signs(demo.cursor(), Scope("330108"), window, demo.now, slower).by_key()
    m = by["accept_1min_pct"]
    assert m.limit == Limit("accept", 120.0, "s", False, (120.0,))
    assert (m.label_zh, m.label_en) == ("2分钟受理率", "Accepted within 2 min") and "2 min" in m.definition_en
    assert by["median_accept_s"].target == 60 and by["median_accept_s"].limit.value == 120
    assert by["dispatch_5min_pct"].limit.value == 300  # the other promises are unchanged


def test_limits_say_when_a_category_has_its_own_promise():
    from settings import Settings

    rules = SlaRules.from_settings(Settings(sla_accept_seconds=90, sla_overrides={"ENV-01": {"accept_seconds": 30}}))
    got = limits(rules)
    assert got["accept"] == Limit("accept", 90.0, "s", True, (90.0, 30.0))
    assert got["dispatch"].varies is False
    assert limits(rules, {"CITY-01"})["accept"].varies is False  # a scope without that category
    assert limits(rules, {"ENV-01", "ENV"})["accept"].varies is True


def test_score_and_status_rules():
    assert score(95, 95, "higher") == 1.0
    assert score(47.5, 95, "higher") == 0.5
    assert score(10, 20, "lower") == SCORE_CAP  # twice as good as target, capped
    assert score(40, 20, "lower") == 0.5
    assert score(0, 20, "lower") == 1.0
    assert score(None, 20, "lower") is None and score(3, None, "higher") is None

    class S:
        status_amber_below, status_red_below = 0.95, 0.85

    assert [status_for(x, S) for x in (1.0, 0.95, 0.9, 0.85, 0.5, None)] == [
        "green", "green", "amber", "amber", "red", "none"]


def test_window_end_is_clipped_to_now_and_future_is_invisible(demo):
    later = Window(demo.now.replace(hour=0, minute=0), demo.now.replace(hour=23, minute=0), "custom")
    vs = vital_signs(demo.cursor(), Scope("330108"), later, demo.now, demo.settings)
    same = vital_signs(demo.cursor(), Scope("330108"), Window.named("today", demo.now, TZ), demo.now, demo.settings)
    assert vs.by_key()["received"].value == same.by_key()["received"].value


def test_as_of_an_earlier_time_ignores_what_happened_after(demo):
    earlier = demo.now - pd.Timedelta(days=3)
    window = Window.named("today", earlier, TZ)
    vs = vital_signs(demo.cursor(), Scope("330108"), window, earlier, demo.settings)
    ev = demo.events
    t = window.end
    open_then = ((ev["received_at"] < t) & (ev["closed_at"].isna() | (ev["closed_at"] >= t))).sum()
    assert vs.by_key()["open_backlog"].value == open_then
    assert vs.by_key()["received"].value == ((ev["received_at"] >= window.start) & (ev["received_at"] < t)).sum()


def test_baseline_windows_share_a_quarter_hour():
    start = datetime(2026, 11, 25, tzinfo=ZoneInfo(TZ))
    end = start + timedelta(hours=10, minutes=37)
    wins = baseline_windows(start, end)
    assert len(wins) == 4
    assert wins[0][1] == (start + pd.Timedelta(hours=10, minutes=30) - pd.Timedelta(weeks=1))
    assert all(a[0] - b[0] == pd.Timedelta(weeks=1) for a, b in zip(wins, wins[1:], strict=False))
    just_after_midnight = baseline_windows(start, start + pd.Timedelta(minutes=5))
    assert just_after_midnight[0][1] - just_after_midnight[0][0] == pd.Timedelta(minutes=5)


def test_empty_scope_gives_none_not_zero_rates(demo):
    # a micro-grid and a category that never meet: nothing to measure, and the metric says so
    ev = demo.events
    mg = sorted(set(demo.areas.loc[demo.areas["level"] == "microgrid", "area_id"]) - set(ev["microgrid_id"]))
    area = mg[0] if mg else "G001-1"
    vs = vital_signs(demo.cursor(), Scope(area, categories=("SAFE-03",)), Window.named("today", demo.now, TZ),
                     demo.now, demo.settings)
    by = vs.by_key()
    assert by["received"].value == 0
    assert by["accept_1min_pct"].value is None and by["accept_1min_pct"].status == "none"
    assert np.isfinite(by["per_10k"].value) or by["per_10k"].value is None


# --------------------------------------------------------------------------------------------
# The deadline views every metric reads (metrics/sql/due_view.sql)
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("overrides", [{}, {
    # a category with its own limits and a shorter working-day rule, one with a longer rule
    "ENV-01": {"accept_seconds": 30, "dispatch_seconds": 120, "close_hours": 2.5, "close_working_days": 1},
    "CITY-02": {"close_working_days": 5},
}], ids=["default rules", "with overrides"])
def test_deadline_views_equal_metrics_sla(demo, overrides):
    settings = dataclasses.replace(demo.settings, sla_overrides=overrides)
    con = demo.cursor()
    queries.prepare(con, demo.now, settings)
    got = con.execute("SELECT case_id, accept_due, dispatch_due, close_due FROM case_due").df().set_index("case_id")
    assert len(got) == len(demo.events)
    ev = demo.events.assign(status="received")  # every stage, whatever happened since
    want = deadlines(ev, SlaRules.from_settings(settings), default_calendar(settings), TZ, demo.now)
    want["due_us"] = (want["due_at"].dt.tz_convert("UTC") - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(microseconds=1)
    for stage, column in (("accept", "accept_due"), ("dispatch", "dispatch_due"), ("close", "close_due")):
        expected = want[want["stage"] == stage].set_index("case_id")["due_us"]
        pd.testing.assert_series_equal(got.loc[expected.index, column].astype("int64"), expected.astype("int64"),
                                       check_names=False)
    if overrides:  # the overrides did change something
        fast = demo.events.loc[demo.events["category_id"] == "ENV-01", "case_id"]
        assert (got.loc[fast, "accept_due"] - demo.events.set_index("case_id").loc[fast, "received_at"].map(
            lambda t: t.value // 1000)).eq(30_000_000).all()
    # open_due: the same deadlines for exactly the cases never closed
    open_ = con.execute("SELECT case_id, close_due FROM open_due").df().set_index("case_id")
    never_closed = demo.events.loc[demo.events["closed_at"].isna(), "case_id"]
    assert len(never_closed) > 0 and sorted(open_.index) == sorted(never_closed)
    assert (open_["close_due"] == got.loc[open_.index, "close_due"]).all()


def test_the_stocks_targets_do_not_depend_on_the_window(demo):
    """Open and overdue cases are counted now, whatever the window: their baseline (and so target and status)
    is the same moment of the previous weeks for today, 7, 30 and 90 days (a 30-day window's periods end at
    midnight a month ago and more, which turned the overdue tile red on a change of window alone)."""
    scope = Scope("330108", level="district")
    got = {key: vital_signs(demo.cursor(), scope, Window.named(key, demo.now, TZ), demo.now, demo.settings).by_key()
           for key in ("today", "7d", "30d", "90d")}
    for metric in ("open_backlog", "overdue_open"):
        values = {key: (got[key][metric].value, got[key][metric].baseline, got[key][metric].status) for key in got}
        assert len(set(values.values())) == 1, (metric, values)
        assert got["30d"][metric].baseline is not None
