"""The default Daguan district (大观区, Anqing): streets, communities, grids, departments, cameras.

Unit names and codes are real (NBS 2023 division codes; see resources/district/README.md).
Everything else is generated reproducibly from a seed and is illustrative: the street,
community and grid polygons, the people, the phone numbers and the cameras. The outline is a
coarse public outline, not an approved map (审图号): label any map drawn from it as such.

Geometry is kept in WGS84 (lon, lat), rounded to 6 decimals (~0.1 m). Each unit is one
polygon, stored as GeoJSON Polygon coordinates (exterior ring, then holes); the outline is a
GeoJSON MultiPolygon. Coordinates are tuples, so units stay frozen and hashable while encoding
(msgspec, json) gives the same arrays as GeoJSON. Exterior rings are counter-clockwise and
closed (first point repeated last), as RFC 7946 wants.

How the map is cut (all in a local kilometre plane, so that distances are isotropic):
- streets: a power diagram (weighted Voronoi) of 9 hand-placed seeds clipped to the outline.
  The seeds and weights below put the 7 small urban streets at the city end in the east and
  north-east and give the two rural units the west; the weights were tuned once, offline, so
  that the areas come close to the targets in the table. Illustrative, not surveyed.
- communities within a street and grids within a community: Voronoi cells of random seeds
  after a few rounds of Lloyd relaxation (seeds moved to cell centroids), clipped to the
  parent, so that children partition their parent exactly.
- any cell that clipping splits into pieces keeps the piece holding its seed; the other
  pieces go to the neighbour they share most border with, so every unit is one polygon.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from typing import Any, Literal

import numpy as np
import shapely
from numpy.typing import NDArray

__all__ = [
    "DEFAULT_CODE",
    "DEPARTMENTS",
    "DISTRICT_CODES",
    "Camera",
    "Community",
    "Coord",
    "Department",
    "DepartmentKind",
    "District",
    "Grid",
    "MultiPolygonCoords",
    "PolygonCoords",
    "Street",
    "build_district",
    "case_prefix",
    "district_seed",
    "random_point_in_grid",
]

DepartmentKind = Literal["department", "subunit", "service"]
"""区直部门, a department's own field unit (交警大队), or a utility or service company."""
Coord = tuple[float, float]
"""(lon, lat) in WGS84 degrees."""
Ring = tuple[Coord, ...]
PolygonCoords = tuple[Ring, ...]
"""GeoJSON Polygon coordinates: the exterior ring, then any holes."""
MultiPolygonCoords = tuple[PolygonCoords, ...]
"""GeoJSON MultiPolygon coordinates: a tuple of PolygonCoords."""

# shapely ships no type information; its geometries are Any to mypy, named here for readers.
Geometry = Any

DEFAULT_SEED = 340803  # the district's adcode: memorable and obviously arbitrary
DEFAULT_CODE = "340803"  # 大观区, the default district

# --- the hand-made part of the layout -------------------------------------------------------

# (street code, seed lon, seed lat, power weight in km², target area in km²). Targets sum to
# the outline's 191.6 km²; the land of 山口乡 and the farms (outside the nine sub-centres) is
# folded into 十里铺乡 and 海口镇 so that every point of the district has a grid.
_STREET_SEEDS: tuple[tuple[str, float, float, float, float], ...] = (
    ("340803001", 117.0460, 30.5195, -16.262, 1.2),  # 德宽路: old town, east
    ("340803002", 117.0290, 30.5045, -20.368, 2.2),  # 玉琳路: old town, by the river
    ("340803003", 117.0470, 30.5285, -15.629, 1.4),  # 龙山路: old town, east
    ("340803004", 117.0350, 30.5290, -15.336, 3.6),  # 菱湖: north-central
    ("340803005", 117.0210, 30.5400, -13.635, 4.5),  # 集贤路: north-central
    ("340803006", 117.0010, 30.5660, -3.018, 8.5),  # 石化路: north-west of the city
    ("340803007", 117.0130, 30.5200, -17.238, 6.0),  # 花亭路: west of the old town
    ("340803100", 116.9050, 30.4650, 63.831, 90.0),  # 海口镇: rural south-west
    ("340803200", 116.9350, 30.5450, 37.654, 74.2),  # 十里铺乡: rural west / north-west
)
_NINE = tuple(s[0] for s in _STREET_SEEDS)

