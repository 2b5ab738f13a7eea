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
from tests.e2e.conftest import la2020  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser

READY = """
const plot = document.querySelector('#wall-map-box .js-plotly-plot');
const tile = document.querySelector('.gp-vital[data-key="received"] .gp-vital-num');
const banner = document.querySelector('.gp-status .gp-historical');
return !!(plot && plot._fullData && plot._fullData.length === 2 && plot.data[0].geojson && tile && banner);
"""


@pytest.mark.parametrize("size", [(1920, 1080), (3840, 2160)], ids=["1080p", "2160p"])
def test_the_la_wall_speaks_in_la_terms_as_of_its_newest_case(dash_duo, la2020, size):  # noqa: F811
    app = create_app(la2020)  # no clock: the wall clock, as in production
    set_viewport(dash_duo.driver, *size)
    dash_duo.start_server(app, navigate=False)
    base = dash_duo.server.url.rstrip("/")
    driver = dash_duo.driver
    driver.get(f"{base}/wall")
    wait_until(lambda: driver.execute_script(READY), timeout=40, what="the LA wall to draw")
    text = dom(driver, "return document.body.innerText")
    assert "Los Angeles" in dom(driver, "return document.querySelector('.gp-header').innerText")
    assert "Data as of 2020-01-03 14:22 (historical)" in text and "Loaded" in text  # not two "as of" times
    assert "Neighborhood Council" in text or "Region" in text
    for slot_word in ("Street", "Micro-grid", "街道", "网格"):
        assert slot_word not in text, slot_word
    # the day of the newest case has cases: the wall is not an empty "today"
    assert dom(driver, "return document.querySelector('.gp-vital[data-key=\"received\"] .gp-vital-num')"
                       ".textContent") not in ("", "0", "—")
    assert dom(driver, OVERFLOW) == []
    time.sleep(1.5)
    shoot(driver, f"la-wall-{size[0]}x{size[1]}.png")
    assert external_requests(driver, base) == []
    assert dash_duo.get_logs() == []
    leave(driver)
