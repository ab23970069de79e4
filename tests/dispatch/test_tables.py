"""The admin's tables over the wire: the duty roster (roster, set_roster) and the category
table (set_category, load_categories); who may, what is checked, the admin log, and what a
change does to the live duty, to new deadlines and to connected clients."""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from collections.abc import AsyncIterator
from datetime import datetime
from importlib import resources
from typing import Any

import msgspec
import pytest
from websockets.asyncio.client import connect

from dispatch.app import (
    CATEGORIES_ORIGIN,
    load_reference,
    refresh_default_categories,
    stored_departments,
    units_digest,
)
from dispatch.clock import Clock
from dispatch.domain.calendar import CST
from dispatch.domain.categories import CategoryTableError, parse_categories
from dispatch.store.store import AdminEntry, Store
from protocol.codec import convert, encode
from protocol.codes import ErrorCode
from protocol.entities import Category, CategoryLimit, Duty, DutyPlan, Person
from protocol.messages import (
    Categories,
    Delta,
    Error,
    Hello,
    LoadCategories,
    Result,
    Roster,
    SetCategory,
    SetRoster,
    Snapshot,
    Welcome,
)
from tests.dispatch.conftest import LINGHU, Client, Running, start_server
from tests.dispatch.test_admin import ADMIN, admin_of, ask, still_up
from tests.dispatch.test_server import handshake, report_args

# A Wednesday morning, in office hours: working-time deadlines run from the report.
START = datetime(2026, 11, 25, 10, 0, tzinfo=CST).timestamp()
TODAY = "2026-11-25"
TOMORROW = "2026-11-26"
COMMANDER = Person(name="王建国", title="副区长", phone="13912345678")
STAFF = [
    Person(name="赵磊", title="值班长", phone="13800001111"),
    Person(name="孙丽", title="调度员", post="区联动中心", phone="0556-5512345"),
]


@pytest.fixture
async def planned(store: Store) -> AsyncIterator[Running]:
    """A server whose district clock starts on START."""
    run = await start_server(store, clock=Clock(1.0, START))
    yield run
    await run.server.stop()


def admin_rows(store: Store, action: str | None = None) -> list[AdminEntry]:
    return [r for r in store.admin_log(1000) if action is None or r.action == action]


def plan(day: str, commander: Person | None = COMMANDER, roster=STAFF) -> SetRoster:
    return SetRoster(id=0, day=day, commander=commander, roster=list(roster))


def days_of(reply: Result | Error) -> dict[str, DutyPlan]:
    assert isinstance(reply, Result), reply
    assert set(reply.data) == {"today", "days"}
    # Every field is always present, as documented.
    assert all(set(d) == set(DutyPlan.__struct_fields__) for d in reply.data["days"])
    return {d.day: d for d in (convert(d, DutyPlan) for d in reply.data["days"])}


# ---- the duty roster -----------------------------------------------------------------------


