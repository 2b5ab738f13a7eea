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
ASSETS = pd.DataFrame([
    ("CAM1", "camera", "online", 120.20, 30.20, None), ("CAM2", "camera", "offline", 120.21, 30.21, None),
    ("CAM3", "camera", "online", 120.22, 30.22, None), ("ST1", "staff", "busy", 120.1, 30.1, "D-CG"),
    ("ST2", "staff", "offline", 120.1, 30.1, "D-CG"), ("DEP1", "supply_depot", "online", 120.3, 30.3, None),
], columns=["asset_id", "kind", "status", "lon", "lat", "department_id"])


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
        assert layer.transform(pd.DataFrame(columns=["case_id", "lon", "lat", "category_id", *ASSETS.columns])) == []
    assert registry.get("cases").limit == registry.CASE_POINTS_LIMIT
    with pytest.raises(KeyError):
        registry.get("nonsense")


def test_parse_keys_keeps_known_keys_in_registry_order():
    assert registry.parse_keys("staff,cases,cases,x") == ("cases", "staff")
    assert registry.parse_keys(None) == () and registry.parse_keys("") == ()


def test_asset_transforms_split_by_status_and_leave_off_duty_staff_out():
    cams = registry.camera_traces(ASSETS[ASSETS["kind"] == "camera"])
    assert [t["name"] for t in cams] == ["camera.online", "camera.offline"]
    assert [len(t["lon"]) for t in cams] == [2, 1] and cams[1]["text"] == ["CAM2"]
    assert cams[0]["marker"]["color"] != cams[1]["marker"]["color"]
    staff = registry.staff_traces(ASSETS[ASSETS["kind"] == "staff"])
    assert [(t["name"], t["text"]) for t in staff] == [("staff.busy", ["ST1"])]  # ST2 is off duty
    depots = registry.depot_traces(ASSETS[ASSETS["kind"] == "supply_depot"])
    assert [t["name"] for t in depots] == ["depot.online"] and all(t["type"] == "scattermap" for t in depots)


def test_case_points_are_clustered_by_maplibre():
    df = pd.DataFrame({"case_id": ["A", "B"], "lon": [120.1, 120.2], "lat": [30.1, 30.2], "category_id": ["X", "Y"]})
    (trace,) = registry.case_traces(df)
    assert trace["cluster"]["enabled"] is True and trace["lon"] == [120.1, 120.2]
    assert trace["text"] == ["A · X", "B · Y"]


def test_case_points_query_counts_the_window_and_asks_one_more_than_the_limit(con, small_demo):
    scope = Scope("330108002", categories=("ENV",), level="street")
    window = Window.named("7d", FIXTURE_NOW, TZ)
    df = registry.get("cases").query(con, scope, window, FIXTURE_NOW, small_demo)
    n = con.execute("SELECT count(*) FROM events WHERE street_id = '330108002' AND (category_l1 = 'ENV' OR "
                    "category_id = 'ENV') AND received_at >= ? AND received_at < ? AND lon IS NOT NULL",
                    [window.start, window.end]).fetchone()[0]
    assert 0 < len(df) == n
    cut = registry.case_points(con, scope, window, FIXTURE_NOW, small_demo, limit=10)
    assert len(cut) == 11  # one more than drawn: the page knows it had to cut
    assert cut["received_at"].is_monotonic_decreasing  # the newest are kept
    # nothing after the as-of time: a window ending later is clipped to it
    later = Window(window.start, FIXTURE_NOW + timedelta(days=3), "custom")
    assert len(registry.case_points(con, scope, later, FIXTURE_NOW, small_demo)) == n


def test_asset_queries_count_the_assets_of_the_area(con, small_demo):
    window = Window.named("7d", FIXTURE_NOW, TZ)
    scope = Scope("330108001", level="street")
    expected = dict(con.execute(
        "SELECT x.kind, count(*) FROM assets x JOIN areas a ON a.area_id = x.microgrid_id "
        "WHERE a.street_id = '330108001' GROUP BY x.kind").fetchall())
    for key, kind in (("cameras", "camera"), ("depots", "supply_depot"), ("staff", "staff")):
        df = registry.get(key).query(con, scope, window, FIXTURE_NOW, small_demo)
        assert len(df) == expected.get(kind, 0) and set(df["kind"]) <= {kind}
    assert expected.get("camera", 0) > 0


def test_asset_points_without_an_assets_table_are_empty():
    c = duckdb.connect()
    c.execute("CREATE TABLE areas (area_id VARCHAR, level VARCHAR, street_id VARCHAR)")
    df = registry.asset_points(c, Scope("S1", level="street"), ("camera",))
    assert df.empty and "lon" in df.columns
