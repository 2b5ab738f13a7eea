"""Briefings (``/briefings``): the weekly PDF briefings archived, previewed, downloaded, and written on request.

The archive (``var/reports``) and the run log are files, read when asked for
(:mod:`dashboard.briefing.archive`, :mod:`dashboard.briefing.jobs`); the view's area narrows both
(an area user sees their area's briefings), the window and case filters do not apply. The
"generate" button checks the week first and then starts the briefing in a process of its own; the
page polls (``dcc.Interval``) only while a run is running. Helpers: :mod:`dashboard.briefing.listing`.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

import dash
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from dashboard import ids, runtime
from dashboard.analyst import shell
from dashboard.analyst.state import ViewState
from dashboard.analyst.view import message, open_view, render
from dashboard.briefing import jobs, listing
from dashboard.i18n import language, t

dash.register_page(__name__, path="/briefings", title="GridPulse · Briefings")

__all__ = ["layout"]

log = logging.getLogger(__name__)

POLL_MS = 2_000  # the refresh while a run is running


def layout(**query) -> html.Div:
    """The archive, the selected briefing's preview, the generate form and the recent runs."""
    settings = runtime.current().settings
    lang = language(ViewState.from_query(query).lang, settings.language)
    idle = not listing.running(jobs.runs(settings, listing.RUNS_SHOWN))
    return shell.page("briefings", query, [
        html.Div(className="an-w3 br-stack", children=[  # the archive, the form and the runs, one under the other
            shell.panel(ids.BR_LIST, t("br.panel.list", lang), wide=3),
            shell.panel(ids.BR_FORM, t("br.panel.form", lang), wide=3),
            shell.panel(ids.BR_RUNS, t("br.panel.runs", lang), wide=3)]),
        shell.panel(ids.BR_PREVIEW, t("br.panel.preview", lang), wide=1, tall=True),
        dcc.Store(id=ids.BR_SELECTED), dcc.Store(id=ids.BR_VERSION), dcc.Store(id=ids.BR_PENDING),
        dcc.Interval(id=ids.BR_POLL, interval=POLL_MS, disabled=idle),
    ])


@dash.callback(Output(ids.BR_LIST, "children"), Input(ids.AN_STATE, "data"), Input(ids.BR_VERSION, "data"),
               State(ids.BR_SELECTED, "data"))
def _fill_list(state, _version, chosen):
    return render(state, lambda view: listing.list_panel(view, chosen), "briefings.list", remember=False)


@dash.callback(Output(ids.BR_PREVIEW, "children"), Input(ids.AN_STATE, "data"), Input(ids.BR_VERSION, "data"),
               Input(ids.BR_SELECTED, "data"))
def _fill_preview(state, _version, chosen):
    return render(state, lambda view: listing.preview_panel(view, chosen), "briefings.preview", remember=False)


@dash.callback(Output(ids.BR_RUNS, "children"), Input(ids.AN_STATE, "data"), Input(ids.BR_VERSION, "data"))
def _fill_runs(state, _version):
    return render(state, listing.runs_panel, "briefings.runs", remember=False)


@dash.callback(Output(ids.BR_FORM, "children"), Input(ids.AN_STATE, "data"))
def _fill_form(state):
    now = runtime.current().now()  # the runtime's clock, not the minute the panels are remembered by
    return render(state, lambda view: listing.form_panel(view, now), "briefings.form", remember=False)


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
    # Whether a week is over is the writer's question of the wall clock (or the clock given to the app); for
    # historical data rt.now() is its newest case, whose last week the writer writes and marks partial itself.
    now = datetime.now(rt.settings.zone) if rt.historical() is not None else rt.now()
    asked = listing.check_request(week, bool(partial), now, rt.settings.timezone)
    if asked.week is None:
        return message("error", t(asked.error, ui, **asked.values)), no_update, no_update
    try:
        with open_view(state) as view:
            area = listing.area_of(view)
            scope_name = listing.namer(view)(area)
        lang = lang if lang in ("zh", "en") else None
        if listing.already_running(jobs.runs(rt.settings, listing.RUNS_SHOWN * 5), asked.week, area, lang):
            return message("info", t("br.err.running", ui, week=str(asked.week))), no_update, False
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


@dash.callback(Output(ids.BR_VERSION, "data"), Output(ids.BR_POLL, "disabled"),
               Output(ids.BR_FORM_MSG, "children", allow_duplicate=True),
               Output(ids.BR_PENDING, "data", allow_duplicate=True), Input(ids.BR_POLL, "n_intervals"),
               State(ids.BR_PENDING, "data"), State(ids.BR_VERSION, "data"), State(ids.AN_STATE, "data"),
               prevent_initial_call=True)
def _poll(_n, pending, version, state):
    settings = runtime.current().settings
    digest, busy = listing.poll(settings, pending)
    said, pending_now = no_update, no_update
    done = listing.outcome(settings, pending) if pending else None
    if done is not None:  # the run the button started has ended: say how, in place of "has started"
        lang = language(ViewState.from_dict(state).lang, settings.language)
        said = message("info", t("br.done", lang, week=done.get("week") or "")) if done.get("status") == "ok" else \
            message("error", t("br.run.error", lang, error=done.get("error") or done.get("status")))
        pending_now = None
    return (no_update if digest == version else digest), not busy, said, pending_now
