"""The briefing archive: ``var/reports/<scope>/<year>-W<week>[.<lang>].pdf``, its metadata and the run log.

Every PDF has a sidecar ``.json`` with what the listing shows (scope name, week dates, pages,
partial or not, when written and how long it took). Both are written to a temporary file in the
same folder and moved into place with ``os.replace``, PDF first: a reader sees the old briefing
or the new one, never half of one, and a crash leaves at most a ``.tmp`` file, which the next
write of that week replaces and the listing ignores.

The run log (``runs.jsonl``, one JSON object per line, appended) records every attempt (from the
schedule, the command line or the ``/briefings`` page) with its outcome, so a failed Monday run
is visible on the page rather than only in a log file.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from dashboard.briefing.week import IsoWeek

__all__ = ["Report", "RUNS_FILE", "list_reports", "read_runs", "record_run", "report_path", "scope_folder",
           "write_atomic", "find_report"]

RUNS_FILE = "runs.jsonl"
_RUNS_KEPT = 500  # the log is cut back to this many lines when it grows past twice as many
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")
_NAME = re.compile(r"^(\d{4})-W(\d{2})(?:\.([a-z]{2}))?\.pdf$")


class Report(NamedTuple):
    """One archived briefing as the listing shows it."""

    path: Path
    scope_id: str
    scope_name: str
    week: IsoWeek
    lang: str
    size: int
    written_at: datetime
    partial: bool
    pages: int | None
    seconds: float | None


def scope_folder(scope_id: str) -> str:
    """A folder name for an area id: the id itself when it is safe in a path, else with ``_`` for the rest."""
    name = _UNSAFE.sub("_", scope_id).strip(".")
    return name or "_"


def report_path(reports_dir: Path, scope_id: str, week: IsoWeek, lang: str, default_lang: str) -> Path:
    """Where the briefing of ``scope_id`` for ``week`` in ``lang`` lives (no language suffix for the default one)."""
    suffix = "" if lang == default_lang else f".{lang}"
    return reports_dir / scope_folder(scope_id) / f"{week}{suffix}.pdf"


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _meta(pdf: Path) -> dict[str, Any]:
    try:
        return json.loads(pdf.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def list_reports(reports_dir: Path, default_lang: str) -> list[Report]:
    """Every archived briefing, newest week first (then scope, then language)."""
    found = []
    for pdf in reports_dir.glob("*/*.pdf") if reports_dir.is_dir() else ():
        m = _NAME.match(pdf.name)
        if m is None:
            continue
        meta = _meta(pdf)
        stat = pdf.stat()
        week = IsoWeek(int(m.group(1)), int(m.group(2)))
        found.append(Report(
            path=pdf, scope_id=str(meta.get("scope_id") or pdf.parent.name),
            scope_name=str(meta.get("scope_name") or meta.get("scope_id") or pdf.parent.name), week=week,
            lang=m.group(3) or default_lang, size=stat.st_size,
            written_at=datetime.fromtimestamp(stat.st_mtime).astimezone(), partial=bool(meta.get("partial")),
            pages=meta.get("pages"), seconds=meta.get("seconds")))
    return sorted(found, key=lambda r: (-r.week.year, -r.week.week, r.scope_id, r.lang))


def find_report(reports_dir: Path, folder: str, name: str) -> Path | None:
    """The archived PDF ``<folder>/<name>`` when both parts are archive names (nothing else is ever served)."""
    if _NAME.match(name) is None or scope_folder(folder) != folder:
        return None
    path = reports_dir / folder / name
    return path if path.is_file() else None


def record_run(reports_dir: Path, entry: dict[str, Any]) -> None:
    """Append one attempt to the run log (a single ``write`` of one line: appends from several processes do not interleave)."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    log = reports_dir / RUNS_FILE
    line = (json.dumps(entry, ensure_ascii=False, default=str) + "\n").encode("utf-8")
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
    _trim(log)


def _trim(log: Path) -> None:
    try:
        lines = log.read_bytes().splitlines(keepends=True)
    except OSError:
        return
    if len(lines) > 2 * _RUNS_KEPT:
        write_atomic(log, b"".join(lines[-_RUNS_KEPT:]))


def read_runs(reports_dir: Path, limit: int = 50) -> list[dict[str, Any]]:
    """The last ``limit`` attempts, newest first (a line that is not JSON is skipped)."""
    return list(_runs(reports_dir / RUNS_FILE))[-limit:][::-1]


def _runs(log: Path) -> Iterator[dict[str, Any]]:
    try:
        text = log.read_text(encoding="utf-8")
    except OSError:
        return
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            yield entry
