"""Backlog figures: inflow, outflow and open backlog over 30 days and today by hour.

Pure builders (DataFrame → plotly figure dict), shared by the wall, the analyst pages and the
PDF briefing. Figures are plain dicts without a template: the plotly template alone would add
about 10 KB to every refresh.
"""

from __future__ import annotations

import pandas as pd
from dash import Patch

from dashboard.i18n import t
from dashboard.theme import FONT_FAMILY, GRID, SERIES, TEXT, TEXT_DIM, font_px

__all__ = ["days_frame", "hours_frame", "days_figure", "hours_figure", "series_patch", "window_frame",
           "window_figure", "LIGHT", "SERIES_ORDER"]

# The three series of both figures, in trace order: inflow bars, outflow bars, open line.
SERIES_ORDER = ("inflow", "outflow", "open")
# The analyst pages' light theme (assets/analyst.css): same Okabe-Ito hues, darker where white
# would swallow them; the open line dark instead of near-white, overdue in the status red.
LIGHT = {"text": "#1b2433", "dim": "#5b677a", "grid": "#e3e8f0",
         "series": {"inflow": "#3a93cf", "outflow": "#e69f00", "open": "#1b2433", "overdue": "#d9362b"}}
_DARK = {"text": TEXT, "dim": TEXT_DIM, "grid": GRID, "series": SERIES}


def _ints(series: pd.Series) -> list[int]:
    return pd.to_numeric(series, errors="coerce").fillna(0).round().astype(int).tolist()


def days_frame(df: pd.DataFrame | None) -> dict[str, list]:
    """X and the three series of the 30-day chart from ``metrics.backlog.backlog_daily``.

    Returns ``{"x": ["2026-11-25", ...], "inflow": [...], "outflow": [...], "open": [...]}``.
    """
    if df is None or df.empty:
        return {"x": [], "inflow": [], "outflow": [], "open": []}
    d = df.sort_values("day")
    return {"x": [pd.Timestamp(v).strftime("%Y-%m-%d") for v in d["day"]], "inflow": _ints(d["inflow"]),
            "outflow": _ints(d["outflow"]), "open": _ints(d["open_end"])}


def hours_frame(df: pd.DataFrame | None) -> dict[str, list]:
    """X (hour of day 0–23) and the three series from ``metrics.backlog.backlog_hourly``.

    ``hour`` may be an integer or a timestamp (the start of the hour); both become 0–23.
    """
    if df is None or df.empty:
        return {"x": [], "inflow": [], "outflow": [], "open": []}
    d = df.sort_values("hour")
    hour = d["hour"]
    if not pd.api.types.is_numeric_dtype(hour):
        hour = pd.to_datetime(hour).dt.hour
    return {"x": [int(h) for h in hour], "inflow": _ints(d["inflow"]), "outflow": _ints(d["outflow"]),
            "open": _ints(d["open"])}


def _figure(frame: dict[str, list], lang: str, scale: float, x_axis: dict, theme: dict | None = None) -> dict:
    """The chart of ``frame``; ``theme`` :data:`LIGHT` for the analyst pages (default: the wall's dark).

    The open backlog is drawn at ``frame["at"]`` when the frame has it (:func:`window_frame`), else at ``x``.
    """
    th = theme or _DARK
    colours, text, dim, grid = th["series"], th["text"], th["dim"], th["grid"]
    tick = font_px(0.8, scale)
    names = {k: t(f"backlog.{k}", lang) for k in SERIES_ORDER}
    data = [
        {"type": "bar", "name": names["inflow"], "x": frame["x"], "y": frame["inflow"],
         "marker": {"color": colours["inflow"]}, "hovertemplate": "%{y}<extra>" + names["inflow"] + "</extra>"},
        {"type": "bar", "name": names["outflow"], "x": frame["x"], "y": frame["outflow"],
         "marker": {"color": colours["outflow"]}, "hovertemplate": "%{y}<extra>" + names["outflow"] + "</extra>"},
        {"type": "scatter", "mode": "lines", "name": names["open"], "x": frame.get("at", frame["x"]), "y": frame["open"],
         "yaxis": "y2", "line": {"color": colours["open"], "width": max(2.0, 3 * scale)},
         "hovertemplate": "%{y}<extra>" + names["open"] + "</extra>"},
    ]
    axis = {"gridcolor": grid, "zerolinecolor": grid, "tickfont": {"size": tick, "color": dim},
            "automargin": True, "fixedrange": True}
    layout = {
        "barmode": "group", "bargap": 0.25, "bargroupgap": 0.05,
        "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": FONT_FAMILY, "color": text, "size": tick},
        "margin": {"l": 4, "r": 4, "t": font_px(1.6, scale), "b": 4},
        "showlegend": True,
        "legend": {"orientation": "h", "x": 0, "y": 1.0, "xanchor": "left", "yanchor": "bottom",
                   "font": {"size": font_px(0.85, scale), "color": text}, "bgcolor": "rgba(0,0,0,0)"},
        "xaxis": {**axis, **x_axis, "showgrid": False},
        # counts: whole-number ticks, and a range of at least 0-4 so that an empty day does not
        # get ticks at 0.5 (shown rounded as "0, 1, 1")
        "yaxis": {**axis, "rangemode": "tozero", "nticks": 4, "tickformat": ",d",
                  "autorangeoptions": {"include": [0, 4]}},
        "yaxis2": {**axis, "overlaying": "y", "side": "right", "rangemode": "tozero", "showgrid": False,
                   "nticks": 4, "tickformat": ",d", "autorangeoptions": {"include": [0, 4]},
                   "tickfont": {"size": tick, "color": colours["open"]}},
        "hoverlabel": {"font": {"size": font_px(0.9, scale), "family": FONT_FAMILY}},
        "uirevision": "wall",
    }
    return {"data": data, "layout": layout}


