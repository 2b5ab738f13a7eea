"""The user store and ``app.py users``: hashed passwords, roles scoped to areas, tokens shown once, an audit trail."""

from __future__ import annotations

import io
import os
import sqlite3
import stat
from pathlib import Path

import pytest

import app
from dashboard.auth.users import UserError, UserStore
from settings import Settings


@pytest.fixture
def store(tmp_path) -> UserStore:
    return UserStore.of(Settings(var_dir=tmp_path))


def test_passwords_are_argon2_hashes_and_the_file_is_private(store):
    store.add("ana", "correct horse battery", "district")
    assert store.verify("ana", "correct horse battery").role == "district"
    assert store.verify("ana", "correct horse batterY") is None
    assert store.verify("nobody", "correct horse battery") is None
    with sqlite3.connect(store.path) as db:
        stored = db.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600


@pytest.mark.parametrize("name, role, areas, message", [
    ("Ana", "district", (), "lower-case"), ("ana", "root", (), "role 'root'"), ("ana", "area", (), "at least one area"),
    ("ana", "district", ("S1",), "only role 'area' takes --areas"),
])
def test_bad_accounts_are_refused_with_the_reason(store, name, role, areas, message):
    with pytest.raises(UserError, match=message):
        store.add(name, "long enough password", role, areas)
    assert store.list() == []


def test_short_passwords_and_taken_names_are_refused(store):
    with pytest.raises(UserError, match="at least 12"):
        store.add("ana", "short", "district")
    store.add("ana", "long enough password", "area", ["S1", "S2"])
    with pytest.raises(UserError, match="exists already"):
        store.add("ana", "another long password", "district")
    assert store.get("ana").areas == ("S1", "S2")


def test_tokens_are_shown_once_kept_hashed_and_revoked_at_once(store):
    token, record = store.make_token("left wall", scope="S1", layout="map")
    with sqlite3.connect(store.path) as db:
        assert token not in str(db.execute("SELECT * FROM tokens").fetchall())
    assert record.last_used_at is None
    used = store.check_token(token)
    assert used.token_id == record.token_id and used.scope == "S1" and used.layout == "map" and used.last_used_at
    assert store.check_token(token + "x") is None
    store.revoke(record.token_id)
    assert store.check_token(token) is None
    with pytest.raises(UserError, match="no active token"):
        store.revoke(record.token_id)


def test_changes_are_audited(store):
    store.add("ana", "long enough password", "district")
    store.set_password("ana", "another long password")
    _, record = store.make_token("hall")
    store.remove("ana")
    actions = [a["action"] for a in store.audit_log()]
    assert actions == ["user.remove", "token.add", "user.passwd", "user.add"]
    assert store.audit_log()[1]["detail"]["token"] == record.token_id


def test_the_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GRIDPULSE_VAR_DIR", str(tmp_path / "var"))
    assert app.main(["users", "add", "ana", "--role", "district"]) == 0
    out = capsys.readouterr().out
    password = out.split("password (shown once): ")[1].strip()
    store = UserStore.of(Settings(var_dir=tmp_path / "var"))
    assert store.verify("ana", password) is not None and len(password) >= 12
    monkeypatch.setattr("sys.stdin", io.StringIO("typed in password\n"))
    assert app.main(["users", "passwd", "ana", "--password-stdin"]) == 0
    assert store.verify("ana", "typed in password") is not None and "typed in" not in capsys.readouterr().out
    assert app.main(["users", "token", "--label", "hall", "--layout", "map"]) == 0
    out = capsys.readouterr().out
    assert "/wall?token=" in out and "&layout=map" in out
    assert app.main(["users", "token", "--list"]) == 0
    assert "hall" in capsys.readouterr().out
    assert app.main(["users", "add", "bo", "--role", "area"]) == 1
    assert "at least one area" in capsys.readouterr().err
    assert app.main(["users", "remove", "nobody"]) == 1
    assert app.main(["users", "list"]) == 0
    assert capsys.readouterr().out.startswith("ana ")


