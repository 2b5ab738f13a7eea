"""The app's own defences over HTTP (Flask's test client): compression, caching rules, the request size
limit, host names, no versions, 404 for what does not exist, security headers and the health endpoints
(``dashboard/web.py``)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import http.client
import json
import re
import sys
import threading
from datetime import timedelta

import brotli
import plotly
import pytest
from werkzeug.serving import make_server

from dashboard.app import create_app
from dashboard.runtime import of
from data.contract import LAST_RUN_FILE
from settings import SettingsError
from tests.conftest import FIXTURE_NOW, settings_for, signed_in

PLOTLY_BUNDLE = "/_dash-component-suites/plotly/package_data/plotly.v7_1_0m1.min.js"
NEVER_CACHED = ["/", "/wall", "/cases", "/_dash-layout", "/_dash-dependencies", "/healthz", "/readyz",
                "/analyst/export/cases.csv"]


@pytest.fixture
def app(small_demo):
    return create_app(small_demo, clock=lambda: FIXTURE_NOW)


@pytest.fixture
def client(app):
    return signed_in(app)


def _index(client, path: str = "/") -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _router_request(app, client, path: str):
    """The page router's callback for ``path`` (what the browser posts after loading the index)."""
    _index(client, path)
    key = next(k for k in app.callback_map if "_pages_content.children" in k)
    body = {"output": key,
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": ""}],
            "changedPropIds": ["_pages_location.pathname"]}
    return client.post("/_dash-update-component", json=body)


# --- caching --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", NEVER_CACHED)
def test_pages_json_exports_and_health_are_never_stored(client, path):
    response = client.get(path)
    assert response.status_code in (200, 503), path
    assert response.headers["Cache-Control"] == "no-store"


