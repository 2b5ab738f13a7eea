"""The briefing as one HTML document: the numbers of :mod:`model` turned into rows of text, laid out by a template.

:func:`context` is the transform step (pure: a :class:`~dashboard.briefing.model.Briefing` in, plain
strings and lists out, every number printed by ``numbers.py``); :func:`html` renders the Jinja2
template ``templates/briefing.html.j2`` with the print stylesheet ``templates/briefing.css``, the
charts' SVG and the embedded font faces.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup

from dashboard.briefing import numbers
from dashboard.briefing.charts import map_titles
from dashboard.briefing.findings import department_ranking, findings
from dashboard.briefing.model import TREND_WEEKS, Briefing
from dashboard.briefing.text import tr
from dashboard.components.format import DASH, change_text, is_missing, target_text
from dashboard.i18n import level_name, pick
from dashboard.theme import STATUS_SHAPES

__all__ = ["context", "html"]

_TEMPLATES = Path(__file__).resolve().parent / "templates"
_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(_TEMPLATES), autoescape=jinja2.select_autoescape(["j2"]),
                          undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_STAGES = (("accept_1min_pct", "col.accept"), ("dispatch_5min_pct", "col.dispatch"),
           ("close_on_time_urgent_pct", "col.close_urgent"), ("close_on_time_other_pct", "col.close_other"))
# The measures of the areas side by side (the rest are on the district's own table).
_SIDE = ("received", "per_10k", "open_backlog", "overdue_open", "accept_1min_pct", "dispatch_5min_pct",
         "close_on_time_urgent_pct", "close_on_time_other_pct", "median_close_h", "satisfaction_pct", "repeat_rate_pct")


def _name(zh: Any, en: Any, lang: str) -> str:
    return pick(None if is_missing(zh) else zh, None if is_missing(en) else en, lang)


def _status(status: str, lang: str) -> dict[str, str]:
    return {"key": status, "shape": STATUS_SHAPES.get(status, "○"), "text": tr(f"status.{status}", lang)}


def _when(t: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return DASH if t is None or pd.isna(t) else pd.Timestamp(t).strftime(fmt)


def _vitals(b: Briefing, lang: str) -> list[dict[str, Any]]:
    prev = b.previous.by_key() if b.previous else {}
    rows = []
    for m in b.vitals.metrics:
        p = prev.get(m.key)
        prev_change = None
        if p is not None and not is_missing(p.value) and p.value and not is_missing(m.value):
            prev_change = m.value / p.value - 1.0
        rows.append({
            "key": m.key, "label": pick(m.label_zh, m.label_en, lang),
            "value": numbers.measure(m.value, m.unit, lang),
            "prev": numbers.measure(p.value if p else None, m.unit, lang),
            "vs_prev": change_text(m.value, p.value if p else None, prev_change, m.unit) or DASH,
            "norm": numbers.measure(m.baseline, m.unit, lang),
            "vs_norm": change_text(m.value, m.baseline, m.change, m.unit) or DASH,
            "target": target_text(m.target, m.unit, lang, m.direction, compact=True) or DASH,
            "status": _status(m.status, lang),
        })
    return rows


def _series(df: pd.DataFrame, fmt: str) -> list[dict[str, str]]:
    return [{"when": pd.Timestamp(r["start"]).strftime(fmt), "inflow": numbers.count(r["inflow"]),
             "outflow": numbers.count(r["outflow"]), "open": numbers.count(r["open_end"]),
             "overdue": numbers.count(r["overdue_end"])} for _, r in df.iterrows()]


def _categories(b: Briefing, lang: str) -> list[dict[str, str]]:
    return [{"name": _name(r["name"], r["name_en"], lang), "cases": numbers.count(r["cases"]),
             "previous": numbers.count(r["previous"]), "change": numbers.signed_pct(r["change_pct"]),
             "share": numbers.pct(r["share_pct"]), "still_open": numbers.count(r["still_open"])}
            for _, r in b.categories.iterrows()]


def _surges(b: Briefing, lang: str) -> list[dict[str, str]]:
    out = []
    for w in b.surges:
        street, area = _name(*w.names.get("street", ("", "")), lang), _name(*w.names.get("area", ("", "")), lang)
        out.append({"area": f"{street} {area}".strip() if street and street != area else area,
                    "category": _name(*w.names["category"], lang), "count": numbers.count(w.evidence["count"]),
                    "expected": f"{w.evidence['expected']:.1f}", "status": _status(w.level, lang),
                    "detected": _when(w.detected_at, "%m-%d %H:%M")})
    return out


def _promise_rows(units: list[tuple[str, dict[str, float | None]]]) -> list[dict[str, Any]]:
    return [{"name": name, "rates": [numbers.pct(values.get(key)) for key, _ in _STAGES]} for name, values in units]


def _departments(b: Briefing, lang: str) -> list[dict[str, Any]]:
    rows = []
    ranked = department_ranking(b)
    for rank, (_, r) in enumerate(ranked[ranked["received"] > 0].iterrows(), start=1):
        rows.append({"rank": str(rank) if not is_missing(r["close_all_pct"]) else DASH,
                     "name": _name(r["name"], r["name_en"], lang), "received": numbers.count(r["received"]),
                     "rates": [numbers.pct(r[key]) for key, _ in _STAGES], "close_all": numbers.pct(r["close_all_pct"]),
                     "median_close": "" if is_missing(r["median_close_h"]) else f"{r['median_close_h']:.1f}",
                     "satisfaction": numbers.pct(r["satisfaction_pct"]), "open": numbers.count(r["open"]),
                     "overdue": numbers.count(r["overdue"])})
    return rows


def _breaches(b: Briefing, lang: str) -> list[dict[str, str]]:
    return [{"case": str(r["case_id"]), "category": _name(r["category_name"], r["category_name_en"], lang),
             "area": _name(r["area_name"], r["area_name_en"], lang) or DASH,
             "department": _name(r["department_name"], r["department_name_en"], lang) or DASH,
             "due": _when(r["due_at"], "%m-%d %H:%M"),
             "closed": _when(r["closed_at"], "%m-%d %H:%M") if not pd.isna(r["closed_at"]) else tr("still_open", lang),
             "overdue_by": numbers.duration_h(r["overdue_h"], lang)} for _, r in b.breaches.rows.iterrows()]


def _side_by_side(b: Briefing, lang: str) -> dict[str, Any]:
    """The areas below the briefing's area as columns (rows when there are more than 6), one row per measure."""
    heads = [_name(c.name, c.name_en, lang) for c in b.children]
    rows = []
    first = b.vitals.by_key()
    for key in ("index", *_SIDE):
        if key == "index":
            label = tr("index", lang)
            cells = [{"text": numbers.index(c.vitals.index), "status": c.vitals.index_status} for c in b.children]
        else:
            m0 = first[key]
            label = pick(m0.label_zh, m0.label_en, lang)
            cells = []
            for c in b.children:
                m = c.vitals.by_key()[key]
                cells.append({"text": numbers.measure(m.value, m.unit, lang), "status": m.status})
        if any(c["text"] != DASH for c in cells):  # a measure no area has (LA records no acceptance) says nothing
            rows.append({"label": label, "cells": cells})
    return {"heads": heads, "rows": rows, "transposed": len(heads) > 6}


