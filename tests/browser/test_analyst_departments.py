"""The analyst departments page (/departments) in Chromium: the table off the page against metrics, sorting in the URL.

Each number cell carries ``data-key`` (``<column>:<department>``) and ``data-value`` (the raw
value; empty where nothing was measured); the tests compare them with
:func:`metrics.departments.department_table` and, for the footer and one department, with
:func:`metrics.vitals.vital_signs` (the overview's numbers).
"""

from __future__ import annotations

import pytest

from data.snapshot import SnapshotReader
from metrics.departments import ALL_KEY, COLUMNS, JOINT_KEY, department_table
from metrics.scope import Scope, Window
from metrics.vitals import vital_signs
from tests.browser.conftest import set_viewport, wait_until
from tests.browser.test_analyst_backlog import OVERFLOW, as_of, query, shoot, start
from tests.conftest import FIXTURE_NOW
from tests.e2e.conftest import la2020  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser

CELLS = """
const t = document.getElementById(arguments[0]);
if (!t) return null;
const out = {};
for (const el of t.querySelectorAll('[data-key]')) out[el.dataset.key] = el.dataset.value;
return out;
"""
ORDER = "return [...document.querySelectorAll('#dep-table-t tbody tr')].map(r => r.dataset.row)"
READY = "return !!(document.getElementById('dep-table-t') || document.querySelector('#dep-table .an-msg'))"
VITALS = {"received": "received", "accept_1min_pct": "accept_1min_pct", "dispatch_5min_pct": "dispatch_5min_pct",
          "close_on_time_urgent_pct": "close_on_time_urgent_pct", "close_on_time_other_pct": "close_on_time_other_pct",
          "median_accept_s": "median_accept_s", "median_dispatch_s": "median_dispatch_s",
          "median_close_h": "median_close_h", "open": "open_backlog", "overdue": "overdue_open"}


def ready(driver, sort: str | None = None) -> None:
    wait_until(lambda: driver.execute_script(READY) and (
        sort is None or driver.execute_script("return document.getElementById('dep-table-t').dataset.sort") == sort),
        timeout=40, what=f"the departments table (sort {sort})")


def same(shown: str, value) -> bool:
    if value is None or value != value:  # None or NaN: nothing measured
        return shown == ""
    return shown != "" and float(shown) == pytest.approx(float(value), rel=1e-9)


def check_table(driver, settings, scope: Scope, window_key: str, now) -> None:
    cur = SnapshotReader(settings.warehouse_dir, settings.timezone).cursor()
    scope = scope.resolved(cur)
    window = Window.named(window_key, now, settings.timezone)
    table = department_table(cur, scope, window, now, settings)
    cells = driver.execute_script(CELLS, "dep-table-t")
    for row in [*table.rows.to_dict("records"), table.total.iloc[0].to_dict()]:
        for col in COLUMNS:
            assert same(cells[f"{col}:{row['key']}"], row[col]), (row["key"], col, cells[f"{col}:{row['key']}"])
    joint = driver.execute_script(CELLS, "dep-joint-t")
    if table.joint.iloc[0]["received"] == 0 and table.joint.iloc[0]["open"] == 0:  # LA has no joint handling
        assert joint is None and driver.execute_script("return !!document.querySelector('#dep-joint .an-msg-empty')")
    else:
        for col in COLUMNS:
            assert same(joint[f"{col}:{JOINT_KEY}"], table.joint.iloc[0][col]), col
    # the footer is the vital signs of the scope, the first row those of its department alone
    first = driver.execute_script(ORDER)[0]
    for key, one in ((ALL_KEY, scope), (first, Scope(scope.area_id, departments=(first,), level=scope.level))):
        vs = vital_signs(cur, one, window, now, settings).by_key()
        for col, vkey in VITALS.items():
            assert same(cells[f"{col}:{key}"], vs[vkey].value), (key, col)


