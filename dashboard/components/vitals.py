"""The vital-signs strip: metrics (data) → tiles (markup).

A tile says four things at a glance from across the room: what (label), how much (value),
whether that is good (status colour *and* a shape and a word, so colour is never the only
carrier) and which way it is moving (change against the baseline).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dash import html

from dashboard.components.format import DASH, change_text, is_missing, target_text, value_parts
from dashboard.i18n import pick, t
from dashboard.theme import STATUS_SHAPES

__all__ = ["vital_tile", "index_tile", "vitals_strip", "status_badge", "WALL_VITALS"]

# The measures on the wall's strip, left to right: volume, then the four promises, then stock and
# quality. The analyst pages show all of metrics.vitals.SPECS.
WALL_VITALS = ("received", "open_backlog", "overdue_open", "accept_1min_pct", "dispatch_5min_pct",
               "close_on_time_urgent_pct", "close_on_time_other_pct", "satisfaction_pct")


# Why a rate has no value in a window: which cases it would have counted.
_EMPTY_WHY = {
    "accept_1min_pct": "vital.none_due", "dispatch_5min_pct": "vital.none_due",
    "close_on_time_urgent_pct": "vital.none_due", "close_on_time_other_pct": "vital.none_due",
    "satisfaction_pct": "vital.none_rated", "median_accept_s": "vital.none_done",
    "median_dispatch_s": "vital.none_done", "median_close_h": "vital.none_done",
}


def status_badge(status: str, lang: str) -> html.Span:
    """Shape + word for a status ("● 达标"): the colour comes from CSS, the meaning does not need it."""
    status = status if status in STATUS_SHAPES else "none"
    word = t(f"status.{status}", lang)
    return html.Span(f"{STATUS_SHAPES[status]} {word}".strip(), className=f"gp-badge gp-s-{status}")


def _label(metric, lang: str) -> str:
    """The wall's short label of a metric (nine tiles share a row), else the metric's own."""
    try:
        return t(f"vital.short.{metric.key}", lang)
    except KeyError:
        return pick(metric.label_zh, metric.label_en, lang)


def vital_tile(metric, lang: str) -> html.Div:
    """One tile for one :class:`metrics.vitals.Metric`.

    Args:
        metric: any object with the ``Metric`` fields (key, labels, value, unit, target, status,
            baseline, change).
        lang: ``"zh"`` or ``"en"``.
    """
    num, unit = value_parts(metric.value, metric.unit, lang)
    change = change_text(metric.value, metric.baseline, metric.change, metric.unit)
    target = target_text(metric.target, metric.unit, lang, metric.direction, compact=True) \
        if metric.status != "none" else ""
    foot = [status_badge(metric.status, lang)] if metric.status != "none" else []
    foot.append(html.Span(target, className="gp-vital-target"))
    if metric.value is None and metric.key in _EMPTY_WHY:  # e.g. no working-day deadline falls on a Monday
        foot = [html.Span(t(_EMPTY_WHY[metric.key], lang), className="gp-vital-target")]
    return html.Div(
        className=f"gp-vital gp-s-{metric.status}",
        **{"data-key": metric.key, "data-status": metric.status},
        children=[
            html.Div(_label(metric, lang), className="gp-vital-label", title=pick(metric.label_zh, metric.label_en, lang)),
            html.Div(className="gp-vital-value", children=[
                html.Span(num, className="gp-vital-num"),
                html.Span(unit, className="gp-vital-unit"),
            ]),
            html.Div(foot, className="gp-vital-foot"),
            html.Div(f"{change} {t('vital.baseline', lang)}" if change else "", className="gp-vital-change"),
        ],
    )


def index_tile(index: float | None, status: str, lang: str) -> html.Div:
    """The composite index (mean score; 1.0 = every promise kept) shown as 0–100+."""
    num = DASH if is_missing(index) else f"{100 * float(index):.0f}"
    return html.Div(
        className=f"gp-vital gp-vital-index gp-s-{status}",
        **{"data-key": "index", "data-status": status},
        children=[
            html.Div(t("vital.index", lang), className="gp-vital-label"),
            html.Div(html.Span(num, className="gp-vital-num"), className="gp-vital-value"),
            html.Div([status_badge(status, lang)] if status != "none" else [], className="gp-vital-foot"),
            html.Div("", className="gp-vital-change"),
        ],
    )


def vitals_strip(metrics: Iterable, index: float | None, index_status: str, lang: str,
                 keys: Sequence[str] = WALL_VITALS) -> list[html.Div]:
    """The tiles of the strip: the index first, then ``keys`` in order (missing keys skipped).

    Returns a list (the children of the strip) so that the strip element itself, and with it
    the layout, never changes between refreshes.
    """
    by_key = {m.key: m for m in metrics}
    return [index_tile(index, index_status, lang)] + [vital_tile(by_key[k], lang) for k in keys if k in by_key]
