"""The ETL cycle: landing files → validate → locate → upsert → marts → snapshot.

One call of :func:`run_cycle` is one cycle (the scheduler runs one every minute, ``python app.py
etl`` runs one by hand):

1. **scan** ``var/landing/<table>/`` (sub-folders too) for CSV, Parquet and JSON Lines files. Files
   named ``*.tmp``/``*.part`` or starting with a dot, and files modified in the last
   ``settle_seconds`` (still being written) wait for the next cycle. A file whose (path, SHA-256)
   is in the ledger ``etl_files`` was done already: each content of a path loads once.
2. **read** every new file into DuckDB temporary tables (:mod:`data.readers`), outside any
   transaction: a DuckDB read error aborts the transaction it happens in, and a corrupt file must
   reject that file only. A whole-file problem (:class:`data.readers.FileError`) is recorded in the
   ledger with its error and the cycle goes on.
3. **one transaction** for everything the cycle writes: per batch of files (consecutive files of a
   table with the same columns), validate and locate (:mod:`data.validate`), quarantine the
   failing rows, merge the rest; record every file in the ledger; refresh the marts (only the
   changed days after a small load); record the run's counts.
4. **publish** a snapshot (:func:`data.snapshot.publish`) after the commit.

Crash safety: anything that raises before the commit rolls the transaction back (no rows, no
quarantine, no ledger entries: the next cycle sees the same files again); the run is recorded as
``failed`` with its error. A failure after the commit but before the pointer swap (publish) leaves
``CURRENT`` on the previous snapshot; the next cycle sees committed data newer than ``CURRENT`` and
publishes it even when no new file arrived. One writer: a process-wide lock serialises cycles, and
DuckDB's file lock keeps a second process out of ``work.duckdb``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import shapely

from data import readers
from data.marts import (
    INCREMENTAL_MAX_DAYS,
    rebuild_marts,
    refresh_marts_for_days,
    refresh_repeats,
    refresh_stage_quantiles,
)
from data.pii import pii_key
from data.readers import FileError, format_of
from data.snapshot import publish, read_current, touch
from data.validate import (
    LANDING_TABLES,
    ColumnPlan,
    check_rows,
    locate,
    mark_duplicates,
    plan_columns,
    quarantine_rows,
    spec,
)
from data.warehouse import apply_schema, connect

__all__ = ["FileResult", "CycleResult", "run_cycle", "last_runs", "LandingFile", "scan_landing", "extract_mode",
           "EVENT_TABLES", "REFERENCE_TABLES", "SETTLE_SECONDS", "MAX_CYCLE_FILES", "MAX_CYCLE_BYTES"]

log = logging.getLogger(__name__)

EVENT_TABLES = ("events",)
REFERENCE_TABLES = LANDING_TABLES  # the nightly job loads everything, reference tables first
# A file modified less than this long ago may still be growing: it waits for the next cycle.
SETTLE_SECONDS = 2.0
# Name parts that mark a file as not finished by its writer.
_PARTIAL_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".filepart")
_FULL_NAME = re.compile(r"(^|[_.\-])full([_.\-]|$)", re.IGNORECASE)
_DELTA_NAME = re.compile(r"(^|[_.\-])delta([_.\-]|$)", re.IGNORECASE)
# One cycle reads at most this much; the rest of a backlog waits for the next cycles (bounded memory).
MAX_CYCLE_FILES = 2000
MAX_CYCLE_BYTES = 1 << 30
# Above this many changed cases the marts are rebuilt instead of refreshed day by day.
_INCREMENTAL_MAX_ROWS = 100_000
_SQL_DIR = Path(__file__).resolve().parent / "sql"
_NOT_IDLE = "WHERE files > 0 OR status <> 'ok' OR snapshot IS NOT NULL OR kind NOT IN ('events', 'reference')"
_writer_lock = threading.Lock()
_hash_cache: dict[str, tuple[int, int, str]] = {}


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


@dataclass(frozen=True)
class LandingFile:
    """A candidate file in the landing zone."""

    path: Path
    rel: str  # relative to var/landing, with forward slashes
    table: str
    size: int
    mtime_ns: int


def _sql(name: str) -> str:
    return (_SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------------
# Landing zone
# ------------------------------------------------------------------------------------------------
def scan_landing(landing: Path, tables: tuple[str, ...], settle_seconds: float = SETTLE_SECONDS,
                 now: float | None = None) -> tuple[list[LandingFile], int]:
    """Files ready to load, in load order (table order, then path name order), and how many wait.

    Name files so that name order is time order (a UTC timestamp prefix): a table's files load in
    that order, which decides between a full extract and a later delta of the same table.
    """
    now = time.time() if now is None else now
    ready: list[LandingFile] = []
    waiting = 0
    for table in tables:
        root = landing / table
        if not root.is_dir():
            continue
        for p in sorted(root.rglob("*")):
            rel_parts = p.relative_to(root).parts
            if any(part.startswith(".") for part in rel_parts) or not p.is_file():
                continue
            if p.name.lower().endswith(_PARTIAL_SUFFIXES):
                waiting += 1
                continue
            st = p.stat()
            if now - st.st_mtime < settle_seconds:
                waiting += 1
                continue
            ready.append(LandingFile(p, p.relative_to(landing).as_posix(), table, st.st_size, st.st_mtime_ns))
    return ready, waiting


def _sha256(f: LandingFile) -> str | None:
    """The file's checksum, or None when it changed while being read (left for the next cycle).

    Cached by (size, mtime) so a landing folder of thousands of done files costs a stat each, not a
    read each, per cycle.
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


