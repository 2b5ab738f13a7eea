"""What a wall sends the server to refresh: the body of the refresh callback's request.

The browser builds it from the page's callback declaration (``dashboard/pages/wall.py``); tests,
benchmarks and load tests that talk to the server over HTTP build it here, so there is one
description of the request beside the layout that defines its panels.
"""

from __future__ import annotations

import dash

from dashboard import ids
from dashboard.wall.layout import panels_of

__all__ = ["refresh_request"]


def refresh_request(app: dash.Dash, options: object, viewport: object, drawn: object = None, n: int = 1,
                    layout: str = "main") -> dict:
    """The JSON body of ``POST /_dash-update-component`` for the ``n``-th refresh of a wall.

    Args:
        app: the app (its callback map names the refresh callback).
        options: the options store (``WallOptions.to_dict()``; anything, to test validation).
        viewport: the measured screen (``{"w", "h", "scale", "map_w", "map_h"}``).
        drawn: the "drawn" store of the previous refresh (``None``: the first refresh).
        n: the refresh timer's count.
        layout: which panel set the page has (``main``, ``map``, ``warnings``).
    """
    texts, graphs = panels_of(layout)
    key = next(k for k in app.callback_map if f"{ids.WALL_META}.data" in k)
    return {
        "output": key,
        "outputs": [
            [{"id": ids.text_panel(p), "property": "children"} for p in texts],
            [{"id": ids.graph_panel(p), "property": "figure"} for p in graphs],
            {"id": ids.WALL_META, "property": "data"},
            {"id": ids.WALL_DRAWN, "property": "data"},
        ],
        "inputs": [
            {"id": ids.WALL_TICK, "property": "n_intervals", "value": n},
            {"id": ids.WALL_ROTATE, "property": "n_intervals", "value": 0},
            {"id": ids.WALL_VIEWPORT, "property": "data", "value": viewport},
        ],
        "state": [
            {"id": ids.WALL_OPTIONS, "property": "data", "value": options},
            {"id": ids.WALL_DRAWN, "property": "data", "value": {} if drawn is None else drawn},
        ],
        "changedPropIds": [f"{ids.WALL_TICK}.n_intervals"],
    }
