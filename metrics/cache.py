"""What the metrics remember between calls: per-snapshot facts, memoised results, per-cursor state.

Snapshots never change once published, and the past rarely does: :func:`memo` keeps results
about earlier weeks (baselines, historical duration quantiles) per warehouse, keyed by
everything they depend on. On a writable database (the ETL's own connection) nothing is cached.

All of it is process state: :func:`clear_snapshot_caches` forgets what belongs to one snapshot
(a new one was published), :func:`clear_caches` every remembered result, and :func:`reset`
everything the metrics hold in the process (the test suite calls it around every test).
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import duckdb
import pandas as pd

from metrics.calendar import clear_calendar_cache
from metrics.sqlfiles import load_sql, run

__all__ = ["SnapshotFacts", "clear_caches", "clear_snapshot_caches", "cursor_snapshot", "facts", "memo",
           "per_cursor", "remember", "reset"]

_MEMO_SIZE = 512
_lock = threading.Lock()
_memo_cache: OrderedDict[tuple, Any] = OrderedDict()
# Small process-wide tables of derived values, by kind ("facts", "sla_tables" ...), each bounded.
_stores: dict[str, dict[Hashable, Any]] = {}
# Per-cursor state (what was set up on a cursor), by kind; entries go with their cursor.
_cursor_state: dict[str, weakref.WeakKeyDictionary] = {}


class MemoOwner(Protocol):
    """What :func:`memo` needs of a query context: the warehouse folder and snapshot file, if read-only."""

    warehouse: str | None
    snapshot: str | None


@dataclass(frozen=True)
class SnapshotFacts:
    """What the metrics need to know about a snapshot before querying it."""

    first_day: date | None  # local day of the earliest received_at
    last_day: date | None  # local day of the latest received_at
    district_id: str | None  # the one district of the warehouse
    ref_key: int | None = None  # fingerprint of the reference tables (areas, catalogues)
    # Which optional stages the warehouse records: some case has accepted_at (dispatched_at). An export
    # that records only receipt and closure has neither; its acceptance and dispatch are not measured
    # (no rate, no median, no SLA risk), never breached. See docs/sla.md, "Stages a source does not record".
    accept_recorded: bool = True
    dispatch_recorded: bool = True
    # Some case has its own closure deadline (events.due_at). None has (the demo, LA): the due_at
    # branches of the metric SQL are left out, which saves ~50 ms a wall refresh at 10 million cases.
    due_at_present: bool = True

    @property
    def flags(self) -> dict[str, bool]:
        """The ``/*if:NAME*/`` blocks of the metric SQL this snapshot needs (see :func:`metrics.sqlfiles.render`)."""
        return {"due_at": self.due_at_present}

    def recorded(self, stage: str) -> bool:
        """Whether the warehouse records ``stage`` (``"accept"``, ``"dispatch"``; closure always is)."""
        if stage == "accept":
            return self.accept_recorded
        if stage == "dispatch":
            return self.dispatch_recorded
        return True


def remember(kind: str, key: Hashable, compute: Callable[[], Any], limit: int = 64) -> Any:
    """``compute()``, kept in the process-wide table ``kind`` under ``key`` (the table is emptied past ``limit``)."""
    with _lock:
        store = _stores.setdefault(kind, {})
        if key in store:
            return store[key]
    value = compute()
    with _lock:
        store = _stores.setdefault(kind, {})
        if len(store) > limit:
            store.clear()
        store[key] = value
    return value


def per_cursor(kind: str) -> weakref.WeakKeyDictionary:
    """The per-cursor state table ``kind`` (e.g. which SLA rules a cursor's temp tables hold)."""
    with _lock:
        return _cursor_state.setdefault(kind, weakref.WeakKeyDictionary())


def clear_caches() -> None:
    """Forget every cached fact, SLA table and memoised result (tests; a warehouse rebuilt in place)."""
    with _lock:
        for store in _stores.values():
            store.clear()
        _memo_cache.clear()


def clear_snapshot_caches() -> None:
    """Forget what is remembered per snapshot (as when a new snapshot is published), keep the rest."""
    with _lock:
        for key in [k for k in _memo_cache if k and isinstance(k[0], str) and k[0].endswith(".duckdb")]:
            del _memo_cache[key]
        _stores.pop("facts", None)


def reset() -> None:
    """Forget all process state of the metrics: results, facts, per-cursor set-up and the SQL text cache.

    For the test suite's autouse fixture: a test then sees the metrics as a fresh process would.
    """
    clear_caches()
    with _lock:
        _stores.clear()
        for table in _cursor_state.values():
            table.clear()
    load_sql.cache_clear()
    clear_calendar_cache()


def _snapshot_path(con: duckdb.DuckDBPyConnection) -> str | None:
    """The snapshot file behind ``con`` when it is read-only (so results may be cached), else ``None``."""
    rows = con.execute(
        "SELECT path, readonly FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    row = rows[0] if rows else None
    if row is None or not row[1] or not row[0]:
        return None
    return str(row[0])


def cursor_snapshot(con: duckdb.DuckDBPyConnection) -> str | None:
    """The read-only snapshot file behind ``con`` (``None`` when writable), asked once per cursor."""
    paths = per_cursor("snapshot_path")
    try:
        if con in paths:
            return paths[con]
    except TypeError:
        return _snapshot_path(con)
    path = _snapshot_path(con)
    paths[con] = path
    return path


def facts(con: duckdb.DuckDBPyConnection, key: str | None) -> SnapshotFacts:
    """The snapshot's day range, district and recorded stages (cached per snapshot file: it never changes)."""
    def compute() -> SnapshotFacts:
        bounds = run(con, "snapshot_bounds").iloc[0]
        first, last = (None if pd.isna(d) else pd.Timestamp(d).date() for d in (bounds["first_day"],
                                                                              bounds["last_day"]))
        district = None if pd.isna(bounds["district_id"]) else str(bounds["district_id"])
        ref_key = None
        if key:  # only worth knowing where results are remembered
            ref = con.execute(load_sql("ref_key")).fetchall()[0][0]
            ref_key = None if ref is None else int(ref)
        empty = last is None  # no case yet: nothing says a stage is missing
        return SnapshotFacts(first, last, district, ref_key, accept_recorded=empty or bool(bounds["accept_recorded"]),
                             dispatch_recorded=empty or bool(bounds["dispatch_recorded"]),
                             due_at_present=bool(bounds["due_at_present"]))

    return remember("facts", key, compute) if key else compute()


def memo(ctx: MemoOwner, key: tuple, compute: Callable[[], Any], per_snapshot: bool = False) -> Any:
    """``compute()``, remembered per warehouse under ``key`` (read-only snapshots only).

    For results about the past that later snapshots do not change (baselines over earlier weeks,
    historical duration quantiles): the key must hold everything the result depends on except
    the warehouse, which is added here. With ``per_snapshot`` the result is remembered for the
    current snapshot file only (reference tables; what several metrics of one refresh share, such
    as the cases open at ``now``). On a writable connection nothing is remembered.
    """
    owner = ctx.snapshot if per_snapshot else ctx.warehouse
    if owner is None:
        return compute()
    full = (owner, *key)
    with _lock:
        if full in _memo_cache:
            _memo_cache.move_to_end(full)
            return _memo_cache[full]
    value = compute()
    with _lock:
        _memo_cache[full] = value
        while len(_memo_cache) > _MEMO_SIZE:
            _memo_cache.popitem(last=False)
    return value