def extract_mode(con: duckdb.DuckDBPyConnection, table: str, rel: str, view: str | None = None) -> str:
    """``upsert`` for events; ``full`` or ``delta`` for a reference table.

    A reference file is a full extract when its name has the word ``full`` (``people_full_20261129.csv``,
    ``full-2026.parquet``) or its ``_extract`` column says ``full``; otherwise a delta. The column wins
    over the name.

    Raises:
        FileError: ``_extract`` has values other than full/delta, or both.
    """
    if not spec(table).reference:
        return "upsert"
    if view is not None:  # the staged file has an _extract column
        values = [r[0] for r in con.execute(
            f"SELECT DISTINCT lower(trim(CAST(_extract AS VARCHAR))) FROM {view} WHERE _extract IS NOT NULL").fetchall()]
        if len(values) > 1 or (values and values[0] not in ("full", "delta")):
            raise FileError("file_columns", f"_extract must be 'full' or 'delta' on every row, found {values}")
        if values:
            return values[0]
    stem = Path(rel).name
    return "full" if _FULL_NAME.search(stem) and not _DELTA_NAME.search(stem) else "delta"


# ------------------------------------------------------------------------------------------------
# One file
# ------------------------------------------------------------------------------------------------
@dataclass
class _Staged:
    """A file read and planned (phase 1, outside the transaction), waiting to be applied."""

    file: LandingFile
    digest: str
    tag: str
    plan: ColumnPlan | None = None
    mode: str = ""
    rows: int = 0
    error: str | None = None
    sig: tuple = ()  # files with the same signature can be validated as one batch


def _stage(con: duckdb.DuckDBPyConnection, f: LandingFile, digest: str, tag: str) -> _Staged:
    """Read and plan one file; a whole-file problem is kept as the file's error, not raised.

    Runs outside the cycle's transaction: a DuckDB error while reading (a corrupt Parquet footer)
    aborts the transaction it happens in, and one bad file must not abort the cycle.
    """
    st = _Staged(f, digest, tag)
    try:
        fmt = format_of(f.path)
        if fmt is None:
            raise FileError("file_format", f"unknown file type {f.path.suffix!r} (accepted: .csv, .parquet, .jsonl)")
        staged = readers.read_file(con, f.path, fmt, tag)
        st.plan = plan_columns(con, f.table, staged)
        st.rows = staged.rows
        st.mode = extract_mode(con, f.table, f.rel, staged.view if "_extract" in st.plan.meta else None)
        if st.mode == "full" and staged.rows == 0:
            raise FileError("file_empty", "a full extract with no rows would empty the table; not applied")
    except FileError as exc:
        st.error, st.plan = str(exc), None
        readers.drop_staging(con, tag)
        log.warning("rejected %s: %s", f.rel, exc)
    return st


