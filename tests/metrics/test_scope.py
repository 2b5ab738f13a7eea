"""Scopes and windows: levels from ids, predicates with bound parameters, nesting, window bounds."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from metrics.grids import grid_aggregates
from metrics.scope import Scope, Window, area_level, child_level, level_from_form
from metrics.vitals import vital_signs

TZ = "Asia/Shanghai"


@pytest.mark.parametrize(("area_id", "level"), [
    ("330108", "district"), ("330108001", "street"), ("330108001002", "community"), ("G023", "grid"),
    ("G023-4", "microgrid"), ("X-1", None),
])
def test_level_from_the_id_form(area_id, level):
    assert level_from_form(area_id) == level


def test_area_level_asks_the_areas_table_first(demo):
    con = demo.cursor()
    sample = demo.areas.groupby("level").head(1)
    for row in sample.itertuples():
        assert area_level(con, row.area_id) == row.level
    assert area_level(con, "G999-9") == "microgrid"  # not in the table: the form decides
    with pytest.raises(KeyError):
        area_level(con, "nowhere")
    assert child_level("street") == "community" and child_level("microgrid") is None


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


def test_where_with_an_unknown_id_form_matches_any_level(demo):
    """Another deployment's ids may have no known form: the predicate then tries every level."""
    sql_any, params = Scope("unknown-form").where("e")
    assert "IN (e.street_id, e.community_id, e.grid_id, e.microgrid_id)" in sql_any and params == ["unknown-form"]
    grid = demo.events["grid_id"].iloc[0]
    con = demo.cursor()
    n_any = con.execute(f"SELECT count(*) FROM events e WHERE {sql_any}", [grid]).fetchall()[0][0]
    sql_known, p_known = Scope(grid).where("e")
    assert "grid_id = ?" in sql_known
    n_known = con.execute(f"SELECT count(*) FROM events e WHERE {sql_known}", p_known).fetchall()[0][0]
    assert n_any == n_known == (demo.events["grid_id"] == grid).sum() > 0


def test_a_district_typo_shows_nothing_rather_than_everything(demo):
    sql, params = Scope("330199").where("e")
    assert demo.cursor().execute(f"SELECT count(*) FROM events e WHERE {sql}", params).fetchall()[0][0] == 0


def test_scopes_nest(demo):
    """A street's counts are the sum of its communities'; the district's the sum of its streets'."""
    con, now, s = demo.cursor(), demo.now, demo.settings
    window = Window.named("7d", now, TZ)

    def counts(scope):
        v = vital_signs(con, scope, window, now, s).by_key()
        return v["received"].value, v["open_backlog"].value, v["overdue_open"].value

    district = counts(Scope())
    streets = demo.areas[demo.areas["level"] == "street"]["area_id"]
    per_street = [counts(Scope(a)) for a in streets]
    assert tuple(map(sum, zip(*per_street, strict=True))) == district
    street = streets.iloc[0]
    comms = grid_aggregates(con, Scope(street), "community", window, now, s)
    street_row = grid_aggregates(con, Scope(), "street", window, now, s).set_index("area_id").loc[street]
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
    assert Scope(categories=["ENV"]).categories == ("ENV",)
    assert hash(Scope("330108001", channels=("qr",))) == hash(Scope("330108001", channels=["qr"]))
    with pytest.raises(ValueError):
        Scope(urgency="very")
    with pytest.raises(ValueError):
        Scope(level="planet")
