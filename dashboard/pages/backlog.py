"""Backlog (``/backlog``): is the work keeping up? Inflow, outflow, open and overdue over the view's window.

The URL's ``gran`` key picks hours, days or weeks (hours for windows up to 7 days, weeks from 30
days; anything else falls back to the window's default, see :func:`metrics.backlog.granularity`)
and ``by`` the split (street, category or department). Numbers come from ``metrics.backlog``:
:func:`~metrics.backlog.backlog_series` for the flows, :func:`~metrics.backlog.backlog_by` for open
and overdue per member now, :func:`~metrics.backlog.open_age` for the age of the open cases.
"""

from __future__ import annotations

from dataclasses import replace

import dash
from dash import Input, Output, dcc, html

from dashboard import ids, runtime
from dashboard.analyst import shell
from dashboard.analyst.state import ViewState
from dashboard.analyst.view import View, empty, render
from dashboard.components.format import number
from dashboard.figures import GRAPH_CONFIG
from dashboard.figures.analyst_backlog import age_figure, split_figure
from dashboard.figures.backlog import window_figure
from dashboard.i18n import language, level_name, t
from metrics.backlog import (
    GRANULARITIES,
    backlog_by,
    backlog_series,
    data_first_day,
    granularities,
    granularity,
    open_age,
    top_members,
)

dash.register_page(__name__, path="/backlog", title="GridPulse · 积压")

__all__ = ["SPLITS", "layout", "split_of"]

SPLITS = ("street", "category", "department")
TOP_N = 8


def split_of(state: ViewState) -> str:
    """The URL's ``by`` when it is a split this page offers, else the street."""
    by = state.get("by")
    return by if by in SPLITS else "street"


def _by_word(by: str, lang: str, deployment=None) -> str:
    """The split's name as a heading: the deployment's own name of the street level (LA: "Region")."""
    if by == "street" and deployment is not None and deployment.level("street").depth >= 0:
        return level_name(deployment.level("street"), lang)
    word = t(f"bl.by.{by}", lang)
    return word.capitalize() if lang == "en" else word


def _in_sentence(word: str, lang: str) -> str:
    return word.lower() if lang == "en" else word


def _deployment():
    """The current snapshot's deployment (level names), or ``None`` when there is none: the shell says why."""
    rt = runtime.current()
    try:
        with rt.snapshot() as (con, info):
            return rt.deployment(con, info)
    except Exception:  # no snapshot or no district: shell.page shows the notice instead of the page
        return None


def _tools(state: ViewState, lang: str, deployment) -> html.Div:
    """Granularity and split as links: each is a URL (reload, share and back all work)."""
    rt = runtime.current()
    window = state.window_at(rt.view_now(), rt.settings.timezone)
    offered, gran, by = granularities(window), granularity(state.get("gran"), window), split_of(state)

    def link(kind: str, value: str, label: str, on: bool, enabled: bool = True):
        cls = "bl-seg-item" + (" bl-seg-on" if on else "")
        if not enabled:
            return html.Span(label, className=cls + " bl-seg-off", title=t("bl.gran.off", lang),
                             id=f"bl-{kind}-{value}")
        href = shell.href("/backlog", state.with_extra(**{kind: value}), page_keys=True)
        return dcc.Link(label, href=href, className=cls, id=f"bl-{kind}-{value}")

    return html.Div(className="bl-tools", children=[
        html.Div([html.Span(t("bl.gran", lang), className="bl-seg-label"), *[
            link("gran", g, t(f"bl.gran.{g}", lang), g == gran, g in offered) for g in GRANULARITIES]],
            className="bl-seg", **{"data-value": gran}),
        html.Div([html.Span(t("bl.by", lang), className="bl-seg-label"), *[
            link("by", b, _by_word(b, lang, deployment), b == by) for b in SPLITS]], className="bl-seg", **{"data-value": by}),
    ])


def layout(**query) -> html.Div:
    """The backlog page of the URL's view."""
    state = ViewState.from_query(query)
    lang = language(state.lang, runtime.current().settings.language)
    deployment = _deployment()
    by = _in_sentence(_by_word(split_of(state), lang, deployment), lang)
    return shell.page("backlog", query, [
        shell.panel(ids.BL_FLOWS, t("bl.flows", lang), wide=4),
        shell.panel(ids.BL_SPLIT, t("bl.split", lang, by=by), wide=2),
        shell.panel(ids.BL_BY_TABLE, t("bl.by_table", lang, by=by), wide=1),
        shell.panel(ids.BL_AGE, t("bl.age", lang), wide=1),
    ], tools=_tools(state, lang, deployment))


def _num(key: str, value: int, label: str) -> html.Div:
    return html.Div([html.Span(number(value), className="an-chip-num", **{"data-key": key, "data-value": str(int(value))}),
                     html.Span(label, className="an-chip-label")], className="an-chip bl-kpi", id=f"bl-k-{key}")


