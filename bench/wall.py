"""Benchmark the wall screen: server time and bytes per refresh tick, and the first page load.

    .venv/bin/python bench/wall.py                      # 1 million cases (built once, then reused)
    .venv/bin/python bench/wall.py --events 1000000 10000000
    .venv/bin/python bench/wall.py --no-browser         # skip the Chromium page load

A tick is measured the way the browser asks for it: a POST to ``/_dash-update-component`` with
the refresh callback's real payload (all panels of the main layout), through Flask's test
client, so the time includes Dash's JSON encoding and the bytes are the response body. Three
kinds of tick:

* first load          - nothing drawn yet: whole figures, map polygons included (once per screen);
* same snapshot       - a refresh with the same snapshot (numbers cached; the map sends nothing);
* new snapshot, ready - a refresh after the ETL published a snapshot, once the background warm-up
                        (dashboard/wall/warmup.py) has computed it: the steady state of a real wall;
                        the map sends a patch with every area's numbers;
* new snapshot, cold  - the same with the warm-up off: every metric computed in the request (what
                        a refresh costs if it arrives before the warm-up is done).

A "new snapshot" is the same file hard-linked under a new name in a private folder: the shared
warehouse is never touched, and the numbers do not depend on how much data arrived.

"now" is pinned to the newest case in the warehouse, so "today" is a full day of data.
Warehouses are built with ``data.demo.generate.build_demo`` under ``/tmp/gp-bench-<size>`` and reused
when ``var/warehouse/CURRENT`` exists there (other benchmarks share the 1M one).
Targets (issue 5): a tick under 200 ms and 100 KB at 10 million cases; the first load under 3 s.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard import ids, runtime  # noqa: E402
from dashboard.app import create_app  # noqa: E402
from dashboard.wall import data, warmup  # noqa: E402
from dashboard.wall.options import WallOptions  # noqa: E402
from dashboard.wall.protocol import refresh_request  # noqa: E402
from settings import Settings, load_settings  # noqa: E402
from tests.conftest import browser_sign_in, signed_in  # noqa: E402  (an admin's session cookie: every page needs a sign-in)

VIEWPORT = {"w": 1920, "h": 1080, "scale": 1.0, "map_w": 803, "map_h": 794}  # as measured at 1920×1080
REPEAT = 5
READY = """
const plot = document.querySelector('#wall-map-box .js-plotly-plot');
const tile = document.querySelector('.gp-vital[data-key="received"] .gp-vital-num');
return !!(plot && plot._fullData && plot._fullData.length === 2 && tile);
"""


def _size_name(events: int) -> str:
    return f"{events // 1_000_000}m" if events >= 1_000_000 else f"{events // 1000}k"


def warehouse(events: int) -> Settings:
    """Settings of the benchmark warehouse of this size, built on first use."""
    var = Path(f"/tmp/gp-bench-{_size_name(events)}") / "var"
    settings = load_settings(env={"GRIDPULSE_VAR_DIR": str(var)}, toml_path=None)
    if not settings.current_file.exists():
        from data.demo.generate import DemoSpec, build_demo

        print(f"building a {events:,}-case warehouse in {var} (once) ...", flush=True)
        build_demo(settings, DemoSpec(events=events), progress=False)
    return settings


def data_end(settings: Settings):
    """The newest case's time: the benchmark's pinned "now"."""
    from data.snapshot import SnapshotReader

    cur = SnapshotReader(settings.warehouse_dir, settings.timezone).cursor()
    try:
        return cur.execute("SELECT max(received_at) FROM events").fetchall()[0][0].astimezone(settings.zone)
    finally:
        cur.close()


def payload(app, options: dict, drawn: dict, n: int, layout: str = "main") -> dict:
    """The refresh callback's request body, as the browser sends it."""
    return refresh_request(app, options, VIEWPORT, drawn, n, layout)


