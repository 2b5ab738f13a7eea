"""Writing an import's landing files: GridPulse's own CSV format, so the normal ETL loads them.

Each import writes, under ``var/landing/``, one events file and one delta extract per reference
table (``departments``, ``categories``, ``channels``): a delta only adds or updates the rows it
carries, so importing a second source keeps the first one's categories. Names start with a UTC
timestamp, so load order is import order, and end in ``.csv``; each file is written under a
``.part`` name and renamed, so a running scheduler never reads half a file.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from data.sources.convert import Converted

__all__ = ["write_landing"]


def write_landing(landing_dir: Path, source_name: str, conv: Converted, now: datetime | None = None) -> list[Path]:
    """Write the converted rows as landing files; returns their paths (reference files first)."""
    stamp = f"{(now or datetime.now(UTC)).astimezone(UTC):%Y%m%dT%H%M%S%fZ}"
    tag = re.sub(r"[^A-Za-z0-9_-]+", "-", source_name).strip("-") or "source"
    out = []
    for table, frame in (("departments", conv.departments), ("categories", conv.categories),
                         ("channels", conv.channels), ("events", conv.events)):
        if frame.empty and table != "events":
            continue
        name = f"{stamp}_{tag}.csv" if table == "events" else f"{stamp}_{tag}_delta.csv"
        out.append(_write(landing_dir / table / name, frame))
    return out


def _write(path: Path, frame: pd.DataFrame) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    frame.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    os.replace(tmp, path)
    return path
