"""GridPulse command line.

python app.py                 serve the dashboard (the same as ``serve``)
python app.py serve           serve the dashboard (gunicorn workers, and the scheduler in its own process)
python app.py demo            build the demo warehouse and publish it (``--if-missing``: only when none exists)
python app.py etl             run one ETL cycle and print a summary (--status: last runs)
python app.py geography import --mapping MAP.toml FILE...   the deployment's own areas
python app.py import --source MAP.toml FILE...            a city's exports through the ETL
python app.py scheduler       run the ETL schedules alone (for multi-process web tiers)
python app.py pull            follow the object store's snapshots (a web-only host; docs/object-store.md)
python app.py simulate        drop live demo cases into the landing zone (demo warehouses only)
python app.py report --week 2026-W47 [--scope AREA] [--lang en] [--partial]   write the weekly briefing (PDF)
python app.py users add|list|remove|passwd|token     accounts (roles scoped to areas) and wall tokens
python app.py export history DIR [--full] [--compression zstd]   the cases as Hive-partitioned Parquet (docs/scaling.md)

Every command checks its arguments (a bad one is named in the message, exit status 2) and exits
with status 1 and a one-line message, never a traceback, when it fails.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from settings import ENV_PREFIX, Settings, SettingsError, load_settings

log = logging.getLogger("gridpulse")

NO_DATA_HINT = ("no data published yet under {var}: build the demo with `python app.py demo`, or land your own data "
                "and run `python app.py etl` (see docs/etl.md); the pages say so until then")


def _whole(low: int, what: str):
    """An argparse type: a whole number of at least ``low`` (argparse names the argument in its message)."""
    def parse(text: str) -> int:
        try:
            value = int(text.replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value
    return parse


def _port(text: str) -> int:
    value = _whole(1, "a TCP port 1-65535")(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"expected a TCP port 1-65535, got {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}") from None
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="app.py", description="GridPulse: grid-governance command-center dashboard.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("serve", help="serve the dashboard (default 127.0.0.1:8050)")
    s.add_argument("--host", help="interface to listen on (setting: host)")
    s.add_argument("--port", type=_port, help="TCP port (setting: port)")
    s.add_argument("--no-scheduler", action="store_true", help="do not start the scheduler (ETL, briefing)")
    s.add_argument("--workers", type=_whole(1, "a positive whole number"), help="web worker processes (setting: workers)")
    s.add_argument("--debug", action="store_true",
                   help="Flask's development server in one process (reloads nothing; for debugging only)")

    d = sub.add_parser("demo", help="build a demo warehouse and publish it as the current snapshot")
    d.add_argument("--events", type=_whole(1, "a positive whole number"),
                   help="number of cases (default 300000; up to 10 million)")
    d.add_argument("--days", type=_whole(1, "a positive whole number"), help="days of history ending now (default 365)")
    d.add_argument("--seed", type=_whole(0, "a whole number >= 0"),
                   help="random seed (same seed, same district and cases)")
    d.add_argument("--boundary", type=Path, help="GeoJSON polygon to tessellate instead of the built-in outline")
    d.add_argument("--if-missing", action="store_true",
                   help="do nothing when a snapshot is already published (what `make run` uses)")
    d.add_argument("--replace", action="store_true",
                   help="replace a warehouse that is not a demo (its files are kept as a backup)")

    e = sub.add_parser("etl", help="run one ETL cycle over the landing zone and publish a snapshot")
    e.add_argument("--status", action="store_true", help="show the last ETL runs instead")
    e.add_argument("--reference", action="store_true", help="load reference tables too (the nightly job)")

    g = sub.add_parser("geography", help="import the deployment's areas (GeoJSON, GeoPackage, Shapefile)")
    gsub = g.add_subparsers(dest="geography_command", metavar="ACTION", required=True)
    gi = gsub.add_parser("import", help="read area polygons through a mapping into the warehouse and publish them")
    gi.add_argument("--mapping", type=Path, required=True, help="TOML file whose [geography] section maps the files")
    gi.add_argument("files", type=Path, nargs="+", metavar="FILE", help="one file per level, or one with every level")
    gi.add_argument("--replace", action="store_true",
                    help="replace a warehouse that already holds cases (the old file is kept as a backup)")

    i = sub.add_parser("import", help="convert source files (Open311 JSON, CSV, Excel) into the landing zone and load them")
    i.add_argument("--source", type=Path, required=True, help="TOML mapping of the source (see docs/your-own-data.md)")
    i.add_argument("files", type=Path, nargs="+", metavar="FILE", help="the exported files")

    sub.add_parser("scheduler", help="run the ETL schedules alone (events every minute, reference nightly)")
    sub.add_parser("pull", help="follow the object store's snapshots into this host's var/ (object_store_role = pull)")
    m = sub.add_parser("simulate", help="drop realistic new demo cases and updates into the landing zone")
    m.add_argument("--per-day", type=_whole(1, "a positive whole number"),
                   help="cases a day (default: setting simulate_cases_per_day)")
    m.add_argument("--seconds", type=_seconds, default=0, help="stop after this many seconds (0 = run forever)")
    r = sub.add_parser("report", help="write the weekly briefing PDF of an ISO week and print its path")
    r.add_argument("--week", type=_iso_week, help="ISO week such as 2026-W47 (default: the last complete week)")
    r.add_argument("--scope", metavar="AREA_ID", help="an area id (default: the whole district)")
    r.add_argument("--lang", choices=("zh", "en"), help="language (default: setting language)")
    r.add_argument("--partial", action="store_true", help="write a week that is not over yet, marked as partial")
    x = sub.add_parser("export", help="export the warehouse for other engines (Spark, Trino, DuckDB)")
    xsub = x.add_subparsers(dest="export_command", metavar="WHAT", required=True)
    xh = xsub.add_parser("history", help="the current snapshot's cases as Parquet partitioned by month and top-level area")
    xh.add_argument("dir", type=Path, metavar="DIR", help="export folder (new, empty, or an earlier export to update)")
    xh.add_argument("--full", action="store_true", help="rewrite every month, not only those that changed")
    xh.add_argument("--compression", choices=("zstd", "snappy", "gzip", "uncompressed"), default="zstd",
                    help="Parquet compression (default zstd)")
    from dashboard.auth.cli import add_parser as add_users_parser

    add_users_parser(sub)
    return p


def _iso_week(text: str):
    from dashboard.briefing.week import IsoWeek

    try:
        return IsoWeek.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _port_free(host: str, port: int) -> str | None:
    """``None`` when ``host:port`` can be listened on, else why not (checked before any thread starts)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return f"host {host!r} cannot be resolved ({exc.strerror})"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug does
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is already in use (another GridPulse? choose one with --port)"
            return f"cannot listen on {host}:{port}: {exc.strerror}"
    return None


