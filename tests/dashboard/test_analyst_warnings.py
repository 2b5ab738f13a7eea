"""The warnings page's choices, facets, orders and links, on hand-made warnings and on the demo.

The hand-made part needs no warehouse: a few SLA risk rows and two detector warnings whose every
count and order is written out below. The demo part builds the page's panels through
``dashboard.analyst.view.render`` (as the callback does) and checks the counts against
``metrics.warnings`` called on its own.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import dash
import pandas as pd
import pytest

from dashboard.analyst.state import ViewState
from dashboard.analyst.view import render
from dashboard.app import create_app
from metrics.scope import Scope
from metrics.warnings import Warning, efficiency_warnings, sla_ticker, surges
from tests.conftest import FIXTURE_NOW

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def app(small_demo):
    return create_app(small_demo, clock=lambda: FIXTURE_NOW)


@pytest.fixture(scope="module")
def wp(app):
    """The page module as Dash loaded it (pages register themselves only once an app exists)."""
    return sys.modules[next(p["module"] for p in dash.page_registry.values() if p["path"] == "/warnings")]
NOW = datetime(2026, 11, 25, 10, 30, tzinfo=TZ)


def _view(state: ViewState | None = None, lang: str = "en"):
    return SimpleNamespace(lang=lang, state=state or ViewState(), now=NOW,
                           name=lambda zh, en: (en or zh) if lang == "en" else (zh or en))


def _sla() -> pd.DataFrame:
    """Three cases in sla_risk's order: breached, red, amber."""
    rows = [("C1", "close", -3600.0, "breached", "G002-1", NOW - timedelta(days=5)),
            ("C2", "accept", 20.0, "red", "G001-1", NOW - timedelta(seconds=40)),
            ("C3", "dispatch", 200.0, "amber", "G003-1", NOW - timedelta(minutes=1))]
    df = pd.DataFrame(rows, columns=["case_id", "stage", "seconds_left", "level", "microgrid_id", "received_at"])
    df["category_name"], df["category_name_en"] = "噪音", "Noise"
    df["grid_id"], df["street_id"] = None, None
    df["rank"] = range(len(df))
    df["area_id"] = df["microgrid_id"]  # metrics' place (sla_risk_list); no names: the list shows the id
    df["area_name"], df["area_name_en"] = None, None
    return df


def _surge(level: str = "red", start: datetime = NOW - timedelta(hours=6)) -> Warning:
    return Warning("surge", level, "G009-1", names={"street": ("西兴街道", "Xixing Street"),
                                                    "area": ("微网格 009-1", "Micro-grid 009-1"),
                                                    "category": ("施工噪音", "Construction noise")},
                   evidence={"category_id": "ENV-01", "count": 9, "usual": 0.4, "hours": 6.0,
                             "window_start": start, "window_end": NOW}, detected_at=NOW)


def _slow() -> Warning:
    week = NOW - timedelta(days=2)
    return Warning("efficiency", "amber", "330108", names={"unit": ("区城管局", "City Management")},
                   evidence={"unit_kind": "department", "unit": "D-CG", "rate_week": 0.61, "rate_norm": 0.88,
                             "week": (week, NOW)}, detected_at=NOW)


def _found(wp, view):
    sla = _sla()
    return wp.Found(sla, wp._surge_rows([_surge()], view) + wp._efficiency_rows([_slow()], view),
                    sla["level"].value_counts().to_dict())


def test_choices_drop_what_no_link_of_ours_writes(wp):
    assert wp.choices(ViewState()) == (None, None, "urgent")
    state = ViewState.from_search("?kind=surge&level=red&sort=newest")
    assert wp.choices(state) == ("surge", "red", "newest")
    assert wp.choices(ViewState.from_search("?kind=all&level=purple&sort=sideways")) == (None, None, "urgent")


def test_counts_are_facets_of_the_other_choice(wp):
    found = _found(wp, _view())
    n = wp.counts(found)
    assert n == {"kind.sla": 3, "kind.surge": 1, "kind.efficiency": 1, "level.breached": 1, "level.red": 2,
                 "level.amber": 2, "all": 5}
    red = wp.counts(found, level="red")  # kinds of the red warnings; levels of every kind
    assert (red["kind.sla"], red["kind.surge"], red["kind.efficiency"], red["all"]) == (1, 1, 0, 2)
    assert red["level.amber"] == 2
    surge = wp.counts(found, kind="surge")
    assert (surge["level.breached"], surge["level.red"], surge["level.amber"], surge["all"]) == (0, 1, 0, 1)
    assert surge["kind.sla"] == 3


def test_orders_and_filters(wp):
    view = _view()
    found = _found(wp, view)
    rows, total = wp.select(found, view, None, None, "urgent")
    assert [r.key for r in rows] == ["C1", "C2", "G009-1|ENV-01", "C3", "department|D-CG"] and total == 5
    rows, _ = wp.select(found, view, None, None, "newest")  # receipt / window start / week start, latest first
    assert [r.key for r in rows] == ["C2", "C3", "G009-1|ENV-01", "department|D-CG", "C1"]
    rows, _ = wp.select(found, view, None, None, "area")
    assert [r.area for r in rows] == ["City Management", "G001-1", "G002-1", "G003-1",
                                      "Xixing Street Micro-grid 009-1"]
    rows, total = wp.select(found, view, "sla", "amber", "urgent")
    assert [r.key for r in rows] == ["C3"] and total == 1
    rows, total = wp.select(found, view, "efficiency", "breached", "urgent")
    assert rows == [] and total == 0
    rows, total = wp.select(found, view, None, None, "urgent", cap=2)
    assert [r.key for r in rows] == ["C1", "C2"] and total == 5


