"""Schedules: the ETL every minute and nightly, the demo's simulator, and the jobs ``app.py`` hands in.

The events ETL runs every minute, the reference tables nightly, the demo's live simulator every
15 s, and jobs handed in by ``app.py`` (the weekly briefing, Mondays 08:00) on their own cron. On the
writer host of an object store (``object_store_role = "publish"``) each ETL job then hands the
snapshot to the store (:mod:`data.objectstore`).

All jobs run in one APScheduler ``BackgroundScheduler`` in the deployment's zone (Asia/Shanghai by
default), inside ``python app.py serve`` or alone in ``python app.py scheduler``. There is exactly
one writer: every job is ``max_instances=1`` with ``coalesce=True`` (a slow cycle delays the next one;
missed runs collapse into one), and both ETL jobs take the ETL's process-wide writer lock, so the
nightly job waits for a running minute job instead of opening a second writer.

The live simulator is the demo's: it is scheduled only when the current snapshot was built by
``python app.py demo`` (``warehouse_meta.origin = demo``), never on a warehouse loaded from real
sources, whatever ``simulate_cases_per_day`` says.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from data import etl, meta, objectstore

__all__ = ["CronJob", "build_scheduler", "cron_trigger", "start_background_scheduler", "SIMULATOR_TICK_SECONDS"]

log = logging.getLogger(__name__)

SIMULATOR_TICK_SECONDS = 15
_JOB_DEFAULTS = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 300}


class CronJob(NamedTuple):
    """A job of another part of GridPulse that the one scheduler runs (the weekly briefing, from ``app.py``).

    ``data/`` imports nothing of the web tier, so such jobs are handed in rather than imported here.

    Attributes:
        func: called with the settings.
        cron: a 5-field cron expression in the deployment's zone.
        id: the job id.
        name: a name for the log.
        catch_up: called once, a minute after start, with the settings and the fire time the job
            last had before now (``None`` when none this week): runs missed while nothing was
            scheduling (the scheduler is in-memory, so it cannot know them itself).
    """

    func: Callable
    cron: str
    id: str
    name: str
    catch_up: Callable | None = None


_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")  # crontab numbering: 0 and 7 are Sunday


def _crontab_days(field: str) -> str:
    """A crontab day-of-week field in APScheduler's words: ``"1"`` -> ``"mon"``, ``"1-5"`` -> ``"mon,...,fri"``.

    APScheduler 3 counts weekdays from Monday = 0 even in ``from_crontab`` (its issue 286), so
    ``"0 8 * * 1"`` would fire on Tuesdays. Names mean the same to both, so numbers become names;
    ranges and steps are spelled out.

    >>> _crontab_days("1"), _crontab_days("1-5"), _crontab_days("0,6"), _crontab_days("*/3"), _crontab_days("mon")
    ('mon', 'mon,tue,wed,thu,fri', 'sun,sat', 'sun,wed,sat', 'mon')
    """
    out = []
    for part in field.split(","):
        span, _, step = part.partition("/")
        if span == "*" and not step:
            return "*"
        if not (span.replace("-", "").isdigit() or span == "*"):
            out.append(part)  # names (and anything else) pass through for APScheduler to judge
            continue
        lo, _, hi = ("0-6" if span == "*" else span).partition("-")
        days = range(int(lo), int(hi or lo) + 1, int(step or 1))
        out += [_DAY_NAMES[d] if 0 <= d <= 7 else str(d) for d in days]
    return ",".join(dict.fromkeys(out))


def cron_trigger(expression: str, tz) -> CronTrigger:
    """A trigger for a standard 5-field crontab expression (minute hour day month day-of-week) in zone ``tz``."""
    minute, hour, day, month, dow = expression.split()
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=_crontab_days(dow), timezone=tz)


def _last_fire(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The trigger's last fire time in the 7 days before ``now`` (APScheduler 3 only looks forward)."""
    t = trigger.get_next_fire_time(None, now - timedelta(days=7))
    last = None
    while t is not None and t <= now:
        last = t
        t = trigger.get_next_fire_time(t, t + timedelta(seconds=1))
    return last


