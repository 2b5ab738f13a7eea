"""What the ``/briefings`` page shows: the archive listing, the selection, the generate form's checks, the runs.

The helpers and panel builders of :mod:`dashboard.pages.briefings` (pages only declare): pure
formatting and checks first, then the tables, then the panels (each a function of a
:class:`~dashboard.analyst.view.View`, run through ``render``), then the page's refresh. The archive
and the run log are files (:mod:`dashboard.briefing.archive`, :mod:`dashboard.briefing.jobs`); the
warehouse is read only for area names.
"""

from __future__ import annotations

import functools
import hashlib
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote
from zoneinfo import ZoneInfo

from dash import dcc, html

from dashboard import ids, runtime
from dashboard.analyst.view import PanelMessage, View, message
from dashboard.auth import access
from dashboard.briefing import jobs
from dashboard.briefing.archive import Report, list_reports, record_run
from dashboard.briefing.week import IsoWeek
from dashboard.i18n import dropdown_labels, pick, t
from metrics import areas
from settings import Settings

__all__ = ["already_running", "DOWNLOAD_PREFIX", "LIST_LIMIT", "PREVIEW_PREFIX", "WEEKS_OFFERED", "Request", "check_request",
           "download_href", "download_name", "for_scope", "key_of", "preview_href", "report_table", "run_table",
           "running", "selected", "settle", "size_text", "track", "week_dates", "week_options", "when_text",
           "PENDING_SECONDS", "RUNS_SHOWN", "area_of", "form_panel", "list_panel", "namer", "outcome", "poll", "preview_panel",
           "report_namer", "reports_of", "runs_panel"]

# The routes of dashboard/briefing/serve.py: <prefix>/<scope folder>/<archive name>.
DOWNLOAD_PREFIX = "/analyst/briefings/download"
PREVIEW_PREFIX = "/analyst/briefings/preview"
# Rows of the archive table: half a year of one area's weekly briefings in both languages, and under the
# ~30 rows an html table re-renders quickly in (docs/analyst.md, known limits).
LIST_LIMIT = 30
# Weeks the generate form offers: the current one (partial only) and the 12 before it.
WEEKS_OFFERED = 13
RUNS_SHOWN = 10  # rows of the recent runs
PENDING_SECONDS = 120  # how long the page waits for a started run's first log line before it stops polling


def key_of(report: Report) -> str:
    """``<scope folder>/<file name>``: a briefing's key in the page and in its routes' URLs."""
    return f"{report.path.parent.name}/{report.path.name}"


def download_href(report: Report) -> str:
    """The download route of ``report``."""
    return f"{DOWNLOAD_PREFIX}/{quote(key_of(report))}"


def preview_href(report: Report) -> str:
    """The first-page preview route of ``report`` (the file's size and time bust a cached older preview)."""
    stamp = int(report.written_at.timestamp())
    return f"{PREVIEW_PREFIX}/{quote(key_of(report))}?v={stamp}"


def download_name(folder: str, name: str) -> str:
    """``GridPulse-<scope>-2026-W47.pdf`` (``-en`` before ``.pdf`` for another language): ASCII, says what it is."""
    stem = name[:-len(".pdf")] if name.endswith(".pdf") else name
    week, _, lang = stem.partition(".")
    return f"GridPulse-{folder}-{week}" + (f"-{lang}" if lang else "") + ".pdf"


def size_text(size: int) -> str:
    """A file size as people read it: ``812 B``, ``86 KB``, ``1.4 MB``.

    >>> size_text(88_064), size_text(1_468_006)
    ('86 KB', '1.4 MB')
    """
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def week_dates(week: IsoWeek) -> str:
    """Monday to Sunday of ``week``: ``2026-11-16 – 11-22`` (the year again when it changes).

    >>> week_dates(IsoWeek(2026, 53))
    '2026-12-28 – 2027-01-03'
    """
    mon, sun = week.monday, week.sunday
    return f"{mon:%Y-%m-%d} – " + (f"{sun:%m-%d}" if sun.year == mon.year else f"{sun:%Y-%m-%d}")


