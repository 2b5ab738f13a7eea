"""``python app.py users add|list|remove|passwd|token``: accounts and wall tokens from the command line.

A password is read from standard input with ``--password-stdin``; otherwise one is generated and
printed once (there is no default password anywhere). A token is printed once, with the wall URL
that uses it; only its hash is kept.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

from dashboard.auth.users import ROLES, UserError, UserStore

__all__ = ["add_parser", "cmd_users", "first_admin", "unknown_areas"]

_LAYOUTS = ("main", "map", "warnings")


def add_parser(sub) -> None:
    """The ``users`` command and its actions, on ``app.py``'s subparsers."""
    u = sub.add_parser("users", help="accounts (roles scoped to areas) and wall-screen tokens")
    act = u.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    a = act.add_parser("add", help="create an account (a password is generated unless --password-stdin)")
    a.add_argument("name")
    a.add_argument("--role", choices=ROLES, required=True)
    a.add_argument("--areas", default="", help="role area: the area ids it may see, comma-separated")
    a.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    act.add_parser("list", help="the accounts, their roles and areas")
    r = act.add_parser("remove", help="delete an account")
    r.add_argument("name")
    p = act.add_parser("passwd", help="set a new password (generated unless --password-stdin)")
    p.add_argument("name")
    p.add_argument("--password-stdin", action="store_true")
    t = act.add_parser("token", help="make a wall-screen token (never expires; revocable), list or revoke them")
    t.add_argument("--label", default="", help="where the screen is, e.g. 'command center, left wall'")
    t.add_argument("--scope", help="limit the wall to one area id")
    t.add_argument("--layout", choices=_LAYOUTS, help="limit the wall to one layout")
    t.add_argument("--list", action="store_true", help="list the tokens instead (with their last use)")
    t.add_argument("--revoke", metavar="TOKEN_ID", help="revoke a token at once")


def _password(args: argparse.Namespace) -> tuple[str, bool]:
    """(password, generated?)."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n"), False
    return secrets.token_urlsafe(15), True


def unknown_areas(settings, ids: list[str], runtime=None) -> list[str]:
    """The ids the current snapshot does not know (none checked without a snapshot).

    ``runtime``: the app's (the admin page passes it, so a request opens no reader of its own); the
    command line, which has none, opens one for this check.
    """
    from dashboard.runtime import Runtime
    from data.snapshot import NoSnapshotError
    from metrics.scope import UnknownAreaError, area_level

    rt = runtime or Runtime(settings)
    unknown = []
    try:
        with rt.snapshot() as (con, _):
            for area in ids:
                try:
                    area_level(con, area)
                except UnknownAreaError:
                    unknown.append(area)
    except NoSnapshotError:
        return []
    finally:
        if runtime is None:
            rt.close()
    return unknown


def cmd_users(settings, args: argparse.Namespace) -> int:
    """Run one ``users`` action; 0, or 1 with one ``error:`` line (2 for an unknown area)."""
    store = UserStore.of(settings)
    try:
        return _run(store, settings, args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _run(store: UserStore, settings, args: argparse.Namespace) -> int:
    action = args.users_command
    if action == "add":
        areas = [a.strip() for a in args.areas.split(",") if a.strip()]
        unknown = unknown_areas(settings, areas)
        if unknown:
            print(f"error: argument --areas: unknown area {', '.join(map(repr, unknown))}", file=sys.stderr)
            return 2
        password, generated = _password(args)
        user = store.add(args.name, password, args.role, areas)
        print(f"added {user.username} ({user.role}{': ' + ', '.join(user.areas) if user.areas else ''})")
        if generated:
            print(f"password (shown once): {password}")
    elif action == "list":
        for u in store.list():
            print(f"{u.username:<24} {u.role:<9} {','.join(u.areas) or '-':<30} created {u.created_at}")
    elif action == "remove":
        store.remove(args.name)
        print(f"removed {args.name}")
    elif action == "passwd":
        password, generated = _password(args)
        store.set_password(args.name, password)
        print(f"password of {args.name} changed" + (f" (shown once): {password}" if generated else ""))
    elif action == "token":
        return _token(store, settings, args)
    return 0


def _token(store: UserStore, settings, args: argparse.Namespace) -> int:
    if args.list:
        for t in store.tokens(include_revoked=True):
            state = f"revoked {t.revoked_at}" if t.revoked_at else f"last used {t.last_used_at or 'never'}"
            print(f"{t.token_id}  {t.label or '-':<30} scope {t.scope or 'all'}  layout {t.layout or 'any'}  {state}")
        return 0
    if args.revoke:
        store.revoke(args.revoke)
        print(f"revoked {args.revoke}")
        return 0
    if args.scope and unknown_areas(settings, [args.scope]):
        print(f"error: argument --scope: unknown area {args.scope!r}", file=sys.stderr)
        return 2
    token, record = store.make_token(args.label, (args.scope or "").strip() or None, args.layout)
    query = "&".join(f"{k}={v}" for k, v in (("scope", args.scope), ("layout", args.layout)) if v)
    print(f"token {record.token_id} (shown once): {token}")
    print(f"wall URL: http://{settings.host}:{settings.port}/wall?token={token}" + (f"&{query}" if query else ""))
    return 0


def first_admin(settings) -> tuple[str, str, Path] | None:
    """An ``admin`` account with a random password when the store has no account at all (a new demo).

    Returns:
        ``(name, password, the file holding the password)``, or ``None`` when accounts exist already.
        The password is also written to ``var/secrets/admin-password`` (mode 0600), so a demo started
        in the background can still be signed in to.
    """
    store = UserStore.of(settings)
    if store.list():
        return None
    password = secrets.token_urlsafe(12)
    store.add("admin", password, "admin", actor="demo")
    path = settings.var_dir / "secrets" / "admin-password"
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(password + "\n")
    return "admin", password, path
