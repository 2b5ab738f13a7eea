"""The admin page: accounts, wall tokens and the audit log, for role ``admin`` (issue 13).

One entry, :func:`register`, called by :func:`dashboard.app.create_app` right after the sign-in gate,
which already refuses ``/admin*`` to anyone but an admin (403) and sends the anonymous to ``/login``.
Like ``/login`` it is server-rendered Flask and Jinja (``admin.html``), with no script (the
Content-Security-Policy allows none inline) and nothing loaded from elsewhere:

* ``GET /admin``: the accounts, with forms to add one, reset a password and remove one (not your own).
* ``GET /admin/tokens``: the wall tokens, with a form to make one and a revoke button each.
* ``GET /admin/audit``: the audit log, newest first, filtered by actor, action and dates in the URL
  (at most :data:`AUDIT_ROWS` rows, with a note when more match).

Every change is a POST of a Flask-WTF form with its CSRF token (a missing or wrong one: 400, nothing
changed) and answers with a redirect to the list (POST/redirect/GET), except where a generated
secret (a password, a wall token) is shown, once, on the answer page itself. The store records each
change in the audit log with the signed-in admin as its actor.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import flask
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from dashboard import runtime
from dashboard.auth import access
from dashboard.auth.cli import _LAYOUTS, unknown_areas
from dashboard.auth.gate import sign_out_token, store_of
from dashboard.auth.users import ROLES, UserError, UserStore
from dashboard.i18n import language, pick, t
from data.snapshot import NoSnapshotError
from metrics.sqlfiles import load_sql

__all__ = ["AUDIT_ROWS", "KNOWN_ACTIONS", "register"]

AUDIT_ROWS = 500  # the most audit lines one page shows; narrower filters find older ones
# Offered in the audit filter even before they first happen (the log's own actions are added to these).
KNOWN_ACTIONS = ("signin.ok", "signin.fail", "signin.locked", "signin.token", "signout", "token.refused",
                 "token.add", "token.revoke", "user.add", "user.passwd", "user.remove")
_TABS = (("users", "/admin", "admin.tab.users"), ("tokens", "/admin/tokens", "admin.tab.tokens"),
         ("audit", "/admin/audit", "admin.tab.audit"))


class AddUserForm(FlaskForm):
    """A new account; the password is generated when left empty."""

    username = StringField(validators=[DataRequired(), Length(max=64)])
    role = SelectField(choices=list(ROLES), default="district")
    areas = StringField(validators=[Optional(), Length(max=2000)])
    password = PasswordField(validators=[Optional(), Length(min=12, max=1024)])


class UserActionForm(FlaskForm):
    """One account named by a hidden field: reset its password, or remove it."""

    username = HiddenField(validators=[DataRequired(), Length(max=64)])


class TokenForm(FlaskForm):
    """A new wall token, optionally limited to one area and one layout."""

    label = StringField(validators=[Optional(), Length(max=200)])
    scope = StringField(validators=[Optional(), Length(max=64)])
    layout = SelectField(choices=["", *_LAYOUTS], default="")


class RevokeForm(FlaskForm):
    """Revoke one wall token."""

    token_id = HiddenField(validators=[DataRequired(), Length(max=64)])


def register(server: flask.Flask) -> None:
    """Add the admin page's routes to ``server`` (the gate in front of it admits admins only)."""
    routes = (
        ("/admin", "users", _users, ["GET"]),
        ("/admin/users/add", "users_add", _users_add, ["POST"]),
        ("/admin/users/passwd", "users_passwd", _users_passwd, ["POST"]),
        ("/admin/users/remove", "users_remove", _users_remove, ["POST"]),
        ("/admin/tokens", "tokens", _tokens, ["GET"]),
        ("/admin/tokens/add", "tokens_add", _tokens_add, ["POST"]),
        ("/admin/tokens/revoke", "tokens_revoke", _tokens_revoke, ["POST"]),
        ("/admin/audit", "audit", _audit, ["GET"]),
    )
    for rule, name, view, methods in routes:
        server.add_url_rule(rule, f"gridpulse_admin_{name}", view, methods=methods)


# --- the request's context ------------------------------------------------------------------------


def _lang() -> str:
    return language(flask.request.args.get("lang"), _default_lang())


def _default_lang() -> str:
    return language(None, runtime.current().settings.language)


def _store() -> UserStore:
    return store_of(flask.current_app)


def _me() -> str:
    """The signed-in admin's name: the actor of every change made here."""
    return access.current().name


