"""A city of districts over the wire: one server, 大观区 and 迎江区 in one store; a district
user sees its district only, the city user both (a real server on port 0, SQLite)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from dispatch.app import load_reference, prepare
from dispatch.reference import ReferenceData
from dispatch.server import DispatchServer
from dispatch.store.store import Store
from protocol.codes import ErrorCode
from protocol.entities import Event
from protocol.messages import Delta, Error, Kpis, Result, Resume, Welcome
from tests.dispatch.conftest import LINGHU, Running, point_in
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
    # A case goes to its own district's departments: 迎江区's 区城管局 is 340802:CGJ.
    wrong = await yingjiang.command("dispatch", {"event": yingjiang_case, "assignee": "CGJ"})
    assert isinstance(wrong, Error) and wrong.code == ErrorCode.BAD_ARGS
    assert "CGJ (区城管局) is a department of 大观区" in wrong.message
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
