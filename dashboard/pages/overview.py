"""Overview (``/``): the vital signs of the chosen area and window, and where to look next.

Every tile links to the page that explains it; the wall screens are in the navigation. Numbers
come from ``metrics/`` for the view's scope, window and "as of" time (the same functions the wall
and the briefing call).
"""

from __future__ import annotations

import base64
import math
from dataclasses import replace

import dash
from dash import Input, Output, dcc, html

from dashboard import ids
from dashboard.analyst import shell
from dashboard.analyst.state import ViewState
from dashboard.analyst.view import PanelMessage, View, empty, render
from dashboard.components.format import number
from dashboard.components.vitals import index_tile, vital_tile
from dashboard.components.warnings import warning_text
from dashboard.i18n import level_name, t
from dashboard.theme import STATUS_COLOURS
from metrics.breakdown import received_by
from metrics.grids import grid_aggregates
from metrics.scope import LEVELS, child_level
from metrics.vitals import TREND_KEYS, vital_signs, vitals_trend
from metrics.warnings import efficiency_warnings, sla_ticker, surges

dash.register_page(__name__, path="/", title="GridPulse")

__all__ = ["EXPLAINED_BY", "layout", "sparkline"]

TOP_N = 10
# Which page explains each vital sign (a tile is a link to it, with the view's filters).
EXPLAINED_BY = {
    "received": ("/map", {"measure": "cases"}), "per_10k": ("/map", {"measure": "per_10k"}),
    "open_backlog": ("/backlog", {}), "overdue_open": ("/backlog", {}),
    "accept_1min_pct": ("/departments", {}), "dispatch_5min_pct": ("/departments", {}),
    "close_on_time_urgent_pct": ("/departments", {}), "close_on_time_other_pct": ("/departments", {}),
    "median_accept_s": ("/departments", {}), "median_dispatch_s": ("/departments", {}),
    "median_close_h": ("/departments", {}), "satisfaction_pct": ("/departments", {}),
    "repeat_rate_pct": ("/cases", {}), "cameras_online_pct": ("/resources", {}),
    "staff_on_duty_pct": ("/resources", {}), "index": ("/warnings", {}),
}


def layout(**query) -> html.Div:
    """The overview of the URL's view: vital signs, top categories, top areas, warnings."""
    return shell.page("overview", query, [
        shell.panel(ids.OV_VITALS, _t(query, "ov.vitals"), wide=4),
        shell.panel(ids.OV_CATEGORIES, _t(query, "ov.categories"), wide=2),
        shell.panel(ids.OV_AREAS, _t(query, "ov.areas"), wide=2),
        shell.panel(ids.OV_WARNINGS, _t(query, "ov.warnings"), wide=4),
    ])


def _t(query: dict, key: str) -> str:
    """A heading in the query's language (the shell falls back to the deployment's default)."""
    from dashboard import runtime
    from dashboard.i18n import language

    return t(key, language(ViewState.from_query(query).lang, runtime.current().settings.language))


def sparkline(values: list[float | None], colour: str, width: int = 120, height: int = 28) -> html.Img | None:
    """A tiny line of ``values`` (oldest first) as an inline SVG image; ``None`` with fewer than 2 points.

    An ``<img>`` with a data URI: no figure per tile (16 tiles of plotly would cost seconds), and
    nothing fetched from anywhere.
    """
    pts = [(i, v) for i, v in enumerate(values) if v is not None and not math.isnan(v)]
    if len(pts) < 2:
        return None
    lo, hi = min(v for _, v in pts), max(v for _, v in pts)
    span = (hi - lo) or 1.0
    n = max(len(values) - 1, 1)
    xy = [(2 + (width - 4) * i / n, height - 3 - (height - 6) * (v - lo) / span) for i, v in pts]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    last_x, last_y = xy[-1]
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
           f'<polyline fill="none" stroke="{colour}" stroke-width="1.6" points="{path}"/>'
           f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="2.4" fill="{colour}"/></svg>')
    return html.Img(src="data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode(),
                    className="an-spark", alt="")


def _tile_link(key: str, tile: html.Div, view: View, spark: html.Img | None) -> dcc.Link:
    path, extra = EXPLAINED_BY.get(key, ("/", {}))
    target = view.state.filters_only().with_extra(**extra) if extra else view.state.filters_only()
    if spark is not None:
        tile.children = [*tile.children, spark]
    return dcc.Link(tile, href=shell.href(path, target, page_keys=True), className="an-tile-link")


def _vitals(view: View) -> list:
    vs = vital_signs(view.con, view.scope, view.window, view.now, view.settings)
    trend = vitals_trend(view.con, view.scope, view.window, view.now, view.settings)
    tiles = [_tile_link("index", index_tile(vs.index, vs.index_status, view.lang), view, None)]
    for metric in vs.metrics:
        series = trend[metric.key].tolist() if metric.key in TREND_KEYS else []
        spark = sparkline(series, STATUS_COLOURS.get(metric.status, STATUS_COLOURS["none"])
                          if metric.status != "none" else "#4a5a78")
        short = None if view.window.key == "today" or metric.key != "received" else \
            view.name(metric.label_zh, metric.label_en)
        tile = vital_tile(metric, view.lang, short, today=view.window.key == "today")
        tiles.append(_tile_link(metric.key, tile, view, spark))
    past = int(trend["received"].iloc[:-1].notna().sum())  # periods before the data began are not drawn
    note = html.P(t("ov.spark_note", view.lang, n=past, amber=_pct_text(view.settings.status_amber_below),
                    red=_pct_text(view.settings.status_red_below)), className="an-note")
    return [html.Div(tiles, className="an-vitals"), note]


