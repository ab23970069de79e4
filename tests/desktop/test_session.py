"""The desktop's Qt-free session and replica against a real backend on port 0."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from desktop.core.replica import Changes, Replica, ReplicaError
from desktop.core.session import Session
from dispatch.server import DispatchServer
from protocol.codec import convert
from protocol.codes import ErrorCode
from protocol.messages import Delta, Error, HistoryEntry, Result
from tests.dispatch.conftest import LINGHU, point_in, start_server
from tests.dispatch.test_server import report_args
from tests.factories import make_event, make_welcome


class Recorder:
    def __init__(self) -> None:
        self.total = Changes()
        self.calls = 0

    def __call__(self, changes: Changes) -> None:
        self.calls += 1
        self.total.merge(changes)


async def eventually(predicate, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.02)


async def test_session_follows_the_backend_and_sends_commands(sqlite_store) -> None:
    running = await start_server(sqlite_store)
    recorder = Recorder()
    session = Session(
        f"ws://127.0.0.1:{running.port}", running.tokens["commander"], on_changes=recorder
    )
    task = asyncio.create_task(session.run())
    try:
        await asyncio.wait_for(session.wait_connected(), 10)
        assert session.replica.units is not None and len(session.replica.units.grids) == 351
        assert recorder.total.reset and recorder.total.units
        reply = await session.command("report", report_args(running))
        assert isinstance(reply, Result)
        event_id = reply.data["event"]
        await eventually(lambda: event_id in session.replica.events)
        assert event_id in recorder.total.new_events
        assert session.replica.seq == running.server.hub.head
        assert session.status.connected and session.status.last_data > 0
    finally:
        await session.stop()
        await task
        await running.server.stop()


async def test_session_reads_a_case_history(sqlite_store) -> None:
    running = await start_server(sqlite_store)
    session = Session(
        f"ws://127.0.0.1:{running.port}", running.tokens["linghu"], on_changes=lambda c: None
    )
    # Not connected yet: the read gives up at once, it is not queued for later.
    with pytest.raises(TimeoutError, match="not connected"):
        await session.history(1, patience=0.2)
    task = asyncio.create_task(session.run())
    try:
        await asyncio.wait_for(session.wait_connected(), 10)
        reported = await session.command("report", report_args(running))
        assert isinstance(reported, Result)
        event_id = reported.data["event"]
        accepted = await session.command("accept", {"event": event_id, "note": "属实"})
        assert isinstance(accepted, Result)
        reply = await session.history(event_id)
        assert isinstance(reply, Result) and reply.data["event"] == event_id
        assert not reply.data["truncated"]
        entries = [convert(e, HistoryEntry) for e in reply.data["entries"]]
        assert [(e.seq, e.action, e.status, e.actor, e.text) for e in entries] == [
            (reported.seq, "report", "reported", "菱湖分中心", ""),
            (accepted.seq, "accept", "accepted", "菱湖分中心", "accept: 属实"),
        ]
        missing = await session.history(event_id + 100)
        assert isinstance(missing, Error) and missing.code == ErrorCode.NOT_FOUND
        assert session.status.connected  # an error answer leaves the session as it was
    finally:
        await session.stop()
        await task
        await running.server.stop()
    with pytest.raises(TimeoutError):  # stopped: nothing to ask
        await session.history(event_id, patience=0.2)


async def test_backend_restart_mid_stream_every_event_exactly_once(sqlite_store) -> None:
    running = await start_server(sqlite_store)
    port = running.port
    session = Session(
        f"ws://127.0.0.1:{port}", running.tokens["commander"], on_changes=lambda c: None
    )
    task = asyncio.create_task(session.run())
    reference = running.server.reference
    try:
        await asyncio.wait_for(session.wait_connected(), 10)
        for i in range(5):
            await session.command("report", report_args(running, title=f"重启前{i}"))
        await running.server.stop()
        # Written while the desktop is cut off: it must get these by replay.
        server = DispatchServer(sqlite_store, reference)
        await server.start("127.0.0.1", port)
        for i in range(5):
            lon, lat = point_in(reference, LINGHU)
            from dispatch.state import Actor
            from dispatch.writer import CommandRequest
            from protocol.commands import Report

            await server.submit(
                CommandRequest(
                    Actor("指挥长", "commander"),
                    "report",
                    Report(category="01-02", title=f"断线中{i}", lon=lon, lat=lat),
                )
            )
        await eventually(lambda: session.replica.seq == server.hub.head, timeout=15)
        assert session.connections == 2
        titles = sorted(e.title for e in session.replica.events.values())
        assert titles == sorted([f"重启前{i}" for i in range(5)] + [f"断线中{i}" for i in range(5)])
        reply = await session.command("report", report_args(running, title="重启后"))
        assert isinstance(reply, Result)
        await eventually(lambda: len(session.replica.events) == 11)
        await session.stop()
        await task
        await server.stop()
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def test_a_refused_token_stops_the_session(sqlite_store) -> None:
    running = await start_server(sqlite_store)
    statuses = []
    session = Session(
        f"ws://127.0.0.1:{running.port}",
        "not-a-token",
        on_changes=lambda c: None,
        on_status=statuses.append,
    )
    try:
        await asyncio.wait_for(session.run(), 10)  # returns by itself: retrying cannot help
        assert statuses[-1].fatal and "4001" in statuses[-1].error
        assert session.connections == 1
    finally:
        await running.server.stop()


def test_replica_ignores_replayed_seqs_and_reports_new_ids() -> None:
    replica = Replica()
    event = make_event(1)
    first = replica.apply(Delta(seq=5, action="report", actor="a", at=1, data=event))
    assert first.new_events == {1} and replica.seq == 5
    again = replica.apply(Delta(seq=5, action="report", actor="a", at=1, data=event))
    assert not again
    later = replica.apply(Delta(seq=6, action="accept", actor="a", at=2, data=event))
    assert later.events == {1} and not later.new_events
    first.merge(later)
    assert first.events == {1} and first.new_events == {1}


async def test_stop_ends_the_session_at_once_even_while_it_connects() -> None:
    # A server that accepts and never answers the handshake: without stop() the session
    # would wait out its 10 s open timeout before it noticed.
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    session = Session(f"ws://127.0.0.1:{port}", "t", on_changes=lambda c: None)
    task = asyncio.create_task(session.run())
    try:
        await asyncio.sleep(0.3)
        assert not task.done()
        started = asyncio.get_running_loop().time()
        await session.stop()
        await asyncio.wait_for(task, 2)
        assert asyncio.get_running_loop().time() - started < 1.0
    finally:
        server.close()
        if not task.done():
            task.cancel()


async def test_stop_ends_the_backoff_wait_at_once() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()  # nobody listens: every attempt is refused
    session = Session(f"ws://127.0.0.1:{port}", "t", on_changes=lambda c: None, max_backoff=30)
    task = asyncio.create_task(session.run())
    await asyncio.sleep(1.2)  # several refusals: the backoff is growing
    started = asyncio.get_running_loop().time()
    await session.stop()
    await asyncio.wait_for(task, 2)
    assert asyncio.get_running_loop().time() - started < 0.5


async def test_cancelling_run_while_it_connects_leaves_no_attempt_behind() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    session = Session(f"ws://127.0.0.1:{port}", "t", on_changes=lambda c: None)
    before = asyncio.all_tasks()
    task = asyncio.create_task(session.run())
    try:
        await asyncio.sleep(0.3)  # inside the handshake that never ends
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 2)
        assert task.cancelled()
        await asyncio.sleep(0)
        assert asyncio.all_tasks() - before == set()  # the connect attempt went with it
    finally:
        server.close()


async def test_a_delta_the_replica_cannot_apply_brings_a_fresh_snapshot(sqlite_store) -> None:
    running = await start_server(sqlite_store)
    url = f"ws://127.0.0.1:{running.port}"

    class FailsOnce(Replica):
        failed = False

        def _delta(self, delta: Delta, changes: Changes) -> None:
            if not self.failed:
                self.failed = True
                raise KeyError("a bug")
            super()._delta(delta, changes)

    replica = FailsOnce()
    session = Session(url, running.tokens["commander"], replica=replica, on_changes=lambda c: None)
    task = asyncio.create_task(session.run())
    try:
        await asyncio.wait_for(session.wait_connected(), 10)
        first = await session.command("report", report_args(running, title="出错"))
        assert isinstance(first, Result)
        await eventually(lambda: session.connections == 2 and session.status.connected)
        second = await session.command("report", report_args(running, title="之后"))
        assert isinstance(second, Result)
        await eventually(lambda: second.data["event"] in replica.events)
        assert first.data["event"] in replica.events  # the snapshot brought what failed
        assert replica.seq == running.server.hub.head
    finally:
        await session.stop()
        await task
        await running.server.stop()


def test_a_replay_answering_a_hello_from_before_a_resync_is_refused() -> None:
    session = Session("ws://127.0.0.1:1", "t", on_message=lambda m: None)
    welcome = make_welcome(epoch="e1", head=10, resume="replay")
    session.epoch, session.units_version = "e1", "v1"
    session._advance(welcome)  # the epoch it asked to resume: fine
    session.epoch, session.seq, session.units_version = None, 0, None  # what resync() leaves
    with pytest.raises(ReplicaError, match="before the resync"):
        session._advance(welcome)


async def test_an_open_view_holds_what_is_open_and_equals_a_fresh_open_snapshot(
    sqlite_store,
) -> None:
    """The wall's view: its snapshot has no finished case and no settled alert, the delta
    that finishes one drops it, and the replica then equals a fresh snapshot of that view;
    a replica of the whole view beside it keeps them."""
    from tests.dispatch.conftest import detect_by

    running = await start_server(sqlite_store)
    url, token = f"ws://127.0.0.1:{running.port}", running.tokens["commander"]
    early = Session(url, token, on_changes=lambda c: None)
    task = asyncio.create_task(early.run())
    await asyncio.wait_for(early.wait_connected(), 10)
    kept = (await early.command("report", report_args(running))).data["event"]
    finished = (await early.command("report", report_args(running))).data["event"]
    assert isinstance(await early.command("reject", {"event": finished, "reason": "重复"}), Result)
    camera = running.server.hub.reference.reference.cameras[0].code
    dismissed = await detect_by(running, camera)
    other = running.server.hub.reference.reference.cameras[1].code
    waiting = await detect_by(running, other)
    reply = await early.command("dismiss_alert", {"alert": dismissed, "reason": "误报"})
    assert isinstance(reply, Result)
    await eventually(lambda: early.replica.seq == running.server.hub.head)

    recorder = Recorder()
    wall = Session(url, token, replica=Replica(view="open"), on_changes=recorder)
    wall_task = asyncio.create_task(wall.run())
    try:
        await asyncio.wait_for(wall.wait_connected(), 10)
        # Snapshots: the whole view keeps the finished case and the settled alert.
        assert {kept, finished} <= set(early.replica.events)
        assert {dismissed, waiting} <= set(early.replica.alerts)
        assert kept in wall.replica.events and finished not in wall.replica.events
        assert waiting in wall.replica.alerts and dismissed not in wall.replica.alerts
        assert all(
            e.status not in ("rejected", "closed", "evaluated")
            for e in wall.replica.events.values()
        )
        # A delta that finishes a case: the open view drops it and says it changed.
        assert isinstance(await wall.command("reject", {"event": kept, "reason": "重复"}), Result)
        await eventually(lambda: kept not in wall.replica.events)
        assert kept in recorder.total.events
        assert early.replica.events[kept].status == "rejected"  # kept by the whole view
        reply = await wall.command("dismiss_alert", {"alert": waiting, "reason": "误报"})
        assert isinstance(reply, Result)
        await eventually(lambda: waiting not in wall.replica.alerts)
        # Equal to what a fresh connection of the same view is sent.
        fresh = Session(url, token, replica=Replica(view="open"), on_changes=lambda c: None)
        fresh_task = asyncio.create_task(fresh.run())
        await asyncio.wait_for(fresh.wait_connected(), 10)
        await eventually(lambda: wall.replica.seq == fresh.replica.seq == running.server.hub.head)
        assert wall.replica.events == fresh.replica.events
        assert wall.replica.alerts == fresh.replica.alerts
        await fresh.stop()
        await fresh_task
    finally:
        for session, running_task in ((wall, wall_task), (early, task)):
            await session.stop()
            await running_task
        await running.server.stop()
