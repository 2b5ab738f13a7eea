"""Cases (``/cases``): the cases behind every number, one page at a time, and their lifecycles.

The table is a dash-ag-grid with the infinite row model: the browser asks for a block of rows
(``getRowsRequest``: first and last row, the sort and filter models) and the server answers it from
:class:`metrics.cases.CaseQuery` with the total count, so at 10 million cases the browser only ever
holds the pages it shows. Its rows are the cases received in the view's window under its scope and
filters (the count above the table equals :func:`metrics.breakdown.received_by`'s total), narrowed by
the grid's own column filters.

A click on a row opens the case's lifecycle on the right (:func:`metrics.cases.case_lifecycle`:
received, accepted, dispatched, closed and each SLA stage's deadline, outcome and time left), and
writes ``case=<id>`` into the URL, as does a sort (``sort=col:dir,...``); a link with ``?case=`` opens
it directly. These two go into the URL through the page's own ``dcc.Location(refresh=False)``, which
changes the address without laying the page out again, so the table keeps its page and column
filters; a reload or a shared link reproduces them (the column filters excepted: the exports carry
them, see ``dashboard/analyst/exports.py``).
"""

from __future__ import annotations

import math

import dash
import dash_ag_grid as dag
import pandas as pd
from dash import Input, Output, State, ctx, dcc, html, no_update

from dashboard import ids, runtime
from dashboard.analyst import shell
from dashboard.analyst.exports import CSV_PATH, EXPORT_ROW_LIMIT, XLSX_PATH, case_query, columns_for, export_href
from dashboard.analyst.state import ViewState
from dashboard.analyst.view import PanelMessage, View, empty, render
from dashboard.components.format import DASH, countdown, moment_text, number
from dashboard.i18n import language, t
from dashboard.runtime import NoDistrictError
from data.snapshot import NoSnapshotError
from metrics.cases import COLUMNS, MAX_PAGE, GridModelError, case_lifecycle

dash.register_page(__name__, path="/cases", title="GridPulse")

__all__ = ["PAGE_SIZE", "layout", "sort_model", "sort_text"]

PAGE_SIZE = 50  # rows per page and per request: one block of the infinite row model
_FILTERS = {"text": "agTextColumnFilter", "number": "agNumberColumnFilter", "date": "agDateColumnFilter"}
_WIDTHS = {"case_id": 150, "received_at": 140, "accepted_at": 140, "dispatched_at": 140, "closed_at": 140,
           "urgency": 100, "status": 90, "satisfaction": 96, "overdue": 84, "channel": 110}
_TIMES = [k for k, c in COLUMNS.items() if c.kind == "date"]
# AG Grid's own words in Chinese (the grid ships English only; nothing is fetched from a CDN).
_ZH = {"contains": "包含", "notContains": "不包含", "equals": "等于", "notEqual": "不等于", "startsWith": "开头是",
       "endsWith": "结尾是", "blank": "为空", "notBlank": "不为空", "lessThan": "小于", "greaterThan": "大于",
       "lessThanOrEqual": "小于等于", "greaterThanOrEqual": "大于等于", "inRange": "介于", "before": "早于",
       "after": "晚于", "andCondition": "且", "orCondition": "或", "applyFilter": "应用", "resetFilter": "重置",
       "filterOoo": "筛选…", "page": "第", "of": "/", "to": "–", "more": "更多", "loadingOoo": "加载中…",
       "noRowsToShow": "没有数据", "firstPage": "首页", "lastPage": "末页", "nextPage": "下一页",
       "previousPage": "上一页", "inRangeStart": "从", "inRangeEnd": "到", "dateFormatOoo": "yyyy-mm-dd"}


def sort_text(model: list | None) -> str:
    """The URL's ``sort`` value of a sort model: ``"department:asc,received_at:desc"`` (known columns only)."""
    parts = [f"{m.get('colId')}:{m.get('sort')}" for m in (model or []) if isinstance(m, dict)
             and m.get("colId") in COLUMNS and m.get("sort") in ("asc", "desc")]
    return ",".join(parts)


