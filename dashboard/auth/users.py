"""The user store: accounts with a role and areas, wall tokens, and the audit log, in one SQLite file.

SQLite, not the warehouse: the warehouse is written by the ETL alone and read-only everywhere else,
while accounts change from the command line and the admin page, from any web worker. One
small file (``var/auth/users.sqlite3``, mode 0600) in WAL mode, so several processes read while one
writes. Passwords are hashed with argon2id (argon2-cffi's defaults); a wall token is 32 random bytes
shown once and stored as its SHA-256 (a random token needs no slow hash: nothing can be guessed).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

log = logging.getLogger(__name__)

__all__ = ["ROLES", "Token", "User", "UserError", "UserStore"]

ROLES = ("admin", "district", "area", "wall")
_NAME_OK = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-@")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username      TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'district', 'area', 'wall')),
    areas         TEXT NOT NULL DEFAULT '[]',   -- JSON list of area ids (role 'area')
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    session_gen   INTEGER NOT NULL DEFAULT 0    -- raised by a sign-out or a new password: ends its sessions
);
CREATE TABLE IF NOT EXISTS tokens (
    token_id     TEXT PRIMARY KEY,               -- shown in lists; the token itself is never stored
    token_hash   TEXT NOT NULL UNIQUE,
    label        TEXT NOT NULL DEFAULT '',
    scope        TEXT,                           -- an area id the wall is limited to, or NULL
    layout       TEXT,                           -- a wall layout ('main', 'map', 'warnings'), or NULL
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
CREATE TABLE IF NOT EXISTS audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    detail  TEXT NOT NULL DEFAULT '{}',          -- JSON
    address TEXT
);
CREATE INDEX IF NOT EXISTS audit_action_at ON audit (action, at);
"""
# Columns added after a store was first made (CREATE TABLE IF NOT EXISTS leaves an old table as it is).
_ADDED_COLUMNS = {"users": {"session_gen": "INTEGER NOT NULL DEFAULT 0"}}


class UserError(ValueError):
    """A request the store refuses (unknown user, bad role, a name taken); the message says which."""


class User(NamedTuple):
    """An account, without its password hash."""

    username: str
    role: str
    areas: tuple[str, ...]
    created_at: str
    updated_at: str


