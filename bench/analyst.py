"""Benchmark the analyst pages: the server time of every panel callback, and the page load in Chromium.

    .venv/bin/python bench/analyst.py                                   # 1M and 10M, today/30d/90d, every page
    .venv/bin/python bench/analyst.py --events 10000000 --windows 90d --pages / --repeat 10
    .venv/bin/python bench/analyst.py --events 1000000 --browser        # also the page load in Chromium

Generic: every page registered in ``dash.page_registry`` whose layout is an analyst page (its tree
holds the page state ``ids.AN_STATE``, i.e. it was built by ``dashboard.analyst.shell``) is laid
out for the URL ``?win=<window>``, and every callback of ``app.callback_map`` that takes
``ids.AN_STATE.data`` as an input and fills a component of that page is timed as the browser asks
for it: a POST to ``/_dash-update-component`` through Flask's test client (Dash's JSON encoding
included). Pages added later are timed without touching this file.

Three kinds of request per callback:

* warm          - the same snapshot again (p50 and p95 of ``--repeat`` requests);
* new snapshot  - the first request after the ETL published a snapshot, in a server that has been
                  running: the same file hard-linked under a new name in a private folder, so
                  DuckDB opens it cold and whatever the metrics keep per snapshot is gone, while
                  what they keep about the past (per warehouse) stays;
* cold          - the first request of a fresh server: a new app, ``metrics.cache.reset()`` and the
                  wall's cache cleared (every remembered result gone). Median of ``--cold`` runs.

The warehouses are the shared bench ones under ``/tmp/gridpulse_bench/<events>/var`` (built by
``bench/metrics.py``); they are only read (the private folder holds hard links). "now" is pinned
a minute after the newest case when the app is made, and runs on from there as a real clock does
(a result remembered under one exact "now" is not reused by the next request, as in production).

``--browser``: a new headless Chromium per page (1920x1080) against a running server with warm
caches: seconds from navigation start until every panel is filled, every graph drawn (plotly loaded
and done plotting, a MapLibre map loaded) and no ``dcc.Loading`` is busy.

Target (issue 11): p95 under 300 ms at 10 million cases for every callback, the first request
after a new snapshot included; a page load under 3 s.
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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dash  # noqa: E402

from dashboard import ids, runtime, shared_cache  # noqa: E402
from dashboard.app import create_app  # noqa: E402
from settings import Settings, load_settings  # noqa: E402
from tests.conftest import as_principal, browser_sign_in, signed_in  # noqa: E402  (an admin's session cookie: every page needs a sign-in)

BENCH_DIR = Path(os.environ.get("GRIDPULSE_BENCH_DIR", "/tmp/gridpulse_bench"))
PRIVATE_DIR = Path("/tmp/gp-bench-analyst")
TARGET_MS = 300
PORT = 8775
READY_JS = """
const bodies = [...document.querySelectorAll('.an-panel-body')];
const grid = document.querySelector('.ag-root');
if (!bodies.length && !grid) return null;
if (bodies.some(b => b.childNodes.length === 0)) return null;
if (grid && ![...document.querySelectorAll('.ag-cell')].some(c => c.textContent.trim())) return null;
if (document.querySelector('[data-dash-is-loading="true"]')) return null;
// every graph drawn: plotly loaded (its bundle comes lazily with the first graph) and done plotting,
// and a MapLibre map (the wall's kind) with its style and sources loaded
for (const g of document.querySelectorAll('.dash-graph')) {
  const plot = g.querySelector('.js-plotly-plot');
  if (!plot || !plot._fullLayout || !plot.querySelector('.main-svg') || g.classList.contains('dash-graph--pending')) return null;
  const map = plot._fullLayout.map && plot._fullLayout.map._subplot && plot._fullLayout.map._subplot.map;
  if (map && !map.loaded()) return null;
}
return performance.now();
"""


# ------------------------------------------------------------------------------------------------
# Warehouses (read only)
# ------------------------------------------------------------------------------------------------
def shared_settings(events: int) -> Settings:
    """Settings of the shared bench warehouse of ``events`` cases (never written here)."""
    var = BENCH_DIR / str(events) / "var"
    settings = load_settings(env={"GRIDPULSE_VAR_DIR": str(var)}, toml_path=None)
    if not settings.current_file.exists():
        raise SystemExit(f"no warehouse under {var}: build it with bench/metrics.py --events {events}")
    return settings


def data_end(settings: Settings) -> datetime:
    """The newest case's time: the benchmark's pinned "now"."""
    from data.snapshot import SnapshotReader

    r = SnapshotReader(settings.warehouse_dir, settings.timezone)
    try:
        cur = r.cursor()
        return cur.execute("SELECT max(received_at) FROM events").fetchall()[0][0].astimezone(settings.zone)
    finally:
        r.close()


class PrivateWarehouse:
    """A private var/ whose snapshots are hard links to the shared snapshot: "publishing" costs nothing."""

    def __init__(self, shared: Settings, events: int):
        from data.snapshot import read_current

        self.source = read_current(shared.current_file).path
        var = PRIVATE_DIR / f"{events}-{os.getpid()}" / "var"  # two runs at once must not share it
        shutil.rmtree(var.parent, ignore_errors=True)
        self.settings = load_settings(env={"GRIDPULSE_VAR_DIR": str(var)}, toml_path=None)
        self.settings.snapshots_dir.mkdir(parents=True)
        self.n = 0
        self.publish()

    def publish(self, wait: bool = True) -> None:
        """Point CURRENT at the same data under a new name, as a new ETL cycle would."""
        self.n += 1
        name = f"bench-{self.n:04d}.duckdb"
        (self.settings.snapshots_dir / name).hardlink_to(self.source)
        tmp = self.settings.warehouse_dir / ".CURRENT.tmp"
        tmp.write_text(json.dumps({"snapshot": name, "published_at": datetime.now(UTC).isoformat(), "run_id": self.n}),
                       encoding="utf-8")
        tmp.replace(self.settings.current_file)
        old = self.settings.snapshots_dir / f"bench-{self.n - 2:04d}.duckdb"
        old.unlink(missing_ok=True)  # a hard link: the shared file stays
        if wait:
            time.sleep(1.05)  # the reader looks at CURRENT at most once a second

    def remove(self) -> None:
        shutil.rmtree(self.settings.var_dir.parent, ignore_errors=True)


# ------------------------------------------------------------------------------------------------
# Pages and their callbacks, found generically
# ------------------------------------------------------------------------------------------------
@dataclass
class Callback:
    """One panel callback of a page and the request body that fires it."""

    name: str
    body: dict


@dataclass
class Page:
    path: str
    callbacks: list[Callback] = field(default_factory=list)


def _walk(component):
    """Every component of a layout tree (Dash components and plain lists)."""
    if isinstance(component, (list, tuple)):
        for c in component:
            yield from _walk(c)
        return
    if not hasattr(component, "to_plotly_json"):
        return
    yield component
    for prop in getattr(component, "_prop_names", []):
        value = getattr(component, prop, None)
        if isinstance(value, (list, tuple)) or hasattr(value, "to_plotly_json"):
            yield from _walk(value)


def _outputs(key: str) -> tuple[list[tuple[str, str]], bool]:
    """``(id, property)`` of each output named by a callback-map key, and whether it has several."""
    multi = key.startswith("..") and key.endswith("..")
    parts = key[2:-2].split("...") if multi else [key]
    out = []
    for part in parts:
        ident, _, prop = part.rpartition(".")
        out.append((ident, prop.split("@")[0]))
    return out, multi


def analyst_pages(app: dash.Dash, query: dict, only: list[str] | None) -> list[Page]:
    """The analyst pages registered in ``app`` and, for each, its callbacks fed by the page state."""
    pages = []
    for entry in dash.page_registry.values():
        path = entry["path"]
        if only and path not in only:
            continue
        layout = entry["layout"]
        with app.server.test_request_context(path):
            as_principal()  # an admin, as the gate would set for a signed-in request
            tree = layout(**query) if callable(layout) else layout
        components = {c.id: c for c in _walk(tree) if isinstance(getattr(c, "id", None), str)}
        store = components.get(ids.AN_STATE)
        if store is None:  # not an analyst page (the wall)
            continue
        page = Page(path)
        for key, spec in app.callback_map.items():
            inputs = spec.get("inputs", [])
            if {"id": ids.AN_STATE, "property": "data"} not in inputs:
                continue
            outs, multi = _outputs(key)
            if any(i.startswith("{") for i, _ in outs) or not all(i in components for i, _ in outs):
                continue  # another page's callback, or pattern-matching outputs

            def value(item, store=store, components=components):
                if item["id"] == ids.AN_STATE and item["property"] == "data":
                    return store.data
                c = components.get(item["id"])
                return getattr(c, item["property"], None) if c is not None else None

            body = {
                "output": key,
                "outputs": [{"id": i, "property": p} for i, p in outs] if multi else
                {"id": outs[0][0], "property": outs[0][1]},
                "inputs": [{**i, "value": value(i)} for i in inputs],
                "state": [{**s, "value": value(s)} for s in spec.get("state", [])],
                "changedPropIds": [f"{ids.AN_STATE}.data"],
            }
            page.callbacks.append(Callback(",".join(i for i, _ in outs), body))
        pages.append(page)
    return pages


def fire(client, cb: Callback) -> tuple[float, float, bool]:
    """One request: (milliseconds, CPU milliseconds of the process, all threads; whether a panel said it failed).

    The CPU time is what the request cost the machine whatever else runs on it (the wall time grows
    with the load of a shared machine; DuckDB's threads make it up to twice the wall time when quiet).
    """
    t, c = time.perf_counter(), time.process_time()
    response = client.post("/_dash-update-component", json=cb.body)
    ms, cpu = (time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000
    if response.status_code not in (200, 204):
        raise RuntimeError(f"{cb.name}: HTTP {response.status_code}: {response.data[:300]!r}")
    return ms, cpu, b"an-msg-error" in response.data


def new_app(settings: Settings, now: datetime, reset: bool) -> dash.Dash:
    """A fresh app; with ``reset``, every process cache emptied first (a fresh server)."""
    if reset:
        from dashboard.analyst import warmup
        from dashboard.wall import data as wall_data
        from metrics import cache

        warmup.reset()
        cache.reset()
        wall_data.CACHE.clear()
        shared_cache.reset()
    started = time.monotonic()
    # the clock runs from the data's end as a real one does: nothing is remembered under one fixed "now";
    # it starts a minute after the newest case (the bench demos end at 10:29:59), so a run does not cross
    # a quarter hour, when the memos of the short windows' past turn over (their cost is the cold column's)
    app = create_app(settings, clock=lambda: now + timedelta(seconds=60 + time.monotonic() - started))
    signed_in(app).get("/")  # registers the callbacks and the page router
    return app


# ------------------------------------------------------------------------------------------------
# Measurements
# ------------------------------------------------------------------------------------------------
@dataclass
class Row:
    events: int
    window: str
    page: str
    callback: str
    warm: list[float] = field(default_factory=list)
    warm_cpu: list[float] = field(default_factory=list)
    new_cpu: list[float] = field(default_factory=list)
    new_snapshot: list[float] = field(default_factory=list)
    cold: list[float] = field(default_factory=list)
    failed: bool = False


@dataclass
class WarmUp:
    """The analyst warm-up's pass on a new snapshot: what the server computes once per ETL cycle."""

    events: int
    window: str
    views: int
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def wait_warm(app: dash.Dash, timeout: float = 600.0) -> None:
    """Until the analyst warm-up has computed the newest snapshot (the pages then switch to it)."""
    from dashboard.analyst import warmup

    rt = runtime.of(app)
    deadline = time.monotonic() + timeout
    while rt.warm is None or rt.warm.name != rt.newest().name:
        if not warmup.plans(rt):  # these pages have no panel to remember (the cases grid): nothing to warm
            return
        if time.monotonic() > deadline:
            raise TimeoutError("the analyst warm-up did not finish")
        time.sleep(0.02)


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``values``."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * len(s) + 0.5) - 1))]


def measure(events: int, windows: list[str], only: list[str] | None, repeat: int,
            colds: int, extra: dict[str, str] | None = None) -> tuple[list[Row], list[WarmUp]]:
    """Every callback of every analyst page, for each window: cold, new snapshot and warm; and the warm-up."""
    from dashboard.analyst import warmup

    shared = shared_settings(events)
    now = data_end(shared)
    private = PrivateWarehouse(shared, events)
    rows: dict[tuple, Row] = {}
    passes: list[WarmUp] = []
    app = None
    try:
        for window in windows:
            query = {"win": window, **(extra or {})}
            for _ in range(colds):
                if app is not None:
                    runtime.of(app).close()
                app = new_app(private.settings, now, reset=True)
                client = signed_in(app)
                for page in analyst_pages(app, query, only):
                    for cb in page.callbacks:
                        row = rows.setdefault((window, page.path, cb.name), Row(events, window, page.path, cb.name))
                        ms, _, bad = fire(client, cb)
                        row.cold.append(ms)
                        row.failed |= bad
            client = signed_in(app)
            pages = analyst_pages(app, query, only)
            wait_warm(app)  # the cold requests noted their views; the warm-up's first pass finds them done
            passed = WarmUp(events, window, len(warmup.plans(runtime.of(app))))
            passes.append(passed)
            for _ in range(colds):
                t, c = time.perf_counter(), time.process_time()
                private.publish(wait=False)
                time.sleep(1.05)  # the reader looks at CURRENT at most once a second
                for page in pages:
                    for cb in page.callbacks:
                        ms, cpu, bad = fire(client, cb)
                        rows[(window, page.path, cb.name)].new_snapshot.append(ms)
                        rows[(window, page.path, cb.name)].new_cpu.append(cpu)
                wait_warm(app)
                passed.seconds.append(time.perf_counter() - t)
                passed.cpu.append(time.process_time() - c)
            for _ in range(repeat):
                for page in pages:
                    for cb in page.callbacks:
                        ms, cpu, bad = fire(client, cb)
                        row = rows[(window, page.path, cb.name)]
                        row.warm.append(ms)
                        row.warm_cpu.append(cpu)
                        row.failed |= bad
            print(f"  measured {events:,} cases, window {window}", file=sys.stderr, flush=True)
    finally:
        warmup.reset()  # its thread reads the private folder removed below
        if app is not None:
            runtime.of(app).close()
        shared_cache.reset()  # while its folder, under the private one, is still there
        private.remove()
    return list(rows.values()), passes


def page_loads(events: int, windows: list[str], only: list[str] | None, repeat: int,
               extra: dict[str, str] | None = None) -> list[tuple]:
    """Seconds from navigation start to a filled page, a new Chromium each time, server warm."""
    if shutil.which("chromedriver") is None:
        print("chromedriver not found: no page loads", file=sys.stderr)
        return []
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):  # a table, not an access log
            pass

    shared = shared_settings(events)
    now = data_end(shared)
    private = PrivateWarehouse(shared, events)  # the app writes its shared results under its var/
    app = new_app(private.settings, now, reset=True)
    server = make_server("127.0.0.1", PORT, app.server, threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    options = Options()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--lang=zh-CN"):
        options.add_argument(flag)
    out = []
    try:
        paths = [p.path for p in analyst_pages(app, {}, only)]
        for window in windows:
            for path in paths:
                url = f"http://127.0.0.1:{PORT}{path}?{urlencode({'win': window, **(extra or {})}, safe=',')}"
                times = []
                for i in range(repeat + 1):  # the first load warms the server's caches; not counted
                    driver = webdriver.Chrome(options=options)
                    try:
                        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                               {"width": 1920, "height": 1080, "deviceScaleFactor": 1,
                                                "mobile": False})
                        browser_sign_in(driver, f"http://127.0.0.1:{PORT}", app)  # not counted: its own page
                        driver.get(url)
                        deadline = time.monotonic() + 120
                        done = None
                        while done is None:
                            if time.monotonic() > deadline:
                                state = driver.execute_script(
                                    "return [...document.querySelectorAll('.an-panel-body')].filter("
                                    "b => b.childNodes.length === 0).map(b => b.id).concat("
                                    "[...document.querySelectorAll('[data-dash-is-loading=\"true\"]')].map("
                                    "e => 'loading:' + (e.id || e.className)))")
                                raise TimeoutError(f"{url} did not fill its panels: {state}")
                            done = driver.execute_script(READY_JS)
                            time.sleep(0.02)
                        if i:
                            times.append(done / 1000)
                    finally:
                        driver.quit()
                out.append((events, window, path, times))
                print(f"  page load {path}?win={window}: {times}", file=sys.stderr, flush=True)
    finally:
        server.shutdown()
        runtime.of(app).close()
        shared_cache.reset()  # while its folder, under the private one, is still there
        private.remove()
    return out


