"""The frame of every analyst page: navigation, the one filter bar, the page's state and its panels.

A page's ``layout(**query)`` parses the URL into a :class:`ViewState` and calls :func:`page` with
its panels (:func:`panel`: a titled box whose content a callback fills, with a loading indicator
that shows only when the callback takes longer than :data:`LOADING_DELAY_MS`). The filter bar's
controls write the URL (:mod:`dashboard.analyst.filters`); Dash's page router then lays the page
out again from it, so the URL is the only state: reload, share and the back button all work.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dash import dcc, html

from dashboard import ids, runtime
from dashboard.analyst.catalogue import Catalogue, catalogue
from dashboard.analyst.state import ViewState
from dashboard.auth import access
from dashboard.auth.gate import sign_out_token
from dashboard.components.header import historical_text
from dashboard.i18n import dropdown_labels, language, pick, t
from dashboard.notices import no_data, no_district, unknown_area
from dashboard.runtime import NoDistrictError
from data.snapshot import NoSnapshotError
from metrics import areas
from metrics.scope import UnknownAreaError

__all__ = ["PAGES", "WALLS", "IN_PLACE_KEYS", "LOADING_DELAY_MS", "page", "panel", "href", "here", "breadcrumb_items"]

# (page key, path) in navigation order; the page's title is the i18n key "nav.<key>".
PAGES = (("overview", "/"), ("map", "/map"), ("backlog", "/backlog"), ("warnings", "/warnings"),
         ("cases", "/cases"), ("departments", "/departments"), ("resources", "/resources"), ("briefings", "/briefings"))
# The wall screens, reachable from every analyst page.
WALLS = (("home.wall", "/wall"), ("home.wall_map", "/wall?layout=map"),
         ("home.wall_warnings", "/wall?layout=warnings"))
LOADING_DELAY_MS = 300
# Keys a page writes into the address in place (ids.AN_HERE: the cases page's sort and open case, the
# map's measure and layers), without laying the page out again (a measure change keeps the map's zoom):
# they are left out of the page's ``data-query`` below.
IN_PLACE_KEYS = ("sort", "case", "measure", "layers")
WINDOWS = ("today", "7d", "30d", "90d", "this_week", "last_week", "custom")


def href(path: str, state: ViewState, page_keys: bool = False) -> str:
    """A link to ``path`` with the state's shared filters (and its page keys on request)."""
    return path + state.search(page_keys=page_keys)


def panel(panel_id: str, title: str, *, wide: int = 1, tall: bool = False, extra: Any = None,
          body: Any = None) -> html.Section:
    """A titled box whose content the callback of ``panel_id`` fills (``children``).

    Args:
        panel_id: the id of the content element (the callback's output).
        title: the heading.
        wide: how many of the page grid's columns it spans (1-4).
        tall: a taller box (maps, tables).
        extra: controls shown on the heading's right (a measure switch ...).
        body: initial content (default: nothing until the callback answers).
    """
    cls = f"an-panel an-w{wide}" + (" an-tall" if tall else "")
    return html.Section(className=cls, children=[
        html.Header(className="an-panel-head", children=[html.H2(title), html.Div(extra, className="an-panel-tools")]),
        dcc.Loading(html.Div(body, id=panel_id, className="an-panel-body"), delay_show=LOADING_DELAY_MS,
                    type="dot", color="#1f5fa8", parent_className="an-loading"),
    ])


def here(search: str | None, data: dict | None) -> ViewState:
    """The view as the address shows it now.

    That is the laid-out state (``data``, ids.AN_STATE) plus the keys written in place since
    (``search``, ids.AN_HERE's), which the state does not know.
    """
    return ViewState.from_search(search) if search is not None else ViewState.from_dict(data)


def breadcrumb_items(con, deployment, area_id: str, lang: str) -> list[tuple[str, str, str]]:
    """``(area_id, level, name)`` from the district down to ``area_id``."""
    df = areas.ancestors(con, area_id)
    return [(str(a), str(lv), pick(n, ne, lang)) for a, lv, n, ne in
            zip(df["area_id"], df["level"], df["name"], df["name_en"], strict=True)]


def _nav(key: str, state: ViewState, lang: str) -> html.Nav:
    other = "en" if lang == "zh" else "zh"
    links = [dcc.Link(t(f"nav.{k}", lang), href=href(path, state), id=f"an-nav-{k}",
                      className="an-nav-link" + (" an-nav-on" if k == key else "")) for k, path in PAGES]
    walls = [html.A(t(label, lang), href=path + ("&" if "?" in path else "?") + f"lang={lang}"
                    if lang == "en" else path, className="an-nav-wall", target="_blank") for label, path in WALLS]
    switch = dcc.Link(t("nav.switch_lang", lang), id=ids.AN_LANG,
                      href=href(_PATHS[key], _with_lang(state, other), page_keys=True), className="an-nav-lang")
    return html.Nav(className="an-nav", children=[
        html.Div("GridPulse", className="an-brand"),
        html.Div(links, className="an-nav-links"),
        # a menu (open on hover or keyboard focus): three links inline wrapped the bar at 1366 px
        html.Div(className="an-nav-walls", children=[
            html.Span(t("nav.walls", lang), className="an-nav-label", tabIndex="0", role="button",
                      **{"aria-haspopup": "true"}),
            html.Div(walls, className="an-nav-menu"),
        ]),
        switch,
        _account(lang),
    ])


