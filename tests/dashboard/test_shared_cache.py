"""Results shared by the web workers: keys, single flight across processes, the file and Redis stores."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
import shutil
import socket
import struct
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dashboard import shared_cache
from dashboard.shared_cache import Results, canonical
from metrics.scope import Scope
from settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def _settings(var: Path, **env: str):
    return load_settings(env={"GRIDPULSE_VAR_DIR": str(var), **{f"GRIDPULSE_{k.upper()}": v for k, v in env.items()}},
                         toml_path=None)


def test_a_key_is_spelled_the_same_in_every_process():
    key = ("wall", "snap.duckdb", Scope("A", categories=("c2", "c1"), level="street"),
           frozenset({"x", "y", "z", "w"}), datetime(2026, 11, 25, 10, 30, tzinfo=UTC), {"b": 1, "a": None})
    here = canonical(key)
    code = ("from datetime import UTC, datetime\nfrom dashboard.shared_cache import canonical\n"
            "from metrics.scope import Scope\n"
            "print(canonical(('wall', 'snap.duckdb', Scope('A', categories=('c2', 'c1'), level='street'), "
            "frozenset({'x', 'y', 'z', 'w'}), datetime(2026, 11, 25, 10, 30, tzinfo=UTC), {'b': 1, 'a': None})))")
    for seed in ("1",):  # another hash seed iterates a set in another order (this process has a random one)
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": seed})
        assert out.stdout.strip() == here
    with pytest.raises(TypeError):
        canonical((object(),))  # an address in a key would never match in another process


def test_results_are_computed_once_and_shared_through_the_file_store(tmp_path):
    settings = _settings(tmp_path / "var")
    one = shared_cache.results(settings)
    calls = []
    assert one.get(("k", 1), lambda: calls.append(1) or {"v": 1}) == {"v": 1}
    assert one.get(("k", 1), lambda: calls.append(1) or {"v": 2}) == {"v": 1} and calls == [1]
    assert any((tmp_path / "var" / "cache" / "results").iterdir())  # on disk for the other workers
    other = Results(one.store, salt=one._salt)  # another process's view of the same store
    assert other.get(("k", 1), lambda: calls.append(1) or {"v": 3}) == {"v": 1} and calls == [1]


def test_other_settings_do_not_read_each_others_results(tmp_path):
    a = shared_cache.results(_settings(tmp_path / "var"))
    b = shared_cache.results(_settings(tmp_path / "var", sla_accept_seconds="120"))
    a.get(("vitals",), lambda: "rules A")
    assert b.get(("vitals",), lambda: "rules B") == "rules B"
    assert a.store is b.store  # one store for the deployment, keys apart


def test_max_age_and_failures(tmp_path):
    results = shared_cache.results(_settings(tmp_path / "var"))
    assert results.get(("a",), lambda: 1, max_age=60) == 1
    assert results.get(("a",), lambda: 2, max_age=0) == 2  # too old: computed again
    with pytest.raises(ZeroDivisionError):
        results.get(("b",), lambda: 1 / 0)
    assert results.get(("b",), lambda: "ok") == "ok"  # a failure stores nothing, and frees the lock


def test_an_unreadable_entry_is_a_miss(tmp_path):
    results = shared_cache.results(_settings(tmp_path / "var"))
    results.get(("x",), lambda: "first")
    for f in (tmp_path / "var" / "cache" / "results").iterdir():
        if not f.name.startswith("__"):
            f.write_bytes(b"\x00garbage")  # a torn file, or another version's pickle
    fresh = Results(results.store, salt=results._salt)
    assert fresh.get(("x",), lambda: "again") == "again"


class _Planted:
    """A pickle that runs code when loaded: it creates the file ``path``."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


def test_only_values_signed_with_the_servers_secret_are_unpickled(tmp_path):
    settings = _settings(tmp_path / "var")
    results = shared_cache.results(settings)
    results.get(("x",), lambda: "first")
    assert isinstance(results.store.serializer, shared_cache.SignedPickles)
    marker = tmp_path / "code-ran"
    files = [f for f in (tmp_path / "var" / "cache" / "results").iterdir() if not f.name.startswith("__")]
    assert files
    for forged in (pickle.dumps(_Planted(marker)),  # a bare pickle, as cachelib writes it
                   b"!" + b"\0" * 32 + pickle.dumps(_Planted(marker)),  # our layout, a made-up signature
                   b"!" + shared_cache.SignedPickles("another server's secret key, 32+ chars").dumps(
                       _Planted(marker))[1:]):  # signed, with another key
        for f in files:
            f.write_bytes(struct.pack("I", 0) + forged)  # cachelib's header (no expiry), then the value
        fresh = Results(results.store, salt=results._salt)
        assert fresh.get(("x",), lambda: "again") == "again"  # a miss, computed again
        assert not marker.exists()  # and never unpickled
    signer = shared_cache.SignedPickles("k" * 40)
    assert signer.loads(signer.dumps({"a": 1})) == {"a": 1} and signer.loads(None) is None


def _count_in_process(folder: str, counter: str, together: int, url: str = "") -> object:
    results = shared_cache.results(_settings(Path(folder), **({"cache_url": url} if url else {})))
    ready = Path(counter).with_suffix(".ready")
    with open(ready, "a") as f:  # a barrier: ask only when every process is up (each has its own start-up time)
        f.write("x")
    deadline = time.monotonic() + 60
    while len(ready.read_text()) < together:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(ready.read_text())} of {together} processes started within 60 s")
        time.sleep(0.001)

    def compute():
        with open(counter, "a") as f:
            f.write("x")
        time.sleep(0.5)  # a slow query: the others arrive while it runs
        return "numbers"
    return results.get(("slow", "snapshot-1"), compute)


