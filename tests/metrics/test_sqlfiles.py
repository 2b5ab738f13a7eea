"""The one SQL renderer of metrics/ and layers/: markers, and which parameters a query is given."""

from __future__ import annotations

import re

import duckdb
import pytest

from layers import _sql as layers_sql
from metrics import sqlfiles
from metrics.scope import Scope


def test_a_parameter_is_used_only_by_its_whole_name():
    params = {"s_area": "A", "s_area2": "B", "now": 1}
    assert sqlfiles.used_params("SELECT $s_area2 AS x", params) == {"s_area2": "B"}
    assert sqlfiles.used_params("SELECT $s_area AS x, $s_area2 AS y", params) == {"s_area": "A", "s_area2": "B"}
    assert sqlfiles.used_params("SELECT $s_area, 1", params) == {"s_area": "A"}
    assert sqlfiles.used_params("SELECT 1", params) == {}


def test_run_binds_a_parameter_whose_name_is_a_prefix_of_an_unused_one(tmp_path):
    # DuckDB refuses a parameter the statement does not use: $s_area must not ride along with $s_area2
    (tmp_path / "prefix.sql").write_text("SELECT $s_area2 AS second, $now AS t", encoding="utf-8")
    out = sqlfiles.run(duckdb.connect(), "prefix", {"s_area": "A", "s_area2": "B", "now": 3}, folder=tmp_path)
    assert out.to_dict("records") == [{"second": "B", "t": 3}]


def test_layers_use_the_same_renderer_and_markers(tmp_path):
    sql, params = sqlfiles.render("area_points", Scope("G001"), folder=layers_sql.SQL_DIR)
    assert "/*area:a*/" not in sql and "a.grid_id" in sql and list(params.values()) == ["G001"]
    with pytest.raises(ValueError, match="needs a scope"):
        layers_sql.run(duckdb.connect(), "area_points", {"level": "grid"})


def test_optional_blocks_are_kept_or_dropped_by_the_snapshots_flags():
    from metrics.sqlfiles import apply_flags

    sql = "a /*if:due_at*/AND d IS NULL/*fi:due_at*/ b /*if:due_at*/UNION ALL x/*fi:due_at*/"
    assert apply_flags(sql, {"due_at": False}) == "a  b "
    assert apply_flags(sql, {"due_at": True}) == apply_flags(sql, None) == "a AND d IS NULL b UNION ALL x"
    for name in ("vitals_windows", "grid_on_time", "on_time_by_unit", "open_counts"):
        without, _ = sqlfiles.render(name, Scope("D", level="district"), columns={"area": "grid_id"}, flags={"due_at": False})
        with_due, _ = sqlfiles.render(name, Scope("D", level="district"), columns={"area": "grid_id"}, flags={"due_at": True})
        code = re.sub(r"--[^\n]*", "", without)  # the comments may name due_at
        assert "due_at" not in code and "due_at" in with_due and "/*if:" not in with_due, name


def test_the_snapshot_knows_whether_any_case_has_its_own_deadline(demo):
    from metrics import cache, queries

    assert queries.prepare(demo.cursor(), demo.now, demo.settings).facts.due_at_present is False  # the demo: none
    cache.reset()
