"""The analyst map (/map) in Chromium: drill-down by clicks, numbers off the page against metrics, switches in the URL.

Clicks on the map: the first step of the drill-down is a real mouse click on the polygon (the
pixel of the area's label point, projected by the page's own geo projection, checked to be that
area's SVG path); the later steps set the graph's ``clickData`` through the Dash renderer
(``window.dash_clientside.set_props``), which is what plotly does on a click. Both go through the
page's click callback and the URL.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import pytest
from selenium.webdriver import ActionChains
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.actions.wheel_input import ScrollOrigin
from selenium.webdriver.common.by import By

from data.snapshot import SnapshotReader
from metrics.breakdown import received_by
from metrics.cases_open import oldest_open
from metrics.grids import grid_aggregates
from metrics.scope import Scope, Window
from tests.browser.analyst import start
from tests.browser.conftest import screenshot_dir, wait_until
from tests.browser.test_wall import external_requests
from tests.conftest import FIXTURE_NOW
from tests.e2e.conftest import la2020  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser

TZ = "Asia/Shanghai"
# The map's state as the page drew it: the frame (whose children are drawn), the level, the areas and values.
MAP_STATE = """
const plot = document.querySelector('#map-graph .js-plotly-plot');
const how = document.getElementById('map-how');
if (!plot || !plot._fullData || !how || !plot.data[0]) return null;
return {frame: how.dataset.frame, level: how.dataset.level, finest: how.dataset.finest,
        locations: plot.data[0].locations.concat(plot.data[1].locations), heat: plot.data[0].locations,
        z: plot.data[0].z, title: plot.layout.coloraxis.colorbar.title.text, n: plot.data.length,
        types: plot.data.map(d => d.type), names: plot.data.map(d => d.name)};
"""
NUMBERS = """
const out = {};
for (const el of document.querySelectorAll('#map-numbers [data-key]')) out[el.dataset.key] = el.dataset.value;
const name = document.getElementById('map-area-name');
out._area = name ? name.dataset.area : null;
return out;
"""
# Areas cut at the map's edge: plotly clips every path to the view's extent, so a drawn area touching
# it was cut (the view is the areas' box with a margin: none should)
CLIPPED = """
const geo = document.querySelector('#map-graph .js-plotly-plot')._fullLayout.geo._subplot;
const [[x0, y0], [x1, y1]] = geo.projection.clipExtent();
return [...document.querySelectorAll('#map-graph path.choroplethlocation')].map(p => [p.__data__.loc, p.getBBox()])
  .filter(([, b]) => b.width && (b.x <= x0 + 1 || b.y <= y0 + 1 || b.x + b.width >= x1 - 1 || b.y + b.height >= y1 - 1))
  .map(([loc]) => loc);
