"""§6.8 (history) and §6.9 (the admin requests) were captured from backends on a fresh
database with the test users (tests/dispatch/conftest.py): replayed here the same way."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import io
import json
import re
import zlib
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed

from dispatch.cli import main as dispatch_cli
from dispatch.clock import Clock
from dispatch.domain.calendar import CST
from dispatch.hub import CREDENTIALS_CHANGED
from dispatch.intake.platform import FakePlatform
from dispatch.store.store import Store
from protocol.codes import CloseCode
from tests.dispatch.conftest import DEKUAN, LINGHU, point_in, prepared_store, start_server
from tests.dispatch.intake import conftest as hotline
from tests.protocol.doc.extract import Document
from tests.protocol.doc.live import Conn, Report, exchange, find
from tests.protocol.doc.match import Env

HISTORY = "6.8 history"
ADMIN = "6.9 users, create_user, update_user, revoke_user (admin)"
PEOPLE = "3.3 people"


async def attached(port: int, token: str, transcript: list[tuple[str, Any]]) -> Conn:
    """A connection past its snapshot."""
    conn = await Conn.open(port, transcript)
    await conn.hello(token)
    await conn.until("snapshot")
    return conn


async def command(conn: Conn, request: int, op: str, **args: Any) -> Any:
    """Send a command and wait for its answer (deltas and kpis skipped)."""
    await conn.send(
        {"id": request, "type": "command", "command_id": f"c{request}-{op}", "op": op, "args": args}
    )
    while True:
        got = await conn.recv()
        assert got is not None, f"no answer to {op}"
        if got[1].get("id") == request:
            assert got[1]["type"] == "result", got[1]
            return got[1]


async def history(doc: Document, db_url: str, report: Report) -> None:
    """The commander reports a case, 菱湖分中心 accepts it with a note, the commander
    dispatches it with a note; 菱湖分中心 asks for its history, 德宽路分中心 too."""
    run = await start_server(prepared_store(db_url))
    transcript: list[tuple[str, Any]] = []
    env = Env()
    try:
        commander = await attached(run.port, run.tokens["commander"], transcript)
        linghu = await attached(run.port, run.tokens["linghu"], transcript)
        dekuan = await attached(run.port, run.tokens["dekuan"], transcript)
        lon, lat = point_in(run.server.reference, LINGHU)
        await command(commander, 2, "report", category="01-02", title="暴露垃圾", lon=lon, lat=lat)
        await command(linghu, 2, "accept", event=1, note="已电话核实")
        await command(
            commander, 3, "dispatch", event=1, assignee="网格员 孙敏英", note="请今日内清运"
        )
        await linghu.until(
            "delta"
        )  # the dispatch (the earlier deltas came before its accept's answer)
        frames = doc.by_block(HISTORY)[0]
        await exchange(linghu, frames[:2], env, run.tokens["linghu"], report)
        await exchange(dekuan, frames[2:], env, run.tokens["dekuan"], report)
        report.add(HISTORY, env.order_problems())
        for conn in (commander, linghu, dekuan):
            await conn.close()
    finally:
        await run.server.stop()


async def admin(doc: Document, db_url: str, report: Report) -> None:
    """The admin 系统管理员 (shown as 系统管理员 吴敏) lists, creates, re-keys and revokes
    users while 菱湖分中心 is connected; a commander tries too; then `dispatch admin-log
    --limit 2`. §3.3's `people` message is the one the new user's display name sent."""
    store = prepared_store(db_url)
    run = await start_server(store)
    admin_token = store.create_user("系统管理员", "admin", display_name="系统管理员 吴敏")
    transcript: list[tuple[str, Any]] = []
    env = Env()
    try:
        linghu = await attached(run.port, run.tokens["linghu"], transcript)
        conn = await attached(run.port, admin_token, transcript)
        first, second = doc.by_block(ADMIN)
        await exchange(conn, first, env, admin_token, report)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(linghu.ws.wait_closed(), 3)
        close = (linghu.ws.close_code, linghu.ws.close_reason)
        # What 菱湖分中心 was sent before its connection closed (§3.3's people among it).
        with contextlib.suppress(ConnectionClosed):
            while await linghu.recv(timeout=0.5) is not None:
                pass
        expected = (int(CloseCode.CREDENTIALS_CHANGED), CREDENTIALS_CHANGED)
        said = re.search(r"closed with \*\*(\d+)\*\* `([^`]*)`", doc.section_text(ADMIN))
        if said is None or (int(said.group(1)), said.group(2)) != expected:
            report.add(ADMIN, [f"the close of a re-keyed user's connection is {expected}"])
        if close != expected:
            report.add(ADMIN, [f"菱湖分中心's connection was not closed with {expected}: {close}"])
        commander = await attached(run.port, run.tokens["commander"], transcript)
        await exchange(commander, second, env, run.tokens["commander"], report)
        report.add(ADMIN, env.order_problems())
        # §3.3: every connected client got it (菱湖分中心 too, before it was re-keyed).
        pushed = [m for m in transcript if m[1].get("type") == "people"]
        if len(pushed) != 2:  # the admin's and 菱湖分中心's, for request 3 only
            report.add(PEOPLE, [f"{len(pushed)} people messages sent, not 2: {pushed}"])
        for frame in doc.in_section(PEOPLE):
            report.checked.add(frame.line)
            report.add(PEOPLE, find(frame, transcript, env))
        await conn.close()
        await commander.close()
    finally:
        await run.server.stop()
    # The admin log of the same database, printed as the document shows it.
    block = next(b for b in doc.blocks_in(ADMIN) if b.lines[0].startswith("$ dispatch admin-log"))
    argv = block.lines[0].removeprefix("$ dispatch ").split()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = dispatch_cli(["--url", db_url, *argv])
    printed = out.getvalue().rstrip("\n").split("\n")
    problems = [] if status == 0 else [f"dispatch admin-log exited with {status}"]
    shown = block.lines[1:]
    for line, got in zip(shown, printed, strict=False):
        # The times and the clients' ports are the run's own.
        parts = re.split(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d|127\.0\.0\.1:\d+)", line)
        pattern = "".join(
            re.escape(p) if n % 2 == 0 else (r"[\d:. -]+" if "-" in p else r"127\.0\.0\.1:\d+")
            for n, p in enumerate(parts)
        )
        if not re.fullmatch(pattern, got):
            problems.append(f"admin-log: shown {line!r}, printed {got!r}")
    if len(shown) != len(printed):
        problems.append(f"admin-log printed {printed}")
    report.add(ADMIN, problems)


TRIAGE = "7.2 Event flag ops (the status does not change)"
TRIAGE_AT = datetime(2026, 11, 25, 9, 20, tzinfo=CST).timestamp()  # §7.2's district clock


async def triage(doc: Document, tmp: Path, report: Report) -> None:
    """§7.2's classify and §6.8's second example: on a fresh database whose clock stands at
    2026-11-25 09:20, the 12345 platform (the stand-in, platform.py) pushes a work order of
    a type no rule maps; the dispatcher accepts it (签收 is fed back), tries to dispatch it,
    classifies it and dispatches it (办理中); once the platform has both, the history."""
    platform = FakePlatform(hotline.PEER, hotline.KEY.encode())
    await platform.start()
    fast = {"retry_base": 0.05, "retry_cap": 0.2}
    intake = hotline.config(tmp, feedback_url=platform.url, **fast)
    store = prepared_store(f"sqlite:///{tmp / 'triage.db'}")
    run = await start_server(store, clock=Clock(1.0, TRIAGE_AT), intake=intake)
    platform.intake_url = f"http://127.0.0.1:{run.server.intake.port}"
    env = Env()
    try:
        pushed = await platform.push(
            {
                "order_no": "AQ12345-20261125-000031",
                "kind": "其他/未分类诉求",
                "content": "小区门口的石狮子被人涂了油漆。",
                "address": "大观区菱湖街道菱湖社区",
                "caller": "王先生 138****5678",
                "appeal": "投诉",
            }
        )
        assert pushed.json()["triage"] is True, pushed.text
        desk = await attached(run.port, run.tokens["dispatcher"], [])
        await command(desk, 2, "accept", event=1)
        await _delivered(store, 1)  # 签收 heard before the rest, as the document shows
        await exchange(desk, doc.in_section(TRIAGE), env, run.tokens["dispatcher"], report)
        await _delivered(store, 2)
        frames = doc.by_block(HISTORY)[1]
        await exchange(desk, frames, env, run.tokens["dispatcher"], report)
        report.add(TRIAGE, env.order_problems())
        report.add(HISTORY, [])
        await desk.close()
    finally:
        await run.server.stop()
        await platform.stop()


async def _delivered(store: Store, count: int) -> None:
    """Wait until `count` feedbacks have been acknowledged by the platform."""
    for _ in range(200):
        if store.outbox_counts() == {"delivered": count}:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not {count} feedbacks delivered: {store.outbox_counts()}")


ROSTER = "6.10 roster, set_roster (the duty roster)"
CATEGORIES = "6.11 set_category, load_categories (the category table)"
PLANNED_AT = datetime(2026, 11, 25, 10, 0, tzinfo=CST).timestamp()  # §6.10's district clock


def packed(table: dict[str, Any]) -> str:
    """A table file as load_categories carries it: zlib-compressed, base64-encoded."""
    return base64.b64encode(zlib.compress(json.dumps(table, ensure_ascii=False).encode())).decode()


def table_files() -> dict[str, str]:
    """The files of §6.11, as its note after the examples describes them."""
    path = resources.files("resources") / "district" / "categories.json"
    default = json.loads(path.read_text(encoding="utf-8"))

    def edited(code: str, **fields: Any) -> dict[str, Any]:
        table = copy.deepcopy(default)
        category = next(c for c in table["categories"] if c["code"] == code)
        for key, value in fields.items():
            if key == "handle":
                category["limits"]["handle"] = value
            else:
                category[key] = value
        return table

    dropped = copy.deepcopy(default)
    dropped["categories"] = [c for c in dropped["categories"] if c["code"] != "01-02"]
    dropped["camera_kinds"] = [k for k in dropped["camera_kinds"] if k["category"] != "01-02"]
    return {
        "<the file, zlib, base64>": packed(edited("01-01", handle="15d")),
        "<another file>": packed(edited("01-01", department="XXJ")),
        "<a file without 01-02>": packed(dropped),
    }


async def tables(doc: Document, db_url: str, report: Report) -> None:
    """§6.10 on a fresh database whose clock stands at 2026-11-25 10:00 with the admin
    系统管理员; then §6.11 on the same backend (a street reports a case of 01-02 before
    request 16), and §3.2's `categories` message among those its changes pushed."""
    store = prepared_store(db_url)
    run = await start_server(store, clock=Clock(1.0, PLANNED_AT))
    admin_token = store.create_user("系统管理员", "admin")
    transcript: list[tuple[str, Any]] = []
    env = Env()
    try:
        admin = await attached(run.port, admin_token, [])
        commander = await attached(run.port, run.tokens["commander"], transcript)
        linghu = await attached(run.port, run.tokens["linghu"], transcript)
        plans, refused = doc.by_block(ROSTER)
        await exchange(admin, plans, env, admin_token, report)
        await exchange(commander, refused, env, run.tokens["commander"], report)
        report.add(ROSTER, [])
        frames = doc.in_section(CATEGORIES)
        cut = next(i for i, f in enumerate(frames) if f.direction == ">" and f.value["id"] == 16)
        files = table_files()
        pushed = ("categories", "delta")
        await exchange(admin, frames[:cut], env, admin_token, report, files, pushed)
        lon, lat = point_in(run.server.reference, LINGHU)
        await command(linghu, 2, "report", category="01-02", title="暴露垃圾", lon=lon, lat=lat)
        await exchange(admin, frames[cut:], env, admin_token, report, files, pushed)
        report.add(CATEGORIES, _pushed_first(admin.transcript) + env.order_problems())
        # §3.2: the message every connected client got.
        commander_news = transcript + admin.transcript
        for frame in doc.in_section("3.2 categories"):
            report.checked.add(frame.line)
            report.add("3.2 categories", find(frame, commander_news, env))
        for conn in (admin, commander, linghu):
            await conn.close()
    finally:
        await run.server.stop()


