"""Service promises (SLA): the rules, and each case's deadline and outcome per stage.

The promise to citizens (see ``docs/sla.md``) has three stages:

======== ================================================================================
accept   ``accepted_at - received_at <= accept_seconds`` (default 60 s)
dispatch ``dispatched_at - received_at <= dispatch_seconds`` (default 300 s), only for cases
         that need a crew (``needs_dispatch``)
close    urgent: ``closed_at - received_at <= urgent_close_hours`` (default 24 h, elapsed time);
         other: closed by the end (24:00 local) of the ``close_working_days``-th working day
         (default 3) after the local day of receipt
======== ================================================================================

:func:`deadlines` states the rules in pandas: it is the oracle of the tests and serves small
frames (the live simulator). The metrics compute the same deadlines in DuckDB through the views
``case_due`` and ``open_due`` (``sql/due_view.sql``, set up by :mod:`metrics.sla_due`); tests
check that the views agree with :func:`deadlines` on hand-computed and random cases, with and
without per-category overrides. Change both or neither.

A case whose source gives its own closure deadline (``events.due_at``, e.g. NYC 311's Due Date or
Open311's ``expected_datetime``) is judged against that deadline instead of the close rule, in
every metric, warning and countdown; its accept and dispatch stages keep the rules.

Conventions:

* ``due_at`` of the working-day rule is the next local midnight after the due day, so "closed by
  the end of Sat 2026-10-10" means ``closed_at <= 2026-10-11 00:00 +08:00``.
* A finished stage is ``met`` when ``done_at <= due_at`` (so accepting at exactly 60 s is met),
  otherwise ``breached``. An unfinished stage is ``pending``; it is ``overdue`` when
  ``now > due_at``. ``overdue_seconds`` is how late the stage was finished, or is now, never
  negative.
* Cancelled cases have no close stage. Their unfinished accept or dispatch stage counts as
  ``breached`` if the deadline had passed when the case was cancelled (``closed_at`` holds the
  cancellation time) and is dropped otherwise: a citizen withdrawing a case early breaks no
  promise, but cancelling cannot erase a breach that already happened.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from metrics.calendar import WorkCalendar

__all__ = [
    "CASE_COLUMNS",
    "DEADLINE_COLUMNS",
    "OUTCOMES",
    "STAGES",
    "SlaRule",
    "SlaRules",
    "deadlines",
]

STAGES = ("accept", "dispatch", "close")
OUTCOMES = ("met", "breached", "pending")
CASE_COLUMNS = ("case_id", "category_id", "urgency", "needs_dispatch", "received_at", "accepted_at",
                "dispatched_at", "closed_at", "status")
DEADLINE_COLUMNS = ("case_id", "stage", "due_at", "done_at", "outcome", "overdue", "seconds_left", "overdue_seconds")
RULE_COLUMNS = ("category_id", "accept_seconds", "dispatch_seconds", "urgent_close_hours", "close_working_days")

_US_PER_SECOND = 1_000_000
_US_PER_DAY = 86_400 * _US_PER_SECOND
_NAT = np.iinfo(np.int64).min  # how numpy stores NaT in int64

# Keys of a [sla.<category>] table in the settings TOML → SlaRule fields.
_OVERRIDE_FIELDS = {
    "accept_seconds": "accept_seconds",
    "dispatch_seconds": "dispatch_seconds",
    "close_hours": "urgent_close_hours",
    "close_working_days": "close_working_days",
}


@dataclass(frozen=True)
class SlaRule:
    """The limits of one category's promise.

    Attributes:
        accept_seconds: longest allowed time from receipt to acceptance.
        dispatch_seconds: longest allowed time from receipt to dispatch (when a crew is needed).
        urgent_close_hours: longest allowed elapsed time from receipt to closure of an urgent case.
        close_working_days: working days after the day of receipt by whose end other cases close.
    """

    accept_seconds: int
    dispatch_seconds: int
    urgent_close_hours: float
    close_working_days: int


@dataclass(frozen=True)
class SlaRules:
    """The default rule plus per-category overrides.

    Attributes:
        default: the rule for every category without an override.
        overrides: ``{category_id: SlaRule}``, complete rules (already merged with the default).
    """

    default: SlaRule
    overrides: Mapping[str, SlaRule] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Any) -> SlaRules:
        """Build the rules from ``sla_*`` settings and the TOML ``[sla.<category_id>]`` tables.

        An override names only the stages it changes (``accept_seconds``, ``dispatch_seconds``,
        ``close_hours``, ``close_working_days``); the others keep the default.

        Raises:
            ValueError: an override stage is unknown, or a count (seconds, working days) is not a
                whole number, since half a working day has no meaning in the calendar.
        """
        default = SlaRule(
            accept_seconds=_whole(settings.sla_accept_seconds, "sla_accept_seconds"),
            dispatch_seconds=_whole(settings.sla_dispatch_seconds, "sla_dispatch_seconds"),
            urgent_close_hours=float(settings.sla_urgent_close_hours),
            close_working_days=_whole(settings.sla_other_close_working_days, "sla_other_close_working_days"),
        )
        overrides: dict[str, SlaRule] = {}
        for category_id, stages in (settings.sla_overrides or {}).items():
            changes: dict[str, Any] = {}
            for stage, limit in stages.items():
                name = _OVERRIDE_FIELDS.get(stage)
                if name is None:
                    raise ValueError(f"setting sla.{category_id}.{stage}: unknown stage; expected one of "
                                     f"{', '.join(_OVERRIDE_FIELDS)}")
                label = f"sla.{category_id}.{stage}"
                changes[name] = float(limit) if name == "urgent_close_hours" else _whole(limit, label)
            overrides[str(category_id)] = dataclasses.replace(default, **changes)
        return cls(default, overrides)

    def for_category(self, category_id: str) -> SlaRule:
        """The rule that applies to cases of ``category_id``."""
        return self.overrides.get(category_id, self.default)

    def frame(self, category_ids: Iterable[str]) -> pd.DataFrame:
        """One row per distinct category id with its limits: the ``sla_rules`` relation of the SQL.

        Returns:
            Columns ``category_id``, ``accept_seconds``, ``dispatch_seconds``,
            ``urgent_close_hours``, ``close_working_days``, in first-seen order of the ids.
        """
        ids = list(dict.fromkeys(str(c) for c in category_ids))
        rows = [dataclasses.astuple(self.for_category(c)) for c in ids]
        df = pd.DataFrame(rows, columns=list(RULE_COLUMNS[1:]))
        df.insert(0, "category_id", pd.Series(ids, dtype=object))
        return df.astype({"accept_seconds": "int64", "dispatch_seconds": "int64", "urgent_close_hours": "float64",
                          "close_working_days": "int64"})


def _whole(value: Any, name: str) -> int:
    """``value`` as an int, refusing fractions rather than silently rounding a promise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value <= 0:
        raise ValueError(f"setting {name}: expected a positive whole number, got {value!r}")
    return int(value)


