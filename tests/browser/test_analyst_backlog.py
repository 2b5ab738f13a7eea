"""The analyst backlog page (/backlog) in Chromium: numbers off the page against metrics.backlog, gran/by in the URL.

Every number the page shows carries ``data-key``/``data-value``; the tests read them from the
rendered page and compare them with the metric functions called here for the same scope, window
and as-of time (``#an-as-of``'s ``data-as-of``).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs, urlparse

import pytest

from data.snapshot import SnapshotReader
from metrics.backlog import backlog_by, backlog_series, granularity, open_age
from metrics.scope import Scope, Window
from tests.browser.analyst import start
from tests.browser.conftest import screenshot_dir, set_viewport, wait_until
from tests.conftest import FIXTURE_NOW
from tests.e2e.conftest import la2020  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser

TZ = "Asia/Shanghai"
# every data-key of a panel -> its data-value (null while the panel is still loading)
VALUES = """
const box = document.getElementById(arguments[0]);
if (!box || box.querySelector('.an-msg') && !box.querySelector('[data-key]')) return box ? {_msg: box.innerText} : null;
const out = {};
for (const el of box.querySelectorAll('[data-key]')) out[el.dataset.key] = el.dataset.value;
return Object.keys(out).length ? out : null;
"""
READY = """
const ids = ['bl-flows', 'bl-split', 'bl-by-table', 'bl-age'];
return ids.every(id => { const b = document.getElementById(id); return b && b.children.length > 0; })
  && !!document.querySelector('#bl-flows .js-plotly-plot, #bl-flows .an-msg');
