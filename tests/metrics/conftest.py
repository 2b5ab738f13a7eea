"""Fixtures for the metric tests: the demo snapshot as a cursor and as pandas frames, and tiny
synthetic warehouses whose every count is known (for the warning detectors).

The pandas frames are the "independent computation" the metric tests compare against: they are
read straight from the snapshot's tables and every test recomputes its number with plain pandas,
sharing nothing with the SQL but the definitions in docs/metrics.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data.demo import catalogue as cat
from data.marts import refresh_all
from data.snapshot import SnapshotReader, publish
from data.warehouse import apply_schema, connect
from metrics import cache
from settings import Settings
from tests.conftest import FIXTURE_NOW, settings_for

TZ = "Asia/Shanghai"


@dataclass
class Demo:
    """The small demo, opened once: settings, a read-only cursor and its tables in pandas."""

    settings: Settings
    reader: SnapshotReader
    events: pd.DataFrame
    areas: pd.DataFrame
    assets: pd.DataFrame
    now: datetime

    def cursor(self):
        return self.reader.cursor()


@pytest.fixture(scope="session")
def demo(small_demo) -> Demo:
    """The session's small demo as a reader and pandas frames (timestamps in the local zone)."""
    cache.clear_caches()
    reader = SnapshotReader(small_demo.warehouse_dir, small_demo.timezone)
    con = reader.cursor()
    events = con.execute("SELECT * FROM events").df()
    for col in ("received_at", "accepted_at", "dispatched_at", "closed_at", "updated_at"):
        events[col] = pd.to_datetime(events[col]).dt.tz_convert(TZ)
    areas = con.execute("SELECT * EXCLUDE (geometry_wkb, geojson, geojson_simple) FROM areas").df()
    assets = con.execute("SELECT * FROM assets").df()
    con.close()
    return Demo(small_demo, reader, events, areas, assets, FIXTURE_NOW)


# --------------------------------------------------------------------------------------------
# Synthetic warehouses
# --------------------------------------------------------------------------------------------
SYN_STREET = "330108001"
SYN_GRIDS = ("G001", "G002", "G003", "G004")
SYN_CATEGORIES = ("CITY-01", "ENV-01", "TRAF-01")


def _areas_frame() -> pd.DataFrame:
    """A district with one street, two communities, four grids and eight micro-grids."""
    rows = [("330108", "district", "滨江区", "Binjiang District", None, None, None, None, 8000),
            (SYN_STREET, "street", "西兴街道", "Xixing Street", "330108", SYN_STREET, None, None, 8000)]
    for c in range(2):
        comm = f"{SYN_STREET}{c + 1:03d}"
        rows.append((comm, "community", f"社区{c + 1}", f"Community {c + 1}", SYN_STREET, SYN_STREET, comm, None, 4000))
        for g in range(2):
            grid = SYN_GRIDS[2 * c + g]
            rows.append((grid, "grid", f"网格 {grid[1:]}", f"Grid {grid[1:]}", comm, SYN_STREET, comm, grid, 2000))
            for m in range(2):
                mg = f"{grid}-{m + 1}"
                rows.append((mg, "microgrid", f"微网格 {mg[1:]}", f"Micro-grid {mg[1:]}", grid, SYN_STREET, comm, grid,
                             1000))
    df = pd.DataFrame(rows, columns=["area_id", "level", "name", "name_en", "parent_id", "street_id", "community_id",
                                     "grid_id", "residents"])
    df["land_use"] = "residential"
    df["area_km2"] = 0.1
    df["centroid_lon"] = 120.2
    df["centroid_lat"] = 30.2
    df["geometry_wkb"] = [b"\x00"] * len(df)
    df["geojson"] = "{}"
    df["geojson_simple"] = "{}"
    return df


