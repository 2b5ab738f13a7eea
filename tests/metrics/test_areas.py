"""Areas by name: the breadcrumb above an area and the filter bar's search."""

from __future__ import annotations

from metrics import areas


def test_ancestors_run_from_the_district_down_to_the_area(demo):
    a = demo.areas
    micro = a[a["level"] == "microgrid"].iloc[0]
    got = areas.ancestors(demo.cursor(), micro["area_id"])
    assert list(got["level"]) == ["district", "street", "community", "grid", "microgrid"]
    assert list(got["area_id"][1:]) == [micro["street_id"], micro["community_id"], micro["grid_id"], micro["area_id"]]
    district = a.loc[a["level"] == "district", "area_id"].iloc[0]
    assert list(areas.ancestors(demo.cursor(), district)["area_id"]) == [district]
    assert areas.ancestors(demo.cursor(), "no-such-area").empty


def test_search_finds_names_in_both_languages_and_ids_best_first(demo):
    a = demo.areas
    street = a[a["level"] == "street"].iloc[0]
    got = areas.search(demo.cursor(), street["name"])
    assert got.iloc[0]["area_id"] == street["area_id"]  # the exact name first
    en = areas.search(demo.cursor(), street["name_en"].upper())
    assert street["area_id"] in set(en["area_id"])  # case does not matter
    grid = a[a["level"] == "grid"].iloc[0]
    assert grid["area_id"] in set(areas.search(demo.cursor(), grid["area_id"])["area_id"])
    assert len(areas.search(demo.cursor(), a[a["level"] == "microgrid"].iloc[0]["name"][:2], limit=5)) <= 5
    assert areas.search(demo.cursor(), "   ").empty
    assert areas.search(demo.cursor(), "'; DROP TABLE areas; --").empty  # a value, never SQL
