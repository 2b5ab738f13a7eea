"""The ``/briefings`` page's helpers, its panels on the demo, and the archive's download and preview routes.

Archive entries are made here (a blank A4 PDF from pypdf, its sidecar and a tiny PNG), so nothing
needs the writer, Chromium or the CJK font. Routes go through Flask's test client.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import time
import zlib
from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import dash
import pypdf
import pytest

from dashboard.analyst.state import ViewState
from dashboard.analyst.view import render
from dashboard.app import create_app
from dashboard.briefing import archive, jobs, listing
from dashboard.briefing.week import IsoWeek
from settings import Settings
from tests.conftest import FIXTURE_NOW, as_principal, signed_in

TZ = "Asia/Shanghai"
DISTRICT, STREET = "330108", "330108002"


# --- making an archive ---------------------------------------------------------------------------
def png_bytes(width: int = 330, height: int = 467) -> bytes:
    """A valid grey PNG the size of the writer's first-page preview (no imaging library needed)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xc8" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def make_report(settings: Settings, scope_id: str, scope_name: str, week: str, lang: str | None = None,
                partial: bool = False, pages: int = 2, preview: bool = True, written: datetime | None = None) -> Path:
    """An archived briefing as the writer leaves it: the PDF, its sidecar json and (optionally) its preview PNG."""
    writer = pypdf.PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    buf = BytesIO()
    writer.write(buf)
    lang = lang or settings.language
    path = archive.report_path(settings.reports_dir, scope_id, IsoWeek.parse(week), lang, settings.language)
    archive.write_atomic(path, buf.getvalue())
    meta = {"scope_id": scope_id, "scope_name": scope_name, "week": week, "lang": lang, "partial": partial,
            "pages": pages, "seconds": 12.5}
    archive.write_atomic(path.with_suffix(".json"), json.dumps(meta).encode())
    if preview:
        archive.write_atomic(path.with_suffix(".png"), png_bytes())
    if written is not None:
        os.utime(path, (written.timestamp(), written.timestamp()))
    return path


def record_failed_run(settings: Settings, error: str, week: str = "2026-W46", scope: str | None = None) -> None:
    """A failed scheduled run in the run log (a running line and its failed line)."""
    entry = {"run": "sched-fail-1", "trigger": "schedule", "week": week, "scope": scope, "lang": None,
             "partial": False, "pid": 1, "started": "2026-11-23T08:00:00+08:00"}
    archive.record_run(settings.reports_dir, {**entry, "status": "running"})
    archive.record_run(settings.reports_dir, {**entry, "status": "failed", "seconds": 0.4, "error": error})


def with_reports(settings: Settings, tmp_path: Path) -> Settings:
    """``settings`` with a private ``var/`` whose warehouse is the fixture's (read-only) and whose archive is empty."""
    var = tmp_path / "var"
    var.mkdir(parents=True)
    (var / "warehouse").symlink_to(settings.warehouse_dir, target_is_directory=True)
    return settings.replace(var_dir=var)


def texts(node) -> list[str]:
    """Every string in a Dash component tree, depth first."""
    if node is None:
        return []
    if isinstance(node, (str, int, float)):
        return [str(node)]
    if isinstance(node, (list, tuple)):
        return [s for child in node for s in texts(child)]
    out = [str(getattr(node, a)) for a in ("title", "alt", "href") if getattr(node, a, None)]
    return out + texts(getattr(node, "children", None))


def find(node, cls=None, pred=lambda n: True) -> list:
    """Components of type ``cls`` under ``node`` that satisfy ``pred``."""
    out = []
    if isinstance(node, (list, tuple)):
        for child in node:
            out += find(child, cls, pred)
        return out
    if node is None or isinstance(node, (str, int, float)):
        return out
    if (cls is None or isinstance(node, cls)) and pred(node):
        out.append(node)
    return out + find(getattr(node, "children", None), cls, pred)