def _url(path: str, lang: str, **query: str) -> str:
    """``path`` with ``query`` (empty values dropped) and ``lang`` when it is not the deployment's language."""
    values = {k: v for k, v in query.items() if v}
    if lang != _default_lang():
        values["lang"] = lang
    return path + (f"?{urlencode(values)}" if values else "")


def _render(tab: str, lang: str, status: int = 200, **values: Any) -> flask.Response:
    """The admin page, one tab of it, with its header, tabs and language switch."""
    other = "en" if lang == "zh" else "zh"
    request = flask.request
    if request.method == "GET":  # the same view, its filters kept
        query = {k: v for k, v in request.args.items(multi=False) if k != "lang"}
        switch_url = request.path + "?" + urlencode({**query, "lang": other})
    else:  # the answer to a form: its list (a POST's own address cannot be opened)
        switch_url = values.get("back") or dict((key, path) for key, path, _label in _TABS)[tab]
        switch_url += f"?lang={other}"
    html = flask.render_template_string(
        _PAGE, tab=tab, lang=lang, t=t, url=_url, me=_me(), tabs=_TABS, roles=ROLES, layouts=("", *_LAYOUTS),
        switch=switch_url, keep_lang=lang != _default_lang(), when=_local_time, sign_out=sign_out_token(),
        messages=flask.get_flashed_messages(), **values)
    return flask.make_response(html, status)


def _refused(form: FlaskForm) -> bool:
    """Whether ``form`` did not validate; a missing or wrong CSRF token aborts with 400 here."""
    if form.validate_on_submit():
        return False
    if form.csrf_token.errors:
        flask.abort(400, description="missing or wrong CSRF token")
    return True


def _done(path: str, lang: str, message: str) -> flask.Response:
    """Redirect to the list after a change (POST/redirect/GET), with a one-time note of what was done."""
    flask.flash(message)
    return flask.redirect(_url(path, lang))


def _form_errors(form: FlaskForm) -> str:
    return "; ".join(f"{name}: {' '.join(errs)}" for name, errs in form.errors.items())


# --- accounts ---------------------------------------------------------------------------------------


def _users(add: AddUserForm | None = None, error: str | None = None, status: int = 200) -> flask.Response:
    lang = _lang()
    users = _store().list()
    names = _area_names({a for u in users for a in u.areas}, lang)
    return _render("users", lang, status, users=users, area_names=names, add=add or AddUserForm(),
                   action=UserActionForm(), error=error)


def _users_add() -> flask.Response:
    lang = _lang()
    form = AddUserForm()
    if _refused(form):
        return _users(form, t("admin.error", lang, reason=_form_errors(form)), 400)
    username = form.username.data.strip().lower()
    areas = [a.strip() for a in (form.areas.data or "").split(",") if a.strip()]
    unknown = unknown_areas(runtime.current().settings, areas, runtime.current())
    if unknown:
        return _users(form, t("admin.unknown_areas", lang, areas=", ".join(unknown)), 400)
    password = form.password.data or secrets.token_urlsafe(15)
    try:
        _store().add(username, password, form.role.data, areas, actor=_me())
    except UserError as exc:
        return _users(form, t("admin.error", lang, reason=str(exc)), 400)
    if form.password.data:
        return _done("/admin", lang, t("admin.user_added", lang, user=username))
    return _secret(lang, t("admin.user_added", lang, user=username), t("admin.password_once", lang), password)


def _users_passwd() -> flask.Response:
    lang = _lang()
    form = UserActionForm()
    if _refused(form):
        return _users(error=t("admin.error", lang, reason=_form_errors(form)), status=400)
    password = secrets.token_urlsafe(15)
    try:
        _store().set_password(form.username.data, password, actor=_me())
    except UserError as exc:
        return _users(error=t("admin.error", lang, reason=str(exc)), status=400)
    return _secret(lang, t("admin.password_reset", lang, user=form.username.data), t("admin.password_once", lang),
                   password)


def _users_remove() -> flask.Response:
    lang = _lang()
    form = UserActionForm()
    if _refused(form):
        return _users(error=t("admin.error", lang, reason=_form_errors(form)), status=400)
    if form.username.data == _me():
        return _users(error=t("admin.not_yourself", lang), status=400)
    try:
        _store().remove(form.username.data, actor=_me())
    except UserError as exc:
        return _users(error=t("admin.error", lang, reason=str(exc)), status=400)
    return _done("/admin", lang, t("admin.user_removed", lang, user=form.username.data))


def _secret(lang: str, title: str, note: str, secret: str, url: str | None = None) -> flask.Response:
    """The page that shows a generated password or token, once (the store keeps only its hash)."""
    back = "/admin/tokens" if url else "/admin"
    return _render("secret", lang, title=title, note=note, secret=secret, wall_url=url, back=back)


