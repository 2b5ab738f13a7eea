"""The ETL cycle: formats, idempotency, late updates, crash safety, marts, reference extracts, PII, CLI."""

from __future__ import annotations

import argparse
import json
import os
import stat
import time
from datetime import datetime, timedelta

import pandas as pd
import pytest

from data import etl, load
from data.cli import cmd_etl
from data.marts import MARTS, SQL_DIR, stage_history
from data.pii import hash_id, pii_key
from data.snapshot import publish, read_current
from data.warehouse import connect
from tests.data.conftest import (
    EVENT_FILE_COLUMNS,
    assert_counts_add_up,
    cycle,
    demo_cases,
    land,
    query,
    snapshot_query,
    to_csv,
)

DERIVED = "category_l1, grid_id, community_id, street_id"


def _export_events(settings, tmp_path):
    """The demo's cases as CSV (with BOM), Parquet and JSON Lines, without the derived columns; the JSON
    Lines file also drops every third micro-grid so point-in-polygon places those cases."""
    con = connect(settings.work_db, settings.timezone)
    try:
        land_dir = settings.landing_dir / "events"
        land_dir.mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY (SELECT * EXCLUDE ({DERIVED}) FROM events) TO '{tmp_path}/all.csv' (HEADER)")
        (land_dir / "a-all.csv").write_bytes(b"\xef\xbb\xbf" + (tmp_path / "all.csv").read_bytes())
        con.execute(f"COPY (SELECT * FROM events) TO '{land_dir}/b-all.parquet'")
        con.execute(f"""COPY (SELECT * EXCLUDE ({DERIVED}) REPLACE (
                            CASE WHEN hash(case_id) % 3 = 0 THEN NULL ELSE microgrid_id END AS microgrid_id)
                        FROM events) TO '{land_dir}/c-all.jsonl'""")
        return con.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        con.close()


def _table(settings, sql):
    return query(settings, sql)


def test_a_snapshot_exported_in_every_format_loads_back_unchanged(etl_env, tmp_path):
    before = _table(etl_env, "SELECT * FROM events ORDER BY case_id")
    n = _export_events(etl_env, tmp_path)
    result = cycle(etl_env)
    assert_counts_add_up(etl_env, result)
    assert [f.rows_loaded for f in result.files] == [n, n, n]
    assert result.rows_quarantined == 0
    assert result.files[2].placed > n // 5  # the JSON Lines cases without micro-grid were placed
    assert _table(etl_env, "SELECT * FROM events ORDER BY case_id") == before


def test_the_same_file_twice_loads_once_and_a_rewritten_file_loads_again(etl_env):
    rows = demo_cases(etl_env, 5)
    land(etl_env, "batch.csv", to_csv(rows))
    first = cycle(etl_env)
    assert first.rows_loaded == 5 and first.snapshot
    second = cycle(etl_env)
    assert second.files == [] and second.snapshot is None
    assert query(etl_env, "SELECT count(*) FROM etl_files WHERE path = 'events/batch.csv'")[0][0] == 1
    rows[0]["summary"] = "rewritten"
    rows[0]["updated_at"] += timedelta(minutes=5)
    land(etl_env, "batch.csv", to_csv(rows))
    third = cycle(etl_env)
    assert [f.path for f in third.files] == ["events/batch.csv"] and third.rows_loaded == 5
    assert query(etl_env, "SELECT summary FROM events WHERE case_id = 'TEST000001'")[0][0] == "rewritten"
    assert query(etl_env, "SELECT count(*) FROM etl_files WHERE path = 'events/batch.csv'")[0][0] == 2


def test_files_still_being_written_wait_for_the_next_cycle(etl_env):
    rows = demo_cases(etl_env, 2)
    land(etl_env, "a.csv.tmp", to_csv(rows))
    land(etl_env, "b.csv.part", to_csv(rows))
    fresh = land(etl_env, "c.csv", to_csv(rows))
    result = etl.run_cycle(etl_env, settle_seconds=30)  # c.csv was modified just now
    assert result.files == [] and result.waiting == 3
    old = time.time() - 60
    os.utime(fresh, (old, old))
    result = etl.run_cycle(etl_env, settle_seconds=30)
    assert [f.path for f in result.files] == ["events/c.csv"] and result.waiting == 2


