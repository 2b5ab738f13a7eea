"""LA's real 2020 extract on the wall, in Chromium: its own level names, English, as of its newest case.

The deployment is built by the example's commands (``tests/e2e/conftest.py``); the app runs with
no pinned clock, as a real server would, so the wall must find by itself that the data is
historical and show it as of 2020-01-03 14:22 Los Angeles time, not as an empty "today".
"""

from __future__ import annotations

import time

import pytest

from dashboard.app import create_app
from tests.browser.conftest import set_viewport, wait_until
from tests.browser.test_wall import OVERFLOW, dom, external_requests, leave, shoot
from tests.conftest import browser_sign_in
from tests.e2e.conftest import la2017, la2020  # noqa: F401  (the fixtures)

pytestmark = pytest.mark.browser

READY = """
const plot = document.querySelector('#wall-map-box .js-plotly-plot');
const tile = document.querySelector('.gp-vital[data-key="received"] .gp-vital-num');
const banner = document.querySelector('.gp-status .gp-historical');
return !!(plot && plot._fullData && plot._fullData.length === 2 && plot.data[0].geojson && tile && banner);
"""


NEWEST = {"la2020": "2020-01-03 14:22", "la2017": "2017-12-31 23:59"}


@pytest.mark.parametrize(("extract", "size"), [("la2020", (1920, 1080)), ("la2020", (3840, 2160)),
                                               ("la2017", (1920, 1080))], ids=["2020-1080p", "2020-2160p", "2017-1080p"])
def test_the_la_wall_speaks_in_la_terms_as_of_its_newest_case(dash_duo, request, extract, size):
    settings = request.getfixturevalue(extract)
    app = create_app(settings)  # no clock: the wall clock, as in production
    set_viewport(dash_duo.driver, *size)
    dash_duo.start_server(app, navigate=False)
    base = dash_duo.server.url.rstrip("/")
    browser_sign_in(dash_duo.driver, base, app)
    driver = dash_duo.driver
    driver.get(f"{base}/wall")
    wait_until(lambda: driver.execute_script(READY), timeout=40, what="the LA wall to draw")
    text = dom(driver, "return document.body.innerText")
    assert "Los Angeles" in dom(driver, "return document.querySelector('.gp-header').innerText")
    assert f"Data as of {NEWEST[extract]} (historical)" in text and "Loaded" in text  # not two "as of" times
    assert "Neighborhood Council" in text or "Region" in text
    for slot_word in ("Street", "Micro-grid", "街道", "网格"):
        assert slot_word not in text, slot_word
    # the day of the newest case has cases: the wall is not an empty "today"
    assert dom(driver, "return document.querySelector('.gp-vital[data-key=\"received\"] .gp-vital-num')"
                       ".textContent") not in ("", "0", "—")
    assert dom(driver, OVERFLOW) == []
    # the clock stands at the data's newest case (it used to tick on past midnight into a day with no data)
    clock = "return document.getElementById('wall-clock-time').textContent"
    first = dom(driver, clock)
    time.sleep(2.5)
    assert dom(driver, clock) == first and first.startswith(NEWEST[extract][-5:])
    time.sleep(1.5)
    shoot(driver, f"{extract}-wall-{size[0]}x{size[1]}.png")
    assert external_requests(driver, base) == []
    assert dash_duo.get_logs() == []
    # the analyst overview on the same deployment: English (the deployment's language), its numbers
    driver.get(f"{base}/")
    wait_until(lambda: dom(driver, "const e = document.querySelector('.gp-vital[data-key=\"received\"] "
                                   ".gp-vital-num'); return e && e.textContent"), timeout=40, what="the overview")
    assert "Overview" in dom(driver, "return document.querySelector('.an-nav').innerText")
    assert external_requests(driver, base) == [] and dash_duo.get_logs() == []
    leave(driver)
