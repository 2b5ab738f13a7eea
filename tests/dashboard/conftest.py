"""Process state the web tier still keeps, reset around every dashboard test.

The settings and the clock live on each app's Runtime now; what remains process-wide is the wall's
data cache (``dashboard.wall.data.CACHE``), the warm-up's watcher threads and plans
(``dashboard.wall.warmup``) and the metrics' per-snapshot query caches (``metrics.queries``).
A test that leaves a watcher running or a cached number behind must not change the next one.
"""

from __future__ import annotations

import pytest

from dashboard.wall import data, warmup
from metrics import queries


def reset_web_tier_state() -> None:
    """Stop the warm-up watchers, forget their plans, switch the warm-up on, empty the caches."""
    warmup.reset()
    data.CACHE.clear()
    queries.clear_caches()


@pytest.fixture(autouse=True)
def _reset_process_state():
    reset_web_tier_state()
    yield
    reset_web_tier_state()
