"""Load and soak: wall screens and analysts, signed in, against `app.py serve` while the ETL publishes.

    .venv/bin/python bench/load.py                                  # 10M cases, workers 1, 2, 4, 180 s each
    .venv/bin/python bench/load.py --events 1000000 --workers 2 --duration 120
    .venv/bin/python bench/load.py --events 1000000 --workers 2 --soak 30m   # the soak (see below)

What runs, per worker count (each run bounded: ``--duration`` seconds, at most 300):

1. A private ``var/`` under ``/tmp/gp-load/<events>``: the shared bench warehouse's writer file
   (``/tmp/gridpulse_bench/<events>/var/warehouse/work.duckdb``) copied (the ETL writes it), its
   current snapshot hard-linked (the ETL never writes a published snapshot; the shared folder is
   never written), an account (``app.py users add``, role ``district``) and a wall token
   (``app.py users token``).
2. ``app.py serve --workers N`` on ``127.0.0.1:--port`` with the scheduler: the ETL every minute and
   the demo's live simulator landing ``--cases-per-day`` new cases (27,000 by default: the 10M demo's
   own rate) and the backlog's lifecycle updates, so every cycle loads and publishes a snapshot and the
   newest case is minutes old (the snapshot is live, not historical). The bench warehouses end on
   2026-11-25; the days between that and now have only the simulator's cases.
3. A request plan (``plan.json``) made in this process from the app itself: the page router's and every
   analyst panel callback's request body as the browser sends it (``bench/analyst.py``'s generic
   discovery), the cases grid's block request, the wall's refresh; the view states analysts pick from
   (windows, areas drawn from the warehouse's streets, communities and grids, categories, urgency, open
   cases for the lifecycle).
4. Locust (``bench/locustfile.py``), headless, against 127.0.0.1 only: ``--walls`` wall screens (page
   load, then the refresh every 10 s) and ``--analysts`` analysts (sign in through ``/login``, then
   click: a page with new filters or a drill-down, its panels, on ``/cases`` two grid blocks and a
   case's lifecycle; 3-10 s between clicks).
5. Every 5 s: each worker's, the arbiter's and the scheduler's resident memory (psutil); the load
   average. At the end: ``/metrics`` (ETL cycles published/failed during the run).

Printed: per request name p50/p95/p99 ms, requests, failures, requests/s; memory per process; load.

``--soak 30m``: one worker count, the same load for that long; every minute each process's RSS and
open files, one headless Chromium wall page's JS heap (``performance.memory``) and its renderer's RSS,
the snapshot files on disk and which of them processes hold open (deleted files still open count as
leaks). Prints the series and whether memory stayed within 10 % of its first-minute value.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from settings import Settings, load_settings  # noqa: E402

BENCH_DIR = Path(os.environ.get("GRIDPULSE_BENCH_DIR", "/tmp/gridpulse_bench"))
LOAD_DIR = Path("/tmp/gp-load")
PYTHON = str(ROOT / ".venv" / "bin" / "python")
# Locust runs from a virtualenv of its own: it needs urllib3 2, while selenium 4.2 (capped by dash[testing]) pins
# urllib3 1.26 in the project's; the locustfile imports nothing of the project (docs/decisions.md, "Load, soak, faults").
LOCUST = os.environ.get("GP_LOCUST", "/tmp/gp-locust-venv/bin/locust")
USER, PASSWORD = "load-analyst", "load-test-password-1234"
VIEWPORT = {"w": 1920, "h": 1080, "scale": 1.0, "map_w": 803, "map_h": 794}  # as bench/wall.py measured
WINDOWS = ["today", "7d", "30d", "90d", "this_week"]


# ------------------------------------------------------------------------------------------------
# The private deployment
# ------------------------------------------------------------------------------------------------
def private_var(events: int, tag: str) -> Settings:
    """A private var/: the writer's file copied, the current snapshot hard-linked; the shared one untouched."""
    from data.snapshot import read_current

    shared = BENCH_DIR / str(events) / "var"
    shared_settings = load_settings(env={"GRIDPULSE_VAR_DIR": str(shared)}, toml_path=None)
    if not shared_settings.current_file.exists():
        raise SystemExit(f"no warehouse under {shared}: build it with bench/metrics.py --events {events}")
    var = LOAD_DIR / f"{events}-{tag}" / "var"
    shutil.rmtree(var.parent, ignore_errors=True)
    settings = load_settings(env={"GRIDPULSE_VAR_DIR": str(var)}, toml_path=None)
    settings.snapshots_dir.mkdir(parents=True)
    source = read_current(shared_settings.current_file).path
    (settings.snapshots_dir / source.name).hardlink_to(source)
    shutil.copyfile(shared_settings.warehouse_dir / "work.duckdb", settings.warehouse_dir / "work.duckdb")
    shutil.copyfile(shared_settings.current_file, settings.current_file)
    return settings


