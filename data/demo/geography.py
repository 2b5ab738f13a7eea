"""The demo's synthetic geography: district → street → community → grid → micro-grid.

The demo needs areas with ids, names, parents, residents and polygons (the rows of ``areas``, see
:mod:`data.geography`). Real grid boundaries are not public, so this module builds a plausible
hierarchy inside a district outline: the built-in approximate outline of Binjiang District,
Hangzhou, or any GeoJSON boundary file.

How (details in ``docs/geography.md``): a population-density field with residential centres, industrial zones,
parks and commercial cores is laid over the outline. Streets are bands of the outline along its main axis. Each
parent is then split into an exact number of children by sampling seed points from the density field, a few
Lloyd (k-means) iterations, a Voronoi diagram and intersection with the parent, so children tile their parent
exactly and are small where people live and large over industrial land and parks. Residents follow density ×
area with exact street totals. All geometry work happens in a local kilometre plane and is mapped back to
WGS84 longitude/latitude at the end.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon

from data.geography import COLUMNS, LAND_USES, LEVELS, load_outline, polygon_parts

__all__ = ["BINJIANG", "LEVEL_NAMES", "DistrictSpec", "StreetSpec", "build_areas", "default_outline",
           "level_rows"]

# The demo's rows of ``area_levels``: all five slots, named as a Chinese district names them.
LEVEL_NAMES: tuple[tuple[str, str, str], ...] = (
    ("district", "区", "District"), ("street", "街道", "Street"), ("community", "社区", "Community"),
    ("grid", "网格", "Grid"), ("microgrid", "微网格", "Micro-grid"),
)


def level_rows() -> pd.DataFrame:
    """``area_levels`` rows of the demo (level, depth, name, name_en), top-down."""
    return pd.DataFrame([(lv, depth, zh, en) for depth, (lv, zh, en) in enumerate(LEVEL_NAMES)],
                        columns=["level", "depth", "name", "name_en"])


@dataclass(frozen=True)
class StreetSpec:
    """One street (街道) of the district with its exact resident total."""

    street_id: str
    name: str
    name_en: str
    residents: int


@dataclass(frozen=True)
class DistrictSpec:
    """What to build: the district, its streets and the exact number of areas at the lower levels."""

    district_id: str
    name: str
    name_en: str
    streets: tuple[StreetSpec, ...]
    n_communities: int
    n_grids: int
    n_microgrids: int


BINJIANG = DistrictSpec(
    district_id="330108",
    name="滨江区",
    name_en="Binjiang District",
    streets=(
        StreetSpec("330108001", "西兴街道", "Xixing Street", 143_318),
        StreetSpec("330108002", "长河街道", "Changhe Street", 168_276),
        StreetSpec("330108003", "浦沿街道", "Puyan Street", 192_265),
    ),
    n_communities=65,
    n_grids=503,
    n_microgrids=3_116,
)

# An approximate, hand-drawn outline of Binjiang (WGS84 lon/lat, about 73.6 km²): the Qiantang river forms the
# north-west edge from the north-east tip to the western bend, Xiaoshan lies to the south and east.
_BINJIANG_OUTLINE: tuple[tuple[float, float], ...] = (
    (120.2210, 30.2365), (120.2120, 30.2300), (120.2030, 30.2228), (120.1940, 30.2160), (120.1840, 30.2090),
    (120.1720, 30.2050), (120.1600, 30.2010), (120.1480, 30.1965), (120.1380, 30.1915), (120.1310, 30.1860),
    (120.1270, 30.1790), (120.1255, 30.1690), (120.1265, 30.1590), (120.1320, 30.1520), (120.1390, 30.1440),
    (120.1450, 30.1375), (120.1520, 30.1400), (120.1610, 30.1445), (120.1700, 30.1475), (120.1800, 30.1490),
    (120.1900, 30.1440), (120.1980, 30.1385), (120.2050, 30.1345), (120.2130, 30.1355), (120.2190, 30.1385),
    (120.2235, 30.1470), (120.2255, 30.1570), (120.2235, 30.1680), (120.2225, 30.1785), (120.2290, 30.1830),
    (120.2350, 30.1865), (120.2330, 30.1960), (120.2340, 30.2080), (120.2350, 30.2200), (120.2352, 30.2280),
    (120.2320, 30.2310), (120.2270, 30.2330),
)

# Plausible community (社区) names with their pinyin, used in id order; more communities than names get
# numbered fallbacks.
_COMMUNITY_NAMES: tuple[tuple[str, str], ...] = (
    ("缤纷社区", "Binfen"), ("江南社区", "Jiangnan"), ("白金海岸社区", "Baijin Haian"), ("东信社区", "Dongxin"),
    ("官河社区", "Guanhe"), ("湘滨社区", "Xiangbin"), ("星民社区", "Xingmin"), ("联庄社区", "Lianzhuang"),
    ("新生社区", "Xinsheng"), ("铁岭花园社区", "Tieling Huayuan"), ("闻涛社区", "Wentao"), ("春波社区", "Chunbo"),
    ("钱龙社区", "Qianlong"), ("固陵社区", "Guling"), ("共联社区", "Gonglian"), ("西陵社区", "Xiling"),
    ("江汉社区", "Jianghan"), ("星光社区", "Xingguang"), ("长河社区", "Changhe"), ("山一社区", "Shanyi"),
    ("山二社区", "Shaner"), ("槐树社区", "Huaishu"), ("塘子堰社区", "Tangziyan"), ("岩峰社区", "Yanfeng"),
    ("汤家井社区", "Tangjiajing"), ("聚才社区", "Jucai"), ("建设社区", "Jianshe"), ("汇丰社区", "Huifeng"),
    ("星耀社区", "Xingyao"), ("白马湖社区", "Baimahu"), ("风雅社区", "Fengya"), ("云锦社区", "Yunjin"),
    ("春晓社区", "Chunxiao"), ("时代社区", "Shidai"), ("江虹社区", "Jianghong"), ("滨康社区", "Binkang"),
    ("信诚社区", "Xincheng"), ("月明社区", "Yueming"), ("协同社区", "Xietong"), ("丹枫社区", "Danfeng"),
    ("湖畔社区", "Hupan"), ("浦沿社区", "Puyan"), ("东冠社区", "Dongguan"), ("新浦社区", "Xinpu"),
    ("杨家墩社区", "Yangjiadun"), ("冠山社区", "Guanshan"), ("山北社区", "Shanbei"), ("古塘社区", "Gutang"),
    ("五星社区", "Wuxing"), ("明月社区", "Mingyue"), ("泰安社区", "Tai'an"), ("彩虹城社区", "Caihongcheng"),
    ("六和社区", "Liuhe"), ("伟业社区", "Weiye"), ("锦绣社区", "Jinxiu"), ("潮人社区", "Chaoren"),
    ("滨文社区", "Binwen"), ("滨兴社区", "Binxing"), ("海威社区", "Haiwei"), ("枫林社区", "Fenglin"),
    ("秋溢社区", "Qiuyi"), ("望江社区", "Wangjiang"), ("阡陌社区", "Qianmo"), ("钱塘社区", "Qiantang"),
    ("江滨社区", "Jiangbin"), ("东方社区", "Dongfang"), ("浦联社区", "Pulian"), ("信达社区", "Xinda"),
    ("江晖社区", "Jianghui"), ("文涛社区", "Wentao Road"), ("七甲社区", "Qijia"), ("长江社区", "Changjiang"),
)

# The density field. Places are fractions (u east, v north) of the boundary's bounding box so any outline gets
# the same kind of landscape; sizes are kilometres for a 74 km² district and scale with sqrt(area / 74).
# Positions were chosen against the default Binjiang outline; the comments name the real place they imitate.
_REFERENCE_AREA_KM2 = 74.0
_RESIDENTIAL_CENTRES: tuple[tuple[float, float, float, float], ...] = (  # (u, v, sigma_km, relative peak)
    (0.80, 0.59, 0.9, 1.0),  # 西兴: Binfen / Xixing old town
    (0.68, 0.77, 0.8, 0.9),  # 江南 / 闻涛, riverside housing
    (0.57, 0.53, 0.8, 1.0),  # 长河
    (0.33, 0.38, 0.9, 0.9),  # 浦沿
    (0.17, 0.48, 0.7, 0.8),  # 冠山 / 彩虹城
    (0.90, 0.79, 0.6, 0.7),  # 东信 / 星民
    (0.42, 0.66, 0.6, 0.6),  # 长河 north, along the river
    (0.68, 0.45, 0.6, 0.6),  # 白马湖 north shore
)
_INDUSTRIAL_ZONES: tuple[tuple[float, float, float, float, float], ...] = (  # (u, v, rx_km, ry_km, angle_deg)
    (0.79, 0.15, 1.7, 1.0, 15.0),  # high-tech park in the south-east
    (0.48, 0.18, 1.5, 0.8, 0.0),  # Internet-of-Things street area in the south
    (0.15, 0.16, 1.1, 0.8, 30.0),  # south-western works
)
_PARK_ZONES: tuple[tuple[float, float, float, float, float], ...] = (
    (0.62, 0.34, 1.1, 0.8, 20.0),  # 白马湖 (Baima Lake) and its park
    (0.36, 0.55, 0.45, 0.35, 0.0),  # 冠山 hill park
)
_COMMERCIAL_ZONES: tuple[tuple[float, float, float, float, float], ...] = (
    (0.77, 0.71, 0.8, 0.5, 35.0),  # Jiangnan Avenue / Xingguang Avenue business district
    (0.47, 0.63, 0.5, 0.45, 0.0),  # a shopping centre in Changhe
)
_BASE_DENSITY = 0.05  # relative density everywhere, so no place is empty
_VILLAGES = 6  # small seed-dependent residential clusters (old villages, staff dormitories)
# Workload floor (people-equivalents per km², as a share of the mean density): parks and industrial land still
# need patrolling, so their grids are large but finite.
_FLOOR_SHARE = 0.2
_SEED_POWER = 2.0  # seeds are drawn from weight**2 so that a cell's area is about proportional to 1/weight
_LLOYD_ITERATIONS = 3
_FINE_CELLS_PER_STREET = 80  # streets are unions of this many small cells each, giving irregular borders


# --------------------------------------------------------------------------------------------------- outlines
def default_outline() -> Polygon:
    """Return the built-in approximate outline of Binjiang District in WGS84 longitude/latitude.

    It is hand-drawn (37 vertices, about 73.6 km²) so the repository carries no third-party boundary data; use
    ``build_areas(boundary=...)`` with a real boundary file when the exact shape matters.
    """
    return Polygon(_BINJIANG_OUTLINE)


# ----------------------------------------------------------------------------------------------- local frame
@dataclass(frozen=True)
class _Frame:
    """An equirectangular kilometre plane around the district; distances and areas are true to ~0.1 %."""

    lon0: float
    lat0: float
    kx: float
    ky: float

    @classmethod
    def around(cls, geom: shapely.Geometry) -> _Frame:
        minx, miny, maxx, maxy = geom.bounds
        lon0, lat0 = (minx + maxx) / 2, (miny + maxy) / 2
        return cls(lon0, lat0, 111.320 * math.cos(math.radians(lat0)), 110.574)

    def to_local(self, geom):
        return shapely.transform(geom, lambda c: (c - (self.lon0, self.lat0)) * (self.kx, self.ky))

    def to_lonlat(self, geom):
        return shapely.transform(geom, lambda c: c / (self.kx, self.ky) + (self.lon0, self.lat0))


# ------------------------------------------------------------------------------------------- density field
class _Field:
    """Residents per km² and land-use zones over the local plane of one outline."""

    def __init__(self, outline: shapely.Geometry, total_residents: int, rng: np.random.Generator) -> None:
        minx, miny, maxx, maxy = outline.bounds
        s = math.sqrt(outline.area / _REFERENCE_AREA_KM2)

        def place(u: float, v: float) -> tuple[float, float]:
            return minx + u * (maxx - minx), miny + v * (maxy - miny)

        self._centres = [(*place(u, v), sig * s, peak) for u, v, sig, peak in _RESIDENTIAL_CENTRES]
        villages = _sample_in(outline, _VILLAGES, rng)
        self._centres += [(x, y, 0.45 * s, p) for (x, y), p in zip(villages, rng.uniform(0.3, 0.6, _VILLAGES), strict=True)]

        def zones(spec: tuple[tuple[float, float, float, float, float], ...]) -> list[tuple[float, ...]]:
            return [(*place(u, v), rx * s, ry * s, math.radians(a)) for u, v, rx, ry, a in spec]

        self._industrial = zones(_INDUSTRIAL_ZONES)
        self._parks = zones(_PARK_ZONES)
        self._commercial = zones(_COMMERCIAL_ZONES)
        self._scale = 1.0
        probe = _sample_in(outline, 20_000, rng)
        mean_raw = float(self.density(probe).mean())
        self._scale = total_residents / (mean_raw * outline.area)
        self.mean_density = total_residents / outline.area
        self.floor = _FLOOR_SHARE * self.mean_density if total_residents > 0 else 1.0

    @staticmethod
    def _mask(xy: np.ndarray, zones: list[tuple[float, ...]]) -> np.ndarray:
        """A plateau-shaped membership in [0, 1]: 1 inside the ellipses, falling off quickly at their edge."""
        out = np.zeros(len(xy))
        for cx, cy, rx, ry, a in zones:
            dx, dy = xy[:, 0] - cx, xy[:, 1] - cy
            along = (dx * math.cos(a) + dy * math.sin(a)) / rx
            across = (-dx * math.sin(a) + dy * math.cos(a)) / ry
            out = np.maximum(out, np.exp(-((along**2 + across**2) ** 2)))
        return out

    def masks(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Industrial, park and commercial membership of each point."""
        return self._mask(xy, self._industrial), self._mask(xy, self._parks), self._mask(xy, self._commercial)

    def density(self, xy: np.ndarray) -> np.ndarray:
        """Residents per km² at each point (n × 2 local km coordinates)."""
        raw = np.full(len(xy), _BASE_DENSITY)
        for cx, cy, sig, peak in self._centres:
            raw += peak * np.exp(-((xy[:, 0] - cx) ** 2 + (xy[:, 1] - cy) ** 2) / (2 * sig * sig))
        industrial, park, commercial = self.masks(xy)
        raw *= (1 - 0.93 * industrial) * (1 - 0.97 * park) * (1 - 0.5 * commercial)
        return raw * self._scale

    def weight(self, xy: np.ndarray) -> np.ndarray:
        """Governance workload per km²: residents plus a floor for land that must be patrolled anyway."""
        return self.density(xy) + self.floor

    def land_use(self, xy: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Land use at each point: zones first, then density decides between residential and mixed."""
        industrial, park, commercial = self.masks(xy)
        dense = self.density(xy) >= 0.6 * self.mean_density
        out = np.where(dense, "residential", "mixed").astype(object)
        # Some variety: a street-front block in a housing area is mixed, a few mixed blocks are shops.
        flip = rng.random(len(xy))
        out[(out == "residential") & (flip < 0.08)] = "mixed"
        out[(out == "mixed") & (flip > 0.93)] = "commercial"
        out[commercial >= 0.5] = "commercial"
        out[industrial >= 0.5] = "industrial"
        out[park >= 0.5] = "park"
        return out


# -------------------------------------------------------------------------------------------- tessellation
def _sample_in(poly: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw n uniform points inside a polygon by rejection from its bounding box (n × 2 array)."""
    minx, miny, maxx, maxy = poly.bounds
    fill = max(poly.area / max((maxx - minx) * (maxy - miny), 1e-300), 0.02)
    shapely.prepare(poly)
    chunks, got = [], 0
    while got < n:
        m = int((n - got) / fill * 1.2) + 16
        x, y = rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)
        ok = shapely.contains_xy(poly, x, y)
        chunks.append(np.column_stack([x[ok], y[ok]]))
        got += int(ok.sum())
    return np.concatenate(chunks)[:n]


