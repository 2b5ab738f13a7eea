"""Benchmark: the cases table (metrics.cases) and its exports at 10 million cases.

Times, for the district and the windows today, 30 days and 90 days, what the ``/cases`` page asks
the server for: the count, and the first page (50 rows) with a column filter applied and a sort on
another column. Each request is timed as the page makes it: a new cursor on the snapshot (so the
per-cursor SLA set-up of ``metrics.queries.prepare`` is included) plus the query; ``query only`` is
the same on a cursor already prepared. Then the export of ``--export-rows`` rows through the real
Flask route (CSV, and Excel with ``--xlsx``), read as a browser would, with its time and the
server's peak memory: Python's own (``tracemalloc``) and the process's resident set size (psutil,
sampled every 20 ms, DuckDB's buffers included) above what it was before.

    .venv/bin/python bench/cases.py                                   # /tmp/gridpulse_bench/10000000
    .venv/bin/python bench/cases.py --var /path/to/var --xlsx

The warehouse is opened read-only (``bench/metrics.py --events 10000000`` builds it). Prints tables;
never part of the test run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import tracemalloc
from datetime import datetime
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from dashboard.analyst import exports  # noqa: E402
from dashboard.analyst.state import ViewState  # noqa: E402
from dashboard.app import create_app  # noqa: E402
from data.snapshot import SnapshotReader  # noqa: E402
from metrics.cases import CaseQuery  # noqa: E402
from metrics.scope import Scope, Window  # noqa: E402
from settings import load_settings  # noqa: E402
from tests.conftest import signed_in  # noqa: E402  (an admin's session cookie: every page needs a sign-in)

TZ = "Asia/Shanghai"
NOW = datetime(2026, 11, 25, 10, 30, tzinfo=ZoneInfo(TZ))  # the demo's fixed "now"
PAGE = 50
LABELS = exports.labels("zh")
# (name, sort model, filter model): the page's typical requests.
REQUESTS = [
    ("count, no filter", None, None),
    ("count, filter urgency", None, {"urgency": {"filterType": "text", "type": "equals", "filter": "紧急"}}),
    ("page 1, newest first", None, None),
    ("page 1, filter status, sort department", [{"colId": "department", "sort": "asc"}],
     {"status": {"filterType": "text", "type": "equals", "filter": "已办结"}}),
    ("page 1, filter category, sort micro-grid", [{"colId": "microgrid", "sort": "desc"}],
     {"category": {"filterType": "text", "type": "contains", "filter": "噪"}}),
    ("page 1, filter urgency, sort overdue", [{"colId": "overdue", "sort": "desc"}],
     {"urgency": {"filterType": "text", "type": "equals", "filter": "紧急"}}),
    ("page 200, filter status, sort department", [{"colId": "department", "sort": "asc"}],
     {"status": {"filterType": "text", "type": "equals", "filter": "已办结"}}),
]


def _time(fn, repeat: int) -> tuple[float, float, object, float]:
    """Median and max wall time of ``repeat`` runs in ms, the last result, and the median CPU time in ms.

    CPU time is the process's (all DuckDB threads): on a machine shared with other work the wall time
    grows with the load, the CPU time much less, so it tells what a quiet server would take.
    """
    runs, cpu, out = [], [], None
    for _ in range(repeat):
        started, cpu0 = time.perf_counter(), time.process_time()
        out = fn()
        runs.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu0) * 1000)
    return statistics.median(runs), max(runs), out, statistics.median(cpu)


def _request(reader, settings, window, name, sort, filters, con=None):
    cur = con or reader.cursor()
    try:
        district = cur.execute("SELECT area_id FROM areas WHERE level = 'district'").fetchone()[0]
        q = CaseQuery(cur, Scope(district, level="district"), window, NOW, settings, sort, filters, lang="zh",
                      labels=LABELS)
        if name.startswith("count"):
            return q.count()
        offset = (int(name.split()[1].rstrip(",")) - 1) * PAGE
        return len(q.page(offset, PAGE))
    finally:
        if con is None:
            cur.close()


def bench_queries(settings, repeat: int) -> None:
    reader = SnapshotReader(settings.warehouse_dir, settings.timezone)
    print(f"{'window':>6} | {'request':<42} | {'per request ms (median/max)':>27} | {'CPU ms':>6} | "
          f"{'query only ms':>13} | {'CPU ms':>6} | result")
    print("-" * 128)
    for key in ("today", "30d", "90d"):
        window = Window.named(key, NOW, TZ)
        warm = reader.cursor()
        for name, sort, filters in REQUESTS:
            _request(reader, settings, window, name, sort, filters, warm)  # prepares the warm cursor
            args = (reader, settings, window, name, sort, filters)
            med, worst, out, cpu = _time(partial(_request, *args), repeat)
            qmed, _, _, qcpu = _time(partial(_request, *args, warm), repeat)
            print(f"{key:>6} | {name:<42} | {med:>13.0f} / {worst:<11.0f} | {cpu:>6.0f} | {qmed:>13.0f} | {qcpu:>6.0f} "
                  f"| {out:,}")
        warm.close()


def _sampler(stop: threading.Event, peak: list[int]) -> None:
    proc = psutil.Process()
    while not stop.is_set():
        peak[0] = max(peak[0], proc.memory_info().rss)
        time.sleep(0.02)


def bench_export(settings, rows: int, kinds: list[str]) -> None:
    app = create_app(settings, clock=lambda: NOW)
    exports.register(app.server)
    exports.EXPORT_ROW_LIMIT = rows  # the first `rows` rows of the 30-day window (about 900,000 cases)
    client = signed_in(app)
    state = ViewState.from_search("?win=30d")
    sort = [{"colId": "department", "sort": "asc"}]
    filters = {"status": {"filterType": "text", "type": "notEqual", "filter": "已撤销"}}
    print(f"\nexport of {rows:,} rows (30-day window, filter status, sort department), through the Flask route")
    print(f"{'file':>5} | {'seconds':>7} | {'CPU s':>6} | {'MB':>6} | {'lines':>8} | {'Python peak MB':>14} | "
          f"{'RSS peak above start MB':>23}")
    for kind in kinds:
        path = exports.CSV_PATH if kind == "csv" else exports.XLSX_PATH
        url = exports.export_href(path, state, sort, filters)
        # Run 1, timed: the resident set size sampled every 20 ms. Run 2: Python's own peak under
        # tracemalloc, which slows every allocation several times over, so it is not timed.
        rss0 = psutil.Process().memory_info().rss
        peak, stop = [rss0], threading.Event()
        watcher = threading.Thread(target=_sampler, args=(stop, peak), daemon=True)
        watcher.start()
        started, cpu0 = time.perf_counter(), time.process_time()
        size, lines = _download(client, url)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu0
        stop.set()
        watcher.join()
        tracemalloc.start()
        _download(client, url)
        _, py_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"{kind:>5} | {seconds:>7.1f} | {cpu:>6.1f} | {size / 1e6:>6.1f} | {lines if kind == 'csv' else '-':>8} | "
              f"{py_peak / 1e6:>14.1f} | {(peak[0] - rss0) / 1e6:>23.1f}")


def _download(client, url: str) -> tuple[int, int]:
    """Read the streamed response as a browser would: (bytes, line breaks)."""
    response = client.get(url, buffered=False)
    assert response.status_code == 200, response.status_code
    size, lines = 0, 0
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\n")
    return size, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--var", default=os.path.join(os.environ.get("GRIDPULSE_BENCH_DIR", "/tmp/gridpulse_bench"),
                                                      "10000000", "var"), help="the warehouse's var folder")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument("--xlsx", action="store_true", help="time the Excel export too")
    parser.add_argument("--skip-queries", action="store_true", help="only the exports")
    parser.add_argument("--skip-exports", action="store_true", help="only the queries")
    args = parser.parse_args()
    settings = load_settings(env={"GRIDPULSE_VAR_DIR": args.var}, toml_path=None)
    if not settings.current_file.exists():
        sys.exit(f"no warehouse under {args.var}: build one with bench/metrics.py --events 10000000")
    reader = SnapshotReader(settings.warehouse_dir, settings.timezone)
    con = reader.cursor()
    total = con.execute("SELECT count(*) FROM events").fetchone()[0]
    con.close()
    print(f"cases table on {total:,} cases ({args.var}), as of {NOW:%Y-%m-%d %H:%M}, load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    if not args.skip_queries:
        bench_queries(settings, args.repeat)
    if not args.skip_exports:
        bench_export(settings, args.export_rows, ["csv", "xlsx"] if args.xlsx else ["csv"])


if __name__ == "__main__":
    main()
