"""Historical data is shown as of its newest case: the runtime's clock, the banner, no stale warning.

A dataset whose newest case is more than a day older than the wall clock (an archive, a city's
2020 export) is shown with "now" at that case and a banner; a live one is unchanged, and a clock
given to the runtime (tests, benchmarks) always wins.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dash._utils import to_json

from dashboard import ids
from dashboard.components.header import data_status, historical_text
from dashboard.runtime import Runtime
from dashboard.wall import warmup
from dashboard.wall.options import WallOptions
from dashboard.wall.tick import run_tick
from metrics.freshness import HISTORICAL_AFTER, Freshness, freshness, historical_as_of
from tests.metrics.conftest import build_warehouse, synthetic_events

TZ = "Asia/Shanghai"
ZONE = ZoneInfo(TZ)
# the newest case of the archive: its synthetic cases all arrive before this moment
ARCHIVE_END = datetime(2020, 1, 3, 14, 22, 30, tzinfo=ZONE)


def _newest(settings):
    rt = Runtime(settings, clock=lambda: datetime.now(ZONE))
    with rt.snapshot() as (con, _):
        value = con.execute("SELECT max(received_at) FROM events").fetchone()[0]
    rt.close()
    return value


@pytest.fixture
def archive(tmp_path):
    return build_warehouse(tmp_path / "var", synthetic_events(ARCHIVE_END, weeks=1, rate_per_hour=0.3))


@pytest.fixture
def live(tmp_path):
    return build_warehouse(tmp_path / "var", synthetic_events(datetime.now(ZONE) - timedelta(minutes=5), weeks=1,
                                                               rate_per_hour=0.2))


def test_banner_text_in_both_languages():
    as_of = datetime(2020, 1, 3, 6, 22, 59, tzinfo=ZoneInfo("UTC"))  # 14:22 in Shanghai
    assert historical_text(as_of, "zh", TZ) == "数据截至 2020-01-03 14:22（历史数据）"
    assert historical_text(as_of, "en", TZ) == "Data as of 2020-01-03 14:22 (historical)"
    # in the deployment's zone: the same instant in New York is the evening before
    assert historical_text(as_of, "en", "America/New_York") == "Data as of 2020-01-03 01:22 (historical)"


def test_historical_as_of_needs_more_than_a_day():
    wall = datetime(2026, 12, 1, 12, 0, tzinfo=ZONE)
    assert historical_as_of(None, wall) is None
    assert historical_as_of(wall - HISTORICAL_AFTER, wall) is None  # a quiet day is still live
    old = wall - HISTORICAL_AFTER - timedelta(seconds=1)
    assert historical_as_of(old, wall) == old


def test_an_archive_is_shown_as_of_its_newest_case(archive):
    newest = _newest(archive)
    assert newest < ARCHIVE_END and ARCHIVE_END - newest < timedelta(hours=3)
    rt = Runtime(archive)  # no clock given: the wall clock, or the data's
    try:
        assert rt.historical() == newest and rt.now() == newest
        assert rt.now().tzinfo is not None and rt.now().utcoffset() == timedelta(hours=8)
    finally:
        rt.close()


def test_a_given_clock_wins_over_the_historical_clock(archive):
    fixed = datetime(2026, 11, 25, 10, 30, tzinfo=ZONE)
    rt = Runtime(archive, clock=lambda: fixed)
    try:
        assert rt.now() == fixed and rt.historical() is None
    finally:
        rt.close()


def test_a_live_deployment_keeps_the_wall_clock(live):
    rt = Runtime(live)
    try:
        before = datetime.now(ZONE)
        now = rt.now()
        assert rt.historical() is None and before <= now <= datetime.now(ZONE)
    finally:
        rt.close()


def test_no_snapshot_means_the_wall_clock(tmp_path):
    from tests.conftest import settings_for

    rt = Runtime(settings_for(tmp_path / "var"))
    assert rt.historical() is None and abs((rt.now() - datetime.now(ZONE)).total_seconds()) < 5


def test_historical_data_is_never_stale_by_age(archive):
    rt = Runtime(archive)
    try:
        with rt.snapshot() as (con, info):
            later = info.published_at + timedelta(days=2)  # long past stale_after_cycles
            assert freshness(con, info, later, archive).stale
            hist = freshness(con, info, later, archive, historical=ARCHIVE_END)
        assert not hist.stale and hist.historical_as_of == ARCHIVE_END
    finally:
        rt.close()


def _status_json(fresh, lang="en"):
    return to_json(data_status(fresh, lang, TZ, ARCHIVE_END))


def test_status_shows_the_banner_instead_of_live_or_stale():
    base = dict(published_at=datetime(2026, 12, 1, tzinfo=ZoneInfo("UTC")), age_s=-2e8, stale=False,
                last_run_status="ok", last_run_error=None, calendar_notice_zh=None, calendar_notice_en=None)
    hist = _status_json(Freshness(**base, historical_as_of=ARCHIVE_END))
    assert "Data as of 2020-01-03 14:22 (historical)" in hist and '"data-historical":"true"' in hist
    assert "Live" not in hist and '"data-stale":"true"' not in hist
    live = _status_json(Freshness(**base))
    assert "historical" not in live and "Live" in live
    zh = json.loads(to_json(data_status(Freshness(**base, historical_as_of=ARCHIVE_END), "zh", TZ, ARCHIVE_END)))
    assert any("数据截至 2020-01-03 14:22（历史数据）" in str(c["props"]["children"]) for c in zh)


def test_the_wall_refresh_of_an_archive_carries_the_banner(archive):
    warmup.set_enabled(False)
    rt = Runtime(archive)
    try:
        with rt.snapshot() as (con, info):
            district = rt.deployment(con, info).district_id
        options = WallOptions.from_query({"lang": "en"}, rt.settings, district).to_dict()
        out = run_tick(rt, options, None, {}, [ids.PANEL_STATUS], [])
        status = to_json(out.texts[0])
        newest = _newest(archive).astimezone(ZONE).strftime("%Y-%m-%d %H:%M")
        assert f"Data as of {newest} (historical)" in status
        assert '"data-stale":"true"' not in status
        assert out.meta["server_now"] == int(_newest(archive).timestamp() * 1000)  # the wall's clock follows
    finally:
        rt.close()