"""
CRUMBS = "return [...document.querySelectorAll('#an-breadcrumb .an-crumb')].map(c => c.dataset.area)"
SET_CLICK = "window.dash_clientside.set_props('map-graph', {clickData: {points: [{location: arguments[0]}]}});"
PIXEL = """
const plot = document.querySelector('#map-graph .js-plotly-plot');
const geo = plot && plot._fullLayout.geo && plot._fullLayout.geo._subplot;
if (!geo || !geo.projection) return null;
const [px, py] = geo.projection([arguments[0], arguments[1]]);
const path = [...plot.querySelectorAll('.geo path.choroplethlocation')].find(p => p.__data__.loc === arguments[2]);
if (!path || !path.isPointInFill(new DOMPoint(px, py))) return null;
const svg = plot.querySelector('.main-svg').getBoundingClientRect();
return [Math.round(svg.left + px), Math.round(svg.top + py)];
"""
OVERFLOW = """
const bad = [];
const root = document.documentElement;
if (root.scrollWidth > root.clientWidth + 1) bad.push(`page: ${root.scrollWidth} in ${root.clientWidth}`);
for (const el of document.querySelectorAll('.an-panel, .an-panel-head, .an-panel-body, .an-map-num, .an-filters, .an-head, .an-table')) {
  if (el.scrollWidth > el.clientWidth + 1) bad.push(`${el.className}: ${el.scrollWidth} in ${el.clientWidth}`);
}
for (const el of document.querySelectorAll('.an-map-side .an-table')) {
  const panel = el.closest('.an-panel').getBoundingClientRect(), box = el.getBoundingClientRect();
  if (box.right > panel.right + 1) bad.push(`${el.id} ends at ${box.right}, its panel at ${panel.right}`);
}
// the open cases take two lines each rather than cutting their text
for (const td of document.querySelectorAll('#map-open-table td')) {
  if (td.scrollWidth > td.clientWidth + 1) bad.push(`cut: ${td.innerText}`);
}
// the navigation stays one line (the wall links are a menu)
const nav = document.querySelector('.an-nav');
if (nav.scrollWidth > nav.clientWidth + 1) bad.push(`navigation: ${nav.scrollWidth} in ${nav.clientWidth}`);
for (const el of nav.querySelectorAll('a, span, button')) {
  if (el.getClientRects().length > 1 || el.getBoundingClientRect().height > 40) bad.push(`wrapped: ${el.innerText}`);
}
return bad;
"""




def map_state(driver, frame: str | None = None, timeout: float = 40) -> dict:
    """The drawn map once it shows ``frame`` (any frame when ``None``) and the side panel has its numbers."""
    def ready():
        s = driver.execute_script(MAP_STATE)
        numbers = driver.execute_script(NUMBERS)
        if s and (frame is None or s["frame"] == frame) and numbers.get("cases") not in (None, ""):
            return s
        return None

    return wait_until(ready, timeout=timeout, what=f"the map of {frame}")


def query(driver) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(driver.current_url).query).items()}


def real_click(driver, lon: float, lat: float, area: str) -> None:
    """A mouse click on the map at (lon, lat), once the pixel there is ``area``'s polygon."""
    x, y = wait_until(lambda: driver.execute_script(PIXEL, lon, lat, area), what="the map to draw the area")
    actions = ActionBuilder(driver)
    actions.pointer_action.move_to_location(x, y)
    actions.pointer_action.pause(0.3)  # plotly picks the feature under the pointer on hover, then the click
    actions.pointer_action.click()
    actions.perform()


def numbers_of(settings, scope: Scope, level: str, window_key: str = "7d") -> dict:
    """The area's own row of grid_aggregates (what the side panel must show)."""
    reader = SnapshotReader(settings.warehouse_dir, settings.timezone)
    con = reader.cursor()
    try:
        window = Window.named(window_key, FIXTURE_NOW, settings.timezone)
        df = grid_aggregates(con, scope, level, window, FIXTURE_NOW, settings)
    finally:
        con.close()
    return df[df["area_id"] == scope.area_id].iloc[0].to_dict()


def assert_numbers(page: dict, row: dict) -> None:
    assert int(page["cases"]) == int(row["cases"])
    assert int(page["open"]) == int(row["open"])
    assert int(page["overdue"]) == int(row["overdue"])
    for key in ("per_10k", "on_time_pct"):
        value = row[key]
        if value != value:  # NaN: no residents, no deadline in the window
            assert page[key] == ""
        else:
            assert float(page[key]) == pytest.approx(float(value), abs=1e-3)


DRAWN = """
const plot = document.querySelector('#map-graph .js-plotly-plot');
return !!plot && plot.querySelectorAll('.geo path.choroplethlocation').length > 0;
"""
# plotly's geo looks for its world outline here before fetching it from a CDN (assets/geo-offline.js)
WORLD = "const w = window.PlotlyGeoAssets; return w && w.topojson.world_110m && Object.keys(w.topojson.world_110m.objects)"


def shoot(driver, name: str) -> None:
    """A screenshot once the map's areas are drawn."""
    wait_until(lambda: driver.execute_script(DRAWN), timeout=40, what="the map to draw")
    time.sleep(0.3)  # the last frame
    driver.save_screenshot(str(screenshot_dir() / name))