def test_area_accounts_name_areas_the_warehouse_knows(fresh_demo, monkeypatch, capsys):
    monkeypatch.setenv("GRIDPULSE_VAR_DIR", str(fresh_demo.var_dir))
    assert app.main(["users", "add", "bo", "--role", "area", "--areas", "330108001,nowhere"]) == 2
    assert "argument --areas: unknown area 'nowhere'" in capsys.readouterr().err
    assert app.main(["users", "add", "bo", "--role", "area", "--areas", "330108001"]) == 0
    assert UserStore.of(fresh_demo).get("bo").areas == ("330108001",)


def test_the_audit_log_filters_by_actor_action_and_time(store):
    store.audit("ana", "export", {"rows": 3})
    store.audit("bo", "export", {"rows": 4})
    store.audit("ana", "signin.ok", {"user": "ana"})
    at = store.audit_log(1)[0]["at"]
    assert [r["detail"]["rows"] for r in store.audit_log(5, action="export")] == [4, 3]
    assert [r["action"] for r in store.audit_log(5, actor="ana")] == ["signin.ok", "export"]
    assert [r["actor"] for r in store.audit_log(5, actor="ana", action="export")] == ["ana"]
    assert store.audit_log(5, actor="ana'; --") == []
    assert store.audit_log(5, since=at, until=at) == []  # until is not included
    since, until = store.audit_log(5, since=at), store.audit_log(5, until=at)
    assert since[0]["action"] == "signin.ok" and len(since) + len(until) == 3  # the same second, or not
    assert len(store.audit_log()) == 3 and store.audit_actions() == ["export", "signin.ok"]


def test_a_full_disk_neither_stops_a_restart_nor_signs_a_wall_out(store, monkeypatch):
    token, record = store.make_token("left wall")
    real = sqlite3.connect

    class FullDisk:
        def __init__(self, db):
            object.__setattr__(self, "db", db)

        def __setattr__(self, name, value):  # row_factory
            setattr(self.db, name, value)

        def execute(self, sql, *args):
            if sql.lstrip().upper().startswith(("UPDATE", "PRAGMA JOURNAL", "CREATE", "ALTER")):
                raise sqlite3.OperationalError("database or disk is full")
            return self.db.execute(sql, *args)

        def executescript(self, sql):
            raise sqlite3.OperationalError("database or disk is full")

        def __getattr__(self, name):
            return getattr(self.db, name)

        def __enter__(self):
            self.db.__enter__()
            return self

        def __exit__(self, *exc):
            return self.db.__exit__(*exc)

    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: FullDisk(real(*a, **k)))
    again = UserStore(store.path)  # a worker restarted on the full disk still boots
    used = again.check_token(token)  # and the wall keeps its sign-in; its last use is noted later
    assert used is not None and used.token_id == record.token_id and used.last_used_at is None


def test_when_not_even_a_read_works_the_last_good_answers_keep_everyone_signed_in(store, monkeypatch, caplog):
    """The fault bench's full var/: opening a connection failed ("disk I/O error": SQLite recreates its -wal
    and -shm files after the last connection closed), and every signed-in request answered 500."""
    store.add("ana", "correct horse battery", "district")
    token, record = store.make_token("lobby")
    before = store.session_user("ana"), store.check_token(token)
    real = sqlite3.connect

    def broken(*args, **kwargs):
        if Path(args[0]) == store.path:
            raise sqlite3.OperationalError("disk I/O error")
        return real(*args, **kwargs)
    monkeypatch.setattr(sqlite3, "connect", broken)
    assert store.session_user("ana") == before[0]  # the account as last read
    assert store.active_token(record.token_id).token_id == record.token_id  # the wall stays signed in
    assert store.active_token(record.token_id).token_id == record.token_id
    assert caplog.text.count("cannot be read; serving the last good answers") == 1  # once, not per request
    with pytest.raises(sqlite3.OperationalError):
        store.session_user("someone-never-read")  # nothing to fall back on: the gate's error, as before
    monkeypatch.setattr(sqlite3, "connect", real)
    store.remove("ana")
    assert store.session_user("ana") is None  # once readable, the store's word again