def _pushed_first(transcript: list[tuple[str, Any]]) -> list[str]:
    """§6.11: a change reaches every client in a `categories` message before the admin's
    answer; a change that changes nothing, and a check, send none."""
    problems = []
    news = False
    for _, message in transcript:
        if message["type"] == "categories":
            news = True
        elif message["type"] == "result" and "table" in message.get("data", {}):
            data = message["data"]
            changed = data["loaded"] and (data["added"] or data["changed"] or data["removed"])
            if bool(changed) != news:
                wrong = "missing" if changed else "sent"
                problems.append(f"request {message['id']}: a categories message {wrong}")
            news = False
    return problems


INTAKES = "6.12 intake_status, retry_feedback (the intakes and the feedback outbox)"


async def intakes(doc: Document, tmp: Path, report: Report) -> None:
    """§6.12 on a backend with the 12345 intake on and the stand-in platform: two work
    orders pushed and accepted, the first 签收 taken, the second refused (422); then the
    admin's requests, the second block once the feedback sent again was taken, and the
    dispatcher's refusal."""
    platform = FakePlatform(hotline.PEER, hotline.KEY.encode())
    await platform.start()
    fast = {"retry_base": 0.05, "retry_cap": 0.2}
    intake = hotline.config(tmp, feedback_url=platform.url, **fast)
    store = prepared_store(f"sqlite:///{tmp / 'intakes.db'}")
    run = await start_server(store, clock=Clock(1.0, TRIAGE_AT), intake=intake)
    platform.intake_url = f"http://127.0.0.1:{run.server.intake.port}"
    admin_token = store.create_user("系统管理员", "admin")
    env = Env()
    try:
        desk = await attached(run.port, run.tokens["dispatcher"], [])
        for n in (1, 2):
            pushed = await platform.push(hotline.order(f"AQ12345-20261125-00004{n}"))
            assert pushed.status_code == 200, pushed.text
            if n == 2:
                platform.faults.append("refuse")
            await command(desk, n + 1, "accept", event=n)
            await _settled(store, {"delivered": 1} if n == 1 else {"delivered": 1, "refused": 1})
        admin = await attached(run.port, admin_token, [])
        first, second, refused = doc.by_block(INTAKES)
        await exchange(admin, first, env, admin_token, report)
        await _settled(store, {"delivered": 2})
        await exchange(admin, second, env, admin_token, report)
        await exchange(desk, refused, env, run.tokens["dispatcher"], report)
        report.add(INTAKES, [])
        for conn in (admin, desk):
            await conn.close()
    finally:
        await run.server.stop()
        await platform.stop()


