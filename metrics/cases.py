"""The cases behind every number: one query over the cases of a view, paged, sorted and filtered.

:class:`CaseQuery` answers the analyst cases table and its exports. Its rows are the cases
*received* in the view's window under its scope (area and filters), exactly the cases that
:func:`metrics.breakdown.received_by` and the ``received`` vital sign count, narrowed further by the
table's own column filters. The table's sort and filter models come from the browser (AG Grid's
``sortModel`` and ``filterModel``), so they are treated as hostile: a column is looked up in the
whitelist :data:`COLUMNS` (anything else raises :class:`GridModelError`), operators come from fixed
tables, and every value is a bound parameter (``$f0``, ``$f1`` ...). The SQL text only ever holds
identifiers and operators spelled here.

The SQL lives in ``sql/cases_count.sql``, ``sql/cases_keys.sql`` and ``sql/cases_rows.sql``. A
page is read in two steps: the narrow keys of the page (only the columns its filter and sort read
are joined), then the display columns of those keys alone. Filters on a name are answered on the
small look-up table first, filters on a coded column on its labels in Python. At 10 million cases
and a 30-day window a first page with a filter and a sort on another column takes 190-430 ms per
request, the count 100 ms (``bench/cases.py``, load average 2 on two cores).

Timestamps are compared in the deployment zone: a date filter ``2026-11-20`` means that local day.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from metrics import queries, sqlfiles
from metrics.scope import LEVEL_COLUMNS, Scope, Window
from metrics.sla import DEADLINE_COLUMNS, STAGES, deadlines
from settings import Settings

__all__ = ["COLUMNS", "DEFAULT_SORT", "MAX_PAGE", "Column", "CaseQuery", "GridModelError", "case_lifecycle"]

MAX_PAGE = 1_000  # rows one page may ask for: the browser never gets the whole table
DEFAULT_SORT = ({"colId": "received_at", "sort": "desc"},)
_MAX_CONDITIONS = 10  # conditions of one column (AG Grid offers 2)
_MAX_TEXT = 200  # characters of one filter value
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?")  # AG Grid's "2026-11-20 00:00:00"


class GridModelError(ValueError):
    """A sort or filter model names a column, operator or value the cases table does not have."""


@dataclass(frozen=True)
class Column:
    """One column of the cases table.

    Attributes:
        key: the grid's column id and the result column's name.
        kind: the filter kind: ``text``, ``number`` or ``date``.
        expr: its SQL over the events alias ``e`` and the join aliases; ``{name}`` becomes the name
            column in the view's language (``name`` or ``name_en``, falling back to the other).
        join: the look-up table it needs (a key of :data:`_JOINS`), or ``None``.
        labels: a vocabulary whose labels the caller may supply (``status``, ``urgency``, ``overdue``).
        level: the area level of an area-name column (shown when the deployment has the level).
        lookup: for a name column, ``(table, key column, events column)``: a filter on the name is
            answered on the small look-up table first (``e.col IN (SELECT key FROM table WHERE ...)``),
            so the text test runs once per category or area, not once per case.
    """

    key: str
    kind: str
    expr: str
    join: str | None = None
    labels: str | None = None
    level: str | None = None
    lookup: tuple[str, str, str] | None = None

    @property
    def needs_due(self) -> bool:
        """Whether it reads the closure deadline (only the ``case_due`` view has it)."""
        return "close_due" in self.expr


_NAME = "coalesce(nullif({a}.{first}, ''), nullif({a}.{second}, ''), {raw})"
_JOINS = {
    "cat": "LEFT JOIN categories AS cat ON cat.category_id = e.category_id",
    "ch": "LEFT JOIN channels AS ch ON ch.channel = e.channel",
    "dep": "LEFT JOIN departments AS dep ON dep.department_id = e.department_id",
    **{f"a_{lv}": f"LEFT JOIN areas AS a_{lv} ON a_{lv}.area_id = e.{col}" for lv, col in LEVEL_COLUMNS.items()},
}
_OVERDUE = "((e.closed_at IS NULL OR e.closed_at >= $now) AND e.close_due < epoch_us($now))"

COLUMNS: dict[str, Column] = {c.key: c for c in (
    Column("case_id", "text", "e.case_id"),
    Column("received_at", "date", "e.received_at"),
    Column("category", "text", _NAME.replace("{a}", "cat").replace("{raw}", "e.category_id"), "cat",
           lookup=("categories", "category_id", "category_id")),
    Column("channel", "text", _NAME.replace("{a}", "ch").replace("{raw}", "e.channel"), "ch",
           lookup=("channels", "channel", "channel")),
    Column("urgency", "text", "e.urgency", labels="urgency"),
    Column("status", "text", "e.status", labels="status"),
    Column("department", "text", _NAME.replace("{a}", "dep").replace("{raw}", "e.department_id"), "dep",
           lookup=("departments", "department_id", "department_id")),
    *(Column(lv, "text", _NAME.replace("{a}", f"a_{lv}").replace("{raw}", f"e.{col}"), f"a_{lv}", level=lv,
             lookup=("areas", "area_id", col))
      for lv, col in LEVEL_COLUMNS.items()),
    Column("accepted_at", "date", "e.accepted_at"),
    Column("dispatched_at", "date", "e.dispatched_at"),
    Column("closed_at", "date", "e.closed_at"),
    Column("satisfaction", "number", "e.satisfaction"),
    Column("overdue", "text", f"CASE WHEN {_OVERDUE} THEN 'yes' ELSE 'no' END", labels="overdue"),
)}
_TIMES = tuple(k for k, c in COLUMNS.items() if c.kind == "date")
# Result columns beyond the display ones: raw ids for links and the raw overdue flag.
_EXTRA = {"overdue_flag": _OVERDUE}

_TEXT_OPS = {
    "equals": "lower({x}) = lower({v})",
    "notEqual": "({x} IS NULL OR lower({x}) <> lower({v}))",
    "contains": "contains(lower({x}), lower({v}))",
    "notContains": "({x} IS NULL OR NOT contains(lower({x}), lower({v})))",
    "startsWith": "starts_with(lower({x}), lower({v}))",
    "endsWith": "ends_with(lower({x}), lower({v}))",
}
_CMP_OPS = {"equals": "=", "notEqual": "<>", "lessThan": "<", "lessThanOrEqual": "<=", "greaterThan": ">",
            "greaterThanOrEqual": ">="}


@dataclass
class _Sql:
    """The pieces a model turns into: joins needed, WHERE text, ORDER BY text, bound values."""

    joins: set[str] = field(default_factory=set)
    due: bool = False
    params: dict[str, Any] = field(default_factory=dict)

    def bind(self, value: Any) -> str:
        name = f"f{len(self.params)}"
        self.params[name] = value
        return f"${name}"

    def use(self, column: Column) -> None:
        if column.join:
            self.joins.add(column.join)
        self.due = self.due or column.needs_due


@dataclass(frozen=True)
class CaseQuery:
    """The cases of a view: received in ``window`` under ``scope``, with the grid's sort and filters.

    Args:
        con: a cursor on a snapshot.
        scope: area and filters (resolved; see :meth:`metrics.scope.Scope.resolved`).
        window: the view's window; its end is clipped to ``now``.
        now: the as-of time (the overdue flag is judged at it).
        settings: the deployment's settings (zone, SLA rules).
        sort_model: AG Grid's ``sortModel`` (``[{"colId": ..., "sort": "asc"|"desc"}]``); empty or
            ``None``: newest received first.
        filter_model: AG Grid's ``filterModel`` (``{colId: {"filterType": ..., "type": ...}}``).
        lang: ``"zh"`` or ``"en"``: the language of names (and of sorting and filtering on them).
        labels: display labels of coded values, ``{"status": {"closed": "已办结"}, "urgency": ...,
            "overdue": {"yes": ..., "no": ...}}``; a value without a label shows as itself.

    Raises:
        GridModelError: a model names an unknown column or operator, or holds a value of the wrong
            kind (a date that is not a date ...). Nothing of the model reaches the SQL text.
    """

    con: duckdb.DuckDBPyConnection
    scope: Scope
    window: Window
    now: datetime
    settings: Settings
    sort_model: Sequence[Mapping[str, Any]] | None = None
    filter_model: Mapping[str, Any] | None = None
    lang: str = "zh"
    labels: Mapping[str, Mapping[str, str]] | None = None

    def __post_init__(self) -> None:
        ctx = queries.prepare(self.con, self.now, self.settings)
        object.__setattr__(self, "_ctx", ctx)
        end = min(ctx.local(self.window.end), ctx.now)
        object.__setattr__(self, "_bounds", (min(ctx.local(self.window.start), end), end))
        # Translate once: a bad model fails at construction, before any query runs. Both share one
        # parameter table (numbering goes on), each keeps the joins it needs.
        where_sql = _Sql()
        where = self._where(where_sql)
        order_sql = _Sql(params=where_sql.params)
        object.__setattr__(self, "_order_sql", self._order(order_sql))
        object.__setattr__(self, "_filter", (where, where_sql))
        object.__setattr__(self, "_sorting", order_sql)

    # --- model translation --------------------------------------------------------------------------
    def _vocab(self, column: Column) -> Mapping[str, str]:
        return (self.labels or {}).get(column.labels or "", {}) if column.labels else {}

    def _expr(self, column: Column, sql: _Sql, base: str | None = None, raw: bool = False) -> str:
        """A column's SQL (or ``base``) in this query's language, with its labels bound (unless ``raw``)."""
        first, second = ("name_en", "name") if self.lang == "en" else ("name", "name_en")
        expr = (base or column.expr).replace("{first}", first).replace("{second}", second)
        vocab = {} if raw else self._vocab(column)
        if vocab:
            arms = " ".join(f"WHEN {sql.bind(str(k))} THEN {sql.bind(str(v))}" for k, v in sorted(vocab.items()))
            expr = f"(CASE {expr} {arms} ELSE {expr} END)"
        return expr

    def _column(self, col_id: Any) -> Column:
        column = COLUMNS.get(col_id) if isinstance(col_id, str) else None
        if column is None:
            raise GridModelError(f"unknown column {str(col_id)[:50]!r}")
        return column

    def _where(self, sql: _Sql) -> str:
        model = self.filter_model or {}
        if not isinstance(model, Mapping):
            raise GridModelError("the filter model must be an object")
        parts = []
        for col_id, spec in sorted(model.items()):
            column = self._column(col_id)
            if column.lookup:
                table, key, col = column.lookup
                inner = self._condition(column, spec, sql, base=column.expr.replace(f"e.{col}", f"{column.join}.{key}"))
                parts.append(f"(e.{col} IN (SELECT {column.join}.{key} FROM {table} AS {column.join} WHERE {inner}))")
                continue
            sql.use(column)
            vocab = self._vocab(column)
            if vocab:
                # A coded column (status ...) is filtered on its labels: decided here for every label, so the
                # SQL compares codes; a code without a label shows as itself and is tested as such.
                other = self._condition(column, spec, sql, raw=True)  # validates the model, too
                x = self._expr(column, sql, raw=True)
                keep = [k for k, label in sorted(vocab.items()) if _matches(spec, str(label))]
                known = ", ".join(sql.bind(str(k)) for k in sorted(vocab))
                kept = f"{x} IN ({', '.join(sql.bind(str(k)) for k in keep)}) OR " if keep else ""
                parts.append(f"({kept}({x} NOT IN ({known}) AND {other}))")
                continue
            parts.append(self._condition(column, spec, sql))
        return " AND ".join(parts) if parts else "TRUE"

    def _condition(self, column: Column, spec: Any, sql: _Sql, depth: int = 0, base: str | None = None,
                   raw: bool = False) -> str:
        if not isinstance(spec, Mapping):
            raise GridModelError(f"filter of {column.key!r} must be an object")
        kind = spec.get("filterType", column.kind)
        if kind != column.kind:
            raise GridModelError(f"column {column.key!r} takes a {column.kind} filter, not {str(kind)[:20]!r}")
        if "conditions" in spec:
            conditions = spec.get("conditions")
            operator = spec.get("operator", "AND")
            if depth or operator not in ("AND", "OR") or not isinstance(conditions, list) \
                    or not 0 < len(conditions) <= _MAX_CONDITIONS:
                raise GridModelError(f"bad combined filter of {column.key!r}")
            joined = f" {operator} ".join(self._condition(column, c, sql, depth + 1, base, raw) for c in conditions)
            return f"({joined})"
        x = self._expr(column, sql, base, raw)
        op = spec.get("type")
        if op == "blank":
            return f"({x} IS NULL)" if column.kind != "text" else f"({x} IS NULL OR {x} = '')"
        if op == "notBlank":
            return f"({x} IS NOT NULL)" if column.kind != "text" else f"({x} IS NOT NULL AND {x} <> '')"
        if column.kind == "text":
            if op not in _TEXT_OPS:
                raise GridModelError(f"unknown text filter {str(op)[:30]!r}")
            value = spec.get("filter")
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise GridModelError(f"text filter of {column.key!r} needs a text value")
            return "(" + _TEXT_OPS[op].format(x=x, v=sql.bind(str(value)[:_MAX_TEXT])) + ")"
        if column.kind == "number":
            lo = _number(spec.get("filter"), column.key)
            if op == "inRange":
                hi = _number(spec.get("filterTo"), column.key)
                return f"({x} >= {sql.bind(lo)} AND {x} <= {sql.bind(hi)})"
            if op not in _CMP_OPS:
                raise GridModelError(f"unknown number filter {str(op)[:30]!r}")
            return f"({x} {_CMP_OPS[op]} {sql.bind(lo)})"
        # dates: whole local days of the deployment zone
        day = self._day(spec.get("dateFrom"), column.key)
        start, next_day = self._midnight(day), self._midnight(day + timedelta(days=1))
        if op == "equals":
            return f"({x} >= {sql.bind(start)} AND {x} < {sql.bind(next_day)})"
        if op == "notEqual":
            return f"({x} IS NULL OR {x} < {sql.bind(start)} OR {x} >= {sql.bind(next_day)})"
        if op == "lessThan":
            return f"({x} < {sql.bind(start)})"
        if op == "greaterThan":
            return f"({x} >= {sql.bind(next_day)})"
        if op == "inRange":
            last = self._day(spec.get("dateTo"), column.key)
            if last < day:
                day, last = last, day
                start = self._midnight(day)
            return f"({x} >= {sql.bind(start)} AND {x} < {sql.bind(self._midnight(last + timedelta(days=1)))})"
        raise GridModelError(f"unknown date filter {str(op)[:30]!r}")

    def _day(self, value: Any, key: str) -> date:
        """AG Grid's ``"2026-11-20 00:00:00"`` (or ``"2026-11-20"``) as a date."""
        if not isinstance(value, str) or not _DATE.fullmatch(value.strip()):
            raise GridModelError(f"date filter of {key!r} needs a date, got {str(value)[:30]!r}")
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError as exc:
            raise GridModelError(f"date filter of {key!r}: {value[:30]!r} is not a date") from exc

    def _midnight(self, day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(self.settings.timezone))

    def _order(self, sql: _Sql) -> str:
        model = list(self.sort_model or ()) or list(DEFAULT_SORT)
        if len(model) > len(COLUMNS):
            raise GridModelError("too many sort columns")
        parts, seen = [], set()
        for item in model:
            if not isinstance(item, Mapping):
                raise GridModelError("a sort entry must be an object")
            column = self._column(item.get("colId"))
            direction = {"asc": "ASC", "desc": "DESC"}.get(item.get("sort"))
            if direction is None:
                raise GridModelError(f"sort of {column.key!r} must be asc or desc")
            if column.key in seen:
                continue
            seen.add(column.key)
            sql.use(column)
            parts.append(f"{self._expr(column, sql)} {direction} NULLS LAST")
        if "case_id" not in seen:
            parts.append("e.case_id ASC")  # a total order: pages never overlap or skip
        return ", ".join(parts)

    # --- SQL ------------------------------------------------------------------------------------------
    def _render(self, name: str, *, joins: set[str], columns: str | None = None, where: str = "TRUE",
                source: str = "events", flags: dict[str, bool] | None = None) -> tuple[str, dict[str, Any]]:
        ctx = self._ctx
        text, scope_params = sqlfiles.render(name, self.scope, district_id=ctx.facts.district_id,
                                             flags={**ctx.facts.flags, **(flags or {})})
        joined = "\n".join(_JOINS[j] for j in sorted(joins))
        text = (text.replace("/*cases:source*/", source).replace("/*cases:joins*/", joined)
                .replace("/*cases:where*/", where).replace("/*cases:order*/", self._order_sql))
        if columns is not None:
            text = text.replace("/*cases:columns*/", columns)
        if "/*cases:" in text:
            raise ValueError(f"{name}.sql has a cases marker that was not filled in")
        ws, we = self._bounds
        params = {"now": ctx.now, "ws": ws, "we": we, **self._filter[1].params, **scope_params}
        return text, params

    def _filtered(self, name: str) -> tuple[str, dict[str, Any]]:
        where, sql = self._filter
        joins = sql.joins | self._sorting.joins
        source = "case_due" if (sql.due or self._sorting.due) else "events"
        return self._render(name, joins=joins, where=where, source=source)

    def count(self) -> int:
        """How many cases the view and the column filters select."""
        where, sql = self._filter
        text, params = self._render("cases_count", joins=sql.joins, where=where,
                                    source="case_due" if sql.due else "events")
        return int(self.con.execute(text, sqlfiles.used_params(text, params)).fetchall()[0][0])

    def page(self, offset: int, limit: int) -> pd.DataFrame:
        """Rows ``offset .. offset + limit - 1`` in the table's order, with the display columns.

        Args:
            offset: the first row (0-based).
            limit: how many rows, at most :data:`MAX_PAGE`.

        Returns:
            Columns :meth:`columns` plus ``overdue_flag`` (bool); fewer rows past the end.
        """
        offset, limit = int(offset), int(limit)
        if offset < 0 or not 0 < limit <= MAX_PAGE:
            raise GridModelError(f"a page is 1 to {MAX_PAGE} rows from row 0 on, got {offset}+{limit}")
        text, params = self._filtered("cases_keys")
        keys = self.con.execute(text, sqlfiles.used_params(text, {**params, "limit": limit, "offset": offset})
                                ).fetchall()
        if not keys:
            return self._empty()
        ids = [k[0] for k in keys]
        lo, hi = min(k[1] for k in keys), max(k[1] for k in keys)
        text, params = self._rows_sql(page=True)
        df = self.con.execute(text, sqlfiles.used_params(text, {**params, "ids": ids, "lo": lo, "hi": hi})).df()
        return df.reset_index(drop=True)

    def _rows_sql(self, page: bool) -> tuple[str, dict[str, Any]]:
        display = _Sql(params=dict(self._filter[1].params))
        cols = []
        for column in COLUMNS.values():
            display.use(column)
            cols.append(f"{self._expr(column, display)} AS {column.key}")
        cols += [f"{expr} AS {name}" for name, expr in _EXTRA.items()]
        where, sql = self._filter
        joins = display.joins | self._sorting.joins | sql.joins
        text, params = self._render("cases_rows", joins=joins, columns=", ".join(cols),
                                    where="TRUE" if page else where, source="case_due",
                                    flags={"page": page, "limit": not page})
        return text, {**params, **display.params}

    def iter_batches(self, limit: int, batch_rows: int = 10_000) -> Iterator[pd.DataFrame]:
        """Every row of the table in its order, up to ``limit`` rows, ``batch_rows`` at a time.

        The rows stream from DuckDB as Arrow record batches: an export never holds more than one
        batch in Python (Arrow is also ~10x faster than ``fetchmany``, whose per-value conversion of
        time-zone-aware timestamps took 9 s for 100,000 rows). Each frame has the columns of
        :meth:`columns` then ``overdue_flag``, timestamps in the deployment zone.
        """
        text, params = self._rows_sql(page=False)
        rel = self.con.sql(text, params=sqlfiles.used_params(text, {**params, "limit": int(limit)}))
        for batch in rel.to_arrow_reader(batch_rows):
            if batch.num_rows:
                df = batch.to_pandas()
                for col in _TIMES:
                    df[col] = pd.to_datetime(df[col], utc=True).dt.tz_convert(self._ctx.tz)
                yield df

    @staticmethod
    def columns() -> list[str]:
        """The display columns of :meth:`page` and :meth:`iter_batches`, in order."""
        return list(COLUMNS)

    def _empty(self) -> pd.DataFrame:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in [*COLUMNS, *_EXTRA]})


