"""Landing-scan benchmark: the scan + ledger part of a cycle with 30 days of simulator files, before and after
done files move to ``.done/``.

    python bench/landing_scan.py               # 30 days x 5 760 files = 172 800 files (about a minute to make)
    python bench/landing_scan.py --days 3      # a quick run
    python bench/landing_scan.py --repeat 5    # best of 5 (shared machines are noisy)

The live simulator writes one small CSV every 15 s (5 760 a day) under ``landing/events/sim/<date>/``.
Until done files moved away, every minute's cycle walked every file ever landed (``rglob``), sent
all their paths to the ledger ``etl_files`` and looked up each checksum (from a per-process cache
keyed by size and mtime: a restarted process read every file again). The files here are tiny
identical CSVs (one header, one row) with ledger rows as a committed cycle leaves them.

Measured (wall clock, one process, the scan and ledger part of ``data.etl._todo``, nothing new to load):

* before: the old scan (``rglob`` over the tree, then the ledger query for every path, checksums from
  the warm cache), files left in place;
* before, first cycle after a restart: the same with the checksum cache empty (every file read);
* now, files in place: the new scan (dot-folders pruned) when every move failed (the ledger still
  skips them; checksums cached);
* after: the files moved to ``events/.done/<date>/`` (what every cycle costs from now on);
* the move itself: moving one day of files (a cycle moves the ~4 files it loaded).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pyarrow as pa  # noqa: E402

from data import landing  # noqa: E402
from data.etl import _todo, open_writer  # noqa: E402
from data.landing import LandingFile, move_done  # noqa: E402
from data.runs import CycleResult  # noqa: E402
from settings import load_settings  # noqa: E402

CONTENT = (b"case_id,channel,category_id,urgency,route,department_id,needs_dispatch,summary,microgrid_id,lon,lat,"
           b"received_at,accepted_at,dispatched_at,closed_at,status,satisfaction,updated_at\n"
           b"X,qr,ENV-01,normal,auto,DEP,false,,M1,,,2026-11-01T10:00:00+08:00,,,,received,,2026-11-01T10:00:00+08:00\n")
PER_DAY = 5760  # one file every 15 s


def make_tree(settings, days: int, per_day: int) -> list[str]:
    """``days`` folders of simulator-like files, and their ledger rows; returns the relative paths."""
    root = settings.landing_dir / "events" / "sim"
    start = datetime(2026, 11, 1)
    rels = []
    old = time.time() - 3600
    for d in range(days):
        day = start + timedelta(days=d)
        folder = root / f"{day:%Y-%m-%d}"
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_day):
            t = day + timedelta(seconds=i * 86400 // per_day)
            name = f"sim-{t:%Y%m%dT%H%M%S}-{i:06d}.csv"
            path = folder / name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                os.write(fd, CONTENT)
            finally:
                os.close(fd)
            os.utime(path, (old, old))
            rels.append(f"events/sim/{day:%Y-%m-%d}/{name}")
    digest = hashlib.sha256(CONTENT).hexdigest()
    con = open_writer(settings)
    try:
        n = len(rels)
        con.register("ledger", pa.table({"path": rels, "sha256": [digest] * n}))
        con.execute("""INSERT INTO etl_files (path, sha256, table_name, run_id, rows_in, rows_loaded, rows_quarantined,
                                              status, error, loaded_at)
                       SELECT path, sha256, 'events', 1, 1, 1, 0, 'loaded', NULL, now() FROM ledger""")
    finally:
        con.close()
    return rels


def old_scan(landing_dir: Path, tables: tuple[str, ...], settle_seconds: float = 0.0):
    """The scan as it was before done files moved: ``rglob`` over everything, dot-parts filtered afterwards."""
    now = time.time()
    ready, waiting = [], 0
    for table in tables:
        root = landing_dir / table
        if not root.is_dir():
            continue
        for p in sorted(root.rglob("*")):
            if any(part.startswith(".") for part in p.relative_to(root).parts) or not p.is_file():
                continue
            st = p.stat()
            if now - st.st_mtime < settle_seconds:
                waiting += 1
                continue
            ready.append(LandingFile(p, p.relative_to(landing_dir).as_posix(), table, st.st_size, st.st_mtime_ns))
    return ready, waiting


def old_todo(con, settings) -> int:
    """The old ``_todo``: scan, ledger query with every path, checksum of each (cached); returns files to load."""
    ready, _ = old_scan(settings.landing_dir, ("events",))
    done = set(con.execute("SELECT path, sha256 FROM etl_files WHERE path IN (SELECT unnest(?::VARCHAR[]))",
                           [[f.rel for f in ready]]).fetchall()) if ready else set()
    return sum((f.rel, landing.file_sha256(f)) not in done for f in ready)


def new_todo(con, settings) -> int:
    """The cycle's ``_todo`` as it is now; returns files to load (0: all done)."""
    todo, _known = _todo(con, settings, ("events",), 0.0, CycleResult(1, "events", "ok"))
    return len(todo)


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        assert fn() == 0
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=30, help="days of simulator files (default 30)")
    ap.add_argument("--per-day", type=int, default=PER_DAY, help="files a day (default 5 760: one every 15 s)")
    ap.add_argument("--repeat", type=int, default=3, help="best of N for each measurement (default 3)")
    ap.add_argument("--dir", type=Path, default=ROOT / "var" / "bench" / "landing_scan", help="work folder")
    ap.add_argument("--keep", action="store_true", help="keep the files afterwards")
    args = ap.parse_args()
    if args.days < 1 or args.per_day < 1 or args.repeat < 1:
        ap.error("--days, --per-day and --repeat must be at least 1")
    shutil.rmtree(args.dir, ignore_errors=True)
    settings = load_settings(env={"GRIDPULSE_VAR_DIR": str(args.dir / "var")}, toml_path=None)
    t = time.perf_counter()
    rels = make_tree(settings, args.days, args.per_day)
    print(f"made {len(rels):,} files and their ledger rows in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    rows = []
    con = open_writer(settings)
    try:
        landing._hash_cache.clear()
        t = time.perf_counter()
        assert old_todo(con, settings) == 0
        cold = time.perf_counter() - t
        rows.append(("before: rglob, files in place, ledger query of every path", best_of(
            lambda: old_todo(con, settings), args.repeat)))
        rows.append(("before, first cycle after a restart (every file read)", cold))
        rows.append(("now, files in place (every move failed)", best_of(lambda: new_todo(con, settings), args.repeat)))
        # the move: one day timed, then the rest
        ready, _ = landing.scan_landing(settings.landing_dir, ("events",), 0.0)
        first_day = [f for f in ready if f.rel.startswith(rels[0].rsplit("/", 1)[0] + "/")]
        t = time.perf_counter()
        assert move_done(settings.landing_dir, first_day, datetime.now(settings.zone)) == 0
        move_day = time.perf_counter() - t
        moved = {f.rel for f in first_day}
        assert move_done(settings.landing_dir, [f for f in ready if f.rel not in moved], datetime.now(settings.zone)) == 0
        rows.append(("after: files moved to events/.done/<date>/", best_of(lambda: new_todo(con, settings),
                                                                          args.repeat)))
        rows.append((f"moving one day of files ({len(first_day):,})", move_day))
    finally:
        con.close()
    print(f"\nscan + ledger part of one cycle, {len(rels):,} done files ({args.days} days x {args.per_day:,}), "
          f"best of {args.repeat}\n")
    width = max(len(label) for label, _ in rows)
    print(f"| {'what':<{width}} | {'ms':>9} |")
    print(f"|{'-' * (width + 2)}|{'-' * 10}:|")
    for label, secs in rows:
        print(f"| {label:<{width}} | {secs * 1000:>9.1f} |")
    if not args.keep:
        shutil.rmtree(args.dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
