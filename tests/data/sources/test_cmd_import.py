"""``python app.py import``: the summary it prints and its exit codes."""

from __future__ import annotations

import argparse

from data.sources import cmd_import
from tests.conftest import settings_for
from tests.data.sources.conftest import land_areas
from tests.data.sources.test_tabular import CELL, _frame


def test_import_prints_the_etl_summary_and_exits_0(tmp_path, capsys):
    settings = settings_for(tmp_path / "var", timezone="Asia/Shanghai")
    land_areas(settings, {"MG1": CELL})
    src = tmp_path / "src.toml"
    src.write_text("""
[source]
name = "hotline"
encoding = "gbk"
datetime_formats = ["%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M"]
[fields]
case_id = "工单编号"
received_at = "受理时间"
closed_at = "办结时间"
category = "问题分类"
lon = "经度"
lat = "纬度"
status = "状态"
[status]
map = { "已办结" = "closed" }
default = "received"
[placement]
area = "网格编号"
""", encoding="utf-8")
    data = tmp_path / "x.csv"
    _frame().to_csv(data, index=False, encoding="gbk")
    code = cmd_import(settings, argparse.Namespace(source=src, files=[data]))
    out = capsys.readouterr().out
    assert code == 0, out
    assert "import hotline (table): 6 rows from 1 file(s)" in out
    assert "status from the times (the times win): 2 rows" in out
    assert "ETL reference run 1: ok" in out
    assert "bad_timestamp" in out and "missing_value" in out
    assert "received_at: 1 values no datetime format reads" in out


def test_a_bad_mapping_exits_2_naming_the_key(tmp_path, capsys):
    settings = settings_for(tmp_path / "var")
    src = tmp_path / "src.toml"
    src.write_text('[source]\nname = "x"\nkind = "soap"\n', encoding="utf-8")
    assert cmd_import(settings, argparse.Namespace(source=src, files=[tmp_path / "none.csv"])) == 2
    assert "source.kind" in capsys.readouterr().err


def test_a_held_warehouse_takes_the_landed_files_back(tmp_path, monkeypatch, capsys):
    import data.etl
    import data.sources as sources

    settings = settings_for(tmp_path / "var", timezone="Asia/Shanghai")
    monkeypatch.setattr(sources, "_WRITER_WAIT_SECONDS", 0)
    calls = []

    def held(*a, **k):
        calls.append(1)
        raise RuntimeError("cannot open work.duckdb for writing: lock")

    monkeypatch.setattr(data.etl, "run_cycle", held)
    src = tmp_path / "src.toml"
    src.write_text('[source]\nname = "x"\n[fields]\ncase_id = "id"\nreceived_at = "t"\ncategory = "c"\n')
    data = tmp_path / "x.csv"
    data.write_text("id,t,c\n1,2026-01-01 08:00:00,noise\n")
    assert cmd_import(settings, argparse.Namespace(source=src, files=[data])) == 1
    assert len(calls) == sources._WRITER_ATTEMPTS
    assert "Nothing was imported" in capsys.readouterr().err
    assert [p for p in settings.landing_dir.rglob("*") if p.is_file()] == []
