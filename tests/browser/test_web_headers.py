"""The app's defences in Chromium (``dashboard/web.py``): the wall and analyst pages (MapLibre, ag-grid) run under the
Content-Security-Policy with an empty console and no policy violation, the bundles arrive compressed,
and no real request comes near the request size limit."""

from __future__ import annotations

import json

import pytest

from tests.browser.analyst import goto, start
from tests.browser.conftest import console_warnings, record_console_warnings, wait_until
from tests.browser.test_wall import READY as WALL_READY
from tests.conftest import FIXTURE_NOW

pytestmark = pytest.mark.browser

# Registered before any page script runs (DevTools scripts are not subject to the page's policy).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""
RESOURCES = """
return performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation'))
  .map(e => ({name: e.name, encoded: e.encodedBodySize, decoded: e.decodedBodySize}));
"""


def _violations(driver) -> list[str]:
    return driver.execute_script("return window.__cspViolations || ['(the recorder did not run)']")


def _request_bodies(driver) -> list[tuple[str, int]]:
    """(URL, bytes of the body) of every request with a body since the log was last read (DevTools network log)."""
    bodies = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            request = message["params"]["request"]
            if request.get("hasPostData") or request.get("postData"):
                size = sum(len(e.get("bytes", "")) * 3 // 4 for e in request.get("postDataEntries", []))
                bodies.append((request["url"], max(size, len(request.get("postData", "").encode()))))
    return bodies


def _policy_of(driver, url: str) -> str:
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => done(r.headers.get('content-security-policy') || ''), e => done(String(e)));",
        url)


@pytest.mark.parametrize("size", [(1920, 1080), (3840, 2160)])
def test_pages_run_under_the_policy_with_an_empty_console_and_compressed_bundles(dash_duo, small_demo, size):
    driver = dash_duo.driver
    base = start(dash_duo, small_demo, size=size, clock=lambda: FIXTURE_NOW)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_VIOLATIONS})
    record_console_warnings(driver)  # warnings too: dash.testing's get_logs() sees errors only
    driver.get_log("performance")  # start the network log from here
    biggest: list[tuple[str, int]] = []

    driver.get(f"{base}/wall")
    wait_until(lambda: driver.execute_script(WALL_READY), timeout=60, what="the wall to draw")
    assert _violations(driver) == [], "/wall"
    assert console_warnings(driver) == [], "/wall"
    assert "script-src 'self' 'sha256-" in _policy_of(driver, f"{base}/wall")
    entries = driver.execute_script(RESOURCES)
    biggest += _request_bodies(driver)

    for path in ("/", "/map", "/backlog", "/departments", "/resources", "/cases", "/warnings", "/briefings"):
        if path in ("/cases", "/briefings"):  # a grid or a list, not panels
            driver.get(f"{base}{path}")
        else:
            goto(dash_duo, f"{base}{path}", timeout=60)
        if path == "/map":
            wait_until(lambda: driver.execute_script(
                "return !!document.querySelector('.js-plotly-plot .geo path.choroplethlocation')"),
                what="the map's areas")
        if path == "/cases":
            wait_until(lambda: driver.execute_script("return document.querySelectorAll('#cs-grid .ag-row [col-id=\"case_id\"]').length > 0"),
                       what="the cases grid's rows")
        assert _violations(driver) == [], path
        assert console_warnings(driver) == [], path
        entries += driver.execute_script(RESOURCES)
        biggest += _request_bodies(driver)

    assert dash_duo.get_logs() == []

    # compressed on the wire: every script and style sheet of ours above 1 KB, plotly's 4.8 MB bundle above all
    plotly = [e for e in entries if "/plotly/" in e["name"] and e["name"].endswith(".js")]
    assert plotly, sorted({e["name"] for e in entries})
    for entry in plotly:
        if entry["decoded"]:  # 0 when it came from the browser's cache on a later page
            assert entry["encoded"] < entry["decoded"] / 3, entry
    texts = [e for e in entries if e["decoded"] > 1024 and e["encoded"]
             and e["name"].split("?")[0].endswith((".js", ".css", "_dash-layout", "_dash-dependencies"))]
    assert len(texts) >= 8
    for entry in texts:
        assert entry["encoded"] < entry["decoded"], entry

    # the biggest request a real page sends stays far under the limit (docs/serving.md)
    assert biggest, "no request with a body was seen"
    url, largest = max(biggest, key=lambda b: b[1])
    print(f"largest request body at {size}: {largest} bytes ({url})")
    assert largest * 20 < small_demo.max_request_bytes, (url, largest)