async def test_an_admin_plans_days_and_the_duty_takes_the_plan(planned: Running) -> None:
    admin = await admin_of(planned)
    wall = await planned.client("wall")
    await handshake(wall)
    empty = await ask(admin, Roster(id=0, first=TODAY, last="2026-12-08"))
    assert days_of(empty) == {} and isinstance(empty, Result) and empty.data["today"] == TODAY

    done = await ask(admin, plan(TOMORROW))
    assert isinstance(done, Result) and done.data == {
        "day": TOMORROW,
        "planned": True,
        "duty": False,
    }
    today = await ask(admin, plan(TODAY, Person(name="李红梅", title=""), STAFF[:1]))
    assert isinstance(today, Result) and today.data["duty"] is False  # no duty in force yet
    days = days_of(await ask(admin, Roster(id=0, first=TODAY, last="2026-12-08")))
    assert list(days) == [TODAY, TOMORROW]
    assert days[TOMORROW].commander == COMMANDER and days[TOMORROW].roster == STAFF
    assert days[TODAY].commander == Person(name="李红梅", title="县干指挥长")
    assert days[TODAY].updated_by == ADMIN and days[TODAY].updated_at > 0
    assert [p.day for p in planned.store.duty_plans(TODAY)] == [TODAY, TOMORROW]

    # Today's first duty: the commander hands over with no roster; the plan gives it.
    commander = await planned.client("commander")
    await handshake(commander)
    handed = await commander.command("handover", {"commander": "李红梅", "note": "接班"})
    assert isinstance(handed, Result), handed
    delta = await wall.until(lambda m: isinstance(m, Delta) and isinstance(m.data, Duty))
    assert isinstance(delta, Delta) and isinstance(delta.data, Duty)
    assert delta.data.day == TODAY and delta.data.roster == STAFF[:1]
    assert delta.data.commander.name == "李红梅" and delta.action == "handover"

    # Today's plan changed while its duty is in force: the duty takes the roster at once.
    again = await ask(admin, plan(TODAY, Person(name="李红梅", title="", phone="13700002222")))
    assert isinstance(again, Result) and again.data["duty"] is True
    delta = await wall.until(lambda m: isinstance(m, Delta) and m.action == "set_roster")
    assert isinstance(delta, Delta) and isinstance(delta.data, Duty)
    assert delta.actor == ADMIN and delta.data.roster == STAFF
    assert delta.data.commander.phone == "13700002222"
    assert delta.data.instructions[0].text == "接班"  # the duty's record is kept
    assert planned.server.state.duty == delta.data

    # A handover to another commander later today keeps the plan's roster, not his phone.
    other = await commander.command("handover", {"commander": "张志强"})
    assert isinstance(other, Result)
    delta = await wall.until(lambda m: isinstance(m, Delta) and m.action == "handover")
    assert isinstance(delta, Delta) and isinstance(delta.data, Duty)
    assert delta.data.roster == STAFF and delta.data.commander.phone == ""

    # Removing tomorrow's plan; removing it again changes nothing.
    gone = await ask(admin, SetRoster(id=0, day=TOMORROW))
    assert isinstance(gone, Result) and gone.data == {
        "day": TOMORROW,
        "planned": False,
        "duty": False,
    }
    assert list(days_of(await ask(admin, Roster(id=0, first=TODAY, last=TOMORROW)))) == [TODAY]
    rows = admin_rows(planned.store)
    assert [(r.action, r.target, r.outcome) for r in rows] == [
        ("roster", f"{TODAY}..2026-12-08", "ok"),
        ("set_roster", TOMORROW, "ok"),
        ("set_roster", TODAY, "ok"),
        ("roster", f"{TODAY}..2026-12-08", "ok"),
        ("set_roster", TODAY, "ok"),
        ("set_roster", TOMORROW, "ok"),
        ("roster", f"{TODAY}..{TOMORROW}", "ok"),
    ]
    assert rows[1].detail == "commander=王建国 roster=赵磊,孙丽"
    assert rows[5].detail == "remove"


async def test_a_planned_day_is_handed_to_its_commander_by_the_simulator(planned: Running) -> None:
    """The demo's daily handover (the day's first duty) follows the plan."""
    from dispatch.simulator import Simulator

    admin = await admin_of(planned)
    assert isinstance(await ask(admin, plan(TODAY)), Result)
    Simulator(planned.server, seed=1)._handover(START, 0, "340803")
    await planned.server.submit(_noop())  # the handover went through the writer before it
    duty = planned.server.state.duty
    assert duty is not None and duty.day == TODAY
    assert duty.commander.name == "王建国" and duty.commander.title == "副区长"
    assert duty.commander.phone == "13912345678" and duty.roster == STAFF


def _noop() -> Any:
    from dispatch.state import Outcome
    from dispatch.writer import CallRequest

    return CallRequest(lambda state, now: Outcome())


async def test_plans_outlive_a_restart(store: Store) -> None:
    first = await start_server(store, clock=Clock(1.0, START))
    try:
        admin = await admin_of(first)
        assert isinstance(await ask(admin, plan(TOMORROW)), Result)
    finally:
        await first.server.stop()
    second = await start_server(store, clock=Clock(1.0, START + 86400))
    try:
        assert set(second.server.state.plans) == {("340803", TOMORROW)}
        commander = await second.client("commander")
        await handshake(commander)
        assert isinstance(await commander.command("handover", {"commander": "王建国"}), Result)
        duty = second.server.state.duty
        assert duty is not None and duty.roster == STAFF and duty.commander.phone == COMMANDER.phone
    finally:
        await second.server.stop()


