"""How numbers, changes, times and countdowns are written on the wall (pure functions).

One module so the wall, the analyst pages and the briefing round the same way, and so the
browser's countdown (``assets/wall.js``, ``fmtCountdown``) has one Python twin to match; the
tests check both give the same text.
"""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd

from dashboard.i18n import t

__all__ = ["DASH", "number", "value_parts", "change_text", "target_text", "countdown", "clock_time", "is_missing",
           "moment_text"]

DASH = "—"  # shown where there is nothing to measure; never a misleading 0


def is_missing(value: object) -> bool:
    """True for ``None`` and NaN (pandas gives NaN for SQL NULL in float columns)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value: float | int | None, decimals: int = 0) -> str:
    """A number with thousands separators and fixed decimals; :data:`DASH` when missing.

    >>> number(12345.678, 1)
    '12,345.7'
    """
    if is_missing(value):
        return DASH
    return f"{float(value):,.{decimals}f}"


# decimals per unit: counts are whole, shares and rates one decimal.
_DECIMALS = {"%": 1, "cases": 0, "s": 0, "h": 1, "per 10k": 1}


def value_parts(value: float | None, unit: str, lang: str) -> tuple[str, str]:
    """The number and unit text of a metric value, e.g. ``("97.3", "%")`` or ``("1,204", "件")``.

    Kept apart so the CSS can draw the unit smaller than the number.
    """
    if is_missing(value):
        return DASH, ""
    decimals = _DECIMALS.get(unit, 1)
    unit_key = f"unit.{unit}"
    try:
        unit_text = t(unit_key, lang)
    except KeyError:
        unit_text = unit
    return number(value, decimals), unit_text


def change_text(value: float | None, baseline: float | None, change: float | None, unit: str) -> str:
    """The change against the baseline with an arrow: points for shares, percent for the rest.

    A share moving from 95% to 97% is "+2 points", not "+2.1%": the relative change of a
    percentage misleads. Everything else shows the relative change the metric computed.

    >>> change_text(97.0, 95.0, 0.021, "%")
    '↑2.0 pt'
    >>> change_text(120, 100, 0.2, "cases")
    '↑20%'
    """
    if unit == "%":
        if is_missing(value) or is_missing(baseline):
            return ""
        diff = float(value) - float(baseline)
        return f"{_arrow(diff, 0.05)}{abs(diff):.1f} pt"
    if is_missing(change):
        return ""
    pct = 100 * float(change)
    return f"{_arrow(pct, 0.5)}{abs(pct):.0f}%"


def _arrow(delta: float, dead_band: float) -> str:
    if delta > dead_band:
        return "↑"
    if delta < -dead_band:
        return "↓"
    return "→"


def target_text(target: float | None, unit: str, lang: str, direction: str | None = None,
                compact: bool = False) -> str:
    """"目标 ≥95%" / "Goal ≤559": the target with the side that is good; empty without a target.

    ``compact`` drops the word (the wall's tiles: "● 正常 ≥95%" reads as status and target).

    >>> target_text(95.0, "%", "en", "higher"), target_text(559.4, "cases", "zh", "lower", compact=True)
    ('Goal ≥95%', '≤559件')
    """
    if is_missing(target):
        return ""
    num, unit_text = value_parts(target, unit, lang)
    if unit == "%" and num.endswith(".0"):
        num = num[:-2]
    sep = "" if unit in ("%",) or lang == "zh" else " "
    sign = {"higher": "≥", "lower": "≤"}.get(direction or "", "")
    value = f"{sign}{num}{sep}{unit_text}".strip()
    return value if compact and sign else t("vital.target", lang, value=value)


def countdown(seconds: float, day_word: str = "d") -> str:
    """A countdown as the wall shows it.

    ``mm:ss`` under an hour, ``h:mm:ss`` under a day, ``Nd hh:mm`` beyond (seconds do not matter
    days ahead, and the column stays narrow). The sign is not shown (overdue cases carry a "late"
    label instead).

    Must match ``fmtCountdown`` in ``assets/wall.js``, which keeps it ticking in the browser.

    >>> countdown(125)
    '02:05'
    >>> countdown(-3725)
    '1:02:05'
    >>> countdown(90061)
    '1d 01:01'
    """
    s = int(math.floor(abs(seconds)))
    days, rest = divmod(s, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}{day_word} {hours:02d}:{minutes:02d}"
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes:02d}:{secs:02d}"


def clock_time(moment: datetime | None, tz: str, with_date: bool = False) -> str:
    """A timestamp in the deployment's zone, ``HH:MM:SS`` (optionally ``MM-DD HH:MM:SS``)."""
    if moment is None:
        return DASH
    local = moment.astimezone(ZoneInfo(tz))
    return local.strftime("%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def moment_text(moment: pd.Timestamp, tz: str, end_of_day: bool = False) -> str:
    """A moment as ``YYYY-MM-DD HH:MM:SS`` in zone ``tz``.

    With ``end_of_day`` (a deadline), local midnight reads as the end of the day before, as the promise
    says it ("by the end of the 3rd working day"), not as the next day's first second.

    >>> moment_text(pd.Timestamp("2026-12-01T16:00:00Z"), "Asia/Shanghai", end_of_day=True)
    '2026-12-01 24:00'
    >>> moment_text(pd.Timestamp("2026-12-01T16:00:00Z"), "Asia/Shanghai")
    '2026-12-02 00:00:00'
    """
    local = moment.tz_convert(tz)
    if end_of_day and local == local.normalize():
        return f"{local - pd.Timedelta(days=1):%Y-%m-%d} 24:00"
    return local.strftime("%Y-%m-%d %H:%M:%S")
