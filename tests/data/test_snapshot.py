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