# Base grids per sub-centre: 351 in all, denser in the urban streets.
_GRIDS_PER_STREET = {
    "340803001": 36,
    "340803002": 39,
    "340803003": 36,
    "340803004": 60,
    "340803005": 39,
    "340803006": 36,
    "340803007": 36,
    "340803100": 42,
    "340803200": 27,
}
# The district's departments (区直部门) and the service units events are dispatched to.
# Codes are Tongguan's own (pinyin initials) and are referenced by categories.json; the
# names are inferred from the 安庆 government structure (no published list of 大观区's 37
# was found, see resources/district/README.md): every one is unverified.
DEPARTMENTS: tuple[tuple[str, str, DepartmentKind], ...] = (
    # party and general offices
    ("QWB", "区委办公室", "department"),
    ("ZFB", "区政府办公室", "department"),
    ("JWJW", "区纪委监委", "department"),
    ("ZZB", "区委组织部", "department"),
    ("XCB", "区委宣传部", "department"),
    ("TZB", "区委统战部", "department"),
    ("ZFW", "区委政法委", "department"),
    ("SGB", "区委社会工作部", "department"),
    ("XFJ", "区信访局", "department"),
    ("DKB", "区督查考核办", "department"),
    # government departments
    ("FGW", "区发改委", "department"),
    ("JTJ", "区教体局", "department"),
    ("KJJ", "区科技经信局", "department"),
    ("GA", "公安大观分局", "department"),
    ("MZJ", "区民政局", "department"),
    ("SFJ", "区司法局", "department"),
    ("CZJ", "区财政局", "department"),
    ("RSJ", "区人社局", "department"),
    ("ZRZY", "区自然资源和规划分局", "department"),
    ("STHJ", "区生态环境分局", "department"),
    ("ZJJ", "区住建局", "department"),
    ("CGJ", "区城管局", "department"),
    ("NYJ", "区农业农村局", "department"),
    ("SWJ", "区水务局", "department"),
    ("SWU", "区商务局", "department"),
    ("WLJ", "区文旅局", "department"),
    ("WJW", "区卫健委", "department"),
    ("TYJ", "区退役军人事务局", "department"),
    ("YJJ", "区应急管理局", "department"),
    ("SJJ", "区审计局", "department"),
    ("SCJG", "区市场监管局", "department"),
    ("TJJ", "区统计局", "department"),
    ("YBJ", "区医保局", "department"),
    ("SJZY", "区数据资源局", "department"),
    ("ZDB", "区重点办", "department"),
    ("ZQB", "区征迁分指挥部", "department"),
    ("XF", "区消防救援大队", "department"),
    # a department's own field unit, and the utilities and service companies
    ("JJ", "交警大观大队", "subunit"),
    ("GD", "供电公司", "service"),
    ("RQ", "燃气公司", "service"),
    ("ZLS", "自来水公司", "service"),
    ("TX", "通信运营商", "service"),
    ("WY", "物业服务企业", "service"),
)
_PARTY_BRANCHES = 113  # 网格党支部; each grid's leader is its branch secretary
_CAMERAS = 3500
_URBAN = frozenset(_NINE[:7])

# 迎江区 (340802), the city's second district: six old-town streets at the western end by the
# river, 龙狮桥乡 in the middle, 长风乡 north-east, 新洲乡 south-east. Target areas are
# guesses (no official figures were found) summing to the outline's 204.2 km²; the weights
# were tuned offline like 大观区's. The land of 迎江经济开发区 is folded into its neighbours.
_YINGJIANG_SEEDS: tuple[tuple[str, float, float, float, float], ...] = (
    ("340802001", 117.0400, 30.5030, -18.914, 1.6),  # 宜城路: old town, west end
    ("340802002", 117.0800, 30.5120, -13.721, 4.0),  # 新河路: old town, east
    ("340802003", 117.0570, 30.5240, -16.218, 2.0),  # 华中路: old town, north
    ("340802004", 117.0500, 30.5090, -18.244, 2.0),  # 人民路: old town, centre
    ("340802005", 117.0660, 30.5140, -15.943, 2.4),  # 孝肃路: old town, north-east
    ("340802006", 117.1030, 30.5150, -8.08, 8.0),  # 滨江: east of the old town, by the river
    ("340802200", 117.1450, 30.5350, 13.294, 50.0),  # 龙狮桥乡: the middle
    ("340802201", 117.2000, 30.6250, 64.432, 90.0),  # 长风乡: north-east
    ("340802202", 117.1950, 30.4950, 12.732, 44.2),  # 新洲乡: south-east, by the river
)
# Counts below are estimates scaled from 大观区's published ones by communities and the
# urban/rural mix, not published figures for 迎江区.
_YINGJIANG_GRIDS = {
    "340802001": 36,
    "340802002": 45,
    "340802003": 36,
    "340802004": 36,
    "340802005": 30,
    "340802006": 45,
    "340802200": 48,
    "340802201": 44,
    "340802202": 20,
}

# Local plane: equirectangular around the district, in km.
_LON0, _LAT0 = 116.94, 30.50
_KX = 111.320 * math.cos(math.radians(_LAT0))
_KY = 110.574
_SNAP_KM = 1e-6  # 1 mm: snap cells so that neighbours share exactly the same vertices
_LLOYD_ROUNDS = 4
_DEG = 6  # decimals kept in output coordinates
_SAMPLE_MARGIN = 1e-5  # degrees (~1 m): sampled points stay clear of shared borders


# --- the data model -------------------------------------------------------------------------


@dataclass(frozen=True)
class Street:
    """A street (街道) or township (镇/乡): one of the 9 sub-centres."""

    code: str
    name: str
    kind: Literal["街道", "镇", "乡"]
    polygon: PolygonCoords
    centre: Coord


@dataclass(frozen=True)
class Community:
    """A community (社区) or village (村), with its short name."""

    code: str
    name: str
    street: str
    polygon: PolygonCoords
    centre: Coord