def test_numbers_equal_metrics_and_the_page_fits(dash_duo, small_demo):
    start(dash_duo, small_demo, "/departments?win=30d")
    driver = dash_duo.driver
    ready(driver)
    check_table(driver, small_demo, Scope("330108"), "30d", FIXTURE_NOW)
    assert len(driver.execute_script(ORDER)) == 14
    # one unit down a column, in the page's language (a column mixed "107 s" and "2.0 min")
    units = driver.execute_script(
        "const u = {}; for (const c of document.querySelectorAll('#dep-table td[data-key^=median_]')) {"
        " const k = c.dataset.key.split(':')[0]; const w = c.textContent.trim().split(' ').pop();"
        " if (c.textContent.trim() !== '—') (u[k] = u[k] || new Set()).add(w); }"
        " return Object.fromEntries(Object.entries(u).map(([k, v]) => [k, [...v]]));")
    assert units == {"median_accept_s": ["秒"], "median_dispatch_s": ["秒"], "median_close_h": ["小时"]}, units
    assert driver.execute_script(OVERFLOW) == []
    shoot(driver, "analyst-departments-1920x1080.png")
    set_viewport(driver, 1366, 768)
    driver.refresh()
    ready(driver)
    assert driver.execute_script(OVERFLOW) == []
    shoot(driver, "analyst-departments-1366x768.png")
    assert dash_duo.get_logs() == []


def test_sorting_lives_in_the_url_survives_a_reload_and_goes_back(dash_duo, small_demo):
    start(dash_duo, small_demo, "/departments?win=30d&scope=330108002")
    driver = dash_duo.driver
    ready(driver, "-received")
    received = driver.execute_script(CELLS, "dep-table-t")
    order = driver.execute_script(ORDER)
    assert [float(received[f"received:{k}"]) for k in order] == sorted(
        (float(received[f"received:{k}"]) for k in order), reverse=True)
    driver.find_element("id", "dep-sort-close_on_time_other_pct").click()
    wait_until(lambda: query(driver).get("sort") == "-close_on_time_other_pct", what="the sort in the URL")
    ready(driver, "-close_on_time_other_pct")

    def rates():
        cells = driver.execute_script(CELLS, "dep-table-t")
        return [cells[f"close_on_time_other_pct:{k}"] for k in driver.execute_script(ORDER)]

    shown = [float(v) for v in rates() if v != ""]
    assert shown == sorted(shown, reverse=True) and len(shown) > 5
    assert all(v == "" for v in rates()[len(shown):])  # nothing due: last
    driver.refresh()
    ready(driver, "-close_on_time_other_pct")
    assert query(driver) == {"win": "30d", "scope": "330108002", "sort": "-close_on_time_other_pct"}
    driver.find_element("id", "dep-sort-close_on_time_other_pct").click()  # a second click turns it round
    ready(driver, "close_on_time_other_pct")
    shown = [float(v) for v in rates() if v != ""]
    assert shown == sorted(shown)
    check_table(driver, small_demo, Scope("330108002"), "30d", FIXTURE_NOW)
    driver.back()
    ready(driver, "-close_on_time_other_pct")
    assert query(driver)["sort"] == "-close_on_time_other_pct"
    assert dash_duo.get_logs() == []


def test_a_filter_matching_nothing_shows_the_empty_state(dash_duo, small_demo):
    start(dash_duo, small_demo, "/departments?cat=NO-SUCH-CATEGORY")
    driver = dash_duo.driver
    wait_until(lambda: driver.execute_script(
        "return document.querySelector('#dep-table .an-msg-empty') && document.querySelector('#dep-joint .an-msg-empty')"),
        timeout=40, what="the empty state in both panels")
    assert dash_duo.get_logs() == []


def test_la_departments_without_acceptance_or_dispatch(dash_duo, la2020):  # noqa: F811 - the imported fixture
    start(dash_duo, la2020, "/departments?lang=en", clock=None)
    driver = dash_duo.driver
    ready(driver)
    now = as_of(driver)
    cur = SnapshotReader(la2020.warehouse_dir, la2020.timezone).cursor()
    district = cur.execute("SELECT area_id FROM areas WHERE level = 'district'").fetchone()[0]
    check_table(driver, la2020, Scope(district), "7d", now)
    note = driver.execute_script("return document.querySelector('#dep-table .dep-not-recorded').innerText")
    assert "acceptance and dispatch" in note
    cells = driver.execute_script(CELLS, "dep-table-t")
    assert all(v == "" for k, v in cells.items() if k.split(":")[0] in (
        "accept_1min_pct", "dispatch_5min_pct", "median_accept_s", "median_dispatch_s"))
    shoot(driver, "analyst-departments-la2020-1920x1080.png")
    assert dash_duo.get_logs() == []
