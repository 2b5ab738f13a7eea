"""The analyst pages' view state: every filter in the URL, parsed and written back one way.

A view is the page's path plus its query string. Reloading it, sharing it or stepping back to it
with the browser's back button reproduces it exactly, because the page holds nothing the URL does
not say. :class:`ViewState` is that query string as data:

========== ======================================= =====================================
key         meaning                                  default (left out of the URL)
========== ======================================= =====================================
``win``     window: ``today``, ``7d``, ``30d``,      ``7d``
            ``90d``, ``this_week``, ``last_week``,
            ``custom``
``from``    first day of a custom window (ISO date)   —
``to``      last day of a custom window (included)    —
``scope``   an area id at any level                   the deployment's district
``cat``     category ids (either level), comma list   all
``ch``      channel ids, comma list                   all
``urg``     ``urgent`` or ``normal``                  both
``dep``     department ids, comma list                all
``lang``    ``zh`` or ``en``                          the deployment's language setting
========== ======================================= =====================================

Page-specific choices (the map's measure, the backlog's split ...) are further keys listed in
:data:`PAGE_KEYS`; each page validates its own. Values that no URL of ours produces (a window
name nobody knows, a malformed date) fall back to the default rather than failing: a hand-edited
link still opens a page. An unknown area is not silently replaced: the page says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from metrics.scope import URGENCIES, WINDOW_KEYS, Scope, Window

__all__ = ["DEFAULT_WINDOW", "FILTER_KEYS", "PAGE_KEYS", "ViewState"]

DEFAULT_WINDOW = "7d"
# The keys every analyst page shares (the filter bar), in URL order.
FILTER_KEYS = ("win", "from", "to", "scope", "cat", "ch", "urg", "dep", "lang")
# Page-specific keys: map measure and layers, backlog split and granularity, warnings kind and sort,
# the open case, the cases table's sort. A page ignores the keys of other pages.
PAGE_KEYS = ("measure", "layers", "by", "gran", "kind", "level", "sort", "case")
_LISTS = ("cat", "ch", "dep")
_MAX_LIST = 50  # more ids than any filter bar offers: a hand-made URL, cut short
_MAX_VALUE = 200  # characters of one value


def _first(value: object) -> str:
    """One query value as text (Dash hands repeated keys over as lists: the first wins)."""
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    return "" if value is None else str(value).strip()[:_MAX_VALUE]


def _ids(value: object) -> tuple[str, ...]:
    """A comma list of ids (repeated keys are joined), without blanks and duplicates, order kept."""
    parts = value if isinstance(value, (list, tuple)) else [value]
    out: list[str] = []
    for part in parts:
        for item in str(part or "").split(","):
            item = item.strip()[:_MAX_VALUE]
            if item and item not in out:
                out.append(item)
    return tuple(out[:_MAX_LIST])


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class ViewState:
    """What an analyst page shows: window, area, filters, language and the page's own choices.

    Attributes:
        window: a key of :data:`metrics.scope.WINDOW_KEYS`.
        first: first day of a ``custom`` window (``None`` otherwise).
        last: last day of a ``custom`` window, included.
        scope: the area id, or ``None`` for the deployment's district.
        categories, channels, departments: id filters; empty means all.
        urgency: ``"urgent"``, ``"normal"`` or ``None``.
        lang: ``"zh"`` or ``"en"``, or ``None`` for the deployment's default.
        extra: the page's own keys (:data:`PAGE_KEYS`) as sorted ``(key, value)`` pairs.
    """

    window: str = DEFAULT_WINDOW
    first: date | None = None
    last: date | None = None
    scope: str | None = None
    categories: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    urgency: str | None = None
    lang: str | None = None
    extra: tuple[tuple[str, str], ...] = field(default=())

    # --- parsing -------------------------------------------------------------------------------
    @classmethod
    def from_query(cls, query: Mapping[str, object]) -> ViewState:
        """From Dash's ``layout(**query)`` arguments (or any mapping of query keys to values)."""
        q = {str(k).lower(): v for k, v in query.items()}
        window = _first(q.get("win")) or DEFAULT_WINDOW
        first, last = _day(_first(q.get("from"))), _day(_first(q.get("to")))
        if window not in WINDOW_KEYS:
            window = DEFAULT_WINDOW
        if window == "custom" and (first is None or last is None):
            window, first, last = DEFAULT_WINDOW, None, None
        if window == "custom" and last < first:
            first, last = last, first
        if window != "custom":
            first = last = None
        urgency = _first(q.get("urg")) or None
        lang = _first(q.get("lang")).lower()[:2] or None
        extra = tuple(sorted((k, _first(q[k])) for k in PAGE_KEYS if k in q and _first(q[k])))
        return cls(window=window, first=first, last=last, scope=_first(q.get("scope")) or None,
                   categories=_ids(q.get("cat")), channels=_ids(q.get("ch")), departments=_ids(q.get("dep")),
                   urgency=urgency if urgency in URGENCIES else None,
                   lang=lang if lang in ("zh", "en") else None, extra=extra)

    @classmethod
    def from_search(cls, search: str | None) -> ViewState:
        """From a URL's query string (``?win=30d&scope=...``; the ``?`` is optional)."""
        pairs = parse_qsl((search or "").lstrip("?"), keep_blank_values=False)
        merged: dict[str, list[str]] = {}
        for k, v in pairs:
            merged.setdefault(k, []).append(v)
        return cls.from_query(merged)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ViewState:
        """From :meth:`to_dict` (what the page's ``dcc.Store`` holds)."""
        return cls.from_search((data or {}).get("search", ""))

    # --- writing -------------------------------------------------------------------------------
    def query(self) -> dict[str, str]:
        """The URL's query keys and values, defaults left out, in a fixed order."""
        out: dict[str, str] = {}
        if self.window != DEFAULT_WINDOW:
            out["win"] = self.window
        if self.window == "custom" and self.first and self.last:
            out["from"], out["to"] = self.first.isoformat(), self.last.isoformat()
        if self.scope:
            out["scope"] = self.scope
        for key, values in (("cat", self.categories), ("ch", self.channels)):
            if values:
                out[key] = ",".join(values)
        if self.urgency:
            out["urg"] = self.urgency
        if self.departments:
            out["dep"] = ",".join(self.departments)
        if self.lang:
            out["lang"] = self.lang
        out.update(dict(self.extra))
        return out

    def search(self, page_keys: bool = True) -> str:
        """The query string with its ``?`` (empty for the default view); without the page keys on request."""
        q = self.query()
        if not page_keys:
            q = {k: v for k, v in q.items() if k in FILTER_KEYS}
        return "?" + urlencode(q, safe=",") if q else ""

    def to_dict(self) -> dict[str, str]:
        """What a page's ``dcc.Store`` keeps: the canonical query string."""
        return {"search": self.search()}

    # --- changing ------------------------------------------------------------------------------
    def get(self, key: str, default: str | None = None) -> str | None:
        """A page key's value (:data:`PAGE_KEYS`)."""
        return dict(self.extra).get(key, default)

    def with_extra(self, **values: str | None) -> ViewState:
        """This state with page keys set (``None`` or ``""`` removes one)."""
        extra = dict(self.extra)
        for key, value in values.items():
            if key not in PAGE_KEYS:
                raise ValueError(f"{key!r} is not a page key; expected one of {PAGE_KEYS}")
            if value in (None, ""):
                extra.pop(key, None)
            else:
                extra[key] = str(value)
        return replace(self, extra=tuple(sorted(extra.items())))

    def filters_only(self) -> ViewState:
        """The shared filters without this page's own keys (links to the other pages)."""
        return replace(self, extra=())

    def with_scope(self, area_id: str | None) -> ViewState:
        """The same view of another area (drill-down, breadcrumb)."""
        return replace(self, scope=area_id or None)

    # --- meaning -------------------------------------------------------------------------------
    def window_at(self, now: datetime, tz: str) -> Window:
        """The :class:`~metrics.scope.Window` this state names, as of ``now``.

        A custom window ends at ``now`` at the latest: nothing after the as-of time is seen.
        """
        if self.window == "custom" and self.first and self.last:
            w = Window.days(self.first, self.last, tz)
            end = min(w.end, now)
            return Window(min(w.start, end), end, "custom")
        return Window.named(self.window, now, tz)

    def scope_of(self, area_id: str, level: str | None = None) -> Scope:
        """The metrics' :class:`~metrics.scope.Scope` of ``area_id`` with this state's filters.

        ``area_id`` is the state's area (or the district) as the caller resolved it.
        """
        return Scope(area_id, categories=self.categories, channels=self.channels, departments=self.departments,
                     urgency=self.urgency, level=level)

    @property
    def has_filters(self) -> bool:
        """Whether any case filter (not the area or window) is set."""
        return bool(self.categories or self.channels or self.departments or self.urgency)
