"""Every string exists in both languages, with the same placeholders."""

from __future__ import annotations

import string

import pytest

from dashboard.i18n import TEXT, language, pick, t


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(TEXT))
def test_both_languages_and_same_placeholders(key):
    zh, en = TEXT[key]
    if key != "status.none" and key != "unit.cases":
        assert zh and en, key
    assert _fields(zh) == _fields(en), key


def test_t_formats_and_refuses_unknown_keys():
    assert t("wall.stale", "zh", minutes=12) == "数据已滞后 12 分钟"
    assert t("wall.stale", "en", minutes=12) == "Data 12 min old"
    with pytest.raises(KeyError):
        t("no.such.key", "zh")


@pytest.mark.parametrize(("value", "expected"), [
    ("en", "en"), ("EN-gb", "en"), ("zh-CN", "zh"), ("zh_TW", "zh"), ("fr", "zh"), (None, "zh"), ("", "zh"),
])
def test_language(value, expected):
    assert language(value) == expected


def test_language_default_and_pick():
    assert language("fr", default="en") == "en"
    assert pick("东湖街道", "Donghu Street", "en") == "Donghu Street"
    assert pick("东湖街道", "", "en") == "东湖街道"
    assert pick(None, "Donghu Street", "zh") == "Donghu Street"
