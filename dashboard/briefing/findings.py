"""Three to five sentences of findings, written from the briefing's numbers (pure: no query, no markup).

Each sentence names numbers that a table of the briefing shows, printed by the same functions
(``numbers.py``): the volume against the previous week and the 4-week norm (the vital signs
table), the measure that changed most (the same table), the area with the lowest composite index
(the areas side by side), the biggest surge (the surges table) and the best and worst department
by closure on time (the ranked departments).
"""

from __future__ import annotations

import math

from dashboard.briefing import numbers
from dashboard.briefing.model import Briefing
from dashboard.briefing.text import tr
from dashboard.i18n import level_name, pick
from metrics.vitals import Metric

__all__ = ["findings", "department_ranking", "MIN_JUDGED"]

# A department is ranked on closure only with this many closure deadlines in the week: 2 of 2 on
# time is not "the best department".
MIN_JUDGED = 10


def _ok(x: float | None) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def department_ranking(b: Briefing):
    """The departments with at least :data:`MIN_JUDGED` closure deadlines, best closure on time first.

    Returns:
        The rows of ``b.departments.rows`` with a ``close_all_pct`` column (urgent and other closures
        together), sorted by it (then by volume); the rest follow unranked with NaN.
    """
    rows = b.departments.rows.copy()
    judged = rows["urgent_n"].fillna(0) + rows["other_n"].fillna(0)
    met = rows["urgent_met"].fillna(0) + rows["other_met"].fillna(0)
    rows["close_judged"] = judged
    rows["close_all_pct"] = (100.0 * met / judged.where(judged >= MIN_JUDGED)).astype(float)
    return rows.sort_values(["close_all_pct", "received", "key"], ascending=[False, False, True], na_position="last")


def _volume(b: Briefing, lang: str) -> str:
    now = b.vitals.by_key()["received"]
    n, norm = now.value or 0, numbers.count(now.baseline)
    if b.previous is None:
        return tr("f.volume_first", lang, n=numbers.count(n))
    p = b.previous.by_key()["received"].value or 0
    if p == 0 or n == p:
        return tr("f.volume_flat", lang, n=numbers.count(n), prev=numbers.count(p), norm=norm)
    change = 100.0 * (n - p) / p
    return tr("f.volume", lang, n=numbers.count(n), prev=numbers.count(p), norm=norm,
              pct=numbers.pct(abs(change)), dir=tr("f.more" if change > 0 else "f.fewer", lang))


def _label(m: Metric, lang: str) -> str:
    return pick(m.label_zh, m.label_en, lang)


def _largest_change(b: Briefing, lang: str) -> str | None:
    """The scored measure whose score moved most against the previous week."""
    if b.previous is None:
        return None
    prev = b.previous.by_key()
    best, best_move = None, 0.0
    for m in b.vitals.metrics:
        p = prev.get(m.key)
        if p is None or not (_ok(m.score) and _ok(p.score)) or m.key in ("cameras_online_pct", "staff_on_duty_pct"):
            continue
        move = abs(m.score - p.score)
        if move > best_move:
            best, best_move = (m, p), move
    if best is None or best_move < 0.005:
        return None
    m, p = best
    return tr("f.change", lang, label=_label(m, lang), value=numbers.measure(m.value, m.unit, lang),
              prev=numbers.measure(p.value, p.unit, lang))


def _worst_area(b: Briefing, lang: str) -> str | None:
    scored = [c for c in b.children if _ok(c.vitals.index)]
    if len(scored) < 2 or b.children_level is None:
        return None
    worst = min(scored, key=lambda c: (c.vitals.index, c.area_id))
    weakest = min((m for m in worst.vitals.metrics if _ok(m.score)), key=lambda m: m.score, default=None)
    if weakest is None:
        return None
    level = level_name(b.deployment.level(b.children_level), lang)  # as the deployment names it: no grammar guessed
    return tr("f.worst_area", lang, level=level, name=pick(worst.name, worst.name_en, lang),
              index=numbers.index(worst.vitals.index), label=_label(weakest, lang),
              value=numbers.measure(weakest.value, weakest.unit, lang))


def _surge(b: Briefing, lang: str) -> str:
    if not b.surges:
        return tr("f.no_surge", lang)
    w = b.surges[0]
    street = pick(*w.names.get("street", ("", "")), lang)
    area = pick(*w.names.get("area", ("", "")), lang)
    place = f"{street} {area}".strip() if street and street != area else area
    return tr("f.surge", lang, place=place, category=pick(*w.names["category"], lang),
              count=numbers.count(w.evidence["count"]), expected=f"{w.evidence['expected']:.1f}")


def _departments(b: Briefing, lang: str) -> str | None:
    ranked = department_ranking(b)
    ranked = ranked[ranked["close_all_pct"].notna()]
    if len(ranked) < 2:
        return None
    best, worst = ranked.iloc[0], ranked.iloc[-1]
    return tr("f.departments", lang, best=pick(best["name"], best["name_en"], lang),
              best_pct=numbers.pct(best["close_all_pct"]), worst=pick(worst["name"], worst["name_en"], lang),
              worst_pct=numbers.pct(worst["close_all_pct"]))


def findings(b: Briefing, lang: str) -> list[str]:
    """The week's findings in ``lang``: volume first, then what changed, where, what surged, who did best and worst."""
    if not b.has_data:
        return [tr("f.no_data", lang)]
    out = [_volume(b, lang)]
    for sentence in (_largest_change(b, lang), _worst_area(b, lang), _surge(b, lang), _departments(b, lang)):
        if sentence:
            out.append(sentence)
    return out[:5]
