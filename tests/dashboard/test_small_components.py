"""Resources table, worst-areas list and map caption."""

from __future__ import annotations

import pandas as pd

from dashboard.components.resources import resource_table
from dashboard.components.worst import map_title, worst_list
from layers import resources, worst

SUMMARY = resources.transform(pd.DataFrame([
    ("S1", "东湖街道", "Donghu Street", "camera", 9, 0, 1, 10),
    ("S2", "南山街道", "Nanshan Street", "camera", 4, 0, 0, 4),
    ("S2", "南山街道", "Nanshan Street", "staff", 1, 1, 2, 4),
], columns=list(resources.COLUMNS)))


def test_resource_table_rows_and_bars():
    rows = resource_table(SUMMARY, "zh")
    assert [c.children for c in rows[0].children] == ["街道", "摄像头在线", "在岗人员", "可用车辆"]
    s2 = rows[2]
    assert s2.children[0].children == "南山街道" and getattr(s2, "data-street") == "S2"
    staff = s2.children[2]
    assert (getattr(staff, "data-available"), getattr(staff, "data-total")) == ("2", "4")
    assert staff.children[1].children.style == {"width": "50%"}
    assert rows[-1].children[0].children == "合计" and rows[-1].className.endswith("gp-res-total-row")
    assert resource_table(SUMMARY, "en")[1].children[0].children == "Donghu Street"
    for nothing in (None, SUMMARY.iloc[0:0]):  # no assets at all: the panel says so instead of an empty grid
        (only,) = resource_table(nothing, "en")
        assert only.children == "No resources data (cameras, staff, vehicles)"


def test_worst_list_and_caption():
    aligned = pd.DataFrame({"area_id": ["A", "B"], "name": ["微网格 001-1", "微网格 001-2"],
                            "name_en": ["Micro-grid 001-1", "Micro-grid 001-2"], "centroid_lon": [1, 2],
                            "centroid_lat": [1, 2], "cases": [5, 9], "open": [2, 3], "overdue": [0, 1],
                            "per_10k": [1.0, 2.0]})
    rows = worst_list(worst.rank(aligned, "cases", 5), "cases", "zh")
    assert [getattr(r, "data-area") for r in rows] == ["B", "A"]
    assert [c.children for c in rows[0].children] == ["①", "微网格 001-2", "9", "在办 3 · 超期 1"]
    assert worst_list(None, "cases", "zh")[0].children == "—"
    assert [c.children for c in map_title("open", "grid", "en")] == ["Open cases", "Grids"]
    assert [c.children for c in map_title("cases", "microgrid", "zh", "东湖街道")][-1] == "东湖街道"
