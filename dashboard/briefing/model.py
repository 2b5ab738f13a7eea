"""Every number of one briefing, gathered from ``metrics/`` for the week (the window) as of its end.

:func:`gather` is the query step of the briefing (STYLE.md: query → transform → render): it calls
the same metric functions as the pages with the week as a custom window and the week's end (or,
for a partial week, the present moment) as "as of". Nothing here formats or words anything; the
findings (``findings.py``), charts (``charts.py``) and the document (``document.py``) read this.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb
import pandas as pd

from dashboard.briefing.week import IsoWeek
from dashboard.runtime import Deployment
from layers import outlines, shapes
from metrics import areas
from metrics.backlog import backlog_series, data_first_day
from metrics.breaches import Breaches, urgent_breaches
from metrics.breakdown import received_by
from metrics.calendar import calendar_notice, default_calendar
from metrics.departments import DepartmentTable, department_table
from metrics.freshness import newest_case
from metrics.grids import grid_aggregates
from metrics.scope import Scope, Window, area_level, child_level
from metrics.vitals import VitalSigns, vital_signs
from metrics.warnings import Warning, surges
from settings import Settings

__all__ = ["AreaVitals", "Briefing", "MapData", "gather", "TOP_CATEGORIES", "BREACHES_LISTED", "TREND_WEEKS"]

TOP_CATEGORIES = 10
BREACHES_LISTED = 30
TREND_WEEKS = 8
SURGES_LISTED = 10


@dataclass(frozen=True)
class AreaVitals:
    """One area below the briefing's scope (a street of the district) and its vital signs for the week."""

    area_id: str
    name: str
    name_en: str
    vitals: VitalSigns


@dataclass(frozen=True)
class MapData:
    """What the two maps draw: the areas of ``level`` with their week's numbers, the outlines and their names."""

    level: str
    aggregates: pd.DataFrame
    shapes: pd.DataFrame
    outline_level: str | None
    outlines: pd.DataFrame
    outline_points: pd.DataFrame


@dataclass(frozen=True)
class Briefing:
    """One week of one area, as numbers.

    Attributes:
        week: the ISO week.
        start: its first moment (Monday 00:00, local).
        end: the end of the week (next Monday 00:00, local).
        as_of: the "as of" time of every number: ``end``, or the present moment for a partial week.
        partial: the week was not over when written.
        generated_at: when the numbers were gathered.
        data_as_of: the newest case received by ``as_of`` (``None`` without cases).
        deployment: the deployment (its names and levels).
        area_id: the briefing's area (the district, or e.g. a street).
        area_level: its slot.
        area_names: the names of the area and its ancestors top-down, ``[(zh, en), ...]``.
        scope: the resolved scope of the area.
        calendar_notice: the working-day fallback notice ``(zh, en)``, ``None`` when not needed.
        vitals: the week's vital signs (baseline: the 4 weeks before, the "4-week norm").
        previous: the previous week's vital signs, as of its own end; ``None`` when the data begin after
            its start (a week with no data is no comparison: 0 cases is not "fewer").
        children_level: the level below the area (streets for the district), ``None`` at the bottom.
        children: each of those areas' vital signs for the week.
        departments: the departments table for the week.
        categories: the top categories (``received_by``) with the previous week's counts.
        surges: surges detected at the end of each day of the week (the last 24 h each), one per area
            and category (the largest count), most significant first.
        breaches: urgent cases whose closure deadline in the week was missed.
        daily: inflow, outflow, open and overdue per day of the week.
        weekly: the same per week over the last :data:`TREND_WEEKS` weeks.
        map: the map data.
    """

    week: IsoWeek
    start: datetime
    end: datetime
    as_of: datetime
    partial: bool
    generated_at: datetime
    data_as_of: datetime | None
    deployment: Deployment
    area_id: str
    area_level: str
    area_names: list[tuple[str, str]]
    scope: Scope
    calendar_notice: tuple[str, str] | None
    vitals: VitalSigns
    previous: VitalSigns | None
    children_level: str | None
    children: list[AreaVitals]
    departments: DepartmentTable
    categories: pd.DataFrame
    surges: list[Warning]
    breaches: Breaches
    daily: pd.DataFrame
    weekly: pd.DataFrame
    map: MapData

    @property
    def has_data(self) -> bool:
        """Whether anything happened: a case received in the week, or a case open at its end."""
        signs = self.vitals.by_key()
        return bool((signs["received"].value or 0) > 0 or (signs["open_backlog"].value or 0) > 0)

    @property
    def window(self) -> Window:
        """The week as the metrics' window (its end clipped to :attr:`as_of`)."""
        return Window(self.start, self.as_of, "custom")


def _map_level(deployment: Deployment, scope_level: str) -> str:
    """The level the maps colour: the grids where the deployment has them, else its finest level below the scope."""
    slots = deployment.slots
    below = slots[slots.index(scope_level) + 1:] if scope_level in slots else ()
    if "grid" in below:
        return "grid"
    return below[-1] if below else scope_level


