"""Placeholder home page: what the warehouse holds right now (the wall screen replaces it)."""

from __future__ import annotations

import dash
from dash import html

from dashboard.data_access import table_counts

dash.register_page(__name__, path="/", title="GridPulse")


def layout(**_query) -> html.Div:
    counts, info = table_counts()
    return html.Div(className="gp-home", children=[
        html.H1("GridPulse · 滨江区"),
        html.P(f"snapshot {info.name} · published {info.published_at:%Y-%m-%d %H:%M:%S} UTC", id="home-snapshot"),
        html.Table(id="home-counts", children=[
            html.Tr([html.Td(name), html.Td(f"{n:,}", **{"data-table": name})]) for name, n in counts.items()
        ]),
    ])
