"""The filter bar's callbacks: a change of any filter becomes a new URL; the area search.

The filter bar never changes the page itself. It writes the URL (``dcc.Location`` with
``refresh="callback-nav"``, a history entry per change, no reload), and Dash's page router lays
the page out again from the URL. So the back button steps through filter changes, and a reload
or a shared link shows the same view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta

import dash
from dash import Input, Output, State, no_update

from dashboard import ids, runtime
from dashboard.analyst.shell import here
from dashboard.analyst.state import ViewState
from dashboard.auth import access
from dashboard.i18n import language, level_name, pick
from metrics import areas

__all__ = ["SEARCH_LIMIT", "apply_filters", "register", "scope_options"]

SEARCH_LIMIT = 30


def apply_filters(state: ViewState, window: str | None, first: str | None, last: str | None, scope: str | None,
                  categories: list | None, channels: list | None, urgency: str | None, departments: list | None,
                  district_id: str | None, today: date) -> ViewState:
    """The state after the filter bar's values changed (pure: tested without a browser).

    Choosing "custom" without dates starts from the days of the window shown so far; the area of
    the deployment's district is written as no area at all (the default). Page keys are kept, but
    the open case and the selected unit of a drill-down belong to the old filters and are dropped.
    """
    window = window or state.window
    d1 = date.fromisoformat(first[:10]) if first else None
    d2 = date.fromisoformat(last[:10]) if last else None
    if window == "custom" and (d1 is None or d2 is None):
        if state.window == "custom" and state.first and state.last:
            d1, d2 = d1 or state.first, d2 or state.last
        else:
            d2 = d2 or today
            d1 = d1 or d2 - timedelta(days=6)
    if window != "custom":
        d1 = d2 = None
    new = replace(state, window=window, first=d1, last=d2,
                  scope=None if not scope or scope == district_id else str(scope),
                  categories=tuple(categories or ()), channels=tuple(channels or ()),
                  urgency=urgency or None, departments=tuple(departments or ()))
    if new.filters_only() != state.filters_only():
        new = new.with_extra(case=None)
    return ViewState.from_search(new.search())  # canonical: what a reload would parse


def _filters_to_url(window, first, last, scope, categories, channels, urgency, departments, data, search, path):
    state = here(search, data)  # with a sort or measure chosen since the page was laid out
    rt = runtime.current()
    with rt.snapshot() as (con, info):
        district = rt.home(rt.deployment(con, info))
    today = rt.now().date()
    new = apply_filters(state, window, first, last, scope, categories, channels, urgency, departments, district,
                        today)
    if new == state:
        return no_update
    return (path or "/") + new.search()


def _language_link(search, path):
    """The language switch's link after a key changed in place (a sort, another measure).

    The view as the address has it now, in the other language: the link made with the page has the
    keys the page was laid out with.
    """
    state = here(search, None)
    lang = language(state.lang, runtime.current().settings.language)
    return (path or "/") + replace(state, lang="en" if lang == "zh" else "zh").search()


def scope_options(con, text: str, current: str | None, current_label: str | None, lang: str,
                  level_names: dict[str, str] | None = None, roots: Sequence[str] | None = None) -> list[dict]:
    """Dropdown options for an area search: the current area first, then the best matches.

    Each match is labelled with its level (the deployment's own level names, ``level_names``) and
    the street it lies in, so two communities of one name in two streets can be told apart. With
    ``roots`` (an account's areas), only those and the areas inside them are offered.
    """
    found = areas.search(con, text, SEARCH_LIMIT, roots)
    out = [{"label": current_label or current, "value": current}] if current else []
    for a, lv, n, ne, sn, sne in zip(found["area_id"], found["level"], found["name"], found["name_en"],
                                     found["street_name"], found["street_name_en"], strict=True):
        if a == current:
            continue
        where = pick(sn, sne, lang) if isinstance(sn, str) else ""
        level = (level_names or {}).get(str(lv), str(lv))
        label = f"{pick(n, ne, lang)} · {level}" + (f" · {where}" if where else "")
        out.append({"label": label, "value": str(a), "search": f"{n} {ne} {a}"})
    return out


def _search_scope(text, value, options, data):
    if not text or len(text.strip()) < 1:
        return no_update
    rt = runtime.current()
    lang = language(ViewState.from_dict(data).lang, rt.settings.language)
    label = next((o["label"] for o in options or [] if o.get("value") == value), None)
    with rt.snapshot() as (con, info):
        deployment = rt.deployment(con, info)
        names = {lv.level: level_name(lv, lang) for lv in deployment.levels}
        principal = access.current()
        return scope_options(con, text, value, label, lang, names, None if principal.everywhere else principal.areas)


def register(app: dash.Dash) -> None:
    """Add the filter bar's callbacks to ``app`` (called by :func:`dashboard.app.create_app`).

    Bound to the app rather than declared with ``dash.callback`` at import: a module is imported
    once per process, and Dash hands the callbacks declared that way to the first app only (the
    pages' own callbacks are declared again each time Dash loads the pages for a new app).
    """
    app.callback(
        Output(ids.AN_URL, "href"),
        Input(ids.AN_F_WINDOW, "value"),
        Input(ids.AN_F_DATES, "start_date"),
        Input(ids.AN_F_DATES, "end_date"),
        Input(ids.AN_F_SCOPE, "value"),
        Input(ids.AN_F_CATEGORY, "value"),
        Input(ids.AN_F_CHANNEL, "value"),
        Input(ids.AN_F_URGENCY, "value"),
        Input(ids.AN_F_DEPARTMENT, "value"),
        State(ids.AN_STATE, "data"),
        State(ids.AN_HERE, "search"),
        State("_pages_location", "pathname"),
        prevent_initial_call=True,
    )(_filters_to_url)
    app.callback(
        Output(ids.AN_LANG, "href"),
        Input(ids.AN_HERE, "search"),
        State(ids.AN_HERE, "pathname"),
        prevent_initial_call=True,
    )(_language_link)
    app.callback(
        Output(ids.AN_F_SCOPE, "options"),
        Input(ids.AN_F_SCOPE, "search_value"),
        State(ids.AN_F_SCOPE, "value"),
        State(ids.AN_F_SCOPE, "options"),
        State(ids.AN_STATE, "data"),
        prevent_initial_call=True,
    )(_search_scope)