# --- pure helpers --------------------------------------------------------------------------------
def test_size_dates_names_and_times_read_as_people_expect():
    assert [listing.size_text(n) for n in (900, 88_064, 1_468_006)] == ["900 B", "86 KB", "1.4 MB"]
    assert listing.week_dates(IsoWeek(2026, 47)) == "2026-11-16 – 11-22"
    assert listing.week_dates(IsoWeek(2026, 53)) == "2026-12-28 – 2027-01-03"
    assert listing.download_name("330108", "2026-W47.pdf") == "GridPulse-330108-2026-W47.pdf"
    assert listing.download_name("330108002", "2026-W47.en.pdf") == "GridPulse-330108002-2026-W47-en.pdf"
    utc = datetime(2026, 11, 23, 0, 0, 5, tzinfo=ZoneInfo("UTC"))
    assert listing.when_text(utc, TZ) == "2026-11-23 08:00:05"
    assert listing.when_text("2026-11-23T08:00:00+08:00", TZ) == "2026-11-23 08:00:00"
    assert listing.when_text(None, TZ) == "—"


def test_the_form_refuses_a_week_that_is_not_over_unless_partial_and_partial_only_for_this_week():
    now = FIXTURE_NOW  # Wednesday of 2026-W48
    assert listing.check_request("2026-W47", False, now, TZ) == listing.Request(IsoWeek(2026, 47))
    refused = listing.check_request("2026-W48", False, now, TZ)
    assert refused.week is None and refused.error == "br.err.not_over" and refused.values["sunday"] == "2026-11-29"
    assert listing.check_request("2026-W48", True, now, TZ) == listing.Request(IsoWeek(2026, 48))
    assert listing.check_request("2026-W47", True, now, TZ).error == "br.err.partial_over"
    assert listing.check_request("2026-W49", True, now, TZ).error == "br.err.future"
    assert listing.check_request("2025-W53", False, now, TZ).error == "br.err.week"
    assert listing.check_request(None, False, now, TZ).error == "br.err.week"
    # Monday 00:00 local: the week before has just ended
    monday = datetime(2026, 11, 30, 0, 0, tzinfo=ZoneInfo(TZ))
    assert listing.check_request("2026-W48", False, monday, TZ).week == IsoWeek(2026, 48)
    assert listing.check_request("2026-W48", False, monday - timedelta(seconds=1), TZ).error == "br.err.not_over"


def test_week_options_start_with_this_week_in_progress_and_cross_the_new_year():
    opts = listing.week_options(datetime(2027, 1, 6, 9, tzinfo=ZoneInfo(TZ)), TZ, "en", n=3)
    assert [o["value"] for o in opts] == ["2027-W01", "2026-W53", "2026-W52"]
    assert opts[0]["label"].endswith("(in progress)") and "in progress" not in opts[1]["label"]
    assert opts[1]["label"] == "2026-W53 · 2026-12-28 – 2027-01-03"


def test_an_area_lists_its_own_briefings_and_the_selection_falls_back_to_the_newest(tmp_path):
    settings = Settings(var_dir=tmp_path / "var")
    make_report(settings, DISTRICT, "滨江区", "2026-W46")
    make_report(settings, STREET, "长河街道", "2026-W47")
    make_report(settings, DISTRICT, "滨江区", "2026-W47", lang="en")
    found = archive.list_reports(settings.reports_dir, settings.language)
    assert [(str(r.week), r.scope_id, r.lang) for r in found] == [
        ("2026-W47", DISTRICT, "en"), ("2026-W47", STREET, "zh"), ("2026-W46", DISTRICT, "zh")]
    assert listing.for_scope(found, None, DISTRICT) == found
    assert listing.for_scope(found, DISTRICT, DISTRICT) == found
    assert [r.scope_id for r in listing.for_scope(found, STREET, DISTRICT)] == [STREET]
    assert listing.for_scope(found, "330108001", DISTRICT) == []
    assert listing.selected(found, None) is found[0]
    assert listing.selected(found, f"{DISTRICT}/2026-W46.pdf") is found[2]
    assert listing.selected(found, "../../settings.py") is found[0]
    assert listing.selected([], None) is None
    assert listing.download_href(found[2]) == "/analyst/briefings/download/330108/2026-W46.pdf"
    assert listing.running([{"status": "ok"}, {"status": "running"}]) and not listing.running([{"status": "failed"}])
    run = {"status": "running", "week": "2026-W47", "scope": STREET, "lang": "en"}
    assert listing.already_running([run], IsoWeek(2026, 47), STREET, "en")
    assert not listing.already_running([run], IsoWeek(2026, 47), STREET, "zh")
    assert not listing.already_running([run], IsoWeek(2026, 47), None, "en")
    assert not listing.already_running([{**run, "status": "failed"}], IsoWeek(2026, 47), STREET, "en")


