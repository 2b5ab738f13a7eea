"""The weekly briefing written from the demo fixture, read back from the PDF and checked against metrics/."""

from __future__ import annotations

import json
import re
from datetime import datetime

import duckdb
import pytest
from pypdf import PdfReader

from dashboard.briefing import numbers, pdf, preflight
from dashboard.briefing.findings import department_ranking
from dashboard.briefing.week import IsoWeek
from dashboard.briefing.writer import WeekNotOver, write_briefing
from dashboard.runtime import Runtime
from data.snapshot import read_current
from metrics.breakdown import received_by
from metrics.scope import Scope, Window
from metrics.vitals import vital_signs
from tests.conftest import FIXTURE_NOW, private_copy
from tests.dashboard.briefing.pdfcheck import CJK, RADICALS, fonts, pages_text, text_outside, to_png

W47 = IsoWeek(2026, 47)  # the last week complete at FIXTURE_NOW (Wednesday 2026-11-25)


@pytest.fixture(scope="module")
def demo(small_demo, tmp_path_factory):
    """A private copy of the demo with the district's W47 briefing in Chinese and in English."""
    settings = private_copy(small_demo, tmp_path_factory.mktemp("briefing"))
    zh = write_briefing(settings, W47, now=FIXTURE_NOW)
    en = write_briefing(settings, W47, lang="en", now=FIXTURE_NOW)
    return settings, zh, en


def _metrics(settings, area_id=None):
    rt = Runtime(settings, clock=lambda: FIXTURE_NOW)
    start, end = W47.bounds(settings.timezone)
    with rt.snapshot() as (con, info):
        dep = rt.deployment(con, info)
        scope = Scope(area_id or dep.district_id, level=None).resolved(con)
        vit = vital_signs(con, scope, Window(start, end, "custom"), end, settings)
        cats = received_by(con, scope, Window(start, end, "custom"), end, "category", settings, limit=10)
    rt.close()
    return vit, cats


def test_the_numbers_in_the_pdf_are_the_metrics_of_the_week(demo):
    settings, path, _ = demo
    pages = pages_text(path)
    vit, cats = _metrics(settings)
    week_page = next(p for p in pages if "一周概览" in p and "要点" in p)
    for key in ("received", "open_backlog", "overdue_open", "accept_1min_pct", "close_on_time_other_pct",
                "satisfaction_pct"):
        m = vit.by_key()[key]
        assert numbers.measure(m.value, m.unit, "zh") in week_page, key
    assert f"综合指数 {numbers.index(vit.index)}" in week_page.replace("\n", " ")
    received = numbers.count(vit.by_key()["received"].value)
    assert re.search(rf"本周受理 {received} 件", week_page)  # the first finding, checkable in the table below it
    cat_page = next(p for p in pages if "案件最多的" in p)
    top = cats.iloc[0]
    assert re.search(rf"{top['name']}\s+{numbers.count(top['cases'])}\s+{numbers.count(top['previous'])}", cat_page)


def test_chinese_is_real_embedded_text_and_every_page_is_numbered(demo):
    settings, path, _ = demo
    pages = pages_text(path)
    assert 6 <= len(pages) <= 12
    for n, text in enumerate(pages, start=1):
        assert f"第 {n} 页 / 共 {len(pages)} 页" in text, n
        assert "GridPulse · 滨江区 · 2026-W47" in text, n  # the footer, the cover's too
    whole = "".join(pages)
    assert "滨江区" in whole and "每周简报" in whole and "2026 年第 47 周" in whole and "2026-11-16 至 2026-11-22" in whole
    assert not RADICALS.findall(whole)  # 页 stays 页 (not ⻚): searchable
    faces = fonts(path)
    assert faces and all(sub == "/CIDFontType2" and embedded for _, sub, embedded in faces), faces
    assert any("NotoSansCJK" in name for name, _, _ in faces)
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["blocked_requests"] == []  # nothing was fetched from anywhere
    assert meta["pages"] == len(pages) and not meta["partial"]
    assert text_outside(path) == []  # no table or text runs off a page
    shots = to_png(path, "briefing-demo-zh")
    assert len(shots) == len(pages) and path.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"


def test_the_maps_are_vector_with_the_area_names_as_text(demo):
    settings, path, _ = demo
    reader = PdfReader(str(path))
    index, text = next((i, p.extract_text()) for i, p in enumerate(reader.pages) if "每万人案件数" in p.extract_text())
    con = duckdb.connect(str(read_current(settings.current_file).path), read_only=True)
    streets = [r[0] for r in con.execute("SELECT name FROM areas WHERE level = 'street'").fetchall()]
    con.close()
    assert len(streets) == 3 and all(text.count(name) == 2 for name in streets), text  # on both maps
    # drawn as paths: no picture of a map on the page
    xobjects = reader.pages[index]["/Resources"].get("/XObject") or {}
    assert [k for k, x in xobjects.items() if x.get_object().get("/Subtype") == "/Image"] == []