@dataclass(frozen=True)
class Grid:
    """A base management grid (网格) with its grid worker and party branch leader."""

    code: str
    name: str
    community: str
    street: str
    polygon: PolygonCoords
    centre: Coord
    worker: str
    worker_phone: str
    leader: str

    @cached_property
    def geometry(self) -> Geometry:
        """The polygon as a shapely Polygon (built once, not part of equality)."""
        return _polygon(self.polygon)

    @cached_property
    def _sampling(self) -> tuple[Geometry, tuple[float, float, float, float]]:
        """A slightly shrunk, prepared polygon and its bounds, for drawing random points."""
        inner = shapely.buffer(self.geometry, -_SAMPLE_MARGIN)
        if shapely.is_empty(inner):  # a sliver of a grid: sample the grid itself
            inner = self.geometry
        shapely.prepare(inner)
        x0, y0, x1, y1 = (float(v) for v in shapely.bounds(inner))
        return inner, (x0, y0, x1, y1)


@dataclass(frozen=True)
class Department:
    """A district department or utility that events are dispatched to."""

    code: str
    name: str
    kind: DepartmentKind = "department"


@dataclass(frozen=True)
class Camera:
    """A video camera and the AI detection kinds it runs (codes of CAMERA_KINDS)."""

    code: str
    name: str
    lon: float
    lat: float
    grid: str
    street: str
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class District:
    """The district and all its units; build it with build_district()."""

    code: str
    name: str
    outline: MultiPolygonCoords
    streets: tuple[Street, ...]
    communities: tuple[Community, ...]
    grids: tuple[Grid, ...]
    departments: tuple[Department, ...]
    cameras: tuple[Camera, ...]

    @cached_property
    def _grid_index(self) -> Geometry:
        """STRtree over the grid polygons, built on first use (not part of equality)."""
        return shapely.STRtree([g.geometry for g in self.grids])

    def grid_at(self, lon: float, lat: float) -> Grid | None:
        """The grid containing a point, or None outside the district.

        A point exactly on a shared border belongs to the grid listed first, so the answer
        is always the same.
        """
        hits = self._grid_index.query(shapely.points(lon, lat), predicate="intersects")
        if len(hits) == 0:
            return None
        return self.grids[int(min(hits))]


def random_point_in_grid(grid: Grid, rng: random.Random) -> Coord:
    """A uniformly random (lon, lat) inside a grid, at least ~1 m from its border.

    The margin keeps rounded coordinates unambiguous: District.grid_at() of the result is
    `grid`. Deterministic for a given rng state.
    """
    inner, (x0, y0, x1, y1) = grid._sampling
    while True:
        lon = round(rng.uniform(x0, x1), _DEG)
        lat = round(rng.uniform(y0, y1), _DEG)
        if shapely.contains_xy(inner, lon, lat):
            return lon, lat


# --- geometry helpers -----------------------------------------------------------------------


def _to_km(g: Geometry) -> Geometry:
    def f(c: NDArray[np.float64]) -> NDArray[np.float64]:
        return (c - (_LON0, _LAT0)) * (_KX, _KY)

    return shapely.transform(g, f)


def _to_deg(g: Geometry) -> Geometry:
    def f(c: NDArray[np.float64]) -> NDArray[np.float64]:
        return c / (_KX, _KY) + (_LON0, _LAT0)

    return shapely.transform(g, f)


def _polygon(coords: PolygonCoords) -> Geometry:
    """A shapely Polygon from GeoJSON-style coordinates."""
    return shapely.Polygon(coords[0], coords[1:])


def _shape(coords: MultiPolygonCoords) -> Geometry:
    """A shapely MultiPolygon from GeoJSON-style coordinates."""
    return shapely.MultiPolygon([(p[0], list(p[1:])) for p in coords])


def _polygon_coords(p: Geometry) -> PolygonCoords:
    """GeoJSON-style coordinates of a shapely Polygon, rounded, exterior counter-clockwise."""
    p = shapely.orient_polygons(p)
    rings = [p.exterior, *p.interiors]
    return tuple(tuple((round(x, _DEG), round(y, _DEG)) for x, y in r.coords) for r in rings)


def _coords(g: Geometry) -> MultiPolygonCoords:
    """GeoJSON-style MultiPolygon coordinates of a (multi)polygon."""
    return tuple(_polygon_coords(p) for p in shapely.get_parts(g))


def _centre(g: Geometry) -> Coord:
    """The centroid, or a point on the surface when the centroid falls outside."""
    c = shapely.centroid(g)
    if not shapely.contains(g, c):
        c = shapely.point_on_surface(g)
    return round(float(shapely.get_x(c)), _DEG), round(float(shapely.get_y(c)), _DEG)


def _half_plane(normal: tuple[float, float], offset: float, reach: float) -> Geometry:
    """The half-plane normal·x <= offset, as a square of side ~2*reach."""
    nx, ny = normal
    length = math.hypot(nx, ny)
    dx, dy = nx / length, ny / length
    ox, oy = dx * offset / length, dy * offset / length  # a point on the dividing line
    tx, ty = -dy * reach, dx * reach
    return shapely.Polygon(
        [
            (ox + tx, oy + ty),
            (ox + tx - dx * reach, oy + ty - dy * reach),
            (ox - tx - dx * reach, oy - ty - dy * reach),
            (ox - tx, oy - ty),
        ]
    )