# ------------------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", default="1000000,10000000", help="comma list of warehouse sizes")
    ap.add_argument("--windows", default="today,30d,90d", help="comma list of windows (the URL's win=)")
    ap.add_argument("--pages", default="", help="comma list of page paths (default: every analyst page)")
    ap.add_argument("--repeat", type=int, default=10, help="warm requests per callback")
    ap.add_argument("--cold", type=int, default=2, help="cold runs and new snapshots per window")
    ap.add_argument("--browser", action="store_true", help="also the page load in Chromium")
    ap.add_argument("--loads", type=int, default=3, help="page loads per page and window (--browser)")
    ap.add_argument("--extra", default="", help="more of the URL's query for every page, e.g. layers=cases,cameras")
    args = ap.parse_args()
    sizes = [int(e) for e in args.events.split(",") if e]
    windows = [w for w in args.windows.split(",") if w]
    only = [p for p in args.pages.split(",") if p] or None
    extra = dict(parse_qsl(args.extra))

    rows, passes = [], []
    for events in sizes:
        found, passed = measure(events, windows, only, args.repeat, args.cold, extra)
        rows += found
        passes += passed
    print(f"\nAnalyst panel callbacks: server ms through /_dash-update-component ({os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}); warm: {args.repeat} requests, new snapshot and cold: "
          f"median of {args.cold}; cpu: CPU ms of the process per request (all threads), median")
    head = (f"{'cases':>11} | {'win':>5} | {'page':<12} | {'callback':<26} | {'warm p50':>8} | {'warm p95':>8} | "
            f"{'new snap':>8} | {'cold':>8} | {'cpu warm':>8} | {'cpu new':>8} |")
    print(head)
    print("-" * len(head))
    for r in rows:
        worst = max(pct(r.warm, 0.95), max(r.new_snapshot))
        flag = "" if r.events < 9_000_000 else ("ok" if worst < TARGET_MS else "OVER")
        flag += "  PANEL FAILED" if r.failed else ""
        print(f"{r.events:>11,} | {r.window:>5} | {r.page:<12} | {r.callback[:26]:<26} | {pct(r.warm, 0.5):>8.0f} | "
              f"{pct(r.warm, 0.95):>8.0f} | {statistics.median(r.new_snapshot):>8.0f} | "
              f"{statistics.median(r.cold):>8.0f} | {statistics.median(r.warm_cpu):>8.0f} | "
              f"{statistics.median(r.new_cpu):>8.0f} | {flag}")
    print(f"target at 10,000,000: warm p95 and new snapshot < {TARGET_MS} ms for every callback")
    print("\nThe analyst warm-up's pass on each new snapshot (every view noted above, computed once for all"
          " workers; the pages answer from the previous snapshot meanwhile): seconds from the publish, and CPU"
          " seconds of the process, median")
    print(f"{'cases':>11} | {'win':>5} | {'views':>5} | {'seconds':>7} | {'cpu s':>6}")
    for w in passes:
        print(f"{w.events:>11,} | {w.window:>5} | {w.views:>5} | {statistics.median(w.seconds):>7.2f} | "
              f"{statistics.median(w.cpu):>6.2f}")

    if args.browser:
        loads = []
        for events in sizes:
            loads += page_loads(events, windows, only, args.loads, extra)
        print("\nPage load in Chromium (new browser, server running), navigation start to every panel filled and every graph drawn")
        print(f"{'cases':>11} | {'win':>5} | {'page':<12} | {'median s':>8} | {'max s':>6}")
        for events, window, path, times in loads:
            print(f"{events:>11,} | {window:>5} | {path:<12} | {statistics.median(times):>8.2f} | {max(times):>6.2f}")
        print("target: < 3 s for each page")


if __name__ == "__main__":
    main()
