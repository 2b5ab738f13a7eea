"""The wall's skeleton: which panels each ``?layout=`` shows, where, and how big.

Declarative and data-free: panels are empty boxes of fixed size (CSS grid and flex weights),
filled by the refresh callback. Because every box's size comes from the layout and never from
its content, a refresh cannot shift anything, and nothing can ever need a scrollbar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dash import dcc, html

from dashboard import ids
from dashboard.components.format import clock_time
from dashboard.figures.wall_map import GRAPH_CONFIG
from dashboard.i18n import level_name, pick, t
from dashboard.runtime import Deployment
from dashboard.wall.options import WallOptions
from settings import Settings

__all__ = ["Column", "LAYOUTS", "ROWS", "MAP_LABELS", "panels_of", "rows_for", "wall_layout"]


@dataclass(frozen=True)
class Column:
    """A column of the body: its width share and its panels with their height shares."""

    width: float
    panels: tuple[tuple[str, float], ...]


# layout name -> columns, left to right. Heights are flex weights inside the column.
LAYOUTS: dict[str, tuple[Column, ...]] = {
    "main": (
        Column(27, ((ids.PANEL_BACKLOG_DAYS, 1.1), (ids.PANEL_BACKLOG_HOURS, 0.9), (ids.PANEL_RESOURCES, 1.0))),
        Column(43, ((ids.PANEL_MAP, 1.0),)),
        Column(30, ((ids.PANEL_SLA, 1.6), (ids.PANEL_WARNINGS, 1.0))),
    ),
    "map": (
        Column(70, ((ids.PANEL_MAP, 1.0),)),
        Column(30, ((ids.PANEL_WORST, 1.6), (ids.PANEL_RESOURCES, 0.8))),
    ),
    "warnings": (
        Column(56, ((ids.PANEL_SLA, 1.0),)),
        Column(44, ((ids.PANEL_WARNINGS, 1.1), (ids.PANEL_BACKLOG_HOURS, 0.9), (ids.PANEL_RESOURCES, 1.0))),
    ),
}
# Rows that fit a panel in a layout (tuned on screenshots at 1920×1080; the text scales with the
# screen, so the same count fits at 3840×2160).
ROWS: dict[tuple[str, str], int] = {
    ("main", ids.PANEL_SLA): 6, ("warnings", ids.PANEL_SLA): 14,
    ("main", ids.PANEL_WARNINGS): 4, ("warnings", ids.PANEL_WARNINGS): 6,
    ("map", ids.PANEL_WORST): 10,
}
MAP_LABELS = 5  # worst areas labelled on the map

_TITLES = {
    ids.PANEL_MAP: "panel.map", ids.PANEL_BACKLOG_DAYS: "panel.backlog_days",
    ids.PANEL_BACKLOG_HOURS: "panel.backlog_hours", ids.PANEL_SLA: "panel.sla",
    ids.PANEL_WARNINGS: "panel.warnings", ids.PANEL_RESOURCES: "panel.resources", ids.PANEL_WORST: "panel.worst",
}


def panels_of(layout: str) -> tuple[list[str], list[str]]:
    """The html panels and the graph panels a layout shows (header and vital signs included)."""
    shown = [p for col in LAYOUTS[layout] for p, _ in col.panels]
    texts = [ids.PANEL_STATUS, ids.PANEL_SCOPE, ids.PANEL_VITALS] + [p for p in shown if p not in ids.GRAPH_PANELS]
    if ids.PANEL_MAP in shown:
        texts.append(ids.PANEL_MAP_TITLE)
    return texts, [p for p in shown if p in ids.GRAPH_PANELS]


def rows_for(layout: str, panel: str) -> int:
    """Rows of ``panel`` in ``layout`` (0 when the layout does not show it)."""
    return ROWS.get((layout, panel), 0)


def _graph(panel: str, **extra) -> dcc.Graph:
    return dcc.Graph(id=ids.graph_panel(panel), config=GRAPH_CONFIG, className="gp-graph",
                     figure={"data": [], "layout": {"paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
                                                    "xaxis": {"visible": False}, "yaxis": {"visible": False}}},
                     **extra)


def _panel_body(panel: str, lang: str) -> list:
    if panel == ids.PANEL_MAP:
        return [html.Div(id=ids.WALL_MAP_BOX, className="gp-map-box", children=_graph(panel)),
                html.Div(id=ids.text_panel(ids.PANEL_MAP_TITLE), className="gp-map-title")]
    if panel in (ids.PANEL_BACKLOG_DAYS, ids.PANEL_BACKLOG_HOURS):
        return [_graph(panel)]
    return [html.Div(id=ids.text_panel(panel), className=f"gp-body gp-body-{panel}")]


def _title(panel: str, lang: str, deployment: Deployment) -> str:
    """A panel's title; the map and resources panels name the deployment's levels, not the demo's slots."""
    if not deployment.levels:  # a warehouse that names no levels keeps the product's titles
        return t(_TITLES[panel], lang)
    if panel == ids.PANEL_MAP:
        return t("panel.heatmap", lang)
    if panel == ids.PANEL_RESOURCES:
        return t("panel.resources_by", lang, level=level_name(deployment.level("street"), lang))
    return t(_TITLES[panel], lang)


