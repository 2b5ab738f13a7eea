"""Several web hosts, one writer: snapshots carried through an S3-compatible object store.

One host runs the ETL (the only writer, ``object_store_role = "publish"``); any number of web-only
hosts (``"pull"``) serve the same data from their own ``var/``. The store (AWS S3, MinIO, Alibaba
OSS; ``object_store_url = "s3://bucket/prefix"``) holds, under the prefix:

* ``snapshots/<name>``: the snapshot files, immutable once written (the local file names);
* ``CURRENT.json``: the store's ``CURRENT``, a small manifest :class:`Manifest` naming one of them
  with its size and SHA-256, the writer's ``published_at`` / ``checked_at`` and ``LAST_RUN.json``.

The publisher (:class:`Publisher`, called by the scheduler after every ETL cycle) uploads the local
current snapshot (multipart above ``object_store_part_mb``) and only THEN replaces the manifest, so a
reader never sees a manifest naming an incomplete object; then it deletes the store's snapshots
beyond ``snapshots_keep``. A cycle that found nothing new moves only the manifest's ``checked_at``
(one small PUT). A failed upload is logged and retried after the next cycle; it never fails the
local cycle.

The puller (:class:`Puller`, a thread of ``app.py pull``, which ``app.py serve`` starts instead of the
scheduler on a pull host) reads the manifest every ``object_store_poll_seconds``; a new snapshot is
downloaded under a temporary name, its size and SHA-256 checked, renamed into ``snapshots/``, and
``CURRENT`` replaced with :func:`data.snapshot.write_current`, so the host's ``SnapshotReader`` swaps
to it as it does on one machine. A download that fails the check is deleted and never named.

Both sides record how the last exchange went in ``STORE_STATUS.json`` beside ``CURRENT``
(:class:`data.contract.StoreStatus`): a host that cannot reach the store keeps serving its last
snapshot, ``/readyz`` says "object store unreachable since ...", and the wall turns "stale" after
``stale_after_cycles`` as it does for a stopped ETL. See ``docs/object-store.md``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from data.contract import (
    LAST_RUN_FILE,
    SNAPSHOTS_DIR,
    STORE_STATUS_FILE,
    SnapshotInfo,
    StoreStatus,
    read_current,
    read_store_status,
    store_status_text,
)
from data.snapshot import prune, write_atomic, write_current

__all__ = ["MANIFEST_KEY", "Manifest", "Publisher", "Puller", "StoreLocation", "make_client", "file_sha256",
           "publisher_for", "start_puller"]

log = logging.getLogger(__name__)

MANIFEST_KEY = "CURRENT.json"
# A snapshot name the puller may write under snapshots/: no folder, no dot file, nothing but a .duckdb name.
_SAFE_NAME = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,200}\.duckdb")
_DOWNLOAD_SUFFIX = ".download"
# A download that failed its check is retried after this long (not every poll: it may be a gigabyte).
REJECT_RETRY_SECONDS = 60.0
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class StoreLocation:
    """Bucket and key prefix of ``object_store_url`` (``s3://bucket/prefix`` -> ``bucket``, ``prefix/``)."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, url: str) -> StoreLocation:
        """Split a URL the settings accepted.

        >>> StoreLocation.parse("s3://gridpulse/city/hz").key("CURRENT.json")
        'city/hz/CURRENT.json'
        >>> StoreLocation.parse("s3://gridpulse").key("snapshots/a.duckdb")
        'snapshots/a.duckdb'
        """
        rest = url.strip().removeprefix("s3://")
        bucket, _, prefix = rest.partition("/")
        prefix = prefix.strip("/")
        return cls(bucket, f"{prefix}/" if prefix else "")

    def key(self, name: str) -> str:
        """The object key of ``name`` under the prefix."""
        return self.prefix + name

    def snapshot_key(self, name: str) -> str:
        """The object key of snapshot file ``name``."""
        return self.key(f"{SNAPSHOTS_DIR}/{name}")


@dataclass(frozen=True)
class Manifest:
    """The store's ``CURRENT``: which snapshot object is complete and current, and how to check it."""

    snapshot: str
    published_at: datetime
    run_id: int | None
    checked_at: datetime | None
    size: int
    sha256: str
    last_run: str | None = None  # the writer's LAST_RUN.json text, so a failed cycle shows on every host

    def text(self) -> str:
        """The manifest as the JSON text stored in ``CURRENT.json``."""
        return json.dumps({"snapshot": self.snapshot, "published_at": self.published_at.isoformat(),
                           "run_id": self.run_id,
                           "checked_at": self.checked_at.isoformat() if self.checked_at else None,
                           "size": self.size, "sha256": self.sha256, "last_run": self.last_run}, sort_keys=True)

    @classmethod
    def parse(cls, text: str | bytes) -> Manifest:
        """Read a manifest.

        Raises:
            ValueError: not a manifest, or it names an unsafe file (a path, a dot file), which a
                puller must never write.
        """
        try:
            data = json.loads(text)
            checked = data.get("checked_at")
            m = cls(str(data["snapshot"]), datetime.fromisoformat(data["published_at"]), data.get("run_id"),
                    datetime.fromisoformat(checked) if checked else None, int(data["size"]), str(data["sha256"]),
                    data.get("last_run"))
        except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a snapshot manifest: {exc}") from exc
        if not _SAFE_NAME.fullmatch(m.snapshot):
            raise ValueError(f"the manifest names an unsafe snapshot file {m.snapshot[:80]!r}")
        if not re.fullmatch(r"[0-9a-f]{64}", m.sha256) or m.size <= 0:
            raise ValueError("the manifest's size or sha256 is malformed")
        if any(t is not None and t.tzinfo is None for t in (m.published_at, m.checked_at)):
            raise ValueError("the manifest's times have no time zone")  # the web tier compares them with aware times
        return m

    def info(self, warehouse_dir: Path) -> SnapshotInfo:
        """The local ``CURRENT`` that names this snapshot under ``warehouse_dir``."""
        return SnapshotInfo(self.snapshot, Path(warehouse_dir) / SNAPSHOTS_DIR / self.snapshot, self.published_at,
                            self.run_id, self.checked_at)


def make_client(settings):
    """A boto3 S3 client for the settings' endpoint, region and addressing style.

    Credentials come from boto3's own chain (environment, profile files, instance role), never from
    the settings. Timeouts are short so an unreachable store is known within seconds; the checksum
    options keep boto3 >= 1.36 from adding the CRC checksum headers it now sends by default, which
    several S3-compatible stores refuse (MinIO, Huawei OBS, Backblaze B2 reports: boto/boto3#4392).
    """
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=5, read_timeout=60, retries={"max_attempts": 3, "mode": "standard"},
                    s3={"addressing_style": settings.object_store_addressing},
                    request_checksum_calculation="when_required", response_checksum_validation="when_required")
    return boto3.session.Session().client("s3", endpoint_url=settings.object_store_endpoint or None,
                                          region_name=settings.object_store_region or None, config=config)


