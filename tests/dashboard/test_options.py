"""The wall's URL options: defaults, bounds, fallbacks, rotation."""

from __future__ import annotations

import pytest

from dashboard.wall.options import WallOptions
from settings import load_settings

SETTINGS = load_settings(env={}, toml_path=None)


def test_defaults_come_from_settings():
    o = WallOptions.from_query({}, SETTINGS)
    assert (o.refresh, o.scope, o.lang, o.rotate, o.layout, o.level, o.measure) == (
        SETTINGS.wall_refresh_seconds, SETTINGS.district_id, SETTINGS.language, 0, "main", "grid", "cases")
    en = load_settings(env={"GRIDPULSE_LANGUAGE": "en", "GRIDPULSE_WALL_REFRESH_SECONDS": "45"}, toml_path=None)
    assert WallOptions.from_query({}, en).lang == "en" and WallOptions.from_query({}, en).refresh == 45


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
    ({"level": "planet"}, "level", "grid"),
    ({"measure": "per_10k"}, "measure", "per_10k"),
    ({"measure": "x"}, "measure", "cases"),
    ({"cycle": "street"}, "cycle", "street"),
    ({"LANG": "en"}, "lang", "en"),
])
def test_one_option(query, field, value):
    assert getattr(WallOptions.from_query(query, SETTINGS), field) == value


def test_map_level_is_below_the_scope():
    assert WallOptions.from_query({"scope": "330108001", "level": "street"}, SETTINGS).level == "community"
    assert WallOptions.from_query({"scope": "G017", "level": "grid"}, SETTINGS).level == "microgrid"
    assert WallOptions.from_query({"scope": "330108001", "level": "grid"}, SETTINGS).level == "grid"


def test_round_trip_through_the_store():
    o = WallOptions.from_query({"scope": "330108002", "rotate": "10", "layout": "warnings"}, SETTINGS)
    assert WallOptions.from_dict({**o.to_dict(), "tz": "Asia/Shanghai", "server_now": 1}) == o


def test_measure_rotation():
    o = WallOptions.from_query({"rotate": "10", "measure": "open"}, SETTINGS)
    assert [o.measure_at(i) for i in range(5)] == ["open", "overdue", "per_10k", "cases", "open"]
    still = WallOptions.from_query({"measure": "open"}, SETTINGS)
    assert still.measure_at(3) == "open"
    streets = WallOptions.from_query({"rotate": "10", "cycle": "street"}, SETTINGS)
    assert streets.measure_at(3) == "cases"
