"""The event category table, the AI camera detection kinds, and the validation of a table."""

import json
import re
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from dispatch import state
from dispatch.domain import categories
from dispatch.domain.categories import (
    CAMERA_KINDS,
    CAMERA_KINDS_BY_CODE,
    HUMAN_SOURCES,
    Category,
    CategoryTableError,
    Limit,
    default_table,
    load_categories,
    parse_categories,
    read_categories,
)
from dispatch.domain.district import DEPARTMENTS, build_district

CATEGORIES = load_categories()
BY_NAME = {c.name: c for c in CATEGORIES}
BY_CODE = {c.code: c for c in CATEGORIES}
DEPARTMENT_CODES = {code for code, _, _ in DEPARTMENTS}

# The first table's codes: events stored with them must keep their meaning.
FIRST_TABLE = {
    "01-01": "私搭乱建",
    "01-02": "暴露垃圾",
    "01-03": "积存垃圾渣土",
    "01-04": "道路不洁",
    "01-05": "水域不洁",
    "01-10": "道路破损",
    "01-12": "道路遗撒",
    "01-15": "焚烧树叶垃圾",
    "01-98": "垃圾容器满溢",
    "02-01": "非法小广告",
    "02-02": "违规户外广告",
    "03-01": "施工扰民",
    "03-02": "工地扬尘",
    "03-06": "渣土车未密闭运输",
    "04-01": "路面塌陷",
    "04-02": "自来水管破裂",
    "04-03": "燃气管道破裂",
    "04-04": "下水道堵塞或破损",
    "04-06": "道路积水",
    "04-09": "群发性事件",
    "04-10": "火情烟雾",
    "05-01": "无照经营游商",
    "05-02": "流浪乞讨",
    "05-04": "店外经营",
    "05-05": "机动车乱停放",
    "05-06": "非机动车乱停放",
    "05-07": "乱堆物堆料",
    "05-10": "露天烧烤",
    "05-11": "沿街晾挂",
    "05-14": "占道经营",
    "06-01": "噪音扰民",
    "06-02": "供水停水",
    "06-03": "供电故障",
    "06-04": "物业纠纷",
    "06-05": "劳资欠薪",
    "06-06": "消费维权",
    "06-07": "环境污染投诉",
    "06-08": "政策咨询",
    "07-01": "电动车进楼入户",
    "07-02": "飞线充电",
    "07-03": "消防通道占用",
    "07-04": "高空抛物",
    "08-01": "井盖缺失破损",
    "08-02": "路灯不亮",
}


def test_loads_a_full_table() -> None:
    assert 150 <= len(CATEGORIES) <= 250
    assert all(isinstance(c, Category) for c in CATEGORIES)
    assert load_categories() is CATEGORIES  # read once
    assert len(default_table().classes) == 20


def test_codes_are_unique_and_well_formed() -> None:
    codes = [c.code for c in CATEGORIES]
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"\d{2}-\d{2}", code) for code in codes)
    assert codes == sorted(codes)


def test_every_code_of_the_first_table_keeps_its_meaning() -> None:
    for code, name in FIRST_TABLE.items():
        assert BY_CODE[code].name == name, code
    assert BY_CODE["07-04"].cls == "消防安全"  # 高空抛物 stays where it was


def test_twenty_classes_each_with_items() -> None:
    classes = Counter(c.cls for c in CATEGORIES)
    assert len(classes) == 20
    assert {
        "市容环境",
        "街面秩序",
        "民生诉求",
        "防汛防台",
        "治安隐患与公共安全",
        "矛盾纠纷",
        "安全生产",
        "智能感知告警",
    } <= classes.keys()
    assert min(classes.values()) >= 3
    # One class per two-digit prefix.
    prefix_to_class = {c.code[:2]: c.cls for c in CATEGORIES}
    assert len(set(prefix_to_class.values())) == len(prefix_to_class) == 20


def test_the_smart_scenes_of_the_seeds() -> None:
    sensors = {c.name for c in CATEGORIES if c.cls == "智能感知告警"}
    assert {"独居老人用水异常", "消防水压不足", "电梯困人", "电动车违规充电", "燃气泄漏"} <= sensors


