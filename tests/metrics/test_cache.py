"""The metrics' process state: what reset() forgets."""

from __future__ import annotations

from metrics import cache, queries
from metrics.calendar import default_calendar


def test_reset_forgets_results_facts_cursor_setup_and_calendars(demo):
    con = demo.cursor()
    ctx = queries.prepare(con, demo.now, demo.settings)
    calls = []
    assert cache.memo(ctx, ("k",), lambda: calls.append(1) or 1) == 1
    assert cache.memo(ctx, ("k",), lambda: calls.append(1) or 1) == 1 and calls == [1]
    assert cache.per_cursor("sla_setup").get(con) is not None
    calendar = default_calendar(demo.settings)
    cache.reset()
    assert cache.per_cursor("sla_setup").get(con) is None
    assert default_calendar(demo.settings) is not calendar
    assert cache.memo(ctx, ("k",), lambda: calls.append(1) or 2) == 2 and calls == [1, 1]
    # a cursor set up before the reset is set up again, and works
    ctx = queries.prepare(con, demo.now, demo.settings)
    assert len(ctx.run("snapshot_bounds")) == 1


def test_clear_snapshot_caches_keeps_what_holds_for_the_whole_warehouse(demo):
    ctx = queries.prepare(demo.cursor(), demo.now, demo.settings)
    cache.memo(ctx, ("past",), lambda: "warehouse")
    cache.memo(ctx, ("now",), lambda: "snapshot", per_snapshot=True)
    cache.clear_snapshot_caches()
    assert cache.memo(ctx, ("past",), lambda: "recomputed") == "warehouse"
    assert cache.memo(ctx, ("now",), lambda: "recomputed", per_snapshot=True) == "recomputed"
