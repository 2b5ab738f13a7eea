"""The SLA ticker: which rows, in which order, with which countdown text."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from dashboard.components.ticker import risk_summary, ticker, ticker_rows

NOW = datetime(2026, 11, 25, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def _risk(rows):
    cols = ["case_id", "stage", "seconds_left", "level", "category_name", "category_name_en", "grid_id",
            "microgrid_id", "department_name", "department_name_en"]
    df = pd.DataFrame(rows, columns=cols)
    df["due_at"] = [NOW + timedelta(seconds=s) for s in df["seconds_left"]]
    return df


RISK = _risk([
    ("C1", "close", -3 * 86400, "breached", "道路破损", "Damaged road", "G001", "G001-1", "区城管局", "City Mgmt"),
    ("C2", "accept", -20, "breached", "施工噪音", "Noise", "G002", "G002-3", "生态环境分局", "Ecology"),
    ("C3", "dispatch", 45, "red", "违停占道", "Parking", "G003", "G003-1", "公安分局", "Police"),
    ("C4", "close", 7200, "amber", "电梯故障", "Lift", "G004", "G004-2", "区住建局", "Housing"),
    ("C5", "close", 90000, "ok", "路灯不亮", "Light out", "G005", "G005-1", "区城管局", "City Mgmt"),
])


def test_rows_are_a_timeline_of_recent_breaches_and_next_deadlines_without_ok():
    assert ticker_rows(RISK, 10)["case_id"].tolist() == ["C1", "C2", "C3", "C4"]
    assert ticker_rows(RISK, 3)["case_id"].tolist() == ["C2", "C3", "C4"]  # the 3-day-old breach drops first
    assert ticker_rows(RISK, 2)["case_id"].tolist() == ["C2", "C3"]
    assert ticker_rows(RISK.iloc[0:0], 3).empty


def test_breaches_fill_the_rows_when_few_deadlines_are_ahead():
    late = _risk([(f"L{i}", "close", -60 * (i + 1), "breached", "c", "c", "g", "m", "d", "d") for i in range(6)])
    ahead = _risk([("A1", "accept", 20, "red", "c", "c", "g", "m", "d", "d")])
    rows = ticker_rows(pd.concat([late, ahead]), 6)
    assert rows["case_id"].tolist() == ["L4", "L3", "L2", "L1", "L0", "A1"]
    many = _risk([(f"A{i}", "accept", 10 * i, "amber", "c", "c", "g", "m", "d", "d") for i in range(9)])
    rows = ticker_rows(pd.concat([late, many]), 6)
    assert rows["case_id"].tolist() == ["L1", "L0", "A0", "A1", "A2", "A3"]


def test_summary_counts_the_whole_list():
    assert risk_summary(RISK) == (2, 2)
    assert risk_summary(None) == (0, 0)


def _rows(children):
    return children[1].children


def test_row_markup_carries_the_deadline_for_the_browser_countdown():
    children = ticker(RISK, "zh", 3)
    assert children[0].children == "已超时 2 · 临近 2"
    rows = _rows(children)
    assert [getattr(r, "data-case") for r in rows] == ["C2", "C3", "C4"]
    assert rows[0].children[6].children == "C2"
    late = rows[0].children
    assert late[1].children == "超00:20" and late[2].children == "受理"
    assert getattr(late[1], "data-due") == str(int((NOW - timedelta(seconds=20)).timestamp() * 1000))
    assert rows[0].className == "gp-sla-row gp-r-breached" and late[0].children == "■"
    assert rows[1].children[0].children == "▲" and rows[2].children[0].children == "△"  # shapes, not colour alone
    soon = rows[1].children
    assert soon[1].children == "00:45" and soon[3].children == "违停占道" and soon[4].children == "G003-1"
    assert rows[2].children[1].children == "2:00:00"
    assert getattr(children[1], "data-late") == "超"


def test_english_and_empty():
    rows = _rows(ticker(RISK, "en", 5))
    assert rows[1].children[1].children == "+00:20" and rows[1].children[5].children == "Ecology"
    assert rows[0].children[1].children == "+3d 00:00"
    empty = ticker(None, "en", 5)
    assert empty[1].children == "No case near its deadline"
