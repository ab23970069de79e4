"""The reference units in memory: lookups, the grid index, deadlines, per-user views."""

from __future__ import annotations

import contextlib
import hashlib
import random
import threading
from collections.abc import Iterable
from datetime import UTC, datetime

import msgspec
import numpy as np
import shapely
from shapely.geometry import Point, Polygon

from dispatch.domain.calendar import CST, WorkingCalendar
from dispatch.domain.categories import CameraKind
from dispatch.domain.district import case_prefix
from dispatch.jurisdiction import (
    COMMUNITY_WIDTH,
    DISTRICT_WIDTH,
    GRID_WIDTH,
    STREET_WIDTH,
    width_of,
)
from protocol.entities import (
    Alert,
    Basis,
    CalendarStatus,
    Camera,
    Category,
    CategoryLimit,
    Community,
    Department,
    Grid,
    Reference,
    Street,
)

UNIT_KINDS = ("district", "street", "community", "grid", "department", "camera", "category")
# Points kept with their grid after an exact test (ReferenceData.grid_at).
EXACT_KEPT = 4096


class UnitCodeError(ValueError):
    """Reference units the backend cannot serve (codes that do not nest, dangling parents)."""


def check_nesting(reference: Reference) -> None:
    """Refuse units whose codes do not nest: jurisdictions are code prefixes (jurisdiction.py),
    so a street is 9 digits, its communities 12 digits beginning with it, their grids 15
    digits beginning with the community, and a camera sits in a known grid of its street."""
    problems: list[str] = []

    def check(what: str, code: str, width: int, parent: str, parent_kind: str) -> None:
        if len(code) != width or not code.isdigit():
            problems.append(f"{what} {code!r} is not a {width}-digit code")
        elif parent and not code.startswith(parent):
            problems.append(f"{what} {code} does not begin with its {parent_kind}'s code {parent}")

    streets = {s.code for s in reference.streets}
    for street in reference.streets:
        check("street", street.code, STREET_WIDTH, "", "")
    communities = {c.code: c for c in reference.communities}
    for community in reference.communities:
        check("community", community.code, COMMUNITY_WIDTH, community.street, "street")
        if community.street not in streets:
            problems.append(
                f"community {community.code} names an unknown street {community.street}"
            )
    grids = {g.code: g for g in reference.grids}
    for grid in reference.grids:
        check("grid", grid.code, GRID_WIDTH, grid.community, "community")
        parent = communities.get(grid.community)
        if parent is None:
            problems.append(f"grid {grid.code} names an unknown community {grid.community}")
        elif grid.street != parent.street:
            problems.append(
                f"grid {grid.code} says street {grid.street}, its community {parent.street}"
            )
    for camera in reference.cameras:
        home = grids.get(camera.grid)
        if home is None:
            problems.append(f"camera {camera.code} names an unknown grid {camera.grid!r}")
        elif camera.street != home.street:
            problems.append(
                f"camera {camera.code} says street {camera.street}, its grid {home.street}"
            )
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise UnitCodeError(
            "the district's unit codes do not nest (street 9 digits > community 12 > grid 15): "
            + "; ".join(problems[:5])
            + more
        )


def from_epoch(seconds: float) -> datetime:
    """An aware UTC datetime from epoch seconds."""
    return datetime.fromtimestamp(seconds, UTC)


def local(seconds: float) -> datetime:
    """The district's local time (CST, UTC+8) of epoch seconds."""
    return datetime.fromtimestamp(seconds, CST)


def to_epoch(moment: datetime) -> float:
    """Epoch seconds of an aware datetime."""
    return moment.timestamp()


