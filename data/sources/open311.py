"""Open311 GeoReport v2 ``GET /requests`` responses flattened into a table of strings.

A response is a JSON array of service requests; a paged extract is several such files (or one file
with several arrays' worth of requests: each file is read and the requests appended in file order).
A file holding an object with a ``requests`` or ``service_requests`` array is accepted too.

Each request becomes one row with the standard fields (``service_request_id``, ``status``,
``service_code``, ``service_name``, ``agency_responsible``, ``requested_datetime``,
``updated_datetime``, ``expected_datetime``, ``lat``, ``long``, ``address``, ...), the string values
of ``extended_attributes`` under their own names (``channel``, ``ward``, unless a standard field has
that name) and three columns read from ``notes[]``:

* ``note_accepted``: the time of the first note that says the request was accepted or assigned;
* ``note_dispatched``: the first note that says a crew was dispatched or a work order generated;
* ``note_closed``: the time of the note that says the request was closed, else for a closed request
  its ``updated_datetime`` (GeoReport v2 has no closing time of its own).

A note "says" a stage when its ``type`` equals one of the stage's words or its ``summary`` contains
one (case ignored; the words are the mapping's ``[open311]`` lists). Notes about follow-on requests
(``type`` starting with ``follow_on``) concern another request and are never read as stages.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from data.sources.tabular import SourceFileError

__all__ = ["read_open311", "flatten_request", "STANDARD_FIELDS"]

STANDARD_FIELDS = ("service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                   "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                   "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url")
_NOTE_COLUMNS = ("note_accepted", "note_dispatched", "note_closed")


def read_open311(paths: list[Path], notes: Mapping[str, tuple[str, ...]]) -> pd.DataFrame:
    """The requests of one or more GeoReport v2 response files as a frame of strings, in file order.

    Raises:
        SourceFileError: a file is not JSON or holds no array of requests.
    """
    rows: list[dict[str, str]] = []
    for path in paths:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SourceFileError(f"{path}: not a GeoReport v2 JSON response: {exc}") from None
        if isinstance(data, dict):
            data = data.get("requests", data.get("service_requests"))
        if not isinstance(data, list):
            raise SourceFileError(f"{path}: expected a JSON array of service requests (GET /requests)")
        rows.extend(flatten_request(r if isinstance(r, dict) else {}, notes) for r in data)
    columns = list(STANDARD_FIELDS) + list(_NOTE_COLUMNS)
    extra = sorted({k for r in rows for k in r} - set(columns))
    return pd.DataFrame(rows, columns=columns + extra, dtype=str).fillna("")


def flatten_request(req: Mapping, notes: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """One request as a flat dict of strings (see the module docstring for the columns)."""
    row = {k: _text(req.get(k)) for k in STANDARD_FIELDS}
    ext = req.get("extended_attributes")
    if isinstance(ext, dict):
        for k, v in ext.items():
            if k not in row and not isinstance(v, dict | list):
                row[k] = _text(v)
    found = {stage: "" for stage in notes}
    for note in req.get("notes") or []:
        if not isinstance(note, dict):
            continue
        kind = _text(note.get("type")).casefold()
        summary = _text(note.get("summary")).casefold()
        if kind.startswith("follow_on"):
            continue
        for stage, words in notes.items():
            if not found[stage] and any(kind == w.casefold() or w.casefold() in summary for w in words):
                found[stage] = _text(note.get("datetime"))
    row["note_accepted"] = found.get("accepted", "")
    row["note_dispatched"] = found.get("dispatched", "")
    closed = found.get("closed", "")
    if not closed and row["status"].strip().casefold() == "closed":
        closed = row["updated_datetime"]
    row["note_closed"] = closed
    return row


def _text(value) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value)
