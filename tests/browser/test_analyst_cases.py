"""/cases in headless Chromium over a warehouse of one million cases.

The page must load with an empty console, show the count and the rows metrics.cases gives for the
same view (read off the rendered page), page and sort on the server, export exactly the filtered
rows, show the empty state for a filter that matches nothing, and open a case's lifecycle from
``?case=`` and from a click (which writes ``case=`` into the URL).
"""

from __future__ import annotations

import csv
import io
import json
import time
import urllib.request
from urllib.parse import parse_qs, urlparse

import pytest

from dashboard.analyst import exports
from dashboard.app import create_app
from data.snapshot import SnapshotReader
from metrics.cases import CaseQuery, case_lifecycle
from metrics.scope import Scope, Window
from tests.browser.conftest import screenshot_dir, set_viewport, wait_until
from tests.browser.conftest_million import million  # noqa: F401 - the session fixture
from tests.conftest import FIXTURE_NOW, browser_cookies, browser_sign_in

pytestmark = pytest.mark.browser



def _district(con) -> Scope:
    """The warehouse's own district (its id comes from the data, never from the test)."""
    return Scope(con.execute("SELECT area_id FROM areas WHERE level = 'district'").fetchone()[0], level="district")

COUNT = "const b = document.querySelector('#cs-count b[data-value]'); return b ? Number(b.dataset.value) : null;"
ROWS = """
const rows = [...document.querySelectorAll('#cs-grid .ag-center-cols-container .ag-row')]
  .filter(r => r.querySelector('[col-id="case_id"]') && r.querySelector('[col-id="case_id"]').textContent);
rows.sort((a, b) => Number(a.getAttribute('row-index')) - Number(b.getAttribute('row-index')));
return rows.map(r => [Number(r.getAttribute('row-index')), r.querySelector('[col-id="case_id"]').textContent]);
"""
API = "const api = dash_ag_grid.getApi('cs-grid');"


def _open(dash_duo, settings, query: str, size=(1920, 1080)):
    app = create_app(settings, clock=lambda: FIXTURE_NOW)
    set_viewport(dash_duo.driver, *size)
    dash_duo.start_server(app, navigate=False)
    base = dash_duo.server.url.rstrip("/")
    browser_sign_in(dash_duo.driver, base, app)
    dash_duo.driver.get(f"{base}/cases{query}")
    return base


def _query(settings, window="90d", sort=None, filters=None) -> CaseQuery:
    con = SnapshotReader(settings.warehouse_dir, settings.timezone).cursor()
    return CaseQuery(con, _district(con), Window.named(window, FIXTURE_NOW, settings.timezone), FIXTURE_NOW, settings,
                     sort, filters, lang="zh", labels=exports.labels("zh"))


def _rows(driver, first: int = 0):
    """The rendered rows' (index, case id) once the grid shows rows from ``first`` on."""
    return wait_until(lambda: (r := driver.execute_script(ROWS)) and r[0][0] == first and r, timeout=40,
                      what=f"rows from {first}")


def _count(driver, not_value=None):
    return wait_until(lambda: (n := driver.execute_script(COUNT)) is not None and n != not_value and [n],
                      timeout=40, what="the count")[0]


def test_pages_and_sorts_a_million_cases(dash_duo, million):  # noqa: F811
    settings = million.settings
    _open(dash_duo, settings, "?win=90d")
    driver = dash_duo.driver
    q = _query(settings)
    n = _count(driver)
    assert n == q.count() > 990_000
    rows = _rows(driver)
    expected = q.page(0, 50)["case_id"].tolist()
    assert [cid for _, cid in rows] == expected[:len(rows)] and len(rows) >= 15
    text = driver.find_element("css selector", "#cs-count b").text
    assert text.replace(",", "").startswith(str(n))
    driver.save_screenshot(str(screenshot_dir() / "analyst-cases-1920x1080.png"))

    # the next page comes from the server
    started = time.monotonic()
    driver.execute_script(API + "api.paginationGoToNextPage();")
    rows = _rows(driver, 50)
    assert [cid for _, cid in rows] == q.page(50, 50)["case_id"].tolist()[:len(rows)]
    page_seconds = time.monotonic() - started

    # a click on a header sorts on the server, and the sort goes into the URL
    driver.find_element("css selector", '.ag-header-cell[col-id="department"] .ag-header-cell-label').click()
    wait_until(lambda: "sort=department" in driver.current_url, what="the sort in the URL")
    by_department = _query(settings, sort=[{"colId": "department", "sort": "asc"}])
    want = by_department.page(0, 50)["case_id"].tolist()
    rows = wait_until(lambda: (r := driver.execute_script(ROWS)) and r[0][1] == want[0] and r, timeout=40,
                      what="the sorted rows")
    assert [cid for _, cid in rows] == want[:len(rows)]
    assert dash_duo.get_logs() == []
    print(f"\n[cases] next page of 1M cases shown in {page_seconds:.2f} s (browser round trip)")


