"""metrics.departments: every department's row equals the vital signs of a one-department scope."""

from __future__ import annotations

import re

import duckdb
import numpy as np
import pandas as pd
import pytest

from data.snapshot import SnapshotReader
from metrics import sqlfiles
from metrics.backlog import backlog_series
from metrics.departments import (
    ALL_KEY,
    JOINT_KEY,
    RouteScope,
    _grouped,
    department_table,
    median,
    sort_rows,
    trend_granularity,
)
from metrics.scope import Scope, Window
from metrics.vitals import vital_signs
from tests.e2e.conftest import la2020  # noqa: F401  (the fixture)

TZ = "Asia/Shanghai"
# department-table column -> vital-sign key
SAME_AS_VITALS = {"received": "received", "accept_1min_pct": "accept_1min_pct",
                  "dispatch_5min_pct": "dispatch_5min_pct", "close_on_time_urgent_pct": "close_on_time_urgent_pct",
                  "close_on_time_other_pct": "close_on_time_other_pct", "median_accept_s": "median_accept_s",
                  "median_dispatch_s": "median_dispatch_s", "median_close_h": "median_close_h",
                  "satisfaction_pct": "satisfaction_pct",
                  "open": "open_backlog", "overdue": "overdue_open"}


def _same(a, b) -> bool:
    if a is None or (isinstance(a, float) and pd.isna(a)):
        return b is None
    return b is not None and a == pytest.approx(b, rel=1e-9)


@pytest.mark.parametrize(("key", "scope"), [("7d", Scope("330108")),
                                             ("30d", Scope("330108003", urgency="urgent"))], ids=["district", "street"])
def test_rows_equal_vital_signs_of_one_department(demo, key, scope):
    w = Window.named(key, demo.now, TZ)
    table = department_table(demo.cursor(), scope, w, demo.now, demo.settings)
    assert len(table.rows) == 14 and table.rows["received"].is_monotonic_decreasing
    for row in table.rows.to_dict("records"):
        one = Scope(scope.area_id, departments=(row["key"],), urgency=scope.urgency)
        vs = vital_signs(demo.cursor(), one, w, demo.now, demo.settings).by_key()
        for col, vkey in SAME_AS_VITALS.items():
            assert _same(row[col], vs[vkey].value), (row["key"], col, row[col], vs[vkey].value)
        assert sum(row["trend"]) == row["received"]
    vs = vital_signs(demo.cursor(), scope, w, demo.now, demo.settings).by_key()
    total = table.total.iloc[0].to_dict()
    assert total["key"] == ALL_KEY
    for col, vkey in SAME_AS_VITALS.items():
        assert _same(total[col], vs[vkey].value), col
    assert table.rows["received"].sum() == total["received"]
    assert len(table.trend_starts) == len(total["trend"]) and sum(total["trend"]) == total["received"]
    # the trends against the backlog series' inflow (another query, the same buckets)
    series = backlog_series(demo.cursor(), scope, w, demo.now, demo.settings, table.trend_gran, by="department")
    assert list(series["start"].drop_duplicates()) == table.trend_starts
    for row in table.rows.to_dict("records"):
        inflow = series[series["key"] == row["key"]]["inflow"].tolist()
        assert row["trend"] == (inflow or [0] * len(table.trend_starts)), row["key"]


def test_joint_cases_against_pandas(demo):
    w = Window.named("30d", demo.now, TZ)
    table = department_table(demo.cursor(), Scope("330108"), w, demo.now, demo.settings)
    ev = demo.events
    joint = ev[ev["route"] == "joint"]
    received = joint[(joint["received_at"] >= w.start) & (joint["received_at"] < w.end)]
    j = table.joint.iloc[0]
    assert j["key"] == JOINT_KEY and j["received"] == len(received) > 0
    ends = [*table.trend_starts[1:], w.end]
    assert j["trend"] == [((received["received_at"] >= a) & (received["received_at"] < b)).sum()
                          for a, b in zip(table.trend_starts, ends, strict=True)]
    open_now = joint[(joint["received_at"] < demo.now) & (joint["closed_at"].isna() | (joint["closed_at"] >= demo.now))]
    assert j["open"] == len(open_now)
    per_dep = received.groupby("department_id").size()
    got = table.rows.set_index("key")["joint"]
    assert got.sum() == len(received)
    for dep, n in per_dep.items():
        assert got[dep] == n
    # the joint row's rates are the vital signs of the joint cases (a route filter on the scope)
    vs = vital_signs(demo.cursor(), RouteScope("330108", route="joint"), w, demo.now, demo.settings).by_key()
    for col, vkey in SAME_AS_VITALS.items():
        assert _same(j[col], vs[vkey].value), col