def _stop_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM ends ``serve`` as Ctrl-C does: werkzeug stops serving and the threads stop in order."""
    raise KeyboardInterrupt


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    """Serve the dashboard: gunicorn's workers and the scheduler's own process, both stopped by Ctrl-C or SIGTERM.

    With ``--debug``, Flask's development server in this one process instead (its interactive debugger only
    when the ``debug`` setting is on too: never on an address others can reach).
    """
    from data.snapshot import read_current

    changes = (("host", args.host), ("port", args.port), ("workers", getattr(args, "workers", None)))
    settings = settings.replace(**{k: v for k, v in changes if v})
    busy = _port_free(settings.host, settings.port)
    if busy is not None:
        print(f"error: {busy}", file=sys.stderr)
        return 1
    if read_current(settings.current_file) is None:
        print("warning: " + NO_DATA_HINT.format(var=settings.var_dir), file=sys.stderr)
    if not _has_accounts(settings):
        print("warning: no accounts yet, so nobody can sign in: make one with "
              "`python app.py users add NAME --role admin`", file=sys.stderr)
    if getattr(args, "debug", False):  # never by the `debug` setting alone: it also shows tracebacks elsewhere
        return _serve_debug(settings, args)
    return _serve_production(settings, args)


def _has_accounts(settings: Settings) -> bool:
    from dashboard.auth.users import UserStore

    return bool(UserStore.of(settings).list())


def _scheduler_process(settings: Settings) -> subprocess.Popen | None:
    """``app.py scheduler`` as a process of its own (the one writer), or ``None`` when switched off.

    On a host that pulls its snapshots from an object store, ``app.py pull`` instead (docs/object-store.md).
    It gets the same settings through the environment (the serve command's own overrides included)
    and its own session, so a Ctrl-C in the terminal reaches only the server, which then stops it once.
    """
    env = {**os.environ, ENV_PREFIX + "VAR_DIR": str(settings.var_dir), ENV_PREFIX + "HOST": settings.host,
           ENV_PREFIX + "PORT": str(settings.port)}
    command = "pull" if settings.object_store_role == "pull" else "scheduler"
    return subprocess.Popen([sys.executable, str(Path(__file__).resolve()), command], env=env,
                            start_new_session=True)


def _stop_process(proc: subprocess.Popen | None, timeout: float = 60) -> None:
    """Ask a child to stop (SIGTERM: it finishes a running ETL cycle first), then insist."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class SupervisedProcess:
    """A child process started again when it ends without being asked to (killed, crashed, out of memory).

    ``serve`` runs the scheduler under one: the one writer must not stay down until a person notices
    (the wall would only say "stale"). A watcher thread looks every second; after an unasked exit it
    waits ``delays[i]`` seconds (1, 5, 15, 60: the next delay only when the process ran less than a
    minute, so a scheduler that cannot start does not spin) and starts it again. :meth:`stop` ends the
    watching first, then the process (SIGTERM: a running ETL cycle finishes). gunicorn's arbiter reaps
    every child of this process, the scheduler included: :meth:`subprocess.Popen.poll` still sees the end.
    """

    def __init__(self, start, on_exit=None, delays: tuple[float, ...] = (1, 5, 15, 60)):
        import threading

        self._start, self._on_exit, self._delays = start, on_exit, delays
        self.proc: subprocess.Popen = start()
        self.restarts = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="supervise-scheduler", daemon=True)
        self._thread.start()

    @property
    def pid(self) -> int:
        """The current process's id (a new one after each restart)."""
        return self.proc.pid

    def _watch(self) -> None:
        import time

        step, started = -1, time.monotonic()
        while True:
            while self.proc.poll() is None:
                if self._stopping.wait(1):
                    return
            if self._stopping.is_set():
                return
            ended = self.proc
            step = step + 1 if time.monotonic() - started < 60 else 0  # quick deaths in a row wait longer
            delay = self._delays[min(step, len(self._delays) - 1)]
            print(f"scheduler (pid {ended.pid}) ended unasked (status {ended.returncode}); starting it again "
                  f"in {delay:g} s", file=sys.stderr)
            if self._on_exit is not None:
                self._on_exit(ended.pid)
            if self._stopping.wait(delay):
                return
            self.proc, started = self._start(), time.monotonic()
            self.restarts += 1

    def stop(self) -> None:
        """Stop watching, then stop the process (it finishes a running ETL cycle first)."""
        self._stopping.set()
        self._thread.join(5)
        _stop_process(self.proc)
        if self._on_exit is not None:
            self._on_exit(self.proc.pid)


