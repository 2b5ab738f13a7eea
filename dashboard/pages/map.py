"""Map (``/map``): the areas one level below the view's area, coloured by a measure; a click drills down.

The map draws the children of the view's area at the deployment's next level (demo: district →
street → community → grid → micro-grid; LA: region → council), coloured by the measure switch
(``?measure=``); at the finest level it draws the area among its siblings. A click on an area
writes ``?scope=<area>`` to the URL, the page is laid out again from it (breadcrumb, map, side
panels) and the breadcrumb goes back up. Numbers come from ``metrics.grids.grid_aggregates``
(map and side panel alike), ``metrics.breakdown.received_by`` and ``metrics.cases_open``; the
optional overlays (``?layers=``) from ``layers.registry``.
"""

from __future__ import annotations

import json
import logging

import dash
import pandas as pd
import shapely
import shapely.geometry
from dash import ClientsideFunction, Input, Output, State, dcc, html, no_update

from dashboard import ids
from dashboard.analyst import shell
from dashboard.analyst.state import ViewState
from dashboard.analyst.view import PanelMessage, View, empty, open_view, render
from dashboard.components.format import is_missing, number
from dashboard.figures import analyst_map as fig
from dashboard.i18n import language, level_name, pick, t
from layers import registry, shapes
from layers import view as framing
from metrics import areas
from metrics.breakdown import received_by
from metrics.cases_open import oldest_open
from metrics.grids import grid_aggregates
from metrics.scope import child_level

dash.register_page(__name__, path="/map", title="GridPulse · 地图")

__all__ = ["DEFAULT_MEASURE", "MapPlan", "layout", "measure_of", "plan", "click_target", "click_point", "area_at",
           "drill_target"]

log = logging.getLogger(__name__)

DEFAULT_MEASURE = "cases"
TOP_CATEGORIES = 8
OPEN_CASES = 15
NUMBERS = ("cases", "per_10k", "open", "overdue", "on_time_pct")


def measure_of(state: ViewState) -> str:
    """The state's measure (``?measure=``), the default for anything unknown."""
    value = state.get("measure", DEFAULT_MEASURE)
    return value if value in fig.MEASURES else DEFAULT_MEASURE


def _lang(query: dict) -> str:
    from dashboard import runtime

    return language(ViewState.from_query(query).lang, runtime.current().settings.language)


def layout(**query) -> html.Div:
    """The map page of the URL's view: the map with its switches, and the selected area's side panels."""
    lang = _lang(query)
    state = ViewState.from_query(query)
    chosen = registry.parse_keys(state.get("layers"))
    measure = dcc.RadioItems(
        id=ids.MAP_MEASURE, value=measure_of(state), className="an-map-measure", inline=True,
        options=[{"label": t(f"map.measure.{m}", lang), "value": m} for m in fig.MEASURES])
    overlays = dcc.Checklist(
        id=ids.MAP_LAYERS, value=list(chosen), className="an-map-layers", inline=True,
        options=[{"label": t(layer.label, lang), "value": key} for key, layer in registry.LAYERS.items()])
    side = html.Div(className="an-map-side", children=[
        shell.panel(ids.MAP_NUMBERS, t("map.numbers", lang)),
        shell.panel(ids.MAP_CATEGORIES, t("map.categories", lang)),
        shell.panel(ids.MAP_OPEN, t("map.open_cases", lang)),
    ])
    return shell.page("map", query, [
        shell.panel(ids.MAP_PANEL, t("map.title", lang), wide=3, tall=True,
                    extra=[measure, html.Span(t("map.layers", lang), className="an-map-sep"), overlays]),
        side,
        dcc.Store(id=ids.MAP_VIEW),
    ])


# --- what the map draws ----------------------------------------------------------------------------
class MapPlan:
    """Which areas the map draws for a view: the frame area, its level, the drawn level, the selection.

    Attributes:
        frame_id: the area whose children are drawn (the view's area; its parent at the finest level).
        frame_level: that area's level.
        level: the level drawn.
        selected: the area outlined (the view's area at the finest level, else ``None``).
        finest: whether the view's area is at the deployment's finest level (a click goes no further).
    """

    def __init__(self, frame_id: str, frame_level: str, level: str, selected: str | None, finest: bool):
        self.frame_id, self.frame_level, self.level, self.selected, self.finest = (
            frame_id, frame_level, level, selected, finest)