def test_department_filter_narrows_the_list_and_nothing_matches(demo):
    w = Window.named("7d", demo.now, TZ)
    table = department_table(demo.cursor(), Scope("330108", departments=("D-CG", "S-XX")), w, demo.now,
                             demo.settings)
    assert sorted(table.rows["key"]) == ["D-CG", "S-XX"]
    none = department_table(demo.cursor(), Scope("330108", categories=("NO-SUCH",)), w, demo.now, demo.settings)
    assert (none.rows["received"] == 0).all() and none.total.iloc[0]["received"] == 0
    assert none.rows["close_on_time_other_pct"].isna().all()


def test_route_scope_adds_its_filter():
    sql, params = RouteScope("330108", level="district", route="joint").predicate("e")
    assert sql.endswith("AND e.route = $s_route") and params["s_route"] == "joint"
    assert RouteScope("330108", level="district").predicate("e") == Scope("330108", level="district").predicate("e")
    assert RouteScope("330108", route="joint").has_filters


def test_grouping_fails_loudly_when_the_shared_sql_changes():
    sql, _ = sqlfiles.render("vitals_windows", Scope("330108", level="district"), slots=1)
    grouped = _grouped(sql)
    assert "/*by:" not in grouped and "median(" not in grouped and grouped.count("list(") == 3
    assert "USING (dep, jnt, k)" in grouped
    with pytest.raises(RuntimeError, match="vitals_windows.sql changed"):
        _grouped(sql.replace("median(", "quantile_cont(", 1))
    with pytest.raises(RuntimeError, match="vitals_windows.sql changed"):
        _grouped(re.sub(r"/\*by:.*?\*/", "", sql, flags=re.S))


def test_median_of_parts_is_duckdbs_median_exactly():
    """The roll-up's median equals DuckDB's median of the same values bit for bit (odd, even, ties, one, none)."""
    rng = np.random.default_rng(11)
    con = duckdb.connect()
    for n in (1, 2, 3, 10, 11, 1000, 1001, 4096):
        values = rng.lognormal(3.0, 1.5, n) / 1e6 * rng.integers(1, 10**7, n)
        if n > 10:
            values[: n // 5] = values[n // 5]  # ties
        parts = np.array_split(rng.permutation(values), 4)
        got = median([*parts, None, np.empty(0)])
        want = con.execute("SELECT median(v) FROM (SELECT unnest($v) AS v)", {"v": values.tolist()}).fetchone()[0]
        assert got == want, (n, got, want)
    assert median([None, np.empty(0)]) is None


def test_sort_rows():
    rows = pd.DataFrame({"key": ["a", "b", "c"], "name": ["乙", "甲", "丙"], "name_en": ["B", "A", "C"],
                         "received": [5, 9, 1], "close_on_time_other_pct": [80.0, None, 95.0]})
    assert sort_rows(rows, "received")["key"].tolist() == ["c", "a", "b"]
    assert sort_rows(rows, "-received")["key"].tolist() == ["b", "a", "c"]
    assert sort_rows(rows, "-close_on_time_other_pct")["key"].tolist() == ["c", "a", "b"]
    assert sort_rows(rows, "close_on_time_other_pct")["key"].tolist() == ["a", "c", "b"]
    assert sort_rows(rows, "name", "en")["key"].tolist() == ["b", "a", "c"]
    assert sort_rows(rows, "drop table")["key"].tolist() == ["b", "a", "c"]


def test_trend_granularity(demo):
    assert trend_granularity(Window.named("today", demo.now, TZ)) == "hour"
    assert trend_granularity(Window.named("30d", demo.now, TZ)) == "day"
    assert trend_granularity(Window.named("90d", demo.now, TZ)) == "week"


def test_la_records_no_acceptance_or_dispatch(la2020):  # noqa: F811 - the imported fixture
    reader = SnapshotReader(la2020.warehouse_dir, la2020.timezone)
    con = reader.cursor()
    newest = con.execute("SELECT max(received_at) FROM events").fetchone()[0]
    district = con.execute("SELECT area_id FROM areas WHERE level = 'district'").fetchone()[0]
    w = Window.named("7d", newest, la2020.timezone)
    table = department_table(con, Scope(district), w, newest, la2020)
    assert set(table.not_recorded) == {"accept", "dispatch"}
    assert table.rows["accept_1min_pct"].isna().all() and table.rows["median_dispatch_s"].isna().all()
    assert table.total.iloc[0]["received"] > 0 and table.rows["received"].sum() == table.total.iloc[0]["received"]
    vs = vital_signs(con, Scope(district), w, newest, la2020).by_key()
    assert _same(table.total.iloc[0]["close_on_time_other_pct"], vs["close_on_time_other_pct"].value)
    assert _same(table.total.iloc[0]["median_close_h"], vs["median_close_h"].value)
