"""The wall's URL options, parsed once when the page loads and kept in a ``dcc.Store``.

``/wall?refresh=30&scope=330108001&lang=en&rotate=20&layout=map&level=grid&measure=open&cycle=street``

A wall is set up once and then left alone, often by someone typing a URL on a remote: a bad
value falls back to its default (and the wall still shows) rather than raising.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

from dashboard.i18n import language
from layers.grid_heat import MEASURES
from metrics.scope import LEVELS, child_level, level_from_form
from settings import Settings

__all__ = ["WallOptions", "LAYOUTS", "MAP_LEVELS", "MIN_REFRESH", "MIN_ROTATE", "CYCLES"]

LAYOUTS = ("main", "map", "warnings")
MAP_LEVELS = ("street", "community", "grid", "microgrid")
CYCLES = ("measure", "street")
MIN_REFRESH = 2  # seconds; tests use 2, a real wall 30-60
MAX_REFRESH = 3600
MIN_ROTATE = 5


def _int(value: object, default: int, low: int, high: int) -> int:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    return min(max(n, low), high)


@dataclass(frozen=True)
class WallOptions:
    """What one wall screen shows and how often it refreshes.

    Attributes:
        refresh: seconds between data refreshes.
        scope: area id the wall is about (the district, a street ...).
        lang: ``"zh"`` or ``"en"``.
        rotate: seconds between map rotations; 0 = no rotation.
        cycle: what rotates: ``"measure"`` (cases → open → overdue → per 10k) or ``"street"`` (the
            focus moves across the scope's streets or communities, the whole area in between).
        layout: panel set: ``"main"``, ``"map"`` or ``"warnings"``.
        level: the map's areas: micro-grids, grids, communities or streets.
        measure: the map's first (or only) measure.
    """

    refresh: int
    scope: str
    lang: str
    rotate: int = 0
    cycle: str = "measure"
    layout: str = "main"
    level: str = "grid"
    measure: str = "cases"

    @classmethod
    def from_query(cls, query: Mapping[str, object], settings: Settings) -> WallOptions:
        """Options from the page's query parameters, defaults from settings."""
        q = {str(k).lower(): v for k, v in query.items() if v not in (None, "")}
        refresh = _int(q.get("refresh"), settings.wall_refresh_seconds, MIN_REFRESH, MAX_REFRESH)
        rotate = _int(q.get("rotate"), 0, 0, 24 * 3600)
        rotate = 0 if rotate <= 0 else max(rotate, MIN_ROTATE)
        scope = str(q.get("scope", settings.district_id)).strip() or settings.district_id
        scope_level = level_from_form(scope) or "district"
        level = str(q.get("level", "grid")).lower()
        if level not in MAP_LEVELS:
            level = "grid"
        if LEVELS.index(level) <= LEVELS.index(scope_level):
            # the map colours areas inside the scope: at least one level below it
            level = child_level(scope_level) or "microgrid"
        measure = str(q.get("measure", "cases")).lower()
        cycle = str(q.get("cycle", "measure")).lower()
        layout = str(q.get("layout", "main")).lower()
        return cls(
            refresh=refresh,
            scope=scope,
            lang=language(str(q.get("lang", "")), settings.language),
            rotate=rotate,
            cycle=cycle if cycle in CYCLES else "measure",
            layout=layout if layout in LAYOUTS else "main",
            level=level,
            measure=measure if measure in MEASURES else "cases",
        )

    def to_dict(self) -> dict:
        """A JSON-able dict for the options store."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> WallOptions:
        """Back from the store (unknown keys ignored)."""
        names = cls.__dataclass_fields__.keys()
        return cls(**{k: v for k, v in data.items() if k in names})

    def measure_at(self, step: int) -> str:
        """The map measure after ``step`` rotations (always the first one without rotation)."""
        if not self.rotate or self.cycle != "measure":
            return self.measure
        start = MEASURES.index(self.measure)
        return MEASURES[(start + step) % len(MEASURES)]
