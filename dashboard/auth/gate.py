"""The sign-in gate: who a request is, what it may open, and the sign-in and sign-out pages.

One entry, :func:`install`, called by :func:`dashboard.app.create_app`. It adds to the app's Flask server:

* **Sessions** in Flask's signed cookie (``gridpulse_session``: HttpOnly, SameSite=Lax, Secure over
  HTTPS or with the ``cookie_secure`` setting), signed with the ``secret_key`` setting or a key
  generated once into ``var/secrets/secret_key`` (mode 0600). Flask-Login keeps the account in it.
  A sign-in lasts ``session_hours`` (checked on the server at every request, whatever the cookie
  says); a new password ends the sessions of the old one.
* **Wall tokens**: ``/wall?token=...`` signs the screen in as its token. The token is checked on
  every request (a revoked token stops the next refresh), never expires by time, and the page keeps
  the token in its address, so a screen that loses its cookie signs in again by reloading.
* **The gate** (a ``before_request`` function, after the host check): public paths (sign-in, health,
  static bundles and assets, and ``/metrics``, which admits by its own rule) pass; anything else needs an account or a token. Pages send the
  anonymous to ``/login?next=...``; callbacks, Dash's JSON, exports and downloads answer 401.
  A wall account or token opens the wall and its callbacks only; the analyst pages, exports and
  briefings need ``admin``, ``district`` or ``area``; ``/admin`` needs ``admin``. A POST from
  another origin is refused (403), the sign-in form's included. A wall's callback request is judged
  by the callback Dash will run (the body's ``output`` key and, for the page router, its first input). The principal is then set for the request
  (:func:`dashboard.auth.access.set_current`), and :meth:`dashboard.runtime.Runtime.scope` limits
  every query to its areas.
* **/login** and **/logout**: server-rendered forms with CSRF tokens (Flask-WTF), no script. Five
  failed sign-ins a minute for one name, or twenty from one address, lock it out for the rest of that
  minute (429); failures are counted in the audit log, which every worker shares.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import dash
import flask
import flask_login
from flask.sessions import SecureCookieSessionInterface
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from dashboard import telemetry
from dashboard.auth import access
from dashboard.auth.access import NOBODY, Principal
from dashboard.auth.users import UserStore
from dashboard.i18n import language, t
from settings import Settings

__all__ = ["auditor", "install", "secret_key", "store_of", "SESSION_COOKIE", "LOCK_FAILURES", "ADDRESS_FAILURES", "LOCK_SECONDS", "PUBLIC_PATHS",
           "PUBLIC_PREFIXES", "sign_out_token"]

SESSION_COOKIE = "gridpulse_session"
LOCK_FAILURES = 5  # failed sign-ins within LOCK_SECONDS for one name before a wait
# ... and from one address: higher, because one address is often a whole office (a NAT, a proxy), where 50
# analysts signing in on a busy morning have attempts in flight at once, each counted until proven right.
ADDRESS_FAILURES = 20
LOCK_SECONDS = 60
# Reachable without signing in: the sign-in page, health checks, the favicon, Dash's script bundles and
# the assets folder (no data in either), and /metrics, which admits by its own rule (metrics_allow, metrics_token:
# dashboard/telemetry.py), as a Prometheus server cannot sign in.
PUBLIC_PATHS = ("/login", "/healthz", "/readyz", "/_favicon.ico", "/favicon.ico", "/metrics")
PUBLIC_PREFIXES = ("/_dash-component-suites/", "/assets/")
_WALL_PATHS = ("/wall", "/_dash-layout", "/_dash-dependencies", "/logout")
_ANALYST_ONLY = ("/analyst/",)  # exports and briefing downloads
_EXPIRES = "gp_expires"  # session key: when a password sign-in ends (epoch seconds)
_STORE_KEY = "gridpulse_user_store"
_COOKIE_LIFETIME = timedelta(days=400)  # the longest a browser keeps a cookie; the server decides expiry


class _Login(flask_login.UserMixin):
    """What Flask-Login keeps per request: the session id and the :class:`Principal` it stands for."""

    def __init__(self, login_id: str, principal: Principal):
        self.id = login_id
        self.principal = principal


class _Sessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, Secure whenever the request came over HTTPS (or the setting says so)."""

    def __init__(self, always_secure: bool):
        self.always_secure = always_secure

    def get_cookie_secure(self, app: flask.Flask) -> bool:
        return self.always_secure or (flask.has_request_context() and flask.request.is_secure)


