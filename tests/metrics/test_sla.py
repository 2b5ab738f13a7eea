"""SLA deadlines: hand-computed cases per stage, properties, and the production deadline views agreeing with pandas.

The metrics read every deadline from the views ``case_due`` and ``open_due`` (``metrics/sql/due_view.sql``,
set up by ``metrics.queries.prepare``); :func:`metrics.sla.deadlines` is their oracle.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics import queries
from metrics.calendar import WorkCalendar
from metrics.sla import DEADLINE_COLUMNS, SlaRule, SlaRules, deadlines
from settings import Settings

TZ = "Asia/Shanghai"
DDL = Path(__file__).resolve().parents[2] / "data" / "schema" / "02_core.sql"
CAL = WorkCalendar()
RULES = SlaRules.from_settings(Settings())
# A category with every stage overridden, including fractional urgent hours.
OVERRIDES = {"fast": {"accept_seconds": 30, "dispatch_seconds": 120, "close_hours": 2.5, "close_working_days": 1},
             "slow": {"close_working_days": 5}}
RULES_WITH_OVERRIDES = SlaRules.from_settings(Settings(sla_overrides=OVERRIDES))
NOW = pd.Timestamp("2026-11-25 10:30", tz=TZ).to_pydatetime()


def ts(text: str | None, tz: str = TZ) -> pd.Timestamp:
    """A local timestamp (or NaT)."""
    return pd.NaT if text is None else pd.Timestamp(text, tz=tz)


def case(received: str, *, case_id: str = "c1", category_id: str = "roads", urgency: str = "normal",
         needs_dispatch: bool = False, accepted: str | None = None, dispatched: str | None = None,
         closed: str | None = None, status: str | None = None) -> dict:
    """One case as a dict; status follows from the timestamps unless given."""
    if status is None:
        status = "closed" if closed else "dispatched" if dispatched else "accepted" if accepted else "received"
    return {"case_id": case_id, "category_id": category_id, "urgency": urgency, "needs_dispatch": needs_dispatch,
            "received_at": ts(received), "accepted_at": ts(accepted), "dispatched_at": ts(dispatched),
            "closed_at": ts(closed), "status": status}


def frame(*cases: dict) -> pd.DataFrame:
    df = pd.DataFrame(list(cases))
    for column in ("received_at", "accepted_at", "dispatched_at", "closed_at"):
        df[column] = pd.to_datetime(df[column], utc=True).dt.tz_convert(TZ).dt.as_unit("us")
    return df


def run(*cases: dict, rules: SlaRules = RULES, calendar: WorkCalendar = CAL, now=NOW) -> pd.DataFrame:
    return deadlines(frame(*cases), rules, calendar, TZ, now)


def stage(out: pd.DataFrame, name: str, case_id: str = "c1") -> pd.Series:
    rows = out[(out["case_id"] == case_id) & (out["stage"] == name)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


# --- close, working days ------------------------------------------------------------------------------
def test_national_day_case_is_due_at_the_end_of_the_make_up_saturday():
    out = run(case("2026-09-30 17:00"))
    assert stage(out, "close")["due_at"] == ts("2026-10-11 00:00")


@pytest.mark.parametrize(("closed", "outcome", "late"), [
    ("2026-10-10 23:59:59", "met", 0.0),
    ("2026-10-11 00:00:00", "met", 0.0),  # 24:00 of the due day is still "by the end of" it
    ("2026-10-11 00:00:01", "breached", 1.0),
])
def test_close_at_the_end_of_the_due_day(closed, outcome, late):
    row = stage(run(case("2026-09-30 17:00", closed=closed)), "close")
    assert (row["outcome"], row["overdue_seconds"], row["overdue"]) == (outcome, late, False)
    assert row["done_at"] == ts(closed) and np.isnan(row["seconds_left"])


def test_spring_festival_2026():
    # Fri Feb 13 → Sat 14 (make-up), Tue 24, Wed 25 → due 24:00 Wed Feb 25.
    assert stage(run(case("2026-02-13 10:00")), "close")["due_at"] == ts("2026-02-26 00:00")
    # Received on the first holiday, Sun Feb 15 → Tue 24, Wed 25, Thu 26.
    assert stage(run(case("2026-02-15 10:00")), "close")["due_at"] == ts("2026-02-27 00:00")


def test_received_friday_before_a_make_up_saturday():
    # Fri Feb 27 2026 → Sat 28 (make-up), Mon Mar 2, Tue Mar 3.
    assert stage(run(case("2026-02-27 16:00")), "close")["due_at"] == ts("2026-03-04 00:00")
    # Fri Oct 9 2026 → Sat 10 (make-up), Mon 12, Tue 13.
    assert stage(run(case("2026-10-09 16:00")), "close")["due_at"] == ts("2026-10-14 00:00")


def test_midnight_boundary_uses_the_local_day():
    late_tuesday = case("2026-11-24 23:59:59", case_id="tue")
    wednesday = case("2026-11-25 00:00:00", case_id="wed")
    out = run(late_tuesday, wednesday)
    assert stage(out, "close", "tue")["due_at"] == ts("2026-11-28 00:00")  # Wed, Thu, Fri
    assert stage(out, "close", "wed")["due_at"] == ts("2026-12-01 00:00")  # Thu, Fri, Mon
    # The same Wednesday-midnight instant given in UTC (still Tuesday there) is a Wednesday case.
    utc = frame(wednesday).assign(received_at=lambda d: d["received_at"].dt.tz_convert("UTC"))
    assert deadlines(utc, RULES, CAL, TZ, NOW)["due_at"].iloc[-1] == ts("2026-12-01 00:00")


# --- close, urgent ---------------------------------------------------------------------------------------
def test_urgent_counts_calendar_hours_over_a_holiday():
    row = stage(run(case("2026-09-30 17:00", urgency="urgent")), "close")
    assert row["due_at"] == ts("2026-10-01 17:00")


def test_urgent_close_met_and_breached():
    out = run(case("2026-11-20 09:00", case_id="ok", urgency="urgent", closed="2026-11-21 09:00"),
              case("2026-11-20 09:00", case_id="late", urgency="urgent", closed="2026-11-21 09:00:01"))
    assert stage(out, "close", "ok")["outcome"] == "met"
    assert stage(out, "close", "late")["outcome"] == "breached"


# --- accept and dispatch -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("accepted", "outcome"), [("10:00:59", "met"), ("10:01:00", "met"), ("10:01:01", "breached")])
def test_accept_within_60_seconds(accepted, outcome):
    row = stage(run(case("2026-11-20 10:00:00", accepted=f"2026-11-20 {accepted}")), "accept")
    assert row["due_at"] == ts("2026-11-20 10:01:00")
    assert row["outcome"] == outcome


def test_dispatch_only_when_needed():
    out = run(case("2026-11-20 10:00", case_id="walk", dispatched="2026-11-20 10:02"),
              case("2026-11-20 10:00", case_id="crew", needs_dispatch=True, dispatched="2026-11-20 10:05:01"))
    assert out.loc[out["case_id"] == "walk", "stage"].tolist() == ["accept", "close"]
    assert out.loc[out["case_id"] == "crew", "stage"].tolist() == ["accept", "dispatch", "close"]
    row = stage(out, "dispatch", "crew")
    assert row["due_at"] == ts("2026-11-20 10:05") and row["outcome"] == "breached"
    assert row["overdue_seconds"] == 1.0


def test_pending_stage_is_overdue_only_after_its_deadline():
    now = ts("2026-11-20 10:01:00").to_pydatetime()
    out = run(case("2026-11-20 10:00:00", case_id="due_now"), case("2026-11-20 09:58:00", case_id="late"), now=now)
    on_time = stage(out, "accept", "due_now")
    assert (on_time["outcome"], on_time["overdue"], on_time["seconds_left"]) == ("pending", False, 0.0)
    late = stage(out, "accept", "late")
    assert (late["outcome"], late["overdue"], late["seconds_left"], late["overdue_seconds"]) == (
        "pending", True, -120.0, 120.0)
    assert pd.isna(late["done_at"])


# --- cancelled cases ---------------------------------------------------------------------------------------
def test_cancelled_cases_have_no_close_stage():
    out = run(case("2026-11-20 10:00", accepted="2026-11-20 10:00:30", closed="2026-11-20 11:00",
                   status="cancelled"))
    assert out["stage"].tolist() == ["accept"]
    assert stage(out, "accept")["outcome"] == "met"


def test_cancellation_before_the_deadline_drops_the_unfinished_stage_after_it_breaches():
    early = case("2026-11-20 10:00", case_id="early", needs_dispatch=True, closed="2026-11-20 10:00:40",
                 status="cancelled")
    late = case("2026-11-20 10:00", case_id="late", needs_dispatch=True, accepted="2026-11-20 10:00:10",
                closed="2026-11-20 10:07", status="cancelled")
    out = run(early, late)
    assert out.loc[out["case_id"] == "early"].empty
    assert out.loc[out["case_id"] == "late", "stage"].tolist() == ["accept", "dispatch"]
    dispatch = stage(out, "dispatch", "late")
    assert (dispatch["outcome"], dispatch["overdue_seconds"]) == ("breached", 120.0)
    assert pd.isna(dispatch["done_at"])


# --- rules ---------------------------------------------------------------------------------------------------
def test_rules_from_settings_and_overrides():
    assert RULES.default == SlaRule(60, 300, 24.0, 3)
    fast = RULES_WITH_OVERRIDES.for_category("fast")
    assert fast == SlaRule(30, 120, 2.5, 1)
    assert RULES_WITH_OVERRIDES.for_category("slow") == SlaRule(60, 300, 24.0, 5)
    assert RULES_WITH_OVERRIDES.for_category("roads") == RULES.default
    table = RULES_WITH_OVERRIDES.frame(["roads", "fast", "roads"])
    assert table.to_dict("records") == [
        {"category_id": "roads", "accept_seconds": 60, "dispatch_seconds": 300, "urgent_close_hours": 24.0,
         "close_working_days": 3},
        {"category_id": "fast", "accept_seconds": 30, "dispatch_seconds": 120, "urgent_close_hours": 2.5,
         "close_working_days": 1},
    ]


def test_category_override_changes_the_deadlines():
    out = run(case("2026-09-30 17:00", case_id="n", category_id="fast", needs_dispatch=True),
              case("2026-09-30 17:00", case_id="u", category_id="fast", urgency="urgent"),
              rules=RULES_WITH_OVERRIDES)
    assert stage(out, "accept", "n")["due_at"] == ts("2026-09-30 17:00:30")
    assert stage(out, "dispatch", "n")["due_at"] == ts("2026-09-30 17:02")
    assert stage(out, "close", "n")["due_at"] == ts("2026-10-09 00:00")  # 1 working day: Thu Oct 8
    assert stage(out, "close", "u")["due_at"] == ts("2026-09-30 19:30")


@pytest.mark.parametrize("overrides", [{"x": {"close_working_days": 1.5}}, {"x": {"accept_seconds": 0}}])
def test_rules_refuse_fractional_or_non_positive_counts(overrides):
    unvalidated = dataclasses.replace(Settings(), sla_overrides=overrides)  # skips Settings' own checks
    with pytest.raises(ValueError, match="sla.x"):
        SlaRules.from_settings(unvalidated)


# --- fallback year -------------------------------------------------------------------------------------------
def test_2027_fallback_without_and_with_a_holiday_file(tmp_path):
    path = tmp_path / "holidays.csv"
    path.write_text("date,kind\n2027-01-01,holiday\n2027-01-09,workday\n", encoding="utf-8")
    with_file = WorkCalendar(path)
    new_year_eve = case("2026-12-31 15:00", case_id="eve")
    thursday = case("2027-01-07 15:00", case_id="thu")
    plain = run(new_year_eve, thursday)
    assert stage(plain, "close", "eve")["due_at"] == ts("2027-01-06 00:00")  # Fri 1, Mon 4, Tue 5
    assert stage(plain, "close", "thu")["due_at"] == ts("2027-01-13 00:00")  # Fri 8, Mon 11, Tue 12
    edited = run(new_year_eve, thursday, calendar=with_file)
    assert stage(edited, "close", "eve")["due_at"] == ts("2027-01-07 00:00")  # Mon 4, Tue 5, Wed 6
    assert stage(edited, "close", "thu")["due_at"] == ts("2027-01-12 00:00")  # Fri 8, Sat 9, Mon 11
    assert with_file.fallback_years(dt.date(2026, 12, 31), dt.date(2027, 1, 12)) == [2027]


# --- input checks --------------------------------------------------------------------------------------------
def test_refuses_naive_timestamps_and_missing_columns():
    df = frame(case("2026-11-20 10:00"))
    with pytest.raises(ValueError, match="timezone-aware"):
        deadlines(df.assign(received_at=df["received_at"].dt.tz_localize(None)), RULES, CAL, TZ, NOW)
    with pytest.raises(ValueError, match="now must be"):
        deadlines(df, RULES, CAL, TZ, dt.datetime(2026, 11, 25))
    with pytest.raises(ValueError, match="status"):
        deadlines(df.drop(columns="status"), RULES, CAL, TZ, NOW)


def test_empty_input_gives_empty_output():
    out = deadlines(frame(case("2026-11-20 10:00")).iloc[:0], RULES, CAL, TZ, NOW)
    assert out.empty and tuple(out.columns) == DEADLINE_COLUMNS


# --- the production views ------------------------------------------------------------------------------------
EXTRA_COLUMNS = {"channel": "qr", "category_l1": "l1", "route": "auto", "department_id": "d1", "microgrid_id": "m1",
                 "grid_id": "g1", "community_id": "cm1", "street_id": "s1"}
VIEW_COLUMNS = {"accept": "accept_due", "dispatch": "dispatch_due", "close": "close_due"}


def load_events(con: duckdb.DuckDBPyConnection, cases: pd.DataFrame) -> None:
    """Create ``events`` from the real DDL, insert the cases (other NOT NULL columns filled) and the open-cases mart."""
    con.execute(DDL.read_text(encoding="utf-8"))
    rows = cases.assign(**EXTRA_COLUMNS, updated_at=cases["received_at"])  # noqa: F841 - read by DuckDB
    con.execute("INSERT INTO events BY NAME SELECT * FROM rows")
    # mart_open_cases: the cases never closed, as data/schema/04_marts.sql defines it
    con.execute("CREATE TABLE mart_open_cases AS SELECT * FROM events WHERE closed_at IS NULL")
    con.execute("CREATE TABLE areas (area_id VARCHAR, level VARCHAR)")


def view_deadlines(cases: pd.DataFrame, rules: SlaRules, calendar: WorkCalendar, now, view: str = "case_due"
                   ) -> pd.DataFrame:
    """(case_id, stage, due_us) of every stage from a production view, as the metrics set it up."""
    con = duckdb.connect()
    try:
        load_events(con, cases)
        queries.prepare(con, pd.Timestamp(now).to_pydatetime(), Settings(timezone=TZ), calendar=calendar,
                        rules=rules)
        got = con.execute(f"SELECT case_id, accept_due, dispatch_due, close_due FROM {view}").df()
    finally:
        con.close()
    long = got.melt(id_vars="case_id", var_name="column", value_name="due_us")
    long["stage"] = long["column"].map({v: k for k, v in VIEW_COLUMNS.items()})
    return long[["case_id", "stage", "due_us"]]


def assert_views_match(cases: pd.DataFrame, rules: SlaRules, calendar: WorkCalendar, now) -> pd.DataFrame:
    """Every stage's deadline in ``case_due`` (and, for never-closed cases, ``open_due``) equals :func:`deadlines`."""
    # every stage, whatever happened since: the views give a deadline whether or not it was met
    want = deadlines(cases.assign(status="received"), rules, calendar, TZ, now)
    want["due_us"] = (want["due_at"].dt.tz_convert("UTC") - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(microseconds=1)
    want = want[["case_id", "stage", "due_us"]]
    got = view_deadlines(cases, rules, calendar, now)
    merged = want.merge(got, on=["case_id", "stage"], how="left", suffixes=("_want", "_got"))
    assert merged["due_us_got"].notna().all(), merged[merged["due_us_got"].isna()]
    pd.testing.assert_series_equal(merged["due_us_got"].astype("int64"), merged["due_us_want"].astype("int64"),
                                   check_names=False)
    never_closed = set(cases.loc[cases["closed_at"].isna(), "case_id"])
    open_ = view_deadlines(cases, rules, calendar, now, view="open_due")
    assert set(open_["case_id"]) == never_closed
    both = open_.merge(got, on=["case_id", "stage"], suffixes=("_open", "_all"))
    assert len(both) == len(open_) and (both["due_us_open"] == both["due_us_all"]).all()
    return merged.assign(due_at=pd.to_datetime(merged["due_us_got"], unit="us", utc=True).dt.tz_convert(TZ))


def test_views_match_the_hand_computed_cases(tmp_path):
    path = tmp_path / "holidays.csv"
    path.write_text("2027-01-01,holiday\n2027-01-09,workday\n", encoding="utf-8")
    cases = frame(
        case("2026-09-30 17:00", case_id="national-day", closed="2026-10-11 00:00"),
        case("2026-09-30 17:00", case_id="urgent", urgency="urgent", needs_dispatch=True),
        case("2026-02-13 10:00", case_id="spring", accepted="2026-02-13 10:01:01"),
        case("2026-11-24 23:59:59", case_id="tue"),
        case("2026-11-25 00:00:00", case_id="wed", category_id="fast", urgency="urgent"),
        case("2026-11-20 10:00", case_id="cancel", needs_dispatch=True, accepted="2026-11-20 10:00:10",
             closed="2026-11-20 10:07", status="cancelled"),
        case("2027-01-07 15:00", case_id="fallback", category_id="slow"),
    )
    out = assert_views_match(cases, RULES_WITH_OVERRIDES, WorkCalendar(path), NOW)
    due = out.set_index(["case_id", "stage"])["due_at"]
    assert due[("national-day", "close")] == ts("2026-10-11 00:00")
    # 5 working days: Fri 8, Sat 9 (file), Mon 11, Tue 12, Wed 13.
    assert due[("fallback", "close")] == ts("2027-01-14 00:00")
    # the "fast" override: 30 s to accept, 2.5 h to close an urgent case
    assert due[("wed", "accept")] == ts("2026-11-25 00:00:30")
    assert due[("wed", "close")] == ts("2026-11-25 02:30")


def test_views_use_the_default_rule_without_overrides():
    cases = frame(case("2026-11-24 10:00", case_id="a", category_id="fast", urgency="urgent", needs_dispatch=True),
                  case("2026-11-24 10:00", case_id="b", closed="2026-11-24 12:00"))
    out = assert_views_match(cases, RULES, CAL, NOW).set_index(["case_id", "stage"])["due_at"]
    assert out[("a", "accept")] == ts("2026-11-24 10:01") and out[("a", "close")] == ts("2026-11-25 10:00")
    assert out[("a", "dispatch")] == ts("2026-11-24 10:05")


# --- properties ------------------------------------------------------------------------------------------------
START = pd.Timestamp("2025-12-01", tz=TZ)
SPAN_SECONDS = int((pd.Timestamp("2027-03-01", tz=TZ) - START).total_seconds())


@st.composite
def random_cases(draw, min_size: int = 1, max_size: int = 25) -> pd.DataFrame:
    """Cases received Dec 2025 – Feb 2027: Spring Festival, National Day and the 2027 fallback."""
    n = draw(st.integers(min_value=min_size, max_value=max_size))
    offset = st.integers(min_value=0, max_value=SPAN_SECONDS * 1_000_000)
    delay = st.one_of(st.none(), st.integers(min_value=0, max_value=20 * 86_400 * 1_000_000))
    short = st.one_of(st.none(), st.integers(min_value=0, max_value=600 * 1_000_000))
    rows = []
    for i in range(n):
        received = START + pd.Timedelta(microseconds=draw(offset))
        after = {name: draw(strategy) for name, strategy in (("accepted", short), ("dispatched", short),
                                                             ("closed", delay))}
        stamps = {k: pd.NaT if v is None else received + pd.Timedelta(microseconds=v) for k, v in after.items()}
        status = draw(st.sampled_from(["received", "accepted", "in_progress", "closed", "cancelled"]))
        rows.append({"case_id": f"c{i:03d}", "category_id": draw(st.sampled_from(["roads", "fast", "slow"])),
                     "urgency": draw(st.sampled_from(["urgent", "normal"])), "needs_dispatch": draw(st.booleans()),
                     "received_at": received, "accepted_at": stamps["accepted"],
                     "dispatched_at": stamps["dispatched"], "closed_at": stamps["closed"], "status": status})
    df = pd.DataFrame(rows)
    for column in ("received_at", "accepted_at", "dispatched_at", "closed_at"):
        df[column] = pd.to_datetime(df[column], utc=True).dt.tz_convert(TZ).dt.as_unit("us")
    return df


nows = st.integers(min_value=0, max_value=SPAN_SECONDS).map(lambda s: (START + pd.Timedelta(seconds=s)).to_pydatetime())
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(cases=random_cases(), now=nows)
def test_deadline_is_never_before_receipt(cases, now):
    out = deadlines(cases, RULES_WITH_OVERRIDES, CAL, TZ, now)
    received = out["case_id"].map(cases.set_index("case_id")["received_at"])
    assert (out["due_at"] >= received).all()


@PROPERTY
@given(cases=random_cases(min_size=2, max_size=2), urgency=st.sampled_from(["urgent", "normal"]),
       category=st.sampled_from(["roads", "fast", "slow"]))
def test_later_receipt_never_gives_an_earlier_deadline(cases, urgency, category):
    cases = cases.assign(urgency=urgency, category_id=category, needs_dispatch=True, status="received")
    out = deadlines(cases, RULES_WITH_OVERRIDES, CAL, TZ, NOW)
    early, late = cases.sort_values("received_at")["case_id"]
    for name in ("accept", "dispatch", "close"):
        assert stage(out, name, early)["due_at"] <= stage(out, name, late)["due_at"]


@PROPERTY
@given(cases=random_cases(), now=nows)
def test_outcomes_agree_with_the_timestamps(cases, now):
    out = deadlines(cases, RULES_WITH_OVERRIDES, CAL, TZ, now)
    done = out["done_at"].notna()
    assert (out.loc[done, "outcome"] == np.where(out.loc[done, "done_at"] <= out.loc[done, "due_at"],
                                                 "met", "breached")).all()
    cancelled = out["case_id"].map(cases.set_index("case_id")["status"]).eq("cancelled")
    pending = out["outcome"] == "pending"
    assert (pending == (~done & ~cancelled)).all()
    assert (out["overdue"] == (pending & (out["due_at"] < pd.Timestamp(now)))).all()
    left = (out["due_at"] - pd.Timestamp(now)).dt.total_seconds()
    assert np.allclose(out.loc[pending, "seconds_left"], left[pending])
    assert out.loc[~pending, "seconds_left"].isna().all()
    assert ((out["overdue_seconds"] > 0) == ((out["outcome"] == "breached") | out["overdue"])).all()
    assert not (out["stage"].eq("close") & cancelled).any()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases=random_cases(), now=nows, overrides=st.booleans())
