"""Source readers: one landing file (CSV, Parquet or JSON Lines) into a DuckDB staging view.

Every reader produces the same thing, so validation is written once: a temporary view
``stg_in_<tag>`` with one row per record of the file, in file order:

* ``__line``: the record's line (CSV: counting the header as line 1, one line per record; JSON Lines:
  the physical line; Parquet: the row number, from 1);
* ``__bad`` / ``__bad_detail``: set when the reader itself could not read the record
  (``malformed_row``, ``truncated_row``, ``too_long``); such a row's data columns are NULL;
* ``__raw``: the record's text when the reader has it (JSON Lines, unreadable CSV lines), else NULL
  (validation rebuilds it from the columns);
* one column per source column, named by its normalised name (stripped, lower case). CSV and JSON
  Lines columns are VARCHAR; Parquet columns keep their types.

Reading is DuckDB's own vectorised CSV / JSON / Parquet code: there is no Python loop per row. Rows
DuckDB cannot parse come from its ``store_rejects`` tables, with their line and text. A whole-file
problem raises :class:`FileError` with a code from :data:`FILE_ERRORS`.

Temporary tables and views live in the connection's temp catalog (memory, spilling to DuckDB's temp
folder): they are never written to ``work.duckdb`` and so never published.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import duckdb

__all__ = ["FORMATS", "FILE_ERRORS", "FileError", "Staged", "format_of", "read_file", "drop_staging",
           "MAX_LINE_BYTES"]

# File name suffix -> format.
FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}
# File-level error codes (the whole file is rejected; see docs/etl.md).
FILE_ERRORS = {
    "file_empty": "the file has no bytes (or a full extract has no rows)",
    "file_encoding": "the file is not UTF-8",
    "file_columns": "wrong, missing or duplicate column names",
    "file_unreadable": "the file cannot be read as its format (corrupt or truncated Parquet, bad header)",
    "file_format": "unknown file type (accepted: .csv, .parquet, .jsonl)",
}
# A record longer than this is quarantined as too_long without being parsed (DuckDB keeps the
# first 10 000 characters of it). Also bounds the memory one bad line can take.
MAX_LINE_BYTES = 2_000_000
_HEADER_PROBE = 1 << 20  # bytes read to find the CSV header line


@dataclass(frozen=True)
class _Names:
    """Names of one file's staging objects; the tag keeps several staged files apart."""

    tag: str

    def __getattr__(self, part: str) -> str:
        if part.startswith("_"):
            raise AttributeError(part)
        return f"stg_{part.rstrip('_')}_{self.tag}"


_VIEWS = ("in",)
_TABLES = ("raw", "lines", "rejects", "rejects_scan", "rejected")


class FileError(Exception):
    """A whole landing file is unusable; ``code`` is one of :data:`FILE_ERRORS`."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Staged:
    """What :func:`read_file` staged in the view ``stg_in``."""

    fmt: str
    columns: tuple[str, ...]  # normalised source column names, in file order
    rows: int  # records in the file (parsed + unparsable)
    view: str  # the staging view, ``stg_in_<tag>``


def format_of(path: Path) -> str | None:
    """The landing format of a file from its suffix, or None when it is not one we read."""
    return FORMATS.get(path.suffix.lower())


def _q(name: str) -> str:
    """A quoted SQL identifier (column names come from files, so quote them properly)."""
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    """A SQL string literal, for the few reader options DuckDB only takes as constants."""
    return "'" + text.replace("'", "''") + "'"


def normalise(name: str) -> str:
    """A column name as the ETL compares it: BOM and spaces stripped, lower case."""
    return name.replace("\ufeff", "").strip().lower()


def _check_names(raw: list[str]) -> tuple[str, ...]:
    names = tuple(normalise(n) for n in raw)
    if any(not n for n in names):
        raise FileError("file_columns", f"empty column name in the header ({len(names)} columns)")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise FileError("file_columns", f"duplicate columns: {', '.join(dupes)}")
    internal = [n for n in names if n.startswith("__")]
    if internal:
        raise FileError("file_columns", f"column names may not start with '__': {', '.join(internal)}")
    return names


def drop_staging(con: duckdb.DuckDBPyConnection, tag: str) -> None:
    """Drop one file's staging objects (they can hold personal data until validation masks it)."""
    n = _Names(tag)
    for part in _VIEWS:
        con.execute(f"DROP VIEW IF EXISTS temp.{getattr(n, part)}")
    for part in _TABLES:
        con.execute(f"DROP TABLE IF EXISTS temp.{getattr(n, part)}")


