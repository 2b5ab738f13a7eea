"""Warnings (``/warnings``): every SLA-risk, surge and efficiency warning of the view, in one list.

Counts per kind and level at the top (each a link that filters the list), then the list itself,
filtered by the page keys ``kind`` (sla, surge, efficiency) and ``level`` (breached, red, amber)
and ordered by ``sort`` (urgent, newest, area). Every row links to what explains it: an SLA row to
its case, a surge to the cases of its area and category over the day(s) of its hours, an
efficiency warning to its department or street. Warnings are "now" (as of the data time); the
window of the filter bar does not apply to them. Numbers come from ``metrics.warnings``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import NamedTuple

import dash
import dash_ag_grid as dag
import pandas as pd
from dash import Input, Output, State, dcc, html, no_update

from dashboard import ids
from dashboard.analyst import shell
from dashboard.analyst.state import ViewState
from dashboard.analyst.view import View, empty, render
from dashboard.components.format import countdown, number
from dashboard.components.warnings import warning_text
from dashboard.i18n import dropdown_labels, t
from metrics.warnings import efficiency_warnings, sla_risk_list, surges

dash.register_page(__name__, path="/warnings", title="GridPulse · Warnings")

__all__ = ["CAP", "KINDS", "LEVELS", "SORTS", "Found", "Row", "choices", "counts", "find", "layout", "select",
           "surge_link"]

CAP = 200  # rows in the list; a 10-million-case district has thousands of cases at risk
KINDS = ("sla", "surge", "efficiency")
LEVELS = ("breached", "red", "amber")
SORTS = ("urgent", "newest", "area")
SURGE_HOURS = 6  # metrics.warnings.surges' default window
_SHAPES = {"breached": "■", "red": "▲", "amber": "△"}


class Row(NamedTuple):  # not a dataclass: Dash loads pages under a name sys.modules lacks
    """One warning as the list shows it: what, how urgent, where, since when, and where to look."""

    kind: str
    level: str
    rank: int  # position in its detector's own order (most urgent first)
    text: str
    area: str
    since: datetime
    href: str
    link: str  # i18n key of the link text
    key: str


def choices(state: ViewState) -> tuple[str | None, str | None, str]:
    """The page keys ``kind``, ``level`` and ``sort`` of ``state``, unknown values dropped."""
    kind, level, sort = state.get("kind"), state.get("level"), state.get("sort")
    return (kind if kind in KINDS else None, level if level in LEVELS else None, sort if sort in SORTS else "urgent")


def surge_link(w, state: ViewState, today: datetime) -> str:
    """``/cases`` for a surge: its area as scope, its category as filter, the day(s) its hours cover.

    A window inside today is ``today``; one reaching back into yesterday is a custom window of
    those days (the cases page counts whole days: the surge's hours are inside, not alone).
    """
    start, end = w.evidence["window_start"], w.evidence["window_end"]
    target = replace(state.filters_only(), scope=w.area_id, categories=(str(w.evidence["category_id"]),))
    if start.date() == end.date() == today.date():
        target = replace(target, window="today", first=None, last=None)
    else:
        target = replace(target, window="custom", first=start.date(), last=end.date())
    return shell.href("/cases", target)


def _sla_rows(df: pd.DataFrame, view: View) -> list[Row]:
    """Rows of SLA risk cases (``rank``: the position in ``sla_risk``'s order, kept in ``df["rank"]``)."""
    lang, day = view.lang, "天" if view.lang == "zh" else "d"
    out = []
    for r in df.itertuples(index=False):
        left = countdown(float(r.seconds_left), day)
        left = t("wr.sla.overdue" if r.seconds_left < 0 else "wr.sla.left", lang, d=left)
        stage = t(f"sla.stage.{r.stage}", lang) if r.stage in ("accept", "dispatch", "close") else str(r.stage)
        text = t("wr.sla.text", lang, case=r.case_id, category=view.name(r.category_name, r.category_name_en),
                 stage=stage, left=left)
        href = shell.href("/cases", ViewState(lang=view.state.lang).with_extra(case=str(r.case_id)), page_keys=True)
        zh, en, area = (None if pd.isna(v) else v for v in (r.area_name, r.area_name_en, r.area_id))
        place = view.name(zh, en) or str(area or "")  # the list names places; an id only where it has no name
        out.append(Row("sla", str(r.level), int(r.rank), text, place,
                       pd.Timestamp(r.received_at).to_pydatetime(),
                       href, "wr.link.case", str(r.case_id)))
    return out


def _surge_rows(found: list, view: View) -> list[Row]:
    out = []
    for i, w in enumerate(found):
        where = " ".join(view.name(*w.names.get(k, ("", ""))) for k in ("street", "area")).strip()
        out.append(Row("surge", w.level, i, warning_text(w, view.lang), where or w.area_id,
                       w.evidence["window_start"], surge_link(w, view.state, view.now), "wr.link.cases",
                       f"{w.area_id}|{w.evidence['category_id']}"))
    return out


def _efficiency_rows(found: list, view: View) -> list[Row]:
    out = []
    for i, w in enumerate(found):
        unit, kind = str(w.evidence["unit"]), w.evidence["unit_kind"]
        base = view.state.filters_only()
        if kind == "street":
            href, link = shell.href("/map", base.with_scope(unit)), "wr.link.map"
        else:
            href, link = shell.href("/departments", replace(base, departments=(unit,))), "wr.link.department"
        out.append(Row("efficiency", w.level, i, warning_text(w, view.lang), view.name(*w.names["unit"]),
                       w.evidence["week"][0], href, link, f"{kind}|{unit}"))
    return out


class Found(NamedTuple):
    """The warnings of a view for one choice of kind, level and order.

    The SLA risk cases are counted per level (thousands at 10 million cases) and only the first
    :data:`CAP` of the chosen level and order are read, as a frame (only the rows shown become
    :class:`Row` objects); the surges and efficiency warnings, a few, are rows already.
    """

    sla: pd.DataFrame
    other: list[Row]
    sla_counts: dict[str, int]


def find(view: View) -> Found:
    """The warnings of the view (``metrics.warnings``: sla_risk_list at breached/red/amber, surges, efficiency)."""
    _, level, sort = choices(view.state)
    risk = sla_risk_list(view.con, view.scope, view.now, view.settings, LEVELS, level, sort, CAP)
    found = surges(view.con, view.scope, view.now, view.settings, hours=SURGE_HOURS)
    slow = efficiency_warnings(view.con, view.scope, view.now, view.settings)
    return Found(risk.rows, _surge_rows(found, view) + _efficiency_rows(slow, view), risk.counts)


def counts(found: Found, kind: str | None = None, level: str | None = None) -> dict[str, int]:
    """Warnings per kind and per level, each under the other choice, and ``all`` under both.

    ``kind.sla`` ... count the warnings of the chosen ``level``, ``level.red`` ... those of the
    chosen ``kind`` (facets: each chip says how many rows clicking it would list).
    """
    sla_levels = found.sla_counts
    out = {f"kind.{k}": 0 for k in KINDS} | {f"level.{lv}": 0 for lv in LEVELS}
    out["kind.sla"] = sum(sla_levels.values()) if level is None else int(sla_levels.get(level, 0))
    if kind in (None, "sla"):
        for lv in LEVELS:
            out[f"level.{lv}"] = int(sla_levels.get(lv, 0))
    for r in found.other:
        if level is None or r.level == level:
            out[f"kind.{r.kind}"] += 1
        if kind is None or r.kind == kind:
            out[f"level.{r.level}"] += 1
    out["all"] = out[f"kind.{kind}"] if kind else sum(out[f"kind.{k}"] for k in KINDS)
    return out


def _urgency(r: Row) -> tuple:
    return LEVELS.index(r.level) if r.level in LEVELS else 9, KINDS.index(r.kind), r.rank


def select(found: Found, view: View, kind: str | None, level: str | None, sort: str,
           cap: int = CAP) -> tuple[list[Row], int]:
    """The first ``cap`` rows of ``kind`` and ``level`` (``None``: all) in the order ``sort``, and how many match.

    ``urgent``: breached, then red, then amber; within a level SLA rows, surges, efficiency, each
    in its detector's order. ``newest``: the latest start first (an SLA case's receipt, a surge's
    window start, an efficiency warning's week). ``area``: by the area's name, then urgency. The
    SLA cases are filtered and ordered as a frame and only the first ``cap`` become rows; how many
    match comes from the counts (the frame holds only the first rows of :func:`find`'s choice).
    """
    if kind in (None, "sla"):
        sla = found.sla if level is None else found.sla[found.sla["level"] == level]
        n_sla = sum(found.sla_counts.values()) if level is None else found.sla_counts.get(level, 0)
    else:
        sla, n_sla = found.sla.iloc[0:0], 0
    other = [r for r in found.other if (kind is None or r.kind == kind) and (level is None or r.level == level)]
    if sort == "newest":
        sla = sla.sort_values(["received_at", "rank"], ascending=[False, True])
    elif sort == "area":
        sla = sla.sort_values(["area_id", "rank"])
    rows = _sla_rows(sla.head(cap), view) + other
    if sort == "newest":
        rows.sort(key=lambda r: (-r.since.timestamp(), _urgency(r)))
    elif sort == "area":
        rows.sort(key=lambda r: (r.area, _urgency(r)))
    else:
        rows.sort(key=_urgency)
    return rows[:cap], n_sla + len(other)


def _chip(key: str, n: int, label: str, colour: str, href: str, on: bool) -> dcc.Link:
    return dcc.Link([html.Span(number(n), className="an-chip-num", **{"data-key": key, "data-value": str(int(n))}),
                     html.Span(label, className="an-chip-label")], href=href, id=f"wr-chip-{key.replace('.', '-')}",
                    className=f"an-chip an-chip-{colour if n else 'none'}" + (" wr-chip-on" if on else ""))


def _counts(view: View, found: Found) -> list:
    kind, level, _ = choices(view.state)
    n = counts(found, kind, level)
    colour = {"kind.sla": "red", "kind.surge": "amber", "kind.efficiency": "amber", "level.breached": "red",
              "level.red": "red", "level.amber": "amber"}

    def link(key: str, value: str, current: str | None) -> str:
        return shell.href("/warnings", view.state.with_extra(**{key: None if current == value else value}), True)

    kinds = [_chip(f"kind.{k}", n[f"kind.{k}"], t(f"wr.kind.{k}", view.lang), colour[f"kind.{k}"],
                   link("kind", k, kind), k == kind) for k in KINDS]
    levels = [_chip(f"level.{lv}", n[f"level.{lv}"], t(f"wr.level.{lv}", view.lang), colour[f"level.{lv}"],
                    link("level", lv, level), lv == level) for lv in LEVELS]
    return [html.Div([html.Div(kinds, className="an-chips"), html.Span(className="wr-chip-sep"),
                      html.Div(levels, className="an-chips")], className="wr-chip-rows"),
            html.P(t("wr.note", view.lang, hours=SURGE_HOURS), className="an-note")]


def _list(view: View, found: Found) -> list:
    kind, level, sort = choices(view.state)
    shown, total = select(found, view, kind, level, sort)
    if not shown:
        return [empty(view.lang, t("wr.what", view.lang))]
    lang = view.lang
    data = [{"key": r.key, "kind": r.kind, "level": r.level,
             "level_text": f"{_SHAPES.get(r.level, '·')} {t(f'wr.level.{r.level}', lang)}",
             "kind_text": t(f"wr.kind.{r.kind}", lang), "text": r.text, "area": r.area,
             "since": f"{r.since.astimezone(view.now.tzinfo):%m-%d %H:%M}",
             "link": f"[{t(r.link, lang)}]({r.href})"} for r in shown]
    grid = dag.AgGrid(id="wr-grid", rowData=data, columnDefs=_columns(lang), getRowId="params.data.key",
                      defaultColDef={"sortable": False, "resizable": True, "suppressMovable": True},
                      dashGridOptions={"suppressCellFocus": True, "rowHeight": 30, "headerHeight": 32,
                                       "enableCellTextSelection": True},
                      className="ag-theme-alpine wr-grid", style={"height": "640px", "width": "100%"})
    note = t("wr.shown", lang, shown=number(len(shown)), total=number(total)) if total > len(shown) \
        else t("wr.total", lang, total=number(total))
    return [html.P(note, className="an-note wr-shown", **{"data-shown": str(len(shown)), "data-total": str(total)}),
            grid]


def _columns(lang: str) -> list[dict]:
    """The grid's columns.

    One ag-grid, not an html table: Dash 4 renders every html cell as its own component, and after
    an in-page navigation 200 rows of them took Chromium 70-90 s (measured; a first load is quick).
    """
    level_class = {f"wr-c-{lv}": f"params.data.level === '{lv}'" for lv in LEVELS}
    kind_class = {f"wr-kind-{k}": f"params.data.kind === '{k}'" for k in KINDS}
    return [
        {"field": "level_text", "headerName": t("wr.col.level", lang), "width": 110, "cellClassRules": level_class},
        {"field": "kind_text", "headerName": t("wr.col.kind", lang), "width": 110, "cellClassRules": kind_class},
        {"field": "text", "headerName": t("wr.col.warning", lang), "flex": 1, "minWidth": 380, "tooltipField": "text"},
        {"field": "area", "headerName": t("wr.col.area", lang), "width": 230},
        {"field": "since", "headerName": t("wr.col.since", lang), "width": 120, "type": "rightAligned"},
        # dash-ag-grid's markdown links open in the same tab by default ("linkTarget" in a colDef: AG Grid warns)
        {"field": "link", "headerName": t("wr.col.link", lang), "width": 130, "cellRenderer": "markdown"},
    ]


def _both(view: View) -> tuple[list, list]:
    found = find(view)  # once for both panels: the SLA ranking is the costly part
    return _counts(view, found), _list(view, found)


def _tools(state: ViewState, lang: str) -> html.Div:
    kind, level, sort = choices(state)

    def dd(id_: str, label: str, value, options, clearable: bool) -> html.Label:
        return html.Label([label, dcc.Dropdown(id=id_, value=value, options=options, clearable=clearable, labels=dropdown_labels(lang),
                                               searchable=False, placeholder=t("wr.all", lang), className="an-dd")],
                          className="wr-tool")

    return html.Div(className="wr-tools", children=[
        dd(ids.WR_KIND, t("wr.kind", lang), kind, [{"label": t(f"wr.kind.{k}", lang), "value": k} for k in KINDS],
           True),
        dd(ids.WR_LEVEL, t("wr.level", lang), level,
           [{"label": t(f"wr.level.{lv}", lang), "value": lv} for lv in LEVELS], True),
        dd(ids.WR_SORT, t("wr.sort", lang), sort, [{"label": t(f"wr.sort.{s}", lang), "value": s} for s in SORTS],
           False),
    ])


def layout(**query) -> html.Div:
    """The warnings page of the URL's view: counts, then the list."""
    from dashboard import runtime
    from dashboard.i18n import language

    state = ViewState.from_query(query)
    lang = language(state.lang, runtime.current().settings.language)
    return shell.page("warnings", query, [
        shell.panel(ids.WR_COUNTS, t("wr.panel.counts", lang), wide=4),
        shell.panel(ids.WR_LIST, t("wr.panel.list", lang), wide=4, tall=True),
    ], tools=_tools(state, lang))


@dash.callback(Output(ids.WR_COUNTS, "children"), Output(ids.WR_LIST, "children"), Input(ids.AN_STATE, "data"))
def _fill(state):
    out = render(state, _both, "warnings")
    return out if isinstance(out, tuple) else (out, out)  # a message (failure, no data) in both panels


@dash.callback(Output(ids.AN_URL, "href", allow_duplicate=True), Input(ids.WR_KIND, "value"),
               Input(ids.WR_LEVEL, "value"), Input(ids.WR_SORT, "value"), State(ids.AN_STATE, "data"),
               prevent_initial_call=True)
def _choices_to_url(kind, level, sort, data):
    state = ViewState.from_dict(data)
    new = state.with_extra(kind=kind or None, level=level or None, sort=None if sort in (None, "urgent") else sort)
    return no_update if new == state else "/warnings" + new.search()
