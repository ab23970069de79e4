"""A city of districts: 迎江区 built like 大观区, and a store holding both."""

import json
import re
from importlib import resources

import pytest
import shapely

from dispatch.app import (
    city_units,
    district_units,
    load_district,
    load_reference,
    parse_districts,
    prepare,
    units_digest,
)
from dispatch.domain import district as mod
from dispatch.domain.district import DISTRICT_CODES, build_district, district_seed
from dispatch.store.store import Store

Y = build_district(district_seed(mod.DEFAULT_SEED, "340802"), "340802")


def poly(coords: tuple) -> shapely.Polygon:
    return shapely.Polygon(coords[0], coords[1:])


def admin_units() -> dict:
    path = resources.files("resources") / "districts" / "340802" / "admin_units.json"
    return json.loads(path.read_text("utf-8"))


def test_the_city_knows_two_districts_the_default_first() -> None:
    assert DISTRICT_CODES == ("340803", "340802")
    assert district_seed(mod.DEFAULT_SEED, "340803") == 340803
    assert district_seed(mod.DEFAULT_SEED, "340802") == 340802
    assert parse_districts("340803, 340802,340803") == ("340803", "340802")
    with pytest.raises(ValueError, match="unknown district 340811"):
        parse_districts("340803,340811")
    with pytest.raises(ValueError, match="no district"):
        build_district(1, "340811")


def test_yingjiang_real_units() -> None:
    assert (Y.code, Y.name) == ("340802", "迎江区")
    assert [s.name for s in Y.streets] == [
        "宜城路街道",
        "新河路街道",
        "华中路街道",
        "人民路街道",
        "孝肃路街道",
        "滨江街道",
        "龙狮桥乡",
        "长风乡",
        "新洲乡",
    ]
    real = {
        child["code"]: unit["code"]
        for unit in admin_units()["units"]
        if unit["code"] != "340802403"  # the development zone's virtual community
        for child in unit["children"]
    }
    assert {c.code: c.street for c in Y.communities} == real
    names = {c.code: c.name for c in Y.communities}
    assert names["340802001001"] == "吴樾社区"  # 吴樾居委会
    assert names["340802201203"] == "将军村"  # 将军村委会
    assert all(re.fullmatch(r".+(社区|村)", n) for n in names.values())
    assert len(Y.grids) == 340 and len(Y.cameras) == 3400
    assert all(g.code.startswith(g.community) and len(g.code) == 15 for g in Y.grids)
    assert all(re.fullmatch(r"34080200(00|01)1320\d{6}", c.code) for c in Y.cameras)
    departments = {d.code: d.name for d in Y.departments}
    assert departments["GA"] == "公安迎江分局" and departments["JJ"] == "交警迎江大队"


def test_yingjiang_geometry_partitions_its_outline() -> None:
    outline = shapely.MultiPolygon([(p[0], list(p[1:])) for p in Y.outline])
    streets = {s.code: poly(s.polygon) for s in Y.streets}
    assert (
        shapely.union_all(list(streets.values())).symmetric_difference(outline).area
        < 1e-4 * outline.area
    )
    for code, street in streets.items():
        mine = [poly(c.polygon) for c in Y.communities if c.street == code]
        assert abs(sum(p.area for p in mine) - street.area) < 1e-3 * street.area
    for target in mod._YINGJIANG_SEEDS:
        area = streets[target[0]].area * 111.32 * 0.8616 * 110.57
        assert area == pytest.approx(target[4], rel=0.1)
    for cam in Y.cameras[::50]:
        found = Y.grid_at(cam.lon, cam.lat)
        assert found is not None and found.code == cam.grid
    # The two districts share a border but no land.
    daguan = build_district()
    other = shapely.MultiPolygon([(p[0], list(p[1:])) for p in daguan.outline])
    assert other.intersection(outline).area == 0


def test_yingjiang_reproducible() -> None:
    again = mod._build.__wrapped__(340802, "340802")
    assert again == Y
    assert mod._build.__wrapped__(7, "340802").grids != Y.grids


def test_default_city_is_daguan_alone() -> None:
    assert city_units() == district_units(build_district())


