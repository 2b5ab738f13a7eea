"""Metrics for operators (``dashboard/telemetry.py``): labels, the multiprocess sum, who may read ``/metrics``,
the snapshot state read at scrape time, and the ETL, briefing and sign-in counters.

Requests go through Flask's test client. The multiprocess tests put prometheus_client in its multiprocess
mode on a temporary folder (as ``app.py serve`` does before the library's import, here by swapping its value
class the way prometheus_client's own tests do); ``tests/test_telemetry_server.py`` runs the real server.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import values
from prometheus_client.parser import text_string_to_metric_families

from dashboard import telemetry
from dashboard.app import create_app
from data.contract import LAST_RUN_FILE, LastRun, SnapshotInfo, current_text, last_run_text
from data.runs import CycleResult, FileResult
from settings import SettingsError
from tests.conftest import FIXTURE_NOW, settings_for, signed_in

TOKEN = "t" * 40


def samples(text: str, name: str) -> dict[tuple, float]:
    """The samples called ``name`` in an exposition, keyed by their sorted labels."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name:
                out[tuple(sorted(s.labels.items()))] = s.value
    return out


def total(text: str, name: str, **labels: str) -> float:
    """The sum of the samples called ``name`` whose labels include ``labels``."""
    return sum(v for k, v in samples(text, name).items() if set(labels.items()) <= set(k))


@pytest.fixture
def single():
    """The in-process registry (no PROMETHEUS_MULTIPROC_DIR), fresh."""
    telemetry.reset()
    yield
    telemetry.reset()


@pytest.fixture
def multiproc(tmp_path, monkeypatch):
    """prometheus_client in multiprocess mode on a folder of this test's own."""
    folder = tmp_path / "prometheus"
    folder.mkdir()
    monkeypatch.setenv(telemetry.ENV_VAR, str(folder))
    monkeypatch.setattr(values, "ValueClass", values.MultiProcessValue())
    telemetry.reset()
    yield folder
    values.close_all_multiprocess_files()
    telemetry.reset()


@pytest.fixture
def app(small_demo):
    return create_app(small_demo, clock=lambda: FIXTURE_NOW)


def _scrape(client, **kwargs) -> str:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return response.get_data(as_text=True)


def _callback(client, output: str):
    return client.post("/_dash-update-component", json={"output": output, "outputs": [], "inputs": [],
                                                        "changedPropIds": []})


HIST = "gridpulse_http_request_duration_seconds_count"


def _exposed(settings) -> str:
    body, content_type = telemetry.exposition(settings)
    assert content_type.startswith("text/plain; version=0.0.4")  # what every Prometheus reads
    return body.decode()


def test_requests_are_labelled_by_page_callback_and_route_in_files_every_process_shares(app, multiproc, monkeypatch):
    client = signed_in(app)
    assert client.get("/wall").status_code == 200
    router = next(k for k in app.callback_map if "_pages_content.children" in k)  # known after the first request
    assert client.get("/no-such-page").status_code == 404
    assert client.get("/healthz").status_code == 200
    body = {"output": router,
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/wall"},
                       {"id": "_pages_location", "property": "search", "value": ""}],
            "changedPropIds": ["_pages_location.pathname"]}
    assert client.post("/_dash-update-component", json=body).status_code == 200
    _callback(client, "made-up-output.children")  # not a callback of the app: Dash refuses it, the label is "other"
    anonymous = app.server.test_client()
    assert anonymous.get("/cases").status_code == 302  # sent to sign in: timed and counted too

    text = _scrape(anonymous)  # from 127.0.0.1, no sign-in needed
    assert total(text, HIST, kind="page", handler="/wall", status="2xx") == 1
    assert total(text, HIST, kind="page", handler="other", status="4xx") == 1
    assert total(text, HIST, kind="page", handler="/cases", status="3xx") == 1
    assert total(text, HIST, kind="route", handler="/healthz", status="2xx") == 1
    assert total(text, HIST, kind="callback", handler=router, status="2xx") == 1
    assert total(text, HIST, kind="callback", handler="other") == 1
    assert not any("made-up" in dict(k)["handler"] for k in samples(text, HIST))
    assert list(multiproc.glob("histogram_*.db")), "nothing written to the multiprocess folder"

    # a second process (another pid's file in the same folder) adds to this one's in the sum
    monkeypatch.setattr(values, "ValueClass", values.MultiProcessValue(lambda: 4242))
    telemetry.reset()
    telemetry.record_signin_failure("wrong_password")
    telemetry.record_signin_failure("wrong_password")
    assert (multiproc / "counter_4242.db").exists()
    text = _scrape(anonymous)
    assert total(text, "gridpulse_signin_failures_total", reason="wrong_password") == 2
    assert total(text, HIST, kind="page", handler="/wall", status="2xx") == 1  # the first process's, still there