def when_text(moment: datetime | str | None, tz: str) -> str:
    """A moment (aware datetime or ISO text) in the deployment's zone as ``2026-11-23 08:00:12``; ``—`` if none."""
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return moment
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return f"{moment.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M:%S}"


def for_scope(reports: Iterable[Report], scope_id: str | None, district_id: str | None) -> list[Report]:
    """The briefings a view lists: all of them for the district, else only the view's area's.

    The district's own briefings are filed under its id (or its folder name); an area user sees
    only their area's.
    """
    reports = list(reports)
    if not scope_id or scope_id == district_id:
        return reports
    return [r for r in reports if r.scope_id == scope_id or r.path.parent.name == scope_id]


def selected(reports: Sequence[Report], key: str | None) -> Report | None:
    """The report named ``key`` when listed, else the newest (the first); ``None`` for an empty list."""
    for report in reports:
        if key_of(report) == key:
            return report
    return reports[0] if reports else None


def running(runs: Iterable[dict[str, Any]]) -> bool:
    """Whether any run of the log is still running (the page then refreshes itself)."""
    return any(r.get("status") == "running" for r in runs)


def already_running(runs: Iterable[dict[str, Any]], week: IsoWeek, scope_id: str | None, lang: str | None) -> bool:
    """Whether a run of the same week, area and language is running (a second click does not start another)."""
    return any(r.get("status") == "running" and r.get("week") == str(week) and r.get("scope") == scope_id
               and r.get("lang") == lang for r in runs)


class Request(NamedTuple):
    """The generate form's answer: the week to write, or why not (an i18n key and its values)."""

    week: IsoWeek | None
    error: str | None = None
    values: dict[str, str] | None = None


def check_request(week_text: str | None, partial: bool, now: datetime, tz: str) -> Request:
    """Check the form before any process starts: the week must be over, or be this week with ``partial``.

    A finished week marked partial is refused too (partial means "the week so far"), as is a week
    that has not started.
    """
    try:
        week = IsoWeek.parse(week_text or "")
    except ValueError:
        return Request(None, "br.err.week", {"week": str(week_text or "")})
    current = IsoWeek.of(now.astimezone(ZoneInfo(tz)).date())
    if week > current:
        return Request(None, "br.err.future", {"week": str(week)})
    if week.is_over(now, tz):
        if partial:
            return Request(None, "br.err.partial_over", {"week": str(week)})
        return Request(week)
    if not partial:
        return Request(None, "br.err.not_over", {"week": str(week), "sunday": f"{week.sunday:%Y-%m-%d}"})
    return Request(week)


def week_options(now: datetime, tz: str, lang: str, n: int = WEEKS_OFFERED) -> list[dict[str, str]]:
    """The weeks the form offers, newest first: this week (marked "in progress") and the ``n - 1`` before it."""
    current = IsoWeek.of(now.astimezone(ZoneInfo(tz)).date())
    out = []
    for i in range(n):
        week = current.previous(i) if i else current
        label = f"{week} · {week_dates(week)}" + (f" ({t('br.in_progress', lang)})" if i == 0 else "")
        out.append({"label": label, "value": str(week)})
    return out


