"""The ETL cycle: landing files → validate → locate → upsert → marts → snapshot, as one short orchestration.

One call of :func:`run_cycle` is one cycle (the scheduler runs one every minute, ``python app.py
etl`` runs one by hand). The jobs live in their own modules:

* :mod:`data.landing`: the scan of ``var/landing/<table>/``, checksums, the ledger ``etl_files``,
  and moving done files to ``<table>/.done/<local date>/`` after the commit;
* :mod:`data.load`: staging (outside the transaction), validation, quarantine, upserts, the ledger
  rows, and the marts refreshed after a load (inside the cycle's one transaction);
* :mod:`data.area_checks`: what only an ``areas`` file needs (readable polygons, missing geometry);
* :mod:`data.runs`: ``CycleResult``, the ``etl_runs`` row, ``LAST_RUN.json``, :func:`last_runs`;
* :mod:`data.snapshot`: publishing after the commit.

Crash safety: anything that raises before the commit rolls the transaction back (no rows, no
quarantine, no ledger entries, no file moved: the next cycle sees the same files again); the run is
recorded as ``failed`` with its error. A failure after the commit but before the pointer swap
leaves ``CURRENT`` on the previous snapshot; the next cycle sees committed data newer than
``CURRENT`` and publishes it even when no new file arrived. One writer: a process-wide lock
serialises cycles, and DuckDB's file lock keeps a second process out of ``work.duckdb``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import duckdb

from data import readers
from data.landing import (
    MAX_CYCLE_BYTES,
    MAX_CYCLE_FILES,
    SETTLE_SECONDS,
    LandingFile,
    file_sha256,
    in_ledger,
    move_done,
    scan_landing,
)
from data.load import extract_mode, load_all, refresh_after_load
from data.runs import (
    CycleResult,
    FileResult,
    fail_run,
    finish_run,
    last_runs,
    needs_publish,
    record_run,
    start_run,
    write_last_run,
)
from data.snapshot import publish, touch
from data.validate import LANDING_TABLES
from data.warehouse import apply_schema, connect

# run_cycle, open_writer and the table groups are this module's own; the rest are re-exported from the
# modules the cycle was split into (their old import path keeps working).
__all__ = ["run_cycle", "open_writer", "EVENT_TABLES", "REFERENCE_TABLES",
           "CycleResult", "FileResult", "last_runs", "LandingFile", "scan_landing", "extract_mode",
           "SETTLE_SECONDS", "MAX_CYCLE_FILES", "MAX_CYCLE_BYTES"]

log = logging.getLogger(__name__)

EVENT_TABLES = ("events",)
REFERENCE_TABLES = LANDING_TABLES  # the nightly job loads everything, reference tables first
_writer_lock = threading.Lock()


def open_writer(settings) -> duckdb.DuckDBPyConnection:
    """The writer's connection to ``work.duckdb`` (schema applied, no progress bar on stderr).

    Raises:
        RuntimeError: another process holds the warehouse (the scheduler in ``serve``, most likely), or
            the file cannot be opened at all.
        OSError: the warehouse folder cannot be made (``var/`` is not a folder, no permission).
    """
    try:
        con = connect(settings.work_db, settings.timezone)
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():  # not another writer: a path that is not a folder, a full disk ...
            raise RuntimeError(f"cannot open {settings.work_db} for writing: {exc}") from exc
        raise RuntimeError(f"cannot open {settings.work_db} for writing: {exc}. Only one process may run the ETL: "
                           "is the scheduler running in `python app.py serve` or `scheduler`?") from exc
    con.execute("SET enable_progress_bar = false")
    apply_schema(con)
    return con


def run_cycle(settings, kind: str = "events", *, settle_seconds: float = SETTLE_SECONDS, raise_errors: bool = False,
              _before_publish=None, _before_swap=None) -> CycleResult:
    """Run one ETL cycle and publish a snapshot when anything changed.

    Args:
        settings: :class:`settings.Settings` (paths, zone, snapshots to keep, PII key).
        kind: ``events`` (the minute job: ``landing/events`` only) or ``reference`` (the nightly job:
            every landing table, reference tables first).
        settle_seconds: files modified more recently than this wait for the next cycle.
        raise_errors: re-raise a failure after recording it (tests, benchmarks); by default
            the failure is recorded in ``etl_runs`` and the log and returned.
        _before_publish: test hook, called after the commit and before publishing.
        _before_swap: test hook passed to :func:`data.snapshot.publish` (after the copy, before the swap).

    Returns:
        The cycle's result (also recorded in ``etl_runs`` and ``LAST_RUN.json``).

    Raises:
        RuntimeError: the warehouse cannot be opened for writing, most likely because another process
            holds it (nothing was recorded).
        OSError: the warehouse folder cannot be made.
    """
    tables = EVENT_TABLES if kind == "events" else REFERENCE_TABLES
    with _writer_lock:
        started = time.perf_counter()
        result = CycleResult(None, kind, "ok")
        con = open_writer(settings)
        todo: list[tuple[LandingFile, str]] = []
        try:
            result.run_id = start_run(con, kind)
            with _timed(result, "scan"):
                todo, known = _todo(con, settings, tables, settle_seconds, result)
            if todo:
                changed = load_all(con, settings, todo, result)  # opens the cycle's transaction
                with _timed(result, "marts"):
                    refresh_after_load(con, changed, settings)
            record_run(con, result, started)
            if todo:
                with _timed(result, "commit"):
                    con.execute("COMMIT")
            with _timed(result, "move"):  # the ledger is committed: the files can leave the scan's way
                result.unmoved = move_done(settings.landing_dir, [f for f, _ in todo] + known,
                                           datetime.now(settings.zone))
            if needs_publish(con, settings, result):
                if _before_publish is not None:
                    _before_publish()
                with _timed(result, "publish"):
                    result.snapshot = publish(con, settings.warehouse_dir, keep=settings.snapshots_keep,
                                              run_id=result.run_id, _before_swap=_before_swap).name
            else:
                touch(settings.warehouse_dir)  # nothing new: the snapshot is still current, not stale
            finish_run(con, result, started)
        except Exception as exc:
            fail_run(con, result, exc, started)
            if raise_errors:
                raise
        finally:
            _close_writer(con, len(todo))
        write_last_run(settings, result)
        return result


def _todo(con: duckdb.DuckDBPyConnection, settings, tables: tuple[str, ...], settle_seconds: float,
          result: CycleResult) -> tuple[list[tuple[LandingFile, str]], list[LandingFile]]:
    """The ready files not in the ledger yet with their checksums (one cycle's batch), and those already in it.

    A batch is at most :data:`MAX_CYCLE_FILES` files and :data:`MAX_CYCLE_BYTES` bytes (but always
    at least one file), so a backlog of landing files is worked off over several cycles with bounded
    memory; the rest count as waiting. The files already in the ledger (a move that failed, the same
    content delivered again under the same name) are only moved away.
    """
    ready, result.waiting = scan_landing(settings.landing_dir, tables, settle_seconds)
    done = in_ledger(con, ready)
    todo: list[tuple[LandingFile, str]] = []
    known: list[LandingFile] = []
    size = 0
    for f in ready:
        digest = file_sha256(f)
        if digest is None:
            result.waiting += 1
        elif (f.rel, digest) in done:
            known.append(f)
        elif todo and (len(todo) >= MAX_CYCLE_FILES or size + f.size > MAX_CYCLE_BYTES):
            result.waiting += 1
        else:
            todo.append((f, digest))
            size += f.size
    return todo, known


@contextmanager
def _timed(result: CycleResult, step: str) -> Iterator[None]:
    """Add the seconds the block took to ``result.timings[step]``."""
    t = time.perf_counter()
    try:
        yield
    finally:
        result.timings[step] = result.timings.get(step, 0.0) + time.perf_counter() - t


def _close_writer(con: duckdb.DuckDBPyConnection, staged: int) -> None:
    """Drop the cycle's staging tables and close the writer's connection (which would drop them anyway)."""
    try:
        for i in range(staged):
            readers.drop_staging(con, str(i))
    except duckdb.Error:
        log.exception("could not drop the staging tables (closing the connection drops them)")
    finally:
        con.close()
