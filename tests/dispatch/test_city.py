"""A city of districts over the wire: one server, 大观区 and 迎江区 in one store; a district
user sees its district only, the city user both (a real server on port 0, SQLite)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from dispatch.app import load_reference, prepare
from dispatch.reference import ReferenceData, local
from dispatch.server import DispatchServer
from dispatch.store.store import Store
from protocol.codes import ErrorCode
from protocol.entities import Duty, Event, Person
from protocol.messages import Delta, Error, Kpis, Result, Resume, Roster, SetRoster, Welcome
from tests.dispatch.conftest import LINGHU, Client, Running, point_in
from tests.dispatch.test_admin import admin_of
from tests.dispatch.test_admin import ask as ask_admin
from tests.dispatch.test_server import handshake
from tests.dispatch.test_server_kpis import ask

DAGUAN, YINGJIANG = "340803", "340802"
BINJIANG = "340802006"  # 迎江区 滨江街道
_references: dict[str, ReferenceData] = {}


def city_store(url: str) -> Store:
    store = Store(url)
    prepare(store, codes=(DAGUAN, YINGJIANG))
    return store


@pytest.fixture
async def city(tmp_path) -> AsyncIterator[Running]:
    store = city_store(f"sqlite:///{tmp_path / 'city.db'}")
    if "ref" not in _references:  # the grid index takes a moment; the units never change
        _references["ref"] = load_reference(store)
    tokens = {
        "city": store.create_user("市指挥长", "commander"),
        "daguan": store.create_user("大观区指挥长", "commander", [DAGUAN]),
        "yingjiang": store.create_user("迎江区调度员", "dispatcher", [YINGJIANG]),
        "yingjiang_wall": store.create_user("迎江区大屏", "wall", [YINGJIANG]),
        "yingjiang_boss": store.create_user("迎江区值班指挥长", "commander", [YINGJIANG]),
        "binjiang": store.create_user("滨江分中心", "street", [BINJIANG]),
        "linghu": store.create_user("菱湖分中心", "street", [LINGHU]),
    }
    server = DispatchServer(store, _references["ref"])
    port = await server.start("127.0.0.1", 0)
    yield Running(server, store, port, tokens)
    await server.stop()
    store.close()


def report(running: Running, street: str, title: str) -> dict:  # type: ignore[type-arg]
    lon, lat = point_in(running.server.reference, street)
    return {"category": "01-02", "title": title, "lon": lon, "lat": lat, "source": "hotline"}


async def test_a_district_user_sees_its_district_the_city_user_both(city: Running) -> None:
    boss = await city.client("city")
    await handshake(boss)
    ours = await boss.command("report", report(city, LINGHU, "大观区的事件"))
    theirs = await boss.command("report", report(city, BINJIANG, "迎江区的事件"))
    assert isinstance(ours, Result) and isinstance(theirs, Result)
    daguan_case, yingjiang_case = ours.data["event"], theirs.data["event"]
    assert city.server.state.events[yingjiang_case].street == BINJIANG

    daguan = await city.client("daguan")
    welcome, snapshot = await handshake(daguan)
    assert welcome.jurisdiction == [DAGUAN]
    assert [e.id for e in snapshot.events] == [daguan_case]
    ref = daguan.units.reference
    assert (ref.district, ref.district_name) == (DAGUAN, "大观区")
    assert len(ref.streets) == 9 and {s.code[:6] for s in ref.streets} == {DAGUAN}
    assert len(ref.grids) == 351 and {c.grid[:6] for c in ref.cameras} == {DAGUAN}
    assert ref.outline == city.server.reference.districts[DAGUAN][1]
    assert snapshot.kpis["district"].received == 1  # its own district's total, not the city's
    assert all(scope == "district" or scope[:6] == DAGUAN for scope in snapshot.kpis)

    yingjiang = await city.client("yingjiang")
    _, seen = await handshake(yingjiang)
    assert [e.id for e in seen.events] == [yingjiang_case]
    assert (yingjiang.units.reference.district_name, len(yingjiang.units.reference.grids)) == (
        "迎江区",
        340,
    )
    assert seen.kpis["district"].received == 1 and BINJIANG in seen.kpis

    wall = await city.client("yingjiang_wall")
    _, on_wall = await handshake(wall)
    assert [e.id for e in on_wall.events] == [yingjiang_case]

    again = await city.client("city")
    _, everything = await handshake(again)
    assert {e.id for e in everything.events} == {daguan_case, yingjiang_case}
    assert len(again.units.reference.streets) == 18
    assert len(again.units.reference.outline) == 2
    assert everything.kpis["district"].received == 2  # the city's
    assert LINGHU in everything.kpis and BINJIANG in everything.kpis

    # Live: each district's user gets its own district's deltas only.
    await boss.command("accept", {"event": yingjiang_case})
    await boss.command("accept", {"event": daguan_case})
    got = await daguan.until(lambda m: isinstance(m, Delta))
    assert isinstance(got, Delta) and got.data.id == daguan_case
    got = await yingjiang.until(lambda m: isinstance(m, Delta))
    assert isinstance(got, Delta) and got.data.id == yingjiang_case
    pushed = await daguan.until(lambda m: isinstance(m, Kpis) and m.scopes["district"].accepted)
    assert isinstance(pushed, Kpis) and not any(s[:6] == YINGJIANG for s in pushed.scopes)

    # Another district's case does not exist for a district user.
    refused = await daguan.command("dispatch", {"event": yingjiang_case, "assignee": "CGJ"})
    assert isinstance(refused, Error) and refused.code == ErrorCode.NOT_FOUND
    # A case goes to its own district's departments: 迎江区城管局 is 340802:CGJ.
    wrong = await yingjiang.command("dispatch", {"event": yingjiang_case, "assignee": "CGJ"})
    assert isinstance(wrong, Error) and wrong.code == ErrorCode.BAD_ARGS
    assert "CGJ (大观区城管局) is a department of 大观区" in wrong.message
    moved = await yingjiang.command("dispatch", {"event": yingjiang_case, "assignee": "340802:CGJ"})
    assert isinstance(moved, Result), moved

    # Figures by unit: a district user's units only; departments are the city's.
    rows = await ask(daguan, "community")
    assert isinstance(rows, Result) and {code[:6] for code in rows.data["rows"]} == {DAGUAN}
    grids = await ask(yingjiang, "grid")
    assert isinstance(grids, Result) and {c[:6] for c in grids.data["rows"]} == {YINGJIANG}
    forbidden = await ask(daguan, "department")
    assert isinstance(forbidden, Error) and forbidden.code == ErrorCode.FORBIDDEN
    everywhere = await ask(again, "community")
    assert isinstance(everywhere, Result)
    assert {code[:6] for code in everywhere.data["rows"]} == {DAGUAN, YINGJIANG}
    # Replay: resuming from the start gets 大观区's changes only, from the log.
    await daguan.ws.close()
    resumed = await city.client("daguan", Resume(epoch=welcome.epoch, seq=0))
    w2 = await resumed.recv()
    assert isinstance(w2, Welcome) and w2.resume == "replay"
    replayed = []
    while True:
        try:
            m = await resumed.recv(timeout=0.5)
        except TimeoutError:
            break
        if isinstance(m, Delta) and isinstance(m.data, Event):
            replayed.append(m.data)
    assert replayed and {e.street[:6] for e in replayed} == {DAGUAN}
    for client in (boss, resumed, yingjiang, wall, again):
        await client.ws.close()


def test_district_jurisdictions_are_checked(tmp_path) -> None:
    store = city_store(f"sqlite:///{tmp_path / 'users.db'}")
    with pytest.raises(ValueError, match="unknown district code"):
        store.create_user("宜秀区", "commander", ["340811"])
    with pytest.raises(ValueError, match="districts or streets"):
        store.create_user("混合", "commander", [DAGUAN, LINGHU])
    with pytest.raises(ValueError, match="a street user's jurisdiction is streets"):
        store.create_user("街道", "street", [DAGUAN])
    store.create_user("大屏", "wall", [YINGJIANG])
    assert store.update_user("大屏", codes=[DAGUAN, YINGJIANG]) is None
    account = next(a for a in store.accounts() if a.name == "大屏")
    assert sorted(account.jurisdiction) == [YINGJIANG, DAGUAN]
    with pytest.raises(ValueError, match="a street user's jurisdiction is streets"):
        store.update_user("大屏", role="street")
    store.close()


def test_the_command_line_loads_a_city_and_gives_district_users(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from dispatch.cli import main

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["--url", url, "load-district", "--districts", "340803,340811"]) == 2
    assert "unknown district 340811" in capsys.readouterr().err
    assert main(["--url", url, "load-district", "--districts", "340803,340802"]) == 0
    assert "of 340803,340802" in capsys.readouterr().out
    assert (
        main(["--url", url, "create-user", "迎江", "--role", "commander", "--district", "340802"])
        == 0
    )
    assert main(["--url", url, "create-user", "x", "--role", "street", "--district", "340802"]) == 2
    assert "street user's jurisdiction is streets" in capsys.readouterr().err
    assert main(["--url", url, "update-user", "迎江", "--district", "340803"]) == 0
    capsys.readouterr()
    assert main(["--url", url, "users"]) == 0
    assert "340803" in capsys.readouterr().out
    # A demo asks for districts it knows only.
    assert main(["--url", url, "demo", "--districts", "340803,340899"]) == 2
    # Back to the default: 大观区 alone.
    assert main(["--url", url, "load-district"]) == 0
    assert "of 340803 " in capsys.readouterr().out


async def test_an_admin_gives_a_district_user_over_the_wire(city: Running) -> None:
    from tests.dispatch.test_admin import admin_of, ask, create

    admin = await admin_of(city)
    made = await ask(admin, create("迎江区指挥长", "commander", [YINGJIANG]))
    assert isinstance(made, Result), made
    refused = await ask(admin, create("迎江街道", "street", [YINGJIANG]))
    assert isinstance(refused, Error) and refused.code == ErrorCode.BAD_ARGS
    assert "street user's jurisdiction is streets" in refused.message
    city.tokens["made"] = made.data["token"]
    boss = await city.client("made")
    welcome, _ = await handshake(boss)
    assert welcome.jurisdiction == [YINGJIANG] and welcome.role == "commander"
    assert boss.units.reference.district_name == "迎江区"
    for client in (admin, boss):
        await client.ws.close()


async def duty_delta(client: Client) -> Duty:
    """The next duty delta the client is sent (one that came with a command's answer is in
    its inbox already)."""
    for held in client.inbox:
        if isinstance(held, Delta) and isinstance(held.data, Duty):
            client.inbox.remove(held)
            return held.data
    got = await client.until(lambda m: isinstance(m, Delta) and isinstance(m.data, Duty))
    assert isinstance(got, Delta) and isinstance(got.data, Duty)
    return got.data


async def test_each_district_has_its_own_duty(city: Running) -> None:
    """Each district's centre hands over, instructs and notes on its own duty; its users
    see it and not the other's; the city user sees both, under the city's name."""
    daguan, yingjiang = await city.client("daguan"), await city.client("yingjiang_boss")
    await handshake(daguan)
    await handshake(yingjiang)
    ours = await daguan.command("handover", {"commander": "王建国"})
    theirs = await yingjiang.command("handover", {"commander": "孙明辉", "note": "迎江交班"})
    assert isinstance(ours, Result) and ours.data["district"] == DAGUAN, ours
    assert isinstance(theirs, Result) and theirs.data["district"] == YINGJIANG, theirs
    assert (await duty_delta(daguan)).commander.name == "王建国"
    assert (await duty_delta(yingjiang)).commander.name == "孙明辉"

    # A street user reads its district's duty board; a district's wall its own.
    linghu, binjiang = await city.client("linghu"), await city.client("binjiang")
    _, on_linghu = await handshake(linghu)
    _, on_binjiang = await handshake(binjiang)
    assert on_linghu.duty is not None and on_linghu.duty.commander.name == "王建国"
    assert on_linghu.duty.district == DAGUAN and on_linghu.duties == {}
    assert on_binjiang.duty is not None and on_binjiang.duty.commander.name == "孙明辉"
    wall = await city.client("yingjiang_wall")
    _, on_wall = await handshake(wall)
    assert on_wall.duty == on_binjiang.duty

    # The city's user: named after the city, every district's duty.
    boss = await city.client("city")
    _, everything = await handshake(boss)
    ref = boss.units.reference
    assert (ref.district, ref.district_name) == ("340800", "安庆市")
    assert ref.districts == {DAGUAN: "大观区", YINGJIANG: "迎江区"}
    assert everything.duty is not None and everything.duty.commander.name == "王建国"
    assert {d: duty.commander.name for d, duty in everything.duties.items()} == {
        DAGUAN: "王建国",
        YINGJIANG: "孙明辉",
    }

    # A user of both districts: the same order as its units (the store's), both duties.
    city.tokens["both"] = city.store.create_user("两区指挥长", "commander", [YINGJIANG, DAGUAN])
    both = await city.client("both")
    _, on_both = await handshake(both)
    assert list(both.units.reference.districts) == [DAGUAN, YINGJIANG]
    assert on_both.duty is not None and on_both.duty.district == DAGUAN
    assert set(on_both.duties) == {DAGUAN, YINGJIANG}
    await both.ws.close()

    # Live: 迎江区's instruction reaches 迎江区's users and the city's, not 大观区's.
    told = await yingjiang.command("instruct", {"text": "滨江沿线加强巡查"})
    assert isinstance(told, Result), told
    assert (await duty_delta(binjiang)).instructions[-1].text == "滨江沿线加强巡查"
    seen = await duty_delta(boss)
    assert seen.district == YINGJIANG and seen.instructions[-1].text == "滨江沿线加强巡查"
    await daguan.command("shift_note", {"text": "大观区交班记录"})
    mine = await duty_delta(linghu)
    assert mine.district == DAGUAN and mine.note is not None and not mine.instructions
    assert (await duty_delta(boss)).district == DAGUAN

    # The city's user names the district: without one, which is not clear.
    named = await boss.command("instruct", {"text": "全市注意防汛", "district": YINGJIANG})
    assert isinstance(named, Result), named
    assert city.server.state.duties[YINGJIANG].instructions[-1].text == "全市注意防汛"
    unnamed = await boss.command("instruct", {"text": "全市注意防汛"})
    assert isinstance(unnamed, Error) and unnamed.code == ErrorCode.BAD_ARGS
    assert unnamed.message == (
        "the backend serves the districts 340803, 340802: name the district whose duty this "
        "is (district)"
    )

    # Refused, nothing changed: another district's duty, an unknown one, a malformed one.
    before = dict(city.server.state.duties)
    refused = await daguan.command("handover", {"commander": "张三", "district": YINGJIANG})
    assert isinstance(refused, Error) and refused.code == ErrorCode.FORBIDDEN
    assert refused.message == "district '340802' is outside your jurisdiction (340803)"
    unknown = await boss.command("shift_note", {"text": "x", "district": "340811"})
    assert isinstance(unknown, Error) and unknown.code == ErrorCode.BAD_ARGS
    assert unknown.message == "the backend serves no district '340811' (it serves 340803, 340802)"
    city.tokens["street_boss"] = city.store.create_user("菱湖指挥", "commander", [LINGHU])
    partial = await city.client("street_boss")
    await handshake(partial)
    some_streets = await partial.command("shift_note", {"text": "只管菱湖"})
    assert isinstance(some_streets, Error) and some_streets.code == ErrorCode.FORBIDDEN
    assert (
        some_streets.message == "the duty is the whole district's: not for a user of some streets"
    )
    await partial.ws.close()
    malformed = await boss.command("handover", {"commander": "张三", "district": "34080"})
    assert isinstance(malformed, Error) and malformed.code == ErrorCode.BAD_ARGS
    assert city.server.state.duties == before

    # What the store keeps: each district's duty, as a restart reads it.
    _, _, stored, _, _ = city.store.load_state(0.0)
    assert stored == city.server.state.duties
    for client in (daguan, yingjiang, linghu, binjiang, wall, boss):
        await client.ws.close()


async def test_each_district_plans_its_own_duty(city: Running) -> None:
    """排班 per district: the city's admin names the district; a district's commander
    reads its own; nothing of one district's plan shows in the other's."""
    admin = await admin_of(city)
    chief = Person(name="孙明辉", title="副区长")
    staff = [Person(name="郭亮", title="值班长")]
    day = local(city.server.clock.now()).strftime("%Y-%m-%d")
    stored = await ask_admin(
        admin, SetRoster(id=0, day=day, commander=chief, roster=staff, district=YINGJIANG)
    )
    assert isinstance(stored, Result) and stored.data["planned"], stored
    theirs = await city.client("yingjiang_boss")
    await handshake(theirs)
    read = await ask_admin(theirs, Roster(id=0, first=day, last=day))
    assert isinstance(read, Result)
    assert [(d["district"], d["commander"]["name"]) for d in read.data["days"]] == [
        (YINGJIANG, "孙明辉")
    ]
    ours = await city.client("daguan")
    await handshake(ours)
    empty = await ask_admin(ours, Roster(id=0, first=day, last=day))
    assert isinstance(empty, Result) and empty.data["days"] == []
    # The district's handover takes its plan's roster.
    done = await theirs.command("handover", {"commander": "孙明辉"})
    assert isinstance(done, Result), done
    assert [p.name for p in city.server.state.duties[YINGJIANG].roster] == ["郭亮"]
    # Another district's plan is not for this commander to read.
    refused = await ask_admin(ours, Roster(id=0, first=day, last=day, district=YINGJIANG))
    assert isinstance(refused, Error) and refused.code == ErrorCode.FORBIDDEN
    for client in (admin, theirs, ours):
        await client.ws.close()


async def test_each_district_has_its_own_shifts_and_handover_reports(city: Running) -> None:
    """A district's shifts are its centre's handovers; its report covers its cases, under
    its name; a district's user reads its own, a street's none."""
    from dispatch.handover import district_shifts, make
    from protocol.messages import Download, Shifts

    daguan, yingjiang = await city.client("daguan"), await city.client("yingjiang_boss")
    await handshake(daguan)
    await handshake(yingjiang)
    assert isinstance(await daguan.command("handover", {"commander": "王建国"}), Result)
    # 大观区's case open before 迎江区's shift began, and one reported during it.
    ours = await daguan.command("report", report(city, LINGHU, "大观区菱湖的积水"))
    assert isinstance(await yingjiang.command("handover", {"commander": "孙明辉"}), Result)
    later = await daguan.command("report", report(city, LINGHU, "大观区菱湖的倒树"))
    assert isinstance(later, Result)
    theirs = await yingjiang.command("report", report(city, BINJIANG, "迎江区滨江的积水"))
    assert isinstance(ours, Result) and isinstance(theirs, Result)
    assert isinstance(await yingjiang.command("handover", {"commander": "马卫东"}), Result)

    day = local(city.server.clock.now()).strftime("%Y-%m-%d")
    listed = await ask_admin(yingjiang, Shifts(id=0, first=day, last=day))
    assert isinstance(listed, Result), listed
    assert [s["commander"] for s in listed.data["shifts"]] == ["马卫东", "孙明辉"]
    mine = await ask_admin(daguan, Shifts(id=0, first=day, last=day))
    assert isinstance(mine, Result) and [s["commander"] for s in mine.data["shifts"]] == ["王建国"]
    ended = listed.data["shifts"][1]["start"]
    made = await ask_admin(yingjiang, Download(id=0, report="handover", format="html", shift=ended))
    assert isinstance(made, Result) and made.data["name"].startswith("交接班报告-340802-"), made

    # The page: 迎江区's, with its case and not 大观区's.
    held = list(city.server.reference.districts)
    shift = district_shifts(city.store, YINGJIANG, held)[0]
    page = make(city.store, city.server.reference, shift, "html", city.server.clock.now())
    text = page.decode()
    assert "迎江区" in text and "迎江区滨江的积水" in text
    assert "大观区菱湖的积水" not in text and "大观区菱湖的倒树" not in text

    # Refused: another district's shifts; a street's user.
    refused = await ask_admin(daguan, Shifts(id=0, first=day, last=day, district=YINGJIANG))
    assert isinstance(refused, Error) and refused.code == ErrorCode.FORBIDDEN
    street = await city.client("binjiang")
    await handshake(street)
    forbidden = await ask_admin(street, Shifts(id=0, first=day, last=day))
    assert isinstance(forbidden, Error) and forbidden.code == ErrorCode.FORBIDDEN
    for client in (daguan, yingjiang, street):
        await client.ws.close()


async def test_a_duty_row_from_before_districts_had_their_own_is_the_first_districts(
    tmp_path,
) -> None:  # type: ignore[no-untyped-def]
    """The log is append-only: a duty's row written before each district had its own duty
    is filed under "" and stays so; resuming and replaying read it as the first district's
    (大观区's users get it, 迎江区's do not)."""
    import time

    from dispatch.state import Change
    from protocol.messages import Replay

    store = city_store(f"sqlite:///{tmp_path / 'legacy.db'}")
    now = time.time()
    old = Duty(
        day=local(now).strftime("%Y-%m-%d"),
        commander=Person(name="老指挥长", title="副区长"),
        roster=[],
        handover_at=now,
    )
    store.commit([Change("duty", 0, "", "handover", "区联动中心", now, None, old)])
    tokens = {
        "linghu": store.create_user("菱湖分中心", "street", [LINGHU]),
        "binjiang": store.create_user("滨江分中心", "street", [BINJIANG]),
        "yingjiang": store.create_user("迎江区调度员", "dispatcher", [YINGJIANG]),
    }
    if "ref" not in _references:
        _references["ref"] = load_reference(store)
    server = DispatchServer(store, _references["ref"])
    running = Running(server, store, await server.start("127.0.0.1", 0), tokens)
    try:
        epoch = server.hub.epoch if server.hub is not None else ""

        async def resumed(name: str) -> list[Duty]:
            client = await running.client(name, Resume(epoch=epoch, seq=0))
            duties = []
            while True:
                try:
                    message = await client.recv(timeout=0.5)
                except TimeoutError:
                    break
                if isinstance(message, Delta) and isinstance(message.data, Duty):
                    duties.append(message.data)
            await client.ws.close()
            return duties

        assert [d.commander.name for d in await resumed("linghu")] == ["老指挥长"]
        assert await resumed("binjiang") == []
        theirs = await running.client("yingjiang")
        await handshake(theirs)
        page = await ask_admin(theirs, Replay(id=0, from_seq=0, to_seq=1))
        assert isinstance(page, Result) and page.data["deltas"] == []
        await theirs.ws.close()
    finally:
        await server.stop()
        store.close()


def test_the_first_district_of_a_database_with_a_log_stays_first(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """Its duty history is filed under it (id 0, and "" from before the districts): another
    district put first would take that history, so load-district refuses, changing nothing."""
    from dispatch.cli import main
    from dispatch.state import Change
    from tests import factories

    url = f"sqlite:///{tmp_path / 'first.db'}"
    store = city_store(url)
    event = factories.make_event(1)
    store.commit([Change("event", 1, event.street, "report", "t", 0.0, None, event)])
    units = store.unit_rows("district")
    assert main(["--url", url, "load-district", "--districts", "340802,340803"]) == 2
    err = capsys.readouterr().err
    assert "340803 as its first district" in err and "--districts 340803,340802" in err
    assert main(["--url", url, "load-district", "--districts", "340802"]) == 2
    assert "--districts 340803,340802" in capsys.readouterr().err
    assert store.meta("district") == DAGUAN and store.unit_rows("district") == units
    assert store.head()[0] == 1  # the log untouched
    # The same first district, the others in any order: loaded.
    assert main(["--url", url, "load-district", "--districts", "340803,340802"]) == 0
    store.close()
