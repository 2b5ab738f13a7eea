"""The vital-signs strip: metrics (data) → tiles (markup).

A tile says four things at a glance from across the room: what (label), how much (value),
whether that is good (status colour *and* a shape and a word, so colour is never the only
carrier) and which way it is moving (change against the baseline).

The tiles of the promises name the limits in force (``2分钟受理率`` when ``sla_accept_seconds``
is 120): they are filled from the limit each metric carries (``Metric.limit``, derived by
:mod:`metrics.vitals` from the SLA rules), never from literals that could contradict the settings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dash import html

from dashboard.components.format import DASH, change_text, is_missing, target_text, value_parts
from dashboard.i18n import TEXT, pick, t
from dashboard.theme import STATUS_SHAPES

__all__ = ["vital_tile", "index_tile", "vitals_strip", "status_badge", "limit_text", "WALL_VITALS"]

# The measures on the wall's strip, left to right: volume, then the four promises, then stock and
# quality. The analyst pages show all of metrics.vitals.SPECS.
WALL_VITALS = ("received", "open_backlog", "overdue_open", "accept_1min_pct", "dispatch_5min_pct",
               "close_on_time_urgent_pct", "close_on_time_other_pct", "satisfaction_pct")


# Why a rate has no value in a window: which cases it would have counted. A metric that carries its
# own reason (Metric.reason, e.g. "accept_not_recorded": the source records no acceptance time) says
# that instead (i18n key "vital.why.<reason>").
_EMPTY_WHY = {
    "accept_1min_pct": "vital.none_due", "dispatch_5min_pct": "vital.none_due",
    "close_on_time_urgent_pct": "vital.none_due", "close_on_time_other_pct": "vital.none_due",
    "satisfaction_pct": "vital.none_rated", "median_accept_s": "vital.none_done",
    "median_dispatch_s": "vital.none_done", "median_close_h": "vital.none_done",
}


def status_badge(status: str, lang: str) -> html.Span:
    """Shape + word for a status ("● 正常"): the colour comes from CSS, the meaning does not need it."""
    status = status if status in STATUS_SHAPES else "none"
    word = t(f"status.{status}", lang)
    return html.Span(f"{STATUS_SHAPES[status]} {word}".strip(), className=f"gp-badge gp-s-{status}")


def limit_text(unit: str, n: float, lang: str) -> str:
    """A promise's limit as a label says it: whole minutes as minutes, else seconds; hours; working days.

    Args:
        unit: a :class:`metrics.vitals.Limit` unit: ``"s"``, ``"h"`` or ``"working_days"``.
        n: the limit in that unit.
        lang: ``"zh"`` or ``"en"``.

    >>> limit_text("s", 120, "zh"), limit_text("s", 90, "en"), limit_text("h", 24.0, "en")
    ('2分钟', '90 s', '24 h')
    """
    if unit == "s":
        n = int(n)
        return t("limit.minutes", lang, n=n // 60) if n % 60 == 0 else t("limit.seconds", lang, n=n)
    if unit == "h":
        return t("limit.hours", lang, n=int(n) if float(n).is_integer() else round(float(n), 1))
    return t("limit.working_days", lang, n=int(n))


def _labels(metric, lang: str) -> tuple[str, str]:
    """(short label on the tile, its definition on hover).

    A promise's short label names the limit the metric carries (``metric.limit``, from the SLA rules
    in force); the hover text is the metric's definition, which :mod:`metrics.vitals` fills from the
    same rules (or its full label when it has no definition).
    """
    full = pick(getattr(metric, "definition_zh", "") or metric.label_zh,
                getattr(metric, "definition_en", "") or metric.label_en, lang)
    limit = getattr(metric, "limit", None)
    if limit is not None and metric.key.endswith("_pct") and f"vital.short.{limit.stage}_pct" in TEXT:
        return t(f"vital.short.{limit.stage}_pct", lang, limit=limit_text(limit.unit, limit.value, lang)), full
    key = f"vital.short.{metric.key}"
    return (t(key, lang) if key in TEXT else pick(metric.label_zh, metric.label_en, lang)), full


def vital_tile(metric, lang: str, short: str | None = None, today: bool = True) -> html.Div:
    """One tile for one :class:`metrics.vitals.Metric`.

    Args:
        metric: any object with the ``Metric`` fields (key, labels, value, unit, target, status,
            baseline, change).
        lang: ``"zh"`` or ``"en"``.
        short: the tile's label instead of the wall's short one (the analyst pages' windows are not
            always "today").
        today: the window is today (the wall): an empty rate says "none due today", else "in the window".
    """
    label, full = _labels(metric, lang)
    short = short or label
    num, unit = value_parts(metric.value, metric.unit, lang)
    change = change_text(metric.value, metric.baseline, metric.change, metric.unit)
    target = target_text(metric.target, metric.unit, lang, metric.direction, compact=True) \
        if metric.status != "none" else ""
    foot = [status_badge(metric.status, lang)] if metric.status != "none" else []
    foot.append(html.Span(target, className="gp-vital-target"))
    reason = getattr(metric, "reason", None)
    if metric.value is None and reason and f"vital.why.{reason}" in TEXT:  # e.g. the source has no acceptance time
        foot = [html.Span(t(f"vital.why.{reason}", lang), className="gp-vital-target")]
    elif metric.value is None and metric.key in _EMPTY_WHY:  # e.g. no working-day deadline falls on a Monday
        why = _EMPTY_WHY[metric.key] + ("" if today else ".window")
        foot = [html.Span(t(why, lang), className="gp-vital-target")]
    return html.Div(
        className=f"gp-vital gp-s-{metric.status}", title=full,  # the definition anywhere on the tile
        **{"data-key": metric.key, "data-status": metric.status},
        children=[
            html.Div(short, className="gp-vital-label"),
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
        className=f"gp-vital gp-vital-index gp-s-{status}", title=t("vital.index_def", lang),
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