async def _settled(store: Store, counts: dict[str, int]) -> None:
    """Wait until the outbox's rows are in these states."""
    for _ in range(200):
        if store.outbox_counts() == counts:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not {counts}: {store.outbox_counts()}")


DOWNLOADS = "6.13 shifts, download (handover reports and exports)"


async def downloads(doc: Document, tmp: Path, report: Report) -> None:
    """§6.13 on a fresh database whose clock stands at 2026-11-25 10:00: the commander hands
    the duty to 王建国, writes the note (first block), hands over to 李红梅, asks for the
    shifts and the first one's report (second block); 菱湖分中心 exports (third block)."""
    store = prepared_store(f"sqlite:///{tmp / 'downloads.db'}")
    run = await start_server(store, clock=Clock(1.0, PLANNED_AT))
    env = Env()
    try:
        commander = await attached(run.port, run.tokens["commander"], [])
        linghu = await attached(run.port, run.tokens["linghu"], [])
        await command(commander, 2, "handover", commander="王建国", title="副区长")
        note, reports, street = doc.by_block(DOWNLOADS)
        await exchange(commander, note, env, run.tokens["commander"], report)
        await command(commander, 4, "handover", commander="李红梅", title="副区长")
        await exchange(commander, reports, env, run.tokens["commander"], report)
        await exchange(linghu, street, env, run.tokens["linghu"], report, skip=("delta",))
        report.add(DOWNLOADS, env.order_problems())
        for conn in (commander, linghu):
            await conn.close()
    finally:
        await run.server.stop()


