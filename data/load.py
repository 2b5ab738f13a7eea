"""Staging and merging: landing files read into DuckDB, validated, placed, quarantined and upserted; then the marts.

A cycle loads its files in two phases (:func:`load_all`):

1. **stage** every file into DuckDB temporary tables (:mod:`data.readers`), outside any
   transaction: a DuckDB read error aborts the transaction it happens in, and a corrupt file must
   reject that file only. A whole-file problem (:class:`data.readers.FileError`) is kept as the
   file's error.
2. **one transaction** (left open for the caller to commit): per batch of files (consecutive
   files of a table with the same columns), validate and locate (:mod:`data.validate`), quarantine
   the failing rows, merge the rest (events by ``case_id`` and ``updated_at``, reference tables as
   full or delta extracts); record every file in the ledger ``etl_files``.

:func:`refresh_after_load` then refreshes the repeat flags, the marts (only the changed days after a
small load) and today's stage quantiles, in the same transaction.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from data import readers
from data.area_checks import check_geometry, complete_areas
from data.landing import LandingFile
from data.marts import (
    INCREMENTAL_MAX_DAYS,
    mart_sql,
    rebuild_marts,
    refresh_marts_for_days,
    refresh_repeats,
    refresh_stage_quantiles,
)
from data.pii import mask_text_sql, pii_key
from data.readers import FileError, format_of
from data.runs import CycleResult, FileResult
from data.validate import (
    ColumnPlan,
    check_rows,
    locate,
    mark_duplicates,
    plan_columns,
    quarantine_rows,
    spec,
)

__all__ = ["extract_mode", "stage", "batches", "apply_batch", "load_all", "refresh_after_load", "drop_temp"]

log = logging.getLogger(__name__)

_FULL_NAME = re.compile(r"(^|[_.\-])full([_.\-]|$)", re.IGNORECASE)
_DELTA_NAME = re.compile(r"(^|[_.\-])delta([_.\-]|$)", re.IGNORECASE)
# Above this many changed cases the marts are rebuilt instead of refreshed day by day.
_INCREMENTAL_MAX_ROWS = 100_000


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


def stage(con: duckdb.DuckDBPyConnection, f: LandingFile, digest: str, tag: str) -> _Staged:
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


def batches(staged: list[_Staged]) -> list[list[_Staged]]:
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


def apply_batch(con: duckdb.DuckDBPyConnection, settings, batch: list[_Staged], run_id: int, now: datetime,
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
        check_geometry(con)
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
        derive = mart_sql("stg_events_derive").replace("/*masked:c.summary*/", mask_text_sql("c.summary"))
        con.execute(f"CREATE OR REPLACE TEMP VIEW stg_ok AS {derive}")
    else:
        cols = ", ".join(f'"{c}"' for c in plan.spec.columns)
        con.execute(f"CREATE OR REPLACE TEMP TABLE stg_ok AS SELECT {cols}, __deleted FROM stg_chk "
                    "WHERE __reason IS NULL")
        if table == "areas":
            complete_areas(con)
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
        con.execute(mart_sql("stg_events_upsert"))
    con.execute(mart_sql("stg_events_insert"))


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


def load_all(con: duckdb.DuckDBPyConnection, settings, todo: list[tuple[LandingFile, str]],
              result: CycleResult) -> dict:
    """Stage every file (no transaction), then apply them all in one transaction, left open for the caller.

    Every file of ``todo`` ((file, checksum) pairs) gets its ledger row, loaded or rejected, and its
    :class:`data.runs.FileResult` in ``result.files``; ``result.timings`` gets ``read`` and ``load``.
    Returns what changed, for :func:`refresh_after_load`.
    """
    now = datetime.now(UTC)
    t = time.perf_counter()
    staged = [stage(con, f, digest, str(i)) for i, (f, digest) in enumerate(todo)]
    result.timings["read"] = time.perf_counter() - t
    t = time.perf_counter()
    events_before = con.execute("SELECT count(*) FROM events").fetchone()[0]
    tracking = events_before > 0 and sum(st.rows for st in staged if st.file.table == "events") <= _INCREMENTAL_MAX_ROWS
    con.execute("CREATE OR REPLACE TEMP TABLE chg_old AS SELECT * FROM events LIMIT 0")
    con.execute("CREATE OR REPLACE TEMP TABLE chg_keys (case_id VARCHAR)")
    tables_changed: set[str] = set()
    con.execute("BEGIN")
    results: dict[str, FileResult] = {}
    for batch in batches(staged):
        try:
            for fr in apply_batch(con, settings, batch, result.run_id, now, tracking):
                results[fr.path] = fr
        except Exception as exc:  # the transaction is aborted: the caller rolls back (temp objects too)
            exc.add_note(f"while loading {', '.join(st.file.rel for st in batch)[:500]}")
            raise
        drop_temp(con, "stg_ok", "stg_chk", "stg_batch")
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
    result.timings["load"] = time.perf_counter() - t
    return {"tables": tables_changed, "tracking": tracking}


def drop_temp(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    """Drop temporary tables or views by name, whichever they are."""
    for name in names:
        kind = con.execute("SELECT 'VIEW' FROM duckdb_views() WHERE temporary AND view_name = ? UNION ALL "
                           "SELECT 'TABLE' FROM duckdb_tables() WHERE temporary AND table_name = ?",
                           [name, name]).fetchall()
        if kind:
            con.execute(f"DROP {kind[0][0]} temp.{name}")


def refresh_after_load(con: duckdb.DuckDBPyConnection, changed: dict, settings) -> None:
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
            days = [r[0] for r in con.execute(mart_sql("stg_events_changed_days")).fetchall()]
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