async def test_other_roles_may_not_plan_and_street_staff_may_not_read(planned: Running) -> None:
    before = planned.store.duty_plans(TODAY)
    for who in ("commander", "dispatcher"):
        client = await planned.client(who)
        await handshake(client)
        days_of(await ask(client, Roster(id=0, first=TODAY, last=TOMORROW)))  # may read
        refused = await ask(client, plan(TOMORROW))
        assert isinstance(refused, Error) and refused.code == ErrorCode.FORBIDDEN
        assert refused.message == f"role {who} may not set_roster"
    for who, role in (("linghu", "street"), ("wall", "wall"), ("community", "community")):
        client = await planned.client(who)
        await handshake(client)
        refused = await ask(client, Roster(id=0, first=TODAY, last=TOMORROW))
        assert isinstance(refused, Error) and refused.code == ErrorCode.FORBIDDEN
        assert refused.message == f"role {role} may not roster"
        await still_up(client)
    assert planned.store.duty_plans(TODAY) == before == []
    outcomes = [(r.action, r.outcome) for r in admin_rows(planned.store)]
    assert outcomes.count(("set_roster", "forbidden")) == 2
    assert outcomes.count(("roster", "forbidden")) == 3
    assert outcomes.count(("roster", "ok")) == 2
    refusal = admin_rows(planned.store, "set_roster")[0]
    assert refusal.actor == "指挥长" and refusal.detail == "commander=王建国 roster=赵磊,孙丽"


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (plan("2026-11-31"), "day '2026-11-31' is not a date of the calendar"),
        (plan("26-11-30"), "day '26-11-30' is not a date (yyyy-mm-dd)"),
        (
            plan("2026-11-24"),
            "day 2026-11-24 is in the past (today is 2026-11-25): a past duty is not planned",
        ),
        (plan("2027-12-01"), "day 2027-12-01 is more than 366 days ahead"),
        (
            plan(TOMORROW, Person(name=" ", title="副区长")),
            "the name of the duty commander is empty",
        ),
        (
            plan(TOMORROW, Person(name="王建国", title="副区长", phone="12345")),
            "the phone of the duty commander '12345' is not a phone number (expected a mobile"
            " like 13912345678 or a landline like 0556-5512345)",
        ),
        (
            plan(TOMORROW, roster=[Person(name="赵磊", title="")]),
            "the title of 赵磊 is empty",
        ),
        (
            plan(TOMORROW, roster=[Person(name="", title="调度员")]),
            "the name of roster person 1 is empty",
        ),
        (plan(TOMORROW, roster=[STAFF[0], STAFF[0]]), "赵磊 is on the roster twice"),
        (
            plan(TOMORROW, roster=[Person(name=f"员{i}", title="调度员") for i in range(31)]),
            "a roster holds at most 30 people, not 31",
        ),
        (
            plan(TOMORROW, None),
            "a roster needs its duty commander (without one the day's plan is removed)",
        ),
        (
            plan(TOMORROW, Person(name="王" * 51, title="副区长")),
            "the name of the duty commander is over 50 characters (51)",
        ),
    ],
)
async def test_a_bad_plan_is_refused_clearly_and_nothing_changes(
    planned: Running, message: SetRoster, error: str
) -> None:
    admin = await admin_of(planned)
    assert isinstance(await ask(admin, plan(TOMORROW, roster=STAFF[1:])), Result)
    before = planned.store.duty_plans(TODAY)
    reply = await ask(admin, message)
    assert isinstance(reply, Error) and reply.code == ErrorCode.BAD_ARGS, reply
    assert reply.message == error
    assert planned.store.duty_plans(TODAY) == before
    assert planned.server.state.plans == {(p.district, p.day): p for p in before}
    row = admin_rows(planned.store, "set_roster")[-1]
    assert (row.outcome, row.message, row.target) == ("bad_args", error, message.day)


@pytest.mark.parametrize(
    ("first", "last", "error"),
    [
        ("2026-11-30", TODAY, f"last {TODAY} is before first 2026-11-30"),
        (TODAY, "2027-01-26", "at most 62 days at once, not 63"),
        ("tomorrow", TODAY, "first 'tomorrow' is not a date (yyyy-mm-dd)"),
    ],
)
async def test_a_bad_roster_read_is_refused(
    planned: Running, first: str, last: str, error: str
) -> None:
    admin = await admin_of(planned)
    reply = await ask(admin, Roster(id=0, first=first, last=last))
    assert isinstance(reply, Error) and (reply.code, reply.message) == ("bad_args", error)
    assert [(r.action, r.outcome) for r in admin_rows(planned.store)] == [("roster", "bad_args")]