def report_table(reports: Sequence[Report], chosen: Report | None, name_of: Callable[[Report], str], tz: str,
                 lang: str, row_id: Callable[[Report], dict]) -> html.Table:
    """The archive as a table, newest first; the chosen row marked. Each row is clickable (``row_id``)."""
    heads = ("br.col.week", "br.col.dates", "br.col.scope", "br.col.lang", "br.col.pages", "br.col.size",
             "br.col.written", "br.col.file")
    right = ("br.col.pages", "br.col.size", "br.col.written")
    head = html.Tr([html.Th(t(k, lang), className="an-num" if k in right else None) for k in heads])
    rows = []
    for r in reports:
        badge = html.Span(t("br.partial", lang), className="br-badge") if r.partial else None
        rows.append(html.Tr(id=row_id(r), n_clicks=0, title=t("br.row_hint", lang),
                            className="br-row" + (" br-row-on" if r is chosen else ""),
                            **{"data-key": key_of(r)}, children=[
            html.Td([html.Span(str(r.week), className="br-week"), badge]),
            html.Td(week_dates(r.week)),
            html.Td(name_of(r)),
            html.Td(t(f"br.lang.{r.lang}", lang) if r.lang in ("zh", "en") else r.lang),
            html.Td("—" if r.pages is None else str(r.pages), className="an-num"),
            html.Td(size_text(r.size), className="an-num"),
            html.Td(when_text(r.written_at, tz), className="an-num"),
            html.Td(html.A("PDF", href=download_href(r), className="br-row-pdf",
                           download=download_name(r.path.parent.name, r.path.name))),
        ]))
    return html.Table([html.Thead(head), html.Tbody(rows)], className="an-table br-table", id="br-table")


def run_table(runs: Sequence[dict[str, Any]], name_of: Callable[[str | None], str], tz: str,
              lang: str) -> html.Table:
    """The recent runs: status, trigger, week, area, language, when, how long, and the error in words."""
    heads = ("br.run.status", "br.run.trigger", "br.col.week", "br.col.scope", "br.run.started", "br.run.seconds",
             "br.run.result")
    head = html.Tr([html.Th(t(k, lang)) for k in heads])
    rows = []
    for r in runs:
        status = str(r.get("status") or "running")
        trigger = str(r.get("trigger") or "")
        week = r.get("week") or t("br.run.last_week", lang)
        if status == "failed":
            result: Any = html.Span(t("br.run.error", lang, error=r.get("error") or "?"), className="br-error")
        elif status == "ok":
            result = t("br.run.written", lang)
        elif status == "interrupted":
            result = t("br.run.interrupted_hint", lang)
        elif status == "running":
            result = t("br.run.running_hint", lang)
        else:  # a status this page does not know (a newer writer's): shown as it is, above
            result = "—"
        seconds = r.get("seconds")
        rows.append(html.Tr(className=f"br-run br-run-{status}", **{"data-run": str(r.get("run")),
                                                                    "data-status": status}, children=[
            html.Td(html.Span(t(f"br.status.{status}", lang) if status in _STATUSES else status,
                              className=f"br-status br-status-{status}")),
            html.Td(t(f"br.trigger.{trigger}", lang) if trigger in _TRIGGERS else trigger),
            html.Td(str(week) + (f" ({t('br.partial', lang)})" if r.get("partial") else "")),
            html.Td(name_of(r.get("scope"))),
            html.Td(when_text(r.get("started"), tz), className="an-num"),
            html.Td("—" if seconds is None else f"{float(seconds):.1f}", className="an-num"),
            html.Td(result, className="br-result"),
        ]))
    return html.Table([html.Thead(head), html.Tbody(rows)], className="an-table br-runs", id="br-runs-table")


_STATUSES = ("running", "ok", "failed", "interrupted")
_TRIGGERS = ("page", "schedule", "cli", "catch-up")


# --- the panels (builders of dashboard/pages/briefings.py, run through dashboard.analyst.view.render) ---
def area_of(view: View) -> str | None:
    """The view's area, ``None`` for the district (the schedule's and the command line's default)."""
    return None if view.scope.area_id == view.deployment.district_id else view.scope.area_id


def namer(view: View) -> Callable[[str | None], str]:
    """``area id or None -> its name in the view's language`` (the district for ``None``), read once per id."""
    names: dict[str | None, str] = {None: pick(view.deployment.name, view.deployment.name_en, view.lang)}

    def name_of(area_id: str | None) -> str:
        if area_id not in names:
            df = areas.ancestors(view.con, area_id)
            names[area_id] = pick(df["name"].iloc[-1], df["name_en"].iloc[-1], view.lang) if len(df) else area_id
        return names[area_id]

    return name_of


