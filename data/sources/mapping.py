"""The source mapping: a TOML file saying how a city's export becomes GridPulse cases.

One file per source (``examples/la311/source-2020.toml``); the reference is ``docs/your-own-data.md``.
Every problem is reported by :class:`MappingError` naming the key, before any file is read.

A *field spec* (what ``[fields]`` and a few other keys hold) is one of:

* ``"column name"``: the value of that column;
* ``{ const = "text" }``: the same value on every row;
* ``{ template = "{Borough}-{Agency}" }``: column values put into a text (``{{`` for a brace).
"""

from __future__ import annotations

import string
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from data.enums import ROUTES, STATUSES, URGENCIES

__all__ = ["MappingError", "FieldSpec", "ValueMap", "SourceMapping", "load_mapping", "parse_mapping",
           "EVENT_FIELDS", "OPEN311_FIELDS", "TIME_FIELDS", "KINDS", "ENCODINGS"]

KINDS = ("open311", "table")
# Accepted encodings (lower case) and the Python codec used: UTF-8 with or without a BOM reads the same;
# GBK files are read as GB18030, its superset (a GBK file is valid GB18030).
ENCODINGS = {"utf-8": "utf-8-sig", "utf8": "utf-8-sig", "utf-8-sig": "utf-8-sig", "utf-8-bom": "utf-8-sig",
             "gb18030": "gb18030", "gbk": "gb18030", "gb2312": "gb18030", "latin-1": "latin-1",
             "cp1252": "cp1252"}
# The fields of a case a mapping may fill ([fields] keys); microgrid_id is [placement] area.
EVENT_FIELDS = ("case_id", "channel", "category", "category_parent", "urgency", "route", "department",
                "needs_dispatch", "summary", "lon", "lat", "received_at", "accepted_at", "dispatched_at",
                "closed_at", "status", "satisfaction", "updated_at", "due_at")
TIME_FIELDS = ("received_at", "accepted_at", "dispatched_at", "closed_at", "updated_at", "due_at")
_REQUIRED = ("case_id", "received_at", "category")
# Open311 GeoReport v2: the flattened request (see data.sources.open311) feeds these by default.
OPEN311_FIELDS = {
    "case_id": "service_request_id", "category": "service_name", "department": "agency_responsible",
    "received_at": "requested_datetime", "updated_at": "updated_datetime", "due_at": "expected_datetime",
    "accepted_at": "note_accepted", "dispatched_at": "note_dispatched", "closed_at": "note_closed",
    "status": "status", "lat": "lat", "lon": "long", "channel": "channel", "summary": "service_name",
}
_OPEN311_FORMATS = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S")


class MappingError(ValueError):
    """A source mapping GridPulse cannot use; the message names the key (``fields.received_at``)."""


@dataclass(frozen=True)
class FieldSpec:
    """Where one value comes from: a column, a constant or a template (exactly one is set)."""

    column: str | None = None
    const: str | None = None
    template: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """The source columns this spec reads."""
        if self.column is not None:
            return (self.column,)
        if self.template is not None:
            return tuple(f for _, f, _, _ in string.Formatter().parse(self.template) if f)
        return ()


@dataclass(frozen=True)
class ValueMap:
    """Source values to GridPulse values; values not listed become ``default`` (None: kept as they are)."""

    values: Mapping[str, str] = field(default_factory=dict)
    default: str | None = None

    def apply(self, value: str) -> str | None:
        """The mapped value (matching ignores case and surrounding spaces)."""
        key = value.strip().casefold()
        for k, v in self.values.items():
            if k.strip().casefold() == key:
                return v
        return self.default if self.default is not None else (value.strip() or None)


@dataclass(frozen=True)
class SourceMapping:
    """A validated source mapping."""

    path: Path
    name: str
    kind: str
    encoding: str  # the Python codec
    sheet: str | int | None
    timezone: str | None  # None: the deployment's zone
    formats: tuple[str, ...]
    fields: Mapping[str, FieldSpec]
    status: ValueMap
    channel: ValueMap
    urgency: ValueMap
    category: ValueMap
    category_parent_name: str | None
    category_parents: ValueMap  # [category.parents]: category (after [category.map]) -> its level-1 group
    area: FieldSpec | None  # [placement] area: the finest-level area id of rows without coordinates
    area_map: ValueMap  # [placement.map]: area values to area ids (values not listed are ids already)
    notes: Mapping[str, tuple[str, ...]]  # open311: stage -> words a note's summary or type contains
    channel_names: Mapping[str, str]

    @property
    def columns(self) -> tuple[str, ...]:
        """Every source column the mapping reads, each once, in mapping order."""
        out: list[str] = []
        specs = [*self.fields.values(), *([self.area] if self.area else [])]
        for spec in specs:
            out.extend(c for c in spec.columns if c not in out)
        return tuple(out)