class SignInForm(FlaskForm):
    """The sign-in form (its CSRF token is checked by Flask-WTF)."""

    username = StringField(validators=[DataRequired(), Length(max=64)])
    password = PasswordField(validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()


class SignOutForm(FlaskForm):
    """Sign-out: a POST with a CSRF token (a link elsewhere cannot sign a person out)."""


def secret_key(settings: Settings) -> str:
    """The ``secret_key`` setting, or the key in ``var/secrets/secret_key`` (made once, mode 0600)."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.var_dir / "secrets" / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        tmp = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # atomic and refuses to replace: two workers starting together agree on one key
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def store_of(server: flask.Flask) -> UserStore:
    """The user store of the app behind ``server``."""
    return server.config[_STORE_KEY]


def auditor() -> Callable[[str, dict], None]:
    """``audit(action, detail)`` for this request's principal and address, usable after the request has ended.

    A streamed export writes its audit line when the stream ends, which may be after Flask has torn the
    request down: the store, the principal's name and the address are taken now.
    """
    store = store_of(flask.current_app)
    actor, address = access.current().name, _address()

    def audit(action: str, detail: dict) -> None:
        store.audit(actor, action, detail, address)

    return audit


def install(app: dash.Dash, settings: Settings) -> None:
    """Put the sign-in gate in front of every route of ``app`` (see the module's description)."""
    server = app.server
    server.secret_key = secret_key(settings)
    server.config.update(SESSION_COOKIE_NAME=SESSION_COOKIE, SESSION_COOKIE_HTTPONLY=True,
                         SESSION_COOKIE_SAMESITE="Lax", PERMANENT_SESSION_LIFETIME=_COOKIE_LIFETIME,
                         WTF_CSRF_TIME_LIMIT=None, WTF_CSRF_SSL_STRICT=False)
    server.config[_STORE_KEY] = store = UserStore.of(settings)
    server.session_interface = _Sessions(settings.cookie_secure)
    manager = flask_login.LoginManager()
    manager.init_app(server)
    manager.session_protection = None  # a wall's address may change (DHCP); the signature and expiry decide
    manager.user_loader(lambda login_id: _load(store, login_id))
    gate = _gate(store)
    server.before_request_funcs.setdefault(None, []).insert(0, gate)
    server.add_url_rule("/login", "gridpulse_login", lambda: _sign_in(store, settings), methods=["GET", "POST"])
    server.add_url_rule("/logout", "gridpulse_logout", lambda: _sign_out(store), methods=["POST"])


# --- who is asking -------------------------------------------------------------------------------


def _load(store: UserStore, login_id: str) -> _Login | None:
    """The account or token a session names, if it still may sign in (Flask-Login's user loader)."""
    kind, _, rest = login_id.partition(":")
    if kind == "t":
        token = store.active_token(rest)
        if token is None:
            return None
        principal = Principal(f"token:{token.token_id}", "wall", everywhere=token.scope is None,
                              areas=(token.scope,) if token.scope else (), layout=token.layout,
                              token_id=token.token_id)
        return _Login(login_id, principal)
    if kind != "u":
        return None
    username, _, key = rest.rpartition(":")
    found = store.session_user(username) if float(flask.session.get(_EXPIRES, 0)) >= time.time() else None
    if found is None or found[1] != key:  # expired, removed, or signed in with an old password
        return None
    user = found[0]
    return _Login(login_id, Principal(user.username, user.role, everywhere=user.role != "area", areas=user.areas))


def _principal() -> Principal:
    user = flask_login.current_user
    return user.principal if getattr(user, "is_authenticated", False) else NOBODY


def _password_session() -> bool:
    """Whether a person is signed in with a password here (a wall link from elsewhere must not replace that)."""
    principal = _principal()
    return principal.signed_in and principal.token_id is None


def _address() -> str | None:
    return flask.request.remote_addr


def _is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def _is_page(request: flask.Request) -> bool:
    """A page a person opens (sent to sign in), not a request made by a page's scripts (answered 401)."""
    return request.method == "GET" and not request.path.startswith(("/_dash-", "/analyst/", "/_reload"))


def _gate(store: UserStore):
    def gate() -> Any:
        request = flask.request
        path = request.path
        access.set_current(NOBODY)
        # Before the public paths: a sign-in posted from another site is refused too (login CSRF).
        if request.method == "POST" and not _same_origin(request):
            flask.abort(403, description="cross-origin request refused")
        if _is_public(path):
            return None
        if path.rstrip("/") == "/wall" and request.args.get("token") and not _password_session():
            refused = _token_sign_in(store, request.args["token"])
            if refused is not None:
                return refused
        principal = _principal()
        if not principal.signed_in:
            if _is_page(request):
                return flask.redirect(f"/login?{_next_query(request)}")
            flask.abort(401)
        if principal.wall_only and not _wall_request(request):
            if _is_page(request):
                return flask.redirect("/wall")
            flask.abort(403)
        if path.startswith(_ANALYST_ONLY) and not principal.analyst:  # today only walls; kept for any new role
            flask.abort(403)
        if path.startswith("/admin") and not principal.admin:
            flask.abort(403)
        access.set_current(principal)
        return None

    return gate


def _same_origin(request: flask.Request) -> bool:
    """A POST's ``Origin`` (when the browser sent one) names this host: no other site can post here."""
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc.lower() == request.host.lower()


def _next_query(request: flask.Request) -> str:
    return urlencode({"next": request.full_path.rstrip("?")})


def _wall_request(request: flask.Request) -> bool:
    """What a wall screen needs: its page, Dash's layout and dependencies, and the wall's own callbacks.

    A callback request is judged by the callback Dash will run: Dash picks it by the body's ``output``
    key and reads its arguments by position, so the key must name wall outputs only (the ``outputs``
    list beside it is checked too, flattened: the refresh's pattern outputs are lists), and the page
    router passes only when the path it will read, the first input, is ``/wall``.
    """
    if request.path in _WALL_PATHS:
        return True
    if request.path != "/_dash-update-component":
        return False
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("output"), str):
        return False
    kinds = _output_kinds(body["output"])
    listed = _flat(body.get("outputs"))
    if kinds is None or not kinds or any(not isinstance(o, dict) for o in listed):
        return False
    kinds += [_kind(o.get("id")) for o in listed]
    if all(isinstance(k, str) and k.startswith("wall-") for k in kinds):
        return True
    return set(kinds) <= _ROUTER_OUTPUTS and _router_path(body) == "/wall"


_ROUTER_OUTPUTS = {"_pages_content", "_pages_store"}


def _flat(value: Any) -> list:
    """A callback's ``outputs`` as one list (a single output is a dict, pattern outputs are nested lists)."""
    if isinstance(value, list):
        return [item for v in value for item in _flat(v)]
    return [] if value is None else [value]


def _kind(cid: Any) -> Any:
    """An output id's name: the id itself, or a pattern id's ``type``."""
    return cid.get("type") if isinstance(cid, dict) else cid


def _output_kinds(key: str) -> list | None:
    """The output ids' names in a callback key (``id.prop`` or ``..id.prop...id.prop..``); ``None`` if malformed."""
    parts = key[2:-2].split("...") if key.startswith("..") and key.endswith("..") else [key]
    kinds = []
    for part in parts:
        cid, dot, _prop = part.rpartition(".")
        if not dot or not cid:
            return None
        if cid.startswith("{"):
            try:
                cid = json.loads(cid)
            except ValueError:
                return None
        kinds.append(_kind(cid))
    return kinds


def _router_path(body: dict) -> str | None:
    """The path the page router will lay out: its first input (Dash reads inputs by position), if it is the path."""
    inputs = body.get("inputs")
    first = inputs[0] if isinstance(inputs, list) and inputs else None
    if isinstance(first, dict) and first.get("id") == "_pages_location" and first.get("property") == "pathname":
        return first.get("value")
    return None


def _token_sign_in(store: UserStore, token: str) -> flask.Response | None:
    """Sign this browser in as the wall token in the URL; a refusal page when it is not valid."""
    found = store.check_token(token[:200])
    if found is None:
        store.audit("(token)", "token.refused", {}, _address())
        telemetry.record_signin_failure("token_refused")
        flask_login.logout_user()
        lang = language(flask.request.args.get("lang"), "zh")
        return flask.make_response(flask.render_template_string(
            _PAGE, lang=lang, title=t("auth.token_refused.title", lang), message=t("auth.token_refused.body", lang),
            form=None, t=t), 401)
    login_id = f"t:{found.token_id}"
    user = flask_login.current_user
    if getattr(user, "id", None) != login_id:
        flask.session.clear()
        flask.session.permanent = True
        flask_login.login_user(_load(store, login_id))
        store.audit(f"token:{found.token_id}", "signin.token", {"label": found.label}, _address())
    return None


# --- the sign-in and sign-out pages --------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site only.

    Browsers drop tabs and line breaks from a URL and read a backslash as ``/``, so a tab or a
    backslash between two slashes leads to another site: any control character or backslash, and
    anything that parses with a scheme or a host, sends the person to ``/`` instead.
    """
    if not target or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target) or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc:
        return "/"
    return target


def _sign_in(store: UserStore, settings: Settings) -> Any:
    lang = language(flask.request.args.get("lang"), settings.language)
    form = SignInForm()
    if flask.request.method == "GET":
        form.next.data = flask.request.args.get("next", "")
        return _page(form, lang)
    if not form.validate_on_submit():  # a missing or wrong CSRF token, an empty field
        status = 400 if form.csrf_token.errors else 401
        key = "auth.csrf" if form.csrf_token.errors else "auth.missing"
        telemetry.record_signin_failure("bad_form")
        return _page(form, lang, t(key, lang), status)
    username = form.username.data.strip().lower()
    address = _address()
    since = (datetime.now(UTC) - timedelta(seconds=LOCK_SECONDS)).isoformat(timespec="seconds")
    attempt, oldest = store.begin_sign_in(username, address, since, LOCK_FAILURES, ADDRESS_FAILURES)  # counted as failed until right
    if attempt is None:
        wait = LOCK_SECONDS
        if oldest:
            wait = max(1, int(LOCK_SECONDS - (datetime.now(UTC) - datetime.fromisoformat(oldest)).total_seconds()) + 1)
        store.audit(username, "signin.locked", {"user": username}, address)
        telemetry.record_signin_failure("locked")
        response = _page(form, lang, t("auth.locked", lang, seconds=wait), 429)
        response.headers["Retry-After"] = str(wait)
        return response
    user = store.verify(username, form.password.data)
    if user is None:
        telemetry.record_signin_failure("wrong_password")
        return _page(form, lang, t("auth.wrong", lang), 401)
    next_url = _safe_next(form.next.data)
    flask.session.clear()
    flask.session.permanent = True
    flask.session[_EXPIRES] = time.time() + settings.session_hours * 3600
    flask_login.login_user(_load(store, f"u:{user.username}:{store.session_key(user.username)}"))
    store.sign_in_succeeded(attempt, {"user": user.username, "role": user.role})
    if user.role == "wall" and not next_url.startswith("/wall"):
        next_url = "/wall"
    return flask.redirect(next_url)


def _sign_out(store: UserStore) -> Any:
    form = SignOutForm()
    if not form.validate_on_submit():
        flask.abort(400, description="missing or wrong CSRF token")
    principal = _principal()
    if principal.signed_in:
        store.audit(principal.name, "signout", {}, _address())
        if principal.token_id is None:
            store.end_sessions(principal.name)  # a copy of the cookie is worthless from now on
    flask_login.logout_user()
    flask.session.clear()
    return flask.redirect("/login")


def _page(form: FlaskForm | None, lang: str, error: str | None = None, status: int = 200) -> flask.Response:
    other = "en" if lang == "zh" else "zh"
    query = {"lang": other, **({"next": form.next.data} if form is not None and form.next.data else {})}
    html = flask.render_template_string(_PAGE, lang=lang, form=form, error=error, t=t,
                                        title=t("auth.title", lang), message=None,
                                        switch=f"/login?{urlencode(query)}", action=f"/login?lang={lang}")
    return flask.make_response(html, status)


def sign_out_token() -> str:
    """A CSRF token for a sign-out form on a page (the analyst pages' navigation)."""
    from flask_wtf.csrf import generate_csrf

    return generate_csrf()


_PAGE = (Path(__file__).resolve().parent / "signin.html").read_text(encoding="utf-8")
