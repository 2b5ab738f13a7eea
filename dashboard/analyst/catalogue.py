"""What the filter bar offers: the warehouse's categories (both levels), channels and departments.

Read from the snapshot's reference tables once per snapshot (the same lists on every page load),
in both languages; the options carry the warehouse's ids as values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from dashboard.i18n import pick
from dashboard.runtime import Deployment
from data.snapshot import SnapshotInfo
from metrics import cache
from metrics.sqlfiles import run

__all__ = ["Catalogue", "catalogue"]


@dataclass(frozen=True)
class Catalogue:
    """The reference lists of one snapshot (names in both languages) and the days its cases span."""

    district_id: str
    category_rows: tuple[tuple[str, str | None, int, str, str], ...]  # id, parent, level, name, name_en
    channel_rows: tuple[tuple[str, str, str], ...]
    department_rows: tuple[tuple[str, str, str], ...]
    first_day: date | None
    last_day: date | None

    def categories(self, lang: str) -> list[dict]:
        """Top-level categories, each followed by its sub-categories (indented), as dropdown options."""
        names = {c[0]: pick(c[3], c[4], lang) for c in self.category_rows}
        out: list[dict] = []
        tops = [c for c in self.category_rows if c[2] == 1 or not c[1]]
        for top in tops:
            out.append({"label": names[top[0]], "value": top[0]})
            out += [{"label": f"\u3000{names[c[0]]}", "value": c[0], "search": f"{names[top[0]]} {names[c[0]]}"}
                    for c in self.category_rows if c[1] == top[0] and c[0] != top[0]]
        listed = {o["value"] for o in out}
        out += [{"label": names[c[0]], "value": c[0]} for c in self.category_rows if c[0] not in listed]
        return out

    def category_name(self, category_id: str, lang: str) -> str:
        """The name of a category id (the id itself when the catalogue lacks it)."""
        for c in self.category_rows:
            if c[0] == category_id:
                return pick(c[3], c[4], lang)
        return category_id

    def channels(self, lang: str) -> list[dict]:
        """The channels as dropdown options."""
        return [{"label": pick(n, ne, lang), "value": c} for c, n, ne in self.channel_rows]

    def departments(self, lang: str) -> list[dict]:
        """The departments as dropdown options."""
        return [{"label": pick(n, ne, lang), "value": d} for d, n, ne in self.department_rows]


def _rows(df: pd.DataFrame, columns: list[str]) -> tuple[tuple, ...]:
    return tuple(tuple(None if pd.isna(v) else v for v in row) for row in df[columns].itertuples(index=False))


def catalogue(con: duckdb.DuckDBPyConnection, info: SnapshotInfo, deployment: Deployment) -> Catalogue:
    """The :class:`Catalogue` of snapshot ``info`` (read once per snapshot)."""
    def compute() -> Catalogue:
        cats = run(con, "ref_categories")
        cats["level"] = cats["level"].fillna(1).astype(int)
        bounds = con.execute("SELECT CAST(min(received_at) AS DATE), CAST(max(received_at) AS DATE) FROM events"
                             ).fetchone()
        return Catalogue(
            district_id=deployment.district_id,
            category_rows=_rows(cats, ["category_id", "parent_id", "level", "name", "name_en"]),
            channel_rows=_rows(run(con, "ref_channels"), ["channel", "name", "name_en"]),
            department_rows=_rows(run(con, "ref_departments"), ["department_id", "name", "name_en"]),
            first_day=bounds[0], last_day=bounds[1],
        )

    return cache.remember("analyst_catalogue", (info.name, deployment.district_id), compute, limit=8)
