"""The landing zone: done files leave the scan's way after the commit, and the ledger still decides what loads."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from data import landing, load
from data.landing import scan_landing
from tests.data.conftest import cycle, demo_cases, land, query, to_csv


def _today(settings) -> str:
    return f"{datetime.now(settings.zone):%Y-%m-%d}"


def _in_place(settings) -> list[str]:
    ready, waiting = scan_landing(settings.landing_dir, ("events",), settle_seconds=0)
    return [f.rel for f in ready] + ["waiting"] * waiting


def test_loaded_and_rejected_files_move_to_done_and_the_next_cycle_scans_nothing(etl_env):
    land(etl_env, "sim/2026-11-29/a.csv", to_csv(demo_cases(etl_env, 3)))
    land(etl_env, "b.csv", b"")  # rejected: file_empty
    result = cycle(etl_env)
    assert result.status == "ok", result.error
    assert {(f.path, f.status) for f in result.files} == {("events/sim/2026-11-29/a.csv", "loaded"),
                                                          ("events/b.csv", "rejected")}
    done = etl_env.landing_dir / "events" / ".done" / _today(etl_env)
    assert (done / "sim" / "2026-11-29" / "a.csv").is_file() and (done / "b.csv").is_file()
    assert _in_place(etl_env) == []
    # the ledger keeps the paths where the files landed
    assert sorted(r[0] for r in query(etl_env, "SELECT path FROM etl_files")) == ["events/b.csv",
                                                                                  "events/sim/2026-11-29/a.csv"]
    second = cycle(etl_env)
    assert second.files == [] and second.waiting == 0 and second.snapshot is None


def test_a_crash_before_the_commit_leaves_the_files_in_place_and_they_load_next_cycle(etl_env, monkeypatch):
    land(etl_env, "batch.csv", to_csv(demo_cases(etl_env, 4)))

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(load, "refresh_marts_for_days", boom)
    assert cycle(etl_env).status == "failed"
    assert _in_place(etl_env) == ["events/batch.csv"]
    monkeypatch.undo()
    retry = cycle(etl_env)
    assert retry.status == "ok" and retry.rows_loaded == 4
    assert _in_place(etl_env) == []
    assert (etl_env.landing_dir / "events" / ".done" / _today(etl_env) / "batch.csv").is_file()


def test_a_failed_move_is_logged_and_the_ledger_keeps_the_file_from_loading_twice(etl_env, monkeypatch, caplog):
    land(etl_env, "batch.csv", to_csv(demo_cases(etl_env, 2)))

    def no_rename(src, dst):
        raise PermissionError(13, "Permission denied", str(src))

    monkeypatch.setattr(landing.os, "rename", no_rename)
    first = cycle(etl_env)
    assert first.status == "ok" and first.rows_loaded == 2 and first.unmoved == 1
    assert "could not move the done file events/batch.csv" in caplog.text
    assert _in_place(etl_env) == ["events/batch.csv"]
    second = cycle(etl_env)  # still in the way: the ledger skips it, the move fails again
    assert second.files == [] and second.unmoved == 1 and second.snapshot is None
    monkeypatch.undo()
    third = cycle(etl_env)  # the move works again: the file goes, nothing loads
    assert third.files == [] and third.unmoved == 0 and _in_place(etl_env) == []
    assert query(etl_env, "SELECT count(*) FROM etl_files")[0][0] == 1


def test_a_same_named_file_arriving_later_is_a_new_file(etl_env):
    rows = demo_cases(etl_env, 2)
    text = to_csv(rows)
    land(etl_env, "batch.csv", text)
    assert cycle(etl_env).rows_loaded == 2
    land(etl_env, "batch.csv", text)  # delivered again, same content: not loaded, moved beside the first
    again = cycle(etl_env)
    assert again.files == [] and _in_place(etl_env) == []
    rows[0]["summary"] = "corrected"
    rows[0]["updated_at"] += timedelta(minutes=1)
    land(etl_env, "batch.csv", to_csv(rows))  # new content under the same name: loads
    third = cycle(etl_env)
    assert [f.path for f in third.files] == ["events/batch.csv"] and third.rows_loaded == 2
    assert query(etl_env, "SELECT summary FROM events WHERE case_id = 'TEST000001'")[0][0] == "corrected"
    done = etl_env.landing_dir / "events" / ".done" / _today(etl_env)
    assert sorted(p.name for p in done.iterdir()) == ["batch.1.csv", "batch.2.csv", "batch.csv"]
    assert (done / "batch.2.csv").read_text(encoding="utf-8") == to_csv(rows)


def test_the_scan_does_not_walk_dot_folders(tmp_path, monkeypatch):
    root = tmp_path / "events"
    (root / ".done" / "2026-11-29" / "deep").mkdir(parents=True)
    (root / ".done" / "2026-11-29" / "deep" / "old.csv").write_text("x\n")
    (root / "new.csv").write_text("x\n")
    (root / ".hidden.csv").write_text("x\n")
    walked = []
    real_walk = os.walk

    def spy(top, *a, **k):
        for folder, dirs, files in real_walk(top, *a, **k):
            walked.append(os.path.relpath(folder, root))
            yield folder, dirs, files

    monkeypatch.setattr(landing.os, "walk", spy)
    ready, waiting = scan_landing(tmp_path, ("events",), settle_seconds=0)
    assert [f.rel for f in ready] == ["events/new.csv"] and waiting == 0
    assert walked == ["."]