def test_view_deadlines_equal_pandas_deadlines(cases, now, overrides):
    assert_views_match(cases, RULES_WITH_OVERRIDES if overrides else RULES, CAL, now)


def test_view_deadlines_equal_pandas_on_a_large_random_sample():
    rng = np.random.default_rng(20261129)
    n = 5_000
    received = START + pd.to_timedelta(rng.integers(0, SPAN_SECONDS * 1_000_000, n), unit="us")

    def maybe(upper_seconds: int, missing: float) -> pd.Series:
        stamps = received + pd.to_timedelta(rng.integers(0, upper_seconds * 1_000_000, n), unit="us")
        return pd.Series(stamps).where(rng.random(n) > missing)

    cases = pd.DataFrame({
        "case_id": [f"r{i:05d}" for i in range(n)],
        "category_id": rng.choice(["roads", "fast", "slow", "noise"], n),
        "urgency": rng.choice(["urgent", "normal"], n, p=[0.2, 0.8]),
        "needs_dispatch": rng.random(n) < 0.6,
        "received_at": received,
        "accepted_at": maybe(120, 0.1),
        "dispatched_at": maybe(900, 0.3),
        "closed_at": maybe(12 * 86_400, 0.3),
        "status": rng.choice(["received", "closed", "cancelled", "in_progress"], n),
    })
    for column in ("received_at", "accepted_at", "dispatched_at", "closed_at"):
        cases[column] = cases[column].dt.tz_convert(TZ).dt.as_unit("us")
    out = assert_views_match(cases, RULES_WITH_OVERRIDES, CAL, NOW)
    assert set(out["stage"]) == {"accept", "dispatch", "close"} and len(out) > 2 * n


