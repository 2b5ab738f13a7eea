"""A demo warehouse of one million cases, built once per test session for the browser tests that need one.

Import the fixture where it is used (``from tests.browser.conftest_million import million  # noqa: F401``):
pytest only collects fixtures from files named ``conftest.py``, and this one is costly, so only the
tests that name it pay for it.

It is the ordinary demo generator with few reference rows (20,000 people, 2,000 enterprises, 1,000
cameras: the cases table reads none of them) over 90 days, so its 1,000,000 cases are as realistic
as the demo's. Measured: 134 s at a load average of 15 on two cores (the generator's own benchmark
builds 1 M default-demo cases in 11 s on a quiet machine, docs/performance.md); the build time is
printed with the test output (``-s``) and kept on the fixture.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from settings import Settings
from tests.conftest import build_fixture_demo, settings_for

MILLION = 1_000_000


@dataclass(frozen=True)
class Million:
    """The warehouse's settings and how long it took to build."""

    settings: Settings
    build_seconds: float


@pytest.fixture(scope="session")
def million(tmp_path_factory) -> Million:
    """A published demo warehouse of 1,000,000 cases over 90 days ending at FIXTURE_NOW (built once).

    ``GRIDPULSE_TEST_MILLION_VAR`` names the ``var/`` folder of one built before (the tests only read
    it), to save the build when running these tests again by hand.
    """
    reuse = os.environ.get("GRIDPULSE_TEST_MILLION_VAR")
    if reuse and (Path(reuse) / "warehouse" / "CURRENT").exists():
        return Million(settings_for(Path(reuse)), 0.0)
    started = time.perf_counter()
    settings = build_fixture_demo(tmp_path_factory.mktemp("million") / "var", events=MILLION, days=90, seed=11,
                                  people=20_000, enterprises=2_000, cameras=1_000)
    seconds = time.perf_counter() - started
    print(f"\n[million] 1,000,000-case warehouse built in {seconds:.1f} s")
    return Million(settings, seconds)
