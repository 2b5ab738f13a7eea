"""The app over HTTP (Flask's test client, as the browser talks to it): malformed requests are
answered with 4xx and no traceback, repeated query keys count once, an empty var/ and an unknown
area are said in words."""

from __future__ import annotations

import json
import logging

import pytest

from dashboard import ids
from dashboard.app import create_app
from dashboard.wall.options import WallOptions
from dashboard.wall.protocol import refresh_request
from tests.conftest import FIXTURE_NOW, settings_for, signed_in

VIEWPORT = {"w": 1920, "h": 1080, "scale": 1.0, "map_w": 803, "map_h": 794}


def _tick_body(app, options, viewport=VIEWPORT, drawn=None, layout="main") -> dict:
    return refresh_request(app, options, viewport, drawn, 1, layout)


def _page(client, app, path: str, search: str = ""):
    """The page router's answer for ``path`` + ``search`` (what the browser asks for after the index)."""
    assert client.get(path + search).status_code == 200  # the index; registers the router on first request
    key = next(k for k in app.callback_map if "_pages_content.children" in k)
    body = {
        "output": key,
        "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                   {"id": "_pages_location", "property": "search", "value": search}],
        "changedPropIds": ["_pages_location.pathname"],
    }
    return client.post("/_dash-update-component", json=body)


@pytest.fixture
def app(small_demo):
    return create_app(small_demo, clock=lambda: FIXTURE_NOW)


def _options(app, **query) -> dict:
    return WallOptions.from_query(query, app.server.config["GRIDPULSE_RUNTIME"].settings, "330108").to_dict()


def test_a_good_refresh_answers_200(app):
    client = signed_in(app)
    assert _page(client, app, "/wall").status_code == 200
    response = client.post("/_dash-update-component", json=_tick_body(app, _options(app)))
    assert response.status_code == 200, response.data[:300]


@pytest.mark.parametrize(("options", "viewport"), [
    ({}, VIEWPORT),  # an empty options object (before: 500 and a traceback)
    ("OK", "abc"),  # a viewport of "abc" (before: 500 and a traceback)
    ("OK", {"scale": "abc"}),
    ({"refresh": 60}, VIEWPORT),
])
def test_a_malformed_refresh_is_a_400_without_a_traceback(app, caplog, options, viewport):
    client = signed_in(app)
    _page(client, app, "/wall")
    options = _options(app) if options == "OK" else options
    with caplog.at_level(logging.INFO):
        response = client.post("/_dash-update-component", json=_tick_body(app, options, viewport))
    assert response.status_code == 400
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def test_a_refresh_for_an_unknown_area_is_a_404_and_computes_nothing(app, caplog, monkeypatch):
    from dashboard.wall import data, warmup

    computed = []
    monkeypatch.setattr(data, "vitals", lambda src: computed.append(src))
    client = signed_in(app)
    _page(client, app, "/wall")
    with caplog.at_level(logging.INFO):
        response = client.post("/_dash-update-component", json=_tick_body(app, _options(app, scope="nonexistent")))
    assert response.status_code == 404 and b"nonexistent" in response.data
    assert computed == [] and "nonexistent" not in [p[0] for p in warmup.plans()]
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.parametrize("path", ["/", "/wall"])
def test_a_repeated_lang_takes_the_first_value(app, path):
    """``?lang=en&lang=zh`` (Dash passes a list): before, the home page answered 500."""
    response = _page(signed_in(app), app, path, "?lang=en&lang=zh")
    assert response.status_code == 200, response.data[:300]
    text = response.get_data(as_text=True)
    english = "Overview" if path == "/" else '"lang":"en"'
    assert english in text


def test_a_repeated_scope_takes_the_first_value(app):
    """``?scope=A&scope=B``: before, the wall was about the area "['A', 'B']"."""
    response = _page(signed_in(app), app, "/wall", "?scope=330108001&scope=330108002")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "['" not in text and "[\\u0027" not in text
    store = _find_store(json.loads(text)["response"]["_pages_content"]["children"])
    assert store["scope"] == "330108001"


def _find_store(tree):
    if isinstance(tree, dict):
        props = tree.get("props", {})
        if props.get("id") == ids.WALL_OPTIONS:
            return props["data"]
        for value in props.values():
            found = _find_store(value)
            if found:
                return found
    if isinstance(tree, list):
        for item in tree:
            found = _find_store(item)
            if found:
                return found
    return None


def test_an_unknown_scope_is_a_clear_page_without_a_refresh_timer(app):
    for search, words in (("?scope=nonexistent", "未知区域 'nonexistent'"),
                          ("?scope=nonexistent&lang=en", "Unknown area 'nonexistent'")):
        response = _page(signed_in(app), app, "/wall", search)
        text = response.get_data(as_text=True)
        assert response.status_code == 200 and json.loads(text) and words in json.loads(text)["response"].__repr__()
        assert "Interval" not in text and ids.WALL_TICK not in text  # nothing refreshes an error
        assert "scope=330108" in text  # the way out: valid scopes, linked
        assert "达标" not in text and "OK" not in json.loads(text)["response"].__repr__()


@pytest.mark.parametrize("path", ["/", "/wall"])
def test_an_empty_var_dir_says_there_is_no_data_yet(tmp_path, path):
    app = create_app(settings_for(tmp_path / "var"), clock=lambda: FIXTURE_NOW)
    response = _page(signed_in(app), app, path)
    assert response.status_code == 200, response.data[:300]
    text = json.loads(response.get_data(as_text=True))["response"].__repr__()
    assert "尚无数据" in text and "python app.py demo" in text and "docs/" in text
    english = _page(signed_in(app), app, path, "?lang=en")
    assert "No data yet" in english.get_data(as_text=True)


def test_a_warehouse_without_a_district_says_so(tmp_path):
    """Published data whose areas table has no district: a notice for the page, 404 for a refresh."""
    from data.snapshot import publish
    from data.warehouse import apply_schema, connect

    settings = settings_for(tmp_path / "var")
    settings.warehouse_dir.mkdir(parents=True)
    con = connect(settings.work_db, settings.timezone)
    try:
        apply_schema(con)
        publish(con, settings.warehouse_dir)
    finally:
        con.close()
    app = create_app(settings, clock=lambda: FIXTURE_NOW)
    client = signed_in(app)
    text = json.loads(_page(client, app, "/wall").get_data(as_text=True))["response"].__repr__()
    assert "数据中没有区级区域" in text and "docs/geography.md" in text
    response = client.post("/_dash-update-component", json=_tick_body(app, WallOptions(60, "X", "zh").to_dict()))
    assert response.status_code == 404


def test_a_wall_account_runs_the_wall_refresh_and_no_other_callback_whatever_outputs_says(app):
    """Dash runs the callback its ``output`` string names: the gate checks that string (a wall account's
    refresh outputs the ALL text and graph panels, which once made its every refresh a 403)."""
    client = signed_in(app, role="wall")
    assert _page(client, app, "/wall").status_code == 200
    assert client.post("/_dash-update-component", json=_tick_body(app, _options(app))).status_code == 200
    analyst = next(k for k in app.callback_map if f"{ids.OV_VITALS}.children" in k)
    spoofed = {"output": analyst, "outputs": {"id": ids.WALL_META, "property": "data"},
               "inputs": [{"id": ids.AN_STATE, "property": "data", "value": {}}], "changedPropIds": []}
    assert client.post("/_dash-update-component", json=spoofed).status_code == 403
