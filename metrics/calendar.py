"""The working-day calendar behind the "3 working days" service promise.

Each deployment names its calendar in the ``calendar`` setting:

* ``"cn"`` (the default): the PRC statutory calendar, described below;
* any country or ``COUNTRY-SUBDIVISION`` code of the ``holidays`` package (``"US"``, ``"US-NY"``,
  ``"GB"`` ...): Monday-Friday minus that package's public holidays (including the days a holiday
  falling on a weekend is observed), for every year the package computes. There is no fallback and
  no notice: the package derives its holidays from rules, not from yearly announcements.

With ``"cn"``, working days follow the PRC statutory calendar, including the weekend days that are made working
days (调休), as published in the ``chinesecalendar`` package. The package only knows the years the
State Council has announced (2004-2026 in 1.11.0); for any other year the calendar falls back to
Monday-Friday and says so (:meth:`WorkCalendar.fallback_years`, :func:`calendar_notice`), because a
silently wrong deadline is worse than a visibly approximate one.

An operator can correct or extend the calendar with a small CSV file (default
``<var_dir>/calendar/holidays.csv``)::

    # date,kind[,note]   kind is holiday or workday; lines starting with # are comments
    2027-01-01,holiday,元旦
    2027-02-06,workday,春节调休

Entries in the file win over the package for their day (so a late State Council change, like the
2020 Spring Festival extension, can be applied without waiting for a package release). A missing
file means no entries. See ``docs/sla.md``.

Everything is computed once per year into numpy arrays, so looking up thousands of days (the
:meth:`WorkCalendar.frame` the SQL deadlines join on) costs a few milliseconds.
"""

from __future__ import annotations

import csv
import datetime
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import chinese_calendar
import holidays as holidays_package
import numpy as np
import pandas as pd

from settings import Settings, calendar_error

__all__ = [
    "CalendarNotice",
    "HolidayFileError",
    "WorkCalendar",
    "calendar_notice",
    "clear_calendar_cache",
    "default_calendar",
    "default_holiday_file",
    "read_holiday_file",
]

_EPOCH = datetime.date(1970, 1, 1)
_KINDS = ("holiday", "workday")
CN = "cn"  # the calendar setting's value for the PRC statutory calendar (chinesecalendar)


class HolidayFileError(ValueError):
    """The operator's holiday file has a line GridPulse cannot read; the message names file and line."""


def _ordinal(day: datetime.date) -> int:
    """Days since 1970-01-01: the integer form numpy's ``datetime64[D]`` uses."""
    return (day - _EPOCH).days


def _statutory_years() -> tuple[int, int]:
    """First and last year the installed ``chinesecalendar`` has data for.

    The package decides coverage the same way (``min``/``max`` of its holiday table) and raises
    ``NotImplementedError`` outside it; we read the bounds instead of catching the exception per day.
    """
    years = [d.year for d in chinese_calendar.holidays]
    return min(years), max(years)


def _split_code(code: str) -> tuple[str, str | None]:
    """``"US-NY"`` → ``("US", "NY")``; ``"GB"`` → ``("GB", None)``."""
    country, _, subdiv = code.strip().partition("-")
    return country.upper(), (subdiv.upper() or None)


def _public_holidays(code: str, year: int) -> set[datetime.date]:
    """The public holidays of ``year`` for a ``holidays`` package code (observed days included)."""
    country, subdiv = _split_code(code)
    return set(holidays_package.country_holidays(country, subdiv=subdiv, years=year).keys())


