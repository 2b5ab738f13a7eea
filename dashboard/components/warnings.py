"""Surge and efficiency warnings (data) → a list of sentences (markup).

The detectors (``metrics.warnings``) return names and numbers; :func:`warning_text` words them in
the reader's language through ``dashboard/i18n.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pandas as pd
from dash import html

from dashboard.components.format import clock_time
from dashboard.i18n import pick, t
from dashboard.theme import STATUS_SHAPES

__all__ = ["newest_first", "warning_list", "warning_text", "kind_key"]


def kind_key(kind: str) -> str:
    """The i18n tag of a warning kind: surges, efficiency (everything about handling speed), other."""
    k = (kind or "").lower()
    if "surge" in k:
        return "surge"
    if any(word in k for word in ("efficien", "slow", "backlog", "dispatch", "accept", "close", "department")):
        return "efficiency"
    return "other"


def _when(w) -> datetime:
    ts = pd.Timestamp(w.detected_at) if w.detected_at is not None else pd.Timestamp(0, tz="UTC")
    return (ts if ts.tzinfo else ts.tz_localize("UTC")).to_pydatetime()


def newest_first(warnings: Iterable, n: int) -> list:
    """The ``n`` most recent warnings, each detector's own ranking kept within one detection time.

    Every warning of one refresh has the same detection time, so the order within it is what the
    detectors gave (the most significant surge, the largest drop first), with red before amber
    when several detectors' lists are merged (within one detector red already comes first). The
    sort is stable: nothing else (such as the area id) may reorder them, or the strongest surge
    could fall off a short panel.
    """
    rank = {"red": 0, "amber": 1}
    items = sorted(warnings, key=lambda w: (-_when(w).timestamp(), rank.get(w.level, 2)))
    return items[:n]


def _usual(usual: float, lang: str) -> str:
    """"通常 2 件" / "usually 2"; below one report a window: "通常不到 1 件" / "usually fewer than 1"."""
    if usual < 1:
        return t("warn.usual.few", lang)
    n = f"{usual:.0f}" if usual >= 1.5 or abs(usual - round(usual)) < 0.05 else f"{usual:.1f}"
    return t("warn.usual.n", lang, n=n)


def _name(w, key: str, lang: str) -> str:
    zh, en = w.names.get(key, ("", ""))
    return pick(zh, en, lang)


def warning_text(w, lang: str) -> str:
    """The one-line sentence of a warning in ``lang``, from its names and evidence.

    Examples: "东湖街道 微网格 002-1 施工噪音：6 小时内 9 件，通常不到 1 件" /
    "Donghu Street Micro-grid 002-1 construction noise: 9 reports in 6 h, usually fewer than 1";
    "区城管局 本周按时办结率 61%，常态 88%".
    """
    ev = w.evidence
    if w.kind == "surge":
        where = " ".join(x for x in (_name(w, "street", lang), _name(w, "area", lang)) if x)
        category = _name(w, "category", lang)
        if lang == "en" and category:  # mid-sentence: "graffiti removal", but "AED request" keeps its acronym
            category = " ".join(w if len(w) > 1 and w.isupper() else w.lower() for w in category.split(" "))
        return t("warn.msg.surge", lang, where=where, category=category, hours=f"{ev['hours']:g}",
                 count=ev["count"], usual=_usual(ev["usual"], lang))
    if w.kind == "efficiency":
        return t("warn.msg.efficiency", lang, unit=_name(w, "unit", lang), week=ev["rate_week"],
                 norm=ev["rate_norm"])
    return t(f"warn.kind.{kind_key(w.kind)}", lang)


def warning_list(warnings: Iterable, lang: str, tz: str, n: int) -> list:
    """The panel's children: up to ``n`` warnings (see :func:`newest_first`), or a calm "no warnings".

    Args:
        warnings: ``metrics.warnings.Warning`` objects (surges and efficiency warnings together,
            each detector's list in its own order).
        lang: ``"zh"`` or ``"en"``.
        tz: deployment zone for the detection time.
        n: items that fit the panel in this layout.
    """
    items = newest_first(list(warnings), n)
    if not items:
        return [html.Div(t("warn.empty", lang), className="gp-empty")]
    out = []
    for w in items:
        level = w.level if w.level in ("red", "amber") else "amber"
        kind = kind_key(w.kind)
        out.append(html.Div(
            className=f"gp-warn gp-s-{level}",
            **{"data-kind": str(w.kind), "data-area": str(w.area_id or "")},
            children=[
                html.Span(STATUS_SHAPES[level], className="gp-warn-shape"),
                html.Span(t(f"warn.kind.{kind}", lang), className=f"gp-warn-tag gp-warn-{kind}"),
                html.Span(warning_text(w, lang), className="gp-warn-msg"),
                html.Span(clock_time(_when(w), tz)[:5], className="gp-warn-time"),
            ],
        ))
    return out