# --- pandas -----------------------------------------------------------------------------------------
def deadlines(cases: pd.DataFrame, rules: SlaRules, calendar: WorkCalendar, tz: str,
              now: datetime.datetime) -> pd.DataFrame:
    """Each case's deadline and outcome per applicable stage, vectorised.

    Args:
        cases: columns ``case_id``, ``category_id``, ``urgency`` ("urgent" or anything else),
            ``needs_dispatch``, ``received_at``, ``accepted_at``, ``dispatched_at``, ``closed_at``
            (timezone-aware), ``status``; optionally ``due_at`` (timezone-aware, NaT allowed): the
            case's own closure deadline from its source, which replaces the rule's close deadline
            where set (``events.due_at``). Other columns are ignored.
        rules: the SLA rules.
        calendar: working days for the close stage of non-urgent cases.
        tz: the deployment's zone; the "local day of receipt" and "end of day" are taken in it.
        now: the moment pending stages are judged against (timezone-aware).

    Returns:
        One row per case and applicable stage (accept always; dispatch when ``needs_dispatch``;
        close unless cancelled), cases in input order and stages in :data:`STAGES` order, with
        columns :data:`DEADLINE_COLUMNS`: ``due_at`` and ``done_at`` in ``tz`` at microsecond
        resolution, ``outcome`` in :data:`OUTCOMES`, ``overdue`` (bool, only ever true when
        pending), ``seconds_left`` (``due_at - now`` for pending stages, NaN otherwise) and
        ``overdue_seconds`` (>= 0).

    Raises:
        ValueError: a column is missing, a timestamp column is not timezone-aware, ``now`` is
            naive, or a case has no ``received_at``.
    """
    missing = [c for c in CASE_COLUMNS if c not in cases.columns]
    if missing:
        raise ValueError(f"cases is missing columns: {', '.join(missing)}")
    now_us = _now_micros(now)
    received, has_received = _micros(cases["received_at"], "received_at")
    if not has_received.all():
        raise ValueError("every case needs received_at; the ETL quarantines rows without it")
    accepted, has_accepted = _micros(cases["accepted_at"], "accepted_at")
    dispatched, has_dispatched = _micros(cases["dispatched_at"], "dispatched_at")
    closed, has_closed = _micros(cases["closed_at"], "closed_at")

    row_rule, category_ids = pd.factorize(cases["category_id"])
    if (row_rule < 0).any():
        raise ValueError("every case needs a category_id")
    rule_df = rules.frame(category_ids)
    accept_s = rule_df["accept_seconds"].to_numpy()[row_rule]
    dispatch_s = rule_df["dispatch_seconds"].to_numpy()[row_rule]
    urgent_h = rule_df["urgent_close_hours"].to_numpy()[row_rule]
    working_days = rule_df["close_working_days"].to_numpy()[row_rule]

    urgent = cases["urgency"].eq("urgent").fillna(False).to_numpy(dtype=bool)
    needs_dispatch = cases["needs_dispatch"].fillna(False).to_numpy(dtype=bool)
    cancelled = cases["status"].eq("cancelled").fillna(False).to_numpy(dtype=bool)

    close_due = np.empty(len(cases), dtype=np.int64)
    close_due[urgent] = received[urgent] + _hours_to_micros(urgent_h[urgent])
    other = ~urgent
    if other.any():
        local_day = _local_day_ordinals(cases["received_at"][other], tz)
        due_day = np.empty(len(local_day), dtype=np.int64)
        for n in np.unique(working_days[other]):  # one pass per distinct rule, not per case
            pick = working_days[other] == n
            due_day[pick] = calendar.due_day_ordinals(local_day[pick], int(n))
        close_due[other] = _end_of_day_micros(due_day, tz)
    if "due_at" in cases.columns:  # the case's own deadline wins over the rule's (acceptance and dispatch keep theirs)
        own, has_own = _micros(cases["due_at"], "due_at")
        close_due = np.where(has_own, own, close_due)

    everyone = np.ones(len(cases), dtype=bool)
    parts = [
        _stage(0, everyone, received + accept_s * _US_PER_SECOND, accepted, has_accepted, cancelled, closed,
               has_closed, now_us),
        _stage(1, needs_dispatch, received + dispatch_s * _US_PER_SECOND, dispatched, has_dispatched, cancelled,
               closed, has_closed, now_us),
        _stage(2, ~cancelled, close_due, closed, has_closed, np.zeros(len(cases), dtype=bool), closed,
               has_closed, now_us),
    ]
    merged = _interleave(parts, len(cases))
    return pd.DataFrame({
        "case_id": cases["case_id"].take(merged["row"]).reset_index(drop=True),
        "stage": _labels(STAGES, merged["stage"]),
        "due_at": _to_timestamps(merged["due"], tz),
        "done_at": _to_timestamps(merged["done"], tz),
        "outcome": _labels(OUTCOMES, merged["outcome"]),
        "overdue": merged["overdue"],
        "seconds_left": merged["seconds_left"],
        "overdue_seconds": merged["overdue_seconds"],
    })