def _cycle_job(settings, kind: str, on_cycle: Callable | None = None, publisher=None) -> None:
    """One ETL cycle of ``kind``; a failure is already recorded in etl_runs, this only keeps the scheduler alive.

    ``on_cycle(kind, result)`` is told how it went (``result`` ``None``: the cycle could not run at
    all); that is how ``app.py`` counts cycles for the operators' metrics without ``data/`` importing them.
    With an object store (``publisher``), the cycle's snapshot, or only its ``checked_at``, goes to the
    store afterwards, outside the writer lock; a failed upload is logged and tried again after the next cycle.
    """
    try:
        result = etl.run_cycle(settings, kind)
    except Exception:
        log.exception("%s ETL cycle could not run", kind)
        result = None
    if on_cycle is not None:
        try:
            on_cycle(kind, result)
        except Exception:
            log.exception("the on_cycle hook failed")
    if publisher is not None:
        publisher.sync()


def _simulator_job(simulator) -> None:
    try:
        simulator.tick()
    except Exception:
        log.exception("simulator tick failed")


def build_scheduler(settings, simulate: bool | None = None, extra: Sequence[CronJob] = (),
                    on_cycle: Callable | None = None) -> BackgroundScheduler:
    """A configured, not yet started scheduler.

    Args:
        settings: intervals, cron expression, zone, simulator rate.
        extra: jobs of the web tier to run on their own cron (the weekly briefing).
        on_cycle: called after every ETL cycle with its kind and :class:`data.runs.CycleResult` (``None``
            when it could not run): the operators' metrics (``dashboard/telemetry.py``).
        simulate: add the simulator job (default: when ``simulate_cases_per_day`` > 0 and the current
            snapshot is a demo warehouse; on any other warehouse it is off, said once at INFO).
    """
    tz = settings.zone
    sched = BackgroundScheduler(timezone=tz, job_defaults=_JOB_DEFAULTS)
    publisher = objectstore.publisher_for(settings)  # None unless this host publishes to an object store
    sched.add_job(  # every etl_interval_seconds (60 s by default), starting now: new landing files
        _cycle_job, IntervalTrigger(seconds=settings.etl_interval_seconds, timezone=tz),
        args=[settings, "events", on_cycle, publisher], id="etl-events", name="events ETL",
        next_run_time=datetime.now(tz))
    sched.add_job(  # reference_cron, "0 2 * * *" by default: every day at 02:00 local time: all tables
        _cycle_job, cron_trigger(settings.reference_cron, tz), args=[settings, "reference", on_cycle, publisher],
        id="etl-reference", name="reference ETL")
    for job in extra:
        trigger = cron_trigger(job.cron, tz)
        sched.add_job(job.func, trigger, args=[settings], id=job.id, name=job.name)
        if job.catch_up is not None:
            now = datetime.now(tz)
            sched.add_job(job.catch_up, "date", run_date=now + timedelta(minutes=1),
                          args=[settings, _last_fire(trigger, now)], id=f"{job.id}-catch-up",
                          name=f"{job.name} (catch up)")
    if simulate is None:
        simulate = settings.simulate_cases_per_day > 0
        found = meta.snapshot_meta(settings.current_file, settings.timezone) if simulate else None
        if simulate and not meta.is_demo(found):
            why = "no snapshot is published yet" if found is None else "the warehouse is not a demo"
            log.info("live simulator off: %s (only `python app.py demo` builds one it may write to)", why)
            simulate = False
    if simulate:
        from data.demo.simulate import Simulator

        try:
            simulator = Simulator(settings, per_day=settings.simulate_cases_per_day)
        except RuntimeError as exc:
            log.warning("live simulator off: %s", exc)
        else:
            sched.add_job(  # every 15 s: the cases due since the last tick, and their lifecycle updates
                _simulator_job, IntervalTrigger(seconds=SIMULATOR_TICK_SECONDS, timezone=tz), args=[simulator],
                id="simulator", name="live simulator")
    return sched


def start_background_scheduler(settings, simulate: bool | None = None, extra: Sequence[CronJob] = (),
                               on_cycle: Callable | None = None) -> BackgroundScheduler:
    """Build and start the scheduler in background threads; stop it with ``.shutdown(wait=False)``."""
    sched = build_scheduler(settings, simulate, extra, on_cycle)
    # APScheduler logs every job run at INFO: eight lines a minute here. Our jobs log what they did.
    executor_log = logging.getLogger("apscheduler.executors.default")
    if executor_log.level == logging.NOTSET:
        executor_log.setLevel(logging.WARNING)
    sched.start()
    log.info("scheduler started: %s", ", ".join(f"{j.name} ({j.trigger})" for j in sched.get_jobs()))
    return sched
