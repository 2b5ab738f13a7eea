"""Mapped CSV and Excel exports: encodings, Chinese headers, missing columns, the times-win rule, due dates."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from data.sources import SourceFileError, parse_mapping, read_source
from tests.data.conftest import assert_counts_add_up
from tests.data.sources.conftest import land_areas, loaded, quarantined, run_import

SH = ZoneInfo("Asia/Shanghai")
CELL = (120.0, 30.0, 120.1, 30.1)  # one finest area, id "MG1", somewhere in Zhejiang
HOTLINE = {  # a 12345 hotline export with Chinese headers
    "source": {"name": "hotline-12345", "kind": "table", "encoding": "gb18030", "timezone": "Asia/Shanghai",
               "datetime_formats": ["%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]},
    "fields": {"case_id": "工单编号", "received_at": "受理时间", "closed_at": "办结时间", "due_at": "办理时限",
               "category": "问题分类", "category_parent": "大类", "department": "承办单位", "status": "状态",
               "lon": "经度", "lat": "纬度", "channel": {"const": "hotline"}, "urgency": "紧急程度"},
    "status": {"map": {"已办结": "closed", "处理中": "dispatched", "待受理": "received", "已撤销": "cancelled"},
               "default": "received"},
    "urgency": {"map": {"紧急": "urgent"}, "default": "normal"},
    "placement": {"area": "网格编号"},
}
ROWS = [  # id, received, closed, due, category, parent, dept, status, lon, lat, urgency, area
    ("A1", "2026/11/20 09:00:00", "2026/11/21 10:00:00", "2026/11/23 17:00:00", "噪音扰民", "环境", "城管局", "已办结",
     "120.05", "30.05", "一般", ""),
    ("A2", "2026/11/20 09:30:00", "", "", "道路破损", "市政", "住建局", "已办结", "120.05", "30.05", "紧急", ""),
    ("A3", "2026/11/20 10:00:00", "2026/11/20 12:00:00", "", "噪音扰民", "环境", "城管局", "待受理", "", "", "一般", "MG1"),
    ("A4", "2026-11-20 11:00", "", "2026/11/19 17:00:00", "噪音扰民", "环境", "城管局", "待受理", "120.05", "30.05",
     "一般", ""),
    ("A5", "20.11.2026", "", "", "噪音扰民", "环境", "城管局", "待受理", "120.05", "30.05", "一般", ""),
    ("", "2026/11/20 12:00:00", "", "", "噪音扰民", "环境", "城管局", "待受理", "120.05", "30.05", "一般", ""),
]
HEADERS = ["工单编号", "受理时间", "办结时间", "办理时限", "问题分类", "大类", "承办单位", "状态", "经度", "纬度", "紧急程度",
           "网格编号"]


@pytest.fixture
def zhejiang(tmp_path):
    from tests.conftest import settings_for

    s = settings_for(tmp_path / "var", timezone="Asia/Shanghai")
    land_areas(s, {"MG1": CELL})
    return s


def _frame() -> pd.DataFrame:
    return pd.DataFrame(ROWS, columns=HEADERS)


def _check_loaded(settings, res) -> None:
    """The six rows: four loaded, two quarantined with their reasons, due dates and the times-win rule applied."""
    assert_counts_add_up(settings, res.cycle)
    ev = [f for f in res.cycle.files if f.table == "events"][0]
    assert (ev.rows_in, ev.rows_loaded, ev.rows_quarantined) == (6, 3, 3)
    # landing line = source row + 1 (the header): A4 due before received, A5 unreadable date, the row without id
    assert quarantined(settings, res.cycle.run_id) == [(5, "due_before_received"), (6, "bad_timestamp"),
                                                      (7, "missing_value")]
    cases = loaded(settings)
    assert set(cases) == {"A1", "A2", "A3"}
    assert cases["A1"][0] == "closed" and cases["A1"][3] == datetime(2026, 11, 23, 17, tzinfo=SH)
    assert cases["A1"][1] == datetime(2026, 11, 20, 9, tzinfo=SH)
    assert cases["A2"][0] == "received" and cases["A2"][2] is None  # "已办结" without 办结时间: the times win
    assert cases["A3"][0] == "closed" and cases["A3"][4] == "MG1"  # "待受理" with 办结时间; placed by its grid id
    assert res.converted.status_changed == 2


def test_a_gb18030_csv_with_chinese_headers_loads(zhejiang, tmp_path):
    path = tmp_path / "12345.csv"
    _frame().to_csv(path, index=False, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        path.read_text(encoding="utf-8")  # really not UTF-8
    _check_loaded(zhejiang, run_import(zhejiang, HOTLINE, [path]))


def test_an_xlsx_with_chinese_headers_loads(zhejiang, tmp_path):
    path = tmp_path / "12345.xlsx"
    _frame().to_excel(path, index=False, sheet_name="工单")
    mapping = {**HOTLINE, "source": {**HOTLINE["source"], "sheet": "工单"}}
    _check_loaded(zhejiang, run_import(zhejiang, mapping, [path]))


def test_excel_date_cells_load_through_the_spreadsheet_format(zhejiang, tmp_path):
    df = _frame().iloc[:1].copy()
    df["受理时间"] = [pd.Timestamp("2026-11-20 09:00:00")]  # a real date cell, not text
    path = tmp_path / "dates.xlsx"
    df.to_excel(path, index=False)
    res = run_import(zhejiang, HOTLINE, [path])
    assert res.cycle.rows_quarantined == 0
    assert loaded(zhejiang)["A1"][1] == datetime(2026, 11, 20, 9, tzinfo=SH)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_utf8_with_or_without_a_byte_order_mark_loads(zhejiang, tmp_path, encoding):
    path = tmp_path / "12345.csv"
    _frame().to_csv(path, index=False, encoding=encoding)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    mapping = {**HOTLINE, "source": {**HOTLINE["source"], "encoding": "utf-8"}}
    _check_loaded(zhejiang, run_import(zhejiang, mapping, [path]))


def test_a_gbk_file_read_as_utf8_fails_with_a_message_naming_the_encoding(tmp_path):
    path = tmp_path / "12345.csv"
    _frame().to_csv(path, index=False, encoding="gbk")
    mapping = parse_mapping({**HOTLINE, "source": {**HOTLINE["source"], "encoding": "utf-8"}})
    with pytest.raises(SourceFileError, match="cannot decode the file as utf-8-sig.*encoding"):
        read_source(mapping, [path])


def test_a_missing_column_fails_at_once_listing_the_files_columns(zhejiang, tmp_path):
    path = tmp_path / "12345.csv"
    _frame().drop(columns=["办理时限"]).to_csv(path, index=False, encoding="gb18030")
    with pytest.raises(SourceFileError) as err:
        run_import(zhejiang, HOTLINE, [path])
    msg = str(err.value)
    assert "办理时限" in msg.split("The file's columns are")[0]
    assert "The file's columns are: 工单编号, 受理时间, 办结时间, 问题分类" in msg
    assert not (zhejiang.landing_dir / "events").exists()  # nothing landed


def test_reference_rows_are_delta_extracts_that_add_to_what_is_there(zhejiang, tmp_path):
    path = tmp_path / "12345.csv"
    _frame().to_csv(path, index=False, encoding="gb18030")
    run_import(zhejiang, HOTLINE, [path])
    other = {**HOTLINE, "source": {**HOTLINE["source"], "name": "second"}}
    df = _frame().iloc[:1].assign(工单编号="B1", 问题分类="占道经营")
    df.to_csv(path, index=False, encoding="gb18030")
    run_import(zhejiang, other, [path])
    from tests.data.conftest import query

    cats = dict(query(zhejiang, "SELECT category_id, parent_id FROM categories WHERE level = 2"))
    assert cats == {"噪音扰民": "环境", "道路破损": "市政", "占道经营": "环境"}
    assert set(loaded(zhejiang)) == {"A1", "A2", "A3", "B1"}
