"""Placing an intake's report: its coordinates when they fall in the district, else its
address matched against the district's own gazetteer, with a confidence.

The gazetteer is built from the reference data the backend already serves: the streets,
communities and grids by name, and the places the cameras are named after (estates, house
numbers, crossings, roads: "同安家园南大门", "孝肃路288号门前", "马山路与人民路口-西") as
points of interest. Chinese addresses are matched after normalisation: full-width to
half-width, the province/city/district prefix dropped, then the most specific entry wins
(house number or crossing, estate, grid, community, road, street), narrowed by the street or
community the address names when several entries share a name.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

from dispatch.reference import ReferenceData
from protocol.entities import Place

# Confidence of each way of placing a report (documented in docs/intake.md).
CONFIDENCE: dict[Place, float] = {
    "point": 1.0,
    "poi": 0.9,
    "grid": 0.75,
    "community": 0.6,
    "road": 0.5,
    "street": 0.35,
    "none": 0.0,
}
# Entries of one name farther apart than this (metres) are ambiguous: not one place.
_SPREAD_M = 400.0
_PREFIXES = ("中国", "安徽省", "安徽", "安庆市", "安庆")
_GATE = re.compile(r"(东南|东北|西南|西北|东|西|南|北)?(大门|侧门|门口|门前|门)$")
_SUFFIX = re.compile(r"-[东西南北向]+$")
_HOUSE = re.compile(r"^(.+?[路街巷道])(\d+)号")
_CROSS = re.compile(r"^(.+?[路街巷道])(?:与|和|、)?(.+?[路街巷道])(?:交叉)?[路街]?口")
_ESTATE = re.compile(
    r"^(.+?(?:新村|家园|小区|花园|公寓|苑|园|城|府|庄|村|广场|大厦|中心|市场|医院|学校|小学|中学|公园))"
)
_ROAD = re.compile(r"^(.+?[路街巷道])")
_DIGITS = re.compile(r"[0-9]+")


def normalise_address(text: str) -> str:
    """NFKC (full-width digits and letters to half-width), spaces and punctuation dropped."""
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\s,，、。.;；:：()（）\[\]【】#＃]+", "", text)


@dataclass(frozen=True, slots=True)
class Located:
    """Where a report is: a point in the district, what placed it and how sure that is."""

    lon: float
    lat: float
    place: Place
    confidence: float
    matched: str = ""


@dataclass(slots=True)
class _Entry:
    name: str
    place: Place
    lon: float
    lat: float
    street: str  # its street's code ("" unknown)
    community: str


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = (a[0] - b[0]) * 111_320 * math.cos(math.radians((a[1] + b[1]) / 2))
    dy = (a[1] - b[1]) * 110_540
    return math.hypot(dx, dy)


class Gazetteer:
    """Names of the district's units and places, for matching addresses."""

    def __init__(self, reference: ReferenceData) -> None:
        self.reference = reference
        ref = reference.reference
        self.district_name = ref.district_name
        self._entries: dict[str, list[_Entry]] = defaultdict(list)
        self._streets: dict[str, str] = {}  # name -> code
        self._communities: dict[str, tuple[str, str]] = {}  # name -> (code, street)
        for s in ref.streets:
            self._streets[s.name] = s.code
            self._add(s.name, "street", s.centre, s.code, "")
        for m in ref.communities:
            self._communities[m.name] = (m.code, m.street)
            self._add(m.name, "community", m.centre, m.street, m.code)
            if m.name.endswith("社区"):  # 马山社区居委会, 马山社区居民委员会
                self._add(m.name + "居委会", "community", m.centre, m.street, m.code)
        for g in ref.grids:
            self._add(g.name, "grid", g.centre, g.street, g.community)
        roads: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
        for cam in ref.cameras:
            grid = reference.grids.get(cam.grid)
            community = grid.community if grid else ""
            name = normalise_address(_SUFFIX.sub("", cam.name))
            point = (cam.lon, cam.lat)
            for key in _poi_keys(name):
                self._add(key, "poi", point, cam.street, community)
            road = _ROAD.match(name)
            if road and not _ESTATE.match(name[: road.end()]):
                roads[road.group(1)].append((cam.lon, cam.lat, cam.street))
        for road_name, points in roads.items():
            lon = sum(p[0] for p in points) / len(points)
            lat = sum(p[1] for p in points) / len(points)
            streets = {p[2] for p in points}
            self._add(road_name, "road", (lon, lat), streets.pop() if len(streets) == 1 else "", "")
        # The names by their first two characters, longest first: an address is scanned
        # once, each position looking up only the names that could start there.
        self._by_head: dict[str, list[str]] = defaultdict(list)
        for name in sorted(self._entries, key=len, reverse=True):
            self._by_head[name[:2]].append(name)

    def _add(
        self,
        name: str,
        place: Place,
        point: list[float] | tuple[float, float],
        street: str,
        community: str,
    ) -> None:
        name = normalise_address(name)
        if len(name) < 2:
            return
        for entry in self._entries[name]:
            if entry.place == place and _metres((entry.lon, entry.lat), (point[0], point[1])) < 1:
                return
        self._entries[name].append(_Entry(name, place, point[0], point[1], street, community))

    def locate(self, address: str) -> Located | None:
        """The best gazetteer match of an address, or None when nothing matched."""
        text = normalise_address(address)
        for prefix in (*_PREFIXES, self.district_name):
            if text.startswith(prefix):
                text = text[len(prefix) :]
        street = next((code for name, code in self._streets.items() if name in text), "")
        community = next((c for name, (c, _) in self._communities.items() if name in text), "")
        if community and not street:
            street = community[:9]
        best: tuple[float, Located] | None = None
        for name in self._names_in(text):
            candidates = self._entries[name]
            if community:
                candidates = [e for e in candidates if e.community in ("", community)] or candidates
            if street:
                candidates = [e for e in candidates if e.street in ("", street)] or candidates
            place = candidates[0].place
            confidence = CONFIDENCE[place]
            lon = sum(e.lon for e in candidates) / len(candidates)
            lat = sum(e.lat for e in candidates) / len(candidates)
            spread = max(_metres((e.lon, e.lat), (lon, lat)) for e in candidates)
            if spread > _SPREAD_M:
                confidence *= 0.5  # several places of that name: their middle is a guess
            if street and candidates[0].street and candidates[0].street != street:
                confidence *= 0.6  # the address names another street than the place's
            found = Located(round(lon, 6), round(lat, 6), place, round(confidence, 2), name)
            if best is None or confidence > best[0]:
                best = (confidence, found)
            if confidence >= CONFIDENCE["poi"]:
                break
        return best[1] if best else None

    def _names_in(self, text: str) -> list[str]:
        """The gazetteer's names contained in `text`, longest first."""
        found = {
            name
            for i in range(len(text) - 1)
            for name in self._by_head.get(text[i : i + 2], ())
            if text.startswith(name, i)
        }
        return sorted(found, key=len, reverse=True)

    def place(self, address: str, lon: float | None, lat: float | None) -> tuple[Located, str]:
        """Where a report goes: its point when inside the district, else its address's
        match, else the district's centre with confidence 0; and a note of why."""
        note = ""
        if lon is not None and lat is not None:
            if self.reference.grid_at(lon, lat) is not None:
                return Located(lon, lat, "point", CONFIDENCE["point"], "坐标"), ""
            note = f"坐标({lon:.6f},{lat:.6f})不在辖区内"
        found = self.locate(address) if address else None
        if found is not None and self.reference.grid_at(found.lon, found.lat) is not None:
            return found, note
        centre = self._centre()
        return Located(centre[0], centre[1], "none", 0.0, note or "地址未匹配"), note

    def _centre(self) -> tuple[float, float]:
        """A point inside the district standing for 'somewhere in it': the first street's
        centre that lies in a grid (the outline's centroid may not); in a store of several
        districts, a street of the first (default) district's."""
        home = self.reference.reference.district
        streets = self.reference.reference.streets
        for s in sorted(streets, key=lambda s: not s.code.startswith(home)):
            if self.reference.grid_at(s.centre[0], s.centre[1]) is not None:
                return s.centre[0], s.centre[1]
        grid = self.reference.reference.grids[0]
        return grid.centre[0], grid.centre[1]


def _poi_keys(name: str) -> list[str]:
    """The names a camera's place is known by: the whole name, the house number, the
    crossing (both orders), the estate without its gate."""
    keys = [name, _GATE.sub("", name)]
    house = _HOUSE.match(name)
    if house:
        keys.append(f"{house.group(1)}{house.group(2)}号")
    cross = _CROSS.match(name)
    if cross:
        a, b = cross.group(1), cross.group(2)
        keys += [f"{a}与{b}", f"{b}与{a}", f"{a}{b}", f"{b}{a}"]
    estate = _ESTATE.match(name)
    if estate and not _DIGITS.search(estate.group(1)) and not _ROAD.fullmatch(estate.group(1)):
        keys.append(estate.group(1))
    return [k for k in dict.fromkeys(keys) if len(k) >= 3]


_A = 6378245.0
_EE = 0.00669342162296594323


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """WGS84 of a GCJ-02 point (Amap/Tencent coordinates): one inverse step of the public
    offset formula, within a few metres, enough to find a grid."""
    dlat = _lat_offset(lon - 105.0, lat - 35.0)
    dlon = _lon_offset(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return lon - dlon, lat - dlat


def _lat_offset(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _lon_offset(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret
