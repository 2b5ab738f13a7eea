"""The wall's skeleton: each layout shows its panels once, with stable ids and no data."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dashboard import ids
from dashboard.runtime import Deployment
from dashboard.wall.layout import LAYOUTS, ROWS, rows_for, wall_layout
from dashboard.wall.options import LAYOUTS as OPTION_LAYOUTS
from dashboard.wall.options import WallOptions
from settings import load_settings

SETTINGS = load_settings(env={}, toml_path=None)
# another deployment's identity, as its warehouse would give it
DEPLOYMENT = Deployment("X01", "某某区", "Somewhere District", (10.0, 20.0, 11.0, 21.0))
NOW = datetime(2026, 11, 25, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def _ids(component) -> list:
    out = []
    cid = getattr(component, "id", None)
    if cid is not None:
        out.append(cid)
    children = getattr(component, "children", None)
    for c in children if isinstance(children, (list, tuple)) else [children]:
        if c is not None and not isinstance(c, str):
            out += _ids(c)
    return out


def test_every_option_layout_is_defined_and_rows_belong_to_shown_panels():
    assert set(LAYOUTS) == set(OPTION_LAYOUTS)
    for (layout, panel), n in ROWS.items():
        assert n > 0 and any(panel == p for col in LAYOUTS[layout] for p, _ in col.panels)
    assert rows_for("map", ids.PANEL_SLA) == 0


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_layout_ids_are_unique_and_complete(layout):
    tree = wall_layout(WallOptions.from_query({"layout": layout}, SETTINGS, "X01"), SETTINGS, DEPLOYMENT, NOW)
    found = _ids(tree)
    keys = [str(sorted(i.items())) if isinstance(i, dict) else i for i in found]
    assert len(keys) == len(set(keys))
    for fixed in (ids.WALL, ids.WALL_OPTIONS, ids.WALL_VIEWPORT, ids.WALL_META, ids.WALL_DRAWN, ids.WALL_TICK,
                  ids.WALL_CLOCK, ids.WALL_ROTATE, ids.WALL_CLOCK_TIME, ids.WALL_CONNECTION):
        assert fixed in found
    panels = {p for col in LAYOUTS[layout] for p, _ in col.panels}
    assert ids.text_panel(ids.PANEL_STATUS) in found and ids.text_panel(ids.PANEL_VITALS) in found
    for p in panels:
        assert (ids.graph_panel(p) if p in ids.GRAPH_PANELS else ids.text_panel(p)) in found
    others = set(ids.GRAPH_PANELS) - panels
    assert not any(ids.graph_panel(p) in found for p in others)


def test_options_store_and_intervals():
    tree = wall_layout(WallOptions.from_query({"refresh": "30", "rotate": "15", "lang": "en"}, SETTINGS, "X01"), SETTINGS, DEPLOYMENT, NOW)
    comps = {c.id: c for c in tree.children if isinstance(getattr(c, "id", None), str)}
    assert comps[ids.WALL_TICK].interval == 30_000
    # both timers start in the browser once the first drawing arrived (assets/wall.js)
    assert comps[ids.WALL_ROTATE].interval == 15_000 and comps[ids.WALL_ROTATE].disabled is True
    store = comps[ids.WALL_OPTIONS].data
    assert store["lang"] == "en" and store["tz"] == "Asia/Shanghai" and store["locale"] == "en-GB"
    assert store["server_now"] == int(NOW.timestamp() * 1000)
    assert tree.lang == "en"
    assert "Somewhere District" in str(tree)  # the header names the warehouse's district
    still = wall_layout(WallOptions.from_query({}, SETTINGS, "X01"), SETTINGS, DEPLOYMENT, NOW)
    assert {c.id: c for c in still.children if isinstance(getattr(c, "id", None), str)}[ids.WALL_ROTATE].disabled


def test_panels_of_each_layout():
    from dashboard.wall.layout import panels_of

    texts, graphs = panels_of("main")
    assert texts[:3] == [ids.PANEL_STATUS, ids.PANEL_SCOPE, ids.PANEL_VITALS]
    assert set(texts) == {ids.PANEL_STATUS, ids.PANEL_SCOPE, ids.PANEL_VITALS, ids.PANEL_SLA, ids.PANEL_WARNINGS,
                          ids.PANEL_RESOURCES, ids.PANEL_MAP_TITLE}
    assert graphs == [ids.PANEL_BACKLOG_DAYS, ids.PANEL_BACKLOG_HOURS, ids.PANEL_MAP]
    texts, graphs = panels_of("warnings")
    assert ids.PANEL_MAP_TITLE not in texts and graphs == [ids.PANEL_BACKLOG_HOURS]