# ---- the category table --------------------------------------------------------------------


def edit(code: str = "01-02", **changes: Any) -> SetCategory:
    """The default 暴露垃圾 as a set_category, with `changes`."""
    fields: dict[str, Any] = {
        "code": code,
        "name": "暴露垃圾",
        "standard": "道路、广场、绿地等公共场所有成堆或散落的暴露垃圾予以立案，清运干净后结案。",
        "priority": 3,
        "department": "CGJ",
        "limits": {"accept": "1h", "dispatch": "1h", "handle": "4h", "verify": "1h"},
        "basis": "working",
    }
    fields.update(changes)
    return SetCategory(id=0, **fields)


async def pushed(client: Client) -> Categories:
    """The next `categories` message, whether it came already (before an answer) or not."""
    for index, message in enumerate(client.inbox):
        if isinstance(message, Categories):
            del client.inbox[index]
            return message
    news = await client.until(lambda m: isinstance(m, Categories))
    assert isinstance(news, Categories)
    return news


def stored(store: Store) -> dict[str, Category]:
    decoder = msgspec.json.Decoder(Category)
    return {c.code: c for c in (decoder.decode(doc) for doc in store.units("category"))}


def packed(data: bytes) -> str:
    return base64.b64encode(zlib.compress(data)).decode()


def default_file() -> dict[str, Any]:
    path = resources.files("resources") / "district" / "categories.json"
    return json.loads(path.read_text(encoding="utf-8"))


async def connected_wall(running: Running) -> Client:
    wall = await running.client("wall")
    await handshake(wall)
    return wall


async def test_an_admin_changes_limits_and_new_deadlines_follow(planned: Running) -> None:
    admin = await admin_of(planned)
    wall = await connected_wall(planned)
    linghu = await planned.client("linghu")
    await handshake(linghu)
    before = await linghu.command("report", report_args(planned))
    assert isinstance(before, Result)
    old_case = planned.server.state.events[int(before.data["event"])]

    limits = {"accept": "30m", "dispatch": "2h", "handle": "1d", "verify": "2h"}
    reply = await ask(admin, edit(limits=limits, department="ZJJ"))
    assert isinstance(reply, Result), reply
    assert reply.data["added"] == [] and reply.data["changed"] == ["01-02"]
    assert reply.data["removed"] == [] and reply.data["loaded"] is True
    assert reply.data["table"] == units_digest(category_units_of(planned.store))

    # Connected clients hear of it, with the version their units have from now on.
    for client, scope in ((wall, None), (linghu, frozenset({LINGHU})), (admin, None)):
        news = await pushed(client)
        assert isinstance(news, Categories)
        changed = next(c for c in news.categories if c.code == "01-02")
        assert changed.limits["accept"] == CategoryLimit(amount=0.5, unit="hour")
        assert changed.limits["handle"] == CategoryLimit(amount=1, unit="day")
        assert changed.department == "ZJJ" and changed.name == "暴露垃圾"
        units = msgspec.structs.replace(
            client.units.reference, categories=news.categories, detections=news.detections
        )
        # What the client holds now is what a new connection would be sent.
        assert news.version == planned.server.reference.units_frame(scope)[0]
        assert news.version == _version_of(units)

    # A new case gets the new limits; the one reported before keeps its deadlines.
    after = await linghu.command("report", report_args(planned))
    assert isinstance(after, Result)
    case = planned.server.state.events[int(after.data["event"])]
    reference = planned.server.reference
    assert case.deadline == reference.deadline(
        float(int(case.reported_at)), CategoryLimit(amount=0.5, unit="hour"), "working"
    )
    assert case.deadline != old_case.deadline
    assert planned.server.state.events[old_case.id] == old_case

    # Stored, as a deployment's own table: a restart serves the same, never the default.
    assert stored(planned.store)["01-02"].department == "ZJJ"
    assert planned.store.meta(CATEGORIES_ORIGIN) == f"set 01-02 by {ADMIN}"
    assert not refresh_default_categories(planned.store)
    fresh = load_reference(planned.store)
    assert fresh.units_frame(None)[0] == reference.units_frame(None)[0]
    assert fresh.categories["01-02"] == reference.categories["01-02"]

    [row] = admin_rows(planned.store, "set_category")
    assert (row.actor, row.target, row.outcome) == (ADMIN, "01-02", "ok")
    assert row.detail.startswith(
        "name=暴露垃圾 priority=3 basis=working department=ZJJ "
        "limits=accept:30m,dispatch:2h,handle:1d,verify:2h -> 0 added, 1 changed, 0 removed"
    )