def _transfer_config(settings):
    from boto3.s3.transfer import TransferConfig

    part = settings.object_store_part_mb * 1024 * 1024
    return TransferConfig(multipart_threshold=part, multipart_chunksize=part, max_concurrency=4)


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:300]


def _is_missing(exc: BaseException) -> bool:
    """A ClientError that says the object (or bucket) is not there."""
    code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
    return code in {"NoSuchKey", "404", "NotFound"}


class _StatusFile:
    """``STORE_STATUS.json`` of one host, and the log lines when the store goes away or comes back."""

    def __init__(self, warehouse_dir: Path, role: str):
        self.path = Path(warehouse_dir) / STORE_STATUS_FILE
        before = read_store_status(Path(warehouse_dir))  # a restarted puller keeps "unreachable since" true
        self.status = before if before is not None and before.role == role else StoreStatus(role, True, None)

    def ok(self, snapshot: str | None) -> None:
        now = datetime.now(UTC)
        if self.status.unreachable_since is not None:
            log.info("object store reachable again (unreachable since %s)", self.status.unreachable_since.isoformat())
        self._write(replace(self.status, ok=True, attempt_at=now, last_ok_at=now, unreachable_since=None, error=None,
                            snapshot=snapshot or self.status.snapshot))

    def failed(self, error: str, unreachable: bool = True, snapshot: str | None = None) -> None:
        """Record a failure; ``unreachable`` False for a store that answered with something unusable."""
        now = datetime.now(UTC)
        since = self.status.unreachable_since
        if unreachable and since is None:
            log.warning("object store unreachable, serving the last snapshot: %s", error)
            since = now
        elif not unreachable and error != self.status.error:
            log.error("object store: %s", error)
        self._write(replace(self.status, ok=False, attempt_at=now, unreachable_since=since if unreachable else None,
                            error=error, snapshot=snapshot or self.status.snapshot))

    def _write(self, status: StoreStatus) -> None:
        self.status = status
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, store_status_text(status))
        except OSError:
            log.exception("could not write %s", self.path)