def _batches(staged: list[_Staged]) -> list[list[_Staged]]:
    """Consecutive readable files of one table with the same columns and format, validated together.

    A live feed drops a small file every few seconds; validating each on its own costs a dozen
    statements per file, so a backlog of a thousand small files would take minutes. Only consecutive
    files are joined (load order stays name order) and never full extracts (each replaces the table).
    """
    out: list[list[_Staged]] = []
    for st in staged:
        if st.plan is None:
            continue
        sig = (st.file.table, st.plan.fmt, st.plan.source, tuple(st.plan.source_types.items()), st.plan.hashed_key,
               st.plan.meta, st.mode)
        st.sig = sig
        if out and st.mode != "full" and out[-1][0].sig == sig:
            out[-1].append(st)
        else:
            out.append([st])
    return out


def _apply(con: duckdb.DuckDBPyConnection, settings, batch: list[_Staged], run_id: int, now: datetime,
           tracking: bool) -> list[FileResult]:
    """Validate, locate, quarantine and merge a batch of staged files (inside the cycle's transaction).

    The batch is one view over its files (``__file`` = index in the batch); duplicates are looked for
    within each file; a case in several files of the batch is merged once, as its newest record
    (what loading the files one by one would leave).
    """
    started = time.perf_counter()
    first = batch[0]
    table = first.file.table
    files = [st.file.rel for st in batch]
    con.execute("CREATE OR REPLACE TEMP VIEW stg_batch AS " + " UNION ALL BY NAME ".join(
        f"SELECT {i} AS __file, * FROM {st.plan.view}" for i, st in enumerate(batch)))
    plan = dataclasses.replace(first.plan, view="stg_batch")
    key = pii_key(settings) if plan.hashed_key else b""
    check_rows(con, plan, key, now)
    if table == "areas":
        _check_geometry(con)
    placed = locate(con, plan)
    mark_duplicates(con, plan)
    quarantined = quarantine_rows(con, plan, run_id, files)
    valid = dict(con.execute("SELECT __file, count(*) FROM stg_chk WHERE __reason IS NULL GROUP BY ALL").fetchall())
    reasons: dict[int, dict[str, int]] = {}
    for i, reason, n in con.execute("SELECT __file, __reason, count(*) FROM stg_chk WHERE __reason IS NOT NULL "
                                    "GROUP BY ALL").fetchall():
        reasons.setdefault(i, {})[reason] = n
    results = []
    for i, st in enumerate(batch):
        loaded, bad = valid.get(i, 0), quarantined.get(i, 0)
        if loaded + bad != st.rows:
            raise RuntimeError(f"{st.file.rel}: {st.rows} rows in but {loaded} loaded + {bad} quarantined "
                               "(a row was lost between validation and load: a bug)")
        results.append(FileResult(st.file.rel, table, "loaded", st.rows, loaded, bad, st.mode, reasons.get(i, {})))
    if len(batch) > 1:  # one record per id across the batch: the newest, then the earliest file (see above)
        k = f'"{plan.spec.key}"'
        order = ("updated_at DESC, __file" if plan.spec.has_updated_at else "__file DESC")
        con.execute(f"CREATE OR REPLACE TEMP TABLE stg_chk AS SELECT * FROM stg_chk WHERE __reason IS NULL "
                    f"QUALIFY row_number() OVER (PARTITION BY {k} ORDER BY {order}) = 1")
    if table == "events":
        # a view: the derivation joins two small tables, and a bulk load reads it once (no copy of a million rows)
        con.execute(f"CREATE OR REPLACE TEMP VIEW stg_ok AS {_sql('stg_events_derive')}")
    else:
        cols = ", ".join(f'"{c}"' for c in plan.spec.columns)
        con.execute(f"CREATE OR REPLACE TEMP TABLE stg_ok AS SELECT {cols}, __deleted FROM stg_chk "
                    "WHERE __reason IS NULL")
        if table == "areas":
            _complete_areas(con)
    if table == "events":
        _upsert_events(con, tracking)
    else:
        _upsert_reference(con, table, first.mode)
    seconds = time.perf_counter() - started
    results[0].placed = placed
    for r in results:
        r.seconds = seconds / len(results)
    return results


