"""Helpers for the analyst pages' browser tests: open a page, wait for its panels, pick filters, read numbers."""

from __future__ import annotations

import socket

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from dashboard.app import create_app
from tests.browser.conftest import set_viewport, wait_until
from tests.conftest import FIXTURE_NOW, browser_sign_in

# The page is laid out for the current address, and every panel has answered: no panel body is empty and no loading indicator is showing.
PANELS_READY = """
const page = document.querySelector('.an-page');
if (page && page.dataset.query !== undefined) {  // laid out for the address shown (Dash's router lags it)
  const inPlace = (page.dataset.inPlace || '').split(',');
  const here = [...new URLSearchParams(location.search)].filter(([k]) => !inPlace.includes(k))
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  if (JSON.stringify(here) !== page.dataset.query) { return false; }
}
const bodies = [...document.querySelectorAll('.an-panel-body')];
if (!bodies.length) { return false; }
if (bodies.some(b => b.childElementCount === 0 && b.textContent.trim() === '')) { return false; }
return !document.querySelector('.an-loading [data-dash-is-loading="true"], .dash-loading-callback');
"""


def free_port() -> int:
    """A TCP port nobody listens on now (dash_duo's fixed default collides with a second test run)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(dash_duo, settings, path: str | None = None, size=(1920, 1080), clock=lambda: FIXTURE_NOW,
          role: str = "admin", areas: tuple[str, ...] = ()) -> str:
    """Start the app (clock pinned to the fixture's "now" unless ``clock=None``), sign in as an account of
    ``role`` (limited to ``areas``), open ``path`` if given.

    Returns:
        The base URL.
    """
    app = create_app(settings, clock=clock)
    set_viewport(dash_duo.driver, *size)
    dash_duo.start_server(app, navigate=False, port=free_port())
    base = dash_duo.server.url.rstrip("/")
    browser_sign_in(dash_duo.driver, base, app, role, areas)
    if path is not None:
        dash_duo.driver.get(base + path)
    return base


def goto(dash_duo, url: str, timeout: float = 30) -> None:
    """Open ``url`` and wait until every panel of the page has answered."""
    dash_duo.driver.get(url)
    ready(dash_duo, timeout)


def ready(dash_duo, timeout: float = 30) -> None:
    """Wait until every panel of the current page has answered."""
    try:
        wait_until(lambda: dash_duo.driver.execute_script(PANELS_READY), timeout=timeout, what="the panels to fill")
    except AssertionError:
        raise AssertionError(dash_duo.driver.execute_script(
            "return [document.location.href, [...document.querySelectorAll('.an-panel-body')]"
            ".map(b => [b.id, b.childElementCount, b.textContent.slice(0, 60)])]")) from None


def pick(dash_duo, dropdown_id: str, option_text: str, until=None, attempts: int = 3) -> None:
    """Choose ``option_text`` in the Dash 4 dropdown ``dropdown_id`` (a button that opens a list).

    With ``until`` (a check such as "the URL names it"), the choice is made again if the check does
    not come true within 20 s: on a loaded machine a click can land while the list is still opening.
    """
    driver = dash_duo.driver
    for attempt in range(attempts):
        driver.find_element(By.ID, dropdown_id).click()
        option = wait_until(lambda: [o for o in driver.find_elements(
            By.XPATH, f"//*[@role='option'][normalize-space(.)='{option_text}']") if o.is_displayed()],
            timeout=20, what=f"option {option_text!r} of {dropdown_id}")
        option[0].click()
        driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)  # close a list that stays open
        if until is None:
            return
        try:
            wait_until(until, timeout=20, what=f"{option_text!r} chosen in {dropdown_id}")
            return
        except AssertionError:
            if attempt == attempts - 1:
                raise


# every data-key of a panel (its id fills %s) -> its data-value
PANEL_VALUES = """
const out = {};
for (const el of document.querySelectorAll('#%s [data-key][data-value]')) out[el.dataset.key] = el.dataset.value;
return out;
"""


def data_values(dash_duo, selector: str) -> dict[str, str]:
    """``{data-key: data-value}`` of the elements matching ``selector`` inside the page."""
    return dash_duo.driver.execute_script(
        "return Object.fromEntries([...document.querySelectorAll(arguments[0])]"
        ".map(e => [e.dataset.key, e.dataset.value]))", selector)


def text_of(dash_duo, selector: str) -> str:
    """The visible text of the first element matching ``selector`` ('' when absent)."""
    return dash_duo.driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.innerText : ''", selector)