class _StoreSide:
    """What the publisher and the puller share: the settings, the store's location, the client and the status file."""

    role = ""

    def __init__(self, settings, client=None):
        """Args: settings; client: injected by tests (default: :func:`make_client`, on first use)."""
        self.settings = settings
        self.where = StoreLocation.parse(settings.object_store_url)
        self._client = client
        self.status = _StatusFile(settings.warehouse_dir, self.role)

    @property
    def client(self):
        """The S3 client (made on first use)."""
        if self._client is None:
            self._client = make_client(self.settings)
        return self._client


class Publisher(_StoreSide):
    """The writer host's side: put the local current snapshot and its manifest into the store.

    One per scheduler process (it remembers the SHA-256 of the snapshots it hashed).
    """

    role = "publish"

    def __init__(self, settings, client=None, transfer_config=None):
        """Args: settings; client and transfer_config: injected by tests (default from the settings)."""
        super().__init__(settings, client)
        self._transfer = transfer_config
        self._sha: dict[str, str] = {}

    def sync(self) -> str:
        """Bring the store up to the local ``CURRENT``; never raises.

        Returns:
            ``"uploaded"`` (a new snapshot and its manifest), ``"manifest"`` (only the manifest moved:
            ``checked_at``, the last run), ``"unchanged"``, ``"nothing"`` (nothing published locally) or
            ``"failed"`` (logged, recorded in ``STORE_STATUS.json``; the next cycle tries again).
        """
        try:
            info = read_current(self.settings.current_file)
        except (OSError, ValueError) as exc:
            log.warning("object store: the local CURRENT is unreadable: %s", exc)
            return "failed"
        if info is None:
            return "nothing"
        try:
            outcome = self._sync(info)
        except Exception as exc:  # botocore's errors, a full disk, a snapshot pruned under us: all wait for the next cycle
            self.status.failed(_one_line(exc))
            return "failed"
        self.status.ok(info.name)
        return outcome

    def _sync(self, info: SnapshotInfo) -> str:
        remote = self._remote_manifest()
        sha = self._sha.get(info.name) or file_sha256(info.path)
        self._sha = {info.name: sha}  # only the current one is worth remembering
        last_run = _read_text(self.settings.warehouse_dir / LAST_RUN_FILE)
        manifest = Manifest(info.name, info.published_at, info.run_id, info.checked_at, info.path.stat().st_size, sha,
                            last_run)
        outcome = "unchanged"
        if remote is None or remote.snapshot != info.name or remote.sha256 != sha:
            if not self._object_complete(manifest):
                self.client.upload_file(str(info.path), self.where.bucket, self.where.snapshot_key(info.name),
                                        ExtraArgs={"Metadata": {"sha256": sha}}, Config=self._transfer_config())
            outcome = "uploaded"
        if remote is None or remote.text() != manifest.text():
            # only after the object is complete: a reader never sees a manifest naming a partial object
            self.client.put_object(Bucket=self.where.bucket, Key=self.where.key(MANIFEST_KEY),
                                   Body=manifest.text().encode("utf-8"), ContentType="application/json")
            outcome = "manifest" if outcome == "unchanged" else outcome
        if outcome == "uploaded":
            self._prune(info.name)
        return outcome

    def _transfer_config(self):
        if self._transfer is None:
            self._transfer = _transfer_config(self.settings)
        return self._transfer

    def _remote_manifest(self) -> Manifest | None:
        from botocore.exceptions import ClientError

        try:
            body = self.client.get_object(Bucket=self.where.bucket, Key=self.where.key(MANIFEST_KEY))["Body"].read()
        except ClientError as exc:
            if _is_missing(exc):
                return None
            raise
        try:
            return Manifest.parse(body)
        except ValueError as exc:
            log.warning("object store: replacing an unreadable manifest (%s)", exc)
            return None

    def _object_complete(self, manifest: Manifest) -> bool:
        """The snapshot object is already in the store whole (a retry after the manifest PUT failed)."""
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.where.bucket, Key=self.where.snapshot_key(manifest.snapshot))
        except ClientError as exc:
            if _is_missing(exc):
                return False
            raise
        return head.get("ContentLength") == manifest.size and head.get("Metadata", {}).get("sha256") == manifest.sha256

    def _prune(self, current: str) -> None:
        """Delete the store's snapshots beyond ``snapshots_keep`` (names sort by publication time; never ``current``)."""
        prefix = self.where.snapshot_key("")
        names = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.where.bucket, Prefix=prefix):
            names += [o["Key"][len(prefix):] for o in page.get("Contents", [])]
        old = [n for n in sorted(names)[:-self.settings.snapshots_keep] if n != current]
        for i in range(0, len(old), 1000):  # DeleteObjects takes at most 1000 keys
            self.client.delete_objects(Bucket=self.where.bucket, Delete={
                "Objects": [{"Key": prefix + n} for n in old[i:i + 1000]], "Quiet": True})


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def publisher_for(settings) -> Publisher | None:
    """The scheduler's publisher when this host publishes to an object store, else ``None``."""
    if settings.object_store_url and settings.object_store_role == "publish":
        return Publisher(settings)
    return None


