"""Benchmark the weekly briefing: time to write one, by phase, and the wall's refresh while one is written.

    .venv/bin/python bench/briefing.py                                  # the shared 1M and 10M warehouses
    .venv/bin/python bench/briefing.py --var /tmp/an_demo/var            # any warehouse (a var/ folder)
    .venv/bin/python bench/briefing.py --no-wall                        # only the briefing times

Each warehouse is used through a private folder whose snapshot is a hard link to the shared one
(nothing is written beside the shared warehouse); the briefing is the district's, for the last
week complete at the newest case ("now" is pinned there), written by ``app.py report``'s own
function (``jobs.run``) in a fresh process, as the schedule and the page's button run it.

The wall: a Dash app on the same private snapshot answers the wall's refresh callback (the real
request, through Flask's test client, with the numbers recomputed every time: the metric caches
are cleared before each tick, the cost of a tick on a new snapshot) back to back, first alone and
then while a briefing is being written in another process. Target (issue 12): a briefing in
under 60 s at 10 million cases, and the wall keeps refreshing on time (a tick well under the
60 s refresh period) while it is written.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.wall import data_end, payload, republish  # noqa: E402
from dashboard import ids, runtime  # noqa: E402
from dashboard.app import create_app  # noqa: E402
from dashboard.briefing import jobs  # noqa: E402
from dashboard.briefing.week import IsoWeek  # noqa: E402
from dashboard.wall.options import WallOptions  # noqa: E402
from settings import Settings, load_settings  # noqa: E402
from tests.conftest import signed_in  # noqa: E402  (an admin's session cookie: every page needs a sign-in)

BENCH_DIR = Path(os.environ.get("GRIDPULSE_BENCH_DIR", "/tmp/gridpulse_bench"))


def private(shared: Settings, name: str) -> Settings:
    """A private var/ whose current snapshot is a hard link to the shared one's."""
    from data.snapshot import read_current

    var = Path(f"/tmp/gp-bench-briefing/{name}/var")
    shutil.rmtree(var.parent, ignore_errors=True)
    mine = load_settings(env={"GRIDPULSE_VAR_DIR": str(var)}, toml_path=None)
    mine.snapshots_dir.mkdir(parents=True)
    republish(mine, read_current(shared.current_file).path, 0)
    return mine


def write_one(settings: Settings, week: IsoWeek, now) -> dict:
    """One briefing in a fresh process (spawned, as the schedule does); its metadata."""
    import multiprocessing

    started = time.perf_counter()
    ctx = multiprocessing.get_context("spawn")
    proc = ctx.Process(target=_child, args=(settings, str(week), now))
    proc.start()
    proc.join()
    wall = time.perf_counter() - started
    if proc.exitcode != 0:
        raise RuntimeError(f"briefing process failed (exit {proc.exitcode}); see the run log")
    meta_file = next(settings.reports_dir.glob(f"*/{week}.json"))
    return {**json.loads(meta_file.read_text()), "process_seconds": round(wall, 1)}


def _child(settings: Settings, week: str, now) -> None:
    jobs.run(settings, IsoWeek.parse(week), now=now, trigger="bench")


class Ticker:
    """The wall's refresh, back to back, recomputed every time; latencies in ms."""

    def __init__(self, settings: Settings, now):
        self.app = create_app(settings, clock=lambda: now)
        self.client = signed_in(self.app)
        assert self.client.get("/wall").status_code == 200
        rt = runtime.of(self.app)
        with rt.snapshot() as (con, info):
            district = rt.deployment(con, info).district_id
        self.options = {**WallOptions.from_query({}, settings, district).to_dict(), "tz": settings.timezone,
                        "server_now": 0}
        first = self._post({}, 0)
        self.drawn = json.loads(first)["response"][ids.WALL_DRAWN]["data"]

    def _post(self, drawn: dict, n: int) -> bytes:
        response = self.client.post("/_dash-update-component", json=payload(self.app, self.options, drawn, n))
        if response.status_code != 200:
            raise RuntimeError(f"tick failed: HTTP {response.status_code}")
        return response.data

    def tick(self, n: int) -> float:
        from dashboard.wall import data
        from metrics import cache

        data.CACHE.clear()
        cache.reset()
        stale = {**self.drawn, "map": {**self.drawn["map"], "digest": f"tick {n}"}}
        t = time.perf_counter()
        self._post(stale, n)
        return (time.perf_counter() - t) * 1000

    def run_while(self, busy: threading.Event, at_least: int = 5) -> list[float]:
        out = []
        n = 1
        while busy.is_set() or len(out) < at_least:
            out.append(self.tick(n))
            n += 1
        return out


def _stats(ms: list[float]) -> str:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return f"{len(ms):>4} {statistics.median(ms):>8.0f} {p95:>8.0f} {max(ms):>8.0f}"


def bench(shared: Settings, name: str, wall: bool) -> None:
    now = data_end(shared)
    week = IsoWeek.last_complete(now, shared.timezone)
    settings = private(shared, name)
    print(f"\n{name}: week {week}, now pinned at {now:%Y-%m-%d %H:%M}", flush=True)
    meta = write_one(settings, week, now)
    print(f"{'phase':<34} {'seconds':>8}")
    for key, label in (("gather_seconds", "numbers from metrics/"), ("draw_seconds", "charts (kaleido) + font subset"),
                       ("print_seconds", "HTML printed by Chromium"), ("seconds", "whole render"),
                       ("process_seconds", "whole process (start-up included)")):
        print(f"{label:<34} {meta[key]:>8.1f}")
    size = next(settings.reports_dir.glob(f"*/{week}.pdf")).stat().st_size
    print(f"{'pages / size':<34} {meta['pages']:>8} {size / 1e6:.2f} MB", flush=True)
    if not wall:
        return
    ticker = Ticker(settings, now)
    idle = threading.Event()
    alone = ticker.run_while(idle, at_least=8)
    busy = threading.Event()
    busy.set()
    result = {}

    def write():
        try:
            result["meta"] = write_one(settings, week, now)
        finally:
            busy.clear()

    thread = threading.Thread(target=write)
    thread.start()
    during = ticker.run_while(busy)
    thread.join()
    print(f"{'wall refresh (recomputed)':<26} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    print(f"{'alone':<26} {_stats(alone)}")
    print(f"{'while a briefing is written':<26} {_stats(during)}")
    print(f"(the briefing took {result['meta']['process_seconds']:.1f} s with the wall busy beside it)", flush=True)
    runtime.of(ticker.app).close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, nargs="*", default=[1_000_000, 10_000_000],
                   help="shared bench warehouses under $GRIDPULSE_BENCH_DIR/<events>/var")
    p.add_argument("--var", type=Path, nargs="*", default=[], help="other warehouses (var/ folders)")
    p.add_argument("--no-wall", action="store_true", help="skip the wall-refresh measurement")
    args = p.parse_args()
    targets = [(str(v), v) for v in args.var] or [(f"{n:,} cases", BENCH_DIR / str(n) / "var") for n in args.events]
    for name, var in targets:
        shared = load_settings(env={"GRIDPULSE_VAR_DIR": str(var)}, toml_path=None)
        if not shared.current_file.exists():
            print(f"{name}: no warehouse at {var} (build it with bench/metrics.py)")
            continue
        bench(shared, name.replace("/", "_").replace(",", "").replace(" ", "-"), not args.no_wall)


if __name__ == "__main__":
    main()