def reports_of(view: View) -> list[Report]:
    """The archived briefings the view lists (:func:`for_scope`) that the account may open, newest first.

    :func:`for_scope` already narrows an area's view to that area's briefings; an account limited to
    some areas is also checked per briefing, folder and recorded area alike, through
    :meth:`dashboard.runtime.Runtime.scope` (the check the download route makes), so the list never
    offers a file the route would refuse.
    """
    found = list_reports(view.settings.reports_dir, view.settings.language)
    listed = for_scope(found, view.scope.area_id, view.deployment.district_id)
    if access.current().everywhere:
        return listed
    rt = runtime.current()
    may_see = functools.cache(lambda area_id: rt.allows(view.con, view.info, area_id))
    return [r for r in listed if may_see(r.path.parent.name) and may_see(r.scope_id)]


def report_namer(view: View) -> Callable[[Report], str]:
    """``report -> its area's name`` in the view's language."""
    name_of = namer(view)
    return lambda r: name_of(None if r.scope_id == view.deployment.district_id else r.scope_id)


def list_panel(view: View, chosen_key: str | None) -> list:
    """The archive's table for the view's area (``chosen_key`` marked), or the empty state saying how to write one."""
    reports = reports_of(view)
    if not reports:
        area = area_of(view)
        text = t("br.empty", view.lang) if area is None else t("br.empty_area", view.lang, area=namer(view)(area))
        raise PanelMessage("empty", text)
    shown = reports[:LIST_LIMIT]
    table = report_table(shown, selected(shown, chosen_key), report_namer(view), view.tz, view.lang,
                         lambda r: {"type": ids.BR_ROW, "key": key_of(r)})
    note = t("br.shown", view.lang, shown=len(shown), total=len(reports), folder=str(view.settings.reports_dir)) \
        if len(reports) > len(shown) else t("br.total", view.lang, total=len(reports))
    return [table, html.P(note, className="an-note")]


def preview_panel(view: View, chosen_key: str | None) -> list:
    """The chosen (else the newest) briefing: its title, download link, pages and time, first-page image."""
    report = selected(reports_of(view)[:LIST_LIMIT], chosen_key)
    if report is None:
        raise PanelMessage("empty", t("br.none_selected", view.lang))
    lang = view.lang
    image = html.Img(src=preview_href(report), id=ids.BR_IMAGE, className="br-image",
                     alt=t("br.preview_alt", lang, week=str(report.week))) \
        if report.path.with_suffix(".png").is_file() else message("info", t("br.no_preview", lang))
    return [
        html.H3(t("br.preview_of", lang, scope=report_namer(view)(report), week=str(report.week),
                  dates=week_dates(report.week)), className="br-preview-title",
                **{"data-key": key_of(report)}),
        html.A(t("br.download", lang, size=size_text(report.size)), href=download_href(report),
               id=ids.BR_DOWNLOAD, className="br-download", download=download_name(
                   report.path.parent.name, report.path.name)),
        html.P(t("br.meta", lang, pages="—" if report.pages is None else report.pages,
                 written=when_text(report.written_at, view.tz)), className="an-note"),
        html.P(t("br.partial_note", lang), className="br-partial-note") if report.partial else None,
        image,
    ]


def runs_panel(view: View) -> list:
    """The recent runs (the view's area's, all of them for the district), failures of the schedule included."""
    area = area_of(view)
    found = [r for r in jobs.runs(view.settings, RUNS_SHOWN * 3) if area is None or r.get("scope") == area]
    if not found:
        return [message("empty", t("br.runs_none", view.lang))]
    return [run_table(found[:RUNS_SHOWN], namer(view), view.tz, view.lang)]


