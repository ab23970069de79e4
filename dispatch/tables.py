"""The admin requests on the centre's tables: the duty roster (排班) and the category table.

`roster` reads the planned days (roles commander, dispatcher and admin); `set_roster`,
`set_category` and `load_categories` change them (role admin only). Every request that gets
past the rate limit leaves a row in the admin log, done or refused, like the user requests
(dispatch/admin.py); a change is recorded in the same transaction as itself.

A day's plan reaches the live state through the writer (the duty in force takes its roster);
a new category table is stored, then swapped into the reference the writer computes
deadlines from, and every connected client is sent the table (`categories`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import re
import time
import unicodedata
import zlib
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import PurePosixPath
from typing import Any

import msgspec

from dispatch.admin import Audited, Refused
from dispatch.app import (
    CategoryChange,
    category_change,
    edited_table,
    in_use_text,
    load_categories_into,
    stored_departments,
    table_units,
)
from dispatch.clock import Clock
from dispatch.domain.categories import CategoryTable, CategoryTableError, parse_categories
from dispatch.hub import Client, Hub
from dispatch.jurisdiction import DistrictUnclear, pick_district
from dispatch.reference import ReferenceData, local
from dispatch.state import Actor
from dispatch.store.store import AdminEntry, Store
from dispatch.writer import Answer, CallRequest, Request
from protocol.codes import ErrorCode
from protocol.entities import DutyPlan, Person
from protocol.messages import (
    PERSON_TEXT_MAX,
    ROSTER_AHEAD,
    ROSTER_PEOPLE_MAX,
    ROSTER_SPAN,
    TABLE_MAX_BYTES,
    Categories,
    LoadCategories,
    Roster,
    SetCategory,
    SetRoster,
)

log = logging.getLogger("dispatch.admin")
_encode = msgspec.json.Encoder().encode

TableRequest = Roster | SetRoster | SetCategory | LoadCategories
ACTIONS: dict[type[TableRequest], str] = {
    Roster: "roster",
    SetRoster: "set_roster",
    SetCategory: "set_category",
    LoadCategories: "load_categories",
}
# Who may read the roster: the district centre. Every change is the admin's.
ROSTER_READERS = frozenset({"commander", "dispatcher", "admin"})
COMMANDER_TITLE = "县干指挥长"
# A mobile number (11 digits from 13…19), or a landline with its area code (0556-5512345,
# 05565512345), an extension after a dash allowed.
PHONE = re.compile(r"^(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(?:-\d{1,6})?)$")
# Where a set_category's table problems say they come from.
EDIT_SOURCE = "the category table"
# At most this much of a refusal's problem lines go into an error message (500 at most).
_PROBLEMS_SHOWN = 440


def parse_day(text: str, field: str = "day") -> date:
    """A yyyy-mm-dd day, or Refused (bad_args) saying what was expected."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise Refused(ErrorCode.BAD_ARGS, f"{field} {text[:40]!r} is not a date (yyyy-mm-dd)")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Refused(
            ErrorCode.BAD_ARGS, f"{field} {text!r} is not a date of the calendar"
        ) from None


def day_span(first: str, last: str, most: int) -> tuple[date, date]:
    """The first and last day asked for; Refused unless in order and at most `most` days."""
    low, high = parse_day(first, "first"), parse_day(last, "last")
    if high < low:
        raise Refused(ErrorCode.BAD_ARGS, f"last {last} is before first {first}")
    days = (high - low).days + 1
    if days > most:
        raise Refused(ErrorCode.BAD_ARGS, f"at most {most} days at once, not {days}")
    return low, high


def _text(value: str, what: str, *, required: bool) -> str:
    """A person's field, stripped; Refused when empty (if required), long or unprintable."""
    value = value.strip()
    if required and not value:
        raise Refused(ErrorCode.BAD_ARGS, f"{what} is empty")
    if len(value) > PERSON_TEXT_MAX:
        raise Refused(
            ErrorCode.BAD_ARGS, f"{what} is over {PERSON_TEXT_MAX} characters ({len(value)})"
        )
    if any(unicodedata.category(c).startswith("C") for c in value):
        raise Refused(ErrorCode.BAD_ARGS, f"{what} holds control characters")
    return value