def days_figure(df: pd.DataFrame | None, lang: str, scale: float = 1.0) -> dict:
    """The 30-day chart: daily inflow and outflow bars, open backlog at day end as a line (right axis)."""
    return _figure(days_frame(df), lang, scale, {"type": "date", "tickformat": "%m-%d", "nticks": 6})


def hours_figure(df: pd.DataFrame | None, lang: str, scale: float = 1.0) -> dict:
    """Today by hour: inflow and outflow per hour, open cases at the end of each hour (right axis)."""
    return _figure(hours_frame(df), lang, scale,
                   {"type": "linear", "range": [-0.6, 23.6], "tickvals": [0, 6, 12, 18, 23],
                    "ticktext": ["0:00", "6:00", "12:00", "18:00", "23:00"]})


def window_frame(df: pd.DataFrame | None) -> dict[str, list]:
    """The series of ``metrics.backlog.backlog_series`` (no split), each at the instants where it holds.

    Returns ``{"x": [...], "inflow": [...], "outflow": [...], "at": [...], "open": [...], "overdue": [...]}``:
    the flows at each bucket's start (``x``, ISO local time); the levels, read at an instant, at ``at``:
    the window's start (the backlog then, as the "open at the start" figure says), then each bucket's end.
    """
    if df is None or df.empty:
        return {"x": [], "inflow": [], "outflow": [], "at": [], "open": [], "overdue": []}
    x = [pd.Timestamp(v).strftime("%Y-%m-%d %H:%M") for v in df["start"]]
    return {"x": x, "inflow": _ints(df["inflow"]), "outflow": _ints(df["outflow"]),
            "at": x[:1] + [pd.Timestamp(v).strftime("%Y-%m-%d %H:%M") for v in df["end"]],
            "open": _ints(df["open_start"].iloc[:1]) + _ints(df["open_end"]),
            "overdue": _ints(df["overdue_start"].iloc[:1]) + _ints(df["overdue_end"])}


_X_FORMAT = {"hour": "%m-%d %H:%M", "day": "%m-%d", "week": "%m-%d"}


def window_figure(df: pd.DataFrame | None, lang: str, gran: str, scale: float = 0.8) -> dict:
    """The analyst backlog chart (light): inflow and outflow bars per bucket, open and overdue backlog (lines).

    The wall's chart (:func:`days_figure`) in the light theme, over any window and granularity,
    with the overdue backlog as a dashed line on the open backlog's axis; the lines are drawn where
    their values hold (:func:`window_frame`), the bars at their bucket's start.
    """
    frame = window_frame(df)
    fig = _figure(frame, lang, scale, {"type": "date", "tickformat": _X_FORMAT.get(gran, "%m-%d"), "nticks": 10},
                  LIGHT)
    name = t("bl.overdue", lang)
    fig["data"].append({"type": "scatter", "mode": "lines", "name": name, "x": frame["at"], "y": frame["overdue"],
                        "yaxis": "y2", "line": {"color": LIGHT["series"]["overdue"], "width": 2, "dash": "dot"},
                        "hovertemplate": "%{y}<extra>" + name + "</extra>"})
    fig["layout"]["uirevision"] = "analyst-backlog"
    fig["layout"]["hovermode"] = "x unified"
    fig["layout"]["margin"] = {"l": 8, "r": 8, "t": 28, "b": 8}
    return fig


def series_patch(frame: dict[str, list]) -> Patch:
    """A refresh of either chart: new x and y of the three traces, layout untouched."""
    p = Patch()
    for i, key in enumerate(SERIES_ORDER):
        p["data"][i]["x"] = frame["x"]
        p["data"][i]["y"] = frame[key]
    return p
