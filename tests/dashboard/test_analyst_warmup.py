"""The analyst pages' time and snapshot: one "as of" per snapshot state, and the warm-up before a switch."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from dashboard import runtime as runtime_module
from dashboard.analyst import warmup
from dashboard.analyst.state import ViewState
from dashboard.analyst.view import render
from dashboard.app import create_app
from dashboard.runtime import Runtime
from data.snapshot import SnapshotInfo
from tests.browser.test_wall import publish_more_cases
from tests.conftest import FIXTURE_NOW, as_principal


def _render(app, state: ViewState, build, panel="p"):
    with app.server.test_request_context("/"):
        as_principal()
        return render(state.to_dict(), build, panel)


def _wait(condition, seconds=30.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_live_data_is_shown_as_of_the_etls_last_check_in_every_worker(fresh_demo):
    now = datetime.now(fresh_demo.zone)
    publish_more_cases(fresh_demo, 2, now - timedelta(seconds=30))  # live: the newest case is this minute's
    one, two = Runtime(fresh_demo), Runtime(fresh_demo)  # two worker processes, no clock given
    info = one.newest()
    assert one.historical() is None
    assert one.view_now() == two.view_now() == info.fresh_at.astimezone(fresh_demo.zone)
    # data not confirmed for stale_after_cycles cycles: the ETL is down, time goes on without it
    stale = SnapshotInfo(info.name, info.path, info.published_at - timedelta(minutes=10), info.run_id,
                         info.published_at - timedelta(minutes=10))
    later = one.view_now(stale)
    assert later.second == 0 and later > stale.fresh_at + timedelta(minutes=9) and later <= datetime.now(fresh_demo.zone)


def test_a_given_clock_stands_for_the_etls_time_per_snapshot_state(fresh_demo):
    ticks = iter(FIXTURE_NOW + timedelta(seconds=s) for s in range(0, 10_000, 7))
    rt = Runtime(fresh_demo, clock=lambda: next(ticks))
    first = rt.view_now()
    assert rt.view_now() == first  # the clock ran on; the snapshot did not change
    publish_more_cases(fresh_demo, 1, FIXTURE_NOW - timedelta(minutes=1))
    time.sleep(1.1)  # the reader looks at CURRENT once a second
    assert rt.view_now() > first


def test_pages_stay_on_the_warm_snapshot_until_the_new_one_is_computed(fresh_demo, monkeypatch):
    rt = Runtime(fresh_demo, clock=lambda: FIXTURE_NOW)
    old = rt.newest()
    assert rt.served() == old  # nothing warmed: the newest
    rt.warmed(old)
    publish_more_cases(fresh_demo, 1, FIXTURE_NOW - timedelta(minutes=1))
    time.sleep(1.1)
    new = rt.newest()
    assert new.name != old.name
    assert rt.served() == old  # being computed: the previous, whose results are ready
    with rt.view_snapshot() as (con, info):
        assert info == old
        assert con.execute("SELECT count(*) FROM events WHERE case_id LIKE '%-T%'").fetchone()[0] == 0
    rt.warmed(new)
    assert rt.served() == new
    with rt.view_snapshot() as (con, info):
        assert info.name == new.name
        assert con.execute("SELECT count(*) FROM events WHERE case_id LIKE '%-T%'").fetchone()[0] > 0
    # a warm-up that takes too long does not hold the pages back for more than WARM_GRACE_S
    rt.warmed(old)
    monkeypatch.setattr(runtime_module, "WARM_GRACE_S", 0.0)
    assert rt.served() == new


def test_the_warm_up_computes_noted_views_on_a_new_snapshot_before_the_pages_switch(fresh_demo):
    app = create_app(fresh_demo, clock=lambda: FIXTURE_NOW)
    rt = runtime_module.of(app)
    builds = []

    def build(view):
        builds.append(view.info.name)
        time.sleep(0.3)  # a real panel takes a while at 10 million cases
        return view.info.name

    first = _render(app, ViewState(window="30d"), build)
    assert [p for p, _ in warmup.plans(rt)] == ["p"]
    _wait(lambda: rt.warm is not None)  # the watcher's first pass (nothing to compute)
    assert builds == [first]
    publish_more_cases(fresh_demo, 1, FIXTURE_NOW - timedelta(minutes=1))
    _wait(lambda: rt.newest().name != first)
    new = rt.newest().name
    # asked while the warm-up computes: answered at once from the previous snapshot
    started = time.perf_counter()
    assert _render(app, ViewState(window="30d"), build) == first
    assert time.perf_counter() - started < 0.25
    _wait(lambda: rt.warm.name == new)
    assert _render(app, ViewState(window="30d"), build) == new
    assert builds == [first, new]  # once per snapshot, and the second by the warm-up


def test_a_view_without_a_scope_is_the_view_of_the_area_it_resolves_to(small_demo):
    app = create_app(small_demo, clock=lambda: FIXTURE_NOW)
    builds = []

    def build(view):
        builds.append(view.scope.area_id)
        return view.scope.area_id

    district = _render(app, ViewState(), build)
    assert _render(app, ViewState(scope=district), build) == district
    assert builds == [district]
    assert warmup.plans(runtime_module.of(app)) == [("p", ViewState(scope=district).to_dict())]
