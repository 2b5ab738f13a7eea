"""``/metrics`` on the real production server: two gunicorn workers and the scheduler, summed in one answer.

``app.py serve`` runs on a copy of the small demo with a garbage file in its landing zone. Requests are
sent until both workers have answered some (each worker writes its own file in the deployment's folder
under ``/dev/shm``, which ``serve`` removes at its end);
one scrape, from whichever worker, must count every request of both, the scheduler's first ETL cycle
and the file it rejected, and the refused sign-in. A client that came through an undeclared proxy gets
403, a wrong token 401, and a made-up callback output is counted as ``other``.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import psutil

from dashboard import telemetry
from tests.conftest import TEST_PASSWORD, account
from tests.dashboard.test_telemetry import HIST, total
from tests.test_app import ROOT, _env, _free_port

TOKEN = "scrape-" + "k" * 40


def _get(url: str, opener=None, **headers: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with (opener or urllib.request.build_opener()).open(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _sign_in(base: str, name: str, password: str):
    """An opener signed in through the form (or not, for a wrong password), and the status of the answer."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    status, page = _get(base + "/login", opener)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"username": name, "password": password, "csrf_token": token}).encode()
    try:
        with opener.open(base + "/login", data=form, timeout=60) as answer:
            return opener, answer.status
    except urllib.error.HTTPError as exc:
        return opener, exc.code


def test_metrics_sum_both_workers_and_the_scheduler(fresh_demo):
    var = fresh_demo.var_dir
    name = account(fresh_demo, "admin")
    garbage = var / "landing" / "events" / "garbage.csv"
    garbage.parent.mkdir(parents=True, exist_ok=True)
    garbage.write_bytes(b"\x00\x01 this is no csv \xff\n" * 50)
    os.utime(garbage, (time.time() - 60, time.time() - 60))  # settled: the first cycle takes it
    folder = telemetry.multiprocess_dir(fresh_demo)
    assert folder.parent == telemetry.SHM, folder  # in RAM: a full var/ must not SIGBUS the workers
    folder.mkdir(parents=True)
    (folder / "counter_1.db").write_bytes(b"left by the last run")  # serve empties the folder
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = _env(var, GRIDPULSE_WORKERS="2", GRIDPULSE_THREADS="4", GRIDPULSE_SIMULATE_CASES_PER_DAY="0",
               GRIDPULSE_METRICS_TOKEN=TOKEN)
    proc = subprocess.Popen([sys.executable, "app.py", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=5):
                    break
            except OSError:
                time.sleep(0.3)
        children = psutil.Process(proc.pid).children()
        workers = [p.pid for p in children if "scheduler" not in " ".join(p.cmdline())]
        scheduler = [p.pid for p in children if "scheduler" in " ".join(p.cmdline())]
        assert len(workers) == 2 and len(scheduler) == 1, children

        _, wrong = _sign_in(base, name, "not the password")
        assert wrong == 401
        opener, status = _sign_in(base, name, TEST_PASSWORD)
        assert status == 200
        pages = 0
        for _ in range(3):
            assert _get(base + "/wall", opener)[0] == 200
            pages += 1
        made_up = urllib.request.Request(base + "/_dash-update-component", method="POST",
                                         data=json.dumps({"output": "made-up.children", "outputs": [],
                                                          "inputs": [], "changedPropIds": []}).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            opener.open(made_up, timeout=30)
        except urllib.error.HTTPError:
            pass  # Dash has no such callback: an error, counted all the same

        # concurrent requests until each worker has answered some (the kernel spreads the connections)
        sent = 0
        with ThreadPoolExecutor(8) as pool:
            while time.monotonic() < deadline:
                statuses = list(pool.map(lambda _: _get(base + "/readyz")[0], range(16)))
                sent += len(statuses)
                if all((folder / f"histogram_{pid}.db").exists() for pid in workers):
                    break
        assert all((folder / f"histogram_{pid}.db").exists() for pid in workers), \
            "the requests did not reach both workers"

        text = ""
        while time.monotonic() < deadline:  # the scheduler's first cycle runs at its start
            status, text = _get(base + "/metrics")
            assert status == 200
            if total(text, "gridpulse_etl_cycles_total") >= 1:
                break
            time.sleep(0.5)
        assert total(text, HIST, kind="route", handler="/readyz") == sent  # both workers' requests, summed
        assert total(text, HIST, kind="page", handler="/wall", status="2xx") == pages
        assert total(text, HIST, kind="callback", handler="other") == 1
        assert not any("made-up" in line for line in text.splitlines())
        assert total(text, "gridpulse_signin_failures_total", reason="wrong_password") == 1
        assert total(text, "gridpulse_etl_cycles_total", kind="events") >= 1
        assert total(text, "gridpulse_etl_files_total", table="events", status="rejected") == 1
        assert total(text, "gridpulse_etl_cycle_duration_seconds_count") >= 1
        assert total(text, "gridpulse_snapshot_age_seconds") > 0
        assert (folder / f"counter_{scheduler[0]}.db").exists()  # counted in the scheduler's process
        assert not (folder / "counter_1.db").exists()

        assert _get(base + "/metrics", **{"X-Forwarded-For": "203.0.113.9"})[0] == 403  # an undeclared proxy
        assert _get(base + "/metrics", Authorization="Bearer wrong")[0] == 401
        status, text = _get(base + "/metrics", **{"X-Forwarded-For": "203.0.113.9", "Authorization": f"Bearer {TOKEN}"})
        assert status == 200 and "gridpulse_http_request_duration_seconds" in text
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert not folder.exists(), "serve leaves its metric files in RAM after it ended"
    # (the made-up callback leaves Dash's own KeyError traceback in the log: Dash answers it with a 500)
    assert "could not record a metric" not in err and "prometheus" not in err.lower(), err
