"""Briefings (``/briefings``): the weekly PDF briefings archived, previewed, downloaded, and written on request.

The archive (``var/reports``) and the run log are files, read when asked for
(:mod:`dashboard.briefing.archive`, :mod:`dashboard.briefing.jobs`); the view's area narrows both
(an area user sees their area's briefings), the window and case filters do not apply. The
"generate" button checks the week first and then starts the briefing in a process of its own; the
page polls (``dcc.Interval``) only while a run is running. Helpers: :mod:`dashboard.briefing.listing`.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import time
from datetime import datetime

import dash
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from dashboard import ids, runtime
from dashboard.analyst import shell
from dashboard.analyst.state import ViewState
from dashboard.analyst.view import PanelMessage, View, message, open_view, render
from dashboard.briefing import jobs, listing
from dashboard.briefing.archive import list_reports
from dashboard.briefing.week import IsoWeek
from dashboard.i18n import language, pick, t
from metrics import areas

dash.register_page(__name__, path="/briefings", title="GridPulse · Briefings")

__all__ = ["layout"]

log = logging.getLogger(__name__)

RUNS_SHOWN = 10
POLL_MS = 2_000
PENDING_SECONDS = 120  # how long the page waits for a started run to appear in the log before it stops polling


def layout(**query) -> html.Div:
    """The archive, the selected briefing's preview, the generate form and the recent runs."""
    settings = runtime.current().settings
    lang = language(ViewState.from_query(query).lang, settings.language)
    idle = not listing.running(jobs.runs(settings, RUNS_SHOWN))
    return shell.page("briefings", query, [
        html.Div(className="an-w3 br-stack", children=[  # the archive, the form and the runs, one under the other
            shell.panel(ids.BR_LIST, t("br.panel.list", lang), wide=3),
            shell.panel(ids.BR_FORM, t("br.panel.form", lang), wide=3),
            shell.panel(ids.BR_RUNS, t("br.panel.runs", lang), wide=3)]),
        shell.panel(ids.BR_PREVIEW, t("br.panel.preview", lang), wide=1, tall=True),
        dcc.Store(id=ids.BR_SELECTED), dcc.Store(id=ids.BR_VERSION), dcc.Store(id=ids.BR_PENDING),
        dcc.Interval(id=ids.BR_POLL, interval=POLL_MS, disabled=idle),
    ])


def _area(view: View) -> str | None:
    """The view's area, ``None`` for the district (the schedule's and the command line's default)."""
    return None if view.scope.area_id == view.deployment.district_id else view.scope.area_id


def _namer(view: View):
    """``area id or None -> its name in the view's language`` (the district for ``None``), read once per id."""
    names: dict[str | None, str] = {None: pick(view.deployment.name, view.deployment.name_en, view.lang)}

    def name_of(area_id: str | None) -> str:
        if area_id not in names:
            df = areas.ancestors(view.con, area_id)
            names[area_id] = pick(df["name"].iloc[-1], df["name_en"].iloc[-1], view.lang) if len(df) else area_id
        return names[area_id]

    return name_of


def _reports(view: View):
    found = list_reports(view.settings.reports_dir, view.settings.language)
    return listing.for_scope(found, view.scope.area_id, view.deployment.district_id)


def _report_name(view: View):
    name_of = _namer(view)
    return lambda r: name_of(None if r.scope_id == view.deployment.district_id else r.scope_id)


def _list(view: View, chosen_key: str | None) -> list:
    reports = _reports(view)
    if not reports:
        area = _area(view)
        text = t("br.empty", view.lang) if area is None else t("br.empty_area", view.lang, area=_namer(view)(area))
        raise PanelMessage("empty", text)
    shown = reports[:listing.LIST_LIMIT]
    table = listing.report_table(shown, listing.selected(shown, chosen_key), _report_name(view), view.tz, view.lang,
                                 lambda r: {"type": ids.BR_ROW, "key": listing.key_of(r)})
    note = t("br.shown", view.lang, shown=len(shown), total=len(reports), folder=str(view.settings.reports_dir)) \
        if len(reports) > len(shown) else t("br.total", view.lang, total=len(reports))
    return [table, html.P(note, className="an-note")]


