"""The header's data status: "data as of", the stale-data warning and the calendar notice.

Historical data (its newest case more than a day old, ``Freshness.historical_as_of``) gets a
banner "数据截至 2020-01-03 14:22（历史数据）" / "Data as of 2020-01-03 14:22 (historical)" in
place of the live / stale mark: it is neither.

The district name and the live clock are static parts of the layout (the clock ticks in the
browser); this component is what a refresh changes.
"""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from dash import html

from dashboard.components.format import clock_time
from dashboard.i18n import pick, t
from dashboard.theme import STATUS_SHAPES

__all__ = ["data_status", "historical_text", "no_snapshot_status"]


def historical_text(as_of: datetime, lang: str, tz: str) -> str:
    """The historical-data banner: the newest case's time to the minute in the deployment's zone.

    >>> from datetime import datetime, timezone
    >>> historical_text(datetime(2020, 1, 3, 6, 22, tzinfo=timezone.utc), "en", "Asia/Shanghai")
    'Data as of 2020-01-03 14:22 (historical)'
    """
    return t("wall.historical", lang, time=as_of.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M"))


def data_status(fresh, lang: str, tz: str, now: datetime | None = None) -> list:
    """Children of the status area from a ``metrics.freshness.Freshness``.

    Stale data is said in words with its age, in red with a square, so it reads from the back of
    the room and without colour; a failed ETL run says so too (its error is in the tooltip), and so
    does a web host that cannot reach the object store its snapshots come from.
    The date is added to the time when the data is from another day than ``now``.
    """
    published = getattr(fresh, "published_at", None)
    zone = ZoneInfo(tz)
    other_day = (published is not None and now is not None
                 and published.astimezone(zone).date() != now.astimezone(zone).date())
    asof = clock_time(published, tz, with_date=other_day)
    historical = getattr(fresh, "historical_as_of", None)
    # historical data: the banner says what the data is as of; the publication time is when it was loaded
    label = t("wall.loaded_at" if historical is not None else "wall.data_as_of", lang)
    children: list = [html.Div(className="gp-asof", children=[
        html.Span(label, className="gp-asof-label"),
        html.Span(asof, className="gp-asof-time"),
    ])]
    failed = str(getattr(fresh, "last_run_status", "") or "").lower() == "failed"
    if historical is not None:
        children.append(html.Span(f"{STATUS_SHAPES['amber']} {historical_text(historical, lang, tz)}",
                                  className="gp-historical gp-s-amber", title=t("wall.historical_hint", lang),
                                  **{"data-historical": "true"}))
    if fresh.stale:
        age = getattr(fresh, "age_s", None)
        minutes = max(1, math.floor((age or 0) / 60))
        words = [t("wall.stale", lang, minutes=minutes)] if age and age > 0 else []
        if failed:
            words.append(t("wall.etl_failed", lang))
        store_down = getattr(fresh, "store_unreachable_since", None) is not None  # a web host cut off from the store
        if store_down:
            words.append(t("wall.store_unreachable", lang))
        text = " · ".join(words) or t("wall.etl_failed", lang)
        tooltip = getattr(fresh, "store_error", None) if store_down else getattr(fresh, "last_run_error", "")
        children.append(html.Span(f"{STATUS_SHAPES['red']} {text}", className="gp-fresh gp-s-red",
                                  title=str(tooltip or ""),
                                  **{"data-stale": "true"}))
    elif historical is None:
        children.append(html.Span(f"{STATUS_SHAPES['green']} {t('wall.live', lang)}", className="gp-fresh gp-s-green",
                                  **{"data-stale": "false"}))
    notice = pick(getattr(fresh, "calendar_notice_zh", None), getattr(fresh, "calendar_notice_en", None), lang)
    if notice:
        children.append(html.Span(f"{STATUS_SHAPES['amber']} {notice}", className="gp-calendar gp-s-amber"))
    return children


def no_snapshot_status(lang: str) -> list:
    """What the status says before the first snapshot exists (a fresh install)."""
    return [html.Span(f"{STATUS_SHAPES['red']} {t('wall.no_snapshot', lang)}", className="gp-fresh gp-s-red",
                      **{"data-stale": "true"})]
