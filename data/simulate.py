"""Deprecated import path of the live simulator: use :mod:`data.demo.simulate`.

Kept only for ``data/cli.py`` (outside this branch); delete it once that imports from
``data.demo.simulate``.
"""

from __future__ import annotations

from data.demo.simulate import SIM_COLUMNS, Simulator

__all__ = ["SIM_COLUMNS", "Simulator"]