def form_panel(view: View, now: datetime) -> list:
    """The generate form: week (default the last complete one at ``now``), the view's area, language, partial."""
    lang = view.lang
    return [html.Div(className="br-form", children=[
        html.Label([t("br.form.week", lang), dcc.Dropdown(
            id=ids.BR_WEEK, options=week_options(now, view.tz, lang), clearable=False, searchable=False,
            labels=dropdown_labels(lang),
            value=str(IsoWeek.last_complete(now, view.tz)), className="an-dd br-dd-week")]),
        html.Div([html.Span(t("br.form.scope", lang), className="br-label"), html.Strong(namer(view)(area_of(view))),
                  html.Span(t("br.form.scope_hint", lang), className="br-dim")], className="br-form-scope"),
        html.Div([html.Span(t("br.form.lang", lang), className="br-label"), dcc.RadioItems(
            id=ids.BR_LANG, value=lang, inline=True, className="br-radio",
            options=[{"label": t(f"br.lang.{x}", lang), "value": x} for x in ("zh", "en")])]),
        dcc.Checklist(id=ids.BR_PARTIAL, value=[], className="br-check",
                      options=[{"label": t("br.form.partial", lang), "value": "partial"}]),
        html.Button(t("br.form.go", lang), id=ids.BR_GO, n_clicks=0, className="br-go"),
        html.Div(id=ids.BR_FORM_MSG, className="br-form-msg"),
        html.P(t("br.form.note", lang), className="an-note"),
    ])]


# Runs this server started from the page: run id -> (process, the run's log entry without a status).
_STARTED: dict[str, tuple[Any, dict[str, Any]]] = {}
_STARTED_LOCK = threading.Lock()


def track(run_id: str, process: Any, entry: dict[str, Any]) -> None:
    """Remember a run the page started, so that :func:`settle` can account for a process that died unheard."""
    with _STARTED_LOCK:
        _STARTED[run_id] = (process, {"run": run_id, **entry})


def settle(reports_dir: Path, logged: Iterable[str]) -> list[str]:
    """Record as failed every tracked run whose process has ended without a line in the run log.

    A run writes its first log line only once its process is up and the writer imported; a process
    that dies before (an import error, a crash while starting) would otherwise leave no trace on the
    page. Returns the ids recorded here; finished runs are forgotten either way.
    """
    logged = set(logged)
    recorded = []
    with _STARTED_LOCK:
        done = [(k, p, e) for k, (p, e) in _STARTED.items() if getattr(p, "exitcode", 0) is not None]
        for run_id, _, _ in done:
            del _STARTED[run_id]
    for run_id, process, entry in done:
        if run_id not in logged:
            code = getattr(process, "exitcode", "?")
            record_run(reports_dir, {**entry, "status": "failed", "error": (
                f"the briefing process ended (exit code {code}) before it could record anything; "
                "the server log has the reason")})
            recorded.append(run_id)
    return recorded


def outcome(settings: Settings, pending: dict[str, Any]) -> dict[str, Any] | None:
    """The log entry of the run ``pending`` names once it has ended (ok, failed, interrupted); ``None`` before."""
    for entry in jobs.runs(settings, RUNS_SHOWN * 5):
        if entry.get("run") == pending.get("run") and entry.get("status") != "running":
            return entry
    return None


def poll(settings: Settings, pending: dict[str, Any] | None) -> tuple[str, bool]:
    """One tick of the page's refresh: a digest of the archive and the run log, and whether to keep polling.

    Keeps polling while a run is running, or while the run the button started (``pending``: its id and
    start time) has not written its first log line yet, for at most :data:`PENDING_SECONDS`. Reaps the
    briefing processes of this server that have ended and records those that died unheard (:func:`settle`).
    """
    multiprocessing.active_children()  # joins ended child processes (no zombies left behind)
    settle(settings.reports_dir, [str(r.get("run")) for r in jobs.runs(settings, RUNS_SHOWN * 5)])
    runs = jobs.runs(settings, RUNS_SHOWN)
    waiting = bool(pending) and time.time() - float(pending.get("at", 0)) < PENDING_SECONDS and \
        not any(r.get("run") == pending.get("run") for r in runs)
    files = [(key_of(r), r.size, r.written_at.timestamp())
             for r in list_reports(settings.reports_dir, settings.language)]
    digest = hashlib.sha1(repr((files, [(r.get("run"), r.get("status")) for r in runs])).encode()).hexdigest()[:16]
    return digest, waiting or running(runs)
