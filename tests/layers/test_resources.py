"""Resources by street: the pure transform on a tiny frame, and the query on the demo snapshot."""

from __future__ import annotations

import duckdb
import pandas as pd

from data.snapshot import read_current
from layers import resources
from metrics.scope import Scope

ROWS = pd.DataFrame([
    ("S1", "西兴街道", "Xixing", "camera", 9, 0, 1, 10),
    ("S1", "西兴街道", "Xixing", "staff", 3, 2, 5, 10),
    ("S1", "西兴街道", "Xixing", "vehicle", 1, 2, 1, 4),
    ("S2", "长河街道", "Changhe", "camera", 5, 0, 5, 10),
], columns=list(resources.COLUMNS))


def test_transform_counts_on_duty_and_free_correctly_and_adds_a_total():
    out = resources.transform(ROWS)
    s1 = out[out["street_id"] == "S1"].iloc[0]
    assert (s1.cameras_online, s1.cameras) == (9, 10)
    assert (s1.staff_on_duty, s1.staff) == (5, 10)  # online + busy (on a case) are on duty
    assert (s1.vehicles_free, s1.vehicles) == (1, 4)  # a busy vehicle is not available
    s2 = out[out["street_id"] == "S2"].iloc[0]
    assert (s2.staff, s2.vehicles) == (0, 0)  # kinds without rows are zero
    total = out.iloc[-1]
    assert total.street_id == resources.TOTAL_ID and (total.cameras_online, total.cameras) == (14, 20)


def test_transform_of_one_street_has_no_total_and_of_nothing_is_empty():
    assert len(resources.transform(ROWS[ROWS["street_id"] == "S2"])) == 1
    assert resources.transform(ROWS.iloc[0:0]).empty


def test_query_matches_a_direct_count(small_demo):
    con = duckdb.connect(str(read_current(small_demo.current_file).path), read_only=True)
    try:
        df = resources.query(con, Scope("330108"))
        assert list(df.columns) == list(resources.COLUMNS)
        direct = dict(con.execute("SELECT kind, count(*) FROM assets WHERE kind IN ('camera', 'staff', 'vehicle') "
                                  "GROUP BY kind").fetchall())
        assert df.groupby("kind")["total"].sum().to_dict() == direct
        assert (df["online"] + df["busy"] + df["offline"] == df["total"]).all()
        street = df["street_id"].iloc[0]
        one = resources.query(con, Scope(street))
        assert set(one["street_id"]) == {street}
        assert one["total"].sum() == df[df["street_id"] == street]["total"].sum()
    finally:
        con.close()
