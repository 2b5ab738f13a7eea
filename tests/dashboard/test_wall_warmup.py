"""The background warm-up computes a new snapshot's numbers before the wall asks for them, only for
walls whose area exists, within a bounded set of plans, and stops when asked."""

from __future__ import annotations

import threading
import time

from dashboard import ids
from dashboard.runtime import Runtime
from dashboard.wall import data, warmup
from dashboard.wall.options import WallOptions
from data.snapshot import publish, read_current
from data.warehouse import connect
from tests.conftest import FIXTURE_NOW, as_principal, signed_in

VIEWPORT = {"w": 1920, "h": 1080, "scale": 1.0, "map_w": 803, "map_h": 794}


def _wait(check, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def _opts(rt: Runtime, **query) -> WallOptions:
    with rt.snapshot() as (con, info):
        district = rt.deployment(con, info).scope
    return WallOptions.from_query(query, rt.settings, district.area_id).within(district.level)


def test_a_published_snapshot_is_computed_in_the_background_and_the_watcher_stops_when_idle(fresh_demo, monkeypatch):
    monkeypatch.setattr(warmup, "POLL_S", 0.1)
    rt = Runtime(fresh_demo, clock=lambda: FIXTURE_NOW)
    warmup.note(rt, _opts(rt), [ids.PANEL_VITALS], [ids.PANEL_MAP])
    assert warmup._threads[rt].is_alive()
    con = connect(fresh_demo.work_db, fresh_demo.timezone)
    try:
        publish(con, fresh_demo.warehouse_dir)
    finally:
        con.close()
    name = read_current(fresh_demo.current_file).name

    def computed():
        return {k[1] for k in list(data.CACHE._entries) if k[0] == name} >= {"vitals", "map"}

    assert _wait(computed), "the new snapshot was not computed in the background"
    monkeypatch.setattr(warmup, "IDLE_S", 0.0)  # nobody refreshes any more
    assert _wait(lambda: rt not in warmup._threads)
    warmup.stop()
    rt.close()


def test_server_start_computes_the_default_wall_and_stop_ends_the_watcher(fresh_demo, monkeypatch):
    monkeypatch.setattr(warmup, "POLL_S", 0.1)
    rt = Runtime(fresh_demo, clock=lambda: FIXTURE_NOW)
    warmup.start(rt)
    name = read_current(fresh_demo.current_file).name

    def computed():
        return {k[1] for k in list(data.CACHE._entries) if k[0] == name} >= {"vitals", "sla", "map"}

    assert _wait(computed), "the default wall was not computed at start"
    thread = warmup._threads[rt]
    warmup.stop()
    assert not thread.is_alive() and warmup.plans() == [] and rt not in warmup._threads
    assert not any(t.name.startswith("wall-warmup") for t in threading.enumerate())
    rt.close()


def test_start_on_an_empty_var_dir_starts_nothing(tmp_path):
    from tests.conftest import settings_for

    rt = Runtime(settings_for(tmp_path / "var"))
    warmup.start(rt)
    assert warmup.plans() == [] and rt not in warmup._threads


def test_an_unknown_scope_is_never_noted(small_demo, monkeypatch):
    """/wall?scope=nonexistent and a hand-made refresh for it leave no plan behind (before: one each)."""
    import dash
    from dash import html

    from dashboard.app import create_app

    monkeypatch.setattr(warmup, "POLL_S", 60.0)  # the watcher sleeps; only the plans matter here
    app = create_app(small_demo, clock=lambda: FIXTURE_NOW)
    client = signed_in(app)
    assert client.get("/wall?scope=nonexistent").status_code == 200
    layout = next(p["layout"] for p in dash.page_registry.values() if p["path"] == "/wall")
    with app.server.test_request_context("/wall?scope=nonexistent"):
        as_principal()
        page = layout(scope="nonexistent")
    assert isinstance(page, html.Div) and getattr(page, "data-notice") == "unknown-area"
    assert warmup.plans() == []
    with app.server.test_request_context("/wall"):
        as_principal()
        layout(scope="330108001")
    assert [p[0] for p in warmup.plans()] == ["330108001"]


def test_the_plans_are_a_bounded_lru(small_demo, monkeypatch):
    monkeypatch.setattr(warmup, "_loop", lambda runtime: None)  # no watcher: only the bookkeeping is tested
    rt = Runtime(small_demo, clock=lambda: FIXTURE_NOW)
    base = _opts(rt)
    for i in range(warmup.MAX_PLANS + 5):
        warmup.note(rt, WallOptions(60, f"A{i}", "zh", level=base.level), [ids.PANEL_VITALS], [])
    warmup.note(rt, WallOptions(60, "A5", "zh", level=base.level), [ids.PANEL_VITALS], [])  # seen again: kept
    warmup.note(rt, WallOptions(60, "B", "zh", level=base.level), [ids.PANEL_VITALS], [])
    scopes = [p[0] for p in warmup.plans(rt)]
    assert len(scopes) == warmup.MAX_PLANS == 32
    assert "A5" in scopes and scopes[-2:] == ["A5", "B"] and "A6" not in scopes and "A0" not in scopes
    warmup.stop()
    rt.close()


def test_a_plan_whose_area_left_the_warehouse_is_dropped_quietly(small_demo, monkeypatch, caplog):
    monkeypatch.setattr(warmup, "POLL_S", 0.05)
    rt = Runtime(small_demo, clock=lambda: FIXTURE_NOW)
    warmup.note(rt, WallOptions(60, "gone", "zh", level="grid"), [ids.PANEL_VITALS], [])
    assert _wait(lambda: warmup.plans(rt) == [])
    assert not [r for r in caplog.records if r.exc_info]  # no traceback in the log
    warmup.stop()
    rt.close()
