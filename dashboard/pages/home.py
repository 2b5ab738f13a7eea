"""The index: links to the wall screens, and what the warehouse holds right now."""

from __future__ import annotations

import dash
from dash import dcc, html

from dashboard import ids, runtime
from dashboard.data_access import table_counts
from dashboard.i18n import language, t
from dashboard.notices import no_data
from dashboard.wall.options import query_values
from data.snapshot import NoSnapshotError

dash.register_page(__name__, path="/", title="GridPulse")

# (i18n key, URL) of the wall screens a command center usually runs side by side.
WALLS = (("home.wall", "/wall"), ("home.wall_map", "/wall?layout=map"), ("home.wall_warnings", "/wall?layout=warnings"))


def layout(**query) -> html.Div:
    """The index page (``?lang=en`` for English); a notice when nothing is published yet."""
    rt = runtime.current()
    q = query_values(query)
    lang = language(q.get("lang"), rt.settings.language)
    try:
        with rt.snapshot() as (con, info):
            counts = table_counts(con)
    except NoSnapshotError:
        return no_data(q, rt.settings)
    return html.Div(className="gp-home", children=[
        html.H1(t("home.title", lang)),
        html.Nav(id=ids.HOME_LINKS, className="gp-home-links",
                 children=[dcc.Link(t(key, lang), href=href) for key, href in WALLS]),
        html.P(f"snapshot {info.name} · published {info.published_at:%Y-%m-%d %H:%M:%S} UTC", id=ids.HOME_SNAPSHOT),
        html.Table(id=ids.HOME_COUNTS, children=[
            html.Tr([html.Td(name), html.Td(f"{n:,}", **{"data-table": name})]) for name, n in counts.items()
        ]),
    ])
