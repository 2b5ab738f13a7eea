"""The placeholder home page shows real counts from the current snapshot, with an empty console."""

from __future__ import annotations

import duckdb

from dashboard.app import create_app
from data.snapshot import read_current


def test_home_shows_table_counts(dash_duo, small_demo):
    app = create_app(small_demo)
    dash_duo.start_server(app)
    dash_duo.wait_for_element("#home-counts", timeout=20)
    con = duckdb.connect(str(read_current(small_demo.current_file).path), read_only=True)
    events = con.execute("SELECT count(*) FROM events").fetchone()[0]
    con.close()
    cell = dash_duo.find_element('td[data-table="events"]')
    assert cell.text.replace(",", "") == str(events)
    assert dash_duo.get_logs() == []


def test_home_on_an_empty_var_dir_says_there_is_no_data_yet(dash_duo, tmp_path):
    from tests.conftest import settings_for

    dash_duo.start_server(create_app(settings_for(tmp_path / "var")))
    notice = dash_duo.wait_for_element('[data-notice="no-data"]', timeout=20)
    assert "尚无数据" in notice.text and "python app.py demo" in notice.text
    assert dash_duo.get_logs() == []