def tick(client, app, options: dict, drawn: dict, n: int) -> tuple[float, int, int, dict]:
    """One refresh: (ms, bytes, gzip bytes, the new "drawn" state)."""
    body = payload(app, options, drawn, n)
    t = time.perf_counter()
    response = client.post("/_dash-update-component", json=body)
    ms = (time.perf_counter() - t) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"refresh failed with HTTP {response.status_code}: {response.data[:500]!r}")
    data = response.data
    new_drawn = json.loads(data)["response"][ids.WALL_DRAWN]["data"]
    return ms, len(data), len(gzip.compress(data, 6)), new_drawn


def private_copy(settings: Settings, events: int) -> Settings:
    """A private warehouse folder whose snapshot is a hard link to the shared one's (no copy, no writes there)."""
    from data.snapshot import read_current

    var = Path(f"/tmp/gp-bench-wall/{_size_name(events)}") / "var"
    shutil.rmtree(var, ignore_errors=True)
    mine = load_settings(env={"GRIDPULSE_VAR_DIR": str(var)}, toml_path=None)
    mine.snapshots_dir.mkdir(parents=True)
    source = read_current(settings.current_file).path
    republish(mine, source, 0)
    return mine


def republish(settings: Settings, source: Path, n: int) -> None:
    """Point CURRENT at the same data under a new file name, as a new ETL cycle would."""
    from datetime import UTC, datetime

    name = f"bench-{n:04d}.duckdb"
    target = settings.snapshots_dir / name
    target.hardlink_to(source)
    tmp = settings.warehouse_dir / ".CURRENT.tmp"
    tmp.write_text(json.dumps({"snapshot": name, "published_at": datetime.now(UTC).isoformat(), "run_id": n}),
                   encoding="utf-8")
    tmp.replace(settings.current_file)
    time.sleep(1.05)  # the reader looks at CURRENT at most once a second


def measure_ticks(shared: Settings, events: int) -> dict:
    """Server time and bytes of the three kinds of tick (median of several)."""
    from data.snapshot import read_current

    now = data_end(shared)
    settings = private_copy(shared, events)
    source = read_current(shared.current_file).path
    app = create_app(settings, clock=lambda: now)
    client = signed_in(app)
    assert client.get("/wall").status_code == 200
    rt = runtime.of(app)
    with rt.snapshot() as (con, info):
        district = rt.deployment(con, info).district_id
    options = {**WallOptions.from_query({}, settings, district).to_dict(), "tz": settings.timezone, "server_now": 0}
    first = tick(client, app, options, {}, 0)
    drawn = first[3]
    same = [tick(client, app, options, drawn, i + 1) for i in range(REPEAT)]
    stale = {**drawn, "map": {**drawn["map"], "digest": "new data"}}
    ready, cold = [], []
    for i in range(REPEAT):
        republish(settings, source, 2 * i + 1)
        _wait_for_warmup(settings)
        ready.append(tick(client, app, options, stale, i + 1))
        warmup.set_enabled(False)
        republish(settings, source, 2 * i + 2)
        cold.append(tick(client, app, options, stale, i + 1))
        warmup.set_enabled(True)
        tick(client, app, options, stale, i + 1)  # a refresh restarts the watcher
    shutil.rmtree(settings.var_dir.parent, ignore_errors=True)

    def med(rows):
        return tuple(statistics.median(r[i] for r in rows) for i in range(3))

    return {"now": now, "first load": first[:3], "same snapshot": med(same), "new snapshot, ready": med(ready),
            "new snapshot, cold": med(cold)}


def _wait_for_warmup(settings: Settings, timeout: float = 60) -> None:
    """Until the background warm-up has stored the map numbers of the current snapshot."""
    from data.snapshot import read_current

    name = read_current(settings.current_file).name
    deadline = time.monotonic() + timeout
    while not any(k[0] == name and k[1] == "map" for k in list(data.CACHE._entries)):
        if time.monotonic() > deadline:
            raise TimeoutError("the warm-up did not run")
        time.sleep(0.05)
    time.sleep(0.2)  # the map is the last loader of a warm-up


