"""The wall's map figure, assembled from the layers, and the small patch that refreshes it.

The figure is drawn once with the polygons (hundreds of KB); every later refresh sends a
``dash.Patch`` with only the numbers (``z``, hover data, labels, colour range), and a rotation
of the focus street only the view. :func:`map_patch` is therefore the function that decides the
bytes per tick.

The base map is our own MapLibre style: a background colour and nothing else. It is plotly's
``white-bg`` in a dark colour, with one difference that matters offline: ``white-bg`` names a
glyph server on the internet, which MapLibre calls as soon as a text label appears; with no
``glyphs`` URL, MapLibre draws label glyphs locally with the system font.
"""

from __future__ import annotations

from dash import Patch

from dashboard.theme import BACKGROUND, FONT_FAMILY, HEAT_SCALE, TEXT, TEXT_DIM, font_px

__all__ = ["MAP_STYLE", "LAYER_OUTLINES", "LAYER_WORST", "LAYER_FOCUS", "coloraxis", "map_figure", "map_patch",
           "GRAPH_CONFIG"]

MAP_STYLE = {
    "version": 8,
    "name": "gridpulse-dark",
    # One unused, empty source rather than ``{}``: after a dash.Patch, the figure reaches
    # MapLibre with empty objects dropped, and a style without ``sources`` is rejected ("Map
    # error."). Found by tests/browser/test_wall.py; see docs/decisions-wall.md.
    "sources": {"gp-none": {"type": "geojson", "data": {"type": "FeatureCollection", "features": []}}},
    "layers": [{"id": "background", "type": "background", "paint": {"background-color": BACKGROUND}}],
}
# Positions of our line layers in layout.map.layers (patched by index).
LAYER_OUTLINES, LAYER_WORST, LAYER_FOCUS = 0, 1, 2
# A wall has no mouse: no mode bar, no scroll zoom; hover still works for an analyst at the desk.
GRAPH_CONFIG = {"displayModeBar": False, "scrollZoom": False, "responsive": True, "doubleClick": False}


def _ticks(cmax: float, measure: str) -> tuple[list[float], list[str]]:
    """0, the middle and the top ("≥top": values above it saturate). Counts get whole numbers."""
    if measure == "per_10k":
        mid = round(cmax / 2, 1)
        return [0, mid, cmax], ["0", f"{mid:g}", f"≥{cmax:g}"]
    mid = max(1, round(cmax / 2))
    return [0, mid, cmax], ["0", f"{mid:d}", f"≥{cmax:.0f}"]


def coloraxis(title: str, cmax: float, measure: str, scale: float) -> dict:
    """The colour axis: sequential scale from 0 to ``cmax`` with a compact bar in the lower left."""
    tickvals, ticktext = _ticks(cmax, measure)
    return {
        "colorscale": HEAT_SCALE, "cmin": 0, "cmax": cmax,
        "colorbar": {
            "title": {"text": title, "side": "top", "font": {"size": font_px(0.95, scale), "color": TEXT}},
            "tickvals": tickvals, "ticktext": ticktext,
            "tickfont": {"size": font_px(0.85, scale), "color": TEXT_DIM},
            "thickness": font_px(0.9, scale), "len": 0.32, "lenmode": "fraction",
            "x": 0.015, "xanchor": "left", "y": 0.03, "yanchor": "bottom",
            "outlinewidth": 0, "bgcolor": "rgba(7,11,20,0.72)", "borderwidth": 0, "xpad": 12, "ypad": 10,
        },
    }


def map_figure(heat: dict, labels: dict, map_layers: list[dict], center: tuple[float, float], zoom: float,
               axis: dict, scale: float, revision: str) -> dict:
    """The whole map figure (first draw, or after the level, language or screen size changed).

    Args:
        heat: the ``choroplethmap`` trace with its GeoJSON (``layers.grid_heat.transform``).
        labels: the worst-areas label trace (``layers.worst.transform``).
        map_layers: line layers in the order :data:`LAYER_OUTLINES`, :data:`LAYER_WORST`,
            :data:`LAYER_FOCUS`.
        center: (lon, lat).
        zoom: MapLibre zoom.
        axis: :func:`coloraxis`.
        scale: viewport height / 1080, for fonts.
        revision: ``uirevision``; unchanged across patches so plotly keeps the hover state.
    """
    return {
        "data": [heat, labels],
        "layout": {
            "map": {"style": MAP_STYLE, "center": {"lon": center[0], "lat": center[1]}, "zoom": zoom,
                    "layers": map_layers, "uirevision": revision},
            "coloraxis": axis,
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "font": {"family": FONT_FAMILY, "color": TEXT, "size": font_px(0.9, scale)},
            "hoverlabel": {"font": {"size": font_px(1.0, scale), "family": FONT_FAMILY}},
            "showlegend": False,
            "uirevision": revision,
        },
    }


def map_patch(values: dict | None = None, labels: dict | None = None, axis: dict | None = None,
              worst_source: dict | None = None, focus_source: dict | None = None,
              view: tuple[float, float, float] | None = None) -> Patch:
    """A refresh: only what is given is sent.

    Args:
        values: ``layers.grid_heat.values`` (``z`` and ``customdata``).
        labels: the label trace's ``lon``, ``lat`` and ``text``.
        axis: ``cmax``, tick values and texts and the title when the measure changed.
        worst_source: GeoJSON of the worst areas' outlines.
        focus_source: GeoJSON of the focus area (rotation by street).
        view: (lon, lat, zoom) of the focus.
    """
    p = Patch()
    if values is not None:
        p["data"][0]["z"] = values["z"]
        p["data"][0]["customdata"] = values["customdata"]
    if labels is not None:
        for key in ("lon", "lat", "text"):
            p["data"][1][key] = labels[key]
    if axis is not None:
        p["layout"]["coloraxis"]["cmax"] = axis["cmax"]
        p["layout"]["coloraxis"]["colorbar"]["tickvals"] = axis["colorbar"]["tickvals"]
        p["layout"]["coloraxis"]["colorbar"]["ticktext"] = axis["colorbar"]["ticktext"]
        p["layout"]["coloraxis"]["colorbar"]["title"]["text"] = axis["colorbar"]["title"]["text"]
    if worst_source is not None:
        p["layout"]["map"]["layers"][LAYER_WORST]["source"] = worst_source
    if focus_source is not None:
        p["layout"]["map"]["layers"][LAYER_FOCUS]["source"] = focus_source
    if view is not None:
        p["layout"]["map"]["center"] = {"lon": view[0], "lat": view[1]}
        p["layout"]["map"]["zoom"] = view[2]
    return p
