"""The cases exports (dashboard/analyst/exports.py) through Flask's test client on the small demo.

The files must hold exactly the table's rows: the count and order of :class:`metrics.cases.CaseQuery`
for the same view and grid models (an independent pandas count backs the count in
tests/metrics/test_cases.py).
"""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import urlencode

import pytest
from openpyxl import load_workbook

from dashboard.analyst import exports
from dashboard.analyst.state import ViewState
from dashboard.app import create_app
from data.snapshot import SnapshotReader
from metrics.cases import CaseQuery
from metrics.scope import Scope
from tests.conftest import FIXTURE_NOW, signed_in


@pytest.fixture
def client(small_demo):
    app = create_app(small_demo, clock=lambda: FIXTURE_NOW)
    return signed_in(app)


def _query(settings, search: str, sort=None, filters=None, lang="zh") -> CaseQuery:
    state = ViewState.from_search(search)
    con = SnapshotReader(settings.warehouse_dir, settings.timezone).cursor()
    area = state.scope or "330108"
    level = con.execute("SELECT level FROM areas WHERE area_id = ?", [area]).fetchone()[0]
    return CaseQuery(con, state.scope_of(area, level), state.window_at(FIXTURE_NOW, settings.timezone), FIXTURE_NOW,
                     settings, sort, filters, lang=lang, labels=exports.labels(lang))


def _csv_rows(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_holds_the_tables_rows_in_its_order(small_demo, client):
    sort = [{"colId": "department", "sort": "asc"}, {"colId": "received_at", "sort": "desc"}]
    filters = {"status": {"filterType": "text", "type": "notEqual", "filter": "已办结"}}
    search = "?win=30d&scope=330108002&urg=normal"
    href = exports.export_href(exports.CSV_PATH, ViewState.from_search(search), sort, filters)
    response = client.get(href)
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert "cases_330108002_30d_20261026-20261125.csv" in disposition
    rows = _csv_rows(response)
    q = _query(small_demo, search, sort, filters)
    assert rows[0][:3] == ["事件编号", "上报时间", "类别"]
    assert "街道" in rows[0] and "微网格" in rows[0]
    assert len(rows) - 1 == q.count() > 100
    assert [r[0] for r in rows[1:101]] == q.page(0, 100)["case_id"].tolist()
    status = rows[0].index("状态")
    assert "已办结" not in {r[status] for r in rows[1:]}


def test_xlsx_holds_the_same_rows(small_demo, client):
    search = "?win=7d&lang=en"
    filters = {"urgency": {"filterType": "text", "type": "equals", "filter": "Urgent"}}
    response = client.get(exports.export_href(exports.XLSX_PATH, ViewState.from_search(search), None, filters))
    assert response.status_code == 200 and response.is_streamed
    wb = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    rows = list(wb["cases"].iter_rows(values_only=True))
    q = _query(small_demo, search, None, filters, lang="en")
    assert rows[0][:2] == ("Case", "Received")
    assert len(rows) - 1 == q.count() > 10
    first = q.page(0, 1).iloc[0]
    assert rows[1][0] == first["case_id"]
    assert rows[1][1] == first["received_at"].tz_convert("Asia/Shanghai").tz_localize(None).to_pydatetime().replace(
        microsecond=0)


def test_the_row_limit_cuts_the_export(client, monkeypatch):
    monkeypatch.setattr(exports, "EXPORT_ROW_LIMIT", 120)
    rows = _csv_rows(client.get(exports.CSV_PATH + "?win=30d"))
    assert len(rows) == 121


def test_an_empty_export_still_has_its_header(client):
    filters = {"case_id": {"filterType": "text", "type": "equals", "filter": "nobody"}}
    rows = _csv_rows(client.get(exports.export_href(exports.CSV_PATH, ViewState(), None, filters)))
    assert len(rows) == 1 and rows[0][0] == "事件编号"


@pytest.mark.parametrize("params, status", [
    ({"sort": json.dumps([{"colId": "summary", "sort": "asc"}])}, 400),
    ({"filter": json.dumps({"case_id); DROP TABLE events; --": {"type": "equals", "filter": "x"}})}, 400),
    ({"filter": "{not json"}, 400),
    ({"sort": "x" * 30_000}, 400),
    ({"scope": "no-such-area"}, 404),
])
def test_bad_requests_are_refused(client, params, status):
    assert client.get(exports.CSV_PATH + "?" + urlencode(params)).status_code == status
    assert client.get(exports.XLSX_PATH + "?" + urlencode(params)).status_code == status


def test_export_count_equals_received_by_total(small_demo, client):
    """The table's rows are the cases the overview counts: the same scope gives the same number."""
    from metrics.breakdown import received_by
    from metrics.scope import Window

    rows = _csv_rows(client.get(exports.CSV_PATH + "?win=7d&cat=ENV"))
    con = SnapshotReader(small_demo.warehouse_dir, small_demo.timezone).cursor()
    df = received_by(con, Scope("330108", categories=("ENV",), level="district"),
                     Window.named("7d", FIXTURE_NOW, small_demo.timezone), FIXTURE_NOW, "category", small_demo)
    assert len(rows) - 1 == int(df["cases"].sum()) > 0


def test_xlsx_text_that_looks_like_a_formula_stays_text(client, monkeypatch):
    """A name from a source file such as "=HYPERLINK(...)" must not become a live formula in Excel."""
    real = exports._xlsx_rows

    def hostile(df, keys):
        for row in real(df, keys):
            yield ["=HYPERLINK(\"http://example.invalid\")", *row[1:]]

    monkeypatch.setattr(exports, "_xlsx_rows", hostile)
    response = client.get(exports.XLSX_PATH + "?win=today")
    wb = load_workbook(io.BytesIO(response.get_data()))
    cell = wb["cases"]["A2"]
    assert cell.value == "=HYPERLINK(\"http://example.invalid\")" and cell.data_type == "s"


def test_csv_text_that_looks_like_a_formula_is_quoted():
    import pandas as pd

    df = pd.DataFrame({"a": ["=1+1", "@SUM(A1)", "-2+3", "plain", None], "n": [1, 2, 3, 4, 5]})
    out = exports._csv_frame(df, ["a", "n"])
    assert out["a"].tolist()[:4] == ["'=1+1", "'@SUM(A1)", "'-2+3", "plain"] and pd.isna(out["a"].iloc[4])
    assert out["n"].tolist() == [1, 2, 3, 4, 5]
