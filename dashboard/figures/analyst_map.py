"""The analyst map's figure: areas coloured by a measure, light theme, with optional point overlays.

Pure functions from DataFrames to a plotly figure dict (no Dash, no database): the page
(``dashboard/pages/map.py``) queries, this module draws, and the tests check the dicts.

The map is SVG: plotly's ``choropleth`` on a ``geo`` subplot with every base layer hidden, in the
Mercator projection and fitted to the areas drawn. The wall keeps MapLibre (WebGL, its own style, no
tiles); the analyst map has no tiles either and draws at most a few hundred areas, which SVG draws
in tens of milliseconds where MapLibre's start costs an office PC without a GPU about a second of
software rendering (docs/analyst.md, "The map is SVG"). Nothing leaves the machine: plotly's geo
fetches its world outline (topojson) from a CDN unless it is already on the page, and
``assets/geo-offline.js`` puts an empty one there (no base layer is drawn from it).
Traces, in order:

0. the heat: a ``choropleth`` of the areas that have a value for the measure;
1. the areas without one (no residents for "per 10,000", no closure deadline in the window for
   "on-time %"), in grey, still hoverable and clickable (drill-down works on every area);
2. the selected area's thick outline (the micro-grid among its siblings at the finest level), when
   there is one: a ``choropleth`` of that area without fill and without hover;
3. the overlays of ``layers.registry`` (case points, cameras ...), clustered on the server.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from dashboard.theme import FONT_FAMILY

__all__ = ["MEASURES", "GEO", "view_ranges", "GRAPH_CONFIG", "HEAT_LIGHT", "NO_VALUE", "measure_values", "color_range",
           "coloraxis", "measure_axis", "heat_traces", "outline_trace", "selected_trace", "map_figure", "in_view"]

# The measure switch: key -> column of metrics.grids.grid_aggregates.
MEASURES = {"cases": "cases", "open": "open", "overdue": "overdue", "on_time_pct": "on_time_pct",
            "per_10k": "per_10k"}
# Higher is better for on-time %: its scale runs the other way, so that dark always means "look here".
_HIGHER_IS_BETTER = {"on_time_pct"}

TEXT = "#1b2433"
TEXT_DIM = "#5b677a"
BACKGROUND = "#eef1f6"
NO_VALUE = "#d5dbe5"
EDGE = "rgba(27, 36, 51, 0.45)"
SELECTED = "#1f5fa8"
OVERLAID_OPACITY = 0.5  # the areas' opacity under point overlays (0.9 without)
# Sequential, monotonic in lightness from near-white to dark red (ColorBrewer OrRd): on a light page
# the quiet areas fade into the background and the busy ones stand out, as inferno does on the dark wall.
HEAT_LIGHT: list[list[float | str]] = [
    [0.0, "#fff7ec"], [0.125, "#fee8c8"], [0.25, "#fdd49e"], [0.375, "#fdbb84"], [0.5, "#fc8d59"],
    [0.625, "#ef6548"], [0.75, "#d7301f"], [0.875, "#b30000"], [1.0, "#7f0000"],
]
# A blank geo subplot: no land, coasts, frame or graticule (``visible``), Mercator as on the wall and
# on web maps. ``scope``/``resolution`` name the topojson plotly looks up (world_110m), which
# ``assets/geo-offline.js`` provides empty. The view is the areas' box (:func:`map_figure`): plotly
# sizes the subplot to the aspect of its longitude and latitude ranges, so a wide city fills a wide
# panel (``fitbounds`` would fit the areas into the square of the whole world's Mercator instead).
GEO = {"visible": False, "projection": {"type": "mercator"}, "scope": "world", "resolution": 110,
       "bgcolor": BACKGROUND}
PADDING = 0.04  # of the box's width and height, around the areas
# plotly fits the view to the lon/lat ranges shrunk by this many degrees on every side (its geo
# constant ``clipPad``): nothing at city scale, 12-23% of a grid's box; the ranges are widened by it.
PLOTLY_CLIP_PAD = 0.001
# The map panel's width / height at 1920x1080 (1393 x 790 px); at 1366x768 it is about 2.1, where the
# view then has a little more above and below the areas.
VIEW_ASPECT = 1.76
# A desk with a mouse: scroll zoom and the mode bar's reset are welcome; no plotly logo, nothing online
# (plotly 3 shows a "Share chart..." button that uploads the chart to Plotly Cloud unless told not to).
GRAPH_CONFIG = {"displayModeBar": True, "displaylogo": False, "scrollZoom": True, "responsive": True,
                "showSendToCloud": False, "showEditInChartStudio": False,
                "modeBarButtonsToRemove": ["toImage", "select2d", "lasso2d", "sendChartToCloud"]}
# Hover: name, then the five numbers of the area (customdata in this order).
HOVER_COLUMNS = ("cases", "per_10k", "open", "overdue", "on_time_pct")


def _finite(x: object) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def measure_values(df: pd.DataFrame, measure: str) -> pd.Series:
    """The column of ``measure`` as floats (NaN where an area has no value).

    Raises:
        ValueError: not a key of :data:`MEASURES`.
    """
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}; expected one of {tuple(MEASURES)}")
    return pd.to_numeric(df[MEASURES[measure]], errors="coerce").astype(float)


def color_range(values: pd.Series, measure: str) -> tuple[float, float]:
    """``(cmin, cmax)`` of the colour axis.

    Counts and rates start at 0 and top out at the 98th percentile of the non-zero values (one
    surging area would otherwise wash out the rest; values above saturate and the bar says "≥"), or
    at the maximum when fewer than 20 areas have a value, at least 3 for counts and 1 for rates. On-time % ends at 100 and starts at the lowest value rounded
    down to 10 (a range of 0-100 would paint every area of a 90% district the same).

    >>> color_range(pd.Series([0, 1, 2, 3, 100] + [1] * 50), "cases")
    (0.0, 3.0)
    >>> color_range(pd.Series([3144, 3621, 4038]), "cases")
    (0.0, 4038.0)
    >>> color_range(pd.Series([88.0, 97.5, float("nan")]), "on_time_pct")
    (80.0, 100.0)
    """
    v = values.to_numpy(dtype=float)
    v = v[~pd.isna(v)]
    if measure == "on_time_pct":
        low = math.floor(min(v.min(), 99.0) / 10) * 10 if v.size else 0.0
        return float(max(low, 0.0)), 100.0
    pos = v[v > 0]
    # a percentile of a handful of areas is their maximum anyway; below 20 take it as such
    top = float(pd.Series(pos).quantile(0.98)) if pos.size >= 20 else float(pos.max()) if pos.size else 0.0
    if measure == "per_10k":
        return 0.0, max(1.0, float(math.ceil(top)) if top >= 10 else math.ceil(top * 10) / 10)
    return 0.0, max(3.0, float(math.ceil(top)))


def _ticks(cmin: float, cmax: float, measure: str, saturated: bool) -> tuple[list[float], list[str]]:
    mid = (cmin + cmax) / 2
    top = "≥" if saturated else ""  # "≥" only where some area is above the top of the scale
    if measure == "on_time_pct":
        return [cmin, mid, cmax], [f"≤{cmin:g}%", f"{mid:g}%", f"{cmax:g}%"]
    if measure == "per_10k":
        return [cmin, mid, cmax], [f"{cmin:g}", f"{round(mid, 1):g}", f"{top}{cmax:g}"]
    mid = max(1.0, round(mid))
    return [cmin, mid, cmax], [f"{cmin:.0f}", f"{mid:.0f}", f"{top}{cmax:.0f}"]


def coloraxis(title: str, cmin: float, cmax: float, measure: str, saturated: bool = True) -> dict:
    """The colour axis with a compact bar in the lower left; reversed when higher is better.

    ``saturated``: some area's value is above ``cmax`` (the top label then reads "≥").
    """
    tickvals, ticktext = _ticks(cmin, cmax, measure, saturated)
    return {
        "colorscale": HEAT_LIGHT, "reversescale": measure in _HIGHER_IS_BETTER, "cmin": cmin, "cmax": cmax,
        "colorbar": {
            "title": {"text": title, "side": "top", "font": {"size": 12, "color": TEXT}},
            "tickvals": tickvals, "ticktext": ticktext, "tickfont": {"size": 11, "color": TEXT_DIM},
            "thickness": 12, "len": 0.3, "lenmode": "fraction", "x": 0.01, "xanchor": "left", "y": 0.02,
            "yanchor": "bottom", "outlinewidth": 0, "bgcolor": "rgba(255,255,255,0.85)", "xpad": 10, "ypad": 8,
        },
    }


def measure_axis(df: pd.DataFrame, measure: str, title: str) -> dict:
    """The colour axis of ``measure`` over the areas of ``df`` (the map page and the briefing alike).

    Its range is :func:`color_range`; the top label reads "≥" only when some area is above it.
    """
    values = measure_values(df, measure)
    cmin, cmax = color_range(values, measure)
    return coloraxis(title, cmin, cmax, measure, saturated=bool((values > cmax).any()))


def _hovertemplate(labels: dict[str, str]) -> str:
    return ("<b>%{text}</b><br>"
            f"{labels['cases']} %{{customdata[0]:,}}<br>"
            f"{labels['per_10k']} %{{customdata[1]}}<br>"
            f"{labels['open']} %{{customdata[2]:,}}<br>"
            f"{labels['overdue']} %{{customdata[3]:,}}<br>"
            f"{labels['on_time_pct']} %{{customdata[4]}}"
            "<extra></extra>")


def _customdata(df: pd.DataFrame) -> list[list]:
    def rate(x: object) -> str:
        return f"{float(x):.1f}" if _finite(x) else "—"

    return [[int(c), rate(p), int(o), int(d), rate(t) + ("%" if _finite(t) else "")]
            for c, p, o, d, t in zip(df["cases"], df["per_10k"], df["open"], df["overdue"], df["on_time_pct"],
                                     strict=True)]


def heat_traces(df: pd.DataFrame, geojson: dict, measure: str, texts: Sequence[str], labels: dict[str, str]
                ) -> list[dict]:
    """The heat trace and the grey trace of the areas without a value (both always present).

    Args:
        df: ``metrics.grids.grid_aggregates`` rows of the areas drawn (one per polygon).
        geojson: their polygons (``layers.shapes.feature_collection``: feature ids are area ids).
        measure: a key of :data:`MEASURES`.
        texts: the hover title of each row (name, residents).
        labels: the hover labels of :data:`HOVER_COLUMNS` in the page's language.
    """
    values = measure_values(df, measure)
    has = values.notna().to_numpy()
    texts = list(texts)
    custom = _customdata(df)
    ids = df["area_id"].astype(str).tolist()
    decimals = 0 if measure in ("cases", "open", "overdue") else 1
    feats = {f["id"]: f for f in geojson.get("features", [])}

    def part(mask) -> tuple[list, dict]:
        keep = [i for i, m in enumerate(mask) if m]
        return keep, {"type": "FeatureCollection", "features": [feats[ids[i]] for i in keep if ids[i] in feats]}

    common = {"type": "choropleth", "locationmode": "geojson-id", "featureidkey": "id",
              "hovertemplate": _hovertemplate(labels)}
    keep, fc = part(has)
    heat = {**common, "name": "heat", "geojson": fc, "locations": [ids[i] for i in keep],
            "z": [round(float(values.iloc[i]), decimals) for i in keep], "coloraxis": "coloraxis",
            "text": [texts[i] for i in keep], "customdata": [custom[i] for i in keep],
            "marker": {"opacity": 0.9, "line": {"width": 0.8, "color": EDGE}}, "showlegend": False}
    keep, fc = part(~has)
    grey = {**common, "name": "no_value", "geojson": fc, "locations": [ids[i] for i in keep], "z": [0] * len(keep),
            "colorscale": [[0, NO_VALUE], [1, NO_VALUE]], "showscale": False, "text": [texts[i] for i in keep],
            "customdata": [custom[i] for i in keep], "marker": {"opacity": 0.9, "line": {"width": 0.8, "color": EDGE}},
            "showlegend": False}
    return [heat, grey]


def outline_trace(geojson: dict | None, color: str, width: float, name: str) -> list[dict]:
    """Areas drawn as outlines only: a ``choropleth`` without fill or hover; none without features."""
    features = (geojson or {}).get("features") or []
    if not features:
        return []
    return [{"type": "choropleth", "name": name, "locationmode": "geojson-id", "featureidkey": "id",
             "geojson": geojson, "locations": [f["id"] for f in features], "z": [0] * len(features),
             "colorscale": [[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]], "showscale": False,
             "marker": {"line": {"width": width, "color": color}}, "hoverinfo": "skip", "showlegend": False}]


def selected_trace(geojson: dict | None) -> list[dict]:
    """The selected area's thick outline (:func:`outline_trace`); none without a selection."""
    return outline_trace(geojson, SELECTED, 3.5, "selected")


