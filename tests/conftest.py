"""Shared fixtures: a small demo warehouse built once per test session.

``small_demo`` is read-only for the tests that use it (they open snapshots read-only); a test
that writes copies it with ``fresh_demo`` first.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from settings import Settings, load_settings

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
# A fixed "now" so fixture numbers do not depend on the day the tests run:
# Wednesday 2026-11-25 10:30 Asia/Shanghai.
FIXTURE_NOW = datetime(2026, 11, 25, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def settings_for(var_dir: Path, **env: str) -> Settings:
    """Settings whose runtime state lives under ``var_dir`` (no environment leaks in)."""
    values = {"GRIDPULSE_VAR_DIR": str(var_dir), **{f"GRIDPULSE_{k.upper()}": str(v) for k, v in env.items()}}
    return load_settings(env=values, toml_path=None)


def build_fixture_demo(var_dir: Path, **spec) -> Settings:
    """Build a demo warehouse ending at FIXTURE_NOW under ``var_dir`` and publish it."""
    from data.demo.generate import DemoSpec, build_demo

    settings = settings_for(var_dir)
    build_demo(settings, DemoSpec(now=FIXTURE_NOW, **spec), progress=False)
    return settings


def open_work(settings: Settings) -> duckdb.DuckDBPyConnection:
    """The writer's connection to a fixture's ``work.duckdb`` (read-write; close it before the ETL runs)."""
    from data.warehouse import connect

    return connect(settings.work_db, settings.timezone)


def private_copy(settings: Settings, tmp_path: Path) -> Settings:
    """A copy of a fixture warehouse's ``var/`` folder that one test may write to."""
    target = tmp_path / "var"
    shutil.copytree(settings.var_dir, target)
    return settings.replace(var_dir=target)


def reset_process_state() -> None:
    """Forget everything a process remembers between requests, as a fresh process would have it.

    The settings, the clock and the snapshot readers live on each app's ``Runtime`` (or are passed in);
    what remains process-wide are caches and the wall's warm-up: the metrics' results, facts,
    per-cursor set-up and calendars (``metrics.cache.reset``), the wall's data cache, the shared results
    (emptied, files included: a session fixture's var/ is shared by many tests), the warm-ups'
    watcher threads and plans (wall and analyst), and the ETL's checksum and micro-grid index caches.
    """
    from dashboard import shared_cache
    from dashboard.analyst import warmup as analyst_warmup
    from dashboard.wall import data as wall_data
    from dashboard.wall import warmup
    from data import landing, validate
    from metrics import cache

    warmup.reset()
    analyst_warmup.reset()
    wall_data.CACHE.clear()
    shared_cache.reset()
    cache.reset()
    landing.reset()
    validate.reset()


@pytest.fixture(autouse=True)
def _reset_process_state():
    """Every test starts and ends with the process state of a fresh process (see reset_process_state)."""
    reset_process_state()
    yield
    reset_process_state()


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory) -> Settings:
    """A 20 000-case, 60-day demo warehouse with a published snapshot (built once)."""
    return build_fixture_demo(tmp_path_factory.mktemp("small_demo") / "var", events=20_000, days=60, seed=7,
                              people=20_000, enterprises=2_000, cameras=1_000)


@pytest.fixture
def fresh_demo(small_demo, tmp_path) -> Settings:
    """A private copy of the small demo that a test may write to."""
    return private_copy(small_demo, tmp_path)


def shared_data(*parts: str) -> Path:
    """A file under ../shared/data, or skip the test when that folder is absent (a user's clone)."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path} is absent (it lives in ../shared/data, outside the repo)")
    return path


# --- signing in (issue 13): every page but the public ones needs an account -------------------------

TEST_PASSWORD = "test password 1234"  # the password of every account the tests make


def account(settings: Settings, role: str = "admin", areas: tuple[str, ...] = ()) -> str:
    """An account of ``role`` (limited to ``areas``) in the deployment's user store, made once; its name."""
    from dashboard.auth.users import UserError, UserStore

    name = f"t-{role}" + ("-" + "-".join(areas) if areas else "")
    store = UserStore.of(settings)
    try:
        store.get(name)
    except UserError:
        store.add(name, TEST_PASSWORD, role, areas, actor="tests")
    return name


def session_cookie(app, username: str, hours: float = 1.0) -> str:
    """The signed session cookie of ``username`` signed in for ``hours`` (negative: already expired).

    The same cookie /login writes (``dashboard.auth.gate``), made without the form, so tests that are
    about a page do not each pay for a sign-in.
    """
    import time

    from dashboard.auth.gate import store_of

    server = app.server
    key = store_of(server).session_key(username)
    data = {"_user_id": f"u:{username}:{key}", "_fresh": True, "gp_expires": time.time() + hours * 3600}
    return server.session_interface.get_signing_serializer(server).dumps(data)


def signed_in(app, role: str = "admin", areas: tuple[str, ...] = (), settings: Settings | None = None):
    """A Flask test client of ``app`` signed in as an account of ``role`` (admin by default)."""
    from dashboard.auth.gate import SESSION_COOKIE
    from dashboard.runtime import of

    settings = settings or of(app).settings
    client = app.server.test_client()
    client.set_cookie(SESSION_COOKIE, session_cookie(app, account(settings, role, areas)))
    return client


def browser_sign_in(driver, base: str, app, role: str = "admin", areas: tuple[str, ...] = ()) -> str:
    """Sign the browser in to ``base`` as an account of ``role`` (sets the session cookie); the account's name."""
    from dashboard.auth.gate import SESSION_COOKIE
    from dashboard.runtime import of

    name = account(of(app).settings, role, areas)
    driver.get(base.rstrip("/") + "/login")  # a cookie is set on the page's own host (this one links its favicon)
    driver.add_cookie({"name": SESSION_COOKIE, "value": session_cookie(app, name), "path": "/", "httpOnly": True})
    driver.get_log("browser")  # reading the log empties it: Chromium's own /favicon.ico 404 on that page is not the app's
    return name


def as_principal(role: str = "admin", areas: tuple[str, ...] = ()) -> None:
    """Inside a test request context: act as an account of ``role`` (what the gate sets for a real request)."""
    from dashboard.auth.access import Principal, set_current

    set_current(Principal(f"t-{role}", role, everywhere=role != "area", areas=areas))


def browser_cookies(driver) -> dict[str, str]:
    """The browser's cookies for its current site, for a download made outside it (``requests``, ``urllib``)."""
    return {c["name"]: c["value"] for c in driver.get_cookies()}