def test_fields_in_range() -> None:
    for c in CATEGORIES:
        assert c.name and c.standard.endswith("。"), c.code
        assert 1 <= c.priority <= 4
        assert c.weight > 0
        for stage in (c.limits.accept, c.limits.dispatch, c.limits.handle, c.limits.verify):
            assert isinstance(stage, Limit)
            assert stage.amount > 0
            assert stage.unit in ("hour", "day")
            if c.basis == "working" and stage.unit == "day":
                assert stage.amount.is_integer(), c.code


def test_time_basis() -> None:
    # The table's rule and the backend's (basis_of) agree on what is urgent.
    assert categories.URGENT_PRIORITY == state.URGENT_PRIORITY
    for c in CATEGORIES:
        assert c.basis in ("working", "natural")
        if c.priority <= 2 or c.cls in ("突发事件", "智能感知告警"):
            assert c.basis == "natural", c.code
    for name in (
        "井盖缺失破损",
        "路面塌陷",
        "燃气管道破裂",
        "自来水管破裂",
        "火情烟雾",
        "电梯困人",
    ):
        assert BY_NAME[name].basis == "natural", name
    assert BY_NAME["暴露垃圾"].basis == "working"
    assert BY_NAME["私搭乱建"].basis == "working"


def test_known_time_limits() -> None:
    assert BY_NAME["暴露垃圾"].limits.handle == Limit(4, "hour")
    assert BY_NAME["私搭乱建"].limits.handle == Limit(20, "day")
    assert BY_NAME["道路积水"].limits.handle == Limit(4, "hour")
    assert BY_NAME["道路积水"].priority == 1
    assert BY_NAME["井盖缺失破损"].limits.handle == Limit(6, "hour")  # 天津, 福州
    lift = BY_CODE["20-04"]  # a trapped passenger freed within 30 minutes
    assert lift.name == "电梯困人"
    assert lift.limits.handle == Limit(0.5, "hour")
    assert lift.limits.accept == Limit(0.25, "hour")  # "15m"
    # 12345 (Anhui): consultations within 3 working days, other requests within 10.
    livelihood = [c for c in CATEGORIES if c.cls == "民生诉求" and c.basis == "working"]
    assert {c.limits.handle.unit for c in livelihood} == {"day"}
    assert {c.limits.handle.amount for c in livelihood} == {3, 10}
    assert BY_NAME["政策咨询"].limits.handle == Limit(3, "day")
    assert BY_NAME["物业纠纷"].limits.handle == Limit(10, "day")


def test_source_channels() -> None:
    for c in CATEGORIES:
        assert c.sources, c.code
        # A sensor only ever reports a sensor scene, and a sensor scene only comes from one.
        assert ("sensor" in c.sources) == (c.cls == "智能感知告警"), c.code
        if c.cls == "智能感知告警":
            assert c.sources == ("sensor",)
        assert ("camera" in c.sources) == bool(c.camera_kinds), c.code
    assert BY_NAME["暴露垃圾"].sources == (*HUMAN_SOURCES, "camera")
    assert "patrol" not in BY_NAME["政策咨询"].sources  # a patrol does not find a question


def test_frequencies_look_like_a_city() -> None:
    share = Counter[str]()
    for c in CATEGORIES:
        share[c.cls] += c.weight
    total = sum(share.values())
    top_two = {cls for cls, _ in share.most_common(2)}
    assert top_two == {"街面秩序", "市容环境"}
    assert share["民生诉求"] / total > 0.15
    # Disputes and sensor alarms are a few per cent, flood items rare outside the season.
    assert 0.01 < share["矛盾纠纷"] / total < 0.05
    assert 0.02 < share["智能感知告警"] / total < 0.08
    assert share["防汛防台"] / total < 0.01


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
    for kind in CAMERA_KINDS:
        assert re.fullmatch(r"[a-z_]+", kind.code)
        assert kind.category in BY_CODE, kind
        assert 1 <= kind.priority <= 4
        assert kind.code in BY_CODE[kind.category].camera_kinds
        assert CAMERA_KINDS_BY_CODE[kind.code] is kind
    listed = [k for c in CATEGORIES for k in c.camera_kinds]
    assert sorted(listed) == sorted(codes)


def test_every_category_names_a_department_of_the_district() -> None:
    departments = {d.code for d in build_district().departments}
    for c in CATEGORIES:
        assert c.department in departments, c


