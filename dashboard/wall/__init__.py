"""The wall screen's machinery.

URL options, the panel layout, data loaders with their cache and background warm-up, the map
panel and one refresh tick. The page itself is
``dashboard/pages/wall.py``; what it shows and why: ``docs/wall.md``, ``docs/decisions-wall.md``.
"""

from dashboard.wall.layout import LAYOUTS, panels_of, wall_layout
from dashboard.wall.options import WallOptions
from dashboard.wall.tick import TickResult, run_tick

__all__ = ["LAYOUTS", "TickResult", "WallOptions", "panels_of", "run_tick", "wall_layout"]
