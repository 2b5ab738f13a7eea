"""The command line: arguments checked with a message naming them, clean exits, no demo by surprise.

These run ``app.py`` in a subprocess, as an operator would, so a crash at interpreter shutdown
("terminate called after throwing ...", a core dump) is seen as well as the exit status.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

import app

ROOT = Path(__file__).resolve().parents[1]


def _env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDPULSE_")}
    env.update({"GRIDPULSE_VAR_DIR": str(var_dir), **extra})
    return env


def _run(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "app.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(("argv", "named"), [
    (["demo", "--events", "-5"], "--events"),
    (["demo", "--days", "0"], "--days"),
    (["demo", "--events", "lots"], "--events"),
    (["serve", "--port", "70000"], "--port"),
    (["simulate", "--seconds", "-1"], "--seconds"),
    (["simulate", "--per-day", "0"], "--per-day"),
])
def test_bad_arguments_are_named_and_exit_2(argv, named, capsys):
    with pytest.raises(SystemExit) as exit_info:
        app.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {named}" in err and "Traceback" not in err


def test_demo_with_negative_events_in_a_process_has_no_traceback(tmp_path):
    done = _run(["demo", "--events", "-5"], _env(tmp_path / "var"))
    assert done.returncode == 2
    assert "argument --events: expected a positive whole number, got '-5'" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "var").exists()


def test_serve_on_a_port_in_use_exits_1_cleanly(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = _run(["serve", "--port", str(port)], _env(tmp_path / "var"))
    assert done.returncode == 1, done.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in done.stderr
    assert "terminate called" not in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_serve_on_an_empty_var_says_what_to_do_and_builds_nothing(tmp_path, stop):
    """No demo by surprise: the server starts on nothing, says how to get data, and stops cleanly."""
    var = tmp_path / "var"
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "app.py", "serve", "--port", str(port)], cwd=ROOT, env=_env(var),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        body = None
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    body = response.read().decode()
            except OSError:
                time.sleep(0.3)
        assert body is not None, "the server did not answer within 60 s"
        time.sleep(1.5)  # let the scheduler's first cycle run on the empty landing zone
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 3, children  # gunicorn's 2 workers and the scheduler's own process
        proc.send_signal(stop)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "python app.py demo" in err and "docs/etl.md" in err
    assert "no accounts yet" in err and "app.py users add" in err  # nobody could sign in: say how to fix it
    assert body.count('name="password"') == 1  # the page asked for was the sign-in page
    assert proc.returncode == 0, err
    assert "Starting gunicorn" in err and "development server" not in err  # the production server
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"left running after the server stopped: {alive}"
    assert "terminate called" not in err and "Traceback" not in err
    assert not (var / "warehouse" / "CURRENT").exists(), "serve built something by itself"
    assert not list((var / "warehouse").glob("snapshots/*.duckdb")) if (var / "warehouse").exists() else True


def test_serve_debug_is_flasks_development_server_in_one_process(tmp_path):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "app.py", "serve", "--debug", "--no-scheduler", "--port", str(port)],
                            cwd=ROOT, env=_env(tmp_path / "var"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 60
        answered = False
        while time.monotonic() < deadline and not answered:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5):
                    answered = True
            except OSError:
                time.sleep(0.3)
        assert answered, "the development server did not answer within 60 s"
        assert psutil.Process(proc.pid).children() == []  # one process: no workers, no scheduler
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "development server, --debug" in err and "Starting gunicorn" not in err