def sort_model(text: str | None) -> list[dict]:
    """The sort model of a URL ``sort`` value; what is not a known column and direction is dropped."""
    out = []
    for part in (text or "").split(","):
        col, _, direction = part.partition(":")
        if col in COLUMNS and direction in ("asc", "desc") and all(m["colId"] != col for m in out):
            out.append({"colId": col, "sort": direction})
    return out


def _deployment():
    rt = runtime.current()
    try:
        with rt.snapshot() as (con, info):
            return rt.deployment(con, info)
    except (NoSnapshotError, NoDistrictError):
        return None


def _column_defs(lang: str, sorted_by: list[dict]) -> list[dict]:
    order = {m["colId"]: (i, m["sort"]) for i, m in enumerate(sorted_by)}
    defs = []
    for key, header in columns_for(_deployment(), lang):
        kind = COLUMNS[key].kind
        # room for the header and its sort and filter icons: ~14 px a CJK character, ~8 px a Latin one
        need = 62 + sum(14 if ord(ch) > 0x2E80 else 8 for ch in header)
        d = {"field": key, "colId": key, "headerName": header, "filter": _FILTERS[kind],
             "filterParams": {"buttons": ["apply", "reset"], "closeOnApply": True, "maxNumConditions": 2,
                              "inRangeInclusive": True},
             "minWidth": max(_WIDTHS.get(key, 110), need), "flex": 0 if key in _WIDTHS else 1,
             "headerTooltip": header}
        if kind == "text":
            d["tooltipField"] = key
        if key in _WIDTHS:
            d["width"] = max(_WIDTHS[key], need)
        if key in order:
            d["sortIndex"], d["sort"] = order[key]
        if key == "overdue":
            d["cellClassRules"] = {"cs-overdue": "params.data && params.data.overdue_flag"}
        if key == "case_id":
            d["cellClass"] = "cs-case"
        defs.append(d)
    return defs


def layout(**query) -> html.Div:
    """The cases of the URL's view: count, table, exports, and the lifecycle of ``?case=``."""
    state = ViewState.from_query(query)
    lang = language(state.lang, runtime.current().settings.language)
    sorted_by = sort_model(state.get("sort"))
    tools = [
        html.A(t("cs.export_csv", lang), id=ids.CS_EXPORT_CSV, className="cs-btn", download="",
               href=export_href(CSV_PATH, state, sorted_by)),
        html.A(t("cs.export_xlsx", lang), id=ids.CS_EXPORT_XLSX, className="cs-btn", download="",
               href=export_href(XLSX_PATH, state, sorted_by)),
        html.Span(t("cs.export_limit", lang, n=number(EXPORT_ROW_LIMIT)), className="cs-limit"),
    ]
    table = html.Section(className="an-panel an-w4 cs-panel", children=[
        html.Header(className="an-panel-head", children=[
            html.Div([html.H2(t("cs.table", lang)), html.Span(id=ids.CS_COUNT, className="cs-count")],
                     className="cs-title"),
            html.Div(tools, className="an-panel-tools cs-tools"),
        ]),
        html.Div(id=ids.CS_MESSAGE, className="cs-message"),
        dag.AgGrid(
            id=ids.CS_GRID, rowModelType="infinite", columnDefs=_column_defs(lang, sorted_by),
            defaultColDef={"sortable": True, "resizable": True, "suppressHeaderMenuButton": False},
            getRowId="params.data.case_id", className="ag-theme-quartz cs-grid",
            dashGridOptions={"pagination": True, "paginationPageSize": PAGE_SIZE, "cacheBlockSize": PAGE_SIZE,
                             "paginationPageSizeSelector": False, "maxBlocksInCache": 20, "rowBuffer": 0,
                             "infiniteInitialRowCount": 1, "enableCellTextSelection": True, "animateRows": False,
                             "rowHeight": 30, "headerHeight": 34, "suppressMultiSort": False,
                             **({"localeText": _ZH} if lang == "zh" else {})},
            style={"height": "100%", "width": "100%"},
        ),
        html.P(t("cs.hint", lang), className="an-note cs-hint"),
    ])
    side = html.Aside(id=ids.CS_SIDE, className="cs-side" + (" cs-open" if state.get("case") else ""), children=[
        html.Button("×", id=ids.CS_SIDE_CLOSE, className="cs-close", title=t("cs.life.close", lang), n_clicks=0),
        dcc.Loading(html.Div(id=ids.CS_SIDE_BODY, className="cs-side-body"), delay_show=shell.LOADING_DELAY_MS,
                    type="dot", color="#1f5fa8"),
    ])
    return shell.page("cases", query, [table, side])


