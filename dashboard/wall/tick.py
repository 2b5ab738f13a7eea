"""One refresh of the wall: which panels are on screen → their new contents.

The page's single refresh callback calls :func:`run_tick` with the panels the current layout
shows (pattern-matching outputs tell it). One request per refresh, one snapshot and one "now"
for every panel, so the numbers on the wall agree with each other. Data comes from the cached
loaders of :mod:`dashboard.wall.data` (query), is turned into components and figures by
:mod:`dashboard.components` and :mod:`dashboard.figures` (transform and render).

Each panel is built in isolation: a panel whose metric fails shows "unavailable" (the error goes
to the server log) while the rest of the wall keeps refreshing. Only a failure to reach the
snapshot at all fails the request, which the browser then shows as "reconnecting".

Inputs are checked before anything is computed: malformed options or viewport raise
:class:`~dashboard.wall.options.BadOptions` and an area the snapshot does not know raises
:class:`~metrics.scope.UnknownAreaError` (the page answers 400 and 404), and only a wall whose
area exists is noted for the background warm-up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dash import html, no_update

from dashboard import ids
from dashboard.auth import access
from dashboard.components.header import data_status, no_snapshot_status
from dashboard.components.resources import resource_table
from dashboard.components.ticker import ticker
from dashboard.components.vitals import vitals_strip
from dashboard.components.warnings import warning_list
from dashboard.figures.backlog import days_figure, days_frame, hours_figure, hours_frame, series_patch
from dashboard.i18n import level_name, pick, t
from dashboard.runtime import Runtime
from dashboard.wall import data, warmup
from dashboard.wall.layout import MAP_LABELS, panels_of, rows_for
from dashboard.wall.map_panel import MapView, map_outputs
from dashboard.wall.options import BadOptions, WallOptions
from data.snapshot import NoSnapshotError
from metrics.freshness import freshness

__all__ = ["TickResult", "run_tick"]

log = logging.getLogger(__name__)


@dataclass
class TickResult:
    """The callback's outputs, in the order the page asked for them."""

    texts: list
    graphs: list
    meta: dict
    drawn: dict = field(default_factory=dict)


def _unavailable(lang: str) -> html.Div:
    return html.Div(t("wall.unavailable", lang), className="gp-unavailable")


def _safe(name: str, build: Callable[[], Any], fallback: Any) -> Any:
    try:
        return build()
    except Exception:  # one panel's failure must not blank the wall
        log.exception("wall panel %s failed", name)
        return fallback


def _scope_text(src: data.Source, lang: str) -> str:
    if src.scope.level == "district":
        return ""
    names = data.scope_name(src)
    if not names:
        return t("wall.unknown_scope", lang, area=src.scope.area_id)
    level = level_name(src.deployment.level(src.scope.level or ""), lang)
    return t("wall.scope_line", lang, level=level, name=pick(*names, lang))


def _text_builders(src: data.Source, opts: WallOptions, historical: datetime | None = None
                   ) -> dict[str, Callable[[], Any]]:
    lang, tz, layout = opts.lang, src.settings.timezone, opts.layout

    def sla() -> list:
        r = data.risk(src)
        return ticker(r.rows, lang, rows_for(layout, ids.PANEL_SLA), counts=(r.breached, r.soon))

    def vitals() -> list:
        vs = data.vitals(src)
        return vitals_strip(vs.metrics, vs.index, vs.index_status, lang)

    return {
        ids.PANEL_STATUS: lambda: data_status(freshness(src.con, src.info, src.now, src.settings, historical), lang,
                                              tz, src.now),
        ids.PANEL_SCOPE: lambda: _scope_text(src, lang),
        ids.PANEL_VITALS: vitals,
        ids.PANEL_SLA: sla,
        ids.PANEL_WARNINGS: lambda: warning_list(data.warnings(src), lang, tz, rows_for(layout, ids.PANEL_WARNINGS)),
        ids.PANEL_RESOURCES: lambda: resource_table(data.resource_summary(src), lang,
                                                    level_name(src.deployment.level("street"), lang)),
    }


def _chart(src: data.Source, opts: WallOptions, mv: MapView, panel: str, drawn: dict) -> Any:
    """A backlog chart: the whole figure when the browser has none for this language and scale, else a patch."""
    if panel == ids.PANEL_BACKLOG_DAYS:
        df, to_frame, build = data.backlog_days(src), days_frame, days_figure
    else:
        df, to_frame, build = data.backlog_hours(src), hours_frame, hours_figure
    key = f"{opts.lang}|{mv.scale}"
    if drawn.get(panel) == key:
        return series_patch(to_frame(df))
    drawn[panel] = key
    return build(df, opts.lang, mv.scale)