# --- the routes ----------------------------------------------------------------------------------
@pytest.fixture
def served(tmp_path):
    """An app (no warehouse needed) whose archive holds one district briefing with a preview and one without."""
    settings = Settings(var_dir=tmp_path / "var")
    with_png = make_report(settings, DISTRICT, "滨江区", "2026-W47")
    without = make_report(settings, STREET, "长河街道", "2026-W47", lang="en", preview=False)
    (settings.reports_dir / "secret.pdf").write_bytes(b"%PDF-1.7 not an archive name")
    (settings.reports_dir / DISTRICT / "notes.pdf").write_bytes(b"%PDF-1.7 not an archive name")
    app = create_app(settings)
    return signed_in(app), with_png, without


def test_download_is_the_archived_pdf_as_an_attachment(served):
    client, path, _ = served
    resp = client.get("/analyst/briefings/download/330108/2026-W47.pdf")
    assert resp.status_code == 200
    assert resp.mimetype == "application/pdf"
    assert resp.data == path.read_bytes() and resp.data.startswith(b"%PDF")
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and 'filename="GridPulse-330108-2026-W47.pdf"' in disposition
    assert len(pypdf.PdfReader(BytesIO(resp.data)).pages) == 2


def test_preview_is_the_png_beside_the_pdf_and_a_missing_one_is_404(served):
    client, path, without = served
    resp = client.get("/analyst/briefings/preview/330108/2026-W47.pdf")
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    assert resp.data == path.with_suffix(".png").read_bytes()
    assert client.get(f"/analyst/briefings/preview/{STREET}/{without.name}").status_code == 404
    assert client.get(f"/analyst/briefings/download/{STREET}/{without.name}").status_code == 200


@pytest.mark.parametrize("tail", [
    "330108/2026-W48.pdf",  # a week nobody wrote
    "330108/notes.pdf", "330108/2026-W47.json", "330108/2026-W47.png", "x/runs.jsonl",  # not archive names
    "../../settings.py", "..%2F..%2Fsettings.py", "%2e%2e/%2e%2e/settings.py", "330108/..%2F..%2F..%2Fsettings.py",
    "..%252F..%252Fsettings.py", "330108/%2e%2e%2fsecret.pdf", "%2e%2e/secret.pdf", "./secret.pdf",
    "330108/2026-W47.pdf%00.png", "330108/2026-W47.pdf/extra", "330108/2026-W47.pdf/", "330108/.%2E/secret.pdf",
])
def test_anything_but_an_archived_briefing_is_404(served, tail):
    client, _, _ = served
    for route in ("download", "preview"):
        resp = client.get(f"/analyst/briefings/{route}/{tail}")
        assert resp.status_code == 404, (route, tail, resp.status_code)
        assert not resp.data.startswith(b"%PDF")


# --- the panels on the demo ----------------------------------------------------------------------
@pytest.fixture
def page(small_demo, tmp_path):
    """An app on the demo with an archive of two briefings (district W46, street W47) and one failed run."""
    settings = with_reports(small_demo, tmp_path)
    make_report(settings, DISTRICT, "滨江区", "2026-W46")
    make_report(settings, STREET, "长河街道", "2026-W47", partial=True, preview=False)
    record_failed_run(settings, "PreflightError: Chromium not found: apt-get install chromium")
    app = create_app(settings, clock=lambda: FIXTURE_NOW)
    module = sys.modules[next(p["module"] for p in dash.page_registry.values() if p["path"] == "/briefings")]
    return app, module, settings