def view_ranges(box: tuple[float, float, float, float] | None, aspect: float = VIEW_ASPECT) -> dict:
    """The geo subplot's longitude and latitude ranges around ``box`` (west, south, east, north).

    The box is widened (or heightened) to the map panel's ``aspect`` (width / height, as on the
    ground): plotly draws, and clips what is zoomed, inside the ranges' box, so a tall street would
    otherwise sit in a narrow column of the panel. Then padded, plus plotly's ``clipPad``. Without a
    box (a geography without shapes) the whole Mercator world.

    >>> view_ranges((120.0, 30.0, 120.5, 30.25), aspect=2.0)
    {'lonaxis': {'range': [119.936837, 120.563163]}, 'lataxis': {'range': [29.989, 30.261]}}
    """
    west, south, east, north = box or (-180.0, -80.0, 180.0, 80.0)
    k = max(math.cos(math.radians((south + north) / 2)), 0.05)  # a degree of longitude, in degrees of latitude
    width, height = max(east - west, 1e-6), max(north - south, 1e-6)
    if width * k < height * aspect:  # too tall for the panel: wider
        grow = (height * aspect / k - width) / 2
        west, east = west - grow, east + grow
    else:  # too wide: taller
        grow = (width * k / aspect - height) / 2
        south, north = south - grow, north + grow
    dx = (east - west) * PADDING + PLOTLY_CLIP_PAD
    dy = (north - south) * PADDING + PLOTLY_CLIP_PAD
    return {"lonaxis": {"range": [round(west - dx, 6), round(east + dx, 6)]},
            "lataxis": {"range": [round(max(south - dy, -85.0), 6), round(min(north + dy, 85.0), 6)]}}


