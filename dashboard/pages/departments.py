"""Departments (``/departments``): each department's volume, on-time % per SLA stage, median times, backlog, trend.

One sortable table (the URL's ``sort`` key: a column, ``-`` first for descending; the headings are
links), the whole scope as its footer, and the joint-handling cases on their own row below.
Numbers come from :func:`metrics.departments.department_table`: a department's row equals the
vital signs of a one-department scope (the overview's numbers for ``?dep=<id>``).
"""

from __future__ import annotations

import math
from dataclasses import replace

import dash
from dash import Input, Output, dcc, html

from dashboard import ids, runtime
from dashboard.analyst import shell
from dashboard.analyst.state import ViewState
from dashboard.analyst.view import View, empty, message, render
from dashboard.components.format import number, value_parts
from dashboard.figures.analyst_backlog import spark_bars
from dashboard.i18n import language, t
from metrics.departments import COLUMNS, JOINT_KEY, department_table, sort_rows
from metrics.vitals import score, spec, status_for

dash.register_page(__name__, path="/departments", title="GridPulse · 部门")

__all__ = ["DEFAULT_SORT", "layout", "sort_of"]

DEFAULT_SORT = "-received"
_RATES = ("accept_1min_pct", "dispatch_5min_pct", "close_on_time_urgent_pct", "close_on_time_other_pct",
          "satisfaction_pct")
_STAGE_OF = {"accept_1min_pct": "accept", "dispatch_5min_pct": "dispatch", "median_accept_s": "accept",
             "median_dispatch_s": "dispatch"}
_TREND_COLOUR = "#3a93cf"


def sort_of(state: ViewState) -> str:
    """The URL's ``sort`` when the table can sort by it, else :data:`DEFAULT_SORT`."""
    value = state.get("sort") or DEFAULT_SORT
    return value if value.lstrip("-") in ("name", *COLUMNS) else DEFAULT_SORT


def layout(**query) -> html.Div:
    """The departments page of the URL's view."""
    lang = language(ViewState.from_query(query).lang, runtime.current().settings.language)
    return shell.page("departments", query, [
        shell.panel(ids.DEP_TABLE, t("dep.table", lang), wide=4),
        shell.panel(ids.DEP_JOINT, t("dep.joint", lang), wide=4),
    ])


_DURATIONS = {"median_accept_s": "s", "median_dispatch_s": "s", "median_close_h": "h"}


def _cell(key: str, value, col: str, settings, lang: str) -> html.Td:
    """A number cell: formatted, coloured by status for the rates, its raw value in ``data-value``."""
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    attrs = {"data-key": f"{col}:{key}", "data-value": "" if missing else repr(float(value))}
    if missing:
        return html.Td("—", className="an-num dep-na", **attrs)
    cls = "an-num"
    if col in _RATES:
        target = spec(col).target
        status = status_for(score(float(value), target, "higher"), settings)
        cls += f" dep-s-{status}"
        text = f"{value:.1f}%"
    elif col in _DURATIONS:  # one unit per column, the overview's (秒 / s, 小时 / h), so a column reads down
        text = " ".join(value_parts(value, _DURATIONS[col], lang))
    else:
        text = number(value)
    return html.Td(text, className=cls, **attrs)


def _head(view: View, current: str) -> html.Tr:
    cells = [html.Th(t("dep.col.rank", view.lang), className="dep-rank")]
    for col in ("name", *COLUMNS):
        on = current.lstrip("-") == col
        # first click: most first for numbers, A-Z for names; a second click turns it round
        first = col if col == "name" else f"-{col}"
        target = (current[1:] if current.startswith("-") else f"-{col}") if on else first
        arrow = (" ▼" if current.startswith("-") else " ▲") if on else ""
        link = dcc.Link(t(f"dep.col.{col}", view.lang) + arrow, id=f"dep-sort-{col}",
                        href=shell.href("/departments", view.state.with_extra(sort=target), page_keys=True))
        cells.append(html.Th(link, className=("an-num" if col != "name" else "") + (" dep-sorted" if on else "")))
    cells.append(html.Th(t("dep.col.trend", view.lang)))
    return html.Tr(cells)


def _row(view: View, r: dict, rank: str, cls: str = "") -> html.Tr:
    key = str(r["key"])
    name = view.name(r["name"], r["name_en"])
    if key.startswith("__"):
        label = html.Td(name, className="dep-name")
    else:
        link = shell.href("/", replace(view.state.filters_only(), departments=(key,)))
        label = html.Td(dcc.Link(name, href=link, title=key), className="dep-name")
    src = spark_bars([float(v) for v in r["trend"]], _TREND_COLOUR)
    spark = html.Img(src=src, className="dep-spark", alt="") if src else None
    return html.Tr([html.Td(rank, className="dep-rank"), label,
                    *[_cell(key, r[c], c, view.settings, view.lang) for c in COLUMNS], html.Td(spark)],
                   className=cls, **{"data-row": key})


def _notes(view: View, table) -> list:
    notes = [html.P(t("dep.trend_note", view.lang, gran=t(f"bl.gran.{table.trend_gran}", view.lang).lower()),
                    className="an-note")]
    if table.not_recorded:
        stages = t("dep.and", view.lang).join(t(f"dep.stage.{s}", view.lang) for s in table.not_recorded)
        notes.insert(0, html.P(t("dep.not_recorded", view.lang, stages=stages), className="an-note dep-not-recorded"))
    return notes


def _panels(view: View) -> list:
    """The children of both panels: the departments table, and the joint-handling row (one computation)."""
    table = department_table(view.con, view.scope, view.window, view.now, view.settings)
    total = table.total.iloc[0]
    if total["received"] == 0 and total["open"] == 0:
        return [[empty(view.lang)], [empty(view.lang)]]
    current = sort_of(view.state)
    rows = sort_rows(table.rows, current, view.lang)
    body = [_row(view, r, str(i + 1)) for i, r in enumerate(rows.to_dict("records"))]
    foot = html.Tfoot(_row(view, total.to_dict(), ""))
    grid = html.Table([html.Thead(_head(view, current)), html.Tbody(body), foot], className="an-table dep-table",
                      id="dep-table-t", **{"data-sort": current})
    return [[html.Div(grid, className="dep-scroll"), *_notes(view, table)], _joint(view, table)]


def _joint(view: View, table) -> list:
    joint = table.joint.iloc[0]
    if joint["received"] == 0 and joint["open"] == 0:
        return [message("empty", t("dep.joint_none", view.lang))]
    head = html.Tr([html.Th(""), html.Th(t("dep.col.name", view.lang)),
                    *[html.Th(t(f"dep.col.{c}", view.lang), className="an-num") for c in COLUMNS],
                    html.Th(t("dep.col.trend", view.lang))])
    grid = html.Table([html.Thead(head), html.Tbody(_row(view, joint.to_dict(), "", "dep-joint-row"))],
                      className="an-table dep-table", id="dep-joint-t", **{"data-row": JOINT_KEY})
    return [html.Div(grid, className="dep-scroll"), html.P(t("dep.joint_note", view.lang), className="an-note")]


@dash.callback(Output(ids.DEP_TABLE, "children"), Output(ids.DEP_JOINT, "children"), Input(ids.AN_STATE, "data"))
def _fill(state):
    out = render(state, _panels, "departments")
    if isinstance(out, list) and len(out) == 2:
        return out
    return out, None  # a message (no data, unknown area, failure) once, in the first panel
