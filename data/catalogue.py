"""Deprecated import path of the demo catalogue and the enumerations.

Use :mod:`data.demo.catalogue` (categories, departments, channels) and :mod:`data.enums` (the
values validation accepts). Kept only for ``tests/metrics/conftest.py`` (outside this branch);
delete it once that imports ``from data.demo import catalogue as cat``.
"""

from __future__ import annotations

from data.demo.catalogue import (
    CATEGORIES,
    CHANNELS,
    DEPARTMENTS,
    STREET_OFFICES,
    TOP_CATEGORIES,
    Category,
    Department,
    categories_frame,
    channels_frame,
    departments_frame,
)
from data.enums import (
    AGE_BANDS,
    ASSET_KINDS,
    ASSET_STATUSES,
    ENTERPRISE_SIZES,
    HOUSING_KINDS,
    INDUSTRIES,
    OPEN_STATUSES,
    PEOPLE_KINDS,
    RISK_LEVELS,
    ROUTES,
    STATUSES,
    URGENCIES,
)

__all__ = [
    "AGE_BANDS", "ASSET_KINDS", "ASSET_STATUSES", "CATEGORIES", "CHANNELS", "DEPARTMENTS", "ENTERPRISE_SIZES",
    "HOUSING_KINDS", "INDUSTRIES", "OPEN_STATUSES", "PEOPLE_KINDS", "RISK_LEVELS", "ROUTES", "STATUSES",
    "STREET_OFFICES", "TOP_CATEGORIES", "URGENCIES", "Category", "Department", "categories_frame", "channels_frame",
    "departments_frame",
]
