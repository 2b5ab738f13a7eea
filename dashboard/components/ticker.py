"""The SLA early-warning ticker: cases at risk (data) → rows with live countdowns (markup).

The server sends each row's deadline as an epoch in ``data-due``; ``assets/wall.js`` rewrites the
countdown text every second from it (corrected by the server-browser clock offset), so the
countdowns tick between refreshes without a request.
"""

from __future__ import annotations

import math

import pandas as pd
from dash import html

from dashboard.components.format import countdown, is_missing
from dashboard.i18n import pick, t
from dashboard.theme import STATUS_SHAPES

__all__ = ["ticker_rows", "ticker", "risk_summary", "LEVEL_ORDER"]

LEVEL_ORDER = ("breached", "red", "amber", "ok")
# breached ■, likely to breach ▲, at risk △: the shape alone tells the three apart
_LEVEL_SHAPE = {"breached": STATUS_SHAPES["red"], "red": STATUS_SHAPES["amber"], "amber": "△",
                "ok": STATUS_SHAPES["none"]}


def ticker_rows(df: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` rows the ticker shows, as a timeline around "now".

    Up to a third of the rows (more when few cases are still ahead) go to the most recent
    breaches, the rest to the deadlines coming soonest; the rows are then ordered by deadline, so
    the ticker reads top to bottom from "just missed" to "due next". A case three days late is
    not news: it is counted in the summary and in the overdue vital sign. Level ``ok`` is never
    shown.

    Args:
        df: ``metrics.warnings.sla_risk`` output (any order).
        n: rows to keep.
    """
    if df is None or df.empty or n <= 0:
        return pd.DataFrame(columns=list(df.columns) if df is not None else [])
    shown = df[df["level"].isin(LEVEL_ORDER[:3])]
    late = shown[shown["seconds_left"] < 0].sort_values(["seconds_left", "case_id"], ascending=[False, True])
    ahead = shown[shown["seconds_left"] >= 0].sort_values(["seconds_left", "case_id"])
    n_late = min(len(late), max(math.ceil(n / 3), n - len(ahead)))
    n_ahead = min(len(ahead), n - n_late)
    rows = pd.concat([late.head(n_late), ahead.head(n_ahead)])
    return rows.sort_values(["seconds_left", "case_id"]).reset_index(drop=True)


def risk_summary(df: pd.DataFrame | None) -> tuple[int, int]:
    """(breached, due soon) counts over the whole risk list."""
    if df is None or df.empty:
        return 0, 0
    return int((df["level"] == "breached").sum()), int(df["level"].isin(("red", "amber")).sum())


def _epoch_ms(moment) -> int | None:
    if is_missing(moment) or moment is pd.NaT:
        return None
    ts = pd.Timestamp(moment)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return int(ts.timestamp() * 1000)


def _row(r, lang: str, late_word: str, day_word: str) -> html.Div:
    seconds = float(r.seconds_left)
    text = countdown(seconds, day_word)
    if seconds < 0:
        text = f"{late_word}{text}"
    due = _epoch_ms(r.due_at)
    level = r.level if r.level in LEVEL_ORDER else "ok"
    return html.Div(
        className=f"gp-sla-row gp-r-{level}",
        **{"data-case": str(r.case_id), "data-level": level},
        children=[
            html.Span(_LEVEL_SHAPE[level], className="gp-sla-shape"),
            html.Span(text, className="gp-countdown", **{"data-due": str(due) if due else ""}),
            html.Span(t(f"sla.stage.{r.stage}", lang) if r.stage in ("accept", "dispatch", "close") else str(r.stage),
                      className="gp-sla-stage"),
            html.Span(pick(r.category_name, r.category_name_en, lang), className="gp-sla-cat"),
            html.Span(str(r.microgrid_id or r.grid_id or ""), className="gp-sla-grid"),
            html.Span(pick(r.department_name, r.department_name_en, lang), className="gp-sla-dept"),
            html.Span(str(r.case_id), className="gp-sla-case"),
        ],
    )


def ticker(df: pd.DataFrame | None, lang: str, n: int, counts: tuple[int, int] | None = None) -> list:
    """The ticker's children: a summary line and up to ``n`` rows (or a calm "nothing at risk").

    Args:
        df: ``metrics.warnings.sla_risk`` output (any order), or candidate rows from it.
        lang: ``"zh"`` or ``"en"``.
        n: rows that fit the panel in this layout.
        counts: (breached, due soon) over all cases at risk when ``df`` holds only candidates;
            default: counted from ``df``.
    """
    breached, soon = counts if counts is not None else risk_summary(df)
    summary = html.Div(t("sla.count", lang, breached=breached, soon=soon), className="gp-sla-summary",
                       **{"data-breached": str(breached), "data-soon": str(soon)})
    rows = ticker_rows(df, n) if df is not None else None
    if rows is None or rows.empty:
        return [summary, html.Div(t("sla.empty", lang), className="gp-empty")]
    late, day = t("sla.late", lang), ("天" if lang == "zh" else "d")
    # data-breached-shape: a row whose countdown passes zero between refreshes turns breached in the browser
    return [summary, html.Div([_row(r, lang, late, day) for r in rows.itertuples(index=False)],
                              className="gp-sla-rows", **{"data-late": late, "data-day": day,
                                                          "data-breached-shape": _LEVEL_SHAPE["breached"]})]