def test_the_district_lists_every_briefing_newest_first_and_an_area_only_its_own(page):
    app, mod, _ = page
    with app.server.app_context():
        table = render(ViewState(lang="en").to_dict(), lambda v: listing.list_panel(v, None), remember=False)
        rows = find(table, dash.html.Tr, lambda n: getattr(n, "className", "").startswith("br-row"))
        assert [r.id["key"] for r in rows] == [f"{STREET}/2026-W47.pdf", f"{DISTRICT}/2026-W46.pdf"]
        assert rows[0].className == "br-row br-row-on"  # the newest is the one previewed
        first = texts(rows[0])
        assert "2026-W47" in first and "2026-11-16 – 11-22" in first and "partial" in first and "2" in first
        assert find(rows[1], dash.html.A)[0].href == "/analyst/briefings/download/330108/2026-W46.pdf"
        street = render(ViewState(scope=STREET).to_dict(), lambda v: listing.list_panel(v, None), remember=False)
        assert [r.id["key"] for r in find(street, dash.html.Tr, lambda n: hasattr(n, "id") and
                                          isinstance(getattr(n, "id", None), dict))] == [f"{STREET}/2026-W47.pdf"]
        other = render(ViewState(scope="330108001").to_dict(), lambda v: listing.list_panel(v, None), remember=False)
        assert other.className == "an-msg an-msg-empty" and "尚无归档周报" in other.children


def test_the_preview_follows_the_selection_and_says_when_there_is_no_image(page):
    app, mod, _ = page
    with app.server.app_context():
        newest = render(ViewState(lang="en").to_dict(), lambda v: listing.preview_panel(v, None), remember=False)
        assert "No preview of this briefing." in texts(newest)
        chosen = render(ViewState(lang="en").to_dict(), lambda v: listing.preview_panel(v, f"{DISTRICT}/2026-W46.pdf"),
                        remember=False)
        img = find(chosen, dash.html.Img)
        assert img and img[0].src.startswith("/analyst/briefings/preview/330108/2026-W46.pdf")
        link = find(chosen, dash.html.A)[0]
        assert link.href == "/analyst/briefings/download/330108/2026-W46.pdf"


def test_the_runs_show_a_scheduled_failure_in_words_and_an_empty_archive_says_how_to_write_one(page, tmp_path):
    app, mod, settings = page
    with app.server.app_context():
        runs = render(ViewState(lang="en").to_dict(), listing.runs_panel, remember=False)
        words = " ".join(texts(runs))
        assert "Failed" in words and "Schedule" in words and "Chromium not found: apt-get install chromium" in words
        assert "2026-11-23 08:00:00" in words
        archive.record_run(settings.reports_dir, {"run": "c1", "trigger": "catch-up", "week": "2026-W47",
                                                  "status": "ok", "seconds": 21.0})
        archive.record_run(settings.reports_dir, {"run": "w1", "trigger": "future-trigger", "status": "odd"})
        words = " ".join(texts(render(ViewState().to_dict(), listing.runs_panel, remember=False)))
        assert "补写（定时任务错过时）" in words and "成功" in words and "future-trigger" in words and "odd" in words
    empty_settings = with_reports(settings, tmp_path / "again")
    app2 = create_app(empty_settings, clock=lambda: FIXTURE_NOW)
    with app2.server.app_context():
        msg = render(ViewState(lang="en").to_dict(), lambda v: listing.list_panel(v, None), remember=False)
        assert msg.className == "an-msg an-msg-empty" and "python app.py report" in msg.children
        assert "No runs yet." in texts(render(ViewState(lang="en").to_dict(), listing.runs_panel, remember=False))


def test_the_form_offers_the_last_complete_week_and_the_views_area(page):
    app, mod, _ = page
    with app.server.app_context():
        form = render(ViewState(scope=STREET, lang="en").to_dict(), lambda v: listing.form_panel(v, FIXTURE_NOW), remember=False)
        week = find(form, dash.dcc.Dropdown)[0]
        assert week.value == "2026-W47" and week.options[0]["value"] == "2026-W48"
        assert "长河街道" in texts(form) or "Changhe" in " ".join(texts(form))


