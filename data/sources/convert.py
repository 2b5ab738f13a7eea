"""A source's rows (strings) through its mapping into GridPulse case records and the reference rows they use.

Pure functions of a frame and a mapping, so each rule is tested on a tiny frame:

* **times**: each value is tried against the mapping's formats in order (vectorised, one
  ``pandas.to_datetime`` per format); a naive time is local time of the source's zone, an aware one
  keeps its offset. A value no format reads is passed on as its text: the ETL quarantines the row
  with ``bad_timestamp`` and the detail shows the text (a row is never dropped here).
* **status vs times, the times win**: the stage a case's times reach (closed > dispatched > accepted >
  received) decides; the mapped status is kept only when it names that stage (closed or cancelled;
  dispatched or in_progress), otherwise it becomes the stage's own word. "Closed" without a closing
  time is an open case; "Open" with a closing time is closed.
* **updated_at** is at least the latest stage time (a source whose "updated" column is older than its
  own closing time would otherwise lose the row to ``time_order``); a source without it uses that
  latest time.
* **ids**: categories and departments get ids from their text (lower case, words joined by ``-``),
  the text becomes their name; the level-1 parent of every category is ``category_parent``.
* **placement**: coordinates when the row has both; else the ``[placement] area`` value as the
  finest-level area id (the ETL quarantines an id the geography does not know: ``unknown_area``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from data.sources.mapping import TIME_FIELDS, FieldSpec, SourceMapping

__all__ = ["Converted", "convert", "parse_times", "stage_status", "slug", "EVENT_COLUMNS"]

# The landing columns of an events file, in table order (due_at last, as in the table).
EVENT_COLUMNS = ("case_id", "channel", "category_id", "urgency", "route", "department_id", "needs_dispatch", "summary",
                 "microgrid_id", "lon", "lat", "received_at", "accepted_at", "dispatched_at", "closed_at", "status",
                 "satisfaction", "updated_at", "due_at")
_STAGE_WORD = {3: "closed", 2: "dispatched", 1: "accepted", 0: "received"}
_STAGE_OF = {"closed": 3, "cancelled": 3, "dispatched": 2, "in_progress": 2, "accepted": 1, "received": 0}
_NO_DEPARTMENT = "unassigned"


@dataclass
class Converted:
    """The landing rows of one import: events plus the reference rows they use."""

    events: pd.DataFrame
    categories: pd.DataFrame
    departments: pd.DataFrame
    channels: pd.DataFrame
    status_changed: int = 0  # rows whose status the times overruled
    unread_times: dict[str, int] = field(default_factory=dict)  # field -> values no format read


def slug(text: str) -> str:
    """An id from a display text: lower case, runs of other characters as one ``-`` (letters of any script kept).

    >>> slug("Bulky Items"), slug("Metal/Household Appliances"), slug("噪音扰民")
    ('bulky-items', 'metal-household-appliances', '噪音扰民')
    """
    text = unicodedata.normalize("NFKC", text).casefold().strip()
    return re.sub(r"[^\w]+", "-", text).strip("-_")


def _values(df: pd.DataFrame, spec: FieldSpec | None) -> pd.Series:
    """A field's values as stripped strings ('' when absent)."""
    if spec is None:
        return pd.Series([""] * len(df), index=df.index, dtype=object)
    if spec.const is not None:
        return pd.Series([spec.const] * len(df), index=df.index, dtype=object)
    if spec.column is not None:
        return df[spec.column].astype(str).str.strip().astype(object)
    cols = spec.columns
    return pd.Series([spec.template.format(**{c: str(r[i]).strip() for i, c in enumerate(cols)})
                      for r in zip(*(df[c] for c in cols), strict=True)] if cols else [spec.template] * len(df),
                     index=df.index, dtype=object)


