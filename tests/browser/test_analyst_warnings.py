"""The warnings page in Chromium: counts equal the detectors, choices live in the URL, rows link to their cases.

Numbers are read off the rendered page (``data-key``/``data-value`` of the chips) and compared
with ``metrics.warnings`` called here on the same snapshot, scope and "as of" time (the page's
``data-as-of``). On the demo (clock pinned) and on LA's 2020 extract (as of its newest case).
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from urllib.parse import parse_qs, urlparse

import pytest
from selenium.webdriver.common.by import By

from dashboard.app import create_app
from data.snapshot import SnapshotReader
from metrics.scope import Scope
from metrics.warnings import efficiency_warnings, sla_ticker, surges
from tests.browser.analyst import PANEL_VALUES
from tests.browser.conftest import console_warnings, record_console_warnings, screenshot_dir, set_viewport, wait_until
from tests.conftest import FIXTURE_NOW, browser_sign_in
from tests.e2e.conftest import la2020  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser

VALUES = PANEL_VALUES
# the rendered rows of the grid (ag-grid draws the visible ones): [row id, level text, kind text, since]
ROWS = """
return [...document.querySelectorAll('#wr-grid .ag-center-cols-container .ag-row')]
  .sort((a, b) => Number(a.getAttribute('row-index')) - Number(b.getAttribute('row-index')))
  .map(r => [r.getAttribute('row-id'), r.querySelector('[col-id=level_text]').textContent.trim(),
             r.querySelector('[col-id=kind_text]').textContent.trim(), r.querySelector('[col-id=since]').textContent]);