def load_mapping(path: Path) -> SourceMapping:
    """Read and validate a mapping file.

    Raises:
        MappingError: the file is missing, is not TOML, or a key is wrong (the message names it).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(f"{path}: cannot read the source mapping: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{path}: not valid TOML: {exc}") from None
    return parse_mapping(data, Path(path))


def parse_mapping(data: Mapping, path: Path = Path("<mapping>")) -> SourceMapping:
    """Validate a mapping already read from TOML (see :func:`load_mapping`)."""
    def bad(key: str, why: str) -> MappingError:
        return MappingError(f"{path}: {key}: {why}")

    known = {"source", "fields", "status", "channel", "urgency", "category", "placement", "open311", "sla"}
    for key in data:
        if key not in known:
            raise bad(key, f"unknown section; expected one of {', '.join(sorted(known - {'sla'}))}")
    if "sla" in data:
        raise bad("sla", "SLA rules are deployment settings: put [sla.<category id>] in gridpulse.toml "
                         "(see docs/your-own-data.md)")
    src = _table(data, "source", bad, required=True)
    _only(src, "source", {"name", "kind", "encoding", "sheet", "timezone", "datetime_formats"}, bad)
    name = _text(src, "name", "source", bad, required=True)
    kind = _text(src, "kind", "source", bad) or "table"
    if kind not in KINDS:
        raise bad("source.kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    enc = (_text(src, "encoding", "source", bad) or "utf-8").lower()
    if enc not in ENCODINGS:
        raise bad("source.encoding", f"{enc!r} is not one of {', '.join(ENCODINGS)}")
    sheet = src.get("sheet")
    if sheet is not None and (isinstance(sheet, bool) or not isinstance(sheet, str | int)):
        raise bad("source.sheet", "expected a sheet name or its number (0 is the first)")
    tz = _text(src, "timezone", "source", bad)
    if tz:
        try:
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise bad("source.timezone", f"{tz!r} is not an IANA time zone such as America/Los_Angeles") from None
    formats = src.get("datetime_formats", list(_OPEN311_FORMATS) if kind == "open311" else [])
    if not isinstance(formats, list) or not all(isinstance(f, str) and "%" in f for f in formats):
        raise bad("source.datetime_formats", "expected a list of strptime formats such as \"%m/%d/%Y %I:%M:%S %p\"")

    raw_fields = dict(OPEN311_FIELDS) if kind == "open311" else {}
    raw_fields.update(_table(data, "fields", bad, required=kind != "open311"))
    fields: dict[str, FieldSpec] = {}
    for key, value in raw_fields.items():
        if key not in EVENT_FIELDS:
            raise bad(f"fields.{key}", f"unknown field; expected one of {', '.join(EVENT_FIELDS)}")
        fields[key] = _spec(value, f"fields.{key}", bad)
    for key in _REQUIRED:
        if key not in fields:
            raise bad(f"fields.{key}", "required: name the column that holds it")

    status = _value_map(data, "status", bad, allowed=STATUSES)
    if kind == "open311" and not status.values:  # GeoReport v2 knows only open and closed
        status = ValueMap({"open": "received", "closed": "closed"}, status.default)
    channel = _value_map(data, "channel", bad, default="other")
    urgency = _value_map(data, "urgency", bad, allowed=URGENCIES, default="normal")
    cat = _table(data, "category", bad)
    _only(cat, "category", {"map", "default", "parent_name", "parents"}, bad)
    category = _value_map(data, "category", bad, extra={"parent_name", "parents"})
    parents = cat.get("parents", {})
    if not isinstance(parents, dict) or not all(isinstance(v, str) and v.strip() for v in parents.values()):
        raise bad("category.parents", 'expected a table of "category" = "level-1 group"')
    category_parents = ValueMap(dict(parents), None)
    parent_name = _text(cat, "parent_name", "category", bad)
    for k in ("route",):
        spec = fields.get(k)
        if spec and spec.const is not None and spec.const not in ROUTES:
            raise bad(f"fields.{k}", f"{spec.const!r} is not one of {', '.join(ROUTES)}")
    place = _table(data, "placement", bad)
    _only(place, "placement", {"area", "map"}, bad)
    area = _spec(place["area"], "placement.area", bad) if "area" in place else None
    area_map = _value_map({"placement": {"map": place.get("map", {})}}, "placement", bad)
    notes_cfg = _table(data, "open311", bad)
    _only(notes_cfg, "open311", {"accepted_notes", "dispatched_notes", "closed_notes"}, bad)
    notes = {
        "accepted": _words(notes_cfg, "accepted_notes", ("accepted", "assign")),
        "dispatched": _words(notes_cfg, "dispatched_notes", ("dispatched", "crew")),
        "closed": _words(notes_cfg, "closed_notes", ("closed",)),
    }
    for stage, words in notes.items():
        if not all(isinstance(w, str) and w for w in words):
            raise bad(f"open311.{stage}_notes", "expected a list of words")
    names = {"qr": "QR code", "hotline": "Hotline", "patrol": "Patrol", "camera": "Camera", "other": "Other"}
    return SourceMapping(path, name, kind, ENCODINGS[enc], sheet, tz, tuple(formats), fields, status, channel,
                         urgency, category, parent_name, category_parents, area, area_map, notes, names)


def _table(data: Mapping, key: str, bad, required: bool = False) -> dict:
    value = data.get(key)
    if value is None:
        if required:
            raise bad(key, "missing section")
        return {}
    if not isinstance(value, dict):
        raise bad(key, "expected a table")
    return value


def _only(table: Mapping, prefix: str, keys: set[str], bad) -> None:
    for key in table:
        if key not in keys:
            raise bad(f"{prefix}.{key}", f"unknown key; expected one of {', '.join(sorted(keys))}")


def _text(table: Mapping, key: str, prefix: str, bad, required: bool = False) -> str | None:
    value = table.get(key)
    if value is None:
        if required:
            raise bad(f"{prefix}.{key}", "required")
        return None
    if not isinstance(value, str) or not value.strip():
        raise bad(f"{prefix}.{key}", f"expected a non-empty text, got {value!r}")
    return value.strip()


def _spec(value, key: str, bad) -> FieldSpec:
    if isinstance(value, str) and value:
        return FieldSpec(column=value)
    if isinstance(value, dict) and len(value) == 1:
        (kind, text), = value.items()
        if kind == "const" and isinstance(text, str | int | float | bool):
            return FieldSpec(const=str(text).lower() if isinstance(text, bool) else str(text))
        if kind == "template" and isinstance(text, str):
            try:
                parts = list(string.Formatter().parse(text))
            except ValueError as exc:
                raise bad(key, f"bad template {text!r}: {exc}") from None
            if any(f is not None and (not f or s or c) for _, f, s, c in parts):
                raise bad(key, f"bad template {text!r}: use plain column names in braces, like {{Borough}}")
            return FieldSpec(template=text)
    raise bad(key, f'expected a column name, {{ const = "..." }} or {{ template = "..." }}, got {value!r}')


def _value_map(data: Mapping, key: str, bad, allowed=None, default: str | None = None,
               extra: set[str] = frozenset()) -> ValueMap:
    table = _table(data, key, bad)
    _only(table, key, {"map", "default"} | set(extra), bad)
    values = table.get("map", {})
    if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
        raise bad(f"{key}.map", 'expected a table of "source value" = "GridPulse value"')
    dflt = table.get("default", default)
    if dflt is not None and not isinstance(dflt, str):
        raise bad(f"{key}.default", f"expected a text, got {dflt!r}")
    if allowed is not None:
        for src, v in [*values.items(), *([("default", dflt)] if dflt is not None else [])]:
            if v not in allowed:
                where = f"{key}.default" if src == "default" else f"{key}.map.{src!r}"
                raise bad(where, f"{v!r} is not one of {', '.join(allowed)}")
    return ValueMap(dict(values), dflt)


def _words(table: Mapping, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = table.get(key, list(default))
    return tuple(value) if isinstance(value, list) else (value,)