def _answer(answers, args: tuple) -> None:
    answers.put(_count_in_process(*args))


def _in_processes(n: int, args: tuple) -> list:
    """`_count_in_process(*args)` in n fresh interpreters at once; a worker that dies or hangs fails the test.

    Spawned, not forked: a fork of this process (DuckDB's and the test server's threads running) once crashed in
    its child's garbage collector, and `multiprocessing.Pool` waits forever for a worker that died. Here a worker
    that exits without an answer fails the test at once, one that hangs after 2 minutes, and none is left running.
    """
    ctx = multiprocessing.get_context("spawn")
    answers = ctx.Queue()
    workers = [ctx.Process(target=_answer, args=(answers, args)) for _ in range(n)]
    for w in workers:
        w.start()
    deadline = time.monotonic() + 120
    found: list = []
    try:
        while len(found) < n:
            try:
                found.append(answers.get(timeout=0.5))
            except queue.Empty:
                died = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
                assert not died, f"a worker died without an answer (exit codes {died})"
                assert time.monotonic() < deadline, f"{n - len(found)} of {n} workers gave no answer in 120 s"
    finally:
        for w in workers:
            if w.is_alive() and len(found) < n:
                w.kill()
            w.join(10)
    return found


def test_workers_asking_at_once_compute_once(tmp_path):
    """Four processes miss the same key together: one computes, the others wait for its result."""
    counter = tmp_path / "count"
    found = _in_processes(4, (str(tmp_path / "var"), str(counter), 4))
    assert found == ["numbers"] * 4
    assert counter.read_text() == "x"


def test_a_store_that_is_down_costs_the_sharing_not_the_answer(tmp_path, caplog):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    results = shared_cache.results(_settings(tmp_path / "var", cache_url=f"redis://127.0.0.1:{port}/0"))
    started = time.monotonic()
    assert results.get(("k",), lambda: 42) == 42
    assert results.get(("j",), lambda: 43) == 43
    assert time.monotonic() - started < 5  # no waiting for a lock nobody can take
    assert caplog.text.count("could not read") == 1  # then left alone for a while


def test_cache_url_is_checked_and_never_printed():
    with pytest.raises(SettingsError, match="cache_url"):
        _settings(Path("/tmp/x"), cache_url="memcached://host")
    s = _settings(Path("/tmp/x"), cache_url="redis://:hunter2-secret@host:6379/0")
    assert "hunter2" not in repr(s)


@pytest.fixture
def redis_url(tmp_path):
    """A private redis-server on a free loopback port (Debian's package; `make test` installs it as root)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (Debian package redis-server; `make test` installs it as root)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


def test_redis_shares_results_between_processes(tmp_path, redis_url):
    counter = tmp_path / "count"
    settings = _settings(tmp_path / "var", cache_url=redis_url)
    results = shared_cache.results(settings)
    assert type(results.store).__name__ == "RedisCache"
    found = _in_processes(3, (str(tmp_path / "var"), str(counter), 3, redis_url))
    assert found == ["numbers"] * 3 and counter.read_text() == "x"
    assert results.get(("slow", "snapshot-1"), lambda: "not again") == "numbers"  # and this process finds it
    assert not (tmp_path / "var" / "cache" / "results").exists()  # nothing went to files


def test_a_store_that_cannot_be_made_costs_the_sharing_not_the_answer(tmp_path, caplog):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where var/ should be")
    settings = _settings(blocker / "var")
    results = shared_cache.results(settings)
    assert results.store is None and results.get(("k",), lambda: 7) == 7
    assert shared_cache.results(settings) is results  # not tried again on every request
    assert caplog.text.count("no store at") == 1


def test_lock_files_live_beside_the_store_and_are_given_back(tmp_path):
    results = shared_cache.results(_settings(tmp_path / "var"))
    seen = []

    def compute():
        seen.extend(p.name for p in (tmp_path / "var" / "cache" / "locks").iterdir())
        return 1

    results.get(("k",), compute)
    assert len(seen) == 1 and seen[0].endswith(".lock")  # held while computing
    assert not list((tmp_path / "var" / "cache" / "locks").iterdir())  # and given back
    assert not [p for p in (tmp_path / "var" / "cache" / "results").iterdir() if p.name.endswith(".lock")]


def test_the_code_fingerprint_is_the_content_not_the_file_times(tmp_path):
    """Two checkouts of one release, made at different moments, share results in one Redis; a change does not."""
    from dashboard.shared_cache import _code_version

    def checkout(name: str, sla: str) -> Path:
        root = tmp_path / name
        for package, text in (("metrics", sla), ("dashboard", "x = 1\n"), ("layers", ""), ("data", "")):
            (root / package).mkdir(parents=True)
            (root / package / "mod.py").write_text(text)
        (root / "data" / "views.sql").write_text("SELECT 1;\n")
        return root

    first, second, changed = checkout("a", "HOURS = 24\n"), checkout("b", "HOURS = 24\n"), checkout("c", "HOURS = 48\n")
    os.utime(second / "metrics" / "mod.py", (1, 1))  # another checkout time
    assert _code_version(first) == _code_version(second)
    assert _code_version(changed) != _code_version(first)
    (first / "data" / "views.sql").write_text("SELECT 2;\n")
    _code_version.cache_clear()
    assert _code_version(first) != _code_version(second)  # .sql counts too
