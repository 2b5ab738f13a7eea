"""The wall's URL options: defaults, bounds, fallbacks, rotation."""

from __future__ import annotations

import pytest

from dashboard.wall.options import BadOptions, WallOptions, query_values
from settings import load_settings

SETTINGS = load_settings(env={}, toml_path=None)
DISTRICT = "D1"  # any id: the district comes from the warehouse, never from the id's shape


def test_defaults_come_from_settings():
    o = WallOptions.from_query({}, SETTINGS, DISTRICT)
    assert (o.refresh, o.scope, o.lang, o.rotate, o.layout, o.level, o.measure) == (
        SETTINGS.wall_refresh_seconds, DISTRICT, SETTINGS.language, 0, "main", "auto", "cases")
    en = load_settings(env={"GRIDPULSE_LANGUAGE": "en", "GRIDPULSE_WALL_REFRESH_SECONDS": "45"}, toml_path=None)
    assert WallOptions.from_query({}, en, DISTRICT).lang == "en" and WallOptions.from_query({}, en, DISTRICT).refresh == 45


@pytest.mark.parametrize(("query", "field", "value"), [
    ({"refresh": "30"}, "refresh", 30),
    ({"refresh": "1"}, "refresh", 2),  # never hammer the server
    ({"refresh": "soon"}, "refresh", 60),
    ({"refresh": "99999"}, "refresh", 3600),
    ({"rotate": "20"}, "rotate", 20),
    ({"rotate": "2"}, "rotate", 5),
    ({"rotate": "-1"}, "rotate", 0),
    ({"lang": "en"}, "lang", "en"),
    ({"lang": "fr"}, "lang", "zh"),
    ({"layout": "map"}, "layout", "map"),
    ({"layout": "nope"}, "layout", "main"),
    ({"level": "grid"}, "level", "grid"),
    ({"level": "planet"}, "level", "auto"),
    ({"measure": "per_10k"}, "measure", "per_10k"),
    ({"measure": "x"}, "measure", "cases"),
    ({"cycle": "street"}, "cycle", "street"),
    ({"LANG": "en"}, "lang", "en"),
])
def test_one_option(query, field, value):
    assert getattr(WallOptions.from_query(query, SETTINGS, DISTRICT), field) == value


def test_map_level_is_below_the_scope_level_looked_up():
    def fitted(query, scope_level):
        return WallOptions.from_query(query, SETTINGS, DISTRICT).within(scope_level).level
    assert fitted({"scope": "S1", "level": "street"}, "street") == "community"
    assert fitted({"scope": "G017", "level": "grid"}, "grid") == "microgrid"
    assert fitted({"scope": "S1", "level": "grid"}, "street") == "grid"
    assert fitted({"level": "street"}, "district") == "street"


def test_a_repeated_query_key_counts_once_first_value():
    o = WallOptions.from_query({"scope": ["A", "B"], "lang": ["en", "zh"], "refresh": ["30", "x"]}, SETTINGS, DISTRICT)
    assert (o.scope, o.lang, o.refresh) == ("A", "en", 30)
    assert query_values({"lang": ["en", "zh"], "LAYOUT": "map", "x": ""}) == {"lang": "en", "layout": "map"}


def test_round_trip_through_the_store():
    o = WallOptions.from_query({"scope": "S2", "rotate": "10", "layout": "warnings"}, SETTINGS, DISTRICT)
    assert WallOptions.from_dict({**o.to_dict(), "tz": "Asia/Shanghai", "server_now": 1}, SETTINGS, DISTRICT) == o


@pytest.mark.parametrize(("field", "sent", "kept"), [
    ("refresh", 0, 2), ("refresh", "soon", 60), ("layout", "nope", "main"), ("level", "planet", "auto"),
    ("measure", "x", "cases"), ("lang", "fr", "zh"), ("rotate", -3, 0), ("cycle", "spin", "measure"),
    ("scope", "", DISTRICT),
])
def test_the_store_is_checked_like_the_url(field, sent, kept):
    """What from_query corrects, from_dict corrects the same way (before: refresh=0 was kept)."""
    store = {**WallOptions.from_query({}, SETTINGS, DISTRICT).to_dict(), field: sent}
    assert getattr(WallOptions.from_dict(store, SETTINGS, DISTRICT), field) == kept
    assert getattr(WallOptions.from_query({field: str(sent)}, SETTINGS, DISTRICT), field) == kept


@pytest.mark.parametrize("store", [{}, "abc", None, [1], {"scope": "A"},
                                   {**WallOptions(60, "A", "zh").to_dict(), "refresh": [60]},
                                   {**WallOptions(60, "A", "zh").to_dict(), "scope": {"a": 1}}])
def test_a_store_no_page_could_send_is_rejected(store):
    with pytest.raises(BadOptions):
        WallOptions.from_dict(store, SETTINGS, DISTRICT)


def test_measure_rotation():
    o = WallOptions.from_query({"rotate": "10", "measure": "open"}, SETTINGS, DISTRICT)
    assert [o.measure_at(i) for i in range(5)] == ["open", "overdue", "per_10k", "cases", "open"]
    still = WallOptions.from_query({"measure": "open"}, SETTINGS, DISTRICT)
    assert still.measure_at(3) == "open"
    streets = WallOptions.from_query({"rotate": "10", "cycle": "street"}, SETTINGS, DISTRICT)
    assert streets.measure_at(3) == "cases"


def test_the_default_map_level_is_the_deepest_with_at_most_600_areas_among_the_deployments_levels():
    auto = WallOptions.from_query({}, SETTINGS, DISTRICT)
    five = ("district", "street", "community", "grid", "microgrid")
    five_counts = {"district": 1, "street": 3, "community": 65, "grid": 503, "microgrid": 3116}
    assert auto.within("district", five, five_counts).level == "grid"
    la = ("district", "street", "microgrid")  # city -> region -> neighbourhood council
    assert auto.within("district", la, {"district": 1, "street": 12, "microgrid": 99}).level == "microgrid"
    assert auto.within("street", la, {"street": 1, "microgrid": 9}).level == "microgrid"
    assert auto.within("district", la, {"street": 12, "microgrid": 5000}).level == "street"
    assert auto.within("district", ("district", "microgrid"), {"microgrid": 9000}).level == "microgrid"
    # a level the deployment lacks is not drawn: the next one down it has
    asked = WallOptions.from_query({"level": "community"}, SETTINGS, DISTRICT)
    assert asked.within("district", la, {"microgrid": 99}).level == "microgrid"