def _panel(panel: str, weight: float, lang: str, deployment: Deployment) -> html.Section:
    return html.Section(className=f"gp-panel gp-panel-{panel}", style={"flexGrow": weight},
                        children=[html.H2(_title(panel, lang, deployment), className="gp-panel-title"),
                                  *_panel_body(panel, lang)])


def _header(opts: WallOptions, settings: Settings, deployment: Deployment, now: datetime) -> html.Header:
    district = pick(deployment.name, deployment.name_en, opts.lang)
    return html.Header(className="gp-header", children=[
        html.Div(className="gp-brand", children=[
            html.Span(district, className="gp-district"),
            html.Span(id=ids.text_panel(ids.PANEL_SCOPE), className="gp-scope"),
            html.Span(t("wall.title", opts.lang), className="gp-title"),
        ]),
        html.Div(className="gp-clock-box", children=[
            html.Span(clock_time(now, settings.timezone), id=ids.WALL_CLOCK_TIME, className="gp-clock"),
            html.Span("", id=ids.WALL_CLOCK_DATE, className="gp-date"),
        ]),
        html.Div(id=ids.text_panel(ids.PANEL_STATUS), className="gp-status"),
        html.Span(t("wall.reconnecting", opts.lang), id=ids.WALL_CONNECTION, className="gp-conn"),
    ])


def wall_layout(opts: WallOptions, settings: Settings, deployment: Deployment, now: datetime) -> html.Div:
    """The whole wall for these options; ``now`` only seeds the clock until the browser takes over.

    ``deployment`` (from the snapshot's ``areas``) names the district in the header.
    """
    columns = LAYOUTS[opts.layout]
    store = {**opts.to_dict(), "tz": settings.timezone, "server_now": int(now.timestamp() * 1000),
             "locale": "en-GB" if opts.lang == "en" else "zh-CN", "late": t("sla.late", opts.lang)}
    return html.Div(
        id=ids.WALL, className=f"gp-wall gp-layout-{opts.layout}", lang="en" if opts.lang == "en" else "zh-CN",
        children=[
            dcc.Store(id=ids.WALL_OPTIONS, data=store),
            dcc.Store(id=ids.WALL_VIEWPORT),
            dcc.Store(id=ids.WALL_META),
            dcc.Store(id=ids.WALL_DRAWN, data={}),
            # started in the browser once the first drawing has arrived (assets/wall.js, clock)
            dcc.Interval(id=ids.WALL_TICK, interval=opts.refresh * 1000, disabled=True),
            dcc.Interval(id=ids.WALL_CLOCK, interval=1000),
            # started with the refresh timer, so a slow first drawing does not skip a measure
            dcc.Interval(id=ids.WALL_ROTATE, interval=max(opts.rotate, 1) * 1000, disabled=True),
            _header(opts, settings, deployment, now),
            html.Div(id=ids.text_panel(ids.PANEL_VITALS), className="gp-vitals"),
            html.Main(className="gp-main", children=[
                html.Div(className="gp-col", style={"flexGrow": col.width, "flexBasis": 0},
                         children=[_panel(p, w, opts.lang, deployment) for p, w in col.panels])
                for col in columns
            ]),
        ],
    )