def map_figure(heat: list[dict], overlays: list[dict], outlines: list[dict],
               box: tuple[float, float, float, float] | None, axis: dict, revision: str,
               aspect: float = VIEW_ASPECT) -> dict:
    """The whole figure.

    Args:
        heat: :func:`heat_traces`.
        overlays: point traces of ``layers.registry`` (their ``name`` already worded).
        outlines: :func:`outline_trace` or :func:`selected_trace`, drawn above the heat.
        box: (west, south, east, north) of the areas drawn: the view (:func:`view_ranges`).
        axis: :func:`coloraxis`.
        revision: ``uirevision``: the same view keeps the reader's pan and zoom across re-renders.
        aspect: width / height of the figure (the page's map panel by default; the briefing's map box).
    """
    if overlays:  # points over a dark area must stay visible: the areas step back
        heat = [{**h, "marker": {**h["marker"], "opacity": OVERLAID_OPACITY}} for h in heat]
    return {
        "data": [*heat, *outlines, *overlays],
        "layout": {
            "geo": {**GEO, **view_ranges(box, aspect), "uirevision": revision},
            "coloraxis": axis,
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
            "paper_bgcolor": BACKGROUND,
            "font": {"family": FONT_FAMILY, "color": TEXT, "size": 12},
            "hoverlabel": {"font": {"size": 13, "family": FONT_FAMILY}},
            "showlegend": bool(overlays),
            "legend": {"x": 0.01, "xanchor": "left", "y": 0.99, "yanchor": "top", "bgcolor": "rgba(255,255,255,0.85)",
                       "font": {"size": 12}},
            "uirevision": revision,
        },
    }


def in_view(figure: dict, seen: dict | None) -> dict:
    """``figure`` zoomed and panned as the reader left the map, if that was the same frame and level.

    ``seen`` is what the page read off the drawn graph (its ``uirevision``, projection scale and
    rotation, centre); plotly's own ``uirevision`` does not keep a geo zoom made with the buttons or
    the wheel, so the page carries it over to the next figure of the same frame itself.
    """
    geo = figure["layout"]["geo"]
    if not seen or seen.get("rev") != geo.get("uirevision") or not seen.get("scale"):
        return figure
    try:
        projection = {**geo.get("projection", {}), "scale": float(seen["scale"]), "rotation": {"lon": float(seen["rot"])}}
        center = {"lon": float(seen["lon"]), "lat": float(seen["lat"])}
    except (KeyError, TypeError, ValueError):
        return figure
    return {**figure, "layout": {**figure["layout"], "geo": {**geo, "projection": projection, "center": center}}}
