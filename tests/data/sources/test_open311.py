"""Open311 GeoReport v2: the real Chicago response parsed, converted and loaded through the ETL."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from data.sources import convert, load_mapping, read_source
from data.sources.open311 import flatten_request
from tests.conftest import shared_data
from tests.data.conftest import assert_counts_add_up
from tests.data.sources.conftest import EXAMPLES, land_areas, loaded, quarantined, run_import

CHICAGO = ("open311", "chicago_open311_georeport_v2_requests_2014.json")
MAPPING = EXAMPLES / "chicago-open311" / "source.toml"
CDT = timezone(timedelta(hours=-5))


def _chicago():
    path = shared_data(*CHICAGO)
    m = load_mapping(MAPPING)
    return path, m, convert(read_source(m, [path]), m, "America/Chicago")


def test_the_chicago_response_parses_50_requests_with_statuses_and_times():
    path, _, conv = _chicago()
    ev = conv.events.set_index("case_id")
    assert len(ev) == 50 and ev.index.is_unique
    # GeoReport says 49 closed, 1 open; the open one has a "Work Assigned" note, so it is accepted (times win)
    assert ev["status"].value_counts().to_dict() == {"closed": 49, "accepted": 1}
    assert conv.status_changed == 1
    first = ev.loc["14-00684314"]
    assert first["received_at"] == "2014-05-09T19:02:21-05:00"
    assert first["closed_at"] == "2015-10-10T10:15:40-05:00"  # the "Request closed" note
    assert first["accepted_at"] == "" and first["dispatched_at"] == ""
    assert first["category_id"] == "pothole-in-street" and first["channel"] == "hotline"
    assert first["department_id"] == "division-of-in-house-construction-cdot"
    assert (first["lat"], first["lon"]) == ("41.74685764200721", "-87.6536401592609")
    opened = ev.loc["14-01873637"]
    assert (opened["accepted_at"], opened["closed_at"]) == ("2014-10-30T14:29:00-05:00", "")
    # every closed request has a closing time; notes about follow-on requests never count
    raw = json.loads(path.read_text())
    for req in raw:
        row = ev.loc[req["service_request_id"]]
        closing = [n["datetime"] for n in req["notes"] if n["type"] == "closed"]
        if req["status"] == "closed":
            got = datetime.fromisoformat(row["closed_at"])
            assert got == datetime.fromisoformat(closing[0] if closing else req["updated_datetime"])
        assigned = [n["datetime"] for n in req["notes"]
                    if not n["type"].startswith("follow_on") and "assign" in n["summary"].lower()]
        assert row["accepted_at"] == (datetime.fromisoformat(assigned[0]).isoformat() if assigned else "")
    assert (ev["accepted_at"] != "").sum() == 45
    assert (ev["dispatched_at"] != "").sum() == 0  # no note says a crew was dispatched
    assert set(conv.categories.query("level == 1")["name"]) == {"Chicago 311"}


def test_notes_set_stages_and_closed_falls_back_to_updated_datetime():
    notes = load_mapping(MAPPING).notes
    req = {"service_request_id": "1", "status": "closed", "requested_datetime": "2020-01-01T08:00:00-06:00",
           "updated_datetime": "2020-01-03T08:00:00-06:00",
           "notes": [{"type": "activity", "summary": "Crew dispatched", "datetime": "2020-01-02T08:00:00-06:00"},
                     {"type": "follow_on_closed", "summary": "Follow-on X Closed", "datetime": "2020-01-02T09:00:00-06:00"}]}
    row = flatten_request(req, notes)
    assert row["note_dispatched"] == "2020-01-02T08:00:00-06:00"
    assert row["note_accepted"] == ""
    assert row["note_closed"] == "2020-01-03T08:00:00-06:00"  # no closing note: updated_datetime
    assert flatten_request(dict(req, status="open"), notes)["note_closed"] == ""


def test_paged_files_and_expected_datetime_as_due_at(tmp_path):
    m = load_mapping(MAPPING)
    page = [{"service_request_id": f"R{i}", "status": "open", "service_name": "Pothole",
             "requested_datetime": "2020-01-01T08:00:00-06:00", "updated_datetime": "2020-01-01T09:00:00-06:00",
             "expected_datetime": "2020-01-08T08:00:00-06:00", "lat": 41.8, "long": -87.6} for i in range(3)]
    a, b = tmp_path / "p1.json", tmp_path / "p2.json"
    a.write_text(json.dumps(page[:2]))
    b.write_text(json.dumps({"requests": page[2:]}))
    ev = convert(read_source(m, [a, b]), m, "America/Chicago").events
    assert list(ev["case_id"]) == ["R0", "R1", "R2"]
    assert set(ev["due_at"]) == {"2020-01-08T08:00:00-06:00"}
    assert set(ev["status"]) == {"received"}


def test_the_chicago_response_loads_into_a_warehouse_that_covers_it(city):
    path = shared_data(*CHICAGO)
    raw = json.loads(path.read_text())
    # no ward polygons ship: one square per ward, the bounding box of its requests grown by 1 km
    wards: dict[str, list] = {}
    for r in raw:
        wards.setdefault(r["extended_attributes"]["ward"], []).append((r["long"], r["lat"]))
    cells = {}
    for ward, pts in sorted(wards.items(), key=lambda kv: int(kv[0])):
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        cells[f"W{ward}"] = (min(xs) - 0.01, min(ys) - 0.01, max(xs) + 0.01, max(ys) + 0.01)
    land_areas(city, cells)
    res = run_import(city, MAPPING, [path])
    assert_counts_add_up(city, res.cycle)
    ev = [f for f in res.cycle.files if f.table == "events"][0]
    assert (ev.rows_in, ev.rows_loaded, ev.rows_quarantined) == (50, 50, 0), quarantined(city, res.cycle.run_id)
    cases = loaded(city)
    assert len(cases) == 50
    status, received, closed, due, area = cases["14-00684314"]
    assert status == "closed" and area in cells and due is None
    assert all(c[4] in cells for c in cases.values())
    assert received == datetime(2014, 5, 9, 19, 2, 21, tzinfo=CDT)
    assert closed == datetime(2015, 10, 10, 10, 15, 40, tzinfo=CDT)
    assert cases["14-01873637"][0] == "accepted"


def test_stage_notes_out_of_order_are_quarantined_with_their_reason(city, tmp_path):
    land_areas(city, {"A": (-87.7, 41.7, -87.6, 41.8)})
    req = {"service_request_id": "X", "status": "closed", "service_name": "Pothole", "lat": 41.75, "long": -87.65,
           "requested_datetime": "2020-01-01T08:00:00-06:00", "updated_datetime": "2020-01-05T08:00:00-06:00",
           "notes": [{"type": "activity", "summary": "Crew dispatched", "datetime": "2020-01-02T08:00:00-06:00"},
                     {"type": "activity", "summary": "Work Assigned", "datetime": "2020-01-03T08:00:00-06:00"}]}
    f = tmp_path / "r.json"
    f.write_text(json.dumps([req]))
    res = run_import(city, MAPPING, [Path(f)])
    assert_counts_add_up(city, res.cycle)
    assert quarantined(city, res.cycle.run_id) == [(2, "time_order")]


def test_a_point_outside_every_area_is_quarantined_not_lost(city, tmp_path):
    land_areas(city, {"A": (-87.7, 41.7, -87.6, 41.8)})
    reqs = [{"service_request_id": "in", "status": "open", "service_name": "Pothole",
             "requested_datetime": "2020-01-01T08:00:00-06:00", "lat": 41.75, "long": -87.65},
            {"service_request_id": "out", "status": "open", "service_name": "Pothole",
             "requested_datetime": "2020-01-01T08:00:00-06:00", "lat": 40.0, "long": -80.0},
            {"service_request_id": "", "status": "open", "service_name": "Pothole",
             "requested_datetime": "2020-01-01T08:00:00-06:00", "lat": 41.75, "long": -87.65}]
    f = tmp_path / "r.json"
    f.write_text(json.dumps(reqs))
    res = run_import(city, MAPPING, [Path(f)])
    assert_counts_add_up(city, res.cycle)
    assert [r for _, r in quarantined(city, res.cycle.run_id)] == ["outside_district", "missing_value"]
    assert list(loaded(city)) == ["in"]
