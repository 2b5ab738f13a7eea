"""The data commands of ``app.py``: ``etl``, ``scheduler``, ``simulate`` and ``pull``.

``app.py`` merges :data:`HANDLERS` into its own; each handler takes the settings and the parsed
arguments and returns the process exit code. This is the one module of ``data/`` that prints.

Failure is one line on stderr and a non-zero status, never a traceback (the warehouse held by
another process, a ``var/`` that is not a folder, a failed cycle): every handler runs inside
:func:`_guarded`, which also keeps tracebacks out of the log lines the command prints. With the
``debug`` setting (``GRIDPULSE_DEBUG=1``) the tracebacks are shown.
"""

from __future__ import annotations

import argparse
import functools
import logging
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from data.etl import CycleResult, last_runs, run_cycle

__all__ = ["HANDLERS", "cmd_etl", "cmd_scheduler", "cmd_simulate", "cmd_pull", "format_result", "format_runs",
           "PULL_HOST_REFUSAL", "WRITING_COMMANDS"]

# Commands that write the warehouse: on a host that pulls its snapshots they would write a second CURRENT beside
# the puller's, so app.py refuses them there.
WRITING_COMMANDS = ("demo", "etl", "scheduler", "simulate", "geography", "import")
PULL_HOST_REFUSAL = ("this host pulls its snapshots from the object store (object_store_role = pull): the ETL and "
                     "every other command that writes the warehouse run on the writer host only")


