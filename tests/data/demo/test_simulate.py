"""The live simulator: valid files, written atomically, at the daily rhythm, with ids of their own."""

from __future__ import annotations

import csv
import os
import re
from datetime import timedelta

import numpy as np
import pytest

from data.demo import simulate
from data.demo.generate import DIURNAL
from data.demo.simulate import SIM_COLUMNS, Simulator
from tests.conftest import FIXTURE_NOW
from tests.data.conftest import assert_counts_add_up, cycle, query


def _run(sim: Simulator, minutes: int, start=FIXTURE_NOW + timedelta(minutes=1), step: int = 15) -> list:
    files = []
    for k in range(minutes * 60 // step):
        path = sim.tick(start + timedelta(seconds=k * step))
        if path is not None:
            files.append(path)
    return files


def test_simulated_cases_and_updates_load_with_zero_quarantine(etl_env):
    sim = Simulator(etl_env, per_day=20_000, seed=3)
    files = _run(sim, 40)
    assert files and all(p.suffix == ".csv" for p in files)
    assert not list(etl_env.landing_dir.rglob("*.tmp"))
    open_before = query(etl_env, "SELECT count(*) FROM events WHERE status IN ('received', 'accepted', 'dispatched', "
                                 "'in_progress')")[0][0]
    result = cycle(etl_env)
    assert_counts_add_up(etl_env, result)
    assert result.rows_quarantined == 0, query(etl_env, "SELECT reason, detail, raw FROM quarantine LIMIT 5")
    assert sum(f.placed for f in result.files) > 0  # cases with coordinates only were placed
    new = query(etl_env, "SELECT case_id, status FROM events WHERE case_id LIKE 'BJ________S%'")
    assert 200 < len(new) < 2000  # 20 000 a day, 40 minutes of a late morning
    assert all(re.fullmatch(r"BJ\d{8}S\d{7}", cid) for cid, _ in new)
    assert {s for _, s in new} >= {"accepted", "dispatched"}  # their lifecycle moved on
    open_after = query(etl_env, "SELECT count(*) FROM events WHERE status IN ('received', 'accepted', 'dispatched', "
                                "'in_progress') AND case_id NOT LIKE 'BJ________S%'")[0][0]
    assert open_after < open_before  # the demo's backlog is being worked off


def test_simulated_ids_never_collide_with_the_demo_or_each_other(etl_env):
    sim = Simulator(etl_env, per_day=200_000, seed=5)
    ids = []
    for path in _run(sim, 5, step=5):
        with path.open(encoding="utf-8") as fh:
            ids += [r["case_id"] for r in csv.DictReader(fh) if r["status"] == "received"]
    assert len(ids) == len(set(ids)) > 100
    demo = {r[0] for r in query(etl_env, "SELECT case_id FROM events")}
    assert not demo & set(ids)


def test_files_are_complete_when_they_get_their_final_name(etl_env, monkeypatch):
    sim = Simulator(etl_env, per_day=50_000, seed=1)
    seen = []
    real_replace = os.replace

    def checking_replace(src, dst):
        assert str(src).endswith(".csv.tmp") and not os.path.exists(dst)
        with open(src, encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        assert tuple(rows[0]) == SIM_COLUMNS and all(len(r) == len(SIM_COLUMNS) for r in rows)
        seen.append(dst)
        real_replace(src, dst)

    monkeypatch.setattr(simulate.os, "replace", checking_replace)
    _run(sim, 2)
    assert seen


def test_the_rate_follows_the_daily_rhythm(etl_env):
    sim = Simulator(etl_env, per_day=2000, seed=1)
    day = FIXTURE_NOW.replace(hour=0, minute=0)
    hourly = np.array([sim._rate(day + timedelta(hours=h), day + timedelta(hours=h + 1)) for h in range(24)])
    assert hourly.argmax() == int(DIURNAL.argmax()) and hourly.argmin() == int(DIURNAL.argmin())
    assert hourly[10] / hourly[3] == pytest.approx(DIURNAL[10] / DIURNAL[3])
    assert 1700 < hourly.sum() < 2300  # a Wednesday: about the daily rate


def test_the_simulator_needs_a_published_snapshot(tmp_path, etl_base):
    with pytest.raises(RuntimeError, match="no snapshot"):
        Simulator(etl_base.replace(var_dir=tmp_path / "empty"))
