"""Demo data: a year of realistic cases and the people, housing, enterprises and assets around them.

Everything is vectorised with numpy and deterministic for a seed. Events are made in chunks of
whole local days (about 400 000 cases a chunk) and appended in time order, so memory stays flat
at 10 million cases and DuckDB's zone maps on ``received_at`` stay tight.

The model, in words (numbers are in the constants below and in :mod:`data.demo.catalogue`):

* volume: an hourly intensity = daily level x weekday factor x holiday factor x diurnal profile;
  the year's total is split over hours by a multinomial draw;
* category: monthly seasonality per category (construction noise in spring and autumn, flooding
  in the plum-rain season, e-bike charging fires in winter ...);
* place: micro-grids weighted by residents (plus area for empty land), by how much the category
  likes the land use, and by persistent hotspots; transient hotspots add bursts of one category in
  one micro-grid for hours to days, and one is running at "now" so the wall has a surge to show;
* lifecycle: long-tailed (log-normal) acceptance, dispatch and closure times per category,
  department and handling route, slower at night; cases are cut at "now", so the open backlog and
  every open stage exist exactly as they would in a live system.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from data import enums, meta
from data.demo import catalogue as cat
from data.demo.geography import build_areas, level_rows
from data.geography import areas_table
from data.marts import refresh_all
from data.snapshot import SnapshotInfo, publish
from data.warehouse import apply_schema, connect

__all__ = ["CASE_ID_PREFIX", "DemoSpec", "build_demo", "generate_events", "interior_points", "EVENT_COLUMNS"]

log = logging.getLogger(__name__)

# Every case id the demo mints starts with this (``BJ`` + local date + a 6-digit sequence here, ``S`` + 7
# digits in the live simulator); build_demo records it in ``warehouse_meta`` and the simulator reads it
# from there, so nothing outside data/demo/ needs to know it.
CASE_ID_PREFIX = "BJ"

EVENT_COLUMNS = (
    "case_id", "channel", "category_id", "category_l1", "urgency", "route", "department_id", "needs_dispatch",
    "summary", "microgrid_id", "grid_id", "community_id", "street_id", "lon", "lat", "received_at",
    "accepted_at", "dispatched_at", "closed_at", "status", "satisfaction", "updated_at",
)

# Share of the day's cases in each local hour (0..23): quiet at night, peaks mid-morning and early
# afternoon, a smaller evening peak from residents scanning QR codes after work.
DIURNAL = np.array([0.8, 0.5, 0.35, 0.3, 0.3, 0.5, 1.2, 2.6, 4.6, 6.4, 7.0, 6.4,
                     5.0, 5.6, 6.4, 6.6, 6.2, 5.6, 5.0, 5.2, 5.0, 3.8, 2.4, 1.4])
WEEKDAY = np.array([1.08, 1.05, 1.04, 1.03, 1.0, 0.82, 0.78])  # Mon..Sun
_HOLIDAY_FACTOR = 0.7  # statutory holidays: fewer reports
# Channel mix per top-level category: qr, hotline, patrol, camera, other.
CHANNEL_MIX = {
    "CITY": (0.30, 0.15, 0.30, 0.22, 0.03), "ENV": (0.45, 0.35, 0.12, 0.05, 0.03),
    "CONS": (0.35, 0.30, 0.25, 0.07, 0.03), "TRAF": (0.30, 0.15, 0.20, 0.32, 0.03),
    "SAFE": (0.30, 0.30, 0.25, 0.12, 0.03), "WATER": (0.30, 0.35, 0.20, 0.12, 0.03),
    "MKT": (0.40, 0.50, 0.06, 0.01, 0.03), "ORDER": (0.35, 0.40, 0.20, 0.02, 0.03),
    "LIFE": (0.40, 0.45, 0.10, 0.02, 0.03), "PROP": (0.50, 0.40, 0.07, 0.00, 0.03),
}
# Categories handled by the high-frequency "one thing" flow (fast, standard procedure).
ONE_THING = {"CITY-01", "TRAF-01", "TRAF-02", "PROP-01", "LIFE-01", "CITY-02"}
_CANCEL_SHARE = 0.02  # duplicates and withdrawn reports
_RATED_SHARE = 0.65  # closed cases whose reporter gives a satisfaction score
_CHUNK_EVENTS = 400_000
_POINTS_PER_MICROGRID = 128


@dataclass(frozen=True)
class DemoSpec:
    """Size and shape of a demo warehouse."""

    events: int = 300_000
    days: int = 365
    seed: int = 20261129
    boundary: Path | None = None
    now: datetime | None = None  # default: the wall clock, so the demo ends "now"
    people: int | None = None  # default: one row per resident
    housing_per_resident: float = 0.4
    enterprises: int = 40_000
    cameras: int = 14_000


# --------------------------------------------------------------------------------------------
# Geography-derived lookup arrays
# --------------------------------------------------------------------------------------------
@dataclass
class _Places:
    ids: np.ndarray  # micro-grid ids
    grid: np.ndarray
    community: np.ndarray
    street: np.ndarray
    residents: np.ndarray
    land: np.ndarray  # land use per micro-grid
    area_km2: np.ndarray
    points: np.ndarray  # (n_mg, K, 2) lon/lat pool of interior points
    names: np.ndarray


def _places(areas: pd.DataFrame, rng: np.random.Generator) -> _Places:
    mg = areas[areas["level"] == "microgrid"].reset_index(drop=True)
    return _Places(
        ids=mg["area_id"].to_numpy(str), grid=mg["grid_id"].to_numpy(str),
        community=mg["community_id"].to_numpy(str), street=mg["street_id"].to_numpy(str),
        residents=mg["residents"].to_numpy(float), land=mg["land_use"].to_numpy(str),
        area_km2=mg["area_km2"].to_numpy(float), points=interior_points(mg.geometry.to_numpy(), rng),
        names=mg["name"].to_numpy(str),
    )


def interior_points(polys: np.ndarray, rng: np.random.Generator, k: int = _POINTS_PER_MICROGRID) -> np.ndarray:
    """``k`` random points inside each polygon, by vectorised rejection sampling on the bounds."""
    bounds = shapely.bounds(polys)
    out = np.empty((len(polys), k, 2))
    filled = np.zeros(len(polys), dtype=int)
    shapely.prepare(polys)
    while (todo := np.flatnonzero(filled < k)).size:
        tries = 4 * k
        b = bounds[todo]
        x = b[:, 0, None] + rng.random((len(todo), tries)) * (b[:, 2] - b[:, 0])[:, None]
        y = b[:, 1, None] + rng.random((len(todo), tries)) * (b[:, 3] - b[:, 1])[:, None]
        inside = shapely.contains_xy(np.repeat(polys[todo], tries).reshape(len(todo), tries), x, y)
        for row, poly_i in enumerate(todo):
            hit = np.flatnonzero(inside[row])[: k - filled[poly_i]]
            n = len(hit)
            out[poly_i, filled[poly_i]:filled[poly_i] + n, 0] = x[row, hit]
            out[poly_i, filled[poly_i]:filled[poly_i] + n, 1] = y[row, hit]
            filled[poly_i] += n
    return out


def _place_weights(places: _Places, rng: np.random.Generator) -> np.ndarray:
    """Weight of each micro-grid for each category: (n_categories, n_microgrids), rows sum to 1.

    Residents drive most reports; empty land still gets some (2,000 resident-equivalents per
    km²). A category is 2.5x likelier on land uses it favours. Persistent hotspots: 40 (category,
    micro-grid) pairs at 4-8x (a night market, a building site, an old estate's lifts) and 15
    micro-grids at 2.5x for everything (transit hubs, dense old estates).
    """
    base = places.residents + 2000.0 * places.area_km2
    w = np.tile(base, (len(cat.CATEGORIES), 1))
    for ci, c in enumerate(cat.CATEGORIES):
        if c.land:
            w[ci, np.isin(places.land, c.land)] *= 2.5
    n_mg = len(places.ids)
    pairs_c = rng.integers(0, len(cat.CATEGORIES), 40)
    pairs_m = rng.choice(n_mg, 40, replace=False, p=base / base.sum())
    w[pairs_c, pairs_m] *= rng.uniform(4, 8, 40)
    hubs = rng.choice(n_mg, 15, replace=False, p=base / base.sum())
    w[:, hubs] *= 2.5
    return w / w.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------------------------
def _day_factors(days: pd.DatetimeIndex) -> np.ndarray:
    """Relative volume of each local day.

    Working days by weekday, weekends lower, statutory holidays lowest; a make-up working weekend
    (调休) counts as a working day. Years the chinese_calendar package does not cover fall back to
    plain weekends.
    """
    import chinese_calendar

    out = np.empty(len(days))
    for i, d in enumerate(days.date):
        try:
            workday = chinese_calendar.is_workday(d)
            named_holiday = not workday and chinese_calendar.get_holiday_detail(d)[1] is not None
        except NotImplementedError:
            workday, named_holiday = d.weekday() < 5, False
        if workday:
            out[i] = WEEKDAY[min(d.weekday(), 4)]
        else:
            out[i] = _HOLIDAY_FACTOR if named_holiday else WEEKDAY[d.weekday()] if d.weekday() >= 5 else 0.8
    return out


def _hour_bins(now: datetime, days: int, tz: str) -> pd.DatetimeIndex:
    """Local hour starts covering ``days`` whole days up to the hour containing ``now``."""
    end = pd.Timestamp(now).tz_convert(tz).floor("h")
    start = (end - pd.Timedelta(days=days)).floor("D")
    return pd.date_range(start, end, freq="h")


def _hour_weights(bins: pd.DatetimeIndex, now: datetime) -> np.ndarray:
    days = bins.floor("D")
    uniq = pd.DatetimeIndex(days.unique())
    factor = pd.Series(_day_factors(uniq), index=uniq)
    w = DIURNAL[bins.hour] * factor.reindex(days).to_numpy()
    # a slow upward trend over the year (more residents use the QR code): +15% across the window
    w = w * np.linspace(0.93, 1.07, len(bins))
    # the current hour is only partly over
    frac = (pd.Timestamp(now) - bins[-1]).total_seconds() / 3600
    w[-1] *= min(max(frac, 0.0), 1.0)
    return w / w.sum()


# --------------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Episode:
    """A transient hotspot: extra reports of one category in one micro-grid for a while."""

    microgrid: int
    category: int
    start: float  # epoch seconds
    hours: float
    extra: int


def _episodes(places: _Places, weights: np.ndarray, start: float, now: float, n_events: int,
              rng: np.random.Generator) -> list[_Episode]:
    """About one burst every 6 days over the window, scaled with volume, plus one ongoing at now.

    The ongoing one (construction noise in a busy micro-grid of the first street, 14 extra reports
    in the last 6 hours) is what a surge warning on the demo wall should find.
    """
    scale = max(n_events / 300_000, 1.0)
    n = max(int((now - start) / 86400 / 6), 1)
    cats = np.array([ci for ci, c in enumerate(cat.CATEGORIES) if c.parent_id in {"ENV", "CONS", "CITY", "WATER",
                                                                                  "TRAF", "PROP"}])
    out = []
    for _ in range(n):
        ci = int(rng.choice(cats))
        mi = int(rng.choice(len(places.ids), p=weights[ci]))
        # a burst lasts 4-96 h, and never longer than the history (a 3-day demo has no room for 96 h)
        hours = float(rng.uniform(4, max(4.0, min(96.0, (now - start) / 3600))))
        out.append(_Episode(mi, ci, float(rng.uniform(start, max(start, now - hours * 3600))), hours,
                            int(rng.integers(8, 40) * scale)))
    noise = next(i for i, c in enumerate(cat.CATEGORIES) if c.category_id == "ENV-01")
    first_street = np.flatnonzero(places.street == np.unique(places.street)[0])
    busiest = first_street[np.argmax(places.residents[first_street])]
    out.append(_Episode(int(busiest), noise, now - 6 * 3600, 6.0, int(14 * scale)))
    return out


def _lognormal(rng: np.random.Generator, median: np.ndarray | float, sigma: float, n: int) -> np.ndarray:
    return np.asarray(median) * np.exp(sigma * rng.standard_normal(n))


def _lifecycle(rng: np.random.Generator, t0: np.ndarray, local_hour: np.ndarray, ci: np.ndarray,
               channel: np.ndarray, urgent: np.ndarray, route: np.ndarray, dept_speed: np.ndarray,
               needs_dispatch: np.ndarray) -> dict[str, np.ndarray]:
    """Stage times in epoch seconds (NaN where a stage never happens), before cutting at now."""
    n = len(t0)
    night = (local_hour < 7) | (local_hour >= 22)
    # acceptance: median 18 s, a little slower with the night shift (fewer operators) and on the
    # hotline (a call takes longer to log)
    accept = _lognormal(rng, 18.0 * np.where(night, 1.3, 1.0) * np.where(channel == 1, 1.4, 1.0), 0.55, n)
    # dispatch after acceptance: median 80 s, slower at night and in slow departments
    dispatch = _lognormal(rng, 80.0 * np.where(night, 1.25, 1.0) * np.sqrt(dept_speed), 0.7, n)
    close_h = np.array([c.close_h for c in cat.CATEGORIES])[ci]
    route_f = np.select([route == 1, route == 2], [0.6, 2.2], 1.0)
    median_h = np.where(urgent, np.minimum(close_h * 0.25, 6.0), close_h) * dept_speed * route_f
    close = _lognormal(rng, median_h * 3600, 0.9, n)
    close = np.minimum(close, rng.uniform(15, 25, n) * 86400)  # supervisors force-close stale cases
    accepted = t0 + accept
    dispatched = np.where(needs_dispatch, accepted + dispatch, np.nan)
    closed = t0 + np.maximum(close, np.where(needs_dispatch, accept + dispatch, accept) + 60)
    cancelled = rng.random(n) < _CANCEL_SHARE
    cancel_at = accepted + rng.uniform(60, 6 * 3600, n)
    closed = np.where(cancelled, cancel_at, closed)
    dispatched = np.where(cancelled & (dispatched > cancel_at), np.nan, dispatched)
    return {"accepted": accepted, "dispatched": dispatched, "closed": closed, "cancelled": cancelled}


def _hold_open_stages(life: dict[str, np.ndarray], needs_dispatch: np.ndarray, t0: np.ndarray,
                      now_s: float) -> None:
    """Make sure the demo has open cases in every stage at now, whatever the hour.

    At 6 a.m. the natural process may leave no case waiting for acceptance or freshly dispatched;
    the wall must still show every stage. The 12 latest cases that need a crew are held: 3 not yet
    accepted, 3 accepted and waiting for dispatch, 3 dispatched minutes ago, 3 long overdue
    for dispatch (the kind of case the early-warning ticker exists for).
    """
    candidates = needs_dispatch & ~life["cancelled"]
    latest = np.flatnonzero(candidates)[-9:]
    stuck = np.flatnonzero(candidates & (t0 < now_s - 900))[-3:]
    if len(latest) < 9 or len(stuck) < 3:
        return
    waiting, undispatched, fresh = latest[:3], latest[3:6], latest[6:9]
    life["accepted"][waiting] = now_s + 60
    life["dispatched"][np.concatenate([waiting, undispatched, stuck])] = now_s + 600
    life["dispatched"][fresh] = np.maximum(life["accepted"][fresh] + 30, now_s - 300)
    life["closed"][np.concatenate([latest, stuck])] = now_s + 86400


def generate_events(places: _Places, weights: np.ndarray, bins: pd.DatetimeIndex, hour_p: np.ndarray,
                    n_events: int, now: datetime, rng: np.random.Generator):
    """Yield pyarrow tables of events in time order, one per chunk of whole local days.

    Columns are those of the ``events`` table except ``case_id`` and ``summary``, which SQL builds
    at insert time, plus ``day_seq`` (the case's number within its local day).
    """
    now_s = pd.Timestamp(now).timestamp()
    counts = rng.multinomial(n_events, hour_p)
    bin_start = bins.as_unit("s").asi8.astype(float)  # epoch seconds (bins are tz-aware)
    local_day = np.asarray(bins.strftime("%Y%m%d").astype(int))
    episodes = _episodes(places, weights, bin_start[0], now_s, n_events, rng)
    cats = cat.CATEGORIES
    month_p = np.array([[c.share * c.season[m] for c in cats] for m in range(12)])
    month_cum = np.cumsum(month_p / month_p.sum(axis=1, keepdims=True), axis=1)
    urgent_share = np.array([c.urgent for c in cats])
    dispatch_share = np.array([c.dispatch for c in cats])
    top_ids = list(cat.TOP_CATEGORIES)
    chan_cum = np.cumsum(np.array([CHANNEL_MIX[c.parent_id] for c in cats]), axis=1)
    dept_ids = [d.department_id for d in cat.DEPARTMENTS]
    dept_speed_all = np.array([d.speed for d in cat.DEPARTMENTS])
    cat_dept = np.array([dept_ids.index(c.department_id) for c in cats])
    cat_dept_is_street = np.array([cat.DEPARTMENTS[i].kind == "street" for i in cat_dept])
    streets = np.unique(places.street)
    street_office = np.array([dept_ids.index(cat.STREET_OFFICES.get(s, "S-XX")) for s in streets])
    mg_street_idx = np.searchsorted(streets, places.street)
    one_thing = np.array([c.category_id in ONE_THING for c in cats])

    day_breaks = np.flatnonzero(np.diff(local_day)) + 1
    day_starts = np.concatenate([[0], day_breaks])
    cum_events = np.cumsum(counts)
    chunk_edges = [0]
    for ds in day_starts[1:]:
        if cum_events[ds - 1] - (cum_events[chunk_edges[-1] - 1] if chunk_edges[-1] else 0) >= _CHUNK_EVENTS:
            chunk_edges.append(ds)
    chunk_edges.append(len(bins))

    for lo, hi in zip(chunk_edges[:-1], chunk_edges[1:], strict=False):
        c_counts = counts[lo:hi]
        n = int(c_counts.sum())
        hour_idx = np.repeat(np.arange(lo, hi), c_counts)
        # the current hour is only partly over: draw its cases within [hour start, now)
        span = np.minimum(3600.0, now_s - bin_start[hour_idx])
        t0 = bin_start[hour_idx] + rng.random(n) * span
        month = bins.month.to_numpy()[hour_idx] - 1
        u = rng.random(n)
        ci = np.empty(n, dtype=np.int64)
        for m in np.unique(month):  # inverse CDF per month: no (n x categories) temporary
            sel = month == m
            ci[sel] = np.searchsorted(month_cum[m], u[sel], side="right")
        ci = np.minimum(ci, len(cats) - 1)
        mi = np.empty(n, dtype=np.int64)
        for c in range(len(cats)):
            sel = np.flatnonzero(ci == c)
            if sel.size:
                mi[sel] = rng.choice(len(places.ids), sel.size, p=weights[c])
        # transient hotspots falling in this chunk
        t_lo, t_hi = bin_start[lo], bin_start[hi - 1] + 3600
        extra = [e for e in episodes if t_lo <= e.start < t_hi]
        if extra:
            e_t = np.concatenate([e.start + rng.random(e.extra) * e.hours * 3600 for e in extra])
            e_t = np.minimum(e_t, now_s - 1)
            e_c = np.concatenate([np.full(e.extra, e.category) for e in extra])
            e_m = np.concatenate([np.full(e.extra, e.microgrid) for e in extra])
            t0, ci, mi = np.concatenate([t0, e_t]), np.concatenate([ci, e_c]), np.concatenate([mi, e_m])
            hour_idx = np.concatenate([hour_idx, np.minimum(np.searchsorted(bin_start, e_t, "right") - 1, hi - 1)])
            n = len(t0)
        order = np.argsort(t0, kind="stable")
        t0, ci, mi, hour_idx = t0[order], ci[order], mi[order], hour_idx[order]
        t0 = np.minimum(t0, now_s - 1)

        channel = (rng.random(n)[:, None] > chan_cum[ci]).sum(axis=1)
        channel = np.minimum(channel, len(cat.CHANNELS) - 1)
        urgent = rng.random(n) < urgent_share[ci]
        route = np.where(rng.random(n) < 0.07 + 0.05 * urgent, 2,
                         np.where(one_thing[ci] & (rng.random(n) < 0.7), 1, 0))
        # bureau categories: the bureau handles 70%, the case's street office the rest;
        # street-office categories go to the office of the case's own street
        own_street_office = street_office[mg_street_idx[mi]]
        dept = np.where(cat_dept_is_street[ci] | (rng.random(n) < 0.3), own_street_office, cat_dept[ci])
        needs_dispatch = rng.random(n) < dispatch_share[ci]
        local_hour = bins.hour.to_numpy()[hour_idx]
        life = _lifecycle(rng, t0, local_hour, ci, channel, urgent, route, dept_speed_all[dept], needs_dispatch)

        if hi == len(bins):
            _hold_open_stages(life, needs_dispatch, t0, now_s)
        # cut at now: stages after now have not happened yet
        acc = np.where(life["accepted"] <= now_s, life["accepted"], np.nan)
        dis = np.where(life["dispatched"] <= now_s, life["dispatched"], np.nan)
        clo = np.where(life["closed"] <= now_s, life["closed"], np.nan)
        cancelled = life["cancelled"] & ~np.isnan(clo)
        dis = np.where(np.isnan(acc), np.nan, dis)
        # the crew reports "on site" (in progress) a while after dispatch: median 20 min, long tail
        in_progress = ~np.isnan(dis) & (now_s - dis > _lognormal(rng, 1200.0, 0.6, n))
        status = np.select(
            [cancelled, ~np.isnan(clo), in_progress, ~np.isnan(dis), ~np.isnan(acc)],
            ["cancelled", "closed", "in_progress", "dispatched", "accepted"], "received")
        # satisfaction: most happy; late closures (over 3 days) rated lower
        rated = (status == "closed") & (rng.random(n) < _RATED_SHARE)
        late = (clo - t0) > 3 * 86400
        sat = np.where(late, rng.choice([1, 2, 3, 4, 5], n, p=[0.12, 0.13, 0.25, 0.3, 0.2]),
                       rng.choice([1, 2, 3, 4, 5], n, p=[0.02, 0.03, 0.08, 0.22, 0.65]))
        updated = np.fmax(np.fmax(np.fmax(t0, acc), dis), clo) + 1.0
        day = local_day[hour_idx]
        day_seq = np.arange(n) - np.searchsorted(day, day, "left") + 1
        pt = rng.integers(0, places.points.shape[1], n)

        def ts(sec: np.ndarray) -> pa.Array:
            us = np.where(np.isnan(sec), 0, sec * 1e6).astype("int64")
            return pa.array(us, type=pa.timestamp("us", tz="UTC"), mask=np.isnan(sec))

        def dict_arr(idx: np.ndarray, values) -> pa.Array:
            return pa.DictionaryArray.from_arrays(pa.array(idx.astype("int32")), pa.array(list(values)))

        yield pa.table({
            "day": pa.array(day.astype("int32")), "day_seq": pa.array(day_seq.astype("int32")),
            "channel": dict_arr(channel, cat.CHANNELS),
            "category_id": dict_arr(ci, [c.category_id for c in cats]),
            "category_l1": dict_arr(np.array([top_ids.index(c.parent_id) for c in cats])[ci], top_ids),
            "urgency": pa.array(np.where(urgent, "urgent", "normal")),
            "route": dict_arr(route, enums.ROUTES),
            "department_id": dict_arr(dept, dept_ids),
            "needs_dispatch": pa.array(needs_dispatch),
            "microgrid_id": dict_arr(mi, places.ids), "grid_id": dict_arr(mi, places.grid),
            "community_id": dict_arr(mi, places.community), "street_id": dict_arr(mi, places.street),
            "lon": pa.array(places.points[mi, pt, 0]), "lat": pa.array(places.points[mi, pt, 1]),
            "received_at": ts(t0), "accepted_at": ts(acc), "dispatched_at": ts(dis), "closed_at": ts(clo),
            "status": pa.array(status),
            "satisfaction": pa.array(sat.astype("int8"), mask=~rated),
            "updated_at": ts(updated),
        })


_INSERT_EVENTS = """
INSERT INTO events
SELECT $prefix || e.day::VARCHAR || lpad(e.day_seq::VARCHAR, 6, '0'),
       e.channel::VARCHAR, e.category_id::VARCHAR, e.category_l1::VARCHAR, e.urgency, e.route::VARCHAR,
       e.department_id::VARCHAR, e.needs_dispatch,
       CASE e.channel::VARCHAR WHEN 'camera' THEN '视频智能发现：' WHEN 'patrol' THEN '网格员巡查上报：'
            ELSE '群众反映：' END || c.name,
       e.microgrid_id::VARCHAR, e.grid_id::VARCHAR, e.community_id::VARCHAR, e.street_id::VARCHAR,
       e.lon, e.lat, e.received_at, e.accepted_at, e.dispatched_at, e.closed_at, e.status, e.satisfaction,
       e.updated_at, FALSE,  -- repeat_7d: set once every case is in (data.marts.refresh_repeats)
       NULL  -- due_at: the demo's cases follow the SLA rules
FROM chunk e JOIN categories c ON c.category_id = e.category_id::VARCHAR
ORDER BY e.received_at
"""


# --------------------------------------------------------------------------------------------
# People, housing, enterprises, assets
# --------------------------------------------------------------------------------------------
def _alloc(weights: np.ndarray, total: int, rng: np.random.Generator) -> np.ndarray:
    """Split ``total`` into integer counts proportional to ``weights`` (multinomial)."""
    return rng.multinomial(total, weights / weights.sum())


def _reference_tables(places: _Places, spec: DemoSpec, now: datetime, rng: np.random.Generator,
                      staff_depts: list[str]) -> dict[str, pd.DataFrame]:
    """People, housing, enterprises and assets, as DataFrames ready to insert."""
    n_mg = len(places.ids)
    now_ts = pd.Timestamp(now).tz_convert("UTC")
    land = places.land

    def stamp(n: int) -> pd.Series:  # last update: within the last 180 days
        return pd.Series(now_ts - pd.to_timedelta(rng.uniform(0, 180 * 86400, n), unit="s"))

    def spot(mi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pt = rng.integers(0, places.points.shape[1], len(mi))
        return places.points[mi, pt, 0], places.points[mi, pt, 1]

    # housing: ~0.4 units per resident in homes; shops on commercial land; dormitories on industrial
    homes = np.round(places.residents * spec.housing_per_resident).astype(int)
    mi_h = np.repeat(np.arange(n_mg), homes)
    kind = np.where(np.isin(land[mi_h], ["industrial"]), "dormitory",
                    np.where(np.isin(land[mi_h], ["commercial"]), "commercial",
                             np.where(land[mi_h] == "mixed", rng.choice(["residential", "mixed"], len(mi_h),
                                                                         p=[0.7, 0.3]), "residential")))
    per_building = 60
    unit_in_mg = np.arange(len(mi_h)) - np.searchsorted(mi_h, mi_h, "left")
    building_no = unit_in_mg // per_building + 1
    building_id = pd.Series(places.ids[mi_h]) + "-B" + pd.Series(building_no).astype(str).str.zfill(2)
    unit_id = building_id + "-" + pd.Series(unit_in_mg % per_building + 101).astype(str)
    lon, lat = spot(mi_h)
    is_rental = rng.random(len(mi_h)) < np.select([kind == "dormitory", kind == "mixed"], [0.9, 0.45], 0.28)
    housing = pd.DataFrame({
        "unit_id": unit_id, "building_id": building_id, "microgrid_id": places.ids[mi_h], "kind": kind,
        "is_rental": is_rental, "occupants": np.maximum(rng.poisson(2.5, len(mi_h)), 1).astype("int16"),
        "built_year": rng.integers(1995, 2025, len(mi_h)).astype("int16"), "lon": lon, "lat": lat,
        "updated_at": stamp(len(mi_h)),
    })

    # people: one row per resident (or spec.people in total)
    n_people = int(places.residents.sum()) if spec.people is None else spec.people
    per_mg = places.residents.astype(int) if spec.people is None else _alloc(places.residents, n_people, rng)
    mi_p = np.repeat(np.arange(n_mg), per_mg)
    floating_share = np.select([np.isin(land[mi_p], ["industrial"]), np.isin(land[mi_p], ["mixed", "commercial"])],
                               [0.7, 0.45], 0.3)
    age = rng.choice(enums.AGE_BANDS, len(mi_p), p=[0.16, 0.30, 0.36, 0.15, 0.03])
    old = np.isin(age, ["60-79", "80+"])
    # a resident lives in a unit of their micro-grid when the micro-grid has homes
    first_unit = np.concatenate([[0], np.cumsum(homes)[:-1]])
    has_home = homes[mi_p] > 0
    unit_pick = first_unit[mi_p] + (rng.random(len(mi_p)) * np.maximum(homes[mi_p], 1)).astype(int)
    people = pd.DataFrame({
        "person_key": [f"{x:016x}" for x in rng.integers(0, 2**63, len(mi_p), dtype=np.int64)],
        "kind": np.where(rng.random(len(mi_p)) < floating_share, "floating", "registered"),
        "sex": rng.choice(["F", "M"], len(mi_p)), "age_band": age, "microgrid_id": places.ids[mi_p],
        "unit_id": np.where(has_home, unit_id.to_numpy()[np.minimum(unit_pick, len(unit_id) - 1)], None),
        "flag_elderly_alone": old & (rng.random(len(mi_p)) < 0.08),
        "flag_disability": rng.random(len(mi_p)) < 0.015,
        "flag_low_income": rng.random(len(mi_p)) < 0.01,
        "flag_key_care": rng.random(len(mi_p)) < 0.005,
        "updated_at": stamp(len(mi_p)),
    }).drop_duplicates("person_key")

    # enterprises: mostly on commercial, mixed and industrial land
    land_f = {"commercial": 6.0, "mixed": 3.0, "industrial": 4.0, "residential": 0.4, "park": 0.05}
    w_e = np.array([land_f.get(x, 1.0) for x in land]) * (places.area_km2 + places.residents / 20000)
    mi_e = np.repeat(np.arange(n_mg), _alloc(w_e, spec.enterprises, rng))
    industries = list(enums.INDUSTRIES)
    ind_p = {"industrial": [0.15, 0.35, 0.05, 0.02, 0.08, 0.18, 0.06, 0.05, 0.02, 0.04],
             "other": [0.30, 0.03, 0.20, 0.15, 0.04, 0.04, 0.01, 0.12, 0.05, 0.06]}
    is_ind = land[mi_e] == "industrial"
    industry = np.where(is_ind, rng.choice(industries, len(mi_e), p=ind_p["industrial"]),
                        rng.choice(industries, len(mi_e), p=ind_p["other"]))
    size = rng.choice(enums.ENTERPRISE_SIZES, len(mi_e), p=[0.62, 0.28, 0.08, 0.02])
    employees = np.select([size == "micro", size == "small", size == "medium"],
                          [rng.integers(1, 10, len(mi_e)), rng.integers(10, 100, len(mi_e)),
                           rng.integers(100, 300, len(mi_e))], rng.integers(300, 5000, len(mi_e)))
    risky = np.isin(industry, ["hazchem", "manufacturing", "construction", "catering"])
    risk = np.where(risky, rng.choice(enums.RISK_LEVELS, len(mi_e), p=[0.5, 0.35, 0.15]),
                    rng.choice(enums.RISK_LEVELS, len(mi_e), p=[0.85, 0.13, 0.02]))
    lon, lat = spot(mi_e)
    enterprises = pd.DataFrame({
        "enterprise_id": [f"E{i:06d}" for i in range(1, len(mi_e) + 1)], "industry": industry, "size": size,
        "risk_level": risk, "employees": employees.astype("int32"), "microgrid_id": places.ids[mi_e],
        "lon": lon, "lat": lat, "updated_at": stamp(len(mi_e)),
    })

    # assets
    base = places.residents + 3000 * places.area_km2
    kinds = {"camera": spec.cameras, "hydrant": 4000, "aed": 600, "vehicle": 400, "supply_depot": 60, "staff": 350}
    rows = []
    hour = pd.Timestamp(now).tz_convert("Asia/Shanghai").hour
    day_shift = 8 <= hour < 20
    # one grid's cameras are down together (a fibre cut): the kind of thing the wall should show
    outage_grid = places.grid[np.argmax(places.residents)]
    for kind_name, n in kinds.items():
        mi_a = np.repeat(np.arange(n_mg), _alloc(base if kind_name != "aed" else places.residents + 1, n, rng))
        k = len(mi_a)
        if kind_name == "camera":
            status = np.where((rng.random(k) < 0.035) | (places.grid[mi_a] == outage_grid), "offline", "online")
        elif kind_name in ("vehicle", "staff"):
            on = 0.85 if day_shift else 0.35
            status = rng.choice(["online", "busy", "offline"], k, p=[on * 0.55, on * 0.45, 1 - on])
        else:
            status = np.where(rng.random(k) < 0.01, "offline", "online")
        dept = rng.choice(staff_depts, k) if kind_name in ("vehicle", "staff") else np.full(k, None)
        lon, lat = spot(mi_a)
        seen = now_ts - pd.to_timedelta(np.where(status == "offline", rng.uniform(600, 3 * 86400, k),
                                                 rng.uniform(0, 120, k)), unit="s")
        rows.append(pd.DataFrame({
            "asset_id": [f"{kind_name[:3].upper()}{i:05d}" for i in range(1, k + 1)], "kind": kind_name,
            "status": status, "department_id": dept, "microgrid_id": places.ids[mi_a], "lon": lon, "lat": lat,
            "last_seen_at": seen, "updated_at": seen,
        }))
    assets = pd.concat(rows, ignore_index=True)
    return {"housing": housing, "people": people, "enterprises": enterprises, "assets": assets}


# --------------------------------------------------------------------------------------------
# The whole demo warehouse
# --------------------------------------------------------------------------------------------
def build_demo(settings, spec: DemoSpec | None = None, progress: bool = True) -> SnapshotInfo:
    """Build a fresh demo warehouse and publish it as the current snapshot.

    The warehouse is built in a temporary file and renamed over ``work.duckdb`` only when
    complete, so an interrupted build never leaves half a warehouse behind. It says it is a demo:
    ``warehouse_meta`` gets ``origin = demo`` and the case-id prefix (:data:`CASE_ID_PREFIX`), the
    only warehouse the live simulator (:mod:`data.demo.simulate`) agrees to write to.

    Args:
        settings: :class:`settings.Settings` (paths, time zone).
        spec: sizes and seed; default from the settings' ``demo_*`` values.
        progress: show a progress bar on stderr.

    Returns:
        The published snapshot.
    """
    from tqdm import tqdm

    spec = spec or DemoSpec(events=settings.demo_events, days=settings.demo_days, seed=settings.demo_seed,
                            boundary=settings.demo_boundary)
    now = spec.now or datetime.now(settings.zone)
    rng = np.random.default_rng(spec.seed)
    started = time.perf_counter()
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    tmp = settings.warehouse_dir / f".work.{os.getpid()}.building.duckdb"
    tmp.unlink(missing_ok=True)
    con = connect(tmp, settings.timezone)
    # DuckDB would otherwise cache up to 80% of RAM; 2 GB keeps a 10-million-case build under 4 GB
    # in all (it spills to a temp folder beside the warehouse when it needs more).
    con.execute("SET memory_limit = '2GB'")
    try:
        apply_schema(con)
        bar = tqdm(total=spec.events, unit=" cases", disable=not progress, desc="demo", smoothing=0.1)
        bar.set_postfix_str("geography")
        gdf = build_areas(seed=spec.seed, boundary=spec.boundary)
        areas = areas_table(gdf)
        con.register("areas_df", areas)
        con.execute("INSERT INTO areas SELECT * FROM areas_df")
        con.register("levels_df", level_rows())
        con.execute("INSERT INTO area_levels (level, depth, name, name_en) SELECT level, depth, name, name_en "
                    "FROM levels_df")
        for name, frame in (("categories", cat.categories_frame()), ("departments", cat.departments_frame()),
                            ("channels", cat.channels_frame())):
            con.register("ref_df", frame)
            con.execute(f"INSERT INTO {name} SELECT * FROM ref_df")
        places = _places(gdf.drop(columns="geometry").assign(geometry=gdf.geometry.values), rng)
        weights = _place_weights(places, rng)

        bar.set_postfix_str("people, housing, enterprises, assets")
        staff_depts = [d.department_id for d in cat.DEPARTMENTS]
        for name, frame in _reference_tables(places, spec, now, rng, staff_depts).items():
            con.register("ref_df", frame)
            cols = ", ".join(frame.columns)
            con.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM ref_df")

        bar.set_postfix_str("cases")
        bins = _hour_bins(now, spec.days, settings.timezone)
        hour_p = _hour_weights(bins, now)
        for chunk in generate_events(places, weights, bins, hour_p, spec.events, now, rng):
            con.register("chunk", chunk)
            con.execute(_INSERT_EVENTS, {"prefix": CASE_ID_PREFIX})
            con.unregister("chunk")
            bar.update(min(chunk.num_rows, spec.events - bar.n))
        meta.write_meta(con, {meta.ORIGIN: meta.DEMO, meta.CASE_ID_PREFIX: CASE_ID_PREFIX})
        bar.set_postfix_str("repeat flags, marts")
        refresh_all(con, now.astimezone(settings.zone).date(), settings.timezone)
        elapsed = time.perf_counter() - started
        n_events = con.execute("SELECT count(*) FROM events").fetchone()[0]
        con.execute(
            "INSERT INTO etl_runs (run_id, kind, started_at, finished_at, files, rows_in, rows_loaded, "
            "rows_quarantined, duration_s, status) VALUES (nextval('etl_run_seq'), 'demo', ?, now(), 0, ?, ?, 0, ?, "
            "'ok')", [datetime.now(settings.zone) - timedelta(seconds=elapsed), n_events, n_events, elapsed])
        con.execute("CHECKPOINT")
        con.close()
        os.replace(tmp, settings.work_db)
        bar.set_postfix_str("publishing")
        con = connect(settings.work_db, settings.timezone)
        run_id = con.execute("SELECT max(run_id) FROM etl_runs").fetchone()[0]
        info = publish(con, settings.warehouse_dir, keep=settings.snapshots_keep, run_id=run_id)
        bar.set_postfix_str(f"done in {time.perf_counter() - started:.0f} s")
        bar.close()
        return info
    finally:
        con.close()
        tmp.unlink(missing_ok=True)