def _power_cells(region: Geometry, seeds: Sequence[Coord], weights: Sequence[float]) -> list[Any]:
    """Power-diagram cells of weighted seeds, clipped to `region`.

    A point belongs to the seed minimising |x - p|² - w: unlike plain Voronoi, a big weight
    gives a big cell, which is how rural townships get 40 times the area of an old-town street.
    """
    x0, y0, x1, y1 = (float(v) for v in shapely.bounds(region))
    reach = 4 * math.hypot(x1 - x0, y1 - y0)
    frame = shapely.box(x0 - 1, y0 - 1, x1 + 1, y1 + 1)
    cells = []
    for i, (pi, wi) in enumerate(zip(seeds, weights, strict=True)):
        cell = frame
        for j, (pj, wj) in enumerate(zip(seeds, weights, strict=True)):
            if i == j:
                continue
            normal = (2 * (pj[0] - pi[0]), 2 * (pj[1] - pi[1]))
            offset = (pj[0] ** 2 + pj[1] ** 2) - (pi[0] ** 2 + pi[1] ** 2) + wi - wj
            cell = shapely.intersection(cell, _half_plane(normal, offset, reach))
        cells.append(shapely.intersection(cell, region))
    return cells


def _sample(region: Geometry, n: int, rng: random.Random) -> list[Coord]:
    """n uniformly random points inside a polygon (rejection sampling)."""
    shapely.prepare(region)
    x0, y0, x1, y1 = (float(v) for v in shapely.bounds(region))
    out: list[Coord] = []
    while len(out) < n:
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if shapely.contains_xy(region, x, y):
            out.append((x, y))
    return out


def _voronoi(region: Geometry, seeds: Sequence[Coord]) -> list[Any]:
    """Voronoi cells of the seeds, in seed order, clipped to `region`."""
    if len(seeds) == 1:
        return [region]
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=region, ordered=True)
    return list(shapely.intersection(shapely.get_parts(cells), region))


def _relaxed_partition(region: Geometry, n: int, rng: random.Random) -> list[Any]:
    """Split a polygon into n compact cells: Voronoi after a few Lloyd rounds, then tidied."""
    seeds = _sample(region, n, rng)
    for _ in range(_LLOYD_ROUNDS):
        cells = _voronoi(region, seeds)
        moved = []
        for cell, seed in zip(cells, seeds, strict=True):
            c = shapely.centroid(cell)
            # A centroid outside a concave cell would leave the region: keep the old seed.
            ok = not shapely.is_empty(c) and shapely.contains(region, c)
            moved.append((float(shapely.get_x(c)), float(shapely.get_y(c))) if ok else seed)
        seeds = moved
    return _tidy(_voronoi(region, seeds), seeds)


def _tidy(cells: Sequence[Geometry], seeds: Sequence[Coord]) -> list[Any]:
    """Snap cells to a common grid and merge stray pieces into neighbours: one polygon each."""
    snapped = list(shapely.set_precision(list(cells), _SNAP_KM))
    keep: list[Any] = []
    strays: list[Any] = []
    for cell, seed in zip(snapped, seeds, strict=True):
        parts = list(shapely.get_parts(cell))
        if not parts:
            raise ValueError("empty cell: a seed lies outside its region")
        at_seed = shapely.points(seed)
        main = max(range(len(parts)), key=lambda k: (parts[k].contains(at_seed), parts[k].area))
        keep.append(parts[main])
        strays.extend(p for k, p in enumerate(parts) if k != main)
    for piece in sorted(strays, key=lambda p: -float(p.area)):
        shared = [
            float(shapely.length(shapely.intersection(piece.boundary, k.boundary))) for k in keep
        ]
        best = max(range(len(keep)), key=lambda k: shared[k])
        if shared[best] > 0:
            keep[best] = shapely.union(keep[best], piece, grid_size=_SNAP_KM)
    return keep


# --- names, people and phone numbers --------------------------------------------------------

# Common surnames, roughly by national frequency, with Anqing's frequent 汪, 程, 方, 檀, 章.
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢汪方檀章储江查疏殷阮鲍"
)
_SURNAME_WEIGHTS = tuple(max(1.0, 12.0 - i * 0.25) for i in range(len(_SURNAMES)))
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅建国文斌志海峰鹏晓辉春燕雪琴宇浩凯俊"
)


class _People:
    """Plausible, unique Chinese names and fake mobile numbers from one RNG."""

    _PREFIXES = ("139", "138", "137", "135", "159", "158", "152", "188", "187", "183", "180")

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.names: set[str] = set()
        self.phones: set[str] = set()

    def name(self) -> str:
        """A new full name: surname plus one or two given-name characters."""
        while True:
            surname = self.rng.choices(_SURNAMES, _SURNAME_WEIGHTS)[0]
            given = "".join(self.rng.choice(_GIVEN) for _ in range(self.rng.choice((1, 2, 2))))
            full = surname + given
            if full not in self.names:
                self.names.add(full)
                return full

    def phone(self) -> str:
        """A new mobile number written 1xx-xxxx-xxxx."""
        while True:
            p = f"{self.rng.choice(self._PREFIXES)}-{self.rng.randrange(10**4):04d}-"
            p += f"{self.rng.randrange(10**4):04d}"
            if p not in self.phones:
                self.phones.add(p)
                return p


