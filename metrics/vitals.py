"""Vital signs: the district's pulse for any scope and window, scored against targets.

Modelled on Boston's CityScore: every measure is divided by its target (direction-adjusted, so
1.0 means on target and more is better), scores are coloured green / amber / red by the
thresholds in settings (``status_amber_below``, ``status_red_below``), and the composite index
is the mean of the scores. Each :class:`Metric` carries its definition in both languages, so the
wall, the analyst pages and the briefing say the same thing. Definitions, units and targets are
listed in ``docs/metrics.md``.

Targets: fixed service-level targets where the promise gives one (the share of cases accepted,
dispatched and closed in time, satisfaction, cameras online, staff on duty); for stock measures
with no natural target (open backlog, overdue cases, repeat reports) the target is the
baseline: "no worse than the same moment of the previous four weeks" (for the repeat rate over a window
longer than a week, the previous four periods of the window's length). Counts of reports
(received, per 10 000 residents) are shown with their change against the baseline but not scored:
more reports is not in itself better or worse.

Labels follow the rules in force: the measures tied to a promise (accept, dispatch, close) carry
that promise as data (:class:`Limit`, from :class:`~metrics.sla.SlaRules`), their labels and
definitions are filled in from it ("1分钟受理率" becomes "2分钟受理率" when ``sla_accept_seconds`` is
120), and the median targets are half the promise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import pandas as pd

from metrics import cache, queries
from metrics.scope import Scope, Window
from metrics.sla import SlaRule, SlaRules
from settings import Settings

__all__ = ["Limit", "Metric", "MetricSpec", "SPECS", "VitalSigns", "vital_signs", "vitals_trend", "limits", "score",
           "status_for", "past_end", "query_passes", "pass_step", "pass_step_us", "baseline_covered", "BASELINE_WEEKS", "LONG_WINDOW",
           "NOT_RECORDED", "SCORE_CAP", "TREND_KEYS"]

BASELINE_WEEKS = 4
# A score above this adds nothing to the index: one excellent measure must not hide a failing one.
SCORE_CAP = 1.2
# Staff on duty depends on the shift: 85% of the roster by day, 35% at night in the demo roster.
_DAY_SHIFT = (8, 20)  # local hours [8, 20) are the day shift


@dataclass(frozen=True)
class Limit:
    """The promise a vital sign measures against, as the SLA rules in force state it.

    The dashboard renders "1 分钟受理" / "≤ 5 min" from these numbers, never from literals.

    Attributes:
        stage: ``"accept"``, ``"dispatch"``, ``"close_urgent"`` or ``"close_other"``.
        value: the default rule's limit, in ``unit``.
        unit: ``"s"`` (accept, dispatch), ``"h"`` (urgent closure) or ``"working_days"`` (other closure).
        varies: some category in the scope has its own limit for this stage (a per-category
            override), so ``value`` is the limit of most cases, not of all.
        values: every limit in force for the stage in the scope (the default first, then the
            overrides' distinct values, ascending).
    """

    stage: str
    value: float
    unit: str
    varies: bool = False
    values: tuple[float, ...] = ()


# The stage each promise-bound measure is judged against, and how its target follows the limit.
_LIMIT_STAGE = {"accept_1min_pct": "accept", "dispatch_5min_pct": "dispatch",
                "close_on_time_urgent_pct": "close_urgent", "close_on_time_other_pct": "close_other",
                "median_accept_s": "accept", "median_dispatch_s": "dispatch"}
# Median targets are half the promise: room for the tail.
_HALF_THE_LIMIT = ("median_accept_s", "median_dispatch_s")
# The measures of a stage the source may not record, and the reason they then carry (Metric.reason).
NOT_RECORDED = {"accept": ("accept_1min_pct", "median_accept_s"),
                "dispatch": ("dispatch_5min_pct", "median_dispatch_s")}


def _rule_limit(rule: SlaRule, stage: str) -> tuple[float, str]:
    """One rule's limit for ``stage`` and its unit."""
    if stage == "accept":
        return float(rule.accept_seconds), "s"
    if stage == "dispatch":
        return float(rule.dispatch_seconds), "s"
    if stage == "close_urgent":
        return float(rule.urgent_close_hours), "h"
    return float(rule.close_working_days), "working_days"


def limits(rules: SlaRules, categories: set[str] | None = None) -> dict[str, Limit]:
    """The :class:`Limit` of each stage under ``rules``.

    Args:
        rules: the SLA rules in force.
        categories: the category ids whose overrides apply (the scope's categories and their
            sub-categories); ``None`` for every override.
    """
    out = {}
    for stage in ("accept", "dispatch", "close_urgent", "close_other"):
        value, unit = _rule_limit(rules.default, stage)
        others = sorted({_rule_limit(r, stage)[0] for c, r in rules.overrides.items()
                         if categories is None or c in categories} - {value})
        out[stage] = Limit(stage, value, unit, bool(others), (value, *others))
    return out


def _duration_text(value: float, unit: str) -> tuple[str, str]:
    """A limit as words in both languages: 60 s -> ("1分钟", "1 min"), 24 h -> ("24小时", "24 h")."""
    def num(x: float) -> str:
        return f"{x:g}"
    if unit == "working_days":
        return f"{num(value)}个工作日", f"{num(value)} working day{'s' if value != 1 else ''}"
    if unit == "h":
        return f"{num(value)}小时", f"{num(value)} h"
    if value >= 60 and value % 60 == 0:
        return f"{num(value / 60)}分钟", f"{num(value / 60)} min"
    return f"{num(value)}秒", f"{num(value)} s"


def _ordinal_en(n: float) -> str:
    """1 -> "1st", 3 -> "3rd", 11 -> "11th" (the "n-th working day" of the definitions)."""
    k = int(n)
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


@dataclass(frozen=True)
class MetricSpec:
    """What a vital sign is: names, unit, direction, fixed target and definition.

    ``target`` is ``None`` when the target is the baseline (``target_is_baseline``) or when the
    measure is not scored at all. Labels and definitions of promise-bound measures are templates
    filled from the rules in force (:func:`_spec_in_force`): ``{zh}``/``{en}`` the limit in words,
    ``{n}``/``{nth}`` the working days.
    """

    key: str
    label_zh: str
    label_en: str
    unit: str
    direction: str  # "higher" or "lower" is better
    target: float | None
    definition_zh: str
    definition_en: str
    target_is_baseline: bool = False
    scored: bool = True


SPECS: tuple[MetricSpec, ...] = (
    MetricSpec("received", "受理量", "Cases received", "cases", "lower", None,
               "窗口内接收的事件数；基线为此前 4 周同一时段的平均值（超过 7 天的窗口：此前 4 个同长时段）。不评分。",
               "Cases received in the window; baseline: mean of the same window in each of the 4 previous weeks "
               "(windows over a week: the 4 previous periods of its length). Not scored.", scored=False),
    MetricSpec("accept_1min_pct", "{zh}受理率", "Accepted within {en}", "%", "higher", 95.0,
               "受理时限在窗口内到期的事件中，按时受理（{zh}内）的比例。",
               "Of cases whose acceptance deadline ({en} after receipt) fell in the window, the share "
               "accepted by it."),
    MetricSpec("dispatch_5min_pct", "{zh}派遣率", "Dispatched within {en}", "%", "higher", 95.0,
               "需派遣且派遣时限在窗口内到期的事件中，按时派遣（{zh}内）的比例。",
               "Of cases needing a crew whose dispatch deadline ({en} after receipt) fell in the window, "
               "the share dispatched by it."),
    MetricSpec("close_on_time_urgent_pct", "紧急件按时办结率", "Urgent cases closed on time", "%", "higher", 95.0,
               "紧急事件中办结时限（{zh}）在窗口内到期者，按时办结的比例；逾期未结计为超时。",
               "Of urgent cases whose closure deadline ({en}) fell in the window, the share closed by it; "
               "still open counts as late."),
    MetricSpec("close_on_time_other_pct", "一般件按时办结率", "Other cases closed on time", "%", "higher", 90.0,
               "一般事件中办结时限（受理日后第 {n} 个工作日末）在窗口内到期者，按时办结的比例。",
               "Of other cases whose closure deadline (end of the {nth} working day after receipt) fell in the "
               "window, the share closed by it."),
    MetricSpec("open_backlog", "在办积压", "Open backlog", "cases", "lower", None,
               "截至此刻尚未办结或撤销的事件数；目标为此前 4 周同一时刻的平均值（与所选时间窗口无关）。",
               "Cases open at the as-of time (received, not yet closed or cancelled); target: the mean at the same "
               "moment of the 4 previous weeks (whatever the window).", target_is_baseline=True),
    MetricSpec("overdue_open", "超期在办", "Overdue open cases", "cases", "lower", None,
               "截至此刻尚未办结且已超过办结时限的事件数；目标为此前 4 周同一时刻的平均值（与所选时间窗口无关）。",
               "Open cases past their closure deadline at the as-of time; target: the mean at the same moment of the "
               "4 previous weeks (whatever the window).", target_is_baseline=True),
    MetricSpec("median_accept_s", "受理用时中位数", "Median time to accept", "s", "lower", None,
               "窗口内受理的事件，从接收到受理用时的中位数（秒）。目标为时限（{zh}）的一半，给长尾留出余地。",
               "Median seconds from receipt to acceptance, over cases accepted in the window. Target: half the "
               "promise ({en}), leaving room for the tail."),
    MetricSpec("median_dispatch_s", "派遣用时中位数", "Median time to dispatch", "s", "lower", None,
               "窗口内派遣的事件，从接收到派遣用时的中位数（秒）。目标为时限（{zh}）的一半。",
               "Median seconds from receipt to dispatch, over cases dispatched in the window. Target: half the "
               "promise ({en})."),
    MetricSpec("median_close_h", "办结用时中位数", "Median time to close", "h", "lower", 24.0,
               "窗口内办结（不含撤销）的事件，从接收到办结用时的中位数（小时）。",
               "Median hours from receipt to closure, over cases closed (not cancelled) in the window."),
    MetricSpec("satisfaction_pct", "满意率", "Satisfaction", "%", "higher", 90.0,
               "窗口内办结且有评价的事件中，评价 4 或 5 分（满分 5）的比例。",
               "Of cases closed in the window and rated, the share rated 4 or 5 (of 5)."),
    MetricSpec("repeat_rate_pct", "重复报件率", "Repeat reports", "%", "lower", None,
               "窗口内接收的事件中，同一微网格同一类别在此前 7 天内已有报件的比例；目标为基线水平（此前 4 周同一时段；"
               "超过 7 天的窗口：此前 4 个同长时段）。",
               "Of cases received in the window, the share with an earlier report of the same category in the same "
               "micro-grid within the 7 days before; target: its baseline (the same window in the 4 previous weeks; "
               "windows over a week: the 4 previous periods).",
               target_is_baseline=True),
    MetricSpec("per_10k", "万人报件数", "Cases per 10,000 residents", "per 10k", "lower", None,
               "窗口内接收的事件数 ÷ 常住人口 × 10 000。不评分。",
               "Cases received in the window per 10,000 residents of the area. Not scored.", scored=False),
    MetricSpec("cameras_online_pct", "摄像头在线率", "Cameras online", "%", "higher", 98.0,
               "区域内摄像头当前在线的比例（资产表为当前状态）。",
               "Share of the area's cameras online now (the assets table holds the current state)."),
    MetricSpec("staff_on_duty_pct", "人员在岗率", "Staff on duty", "%", "higher", 80.0,
               "区域内网格员/工作人员当前在岗（空闲或处置中）的比例；目标按班次：白班(8–20时) 80%，夜班 30%。",
               "Share of the area's grid workers and staff on duty now (available or on a case); target by shift: "
               "80% on the day shift (08–20), 30% at night."),
)
_SPEC_BY_KEY = {s.key: s for s in SPECS}
_NIGHT_STAFF_TARGET = 30.0


@dataclass(frozen=True)
class Metric:
    """One vital sign: a number with its meaning, target and verdict (data, not markup).

    Attributes:
        key: stable identifier (see :data:`SPECS`).
        label_zh: short label in Chinese.
        label_en: short label in English.
        value: the measure, ``None`` when nothing was there to measure (no cases in the window).
        unit: ``"%"``, ``"cases"``, ``"s"``, ``"h"`` or ``"per 10k"``.
        target: the target value, ``None`` when the measure is not scored.
        direction: ``"higher"`` or ``"lower"`` is better.
        score: value against target, direction-adjusted (1.0 = on target, capped at
            :data:`SCORE_CAP`); ``None`` when not scored or not measurable.
        status: ``"green"``, ``"amber"``, ``"red"`` or ``"none"``.
        baseline: the mean of the same measure over the baseline windows (the same window in the
            previous 4 weeks, or the 4 previous periods of a window over a week; ``docs/metrics.md``).
        change: relative change against the baseline (0.25 = 25% above); ``None`` without one.
        definition_zh: the definition in Chinese.
        definition_en: the definition in English.
        limit: the promise the measure is judged against (accept, dispatch and closure rates and
            the accept and dispatch medians), from the SLA rules in force; ``None`` for the others.
        reason: why the measure has no value even though cases exist, as a code the dashboard
            words: ``"accept_not_recorded"`` / ``"dispatch_not_recorded"`` when the source records
            no acceptance (dispatch) time at all (see :data:`NOT_RECORDED`); ``None`` otherwise.
    """

    key: str
    label_zh: str
    label_en: str
    value: float | None
    unit: str
    target: float | None
    direction: str
    score: float | None
    status: str
    baseline: float | None
    change: float | None
    definition_zh: str
    definition_en: str
    limit: Limit | None = None
    reason: str | None = None


@dataclass(frozen=True)
class VitalSigns:
    """All vital signs of a scope and window at an "as of" time, and their composite index.

    Attributes:
        scope: the scope measured.
        window: the window measured.
        as_of: the "as of" time (``now``), in the deployment zone.
        metrics: the measures, in :data:`SPECS` order.
        index: the mean of the scores (1.0 = every measure on target), ``None`` without scores.
        index_status: the index's colour by the same thresholds as a single score.
    """

    scope: Scope
    window: Window
    as_of: datetime
    metrics: tuple[Metric, ...]
    index: float | None
    index_status: str

    def by_key(self) -> dict[str, Metric]:
        """The metrics keyed by :attr:`Metric.key`."""
        return {m.key: m for m in self.metrics}


def score(value: float | None, target: float | None, direction: str) -> float | None:
    """How a value compares with its target: 1.0 on target, above 1 better, capped at :data:`SCORE_CAP`.

    Higher-is-better measures score ``value / target``; lower-is-better ones ``target / value``
    (a zero value meets any target). ``None`` when either side is unknown.
    """
    if value is None or target is None or _nan(value) or _nan(target):
        return None
    if direction == "higher":
        raw = value / target if target > 0 else 1.0
    else:
        if value <= 0:
            raw = 1.0 if target >= 0 else 0.0
        else:
            raw = target / value
    return min(max(raw, 0.0), SCORE_CAP)


def status_for(s: float | None, settings: Settings) -> str:
    """Green at or above ``status_amber_below``, amber down to ``status_red_below``, red below; none without a score."""
    if s is None:
        return "none"
    if s >= settings.status_amber_below:
        return "green"
    if s >= settings.status_red_below:
        return "amber"
    return "red"


def _nan(x: float) -> bool:
    return isinstance(x, float) and math.isnan(x)


def _num(x: Any) -> float | None:
    """A float from a DuckDB/pandas scalar, ``None`` for NULL/NaN."""
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _pct(num: Any, den: Any) -> float | None:
    n, d = _num(num), _num(den)
    if n is None or not d:
        return None
    return 100.0 * n / d


def _mean(values: list[float | None]) -> float | None:
    """Mean of the known values (a week with nothing to measure does not count as zero)."""
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


# Baseline windows end at the last multiple of this before the as-of time, so the baseline of a
# scope and window is the same for every request in that quarter hour and is computed once.
BASELINE_QUANTUM = timedelta(minutes=15)
# Windows longer than this remember their past per local day instead (see past_end).
LONG_WINDOW = timedelta(days=7)
_COUNT_KEYS = ("received", "per_10k")


def window_params(ctx: queries.QueryContext, windows: list[tuple[datetime, datetime]]) -> dict[str, Any]:
    """Parameters of ``vitals_windows.sql`` for the windows of one pass (:func:`query_passes`), newest first.

    ``ws<k>``/``we<k>``: window k; ``rlo<k>``: the earliest receipt whose acceptance or dispatch
    deadline can fall in it; ``ulo/uhi``, ``nlo/nhi``: the urgent and other receipts whose
    closure deadline can. Unused slots get empty ranges. ``step_us``: :func:`pass_step_us`;
    ``n``: the last slot used.
    """
    out: dict[str, Any] = {"step_us": pass_step_us(windows), "n": len(windows) - 1}
    empty = windows[0][0]
    for k in range(5):
        if k < len(windows):
            ws, we = windows[k]
            (ulo, uhi), (nlo, nhi) = ctx.close_receipt_ranges(ws, we)
            rlo = ws - ctx.ad_lead
        else:
            ws = we = ulo = uhi = nlo = nhi = rlo = empty
        out.update({f"ws{k}": ws, f"we{k}": we, f"rlo{k}": rlo, f"ulo{k}": ulo, f"uhi{k}": uhi,
                    f"nlo{k}": nlo, f"nhi{k}": nhi})
    return out


def _measures(ctx: queries.QueryContext, scope: Scope, windows: list[tuple[datetime, datetime]]
              ) -> list[dict[str, Any]]:
    """The raw counts and medians of each window, plus open/overdue cases at each window's end.

    Windows are read in passes (:func:`query_passes`): up to five of one length a fixed step apart share
    one ``vitals_windows`` and one ``open_counts`` query (a short window's weeks, a trend's equal
    windows one after another); the others are read one at a time. ``windows`` come newest first.
    """
    return [m for group in query_passes(windows) for m in _measure_group(ctx, scope, group)]


def query_passes(windows: list[tuple[datetime, datetime]]) -> list[list[tuple[datetime, datetime]]]:
    """``windows`` (newest first) cut into the groups one query pass reads, in the same order.

    A group is up to five windows (the slots of ``vitals_windows.sql`` and ``open_counts.sql``) of
    one length, each the same step earlier than the one before, the step at least the length: no
    two overlap, so each case counts in one slot (``win_k``). A week's baselines (a week apart) and
    a trend's windows (one length apart) qualify; the baselines of a 30-day window (a week apart,
    30 days long) overlap and are read one by one.
    """
    groups: list[list[tuple[datetime, datetime]]] = []
    for w in windows:
        group = groups[-1] if groups else None
        if group is not None and len(group) < 5 and _follows(group, w):
            group.append(w)
        else:
            groups.append([w])
    return groups


def _follows(group: list[tuple[datetime, datetime]], w: tuple[datetime, datetime]) -> bool:
    """Whether ``w`` is the next slot of ``group``: as long, and one step earlier (see :func:`query_passes`).

    Lengths and steps are elapsed time (:func:`_elapsed`), as the queries count them: a day when the
    clocks change is 23 or 25 hours long and reads in a pass of its own.
    """
    length = _elapsed(*group[0])
    step = _elapsed(w[0], group[-1][0])
    if _elapsed(*w) != length or step <= timedelta(0) or step < length:
        return False
    return len(group) == 1 or step == pass_step(group)


def pass_step(group: list[tuple[datetime, datetime]]) -> timedelta | None:
    """The elapsed time from one window of a pass to the next (``None`` for a pass of one window)."""
    return _elapsed(group[1][0], group[0][0]) if len(group) > 1 else None


def pass_step_us(group: list[tuple[datetime, datetime]]) -> int:
    """:func:`pass_step` in whole microseconds, the queries' ``$step_us``; one window: a step beyond any window."""
    step = pass_step(group)
    return _us(step) if step is not None else 10**18


def _elapsed(a: datetime, b: datetime) -> timedelta:
    """Elapsed time from ``a`` to ``b``.

    Python subtracts two times of one zone on the wall clock (a day across a clock change is 24 h
    there), while the queries' arithmetic is on the epoch.
    """
    return b.astimezone(UTC) - a.astimezone(UTC)


def _measure_group(ctx: queries.QueryContext, scope: Scope, windows: list[tuple[datetime, datetime]]
                   ) -> list[dict[str, Any]]:
    """:func:`_measures` of one pass: a window, or up to five of one length a step apart (newest first)."""
    if not windows:
        return []
    # slots run back in time from the group's first (latest) window
    stats = ctx.run("vitals_windows", window_params(ctx, windows), scope=scope, slots=len(windows)).to_dict("records")
    if len(windows) == 1 and windows[0][1] == ctx.now:  # open now: shared with the other metrics of the refresh
        o = ctx.open_now(scope)
        opens = [(int(o["open"].sum()), int(o["overdue"].sum()))]
    else:  # the windows' ends, a step apart: one pass (open_counts.sql)
        opens = _open_at_ends(ctx, scope, windows)
    return [{**st, "open": op[0], "overdue": op[1]} for st, op in zip(stats, opens, strict=True)]


def _open_at_ends(ctx: queries.QueryContext, scope: Scope, windows: list[tuple[datetime, datetime]]
                  ) -> list[tuple[int, int]]:
    """Open and overdue cases at the end of each window of one pass (``open_counts.sql``)."""
    o = ctx.run("open_counts", {"t0": windows[0][1], "tn": windows[-1][1], "step_us": pass_step_us(windows),
                                "min_due_us": _us(ctx.min_due)}, scope=scope).iloc[0]
    return [(int(o[f"open{k}"]), int(o[f"overdue{k}"])) for k in range(len(windows))]


def _stock_baseline(ctx: queries.QueryContext, scope: Scope, end: datetime, weeks: int
                    ) -> dict[str, float | None]:
    """Baselines of the open backlog and the overdue cases, the same for every window ending at ``end``.

    They are counted at ``end`` (now), not over the window, so their baseline is the same moment of
    the ``weeks`` previous weeks whatever the window: the moments a week's baselines end at (the
    quarter hour, :func:`baseline_windows`), those the data covers. A 30-day window's own periods end
    at midnight 30, 60 ... days ago, and "overdue now against overdue at midnight a month ago" turned
    a tile red when nothing had changed but the window. Remembered per warehouse, like the windows.
    """
    windows = baseline_covered(baseline_windows(end - LONG_WINDOW, end, weeks), ctx.facts.first_day)

    def compute() -> list[tuple[int, int]]:
        return [op for group in query_passes(windows) for op in _open_at_ends(ctx, scope, group)]

    opens = cache.memo(ctx, ("vitals_stock", scope, tuple(windows), ctx.tables.sla_key), compute)
    return {"open_backlog": _mean([float(o) for o, _ in opens]), "overdue_open": _mean([float(d) for _, d in opens])}


def _us(delta: timedelta) -> int:
    """A duration in whole microseconds (exact: no detour through float seconds)."""
    return delta // timedelta(microseconds=1)


def _values(m: dict[str, Any], residents: float | None) -> dict[str, float | None]:
    """The vital-sign values of one window from its raw measures."""
    received = float(m["received"])
    return {
        "received": received,
        "accept_1min_pct": _pct(m["accept_met"], m["accept_n"]),
        "dispatch_5min_pct": _pct(m["dispatch_met"], m["dispatch_n"]),
        "close_on_time_urgent_pct": _pct(m["urgent_met"], m["urgent_n"]),
        "close_on_time_other_pct": _pct(m["other_met"], m["other_n"]),
        "open_backlog": float(m["open"]),
        "overdue_open": float(m["overdue"]),
        "median_accept_s": _num(m["median_accept_s"]),
        "median_dispatch_s": _num(m["median_dispatch_s"]),
        "median_close_h": _num(m["median_close_h"]),
        "satisfaction_pct": _pct(m["satisfied"], m["rated"]),
        "repeat_rate_pct": _pct(m["repeats"], m["received"]),
        "per_10k": 10_000 * received / residents if residents else None,
    }


def baseline_windows(start: datetime, end: datetime, weeks: int = 4) -> list[tuple[datetime, datetime]]:
    """The baseline windows of ``[start, end)``.

    Up to a week long (``today``, ``7d``, this week ...): the same window 1..weeks weeks earlier (the
    same weekday and hours), start and end rounded down to :data:`BASELINE_QUANTUM` (unless that would
    leave less than a quantum), so every request in a quarter hour shares one cached baseline (a
    rolling ``7d`` window's start moves with "now": unrounded, no two requests shared one); counts
    measured over the other length are scaled by the ratio of lengths (see :func:`vital_signs`).

    Longer (``30d``, ``90d``, long custom windows): the ``weeks`` windows of the same length before it,
    one after another, ending at the local midnight before ``end`` (:func:`past_end`) - the four
    newest earlier points of its trend (:func:`vitals_trend`), read once a day and shared with it. The same window a
    week earlier was most of the window itself (23 of 30 days, 83 of 90), so its change hardly moved,
    and four overlapping windows cost four passes over the events where the trend's windows share
    passes (``docs/decisions.md``, "Baselines of long windows").
    """
    if end - start > LONG_WINDOW:
        q_end = past_end(start, end)
        length = end - start
        step = timedelta(days=max(1, math.ceil(length.total_seconds() / 86_400)))  # as Window.step
        return [(q_end - length - k * step, q_end - k * step) for k in range(1, weeks + 1)]
    q_start, q_end = _quarter(start), past_end(start, end)
    if (q_end - q_start).total_seconds() < BASELINE_QUANTUM.total_seconds():
        q_start, q_end = start, end
    return [(q_start - timedelta(weeks=k), q_end - timedelta(weeks=k)) for k in range(1, weeks + 1)]


def _quarter(t: datetime) -> datetime:
    """``t`` rounded down to :data:`BASELINE_QUANTUM` (midnight and Monday starts stay where they are).

    Rounded on the epoch and put back in ``t``'s zone: rounding local time fails in the hour a clock
    change repeats (pandas cannot tell which 01:30 is meant). Zones are whole quarter hours off UTC.
    """
    return pd.Timestamp(t).tz_convert("UTC").floor(f"{int(BASELINE_QUANTUM.total_seconds())}s").tz_convert(
        t.tzinfo).to_pydatetime()


def baseline_covered(windows: list[tuple[datetime, datetime]], first_day: date | None
                     ) -> list[tuple[datetime, datetime]]:
    """The baseline ``windows`` the data covers: those starting on or after its first day.

    A week (or period) before the data begins is no baseline, not a week of zeros: a deployment that
    started loading cases a fortnight ago has two baseline weeks, and its changes say so.
    """
    return [w for w in windows if first_day is not None and w[0].date() >= first_day]


def past_end(start: datetime, end: datetime) -> datetime:
    """Where the windows of the past (baselines, trends) of ``[start, end)`` end, for their cache key.

    The quarter hour before ``end`` for windows up to :data:`LONG_WINDOW`; the local midnight
    before ``end`` (``end`` itself when that is midnight) for longer ones: a day of a 30- or 90-day
    window is 1-3% of it, and the past of a long window is then read once a day instead of every
    quarter hour. ``end`` is a local time (in the deployment zone).
    """
    if end - start > LONG_WINDOW:
        return datetime(end.year, end.month, end.day, tzinfo=end.tzinfo)
    return _quarter(end)


def _change(value: float | None, baseline: float | None) -> float | None:
    if value is None or baseline is None or baseline == 0:
        return None
    return value / baseline - 1.0


def vital_signs(con: duckdb.DuckDBPyConnection, scope: Scope, window: Window, now: datetime,
                settings: Settings) -> VitalSigns:
    """Compute every vital sign of ``scope`` over ``window`` as of ``now``.

    The current window costs four small queries (window measures with repeat reports, open and
    overdue cases at ``now``, resources, the area's residents). The baseline (:func:`baseline_windows`:
    the same window in each of the 4 previous weeks, ending at the quarter hour; for windows over a
    week, the 4 periods of its length before local midnight) is computed in one pass per query and
    remembered per warehouse, so it is paid once per quarter hour (or day), scope and window.

    Args:
        con: a cursor on a snapshot.
        scope: area and filters.
        window: the time window; its end is clipped to ``now`` (nothing after ``now`` is seen).
        now: the "as of" time (timezone-aware). Never the wall clock inside a metric: tests and
            the briefing pass a fixed time.
        settings: deployment settings (zone, SLA rules, status thresholds).

    Returns:
        The vital signs with scores, statuses and the composite index.
    """
    ctx = queries.prepare(con, now, settings)
    weeks = BASELINE_WEEKS
    start = ctx.local(window.start)
    end = min(ctx.local(window.end), ctx.now)
    start = min(start, end)
    info = ctx.reference("area_info", {"area_id": scope.area_id})
    residents = _num(info.iloc[0]["residents"]) if len(info) else None
    current = _values(_current(ctx, scope, start, end), residents)
    past_windows = baseline_covered(baseline_windows(start, end, weeks), ctx.facts.first_day)
    past = _past_measures(ctx, scope, past_windows)
    length = (end - start).total_seconds()
    values: dict[str, tuple[float | None, float | None]] = {}
    for key, value in current.items():
        weekly = []
        for (ws, we), m in zip(past_windows, past, strict=True):
            v = _values(m, residents)[key]
            span = (we - ws).total_seconds()
            if key in _COUNT_KEYS and v is not None and span > 0:
                v *= length / span  # the baseline window may end up to a quantum earlier
            weekly.append(v)
        values[key] = (value, _mean(weekly))
    if end - start > LONG_WINDOW:  # a week's windows end at the same moments: their ends are the stocks' own
        for key, baseline in _stock_baseline(ctx, scope, end, weeks).items():
            values[key] = (values[key][0], baseline)
    res = ctx.run("vitals_resources", {"departments": list(scope.departments)}, scope=scope).iloc[0]
    values["cameras_online_pct"] = (_pct(res["cameras_online"], res["cameras"]), None)
    values["staff_on_duty_pct"] = (_pct(res["staff_on_duty"], res["staff"]), None)
    in_force = limits(ctx.rules, _scope_categories(ctx, scope))
    # a stage the source does not record has nothing to measure: no value, no score (so the index
    # averages what is measured), and a reason the tile can say
    reasons = {key: f"{stage}_not_recorded" for stage, keys in NOT_RECORDED.items()
               if not ctx.facts.recorded(stage) for key in keys}
    metrics = []
    for base in SPECS:
        limit = in_force[_LIMIT_STAGE[base.key]] if base.key in _LIMIT_STAGE else None
        spec = _spec_in_force(base, limit)
        value, baseline = values[spec.key] if spec.key not in reasons else (None, None)
        metrics.append(_metric(spec, value, baseline, _target(spec, baseline, ctx.now), settings, limit,
                               reasons.get(spec.key)))
    scores = [m.score for m in metrics if m.score is not None]
    index = sum(scores) / len(scores) if scores else None
    return VitalSigns(scope, Window(start, end, window.key), ctx.now, tuple(metrics), index, status_for(index, settings))


def _current(ctx: queries.QueryContext, scope: Scope, start: datetime, end: datetime) -> dict[str, Any]:
    """The raw measures of ``[start, end)``, shared by :func:`vital_signs` and :func:`vitals_trend` of one view.

    Remembered for the snapshot (and ``now``): the overview's vitals panel asks for both, and the
    current window of a 90-day view costs about 0.7 s at 10 million cases.
    """
    return cache.memo(ctx, ("vitals_current", scope, start, end, ctx.now, ctx.tables.sla_key),
                      lambda: _measures(ctx, scope, [(start, end)])[0], per_snapshot=True)


class _Missing(Exception):  # noqa: N818 - a signal, not an error
    """Raised by :func:`_remembered` to look a memo up without computing it."""


def _remembered(ctx: queries.QueryContext, key: tuple) -> Any:
    """What :func:`metrics.cache.memo` holds under ``key`` for this warehouse, ``None`` if nothing."""
    def missing() -> Any:
        raise _Missing
    try:
        return cache.memo(ctx, key, missing)
    except _Missing:
        return None


def _past_measures(ctx: queries.QueryContext, scope: Scope, windows: list[tuple[datetime, datetime]]
                   ) -> list[dict[str, Any]]:
    """The raw measures of windows of the past, each remembered per warehouse on its own.

    Shared by the baselines and the trends: a ``7d`` trend's earlier weeks are the baseline's
    weeks, a ``today`` trend's day a week ago is the first baseline day. The windows not yet
    remembered are read together (newest first, so windows a step apart share a pass: :func:`query_passes`).
    """
    def key(w: tuple[datetime, datetime]) -> tuple:
        return ("vitals_past", scope, w, ctx.tables.sla_key)

    have = {w: _remembered(ctx, key(w)) for w in windows}
    todo = sorted((w for w in windows if have[w] is None), reverse=True)
    for w, m in zip(todo, _measures(ctx, scope, todo), strict=True):
        have[w] = cache.memo(ctx, key(w), lambda m=m: m)
    return [have[w] for w in windows]


def _scope_categories(ctx: queries.QueryContext, scope: Scope) -> set[str] | None:
    """The category ids a scope's category filter covers (with sub-categories); ``None`` without a filter."""
    if not scope.categories or not ctx.rules.overrides:
        return None
    wanted = set(scope.categories)
    cats = ctx.reference("ref_categories")
    return wanted | set(cats.loc[cats["parent_id"].isin(wanted), "category_id"])


def _spec_in_force(spec: MetricSpec, limit: Limit | None) -> MetricSpec:
    """``spec`` with its label and definition filled from ``limit``, and a median's target half of it."""
    if limit is None:
        return spec
    zh, en = _duration_text(limit.value, limit.unit)
    words = {"zh": zh, "en": en, "n": f"{limit.value:g}", "nth": _ordinal_en(limit.value)}
    filled = replace(spec, label_zh=spec.label_zh.format(**words), label_en=spec.label_en.format(**words),
                     definition_zh=spec.definition_zh.format(**words),
                     definition_en=spec.definition_en.format(**words))
    if spec.key in _HALF_THE_LIMIT:
        filled = replace(filled, target=limit.value / 2)
    return filled


def _target(spec: MetricSpec, baseline: float | None, now: datetime) -> float | None:
    """The target in force for ``spec`` at ``now``."""
    if not spec.scored:
        return None
    if spec.target_is_baseline:
        return baseline
    if spec.key == "staff_on_duty_pct" and not (_DAY_SHIFT[0] <= now.hour < _DAY_SHIFT[1]):
        return _NIGHT_STAFF_TARGET
    return spec.target


def _metric(spec: MetricSpec, value: float | None, baseline: float | None, target: float | None,
            settings: Settings, limit: Limit | None, reason: str | None = None) -> Metric:
    s = score(value, target, spec.direction) if spec.scored else None
    return Metric(
        key=spec.key, label_zh=spec.label_zh, label_en=spec.label_en, value=value, unit=spec.unit, target=target,
        direction=spec.direction, score=s, status=status_for(s, settings), baseline=baseline,
        change=_change(value, baseline), definition_zh=spec.definition_zh, definition_en=spec.definition_en,
        limit=limit, reason=reason,
    )


def spec(key: str, rules: SlaRules | None = None) -> MetricSpec:
    """The :class:`MetricSpec` of ``key``; with ``rules``, its label, definition and target under them."""
    base = _SPEC_BY_KEY[key]
    if rules is None or key not in _LIMIT_STAGE:
        return base
    return _spec_in_force(base, limits(rules)[_LIMIT_STAGE[key]])


# The vital signs a trend (the analyst overview's sparklines) follows: those measured from cases.
TREND_KEYS = ("received", "accept_1min_pct", "dispatch_5min_pct", "close_on_time_urgent_pct",
              "close_on_time_other_pct", "open_backlog", "overdue_open", "median_accept_s", "median_dispatch_s",
              "median_close_h", "satisfaction_pct", "repeat_rate_pct", "per_10k")


def vitals_trend(con: duckdb.DuckDBPyConnection, scope: Scope, window: Window, now: datetime, settings: Settings,
                 n: int = 8) -> pd.DataFrame:
    """The case-based vital signs of ``window`` and of the ``n`` equal windows before it, oldest first.

    The windows are those of :meth:`Window.previous` (yesterday up to the same time for ``today``,
    the week before for a week, the 30 days before for ``30d`` ...). The past windows end where
    :func:`past_end` says (the quarter hour; for windows longer than a week, the local midnight,
    keeping the window's length) and are remembered per warehouse, so a page reads them once per
    quarter hour (long windows: once a day); windows that begin before the data are not read at
    all (their row is NaN). The last row is the current window, up to ``now``, with the same
    values :func:`vital_signs` gives for it (computed once for both).

    Returns:
        One row per window: ``start``, ``end`` (local times) and a column per key of
        :data:`TREND_KEYS` (NaN where there was nothing to measure, or the stage is not recorded).
    """
    ctx = queries.prepare(con, now, settings)
    end = min(ctx.local(window.end), ctx.now)
    start = min(ctx.local(window.start), end)
    current = Window(start, end, window.key)
    info = ctx.reference("area_info", {"area_id": scope.area_id})
    residents = _num(info.iloc[0]["residents"]) if len(info) else None
    q_end = past_end(start, end)
    if end - start > LONG_WINDOW:  # same length, ending at local midnight: read once a day
        anchor = Window(q_end - (end - start), q_end, window.key)
    else:  # today from midnight, 7d from the quarter hour: both ending on the quarter hour
        anchor = Window(_quarter(start), max(q_end, _quarter(start)), window.key)
    past = [(w.start, w.end) for w in reversed(anchor.previous(n))]
    first_day = ctx.facts.first_day
    # a window the data only partly covers is no point of the trend: not even read
    covered = [w for w in past if first_day is not None and w[0].date() >= first_day]
    by_window = dict(zip(covered, _past_measures(ctx, scope, covered), strict=True))
    now_m = _current(ctx, scope, start, end)
    skip = {key for stage, keys in NOT_RECORDED.items() if not ctx.facts.recorded(stage) for key in keys}
    rows = []
    for (ws, we), m in [*((w, by_window.get(w)) for w in past), ((current.start, current.end), now_m)]:
        before_data = first_day is None or ws.date() < first_day  # a window the data only partly covers
        values = _values(m, residents) if m is not None and not before_data else {}
        rows.append({"start": ws, "end": we, **{k: (None if k in skip or before_data else values[k])
                                                for k in TREND_KEYS}})
    return pd.DataFrame(rows).astype({k: float for k in TREND_KEYS})
