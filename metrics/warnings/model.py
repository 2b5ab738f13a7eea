"""The shared model of the early warnings: one :class:`Warning` record, data only.

A detector says what it found (its kind, level, the area, the warehouse names of what it is
about and the numbers behind it); the dashboard turns that into a sentence in the reader's
language (``dashboard/i18n.py``, ``dashboard/components/warnings.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["Warning"]


@dataclass(frozen=True)
class Warning:  # noqa: A001 - the dashboard's word for it; shadows the builtin only where imported
    """One early warning: what it is about and the numbers behind it, no sentence.

    Attributes:
        kind: ``"surge"`` or ``"efficiency"``.
        level: ``"red"`` or ``"amber"``.
        area_id: the area it is about (for a department: the scope's area).
        names: the warehouse names (zh, en) of what it is about: a surge has ``"street"``,
            ``"area"`` and ``"category"``, an efficiency warning ``"unit"`` (the department or street).
        evidence: the numbers (counts, expected counts, p-values, rates) and ids behind it; each
            detector documents its keys.
        detected_at: the as-of time of the detector run (the same for every warning of one run).
    """

    kind: str
    level: str
    area_id: str
    names: dict[str, tuple[str, str]] = field(default_factory=dict)
    evidence: dict = field(default_factory=dict)
    detected_at: datetime | None = None
