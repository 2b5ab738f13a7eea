"""The demo's reference catalogues: case categories (two levels), departments and channels.

These are the rows of the demo's `categories`, `departments` and `channels` tables, and the street
offices keyed by the demo's street ids. A deployment on other data (LA 311, an Open311 feed) brings
its own catalogues through its source mapping; the enumerations every table uses are the product's
(:mod:`data.enums`).

The handling-time and seasonality parameters beside each category drive the demo generator;
they are rough orders of magnitude from published 12345/城市大脑 reports, not measurements.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = [
    "CHANNELS", "Category", "Department", "CATEGORIES", "DEPARTMENTS", "STREET_OFFICES", "TOP_CATEGORIES",
    "categories_frame", "departments_frame", "channels_frame",
]

# channel id -> (zh, en)
CHANNELS: dict[str, tuple[str, str]] = {
    "qr": ("滨安码", "QR code"),
    "hotline": ("12345热线", "12345 hotline"),
    "patrol": ("网格巡查", "Grid patrol"),
    "camera": ("视频智能发现", "Camera alert"),
    "other": ("其他", "Other"),
}


@dataclass(frozen=True)
class Department:
    """A responsible department (a district bureau or a street office)."""

    department_id: str
    name: str
    name_en: str
    kind: str  # "bureau" or "street"
    speed: float  # handling-time multiplier in the demo (1.0 = typical; >1 slower)


DEPARTMENTS: tuple[Department, ...] = (
    Department("D-CG", "区城管局", "City Management Bureau", "bureau", 1.0),
    Department("D-ZJ", "区住建局", "Housing & Construction Bureau", "bureau", 1.4),
    Department("D-HB", "生态环境分局", "Ecology & Environment Branch", "bureau", 1.3),
    Department("D-SJ", "区市场监管局", "Market Supervision Bureau", "bureau", 1.2),
    Department("D-GA", "公安分局", "Public Security Branch", "bureau", 0.6),
    Department("D-YJ", "区应急管理局", "Emergency Management Bureau", "bureau", 0.5),
    Department("D-JT", "区交通运输局", "Transport Bureau", "bureau", 1.1),
    Department("D-LS", "区林水局", "Forestry & Water Bureau", "bureau", 0.9),
    Department("D-MZ", "区民政局", "Civil Affairs Bureau", "bureau", 1.5),
    Department("D-WJ", "区卫健局", "Health Commission", "bureau", 1.0),
    Department("D-FG", "区发改局(物价)", "Development & Reform (prices)", "bureau", 1.6),
    Department("S-XX", "西兴街道办", "Xixing Street Office", "street", 0.9),
    Department("S-CH", "长河街道办", "Changhe Street Office", "street", 1.0),
    Department("S-PY", "浦沿街道办", "Puyan Street Office", "street", 1.1),
)
# Street offices handle many cases themselves: street id -> department id.
STREET_OFFICES = {"330108001": "S-XX", "330108002": "S-CH", "330108003": "S-PY"}


@dataclass(frozen=True)
class Category:
    """A second-level case category with the demo generator's parameters.

    ``season`` is a 12-tuple of monthly multipliers (Jan..Dec); ``close_h`` the median hours to
    close a normal case; ``urgent`` the share of urgent cases; ``dispatch`` the share that needs a
    crew; ``land`` the land uses where it happens more (multiplier 2.5).
    """

    category_id: str
    parent_id: str
    name: str
    name_en: str
    department_id: str
    share: float
    urgent: float
    close_h: float
    dispatch: float = 0.85
    season: tuple[float, ...] = (1,) * 12
    land: tuple[str, ...] = ()


_SPRING_AUTUMN = (0.7, 0.7, 1.2, 1.5, 1.4, 1.0, 0.8, 0.8, 1.3, 1.5, 1.2, 0.8)
_PLUM_RAIN = (0.3, 0.3, 0.5, 0.8, 1.2, 3.5, 3.0, 1.8, 1.5, 0.6, 0.3, 0.3)  # 梅雨 mid-June to July, typhoons Aug-Sep
_SUMMER = (0.6, 0.6, 0.8, 1.0, 1.3, 1.6, 1.8, 1.8, 1.3, 1.0, 0.7, 0.6)
_WINTER = (1.6, 1.5, 1.1, 0.8, 0.6, 0.6, 0.7, 0.7, 0.8, 1.0, 1.3, 1.6)

# Top-level categories: id -> (zh, en)
TOP_CATEGORIES: dict[str, tuple[str, str]] = {
    "CITY": ("市容环境", "City appearance"),
    "ENV": ("生态环境", "Environment"),
    "CONS": ("建设施工", "Construction"),
    "TRAF": ("交通出行", "Traffic"),
    "SAFE": ("安全隐患", "Safety hazards"),
    "WATER": ("水务防汛", "Water & flooding"),
    "MKT": ("市场监管", "Market supervision"),
    "ORDER": ("社会治安", "Public order"),
    "LIFE": ("民生服务", "Livelihood services"),
    "PROP": ("物业管理", "Property management"),
}

CATEGORIES: tuple[Category, ...] = (
    Category("CITY-01", "CITY", "垃圾满溢", "Overflowing bins", "D-CG", 0.070, 0.02, 8, land=("residential", "commercial")),
    Category("CITY-02", "CITY", "占道经营", "Street vending", "D-CG", 0.050, 0.01, 12, season=_SUMMER,
             land=("commercial", "mixed")),
    Category("CITY-03", "CITY", "乱堆乱放", "Dumped materials", "D-CG", 0.045, 0.01, 20),
    Category("CITY-04", "CITY", "违规广告牌", "Illegal billboards", "D-CG", 0.015, 0.01, 40, land=("commercial",)),
    Category("CITY-05", "CITY", "道路破损", "Damaged road surface", "D-JT", 0.025, 0.08, 48),
    Category("ENV-01", "ENV", "施工噪音", "Construction noise", "D-HB", 0.055, 0.03, 16, season=_SPRING_AUTUMN,
             land=("mixed", "residential")),
    Category("ENV-02", "ENV", "扬尘污染", "Construction dust", "D-HB", 0.030, 0.03, 24, season=_SPRING_AUTUMN,
             land=("mixed", "industrial")),
    Category("ENV-03", "ENV", "餐饮油烟", "Restaurant fumes", "D-HB", 0.025, 0.01, 40, land=("commercial",)),
    Category("ENV-04", "ENV", "社会生活噪音", "Neighbourhood noise", "S-XX", 0.040, 0.02, 10, season=_SUMMER,
             land=("residential",)),
    Category("ENV-05", "ENV", "工业废气异味", "Industrial odour", "D-HB", 0.012, 0.10, 36, land=("industrial",)),
    Category("CONS-01", "CONS", "违章搭建", "Illegal construction", "D-ZJ", 0.030, 0.02, 60),
    Category("CONS-02", "CONS", "夜间施工", "Night-time works", "D-ZJ", 0.020, 0.05, 12, season=_SPRING_AUTUMN,
             land=("mixed",)),
    Category("CONS-03", "CONS", "工地围挡破损", "Broken site hoarding", "D-ZJ", 0.010, 0.15, 24),
    Category("TRAF-01", "TRAF", "违停占道", "Illegal parking", "D-GA", 0.070, 0.02, 3, dispatch=0.95,
             land=("commercial", "residential")),
    Category("TRAF-02", "TRAF", "共享单车乱停", "Misparked shared bikes", "D-JT", 0.045, 0.01, 6,
             land=("commercial",)),
    Category("TRAF-03", "TRAF", "信号灯故障", "Traffic light fault", "D-JT", 0.010, 0.60, 8),
    Category("TRAF-04", "TRAF", "井盖缺失", "Missing manhole cover", "D-CG", 0.008, 0.90, 6),
    Category("SAFE-01", "SAFE", "消防通道占用", "Blocked fire lane", "D-YJ", 0.025, 0.30, 8, land=("residential",)),
    Category("SAFE-02", "SAFE", "电动车违规充电", "E-bike charging indoors", "D-YJ", 0.025, 0.40, 10,
             season=_WINTER, land=("residential",)),
    Category("SAFE-03", "SAFE", "燃气泄漏", "Gas leak", "D-YJ", 0.004, 0.95, 4),
    Category("SAFE-04", "SAFE", "危化品隐患", "Hazardous chemicals", "D-YJ", 0.004, 0.70, 24,
             land=("industrial",)),
    Category("SAFE-05", "SAFE", "树木倒伏", "Fallen tree", "D-LS", 0.008, 0.70, 8, season=_PLUM_RAIN),
    Category("WATER-01", "WATER", "道路积水", "Road flooding", "D-LS", 0.015, 0.50, 10, season=_PLUM_RAIN),
    Category("WATER-02", "WATER", "管道爆裂", "Burst water main", "D-LS", 0.008, 0.80, 8, season=_WINTER),
    Category("WATER-03", "WATER", "河道漂浮物", "River litter", "D-LS", 0.010, 0.02, 30, season=_SUMMER,
             land=("park",)),
    Category("WATER-04", "WATER", "停水", "Water outage", "D-LS", 0.010, 0.40, 12),
    Category("MKT-01", "MKT", "食品安全", "Food safety", "D-SJ", 0.015, 0.20, 48, land=("commercial",)),
    Category("MKT-02", "MKT", "价格投诉", "Price complaint", "D-FG", 0.012, 0.01, 72, dispatch=0.3),
    Category("MKT-03", "MKT", "无证经营", "Unlicensed business", "D-SJ", 0.012, 0.01, 60),
    Category("ORDER-01", "ORDER", "群租隐患", "Overcrowded rental", "D-GA", 0.012, 0.10, 60, land=("residential",)),
    Category("ORDER-02", "ORDER", "邻里纠纷", "Neighbour dispute", "S-CH", 0.025, 0.05, 30, dispatch=0.6,
             land=("residential",)),
    Category("ORDER-03", "ORDER", "流浪乞讨", "Homelessness", "D-MZ", 0.006, 0.10, 24, season=_WINTER),
    Category("LIFE-01", "LIFE", "路灯不亮", "Street light out", "D-CG", 0.035, 0.03, 30, season=_WINTER),
    Category("LIFE-02", "LIFE", "公共设施损坏", "Damaged public facility", "D-CG", 0.030, 0.03, 40),
    Category("LIFE-03", "LIFE", "老人关爱求助", "Elderly care request", "D-MZ", 0.012, 0.30, 24, dispatch=0.7,
             land=("residential",)),
    Category("LIFE-04", "LIFE", "政策咨询", "Policy enquiry", "S-PY", 0.030, 0.00, 24, dispatch=0.05),
    Category("LIFE-05", "LIFE", "医疗卫生", "Health services", "D-WJ", 0.010, 0.20, 48),
    Category("PROP-01", "PROP", "电梯故障", "Lift breakdown", "D-ZJ", 0.025, 0.60, 8, land=("residential",)),
    Category("PROP-02", "PROP", "物业服务纠纷", "Property service dispute", "D-ZJ", 0.035, 0.01, 80,
             dispatch=0.5, land=("residential",)),
    Category("PROP-03", "PROP", "小区绿化", "Estate greenery", "D-LS", 0.012, 0.01, 60, season=_SUMMER,
             land=("residential",)),
)


def categories_frame() -> pd.DataFrame:
    """Rows of the `categories` table: both levels, top level first."""
    rows = [
        {"category_id": cid, "parent_id": None, "level": 1, "name": zh, "name_en": en, "department_id": None}
        for cid, (zh, en) in TOP_CATEGORIES.items()
    ]
    rows += [
        {"category_id": c.category_id, "parent_id": c.parent_id, "level": 2, "name": c.name, "name_en": c.name_en,
         "department_id": c.department_id}
        for c in CATEGORIES
    ]
    return pd.DataFrame(rows)


def departments_frame() -> pd.DataFrame:
    """Rows of the `departments` table."""
    return pd.DataFrame(
        [{"department_id": d.department_id, "name": d.name, "name_en": d.name_en, "kind": d.kind} for d in DEPARTMENTS]
    )


def channels_frame() -> pd.DataFrame:
    """Rows of the `channels` table."""
    return pd.DataFrame([{"channel": k, "name": zh, "name_en": en} for k, (zh, en) in CHANNELS.items()])
