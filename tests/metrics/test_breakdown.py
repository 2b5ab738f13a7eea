"""Cases received split by a key, this window and the last: counted again with pandas from the events table."""

from __future__ import annotations

import numpy as np
import pytest

from metrics.breakdown import received_by
from metrics.scope import Scope, Window

TZ = "Asia/Shanghai"


@pytest.mark.parametrize("key, by, column", [("7d", "category", "category_id"), ("today", "department", "department_id"),
                                             ("30d", "channel", "channel"), ("7d", "street", "street_id")])
def test_counts_equal_a_pandas_count_of_the_same_cases(demo, key, by, column):
    district = demo.areas.loc[demo.areas["level"] == "district", "area_id"].iloc[0]
    window = Window.named(key, demo.now, TZ)
    got = received_by(demo.cursor(), Scope(district, level="district"), window, demo.now, by, demo.settings)
    ev = demo.events
    rcv = ev["received_at"]
    now_w = ev[(rcv >= window.start) & (rcv < window.end)]
    prev = ev[(rcv >= window.start - window.step) & (rcv < window.end - window.step)]
    want = now_w.groupby(column).size()
    assert dict(zip(got["key"], got["cases"], strict=True)) == {str(k): int(v) for k, v in want.items()}
    want_prev = prev.groupby(column).size()
    assert dict(zip(got["key"], got["previous"], strict=True)) == {k: int(want_prev.get(k, 0)) for k in got["key"]}
    still = now_w[(now_w["closed_at"].isna() | (now_w["closed_at"] >= window.end)) & (now_w["status"] != "cancelled")]
    assert dict(zip(got["key"], got["still_open"], strict=True)) == {
        k: int(still.groupby(column).size().get(k, 0)) for k in got["key"]}
    assert list(got["cases"]) == sorted(got["cases"], reverse=True)
    assert np.isclose(got["share_pct"].sum(), 100.0)


def test_filters_and_area_narrow_the_counts_and_limit_keeps_the_largest(demo):
    street = demo.areas.loc[demo.areas["level"] == "street", "area_id"].iloc[0]
    ev = demo.events
    window = Window.named("30d", demo.now, TZ)
    cat = ev["category_l1"].mode().iloc[0]
    got = received_by(demo.cursor(), Scope(street, categories=(cat,), urgency="normal"), window, demo.now,
                      "category", demo.settings, limit=3)
    mine = ev[(ev["street_id"] == street) & (ev["category_l1"] == cat) & (ev["urgency"] == "normal")
              & (ev["received_at"] >= window.start) & (ev["received_at"] < window.end)]
    want = mine.groupby("category_id").size().sort_values(ascending=False)
    assert len(got) == 3 and list(got["cases"]) == list(want.head(3))
    assert set(got["name"]) and not got["name"].isna().any()


def test_an_unknown_split_is_refused(demo):
    with pytest.raises(ValueError, match="by must be one of"):
        received_by(demo.cursor(), Scope("x"), Window.named("7d", demo.now, TZ), demo.now, "colour", demo.settings)
