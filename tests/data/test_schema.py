"""Schema: DDL is idempotent and the data dictionary documents every column."""

import re
from pathlib import Path

from data.warehouse import TABLES, apply_schema, connect

DICTIONARY = Path(__file__).resolve().parents[2] / "docs" / "data-dictionary.md"


def _columns(con):
    rows = con.execute("SELECT table_name, column_name FROM information_schema.columns").fetchall()
    out = {}
    for table, column in rows:
        out.setdefault(table, set()).add(column)
    return out


def test_ddl_applies_twice_and_creates_every_table():
    con = connect(":memory:", "Asia/Shanghai")
    apply_schema(con)
    apply_schema(con)
    assert set(_columns(con)) == set(TABLES)


ACCOUNTS = "## Accounts ("  # the heading where the warehouse's tables end


def _documented(text: str) -> dict[str, set[str]]:
    """The tables and columns a part of the dictionary lists."""
    documented: dict[str, set[str]] = {}
    table = None
    for line in text.splitlines():
        if line.startswith("## "):  # another part of the dictionary (files under var/ ...): no table of this one
            table = None
        elif m := re.match(r"^### `(\w+)`", line):
            table = m.group(1)
            documented[table] = set()
        elif table and (m := re.match(r"^\| `(\w+)` \|", line)):
            documented[table].add(m.group(1))
        elif table and (m := re.match(r"^Columns: those of `(\w+)`\.$", line)):
            documented[table] |= documented[m.group(1)]
    return documented


def test_data_dictionary_lists_every_column_and_nothing_else():
    con = connect(":memory:", "Asia/Shanghai")
    apply_schema(con)
    warehouse, _, _ = DICTIONARY.read_text(encoding="utf-8").partition(ACCOUNTS)
    documented = _documented(warehouse)
    actual = _columns(con)
    assert set(documented) == set(actual), "tables in the dictionary differ from the schema"
    for name, cols in actual.items():
        assert documented[name] == cols, f"{name}: undocumented {cols - documented[name]}, stale {documented[name] - cols}"


def test_no_personal_data_columns():
    con = connect(":memory:", "Asia/Shanghai")
    apply_schema(con)
    forbidden = re.compile(r"(^|_)(name_zh_person|full_name|person_name|phone|mobile|id_number|national_id|id_card)")
    for table, cols in _columns(con).items():
        for col in cols:
            assert not forbidden.search(col), f"{table}.{col} looks like personal data"


def test_an_older_warehouse_gets_the_repeat_flags_and_new_marts_when_the_schema_is_applied():
    con = connect(":memory:", "Asia/Shanghai")
    apply_schema(con)
    cols = "case_id, channel, category_id, category_l1, urgency, route, department_id, needs_dispatch, " \
           "microgrid_id, grid_id, community_id, street_id, received_at, closed_at, status, updated_at"
    for case_id, received, closed in (("first", "2026-11-20 10:00+08", "2026-11-25 11:00+08"),
                                      ("again", "2026-11-25 10:00+08", None)):
        con.execute(f"INSERT INTO events ({cols}) VALUES (?, 'qr', 'ENV-01', 'ENV', 'normal', 'auto', 'D', false, "
                    "'m', 'g', 'c', 's', ?::TIMESTAMPTZ, ?::TIMESTAMPTZ, 'closed', now())",
                    [case_id, received, closed])
    # a warehouse from before the flag and the mart existed
    con.execute("DROP TABLE mart_open_cases")
    con.execute("ALTER TABLE events DROP COLUMN repeat_7d")
    apply_schema(con)
    assert con.execute("SELECT case_id, repeat_7d FROM events ORDER BY received_at").fetchall() == [
        ("first", False), ("again", True)]
    assert con.execute("SELECT case_id, repeat_7d FROM mart_open_cases").fetchall() == [("again", True)]
    assert con.execute("SELECT kind, note FROM etl_runs").fetchall() == [
        ("upgrade", "events.repeat_7d added; mart_open_cases added and filled")]
    assert apply_schema(con) == []  # an up-to-date warehouse is left alone
    assert con.execute("SELECT count(*) FROM mart_open_cases").fetchall() == [(1,)]
    assert con.execute("SELECT count(*) FROM etl_runs").fetchall() == [(1,)]


def test_data_dictionary_lists_the_account_store_as_it_is(tmp_path):
    import sqlite3

    from dashboard.auth.users import UserStore

    store = UserStore(tmp_path / "users.sqlite3")
    _, _, accounts = DICTIONARY.read_text(encoding="utf-8").partition(ACCOUNTS)
    with sqlite3.connect(store.path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                           "AND name NOT LIKE 'sqlite_%'")]
        actual = {t: {r[1] for r in db.execute(f"PRAGMA table_info({t})")} for t in tables}
    assert _documented(accounts) == actual
