"""The data commands fail with one line and a non-zero status, never a traceback."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from data import cli
from data.warehouse import connect

ROOT = Path(__file__).resolve().parents[2]


def _app(var_dir: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GRIDPULSE_VAR_DIR": str(var_dir)}
    env.pop("GRIDPULSE_DEBUG", None)
    return subprocess.run([sys.executable, "app.py", *argv], capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=120)


def _one_error_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, proc.stderr
    return errors[0]


def test_etl_while_another_process_holds_the_warehouse(etl_env):
    holder = connect(etl_env.work_db, etl_env.timezone)  # e.g. the scheduler inside `serve`
    try:
        proc = _app(etl_env.var_dir, "etl")
    finally:
        holder.close()
    assert proc.returncode == 1
    assert "Only one process may run the ETL" in _one_error_line(proc)


@pytest.mark.parametrize("argv", [("etl",), ("etl", "--status"), ("simulate", "--seconds", "0.1")])
def test_a_var_dir_that_is_not_a_folder(tmp_path, argv):
    var = tmp_path / "var"
    var.write_text("not a folder", encoding="utf-8")
    line = _one_error_line(_app(var, *argv))
    assert str(var) in line or "var" in line


def test_any_failure_is_one_line_and_status_1(monkeypatch, capsys, etl_env):
    def boom(settings, kind):
        raise ValueError("first line\nsecond line")

    monkeypatch.setattr(cli, "run_cycle", boom)
    assert cli.HANDLERS["etl"](etl_env, argparse.Namespace(status=False, reference=False)) == 1
    assert capsys.readouterr().err == "error: first line second line\n"
    with pytest.raises(ValueError):  # the debug setting shows the traceback
        cli.HANDLERS["etl"](etl_env.replace(debug=True), argparse.Namespace(status=False, reference=False))
