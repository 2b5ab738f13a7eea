"""Resources (``/resources``): people, housing, enterprises and assets of the scope, and of each area below it.

The base the command center plans with (人、房、企、物): the whole scope's totals as tiles, cameras
offline and staff on duty now, and one row per area one level below the scope (the deployment's
own levels) with the counts that differ by size per 10,000 residents. Every number comes from
``metrics.resources``; its camera and staff shares are the vital signs'. Resources are their
current state: the window does not apply, and of the filters only the department does (to the
staff). A deployment that loaded none of these tables (LA: cases only) says so instead of zeros.
"""

from __future__ import annotations

import dash
from dash import Input, Output, html

from dashboard import ids
from dashboard.analyst import shell
from dashboard.analyst.state import ViewState
from dashboard.analyst.view import PanelMessage, View, empty, render
from dashboard.components.format import number
from dashboard.i18n import level_name, t
from metrics.resources import SOURCE, assets_status, resources_by_area, resources_loaded, resources_now
from metrics.scope import child_level

dash.register_page(__name__, path="/resources", title="GridPulse · Resources")

__all__ = ["TILES", "COLUMNS", "layout"]

# (column, i18n label, decimals, unit, foot): the scope's tiles in reading order; a foot is an
# i18n template whose {a} and {b} are the named columns
TILES = (("residents", "rs.residents", 0, "", None),
         ("people", "rs.people", 0, "", ("rs.foot.floating", "floating", None)),
         ("elderly_alone", "rs.elderly_alone", 0, "", ("rs.per_10k", "elderly_alone_per_10k", None)),
         ("key_care", "rs.key_care", 0, "", None),
         ("housing_units", "rs.housing_units", 0, "", ("rs.foot.rental", "rental_units", None)),
         ("enterprises", "rs.enterprises", 0, "", ("rs.per_10k", "enterprises_per_10k", None)),
         ("high_risk_enterprises", "rs.high_risk", 0, "", None),
         ("cameras_online_pct", "rs.cameras_online_pct", 1, "%", ("rs.foot.of", "cameras_online", "cameras")),
         ("cameras_offline", "rs.cameras_offline", 0, "", None),
         ("staff_on_duty_pct", "rs.staff_on_duty_pct", 1, "%", ("rs.foot.of", "staff_on_duty", "staff")),
         ("vehicles_free", "rs.vehicles_free", 0, "", ("rs.foot.total", None, "vehicles")),
         ("supply_depots", "rs.supply_depots", 0, "", None), ("hydrants", "rs.hydrants", 0, "", None),
         ("aeds", "rs.aeds", 0, "", None))
# (column, i18n label, decimals) of the per-area table; "_per_10k" columns follow their count
COLUMNS = (("residents", "rs.residents", 0), ("people", "rs.people", 0), ("floating_pct", "rs.col.floating_pct", 1),
           ("elderly_alone", "rs.elderly_alone", 0), ("housing_units", "rs.housing_units", 0),
           ("rental_pct", "rs.col.rental_pct", 1), ("enterprises", "rs.enterprises", 0),
           ("enterprises_per_10k", "rs.col.per_10k", 1), ("high_risk_enterprises", "rs.high_risk", 0),
           ("cameras", "rs.cameras", 0), ("cameras_offline", "rs.cameras_offline", 0),
           ("cameras_per_10k", "rs.col.per_10k", 1), ("staff", "rs.staff", 0), ("staff_on_duty", "rs.staff_on_duty", 0),
           ("staff_per_10k", "rs.col.per_10k", 1), ("vehicles_free", "rs.vehicles_free", 0),
           ("supply_depots", "rs.supply_depots", 0), ("hydrants", "rs.hydrants", 0), ("aeds", "rs.aeds", 0))
_SHARES = {"floating_pct": "people", "rental_pct": "housing", "cameras_online_pct": "assets",
           "staff_on_duty_pct": "assets", "cameras_offline": "assets"}


def _table_of(column: str) -> str | None:
    """The resource table a column comes from (``None``: the areas table, always there)."""
    base = column.removesuffix("_per_10k")
    return _SHARES.get(column) or SOURCE.get(base)


def _loaded(view: View) -> dict[str, int]:
    loaded = resources_loaded(view.con, view.now, view.settings)
    if not any(loaded.values()):
        raise PanelMessage("empty", t("rs.none", view.lang))
    return loaded


def _value(v, decimals: int, unit: str = "") -> tuple[str, str]:
    """(text, data-value) of a number; a missing one is "—" with an empty data-value."""
    if v is None or v != v:
        return "—", ""
    return number(v, decimals) + unit, (str(int(v)) if decimals == 0 else f"{float(v):.{decimals}f}")


def _foot(foot, total: dict, lang: str) -> list:
    """A tile's foot: the template's text with its numbers as marked spans."""
    key, a, b = foot
    out: list = []
    text = t(key, lang, a="\0a\0", b="\0b\0")
    for part in text.split("\0"):
        col = {"a": a, "b": b}.get(part) if part in ("a", "b") else None
        if col is None:
            out.append(part)
            continue
        decimals = 1 if col.endswith("_per_10k") else 0
        shown, data = _value(total.get(col), decimals)
        out.append(html.Span(shown, **{"data-key": col, "data-value": data}))
    return out