def _short_name(official: str) -> str:
    """The everyday name: '马山社区居民委员会' -> '马山社区', '南埂村民委员会' -> '南埂村'."""
    for suffix, repl in (
        ("社区居民委员会", "社区"),
        ("社区居委会", "社区"),
        ("村民委员会", "村"),
        ("居民委员会", "社区"),
        ("居委会", "社区"),
        ("村委会", "村"),
    ):
        if official.endswith(suffix):
            return official[: -len(suffix)] + repl
    return official


def _apportion(total: int, weights: Sequence[float], minimum: int = 0) -> list[int]:
    """Split an integer total in proportion to weights (largest remainder), each >= minimum."""
    base = [minimum] * len(weights)
    rest = total - minimum * len(weights)
    if rest < 0:
        raise ValueError("total too small for the minimum")
    s = sum(weights)
    quotas = [rest * w / s for w in weights]
    counts = [b + int(q) for b, q in zip(base, quotas, strict=True)]
    order = sorted(range(len(weights)), key=lambda i: -(quotas[i] - int(quotas[i])))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


# --- cameras --------------------------------------------------------------------------------

# Road names per sub-centre, for camera names: real Anqing names where known, plausible
# otherwise. Illustrative; a deployment imports its own camera register.
_ROADS = {
    "340803001": ("德宽路", "人民路", "孝肃路", "锡麟街", "大观亭街", "马山路", "腊树园街"),
    "340803002": ("玉琳路", "沿江西路", "人民路", "太平寺街", "四眼井街", "滨江路"),
    "340803003": ("龙山路", "人民路", "近圣街", "四方城街", "荣升街", "菱湖南路"),
    "340803004": ("菱湖南路", "菱湖北路", "湖心中路", "宜园路", "纺织南路", "华茂路", "柏子桥路"),
    "340803005": ("集贤南路", "集贤北路", "集贤中路", "蔡山路", "高花亭路", "碟子塘路", "华中西路"),
    "340803006": ("石化路", "天桥路", "大湖路", "鸭儿塘路", "独秀大道", "石化一路"),
    "340803007": ("花亭路", "湖心北路", "环城西路", "华中西路", "花亭南路", "五里墩路"),
    "340803100": ("海口大道", "皖河大道", "沿江西路", "安原路", "河港路", "G318"),
    "340803200": ("G318", "十里铺路", "凤凰路", "茅岭路", "集贤北路", "五里墩路"),
}
_RIVERSIDE = {"340803001": "长江大堤大观亭段", "340803002": "沿江西路江堤", "340803100": "皖河大堤"}
_YINGJIANG_ROADS = {
    "340802001": ("宜城路", "人民路", "沿江东路", "吴樾街", "倒扒狮街", "国货街", "墨子巷"),
    "340802002": ("新河路", "皖江大道", "渡江路", "曙光路", "湖心南路", "龙山路"),
    "340802003": ("华中路", "光荣路", "永安街", "程家墩路", "皖江路", "菱湖南路"),
    "340802004": ("人民路", "炮营山路", "康熙河路", "东正街", "孝肃路", "锡麟街"),
    "340802005": ("孝肃路", "锡麟街", "荷花塘路", "双井街", "人民路", "湖心南路"),
    "340802006": ("沿江东路", "迎江大道", "秦潭湖路", "马窝路", "西湖路", "滨江大道"),
    "340802200": ("龙狮路", "迎江大道", "任店路", "余桥路", "长青路", "G206"),
    "340802201": ("长风路", "将军路", "柘山路", "沿江东路", "前江路", "高松路"),
    "340802202": ("新洲大道", "南木路", "青龙路", "天然路", "康宁路", "永存路"),
}
_YINGJIANG_RIVERSIDE = {
    "340802001": "沿江东路江堤",
    "340802006": "滨江江堤",
    "340802201": "长风江堤",
    "340802202": "新洲圩堤",
}


@dataclass(frozen=True)
class _Layout:
    """What is hand-made about one district: where its files are and how it is laid out."""

    folder: tuple[str, ...]  # under the `resources` package
    street_seeds: tuple[tuple[str, float, float, float, float], ...]
    grids_per_street: dict[str, int]
    party_branches: int
    cameras: int
    urban: frozenset[str]
    roads: dict[str, tuple[str, ...]]
    riverside: dict[str, str]
    short: str  # the name departments carry: 公安大观分局
    prefix: str  # its case numbers' prefix: DG-20261122-000123 (numbered per district)

    @property
    def sub_centres(self) -> tuple[str, ...]:
        """The street codes that get a polygon, in layout order."""
        return tuple(s[0] for s in self.street_seeds)


