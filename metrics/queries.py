"""A cursor made ready for the metric SQL: :func:`prepare` and the :class:`QueryContext` it returns.

Three modules do the work behind it, each with one job:

* :mod:`metrics.sqlfiles` renders and runs the ``.sql`` files (markers, bound parameters);
* :mod:`metrics.cache` remembers per-snapshot facts and results about the past (:func:`~metrics.cache.memo`);
* :mod:`metrics.sla_due` builds the SLA rule tables and the deadline views ``case_due`` and
  ``open_due`` (``sql/due_view.sql``), the SQL twin of :func:`metrics.sla.deadlines`.

Every metric function calls :func:`prepare` on the cursor it is given and then runs its queries
through the context (:meth:`QueryContext.run` binds ``$now`` and the scope).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from metrics import cache, sla_due, sqlfiles
from metrics.cache import SnapshotFacts
from metrics.calendar import WorkCalendar, default_calendar
from metrics.scope import Scope
from metrics.sla import SlaRules
from metrics.sla_due import SlaTables
from settings import Settings

__all__ = ["QueryContext", "prepare"]


@dataclass(frozen=True)
class QueryContext:
    """A cursor made ready for the metric SQL, and what the metrics need to know about the snapshot.

    Attributes:
        con: the cursor (with the temp tables, macros and views of ``sql/session_setup.sql``).
        now: the "as of" time, in the deployment zone.
        tz: the deployment zone.
        rules: the SLA rules in force.
        calendar: the working-day calendar.
        due_lookback: the longest time from receipt to any deadline: a stage due at t belongs to
            a case received after ``t - due_lookback``.
        facts: per-snapshot facts (day range, district, which stages the warehouse records).
        tables: the SLA rule tables and the spans derived from them.
        warehouse: the folder of the snapshot files when ``con`` is a read-only snapshot (the
            key of :func:`metrics.cache.memo`), else ``None``.
        snapshot: the snapshot file itself when read-only, else ``None``.
    """

    con: duckdb.DuckDBPyConnection
    now: datetime
    tz: str
    rules: SlaRules
    calendar: WorkCalendar
    due_lookback: timedelta
    facts: SnapshotFacts
    tables: SlaTables
    warehouse: str | None = None
    snapshot: str | None = None

    @property
    def off_us(self) -> int | None:
        """The zone's fixed UTC offset in microseconds (``None`` with daylight saving), for ``local_dayno``."""
        return self.tables.off_us

    @property
    def ad_lead(self) -> timedelta:
        """The longest acceptance or dispatch limit: those deadlines fall this long after receipt at most."""
        return timedelta(seconds=self.tables.ad_lead_s)

    @property
    def min_due(self) -> timedelta:
        """The shortest time from receipt to a closure deadline: no case is overdue sooner."""
        return timedelta(seconds=self.tables.min_due_s)

    def render(self, name: str, params: dict[str, Any] | None = None, scope: Scope | None = None
               ) -> tuple[str, dict[str, Any]]:
        """The SQL of ``name`` and the parameters it uses (``$now`` included), for a raw ``execute``."""
        sql, scope_params = sqlfiles.render(name, scope, district_id=self.facts.district_id, flags=self.facts.flags)
        return sql, sqlfiles.used_params(sql, {**self._shared(), **(params or {}), **scope_params})

    def run(self, name: str, params: dict[str, Any] | None = None, scope: Scope | None = None,
            columns: dict[str, str] | None = None, slots: int = 1) -> pd.DataFrame:
        """:func:`metrics.sqlfiles.run` on this cursor, binding ``$now`` and the stage flags where used."""
        return sqlfiles.run(self.con, name, {**self._shared(), **(params or {})}, scope, columns, slots,
                            self.facts.district_id, flags=self.facts.flags)

    def _shared(self) -> dict[str, Any]:
        """The parameters offered to every query: ``$now`` and which stages the warehouse records.

        ``$accept_recorded`` and ``$dispatch_recorded`` go to the ``open_stages`` macro
        (``open_stages.sql``): a stage the source does not record is never what an open case waits on.
        """
        return {"now": self.now, "accept_recorded": self.facts.accept_recorded,
                "dispatch_recorded": self.facts.dispatch_recorded}

    def open_now(self, scope: Scope) -> pd.DataFrame:
        """Cases open (and overdue) at :attr:`now` per micro-grid (``open_now.sql``).

        Shared by the vital signs, the grid aggregates and the backlog of one refresh.
        """
        return cache.memo(self, ("open_now", self.now, scope), lambda: self.run("open_now", {}, scope),
                          per_snapshot=True)

    def reference(self, name: str, params: dict[str, Any] | None = None, scope: Scope | None = None
                  ) -> pd.DataFrame:
        """:meth:`run` for reference data (areas, catalogues), remembered while those tables do not change.

        Results are kept per warehouse under the tables' fingerprint (``ref_key.sql``), so a new
        snapshot with the same areas and catalogues reads none of them again.
        """
        frozen = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in (params or {}).items()))
        if self.facts.ref_key is not None:
            key = ("reference", self.facts.ref_key, self.facts.district_id, name, frozen, scope)
            return cache.memo(self, key, lambda: self.run(name, params, scope))
        key = ("reference", name, frozen, scope)
        return cache.memo(self, key, lambda: self.run(name, params, scope), per_snapshot=True)

    def close_receipt_ranges(self, ws: datetime, we: datetime) -> tuple[tuple[datetime, datetime],
                                                                         tuple[datetime, datetime]]:
        """:func:`metrics.sla_due.close_receipt_ranges` under this context's rules and zone."""
        return sla_due.close_receipt_ranges(self.tables, ws, we, self.tz)

    def local(self, t: datetime) -> datetime:
        """``t`` in the deployment zone."""
        return t.astimezone(ZoneInfo(self.tz))


def prepare(con: duckdb.DuckDBPyConnection, now: datetime, settings: Settings,
            calendar: WorkCalendar | None = None, rules: SlaRules | None = None) -> QueryContext:
    """Get ``con`` ready for the metric SQL: SLA temp tables, macros and views, and snapshot facts.

    Every metric function calls it on the cursor it is given. Temporary objects are per cursor in
    DuckDB; the second call on the same cursor (same rules) costs well under a millisecond.

    Args:
        con: a cursor on a snapshot (or any database with the warehouse tables).
        now: the "as of" time (timezone-aware).
        settings: the deployment settings (zone, SLA rules, holiday file).
        calendar: override the deployment calendar (tests).
        rules: override the SLA rules (tests).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    tz = settings.timezone
    ZoneInfo(tz)  # a bad zone fails here rather than in the middle of a query
    con.execute("SET TimeZone = ?", [tz]).fetchall()  # results must be consumed before register()
    rules = rules or SlaRules.from_settings(settings)
    calendar = calendar or default_calendar(settings)
    path = cache.cursor_snapshot(con)
    facts = cache.facts(con, path)
    local_now = now.astimezone(ZoneInfo(tz))
    first = min(facts.first_day or local_now.date(), local_now.date())
    last = max(facts.last_day or local_now.date(), local_now.date()) + timedelta(days=1)
    tables = sla_due.sla_tables(rules, calendar, first, last, tz)
    sla_due.setup(con, tables, facts.flags)
    return QueryContext(con, local_now, tz, rules, calendar, timedelta(seconds=tables.due_lookback_s), facts,
                        tables, str(Path(path).parent) if path else None, path)
