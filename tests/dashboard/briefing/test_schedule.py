"""The Monday briefing job: fires at 08:00 in the deployment's zone for the week just ended, new year included."""

from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from dashboard.briefing import archive, jobs
from dashboard.briefing.week import IsoWeek
from data.schedule import _last_fire, build_scheduler, cron_trigger
from settings import Settings

SH = ZoneInfo("Asia/Shanghai")


def _briefing_trigger(settings):
    sched = build_scheduler(settings, simulate=False, extra=jobs.schedule_jobs(settings))
    found = {j.id: j for j in sched.get_jobs()}
    assert "briefing-catch-up" in found
    return found["briefing"].trigger


def _record_starts(monkeypatch):
    started = []

    class Done:
        def join(self):
            return None

    def fake_start(settings, week, scope_id, lang, partial, trigger):
        started.append((str(week), scope_id, trigger))
        return "run", Done()

    monkeypatch.setattr(jobs, "start", fake_start)
    return started


def test_the_job_fires_on_monday_0800_for_w53_then_w01(tmp_path, monkeypatch):
    settings = Settings(var_dir=tmp_path, briefing_scopes="ST-A, ST-B")
    trigger = _briefing_trigger(settings)
    assert isinstance(trigger, CronTrigger)
    started = _record_starts(monkeypatch)

    fire = trigger.get_next_fire_time(None, datetime(2026, 12, 30, 12, 0, tzinfo=SH))
    assert fire == datetime(2027, 1, 4, 8, 0, tzinfo=SH)
    assert jobs.scheduled(settings, now=fire) == [(IsoWeek(2026, 53), None), (IsoWeek(2026, 53), "ST-A"),
                                                  (IsoWeek(2026, 53), "ST-B")]
    fire = trigger.get_next_fire_time(fire, datetime(2027, 1, 4, 8, 0, 1, tzinfo=SH))
    assert fire == datetime(2027, 1, 11, 8, 0, tzinfo=SH)
    jobs.scheduled(settings, now=fire)
    assert [s[:2] for s in started] == [("2026-W53", None), ("2026-W53", "ST-A"), ("2026-W53", "ST-B"),
                                        ("2027-W01", None), ("2027-W01", "ST-A"), ("2027-W01", "ST-B")]
    assert {s[2] for s in started} == {"schedule"}


def test_the_time_and_zone_come_from_the_settings(tmp_path):
    settings = Settings(var_dir=tmp_path, timezone="America/Los_Angeles", calendar="US", briefing_cron="30 6 * * 2")
    fire = _briefing_trigger(settings).get_next_fire_time(None, datetime(2027, 1, 1, tzinfo=ZoneInfo("UTC")))
    assert fire == datetime(2027, 1, 5, 6, 30, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert IsoWeek.last_complete(fire, settings.timezone) == IsoWeek(2026, 53)


def test_an_empty_cron_schedules_no_briefing(tmp_path):
    settings = Settings(var_dir=tmp_path, briefing_cron="")
    sched = build_scheduler(settings, simulate=False, extra=jobs.schedule_jobs(settings))
    assert not [j for j in sched.get_jobs() if j.id.startswith("briefing")]


def test_last_fire_looks_back_a_week():
    trigger = cron_trigger("0 8 * * 1", SH)
    assert _last_fire(trigger, datetime(2027, 1, 6, 9, 0, tzinfo=SH)) == datetime(2027, 1, 4, 8, 0, tzinfo=SH)
    assert _last_fire(trigger, datetime(2027, 1, 4, 7, 59, tzinfo=SH)) == datetime(2026, 12, 28, 8, 0, tzinfo=SH)


def test_catch_up_writes_a_missed_monday_once(fresh_demo, monkeypatch):
    started = _record_starts(monkeypatch)
    monday = datetime(2026, 11, 23, 8, 0, tzinfo=SH)
    jobs.catch_up(fresh_demo, None)  # no Monday this week yet: nothing to catch up
    assert started == []
    jobs.catch_up(fresh_demo, monday)
    assert started == [("2026-W47", None, "catch-up")]
    archive.write_atomic(archive.report_path(fresh_demo.reports_dir, "330108", IsoWeek(2026, 47), "zh", "zh"), b"%PDF")
    jobs.catch_up(fresh_demo, monday)
    assert len(started) == 1  # already in the archive


def test_catch_up_without_data_starts_nothing(tmp_path, monkeypatch):
    started = _record_starts(monkeypatch)
    jobs.catch_up(Settings(var_dir=tmp_path), datetime(2026, 11, 23, 8, 0, tzinfo=SH))
    assert started == []
