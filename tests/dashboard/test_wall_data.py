"""The wall's data cache: reuse within a snapshot, expiry, LRU bound, single flight, failures."""

from __future__ import annotations

import threading
import time

import pytest

from dashboard.wall.data import Cache


def test_reuses_a_value_until_it_is_too_old():
    cache, calls = Cache(), []
    assert cache.get("k", lambda: calls.append(1) or len(calls), max_age=60) == 1
    assert cache.get("k", lambda: calls.append(1) or len(calls), max_age=60) == 1
    assert cache.get("k", lambda: calls.append(1) or len(calls), max_age=0) == 2  # expired: computed again
    assert len(calls) == 2


def test_is_bounded_least_recently_used_first():
    cache = Cache(max_entries=2)
    for key in ("a", "b"):
        cache.get(key, lambda key=key: key, max_age=60)
    cache.get("a", lambda: "a2", max_age=60)  # a is now the most recent
    cache.get("c", lambda: "c", max_age=60)
    assert "a" in cache and "c" in cache and "b" not in cache


def test_concurrent_requests_compute_once():
    cache, calls, start = Cache(), [], threading.Event()

    def slow():
        calls.append(1)
        time.sleep(0.3)
        return "v"

    results = []
    threads = [threading.Thread(target=lambda: (start.wait(), results.append(cache.get("k", slow, 60))))
               for _ in range(5)]
    for th in threads:
        th.start()
    start.set()
    for th in threads:
        th.join()
    assert results == ["v"] * 5 and len(calls) == 1


def test_a_failure_is_not_cached_and_waiters_retry():
    cache = Cache()
    with pytest.raises(ZeroDivisionError):
        cache.get("k", lambda: 1 / 0, max_age=60)
    assert "k" not in cache
    assert cache.get("k", lambda: "ok", max_age=60) == "ok"


def test_a_value_computed_elsewhere_keeps_its_age():
    cache, calls = Cache(), []

    def from_another_worker():
        calls.append(1)
        return 50.0, "numbers"  # the shared store's copy, computed 50 s ago

    assert cache.get("k", from_another_worker, max_age=60, aged=True) == "numbers"
    assert cache.get("k", from_another_worker, max_age=60, aged=True) == "numbers" and calls == [1]
    assert cache.get("k", from_another_worker, max_age=12, aged=True) == "numbers" and len(calls) == 2  # 50 s > 12 s


def test_the_wall_reads_shared_results_with_their_age(tmp_path, monkeypatch):
    from dashboard import shared_cache
    from settings import load_settings

    settings = load_settings(env={"GRIDPULSE_VAR_DIR": str(tmp_path / "var")}, toml_path=None)
    results = shared_cache.results(settings)
    now = [1_000_000.0]
    monkeypatch.setattr(shared_cache.time, "time", lambda: now[0])
    assert results.get_aged(("wall", "x"), lambda: "v", 60) == (0.0, "v")
    now[0] += 50
    fresh = shared_cache.Results(results.store, salt=results._salt)  # another worker, nothing local yet
    assert fresh.get_aged(("wall", "x"), lambda: "again", 60) == (50.0, "v")
    now[0] += 15
    assert fresh.get_aged(("wall", "x"), lambda: "again", 60) == (0.0, "again")  # 65 s: too old, computed
