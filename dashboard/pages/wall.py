"""/wall: the command center's wall screen (see docs/wall.md).

The page only declares: the layout comes from :mod:`dashboard.wall.layout`, one server callback
refreshes every panel on screen through :func:`dashboard.wall.tick.run_tick`, and two clientside
functions (``assets/wall.js``) measure the screen and tick the clock and the SLA countdowns in
the browser between refreshes. A wall that cannot be drawn (no snapshot yet, an unknown area)
is a full-screen notice without a refresh timer (:mod:`dashboard.notices`).
"""

from __future__ import annotations

import dash
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, ctx
from dash.exceptions import PreventUpdate
from werkzeug.exceptions import BadRequest, NotFound

from dashboard import ids, runtime
from dashboard.auth import access
from dashboard.notices import no_data, no_district, unknown_area
from dashboard.runtime import NoDistrictError
from dashboard.wall import warmup
from dashboard.wall.layout import panels_of, wall_layout
from dashboard.wall.options import BadOptions, WallOptions, query_values
from dashboard.wall.tick import run_tick
from data.snapshot import NoSnapshotError
from metrics.scope import UnknownAreaError

dash.register_page(__name__, path="/wall", title="GridPulse · 大屏")


def layout(**query):
    """The wall for the URL's options (``?refresh=&scope=&lang=&rotate=&cycle=&layout=&level=&measure=``).

    Asking for the page also starts computing its numbers in the background, while the browser
    loads its scripts (see dashboard/wall/warmup.py), for an area that exists only.
    """
    rt = runtime.current()
    q = query_values(query)
    try:
        with rt.snapshot() as (con, info):
            deployment = rt.deployment(con, info)
            opts = WallOptions.from_query(access.wall_query(q), rt.settings, rt.home(deployment))
            try:
                scope = rt.scope(con, info, opts.scope)
            except UnknownAreaError:
                return unknown_area(con, deployment, opts.scope, opts.lang, "/wall")
            opts = opts.fitted(con, scope, deployment.slots)  # the map level among the deployment's levels
    except NoSnapshotError:
        return no_data(q, rt.settings)
    except NoDistrictError:
        return no_district(q, rt.settings)
    warmup.note(rt, opts, *panels_of(opts.layout))
    return wall_layout(opts, rt.settings, deployment, rt.now())


@callback(
    Output(ids.ALL_TEXT, "children"),
    Output(ids.ALL_GRAPHS, "figure"),
    Output(ids.WALL_META, "data"),
    Output(ids.WALL_DRAWN, "data"),
    Input(ids.WALL_TICK, "n_intervals"),
    Input(ids.WALL_ROTATE, "n_intervals"),
    Input(ids.WALL_VIEWPORT, "data"),
    State(ids.WALL_OPTIONS, "data"),
    State(ids.WALL_DRAWN, "data"),
)
def refresh(_tick, rotations, viewport, options, drawn):
    """Refresh the panels on screen; a rotation alone refreshes only the map.

    Nothing is drawn before the browser has measured the screen (the fonts and the map's framing
    depend on it). The refresh timer is started by the browser once the first drawing arrived (or
    after a grace period if it never does): a timer firing while the first, large response is
    still on its way would send the polygons twice. A malformed request is answered with HTTP 400
    and an unknown area with 404 (werkzeug's exceptions pass through Dash to Flask, which answers
    them without logging a traceback); nothing is computed for either.
    """
    if not viewport:
        raise PreventUpdate
    try:
        result = run_tick(
            runtime.current(), options, viewport, drawn,
            text_panels=[o["id"]["panel"] for o in ctx.outputs_list[0]],
            graph_panels=[o["id"]["panel"] for o in ctx.outputs_list[1]],
            rotate_step=rotations or 0,
            rotate_only=ctx.triggered_id == ids.WALL_ROTATE,
        )
    except BadOptions as exc:
        raise BadRequest(str(exc)) from None
    except (UnknownAreaError, NoDistrictError) as exc:
        raise NotFound(str(exc)) from None
    return result.texts, result.graphs, result.meta, result.drawn


clientside_callback(
    ClientsideFunction(namespace="gpwall", function_name="viewport"),
    Output(ids.WALL_VIEWPORT, "data"),
    Input(ids.WALL_OPTIONS, "data"),
)

clientside_callback(
    ClientsideFunction(namespace="gpwall", function_name="clock"),
    Output(ids.WALL_CLOCK_TIME, "children"),
    Output(ids.WALL_CLOCK_DATE, "children"),
    Output(ids.WALL_CONNECTION, "className"),
    Output(ids.WALL_TICK, "disabled"),
    Output(ids.WALL_ROTATE, "disabled"),
    Input(ids.WALL_CLOCK, "n_intervals"),
    Input(ids.WALL_META, "data"),
    State(ids.WALL_OPTIONS, "data"),
)