def test_a_briefing_download_and_preview_are_never_stored(fresh_demo):
    folder = fresh_demo.reports_dir / "330108"
    folder.mkdir(parents=True)
    (folder / "2026-W47.pdf").write_bytes(b"%PDF-1.7 " + b"x" * 2000)
    (folder / "2026-W47.png").write_bytes(b"\x89PNG " + b"x" * 2000)
    client = signed_in(create_app(fresh_demo, clock=lambda: FIXTURE_NOW))
    for kind in ("download", "preview"):
        response = client.get(f"/analyst/briefings/{kind}/330108/2026-W47.pdf", headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200, kind
        assert response.headers["Cache-Control"] == "no-store"
        assert "Content-Encoding" not in response.headers  # a PDF or PNG is compressed already


def test_a_callback_answer_is_never_stored(app, client):
    response = _router_request(app, client, "/wall")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_versioned_bundles_and_stamped_assets_are_kept_a_year_others_revalidated(client):
    page = _index(client)
    urls = re.findall(r'(?:src|href)="(/(?:_dash-component-suites|assets)/[^"]+)"', page)
    assert len(urls) >= 10
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable", url
    assert client.get("/assets/wall.css").headers["Cache-Control"] == "no-cache"  # no ?m=: asked again
    unversioned = client.get("/_dash-component-suites/dash/deps/react@18.3.1.min.js")
    assert unversioned.status_code == 200 and unversioned.headers["Cache-Control"] == "no-cache"
    assert client.get("/_favicon.ico").headers["Cache-Control"] == "no-cache"


def test_errors_are_never_stored(client):
    assert client.get("/_dash-component-suites/nope/x.v1m1.js").headers["Cache-Control"] == "no-store"


# --- compression ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("encoding", "decode"), [("gzip", gzip.decompress), ("br", brotli.decompress)])
def test_plotly_bundle_html_and_json_come_compressed(client, encoding, decode):
    raw = (plotly.__path__[0] + "/package_data/plotly.min.js")
    with open(raw, "rb") as f:
        original = f.read()
    response = client.get(PLOTLY_BUNDLE, headers={"Accept-Encoding": encoding})
    assert response.headers["Content-Encoding"] == encoding
    body = response.get_data()
    assert len(body) < len(original) / 3 and decode(body) == original
    for path in ("/", "/_dash-dependencies"):
        response = client.get(path, headers={"Accept-Encoding": encoding})
        assert response.headers["Content-Encoding"] == encoding, path
        assert "Accept-Encoding" in [v.strip() for v in response.headers["Vary"].split(",")]


def test_a_client_that_asks_for_no_encoding_gets_none(client):
    response = client.get(PLOTLY_BUNDLE)
    assert "Content-Encoding" not in response.headers
    assert len(response.get_data()) > 4_000_000


def test_a_bundle_is_compressed_once_then_served_from_memory(client, monkeypatch):
    from flask_compress import flask_compress

    calls = []
    real = flask_compress._compress_data
    monkeypatch.setattr(flask_compress, "_compress_data", lambda *a: calls.append(a[2]) or real(*a))
    # a fingerprinted URL, and the one Dash 4's graph asks for (no fingerprint), neither compressed by another test
    for bundle in (PLOTLY_BUNDLE.replace("m1.", "m2."), "/_dash-component-suites/plotly/package_data/plotly.min.js"):
        calls.clear()
        for _ in range(3):
            assert client.get(bundle, headers={"Accept-Encoding": "gzip"}).headers["Content-Encoding"] == "gzip"
        assert calls == ["gzip"]
    for _ in range(2):  # a page is compressed afresh each time
        client.get("/_dash-dependencies", headers={"Accept-Encoding": "gzip"})
    assert calls == ["gzip", "gzip", "gzip"]


# --- request size ---------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_refused_with_413_and_not_echoed(small_demo):
    app = create_app(small_demo.replace(max_request_bytes=4096), clock=lambda: FIXTURE_NOW)
    client = signed_in(app)
    body = json.dumps({"output": "x.children", "inputs": [{"id": "x", "property": "value", "value": "Z" * 5000}]})
    response = client.post("/_dash-update-component", data=body, content_type="application/json")
    assert response.status_code == 413
    assert len(response.get_data()) < 1000 and b"ZZZ" not in response.get_data()
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_real_callback_fits_under_the_limit(small_demo):
    app = create_app(small_demo.replace(max_request_bytes=4096), clock=lambda: FIXTURE_NOW)
    assert _router_request(app, signed_in(app), "/wall").status_code == 200


def test_the_limit_comes_from_the_setting(small_demo):
    assert create_app(small_demo).server.config["MAX_CONTENT_LENGTH"] == small_demo.max_request_bytes == 262_144
    assert create_app(small_demo.replace(max_request_bytes=5000)).server.config["MAX_CONTENT_LENGTH"] == 5000


# --- host names -----------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["localhost", "localhost:8050", "127.0.0.1:8050", "[::1]:8050", "LOCALHOST"])
def test_the_machine_itself_is_served_by_default(client, host):
    assert client.get("/healthz", headers={"Host": host}).status_code == 200
    assert client.get("/login", headers={"Host": host}).status_code == 200  # public: the host check decides


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:8050", "localhost.attacker.example",
                                  "127.0.0.1.nip.io", "0.0.0.0:8050", "", "local host", "[::2]"])
def test_another_host_name_is_a_400(client, host):
    response = client.get("/_dash-layout", headers={"Host": host})
    assert response.status_code == 400
    assert response.headers["Cache-Control"] == "no-store" and "Content-Security-Policy" in response.headers
    assert client.post("/_dash-update-component", json={}, headers={"Host": host}).status_code == 400


def test_health_answers_any_host_name(client):
    """A load balancer probes by address; the health answers hold nothing a rebinding page could use."""
    assert client.get("/healthz", headers={"Host": "10.1.2.3:8050"}).status_code == 200
    assert client.get("/readyz", headers={"Host": "10.1.2.3:8050"}).status_code == 200