_LAYOUTS = {
    "340803": _Layout(
        folder=("district",),
        street_seeds=_STREET_SEEDS,
        grids_per_street=_GRIDS_PER_STREET,
        party_branches=_PARTY_BRANCHES,
        cameras=_CAMERAS,
        urban=_URBAN,
        roads=_ROADS,
        riverside=_RIVERSIDE,
        short="大观",
        prefix="DG",
    ),
    "340802": _Layout(
        folder=("districts", "340802"),
        street_seeds=_YINGJIANG_SEEDS,
        grids_per_street=_YINGJIANG_GRIDS,
        party_branches=109,
        cameras=3400,
        urban=frozenset(s[0] for s in _YINGJIANG_SEEDS[:6]),
        roads=_YINGJIANG_ROADS,
        riverside=_YINGJIANG_RIVERSIDE,
        short="迎江",
        prefix="YJ",
    ),
}
DISTRICT_CODES = tuple(_LAYOUTS)
"""The districts of the city that can be built (adcodes), the default first."""
_ESTATE_WORDS = tuple(
    row[i : i + 2]
    for row in (
        "阳光锦绣滨江紫薇翠湖和平书香怡景金色华庭振风皖江江岸大观凤凰",
        "碧水梧桐枫林同安盛唐宜城莲湖望江天柱百花春晖桂园文苑新河东方",
    )
    for i in range(0, len(row), 2)
)
_GATES = (
    "东门",
    "南门",
    "西门",
    "北门",
    "东侧门",
    "西侧门",
    "南大门",
    "北大门",
    "车库入口",
    "消防通道",
)
_ESTATE_SUFFIXES = ("小区", "花园", "新村", "家园", "苑", "公寓")

# Crossing cameras are named by the approach they watch, as in real registers.
_APPROACHES = ("东", "南", "西", "北", "东向西", "西向东", "南向北", "北向南")

# Site types: (name, share, detection kinds it may run, min kinds, max kinds).
_Site = tuple[str, float, tuple[str, ...], int, int]
_URBAN_SITES: tuple[_Site, ...] = (
    (
        "crossing",
        0.42,
        (
            "illegal_parking",
            "nonmotor_parking",
            "street_vending",
            "road_occupation",
            "crowd_gathering",
            "exposed_garbage",
            "flooding",
            "road_damage",
            "road_spill",
            "manhole_abnormal",
            "muck_truck_uncovered",
        ),
        2,
        4,
    ),
    (
        "street",
        0.23,
        (
            "shop_overflow",
            "road_occupation",
            "street_vending",
            "piled_material",
            "exposed_garbage",
            "bin_overflow",
            "street_hanging",
            "outdoor_bbq",
            "banner",
            "illegal_parking",
            "nonmotor_parking",
        ),
        2,
        4,
    ),
    (
        "gate",
        0.14,
        (
            "fire_lane_blocked",
            "crowd_gathering",
            "nonmotor_parking",
            "flying_lead_charging",
            "bin_overflow",
        ),
        1,
        3,
    ),
    ("lift", 0.12, ("ebike_in_building",), 1, 1),
    ("facade", 0.06, ("thrown_object", "flying_lead_charging"), 1, 2),
    ("site", 0.03, ("construction_dust", "muck_truck_uncovered", "road_spill"), 1, 3),
)
_RURAL_SITES: tuple[_Site, ...] = (
    (
        "village",
        0.40,
        (
            "exposed_garbage",
            "burning_waste",
            "smoke_fire",
            "illegal_dumping",
            "crowd_gathering",
            "piled_material",
        ),
        2,
        4,
    ),
    (
        "road",
        0.35,
        (
            "illegal_parking",
            "road_spill",
            "muck_truck_uncovered",
            "flooding",
            "road_damage",
            "burning_waste",
        ),
        2,
        3,
    ),
    ("pond", 0.25, ("river_floating_debris", "flooding", "smoke_fire", "illegal_dumping"), 1, 3),
)
_RIVER_SITE: _Site = (
    "river",
    0.08,
    ("river_floating_debris", "flooding", "crowd_gathering", "smoke_fire"),
    1,
    3,
)


