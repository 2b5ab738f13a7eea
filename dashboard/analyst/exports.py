"""The cases table's exports: the filtered and sorted rows as CSV or Excel, streamed.

Two Flask routes on the app's server (:func:`register`): ``/analyst/export/cases.csv`` and
``/analyst/export/cases.xlsx``. The URL is the view's query string (window, area, filters,
language) plus the grid's ``sort`` and ``filter`` models as JSON (:func:`export_href`), so the file
holds exactly the rows the table shows, in its order: both go through
:class:`metrics.cases.CaseQuery`, which refuses a model it does not know (answered 400 here).

Neither route holds the export in memory: the CSV is written batch by batch as DuckDB hands the
rows over (with a UTF-8 byte-order mark, so Excel opens Chinese text correctly), the workbook
with XlsxWriter's constant-memory mode into a temporary file that is then streamed back and deleted. At
most :data:`EXPORT_ROW_LIMIT` rows go out, the first ones in the table's order; the page says so
next to the buttons.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import flask
import pandas as pd
import xlsxwriter

from dashboard.analyst.state import ViewState
from dashboard.analyst.view import View, open_view
from dashboard.auth.gate import auditor
from dashboard.i18n import level_name, t
from dashboard.runtime import Deployment, NoDistrictError
from data.snapshot import NoSnapshotError
from metrics.cases import COLUMNS, CaseQuery, GridModelError
from metrics.scope import UnknownAreaError

__all__ = ["CSV_PATH", "EXPORT_ROW_LIMIT", "XLSX_PATH", "columns_for", "export_href", "file_name", "labels",
           "register"]

log = logging.getLogger(__name__)

# Rows one export may hold (a module constant until settings.py has a setting for it). 200,000 rows are
# about 40 MB of CSV and take a few seconds; Excel itself stops at 1,048,576.
EXPORT_ROW_LIMIT = 200_000
CSV_PATH = "/analyst/export/cases.csv"
XLSX_PATH = "/analyst/export/cases.xlsx"
_BATCH = 5_000
_CHUNK = 64 * 1024
_MAX_MODEL = 20_000  # characters of a model's JSON: more than any grid sends
_DAY = timedelta(days=1)


def export_href(path: str, state: ViewState, sort_model: Any = None, filter_model: Any = None) -> str:
    """The export URL of ``state``'s view with the grid's ``sort_model`` and ``filter_model``."""
    query = state.filters_only().query()
    if sort_model:
        query["sort"] = json.dumps(sort_model, ensure_ascii=False, separators=(",", ":"))
    if filter_model:
        query["filter"] = json.dumps(filter_model, ensure_ascii=False, separators=(",", ":"))
    return path + ("?" + urlencode(query) if query else "")


def labels(lang: str) -> dict[str, dict[str, str]]:
    """The display labels of coded values (status, urgency, overdue) in ``lang``, for :class:`CaseQuery`."""
    return {
        "status": {s: t(f"cs.status.{s}", lang) for s in ("received", "accepted", "dispatched", "in_progress",
                                                            "closed", "cancelled")},
        "urgency": {u: t(f"urgency.{u}", lang) for u in ("urgent", "normal")},
        "overdue": {"yes": t("cs.overdue.yes", lang), "no": t("cs.overdue.no", lang)},
    }


def columns_for(deployment: Deployment | None, lang: str) -> list[tuple[str, str]]:
    """``(column, header)`` of the table: the area levels the deployment has below the district, named by it."""
    out = []
    slots = deployment.slots if deployment is not None else tuple(COLUMNS)
    for key, column in COLUMNS.items():
        if column.level is not None:
            if column.level in slots:
                name = level_name(deployment.level(column.level) if deployment else column.level, lang)
                out.append((key, name))
        else:
            out.append((key, t(f"cs.col.{key}", lang)))
    return out


def case_query(view: View, sort_model: Any, filter_model: Any) -> CaseQuery:
    """The :class:`CaseQuery` of a view with the grid's models (raises GridModelError for a bad one)."""
    return CaseQuery(view.con, view.scope, view.window, view.now, view.settings, sort_model or None,
                     filter_model or None, lang=view.lang, labels=labels(view.lang))


