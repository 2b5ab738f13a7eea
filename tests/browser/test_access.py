"""Who sees what, in Chromium (issue 13): each role sees exactly its scope on every page, no response of
any page or callback holds a personal number, and a wall signed in by its token keeps running through a
new snapshot, a server restart and a lost cookie, and stops when its token is revoked.

Numbers are read off the rendered pages and compared with ``metrics/`` for the account's own area; the
responses are read from Chromium's DevTools network log (``Network.getResponseBody``).
"""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import timedelta

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By

from dashboard.analyst import exports
from dashboard.analyst.state import ViewState
from dashboard.app import create_app
from dashboard.auth.gate import SESSION_COOKIE
from dashboard.auth.users import UserStore
from data.pii import _ID_RE, _PHONE_RE  # the ETL's own patterns: what it masks is what must never get out
from metrics.cases import CaseQuery
from metrics.scope import Scope
from metrics.vitals import vital_signs
from tests.browser.analyst import free_port, goto, start, text_of
from tests.browser.conftest import set_viewport, wait_until
from tests.browser.test_analyst_overview import _district, _expected_tile, _snapshot, _tile
from tests.browser.test_wall import READY as WALL_READY
from tests.browser.test_wall import READY_MAP, READY_WARNINGS, leave, publish_more_cases, tile_text
from tests.conftest import FIXTURE_NOW, private_copy
from tests.data.conftest import EVENT_FILE_COLUMNS, cycle, land, to_csv

pytestmark = pytest.mark.browser

STREET = "330108001"  # the area account's street
OTHER_STREET = "330108002"
VITALS = ("received", "open_backlog", "overdue_open", "close_on_time_other_pct", "satisfaction_pct", "per_10k")
ANALYST_PAGES = ("/map", "/cases", "/warnings", "/departments", "/backlog", "/resources", "/briefings")
WALLS = {"/wall": WALL_READY, "/wall?layout=map": READY_MAP, "/wall?layout=warnings": READY_WARNINGS}
# [data-area, class, whether it is a link] of every crumb
CRUMBS = """
return [...document.querySelectorAll('#an-breadcrumb .an-crumb')]
  .map(c => [c.dataset.area, c.className, !!c.querySelector('a')]);
"""
UPDATES = """
return performance.getEntriesByType('resource').filter(e => e.name.includes('_dash-update-component'))
  .map(e => e.responseStatus);
"""
GRID_READY = "return document.querySelectorAll('#cs-grid .ag-row [col-id=\"case_id\"]').length > 0"
# the street of every row the grid holds (its API: columns off screen are not drawn)
GRID_STREETS = """
const out = [];
dash_ag_grid.getApi('cs-grid').forEachNode(n => { if (n.data) out.push(n.data.street); });
return out;
"""
COUNT = "const b = document.querySelector('#cs-count b[data-value]'); return b ? Number(b.dataset.value) : null;"


# Summaries as citizens write them, quoting a mobile and an ID number: they reach the warehouse through the
# ETL (which masks them at load) in the crawl's warehouse, so the crawl fails if the masking ever breaks.
PLANTED = ("占道经营，联系电话13812345678，请尽快处理", "身份证号 33010619900101123X 的住户反映噪音")


@pytest.fixture(scope="module")
def planted_demo(small_demo, tmp_path_factory):
    """The small demo with two recent cases of the area account's street whose summaries quote personal numbers."""
    from data.warehouse import connect

    settings = private_copy(small_demo, tmp_path_factory.mktemp("planted"))
    con = connect(settings.work_db, settings.timezone, read_only=True)
    try:
        cur = con.execute(f"SELECT {', '.join('e.' + c for c in EVENT_FILE_COLUMNS)} FROM events e "
                          "JOIN areas a ON a.area_id = e.microgrid_id WHERE a.street_id = ? "
                          "ORDER BY e.received_at DESC LIMIT 2", [STREET])
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()
    for i, (row, summary) in enumerate(zip(rows, PLANTED, strict=True), 1):
        row["case_id"], row["summary"] = f"PII{i:06d}", summary
    land(settings, "planted.csv", to_csv(rows))
    assert cycle(settings).rows_loaded == 2
    return settings