def test_views_use_a_case_own_deadline_where_it_has_one():
    rng = np.random.default_rng(11)
    n = 2_000
    received = START + pd.to_timedelta(rng.integers(0, SPAN_SECONDS * 1_000_000, n), unit="us")
    own = pd.Series(received + pd.to_timedelta(rng.integers(-3_600, 30 * 86_400, n), unit="s"))
    cases = pd.DataFrame({
        "case_id": [f"o{i:05d}" for i in range(n)], "category_id": rng.choice(["roads", "fast", "slow"], n),
        "urgency": rng.choice(["urgent", "normal"], n), "needs_dispatch": rng.random(n) < 0.5,
        "received_at": received, "accepted_at": pd.NaT, "dispatched_at": pd.NaT, "closed_at": pd.NaT,
        "status": "received", "due_at": own.where(rng.random(n) < 0.4),
    })
    for column in ("received_at", "accepted_at", "dispatched_at", "closed_at", "due_at"):
        cases[column] = pd.to_datetime(cases[column], utc=True).dt.tz_convert(TZ).dt.as_unit("us")
    out = assert_views_match(cases, RULES_WITH_OVERRIDES, CAL, NOW).set_index(["case_id", "stage"])["due_at"]
    has_own = cases.set_index("case_id")["due_at"].dropna()
    assert 0.3 * n < len(has_own) < 0.5 * n
    assert (out.xs("close", level="stage").loc[has_own.index] == has_own).all()


def test_us_ny_case_is_due_at_the_end_of_the_third_working_day_after_thanksgiving():
    ny = "America/New_York"
    settings_ny = Settings(timezone=ny, calendar="US-NY")
    calendar = WorkCalendar(code="US-NY")
    cases = frame(case("2026-11-25 17:00", case_id="ny"))
    cases["received_at"] = pd.Series([pd.Timestamp("2026-11-25 17:00", tz=ny)]).dt.as_unit("us")
    # by hand: Thu 26 Thanksgiving; Fri 27, Mon 30, Tue Dec 1 are the three working days: due 24:00 Tue (EST)
    want = pd.Timestamp("2026-12-02 00:00", tz=ny)
    now = pd.Timestamp("2026-11-30 12:00", tz=ny).to_pydatetime()
    out = deadlines(cases, SlaRules.from_settings(settings_ny), calendar, ny, now)
    assert stage(out, "close", "ny")["due_at"] == want
    con = duckdb.connect()
    try:
        load_events(con, cases)
        queries.prepare(con, now, settings_ny, calendar=calendar)
        got = con.execute("SELECT close_due FROM case_due").fetchone()[0]
    finally:
        con.close()
    assert got == (want - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(microseconds=1)
