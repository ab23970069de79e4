"""Why the backend refused an action, in terms a clerk understands, worked out without Qt.

The backend's messages are for logs (English, with codes). The desk says what happened to
the case instead: someone else got there first (and who), the case moved on, the user may
not, the link failed. The ui words a `Refusal` in the installed language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from protocol.entities import Event

Kind = Literal[
    "taken",  # someone else changed the case first: `by` did `action`, it is now `status`
    "moved_on",  # the case is in another state now (who is not known)
    "gone",  # the case is not there (or not in my jurisdiction)
    "forbidden",  # my role or jurisdiction does not allow it
    "same_person",  # separation of duties: not by the one who handled or asked
    "invalid",  # the form's values were refused (bad_args)
    "busy",  # rate limited or a server fault: nothing applied, try again
    "other",
]


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refusal as the desk tells it; `detail` is the backend's message for the log line."""

    kind: Kind
    by: str = ""
    action: str = ""
    status: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class LastChange:
    """Who last changed a case, and how (from the delta that brought its current state)."""

    actor: str
    action: str
    at: float


def explain(
    code: str,
    message: str,
    *,
    seen: Event | None,
    now: Event | None,
    last: LastChange | None,
    me: str,
    people: Mapping[str, str] | None = None,
) -> Refusal:
    """A refusal of an action taken on `seen` (the case as the form showed it); `now` is
    the case as the replica has it since, `last` who brought that state. `people`: the
    users' display names, to say who by (users are compared by their names)."""
    if code == "not_found":
        return Refusal("gone", detail=message)
    if code == "forbidden":
        return Refusal("forbidden", detail=message)
    if code == "separation_of_duties":
        return Refusal("same_person", detail=message)
    if code == "bad_args":
        return Refusal("invalid", detail=message)
    if code in ("rate_limited", "internal", "not_writer"):
        return Refusal("busy", detail=message)
    if code == "illegal_transition":
        changed = seen is not None and now is not None and now.updated_at > seen.updated_at
        if now is not None and changed and last is not None and last.actor != me:
            by = (people or {}).get(last.actor, last.actor)
            return Refusal("taken", by, last.action, now.status, message)
        if now is not None and changed:
            return Refusal("moved_on", status=now.status, detail=message)
    return Refusal("other", detail=message)


# ---- the admin's tables ----------------------------------------------------------------------

TableProblemKind = Literal[
    "bad_limit",  # `value` is not a time limit (4h, 30m, 3d)
    "too_long",  # `value` is longer than a year
    "half_day",  # `value` is not a whole number of working days
    "unknown_department",  # `value` is no department of the district
    "no_department",
    "empty",
    "priority_range",  # `value` is not 1-4
    "urgent_working",  # priority `value` (1-2) must run in natural time
    "bad_basis",
    "missing_limits",  # `value`: the stages without a limit
    "unknown_stage",
    "duplicate",
    "bad_code",
    "unknown_class",  # `value`: the class code
    "unknown_category",  # a camera kind's category `value` is not in the table
    "class_name",  # the class `value` has another name
    "not_json",
    "other",  # a problem worded only in the backend's words (`detail`)
]

# (the problem's words in the backend's message, its kind) — the first that matches.
_TABLE_WORDS: list[tuple[re.Pattern[str], TableProblemKind]] = [
    (re.compile(r"^bad time limit '(.*)'"), "bad_limit"),
    (re.compile(r"^'(.*)' is longer than a year"), "too_long"),
    (re.compile(r"^'(.*)' is not a whole number of working days"), "half_day"),
    (re.compile(r"^unknown department '(.*)'"), "unknown_department"),
    (re.compile(r"^missing$"), "no_department"),
    (re.compile(r"^empty$"), "empty"),
    (re.compile(r"^(-?\d+) out of range"), "priority_range"),
    (re.compile(r"^'working' for priority (\d)"), "urgent_working"),
    (re.compile(r"^'(.*)' is not a time basis"), "bad_basis"),
    (re.compile(r"^no limit for (.*)$"), "missing_limits"),
    (re.compile(r"^unknown stage$"), "unknown_stage"),
    (re.compile(r"^duplicate"), "duplicate"),
    (re.compile(r"^bad (?:class )?code"), "bad_code"),
    (re.compile(r"^unknown class '(.*)'"), "unknown_class"),
    (re.compile(r"^unknown category '(.*)'"), "unknown_category"),
    (re.compile(r"^class '(\d+)' is named"), "class_name"),
]
# "<source>: <where>: <field>: <what> (expected <expected>)", as the table's validation says.
_TABLE_LINE = re.compile(
    r"^[^:]+: (?P<where>[^:]+): (?P<field>[\w.]+): (?P<what>.*?)(?: \(expected .*\))?$"
)
_IN_USE = re.compile(r"^stored events use categories the table drops: (?P<codes>.*?); nothing")
_USED_CODE = re.compile(r"(\d{2}-\d{2}) \((\d+) events\)")
_MORE = re.compile(r"^… and (\d+) more$")


@dataclass(frozen=True, slots=True)
class TableProblem:
    """One problem of a category table the backend refused: where (a category's code or a
    camera kind), which field, what kind of problem with which value, and its own line."""

    where: str
    field: str
    kind: TableProblemKind
    value: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class TableRefusal:
    """Why a category change was refused: the table's problems (and how many more there
    were than the message could hold), or the codes it would drop that cases use."""

    problems: list[TableProblem]
    more: int = 0
    in_use: dict[str, int] | None = None


def table_refusal(message: str) -> TableRefusal:
    """A bad_args refusal of set_category or load_categories, read into its parts."""
    used = _IN_USE.match(message)
    if used is not None:
        counts = {code: int(n) for code, n in _USED_CODE.findall(used.group("codes"))}
        return TableRefusal([], 0, counts)
    problems: list[TableProblem] = []
    more = 0
    for line in message.split("\n"):
        extra = _MORE.match(line)
        if extra is not None:
            more = int(extra.group(1))
            continue
        problems.append(_table_problem(line))
    return TableRefusal(problems, more)


def _table_problem(line: str) -> TableProblem:
    if ": not valid JSON" in line:
        return TableProblem("", "", "not_json", detail=line)
    parts = _TABLE_LINE.match(line)
    if parts is None:
        return TableProblem("", "", "other", detail=line)
    what = parts.group("what")
    for pattern, kind in _TABLE_WORDS:
        found = pattern.match(what)
        if found is not None:
            value = found.group(1) if found.groups() else ""
            return TableProblem(parts.group("where"), parts.group("field"), kind, value, line)
    return TableProblem(parts.group("where"), parts.group("field"), "other", detail=line)


RosterRefusalKind = Literal["past", "too_far", "bad_date", "bad_phone", "other"]
_ROSTER_WORDS: list[tuple[re.Pattern[str], RosterRefusalKind]] = [
    (re.compile(r"^day \S+ is in the past \(today is (\S+)\)"), "past"),
    (re.compile(r"^day \S+ is more than (\d+) days ahead"), "too_far"),
    (re.compile(r"^day '(.*)' is not a date"), "bad_date"),
    (re.compile(r"^the phone of .* '(.*)' is not a phone number"), "bad_phone"),
]


def roster_refusal(message: str) -> tuple[RosterRefusalKind, str]:
    """A bad_args refusal of set_roster: its kind and value (today, the days, the phone)."""
    for pattern, kind in _ROSTER_WORDS:
        found = pattern.match(message)
        if found is not None:
            return kind, found.group(1)
    return "other", message
