"""Several web hosts, one writer (issue 14): snapshots carried through an S3-compatible store.

Moto's S3 server runs on 127.0.0.1 on a free port; one writer ``var/`` (a copy of the tiny ETL demo)
publishes, two web hosts with their own ``var/`` pull. The store is stopped and started again under
the hosts, and corrupt, partial and hostile manifests are offered to them.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
import uuid
from datetime import timedelta

import boto3
import pytest
from moto.server import ThreadedMotoServer

from data.contract import read_current, read_last_run, read_store_status
from data.objectstore import MANIFEST_KEY, Manifest, Publisher, Puller, StoreLocation, make_client
from data.schedule import build_scheduler
from data.snapshot import SnapshotReader
from settings import Settings
from tests.conftest import settings_for
from tests.data.conftest import cycle, demo_cases, land, to_csv


class Store:
    """A moto S3 server that a test can stop and start again on the same port (its buckets survive)."""

    def __init__(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.server: ThreadedMotoServer | None = None

    def start(self) -> None:
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()

    def stop(self) -> None:
        self.server.stop()
        self.server._server.server_close()  # refuse connections at once, as a store that is down does
        self.server = None


@pytest.fixture
def store(monkeypatch):
    # boto3's own credential chain, pointed at dummies: nothing of the machine's AWS setup leaks in
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    s = Store()
    s.start()
    s.bucket = f"gridpulse-{uuid.uuid4().hex[:12]}"  # moto's state is per process: one bucket per test
    boto3.client("s3", endpoint_url=s.endpoint, region_name="us-east-1").create_bucket(Bucket=s.bucket)
    yield s
    if s.server is not None:
        s.stop()


def _store_settings(settings: Settings, store: Store, role: str, **more) -> Settings:
    return settings.replace(object_store_url=f"s3://{store.bucket}/city/hz", object_store_role=role,
                            object_store_endpoint=store.endpoint, object_store_region="us-east-1",
                            object_store_addressing="path", **more)


@pytest.fixture
def writer(etl_env, store) -> Settings:
    # 5 MiB parts (S3's smallest): the tiny demo's snapshot travels as a real multipart upload
    return _store_settings(etl_env, store, "publish", object_store_part_mb=5, snapshots_keep=2)


@pytest.fixture
def hosts(tmp_path, store) -> list[Settings]:
    """Two web-only hosts, each with its own empty var/."""
    return [_store_settings(settings_for(tmp_path / f"host{i}" / "var"), store, "pull", object_store_poll_seconds=1,
                            snapshots_keep=2) for i in (1, 2)]


def _events(settings: Settings) -> int:
    reader = SnapshotReader(settings.warehouse_dir, settings.timezone, check_every=0)
    try:
        return reader.cursor().execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        reader.close()


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _new_cases(writer: Settings, n: int, prefix: str) -> None:
    """Land ``n`` new cases and run one cycle: a new snapshot is published locally."""
    land(writer, f"{prefix}.csv", to_csv(demo_cases(writer, n, prefix)))
    result = cycle(writer)
    assert result.status == "ok" and result.snapshot, result.error


def _store_keys(store: Store, prefix: str) -> list[str]:
    client = boto3.client("s3", endpoint_url=store.endpoint, region_name="us-east-1")
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=store.bucket, Prefix=prefix).get("Contents", []))


def _until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_both_hosts_follow_the_writer(writer, hosts, store):
    publisher = Publisher(writer)
    pullers = [Puller(h) for h in hosts]
    assert [p.poll_once() for p in pullers] == ["empty", "empty"]  # the store answers, nothing published yet

    assert publisher.sync() == "uploaded"
    local = read_current(writer.current_file)
    head = make_client(writer).head_object(Bucket=store.bucket, Key=f"city/hz/snapshots/{local.name}")
    assert local.path.stat().st_size > 5 * 1024 * 1024 and head["ETag"].strip('"').endswith("-5")  # 5 parts of 5 MiB
    assert [p.poll_once() for p in pullers] == ["swapped", "swapped"]
    expected = _events(writer)
    for h in hosts:
        info = read_current(h.current_file)
        assert (info.name, info.published_at, info.run_id) == (local.name, local.published_at, local.run_id)
        assert _sha(info.path) == _sha(local.path)
        assert _events(h) == expected
        assert read_last_run(h.warehouse_dir) == read_last_run(writer.warehouse_dir)  # the wall's ETL status too
        assert read_store_status(h.warehouse_dir).ok
    assert publisher.sync() == "unchanged" and pullers[0].poll_once() == "unchanged"

    # a second publication swaps in on both hosts, under their open readers
    readers = [SnapshotReader(h.warehouse_dir, h.timezone, check_every=0) for h in hosts]
    assert [r.cursor().execute("SELECT count(*) FROM events").fetchone()[0] for r in readers] == [expected] * 2
    _new_cases(writer, 7, "OSA")
    assert publisher.sync() == "uploaded"
    assert [p.poll_once() for p in pullers] == ["swapped", "swapped"]
    assert [r.cursor().execute("SELECT count(*) FROM events").fetchone()[0] for r in readers] == [expected + 7] * 2
    for r in readers:
        r.close()

    # a cycle with nothing new moves only checked_at: one manifest PUT, no download
    assert cycle(writer).snapshot is None
    touched = read_current(writer.current_file)
    assert publisher.sync() == "manifest"
    assert [p.poll_once() for p in pullers] == ["touched", "touched"]
    assert read_current(hosts[0].current_file).fresh_at == touched.fresh_at

    # old snapshots leave the store and the hosts (snapshots_keep = 2)
    _new_cases(writer, 3, "OSB")
    assert publisher.sync() == "uploaded"
    assert len(_store_keys(store, "city/hz/snapshots/")) == 2
    for p, h in zip(pullers, hosts, strict=True):
        assert p.poll_once() == "swapped"
        assert len(list(h.snapshots_dir.glob("*.duckdb"))) == 2
        assert not [f for f in h.snapshots_dir.iterdir() if f.name.startswith(".")]  # no download left behind
        assert _events(h) == expected + 10


def test_unreachable_store_hosts_keep_serving_and_recover(writer, hosts, store):
    from dashboard.app import create_app
    from dashboard.components.header import data_status
    from metrics.freshness import freshness

    publisher = Publisher(writer)
    assert publisher.sync() == "uploaded"
    pullers = [Puller(h).start() for h in hosts]  # the real background threads, polling every second
    try:
        _until(lambda: all(read_current(h.current_file) is not None for h in hosts))
        first = read_current(writer.current_file).name
        served = _events(writer)
        apps = [create_app(h) for h in hosts]
        assert [a.server.test_client().get("/readyz").status_code for a in apps] == [200, 200]

        store.stop()
        down_at = time.time()
        _until(lambda: all(read_store_status(h.warehouse_dir).unreachable_since is not None for h in hosts))
        # the writer's cycle still succeeds and publishes locally; only the upload waits
        land(writer, "OSC.csv", to_csv(demo_cases(writer, 5, "OSC")))
        old = time.time() - 60
        os.utime(writer.landing_dir / "events" / "OSC.csv", (old, old))  # settled: the scheduler's job takes it
        job = build_scheduler(writer, simulate=False).get_job("etl-events")  # the scheduler's own minute job
        job.func(*job.args)
        assert read_last_run(writer.warehouse_dir).status == "ok"
        assert read_current(writer.current_file).name != first
        assert any(isinstance(a, Publisher) for a in job.args) and read_store_status(writer.warehouse_dir).unreachable_since

        for h, a in zip(hosts, apps, strict=True):
            status = read_store_status(h.warehouse_dir)
            assert status.unreachable_since is not None and status.unreachable_since.timestamp() >= down_at - 1
            assert read_current(h.current_file).name == first and _events(h) == served  # the last snapshot serves
            body = a.server.test_client().get("/readyz").get_json()
            assert body["snapshot"] == first and body["store"].startswith("object store unreachable since ")
            # once the data is older than the stale limit the wall says why it is stale
            reader = SnapshotReader(h.warehouse_dir, h.timezone)
            try:
                info = reader.current()
                fresh = freshness(reader.cursor(), info, info.fresh_at + timedelta(hours=1), h)
            finally:
                reader.close()
            assert fresh.stale and fresh.store_unreachable_since == status.unreachable_since
            text = " ".join(str(c.children) for c in data_status(fresh, "en", h.timezone))
            assert "Snapshot store unreachable" in text

        since = read_store_status(hosts[0].warehouse_dir).unreachable_since
        assert Puller(hosts[0]).poll_once() == "failed"  # a restarted puller still knows since when
        assert read_store_status(hosts[0].warehouse_dir).unreachable_since == since

        store.start()  # the hosts and the writer recover by themselves
        assert publisher.sync() == "uploaded"
        newest = read_current(writer.current_file).name
        _until(lambda: all(read_current(h.current_file).name == newest for h in hosts))
        _until(lambda: all(read_store_status(h.warehouse_dir).ok for h in hosts))
        assert all(read_store_status(h.warehouse_dir).unreachable_since is None for h in hosts)
        assert [_events(h) for h in hosts] == [served + 5] * 2
        for a in apps:
            body = a.server.test_client().get("/readyz").get_json()
            assert body["snapshot"] == newest and "store" not in body
    finally:
        for p in pullers:
            p.stop()


def _put_manifest(store: Store, manifest: Manifest | str) -> None:
    client = boto3.client("s3", endpoint_url=store.endpoint, region_name="us-east-1")
    body = manifest.text() if isinstance(manifest, Manifest) else manifest
    client.put_object(Bucket=store.bucket, Key=f"city/hz/{MANIFEST_KEY}", Body=body.encode())


def _put_snapshot(store: Store, name: str, data: bytes) -> None:
    client = boto3.client("s3", endpoint_url=store.endpoint, region_name="us-east-1")
    client.put_object(Bucket=store.bucket, Key=StoreLocation.parse(f"s3://{store.bucket}/city/hz").snapshot_key(name),
                      Body=data)


def test_a_corrupt_or_partial_object_is_never_swapped_in(writer, hosts, store):
    assert Publisher(writer).sync() == "uploaded"
    host = hosts[0]
    puller = Puller(host)
    assert puller.poll_once() == "swapped"
    good = read_current(host.current_file)
    real = good.path.read_bytes()
    base = Manifest.parse(boto3.client("s3", endpoint_url=store.endpoint, region_name="us-east-1").get_object(
        Bucket=store.bucket, Key=f"city/hz/{MANIFEST_KEY}")["Body"].read())

    def offer(name: str, data: bytes) -> str:
        _put_snapshot(store, name, data)
        _put_manifest(store, Manifest(name, base.published_at + timedelta(minutes=1), 99, None, len(real),
                                      hashlib.sha256(real).hexdigest()))
        return puller.poll_once()

    flipped = bytearray(real)
    flipped[len(flipped) // 2] ^= 0xFF  # same size, one byte wrong
    assert offer("20991231T000000000000-98.duckdb", bytes(flipped)) == "rejected"
    assert offer("20991231T000000000000-99.duckdb", real[: len(real) // 2]) == "rejected"  # a partial object
    status = read_store_status(host.warehouse_dir)
    assert not status.ok and "failed its check" in status.error and status.unreachable_since is None
    assert read_current(host.current_file) == good and _events(host) > 0
    assert sorted(f.name for f in host.snapshots_dir.iterdir()) == [good.name]  # nothing kept, nothing half-named
    assert puller.poll_once() == "rejected"  # not downloaded again at every poll
    assert "trying again" in read_store_status(host.warehouse_dir).error

    # a hostile or torn manifest: nothing is written anywhere
    evil = Manifest(good.name, base.published_at, 1, None, base.size, base.sha256).text().replace(
        good.name, "../../CURRENT.duckdb")
    naive = base.text().replace(base.published_at.isoformat(), base.published_at.replace(tzinfo=None).isoformat())
    for text in (evil, '{"snapshot": "x.duckdb"', "[]", naive):
        _put_manifest(store, text)
        assert puller.poll_once() == "rejected"
    assert not (host.var_dir.parent / "CURRENT.duckdb").exists()
    assert read_current(host.current_file) == good

    # the real one again: the host follows
    _put_manifest(store, base)
    assert puller.poll_once() == "unchanged"
    assert read_store_status(host.warehouse_dir).ok


def test_a_pull_host_runs_nothing_that_writes_the_warehouse(hosts, monkeypatch, capsys):
    import app

    for name in ("var_dir", "object_store_url", "object_store_role", "object_store_endpoint"):
        monkeypatch.setenv(f"GRIDPULSE_{name.upper()}", str(getattr(hosts[0], name)))
    for argv in (["etl"], ["scheduler"], ["demo"], ["simulate", "--seconds", "1"]):
        assert app.main(argv) == 1
        assert "object_store_role = pull" in capsys.readouterr().err
    assert not hosts[0].work_db.exists() and not hosts[0].landing_dir.exists()


class _BreaksMidUpload:
    """A boto3 client whose uploads break off after the first part has gone (a link that drops mid-file)."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        return getattr(self._client, name)

    def upload_file(self, *args, **kwargs):
        sent = [0]

        def drop(n: int) -> None:
            sent[0] += n
            if sent[0] > 5 * 1024 * 1024:
                raise ConnectionResetError("link dropped")

        return self._client.upload_file(*args, Callback=drop, **kwargs)


