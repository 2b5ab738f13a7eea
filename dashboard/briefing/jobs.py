"""Briefing runs: in this process (the command line) or in a process of their own (the schedule, the page's button).

A briefing is CPU work in Python and a Chromium or two. In the web server's process it would hold
the interpreter while wall screens wait for their refresh, so the schedule and the ``/briefings``
button start a separate process (``multiprocessing``'s *spawn*: a fresh interpreter with the same
settings object) and the server only notes that it runs. Every run, wherever it started, writes a
"running" line and then an "ok" or "failed" line to the archive's run log
(:func:`dashboard.briefing.archive.record_run`); :func:`runs` folds them into one entry per run and
calls a run whose process is gone without a word "interrupted".
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from dashboard.briefing.archive import read_runs, record_run
from dashboard.briefing.week import IsoWeek
from settings import Settings

__all__ = ["run", "runs", "start", "scheduled", "catch_up", "schedule_jobs"]

log = logging.getLogger(__name__)


def run(settings: Settings, week: IsoWeek | None, scope_id: str | None = None, lang: str | None = None,
        partial: bool = False, trigger: str = "cli", now: datetime | None = None, run_id: str | None = None) -> Path:
    """Write one briefing here and now, recording the attempt in the run log; returns the PDF's path.

    Raises:
        Whatever :func:`dashboard.briefing.writer.write_briefing` raises, after recording it.
    """
    run_id = run_id or uuid.uuid4().hex[:12]
    entry: dict[str, Any] = {"run": run_id, "trigger": trigger, "week": str(week) if week else None,
                             "scope": scope_id, "lang": lang, "partial": partial, "pid": os.getpid(),
                             "started": datetime.now(settings.zone).isoformat(timespec="seconds")}
    record_run(settings.reports_dir, {**entry, "status": "running"})
    started = time.monotonic()
    try:
        from dashboard.briefing.writer import write_briefing  # inside: a broken install is a logged failure too

        path = write_briefing(settings, week, scope_id=scope_id, lang=lang, partial=partial, now=now)
    except BaseException as exc:
        record_run(settings.reports_dir, {**entry, "status": "failed", "seconds": round(time.monotonic() - started, 1),
                                          "error": f"{type(exc).__name__}: {exc}"})
        _count(trigger, "failed")
        raise
    record_run(settings.reports_dir, {**entry, "status": "ok", "seconds": round(time.monotonic() - started, 1),
                                      "path": str(path)})
    _count(trigger, "ok")
    return path


def _count(trigger: str, outcome: str) -> None:
    """The run for the operators' metrics, in the process that wrote it (``dashboard/telemetry.py``)."""
    from dashboard import telemetry  # here: the command line's other commands need none of the web stack

    telemetry.record_briefing(trigger, outcome)


def _child(settings: Settings, week: str | None, scope_id: str | None, lang: str | None, partial: bool,
           trigger: str, run_id: str) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        run(settings, IsoWeek.parse(week) if week else None, scope_id, lang, partial, trigger, run_id=run_id)
    except Exception:
        log.exception("briefing run %s failed", run_id)
        raise SystemExit(1) from None


def start(settings: Settings, week: IsoWeek | None, scope_id: str | None = None, lang: str | None = None,
          partial: bool = False, trigger: str = "page") -> tuple[str, multiprocessing.Process]:
    """Start a run in its own process; returns at once with the run's id and the process."""
    run_id = uuid.uuid4().hex[:12]
    process = multiprocessing.get_context("spawn").Process(
        target=_child, args=(settings, str(week) if week else None, scope_id, lang, partial, trigger, run_id),
        name=f"briefing-{run_id}", daemon=False)
    process.start()
    return run_id, process


def scheduled(settings: Settings, now: datetime | None = None) -> list[tuple[IsoWeek, str | None]]:
    """The Monday job: the week just ended, for the district and each area of ``briefing_scopes``, in its own process.

    Waits for each run (the scheduler thread, not the server, waits); a failure is in the run log
    (and the log file) and never stops the scheduler.

    Args:
        settings: the deployment's settings.
        now: the fire time (default: the wall clock); the week is the last one complete at it.

    Returns:
        The (week, scope) pairs started.
    """
    week = IsoWeek.last_complete(now or datetime.now(settings.zone), settings.timezone)
    started = []
    for scope_id in _scopes(settings):
        started.append((week, scope_id))
        try:
            _, process = start(settings, week, scope_id, None, False, "schedule")
            process.join()
        except Exception:
            log.exception("scheduled briefing for %s could not start", scope_id or "the district")
    return started


def _scopes(settings: Settings) -> list[str | None]:
    return [None, *[s.strip() for s in settings.briefing_scopes.split(",") if s.strip()]]


def catch_up(settings: Settings, last_fire: datetime | None) -> None:
    """Write the briefing the schedule missed this week while nothing was running (once, after start).

    When the cron's last fire time (``last_fire``, within the past week) is past and the district's
    briefing of the week before it is not in the archive, :func:`scheduled` runs now. A Monday on
    which the server was down therefore still gets its briefing when the server comes back.
    """
    if last_fire is None:
        return
    from dashboard.briefing.archive import report_path

    week = IsoWeek.last_complete(last_fire, settings.timezone)
    missing = []
    for scope_id in _scopes(settings):
        folder_id = scope_id or _district_id(settings)
        if folder_id is None:
            return  # nothing published yet: nothing to brief
        if not report_path(settings.reports_dir, folder_id, week, settings.language, settings.language).exists():
            missing.append(scope_id)
    if missing:
        log.info("briefing of %s missing after the %s run: writing it now", week, last_fire.isoformat())
        for scope_id in missing:
            _, process = start(settings, week, scope_id, None, False, "catch-up")
            process.join()


def _district_id(settings: Settings) -> str | None:
    from dashboard.runtime import Runtime, read_deployment
    from data.snapshot import NoSnapshotError

    rt = Runtime(settings)
    try:
        with rt.snapshot() as (con, _):
            return read_deployment(con).district_id
    except (NoSnapshotError, LookupError):
        return None
    finally:
        rt.close()


def schedule_jobs(settings: Settings) -> tuple:
    """The scheduler's briefing job (``briefing_cron``, Mondays 08:00 by default), none when the setting is empty."""
    from data.schedule import CronJob

    if not settings.briefing_cron.strip():
        return ()
    return (CronJob(scheduled, settings.briefing_cron, "briefing", "weekly briefing", catch_up),)


def runs(settings: Settings, limit: int = 20) -> list[dict[str, Any]]:
    """The last ``limit`` runs, newest first, one entry each (its latest line), with dead "running" ones "interrupted"."""
    merged: dict[str, dict[str, Any]] = {}
    for entry in reversed(read_runs(settings.reports_dir, limit * 4)):  # oldest first: later lines win
        key = str(entry.get("run"))
        merged[key] = {**merged.get(key, {}), **entry}
    out = list(merged.values())[::-1][:limit]
    for entry in out:
        if entry.get("status") == "running" and not _alive(entry.get("pid")):
            entry["status"] = "interrupted"
    return out


def _alive(pid: Any) -> bool:
    """Whether process ``pid`` runs (a zombie, finished but not yet reaped, does not)."""
    try:
        os.kill(int(pid), 0)
    except (TypeError, ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{int(pid)}/stat").read_text()
    except OSError:
        return True  # no /proc: trust the signal
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