def test_a_removed_metrics_folder_is_a_503_not_a_crash(tmp_path, multiproc):
    app = create_app(settings_for(tmp_path / "var"))
    multiproc.rmdir()
    response = app.server.test_client().get("/metrics")
    assert response.status_code == 503 and b"cannot be read" in response.data


def test_callback_labels_stay_bounded_whatever_a_client_posts(app, single):
    client = signed_in(app)
    for i in range(30):
        _callback(client, f"..x{i}.children...y{i}.data..")
    client.post("/_dash-update-component", data="not json", content_type="application/json")
    client.post("/_dash-update-component", json=["a list"])
    text = _scrape(client)
    callbacks = {dict(k)["handler"] for k in samples(text, HIST) if dict(k)["kind"] == "callback"}
    assert callbacks == {"other"}
    assert total(text, HIST, kind="callback") == 32


@pytest.mark.parametrize(("env", "request_kwargs", "status"), [
    ({}, {"environ_base": {"REMOTE_ADDR": "203.0.113.9"}}, 403),  # the internet
    ({}, {"environ_base": {"REMOTE_ADDR": "::1"}}, 200),
    ({}, {"environ_base": {"REMOTE_ADDR": "::ffff:127.0.0.1"}}, 200),  # dual-stack socket
    ({}, {"headers": {"X-Forwarded-For": "203.0.113.9"}}, 403),  # a proxy nobody declared: loopback proves nothing
    ({"metrics_allow": "10.0.0.0/8"}, {"environ_base": {"REMOTE_ADDR": "10.1.2.3"}}, 200),
    ({"metrics_allow": "10.0.0.0/8"}, {}, 403),  # loopback is not in the list any more
    ({"metrics_allow": ""}, {}, 403),
    ({"metrics_token": TOKEN}, {"environ_base": {"REMOTE_ADDR": "203.0.113.9"},
                                "headers": {"Authorization": f"Bearer {TOKEN}"}}, 200),
    ({"metrics_token": TOKEN}, {"headers": {"Authorization": "Bearer wrong"}}, 401),
    ({"metrics_token": TOKEN}, {"environ_base": {"REMOTE_ADDR": "203.0.113.9"}}, 403),
    ({"proxy_hops": "1"}, {"headers": {"X-Forwarded-For": "127.0.0.1"}}, 200),  # the declared proxy's client
    ({"proxy_hops": "1"}, {"headers": {"X-Forwarded-For": "203.0.113.9"}}, 403),
])
def test_only_allowed_networks_or_the_token_read_metrics(tmp_path, single, env, request_kwargs, status):
    app = create_app(settings_for(tmp_path / "var", **env))
    response = app.server.test_client().get("/metrics", **request_kwargs)
    assert response.status_code == status
    if status == 200:
        assert b"gridpulse_http_request_duration_seconds" in response.data
    else:
        assert b"gridpulse" not in response.data and response.headers["Cache-Control"] == "no-store"
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_snapshot_age_and_the_last_cycle_are_read_when_scraped(tmp_path, single):
    settings = settings_for(tmp_path / "var")
    warehouse = settings.warehouse_dir
    warehouse.mkdir(parents=True)
    app = create_app(settings)
    client = app.server.test_client()
    text = _scrape(client)
    assert samples(text, "gridpulse_snapshot_age_seconds") == {}  # nothing published: no number, not 0
    assert samples(text, "gridpulse_etl_last_cycle_failed") == {}

    published = datetime.now(UTC) - timedelta(hours=2)
    checked = datetime.now(UTC) - timedelta(seconds=90)
    settings.current_file.write_text(current_text(SnapshotInfo("1.duckdb", warehouse / "1.duckdb", published, 1,
                                                               checked)))
    (warehouse / LAST_RUN_FILE).write_text(last_run_text(LastRun(2, "events", "failed", "disk full", checked)))
    text = _scrape(client)
    age = samples(text, "gridpulse_snapshot_age_seconds")[()]
    assert 90 <= age < 120  # from the last check, not the publication two hours ago
    assert samples(text, "gridpulse_etl_last_cycle_failed")[()] == 1
    assert samples(text, "gridpulse_etl_last_cycle_finished_timestamp_seconds")[()] == pytest.approx(
        checked.timestamp())

    (warehouse / LAST_RUN_FILE).write_text(last_run_text(LastRun(3, "events", "ok", None, datetime.now(UTC))))
    settings.current_file.write_text("{torn")
    text = _scrape(client)  # a torn pointer: no age, and the scrape still answers
    assert samples(text, "gridpulse_etl_last_cycle_failed")[()] == 0
    assert samples(text, "gridpulse_snapshot_age_seconds") == {}