def test_an_older_update_never_overwrites_a_newer_one(etl_env):
    case = demo_cases(etl_env, 1)[0]
    closed = dict(case, status="closed", accepted_at=case["received_at"] + timedelta(seconds=30),
                  dispatched_at=None, closed_at=case["received_at"] + timedelta(hours=2),
                  updated_at=case["received_at"] + timedelta(hours=2, seconds=1), satisfaction=5)
    accepted = dict(case, status="accepted", accepted_at=case["received_at"] + timedelta(seconds=30),
                    dispatched_at=None, closed_at=None, satisfaction=None,
                    updated_at=case["received_at"] + timedelta(seconds=31))
    land(etl_env, "1-closed.csv", to_csv([closed]))
    cycle(etl_env)
    land(etl_env, "2-late-accepted.csv", to_csv([accepted]))  # arrives later, but is older
    result = cycle(etl_env)
    assert result.rows_loaded == 1  # valid and merged: the merge keeps the newer state
    got = query(etl_env, "SELECT status, updated_at FROM events WHERE case_id = 'TEST000001'")[0]
    assert got == ("closed", closed["updated_at"])
    # the same in one cycle, whatever the file order
    case2 = dict(closed, case_id="TEST000002")
    land(etl_env, "3-a-closed.csv", to_csv([case2]))
    land(etl_env, "3-b-accepted.csv", to_csv([dict(accepted, case_id="TEST000002")]))
    cycle(etl_env)
    assert query(etl_env, "SELECT status FROM events WHERE case_id = 'TEST000002'")[0][0] == "closed"
    assert snapshot_query(etl_env, "SELECT status FROM events WHERE case_id = 'TEST000002'")[0][0] == "closed"


def _mart_rows(settings, mart):
    return sorted(query(settings, f"SELECT * FROM {mart}"), key=repr)


def _mart_rebuilt(settings, mart):
    sql = (SQL_DIR / f"{mart}.sql").read_text(encoding="utf-8")
    return sorted(query(settings, f"SELECT * FROM ({sql})"), key=repr)


def test_incremental_mart_refresh_equals_a_full_rebuild(etl_env):
    """New cases, closures of old open cases and a case moved to another micro-grid and day."""
    con = connect(etl_env.work_db, etl_env.timezone, read_only=True)
    cur = con.execute(f"SELECT {', '.join(EVENT_FILE_COLUMNS)} FROM events WHERE status IN ('dispatched', "
                      "'in_progress') ORDER BY received_at LIMIT 20")
    names = [d[0] for d in cur.description]
    open_cases = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    other_mg = con.execute("SELECT microgrid_id, lon, lat FROM events ORDER BY case_id DESC LIMIT 1").fetchone()
    con.close()
    updates = []
    for c in open_cases:
        t = c["updated_at"] + timedelta(hours=3)
        updates.append(dict(c, status="closed", closed_at=t, updated_at=t + timedelta(seconds=1)))
    moved = dict(open_cases[0], microgrid_id=other_mg[0], lon=other_mg[1], lat=other_mg[2],
                 received_at=open_cases[0]["received_at"] - timedelta(days=2),
                 updated_at=open_cases[0]["updated_at"] + timedelta(hours=5))
    updates[0] = moved
    land(etl_env, "updates.csv", to_csv(updates + demo_cases(etl_env, 30, prefix="NEW")))
    result = cycle(etl_env)
    assert_counts_add_up(etl_env, result)
    assert result.rows_quarantined == 0
    for mart in MARTS:
        assert _mart_rows(etl_env, mart) == _mart_rebuilt(etl_env, mart), mart
    assert _repeat_flags(etl_env) == _repeat_flags_by_pandas(etl_env)
    # the day's first events load stored today's stage-duration quantiles, computed from the history
    today = datetime.now(etl_env.zone).date()
    hs, he = stage_history(today, etl_env.timezone)
    stored = query(etl_env, "SELECT stage_key, category_id, department_id, n, q FROM mart_stage_quantiles "
                            "WHERE day = ?", [today])
    history = query(etl_env, (SQL_DIR / "stage_quantiles.sql").read_text(encoding="utf-8"), {"hs": hs, "he": he})
    assert stored and sorted(stored, key=repr) == sorted(history, key=repr)


def _repeat_flags(settings) -> dict[str, bool]:
    return dict(query(settings, "SELECT case_id, repeat_7d FROM events"))


