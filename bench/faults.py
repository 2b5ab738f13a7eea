"""Faults under load: what the wall shows, what /metrics says, what is lost, and whether it recovers alone.

    .venv/bin/python bench/faults.py                     # 100k-case live demo on a 512 MB tmpfs, 2 workers
    .venv/bin/python bench/faults.py --events 30000 --walls 2 --analysts 3

Needs root (the private ``var/`` is a tmpfs, so the disk can really fill up). Runs ``app.py serve`` with its
scheduler (ETL every ``--interval`` s, the live simulator landing cases), a light Locust load
(``bench/locustfile.py``: ``--walls`` walls, ``--analysts`` analysts) for the whole run, and a probe that
fires a wall refresh every 2 s (status, the snapshot it shows, the stale mark) and scrapes ``/metrics``.
Then, one after another (bounded: the whole run takes about ten minutes at most):

1. **scheduler killed in the middle of a cycle**: a landing file of every case of the snapshot (valid
   updates, so the cycle takes seconds) is dropped; once the scheduler's process has ``work.duckdb`` open
   with the file landed, SIGKILL. ``serve`` does not restart it (see the report); the bench does after
   ``3 x interval`` (what systemd's ``Restart=always`` or an operator would), as ``app.py scheduler``.
2. **garbage**: a file of random bytes (``.csv``) and a CSV with the right header whose rows are nonsense.
3. **a web worker killed** (SIGKILL): gunicorn starts another.
4. **disk full**: a filler file takes every free byte of the tmpfs for ``3 x interval`` s, then goes.

Printed: a timeline (probe answers, stale mark, snapshot, /metrics' failure flag and snapshot age) per phase,
and at the end what was lost: landing files not in the ledger, ledger statuses, rows quarantined.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from bench.load import (  # noqa: E402
    PYTHON,
    accounts,
    make_plan,
    processes,
    scrape,
    server_env,
    start_locust,
    start_server,  # noqa: E402
    stop_locust,
    stop_server,
)
from dashboard import ids  # noqa: E402
from settings import load_settings  # noqa: E402

FAULT_DIR = Path("/tmp/gp-faults")


class Probe(threading.Thread):
    """A wall refresh every 2 s (as the page sends it), and /metrics: what a person and a Prometheus see."""

    def __init__(self, port: int, token: str, plan: dict):
        super().__init__(daemon=True)
        self.port, self.plan, self.stop = port, plan, threading.Event()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        self.opener.open(f"http://127.0.0.1:{port}/wall?token={token}", timeout=30).read()
        self.rows: list[dict] = []
        self.n = 0

    def refresh(self) -> dict:
        self.n += 1
        body = json.loads(json.dumps(self.plan["wall_refresh"]))
        body["inputs"][0]["value"] = self.n
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/_dash-update-component",
                                         data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
        row: dict = {"t": time.time()}
        try:
            with self.opener.open(request, timeout=10) as r:
                text = r.read().decode()
                row["status"] = r.status
        except urllib.error.HTTPError as e:
            row["status"], text = e.code, ""
        except OSError as e:
            row["status"], text = f"error {type(e).__name__}", ""
        if text:
            answer = json.loads(text)["response"]
            row["snapshot"] = (answer.get(ids.WALL_META, {}).get("data") or {}).get("snapshot")
            row["stale"] = re.search(r'"data-stale":\s*"true"', text) is not None
        try:
            m = scrape(self.port)
            row["failed"] = m.get("gridpulse_etl_last_cycle_failed")
            row["age"] = m.get("gridpulse_snapshot_age_seconds")
            row["published"] = m.get("gridpulse_etl_cycles_total[published]", 0)
            row["cycles_failed"] = m.get("gridpulse_etl_cycles_total[failed]", 0)
            row["rejected"] = m.get("gridpulse_etl_files_total[rejected]", 0)
            row["quarantined"] = m.get("gridpulse_etl_rows_quarantined_total", 0)
        except OSError:
            pass
        return row

    def run(self) -> None:
        while not self.stop.wait(2):
            self.rows.append(self.refresh())


def _summary(rows: list[dict], since: float, until: float) -> str:
    part = [r for r in rows if since <= r["t"] < until]
    if not part:
        return "no probe answers"
    codes: dict = {}
    for r in part:
        codes[r["status"]] = codes.get(r["status"], 0) + 1
    snaps = [r.get("snapshot") for r in part if r.get("snapshot")]
    stale = sum(1 for r in part if r.get("stale"))
    failed = sum(1 for r in part if r.get("failed") == 1)
    ages = [r["age"] for r in part if r.get("age") is not None]
    return (f"{len(part)} refreshes {codes}; snapshots shown {len(set(snaps))}; stale mark on {stale}; "
            f"/metrics last_cycle_failed=1 on {failed}; snapshot age max {max(ages, default=float('nan')):.0f} s; "
            f"published {part[0].get('published', 0):.0f} -> {part[-1].get('published', 0):.0f}, "
            f"failed cycles {part[0].get('cycles_failed', 0):.0f} -> {part[-1].get('cycles_failed', 0):.0f}, "
            f"files rejected {part[0].get('rejected', 0):.0f} -> {part[-1].get('rejected', 0):.0f}, "
            f"rows quarantined {part[0].get('quarantined', 0):.0f} -> {part[-1].get('quarantined', 0):.0f}")


def _wait_published(probe: Probe, count: int, timeout: float) -> bool:
    """Until /metrics has counted ``count`` more published cycles (True), or ``timeout`` s passed."""
    start = probe.rows[-1].get("published", 0) if probe.rows else 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe.rows and probe.rows[-1].get("published", 0) >= start + count:
            return True
        time.sleep(1)
    return False


def _big_file(settings, path: Path) -> int:
    """Every case of the current snapshot as a landing CSV (valid updates; a cycle of a few seconds)."""
    from data.demo.simulate import SIM_COLUMNS
    from data.snapshot import SnapshotReader

    reader = SnapshotReader(settings.warehouse_dir, settings.timezone)
    try:
        cur = reader.cursor()
        cols = ", ".join(SIM_COLUMNS)
        tmp = path.with_suffix(".part")
        cur.execute(f"COPY (SELECT {cols} FROM events) TO '{tmp}' (HEADER, DELIMITER ',')")
        n = cur.execute("SELECT count(*) FROM events").fetchall()[0][0]
    finally:
        reader.close()
    os.replace(tmp, path)
    return n


def _holds(pid: int, name: str) -> bool:
    try:
        return any(os.readlink(fd).endswith(name) for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False


def _ledger(settings) -> list[tuple]:
    from data.snapshot import SnapshotReader

    reader = SnapshotReader(settings.warehouse_dir, settings.timezone)
    try:
        cur = reader.cursor()
        return cur.execute("SELECT status, count(*), sum(rows_in), sum(rows_loaded), sum(rows_quarantined) "
                           "FROM etl_files GROUP BY 1 ORDER BY 1").fetchall()
    finally:
        reader.close()


def main() -> None:  # noqa: PLR0915 - one scripted scenario, read top to bottom
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--walls", type=int, default=3)
    ap.add_argument("--analysts", type=int, default=5)
    ap.add_argument("--interval", type=int, default=10, help="ETL interval, seconds")
    ap.add_argument("--port", type=int, default=8792)
    ap.add_argument("--size-mb", type=int, default=512, help="the tmpfs holding var/")
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root: var/ is a tmpfs of its own, so that the disk can fill up")
    var = FAULT_DIR / "var"
    subprocess.run(["umount", str(var)], capture_output=True, check=False)
    FAULT_DIR.mkdir(parents=True, exist_ok=True)
    var.mkdir(exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={args.size_mb}m", "tmpfs", str(var)], check=True)
    settings = load_settings(env={"GRIDPULSE_VAR_DIR": str(var)}, toml_path=None)
    from data.demo.generate import DemoSpec, build_demo

    t0 = time.perf_counter()
    build_demo(settings, DemoSpec(events=args.events, days=90, now=datetime.now(ZoneInfo(settings.timezone)),
                                  people=20_000, enterprises=2_000, cameras=1_000), progress=False)
    print(f"demo of {args.events:,} cases built in {time.perf_counter() - t0:.0f} s on a {args.size_mb} MB tmpfs "
          f"(load average {os.getloadavg()[0]:.1f}, 2 cores)", flush=True)
    env = {**server_env(settings, 20_000), "GRIDPULSE_ETL_INTERVAL_SECONDS": str(args.interval)}
    token = accounts(env)
    plan_file = FAULT_DIR / "plan.json"
    plan = make_plan(settings, plan_file)
    serve_log = FAULT_DIR / "serve.log"  # appended to by every run: this run's part starts here
    log_start = serve_log.stat().st_size if serve_log.exists() else 0
    server = start_server(env, args.workers, args.port, serve_log)
    locust = start_locust(plan_file, token, args.port, args.walls, args.analysts, 600, FAULT_DIR / "locust",
                          FAULT_DIR / "locust.log")
    probe = Probe(args.port, token, plan)
    probe.start()
    landing = settings.var_dir / "landing" / "events"
    landed: list[Path] = []
    marks: list[tuple[str, float]] = [("start", time.time())]
    scheduler_extra = None
    try:
        _wait_published(probe, 1, 6 * args.interval)
        marks.append(("1. scheduler killed mid-cycle", time.time()))
        big = landing / "fault-big.csv"
        rows = _big_file(settings, big)
        landed.append(big)
        sched = processes(server)["scheduler"][0]
        deadline = time.monotonic() + 5 * args.interval
        while time.monotonic() < deadline and not _holds(sched.pid, "work.duckdb"):
            time.sleep(0.05)
        time.sleep(0.5)
        in_cycle = _holds(sched.pid, "work.duckdb")
        os.kill(sched.pid, signal.SIGKILL)
        print(f"SIGKILL scheduler {sched.pid} {'during' if in_cycle else 'NOT during'} a cycle, "
              f"{rows:,}-row file landed; still in landing: {big.exists()}", flush=True)
        t_kill = time.monotonic()
        alive: list = []
        while time.monotonic() - t_kill < 3 * args.interval and not alive:
            time.sleep(0.5)
            alive = [p for p in processes(server)["scheduler"] if p.pid != sched.pid and p.is_running()
                     and p.status() != psutil.STATUS_ZOMBIE]
        print(f"a new scheduler under serve after {time.monotonic() - t_kill:.1f} s: "
              f"{[p.pid for p in alive] or 'none'}", flush=True)
        if not alive:
            scheduler_extra = subprocess.Popen([PYTHON, "app.py", "scheduler"], cwd=ROOT, env=env,
                                               stdout=(FAULT_DIR / "scheduler-restarted.log").open("ab"),
                                               stderr=subprocess.STDOUT, start_new_session=True)
            print(f"restarted by the bench as `app.py scheduler` (pid {scheduler_extra.pid})", flush=True)
        ok = _wait_published(probe, 1, 10 * args.interval)
        print(f"next cycle published after the restart: {ok}; big file moved to .done: {not big.exists()}", flush=True)

        marks.append(("2. garbage landed", time.time()))
        junk = landing / "fault-garbage.csv"
        junk.write_bytes(bytes(random.Random(1).randrange(256) for _ in range(50_000)))
        nonsense = landing / "fault-nonsense.csv"
        from data.demo.simulate import SIM_COLUMNS

        with nonsense.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(SIM_COLUMNS)
            for i in range(100):
                w.writerow([f"X{i}", "fax", "no-such-category", "maybe", "?", "?", "perhaps", "垃圾", "nowhere",
                            "999", "-999", "yesterday-ish", "", "", "", "lost", "11", "not a time"])
        landed += [junk, nonsense]
        _wait_published(probe, 2, 8 * args.interval)

        marks.append(("3. web worker killed", time.time()))
        victim = processes(server)["worker"][0]
        os.kill(victim.pid, signal.SIGKILL)
        t_kill = time.monotonic()
        while time.monotonic() - t_kill < 60:
            workers = [p.pid for p in processes(server)["worker"]]
            if len(workers) >= args.workers and victim.pid not in workers:
                break
            time.sleep(0.2)
        print(f"worker {victim.pid} killed; {len(workers)} workers again after {time.monotonic() - t_kill:.1f} s "
              f"({workers})", flush=True)
        time.sleep(2 * args.interval)

        marks.append(("4. disk full", time.time()))
        filler = settings.var_dir / "filler"
        try:
            with filler.open("wb") as f:
                while True:
                    f.write(b"\0" * 2**20)
        except OSError as e:
            print(f"filler: {e.strerror} after {filler.stat().st_size / 2**20:.0f} MB", flush=True)
        for _ in range(4 * args.interval // 2):
            time.sleep(2)
            if server.poll() is not None:
                break
        with serve_log.open("rb") as f:
            f.seek(log_start)
            log = f.read().decode(errors="replace")
        print(f"disk full for {time.time() - marks[-1][1]:.0f} s: serve "
              f"{'running' if server.poll() is None else f'EXITED with {server.returncode}'}; in its log: "
              f"{log.count('SIGBUS')} workers killed by SIGBUS, {log.count('Worker failed to boot')} 'Worker failed to "
              f"boot', {log.count('ETL events cycle failed')} failed cycles", flush=True)
        marks.append(("4b. disk freed", time.time()))
        filler.unlink()
        ok = _wait_published(probe, 2, 10 * args.interval)
        state = "running" if server.poll() is None else f"EXITED with {server.returncode}"
        print(f"two cycles published after the disk was freed: {ok}; serve {state}", flush=True)
        if server.poll() is not None:  # what systemd's Restart=always would do; a person otherwise
            marks.append(("4c. serve restarted by the bench", time.time()))
            server = start_server(env, args.workers, args.port, FAULT_DIR / "serve.log")
            probe.opener.open(f"http://127.0.0.1:{args.port}/wall?token={token}", timeout=30).read()
            ok = _wait_published(probe, 1, 10 * args.interval)
            print(f"serve started again by the bench: a cycle published: {ok}", flush=True)
        marks.append(("end", time.time()))
    finally:
        probe.stop.set()
        if scheduler_extra is not None and scheduler_extra.poll() is None:
            scheduler_extra.terminate()
            scheduler_extra.wait(60)
        stop_locust(locust)
        stop_server(server)
    print(f"\n### faults under load: {args.events:,}-case live demo, {args.workers} workers, ETL every {args.interval} s, "
          f"{args.walls} walls + {args.analysts} analysts (Locust) + a probe refresh every 2 s; "
          f"load average {os.getloadavg()[0]:.1f} at the end (2 cores)\n")
    for (name, since), (_, until) in zip(marks, marks[1:], strict=False):
        print(f"- {name} ({until - since:.0f} s): {_summary(probe.rows, since, until)}")
    pending = [p for p in landing.rglob("*") if p.is_file()
               and not any(part.startswith(".") for part in p.relative_to(landing).parts)]
    print(f"\nlanding files not yet taken (left for a cycle): {len(pending)} {[p.name for p in pending][:5]}")
    print(f"fault files kept under landing/events/.done: "
          f"{sorted(p.name for p in (landing / '.done').rglob('fault-*'))}")
    print("ledger (status, files, rows in, loaded, quarantined):", _ledger(settings))
    from bench.load import print_stats, read_stats

    if Path(f"{FAULT_DIR / 'locust'}_stats.csv").exists():
        print_stats(read_stats(FAULT_DIR / "locust"), "Locust during the faults")
    failures = FAULT_DIR / "locust_failures.csv"
    if failures.exists():
        print("\nfailures:\n" + re.sub(r"\n+", "\n", failures.read_text()[:3000]))
    subprocess.run(["umount", "-l", str(var)], check=False)


if __name__ == "__main__":
    main()