def _matches(spec: Mapping[str, Any], label: str) -> bool:
    """Whether a (validated) text filter model keeps ``label``: the SQL of ``_TEXT_OPS`` in Python."""
    if "conditions" in spec:
        found = [_matches(c, label) for c in spec["conditions"]]
        return all(found) if spec.get("operator", "AND") == "AND" else any(found)
    op, text, value = spec.get("type"), label.lower(), str(spec.get("filter", ""))[:_MAX_TEXT].lower()
    return {"blank": text == "", "notBlank": text != "", "equals": text == value, "notEqual": text != value,
            "contains": value in text, "notContains": value not in text, "startsWith": text.startswith(value),
            "endsWith": text.endswith(value)}[op]


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        raise GridModelError(f"number filter of {key!r} needs a number")
    return float(value)


# --- one case ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Lifecycle:
    """One case and its promise: what happened when, and each SLA stage's deadline and outcome.

    Attributes:
        case: the case's columns (``case_one.sql``) as a dict.
        stages: one row per stage of :data:`metrics.sla.STAGES`, columns ``stage``, ``due_at``,
            ``done_at``, ``outcome`` (``met``, ``breached``, ``pending`` or ``not_applicable``),
            ``overdue``, ``seconds_left`` (pending stages: deadline minus now, negative when late),
            ``overdue_seconds``.
        now: the as-of time the pending stages are judged at.
    """

    case: dict[str, Any]
    stages: pd.DataFrame
    now: datetime