"""
READY = "return document.querySelector('#wr-counts [data-key]') && (document.querySelector('#wr-list .an-msg') || " \
        "document.querySelector('#wr-grid .ag-row')) ? true : false"


def values(driver, panel: str) -> dict[str, str]:
    return driver.execute_script(VALUES % panel)


def open_page(dash_duo, settings, query: str, clock=lambda: FIXTURE_NOW, size=(1920, 1080)) -> str:
    app = create_app(settings, clock=clock)
    set_viewport(dash_duo.driver, *size)
    dash_duo.start_server(app, navigate=False)
    base = dash_duo.server.url.rstrip("/")
    browser_sign_in(dash_duo.driver, base, app)
    record_console_warnings(dash_duo.driver)
    dash_duo.driver.get(f"{base}/warnings{query}")
    wait_ready(dash_duo.driver)
    return base


def wait_ready(driver, what: str = "the warnings page") -> None:
    wait_until(lambda: driver.execute_script(READY), timeout=40, what=what)
    time.sleep(0.3)


def choose(driver, dropdown_id: str, text: str) -> None:
    """Pick ``text`` in a Dash 4 dropdown (a button that opens a list of options)."""
    driver.find_element(By.ID, dropdown_id).click()
    option = wait_until(lambda: driver.find_element(
        By.XPATH, f"//*[contains(@class, 'dash-dropdown-option') and normalize-space()='{text}']"),
        timeout=10, what=f"the option {text!r}")
    option.click()


def query_of(driver) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(driver.current_url).query).items()}


def as_of(driver) -> datetime:
    return datetime.fromisoformat(driver.execute_script(
        "return document.getElementById('an-as-of').dataset.asOf"))


def expected(settings, area: str, now: datetime) -> dict[str, int]:
    reader = SnapshotReader(settings.warehouse_dir, settings.timezone)
    con = reader.cursor()
    try:
        scope = Scope(area)
        ticker = sla_ticker(con, scope, now, settings, rows=0)
        found = surges(con, scope, now, settings) + efficiency_warnings(con, scope, now, settings)
    finally:
        con.close()
        reader.close()
    return {"kind.sla": ticker.breached + ticker.due_soon, "level.breached": ticker.breached,
            "kind.surge": sum(w.kind == "surge" for w in found),
            "kind.efficiency": sum(w.kind == "efficiency" for w in found),
            "red+amber": ticker.due_soon + len(found)}


def shoot(driver, name: str) -> None:
    driver.save_screenshot(str(screenshot_dir() / name))


def test_warnings_counts_choices_in_the_url_and_links_on_the_demo(dash_duo, small_demo):
    base = open_page(dash_duo, small_demo, "?lang=en")
    driver = dash_duo.driver
    assert dash_duo.get_logs() == []
    assert console_warnings(driver) == []  # e.g. AG Grid's "invalid colDef property" for a made-up key
    got = {k: int(v) for k, v in values(driver, "wr-counts").items()}
    want = expected(small_demo, "330108", as_of(driver))
    assert as_of(driver) == FIXTURE_NOW
    for key in ("kind.sla", "level.breached", "kind.surge", "kind.efficiency"):
        assert got[key] == want[key], key
    assert got["level.red"] + got["level.amber"] == want["red+amber"]
    total = want["kind.sla"] + want["kind.surge"] + want["kind.efficiency"]
    note = driver.find_element(By.CSS_SELECTOR, "#wr-list .wr-shown")
    assert int(note.get_attribute("data-total")) == total
    rows = driver.execute_script(ROWS)
    assert int(note.get_attribute("data-shown")) == min(200, total)
    assert rows[0][1] == "■ Breached" and rows[0][2] == "SLA risk"
    # places are named as on every other page, never shown as ids (G068-4)
    places = driver.execute_script("return [...document.querySelectorAll('#wr-grid .ag-center-cols-container "
                                   "[col-id=area]')].map(c => c.textContent.trim())")
    assert places and all(p and not re.fullmatch(r"[A-Z]?\d[\d-]*|G\d+-\d+", p) for p in places), places[:5]
    if total > 200:
        assert f"first 200 of {total:,}" in note.text
    shoot(driver, "analyst-warnings-1920x1080.png")

    # a kind, then a level, then an order: each in the URL, each surviving a reload
    choose(driver, "wr-kind", "SLA risk")
    wait_until(lambda: query_of(driver).get("kind") == "sla", what="kind=sla in the URL")
    wait_until(lambda: {r[2] for r in driver.execute_script(ROWS)} == {"SLA risk"}, what="only SLA rows")
    wait_ready(driver)
    choose(driver, "wr-level", "Red")
    wait_until(lambda: query_of(driver).get("level") == "red", what="level=red in the URL")
    wait_until(lambda: {(r[1], r[2]) for r in driver.execute_script(ROWS)} == {("▲ Red", "SLA risk")},
               what="only red SLA rows")
    wait_ready(driver)
    choose(driver, "wr-sort", "Newest first")
    wait_until(lambda: query_of(driver).get("sort") == "newest", what="sort=newest in the URL")
    assert query_of(driver) == {"lang": "en", "kind": "sla", "level": "red", "sort": "newest"}
    wait_ready(driver)
    # the list is re-drawn in the new order: read it once it is back (it may be empty for a moment)
    before = wait_until(lambda: [r[0] for r in driver.execute_script(ROWS)], what="the red rows, newest first")
    driver.refresh()
    wait_ready(driver, "the page after a reload")
    assert query_of(driver) == {"lang": "en", "kind": "sla", "level": "red", "sort": "newest"}
    after = wait_until(lambda: [r[0] for r in driver.execute_script(ROWS)], what="the rows after the reload")
    assert after == before
    shown = driver.find_element(By.CSS_SELECTOR, "#wr-list .wr-shown")
    assert int(shown.get_attribute("data-total")) == int(values(driver, "wr-counts")["level.red"])
    assert driver.find_element(By.ID, "wr-sort").text.strip().startswith("Newest first")
    # newest first: receipt times do not increase down the list
    since = [r[3] for r in driver.execute_script(ROWS)]
    assert since and since == sorted(since, reverse=True)

    # an SLA row links to its case
    first = driver.find_element(By.CSS_SELECTOR, "#wr-grid .ag-center-cols-container .ag-row[row-index='0']")
    case = first.get_attribute("row-id")
    first.find_element(By.CSS_SELECTOR, "[col-id=link] a").click()
    wait_until(lambda: urlparse(driver.current_url).path == "/cases", what="the cases page")
    assert query_of(driver).get("case") == case

    # a surge links to the cases of its area and category over today
    driver.get(f"{base}/warnings?kind=surge&lang=en")
    wait_ready(driver)
    if want["kind.surge"]:
        row = driver.find_element(By.CSS_SELECTOR, "#wr-grid .ag-center-cols-container .ag-row")
        area, category = row.get_attribute("row-id").split("|")
        href = row.find_element(By.CSS_SELECTOR, "[col-id=link] a").get_attribute("href")
        q = {k: v[0] for k, v in parse_qs(urlparse(href).query).items()}
        assert urlparse(href).path == "/cases" and q["scope"] == area and q["cat"] == category
        assert q["win"] in ("today", "custom")
    assert dash_duo.get_logs() == []


def test_warnings_empty_state_and_the_small_screen(dash_duo, small_demo):
    open_page(dash_duo, small_demo, "?cat=NO-SUCH&lang=en", size=(1366, 768))
    driver = dash_duo.driver
    msg = driver.find_element(By.CSS_SELECTOR, "#wr-list .an-msg")
    assert msg.get_attribute("data-msg") == "empty" and "No warnings match" in msg.text
    assert set(values(driver, "wr-counts").values()) == {"0"}
    driver.get(driver.current_url.split("?")[0] + "?lang=en")
    wait_ready(driver)
    overflow = driver.execute_script("return document.documentElement.scrollWidth > window.innerWidth")
    assert not overflow
    shoot(driver, "analyst-warnings-1366x768.png")
    assert dash_duo.get_logs() == []


def test_warnings_on_la_as_of_its_newest_case(dash_duo, la2020):  # noqa: F811
    open_page(dash_duo, la2020, "?lang=en", clock=None)
    driver = dash_duo.driver
    now = as_of(driver)
    district = driver.execute_script("return document.querySelector('#an-breadcrumb [data-area]').dataset.area")
    got = {k: int(v) for k, v in values(driver, "wr-counts").items()}
    want = expected(la2020, district, now)
    for key in ("kind.sla", "level.breached", "kind.surge", "kind.efficiency"):
        assert got[key] == want[key], key
    shoot(driver, "analyst-warnings-la-1920x1080.png")
    assert dash_duo.get_logs() == []
