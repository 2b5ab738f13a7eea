"""Schedules: the scheduler starts, runs a real cycle, and never runs two writers at once."""

from __future__ import annotations

import os
import threading
import time

from data import etl
from data.schedule import build_scheduler, start_background_scheduler
from data.snapshot import read_current
from tests.data.conftest import demo_cases, land, query, to_csv


def test_the_schedules_are_the_configured_ones(etl_env):
    sched = build_scheduler(etl_env.replace(simulate_cases_per_day=2000))
    sched.start(paused=True)  # job defaults apply when jobs are added to the running scheduler's store
    jobs = {j.id: j for j in sched.get_jobs()}
    sched.shutdown(wait=False)
    assert set(jobs) == {"etl-events", "etl-reference", "simulator"}
    assert jobs["etl-events"].trigger.interval.total_seconds() == etl_env.etl_interval_seconds
    fields = {f.name: str(f) for f in jobs["etl-reference"].trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("2", "0")
    assert str(jobs["etl-reference"].trigger.timezone) == "Asia/Shanghai"
    for job in jobs.values():
        assert job.max_instances == 1 and job.coalesce
    assert "simulator" not in {j.id for j in build_scheduler(etl_env.replace(simulate_cases_per_day=0)).get_jobs()}


def test_the_background_scheduler_runs_a_real_cycle(etl_env):
    path = land(etl_env, "scheduled.csv", to_csv(demo_cases(etl_env, 3)))
    old = time.time() - 60
    os.utime(path, (old, old))
    before = read_current(etl_env.current_file).name
    sched = start_background_scheduler(etl_env.replace(etl_interval_seconds=1), simulate=False)
    try:
        deadline = time.monotonic() + 20
        while read_current(etl_env.current_file).name == before and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        sched.shutdown(wait=True)
    assert read_current(etl_env.current_file).name != before
    assert query(etl_env, "SELECT count(*) FROM events WHERE case_id LIKE 'TEST%'")[0][0] == 3


def test_a_slow_cycle_delays_the_next_instead_of_overlapping(etl_env, monkeypatch):
    active, peak, calls = [0], [0], []
    lock = threading.Lock()

    def slow_cycle(settings, kind="events", **kw):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
            calls.append(time.monotonic())
        time.sleep(1.5)  # longer than the 1 s interval
        with lock:
            active[0] -= 1

    monkeypatch.setattr(etl, "run_cycle", slow_cycle)
    sched = start_background_scheduler(etl_env.replace(etl_interval_seconds=1), simulate=False)
    time.sleep(4.2)
    sched.shutdown(wait=True)
    assert len(calls) >= 2
    assert peak[0] == 1


def test_two_cycles_in_one_process_take_turns(etl_env, monkeypatch):
    spans = []
    real_todo = etl._todo

    def slow_todo(*args, **kw):
        start = time.monotonic()
        time.sleep(0.5)
        out = real_todo(*args, **kw)
        spans.append((start, time.monotonic()))
        return out

    monkeypatch.setattr(etl, "_todo", slow_todo)
    threads = [threading.Thread(target=etl.run_cycle, args=(etl_env, kind)) for kind in ("events", "reference")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (a0, a1), (b0, b1) = sorted(spans)
    assert a1 <= b0, "the nightly job must wait for the minute job (one writer)"
    runs = query(etl_env, "SELECT kind, status FROM etl_runs WHERE kind IN ('events', 'reference') ORDER BY run_id")
    assert sorted(runs) == [("events", "ok"), ("reference", "ok")]


def test_no_two_processes_write_the_warehouse(etl_env):
    from data.warehouse import connect

    holder = connect(etl_env.work_db, etl_env.timezone)  # e.g. the scheduler inside `serve`
    try:
        import subprocess
        import sys
        from pathlib import Path

        code = ("import sys; from settings import load_settings; from data.etl import run_cycle; "
                "s = load_settings(env={'GRIDPULSE_VAR_DIR': sys.argv[1]}); run_cycle(s)")
        proc = subprocess.run([sys.executable, "-c", code, str(etl_env.var_dir)], capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parents[2], timeout=60)
    finally:
        holder.close()
    assert proc.returncode != 0
    assert "Only one process may run the ETL" in proc.stderr
