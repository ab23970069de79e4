"""The reports of a city store name each case's category from its own district's table:
大观区 and 迎江区 in one store, 迎江区's 01-02 renamed and a category only 迎江区 has; the
weekly report's topics keep the two districts' categories apart, each labelled with its
district, and each district's handover report names its cases' categories, and its alerts'
detection kinds, its own way. The exports filter by a code of any table the user (on the
command line: the store) sees."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from dispatch.app import load_reference
from dispatch.cli import main
from dispatch.handover import district_shifts, make
from dispatch.reference import local
from dispatch.server import DispatchServer
from dispatch.weekly import WEEK, gather, week_start
from protocol.messages import Download, Error, Result
from tests.dispatch.conftest import LINGHU, Running, detect_by
from tests.dispatch.test_city import BINJIANG, DAGUAN, YINGJIANG, city_store, report
from tests.dispatch.test_handover import ask
from tests.dispatch.test_http_and_audit import http_get
from tests.dispatch.test_server import handshake
from tests.dispatch.test_tables import default_file
from tests.dispatch.test_weekly import HOUR, MONDAY
from tests.factories import make_event

RENAMED = "江岸暴露垃圾"  # 迎江区's name of 01-02 (大观区's: 暴露垃圾)
OWN = "江滩漂浮垃圾"  # 01-97, in 迎江区's table only
KIND = "江岸垃圾识别"  # 迎江区's name of the detection kind exposed_garbage (大观区's: 暴露垃圾)
CALLER = "王先生 13812345678"


def yingjiang_table(tmp_path: Path) -> Path:
    """The default table with 01-02 renamed, 01-97 added and the detection kind
    exposed_garbage renamed, as 迎江区 would load it."""
    table: dict[str, Any] = default_file()
    rubbish = next(c for c in table["categories"] if c["code"] == "01-02")
    rubbish["name"] = RENAMED
    table["categories"].append({**rubbish, "code": "01-97", "name": OWN})
    kind = next(k for k in table["camera_kinds"] if k["code"] == "exposed_garbage")
    kind["name"] = KIND
    path = tmp_path / "迎江.json"
    path.write_text(json.dumps(table, ensure_ascii=False), "utf-8")
    return path


@pytest.fixture
async def city(tmp_path: Path) -> AsyncIterator[Running]:
    """A city server whose 迎江区 has loaded its own table (its reference read after)."""
    url = f"sqlite:///{tmp_path / 'city.db'}"
    store = city_store(url)
    loaded = ["--url", url, "load-categories", str(yingjiang_table(tmp_path))]
    assert main([*loaded, "--district", YINGJIANG]) == 0
    tokens = {
        "city": store.create_user("市指挥长", "commander"),
        "daguan": store.create_user("大观区指挥长", "commander", [DAGUAN]),
        "yingjiang": store.create_user("迎江区值班指挥长", "commander", [YINGJIANG]),
    }
    server = DispatchServer(store, load_reference(store))
    port = await server.start("127.0.0.1", 0)
    yield Running(server, store, port, tokens)
    await server.stop()
    store.close()


async def reported(client: Any, city: Running, street: str, category: str, **more: str) -> str:
    """Report a case; its code."""
    args = {**report(city, street, "市民反映的问题"), "category": category, **more}
    made = await client.command("report", args)
    assert isinstance(made, Result), made
    return city.server.state.events[int(made.data["event"])].code


async def hand_over(clients: Any, commanders: tuple[str, str]) -> None:
    """Each district's duty handed over, 大观区's to the first commander, 迎江区's to the
    second."""
    for client, commander in zip(clients, commanders, strict=True):
        assert isinstance(await client.command("handover", {"commander": commander}), Result)


def first_shift_pages(city: Running) -> dict[str, str]:
    """Each district's handover report (HTML) of its first shift."""
    held = list(city.server.reference.districts)
    now = city.server.clock.now()
    return {
        district: make(
            city.store,
            city.server.reference,
            district_shifts(city.store, district, held)[0],
            "html",
            now,
        ).decode()
        for district in (DAGUAN, YINGJIANG)
    }


def category_cells(page: str) -> dict[str, str]:
    """Each listed case's category cell, by its code (the cells follow one another)."""
    return dict(re.findall(r"<td>((?:DG|YJ)-\d{8}-\d{6})</td><td>([^<]*)</td>", page))