def case_lifecycle(con: duckdb.DuckDBPyConnection, case_id: str, area: Scope, now: datetime,
                   settings: Settings) -> Lifecycle | None:
    """The lifecycle of ``case_id`` if it lies in ``area`` (filters and window do not apply); else ``None``.

    The deadlines are :func:`metrics.sla.deadlines` (the rules' oracle) under the deployment's
    rules and calendar, judged at ``now``. A stage the rules do not apply to (no dispatch needed,
    no closure of a cancelled case, a stage cut short by a cancellation before its deadline) or that
    the source does not record (no case of the warehouse has its time) is ``not_applicable``.
    """
    ctx = queries.prepare(con, now, settings)
    area_only = Scope(area.area_id, level=area.level)
    text, params = ctx.render("case_one", {"case_id": str(case_id)[:_MAX_TEXT]}, scope=area_only)
    df = con.execute(text, params).df()
    if df.empty:
        return None
    for col in ("received_at", "accepted_at", "dispatched_at", "closed_at", "due_at"):
        df[col] = pd.to_datetime(df[col], utc=True).dt.tz_convert(ctx.tz)
    due = deadlines(df, ctx.rules, ctx.calendar, ctx.tz, ctx.now)
    recorded = {"accept": ctx.facts.accept_recorded, "dispatch": ctx.facts.dispatch_recorded, "close": True}
    rows = []
    for stage in STAGES:
        hit = due[due["stage"] == stage]
        if hit.empty or not recorded[stage]:
            rows.append({"stage": stage, "due_at": pd.NaT, "done_at": pd.NaT, "outcome": "not_applicable",
                         "overdue": False, "seconds_left": math.nan, "overdue_seconds": 0.0})
        else:
            rows.append({k: hit.iloc[0][k] for k in DEADLINE_COLUMNS if k != "case_id"})
    case = {k: (None if _missing(v) else v) for k, v in df.iloc[0].to_dict().items()}
    return Lifecycle(case, pd.DataFrame(rows), ctx.now)


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
