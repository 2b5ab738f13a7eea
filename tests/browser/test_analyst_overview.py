"""The overview (``/``) and the frame every analyst page shares, in Chromium.

Numbers are read off the rendered page and compared with ``metrics/`` for the same scope, window and
"as of" time; the filter bar's state lives in the URL (reload, back button); failures and empty
filters show messages, never a stack trace.
"""

from __future__ import annotations

import re
import sys
import time

import duckdb
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from dashboard.analyst.state import ViewState
from data.snapshot import read_current
from metrics.breakdown import received_by
from metrics.scope import Scope
from metrics.vitals import vital_signs
from metrics.warnings import sla_ticker
from tests.browser.analyst import data_values, goto, pick, ready, start, text_of
from tests.browser.conftest import set_viewport, wait_until
from tests.browser.test_wall import external_requests, shoot
from tests.conftest import FIXTURE_NOW
from tests.e2e.conftest import la2020  # noqa: F401,F811  (the fixture)

pytestmark = pytest.mark.browser

# dcc.Loading's indicator (type="dot") inside a panel
SPINNER = ".an-loading [class*='dash-spinner'], .an-loading [class*='dot']"


def _snapshot(settings) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(read_current(settings.current_file).path), read_only=True)
    con.execute("SET TimeZone = ?", [settings.timezone])
    return con


def _district(con) -> str:
    return con.execute("SELECT area_id FROM areas WHERE level = 'district'").fetchone()[0]


def _tile(dash_duo, key: str) -> str:
    """The tile's number, once the tile is drawn (after a filter change the page is laid out anew)."""
    return wait_until(lambda: text_of(dash_duo, f'.gp-vital[data-key="{key}"] .gp-vital-num'), what=f"tile {key}")


def _expected_tile(metric) -> str:
    from dashboard.components.format import value_parts

    return value_parts(metric.value, metric.unit, "zh")[0]


def test_overview_numbers_equal_the_metrics_and_the_page_is_self_contained(dash_duo, small_demo):
    base = start(dash_duo, small_demo)
    goto(dash_duo, f"{base}/?win=30d")
    con = _snapshot(small_demo)
    district = _district(con)
    scope = Scope(district, level="district")
    window = ViewState(window="30d").window_at(FIXTURE_NOW, small_demo.timezone)
    vs = vital_signs(con.cursor(), scope, window, FIXTURE_NOW, small_demo).by_key()
    for key in ("received", "open_backlog", "overdue_open", "close_on_time_other_pct", "satisfaction_pct", "per_10k"):
        assert _tile(dash_duo, key) == _expected_tile(vs[key]), key
    top = received_by(con.cursor(), scope, window, FIXTURE_NOW, "category", small_demo, limit=10)
    shown = data_values(dash_duo, "#ov-categories-table td[data-key]")
    assert shown == {str(k): str(v) for k, v in zip(top["key"], top["cases"], strict=True)}
    ticker = sla_ticker(con.cursor(), scope, FIXTURE_NOW, small_demo, rows=0)
    chips = dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('.an-chip-num')].map(e => e.dataset.value)")
    assert chips[:2] == [str(ticker.breached), str(ticker.due_soon)]
    assert "近30天" in text_of(dash_duo, "#an-window-text")
    assert external_requests(dash_duo.driver, base) == []
    shoot(dash_duo.driver, "analyst-overview-1920x1080.png")
    set_viewport(dash_duo.driver, 1366, 768)
    time.sleep(0.5)
    shoot(dash_duo.driver, "analyst-overview-1366x768.png")
    assert dash_duo.get_logs() == []


