"""Snapshots: how the one writer hands a consistent warehouse to any number of readers.

DuckDB lets one process hold a database file read-write and blocks the others. So the ETL copies
the work database into a new file under ``snapshots/`` after each good cycle and then swaps the
small pointer file ``CURRENT`` atomically (temp file + ``os.replace``). Readers open the file
named in ``CURRENT`` read-only and switch when it changes. A cycle that fails before the swap
leaves the previous snapshot serving.

Write side: :func:`publish`. Read side: :class:`SnapshotReader` (one per process, see
:func:`reader`).
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from data.warehouse import connect

__all__ = ["SnapshotInfo", "publish", "read_current", "SnapshotReader", "reader", "NoSnapshotError"]


class NoSnapshotError(RuntimeError):
    """No snapshot has been published yet (run ``python app.py demo`` or ``etl``)."""


@dataclass(frozen=True)
class SnapshotInfo:
    """What ``CURRENT`` points at."""

    name: str  # file name under snapshots/
    path: Path
    published_at: datetime  # UTC
    run_id: int | None


def read_current(current_file: Path) -> SnapshotInfo | None:
    """Parse the pointer file; ``None`` when nothing is published."""
    try:
        data = json.loads(current_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    path = current_file.parent / "snapshots" / data["snapshot"]
    return SnapshotInfo(data["snapshot"], path, datetime.fromisoformat(data["published_at"]), data.get("run_id"))


def publish(con: duckdb.DuckDBPyConnection, warehouse_dir: Path, keep: int = 3, run_id: int | None = None,
            _before_swap=None) -> SnapshotInfo:
    """Copy the open work database into a new snapshot file and point ``CURRENT`` at it.

    Args:
        con: the writer's connection to ``work.duckdb`` (its catalog is copied whole).
        warehouse_dir: folder holding ``CURRENT`` and ``snapshots/``.
        keep: snapshots to keep; older files are deleted after the swap.
        run_id: ETL run recorded in the pointer.
        _before_swap: test hook called after the copy and before the pointer swap.

    Returns:
        The published snapshot.
    """
    snapshots = warehouse_dir / "snapshots"
    snapshots.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    name = f"{now:%Y%m%dT%H%M%S%f}-{run_id or 0}.duckdb"
    target = snapshots / name
    source = con.execute("SELECT current_database()").fetchone()[0]
    con.execute(f"ATTACH '{target}' AS snap_out")
    try:
        con.execute(f'COPY FROM DATABASE "{source}" TO snap_out')
    finally:
        con.execute("DETACH snap_out")
    if _before_swap is not None:
        _before_swap()
    tmp = warehouse_dir / f".CURRENT.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({"snapshot": name, "published_at": now.isoformat(), "run_id": run_id}),
                   encoding="utf-8")
    os.replace(tmp, warehouse_dir / "CURRENT")
    _prune(snapshots, name, keep)
    return SnapshotInfo(name, target, now, run_id)


def _prune(snapshots: Path, current: str, keep: int) -> None:
    """Delete all but the newest ``keep`` snapshots (never the current one).

    Readers that still have an old file open keep reading it: on POSIX an unlinked file lives
    until its last descriptor closes.
    """
    files = sorted(p for p in snapshots.glob("*.duckdb"))
    for old in files[:-keep]:
        if old.name != current:
            old.unlink(missing_ok=True)
            Path(str(old) + ".wal").unlink(missing_ok=True)


class SnapshotReader:
    """A process's read-only view of the current snapshot.

    ``cursor()`` is cheap: it checks the pointer at most every ``check_every`` seconds and reopens
    only when it changed. The previous connection stays open until the next switch so cursors
    handed out just before a switch finish their query.
    """

    def __init__(self, warehouse_dir: Path, timezone: str, check_every: float = 1.0):
        self._current_file = warehouse_dir / "CURRENT"
        self._timezone = timezone
        self._check_every = check_every
        self._lock = threading.Lock()
        self._info: SnapshotInfo | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._previous: duckdb.DuckDBPyConnection | None = None
        self._checked = 0.0

    def _refresh(self) -> None:
        info = read_current(self._current_file)
        if info is None:
            raise NoSnapshotError(f"no snapshot published under {self._current_file.parent}")
        if self._info is None or info.name != self._info.name:
            con = connect(info.path, self._timezone, read_only=True)
            if self._previous is not None:
                self._previous.close()
            self._previous, self._con, self._info = self._con, con, info

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor on the current snapshot (switching first if ``CURRENT`` changed)."""
        with self._lock:
            now = time.monotonic()
            if self._con is None or now - self._checked >= self._check_every:
                self._refresh()
                self._checked = now
            cur = self._con.cursor()
        cur.execute("SET TimeZone = ?", [self._timezone])
        return cur

    def info(self) -> SnapshotInfo:
        """The snapshot the last cursor came from."""
        if self._info is None:
            self.cursor().close()
        return self._info

    def close(self) -> None:
        with self._lock:
            for con in (self._con, self._previous):
                if con is not None:
                    con.close()
            self._con = self._previous = self._info = None


_readers: dict[tuple[str, str], SnapshotReader] = {}


def reader(settings) -> SnapshotReader:
    """The process-wide reader for these settings' warehouse."""
    key = (str(settings.warehouse_dir), settings.timezone)
    if key not in _readers:
        _readers[key] = SnapshotReader(settings.warehouse_dir, settings.timezone)
    return _readers[key]
