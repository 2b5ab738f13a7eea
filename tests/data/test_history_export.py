"""``app.py export history``: the cases as Hive-partitioned Parquet, read back by DuckDB and by pyarrow.

The tiny demo (``etl_base``, 3 000 cases over 20 days) for the round trip and the incremental update;
small geographies made here (a street-like borough level, and micro-grids right under the city) for the
top-level area, cases with no area, and months in the deployment's own zone; LA's example (regions whose
ids have spaces, Pacific time) when ../shared/data is there.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from shapely.geometry import box

import app
from data.history import MANIFEST, NULL_PARTITION, SUCCESS, HistoryExportError, export_history
from data.snapshot import publish, read_current
from data.warehouse import connect
from tests.conftest import settings_for, shared_data
from tests.data.test_geo_import import THREE_LEVELS, _boroughs, _districts, _geojson, _mapping, _run

HIVE = {"month": "VARCHAR", "area": "VARCHAR"}
PATH = re.compile(r"^month=\d{4}-\d{2}/area=[^/=]+/[^/]+\.parquet$")


def _snapshot(settings) -> duckdb.DuckDBPyConnection:
    return connect(read_current(settings.current_file).path, settings.timezone, read_only=True)


def _read_back(con: duckdb.DuckDBPyConnection, folder: Path) -> str:
    """Create the view ``back``: the export read by DuckDB with Hive partitioning, partition values as strings."""
    con.execute(f"CREATE OR REPLACE TEMP VIEW back AS SELECT * FROM read_parquet('{folder}/**/*.parquet', "
                f"hive_partitioning = true, hive_types = {HIVE})")
    return "back"


def _assert_identical(settings, folder: Path, area_column: str) -> int:
    """The export equals the snapshot's events, row for row and type for type, in DuckDB and in pyarrow."""
    con = _snapshot(settings)
    try:
        # DuckDB, exactly as the issue reads it (partition types left to inference)
        plain = f"read_parquet('{folder}/**/*.parquet', hive_partitioning = true)"
        described = "SELECT column_name, column_type FROM (DESCRIBE {})"
        assert con.execute(described.format(f"SELECT * EXCLUDE (month, area) FROM {plain}")).fetchall() == \
            con.execute(described.format("events")).fetchall()
        n = con.execute("SELECT count(*) FROM events").fetchone()[0]
        assert n > 0
        for a, b in (("events", f"(SELECT * EXCLUDE (month, area) FROM {plain})"),
                     (f"(SELECT * EXCLUDE (month, area) FROM {plain})", "events")):
            assert con.execute(f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b})").fetchone() \
                == (0,)
        # the partition values say what the row says: its local month and its top-level area
        _read_back(con, folder)
        assert con.execute(f"SELECT count(*) FROM back WHERE month IS DISTINCT FROM strftime(received_at, '%Y-%m') "
                           f"OR area IS DISTINCT FROM {area_column}").fetchone() == (0,)
        # pyarrow.dataset, a second reader that knows nothing of DuckDB
        dataset = ds.dataset(folder, format="parquet", partitioning="hive")
        types = {f.name: f.type for f in dataset.schema}
        assert types["month"] == pa.string() and types["received_at"] == pa.timestamp("us", tz="UTC")
        assert types["satisfaction"] == pa.int8() and types["needs_dispatch"] == pa.bool_()
        assert types["case_id"] == pa.string() and types["lon"] == pa.float64()
        table = dataset.to_table()
        assert table.num_rows == n
        arrow_back = table.drop_columns(["month", "area"])  # noqa: F841 (read by DuckDB below)
        assert con.execute("SELECT count(*) FROM (SELECT * FROM events EXCEPT ALL SELECT * FROM arrow_back)"
                           ).fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM arrow_back").fetchone() == (n,)
        return n
    finally:
        con.close()


def _parquet_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.parquet"))


