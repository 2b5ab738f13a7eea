"""Pure component builders: data (metrics, layer rows) → Dash components. No queries here.

Each builder is a plain function tested on tiny inputs in ``tests/dashboard/``; the wall, the
analyst pages and the briefing share them.
"""

from dashboard.components.format import change_text, clock_time, countdown, number, target_text, value_parts
from dashboard.components.header import data_status, no_snapshot_status
from dashboard.components.resources import resource_table
from dashboard.components.ticker import risk_summary, ticker, ticker_rows
from dashboard.components.vitals import WALL_VITALS, index_tile, status_badge, vital_tile, vitals_strip
from dashboard.components.warnings import newest_first, warning_list
from dashboard.components.worst import map_title, worst_list

__all__ = [
    "WALL_VITALS", "change_text", "clock_time", "countdown", "data_status", "index_tile", "map_title",
    "newest_first", "no_snapshot_status", "number", "resource_table", "risk_summary", "status_badge",
    "target_text", "ticker", "ticker_rows", "value_parts", "vital_tile", "vitals_strip", "warning_list", "worst_list",
]