def _repeat_flags_by_pandas(settings) -> dict[str, bool]:
    """events.repeat_7d from its definition: an earlier case, same micro-grid and category, within 7 days."""
    con = connect(settings.work_db, settings.timezone, read_only=True)
    ev = con.execute("SELECT case_id, microgrid_id, category_id, received_at FROM events").df()
    con.close()
    ev = ev.sort_values(["microgrid_id", "category_id", "received_at", "case_id"])
    prev = ev.groupby(["microgrid_id", "category_id"])["received_at"].shift()
    return dict(zip(ev["case_id"], (prev >= ev["received_at"] - pd.Timedelta(days=7)).to_numpy(), strict=True))


def test_an_update_of_a_stage_alone_reaches_the_open_cases_mart(etl_env):
    con = connect(etl_env.work_db, etl_env.timezone, read_only=True)
    cur = con.execute(f"SELECT {', '.join(EVENT_FILE_COLUMNS)} FROM events WHERE status = 'accepted' "
                      "AND needs_dispatch LIMIT 1")
    case = dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))
    con.close()
    t = case["updated_at"] + timedelta(minutes=2)
    land(etl_env, "dispatch.csv", to_csv([dict(case, status="dispatched", dispatched_at=t, updated_at=t)]))
    cycle(etl_env)
    got = query(etl_env, "SELECT status, dispatched_at FROM mart_open_cases WHERE case_id = ?", [case["case_id"]])
    assert got == [("dispatched", t)]
    assert _mart_rows(etl_env, "mart_open_cases") == _mart_rebuilt(etl_env, "mart_open_cases")



