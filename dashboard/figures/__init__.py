"""Figure builders (DataFrame → plotly figure dict), shared by the pages and the PDF briefing."""

from dashboard.figures.backlog import days_figure, hours_figure, series_patch
from dashboard.figures.wall_map import GRAPH_CONFIG, MAP_STYLE, coloraxis, map_figure, map_patch

__all__ = ["GRAPH_CONFIG", "MAP_STYLE", "coloraxis", "days_figure", "hours_figure", "map_figure", "map_patch",
           "series_patch"]