def _count_and_base(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int]:
    """Rows of a freshly created staging table and its first rowid.

    A table's rowids follow insertion order (file order: DuckDB preserves it by default), but rows
    created inside a transaction get rowids from a high base until commit, so a row's index in the
    file is ``rowid - base``.
    """
    n, base = con.execute(f"SELECT count(*), coalesce(min(rowid), 0) FROM {table}").fetchall()[0]
    return n, base


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as fh:
        fh.seek(-1, 2)
        return fh.read(1) in (b"\n", b"\r")


def read_file(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, tag: str = "0") -> Staged:
    """Stage one landing file as the view ``stg_in_<tag>`` (see the module docstring).

    Call it outside a transaction: a DuckDB error (a corrupt Parquet file) aborts the transaction
    it happens in, and one bad file must not abort a cycle.

    Raises:
        FileError: the file is empty, not UTF-8, has an unusable header or cannot be read.
    """
    drop_staging(con, tag)
    if path.stat().st_size == 0:
        raise FileError("file_empty", "the file has no bytes")
    n = _Names(tag)
    if fmt == "csv":
        return _read_csv(con, path, n)
    if fmt == "jsonl":
        return _read_jsonl(con, path, n)
    if fmt == "parquet":
        return _read_parquet(con, path, n)
    raise FileError("file_format", f"unknown format {fmt!r}")


# ------------------------------------------------------------------------------------------------
# CSV
# ------------------------------------------------------------------------------------------------
def _csv_header(path: Path) -> tuple[str, ...]:
    with path.open("rb") as fh:
        head = fh.read(_HEADER_PROBE)
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    end = head.find(b"\n")
    line = head if end < 0 else head[:end]
    if end < 0 and len(head) >= _HEADER_PROBE - 3:
        raise FileError("file_unreadable", "no header line in the first megabyte")
    try:
        text = line.decode("utf-8").rstrip("\r")
    except UnicodeDecodeError as exc:
        raise FileError("file_encoding", f"header is not UTF-8 (byte {exc.start}); save the file as UTF-8") from None
    if not text.strip():
        raise FileError("file_empty", "the first line (the header) is empty")
    return _check_names(next(csv.reader(io.StringIO(text))))


def _read_csv(con: duckdb.DuckDBPyConnection, path: Path, n: _Names) -> Staged:
    names = _csv_header(path)
    columns = "{" + ", ".join(f"{_lit(n)}: 'VARCHAR'" for n in names) + "}"
    try:
        con.execute(
            f"""CREATE TEMP TABLE {n.raw} AS SELECT * FROM read_csv(?, header = true, auto_detect = false,
                delim = ',', quote = '"', escape = '"', columns = {columns}, store_rejects = true,
                rejects_table = '{n.rejects}', rejects_scan = '{n.rejects_scan}', max_line_size = {MAX_LINE_BYTES})""",
            [str(path)])
    except duckdb.Error as exc:
        raise FileError("file_unreadable", f"cannot read as CSV: {str(exc).splitlines()[0][:300]}") from None
    # One row per unreadable record (DuckDB may report several errors for one line).
    con.execute(f"""
        CREATE TEMP TABLE {n.rejected} AS
        SELECT line, list(DISTINCT error_type) AS types, first(error_message ORDER BY column_idx) AS message,
               first(csv_line ORDER BY column_idx) AS raw
        FROM {n.rejects} GROUP BY line""")
    enc = con.execute(f"SELECT min(line) FROM {n.rejected} WHERE list_contains(types, 'INVALID ENCODING')").fetchone()[0]
    if enc is not None:
        raise FileError("file_encoding", f"line {enc} is not UTF-8; save the file as UTF-8 (GBK/GB18030 files are "
                                         "rejected whole, not loaded in part)")
    good, base = _count_and_base(con, n.raw)
    bad_lines = [r[0] for r in con.execute(f"SELECT line FROM {n.rejected} ORDER BY line").fetchall()]
    total = good + len(bad_lines)
    last_line = total + 1  # the header is line 1
    truncated = total > 0 and not _ends_with_newline(path)
    if bad_lines:
        # Good rows take, in order, the line numbers that were not rejected.
        con.execute(f"""
            CREATE TEMP TABLE {n.lines} AS
            SELECT (row_number() OVER (ORDER BY l) - 1) AS idx, l AS line
            FROM range(2, ? + 2) t(l) ANTI JOIN {n.rejected} r ON r.line = t.l""", [total])
        line_sql, join_sql = "m.line", f"JOIN {n.lines} m ON m.idx = s.rowid - {base}"
    else:
        line_sql, join_sql = f"s.rowid - {base} + 2", ""
    trunc_sql = f"CASE WHEN {line_sql} = {last_line} THEN 'truncated_row' END" if truncated else "NULL"
    detail = "'the file does not end with a newline: its last record may be cut off'"
    cols = ", ".join(f"s.{_q(c)}" for c in names)
    con.execute(f"""
        CREATE TEMP VIEW {n.in_} AS
        SELECT {line_sql} AS __line, {trunc_sql} AS __bad,
               CASE WHEN {trunc_sql} IS NOT NULL THEN {detail} END AS __bad_detail, NULL::VARCHAR AS __raw, {cols}
        FROM {n.raw} s {join_sql}
        UNION ALL BY NAME
        SELECT line AS __line,
               CASE WHEN list_contains(types, 'LINE SIZE OVER MAXIMUM') THEN 'too_long'
                    WHEN {"true" if truncated else "false"} AND line = {last_line} THEN 'truncated_row'
                    ELSE 'malformed_row' END AS __bad,
               left(list_aggregate(types, 'string_agg', ', ') || ': ' || message, 500) AS __bad_detail,
               raw AS __raw
        FROM {n.rejected}""")
    return Staged("csv", names, total, n.in_)