def _crumbs(dash_duo):
    return wait_until(lambda: dash_duo.driver.execute_script(CRUMBS), what="the breadcrumb")


def _street_name(con, area_id: str) -> str:
    return con.execute("SELECT name FROM areas WHERE area_id = ?", [area_id]).fetchone()[0]


# --- 1a. each role sees exactly its scope ---------------------------------------------------------


@pytest.mark.parametrize("role", ["area", "district"])
def test_the_overview_without_scope_shows_the_accounts_own_area(dash_duo, small_demo, role):
    areas = (STREET,) if role == "area" else ()
    base = start(dash_duo, small_demo, role=role, areas=areas)
    goto(dash_duo, f"{base}/")
    con = _snapshot(small_demo)
    scope = Scope(STREET, level="street") if role == "area" else Scope(_district(con), level="district")
    window = ViewState().window_at(FIXTURE_NOW, small_demo.timezone)
    vs = vital_signs(con.cursor(), scope, window, FIXTURE_NOW, small_demo).by_key()
    for key in VITALS:
        assert _tile(dash_duo, key) == _expected_tile(vs[key]), key
    assert vs["received"].value > 0  # not 0 == 0
    crumbs = _crumbs(dash_duo)
    assert crumbs[-1][0] == scope.area_id
    if role == "district":
        assert all(link for _, _, link in crumbs), crumbs
        assert dash_duo.get_logs() == []
        return
    # the area account: the crumbs above its street are names, not links
    assert crumbs[-1][2] and "an-crumb-off" not in crumbs[-1][1]
    assert len(crumbs) >= 2 and all("an-crumb-off" in cls and not link for _, cls, link in crumbs[:-1]), crumbs
    # the area search offers the account's own communities, and none of another street
    mine, theirs = _community_names(con)
    assert _search(dash_duo, mine), f"{mine!r}: a community of the account's own street is offered"
    assert _search(dash_duo, theirs) == [], f"{theirs!r} lies in street {OTHER_STREET}"
    assert dash_duo.get_logs() == []


def _community_names(con) -> tuple[str, str]:
    """A community name of the account's street and one of the other street, neither found in the other street."""
    def names(street):
        return [r[0] for r in con.execute(
            "SELECT name FROM areas WHERE street_id = ? AND level = 'community' ORDER BY area_id", [street]).fetchall()]

    def everything(street):
        return [r[0] for r in con.execute("SELECT name FROM areas WHERE street_id = ? OR area_id = ?",
                                          [street, street]).fetchall()]

    def unique(candidates, elsewhere):
        return next(n for n in candidates if not any(n in other for other in elsewhere))

    return unique(names(STREET), everything(OTHER_STREET)), unique(names(OTHER_STREET), everything(STREET))


def _search(dash_duo, text: str) -> list[str]:
    """Type ``text`` into the scope dropdown's search; the options offered once the server answered."""
    driver = dash_duo.driver
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys("\ue00c")  # Escape: close a list left open
    asked = len(driver.execute_script(UPDATES))
    driver.find_element(By.ID, "an-f-scope").click()
    search = wait_until(lambda: [i for i in driver.find_elements(By.CSS_SELECTOR, "input.dash-dropdown-search")
                                 if i.is_displayed()], what="the area search box")[0]
    search.send_keys(text)
    wait_until(lambda: len(driver.execute_script(UPDATES)) > asked, timeout=20, what="the search's answer")
    time.sleep(0.5)  # let the renderer draw the options
    offered = [o.text for o in driver.find_elements(By.XPATH, "//*[@role='option']") if o.is_displayed()]
    search.clear()
    body.send_keys("\ue00c")
    return [o for o in offered if text in o]