@pytest.mark.parametrize(("settings", "host", "status"), [
    ({"host": "gridpulse.lan"}, "gridpulse.lan:8050", 200),  # the host setting, when it names an interface
    ({"host": "0.0.0.0"}, "0.0.0.0:8050", 400),
    ({"host": "10.0.0.5"}, "10.0.0.5", 200),
    ({"allowed_hosts": "dash.example.org, 10.0.0.5"}, "dash.example.org", 200),
    ({"allowed_hosts": "dash.example.org, 10.0.0.5"}, "localhost", 400),  # a list replaces the default
    ({"allowed_hosts": ".example.org"}, "a.b.example.org", 200),
    ({"allowed_hosts": ".example.org"}, "example.org", 200),
    ({"allowed_hosts": ".example.org"}, "badexample.org", 400),
    ({"allowed_hosts": "::1,fe80::1"}, "[fe80::1]:8050", 200),
    ({"allowed_hosts": "*"}, "attacker.example", 200),
])
def test_allowed_hosts_setting(small_demo, settings, host, status):
    app = create_app(small_demo.replace(**settings), clock=lambda: FIXTURE_NOW)
    # the sign-in page: public, so the host check alone decides (it runs before the sign-in gate)
    assert app.server.test_client().get("/login", headers={"Host": host}).status_code == status


@pytest.mark.parametrize(("name", "value"), [
    ("allowed_hosts", "http://dash.example.org"), ("allowed_hosts", "dash.example.org:8050"),
    ("allowed_hosts", "a b"), ("max_request_bytes", "100"), ("max_request_bytes", "lots"),
])
def test_a_bad_web_setting_stops_start_up_naming_it(tmp_path, name, value):
    with pytest.raises(SettingsError, match=f"setting {name} "):
        settings_for(tmp_path, **{name: value})


# --- no versions ----------------------------------------------------------------------------------


def _dash_config(page: str) -> dict:
    return json.loads(re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>', page).group(1))


def test_the_page_names_no_python_dash_or_plotly_version(client):
    import dash

    page = _index(client)
    config = _dash_config(page)
    for key in ("dash_version", "python_version", "plotly_version", "ddk_version", "dash_version_url"):
        assert key not in config
    assert config["disable_version_check"] is True
    assert sys.version not in page and sys.version.split()[0] not in page
    assert f"v={dash.__version__}" not in page  # the favicon's URL
    # what the renderer needs is still there
    assert config["requests_pathname_prefix"] == "/" and config["children_props"]
    assert "</script>" not in json.dumps(config)


@pytest.fixture
def served(app):
    """The app behind Werkzeug's own server (what `--debug` and the browser tests run) on a free port."""
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    thread.join(10)


def _raw_get(port: int, path: str, host: str = "127.0.0.1") -> http.client.HTTPResponse:
    """GET ``path`` exactly as written (no client-side clean-up of ``..``)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
    conn.putheader("Host", f"{host}:{port}")
    conn.endheaders()
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def test_no_header_the_app_writes_names_a_server_or_python_version(served):
    """Werkzeug's server writes ``Server: Werkzeug/x Python/y`` itself, after the app (docs/serving.md)."""
    response = _raw_get(served, "/healthz")
    assert response.status == 200
    headers = [(k, v) for k, v in response.getheaders() if k.lower() != "server"]
    assert len(headers) >= 8
    for name, value in headers:
        assert "Werkzeug" not in value and "Python" not in value and "Flask" not in value, name
    assert len(response.headers.get_all("Server")) == 1  # the app adds no second one


@pytest.mark.parametrize("path", ["/assets/../settings.py", "/assets/../../settings.py", "/assets/..%2fsettings.py",
                                  "/_dash-component-suites/dash/../../settings.py", "/_dash-component-suites/dash/dash.py"])
def test_a_path_out_of_the_folders_is_a_404_over_the_wire(served, path):
    assert _raw_get(served, path).status == 404


def test_a_foreign_host_is_a_400_over_the_wire(served):
    assert _raw_get(served, "/login", host="attacker.example").status == 400
    assert _raw_get(served, "/login", host="localhost").status == 200


# --- not found ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [
    "/_dash-component-suites/dash/dash.py",  # a file of a registered package Dash does not serve (was 500)
    "/_dash-component-suites/nope/x.js",  # an unknown package (was 500)
    "/_dash-component-suites/dash/dash-renderer/build/dash_renderer.min.js.map",  # registered, not shipped (was 500)
    "/assets/../settings.py", "/assets/%2e%2e/settings.py", "/assets/nope.css",
    "/analyst/briefings/../../settings.py",
])
def test_what_does_not_exist_is_a_404(client, path):
    assert client.get(path).status_code == 404


