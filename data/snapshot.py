"""Snapshots: how the one writer hands a consistent warehouse to any number of readers.

DuckDB lets one process hold a database file read-write and blocks the others. So the ETL copies
the work database into a new file under ``snapshots/`` after each good cycle and then swaps the
small pointer file ``CURRENT`` atomically (temp file + ``os.replace``). Readers open the file
named in ``CURRENT`` read-only and switch when it changes. A cycle that fails before the swap
leaves the previous snapshot serving.

The copy is a ``CHECKPOINT`` followed by a byte copy of the database file, not the design's
``ATTACH`` + ``COPY FROM DATABASE``: the writer is the only process with the file open and is idle
while it copies, so the checkpointed file is a complete database, and copying bytes costs about
0.1 s at a million cases where re-encoding every table took 4-10 s (``bench/etl.py``,
``docs/decisions.md``).

``CURRENT`` also carries ``checked_at``: the last time the ETL looked for new data, moved by
:func:`touch` on cycles with nothing to publish, so a quiet night is not shown as stale data.

Write side: :func:`publish`. Read side: :class:`SnapshotReader` (one per process, see
:func:`reader`).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from data.warehouse import connect

__all__ = ["SnapshotInfo", "publish", "touch", "read_current", "SnapshotReader", "reader", "NoSnapshotError"]


class NoSnapshotError(RuntimeError):
    """No snapshot has been published yet (run ``python app.py demo`` or ``etl``)."""


@dataclass(frozen=True)
class SnapshotInfo:
    """What ``CURRENT`` points at."""

    name: str  # file name under snapshots/
    path: Path
    published_at: datetime  # UTC
    run_id: int | None
    checked_at: datetime | None = None  # UTC; last ETL cycle that found the data current

    @property
    def fresh_at(self) -> datetime:
        """When the data was last known current: the later of publication and the last check."""
        return max(self.published_at, self.checked_at or self.published_at)


def read_current(current_file: Path) -> SnapshotInfo | None:
    """Parse the pointer file; ``None`` when nothing is published."""
    try:
        data = json.loads(current_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    path = current_file.parent / "snapshots" / data["snapshot"]
    checked = data.get("checked_at")
    return SnapshotInfo(data["snapshot"], path, datetime.fromisoformat(data["published_at"]), data.get("run_id"),
                        datetime.fromisoformat(checked) if checked else None)


def _write_current(warehouse_dir: Path, info: SnapshotInfo) -> None:
    """Replace ``CURRENT`` atomically: readers see the old pointer or the new one, never half."""
    record = {"snapshot": info.name, "published_at": info.published_at.isoformat(), "run_id": info.run_id}
    if info.checked_at is not None:
        record["checked_at"] = info.checked_at.isoformat()
    tmp = warehouse_dir / f".CURRENT.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(record), encoding="utf-8")
    os.replace(tmp, warehouse_dir / "CURRENT")


def touch(warehouse_dir: Path) -> SnapshotInfo | None:
    """Record that an ETL cycle found nothing new: the current snapshot is still the latest data."""
    info = read_current(warehouse_dir / "CURRENT")
    if info is None:
        return None
    info = SnapshotInfo(info.name, info.path, info.published_at, info.run_id, datetime.now(UTC))
    _write_current(warehouse_dir, info)
    return info


def publish(con: duckdb.DuckDBPyConnection, warehouse_dir: Path, keep: int = 3, run_id: int | None = None,
            _before_swap=None) -> SnapshotInfo:
    """Copy the open work database into a new snapshot file and point ``CURRENT`` at it.

    Args:
        con: the writer's connection to ``work.duckdb``; it must have no open transaction.
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
    con.execute("CHECKPOINT")
    source = Path(con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
                              ).fetchone()[0])
    partial = snapshots / f".{name}.partial"
    try:
        shutil.copyfile(source, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    if _before_swap is not None:
        _before_swap()
    info = SnapshotInfo(name, target, now, run_id)
    _write_current(warehouse_dir, info)
    _prune(snapshots, name, keep)
    return info


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
            self._previous, self._con = self._con, con
        self._info = info  # same file, maybe a newer checked_at

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
        """Close the reader's connections (the current snapshot's and the previous one's)."""
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
