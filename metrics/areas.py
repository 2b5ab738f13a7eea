"""Areas by name: the breadcrumb above an area and the search the filter bar offers.

Reference lookups on the ``areas`` table (no cases), for pages that let a person pick an area at
any level by its name, and show where it sits.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pandas as pd

from metrics.sqlfiles import run

__all__ = ["ancestors", "search"]


def ancestors(con: duckdb.DuckDBPyConnection, area_id: str) -> pd.DataFrame:
    """``area_id`` and the areas above it, top-down: ``area_id``, ``level``, ``name``, ``name_en``.

    Empty for an id the warehouse does not know.
    """
    return run(con, "area_ancestors", {"area_id": str(area_id)})


def search(con: duckdb.DuckDBPyConnection, text: str, limit: int = 30,
           roots: Sequence[str] | None = None) -> pd.DataFrame:
    """Areas whose name (zh or en) or id contains ``text``, best matches first.

    With ``roots``, only those areas and the areas inside them are searched.

    Returns:
        ``area_id``, ``level``, ``name``, ``name_en``, and the street it lies in
        (``street_name``, ``street_name_en``; empty for streets and above) to tell namesakes apart.
    """
    text = (text or "").strip()
    if not text:
        return run(con, "area_search", {"text": "\x00", "limit": 0, "roots": None})
    return run(con, "area_search", {"text": text, "limit": int(limit), "roots": None if roots is None else list(roots)})