def metric_breakdown(settings: Settings) -> dict[str, float]:
    """Milliseconds of each query behind a tick, on one warm cursor (median of 3)."""
    from data.snapshot import SnapshotReader
    from layers import grid_heat, resources, shapes
    from metrics.backlog import backlog_daily, backlog_hourly
    from metrics.freshness import freshness
    from metrics.scope import Scope, Window, district_area
    from metrics.vitals import vital_signs
    from metrics.warnings import efficiency_warnings, sla_ticker, surges

    now = data_end(settings)
    r = SnapshotReader(settings.warehouse_dir, settings.timezone)
    cur0 = r.cursor()
    try:
        scope = Scope(district_area(cur0)["area_id"], level="district")  # the warehouse's own district
    finally:
        cur0.close()
    window = Window.named("today", now, settings.timezone)
    steps = {
        "vital_signs": lambda c: vital_signs(c, scope, window, now, settings),
        "grid_aggregates": lambda c: grid_heat.query(c, scope, window, now, "microgrid", settings),
        "sla_ticker": lambda c: sla_ticker(c, scope, now, settings, rows=30),
        "backlog_daily": lambda c: backlog_daily(c, scope, now, days=30, settings=settings),
        "backlog_hourly": lambda c: backlog_hourly(c, scope, now, settings=settings),
        "surges": lambda c: surges(c, scope, now, hours=6, settings=settings),
        "efficiency_warnings": lambda c: efficiency_warnings(c, scope, now, settings=settings),
        "freshness": lambda c: freshness(c, r.info(), now, settings),
        "resources (layers)": lambda c: resources.query(c, scope),
        "area points (layers)": lambda c: shapes.points(c, scope, "microgrid"),
    }
    times: dict[str, list[float]] = {k: [] for k in steps}
    cur = r.cursor()
    try:
        for _ in range(3):
            for name, step in steps.items():
                t = time.perf_counter()
                step(cur)
                times[name].append((time.perf_counter() - t) * 1000)
    finally:
        cur.close()
    return {k: statistics.median(v) for k, v in times.items()}


PAGE_LOADS = ("page load, server just started", "page load, new browser", "page load, reload")


