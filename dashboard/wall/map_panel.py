"""The wall map: layers → first figure, then patches (the query/transform/render of the centre).

The browser keeps the figure; the server keeps nothing. What the browser holds is described by
a small "drawn" record the page stores next to the figure (a key for the geometry and a digest
of the values), sent back with every refresh. From it this module decides:

* the geometry key changed (first load, other level, language or screen size, new polygons)
  → the whole figure, GeoJSON included;
* only values changed → a ``dash.Patch`` with ``z``, hover numbers, labels, colour range;
* nothing changed → no update at all (zero bytes for the map).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from dash import no_update

from dashboard.components.worst import map_title, worst_list
from dashboard.figures.wall_map import coloraxis, map_figure, map_patch
from dashboard.i18n import level_name, pick, t
from dashboard.theme import FONT_FAMILY, font_px
from dashboard.wall import data
from dashboard.wall.options import BadOptions, WallOptions
from layers import grid_heat, outlines, shapes, view, worst

__all__ = ["MapView", "MapOutputs", "focus_step", "map_outputs", "LABEL_ROOM"]

# Share of the map left free on each side, so that a label centred on an area at the edge fits.
LABEL_ROOM = 0.07


@dataclass(frozen=True)
class MapView:
    """The browser's screen: font scale and the map's size in CSS pixels."""

    scale: float = 1.0
    width: int = 845
    height: int = 820

    @classmethod
    def from_viewport(cls, viewport: object) -> MapView:
        """From the viewport store (``assets/wall.js``); defaults for a 1920×1080 main layout.

        Raises:
            BadOptions: not an object, or a size that is not a number (a hand-made request; the
                callback answers HTTP 400). Numbers are kept within what a screen can be.
        """
        if viewport is None:
            viewport = {}
        if not isinstance(viewport, dict):
            raise BadOptions(f"viewport must be an object, got {type(viewport).__name__}")

        def number(key: str) -> float:
            value = viewport.get(key)
            if value in (None, ""):
                return 0.0
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise BadOptions(f"viewport {key} must be a number, got {type(value).__name__}")
            try:
                n = float(value)
            except ValueError:
                raise BadOptions(f"viewport {key} must be a number, got {value!r}") from None
            if not math.isfinite(n):
                raise BadOptions(f"viewport {key} must be a finite number, got {value!r}")
            return n

        scale = min(max(number("scale") or 1.0, 0.25), 8.0)
        width = int(min(number("map_w"), 20_000)) or int(845 * scale)
        height = int(min(number("map_h"), 20_000)) or int(820 * scale)
        return cls(round(scale, 2), max(width, 1), max(height, 1))


@dataclass
class MapOutputs:
    """What a refresh sends for the map panels."""

    figure: Any  # dict (whole figure), dash.Patch or no_update
    title: list
    worst: list
    drawn: dict


def focus_step(opts: WallOptions, step: int, count: int) -> int:
    """Which focus a rotation step shows: 0 = the whole scope, then each outline area in turn."""
    if not opts.rotate or opts.cycle != "street" or count == 0:
        return 0
    return step % (count + 1)


def _digest(*parts: Any) -> str:
    return hashlib.blake2b(json.dumps(parts, separators=(",", ":"), default=str).encode(), digest_size=8).hexdigest()


def _hover_labels(lang: str) -> dict[str, str]:
    return {k: t(f"map.hover_{k}", lang) for k in grid_heat.HOVER_COLUMNS}


def _texts(points: pd.DataFrame, lang: str) -> list[str]:
    label, none = t("map.hover_residents", lang), t("map.no_residents", lang)
    residents = pd.to_numeric(points["residents"], errors="coerce")  # NULL: the city publishes none
    return [f"{pick(n, ne, lang)}<br>{none if pd.isna(r) else f'{label} {int(r):,}'}"
            for n, ne, r in zip(points["name"], points["name_en"], residents, strict=True)]


def map_outputs(src: data.Source, opts: WallOptions, mv: MapView, drawn: dict | None, step: int, n_labels: int,
                n_list: int) -> MapOutputs:
    """Everything the map panels need for one refresh.

    Args:
        src: the refresh's snapshot, scope, day and time.
        opts: the wall's options.
        mv: screen scale and map size.
        drawn: what the browser's figure holds (``{"key": ..., "digest": ...}``) or ``None``.
        step: rotations so far.
        n_labels: worst areas labelled on the map.
        n_list: worst areas listed beside the map (0 when the layout has no list).
    """
    con, scope, lang, level = src.con, src.scope, opts.lang, opts.level
    measure = opts.measure_at(step)
    aligned = data.map_numbers(src, level)
    rotating_focus = bool(opts.rotate) and opts.cycle == "street"
    slots = src.deployment.slots
    outline_level = outlines.outline_level(scope.level, level, slots) or level
    focus_areas = shapes.points(con, scope, outline_level) if rotating_focus else aligned.iloc[0:0]
    focus_i = focus_step(opts, step, len(focus_areas))
    focus = focus_areas.iloc[focus_i - 1] if focus_i else None

    ranked = worst.rank(aligned, measure, max(n_labels, n_list))
    labelled = ranked.head(n_labels)
    label_trace = worst.transform(labelled, measure, lang, font_px(0.95, mv.scale), FONT_FAMILY)
    vals = grid_heat.values(aligned, measure)
    axis = coloraxis(t(f"measure.{measure}", lang),
                     grid_heat.color_range(grid_heat.measure_series(aligned, measure), measure), measure, mv.scale)
    worst_fc = shapes.feature_collection(shapes.geometry_of(con, labelled["area_id"].tolist()))
    frame_id = str(focus["area_id"]) if focus is not None else scope.area_id
    frame = shapes.geometry_of(con, [frame_id])
    box = view.bounds(json.loads(g) for g in frame["geojson_simple"]) or view.bounds(
        [{"coordinates": [[lon, lat] for lon, lat in zip(aligned["centroid_lon"], aligned["centroid_lat"],
                                                          strict=True)]}])
    # nothing of the scope to frame (no polygons, no areas): the district's own extent, from its warehouse
    box = box or src.deployment.bounds
    lon, lat, zoom = view.fit(box, mv.width, mv.height, padding=LABEL_ROOM) if box else (0.0, 0.0, 1.0)
    focus_fc = shapes.feature_collection(frame) if focus is not None else shapes.EMPTY_COLLECTION

    key = "|".join([opts.scope, level, lang, f"{mv.scale}", f"{mv.width}x{mv.height}",
                    shapes.ids_digest(aligned["area_id"].tolist())])
    digest = _digest(vals, label_trace["text"], axis["cmax"], measure, frame_id)
    focus_name = pick(focus["name"], focus["name_en"], lang) if focus is not None else None
    title = map_title(measure, level, lang, focus_name, level_name(src.deployment.level(level), lang))
    listing = worst_list(ranked.head(n_list), measure, lang) if n_list else []
    drawn = drawn or {}
    if drawn.get("key") == key and drawn.get("digest") == digest:
        return MapOutputs(no_update, title, listing, drawn)
    if drawn.get("key") == key:
        patch = map_patch(values=vals, labels={k: label_trace[k] for k in ("lon", "lat", "text")}, axis=axis,
                          worst_source=worst_fc, focus_source=focus_fc, view=(lon, lat, zoom))
        return MapOutputs(patch, title, listing, {"key": key, "digest": digest})

    geo = shapes.shapes(con, scope, level)
    if not geo["area_id"].reset_index(drop=True).equals(aligned["area_id"].reset_index(drop=True)):
        raise RuntimeError("area polygons and numbers disagree; the next refresh redraws")  # reference reload race
    heat = grid_heat.transform(aligned, measure, _texts(aligned, lang), _hover_labels(lang),
                               geojson=shapes.feature_collection(geo))
    map_layers = [outlines.transform(outlines.query(con, scope, level, slots), mv.scale),
                  outlines.highlight(None, "worst", mv.scale), outlines.highlight(None, "focus", mv.scale)]
    map_layers[1]["source"], map_layers[2]["source"] = worst_fc, focus_fc
    figure = map_figure(heat, label_trace, map_layers, (lon, lat), zoom, axis, mv.scale, revision=key)
    return MapOutputs(figure, title, listing, {"key": key, "digest": digest})
