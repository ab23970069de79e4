"""Departments and category tables per district: 大观区 and 迎江区 in one store, each with its
own 区城管局 and its own table; the rules read a case's category in its own district's table;
an admin changes its own district's table (a city admin names one)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from dispatch.app import (
    CATEGORIES_ORIGIN,
    CATEGORIES_VERSION,
    city_units,
    load_district,
    load_reference,
    prepare,
    stored_table,
    units_digest,
)
from dispatch.server import DispatchServer
from dispatch.store.store import Store
from protocol.codes import ErrorCode
from protocol.entities import Category, CategoryLimit
from protocol.messages import Error, LoadCategories, Result
from tests.dispatch.conftest import LINGHU, Running
from tests.dispatch.test_admin import ask
from tests.dispatch.test_city import BINJIANG, DAGUAN, YINGJIANG, city_store, report
from tests.dispatch.test_server import handshake
from tests.dispatch.test_tables import default_file, edit, packed, pushed

HALF_HOUR = CategoryLimit(amount=0.5, unit="hour")


def test_the_default_store_is_unchanged() -> None:
    # 大观区 alone: bare department codes, one table, no district on anything.
    rows = city_units()
    assert units_digest(rows) == "56bf0cc1f4ae257e"
    assert not any(":" in code for _, code, _, _, _ in rows)


@pytest.fixture
async def city(tmp_path) -> AsyncIterator[Running]:  # type: ignore[no-untyped-def]
    """A city server with its own reference (the tests change its tables)."""
    store = city_store(f"sqlite:///{tmp_path / 'city.db'}")
    tokens = {
        "city_admin": store.create_user("市管理员", "admin"),
        "yingjiang_admin": store.create_user("迎江区管理员", "admin", [YINGJIANG]),
        "city": store.create_user("市指挥长", "commander"),
        "daguan": store.create_user("大观区指挥长", "commander", [DAGUAN]),
        "yingjiang": store.create_user("迎江区调度员", "dispatcher", [YINGJIANG]),
    }
    server = DispatchServer(store, load_reference(store))
    port = await server.start("127.0.0.1", 0)
    yield Running(server, store, port, tokens)
    await server.stop()
    store.close()


def accept_limit(categories: list[Category], code: str = "01-02") -> CategoryLimit:
    return next(c for c in categories if c.code == code).limits["accept"]


async def test_each_district_has_its_own_table_and_departments(city: Running) -> None:
    boss = await city.client("city")
    await handshake(boss)
    ref = boss.units.reference
    both = {(c.district, c.code) for c in ref.categories}
    # The city's user: every district's, each naming its district (the first's too).
    assert (DAGUAN, "01-02") in both and (YINGJIANG, "01-02") in both
    assert {d.district for d in ref.departments} == {DAGUAN, YINGJIANG}
    assert {d.code for d in ref.departments} >= {"CGJ", "340802:CGJ"}
    yingjiang = await city.client("yingjiang")
    await handshake(yingjiang)
    theirs = yingjiang.units.reference
    assert {c.district for c in theirs.categories} == {YINGJIANG}
    assert all(c.department.startswith("340802:") for c in theirs.categories if c.department)
    assert {d.district for d in theirs.departments} == {YINGJIANG}
    daguan = await city.client("daguan")
    await handshake(daguan)
    ours = daguan.units.reference
    assert {c.district for c in ours.categories} == {""} and len(ours.categories) == len(
        theirs.categories
    )
    assert "CGJ" in {d.code for d in ours.departments}

    # The city admin names the district; a district admin acts on its own.
    admin = await city.client("city_admin")
    await handshake(admin)
    limits = {"accept": "30m", "dispatch": "1h", "handle": "4h", "verify": "1h"}
    ambiguous = await ask(admin, edit(limits=limits))
    assert isinstance(ambiguous, Error) and ambiguous.code == ErrorCode.BAD_ARGS
    assert ambiguous.message == (
        "the backend serves the districts 340803, 340802: name the district whose category "
        "table this is (district)"
    )
    unknown = await ask(admin, edit(limits=limits, district="340811"))
    assert isinstance(unknown, Error) and unknown.code == ErrorCode.BAD_ARGS
    assert "serves no district '340811'" in unknown.message
    done = await ask(admin, edit(limits=limits, district=YINGJIANG))
    assert isinstance(done, Result) and done.data["changed"] == ["01-02"], done

    # Only 迎江区's 01-02 changed, stored under its key, its department its own.
    categories, _ = stored_table(city.store, YINGJIANG)
    mine = next(c for c in categories if c.code == "01-02")
    assert mine.limits["accept"] == HALF_HOUR and mine.department == "340802:CGJ"
    assert accept_limit(stored_table(city.store)[0]) != HALF_HOUR
    assert city.store.meta(f"{CATEGORIES_ORIGIN}:340802") == "set 01-02 by 市管理员"
    assert city.store.meta(CATEGORIES_ORIGIN) == "default"
    # Each client is sent its own district's table (the city's user both).
    news = await pushed(yingjiang)
    assert {c.district for c in news.categories} == {YINGJIANG}
    assert accept_limit(news.categories) == HALF_HOUR
    unchanged = await pushed(daguan)
    assert accept_limit(unchanged.categories) == accept_limit(ours.categories)
    everything = await pushed(boss)
    assert len(everything.categories) == len(ref.categories)

    # The rules read a case's category in its own district's table.
    served = city.server.reference
    for street, limit in ((BINJIANG, HALF_HOUR), (LINGHU, accept_limit(ours.categories))):
        made = await boss.command("report", report(city, street, "暴露垃圾"))
        assert isinstance(made, Result), made
        case = city.server.state.events[int(made.data["event"])]
        assert case.deadline == served.deadline(float(int(case.reported_at)), limit, "working")

    # 迎江区's admin: its own district by default; another district's is not its to change.
    local = await city.client("yingjiang_admin")
    await handshake(local)
    forbidden = await ask(local, edit(district=DAGUAN))
    assert isinstance(forbidden, Error) and forbidden.code == ErrorCode.FORBIDDEN
    assert forbidden.message == "district '340803' is outside your jurisdiction (340802)"
    # (its department as the table file names it, or as its units carry it)
    own = await ask(local, edit("01-03", name="乱扔垃圾", department="340802:CGJ"))
    assert isinstance(own, Result) and own.data["changed"] == ["01-03"], own
    assert next(c for c in stored_table(city.store, YINGJIANG)[0] if c.code == "01-03").name == (
        "乱扔垃圾"
    )
    assert next(c for c in stored_table(city.store)[0] if c.code == "01-03").name != "乱扔垃圾"

    # A restart reads the same tables (the same units' versions).
    fresh = load_reference(city.store)
    for scope in (None, frozenset({YINGJIANG}), frozenset({DAGUAN})):
        assert fresh.units_frame(scope)[0] == served.units_frame(scope)[0]
    for client in (boss, yingjiang, daguan, admin, local):
        await client.ws.close()


async def test_a_district_table_is_refused_only_for_its_own_cases(city: Running) -> None:
    boss = await city.client("city")
    await handshake(boss)
    admin = await city.client("city_admin")
    await handshake(admin)
    # 大观区 has a case of 01-01: 迎江区 may still drop 01-01 from its own table.
    made = await boss.command("report", report(city, LINGHU, "大观区的"))
    assert isinstance(made, Result)
    table = default_file()
    table["categories"] = [c for c in table["categories"] if c["code"] != "01-01"]
    data = packed(json.dumps(table, ensure_ascii=False).encode())
    dropped = await ask(
        admin, LoadCategories(id=0, file="t.json", content=data, district=YINGJIANG)
    )
    assert isinstance(dropped, Result) and dropped.data["removed"] == ["01-01"], dropped
    # Now 迎江区 has no 01-01: a report there is refused; 大观区 has it still.
    refused = await boss.command(
        "report", {**report(city, BINJIANG, "迎江区的"), "category": "01-01"}
    )
    assert isinstance(refused, Error) and refused.message == "unknown category '01-01'"
    again = await boss.command("report", {**report(city, LINGHU, "大观区的"), "category": "01-01"})
    assert isinstance(again, Result)
    # A 迎江区 case of 01-04 keeps 01-04 in 迎江区's table.
    args: dict[str, Any] = {**report(city, BINJIANG, "迎江区的"), "category": "01-04"}
    theirs = await boss.command("report", args)
    assert isinstance(theirs, Result)
    table["categories"] = [c for c in table["categories"] if c["code"] != "01-04"]
    data = packed(json.dumps(table, ensure_ascii=False).encode())
    kept = await ask(admin, LoadCategories(id=0, file="t.json", content=data, district=YINGJIANG))
    assert isinstance(kept, Error) and kept.code == ErrorCode.BAD_ARGS
    assert "stored events use categories the table drops: 01-04 (1 events)" in kept.message
    # A case is dispatched to its own district's departments only.
    case = int(theirs.data["event"])
    await boss.command("accept", {"event": case})
    wrong = await boss.command(
        "dispatch", {"event": case, "assignee": "340802:CGJ", "assist": ["ZJJ"]}
    )
    assert isinstance(wrong, Error) and wrong.code == ErrorCode.BAD_ARGS
    assert wrong.message.startswith(
        "ZJJ (大观区住建局) is a department of 大观区, not of event YJ-"
    )
    right = await boss.command(
        "dispatch",
        {"event": case, "assignee": "340802:CGJ", "assist": ["340802:ZJJ", "网格员 张三"]},
    )
    assert isinstance(right, Result), right
    for client in (boss, admin):
        await client.ws.close()


def test_the_command_line_loads_a_districts_table(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from dispatch.cli import main

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = Store(url)
    prepare(store, codes=(DAGUAN, YINGJIANG))
    table = default_file()
    lane = next(c for c in table["categories"] if c["code"] == "01-04")
    lane["limits"]["handle"] = "3d"
    path = tmp_path / "迎江.json"
    path.write_text(json.dumps(table, ensure_ascii=False), "utf-8")
    first = store.meta(CATEGORIES_VERSION)

    assert main(["--url", url, "load-categories", str(path), "--district", "340811"]) == 2
    err = capsys.readouterr().err
    assert "error: the database holds no district '340811': it holds 340802, 340803" in err
    assert main(["--url", url, "load-categories", str(path), "--district", YINGJIANG]) == 0
    out = capsys.readouterr().out
    assert "as 340802's table: 0 added, 1 changed, 0 removed" in out
    assert store.meta(CATEGORIES_VERSION) == first  # 大观区's untouched
    assert store.meta(f"{CATEGORIES_ORIGIN}:340802") == "loaded from 迎江.json"
    version = store.meta(f"{CATEGORIES_VERSION}:340802")
    assert version is not None and version in out

    def handle_days(code: str) -> float:
        reference = load_reference(store)
        return reference.category(code, "01-04").limits["handle"].amount  # type: ignore[union-attr]

    assert (handle_days("340802006"), handle_days(LINGHU)) == (3, 2)
    # Neither a start nor a new load-district of the same city overwrites it.
    prepare(store, codes=(DAGUAN, YINGJIANG))
    load_district(store, codes=(DAGUAN, YINGJIANG))
    assert store.meta(f"{CATEGORIES_VERSION}:340802") == version
    assert handle_days("340802006") == 3
    # A table naming a department 迎江区 lacks is refused with the district's own list.
    lane["department"] = "XXJ"
    path.write_text(json.dumps(table, ensure_ascii=False), "utf-8")
    assert main(["--url", url, "load-categories", str(path), "--district", YINGJIANG]) == 2
    assert "unknown department 'XXJ'" in capsys.readouterr().err
    store.close()


def test_a_city_store_from_before_keeps_working(tmp_path: Path) -> None:
    # A city store made before the tables were per district: 迎江区 has no departments
    # or table of its own, and uses 大观区's until it is loaded again.
    store = Store(f"sqlite:///{tmp_path / 'old.db'}")
    prepare(store, codes=(DAGUAN, YINGJIANG))
    rows = [
        row for kind in ("department", "category", "detection") for row in store.unit_rows(kind)
    ]
    kept = [row for row in store.unit_rows("district")]
    for kind in ("street", "community", "grid", "camera"):
        kept += store.unit_rows(kind)
    store.save_units(kept + [row for row in rows if ":" not in row[1]])
    assert not any(":" in code for _, code, _, _, _ in store.unit_rows("category"))
    prepare(store, codes=(DAGUAN, YINGJIANG))  # no departments of its own: not refreshed
    reference = load_reference(store)
    assert reference.categories_of("340802006") is reference.categories
    assert reference.department_for("340802006", "CGJ") == "CGJ"
    view = reference.view(frozenset({YINGJIANG}))
    assert len(view.categories) == len(reference.categories) and view.departments
    store.close()


def test_unit_rows_outside_their_key_are_refused(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    prepare(store)
    doc = msgspec.json.encode({"code": "x"})
    with pytest.raises(ValueError, match="outside their district's key '340802:'"):
        store.replace_categories([("category", "01-02", "c", "n", doc)], {}, scope="340802:")
    store.close()