def test_an_older_warehouse_is_upgraded_and_published_by_the_next_cycle_without_any_file(etl_env):
    con = connect(etl_env.work_db, etl_env.timezone)
    try:  # a warehouse and snapshot from before the repeat flags and the open-cases mart
        con.execute("DROP TABLE mart_open_cases")
        con.execute("ALTER TABLE events DROP COLUMN repeat_7d")
        con.execute("ALTER TABLE etl_runs DROP COLUMN note")
        publish(con, etl_env.warehouse_dir)
    finally:
        con.close()
    old = read_current(etl_env.current_file).name
    assert snapshot_query(etl_env, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'mart_open_cases'") == [(0,)]
    result = cycle(etl_env)
    assert result.files == [] and result.snapshot is not None and result.snapshot != old
    assert snapshot_query(etl_env, "SELECT count(*) FROM events WHERE repeat_7d") > [(0,)]
    assert snapshot_query(etl_env, "SELECT count(*) FROM mart_open_cases") == snapshot_query(
        etl_env, "SELECT count(*) FROM events WHERE closed_at IS NULL")
    assert snapshot_query(etl_env, "SELECT note FROM etl_runs WHERE kind = 'upgrade'") == [
        ("etl_runs.note added; events.repeat_7d added; mart_open_cases added and filled",)]
    assert cycle(etl_env).snapshot is None  # once published, an idle cycle publishes nothing again


def test_replaying_all_files_into_a_fresh_warehouse_gives_the_same_tables(etl_env, etl_base, tmp_path):
    # the first cycles: the base tables as full extracts, then cases and updates over three cycles
    con = connect(etl_env.work_db, etl_env.timezone)
    land_dir = etl_env.landing_dir
    for table in ("areas", "categories", "departments", "channels", "people", "housing", "enterprises", "assets"):
        (land_dir / table).mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY (SELECT * FROM {table}) TO '{land_dir / table}/0000-full.parquet'")
    (land_dir / "events").mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY (SELECT * EXCLUDE ({DERIVED}) FROM events) TO '{land_dir}/events/0000-base.csv' (HEADER)")
    con.close()
    # the original warehouse already holds the base: these full extracts change nothing there
    base = cycle(etl_env, "reference")
    assert base.status == "ok" and base.rows_quarantined == 0, base.error
    new = demo_cases(etl_env, 40, prefix="NEW")
    land(etl_env, "0001.csv", to_csv(new[:20]))
    cycle(etl_env)
    later = [dict(r, status="cancelled", closed_at=r["updated_at"] + timedelta(hours=1),
                  updated_at=r["updated_at"] + timedelta(hours=1, seconds=1),
                  accepted_at=r["accepted_at"] or r["received_at"]) for r in new[:5]]
    land(etl_env, "0002.jsonl", "\n".join(_jsonl(r) for r in later + new[20:]) + "\n")
    cycle(etl_env)
    land(etl_env, "0003.csv", to_csv(new[30:] + [dict(new[0], received_at="not a time")]))
    cycle(etl_env)

    # replay every landing file into an empty warehouse (no demo, no schema)
    fresh = etl_base.replace(var_dir=tmp_path / "fresh")
    _restore_done_files(etl_env.landing_dir, fresh.landing_dir)
    result = cycle(fresh, "reference")
    assert result.status == "ok", result.error
    tables = ("areas", "categories", "departments", "channels", "events", "people", "housing", "enterprises",
              "assets", *MARTS)
    for table in tables:
        key = "1, 2, 3" if table.startswith("mart_") else "1"
        a = query(etl_env, f"SELECT * FROM {table} ORDER BY ALL")
        b = query(fresh, f"SELECT * FROM {table} ORDER BY ALL")
        assert a == b, f"{table} differs after replay ({key})"
    q_a = query(etl_env, "SELECT file, line, reason FROM quarantine ORDER BY ALL")
    q_b = query(fresh, "SELECT file, line, reason FROM quarantine ORDER BY ALL")
    assert q_a == q_b == [("events/0003.csv", 12, "bad_timestamp")]


def _restore_done_files(landing, dest):
    """Copy every done file back to its original path under ``dest`` (how an operator replays a landing zone)."""
    import shutil

    for done in landing.glob("*/.done/*/**/*"):
        if done.is_file():
            table, _, _day, *rest = done.relative_to(landing).parts
            target = dest.joinpath(table, *rest)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(done, target)


def _jsonl(row):
    import json

    return json.dumps({k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()},
                      ensure_ascii=False)


def _current_numbers(settings):
    info = read_current(settings.current_file)
    return info.name, snapshot_query(settings, "SELECT count(*), max(updated_at) FROM events")[0]


def test_a_failure_before_the_commit_rolls_everything_back_and_the_next_cycle_retries(etl_env, monkeypatch):
    before = _current_numbers(etl_env)
    rows = demo_cases(etl_env, 5)
    rows[0]["received_at"] = "garbage"  # so the file also has a quarantine row to roll back
    land(etl_env, "batch.csv", to_csv(rows))

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(load, "refresh_marts_for_days", boom)
    result = cycle(etl_env)
    assert result.status == "failed" and "disk on fire" in result.error
    assert _current_numbers(etl_env) == before
    assert query(etl_env, "SELECT status, error FROM etl_runs WHERE run_id = ?", [result.run_id])[0][0] == "failed"
    assert query(etl_env, "SELECT count(*) FROM etl_files")[0][0] == 0
    assert query(etl_env, "SELECT count(*) FROM quarantine")[0][0] == 0
    assert query(etl_env, "SELECT count(*) FROM events WHERE case_id LIKE 'TEST%'")[0][0] == 0
    # the web tier learns of the failure although no snapshot was published
    last = json.loads((etl_env.warehouse_dir / "LAST_RUN.json").read_text(encoding="utf-8"))
    assert (last["run_id"], last["status"]) == (result.run_id, "failed") and "disk on fire" in last["error"]

    monkeypatch.undo()
    retry = cycle(etl_env)
    assert_counts_add_up(etl_env, retry)
    assert (retry.rows_loaded, retry.rows_quarantined) == (4, 1) and retry.snapshot
    assert json.loads((etl_env.warehouse_dir / "LAST_RUN.json").read_text(encoding="utf-8"))["status"] == "ok"
    assert snapshot_query(etl_env, "SELECT count(*) FROM events WHERE case_id LIKE 'TEST%'")[0][0] == 4


def test_a_failure_between_copy_and_pointer_swap_keeps_the_old_snapshot_and_the_next_cycle_publishes(etl_env):
    before = _current_numbers(etl_env)
    snapshots_before = sorted(p.name for p in etl_env.snapshots_dir.glob("*.duckdb"))
    land(etl_env, "batch.csv", to_csv(demo_cases(etl_env, 5)))

    def crash():
        raise OSError("killed between copy and swap")

    result = cycle(etl_env, _before_swap=crash)
    assert result.status == "failed" and "between copy and swap" in result.error
    assert _current_numbers(etl_env) == before
    # the half-published file is gone; the failure is on record; the data itself was committed
    assert sorted(p.name for p in etl_env.snapshots_dir.glob("*.duckdb")) == snapshots_before
    assert query(etl_env, "SELECT status FROM etl_runs WHERE run_id = ?", [result.run_id])[0][0] == "failed"

    retry = cycle(etl_env)  # no new file, but committed data newer than CURRENT
    assert retry.status == "ok" and retry.files == [] and retry.snapshot
    assert read_current(etl_env.current_file).name == retry.snapshot
    assert snapshot_query(etl_env, "SELECT count(*) FROM events WHERE case_id LIKE 'TEST%'")[0][0] == 5
    assert cycle(etl_env).snapshot is None  # and then nothing more to publish


def test_an_interrupted_run_is_marked_failed_by_the_next_cycle(etl_env):
    con = connect(etl_env.work_db, etl_env.timezone)
    con.execute("INSERT INTO etl_runs (run_id, kind, started_at, status) VALUES (nextval('etl_run_seq'), 'events', "
                "now(), 'running')")
    con.close()
    cycle(etl_env)
    got = query(etl_env, "SELECT status, error FROM etl_runs WHERE status <> 'ok' ORDER BY run_id")
    assert got[0][0] == "failed" and got[0][1].startswith("interrupted")


def test_snapshots_keep_the_configured_number(etl_env):
    for i in range(5):
        land(etl_env, f"{i}.csv", to_csv(demo_cases(etl_env, 1, prefix=f"K{i}")))
        assert cycle(etl_env).snapshot
    assert len(list(etl_env.snapshots_dir.glob("*.duckdb"))) == etl_env.snapshots_keep


# ------------------------------------------------------------------------------------------------
# reference tables
# ------------------------------------------------------------------------------------------------
def _people_rows(settings, n):
    con = connect(settings.work_db, settings.timezone, read_only=True)
    cur = con.execute("SELECT * FROM people ORDER BY person_key LIMIT ?", [n])
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    con.close()
    return names, rows


def test_reference_full_extract_replaces_and_delta_upserts_and_deletes(etl_env):
    names, rows = _people_rows(etl_env, 10)
    land(etl_env, "people_full_20261125.csv", to_csv(rows, names), table="people")
    result = cycle(etl_env, "reference")
    assert_counts_add_up(etl_env, result)
    assert result.files[0].mode == "full"
    assert query(etl_env, "SELECT count(*) FROM people")[0][0] == 10
    changed = dict(rows[0], kind="floating" if rows[0]["kind"] == "registered" else "registered",
                   updated_at=rows[0]["updated_at"] + timedelta(days=1))
    gone = dict(rows[1], _deleted="true", updated_at=rows[1]["updated_at"] + timedelta(days=1))
    land(etl_env, "people_20261126.csv", to_csv([changed, gone], [*names, "_deleted"]), table="people")
    result = cycle(etl_env, "reference")
    assert result.files[0].mode == "delta"
    assert query(etl_env, "SELECT count(*) FROM people")[0][0] == 9
    assert query(etl_env, "SELECT kind FROM people WHERE person_key = ?", [rows[0]["person_key"]])[0][0] == \
        changed["kind"]
    # the events job leaves reference folders alone
    land(etl_env, "people_20261127.csv", to_csv([dict(changed, updated_at=changed["updated_at"] + timedelta(1))],
                                                names), table="people")
    assert cycle(etl_env).files == []


def test_an_empty_full_extract_is_rejected_instead_of_emptying_the_table(etl_env):
    names, _ = _people_rows(etl_env, 1)
    land(etl_env, "people_full.csv", ",".join(names) + "\n", table="people")
    result = cycle(etl_env, "reference")
    assert result.files[0].status == "rejected" and result.files[0].error.startswith("file_empty")
    assert query(etl_env, "SELECT count(*) FROM people")[0][0] == 2000


# ------------------------------------------------------------------------------------------------
# personal data
# ------------------------------------------------------------------------------------------------
def test_national_ids_are_hashed_and_names_and_phones_dropped(etl_env):
    cols = ["id_number", "姓名", "phone", "kind", "sex", "age_band", "microgrid_id", "flag_elderly_alone",
            "flag_disability", "flag_low_income", "flag_key_care", "updated_at"]
    mg = query(etl_env, "SELECT area_id FROM areas WHERE level = 'microgrid' LIMIT 1")[0][0]
    people = [
        {"id_number": "330108199001011234", "姓名": "张三", "phone": "13912345678", "kind": "registered", "sex": "M",
         "age_band": "35-59", "microgrid_id": mg, "flag_elderly_alone": False, "flag_disability": False,
         "flag_low_income": False, "flag_key_care": False, "updated_at": "2026-11-20 10:00:00+08"},
        {"id_number": "33010819850505432x", "姓名": "李四", "phone": "13800001111", "kind": "floating", "sex": "F",
         "age_band": "0-17 years", "microgrid_id": mg, "flag_elderly_alone": False, "flag_disability": False,
         "flag_low_income": False, "flag_key_care": False, "updated_at": "2026-11-20 10:00:00+08"},
    ]
    land(etl_env, "register.csv", to_csv(people, cols), table="people")
    result = cycle(etl_env, "reference")
    assert_counts_add_up(etl_env, result)
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    key = pii_key(etl_env)
    keyfile = etl_env.var_dir / "secrets" / "pii.key"
    assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600
    assert query(etl_env, "SELECT count(*) FROM people WHERE person_key = ?",
                 [hash_id("330108199001011234", key)])[0][0] == 1
    # nothing anywhere in the warehouse or its snapshot holds the ID, the names or the phone numbers
    secrets = "330108199001011234|33010819850505432|张三|李四|13912345678|13800001111"
    for path in (etl_env.work_db, read_current(etl_env.current_file).path):
        con = connect(path, etl_env.timezone, read_only=True)
        columns = con.execute("SELECT table_name, list(column_name) FROM information_schema.columns "
                              "WHERE data_type = 'VARCHAR' GROUP BY ALL").fetchall()
        for table, cols in columns:
            text = " || '|' || ".join(f'coalesce("{c}", \'\')' for c in cols)
            hits = con.execute(f"SELECT count(*) FROM {table} WHERE regexp_matches({text}, ?)", [secrets]).fetchone()
            assert hits[0] == 0, f"personal data found in {table} of {path.name}"
        con.close()
    raw = query(etl_env, "SELECT raw FROM quarantine")[0][0]
    assert "***" in raw and "0-17 years" in raw


def test_the_hash_key_comes_from_settings_when_set(etl_env):
    settings = etl_env.replace(pii_hash_key="deployment-secret")
    assert pii_key(settings) == b"deployment-secret"
    assert not (etl_env.var_dir / "secrets" / "pii.key").exists()


# ------------------------------------------------------------------------------------------------
# the command line
# ------------------------------------------------------------------------------------------------
def test_cli_prints_a_summary_and_the_status_table(etl_env, capsys):
    rows = demo_cases(etl_env, 4)
    rows[1]["category_id"] = "NOPE-01"
    land(etl_env, "cli.csv", to_csv(rows))
    old = time.time() - 60
    os.utime(etl_env.landing_dir / "events" / "cli.csv", (old, old))
    assert cmd_etl(etl_env, argparse.Namespace(status=False, reference=False)) == 0
    out = capsys.readouterr().out
    assert "rows in               4" in out and "loaded                3" in out
    assert "unknown_category" in out and "events/cli.csv" in out
    assert cmd_etl(etl_env, argparse.Namespace(status=True, reference=False)) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split()[:3] == ["run", "kind", "started"]
    assert "events" in table and "demo" in table


@pytest.mark.parametrize("name, mode", [("people_full_20261129.csv", "full"), ("full-2026.parquet", "full"),
                                        ("people_20261129.csv", "delta"), ("fullness.csv", "delta")])
def test_extract_mode_from_the_file_name(name, mode):
    assert etl.extract_mode(None, "people", f"people/{name}") == mode


def test_id_and_mobile_numbers_in_a_summary_are_masked_at_load(etl_env):
    """A citizen's report quoting a phone or an ID number: the warehouse and its snapshot keep neither."""
    rows = demo_cases(etl_env, 3)
    rows[0]["summary"] = "占道经营，联系电话13812345678，请尽快处理"
    rows[1]["summary"] = "身份证号 33010619900101123X 的住户反映噪音"
    rows[2]["summary"] = "路灯不亮，编号 2026112500001"  # a long number that is neither stays
    land(etl_env, "pii.csv", to_csv(rows))
    assert cycle(etl_env).rows_loaded == 3
    got = dict(snapshot_query(etl_env, "SELECT case_id, summary FROM events WHERE case_id LIKE 'TEST%' ORDER BY 1"))
    assert got["TEST000001"] == "占道经营，联系电话***，请尽快处理"
    assert got["TEST000002"].startswith("身份证号 *** 的住户") and "33010619900101123X" not in got["TEST000002"]
    assert got["TEST000003"] == "路灯不亮，编号 2026112500001"
    stored = " ".join(s for _, s in query(etl_env, "SELECT case_id, summary FROM events WHERE case_id LIKE 'TEST%'"))
    assert "13812345678" not in stored and "33010619900101123X" not in stored
