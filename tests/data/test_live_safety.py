"""A real deployment is safe from the demo: the live simulator never touches cases it did not mint.

A "live" warehouse here is what a real deployment has: reference tables and cases landed as files
and loaded by the ETL, no ``app.py demo``. Its cases are copies of the tiny demo's, ids and all, so
the protection tested is the warehouse's origin, not the shape of its ids.
"""

from __future__ import annotations

import csv
import logging
import os
import time
from datetime import timedelta

import pytest

from data import meta
from data.demo.simulate import Simulator
from data.schedule import build_scheduler
from data.warehouse import connect
from tests.conftest import FIXTURE_NOW, settings_for
from tests.data.conftest import EVENT_FILE_COLUMNS, cycle, land, query, to_csv

REFERENCE = ("areas", "categories", "departments", "channels")


def _events(settings) -> list[tuple]:
    return query(settings, "SELECT * FROM events ORDER BY case_id")


def _case_records(con, tail: str) -> list[dict]:
    """Cases as a source sends them (the landing columns), one dict each; ``tail``: WHERE / ORDER BY / LIMIT."""
    cur = con.execute(f"SELECT {', '.join(EVENT_FILE_COLUMNS)} FROM events {tail}")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


@pytest.fixture(scope="module")
def live_base(etl_base, tmp_path_factory):
    """A warehouse loaded only by the ETL, from landing files: the demo's reference tables and 400 of its
    cases (every open one among them), with their own ids; published as a snapshot."""
    settings = settings_for(tmp_path_factory.mktemp("live") / "var")
    con = connect(etl_base.work_db, etl_base.timezone, read_only=True)
    try:
        for table in REFERENCE:
            (settings.landing_dir / table).mkdir(parents=True, exist_ok=True)
            con.execute(f"COPY (SELECT * FROM {table}) TO '{settings.landing_dir / table}/0000-full.parquet'")
        cases = _case_records(con, "ORDER BY closed_at DESC NULLS FIRST, case_id LIMIT 400")
    finally:
        con.close()
    path = land(settings, "0001-cases.csv", to_csv(cases))
    old = time.time() - 600
    for p in settings.landing_dir.rglob("*.*"):
        os.utime(p, (old, old))
    result = cycle(settings, "reference")
    assert result.status == "ok" and result.rows_quarantined == 0, result.error
    assert result.snapshot is not None and not path.exists()  # loaded, then moved to .done/
    assert query(settings, "SELECT count(*) FROM events WHERE status IN ('received', 'accepted', 'dispatched', "
                           "'in_progress')")[0][0] > 0
    return settings


def test_a_warehouse_loaded_by_the_etl_says_nothing_of_a_demo(live_base, etl_base):
    assert meta.snapshot_meta(live_base.current_file, live_base.timezone) == {}
    found = meta.snapshot_meta(etl_base.current_file, etl_base.timezone)
    assert meta.is_demo(found) and found[meta.CASE_ID_PREFIX]


def test_default_scheduling_on_a_live_warehouse_changes_no_case(live_base, tmp_path, caplog):
    from tests.conftest import private_copy

    settings = private_copy(live_base, tmp_path)
    assert settings.simulate_cases_per_day > 0  # the defaults would simulate on a demo
    before = _events(settings)
    with caplog.at_level(logging.INFO, logger="data.schedule"):
        sched = build_scheduler(settings)
    jobs = sched.get_jobs()
    assert "simulator" not in {j.id for j in jobs}
    off = [r for r in caplog.records if "simulator off" in r.getMessage()]
    assert len(off) == 1 and off[0].levelno == logging.INFO and "not a demo" in off[0].getMessage()
    for _ in range(3):
        for job in jobs:
            job.func(*job.args, **job.kwargs)
        time.sleep(0.2)
    assert _events(settings) == before
    assert not list((settings.landing_dir / "events").rglob("sim-*"))


def test_the_simulator_refuses_a_live_warehouse(live_base):
    with pytest.raises(RuntimeError, match="not a demo warehouse"):
        Simulator(live_base, per_day=20_000, seed=1)


def test_the_simulator_never_writes_a_case_it_did_not_mint(etl_env):
    prefix = meta.snapshot_meta(etl_env.current_file, etl_env.timezone)[meta.CASE_ID_PREFIX]
    con = connect(etl_env.work_db, etl_env.timezone, read_only=True)
    try:
        templates = _case_records(con, "WHERE needs_dispatch ORDER BY case_id LIMIT 4")
    finally:
        con.close()
    # ids of other sources, some of them close to the demo's forms
    foreign_ids = ["FOREIGN000001", f"X{prefix}20261125000001", f"{prefix}2026112500001", f"{prefix}20261125T0000001"]
    received = FIXTURE_NOW - timedelta(minutes=5)
    foreign = [dict(t, case_id=cid, status="received", received_at=received, accepted_at=None, dispatched_at=None,
                    closed_at=None, satisfaction=None, updated_at=received)
               for t, cid in zip(templates, foreign_ids, strict=True)]
    land(etl_env, "foreign.csv", to_csv(foreign))
    result = cycle(etl_env)
    assert result.rows_loaded == len(foreign) and result.rows_quarantined == 0, result
    assert query(etl_env, "SELECT count(*) FROM events WHERE case_id IN (SELECT unnest(?))",
                 [foreign_ids])[0][0] == len(foreign)

    sim = Simulator(etl_env, per_day=20_000, seed=2)
    written: set[str] = set()
    for k in range(40 * 4):  # 40 minutes of 15 s ticks: every open demo case it adopted has moved on
        path = sim.tick(FIXTURE_NOW + timedelta(minutes=1, seconds=15 * k))
        if path is not None:
            with path.open(encoding="utf-8") as fh:
                written |= {r["case_id"] for r in csv.DictReader(fh)}
    assert written, "the simulator wrote nothing at all"
    assert not written & set(foreign_ids)
    adopted_demo_cases = {cid for cid in written if len(cid) == len(prefix) + 14 and "S" not in cid[len(prefix):]}
    assert adopted_demo_cases  # it still works off the demo's own backlog


def test_the_demo_command_refuses_a_live_warehouse_and_replace_keeps_a_backup(live_base, tmp_path, monkeypatch, capsys):
    """``app.py demo`` never overwrites real cases: it refuses, and ``--replace`` moves them aside first."""
    import app
    from tests.conftest import private_copy

    settings = private_copy(live_base, tmp_path)
    before = _events(settings)
    monkeypatch.setenv("GRIDPULSE_VAR_DIR", str(settings.var_dir))
    assert app.main(["demo", "--events", "500", "--days", "3"]) == 1
    assert "is not a demo" in capsys.readouterr().err and _events(settings) == before
    assert app.main(["demo", "--events", "500", "--days", "3", "--replace"]) == 0
    backups = list(settings.warehouse_dir.glob("work.backup-*.duckdb"))
    assert len(backups) == 1
    con = connect(backups[0], settings.timezone, read_only=True)
    try:
        assert con.execute("SELECT * FROM events ORDER BY case_id").fetchall() == before
    finally:
        con.close()
    assert meta.is_demo(meta.snapshot_meta(settings.current_file, settings.timezone))
