"""The analyst map's overlay registry: the records, the pure transforms on tiny frames, the queries on the demo."""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pandas as pd
import pytest

from data.snapshot import read_current
from layers import registry
from metrics.scope import Scope, Window
from tests.conftest import FIXTURE_NOW

TZ = "Asia/Shanghai"
# clustered rows as the queries return them (grp, n, lon, lat, label)
ASSETS = pd.DataFrame([
    ("camera.online", 2, 120.20, 30.20, "CAM1"), ("camera.offline", 1, 120.21, 30.21, "CAM2"),
    ("staff.busy", 1, 120.1, 30.1, "ST1"), ("staff.offline", 1, 120.1, 30.1, "ST2"),
    ("supply_depot.online", 1, 120.3, 30.3, "DEP1"),
], columns=["grp", "n", "lon", "lat", "label"])


@pytest.fixture
def con(small_demo):
    c = duckdb.connect(str(read_current(small_demo.current_file).path), read_only=True)
    yield c
    c.close()


def test_every_layer_is_a_complete_record_with_a_worded_label():
    from dashboard.i18n import TEXT

    assert list(registry.LAYERS) == ["cases", "cameras", "depots", "staff"]
    for key, layer in registry.LAYERS.items():
        assert layer.key == key and layer.label in TEXT and callable(layer.query) and callable(layer.transform)
        assert layer.transform(pd.DataFrame(columns=ASSETS.columns)) == []
    with pytest.raises(KeyError):
        registry.get("nonsense")


def test_parse_keys_keeps_known_keys_in_registry_order():
    assert registry.parse_keys("staff,cases,cases,x") == ("cases", "staff")
    assert registry.parse_keys(None) == () and registry.parse_keys("") == ()


def test_asset_transforms_split_by_status_and_leave_off_duty_staff_out():
    cams = registry.camera_traces(ASSETS)
    assert [t["name"] for t in cams] == ["camera.online", "camera.offline"]
    assert [t["customdata"] for t in cams] == [[2], [1]] and cams[1]["hovertext"] == ["CAM2"]
    assert cams[0]["marker"]["color"] != cams[1]["marker"]["color"]
    staff = registry.staff_traces(ASSETS)
    assert [(t["name"], t["hovertext"]) for t in staff] == [("staff.busy", ["ST1"])]  # ST2 is off duty
    depots = registry.depot_traces(ASSETS)
    assert [t["name"] for t in depots] == ["depot.online"] and all(t["type"] == "scattergeo" for t in depots)


def test_a_cell_of_one_is_a_labelled_dot_and_a_cell_of_many_a_bubble_with_its_count():
    df = pd.DataFrame({"grp": ["cases"] * 3, "n": [1, 9, 2400], "lon": [120.1, 120.2, 120.3],
                       "lat": [30.1, 30.2, 30.3], "label": ["A · X", "B · Y", "C · Z"]})
    (trace,) = registry.case_traces(df)
    assert trace["type"] == "scattergeo" and trace["customdata"] == [1, 9, 2400]
    assert trace["hovertext"] == ["A · X", "9", "2400"] and trace["text"] == ["", "9", "2400"]
    small, mid, big = trace["marker"]["size"]
    assert small == 7 < mid < big <= 30


def _cases_in(con, scope_sql: str, params: list) -> int:
    return con.execute(f"SELECT count(*) FROM events WHERE {scope_sql} AND received_at >= ? AND received_at < ? "
                       "AND lon IS NOT NULL AND lat IS NOT NULL", params).fetchone()[0]


def test_case_points_are_clustered_in_the_database_and_none_is_lost(con, small_demo):
    scope = Scope("330108002", categories=("ENV",), level="street")
    window = Window.named("7d", FIXTURE_NOW, TZ)
    df = registry.get("cases").query(con, scope, window, FIXTURE_NOW, small_demo)
    n = _cases_in(con, "street_id = '330108002' AND (category_l1 = 'ENV' OR category_id = 'ENV')",
                  [window.start, window.end])
    assert n > 0 and int(df["n"].sum()) == n and set(df["grp"]) == {"cases"}
    assert len(df) < n  # some cells hold several cases
    # cells are at most CELLS along the longer side: never more marks than CELLS x CELLS
    whole = registry.case_points(con, Scope("330108", level="district"), Window.named("90d", FIXTURE_NOW, TZ),
                                 FIXTURE_NOW, small_demo)
    assert len(whole) <= registry.CELLS ** 2
    # a cell of one names its case and its category, in Chinese and in English
    one = df[df["n"] == 1].iloc[0]
    case_id = one["label"].split(" · ")[0]
    name, name_en = con.execute("SELECT c.name, c.name_en FROM events e JOIN categories c USING (category_id) "
                                "WHERE e.case_id = ?", [case_id]).fetchone()
    assert one["label"] == f"{case_id} · {name}" and one["label_en"] == f"{case_id} · {name_en or name}"
    lon, lat = con.execute("SELECT lon, lat FROM events WHERE case_id = ?", [case_id]).fetchone()
    assert (one["lon"], one["lat"]) == pytest.approx((lon, lat))
    # finer cells make more marks, with the same total
    fine = registry.case_points(con, scope, window, FIXTURE_NOW, small_demo, cells=400)
    assert len(fine) > len(df) and int(fine["n"].sum()) == n
    # nothing after the as-of time: a window ending later is clipped to it
    later = Window(window.start, FIXTURE_NOW + timedelta(days=3), "custom")
    assert int(registry.case_points(con, scope, later, FIXTURE_NOW, small_demo)["n"].sum()) == n


def test_asset_queries_count_the_assets_of_the_area(con, small_demo):
    window = Window.named("7d", FIXTURE_NOW, TZ)
    scope = Scope("330108001", level="street")
    expected = dict(con.execute(
        "SELECT x.kind, count(*) FROM assets x JOIN areas a ON a.area_id = x.microgrid_id "
        "WHERE a.street_id = '330108001' GROUP BY x.kind").fetchall())
    for key, kind in (("cameras", "camera"), ("depots", "supply_depot"), ("staff", "staff")):
        df = registry.get(key).query(con, scope, window, FIXTURE_NOW, small_demo)
        assert int(df["n"].sum()) == expected.get(kind, 0) and {g.split(".")[0] for g in df["grp"]} <= {kind}
    assert expected.get("camera", 0) > 0


def test_asset_points_without_an_assets_table_are_empty():
    c = duckdb.connect()
    c.execute("CREATE TABLE areas (area_id VARCHAR, level VARCHAR, street_id VARCHAR)")
    df = registry.asset_points(c, Scope("S1", level="street"), ("camera",))
    assert df.empty and list(df.columns) == ["grp", "n", "lon", "lat", "label", "label_en"]