def test_round_trip_is_identical_in_duckdb_and_pyarrow_with_plain_parquet_types(etl_base, tmp_path):
    out = tmp_path / "history"
    result = export_history(etl_base, out)
    assert result.mode == "full" and result.area_level == "street"
    n = _assert_identical(etl_base, out, "street_id")
    assert result.rows == n
    files = _parquet_files(out)
    assert files and all(PATH.match(f) for f in files), files
    assert (out / SUCCESS).exists() and not [p for p in out.iterdir() if p.name.startswith(".")]
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["rows"] == n == sum(f["rows"] for m in manifest["months"].values() for f in m["files"])
    assert sorted(f["path"] for m in manifest["months"].values() for f in m["files"]) == files
    # plain Parquet: instants as TIMESTAMP(isAdjustedToUTC=true, micros), tiny integers as INT(8), no extension types
    schema = pq.read_schema(out / files[0])
    assert schema.field("received_at").type == pa.timestamp("us", tz="UTC")
    assert str(pq.ParquetFile(out / files[0]).schema.column(
        schema.get_field_index("received_at")).logical_type).startswith("Timestamp(isAdjustedToUTC=true")
    assert not [f for f in schema if isinstance(f.type, pa.ExtensionType)]
    con = duckdb.connect()  # each file is in receipt order (its row groups' min/max let engines skip by time)
    assert con.execute(f"SELECT count(*) FROM (SELECT received_at < lag(received_at) OVER (PARTITION BY filename "
                       f"ORDER BY file_row_number) AS back FROM read_parquet('{out}/**/*.parquet', filename = true, "
                       "file_row_number = true)) WHERE back").fetchone() == (0,)
    meta = pq.read_metadata(out / files[0])
    assert meta.row_group(0).column(0).compression == "ZSTD"
    areas = (out / "_areas.csv").read_text(encoding="utf-8").splitlines()
    assert areas[0] == "area_id,folder,level,name,name_en" and areas[-1].endswith(f"area={NULL_PARTITION},street,(无),"
                                                                                  "(none: the case has no area at this level)")


def test_second_export_rewrites_only_changed_months_and_drops_emptied_ones(etl_env, tmp_path):
    con = connect(etl_env.work_db, etl_env.timezone)
    try:  # the tiny demo's 20 days spread over four months: a quarter of the cases 0, 1, 2 or 3 months earlier
        con.execute("UPDATE events SET received_at = received_at - to_months((hash(case_id) % 4)::INTEGER)")
        publish(con, etl_env.warehouse_dir)
    finally:
        con.close()
    out = tmp_path / "history"
    first = export_history(etl_env, out)
    months = sorted(first.months_written)
    assert len(months) >= 4
    again = export_history(etl_env, out)
    assert again.mode == "unchanged" and again.months_written == ()
    inodes = {f: (out / f).stat().st_ino for f in _parquet_files(out)}
    oldest, newest = months[0], months[-1]
    con = connect(etl_env.work_db, etl_env.timezone)
    try:  # one case of the newest month is closed; every case of the oldest month is removed
        con.execute("UPDATE events SET status = 'closed', closed_at = updated_at + INTERVAL 1 HOUR, "
                    "updated_at = updated_at + INTERVAL 1 HOUR WHERE case_id = (SELECT min(case_id) FROM events "
                    "WHERE closed_at IS NULL AND strftime(received_at, '%Y-%m') = ?)", [newest])
        con.execute("DELETE FROM events WHERE strftime(received_at, '%Y-%m') = ?", [oldest])
        publish(con, etl_env.warehouse_dir)
    finally:
        con.close()
    second = export_history(etl_env, out)
    assert second.mode == "incremental"
    assert second.months_written == (newest,) and second.months_removed == (oldest,)
    assert set(second.months_kept) == set(months) - {oldest, newest}
    assert not (out / f"month={oldest}").exists()
    for f, inode in inodes.items():  # the kept months are the same files (hard links), not rewritten
        if f.startswith(f"month={newest}/") or f.startswith(f"month={oldest}/"):
            continue
        assert (out / f).stat().st_ino == inode, f
    _assert_identical(etl_env, out, "street_id")
    full = export_history(etl_env, out, full=True)
    assert full.mode == "full" and set(full.months_written) == set(months) - {oldest}
    _assert_identical(etl_env, out, "street_id")


def test_a_failed_export_leaves_the_previous_one_whole_and_no_half_written_folder(etl_base, tmp_path):
    out = tmp_path / "history"

    def boom():
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        export_history(etl_base, out, _before_swap=boom)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".history.lock"]
    export_history(etl_base, out, compression="snappy")
    before = {f: (out / f).read_bytes() for f in [*_parquet_files(out), MANIFEST]}
    with pytest.raises(OSError, match="disk full"):
        export_history(etl_base, out, full=True, _before_swap=boom)
    assert {f: (out / f).read_bytes() for f in [*_parquet_files(out), MANIFEST]} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".history.lock", "history"]


