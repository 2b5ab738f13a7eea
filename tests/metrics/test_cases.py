"""The cases table's query (metrics.cases) against pandas hand counts on the small demo.

The oracle is the events table read into pandas (``demo.events``) and filtered, sorted and judged
with plain pandas and :func:`metrics.sla.deadlines`; the grid models are AG Grid's own shapes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from metrics.calendar import default_calendar
from metrics.cases import COLUMNS, MAX_PAGE, CaseQuery, GridModelError, case_lifecycle
from metrics.scope import Scope, Window
from metrics.sla import SlaRules, deadlines

TZ = "Asia/Shanghai"
DISTRICT = Scope("330108", level="district")


def _window(demo, key="30d"):
    return Window.named(key, demo.now, TZ)


def _in_window(demo, key="30d"):
    w = _window(demo, key)
    ev = demo.events
    return ev[(ev["received_at"] >= w.start) & (ev["received_at"] < w.end)]


def _query(demo, scope=DISTRICT, key="30d", sort=None, filters=None, **kw):
    return CaseQuery(demo.cursor(), scope, _window(demo, key), demo.now, demo.settings, sort, filters, **kw)


def _names(demo, table, key):
    con = demo.cursor()
    return dict(con.execute(f"SELECT {key}, name FROM {table}").fetchall())


def test_count_without_filters_is_the_window_hand_count(demo):
    assert _query(demo).count() == len(_in_window(demo)) > 1000
    assert _query(demo, key="today").count() == len(_in_window(demo, "today")) > 0


def test_count_under_a_street_and_a_category_scope(demo):
    scope = Scope("330108003", categories=("PROP",), level="street")
    ev = _in_window(demo)
    expected = ev[(ev["street_id"] == "330108003") & (ev["category_l1"] == "PROP")]
    assert _query(demo, scope).count() == len(expected) > 0


@pytest.mark.parametrize("filters, pick", [
    ({"status": {"filterType": "text", "type": "equals", "filter": "CLOSED"}},
     lambda ev, d: ev["status"] == "closed"),
    ({"case_id": {"filterType": "text", "type": "endsWith", "filter": "7"}},
     lambda ev, d: ev["case_id"].str.endswith("7")),
    ({"satisfaction": {"filterType": "number", "type": "greaterThanOrEqual", "filter": 4}},
     lambda ev, d: ev["satisfaction"] >= 4),
    ({"satisfaction": {"filterType": "number", "type": "inRange", "filter": 2, "filterTo": 3}},
     lambda ev, d: ev["satisfaction"].between(2, 3)),
    ({"closed_at": {"filterType": "date", "type": "blank"}}, lambda ev, d: ev["closed_at"].isna()),
    ({"received_at": {"filterType": "date", "type": "equals", "dateFrom": "2026-11-20 00:00:00", "dateTo": None}},
     lambda ev, d: ev["received_at"].dt.date == pd.Timestamp("2026-11-20").date()),
    ({"closed_at": {"filterType": "date", "type": "inRange", "dateFrom": "2026-11-21 00:00:00",
                    "dateTo": "2026-11-22 00:00:00"}},
     lambda ev, d: ev["closed_at"].dt.date.between(pd.Timestamp("2026-11-21").date(), pd.Timestamp("2026-11-22").date())
     & ev["closed_at"].notna()),
    ({"urgency": {"filterType": "text", "operator": "OR", "conditions": [
        {"filterType": "text", "type": "equals", "filter": "urgent"},
        {"filterType": "text", "type": "blank"}]},
      "status": {"filterType": "text", "type": "notEqual", "filter": "closed"}},
     lambda ev, d: (ev["urgency"] == "urgent") & (ev["status"] != "closed")),
])
def test_column_filters_match_hand_counts(demo, filters, pick):
    ev = _in_window(demo)
    expected = int(pick(ev, demo).fillna(False).sum())
    assert _query(demo, filters=filters).count() == expected > 0


def test_name_filters_use_the_names_of_the_views_language(demo):
    ev = _in_window(demo)
    dep = _names(demo, "departments", "department_id")
    some = dep[ev["department_id"].iloc[0]]
    expected = (ev["department_id"].map(dep) == some).sum()
    f = {"department": {"filterType": "text", "type": "equals", "filter": some}}
    assert _query(demo, filters=f).count() == expected > 0
    # in English the same filter text matches nothing (the English names differ)
    assert _query(demo, filters=f, lang="en").count() == 0
    cat = _names(demo, "categories", "category_id")
    word = cat[ev["category_id"].iloc[0]][:2]
    f = {"category": {"filterType": "text", "type": "contains", "filter": word}}
    assert _query(demo, filters=f).count() == ev["category_id"].map(cat).str.contains(word, regex=False).sum()


def test_labels_are_what_filters_and_sorting_see(demo):
    labels = {"status": {"closed": "已办结", "in_progress": "处置中"}}
    f = {"status": {"filterType": "text", "type": "equals", "filter": "已办结"}}
    ev = _in_window(demo)
    assert _query(demo, filters=f, labels=labels).count() == (ev["status"] == "closed").sum() > 0
    page = _query(demo, filters=f, labels=labels).page(0, 5)
    assert set(page["status"]) == {"已办结"}


def _sorted_ids(ev, by, ascending):
    return ev.sort_values([by, "case_id"], ascending=[ascending, True], na_position="last")["case_id"].tolist()


def test_default_order_is_newest_first_and_pages_tile_the_table(demo):
    ev = _in_window(demo, "today")
    expected = _sorted_ids(ev, "received_at", False)
    q = _query(demo, key="today")
    got = []
    for offset in range(0, len(expected) + 40, 40):
        got += q.page(offset, 40)["case_id"].tolist()
    assert got == expected
    assert q.page(len(expected) + 100, 10).empty


def test_sort_on_a_name_column_with_a_filter_on_another(demo):
    ev = _in_window(demo)
    ev = ev[ev["urgency"] == "urgent"].assign(department=lambda d: d["department_id"].map(
        _names(demo, "departments", "department_id")))
    q = _query(demo, sort=[{"colId": "department", "sort": "desc"}],
               filters={"urgency": {"filterType": "text", "type": "equals", "filter": "urgent"}})
    assert q.count() == len(ev)
    page = q.page(10, 30)
    assert page["case_id"].tolist() == _sorted_ids(ev, "department", False)[10:40]
    assert list(page.columns[:len(COLUMNS)]) == list(COLUMNS)


def test_sort_on_closed_at_puts_open_cases_last_both_ways(demo):
    ev = _in_window(demo, "7d")
    for direction in ("asc", "desc"):
        q = _query(demo, key="7d", sort=[{"colId": "closed_at", "sort": direction}])
        tail = q.page(q.count() - 5, 5)
        assert tail["closed_at"].isna().all()
        head = q.page(0, 20)["case_id"].tolist()
        assert head == _sorted_ids(ev, "closed_at", direction == "asc")[:20]


def _overdue_ids(demo, ev):
    dl = deadlines(ev, SlaRules.from_settings(demo.settings), default_calendar(demo.settings), TZ, demo.now)
    close = dl[dl["stage"] == "close"].set_index("case_id")["due_at"]
    open_ = ev["closed_at"].isna() | (ev["closed_at"] >= demo.now)
    due = ev["case_id"].map(close)
    return set(ev.loc[open_ & due.notna() & (due < demo.now), "case_id"])


def test_overdue_flag_filter_and_sort_match_the_deadlines(demo):
    ev = _in_window(demo)
    expected = _overdue_ids(demo, ev)
    assert expected
    q = _query(demo, filters={"overdue": {"filterType": "text", "type": "equals", "filter": "yes"}})
    assert q.count() == len(expected)
    rows = pd.concat(list(q.iter_batches(10_000)))
    assert set(rows["case_id"]) == expected
    first = _query(demo, sort=[{"colId": "overdue", "sort": "desc"}]).page(0, len(expected))
    assert set(first["case_id"]) == expected and first["overdue_flag"].all()


def test_iter_batches_streams_the_table_in_order_up_to_the_limit(demo):
    q = _query(demo, key="7d", sort=[{"colId": "microgrid", "sort": "asc"}])
    batches = list(q.iter_batches(limit=1_000, batch_rows=300))
    assert [len(b) for b in batches] == [300, 300, 300, 100]
    ids = [cid for b in batches for cid in b["case_id"]]
    assert ids == q.page(0, 1_000)["case_id"].tolist()
    everything = sum(len(b) for b in q.iter_batches(limit=10**9))
    assert everything == q.count() == len(_in_window(demo, "7d"))


# --- hostile models ------------------------------------------------------------------------------------
@pytest.mark.parametrize("sort, filters", [
    ([{"colId": "summary", "sort": "asc"}], None),  # a real events column, but not one of the table's
    ([{"colId": "received_at; DROP TABLE events", "sort": "asc"}], None),
    ([{"colId": "received_at", "sort": "asc; --"}], None),
    ([{"colId": ["received_at"], "sort": "asc"}], None),
    (["received_at"], None),
    (None, {"e.case_id) OR (1=1": {"filterType": "text", "type": "equals", "filter": "x"}}),
    (None, {"case_id": {"filterType": "text", "type": "regexp", "filter": "x"}}),
    (None, {"case_id": {"filterType": "number", "type": "equals", "filter": 1}}),
    (None, {"satisfaction": {"filterType": "number", "type": "equals", "filter": "1 OR 1=1"}}),
    (None, {"satisfaction": {"filterType": "number", "type": "equals", "filter": float("nan")}}),
    (None, {"received_at": {"filterType": "date", "type": "equals", "dateFrom": "2026-11-20' OR '1'='1"}}),
    (None, {"received_at": {"filterType": "date", "type": "before", "dateFrom": "2026-11-20"}}),
    (None, {"status": {"filterType": "text", "operator": "XOR", "conditions": [{"type": "blank"}]}}),
    (None, {"status": {"filterType": "text", "type": "equals", "filter": {"nested": 1}}}),
    (None, ["status"]),
])
def test_hostile_models_are_refused_before_any_query(demo, sort, filters):
    with pytest.raises(GridModelError):
        _query(demo, sort=sort, filters=filters)


@pytest.mark.parametrize("value", ["x' OR '1'='1", "'; DROP TABLE events; --", "%", "_", "\\", "$f0", "/*scope:e*/"])
def test_sql_in_values_is_only_ever_a_bound_value(demo, value):
    f = {"case_id": {"filterType": "text", "type": "contains", "filter": value},
         "category": {"filterType": "text", "type": "notContains", "filter": value}}
    q = _query(demo, filters=f)
    assert q.count() == 0  # no case id contains any of these (and % or _ are not wildcards)
    text, params = q._filtered("cases_keys")
    assert value in params.values()
    if len(value) > 3 and not value.startswith("$"):  # short ones ("_", "$f0") occur in any query's text
        assert value not in text
    assert q.page(0, 10).empty
    everything = _query(demo, filters={"case_id": {"filterType": "text", "type": "notContains", "filter": value}})
    assert everything.count() == len(_in_window(demo))


def test_page_size_is_bounded(demo):
    q = _query(demo)
    with pytest.raises(GridModelError):
        q.page(0, MAX_PAGE + 1)
    with pytest.raises(GridModelError):
        q.page(-1, 10)


# --- one case ----------------------------------------------------------------------------------------
def _case(demo, pick):
    ev = demo.events
    return ev[pick(ev)].sort_values("case_id").iloc[0]


def test_lifecycle_of_an_open_case_matches_the_deadlines(demo):
    row = _case(demo, lambda ev: ev["closed_at"].isna() & ev["needs_dispatch"] & ev["accepted_at"].notna())
    life = case_lifecycle(demo.cursor(), row["case_id"], DISTRICT, demo.now, demo.settings)
    assert life is not None and life.case["case_id"] == row["case_id"]
    dl = deadlines(pd.DataFrame([row]), SlaRules.from_settings(demo.settings), default_calendar(demo.settings), TZ,
                   demo.now).set_index("stage")
    stages = life.stages.set_index("stage")
    assert list(stages.index) == ["accept", "dispatch", "close"]
    for stage in ("accept", "close"):
        assert stages.loc[stage, "due_at"] == dl.loc[stage, "due_at"]
        assert stages.loc[stage, "outcome"] == dl.loc[stage, "outcome"]
    assert stages.loc["close", "outcome"] == "pending"
    assert stages.loc["close", "seconds_left"] == pytest.approx(
        (dl.loc["close", "due_at"] - demo.now).total_seconds())


def test_lifecycle_says_not_applicable_and_respects_the_area(demo):
    row = _case(demo, lambda ev: ~ev["needs_dispatch"] & ev["closed_at"].notna() & (ev["status"] == "closed"))
    life = case_lifecycle(demo.cursor(), row["case_id"], DISTRICT, demo.now, demo.settings)
    stages = life.stages.set_index("stage")
    assert stages.loc["dispatch", "outcome"] == "not_applicable"
    assert stages.loc["close", "outcome"] in ("met", "breached")
    other_street = next(s for s in demo.events["street_id"].unique() if s != row["street_id"])
    assert case_lifecycle(demo.cursor(), row["case_id"], Scope(other_street, level="street"), demo.now,
                          demo.settings) is None
    assert case_lifecycle(demo.cursor(), "BJ' OR '1'='1", DISTRICT, demo.now, demo.settings) is None


def test_custom_window_ends_at_now(demo):
    w = Window.days(demo.now.date() - timedelta(days=2), demo.now.date() + timedelta(days=3), TZ)
    q = CaseQuery(demo.cursor(), DISTRICT, w, demo.now, demo.settings)
    start = datetime.combine(demo.now.date() - timedelta(days=2), datetime.min.time(), ZoneInfo(TZ))
    ev = demo.events
    assert q.count() == ((ev["received_at"] >= start) & (ev["received_at"] < demo.now)).sum()


@pytest.mark.parametrize("spec, pick", [
    ({"filterType": "text", "type": "notEqual", "filter": "已办结"}, lambda ev: ev["status"] != "closed"),
    ({"filterType": "text", "type": "contains", "filter": "in_"}, lambda ev: ev["status"] == "in_progress"),
    ({"filterType": "text", "operator": "OR", "conditions": [
        {"filterType": "text", "type": "startsWith", "filter": "已"},
        {"filterType": "text", "type": "equals", "filter": "RECEIVED"}]},
     lambda ev: ev["status"].isin(["closed", "received"])),
])
def test_coded_columns_filter_labels_and_unlabelled_codes_alike(demo, spec, pick):
    """Only ``closed`` has a label here: the other codes show, and are filtered, as themselves."""
    q = _query(demo, filters={"status": spec}, labels={"status": {"closed": "已办结"}})
    assert q.count() == pick(_in_window(demo)).sum() > 0