def _css_string(text: str) -> Markup:
    """``text`` inside a CSS string in a ``<style>`` element (which HTML entities do not reach): escaped for CSS."""
    escaped = "".join(c if c.isalnum() or c in " ·-_.,()" or ord(c) > 127 else f"\\{ord(c):x} " for c in text)
    return Markup(escaped)


def context(b: Briefing, lang: str, snapshot: str) -> dict[str, Any]:
    """Everything the template prints, as text."""
    place = " · ".join(_name(zh, en, lang) for zh, en in b.area_names)
    short_place = _name(*b.area_names[-1], lang)
    child_level = level_name(b.deployment.level(b.children_level), lang) if b.children_level else ""
    units = [(_name(c.name, c.name_en, lang), {k: c.vitals.by_key()[k].value for k, _ in _STAGES}) for c in b.children]
    dep_units = [(_name(r["name"], r["name_en"], lang), {k: r[k] for k, _ in _STAGES})
                 for _, r in b.departments.rows[b.departments.rows["received"] > 0].iterrows()]
    joint = b.departments.joint.iloc[0] if len(b.departments.joint) else None
    sections = [("week", tr("s.week", lang)), ("maps", tr("s.maps", lang)), ("backlog", tr("s.backlog", lang)),
                ("categories", tr("s.categories", lang)), ("promise", tr("s.promise", lang)),
                ("departments", tr("s.departments", lang, level=child_level or tr("col.area", lang)))]
    return {
        "lang": "zh-CN" if lang == "zh" else "en",
        "place": place, "short_place": short_place, "week_id": str(b.week),
        "week_title": tr("week", lang, year=b.week.year, week=b.week.week),
        "dates": tr("dates", lang, first=b.week.monday.isoformat(), last=b.week.sunday.isoformat()),
        "generated": _when(b.generated_at), "as_of": _when(b.as_of), "timezone": b.start.tzname() or "",
        "tz_name": str(b.start.tzinfo), "data_as_of": _when(b.data_as_of) if b.data_as_of else DASH,
        "partial": tr("partial", lang, time=_when(b.as_of)) if b.partial else "",
        "calendar_notice": (b.calendar_notice[1] if lang == "en" else b.calendar_notice[0]) if b.calendar_notice else "",
        "no_data": "" if b.has_data else tr("no_data", lang),
        "sections": sections, "findings": findings(b, lang),
        "index": numbers.index(b.vitals.index), "index_status": _status(b.vitals.index_status, lang),
        "index_prev": numbers.index(b.previous.index if b.previous else None), "vitals": _vitals(b, lang),
        "map_titles": map_titles(b, lang),
        "daily": _series(b.daily, "%m-%d %a" if lang == "en" else "%m-%d"),
        "weekly": _series(b.weekly, "%Y-%m-%d"), "trend_weeks": TREND_WEEKS,
        "categories": _categories(b, lang), "surges": _surges(b, lang),
        "stage_heads": [tr(k, lang) for _, k in _STAGES],
        "promise_areas": _promise_rows(units), "promise_departments": _promise_rows(dep_units),
        "child_level": child_level,
        "breaches": _breaches(b, lang), "breaches_total": b.breaches.total,
        "departments": _departments(b, lang),
        "joint": None if joint is None or not joint["received"] else {
            "received": numbers.count(joint["received"]), "rates": [numbers.pct(joint[k]) for k, _ in _STAGES]},
        "side": _side_by_side(b, lang) if b.children else None,
        "footer_css": _css_string(tr("footer", lang, place=short_place, week=str(b.week))),
        "page_of_css": Markup(f'"{tr("page_of", lang)}"'),
        "source": tr("sources", lang, snapshot=snapshot),
    }


def html(ctx: dict[str, Any], svgs: dict[str, str], fonts_css: str, lang: str) -> str:
    """The whole HTML document."""
    css = (_TEMPLATES / "briefing.css").read_text(encoding="utf-8")
    return _ENV.get_template("briefing.html.j2").render(
        **ctx, svgs={k: Markup(v) for k, v in svgs.items()},
        style=Markup(fonts_css + "\n" + css),
        T=lambda key, **kw: tr(key, lang, **kw))
