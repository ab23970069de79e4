"""What the wall may show of people: phone numbers and names masked (desktop/core/privacy.py)."""

from __future__ import annotations

import pytest

from desktop.core.privacy import mask_name, mask_person, mask_phone, mask_phones, reporter_for


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        ("13812345678", "138****5678"),
        ("138-1234-5678", "138****5678"),  # the district's grid workers' numbers look so
        ("138 1234 5678", "138****5678"),
        ("+86 138 1234 5678", "138****5678"),
        ("0556-5551234", "055****1234"),
        ("5551234", "****34"),
        ("138****5678", "138****5678"),  # masked already: unchanged, not masked twice
        ("", ""),
    ],
)
def test_a_phone_number_keeps_its_first_three_and_last_four_digits(phone, shown) -> None:
    assert mask_phone(phone) == shown


def test_phone_numbers_in_a_text_are_masked_and_nothing_else() -> None:
    text = "张先生（13812345678）反映：0556-5551234 也可联系，案件 E20250101-000123，2025-01-01"
    assert mask_phones(text) == (
        "张先生（138****5678）反映：055****1234 也可联系，案件 E20250101-000123，2025-01-01"
    )
    assert mask_phones("电话138-1234-5678") == "电话138****5678"  # glued to a word
    assert mask_phones("编号 123456789012345") == "编号 123456789012345"  # not a phone
    assert mask_phones("") == ""


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("王小明", "王*"),
        ("王明", "王*"),
        ("王", "王"),
        ("欧阳娜娜", "欧阳*"),
        ("张先生", "张先生"),  # says no more than 张*
        ("王小明先生", "王*先生"),
        ("John Smith", "J* S*"),
        ("", ""),
    ],
)
def test_a_name_keeps_its_surname(name, shown) -> None:
    assert mask_name(name) == shown


@pytest.mark.parametrize(
    ("reporter", "shown"),
    [
        ("王小明 13812345678", "王* 138****5678"),
        ("李女士 139****1234", "李女士 139****1234"),  # the simulator's hotline callers
        ("网格员 王小明", "网格员 王*"),
        ("随手拍用户1234", "随手拍用户1234"),  # a pseudonym
        ("热心市民王先生", "热心市民王先生"),
        ("市民赵大宝", "市民赵*"),
        ("王小明(网格员) 电话:138-1234-5678", "王*(网格员) 电话:138****5678"),
        ("Anna Lee 13812345678", "A* L* 138****5678"),
        ("", ""),
    ],
)
def test_a_reporter_is_masked_on_the_wall(reporter, shown) -> None:
    assert mask_person(reporter) == shown


def test_the_desk_shows_the_reporter_in_full_to_those_who_call_back() -> None:
    reporter = "王小明 13812345678"
    for role in ("commander", "dispatcher", "street", "community"):
        assert reporter_for(role, reporter) == reporter
    for role in ("wall", "admin", None):
        assert reporter_for(role, reporter) == "王* 138****5678"
