"""The briefings page in Chromium: the archive listed, the preview loaded, the download served, runs and refusals.

The archive holds two briefings made by the tests (blank PDFs, a sidecar and a PNG; see
``tests/dashboard/test_briefings_page.py``) and the run log one failed scheduled run, so nothing
needs the writer. The generate button really starts a process: on a branch without the writer it
fails at once, and the page shows that failure in words; with the writer it may also be running or done.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from selenium.webdriver.common.by import By

from dashboard import ids
from dashboard.briefing import jobs, listing
from tests.browser.analyst import goto, pick, start, text_of
from tests.browser.conftest import screenshot_dir, set_viewport, wait_until
from tests.conftest import browser_cookies
from tests.dashboard.test_briefings_page import DISTRICT, STREET, make_report, record_failed_run, with_reports

pytestmark = pytest.mark.browser

ERROR = "PreflightError: Chromium not found: apt-get install chromium"
ROWS = "return [...document.querySelectorAll('#br-table tr.br-row')].map(r => r.dataset.key)"
IMAGE_LOADED = """
const img = document.getElementById(arguments[0]);
return !!(img && img.complete && img.naturalWidth > 0) && img.getAttribute('src');
"""


@pytest.fixture
def archived(small_demo, tmp_path):
    """The demo with two archived briefings (district W46 in Chinese, a street's W47 in English) and a failed run."""
    settings = with_reports(small_demo, tmp_path)
    make_report(settings, DISTRICT, "滨江区", "2026-W46", pages=3)
    make_report(settings, STREET, "长河街道", "2026-W47", lang="en", partial=False)
    record_failed_run(settings, ERROR)
    yield settings
    for process, _ in list(listing._STARTED.values()):  # a briefing this test started and that still runs
        if process.is_alive():
            process.terminate()
            process.join(10)


def test_the_archive_is_listed_previewed_and_downloadable_and_failures_are_shown(dash_duo, archived):
    base = start(dash_duo, archived)
    driver = dash_duo.driver
    goto(dash_duo, f"{base}/briefings")
    assert driver.execute_script(ROWS) == [f"{STREET}/2026-W47.en.pdf", f"{DISTRICT}/2026-W46.pdf"]
    table = text_of(dash_duo, "#br-table")
    assert "2026-11-16 – 11-22" in table and "2026-11-09 – 11-15" in table and "长河街道" in table
    # the newest is previewed by default; its image loads from the preview route
    src = wait_until(lambda: driver.execute_script(IMAGE_LOADED, ids.BR_IMAGE), what="the preview image")
    assert f"/analyst/briefings/preview/{STREET}/2026-W47.en.pdf" in src
    href = driver.find_element(By.ID, ids.BR_DOWNLOAD).get_attribute("href")
    resp = requests.get(href, timeout=10, cookies=browser_cookies(dash_duo.driver))  # signed in as the page is
    assert resp.status_code == 200 and resp.content.startswith(b"%PDF")
    assert "GridPulse-330108002-2026-W47-en.pdf" in resp.headers["Content-Disposition"]
    # the failed scheduled run, in words
    runs = text_of(dash_duo, f"#{ids.BR_RUNS}")
    assert "失败" in runs and "定时任务" in runs and ERROR in runs
    driver.save_screenshot(str(screenshot_dir() / "analyst-briefings-1920.png"))
    # a click on the other row previews and offers that one
    driver.find_element(By.CSS_SELECTOR, f"tr.br-row[data-key='{DISTRICT}/2026-W46.pdf']").click()
    wait_until(lambda: "/330108/2026-W46.pdf" in (driver.execute_script(IMAGE_LOADED, ids.BR_IMAGE) or ""),
               what="the clicked briefing's preview")
    assert driver.find_element(By.ID, ids.BR_DOWNLOAD).get_attribute("href").endswith("/330108/2026-W46.pdf")
    assert "br-row-on" in driver.find_element(By.CSS_SELECTOR, f"tr[data-key='{DISTRICT}/2026-W46.pdf']") \
        .get_attribute("class")
    assert requests.get(base + "/analyst/briefings/download/..%2F..%2Fsettings.py", timeout=10,
                        cookies=browser_cookies(dash_duo.driver)).status_code == 404
    assert dash_duo.get_logs() == []


def test_english_an_area_and_the_generate_form(dash_duo, archived):
    base = start(dash_duo, archived)
    driver = dash_duo.driver
    set_viewport(driver, 1366, 768)
    goto(dash_duo, f"{base}/briefings?scope={STREET}&lang=en")
    assert driver.execute_script(ROWS) == [f"{STREET}/2026-W47.en.pdf"]  # the street sees its own briefing only
    assert "Archived briefings" in text_of(dash_duo, ".an-grid") and "English" in text_of(dash_duo, "#br-table")
    assert text_of(dash_duo, ".an-nav-on") == "Briefings"
    driver.save_screenshot(str(screenshot_dir() / "analyst-briefings-1366-en.png"))
    before = [r["run"] for r in jobs.runs(archived)]

    def week_shown(week: str) -> bool:
        return text_of(dash_duo, f"#{ids.BR_WEEK}").startswith(week)

    # this week (2026-W48 at the fixture's Wednesday) without "partial": refused, nothing started
    pick(dash_duo, ids.BR_WEEK, "2026-W48 · 2026-11-23 – 11-29 (in progress)", until=lambda: week_shown("2026-W48"))
    driver.find_element(By.ID, ids.BR_GO).click()
    wait_until(lambda: "is not over yet" in text_of(dash_duo, f"#{ids.BR_FORM_MSG}"), what="the refusal")
    assert "2026-11-29" in text_of(dash_duo, f"#{ids.BR_FORM_MSG}")
    time.sleep(1)
    assert [r["run"] for r in jobs.runs(archived)] == before
    driver.save_screenshot(str(screenshot_dir() / "analyst-briefings-1366-refused.png"))
    # a finished week: a run of its own process, recorded in the log and shown by the page
    pick(dash_duo, ids.BR_WEEK, "2026-W47 · 2026-11-16 – 11-22", until=lambda: week_shown("2026-W47"))
    driver.find_element(By.ID, ids.BR_GO).click()
    wait_until(lambda: any(w in text_of(dash_duo, f"#{ids.BR_FORM_MSG}") for w in
                           ("has started", "Not written", "is written and archived")), what="the run to start")
    run = wait_until(lambda: [r for r in jobs.runs(archived) if r["run"] not in before], timeout=60,
                     what="the run in the log")[0]
    assert (run["trigger"], run["week"], run["scope"], run["partial"]) == ("page", "2026-W47", STREET, False)
    assert run["status"] in ("running", "ok", "failed")
    row = "const r = document.querySelector(`#br-runs-table tr[data-run='${arguments[0]}']`);"
    try:  # the page shows the run's outcome once its process is done (at once without the writer)
        shown = wait_until(lambda: driver.execute_script(
            row + "return r && r.dataset.status !== 'running' ? [r.dataset.status, r.innerText] : null", run["run"]),
            timeout=150, what="the page to show the run's outcome")
    except AssertionError:  # a real briefing still being written on a slow machine: shown as running
        assert next(r for r in jobs.runs(archived) if r["run"] == run["run"])["status"] == "running"
        assert driver.execute_script(row + "return r && r.dataset.status", run["run"]) == "running"
        assert "Writing" in driver.execute_script(row + "return r.innerText", run["run"])
        shown = None
    if shown is not None:
        final = next(r for r in jobs.runs(archived) if r["run"] == run["run"])
        assert shown[0] == final["status"]
        said = wait_until(lambda: "has started" not in text_of(dash_duo, f"#{ids.BR_FORM_MSG}") and
                          text_of(dash_duo, f"#{ids.BR_FORM_MSG}"), what="the form to say how the run ended")
        if final["status"] == "failed":  # e.g. no writer on this branch, or no Chromium: the error in words
            assert final["error"] and final["error"].split(":")[0] in shown[1] and "Not written" in shown[1]
            assert "Not written" in said and final["error"].split(":")[0] in said
        else:
            assert final["status"] == "ok" and Path(final["path"]).is_file()
            assert said == "2026-W47 is written and archived: see the list above."
            assert f"{STREET}/{Path(final['path']).name}" in driver.execute_script(ROWS)
    driver.save_screenshot(str(screenshot_dir() / "analyst-briefings-1366-run.png"))
    assert dash_duo.get_logs() == []
