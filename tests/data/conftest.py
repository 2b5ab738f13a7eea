"""Fixtures of the ETL tests: a tiny demo warehouse built once, copied for every test that writes.

The tiny demo (3 000 cases over 20 days, 2 000 people) is enough for every ETL behaviour and builds
in a few seconds; each test gets its own copy of the whole ``var/`` folder (warehouse, snapshots,
landing zone), so tests can run cycles, crash them and publish without seeing each other.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
import pytest

from data.etl import CycleResult, run_cycle
from data.snapshot import read_current
from data.warehouse import connect
from settings import Settings
from tests.conftest import build_fixture_demo, private_copy

# The columns a source system sends for a case: the table's minus the derived ones.
EVENT_FILE_COLUMNS = (
    "case_id", "channel", "category_id", "urgency", "route", "department_id", "needs_dispatch", "summary",
    "microgrid_id", "lon", "lat", "received_at", "accepted_at", "dispatched_at", "closed_at", "status",
    "satisfaction", "updated_at",
)


@pytest.fixture(scope="session")
def etl_base(tmp_path_factory) -> Settings:
    """A tiny demo warehouse with a published snapshot (built once per session, never written)."""
    return build_fixture_demo(tmp_path_factory.mktemp("etl_base") / "var", events=3000, days=20, seed=1,
                              people=2000, enterprises=300, cameras=200)


@pytest.fixture
def etl_env(etl_base, tmp_path) -> Settings:
    """A private copy of the tiny demo's ``var/`` folder that the test may load, crash and publish."""
    return private_copy(etl_base, tmp_path)


def cycle(settings: Settings, kind: str = "events", **kw) -> CycleResult:
    """One ETL cycle that does not wait for files to settle (tests write them just before)."""
    kw.setdefault("settle_seconds", 0)
    return run_cycle(settings, kind, **kw)


def query(settings: Settings, sql: str, params: list | dict | None = None) -> list[tuple]:
    """Rows from the work database (opened and closed again: the ETL must be able to open it next)."""
    con = connect(settings.work_db, settings.timezone, read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def snapshot_query(settings: Settings, sql: str) -> list[tuple]:
    """Rows from the snapshot ``CURRENT`` points at (what the dashboard sees)."""
    info = read_current(settings.current_file)
    con = duckdb.connect(str(info.path), read_only=True)
    try:
        con.execute("SET TimeZone = ?", [settings.timezone])
        return con.execute(sql).fetchall()
    finally:
        con.close()


def demo_cases(settings: Settings, n: int, prefix: str = "TEST") -> list[dict]:
    """``n`` valid case records (landing columns) copied from the demo under new ids ``<prefix>000001``…."""
    con = connect(settings.work_db, settings.timezone, read_only=True)
    try:
        cur = con.execute(f"SELECT {', '.join(EVENT_FILE_COLUMNS)} FROM events ORDER BY case_id LIMIT ?", [n])
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()
    for i, row in enumerate(rows, 1):
        row["case_id"] = f"{prefix}{i:06d}"
    return rows


def to_csv(rows: list[dict], columns: tuple[str, ...] | list[str] = EVENT_FILE_COLUMNS) -> str:
    """CSV text of records (timestamps ISO with offset, booleans lower case, None empty)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for row in rows:
        w.writerow([_text(row.get(c)) for c in columns])
    return buf.getvalue()


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def land(settings: Settings, name: str, content: str | bytes, table: str = "events") -> Path:
    """Write a landing file (``name`` relative to ``var/landing/<table>/``)."""
    path = settings.landing_dir / table / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def assert_counts_add_up(settings: Settings, result: CycleResult) -> None:
    """rows in = loaded + quarantined, per file and per run, in the result, the ledger, the run record
    and the quarantine table."""
    assert result.status == "ok", result.error
    for f in result.files:
        assert f.rows_in == f.rows_loaded + f.rows_quarantined, f
        assert sum(f.reasons.values()) == f.rows_quarantined, f
    assert result.rows_in == result.rows_loaded + result.rows_quarantined
    run = query(settings, "SELECT files, rows_in, rows_loaded, rows_quarantined, status FROM etl_runs WHERE run_id = ?",
                [result.run_id])[0]
    assert run == (len(result.files), result.rows_in, result.rows_loaded, result.rows_quarantined, "ok")
    ledger = query(settings, "SELECT path, rows_in, rows_loaded, rows_quarantined FROM etl_files WHERE run_id = ?",
                   [result.run_id])
    assert sorted(ledger) == sorted((f.path, f.rows_in, f.rows_loaded, f.rows_quarantined) for f in result.files)
    for path, rows_in, loaded, quarantined in ledger:
        assert rows_in == loaded + quarantined
        n = query(settings, "SELECT count(*) FROM quarantine WHERE run_id = ? AND file = ?", [result.run_id, path])
        assert n[0][0] == quarantined, path


def reasons(settings: Settings, run_id: int) -> dict[int, str]:
    """line -> reason of the quarantine rows of a run."""
    return dict(query(settings, "SELECT line, reason FROM quarantine WHERE run_id = ? ORDER BY line", [run_id]))
