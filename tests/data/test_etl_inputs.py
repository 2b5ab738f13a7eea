"""Bad landing input, one test each: the right reason code or file-level error, and counts that add up.

Every test lands a small events file in which exactly the rows it breaks are bad, runs one cycle, and
checks (a) what was quarantined or rejected and why, (b) that the good rows loaded, and (c) that rows in
= loaded + quarantined everywhere (result, run record, ledger, quarantine table).
"""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa
import pyarrow.parquet as pq

from tests.data.conftest import (
    EVENT_FILE_COLUMNS,
    assert_counts_add_up,
    cycle,
    demo_cases,
    land,
    query,
    reasons,
    to_csv,
)


def _loaded_ids(settings, prefix="TEST"):
    return {r[0] for r in query(settings, "SELECT case_id FROM events WHERE case_id LIKE ?", [prefix + "%"])}


def _one_file(result):
    assert len(result.files) == 1, result.files
    return result.files[0]


def _rejected(settings, result, code):
    f = _one_file(result)
    assert f.status == "rejected"
    assert f.error.startswith(code + ":"), f.error
    assert (f.rows_in, f.rows_loaded, f.rows_quarantined) == (0, 0, 0)
    ledger = query(settings, "SELECT status, error FROM etl_files WHERE path = ?", [f.path])
    assert ledger == [("rejected", f.error)]
    run_error = query(settings, "SELECT error FROM etl_runs WHERE run_id = ?", [result.run_id])[0][0]
    assert f.path in run_error and code in run_error
    assert_counts_add_up(settings, result)
    return f


def test_wrong_column_names_reject_the_file(etl_env):
    rows = demo_cases(etl_env, 5)
    text = to_csv(rows).replace("case_id,channel", "caseid,channel_name", 1)
    land(etl_env, "wrong-names.csv", text)
    f = _rejected(etl_env, cycle(etl_env), "file_columns")
    assert "unknown columns: caseid, channel_name" in f.error
    assert "missing required columns: case_id, channel" in f.error
    assert _loaded_ids(etl_env) == set()


def test_missing_required_column_rejects_the_file(etl_env):
    rows = demo_cases(etl_env, 5)
    cols = [c for c in EVENT_FILE_COLUMNS if c != "received_at"]
    land(etl_env, "no-received.csv", to_csv(rows, cols))
    f = _rejected(etl_env, cycle(etl_env), "file_columns")
    assert "missing required columns: received_at" in f.error
    assert _loaded_ids(etl_env) == set()


def test_unparsable_timestamp_is_quarantined(etl_env):
    rows = demo_cases(etl_env, 6)
    rows[2]["received_at"] = "2026-13-45 25:61"
    rows[4]["updated_at"] = "yesterday"
    land(etl_env, "bad-time.csv", to_csv(rows))
    result = cycle(etl_env)
    assert_counts_add_up(etl_env, result)
    assert reasons(etl_env, result.run_id) == {4: "bad_timestamp", 6: "bad_timestamp"}  # header is line 1
    detail = query(etl_env, "SELECT detail FROM quarantine WHERE run_id = ? AND line = 4", [result.run_id])[0][0]
    assert "received_at" in detail and "2026-13-45" in detail
    assert _loaded_ids(etl_env) == {"TEST000001", "TEST000002", "TEST000004", "TEST000006"}


def test_times_out_of_order_are_quarantined(etl_env):
    rows = demo_cases(etl_env, 4)
    accepted = [r for r in rows if r["accepted_at"] is not None]
    bad = accepted[0]
    bad["accepted_at"] = bad["received_at"].replace(year=bad["received_at"].year - 1)
    land(etl_env, "order.csv", to_csv(rows))
    result = cycle(etl_env)
    assert_counts_add_up(etl_env, result)
    assert list(reasons(etl_env, result.run_id).values()) == ["time_order"]
    assert bad["case_id"] not in _loaded_ids(etl_env)
    assert len(_loaded_ids(etl_env)) == 3


def test_status_contradicting_times_is_quarantined(etl_env):
    rows = demo_cases(etl_env, 3)
    rows[0]["status"], rows[0]["closed_at"] = "closed", None
    land(etl_env, "status.csv", to_csv(rows))
    result = cycle(etl_env)
    assert_counts_add_up(etl_env, result)
    assert reasons(etl_env, result.run_id) == {2: "status_mismatch"}


def test_coordinates_outside_the_district_are_quarantined(etl_env):
    rows = demo_cases(etl_env, 5)
    rows[0]["lon"], rows[0]["lat"] = 121.4737, 31.2304  # Shanghai, with a micro-grid id
    rows[1]["lon"], rows[1]["lat"], rows[1]["microgrid_id"] = 120.30, 30.10, None  # Xiaoshan, to be placed
    land(etl_env, "outside.csv", to_csv(rows))
    result = cycle(etl_env)
    assert_counts_add_up(etl_env, result)
    assert reasons(etl_env, result.run_id) == {2: "outside_district", 3: "outside_district"}
    assert _loaded_ids(etl_env) == {"TEST000003", "TEST000004", "TEST000005"}