def _interleave(parts: list[dict[str, np.ndarray]], cases: int) -> dict[str, np.ndarray]:
    """Merge per-stage rows into case order (then stage order) without sorting.

    Each part lists its cases in ascending order, so a row's place is the number of rows of
    earlier cases plus the rows of the same case in earlier stages: two cumulative sums, O(n).
    """
    kept = np.zeros((len(parts), cases), dtype=np.int64)
    for stage, part in enumerate(parts):
        kept[stage, part["row"]] = 1
    per_case = kept.sum(axis=0)
    case_start = np.cumsum(per_case) - per_case
    earlier_stages = np.cumsum(kept, axis=0) - kept
    total = int(per_case.sum())
    merged = {key: np.empty(total, dtype=value.dtype) for key, value in parts[0].items()}
    for stage, part in enumerate(parts):
        position = case_start[part["row"]] + earlier_stages[stage, part["row"]]
        for key, value in part.items():
            merged[key][position] = value
    return merged


def _labels(names: tuple[str, ...], codes: np.ndarray) -> pd.Series:
    """String column from small integer codes; an Arrow take is ~20x faster than building Python strings."""
    return pd.Series(pa.array(names).take(pa.array(codes)), dtype="str")


def _stage(stage: int, applies: np.ndarray, due: np.ndarray, done: np.ndarray, has_done: np.ndarray,
           cancelled: np.ndarray, cancelled_at: np.ndarray, has_cancelled_at: np.ndarray,
           now_us: int) -> dict[str, np.ndarray]:
    """Judge one stage for every case it applies to (all arrays are per case, times in UTC µs)."""
    # An unfinished stage of a cancelled case stops at the cancellation: breached if that came
    # after the deadline, otherwise the stage simply does not count.
    cut_short = cancelled & ~has_done
    late_cancel = cut_short & has_cancelled_at & (cancelled_at > due)
    keep = applies & (~cut_short | late_cancel)
    rows = np.flatnonzero(keep)
    due, done, has_done, late_cancel = due[rows], done[rows], has_done[rows], late_cancel[rows]
    finished = has_done | late_cancel
    end = np.where(has_done, done, np.where(late_cancel, cancelled_at[rows], now_us))
    outcome = np.where(finished, np.where(end <= due, 0, 1), 2)
    return {
        "row": rows,
        "stage": np.full(len(rows), stage, dtype=np.int8),
        "due": due,
        "done": np.where(has_done, done, _NAT),
        "outcome": outcome,
        "overdue": ~finished & (now_us > due),
        "seconds_left": np.where(finished, np.nan, (due - now_us) / _US_PER_SECOND),
        "overdue_seconds": np.maximum(end - due, 0) / _US_PER_SECOND,
    }