def test_csv_export_holds_the_filtered_count(dash_duo, million):  # noqa: F811
    settings = million.settings
    base = _open(dash_duo, settings, "?win=today")
    driver = dash_duo.driver
    total = _count(driver)
    _rows(driver)
    model = {"urgency": {"filterType": "text", "type": "equals", "filter": "紧急"}}
    driver.execute_script(API + f"api.setFilterModel({json.dumps(model)});")
    filtered = _count(driver, not_value=total)
    assert 0 < filtered < total
    assert filtered == _query(settings, "today", filters=model).count()
    href = wait_until(lambda: (h := driver.find_element("css selector", "#cs-export-csv").get_attribute("href"))
                      and "filter=" in h and h, what="the export link to carry the filter")
    assert json.loads(parse_qs(urlparse(href).query)["filter"][0]) == model
    cookie = "; ".join(f"{k}={v}" for k, v in browser_cookies(dash_duo.driver).items())  # signed in as the page is
    request = urllib.request.Request(href if href.startswith("http") else base + href, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=60) as response:
        rows = list(csv.reader(io.StringIO(response.read().decode("utf-8-sig"))))
    assert len(rows) - 1 == filtered
    assert {r[rows[0].index("紧急程度")] for r in rows[1:]} == {"紧急"}
    assert dash_duo.get_logs() == []


def test_a_filter_that_matches_nothing_shows_the_empty_state(dash_duo, million):  # noqa: F811
    _open(dash_duo, million.settings, "?win=today")
    driver = dash_duo.driver
    _count(driver)
    driver.execute_script(API + "api.setFilterModel({case_id: {filterType: 'text', type: 'equals', filter: 'none'}});")
    wait_until(lambda: driver.execute_script(COUNT) == 0, timeout=40, what="a count of 0")
    msg = wait_until(lambda: driver.find_element("css selector", "#cs-message .an-msg-empty"), what="the empty state")
    assert "没有符合当前筛选条件的事件" in msg.text
    assert dash_duo.get_logs() == []


def test_case_in_the_url_opens_its_lifecycle_and_a_click_writes_it(dash_duo, million):  # noqa: F811
    settings = million.settings
    q = _query(settings, "today")
    case_id = q.page(3, 1)["case_id"].iloc[0]
    _open(dash_duo, settings, f"?win=today&case={case_id}", size=(1366, 768))
    driver = dash_duo.driver
    title = wait_until(lambda: driver.find_element("css selector", f'#cs-side.cs-open [data-case="{case_id}"]'),
                       what="the lifecycle")
    assert case_id in title.text
    cur = SnapshotReader(settings.warehouse_dir, settings.timezone).cursor()
    life = case_lifecycle(cur, case_id, _district(cur),
                          FIXTURE_NOW, settings)
    shown = {el.get_attribute("data-stage"): el.get_attribute("data-outcome")
             for el in driver.find_elements("css selector", "#cs-side [data-stage]")}
    assert shown == dict(zip(life.stages["stage"], life.stages["outcome"], strict=True))
    _rows(driver)
    driver.save_screenshot(str(screenshot_dir() / "analyst-cases-lifecycle-1366x768.png"))

    # a click on another row opens that case and puts it into the URL
    other = q.page(0, 1)["case_id"].iloc[0]
    driver.find_element("css selector", f'#cs-grid .ag-row[row-id="{other}"] [col-id="category"]').click()
    wait_until(lambda: driver.find_elements("css selector", f'#cs-side [data-case="{other}"]'), what="the clicked case")
    wait_until(lambda: f"case={other}" in driver.current_url, what="the case in the URL")
    driver.find_element("css selector", "#cs-side-close").click()
    wait_until(lambda: "case=" not in driver.current_url and not driver.find_elements(
        "css selector", "#cs-side.cs-open"), what="the panel to close")
    assert dash_duo.get_logs() == []
