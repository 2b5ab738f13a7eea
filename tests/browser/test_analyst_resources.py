"""The resources page in Chromium: tiles and rows equal ``metrics.resources``, a filter in the URL, LA's empty state.

Numbers are read off the rendered page (``data-key``/``data-value``) and compared with
``metrics.resources`` and the vital signs called here on the same snapshot and scope.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from data.snapshot import SnapshotReader
from metrics.resources import resources_by_area, resources_now
from metrics.scope import Scope, Window
from metrics.vitals import vital_signs
from tests.browser.analyst import PANEL_VALUES, start
from tests.browser.conftest import screenshot_dir, set_viewport, wait_until
from tests.conftest import FIXTURE_NOW
from tests.e2e.conftest import la2020  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser

VALUES = PANEL_VALUES
READY = """
const done = id => document.querySelector('#' + id + ' [data-key], #' + id + ' .an-msg');
return !!(done('rs-totals') && done('rs-areas') && done('rs-assets'));
"""


def values(driver, panel: str) -> dict[str, str]:
    return driver.execute_script(VALUES % panel)


def wait_ready(driver) -> None:
    wait_until(lambda: driver.execute_script(READY), timeout=40, what="the resources page")




def query_of(driver) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(driver.current_url).query).items()}


def metrics_of(settings, scope: Scope, level: str | None):
    reader = SnapshotReader(settings.warehouse_dir, settings.timezone)
    con = reader.cursor()
    try:
        total = resources_now(con, scope, FIXTURE_NOW, settings)
        rows = resources_by_area(con, scope, level, FIXTURE_NOW, settings) if level else None
        window = Window.named("7d", FIXTURE_NOW, settings.timezone)
        vs = {m.key: m.value for m in vital_signs(con, scope, window, FIXTURE_NOW, settings).metrics}
    finally:
        con.close()
        reader.close()
    return total, rows, vs


def test_resources_numbers_equal_the_metrics_and_a_filter_lives_in_the_url(dash_duo, small_demo):
    base = start(dash_duo, small_demo)
    driver = dash_duo.driver
    driver.get(f"{base}/resources?lang=en")
    wait_ready(driver)
    assert dash_duo.get_logs() == []
    tiles = values(driver, "rs-totals")
    total, rows, vs = metrics_of(small_demo, Scope("330108"), "street")
    for key in ("residents", "people", "floating", "housing_units", "rental_units", "enterprises", "cameras_offline",
                "cameras", "staff", "staff_on_duty", "vehicles_free", "aeds", "hydrants"):
        assert int(tiles[key]) == total[key], key
    assert float(tiles["cameras_online_pct"]) == pytest.approx(vs["cameras_online_pct"], abs=0.05)
    assert float(tiles["staff_on_duty_pct"]) == pytest.approx(vs["staff_on_duty_pct"], abs=0.05)
    assert float(tiles["enterprises_per_10k"]) == pytest.approx(total["enterprises_per_10k"], abs=0.05)
    cells = values(driver, "rs-areas")
    for r in rows.to_dict("records"):
        for col in ("people", "housing_units", "enterprises", "cameras", "cameras_offline", "staff", "staff_on_duty"):
            assert int(cells[f"{r['area_id']}.{col}"]) == r[col], (r["area_id"], col)
        assert float(cells[f"{r['area_id']}.cameras_per_10k"]) == pytest.approx(r["cameras_per_10k"], abs=0.05)
    status = values(driver, "rs-assets")
    assert int(status["camera.offline"]) == total["cameras_offline"]
    driver.save_screenshot(str(screenshot_dir() / "analyst-resources-1920x1080.png"))

    # a department in the filter bar: in the URL, the staff narrowed, the same after a reload
    for attempt in range(3):  # the filter bar may still be settling right after the panels drew
        driver.find_element(By.ID, "an-f-department").click()
        option = wait_until(lambda: driver.find_element(
            By.XPATH, "//*[contains(@class, 'dash-dropdown-option') and contains(normalize-space(), 'City Management')]"),
            timeout=10, what="a department option")
        option.click()
        driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)  # a multi choice is sent when the list closes
        try:
            wait_until(lambda: "dep" in query_of(driver), timeout=10, what="dep in the URL")
            break
        except AssertionError:
            if attempt == 2:
                raise
            driver.find_element(By.TAG_NAME, "body").click()
    dep = query_of(driver)["dep"]
    narrowed, _, vs_dep = metrics_of(small_demo, Scope("330108", departments=(dep,)), None)
    wait_until(lambda: values(driver, "rs-totals").get("staff") == str(narrowed["staff"]), what="the staff narrowed")
    driver.refresh()
    wait_ready(driver)
    assert query_of(driver).get("dep") == dep
    tiles = values(driver, "rs-totals")
    assert int(tiles["staff"]) == narrowed["staff"] and int(tiles["staff_on_duty"]) == narrowed["staff_on_duty"]
    assert float(tiles["staff_on_duty_pct"]) == pytest.approx(vs_dep["staff_on_duty_pct"], abs=0.05)
    assert int(tiles["cameras"]) == total["cameras"]  # cameras belong to no department

    # drill into a street by its row: the street's communities
    driver.get(f"{base}/resources?lang=en")
    wait_ready(driver)
    street = rows["area_id"].iloc[0]
    driver.find_element(By.XPATH, f"//td[@data-key='{street}.people']/../td[1]/a").click()
    wait_until(lambda: query_of(driver).get("scope") == street, what="the street's page")
    wait_ready(driver)
    _, communities, _ = metrics_of(small_demo, Scope(street), "community")
    cells = values(driver, "rs-areas")
    assert {k.split(".")[0] for k in cells} == set(communities["area_id"])
    set_viewport(driver, 1366, 768)
    driver.save_screenshot(str(screenshot_dir() / "analyst-resources-1366x768.png"))
    assert dash_duo.get_logs() == []


def test_la_has_no_resource_data_and_says_so(dash_duo, la2020):  # noqa: F811
    base = start(dash_duo, la2020, clock=None)
    driver = dash_duo.driver
    driver.get(f"{base}/resources?lang=en")
    wait_ready(driver)
    for panel in ("rs-totals", "rs-areas", "rs-assets"):
        msg = driver.find_element(By.CSS_SELECTOR, f"#{panel} .an-msg")
        assert "No resource data loaded" in msg.text, panel
        assert values(driver, panel) == {}
    driver.save_screenshot(str(screenshot_dir() / "analyst-resources-la-1920x1080.png"))
    assert dash_duo.get_logs() == []