def _serve_production(settings: Settings, args: argparse.Namespace) -> int:
    """Gunicorn in this process (its arbiter), the scheduler beside it; both end when the arbiter does."""
    from dashboard import telemetry
    from dashboard.production import GridPulseServer

    # Before gunicorn forks and the scheduler starts (and before anything imports prometheus_client): every
    # process of this run writes its metrics to one folder (in /dev/shm), emptied of the last run's (docs/serving.md).
    metrics_dir = telemetry.use_multiprocess_dir(settings, wipe=True)
    scheduler = None
    pulls = settings.object_store_role == "pull"  # a pull host's data comes only from its puller
    if (settings.scheduler_in_serve or pulls) and not getattr(args, "no_scheduler", False):
        scheduler = SupervisedProcess(lambda: _scheduler_process(settings), on_exit=telemetry.process_ended)
    print(f"GridPulse serving on http://{settings.host}:{settings.port}/ ({settings.workers} workers × "
          f"{settings.threads} threads{', scheduler pid ' + str(scheduler.pid) if scheduler else ''})", file=sys.stderr)
    try:
        GridPulseServer(settings).run()
    except SystemExit as exc:  # the arbiter exits through sys.exit, 0 after Ctrl-C or SIGTERM
        return int(exc.code or 0)
    finally:
        if scheduler is not None:
            scheduler.stop()
        telemetry.remove_multiprocess_dir(metrics_dir)  # every process of the run has ended: RAM back
    return 0