def test_drill_down_from_the_district_to_a_micro_grid_and_back_up(dash_duo, small_demo):
    driver = dash_duo.driver
    start(dash_duo, small_demo, "/map")
    s = map_state(driver, "330108")
    assert s["level"] == "street" and sorted(s["locations"]) == ["330108001", "330108002", "330108003"]
    assert driver.execute_script(CRUMBS) == ["330108"]
    assert_numbers(driver.execute_script(NUMBERS), numbers_of(small_demo, Scope("330108", level="district"),
                                                              "district"))
    # step 1: a real mouse click on the street's label point
    reader = SnapshotReader(small_demo.warehouse_dir, small_demo.timezone)
    con = reader.cursor()
    street = "330108002"
    lon, lat = con.execute("SELECT centroid_lon, centroid_lat FROM areas WHERE area_id = ?", [street]).fetchone()
    parent_value = dict(zip(s["heat"], s["z"], strict=True))[street]
    real_click(driver, lon, lat, street)
    wait_until(lambda: query(driver).get("scope") == street, timeout=20, what="the click to write the URL")
    path = [("330108", "district"), (street, "street")]
    expected_levels = ["community", "grid", "microgrid"]
    for level in expected_levels:
        area, area_level = path[-1]
        s = map_state(driver, area)
        assert s["level"] == level, s
        assert driver.execute_script(CRUMBS) == [a for a, _ in path]
        page = driver.execute_script(NUMBERS)
        assert page["_area"] == area
        row = numbers_of(small_demo, Scope(area, level=area_level), area_level)
        assert_numbers(page, row)
        assert int(page["cases"]) == parent_value  # the side panel equals what the parent's map showed
        # the children drawn are those of the area, as grid_aggregates lists them
        children = numbers_of_children(small_demo, Scope(area, level=area_level), level)
        assert sorted(s["locations"]) == sorted(children)
        wait_until(lambda: driver.execute_script(DRAWN), what="the areas drawn")
        assert driver.execute_script(CLIPPED) == []
        # next: the drawn child with most cases (set through the renderer, see the module docstring)
        values = dict(zip(s["heat"], s["z"], strict=True))
        target = max(values, key=lambda k: (values[k], k))
        parent_value = values[target]
        driver.execute_script(SET_CLICK, target)
        wait_until(lambda target=target: query(driver).get("scope") == target, timeout=20, what="drill-down")
        path.append((target, level))
    # at the micro-grid: itself among its siblings, the finest level; a click on a sibling switches to it
    micro, grid = path[-1][0], path[-2][0]
    # the grid's own map has the same frame: wait for the micro-grid's page, not the one before it
    s = wait_until(lambda: (x := map_state(driver, grid)) and x["finest"] == "true"
                   and driver.execute_script(NUMBERS)["_area"] == micro and x, timeout=40,
                   what="the micro-grid's map")
    assert s["finest"] == "true" and s["level"] == "microgrid" and micro in s["locations"]
    assert driver.execute_script(CRUMBS) == [a for a, _ in path]
    assert_numbers(driver.execute_script(NUMBERS), numbers_of(small_demo, Scope(micro, level="microgrid"),
                                                              "microgrid"))
    assert "最细一级" in driver.find_element(By.ID, "map-how").text
    assert driver.execute_script(CLIPPED) == []
    shoot(driver, "analyst-map-microgrid-1920x1080.png")
    # a click on a sibling switches to it: the same map, the outline and the numbers move
    sibling = next(a for a in s["locations"] if a != micro)
    driver.execute_script(SET_CLICK, sibling)
    wait_until(lambda: query(driver).get("scope") == sibling, timeout=20, what="the switch to a sibling")
    wait_until(lambda: driver.execute_script(NUMBERS)["_area"] == sibling, timeout=30, what="the sibling's numbers")
    assert driver.execute_script(CRUMBS) == [a for a, _ in path[:-1]] + [sibling]
    assert_numbers(driver.execute_script(NUMBERS), numbers_of(small_demo, Scope(sibling, level="microgrid"),
                                                              "microgrid"))
    # the breadcrumb goes back up to the street
    driver.find_element(By.CSS_SELECTOR, f'#an-breadcrumb .an-crumb[data-area="{street}"] a').click()
    wait_until(lambda: query(driver).get("scope") == street, timeout=20, what="the breadcrumb")
    s = map_state(driver, street)
    assert s["level"] == "community"
    # the back button steps back down to the last micro-grid's view, then to the one before it
    driver.back()
    wait_until(lambda: query(driver).get("scope") == sibling, timeout=20, what="back")
    map_state(driver, grid)
    driver.back()
    wait_until(lambda: query(driver).get("scope") == micro, timeout=20, what="back again")
    con.close()
    assert dash_duo.get_logs() == []


def _zoomed_in(driver, wheel_turns: int):
    """Zoom the street's map in with the mouse wheel; its background (to drag) is returned."""
    map_state(driver, "330108001")
    wait_until(lambda: driver.execute_script(DRAWN), what="the map to draw")
    background = driver.find_element(By.CSS_SELECTOR, "#map-graph .geo .bg rect")
    for _ in range(wheel_turns):
        ActionChains(driver).scroll_from_origin(ScrollOrigin.from_element(background), 0, -300).perform()
        time.sleep(0.4)
    return background


