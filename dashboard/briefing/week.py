"""ISO weeks: the unit of the weekly briefing (Monday 00:00 to the next Monday 00:00, local time).

A week is named ``2026-W47`` (ISO 8601). Years have 52 or 53 ISO weeks: 2026-W53 runs from Monday
28 December 2026 to Sunday 3 January 2027, and 2027-W01 starts on 4 January 2027.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

__all__ = ["IsoWeek", "WEEK_PATTERN"]

WEEK_PATTERN = re.compile(r"^\s*(\d{4})-?[Ww](\d{1,2})\s*$")


class IsoWeek(NamedTuple):
    """One ISO week of one ISO year."""

    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """``"2026-W47"`` (or ``2026W47``, ``2026-w47``) as a week.

        Raises:
            ValueError: not of that form, or a week the year does not have (2025-W53).
        """
        m = WEEK_PATTERN.match(text or "")
        if m is None:
            raise ValueError(f"expected an ISO week such as 2026-W47, got {text!r}")
        week = cls(int(m.group(1)), int(m.group(2)))
        try:
            week.monday  # noqa: B018 - validates the week number
        except ValueError:
            raise ValueError(f"{week.year} has no ISO week {week.week} (weeks 1-{cls.weeks_in(week.year)})") from None
        return week

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        """The week ``day`` falls in."""
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @classmethod
    def last_complete(cls, now: datetime, tz: str) -> IsoWeek:
        """The newest week wholly before ``now`` in zone ``tz`` (on a Monday: the week that just ended)."""
        return cls.of(now.astimezone(ZoneInfo(tz)).date()).previous()

    @staticmethod
    def weeks_in(year: int) -> int:
        """52 or 53: 28 December always falls in the year's last week."""
        return date(year, 12, 28).isocalendar().week

    @property
    def monday(self) -> date:
        """The week's first day."""
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> date:
        """The week's last day."""
        return self.monday + timedelta(days=6)

    def bounds(self, tz: str) -> tuple[datetime, datetime]:
        """``[Monday 00:00, next Monday 00:00)`` in zone ``tz``."""
        zone = ZoneInfo(tz)
        start = datetime.combine(self.monday, time(0), tzinfo=zone)
        end = datetime.combine(self.monday + timedelta(days=7), time(0), tzinfo=zone)
        return start, end

    def previous(self, n: int = 1) -> IsoWeek:
        """The week ``n`` weeks earlier."""
        return IsoWeek.of(self.monday - timedelta(weeks=n))

    def is_over(self, now: datetime, tz: str) -> bool:
        """Whether the week has ended at ``now``."""
        return now >= self.bounds(tz)[1]

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"
