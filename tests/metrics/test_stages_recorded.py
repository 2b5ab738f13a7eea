"""Stages a source does not record are "not recorded", never breaches.

Real exports (LA MyLA311, NYC 311, Open311) record receipt and closure only: every case has
``accepted_at`` and ``dispatched_at`` NULL. Such a warehouse must not report 0 % accepted in time,
count open cases as acceptance breaches, or let those zeros drag the composite index down. A
warehouse that records the stages (GridPulse's own feed, the demo) keeps every number.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from metrics import cache, queries
from metrics.scope import Scope, Window
from metrics.vitals import SCORE_CAP, vital_signs
from metrics.warnings import sla_risk, sla_ticker
from tests.conftest import FIXTURE_NOW
from tests.metrics.conftest import build_warehouse, open_cursor, synthetic_events

NOW = FIXTURE_NOW
ACCEPT_KEYS = ("accept_1min_pct", "median_accept_s")
DISPATCH_KEYS = ("dispatch_5min_pct", "median_dispatch_s")


def _events(accept: bool, dispatch: bool) -> pd.DataFrame:
    """Five weeks of reports (every other one needing a crew), with or without the two middle stages.

    With the stages: accepted after 20 s, dispatched after 2 min, except the newest case, still open
    and neither accepted nor dispatched (an acceptance breach when acceptance is recorded).
    """
    ev = synthetic_events(NOW, weeks=5, rate_per_hour=0.3, seed=5)
    ev["needs_dispatch"] = (ev.index % 2) == 0
    nat = pd.Series(pd.NaT, index=ev.index, dtype=ev["received_at"].dtype)
    ev["accepted_at"] = ev["received_at"] + pd.Timedelta(seconds=20) if accept else nat
    ev["dispatched_at"] = (ev["received_at"] + pd.Timedelta(minutes=2)).where(ev["needs_dispatch"]) if dispatch \
        else nat
    newest = ev.index[-1]
    ev.loc[newest, ["accepted_at", "dispatched_at"]] = pd.NaT
    ev["status"] = ev["status"].where(ev["closed_at"].notna(), "received" if not accept else "accepted")
    ev.loc[newest, "status"] = "received"
    return ev


def _district(con) -> Scope:
    return Scope(con.execute("SELECT area_id FROM areas WHERE level = 'district'").fetchone()[0], level="district")


@pytest.fixture
def warehouse(tmp_path):
    """``warehouse(accept, dispatch)``: (settings, cursor, events) of a warehouse recording those stages."""
    def build(accept: bool, dispatch: bool):
        ev = _events(accept, dispatch)
        settings = build_warehouse(tmp_path / f"var-{accept}-{dispatch}", ev)
        cache.clear_caches()
        return settings, open_cursor(settings), ev
    return build


def test_snapshot_facts_say_which_stages_are_recorded(warehouse):
    for accept, dispatch in ((False, False), (True, False), (True, True)):
        settings, con, _ = warehouse(accept, dispatch)
        facts = queries.prepare(con, NOW, settings).facts
        assert (facts.accept_recorded, facts.dispatch_recorded) == (accept, dispatch)
        assert (facts.recorded("accept"), facts.recorded("dispatch"), facts.recorded("close")) == (accept, dispatch,
                                                                                                   True)


def test_unrecorded_stages_have_no_value_but_a_reason_and_stay_out_of_the_index(warehouse):
    settings, con, _ = warehouse(False, False)
    vs = vital_signs(con, _district(con), Window(NOW - timedelta(days=1), NOW), NOW, settings)
    m = vs.by_key()
    for key in ACCEPT_KEYS + DISPATCH_KEYS:
        stage = "accept" if key in ACCEPT_KEYS else "dispatch"
        assert m[key].value is None, key  # not 0 %: nobody measured it
        assert m[key].reason == f"{stage}_not_recorded"
        assert (m[key].score, m[key].status, m[key].baseline, m[key].change) == (None, "none", None, None)
    # closure is still measured
    assert m["close_on_time_other_pct"].value is not None and m["close_on_time_other_pct"].reason is None
    scores = [x.score for x in vs.metrics if x.score is not None]
    assert scores and vs.index == pytest.approx(sum(scores) / len(scores))
    assert all(s <= SCORE_CAP for s in scores)


def test_a_recorded_stage_keeps_its_value_while_an_unrecorded_one_has_none(warehouse):
    settings, con, _ = warehouse(True, False)
    vs = vital_signs(con, _district(con), Window(NOW - timedelta(days=1), NOW), NOW, settings)
    m = vs.by_key()
    assert m["accept_1min_pct"].value is not None and m["accept_1min_pct"].reason is None
    assert m["median_accept_s"].value == pytest.approx(20.0)
    for key in DISPATCH_KEYS:
        assert m[key].value is None and m[key].reason == "dispatch_not_recorded"


def test_with_every_stage_recorded_the_rates_are_measured(warehouse):
    settings, con, _ = warehouse(True, True)
    m = vital_signs(con, _district(con), Window(NOW - timedelta(days=1), NOW), NOW, settings).by_key()
    for key in ACCEPT_KEYS + DISPATCH_KEYS:
        assert m[key].value is not None and m[key].reason is None, key
    assert m["median_dispatch_s"].value == pytest.approx(120.0)


def test_open_cases_of_a_source_without_acceptance_wait_on_closure_only(warehouse):
    settings, con, ev = warehouse(False, False)
    open_ids = set(ev.loc[ev["closed_at"].isna(), "case_id"])
    assert len(open_ids) >= 5
    risk = sla_risk(con, _district(con), NOW, settings, limit=None)
    assert set(risk["case_id"]) == open_ids  # every open case is listed ...
    assert set(risk["stage"]) == {"close"}  # ... waiting on closure, not on acceptance
    assert (risk["level"] != "breached").all()  # received in the last 2 h: no closure deadline has passed
    head = sla_risk(con, _district(con), NOW, settings, limit=3)  # the top-N query (sla_most_overdue)
    assert set(head["stage"]) == {"close"}
    ticker = sla_ticker(con, _district(con), NOW, settings)
    assert ticker.breached == 0 and len(ticker.latest_breaches) == 0
    assert set(ticker.next_due["stage"]) <= {"close"}


def test_with_acceptance_recorded_an_unaccepted_open_case_is_an_acceptance_breach(warehouse):
    settings, con, ev = warehouse(True, True)
    newest = ev.iloc[-1]
    assert NOW - newest["received_at"] > timedelta(minutes=1)
    risk = sla_risk(con, _district(con), NOW, settings, limit=None)
    row = risk.set_index("case_id").loc[newest["case_id"]]
    assert (row["stage"], row["level"]) == ("accept", "breached")
    head = sla_risk(con, _district(con), NOW, settings, limit=1)
    assert head["case_id"].tolist() == [newest["case_id"]] and head["stage"].tolist() == ["accept"]
    ticker = sla_ticker(con, _district(con), NOW, settings)
    assert ticker.breached == 1 and ticker.latest_breaches["stage"].tolist() == ["accept"]


def test_a_warehouse_without_cases_records_every_stage(tmp_path):
    ev = _events(True, True).iloc[0:0]
    settings = build_warehouse(tmp_path / "var", ev)
    facts = queries.prepare(open_cursor(settings), NOW, settings).facts
    assert facts.last_day is None
    assert (facts.accept_recorded, facts.dispatch_recorded) == (True, True)  # nothing says a stage is missing