def _n(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def format_result(result: CycleResult) -> str:
    """The summary ``python app.py etl`` prints: totals, quarantine by reason, then one line per file."""
    head = f"ETL {result.kind} run {result.run_id}: {result.status} in {result.duration_s:.2f} s"
    if result.snapshot:
        head += f", published {result.snapshot}"
    elif result.status == "ok":
        head += ", nothing new to publish"
    lines = [head]
    if result.error:
        lines.append(f"  error: {result.error}")
    rejected = len(result.rejected)
    lines.append(f"  files        {len(result.files):>10,}  ({rejected} rejected, {result.waiting} waiting for the "
                 "next cycle)")
    lines.append(f"  rows in      {result.rows_in:>10,}")
    lines.append(f"  loaded       {result.rows_loaded:>10,}")
    lines.append(f"  quarantined  {result.rows_quarantined:>10,}")
    for reason, count in sorted(result.reasons.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"    {reason:<22} {count:>8,}")
    if result.timings:
        lines.append("  seconds      " + ", ".join(f"{k} {v:.2f}" for k, v in result.timings.items()))
    if result.files:
        width = max(24, *(len(f.path) for f in result.files[:50]))
        lines.append(f"  {'file':<{width}}  {'table':<11} {'mode':<6} {'in':>9} {'loaded':>9} {'quar.':>7}  status")
        for f in result.files[:50]:
            lines.append(f"  {f.path:<{width}}  {f.table:<11} {f.mode:<6} {f.rows_in:>9,} {f.rows_loaded:>9,} "
                         f"{f.rows_quarantined:>7,}  {f.status}" + (f": {f.error}" if f.error else ""))
        if len(result.files) > 50:
            lines.append(f"  ... and {len(result.files) - 50} more files")
    return "\n".join(lines)


def format_runs(runs: list[dict]) -> str:
    """The table ``python app.py etl --status`` prints (newest first)."""
    if not runs:
        return "no ETL runs recorded yet"
    header = (f"{'run':>6}  {'kind':<9} {'started':<19} {'secs':>7} {'files':>6} {'rows in':>10} {'loaded':>10} "
              f"{'quar.':>8}  {'status':<7} snapshot / error")
    lines = [header, "-" * len(header)]
    for r in runs:
        started = r["started_at"].strftime("%Y-%m-%d %H:%M:%S") if isinstance(r["started_at"], datetime) else ""
        secs = f"{r['duration_s']:.2f}" if r["duration_s"] is not None else ""
        tail = r["error"] if r["status"] == "failed" else (r["snapshot"] or "")
        if r["status"] == "ok" and r["error"]:
            tail = f"{tail}  ({r['error']})" if tail else r["error"]
        lines.append(f"{r['run_id']:>6}  {r['kind']:<9} {started:<19} {secs:>7} {_n(r['files']):>6} "
                     f"{_n(r['rows_in']):>10} {_n(r['rows_loaded']):>10} {_n(r['rows_quarantined']):>8}  "
                     f"{r['status']:<7} {(tail or '')[:120]}")
    return "\n".join(lines)


def cmd_etl(settings, args: argparse.Namespace) -> int:
    """``python app.py etl``: one cycle and its summary; ``--status``: the last runs."""
    if getattr(args, "status", False):
        print(format_runs(last_runs(settings)))  # noqa: T201
        return 0
    kind = "reference" if getattr(args, "reference", False) else "events"
    result = run_cycle(settings, kind)  # RuntimeError when another process holds the warehouse: see _guarded
    print(format_result(result))  # noqa: T201
    _publish_to_store(settings)
    return 0 if result.status == "ok" else 1


def _publish_to_store(settings) -> None:
    """On the writer host of an object store: hand the snapshot to the store now (the scheduler does it each cycle)."""
    from data.objectstore import publisher_for

    publisher = publisher_for(settings)
    if publisher is not None:
        print(f"object store {settings.object_store_url}: {publisher.sync()}", file=sys.stderr)  # noqa: T201


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM ends the scheduler as Ctrl-C does: running jobs finish, then it stops."""
    raise KeyboardInterrupt


def cmd_scheduler(settings, args: argparse.Namespace, extra: tuple = (), on_cycle=None) -> int:
    """``python app.py scheduler``: the ETL schedules (and the simulator, and ``extra`` jobs) alone, until Ctrl-C.

    ``extra`` and ``on_cycle`` come from ``app.py`` (the weekly briefing, the operators' metrics): see
    :func:`data.schedule.build_scheduler`.
    """
    from data.schedule import start_background_scheduler

    return _in_foreground(lambda: start_background_scheduler(settings, extra=extra, on_cycle=on_cycle),
                          f"scheduler running: events every {settings.etl_interval_seconds} s, reference tables at "
                          f"cron '{settings.reference_cron}' ({settings.timezone}); Ctrl-C stops")


def _in_foreground(start: Callable[[], object], banner: str) -> int:
    """Run a background service (what ``start()`` returns) until Ctrl-C or SIGTERM, then shut it down, waiting."""
    # Stop on Ctrl-C and on SIGTERM alike (how `app.py serve` and service managers stop it), even when this
    # process was started with SIGINT ignored (a background job of a non-interactive shell is).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    service = start()
    print(banner, file=sys.stderr)  # noqa: T201
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        service.shutdown(wait=True)
    return 0


def cmd_pull(settings, args: argparse.Namespace) -> int:
    """``python app.py pull``: follow the object store's snapshots into this host's ``var/``, until Ctrl-C.

    What ``app.py serve`` runs beside the web workers on a pull host, in place of the scheduler.
    """
    from data.objectstore import start_puller

    if settings.object_store_role != "pull":
        raise RuntimeError("app.py pull needs object_store_url and object_store_role = pull (docs/object-store.md)")
    return _in_foreground(lambda: start_puller(settings),
                          f"pulling snapshots from {settings.object_store_url} every "
                          f"{settings.object_store_poll_seconds} s into {settings.warehouse_dir}; Ctrl-C stops")


def cmd_simulate(settings, args: argparse.Namespace) -> int:
    """``python app.py simulate``: drop live cases into the landing zone in real time."""
    from data.demo.simulate import Simulator

    per_day = getattr(args, "per_day", None) or settings.simulate_cases_per_day or 2000
    seconds = float(getattr(args, "seconds", 0) or 0)
    try:
        sim = Simulator(settings, per_day=per_day)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    print(f"simulating {per_day:,} cases a day into {settings.landing_dir / 'events'}; Ctrl-C stops",  # noqa: T201
          file=sys.stderr)
    started = time.monotonic()
    written = 0
    try:
        while not seconds or time.monotonic() - started < seconds:
            path = sim.tick()
            if path is not None:
                written += 1
                print(f"{path.relative_to(settings.landing_dir)}: {sim.last_counts}", file=sys.stderr)  # noqa: T201
            time.sleep(min(sim.tick_seconds, max(seconds - (time.monotonic() - started), 0.1) if seconds else 1e9))
    except KeyboardInterrupt:
        pass
    print(f"{written} files written", file=sys.stderr)  # noqa: T201
    return 0


def _one_line(exc: BaseException) -> str:
    """An exception as one line: its message with line breaks folded (DuckDB's span several)."""
    return " ".join(str(exc).split()) or type(exc).__name__


class _NoTraceback(logging.Filter):
    """Keep a log record's message and drop its traceback (the command says what failed in one line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


@contextmanager
def _quiet_tracebacks(enabled: bool) -> Iterator[None]:
    """Drop tracebacks from what the root logger's handlers write, for the duration of a command."""
    handlers = list(logging.getLogger().handlers) if enabled else []
    flt = _NoTraceback()
    for h in handlers:
        h.addFilter(flt)
    try:
        yield
    finally:
        for h in handlers:
            h.removeFilter(flt)


def _guarded(handler: Callable[[object, argparse.Namespace], int]) -> Callable[[object, argparse.Namespace], int]:
    """Run a command so that any failure is ``error: <one line>`` on stderr and exit status 1 (Ctrl-C: 130)."""

    @functools.wraps(handler)
    def run(settings, args: argparse.Namespace) -> int:
        debug = bool(getattr(settings, "debug", False))
        with _quiet_tracebacks(not debug):
            try:
                return handler(settings, args)
            except KeyboardInterrupt:
                return 130
            except Exception as exc:
                if debug:
                    raise
                print(f"error: {_one_line(exc)}", file=sys.stderr)  # noqa: T201
                return 1

    return run


HANDLERS = {"etl": _guarded(cmd_etl), "scheduler": _guarded(cmd_scheduler), "simulate": _guarded(cmd_simulate),
            "pull": _guarded(cmd_pull)}
