"""Metrics: the working-day calendar, the SLA rules and deadlines, and (later) every KPI and warning.

Public names are re-exported here so callers write ``from metrics import deadlines_sql``.
"""

from metrics.calendar import (
    CalendarNotice,
    HolidayFileError,
    WorkCalendar,
    calendar_notice,
    default_calendar,
    default_holiday_file,
    read_holiday_file,
)
from metrics.sla import (
    CASE_COLUMNS,
    DEADLINE_COLUMNS,
    OUTCOMES,
    STAGES,
    SlaRule,
    SlaRules,
    case_deadlines_query,
    deadlines,
    deadlines_sql,
)

__all__ = [
    "CASE_COLUMNS",
    "DEADLINE_COLUMNS",
    "OUTCOMES",
    "STAGES",
    "CalendarNotice",
    "HolidayFileError",
    "SlaRule",
    "SlaRules",
    "WorkCalendar",
    "calendar_notice",
    "case_deadlines_query",
    "deadlines",
    "deadlines_sql",
    "default_calendar",
    "default_holiday_file",
    "read_holiday_file",
]