"""
OVERFLOW = """
const bad = [];
for (const el of document.querySelectorAll('.an-panel, .an-panel-head, .an-filters, .an-head, .bl-tools, .an-chips')) {
  if (el.scrollWidth > el.clientWidth + 1) bad.push(`${el.className}: ${el.scrollWidth} in ${el.clientWidth}`);
}
return bad;
"""




def ready(driver, timeout: float = 40) -> None:
    wait_until(lambda: driver.execute_script(READY), timeout=timeout, what="the backlog panels")


def values(driver, panel: str) -> dict:
    return wait_until(lambda: driver.execute_script(VALUES, panel), timeout=30, what=f"the numbers of {panel}")


def query(driver) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(driver.current_url).query).items()}


def as_of(driver) -> datetime:
    return datetime.fromisoformat(driver.execute_script("return document.getElementById('an-as-of').dataset.asOf"))


def shoot(driver, name: str) -> None:
    full = driver.execute_script("return document.documentElement.scrollHeight")
    w = driver.execute_script("return innerWidth")
    h0 = driver.execute_script("return innerHeight")
    set_viewport(driver, w, max(h0, min(full, 4000)))
    driver.save_screenshot(str(screenshot_dir() / name))
    set_viewport(driver, w, h0)


def _check_numbers(driver, settings, scope_id: str, window_key: str, by: str, now: datetime) -> None:
    """Every number of the four panels against the metrics for the same scope, window and as-of time."""
    cur = SnapshotReader(settings.warehouse_dir, settings.timezone).cursor()
    scope = Scope(scope_id).resolved(cur)
    window = Window.named(window_key, now, settings.timezone)
    gran = granularity(query(driver).get("gran"), window)
    series = backlog_series(cur, scope, window, now, settings, gran)
    flows = values(driver, "bl-flows")
    assert int(flows["inflow"]) == series["inflow"].sum() > 0
    assert int(flows["outflow"]) == series["outflow"].sum()
    assert int(flows["net"]) == series["inflow"].sum() - series["outflow"].sum()
    assert int(flows["open_start"]) == series["open_start"].iloc[0]
    assert int(flows["open_end"]) == series["open_end"].iloc[-1]
    assert int(flows["overdue_end"]) == series["overdue_end"].iloc[-1]
    chart = driver.execute_script("const c = document.getElementById('bl-flows-chart'); return [c.dataset.buckets, "
                                  "c.dataset.gran, document.querySelector('#bl-flows .js-plotly-plot').data[0].y]")
    assert chart[:2] == [str(len(series)), gran] and chart[2] == series["inflow"].tolist()
    table = values(driver, "bl-by-table")
    members = backlog_by(cur, scope, now, by, settings)
    shown = members[members["open"] > 0] if len(members) > 40 else members
    for r in shown.itertuples():
        assert int(table[f"open:{r.key}"]) == r.open and int(table[f"overdue:{r.key}"]) == r.overdue, r.key
    ages = values(driver, "bl-age")
    for r in open_age(cur, scope, now, settings).itertuples():
        assert int(ages[f"age:{r.bucket}"]) == r.n, r.bucket
    split = driver.execute_script("return document.querySelector('#bl-split .js-plotly-plot').data.map(d => d.y)")
    by_member = backlog_series(cur, scope, window, now, settings, gran, by=by)
    assert [sum(col) for col in zip(*split, strict=True)] == by_member.groupby("start")["inflow"].sum().tolist()
    assert len(split) <= 9


def test_numbers_on_the_page_equal_metrics_and_the_page_fits(dash_duo, small_demo):
    start(dash_duo, small_demo, "/backlog?win=30d&by=department")
    driver = dash_duo.driver
    ready(driver)
    cur = SnapshotReader(small_demo.warehouse_dir, small_demo.timezone).cursor()
    district = cur.execute("SELECT area_id FROM areas WHERE level = 'district'").fetchone()[0]
    assert as_of(driver) == FIXTURE_NOW
    _check_numbers(driver, small_demo, district, "30d", "department", FIXTURE_NOW)
    assert driver.execute_script("return document.querySelector('.bl-data-begins')") is None  # 60 days of data
    assert driver.execute_script(OVERFLOW) == []
    shoot(driver, "analyst-backlog-1920x1080.png")
    set_viewport(driver, 1366, 768)
    driver.refresh()
    ready(driver)
    assert driver.execute_script(OVERFLOW) == []
    shoot(driver, "analyst-backlog-1366x768.png")
    assert dash_duo.get_logs() == []


def test_gran_and_by_live_in_the_url_survive_a_reload_and_go_back(dash_duo, small_demo):
    base = start(dash_duo, small_demo, "/backlog?scope=330108003")  # the default window: 7 days
    driver = dash_duo.driver
    ready(driver)
    assert driver.execute_script("return document.getElementById('bl-flows-chart').dataset.gran") == "day"
    assert "bl-seg-off" in driver.find_element("id", "bl-gran-week").get_attribute("class")  # 7 days: no weeks
    driver.find_element("id", "bl-gran-hour").click()
    wait_until(lambda: query(driver).get("gran") == "hour", what="gran=hour in the URL")
    wait_until(lambda: driver.execute_script(
        "const c = document.getElementById('bl-flows-chart'); return c && c.dataset.gran === 'hour'"),
        what="the hourly chart")
    driver.find_element("id", "bl-by-category").click()
    wait_until(lambda: query(driver).get("by") == "category", what="by=category in the URL")
    assert query(driver) == {"scope": "330108003", "gran": "hour", "by": "category"}
    driver.refresh()
    ready(driver)
    assert query(driver)["by"] == "category" and "bl-seg-on" in driver.find_element(
        "id", "bl-by-category").get_attribute("class")
    _check_numbers(driver, small_demo, "330108003", "7d", "category", FIXTURE_NOW)
    assert len(values(driver, "bl-by-table")) > 3 * 2  # categories, not the street's one row
    driver.back()
    wait_until(lambda: "by" not in query(driver) and query(driver).get("gran") == "hour", what="back to hours")
    wait_until(lambda: driver.execute_script(
        "return document.querySelector('#bl-by-category.bl-seg-on') === null"), what="the split back to streets")
    assert driver.current_url.startswith(base + "/backlog")
    assert dash_duo.get_logs() == []


def test_a_filter_matching_nothing_shows_the_empty_state(dash_duo, small_demo):
    start(dash_duo, small_demo, "/backlog?cat=NO-SUCH-CATEGORY")
    driver = dash_duo.driver
    ready(driver)
    for panel in ("bl-flows", "bl-split", "bl-by-table", "bl-age"):
        assert wait_until(lambda p=panel: driver.execute_script(
            f"return document.querySelector('#{p} .an-msg-empty')"), what=f"{panel}'s empty state")
    assert dash_duo.get_logs() == []


def test_la_backlog_as_of_its_newest_case(dash_duo, la2020):  # noqa: F811 - the imported fixture
    start(dash_duo, la2020, "/backlog?lang=en&by=department", clock=None)
    driver = dash_duo.driver
    ready(driver)
    now = as_of(driver)
    cur = SnapshotReader(la2020.warehouse_dir, la2020.timezone).cursor()
    district = cur.execute("SELECT area_id FROM areas WHERE level = 'district'").fetchone()[0]
    _check_numbers(driver, la2020, district, "7d", "department", now)
    assert "Inflow" in driver.execute_script("return document.getElementById('bl-flows').innerText")
    # the 7 days reach back before the extract's first day: the page says so
    assert "The data begins on 2020-01-01" in driver.execute_script(
        "return document.querySelector('.bl-data-begins').innerText")
    shoot(driver, "analyst-backlog-la2020-1920x1080.png")
    assert dash_duo.get_logs() == []