class Token(NamedTuple):
    """A wall token's record (the token itself is shown once, when made)."""

    token_id: str
    label: str
    scope: str | None
    layout: str | None
    created_at: str
    created_by: str
    last_used_at: str | None
    revoked_at: str | None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class UserStore:
    """Accounts, tokens and the audit log of one deployment (``<var_dir>/auth/users.sqlite3``)."""

    def __init__(self, path: Path):
        """Open (and on first use create, mode 0600) the store at ``path``."""
        self.path = Path(path)
        self._hasher = PasswordHasher()
        fresh = not self.path.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self._db() as db:
                db.execute("PRAGMA journal_mode=WAL")  # kept by the file: set once, not per connection
                for table, columns in _ADDED_COLUMNS.items():
                    have = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
                    for name, ddl in columns.items():
                        if have and name not in have:
                            db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {ddl}")
                db.executescript(_SCHEMA)
        except sqlite3.OperationalError:
            if fresh:
                raise
            # a full disk (or a read-only one): the store set up by an earlier start is used as it is,
            # so a worker restarted then still boots and walls keep their sign-in (docs/access.md)
            log.warning("account store %s could not be checked at start; using it as it is", self.path, exc_info=True)
        if fresh:
            os.chmod(self.path, 0o600)
        # The last good answer of each read the sign-in gate makes on every request (an account's session
        # row, a wall token's row), by key: served when the store cannot be read (a full disk: SQLite
        # must recreate its -wal and -shm files when a connection opens after the last one closed), so
        # a full var/ does not sign every analyst and wall out. Bounded by the number of accounts and tokens.
        self._last_read: dict[tuple[str, str], object] = {}
        self._warned_at = 0.0

    def _read(self, key: tuple[str, str], query):
        """``query()``, remembered under ``key``; the remembered answer when the store cannot be read."""
        try:
            value = query()
        except sqlite3.OperationalError:
            if key not in self._last_read:
                raise
            if time.monotonic() - self._warned_at >= 60:  # once a minute per process, not per request
                self._warned_at = time.monotonic()
                log.warning("account store %s cannot be read; serving the last good answers", self.path, exc_info=True)
            return self._last_read[key]
        self._last_read[key] = value
        return value

    @classmethod
    def of(cls, settings) -> UserStore:
        """The store of a deployment's settings."""
        return cls(settings.var_dir / "auth" / "users.sqlite3")

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            db.row_factory = sqlite3.Row
            with db:  # one transaction: committed on success, rolled back on an error
                yield db

    # --- users ----------------------------------------------------------------------------------
    @staticmethod
    def _check(username: str, role: str, areas: Sequence[str]) -> None:
        if not username or len(username) > 64 or set(username) - _NAME_OK:
            raise UserError(f"user name {username!r}: use 1-64 lower-case letters, digits and . _ - @")
        if role not in ROLES:
            raise UserError(f"role {role!r}: expected one of {', '.join(ROLES)}")
        if role == "area" and not areas:
            raise UserError("role 'area' needs at least one area (--areas ID[,ID...])")
        if role != "area" and areas:
            raise UserError(f"role {role!r} is not limited to areas; only role 'area' takes --areas")

    def add(self, username: str, password: str, role: str, areas: Sequence[str] = (), actor: str = "cli") -> User:
        """Create an account.

        Raises:
            UserError: a bad name, role or area list, a password under 12 characters, or the name is taken.
        """
        self._check(username, role, areas)
        self._check_password(password)
        now = _now()
        try:
            with self._db() as db:
                db.execute("INSERT INTO users (username, password_hash, role, areas, created_at, updated_at) "
                           "VALUES (?, ?, ?, ?, ?, ?)",
                           (username, self._hasher.hash(password), role, json.dumps(list(areas)), now, now))
                self._audit(db, actor, "user.add", {"user": username, "role": role, "areas": list(areas)})
        except sqlite3.IntegrityError:
            raise UserError(f"user {username!r} exists already") from None
        return self.get(username)

    @staticmethod
    def _check_password(password: str) -> None:
        if len(password) < 12:
            raise UserError("password: at least 12 characters")

    @staticmethod
    def _user(row: sqlite3.Row) -> User:
        return User(row["username"], row["role"], tuple(json.loads(row["areas"])), row["created_at"], row["updated_at"])

    def get(self, username: str) -> User:
        """One account.

        Raises:
            UserError: no such user.
        """
        with self._db() as db:
            row = db.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
        if row is None:
            raise UserError(f"no user {username!r}")
        return self._user(row)

    def list(self) -> list[User]:
        """Every account, by name."""
        with self._db() as db:
            rows = db.execute("SELECT username FROM users ORDER BY username").fetchall()
        return [self.get(r["username"]) for r in rows]

    def remove(self, username: str, actor: str = "cli") -> None:
        """Delete an account (its audit lines stay)."""
        with self._db() as db:
            if db.execute("DELETE FROM users WHERE username = ?", (username,)).rowcount == 0:
                raise UserError(f"no user {username!r}")
            self._audit(db, actor, "user.remove", {"user": username})

    def set_password(self, username: str, password: str, actor: str = "cli") -> None:
        """Replace an account's password."""
        self._check_password(password)
        with self._db() as db:
            changed = db.execute("UPDATE users SET password_hash = ?, updated_at = ?, session_gen = session_gen + 1 "
                                 "WHERE username = ?", (self._hasher.hash(password), _now(), username)).rowcount
            if changed == 0:
                raise UserError(f"no user {username!r}")
            self._audit(db, actor, "user.passwd", {"user": username})

    def verify(self, username: str, password: str) -> User | None:
        """The account when ``password`` is its password, else ``None`` (the same answer for an unknown name)."""
        with self._db() as db:
            row = db.execute("SELECT password_hash FROM users WHERE username = ?", (username,)).fetchone()
        if row is None:
            self._hasher.hash(password)  # as slow as a real check: the answer time tells nothing
            return None
        try:
            self._hasher.verify(row["password_hash"], password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if self._hasher.check_needs_rehash(row["password_hash"]):
            with self._db() as db:
                db.execute("UPDATE users SET password_hash = ? WHERE username = ?",
                           (self._hasher.hash(password), username))
        return self.get(username)

    def session_user(self, username: str) -> tuple[User, str] | None:
        """The account and its :meth:`session_key` in one read (the sign-in gate asks on every request)."""
        def query():
            with self._db() as db:
                row = db.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
            return None if row is None else (self._user(row), str(row["session_gen"]))
        return self._read(("user", username), query)

    def session_key(self, username: str) -> str | None:
        """What a session of the account holds to stay valid (``None``: no such user).

        The account's session generation: a sign-out or a new password raises it, which ends every
        session signed in before (on every browser: a sign-out signs the account out everywhere).
        """
        found = self.session_user(username)
        return None if found is None else found[1]

    def end_sessions(self, username: str) -> None:
        """End every session of the account (a sign-out)."""
        with self._db() as db:
            db.execute("UPDATE users SET session_gen = session_gen + 1 WHERE username = ?", (username,))

    def begin_sign_in(self, username: str, address: str | None, since: str, limit: int,
                      address_limit: int) -> tuple[int | None, str | None]:
        """Count recent failed sign-ins and, below the limits, record this attempt as failed until proven right.

        The failures counted are those since ``since`` for this name (``limit``) and from this address
        (``address_limit``); when either is reached nothing is recorded. Count and record are one write transaction (``BEGIN IMMEDIATE``), so attempts sent at the same
        moment from any worker are counted one after another: none of them passes the limit unseen.
        :meth:`sign_in_succeeded` turns the line into a success.

        Returns:
            ``(the attempt's audit line id, or None when locked; the oldest counted failure's time)``.
        """
        count = ("SELECT count(*) FILTER (WHERE json_extract(detail, '$.user') = ?), "
                 "count(*) FILTER (WHERE address = ?), min(at) FROM audit WHERE action = 'signin.fail' AND at >= ? "
                 "AND (json_extract(detail, '$.user') = ? OR address = ?)")
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            by_name, by_address, oldest = db.execute(count, (username, address, since, username, address)).fetchone()
            if (by_name or 0) >= limit or (by_address or 0) >= address_limit:
                return None, oldest
            line = db.execute("INSERT INTO audit (at, actor, action, detail, address) VALUES (?, ?, 'signin.fail', ?, ?)",
                              (_now(), username, json.dumps({"user": username}, ensure_ascii=False), address))
            return line.lastrowid, oldest

    def sign_in_succeeded(self, line_id: int, detail: dict) -> None:
        """The attempt of :meth:`begin_sign_in` was right: its audit line becomes ``signin.ok``."""
        with self._db() as db:
            db.execute("UPDATE audit SET action = 'signin.ok', detail = ? WHERE id = ?",
                       (json.dumps(detail, ensure_ascii=False), line_id))

    # --- wall tokens ----------------------------------------------------------------------------
    def make_token(self, label: str = "", scope: str | None = None, layout: str | None = None,
                   actor: str = "cli") -> tuple[str, Token]:
        """A new wall token: ``(the token, to show once, its record)``; it never expires by time."""
        scope, layout = (scope or "").strip() or None, (layout or "").strip() or None  # "" means no limit
        token = secrets.token_urlsafe(32)
        token_id = secrets.token_hex(4)
        now = _now()
        with self._db() as db:
            db.execute("INSERT INTO tokens (token_id, token_hash, label, scope, layout, created_at, created_by) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", (token_id, _digest(token), label, scope, layout, now, actor))
            self._audit(db, actor, "token.add", {"token": token_id, "label": label, "scope": scope, "layout": layout})
        return token, self.tokens(include_revoked=True, token_id=token_id)[0]

    def tokens(self, include_revoked: bool = False, token_id: str | None = None) -> list[Token]:
        """The tokens' records, newest first."""
        sql = "SELECT * FROM tokens WHERE (? OR revoked_at IS NULL) AND (? IS NULL OR token_id = ?) " \
              "ORDER BY created_at DESC, token_id"
        with self._db() as db:
            rows = db.execute(sql, (include_revoked, token_id, token_id)).fetchall()
        return [Token(r["token_id"], r["label"], r["scope"], r["layout"], r["created_at"], r["created_by"],
                      r["last_used_at"], r["revoked_at"]) for r in rows]

    def revoke(self, token_id: str, actor: str = "cli") -> None:
        """Revoke a token at once (a wall using it is asked to sign in at its next request)."""
        with self._db() as db:
            if db.execute("UPDATE tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
                          (_now(), token_id)).rowcount == 0:
                raise UserError(f"no active token {token_id!r}")
            self._audit(db, actor, "token.revoke", {"token": token_id})

    def check_token(self, token: str) -> Token | None:
        """The token's record when it is valid (its use noted as by :meth:`active_token`), else ``None``."""
        with self._db() as db:
            row = db.execute("SELECT token_id FROM tokens WHERE token_hash = ? AND revoked_at IS NULL",
                             (_digest(token),)).fetchone()
        return None if row is None else self.active_token(row["token_id"])

    def active_token(self, token_id: str, touch_after: int = 60) -> Token | None:
        """The token ``token_id`` unless revoked (a wall's every request asks).

        Its last use is noted at most once a ``touch_after`` seconds, so a wall's refreshes do not
        write on every tick.
        """
        now = datetime.now(UTC)

        def query():
            with self._db() as db:
                found = db.execute("SELECT * FROM tokens WHERE token_id = ? AND revoked_at IS NULL", (token_id,)).fetchone()
            return None if found is None else dict(found)
        row = self._read(("token", token_id), query)
        if row is None:
            return None
        last = row["last_used_at"]
        if last is None or (now - datetime.fromisoformat(last)).total_seconds() >= touch_after:
            try:
                with self._db() as db:
                    db.execute("UPDATE tokens SET last_used_at = ? WHERE token_id = ?",
                               (now.isoformat(timespec="seconds"), token_id))
                last = now.isoformat(timespec="seconds")
            except sqlite3.OperationalError:  # a full disk: the wall keeps its sign-in, the note waits
                log.warning("could not note the use of wall token %s", token_id, exc_info=True)
            row["last_used_at"] = now.isoformat(timespec="seconds")  # the next try after touch_after, not next tick
        return Token(row["token_id"], row["label"], row["scope"], row["layout"], row["created_at"], row["created_by"],
                     last, row["revoked_at"])

    # --- audit ----------------------------------------------------------------------------------
    @staticmethod
    def _audit(db: sqlite3.Connection, actor: str, action: str, detail: dict, address: str | None = None) -> None:
        db.execute("INSERT INTO audit (at, actor, action, detail, address) VALUES (?, ?, ?, ?, ?)",
                   (_now(), actor, action, json.dumps(detail, ensure_ascii=False), address))

    def audit(self, actor: str, action: str, detail: dict | None = None, address: str | None = None) -> None:
        """Record one event (a sign-in, an export, a download ...)."""
        with self._db() as db:
            self._audit(db, actor, action, detail or {}, address)

    def audit_log(self, limit: int = 100, actor: str | None = None, action: str | None = None,
                  since: str | None = None, until: str | None = None) -> list[dict]:
        """The newest ``limit`` audit lines, newest first, optionally only those that match every filter given.

        Args:
            limit: at most this many lines.
            actor: only this actor's lines (exact name, e.g. ``ana`` or ``token:1a2b3c4d``).
            action: only this action (``signin.fail``, ``user.add`` ...).
            since: only lines at or after this time (ISO 8601 in UTC, as the lines are stored).
            until: only lines before this time (ISO 8601 in UTC; not included).
        """
        sql = ("SELECT * FROM audit WHERE (? IS NULL OR actor = ?) AND (? IS NULL OR action = ?) "
               "AND (? IS NULL OR at >= ?) AND (? IS NULL OR at < ?) ORDER BY id DESC LIMIT ?")
        with self._db() as db:
            rows = db.execute(sql, (actor, actor, action, action, since, since, until, until, limit)).fetchall()
        return [{**dict(r), "detail": json.loads(r["detail"])} for r in rows]

    def audit_actions(self) -> list[str]:
        """Every action the audit log holds, sorted (the admin page's filter offers them)."""
        with self._db() as db:
            return [r["action"] for r in db.execute("SELECT DISTINCT action FROM audit ORDER BY action")]