def _check_layout(only: str | None, opts: WallOptions, text_panels: Sequence[str],
                  graph_panels: Sequence[str]) -> None:
    """A token limited to one layout gets that layout's panels and nothing else, whatever the request lists."""
    if only is None:
        return
    texts, graphs = panels_of(only)
    if opts.layout != only or not set(text_panels) <= set(texts) or not set(graph_panels) <= set(graphs):
        raise BadOptions(f"this wall token shows the {only!r} layout only")


def run_tick(runtime: Runtime, options: object, viewport: object, drawn: object, text_panels: Sequence[str],
             graph_panels: Sequence[str], rotate_step: object = 0, rotate_only: bool = False) -> TickResult:
    """Build the outputs of one refresh.

    Args:
        runtime: the app's runtime (settings, clock, snapshot).
        options: the options store (:meth:`WallOptions.to_dict` plus browser extras).
        viewport: the viewport store (scale, map size) or ``None`` before the browser measured.
        drawn: what the graphs hold (see :mod:`dashboard.wall.map_panel`).
        text_panels: the html panels on screen, in output order.
        graph_panels: the graph panels on screen, in output order.
        rotate_step: rotations so far (map measure or focus).
        rotate_only: the rotation timer fired, not the refresh: only the map panels change.

    Raises:
        BadOptions: malformed options, viewport, drawn record or rotation count (nothing computed).
        metrics.scope.UnknownAreaError: the options' area is not in the current snapshot.
        Exception: when the snapshot cannot be read at all; the browser shows "reconnecting".
    """
    mv = MapView.from_viewport(viewport)
    if drawn is not None and not isinstance(drawn, dict):
        raise BadOptions(f"drawn must be an object, got {type(drawn).__name__}")
    if isinstance(rotate_step, bool) or not isinstance(rotate_step, int | None) or (rotate_step or 0) < 0:
        raise BadOptions(f"rotation count must be a whole number >= 0, got {rotate_step!r}")
    settings = runtime.settings
    lang = WallOptions.from_dict(options, settings, "").lang  # malformed options: rejected even with no data
    now = runtime.now()
    historical = runtime.historical()  # the newest case's time when the data is historical (then also `now`)
    try:
        with runtime.snapshot() as (con, info):
            deployment = runtime.deployment(con, info)
            opts = WallOptions.from_dict(options, settings, runtime.home(deployment))
            _check_layout(access.current().layout, opts, text_panels, graph_panels)
            scope = runtime.scope(con, info, opts.scope)  # UnknownAreaError: nothing computed, nothing noted
            opts = opts.fitted(con, scope, deployment.slots)
            warmup.note(runtime, opts, text_panels, graph_panels)
            src = data.source(con, info, scope, now, settings, deployment)
            return _build(src, opts, mv, dict(drawn or {}), text_panels, graph_panels, rotate_step or 0, rotate_only,
                          historical)
    except NoSnapshotError:
        texts = [no_snapshot_status(lang) if p == ids.PANEL_STATUS else no_update for p in text_panels]
        return TickResult(texts, [no_update] * len(graph_panels), {"server_now": _ms(now), "snapshot": None},
                          dict(drawn or {}))


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _build(src: data.Source, opts: WallOptions, mv: MapView, drawn: dict, text_panels: Sequence[str],
           graph_panels: Sequence[str], rotate_step: int, rotate_only: bool,
           historical: datetime | None = None) -> TickResult:
    texts: dict[str, Any] = {}
    graphs: dict[str, Any] = {}
    if ids.PANEL_MAP in graph_panels or ids.PANEL_WORST in text_panels:
        labels = MAP_LABELS if ids.PANEL_MAP in graph_panels else 0
        m = _safe("map", lambda: map_outputs(src, opts, mv, drawn.get("map"), rotate_step, labels,
                                             rows_for(opts.layout, ids.PANEL_WORST)), None)
        if m is not None:
            drawn["map"] = m.drawn
            graphs[ids.PANEL_MAP] = m.figure
            texts[ids.PANEL_MAP_TITLE] = m.title
            texts[ids.PANEL_WORST] = m.worst
    if not rotate_only:
        builders = _text_builders(src, opts, historical)
        for p in text_panels:
            if p in builders:
                texts[p] = _safe(p, builders[p], [_unavailable(opts.lang)])
        for p in graph_panels:
            if p != ids.PANEL_MAP:
                graphs[p] = _safe(p, lambda p=p: _chart(src, opts, mv, p, drawn), no_update)
    return TickResult([texts.get(p, no_update) for p in text_panels], [graphs.get(p, no_update) for p in graph_panels],
                      {"server_now": _ms(src.now), "snapshot": src.info.name,
                       "frozen": historical is not None}, drawn)  # historical: the clock stands at the data's end
