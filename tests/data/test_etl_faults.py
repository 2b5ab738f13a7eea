"""Faults of the writer, bounded versions of bench/faults.py: an ETL killed in the middle of a cycle, and a full disk.

Both end the same way: the snapshot being served does not change while the fault lasts, the landing file waits
in the landing zone, and the next good cycle loads it exactly once and publishes. The full-disk test needs root
(a small tmpfs of its own holds var/); it is skipped otherwise.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_NOW, settings_for

ROOT = Path(__file__).resolve().parents[2]


def _landed(settings, minutes: int = 30) -> Path:
    """A simulator file of new cases and lifecycle updates (valid rows), old enough to be taken at once."""
    from data.demo.simulate import Simulator

    path = Simulator(settings, per_day=200_000, seed=3, tick_seconds=minutes * 60).tick(
        FIXTURE_NOW + timedelta(minutes=minutes))
    assert path is not None and path.exists()
    past = time.time() - 60
    os.utime(path, (past, past))
    return path


def _ledger(settings, path: Path) -> list[tuple]:
    from data.snapshot import SnapshotReader

    reader = SnapshotReader(settings.warehouse_dir, settings.timezone)
    try:
        rows = reader.cursor().execute("SELECT path, status, rows_in, rows_loaded, rows_quarantined FROM etl_files").fetchall()
    finally:
        reader.close()
    return [r for r in rows if Path(r[0]).name == path.name]


def _holds(pid: int, name: str) -> bool:
    try:
        return any(os.readlink(fd).endswith(name) for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc to see the cycle's open files")
def test_an_etl_killed_mid_cycle_loses_nothing_and_the_next_cycle_loads_the_file_once(fresh_demo):
    from data import etl
    from data.snapshot import read_current

    before = read_current(fresh_demo.current_file)
    path = _landed(fresh_demo)
    env = {**os.environ, "GRIDPULSE_VAR_DIR": str(fresh_demo.var_dir)}
    proc = subprocess.Popen([sys.executable, "app.py", "etl"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not _holds(proc.pid, "work.duckdb") and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    assert proc.poll() is None, "the cycle ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)  # in the middle: the writer's file is open
    proc.wait(10)

    assert read_current(fresh_demo.current_file) == before  # the web tier keeps serving the last snapshot
    assert path.exists()  # the file waits in the landing zone

    result = etl.run_cycle(fresh_demo, settle_seconds=0)  # the restarted scheduler's next cycle
    assert result.status == "ok" and result.snapshot and result.snapshot != before.name
    assert not path.exists()  # moved to .done/
    (row,) = _ledger(fresh_demo, path)  # exactly once
    assert row[1] == "loaded" and row[2] == row[3] + row[4] and row[3] > 0


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("mount") is None, reason="needs root to mount a tmpfs")
def test_a_full_disk_fails_the_cycle_keeps_the_snapshot_and_the_file_and_the_next_cycle_recovers(small_demo, tmp_path):
    from data import etl
    from data.contract import LAST_RUN_FILE
    from data.snapshot import read_current

    var = tmp_path / "var"
    var.mkdir()
    size = sum(f.stat().st_size for f in small_demo.var_dir.rglob("*") if f.is_file())
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size * 3 // 2**20 + 64}m", "tmpfs", str(var)],
                             capture_output=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr!r}")
    try:
        shutil.copytree(small_demo.var_dir, var, dirs_exist_ok=True)
        settings = settings_for(var)
        before = read_current(settings.current_file)
        path = _landed(settings)
        filler = var / "filler"
        with pytest.raises(OSError), filler.open("wb") as f:  # every free byte taken
            while True:
                f.write(b"\0" * 2**20)
                f.flush()

        failed = etl.run_cycle(settings, settle_seconds=0)
        assert failed.status == "failed" and failed.error
        assert read_current(settings.current_file) == before
        assert path.exists()

        filler.unlink()
        result = etl.run_cycle(settings, settle_seconds=0)
        assert result.status == "ok" and result.snapshot != before.name
        assert not path.exists()
        (row,) = _ledger(settings, path)
        assert row[1] == "loaded" and row[3] > 0
        assert '"failed"' not in (settings.warehouse_dir / LAST_RUN_FILE).read_text(encoding="utf-8")
    finally:
        subprocess.run(["umount", "-l", str(var)], check=False)
