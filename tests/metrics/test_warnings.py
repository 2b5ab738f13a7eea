"""Early warnings: breach probabilities, the SLA-risk ranking, surges found and not invented,
efficiency drops."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from dashboard.components.warnings import warning_text
from data.marts import refresh_all
from data.snapshot import publish
from data.warehouse import connect
from metrics import cache, queries
from metrics.calendar import default_calendar
from metrics.scope import Scope
from metrics.sla import SlaRules, deadlines
from metrics.warnings import (
    LEVEL_ORDER,
    RISK_COLUMNS,
    Warning,
    breach_probability,
    efficiency_warnings,
    sla_risk,
    sla_risk_list,
    sla_ticker,
    surges,
)
from settings import Settings
from tests.conftest import FIXTURE_NOW
from tests.metrics.conftest import build_warehouse, burst, events_frame, open_cursor, synthetic_events

TZ = "Asia/Shanghai"


def open_work(settings: Settings):
    """The work database of ``settings`` opened read-write (to change a private copy of the demo)."""
    return connect(settings.work_db, settings.timezone)


# --------------------------------------------------------------------------------------------
# Breach probability
# --------------------------------------------------------------------------------------------
def test_breach_probability_conditions_on_time_already_waited():
    uniform = np.linspace(0, 100, 101)[None, :].repeat(4, axis=0)  # T uniform on [0, 100] s
    p = breach_probability(uniform, elapsed=np.array([0.0, 50.0, 50.0, 120.0]), due=np.array([75.0, 75.0, 40.0, 200.0]))
    assert p[0] == pytest.approx(0.25)  # S(75) / S(0)
    assert p[1] == pytest.approx(0.5)  # S(75) / S(50): waiting longer makes a breach likelier
    assert p[2] == 1.0  # already past the deadline
    assert p[3] == 1.0  # waited longer than anything in the history: the data cannot vouch for it
    never_slow = np.full((1, 101), 10.0)
    assert breach_probability(never_slow, np.array([5.0]), np.array([60.0]))[0] == 0.0


# --------------------------------------------------------------------------------------------
# SLA risk on the demo
# --------------------------------------------------------------------------------------------
def test_sla_risk_ranks_every_open_case_and_agrees_with_the_pandas_deadlines(demo):
    df = sla_risk(demo.cursor(), Scope("330108"), demo.now, demo.settings, limit=None)
    assert list(df.columns) == list(RISK_COLUMNS)
    ev = demo.events
    open_ = ev[ev["closed_at"].isna() | (ev["closed_at"] >= demo.now)]
    assert set(df["case_id"]) == set(open_["case_id"])
    ranks = df["level"].map(LEVEL_ORDER)
    assert ranks.is_monotonic_increasing
    breached = df[df["level"] == "breached"]
    assert (breached["seconds_left"] < 0).all() and breached["seconds_left"].is_monotonic_increasing
    for level in ("red", "amber", "ok"):
        part = df[df["level"] == level]
        assert part["p_breach"].is_monotonic_decreasing
    assert df["p_breach"].between(0, 1).all()
    assert (df.loc[df["level"] == "amber", "p_breach"] >= 0.2).all()
    assert (df.loc[df["level"] == "ok", "p_breach"] < 0.2).all()
    # the deadline of the stage each case waits on is the pandas one (metrics.sla.deadlines)
    dl = deadlines(open_, SlaRules.from_settings(demo.settings), default_calendar(demo.settings), TZ, demo.now)
    pending = dl[dl["outcome"] == "pending"].drop_duplicates("case_id")  # stages are in order: the first waits
    expected = pending.set_index("case_id")[["stage", "due_at"]]
    got = df.set_index("case_id").loc[expected.index]
    assert (got["stage"] == expected["stage"]).all()
    assert (got["due_at"] == expected["due_at"]).all()
    assert got["category_name"].notna().all() and got["department_name_en"].notna().all()
    # each case's place: its micro-grid, else grid, else street, named from the areas table
    ev_by_case = open_.set_index("case_id").loc[df["case_id"]]
    place = ev_by_case["microgrid_id"].fillna(ev_by_case["grid_id"]).fillna(ev_by_case["street_id"])
    assert list(df["area_id"]) == list(place)
    names = dict(demo.cursor().execute("SELECT area_id, name FROM areas").fetchall())
    assert list(df["area_name"]) == [names[a] for a in place]


def test_sla_risk_limit_and_levels(demo):
    top = sla_risk(demo.cursor(), Scope("330108"), demo.now, demo.settings, limit=5)
    assert len(top) == 5 and (top["level"] == "breached").all()
    # the short cut for a list full of breached cases gives the head of the full ranking
    full = sla_risk(demo.cursor(), Scope("330108"), demo.now, demo.settings, limit=None)
    pd.testing.assert_frame_equal(top, full.head(5), check_dtype=False)
    saveable = sla_risk(demo.cursor(), Scope("330108"), demo.now, demo.settings, limit=None, levels=("red", "amber"))
    assert set(saveable["level"]) <= {"red", "amber"}
    street = sla_risk(demo.cursor(), Scope("330108002"), demo.now, demo.settings, limit=None)
    assert (street["street_id"] == "330108002").all()



@pytest.mark.parametrize("order", ["urgent", "newest", "area"])
@pytest.mark.parametrize("level", [None, "red"])
def test_sla_risk_list_is_the_head_of_the_full_ranking_in_pandas(demo, order, level):
    """Counts and the first rows of one choice, against the full ranking ordered in pandas (the old page)."""
    levels = ("breached", "red", "amber")
    full = sla_risk(demo.cursor(), Scope("330108"), demo.now, demo.settings, limit=None, levels=levels)
    full = full.assign(rank=range(len(full)))
    got = sla_risk_list(demo.cursor(), Scope("330108"), demo.now, demo.settings, levels, level, order, limit=25)
    assert got.counts == {lv: int((full["level"] == lv).sum()) for lv in levels}
    want = full if level is None else full[full["level"] == level]
    if order == "newest":
        want = want.sort_values(["received_at", "rank"], ascending=[False, True])
    elif order == "area":
        area = want["microgrid_id"].fillna(want["grid_id"]).fillna(want["street_id"]).fillna("")
        want = want.assign(area=area).sort_values(["area", "rank"]).drop(columns="area")
    assert len(want) > 25
    pd.testing.assert_frame_equal(got.rows.reset_index(drop=True), want.head(25).reset_index(drop=True),
                                  check_dtype=False)
    with pytest.raises(ValueError, match="order"):
        sla_risk_list(demo.cursor(), Scope("330108"), demo.now, demo.settings, levels, order="sideways")
    none = sla_risk_list(demo.cursor(), Scope("330108", categories=("NO-SUCH",)), demo.now, demo.settings, levels)
    assert none.counts == dict.fromkeys(levels, 0) and none.rows.empty


@pytest.mark.parametrize("area", [None, "330108002"])
def test_the_sla_ticker_is_the_two_ends_of_the_full_risk_list(demo, area):
    scope = Scope(area) if area else Scope("330108")
    full = sla_risk(demo.cursor(), scope, demo.now, demo.settings, limit=None)
    got = sla_ticker(demo.cursor(), scope, demo.now, demo.settings, rows=7)
    late, soon = full[full["level"] == "breached"], full[full["level"].isin(("red", "amber"))]
    assert (got.breached, got.due_soon) == (len(late), len(soon)) and len(late) > 7 and len(soon) > 0
    order = ["seconds_left", "received_at", "case_id"]
    want_late = late.sort_values(order, ascending=[False, True, True]).head(7)
    want_soon = soon.sort_values(order).head(7)
    for shown, want in ((got.latest_breaches, want_late), (got.next_due, want_soon)):
        assert list(shown.columns) == list(RISK_COLUMNS)
        assert list(shown["seconds_left"]) == list(want["seconds_left"])  # the same cut, in the same order
        pd.testing.assert_frame_equal(shown.sort_values("case_id").reset_index(drop=True),
                                      want.sort_values("case_id").reset_index(drop=True), check_dtype=False)


def test_a_case_about_to_breach_ranks_above_a_fresh_one(fresh_demo):
    """Two open overflowing-bin cases of the same department: one received five days ago (Friday
    10:30, due at the end of Wednesday, today), one received a minute ago. The first comes first."""
    now = FIXTURE_NOW
    con = open_work(fresh_demo)
    try:
        base = con.execute("SELECT * FROM events WHERE category_id = 'CITY-01' AND urgency = 'normal' "
                           "AND status = 'closed' LIMIT 1").df()
        rows = []
        for case_id, received in (("T-ABOUT-TO-BREACH", now - timedelta(days=5)),  # Fri 10:30: due Wed 24:00
                                  ("T-FRESH", now - timedelta(minutes=1))):
            r = base.copy()
            r["case_id"] = case_id
            r["received_at"] = received
            r["accepted_at"] = received + timedelta(seconds=20)
            r["dispatched_at"] = received + timedelta(seconds=90)
            r["needs_dispatch"] = True
            r["closed_at"] = pd.NaT
            r["status"] = "in_progress"
            r["satisfaction"] = None
            r["updated_at"] = received + timedelta(seconds=90)
            rows.append(r)
        con.register("new_rows", pd.concat(rows))
        con.execute("INSERT INTO events SELECT * FROM new_rows")
        refresh_all(con)
        publish(con, fresh_demo.warehouse_dir)
    finally:
        con.close()
    df = sla_risk(open_cursor(fresh_demo), Scope("330108"), now, fresh_demo, limit=None)
    pos = {c: i for i, c in enumerate(df["case_id"])}
    about, fresh = df.set_index("case_id").loc["T-ABOUT-TO-BREACH"], df.set_index("case_id").loc["T-FRESH"]
    assert about["level"] in ("red", "amber") and about["seconds_left"] == pytest.approx(13.5 * 3600)
    assert fresh["level"] == "ok" and fresh["p_breach"] < about["p_breach"]
    assert pos["T-ABOUT-TO-BREACH"] < pos["T-FRESH"]


# --------------------------------------------------------------------------------------------
# Surges
# --------------------------------------------------------------------------------------------
def test_the_demo_surge_is_found(demo):
    """The demo injects 14 construction-noise reports in the last 6 h in the busiest micro-grid
    of the first street; the detector must name that place and category."""
    mgs = demo.areas[(demo.areas["level"] == "microgrid") & (demo.areas["street_id"] == "330108001")]
    busiest = mgs.sort_values("residents", ascending=False)["area_id"].iloc[0]
    found = surges(demo.cursor(), Scope("330108"), demo.now, hours=6, settings=demo.settings)
    hits = [w for w in found if w.area_id == busiest and w.evidence["category_id"] == "ENV-01"]
    assert len(hits) == 1
    w = hits[0]
    assert w.kind == "surge" and w.level in ("red", "amber") and w.evidence["count"] >= 14
    assert w.names["street"] == ("西兴街道", "Xixing Street") and w.names["area"][0].startswith("微网格")
    assert w.names["category"] == ("施工噪音", "Construction noise") and w.evidence["hours"] == 6
    assert w.detected_at == demo.now
    # the grid holding it is not reported a second time for the same reports
    assert not [x for x in found if x.evidence["level"] == "grid" and x.area_id == busiest.split("-")[0]
                and x.evidence["category_id"] == "ENV-01"]
    # and a scope elsewhere does not see it
    elsewhere = surges(demo.cursor(), Scope("330108003"), demo.now, settings=demo.settings)
    assert all(x.area_id != busiest for x in elsewhere)


def test_a_quiet_warehouse_raises_no_surge(quiet_warehouse):
    con = open_cursor(quiet_warehouse)
    for hours_back in range(0, 24 * 7, 7):  # many moments of the last week, none unusual
        assert surges(con, Scope("330108"), FIXTURE_NOW - timedelta(hours=hours_back), settings=quiet_warehouse) == []


def test_an_injected_surge_is_found_with_its_numbers(tmp_path):
    events = synthetic_events(FIXTURE_NOW)
    extra = events_frame(burst(FIXTURE_NOW, "G002-1", "ENV-01", 9), FIXTURE_NOW)
    extra["case_id"] = "B" + extra["case_id"]
    settings = build_warehouse(tmp_path / "var", events, extra)
    found = surges(open_cursor(settings), Scope("330108"), FIXTURE_NOW, settings=settings)
    assert [(w.area_id, w.evidence["category_id"]) for w in found] == [("G002-1", "ENV-01")]
    w = found[0]
    assert w.evidence["count"] >= 9 and w.evidence["p_value"] < 1e-4 and w.evidence["expected"] < 1
    assert w.names == {"street": ("西兴街道", "Xixing Street"), "area": ("微网格 002-1", "Micro-grid 002-1"),
                       "category": ("施工噪音", "Construction noise")}
    assert w.evidence["usual"] < 1 and w.evidence["hours"] == 6
    # what the wall shows, worded by the dashboard from those names and numbers
    assert warning_text(w, "zh") == f"西兴街道 微网格 002-1 施工噪音：6 小时内 {w.evidence['count']} 件，通常不到 1 件"
    assert warning_text(w, "en") == f"Xixing Street Micro-grid 002-1 construction noise: {w.evidence['count']} " \
                                    "reports in 6 h, usually fewer than 1"
    # four reports are not a surge, however unusual (minimum count)
    small = events_frame(burst(FIXTURE_NOW, "G003-2", "TRAF-01", 4), FIXTURE_NOW)
    small["case_id"] = "C" + small["case_id"]
    settings2 = build_warehouse(tmp_path / "var2", events, small)
    assert surges(open_cursor(settings2), Scope("330108"), FIXTURE_NOW, settings=settings2) == []


def test_a_surge_spread_over_a_grid_is_reported_at_grid_level(tmp_path):
    events = synthetic_events(FIXTURE_NOW)
    spread = burst(FIXTURE_NOW, "G004-1", "CITY-01", 4, seed=3) + burst(FIXTURE_NOW, "G004-2", "CITY-01", 4, seed=4)
    extra = events_frame(spread, FIXTURE_NOW)
    extra["case_id"] = "D" + extra["case_id"]
    settings = build_warehouse(tmp_path / "var", events, extra)
    found = surges(open_cursor(settings), Scope("330108"), FIXTURE_NOW, settings=settings)
    assert [(w.evidence["level"], w.area_id) for w in found] == [("grid", "G004")]
    assert warning_text(found[0], "zh").startswith("西兴街道 网格 004 垃圾满溢：6 小时内")


# --------------------------------------------------------------------------------------------
# Efficiency
# --------------------------------------------------------------------------------------------
def test_a_department_falling_behind_is_flagged(demo, fresh_demo):
    assert not [w for w in efficiency_warnings(demo.cursor(), Scope("330108"), demo.now, demo.settings)
                if w.evidence["unit"] == "D-CG"]
    con = open_work(fresh_demo)
    try:
        # City Management stops closing: everything received in the last 10 days is still open
        con.execute("UPDATE events SET closed_at = NULL, status = 'in_progress', satisfaction = NULL "
                    "WHERE department_id = 'D-CG' AND received_at >= ? AND status = 'closed'",
                    [FIXTURE_NOW - timedelta(days=10)])
        refresh_all(con)
        publish(con, fresh_demo.warehouse_dir)
    finally:
        con.close()
    cache.clear_caches()
    found = efficiency_warnings(open_cursor(fresh_demo), Scope("330108"), FIXTURE_NOW, fresh_demo)
    cg = [w for w in found if w.evidence["unit"] == "D-CG"]
    assert len(cg) == 1
    w = cg[0]
    assert isinstance(w, Warning) and w.kind == "efficiency" and w.level == "red"
    assert w.evidence["rate_week"] < w.evidence["rate_norm"] - 0.2 and w.evidence["p_value"] < 0.001
    assert w.names["unit"][0] == "区城管局" and w.names["unit"][1].startswith("City Management Bureau")
    assert warning_text(w, "zh").startswith("区城管局 本周按时办结率")
    # the streets where those cases are also fell behind; each warning names its area
    assert all(x.area_id.startswith("330108") for x in found)


def test_grouped_breach_probability_equals_the_row_wise_one():
    from metrics.warnings.risk import _grouped_breach_probability

    rng = np.random.default_rng(3)
    q = np.sort(rng.lognormal(8, 1, (20, 101)), axis=1)
    q[3] = 500.0  # a degenerate distribution: every case took 500 s
    q[-1] = 1e11  # the no-history row
    gid = rng.integers(0, len(q), 5000)
    elapsed = rng.lognormal(8, 1.5, 5000)
    due = elapsed + rng.lognormal(8, 1.5, 5000) * rng.choice([-1, 1], 5000)
    assert np.allclose(_grouped_breach_probability(q, gid, elapsed, due), breach_probability(q[gid], elapsed, due))


def test_the_stored_stage_quantiles_are_the_ones_computed_from_the_history_and_are_used(demo, monkeypatch):
    from data.contract import stage_history, stage_quantiles_sql
    from metrics.warnings import risk as w

    con, day = demo.cursor(), demo.now.date()
    stored = con.execute("SELECT stage_key, category_id, department_id, n, q FROM mart_stage_quantiles "
                         "WHERE day = ?", [day]).fetchall()
    hs, he = stage_history(day, demo.settings.timezone)
    computed = con.execute(stage_quantiles_sql(), {"hs": hs, "he": he}).fetchall()
    assert len(stored) > 10 and sorted(stored, key=repr) == sorted(computed, key=repr)
    cache.clear_caches()
    monkeypatch.setattr(w, "stage_quantiles_sql", lambda: pytest.fail("computed although the ETL stored them"))
    assert len(w._quantiles(queries.prepare(con, demo.now, demo.settings)).keys) > 10
    # another day (an "as of" in the past): computed from the history
    monkeypatch.undo()
    cache.clear_caches()
    earlier = demo.now - timedelta(days=3)
    assert len(w._quantiles(queries.prepare(con, earlier, demo.settings)).keys) > 10
    cache.clear_caches()
