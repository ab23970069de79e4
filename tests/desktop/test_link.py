"""The session on its own thread, handing batches to the GUI side (Qt-free, real server)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from desktop.core.link import Inbox, SessionThread
from desktop.core.replica import Replica
from desktop.core.session import Session, Status
from protocol.messages import Error, Result, Snapshot, Units
from tests.desktop.test_session import eventually
from tests.dispatch.conftest import start_server
from tests.dispatch.test_server import report_args


def test_the_inbox_wakes_its_taker_once_per_take() -> None:
    wakes: list[str] = []
    inbox = Inbox(lambda: wakes.append(threading.current_thread().name))
    first, second = Status(True, 1.0, 1.0), Status(False, 2.0, 1.0)
    inbox.put(first)
    inbox.put(second)
    assert len(wakes) == 1 and len(inbox) == 2
    assert inbox.take() == [first, second]  # in order
    assert inbox.take() == [] and len(wakes) == 1
    writer = threading.Thread(target=inbox.put, args=(first,), name="writer")
    writer.start()
    writer.join()
    assert wakes == ["MainThread", "writer"] and inbox.take() == [first]


class Gui:
    """Stands in for the GUI thread: woken from the session's thread, takes on its own loop."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.woken = asyncio.Event()
        self.wakes = 0
        self.threads: set[str] = set()
        self.replica = Replica()
        self.statuses: list[Status] = []

    def wake(self) -> None:
        self.wakes += 1
        self.threads.add(threading.current_thread().name)
        self.loop.call_soon_threadsafe(self.woken.set)

    def take(self, inbox: Inbox) -> None:
        self.woken.clear()
        items = inbox.take()
        self.statuses += [i for i in items if isinstance(i, Status)]
        self.replica.apply_all([i for i in items if not isinstance(i, Status)])


async def test_the_session_thread_feeds_the_gui_side_in_batches(sqlite_store) -> None:
    running = await start_server(sqlite_store)
    url = f"ws://127.0.0.1:{running.port}"
    gui = Gui()
    link = SessionThread(url, running.tokens["commander"], wake=gui.wake)
    link.start()
    try:
        await asyncio.wait_for(link.wait_connected(), 10)
        await eventually(lambda: len(link.inbox) > 0)
        gui.take(link.inbox)
        assert gui.replica.units is not None and len(gui.replica.units.grids) == 351
        assert gui.statuses and gui.statuses[-1].connected
        assert gui.threads == {"tongguan-session"}  # woken from the session's thread

        # Commands go through the session's thread and are awaited here.
        ids = []
        for i in range(20):
            reply = await link.command("report", report_args(running, title=f"批量{i}"))
            assert isinstance(reply, Result)
            ids.append(reply.data["event"])
        # So is a case's history.
        history = await link.history(ids[0])
        assert isinstance(history, Result) and history.data["event"] == ids[0]
        assert [e["action"] for e in history.data["entries"]] == ["report"]
        missing = await link.history(max(ids) + 1)
        assert isinstance(missing, Error) and missing.code == "not_found"
        await eventually(lambda: gui.woken.is_set())
        await asyncio.sleep(0.2)  # let the rest arrive: taken in one go, not one by one
        wakes = gui.wakes
        gui.take(link.inbox)
        assert set(ids) <= set(gui.replica.events)
        assert gui.wakes - wakes <= 1 < 20
        assert gui.replica.seq == running.server.hub.head == link.session.seq
        assert link.status.connected and link.status.last_data > 0
    finally:
        await link.stop()
        await running.server.stop()
    assert not link.running
    await link.stop()  # stopping twice is harmless


async def test_a_stopped_session_thread_with_a_dead_backend_ends(sqlite_store) -> None:
    running = await start_server(sqlite_store)
    url = f"ws://127.0.0.1:{running.port}"
    await running.server.stop()  # nobody answers: the session keeps retrying
    statuses: list[Status] = []
    link = SessionThread(url, "whatever", wake=lambda: None, max_backoff=0.1)
    link.start()
    await eventually(lambda: len(link.inbox) >= 2)
    statuses = [i for i in link.inbox.take() if isinstance(i, Status)]
    assert statuses and not statuses[-1].connected and statuses[-1].attempt >= 1
    await asyncio.wait_for(link.stop(patience=2), 8)
    assert not link.running
    await asyncio.wait_for(link.finished(), 1)


