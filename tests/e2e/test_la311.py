"""LA's real MyLA311 extracts, end to end: geography import, source import, warehouse, as the README says.

Checks of issue 10 on real data: every row accounted for (loaded + quarantined = rows in, each
quarantined row with its reason), at least 97 % of the rows with coordinates placed in a council,
and the cases per council equal to a plain pandas count of the export's council column, except
for the rows the warehouse placed elsewhere (by their coordinates) or quarantined.
"""

from __future__ import annotations

import pandas as pd
import pytest

from data.warehouse import connect
from tests.conftest import shared_data

EXTRACTS = {
    # fixture: (file, id column, council column, latitude column)
    "la2020": ("la311_requests_2020_10k.csv", "srnumber", "nc", "latitude"),
    "la2017": ("MyLA311_Service_Request_Data_2017_Subset.csv", "SRNumber", "NC", "Latitude"),
}


def _rows(settings, sql: str) -> pd.DataFrame:
    con = connect(settings.work_db, settings.timezone, read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


@pytest.mark.parametrize("fixture", sorted(EXTRACTS))
def test_every_row_is_accounted_for_and_cases_sit_in_the_council_the_export_names(request, fixture):
    settings = request.getfixturevalue(fixture)
    name, id_col, nc_col, lat_col = EXTRACTS[fixture]
    raw = pd.read_csv(shared_data("la311", name), dtype=str, keep_default_na=False)

    files = _rows(settings, "SELECT sum(rows_in) AS n_in, sum(rows_loaded) AS loaded, sum(rows_quarantined) AS quar "
                            "FROM etl_files WHERE table_name = 'events'").iloc[0]
    assert files["n_in"] == len(raw) and files["loaded"] + files["quar"] == len(raw)
    quarantined = _rows(settings, "SELECT reason, raw FROM quarantine WHERE table_name = 'events'")
    assert len(quarantined) == files["quar"] and quarantined["reason"].str.len().gt(0).all()

    events = _rows(settings, "SELECT case_id, microgrid_id FROM events")
    assert len(events) == files["loaded"] and set(events["case_id"]) <= set(raw[id_col])
    levels = _rows(settings, "SELECT level, name_en FROM area_levels ORDER BY depth")
    assert levels["name_en"].tolist() == ["City", "Region", "Neighborhood Council"]
    councils = set(_rows(settings, "SELECT area_id FROM areas WHERE level = 'microgrid'")["area_id"])
    assert len(councils) == 99 and set(events["microgrid_id"]) <= councils

    with_xy = set(raw.loc[raw[lat_col].ne(""), id_col])
    placed_xy = with_xy & set(events["case_id"])
    assert len(placed_xy) >= 0.97 * len(with_xy), f"{len(placed_xy)} of {len(with_xy)} rows with coordinates placed"

    # per council: the warehouse's count (SQL) against the export's own column (pandas), rows placed
    # elsewhere and quarantined rows accounted for one by one
    said = raw.set_index(id_col)[nc_col]
    events["said"] = said.reindex(events["case_id"]).to_numpy()
    elsewhere = events[events["microgrid_id"] != events["said"]]
    assert len(elsewhere) <= 0.03 * len(events)
    lost = raw[~raw[id_col].isin(events["case_id"])]
    in_warehouse = _rows(settings, "SELECT microgrid_id, count(*) AS n FROM events GROUP BY ALL").set_index(
        "microgrid_id")["n"]
    in_export = raw[nc_col].value_counts()
    for council in councils:
        expected = (in_export.get(council, 0) - (lost[nc_col] == council).sum()
                    - (elsewhere["said"] == council).sum() + (elsewhere["microgrid_id"] == council).sum())
        assert in_warehouse.get(council, 0) == expected, council


def test_the_2020_deployment_runs_on_its_own_zone_and_calendar(la2020):
    from metrics.calendar import default_calendar

    assert la2020.timezone == "America/Los_Angeles" and la2020.calendar == "US-CA" and la2020.language == "en"
    newest = _rows(la2020, "SELECT max(received_at) AS t FROM events")["t"].iloc[0]
    assert pd.Timestamp(newest).tz_convert("America/Los_Angeles") == pd.Timestamp("2020-01-03 14:22",
                                                                                   tz="America/Los_Angeles")
    cal = default_calendar(la2020)
    assert not cal.is_workday(pd.Timestamp("2020-01-01").date())  # New Year's Day in California
    meta = _rows(la2020, "SELECT * FROM warehouse_meta")
    assert "demo" not in meta.get("value", pd.Series(dtype=str)).tolist()  # never a demo: no simulator


def test_a_three_day_extract_has_no_usual_so_nothing_is_a_surge(la2020):
    """With no history before the data, "usually 0" is unknown, not zero: no surge (1,055 bulky-item
    reports in 6 h were flagged as a surge against "usually fewer than 1" before)."""
    from data.snapshot import SnapshotReader
    from metrics.freshness import newest_case
    from metrics.scope import Scope, district_area
    from metrics.warnings import surges

    reader = SnapshotReader(la2020.warehouse_dir, la2020.timezone)
    try:
        con = reader.cursor()
        now = newest_case(con)
        district = Scope(district_area(con)["area_id"], level="district")
        assert con.execute("SELECT count(*) FROM events WHERE received_at > ?::TIMESTAMPTZ - INTERVAL 6 HOUR",
                           [now]).fetchone()[0] > 1000  # a busy morning: candidates enough
        assert surges(con, district, now, la2020) == []
    finally:
        reader.close()


def test_weeks_before_the_data_are_no_baseline(la2020):
    """The open backlog's target is its baseline; a 3-day extract has none, so no target and no status
    (it read "6,375 open, target <= 0, alert" before)."""
    from data.snapshot import SnapshotReader
    from metrics.freshness import newest_case
    from metrics.scope import Scope, Window, district_area
    from metrics.vitals import vital_signs

    reader = SnapshotReader(la2020.warehouse_dir, la2020.timezone)
    try:
        con = reader.cursor()
        now = newest_case(con)
        district = Scope(district_area(con)["area_id"], level="district")
        signs = {m.key: m for m in vital_signs(con, district, Window.named("today", now, la2020.timezone), now,
                                               la2020).metrics}
        for key in ("open_backlog", "overdue_open", "received"):
            assert signs[key].value is not None and signs[key].baseline is None, key
        assert signs["open_backlog"].target is None and signs["open_backlog"].status == "none"
    finally:
        reader.close()
