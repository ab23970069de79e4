"""The generated Daguan district: real units, valid nested geometry, cameras, determinism."""

import json
import random
import re
import time
from collections import Counter
from importlib import resources

import pytest
import shapely

from dispatch.domain import district as mod
from dispatch.domain.categories import CAMERA_KINDS_BY_CODE
from dispatch.domain.district import District, build_district, random_point_in_grid

D = build_district()
NINE = {
    "德宽路街道",
    "玉琳路街道",
    "龙山路街道",
    "菱湖街道",
    "集贤路街道",
    "石化路街道",
    "花亭路街道",
    "海口镇",
    "十里铺乡",
}
URBAN = {s.code for s in D.streets if s.kind == "街道"}


def poly(coords: tuple) -> shapely.Polygon:
    return shapely.Polygon(coords[0], coords[1:])


OUTLINE = shapely.MultiPolygon([(p[0], list(p[1:])) for p in D.outline])
STREETS = {s.code: poly(s.polygon) for s in D.streets}
COMMUNITIES = {c.code: poly(c.polygon) for c in D.communities}
GRIDS = {g.code: poly(g.polygon) for g in D.grids}


def admin_units() -> dict:
    path = resources.files("resources") / "district" / "admin_units.json"
    return json.loads(path.read_text("utf-8"))


# --- units ----------------------------------------------------------------------------------


def test_district() -> None:
    assert (D.code, D.name) == ("340803", "大观区")


def test_nine_sub_centres() -> None:
    assert {s.name for s in D.streets} == NINE
    assert "山口乡" not in {s.name for s in D.streets}
    kinds = Counter(s.kind for s in D.streets)
    assert kinds == {"街道": 7, "镇": 1, "乡": 1}
    assert all(re.fullmatch(r"340803\d{3}", s.code) for s in D.streets)


def test_forty_real_communities() -> None:
    real = {
        child["code"]: (unit["code"], child["name"])
        for unit in admin_units()["units"]
        if unit["name"] in NINE
        for child in unit["children"]
    }
    assert len(D.communities) == 40
    assert {c.code: c.street for c in D.communities} == {k: v[0] for k, v in real.items()}
    names = {c.code: c.name for c in D.communities}
    assert names["340803001002"] == "马山社区"
    assert names["340803004009"] == "华茂社区"  # 华茂社区居委会
    assert names["340803100001"] == "安原社区"  # 安原居委会
    assert names["340803100201"] == "南埂村"
    assert names["340803200001"] == "红水塘社区"
    assert all(re.fullmatch(r".+(社区|村)", n) for n in names.values())
    assert not any("委员会" in n or "居委会" in n for n in names.values())


def test_grids() -> None:
    assert len(D.grids) == 351
    assert len({g.code for g in D.grids}) == 351
    communities = {c.code: c for c in D.communities}
    for g in D.grids:
        assert re.fullmatch(r"\d{15}", g.code)
        assert g.code[:12] == g.community
        community = communities[g.community]
        assert g.street == community.street
        assert g.name == f"{community.name}第{int(g.code[12:])}网格"
        assert re.fullmatch(r"1\d{2}-\d{4}-\d{4}", g.worker_phone)
        assert 2 <= len(g.worker) <= 3 and 2 <= len(g.leader) <= 3
    per_street = Counter(g.street for g in D.grids)
    urban = [per_street[c] for c in URBAN]
    rural = [per_street[s.code] for s in D.streets if s.code not in URBAN]
    assert sum(urban) > 3 * sum(rural)
    # Every community has grids; 113 party branches lead them.
    assert set(communities) == {g.community for g in D.grids}
    assert len({(g.community, g.leader) for g in D.grids}) == 113


def test_departments() -> None:
    names = {d.name for d in D.departments}
    # The platform links "37个区直部门"; the utilities and service companies come on top.
    assert len([d for d in D.departments if d.kind == "department"]) == 37
    assert {d.kind for d in D.departments} == {"department", "subunit", "service"}
    assert {"区城管局", "区住建局", "公安大观分局", "供电公司", "自来水公司"} <= names
    assert {"区委政法委", "区司法局", "区应急管理局", "区信访局", "区消防救援大队"} <= names
    assert len({d.code for d in D.departments}) == len(D.departments)
    assert len(names) == len(D.departments)


def test_cameras() -> None:
    assert 3300 <= len(D.cameras) <= 3700
    assert len({c.code for c in D.cameras}) == len(D.cameras)
    assert len({c.name for c in D.cameras}) == len(D.cameras)
    grids = {g.code: g for g in D.grids}
    for cam in D.cameras:
        assert re.fullmatch(r"\d{20}", cam.code)
        assert cam.kinds and set(cam.kinds) <= CAMERA_KINDS_BY_CODE.keys()
        assert grids[cam.grid].street == cam.street
        assert round(cam.lon, 6) == cam.lon and round(cam.lat, 6) == cam.lat
    per_grid = Counter(c.grid for c in D.cameras)
    urban = [per_grid[g.code] for g in D.grids if g.street in URBAN]
    rural = [per_grid[g.code] for g in D.grids if g.street not in URBAN]
    assert sum(urban) / len(urban) > 1.5 * sum(rural) / len(rural)
    assert "菱湖南路" in " ".join(c.name for c in D.cameras)