def _week_surges(con: duckdb.DuckDBPyConnection, scope: Scope, start: datetime, as_of: datetime,
                 settings: Settings) -> list[Warning]:
    """The surges of the last 24 h at the end of each day of the week (up to ``as_of``), one per area and category."""
    found: dict[tuple[str, str], Warning] = {}
    ends = sorted({min(start + timedelta(days=d), as_of) for d in range(1, 8)})
    for moment in ends:
        if moment <= start:
            continue
        for w in surges(con, scope, moment, settings, hours=24):
            key = (w.area_id, str(w.evidence.get("category_id")))
            if key not in found or w.evidence["count"] > found[key].evidence["count"]:
                found[key] = w
    return sorted(found.values(), key=lambda w: (w.evidence["p_value"], -w.evidence["count"], w.area_id))[:SURGES_LISTED]


def gather(con: duckdb.DuckDBPyConnection, deployment: Deployment, settings: Settings, week: IsoWeek,
           area_id: str | None, now: datetime, generated_at: datetime | None = None) -> Briefing:
    """All the numbers of the briefing of ``week`` for ``area_id`` (the district when ``None``).

    Args:
        con: a cursor on a snapshot.
        deployment: the deployment (``dashboard.runtime.read_deployment`` with the place names).
        settings: the deployment's settings.
        week: the week.
        area_id: the area, any level.
        now: the data's present (the wall clock, or the newest case of historical data): the as-of
            time when it falls inside the week, which makes the briefing partial.
        generated_at: when the briefing is written (default ``now``).

    Raises:
        metrics.scope.UnknownAreaError: no such area.
    """
    tz = settings.timezone
    start, end = week.bounds(tz)
    as_of = min(end, now.astimezone(start.tzinfo))
    area_id = area_id or deployment.district_id
    level = area_level(con, area_id)
    scope = Scope(area_id, level=level)
    window = Window(start, max(as_of, start), "custom")
    chain = areas.ancestors(con, area_id)
    names = [(str(r["name"] or r["area_id"]), str(r["name_en"] or "")) for _, r in chain.iterrows()]
    if len(chain) and str(chain.iloc[0]["area_id"]) == deployment.district_id:
        names[0] = (deployment.name, deployment.name_en)  # the place_name settings over the geography's name
    names = names or [(deployment.name, deployment.name_en)]

    vitals = vital_signs(con, scope, window, as_of, settings)
    prev_start, prev_end = week.previous().bounds(tz)
    first_day = data_first_day(con, as_of, settings)
    previous = None
    if first_day is not None and prev_start.date() >= first_day:
        previous = vital_signs(con, scope, Window(prev_start, prev_end, "custom"), min(prev_end, as_of), settings)

    below = child_level(level, deployment.slots)
    children = []
    if below is not None:
        for _, row in shapes.points(con, scope, below).iterrows():
            child = scope.with_area(str(row["area_id"]), below)
            children.append(AreaVitals(str(row["area_id"]), str(row["name"] or row["area_id"]),
                                       str(row["name_en"] or ""), vital_signs(con, child, window, as_of, settings)))

    map_level = _map_level(deployment, level)
    outline_df = outlines.query(con, scope, map_level, deployment.slots)
    outline_level = outlines.outline_level(level, map_level, deployment.slots)
    mapdata = MapData(
        level=map_level, aggregates=grid_aggregates(con, scope, map_level, window, as_of, settings),
        shapes=shapes.shapes(con, scope, map_level), outline_level=outline_level, outlines=outline_df,
        outline_points=shapes.points(con, scope, outline_level) if outline_level else pd.DataFrame())

    trend = Window(start - timedelta(weeks=TREND_WEEKS - 1), window.end, "custom")
    newest = newest_case(con)
    notice = calendar_notice(default_calendar(settings), start.date(), end.date() + timedelta(days=14))
    return Briefing(
        week=week, start=start, end=end, as_of=as_of, partial=as_of < end,
        generated_at=(generated_at or now).astimezone(start.tzinfo),
        data_as_of=None if newest is None else min(newest.astimezone(start.tzinfo), as_of),
        deployment=deployment, area_id=area_id, area_level=level, area_names=names, scope=scope,
        calendar_notice=(notice.zh, notice.en) if notice else None,
        vitals=vitals, previous=previous, children_level=below, children=children,
        departments=department_table(con, scope, window, as_of, settings),
        categories=received_by(con, scope, window, as_of, "category", settings, limit=TOP_CATEGORIES),
        surges=_week_surges(con, scope, start, as_of, settings),
        breaches=urgent_breaches(con, scope, window, as_of, settings, area_level=map_level, limit=BREACHES_LISTED),
        daily=backlog_series(con, scope, window, as_of, settings, gran="day"),
        weekly=backlog_series(con, scope, trend, as_of, settings, gran="week"),
        map=mapdata,
    )