def _serve_debug(settings: Settings, args: argparse.Namespace) -> int:
    """Flask's development server, with the scheduler in this process: one process to step through."""
    from dashboard import runtime, telemetry
    from dashboard.analyst import warmup as analyst_warmup
    from dashboard.app import create_app
    from dashboard.wall import warmup

    telemetry.single_process()  # one process serves and schedules: its own registry is the whole picture
    scheduler = None
    app = create_app(settings)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)  # systemd / docker stop: the same orderly shutdown as Ctrl-C
    try:
        if settings.object_store_role == "pull" and not getattr(args, "no_scheduler", False):
            from data.objectstore import start_puller

            scheduler = start_puller(settings)  # stops as the scheduler does: shutdown() below
        elif settings.scheduler_in_serve and not getattr(args, "no_scheduler", False):
            from dashboard.briefing.jobs import schedule_jobs
            from data.schedule import start_background_scheduler

            scheduler = start_background_scheduler(settings, extra=schedule_jobs(settings),
                                                   on_cycle=telemetry.record_cycle)
        warmup.start(runtime.of(app))  # the default wall's numbers, before the first wall asks
        print(f"GridPulse serving on http://{settings.host}:{settings.port}/ (Flask's development server, --debug)",
              file=sys.stderr)
        app.run(host=settings.host, port=settings.port, debug=settings.debug)
    except (OSError, SystemExit) as exc:  # the port was taken between the check and the bind
        print(f"error: cannot serve on {settings.host}:{settings.port}: {exc}", file=sys.stderr)
        return 1
    finally:
        # Threads first (they hold snapshot cursors), then the readers' DuckDB connections: a DuckDB
        # connection closed under a running query aborts the whole process.
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        warmup.stop()
        analyst_warmup.stop()
        runtime.of(app).close()
    return 0


def _guard_live_warehouse(settings: Settings, replace: bool) -> str | None:
    """Refuse to build the demo over a warehouse that is not a demo, unless ``--replace`` (then back it up).

    Returns:
        Why the demo may not be built, or ``None`` (after moving a replaced warehouse aside).
    """
    from data.meta import ORIGIN, is_demo, read_meta
    from data.warehouse import connect

    work = settings.work_db
    if not work.exists():
        return None
    con = connect(work, settings.timezone, read_only=True)
    try:
        meta = read_meta(con)
        cases = con.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        con.close()
    if is_demo(meta) or cases == 0:  # a demo, or a warehouse with no cases to lose
        return None
    origin = (meta or {}).get(ORIGIN) or "live, or a demo older than warehouse_meta"
    if not replace:
        return (f"{work} holds a warehouse that is not a demo (origin: {origin}); the demo would "
                "replace its cases. Use another var_dir, or --replace to keep it as a backup and build the demo")
    backup = work.with_name(f"{work.stem}.backup-{int(work.stat().st_mtime)}.duckdb")
    work.rename(backup)
    print(f"kept the previous warehouse as {backup}", file=sys.stderr)
    return None


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    """Build the demo warehouse and publish its first snapshot."""
    from data.demo.generate import DemoSpec, build_demo
    from data.snapshot import read_current

    if args.if_missing and read_current(settings.current_file) is not None:
        print(f"a snapshot is already published under {settings.var_dir}: nothing to build", file=sys.stderr)
        _first_admin(settings)
        return 0
    spec = DemoSpec(
        events=args.events or settings.demo_events, days=args.days or settings.demo_days,
        seed=args.seed if args.seed is not None else settings.demo_seed,
        boundary=args.boundary or settings.demo_boundary,
    )
    if spec.boundary is not None and not Path(spec.boundary).exists():
        print(f"error: argument --boundary: file {spec.boundary} does not exist", file=sys.stderr)
        return 2
    refusal = _guard_live_warehouse(settings, args.replace)
    if refusal is not None:
        print(f"error: {refusal}", file=sys.stderr)
        return 1
    info = build_demo(settings, spec)
    print(f"published snapshot {info.name}")
    _first_admin(settings)
    return 0


