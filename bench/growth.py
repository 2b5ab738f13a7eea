"""Growth curves: what one wall tick, the whole metric set, one ETL cycle, disk and memory cost as the cases grow.

    .venv/bin/python bench/growth.py                                   # 100k, 1M, 10M, 100M cases
    .venv/bin/python bench/growth.py --events 100000 1000000           # some sizes only
    .venv/bin/python bench/growth.py --events 100000000 --no-etl       # skip the ETL cycle (copies the writer file)

Each size is measured in a process of its own (so its peak memory is its own) on the shared bench
warehouse of that size (``bench/metrics.py``'s ``warehouse``: the demo over 365 days, built once under
``/tmp/gridpulse_bench/<events>/var`` and only read here; a first build is timed and remembered in
``build.json`` beside it). Every size spans the same year, so 100M cases is ten times the cases per
day of 10M: each window (today, 30 days) holds ten times the rows. That is harsher than a city's five
years (a 13-district city at the demo district's real rate), where a district's window holds what one district
reports. Measured per size:

* **disk**: the published snapshot and the writer's file;
* **build**: the demo's generation and load (once, when the warehouse was made);
* **wall tick** (``bench/wall.py``'s ``measure_ticks``): the refresh of a wall screen through
  ``/_dash-update-component`` on the same snapshot, on a new snapshot computed ahead by the warm-up
  (the steady state), and on a new snapshot computed in the request (the warm-up off);
* **metric set** (``bench/metrics.py``'s ``duckdb_set``): the wall's six metrics for the district,
  today and 30 days, best of 3, each round on a "new snapshot" (per-snapshot memos cleared: what the
  warm-up computes every minute) and cold (every memo cleared: a fresh server);
* **ETL cycle** (as ``bench/etl.py``'s ``incremental``): 1,000 records (900 new cases, 100 closures)
  landed and published, on a private copy of the writer's file (median of 3 after one warm-up cycle);
* **memory**: the peak resident memory of the measuring process (DuckDB's buffer pool is capped at
  ``memory_limit``, 2 GB by default).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import runpy
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = (100_000, 1_000_000, 10_000_000, 100_000_000)
ETL_DIR = Path("/tmp/gp-bench-growth")


def _bench(name: str) -> dict:
    """A bench script's functions (they are scripts, not a package: ``bench/metrics.py`` would shadow ``metrics``)."""
    return runpy.run_path(str(ROOT / "bench" / f"{name}.py"), run_name=f"bench_{name}")


def _warehouse(bm: dict, events: int):
    """The shared warehouse of ``events`` cases, and the seconds its build took (None when not known)."""
    var = Path(os.environ.get("GRIDPULSE_BENCH_DIR", "/tmp/gridpulse_bench")) / str(events) / "var"
    record = var.parent / "build.json"
    built = (var / "warehouse" / "CURRENT").exists()
    started = time.perf_counter()
    settings = bm["warehouse"](events)
    if not built:
        record.write_text(json.dumps({"seconds": round(time.perf_counter() - started, 1)}), encoding="utf-8")
    seconds = json.loads(record.read_text(encoding="utf-8"))["seconds"] if record.exists() else None
    return settings, seconds


def _metric_set(bm: dict, settings) -> dict[str, float]:
    from data.snapshot import SnapshotReader
    from metrics.scope import Scope, district_area

    reader = SnapshotReader(settings.warehouse_dir, settings.timezone)
    con = reader.cursor()
    try:
        scope = Scope(district_area(con)["area_id"], level="district")
        out = {}
        bm["time_parts"](bm["duckdb_set"](con, settings, scope, "today"), 1, cold=True)  # the file's first reads
        for window in ("today", "30d"):
            parts = bm["duckdb_set"](con, settings, scope, window)
            out[f"set {window}, new snapshot"] = bm["time_parts"](parts, 3, cold=False)["_total"]
            out[f"set {window}, cold"] = bm["time_parts"](parts, 3, cold=True)["_total"]
    finally:
        con.close()
    return out


def _etl_cycle(be: dict, settings, events: int, cycles: int = 3) -> dict[str, float]:
    """Median seconds of a 1,000-record cycle (900 new cases, 100 closures: the 100k demo has few
    cases open) on a private copy of the writer's file, after one cycle that warms the process, and
    the median of each of its steps (``publish``: the checkpoint and the copy of the whole file)."""
    from data import etl

    target = be["settings_at"](ETL_DIR / str(events) / "var")
    shutil.rmtree(target.var_dir.parent, ignore_errors=True)
    target.warehouse_dir.mkdir(parents=True)
    shutil.copyfile(settings.work_db, target.work_db)
    seconds, steps = [], []
    try:
        for i in range(cycles + 1):
            path = target.landing_dir / "events" / f"growth-{i:03d}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            be["write_incremental_file"](target, path, n_new=900, n_updates=100, tag=str(i))
            old = time.time() - 60
            os.utime(path, (old, old))  # settled: the landing scan takes files a minute old
            result = etl.run_cycle(target, raise_errors=True)
            if result.rows_in != 1000 or result.rows_quarantined:
                raise RuntimeError(f"the cycle did not load 1,000 records: {result}")
            if i:
                seconds.append(result.duration_s)
                steps.append(result.timings)
    finally:
        shutil.rmtree(target.var_dir.parent, ignore_errors=True)
    out = {"ETL cycle s": statistics.median(seconds)}
    for step in ("read", "load", "marts", "commit", "publish"):
        out[f"  {step} s"] = statistics.median(t.get(step, 0.0) for t in steps)
    return out


def one(events: int, etl_cycle: bool) -> dict:
    """Every measurement of one size (run in a process of its own)."""
    from data.snapshot import read_current

    bm = _bench("metrics")
    settings, build_s = _warehouse(bm, events)
    snapshot = read_current(settings.current_file).path
    out: dict = {"events": events, "build s": build_s, "snapshot MB": snapshot.stat().st_size / 2**20,
                 "writer MB": settings.work_db.stat().st_size / 2**20}
    ticks = _bench("wall")["measure_ticks"](settings, events)
    for kind in ("same snapshot", "new snapshot, ready", "new snapshot, cold"):
        out[f"tick {kind}"] = ticks[kind][0]
    out.update(_metric_set(bm, settings))
    if etl_cycle:
        out.update(_etl_cycle(_bench("etl"), settings, events))
    out["peak RSS MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _table(rows: list[dict]) -> None:
    keys = [k for k in rows[0] if k != "events"]
    print(f"\nGrowth, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end; ms unless named")
    print(f"{'measurement':<32}" + "".join(f"{r['events']:>14,}" for r in rows))
    for key in keys:
        cells = []
        for r in rows:
            v = r.get(key)
            cells.append(f"{'—' if v is None else f'{v:,.0f}' if v >= 100 else f'{v:,.1f}':>14}")
        print(f"{key:<32}" + "".join(cells))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, nargs="+", default=list(SIZES))
    ap.add_argument("--no-etl", action="store_true", help="skip the ETL cycle (it copies the writer's file)")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # the child process's size
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one, not args.no_etl)), flush=True)
        return
    rows = []
    for events in args.events:
        cmd = [sys.executable, __file__, "--one", str(events)] + (["--no-etl"] if args.no_etl else [])
        done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"measured {events:,}: {rows[-1]}", file=sys.stderr, flush=True)
        rows.sort(key=lambda r: r["events"])
    _table(rows)


if __name__ == "__main__":
    main()
