"""Finished results shared by every web worker of a deployment: Flask-Caching behind a small local table.

The production server runs several worker processes on one snapshot (``workers`` setting). Each
wall refresh and analyst panel is a function of the snapshot, the scope, the view and "now", and
the same ones are asked for by every screen and analyst of a command center; computing them once
per process would multiply the work by the number of workers. So a finished result goes to a
store all workers share, and each process keeps the ones it used last in memory too:

* **local**: a small LRU per process (no unpickling on a hit);
* **shared**: Flask-Caching's ``FileSystemCache`` under ``<var_dir>/cache/results`` by default, its
  ``RedisCache`` when ``cache_url`` names a Redis server (several hosts, or many workers), nothing
  with ``cache_url = "none"``. Entries expire after :data:`TIMEOUT_S`; the file store also keeps at
  most :data:`THRESHOLD` files;
* **single flight across processes**: the first process to miss a key takes a lock (an exclusive
  file beside the file store, ``O_CREAT | O_EXCL``; Redis's atomic ``add``) and computes; the others wait for its
  result instead of starting the same query (a wall of screens refreshing at once costs one
  computation, whatever worker each one reaches). A lock is given up after :data:`LOCK_S`; a
  waiter whose owner failed computes the result itself.

Every key holds the snapshot's name (the callers put it there), so a new snapshot is never hidden
behind an old result, and the settings and the code are part of every key too (another SLA rule or
a new release never reads what the previous one stored). Keys are tuples turned into text canonically (sets sorted, datetimes in ISO
form, dataclasses field by field), so every process spells a key the same way whatever its hash
seed. A value that cannot be read back (another version of the code, a torn file) is a miss, and so
is one not signed with the server's secret (:class:`SignedPickles`: a pickle planted in Redis or in
``var/cache`` is never unpickled).

A store is made per deployment (its ``var_dir`` or ``cache_url``) on first use and lives as long as
the process; :func:`reset` forgets them all (tests).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import logging
import os
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from settings import Settings

__all__ = ["Results", "results", "reset", "canonical", "TIMEOUT_S", "LOCK_S", "THRESHOLD", "LOCAL_ENTRIES"]

log = logging.getLogger(__name__)

TIMEOUT_S = 15 * 60  # a snapshot lives a minute; historical data keeps its results this long
LOCK_S = 120.0  # longest a computation may hold its lock before others compute too
POLL_S = 0.02  # how often a waiter looks for the owner's result
RETRY_S = 30.0  # a store that failed is left alone this long
THRESHOLD = 5000  # files in the file store before it prunes
LOCAL_ENTRIES = 256
_ROOT = Path(__file__).resolve().parent.parent  # the checkout whose code is fingerprinted into every key
_PREFIX = "gp1:"  # bump when the shape of what is stored changes
_MISSING = object()


def canonical(value: Any) -> str:
    """A key's text, the same in every process (no hash-seed or address dependence)."""
    if isinstance(value, tuple | list):
        return "(" + ",".join(canonical(v) for v in value) + ")"
    if isinstance(value, frozenset | set):
        return "{" + ",".join(sorted(canonical(v) for v in value)) + "}"
    if isinstance(value, dict):
        return "{" + ",".join(sorted(f"{canonical(k)}:{canonical(v)}" for k, v in value.items())) + "}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = ",".join(f"{f.name}={canonical(getattr(value, f.name))}" for f in dataclasses.fields(value))
        return f"{type(value).__name__}({fields})"
    if value is None or isinstance(value, str | int | float | bool):
        return repr(value)
    raise TypeError(f"no canonical key text for {type(value).__name__}")


