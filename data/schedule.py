"""Schedules: the events ETL every minute, the reference tables nightly, the demo's live simulator every 15 s.

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
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from data import etl, meta

__all__ = ["build_scheduler", "start_background_scheduler", "SIMULATOR_TICK_SECONDS"]

log = logging.getLogger(__name__)

SIMULATOR_TICK_SECONDS = 15
_JOB_DEFAULTS = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 300}


def _events_job(settings) -> None:
    """One events cycle; a failure is already recorded in etl_runs, this only keeps the scheduler alive."""
    try:
        etl.run_cycle(settings, "events")
    except Exception:
        log.exception("events ETL cycle could not run")


def _reference_job(settings) -> None:
    try:
        etl.run_cycle(settings, "reference")
    except Exception:
        log.exception("reference ETL cycle could not run")


def _simulator_job(simulator) -> None:
    try:
        simulator.tick()
    except Exception:
        log.exception("simulator tick failed")


def build_scheduler(settings, simulate: bool | None = None) -> BackgroundScheduler:
    """A configured, not yet started scheduler.

    Args:
        settings: intervals, cron expression, zone, simulator rate.
        simulate: add the simulator job (default: when ``simulate_cases_per_day`` > 0 and the current
            snapshot is a demo warehouse; on any other warehouse it is off, said once at INFO).
    """
    tz = settings.zone
    sched = BackgroundScheduler(timezone=tz, job_defaults=_JOB_DEFAULTS)
    sched.add_job(  # every etl_interval_seconds (60 s by default), starting now: new landing files
        _events_job, IntervalTrigger(seconds=settings.etl_interval_seconds, timezone=tz), args=[settings],
        id="etl-events", name="events ETL", next_run_time=datetime.now(tz))
    sched.add_job(  # reference_cron, "0 2 * * *" by default: every day at 02:00 local time: all tables
        _reference_job, CronTrigger.from_crontab(settings.reference_cron, timezone=tz), args=[settings],
        id="etl-reference", name="reference ETL")
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


def start_background_scheduler(settings, simulate: bool | None = None) -> BackgroundScheduler:
    """Build and start the scheduler in background threads; stop it with ``.shutdown(wait=False)``."""
    sched = build_scheduler(settings, simulate)
    # APScheduler logs every job run at INFO: eight lines a minute here. Our jobs log what they did.
    executor_log = logging.getLogger("apscheduler.executors.default")
    if executor_log.level == logging.NOTSET:
        executor_log.setLevel(logging.WARNING)
    sched.start()
    log.info("scheduler started: %s", ", ".join(f"{j.name} ({j.trigger})" for j in sched.get_jobs()))
    return sched