class Puller(_StoreSide):
    """A web-only host's side: follow the store's manifest into this host's ``var/warehouse``."""

    role = "pull"

    def __init__(self, settings, client=None):
        """Args: settings; client: injected by tests (default from the settings)."""
        super().__init__(settings, client)
        self._rejected: dict[tuple[str, str], float] = {}  # (name, sha256) -> monotonic time to try again
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._clean_downloads()

    def _clean_downloads(self) -> None:
        """Delete downloads a killed puller left behind (never named by CURRENT: they were not checked)."""
        for tmp in self.settings.snapshots_dir.glob(f".*{_DOWNLOAD_SUFFIX}*"):
            tmp.unlink(missing_ok=True)

    def poll_once(self) -> str:
        """One look at the store; never raises.

        Returns:
            ``"swapped"`` (a new snapshot is current here), ``"touched"`` (same snapshot, newer
            ``checked_at`` or last run), ``"unchanged"``, ``"empty"`` (nothing published yet),
            ``"rejected"`` (a manifest or download that failed its check: not swapped in) or
            ``"failed"`` (the store did not answer: the last snapshot keeps serving).
        """
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            body = self.client.get_object(Bucket=self.where.bucket, Key=self.where.key(MANIFEST_KEY))["Body"].read()
        except ClientError as exc:
            if _is_missing(exc):
                self.status.ok(None)
                return "empty"
            self.status.failed(_one_line(exc))
            return "failed"
        except (BotoCoreError, OSError) as exc:
            self.status.failed(_one_line(exc))
            return "failed"
        try:
            manifest = Manifest.parse(body)
            return self._follow(manifest)
        except ValueError as exc:
            self.status.failed(str(exc), unreachable=False)
            return "rejected"
        except (BotoCoreError, ClientError) as exc:  # the download broke off
            self.status.failed(_one_line(exc))
            return "failed"
        except OSError as exc:  # this host's disk: full, read-only
            self.status.failed(f"cannot store the snapshot here: {_one_line(exc)}", unreachable=False)
            return "failed"

    def _follow(self, m: Manifest) -> str:
        wh = self.settings.warehouse_dir
        try:
            local = read_current(self.settings.current_file)
        except ValueError:
            local = None
        target = self.settings.snapshots_dir / m.snapshot
        if local is not None and local.name == m.snapshot and target.exists():
            outcome = "unchanged"
            if m.info(wh) != local:
                write_current(wh, m.info(wh))
                outcome = "touched"
            if self._write_last_run(m):
                outcome = "touched"
            self.status.ok(m.snapshot)
            return outcome
        if not target.exists():
            retry = self._rejected.get((m.snapshot, m.sha256))
            if retry is not None and time.monotonic() < retry:
                raise ValueError(f"snapshot {m.snapshot} failed its check; trying again in "
                                 f"{retry - time.monotonic():.0f} s")
            self._download(m, target)
        write_current(wh, m.info(wh))
        self._write_last_run(m)
        prune(self.settings.snapshots_dir, m.snapshot, self.settings.snapshots_keep)
        self.status.ok(m.snapshot)
        log.info("object store: now serving snapshot %s", m.snapshot)
        return "swapped"

    def _download(self, m: Manifest, target: Path) -> None:
        """Download to a temporary name, check size and SHA-256, then rename into place.

        Raises:
            ValueError: the object is not the one the manifest describes (deleted, never named).
        """
        from boto3.s3.transfer import TransferConfig

        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}{_DOWNLOAD_SUFFIX}")
        part = self.settings.object_store_part_mb * 1024 * 1024
        try:
            self.client.download_file(self.where.bucket, self.where.snapshot_key(m.snapshot), str(tmp),
                                      Config=TransferConfig(multipart_threshold=part, multipart_chunksize=part,
                                                            max_concurrency=4))
            size = tmp.stat().st_size
            sha = file_sha256(tmp)
            if size != m.size or sha != m.sha256:
                self._rejected[(m.snapshot, m.sha256)] = time.monotonic() + REJECT_RETRY_SECONDS
                raise ValueError(f"snapshot {m.snapshot} failed its check (size {size} for {m.size}, sha256 "
                                 f"{sha[:12]}… for {m.sha256[:12]}…): not swapped in")
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def _write_last_run(self, m: Manifest) -> bool:
        """The writer's ``LAST_RUN.json`` here too (a failed ETL cycle shows on this host's wall); True when it changed."""
        path = self.settings.warehouse_dir / LAST_RUN_FILE
        if m.last_run is None or _read_text(path) == m.last_run:
            return False
        write_atomic(path, m.last_run)
        return True

    # --- the background thread ------------------------------------------------------------------
    def start(self) -> Puller:
        """Poll now and then every ``object_store_poll_seconds`` in a daemon thread, until :meth:`stop`."""
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name="snapshot-puller", daemon=True)
        self._thread.start()
        return self

    def run(self) -> None:
        """Poll until :meth:`stop` (the loop of the thread, and of ``app.py pull`` in the foreground)."""
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # poll_once records every expected failure; this keeps the loop alive
                log.exception("snapshot puller: unexpected failure")
            self._stop.wait(self.settings.object_store_poll_seconds)

    def stop(self, timeout: float = 30) -> None:
        """End the loop (a running download finishes first) and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def shutdown(self, wait: bool = True) -> None:
        """:meth:`stop` under the scheduler's name (``app.py serve --debug`` stops either the same way)."""
        self.stop(timeout=30 if wait else 0)


def start_puller(settings) -> Puller:
    """A started puller of this pull host (``app.py serve --debug`` and ``app.py pull``)."""
    log.info("snapshot puller: following %s every %d s", settings.object_store_url, settings.object_store_poll_seconds)
    return Puller(settings).start()