def plan(con, area_id: str, area_level: str, slots: tuple[str, ...]) -> MapPlan:
    """The :class:`MapPlan` of an area: its children, or itself among its siblings at the finest level."""
    below = child_level(area_level, slots)
    if below is not None:
        return MapPlan(area_id, area_level, below, None, False)
    chain = areas.ancestors(con, area_id)
    if len(chain) < 2:  # a deployment of one level: the district alone
        return MapPlan(area_id, area_level, area_level, area_id, True)
    parent = chain.iloc[-2]
    return MapPlan(str(parent["area_id"]), str(parent["level"]), area_level, area_id, True)


def click_target(click: dict | None) -> str | None:
    """The area id a ``clickData`` names (a polygon of the map); ``None`` for points or nothing.

    >>> click_target({"points": [{"location": "G001", "z": 3}]}), click_target({"points": [{"lon": 1}]})
    ('G001', None)
    """
    for point in (click or {}).get("points") or ():
        location = point.get("location")
        if location not in (None, ""):
            return str(location)
    return None


def click_point(click: dict | None) -> tuple[float, float] | None:
    """(lon, lat) of a ``clickData`` on a point of a layer (a case, a bubble, a camera); ``None`` otherwise.

    >>> click_point({"points": [{"lon": 120.2, "lat": 30.2, "customdata": 12}]}), click_point({"points": [{}]})
    ((120.2, 30.2), None)
    """
    for point in (click or {}).get("points") or ():
        lon, lat = point.get("lon"), point.get("lat")
        if lon is not None and lat is not None:
            return float(lon), float(lat)
    return None


def _drawn(v: View):
    """What the map of ``v`` draws: its :class:`MapPlan`, the frame's scope and the drawn areas' shapes."""
    area = v.area_scope
    p = plan(v.con, area.area_id, area.level, v.deployment.slots)
    frame_scope = v.state.scope_of(p.frame_id, p.frame_level)
    return p, frame_scope, shapes.shapes(v.con, frame_scope, p.level)


def area_at(v: View, lon: float, lat: float) -> str | None:
    """The drawn area (what the map of ``v`` shows) that holds the point, if any.

    A click on a point or bubble drills into the area beneath it, so layers never block the drill-down.
    """
    _, _, geo = _drawn(v)
    point = shapely.Point(lon, lat)
    for area_id, geometry in zip(geo["area_id"], geo["geojson_simple"], strict=True):
        if shapely.geometry.shape(json.loads(geometry)).covers(point):
            return str(area_id)
    return None


def _texts(df: pd.DataFrame, v: View) -> list[str]:
    label, none = t("map.hover_residents", v.lang), t("map.no_residents", v.lang)
    residents = pd.to_numeric(df["residents"], errors="coerce")
    return [f"{v.name(n, ne)}<br>{none if pd.isna(r) else f'{label} {int(r):,}'}"
            for n, ne, r in zip(df["name"], df["name_en"], residents, strict=True)]


def _compact(n: int, lang: str) -> str:
    """A bubble's count in a few characters: 12, 1.2k / 1,234, 3.4万 / 34k.

    >>> _compact(12, "zh"), _compact(1234, "en"), _compact(34567, "en"), _compact(34567, "zh")
    ('12', '1.2k', '35k', '3.5万')
    """
    if lang == "zh":
        return str(n) if n < 10_000 else f"{n / 10_000:.1f}万"
    return str(n) if n < 1_000 else f"{n / 1_000:.1f}k" if n < 10_000 else f"{n / 1_000:.0f}k"


def _overlays(v: View, frame_scope, finest: bool) -> tuple[list[dict], list]:
    """The chosen layers' traces, worded: legend name with the points' count, bubbles' counts and hovers."""
    traces, notes = [], []
    cluster = "map.cluster_finest" if finest else "map.cluster"  # no drilling further at the finest level
    for key in registry.parse_keys(v.state.get("layers")):
        layer = registry.get(key)
        df = layer.query(v.con, frame_scope, v.window, v.now, v.settings)
        if v.lang == "en" and "label_en" in df:  # a single case's category in the page's language
            df = df.assign(label=df["label_en"])
        drawn = layer.transform(df)
        for trace in drawn:
            name = t("map.layer." + trace["name"], v.lang)
            counts = trace["customdata"]
            trace["name"] = f"{name} ({number(sum(counts))})"
            trace["text"] = ["" if n == 1 else _compact(n, v.lang) for n in counts]
            trace["hovertext"] = [h if n == 1 else t(cluster, v.lang, n=number(n), layer=name)
                                  for n, h in zip(counts, trace["hovertext"], strict=True)]
        if not drawn:
            notes.append(html.Span(t("map.layer_none", v.lang, layer=t(layer.label, v.lang))))
        traces += drawn
    return traces, notes


