"""The wall's URL options, parsed once when the page loads and kept in a ``dcc.Store``.

``/wall?refresh=30&scope=S01&lang=en&rotate=20&layout=map&level=grid&measure=open&cycle=street``

A wall is set up once and then left alone, often by someone typing a URL on a remote: a bad
value falls back to its default (and the wall still shows) rather than raising. The browser's
copy (the store, sent back with every refresh) goes through the same checks
(:meth:`WallOptions.from_dict`); what no URL could have produced (not an object, a missing field,
a list where a value belongs) is rejected with :class:`BadOptions`, which the callback answers
with HTTP 400.

A repeated query key (``?scope=A&scope=B``, which Dash passes as a list) counts once: the first
value (:func:`query_values`, used by every page). The scope's level is not guessed here: the page
looks the area up in the snapshot and fits the map level below it (:meth:`WallOptions.within`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace

import duckdb

from dashboard.i18n import language
from layers.grid_heat import MEASURES
from metrics.scope import LEVELS, Scope, areas_per_level
from settings import Settings

__all__ = ["AUTO_LEVEL", "BadOptions", "WallOptions", "LAYOUTS", "MAP_LEVELS", "MAX_MAP_AREAS", "MIN_REFRESH", "MIN_ROTATE", "CYCLES",
           "query_values"]

LAYOUTS = ("main", "map", "warnings")
MAP_LEVELS = ("street", "community", "grid", "microgrid")
AUTO_LEVEL = "auto"  # no level asked for: the deepest level with at most MAX_MAP_AREAS areas in the scope
# Areas a wall map colours at most by default: the demo's 503 grids (not its 3,116 micro-grids), LA's 99
# councils. More polygons make the first drawing slow and the areas too small to read across a room.
MAX_MAP_AREAS = 600
CYCLES = ("measure", "street")
MIN_REFRESH = 2  # seconds; tests use 2, a real wall 30-60
MAX_REFRESH = 3600
MIN_ROTATE = 5


class BadOptions(ValueError):
    """Options no URL could have produced (a hand-made request): the callback answers HTTP 400."""


def _first(value: object) -> object:
    """The first of a repeated query value (Dash passes ``?k=a&k=b`` as a list), else the value."""
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    return value


def query_values(query: Mapping[str, object]) -> dict[str, str]:
    """A page's query parameters as ``{lower-case key: first value}``, empty values dropped.

    >>> query_values({"lang": ["en", "zh"], "Scope": "A", "x": ""})
    {'lang': 'en', 'scope': 'A'}
    """
    out: dict[str, str] = {}
    for key, value in query.items():
        value = _first(value)
        if value is None or str(value).strip() == "":
            continue
        out.setdefault(str(key).lower(), str(value).strip())
    return out


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
        level: the map's areas: a level slot below the scope, or ``"auto"`` (resolved by :meth:`within`).
        measure: the map's first (or only) measure.
    """

    refresh: int
    scope: str
    lang: str
    rotate: int = 0
    cycle: str = "measure"
    layout: str = "main"
    level: str = AUTO_LEVEL
    measure: str = "cases"

    @classmethod
    def from_query(cls, query: Mapping[str, object], settings: Settings, district_id: str) -> WallOptions:
        """Options from the page's query parameters; defaults from settings and the warehouse.

        Args:
            query: the URL's parameters (repeated keys: the first value counts).
            settings: deployment settings (refresh, language).
            district_id: the warehouse's district, the scope when the URL names none.
        """
        return cls._parse(query_values(query), settings, district_id)

    @classmethod
    def _parse(cls, q: Mapping[str, str], settings: Settings, district_id: str) -> WallOptions:
        refresh = _int(q.get("refresh"), settings.wall_refresh_seconds, MIN_REFRESH, MAX_REFRESH)
        rotate = _int(q.get("rotate"), 0, 0, 24 * 3600)
        rotate = 0 if rotate <= 0 else max(rotate, MIN_ROTATE)
        scope = str(q.get("scope", "")).strip() or district_id
        level = str(q.get("level", AUTO_LEVEL)).lower()
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
            level=level if level in MAP_LEVELS else AUTO_LEVEL,
            measure=measure if measure in MEASURES else "cases",
        )

    def within(self, scope_level: str, levels: Sequence[str] | None = None,
               counts: Mapping[str, int] | None = None) -> WallOptions:
        """These options with the map level fitted below ``scope_level`` (the scope's level, looked up).

        The map colours areas inside the scope, so at least one level below it: a street's wall asked
        for streets shows the next level down. A level the deployment does not have, or none, is
        ``"auto"``: the deepest level below the scope with at most :data:`MAX_MAP_AREAS` areas in it
        (``counts``; the level just below when even that has more).

        Args:
            scope_level: the scope's slot.
            levels: the deployment's slots top-down (default: all five).
            counts: areas per level inside the scope (``metrics.scope.areas_per_level``); ``None``
                picks ``grid`` when the deployment has it, else the finest level.
        """
        if scope_level not in LEVELS:
            raise ValueError(f"unknown level {scope_level!r}")
        slots = list(levels or LEVELS)
        below = [s for s in slots if s in LEVELS and LEVELS.index(s) > LEVELS.index(scope_level)]
        if not below:
            return replace(self, level="microgrid")
        if self.level in below:
            return self
        if self.level != AUTO_LEVEL:  # asked for: that level or the next one down the deployment has
            return replace(self, level=next((s for s in below if LEVELS.index(s) >= LEVELS.index(self.level)),
                                            below[-1]))
        if counts is None:
            return replace(self, level="grid" if "grid" in below else below[-1])
        fits = [s for s in below if counts.get(s, 0) <= MAX_MAP_AREAS]
        return replace(self, level=fits[-1] if fits else below[0])

    def fitted(self, con: duckdb.DuckDBPyConnection, scope: Scope, slots: Sequence[str]) -> WallOptions:
        """:meth:`within` the resolved ``scope`` of a deployment with ``slots``, counting its areas when auto.

        The count is one ``GROUP BY`` over ``areas`` (a few thousand rows), asked only when no level was given.
        """
        counts = areas_per_level(con, scope) if self.level == AUTO_LEVEL else None
        return self.within(scope.level or "district", slots, counts)

    def to_dict(self) -> dict:
        """A JSON-able dict for the options store."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object, settings: Settings, district_id: str) -> WallOptions:
        """Back from the store, through the same checks as :meth:`from_query` (unknown keys ignored).

        Raises:
            BadOptions: ``data`` is not an object, lacks one of the fields, or holds a list or an
                object where a value belongs: not something the page ever sent.
        """
        if not isinstance(data, Mapping):
            raise BadOptions(f"wall options must be an object, got {type(data).__name__}")
        names = list(cls.__dataclass_fields__)
        missing = [n for n in names if n not in data]
        if missing:
            raise BadOptions(f"wall options lack {', '.join(missing)}")
        values: dict[str, str] = {}
        for name in names:
            value = data[name]
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise BadOptions(f"wall option {name} must be a text or a number, got {type(value).__name__}")
            values[name] = str(value)
        return cls._parse(values, settings, district_id)

    def measure_at(self, step: int) -> str:
        """The map measure after ``step`` rotations (always the first one without rotation)."""
        if not self.rotate or self.cycle != "measure":
            return self.measure
        start = MEASURES.index(self.measure)
        return MEASURES[(start + step) % len(MEASURES)]