def _tile(key: str, total: dict, loaded: dict, lang: str, label: str, decimals: int, unit: str, foot) -> html.Div:
    table = _table_of(key)
    if table and not loaded[table]:
        text, data, foot_children = "—", "", t("rs.table_none", lang)
    else:
        text, data = _value(total.get(key), decimals, unit)
        foot_children = _foot(foot, total, lang) if foot else ""
    alert = key == "cameras_offline" and (total.get(key) or 0) > 0
    return html.Div(className="rs-tile" + (" rs-tile-alert" if alert else ""), children=[
        html.Div(label, className="rs-tile-label"),
        html.Div(text, className="rs-tile-num", id=f"rs-tile-{key}", **{"data-key": key, "data-value": data}),
        html.Div(foot_children, className="rs-tile-foot"),
    ])


def _totals(view: View) -> list:
    loaded = _loaded(view)
    total = resources_now(view.con, view.scope, view.now, view.settings)
    tiles = [_tile(k, total, loaded, view.lang, t(label, view.lang), d, u, f) for k, label, d, u, f in TILES]
    return [html.Div(tiles, className="rs-tiles"), html.P(t("rs.note", view.lang), className="an-note")]


def _assets(view: View) -> list:
    loaded = _loaded(view)
    if not loaded["assets"]:
        return [empty(view.lang, t("rs.kind.camera", view.lang))]
    df = assets_status(view.con, view.scope, view.now, view.settings)
    if df.empty:
        return [empty(view.lang)]
    cols = ("online", "busy", "offline", "total")
    head = html.Tr([html.Th(t("rs.col.kind", view.lang))] +
                   [html.Th(t(f"rs.col.{c}", view.lang), className="an-num") for c in cols])
    rows = [html.Tr([html.Td(t(f"rs.kind.{r.kind}", view.lang) if f"rs.kind.{r.kind}" in _KINDS else str(r.kind))] +
                    [html.Td(number(getattr(r, c)), className="an-num",
                             **{"data-key": f"{r.kind}.{c}", "data-value": str(int(getattr(r, c)))}) for c in cols])
            for r in df.itertuples(index=False)]
    return [html.Table([html.Thead(head), html.Tbody(rows)], className="an-table", id="rs-assets-table")]


_KINDS = {f"rs.kind.{k}" for k in ("camera", "staff", "vehicle", "supply_depot", "hydrant", "aed")}


def _areas(view: View) -> list:
    loaded = _loaded(view)
    level = child_level(view.area_scope.level or "district", view.deployment.slots)
    if level is None:
        raise PanelMessage("info", t("rs.no_child", view.lang))
    df = resources_by_area(view.con, view.scope, level, view.now, view.settings)
    cols = [c for c in COLUMNS if not (_table_of(c[0]) and not loaded[_table_of(c[0])])]
    counted = [c for c, _, d in cols if c != "residents" and d == 0]
    if df.empty or not df[counted].to_numpy().any():
        return [empty(view.lang)]
    lang = view.lang
    head = html.Tr([html.Th(level_name(view.deployment.level(level), lang))] +
                   [html.Th(t(label, lang), className="an-num" + (" rs-per" if c.endswith("_per_10k") else ""))
                    for c, label, _ in cols])
    body = []
    for r in df.to_dict("records"):
        link = shell.href("/resources", view.state.with_scope(str(r["area_id"])), page_keys=True)
        cells = [html.Td(html.A(view.name(r["name"], r["name_en"]), href=link))]  # plain <a>: see warnings_page
        for c, _, d in cols:
            text, data = _value(r[c], d)
            cells.append(html.Td(text, className="an-num" + (" rs-per" if c.endswith("_per_10k") else ""),
                                 **{"data-key": f"{r['area_id']}.{c}", "data-value": data}))
        body.append(html.Tr(cells))
    note = html.P(t("rs.note", lang), className="an-note")
    return [html.Div(html.Table([html.Thead(head), html.Tbody(body)], className="an-table rs-table",
                                id="rs-areas-table"), className="rs-scroll"), note]


def _title(query: dict) -> tuple[str, str]:
    """The language of the query and the areas panel's title (the level below the scope, by name)."""
    from dashboard import runtime
    from dashboard.i18n import language

    rt = runtime.current()
    state = ViewState.from_query(query)
    lang = language(state.lang, rt.settings.language)
    try:
        with rt.snapshot() as (con, info):
            deployment = rt.deployment(con, info)
            area = rt.scope(con, info, state.scope or rt.home(deployment))
            level = child_level(area.level or "district", deployment.slots)
            name = level_name(deployment.level(level), lang) if level else t("rs.col.area", lang)
    except Exception:  # the shell shows the notice (no data, unknown area); the title does not matter then
        name = t("rs.col.area", lang)
    return lang, t("rs.panel.areas", lang, level=name)


def layout(**query) -> html.Div:
    """The resources page of the URL's view: totals, assets now, then one row per area below."""
    lang, areas_title = _title(query)
    return shell.page("resources", query, [
        shell.panel(ids.RS_TOTALS, t("rs.panel.totals", lang), wide=3),
        shell.panel(ids.RS_ASSETS, t("rs.panel.assets", lang), wide=1),
        shell.panel(ids.RS_AREAS, areas_title, wide=4, tall=True),
    ])


@dash.callback(Output(ids.RS_TOTALS, "children"), Input(ids.AN_STATE, "data"))
def _fill_totals(state):
    return render(state, _totals, "resources.totals")


@dash.callback(Output(ids.RS_ASSETS, "children"), Input(ids.AN_STATE, "data"))
def _fill_assets(state):
    return render(state, _assets, "resources.assets")


@dash.callback(Output(ids.RS_AREAS, "children"), Input(ids.AN_STATE, "data"))
def _fill_areas(state):
    return render(state, _areas, "resources.areas")
