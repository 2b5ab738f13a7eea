"""Deprecated import path of the demo builder: use :mod:`data.demo.generate`.

Kept only for files outside this branch that still import it (``app.py``, ``bench/``,
``tests/metrics/test_warnings.py``); delete it once they import from ``data.demo.generate``
(and ``tests.conftest.open_work``).
"""

from __future__ import annotations

import duckdb

from data.demo.generate import DemoSpec, build_demo
from data.warehouse import connect

__all__ = ["DemoSpec", "build_demo", "open_work"]


def open_work(settings) -> duckdb.DuckDBPyConnection:
    """The writer's connection to ``work.duckdb`` (tests only; see ``tests.conftest.open_work``)."""
    return connect(settings.work_db, settings.timezone)
