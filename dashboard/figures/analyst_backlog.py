"""Figures of the analyst backlog page: inflow split by member (stacked), age of the open cases.

Pure builders (DataFrame → plotly figure dict) in the light theme of the analyst pages
(:data:`dashboard.figures.backlog.LIGHT`); the chart of inflow, outflow and backlog itself is the
wall's builder (:func:`dashboard.figures.backlog.window_figure`).
"""

from __future__ import annotations

import base64

import pandas as pd

from dashboard.figures.backlog import LIGHT
from dashboard.i18n import pick
from dashboard.theme import FONT_FAMILY

__all__ = ["MEMBER_COLOURS", "OTHER_COLOUR", "age_figure", "spark_bars", "split_figure"]

# Okabe-Ito's eight hues (black replaced by a dark blue-grey), in rank order; "other" in grey.
MEMBER_COLOURS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#3b4a63")
OTHER_COLOUR = "#b8c0cc"
_X_FORMAT = {"hour": "%m-%d %H:%M", "day": "%m-%d", "week": "%m-%d"}


def _layout(**extra) -> dict:
    axis = {"gridcolor": LIGHT["grid"], "zerolinecolor": LIGHT["grid"], "automargin": True, "fixedrange": True,
            "tickfont": {"size": 11, "color": LIGHT["dim"]}}
    out = {"paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
           "font": {"family": FONT_FAMILY, "color": LIGHT["text"], "size": 12},
           "margin": {"l": 8, "r": 8, "t": 8, "b": 8}, "xaxis": {**axis, "showgrid": False},
           "yaxis": {**axis, "rangemode": "tozero", "tickformat": ",d", "nticks": 5}}
    out.update(extra)
    return out


def split_figure(top: pd.DataFrame, lang: str, gran: str) -> dict:
    """Stacked inflow bars per bucket, one colour per member (``metrics.backlog.top_members`` output).

    Members in rank order from the bottom of the stack; "other" (key ``__other__``) last, in grey.
    """
    data = []
    for i, (key, rows) in enumerate(top.groupby("key", sort=False)):
        name = pick(rows["name"].iloc[0], rows["name_en"].iloc[0], lang)
        colour = OTHER_COLOUR if key == "__other__" else MEMBER_COLOURS[i % len(MEMBER_COLOURS)]
        data.append({"type": "bar", "name": name, "x": [pd.Timestamp(v).strftime("%Y-%m-%d %H:%M") for v in rows["start"]],
                     "y": [int(v) for v in rows["inflow"]], "marker": {"color": colour},
                     "hovertemplate": "%{y}<extra>" + name + "</extra>"})
    layout = _layout(barmode="stack", bargap=0.2, hovermode="x unified", uirevision="analyst-backlog-split",
                     legend={"orientation": "v", "x": 1.01, "y": 1, "font": {"size": 11}, "bgcolor": "rgba(0,0,0,0)"})
    layout["xaxis"].update({"type": "date", "tickformat": _X_FORMAT.get(gran, "%m-%d"), "nticks": 8})
    return {"data": data, "layout": layout}


def age_figure(ages: pd.DataFrame, lang: str) -> dict:
    """Open cases per age bucket (``metrics.backlog.open_age``), youngest left; the older than 3 days in red."""
    labels = [pick(z, e, lang) for z, e in zip(ages["label_zh"], ages["label_en"], strict=True)]
    old = {"3-7d", "7-30d", "30d+"}
    colours = [LIGHT["series"]["overdue"] if b in old else LIGHT["series"]["inflow"] for b in ages["bucket"]]
    data = [{"type": "bar", "x": labels, "y": [int(v) for v in ages["n"]], "marker": {"color": colours},
             "text": [f"{int(v):,}" for v in ages["n"]], "textposition": "outside", "cliponaxis": False,
             "hovertemplate": "%{x}: %{y}<extra></extra>"}]
    layout = _layout(showlegend=False, bargap=0.25, uirevision="analyst-backlog-age")
    layout["xaxis"].update({"type": "category"})
    layout["margin"] = {"l": 8, "r": 8, "t": 18, "b": 8}
    return {"data": data, "layout": layout}


def spark_bars(values: list[float], colour: str, width: int = 110, height: int = 24) -> str | None:
    """Counts per bucket as tiny columns, an inline SVG data URI (``None`` without any count).

    Columns rather than the overview's line: these are counts per day or week, and a bucket with
    nothing stays visibly empty. An ``<img>`` source, not a figure: one plotly graph per table row
    would cost seconds.
    """
    if not values or max(values) <= 0:
        return None
    top, n = max(values), len(values)
    step = (width - 2) / n
    bar = max(step * 0.75, 1.0)
    rects = "".join(
        f'<rect x="{1 + i * step:.1f}" y="{height - 1 - (height - 2) * v / top:.1f}" width="{bar:.1f}" '
        f'height="{(height - 2) * v / top:.1f}"/>' for i, v in enumerate(values) if v > 0)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
           f'<g fill="{colour}">{rects}</g></svg>')
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
