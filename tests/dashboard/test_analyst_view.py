"""One analyst request's view: the guard around every panel, and panels remembered per snapshot and minute."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dashboard import runtime
from dashboard.analyst.state import ViewState
from dashboard.analyst.view import PanelMessage, render
from dashboard.app import create_app
from dashboard.runtime import Runtime
from tests.conftest import FIXTURE_NOW, as_principal, settings_for, signed_in


def _render(app, state: ViewState, build, panel="p"):
    with app.server.test_request_context("/"):
        as_principal()
        return render(state.to_dict(), build, panel)


def test_a_panel_is_built_once_per_snapshot_time_and_view(fresh_demo):
    from tests.browser.test_wall import publish_more_cases

    app = create_app(fresh_demo, clock=lambda: FIXTURE_NOW)
    calls = []

    def builder(tag):
        def build(view):
            calls.append((view.info.name, view.state.window, tag))
            return f"{tag} {view.state.window} {view.info.name}"
        return build

    week_build, other_build = builder("p"), builder("other")
    week, month = ViewState(), ViewState(window="30d")
    first = _render(app, week, week_build)
    assert _render(app, week, week_build) == first and len(calls) == 1  # the same view again: remembered
    _render(app, month, week_build)
    _render(app, week, other_build, panel="other")
    assert len(calls) == 3  # another view, another panel: built
    old = calls[0][0]
    publish_more_cases(fresh_demo, 3, FIXTURE_NOW - timedelta(minutes=1))
    rt = runtime.of(app)
    deadline = time.monotonic() + 30
    while (rt.warm is None or rt.warm.name == old) and time.monotonic() < deadline:
        time.sleep(0.1)  # the warm-up computes the noted views on the new snapshot, then the pages switch
    again = _render(app, week, week_build)
    assert again != first and again.endswith(rt.served().name)
    new = [c for c in calls if c[0] != old]
    # on the new snapshot every noted view was built once (by the warm-up), and the request found it
    assert sorted((w, t) for _, w, t in new) == sorted([(week.window, "p"), ("30d", "p"), (week.window, "other")])


def test_failures_and_messages_are_not_remembered(small_demo, caplog):
    app = create_app(small_demo, clock=lambda: FIXTURE_NOW)
    calls = []

    def flaky(view):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        if len(calls) == 2:
            raise PanelMessage("info", "not yet")
        return "fine"

    with caplog.at_level(logging.ERROR):
        failed = _render(app, ViewState(), flaky)
    assert failed.className == "an-msg an-msg-error" and "boom" not in str(failed)
    assert any(r.exc_info for r in caplog.records)  # the traceback is in the server log
    assert _render(app, ViewState(), flaky).children == "not yet"
    assert _render(app, ViewState(), flaky) == "fine" and len(calls) == 3


def test_the_analyst_time_is_the_wall_clock_cut_to_the_minute_unless_a_clock_is_given(small_demo, tmp_path):
    given = datetime(2026, 11, 25, 10, 30, 17, 5, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert Runtime(small_demo, clock=lambda: given).view_now() == given
    live = Runtime(settings_for(tmp_path / "var"))  # live data (here: none yet), the wall clock
    moment = live.view_now()
    assert moment.second == 0 and moment.microsecond == 0
    assert 0 <= (datetime.now(moment.tzinfo) - moment).total_seconds() < 61
    historical = Runtime(small_demo)  # data that ended days ago: as of its newest case, to the second
    assert historical.view_now() == historical.historical()


def test_a_builder_that_reads_other_inputs_is_not_remembered(small_demo):
    app = create_app(small_demo, clock=lambda: FIXTURE_NOW)
    answers = iter(["page 1", "page 2"])
    assert _render_plain(app, lambda view: next(answers)) == "page 1"
    assert _render_plain(app, lambda view: next(answers)) == "page 2"


def _render_plain(app, build):
    with app.server.test_request_context("/"):
        as_principal()
        return render(ViewState().to_dict(), build, "grid", remember=False)


def test_every_app_in_a_process_gets_the_filter_bar(small_demo):
    """Callbacks declared with ``dash.callback`` outside the pages went to the first app only."""
    for _ in range(2):
        app = create_app(small_demo, clock=lambda: FIXTURE_NOW)
        client = signed_in(app)
        client.get("/")
        outputs = [d["output"] for d in client.get("/_dash-dependencies").get_json()]
        assert any(o.startswith("an-url.href") for o in outputs)
        assert "an-f-scope.options" in outputs