def parse_times(values: pd.Series, formats: tuple[str, ...], zone: str) -> tuple[pd.Series, pd.Series]:
    """Read timestamps: (aware times in ``zone``, NaT where none read; mask of non-empty values none read).

    Each format is tried on the values still unread, in order; with no formats, ISO 8601. Naive times
    are local times of ``zone`` (a time that does not exist at the spring change moves an hour forward; an
    ambiguous one at the autumn change is read as standard time).
    """
    text = values.astype(str).str.strip()
    out = pd.Series(pd.NaT, index=values.index, dtype=f"datetime64[us, {zone}]")
    todo = text != ""
    for fmt in formats or ("ISO8601",):
        if not todo.any():
            break
        sub = text[todo]
        aware = fmt == "ISO8601" or "%z" in fmt or fmt.endswith("Z")
        try:
            parsed = pd.to_datetime(sub, format=fmt, errors="coerce", utc=aware)
        except (ValueError, TypeError):
            continue
        if aware:
            parsed = parsed.dt.tz_convert(zone)
        else:
            parsed = parsed.dt.tz_localize(zone, ambiguous=np.zeros(len(parsed), dtype=bool),
                                           nonexistent=pd.Timedelta(hours=1))
        ok = parsed.notna()
        out.loc[ok[ok].index] = parsed[ok].astype(out.dtype)
        todo = todo & ~out.notna()
    return out, todo


def stage_status(mapped: pd.Series, accepted: pd.Series, dispatched: pd.Series, closed: pd.Series) -> pd.Series:
    """The status a case's times allow: the mapped one when it names the reached stage, else that stage's word.

    Args:
        mapped: GridPulse statuses from the status map (may be '' or unknown words: kept for the ETL to judge
            when the times agree with no stage change, i.e. never silently replaced by a valid word).
        accepted: the row has an acceptance time (booleans).
        dispatched: the row has a dispatch time.
        closed: the row has a closing time.
    """
    stage = np.where(closed, 3, np.where(dispatched, 2, np.where(accepted, 1, 0)))
    said = mapped.map(_STAGE_OF)
    keep = (said == stage) | said.isna() & (mapped.str.len() > 0) & ~mapped.isin(list(_STAGE_OF))
    words = pd.Series(stage, index=mapped.index).map(_STAGE_WORD)
    return mapped.where(keep, words)


