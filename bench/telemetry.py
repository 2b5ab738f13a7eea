"""What the operators' metrics cost (dashboard/telemetry.py): microseconds per request, milliseconds per scrape.

Three tables:

1. the hook alone (label the request, observe its duration) for a page, a callback and a route, inside a
   Flask request context, in the in-process mode and in prometheus_client's multiprocess mode (a
   memory-mapped file per process, as under gunicorn);
2. a whole cheap request (``/healthz``) through Flask's test client with and without the hooks;
3. one scrape of ``/metrics`` (``telemetry.exposition``) over the files of 3 and 9 processes, each with
   the given number of request series.

    .venv/bin/python bench/telemetry.py [--requests 5000] [--series 150]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from prometheus_client import values  # noqa: E402

from dashboard import telemetry  # noqa: E402
from dashboard.app import create_app  # noqa: E402
from tests.conftest import settings_for  # noqa: E402


def _per_call_us(call, n: int, rounds: int = 5) -> float:
    """The median over ``rounds`` of the mean microseconds per call of ``n`` calls."""
    for _ in range(min(n, 500)):
        call()
    means = []
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(n):
            call()
        means.append((time.perf_counter() - t) / n * 1e6)
    return statistics.median(means)


def _mode(name: str, folder: Path) -> None:
    """Put prometheus_client (and telemetry) in ``name`` mode."""
    if name == "multiprocess":
        os.environ[telemetry.ENV_VAR] = str(folder)
        values.ValueClass = values.MultiProcessValue()
    else:
        os.environ.pop(telemetry.ENV_VAR, None)
        values.ValueClass = values.MutexValue
    telemetry.reset()


def _hook_rows(app, n: int, folder: Path) -> list[tuple[str, str, float]]:
    server = app.server
    observe = server.after_request_funcs[None][0]  # telemetry's, the last to run
    client = server.test_client()
    assert client.get("/healthz").status_code == 200  # Dash sets up its callback map on the first request
    router = next(k for k in app.callback_map if "_pages_content.children" in k)
    cases = [
        ("page /wall", {"path": "/wall"}),
        ("callback (known output)", {"path": "/_dash-update-component", "method": "POST", "json": {"output": router}}),
        ("callback (made-up output)", {"path": "/_dash-update-component", "method": "POST", "json": {"output": "x.y"}}),
        ("route /healthz", {"path": "/healthz"}),
    ]
    rows = []
    for mode in ("in-process", "multiprocess"):
        _mode(mode, folder)
        for label, kwargs in cases:
            with server.test_request_context(**kwargs) as ctx:
                ctx.request.get_json(silent=True)  # Dash has parsed the body by the time the hook runs
                ctx.request.environ["gridpulse.request_started"] = time.perf_counter()
                response = server.response_class("ok")
                rows.append((mode, label, _per_call_us(lambda r=response: observe(r), n)))
    return rows


def _request_rows(app, n: int, folder: Path) -> list[tuple[str, float]]:
    """``/healthz`` with the hooks and without, alternating rounds of ``n`` calls (the load drifts; both see it)."""
    server = app.server
    client = server.test_client()

    def healthz():
        assert client.get("/healthz").status_code == 200

    hooks = (server.before_request_funcs[None][0], server.after_request_funcs[None][0])
    rows = []
    for mode in ("in-process", "multiprocess"):
        _mode(mode, folder)
        on, off = [], []
        for _ in range(7):
            on.append(_per_call_us(healthz, n, rounds=1))
            server.before_request_funcs[None].remove(hooks[0])
            server.after_request_funcs[None].remove(hooks[1])
            off.append(_per_call_us(healthz, n, rounds=1))
            server.before_request_funcs[None].insert(0, hooks[0])
            server.after_request_funcs[None].insert(0, hooks[1])
        rows.append((f"/healthz, hooks on ({mode})", statistics.median(on)))
        rows.append((f"/healthz, hooks off (rounds beside {mode})", statistics.median(off)))
    return rows


def _scrape_rows(settings, series: int, folder: Path) -> list[tuple[int, int, float]]:
    rows = []
    for processes in (3, 9):
        for f in folder.glob("*.db"):
            f.unlink()
        for pid in range(1, processes + 1):
            os.environ[telemetry.ENV_VAR] = str(folder)
            values.ValueClass = values.MultiProcessValue(lambda pid=pid: 100_000 + pid)
            telemetry.reset()
            for i in range(series):
                hist = telemetry._instruments().requests.labels("callback", f"..cb-{i}.children..", "2xx")
                hist.observe(0.01 * (i % 50))
        t = time.perf_counter()
        rounds = 20
        for _ in range(rounds):
            body, _ = telemetry.exposition(settings)
        rows.append((processes, series, (time.perf_counter() - t) / rounds * 1000, len(body)))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=5_000, help="calls per timing round of the hook")
    ap.add_argument("--series", type=int, default=150, help="request series (handler x status) per process")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "prometheus"
        folder.mkdir()
        settings = settings_for(Path(tmp) / "var")
        app = create_app(settings)
        print("1. the request hook alone (label + observe), microseconds per request")  # noqa: T201
        print(f"{'mode':<14} {'request':<28} {'µs':>8}")  # noqa: T201
        for mode, label, us in _hook_rows(app, args.requests, folder):
            print(f"{mode:<14} {label:<28} {us:>8.1f}")  # noqa: T201
        print("\n2. a whole cheap request through Flask's test client, microseconds")  # noqa: T201
        for label, us in _request_rows(app, max(args.requests // 25, 100), folder):
            print(f"{label:<52} {us:>8.1f}")  # noqa: T201
        print("\n3. one scrape of /metrics over every process's files")  # noqa: T201
        print(f"{'processes':>9} {'series each':>11} {'ms':>8} {'bytes':>9}")  # noqa: T201
        for processes, series, ms, size in _scrape_rows(settings, args.series, folder):
            print(f"{processes:>9} {series:>11} {ms:>8.1f} {size:>9,}")  # noqa: T201
        values.close_all_multiprocess_files()
    return 0


if __name__ == "__main__":
    sys.exit(main())
