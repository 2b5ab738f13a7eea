"""The grid heatmap layer: areas of one level coloured by a measure (the wall's centre).

query → transform → style, as every layer:

* :func:`query` asks ``metrics.grids.grid_aggregates`` for the numbers of every area;
* :func:`align` puts them in the order of the map's polygons (areas without cases get zeros);
* :func:`transform` makes the ``choroplethmap`` trace (with the GeoJSON on a first draw) and
  :func:`values` only the parts that change between refreshes (``z`` and the hover numbers),
  which the wall sends as a ``dash.Patch``.
"""

from __future__ import annotations

import math
from datetime import datetime

import duckdb
import numpy as np
import pandas as pd

from metrics.grids import grid_aggregates
from metrics.scope import Scope, Window
from settings import Settings

__all__ = ["MEASURES", "HOVER_COLUMNS", "query", "align", "measure_series", "color_range", "transform", "values",
           "hovertemplate", "STYLE"]

MEASURES = ("cases", "open", "overdue", "per_10k")
# customdata columns, in this order, for the hover text
HOVER_COLUMNS = ("cases", "open", "overdue", "per_10k")
# Thin dark edges keep neighbouring areas apart without competing with the colours.
STYLE = {"edge_width": 0.4, "edge_color": "rgba(7, 11, 20, 0.6)", "opacity": 0.95}


def query(con: duckdb.DuckDBPyConnection, scope: Scope, window: Window, now: datetime, level: str,
          settings: Settings) -> pd.DataFrame:
    """Numbers of every area of ``level`` in the scope: cases in the window, open, overdue, per 10k.

    The metrics layer owns the SQL (``metrics.grids.grid_aggregates``); this layer only colours.
    """
    return grid_aggregates(con, scope, level, window, now, settings=settings)


def align(aggregates: pd.DataFrame | None, points: pd.DataFrame) -> pd.DataFrame:
    """One row per polygon, in polygon order, with the measures (zeros where an area had no case).

    Args:
        aggregates: ``grid_aggregates`` output (any order; areas without cases may be missing).
        points: ``layers.shapes.points`` output (area_id, name, name_en, residents, centroid_*).

    Returns:
        ``points`` plus ``cases``, ``open``, ``overdue`` (ints) and ``per_10k`` (NaN without residents).
    """
    out = points.reset_index(drop=True).copy()
    agg = aggregates if aggregates is not None else pd.DataFrame(columns=["area_id", *HOVER_COLUMNS])
    agg = agg.drop_duplicates("area_id").set_index("area_id")
    for col in ("cases", "open", "overdue"):
        col_values = agg[col] if col in agg.columns else pd.Series(dtype=float)
        out[col] = pd.to_numeric(out["area_id"].map(col_values), errors="coerce").fillna(0).astype(int).to_numpy()
    residents = pd.to_numeric(out["residents"], errors="coerce").fillna(0).to_numpy(dtype=float)
    if "per_10k" in agg.columns:
        per = pd.to_numeric(out["area_id"].map(agg["per_10k"]), errors="coerce").to_numpy(dtype=float)
    else:
        per = np.full(len(out), np.nan)
    # An area with residents and no case has 0 per 10k; one without residents has no rate.
    computed = np.divide(10_000 * out["cases"].to_numpy(dtype=float), residents,
                         out=np.full(len(out), np.nan), where=residents > 0)
    out["per_10k"] = np.where(np.isnan(per), computed, per)
    out.loc[residents <= 0, "per_10k"] = np.nan
    return out


def measure_series(aligned: pd.DataFrame, measure: str) -> pd.Series:
    """The column of ``measure`` (one of :data:`MEASURES`)."""
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}; expected one of {MEASURES}")
    return aligned[measure]


# Counts: the scale tops out at 3 or more, so that one case in a micro-grid is a mid colour and
# only a real concentration glows.
MIN_COUNT_TOP = 3.0


def color_range(series: pd.Series, measure: str = "cases") -> float:
    """Top of the colour scale: the 98th percentile of the non-zero values.

    The maximum would let one surging micro-grid turn every other area dark; values above the top
    saturate (the colour bar says "≥"). Counts get a whole number, at least :data:`MIN_COUNT_TOP`;
    rates one decimal, at least 1.

    >>> color_range(pd.Series([0, 1, 2, 3, 100] + [1] * 50))
    3.0
    >>> color_range(pd.Series([0, 1, 1]))
    3.0
    >>> color_range(pd.Series([0.0, 0.2]), "per_10k")
    1.0
    """
    v = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    top = float(np.quantile(v, 0.98)) if v.size else 0.0
    if measure == "per_10k":
        return max(1.0, float(math.ceil(top)) if top >= 10 else math.ceil(top * 10) / 10)
    return max(MIN_COUNT_TOP, float(math.ceil(top)))


def _clean(x: float, decimals: int) -> float | int | None:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return round(float(x), decimals) if decimals else int(x)


def values(aligned: pd.DataFrame, measure: str) -> dict:
    """What changes between refreshes: ``z`` (the measure) and ``customdata`` (hover numbers).

    Plain lists of small ints keep the refresh payload small (about 56 KB for 3,116 micro-grids).
    """
    decimals = 1 if measure == "per_10k" else 0
    z = [_clean(x, decimals) for x in measure_series(aligned, measure).tolist()]
    per = [_clean(x, 1) for x in aligned["per_10k"].tolist()]
    customdata = [[int(c), int(o), int(d), p] for c, o, d, p in
                  zip(aligned["cases"], aligned["open"], aligned["overdue"], per, strict=True)]
    return {"z": z, "customdata": customdata}


def hovertemplate(labels: dict[str, str]) -> str:
    """The hover text: area name and residents (static ``text``), then the four numbers."""
    return ("<b>%{text}</b><br>"
            f"{labels['cases']} %{{customdata[0]}}<br>"
            f"{labels['open']} %{{customdata[1]}}<br>"
            f"{labels['overdue']} %{{customdata[2]}}<br>"
            f"{labels['per_10k']} %{{customdata[3]:.1f}}"
            "<extra></extra>")


def transform(aligned: pd.DataFrame, measure: str, texts: list[str], labels: dict[str, str],
              geojson: dict | None = None) -> dict:
    """The ``choroplethmap`` trace (a plain dict, ready for a figure or the PDF).

    Args:
        aligned: :func:`align` output.
        measure: the colouring measure.
        texts: hover title per area (name and residents), static for a given level.
        labels: hover labels for ``cases``, ``open``, ``overdue``, ``per_10k`` in the page's language.
        geojson: the polygons (:func:`layers.shapes.feature_collection`); ``None`` when patching.
    """
    trace = {
        "type": "choroplethmap",
        "locations": aligned["area_id"].astype(str).tolist(),
        "featureidkey": "id",
        "text": texts,
        "hovertemplate": hovertemplate(labels),
        "coloraxis": "coloraxis",
        "marker": {"opacity": STYLE["opacity"], "line": {"width": STYLE["edge_width"], "color": STYLE["edge_color"]}},
        **values(aligned, measure),
    }
    if geojson is not None:
        trace["geojson"] = geojson
    return trace
