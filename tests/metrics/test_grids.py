"""Grid aggregates against pandas: every area listed (zeros filled in), counts, rates, top category."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metrics.calendar import default_calendar
from metrics.grids import GRID_COLUMNS, grid_aggregates
from metrics.scope import Scope, Window
from metrics.sla import SlaRules, deadlines
from metrics.vitals import baseline_windows, vital_signs

TZ = "Asia/Shanghai"
COLUMN = {"street": "street_id", "community": "community_id", "grid": "grid_id", "microgrid": "microgrid_id"}


@pytest.mark.parametrize(("scope", "level", "key"), [
    (Scope("330108"), "microgrid", "today"), (Scope("330108"), "street", "30d"), (Scope("330108002"), "grid", "7d"),
    (Scope("330108", channels=("hotline",)), "community", "7d"),
], ids=["district-microgrid-today", "district-street-30d", "street-grid-7d", "hotline-community-7d"])
def test_grid_aggregates_match_pandas(demo, scope, level, key):
    window = Window.named(key, demo.now, TZ)
    df = grid_aggregates(demo.cursor(), scope, level, window, demo.now, demo.settings)
    assert list(df.columns) == list(GRID_COLUMNS)
    areas = demo.areas[demo.areas["level"] == level]
    if scope.area_id != "330108":
        areas = areas[areas["street_id"] == scope.area_id]
    assert list(df["area_id"]) == sorted(areas["area_id"])  # every area, in id order, zeros filled
    ev = demo.events
    if scope.area_id != "330108":
        ev = ev[ev["street_id"] == scope.area_id]
    if scope.channels:
        ev = ev[ev["channel"].isin(scope.channels)]
    col = COLUMN[level]
    ws, we = window.start, window.end
    rec = ev[(ev["received_at"] >= ws) & (ev["received_at"] < we)]
    got = df.set_index("area_id")
    cases = rec.groupby(col).size().reindex(got.index, fill_value=0)
    assert (got["cases"] == cases).all()
    residents = areas.set_index("area_id")["residents"].reindex(got.index)
    assert np.allclose(got["per_10k"], 10_000 * cases / residents)
    open_ = ev[(ev["received_at"] < we) & (ev["closed_at"].isna() | (ev["closed_at"] >= we))]
    assert (got["open"] == open_.groupby(col).size().reindex(got.index, fill_value=0)).all()
    dl = deadlines(ev, SlaRules.from_settings(demo.settings), default_calendar(demo.settings), TZ, demo.now)
    close = dl[dl["stage"] == "close"].set_index("case_id")
    due = open_["case_id"].map(close["due_at"])
    assert (got["overdue"] == open_[due < we].groupby(col).size().reindex(got.index, fill_value=0)).all()
    judged = close[(close["due_at"] >= ws) & (close["due_at"] < we)].join(ev.set_index("case_id")[[col]])
    judged["met"] = judged["done_at"].notna() & (judged["done_at"] <= judged["due_at"])
    rate = (100 * judged.groupby(col)["met"].mean()).reindex(got.index)
    assert np.allclose(got["on_time_pct"].astype(float), rate.astype(float), equal_nan=True)
    top = (rec.groupby([col, "category_id"]).size().rename("n").reset_index()
           .sort_values([col, "n", "category_id"], ascending=[True, False, True]).groupby(col).head(1)
           .set_index(col)["category_id"].reindex(got.index))
    assert got["top_category"].fillna("-").equals(top.fillna("-"))
    names = demo.cursor().execute("SELECT category_id, name FROM categories").df().set_index("category_id")["name"]
    assert got["top_category_name"].fillna("-").equals(top.map(names).fillna("-"))
    length = (we - ws).total_seconds()
    weekly = [ev[(ev["received_at"] >= a) & (ev["received_at"] < b)].groupby(col).size().reindex(
        got.index, fill_value=0) * length / (b - a).total_seconds() for a, b in baseline_windows(ws, we)
        if a.date() >= ev["received_at"].min().date()]  # none from before the data (not weeks of zeros)
    assert weekly
    baseline = sum(weekly) / len(weekly)
    assert np.allclose(got["baseline"], baseline)
    change = np.where(baseline > 0, 100 * (cases / baseline.where(baseline > 0, 1) - 1), np.nan)
    assert np.allclose(got["change_pct"].astype(float), change, equal_nan=True)


def test_all_3116_micro_grids_even_the_quiet_ones(demo):
    df = grid_aggregates(demo.cursor(), Scope("330108"), "microgrid", Window.named("today", demo.now, TZ), demo.now,
                         demo.settings)
    assert len(df) == 3116 == df["area_id"].nunique()
    quiet = df[df["cases"] == 0]
    assert len(quiet) > 2000 and quiet["top_category"].isna().all() and (quiet["per_10k"].fillna(0) == 0).all()


@pytest.mark.parametrize("key", ["7d", "30d", "90d"])  # 90d: the demo's data covers no baseline period
def test_grid_totals_equal_the_vital_signs(demo, key):
    window = Window.named(key, demo.now, TZ)
    scope = Scope("330108001")
    df = grid_aggregates(demo.cursor(), scope, "microgrid", window, demo.now, demo.settings)
    vs = vital_signs(demo.cursor(), scope, window, demo.now, demo.settings).by_key()
    assert df["cases"].sum() == vs["received"].value
    assert df["open"].sum() == vs["open_backlog"].value
    assert df["overdue"].sum() == vs["overdue_open"].value
    if vs["received"].baseline is None:  # no baseline, not a baseline of zeros
        assert df["baseline"].isna().all() and df["change_pct"].isna().all()
    else:
        assert df["baseline"].sum() == pytest.approx(vs["received"].baseline)
    district = grid_aggregates(demo.cursor(), scope, "street", window, demo.now, demo.settings)
    assert len(district) == 1 and district["cases"].iloc[0] == vs["received"].value


def test_district_level_and_level_checks(demo):
    window = Window.named("today", demo.now, TZ)
    one = grid_aggregates(demo.cursor(), Scope("330108"), "district", window, demo.now, demo.settings)
    assert list(one["area_id"]) == ["330108"] and one["residents"].iloc[0] == demo.areas.query(
        "level == 'district'")["residents"].iloc[0]
    assert one["cases"].iloc[0] == ((demo.events["received_at"] >= window.start)
                                    & (demo.events["received_at"] < window.end)).sum()
    with pytest.raises(ValueError):
        grid_aggregates(demo.cursor(), Scope("330108001"), "district", window, demo.now, demo.settings)
    with pytest.raises(ValueError):
        grid_aggregates(demo.cursor(), Scope("330108"), "block", window, demo.now, demo.settings)
    assert isinstance(one, pd.DataFrame)