def _person(person: Person, who: str, *, commander: bool) -> Person:
    """A checked, tidied person of a plan (`who` names it in the messages)."""
    name = _text(person.name, f"the name of {who}", required=True)
    label = "the duty commander" if commander else name
    title = _text(person.title, f"the title of {label}", required=not commander)
    post = _text(person.post, f"the post of {label}", required=False)
    phone = _text(person.phone, f"the phone of {label}", required=False)
    if phone and not PHONE.match(phone):
        raise Refused(
            ErrorCode.BAD_ARGS,
            f"the phone of {label} {phone!r} is not a phone number (expected a mobile like "
            "13912345678 or a landline like 0556-5512345)",
        )
    return Person(name=name, title=title or COMMANDER_TITLE, post=post, phone=phone)


def check_plan(message: SetRoster, today: date, by: str, at: float) -> DutyPlan | None:
    """The day's plan a set_roster asks for (None: remove it), checked against the district's
    `today`; Refused (bad_args) saying what is wrong."""
    day = parse_day(message.day)
    if day < today:
        raise Refused(
            ErrorCode.BAD_ARGS,
            f"day {message.day} is in the past (today is {today.isoformat()}): "
            "a past duty is not planned",
        )
    if day > today + timedelta(days=ROSTER_AHEAD):
        raise Refused(
            ErrorCode.BAD_ARGS,
            f"day {message.day} is more than {ROSTER_AHEAD} days ahead",
        )
    if message.commander is None:
        if message.roster:
            raise Refused(
                ErrorCode.BAD_ARGS,
                "a roster needs its duty commander (without one the day's plan is removed)",
            )
        return None
    if len(message.roster) > ROSTER_PEOPLE_MAX:
        raise Refused(
            ErrorCode.BAD_ARGS,
            f"a roster holds at most {ROSTER_PEOPLE_MAX} people, not {len(message.roster)}",
        )
    commander = _person(message.commander, "the duty commander", commander=True)
    roster = [
        _person(p, f"roster person {i}", commander=False)
        for i, p in enumerate(message.roster, start=1)
    ]
    seen: set[str] = set()
    for person in roster:
        if person.name in seen:
            raise Refused(ErrorCode.BAD_ARGS, f"{person.name} is on the roster twice")
        seen.add(person.name)
    return DutyPlan(
        day=message.day, commander=commander, roster=roster, updated_at=at, updated_by=by
    )


def plan_detail(message: SetRoster) -> str:
    """What a set_roster asked, for the admin log: the commander and the roster's names."""
    if message.commander is None:
        return "remove"
    names = ",".join(p.name for p in message.roster)
    return f"commander={message.commander.name} roster={names}"[:2000]


def category_detail(message: SetCategory) -> str:
    """What a set_category asked, for the admin log."""
    limits = ",".join(f"{stage}:{text}" for stage, text in message.limits.items())
    parts = [
        f"name={message.name}",
        f"priority={message.priority}",
        f"basis={message.basis}",
        f"department={message.department}",
        f"limits={limits}",
    ]
    if message.cls:
        parts.append(f"cls={message.cls}")
    return " ".join(parts)[:2000]


def change_text(change: CategoryChange) -> str:
    """A table change counted, as the command line says it."""
    return (
        f"{len(change.added)} added, {len(change.changed)} changed, "
        f"{len(change.removed)} removed (version {change.version})"
    )


def problems_text(problems: list[str]) -> str:
    """A table's problems for an error message: as many whole lines as fit, and how many
    more there are."""
    shown: list[str] = []
    used = 0
    for line in problems:
        if shown and used + len(line) > _PROBLEMS_SHOWN:
            break
        shown.append(line)
        used += len(line) + 1
    rest = len(problems) - len(shown)
    return "\n".join(shown) + (f"\n… and {rest} more" if rest else "")


def file_name(text: str) -> str:
    """The name a table file is called by in the messages: its last part, at most 100."""
    name = PurePosixPath(text.replace("\\", "/")).name.strip()
    return "".join(c for c in name if not unicodedata.category(c).startswith("C"))[:100] or "table"


def table_bytes(content: str) -> bytes:
    """A load_categories' content (base64 of zlib) as the file's bytes, or Refused."""
    try:
        packed = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        raise Refused(ErrorCode.BAD_ARGS, "content is not base64") from None
    unpack = zlib.decompressobj()
    try:
        data = unpack.decompress(packed, TABLE_MAX_BYTES + 1)
    except zlib.error:
        raise Refused(ErrorCode.BAD_ARGS, "content is not zlib-compressed data") from None
    if len(data) > TABLE_MAX_BYTES or unpack.unconsumed_tail:
        raise Refused(
            ErrorCode.BAD_ARGS, f"the table is over {TABLE_MAX_BYTES // (1024 * 1024)} MiB"
        )
    if not unpack.eof:
        raise Refused(ErrorCode.BAD_ARGS, "content is cut short (the zlib stream does not end)")
    return data