# ---- validation of a table -------------------------------------------------------------------


def _default_doc() -> dict[str, Any]:
    path = resources.files("resources") / "district" / "categories.json"
    doc: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return doc


def _category(doc: dict[str, Any], code: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in doc["categories"] if c["code"] == code)
    return found


def _problems(doc: dict[str, Any] | bytes) -> list[str]:
    data = doc if isinstance(doc, bytes) else json.dumps(doc, ensure_ascii=False).encode()
    with pytest.raises(CategoryTableError) as caught:
        parse_categories(data, "ours.json", DEPARTMENT_CODES)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def test_the_default_file_parses_as_a_deployment_table() -> None:
    doc = _default_doc()
    table = parse_categories(json.dumps(doc).encode(), "ours.json", DEPARTMENT_CODES)
    assert table == default_table()


def test_unparseable_json() -> None:
    [problem] = _problems(b'{"classes": {"01": "x"}, "categories": [')
    assert problem.startswith("ours.json: not valid JSON:")


def test_wrong_type_names_the_category() -> None:
    doc = _default_doc()
    _category(doc, "01-02")["priority"] = "high"
    [problem] = _problems(doc)
    assert problem.startswith("ours.json: category 01-02:")
    assert "Expected `int`, got `str`" in problem
    assert "$.categories[1].priority" in problem


def test_unknown_field_is_not_silently_ignored() -> None:
    doc = _default_doc()
    _category(doc, "01-02")["basls"] = "natural"  # a typo would otherwise keep the default
    [problem] = _problems(doc)
    assert problem.startswith("ours.json: category 01-02:")
    assert "basls" in problem


def test_duplicate_codes() -> None:
    doc = _default_doc()
    doc["categories"].append(dict(_category(doc, "01-02"), name="另一个"))
    assert _problems(doc) == ["ours.json: 01-02: code: duplicate code (expected each code once)"]


def test_bad_code_format() -> None:
    doc = _default_doc()
    _category(doc, "08-02")["code"] = "8-2"
    assert _problems(doc) == [
        "ours.json: 8-2: code: bad code format (expected class-item as NN-NN, e.g. '01-02')"
    ]


def test_unknown_class() -> None:
    doc = _default_doc()
    _category(doc, "08-02")["code"] = "21-01"
    [problem] = _problems(doc)
    assert problem.startswith("ours.json: 21-01: code: unknown class '21' (expected one of [")


def test_missing_stage_limits() -> None:
    doc = _default_doc()
    del _category(doc, "01-02")["limits"]["verify"]
    del _category(doc, "01-02")["limits"]["handle"]
    assert _problems(doc) == [
        "ours.json: 01-02: limits: no limit for handle, verify "
        "(expected limits for ('accept', 'dispatch', 'handle', 'verify'))"
    ]


@pytest.mark.parametrize(
    ("stage", "text", "what"),
    [
        ("handle", "4 hours", "bad time limit '4 hours'"),
        ("handle", "0h", "bad time limit '0h'"),
        ("accept", "-1h", "bad time limit '-1h'"),
        ("verify", "1w", "bad time limit '1w'"),
    ],
)
def test_bad_limits(stage: str, text: str, what: str) -> None:
    doc = _default_doc()
    _category(doc, "01-02")["limits"][stage] = text
    assert _problems(doc) == [
        f"ours.json: 01-02: limits.{stage}: {what} (expected e.g. '4h', '0.5h', '15m' or '20d')"
    ]


def test_a_limit_longer_than_a_year_is_refused() -> None:
    doc = _default_doc()
    _category(doc, "01-01")["limits"]["handle"] = "99999999d"
    _category(doc, "01-02")["limits"]["handle"] = "9000h"
    assert _problems(doc) == [
        "ours.json: 01-01: limits.handle: '99999999d' is longer than a year "
        "(expected at most 365d or 8760h (long cases go on hold))",
        "ours.json: 01-02: limits.handle: '9000h' is longer than a year "
        "(expected at most 365d or 8760h (long cases go on hold))",
    ]