def _first_admin(settings: Settings) -> None:
    """On a demo with no accounts yet: an ``admin`` with a random password, printed once.

    The password is also kept in ``var/secrets/admin-password`` (mode 0600). A real deployment's accounts
    are made with ``app.py users``.
    """
    from dashboard.auth.cli import first_admin
    from data.meta import is_demo, snapshot_meta

    if is_demo(snapshot_meta(settings.current_file, settings.timezone)):
        made = first_admin(settings)
        if made is not None:
            name, password, path = made
            print(f"\nsign in as {name!r} with password {password}\n(shown once; also in {path}, readable by you only)\n")


def cmd_geography(settings: Settings, args: argparse.Namespace) -> int:
    """``app.py geography import``: the deployment's areas from the city's own polygon files."""
    from data.geo_import import cmd_geography_import

    return cmd_geography_import(settings, args)


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    """``app.py import``: a city's exports through a source mapping into the landing zone, then one ETL cycle."""
    from data.sources import cmd_import as run_import

    return run_import(settings, args)


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    """``app.py report``: write one briefing here (logged in the archive's run log) and print its path."""
    from dashboard.briefing import jobs
    from dashboard.briefing.preflight import BriefingUnavailable
    from dashboard.briefing.writer import WeekNotOver
    from data.snapshot import NoSnapshotError
    from metrics.scope import UnknownAreaError

    try:
        path = jobs.run(settings, args.week, args.scope, args.lang, args.partial, trigger="cli")
    except (BriefingUnavailable, WeekNotOver) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except UnknownAreaError as exc:
        print(f"error: argument --scope: {exc}", file=sys.stderr)
        return 2
    except NoSnapshotError:
        print("error: " + NO_DATA_HINT.format(var=settings.var_dir), file=sys.stderr)
        return 1
    print(path)
    return 0


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    """``app.py export history DIR``: the cases as Hive-partitioned Parquet (data/history.py); prints a summary."""
    from data.history import HistoryExportError, export_history
    from data.snapshot import NoSnapshotError

    try:
        r = export_history(settings, args.dir, full=args.full, compression=args.compression)
    except (HistoryExportError, NoSnapshotError) as exc:
        why = NO_DATA_HINT.format(var=settings.var_dir) if isinstance(exc, NoSnapshotError) else exc
        print(f"error: {why}", file=sys.stderr)
        return 1
    print(f"{r.mode} export of snapshot {r.snapshot} into {r.path}: {r.rows:,} cases, {r.files} files, "
          f"{r.bytes / 1e6:,.1f} MB, {r.seconds:.1f} s (by month and {r.area_level})")
    print(f"  months written {len(r.months_written)}, kept {len(r.months_kept)}, removed {len(r.months_removed)}")
    return 0


def cmd_users(settings: Settings, args: argparse.Namespace) -> int:
    """``app.py users ...``: accounts and wall tokens (dashboard/auth/cli.py)."""
    from dashboard.auth.cli import cmd_users as run_users

    return run_users(settings, args)


def _with_briefing(handler):
    """A scheduler command that also runs the weekly briefing and counts cycles (``data/`` imports neither).

    Its metrics go to the web workers' folder (:func:`dashboard.telemetry.multiprocess_dir`; not emptied: a scheduler started on
    its own adds to a running server's files; ``serve`` empties the folder when it starts).
    """
    from dashboard.briefing.jobs import schedule_jobs

    def run(settings: Settings, args: argparse.Namespace) -> int:
        from dashboard import telemetry

        telemetry.use_multiprocess_dir(settings, wipe=False)
        return handler(settings, args, extra=schedule_jobs(settings), on_cycle=telemetry.record_cycle)
    return run


def main(argv: list[str] | None = None) -> int:
    """The command line: ``app.py serve|demo|etl|scheduler|simulate|report``; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["serve"])
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from data import cli as data_cli  # etl, scheduler and simulate

    if settings.object_store_role == "pull" and args.command in data_cli.WRITING_COMMANDS:
        print(f"error: {args.command}: {data_cli.PULL_HOST_REFUSAL}", file=sys.stderr)
        return 1

    handlers = {"serve": cmd_serve, "demo": cmd_demo, "geography": cmd_geography, "import": cmd_import,
                **data_cli.HANDLERS, "report": cmd_report, "users": cmd_users, "export": cmd_export,
                "scheduler": _with_briefing(data_cli.cmd_scheduler)}
    try:
        return handlers[args.command](settings, args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one line for the operator; the traceback goes to the log at debug level
        log.debug("%s failed", args.command, exc_info=exc)
        print(f"error: {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