class TableAdmin(Audited):
    """Answers the roster and category requests of attached clients."""

    def __init__(
        self,
        hub: Hub,
        store: Store,
        reference: ReferenceData,
        clock: Clock,
        submit: Callable[[Request], asyncio.Future[Answer]],
    ) -> None:
        super().__init__(hub, store)
        self.reference = reference
        self.clock = clock
        self.submit = submit
        self._table_lock = asyncio.Lock()  # one table change at a time: read, edit, store, swap

    async def answer(self, client: Client, message: TableRequest) -> None:
        """Check, do, audit and answer one request."""
        action = ACTIONS[type(message)]
        entry = AdminEntry(
            at=time.time(),
            actor=client.user.name,
            peer=client.peer,
            action=action,
            target=_target(message),
            detail=_detail(message),
        )
        roles = ROSTER_READERS if isinstance(message, Roster) else {"admin"}
        await self.checked(
            client, message.id, entry, roles, lambda: self._do(client, message, entry)
        )

    async def _do(
        self, client: Client, message: TableRequest, entry: AdminEntry
    ) -> tuple[dict[str, Any], str]:
        """The answer's data and a note for the log line, the change recorded; or Refused."""
        if isinstance(message, Roster):
            return await self._roster(client, message, entry)
        if isinstance(message, SetRoster):
            return await self._set_roster(client, message, entry)
        district = table_district(
            client.jurisdiction, message.district, list(self.reference.districts)
        )
        key = "" if district == self.reference.first else district
        async with self._table_lock:
            change, table = await asyncio.to_thread(self._change_table, message, entry, key)
            if change.loaded and (change.added or change.changed or change.removed):
                categories, kinds = table_units(table, key)
                self.reference.replace_categories(categories, kinds, district)
                sent = self.push_categories()
                note = f"{change_text(change)}; sent to {sent} client(s)"
            else:
                note = change_text(change) + ("" if change.loaded else "; checked only")
        data = {
            "table": change.version,
            "added": change.added,
            "changed": change.changed,
            "removed": change.removed,
            "unmapped": change.unmapped,
            "loaded": change.loaded,
        }
        return data, note

    # ---- the roster ---------------------------------------------------------------------------

    def today(self) -> date:
        """The district's today, by its clock (the simulator's in a demo)."""
        return local(self.clock.now()).date()

    def _district(self, client: Client, asked: str) -> str:
        """The district whose 排班 a request is about (pick_district), or Refused."""
        return _picked(client.jurisdiction, asked, list(self.reference.districts), "duty")

    async def _roster(
        self, client: Client, message: Roster, entry: AdminEntry
    ) -> tuple[dict[str, Any], str]:
        day_span(message.first, message.last, ROSTER_SPAN)
        district = self._district(client, message.district)
        plans = await asyncio.to_thread(
            self._read_plans, message.first, message.last, district, entry
        )
        data = {"today": self.today().isoformat(), "days": msgspec.to_builtins(plans)}
        return data, f"{len(plans)} planned day(s) of {district}"

    def _read_plans(
        self, first: str, last: str, district: str, entry: AdminEntry
    ) -> list[DutyPlan]:
        """The planned days, and the request's row in the admin log (a worker thread)."""
        plans = self.store.duty_plans(first, last, district)
        self.store.record_admin(entry)
        return plans

    async def _set_roster(
        self, client: Client, message: SetRoster, entry: AdminEntry
    ) -> tuple[dict[str, Any], str]:
        district = self._district(client, message.district)
        plan = check_plan(message, self.today(), client.user.name, time.time())
        if plan is not None:
            plan = msgspec.structs.replace(plan, district=district)
        existed = await asyncio.to_thread(
            self.store.set_duty_plan, message.day, plan, audit=entry, district=district
        )
        # The live state takes it through the writer: the duty in force, when it is that
        # day's, takes the new roster (a delta to every client) before the admin hears back.
        actor = Actor(client.user.name, client.user.role, client.jurisdiction)
        day = message.day

        def take(state: Any, now: float) -> Any:
            return state.plan_day(actor, day, plan, now, district)

        answer = await self.submit(CallRequest(take))
        if not answer.ok:
            log.error(
                "the plan of %s was stored, the live duty not changed: %s", day, answer.message
            )
            raise RuntimeError(answer.message)
        duty = bool(answer.data.get("duty"))
        if plan is None:
            note = "plan removed" if existed else "no plan to remove"
        else:
            note = f"{'replaced' if existed else 'planned'}; {len(plan.roster)} on the roster"
        if duty:
            note += "; the duty in force took it"
        return {"day": day, "planned": plan is not None, "duty": duty}, note

    # ---- the category table -------------------------------------------------------------------

    def _change_table(
        self, message: SetCategory | LoadCategories, entry: AdminEntry, district: str
    ) -> tuple[CategoryChange, CategoryTable]:
        """Validate a district's new table (`district`: "" the first's), store it with the
        request's admin log row (a worker thread); Refused, with nothing changed, when it is
        not valid or drops codes in use."""
        table = self._new_table(message, district)
        change = category_change(self.store, table, district)
        if change.in_use:
            raise Refused(ErrorCode.BAD_ARGS, _in_use_message(change))
        if isinstance(message, LoadCategories) and message.check:
            self.store.record_admin(
                replace(entry, detail=f"{entry.detail} -> would change {change_text(change)}")
            )
            return change, table
        origin = (
            f"set {message.code} by {entry.actor}"
            if isinstance(message, SetCategory)
            else f"loaded from {file_name(message.file)} by {entry.actor}"
        )
        audit = replace(entry, detail=f"{entry.detail} -> {change_text(change)}"[:2000])
        change = load_categories_into(self.store, table, origin, audit, district)
        if not change.loaded:  # an event of a dropped code stored meanwhile
            raise Refused(ErrorCode.BAD_ARGS, _in_use_message(change))
        return change, table

    def _new_table(self, message: SetCategory | LoadCategories, district: str) -> CategoryTable:
        try:
            if isinstance(message, SetCategory):
                return edited_table(self.store, message, EDIT_SOURCE, district)
            data = table_bytes(message.content)
            departments = stored_departments(self.store, district)
            return parse_categories(data, file_name(message.file), departments)
        except CategoryTableError as exc:
            raise Refused(ErrorCode.BAD_ARGS, problems_text(exc.problems)) from None

    def push_categories(self) -> int:
        """Send the tables now in force to every connected client (its districts' tables),
        with the version of its units from now on; how many clients it went to."""
        frames: dict[frozenset[str] | None, bytes] = {}
        sent = 0
        for client in list(self.hub.clients):
            frame = frames.get(client.jurisdiction)
            if frame is None:
                version, _ = self.reference.units_frame(client.jurisdiction)
                ref = self.reference.view(client.jurisdiction)
                frame = frames[client.jurisdiction] = _encode(
                    Categories(
                        version=version, categories=ref.categories, detections=ref.detections
                    )
                )
            self.hub.write(client, [frame])
            sent += 1
        return sent