def test_an_area_account_sees_its_street_on_every_page_and_not_another(dash_duo, small_demo):
    base = start(dash_duo, small_demo, role="area", areas=(STREET,))
    driver = dash_duo.driver
    con = _snapshot(small_demo)
    for path in sorted(ANALYST_PAGES, key=lambda p: p == "/cases"):  # /cases last, its rows checked below
        if path in ("/cases", "/briefings"):  # a grid, a list: not every panel fills
            driver.get(base + path)
        else:
            goto(dash_duo, base + path, timeout=60)
        wait_until(lambda: (c := driver.execute_script(CRUMBS)) and c[-1][0] == STREET, timeout=30,
                   what=f"{path}'s breadcrumb to end at the street")
        assert dash_duo.get_logs() == [], path
    # /cases (open last): every row in the grid lies in the street, and the count is the street's
    wait_until(lambda: driver.execute_script(GRID_READY), timeout=40, what="the grid's rows")
    name = _street_name(con, STREET)
    streets = wait_until(lambda: driver.execute_script(GRID_STREETS), what="the street column")
    assert set(streets) == {name}, streets
    window = ViewState().window_at(FIXTURE_NOW, small_demo.timezone)
    q = CaseQuery(con.cursor(), Scope(STREET, level="street"), window, FIXTURE_NOW, small_demo,
                  lang="zh", labels=exports.labels("zh"))
    count = wait_until(lambda: driver.execute_script(COUNT), what="the count")
    assert count == q.count() > 0
    # another street, named in the URL: the not-allowed notice, no numbers
    driver.get(f"{base}/?scope={OTHER_STREET}")
    notice = wait_until(lambda: driver.execute_script(
        "const n = document.querySelector('[data-notice=\"not-allowed\"]'); return n && n.textContent"),
        what="the not-allowed notice")
    assert OTHER_STREET in notice
    assert driver.execute_script("return document.querySelectorAll('.gp-vital').length") == 0
    assert dash_duo.get_logs() == []


# --- 1b. no personal number in any response --------------------------------------------------------

SKIPPED = ("/_dash-component-suites/", "/assets/")