# ------------------------------------------------------------------------------------------------
# JSON Lines
# ------------------------------------------------------------------------------------------------
def _read_jsonl(con: duckdb.DuckDBPyConnection, path: Path, n: _Names) -> Staged:
    # Each line as one VARCHAR: no quoting, and a delimiter (U+0001) that valid JSON never contains raw.
    # JSON functions raise on invalid text even inside a CASE branch, so every step below only ever
    # sees valid JSON (jv) or valid objects (obj), NULL otherwise.
    try:
        con.execute(
            f"""CREATE TEMP TABLE {n.lines} AS SELECT j FROM read_csv(?, header = false, auto_detect = false,
                delim = {_lit(chr(1))}, quote = '', escape = '', columns = {{'j': 'VARCHAR'}}, store_rejects = true,
                rejects_table = '{n.rejects}', rejects_scan = '{n.rejects_scan}', max_line_size = {MAX_LINE_BYTES})""",
            [str(path)])
    except duckdb.Error as exc:
        raise FileError("file_unreadable", f"cannot read as JSON Lines: {str(exc).splitlines()[0][:300]}") from None
    enc = con.execute(f"SELECT min(line) FROM {n.rejects} WHERE error_type = 'INVALID ENCODING'").fetchone()[0]
    if enc is not None:
        raise FileError("file_encoding", f"line {enc} is not UTF-8; save the file as UTF-8")
    # Keys of every valid object line, in order of first appearance.
    keys = [r[0] for r in con.execute(f"""
        SELECT k FROM (SELECT unnest(json_keys(obj)) AS k, r
                       FROM (SELECT rowid AS r, CASE WHEN json_type(jv) = 'OBJECT' THEN jv END AS obj
                             FROM (SELECT rowid, CASE WHEN json_valid(j) THEN j END AS jv FROM {n.lines}))
                       WHERE obj IS NOT NULL)
        GROUP BY k ORDER BY min(r), k""").fetchall()]
    names = _check_names(keys)
    good, base = _count_and_base(con, n.lines)
    rejected = con.execute(f"SELECT DISTINCT line FROM {n.rejects} ORDER BY line").fetchall()
    bad_lines = [r[0] for r in rejected]
    total_lines = good + len(bad_lines)
    truncated = total_lines > 0 and not _ends_with_newline(path)
    if bad_lines:
        con.execute(f"""
            CREATE TEMP TABLE {n.raw} AS
            SELECT (row_number() OVER (ORDER BY l) - 1) AS idx, l AS line
            FROM range(1, ? + 1) t(l) WHERE l NOT IN (SELECT line FROM {n.rejects})""", [total_lines])
        line_sql, join_sql = "m.line", f"JOIN {n.raw} m ON m.idx = s.rowid - {base}"
    else:
        line_sql, join_sql = f"s.rowid - {base} + 1", ""
    paths = "[" + ", ".join(_lit("$." + _json_key(k)) for k in keys) + "]"
    cols = "".join(f", v[{i + 1}] AS {_q(c)}" for i, c in enumerate(names))
    extract = f"json_extract_string(obj, {paths})" if keys else "NULL::VARCHAR[]"
    cut = f"{'true' if truncated else 'false'} AND __line = {total_lines}"
    con.execute(f"""
        CREATE TEMP VIEW {n.in_} AS
        SELECT __line,
               CASE WHEN ok THEN NULL WHEN {cut} THEN 'truncated_row' ELSE 'malformed_row' END AS __bad,
               CASE WHEN ok THEN NULL WHEN {cut} THEN 'the file does not end with a newline: its last line is cut off'
                    WHEN valid THEN 'not a JSON object' ELSE 'not valid JSON' END AS __bad_detail,
               j AS __raw{cols}
        FROM (SELECT __line, j, valid, ok,
                     CASE WHEN ok THEN {extract} END AS v
              FROM (SELECT *, coalesce(json_type(jv) = 'OBJECT', false) AS ok,
                           CASE WHEN json_type(jv) = 'OBJECT' THEN jv END AS obj
                    FROM (SELECT {line_sql} AS __line, s.j, json_valid(s.j) AS valid,
                                 CASE WHEN json_valid(s.j) THEN s.j END AS jv
                          FROM {n.lines} s {join_sql}
                          WHERE s.j IS NOT NULL AND trim(s.j) <> '')))
        UNION ALL BY NAME
        SELECT line AS __line, 'too_long' AS __bad, left(error_message, 500) AS __bad_detail, csv_line AS __raw
        FROM {n.rejects} WHERE error_type = 'LINE SIZE OVER MAXIMUM'
        UNION ALL BY NAME
        SELECT line AS __line, 'malformed_row' AS __bad, left(error_message, 500) AS __bad_detail, csv_line AS __raw
        FROM {n.rejects} WHERE error_type <> 'LINE SIZE OVER MAXIMUM'""")
    rows = con.execute(f"SELECT count(*) FROM {n.in_}").fetchone()[0]
    return Staged("jsonl", names, rows, n.in_)


