"""The oldest open cases against pandas: which cases, in which order, their age and overdue flag."""

from __future__ import annotations

import pandas as pd
import pytest

from metrics.calendar import default_calendar
from metrics.cases_open import OPEN_COLUMNS, oldest_open
from metrics.grids import grid_aggregates
from metrics.scope import Scope, Window
from metrics.sla import SlaRules, deadlines

TZ = "Asia/Shanghai"


def _open_at(ev: pd.DataFrame, now) -> pd.DataFrame:
    """Open at ``now`` (docs/metrics.md): received before it, not closed or cancelled before it."""
    return ev[(ev["received_at"] < now) & (ev["closed_at"].isna() | (ev["closed_at"] >= now))]


@pytest.mark.parametrize("scope", [Scope("330108002", level="street"),
                                   Scope("330108", categories=("ENV",), level="district")], ids=["street", "env"])
def test_oldest_open_are_the_first_received_of_the_open_cases(demo, scope):
    got = oldest_open(demo.cursor(), scope, demo.now, demo.settings, n=15)
    assert list(got.columns) == list(OPEN_COLUMNS)
    ev = demo.events
    if scope.area_id != "330108":
        ev = ev[ev["street_id"] == scope.area_id]
    if scope.categories:
        ev = ev[ev["category_l1"].isin(scope.categories) | ev["category_id"].isin(scope.categories)]
    expected = _open_at(ev, demo.now).sort_values(["received_at", "case_id"]).head(15)
    assert len(expected) == 15  # the fixture has a backlog, so the test compares something
    assert got["case_id"].tolist() == expected["case_id"].tolist()
    ages = (pd.Timestamp(demo.now) - expected["received_at"]).dt.total_seconds().to_numpy()
    assert got["age_s"].to_numpy() == pytest.approx(ages)
    assert got["age_s"].is_monotonic_decreasing
    # overdue: the close deadline of metrics.sla (the independent Python rules) has passed
    dl = deadlines(expected, SlaRules.from_settings(demo.settings), default_calendar(demo.settings), TZ, demo.now)
    close = dl[dl["stage"] == "close"].set_index("case_id")["due_at"]
    assert got["overdue"].tolist() == [bool(close[c] < demo.now) for c in got["case_id"]]
    assert got["category_name"].notna().all() and got["department_name"].notna().all()


def test_all_open_cases_equal_the_open_count_of_the_area(demo):
    scope = Scope("G010", level="grid")
    window = Window.named("7d", demo.now, TZ)
    agg = grid_aggregates(demo.cursor(), scope, "grid", window, demo.now, demo.settings)
    n_open = int(agg["open"].iloc[0])
    assert n_open > 0
    got = oldest_open(demo.cursor(), scope, demo.now, demo.settings, n=n_open + 10)
    assert len(got) == n_open
    assert int(got["overdue"].sum()) == int(agg["overdue"].iloc[0])


def test_none_asked_none_given_and_a_negative_count_is_refused(demo):
    assert oldest_open(demo.cursor(), Scope("330108"), demo.now, demo.settings, n=0).empty
    with pytest.raises(ValueError):
        oldest_open(demo.cursor(), Scope("330108"), demo.now, demo.settings, n=-1)