def read_holiday_file(path: Path) -> dict[datetime.date, bool]:
    """Read the operator's holiday file into ``{day: is_workday}``.

    Args:
        path: CSV file with lines ``date,kind[,note]``; ``date`` is ISO ``YYYY-MM-DD``, ``kind`` is
            ``holiday`` or ``workday``. Blank lines, lines starting with ``#`` and a header line
            ``date,kind...`` are skipped.

    Returns:
        The entries, an empty dict when the file does not exist.

    Raises:
        HolidayFileError: a line has a bad date or kind, or a day is listed twice with different
            kinds. Failing loudly beats computing every deadline from a half-read calendar.
    """
    if not path.exists():
        return {}
    entries: dict[datetime.date, bool] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for lineno, row in enumerate(csv.reader(fh), start=1):
            cells = [c.strip() for c in row]
            if not cells or not cells[0] or cells[0].startswith("#"):
                continue
            if lineno == 1 and cells[0].lower() == "date":
                continue
            if len(cells) < 2:
                raise HolidayFileError(f"{path}:{lineno}: expected 'date,kind', got {','.join(row)!r}")
            try:
                day = datetime.date.fromisoformat(cells[0])
            except ValueError:
                raise HolidayFileError(f"{path}:{lineno}: bad date {cells[0]!r}, expected YYYY-MM-DD") from None
            kind = cells[1].lower()
            if kind not in _KINDS:
                raise HolidayFileError(f"{path}:{lineno}: bad kind {cells[1]!r}, expected holiday or workday")
            workday = kind == "workday"
            if entries.get(day, workday) != workday:
                raise HolidayFileError(f"{path}:{lineno}: {day} is listed both as holiday and as workday")
            entries[day] = workday
    return entries


@dataclass(frozen=True)
class CalendarNotice:
    """What the dashboard shows when deadlines rest on the Mon-Fri fallback.

    Attributes:
        years: the years without statutory data, ascending.
        zh: the notice in Chinese.
        en: the notice in English.
    """

    years: tuple[int, ...]
    zh: str
    en: str

    def text(self, language: str) -> str:
        """The notice in ``language`` ("zh" or "en"; anything else gets English)."""
        return self.zh if language == "zh" else self.en