def test_zero_zero_coordinates_are_quarantined(etl_env):
    rows = demo_cases(etl_env, 3)
    rows[1]["lon"], rows[1]["lat"] = 0, 0
    land(etl_env, "null-island.csv", to_csv(rows))
    result = cycle(etl_env)
    assert_counts_add_up(etl_env, result)
    assert reasons(etl_env, result.run_id) == {3: "null_island"}


def test_case_without_place_is_quarantined_and_one_with_coordinates_is_placed(etl_env):
    rows = demo_cases(etl_env, 3)
    want = rows[0]["microgrid_id"]
    rows[0]["microgrid_id"] = None  # placed by point-in-polygon from its lon/lat
    rows[1]["microgrid_id"], rows[1]["lon"], rows[1]["lat"] = None, None, None
    land(etl_env, "place.csv", to_csv(rows))
    result = cycle(etl_env)
    assert_counts_add_up(etl_env, result)
    assert reasons(etl_env, result.run_id) == {3: "no_location"}
    assert result.files[0].placed == 1
    got = query(etl_env, "SELECT microgrid_id, grid_id, street_id FROM events WHERE case_id = 'TEST000001'")[0]
    assert got[0] == want and got[1] and got[2]


def test_unknown_category_is_quarantined(etl_env):
    rows = demo_cases(etl_env, 3)
    rows[0]["category_id"] = "CITY-99"
    rows[2]["category_id"] = "CITY"  # a level-1 category is not a case category
    land(etl_env, "category.csv", to_csv(rows))
    result = cycle(etl_env)
    assert_counts_add_up(etl_env, result)
    assert reasons(etl_env, result.run_id) == {2: "unknown_category", 4: "unknown_category"}


def test_unknown_department_area_and_enum_values_are_quarantined(etl_env):
    rows = demo_cases(etl_env, 5)
    rows[0]["department_id"] = "D-XX"
    rows[1]["microgrid_id"], rows[1]["lon"], rows[1]["lat"] = "G999-9", None, None
    rows[2]["status"] = "done"
    rows[3]["needs_dispatch"] = "maybe"
    land(etl_env, "refs.csv", to_csv(rows))
    result = cycle(etl_env)
    assert_counts_add_up(etl_env, result)
    assert reasons(etl_env, result.run_id) == {2: "unknown_department", 3: "unknown_area", 4: "bad_enum",
                                               5: "bad_boolean"}


def test_duplicate_ids_in_one_file_keep_the_newest(etl_env):
    rows = demo_cases(etl_env, 3)
    newer = dict(rows[1], summary="newer copy", updated_at=rows[1]["updated_at"] + timedelta(hours=1))
    land(etl_env, "dupes.csv", to_csv([rows[0], newer, rows[1], rows[2], dict(rows[2])]))
    result = cycle(etl_env)
    assert_counts_add_up(etl_env, result)
    # line 4 (older) loses to line 3 (newer); of two identical copies (lines 5, 6) the last one is kept
    assert reasons(etl_env, result.run_id) == {4: "duplicate_id", 5: "duplicate_id"}
    assert query(etl_env, "SELECT summary FROM events WHERE case_id = 'TEST000002'")[0][0] == "newer copy"
    detail = query(etl_env, "SELECT detail FROM quarantine WHERE run_id = ? AND line = 4", [result.run_id])[0][0]
    assert detail == "case_id TEST000002 also on line 3 (kept)"
    assert len(_loaded_ids(etl_env)) == 3


def test_empty_file_is_rejected(etl_env):
    land(etl_env, "empty.csv", b"")
    f = _rejected(etl_env, cycle(etl_env), "file_empty")
    assert "no bytes" in f.error


def test_header_only_file_loads_nothing(etl_env):
    land(etl_env, "header-only.csv", ",".join(EVENT_FILE_COLUMNS) + "\n")
    result = cycle(etl_env)
    assert_counts_add_up(etl_env, result)
    f = _one_file(result)
    assert (f.status, f.rows_in, f.rows_loaded) == ("loaded", 0, 0)


def test_truncated_csv_quarantines_the_cut_row(etl_env):
    text = to_csv(demo_cases(etl_env, 4))
    cut = text[: text.rindex("\n", 0, len(text) - 1) + 40]  # 40 characters into the last record
    land(etl_env, "truncated.csv", cut)
    result = cycle(etl_env)
    assert_counts_add_up(etl_env, result)
    assert reasons(etl_env, result.run_id) == {5: "truncated_row"}
    assert _loaded_ids(etl_env) == {"TEST000001", "TEST000002", "TEST000003"}
    raw = query(etl_env, "SELECT raw FROM quarantine WHERE run_id = ?", [result.run_id])[0][0]
    assert raw.startswith("TEST000004")


def test_truncated_csv_cut_inside_the_last_value_is_still_caught(etl_env):
    text = to_csv(demo_cases(etl_env, 2))
    land(etl_env, "cut-value.csv", text[:-8])  # the last updated_at loses its seconds and offset
    result = cycle(etl_env)
    assert_counts_add_up(etl_env, result)
    assert reasons(etl_env, result.run_id) == {3: "truncated_row"}