def test_panning_a_zoomed_map_does_not_drill_down(dash_duo, small_demo):
    """A drag is a pan: after a scroll-zoom, plotly took the click that ends a drag for a click on an
    area (assets/analyst-map.js stops it; without it this test drilled into a community)."""
    driver = dash_duo.driver
    start(dash_duo, small_demo, "/map?scope=330108001")
    background = _zoomed_in(driver, 3)
    plot = "return document.querySelector('#map-graph .js-plotly-plot')._fullLayout.geo.projection.scale"
    assert driver.execute_script(plot) > 2  # zoomed in
    ActionChains(driver).move_to_element(background).click_and_hold().move_by_offset(120, 60).pause(0.2) \
        .release().perform()
    time.sleep(2.5)
    assert query(driver).get("scope") == "330108001"
    buttons = driver.execute_script("return [...document.querySelectorAll('#map-graph .modebar-btn')]"
                                    ".map(b => b.getAttribute('data-title'))")
    assert buttons and not any("Share" in b for b in buttons)  # no upload to Plotly Cloud
    assert dash_duo.get_logs() == []


def test_another_measure_or_layer_keeps_the_zoom_and_a_filter_keeps_them(dash_duo, small_demo):
    """The measure and the layers change the address in place: the same graph is drawn again in the
    reader's zoom and pan (before, the page was laid out again at the whole frame), and a filter
    change afterwards keeps them (the filter bar starts from the address, not the laid-out state)."""
    driver = dash_duo.driver
    start(dash_duo, small_demo, "/map?scope=330108001")
    background = _zoomed_in(driver, 2)
    ActionChains(driver).move_to_element(background).click_and_hold().move_by_offset(80, 40).pause(0.2) \
        .release().perform()
    time.sleep(1)
    view = ("const g = document.querySelector('#map-graph .js-plotly-plot')._fullLayout.geo;"
            "return [g.projection.scale, g.center.lon, g.center.lat]")
    zoomed = driver.execute_script(view)
    assert zoomed[0] > 1.5
    driver.execute_script("document.querySelector('#map-graph .js-plotly-plot').dataset.drawnFirst = 'yes'")
    driver.find_element(By.XPATH, "//*[@id='map-measure']//label[normalize-space()='超期在办']").click()
    wait_until(lambda: query(driver).get("measure") == "overdue", timeout=20, what="the measure in the URL")
    wait_until(lambda: driver.execute_script(MAP_STATE)["title"] == "超期在办", timeout=30, what="the overdue map")
    assert driver.execute_script(view) == pytest.approx(zoomed)
    driver.find_element(By.XPATH, "//*[@id='map-layers']//label[contains(., '事件点位')]").click()
    wait_until(lambda: driver.execute_script(MAP_STATE)["n"] > 2, timeout=30, what="the case points")
    assert driver.execute_script(view) == pytest.approx(zoomed)
    # the same graph: the page was not laid out again
    assert driver.execute_script("return document.querySelector('#map-graph .js-plotly-plot').dataset.drawnFirst")
    assert query(driver) == {"scope": "330108001", "measure": "overdue", "layers": "cases"}
    wait_until(lambda: parse_qs(urlparse(driver.find_element(By.ID, "an-lang").get_attribute("href")).query) == {
        "scope": ["330108001"], "measure": ["overdue"], "layers": ["cases"], "lang": ["en"]},
        what="the language switch with the switches' keys")
    # a filter laid out anew keeps the switches; the back button returns to the previous measure
    driver.find_element(By.ID, "an-f-urgency").click()
    option = wait_until(lambda: [o for o in driver.find_elements(By.XPATH, "//*[@role='option']")
                                 if o.is_displayed() and o.text.strip() == "紧急"], what="the urgent option")[0]
    option.click()
    wait_until(lambda: query(driver).get("urg") == "urgent", timeout=20, what="the filter in the URL")
    assert query(driver) == {"scope": "330108001", "measure": "overdue", "layers": "cases", "urg": "urgent"}
    s = wait_until(lambda: (st := driver.execute_script(MAP_STATE)) and st["n"] > 2 and st["title"] == "超期在办" and st,
                   timeout=30, what="the urgent map with its measure and layers")
    assert s["types"][2] == "scattergeo"
    driver.back()
    driver.back()
    wait_until(lambda: query(driver) == {"scope": "330108001", "measure": "overdue"}, timeout=20, what="back twice")
    wait_until(lambda: driver.execute_script(MAP_STATE)["n"] == 2, timeout=30, what="the map without points")
    assert dash_duo.get_logs() == []


