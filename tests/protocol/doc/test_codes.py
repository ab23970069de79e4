"""Every error code of §11 and close code of §12, provoked on a running backend where it is
cheap, each in a situation the document names for it; and the id rule of §2."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from websockets.asyncio.client import connect

from dispatch.server import DispatchServer
from dispatch.store.store import Store, StoreError
from protocol.codes import CloseCode, ErrorCode
from tests.dispatch.conftest import LINGHU, Running, point_in, prepared_store, start_server
from tests.protocol.doc.extract import document

# Close codes not provoked in test_every_close_code_is_provoked_somewhere, and where they are.
ELSEWHERE = {
    # tests/dispatch/test_server.py:
    CloseCode.TOO_SLOW: "test_slow_client_closed_without_slowing_others",
    CloseCode.SERVICE_RESTART: "test_uncertain_commit_stops_the_writer",
    # (and tests/reliability/test_disk_full.py, a dispatch serve process on a full disk)
    # below:
    CloseCode.PROTOCOL_ERROR: "test_broken_frames_and_invalid_utf8_get_what_section_1_says",
    CloseCode.INVALID_DATA: "test_broken_frames_and_invalid_utf8_get_what_section_1_says",
}


@pytest.fixture
async def running(sqlite_url: str) -> AsyncIterator[Running]:
    run = await start_server(prepared_store(sqlite_url))
    yield run
    await run.server.stop()


class Wire:
    """A raw client: frames in and out as JSON, ids counted from the hello's 1."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.next_id = 2

    @classmethod
    async def attached(cls, run: Running, user: str) -> Wire:
        ws = await connect(f"ws://127.0.0.1:{run.port}", max_size=None, compression=None)
        await ws.send(
            json.dumps({"id": 1, "type": "hello", "protocol": 1, "token": run.tokens[user]})
        )
        wire = cls(ws)
        await wire.until(lambda m: m["type"] == "snapshot")
        return wire

    async def until(self, wanted: Callable[[Any], bool]) -> Any:
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), 5))
            if wanted(message):
                return message

    async def ask(self, message: dict[str, Any] | str, request: int | None = None) -> Any:
        """Send a frame; its answer (result or error) by id."""
        if isinstance(message, dict):
            request = message.setdefault("id", self.next_id)
            self.next_id = max(self.next_id, request) + 1
        await self.ws.send(message if isinstance(message, str) else json.dumps(message))
        return await self.until(lambda m: m["type"] in ("result", "error") and m["id"] == request)

    async def command(self, op: str, command_id: str | None = None, **args: Any) -> Any:
        cid = command_id or uuid.uuid4().hex
        return await self.ask({"type": "command", "command_id": cid, "op": op, "args": args})


def _report(run: Running) -> dict[str, Any]:
    lon, lat = point_in(run.server.reference, LINGHU)
    return {"category": "01-02", "title": "暴露垃圾", "lon": lon, "lat": lat}