async def test_each_case_is_named_by_its_own_districts_table(
    city: Running, tmp_path: Path, capsys: Any
) -> None:
    daguan, yingjiang = await city.client("daguan"), await city.client("yingjiang")
    await handshake(daguan)
    await handshake(yingjiang)
    await hand_over((daguan, yingjiang), ("王建国", "孙明辉"))
    # One caller in both districts; 迎江区's 01-02 twice in one grid (一事多诉).
    ours = await reported(daguan, city, LINGHU, "01-02", reporter=CALLER)
    renamed = await reported(yingjiang, city, BINJIANG, "01-02", reporter=CALLER)
    again = await reported(yingjiang, city, BINJIANG, "01-02")
    own = await reported(yingjiang, city, BINJIANG, "01-97")
    await hand_over((daguan, yingjiang), ("李强", "马卫东"))

    # Each district's handover report: its cases by its own table's names.
    now = city.server.clock.now()
    pages = first_shift_pages(city)
    assert category_cells(pages[YINGJIANG]) == {renamed: RENAMED, again: RENAMED, own: OWN}
    assert category_cells(pages[DAGUAN]) == {ours: "暴露垃圾"}
    assert RENAMED not in pages[DAGUAN] and "01-97" not in pages[YINGJIANG]

    # The weekly report: one topic per district's category, labelled with its district.
    start = week_start(local(now).date())
    week = gather(
        city.store.events_reported(start - WEEK, start + WEEK), city.server.reference, start, now
    )
    assert week.topics[0] == (f"{RENAMED}（迎江区）", 2, 0)  # the most cases first
    assert set(week.topics[1:]) == {("暴露垃圾（大观区）", 1, 0), (f"{OWN}（迎江区）", 1, 0)}
    [matter] = week.same_matter
    assert matter.what == f"{RENAMED}（迎江区）" and {e.code for e in matter.cases} == {
        renamed,
        again,
    }
    [caller] = week.same_caller
    assert caller.what == f"暴露垃圾（大观区）、{RENAMED}（迎江区）"

    # The command writes the same names on the page.
    out = tmp_path / "week.html"
    url = str(city.store.url)
    day = f"{local(now):%Y-%m-%d}"
    assert main(["--url", url, "weekly-report", str(out), "--week", day]) == 0
    assert "4 case(s)" in capsys.readouterr().out
    page = out.read_text("utf-8")
    assert "民声快报 · 安庆市" in page  # the city's week
    for label in ("暴露垃圾（大观区）", f"{RENAMED}（迎江区）", f"{OWN}（迎江区）"):
        assert f"<td>{label}</td>" in page
    assert "01-97" not in page
    for client in (daguan, yingjiang):
        await client.ws.close()


def test_a_city_store_from_before_counts_each_districts_cases_apart(tmp_path: Path) -> None:
    # 迎江区 without a table of its own uses 大观区's: its cases are named from that one,
    # and still counted as 迎江区's.
    store = city_store(f"sqlite:///{tmp_path / 'old.db'}")
    kept = [
        row
        for kind in ("district", "street", "community", "grid", "camera")
        for row in store.unit_rows(kind)
    ]
    shared = [
        row for kind in ("department", "category", "detection") for row in store.unit_rows(kind)
    ]
    store.save_units(kept + [row for row in shared if ":" not in row[1]])
    reference = load_reference(store)
    store.close()
    assert reference.categories_of(BINJIANG) is reference.categories
    grid = next(g for g in reference.grids.values() if g.street == BINJIANG)
    theirs = {"grid": grid.code, "community": grid.community, "street": BINJIANG}
    cases = [
        make_event(1, reported_at=MONDAY + 9 * HOUR),
        make_event(2, reported_at=MONDAY + 10 * HOUR, **theirs),
        make_event(3, reported_at=MONDAY + 11 * HOUR, **theirs),
    ]
    week = gather(cases, reference, MONDAY, MONDAY + WEEK)
    assert week.topics == [("暴露垃圾（迎江区）", 2, 0), ("暴露垃圾（大观区）", 1, 0)]