def _cycle(status: str, snapshot: str | None, files: list[FileResult]) -> CycleResult:
    return CycleResult(7, "events", status, files=files, snapshot=snapshot, duration_s=1.5)


def test_etl_cycles_rows_and_quarantine_are_counted_by_outcome_table_and_reason(tmp_path, single):
    loaded = FileResult("events/a.csv", "events", "loaded", rows_in=12, rows_loaded=9, rows_quarantined=3,
                        reasons={"bad_timestamp": 2, "duplicate_id": 1})
    rejected = FileResult("events/b.csv", "events", "rejected", error="wrong columns")
    telemetry.record_cycle("events", _cycle("ok", "3.duckdb", [loaded, rejected]))
    telemetry.record_cycle("events", _cycle("ok", None, []))
    telemetry.record_cycle("events", _cycle("failed", None, [loaded]))  # rolled back: its rows count nowhere
    telemetry.record_cycle("reference", None)  # could not run
    weird = FileResult("x", "Events; DROP", "loaded", rows_loaded=1, reasons={"<script>": 1})
    telemetry.record_cycle("events", _cycle("ok", None, [weird]))

    text = _exposed(settings_for(tmp_path / "var"))
    cycles = "gridpulse_etl_cycles_total"
    assert total(text, cycles, kind="events", outcome="published") == 1
    assert total(text, cycles, kind="events", outcome="unchanged") == 2
    assert total(text, cycles, kind="events", outcome="failed") == 1
    assert total(text, cycles, kind="reference", outcome="not_run") == 1
    assert total(text, "gridpulse_etl_cycle_duration_seconds_count") == 4  # the one that never ran has no duration
    assert total(text, "gridpulse_etl_cycle_duration_seconds_sum") == pytest.approx(6.0)
    assert total(text, "gridpulse_etl_rows_loaded_total", table="events") == 9
    assert total(text, "gridpulse_etl_rows_quarantined_total", table="events", reason="bad_timestamp") == 2
    assert total(text, "gridpulse_etl_rows_quarantined_total", table="events", reason="duplicate_id") == 1
    assert total(text, "gridpulse_etl_files_total", table="events", status="rejected") == 1
    assert total(text, "gridpulse_etl_rows_loaded_total", table="other") == 1  # odd codes never become labels
    assert total(text, "gridpulse_etl_rows_quarantined_total", table="other", reason="other") == 1


def test_the_scheduler_job_hands_each_cycle_to_its_hook(fresh_demo, tmp_path):
    from data.schedule import _cycle_job

    seen = []
    _cycle_job(fresh_demo, "events", lambda kind, result: seen.append((kind, result)))
    assert seen[0][0] == "events" and seen[0][1].status == "ok" and seen[0][1].snapshot is None  # nothing new

    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    _cycle_job(fresh_demo.replace(var_dir=not_a_folder), "events", lambda kind, result: seen.append((kind, result)))
    assert seen[1] == ("events", None)  # could not run at all

    _cycle_job(fresh_demo, "events", lambda kind, result: 1 / 0)  # a broken hook never stops the scheduler