def test_the_english_briefing_says_the_same_numbers_in_english(demo):
    settings, _, path = demo
    assert path.name == "2026-W47.en.pdf"
    pages = pages_text(path)
    whole = "".join(pages)
    vit, _ = _metrics(settings)
    assert "Week 47 of 2026" in whole and "Binjiang District" in whole
    assert f"{numbers.count(vit.by_key()['received'].value)} cases were received this week" in whole
    assert all(f"Page {n} of {len(pages)}" in t for n, t in enumerate(pages, start=1))
    assert not CJK.findall(whole), sorted(set(CJK.findall(whole)))[:20]  # every name has its English form
    assert text_outside(path) == []
    to_png(path, "briefing-demo-en")


def test_the_ranked_departments_and_the_findings_agree(demo):
    settings, path, _ = demo
    pages = pages_text(path)
    whole = " ".join(pages).replace("\n", " ")
    rt = Runtime(settings, clock=lambda: FIXTURE_NOW)
    from dashboard.briefing.model import gather

    with rt.snapshot() as (con, info):
        b = gather(con, rt.deployment(con, info), settings, W47, None, FIXTURE_NOW)
    rt.close()
    ranked = department_ranking(b)
    ranked = ranked[ranked["close_all_pct"].notna()]
    best, worst = ranked.iloc[0], ranked.iloc[-1]
    sentence = f"办结按时率最高的部门是{best['name']}（{numbers.pct(best['close_all_pct'])}），最低的是{worst['name']}"
    assert sentence in whole
    assert re.search(rf"1 {re.escape(best['name'])} {numbers.count(best['received'])}", whole)
    assert f"共 {b.breaches.total} 件" in whole


def test_a_streets_briefing_holds_only_that_street(demo):
    settings, _, _ = demo
    rt = Runtime(settings, clock=lambda: FIXTURE_NOW)
    with rt.snapshot() as (con, info):
        streets = con.execute("SELECT area_id, name FROM areas WHERE level = 'street' ORDER BY area_id").fetchall()
    rt.close()
    street_id, street_name = streets[0]
    path = write_briefing(settings, W47, scope_id=street_id, now=FIXTURE_NOW)
    assert path.parent.name == street_id
    whole = "".join(pages_text(path))
    vit, _ = _metrics(settings, street_id)
    assert f"本周受理 {numbers.count(vit.by_key()['received'].value)} 件" in whole
    assert street_name in whole and "各社区对比" in whole
    for _, other in streets[1:]:
        assert other not in whole  # no other street's numbers, names or rows
    to_png(path, "briefing-demo-street")


def test_a_week_not_over_is_refused_or_written_as_partial(demo):
    settings, _, _ = demo
    w48 = IsoWeek(2026, 48)
    with pytest.raises(WeekNotOver, match="2026-W48 is not over until 2026-11-30 00:00"):
        write_briefing(settings, w48, now=FIXTURE_NOW)
    assert not (settings.reports_dir / "330108" / "2026-W48.pdf").exists()
    path = write_briefing(settings, w48, now=FIXTURE_NOW, partial=True)
    whole = "".join(pages_text(path))
    assert "本周尚未结束" in whole and "2026-11-25 10:30" in whole and "阶段性" in whole
    assert json.loads(path.with_suffix(".json").read_text())["partial"] is True


def test_a_week_without_data_still_gives_a_valid_briefing_that_says_so(demo):
    settings, _, _ = demo
    path = write_briefing(settings, IsoWeek(2026, 10), now=FIXTURE_NOW)
    pages = pages_text(path)
    whole = "".join(pages)
    assert "本周没有案件" in whole and 6 <= len(pages) <= 12
    to_png(path, "briefing-demo-empty")


def test_a_failed_rewrite_keeps_the_archived_briefing_whole(demo, monkeypatch):
    settings, path, _ = demo
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise RuntimeError("Chromium crashed")

    monkeypatch.setattr(pdf, "render_pdf", broken)
    with pytest.raises(RuntimeError, match="Chromium crashed"):
        write_briefing(settings, W47, now=FIXTURE_NOW)
    assert path.read_bytes() == before
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_without_chromium_or_the_font_it_fails_at_once_saying_what_to_install(demo, monkeypatch):
    settings, path, _ = demo
    before = sorted(p.name for p in path.parent.iterdir())
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    started = datetime.now()
    with pytest.raises(preflight.BriefingUnavailable, match="apt-get install chromium"):
        write_briefing(settings, IsoWeek(2026, 46), now=FIXTURE_NOW)
    assert (datetime.now() - started).total_seconds() < 5
    monkeypatch.delenv("BROWSER_PATH")
    monkeypatch.setattr(preflight, "CJK_FAMILY", "No Such CJK Font")
    with pytest.raises(preflight.BriefingUnavailable, match="fonts-noto-cjk"):
        write_briefing(settings, IsoWeek(2026, 46), now=FIXTURE_NOW)
    assert sorted(p.name for p in path.parent.iterdir()) == before  # nothing half-written
