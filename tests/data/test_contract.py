"""The contract between the write side and the read side: side-effect free, and the only thing the read side imports."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from data import contract
from data.contract import (
    LastRun,
    SnapshotInfo,
    current_text,
    last_run_text,
    parse_current,
    parse_last_run,
    read_current,
    read_last_run,
    stage_history,
)

ROOT = Path(__file__).resolve().parents[2]
# The write side (and what the web tier alone may load): none of it may come with the contract.
WRITE_SIDE = ("data.etl", "data.load", "data.landing", "data.runs", "data.area_checks", "data.marts", "data.generate",
              "data.simulate", "data.validate", "data.readers", "data.schedule", "data.geography", "data.demo", "dash",
              "pandas", "shapely")
# What the read side may take from data.snapshot.
SNAPSHOT_READ_SIDE = {"SnapshotReader", "read_current", "SnapshotInfo", "NoSnapshotError"}


def _loaded_after(module: str) -> set[str]:
    code = f"import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True, timeout=60)
    return set(json.loads(out.stdout))


def _write_side(loaded: set[str]) -> list[str]:
    return sorted(m for m in loaded if any(m == w or m.startswith(w + ".") for w in WRITE_SIDE))


def test_importing_the_contract_loads_no_write_side_no_dash_and_no_duckdb():
    loaded = _loaded_after("data.contract")
    assert _write_side(loaded) == []
    assert "duckdb" not in loaded
    assert not {m for m in loaded if m.startswith("data.") and m != "data.contract"}


def test_the_snapshot_read_side_loads_no_write_side():
    assert _write_side(_loaded_after("data.snapshot")) == []


def _data_imports(path: Path) -> list[tuple[str, str | None]]:
    """(module, name) of every import of ``data`` or ``data.*`` in a source file (name None for ``import x``)."""
    out: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(a.name, None) for a in node.names if a.name == "data" or a.name.startswith("data.")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "data" or node.module.startswith("data."):
                out += [(node.module, a.name) for a in node.names]
    return out


def _read_side_violations() -> list[str]:
    bad = []
    for folder in ("metrics", "layers"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for module, name in _data_imports(path):
                allowed = module == "data.contract" or (module == "data.snapshot" and name in SNAPSHOT_READ_SIDE)
                if not allowed:
                    bad.append(f"{path.relative_to(ROOT)}: {module}{'.' + name if name else ''}")
    return bad


def test_the_import_rule_sees_a_forbidden_import(tmp_path):
    source = tmp_path / "x.py"
    source.write_text("from data.marts import mart_sql\nimport data.etl\nfrom data.snapshot import publish, reader\n"
                      "from data.contract import TABLES\n", encoding="utf-8")
    assert _data_imports(source) == [("data.marts", "mart_sql"), ("data.etl", None), ("data.snapshot", "publish"),
                                     ("data.snapshot", "reader"), ("data.contract", "TABLES")]


def test_metrics_and_layers_import_only_the_contract_and_the_snapshot_read_side():
    assert _read_side_violations() == []


def test_current_round_trips_and_a_torn_pointer_is_an_error(tmp_path):
    info = SnapshotInfo("20261129T100000000000-7.duckdb", tmp_path / "snapshots" / "20261129T100000000000-7.duckdb",
                        datetime(2026, 11, 29, 2, tzinfo=UTC), 7, datetime(2026, 11, 29, 2, 1, tzinfo=UTC))
    assert parse_current(current_text(info), tmp_path) == info
    (tmp_path / contract.CURRENT_FILE).write_text(current_text(info), encoding="utf-8")
    assert read_current(tmp_path / "CURRENT") == info
    assert read_current(tmp_path / "nothing") is None
    with pytest.raises(ValueError):
        parse_current('{"snapshot": "x.duckdb"', tmp_path)
    with pytest.raises(ValueError):
        parse_current('{"published_at": "2026-11-29T02:00:00+00:00"}', tmp_path)


def test_last_run_round_trips_and_a_torn_or_foreign_file_is_ignored(tmp_path):
    run = LastRun(12, "events", "failed", "landing/events/x.csv: disk full", datetime(2026, 11, 29, 2, tzinfo=UTC))
    assert parse_last_run(last_run_text(run)) == run
    (tmp_path / contract.LAST_RUN_FILE).write_text(last_run_text(run), encoding="utf-8")
    assert read_last_run(tmp_path) == run
    assert read_last_run(tmp_path / "missing") is None
    for text in ('{"run_id": 1', "[1, 2]", '{"finished_at": "yesterday"}', "\xff"):
        assert parse_last_run(text) is None, text


def test_the_stage_history_is_the_window_before_local_midnight():
    hs, he = stage_history(date(2026, 11, 29), "Asia/Shanghai")
    assert he.isoformat() == "2026-11-29T00:00:00+08:00"
    assert (he - hs).days == contract.STAGE_HISTORY_DAYS == 28
    assert "$hs" in contract.stage_quantiles_sql() and "$he" in contract.stage_quantiles_sql()