REPLAYS = "6.14 replay (the time machine, 复盘)"


async def replays(doc: Document, tmp: Path, report: Report) -> None:
    """§6.14 on a fresh database whose clock stands at 2026-11-25 10:00: the commander
    reports a case in 菱湖街道 and one in 德宽路街道 and accepts the first, then replays
    (first block); 菱湖分中心 replays the same log (second block)."""
    store = prepared_store(f"sqlite:///{tmp / 'replays.db'}")
    run = await start_server(store, clock=Clock(1.0, PLANNED_AT))
    env = Env()
    try:
        commander = await attached(run.port, run.tokens["commander"], [])
        linghu = await attached(run.port, run.tokens["linghu"], [])
        reference = run.server.reference
        for request, street, title in ((2, LINGHU, "暴露垃圾"), (3, DEKUAN, "道路积水")):
            lon, lat = point_in(reference, street)
            await command(
                commander, request, "report", category="01-02", title=title, lon=lon, lat=lat
            )
        await command(commander, 4, "accept", event=1)
        mine, street = doc.by_block(REPLAYS)
        await exchange(commander, mine, env, run.tokens["commander"], report, skip=("delta",))
        await exchange(linghu, street, env, run.tokens["linghu"], report, skip=("delta",))
        report.add(REPLAYS, env.order_problems())
        for conn in (commander, linghu):
            await conn.close()
    finally:
        await run.server.stop()
