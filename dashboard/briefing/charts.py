"""The briefing's charts, built by the dashboard's own figure builders and sized for an A4 page.

The maps are the analyst map (``dashboard.figures.analyst_map``: the same colour scale, traces and
blank SVG geo, no basemap) with the outlines of the level below the briefing's area and their
names, so they print as vector paths with real text; the backlog charts are the analyst backlog
chart (``dashboard.figures.backlog``).
Sizes are CSS pixels at 96 per inch: 680 px is the 180 mm text width of the page.
"""

from __future__ import annotations

import json

import pandas as pd

from dashboard.briefing.model import Briefing
from dashboard.briefing.pdf import Chart
from dashboard.briefing.text import tr
from dashboard.figures import analyst_map as amap
from dashboard.figures.backlog import window_figure
from dashboard.i18n import level_name, pick, t
from dashboard.theme import FONT_FAMILY
from layers import shapes
from layers import view as framing

__all__ = ["charts", "MAP_SIZE", "CHART_SIZE"]

MAP_SIZE = (680, 400)
CHART_SIZE = (680, 215)
_OUTLINE = "#1b2433"


def _map(b: Briefing, measure: str, lang: str) -> dict | None:
    m = b.map
    if m.aggregates.empty or m.shapes.empty:
        return None
    fc = shapes.feature_collection(m.shapes)
    names = [pick(n, ne, lang) for n, ne in zip(m.aggregates["name"], m.aggregates["name_en"], strict=True)]
    labels = {k: t(f"map.measure.{k}", lang) for k in amap.HOVER_COLUMNS}
    heat = amap.heat_traces(m.aggregates, fc, measure, names, labels)
    axis = amap.measure_axis(m.aggregates, measure, t(f"map.measure.{measure}", lang))
    axis["colorbar"]["len"] = 0.45  # the analyst map's bar, a little longer on paper
    box = framing.bounds(json.loads(g) for g in m.shapes["geojson_simple"]) or b.deployment.bounds
    outlines = amap.outline_trace(shapes.feature_collection(m.outlines), _OUTLINE, 1.6, "outlines") \
        if not m.outlines.empty else []
    overlays = []
    if not m.outline_points.empty:
        pts = m.outline_points.dropna(subset=["centroid_lon", "centroid_lat"])
        overlays.append({"type": "scattergeo", "mode": "text", "name": "names", "showlegend": False,
                         "lon": pts["centroid_lon"].tolist(), "lat": pts["centroid_lat"].tolist(),
                         "text": [pick(n, ne, lang) for n, ne in zip(pts["name"], pts["name_en"], strict=True)],
                         "textfont": {"size": 15, "color": _OUTLINE, "family": FONT_FAMILY, "weight": "bold"},
                         "hoverinfo": "skip"})
    fig = amap.map_figure(heat, [], outlines, box, axis, revision="briefing", aspect=MAP_SIZE[0] / MAP_SIZE[1])
    fig["data"] += overlays  # names on top, without the overlay opacity rule meant for point layers
    fig["layout"]["showlegend"] = False
    return fig


def _backlog(df: pd.DataFrame, lang: str, gran: str) -> dict:
    fig = window_figure(df, lang, gran, scale=0.7)
    fig["layout"]["xaxis"].update({"tickformat": "%m-%d", "nticks": 9})
    return fig


def charts(b: Briefing, lang: str) -> dict[str, Chart]:
    """Every chart of the briefing by name (maps only where the scope has areas to colour)."""
    out = {"daily": Chart(_backlog(b.daily, lang, "day"), *CHART_SIZE),
           "weekly": Chart(_backlog(b.weekly, lang, "week"), *CHART_SIZE)}
    for name, measure in (("map_per_10k", _rate_measure(b)), ("map_overdue", "overdue")):
        fig = _map(b, measure, lang)
        if fig is not None:
            out[name] = Chart(fig, *MAP_SIZE)
    return out


def _rate_measure(b: Briefing) -> str:
    """Cases per 10,000 residents, or plain cases where the geography has no resident counts (LA's councils)."""
    rates = b.map.aggregates.get("per_10k")
    return "per_10k" if rates is not None and rates.notna().any() else "cases"


def map_titles(b: Briefing, lang: str) -> dict[str, str]:
    """The maps' captions, naming the level coloured."""
    level = level_name(b.deployment.level(b.map.level), lang)
    return {"map_per_10k": tr(f"map.{_rate_measure(b)}", lang, level=level),
            "map_overdue": tr("map.overdue", lang, level=level)}