def category_units_of(store: Store) -> list[tuple[str, str, str, str, bytes]]:
    return [*store.unit_rows("category"), *store.unit_rows("detection")]


def _version_of(reference: Any) -> str:
    """The version of units holding `reference` (a hash of its encoding, as the server's)."""
    return hashlib.sha256(msgspec.json.encode(reference)).hexdigest()[:16]


async def test_a_client_holding_the_new_version_is_not_sent_the_units(planned: Running) -> None:
    admin = await admin_of(planned)
    wall = await connected_wall(planned)
    assert isinstance(await ask(admin, edit(limits={**edit().limits, "verify": "2h"})), Result)
    news = await pushed(wall)
    assert isinstance(news, Categories)
    ws = await connect(f"ws://127.0.0.1:{planned.port}", max_size=None, compression=None)
    hello = Hello(id=1, protocol=1, token=planned.tokens["wall"], reference=news.version)
    await ws.send(encode(hello).decode())
    again = Client(ws)
    assert isinstance(await again.recv(), Welcome)
    snapshot = await again.recv(timeout=15)
    assert isinstance(snapshot, Snapshot) and snapshot.reference == news.version


async def test_an_admin_adds_a_category_in_a_new_class(planned: Running) -> None:
    admin = await admin_of(planned)
    new = edit(
        "21-01",
        name="共享单车乱停放",
        standard="共享单车堆放占道的予以立案，清理归位后结案。",
        cls="共享出行",
        limits={"accept": "1h", "dispatch": "1h", "handle": "1d", "verify": "1d"},
    )
    reply = await ask(admin, new)
    assert isinstance(reply, Result) and reply.data["added"] == ["21-01"], reply
    category = planned.server.reference.categories["21-01"]
    assert category.cls == "共享出行" and category.department == "CGJ"
    linghu = await planned.client("linghu")
    await handshake(linghu)
    assert linghu.units.reference.categories[-1].code == "21-01"
    made = await linghu.command("report", {**report_args(planned), "category": "21-01"})
    assert isinstance(made, Result), made


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (
            edit(limits={"accept": "4x", "dispatch": "1h", "handle": "4h", "verify": "1h"}),
            "the category table: 01-02: limits.accept: bad time limit '4x' "
            "(expected e.g. '4h', '0.5h', '15m' or '20d')",
        ),
        (
            edit(department="XXJ"),
            "the category table: 01-02: department: unknown department 'XXJ' "
            "(expected a department code of the district, e.g. 'CGJ')",
        ),
        (
            edit(priority=1),
            "the category table: 01-02: basis: 'working' for priority 1, which always runs in "
            "natural time (expected 'natural' for priority 1-2)",
        ),
        (
            edit(limits={"accept": "1h", "dispatch": "1h", "handle": "4h"}),
            "the category table: 01-02: limits: no limit for verify "
            "(expected limits for ('accept', 'dispatch', 'handle', 'verify'))",
        ),
        (
            edit(limits={"accept": "1h", "dispatch": "1h", "handle": "2.5d", "verify": "1h"}),
            "the category table: 01-02: limits.handle: '2.5d' is not a whole number of working "
            "days (expected whole working days, or working hours (a working day has 7))",
        ),
        (
            edit("1-2"),
            "the category table: 1-2: code: bad code format "
            "(expected class-item as NN-NN, e.g. '01-02')",
        ),
        (
            edit("21-01"),
            "the category table: 21-01: code: unknown class '21' (expected one of "
            "['01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12', '13', "
            "'14', '15', '16', '17', '18', '19', '20'])",
        ),
        (
            edit(cls="街面秩序"),
            "the category table: 01-02: cls: class '01' is named '市容环境', not '街面秩序' "
            "(expected its name, or none; a class is renamed by loading a table)",
        ),
        (edit(name=" "), "the category table: 01-02: name: empty (expected the category's name)"),
    ],
)
async def test_a_bad_category_is_refused_clearly_and_nothing_changes(
    planned: Running, message: SetCategory, error: str
) -> None:
    admin = await admin_of(planned)
    wall = await connected_wall(planned)
    before = stored(planned.store)
    version = planned.server.reference.units_frame(None)[0]
    reply = await ask(admin, message)
    assert isinstance(reply, Error) and reply.code == ErrorCode.BAD_ARGS, reply
    assert reply.message == error
    assert stored(planned.store) == before
    assert planned.server.reference.units_frame(None)[0] == version
    assert planned.store.meta(CATEGORIES_ORIGIN) is None
    [row] = admin_rows(planned.store, "set_category")
    assert (row.outcome, row.message, row.target) == ("bad_args", error, message.code)
    await still_up(wall)
    with pytest.raises(TimeoutError):
        await wall.until(lambda m: isinstance(m, Categories), timeout=0.3)


