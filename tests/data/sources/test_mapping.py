"""The source mapping's validation, the time parser and the status-vs-times rule, on tiny inputs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from data.sources import MappingError, load_mapping, parse_mapping, parse_times, slug, stage_status
from tests.data.sources.conftest import EXAMPLES

LA = ZoneInfo("America/Los_Angeles")
BASE = {"source": {"name": "t"}, "fields": {"case_id": "id", "received_at": "created", "category": "type"}}


@pytest.mark.parametrize(("change", "key"), [
    ({"source": {"name": "t", "kind": "soap"}}, "source.kind"),
    ({"source": {"name": "t", "encoding": "ebcdic"}}, "source.encoding"),
    ({"source": {"name": "t", "timezone": "Mars/Olympus"}}, "source.timezone"),
    ({"source": {"name": "t", "datetime_formats": ["dd/mm/yyyy"]}}, "source.datetime_formats"),
    ({"source": {}}, "source.name"),
    ({"fields": {"case_id": "id", "category": "type"}}, "fields.received_at"),
    ({"fields": {**BASE["fields"], "colour": "c"}}, "fields.colour"),
    ({"fields": {**BASE["fields"], "summary": {"constant": "x"}}}, "fields.summary"),
    ({"fields": {**BASE["fields"], "summary": {"template": "{a!r}"}}}, "fields.summary"),
    ({"status": {"map": {"Closed": "done"}}}, "status.map.'Closed'"),
    ({"status": {"default": "finished"}}, "status.default"),
    ({"urgency": {"map": {"P1": "high"}}}, "urgency.map.'P1'"),
    ({"placement": {"column": "nc"}}, "placement.column"),
    ({"sla": {"bulky-items": {"close_hours": 72}}}, "sla"),
    ({"extras": {}}, "extras"),
])
def test_a_wrong_key_is_named(change, key):
    with pytest.raises(MappingError, match=f": {key}: "):
        parse_mapping({**BASE, **change}, Path("m.toml"))


def test_every_example_mapping_is_valid():
    paths = sorted(EXAMPLES.glob("*/source*.toml"))
    assert len(paths) >= 4
    for p in paths:
        load_mapping(p)


def test_times_are_read_by_the_formats_in_order_in_the_sources_zone():
    values = pd.Series(["12/31/2017 11:59:58 PM", "2018-10-01 00:00:00", "10/1/2018 0:00", "2020-01-01T00:05:00.000",
                        "", "31.12.2017", "2020-03-08 02:30:00", "2020-11-01 01:30:00"])
    fmts = ("%m/%d/%Y %I:%M:%S %p", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M", "%Y-%m-%dT%H:%M:%S.%f")
    got, unread = parse_times(values, fmts, "America/Los_Angeles")
    assert got[0] == datetime(2017, 12, 31, 23, 59, 58, tzinfo=LA)
    assert got[1] == datetime(2018, 10, 1, tzinfo=LA) == got[2]
    assert got[3] == datetime(2020, 1, 1, 0, 5, tzinfo=LA)
    assert pd.isna(got[4]) and pd.isna(got[5])
    assert unread.tolist() == [False, False, False, False, False, True, False, False]  # an empty value is not unread
    assert got[6].isoformat() == "2020-03-08T03:30:00-07:00"  # does not exist: moved forward
    assert got[7].isoformat() == "2020-11-01T01:30:00-08:00"  # ambiguous: standard time
    aware, _ = parse_times(pd.Series(["2014-05-09T19:02:21-05:00"]), ("%Y-%m-%dT%H:%M:%S%z",), "Asia/Shanghai")
    assert aware[0].isoformat() == "2014-05-10T08:02:21+08:00"  # an offset is kept: the same instant


@pytest.mark.parametrize(("mapped", "accepted", "dispatched", "closed", "want"), [
    ("closed", False, False, True, "closed"),
    ("cancelled", False, False, True, "cancelled"),
    ("closed", False, False, False, "received"),  # Closed without a closing time: open
    ("closed", True, False, False, "accepted"),
    ("received", False, False, True, "closed"),  # Open with a closing time: closed
    ("accepted", False, False, False, "received"),
    ("in_progress", True, True, False, "in_progress"),
    ("received", True, True, False, "dispatched"),
    ("", False, False, False, "received"),
    ("Pending", False, False, False, "Pending"),  # an unmapped word stays: the ETL says bad_enum
])
def test_the_times_win(mapped, accepted, dispatched, closed, want):
    s = stage_status(pd.Series([mapped]), pd.Series([accepted]), pd.Series([dispatched]), pd.Series([closed]))
    assert s[0] == want


def test_slug():
    assert slug("Bulky Items") == "bulky-items"
    assert slug(" Metal/Household  Appliances ") == "metal-household-appliances"
    assert slug("噪音扰民") == "噪音扰民"
    assert slug("DOB - Conservation") == "dob-conservation"


def test_every_example_deployment_loads_as_settings():
    from settings import load_settings

    paths = sorted(EXAMPLES.glob("*/gridpulse.toml"))
    assert {p.parent.name for p in paths} == {"la311", "nyc311", "chicago-open311"}
    for p in paths:
        s = load_settings(env={}, toml_path=p)
        assert s.language == "en" and s.calendar.startswith("US-")
        assert all(k == slug(k) for k in s.sla_overrides)  # ids as the import makes them


def test_category_groups_from_a_constant_a_column_or_a_map():
    from data.sources import convert

    df = pd.DataFrame({"id": ["1", "2", "3"], "created": ["2020-01-01 08:00:00"] * 3,
                       "type": ["Bulky Items", "Graffiti", "Bulky Items"], "agency": ["BOS", "OCB", "BOS"]})
    const = parse_mapping({**BASE, "fields": {**BASE["fields"], "category_parent": {"const": "LA 311"}},
                           "category": {"parent_name": "MyLA311 requests"}})
    cats = convert(df, const, "UTC").categories.set_index("category_id")
    assert cats.loc["la-311", ["level", "name"]].tolist() == [1, "MyLA311 requests"]
    assert cats.loc[["bulky-items", "graffiti"], "parent_id"].tolist() == ["la-311", "la-311"]
    column = parse_mapping({**BASE, "fields": {**BASE["fields"], "category_parent": "agency"}})
    cats = convert(df, column, "UTC").categories.set_index("category_id")
    assert cats.loc[["bulky-items", "graffiti"], "parent_id"].tolist() == ["bos", "ocb"]
    assert cats.loc["bos", "name"] == "BOS"
    mapped = parse_mapping({**BASE, "category": {"parents": {"graffiti": "Clean streets"}}})
    cats = convert(df, mapped, "UTC").categories.set_index("category_id")
    assert cats.loc[["bulky-items", "graffiti"], "parent_id"].tolist() == ["t", "clean-streets"]
    assert sorted(cats.query("level == 1")["name"]) == ["Clean streets", "t"]
    with pytest.raises(MappingError, match="category.parents"):
        parse_mapping({**BASE, "category": {"parents": ["x"]}})
