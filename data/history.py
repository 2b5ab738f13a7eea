"""The case history as Hive-partitioned Parquet: what a Spark, Trino or DuckDB cluster reads past one machine.

``python app.py export history DIR`` writes the current snapshot's ``events`` table (one row per case,
its whole lifecycle) as::

    DIR/month=2026-11/area=R01/data_0.parquet
    DIR/month=2026-11/area=__HIVE_DEFAULT_PARTITION__/data_0.parquet   (cases with no top-level area)
    DIR/_manifest.json  _areas.csv  _README.txt  _SUCCESS

``month`` is the month of receipt in the deployment's zone (``YYYY-MM``); ``area`` is the id of the
case's area one level below the top area (a street in the demo, a region in LA's example), read from
``area_levels`` (depth 1), percent-encoded as Hive does. Every column of ``events`` stays in the files
with its own type (the partition values are extra, string columns), so a reader gets the table back
unchanged. Only plain Parquet types are written: strings, booleans, integers of 8 to 64 bits, doubles,
and timestamps as ``TIMESTAMP(isAdjustedToUTC=true, MICROS)``, an instant (Spark ``TIMESTAMP``, Trino
``timestamp(3) with time zone`` or a UTC ``timestamp``, DuckDB ``TIMESTAMPTZ``). A column of any other
type stops the export naming it.

Incremental: ``_manifest.json`` records, per month, the row count and a fingerprint of its rows
(``bit_xor(hash(row))``); the next export rewrites only the months whose fingerprint changed (cases
are updated for days after receipt, so usually the last month or two) and hard-links the files of the
others. A different schema, zone, area level, compression or DuckDB version (its ``hash`` may change),
or ``full=True``, rewrites everything.

Atomic: the new export is built in a hidden sibling folder ``.<name>.staging-<pid>`` and renamed to
``DIR`` only when complete (``_SUCCESS`` written last); the previous ``DIR`` is renamed aside first and
deleted after. A failure anywhere leaves the previous export (or none) as it was. Two exports to the
same ``DIR`` at once are serialised by a lock file ``.<name>.lock`` beside it. A ``DIR`` that exists,
is not empty and holds no manifest is never touched.

Read side only: the export opens the snapshot through :class:`data.snapshot.SnapshotReader`
(read-only) and never writes the warehouse.
"""

from __future__ import annotations

import csv
import fcntl
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import duckdb
import pyarrow.parquet as pq

from data.snapshot import SnapshotReader

__all__ = ["FORMAT_VERSION", "COMPRESSIONS", "ROW_GROUP_ROWS", "MANIFEST", "AREAS_FILE", "SUCCESS", "NULL_PARTITION",
           "HistoryExportError", "ExportResult", "export_history", "read_manifest", "month_start"]

FORMAT_VERSION = 1
SOURCE_TABLE = "events"
MONTH, AREA = "month", "area"  # the partition keys (folder names), strings
MANIFEST, AREAS_FILE, README_FILE, SUCCESS = "_manifest.json", "_areas.csv", "_README.txt", "_SUCCESS"
# Spark, Hive, Trino, pyarrow and DuckDB all write and read a NULL partition value as this folder name.
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
# zstd: the smallest files every current engine reads (Spark 3+, Trino, pyarrow, DuckDB); snappy for old Hive.
COMPRESSIONS = ("zstd", "snappy", "gzip", "uncompressed")
# DuckDB's default row group: about 10 MB of events uncompressed, 2-3 MB in zstd; a month x area
# partition of a 10-million-case demo is 2-3 row groups in one file (bench/history.py).
ROW_GROUP_ROWS = 122_880
# Column types written as plain Parquet types that Spark, Trino and pyarrow read without extensions.
PLAIN_TYPES = frozenset({"VARCHAR", "BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "FLOAT", "DOUBLE",
                         "DATE", "TIMESTAMP WITH TIME ZONE"})