def test_a_path_that_names_no_page_is_a_404_with_the_app_in_it(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert 'id="react-entry-point"' in response.get_data(as_text=True)  # the app shows its "page not found"
    for path in ("/", "/wall", "/wall/", "/map", "/cases", "/briefings"):
        assert client.get(path).status_code == 200, path


def test_a_failure_elsewhere_is_still_a_500(app, client):
    def broken():
        raise FileNotFoundError("a file of ours is missing")

    app.server.add_url_rule("/broken", "broken", broken)
    assert client.get("/broken").status_code == 500


# --- security headers -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/_dash-layout", "/assets/wall.css", PLOTLY_BUNDLE, "/nope/x", "/healthz"])
def test_security_headers_on_every_answer(client, path):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'self'" in csp and "object-src 'none'" in csp
    assert "'unsafe-eval'" not in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert headers["X-Frame-Options"] == "SAMEORIGIN"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_the_policy_allows_exactly_the_inline_scripts_of_the_page(client):
    response = client.get("/wall")
    page = re.sub(r"<!--.*?-->", "", response.get_data(as_text=True), flags=re.DOTALL)  # not run: Dash's IE note
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>(.*?)</script>", page, re.DOTALL)
    assert len(inline) >= 2  # the pages' title function and the renderer
    allowed = re.findall(r"'sha256-([^']+)'", response.headers["Content-Security-Policy"])
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert digest in allowed


# --- health -----------------------------------------------------------------------------------------


def test_healthz_answers_without_data(tmp_path):
    client = signed_in(create_app(settings_for(tmp_path / "var")))
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_health_answers_head_requests(client):
    for path in ("/healthz", "/readyz"):
        response = client.head(path)
        assert response.status_code == 200 and response.get_data() == b"", path


def test_readyz_without_a_snapshot_is_503(tmp_path):
    client = signed_in(create_app(settings_for(tmp_path / "var")))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable" and "no snapshot" in response.get_json()["reason"]


def test_readyz_with_a_fresh_snapshot_is_200(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "ready" and response.get_json()["historical"] is False


def test_readyz_with_a_stale_snapshot_is_503(fresh_demo):
    probe = create_app(fresh_demo)
    with of(probe).snapshot() as (_con, info):
        published = info.fresh_at
    limit = fresh_demo.stale_after_cycles * fresh_demo.etl_interval_seconds
    ok = signed_in(create_app(fresh_demo, clock=lambda: published + timedelta(seconds=limit - 5)))
    assert ok.get("/readyz").status_code == 200
    late = signed_in(create_app(fresh_demo, clock=lambda: published + timedelta(seconds=limit + 5)))
    response = late.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable" and "stale" in response.get_json()["reason"]


def test_readyz_after_a_failed_etl_run_is_503(fresh_demo):
    (fresh_demo.warehouse_dir / LAST_RUN_FILE).write_text(
        json.dumps({"run_id": 99, "status": "failed", "error": "disk full"}), encoding="utf-8")
    response = signed_in(create_app(fresh_demo, clock=lambda: FIXTURE_NOW)).get("/readyz")
    assert response.status_code == 503 and "failed" in response.get_json()["reason"]


def test_historical_data_is_ready_however_old(small_demo):
    """The small demo ends 2026-11-25; on the wall clock (no clock given) it is historical, never stale."""
    response = signed_in(create_app(small_demo)).get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["historical"] is True
