"""How the briefing writes numbers: one function per kind, used by the findings and the tables alike.

A sentence and the table it points to print a number through the same function, so "97.3%" in a
finding is "97.3%" in the table below it (the tests read both back from the PDF).
"""

from __future__ import annotations

from dashboard.components.format import DASH, is_missing, number, value_parts

__all__ = ["count", "duration_h", "index", "measure", "pct", "signed_pct"]


def measure(value: float | None, unit: str, lang: str) -> str:
    """A vital sign's value with its unit: ``97.3%``, ``2,473 件`` / ``2,473 cases``, ``18 秒``."""
    num, unit_text = value_parts(value, unit, lang)
    if num == DASH:
        return DASH
    if unit == "%":
        return f"{num}%"
    sep = "" if lang == "zh" or unit_text.startswith("/") else " "
    return f"{num}{sep}{unit_text}".strip()


def pct(value: float | None) -> str:
    """A share: ``97.3%``; a dash when missing."""
    return DASH if is_missing(value) else f"{number(value, 1)}%"


def signed_pct(change: float | None) -> str:
    """A change already in percent (``received_by``'s ``change_pct``): ``+12.3%`` / ``−4.0%``; a dash when missing."""
    if is_missing(change):
        return DASH
    value = float(change)
    return f"{'+' if value > 0 else '−' if value < 0 else '±'}{abs(value):.1f}%"


def count(value: float | int | None) -> str:
    """A count: ``2,473``."""
    return number(value, 0)


def index(value: float | None) -> str:
    """The composite index: ``1.04``."""
    return number(value, 2)


def duration_h(hours: float | None, lang: str) -> str:
    """An overdue time: ``32.1 小时`` / ``32.1 h`` under two days, ``3 天 4 小时`` / ``3 d 4 h`` beyond."""
    if is_missing(hours):
        return DASH
    h = float(hours)
    if h < 48:
        return f"{h:.1f} 小时" if lang == "zh" else f"{h:.1f} h"
    days, rest = divmod(int(round(h)), 24)
    return f"{days} 天 {rest} 小时" if lang == "zh" else f"{days} d {rest} h"