def server_env(settings: Settings, cases_per_day: int) -> dict[str, str]:
    """The environment of every `app.py` command run against the private var/."""
    return {**os.environ, "GRIDPULSE_VAR_DIR": str(settings.var_dir),
            "GRIDPULSE_SIMULATE_CASES_PER_DAY": str(cases_per_day), "PYTHONUNBUFFERED": "1"}


def accounts(env: dict[str, str]) -> str:
    """A district account (fixed password) and a wall token in the private user store; the token."""
    subprocess.run([PYTHON, "app.py", "users", "add", USER, "--role", "district", "--password-stdin"],
                   input=PASSWORD + "\n", text=True, env=env, cwd=ROOT, check=True, capture_output=True)
    out = subprocess.run([PYTHON, "app.py", "users", "token", "--label", "load wall"], text=True, env=env,
                         cwd=ROOT, check=True, capture_output=True).stdout
    found = re.search(r"token=([A-Za-z0-9_\-]{20,})", out) or re.search(r"\b([A-Za-z0-9_\-]{40,})\b", out)
    if not found:
        raise SystemExit(f"no token in: {out!r}")
    return found.group(1)


# ------------------------------------------------------------------------------------------------
# The request plan
# ------------------------------------------------------------------------------------------------
def _router_body(app, path: str, search: str) -> dict:
    """The page router's request (Dash pages: location → page content), values filled in."""
    key = next(k for k in app.callback_map if "_pages_content.children" in k)
    spec = app.callback_map[key]
    values = {"pathname": path, "search": search, "hash": "", "href": f"http://127.0.0.1{path}{search}"}

    def item(i):
        return {**i, "value": values.get(i["property"])}

    from bench.analyst import _outputs

    outs, multi = _outputs(key)
    return {"output": key,
            "outputs": [{"id": i, "property": p} for i, p in outs] if multi else {"id": outs[0][0], "property": outs[0][1]},
            "inputs": [item(i) for i in spec["inputs"]], "state": [item(s) for s in spec.get("state", [])],
            "changedPropIds": ["_pages_location.pathname"]}


def _rows_body(app) -> dict:
    """The cases grid's block request (ag-grid's infinite model asks for rows startRow..endRow)."""
    from bench.analyst import _outputs
    from dashboard import ids

    key = next(k for k in app.callback_map if f"{ids.CS_GRID}.getRowsResponse" in k)
    spec = app.callback_map[key]
    outs, _ = _outputs(key)
    return {"output": key, "outputs": [{"id": i, "property": p} for i, p in outs],
            "inputs": [{**i, "value": None} for i in spec["inputs"]],
            "state": [{**s, "value": None} for s in spec.get("state", [])],
            "changedPropIds": [f"{ids.CS_GRID}.getRowsRequest"]}