def _json_key(key: str) -> str:
    """A JSON path step for an arbitrary key (quoted, with quotes and backslashes escaped)."""
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ------------------------------------------------------------------------------------------------
# Parquet
# ------------------------------------------------------------------------------------------------
def _read_parquet(con: duckdb.DuckDBPyConnection, path: Path, n: _Names) -> Staged:
    try:
        schema = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    except duckdb.Error as exc:
        raise FileError("file_unreadable", f"not a readable Parquet file: {str(exc).splitlines()[0][:300]}") from None
    raw_names = [r[0] for r in schema]
    names = _check_names(raw_names)
    types = [r[1] for r in schema]
    # Nested values are not part of any table: as text they fail validation with a clear detail.
    cols = ", ".join(
        (f"CAST({_q(raw)} AS VARCHAR)" if any(t in typ for t in ("STRUCT", "[]", "MAP", "UNION")) else _q(raw))
        + f" AS {_q(c)}"
        for raw, c, typ in zip(raw_names, names, types, strict=True))
    try:
        con.execute(f"""CREATE TEMP TABLE {n.raw} AS SELECT file_row_number + 1 AS __line, {cols}
                        FROM read_parquet(?, file_row_number = true)""", [str(path)])
    except duckdb.Error as exc:
        raise FileError("file_unreadable", f"cannot read the Parquet data: {str(exc).splitlines()[0][:300]}") from None
    con.execute(f"""CREATE TEMP VIEW {n.in_} AS
                   SELECT __line, NULL::VARCHAR AS __bad, NULL::VARCHAR AS __bad_detail, NULL::VARCHAR AS __raw,
                          * EXCLUDE (__line) FROM {n.raw}""")
    rows = con.execute(f"SELECT count(*) FROM {n.raw}").fetchone()[0]
    return Staged("parquet", names, rows, n.in_)