def test_a_filter_change_is_a_url_that_survives_a_reload_and_back_steps_through_it(dash_duo, small_demo):
    base = start(dash_duo, small_demo)
    goto(dash_duo, f"{base}/")
    driver = dash_duo.driver
    before = _tile(dash_duo, "received")
    pick(dash_duo, "an-f-window", "近30天", until=lambda: driver.current_url.endswith("/?win=30d"))
    ready(dash_duo)
    wait_until(lambda: "近30天" in text_of(dash_duo, "#an-window-text"), what="the header to name the window")
    month = _tile(dash_duo, "received")
    assert month != before
    pick(dash_duo, "an-f-urgency", "紧急", until=lambda: "urg=urgent" in driver.current_url)
    ready(dash_duo)
    urgent = _tile(dash_duo, "received")
    assert int(urgent.replace(",", "")) < int(month.replace(",", ""))
    driver.refresh()
    ready(dash_duo)
    assert _tile(dash_duo, "received") == urgent and "win=30d&urg=urgent" in driver.current_url
    driver.back()
    wait_until(lambda: driver.current_url.endswith("/?win=30d"), what="back to the previous filters")
    ready(dash_duo)
    wait_until(lambda: _tile(dash_duo, "received") == month, what="the numbers of the previous filters")
    assert dash_duo.get_logs() == []


def test_several_picks_in_one_list_are_one_change_and_the_list_speaks_chinese(dash_duo, small_demo):
    """A multi-choice filter stays open while the analyst picks, and changes the address (and the history)
    once, when it closes; its own controls (select all, search) are in the page's language."""
    driver = dash_duo.driver
    start(dash_duo, small_demo, "/?win=30d")  # not the default window: it stays in every URL
    ready(dash_duo)
    driver.find_element(By.ID, "an-f-channel").click()
    shown = "return [...document.querySelectorAll('.dash-dropdown-option')].filter(o => o.offsetParent)"
    options = wait_until(lambda: driver.execute_script(shown)[:2] if len(driver.execute_script(shown)) >= 2 else None,
                         what="the channel options")
    words = driver.execute_script("return [...document.querySelectorAll('.dash-dropdown-action-button, "
                                  ".dash-dropdown-search, .dash-dropdown-search input')]"
                                  ".map(e => e.textContent.trim() || e.placeholder || '')")
    assert "全选" in words and "搜索" in words and not {"Select All", "Search"} & set(words), words
    options[0].click()
    time.sleep(1.0)
    assert driver.current_url.endswith("/?win=30d")  # nothing sent while the list is open
    driver.execute_script(shown)[1].click()  # the list is still open: a second pick
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    wait_until(lambda: re.search(r"ch=[^&]+%2C|ch=[^&]+,", driver.current_url), what="both channels in the URL")
    driver.back()
    wait_until(lambda: "ch=" not in driver.current_url and "win=30d" in driver.current_url,
               what="one step back to no channel")
    assert dash_duo.get_logs() == []


def _page_module(name: str):
    """The module Dash loaded for a page (Dash imports ``dashboard/pages/x.py`` as ``pages.x``)."""
    return sys.modules[f"pages.{name}"]


def test_an_empty_filter_says_so_and_a_failing_panel_does_not_take_the_page_down(dash_duo, small_demo, monkeypatch):
    def broken(view):
        raise RuntimeError("boom: this must not reach the browser")

    base = start(dash_duo, small_demo)
    monkeypatch.setattr(_page_module("overview"), "_areas", broken)
    goto(dash_duo, f"{base}/?cat=NO-SUCH-CATEGORY")
    assert dash_duo.driver.execute_script(
        "return document.querySelector('#ov-categories [data-msg]').dataset.msg") == "empty"
    assert "没有符合" in text_of(dash_duo, "#ov-categories")
    assert _tile(dash_duo, "received") == "0"
    areas = text_of(dash_duo, "#ov-areas")
    assert "无法计算" in areas and "boom" not in areas and "Traceback" not in areas
    assert dash_duo.driver.execute_script("return document.querySelector('#ov-areas [data-msg]').dataset.msg") == "error"
    assert dash_duo.get_logs() == []


def test_a_slow_panel_shows_a_loading_indicator(dash_duo, small_demo, monkeypatch):
    base = start(dash_duo, small_demo)
    overview = _page_module("overview")
    real = overview._categories

    def slow(view):
        time.sleep(2.5)
        return real(view)

    monkeypatch.setattr(overview, "_categories", slow)
    dash_duo.driver.get(f"{base}/")
    spinner = "return !!document.querySelector('#ov-categories') && !!document.querySelector(arguments[0])"
    wait_until(lambda: dash_duo.driver.execute_script(spinner, SPINNER), timeout=10,
               what="a loading indicator on the slow panel")
    ready(dash_duo)
    assert not dash_duo.driver.execute_script(spinner, SPINNER)  # and it goes away
    ready(dash_duo)
    assert dash_duo.get_logs() == []


