"""Object-store benchmark: what carrying a snapshot from the writer host to a web host costs.

    python bench/objectstore.py                    # the default 300 000-case demo (built once, about 15 s)
    python bench/objectstore.py --events 1000000   # a bigger snapshot
    python bench/objectstore.py --repeat 3         # best of 3 for each measurement

Against moto's S3 server on 127.0.0.1 in this process (no network, no disk on the store's side: it
keeps objects in memory), so the numbers are GridPulse's own cost plus loopback HTTP; a real store
adds the link's transfer time (size / bandwidth). Measured, wall clock:

* sha256: hashing the snapshot file once (the publisher does it once per snapshot);
* publish: ``Publisher.sync`` of a new snapshot: hash, multipart upload (64 MiB parts), manifest, prune;
* touch: ``sync`` when only ``checked_at`` moved (the manifest PUT of a quiet minute);
* idle sync / idle poll: nothing changed (one GET of the manifest);
* pull: ``Puller.poll_once`` of a new snapshot: download, size and sha256 check, rename, ``CURRENT``.

Files are kept under ``--workdir`` (default ``var/bench/objectstore``) and reused by later runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
import tempfile
import time
from dataclasses import replace as dc_replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from data.contract import read_current  # noqa: E402
from data.objectstore import Publisher, Puller, file_sha256  # noqa: E402
from data.snapshot import touch  # noqa: E402
from settings import load_settings  # noqa: E402


def _settings(var: Path, **env: str):
    return load_settings(env={"GRIDPULSE_VAR_DIR": str(var), **{f"GRIDPULSE_{k.upper()}": v for k, v in env.items()}},
                         toml_path=None)


def _base(workdir: Path, events: int):
    from data.demo.generate import DemoSpec, build_demo

    settings = _settings(workdir / f"base-{events}" / "var")
    if not settings.current_file.exists():
        shutil.rmtree(settings.var_dir, ignore_errors=True)
        t = time.perf_counter()
        build_demo(settings, DemoSpec(events=events, days=365, seed=20261129), progress=False)
        print(f"built the {events:,}-case demo in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    return settings


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> int:
    """Run the measurements and print the table."""
    import boto3
    from moto.server import ThreadedMotoServer

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=300_000)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench" / "objectstore")
    args = p.parse_args()

    base = _base(args.workdir, args.events)
    for name, value in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}.items():
        os.environ[name] = value
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="gridpulse-bench")
    store = {"object_store_url": "s3://gridpulse-bench/bench", "object_store_endpoint": endpoint,
             "object_store_region": "us-east-1", "object_store_addressing": "path"}
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            writer_var = Path(tmp) / "writer"
            shutil.copytree(base.warehouse_dir, writer_var / "warehouse")
            writer = dc_replace(_settings(writer_var), object_store_role="publish", **store)
            info = read_current(writer.current_file)
            size = info.path.stat().st_size
            rows.append(("sha256 of the snapshot", _best(lambda: file_sha256(info.path), args.repeat)))

            def publish() -> None:
                publisher = Publisher(writer)  # a fresh one: no remembered hash, the object uploaded again
                publisher.client.delete_object(Bucket="gridpulse-bench", Key=f"bench/snapshots/{info.name}")
                publisher.client.delete_object(Bucket="gridpulse-bench", Key="bench/CURRENT.json")
                assert publisher.sync() == "uploaded"

            rows.append(("publish a new snapshot (hash, upload, manifest)", _best(publish, args.repeat)))
            publisher = Publisher(writer)
            publisher.sync()

            def touched() -> None:
                touch(writer.warehouse_dir)
                assert publisher.sync() == "manifest"

            rows.append(("touch: checked_at only (manifest PUT)", _best(touched, args.repeat)))
            rows.append(("idle sync (nothing changed)", _best(lambda: publisher.sync(), args.repeat)))

            n = [0]

            def pull() -> None:
                n[0] += 1
                host = dc_replace(_settings(Path(tmp) / f"host{n[0]}"), object_store_role="pull", **store)
                assert Puller(host).poll_once() == "swapped"

            rows.append(("pull a new snapshot (download, check, swap)", _best(pull, args.repeat)))
            host = dc_replace(_settings(Path(tmp) / "host1"), object_store_role="pull", **store)
            puller = Puller(host)
            puller.poll_once()
            rows.append(("idle poll (manifest GET)", _best(lambda: puller.poll_once(), args.repeat)))
    finally:
        server.stop()
    print(f"\nobject store on loopback (moto), snapshot of {args.events:,} cases: {size / 1e6:,.1f} MB, "
          f"best of {args.repeat}\n")
    print(f"{'step':<50} {'seconds':>9} {'MB/s':>8}")
    print("-" * 69)
    for step, secs in rows:
        rate = f"{size / 1e6 / secs:8.0f}" if "snapshot" in step else f"{'':>8}"
        print(f"{step:<50} {secs:9.3f} {rate}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
