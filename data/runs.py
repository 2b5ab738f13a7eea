"""Run bookkeeping: what a cycle did, its row in ``etl_runs``, ``LAST_RUN.json``, and reading the last runs.

A cycle's row is inserted as ``running`` when it starts (:func:`start_run`), gets its counts inside
the cycle's transaction (:func:`record_run`, so a snapshot shows the run it came from), and its
snapshot and duration after publishing (:func:`finish_run`); a failure rolls back and marks it
``failed`` (:func:`fail_run`). ``LAST_RUN.json`` (format: :mod:`data.contract`) tells the web tier
about a failed cycle, which publishes no snapshot.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from data.contract import LAST_RUN_FILE, LastRun, last_run_text, read_current
from data.warehouse import connect

__all__ = ["FileResult", "CycleResult", "start_run", "record_run", "finish_run", "fail_run", "prune_runs",
           "needs_publish", "log_result", "write_last_run", "last_runs"]

log = logging.getLogger(__name__)

_NOT_IDLE = "WHERE files > 0 OR status <> 'ok' OR snapshot IS NOT NULL OR kind NOT IN ('events', 'reference')"


@dataclass
class FileResult:
    """What one landing file did in a cycle."""

    path: str  # relative to var/landing
    table: str
    status: str  # loaded | rejected
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    mode: str = ""  # upsert (events) | full | delta
    reasons: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    placed: int = 0  # rows placed by point-in-polygon
    seconds: float = 0.0


@dataclass
class CycleResult:
    """What one cycle did; also what ``python app.py etl`` prints."""

    run_id: int | None
    kind: str
    status: str  # ok | failed
    files: list[FileResult] = field(default_factory=list)
    waiting: int = 0  # files left for the next cycle (still being written)
    unmoved: int = 0  # done files the move to .done/ could not take away (the ledger still skips them)
    snapshot: str | None = None
    error: str | None = None
    duration_s: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def rows_in(self) -> int:
        """Rows read from every file of the cycle."""
        return sum(f.rows_in for f in self.files)

    @property
    def rows_loaded(self) -> int:
        """Rows merged into their tables."""
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        """Rows set aside in quarantine, with their reasons."""
        return sum(f.rows_quarantined for f in self.files)

    @property
    def reasons(self) -> Counter:
        """Quarantined rows per reason code, over every file."""
        out: Counter = Counter()
        for f in self.files:
            out.update(f.reasons)
        return out

    @property
    def rejected(self) -> list[FileResult]:
        """The files rejected whole (unreadable, wrong columns ...)."""
        return [f for f in self.files if f.status == "rejected"]


def start_run(con: duckdb.DuckDBPyConnection, kind: str) -> int:
    """Record a new run as ``running`` (and runs a killed process left ``running`` as failed); returns its id."""
    con.execute("UPDATE etl_runs SET status = 'failed', error = 'interrupted: the process stopped during "
                "the cycle', finished_at = now() WHERE status = 'running'")
    run_id = con.execute("SELECT nextval('etl_run_seq')").fetchone()[0]
    con.execute("INSERT INTO etl_runs (run_id, kind, started_at, status) VALUES (?, ?, now(), 'running')",
                [run_id, kind])
    return run_id


def record_run(con: duckdb.DuckDBPyConnection, result: CycleResult, started: float) -> None:
    """Write the run's counts (inside the transaction, so the snapshot shows the run it came from)."""
    rejected = "; ".join(f"{f.path}: {f.error}" for f in result.rejected)
    con.execute("""UPDATE etl_runs SET files = ?, rows_in = ?, rows_loaded = ?, rows_quarantined = ?, status = 'ok',
                          error = ?, finished_at = now(), duration_s = ? WHERE run_id = ?""",
                [len(result.files), result.rows_in, result.rows_loaded, result.rows_quarantined,
                 (f"rejected files: {rejected}"[:4000] if rejected else None), time.perf_counter() - started,
                 result.run_id])


def finish_run(con: duckdb.DuckDBPyConnection, result: CycleResult, started: float) -> None:
    """Record the published snapshot and the duration, forget old idle runs, and log the cycle."""
    result.duration_s = time.perf_counter() - started
    con.execute("UPDATE etl_runs SET snapshot = ?, duration_s = ?, finished_at = now() WHERE run_id = ?",
                [result.snapshot, result.duration_s, result.run_id])
    prune_runs(con)
    log_result(result)


