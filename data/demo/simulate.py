"""The live simulator: new cases and lifecycle updates dropped into the landing zone in real time.

So the wall screen visibly moves in a demo, every tick (15 s in the scheduler) writes one CSV file to
``var/landing/events/sim/<local date>/`` with

* the new cases reported since the last tick: as many as the daily rate, the hour of the day (the
  demo's diurnal profile: quiet at night, peaks mid-morning and early afternoon) and the weekday
  say, with categories, places, channels, urgency, route and department drawn like the demo
  generator's (:mod:`data.demo.generate`);
* the lifecycle updates due by now (acceptance, dispatch, work started, closure or cancellation)
  of the open cases it knows: its own, and the demo's open backlog in the current snapshot (re-read
  every ten minutes), so the demo's backlog is worked off too. Stage delays follow the demo's model:
  acceptance in about 18 s, dispatch about 80 s later, closure after the category's usual hours.

It reads the district (micro-grids, categories, departments) from the current snapshot, so every
case it writes passes validation. About a third of its new cases carry coordinates but no
micro-grid, so the ETL's point-in-polygon placement runs on live data. Case ids are the demo's
prefix + local date + ``S`` + 7 digits (tenths of a second since local midnight, plus a counter):
the ``S`` keeps them apart from the generator's prefix + date + 6-digit sequence, and time-based
numbers never repeat across restarts. Run one simulator per landing zone.

It never touches real cases. It refuses to start unless the current snapshot was built by the demo
(``warehouse_meta.origin = demo``, written by :func:`data.demo.generate.build_demo`), takes the case-id
prefix from that table, and adopts from the backlog only the open cases whose id has one of the two
forms the demo mints: a case loaded into a demo warehouse from any other source is left alone.

Files are written atomically (``.tmp``, then ``os.replace``): the ETL never sees half a file.
"""

from __future__ import annotations

import csv
import logging
import math
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import shapely

from data import enums, meta
from data.demo import catalogue as cat
from data.demo.generate import CHANNEL_MIX, DIURNAL, ONE_THING, WEEKDAY, interior_points
from data.snapshot import read_current
from data.warehouse import connect

__all__ = ["Simulator", "SIM_COLUMNS", "minted_id_pattern"]

log = logging.getLogger(__name__)

# The columns of a simulated file: the events table minus its derived columns (the ETL fills them in).
SIM_COLUMNS = ("case_id", "channel", "category_id", "urgency", "route", "department_id", "needs_dispatch", "summary",
               "microgrid_id", "lon", "lat", "received_at", "accepted_at", "dispatched_at", "closed_at", "status",
               "satisfaction", "updated_at")
_POINTS_PER_MICROGRID = 16
_REFRESH_SECONDS = 600  # re-read the snapshot's open backlog this often
_IN_PROGRESS_AFTER = timedelta(minutes=20)  # a dispatched crew is "in progress" after this (as in the demo)
_CANCEL_SHARE = 0.02
_RATED_SHARE = 0.65
_NO_MICROGRID_SHARE = 0.3  # new cases that carry only coordinates


@dataclass
class _Case:
    """One open case the simulator is driving: its record and when its next stages happen."""

    record: dict
    accept_at: datetime | None
    dispatch_at: datetime | None
    close_at: datetime
    cancelled: bool
    emitted: datetime  # updated_at of the last record written (or loaded) for the case
    state: str = field(default="received")