def _nearest(pts: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Index of the nearest seed of each point."""
    d2 = (pts[:, None, 0] - seeds[None, :, 0]) ** 2 + (pts[:, None, 1] - seeds[None, :, 1]) ** 2
    return d2.argmin(axis=1)


def _split(
    poly: shapely.Geometry,
    k: int,
    weight: Callable[[np.ndarray], np.ndarray] | None,
    rng: np.random.Generator,
) -> list[shapely.Geometry]:
    """Split a polygon into exactly k pieces that tile it, small where the weight is high.

    Seeds are k distinct points drawn from weight**2 inside the polygon, moved by a few Lloyd (k-means)
    iterations over a weighted sample; a mean that falls outside a non-convex parent is pulled back to its
    nearest member. Every seed lies inside the parent, so every Voronoi cell keeps a non-empty piece.
    """
    m = max(40 * k, 400)
    cand = _sample_in(poly, 3 * m, rng)
    p = np.ones(len(cand)) if weight is None else weight(cand) ** _SEED_POWER
    p /= p.sum()
    pts = cand[rng.choice(len(cand), m, p=p)]
    seeds = cand[rng.choice(len(cand), k, replace=False, p=p)]
    if k > 1:
        for _ in range(_LLOYD_ITERATIONS):
            label = _nearest(pts, seeds)
            count = np.bincount(label, minlength=k)
            sums = np.column_stack([np.bincount(label, pts[:, i], minlength=k) for i in (0, 1)])
            has = count > 0
            moved = seeds.copy()
            moved[has] = sums[has] / count[has, None]
            outside = has & ~shapely.contains_xy(poly, moved[:, 0], moved[:, 1])
            for j in np.flatnonzero(outside):
                members = pts[label == j]
                moved[j] = members[((members - moved[j]) ** 2).sum(axis=1).argmin()]
            if len(np.unique(moved, axis=0)) == k:
                seeds = moved
    if k == 1:
        return [poly]
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=poly, ordered=True))
    clipped = shapely.intersection(cells, poly)
    return _merge_fragments(list(clipped), seeds)


def _merge_fragments(geoms: list[shapely.Geometry], anchors: np.ndarray | None) -> list[shapely.Geometry]:
    """Make each piece one polygon by giving its stray fragments to the neighbour sharing the longest border.

    A Voronoi cell clipped by a non-convex parent (or a band of cells) can fall apart; the part holding the
    anchor (or the largest part) stays, the rest joins a neighbour, so the pieces still tile the parent.
    Fragments touching no other piece stay with their owner, which is then a MultiPolygon.
    """
    mains, pending = [], []
    for i, g in enumerate(geoms):
        parts = polygon_parts(g)
        if not parts:
            raise RuntimeError("a tessellation piece is empty")  # seeds are inside the parent, so never
        keep = int(np.argmax([q.area for q in parts]))
        if anchors is not None:
            inside = shapely.contains_xy(parts, anchors[i, 0], anchors[i, 1])
            if inside.any():
                keep = int(np.flatnonzero(inside)[0])
        mains.append(parts[keep])
        pending += [(i, q) for j, q in enumerate(parts) if j != keep]
    if not pending:
        return mains
    main_arr = np.array(mains, dtype=object)
    extent = math.sqrt(sum(g.area for g in mains))
    eps = 1e-9 * max(extent, 1e-9)
    for _ in range(4):
        stuck = []
        for owner, frag in sorted(pending, key=lambda t: -t[1].area):
            near = np.flatnonzero(shapely.dwithin(main_arr, frag, eps))
            near = near[near != owner]
            if len(near):
                rim = shapely.buffer(frag.exterior, eps)
                shared = shapely.length(shapely.intersection(shapely.boundary(main_arr[near]), rim))
                best = int(np.argmax(shared))
                if shared[best] > 10 * eps:
                    j = near[best]
                    main_arr[j] = _join(main_arr[j], frag)
                    continue
            stuck.append((owner, frag))
        if len(stuck) == len(pending):
            break
        pending = stuck
    for owner, frag in pending:
        main_arr[owner] = shapely.union(main_arr[owner], frag)
    return list(main_arr)


def _join(a: shapely.Geometry, b: shapely.Geometry) -> shapely.Geometry:
    """Union two touching pieces, dropping the sub-nanometre slivers floating-point noise can leave behind."""
    u = shapely.union(a, b)
    parts = polygon_parts(u)
    if len(parts) > 1:
        total = sum(p.area for p in parts)
        big = [p for p in parts if p.area > 1e-9 * total]
        if len(big) == 1:
            return big[0]
    return u


def _allocate(total: int, weights: np.ndarray, minimum: int = 0) -> np.ndarray:
    """Split an integer total in proportion to weights (largest remainder), each share at least `minimum`."""
    w = np.asarray(weights, dtype=float)
    n = len(w)
    if total < minimum * n:
        raise ValueError(f"cannot give {n} parts at least {minimum} each out of {total}")
    quota = total * w / w.sum() if w.sum() > 0 else np.full(n, total / n)
    share = np.maximum(np.floor(quota).astype(np.int64), minimum)
    while share.sum() != total:
        gap = quota - share
        if share.sum() < total:
            take = np.argsort(-gap, kind="stable")[: total - share.sum()]
            share[take] += 1
        else:
            room = np.flatnonzero(share > minimum)
            give = room[np.argsort(gap[room], kind="stable")][: share.sum() - total]
            share[give] -= 1
    return share


def _reading_order(geoms: list[shapely.Geometry]) -> np.ndarray:
    """Order pieces north to south, then west to east, so numbers read like a map."""
    xy = shapely.get_coordinates(shapely.point_on_surface(np.array(geoms, dtype=object)))
    return np.lexsort((xy[:, 0], -np.round(xy[:, 1], 6)))


def _split_streets(outline: shapely.Geometry, shares: np.ndarray, rng: np.random.Generator) -> list:
    """Cut the outline into bands along its main axis, first street at the eastern end, with wavy borders.

    The outline is tiled by small Voronoi cells; cells are ranked by their position along the main axis plus a
    gentle wave across it, and consecutive runs whose areas match the shares become the streets.
    """
    n = len(shares)
    if n == 1:
        return [outline]
    cells = np.array(_split(outline, _FINE_CELLS_PER_STREET * n, None, rng), dtype=object)
    area = shapely.area(cells)
    xy = shapely.get_coordinates(shapely.centroid(cells))
    mean = np.average(xy, axis=0, weights=area)
    cov = np.cov((xy - mean).T, aweights=area)
    axis = np.linalg.eigh(cov)[1][:, -1]
    axis = axis if axis[0] >= 0 else -axis
    t = (xy - mean) @ axis
    q = (xy - mean) @ np.array([-axis[1], axis[0]])
    span_q = max(q.max() - q.min(), 1e-9)
    score = t + 0.06 * (t.max() - t.min()) * np.sin(2 * math.pi * (q - q.min()) / span_q + rng.uniform(0, 2 * math.pi))
    order = np.argsort(-score, kind="stable")
    mid = (np.cumsum(area[order]) - area[order] / 2) / area.sum()
    band = np.empty(len(cells), dtype=np.int64)
    band[order] = np.searchsorted(np.cumsum(shares / shares.sum())[:-1], mid)
    if len(np.unique(band)) < n:
        raise ValueError("the outline is too small or too thin for this many streets")
    streets = [shapely.union_all(cells[band == s]) for s in range(n)]
    return _merge_fragments(streets, None)


def _node_level(geoms: np.ndarray) -> np.ndarray:
    """Make one level a clean coverage: shared edges get identical vertices (needed by coverage_simplify).

    Children are cut inside each parent separately, so along a parent border one side has vertices the other
    lacks; GEOS's coverage cleaner nodes them with a snapping distance far below a millimetre.
    """
    if len(geoms) < 2:
        return geoms
    cleaned = shapely.coverage_clean(geoms, snapping_distance=1e-10)
    bad = shapely.is_empty(cleaned) | (shapely.area(cleaned) < 0.5 * shapely.area(geoms))
    return np.where(bad, geoms, cleaned)


# -------------------------------------------------------------------------------------------------- build
def _check_spec(spec: DistrictSpec) -> None:
    n_streets = len(spec.streets)
    if n_streets < 1 or spec.n_communities < n_streets:
        raise ValueError("a district needs at least one street and at least one community per street")
    if spec.n_grids < 2 * spec.n_communities or spec.n_microgrids < 2 * spec.n_grids:
        raise ValueError("every community needs at least 2 grids and every grid at least 2 micro-grids")
    if any(s.residents < 0 for s in spec.streets):
        raise ValueError("street residents must not be negative")


def _mass(polys: list[shapely.Geometry], field: _Field, rng: np.random.Generator) -> np.ndarray:
    """Workload (residents plus patrolled land) of each polygon, by Monte-Carlo integration of the field."""
    return np.array([field.weight(_sample_in(p, 48, rng)).mean() * p.area for p in polys])


def _split_level(
    parents: list[shapely.Geometry], counts: np.ndarray, field: _Field, rng: np.random.Generator
) -> tuple[list[shapely.Geometry], np.ndarray]:
    """Split every parent into its count of children; return children (in reading order) and parent indices."""
    children, parent_of = [], []
    for i, (poly, k) in enumerate(zip(parents, counts, strict=True)):
        kids = _split(poly, int(k), field.weight, rng)
        kids = [kids[j] for j in _reading_order(kids)]
        children += kids
        parent_of += [i] * len(kids)
    return children, np.array(parent_of, dtype=np.int64)


def build_areas(
    seed: int = 20261129, boundary: str | Path | None = None, spec: DistrictSpec = BINJIANG
) -> gpd.GeoDataFrame:
    """Build the full area hierarchy, deterministic for a seed.

    Args:
        seed: Seed of ``numpy.random.default_rng``; the same seed, boundary and spec give identical output.
        boundary: A boundary file to tessellate instead of the built-in approximate Binjiang outline.
        spec: Ids, names, street resident totals and the exact number of areas per level.

    Returns:
        One row per area at every level (columns ``COLUMNS``), CRS EPSG:4326, sorted by level order then
        area_id. Children tile their parent; residents sum up exactly to the street totals of the spec.
    """
    _check_spec(spec)
    outline_ll = default_outline() if boundary is None else load_outline(boundary)
    rng = np.random.default_rng(seed)
    frame = _Frame.around(outline_ll)
    outline = frame.to_local(outline_ll)
    street_res = np.array([s.residents for s in spec.streets], dtype=float)
    field = _Field(outline, int(street_res.sum()), rng)

    streets = _split_streets(outline, street_res if street_res.sum() > 0 else np.ones(len(street_res)), rng)
    n_comm = _allocate(spec.n_communities, street_res, minimum=1)
    communities, comm_street = _split_level(streets, n_comm, field, rng)
    n_grid = _allocate(spec.n_grids, _mass(communities, field, rng), minimum=2)
    grids, grid_comm = _split_level(communities, n_grid, field, rng)
    n_micro = _allocate(spec.n_microgrids, _mass(grids, field, rng), minimum=2)
    micros, micro_grid = _split_level(grids, n_micro, field, rng)

    micro_arr = np.array(micros, dtype=object)
    rep = shapely.get_coordinates(shapely.point_on_surface(micro_arr))
    micro_street = comm_street[grid_comm[micro_grid]]
    raw = field.density(rep) * shapely.area(micro_arr)
    residents = np.zeros(len(micros), dtype=np.int64)
    for s, street in enumerate(spec.streets):
        mine = micro_street == s
        residents[mine] = _allocate(street.residents, raw[mine])
    land_use = field.land_use(rep, rng)

    levels = {
        "district": [outline_ll],
        "street": list(frame.to_lonlat(np.array(streets, dtype=object))),
        "community": list(frame.to_lonlat(np.array(communities, dtype=object))),
        "grid": list(frame.to_lonlat(np.array(grids, dtype=object))),
        "microgrid": list(frame.to_lonlat(micro_arr)),
    }
    return _assemble(spec, levels, comm_street, grid_comm, micro_grid, residents, land_use)


def _assemble(
    spec: DistrictSpec,
    levels: dict[str, list[shapely.Geometry]],
    comm_street: np.ndarray,
    grid_comm: np.ndarray,
    micro_grid: np.ndarray,
    residents: np.ndarray,
    land_use: np.ndarray,
) -> gpd.GeoDataFrame:
    """Give the pieces ids, names, ancestors, residents and land use, and put them in one GeoDataFrame."""
    width = max(3, len(str(spec.n_grids)))
    street_ids = np.array([s.street_id for s in spec.streets], dtype=object)
    comm_ids, comm_names, comm_en = [], [], []
    for s, street in enumerate(spec.streets):
        for j in range(int((comm_street == s).sum())):
            comm_ids.append(f"{street.street_id}{j + 1:03d}")
    for i in range(len(comm_ids)):
        zh, en = _COMMUNITY_NAMES[i] if i < len(_COMMUNITY_NAMES) else (f"第{i + 1}社区", f"No. {i + 1}")
        comm_names.append(zh)
        comm_en.append(f"{en} Community")
    comm_ids = np.array(comm_ids, dtype=object)
    grid_nums = [f"{i + 1:0{width}d}" for i in range(len(grid_comm))]
    grid_ids = np.array([f"G{n}" for n in grid_nums], dtype=object)
    micro_nums = np.zeros(len(micro_grid), dtype=np.int64)
    for g in range(len(grid_ids)):
        mine = np.flatnonzero(micro_grid == g)
        micro_nums[mine] = np.arange(1, len(mine) + 1)
    micro_labels = [f"{grid_nums[g]}-{m}" for g, m in zip(micro_grid, micro_nums, strict=True)]

    comm_of_micro = grid_comm[micro_grid]
    street_of_comm = street_ids[comm_street]
    rows = {
        "district": dict(
            area_id=[spec.district_id], name=[spec.name], name_en=[spec.name_en], parent_id=[None],
            street_id=[None], community_id=[None], grid_id=[None],
        ),
        "street": dict(
            area_id=list(street_ids), name=[s.name for s in spec.streets], name_en=[s.name_en for s in spec.streets],
            parent_id=[spec.district_id] * len(street_ids), street_id=list(street_ids),
            community_id=[None] * len(street_ids), grid_id=[None] * len(street_ids),
        ),
        "community": dict(
            area_id=list(comm_ids), name=comm_names, name_en=comm_en, parent_id=list(street_of_comm),
            street_id=list(street_of_comm), community_id=list(comm_ids), grid_id=[None] * len(comm_ids),
        ),
        "grid": dict(
            area_id=list(grid_ids), name=[f"网格 {n}" for n in grid_nums], name_en=[f"Grid {n}" for n in grid_nums],
            parent_id=list(comm_ids[grid_comm]), street_id=list(street_of_comm[grid_comm]),
            community_id=list(comm_ids[grid_comm]), grid_id=list(grid_ids),
        ),
        "microgrid": dict(
            area_id=[f"G{lab}" for lab in micro_labels], name=[f"微网格 {lab}" for lab in micro_labels],
            name_en=[f"Micro-grid {lab}" for lab in micro_labels], parent_id=list(grid_ids[micro_grid]),
            street_id=list(street_of_comm[comm_of_micro]), community_id=list(comm_ids[comm_of_micro]),
            grid_id=list(grid_ids[micro_grid]),
        ),
    }
    frames = []
    for level in LEVELS:
        part = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in rows[level].items()})
        part.insert(1, "level", level)
        part["geometry"] = _node_level(np.array(levels[level], dtype=object))
        frames.append(part)
    df = pd.concat(frames, ignore_index=True)

    micro = df["level"].to_numpy() == "microgrid"
    gdf = gpd.GeoDataFrame(df, geometry="geometry", crs="EPSG:4326")
    centre = shapely.centroid(shapely.union_all(levels["district"]))
    laea = f"+proj=laea +lat_0={centre.y:.6f} +lon_0={centre.x:.6f} +datum=WGS84 +units=m +no_defs"
    gdf["area_km2"] = gdf.geometry.to_crs(laea).area.to_numpy() / 1e6

    micro_frame = pd.DataFrame({
        "area_id": df.loc[micro, "area_id"].to_numpy(), "grid_id": df.loc[micro, "grid_id"].to_numpy(),
        "community_id": df.loc[micro, "community_id"].to_numpy(), "street_id": df.loc[micro, "street_id"].to_numpy(),
        "residents": residents, "land_use": land_use, "area_km2": gdf.loc[micro, "area_km2"].to_numpy(),
    })
    res_by_id = dict(zip(micro_frame["area_id"], micro_frame["residents"], strict=True))
    use_by_id = dict(zip(micro_frame["area_id"], micro_frame["land_use"], strict=True))
    for col in ("grid_id", "community_id", "street_id"):
        res_by_id.update(micro_frame.groupby(col)["residents"].sum().to_dict())
        use_by_id.update(_dominant_use(micro_frame, col))
    res_by_id[spec.district_id] = int(residents.sum())
    use_by_id[spec.district_id] = _dominant_use(micro_frame.assign(all=spec.district_id), "all")[spec.district_id]

    gdf["residents"] = gdf["area_id"].map(res_by_id).astype(np.int64)
    gdf["land_use"] = gdf["area_id"].map(use_by_id).astype(str)
    rep = shapely.get_coordinates(shapely.point_on_surface(gdf.geometry.to_numpy()))
    gdf["centroid_lon"], gdf["centroid_lat"] = rep[:, 0], rep[:, 1]
    for col in ("area_id", "level", "name", "name_en"):
        gdf[col] = gdf[col].astype(str)
    gdf["_order"] = gdf["level"].map({lv: i for i, lv in enumerate(LEVELS)})
    gdf = gdf.sort_values(["_order", "area_id"], kind="stable").drop(columns="_order").reset_index(drop=True)
    return gdf[list(COLUMNS)]


def _dominant_use(micro: pd.DataFrame, key: str) -> dict[str, str]:
    """The land use covering the most area within each group (ties go to the earlier value in LAND_USES)."""
    by_use = micro.groupby([key, "land_use"])["area_km2"].sum().unstack(fill_value=0.0)
    by_use = by_use.reindex(columns=[u for u in LAND_USES if u in by_use.columns])
    return by_use.idxmax(axis=1).to_dict()