def _area_names(ids: set[str], lang: str) -> dict[str, str]:
    """The names of areas in the current snapshot (none without a snapshot; unknown ids are left out)."""
    if not ids:
        return {}
    names = {}
    try:
        with runtime.current().snapshot() as (con, _info):
            for area_id in sorted(ids):
                row = con.execute(load_sql("area_info"), {"area_id": area_id}).fetchone()
                if row is not None:
                    names[area_id] = pick(row[2], row[3], lang)
    except NoSnapshotError:
        return {}
    return names


# --- wall tokens ------------------------------------------------------------------------------------


def _tokens(form: TokenForm | None = None, error: str | None = None, status: int = 200) -> flask.Response:
    lang = _lang()
    tokens = _store().tokens(include_revoked=True)
    return _render("tokens", lang, status, tokens=tokens, add=form or TokenForm(), revoke=RevokeForm(), error=error)


def _tokens_add() -> flask.Response:
    lang = _lang()
    form = TokenForm()
    if _refused(form):
        return _tokens(form, t("admin.error", lang, reason=_form_errors(form)), 400)
    scope = (form.scope.data or "").strip() or None
    layout = form.layout.data or None
    if scope and unknown_areas(runtime.current().settings, [scope], runtime.current()):
        return _tokens(form, t("admin.unknown_areas", lang, areas=scope), 400)
    token, record = _store().make_token((form.label.data or "").strip(), scope, layout, actor=_me())
    query = urlencode({"token": token, **({"layout": layout} if layout else {}), **({"scope": scope} if scope else {})})
    url = f"{flask.request.host_url.rstrip('/')}/wall?{query}"
    return _secret(lang, t("admin.token_made", lang, token=record.token_id), t("admin.token_once", lang), token, url)


def _tokens_revoke() -> flask.Response:
    lang = _lang()
    form = RevokeForm()
    if _refused(form):
        return _tokens(error=t("admin.error", lang, reason=_form_errors(form)), status=400)
    try:
        _store().revoke(form.token_id.data, actor=_me())
    except UserError as exc:
        return _tokens(error=t("admin.error", lang, reason=str(exc)), status=400)
    return _done("/admin/tokens", lang, t("admin.token_revoked", lang, token=form.token_id.data))


# --- the audit log ----------------------------------------------------------------------------------


def _audit() -> flask.Response:
    lang = _lang()
    args = flask.request.args
    zone = runtime.current().settings.zone
    actor, action = args.get("actor", "").strip(), args.get("action", "").strip()
    start, end = _day(args.get("from")), _day(args.get("to"))
    since = _utc(start, zone) if start else None
    until = _utc(end + timedelta(days=1), zone) if end else None
    store = _store()
    rows = store.audit_log(AUDIT_ROWS + 1, actor=actor or None, action=action or None, since=since, until=until)
    actions = sorted(set(KNOWN_ACTIONS) | set(store.audit_actions()))
    return _render("audit", lang, rows=rows[:AUDIT_ROWS], more=len(rows) > AUDIT_ROWS, limit=AUDIT_ROWS,
                   actions=actions, filters={"actor": actor, "action": action, "from": start or "", "to": end or ""},
                   detail=_detail)


def _day(value: str | None) -> date | None:
    """A ``YYYY-MM-DD`` from the URL, or ``None`` (also for anything else: a filter left out, not an error)."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _utc(day: date, zone) -> str:
    """The start of ``day`` in the deployment's time zone, as the log stores times (ISO, UTC, seconds)."""
    return datetime.combine(day, time(), zone).astimezone(UTC).isoformat(timespec="seconds")


def _local_time(stamp: str | None) -> str:
    """A stored UTC time in the deployment's time zone (``—`` for none)."""
    if not stamp:
        return "—"
    return datetime.fromisoformat(stamp).astimezone(runtime.current().settings.zone).strftime("%Y-%m-%d %H:%M:%S")


def _detail(detail: dict) -> list[tuple[str, str]]:
    """An audit line's details as ``(key, value)`` pairs to read: lists joined, nothing shown as ``—``."""
    pairs = []
    for key, value in detail.items():
        if value is None or value == "" or value == []:
            text = "—"
        elif isinstance(value, list):
            text = ", ".join(map(str, value))
        elif isinstance(value, dict):
            text = ", ".join(f"{k}={v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)}"
                             for k, v in value.items())
        else:
            text = str(value)
        pairs.append((str(key), text))
    return pairs


_PAGE = (Path(__file__).resolve().parent / "admin.html").read_text(encoding="utf-8")