def test_english_and_the_wall_links(dash_duo, small_demo):
    base = start(dash_duo, small_demo)
    goto(dash_duo, f"{base}/?lang=en")
    nav = text_of(dash_duo, ".an-nav")
    for word in ("Overview", "Map", "Backlog", "Cases", "Walls"):
        assert word in nav
    assert "总览" not in nav
    hrefs = dash_duo.driver.execute_script("return [...document.querySelectorAll('.an-nav-wall')].map(a => a.href)")
    assert any(h.endswith("/wall?lang=en") for h in hrefs)
    dash_duo.driver.find_element("id", "an-lang").click()
    wait_until(lambda: "lang=zh" in dash_duo.driver.current_url, what="the switch to Chinese")
    # The URL changes first; the router lays the page out again a moment later.
    wait_until(lambda: "总览" in text_of(dash_duo, ".an-nav"), what="the navigation in Chinese")
    ready(dash_duo)
    assert dash_duo.get_logs() == []


def test_the_la_overview_speaks_in_la_terms_as_of_its_newest_case(dash_duo, la2020):  # noqa: F811
    base = start(dash_duo, la2020, clock=None)
    goto(dash_duo, f"{base}/?lang=en&win=7d", timeout=60)
    text = dash_duo.driver.execute_script("return document.body.innerText")
    assert "Data as of 2020-01-03 14:22" in text
    assert "Neighborhood Council" in text or "Region" in text
    for slot_word in (r"\bStreets?\b", r"\bMicro-grids?\b", "街道", "网格"):  # LA's categories say "Streetlight"
        assert not re.search(slot_word, text), slot_word
    con = _snapshot(la2020)
    district = _district(con)
    from dashboard.runtime import Runtime

    now = Runtime(la2020).now()
    window = ViewState(window="7d").window_at(now, la2020.timezone)
    vs = vital_signs(con.cursor(), Scope(district, level="district"), window, now, la2020).by_key()
    assert _tile(dash_duo, "received") == _expected_tile(vs["received"])
    assert _tile(dash_duo, "accept_1min_pct") == "—"  # LA records no acceptance time
    shoot(dash_duo.driver, "analyst-overview-la2020-1920x1080.png")
    assert dash_duo.get_logs() == []


def test_an_area_found_by_name_becomes_the_scope_and_the_breadcrumb(dash_duo, small_demo):
    con = _snapshot(small_demo)
    community, name, street = con.execute(
        "SELECT c.area_id, c.name, s.name FROM areas c JOIN areas s ON s.area_id = c.street_id "
        "WHERE c.level = 'community' ORDER BY c.area_id LIMIT 1").fetchone()
    base = start(dash_duo, small_demo)
    goto(dash_duo, f"{base}/")
    driver = dash_duo.driver
    driver.find_element("id", "an-f-scope").click()
    search = wait_until(lambda: [i for i in driver.find_elements("css selector", "input.dash-dropdown-search")
                                 if i.is_displayed()], what="the area search box")[0]
    search.send_keys(name)
    option = wait_until(lambda: [o for o in driver.find_elements("xpath", "//*[@role='option']")
                                 if o.is_displayed() and o.text.startswith(name)], timeout=40,
                        what="the area among the options")
    assert street in option[0].text  # the street tells namesakes apart
    option[0].click()
    wait_until(lambda: f"scope={community}" in driver.current_url, what="the URL to name the area")
    ready(dash_duo)
    crumbs = wait_until(lambda: name in text_of(dash_duo, "#an-breadcrumb") and text_of(dash_duo, "#an-breadcrumb"),
                        what="the breadcrumb to reach the area")
    assert [c.strip() for c in crumbs.split("›")][-2:] == [street, name]
    assert dash_duo.get_logs() == []
