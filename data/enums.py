"""The enumerations of the warehouse: the values validation accepts, with their zh/en labels.

These belong to the product, not to a deployment: every source mapping (the demo, an Open311 feed,
a city's own export) must speak them. The catalogues that differ per deployment (categories,
departments, channels) are rows of the reference tables, loaded like any other data; the demo's
live in :mod:`data.demo.catalogue`.
"""

from __future__ import annotations

__all__ = [
    "STATUSES", "OPEN_STATUSES", "URGENCIES", "ROUTES", "ASSET_KINDS", "ASSET_STATUSES", "PEOPLE_KINDS",
    "AGE_BANDS", "HOUSING_KINDS", "ENTERPRISE_SIZES", "RISK_LEVELS", "INDUSTRIES",
]

# Lifecycle: received -> accepted -> dispatched -> in_progress -> closed; cancelled at any point.
STATUSES: dict[str, tuple[str, str]] = {
    "received": ("待受理", "Received"),
    "accepted": ("已受理", "Accepted"),
    "dispatched": ("已派遣", "Dispatched"),
    "in_progress": ("处置中", "In progress"),
    "closed": ("已办结", "Closed"),
    "cancelled": ("已撤销", "Cancelled"),
}
OPEN_STATUSES = ("received", "accepted", "dispatched", "in_progress")
URGENCIES: dict[str, tuple[str, str]] = {"urgent": ("紧急", "Urgent"), "normal": ("一般", "Normal")}
ROUTES: dict[str, tuple[str, str]] = {
    "auto": ("智能派单", "Auto-assigned"),
    "one_thing": ("高频一件事", "High-frequency 'one thing' flow"),
    "joint": ("多部门联办", "Multi-department joint handling"),
}
ASSET_KINDS: dict[str, tuple[str, str]] = {
    "camera": ("摄像头", "Camera"),
    "vehicle": ("处置车辆", "Vehicle"),
    "supply_depot": ("物资点", "Supply depot"),
    "hydrant": ("消防栓", "Hydrant"),
    "aed": ("AED", "AED"),
    "staff": ("网格员/工作人员", "Grid worker / staff"),
}
# online: working / on duty; busy: on a case (vehicles, staff); offline: down / off duty.
ASSET_STATUSES = ("online", "busy", "offline")
PEOPLE_KINDS = ("registered", "floating")
AGE_BANDS = ("0-17", "18-34", "35-59", "60-79", "80+")
HOUSING_KINDS = ("residential", "commercial", "mixed", "dormitory")
ENTERPRISE_SIZES = ("micro", "small", "medium", "large")
RISK_LEVELS = ("low", "medium", "high")
INDUSTRIES: dict[str, tuple[str, str]] = {
    "software": ("软件和信息服务", "Software & IT"),
    "manufacturing": ("制造业", "Manufacturing"),
    "retail": ("批发零售", "Retail & wholesale"),
    "catering": ("餐饮", "Catering"),
    "construction": ("建筑业", "Construction"),
    "logistics": ("物流仓储", "Logistics"),
    "hazchem": ("危化品经营", "Hazardous chemicals"),
    "services": ("居民服务", "Resident services"),
    "finance": ("金融", "Finance"),
    "education": ("教育培训", "Education"),
}
