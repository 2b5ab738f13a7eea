"""Sources: a city's own exports (Open311 GeoReport v2 JSON, mapped CSV and Excel) through the normal ETL.

``python app.py import --source MAP.toml FILE...`` (:func:`cmd_import`) reads the files with the
mapping (:mod:`data.sources.mapping`), converts them into GridPulse case records
(:mod:`data.sources.convert`), writes them to the landing zone in GridPulse's own format
(:mod:`data.sources.landing`) and runs one ETL cycle over every landing table, reference tables
first: validation, quarantine, counts and snapshots are exactly those of GridPulse's own feed.
The converter never drops a row: what it cannot read goes on as text for the ETL to quarantine
with its reason, so loaded + quarantined = rows in. See ``docs/your-own-data.md``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from data.sources.convert import EVENT_COLUMNS, Converted, convert, parse_times, slug, stage_status
from data.sources.landing import write_landing
from data.sources.mapping import OPEN311_FIELDS, MappingError, SourceMapping, load_mapping, parse_mapping
from data.sources.open311 import read_open311
from data.sources.tabular import SourceFileError, read_table

__all__ = ["cmd_import", "import_files", "read_source", "ImportResult", "MappingError", "SourceFileError",
           "SourceMapping", "load_mapping", "parse_mapping", "convert", "Converted", "parse_times", "stage_status",
           "slug", "write_landing", "read_open311", "read_table", "EVENT_COLUMNS"]

log = logging.getLogger(__name__)

# Another process (the scheduler in `serve`) may hold the warehouse during its cycle: try this often, this far apart.
_WRITER_ATTEMPTS = 5
_WRITER_WAIT_SECONDS = 2.0


@dataclass
class ImportResult:
    """What one import did: rows read, landing files written, and the ETL cycle's result."""

    rows: int
    files: list[Path]
    converted: Converted
    cycle: object  # data.runs.CycleResult


def read_source(mapping: SourceMapping, paths: list[Path]):
    """All rows of the source files as one frame of strings, in file order.

    Raises:
        SourceFileError: a file cannot be read or lacks a column the mapping names.
    """
    import pandas as pd

    from data.sources.tabular import check_columns

    for p in paths:
        if not Path(p).is_file():
            raise SourceFileError(f"{p}: no such file")
    if mapping.kind == "open311":
        df = read_open311(list(paths), mapping.notes)
        for col in OPEN311_FIELDS.values():  # an extension a response lacks (channel) is empty, not an error
            if col not in df.columns:
                df[col] = ""
        check_columns(df, mapping, Path(paths[0]))
        return df
    frames = [read_table(Path(p), mapping) for p in paths]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def import_files(settings, mapping: SourceMapping, paths: list[Path], *, settle_seconds: float = 0) -> ImportResult:
    """Convert the files, land them and run one ETL cycle (reference tables, then events).

    Raises:
        SourceFileError: a file cannot be read (nothing was written).
        RuntimeError: the warehouse stayed held by another process for about 10 s; the landed files are
            removed again (nothing of the import stays).
    """
    from data.etl import run_cycle

    df = read_source(mapping, paths)
    conv = convert(df, mapping, settings.timezone)
    written = write_landing(settings.landing_dir, mapping.name, conv)
    log.info("import %s: %d rows from %d files landed as %s", mapping.name, len(df), len(paths),
             ", ".join(p.name for p in written))
    for attempt in range(_WRITER_ATTEMPTS):
        try:
            result = run_cycle(settings, "reference", settle_seconds=settle_seconds)
            break
        except RuntimeError:
            if attempt + 1 < _WRITER_ATTEMPTS:
                time.sleep(_WRITER_WAIT_SECONDS)  # a scheduler's cycle holds the warehouse for a second or two
                continue
            # the minute job of that process would load the cases before their categories (it reads only
            # landing/events) and quarantine them all: take the files back, nothing of this import stays
            for p in written:
                p.unlink(missing_ok=True)
            raise
    return ImportResult(len(df), written, conv, result)


def cmd_import(settings, args: argparse.Namespace) -> int:
    """``python app.py import --source MAP.toml FILE...``: convert, land and load; print the ETL summary.

    Returns:
        0 when the cycle is ok, 1 when it failed or the warehouse is held by another process, 2 when the
        mapping or a file is unusable (nothing landed).
    """
    from data.cli import format_result

    try:
        mapping = load_mapping(args.source)
        if not settings.work_db.exists() and not (settings.landing_dir / "areas").is_dir():
            print(f"warning: no warehouse at {settings.work_db} yet: import the geography first "  # noqa: T201
                  "(python app.py geography import ...), or every case is quarantined as outside_district",
                  file=sys.stderr)
        res = import_files(settings, mapping, [Path(p) for p in args.files])
    except (MappingError, SourceFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    except RuntimeError as exc:
        print(f"error: {exc}. Nothing was imported: stop that process and run the import again.",  # noqa: T201
              file=sys.stderr)
        return 1
    conv = res.converted
    notes = [f"import {mapping.name} ({mapping.kind}): {res.rows:,} rows from {len(args.files)} file(s)"]
    if conv.status_changed:
        notes.append(f"  status from the times (the times win): {conv.status_changed:,} rows")
    for name, n in conv.unread_times.items():
        notes.append(f"  {name}: {n:,} values no datetime format reads (quarantined as bad_timestamp)")
    print("\n".join(notes))  # noqa: T201
    print(format_result(res.cycle))  # noqa: T201
    return 0 if res.cycle.status == "ok" else 1
