"""Feedback to 12345 through the durable outbox, against a real fake platform on its own
port that misbehaves: timeouts, 500s, answers lost (duplicates), an outage, a restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from dispatch.cli import main
from dispatch.intake.platform import FakePlatform
from protocol.codec import encode
from protocol.messages import History, Result
from tests.dispatch.intake.conftest import KEY, PEER, Hotline, order, start_hotline
from tests.dispatch.intake.loop import work_the_case

FAST = {"retry_base": 0.05, "retry_cap": 0.2, "feedback_timeout": 0.5}


@pytest.fixture
async def platform() -> AsyncIterator[FakePlatform]:
    fake = FakePlatform(PEER, KEY.encode(), hang=3.0)
    await fake.start()
    yield fake
    await fake.stop()


async def _line(store, tmp_path, platform: FakePlatform) -> Hotline:
    line = await start_hotline(store, tmp_path, feedback_url=platform.url, **FAST)
    platform.intake_url = line.url
    return line


async def _stop(line: Hotline) -> None:
    await line.http.aclose()
    await line.running.server.stop()


async def until(check: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def _statuses(platform: FakePlatform) -> list[tuple[str, str]]:
    return [(b["status"], b["text"]) for b in platform.received.by_key.values()]


async def test_the_loop_is_fed_back_in_order_exactly_once(store, tmp_path, platform) -> None:
    line = await _line(store, tmp_path, platform)
    try:
        # The platform times out, fails, and loses one answer before it behaves.
        platform.faults.extend(["timeout", "error", "lost_answer", "error"])
        got = (await platform.push(order())).json()
        await work_the_case(
            line.running, got["event"], "已约谈店主，晚十点后停止营业", "噪音问题已解决，回访满意"
        )
        await until(lambda: len(platform.received.by_key) == 3)
        assert _statuses(platform) == [
            ("签收", ""),
            ("办理中", ""),
            ("办结", "噪音问题已解决，回访满意"),
        ]
        first = next(iter(platform.received.by_key.values()))
        assert first["order_no"] == "AQ12345-20261202-000001" and first["event"] == got["code"]
        assert platform.received.duplicates == 1  # the lost answer's feedback came again
        assert platform.received.faults["timeout"] == 1
        assert platform.received.bad == 0
        store = line.running.store
        await until(lambda: store.outbox_counts() == {"delivered": 3})  # marked after the 2xx
        rows = store.outbox_entries(event=got["event"])
        assert max(r.attempts for r in rows) >= 2
        # The case's history says what the platform was told and that it heard.
        desk = await line.running.client("dispatcher")
        await desk.recv()
        await desk.ws.send(encode(History(id=99, event=got["event"])).decode())
        answer = await desk.until(lambda m: isinstance(m, Result) and m.id == 99)
        told = [(f["status"], f["state"], f["peer"]) for f in answer.data["feedback"]]
        assert told == [(s, "delivered", PEER) for s in ("签收", "办理中", "办结")]
        assert answer.data["feedback"][0]["attempts"] >= 2
        await desk.ws.close()
    finally:
        await _stop(line)


async def test_a_rejected_order_is_returned_with_the_reason(store, tmp_path, platform) -> None:
    line = await _line(store, tmp_path, platform)
    try:
        got = (await platform.push(order())).json()
        desk = await line.running.client("dispatcher")
        await desk.recv()
        reply = await desk.command("reject", {"event": got["event"], "reason": "不属本区管辖"})
        assert isinstance(reply, Result)
        await until(lambda: len(platform.received.by_key) == 1)
        assert _statuses(platform) == [("退回", "不属本区管辖")]
        await desk.ws.close()
    finally:
        await _stop(line)


async def test_feedback_survives_an_outage_and_a_restart(sqlite_store, tmp_path, platform) -> None:
    platform.down = True
    line = await _line(sqlite_store, tmp_path, platform)
    got = (await platform.push(order())).json()
    desk = await line.running.client("dispatcher")
    await desk.recv()
    assert isinstance(await desk.command("accept", {"event": got["event"]}), Result)
    await until(lambda: platform.received.faults["down"] >= 2)
    await desk.ws.close()
    await _stop(line)
    [row] = sqlite_store.outbox_entries()
    assert row.state == "pending" and row.attempts >= 2 and "503" in row.last_error
    platform.down = False
    again = await _line(sqlite_store, tmp_path, platform)
    try:
        await until(lambda: len(platform.received.by_key) == 1)
        assert _statuses(platform) == [("签收", "")]
        await until(lambda: sqlite_store.outbox_entries()[0].state == "delivered")
    finally:
        await _stop(again)


async def test_a_final_refusal_waits_for_a_hand_and_the_cli_shows_it(
    sqlite_store, sqlite_url, tmp_path, platform, capsys
) -> None:
    line = await _line(sqlite_store, tmp_path, platform)
    try:
        got = (await platform.push(order())).json()
        platform.key = b"the-platform-changed-its-key"  # our signatures now fail: 401
        desk = await line.running.client("dispatcher")
        await desk.recv()
        assert isinstance(await desk.command("accept", {"event": got["event"]}), Result)
        await until(lambda: sqlite_store.outbox_entries()[0].state == "refused")
        await desk.ws.close()
        assert main(["--url", sqlite_url, "intake-outbox"]) == 0
        out = capsys.readouterr().out
        assert "refused 1" in out and "签收" in out and "HTTP 401" in out
        platform.key = KEY.encode()
        row = sqlite_store.outbox_entries()[0]
        assert main(["--url", sqlite_url, "intake-outbox", "--retry", str(row.id)]) == 0
        await until(lambda: len(platform.received.by_key) == 1)
    finally:
        await _stop(line)