def test_sentences_and_links(wp):
    view = _view(ViewState.from_search("?win=30d&ch=qr&lang=en&kind=sla"))
    rows, _ = wp.select(_found(wp, view), view, None, None, "urgent")
    by = {r.key: r for r in rows}
    assert by["C1"].text == "C1 Noise · Close · overdue by 1:00:00"
    assert by["C2"].text == "C2 Noise · Accept · 00:20 left"
    assert by["C1"].href == "/cases?lang=en&case=C1"
    surge = by["G009-1|ENV-01"]
    assert surge.text == "Xixing Street Micro-grid 009-1 construction noise: 9 reports in 6 h, usually fewer than 1"
    # its area as scope, its category as filter, the other filters kept, a window of today
    assert surge.href == "/cases?win=today&scope=G009-1&cat=ENV-01&ch=qr&lang=en"
    assert by["department|D-CG"].href == "/departments?win=30d&ch=qr&dep=D-CG&lang=en"
    street = Warning("efficiency", "red", "330108002", names={"unit": ("长河街道", "Changhe Street")},
                     evidence={"unit_kind": "street", "unit": "330108002", "rate_week": 0.5, "rate_norm": 0.9,
                               "week": (NOW, NOW)})
    assert wp._efficiency_rows([street], view)[0].href == "/map?win=30d&scope=330108002&ch=qr&lang=en"


def test_a_surge_reaching_into_yesterday_links_a_custom_window_of_both_days(wp):
    early = datetime(2026, 11, 25, 2, 0, tzinfo=TZ)
    w = _surge(start=early - timedelta(hours=6))
    assert wp.surge_link(w, ViewState(), early) == "/cases?win=custom&from=2026-11-24&to=2026-11-25&scope=G009-1" \
        "&cat=ENV-01"


def test_choices_become_the_url(wp):
    data = ViewState.from_search("?win=30d").to_dict()
    assert wp._choices_to_url("surge", None, "urgent", data) == "/warnings?win=30d&kind=surge"
    assert wp._choices_to_url("sla", "red", "area", data) == "/warnings?win=30d&kind=sla&level=red&sort=area"
    assert wp._choices_to_url(None, None, "urgent", data) is wp.no_update


# --- on the demo ---------------------------------------------------------------------------------

def _values(tree) -> dict[str, str]:
    """``data-key`` → ``data-value`` of every marked element of a component tree."""
    out: dict[str, str] = {}

    def walk(node):
        if isinstance(node, (list, tuple)):
            for x in node:
                walk(x)
            return
        props = getattr(node, "__dict__", {})
        if props.get("data-key") is not None and props.get("data-value") is not None:
            out[props["data-key"]] = props["data-value"]
        walk(getattr(node, "children", None) or [])

    walk(tree)
    return out


def _rows(tree) -> list[dict]:
    """The list's rows (the ag-grid's rowData)."""
    grid = [x for x in tree if getattr(x, "id", None) == "wr-grid"]
    return grid[0].rowData if grid else []


def test_the_demo_counts_equal_the_detectors(wp, app, small_demo):
    with app.server.app_context():
        chips, listing = render(ViewState().to_dict(), wp._both, "test")
        from dashboard import runtime

        with runtime.current().snapshot() as (con, _):
            scope = Scope("330108")
            ticker = sla_ticker(con, scope, FIXTURE_NOW, small_demo, rows=0)
            found = surges(con, scope, FIXTURE_NOW, small_demo) + efficiency_warnings(con, scope, FIXTURE_NOW,
                                                                                        small_demo)
    values = _values(chips)
    assert int(values["kind.sla"]) == ticker.breached + ticker.due_soon
    assert int(values["level.breached"]) == ticker.breached
    assert int(values["kind.surge"]) == sum(w.kind == "surge" for w in found)
    assert int(values["kind.efficiency"]) == sum(w.kind == "efficiency" for w in found)
    assert int(values["level.red"]) + int(values["level.amber"]) == ticker.due_soon + len(found)
    rows = _rows(listing)
    assert len(rows) == min(wp.CAP, ticker.breached + ticker.due_soon + len(found))
    assert [r["level"] for r in rows[:3]] == ["breached"] * 3
    assert rows[0]["link"].startswith("[Case →](/cases?case=") or rows[0]["link"].startswith("[查看事件 →](/cases?")


def test_the_demo_list_is_empty_when_the_filters_match_nothing(wp, app):
    with app.server.app_context():
        chips, listing = render(ViewState.from_search("?cat=NO-SUCH").to_dict(), wp._both, "test")
    assert getattr(listing[0], "data-msg") == "empty"
    assert set(_values(chips).values()) == {"0"}


def test_a_failure_shows_in_both_panels(wp, app, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(wp, "sla_risk_list", boom)
    with app.server.app_context():
        chips, listing = wp._fill(ViewState().to_dict())
    assert getattr(chips, "data-msg") == "error" and getattr(listing, "data-msg") == "error"