_MONTH_RE = re.compile(r"^\d{4}-\d{2}$")
_ID_COLUMNS = {"street": "street_id", "community": "community_id", "grid": "grid_id", "microgrid": "microgrid_id"}


class HistoryExportError(RuntimeError):
    """The export cannot be made (its message says why and what to do); nothing was changed."""


@dataclass(frozen=True)
class ExportResult:
    """What one export did."""

    path: Path
    snapshot: str
    mode: str  # full | incremental | unchanged
    rows: int
    months_written: tuple[str, ...]
    months_kept: tuple[str, ...]
    months_removed: tuple[str, ...]
    files: int
    bytes: int
    seconds: float
    area_level: str
    timings: dict[str, float] = field(default_factory=dict)


def read_manifest(target: Path) -> dict | None:
    """The manifest of an export folder, ``None`` when it has none.

    Raises:
        HistoryExportError: the manifest is there but not one of ours.
    """
    path = Path(target) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise HistoryExportError(f"{path} cannot be read ({exc}); remove the folder or choose another one") from exc
    if not isinstance(data, dict) or data.get("format") != "gridpulse-history":
        raise HistoryExportError(f"{path} is not a GridPulse history manifest; choose another folder")
    return data


def export_history(settings, target: Path | str, full: bool = False, compression: str = "zstd",
                   _before_swap: Callable[[], None] | None = None) -> ExportResult:
    """Write (or bring up to date) the Hive-partitioned Parquet history of the current snapshot in ``target``.

    Args:
        settings: the deployment's settings (warehouse folder, time zone).
        target: the export folder; created, or replaced atomically when it holds an earlier export.
        full: rewrite every month even when the manifest says it is unchanged.
        compression: Parquet codec, one of :data:`COMPRESSIONS`.
        _before_swap: test hook called when the new export is complete, before it replaces ``target``.

    Returns:
        What was written.

    Raises:
        HistoryExportError: ``target`` is not an export folder, the table has a type Parquet readers would not
            share, or the top-level area cannot be told; nothing was changed.
        data.snapshot.NoSnapshotError: nothing is published yet.
    """
    if compression not in COMPRESSIONS:
        raise HistoryExportError(f"compression must be one of {', '.join(COMPRESSIONS)}, got {compression!r}")
    started = time.perf_counter()
    target = Path(target).absolute()
    _check_target(target)
    timings: dict[str, float] = {}
    with _locked(target):
        _remove_leftovers(target)
        previous = read_manifest(target) if target.exists() else None
        reader = SnapshotReader(settings.warehouse_dir, settings.timezone)
        try:
            cur = reader.cursor()
            snapshot = reader.info().name
            columns = _columns(cur)
            level, area_column = _top_level(cur, columns)
            settings_key = {"format_version": FORMAT_VERSION, "timezone": settings.timezone, "area_level": level,
                            "area_column": area_column, "columns": columns, "compression": compression,
                            "row_group_rows": ROW_GROUP_ROWS, "duckdb": duckdb.__version__}
            t = time.perf_counter()
            months, areas = _fingerprints(cur, area_column)
            timings["fingerprint"] = time.perf_counter() - t
            reuse = previous if previous is not None and not full and all(
                previous.get(k) == v for k, v in settings_key.items()) else None
            old = (reuse or {}).get("months", {})
            write = [m for m, fp in months.items() if old.get(m, {}).get("fingerprint") != fp["fingerprint"]
                     or old.get(m, {}).get("rows") != fp["rows"]]
            kept = [m for m in months if m not in write]
            removed = sorted(set(old) - set(months))
            mode = "full" if reuse is None else "incremental"
            if reuse is not None and not write and not removed:
                return _touch_manifest(target, reuse, snapshot, started, level)
            staging = target.parent / f".{target.name}.staging-{os.getpid()}"
            try:
                staging.mkdir()
                t = time.perf_counter()
                _write_months(cur, staging, area_column, {m: areas[m] for m in write}, compression,
                              settings.timezone)
                timings["write"] = time.perf_counter() - t
                for month in kept:
                    _link_tree(target / f"{MONTH}={month}", staging / f"{MONTH}={month}")
                files = _inventory(staging)
                written = sum(f["rows"] for fs in files.values() for f in fs)
                expected = sum(v["rows"] for v in months.values())
                if written != expected:  # counts add up, or nothing is published
                    raise HistoryExportError(f"the export holds {written:,} rows but the snapshot {expected:,} (files of an "
                                             "earlier export missing? run with --full)")
                _write_areas(cur, staging, level)
                manifest = {"format": "gridpulse-history", **settings_key, "snapshot": snapshot,
                            "exported_at": datetime.now(UTC).isoformat(), "source_table": SOURCE_TABLE,
                            "partitioning": [MONTH, AREA], "null_partition": NULL_PARTITION,
                            "sorted_by": ["received_at", "case_id"], "rows": written,
                            "months": {m: {**months[m], "files": files.get(m, [])} for m in months}}
                _write_readme(staging, manifest)
                (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
                (staging / SUCCESS).write_bytes(b"")  # last: a folder with _SUCCESS is complete
                if _before_swap is not None:
                    _before_swap()
                _swap(staging, target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        finally:
            reader.close()
    n_files = sum(len(fs) for fs in files.values())
    n_bytes = sum(f["bytes"] for fs in files.values() for f in fs)
    return ExportResult(target, snapshot, mode, written, tuple(write),
                        tuple(kept), tuple(removed), n_files, n_bytes, time.perf_counter() - started, level, timings)


def _check_target(target: Path) -> None:
    """Refuse a target that is a file, or a non-empty folder that is not an export (its files are not ours)."""
    if target.exists() and not target.is_dir():
        raise HistoryExportError(f"{target} exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not (target / MANIFEST).exists():
        raise HistoryExportError(f"{target} is not empty and holds no {MANIFEST}: it is not a GridPulse history "
                                 "export, and nothing in it is replaced; choose a new or empty folder")
    if not target.parent.is_dir():
        raise HistoryExportError(f"{target.parent} does not exist")


@contextmanager
def _locked(target: Path) -> Iterator[None]:
    """Hold ``.<name>.lock`` beside ``target``: one export into a folder at a time."""
    lock = target.parent / f".{target.name}.lock"
    with open(lock, "a+b") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise HistoryExportError(f"another export into {target} is running ({lock} is locked)") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _remove_leftovers(target: Path) -> None:
    """Delete what an interrupted export left beside ``target`` (under the lock, no export is running)."""
    for prefix in (f".{target.name}.staging-", f".{target.name}.old-"):
        for path in target.parent.glob(prefix + "*"):
            shutil.rmtree(path, ignore_errors=True)


def _columns(cur: duckdb.DuckDBPyConnection) -> list[list[str]]:
    """``[name, type]`` of every column of the case table, refusing types a Parquet reader would not share."""
    columns = [[r[0], r[1]] for r in cur.execute(f"DESCRIBE {SOURCE_TABLE}").fetchall()]
    for name, kind in columns:
        if kind not in PLAIN_TYPES:
            raise HistoryExportError(f"column {SOURCE_TABLE}.{name} has type {kind}, which is not exported as a plain "
                                     f"Parquet type ({', '.join(sorted(PLAIN_TYPES))})")
        if name in (MONTH, AREA):
            raise HistoryExportError(f"column {SOURCE_TABLE}.{name} has the name of a partition key")
    return columns


def _top_level(cur: duckdb.DuckDBPyConnection, columns: list[list[str]]) -> tuple[str, str]:
    """The level one below the top area and the column of ``events`` that holds it.

    From ``area_levels`` (depth 1); when that is empty, the level of the areas whose parent is the top area.
    """
    row = cur.execute("SELECT level FROM area_levels WHERE depth = 1").fetchone()
    if row is None:
        row = cur.execute("SELECT a.level FROM areas a JOIN areas d ON a.parent_id = d.area_id "
                          "WHERE d.level = 'district' GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()
    if row is None or row[0] not in _ID_COLUMNS:
        raise HistoryExportError("the snapshot names no level below the top area (area_levels and areas are empty): "
                                 "import the geography first (app.py geography import)")
    column = _ID_COLUMNS[row[0]]
    if column not in {c[0] for c in columns}:
        raise HistoryExportError(f"{SOURCE_TABLE} has no column {column} for the level {row[0]}")
    return row[0], column


_MONTH_SQL = "strftime(received_at, '%Y-%m')"  # local month: every connection has the deployment's TimeZone


def _fingerprints(cur: duckdb.DuckDBPyConnection, area_column: str) -> tuple[dict[str, dict], dict[str, list]]:
    """Per month of receipt, its rows and a fingerprint of all their values; and its top-level areas.

    The fingerprint changes when any value of any row of the month does; an area ``None`` holds the cases
    with no top-level area. One scan of the table.
    """
    rows = cur.execute(f"SELECT {_MONTH_SQL} AS month, {area_column} AS area, count(*), bit_xor(hash(e)) "
                       f"FROM {SOURCE_TABLE} e GROUP BY ALL ORDER BY 1, 2 NULLS LAST").fetchall()
    months: dict[str, dict] = {}
    areas: dict[str, list] = {}
    for month, area, n, fp in rows:
        m = months.setdefault(month, {"rows": 0, "fingerprint": 0})
        m["rows"] += n
        m["fingerprint"] ^= fp
        areas.setdefault(month, []).append(area)
    for m in months.values():
        m["fingerprint"] = f"{m['fingerprint']:016x}"
    return months, areas


def month_start(month: str, tz: str, later: int = 0) -> datetime:
    """Local midnight of the first day of ``month`` (``YYYY-MM``), or of the month ``later`` months after it.

    >>> month_start("2026-12", "Asia/Shanghai", 1).isoformat()
    '2027-01-01T00:00:00+08:00'
    """
    year, mon = (int(x) for x in month.split("-"))
    year, mon = year + (mon - 1 + later) // 12, (mon - 1 + later) % 12 + 1
    return datetime(year, mon, 1, tzinfo=ZoneInfo(tz))


def _sql_path(path: Path) -> str:
    """A path as a SQL string literal (COPY TO takes no parameter for its file)."""
    return "'" + str(path).replace("'", "''") + "'"


def _folder(area: str | None) -> str:
    """The ``area=`` folder value: the id percent-encoded as DuckDB and Hive write it, NULL as Hive's default."""
    return NULL_PARTITION if area is None else quote(area, safe="")


def _write_months(cur: duckdb.DuckDBPyConnection, staging: Path, area_column: str, areas: dict[str, list],
                  compression: str, tz: str) -> None:
    """COPY each (month, area) of ``areas`` into ``staging/month=M/area=A/data_0.parquet``, in receipt order.

    One COPY per partition rather than one ``PARTITION_BY`` COPY of everything: memory stays at one
    partition (about 0.4 GB at 10 million cases, where the single COPY held 5 GB), each file is sorted by
    ``received_at`` (its row groups' min/max let every engine skip by time), and the month's range lets
    DuckDB read only that month's row groups (zone maps).
    """
    for month, month_areas in areas.items():
        assert _MONTH_RE.match(month)
        lo, hi = month_start(month, tz), month_start(month, tz, 1)
        for area in month_areas:
            folder = staging / f"{MONTH}={month}" / f"{AREA}={_folder(area)}"
            folder.mkdir(parents=True)
            cur.execute(f"COPY (SELECT * FROM {SOURCE_TABLE} WHERE received_at >= $lo AND received_at < $hi "
                        f"AND {area_column} IS NOT DISTINCT FROM $area ORDER BY received_at, case_id) "
                        f"TO {_sql_path(folder / 'data_0.parquet')} (FORMAT parquet, COMPRESSION {compression}, "
                        f"ROW_GROUP_SIZE {ROW_GROUP_ROWS})", {"lo": lo, "hi": hi, "area": area})


def _link_tree(source: Path, dest: Path) -> None:
    """Hard-link an unchanged month's files into the new export (copy where links are not possible)."""
    for path in source.rglob("*.parquet"):
        out = dest / path.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, out)
        except OSError:
            shutil.copy2(path, out)


def _inventory(root: Path) -> dict[str, list[dict]]:
    """Per month: each Parquet file's path (relative), rows and bytes, from the files' own footers."""
    out: dict[str, list[dict]] = {}
    for path in sorted(root.glob(f"{MONTH}=*/{AREA}=*/*.parquet")):
        month = path.parent.parent.name.split("=", 1)[1]
        out.setdefault(month, []).append({"path": path.relative_to(root).as_posix(),
                                          "rows": pq.read_metadata(path).num_rows, "bytes": path.stat().st_size})
    return out


def _write_areas(cur: duckdb.DuckDBPyConnection, staging: Path, level: str) -> None:
    """``_areas.csv``: each top-level area's id, its folder (percent-encoded as written) and its names."""
    rows = cur.execute("SELECT area_id, name, name_en FROM areas WHERE level = ? ORDER BY area_id", [level]).fetchall()
    with open(staging / AREAS_FILE, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["area_id", "folder", "level", "name", "name_en"])
        for area_id, name, name_en in rows:
            w.writerow([area_id, f"{AREA}={_folder(area_id)}", level, name, name_en])
        w.writerow(["", f"{AREA}={NULL_PARTITION}", level, "(无)", "(none: the case has no area at this level)"])


def _write_readme(staging: Path, manifest: dict) -> None:
    """``_README.txt``: what the folder is, for whoever finds it on a bucket (engines skip ``_`` files)."""
    cols = "\n".join(f"  {name:<16} {kind}" for name, kind in manifest["columns"])
    (staging / README_FILE).write_text(
        f"GridPulse case history: the '{SOURCE_TABLE}' table of snapshot {manifest['snapshot']},\n"
        f"exported {manifest['exported_at']}; {manifest['rows']:,} rows.\n\n"
        f"Hive-partitioned Parquet ({manifest['compression']}): {MONTH}=YYYY-MM (month of received_at in "
        f"{manifest['timezone']}) / {AREA}=<id of the {manifest['area_level']}, column {manifest['area_column']}>.\n"
        f"Cases with no {manifest['area_level']}: {AREA}={NULL_PARTITION} (read as NULL). Partition values are strings;\n"
        "declare them so (DuckDB: hive_types={'month': 'VARCHAR', 'area': 'VARCHAR'}). Timestamps are instants\n"
        "(Parquet TIMESTAMP isAdjustedToUTC=true, microseconds). _areas.csv maps area folders to names;\n"
        "_manifest.json lists every file with its rows; _SUCCESS is written last.\n\nColumns:\n" + cols + "\n",
        encoding="utf-8")


def _swap(staging: Path, target: Path) -> None:
    """Put the complete ``staging`` folder in ``target``'s place: readers see the old export or the new one."""
    if not target.exists():
        os.rename(staging, target)
        return
    if not any(target.iterdir()):
        os.replace(staging, target)  # an empty folder is replaced in one rename
        return
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    os.rename(target, old)
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _touch_manifest(target: Path, manifest: dict, snapshot: str, started: float, level: str) -> ExportResult:
    """Nothing changed since the last export: record the newer snapshot in the manifest (atomic file replace)."""
    manifest = {**manifest, "snapshot": snapshot, "exported_at": datetime.now(UTC).isoformat()}
    tmp = target / f".{MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, target / MANIFEST)
    files = [f for m in manifest["months"].values() for f in m["files"]]
    return ExportResult(target, snapshot, "unchanged", manifest["rows"], (), tuple(manifest["months"]), (), len(files),
                        sum(f["bytes"] for f in files), time.perf_counter() - started, level)
