"""Scopes and windows: *which* cases a metric looks at, and *when*.

Every metric takes a :class:`Scope` (an area at any level plus optional category, channel,
department and urgency filters) and most take a :class:`Window` (a time range with a name).
The scope becomes a SQL predicate with placeholders, never with values pasted into the text, so
a scope built from a URL can be passed straight through (access control narrows it on the
server, see ``docs/metrics.md``).

A scope's level is looked up in the ``areas`` table, never guessed from the shape of its id:
callers resolve a scope once per request (:meth:`Scope.resolved`, which raises
:class:`UnknownAreaError` for an id the warehouse does not know) and pass the resolved scope on.
A scope whose level was not resolved still gives a correct predicate: it looks the level up in
SQL, and an id that is not in ``areas`` matches nothing (never the whole district, never "any
level").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

__all__ = [
    "LEVELS",
    "LEVEL_COLUMNS",
    "WINDOW_KEYS",
    "Level",
    "Scope",
    "UnknownAreaError",
    "Window",
    "area_level",
    "areas_per_level",
    "check_display_level",
    "child_level",
    "deployment_levels",
    "district_area",
]

# Levels from the top down; a scope at one level contains areas at every level below it.
LEVELS = ("district", "street", "community", "grid", "microgrid")
# The column of ``events`` (and of the ``areas`` ancestor columns) that holds the id at a level.
LEVEL_COLUMNS = {"street": "street_id", "community": "community_id", "grid": "grid_id",
                 "microgrid": "microgrid_id"}
WINDOW_KEYS = ("today", "7d", "30d", "90d", "this_week", "last_week", "custom")
# Rolling windows: days before "now".
_ROLLING_DAYS = {"7d": 7, "30d": 30, "90d": 90}
URGENCIES = ("urgent", "normal")

_SQL_DIR = Path(__file__).resolve().parent / "sql"


@cache
def _sql(name: str) -> str:
    return (_SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


class UnknownAreaError(KeyError):
    """The warehouse has no area with this id (a typo in ``?scope=``, an area of another deployment)."""

    def __init__(self, area_id: str):
        super().__init__(area_id)
        self.area_id = area_id

    def __str__(self) -> str:
        return f"unknown area {self.area_id!r}"


def area_level(con: duckdb.DuckDBPyConnection, area_id: str) -> str:
    """The level of ``area_id`` ("district" ... "microgrid"), from the ``areas`` table.

    Raises:
        UnknownAreaError: the warehouse has no such area (a ``KeyError``).
    """
    rows = con.execute(_sql("scope_area_level"), {"area_id": str(area_id)}).fetchall()
    if not rows:
        raise UnknownAreaError(str(area_id))
    return str(rows[0][0])


def district_area(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """The warehouse's own district: ``area_id``, ``name``, ``name_en``, centroid and ``geojson_simple``.

    ``None`` when ``areas`` has no district row (a warehouse without reference data yet). With
    several (which the ETL's area checks reject) the lowest id wins, so the answer is stable.
    """
    cur = con.execute(_sql("scope_district"))
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cur.description], row, strict=True))


@dataclass(frozen=True)
class Level:
    """One level of this deployment: its slot in ``areas.level``, its depth from the top, its display names.

    The five slots are the product's vocabulary: ``district`` is the deployment's one top area,
    ``microgrid`` the finest level (where cases are placed), and ``street``, ``community``, ``grid`` the
    levels between, used top-down (a city with region → council has district, street, microgrid).

    Attributes:
        level: the slot (``"district"`` ... ``"microgrid"``).
        depth: 0 for the top, then 1, 2 ...
        name: the zh-CN display name from ``area_levels``; ``None`` when the warehouse has none (the web tier
            uses the slot's default name then).
        name_en: the English display name, or ``None`` likewise.
    """

    level: str
    depth: int
    name: str | None = None
    name_en: str | None = None


def deployment_levels(con: duckdb.DuckDBPyConnection) -> list[Level]:
    """The levels this deployment has, top-down (2 to 5 of them; empty without areas).

    From ``area_levels`` (written by ``app.py geography import`` and the demo); when it is empty, or the
    snapshot predates it, the levels present in ``areas`` with no names.
    """
    try:
        rows = con.execute(_sql("deployment_levels")).fetchall()
    except duckdb.CatalogException:  # a snapshot older than the area_levels table
        rows = con.execute(_sql("deployment_levels_areas")).fetchall()
    known = sorted((r for r in rows if r[0] in LEVELS), key=lambda r: LEVELS.index(r[0]))
    return [Level(str(lv), depth, name or None, name_en or None) for depth, (lv, name, name_en) in enumerate(known)]


def areas_per_level(con: duckdb.DuckDBPyConnection, scope: Scope) -> dict[str, int]:
    """How many areas of each level lie inside the scope's area (the area itself at its own level)."""
    sql, params = scope.area_predicate("a", microgrid_column="area_id")
    return {str(lv): int(n) for lv, n in con.execute(_sql("areas_per_level").format(area=sql), params).fetchall()}


def check_display_level(con: duckdb.DuckDBPyConnection, scope: Scope, level: str) -> str:
    """Check that areas of ``level`` can be listed inside ``scope`` (a known level, not above the scope's).

    Returns:
        The scope's own level.

    Raises:
        ValueError: ``level`` is not a level, or lies above the scope's level.
        UnknownAreaError: the scope's area is not in the warehouse.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    scope_level = scope.level_in(con)
    if LEVELS.index(level) < LEVELS.index(scope_level):
        raise ValueError(f"level {level!r} is above the scope's level {scope_level!r}")
    return scope_level


def child_level(level: str, levels: list[Level] | tuple[str, ...] | None = None) -> str | None:
    """The level just below ``level`` among the deployment's ``levels`` (``None`` below the finest one).

    Args:
        level: a slot.
        levels: the deployment's levels (:func:`deployment_levels`, or slots); default all five slots.

    >>> child_level("district", [Level("district", 0), Level("street", 1), Level("microgrid", 2)])
    'street'
    >>> child_level("street", ("district", "street", "microgrid"))
    'microgrid'
    """
    slots = [lv.level if isinstance(lv, Level) else lv for lv in (levels or LEVELS)]
    later = [s for s in slots if LEVELS.index(s) > LEVELS.index(level)]
    return min(later, key=LEVELS.index) if later else None


@dataclass(frozen=True)
class Scope:
    """An area at any level plus filters, applied in SQL with bound parameters.

    Attributes:
        area_id: the area (required: a deployment's own district comes from its warehouse).
        categories: level-1 or level-2 category ids; a case matches if either of its categories is
            listed. Empty means all.
        channels: channel ids (``qr``, ``hotline`` ...); empty means all.
        departments: department ids; empty means all.
        urgency: ``"urgent"``, ``"normal"`` or ``None`` for both.
        level: the area's level when already known (see :meth:`resolved`); ``None`` means not
            resolved yet, and the predicate then looks the level up in SQL.
    """

    area_id: str
    categories: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    urgency: str | None = None
    level: str | None = field(default=None, compare=True)

    def __post_init__(self) -> None:
        # Lists from a URL parser are welcome; store tuples so the scope stays hashable (caches).
        for name in ("categories", "channels", "departments"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, tuple(str(v) for v in value))
        if self.urgency is not None and self.urgency not in URGENCIES:
            raise ValueError(f"urgency must be one of {URGENCIES} or None, got {self.urgency!r}")
        if self.level is not None and self.level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, got {self.level!r}")

    # --- level ------------------------------------------------------------------------------------
    @property
    def area_level(self) -> str | None:
        """The resolved level; ``None`` until :meth:`resolved` looked it up (never a guess)."""
        return self.level

    def resolved(self, con: duckdb.DuckDBPyConnection) -> Scope:
        """This scope with :attr:`level` filled in from the ``areas`` table (no-op when known).

        Raises:
            UnknownAreaError: the warehouse has no area with this id.
        """
        if self.level is not None:
            return self
        return replace(self, level=area_level(con, self.area_id))

    def level_in(self, con: duckdb.DuckDBPyConnection) -> str:
        """The level of the scope's area: :attr:`level` when resolved, else looked up in ``areas``.

        Raises:
            UnknownAreaError: the warehouse has no area with this id.
        """
        return self.level or area_level(con, self.area_id)

    def with_area(self, area_id: str, level: str | None = None) -> Scope:
        """The same filters on another area (drill-down)."""
        return replace(self, area_id=area_id, level=level)

    # --- SQL ----------------------------------------------------------------------------------------
    def where(self, alias: str = "e") -> tuple[str, list]:
        """A SQL predicate over ``events`` (table alias ``alias``) and its positional parameters.

        Use it as ``con.execute(f"SELECT count(*) FROM events e WHERE {sql}", params)``: the text
        only ever holds column names and ``?`` placeholders.
        """
        parts: list[str] = []
        params: list[Any] = []
        area_sql, area_params = self._area_sql(alias, "microgrid_id", "?")
        parts.append(area_sql)
        params += area_params
        filter_sql, filter_params = self._filter_sql(alias, lambda i, v: "?")
        parts += filter_sql
        params += filter_params
        return " AND ".join(parts), params

    def predicate(self, alias: str = "e", prefix: str = "s", whole_district: bool = False
                  ) -> tuple[str, dict[str, Any]]:
        """Like :meth:`where` with named parameters (``$<prefix>_area`` ...), for queries that bind a dict.

        Named parameters let one SQL file use the scope several times (with different aliases)
        next to its own ``$now``/``$start`` parameters; DuckDB does not mix ``?`` and ``$name``.

        Args:
            alias: the events alias.
            prefix: prefix of the parameter names.
            whole_district: the caller knows the area is the warehouse's own district, so the
                area needs no predicate (saves DuckDB a sub-query per use).
        """
        named: dict[str, Any] = {}

        def name(key: str, value: Any) -> str:
            named[f"{prefix}_{key}"] = value
            return f"${prefix}_{key}"

        if whole_district:
            parts = ["TRUE"]
        else:
            area_sql, _ = self._area_sql(alias, "microgrid_id", name("area", self.area_id))
            parts = [area_sql]
        filter_sql, _ = self._filter_sql(alias, lambda key, v: name(key, v))
        parts += filter_sql
        return " AND ".join(parts), named

    def area_predicate(self, alias: str, microgrid_column: str = "microgrid_id", prefix: str = "s",
                       whole_district: bool = False) -> tuple[str, dict[str, Any]]:
        """Only the area part of the scope, over a relation with ancestor columns.

        For ``areas`` rows (alias ``a``) pass ``microgrid_column="area_id"``: a micro-grid row's
        own id is its ``area_id``; its ``street_id``/``community_id``/``grid_id`` are ancestors.
        Filters (category, channel ...) do not apply to areas or assets.
        """
        if whole_district:
            return "TRUE", {}
        key = f"{prefix}_area"
        sql, _ = self._area_sql(alias, microgrid_column, f"${key}")
        return sql, {key: self.area_id}

    def _area_sql(self, alias: str, microgrid_column: str, placeholder: str) -> tuple[str, list]:
        """(predicate, [area id] or []) for the area part."""
        level = self.area_level
        if level == "district":
            # One district per warehouse: the district scope is every case. An unknown district id
            # still has to match the areas table, so a typo shows nothing rather than everything.
            return (f"EXISTS (SELECT 1 FROM areas WHERE area_id = {placeholder} AND level = 'district')",
                    [self.area_id])
        if level is None:
            # Not resolved: look the level up in SQL. Each level compares its own column, so an id is
            # never matched at a level it does not have; an id missing from areas matches nothing.
            columns = {**LEVEL_COLUMNS, "microgrid": microgrid_column}
            arms = " OR ".join(f"(sa.level = '{lv}' AND {alias}.{col} = sa.area_id)" for lv, col in columns.items())
            return (f"EXISTS (SELECT 1 FROM areas sa WHERE sa.area_id = {placeholder} "
                    f"AND (sa.level = 'district' OR {arms}))", [self.area_id])
        column = microgrid_column if level == "microgrid" else LEVEL_COLUMNS[level]
        return f"{alias}.{column} = {placeholder}", [self.area_id]

    def _filter_sql(self, alias: str, placeholder) -> tuple[list[str], list]:
        """Predicates and positional values for the category, channel, department and urgency filters."""
        parts: list[str] = []
        params: list[Any] = []
        if self.categories:
            marks = ", ".join(placeholder(f"cat{i}", v) for i, v in enumerate(self.categories))
            marks_l1 = ", ".join(placeholder(f"cat{i}", v) for i, v in enumerate(self.categories))
            parts.append(f"({alias}.category_id IN ({marks}) OR {alias}.category_l1 IN ({marks_l1}))")
            params += list(self.categories) * 2
        if self.channels:
            marks = ", ".join(placeholder(f"ch{i}", v) for i, v in enumerate(self.channels))
            parts.append(f"{alias}.channel IN ({marks})")
            params += list(self.channels)
        if self.departments:
            marks = ", ".join(placeholder(f"dep{i}", v) for i, v in enumerate(self.departments))
            parts.append(f"{alias}.department_id IN ({marks})")
            params += list(self.departments)
        if self.urgency is not None:
            parts.append(f"{alias}.urgency = {placeholder('urg', self.urgency)}")
            params.append(self.urgency)
        return parts, params

    @property
    def has_filters(self) -> bool:
        """Whether any case filter (not the area) is set."""
        return bool(self.categories or self.channels or self.departments or self.urgency)


@dataclass(frozen=True)
class Window:
    """A half-open time range ``[start, end)`` with the name the pages use for it.

    Attributes:
        start: first instant (timezone-aware).
        end: first instant after the window (timezone-aware); usually ``now``.
        key: ``"today"``, ``"7d"``, ``"30d"`` or ``"custom"``.
    """

    start: datetime
    end: datetime
    key: str = "custom"

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window bounds must be timezone-aware")
        if self.end < self.start:
            raise ValueError(f"window ends before it starts: {self.start} .. {self.end}")
        if self.key not in WINDOW_KEYS:
            raise ValueError(f"window key must be one of {WINDOW_KEYS}, got {self.key!r}")

    @classmethod
    def named(cls, key: str, now: datetime, tz: str) -> Window:
        """The window a page asks for by name.

        ``today`` runs from local midnight to ``now`` (what the wall shows); ``7d``, ``30d`` and
        ``90d`` are rolling (``now`` minus 7, 30 or 90 days to ``now``), so a Monday morning is not
        an empty week; ``this_week`` runs from local Monday 00:00 to ``now``, ``last_week`` is the
        whole ISO week before it (Monday 00:00 to Monday 00:00).

        Args:
            key: one of :data:`WINDOW_KEYS` but ``custom`` (build a custom window with :meth:`days`).
            now: the "as of" time (timezone-aware).
            tz: the deployment zone that defines "midnight".
        """
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        local = now.astimezone(ZoneInfo(tz))
        midnight = datetime(local.year, local.month, local.day, tzinfo=ZoneInfo(tz))
        if key == "today":
            # Wall-clock midnight in the zone (zoneinfo resolves a DST gap or fold itself).
            return cls(midnight, local, "today")
        if key in ("this_week", "last_week"):
            monday = _local_midnight(midnight.date() - timedelta(days=midnight.weekday()), tz)
            if key == "this_week":
                return cls(monday, local, key)
            return cls(_local_midnight(monday.date() - timedelta(days=7), tz), monday, key)
        days = _ROLLING_DAYS.get(key)
        if days is None:
            raise ValueError(f"unknown window {key!r}; expected one of {WINDOW_KEYS[:-1]} (or build a custom Window)")
        return cls(local - timedelta(days=days), local, key)

    @classmethod
    def days(cls, first: date, last: date, tz: str) -> Window:
        """The custom window of whole local days ``first`` .. ``last`` (both included)."""
        if last < first:
            raise ValueError(f"window ends before it starts: {first} .. {last}")
        return cls(_local_midnight(first, tz), _local_midnight(last + timedelta(days=1), tz), "custom")

    @property
    def step(self) -> timedelta:
        """How far back the previous window of the same kind starts (a sparkline's spacing).

        A day for ``today`` (yesterday up to the same time), a week for the week windows, the rolling
        length for ``7d``/``30d``/``90d``, and for a custom window its length in whole days.
        """
        if self.key == "today":
            return timedelta(days=1)
        if self.key in ("this_week", "last_week"):
            return timedelta(weeks=1)
        if self.key in _ROLLING_DAYS:
            return timedelta(days=_ROLLING_DAYS[self.key])
        return timedelta(days=max(1, math.ceil(self.seconds / 86_400)))

    def previous(self, n: int) -> list[Window]:
        """The ``n`` windows before this one, each :attr:`step` earlier than the next, newest first."""
        return [Window(self.start - k * self.step, self.end - k * self.step, self.key) for k in range(1, n + 1)]

    @property
    def seconds(self) -> float:
        """Length of the window in seconds."""
        return (self.end - self.start).total_seconds()

    def shifted(self, days: float) -> Window:
        """The same window ``days`` earlier (baselines use whole weeks, so weekdays line up)."""
        delta = timedelta(days=days)
        return Window(self.start - delta, self.end - delta, self.key)


def _local_midnight(day: date, tz: str) -> datetime:
    """Local midnight starting ``day`` in ``tz``."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz))
