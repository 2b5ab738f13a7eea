"""`app.py serve` starts its scheduler again when it dies unasked (app.SupervisedProcess).

The fault bench (bench/faults.py) kills the real scheduler in the middle of an ETL cycle under load; here
the supervisor itself, on a sleeping child process, in about two seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from app import SupervisedProcess


def _sleeper() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])


def _wait(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_killed_process_is_started_again_and_stop_ends_it():
    ended: list[int] = []
    sup = SupervisedProcess(_sleeper, on_exit=ended.append, delays=(0.1, 0.2))
    try:
        first = sup.pid
        os.kill(first, signal.SIGKILL)
        assert _wait(lambda: sup.pid != first), "no new process after the first was killed"
        assert sup.restarts == 1 and ended == [first]
        assert sup.proc.poll() is None  # the new one runs
        second = sup.pid
        os.kill(second, signal.SIGKILL)  # again: the supervisor keeps watching
        assert _wait(lambda: sup.pid not in (first, second))
        assert sup.restarts == 2
    finally:
        sup.stop()
    assert sup.proc.poll() is not None  # stop() ended the current one ...
    last = sup.pid
    time.sleep(0.5)
    assert sup.pid == last and sup.restarts == 2  # ... and asked for no new one


def test_repeated_quick_deaths_wait_longer():
    sup = SupervisedProcess(lambda: subprocess.Popen([sys.executable, "-c", "pass"]), delays=(0.05, 5.0))
    try:
        assert _wait(lambda: sup.restarts >= 1, 5)  # the first quick death: started again after 0.05 s
        time.sleep(1.0)
        assert sup.restarts == 1  # the second quick death waits 5 s: no spinning
    finally:
        sup.stop()
