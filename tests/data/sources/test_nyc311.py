"""NYC 311 as exported from NYC Open Data: both timestamp styles, Due Date, Community Board placement."""

from __future__ import annotations

import csv
from datetime import datetime
from zoneinfo import ZoneInfo

from data.sources import convert, load_mapping, read_source
from tests.conftest import settings_for
from tests.data.conftest import assert_counts_add_up
from tests.data.sources.conftest import EXAMPLES, land_areas, loaded, quarantined, run_import

NY = ZoneInfo("America/New_York")
MAPPING = EXAMPLES / "nyc311" / "source.toml"
COLUMNS = ["Unique Key", "Created Date", "Closed Date", "Agency", "Agency Name", "Complaint Type", "Descriptor",
           "Location Type", "Incident Zip", "Status", "Due Date", "Resolution Description",
           "Resolution Action Updated Date", "Community Board", "Borough", "Open Data Channel Type", "Latitude",
           "Longitude", "Location"]
MANHATTAN_12 = (-73.95, 40.83, -73.90, 40.88)  # finest area "112" (BoroCD), a rough square in Washington Heights


def _row(key, created, closed, due, status, board, lat="", lon="", updated=""):
    return {"Unique Key": key, "Created Date": created, "Closed Date": closed, "Agency": "NYPD",
            "Agency Name": "New York City Police Department", "Complaint Type": "Noise - Residential",
            "Descriptor": "Loud Music/Party", "Status": status, "Due Date": due, "Community Board": board,
            "Borough": "MANHATTAN", "Open Data Channel Type": "PHONE", "Latitude": lat, "Longitude": lon,
            "Resolution Action Updated Date": updated}


ROWS = [  # the portal's format, then a spreadsheet re-save's two styles
    _row("40000001", "10/01/2018 12:00:00 AM", "10/01/2018 02:30:00 AM", "10/01/2018 08:00:00 AM", "Closed",
         "12 MANHATTAN", "40.85", "-73.93", "10/01/2018 02:30:00 AM"),
    _row("40000002", "2018-10-01 01:15:00", "", "2018-10-01 09:15:00", "Open", "12 MANHATTAN"),
    _row("40000003", "10/1/2018 2:00", "10/1/2018 3:00", "", "Closed", "12 MANHATTAN", "40.86", "-73.92"),
    _row("40000004", "10/1/2018 4:00", "", "", "Open", "0 Unspecified"),
    _row("40000005", "10/01/2018 05:00:00 AM", "", "10/01/2018 04:00:00 AM", "Assigned", "12 MANHATTAN", "40.85",
         "-73.93"),
]


def _write(path, rows):
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, COLUMNS)
        w.writeheader()
        w.writerows(rows)


def test_both_timestamp_styles_and_the_due_date_convert(tmp_path):
    path = tmp_path / "311.csv"
    _write(path, ROWS)
    m = load_mapping(MAPPING)
    ev = convert(read_source(m, [path]), m, "Asia/Shanghai").events.set_index("case_id")
    assert ev.loc["40000001", "received_at"] == "2018-10-01T00:00:00-04:00"
    assert ev.loc["40000002", "received_at"] == "2018-10-01T01:15:00-04:00"
    assert ev.loc["40000003", "closed_at"] == "2018-10-01T03:00:00-04:00"
    assert ev.loc["40000001", "due_at"] == "2018-10-01T08:00:00-04:00"
    assert ev.loc["40000001", "category_id"] == "noise-residential"
    assert ev.loc["40000001", "summary"] == "Noise - Residential: Loud Music/Party"
    # coordinates first; the Community Board only for a row without them
    assert ev.loc["40000001", "microgrid_id"] == "" and ev.loc["40000002", "microgrid_id"] == "112"
    assert ev.loc["40000004", "microgrid_id"] == "0 Unspecified"
    assert ev.loc["40000005", "status"] == "received"  # "Assigned" without an acceptance time: the times win


def test_a_small_export_loads_with_every_row_accounted_for(tmp_path):
    settings = settings_for(tmp_path / "var", timezone="America/New_York", language="en")
    land_areas(settings, {"112": MANHATTAN_12})
    path = tmp_path / "311.csv"
    _write(path, ROWS)
    res = run_import(settings, MAPPING, [path])
    assert_counts_add_up(settings, res.cycle)
    ev = [f for f in res.cycle.files if f.table == "events"][0]
    assert (ev.rows_in, ev.rows_loaded + ev.rows_quarantined) == (5, 5)
    assert quarantined(settings, res.cycle.run_id) == [(5, "unknown_area"), (6, "due_before_received")]
    cases = loaded(settings)
    assert set(cases) == {"40000001", "40000002", "40000003"}
    assert cases["40000001"][3] == datetime(2018, 10, 1, 8, tzinfo=NY)  # Due Date is the case's deadline
    assert cases["40000002"][3:] == (datetime(2018, 10, 1, 9, 15, tzinfo=NY), "112")
    assert cases["40000003"][3] is None  # no due date: the SLA rule decides


def test_an_update_changes_the_due_date(tmp_path):
    settings = settings_for(tmp_path / "var", timezone="America/New_York", language="en")
    land_areas(settings, {"112": MANHATTAN_12})
    path = tmp_path / "311.csv"
    _write(path, ROWS[:1])
    run_import(settings, MAPPING, [path])
    later = dict(ROWS[0], **{"Due Date": "10/02/2018 08:00:00 AM", "Resolution Action Updated Date":
                             "10/01/2018 03:00:00 AM"})
    _write(path, [later])
    res = run_import(settings, MAPPING, [path])
    assert res.cycle.status == "ok" and res.cycle.rows_quarantined == 0
    assert loaded(settings)["40000001"][3] == datetime(2018, 10, 2, 8, tzinfo=NY)