def _upsert_events(con: duckdb.DuckDBPyConnection, tracking: bool) -> None:
    """Merge ``stg_ok`` into events; with ``tracking``, remember what changed for the marts."""
    if tracking:
        # the first version of each case this cycle replaces, and every case it inserts or replaces
        con.execute("""
            INSERT INTO chg_old SELECT e.* FROM events e JOIN stg_ok s ON s.case_id = e.case_id
            WHERE s.updated_at > e.updated_at AND e.case_id NOT IN (SELECT case_id FROM chg_keys)""")
        con.execute("""
            INSERT INTO chg_keys SELECT s.case_id FROM stg_ok s LEFT JOIN events e ON e.case_id = s.case_id
            WHERE (e.case_id IS NULL OR s.updated_at > e.updated_at)
              AND s.case_id NOT IN (SELECT case_id FROM chg_keys)""")
    if con.execute("SELECT EXISTS (SELECT 1 FROM events)").fetchone()[0]:
        con.execute(_sql("stg_events_upsert"))
    con.execute(_sql("stg_events_insert"))


def _upsert_reference(con: duckdb.DuckDBPyConnection, table: str, mode: str) -> None:
    """Merge ``stg_ok`` into a reference table as a delta or a full extract.

    A delta upserts and removes ``_deleted`` rows; a full extract also removes the rows whose key
    is not in the file, valid or quarantined.
    """
    s = spec(table)
    cols = ", ".join(f'"{c}"' for c in s.columns)
    sets = ", ".join(f'"{c}" = excluded."{c}"' for c in s.columns if c != s.key)
    newer = f' WHERE excluded.updated_at > {table}.updated_at' if s.has_updated_at else ""
    key = f'"{s.key}"'
    if mode == "full":
        con.execute(f"DELETE FROM {table} WHERE {key} NOT IN (SELECT {key} FROM stg_chk WHERE {key} IS NOT NULL)")
    con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM stg_ok WHERE NOT __deleted "
                f"ON CONFLICT ({key}) DO UPDATE SET {sets}{newer}")
    not_older = " AND t.updated_at <= d.updated_at" if s.has_updated_at else ""
    con.execute(f"DELETE FROM {table} t USING (SELECT * FROM stg_ok WHERE __deleted) d "
                f"WHERE t.{key} = d.{key}{not_older}")


def _check_geometry(con: duckdb.DuckDBPyConnection) -> None:
    """Quarantine area rows whose geometry (WKB, or GeoJSON when there is no WKB) is not a readable polygon."""
    tbl = con.sql("SELECT __row, geometry_wkb, geojson FROM stg_chk WHERE __reason IS NULL").to_arrow_table()
    if tbl.num_rows == 0:
        return
    geoms = _geometries(tbl.column("geometry_wkb").to_pylist(), tbl.column("geojson").to_pylist())
    kind = shapely.get_type_id(geoms)  # 3 Polygon, 6 MultiPolygon, -1 missing
    ok = np.isin(kind, (3, 6)) & ~shapely.is_empty(geoms)
    bad = np.asarray(tbl.column("__row").to_pylist(), dtype=np.int64)[~ok]
    if bad.size:
        con.execute("UPDATE stg_chk SET __reason = 'bad_geometry', __detail = 'geometry is not a readable polygon' "
                    "WHERE list_contains(?, __row)", [bad.tolist()])


