"""The admin page: admins only, CSRF on every form, changes reach the store and its audit log, secrets shown once."""

from __future__ import annotations

import html
import re

import pytest

from dashboard.app import create_app
from dashboard.auth.gate import store_of
from tests.conftest import FIXTURE_NOW, account, signed_in

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_SECRET = re.compile(r'data-admin="secret">([^<]+)<')


@pytest.fixture
def app(fresh_demo):
    return create_app(fresh_demo, clock=lambda: FIXTURE_NOW)


@pytest.fixture
def admin(app):
    return signed_in(app, "admin")


def _csrf(client, path: str = "/admin") -> str:
    """The CSRF token of a form on ``path`` (bound to this client's session cookie)."""
    page = client.get(path)
    assert page.status_code == 200
    return _CSRF.search(page.get_data(as_text=True)).group(1)


def _secret(response) -> str:
    return html.unescape(_SECRET.search(response.get_data(as_text=True)).group(1))


def test_an_admin_sees_the_three_tabs_in_chinese_and_in_english(admin):
    for path, marker in (("/admin", 't-admin'), ("/admin/tokens", "admin-add-token"), ("/admin/audit", "admin-audit")):
        page = admin.get(path)
        assert page.status_code == 200, path
        text = page.get_data(as_text=True)
        assert marker in text and "系统管理" in text
        assert "<script" not in text and "http" not in text.split("<body>")[1]
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
        assert page.headers["Cache-Control"] == "no-store"
    english = admin.get("/admin?lang=en").get_data(as_text=True)
    assert "Administration" in english and 'href="/?lang=en"' in english and 'href="/admin?lang=zh"' in english


@pytest.mark.parametrize("role, areas", [("district", ()), ("area", ("S01",)), ("wall", ())])
def test_other_roles_are_refused_and_the_anonymous_sent_to_sign_in(app, role, areas):
    client = signed_in(app, role, (_some_area(app),) if areas else ())
    for path in ("/admin", "/admin/tokens", "/admin/audit"):
        answer = client.get(path)
        if role == "wall":  # a wall account opens the wall alone: every other page sends it there
            assert answer.status_code == 302 and answer.headers["Location"] == "/wall"
        else:
            assert answer.status_code == 403
    assert client.post("/admin/users/add", data={"username": "x"}).status_code == 403
    anonymous = app.server.test_client().get("/admin/audit")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login?next=")


def _some_area(app) -> str:
    from dashboard.runtime import of

    with of(app).snapshot() as (con, _):
        return con.execute("SELECT area_id FROM areas WHERE level = 'street' ORDER BY area_id LIMIT 1").fetchone()[0]