def _map(v: View) -> list:
    area = v.area_scope
    p, frame_scope, geo = _drawn(v)
    df = grid_aggregates(v.con, frame_scope, p.level, v.window, v.now, v.settings)
    if df.empty or geo.empty:
        raise PanelMessage("empty", t("map.no_areas", v.lang))
    measure = measure_of(v.state)
    labels = {k: t(f"map.measure.{k}", v.lang) for k in fig.HOVER_COLUMNS}
    fc = shapes.feature_collection(geo)
    heat = fig.heat_traces(df, fc, measure, _texts(df, v), labels)
    axis = fig.measure_axis(df, measure, t(f"map.measure.{measure}", v.lang))
    box = framing.bounds(json.loads(g) for g in geo["geojson_simple"]) or v.deployment.bounds
    selected = shapes.feature_collection(geo[geo["area_id"] == p.selected]) if p.selected else None
    overlays, notes = _overlays(v, frame_scope, p.finest)
    figure = fig.map_figure(heat, overlays, fig.selected_trace(selected), box, axis, revision=f"{p.frame_id}|{p.level}")
    level = level_name(v.deployment.level(p.level), v.lang)
    frame_name = v.name(*_names(v, p.frame_id))
    if p.finest:
        how = t("map.how_finest", v.lang, area=v.name(*_names(v, area.area_id)), level=level, parent=frame_name)
    else:
        how = t("map.how", v.lang, level=level, area=frame_name)
    if int(df["cases"].sum()) == 0 and int(df["open"].sum()) == 0:  # nothing matches: the map says so, not just pale
        notes.append(html.Span(t("an.empty", v.lang), className="an-map-empty", **{"data-msg": "empty"}))
    graph = dcc.Graph(id=ids.MAP_GRAPH, figure=figure, config=fig.GRAPH_CONFIG, className="an-map-graph",
                      clear_on_unhover=True)
    return [graph, html.P([how, *notes], className="an-note an-map-note", id=ids.MAP_HOW,
                          **{"data-level": p.level, "data-frame": p.frame_id, "data-finest": str(p.finest).lower()})]


def _names(v: View, area_id: str) -> tuple[str, str]:
    chain = areas.ancestors(v.con, area_id)
    row = chain[chain["area_id"] == area_id]
    if row.empty:
        return area_id, area_id
    return str(row["name"].iloc[0]), str(row["name_en"].iloc[0] or "")


# --- the side panels -------------------------------------------------------------------------------
def _num(key: str, value: object, v: View) -> html.Div:
    decimals = 1 if key in ("per_10k", "on_time_pct") else 0
    text = number(value, decimals) + ("%" if key == "on_time_pct" and not is_missing(value) else "")
    raw = "" if is_missing(value) else (str(int(value)) if decimals == 0 else f"{float(value):.4f}")
    return html.Div(className="an-map-num", children=[
        html.Span(t(f"map.measure.{key}", v.lang), className="an-map-num-label"),
        html.Span(text, className="an-map-num-value", **{"data-key": key, "data-value": raw}),
    ])


def _numbers(v: View) -> list:
    area = v.area_scope
    row = grid_aggregates(v.con, v.scope, area.level, v.window, v.now, v.settings)
    row = row[row["area_id"] == area.area_id]
    if row.empty:
        raise PanelMessage("empty", t("map.no_areas", v.lang))
    r = row.iloc[0]
    residents = r["residents"]
    head = html.Div(className="an-map-area", children=[
        html.Strong(v.name(r["name"], r["name_en"]), id="map-area-name", **{"data-area": area.area_id}),
        html.Span(" · " + level_name(v.deployment.level(area.level), v.lang)),
        html.Span(" · " + (t("map.residents", v.lang, n=number(residents)) if not is_missing(residents)
                          and residents is not None else t("map.no_residents", v.lang)), className="an-dim"),
    ])
    link = dcc.Link(t("map.to_cases", v.lang), href=shell.href("/cases", v.state.filters_only()))
    return [head, html.Div([_num(k, r[k], v) for k in NUMBERS], className="an-map-nums"),
            html.P([t("map.numbers_note", v.lang), " ", link], className="an-note")]