def test_sign_in_failures_are_counted_by_reason(tmp_path, single, monkeypatch):
    from argon2 import PasswordHasher

    from dashboard.auth import users
    from tests.dashboard.auth.test_enforcement import _sign_in

    monkeypatch.setattr(users, "PasswordHasher", lambda: PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    app = create_app(settings_for(tmp_path / "var"))
    client = app.server.test_client()
    for _ in range(6):  # five wrong passwords, then the name is locked for the minute
        _sign_in(client, "nobody", "wrong")
    client.post("/login", data={"username": "x", "password": "y"})  # no CSRF token
    client.get("/wall?token=forged")
    text = _scrape(client)
    failures = "gridpulse_signin_failures_total"
    assert total(text, failures, reason="wrong_password") == 5
    assert total(text, failures, reason="locked") == 1
    assert total(text, failures, reason="bad_form") == 1
    assert total(text, failures, reason="token_refused") == 1


def test_a_briefing_run_is_counted_by_trigger_and_outcome(tmp_path, single):
    from dashboard.briefing import jobs
    from dashboard.briefing.week import IsoWeek
    from data.snapshot import NoSnapshotError

    settings = settings_for(tmp_path / "var")
    with pytest.raises(NoSnapshotError):  # nothing published: the writer refuses
        jobs.run(settings, IsoWeek.parse("2026-W47"), trigger="page")
    text = _exposed(settings)
    assert total(text, "gridpulse_briefing_runs_total", trigger="page", outcome="failed") == 1
    assert total(text, "gridpulse_briefing_runs_total", outcome="ok") == 0


def test_a_recording_failure_is_logged_once_and_never_reaches_the_caller(single, monkeypatch, caplog):
    def broken():
        raise OSError("No space left on device")

    monkeypatch.setattr(telemetry, "_Instruments", broken)
    telemetry.record_signin_failure("locked")
    telemetry.record_briefing("cli", "ok")
    assert caplog.text.count("could not record a metric") == 1


def test_the_multiprocess_folder_is_set_before_the_import_and_wiped_of_its_own_files_only(tmp_path, monkeypatch):
    settings = settings_for(tmp_path / "var")
    folder = telemetry.multiprocess_dir(settings)
    with pytest.raises(RuntimeError, match="before prometheus_client is imported"):
        telemetry.use_multiprocess_dir(settings, wipe=True)  # too late in this process: it would be ignored
    folder.mkdir(parents=True)
    (folder / "counter_1.db").write_bytes(b"old run")
    (folder / "notes.txt").write_text("not ours")
    monkeypatch.setenv(telemetry.ENV_VAR, str(folder))  # as a server's child inherits it
    assert telemetry.use_multiprocess_dir(settings, wipe=False) == folder
    assert (folder / "counter_1.db").exists()  # a scheduler started alone adds to a running server's files
    telemetry.use_multiprocess_dir(settings, wipe=True)
    assert not (folder / "counter_1.db").exists() and (folder / "notes.txt").exists()
    (folder / "counter_2.db").write_bytes(b"this run")
    telemetry.remove_multiprocess_dir(folder)  # serve's end: its own files go, the folder stays for the stranger
    assert not (folder / "counter_2.db").exists() and (folder / "notes.txt").exists()
    (folder / "notes.txt").unlink()
    telemetry.remove_multiprocess_dir(folder)
    assert not folder.exists()  # nothing left in RAM


def test_an_old_run_stopping_after_a_new_one_started_leaves_the_new_runs_files(tmp_path, monkeypatch):
    """An overlapping restart: the old server's exit deleted the new one's files (its /metrics then said
    "metric files cannot be read" until the next restart)."""
    settings = settings_for(tmp_path / "var")
    monkeypatch.setattr(telemetry, "SHM", tmp_path / "shm")
    (tmp_path / "shm").mkdir()
    folder = telemetry.multiprocess_dir(settings)
    folder.mkdir()
    monkeypatch.setenv(telemetry.ENV_VAR, str(folder))
    telemetry.use_multiprocess_dir(settings, wipe=True)  # the old run
    (folder / "counter_1.db").write_bytes(b"old run")
    (folder / telemetry.OWNER).write_text("999999999\n")  # a new run (another process) took the folder over
    (folder / "histogram_2.db").write_bytes(b"new run")
    telemetry.remove_multiprocess_dir(folder)  # the old run's exit
    assert (folder / "histogram_2.db").exists()
    (folder / telemetry.OWNER).write_text(f"{os.getpid()}\n")  # the new run's own exit removes everything
    telemetry.remove_multiprocess_dir(folder)
    assert not folder.exists()


@pytest.mark.parametrize(("env", "named"), [
    ({"GRIDPULSE_METRICS_ALLOW": "127.0.0.1,intranet"}, "metrics_allow"),
    ({"GRIDPULSE_METRICS_ALLOW": "10.0.0.0/33"}, "metrics_allow"),
    ({"GRIDPULSE_METRICS_TOKEN": "short"}, "metrics_token"),
    ({"GRIDPULSE_METRICS_TOKEN": "x" * 20 + " " + "y" * 20}, "metrics_token"),
])
def test_bad_metrics_settings_stop_start_up_naming_them(env, named):
    from settings import load_settings

    with pytest.raises(SettingsError, match=f"setting {named} ") as info:
        load_settings(env=env, toml_path=None)
    assert "short" not in str(info.value) and "yyyy" not in str(info.value)  # a token is never echoed


def test_a_scraper_asking_for_openmetrics_gets_it(tmp_path, single):
    app = create_app(settings_for(tmp_path / "var"))
    response = app.server.test_client().get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/openmetrics-text")
    assert response.get_data(as_text=True).endswith("# EOF\n")
