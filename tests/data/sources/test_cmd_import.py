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