def _pct_text(share: float) -> str:
    """A share of the target as a percentage without needless decimals (0.95 -> "95%")."""
    return f"{share * 100:g}%"


def _change(pct: float) -> str:
    if pct is None or (isinstance(pct, float) and math.isnan(pct)):
        return "—"
    arrow = "▲" if pct > 0.5 else "▼" if pct < -0.5 else "■"
    return f"{arrow} {pct:+.0f}%"


def _categories(view: View) -> list:
    df = received_by(view.con, view.scope, view.window, view.now, "category", view.settings, limit=TOP_N)
    if df.empty:
        return [empty(view.lang)]
    head = html.Tr([html.Th(t(k, view.lang)) for k in ("ov.col.category", "ov.col.cases", "ov.col.share",
                                                       "ov.col.change", "ov.col.still_open")])
    rows = []
    for r in df.itertuples(index=False):
        link = shell.href("/cases", replace(view.state.filters_only(), categories=(str(r.key),)))
        rows.append(html.Tr([
            html.Td(dcc.Link(view.name(r.name, r.name_en), href=link)),
            html.Td(number(r.cases), className="an-num", **{"data-key": str(r.key), "data-value": str(int(r.cases))}),
            html.Td(f"{r.share_pct:.1f}%", className="an-num"),
            html.Td(_change(r.change_pct), className="an-num"),
            html.Td(number(r.still_open), className="an-num"),
        ]))
    return [html.Table([html.Thead(head), html.Tbody(rows)], className="an-table", id="ov-categories-table")]


def _area_level(view: View) -> str | None:
    """The level the overview ranks: grids when the deployment has them, else the finest level below the scope."""
    slots = view.deployment.slots
    level = view.area_scope.level or "district"
    below = [s for s in slots if LEVELS.index(s) > LEVELS.index(level)]
    if not below:
        return None
    return "grid" if "grid" in below else (child_level(level, slots) or below[-1])


def _areas(view: View) -> list:
    level = _area_level(view)
    if level is None:
        finest = level_name(view.deployment.level(view.area_scope.level or "microgrid"), view.lang)
        raise PanelMessage("info", t("ov.finest", view.lang, level=finest))
    df = grid_aggregates(view.con, view.scope, level, view.window, view.now, view.settings)
    df = df[df["cases"] > 0].sort_values(["cases", "area_id"], ascending=[False, True]).head(TOP_N)
    if df.empty:
        return [empty(view.lang)]
    lvl = view.deployment.level(level)
    head = html.Tr([html.Th(level_name(lvl, view.lang)), *[html.Th(t(k, view.lang)) for k in (
        "ov.col.cases", "ov.col.per_10k", "ov.col.open", "ov.col.overdue", "ov.col.top_category")]])
    rows = []
    for r in df.itertuples(index=False):
        link = shell.href("/map", view.state.filters_only().with_scope(str(r.area_id)), page_keys=True)
        rows.append(html.Tr([
            html.Td(dcc.Link(view.name(r.name, r.name_en), href=link)),
            html.Td(number(r.cases), className="an-num", **{"data-key": str(r.area_id), "data-value": str(int(r.cases))}),
            html.Td(number(r.per_10k, 1), className="an-num"),
            html.Td(number(r.open), className="an-num"),
            html.Td(number(r.overdue), className="an-num"),
            html.Td(view.name(r.top_category_name, r.top_category_name_en) if isinstance(r.top_category, str) else "—"),
        ]))
    return [html.Table([html.Thead(head), html.Tbody(rows)], className="an-table", id="ov-areas-table")]


def _warnings(view: View) -> list:
    ticker = sla_ticker(view.con, view.scope, view.now, view.settings, rows=0)
    found = surges(view.con, view.scope, view.now, view.settings) + \
        efficiency_warnings(view.con, view.scope, view.now, view.settings)
    # (label, count, colour, the warnings page's choice that lists exactly them)
    counts = [("ov.w.breached", ticker.breached, "red", {"kind": "sla", "level": "breached"}),
              ("ov.w.at_risk", ticker.due_soon, "amber", {"kind": "sla"}),
              ("ov.w.surges", sum(1 for w in found if w.kind == "surge"), "amber", {"kind": "surge"}),
              ("ov.w.efficiency", sum(1 for w in found if w.kind == "efficiency"), "amber", {"kind": "efficiency"})]
    base = view.state.filters_only()
    chips = [dcc.Link([html.Span(number(n), className="an-chip-num", **{"data-value": str(int(n))}),
                       html.Span(t(k, view.lang), className="an-chip-label")],
                      href=shell.href("/warnings", base.with_extra(**choice), page_keys=True),
                      className=f"an-chip an-chip-{colour if n else 'none'}", id=f"ov-chip-{k.split('.')[-1]}")
             for k, n, colour, choice in counts]
    items = [html.Li(warning_text(w, view.lang)) for w in found[:5]]
    return [html.Div(chips, className="an-chips"),
            html.Ul(items, className="an-list") if items else html.P(t("ov.no_warnings", view.lang), className="an-note")]


@dash.callback(Output(ids.OV_VITALS, "children"), Input(ids.AN_STATE, "data"))
def _fill_vitals(state):
    return render(state, _vitals, "overview.vitals")


@dash.callback(Output(ids.OV_CATEGORIES, "children"), Input(ids.AN_STATE, "data"))
def _fill_categories(state):
    return render(state, _categories, "overview.categories")


@dash.callback(Output(ids.OV_AREAS, "children"), Input(ids.AN_STATE, "data"))
def _fill_areas(state):
    return render(state, _areas, "overview.areas")


@dash.callback(Output(ids.OV_WARNINGS, "children"), Input(ids.AN_STATE, "data"))
def _fill_warnings(state):
    return render(state, _warnings, "overview.warnings")