def numbers_of_children(settings, scope: Scope, level: str) -> list[str]:
    reader = SnapshotReader(settings.warehouse_dir, settings.timezone)
    con = reader.cursor()
    try:
        window = Window.named("7d", FIXTURE_NOW, settings.timezone)
        return grid_aggregates(con, scope, level, window, FIXTURE_NOW, settings)["area_id"].tolist()
    finally:
        con.close()


def test_side_panel_numbers_categories_and_open_cases_equal_metrics(dash_duo, small_demo):
    driver = dash_duo.driver
    start(dash_duo, small_demo, "/map?win=30d&scope=330108003&ch=hotline")
    map_state(driver, "330108003")
    scope = Scope("330108003", channels=("hotline",), level="street")
    window = Window.named("30d", FIXTURE_NOW, TZ)
    reader = SnapshotReader(small_demo.warehouse_dir, small_demo.timezone)
    con = reader.cursor()
    row = grid_aggregates(con, scope, "street", window, FIXTURE_NOW, small_demo)
    assert_numbers(driver.execute_script(NUMBERS), row[row["area_id"] == "330108003"].iloc[0].to_dict())
    wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, "#map-categories-table td[data-key]"), what="categories")
    cats = driver.execute_script("return [...document.querySelectorAll('#map-categories-table td[data-key]')]"
                                 ".map(td => [td.dataset.key, +td.dataset.value])")
    expected = received_by(con, scope, window, FIXTURE_NOW, "category", small_demo, limit=8)
    assert cats == [[k, int(n)] for k, n in zip(expected["key"], expected["cases"], strict=True)]
    wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, "#map-open-table td[data-key]"), what="open cases")
    cases = driver.execute_script("return [...document.querySelectorAll('#map-open-table td[data-key]')]"
                                  ".map(td => [td.dataset.key, td.querySelector('a').getAttribute('href')])")
    oldest = oldest_open(con, scope, FIXTURE_NOW, small_demo, n=15)
    assert [c for c, _ in cases] == oldest["case_id"].tolist()
    # each links to the cases page with the view's filters and the case
    link = urlparse(cases[0][1])
    assert link.path == "/cases"
    assert parse_qs(link.query) == {"win": ["30d"], "scope": ["330108003"], "ch": ["hotline"],
                                    "case": [cases[0][0]]}
    con.close()
    assert dash_duo.get_logs() == []


def test_measure_and_layers_write_the_url_and_survive_a_reload(dash_duo, small_demo):
    driver = dash_duo.driver
    base = start(dash_duo, small_demo, "/map?scope=330108001")
    s = map_state(driver, "330108001")
    assert s["title"] == "报件"
    driver.find_element(By.XPATH, "//*[@id='map-measure']//label[normalize-space()='在办']").click()
    wait_until(lambda: query(driver).get("measure") == "open", timeout=20, what="the measure in the URL")
    s = wait_until(lambda: (st := driver.execute_script(MAP_STATE)) and st["title"] == "在办" and st,
                   timeout=30, what="the map coloured by open cases")
    window = Window.named("7d", FIXTURE_NOW, TZ)
    reader = SnapshotReader(small_demo.warehouse_dir, small_demo.timezone)
    con = reader.cursor()
    df = grid_aggregates(con, Scope("330108001", level="street"), "community", window, FIXTURE_NOW, small_demo)
    assert dict(zip(s["heat"], s["z"], strict=True)) == dict(zip(df["area_id"], df["open"].astype(float), strict=True))
    # a layer: the case points of the window, clustered
    driver.find_element(By.XPATH, "//*[@id='map-layers']//label[contains(., '事件点位')]").click()
    wait_until(lambda: query(driver).get("layers") == "cases", timeout=20, what="the layers in the URL")
    s = wait_until(lambda: (st := driver.execute_script(MAP_STATE)) and st["n"] > 2 and st, timeout=30,
                   what="the case points")
    assert s["types"][2] == "scattergeo"
    marks = driver.execute_script("return document.querySelector('#map-graph .js-plotly-plot').data[2].customdata")
    n_cases = con.execute("SELECT count(*) FROM events WHERE street_id = '330108001' AND received_at >= ? "
                          "AND received_at < ? AND lon IS NOT NULL", [window.start, window.end]).fetchone()[0]
    assert sum(marks) == n_cases and len(marks) < n_cases  # every case, clustered
    assert len(driver.find_elements(By.CSS_SELECTOR, "#map-graph .trace.scattergeo path.point")) == len(marks)
    assert query(driver) == {"scope": "330108001", "measure": "open", "layers": "cases"}
    # a reload shows the same view
    driver.get(driver.current_url)
    s = map_state(driver, "330108001")
    s = wait_until(lambda: (st := driver.execute_script(MAP_STATE)) and st["n"] > 2 and st, timeout=30,
                   what="the reloaded map")
    assert s["title"] == "在办" and s["types"][2] == "scattergeo"
    assert driver.find_element(By.CSS_SELECTOR, "#map-measure input[value='open']").is_selected()
    assert driver.find_element(By.CSS_SELECTOR, "#map-layers input[value='cases']").is_selected()
    shoot(driver, "analyst-map-street-open-cases-1920x1080.png")
    # the back button returns to the map without layers
    driver.back()
    wait_until(lambda: "layers" not in query(driver), timeout=20, what="back")
    assert base in driver.current_url
    con.close()
    assert dash_duo.get_logs() == []