async def test_a_table_file_is_checked_then_loaded_and_used_codes_stay(planned: Running) -> None:
    admin = await admin_of(planned)
    wall = await connected_wall(planned)
    linghu = await planned.client("linghu")
    await handshake(linghu)
    used = await linghu.command("report", report_args(planned))  # a case of 01-02
    assert isinstance(used, Result)
    table = default_file()
    table["categories"][0]["limits"]["handle"] = "15d"  # 01-01
    table["categories"] = [c for c in table["categories"] if c["code"] != "01-03"]
    table["camera_kinds"] = [k for k in table["camera_kinds"] if k["category"] != "01-03"]
    content = packed(json.dumps(table, ensure_ascii=False).encode())
    before = stored(planned.store)

    checked = await ask(
        admin, LoadCategories(id=0, file="/tmp/我的分类表.json", content=content, check=True)
    )
    assert isinstance(checked, Result), checked
    assert checked.data["changed"] == ["01-01"] and checked.data["removed"] == ["01-03"]
    assert checked.data["loaded"] is False and stored(planned.store) == before

    loaded = await ask(admin, LoadCategories(id=0, file="/tmp/我的分类表.json", content=content))
    assert isinstance(loaded, Result) and loaded.data["loaded"] is True, loaded
    assert loaded.data["table"] == checked.data["table"]
    assert (
        "01-03" not in stored(planned.store) and "01-03" not in planned.server.reference.categories
    )
    news = await pushed(wall)
    assert isinstance(news, Categories) and "01-03" not in {c.code for c in news.categories}
    assert planned.store.meta(CATEGORIES_ORIGIN) == f"loaded from 我的分类表.json by {ADMIN}"

    # Dropping 01-02, which a stored case uses: refused, as `dispatch load-categories` does.
    dropped = dict(table, categories=[c for c in table["categories"] if c["code"] != "01-02"])
    dropped["camera_kinds"] = [k for k in table["camera_kinds"] if k["category"] != "01-02"]
    after_load = stored(planned.store)
    refused = await ask(
        admin,
        LoadCategories(
            id=0, file="drop.json", content=packed(json.dumps(dropped, ensure_ascii=False).encode())
        ),
    )
    assert isinstance(refused, Error) and refused.code == ErrorCode.BAD_ARGS
    assert refused.message == (
        "stored events use categories the table drops: 01-02 (1 events); "
        "nothing changed: keep those codes in the table"
    )
    assert stored(planned.store) == after_load and "01-02" in planned.server.reference.categories
    rows = admin_rows(planned.store, "load_categories")
    assert [(r.target, r.outcome) for r in rows] == [
        ("我的分类表.json", "ok"),
        ("我的分类表.json", "ok"),
        ("drop.json", "bad_args"),
    ]
    assert "(check) -> would change 0 added, 1 changed, 1 removed" in rows[0].detail
    assert rows[2].message == refused.message


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("不是base64", "content is not base64"),
        (base64.b64encode(b"plain text").decode(), "content is not zlib-compressed data"),
        (
            base64.b64encode(zlib.compress(b"{}")[:-3]).decode(),
            "content is cut short (the zlib stream does not end)",
        ),
        (
            base64.b64encode(zlib.compress(b"\0" * (4 * 1024 * 1024 + 1))).decode(),
            "the table is over 4 MiB",
        ),
        (packed(b"{not json"), "t.json: not valid JSON: "),
        (
            packed(json.dumps({"classes": {}, "categories": []}).encode()),
            "t.json: file: Object missing required field `camera_kinds`",
        ),
    ],
)
async def test_a_bad_table_file_is_refused_and_nothing_changes(
    planned: Running, content: str, error: str
) -> None:
    admin = await admin_of(planned)
    before = stored(planned.store)
    reply = await ask(admin, LoadCategories(id=0, file="t.json", content=content))
    assert isinstance(reply, Error) and reply.code == ErrorCode.BAD_ARGS, reply
    assert reply.message.startswith(error)
    assert stored(planned.store) == before
    [row] = admin_rows(planned.store, "load_categories")
    assert row.outcome == "bad_args"


