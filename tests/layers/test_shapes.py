"""Area polygons as GeoJSON, and the fingerprint that decides when the map is redrawn whole."""

from __future__ import annotations

import pandas as pd

from layers.shapes import EMPTY_COLLECTION, feature_collection, ids_digest


def test_feature_collection_uses_area_ids_as_feature_ids():
    df = pd.DataFrame({"area_id": ["G001-1", "G001-2"],
                       "geojson_simple": ['{"type":"Polygon","coordinates":[[[1,2],[3,4],[5,6],[1,2]]]}',
                                          '{"type":"Polygon","coordinates":[[[7,8],[9,10],[11,12],[7,8]]]}']})
    fc = feature_collection(df)
    assert fc["type"] == "FeatureCollection"
    assert [f["id"] for f in fc["features"]] == ["G001-1", "G001-2"]
    assert fc["features"][1]["geometry"]["coordinates"][0][0] == [7, 8]


def test_feature_collection_of_nothing_is_empty():
    assert feature_collection(pd.DataFrame(columns=["area_id", "geojson_simple"])) == EMPTY_COLLECTION
    assert feature_collection(None)["features"] == []


def test_ids_digest_changes_with_content_and_order():
    assert ids_digest(["A", "B"]) == ids_digest(["A", "B"])
    assert ids_digest(["A", "B"]) != ids_digest(["B", "A"])
    assert ids_digest(["A", "B"]) != ids_digest(["A", "B", "C"])
    assert ids_digest(["AB"]) != ids_digest(["A", "B"])