def test_a_session_needs_exactly_one_way_to_hand_on_messages() -> None:
    with pytest.raises(TypeError):
        Session("ws://127.0.0.1:1", "t")
    with pytest.raises(TypeError):
        Session("ws://127.0.0.1:1", "t", on_changes=lambda c: None, on_message=lambda m: None)


async def test_the_session_resumes_from_what_it_passed_on(sqlite_store) -> None:
    # With on_message nobody applies anything on the session's side: its own cursor is the
    # resume point, so a reconnect replays only what it has not passed on.
    running = await start_server(sqlite_store)
    url = f"ws://127.0.0.1:{running.port}"
    messages: list[object] = []
    session = Session(url, running.tokens["commander"], on_message=messages.append)
    task = asyncio.create_task(session.run())
    try:
        await asyncio.wait_for(session.wait_connected(), 10)
        snapshot = next(m for m in messages if isinstance(m, Snapshot))
        assert session.epoch == snapshot.epoch and session.seq == snapshot.seq
        await session.command("report", report_args(running))
        await eventually(lambda: session.seq == running.server.hub.head)
        assert session.units_version is not None
    finally:
        await session.stop()
        await task
        await running.server.stop()


def test_a_closed_inbox_wakes_nobody_and_keeps_nothing() -> None:
    wakes: list[int] = []
    inbox = Inbox(lambda: wakes.append(1))
    inbox.put(Status(True, 1.0, 1.0))
    inbox.close()
    inbox.put(Status(True, 2.0, 1.0))
    assert wakes == [1] and inbox.take() == []


async def test_resync_brings_the_units_and_a_whole_snapshot_on_a_new_connection(
    sqlite_store,
) -> None:
    running = await start_server(sqlite_store)
    url = f"ws://127.0.0.1:{running.port}"
    link = SessionThread(url, running.tokens["wall"], wake=lambda: None)
    link.start()
    try:
        await asyncio.wait_for(link.wait_connected(), 10)
        await eventually(lambda: any(isinstance(i, Snapshot) for i in link.inbox.take()))
        link.resync()
        await eventually(lambda: link.session.connections == 2)
        taken: list[object] = []

        def snapshot_taken() -> bool:
            taken.extend(link.inbox.take())
            return any(isinstance(i, Snapshot) for i in taken)

        await eventually(snapshot_taken)
        # The units come again too: the ones taken before may never have been applied.
        assert any(isinstance(i, Units) for i in taken)
    finally:
        await link.stop()
        await running.server.stop()


async def test_resyncs_one_after_another_back_off(sqlite_store) -> None:
    # Something that fails on every snapshot must not reload one four times a second.
    running = await start_server(sqlite_store)
    url = f"ws://127.0.0.1:{running.port}"
    session: Session
    resyncs: set[asyncio.Task[None]] = set()

    def on_message(message: object) -> None:
        if isinstance(message, Snapshot):
            resyncs.add(asyncio.get_running_loop().create_task(session.resync()))

    session = Session(url, running.tokens["wall"], on_message=on_message, max_backoff=5)
    task = asyncio.create_task(session.run())
    try:
        await asyncio.sleep(3.0)
        assert 3 <= session.connections <= 5  # after 0.25, 0.5, 1 and 2 s: not one per 0.25 s
    finally:
        await session.stop()
        await task
        await running.server.stop()


async def test_a_connection_that_lasted_starts_the_backoff_afresh(
    sqlite_store, monkeypatch
) -> None:
    import desktop.core.session

    monkeypatch.setattr(desktop.core.session, "STABLE_SECONDS", 1.0)
    running = await start_server(sqlite_store)
    url = f"ws://127.0.0.1:{running.port}"
    session = Session(url, running.tokens["wall"], on_message=lambda m: None, max_backoff=4)
    task = asyncio.create_task(session.run())
    try:
        for count in range(2, 5):  # resyncs one after another: the backoff grows to 1 s
            await eventually(lambda: session.status.connected)
            await session.resync()
            await eventually(lambda c=count: session.connections == c)
        await eventually(lambda: session.status.connected)
        await asyncio.sleep(1.2)  # healthy for longer than STABLE_SECONDS
        assert session._ws is not None
        session._ws.transport.abort()  # then the network drops it
        dropped = asyncio.get_running_loop().time()
        await eventually(lambda: session.connections == 5)
        assert asyncio.get_running_loop().time() - dropped < 0.6  # 0.25 s, not 2 s
    finally:
        await session.stop()
        await task
        await running.server.stop()