async def test_a_table_files_problems_are_the_command_lines(
    planned: Running, tmp_path, capsys
) -> None:
    """The same validation as `dispatch load-categories`, the same lines; many are cut."""
    from dispatch.cli import main

    admin = await admin_of(planned)
    table = default_file()
    for item in table["categories"][:12]:
        item["department"] = "XXJ"
    data = json.dumps(table, ensure_ascii=False).encode()
    reply = await ask(admin, LoadCategories(id=0, file="t.json", content=packed(data)))
    assert isinstance(reply, Error) and len(reply.message) <= 500
    lines = reply.message.split("\n")
    assert lines[-1] == f"… and {12 - len(lines) + 1} more"
    path = tmp_path / "t.json"
    path.write_bytes(data)
    assert main(["--url", planned.store.url, "load-categories", str(path), "--check"]) == 2
    printed = [
        line.removeprefix("error: ").replace(str(path), "t.json")
        for line in capsys.readouterr().err.splitlines()
    ]
    assert lines[:-1] == printed[: len(lines) - 1]
    with pytest.raises(CategoryTableError) as problems:
        parse_categories(data, "t.json", stored_departments(planned.store))
    assert len(problems.value.problems) == 12


async def test_other_roles_may_not_change_the_table(planned: Running) -> None:
    before = stored(planned.store)
    content = packed(json.dumps(default_file(), ensure_ascii=False).encode())
    for who, role in (("commander", "commander"), ("linghu", "street")):
        client = await planned.client(who)
        await handshake(client)
        for message, action in (
            (edit(limits={**edit().limits, "accept": "2h"}), "set_category"),
            (LoadCategories(id=0, file="t.json", content=content), "load_categories"),
        ):
            reply = await ask(client, message)
            assert isinstance(reply, Error) and reply.code == ErrorCode.FORBIDDEN
            assert reply.message == f"role {role} may not {action}"
    assert stored(planned.store) == before
    assert [r.outcome for r in admin_rows(planned.store)] == ["forbidden"] * 4


async def test_a_clients_units_take_the_table(planned: Running) -> None:
    """The desktop's replica patches its units, and resumes with the new version."""
    from desktop.core.replica import Replica

    admin = await admin_of(planned)
    wall = await planned.client("wall")
    replica = Replica()
    for _ in range(3):
        replica.apply(await wall.recv(timeout=15))
    assert replica.units is not None
    assert isinstance(await ask(admin, edit(department="ZJJ")), Result)
    news = await pushed(wall)
    changes = replica.apply(news)
    assert changes.categories and not changes.units
    assert replica.units_version == news.version
    assert next(c for c in replica.units.categories if c.code == "01-02").department == "ZJJ"
    assert _version_of(replica.units) == news.version


async def test_the_demo_plans_its_week_once(store: Store) -> None:
    from dispatch.cli import plan_demo_week
    from dispatch.simulator import COMMANDERS, Simulator

    assert plan_demo_week(store, START) == 7
    assert plan_demo_week(store, START) == 0  # kept as planned (or as an admin changed it)
    plans = store.duty_plans(TODAY)
    assert [p.day for p in plans][:2] == [TODAY, TOMORROW] and len(plans) == 7
    assert all(p.updated_by == "demo" and len(p.roster) == 4 for p in plans)
    assert [r.actor for r in admin_rows(store, "set_roster")] == ["demo"] * 7
    run = await start_server(store, clock=Clock(1.0, START))
    try:
        Simulator(run.server, seed=1)._handover(START, 0, "340803")
        await run.server.submit(_noop())
        duty = run.server.state.duty
        assert duty is not None and duty.roster == plans[0].roster
        assert (duty.commander.name, duty.commander.title) in COMMANDERS
        assert duty.commander.name == plans[0].commander.name
    finally:
        await run.server.stop()