def page_load(settings: Settings, now) -> tuple[float, float, float] | None:
    """Seconds from navigation to a drawn wall (map and vital signs) in headless Chromium at 1920×1080.

    Returns, in the order of :data:`PAGE_LOADS`:

    * server just started: every cache empty, the server's start-up warm-up of the default wall
      (what ``app.py serve`` runs) begun, and a new browser navigating at once: walls reconnecting
      to a restarted server;
    * new browser: a fresh Chromium (no script cache) on a server whose numbers are ready: a wall
      PC switched on while the server runs;
    * reload: the same browser loading the page again.
    """
    if shutil.which("chromedriver") is None:
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from werkzeug.serving import WSGIRequestHandler, make_server

    from metrics import cache

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):  # the benchmark prints a table, not an access log
            pass

    app = create_app(settings, clock=lambda: now)
    server = make_server("127.0.0.1", 0, app.server, threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    options = Options()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--lang=zh-CN"):
        options.add_argument(flag)
    url = f"http://127.0.0.1:{server.server_port}/wall"

    def load(driver) -> float:
        t = time.perf_counter()
        driver.get(url)
        _wait(driver)
        return time.perf_counter() - t

    def browser():
        driver = webdriver.Chrome(options=options)
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
        browser_sign_in(driver, url.rsplit("/", 1)[0], app)  # as a screen would: a session cookie before /wall
        return driver

    try:
        first = browser()
        try:
            cache.clear_caches()
            data.CACHE.clear()
            warmup.start(runtime.of(app))
            started = load(first)
        finally:
            first.quit()
        driver = browser()
        try:
            fresh = load(driver)
            driver.get("about:blank")
            return started, fresh, load(driver)
        finally:
            driver.quit()
    finally:
        server.shutdown()


def _wait(driver, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not driver.execute_script(READY):
        if time.monotonic() > deadline:
            raise TimeoutError("the wall did not draw")
        time.sleep(0.02)


def made_up_scopes(shared: Settings, n: int = 16) -> dict[str, tuple]:
    """What ``n`` made-up scopes cost: pages and refreshes for areas the warehouse does not know.

    Returns ``{"pages"|"refreshes": (HTTP statuses, CPU s during, CPU s in the 10 s after)}``: a
    mistyped or crawled scope must cost nothing in the background (issue 9 measured 7 s + 4 s).
    """
    import resource

    def cpu() -> float:
        use = resource.getrusage(resource.RUSAGE_SELF)
        return use.ru_utime + use.ru_stime

    now = data_end(shared)
    app = create_app(shared, clock=lambda: now)
    client = signed_in(app)
    client.get("/wall")  # registers the page router
    router = next(k for k in app.callback_map if "_pages_content.children" in k)

    def page(search: str) -> int:
        body = {"output": router,
                "outputs": [{"id": "_pages_content", "property": "children"},
                            {"id": "_pages_store", "property": "data"}],
                "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/wall"},
                           {"id": "_pages_location", "property": "search", "value": search}],
                "changedPropIds": ["_pages_location.pathname"]}
        return client.post("/_dash-update-component", json=body).status_code

    def refresh(scope: str) -> int:
        options = {**WallOptions(60, scope, "zh").to_dict(), "tz": shared.timezone, "server_now": 0}
        return client.post("/_dash-update-component", json=payload(app, options, {}, 1)).status_code

    page("")  # the district's own wall, computed first, so only the made-up scopes are measured
    time.sleep(8)
    out = {}
    for kind, ask in (("pages", lambda i: page(f"?scope=madeup{i}")), ("refreshes", lambda i: refresh(f"other{i}"))):
        before = cpu()
        codes = sorted({ask(i) for i in range(n)})
        during = cpu() - before
        time.sleep(10)
        out[kind] = (codes, during, cpu() - before - during)
    warmup.stop()
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, nargs="*", default=[1_000_000])
    p.add_argument("--no-browser", action="store_true", help="skip the Chromium page load")
    p.add_argument("--made-up-scopes", action="store_true",
                   help="only measure what 16 made-up scopes cost (pages and refreshes, during and after)")
    args = p.parse_args()
    if args.made_up_scopes:
        for events in args.events:
            for kind, (codes, during, after) in made_up_scopes(warehouse(events)).items():
                print(f"{events:>12,} | 16 made-up scopes, {kind:<9} | HTTP {codes} | CPU {during:.2f} s during, "
                      f"{after:.2f} s in the 10 s after")
        return
    rows, breakdowns = [], {}
    for events in args.events:
        settings = warehouse(events)
        r = measure_ticks(settings, events)
        breakdowns[events] = metric_breakdown(settings)
        load = None if args.no_browser else page_load(settings, r["now"])
        rows.append((events, r, load))

    print("\nWall refresh tick: main layout at 1920×1080, all callbacks, through /_dash-update-component")
    print("(median of 5; bytes = response body, gzip in brackets for a compressing proxy)")
    print(f"{'cases':>12} | {'tick':<22} | {'server ms':>9} | {'KB':>7} | {'gzip KB':>7}")
    for events, r, load in rows:
        for i, kind in enumerate(("first load", "same snapshot", "new snapshot, ready", "new snapshot, cold")):
            ms, size, gz = r[kind]
            label = f"{events:>12,}" if i == 0 else " " * 12
            print(f"{label} | {kind:<22} | {ms:>9.0f} | {size / 1000:>7.1f} | {gz / 1000:>7.1f}")
        for i, kind in enumerate(PAGE_LOADS):
            load_s = "n/a" if load is None else f"{load[i]:.2f} s"
            print(f"{'':>12} | {kind:<30} | {load_s:>9} |")
    print("targets at 10,000,000: tick < 200 ms and < 100 KB; first load < 3 s")
    print("\nWhere a tick's server time goes (ms, one warm cursor, median of 3)")
    names = list(next(iter(breakdowns.values())))
    print(f"{'query':>22} | " + " | ".join(f"{e:>12,}" for e in breakdowns))
    for name in names:
        print(f"{name:>22} | " + " | ".join(f"{breakdowns[e][name]:>12.0f}" for e in breakdowns))
    print(f"{'sum':>22} | " + " | ".join(f"{sum(b.values()):>12.0f}" for b in breakdowns.values()))


if __name__ == "__main__":
    main()