def _geometries(wkb: list, geojson: list) -> np.ndarray:
    """Shapely geometries from WKB, falling back to GeoJSON; None where neither parses (vectorised)."""
    geoms = shapely.from_wkb(np.array([bytes(w) if w is not None else None for w in wkb], dtype=object),
                             on_invalid="ignore")
    missing = np.flatnonzero(shapely.is_missing(geoms))
    if missing.size:
        texts = np.array([geojson[i] for i in missing], dtype=object)
        geoms[missing] = shapely.from_geojson(texts, on_invalid="ignore")
    return geoms


def _complete_areas(con: duckdb.DuckDBPyConnection) -> None:
    """Fill the geometry columns an areas file may leave out.

    WKB from GeoJSON or back, the simplified GeoJSON as the full one, a label point inside the
    polygon.
    """
    tbl = con.sql("""SELECT area_id, geometry_wkb, geojson, geojson_simple, centroid_lon, centroid_lat FROM stg_ok
                         WHERE geometry_wkb IS NULL OR geojson IS NULL OR geojson_simple IS NULL
                            OR centroid_lon IS NULL OR centroid_lat IS NULL""").to_arrow_table()
    if tbl.num_rows == 0:
        return
    wkb, gj = tbl.column("geometry_wkb").to_pylist(), tbl.column("geojson").to_pylist()
    geoms = _geometries(wkb, gj)
    label = shapely.point_on_surface(geoms)
    new_wkb = shapely.to_wkb(geoms)
    new_gj = shapely.to_geojson(geoms)
    simple = tbl.column("geojson_simple").to_pylist()
    lon, lat = tbl.column("centroid_lon").to_pylist(), tbl.column("centroid_lat").to_pylist()
    fill = pa.table({
        "area_id": tbl.column("area_id"),
        "geometry_wkb": pa.array([bytes(w) if w is not None else n for w, n in zip(wkb, new_wkb, strict=True)],
                                 type=pa.binary()),
        "geojson": pa.array([g if g is not None else n for g, n in zip(gj, new_gj, strict=True)], type=pa.string()),
        "geojson_simple": pa.array([s if s is not None else (g if g is not None else n)
                                    for s, g, n in zip(simple, gj, new_gj, strict=True)], type=pa.string()),
        "centroid_lon": pa.array([v if v is not None else x for v, x in zip(lon, shapely.get_x(label), strict=True)]),
        "centroid_lat": pa.array([v if v is not None else y for v, y in zip(lat, shapely.get_y(label), strict=True)]),
    })
    con.register("stg_areas_fill", fill)
    try:
        con.execute("""UPDATE stg_ok SET geometry_wkb = f.geometry_wkb, geojson = f.geojson,
                              geojson_simple = f.geojson_simple, centroid_lon = f.centroid_lon,
                              centroid_lat = f.centroid_lat
                       FROM stg_areas_fill f WHERE stg_ok.area_id = f.area_id""")
    finally:
        con.unregister("stg_areas_fill")