@pytest.mark.parametrize(("size", "lang"), [((1920, 1080), "zh"), ((1920, 1080), "en"), ((1366, 768), "en")],
                         ids=["1080p-zh", "1080p-en", "768p-en"])
def test_the_page_loads_with_a_quiet_console_and_nothing_clipped(dash_duo, small_demo, size, lang):
    driver = dash_duo.driver
    base = start(dash_duo, small_demo, f"/map?win=30d&layers=cameras,depots,staff&lang={lang}", size=size)
    s = wait_until(lambda: (st := driver.execute_script(MAP_STATE)) and st["n"] > 2 and st, timeout=40,
                   what="the map with its layers")
    assert s["frame"] == "330108" and "scattergeo" in s["types"]
    wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, "#map-open-table td[data-key]"), what="the side panels")
    assert driver.execute_script(OVERFLOW) == []
    shoot(driver, f"analyst-map-district-{lang}-{size[0]}x{size[1]}.png")
    # drawn without WebGL, and nothing fetched from outside: plotly's geo found its (empty) world on the page
    assert driver.find_elements(By.CSS_SELECTOR, "#map-graph canvas") == []
    assert driver.execute_script(WORLD) == []
    assert external_requests(driver, base) == []
    assert dash_duo.get_logs() == []


def test_la_map_shows_its_regions_and_councils(dash_duo, la2020):  # noqa: F811 - the fixture
    driver = dash_duo.driver
    start(dash_duo, la2020, "/map?lang=en&win=30d", clock=None)
    reader = SnapshotReader(la2020.warehouse_dir, la2020.timezone)
    con = reader.cursor()
    district = con.execute("SELECT area_id FROM areas WHERE level = 'district'").fetchone()[0]
    regions = sorted(r[0] for r in con.execute("SELECT area_id FROM areas WHERE level = 'street'").fetchall())
    s = map_state(driver, district)
    assert s["level"] == "street" and sorted(s["locations"]) == regions
    assert "Region" in driver.find_element(By.ID, "map-how").text
    region = regions[0]
    councils = sorted(r[0] for r in con.execute("SELECT area_id FROM areas WHERE level = 'microgrid' AND "
                                                "street_id = ?", [region]).fetchall())
    driver.execute_script(SET_CLICK, region)
    s = map_state(driver, region)
    assert s["level"] == "microgrid" and sorted(s["locations"]) == councils
    assert "Neighborhood Council" in driver.find_element(By.ID, "map-how").text
    shoot(driver, "la2020-analyst-map-region-1920x1080.png")
    # a council: the finest level, among its siblings
    driver.execute_script(SET_CLICK, councils[0])
    s = map_state(driver, region)
    wait_until(lambda: driver.execute_script(MAP_STATE)["finest"] == "true", what="the council's view")
    assert query(driver)["scope"] == councils[0]
    con.close()
    assert dash_duo.get_logs() == []