def _unescaped(text: str) -> str:
    """``text`` with JSON's ``\\uXXXX`` escapes decoded."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)


def _in_token(text: str, start: int, end: int) -> bool:
    """Whether the digits at ``text[start:end]`` sit inside a run of ASCII letters and digits (a hex id such
    as a callback's ``end_id``), which no one writes a phone or ID number into."""
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    return (before.isascii() and before.isalpha()) or (after.isascii() and after.isalpha())


def personal_numbers(text: str) -> list[str]:
    """What looks like a PRC ID number or a mainland mobile number in ``text`` (data.pii's patterns).

    JSON's ``\\uXXXX`` escapes are decoded first: an escaped CJK character ending in digits (``\\u7535``) would
    otherwise join the number after it into a longer digit run, which the patterns pass over. Digits right after
    a decimal point are a fraction (a coordinate's 11 decimals), not a number someone has.
    """
    text = _unescaped(text)
    found = []
    for pattern in (_ID_RE, _PHONE_RE):
        for m in pattern.finditer(text):
            if m.group(1) == "." and m.start() > 0 and text[m.start() - 1].isdigit():
                continue
            if _in_token(text, m.start(1) + len(m.group(1)), m.end() - len(m.groups()[-1] or "")):
                continue
            found.append(text[max(0, m.start() - 40):m.end() + 40])
    return found


class Crawl:
    """Every response body the browser received from the app, read from the DevTools network log."""

    def __init__(self, driver, base: str):
        self.driver = driver
        self.base = base
        self.bodies: dict[str, str] = {}  # "<request id> <url>" -> body
        self.lost: list[str] = []  # responses whose body Chromium no longer had (at most a couple: checked)
        driver.get_log("performance")  # start here

    def harvest(self) -> None:
        """Fetch the bodies of every response of the app since the last harvest (before leaving the page)."""
        seen: dict[str, str] = {}
        finished: set[str] = set()
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            if message.get("method") == "Network.responseReceived":
                url = params["response"]["url"]
                path = url[len(self.base):] if url.startswith(self.base) else None
                no_body = params["response"].get("status") in (204, 304)  # "nothing to update": no body to read
                if path is not None and not path.startswith(SKIPPED) and not no_body:
                    seen[params["requestId"]] = url
            elif message.get("method") == "Network.loadingFinished":
                finished.add(params["requestId"])
        for request_id, url in seen.items():
            assert request_id in finished, f"{url}: still loading when the page was left"
            try:
                got = self.driver.execute_cdp_cmd("Network.getResponseBody", {"requestId": request_id})
            except WebDriverException as exc:  # Chromium dropped the body (rarely, under load): counted, not read
                if "No resource with given identifier" not in str(exc):
                    raise
                self.lost.append(url)
                continue
            body = got["body"]
            if got.get("base64Encoded"):
                body = base64.b64decode(body).decode("utf-8", "replace")
            self.bodies[f"{request_id} {url}"] = body

    def add(self, url: str, body: str) -> None:
        self.bodies[f"fetched {url}"] = body

    def count(self, part: str) -> int:
        return sum(1 for key in self.bodies if part in key)

    def leaks(self) -> list[tuple[str, list[str]]]:
        return [(key, hits) for key, body in self.bodies.items() if (hits := personal_numbers(body))]


def _settle(driver, seconds: float = 1.0) -> None:
    """Wait until no callback is in flight for a moment (a panel's answer may start another request)."""
    def quiet():
        before = len(driver.execute_script(UPDATES))
        time.sleep(seconds)
        return len(driver.execute_script(UPDATES)) == before and not driver.execute_script(
            "return !!document.querySelector('.dash-loading-callback, [data-dash-is-loading=\"true\"]')")
    wait_until(quiet, timeout=30, interval=0, what="the callbacks to settle")


def _crawl_analyst(dash_duo, crawl: Crawl, base: str) -> None:
    driver = dash_duo.driver
    for path in ("/", "/map", "/backlog", "/warnings", "/departments", "/resources"):
        goto(dash_duo, base + path, timeout=60)
        _settle(driver)
        crawl.harvest()
    driver.get(base + "/briefings")
    wait_until(lambda: driver.execute_script(CRUMBS), timeout=30, what="/briefings")
    _settle(driver)
    crawl.harvest()
    driver.get(base + "/cases")
    wait_until(lambda: driver.execute_script(GRID_READY), timeout=40, what="the grid's rows")
    _settle(driver)
    wait_until(lambda: driver.find_element(  # the grid may draw its rows again under the click: click again
        By.CSS_SELECTOR, "#cs-grid .ag-center-cols-container .ag-row [col-id='category']").click() or True,
        what="a click on a row")
    wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, "#cs-side.cs-open [data-case]"), timeout=30,
               what="the case's lifecycle")
    _settle(driver)
    href = driver.find_element(By.ID, "cs-export-csv").get_attribute("href")
    csv_text = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => r.text()).then(done, e => done('failed: ' + e));", href)
    assert csv_text.count("\n") > 1, csv_text[:200]  # a header and rows
    crawl.add(href, csv_text)
    crawl.harvest()
    driver.get(base + "/cases?case=PII000001")  # a planted case's lifecycle: its summary, masked at load
    wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, "#cs-side.cs-open [data-case]"), timeout=30,
               what="the planted case's lifecycle")
    _settle(driver)
    crawl.harvest()
    _crawl_walls(dash_duo, crawl, base)


def _crawl_walls(dash_duo, crawl: Crawl, base: str, first: str | None = None) -> None:
    driver = dash_duo.driver
    for path, ready_script in WALLS.items():
        driver.get(base + (first if first and path == "/wall" else path))
        wait_until(lambda script=ready_script: driver.execute_script(script), timeout=40, what=path)
        _settle(driver)
        crawl.harvest()
    leave(driver)


