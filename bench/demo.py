"""Benchmark the demo generator: wall time and peak memory (RSS) per size.

    .venv/bin/python bench/demo.py                       # 300k (default demo) and 1M
    .venv/bin/python bench/demo.py --events 10000000     # one size

Each size runs in a fresh subprocess so peak RSS is that build's own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _child(events: int, var_dir: str) -> None:
    sys.path.insert(0, str(ROOT))
    from data.demo.generate import DemoSpec, build_demo
    from settings import load_settings

    settings = load_settings(env={"GRIDPULSE_VAR_DIR": var_dir})
    t = time.perf_counter()
    build_demo(settings, DemoSpec(events=events), progress=False)
    elapsed = time.perf_counter() - t
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size_mb = settings.work_db.stat().st_size / 2**20
    print(json.dumps({"events": events, "seconds": elapsed, "peak_rss_mb": rss_mb, "db_mb": size_mb}))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--events", type=int, nargs="*", default=[300_000, 1_000_000])
    p.add_argument("--child", type=int)
    p.add_argument("--var")
    args = p.parse_args()
    if args.child:
        _child(args.child, args.var)
        return
    print(f"{'events':>12} {'seconds':>9} {'events/s':>10} {'peak RSS MB':>12} {'warehouse MB':>13}")
    for n in args.events:
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run([sys.executable, __file__, "--child", str(n), "--var", tmp],
                                 check=True, capture_output=True, text=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            print(f"{n:>12,} {r['seconds']:>9.1f} {n / r['seconds']:>10,.0f} {r['peak_rss_mb']:>12,.0f} "
                  f"{r['db_mb']:>13,.0f}")


if __name__ == "__main__":
    main()
