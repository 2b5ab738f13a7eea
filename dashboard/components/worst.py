"""The ranked list of the worst areas beside the map (``layers.worst.rank`` rows → markup)."""

from __future__ import annotations

import pandas as pd
from dash import html

from dashboard.i18n import pick, t
from layers.worst import RANK_MARKS

__all__ = ["worst_list", "map_title"]


def _value(v: float, measure: str) -> str:
    return f"{v:.1f}" if measure == "per_10k" else f"{int(v):,}"


def worst_list(ranked: pd.DataFrame | None, measure: str, lang: str) -> list:
    """One row per ranked area: mark, name, value of the measure, open and overdue."""
    if ranked is None or ranked.empty:
        return [html.Div("—", className="gp-empty")]
    rows = []
    for r in ranked.itertuples(index=False):
        mark = RANK_MARKS[r.rank - 1] if r.rank <= len(RANK_MARKS) else f"{r.rank}."
        rows.append(html.Div(className="gp-worst-row", **{"data-area": str(r.area_id)}, children=[
            html.Span(mark, className="gp-worst-rank"),
            html.Span(pick(r.name, r.name_en, lang), className="gp-worst-name"),
            html.Span(_value(r.value, measure), className="gp-worst-value"),
            html.Span(f"{t('map.hover_open', lang)} {int(r.open)} · {t('map.hover_overdue', lang)} {int(r.overdue)}",
                      className="gp-worst-extra"),
        ]))
    return rows


def map_title(measure: str, level: str, lang: str, focus_name: str | None = None,
              level_label: str | None = None) -> list:
    """The map's caption: what colours it and at which level (and the focus area when rotating).

    ``level_label`` is the level's name in this deployment (``dashboard.i18n.level_name``); without it the
    slot's default name.
    """
    parts = [html.Span(t(f"measure.{measure}", lang), className="gp-map-measure"),
             html.Span(level_label or t(f"level.{level}", lang), className="gp-map-level")]
    if focus_name:
        parts.append(html.Span(focus_name, className="gp-map-focus"))
    return parts