# --- the table ---------------------------------------------------------------------------------------
def _records(df: pd.DataFrame, view: View) -> list[dict]:
    """A page as the grid's row objects: local times as text, no NaN."""
    out = df.copy()
    for col in _TIMES:
        stamps = pd.to_datetime(out[col], utc=True).dt.tz_convert(view.tz)
        out[col] = stamps.dt.strftime("%Y-%m-%d %H:%M").where(stamps.notna(), None)
    out["satisfaction"] = out["satisfaction"].astype(object).where(out["satisfaction"].notna(), None)
    out["overdue_flag"] = out["overdue_flag"].astype(bool)
    return out.astype(object).where(out.notna(), None).to_dict("records")


def _page(view: View, request: dict, search: str | None) -> tuple:
    start = max(int(request.get("startRow") or 0), 0)
    end = int(request.get("endRow") or start + PAGE_SIZE)
    sorting, filtering = request.get("sortModel") or [], request.get("filterModel") or {}
    try:
        query = case_query(view, sorting, filtering)
    except GridModelError as exc:
        raise PanelMessage("error", t("cs.bad_model", view.lang, why=str(exc))) from exc
    n = query.count()
    rows = _records(query.page(start, max(1, min(end - start, MAX_PAGE))), view) if n > start else []
    count = [html.B(t("cs.count", view.lang, n=number(n)), **{"data-value": str(n)}),
             html.Span(" · " + t("cs.count_note", view.lang), className="cs-count-note")]
    if n > EXPORT_ROW_LIMIT:
        count.append(html.Span(" · " + t("cs.export_cut", view.lang, n=number(EXPORT_ROW_LIMIT)), className="cs-cut"))
    message = empty(view.lang, t("cs.what", view.lang)) if n == 0 else None
    base = shell.here(search, view.state.to_dict())
    new_search = base.with_extra(sort=sort_text(sorting) or None).search()
    return ({"rowData": rows, "rowCount": n}, count, message,
            export_href(CSV_PATH, view.state, sorting, filtering), export_href(XLSX_PATH, view.state, sorting, filtering),
            new_search if new_search != (search or "") else no_update)


@dash.callback(
    Output(ids.CS_GRID, "getRowsResponse"), Output(ids.CS_COUNT, "children"), Output(ids.CS_MESSAGE, "children"),
    Output(ids.CS_EXPORT_CSV, "href"), Output(ids.CS_EXPORT_XLSX, "href"),
    Output(ids.AN_HERE, "search", allow_duplicate=True),
    Input(ids.CS_GRID, "getRowsRequest"), State(ids.AN_STATE, "data"), State(ids.AN_HERE, "search"),
    prevent_initial_call=True,
)
def _fill_rows(request, data, search):
    out = render(data, lambda view: _page(view, request or {}, search), "cases.rows", remember=False)
    if isinstance(out, tuple):
        return out
    return {"rowData": [], "rowCount": 0}, None, out, no_update, no_update, no_update