class _CameraNamer:
    """Camera names in the style of a real register, unique within the district."""

    def __init__(self, rng: random.Random, layout: _Layout) -> None:
        self.rng = rng
        self.layout = layout
        self.used: set[str] = set()
        self.estates: dict[str, list[str]] = {}

    def estates_of(self, community: Community) -> list[str]:
        """A few housing estates of a community, named like real ones."""
        if community.code not in self.estates:
            taken = {e for names in self.estates.values() for e in names}
            base = community.name.removesuffix("社区").removesuffix("村")
            names = [base + self.rng.choice(_ESTATE_SUFFIXES)]
            # Estate names are unique in the district, so gate and lift names rarely clash.
            while len(names) < 4:
                name = self.rng.choice(_ESTATE_WORDS) + self.rng.choice(_ESTATE_SUFFIXES)
                if name not in taken and name not in names:
                    names.append(name)
            self.estates[community.code] = names
        return self.estates[community.code]

    def name(self, site: str, street: str, community: Community) -> str:
        """A fresh camera name for a site type; a number is appended on a rare clash."""
        for _ in range(20):
            candidate = self._candidate(site, street, community)
            if candidate not in self.used:
                break
        k = 2
        unique = candidate
        while unique in self.used:
            unique = f"{candidate}-{k}"
            k += 1
        self.used.add(unique)
        return unique

    def _candidate(self, site: str, street: str, community: Community) -> str:
        r = self.rng
        roads = self.layout.roads[street]
        estate = r.choice(self.estates_of(community))
        if site == "crossing":
            a, b = r.sample(roads, 2)
            return f"{a}与{b}口-{r.choice(_APPROACHES)}"
        if site == "street":
            return f"{r.choice(roads)}{r.randint(1, 420)}号门前"
        if site == "gate":
            return f"{estate}{r.choice(_GATES)}"
        if site == "lift":
            return f"{estate}{r.randint(1, 28)}栋{r.randint(1, 4)}单元电梯"
        if site == "facade":
            return f"{estate}{r.randint(1, 28)}栋外立面"
        if site == "site":
            return f"{r.choice(roads)}{r.choice(_ESTATE_WORDS)}项目工地"
        if site == "river":
            return f"{self.layout.riverside[street]}{r.randint(1, 60)}号点"
        if site == "village":
            if r.random() < 0.3:
                return f"{community.name}村部"
            return f"{community.name}{r.randint(1, 16)}组"
        if site == "road":
            base = community.name.removesuffix("社区").removesuffix("村")
            return f"{r.choice(roads)}{base}段{r.randint(1, 80)}号杆"
        if site == "pond":
            return f"{community.name}{r.randint(1, 16)}组当家塘"
        raise ValueError(site)


def _camera_code(district: str, serial: int, community_site: bool) -> str:
    """A GB/T 28181-style 20-digit device ID: centre (adcode + 00: 34080300), industry,
    132 = IPC, net 0."""
    industry = "01" if community_site else "00"  # 社区接入 / 路面接入
    return f"{district}00{industry}1320{serial:06d}"


def _cameras(
    layout: _Layout,
    district: str,
    grids: Sequence[Grid],
    communities: dict[str, Community],
    rng: random.Random,
) -> list[Camera]:
    """The layout's number of cameras, several times denser per grid in the urban streets."""
    urban = layout.urban
    weights = [(1.0 if g.street in urban else 0.5) * rng.uniform(0.6, 1.4) for g in grids]
    counts = _apportion(layout.cameras, weights, minimum=1)
    namer = _CameraNamer(rng, layout)
    out: list[Camera] = []
    for grid, count in zip(grids, counts, strict=True):
        community = communities[grid.community]
        rural_village = grid.street not in urban and community.name.endswith("村")
        sites = list(_RURAL_SITES if rural_village else _URBAN_SITES)
        if grid.street in layout.riverside:
            sites.append(_RIVER_SITE)
        for _ in range(count):
            site, _share, pool, lo, hi = rng.choices(sites, [s[1] for s in sites])[0]
            n = min(rng.randint(lo, hi), len(pool))
            kinds = tuple(sorted(rng.sample(pool, n), key=pool.index))
            lon, lat = random_point_in_grid(grid, rng)
            out.append(
                Camera(
                    code=_camera_code(district, len(out) + 1, site in ("gate", "lift", "facade")),
                    name=namer.name(site, grid.street, community),
                    lon=lon,
                    lat=lat,
                    grid=grid.code,
                    street=grid.street,
                    kinds=kinds,
                )
            )
    return out


# --- building -------------------------------------------------------------------------------


def _read_json(layout: _Layout, name: str) -> Any:
    folder = resources.files("resources").joinpath(*layout.folder)
    return json.loads((folder / name).read_text("utf-8"))


