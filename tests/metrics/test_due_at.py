"""A case's own closure deadline (``events.due_at``) in every metric, warning and countdown.

The source's deadline replaces the rule's closure deadline of that case; acceptance and dispatch
keep the rules. The oracle is :func:`metrics.sla.deadlines` (which takes ``due_at`` too); the
production queries are run on a synthetic snapshot where some cases carry a ``due_at`` that the
rule would contradict (past due by its own date while the rule still gives it days, and the
reverse), and every closure count must agree with the oracle.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from metrics import queries, vitals
from metrics.calendar import default_calendar
from metrics.scope import Scope
from metrics.sla import SlaRules, deadlines
from metrics.warnings import sla_risk
from tests.conftest import FIXTURE_NOW
from tests.metrics.conftest import SYN_STREET, build_warehouse, events_frame, open_cursor, synthetic_events
from tests.metrics.test_sla import TZ, case, frame, stage

NOW = FIXTURE_NOW


def district(con) -> Scope:
    """The synthetic warehouse's district, read from its areas (tests name no deployment's ids)."""
    return Scope(con.execute("SELECT area_id FROM areas WHERE level = 'district'").fetchone()[0], level="district")


def test_own_deadline_in_the_past_makes_an_open_case_overdue_though_the_rule_gives_it_days():
    now = pd.Timestamp("2026-11-25 10:30", tz=TZ)
    cases = frame(case("2026-11-25 08:00", case_id="own"), case("2026-11-25 08:00", case_id="rule"))
    cases["due_at"] = pd.Series([pd.Timestamp("2026-11-25 09:00", tz=TZ), pd.NaT]).dt.tz_convert(TZ).dt.as_unit("us")
    out = deadlines(cases, SlaRules.from_settings(_settings()), default_calendar(_settings()), TZ, now)
    assert stage(out, "close", "own")["overdue"] and stage(out, "close", "own")["due_at"] == cases["due_at"][0]
    assert not stage(out, "close", "rule")["overdue"]  # the rule: end of the 3rd working day
    # acceptance keeps its rule: 60 s after receipt
    assert stage(out, "accept", "own")["due_at"] == pd.Timestamp("2026-11-25 08:01", tz=TZ)


def test_own_deadline_in_the_future_keeps_a_case_on_time_the_rule_would_breach():
    now = pd.Timestamp("2026-11-25 10:30", tz=TZ)
    cases = frame(case("2026-11-10 08:00", case_id="own", urgency="urgent", closed="2026-11-20 08:00"),
                  case("2026-11-10 08:00", case_id="rule", urgency="urgent", closed="2026-11-20 08:00"))
    cases["due_at"] = pd.Series([pd.Timestamp("2026-11-30 00:00", tz=TZ), pd.NaT]).dt.tz_convert(TZ).dt.as_unit("us")
    out = deadlines(cases, SlaRules.from_settings(_settings()), default_calendar(_settings()), TZ, now)
    assert stage(out, "close", "own")["outcome"] == "met"
    assert stage(out, "close", "rule")["outcome"] == "breached"


def _settings():
    from settings import Settings
    return Settings(timezone=TZ)


def _warehouse(tmp_path):
    """Quiet synthetic cases plus open and closed cases with their own deadlines either side of the rule's."""
    base = synthetic_events(NOW)
    base["due_at"] = pd.Series(pd.NaT, index=base.index, dtype=base["received_at"].dtype)
    rows = [("G001-1", "G001", f"{SYN_STREET}001", SYN_STREET, "CITY-01", NOW - timedelta(hours=h))
            for h in (3, 5, 30, 50, 80, 100, 130, 480)]
    extra = events_frame(rows, NOW)
    extra["case_id"] = [f"D{i:03d}" for i in range(len(extra))]
    rng = np.random.default_rng(7)
    # half still open; the closed ones closed 1-60 h after receipt
    closed = extra["received_at"] + pd.to_timedelta(rng.uniform(1, 60, len(extra)), unit="h")
    keep_open = np.arange(len(extra)) % 2 == 0
    extra["closed_at"] = closed.where(~keep_open & (closed < pd.Timestamp(NOW)), pd.NaT)
    extra["status"] = np.where(extra["closed_at"].isna(), "accepted", "closed")
    # own deadlines: an hour after receipt (the rule gives days) or ten days after (the rule's would pass)
    offsets = np.where(np.arange(len(extra)) % 3 == 0, 240.0, 1.0)
    extra["due_at"] = extra["received_at"] + pd.to_timedelta(offsets, unit="h")
    # received 20 days ago, due 10 hours ago: outside every receipt range the rules would search
    extra.loc[0, "due_at"] = extra.loc[0, "received_at"] + pd.Timedelta(hours=470)
    extra["updated_at"] = extra["received_at"]
    settings = build_warehouse(tmp_path / "var", base, extra)
    events = pd.concat([base, extra], ignore_index=True)
    for col in ("received_at", "accepted_at", "dispatched_at", "closed_at", "due_at"):
        events[col] = pd.to_datetime(events[col], utc=True).dt.tz_convert(TZ).dt.as_unit("us")
    return settings, events


