"""Map layers: each one a query, a pure transform and a style.

The query reads the snapshot into a DataFrame; the transform turns it into a plotly trace,
MapLibre layer or table, as Superset's chart plugins are buildQuery/transformProps/renderer. Each
layer is a module (``grid_heat``, ``outlines``, ``worst``, ``resources``, with ``shapes`` and
``view`` as shared helpers); the wall's map panel and later the analyst map and the briefing call
them by module. The analyst map's switchable overlays (case points, cameras, depots, staff on
duty) share one signature and are listed in :mod:`layers.registry` (``LAYERS``), which the map
page's layer checkboxes read.

Layers may read the snapshot (through their ``.sql`` files or ``metrics/``); they never import
``dashboard``.
"""

from __future__ import annotations

from layers import grid_heat, outlines, registry, resources, shapes, view, worst

__all__ = ["grid_heat", "outlines", "registry", "resources", "shapes", "view", "worst"]