def _hours_to_micros(hours: np.ndarray) -> np.ndarray:
    """Hours as whole microseconds, rounded half up exactly like the SQL (``floor(h * 3.6e9 + 0.5)``)."""
    return np.floor(hours * 3_600_000_000 + 0.5).astype(np.int64)


def _micros(values: pd.Series, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A timezone-aware timestamp column as UTC microseconds since the epoch, plus a not-null mask."""
    if not isinstance(values.dtype, pd.DatetimeTZDtype):
        if values.isna().all():  # an all-empty column often arrives as object or float
            return np.full(len(values), _NAT, dtype=np.int64), np.zeros(len(values), dtype=bool)
        raise ValueError(f"{name} must be timezone-aware timestamps, got dtype {values.dtype}")
    naive_utc = values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    micros = naive_utc.astype("datetime64[us]").astype(np.int64)
    return micros, ~np.isnat(naive_utc)


def _now_micros(now: datetime.datetime) -> int:
    """``now`` as UTC microseconds; refusing a naive time, whose zone would be a guess."""
    return (pd.Timestamp(_aware_now(now)) - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(microseconds=1)


def _local_day_ordinals(values: pd.Series, tz: str) -> np.ndarray:
    """Local calendar day (days since 1970-01-01 in ``tz``) of each timestamp."""
    local = values.dt.tz_convert(tz).dt.tz_localize(None).to_numpy()
    return local.astype("datetime64[D]").astype(np.int64)


def _end_of_day_micros(day_ordinals: np.ndarray, tz: str) -> np.ndarray:
    """The first instant of the local day after each day ("24:00"), as UTC microseconds.

    Zones with daylight saving can lack or repeat midnight; the first instant of the next day is
    then the end of the gap, or the first of the two midnights. Asia/Shanghai has neither.
    """
    unique, inverse = np.unique(day_ordinals, return_inverse=True)
    midnights = pd.DatetimeIndex((unique + 1).astype("datetime64[D]").astype("datetime64[us]"))
    local = midnights.tz_localize(tz, ambiguous=np.ones(len(unique), dtype=bool), nonexistent="shift_forward")
    micros = local.tz_convert("UTC").tz_localize(None).to_numpy().astype("datetime64[us]").astype(np.int64)
    return micros[inverse]


def _to_timestamps(micros: np.ndarray, tz: str) -> pd.Series:
    """UTC microseconds (NaT allowed) as a timezone-aware series in ``tz``."""
    return pd.Series(micros.astype("datetime64[us]")).dt.tz_localize("UTC").dt.tz_convert(tz)


def _aware_now(now: datetime.datetime) -> datetime.datetime:
    """``now`` as a timezone-aware datetime, refusing a naive one, whose zone would be a guess."""
    stamp = pd.Timestamp(now)
    if stamp.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return stamp.to_pydatetime()