def test_a_folder_that_is_not_an_export_is_refused_and_kept(etl_base, tmp_path, monkeypatch, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(HistoryExportError, match="not a GridPulse history export"):
        export_history(etl_base, out)
    monkeypatch.setenv("GRIDPULSE_VAR_DIR", str(etl_base.var_dir))
    monkeypatch.delenv("GRIDPULSE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # no ./gridpulse.toml
    assert app.main(["export", "history", str(out)]) == 1
    assert "error: " in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    (out / "notes.txt").unlink()  # an empty folder is fine: the export takes its place
    assert app.main(["export", "history", str(out), "--compression", "gzip"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("full export of snapshot ") and "by month and street" in printed
    with pytest.raises(SystemExit) as exit_info:
        app.main(["export", "history", str(out), "--compression", "lz9"])
    assert exit_info.value.code == 2
    monkeypatch.setenv("GRIDPULSE_VAR_DIR", str(tmp_path / "empty-var"))
    assert app.main(["export", "history", str(tmp_path / "other")]) == 1
    assert "no data published yet" in capsys.readouterr().err


def _deployment(tmp_path: Path, mapping: str, files: list[Path], timezone: str, cases: list[tuple]) -> object:
    """A deployment of the geography made here, with ``cases`` (id, micro-grid, top-level id, UTC receipt)."""
    settings = settings_for(tmp_path / "var", timezone=timezone)
    assert _run(settings, _mapping(tmp_path, mapping), *files) == 0
    con = connect(settings.work_db, settings.timezone)
    try:
        for case_id, microgrid, top, received in cases:
            con.execute("INSERT INTO events (case_id, channel, category_id, category_l1, urgency, route, "
                        "department_id, needs_dispatch, microgrid_id, street_id, received_at, status, updated_at) "
                        "VALUES (?, 'other', 'x', 'x', 'normal', 'auto', 'd', false, ?, ?, ?::TIMESTAMPTZ, 'received', "
                        "?::TIMESTAMPTZ)", [case_id, microgrid, top, received, received])
        publish(con, settings.warehouse_dir)
    finally:
        con.close()
    return settings


def test_months_are_local_and_cases_without_a_top_level_area_go_to_the_null_partition(tmp_path):
    # Berlin: 2026-01-31 23:30 UTC is already February there
    settings = _deployment(tmp_path, THREE_LEVELS, [_boroughs(tmp_path), _districts(tmp_path)], "Europe/Berlin", [
        ("C1", "11", "1", "2026-01-31 23:30:00+00"), ("C2", "21", "2", "2026-01-31 22:30:00+00"),
        ("C3", "12", None, "2026-02-10 12:00:00+00")])
    out = tmp_path / "history"
    result = export_history(settings, out)
    assert result.area_level == "street" and result.rows == 3
    assert _parquet_files(out) == ["month=2026-01/area=2/data_0.parquet", "month=2026-02/area=1/data_0.parquet",
                                   f"month=2026-02/area={NULL_PARTITION}/data_0.parquet"]
    _assert_identical(settings, out, "street_id")
    con = duckdb.connect()
    _read_back(con, out)
    assert con.execute("SELECT case_id, area FROM back ORDER BY case_id").fetchall() == [
        ("C1", "1"), ("C2", "2"), ("C3", None)]
    table = ds.dataset(out, format="parquet", partitioning="hive").to_table()  # pyarrow reads the NULL folder as NULL
    assert {c: a is None for c, a in zip(table["case_id"].to_pylist(), table["area"].to_pylist(), strict=True)} == {
        "C1": False, "C2": False, "C3": True}


def test_micro_grids_right_under_the_city_are_the_top_level_area(tmp_path):
    city = _geojson(tmp_path / "city.geojson", [({"id": "T"}, box(10.0, 50.0, 11.0, 50.5))])
    mapping = ('[geography]\nname_en = "Testville"\n[[geography.levels]]\nname_en = "City"\nfile = 1\nid = "id"\n'
               '[[geography.levels]]\nname_en = "District"\nfile = 2\nid = "cd"\n')
    settings = _deployment(tmp_path, mapping, [city, _districts(tmp_path)], "UTC", [
        ("C1", "11", None, "2026-03-01 08:00:00+00"), ("C2", "22", None, "2026-03-02 08:00:00+00")])
    out = tmp_path / "history"
    assert export_history(settings, out).area_level == "microgrid"
    assert _parquet_files(out) == ["month=2026-03/area=11/data_0.parquet", "month=2026-03/area=22/data_0.parquet"]
    _assert_identical(settings, out, "microgrid_id")
    assert os.path.exists(out / "_areas.csv")



def test_la_example_by_region_ids_with_spaces_and_its_own_zone(tmp_path):
    from tests.e2e.conftest import build_deployment

    councils, export = shared_data("la311", "la_nc_boundary_2019_modified.geojson"), \
        shared_data("la311", "la311_requests_2020_10k.csv")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        settings = build_deployment(tmp_path / "var", "la311", councils, "source-2020.toml", export, mp)
    assert settings.timezone == "America/Los_Angeles"  # months of receipt are LA's months
    out = tmp_path / "history"
    result = export_history(settings, out)
    assert result.area_level == "street" and result.rows >= 9_000  # LA's regions sit in the street slot
    _assert_identical(settings, out, "street_id")
    folders = {f.split("/")[1] for f in _parquet_files(out)}
    assert any("%20" in f for f in folders), folders  # region ids have spaces: percent-encoded, decoded on read
    areas = (out / "_areas.csv").read_text(encoding="utf-8").splitlines()
    assert len(areas) == 1 + 12 + 1  # header, the 12 regions, the NULL folder
