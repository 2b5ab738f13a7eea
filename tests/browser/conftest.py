"""Headless Chromium for dash_duo: Debian's chromium and chromedriver, no sandbox (CI runs as
root), no background networking (the machine has no internet and Chromium would otherwise try).

WebGL (the MapLibre maps) runs on SwiftShader, Chromium's software renderer, explicitly: with
``--disable-gpu`` Chromium falls back to it on its own and logs a deprecation warning plus "GPU
stall due to ReadPixels" warnings into the browser console, which would make every
``get_logs() == []`` check fail for reasons that have nothing to do with the page.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from selenium.webdriver.chrome.options import Options

SCREENSHOT_DIR = os.environ.get("GRIDPULSE_SCREENSHOTS", os.path.join("var", "screenshots"))


class _Options(Options):
    """Chrome options that keep the network ("performance") log on.

    ``dash.testing`` sets ``goog:loggingPrefs`` to ``{"browser": "SEVERE"}`` after this hook, which
    would drop the network log the wall tests read to prove that no request leaves localhost;
    this merges instead of replacing. The console stays at SEVERE, as Dash intends.
    """

    def set_capability(self, name, value):
        if name == "goog:loggingPrefs":
            value = {"performance": "ALL", **dict(value)}
        super().set_capability(name, value)


def pytest_setup_options():
    options = _Options()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-default-apps", "--hide-scrollbars=false", "--lang=zh-CN",
                 "--use-angle=swiftshader", "--enable-unsafe-swiftshader"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "SEVERE"})
    return options


def pytest_collection_modifyitems(config, items):
    if shutil.which("chromedriver") is None:
        skip = pytest.mark.skip(reason="chromedriver not installed (make test installs Debian's chromium-driver)")
        for item in items:
            if "dash_duo" in getattr(item, "fixturenames", ()):
                item.add_marker(skip)


def screenshot_dir() -> Path:
    """Where browser tests write screenshots (``$GRIDPULSE_SCREENSHOTS``, default ``var/screenshots``)."""
    path = Path(SCREENSHOT_DIR).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def pytest_terminal_summary(terminalreporter):
    """Name the screenshot folder in the test log, so a person reading CI output can find the images."""
    path = Path(SCREENSHOT_DIR).resolve()
    shots = sorted(path.glob("*.png")) if path.exists() else []
    if shots:
        terminalreporter.write_line(f"browser screenshots ({len(shots)}): {path}")


def set_viewport(driver, width: int, height: int) -> None:
    """Make the page's viewport exactly ``width`` × ``height`` CSS pixels.

    ``set_window_size`` sizes the outer window, and headless Chromium keeps some of it for
    browser chrome (a 1920×1080 window has a 1920×937 page); the DevTools protocol sets the page
    itself, which is what a wall screen in kiosk mode has.
    """
    try:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    except Exception:  # a driver without CDP: the outer window, best effort
        driver.set_window_size(width, height)


def record_console_warnings(driver) -> None:
    """From the next page load on, keep what the page writes with ``console.warn`` (read: :func:`console_warnings`).

    dash.testing asks Chromium for SEVERE entries only (it overrides the logging preference), so a
    library's warnings (AG Grid's "invalid colDef property", React's) never reach ``get_logs()``.
    """
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": (
        "window.__gpWarnings = []; const gpWarn = console.warn.bind(console);"
        "console.warn = (...a) => { window.__gpWarnings.push(a.map(String).join(' ')); gpWarn(...a); };")})


def console_warnings(driver) -> list[str]:
    """What the current page wrote with ``console.warn`` since it loaded (see :func:`record_console_warnings`)."""
    return driver.execute_script("return window.__gpWarnings || null") or []


def wait_until(check: Callable[[], object], timeout: float = 20.0, interval: float = 0.2, what: str = "condition"):
    """Poll ``check`` until it returns something truthy; its value, or AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except Exception as exc:  # the page may be between renders
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}; last value: {last!r}")