def _preview(view: View, chosen_key: str | None) -> list:
    report = listing.selected(_reports(view)[:listing.LIST_LIMIT], chosen_key)
    if report is None:
        raise PanelMessage("empty", t("br.none_selected", view.lang))
    lang = view.lang
    image = html.Img(src=listing.preview_href(report), id=ids.BR_IMAGE, className="br-image",
                     alt=t("br.preview_alt", lang, week=str(report.week))) \
        if report.path.with_suffix(".png").is_file() else message("info", t("br.no_preview", lang))
    return [
        html.H3(t("br.preview_of", lang, scope=_report_name(view)(report), week=str(report.week),
                  dates=listing.week_dates(report.week)), className="br-preview-title",
                **{"data-key": listing.key_of(report)}),
        html.A(t("br.download", lang, size=listing.size_text(report.size)), href=listing.download_href(report),
               id=ids.BR_DOWNLOAD, className="br-download", download=listing.download_name(
                   report.path.parent.name, report.path.name)),
        html.P(t("br.meta", lang, pages="—" if report.pages is None else report.pages,
                 written=listing.when_text(report.written_at, view.tz)), className="an-note"),
        html.P(t("br.partial_note", lang), className="br-partial-note") if report.partial else None,
        image,
    ]


def _runs(view: View) -> list:
    area = _area(view)
    found = [r for r in jobs.runs(view.settings, RUNS_SHOWN * 3) if area is None or r.get("scope") == area]
    if not found:
        return [message("empty", t("br.runs_none", view.lang))]
    return [listing.run_table(found[:RUNS_SHOWN], _namer(view), view.tz, view.lang)]


def _form(view: View) -> list:
    lang, now = view.lang, runtime.current().now()
    return [html.Div(className="br-form", children=[
        html.Label([t("br.form.week", lang), dcc.Dropdown(
            id=ids.BR_WEEK, options=listing.week_options(now, view.tz, lang), clearable=False, searchable=False,
            value=str(IsoWeek.last_complete(now, view.tz)), className="an-dd br-dd-week")]),
        html.Div([html.Span(t("br.form.scope", lang), className="br-label"),
                  html.Strong(_namer(view)(_area(view))), html.Span(t("br.form.scope_hint", lang), className="br-dim")],
                 className="br-form-scope"),
        html.Div([html.Span(t("br.form.lang", lang), className="br-label"), dcc.RadioItems(
            id=ids.BR_LANG, value=lang, inline=True, className="br-radio",
            options=[{"label": t(f"br.lang.{x}", lang), "value": x} for x in ("zh", "en")])]),
        dcc.Checklist(id=ids.BR_PARTIAL, value=[], className="br-check",
                      options=[{"label": t("br.form.partial", lang), "value": "partial"}]),
        html.Button(t("br.form.go", lang), id=ids.BR_GO, n_clicks=0, className="br-go"),
        html.Div(id=ids.BR_FORM_MSG, className="br-form-msg"),
        html.P(t("br.form.note", lang), className="an-note"),
    ])]


@dash.callback(Output(ids.BR_LIST, "children"), Input(ids.AN_STATE, "data"), Input(ids.BR_VERSION, "data"),
               State(ids.BR_SELECTED, "data"))
def _fill_list(state, _version, chosen):
    return render(state, lambda view: _list(view, chosen), "briefings.list", remember=False)


@dash.callback(Output(ids.BR_PREVIEW, "children"), Input(ids.AN_STATE, "data"), Input(ids.BR_VERSION, "data"),
               Input(ids.BR_SELECTED, "data"))
def _fill_preview(state, _version, chosen):
    return render(state, lambda view: _preview(view, chosen), "briefings.preview", remember=False)


