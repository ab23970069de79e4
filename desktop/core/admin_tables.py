"""What the 管理 page's roster and category forms check before anything is sent, without Qt.

The backend has the last word (dispatch/tables.py and the table's own validation); these are
the same rules, checked first so that a clerk hears of a typo at once and in his words (the
ui words each problem in the installed language).
"""

from __future__ import annotations

import base64
import re
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from protocol.entities import Category, CategoryLimit, DutyPlan, Person
from protocol.messages import PERSON_TEXT_MAX, ROSTER_AHEAD, ROSTER_PEOPLE_MAX

# As the backend checks them (dispatch/tables.py, dispatch/domain/categories.py).
PHONE = re.compile(r"^(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(?:-\d{1,6})?)$")
LIMIT = re.compile(r"^(\d+(?:\.\d+)?)([hdm])$")
CODE = re.compile(r"^\d{2}-\d{2}$")
STAGES = ("accept", "dispatch", "handle", "verify")
URGENT_PRIORITY = 2  # 1-2 run in natural time
LONGEST_DAYS = 365
COMMANDER_TITLE = "县干指挥长"
# The days the roster tab shows, from today.
ROSTER_DAYS = 28
_SEPARATORS = re.compile(r"[\s,，、;；]+")

RosterProblemKind = Literal["no_title", "bad_phone", "too_long", "twice", "too_many"]


@dataclass(frozen=True, slots=True)
class RosterProblem:
    """What is wrong with a line of the roster text (`line` from 1; 0: the whole roster)."""

    line: int
    kind: RosterProblemKind
    value: str = ""


def parse_roster(text: str) -> tuple[list[Person], list[RosterProblem]]:
    """The people of a roster written one per line, "姓名 岗位 电话 [所在单位]" (spaces, commas
    or 、 between), and what is wrong with the lines. A phone may come anywhere after the
    name; the first other word is the post on duty (岗位), the rest the unit."""
    people: list[Person] = []
    problems: list[RosterProblem] = []
    seen: set[str] = set()
    lines = [line for line in text.splitlines() if line.strip()]
    for number, line in enumerate(lines, start=1):
        name, *rest = _SEPARATORS.split(line.strip())
        phones = [word for word in rest if _looks_like_phone(word)]
        words = [word for word in rest if not _looks_like_phone(word)]
        title = words[0] if words else ""
        post = "".join(words[1:])
        phone = phones[0] if phones else ""
        if not title:
            problems.append(RosterProblem(number, "no_title", name))
        for word in phones:
            if not PHONE.match(word):
                problems.append(RosterProblem(number, "bad_phone", word))
        if len(phones) > 1:
            post = "".join([post, *phones[1:]])
        if any(len(part) > PERSON_TEXT_MAX for part in (name, title, post)):
            problems.append(RosterProblem(number, "too_long", name))
        if name in seen:
            problems.append(RosterProblem(number, "twice", name))
        seen.add(name)
        people.append(Person(name=name, title=title, post=post, phone=phone))
    if len(people) > ROSTER_PEOPLE_MAX:
        problems.append(RosterProblem(0, "too_many", str(ROSTER_PEOPLE_MAX)))
    return people, problems


def _looks_like_phone(word: str) -> bool:
    """Whether a word is meant as a phone number (digits and dashes, 5 or more digits)."""
    return bool(re.fullmatch(r"[\d\-+]+", word)) and sum(c.isdigit() for c in word) >= 5


def roster_text(people: list[Person]) -> str:
    """A roster as the form shows it: one "姓名 岗位 电话 单位" per line."""
    return "\n".join(
        " ".join(part for part in (p.name, p.title, p.phone, p.post) if part) for p in people
    )


def phone_ok(text: str) -> bool:
    """Whether a phone number is one the backend takes ("" is: no phone)."""
    return not text or bool(PHONE.match(text))


def roster_days(today: date, count: int = ROSTER_DAYS) -> list[str]:
    """The days the roster tab lists: today and the next ones, as yyyy-mm-dd."""
    return [(today + timedelta(days=n)).isoformat() for n in range(count)]


def plannable(day: str, today: date) -> bool:
    """Whether a day may be planned: today or later, within the backend's reach."""
    when = date.fromisoformat(day)
    return today <= when <= today + timedelta(days=ROSTER_AHEAD)


def plan_people(plan: DutyPlan | None) -> tuple[str, str, str, str]:
    """A plan's fields as the form fills them: commander, title, phone, roster text."""
    if plan is None:
        return "", COMMANDER_TITLE, "", ""
    commander = plan.commander
    return commander.name, commander.title, commander.phone, roster_text(plan.roster)


# ---- the category table ----------------------------------------------------------------------

LimitProblemKind = Literal["bad_limit", "too_long", "half_day"]


def limit_text(limit: CategoryLimit) -> str:
    """A limit in the table file's notation: 4h, 0.25h, 3d."""
    amount = f"{limit.amount:.6f}".rstrip("0").rstrip(".")
    return f"{amount}{'h' if limit.unit == 'hour' else 'd'}"


def limit_problem(text: str, basis: str) -> LimitProblemKind | None:
    """What is wrong with a limit typed as in the table file ("4h", "30m", "3d"), if any."""
    match = LIMIT.match(text)
    if match is None or float(match.group(1)) <= 0:
        return "bad_limit"
    amount, unit = float(match.group(1)), match.group(2)
    hours = amount / 60 if unit == "m" else amount
    if hours > (LONGEST_DAYS if unit == "d" else LONGEST_DAYS * 24):
        return "too_long"
    if basis == "working" and unit == "d" and not amount.is_integer():
        return "half_day"
    return None


def classes_of(categories: list[Category]) -> dict[str, str]:
    """Class code -> class name, from the categories (01 -> 市容环境)."""
    return {c.code[:2]: c.cls for c in categories}


def pack_table(data: bytes) -> str:
    """A table file's bytes as load_categories sends them: zlib, then base64."""
    return base64.b64encode(zlib.compress(data, 9)).decode()