def _account(lang: str) -> html.Div:
    """Who is signed in, the admin page for an admin, and a sign-out button (a POST with a CSRF token)."""
    principal = access.current()
    return html.Div(className="an-nav-account", children=[
        html.Span(principal.name, className="an-nav-user", id=ids.AN_USER, **{"data-role": principal.role}),
        html.A(t("auth.admin", lang), href="/admin" + ("?lang=en" if lang == "en" else ""), className="an-nav-admin")
        if principal.admin else None,
        html.Form(action="/logout", method="POST", className="an-nav-signout", children=[
            dcc.Input(type="hidden", name="csrf_token", value=sign_out_token()),  # dash.html has no <input>
            html.Button(t("auth.sign_out", lang), type="submit", id=ids.AN_SIGN_OUT),
        ]),
    ])


_PATHS = dict(PAGES)


def _with_lang(state: ViewState, lang: str) -> ViewState:
    from dataclasses import replace

    return replace(state, lang=lang)


def _options(items: Sequence[tuple[str, str]]) -> list[dict]:
    return [{"label": label, "value": value} for value, label in items]


def _with_unknown(options: list[dict], values: Sequence[str]) -> list[dict]:
    """``options`` plus one per value the catalogue does not list (an id from a hand-edited URL).

    A dropdown drops values it has no option for, and that change would rewrite the URL: the
    filter must stay as the URL says, and the panels then say that nothing matches.
    """
    known = {o["value"] for o in options}
    return options + [{"label": v, "value": v} for v in values if v not in known]


def _filter_bar(state: ViewState, cat: Catalogue, area_id: str, scope_label: str, lang: str, path: str) -> html.Div:
    """The one filter bar: window (and custom dates), area, category, channel, urgency, department.

    "Clear filters" keeps the page (``path``) and the language, and drops everything else.
    """
    custom = state.window == "custom"
    labels = dropdown_labels(lang)
    # several picks, one change: the menu stays open and the URL (and the history) changes once, on close
    multi = {"labels": labels, "closeOnSelect": False, "debounce": True}
    return html.Div(id=ids.AN_FILTERS, className="an-filters", children=[
        html.Label([t("filter.window", lang), dcc.Dropdown(
            id=ids.AN_F_WINDOW, labels=labels, value=state.window, clearable=False, searchable=False,
            options=_options([(w, t(f"window.{w}", lang)) for w in WINDOWS]), className="an-dd an-dd-window")]),
        html.Label(className="an-dates" + ("" if custom else " an-hidden"), children=[
            t("filter.dates", lang),
            dcc.DatePickerRange(id=ids.AN_F_DATES, start_date=state.first, end_date=state.last,
                                display_format="YYYY-MM-DD", first_day_of_week=1, minimum_nights=0,
                                min_date_allowed=cat.first_day, max_date_allowed=cat.last_day,
                                initial_visible_month=state.last or cat.last_day),
        ]),
        html.Label([t("filter.scope", lang), dcc.Dropdown(
            id=ids.AN_F_SCOPE, labels=labels, value=area_id, clearable=False,
            options=[{"label": scope_label, "value": area_id}],
            placeholder=t("filter.scope_search", lang), className="an-dd an-dd-scope")]),
        html.Label([t("filter.category", lang), dcc.Dropdown(
            id=ids.AN_F_CATEGORY, **multi, value=list(state.categories), multi=True, options=_with_unknown(cat.categories(lang), state.categories),
            placeholder=t("filter.all", lang), className="an-dd an-dd-wide")]),
        html.Label([t("filter.channel", lang), dcc.Dropdown(
            id=ids.AN_F_CHANNEL, **multi, value=list(state.channels), multi=True, options=_with_unknown(cat.channels(lang), state.channels),
            placeholder=t("filter.all", lang), className="an-dd")]),
        html.Label([t("filter.urgency", lang), dcc.Dropdown(
            id=ids.AN_F_URGENCY, labels=labels, value=state.urgency, options=_options(
                [("urgent", t("urgency.urgent", lang)), ("normal", t("urgency.normal", lang))]),
            placeholder=t("filter.all", lang), className="an-dd an-dd-narrow")]),
        html.Label([t("filter.department", lang), dcc.Dropdown(
            id=ids.AN_F_DEPARTMENT, **multi, value=list(state.departments), multi=True, options=_with_unknown(cat.departments(lang), state.departments),
            placeholder=t("filter.all", lang), className="an-dd an-dd-wide")]),
        dcc.Link(t("filter.reset", lang), href=href(path, ViewState(lang=state.lang)),
                 id=ids.AN_F_RESET, className="an-reset"),
    ])


