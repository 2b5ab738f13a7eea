"""The notices a page shows instead of itself: no data yet, no district, an unknown area.

Every page that reads the snapshot uses these, so an empty ``var/`` or a mistyped scope reads the
same everywhere, in the page's language, and never as numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

import duckdb
from dash import html

from dashboard.components.notice import notice_page
from dashboard.i18n import language, pick, t
from dashboard.runtime import Deployment
from layers import shapes
from settings import Settings

__all__ = ["no_data", "no_district", "unknown_area", "MAX_SCOPE_LINKS"]

MAX_SCOPE_LINKS = 12  # the district and its first streets: enough to show what an id looks like


def no_data(query: Mapping[str, str], settings: Settings) -> html.Div:
    """Nothing is published yet (an empty ``var/``): say how to get data."""
    lang = language(query.get("lang"), settings.language)
    return notice_page("no-data", t("notice.no_data.title", lang), t("notice.no_data.body", lang), lang)


def no_district(query: Mapping[str, str], settings: Settings) -> html.Div:
    """The snapshot's ``areas`` has no district: the deployment has no identity to show."""
    lang = language(query.get("lang"), settings.language)
    return notice_page("no-district", t("notice.no_district.title", lang), t("notice.no_district.body", lang), lang)


def unknown_area(con: duckdb.DuckDBPyConnection, deployment: Deployment, area_id: str, lang: str,
                 path: str) -> html.Div:
    """``?scope=`` names no area of this warehouse: say so and link the valid scopes (district, streets)."""
    streets = shapes.points(con, deployment.scope, "street").head(MAX_SCOPE_LINKS - 1)
    choices = [(deployment.district_id, pick(deployment.name, deployment.name_en, lang))]
    choices += [(str(a), pick(n, ne, lang)) for a, n, ne in zip(streets["area_id"], streets["name"],
                                                               streets["name_en"], strict=True)]
    extra = {"lang": lang} if lang == "en" else {}
    links = [(f"{name} ({area})", f"{path}?{urlencode({'scope': area, **extra})}") for area, name in choices]
    return notice_page("unknown-area", t("notice.unknown_area.title", lang, area=area_id),
                       t("notice.unknown_area.body", lang), lang, links, t("notice.unknown_area.hint", lang))
