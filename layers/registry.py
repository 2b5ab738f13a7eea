"""The analyst map's switchable overlays: one :class:`Layer` record per layer, by key.

Each layer is Superset's plugin contract in small: a ``query`` (scope, window, as-of time →
DataFrame, from ``layers/sql/``) and a pure ``transform`` (DataFrame → plotly ``scattermap``
traces as plain dicts). The page lists the keys as checkboxes and writes the chosen ones to the
URL (``?layers=cases,cameras``); nothing here imports the web tier.

A trace's ``name`` is a text key (``cases``, ``camera.online`` ...) that the page words in its
language (``map.layer.<name>``), so the transform stays free of i18n.

Points sit on MapLibre (``scattermap``), with no tiles and nothing fetched. Case points are
clustered by MapLibre itself (the trace's ``cluster`` option) and capped at :data:`CASE_POINTS_LIMIT`
a request: 20,000 points are about 1 MB of JSON, and a 90-day district window at 10 million cases
would be 2.5 million.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pandas as pd

from layers import _sql
from metrics.scope import Scope, Window
from settings import Settings

__all__ = ["Layer", "LAYERS", "CASE_POINTS_LIMIT", "STYLE", "get", "parse_keys", "case_points", "asset_points",
           "case_traces", "camera_traces", "depot_traces", "staff_traces"]

CASE_POINTS_LIMIT = 20_000
# Colours on the light analyst map: the analyst theme's accent and status colours (assets/analyst.css).
STYLE = {
    "cases": "#1f5fa8",
    "camera.online": "#1a9e6a", "camera.offline": "#d9362b",
    "depot.online": "#6a3d9a", "depot.offline": "#8a94a6",
    "staff.online": "#0f7c8c", "staff.busy": "#c98a00",
}
_ASSET_COLUMNS = ["asset_id", "kind", "status", "lon", "lat", "department_id"]


@dataclass(frozen=True)
class Layer:
    """One overlay of the analyst map.

    Attributes:
        key: the layer's id in the URL (``layers=`` comma list) and in the page's checkboxes.
        label: the text key of its checkbox label (``dashboard.i18n``).
        query: ``(con, scope, window, now, settings) -> DataFrame``; the scope's filters apply
            where they mean something (cases), only its area otherwise (assets).
        transform: ``DataFrame -> list of scattermap traces`` (pure).
        limit: the most rows the map draws; ``query`` returns one more when there were more, and
            the page cuts and says so. ``None``: no limit.
    """

    key: str
    label: str
    query: Callable[[duckdb.DuckDBPyConnection, Scope, Window, datetime, Settings], pd.DataFrame]
    transform: Callable[[pd.DataFrame], list[dict]]
    limit: int | None = None


# --- queries ---------------------------------------------------------------------------------------
def case_points(con: duckdb.DuckDBPyConnection, scope: Scope, window: Window, now: datetime,
                settings: Settings, limit: int = CASE_POINTS_LIMIT) -> pd.DataFrame:
    """Cases received in the window (its end clipped to ``now``), newest first, ``limit + 1`` rows at most."""
    end = min(window.end, now)
    start = min(window.start, end)
    return _sql.run(con, "case_points", {"ws": start, "we": end, "limit": int(limit) + 1}, scope=scope)


def asset_points(con: duckdb.DuckDBPyConnection, scope: Scope, kinds: tuple[str, ...]) -> pd.DataFrame:
    """Assets of ``kinds`` in the scope's area with their state now (empty without an ``assets`` table)."""
    try:
        return _sql.run(con, "asset_points", {"kinds": list(kinds)}, scope=scope)
    except duckdb.CatalogException:  # a warehouse of cases only (an imported city: no assets table)
        return pd.DataFrame(columns=_ASSET_COLUMNS)


def _assets(*kinds: str):
    def query(con: duckdb.DuckDBPyConnection, scope: Scope, window: Window, now: datetime,
              settings: Settings) -> pd.DataFrame:
        return asset_points(con, scope, kinds)

    query.__doc__ = f"Assets of kinds {kinds} in the scope's area (window and as-of time do not apply: state now)."
    return query


def _cases(con: duckdb.DuckDBPyConnection, scope: Scope, window: Window, now: datetime,
           settings: Settings) -> pd.DataFrame:
    return case_points(con, scope, window, now, settings)


# --- transforms ------------------------------------------------------------------------------------
def _points(df: pd.DataFrame, name: str, size: float, hover: str, text: list[str] | None = None,
            **extra) -> dict:
    return {
        "type": "scattermap", "name": name, "mode": "markers",
        "lon": [round(float(x), 6) for x in df["lon"]], "lat": [round(float(y), 6) for y in df["lat"]],
        "marker": {"size": size, "color": STYLE[name], "opacity": 0.9},
        "text": text if text is not None else [], "hovertemplate": hover, "showlegend": True, **extra,
    }


def case_traces(df: pd.DataFrame) -> list[dict]:
    """One clustered point trace of the cases (hover: case id and category); nothing without cases.

    >>> t = case_traces(pd.DataFrame({"case_id": ["A"], "lon": [120.2], "lat": [30.2], "category_id": ["ENV-01"]}))
    >>> t[0]["type"], t[0]["cluster"]["enabled"], t[0]["text"]
    ('scattermap', True, ['A · ENV-01'])
    """
    if df is None or df.empty:
        return []
    text = [f"{c} · {k}" for c, k in zip(df["case_id"], df["category_id"], strict=True)]
    cluster = {"enabled": True, "color": STYLE["cases"], "opacity": 0.75, "size": [14, 20, 28], "step": [50, 500],
               "maxzoom": 16}
    return [_points(df, "cases", 7, "%{text}<extra></extra>", text, cluster=cluster)]


def _by_status(df: pd.DataFrame, kind: str, statuses: tuple[str, ...], size: float) -> list[dict]:
    if df is None or df.empty:
        return []
    out = []
    for status in statuses:
        part = df[df["status"] == status]
        if len(part):
            out.append(_points(part, f"{kind}.{status}", size, "%{text}<extra></extra>",
                               [str(a) for a in part["asset_id"]]))
    return out


def camera_traces(df: pd.DataFrame) -> list[dict]:
    """Cameras online and offline, one trace each (offline drawn last, on top)."""
    return _by_status(df, "camera", ("online", "offline"), 6)


def depot_traces(df: pd.DataFrame) -> list[dict]:
    """Supply depots, working and out of service."""
    return _by_status(df, "depot", ("online", "offline"), 11)


def staff_traces(df: pd.DataFrame) -> list[dict]:
    """Staff on duty: free (``online``) and on a case (``busy``); off-duty staff are not drawn."""
    return _by_status(df, "staff", ("online", "busy"), 7)


LAYERS: dict[str, Layer] = {
    "cases": Layer("cases", "map.layer.cases", _cases, case_traces, CASE_POINTS_LIMIT),
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
