"""What the write side (ETL, marts, snapshots) and the read side (metrics, layers, dashboard) agree on.

One side-effect-free module both sides import: the table names, the stage-history window behind
the SLA-risk quantiles and their SQL text, and the formats of the small files beside the
warehouse (``CURRENT``, the pointer to the published snapshot, ``LAST_RUN.json``, how the last
ETL cycle went, and ``STORE_STATUS.json``, whether this host reaches the object store). Importing it opens no connection and reads no file, and it imports only the
standard library, so the web tier can depend on it without loading the ETL (a test checks this in
a fresh process).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

__all__ = ["TABLES", "STAGE_HISTORY_DAYS", "stage_history", "stage_quantiles_sql", "CURRENT_FILE", "LAST_RUN_FILE",
           "SNAPSHOTS_DIR", "SnapshotInfo", "current_text", "parse_current", "read_current", "LastRun",
           "last_run_text", "parse_last_run", "read_last_run", "STORE_STATUS_FILE", "StoreStatus", "store_status_text",
           "read_store_status"]

# Every table of the warehouse, in dependency order (columns: docs/data-dictionary.md).
TABLES = (
    "areas", "area_levels", "categories", "departments", "channels",
    "events", "people", "housing", "enterprises", "assets",
    "etl_runs", "etl_files", "quarantine", "warehouse_meta",
    "mart_daily_counts", "mart_backlog_daily", "mart_area_stats", "mart_open_cases", "mart_stage_quantiles",
)
# The SLA-risk warning judges a stage by the durations of the stages completed in this many days
# before local midnight (mart_stage_quantiles, stored by the ETL; metrics reads it or recomputes it).
STAGE_HISTORY_DAYS = 28
# The files beside the warehouse: <warehouse_dir>/CURRENT, <warehouse_dir>/LAST_RUN.json, <warehouse_dir>/snapshots/.
CURRENT_FILE = "CURRENT"
LAST_RUN_FILE = "LAST_RUN.json"
STORE_STATUS_FILE = "STORE_STATUS.json"  # only with an object store (data/objectstore.py, docs/object-store.md)
SNAPSHOTS_DIR = "snapshots"
_SQL_DIR = Path(__file__).resolve().parent / "sql"


def stage_history(day: date, tz: str) -> tuple[datetime, datetime]:
    """The history behind the stage quantiles of local ``day``: the :data:`STAGE_HISTORY_DAYS` before its midnight.

    >>> stage_history(date(2026, 11, 29), "Asia/Shanghai")[0].isoformat()
    '2026-11-01T00:00:00+08:00'
    """
    he = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz))
    return he - timedelta(days=STAGE_HISTORY_DAYS), he


@cache
def stage_quantiles_sql() -> str:
    """The stage-duration quantile query (``data/sql/stage_quantiles.sql``; parameters ``$hs``, ``$he``).

    The ETL stores its rows in ``mart_stage_quantiles``; a reader whose snapshot lacks the day's
    rows runs it over the same history. Read on first use, not at import.
    """
    return (_SQL_DIR / "stage_quantiles.sql").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------------
# CURRENT: {"snapshot": "<file name>", "published_at": "<ISO UTC>", "run_id": N, "checked_at": "<ISO UTC>"}
# ------------------------------------------------------------------------------------------------
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


def current_text(info: SnapshotInfo) -> str:
    """The text of ``CURRENT`` naming ``info`` (the writer replaces the file atomically with it)."""
    record = {"snapshot": info.name, "published_at": info.published_at.isoformat(), "run_id": info.run_id}
    if info.checked_at is not None:
        record["checked_at"] = info.checked_at.isoformat()
    return json.dumps(record)


def parse_current(text: str, warehouse_dir: Path) -> SnapshotInfo:
    """The snapshot a ``CURRENT`` text names, its path under ``warehouse_dir``.

    Raises:
        ValueError: the text is not a pointer (not JSON, or a field missing or malformed).
    """
    try:
        data = json.loads(text)
        checked = data.get("checked_at")
        return SnapshotInfo(data["snapshot"], Path(warehouse_dir) / SNAPSHOTS_DIR / data["snapshot"],
                            datetime.fromisoformat(data["published_at"]), data.get("run_id"),
                            datetime.fromisoformat(checked) if checked else None)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a CURRENT pointer: {exc}") from exc


def read_current(current_file: Path) -> SnapshotInfo | None:
    """Parse the pointer file; ``None`` when nothing is published."""
    try:
        text = Path(current_file).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return parse_current(text, Path(current_file).parent)


# ------------------------------------------------------------------------------------------------
# LAST_RUN.json: {"run_id": N, "kind": "events", "status": "ok|failed", "error": null, "finished_at": "<ISO UTC>"}
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LastRun:
    """How the last ETL cycle went, as the ETL wrote it beside ``CURRENT`` (also after a failed cycle)."""

    run_id: int | None
    kind: str | None
    status: str | None  # ok | failed
    error: str | None
    finished_at: datetime | None  # UTC


def last_run_text(run: LastRun) -> str:
    """The text of ``LAST_RUN.json`` for ``run``."""
    return json.dumps({"run_id": run.run_id, "kind": run.kind, "status": run.status, "error": run.error,
                       "finished_at": run.finished_at.isoformat() if run.finished_at else None})


def parse_last_run(text: str) -> LastRun | None:
    """The run a ``LAST_RUN.json`` text describes; ``None`` for a torn or foreign file (readers ignore it).

    >>> parse_last_run('{"run_id": 7, "status": "failed", "error": "disk full"}').status
    'failed'
    >>> parse_last_run('{"run_id": 7') is None
    True
    """
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    try:
        finished = data.get("finished_at")
        return LastRun(data.get("run_id"), data.get("kind"), data.get("status"), data.get("error"),
                       datetime.fromisoformat(finished) if finished else None)
    except (TypeError, ValueError):
        return None


def read_last_run(warehouse_dir: Path) -> LastRun | None:
    """``<warehouse_dir>/LAST_RUN.json`` if present and readable, else ``None``."""
    try:
        text = (Path(warehouse_dir) / LAST_RUN_FILE).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return parse_last_run(text)


# ------------------------------------------------------------------------------------------------
# STORE_STATUS.json: {"role": "pull|publish", "ok": true, "attempt_at": "<ISO UTC>", "last_ok_at": "<ISO UTC>",
#                     "unreachable_since": "<ISO UTC>"|null, "error": "..."|null, "snapshot": "<name>"|null}
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StoreStatus:
    """How this host's last exchange with the object store went, as its puller or publisher wrote it.

    ``unreachable_since`` is the first of the consecutive failed attempts (``None`` while the store
    answers); ``error`` is the last failure in one line (never a credential: botocore's messages name
    the endpoint and the operation only).
    """

    role: str  # pull | publish
    ok: bool
    attempt_at: datetime | None  # UTC
    last_ok_at: datetime | None = None
    unreachable_since: datetime | None = None
    error: str | None = None
    snapshot: str | None = None  # the snapshot the store's manifest names (as last seen)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def store_status_text(status: StoreStatus) -> str:
    """The text of ``STORE_STATUS.json`` for ``status``."""
    return json.dumps({"role": status.role, "ok": status.ok, "attempt_at": _iso(status.attempt_at),
                       "last_ok_at": _iso(status.last_ok_at), "unreachable_since": _iso(status.unreachable_since),
                       "error": status.error, "snapshot": status.snapshot})


def read_store_status(warehouse_dir: Path) -> StoreStatus | None:
    """``<warehouse_dir>/STORE_STATUS.json``; ``None`` without an object store or for a torn or foreign file.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / STORE_STATUS_FILE).write_text(store_status_text(StoreStatus("pull", False, None, error="down")))
    >>> read_store_status(d).error
    'down'
    """
    try:
        data = json.loads((Path(warehouse_dir) / STORE_STATUS_FILE).read_text(encoding="utf-8"))
        stamps = {k: datetime.fromisoformat(data[k]) if data.get(k) else None
                  for k in ("attempt_at", "last_ok_at", "unreachable_since")}
        return StoreStatus(str(data["role"]), bool(data["ok"]), error=data.get("error"), snapshot=data.get("snapshot"),
                           **stamps)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        return None