def _categories(v: View) -> list:
    df = received_by(v.con, v.scope, v.window, v.now, "category", v.settings, limit=TOP_CATEGORIES)
    if df.empty:
        return [empty(v.lang)]
    rows = [html.Tr([
        html.Td(v.name(r.name, r.name_en), title=v.name(r.name, r.name_en)),
        html.Td(number(r.cases), className="an-num", **{"data-key": str(r.key), "data-value": str(int(r.cases))}),
        html.Td(f"{r.share_pct:.0f}%", className="an-num"),
    ]) for r in df.itertuples(index=False)]
    head = html.Tr([html.Th(t("map.col.category", v.lang)), html.Th(t("map.col.cases", v.lang), className="an-num"),
                    html.Th(t("map.col.share", v.lang), className="an-num")])
    return [html.Table([html.Thead(head), html.Tbody(rows)], className="an-table an-compact", id="map-categories-table")]


def _age(seconds: float, lang: str) -> str:
    days = seconds / 86_400
    if days >= 1:
        return t("map.age_days", lang, n=f"{days:.0f}" if days >= 10 else f"{days:.1f}")
    return t("map.age_hours", lang, n=f"{seconds / 3600:.0f}")


def _open(v: View) -> list:
    df = oldest_open(v.con, v.scope, v.now, v.settings, n=OPEN_CASES)
    if df.empty:
        return [empty(v.lang, t("map.open_what", v.lang))]
    base = v.state.filters_only()
    rows = []
    for r in df.itertuples(index=False):
        link = shell.href("/cases", base.with_extra(case=r.case_id), page_keys=True)
        category = v.name(r.category_name, r.category_name_en) if isinstance(r.category_name, str) else r.category_id
        department = pick(r.department_name, r.department_name_en, v.lang) if isinstance(r.department_name, str) \
            else (r.department_id or "—")
        # two lines per case (id and age; what, who and when below) so nothing is cut in a 300 px column
        rows.append(html.Tr(className="an-late" if r.overdue else None, children=[
            html.Td([dcc.Link(r.case_id, href=link), html.Div(f"{category} · {department}", className="an-sub")],
                    **{"data-key": r.case_id}),
            html.Td([html.Div(_age(r.age_s, v.lang)), html.Div(f"{r.received_at:%m-%d %H:%M}", className="an-sub")],
                    className="an-num", title=t("map.col.received", v.lang) + f" {r.received_at:%Y-%m-%d %H:%M}",
                    **{"data-value": f"{r.age_s:.0f}"}),
        ]))
    head = html.Tr([html.Th(t("map.col.case_what", v.lang)), html.Th(t("map.col.age", v.lang), className="an-num")])
    return [html.Table([html.Thead(head), html.Tbody(rows)], className="an-table an-compact an-two-line",
                       id="map-open-table"),
            html.P(t("map.open_note", v.lang, n=OPEN_CASES), className="an-note")]


# --- callbacks -------------------------------------------------------------------------------------
@dash.callback(Output(ids.MAP_PANEL, "children"), Input(ids.AN_STATE, "data"))
def _fill_map(state):
    return render(state, _map, "map.map")


@dash.callback(Output(ids.MAP_GRAPH, "figure"), Output(ids.MAP_HOW, "children"),
               Output(ids.MAP_PANEL, "children", allow_duplicate=True),
               Input(ids.MAP_MEASURE, "value"), Input(ids.MAP_LAYERS, "value"), State(ids.AN_STATE, "data"),
               State(ids.MAP_VIEW, "data"), prevent_initial_call=True)