def _header(key: str, state: ViewState, crumbs: list[tuple[str, str, str]], window_text: str,
            as_of: datetime, historical: bool, tz: str, lang: str) -> html.Header:
    path = _PATHS[key]
    trail: list = []
    principal = access.current()
    home = principal.home(crumbs[0][0]) if crumbs else None
    for i, (area_id, _level, name) in enumerate(crumbs):
        if i:
            trail.append(html.Span("›", className="an-crumb-sep"))
        if not principal.allows(a for a, _, _ in crumbs[:i + 1]):  # above the account's areas: a name, no link
            trail.append(html.Span(name, className="an-crumb an-crumb-off", **{"data-area": area_id}))
            continue
        target = state.with_scope(None if area_id == home else area_id)
        trail.append(html.Span(dcc.Link(name, href=href(path, target, page_keys=True)), className="an-crumb",
                               **{"data-area": area_id}))
    stamp = as_of.astimezone(runtime_zone(tz))
    as_of_text = t("an.as_of", lang, time=f"{stamp:%Y-%m-%d %H:%M}")
    return html.Header(className="an-head", children=[
        html.Div(className="an-head-main", children=[
            html.H1(t(f"nav.{key}", lang), className="an-title"),
            html.Div(trail, id=ids.AN_BREADCRUMB, className="an-crumbs"),
        ]),
        html.Div(className="an-head-meta", children=[
            html.Span(window_text, id=ids.AN_WINDOW_TEXT, className="an-window"),
            html.Span(historical_text(as_of, lang, tz) if historical else as_of_text, id=ids.AN_AS_OF,
                      className="an-historical" if historical else "an-asof", **{"data-as-of": as_of.isoformat()}),
        ]),
    ])


def runtime_zone(tz: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(tz)


def window_text(state: ViewState, window, lang: str) -> str:
    """"近7天 · 11-18 10:30 – 11-25 10:30": the window's name and its bounds."""
    fmt = "%Y-%m-%d %H:%M" if window.seconds >= 86_400 * 300 else "%m-%d %H:%M"
    return f"{t(f'window.{state.window}', lang)} · {window.start:{fmt}} – {window.end:{fmt}}"


def page(key: str, query: dict, panels: Sequence[Any], tools: Any = None) -> html.Div:
    """The whole page ``key`` for the URL ``query``: notices instead when there is nothing to show.

    Args:
        key: the page (a key of :data:`PAGES`).
        query: Dash's ``layout(**query)`` arguments.
        panels: the page's sections (:func:`panel` boxes), laid out on a 4-column grid.
        tools: controls of the page's own (measure, split ...) shown above the panels.
    """
    rt = runtime.current()
    state = ViewState.from_query(query)
    lang = language(state.lang, rt.settings.language)
    q = {"lang": lang}
    try:
        with rt.view_snapshot() as (con, info):
            try:
                deployment = rt.deployment(con, info)
            except NoDistrictError:
                return no_district(q, rt.settings)
            area_id = state.scope or rt.home(deployment)
            try:
                rt.scope(con, info, area_id)
            except UnknownAreaError:
                return unknown_area(con, deployment, area_id, lang, _PATHS[key])
            cat = catalogue(con, info, deployment)
            crumbs = breadcrumb_items(con, deployment, area_id, lang)
            now = rt.view_now(info)
            historical = rt.historical() is not None
    except NoSnapshotError:
        return no_data(q, rt.settings)
    window = state.window_at(now, rt.settings.timezone)
    scope_label = (" › ".join(name for _, _, name in crumbs[1:]) or crumbs[0][2]) if crumbs else area_id
    laid_out_for = sorted((k, str(v)) for k, vs in query.items() if k not in IN_PLACE_KEYS
                          for v in (vs if isinstance(vs, list) else [vs]))
    return html.Div(className="an-page", lang="zh-CN" if lang == "zh" else "en", children=[
        dcc.Store(id=ids.AN_STATE, data=state.to_dict()),
        _nav(key, state, lang),
        _header(key, state, crumbs, window_text(state, window, lang), now, historical, rt.settings.timezone, lang),
        _filter_bar(state, cat, area_id, scope_label, lang, _PATHS[key]),
        html.Div(tools, className="an-tools") if tools is not None else None,
        html.Main(list(panels), className="an-grid"),
        dcc.Location(id=ids.AN_HERE, refresh=False),
    ], **{"data-query": json.dumps(laid_out_for, ensure_ascii=False, separators=(",", ":")),
          "data-in-place": ",".join(IN_PLACE_KEYS)})