@dash.callback(Output(ids.BR_RUNS, "children"), Input(ids.AN_STATE, "data"), Input(ids.BR_VERSION, "data"))
def _fill_runs(state, _version):
    return render(state, _runs, "briefings.runs", remember=False)


@dash.callback(Output(ids.BR_FORM, "children"), Input(ids.AN_STATE, "data"))
def _fill_form(state):
    return render(state, _form, "briefings.form", remember=False)


@dash.callback(Output(ids.BR_SELECTED, "data"), Output({"type": ids.BR_ROW, "key": ALL}, "className"),
               Input({"type": ids.BR_ROW, "key": ALL}, "n_clicks"), prevent_initial_call=True)
def _select(clicks):
    if not isinstance(ctx.triggered_id, dict) or not any(clicks or ()):
        return no_update, [no_update] * len(clicks or ())
    key = ctx.triggered_id["key"]
    return key, ["br-row" + (" br-row-on" if o["id"]["key"] == key else "") for o in ctx.outputs_list[1]]


@dash.callback(Output(ids.BR_FORM_MSG, "children"), Output(ids.BR_PENDING, "data"),
               Output(ids.BR_POLL, "disabled", allow_duplicate=True), Input(ids.BR_GO, "n_clicks"),
               State(ids.BR_WEEK, "value"), State(ids.BR_LANG, "value"), State(ids.BR_PARTIAL, "value"),
               State(ids.AN_STATE, "data"), prevent_initial_call=True)
def _generate(clicks, week, lang, partial, state):
    if not clicks:
        return no_update, no_update, no_update
    rt = runtime.current()
    ui = language(ViewState.from_dict(state).lang, rt.settings.language)
    asked = listing.check_request(week, bool(partial), rt.now(), rt.settings.timezone)
    if asked.week is None:
        return message("error", t(asked.error, ui, **asked.values)), no_update, no_update
    try:
        with open_view(state) as view:
            area, scope_name = _area(view), _namer(view)(_area(view))
        lang = lang if lang in ("zh", "en") else None
        run_id, process = jobs.start(rt.settings, asked.week, scope_id=area, lang=lang, partial=bool(partial),
                                     trigger="page")
        started = datetime.now(rt.settings.zone).isoformat(timespec="seconds")  # the wall clock, as jobs.run logs
        listing.track(run_id, process, {"trigger": "page", "week": str(asked.week), "scope": area, "lang": lang,
                                        "partial": bool(partial), "started": started})
    except Exception as exc:  # the reader sees why in words; the log keeps the traceback
        log.exception("briefing could not start")
        return message("error", t("br.err.start", ui, error=f"{type(exc).__name__}: {exc}")), no_update, no_update
    text = t("br.started", ui, week=str(asked.week), scope=scope_name)
    return message("info", text), {"run": run_id, "at": time.time()}, False


@dash.callback(Output(ids.BR_VERSION, "data"), Output(ids.BR_POLL, "disabled"), Input(ids.BR_POLL, "n_intervals"),
               State(ids.BR_PENDING, "data"), State(ids.BR_VERSION, "data"), prevent_initial_call=True)
def _poll(_n, pending, version):
    multiprocessing.active_children()  # reaps finished briefing processes of this server
    settings = runtime.current().settings
    listing.settle(settings.reports_dir, [str(r.get("run")) for r in jobs.runs(settings, RUNS_SHOWN * 5)])
    runs = jobs.runs(settings, RUNS_SHOWN)
    waiting = bool(pending) and time.time() - pending.get("at", 0) < PENDING_SECONDS and \
        not any(r.get("run") == pending.get("run") for r in runs)
    files = [(listing.key_of(r), r.size, r.written_at.timestamp()) for r in
             list_reports(settings.reports_dir, settings.language)]
    digest = hashlib.sha1(repr((files, [(r.get("run"), r.get("status")) for r in runs])).encode()).hexdigest()[:16]
    return (no_update if digest == version else digest), not (waiting or listing.running(runs))