class Results:
    """A deployment's shared results: local LRU, shared store, single flight in and across processes."""

    def __init__(self, store: Any | None, salt: str = "", local_entries: int = LOCAL_ENTRIES):
        """A deployment's results on ``store``.

        Args:
            store: a Flask-Caching / cachelib backend (``get``, ``set``, ``add``, ``delete``,
                ``clear``), or ``None`` for this process alone.
            salt: part of every key (the settings' fingerprint: other SLA rules, other results).
            local_entries: size of the in-process LRU.
        """
        self.store = store
        self._salt = salt
        self._down_until = 0.0  # after a failure of the store, it is not asked again until then
        self._swept = 0.0  # when stale lock files were last looked for
        self._lock = threading.Lock()
        self._local: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._inflight: dict[str, threading.Event] = {}
        self._max = local_entries

    def get(self, key: Hashable, compute: Callable[[], Any], max_age: float | None = None) -> Any:
        """The result of ``key`` (younger than ``max_age`` seconds if given), else ``compute()`` once.

        ``compute`` runs at most once at a time per key in this process and, with a shared store,
        nearly always once in all processes. An exception in ``compute`` reaches the caller and
        stores nothing.
        """
        return self.get_aged(key, compute, max_age)[1]

    def get_aged(self, key: Hashable, compute: Callable[[], Any], max_age: float | None = None) -> tuple[float, Any]:
        """:meth:`get`, with the result's age in seconds (since whichever process computed it).

        A cache in front of this one stamps its copy with that age, so that a result another worker
        computed a minute ago is not kept for another full minute (``dashboard.wall.data``).
        """
        stored_at, value = self._stamped(key, compute, max_age)
        return max(0.0, time.time() - stored_at), value

    def _stamped(self, key: Hashable, compute: Callable[[], Any], max_age: float | None) -> tuple[float, Any]:
        text = self._text(key)
        while True:
            with self._lock:
                hit = self._local.get(text)
                if hit is not None and _fresh(hit[0], max_age):
                    self._local.move_to_end(text)
                    return hit
                event = self._inflight.get(text)
                owner = event is None
                if owner:
                    event = self._inflight[text] = threading.Event()
            if not owner:
                event.wait(timeout=LOCK_S)  # then look again: stored, or failed and we compute
                continue
            try:
                stamped = self._shared(text, compute, max_age)
            finally:
                with self._lock:
                    self._inflight.pop(text).set()
            with self._lock:
                self._local[text] = stamped
                self._local.move_to_end(text)
                while len(self._local) > self._max:
                    self._local.popitem(last=False)
            return stamped

    def _text(self, key: Hashable) -> str:
        return _PREFIX + hashlib.sha256((self._salt + canonical(key)).encode()).hexdigest()

    def _shared(self, text: str, compute: Callable[[], Any], max_age: float | None) -> tuple[float, Any]:
        """(stored at, value) from the shared store, or computed here once and stored there."""
        if self.store is None:
            return time.time(), compute()
        deadline = time.monotonic() + LOCK_S
        while True:
            found = self._read(text)
            if found is not _MISSING and _fresh(found[0], max_age):
                return found
            locked = self._try(lambda: self._take(text), None)
            if locked:  # ours: unless its owner stored it just before giving the lock back, we compute
                found = self._read(text)
                if found is not _MISSING and _fresh(found[0], max_age):
                    self._try(lambda: self._give(text), False)
                    return found
                break
            if locked is None:  # the store is down: compute it ourselves
                break
            if time.monotonic() > deadline:  # the owner died or hangs: compute it ourselves
                break
            time.sleep(POLL_S)
        try:
            stamped = (time.time(), compute())
            self._try(lambda: self.store.set(text, stamped, timeout=TIMEOUT_S), False)
            return stamped
        finally:
            self._try(lambda: self._give(text), False)

    def _locks(self) -> str | None:
        """The folder of the file store's lock files (beside its own, which cachelib counts and prunes)."""
        folder = getattr(self.store, "_path", None)
        return os.path.join(os.path.dirname(folder.rstrip("/")), "locks") if isinstance(folder, str) else None

    def _take(self, text: str) -> bool:
        """Take the computation of ``text``: an exclusive lock file for the file store, else the store's ``add``."""
        folder = self._locks()
        if folder is None:
            return bool(self.store.add(text + ":lock", os.getpid(), timeout=int(LOCK_S)))
        path = os.path.join(folder, text[len(_PREFIX):] + ".lock")
        try:
            os.makedirs(folder, exist_ok=True)  # someone emptied var/cache: it loses nothing but the work
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            self._sweep(folder)
            return True
        except FileExistsError:
            try:
                if time.time() - os.path.getmtime(path) > LOCK_S:  # its owner died: take it over
                    os.utime(path)
                    return True
            except FileNotFoundError:  # given back meanwhile: look for the result again
                pass
            return False

    def _sweep(self, folder: str) -> None:
        """Delete lock files older than LOCK_S (a worker killed while computing), at most once a minute."""
        now = time.monotonic()
        if now - self._swept < 60:
            return
        self._swept = now
        for entry in os.scandir(folder):
            try:
                if time.time() - entry.stat().st_mtime > LOCK_S:
                    os.unlink(entry.path)
            except FileNotFoundError:
                pass

    def _give(self, text: str) -> None:
        folder = self._locks()
        if folder is None:
            self.store.delete(text + ":lock")
            return
        try:
            os.unlink(os.path.join(folder, text[len(_PREFIX):] + ".lock"))
        except FileNotFoundError:
            pass

    def _read(self, text: str) -> Any:
        if self._down():
            return _MISSING
        try:
            found = self.store.get(text)
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, TypeError, ValueError):
            log.warning("shared results: an entry could not be read back; computing it", exc_info=True)
            return _MISSING  # a torn entry or another version's: this one is a miss, the store is fine
        except Exception:  # the store is down (Redis unreachable, the disk gone)
            log.warning("shared results: could not read an entry; computing it", exc_info=True)
            self._failed()
            return _MISSING
        if not (isinstance(found, tuple) and len(found) == 2 and isinstance(found[0], float)):
            return _MISSING
        return found

    def _try(self, call: Callable[[], Any], default: Any) -> Any:
        """A store operation; a store that is down costs the sharing, never the answer.

        After a failure the store is left alone for :data:`RETRY_S` seconds, so an unreachable
        Redis does not add its connection time-out to every request.
        """
        if self._down():
            return default
        try:
            return call()
        except Exception:
            log.warning("shared results: the store failed; going on without it for %.0f s", RETRY_S, exc_info=True)
            self._failed()
            return default

    def _down(self) -> bool:
        return time.monotonic() < self._down_until

    def _failed(self) -> None:
        self._down_until = time.monotonic() + RETRY_S

    def peek(self, key: Hashable) -> bool:
        """Whether ``key`` is held here or in the shared store (the warm-up's and the tests' question)."""
        text = self._text(key)
        with self._lock:
            if text in self._local:
                return True
        return self.store is not None and self._read(text) is not _MISSING

    def clear(self, shared: bool = True) -> None:
        """Forget the local results and, with ``shared``, empty the shared store too."""
        with self._lock:
            self._local.clear()
        if shared and self.store is not None:
            self._try(self.store.clear, False)


