"""Snapshots: publish copies a consistent database, CURRENT swaps atomically, touch marks freshness."""

from __future__ import annotations

from data.snapshot import SnapshotReader, publish, read_current, touch
from data.warehouse import apply_schema, connect


def test_publish_touch_and_prune(tmp_path):
    con = connect(tmp_path / "work.duckdb", "Asia/Shanghai")
    apply_schema(con)
    con.execute("INSERT INTO channels VALUES ('qr', '滨安码', 'QR code')")
    first = publish(con, tmp_path, keep=2, run_id=1)
    reader = SnapshotReader(tmp_path, "Asia/Shanghai", check_every=0)
    assert reader.cursor().execute("SELECT count(*) FROM channels").fetchone()[0] == 1

    con.execute("INSERT INTO channels VALUES ('hotline', '12345热线', '12345 hotline')")
    assert reader.cursor().execute("SELECT count(*) FROM channels").fetchone()[0] == 1  # not published yet
    second = publish(con, tmp_path, keep=2, run_id=2)
    assert reader.cursor().execute("SELECT count(*) FROM channels").fetchone()[0] == 2
    assert reader.info().name == second.name and second.name != first.name

    touched = touch(tmp_path)
    assert touched.name == second.name and touched.checked_at > second.published_at
    reader.cursor().close()
    assert reader.info().fresh_at == touched.checked_at
    assert read_current(tmp_path / "CURRENT").fresh_at == touched.checked_at

    publish(con, tmp_path, keep=2, run_id=3)
    assert len(list((tmp_path / "snapshots").glob("*.duckdb"))) == 2
    assert not list((tmp_path / "snapshots").glob(".*partial"))
    reader.close()
    con.close()


def test_a_connection_a_slow_query_still_uses_is_closed_later_not_during_a_switch(tmp_path):
    import duckdb

    con = connect(tmp_path / "work.duckdb", "Asia/Shanghai")
    apply_schema(con)
    publish(con, tmp_path, keep=5, run_id=1)
    reader = SnapshotReader(tmp_path, "Asia/Shanghai", check_every=0)
    first = reader.info().name
    publish(con, tmp_path, keep=5, run_id=2)
    assert reader.cursor_on(first) is not None  # the previous snapshot still answers (the analyst pages' grace)

    class Busy:  # what DuckDB does to close() while another thread's query runs on the connection
        busy = True

        def close(self):
            if self.busy:
                raise duckdb.Error("Connection is in use")

    slow = Busy()
    reader._previous = slow
    publish(con, tmp_path, keep=5, run_id=3)
    reader.cursor().close()  # the switch goes through
    assert slow in reader._retired
    slow.busy = False
    publish(con, tmp_path, keep=5, run_id=4)
    reader.cursor().close()
    assert slow not in reader._retired  # closed at the next switch, once the query was done
    reader.close()
    con.close()
