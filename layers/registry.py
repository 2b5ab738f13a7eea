"""The analyst map's switchable overlays: one :class:`Layer` record per layer, by key.

Each layer is Superset's plugin contract in small: a ``query`` (scope, window, as-of time →
DataFrame, from ``layers/sql/``) and a pure ``transform`` (DataFrame → plotly ``scattergeo``
traces as plain dicts). The page lists the keys as checkboxes and writes the chosen ones to the
URL (``?layers=cases,cameras``); nothing here imports the web tier.

A trace's ``name`` is a text key (``cases``, ``camera.online`` ...) that the page words in its
language (``map.layer.<name>``), so the transform stays free of i18n.

Points are clustered in the database (``layers/sql/cluster.sql``): the points of a layer are
gathered into the cells of a square grid of :data:`CELLS` cells along the longer side of their
extent, and the map draws one mark per group and cell: a dot with the point's label for a cell of
one, a bubble with its count for more. The map is SVG (``dashboard/figures/analyst_map.py``): it
draws a few thousand marks at once, never the 2.5 million case points of a 90-day district window at
10 million cases, and nothing is cut: every case of the window is in some bubble. Drilling down
re-clusters over the smaller area, down to single cases.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pandas as pd

from layers import _sql
from metrics.scope import Scope, Window
from settings import Settings

__all__ = ["Layer", "LAYERS", "CELLS", "STYLE", "get", "parse_keys", "case_points", "asset_points",
           "case_traces", "camera_traces", "depot_traces", "staff_traces"]

# Cells along the longer side of a layer's extent: about 400 m in a district view 12 km across, 15 m in
# a micro-grid's; at most about a thousand marks per group, most a bubble's width apart on the panel
# (48 covered the areas with 1,400 overlapping bubbles at the district: a user's trial, 2026-12-02).
CELLS = 32
# Colours on the light analyst map: the analyst theme's accent and status colours (assets/analyst.css).
STYLE = {
    "cases": "#1f5fa8",
    "camera.online": "#1a9e6a", "camera.offline": "#d9362b",
    "depot.online": "#6a3d9a", "depot.offline": "#8a94a6",
    "staff.online": "#0f7c8c", "staff.busy": "#c98a00",
}
_COLUMNS = ["grp", "n", "lon", "lat", "label", "label_en"]


@dataclass(frozen=True)
class Layer:
    """One overlay of the analyst map.

    Attributes:
        key: the layer's id in the URL (``layers=`` comma list) and in the page's checkboxes.
        label: the text key of its checkbox label (``dashboard.i18n``).
        query: ``(con, scope, window, now, settings) -> DataFrame`` of clustered points (``grp, n,
            lon, lat, label, label_en``: a single point's hover in Chinese and English); the scope's
            filters apply where they mean something (cases), only its area otherwise (assets).
        transform: ``DataFrame -> list of scattergeo traces`` (pure).
    """

    key: str
    label: str
    query: Callable[[duckdb.DuckDBPyConnection, Scope, Window, datetime, Settings], pd.DataFrame]
    transform: Callable[[pd.DataFrame], list[dict]]


# --- queries ---------------------------------------------------------------------------------------
def case_points(con: duckdb.DuckDBPyConnection, scope: Scope, window: Window, now: datetime,
                settings: Settings, cells: int = CELLS) -> pd.DataFrame:
    """The cases received in the window (its end clipped to ``now``), clustered: one row per cell."""
    end = min(window.end, now)
    start = min(window.start, end)
    return _sql.clustered(con, "case_points", {"ws": start, "we": end}, scope, cells)


def asset_points(con: duckdb.DuckDBPyConnection, scope: Scope, kinds: tuple[str, ...],
                 cells: int = CELLS) -> pd.DataFrame:
    """Assets of ``kinds`` in the scope's area with their state now, clustered per ``kind.status``.

    Empty without an ``assets`` table (an imported city's warehouse of cases only).
    """
    try:
        return _sql.clustered(con, "asset_points", {"kinds": list(kinds)}, scope, cells)
    except duckdb.CatalogException:  # a warehouse of cases only (an imported city: no assets table)
        return pd.DataFrame(columns=_COLUMNS)


def _assets(*kinds: str):
    def query(con: duckdb.DuckDBPyConnection, scope: Scope, window: Window, now: datetime,
              settings: Settings) -> pd.DataFrame:
        return asset_points(con, scope, kinds)

    query.__doc__ = f"Assets of kinds {kinds} in the scope's area (window and as-of time do not apply: state now)."
    return query


# --- transforms ------------------------------------------------------------------------------------
def _bubble(n: int, size: float) -> float:
    """A mark's size: ``size`` for one point, growing with the log of the count for a cell of many."""
    return size if n == 1 else round(max(size + 4, 12 + 4 * math.log10(n)), 1)


def _points(part: pd.DataFrame, name: str, size: float) -> dict:
    """One group's marks: dots for cells of one point, bubbles with their count for the others.

    ``customdata`` holds each mark's count, ``hovertext`` the label of a single point (the count of a
    bubble, which the page words), ``text`` the count drawn inside a bubble.
    """
    counts = [int(n) for n in part["n"]]
    return {
        "type": "scattergeo", "name": name, "mode": "markers+text",
        "lon": [round(float(x), 6) for x in part["lon"]], "lat": [round(float(y), 6) for y in part["lat"]],
        "marker": {"size": [_bubble(n, size) for n in counts], "color": STYLE[name], "opacity": 0.85,
                   "line": {"width": 1, "color": "#ffffff"}},
        "customdata": counts,
        "text": ["" if n == 1 else str(n) for n in counts],
        "textfont": {"size": 10, "color": "#ffffff"},
        "hovertext": [str(label) if n == 1 else str(n) for n, label in zip(counts, part["label"], strict=True)],
        "hovertemplate": "%{hovertext}<extra></extra>", "showlegend": True,
    }


def _groups(df: pd.DataFrame | None, groups: dict[str, str], size: float) -> list[dict]:
    """One trace per group present, in the order of ``groups`` (``grp`` -> trace name), later on top."""
    if df is None or df.empty:
        return []
    return [_points(df[df["grp"] == grp], name, size) for grp, name in groups.items() if (df["grp"] == grp).any()]


def case_traces(df: pd.DataFrame) -> list[dict]:
    """The clustered case points, one trace (hover: case id and category, or the cell's count).

    >>> t = case_traces(pd.DataFrame({"grp": ["cases"] * 2, "n": [1, 40], "lon": [120.2, 120.3],
    ...                               "lat": [30.2, 30.3], "label": ["A · ENV-01", "B · ENV-02"]}))
    >>> t[0]["type"], t[0]["customdata"], t[0]["hovertext"], t[0]["text"]
    ('scattergeo', [1, 40], ['A · ENV-01', '40'], ['', '40'])
    """
    return _groups(df, {"cases": "cases"}, 7)


def camera_traces(df: pd.DataFrame) -> list[dict]:
    """Cameras online and offline, one trace each (offline drawn last, on top)."""
    return _groups(df, {"camera.online": "camera.online", "camera.offline": "camera.offline"}, 6)


def depot_traces(df: pd.DataFrame) -> list[dict]:
    """Supply depots, working and out of service."""
    return _groups(df, {"supply_depot.online": "depot.online", "supply_depot.offline": "depot.offline"}, 11)


def staff_traces(df: pd.DataFrame) -> list[dict]:
    """Staff on duty: free (``online``) and on a case (``busy``); off-duty staff are not drawn."""
    return _groups(df, {"staff.online": "staff.online", "staff.busy": "staff.busy"}, 7)


LAYERS: dict[str, Layer] = {
    "cases": Layer("cases", "map.layer.cases", case_points, case_traces),
    "cameras": Layer("cameras", "map.layer.cameras", _assets("camera"), camera_traces),
    "depots": Layer("depots", "map.layer.depots", _assets("supply_depot"), depot_traces),
    "staff": Layer("staff", "map.layer.staff", _assets("staff"), staff_traces),
}


def get(key: str) -> Layer:
    """The layer ``key``.

    Raises:
        KeyError: no such layer.
    """
    return LAYERS[key]


def parse_keys(value: str | None) -> tuple[str, ...]:
    """The known layer keys of a ``layers=`` URL value, in registry order (unknown ones dropped).

    >>> parse_keys("staff,nonsense,cases")
    ('cases', 'staff')
    """
    asked = {k.strip() for k in (value or "").split(",")}
    return tuple(k for k in LAYERS if k in asked)