def test_a_city_store_holds_both(tmp_path) -> None:
    rows = city_units(("340803", "340802"))
    keys = [(kind, code) for kind, code, *_ in rows]
    assert len(keys) == len(set(keys))
    daguan = district_units(build_district())
    # 大观区 unchanged but for its departments' names, departments and categories once.
    assert {r for r in daguan if r[0] != "department"} <= set(rows)
    names = {code: name for kind, code, _, name, _ in rows if kind == "department"}
    assert {r[1] for r in daguan if r[0] == "department"} <= names.keys()
    # Named as a city's list needs them (a store of one district keeps the short names).
    assert names["CGJ"] == "大观区城管局" and names["340802:CGJ"] == "迎江区城管局"
    assert names["GA"] == "公安大观分局" and names["340802:GA"] == "公安迎江分局"
    assert names["GD"] == "供电公司（大观区）" and names["340802:GD"] == "供电公司（迎江区）"
    assert (
        dict((code, name) for kind, code, _, name, _ in daguan if kind == "department")["CGJ"]
        == "区城管局"
    )
    assert units_digest(rows) != units_digest(daguan)
    store = Store(f"sqlite:///{tmp_path / 'city.db'}")
    prepare(store, codes=("340803", "340802"))
    assert store.meta("district") == "340803" and store.meta("districts") == "340803,340802"
    ref = load_reference(store)
    assert ref.reference.district == "340803"
    assert list(ref.districts) == ["340803", "340802"]
    assert len(ref.reference.outline) == 2  # one ring each
    assert len(ref.reference.streets) == 18 and len(ref.reference.grids) == 351 + 340
    point = next(g for g in ref.grids.values() if g.street == "340802006").centre
    found = ref.grid_at(*point)
    assert found is not None and found.street == "340802006"
    # A report nowhere to be placed stands in the default district, as before.
    from dispatch.intake.geocode import Gazetteer

    unplaced, _ = Gazetteer(ref).place("", None, None)
    assert unplaced.place == "none"
    home = ref.grid_at(unplaced.lon, unplaced.lat)
    assert home is not None and home.street.startswith("340803")
    placed, _ = Gazetteer(ref).place("滨江街道", None, None)
    found = ref.grid_at(placed.lon, placed.lat)
    assert found is not None and found.street == "340802006"
    view = ref.view(frozenset({"340802"}))
    assert (view.district, view.district_name) == ("340802", "迎江区")
    assert view.outline == ref.districts["340802"][1]
    assert {s.code[:6] for s in view.streets} == {"340802"} and len(view.streets) == 9
    assert {g.code[:6] for g in view.grids} == {"340802"}
    assert {c.code[:6] for c in view.cameras} == {"340802"} and len(view.cameras) == 3400
    # Each district its own departments and category table, keyed by it.
    assert {d.code for d in view.departments} == {f"340802:{d.code}" for d in Y.departments}
    assert {d.district for d in view.departments} == {"340802"}
    assert len(view.categories) == len(ref.categories) and {
        c.district for c in view.categories
    } == {"340802"}
    assert ref.category("340802006", "01-02") is not ref.category("340803004", "01-02")
    assert ref.department_for("340802006", "CGJ") == "340802:CGJ"
    assert ref.department_for("340803004", "CGJ") == "CGJ"
    ours = ref.view(frozenset({"340803"}))
    assert {c.district for c in ours.categories} == {""} and ":" not in ours.departments[0].code
    # The city's user gets both, told apart by district.
    assert len(ref.reference.categories) == 2 * len(ref.categories)
    assert len(ref.reference.departments) == 2 * len(Y.departments)
    with pytest.raises(RuntimeError, match="holds the districts 340802,340803"):
        prepare(store, codes=("340803",))
    # Back to 大观区 alone: the districts' meta follows.
    load_district(store, codes=("340803",))
    assert store.meta("districts") == "340803"
    assert len(load_reference(store).districts) == 1
    store.close()


def test_default_store_meta_as_before(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'one.db'}")
    prepare(store)
    assert (store.meta("district"), store.meta("district_name")) == ("340803", "大观区")
    assert store.meta("districts") is None
    ref = load_reference(store)
    assert list(ref.districts) == ["340803"]
    assert ref.view(frozenset({"340803"})).grids == ref.reference.grids
    store.close()
