"""Benchmark: ``app.py export history`` (data/history.py) at 1 and 10 million cases.

For each warehouse: the snapshot's size and the ``events`` table's share of it (its storage blocks), then
the export into a temporary ``/tmp/hist-*`` folder (deleted after): a full export (time, rows/s, files,
bytes, row groups), the same again with nothing changed, and an incremental one that rewrites one month
(the newest month's fingerprint is spoiled in the manifest, as a changed snapshot would). Then read-back
times in DuckDB from a new connection (median of 3) of one month, one top-level area and everything,
beside the same query on the snapshot's own table; and the full export in snappy for comparison.

    .venv/bin/python bench/history.py                                   # 1M and 10M under /tmp/gridpulse_bench
    .venv/bin/python bench/history.py --var /path/to/var [--var ...]

The warehouses are only read (``bench/metrics.py --events N`` builds them); a missing one is skipped.
Prints tables; never part of the test run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from data.history import MANIFEST, export_history, month_start  # noqa: E402
from data.snapshot import read_current  # noqa: E402
from data.warehouse import connect  # noqa: E402
from settings import load_settings  # noqa: E402

DEFAULT_VARS = [Path("/tmp/gridpulse_bench/1000000/var"), Path("/tmp/gridpulse_bench/10000000/var")]
# What a history question looks like: volume, closures and mean time to close.
QUERY = ("SELECT count(*), count(closed_at), avg(epoch(closed_at) - epoch(received_at)) FROM {src} {where}")


def _mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def _timed(fn, *args, **kw):
    """``fn``'s result with ``timings["cpu"]``: the process's CPU seconds (all DuckDB threads).

    Steadier than wall time on a machine shared with other work.
    """
    cpu = time.process_time()
    result = fn(*args, **kw)
    return dataclasses.replace(result, timings={**result.timings, "cpu": time.process_time() - cpu})


def _median_s(fn, repeat: int = 3) -> float:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def _read_times(settings, out: Path, month: str, area: str, column: str) -> list[tuple[str, float, float]]:
    """(what, seconds on the Parquet export, seconds on the snapshot table) for one month, one area, everything."""
    parquet = (f"read_parquet('{out}/**/*.parquet', hive_partitioning = true, "
               "hive_types = {'month': 'VARCHAR', 'area': 'VARCHAR'})")
    snapshot = read_current(settings.current_file).path
    lo, hi = month_start(month, settings.timezone), month_start(month, settings.timezone, 1)
    cases = [(f"one month ({month})", f"WHERE month = '{month}'",
              f"WHERE received_at >= '{lo.isoformat()}' AND received_at < '{hi.isoformat()}'"),
             (f"one area ({column} {area})", f"WHERE area = '{area}'", f"WHERE {column} = '{area}'"),
             ("everything", "", "")]
    rows = []
    for what, where_p, where_s in cases:
        def on_parquet(where=where_p):
            con = duckdb.connect()
            con.execute("SET TimeZone = ?", [settings.timezone])
            con.execute(QUERY.format(src=parquet, where=where)).fetchall()
            con.close()

        def on_snapshot(where=where_s):
            con = connect(snapshot, settings.timezone, read_only=True)
            con.execute(QUERY.format(src="events", where=where)).fetchall()
            con.close()
        rows.append((what, _median_s(on_parquet), _median_s(on_snapshot)))
    return rows


def bench(var: Path) -> None:
    settings = load_settings(env={"GRIDPULSE_VAR_DIR": str(var)}, toml_path=None)
    info = read_current(settings.current_file)
    con = connect(info.path, settings.timezone, read_only=True)
    cases = con.execute("SELECT count(*) FROM events").fetchone()[0]
    events_bytes = con.execute("SELECT count(DISTINCT block_id) FROM pragma_storage_info('events')").fetchone()[0] \
        * con.execute("SELECT block_size FROM pragma_database_size()").fetchone()[0]
    con.close()
    snapshot_bytes = info.path.stat().st_size
    print(f"\n## {cases:,} cases ({var}); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    print(f"snapshot file {_mb(snapshot_bytes)}; its events table about {_mb(events_bytes)} (storage blocks)\n")
    tmp = Path(tempfile.mkdtemp(prefix="hist-", dir="/tmp"))
    try:
        out = tmp / "history"
        rows = []
        full = _timed(export_history, settings, out)
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
        sizes = [f["bytes"] for m in json.loads((out / MANIFEST).read_text())["months"].values() for f in m["files"]]
        groups = sum(pq.read_metadata(p).num_row_groups for p in out.rglob("*.parquet"))
        rows.append(("full, zstd", full))
        rows.append(("again, nothing changed", _timed(export_history, settings, out)))
        manifest = json.loads((out / MANIFEST).read_text())
        newest = max(manifest["months"])
        manifest["months"][newest]["fingerprint"] = "0" * 16  # as if the newest month had changed
        (out / MANIFEST).write_text(json.dumps(manifest))
        rows.append((f"incremental, 1 month ({newest})", _timed(export_history, settings, out)))
        print("| export | seconds | CPU s | rows/s | months written | files | bytes | vs events table | vs snapshot |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for what, r in rows:
            print(f"| {what} | {r.seconds:.2f} | {r.timings['cpu']:.1f} | {r.rows / r.seconds:,.0f} | "
                  f"{len(r.months_written)} | {r.files} | "
                  f"{_mb(r.bytes)} | {r.bytes / events_bytes:.0%} | {r.bytes / snapshot_bytes:.0%} |")
        print(f"\nfiles: {len(sizes)}, median {_mb(statistics.median(sizes))}, largest {_mb(max(sizes))}; "
              f"row groups {groups} ({cases / groups:,.0f} rows each on average); "
              f"fingerprint {full.timings['fingerprint']:.2f} s, write {full.timings['write']:.2f} s; "
              f"peak memory of this process so far {_mb(peak_rss)}\n")
        area = next(f["path"] for f in manifest["months"][newest]["files"]).split("/")[1].split("=", 1)[1]
        print("| read back (count, closed, mean time to close) | Parquet export, s | snapshot table, s |")
        print("|---|---:|---:|")
        for what, p, s in _read_times(settings, out, newest, area, full.area_level + "_id"):
            print(f"| {what} | {p:.3f} | {s:.3f} |")
        snappy = export_history(settings, tmp / "snappy", compression="snappy")
        print(f"\nsnappy instead of zstd: {snappy.seconds:.2f} s, {_mb(snappy.bytes)} "
              f"({snappy.bytes / full.bytes:.2f} x zstd)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--var", type=Path, action="append", help="a warehouse's var/ folder (repeatable)")
    args = p.parse_args()
    print("# History export (data/history.py)")
    for var in args.var or DEFAULT_VARS:
        if read_current(var / "warehouse" / "CURRENT") is None:
            print(f"\n{var}: no published snapshot, skipped")
            continue
        bench(var)


if __name__ == "__main__":
    main()
