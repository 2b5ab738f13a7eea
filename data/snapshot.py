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

Write side: :func:`publish`, :func:`touch`, and for a host that receives its snapshots from elsewhere (the
object store's puller, :mod:`data.objectstore`) :func:`write_current`, :func:`write_atomic` and :func:`prune`.
Read side: :class:`SnapshotReader` (one per process, see
:func:`reader`), :func:`read_current`, :class:`SnapshotInfo`, :class:`NoSnapshotError`. The format of
``CURRENT`` itself is in :mod:`data.contract` (``SnapshotInfo`` and ``read_current`` are re-exported
here from it).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from data.contract import CURRENT_FILE, SNAPSHOTS_DIR, SnapshotInfo, current_text, read_current
from data.warehouse import connect

__all__ = ["SnapshotInfo", "publish", "touch", "read_current", "write_current", "write_atomic", "prune",
           "SnapshotReader", "NoSnapshotError"]


class NoSnapshotError(RuntimeError):
    """No snapshot has been published yet (run ``python app.py demo`` or ``etl``)."""


def write_atomic(path: Path, text: str) -> None:
    """Replace the small file ``path`` atomically (temp file beside it + ``os.replace``): old or new, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_current(warehouse_dir: Path, info: SnapshotInfo) -> None:
    """Replace ``CURRENT`` atomically: readers see the old pointer or the new one, never half."""
    write_atomic(Path(warehouse_dir) / CURRENT_FILE, current_text(info))


def touch(warehouse_dir: Path) -> SnapshotInfo | None:
    """Record that an ETL cycle found nothing new: the current snapshot is still the latest data."""
    info = read_current(warehouse_dir / CURRENT_FILE)
    if info is None:
        return None
    info = SnapshotInfo(info.name, info.path, info.published_at, info.run_id, datetime.now(UTC))
    write_current(warehouse_dir, info)
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

    Raises:
        OSError: the copy or the pointer swap failed; ``CURRENT`` still names the previous snapshot and
            the new file is removed.
    """
    snapshots = warehouse_dir / SNAPSHOTS_DIR
    snapshots.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    name = f"{now:%Y%m%dT%H%M%S%f}-{run_id or 0}.duckdb"
    target = snapshots / name
    con.execute("CHECKPOINT")
    source = Path(con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
                              ).fetchone()[0])
    partial = snapshots / f".{name}.partial"
    info = SnapshotInfo(name, target, now, run_id)
    try:
        shutil.copyfile(source, partial)
        os.replace(partial, target)
        if _before_swap is not None:
            _before_swap()
        write_current(warehouse_dir, info)
    except BaseException:
        target.unlink(missing_ok=True)  # CURRENT never named it: no half-published snapshot stays behind
        raise
    finally:
        partial.unlink(missing_ok=True)
    prune(snapshots, name, keep)
    return info


def prune(snapshots: Path, current: str, keep: int) -> None:
    """Delete all but the newest ``keep`` snapshots (never the current one).

    Readers that still have an old file open keep reading it: on POSIX an unlinked file lives
    until its last descriptor closes.
    """
    files = sorted(p for p in snapshots.glob("*.duckdb"))
    for old in files[:-keep]:
        if old.name != current:
            old.unlink(missing_ok=True)
            Path(str(old) + ".wal").unlink(missing_ok=True)


def _closed(con: duckdb.DuckDBPyConnection) -> bool:
    """Close ``con`` if no query of another thread is still using it (DuckDB refuses); whether it is closed."""
    try:
        con.close()
        return True
    except duckdb.Error:  # a slow request is still reading the snapshot from two switches ago: next time
        return False


class SnapshotReader:
    """A process's read-only view of the current snapshot.

    ``cursor()`` is cheap: it checks the pointer at most every ``check_every`` seconds and reopens
    only when it changed. The previous connection stays open until the next switch so cursors
    handed out just before a switch finish their query; an older one that a slow query still uses
    is closed at a later switch, when DuckDB lets it go.
    """

    def __init__(self, warehouse_dir: Path, timezone: str, check_every: float = 1.0):
        self._current_file = warehouse_dir / CURRENT_FILE
        self._timezone = timezone
        self._check_every = check_every
        self._lock = threading.Lock()
        self._info: SnapshotInfo | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._previous: duckdb.DuckDBPyConnection | None = None
        self._previous_name: str | None = None
        self._retired: list[duckdb.DuckDBPyConnection] = []  # older connections a slow query still used
        self._checked = 0.0

    def _refresh(self) -> None:
        info = read_current(self._current_file)
        if info is None:
            raise NoSnapshotError(f"no snapshot published under {self._current_file.parent}")
        if self._info is None or info.name != self._info.name:
            con = connect(info.path, self._timezone, read_only=True)
            if self._previous is not None:
                self._retired.append(self._previous)
            self._retired = [old for old in self._retired if not _closed(old)]
            self._previous, self._con = self._con, con
            self._previous_name = None if self._info is None else self._info.name
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

    def cursor_on(self, name: str) -> duckdb.DuckDBPyConnection | None:
        """A cursor on snapshot ``name`` if it is the current or the previous one, else ``None``.

        For a reader that keeps answering from the snapshot before the newest for a few seconds
        (the analyst pages while the new one's results are computed: ``dashboard.runtime``); the
        pointer is not checked here.
        """
        with self._lock:
            if self._info is not None and name == self._info.name and self._con is not None:
                con = self._con
            elif name == self._previous_name and self._previous is not None:
                con = self._previous
            else:
                return None
            cur = con.cursor()
        cur.execute("SET TimeZone = ?", [self._timezone])
        return cur

    def current(self) -> SnapshotInfo:
        """The current snapshot, switching first if ``CURRENT`` changed (as :meth:`cursor` does), without a cursor.

        Raises:
            NoSnapshotError: nothing is published yet.
        """
        with self._lock:
            now = time.monotonic()
            if self._con is None or now - self._checked >= self._check_every:
                self._refresh()
                self._checked = now
            return self._info

    def info(self) -> SnapshotInfo:
        """The snapshot the last cursor came from."""
        if self._info is None:
            self.cursor().close()
        return self._info

    def close(self) -> None:
        """Close the reader's connections (the current snapshot's and the previous one's)."""
        with self._lock:
            for con in (self._con, self._previous, *self._retired):
                if con is not None:
                    con.close()
            self._con = self._previous = self._info = self._previous_name = None
            self._retired = []
