"""The index: links to the wall screens, and what the warehouse holds right now."""

from __future__ import annotations

import dash
from dash import dcc, html

from dashboard import ids
from dashboard.data_access import table_counts
from dashboard.i18n import language, t
from settings import get_settings

dash.register_page(__name__, path="/", title="GridPulse")

# (i18n key, URL) of the wall screens a command center usually runs side by side.
WALLS = (("home.wall", "/wall"), ("home.wall_map", "/wall?layout=map"), ("home.wall_warnings", "/wall?layout=warnings"))


def layout(**query: str) -> html.Div:
    """The index page (``?lang=en`` for English)."""
    lang = language(query.get("lang"), get_settings().language)
    counts, info = table_counts()
    return html.Div(className="gp-home", children=[
        html.H1(t("home.title", lang)),
        html.Nav(id=ids.HOME_LINKS, className="gp-home-links",
                 children=[dcc.Link(t(key, lang), href=href) for key, href in WALLS]),
        html.P(f"snapshot {info.name} · published {info.published_at:%Y-%m-%d %H:%M:%S} UTC", id=ids.HOME_SNAPSHOT),
        html.Table(id=ids.HOME_COUNTS, children=[
            html.Tr([html.Td(name), html.Td(f"{n:,}", **{"data-table": name})]) for name, n in counts.items()
        ]),
    ])
