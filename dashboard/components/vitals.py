"""The vital-signs strip: metrics (data) → tiles (markup).

A tile says four things at a glance from across the room: what (label), how much (value),
whether that is good (status colour *and* a shape and a word, so colour is never the only
carrier) and which way it is moving (change against the baseline).

The tiles of the four promises name the limits in force (``2分钟受理率`` when
``sla_accept_seconds`` is 120): they are filled from the deployment's SLA rule
(:func:`promise_labels`), never literals that could contradict the settings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dash import html

from dashboard.components.format import DASH, change_text, is_missing, target_text, value_parts
from dashboard.i18n import pick, t
from dashboard.theme import STATUS_SHAPES

__all__ = ["vital_tile", "index_tile", "vitals_strip", "status_badge", "limit_text", "promise_labels", "WALL_VITALS"]

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


def limit_text(kind: str, n: float, lang: str) -> str:
    """A promise's limit as a label says it: whole minutes as minutes, else seconds; hours; working days.

    >>> limit_text("seconds", 120, "zh"), limit_text("seconds", 90, "en"), limit_text("hours", 24.0, "en")
    ('2分钟', '90 s', '24 h')
    """
    if kind == "seconds":
        n = int(n)
        return t("limit.minutes", lang, n=n // 60) if n % 60 == 0 else t("limit.seconds", lang, n=n)
    if kind == "hours":
        return t("limit.hours", lang, n=int(n) if float(n).is_integer() else round(float(n), 1))
    return t("limit.working_days", lang, n=int(n))


def promise_labels(rule, lang: str) -> dict[str, tuple[str | None, str]]:
    """``{metric key: (short label or None, full rule)}`` for the four promises of ``rule``.

    Args:
        rule: a :class:`metrics.sla.SlaRule` (the deployment's default promise).
        lang: ``"zh"`` or ``"en"``.
    """
    accept = limit_text("seconds", rule.accept_seconds, lang)
    dispatch = limit_text("seconds", rule.dispatch_seconds, lang)
    return {
        "accept_1min_pct": (t("vital.short.accept_pct", lang, limit=accept),
                            t("vital.rule.accept_1min_pct", lang, limit=accept)),
        "dispatch_5min_pct": (t("vital.short.dispatch_pct", lang, limit=dispatch),
                              t("vital.rule.dispatch_5min_pct", lang, limit=dispatch)),
        "close_on_time_urgent_pct": (None, t("vital.rule.close_on_time_urgent_pct", lang,
                                             limit=limit_text("hours", rule.urgent_close_hours, lang))),
        "close_on_time_other_pct": (None, t("vital.rule.close_on_time_other_pct", lang,
                                            limit=limit_text("working_days", rule.close_working_days, lang))),
    }


def _labels(metric, lang: str, rule) -> tuple[str, str]:
    """(short label on the tile, full label on hover): the rule in force names the promises' limits."""
    full = pick(metric.label_zh, metric.label_en, lang)
    short_rule, full_rule = promise_labels(rule, lang).get(metric.key, (None, None)) if rule is not None \
        else (None, None)
    try:
        short = t(f"vital.short.{metric.key}", lang)
    except KeyError:
        short = full if short_rule is None else short_rule
    return (short_rule or short), (full_rule or full)


def vital_tile(metric, lang: str, rule=None) -> html.Div:
    """One tile for one :class:`metrics.vitals.Metric`.

    Args:
        metric: any object with the ``Metric`` fields (key, labels, value, unit, target, status,
            baseline, change).
        lang: ``"zh"`` or ``"en"``.
        rule: the :class:`metrics.sla.SlaRule` in force; the promises' labels name its limits
            (``None``: the metric's own labels).
    """
    short, full = _labels(metric, lang, rule)
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
            html.Div(short, className="gp-vital-label", title=full),
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
                 keys: Sequence[str] = WALL_VITALS, rule=None) -> list[html.Div]:
    """The tiles of the strip: the index first, then ``keys`` in order (missing keys skipped).

    Returns a list (the children of the strip) so that the strip element itself, and with it
    the layout, never changes between refreshes.
    """
    by_key = {m.key: m for m in metrics}
    return [index_tile(index, index_status, lang)] + [vital_tile(by_key[k], lang, rule) for k in keys if k in by_key]
