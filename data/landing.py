"""The landing zone: which files are ready, which the checksum ledger has seen, and moving done files away.

``var/landing/<table>/`` (sub-folders too) holds the files sources drop. A file loads once per
content: the ledger ``etl_files`` keeps the (path, SHA-256) of every file a committed cycle read,
loaded or rejected. After the commit the cycle moves those files to
``landing/<table>/.done/<local date>/<path under the table folder>`` (:func:`move_done`), where the
scan never looks, so a cycle's scan costs what is new, not everything ever landed (the simulator
alone adds 5,760 files a day; ``bench/landing_scan.py``). The ledger, not the move, is what keeps
a file from loading twice: a file the move could not take away is found in the ledger by the next
cycle and moved then.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

__all__ = ["reset", "LandingFile", "scan_landing", "file_sha256", "in_ledger", "move_done", "done_path", "DONE_DIR",
           "SETTLE_SECONDS", "MAX_CYCLE_FILES", "MAX_CYCLE_BYTES"]

log = logging.getLogger(__name__)

# A file modified less than this long ago may still be growing: it waits for the next cycle.
SETTLE_SECONDS = 2.0
# One cycle reads at most this much; the rest of a backlog waits for the next cycles (bounded memory).
MAX_CYCLE_FILES = 2000
MAX_CYCLE_BYTES = 1 << 30
# Where done files go, under each table's folder; a dot-folder, which the scan skips.
DONE_DIR = ".done"
# Name parts that mark a file as not finished by its writer.
_PARTIAL_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".filepart")
# (size, mtime_ns, sha256) by path: a file the ledger knows and the move could not take away is not read again.
_hash_cache: dict[str, tuple[int, int, str]] = {}


def reset() -> None:
    """Forget the remembered checksums (the test suite's process-state reset)."""
    _hash_cache.clear()


@dataclass(frozen=True)
class LandingFile:
    """A candidate file in the landing zone."""

    path: Path
    rel: str  # relative to var/landing, with forward slashes: the ledger's path
    table: str
    size: int
    mtime_ns: int


def scan_landing(landing: Path, tables: tuple[str, ...], settle_seconds: float = SETTLE_SECONDS,
                 now: float | None = None) -> tuple[list[LandingFile], int]:
    """Files ready to load, in load order (table order, then path name order), and how many wait.

    Name files so that name order is time order (a UTC timestamp prefix): a table's files load in
    that order, which decides between a full extract and a later delta of the same table. Folders
    and files whose name starts with a dot (``.done`` among them) are not walked.
    """
    now = time.time() if now is None else now
    ready: list[LandingFile] = []
    waiting = 0
    for table in tables:
        root = landing / table
        if not root.is_dir():
            continue
        for p in sorted(_walk(root)):
            if p.name.lower().endswith(_PARTIAL_SUFFIXES):
                waiting += 1
                continue
            try:
                st = p.stat()
            except FileNotFoundError:  # taken away between the listing and now
                continue
            if now - st.st_mtime < settle_seconds:
                waiting += 1
                continue
            ready.append(LandingFile(p, p.relative_to(landing).as_posix(), table, st.st_size, st.st_mtime_ns))
    return ready, waiting


def _walk(root: Path) -> list[Path]:
    """Every regular file under ``root``, not descending into dot-folders (``os.walk`` pruned in place)."""
    out: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        base = Path(folder)
        out.extend(base / f for f in files if not f.startswith(".") and os.path.isfile(os.path.join(folder, f)))
    return out


def file_sha256(f: LandingFile) -> str | None:
    """The file's checksum, or None when it changed while being read (left for the next cycle).

    Cached by (size, mtime) for the files still in the landing zone after a cycle (a move that
    failed): a stat each, not a read each.
    """
    key = str(f.path)
    hit = _hash_cache.get(key)
    if hit and hit[0] == f.size and hit[1] == f.mtime_ns:
        return hit[2]
    h = hashlib.sha256()
    with f.path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    st = f.path.stat()
    if st.st_size != f.size or st.st_mtime_ns != f.mtime_ns:
        return None
    digest = h.hexdigest()
    _hash_cache[key] = (f.size, f.mtime_ns, digest)
    return digest


def in_ledger(con: duckdb.DuckDBPyConnection, files: list[LandingFile]) -> set[tuple[str, str]]:
    """The (path, sha256) pairs of ``files``' paths already in the ledger ``etl_files``."""
    if not files:
        return set()
    return set(con.execute("SELECT path, sha256 FROM etl_files WHERE path IN (SELECT unnest(?::VARCHAR[]))",
                           [[f.rel for f in files]]).fetchall())


def done_path(landing: Path, f: LandingFile, day: str) -> Path:
    """Where a done file goes: ``<table>/.done/<day>/<its path under the table folder>``."""
    return landing / f.table / DONE_DIR / day / Path(f.rel).relative_to(f.table)


def move_done(landing: Path, files: list[LandingFile], now: datetime) -> int:
    """Move files the committed ledger holds out of the scan's way; returns how many could not be moved.

    ``now`` (timezone-aware, the deployment's zone) names the day folder. A same-named file done
    earlier that day keeps its place: the newcomer gets ``.1``, ``.2`` … before its suffix. A
    failed move is logged and left for the next cycle, which finds the file in the ledger, does
    not load it again and tries the move again.
    """
    day = f"{now:%Y-%m-%d}"
    failed = 0
    for f in files:
        _hash_cache.pop(str(f.path), None)
        target = done_path(landing, f, day)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            n = 0
            while target.exists():
                n += 1
                target = target.with_name(f"{Path(f.rel).stem}.{n}{Path(f.rel).suffix}")
            os.rename(f.path, target)  # same file system: atomic, never a half-moved file
        except FileNotFoundError:
            continue  # gone already (the operator's retention, or a second move): nothing to do
        except OSError as exc:
            failed += 1
            log.warning("could not move the done file %s to %s (the ledger keeps it from loading again): %s",
                        f.rel, target.relative_to(landing), exc)
    return failed