def test_generate_refuses_before_starting_a_process_and_starts_one_for_a_finished_week(page, monkeypatch):
    app, mod, settings = page
    started = []
    monkeypatch.setattr(listing, "_STARTED", {})
    monkeypatch.setattr(jobs, "start", lambda *a, **k: started.append((a, k)) or ("run-1", None))
    generate = getattr(mod._generate, "__wrapped__", mod._generate)
    state = ViewState(scope=STREET, lang="en").to_dict()
    with app.server.test_request_context("/_dash-update-component"):
        as_principal()
        msg, pending, disabled = generate(1, "2026-W48", "en", [], state)
        assert "2026-W48 is not over yet" in msg.children and started == []
        assert pending is dash.no_update and disabled is dash.no_update
        archive.record_run(settings.reports_dir, {"run": "busy", "trigger": "schedule", "week": "2026-W47",
                                                  "scope": STREET, "lang": "en", "pid": os.getpid(),
                                                  "status": "running"})
        msg, pending, disabled = generate(1, "2026-W47", "en", [], state)  # the same one is being written
        assert "being written already" in msg.children and started == [] and disabled is False
        msg, pending, disabled = generate(1, "2026-W47", "zh", [], state)
    (args, kwargs), = started
    assert args == (settings, IsoWeek(2026, 47))
    assert kwargs == {"scope_id": STREET, "lang": "zh", "partial": False, "trigger": "page"}
    assert pending["run"] == "run-1" and disabled is False and "2026-W47" in msg.children
    assert list(listing._STARTED) == ["run-1"]  # tracked, so a process that dies unheard is still accounted for


def test_a_started_process_that_dies_before_logging_is_recorded_as_failed(tmp_path, monkeypatch):
    reports = tmp_path / "reports"
    monkeypatch.setattr(listing, "_STARTED", {})

    class Proc:
        def __init__(self, exitcode):
            self.exitcode = exitcode

    entry = {"trigger": "page", "week": "2026-W47", "scope": None, "lang": "zh", "partial": False,
             "started": "2026-11-25T10:30:00+08:00"}
    listing.track("dead-unheard", Proc(1), entry)
    listing.track("dead-logged", Proc(0), entry)
    listing.track("alive", Proc(None), entry)
    assert listing.settle(reports, ["dead-logged"]) == ["dead-unheard"]
    (line,) = archive.read_runs(reports)
    assert line["run"] == "dead-unheard" and line["status"] == "failed" and "exit code 1" in line["error"]
    assert listing.settle(reports, []) == []  # the dead ones are forgotten, the live one is not settled
    listing.track("alive", Proc(3), entry)
    assert listing.settle(reports, []) == ["alive"]


def test_the_page_polls_only_while_a_run_is_running_or_awaited_and_redraws_only_on_a_change(page, monkeypatch):
    app, mod, settings = page
    monkeypatch.setattr(listing, "_STARTED", {})
    poll = getattr(mod._poll, "__wrapped__", mod._poll)
    state = ViewState(lang="en").to_dict()
    with app.server.test_request_context("/_dash-update-component"):
        as_principal()
        version, disabled, said, pending = poll(1, None, None, state)
        assert isinstance(version, str) and disabled is True  # only a failed run: nothing to wait for
        assert poll(2, None, version, state) == (dash.no_update, True, dash.no_update, dash.no_update)
        waiting = {"run": "not-yet-logged", "at": time.time()}
        assert poll(3, waiting, version, state)[1:] == (False, dash.no_update, dash.no_update)
        assert poll(4, {**waiting, "at": time.time() - listing.PENDING_SECONDS - 1}, version, state)[1] is True
        archive.record_run(settings.reports_dir, {"run": "live", "trigger": "page", "week": "2026-W47",
                                                  "pid": os.getpid(), "status": "running"})
        changed, disabled, said, _ = poll(5, {"run": "live", "at": time.time()}, version, state)
        assert changed not in (dash.no_update, version) and disabled is False and said is dash.no_update
        make_report(settings, STREET, "长河街道", "2026-W45")
        archive.record_run(settings.reports_dir, {"run": "live", "status": "ok", "seconds": 20.0})
        again, disabled, said, pending = poll(6, {"run": "live", "at": time.time()}, changed, state)
        assert again not in (dash.no_update, changed) and disabled is True and pending is None
        assert said.children == "2026-W47 is written and archived: see the list above."
        archive.record_run(settings.reports_dir, {"run": "bad", "trigger": "page", "week": "2026-W44",
                                                  "status": "failed", "error": "WeekNotOver: no"})
        said = poll(7, {"run": "bad", "at": time.time()}, again, state)[2]
        assert said.className == "an-msg an-msg-error" and "WeekNotOver: no" in said.children