def file_name(view: View, ext: str) -> str:
    """``cases_<area>_<window>_<first day>_<last day>.<ext>``: what and when, in ASCII."""
    start, end = view.window.start.astimezone(view.now.tzinfo), min(view.window.end, view.now)
    end = end.astimezone(view.now.tzinfo)
    last = end.date() if end.time() != datetime.min.time() else (end - _DAY).date()
    area = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in view.scope.area_id)
    return f"cases_{area}_{view.window.key}_{start.date():%Y%m%d}-{last:%Y%m%d}.{ext}"


# A spreadsheet opening a CSV reads a cell that starts with one of these as a formula (OWASP "CSV
# injection"): such text gets a leading apostrophe, which spreadsheets show as plain text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_frame(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """A batch as the CSV shows it: local wall-clock times as text, nothing for NULL, no formula from text."""
    out = df[keys].copy()
    for col in keys:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.strftime("%Y-%m-%d %H:%M:%S")
        elif not pd.api.types.is_numeric_dtype(out[col]) and not pd.api.types.is_bool_dtype(out[col]):
            text = out[col].astype(object)
            risky = text.map(lambda v: isinstance(v, str) and v.startswith(_FORMULA_START))
            if risky.any():
                out[col] = text.where(~risky, "'" + text.astype(str))
    return out


def _xlsx_rows(df: pd.DataFrame, keys: list[str]) -> Iterator[list]:
    """A batch as workbook rows: local times without a zone (Excel has none), None for NULL."""
    out = df[keys].copy()
    for col in keys:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.tz_localize(None).dt.floor("s")
    out = out.astype(object).where(out.notna(), None)
    for row in out.itertuples(index=False, name=None):
        yield [None if v is pd.NaT else (v.to_pydatetime() if isinstance(v, pd.Timestamp) else v) for v in row]


def _models() -> tuple[Any, Any]:
    """The grid's models from the request (400 when they are not JSON)."""
    out = []
    for key in ("sort", "filter"):
        text = flask.request.args.get(key, "")
        if len(text) > _MAX_MODEL:
            flask.abort(400, description=f"{key} model too long")
        try:
            out.append(json.loads(text) if text else None)
        except ValueError:
            flask.abort(400, description=f"{key} model is not JSON")
    return out[0], out[1]


def _batches(state: ViewState, scope_id: str, sort_model: Any, filter_model: Any) -> Iterator[tuple[list[str], list[str],
                                                                                                  pd.DataFrame | None]]:
    """Open the view and yield (column keys, headers, batch) per batch of rows; one (keys, headers, None) if none.

    The area is the one :func:`_prepare` resolved and checked for the request's account, named explicitly:
    a view without ``scope`` would otherwise be resolved again as the stream runs, from whoever
    :func:`dashboard.auth.access.current` says is asking then.
    """
    with open_view(replace(state, scope=scope_id)) as view:
        query = case_query(view, sort_model, filter_model)
        cols = columns_for(view.deployment, view.lang)
        keys, headers = [k for k, _ in cols], [h for _, h in cols]
        empty = True
        for batch in query.iter_batches(EXPORT_ROW_LIMIT, _BATCH):
            empty = False
            yield keys, headers, batch
        if empty:
            yield keys, headers, None


def _prepare(ext: str) -> tuple[ViewState, Any, Any, str, str]:
    """Parse and check the request: the view, the grid's models, the file name and the resolved area.

    Aborts with 400 for a model the table does not know and 404 for an area the account may not see
    (:meth:`dashboard.runtime.Runtime.scope`, the same answer as for an unknown one).
    """
    state = ViewState.from_search(flask.request.query_string.decode("utf-8", "replace"))
    sort_model, filter_model = _models()
    try:
        with open_view(state) as view:
            case_query(view, sort_model, filter_model)
            name = file_name(view, ext)
            scope_id = view.scope.area_id
    except GridModelError as exc:
        flask.abort(400, description=str(exc))
    except UnknownAreaError as exc:
        flask.abort(404, description=str(exc))
    except (NoSnapshotError, NoDistrictError):
        flask.abort(503, description="no data yet")
    return state, sort_model, filter_model, name, scope_id


class _Tally:
    """Rows written so far by a streamed export (read by its audit line when the stream ends)."""

    rows = 0


