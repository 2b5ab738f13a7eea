"""Colours, shapes and fonts shared by the wall's components, its figures and the PDF briefing.

Why these choices:

* **Dark background, light marks.** A wall in a lit room reads best as light-on-dark, and a
  projector washes out dark colours on a light page.
* **The heatmap scale is sequential and monotonic in lightness** (inferno, cut before its
  near-black start so that an empty area still differs from the background). Lightness alone
  carries the order, so it reads in greyscale, on a washed-out projector and with every common
  colour-vision deficiency.
* **Status never relies on hue alone**: every status also has a shape (● ▲ ■) and a word.
  The three hues also differ in lightness (green light, amber middle, red darker), so a
  red-green colour-blind viewer still sees three different greys.
* **Series colours** come from the Okabe-Ito palette, designed for colour-blind readers.
* **Fonts** are the system Noto CJK faces (Debian ``fonts-noto-cjk``); nothing is fetched from a
  CDN.
"""

from __future__ import annotations

__all__ = [
    "BACKGROUND", "PANEL", "GRID", "TEXT", "TEXT_DIM", "ACCENT", "FONT_FAMILY", "STATUS_COLOURS", "STATUS_SHAPES",
    "RISK_COLOURS", "HEAT_SCALE", "SERIES", "OUTLINE", "OUTLINE_FOCUS", "AREA_EDGE", "BASE_HEIGHT", "font_px",
]

BACKGROUND = "#070b14"  # page
PANEL = "#0e1626"  # panel cards
GRID = "#23304a"  # chart grid lines, panel borders
TEXT = "#e8eef9"
TEXT_DIM = "#9fb0cc"
ACCENT = "#56b4e9"  # Okabe-Ito sky blue

FONT_FAMILY = '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Noto Sans", sans-serif'

STATUS_COLOURS = {"green": "#3fd49a", "amber": "#f5b531", "red": "#ff5a52", "none": "#7d8aa3"}
STATUS_SHAPES = {"green": "●", "amber": "▲", "red": "■", "none": "○"}
# SLA risk levels of metrics.warnings.sla_risk
RISK_COLOURS = {"breached": "#ff5a52", "red": "#ff8a3d", "amber": "#f5b531", "ok": "#7d8aa3"}

# inferno, sampled at 0.12 .. 1.0 (its first tenth is too close to the black background).
HEAT_SCALE: list[list[float | str]] = [
    [0.0, "#1f0c48"],
    [0.125, "#3e0966"],
    [0.25, "#5f136e"],
    [0.375, "#7f1e6c"],
    [0.5, "#a02a63"],
    [0.625, "#c03a51"],
    [0.75, "#dc5039"],
    [0.85, "#f1711f"],
    [0.93, "#fb9b06"],
    [1.0, "#fcffa4"],
]
AREA_EDGE = "rgba(7, 11, 20, 0.55)"  # thin edges between heat polygons
OUTLINE = "#9ad0ff"  # street (or community) boundaries drawn over the heat
OUTLINE_FOCUS = "#ffffff"

# Okabe-Ito: inflow sky blue, outflow orange, open backlog bluish green... on dark, the backlog
# line is near-white so it stands out over both bar colours.
SERIES = {"inflow": "#56b4e9", "outflow": "#e69f00", "open": "#f0f4ff", "ma7": "#56b4e9", "last_year": "#7d8aa3"}

# The wall is designed at 1080 px high; everything scales with the viewport height from there.
BASE_HEIGHT = 1080


def font_px(rem: float, scale: float) -> float:
    """A font size in px for figures, from the same rem units the CSS uses.

    The CSS root font size is 1/54 of the viewport height (20 px at 1080 px), so plotly text
    sized with this function keeps its proportion to the html text at any screen size.

    Args:
        rem: size in root-em units (1 rem = 20 px at 1080 p).
        scale: viewport height / 1080.
    """
    return round(rem * 20 * scale, 1)
