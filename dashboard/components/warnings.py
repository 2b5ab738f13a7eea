"""Surge and efficiency warnings (data) → a newest-first list (markup)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pandas as pd
from dash import html

from dashboard.components.format import clock_time
from dashboard.i18n import pick, t
from dashboard.theme import STATUS_SHAPES

__all__ = ["newest_first", "warning_list", "kind_key"]


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
    """The ``n`` most recent warnings (ties: red before amber, then by area for a stable order)."""
    rank = {"red": 0, "amber": 1}
    items = sorted(warnings, key=lambda w: (-_when(w).timestamp(), rank.get(w.level, 2), str(w.area_id)))
    return items[:n]


def warning_list(warnings: Iterable, lang: str, tz: str, n: int) -> list:
    """The panel's children: up to ``n`` warnings, newest first, or a calm "no warnings".

    Args:
        warnings: ``metrics.warnings.Warning`` objects (surges and efficiency warnings together).
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
                html.Span(pick(w.message_zh, w.message_en, lang), className="gp-warn-msg"),
                html.Span(clock_time(_when(w), tz)[:5], className="gp-warn-time"),
            ],
        ))
    return out
