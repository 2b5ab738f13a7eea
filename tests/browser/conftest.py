"""Headless Chromium for dash_duo: Debian's chromium and chromedriver, no sandbox (CI runs as
root), no background networking (the machine has no internet and Chromium would otherwise try)."""

from __future__ import annotations

import os
import shutil

import pytest
from selenium.webdriver.chrome.options import Options

SCREENSHOT_DIR = os.environ.get("GRIDPULSE_SCREENSHOTS", os.path.join("var", "screenshots"))


def pytest_setup_options():
    options = Options()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-default-apps", "--hide-scrollbars=false", "--lang=zh-CN"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return options


def pytest_collection_modifyitems(config, items):
    if shutil.which("chromedriver") is None:
        skip = pytest.mark.skip(reason="chromedriver not installed (make test installs Debian's chromium-driver)")
        for item in items:
            if "dash_duo" in getattr(item, "fixturenames", ()):
                item.add_marker(skip)