# --- geometry -------------------------------------------------------------------------------


def test_polygons_are_valid_closed_and_rounded() -> None:
    for coords in [s.polygon for s in D.streets] + [c.polygon for c in D.communities]:
        assert poly(coords).is_valid
    for g in D.grids:
        shape = GRIDS[g.code]
        assert shape.is_valid and shape.area > 0
        ring = g.polygon[0]
        assert ring[0] == ring[-1]
        assert all(round(x, 6) == x and round(y, 6) == y for x, y in ring)
        assert shapely.is_ccw(shape.exterior)  # RFC 7946 exterior orientation


def test_wgs84_near_anqing() -> None:
    minx, miny, maxx, maxy = OUTLINE.bounds
    assert 116.8 < minx < maxx < 117.1 and 30.4 < miny < maxy < 30.6


def _assert_partition(parent: shapely.Geometry, children: list[shapely.Geometry]) -> None:
    total = sum(c.area for c in children)
    union = shapely.union_all(children)
    assert total == pytest.approx(parent.area, rel=0.005)  # covers the parent
    assert union.area == pytest.approx(total, rel=0.005)  # no overlaps
    assert shapely.difference(union, parent).area < 0.005 * parent.area  # stays inside


def test_streets_partition_the_outline() -> None:
    _assert_partition(OUTLINE, list(STREETS.values()))


def test_communities_partition_their_street() -> None:
    for code, street in STREETS.items():
        _assert_partition(street, [COMMUNITIES[c.code] for c in D.communities if c.street == code])


def test_grids_partition_their_community() -> None:
    for code, community in COMMUNITIES.items():
        _assert_partition(community, [GRIDS[g.code] for g in D.grids if g.community == code])


def test_layout_urban_east_rural_west() -> None:
    areas_km2 = {c: s.area * 111.32 * 0.8616 * 110.57 for c, s in STREETS.items()}
    for code, _lon, _lat, _weight, target in mod._STREET_SEEDS:
        assert areas_km2[code] == pytest.approx(target, rel=0.1)
    for s in D.streets:
        if s.code in URBAN:
            assert s.centre[0] > 117.0 and areas_km2[s.code] < 10
        else:
            assert s.centre[0] < 117.0 and areas_km2[s.code] > 50
    haikou = next(s for s in D.streets if s.name == "海口镇")
    shilipu = next(s for s in D.streets if s.name == "十里铺乡")
    assert haikou.centre[1] < shilipu.centre[1]  # south-west vs west/north-west


def test_centres_lie_inside() -> None:
    for s in D.streets:
        assert STREETS[s.code].contains(shapely.Point(s.centre))
    for c in D.communities:
        assert COMMUNITIES[c.code].contains(shapely.Point(c.centre))
    for g in D.grids:
        assert GRIDS[g.code].contains(shapely.Point(g.centre))


# --- lookups --------------------------------------------------------------------------------


def test_grid_at_agrees_with_camera_grid() -> None:
    for cam in D.cameras:
        found = D.grid_at(cam.lon, cam.lat)
        assert found is not None and found.code == cam.grid, cam


def test_grid_at_centres_and_outside() -> None:
    for g in D.grids:
        assert D.grid_at(*g.centre) == g
    assert D.grid_at(116.5, 30.5) is None
    assert D.grid_at(117.2, 30.52) is None


def test_random_point_in_grid() -> None:
    grid = D.grids[100]
    points = [random_point_in_grid(grid, random.Random(5)) for _ in range(2)]
    assert points[0] == points[1]  # deterministic for a seeded rng
    rng = random.Random(9)
    for _ in range(200):
        lon, lat = random_point_in_grid(grid, rng)
        assert GRIDS[grid.code].contains(shapely.Point(lon, lat))
        assert D.grid_at(lon, lat) == grid


def test_caches_stay_out_of_equality() -> None:
    D.grid_at(117.03, 30.52)  # builds the lazy index
    fresh = mod._build.__wrapped__(mod.DEFAULT_SEED)
    assert fresh == D
    assert hash(fresh.grids[0]) == hash(D.grids[0])


# --- determinism and speed ------------------------------------------------------------------


def test_deterministic_for_a_seed_and_fast() -> None:
    started = time.perf_counter()
    again: District = mod._build.__wrapped__(mod.DEFAULT_SEED)
    elapsed = time.perf_counter() - started
    assert again == D
    assert elapsed < 5  # ~0.3 s here; generous for slow CI machines
    other = mod._build.__wrapped__(7)
    assert [s.name for s in other.streets] == [s.name for s in D.streets]
    assert [c.code for c in other.communities] == [c.code for c in D.communities]
    assert other.grids != D.grids
    assert len(other.grids) == 351
    assert build_district() is D  # cached per seed


def test_grid_cells_that_could_not_be_built_say_so_at_the_first_lookup() -> None:
    """The point lookup's cells are built in a thread at start: a failure there is not lost
    in the thread, the first lookup raises it."""
    import shapely

    from dispatch.reference import _Cells

    cells = _Cells()
    cells.build([], shapely.STRtree([]))  # no grid at all: no bounds to cut into cells
    assert cells.ready.is_set()
    with pytest.raises(RuntimeError, match="grid cells could not be built"):
        cells.get()