# ------------------------------------------------------------------------------------------------
# The cycle
# ------------------------------------------------------------------------------------------------
def open_writer(settings) -> duckdb.DuckDBPyConnection:
    """The writer's connection to ``work.duckdb`` (schema applied, no progress bar on stderr).

    Raises:
        RuntimeError: another process holds the warehouse (the scheduler in ``serve``, most likely).
    """
    try:
        con = connect(settings.work_db, settings.timezone)
    except duckdb.IOException as exc:
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
        raise_errors: re-raise a failure after recording it (tests, the CLI's ``--debug``); by default
            the failure is recorded in ``etl_runs`` and the log and returned.
        _before_publish: test hook, called after the commit and before publishing.
        _before_swap: test hook passed to :func:`data.snapshot.publish` (after the copy, before the swap).

    Returns:
        The cycle's result (also recorded in ``etl_runs``).
    """
    tables = EVENT_TABLES if kind == "events" else REFERENCE_TABLES
    with _writer_lock:
        started = time.perf_counter()
        result = CycleResult(None, kind, "ok")
        con = open_writer(settings)
        todo: list[tuple[LandingFile, str]] = []
        try:
            con.execute("UPDATE etl_runs SET status = 'failed', error = 'interrupted: the process stopped during "
                        "the cycle', finished_at = now() WHERE status = 'running'")
            result.run_id = con.execute("SELECT nextval('etl_run_seq')").fetchone()[0]
            con.execute("INSERT INTO etl_runs (run_id, kind, started_at, status) VALUES (?, ?, now(), 'running')",
                        [result.run_id, kind])
            t = time.perf_counter()
            todo = _todo(con, settings, tables, settle_seconds, result)
            result.timings["scan"] = time.perf_counter() - t
            if todo:
                t = time.perf_counter()
                changed = _load_all(con, settings, todo, result)  # opens the cycle's transaction
                result.timings["load"] = time.perf_counter() - t - result.timings["read"]
                t = time.perf_counter()
                _refresh_marts(con, changed, settings)
                result.timings["marts"] = time.perf_counter() - t
                _record_run(con, result, started)
                t = time.perf_counter()
                con.execute("COMMIT")
                result.timings["commit"] = time.perf_counter() - t
            else:
                _record_run(con, result, started)
            if _needs_publish(con, settings, result):
                if _before_publish is not None:
                    _before_publish()
                t = time.perf_counter()
                result.snapshot = _publish(con, settings, result.run_id, _before_swap)
                result.timings["publish"] = time.perf_counter() - t
            else:
                touch(settings.warehouse_dir)  # nothing new: the snapshot is still current, not stale
            result.duration_s = time.perf_counter() - started
            con.execute("UPDATE etl_runs SET snapshot = ?, duration_s = ?, finished_at = now() WHERE run_id = ?",
                        [result.snapshot, result.duration_s, result.run_id])
            _prune_runs(con)
            _log_result(result)
        except Exception as exc:
            _fail(con, result, exc, started)
            if raise_errors:
                raise
        finally:
            try:
                for i in range(len(todo)):
                    readers.drop_staging(con, str(i))
            except duckdb.Error:
                log.exception("could not drop the staging tables (closing the connection drops them)")
            finally:
                con.close()
        _write_last_run(settings, result)
        return result


def _write_last_run(settings, result: CycleResult) -> None:
    """Tell the web tier how the last cycle went, even when it failed and published nothing.

    A failed cycle leaves the previous snapshot serving, whose ``etl_runs`` cannot know about the
    failure; ``LAST_RUN.json`` beside ``CURRENT`` (written atomically) can.
    """
    record = {"run_id": result.run_id, "kind": result.kind, "status": result.status, "error": result.error,
              "finished_at": datetime.now(UTC).isoformat()}
    tmp = settings.warehouse_dir / f".LAST_RUN.{os.getpid()}.tmp"
    try:
        tmp.write_text(json.dumps(record), encoding="utf-8")
        os.replace(tmp, settings.warehouse_dir / "LAST_RUN.json")
    except OSError:
        log.exception("could not write LAST_RUN.json")


def _todo(con: duckdb.DuckDBPyConnection, settings, tables: tuple[str, ...], settle_seconds: float,
          result: CycleResult) -> list[tuple[LandingFile, str]]:
    """The ready files not in the ledger yet, with their checksums, up to one cycle's batch.

    A batch is at most :data:`MAX_CYCLE_FILES` files and :data:`MAX_CYCLE_BYTES` bytes (but always
    at least one file), so a backlog of landing files is worked off over several cycles with bounded
    memory; the rest count as waiting.
    """
    ready, result.waiting = scan_landing(settings.landing_dir, tables, settle_seconds)
    done = set(con.execute("SELECT path, sha256 FROM etl_files WHERE path IN (SELECT unnest(?::VARCHAR[]))",
                           [[f.rel for f in ready]]).fetchall()) if ready else set()
    todo: list[tuple[LandingFile, str]] = []
    size = 0
    for f in ready:
        digest = _sha256(f)
        if digest is None:
            result.waiting += 1
        elif (f.rel, digest) not in done:
            if todo and (len(todo) >= MAX_CYCLE_FILES or size + f.size > MAX_CYCLE_BYTES):
                result.waiting += 1
                continue
            todo.append((f, digest))
            size += f.size
    return todo


def _load_all(con: duckdb.DuckDBPyConnection, settings, todo: list[tuple[LandingFile, str]],
              result: CycleResult) -> dict:
    """Stage every file (no transaction), then apply them all in one transaction, left open for the caller.

    Returns what changed, for the marts.
    """
    now = datetime.now(UTC)
    t = time.perf_counter()
    staged = [_stage(con, f, digest, str(i)) for i, (f, digest) in enumerate(todo)]
    result.timings["read"] = time.perf_counter() - t
    events_before = con.execute("SELECT count(*) FROM events").fetchone()[0]
    tracking = events_before > 0 and sum(st.rows for st in staged if st.file.table == "events") <= _INCREMENTAL_MAX_ROWS
    con.execute("CREATE OR REPLACE TEMP TABLE chg_old AS SELECT * FROM events LIMIT 0")
    con.execute("CREATE OR REPLACE TEMP TABLE chg_keys (case_id VARCHAR)")
    tables_changed: set[str] = set()
    con.execute("BEGIN")
    results: dict[str, FileResult] = {}
    for batch in _batches(staged):
        try:
            for fr in _apply(con, settings, batch, result.run_id, now, tracking):
                results[fr.path] = fr
        except Exception as exc:  # the transaction is aborted: the caller rolls back (temp objects too)
            exc.add_note(f"while loading {', '.join(st.file.rel for st in batch)[:500]}")
            raise
        _drop_temp(con, "stg_ok", "stg_chk", "stg_batch")
    for st in staged:
        fr = results.get(st.file.rel) or FileResult(st.file.rel, st.file.table, "rejected", error=st.error)
        result.files.append(fr)
        if fr.rows_loaded:
            tables_changed.add(st.file.table)
        con.execute("""INSERT INTO etl_files (path, sha256, table_name, run_id, rows_in, rows_loaded, rows_quarantined,
                                              status, error, loaded_at)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, now())""",
                    [fr.path, st.digest, fr.table, result.run_id, fr.rows_in, fr.rows_loaded, fr.rows_quarantined,
                     fr.status, fr.error])
    return {"tables": tables_changed, "tracking": tracking}


def _drop_temp(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    """Drop temporary tables or views by name, whichever they are."""
    for name in names:
        kind = con.execute("SELECT 'VIEW' FROM duckdb_views() WHERE temporary AND view_name = ? UNION ALL "
                           "SELECT 'TABLE' FROM duckdb_tables() WHERE temporary AND table_name = ?",
                           [name, name]).fetchall()
        if kind:
            con.execute(f"DROP {kind[0][0]} temp.{name}")


def _refresh_marts(con: duckdb.DuckDBPyConnection, changed: dict, settings) -> None:
    """Refresh the repeat flags and the marts after the load: by changed days after a small events load, else all.

    Today's stage-duration quantiles are computed by the first events load of the day (and again
    after a full rebuild).
    """
    tables = changed["tables"]
    if not tables & {"events", "areas", "categories"}:
        return
    days = None
    if "events" in tables and changed["tracking"]:
        n = con.execute("SELECT count(*) FROM chg_keys").fetchone()[0]
        if n <= _INCREMENTAL_MAX_ROWS:
            days = [r[0] for r in con.execute(_sql("stg_events_changed_days")).fetchall()]
    if "events" in tables:
        if days is None:
            refresh_repeats(con)
        elif days:
            refresh_repeats(con, days[0])
    rebuild = tables & {"areas", "categories"} or days is None or len(days) > INCREMENTAL_MAX_DAYS
    if rebuild:
        rebuild_marts(con)
    else:
        refresh_marts_for_days(con, days)
    if "events" in tables:
        refresh_stage_quantiles(con, datetime.now(settings.zone).date(), settings.timezone, force=bool(rebuild))


def _record_run(con: duckdb.DuckDBPyConnection, result: CycleResult, started: float) -> None:
    """Write the run's counts (inside the transaction, so the snapshot shows the run it came from)."""
    rejected = "; ".join(f"{f.path}: {f.error}" for f in result.rejected)
    con.execute("""UPDATE etl_runs SET files = ?, rows_in = ?, rows_loaded = ?, rows_quarantined = ?, status = 'ok',
                          error = ?, finished_at = now(), duration_s = ? WHERE run_id = ?""",
                [len(result.files), result.rows_in, result.rows_loaded, result.rows_quarantined,
                 (f"rejected files: {rejected}"[:4000] if rejected else None), time.perf_counter() - started,
                 result.run_id])


