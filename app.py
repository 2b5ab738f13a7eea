"""GridPulse command line.

python app.py                 build the default demo if there is none, then serve
python app.py serve           serve the dashboard (and, by default, run the scheduler)
python app.py demo            build a demo warehouse and publish it
python app.py etl             run one ETL cycle and print a summary (--status: last runs)
python app.py scheduler       run the ETL schedules alone (for multi-process web tiers)
python app.py simulate        drop live cases into the landing zone in real time
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from settings import Settings, SettingsError, load_settings

log = logging.getLogger("gridpulse")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="app.py", description="GridPulse: grid-governance command-center dashboard.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("serve", help="serve the dashboard (default 127.0.0.1:8050)")
    s.add_argument("--host", help="interface to listen on (setting: host)")
    s.add_argument("--port", type=int, help="TCP port (setting: port)")
    s.add_argument("--no-scheduler", action="store_true", help="do not run the ETL scheduler in this process")

    d = sub.add_parser("demo", help="build a demo warehouse and publish it as the current snapshot")
    d.add_argument("--events", type=int, help="number of cases (default 300000; up to 10 million)")
    d.add_argument("--days", type=int, help="days of history ending now (default 365)")
    d.add_argument("--seed", type=int, help="random seed (same seed, same district and cases)")
    d.add_argument("--boundary", type=Path, help="GeoJSON polygon to tessellate instead of the built-in outline")

    e = sub.add_parser("etl", help="run one ETL cycle over the landing zone and publish a snapshot")
    e.add_argument("--status", action="store_true", help="show the last ETL runs instead")
    e.add_argument("--reference", action="store_true", help="load reference tables too (the nightly job)")

    sub.add_parser("scheduler", help="run the ETL schedules alone (events every minute, reference nightly)")
    m = sub.add_parser("simulate", help="drop realistic new cases and updates into the landing zone")
    m.add_argument("--per-day", type=int, help="cases a day (default: setting simulate_cases_per_day)")
    m.add_argument("--seconds", type=float, default=0, help="stop after this many seconds (0 = run forever)")
    return p


def _ensure_demo(settings: Settings) -> None:
    """Build the default demo warehouse when nothing has been published yet."""
    from data.snapshot import read_current

    if read_current(settings.current_file) is None:
        from data.generate import build_demo

        print("No warehouse yet: building the default demo (about a minute) ...", file=sys.stderr)
        build_demo(settings)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    """Serve the dashboard (building the demo first when there is no warehouse yet)."""
    from dashboard.app import create_app

    settings = settings.replace(**{k: v for k, v in (("host", args.host), ("port", args.port)) if v})
    _ensure_demo(settings)
    scheduler = None
    if settings.scheduler_in_serve and not getattr(args, "no_scheduler", False):
        from data.schedule import start_background_scheduler

        scheduler = start_background_scheduler(settings)
    app = create_app(settings)
    from dashboard.wall import warmup

    warmup.start(settings)  # the default wall's numbers, before the first wall asks
    print(f"GridPulse serving on http://{settings.host}:{settings.port}/", file=sys.stderr)
    try:
        app.run(host=settings.host, port=settings.port, debug=settings.debug)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    """Build the demo warehouse and publish its first snapshot."""
    from data.generate import DemoSpec, build_demo

    spec = DemoSpec(
        events=args.events or settings.demo_events, days=args.days or settings.demo_days,
        seed=args.seed if args.seed is not None else settings.demo_seed,
        boundary=args.boundary or settings.demo_boundary,
    )
    if spec.boundary is not None and not Path(spec.boundary).exists():
        print(f"error: --boundary {spec.boundary}: file does not exist", file=sys.stderr)
        return 2
    info = build_demo(settings, spec)
    print(f"published snapshot {info.name}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command line: ``app.py serve|demo|etl|scheduler|simulate``; returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    command = args.command or "serve"
    if args.command is None:
        args = _parser().parse_args(["serve"])
    from data import cli as data_cli  # etl, scheduler and simulate

    handlers = {"serve": cmd_serve, "demo": cmd_demo, **data_cli.HANDLERS}
    return handlers[command](settings, args)


if __name__ == "__main__":
    sys.exit(main())
