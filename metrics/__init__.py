"""Metrics: the working-day calendar, the SLA rules and deadlines, every KPI and every warning.

Public names are re-exported here so callers write ``from metrics import deadlines``.
"""

from metrics.backlog import backlog_by, backlog_daily, backlog_hourly, open_age
from metrics.calendar import (
    CalendarNotice,
    HolidayFileError,
    WorkCalendar,
    calendar_notice,
    default_calendar,
    default_holiday_file,
    read_holiday_file,
)
from metrics.freshness import Freshness, freshness
from metrics.grids import grid_aggregates
from metrics.scope import Scope, Window, area_level
from metrics.sla import (
    CASE_COLUMNS,
    DEADLINE_COLUMNS,
    OUTCOMES,
    STAGES,
    SlaRule,
    SlaRules,
    deadlines,
)
from metrics.vitals import Limit, Metric, VitalSigns, vital_signs
from metrics.warnings import (
    EfficiencyModel,
    SlaTicker,
    SurgeModel,
    Warning,
    efficiency_warnings,
    sla_risk,
    sla_ticker,
    surges,
)

__all__ = [
    "EfficiencyModel", "Freshness", "Limit", "Metric", "Scope", "SlaTicker", "SurgeModel", "VitalSigns", "Warning", "Window",
    "area_level", "backlog_by", "backlog_daily", "backlog_hourly", "efficiency_warnings", "freshness",
    "grid_aggregates", "open_age", "sla_risk", "sla_ticker", "surges", "vital_signs",
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
    "deadlines",
    "default_calendar",
    "default_holiday_file",
    "read_holiday_file",
]