class Simulator:
    """Writes the cases and updates due since its last tick; one instance per process.

    Args:
        settings: paths and zone; the district comes from the current snapshot.
        per_day: cases a day on average (the hour of the day and the weekday modulate it).
        seed: random seed (default: fresh randomness).
        tick_seconds: how often :meth:`tick` is meant to be called (the first tick covers this long).

    Raises:
        RuntimeError: no snapshot has been published yet, or the current snapshot is not a demo
            warehouse (the simulator would otherwise write records for real cases).
    """

    def __init__(self, settings, per_day: int = 2000, seed: int | None = None, tick_seconds: float = 15.0):
        self.settings = settings
        self.per_day = per_day
        self.tick_seconds = tick_seconds
        self.rng = np.random.default_rng(seed)
        self.zone = settings.zone
        self.out_dir = settings.landing_dir / "events" / "sim"
        self.last_counts: dict[str, int] = {}
        self._open: dict[str, _Case] = {}
        # cases closed in the last hour: the snapshot may still show them open until the ETL catches up
        self._closed: dict[str, datetime] = {}
        self._last: datetime | None = None
        self._refreshed: datetime | None = None
        self._last_number: dict[str, int] = {}
        info = read_current(settings.current_file)
        if info is None:
            raise RuntimeError("no snapshot published yet: run `python app.py demo` (or an ETL cycle) first")
        found = meta.snapshot_meta(settings.current_file, settings.timezone)
        if not meta.is_demo(found) or not found.get(meta.CASE_ID_PREFIX):
            raise RuntimeError(
                f"snapshot {info.name} is not a demo warehouse (no warehouse_meta origin = demo): the live "
                "simulator fabricates cases and would close real ones, so it only runs on a warehouse built by "
                "`python app.py demo`")
        self.prefix = found[meta.CASE_ID_PREFIX]
        self._minted = minted_id_pattern(self.prefix)
        self._load_district(info.path)

    # ------------------------------------------------------------------------------------------
    # district
    # ------------------------------------------------------------------------------------------
    def _load_district(self, path: Path) -> None:
        con = connect(path, self.settings.timezone, read_only=True)
        try:
            mg = con.execute("""SELECT area_id, street_id, residents, land_use, area_km2, geometry_wkb FROM areas
                                WHERE level = 'microgrid' ORDER BY area_id""").fetchall()
            cats = con.execute("""SELECT category_id, parent_id, name, department_id FROM categories
                                  WHERE level = 2 ORDER BY category_id""").fetchall()
            depts = {r[0] for r in con.execute("SELECT department_id FROM departments").fetchall()}
            channels = [r[0] for r in con.execute("SELECT channel FROM channels").fetchall()]
        finally:
            con.close()
        if not mg or not cats:
            raise RuntimeError(f"snapshot {path.name} has no micro-grids or categories to simulate cases in")
        self.mg_ids = np.array([r[0] for r in mg], dtype=object)
        self.mg_street = np.array([r[1] for r in mg], dtype=object)
        residents = np.array([r[2] for r in mg], dtype=float)
        land = np.array([r[3] for r in mg], dtype=object)
        area = np.array([r[4] for r in mg], dtype=float)
        polys = shapely.from_wkb([bytes(r[5]) for r in mg])
        self.points = interior_points(polys, self.rng, _POINTS_PER_MICROGRID)
        known = {c.category_id: c for c in cat.CATEGORIES}
        default = cat.Category("", "", "", "", "", share=float(np.mean([c.share for c in cat.CATEGORIES])),
                               urgent=0.05, close_h=24.0)
        self.cats = [known.get(r[0], default) for r in cats]
        self.cat_ids = [r[0] for r in cats]
        self.cat_parent = [r[1] for r in cats]
        self.cat_name = [r[2] for r in cats]
        self.cat_dept = [r[3] if r[3] in depts else sorted(depts)[0] for r in cats]
        self.street_office = {s: d for s, d in cat.STREET_OFFICES.items() if d in depts}
        self.channels = [c for c in cat.CHANNELS if c in channels] or channels
        base = residents + 2000.0 * area
        w = np.tile(base, (len(self.cats), 1))
        for ci, c in enumerate(self.cats):
            if c.land:
                w[ci, np.isin(land, c.land)] *= 2.5
        self.place_p = w / w.sum(axis=1, keepdims=True)

    # ------------------------------------------------------------------------------------------
    # ticks
    # ------------------------------------------------------------------------------------------
    def tick(self, now: datetime | None = None) -> Path | None:
        """Write the cases and updates due since the last tick; returns the file, or None if nothing was due."""
        now = (now or datetime.now(self.zone)).astimezone(self.zone)
        if self._last is None:
            self._last = now - timedelta(seconds=self.tick_seconds)
        if now <= self._last:
            return None
        if self._refreshed is None or (now - self._refreshed).total_seconds() >= _REFRESH_SECONDS:
            self._adopt_backlog(now)
            self._refreshed = now
        updates = self._advance(now)
        new = self._new_cases(self._last, now)
        self._last = now
        self.last_counts = {"new": len(new), "updates": len(updates)}
        rows = new + updates
        if not rows:
            return None
        return self._write(rows, now)

    def _write(self, rows: list[dict], now: datetime) -> Path:
        folder = self.out_dir / f"{now:%Y-%m-%d}"
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / f"sim-{now:%Y%m%dT%H%M%S}-{now:%f}.csv"
        tmp = final.with_name(final.name + ".tmp")
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=SIM_COLUMNS, lineterminator="\n")
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _text(row.get(k)) for k in SIM_COLUMNS})
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
        return final

    def _case_id(self, received: datetime) -> str:
        """A new case id: the demo's prefix + local date + ``S`` + 7 digits.

        The digits are tenths of a second since midnight x 10 + a counter, never below the last
        number used that day, so ids only grow within a day.
        """
        local = received.astimezone(self.zone)
        day = f"{local:%Y%m%d}"
        tenth = int((local - local.replace(hour=0, minute=0, second=0, microsecond=0)).total_seconds() * 10)
        last = self._last_number.get(day, -1)
        number = max(tenth * 10, last + 1)
        self._last_number = {day: number}
        return f"{self.prefix}{day}S{number:07d}"

    def _rate(self, t0: datetime, t1: datetime) -> float:
        """Expected new cases in [t0, t1): the daily rate shaped by the hour of day and the weekday."""
        mid = (t0 + (t1 - t0) / 2).astimezone(self.zone)
        hour_share = DIURNAL[mid.hour] / DIURNAL.sum()
        weekday = WEEKDAY[mid.weekday()] / WEEKDAY.mean()
        return self.per_day * hour_share * weekday * (t1 - t0).total_seconds() / 3600.0

    def _new_cases(self, t0: datetime, t1: datetime) -> list[dict]:
        n = int(self.rng.poisson(self._rate(t0, t1)))
        if n == 0:
            return []
        rng = self.rng
        span = (t1 - t0).total_seconds()
        times = sorted(t0 + timedelta(seconds=float(s)) for s in rng.uniform(0, span, n))
        month = t1.astimezone(self.zone).month - 1
        share = np.array([c.share * c.season[month] for c in self.cats])
        ci = rng.choice(len(self.cats), n, p=share / share.sum())
        rows = []
        for k in range(n):  # a handful of cases per tick: clarity over vectorisation
            c = self.cats[ci[k]]
            mi = int(rng.choice(len(self.mg_ids), p=self.place_p[ci[k]]))
            lon, lat = self.points[mi, rng.integers(0, self.points.shape[1])]
            mix = np.array(CHANNEL_MIX.get(self.cat_parent[ci[k]], (0.4, 0.3, 0.2, 0.07, 0.03)))
            channel = list(cat.CHANNELS)[int(rng.choice(len(mix), p=mix / mix.sum()))]
            if channel not in self.channels:
                channel = self.channels[0]
            urgent = rng.random() < c.urgent
            route = ("joint" if rng.random() < 0.07 + 0.05 * urgent else
                     "one_thing" if c.category_id in ONE_THING and rng.random() < 0.7 else "auto")
            dept = self.cat_dept[ci[k]]
            office = self.street_office.get(self.mg_street[mi])
            if office and (dept.startswith("S-") or rng.random() < 0.3):
                dept = office
            needs_dispatch = bool(rng.random() < c.dispatch)
            received = times[k]
            prefix = {"camera": "视频智能发现：", "patrol": "网格员巡查上报："}.get(channel, "群众反映：")
            record = {
                "case_id": self._case_id(received), "channel": channel, "category_id": self.cat_ids[ci[k]],
                "urgency": "urgent" if urgent else "normal", "route": route, "department_id": dept,
                "needs_dispatch": needs_dispatch, "summary": prefix + self.cat_name[ci[k]],
                "microgrid_id": None if rng.random() < _NO_MICROGRID_SHARE else self.mg_ids[mi],
                "lon": round(float(lon), 6), "lat": round(float(lat), 6), "received_at": received,
                "accepted_at": None, "dispatched_at": None, "closed_at": None, "status": "received",
                "satisfaction": None, "updated_at": received,
            }
            case = self._schedule(record, received, urgent, c, needs_dispatch, route)
            self._open[record["case_id"]] = case
            rows.append(dict(record))
        return rows

    def _schedule(self, record: dict, start: datetime, urgent: bool, c: cat.Category, needs_dispatch: bool,
                  route: str, state: str = "received") -> _Case:
        """Draw the times of a case's remaining stages (the demo's log-normal delays)."""
        rng = self.rng
        night = start.astimezone(self.zone).hour < 7 or start.astimezone(self.zone).hour >= 22
        accept = start + timedelta(seconds=float(18.0 * (1.8 if night else 1.0) * math.exp(0.55 * rng.standard_normal())))
        dispatch = accept + timedelta(seconds=float(80.0 * (1.6 if night else 1.0) * math.exp(0.7 * rng.standard_normal())))
        route_f = {"one_thing": 0.6, "joint": 2.2}.get(route, 1.0)
        median_h = (min(c.close_h * 0.25, 6.0) if urgent else c.close_h) * route_f
        close_s = min(median_h * 3600 * math.exp(0.9 * rng.standard_normal()), 20 * 86400)
        last_stage = dispatch if needs_dispatch else accept
        close = max(start + timedelta(seconds=close_s), last_stage + timedelta(seconds=60))
        cancelled = bool(rng.random() < _CANCEL_SHARE)
        if cancelled:
            close = accept + timedelta(seconds=float(rng.uniform(60, 6 * 3600)))
        return _Case(record, accept, dispatch if needs_dispatch else None, close, cancelled,
                     emitted=record["updated_at"], state=state)

    def _advance(self, now: datetime) -> list[dict]:
        """Records of the open cases whose state changed by ``now``; closed ones are forgotten."""
        out = []
        for case_id in list(self._open):
            case = self._open[case_id]
            rec = case.record
            stamps = []
            if rec["accepted_at"] is None and case.accept_at is not None and case.accept_at <= now:
                rec["accepted_at"] = case.accept_at
                stamps.append(case.accept_at)
            if (rec["dispatched_at"] is None and case.dispatch_at is not None and case.dispatch_at <= now
                    and not (case.cancelled and case.dispatch_at > case.close_at)):
                rec["dispatched_at"] = case.dispatch_at
                stamps.append(case.dispatch_at)
            if case.close_at <= now and rec["accepted_at"] is not None:
                rec["closed_at"] = case.close_at
                stamps.append(case.close_at)
            status = self._status(rec, case, now)
            if status == case.state and not stamps:
                continue
            if status == "in_progress" and not stamps:
                stamps.append(rec["dispatched_at"] + _IN_PROGRESS_AFTER)
            rec["status"] = status
            if status == "closed" and self.rng.random() < _RATED_SHARE:
                late = (rec["closed_at"] - rec["received_at"]).total_seconds() > 3 * 86400
                p = [0.12, 0.13, 0.25, 0.3, 0.2] if late else [0.02, 0.03, 0.08, 0.22, 0.65]
                rec["satisfaction"] = int(self.rng.choice([1, 2, 3, 4, 5], p=p))
            stage_times = [t for t in (rec["received_at"], rec["accepted_at"], rec["dispatched_at"],
                                       rec["closed_at"]) if t is not None]
            updated = max([*stamps, *stage_times]) + timedelta(seconds=1)
            updated = max(min(updated, now), case.emitted + timedelta(milliseconds=1))
            rec["updated_at"] = updated
            case.emitted, case.state = updated, status
            out.append(dict(rec))
            if status in ("closed", "cancelled"):
                del self._open[case_id]
                self._closed[case_id] = now
        return out

    @staticmethod
    def _status(rec: dict, case: _Case, now: datetime) -> str:
        if rec["closed_at"] is not None:
            return "cancelled" if case.cancelled else "closed"
        if rec["dispatched_at"] is not None:
            return "in_progress" if now - rec["dispatched_at"] >= _IN_PROGRESS_AFTER else "dispatched"
        if rec["accepted_at"] is not None:
            return "accepted"
        return "received"

    def _adopt_backlog(self, now: datetime) -> None:
        """Take over the snapshot's open demo cases this simulator is not driving yet.

        Only ids of the forms the demo mints (:func:`minted_id_pattern`), newest first, at most 20 000;
        their remaining stages are scheduled from now.
        """
        info = read_current(self.settings.current_file)
        if info is None:
            return
        try:
            con = connect(info.path, self.settings.timezone, read_only=True)
        except Exception:  # the snapshot was pruned between reading CURRENT and opening it: next time
            log.debug("simulator: snapshot %s went away", info.name)
            return
        try:
            cur = con.execute(f"""SELECT {', '.join(SIM_COLUMNS)} FROM events
                                  WHERE status IN {tuple(enums.OPEN_STATUSES)} AND updated_at <= ?
                                    AND regexp_full_match(case_id, ?)
                                  ORDER BY received_at DESC LIMIT 20000""", [now, self._minted])
            names = [d[0] for d in cur.description]
            rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        finally:
            con.close()
        known = {c.category_id: c for c in cat.CATEGORIES}
        self._closed = {k: t for k, t in self._closed.items() if now - t < timedelta(hours=1)}
        for rec in rows:
            if not re.fullmatch(self._minted, rec["case_id"]):  # never a real case, whatever the SQL said
                continue
            if rec["case_id"] in self._open or rec["case_id"] in self._closed:
                continue
            c = known.get(rec["category_id"])
            if c is None:
                continue
            rec["needs_dispatch"] = bool(rec["needs_dispatch"])
            for k in ("received_at", "accepted_at", "dispatched_at", "closed_at", "updated_at"):
                if rec[k] is not None:
                    rec[k] = rec[k].astimezone(self.zone)
            case = self._schedule(rec, max(now, rec["updated_at"]), rec["urgency"] == "urgent", c,
                                  rec["needs_dispatch"], rec["route"], state=rec["status"])
            if rec["accepted_at"] is not None:
                case.accept_at = None
            if rec["dispatched_at"] is not None or not rec["needs_dispatch"]:
                case.dispatch_at = None
            # an old case keeps its long wait: it closes after the rest of its usual time, from now
            self._open[rec["case_id"]] = case


def minted_id_pattern(prefix: str) -> str:
    """The regular expression of the case ids the demo mints: the generator's and the simulator's.

    ``<prefix><yyyymmdd><6 digits>`` (the generator's day sequence) or ``<prefix><yyyymmdd>S<7 digits>``
    (the simulator's); the prefix is matched literally.
    """
    return re.escape(prefix) + r"\d{8}(\d{6}|S\d{7})"


def _text(value) -> str:
    """CSV text of a value: ISO timestamps with their offset, lower-case booleans, empty for None."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds")
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    return str(value)