def make_plan(settings: Settings, out: Path) -> dict:
    """Every request body the load sends, and the values it varies, from the app and the warehouse."""
    from bench.analyst import analyst_pages
    from dashboard import ids
    from dashboard.app import create_app
    from dashboard.wall.options import WallOptions
    from dashboard.wall.protocol import refresh_request
    from data.snapshot import SnapshotReader
    from tests.conftest import as_principal, signed_in

    app = create_app(settings)
    signed_in(app).get("/")  # registers the callbacks and the page router
    reader = SnapshotReader(settings.warehouse_dir, settings.timezone)
    try:
        cur = reader.cursor()
        areas = {lvl: [r[0] for r in cur.execute("SELECT area_id FROM areas WHERE level = ? ORDER BY area_id",
                                                   [lvl]).fetchall()] for lvl in ("district", "street", "community", "grid")}
        categories = [r[0] for r in cur.execute("SELECT category_id FROM categories WHERE parent_id IS NULL").fetchall()]
        cases = [r[0] for r in cur.execute(
            "SELECT case_id FROM events WHERE status NOT IN ('closed', 'cancelled') ORDER BY received_at DESC LIMIT 200"
        ).fetchall()]
        cases += [r[0] for r in cur.execute("SELECT case_id FROM events USING SAMPLE 200 ROWS").fetchall()]
    finally:
        reader.close()
    pages = []
    with app.server.app_context():  # the layouts need a principal (the gate sets one per request)
        as_principal("district")
        found = analyst_pages(app, {}, None)
    for page in found:
        pages.append({"path": page.path, "router": _router_body(app, page.path, ""),
                      "callbacks": [{"name": cb.name, "body": cb.body} for cb in page.callbacks]})
    options = WallOptions.from_query({"refresh": "10"}, settings, areas["district"][0]).to_dict()
    plan = {"state_id": ids.AN_STATE, "url_id": ids.AN_HERE, "grid_id": ids.CS_GRID, "side_id": ids.CS_SIDE_BODY, "pages": pages,
            "rows": _rows_body(app), "wall_router": _router_body(app, "/wall", ""),
            "wall_refresh": refresh_request(app, options, VIEWPORT, None, 1), "wall_drawn_id": ids.WALL_DRAWN,
            "windows": WINDOWS, "areas": areas, "categories": categories, "cases": cases,
            "user": USER, "password": PASSWORD}
    out.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    return plan