def _flows(view: View) -> list:
    gran = granularity(view.state.get("gran"), view.window)
    df = backlog_series(view.con, view.scope, view.window, view.now, view.settings, gran)
    if df.empty or not (df["inflow"].any() or df["outflow"].any() or df["open_end"].any() or df["open_start"].any()):
        return [empty(view.lang)]
    inflow, outflow = int(df["inflow"].sum()), int(df["outflow"].sum())
    kpis = [_num("inflow", inflow, t("bl.k.inflow", view.lang)), _num("outflow", outflow, t("bl.k.outflow", view.lang)),
            _num("net", inflow - outflow, t("bl.k.net", view.lang)),
            _num("open_start", int(df["open_start"].iloc[0]), t("bl.k.open_start", view.lang)),
            _num("open_end", int(df["open_end"].iloc[-1]), t("bl.k.open_end", view.lang)),
            _num("overdue_end", int(df["overdue_end"].iloc[-1]), t("bl.k.overdue_end", view.lang))]
    graph = html.Div(dcc.Graph(id="bl-flows-graph", figure=window_figure(df, view.lang, gran), config=GRAPH_CONFIG,
                               style={"height": "320px"}), id="bl-flows-chart", **{"data-buckets": str(len(df)),
                                                                               "data-gran": gran})
    notes = [html.P(t("bl.note", view.lang), className="an-note")]
    first = data_first_day(view.con, view.now, view.settings)
    if first is not None and view.window.start.date() < first:
        notes.append(html.P(t("bl.data_begins", view.lang, day=first.isoformat()), className="an-note bl-data-begins"))
    return [html.Div(kpis, className="an-chips"), graph, *notes]


def _split(view: View) -> list:
    gran, by = granularity(view.state.get("gran"), view.window), split_of(view.state)
    series = backlog_series(view.con, view.scope, view.window, view.now, view.settings, gran, by=by)
    if series.empty or not series["inflow"].any():
        return [empty(view.lang)]
    top = top_members(series, TOP_N, (t("bl.other", "zh"), t("bl.other", "en")))
    word = _in_sentence(_by_word(by, view.lang, view.deployment), view.lang)
    return [dcc.Graph(id="bl-split-graph", figure=split_figure(top, view.lang, gran), config=GRAPH_CONFIG,
                      style={"height": "300px"}),
            html.P(t("bl.split_note", view.lang, by=word), className="an-note")]


def _member_link(view: View, by: str, key: str) -> str:
    base = view.state.filters_only()
    if by == "street":
        return shell.href("/backlog", view.state.with_scope(key), page_keys=True)
    target = replace(base, categories=(key,)) if by == "category" else replace(base, departments=(key,))
    return shell.href("/cases", target)


def _by_table(view: View) -> list:
    by = split_of(view.state)
    df = backlog_by(view.con, view.scope, view.now, by, view.settings)
    if df.empty or not df["open"].any():
        return [empty(view.lang)]
    head = html.Tr([html.Th(_by_word(by, view.lang, view.deployment)), *[html.Th(t(k, view.lang), className="an-num") for k in (
        "bl.col.open", "bl.col.overdue", "bl.col.share")]])
    rows = []
    for r in df.itertuples(index=False):
        share = f"{100 * r.overdue / r.open:.0f}%" if r.open else "—"
        rows.append(html.Tr([
            html.Td(dcc.Link(view.name(r.name, r.name_en), href=_member_link(view, by, str(r.key)))),
            html.Td(number(r.open), className="an-num", **{"data-key": f"open:{r.key}", "data-value": str(int(r.open))}),
            html.Td(number(r.overdue), className="an-num bl-overdue" if r.overdue else "an-num",
                    **{"data-key": f"overdue:{r.key}", "data-value": str(int(r.overdue))}),
            html.Td(share, className="an-num"),
        ]))
    return [html.Div(html.Table([html.Thead(head), html.Tbody(rows)], className="an-table", id="bl-by-table-t"),
                     className="bl-scroll")]


def _age(view: View) -> list:
    ages = open_age(view.con, view.scope, view.now, view.settings)
    if not ages["n"].any():
        return [empty(view.lang)]
    cells = [html.Div([html.Span(number(r.n), className="bl-age-n", **{"data-key": f"age:{r.bucket}",
                                                                          "data-value": str(int(r.n))}),
                       html.Span(view.name(r.label_zh, r.label_en), className="bl-age-label")], className="bl-age-cell")
             for r in ages.itertuples(index=False)]
    return [dcc.Graph(id="bl-age-graph", figure=age_figure(ages, view.lang), config=GRAPH_CONFIG,
                      style={"height": "220px"}), html.Div(cells, className="bl-age-row")]


@dash.callback(Output(ids.BL_FLOWS, "children"), Input(ids.AN_STATE, "data"))
def _fill_flows(state):
    return render(state, _flows, "backlog.flows")


@dash.callback(Output(ids.BL_SPLIT, "children"), Input(ids.AN_STATE, "data"))
def _fill_split(state):
    return render(state, _split, "backlog.split")


@dash.callback(Output(ids.BL_BY_TABLE, "children"), Input(ids.AN_STATE, "data"))
def _fill_by_table(state):
    return render(state, _by_table, "backlog.by_table")


@dash.callback(Output(ids.BL_AGE, "children"), Input(ids.AN_STATE, "data"))
def _fill_age(state):
    return render(state, _age, "backlog.age")