def test_adding_an_account_with_a_typed_password_creates_it_and_audits_the_admin(app, admin):
    area = _some_area(app)
    answer = admin.post("/admin/users/add", data={"csrf_token": _csrf(admin), "username": "Bo", "role": "area",
                                                  "areas": f" {area} ", "password": "a typed password"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/admin"
    store = store_of(app.server)
    user = store.get("bo")
    assert (user.role, user.areas) == ("area", (area,))
    assert store.verify("bo", "a typed password") is not None
    line = store.audit_log(1)[0]
    assert (line["actor"], line["action"], line["detail"]["user"]) == ("t-admin", "user.add", "bo")
    listed = admin.get("/admin").get_data(as_text=True)  # the redirect's page: the note once, the account listed
    assert "已新增账户 bo" in listed and 'data-user="bo"' in listed
    assert "已新增账户 bo" not in admin.get("/admin").get_data(as_text=True)


def test_a_generated_password_is_shown_once_and_works(app, admin):
    answer = admin.post("/admin/users/add", data={"csrf_token": _csrf(admin), "username": "cy", "role": "district"})
    assert answer.status_code == 200
    password = _secret(answer)
    store = store_of(app.server)
    assert len(password) >= 12 and store.verify("cy", password).role == "district"
    assert password not in admin.get("/admin").get_data(as_text=True)
    reset = admin.post("/admin/users/passwd", data={"csrf_token": _csrf(admin), "username": "cy"})
    new = _secret(reset)
    assert new != password and store.verify("cy", new) is not None and store.verify("cy", password) is None
    assert store.audit_log(1)[0]["action"] == "user.passwd" and store.audit_log(1)[0]["actor"] == "t-admin"


def test_bad_accounts_are_refused_with_the_reason_and_nothing_changes(app, admin):
    store = store_of(app.server)
    before = store.list()
    for data, reason in (({"username": "dd", "role": "area", "areas": "NOPE-1"}, "NOPE-1"),
                         ({"username": "dd", "role": "district", "password": "short"}, "password"),
                         ({"username": "t-admin", "role": "district"}, "exists already")):
        answer = admin.post("/admin/users/add", data={"csrf_token": _csrf(admin), **data})
        assert answer.status_code == 400 and reason in html.unescape(answer.get_data(as_text=True))
    assert store.list() == before


def test_a_post_without_a_csrf_token_is_refused_and_changes_nothing(app, admin):
    store = store_of(app.server)
    account(_settings(app), "district")
    lines = len(store.audit_log(1000))
    assert admin.post("/admin/users/add", data={"username": "ev", "role": "district"}).status_code == 400
    assert admin.post("/admin/users/add", data={"csrf_token": "forged", "username": "ev", "role": "district"}
                      ).status_code == 400
    assert admin.post("/admin/users/remove", data={"username": "t-district"}).status_code == 400
    token, record = store.make_token("left", actor="tests")
    assert admin.post("/admin/tokens/revoke", data={"token_id": record.token_id}).status_code == 400
    assert "ev" not in [u.username for u in store.list()] and store.get("t-district")
    assert store.active_token(record.token_id) is not None
    assert len(store.audit_log(1000)) == lines + 1  # the token made above, nothing else


def _settings(app):
    from dashboard.runtime import of

    return of(app).settings


def test_an_admin_removes_others_but_not_themself(app, admin):
    store = store_of(app.server)
    account(_settings(app), "district")
    page = admin.get("/admin").get_data(as_text=True)
    rows = dict(re.findall(r'<tr data-user="([^"]+)">(.*?)</tr>', page, re.S))
    assert "/admin/users/remove" in rows["t-district"] and "/admin/users/remove" not in rows["t-admin"]
    answer = admin.post("/admin/users/remove", data={"csrf_token": _csrf(admin), "username": "t-admin"})
    assert answer.status_code == 400 and store.get("t-admin")
    answer = admin.post("/admin/users/remove", data={"csrf_token": _csrf(admin), "username": "t-district"})
    assert answer.status_code == 302
    assert "t-district" not in [u.username for u in store.list()]
    assert (store.audit_log(1)[0]["action"], store.audit_log(1)[0]["actor"]) == ("user.remove", "t-admin")


def test_a_token_is_made_shown_once_with_its_wall_url_and_revoked_through_the_form(app, admin):
    store = store_of(app.server)
    area = _some_area(app)
    csrf = _csrf(admin, "/admin/tokens")
    answer = admin.post("/admin/tokens/add", data={"csrf_token": csrf, "label": "left wall", "scope": area,
                                                   "layout": "map"})
    assert answer.status_code == 200
    token = _secret(answer)
    record = store.check_token(token)
    assert (record.label, record.scope, record.layout, record.created_by) == ("left wall", area, "map", "t-admin")
    text = html.unescape(answer.get_data(as_text=True))
    assert f"http://localhost/wall?token={token}&layout=map&scope={area}" in text
    listing = admin.get("/admin/tokens").get_data(as_text=True)
    assert f'data-token="{record.token_id}"' in listing and token not in listing
    bad = admin.post("/admin/tokens/add", data={"csrf_token": csrf, "scope": "NOPE-1"})
    assert bad.status_code == 400 and len(store.tokens()) == 1
    answer = admin.post("/admin/tokens/revoke", data={"csrf_token": csrf, "token_id": record.token_id})
    assert answer.status_code == 302 and answer.headers["Location"] == "/admin/tokens"
    assert store.active_token(record.token_id) is None
    assert (store.audit_log(1)[0]["action"], store.audit_log(1)[0]["actor"]) == ("token.revoke", "t-admin")


def test_the_audit_filters_return_only_matching_rows(app, admin):
    store = store_of(app.server)
    store.audit("ana", "signin.fail", {"user": "ana"}, "10.0.0.1")
    store.audit("bo", "signin.ok", {"user": "bo", "role": "district"}, "10.0.0.2")
    store.audit("ana", "signin.ok", {"user": "ana", "role": "district"}, "10.0.0.3")
    only = admin.get("/admin/audit?actor=ana&action=signin.ok").get_data(as_text=True)
    assert "10.0.0.3" in only and "10.0.0.1" not in only and "10.0.0.2" not in only
    assert 'value="ana"' in only and '<option value="signin.ok" selected>' in only
    ana = admin.get("/admin/audit?actor=ana").get_data(as_text=True)
    assert "10.0.0.1" in ana and "10.0.0.3" in ana and "10.0.0.2" not in ana
    assert ana.index("10.0.0.3") < ana.index("10.0.0.1")  # newest first
    assert "10.0.0.2" in admin.get("/admin/audit").get_data(as_text=True)
    # dates are days of the deployment's time zone; the lines were written today (the real clock)
    assert "10.0.0.2" not in admin.get("/admin/audit?to=2000-01-01").get_data(as_text=True)
    assert "10.0.0.2" not in admin.get("/admin/audit?from=2999-01-01").get_data(as_text=True)
    assert "10.0.0.2" in admin.get("/admin/audit?from=2000-01-01&to=2999-01-01").get_data(as_text=True)


def test_the_audit_page_says_when_more_lines_match_than_it_shows(app, admin, monkeypatch):
    from dashboard.auth import admin as admin_page

    monkeypatch.setattr(admin_page, "AUDIT_ROWS", 2)
    store = store_of(app.server)
    for n in range(3):
        store.audit("ana", "export", {"rows": n})
    page = admin.get("/admin/audit?actor=ana").get_data(as_text=True)
    assert 'data-admin="more"' in page and page.count("data-audit=") == 2
    assert 'data-admin="more"' not in admin.get("/admin/audit?actor=ana&action=signin.ok").get_data(as_text=True)


def test_what_people_typed_is_escaped_and_a_form_answer_switches_language_to_its_list(app, admin):
    store_of(app.server).audit("<b>x</b>", "signin.fail", {"user": "<script>alert(1)</script>"}, "10.0.0.9")
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page and "<b>x</b>" not in page
    answer = admin.post("/admin/tokens/add?lang=en", data={"csrf_token": _csrf(admin, "/admin/tokens")})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Wall URL" in text and 'href="/admin/tokens?lang=zh"' in text
    refused = admin.post("/admin/users/add", data={"csrf_token": _csrf(admin), "username": "x y", "role": "district"})
    assert refused.status_code == 400 and 'href="/admin?lang=en"' in refused.get_data(as_text=True)