class _Cells:
    """Square cells of ~50 m over the district, each with the grids it touches (and the one
    grid it lies wholly inside, if any): most points need no geometry test at all."""

    def __init__(self) -> None:
        self.ready = threading.Event()
        self.failure: BaseException | None = None
        self.x0 = self.y0 = self.size = 0.0
        self.cols = self.rows = 0
        self.buckets: list[list[int]] = []
        self.whole: list[int] = []

    def get(self) -> _Cells:
        """The cells, once built (waiting for the thread that builds them if need be)."""
        if not self.ready.is_set():
            self.ready.wait()
        if self.failure is not None:
            raise RuntimeError("the grid cells could not be built") from self.failure
        return self

    def build(self, shapes: list[Polygon], tree: shapely.STRtree, cells: int = 400) -> None:
        """Cells of ~50 m: most fall wholly inside one grid, even in the dense old town."""
        try:
            self._build(shapes, tree, cells)
        except BaseException as exc:  # said at the first lookup, not lost in a thread
            self.failure = exc
        finally:
            self.ready.set()

    def _build(self, shapes: list[Polygon], tree: shapely.STRtree, cells: int) -> None:
        x0, y0, x1, y1 = shapely.total_bounds(shapes)
        self.x0, self.y0 = float(x0), float(y0)
        self.size = max(float(x1 - x0), float(y1 - y0)) / cells
        self.cols = int((x1 - x0) / self.size) + 1
        self.rows = int((y1 - y0) / self.size) + 1
        count = self.cols * self.rows
        index = np.arange(count)
        left = self.x0 + (index % self.cols) * self.size
        bottom = self.y0 + (index // self.cols) * self.size
        boxes = shapely.box(left, bottom, left + self.size, bottom + self.size)
        cell_of, grid_of = tree.query(boxes, predicate="intersects")
        buckets: list[list[int]] = [[] for _ in range(count)]
        for cell, grid in zip(cell_of.tolist(), grid_of.tolist(), strict=True):
            buckets[cell].append(grid)
        whole = [-1] * count
        single = [cell for cell in range(count) if len(buckets[cell]) == 1]
        if single:
            owners = [buckets[cell][0] for cell in single]
            inside = shapely.contains_properly(
                np.array([shapes[g] for g in owners], dtype=object), boxes[single]
            )
            for cell, owner, ok in zip(single, owners, inside.tolist(), strict=True):
                if ok:
                    whole[cell] = owner
        self.buckets, self.whole = buckets, whole


class ReferenceData:
    """Streets, communities, grids, departments, cameras and categories, indexed."""

    def __init__(
        self,
        reference: Reference,
        calendar: WorkingCalendar,
        camera_kinds: Iterable[CameraKind],
        code_prefix: str = "DG",
        districts: dict[str, tuple[str, list[list[list[float]]]]] | None = None,
        city: tuple[str, str] | None = None,
        district_kinds: dict[str, list[CameraKind]] | None = None,
        calendars: dict[str, WorkingCalendar] | None = None,
    ) -> None:
        check_nesting(reference)
        self.reference = reference
        # Each district of the store: its name and outline rings (a city store has several;
        # by default the one the reference names).
        self.districts = districts or {
            reference.district: (reference.district_name, reference.outline)
        }
        # The city (adcode, name) a store of several districts names to a user who sees them
        # all; None: the first district's.
        self.city = city
        self.calendar = calendar
        # A district's own calendar (the national one with its local days), where it has one.
        self.calendars: dict[str, WorkingCalendar] = dict(calendars or {})
        # Case numbers: each district's own prefix (its layout's), numbered per prefix;
        # `code_prefix` for a district this build has no layout of.
        self.code_prefix = code_prefix
        self.code_prefixes = {code: case_prefix(code) or code_prefix for code in self.districts}
        self.streets: dict[str, Street] = {s.code: s for s in reference.streets}
        self.communities: dict[str, Community] = {c.code: c for c in reference.communities}
        self.grids: dict[str, Grid] = {g.code: g for g in reference.grids}
        # Every district's departments (codes unique in the store: a further district's are
        # `340802:CGJ`), and each district's own.
        self.departments: dict[str, Department] = {d.code: d for d in reference.departments}
        self.district_departments: dict[str, dict[str, Department]] = {}
        for d in reference.departments:
            self.district_departments.setdefault(d.district or reference.district, {})[d.code] = d
        self.cameras: dict[str, Camera] = {c.code: c for c in reference.cameras}
        # Each district's category table and camera detection kinds (a district without its
        # own, in a city store made before they were per district, uses the first's).
        self.tables: dict[str, dict[str, Category]] = {reference.district: {}}
        for k in reference.categories:
            self.tables.setdefault(k.district or reference.district, {})[k.code] = k
        self.kinds: dict[str, dict[str, CameraKind]] = {
            reference.district: {k.code: k for k in camera_kinds}
        }
        for code, kinds in (district_kinds or {}).items():
            if code != reference.district:
                self.kinds[code] = {k.code: k for k in kinds}
        self._grid_list = list(reference.grids)
        self._shapes = [_polygon(g.polygon) for g in self._grid_list]
        self._tree = shapely.STRtree(self._shapes)
        self._grid_index = {g.code: i for i, g in enumerate(self._grid_list)}
        for shape in self._shapes:
            shapely.prepare(shape)
        # The point lookup's cells are built in a thread (a fifth of a second): a backend's
        # start reads its state meanwhile; the first lookup waits for them if it must.
        self._cells = _Cells()
        threading.Thread(
            target=self._cells.build,
            args=(self._shapes, self._tree),
            name="grid-cells",
            # Not a daemon: the interpreter's exit waits for it (a daemon thread still in
            # shapely's C code when a just-started backend was stopped crashed it).
        ).start()
        self._views: dict[frozenset[str] | None, tuple[str, bytes]] = {}
        # Points that needed an exact test, with their grid: an intake places a report (on
        # the loop) and the writer files it (on its thread) at the same point, so the second
        # lookup is a dict hit. Cleared whole when full (one atomic step for both threads).
        self._exact: dict[tuple[float, float], Grid | None] = {}

    @property
    def first(self) -> str:
        """The store's first district: the one its reference names (the default)."""
        return self.reference.district

    @property
    def categories(self) -> dict[str, Category]:
        """The first district's category table (of a case: `categories_of` its street)."""
        return self.tables[self.first]

    @categories.setter
    def categories(self, table: dict[str, Category]) -> None:
        self.tables = {**self.tables, self.first: table}

    @property
    def camera_kinds(self) -> dict[str, CameraKind]:
        """The first district's camera detection kinds (of a camera: `kinds_of`)."""
        return self.kinds[self.first]

    @camera_kinds.setter
    def camera_kinds(self, kinds: dict[str, CameraKind]) -> None:
        self.kinds = {**self.kinds, self.first: kinds}

    def table_district(self, code: str) -> str:
        """The district whose category table a unit (a street, community, grid or the
        district's own code) uses: its own, or the first's when it has none."""
        district = code[:DISTRICT_WIDTH]
        return district if district in self.tables else self.first

    def categories_of(self, code: str) -> dict[str, Category]:
        """The category table of a unit's district (`code`: a street, grid, community or
        district code): every rule reading a case's category reads it here."""
        return self.tables[self.table_district(code)]

    def category(self, code: str, category: str) -> Category | None:
        """A category of a unit's district's table by its code."""
        return self.categories_of(code).get(category)

    def category_name(self, code: str, category: str) -> str:
        """A case's category by name as its own district's table names it (`code`: its
        street, grid or community); the category's code when that table has no such one."""
        found = self.category(code, category)
        return found.name if found is not None else category

    def kinds_of(self, code: str) -> dict[str, CameraKind]:
        """The camera detection kinds of a unit's district (a camera's street)."""
        district = code[:DISTRICT_WIDTH]
        return self.kinds.get(district) or self.camera_kinds

    def detection_name(self, code: str, kind: str) -> str:
        """A detection kind by name as a unit's district (an alert's street) names it; the
        kind's code when that district has no such kind."""
        found = self.kinds_of(code).get(kind)
        return found.name if found is not None else kind

    def category_codes(self, jurisdiction: frozenset[str] | None) -> frozenset[str]:
        """The category codes of the tables of the districts a jurisdiction lies in (None:
        every district's): the codes a user may filter its cases by."""
        districts = (
            set(self.tables)
            if jurisdiction is None
            else {self.table_district(code) for code in jurisdiction}
        )
        return frozenset(code for district in districts for code in self.tables[district])

    def departments_of(self, code: str) -> dict[str, Department]:
        """The departments of a unit's district (the first's, when it has none of its own)."""
        district = code[:DISTRICT_WIDTH]
        return self.district_departments.get(district) or self.district_departments.get(
            self.first, {}
        )

    def department_for(self, code: str, department: str) -> str | None:
        """The code of a unit's district's department a table names `department` (`CGJ`:
        the first district's `CGJ`, 迎江区's `340802:CGJ`); None when it has no such one."""
        mine = self.departments_of(code)
        if department in mine:
            return department
        keyed = f"{code[:DISTRICT_WIDTH]}:{department}"
        return keyed if department and keyed in mine else None

    def replace_categories(
        self, categories: list[Category], kinds: list[CameraKind], district: str = ""
    ) -> None:
        """Take a district's new category table (default: the first's) while serving (an
        admin changed it); call on the event loop. The writer thread reads a table one
        lookup at a time: each is swapped whole, so it sees the old or the new, never a
        mixture."""
        district = district or self.first
        mark = "" if district == self.first else district
        self.tables = {
            **self.tables,
            district: {c.code: msgspec.structs.replace(c, district=mark) for c in categories},
        }
        self.kinds = {**self.kinds, district: {k.code: k for k in kinds}}
        detections: dict[str, str] = {}
        for table in self.kinds.values():
            detections.update((k.code, k.name) for k in table.values())
        self.reference = msgspec.structs.replace(
            self.reference,
            categories=[c for table in self._ordered_tables() for c in table.values()],
            detections=detections,
        )
        self._views = {}  # the units' versions change with them

    def _ordered_tables(self) -> list[dict[str, Category]]:
        """The districts' tables, the first's first, the others by code."""
        order = sorted(self.tables, key=lambda code: (code != self.first, code))
        return [self.tables[code] for code in order]

    def prefix_of(self, street: str) -> str:
        """The case-number prefix of a case in `street` (or a community or grid): its
        district's, the district being the code's first six digits."""
        return self.code_prefixes.get(street[:DISTRICT_WIDTH], self.code_prefix)

    def grid_at(self, lon: float, lat: float) -> Grid | None:
        """The grid containing a point, or None outside the district."""
        # A bucket lookup, then exact tests on the few candidates: several times faster
        # than an STRtree query per point, which matters for ingest bursts.
        cells = self._cells.get()
        col = int((lon - cells.x0) / cells.size)
        row = int((lat - cells.y0) / cells.size)
        if not (0 <= col < cells.cols and 0 <= row < cells.rows):
            return None
        cell = row * cells.cols + col
        whole = cells.whole[cell]
        if whole >= 0:  # the cell lies inside one grid: no geometry test at all
            return self._grid_list[whole]
        with contextlib.suppress(KeyError):
            return self._exact[(lon, lat)]
        found = None
        for index in cells.buckets[cell]:
            if shapely.contains_xy(self._shapes[index], lon, lat) or shapely.intersects_xy(
                self._shapes[index], lon, lat
            ):
                found = self._grid_list[index]
                break
        self._remember(lon, lat, found)
        return found

    def _remember(self, lon: float, lat: float, grid: Grid | None) -> None:
        if len(self._exact) >= EXACT_KEPT:
            self._exact.clear()
        self._exact[(lon, lat)] = grid

    def grids_at(self, points: list[tuple[float, float]]) -> list[Grid | None]:
        """The grid containing each point (None outside the district): grid_at's answers,
        with the exact tests of the whole list in two vectorised calls (a batch of reports)."""
        found: list[Grid | None] = [None] * len(points)
        pairs: list[tuple[int, int]] = []  # (point, candidate grid), in each bucket's order
        cells = self._cells.get()
        for i, (lon, lat) in enumerate(points):
            col = int((lon - cells.x0) / cells.size)
            row = int((lat - cells.y0) / cells.size)
            if not (0 <= col < cells.cols and 0 <= row < cells.rows):
                continue
            cell = row * cells.cols + col
            whole = cells.whole[cell]
            if whole >= 0:
                found[i] = self._grid_list[whole]
                continue
            try:
                found[i] = self._exact[(lon, lat)]
            except KeyError:
                pairs.extend((i, index) for index in cells.buckets[cell])
        if not pairs:
            return found
        shapes = np.array([self._shapes[g] for _, g in pairs], dtype=object)
        xs = np.array([points[i][0] for i, _ in pairs])
        ys = np.array([points[i][1] for i, _ in pairs])
        hit = shapely.contains_xy(shapes, xs, ys)
        edge = ~hit
        if edge.any():  # on a boundary: grid_at takes the first candidate it touches
            hit[edge] = shapely.intersects_xy(shapes[edge], xs[edge], ys[edge])
        for (i, index), inside in zip(pairs, hit.tolist(), strict=True):
            if inside and found[i] is None:
                found[i] = self._grid_list[index]
        for i in {i for i, _ in pairs}:
            self._remember(points[i][0], points[i][1], found[i])
        return found

    def random_point(self, grid_code: str, rng: random.Random) -> tuple[float, float]:
        """A uniformly random point inside a grid (rejection sampling in its bounds)."""
        shape = self._shapes[self._grid_index[grid_code]]
        minx, miny, maxx, maxy = shape.bounds
        for _ in range(200):
            point = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
            if shape.contains(point):
                return round(point.x, 6), round(point.y, 6)
        centre = shape.representative_point()
        return round(centre.x, 6), round(centre.y, 6)

    def calendar_of(self, code: str) -> WorkingCalendar:
        """The working calendar of a unit's district (`code`: a street, community, grid or
        district code): the national one with the district's own days, if it has any."""
        return self.calendars.get(code[:DISTRICT_WIDTH], self.calendar)

    def deadline(
        self, start: float, limit: CategoryLimit, basis: Basis = "working", where: str = ""
    ) -> float:
        """The moment a limit starting at `start` runs out: in office hours of working days
        (the calendar of `where`'s district: a case's street), or in natural time."""
        if basis == "natural":
            return start + limit.amount * (3600.0 if limit.unit == "hour" else 86400.0)
        calendar = self.calendars.get(where[:DISTRICT_WIDTH], self.calendar)
        moment = from_epoch(start)
        if limit.unit == "hour":
            return to_epoch(calendar.add_working_hours(moment, limit.amount))
        return to_epoch(calendar.add_working_days(moment, max(1, round(limit.amount))))

    def elapsed(self, start: float, end: float, basis: Basis = "working", where: str = "") -> float:
        """Seconds from `start` to `end` counted in `basis` (working seconds of `where`'s
        district's calendar, or natural)."""
        if basis == "natural":
            return end - start
        calendar = self.calendars.get(where[:DISTRICT_WIDTH], self.calendar)
        return calendar.working_seconds_between(from_epoch(start), from_epoch(end))

    def calendar_status(self, now: float) -> CalendarStatus:
        """Which years the working calendar has official data for, as of `now`."""
        return self.calendar.status(local(now).date())

    def guessed(self, start: float, end: float) -> bool:
        """Whether any day from `start` to `end` (local dates) lies in a guessed year."""
        return self.calendar.any_guess(local(start).date(), local(end).date())

    def key_at(self, grid: str, street: str) -> str:
        """The code something in `grid` is filed under for jurisdiction (jurisdiction.py): the
        grid's community; its street, coarser, should the grid not be in the reference."""
        unit = self.grids.get(grid)
        return street if unit is None else unit.community

    def key_of(self, alert: Alert) -> str:
        """The code an alert is filed under for jurisdiction (see key_at)."""
        return self.key_at(alert.grid, alert.street)

    def view(self, jurisdiction: frozenset[str] | None) -> Reference:
        """The part of the reference a user with this jurisdiction may see: its streets (a
        community user: the street its communities belong to, for the outline), and the
        communities, grids and cameras inside the jurisdiction; a district user's also
        names and outlines its district rather than the city's first."""
        ref = self.reference
        if jurisdiction is None:
            if len(self.districts) < 2:
                return ref
            # A city's user: named after the city, with every district listed, and every
            # category and department naming its district (the first's too: the units'
            # own `district` is the city's here).
            code, name = self.city or (ref.district, ref.district_name)
            named = {d: self.districts[d][0] for d in self.districts}
            first = self.first
            return msgspec.structs.replace(
                ref,
                district=code,
                district_name=name,
                districts=named,
                categories=[
                    c if c.district else msgspec.structs.replace(c, district=first)
                    for c in ref.categories
                ],
                departments=[
                    d if d.district else msgspec.structs.replace(d, district=first)
                    for d in ref.departments
                ],
            )
        ref = self._tables_view(jurisdiction)
        width = width_of(jurisdiction)
        if width == DISTRICT_WIDTH:
            # A district's users see their district(s): named, and outlined, as their own.
            mine = [code for code in self.districts if code in jurisdiction]
            return msgspec.structs.replace(
                ref,
                district=mine[0] if mine else ref.district,
                district_name=self.districts[mine[0]][0] if mine else ref.district_name,
                districts={d: self.districts[d][0] for d in mine} if len(mine) > 1 else {},
                outline=[ring for code in mine for ring in self.districts[code][1]],
                streets=[s for s in ref.streets if s.code[:width] in jurisdiction],
                communities=[c for c in ref.communities if c.code[:width] in jurisdiction],
                grids=[g for g in ref.grids if g.code[:width] in jurisdiction],
                cameras=[c for c in ref.cameras if c.grid[:width] in jurisdiction],
            )
        streets = {code[:STREET_WIDTH] for code in jurisdiction}
        # Streets of two districts (allowed): both listed, as a city's user has them, so
        # that a desk knows whose duty is whose and names the one it acts on.
        spans = [d for d in self.districts if any(s.startswith(d) for s in streets)]
        return msgspec.structs.replace(
            ref,
            districts={d: self.districts[d][0] for d in spans} if len(spans) > 1 else {},
            streets=[s for s in ref.streets if s.code in streets],
            communities=[c for c in ref.communities if c.code[:width] in jurisdiction],
            grids=[g for g in ref.grids if g.code[:width] in jurisdiction],
            cameras=[c for c in ref.cameras if c.grid[:width] in jurisdiction],
        )

    def _tables_view(self, jurisdiction: frozenset[str]) -> Reference:
        """The reference with only the category tables, detection kinds and departments of
        the districts `jurisdiction` lies in (unchanged in a store of one district)."""
        ref = self.reference
        if len(self.districts) == 1 and len(self.tables) == 1:
            return ref
        tables = {self.table_district(code) for code in jurisdiction}
        homes = {code[:DISTRICT_WIDTH] for code in jurisdiction}
        departments = {
            code
            for home in homes
            for code in (home if home in self.district_departments else self.first,)
        }
        detections: dict[str, str] = {}
        for home in sorted(homes):
            detections.update((k.code, k.name) for k in self.kinds_of(home).values())
        return msgspec.structs.replace(
            ref,
            categories=[c for c in ref.categories if (c.district or self.first) in tables],
            departments=[d for d in ref.departments if (d.district or self.first) in departments],
            detections=detections,
        )

    def units_frame(self, jurisdiction: frozenset[str] | None) -> tuple[str, bytes]:
        """(version, encoded `units` message) of `view()`, built once per jurisdiction."""
        cached = self._views.get(jurisdiction)
        if cached is None:
            body = msgspec.json.encode(self.view(jurisdiction))
            version = hashlib.sha256(body).hexdigest()[:16]
            frame = b"".join(
                [b'{"type":"units","version":"', version.encode(), b'","reference":', body, b"}"]
            )
            cached = self._views[jurisdiction] = (version, frame)
        return cached


def _polygon(rings: list[list[list[float]]]) -> Polygon:
    shell, *holes = rings
    return Polygon(shell, holes)
