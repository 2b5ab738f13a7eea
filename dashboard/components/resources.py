"""Resources by street (``layers.resources.transform`` rows) → a compact table with share bars."""

from __future__ import annotations

import pandas as pd
from dash import html

from dashboard.components.format import number
from dashboard.i18n import pick, t
from layers.resources import TOTAL_ID

__all__ = ["resource_table", "COLUMNS"]

# (i18n key, available column, total column)
COLUMNS = (("res.cameras", "cameras_online", "cameras"), ("res.staff", "staff_on_duty", "staff"),
           ("res.vehicles", "vehicles_free", "vehicles"))


def _cell(available: int, total: int, key: str) -> html.Div:
    share = 100.0 * available / total if total else 0.0
    return html.Div(className="gp-res-cell", **{"data-col": key, "data-available": str(available),
                                                 "data-total": str(total)}, children=[
        html.Div([html.Span(number(available), className="gp-res-num"),
                  html.Span(f"/{number(total)}", className="gp-res-total")], className="gp-res-text"),
        html.Div(html.Div(className="gp-res-fill", style={"width": f"{share:.0f}%"}), className="gp-res-bar"),
    ])


def resource_table(summary: pd.DataFrame | None, lang: str, level_label: str | None = None) -> list:
    """Children of the resources panel: a header row and one row per street (and the total).

    ``level_label`` names the street slot as this deployment does ("Region" ...); default ``res.street``.
    """
    header = html.Div([html.Span(level_label or t("res.street", lang))] + [html.Span(t(k, lang)) for k, _, _ in COLUMNS],
                      className="gp-res-row gp-res-head")
    if summary is None or summary.empty:  # a deployment whose sources send no assets: say so, not an empty grid
        return [html.Div(t("res.none", lang), className="gp-empty")]
    rows = [header]
    for r in summary.itertuples(index=False):
        is_total = r.street_id == TOTAL_ID
        name = t("res.total", lang) if is_total else pick(r.name, r.name_en, lang)
        rows.append(html.Div(
            [html.Span(name, className="gp-res-name")]
            + [_cell(int(getattr(r, a)), int(getattr(r, tot)), a) for _, a, tot in COLUMNS],
            className="gp-res-row gp-res-total-row" if is_total else "gp-res-row",
            **{"data-street": str(r.street_id)},
        ))
    return rows
