"""The worst areas: ranked, labelled on the map and listed beside it.

Labels are a ``scattermap`` text trace. The wall's map style has no ``glyphs`` URL, so MapLibre
draws the label glyphs locally with the page's fonts (Noto CJK) instead of fetching font files
from a glyph server: text on the map works offline.
"""

from __future__ import annotations

import pandas as pd

from layers.grid_heat import measure_series

__all__ = ["RANK_MARKS", "rank", "label_text", "transform", "STYLE"]

RANK_MARKS = "①②③④⑤⑥⑦⑧⑨⑩"
STYLE = {"text_color": "#ffffff", "marker_color": "#ffffff", "marker_size": 7}


# A count of one case is not a hotspot: count measures rank only areas with at least two.
MIN_COUNT = 2


def rank(aligned: pd.DataFrame, measure: str, n: int) -> pd.DataFrame:
    """The ``n`` areas with the highest ``measure``, highest first; ties by id.

    Count measures need at least :data:`MIN_COUNT`, rates anything above zero.
    Returns the rows of ``aligned`` with a ``value`` column and a 1-based ``rank``.
    """
    values = pd.to_numeric(measure_series(aligned, measure), errors="coerce")
    df = aligned.assign(value=values)
    floor = 0 if measure == "per_10k" else MIN_COUNT - 1
    df = df[df["value"] > floor].sort_values(["value", "area_id"], ascending=[False, True]).head(n)
    return df.assign(rank=range(1, len(df) + 1)).reset_index(drop=True)


def _value_text(value: float, measure: str) -> str:
    return f"{value:.1f}" if measure == "per_10k" else f"{int(value)}"


# Characters of an area's name on the map at most (CJK names are far shorter than this).
MAX_LABEL = 19


def short_name(name: str) -> str:
    """A name without its level word when the rest is a number: "微网格 017-3" → "017-3".

    The map's caption already says the level; on the map every character costs room.

    A long name (a city's "UNITED NEIGHBORHOODS OF THE HISTORIC ARLINGTON HEIGHTS ...") is cut to
    :data:`MAX_LABEL` characters with an ellipsis: a label must not cover the neighbouring areas.

    >>> short_name("微网格 017-3"), short_name("Grid 017"), short_name("东湖街道")
    ('017-3', '017', '东湖街道')
    >>> short_name("UNITED NEIGHBORHOODS OF THE HISTORIC ARLINGTON HEIGHTS")
    'UNITED NEIGHBORHOO…'
    """
    head, _, tail = str(name).rpartition(" ")
    short = tail if head and tail[:1].isdigit() else str(name)
    return short if len(short) <= MAX_LABEL else short[:MAX_LABEL - 1].rstrip() + "…"


def label_text(row, measure: str, lang: str) -> str:
    """"① 017-3 · 14": rank mark, short name, value."""
    mark = RANK_MARKS[row.rank - 1] if row.rank <= len(RANK_MARKS) else f"{row.rank}."
    name = row.name_en if lang == "en" and row.name_en else row.name
    return f"{mark} {short_name(name)} · {_value_text(row.value, measure)}"


def transform(ranked: pd.DataFrame, measure: str, lang: str, font_size: float, font_family: str) -> dict:
    """The label trace: a dot at each worst area's label point and its text above it."""
    return {
        "type": "scattermap",
        "mode": "markers+text",
        "lon": ranked["centroid_lon"].round(5).tolist(),
        "lat": ranked["centroid_lat"].round(5).tolist(),
        "text": [label_text(r, measure, lang) for r in ranked.itertuples(index=False)],
        "textposition": "top center",
        "textfont": {"size": font_size, "color": STYLE["text_color"], "family": font_family},
        "marker": {"size": STYLE["marker_size"] * max(font_size / 20, 0.5), "color": STYLE["marker_color"]},
        "hoverinfo": "skip",
        "showlegend": False,
    }