def _fresh(stored_at: float, max_age: float | None) -> bool:
    return max_age is None or time.time() - stored_at < max_age


_backends: dict[str, Any] = {}
_stores: dict[tuple[str, str], Results] = {}
_no_store_until: dict[str, float] = {}  # a store that could not be made is tried again after this (monotonic)
_stores_lock = threading.Lock()


def results(settings: Settings) -> Results:
    """The shared results of ``settings``' deployment (made on first use, then the same object).

    Settings that differ (another SLA rule, another zone) get their own keys in the same store:
    the settings' fingerprint salts every key.
    """
    where = settings.cache_url or str(settings.var_dir / "cache" / "results")
    salt = hashlib.sha256((_code_version(_ROOT) + repr(settings)).encode()).hexdigest()[:16]
    with _stores_lock:
        found = _stores.get((where, salt))
        if found is not None and found.store is None and settings.cache_url != "none":
            if time.monotonic() < _no_store_until.get(where, 0.0):
                return found
            del _stores[(where, salt)]  # try the store again
            found = None
        if found is None:
            if where not in _backends:
                try:
                    _backends[where] = _backend(settings)
                except Exception:  # an unwritable var/, no redis module: each process alone for a while
                    log.warning("shared results: no store at %s; each process computes alone for %.0f s",
                                "cache_url" if settings.cache_url else where, RETRY_S, exc_info=True)
                    _no_store_until[where] = time.monotonic() + RETRY_S
                    found = _stores[(where, salt)] = Results(None, salt)
                    return found
            found = _stores[(where, salt)] = Results(_backends[where], salt)
        return found