def test_truncated_parquet_is_rejected(etl_env, tmp_path):
    rows = demo_cases(etl_env, 50)
    table = pa.Table.from_pylist([{k: (str(v) if v is not None else None) for k, v in r.items()} for r in rows])
    pq.write_table(table, tmp_path / "full.parquet")
    data = (tmp_path / "full.parquet").read_bytes()
    land(etl_env, "truncated.parquet", data[: len(data) // 2])
    f = _rejected(etl_env, cycle(etl_env), "file_unreadable")
    assert "Parquet" in f.error


def test_non_utf8_file_is_rejected(etl_env):
    rows = demo_cases(etl_env, 3)
    land(etl_env, "gbk.csv", to_csv(rows).encode("gbk"))  # summaries are Chinese: GBK bytes are not UTF-8
    f = _rejected(etl_env, cycle(etl_env), "file_encoding")
    assert "UTF-8" in f.error
    assert _loaded_ids(etl_env) == set()


def test_utf8_with_bom_loads(etl_env):
    rows = demo_cases(etl_env, 3)
    land(etl_env, "bom.csv", "\ufeff" + to_csv(rows))
    result = cycle(etl_env)
    assert_counts_add_up(etl_env, result)
    assert result.rows_loaded == 3


def test_ten_megabyte_field_is_quarantined_not_fatal(etl_env):
    rows = demo_cases(etl_env, 3)
    rows[1]["summary"] = "噪" * (10 * 1024 * 1024 // 3)  # 10 MB of UTF-8
    land(etl_env, "huge.csv", to_csv(rows))
    result = cycle(etl_env)
    assert_counts_add_up(etl_env, result)
    assert reasons(etl_env, result.run_id) == {3: "too_long"}
    raw = query(etl_env, "SELECT length(raw) FROM quarantine WHERE run_id = ?", [result.run_id])[0][0]
    assert raw <= 65536
    assert _loaded_ids(etl_env) == {"TEST000001", "TEST000003"}


def test_long_field_under_the_line_limit_is_quarantined_with_its_column(etl_env):
    rows = demo_cases(etl_env, 2)
    rows[0]["summary"] = "x" * 100_000
    land(etl_env, "long.jsonl", "\n".join(_json(r) for r in rows) + "\n")
    result = cycle(etl_env)
    assert_counts_add_up(etl_env, result)
    assert reasons(etl_env, result.run_id) == {1: "too_long"}
    detail = query(etl_env, "SELECT detail FROM quarantine WHERE run_id = ?", [result.run_id])[0][0]
    assert detail.startswith("summary: 100000 characters")


def test_malformed_csv_and_json_lines_are_quarantined(etl_env):
    rows = demo_cases(etl_env, 3)
    text = to_csv(rows).splitlines()
    text.insert(2, "only,three,fields")
    land(etl_env, "fields.csv", "\n".join(text) + "\n")
    lines = [_json(r) for r in rows]
    lines.insert(1, '{"case_id": "BROKEN", ')
    lines.insert(2, "[1, 2, 3]")
    land(etl_env, "broken.jsonl", "\n".join(lines) + "\n")
    result = cycle(etl_env)
    assert_counts_add_up(etl_env, result)
    got = query(etl_env, "SELECT file, line, reason FROM quarantine WHERE run_id = ? ORDER BY file, line",
                [result.run_id])
    assert got == [("events/broken.jsonl", 2, "malformed_row"), ("events/broken.jsonl", 3, "malformed_row"),
                   ("events/fields.csv", 3, "malformed_row")]
    assert result.rows_loaded == 6  # the same 3 cases from both files


def test_unknown_file_type_is_rejected(etl_env):
    land(etl_env, "cases.xlsx", b"PK\x03\x04not really")
    _rejected(etl_env, cycle(etl_env), "file_format")


def _json(row: dict) -> str:
    import json

    return json.dumps({k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()},
                      ensure_ascii=False)


def test_bad_rows_of_files_loaded_together_keep_their_own_file_and_line(etl_env):
    a, b = demo_cases(etl_env, 3, prefix="A"), demo_cases(etl_env, 4, prefix="B")
    a[2]["status"] = "finished"
    b[0]["category_id"] = "XX-01"
    b[3]["lat"] = 0
    b[3]["lon"] = 0
    land(etl_env, "2026-a.csv", to_csv(a))
    land(etl_env, "2026-b.csv", to_csv(b + [b[1]]))  # and a duplicate of one of its own rows
    result = cycle(etl_env)
    assert_counts_add_up(etl_env, result)
    got = query(etl_env, "SELECT file, line, reason FROM quarantine WHERE run_id = ? ORDER BY file, line",
                [result.run_id])
    assert got == [("events/2026-a.csv", 4, "bad_enum"), ("events/2026-b.csv", 2, "unknown_category"),
                   ("events/2026-b.csv", 3, "duplicate_id"), ("events/2026-b.csv", 5, "null_island")]
    assert [(f.rows_in, f.rows_loaded) for f in result.files] == [(3, 2), (5, 2)]
