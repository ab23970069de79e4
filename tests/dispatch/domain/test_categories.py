"""The event category table and the AI camera detection kinds."""

import re
from collections import Counter

from dispatch.domain.categories import (
    CAMERA_KINDS,
    CAMERA_KINDS_BY_CODE,
    Category,
    Limit,
    load_categories,
)
from dispatch.domain.district import build_district

CATEGORIES = load_categories()
BY_NAME = {c.name: c for c in CATEGORIES}


def test_loads_a_realistic_table() -> None:
    assert 35 <= len(CATEGORIES) <= 45
    assert all(isinstance(c, Category) for c in CATEGORIES)
    assert load_categories() is CATEGORIES  # read once


def test_codes_are_unique_and_well_formed() -> None:
    codes = [c.code for c in CATEGORIES]
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"\d{2}-\d{2}", code) for code in codes)
    assert codes == sorted(codes)


def test_classes() -> None:
    classes = {c.cls for c in CATEGORIES}
    assert {"市容环境", "宣传广告", "施工管理", "突发事件", "街面秩序", "民生诉求"} <= classes
    # One class per two-digit prefix.
    prefix_to_class = {c.code[:2]: c.cls for c in CATEGORIES}
    assert len(set(prefix_to_class.values())) == len(prefix_to_class)


def test_fields_in_range() -> None:
    for c in CATEGORIES:
        assert c.name and c.standard.endswith("。"), c.code
        assert 1 <= c.priority <= 4
        assert c.weight > 0
        for stage in (c.limits.accept, c.limits.dispatch, c.limits.handle, c.limits.verify):
            assert isinstance(stage, Limit)
            assert stage.amount > 0
            assert stage.unit in ("hour", "day")


def test_known_time_limits() -> None:
    assert BY_NAME["暴露垃圾"].limits.handle == Limit(4, "hour")
    assert BY_NAME["私搭乱建"].limits.handle == Limit(20, "day")
    assert BY_NAME["道路积水"].limits.handle == Limit(4, "hour")
    assert BY_NAME["道路积水"].priority == 1
    livelihood = [c for c in CATEGORIES if c.cls == "民生诉求"]
    assert {c.limits.handle.unit for c in livelihood} == {"day"}
    assert {c.limits.handle.amount for c in livelihood} <= {3, 10}
    assert BY_NAME["政策咨询"].limits.handle == Limit(3, "day")
    assert BY_NAME["物业纠纷"].limits.handle == Limit(10, "day")


def test_frequencies_look_like_a_city() -> None:
    share = Counter[str]()
    for c in CATEGORIES:
        share[c.cls] += c.weight
    total = sum(share.values())
    top_two = {cls for cls, _ in share.most_common(2)}
    assert top_two == {"街面秩序", "市容环境"}
    assert share["民生诉求"] / total > 0.15


def test_camera_kinds() -> None:
    codes = {k.code for k in CAMERA_KINDS}
    assert len(codes) == len(CAMERA_KINDS)
    assert {
        "ebike_in_building",
        "road_occupation",
        "exposed_garbage",
        "crowd_gathering",
        "thrown_object",
        "fire_lane_blocked",
        "flooding",
        "smoke_fire",
        "street_vending",
        "illegal_parking",
    } <= codes
    by_code = {c.code: c for c in CATEGORIES}
    for kind in CAMERA_KINDS:
        assert re.fullmatch(r"[a-z_]+", kind.code)
        assert kind.category in by_code, kind
        assert 1 <= kind.priority <= 4
        assert kind.code in by_code[kind.category].camera_kinds
        assert CAMERA_KINDS_BY_CODE[kind.code] is kind
    listed = [k for c in CATEGORIES for k in c.camera_kinds]
    assert sorted(listed) == sorted(codes)


def test_departments_exist_in_the_district() -> None:
    departments = {d.code for d in build_district().departments}
    for c in CATEGORIES:
        assert c.department == "" or c.department in departments, c
