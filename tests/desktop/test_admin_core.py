"""What the 管理 page checks before sending (desktop/core/admin_tables.py) agrees with what
the backend checks, and its reading of the backend's refusals (desktop/core/refusals.py)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from desktop.core import admin_tables
from desktop.core.admin_tables import (
    limit_problem,
    limit_text,
    pack_table,
    parse_roster,
    phone_ok,
    plannable,
    roster_days,
    roster_text,
)
from desktop.core.refusals import roster_refusal, table_refusal
from dispatch import tables
from dispatch.domain.categories import CategoryTableError, default_table, parse_categories
from dispatch.domain.district import DEPARTMENTS
from protocol.entities import CategoryLimit, Person


def test_the_roster_lines_read_as_people() -> None:
    people, problems = parse_roster(
        "赵磊 值班长 13800001111\n\n孙丽，调度员，0556-5512345，区联动中心\n钱峰、视频巡查员"
    )
    assert problems == []
    assert people == [
        Person(name="赵磊", title="值班长", phone="13800001111"),
        Person(name="孙丽", title="调度员", post="区联动中心", phone="0556-5512345"),
        Person(name="钱峰", title="视频巡查员"),
    ]
    assert parse_roster(roster_text(people)) == (people, [])


def test_what_is_wrong_with_roster_lines_is_said_by_line() -> None:
    _, problems = parse_roster("赵磊\n孙丽 调度员 12345\n赵磊 值班长\n" + "员 调度员\n" * 0)
    assert [(p.line, p.kind, p.value) for p in problems] == [
        (1, "no_title", "赵磊"),
        (2, "bad_phone", "12345"),
        (3, "twice", "赵磊"),
    ]
    _, problems = parse_roster("\n".join(f"员{i} 调度员" for i in range(31)))
    assert [(p.line, p.kind) for p in problems] == [(0, "too_many")]


@pytest.mark.parametrize(
    "phone",
    ["13912345678", "0556-5512345", "05565512345", "010-12345678-123", "", "12345", "1391234567"],
)
def test_phones_are_checked_as_the_backend_does(phone: str) -> None:
    assert admin_tables.PHONE.pattern == tables.PHONE.pattern
    assert phone_ok(phone) == (not phone or bool(tables.PHONE.match(phone)))


def test_the_days_listed_and_which_may_be_planned() -> None:
    today = date(2026, 11, 25)
    days = roster_days(today)
    assert len(days) == 28 and days[0] == "2026-11-25" and days[-1] == "2026-12-22"
    assert plannable("2026-11-25", today) and not plannable("2026-11-24", today)
    assert not plannable("2027-11-27", today)


@pytest.mark.parametrize(
    ("text", "basis"),
    [
        ("4h", "working"),
        ("0.5h", "working"),
        ("15m", "working"),
        ("3d", "working"),
        ("2.5d", "working"),
        ("2.5d", "natural"),
        ("4x", "working"),
        ("0h", "working"),
        ("366d", "natural"),
        ("8761h", "natural"),
        ("365d", "working"),
        ("4H", "working"),
    ],
)
def test_limits_are_checked_as_the_table_is(text: str, basis: str) -> None:
    """The form's verdict on a limit is the table validation's, for the same category."""
    raw = json.loads(default_json())
    item = next(c for c in raw["categories"] if c["code"] == "01-02")
    item["limits"]["handle"] = text
    item["basis"] = basis
    if basis == "natural":
        item["priority"] = 3
    departments = {code for code, _, _ in DEPARTMENTS}
    try:
        parse_categories(json.dumps(raw).encode(), "t", departments)
        accepted = True
    except CategoryTableError:
        accepted = False
    assert (limit_problem(text, basis) is None) == accepted


def default_json() -> str:
    from importlib import resources

    return (resources.files("resources") / "district" / "categories.json").read_text("utf-8")


def test_limits_are_written_as_the_file_writes_them() -> None:
    assert limit_text(CategoryLimit(amount=4, unit="hour")) == "4h"
    assert limit_text(CategoryLimit(amount=0.25, unit="hour")) == "0.25h"
    assert limit_text(CategoryLimit(amount=20, unit="day")) == "20d"
    for category in default_table().categories:
        for stage in ("accept", "dispatch", "handle", "verify"):
            limit = getattr(category.limits, stage)
            wire = CategoryLimit(amount=limit.amount, unit=limit.unit)
            assert limit_problem(limit_text(wire), category.basis) is None


def test_a_table_is_packed_as_load_categories_takes_it() -> None:
    data = default_json().encode()
    assert tables.table_bytes(pack_table(data)) == data


def test_the_backends_refusals_are_read() -> None:
    refusal = table_refusal(
        "t.json: 01-02: limits.accept: bad time limit '4x' (expected e.g. '4h', '0.5h', '15m'"
        " or '20d')\nt.json: camera kind smoke_fire: category: unknown category '10-01' "
        "(expected a code of this table)\n… and 3 more"
    )
    assert [(p.where, p.field, p.kind, p.value) for p in refusal.problems] == [
        ("01-02", "limits.accept", "bad_limit", "4x"),
        ("camera kind smoke_fire", "category", "unknown_category", "10-01"),
    ]
    assert refusal.more == 3 and refusal.in_use is None
    used = table_refusal(
        "stored events use categories the table drops: 01-02 (1 events), 03-01 (12 events); "
        "nothing changed: keep those codes in the table"
    )
    assert used.in_use == {"01-02": 1, "03-01": 12} and used.problems == []
    odd = table_refusal("t.json: not valid JSON: Input data was truncated")
    assert odd.problems[0].kind == "not_json"
    assert roster_refusal(
        "day 2026-11-24 is in the past (today is 2026-11-25): a past duty is not planned"
    ) == ("past", "2026-11-25")
    assert roster_refusal("something else") == ("other", "something else")


def test_every_table_problem_the_backend_words_is_read() -> None:
    """Each kind of problem the table validation reports is recognised, none left 'other'."""
    raw = json.loads(default_json())
    first, second = raw["categories"][0], raw["categories"][1]
    first.update(
        priority=1,
        basis="working",
        department="XXJ",
        limits={"accept": "4x", "dispatch": "400d", "handle": "2.5d", "later": "1h"},
        name=" ",
    )
    second.update(code="1-2", basis="sometimes", priority=9, department="")
    raw["categories"].append(dict(raw["categories"][2]))  # a duplicate code
    raw["camera_kinds"][0]["category"] = "99-99"
    with pytest.raises(CategoryTableError) as info:
        parse_categories(json.dumps(raw).encode(), "t.json", {c for c, _, _ in DEPARTMENTS})
    message = "\n".join(info.value.problems)
    kinds = {p.kind for p in table_refusal(message).problems}
    assert "other" not in kinds
    assert {
        "bad_limit",
        "too_long",
        "half_day",
        "unknown_department",
        "no_department",
        "empty",
        "priority_range",
        "urgent_working",
        "bad_basis",
        "missing_limits",
        "unknown_stage",
        "duplicate",
        "bad_code",
        "unknown_category",
    } <= kinds