def convert(df: pd.DataFrame, mapping: SourceMapping, zone: str) -> Converted:
    """Convert a source frame (strings) into landing rows; every input row gives exactly one events row."""
    f = mapping.fields
    tz = mapping.timezone or zone
    n = len(df)
    ev = pd.DataFrame(index=df.index)
    ev["case_id"] = _values(df, f.get("case_id"))
    raw_channel = _values(df, f.get("channel"))
    ev["channel"] = raw_channel.map(mapping.channel.apply).fillna("other")
    cat_text = _values(df, f.get("category"))
    mapped_cat = cat_text.map(lambda v: mapping.category.apply(v) if v else "")
    ev["category_id"] = mapped_cat.map(lambda v: slug(v) if v else "")
    ev["urgency"] = _values(df, f.get("urgency")).map(mapping.urgency.apply).fillna("normal")
    ev["route"] = _values(df, f.get("route")).replace("", "auto")
    dept_text = _values(df, f.get("department"))
    ev["department_id"] = dept_text.map(lambda v: slug(v) or _NO_DEPARTMENT)
    ev["needs_dispatch"] = _values(df, f.get("needs_dispatch")).replace("", "false")
    ev["summary"] = _values(df, f.get("summary")).str.replace(r"[\r\n]+", " ", regex=True).str.slice(0, 2000)
    lon, lat = _values(df, f.get("lon")), _values(df, f.get("lat"))
    has_xy = (lon != "") & (lat != "")
    area = _values(df, mapping.area).map(lambda v: mapping.area_map.apply(v) if v else "").fillna("")
    ev["microgrid_id"] = area.where(~has_xy & (area != ""), "")
    ev["lon"], ev["lat"] = lon, lat

    times: dict[str, pd.Series] = {}
    text: dict[str, pd.Series] = {}
    unread: dict[str, int] = {}
    for name in TIME_FIELDS:
        values = _values(df, f.get(name))
        parsed, bad = parse_times(values, mapping.formats, tz)
        times[name], text[name] = parsed, values
        if bad.any():
            unread[name] = int(bad.sum())
        ev[name] = _iso(parsed, values, bad)
    present = {k: (text[k] != "") for k in ("accepted_at", "dispatched_at", "closed_at")}
    mapped = _values(df, f.get("status")).map(lambda v: mapping.status.apply(v) if v else "").fillna("")
    status = stage_status(mapped.astype(str), present["accepted_at"], present["dispatched_at"], present["closed_at"])
    changed = int(((status != mapped) & (mapped != "")).sum())
    ev["status"] = status
    ev["satisfaction"] = _values(df, f.get("satisfaction"))
    stage_times = pd.concat([times[k] for k in ("received_at", "accepted_at", "dispatched_at", "closed_at")], axis=1)
    latest = stage_times.max(axis=1)
    upd = times["updated_at"]
    raised = upd.where(upd.isna() | latest.isna() | (upd >= latest), latest)
    raised = raised.where(raised.notna(), latest)
    upd_bad = (text["updated_at"] != "") & upd.isna()
    upd_text = text["updated_at"].where(text["updated_at"] != "", text["received_at"])  # no time read at all:
    upd_bad = upd_bad | (raised.isna() & (upd_text != ""))  # the received text, for the ETL's bad_timestamp
    ev["updated_at"] = _iso(raised, upd_text, upd_bad)
    ev = ev[list(EVENT_COLUMNS)].reset_index(drop=True)

    cats = pd.DataFrame({"id": ev["category_id"], "name": mapped_cat.reset_index(drop=True),
                         "parent": _values(df, f.get("category_parent")).reset_index(drop=True)})
    cats = cats[cats["id"] != ""]
    if mapping.category_parents.values:  # a listed category's group wins over category_parent
        listed = {k.strip().casefold(): v for k, v in mapping.category_parents.values.items()}
        cats["parent"] = [listed.get(str(n).strip().casefold(), p) for n, p in zip(cats["name"], cats["parent"],
                                                                                  strict=True)]
    cats["parent_text"] = cats["parent"].where(cats["parent"] != "", mapping.name)
    cats["parent"] = cats["parent_text"].map(slug)
    parents = cats.drop_duplicates("parent")
    one_group = not mapping.category_parents.values and (f.get("category_parent") is None
                                                          or f["category_parent"].const is not None)
    const_parent = mapping.category_parent_name if one_group else None  # parent_name names the one group
    parent_names = parents["parent_text"].map(lambda p: const_parent or p)
    level1 = pd.DataFrame({"category_id": parents["parent"], "parent_id": None, "level": 1, "name": parent_names,
                           "name_en": parent_names, "department_id": None})
    uniq = cats.drop_duplicates("id")
    level2 = pd.DataFrame({"category_id": uniq["id"], "parent_id": uniq["parent"], "level": 2, "name": uniq["name"],
                           "name_en": uniq["name"], "department_id": None})
    level1 = level1[~level1["category_id"].isin(level2["category_id"])]  # a category id is never its own parent
    categories = pd.concat([level1, level2], ignore_index=True)

    depts = pd.DataFrame({"department_id": ev["department_id"], "name": dept_text.reset_index(drop=True)})
    depts["name"] = depts["name"].where(depts["name"] != "", "Unassigned")
    depts = depts.drop_duplicates("department_id")
    departments = pd.DataFrame({"department_id": depts["department_id"], "name": depts["name"],
                                "name_en": depts["name"], "kind": "bureau"})
    chans = sorted(set(ev["channel"]) - {""})
    channels = pd.DataFrame({"channel": chans, "name": [mapping.channel_names.get(c, c.replace("_", " ").capitalize()) for c in chans],
                             "name_en": [mapping.channel_names.get(c, c.replace("_", " ").capitalize()) for c in chans]})
    assert len(ev) == n  # every row of the source is one row of the landing file
    return Converted(ev, categories.reset_index(drop=True), departments.reset_index(drop=True), channels,
                     changed, unread)


def _iso(parsed: pd.Series, text: pd.Series, bad: pd.Series) -> pd.Series:
    """ISO 8601 text with offset where read, the source text where no format read it, else ''."""
    iso = parsed.map(lambda t: t.isoformat() if not pd.isna(t) else "")
    return iso.where(~bad, text).astype(object)
