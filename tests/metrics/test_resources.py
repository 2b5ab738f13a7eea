"""Resources per area and for the whole scope, against hand counts on a tiny warehouse.

The synthetic district (``tests/metrics/conftest.py``: one street, two communities of 4,000
residents, four grids, eight micro-grids) gets a handful of people, housing units, enterprises
and assets placed by hand; every expected number below is counted from that list, not computed.
The totals are also checked against the vital signs on the demo (the same rules must give the
same camera and staff shares).
"""

from __future__ import annotations

import math
from datetime import timedelta

import pandas as pd
import pytest

from data.snapshot import publish
from metrics import cache
from metrics.resources import assets_status, resources_by_area, resources_loaded, resources_now
from metrics.scope import Scope, Window
from metrics.vitals import vital_signs
from tests.conftest import FIXTURE_NOW, open_work
from tests.metrics.conftest import SYN_STREET, build_warehouse, open_cursor, synthetic_events

C1, C2 = f"{SYN_STREET}001", f"{SYN_STREET}002"  # communities: grids G001, G002 and G003, G004
T = FIXTURE_NOW - timedelta(days=1)

# (kind, age band, micro-grid, elderly alone, key care)
PEOPLE = [("registered", "35-59", "G001-1", False, False), ("registered", "80+", "G001-1", True, False),
          ("floating", "18-34", "G001-1", False, False), ("floating", "18-34", "G003-2", False, True),
          ("floating", "0-17", "G003-2", False, False)]
# (unit, building, micro-grid, rental)
HOUSING = [("G001-1-B01-1", "G001-1-B01", "G001-1", True), ("G001-1-B01-2", "G001-1-B01", "G001-1", False),
           ("G002-1-B01-1", "G002-1-B01", "G002-1", True)]
# (id, risk, employees, micro-grid)
ENTERPRISES = [("E1", "high", 10, "G004-1"), ("E2", "low", 5, "G004-1")]
# (id, kind, status, department, micro-grid)
ASSETS = [("CAM1", "camera", "online", None, "G001-1"), ("CAM2", "camera", "offline", None, "G001-2"),
          ("CAM3", "camera", "busy", None, "G003-1"),
          ("STF1", "staff", "online", "D-A", "G001-1"), ("STF2", "staff", "busy", "D-B", "G002-2"),
          ("STF3", "staff", "offline", "D-A", "G004-2"),
          ("VEH1", "vehicle", "online", "D-A", "G003-1"), ("VEH2", "vehicle", "busy", "D-A", "G003-2"),
          ("AED1", "aed", "online", None, "G004-1")]


def _insert(con, table: str, frame: pd.DataFrame) -> None:
    con.register("res_df", frame)
    con.execute(f"INSERT INTO {table} ({', '.join(frame.columns)}) SELECT * FROM res_df")
    con.unregister("res_df")


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    """The synthetic warehouse with the hand-placed resources, published."""
    settings = build_warehouse(tmp_path_factory.mktemp("res") / "var", synthetic_events(FIXTURE_NOW, weeks=1))
    con = open_work(settings)
    try:
        _insert(con, "people", pd.DataFrame([
            {"person_key": f"P{i}", "kind": k, "age_band": age, "microgrid_id": mg, "flag_elderly_alone": alone,
             "flag_disability": False, "flag_low_income": False, "flag_key_care": care, "updated_at": T}
            for i, (k, age, mg, alone, care) in enumerate(PEOPLE)]))
        _insert(con, "housing", pd.DataFrame([
            {"unit_id": u, "building_id": b, "microgrid_id": mg, "kind": "residential", "is_rental": r,
             "occupants": 2, "updated_at": T} for u, b, mg, r in HOUSING]))
        _insert(con, "enterprises", pd.DataFrame([
            {"enterprise_id": e, "industry": "retail", "size": "micro", "risk_level": risk, "employees": n,
             "microgrid_id": mg, "updated_at": T} for e, risk, n, mg in ENTERPRISES]))
        _insert(con, "assets", pd.DataFrame([
            {"asset_id": a, "kind": k, "status": s, "department_id": d, "microgrid_id": mg, "updated_at": T}
            for a, k, s, d, mg in ASSETS]))
        publish(con, settings.warehouse_dir, run_id=2)
    finally:
        con.close()
    cache.clear_caches()
    cur = open_cursor(settings)
    yield settings, cur
    cur.close()


def test_by_community_matches_the_hand_counts(hand):
    settings, con = hand
    df = resources_by_area(con, Scope("330108"), "community", FIXTURE_NOW, settings).set_index("area_id")
    assert list(df.index) == [C1, C2]
    c1, c2 = df.loc[C1], df.loc[C2]
    assert (c1.people, c1.registered, c1.floating, c1.aged_60_plus, c1.elderly_alone, c1.key_care) == (3, 2, 1, 1, 1, 0)
    assert (c2.people, c2.registered, c2.floating, c2.aged_60_plus, c2.elderly_alone, c2.key_care) == (2, 0, 2, 0, 0, 1)
    assert (c1.housing_units, c1.buildings, c1.rental_units) == (3, 2, 2)
    assert (c2.housing_units, c2.buildings, c2.rental_units) == (0, 0, 0)
    assert (c1.enterprises, c2.enterprises, c2.high_risk_enterprises, c2.employees) == (0, 2, 1, 15)
    # camera "busy" counts as online (only "offline" is down); staff on duty = online or busy
    assert (c1.cameras, c1.cameras_online, c1.cameras_offline) == (2, 1, 1)
    assert (c2.cameras, c2.cameras_online, c2.cameras_offline) == (1, 1, 0)
    assert (c1.staff, c1.staff_on_duty, c2.staff, c2.staff_on_duty) == (2, 2, 1, 0)
    assert (c2.vehicles, c2.vehicles_free, c2.aeds, c1.aeds) == (2, 1, 1, 0)
    assert c2.enterprises_per_10k == pytest.approx(2 * 10_000 / 4000)
    assert c1.cameras_per_10k == pytest.approx(2 * 10_000 / 4000)
    assert c1.rental_pct == pytest.approx(200 / 3)
    assert math.isnan(c2.rental_pct)  # no housing: no share, not 0 %
    assert c1.cameras_online_pct == pytest.approx(50.0)


