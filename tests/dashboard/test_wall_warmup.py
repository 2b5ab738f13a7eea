"""The background warm-up computes a new snapshot's numbers before the wall asks for them."""

from __future__ import annotations

import time

from dashboard import data_access, ids
from dashboard.wall import data, warmup
from dashboard.wall.options import WallOptions
from data.snapshot import publish, read_current
from data.warehouse import connect
from settings import use_settings
from tests.conftest import FIXTURE_NOW


def _wait(check, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_a_published_snapshot_is_computed_in_the_background_and_the_watcher_stops_when_idle(fresh_demo, monkeypatch):
    monkeypatch.setattr(warmup, "POLL_S", 0.1)
    use_settings(fresh_demo)
    data_access.use_clock(lambda: FIXTURE_NOW)
    data.CACHE.clear()
    opts = WallOptions.from_query({}, fresh_demo)
    try:
        warmup.note(fresh_demo, opts, [ids.PANEL_VITALS], [ids.PANEL_MAP])
        home = str(fresh_demo.warehouse_dir)
        assert warmup._threads[home].is_alive()
        con = connect(fresh_demo.work_db, fresh_demo.timezone)
        try:
            publish(con, fresh_demo.warehouse_dir)
        finally:
            con.close()
        name = read_current(fresh_demo.current_file).name

        def computed():
            keys = list(data.CACHE._entries)
            return {k[1] for k in keys if k[0] == name} >= {"vitals", "map"}

        assert _wait(computed), "the new snapshot was not computed in the background"
        monkeypatch.setattr(warmup, "IDLE_S", 0.0)  # nobody refreshes any more
        assert _wait(lambda: home not in warmup._threads)
    finally:
        data_access.use_clock(None)
        warmup._plans.clear()


def test_server_start_computes_the_default_wall_before_any_wall_asks(fresh_demo, monkeypatch):
    monkeypatch.setattr(warmup, "POLL_S", 0.1)
    use_settings(fresh_demo)
    data_access.use_clock(lambda: FIXTURE_NOW)
    data.CACHE.clear()
    try:
        warmup.start(fresh_demo)
        name = read_current(fresh_demo.current_file).name

        def computed():
            return {k[1] for k in list(data.CACHE._entries) if k[0] == name} >= {"vitals", "sla", "map"}

        assert _wait(computed), "the default wall was not computed at start"
    finally:
        monkeypatch.setattr(warmup, "IDLE_S", 0.0)
        assert _wait(lambda: str(fresh_demo.warehouse_dir) not in warmup._threads)
        data_access.use_clock(None)
        warmup._plans.clear()