def synthetic_events(now: datetime, weeks: int = 6, rate_per_hour: float = 0.02, seed: int = 1) -> pd.DataFrame:
    """Poisson reports for every micro-grid x category at a constant hourly rate, all closed quickly.

    With 8 micro-grids x 3 categories at 0.02 an hour, a 6-hour window expects 0.12 reports per
    cell: a quiet district where nothing should ever be flagged.
    """
    rng = np.random.default_rng(seed)
    areas = _areas_frame()
    mgs = areas[areas["level"] == "microgrid"]
    start = now - timedelta(weeks=weeks)
    hours = int((now - start).total_seconds() // 3600)
    rows = []
    for mg in mgs.itertuples(index=False):
        for category in SYN_CATEGORIES:
            counts = rng.poisson(rate_per_hour, hours)
            for h in np.flatnonzero(counts):
                for _ in range(counts[h]):
                    t = start + timedelta(hours=int(h), seconds=float(rng.uniform(0, 3600)))
                    rows.append((mg.area_id, mg.grid_id, mg.community_id, mg.street_id, category, t))
    return events_frame(rows, now)


def events_frame(rows: list[tuple], now: datetime) -> pd.DataFrame:
    """Events rows (micro-grid, grid, community, street, category, received_at): accepted after 20 s, closed
    after 2 h (still open when that is after ``now``)."""
    cats = {c.category_id: c for c in cat.CATEGORIES}
    df = pd.DataFrame(rows, columns=["microgrid_id", "grid_id", "community_id", "street_id", "category_id",
                                     "received_at"])
    df = df[df["received_at"] < now].sort_values("received_at").reset_index(drop=True)
    df["received_at"] = pd.to_datetime(df["received_at"]).dt.tz_convert("UTC")
    df.insert(0, "case_id", [f"S{i:07d}" for i in range(len(df))])
    df["channel"] = "qr"
    df["category_l1"] = df["category_id"].map(lambda c: cats[c].parent_id)
    df["urgency"] = "normal"
    df["route"] = "auto"
    df["department_id"] = df["category_id"].map(lambda c: cats[c].department_id)
    df["needs_dispatch"] = False
    df["summary"] = "synthetic"
    df["lon"] = 120.2
    df["lat"] = 30.2
    df["accepted_at"] = df["received_at"] + pd.Timedelta(seconds=20)
    df["dispatched_at"] = pd.Series(pd.NaT, index=df.index, dtype=df["received_at"].dtype)
    df["closed_at"] = df["received_at"] + pd.Timedelta(hours=2)
    nowts = pd.Timestamp(now).tz_convert("UTC")
    still_open = df["closed_at"] >= nowts
    df.loc[still_open, "closed_at"] = pd.NaT
    df["status"] = np.where(still_open, "accepted", "closed")
    df["satisfaction"] = pd.array([5] * len(df), dtype="Int8")
    df["updated_at"] = df["received_at"]
    return df


def burst(now: datetime, microgrid: str, category: str, n: int, hours: float = 6, seed: int = 2) -> list[tuple]:
    """``n`` extra reports of ``category`` in ``microgrid`` spread over the last ``hours``."""
    rng = np.random.default_rng(seed)
    grid = microgrid.split("-")[0]
    comm = {g: f"{SYN_STREET}{i // 2 + 1:03d}" for i, g in enumerate(SYN_GRIDS)}[grid]
    return [(microgrid, grid, comm, SYN_STREET, category, now - timedelta(seconds=float(rng.uniform(1, hours * 3600))))
            for _ in range(n)]


def build_warehouse(var_dir: Path, events: pd.DataFrame, extra_events: pd.DataFrame | None = None) -> Settings:
    """A warehouse from the schema DDL with the synthetic areas, the catalogues and ``events``; published."""
    settings = settings_for(var_dir)
    con = connect(settings.work_db, settings.timezone)
    try:
        apply_schema(con)
        for name, frame in (("areas", _areas_frame()), ("categories", cat.categories_frame()),
                            ("departments", cat.departments_frame()), ("channels", cat.channels_frame())):
            con.register("ref_df", frame)
            con.execute(f"INSERT INTO {name} ({', '.join(frame.columns)}) SELECT * FROM ref_df")
            con.unregister("ref_df")
        frames = [events] if extra_events is None else [events, extra_events]
        for frame in frames:
            con.register("ev_df", frame)
            con.execute(f"INSERT INTO events ({', '.join(frame.columns)}) SELECT * FROM ev_df")
            con.unregister("ev_df")
        refresh_all(con)
        con.execute("INSERT INTO etl_runs (run_id, kind, started_at, finished_at, status) "
                    "VALUES (1, 'demo', now(), now(), 'ok')")
        publish(con, settings.warehouse_dir, run_id=1)
    finally:
        con.close()
    return settings


@pytest.fixture
def quiet_warehouse(tmp_path) -> Settings:
    """Six weeks of steady, sparse reports: nothing unusual anywhere."""
    return build_warehouse(tmp_path / "var", synthetic_events(FIXTURE_NOW))


def open_cursor(settings: Settings):
    """A read-only cursor on the published snapshot of ``settings``."""
    return SnapshotReader(settings.warehouse_dir, settings.timezone).cursor()