@functools.cache
def _code_version(root: Path) -> str:
    """The code that computes results, by the content of its files: a deploy never reads its predecessor's.

    By content, not by size and time: two web hosts sharing one Redis, each with its own checkout of the
    same release (made at different moments), use the same keys and share results; a ``touch`` changes
    nothing. About 200 small files, read once per process.
    """
    digest = hashlib.sha256()
    for package in ("dashboard", "metrics", "layers", "data"):
        for path in sorted((root / package).rglob("*.py")) + sorted((root / package).rglob("*.sql")):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


class SignedPickles:
    """Cachelib's serializer, signed: a value is unpickled only if its HMAC-SHA256 is the server's.

    Stored values are pickles, and unpickling runs code: without a signature, whoever could write to
    the Redis server or to ``var/cache`` could run code in every web worker. Each value is stored as
    ``b"!" + mac + pickle``, the mac keyed by the server's secret (``gate.secret_key``: the setting, so
    the web hosts sharing a Redis share it, as they must for sign-in cookies); anything else reads as
    a miss, and is computed again, without ever being unpickled. ``dumps``/``loads`` serve Redis,
    ``dump``/``load`` the file store.
    """

    _MAC = hashlib.sha256().digest_size

    def __init__(self, secret: str):
        self._key = hmac.new(secret.encode(), b"gridpulse shared results", hashlib.sha256).digest()

    def _mac(self, data: bytes) -> bytes:
        return hmac.new(self._key, data, hashlib.sha256).digest()

    def dumps(self, value: Any, protocol: int = pickle.HIGHEST_PROTOCOL) -> bytes:
        data = pickle.dumps(value, protocol)
        return b"!" + self._mac(data) + data

    def loads(self, value: bytes | None) -> Any:
        if not value or value[:1] != b"!" or len(value) <= 1 + self._MAC:
            return None
        mac, data = value[1:1 + self._MAC], value[1 + self._MAC:]
        if not hmac.compare_digest(mac, self._mac(data)):
            log.warning("shared results: an entry's signature is not this server's; not read")
            return None
        return pickle.loads(data)

    def dump(self, value: Any, f: Any, protocol: int = pickle.HIGHEST_PROTOCOL) -> None:
        f.write(self.dumps(value, protocol))

    def load(self, f: Any) -> Any:
        return self.loads(f.read())


def _backend(settings: Settings) -> Any | None:
    """The Flask-Caching backend ``cache_url`` asks for (validated by the settings), its values signed."""
    from dashboard.auth.gate import secret_key

    url = settings.cache_url
    if url == "none":
        return None
    if url.startswith(("redis://", "rediss://", "unix://")):
        import redis
        from flask_caching.backends.rediscache import RedisCache

        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        backend = RedisCache(host=client, default_timeout=TIMEOUT_S, key_prefix="gridpulse:")
    else:
        from flask_caching.backends.filesystemcache import FileSystemCache

        folder = settings.var_dir / "cache" / "results"
        folder.mkdir(parents=True, exist_ok=True)
        backend = FileSystemCache(str(folder), threshold=THRESHOLD, default_timeout=TIMEOUT_S, mode=0o600)
    backend.serializer = SignedPickles(secret_key(settings))  # an instance attribute over cachelib's class one
    return backend


def reset() -> None:
    """Empty and forget every store of this process (tests: no result leaks from one test to the next)."""
    with _stores_lock:
        stores = list(_stores.values())
        _stores.clear()
        _backends.clear()
        _no_store_until.clear()
    for store in stores:
        store.clear()