# --- the lifecycle -------------------------------------------------------------------------------------
def _when(value, view: View, end_of_day: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return DASH
    return moment_text(pd.Timestamp(value), view.tz, end_of_day)


def _left(row, lang: str) -> str:
    if row.outcome != "pending" or row.seconds_left is None or math.isnan(row.seconds_left):
        return DASH
    text = countdown(row.seconds_left, "天" if lang == "zh" else "d")
    return text if row.seconds_left >= 0 else t("cs.left.late", lang, t=text)


def _lifecycle(view: View, case_id: str) -> list:
    life = case_lifecycle(view.con, case_id, view.area_scope, view.now, view.settings)
    if life is None:
        raise PanelMessage("info", t("cs.life.not_found", view.lang, case=case_id))
    c, lang = life.case, view.lang
    cancelled = c.get("status") == "cancelled"
    steps = [("received", c.get("received_at")), ("accepted", c.get("accepted_at")),
             ("dispatched", c.get("dispatched_at")), ("cancelled" if cancelled else "closed", c.get("closed_at"))]
    facts = [("category", view.name(c.get("category_name"), c.get("category_name_en"))),
             ("department", view.name(c.get("department_name"), c.get("department_name_en"))),
             ("channel", view.name(c.get("channel_name"), c.get("channel_name_en"))),
             ("place", view.name(c.get("microgrid_name"), c.get("microgrid_name_en"))),
             ("summary", c.get("summary") or DASH)]
    stage_rows = [html.Tr([
        html.Td(t(f"cs.stage.{r.stage}", lang)), html.Td(_when(r.due_at, view, end_of_day=True), className="an-num"),
        html.Td(html.Span(t(f"cs.outcome.{r.outcome}", lang),
                          className=f"cs-outcome cs-o-{r.outcome}" + (" cs-o-late" if r.overdue else "")),
                **{"data-stage": r.stage, "data-outcome": r.outcome}),
        html.Td(_left(r, lang), className="an-num"),
    ]) for r in life.stages.itertuples(index=False)]
    status = t(f"cs.status.{c.get('status')}", lang) if c.get("status") in (
        "received", "accepted", "dispatched", "in_progress", "closed", "cancelled") else str(c.get("status"))
    return [
        html.H3([t("cs.life.title", lang, case=c["case_id"]), html.Span(status, className="cs-status")],
                className="cs-life-title", **{"data-case": c["case_id"]}),
        html.Dl([x for key, value in facts for x in (html.Dt(t(f"cs.field.{key}", lang)), html.Dd(value))],
                className="cs-facts"),
        html.H4(t("cs.life.steps", lang)),
        html.Ol([html.Li([html.Span(t(f"cs.life.{key}", lang), className="cs-step-name"),
                          html.Span(_when(when, view) if when is not None else t("cs.life.not_yet", lang),
                                    className="cs-step-time")],
                         className="cs-step" + ("" if when is not None else " cs-step-todo"))
                 for key, when in steps], className="cs-steps"),
        html.H4(t("cs.life.stages", lang)),
        html.Table([html.Thead(html.Tr([html.Th(t(k, lang)) for k in (
            "cs.life.stage", "cs.life.due", "cs.life.outcome", "cs.life.left")])), html.Tbody(stage_rows)],
            className="an-table cs-stages"),
        html.P(t("cs.life.as_of", lang, time=f"{life.now:%Y-%m-%d %H:%M}"), className="an-note"),
    ]


@dash.callback(Output(ids.CS_SIDE_BODY, "children"), Input(ids.AN_STATE, "data"))
def _side_from_url(data):
    case = ViewState.from_dict(data).get("case")
    return render(data, lambda view: _lifecycle(view, case), "cases.lifecycle", remember=False) if case else None


@dash.callback(
    Output(ids.CS_SIDE_BODY, "children", allow_duplicate=True), Output(ids.CS_SIDE, "className"),
    Output(ids.AN_HERE, "search", allow_duplicate=True),
    Input(ids.CS_GRID, "cellClicked"), Input(ids.CS_SIDE_CLOSE, "n_clicks"),
    State(ids.AN_STATE, "data"), State(ids.AN_HERE, "search"),
    prevent_initial_call=True,
)
def _side_on_click(cell, _closed, data, search):
    base = shell.here(search, data)
    if ctx.triggered_id == ids.CS_SIDE_CLOSE:
        return None, "cs-side", base.with_extra(case=None).search()
    case = str((cell or {}).get("rowId") or "")
    if not case:
        return no_update, no_update, no_update
    body = render(data, lambda view: _lifecycle(view, case), "cases.lifecycle", remember=False)
    return body, "cs-side cs-open", base.with_extra(case=case).search()