@pytest.mark.parametrize("role", ["admin", "district", "area", "wall", "token"])
def test_no_response_of_any_page_or_callback_holds_a_personal_number(dash_duo, planted_demo, role, request):
    settings = request.getfixturevalue("fresh_demo") if role == "token" else planted_demo
    if role == "token":
        app = create_app(settings, clock=lambda: FIXTURE_NOW)
        set_viewport(dash_duo.driver, 1920, 1080)
        dash_duo.start_server(app, navigate=False, port=free_port())
        base = dash_duo.server.url.rstrip("/")
        token, _ = UserStore.of(settings).make_token("crawl")
    else:
        base = start(dash_duo, settings, role=role, areas=(STREET,) if role == "area" else ())
    crawl = Crawl(dash_duo.driver, base)
    if role in ("wall", "token"):
        _crawl_walls(dash_duo, crawl, base, first=f"/wall?token={token}" if role == "token" else None)
        least = 6  # each wall: its router and its first tick
    else:
        _crawl_analyst(dash_duo, crawl, base)
        least = 40  # 11 pages: about 50 answers
    updates = crawl.count("/_dash-update-component")
    print(f"{role}: {len(crawl.bodies)} bodies, {updates} callback answers, "
          f"{sum(len(b) for b in crawl.bodies.values()) / 1e6:.1f} MB")
    assert updates >= least, sorted(crawl.bodies)  # an empty crawl cannot pass
    assert crawl.count("/_dash-layout") >= 1 and crawl.count("/_dash-dependencies") >= 1
    assert crawl.count(" " + base + "/wall") >= 3  # the pages' HTML
    if role not in ("wall", "token"):
        assert crawl.count("/analyst/export/cases.csv") >= 1
    assert crawl.leaks() == []
    assert len(crawl.lost) <= 2, crawl.lost  # bodies Chromium dropped: never more than a stray one
    if role not in ("wall", "token"):  # the planted case was shown (masked), so a broken mask would be seen
        shown = [_unescaped(body) for body in crawl.bodies.values()]
        assert any("联系电话***" in body for body in shown), [b[:300] for b in shown if "PII000001" in b]
    assert dash_duo.get_logs() == []


# --- 1c / 2. a token wall keeps running, recovers its session, and stops when revoked -----------------


def _open_token_wall(dash_duo, settings, clock=lambda: FIXTURE_NOW):
    app = create_app(settings, clock=clock)
    set_viewport(dash_duo.driver, 1920, 1080)
    port = free_port()
    dash_duo.start_server(app, navigate=False, port=port)
    base = dash_duo.server.url.rstrip("/")
    token, record = UserStore.of(settings).make_token("lobby")
    dash_duo.driver.get(f"{base}/wall?token={token}&refresh=2")
    wait_until(lambda: dash_duo.driver.execute_script(WALL_READY), timeout=30, what="the wall to draw")
    return base, port, record


def _ok_updates(driver) -> int:
    return sum(1 for status in driver.execute_script(UPDATES) if status == 200)


def _answers(driver) -> list[tuple[str, int]]:
    """(path, status) of every answer from the app since the log was last read, bundles left out."""
    out = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.responseReceived":
            url = message["params"]["response"]["url"].split("?")[0]
            path = "/" + url.split("/", 3)[3] if url.startswith("http") and url.count("/") >= 3 else url
            if not path.startswith(SKIPPED):
                out.append((path, message["params"]["response"]["status"]))
    return out


def _never_signed_out(driver, base: str) -> None:
    assert driver.current_url.startswith(f"{base}/wall?token="), driver.current_url
    assert not driver.find_elements(By.CSS_SELECTOR, "form input[name='password']")