def test_every_area_of_the_level_has_a_row_zeros_included(hand):
    settings, con = hand
    df = resources_by_area(con, Scope("G001"), "microgrid", FIXTURE_NOW, settings).set_index("area_id")
    assert list(df.index) == ["G001-1", "G001-2"]
    assert df.loc["G001-2", ["people", "housing_units", "enterprises", "staff"]].tolist() == [0, 0, 0, 0]
    assert df.loc["G001-2", "cameras"] == 1
    grids = resources_by_area(con, Scope(C2), "grid", FIXTURE_NOW, settings)
    assert grids["area_id"].tolist() == ["G003", "G004"]
    assert grids["people"].tolist() == [2, 0] and grids["enterprises"].tolist() == [0, 2]


def test_totals_are_the_scope_itself_and_the_sum_of_its_children(hand):
    settings, con = hand
    total = resources_now(con, Scope("330108"), FIXTURE_NOW, settings)
    assert (total["people"], total["housing_units"], total["enterprises"]) == (5, 3, 2)
    assert (total["cameras"], total["cameras_online"], total["staff"], total["staff_on_duty"]) == (3, 2, 3, 2)
    assert total["cameras_online_pct"] == pytest.approx(200 / 3)
    kids = resources_by_area(con, Scope("330108"), "grid", FIXTURE_NOW, settings)
    for col in ("people", "housing_units", "enterprises", "cameras", "staff", "staff_on_duty", "vehicles", "aeds"):
        assert kids[col].sum() == total[col], col
    street = resources_now(con, Scope(SYN_STREET), FIXTURE_NOW, settings)
    assert street["area_id"] == SYN_STREET and street["people"] == 5


def test_the_department_filter_narrows_the_staff_only(hand):
    settings, con = hand
    total = resources_now(con, Scope("330108", departments=("D-A",)), FIXTURE_NOW, settings)
    assert (total["staff"], total["staff_on_duty"]) == (2, 1)
    assert (total["cameras"], total["vehicles"], total["people"]) == (3, 2, 5)
    status = assets_status(con, Scope("330108", departments=("D-A",)), FIXTURE_NOW, settings).set_index("kind")
    assert status.loc["staff"].tolist() == [1, 0, 1, 2]  # online, busy, offline, total
    assert status.loc["camera"].tolist() == [1, 1, 1, 3]


def test_no_camera_no_share(hand):
    settings, con = hand
    total = resources_now(con, Scope("G002"), FIXTURE_NOW, settings)
    assert total["cameras"] == 0 and total["cameras_online_pct"] is None
    assert total["staff_on_duty_pct"] == pytest.approx(100.0)


def test_loaded_tables_are_counted_over_the_whole_warehouse(hand, quiet_warehouse):
    settings, con = hand
    assert resources_loaded(con, FIXTURE_NOW, settings) == {"people": 5, "housing": 3, "enterprises": 2, "assets": 9}
    cur = open_cursor(quiet_warehouse)
    try:
        assert resources_loaded(cur, FIXTURE_NOW, quiet_warehouse) == dict.fromkeys(
            ("people", "housing", "enterprises", "assets"), 0)
    finally:
        cur.close()


def test_level_above_the_scope_is_refused(hand):
    settings, con = hand
    with pytest.raises(ValueError):
        resources_by_area(con, Scope("G001"), "community", FIXTURE_NOW, settings)


@pytest.mark.parametrize("departments", [(), ("D-CG",)])
def test_totals_equal_the_vital_signs_on_the_demo(demo, departments):
    con = demo.cursor()
    try:
        for area in ("330108", "330108002"):
            scope = Scope(area, departments=departments)
            window = Window.named("today", demo.now, demo.settings.timezone)
            vs = {m.key: m.value for m in vital_signs(con, scope, window, demo.now, demo.settings).metrics}
            total = resources_now(con, scope, demo.now, demo.settings)
            assert total["cameras_online_pct"] == pytest.approx(vs["cameras_online_pct"])
            assert total["staff_on_duty_pct"] == pytest.approx(vs["staff_on_duty_pct"])
            # and the pandas count of the assets table, independently
            a = demo.assets.merge(demo.areas[["area_id", "street_id"]], left_on="microgrid_id", right_on="area_id")
            if area != "330108":
                a = a[a["street_id"] == area]
            cams = a[a["kind"] == "camera"]
            assert total["cameras"] == len(cams)
            assert total["cameras_online"] == int((cams["status"] != "offline").sum())
    finally:
        con.close()