# ------------------------------------------------------------------------------------------------
# The server and its processes
# ------------------------------------------------------------------------------------------------
def start_server(env: dict[str, str], workers: int, port: int, log: Path) -> subprocess.Popen:
    """`app.py serve --workers N` with its scheduler, in a session of its own; returns once /readyz answers."""
    proc = subprocess.Popen([PYTHON, "app.py", "serve", "--workers", str(workers), "--port", str(port)],
                            cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"serve exited with {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                if len(processes(proc)["worker"]) >= workers:
                    return proc
        except OSError:
            pass
        time.sleep(1)
    stop_server(proc)
    raise SystemExit(f"serve did not answer within 180 s; see {log}")


def stop_server(proc: subprocess.Popen) -> None:
    """SIGTERM to serve (it stops the workers and the scheduler), SIGKILL to its session after 40 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(40)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def processes(proc: subprocess.Popen) -> dict[str, list[psutil.Process]]:
    """The serve tree by role: ``arbiter`` (serve itself), ``worker`` (gunicorn's), ``scheduler``, and ``other``:
    the scheduler's and workers' own children (the weekly briefing and kaleido's Chromium)."""
    out: dict[str, list[psutil.Process]] = {"arbiter": [], "worker": [], "scheduler": [], "other": []}
    try:
        root = psutil.Process(proc.pid)
        out["arbiter"].append(root)
        for child in root.children():
            try:
                cmd = " ".join(child.cmdline())
                out["scheduler" if cmd.endswith(" scheduler") else "worker"].append(child)
                out["other"] += child.children(recursive=True)
            except psutil.Error:
                continue
    except psutil.Error:
        pass
    return out


def _rss_mb(p: psutil.Process) -> float | None:
    try:
        return p.memory_info().rss / 2**20
    except psutil.Error:
        return None


class Sampler(threading.Thread):
    """Every ``every`` seconds: RSS of each process of the serve tree, and the load average."""

    def __init__(self, proc: subprocess.Popen, every: float = 5.0):
        super().__init__(daemon=True)
        self.proc, self.every, self.stop = proc, every, threading.Event()
        self.peak: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self.loads: list[float] = []

    def run(self) -> None:
        while not self.stop.wait(self.every):
            self.loads.append(os.getloadavg()[0])
            found = processes(self.proc)
            sizes = {f"{role} {p.pid}": _rss_mb(p) for role in ("arbiter", "worker", "scheduler") for p in found[role]}
            sizes["children of the scheduler and workers (briefing, Chromium), together"] = sum(
                _rss_mb(p) or 0.0 for p in found["other"])
            for name, mb in sizes.items():
                if mb is not None:
                    self.last[name] = mb
                    self.peak[name] = max(mb, self.peak.get(name, 0.0))


def scrape(port: int) -> dict[str, float]:
    """The ETL's and snapshot's numbers from /metrics (summed over label sets)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as r:
        text = r.read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        m = re.match(r'(gridpulse_etl_cycles_total|gridpulse_snapshot_age_seconds|gridpulse_etl_last_cycle_failed|'
                     r'gridpulse_etl_files_total|gridpulse_etl_rows_quarantined_total)(\{[^}]*\})? ([0-9.e+-]+)$', line)
        if m:
            labels = m.group(2) or ""
            outcome = re.search(r'(?:outcome|status)="(\w+)"', labels)
            key = m.group(1) + (f"[{outcome.group(1)}]" if outcome else "")
            out[key] = out.get(key, 0.0) + float(m.group(3))
    return out


# ------------------------------------------------------------------------------------------------
# Locust
# ------------------------------------------------------------------------------------------------
def run_locust(plan_file: Path, token: str, port: int, walls: int, analysts: int, seconds: int, prefix: Path,
               log: Path) -> None:
    """Locust headless against 127.0.0.1 only, ``walls`` + ``analysts`` users, for ``seconds``; waits for it."""
    locust = start_locust(plan_file, token, port, walls, analysts, seconds, prefix, log)
    try:
        locust.wait(seconds + 180)
    finally:
        stop_locust(locust)


def stop_locust(locust: subprocess.Popen) -> None:
    """SIGTERM (Locust stops its users and writes its CSV files), SIGKILL after 60 s."""
    if locust.poll() is None:
        locust.terminate()
        try:
            locust.wait(60)
        except subprocess.TimeoutExpired:
            locust.kill()
            locust.wait()


def start_locust(plan_file: Path, token: str, port: int, walls: int, analysts: int, seconds: int, prefix: Path,
                 log: Path) -> subprocess.Popen:
    """Locust headless against 127.0.0.1 only, ``walls`` + ``analysts`` users, for at most ``seconds``."""
    users = walls + analysts
    env = {**os.environ, "GP_LOAD_PLAN": str(plan_file), "GP_LOAD_TOKEN": token, "GP_LOAD_WALLS": str(walls),
           "GP_LOAD_ANALYSTS": str(analysts)}
    if not Path(LOCUST).exists():
        raise SystemExit(f"no {LOCUST}: python3.11 -m venv {Path(LOCUST).parent.parent} && "
                         f"{Path(LOCUST).parent}/pip install -r bench/requirements-load.txt (or set GP_LOCUST)")
    cmd = [LOCUST, "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
           "--host", f"http://127.0.0.1:{port}", "-u", str(users), "-r", str(max(1, users // 20)),
           "-t", f"{seconds}s", "--csv", str(prefix), "--only-summary", "--stop-timeout", "30",
           "--exit-code-on-error", "0"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def read_stats(prefix: Path) -> list[dict]:
    with open(f"{prefix}_stats.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def print_stats(rows: list[dict], title: str) -> None:
    print(f"\n{title}\n")
    print("| request | n | fail | p50 ms | p95 ms | p99 ms | max ms | req/s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['Name'] if r['Name'] != 'Aggregated' else '**all**'} | {r['Request Count']} | {r['Failure Count']} "
              f"| {r['50%']} | {r['95%']} | {r['99%']} | {float(r['Max Response Time']):.0f} "
              f"| {float(r['Requests/s']):.2f} |")


def one_run(args, workers: int, settings: Settings, env: dict, plan_file: Path, token: str, out_dir: Path) -> None:
    log = out_dir / f"serve-{workers}.log"
    load0 = os.getloadavg()
    server = start_server(env, workers, args.port, log)
    sampler = Sampler(server)
    sampler.start()
    try:
        time.sleep(5)
        before = scrape(args.port)
        prefix = out_dir / f"w{workers}"
        run_locust(plan_file, token, args.port, args.walls, args.analysts, args.duration, prefix,
                   out_dir / f"locust-{workers}.log")
        after = scrape(args.port)
    finally:
        sampler.stop.set()
        stop_server(server)
    rows = read_stats(prefix)
    loads = sampler.loads or [0.0]
    print_stats(rows, f"### workers = {workers}, {args.walls} walls + {args.analysts} analysts, {args.duration} s, "
                      f"{args.events:,} cases; load average {load0[0]:.1f} before, "
                      f"{min(loads):.1f}-{max(loads):.1f} during (2 cores)")
    print("\n| process | RSS MB at the end | peak |\n|---|---:|---:|")
    for name in sorted(sampler.peak):
        print(f"| {name} | {sampler.last[name]:.0f} | {sampler.peak[name]:.0f} |")
    cycles = {k: after.get(k, 0) - before.get(k, 0) for k in after if k.startswith("gridpulse_etl_cycles_total")}
    print(f"\nETL cycles during the run: {cycles}; snapshot age at the end "
          f"{after.get('gridpulse_snapshot_age_seconds', float('nan')):.0f} s", flush=True)


# ------------------------------------------------------------------------------------------------
# The soak
# ------------------------------------------------------------------------------------------------
def _chromium_wall(port: int, token: str):
    """A headless Chromium showing the wall (the tests' flags); None when chromedriver is missing."""
    if shutil.which("chromedriver") is None:
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1920,1080",
                 "--enable-precise-memory-info", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                 "--disable-background-networking", "--no-first-run"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.get(f"http://127.0.0.1:{port}/wall?token={token}&refresh=10")
    return driver


def _browser_memory(driver) -> tuple[float | None, float | None]:
    """(JS heap MB of the wall page, RSS MB of Chromium's processes together)."""
    try:
        heap = driver.execute_script("return performance.memory.usedJSHeapSize") / 2**20
    except Exception:  # noqa: BLE001 - a busy page: report it missing, go on
        heap = None
    pid = driver.service.process.pid
    total = 0.0
    for p in psutil.Process(pid).children(recursive=True):
        total += _rss_mb(p) or 0.0
    return heap, total


def _snapshot_files(settings: Settings, procs: list[psutil.Process]) -> tuple[int, int, int]:
    """(snapshot files on disk, files of snapshots/ open in some process, open ones already deleted)."""
    on_disk = len(list(settings.snapshots_dir.glob("*.duckdb")))
    held: set[str] = set()
    deleted = 0
    for p in procs:
        try:
            for fd in Path(f"/proc/{p.pid}/fd").iterdir():
                try:
                    target = os.readlink(fd)
                except OSError:
                    continue
                if str(settings.snapshots_dir) in target:
                    held.add(target)
        except OSError:
            continue
    for target in held:
        if target.endswith(" (deleted)"):
            deleted += 1
    return on_disk, len(held), deleted


def soak(args, settings: Settings, env: dict, plan_file: Path, token: str, out_dir: Path, seconds: int) -> None:
    workers = args.workers[0]
    load0 = os.getloadavg()
    server = start_server(env, workers, args.port, out_dir / "serve-soak.log")
    driver = None
    locust = None
    try:
        driver = _chromium_wall(args.port, token)
        locust = start_locust(plan_file, token, args.port, args.walls, args.analysts, seconds, out_dir / "soak",
                              out_dir / "locust-soak.log")
        started = time.monotonic()
        series = []
        before = scrape(args.port)
        while time.monotonic() - started < seconds:
            time.sleep(60)
            procs = processes(server)
            row = {"min": round((time.monotonic() - started) / 60), "load": os.getloadavg()[0]}
            for role in ("arbiter", "worker", "scheduler"):
                for i, p in enumerate(procs[role]):
                    try:
                        row[f"{role}{i} MB"] = p.memory_info().rss / 2**20
                        row[f"{role}{i} fds"] = p.num_fds()
                    except psutil.Error:
                        row[f"{role}{i} MB"] = row[f"{role}{i} fds"] = None
            if driver is not None:
                row["wall heap MB"], row["chromium MB"] = _browser_memory(driver)
            everyone = procs["arbiter"] + procs["worker"] + procs["scheduler"] + procs["other"]
            row["snapshots on disk"], row["snapshots open"], row["deleted but open"] = _snapshot_files(settings, everyone)
            series.append(row)
            print(json.dumps(row, default=lambda v: round(v, 1)), flush=True)
        try:
            locust.wait(240)
        except subprocess.TimeoutExpired:
            pass
        after = scrape(args.port)
    finally:
        if locust is not None:
            stop_locust(locust)
        if driver is not None:
            driver.quit()
        stop_server(server)
    print(f"\n### soak: workers = {workers}, {args.walls} walls + {args.analysts} analysts, {seconds / 60:.0f} min, "
          f"{args.events:,} cases; load average {load0[0]:.1f} before (2 cores)\n")
    keys = [k for k in series[0] if k != "min"]
    print("| minute | " + " | ".join(keys) + " |")
    print("|---:|" + "---:|" * len(keys))
    for row in series:
        print(f"| {row['min']} | " + " | ".join("" if row.get(k) is None else f"{row[k]:.1f}" if isinstance(row[k], float)
                                               else str(row[k]) for k in keys) + " |")
    print("\nmemory, last vs first minute (target: within 10 %):")
    for k in keys:
        if k.endswith("MB") or k.endswith("fds"):
            first, last = series[0].get(k), series[-1].get(k)
            if first and last:
                print(f"- {k}: {first:.1f} -> {last:.1f} ({(last - first) / first * 100:+.1f} %)")
    cycles = {k: after.get(k, 0) - before.get(k, 0) for k in after if k.startswith("gridpulse_etl_cycles_total")}
    print(f"\nETL cycles during the soak: {cycles}")
    print_stats(read_stats(out_dir / "soak"), "requests during the soak")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--duration", type=int, default=180, help="seconds of load per worker count (at most 300)")
    ap.add_argument("--walls", type=int, default=10)
    ap.add_argument("--analysts", type=int, default=50)
    ap.add_argument("--cases-per-day", type=int, default=27_000)
    ap.add_argument("--port", type=int, default=8791)
    ap.add_argument("--soak", default="", help="e.g. 30m: one soak of that length instead of the runs")
    args = ap.parse_args()
    if args.walls + args.analysts > 200 or not 10 <= args.duration <= 300:
        raise SystemExit("bounded: at most 200 users and 300 s a run")
    soak_seconds = int(args.soak[:-1]) * 60 if args.soak.endswith("m") else int(args.soak or 0)
    if soak_seconds > 3600:
        raise SystemExit("a soak of at most 60 minutes")
    tag = f"soak-{os.getpid()}" if soak_seconds else str(os.getpid())
    settings = private_var(args.events, tag)
    out_dir = settings.var_dir.parent
    env = server_env(settings, args.cases_per_day)
    token = accounts(env)
    t = time.perf_counter()
    plan_file = out_dir / "plan.json"
    plan = make_plan(settings, plan_file)
    print(f"{datetime.now(UTC):%H:%M:%S} UTC: private var {settings.var_dir}; plan of {len(plan['pages'])} analyst "
          f"pages made in {time.perf_counter() - t:.1f} s", flush=True)
    random.seed(1)
    try:
        if soak_seconds:
            soak(args, settings, env, plan_file, token, out_dir, soak_seconds)
        else:
            for workers in args.workers:
                one_run(args, workers, settings, env, plan_file, token, out_dir)
    finally:
        if not args.soak:
            print(f"\nfiles kept in {out_dir} (stats CSVs, logs); remove with rm -r {out_dir}")


if __name__ == "__main__":
    main()