async def test_each_alert_is_named_by_its_own_districts_kinds(city: Running) -> None:
    daguan, yingjiang = await city.client("daguan"), await city.client("yingjiang")
    await handshake(daguan)
    await handshake(yingjiang)
    reference = city.server.reference
    # The merged names: 迎江区's, the later district's, for the kind both have.
    assert reference.reference.detections["exposed_garbage"] == KIND
    await hand_over((daguan, yingjiang), ("王建国", "孙明辉"))
    reasons = {DAGUAN: "大观区的误报", YINGJIANG: "迎江区的误报"}
    for client, district in ((daguan, DAGUAN), (yingjiang, YINGJIANG)):
        camera = next(c for c in reference.cameras.values() if c.street[:6] == district)
        alert = await detect_by(city, camera.code)  # an exposed_garbage
        dismissed = await client.command(
            "dismiss_alert", {"alert": alert, "reason": reasons[district]}
        )
        assert isinstance(dismissed, Result), dismissed
    await hand_over((daguan, yingjiang), ("李强", "马卫东"))

    # Each district's report names its alert's kind as its own district names it.
    pages = first_shift_pages(city)
    for district, name in ((DAGUAN, "暴露垃圾"), (YINGJIANG, KIND)):
        cells = re.findall(rf"<td>([^<]*)</td><td>{reasons[district]}</td>", pages[district])
        assert cells == [name]
    assert KIND not in pages[DAGUAN] and reasons[YINGJIANG] not in pages[DAGUAN]
    for client in (daguan, yingjiang):
        await client.ws.close()


async def test_an_export_filters_by_the_tables_the_user_sees(
    city: Running, tmp_path: Path, capsys: Any
) -> None:
    users = ("city", "daguan", "yingjiang")
    clients = {user: await city.client(user) for user in users}
    for client in clients.values():
        await handshake(client)
    ours = await reported(clients["daguan"], city, LINGHU, "01-02")
    renamed = await reported(clients["yingjiang"], city, BINJIANG, "01-02")
    own = await reported(clients["yingjiang"], city, BINJIANG, "01-97")
    day = f"{local(city.server.clock.now()):%Y-%m-%d}"
    ids = iter(range(100, 200))

    def asked(category: str) -> Download:
        return Download(
            id=next(ids), report="export", format="csv", first=day, last=day, category=[category]
        )

    async def exported(user: str, category: str) -> dict[str, str]:
        """The cases a user's export of a category holds, with their category's names."""
        got = await ask(clients[user], asked(category))
        assert isinstance(got, Result), got
        status, body, _ = await asyncio.to_thread(
            http_get, city.port, got.data["path"], city.tokens[user]
        )
        assert status == 200
        rows = csv.DictReader(io.StringIO(body.decode("utf-8-sig")))
        return {row["案件编号"]: row["类别"] for row in rows}

    # A code only 迎江区's table has: its users' and the city's.
    assert await exported("yingjiang", "01-97") == {own: OWN}
    assert await exported("city", "01-97") == {own: OWN}
    # A bare code: that category in every district the user sees, each named its own way.
    assert await exported("city", "01-02") == {ours: "暴露垃圾", renamed: RENAMED}
    assert await exported("yingjiang", "01-02") == {renamed: RENAMED}
    assert await exported("daguan", "01-02") == {ours: "暴露垃圾"}

    # A code no table the user sees has: refused, and nothing to fetch.
    downloads = city.server.downloads
    for user, category in (("daguan", "01-97"), ("city", "01-96")):
        held = set(downloads.tickets)
        reply = await ask(clients[user], asked(category))
        assert isinstance(reply, Error), reply
        assert (reply.code, reply.message) == ("bad_args", f"unknown category {category}")
        assert set(downloads.tickets) == held
    log = await asyncio.to_thread(city.store.admin_log, 50)
    refused = {(e.actor, e.outcome) for e in log if e.action == "download" and e.outcome != "ok"}
    assert refused == {("市指挥长", "bad_args"), ("大观区指挥长", "bad_args")}

    # The command line: the store's every table.
    url = str(city.store.url)
    out = tmp_path / "迎江.csv"
    args = ["--url", url, "export", str(out), "--from", day, "--to", day]
    assert main([*args, "--category", "01-97"]) == 0
    assert "1 case(s)" in capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    assert [(r["案件编号"], r["类别"]) for r in rows] == [(own, OWN)]
    assert main([*args, "--category", "01-02"]) == 0
    assert "2 case(s)" in capsys.readouterr().out
    out.unlink()
    assert main([*args, "--category", "01-96"]) == 2
    assert "error: unknown category 01-96" in capsys.readouterr().err
    assert not out.exists()
    for client in clients.values():
        await client.ws.close()
