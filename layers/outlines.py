"""Boundary lines drawn over the heatmap.

The streets of a district (or the communities of a street ...), plus an optional brighter
outline for the area in focus and for the worst areas.

They are MapLibre ``line`` layers in ``layout.map.layers`` (drawn above the traces), not traces:
a line layer needs no hover and no colour axis, and its GeoJSON travels once with the figure.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pandas as pd

from layers import shapes as _shapes
from metrics.scope import LEVELS, Scope, child_level

__all__ = ["outline_level", "query", "transform", "highlight", "STYLE"]

STYLE = {"color": "#9ad0ff", "width": 2.5, "focus_color": "#ffffff", "focus_width": 5.0,
         "worst_color": "#ffffff", "worst_width": 2.0}


def outline_level(scope_level: str, display_level: str, levels: Sequence[str] | None = None) -> str | None:
    """The level whose boundaries are drawn over areas of ``display_level`` in a scope of ``scope_level``.

    The deployment's next level below the scope (a district's streets, a street's communities; an LA
    city's regions), as long as that is coarser than what is coloured; ``None`` when there is nothing
    coarser to draw.

    Args:
        scope_level: the scope's slot.
        display_level: the coloured areas' slot.
        levels: the deployment's slots (``Deployment.slots``); default all five.

    >>> outline_level("district", "microgrid")
    'street'
    >>> outline_level("district", "street") is None
    True
    >>> outline_level("street", "microgrid", ("district", "street", "microgrid")) is None
    True
    """
    below = child_level(scope_level, tuple(levels) if levels else None)
    if below is None or LEVELS.index(below) >= LEVELS.index(display_level):
        return None
    return below


def query(con: duckdb.DuckDBPyConnection, scope: Scope, display_level: str,
          levels: Sequence[str] | None = None) -> pd.DataFrame:
    """Polygons of the outline level inside the scope (empty when there is none)."""
    level = outline_level(scope.level_in(con), display_level, levels)
    if level is None:
        return pd.DataFrame(columns=["area_id", "name", "name_en", "geojson_simple"])
    return _shapes.shapes(con, scope, level)


def transform(df: pd.DataFrame, scale: float = 1.0) -> dict:
    """The boundary layer (``layout.map.layers`` entry)."""
    return {"sourcetype": "geojson", "source": _shapes.feature_collection(df), "type": "line",
            "color": STYLE["color"], "line": {"width": round(STYLE["width"] * scale, 2)}}


def highlight(df: pd.DataFrame | None, kind: str, scale: float = 1.0) -> dict:
    """A brighter outline of a few areas: ``kind`` ``"focus"`` (the rotating focus) or ``"worst"``."""
    return {"sourcetype": "geojson", "source": _shapes.feature_collection(df), "type": "line",
            "color": STYLE[f"{kind}_color"], "line": {"width": round(STYLE[f"{kind}_width"] * scale, 2)}}
