"""The web tier's door to the current snapshot (read-only) and to "now".

Two things every page needs and none may hold on to:

* **a cursor on the current snapshot**, asked for per request (:func:`snapshot`), so a page
  never serves numbers read at start-up and switches by itself when the ETL publishes;
* **the time "now"**, from the clock given to :func:`dashboard.app.create_app` (the wall clock in
  production). Tests and benchmarks pin it, because the demo data ends at a fixed moment and
  "cases today" only means something relative to that moment. Metrics never read the wall
  clock themselves; they receive ``now`` from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

import duckdb

from data.snapshot import SnapshotInfo, reader
from data.warehouse import TABLES
from settings import Settings, get_settings

__all__ = ["Clock", "use_clock", "now", "snapshot", "table_counts"]

Clock = Callable[[], datetime]
_clock: Clock | None = None


def use_clock(clock: Clock | None) -> None:
    """Make ``clock`` the source of "now" for this process (``None``: the wall clock)."""
    global _clock
    _clock = clock


def now(settings: Settings | None = None) -> datetime:
    """The current time in the deployment's zone, from the configured clock.

    Raises:
        ValueError: the clock returned a naive datetime (a zone-less time is ambiguous).
    """
    settings = settings or get_settings()
    moment = _clock() if _clock is not None else datetime.now(settings.zone)
    if moment.tzinfo is None:
        raise ValueError("the clock must return a timezone-aware datetime")
    return moment.astimezone(settings.zone)


@contextmanager
def snapshot(settings: Settings | None = None) -> Iterator[tuple[duckdb.DuckDBPyConnection, SnapshotInfo]]:
    """A cursor on the current snapshot and that snapshot's info, closed on exit.

    Raises:
        data.snapshot.NoSnapshotError: nothing has been published yet.
    """
    r = reader(settings or get_settings())
    cur = r.cursor()
    try:
        yield cur, r.info()
    finally:
        cur.close()


def table_counts() -> tuple[dict[str, int], SnapshotInfo]:
    """Rows per table of the current snapshot, and which snapshot it is."""
    with snapshot() as (cur, info):
        sql = " UNION ALL ".join(f"SELECT '{t}' AS t, count(*) AS n FROM {t}" for t in TABLES)
        counts = dict(cur.execute(sql).fetchall())
    return counts, info
