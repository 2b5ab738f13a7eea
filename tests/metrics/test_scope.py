"""Scopes and windows: levels looked up in areas, predicates with bound parameters, nesting, window bounds."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from metrics.grids import grid_aggregates
from metrics.scope import Scope, UnknownAreaError, Window, area_level, child_level, district_area
from metrics.vitals import vital_signs

TZ = "Asia/Shanghai"


def _district(demo) -> str:
    return str(demo.areas.loc[demo.areas["level"] == "district", "area_id"].iloc[0])


def test_area_level_asks_the_areas_table_and_never_guesses(demo):
    con = demo.cursor()
    sample = demo.areas.groupby("level").head(1)
    for row in sample.itertuples():
        assert area_level(con, row.area_id) == row.level
    for shaped_like_an_id in ("G999-9", "330199", "nowhere"):  # a plausible id is no level
        with pytest.raises(UnknownAreaError, match=shaped_like_an_id):
            area_level(con, shaped_like_an_id)
    assert child_level("street") == "community" and child_level("microgrid") is None


def test_a_scope_has_no_default_area_and_no_guessed_level():
    with pytest.raises(TypeError):
        Scope()  # type: ignore[call-arg]
    assert Scope("330108").area_level is None and Scope("G023").area_level is None
    assert Scope("X", level="grid").area_level == "grid"


def test_resolved_looks_the_level_up_once(demo):
    con = demo.cursor()
    street = demo.areas[demo.areas["level"] == "street"]["area_id"].iloc[0]
    scope = Scope(street).resolved(con)
    assert scope.level == "street" and scope.resolved(con) is scope
    assert Scope(street).level_in(con) == "street"
    with pytest.raises(UnknownAreaError):
        Scope("nonexistent").resolved(con)


def test_district_area_is_the_warehouse_own(demo):
    d = district_area(demo.cursor())
    assert d is not None and d["area_id"] == _district(demo)
    row = demo.areas.set_index("area_id").loc[d["area_id"]]
    assert (d["name"], d["name_en"]) == (row["name"], row["name_en"]) and d["geojson_simple"].startswith("{")


def test_where_binds_every_value_and_counts_like_pandas(demo):
    scope = Scope("330108002", categories=("ENV", "TRAF-01"), channels=("qr",), departments=("D-HB", "D-GA"),
                  urgency="normal")
    sql, params = scope.where("e")
    assert "330108002" not in sql and "ENV" not in sql and "qr" not in sql  # values only in params
    got = demo.cursor().execute(f"SELECT count(*) FROM events e WHERE {sql}", params).fetchall()[0][0]
    ev = demo.events
    keep = ((ev["street_id"] == "330108002") & (ev["category_l1"].eq("ENV") | ev["category_id"].eq("TRAF-01"))
            & ev["channel"].eq("qr") & ev["department_id"].isin(["D-HB", "D-GA"]) & ev["urgency"].eq("normal"))
    assert got == keep.sum() > 0


def test_an_unresolved_scope_looks_its_level_up_in_sql_and_never_matches_any_level(demo):
    """A scope nobody resolved gives the same rows as the resolved one, and never 'every level'."""
    con = demo.cursor()
    for level in ("street", "community", "grid", "microgrid"):
        area = demo.areas[demo.areas["level"] == level]["area_id"].iloc[0]
        sql_any, params = Scope(area).where("e")
        assert " IN (e.street_id" not in sql_any and params == [area]
        sql_known, p_known = Scope(area).resolved(con).where("e")
        n_any = con.execute(f"SELECT count(*) FROM events e WHERE {sql_any}", params).fetchall()[0][0]
        n_known = con.execute(f"SELECT count(*) FROM events e WHERE {sql_known}", p_known).fetchall()[0][0]
        column = "microgrid_id" if level == "microgrid" else f"{level}_id"
        assert n_any == n_known == (demo.events[column] == area).sum() > 0
    district = Scope(_district(demo))
    n = con.execute(f"SELECT count(*) FROM events e WHERE {district.where('e')[0]}", district.where("e")[1]).fetchall()
    assert n[0][0] == len(demo.events)
    named, values = Scope("nonexistent").predicate("e")
    assert con.execute(f"SELECT count(*) FROM events e WHERE {named}", values).fetchall()[0][0] == 0


def test_a_district_typo_shows_nothing_rather_than_everything(demo):
    for scope in (Scope("330199"), Scope("330199", level="district")):
        sql, params = scope.where("e")
        assert demo.cursor().execute(f"SELECT count(*) FROM events e WHERE {sql}", params).fetchall()[0][0] == 0


def test_scopes_nest(demo):
    """A street's counts are the sum of its communities'; the district's the sum of its streets'."""
    con, now, s = demo.cursor(), demo.now, demo.settings
    window = Window.named("7d", now, TZ)

    def counts(scope):
        v = vital_signs(con, scope, window, now, s).by_key()
        return v["received"].value, v["open_backlog"].value, v["overdue_open"].value

    district = counts(Scope(_district(demo)))
    streets = demo.areas[demo.areas["level"] == "street"]["area_id"]
    per_street = [counts(Scope(a)) for a in streets]
    assert tuple(map(sum, zip(*per_street, strict=True))) == district
    street = streets.iloc[0]
    comms = grid_aggregates(con, Scope(street, level="street"), "community", window, now, s)
    street_row = grid_aggregates(con, Scope(_district(demo), level="district"), "street", window, now, s).set_index("area_id").loc[street]
    assert comms["cases"].sum() == street_row["cases"] == counts(Scope(street))[0]
    assert comms["open"].sum() == street_row["open"] and comms["overdue"].sum() == street_row["overdue"]


def test_named_windows():
    now = datetime(2026, 11, 25, 10, 30, tzinfo=ZoneInfo(TZ))
    today = Window.named("today", now, TZ)
    assert today.start == datetime(2026, 11, 25, tzinfo=ZoneInfo(TZ)) and today.end == now
    assert Window.named("7d", now, TZ).start == now - timedelta(days=7)
    assert Window.named("30d", now, TZ).seconds == 30 * 86400
    utc_now = now.astimezone(ZoneInfo("UTC"))  # 02:30 UTC: still the 25th in Shanghai
    assert Window.named("today", utc_now, TZ).start == today.start
    with pytest.raises(ValueError):
        Window.named("week", now, TZ)
    with pytest.raises(ValueError):
        Window.named("today", now.replace(tzinfo=None), TZ)
    with pytest.raises(ValueError):
        Window(now, now - timedelta(hours=1), "custom")
    assert today.shifted(7).start == today.start - timedelta(days=7)


def test_scope_validates_and_is_hashable():
    assert Scope("A", categories=["ENV"]).categories == ("ENV",)
    assert hash(Scope("330108001", channels=("qr",))) == hash(Scope("330108001", channels=["qr"]))
    with pytest.raises(ValueError):
        Scope("A", urgency="very")
    with pytest.raises(ValueError):
        Scope("A", level="planet")


# --- the deployment's own levels (issue 10) -------------------------------------------------------------------
def _three_level_warehouse(with_names: bool = True):
    """District T → regions R1, R2 → councils C1..C3 (no community or grid level), in memory."""
    import duckdb

    from data.warehouse import apply_schema

    con = duckdb.connect(":memory:")
    apply_schema(con)
    rows = [("T", "district", None, None), ("R1", "street", "T", "R1"), ("R2", "street", "T", "R2"),
            ("C1", "microgrid", "R1", "R1"), ("C2", "microgrid", "R1", "R1"), ("C3", "microgrid", "R2", "R2")]
    for area_id, level, parent, street in rows:
        con.execute("INSERT INTO areas (area_id, level, name, name_en, parent_id, street_id, residents, area_km2, "
                    "centroid_lon, centroid_lat, geometry_wkb, geojson, geojson_simple) "
                    "VALUES (?, ?, ?, ?, ?, ?, NULL, 1, 0, 0, ''::BLOB, '', '')",
                    [area_id, level, area_id, area_id, parent, street])
    if with_names:
        con.execute("INSERT INTO area_levels VALUES ('district', 0, '城市', 'City'), ('street', 1, '片区', 'Region'), "
                    "('microgrid', 2, '社区委员会', 'Neighborhood Council')")
    return con


def test_deployment_levels_come_from_area_levels_or_from_areas():
    from metrics.scope import Level, deployment_levels

    con = _three_level_warehouse()
    assert deployment_levels(con) == [Level("district", 0, "城市", "City"), Level("street", 1, "片区", "Region"),
                                      Level("microgrid", 2, "社区委员会", "Neighborhood Council")]
    bare = _three_level_warehouse(with_names=False)
    assert deployment_levels(bare) == [Level("district", 0), Level("street", 1), Level("microgrid", 2)]
    bare.execute("DROP TABLE area_levels")  # a snapshot older than the table
    assert [lv.level for lv in deployment_levels(bare)] == ["district", "street", "microgrid"]


def test_child_level_skips_the_slots_the_deployment_does_not_have_and_scopes_still_nest():
    from metrics.scope import areas_per_level, deployment_levels

    con = _three_level_warehouse()
    levels = deployment_levels(con)
    assert child_level("district", levels) == "street" and child_level("street", levels) == "microgrid"
    assert child_level("microgrid", levels) is None and child_level("street") == "community"
    assert areas_per_level(con, Scope("T", level="district")) == {"district": 1, "street": 2, "microgrid": 3}
    assert areas_per_level(con, Scope("R1", level="street")) == {"street": 1, "microgrid": 2}
    sql, params = Scope("R1", level="street").where("a")
    assert sorted(r[0] for r in con.execute(f"SELECT area_id FROM areas a WHERE level = 'microgrid' AND "
                                            f"{sql.replace('a.microgrid_id', 'a.area_id')}", params).fetchall()) == [
        "C1", "C2"]