def _units(layout: _Layout) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The district record and its sub-centres (with children) from admin_units.json."""
    data = _read_json(layout, "admin_units.json")
    by_code = {u["code"]: u for u in data["units"]}
    return data["district"], [by_code[c] for c in layout.sub_centres]


def _outline_deg(layout: _Layout) -> Geometry:
    features = _read_json(layout, "district_outline.geojson")["features"]
    return shapely.from_geojson(json.dumps(features[0]["geometry"]))


def _iter_groups(items: Sequence[Any], sizes: Sequence[int]) -> Iterator[list[Any]]:
    start = 0
    for size in sizes:
        yield list(items[start : start + size])
        start += size


def build_district(seed: int = DEFAULT_SEED, code: str = DEFAULT_CODE) -> District:
    """A district of the city (default: Daguan) by its adcode, one of DISTRICT_CODES; the
    same seed always gives the same (equal) district.

    Results are cached per seed and code (the dataset is immutable), so repeated calls are
    free.
    """
    if code not in _LAYOUTS:
        raise ValueError(f"no district {code!r}: known are {', '.join(DISTRICT_CODES)}")
    return _build(seed, code)


def case_prefix(code: str) -> str | None:
    """The case-number prefix of a district of DISTRICT_CODES (大观区 DG, 迎江区 YJ); None
    for a district this build does not know."""
    layout = _LAYOUTS.get(code)
    return None if layout is None else layout.prefix


def city_of(code: str) -> tuple[str, str]:
    """The city a district belongs to, (adcode, name), from its data's `parent`
    ("安庆市 340800 / 安徽省 340000")."""
    if code not in _LAYOUTS:
        raise ValueError(f"no district {code!r}: known are {', '.join(DISTRICT_CODES)}")
    parent = str(_read_json(_LAYOUTS[code], "admin_units.json")["district"]["parent"])
    name, adcode = parent.split("/")[0].split()
    return adcode, name


def district_seed(seed: int, code: str) -> int:
    """The seed of one district of a city built from `seed`: the default seed gives each
    district its own adcode (340803, 340802), and another seed moves them all."""
    return seed + int(code) - int(DEFAULT_CODE)


@cache
def _build(seed: int, code: str = DEFAULT_CODE) -> District:
    layout = _LAYOUTS[code]
    rng = random.Random(seed)
    people = _People(random.Random(seed + 1))  # a separate stream: names don't move shapes
    info, units = _units(layout)
    if info["adcode"] != code:
        raise ValueError(f"resources/{'/'.join(layout.folder)} holds {info['adcode']}, not {code}")
    outline_deg = _outline_deg(layout)
    outline = _to_km(outline_deg)

    street_seeds = [_to_km_point(lon, lat) for _, lon, lat, _, _ in layout.street_seeds]
    street_cells = _tidy(
        _power_cells(outline, street_seeds, [s[3] for s in layout.street_seeds]), street_seeds
    )

    streets: list[Street] = []
    communities: list[Community] = []
    community_cells: list[tuple[Community, Any]] = []
    for unit, cell in zip(units, street_cells, strict=True):
        deg = _finish(cell)
        streets.append(
            Street(unit["code"], unit["name"], unit["type"], _polygon_coords(deg), _centre(deg))
        )
        children = unit["children"]
        for child, sub in zip(children, _relaxed_partition(cell, len(children), rng), strict=True):
            sub_deg = _finish(sub)
            community = Community(
                code=child["code"],
                name=_short_name(child["name"]),
                street=unit["code"],
                polygon=_polygon_coords(sub_deg),
                centre=_centre(sub_deg),
            )
            communities.append(community)
            community_cells.append((community, sub))

    grids = _grids(layout, streets, community_cells, rng, people)
    departments = tuple(
        Department(dept, name.replace("大观", layout.short), kind)
        for dept, name, kind in DEPARTMENTS
    )
    cameras = _cameras(layout, code, grids, {c.code: c for c in communities}, rng)
    # Here, not at the top: the category table imports DEPARTMENTS from this module.
    from dispatch.domain.categories import CAMERA_KINDS_BY_CODE

    for cam in cameras:
        unknown = set(cam.kinds) - CAMERA_KINDS_BY_CODE.keys()
        if unknown:
            raise ValueError(f"camera kinds not in categories.json: {sorted(unknown)}")
    return District(
        code=info["adcode"],
        name=info["name"],
        outline=_coords(outline_deg),
        streets=tuple(streets),
        communities=tuple(communities),
        grids=tuple(grids),
        departments=departments,
        cameras=tuple(cameras),
    )


def _to_km_point(lon: float, lat: float) -> Coord:
    return (lon - _LON0) * _KX, (lat - _LAT0) * _KY


def _finish(cell_km: Geometry) -> Geometry:
    """A km-plane cell back in degrees as one Polygon, snapped to the 6-decimal grid.

    Snapping keeps polygons valid; if it ever pinched a thin neck into two parts, the largest
    is kept (a loss of square metres, far inside the tolerance of an illustrative map).
    """
    snapped = shapely.set_precision(_to_deg(cell_km), 10.0**-_DEG)
    return max(shapely.get_parts(snapped), key=lambda p: float(p.area))


def _grids(
    layout: _Layout,
    streets: Sequence[Street],
    community_cells: Sequence[tuple[Community, Any]],
    rng: random.Random,
    people: _People,
) -> list[Grid]:
    """Split every community into grids, with workers and party-branch leaders."""
    per_community: list[int] = []
    for street in streets:
        mine = [c for c, _ in community_cells if c.street == street.code]
        jitter = [rng.uniform(0.75, 1.25) for _ in mine]
        per_community += _apportion(layout.grids_per_street[street.code], jitter, minimum=2)
    branches = _apportion(layout.party_branches, [float(n) for n in per_community], minimum=1)

    grids: list[Grid] = []
    for (community, cell), n, n_branches in zip(
        community_cells, per_community, branches, strict=True
    ):
        cells = _relaxed_partition(cell, n, rng)
        # Number grids roughly north-west to south-east, the way a paper map is read.
        cells.sort(
            key=lambda g: (
                -round(float(shapely.get_y(shapely.centroid(g))), 1),
                float(shapely.get_x(shapely.centroid(g))),
            )
        )
        sizes = _apportion(n, [1.0] * n_branches)
        leaders = [people.name() for _ in range(n_branches)]
        k = 0
        for branch, group in enumerate(_iter_groups(cells, sizes)):
            for sub in group:
                k += 1
                deg = _finish(sub)
                grids.append(
                    Grid(
                        code=f"{community.code}{k:03d}",
                        name=f"{community.name}第{k}网格",
                        community=community.code,
                        street=community.street,
                        polygon=_polygon_coords(deg),
                        centre=_centre(deg),
                        worker=people.name(),
                        worker_phone=people.phone(),
                        leader=leaders[branch],
                    )
                )
    return grids