async def test_every_error_code_is_what_the_server_answers_where_the_table_says(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = running
    commander = await Wire.attached(run, "commander")
    wall = await Wire.attached(run, "wall")
    got: dict[str, Any] = {}
    got["bad_message"] = await commander.ask("{", request=0)  # not JSON: id 0
    got["bad_id"] = await commander.ask({"id": 1, "type": "ping"})
    got["unknown_op"] = await commander.command("fly")
    got["bad_args"] = await commander.command("accept")
    got["forbidden"] = await wall.command("accept", event=1)
    got["not_found"] = await commander.command("accept", event=999)
    event = (await commander.command("report", **_report(run)))["data"]["event"]
    got["illegal_transition"] = await commander.command("close", event=event)
    cid = uuid.uuid4().hex
    await commander.command("accept", cid, event=event)
    got["conflict"] = await commander.command("accept", cid, event=event, note="x")
    for op, args in (("dispatch", {"assignee": "网格员 孙敏英"}), ("start", {}), ("handled", {})):
        assert (await commander.command(op, event=event, **args))["type"] == "result"
    got["separation_of_duties"] = await commander.command("verify", event=event, passed=True)
    # A database that fails its commit: the batch is undone and answered `internal`.
    store = run.server.store

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise StoreError("server closed the connection unexpectedly")  # once, then back

    monkeypatch.setattr(store, "commit", failing)
    monkeypatch.setattr(store, "head", lambda: (run.server.hub.head, 0))  # nothing went through
    got["internal"] = await commander.command("report", **_report(run))
    monkeypatch.undo()
    # Nothing of the failed batch stayed, and the writer goes on: the same report now passes.
    head = run.server.hub.head
    assert (await commander.command("report", **_report(run)))["type"] == "result"
    assert run.server.hub.head == head + 1
    # The burst spent: what the table says about rate_limited.
    frames = [
        {"id": commander.next_id + i, "type": "command", "command_id": f"r{i}", "op": "fly"}
        for i in range(210)
    ]
    commander.next_id += len(frames)
    for frame in frames:
        await commander.ws.send(json.dumps(frame))
    answers = [await commander.until(lambda m: m["type"] == "error") for _ in frames]
    got["rate_limited"] = next(a for a in answers if a["code"] == "rate_limited")
    # A gateway on the same database (a standby too, before it takes over) only reads.
    store = Store(run.store.url)
    node = DispatchServer(store, run.server.reference)
    gateway = Running(node, store, await node.start("127.0.0.1", 0, role="gateway"), run.tokens)
    try:
        at_gateway = await Wire.attached(gateway, "commander")
        got["not_writer"] = await at_gateway.command("report", "to-the-writer", **_report(run))
    finally:
        await node.stop()
        store.close()
    assert {k: v["code"] for k, v in got.items()} == {k: k for k in got}, got
    assert set(got) == {str(c) for c in ErrorCode}, "an error code nobody provokes here"
    # The messages the document quotes for them.
    assert got["bad_message"]["message"].startswith("malformed JSON")
    assert got["bad_id"]["message"] == "id 1 is not above the previous 1"
    assert got["unknown_op"]["message"] == "unknown op 'fly'"
    assert got["bad_args"]["message"] == "Object missing required field `event`"
    assert got["forbidden"]["message"] == "role wall may not accept"
    assert got["not_found"]["message"] == "no event 999"
    assert got["conflict"]["message"] == f"command_id {cid} was used for another command"
    assert got["rate_limited"]["message"] == "too many commands; retry with the same command_id"
    assert got["internal"]["message"] == "storage failure; nothing was applied"
    writer = f"ws://127.0.0.1:{run.port}"
    assert got["not_writer"] == {
        "type": "error",
        "id": got["not_writer"]["id"],
        "code": "not_writer",
        "message": f"this node does not write; the writer serves at {writer}: send it there,"
        " with the same command_id",
        "command_id": "to-the-writer",
        "writer": writer,
    }
    text = document().text
    for key in (
        "role wall may not accept",
        "too many commands; retry with the same command_id",
        "this node does not write; the writer serves at ws://HOST:PORT: send it there, with"
        " the same command_id",
    ):
        assert key in " ".join(text.split()), key


async def test_a_conflicting_copy_in_the_same_batch_is_a_conflict(running: Running) -> None:
    """§6.2: the same command_id with other args, sent without waiting (one writer batch,
    usually), gets `conflict` and is not applied."""
    commander = await Wire.attached(run := running, "commander")
    cid = uuid.uuid4().hex
    first = {"id": 2, "type": "command", "command_id": cid, "op": "report", "args": _report(run)}
    second = {**first, "id": 3, "args": {**_report(run), "title": "另一件事"}}
    head = run.server.hub.head
    await commander.ws.send(json.dumps(first))
    await commander.ws.send(json.dumps(second))
    answers = {}
    while len(answers) < 2:
        message = await commander.until(lambda m: m["type"] in ("result", "error"))
        answers[message["id"]] = message
    assert answers[2]["type"] == "result" and answers[3]["code"] == "conflict"
    assert run.server.hub.head == head + 1


async def test_a_second_hello_is_refused_and_does_not_advance_the_ids(running: Running) -> None:
    """§3: answered `bad_message`, the connection stays; §2: a refused frame does not count,
    so a later id above the last accepted one (not above the hello's) is taken."""
    commander = await Wire.attached(running, "commander")
    hello = {"id": 50, "type": "hello", "protocol": 1, "token": running.tokens["commander"]}
    refused = await commander.ask(hello)
    assert (refused["code"], refused["message"]) == (
        "bad_message",
        "hello is only allowed as the first message",
    )
    assert (await commander.ask({"id": 20, "type": "ping"}))["type"] == "result"


async def _closed(ws: Any) -> tuple[int | None, str]:
    await asyncio.wait_for(ws.wait_closed(), 5)
    return ws.close_code, ws.close_reason or ""


async def test_every_close_code_is_provoked_somewhere(sqlite_url: str) -> None:
    """The close codes of §12 the doc run does not provoke (1000, 1001), here; 1009 and
    4000-4006 are in its handshake refusals (§3, §16) and §6.9 (test_examples.py)."""
    run = await start_server(prepared_store(sqlite_url))
    seen: dict[int, tuple[int | None, str]] = {}
    try:
        client = await Wire.attached(run, "commander")
        await client.ws.close()
        seen[CloseCode.NORMAL] = (client.ws.close_code, client.ws.close_reason or "")
        client = await Wire.attached(run, "wall")
    finally:
        stopping = asyncio.create_task(run.server.stop())
    seen[CloseCode.GOING_AWAY] = await _closed(client.ws)
    await stopping
    assert seen[CloseCode.NORMAL][0] == 1000
    assert seen[CloseCode.GOING_AWAY] == (1001, "server restarting: resume")
    assert "(`server restarting: resume`)" in document().section_text("12. Close codes")
    in_doc_run = {1009, 4000, 4001, 4002, 4003, 4004, 4005, 4006}
    missing = {int(c) for c in CloseCode} - set(seen) - in_doc_run - set(ELSEWHERE)
    assert not missing, f"close codes no test provokes: {sorted(missing)}"


def _frame(first: int, payload: bytes, mask: bytes | None = b"\x00\x00\x00\x00") -> bytes:
    """A hand-made websocket frame (payload under 126 bytes): first byte, then masked."""
    length = len(payload) | (0x80 if mask is not None else 0)
    if mask is None:
        return bytes([first, length]) + payload
    return bytes([first, length]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def test_broken_frames_and_invalid_utf8_get_what_section_1_says(running: Running) -> None:
    """§1, §11, §12: a text frame that is not UTF-8 closes with 1007 (after the hello and as
    the first message); a binary one is `bad_message` and the connection stays; a frame
    that breaks RFC 6455 closes with 1002. Nothing of any of them is applied."""
    run = running
    head = run.server.hub.head
    seen: dict[str, tuple[int | None, str]] = {}
    # Text frames whose payload is not UTF-8: a report, and the whole first message.
    client = await Wire.attached(run, "commander")
    report = json.dumps({"id": 2, "type": "command", "command_id": "u", "op": "report"})
    await client.ws.send(report[:-1].encode() + b', "args": {"title": "\xff"}}', text=True)
    seen["text"] = await _closed(client.ws)
    ws = await connect(f"ws://127.0.0.1:{run.port}", compression=None)
    await ws.send(b'{"id": 1, "type": "hello", "token": "\xc3\x28"}', text=True)
    seen["hello"] = await _closed(ws)
    # The same bytes in a binary frame: a message that cannot be read, and no more.
    client = await Wire.attached(run, "commander")
    await client.ws.send(report[:-1].encode() + b', "args": {"title": "\xff"}}')
    refused = await client.until(lambda m: m["type"] == "error")
    assert (refused["code"], refused["id"], refused["message"]) == (
        "bad_message",
        2,
        "undecodable frame: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte",
    )
    assert (await client.ask({"id": 3, "type": "ping"}))["type"] == "result"  # still up
    # Frames that break RFC 6455.
    for name, frame in (
        ("reserved bits", _frame(0xC1, b"{}")),  # FIN, RSV1, text
        ("unmasked", _frame(0x81, b"{}", mask=None)),
        ("opcode", _frame(0x83, b"")),  # opcode 3 is reserved
        ("control", _frame(0x09, b"")),  # a ping without FIN: control frames are never cut
    ):
        client = await Wire.attached(run, "commander")
        client.ws.transport.write(frame)
        seen[name] = await _closed(client.ws)
    assert seen == {
        "text": (1007, "invalid start byte at position 83"),
        "hello": (1007, "invalid continuation byte at position 37"),
        "reserved bits": (1002, "reserved bits must be 0"),
        "unmasked": (1002, "incorrect masking"),
        "opcode": (1002, "invalid opcode"),
        "control": (1002, "fragmented control frame"),
    }
    assert run.server.hub.head == head  # nothing applied
    # What the document says of them.
    doc = document()
    transport = " ".join(doc.section_text("1. Transport").split())
    for reason in ("invalid start byte at position 0", "reserved bits must be 0"):
        assert f"`{reason}`" in transport
    assert "`bad_message` (`undecodable frame: 'utf-8' codec can't decode" in transport
    assert "**1007**" in transport and "**1002**" in transport
    assert "a *text* frame whose payload is not valid UTF-8" in transport
    codes = {int(row[0]): row for row in doc.table("12. Close codes")}
    for reason in ("reserved bits must be 0", "incorrect masking", "invalid opcode"):
        assert f"(`{reason}`)" in codes[1002][2]
    assert "`invalid start byte at position 0`" in codes[1007][2]
    assert "`invalid continuation byte at position 5`" in codes[1007][2]
    errors = {row[0].strip("`"): row for row in doc.table("11. Error codes")}
    assert (
        "a *text* frame that is not UTF-8 closes the connection with 1007"
        in (errors["bad_message"][1])
    )
