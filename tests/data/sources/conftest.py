"""Helpers of the source tests: a fresh city deployment and a tiny geography landed as an areas file."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from data.sources import import_files, load_mapping, parse_mapping
from settings import Settings
from tests.conftest import settings_for
from tests.data.conftest import land, query

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"


def box(minx: float, miny: float, maxx: float, maxy: float) -> dict:
    """A rectangle as a GeoJSON polygon."""
    return {"type": "Polygon", "coordinates": [[[minx, miny], [maxx, miny], [maxx, maxy], [minx, maxy], [minx, miny]]]}


def land_areas(settings: Settings, cells: dict[str, tuple[float, float, float, float]]) -> None:
    """Land a tiny geography: one top area over all cells, one area per level between, a finest area per cell.

    Written in the areas landing format (see tests/data/conftest.py), loaded by the import's own cycle.
    """
    xs = [c[0] for c in cells.values()] + [c[2] for c in cells.values()]
    ys = [c[1] for c in cells.values()] + [c[3] for c in cells.values()]
    whole = box(min(xs), min(ys), max(xs), max(ys))
    cols = ["area_id", "level", "name", "name_en", "parent_id", "street_id", "community_id", "grid_id", "residents",
            "area_km2", "geojson"]
    rows = [["T", "district", "Town", "Town", "", "", "", "", 1000, 10, json.dumps(whole)],
            ["T-S", "street", "S", "S", "T", "T-S", "", "", 1000, 10, json.dumps(whole)],
            ["T-C", "community", "C", "C", "T-S", "T-S", "T-C", "", 1000, 10, json.dumps(whole)],
            ["T-G", "grid", "G", "G", "T-C", "T-S", "T-C", "T-G", 1000, 10, json.dumps(whole)]]
    for area_id, b in cells.items():
        rows.append([area_id, "microgrid", area_id, area_id, "T-G", "T-S", "T-C", "T-G", 100, 1, json.dumps(box(*b))])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    w.writerows(rows)
    land(settings, "0000_areas_full.csv", buf.getvalue(), table="areas")


@pytest.fixture
def city(tmp_path) -> Settings:
    """A fresh deployment (no demo) in Chicago's zone, under the test's own folder."""
    return settings_for(tmp_path / "var", timezone="America/Chicago", language="en", calendar="US")


def run_import(settings: Settings, mapping, files: list[Path]):
    """Import files through a mapping (a path or a dict) and return the ImportResult."""
    m = parse_mapping(mapping, Path("<test>")) if isinstance(mapping, dict) else load_mapping(mapping)
    return import_files(settings, m, files)


def loaded(settings: Settings) -> dict[str, tuple]:
    """case_id -> (status, received_at, closed_at, due_at, microgrid_id) of the warehouse's cases."""
    rows = query(settings, "SELECT case_id, status, received_at, closed_at, due_at, microgrid_id FROM events")
    return {r[0]: r[1:] for r in rows}


def quarantined(settings: Settings, run_id: int) -> list[tuple]:
    """(line, reason) of a run's quarantined rows."""
    return query(settings, "SELECT line, reason FROM quarantine WHERE run_id = ? ORDER BY line", [run_id])