def _audited(chunks: Iterator[bytes], fmt: str, state: ViewState, scope_id: str, tally: _Tally,
             sort_model: Any = None, filter_model: Any = None) -> Iterator[bytes]:
    """``chunks``, then one ``export`` audit line: what was exported, by whom, and how many rows.

    The line holds the format, the view's query, the grid's column filters and sort, the area and
    the rows written.

    The line is written when the stream ends, also when the client went away or the query failed half
    way (then with ``"complete": false`` and the rows written until then). Who and from where are taken
    before the stream starts (:func:`dashboard.auth.gate.auditor`).
    """
    audit = auditor()

    def run() -> Iterator[bytes]:
        complete = False
        try:
            yield from chunks
            complete = True
        finally:
            detail: dict[str, Any] = {"format": fmt, "filters": state.search(), "scope": scope_id, "rows": tally.rows}
            if filter_model:
                detail["grid_filter"] = filter_model
            if sort_model:
                detail["sort"] = sort_model
            if not complete:
                detail["complete"] = False
            try:
                audit("export", detail)
            except Exception:  # the audit store failing must not turn a sent file into a server error
                log.exception("export audit line not written: %s", detail)

    return run()


def _disposition(name: str) -> str:
    return f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"


def _csv() -> flask.Response:
    state, sort_model, filter_model, name, scope_id = _prepare("csv")
    tally = _Tally()

    def generate() -> Iterator[bytes]:
        yield "\ufeff".encode()  # the BOM: Excel then reads the file as UTF-8 (Chinese names)
        first = True
        for keys, headers, batch in _batches(state, scope_id, sort_model, filter_model):
            buf = io.StringIO()
            if first:
                csv.writer(buf, lineterminator="\r\n").writerow(headers)
                first = False
            if batch is not None:
                _csv_frame(batch, keys).to_csv(buf, header=False, index=False, lineterminator="\r\n", na_rep="")
            chunk = buf.getvalue().encode("utf-8")
            yield chunk
            tally.rows += 0 if batch is None else len(batch)  # counted once the client has taken the batch

    body = _audited(generate(), "csv", state, scope_id, tally, sort_model, filter_model)
    return flask.Response(flask.stream_with_context(body), mimetype="text/csv; charset=utf-8",
                          headers={"Content-Disposition": _disposition(name), "Cache-Control": "no-store"})


def _xlsx() -> flask.Response:
    state, sort_model, filter_model, name, scope_id = _prepare("xlsx")
    tally = _Tally()

    def generate() -> Iterator[bytes]:
        fd, path = tempfile.mkstemp(suffix=".xlsx", prefix="gp-export-")
        os.close(fd)
        try:
            # constant_memory: each row goes to the sheet's temporary file as it is written, so memory
            # stays flat; no text is ever read as a formula, number or link (a name from a source file
            # that starts with "=" stays text).
            wb = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False,
                                            "strings_to_numbers": False, "strings_to_urls": False,
                                            "default_date_format": "yyyy-mm-dd hh:mm:ss"})
            ws = wb.add_worksheet("cases")
            row_no = 0
            for keys, headers, batch in _batches(state, scope_id, sort_model, filter_model):
                if row_no == 0:
                    ws.write_row(row_no, 0, headers)
                    row_no += 1
                if batch is not None:
                    for row in _xlsx_rows(batch, keys):
                        ws.write_row(row_no, 0, row)
                        row_no += 1
            wb.close()
            tally.rows = max(row_no - 1, 0)  # the data rows in the workbook (the first row is the header)
            with open(path, "rb") as fh:
                while chunk := fh.read(_CHUNK):
                    yield chunk
        finally:
            os.unlink(path)

    body = _audited(generate(), "xlsx", state, scope_id, tally, sort_model, filter_model)
    return flask.Response(flask.stream_with_context(body),
                          mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                          headers={"Content-Disposition": _disposition(name), "Cache-Control": "no-store"})


def register(server: flask.Flask) -> None:
    """Add the export routes to the app's Flask ``server`` (once per app)."""
    server.add_url_rule(CSV_PATH, "gridpulse_export_cases_csv", _csv)
    server.add_url_rule(XLSX_PATH, "gridpulse_export_cases_xlsx", _xlsx)