def _switch_map(measure, layers, state, seen):
    """Another measure or layer: a new figure for the graph on the page, in the reader's zoom and pan.

    The address changes in place (:func:`_switches_to_url`); the page is not laid out again.
    """
    view = ViewState.from_dict(state).with_extra(**_switches(measure, layers))
    out = render(view.to_dict(), _map, "map.map")
    if not (isinstance(out, list) and len(out) == 2 and isinstance(out[0], dcc.Graph)):
        return no_update, no_update, out  # a message instead of the map
    return fig.in_view(out[0].figure, seen), out[1].children, no_update


dash.clientside_callback(ClientsideFunction(namespace="gpmap", function_name="view"),
                         Output(ids.MAP_VIEW, "data"), Input(ids.MAP_GRAPH, "relayoutData"))


@dash.callback(Output(ids.MAP_NUMBERS, "children"), Input(ids.AN_STATE, "data"))
def _fill_numbers(state):
    return render(state, _numbers, "map.numbers")


@dash.callback(Output(ids.MAP_CATEGORIES, "children"), Input(ids.AN_STATE, "data"))
def _fill_categories(state):
    return render(state, _categories, "map.categories")


@dash.callback(Output(ids.MAP_OPEN, "children"), Input(ids.AN_STATE, "data"))
def _fill_open(state):
    return render(state, _open, "map.open")


def _go(path: str | None, old: ViewState, new: ViewState):
    return no_update if new == old else (path or "/map") + new.search()


def _switches(measure: str | None, layers: list | None) -> dict[str, str | None]:
    """The URL keys of the measure switch and the layer checkboxes (``None``: the default, left out)."""
    measure = measure if measure in fig.MEASURES else DEFAULT_MEASURE
    keys = registry.parse_keys(",".join(layers or ()))
    return {"measure": None if measure == DEFAULT_MEASURE else measure, "layers": ",".join(keys) or None}


@dash.callback(Output(ids.AN_HERE, "search", allow_duplicate=True), Input(ids.MAP_MEASURE, "value"),
               Input(ids.MAP_LAYERS, "value"), State(ids.AN_STATE, "data"), State(ids.AN_HERE, "search"),
               prevent_initial_call=True)
def _switches_to_url(measure, layers, data, search):
    """The measure and layers into the address in place (a history entry; the page is not laid out again)."""
    state = shell.here(search, data)
    new = state.with_extra(**_switches(measure, layers))
    return no_update if new == state else new.search()


def drill_target(con, area_id: str, area_level: str, slots: tuple[str, ...], target: str) -> str | None:
    """``target`` if the map draws it and a click on it may go there, else ``None``.

    Above the finest level: an area one level below ``area_id`` and inside it (drill down). At the
    finest level the map draws the area among its siblings: a click on a sibling switches to it.
    """
    below = child_level(area_level, slots)
    chain = areas.ancestors(con, target)
    if chain.empty or target == area_id:
        return None
    if below is None:  # a sibling: the same level under the same parent
        own = areas.ancestors(con, area_id)
        same = str(chain["level"].iloc[-1]) == area_level and len(chain) >= 2 and len(own) >= 2
        return target if same and str(chain["area_id"].iloc[-2]) == str(own["area_id"].iloc[-2]) else None
    if str(chain["level"].iloc[-1]) != below or area_id not in set(chain["area_id"].astype(str)):
        return None
    return target


@dash.callback(Output(ids.AN_URL, "href", allow_duplicate=True), Input(ids.MAP_GRAPH, "clickData"),
               State(ids.AN_STATE, "data"), State(ids.AN_HERE, "search"), State("_pages_location", "pathname"),
               prevent_initial_call=True)
def _click_to_url(click, data, search, path):
    """Drill down: the clicked area, or the area under a clicked point, becomes the view's area.

    The page keys are kept; at the finest level a sibling becomes the view's area.
    """
    target, point = click_target(click), click_point(click)
    if target is None and point is None:
        return no_update
    state = shell.here(search, data)  # the measure and layers as switched since the page was laid out
    try:
        with open_view(state) as v:
            target = target if target is not None else area_at(v, *point)
            if target is None:  # a point outside every drawn area
                return no_update
            target = drill_target(v.con, v.area_scope.area_id, v.area_scope.level, v.deployment.slots, target)
    except Exception:  # no snapshot, an unknown area: the page already says so; a click changes nothing
        log.exception("map click on %r failed for %s", target, state.search())
        return no_update
    return no_update if target is None else _go(path, state, state.with_scope(target))
