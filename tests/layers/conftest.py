"""Fixtures for the layer tests."""

from __future__ import annotations

import pytest

from metrics import cache


@pytest.fixture(autouse=True)
def _fresh_metrics_state():
    """Every test sees the metrics (which the layers query through) as a fresh process would."""
    cache.reset()
    yield
    cache.reset()
