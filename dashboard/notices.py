"""The notices a page shows instead of itself: no data yet, no district, an unknown area (or one not allowed).

Every page that reads the snapshot uses these, so an empty ``var/`` or a mistyped scope reads the
same everywhere, in the page's language, and never as numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

import duckdb
from dash import html

from dashboard.auth import access
from dashboard.components.notice import notice_page
from dashboard.i18n import language, pick, t
from dashboard.runtime import Deployment
from layers import shapes
from metrics import areas
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
    """``?scope=`` names no area this request may see: say so and link the scopes it may see.

    An unknown id links the district and its streets; for an account limited to some areas
    (:mod:`dashboard.auth.access`) the notice says the area is not among them and links those.
    """
    principal = access.current()
    if principal.everywhere:
        streets = shapes.points(con, deployment.scope, "street").head(MAX_SCOPE_LINKS - 1)
        choices = [(deployment.district_id, pick(deployment.name, deployment.name_en, lang))]
        choices += [(str(a), pick(n, ne, lang)) for a, n, ne in zip(streets["area_id"], streets["name"],
                                                                   streets["name_en"], strict=True)]
        key = "unknown_area"
    else:
        choices = []
        for allowed in principal.areas[:MAX_SCOPE_LINKS]:
            row = areas.ancestors(con, allowed).tail(1)
            if len(row):
                choices.append((allowed, pick(row["name"].iloc[0], row["name_en"].iloc[0], lang)))
        key = "not_allowed" if len(areas.ancestors(con, area_id)) else "unknown_area"
    extra = {"lang": lang} if lang == "en" else {}
    links = [(f"{name} ({area})", f"{path}?{urlencode({'scope': area, **extra})}") for area, name in choices]
    return notice_page(key.replace("_", "-"), t(f"notice.{key}.title", lang, area=area_id),
                       t(f"notice.{key}.body", lang), lang, links, t("notice.unknown_area.hint", lang))
