"""Map layers: each one a query, a pure transform and a style.

The query reads the snapshot into a DataFrame; the transform turns it into a plotly trace,
MapLibre layer or table, as Superset's chart plugins are buildQuery/transformProps/renderer. :data:`REGISTRY` lists them so pages, the briefing and tests find them by name.

Layers may read the snapshot (through their ``.sql`` files or ``metrics/``); they never import
``dashboard``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from layers import grid_heat, outlines, resources, shapes, view, worst

__all__ = ["Layer", "REGISTRY", "get", "grid_heat", "outlines", "resources", "shapes", "view", "worst"]


@dataclass(frozen=True)
class Layer:
    """One map layer's parts.

    Attributes:
        key: registry name.
        kind: what ``transform`` returns: ``"trace"`` (a plotly trace dict), ``"map-layer"`` (a
            ``layout.map.layers`` entry) or ``"table"`` (a DataFrame for a panel).
        query: reads the snapshot.
        transform: pure; tested on tiny frames.
        style: colours and widths (defaults; the figure builders may scale widths).
    """

    key: str
    kind: str
    query: Callable[..., Any]
    transform: Callable[..., Any]
    style: dict = field(default_factory=dict)


REGISTRY: dict[str, Layer] = {
    "grid_heat": Layer("grid_heat", "trace", grid_heat.query, grid_heat.transform, grid_heat.STYLE),
    "outlines": Layer("outlines", "map-layer", outlines.query, outlines.transform, outlines.STYLE),
    "worst": Layer("worst", "trace", grid_heat.query, worst.transform, worst.STYLE),
    "resources": Layer("resources", "table", resources.query, resources.transform),
}


def get(key: str) -> Layer:
    """The layer registered as ``key``.

    Raises:
        KeyError: no such layer (the message lists the known ones).
    """
    try:
        return REGISTRY[key]
    except KeyError:
        raise KeyError(f"unknown layer {key!r}; known: {', '.join(sorted(REGISTRY))}") from None
