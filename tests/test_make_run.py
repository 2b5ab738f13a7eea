"""``make run`` from a fresh clone: the demo, its first admin, the production server, and Ctrl-C stops it all.

The clone is a real ``git clone`` of this repository; only the virtualenv is borrowed (a symlink and
a fresh stamp, so ``make`` does not reinstall the requirements, which needs the network). A small
demo keeps it quick. Ctrl-C in a terminal sends SIGINT to the whole foreground process group:
``make``, ``app.py serve`` and gunicorn's workers; the scheduler runs in a session of its own and
must be stopped by ``serve``.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.test_app import ROOT, _env, _free_port

pytestmark = pytest.mark.skipif(shutil.which("make") is None or shutil.which("git") is None,
                                reason="needs make and git")


def _clone(tmp_path: Path) -> Path:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=120)
    (clone / ".venv").symlink_to(Path(sys.executable).resolve().parents[1] if not (ROOT / ".venv").exists()
                                 else (ROOT / ".venv").resolve())
    stamp = clone / ".venv" / ".installed"
    if stamp.exists() and stamp.stat().st_mtime >= (ROOT / "requirements.txt").stat().st_mtime:
        os.utime(stamp)  # the shared install is current: newer than the clone's requirements.txt, make skips it
    return clone


def _sign_in(port: int, name: str, password: str) -> int:
    """Sign in through /login as a person would (its CSRF token from the form); the status of the page after."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"http://127.0.0.1:{port}/login", timeout=30) as page:
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.read().decode()).group(1)
    form = urllib.parse.urlencode({"username": name, "password": password, "csrf_token": token}).encode()
    with opener.open(f"http://127.0.0.1:{port}/login", data=form, timeout=60) as answer:
        assert answer.url.rstrip("/").endswith(str(port)), answer.url  # redirected to the overview
        return answer.status


def test_make_run_serves_the_demo_through_gunicorn_with_a_first_admin_and_ctrl_c_stops_everything(tmp_path):
    clone = _clone(tmp_path)
    port = _free_port()
    var = tmp_path / "var"
    env = _env(var, GRIDPULSE_PORT=str(port), GRIDPULSE_DEMO_EVENTS="3000", GRIDPULSE_DEMO_DAYS="14")
    env.pop("CI", None)  # make's Debian-package step only warns when not root; nothing to install here
    proc = subprocess.Popen(["make", "run"], cwd=clone, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)  # its own process group, as a terminal's job
    output: list[str] = []
    try:
        deadline = time.monotonic() + 300
        password = None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            output.append(line)
            found = re.search(r"sign in as 'admin' with password (\S+)", line)
            password = found.group(1) if found else password
            if "Booting worker" in line and password:
                break
        assert password, "".join(output)
        assert (var / "secrets" / "admin-password").read_text().strip() == password
        assert oct((var / "secrets" / "admin-password").stat().st_mode & 0o777) == "0o600"
        status = None
        while time.monotonic() < deadline and status is None:
            try:
                status = _sign_in(port, "admin", password)
            except OSError:
                time.sleep(0.5)
        assert status == 200, "".join(output)
        started = psutil.Process(proc.pid).children(recursive=True)
        assert len(started) >= 4, started  # app.py serve, its 2 workers, the scheduler
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C
        rest, _ = proc.communicate(timeout=90)
        output.append(rest)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    text = "".join(output)
    assert "Starting gunicorn" in text and "development server" not in text.lower(), text
    gone, alive = psutil.wait_procs(started, timeout=30)
    assert not alive, f"left running after Ctrl-C: {alive}\n{text}"
    assert "Traceback" not in text, text
