"""LA's weekly briefing: English, its own level names, zone and calendar, the week of its 2020 data, nothing of the demo.

That no demo name can appear is held by tests/test_demo_boundary.py (the briefing's code names none);
here every place name printed is one of LA's own areas, and no Chinese character appears at all.
"""

from __future__ import annotations

import json
import re

from dashboard.briefing import numbers
from dashboard.briefing.week import IsoWeek
from dashboard.briefing.writer import write_briefing
from dashboard.runtime import Runtime
from metrics.scope import Window
from metrics.vitals import vital_signs
from tests.dashboard.briefing.pdfcheck import CJK, pages_text, text_outside, to_png
from tests.e2e.conftest import la2020  # noqa: F401 - the fixture

W01 = IsoWeek(2020, 1)  # 2019-12-30 to 2020-01-05: the extract's three days (1-3 January)


def test_la_briefing_of_the_week_of_its_data(la2020):  # noqa: F811
    path = write_briefing(la2020, W01)
    assert path.name == "2020-W01.pdf"  # English is the deployment's default language: no suffix
    pages = pages_text(path)
    whole = "\n".join(pages)
    flat = whole.replace("\n", " ")
    assert "Los Angeles" in whole and "Week 1 of 2020" in whole and "2019-12-30 to 2020-01-05" in whole
    assert all(f"Page {n} of {len(pages)}" in t for n, t in enumerate(pages, start=1))
    # historical data: the figures end with the newest case, inside the week, so the briefing says it is partial
    assert "partial figures as of 2020-01-03 14:22" in flat
    assert "no previous week to compare with" in flat  # the extract begins on 1 January: 0 is not "fewer"
    assert "Cases by Neighborhood Council (no resident counts" in flat
    assert "(America/Los_Angeles)" in flat
    # its own levels: regions side by side, council maps; no slot word of the demo
    assert "Region" in whole and "Neighborhood Council" in whole
    for word in ("Street", "Micro-grid", "Grid ", "Communit"):  # the demo's level words (LA's categories say "Streetlight")
        assert word not in whole.replace("Streetlight", ""), word
    assert not CJK.findall(whole)
    rt = Runtime(la2020)
    with rt.snapshot() as (con, info):
        dep = rt.deployment(con, info)
        regions = [r[0] for r in con.execute("SELECT name_en FROM areas WHERE level = 'street' ORDER BY 1").fetchall()]
        start, end = W01.bounds(la2020.timezone)
        now = rt.now()
        vit = vital_signs(con, dep.scope, Window(start, now, "custom"), now, la2020)
    rt.close()
    side = " ".join(whole[whole.index("Region side by side"):].split())  # names may wrap in their cell
    assert [r for r in regions if r in side] == regions  # the regions side by side are LA's own, every one
    assert "Los Angeles · 2020-W01" in flat  # the footer names the place from LA's settings
    received = numbers.count(vit.by_key()["received"].value)
    assert f"{received} cases were received this week" in flat
    assert re.search(rf"Cases received {re.escape(received)}", flat)
    # no acceptance or dispatch times in MyLA311: those rows say so with a dash, never a made-up 0%
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["partial"] and meta["blocked_requests"] == [] and meta["has_data"]
    assert text_outside(path) == []  # twelve regions side by side still fit the page
    to_png(path, "briefing-la")