def fail_run(con: duckdb.DuckDBPyConnection, result: CycleResult, exc: BaseException, started: float) -> None:
    """Roll back and record a failed cycle (in ``etl_runs`` and the log)."""
    notes = " ".join(getattr(exc, "__notes__", []))
    result.status = "failed"
    result.error = f"{type(exc).__name__}: {exc}" + (f" ({notes})" if notes else "")
    result.duration_s = time.perf_counter() - started
    log.error("ETL %s cycle failed: %s", result.kind, result.error, exc_info=exc)
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass  # no transaction was open
    try:
        if result.run_id is not None:
            con.execute("UPDATE etl_runs SET status = 'failed', error = ?, finished_at = now(), duration_s = ? "
                        "WHERE run_id = ?", [result.error[:4000], result.duration_s, result.run_id])
    except duckdb.Error:
        log.exception("could not record the failed run %s", result.run_id)


def prune_runs(con: duckdb.DuckDBPyConnection) -> None:
    """Forget cycles that found nothing to do after a day (one a minute would bury the real ones)."""
    con.execute("""DELETE FROM etl_runs WHERE files = 0 AND status = 'ok' AND snapshot IS NULL
                   AND kind IN ('events', 'reference') AND started_at < now() - INTERVAL 1 DAY""")


def needs_publish(con: duckdb.DuckDBPyConnection, settings, result: CycleResult) -> bool:
    """Publish when this cycle changed anything, or an earlier committed change never got published.

    A warehouse that never loaded anything publishes nothing: an empty snapshot would only hide the
    pages' "no data yet" notice behind an empty district.
    """
    if result.files:
        return True
    last = con.execute("SELECT max(run_id) FROM etl_runs WHERE files > 0 OR kind IN ('demo', 'replay', 'upgrade')"
                       ).fetchone()[0]
    if last is None:
        return False
    info = read_current(settings.current_file)
    return info is None or info.run_id is None or last > info.run_id


def log_result(result: CycleResult) -> None:
    """Log a cycle that did something at INFO (totals, reasons, snapshot), an idle one at DEBUG."""
    if result.files or result.snapshot:
        reasons = ", ".join(f"{k} {v}" for k, v in result.reasons.most_common())
        log.info("ETL %s run %s: %d files (%d rejected), %d rows in, %d loaded, %d quarantined%s, %.2f s%s",
                 result.kind, result.run_id, len(result.files), len(result.rejected), result.rows_in,
                 result.rows_loaded, result.rows_quarantined, f" ({reasons})" if reasons else "", result.duration_s,
                 f", published {result.snapshot}" if result.snapshot else "")
    else:
        log.debug("ETL %s run %s: nothing new", result.kind, result.run_id)


def write_last_run(settings, result: CycleResult) -> None:
    """Tell the web tier how the last cycle went, even when it failed and published nothing.

    A failed cycle leaves the previous snapshot serving, whose ``etl_runs`` cannot know about the
    failure; ``LAST_RUN.json`` beside ``CURRENT`` (written atomically) can.
    """
    text = last_run_text(LastRun(result.run_id, result.kind, result.status, result.error, datetime.now(UTC)))
    tmp = settings.warehouse_dir / f".{LAST_RUN_FILE}.{os.getpid()}.tmp"
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, settings.warehouse_dir / LAST_RUN_FILE)
    except OSError:
        log.exception("could not write LAST_RUN.json")


def last_runs(settings, limit: int = 20, include_idle: bool = False) -> list[dict]:
    """The last ETL runs, newest first (for ``python app.py etl --status``).

    Read from the writer's database when no other process holds it, else from the current snapshot
    (which lags by the runs that published nothing).
    """
    query = f"""SELECT run_id, kind, started_at, duration_s, files, rows_in, rows_loaded, rows_quarantined, status,
                       snapshot, error
                FROM etl_runs {'' if include_idle else _NOT_IDLE}
                ORDER BY run_id DESC LIMIT {int(limit)}"""
    sources = [settings.work_db]
    info = read_current(settings.current_file)
    if info is not None:
        sources.append(info.path)
    for path in sources:
        if not Path(path).exists():
            continue
        try:
            con = connect(path, settings.timezone, read_only=True)
        except duckdb.Error:
            continue
        try:
            cur = con.execute(query)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        finally:
            con.close()
    return []