def test_a_fraction_of_a_working_day_is_refused_but_hours_and_minutes_parse() -> None:
    doc = _default_doc()
    _category(doc, "01-02")["limits"]["handle"] = "1.5d"
    assert _problems(doc) == [
        "ours.json: 01-02: limits.handle: '1.5d' is not a whole number of working days "
        "(expected whole working days, or working hours (a working day has 7))"
    ]
    _category(doc, "01-02")["limits"]["handle"] = "10.5h"
    _category(doc, "01-02")["limits"]["accept"] = "45m"
    _category(doc, "04-01")["limits"]["handle"] = "1.5d"  # natural time: any fraction
    table = parse_categories(json.dumps(doc).encode(), "ours.json", DEPARTMENT_CODES)
    ours = {c.code: c for c in table.categories}
    assert ours["01-02"].limits.handle == Limit(10.5, "hour")
    assert ours["01-02"].limits.accept == Limit(0.75, "hour")
    assert ours["04-01"].limits.handle == Limit(1.5, "day")


def test_unknown_stage() -> None:
    doc = _default_doc()
    _category(doc, "01-02")["limits"]["close"] = "1d"
    assert _problems(doc) == [
        "ours.json: 01-02: limits.close: unknown stage "
        "(expected only ('accept', 'dispatch', 'handle', 'verify'))"
    ]


@pytest.mark.parametrize("priority", [0, 5, -1])
def test_priority_out_of_range(priority: int) -> None:
    doc = _default_doc()
    _category(doc, "01-02")["priority"] = priority
    assert _problems(doc) == [
        f"ours.json: 01-02: priority: {priority} out of range (expected 1 (urgent) to 4 (low))"
    ]


def test_bad_basis() -> None:
    doc = _default_doc()
    _category(doc, "01-02")["basis"] = "office"
    assert _problems(doc) == [
        "ours.json: 01-02: basis: 'office' is not a time basis (expected 'working' or 'natural')"
    ]


def test_an_urgent_category_on_working_time_is_refused() -> None:
    doc = _default_doc()
    _category(doc, "04-03")["basis"] = "working"
    assert _problems(doc) == [
        "ours.json: 04-03: basis: 'working' for priority 1, which always runs in natural time "
        "(expected 'natural' for priority 1-2)"
    ]


def test_unknown_or_missing_department() -> None:
    doc = _default_doc()
    _category(doc, "01-02")["department"] = "HWJ"
    _category(doc, "01-03")["department"] = ""
    assert _problems(doc) == [
        "ours.json: 01-02: department: unknown department 'HWJ' "
        "(expected a department code of the district, e.g. 'CGJ')",
        "ours.json: 01-03: department: missing (expected a department code of the district)",
    ]


def test_camera_kind_pointing_at_an_unknown_category() -> None:
    doc = _default_doc()
    doc["camera_kinds"][0]["category"] = "07-99"
    code = doc["camera_kinds"][0]["code"]
    assert _problems(doc) == [
        f"ours.json: camera kind {code}: category: unknown category '07-99' "
        "(expected a code of this table)"
    ]


def test_duplicate_camera_kind() -> None:
    doc = _default_doc()
    doc["camera_kinds"].append(dict(doc["camera_kinds"][0]))
    code = doc["camera_kinds"][0]["code"]
    assert _problems(doc) == [
        f"ours.json: camera kind {code}: code: duplicate camera kind (expected each kind once)"
    ]


def test_unknown_source_channel() -> None:
    doc = _default_doc()
    _category(doc, "20-01")["sources"] = ["sensor", "wechat"]
    [problem] = _problems(doc)
    assert problem.startswith(
        "ours.json: 20-01: sources: unknown source channel 'wechat' (expected some of ("
    )
    assert "'sensor'" in problem


def test_every_problem_is_reported_at_once() -> None:
    doc = _default_doc()
    _category(doc, "01-02")["priority"] = 9
    _category(doc, "01-03")["basis"] = "fast"
    _category(doc, "01-04")["department"] = "NONE"
    problems = _problems(doc)
    assert [p.split(":")[1].strip() for p in problems] == ["01-02", "01-03", "01-04"]


def test_read_categories_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "ours.json"
    path.write_text(json.dumps(_default_doc()), encoding="utf-8")
    assert read_categories(path, DEPARTMENT_CODES) == default_table()
    with pytest.raises(CategoryTableError, match=r"missing\.json: cannot read: No such file"):
        read_categories(tmp_path / "missing.json", DEPARTMENT_CODES)
