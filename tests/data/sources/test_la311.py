"""The real LA MyLA311 extracts through the example mappings (conversion only: placement needs the geography)."""

from __future__ import annotations

import pandas as pd

from data.sources import convert, load_mapping, read_source
from tests.conftest import shared_data
from tests.data.sources.conftest import EXAMPLES


def _convert(name: str, mapping: str):
    path = shared_data("la311", name)
    m = load_mapping(EXAMPLES / "la311" / mapping)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    return raw, convert(read_source(m, [path]), m, "Asia/Shanghai")


def test_the_2020_extract_converts_every_row_with_statuses_and_local_times():
    raw, conv = _convert("la311_requests_2020_10k.csv", "source-2020.toml")
    ev = conv.events
    assert len(ev) == len(raw) == 10_000 and ev["case_id"].tolist() == raw["srnumber"].tolist()
    assert conv.unread_times == {}
    # Closed 9723 (18 without closeddate: open, the times win), Cancelled 244, Open 16, Pending 15, Referred Out 2
    assert ev["status"].value_counts().to_dict() == {"closed": 9705 + 2, "cancelled": 244, "received": 16 + 15 + 18}
    assert conv.status_changed == 18
    first = ev.iloc[0]
    assert first["received_at"] == "2020-01-01T00:05:00-08:00"  # local Los Angeles time, not the deployment's
    assert first["closed_at"] == "2020-01-02T08:43:00-08:00"
    received = pd.to_datetime(ev["received_at"], utc=True).dt.tz_convert("America/Los_Angeles")
    assert received.min() == pd.Timestamp("2020-01-01 00:02", tz="America/Los_Angeles")
    assert received.max() == pd.Timestamp("2020-01-03 14:22", tz="America/Los_Angeles")
    # coordinates where the export has them (9,989 rows), the council id (nc) otherwise
    has_xy = ev["lat"] != ""
    assert has_xy.sum() == 9_989
    assert ev.loc[has_xy, "microgrid_id"].eq("").all()
    assert ev.loc[~has_xy, "microgrid_id"].tolist() == raw.loc[~has_xy, "nc"].tolist()
    assert set(conv.categories.query("level == 2")["name"]) == set(raw["requesttype"])


def test_the_2017_extract_reads_its_am_pm_dates():
    raw, conv = _convert("MyLA311_Service_Request_Data_2017_Subset.csv", "source-2017.toml")
    ev = conv.events
    assert len(ev) == len(raw) == 9_999 and conv.unread_times == {}
    assert ev.iloc[0]["received_at"] == "2017-12-31T23:59:58-08:00"  # 12/31/2017 11:59:58 PM
    assert ev.iloc[0]["closed_at"] == "2018-04-09T09:18:35-07:00"  # daylight saving time in April
    assert ev["status"].value_counts().to_dict() == {"closed": 9_739 + 9, "cancelled": 246, "received": 5}


def test_the_example_sla_rules_name_categories_the_import_makes():
    from settings import load_settings

    raw, conv = _convert("la311_requests_2020_10k.csv", "source-2020.toml")
    rules = load_settings(env={}, toml_path=EXAMPLES / "la311" / "gridpulse.toml").sla_overrides
    assert set(rules) <= set(conv.categories.query("level == 2")["category_id"])