def _needs_publish(con: duckdb.DuckDBPyConnection, settings, result: CycleResult) -> bool:
    """Publish when this cycle changed anything, or an earlier committed change never got published."""
    if result.files:
        return True
    info = read_current(settings.current_file)
    if info is None:
        return True
    last = con.execute("SELECT max(run_id) FROM etl_runs WHERE files > 0 OR kind IN ('demo', 'replay', 'upgrade')"
                       ).fetchone()[0]
    return last is not None and (info.run_id is None or last > info.run_id)


def _publish(con: duckdb.DuckDBPyConnection, settings, run_id: int, before_swap) -> str:
    """Publish a snapshot; on failure remove the half-made snapshot file (``CURRENT`` never named it)."""
    snapshots = settings.snapshots_dir
    before = set(snapshots.glob("*.duckdb")) if snapshots.exists() else set()
    try:
        info = publish(con, settings.warehouse_dir, keep=settings.snapshots_keep, run_id=run_id,
                       _before_swap=before_swap)
    except BaseException:
        current = read_current(settings.current_file)
        for p in set(snapshots.glob("*.duckdb")) - before:
            if current is None or p.name != current.name:
                p.unlink(missing_ok=True)
        raise
    return info.name


def _fail(con: duckdb.DuckDBPyConnection, result: CycleResult, exc: BaseException, started: float) -> None:
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


def _prune_runs(con: duckdb.DuckDBPyConnection) -> None:
    """Forget cycles that found nothing to do after a day (one a minute would bury the real ones)."""
    con.execute("""DELETE FROM etl_runs WHERE files = 0 AND status = 'ok' AND snapshot IS NULL
                   AND kind IN ('events', 'reference') AND started_at < now() - INTERVAL 1 DAY""")


def _log_result(result: CycleResult) -> None:
    if result.files or result.snapshot:
        reasons = ", ".join(f"{k} {v}" for k, v in result.reasons.most_common())
        log.info("ETL %s run %s: %d files (%d rejected), %d rows in, %d loaded, %d quarantined%s, %.2f s%s",
                 result.kind, result.run_id, len(result.files), len(result.rejected), result.rows_in,
                 result.rows_loaded, result.rows_quarantined, f" ({reasons})" if reasons else "", result.duration_s,
                 f", published {result.snapshot}" if result.snapshot else "")
    else:
        log.debug("ETL %s run %s: nothing new", result.kind, result.run_id)


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