class WorkCalendar:
    """Which days are working days, and the n-th working day after a given day.

    Instances compare and hash by identity: they key caches (:func:`default_calendar` builds one
    per code, file and file version, so equal settings share one instance).

    Args:
        holiday_file: the operator's CSV of extra holidays and workdays (see module docstring);
            ``None`` or a missing file means none. Read once, at construction: build a new
            calendar (or call :func:`default_calendar`, which notices edits) to pick up changes.
        code: ``"cn"`` or a ``holidays`` package code such as ``"US-NY"`` (the ``calendar`` setting).

    Raises:
        ValueError: ``code`` is neither ``"cn"`` nor a code the ``holidays`` package knows.
    """

    def __init__(self, holiday_file: Path | None = None, code: str = CN):
        problem = calendar_error(code)
        if problem is not None:
            raise ValueError(f"calendar {code!r}: {problem}")
        self.code = code
        self.holiday_file = Path(holiday_file) if holiday_file is not None else None
        self._entries = read_holiday_file(self.holiday_file) if self.holiday_file is not None else {}
        self.file_years = frozenset(d.year for d in self._entries)
        """Years the operator's file has at least one entry for."""
        # With a holidays-package code every year is computed by rule: nothing falls back.
        self._first_year, self._last_year = _statutory_years() if code == CN else (1, 9999)
        self._lock = threading.Lock()
        # Per year: (is_workday, statutory) boolean arrays indexed by day of year - 1.
        self._years: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        # Ordinals of all working days of the loaded span [self._lo_year, self._hi_year], ascending.
        self._lo_year = self._hi_year = 0
        self._workday_ordinals = np.empty(0, dtype=np.int64)

    def __repr__(self) -> str:
        return f"WorkCalendar(holiday_file={self.holiday_file!r}, code={self.code!r})"

    # --- single days ----------------------------------------------------------------------------
    def covers(self, year: int) -> bool:
        """Whether the calendar has data for ``year`` (else Mon-Fri plus the file is used; always with a holidays code)."""
        return self._first_year <= year <= self._last_year

    def is_workday(self, day: datetime.date) -> bool:
        """Whether ``day`` is a working day (statutory calendar, else Mon-Fri; the file wins)."""
        workday, _ = self._year(day.year)
        return bool(workday[day.timetuple().tm_yday - 1])

    def fallback_years(self, start: datetime.date, end: datetime.date) -> list[int]:
        """Years in ``[start, end]`` without statutory data, ascending; empty when all are covered."""
        return [y for y in range(start.year, end.year + 1) if not self.covers(y)]

    def nth_workday_after(self, day: datetime.date, n: int) -> datetime.date:
        """The ``n``-th working day strictly after ``day`` (``n`` >= 1).

        Example: the 3rd working day after Wed 2026-09-30 is Sat 2026-10-10 (Oct 1-7 are the
        National Day holidays; Oct 8, 9 and the make-up Saturday Oct 10 are working days).
        """
        ordinal = int(self._due_ordinals(np.array([_ordinal(day)], dtype=np.int64), n)[0])
        return _EPOCH + datetime.timedelta(days=ordinal)

    # --- many days --------------------------------------------------------------------------------
    def frame(self, start: datetime.date, end: datetime.date, n: int) -> pd.DataFrame:
        """One row per calendar day in ``[start, end]``, for joins that must not call Python per row.

        Args:
            start: first day (inclusive).
            end: last day (inclusive); an empty frame when before ``start``.
            n: working days allowed (the ``close_working_days`` of an SLA rule).

        Returns:
            Columns ``day`` (date), ``is_workday`` (bool), ``statutory`` (bool: the day's status
            comes from the package, not from the fallback or the operator's file),
            ``close_due_day`` (date: ``nth_workday_after(day, n)``) and ``close_working_days``
            (int: ``n``, so frames for several ``n`` can be stacked and joined on both).
        """
        first, last = _ordinal(start), _ordinal(end)
        ordinals = np.arange(first, max(first, last + 1), dtype=np.int64)
        workday, statutory = self._lookup(ordinals)
        due = self._due_ordinals(ordinals, n)
        return pd.DataFrame({
            "day": _to_dates(ordinals),
            "is_workday": workday,
            "statutory": statutory,
            "close_due_day": _to_dates(due),
            "close_working_days": np.full(len(ordinals), n, dtype=np.int64),
        })

    def due_day_ordinals(self, ordinals: np.ndarray, n: int) -> np.ndarray:
        """Vectorised :meth:`nth_workday_after` on day ordinals (days since 1970-01-01).

        Used by :func:`metrics.sla.deadlines` so that 300k cases cost one ``searchsorted``.
        """
        return self._due_ordinals(np.asarray(ordinals, dtype=np.int64), n)

    # --- internals ----------------------------------------------------------------------------------
    def _year(self, year: int) -> tuple[np.ndarray, np.ndarray]:
        """The (is_workday, statutory) arrays of one year, built once."""
        cached = self._years.get(year)
        if cached is not None:
            return cached
        first = datetime.date(year, 1, 1)
        count = (datetime.date(year + 1, 1, 1) - first).days
        days = [first + datetime.timedelta(days=i) for i in range(count)]
        weekday = np.array([d.weekday() < 5 for d in days])
        if self.code != CN:
            public = _public_holidays(self.code, year)
            workday = np.array([w and d not in public for d, w in zip(days, weekday, strict=True)])
            statutory = np.ones(count, dtype=bool)
        elif self.covers(year):
            # Same rule as chinese_calendar.is_workday, without its per-call min()/max() over all years.
            holidays, workdays = chinese_calendar.holidays, chinese_calendar.workdays
            workday = np.array([d in workdays or (w and d not in holidays)
                                for d, w in zip(days, weekday, strict=True)])
            statutory = np.ones(count, dtype=bool)
        else:
            workday = weekday.copy()
            statutory = np.zeros(count, dtype=bool)
        if year in self.file_years:
            for day, is_work in self._entries.items():
                if day.year == year:
                    workday[day.timetuple().tm_yday - 1] = is_work
                    statutory[day.timetuple().tm_yday - 1] = False
        self._years[year] = (workday, statutory)
        return workday, statutory

    def _lookup(self, ordinals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(is_workday, statutory) for an array of day ordinals."""
        if len(ordinals) == 0:
            return np.empty(0, dtype=bool), np.empty(0, dtype=bool)
        lo, hi = _year_of(int(ordinals.min())), _year_of(int(ordinals.max()))
        workday = np.concatenate([self._year(y)[0] for y in range(lo, hi + 1)])
        statutory = np.concatenate([self._year(y)[1] for y in range(lo, hi + 1)])
        index = ordinals - _ordinal(datetime.date(lo, 1, 1))
        return workday[index], statutory[index]

    def _span(self, lo_year: int, hi_year: int) -> np.ndarray:
        """Working-day ordinals covering at least years ``[lo_year, hi_year]``."""
        with self._lock:
            if not (self._workday_ordinals.size and self._lo_year <= lo_year and hi_year <= self._hi_year):
                lo = min(lo_year, self._lo_year) if self._workday_ordinals.size else lo_year
                hi = max(hi_year, self._hi_year)
                base = _ordinal(datetime.date(lo, 1, 1))
                workday = np.concatenate([self._year(y)[0] for y in range(lo, hi + 1)])
                self._workday_ordinals = base + np.flatnonzero(workday).astype(np.int64)
                self._lo_year, self._hi_year = lo, hi
            return self._workday_ordinals

    def _due_ordinals(self, ordinals: np.ndarray, n: int) -> np.ndarray:
        """The n-th working day strictly after each ordinal, by binary search in the working days."""
        if isinstance(n, bool) or int(n) != n or n < 1:
            raise ValueError(f"n must be a whole number of working days >= 1, got {n!r}")
        n = int(n)
        if len(ordinals) == 0:
            return np.empty(0, dtype=np.int64)
        lo, last = _year_of(int(ordinals.min())), _year_of(int(ordinals.max()))
        # One spare year per 200 working days is plenty with real calendars; a holiday file that
        # declares whole years off needs more, so widen a few times before giving up.
        for spare in range(1 + n // 200, 12 + n // 200):
            span = self._span(lo, last + spare)
            position = np.searchsorted(span, ordinals, side="right") + (n - 1)
            if position.max() < len(span):
                return span[position]
        last_day = _EPOCH + datetime.timedelta(days=int(ordinals.max()))
        raise ValueError(f"no {n} working days within 10 years after {last_day}")


def _year_of(ordinal: int) -> int:
    """Calendar year of a day ordinal."""
    return (_EPOCH + datetime.timedelta(days=ordinal)).year


def _to_dates(ordinals: np.ndarray) -> np.ndarray:
    """Day ordinals as an object array of ``datetime.date`` (what DuckDB registers as DATE)."""
    return ordinals.astype("datetime64[D]").astype(object)


def default_holiday_file(settings: Settings) -> Path:
    """Where the operator's holiday file lives: the ``holiday_file`` setting, else ``<var_dir>/calendar/holidays.csv``."""
    return settings.holiday_file or Path(settings.var_dir) / "calendar" / "holidays.csv"


def default_calendar(settings: Settings) -> WorkCalendar:
    """The deployment's calendar, built once per holiday file and rebuilt when the file changes.

    The cache key includes the file's modification time and size, so an operator's edit shows up
    on the next request without restarting the web processes.

    Args:
        settings: the deployment's settings (where ``var_dir`` is).
    """
    path = default_holiday_file(settings)
    try:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
    except FileNotFoundError:
        stamp = None
    return _cached_calendar(path, stamp, settings.calendar)


@lru_cache(maxsize=8)
def _cached_calendar(path: Path, stamp: tuple[int, int] | None, code: str = CN) -> WorkCalendar:
    """One calendar per (file, version, code); ``stamp`` is only part of the key."""
    return WorkCalendar(path if stamp is not None else None, code)


def clear_calendar_cache() -> None:
    """Forget the calendars built so far (part of :func:`metrics.cache.reset`)."""
    _cached_calendar.cache_clear()


def calendar_notice(calendar: WorkCalendar, start: datetime.date, end: datetime.date) -> CalendarNotice | None:
    """The fallback warning for a period, or ``None`` when every year in it has statutory data.

    Args:
        calendar: the calendar the deadlines were computed with.
        start: first day of the period shown (inclusive).
        end: last day of the period shown (inclusive); include the deadlines, not just the receipts.

    Returns:
        A notice such as "2027 年法定节假日数据缺失，按周一至周五计算工作日" / "No statutory holiday
        data for 2027: working days assumed Mon–Fri". When the operator's file has entries for all
        of those years, the notice says that the file is used as well.
    """
    years = calendar.fallback_years(start, end)
    if not years:
        return None
    zh_years = "、".join(str(y) for y in years)
    en_years = ", ".join(str(y) for y in years)
    with_file = calendar.holiday_file is not None and all(y in calendar.file_years for y in years)
    if with_file:
        name = calendar.holiday_file.name
        zh = f"{zh_years} 年法定节假日数据缺失，按周一至周五及节假日文件 {name} 计算工作日"
        en = f"No statutory holiday data for {en_years}: working days assumed Mon–Fri plus the holiday file {name}"
    else:
        zh = f"{zh_years} 年法定节假日数据缺失，按周一至周五计算工作日"
        en = f"No statutory holiday data for {en_years}: working days assumed Mon–Fri"
    return CalendarNotice(tuple(years), zh, en)
