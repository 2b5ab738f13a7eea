"""Freshness: the stale flag by age and by a failed ETL run, and the calendar notice."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from data.contract import LAST_RUN_FILE
from data.snapshot import SnapshotInfo
from metrics.freshness import Freshness, freshness


def _info(demo) -> SnapshotInfo:
    demo.cursor().close()
    return demo.reader.info()


def test_fresh_then_stale_after_two_cycles(demo):
    info = _info(demo)
    s = demo.settings
    just = freshness(demo.cursor(), info, info.published_at + timedelta(seconds=30), s)
    assert isinstance(just, Freshness) and not just.stale and just.age_s == 30
    assert just.last_run_status == "ok" and just.last_run_error is None
    limit = s.stale_after_cycles * s.etl_interval_seconds
    edge = freshness(demo.cursor(), info, info.published_at + timedelta(seconds=limit), s)
    late = freshness(demo.cursor(), info, info.published_at + timedelta(seconds=limit + 1), s)
    assert not edge.stale and late.stale


def test_a_failed_run_makes_the_data_stale_at_once(demo, fresh_demo, tmp_path):
    from data.snapshot import SnapshotReader

    reader = SnapshotReader(fresh_demo.warehouse_dir, fresh_demo.timezone)
    con = reader.cursor()
    info = reader.info()
    (fresh_demo.warehouse_dir / LAST_RUN_FILE).write_text(
        json.dumps({"run_id": 99, "status": "failed", "error": "landing/events/bad.csv: disk full"}), encoding="utf-8")
    f = freshness(con, info, info.published_at + timedelta(seconds=5), fresh_demo)
    assert f.stale and f.last_run_status == "failed" and "disk full" in f.last_run_error
    (fresh_demo.warehouse_dir / LAST_RUN_FILE).write_text("{not json", encoding="utf-8")
    assert not freshness(con, info, info.published_at + timedelta(seconds=5), fresh_demo).stale


def test_calendar_notice_when_deadlines_reach_a_year_without_statutory_data(demo):
    info = _info(demo)
    tz = ZoneInfo(demo.settings.timezone)
    november = freshness(demo.cursor(), info, datetime(2026, 11, 25, 10, 30, tzinfo=tz), demo.settings)
    assert november.calendar_notice_zh is None and november.calendar_notice_en is None
    december = freshness(demo.cursor(), info, datetime(2026, 12, 24, 10, 30, tzinfo=tz), demo.settings)
    assert "2027" in december.calendar_notice_zh and "2027" in december.calendar_notice_en