def _oracle(events, settings, now):
    out = deadlines(events, SlaRules.from_settings(settings), default_calendar(settings), TZ, now)
    return out[out["stage"] == "close"].merge(events[["case_id", "closed_at", "status"]], on="case_id")


def test_metric_queries_use_the_own_deadline(tmp_path):
    settings, events = _warehouse(tmp_path)
    now = pd.Timestamp(NOW).tz_convert(TZ).to_pydatetime()
    close = _oracle(events, settings, now)
    con = open_cursor(settings)
    ctx = queries.prepare(con, now, settings)
    scope = district(con)

    # overdue now (the backlog, the heat map and the vital signs all read open_now)
    open_now = ctx.open_now(scope)
    assert int(open_now["overdue"].sum()) == int(close["overdue"].sum())
    assert int(close.loc[close["case_id"].str.startswith("D"), "overdue"].sum()) > 0

    # closure deadlines in a window: on-time closure rates (vital signs, grid on-time, departments)
    ws, we = now - timedelta(days=3), now
    in_window = close[(close["due_at"] >= ws) & (close["due_at"] < we)]
    want_judged, want_met = len(in_window), int((in_window["outcome"] == "met").sum())
    assert "D000" in set(in_window["case_id"])  # the one received 20 days ago
    (ulo, uhi), (nlo, nhi) = ctx.close_receipt_ranges(ws, we)
    grid = ctx.run("grid_on_time", {"ws": ws, "we": we, "ulo": ulo, "uhi": uhi, "nlo": nlo, "nhi": nhi},
                   scope=scope, columns={"area": "NULL"})
    assert (int(grid["judged"].sum()), int(grid["met"].sum())) == (want_judged, want_met)
    unit = ctx.run("on_time_by_unit", {"ws": ws, "we": we, "ulo": ulo, "uhi": uhi, "nlo": nlo, "nhi": nhi,
                                       "off_us": ctx.off_us}, scope=scope)
    streets = unit[unit["unit_kind"] == "street"]
    assert (int(streets["judged"].sum()), int(streets["met"].sum())) == (want_judged, want_met)
    win = ctx.run("vitals_windows", vitals.window_params(ctx, [(ws, we)]), scope=scope).iloc[0]
    assert int(win["urgent_n"] + win["other_n"]) == want_judged
    # met in the window = closed by the deadline (pending cases whose deadline passed are breaches)
    assert int(win["urgent_met"] + win["other_met"]) == want_met

    # overdue at instants a week apart (the vital signs' baselines)
    counts = ctx.run("open_counts", {"t0": now, "tn": now - timedelta(weeks=4), "step_us": 7 * 86_400_000_000, "min_due_us": int(
        ctx.min_due.total_seconds() * 1e6)}, scope=scope).iloc[0]
    for k in range(2):
        t = pd.Timestamp(now) - pd.Timedelta(weeks=k)
        at_t = deadlines(events, SlaRules.from_settings(settings), default_calendar(settings), TZ, t.to_pydatetime())
        at_t = at_t[at_t["stage"] == "close"].merge(events[["case_id", "received_at", "closed_at"]], on="case_id")
        open_t = (at_t["received_at"] < t) & (at_t["closed_at"].isna() | (at_t["closed_at"] >= t))
        assert int(counts[f"overdue{k}"]) == int((open_t & (at_t["due_at"] < t)).sum())
    con.close()


def test_sla_risk_counts_down_to_the_own_deadline(tmp_path):
    settings, events = _warehouse(tmp_path)
    now = pd.Timestamp(NOW).tz_convert(TZ).to_pydatetime()
    close = _oracle(events, settings, now).set_index("case_id")
    con = open_cursor(settings)
    risk = sla_risk(con, district(con), now, settings, limit=1000)
    own = risk[risk["case_id"].str.startswith("D") & (risk["stage"] == "close")].set_index("case_id")
    assert len(own) > 0
    for case_id, row in own.iterrows():
        assert row["due_at"] == close.loc[case_id, "due_at"]
        assert abs(row["seconds_left"] - (close.loc[case_id, "due_at"] - pd.Timestamp(now)).total_seconds()) < 1
