"""A session given several servers (issue 16 item 2, the client's side): when its server
goes away it moves to the next at once, takes that one's state whole (a snapshot: another
history) and says which server it is on; with every server down it keeps going round them,
waiting out its backoff only once each was tried. Real backends on port 0, real SQLite."""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
from pathlib import Path

import pytest

from desktop.core.session import Session, Status, short_node_names
from dispatch.server import DispatchServer
from dispatch.store.store import Store
from protocol.messages import Result
from tests.desktop.test_session import Recorder, eventually
from tests.dispatch.conftest import LINGHU, prepared_store, reference_for
from tests.dispatch.test_server import report_args


class _Running:
    """What report_args needs of a backend."""

    def __init__(self, server: DispatchServer) -> None:
        self.server = server


async def _serve(path: Path) -> tuple[DispatchServer, Store, str]:
    store = Store(f"sqlite:///{path}")
    server = DispatchServer(store, reference_for(store))
    port = await server.start("127.0.0.1", 0, intake_now=False)
    return server, store, f"ws://127.0.0.1:{port}"


async def test_a_session_moves_to_the_next_server_and_takes_its_state(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="desktop.core.session")
    # Two databases with the same users (one token for both), each its own history.
    first = tmp_path / "a.db"
    store = prepared_store(f"sqlite:///{first}")
    token = store.create_user("指挥长", "commander")
    store.close()
    second = tmp_path / "b.db"
    shutil.copy(first, second)
    with sqlite3.connect(second) as db:
        db.execute("UPDATE meta SET value = 'b0b0b0b0b0b0b0b0' WHERE key = 'epoch'")
    server_a, store_a, url_a = await _serve(first)
    server_b, store_b, url_b = await _serve(second)
    statuses: list[Status] = []
    session = Session([url_a, url_b], token, on_changes=Recorder(), max_backoff=0.5)
    session.on_status = statuses.append
    task = asyncio.create_task(session.run())
    try:
        await asyncio.wait_for(session.wait_connected(), 10)
        assert session.status.node == url_a and session.status.nodes == 2
        assert session.status.servers == (url_a, url_b)
        # One INFO line per connection, the wall's and the desk's alike: which server.
        said = [r.getMessage() for r in caplog.records if r.name == "desktop.core.session"]
        assert said == [f"connected to {url_a} (server 1 of 2)"], said
        # A case reported on A, another on B: the session sees A's.
        reply = await session.command("report", report_args(_Running(server_a), LINGHU, "甲"))
        assert isinstance(reply, Result)
        on_a = reply.data["event"]
        await eventually(lambda: on_a in session.replica.events)
        other = Session(url_b, token, on_changes=Recorder())
        other_task = asyncio.create_task(other.run())
        await asyncio.wait_for(other.wait_connected(), 10)
        reply = await other.command("report", report_args(_Running(server_b), LINGHU, "乙"))
        assert isinstance(reply, Result)
        await other.stop()
        await other_task
        # A goes away: the session is on B at once, with B's state whole.
        lost_at = asyncio.get_running_loop().time()
        await server_a.stop()
        await eventually(lambda: session.status.connected and session.status.node == url_b, 10)
        took = asyncio.get_running_loop().time() - lost_at
        assert took < 2.0, took
        moved = f"moved to {url_b} (server 2 of 2) from {url_a}"
        assert moved in [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
        await eventually(lambda: session.replica.epoch == "b0b0b0b0b0b0b0b0")
        titles = {e.title for e in session.replica.events.values()}
        assert "乙" in titles and "甲" not in titles  # B's history, nothing of A's mixed in
        # Equal to a fresh snapshot of B.
        check = Session(url_b, token, on_changes=Recorder())
        check_task = asyncio.create_task(check.run())
        await asyncio.wait_for(check.wait_connected(), 10)
        await eventually(lambda: session.replica.seq == check.replica.seq)
        assert session.replica.events == check.replica.events
        assert session.replica.alerts == check.replica.alerts
        await check.stop()
        await check_task
        # Both down: it goes round both, and says which one it is trying.
        await server_b.stop()
        await eventually(lambda: {s.node for s in statuses if not s.connected} >= {url_a, url_b})
        assert not session.status.connected
    finally:
        await session.stop()
        await task
        for server in (server_a, server_b):
            await server.stop()
        store_a.close()
        store_b.close()


def test_the_wall_gets_each_server_by_its_shortest_telling_name() -> None:
    """Short enough for the wall's header, and still telling the servers apart."""
    assert short_node_names(["ws://10.0.0.6:8765", "ws://10.0.0.7:8765"]) == [
        "10.0.0.6",
        "10.0.0.7",
    ]  # an address whole: its first part tells nothing
    assert short_node_names(["ws://a:8765", "ws://b:8765"]) == ["a", "b"]
    assert short_node_names(["wss://primary.dg.gov.cn:443", "wss://standby.dg.gov.cn:443"]) == [
        "primary",
        "standby",
    ]
    assert short_node_names(["ws://dispatch.a.cn", "ws://dispatch.b.cn"]) == [
        "dispatch.a.cn",
        "dispatch.b.cn",
    ]
    assert short_node_names(["ws://127.0.0.1:18766", "ws://127.0.0.1:18767"]) == [
        ":18766",
        ":18767",
    ]
    assert short_node_names(["ws://[::1]:1", "ws://[::1]:2"]) == [":1", ":2"]
    # Neither hosts nor ports alone tell them apart: the wall numbers them.
    assert short_node_names(["ws://a:1", "ws://a:2", "ws://b:1"]) is None
    assert short_node_names(["ws://a:1", "ws://a:1"]) is None
    # Longer than the header shows whole (cut where they differ): numbered too.
    assert short_node_names(["ws://tongguan-node-01", "ws://tongguan-node-02"]) is None
    assert short_node_names(["ws://192.168.100.200", "ws://192.168.100.201"]) == [
        "192.168.100.200",
        "192.168.100.201",
    ]  # an IPv4 address is 15 characters at most: always whole


def test_a_session_needs_a_server() -> None:
    import pytest

    with pytest.raises(ValueError, match="at least one server"):
        Session([], "token", on_changes=Recorder())


def test_a_single_server_is_tried_again_and_again() -> None:
    session = Session("ws://127.0.0.1:1", "token", on_changes=Recorder())
    assert session.url == "ws://127.0.0.1:1" and not session._move_on()
    assert session.url == "ws://127.0.0.1:1"


async def test_a_command_sent_to_a_gateway_goes_to_the_writer_with_its_command_id(
    tmp_path: Path,
) -> None:
    # One database: a writer and a gateway following its log (SQLite: the gateway polls it).
    path = tmp_path / "one.db"
    store = prepared_store(f"sqlite:///{path}")
    token = store.create_user("指挥长", "commander")
    store.close()
    writer, writer_store, writer_url = await _serve(path)
    gateway_store = Store(f"sqlite:///{path}")
    gateway = DispatchServer(gateway_store, reference_for(gateway_store))
    gateway_url = f"ws://127.0.0.1:{await gateway.start('127.0.0.1', 0, role='gateway')}"
    # The desk starts on the gateway; the writer is in its list too.
    session = Session([gateway_url, writer_url], token, on_changes=Recorder(), max_backoff=0.5)
    task = asyncio.create_task(session.run())
    try:
        await asyncio.wait_for(session.wait_connected(), 10)
        assert session.url == gateway_url
        args = report_args(_Running(writer), LINGHU, "经网关")
        reply = await session.command("report", args, command_id="desk-1")
        assert isinstance(reply, Result) and not reply.repeat
        assert session.url == writer_url  # moved to the writer the gateway named
        await eventually(lambda: reply.data["event"] in session.replica.events)
        # Applied once: the same command_id again is the same answer, marked a repeat.
        again = await session.command("report", args, command_id="desk-1")
        assert isinstance(again, Result) and again.repeat
        assert again.data == reply.data
        # The gateway's own clients saw it too, at the writer's seq.
        await eventually(lambda: gateway.hub is not None and gateway.hub.head == reply.seq)
    finally:
        await session.stop()
        await asyncio.wait_for(task, 5)
        await gateway.stop()
        gateway_store.close()
        await writer.stop()
        writer_store.close()
