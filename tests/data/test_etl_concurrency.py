"""One writer, many readers: a second process reading snapshots while the ETL publishes never sees an error
or a partial cycle."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.data.conftest import cycle, demo_cases, land, query, to_csv

ROOT = Path(__file__).resolve().parents[2]

# Runs in the second process: read the current snapshot in a loop, as a web worker does, and record what
# it saw. A snapshot is consistent when the cases it has and its mart's received counts agree.
_READER = r"""
import json, sys, time, traceback
from pathlib import Path
from data.snapshot import SnapshotReader
warehouse, out, stop = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
reader = SnapshotReader(warehouse, "Asia/Shanghai", check_every=0)
seen, errors = [], []
while not stop.exists():
    try:
        cur = reader.cursor()
        n = cur.execute("SELECT count(*) FROM events").fetchone()[0]
        marts = cur.execute("SELECT sum(received) FROM mart_daily_counts").fetchone()[0]
        seen.append([reader.info().name, n, int(marts)])
        cur.close()
    except Exception:
        errors.append(traceback.format_exc())
    time.sleep(0.005)
out.write_text(json.dumps({"seen": seen, "errors": errors}))
"""


def test_a_reader_process_never_sees_an_error_or_a_partial_cycle(etl_env, tmp_path):
    base = query(etl_env, "SELECT count(*) FROM events")[0][0]
    out, stop = tmp_path / "seen.json", tmp_path / "stop"
    proc = subprocess.Popen([sys.executable, "-c", _READER, str(etl_env.warehouse_dir), str(out), str(stop)],
                            cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)  # the reader is up and reading the demo's snapshot
        totals = {base}
        for i in range(20):
            land(etl_env, f"{i:02d}.csv", to_csv(demo_cases(etl_env, 5, prefix=f"C{i:02d}-")))
            result = cycle(etl_env)
            assert result.status == "ok" and result.snapshot, result.error
            totals.add(base + 5 * (i + 1))
        time.sleep(0.5)
    finally:
        stop.touch()
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    report = json.loads(out.read_text())
    assert report["errors"] == []
    seen = report["seen"]
    assert len(seen) > 50
    assert len({name for name, _, _ in seen}) >= 5, "the reader should have switched snapshots several times"
    for name, n, mart_total in seen:
        assert n in totals, f"{name}: {n} cases is no published total"
        assert mart_total == n, f"{name}: marts ({mart_total}) and cases ({n}) from different cycles"
