"""The desk's outbox against a real backend: pending until answered, queued while the link is
down, resent with the same command_id after it returns, applied exactly once."""

from __future__ import annotations

import asyncio

from desktop.core.outbox import Outbox, Pending
from desktop.core.session import Session
from dispatch.server import DispatchServer
from dispatch.store.store import Store
from tests.desktop.test_session import eventually
from tests.dispatch.conftest import start_server
from tests.dispatch.test_server import report_args


async def test_commands_wait_out_an_outage_and_apply_once(sqlite_store) -> None:
    running = await start_server(sqlite_store)
    port = running.port
    reference = running.server.reference
    seen: list[tuple[int, str]] = []
    outbox: Outbox | None = None

    def status(s: object) -> None:
        if outbox is not None:
            outbox.set_connected(bool(getattr(s, "connected", False)))

    session = Session(
        f"ws://127.0.0.1:{port}",
        running.tokens["commander"],
        on_changes=lambda c: None,
        on_status=status,
    )
    outbox = Outbox(
        session.command, lambda e: seen.append((e.number, e.state)), attempt_seconds=1.0
    )
    task = asyncio.create_task(session.run())
    server: DispatchServer = running.server
    try:
        await asyncio.wait_for(session.wait_connected(), 10)
        outbox.set_connected(True)
        report = outbox.submit("report", report_args(running, title="待发送测试"))
        await eventually(lambda: not report.open)
        assert report.state == "done" and report.seq is not None
        event_id = report.data["event"]

        await server.stop()
        await eventually(lambda: not outbox.connected)
        accept: Pending = outbox.submit("accept", {"event": event_id, "note": "断线时受理"})
        assert accept.state == "queued" and outbox.waiting == 1
        assert outbox.open_for(event=event_id) == [accept]
        await asyncio.sleep(1.5)  # attempts time out while the backend is down: still queued
        assert accept.state == "queued" and accept.attempts >= 1

        server = DispatchServer(sqlite_store, reference)
        await server.start("127.0.0.1", port)
        await eventually(lambda: accept.state == "done", timeout=15)
        history = sqlite_store.event_history(event_id)
        assert [r.action for r in history].count("accept") == 1
        assert (2, "queued") in seen and seen[-1] == (2, "done")

        again = outbox.submit("accept", {"event": event_id})
        await eventually(lambda: not again.open)
        assert (again.state, again.code) == ("refused", "illegal_transition")
        assert outbox.waiting == 0
    finally:
        await outbox.close()
        await session.stop()
        await task
        await server.stop()


async def test_closing_leaves_unanswered_commands_abandoned() -> None:
    async def never(*args: object, **kwargs: object) -> None:
        await asyncio.sleep(3600)

    states: list[str] = []
    outbox = Outbox(never, lambda e: states.append(e.state))  # type: ignore[arg-type]
    entry = outbox.submit("accept", {"event": 1})
    await asyncio.sleep(0)
    await outbox.close()
    assert entry.state == "abandoned" and states == ["queued", "abandoned"]


async def test_a_command_at_a_gateway_with_no_writer_listed_waits_queued(sqlite_store) -> None:
    # The desk knows only a gateway; the writer it names is not in its list: the command
    # waits queued (nothing applied), until the node it is on writes.
    running = await start_server(sqlite_store)
    store = Store(running.store.url)
    gateway = DispatchServer(store, running.server.reference)
    port = await gateway.start("127.0.0.1", 0, role="gateway")
    states: list[str] = []
    session = Session(
        f"ws://127.0.0.1:{port}", running.tokens["commander"], on_changes=lambda c: None
    )
    outbox = Outbox(session.command, lambda e: states.append(e.state), attempt_seconds=1.0)
    task = asyncio.create_task(session.run())
    try:
        await asyncio.wait_for(session.wait_connected(), 10)
        outbox.set_connected(True)
        head = running.store.head()[0]
        report = outbox.submit("report", report_args(running, title="只连网关"))
        await eventually(lambda: "queued" in states, timeout=10)
        assert report.open and report.state == "queued"
        assert running.store.head()[0] == head  # nothing applied
        # The gateway goes; the writer takes its port: the same command_id is applied once.
        await gateway.stop()
        store.close()
        await running.server.stop()
        writer = DispatchServer(running.store, running.server.reference)
        await writer.start("127.0.0.1", port)
        try:
            await eventually(lambda: report.state == "done", timeout=20)
            titles = [e.title for e in running.store.load_state(0.0)[0]]
            assert titles.count("只连网关") == 1
        finally:
            await outbox.close()
            await session.stop()
            await task
            await writer.stop()
    finally:
        if not task.done():
            await session.stop()
            await task