def test_a_broken_upload_leaves_the_old_manifest_and_is_retried(writer, hosts, store):
    assert Publisher(writer).sync() == "uploaded"
    before = _store_keys(store, "city/hz/")
    _new_cases(writer, 4, "OSD")
    broken = Publisher(writer, client=_BreaksMidUpload(make_client(writer)))
    assert broken.sync() == "failed"  # logged and recorded; the local cycle was not touched
    assert read_last_run(writer.warehouse_dir).status == "ok"
    assert not read_store_status(writer.warehouse_dir).ok
    assert _store_keys(store, "city/hz/") == before  # no new object, the manifest still names the old one
    puller = Puller(hosts[0])
    assert puller.poll_once() == "swapped"
    assert read_current(hosts[0].current_file).name != read_current(writer.current_file).name
    assert Publisher(writer).sync() == "uploaded"  # the next cycle's try
    assert puller.poll_once() == "swapped"
    assert read_current(hosts[0].current_file).name == read_current(writer.current_file).name


def test_two_web_processes_serve_their_own_pulled_snapshot(writer, hosts, store, tmp_path):
    """`app.py serve` on a pull host: gunicorn with `app.py pull` beside it, and `serve --debug` with a puller thread."""
    import signal
    import subprocess
    import sys
    import urllib.error
    import urllib.request
    from pathlib import Path

    import psutil

    root = Path(__file__).resolve().parents[2]
    assert Publisher(writer).sync() == "uploaded"
    name = read_current(writer.current_file).name
    procs, logs, ports = [], [], []
    for i, (h, extra) in enumerate(zip(hosts, (["--workers", "1"], ["--debug"]), strict=True)):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDPULSE_")}
        env.update({"GRIDPULSE_VAR_DIR": str(h.var_dir), "GRIDPULSE_OBJECT_STORE_URL": h.object_store_url,
                    "GRIDPULSE_OBJECT_STORE_ROLE": "pull", "GRIDPULSE_OBJECT_STORE_ENDPOINT": store.endpoint,
                    "GRIDPULSE_OBJECT_STORE_REGION": "us-east-1", "GRIDPULSE_OBJECT_STORE_ADDRESSING": "path",
                    "GRIDPULSE_OBJECT_STORE_POLL_SECONDS": "1"})
        logs.append(open(tmp_path / f"host{i}.log", "w+"))  # noqa: SIM115 (closed below)
        procs.append(subprocess.Popen([sys.executable, "app.py", "serve", "--port", str(ports[-1]), *extra], cwd=root,
                                      env=env, stdout=logs[-1], stderr=subprocess.STDOUT))

    def ready(port: int) -> dict | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
                import json
                return json.loads(response.read())
        except (OSError, urllib.error.HTTPError):
            return None

    try:
        _until(lambda: all((ready(p) or {}).get("snapshot") == name for p in ports), timeout=90)
        pulls = [c for c in psutil.Process(procs[0].pid).children(recursive=True) if "pull" in c.cmdline()]
        assert len(pulls) == 1  # the pull process, in place of the scheduler
        assert not hosts[0].work_db.exists() and not hosts[1].work_db.exists()  # no ETL on a web host
        children = psutil.Process(procs[0].pid).children(recursive=True)
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        assert [proc.wait(60) for proc in procs] == [0, 0]
        _, alive = psutil.wait_procs(children, timeout=10)
        assert not alive
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        for log in logs:
            log.seek(0)
            text = log.read()
            log.close()
            assert "Traceback" not in text, text