def table_district(jurisdiction: frozenset[str] | None, asked: str, held: list[str]) -> str:
    """The district whose category table an admin's request changes (pick_district), or
    Refused."""
    return _picked(jurisdiction, asked, held, "category table")


def _picked(jurisdiction: frozenset[str] | None, asked: str, held: list[str], what: str) -> str:
    try:
        return pick_district(jurisdiction, asked, held, what)
    except DistrictUnclear as exc:
        raise Refused(ErrorCode(exc.code), str(exc)) from exc


def _in_use_message(change: CategoryChange) -> str:
    return (
        f"stored events use categories the table drops: {in_use_text(change.in_use)}; "
        "nothing changed: keep those codes in the table"
    )


def _target(message: TableRequest) -> str:
    if isinstance(message, Roster):
        return f"{message.first[:20]}..{message.last[:20]}"
    if isinstance(message, SetRoster):
        return message.day
    whose = f"{message.district[:20]}:" if message.district else ""
    if isinstance(message, SetCategory):
        return whose + message.code
    return whose + file_name(message.file)


def _detail(message: TableRequest) -> str:
    if isinstance(message, SetRoster):
        return plan_detail(message)
    if isinstance(message, SetCategory):
        return category_detail(message)
    if isinstance(message, LoadCategories):
        return f"{len(message.content)} base64 characters" + (" (check)" if message.check else "")
    return ""