def test_a_token_wall_refreshes_through_a_publish_and_a_restart_and_stops_when_revoked(dash_duo, fresh_demo):
    base, port, record = _open_token_wall(dash_duo, fresh_demo)
    driver = dash_duo.driver
    driver.execute_script("window.__gpMarker = 'same page';")
    before = int(tile_text(driver, "received").replace(",", ""))
    # an ETL publish: the new cases show at the next refresh
    publish_more_cases(fresh_demo, 25, FIXTURE_NOW - timedelta(minutes=5))
    wait_until(lambda: int(tile_text(driver, "received").replace(",", "")) == before + 25, timeout=15,
               what="the new snapshot on the wall")
    _never_signed_out(driver, base)
    # a restart: the server goes away, a new app (the same settings, so the same secret) comes up on the port
    dash_duo.server.stop()
    time.sleep(3)  # a refresh or two fail meanwhile
    later = FIXTURE_NOW + timedelta(minutes=20)  # the new server's clock: the wall's clock must follow it
    dash_duo.server.start(create_app(fresh_demo, clock=lambda: later), port=port)
    answered = _ok_updates(driver)
    wait_until(lambda: "10:50" in text_of(dash_duo, "#wall-clock-time"), timeout=20,
               what="the wall's clock to come from the new server")
    wait_until(lambda: _ok_updates(driver) >= answered + 3, timeout=20, what="three refreshes from the new server")
    assert driver.execute_script("return window.__gpMarker") == "same page"  # refreshed, never reloaded
    assert driver.execute_script("return document.getElementById('wall-connection').className") == "gp-conn"
    _never_signed_out(driver, base)
    # revoked: the next refresh answers 401, the wall reloads once and shows the gate's refusal
    UserStore.of(fresh_demo).revoke(record.token_id)
    wait_until(lambda: "大屏令牌无效" in driver.execute_script("return document.body.innerText"), timeout=20,
               what="the token-refused page")
    assert "/login" not in driver.current_url and "token=" in driver.current_url
    time.sleep(3)  # no reload loop: the refusal page stays
    assert "大屏令牌无效" in driver.execute_script("return document.body.innerText")
    answers = _answers(driver)
    assert ("/_dash-update-component", 401) in answers, answers[-5:]
    assert [a for a in answers if a[0] == "/wall"] == [("/wall", 200), ("/wall", 401)]  # one reload, no loop
    assert not [a for a in answers if a[0].startswith("/login")]
    leave(driver)


def test_a_token_wall_that_loses_its_cookie_signs_in_again_by_itself(dash_duo, fresh_demo):
    base, _, _ = _open_token_wall(dash_duo, fresh_demo)
    driver = dash_duo.driver
    driver.execute_script("window.__gpMarker = 'same page';")
    dash_duo.reset_log_timestamp()

    def lose_cookie():
        # A refresh in flight when the cookie goes brings it back (Flask renews a session cookie with every
        # answer), so it is deleted again while the old page is still up.
        if driver.get_cookie(SESSION_COOKIE) and driver.execute_script("return window.__gpMarker"):
            driver.delete_cookie(SESSION_COOKIE)  # as a browser that lost it, or a server whose secret changed
        return driver.execute_script("return window.__gpMarker") is None

    # the next refresh answers 401: the wall reloads its page (the token in the URL signs it in again)
    wait_until(lose_cookie, timeout=20, what="the reload")
    wait_until(lambda: driver.execute_script(WALL_READY), timeout=30, what="the wall to draw again")
    _never_signed_out(driver, base)
    assert driver.get_cookie(SESSION_COOKIE), "signed in again"
    answered = _ok_updates(driver)
    wait_until(lambda: _ok_updates(driver) >= answered + 2, timeout=15, what="refreshes after the reload")
    assert driver.execute_script("return document.getElementById('wall-connection').className") == "gp-conn"
    _never_signed_out(driver, base)
    answers = _answers(driver)
    assert ("/_dash-update-component", 401) in answers
    assert [a for a in answers if a[0] == "/wall"] == [("/wall", 200), ("/wall", 200)]  # opened, reloaded once
    assert not [a for a in answers if a[0].startswith("/login")]
    leave(driver)


def test_an_analyst_whose_sign_in_ends_is_sent_to_sign_in_and_back(dash_duo, small_demo):
    """A callback answered 401 on an analyst page (the session ended) leads to /login and back to the page."""
    from tests.conftest import TEST_PASSWORD

    base = start(dash_duo, small_demo, "/", role="district")
    driver = dash_duo.driver
    goto(dash_duo, base + "/", timeout=60)
    driver.delete_cookie(SESSION_COOKIE)
    driver.find_element(By.ID, "an-nav-map").click()  # the page router's callback: 401 now
    wait_until(lambda: driver.current_url.startswith(base + "/login?next="), timeout=20, what="the sign-in page")
    assert "next=%2Fmap" in driver.current_url
    driver.find_element(By.ID, "username").send_keys("t-district")
    driver.find_element(By.ID, "password").send_keys(TEST_PASSWORD)
    driver.find_element(By.ID, "sign-in").click()
    wait_until(lambda: driver.current_url.rstrip("/") == base + "/map", timeout=20, what="back on /map")
    assert driver.find_element(By.ID, "an-user").text == "t-district"
