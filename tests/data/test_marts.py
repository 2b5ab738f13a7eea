"""Marts agree with each other on what "open" means: no closure (or cancellation) time, as every query reads it."""

from __future__ import annotations

from data.marts import refresh_all
from data.warehouse import apply_schema, connect

_AREA = "INSERT INTO areas VALUES (?, ?, ?, ?, ?, ?, ?, ?, 100, NULL, 1.0, 0, 0, ''::BLOB, '{}', '{}')"
_CASE = ("INSERT INTO events (case_id, channel, category_id, category_l1, urgency, route, department_id, "
         "needs_dispatch, microgrid_id, grid_id, community_id, street_id, received_at, accepted_at, closed_at, "
         "status, updated_at) VALUES (?, 'qr', 'ENV-01', 'ENV', 'normal', 'auto', 'DEP', false, 'M1', 'G1', 'C1', "
         "'S1', now() - INTERVAL 2 HOUR, now() - INTERVAL 119 MINUTE, ?, ?, now())")


def test_area_stats_counts_open_cases_as_the_open_cases_mart_does():
    con = connect(":memory:", "Asia/Shanghai")
    apply_schema(con)
    for row in (("D", "district", None, None, None, None), ("S1", "street", "D", "S1", None, None),
                ("C1", "community", "S1", "S1", "C1", None), ("G1", "grid", "C1", "S1", "C1", "G1"),
                ("M1", "microgrid", "G1", "S1", "C1", "G1")):
        area_id, level, parent, street, community, grid = row
        con.execute(_AREA, [area_id, level, area_id, area_id, parent, street, community, grid])
    closed_at = con.execute("SELECT now() - INTERVAL 1 HOUR").fetchone()[0]
    # what a source can send before validation catches it, or an older warehouse holds: status and time disagree
    for case_id, closed, status in (("open", None, "accepted"), ("status-open-but-closed", closed_at, "in_progress"),
                                    ("status-closed-but-open", None, "closed"), ("cancelled-but-open", None, "cancelled"),
                                    ("done", closed_at, "closed")):
        con.execute(_CASE, [case_id, closed, status])
    refresh_all(con)
    open_cases = con.execute("SELECT count(*) FROM mart_open_cases").fetchone()[0]
    assert open_cases == 3  # the ones with no closure time, whatever their status says
    stats = dict(con.execute("SELECT area_id, open_now FROM mart_area_stats").fetchall())
    assert stats == {"D": open_cases, "S1": open_cases, "C1": open_cases, "G1": open_cases, "M1": open_cases}
