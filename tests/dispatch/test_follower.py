"""Standbys and gateways (issue 16, item 1): nodes on the writer's database that follow its
committed log, serve walls and desks the same protocol (snapshot, deltas with the writer's
seq, resume on any node), refuse commands with not_writer naming the writer, and (a standby)
take over when the writer stops, its clients staying connected."""

from __future__ import annotations

import asyncio

import pytest

from dispatch import server as server_module
from dispatch.server import DispatchServer, Role
from dispatch.store.store import Store
from protocol.codes import ErrorCode
from protocol.messages import Delta, Error, Kpis, Result, Resume, Snapshot, Welcome
from tests.dispatch.conftest import (
    Running,
    open_client,
    prepared_store,
    reference_for,
    start_server,
)
from tests.dispatch.test_admin import admin_of, ask
from tests.dispatch.test_server import handshake, report_args
from tests.dispatch.test_tables import edit, pushed


async def start_node(url: str, role: Role, writer: Running) -> Running:
    """Another node on the writer's database, in `role`, with the writer's users."""
    store = Store(url)
    server = DispatchServer(store, reference_for(store))
    port = await server.start("127.0.0.1", 0, role=role)
    return Running(server, store, port, writer.tokens)


async def until_equal(get, want, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while get() != want:
        assert asyncio.get_running_loop().time() < deadline, f"{get()!r} != {want!r}"
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("role", ["standby", "gateway"])
async def test_a_follower_serves_the_writers_log_and_refuses_commands(db_url, role) -> None:
    writer = await start_server(prepared_store(db_url))
    node = None
    try:
        commander = await writer.client()
        await handshake(commander)
        first = await commander.command("report", report_args(writer, title="在关注之前"))
        assert isinstance(first, Result)
        node = await start_node(db_url, role, writer)
        # A snapshot on the node holds what the writer committed before it started.
        wall = await node.client("wall")
        _, snapshot = await handshake(wall)
        assert isinstance(snapshot, Snapshot)
        assert snapshot.seq == writer.server.hub.head
        assert [e.title for e in snapshot.events] == ["在关注之前"]

        # What the writer commits reaches the node's clients as the same deltas.
        second = await commander.command("report", report_args(writer, title="关注之后"))
        assert isinstance(second, Result)
        delta = await wall.until(lambda m: isinstance(m, Delta) and m.data.title == "关注之后")
        assert isinstance(delta, Delta) and delta.seq == second.seq
        await until_equal(lambda: node.server.hub.head, writer.server.hub.head)
        assert node.server.hub.events == writer.server.hub.events

        # A command sent to the node: refused, nothing applied, the writer named.
        desk = await node.client("commander")
        await handshake(desk)
        head = writer.store.head()[0]
        refused = await desk.command("report", report_args(writer), command_id="at-the-node")
        assert isinstance(refused, Error) and refused.code == ErrorCode.NOT_WRITER
        assert refused.writer == f"ws://127.0.0.1:{writer.port}"
        assert refused.command_id == "at-the-node"
        assert writer.store.head()[0] == head
        # Sent there with the same command_id, it is applied once.
        again = await commander.command("report", report_args(writer), command_id="at-the-node")
        assert isinstance(again, Result)

        # A client resumes on the node with the (epoch, seq) the writer gave it.
        late = await open_client(
            node.port, writer.tokens["wall"], Resume(epoch=snapshot.epoch, seq=snapshot.seq)
        )
        assert isinstance(await late.recv(), Welcome)
        replayed = await late.until(lambda m: isinstance(m, Delta) and m.seq == again.seq)
        assert isinstance(replayed, Delta)
        assert not any(isinstance(m, Snapshot) for m in late.inbox)  # a replay, not a snapshot
    finally:
        if node is not None:
            await node.server.stop()
            node.store.close()
        await writer.server.stop()


async def test_a_standby_takes_over_and_its_clients_stay_live(pg_url) -> None:
    writer = await start_server(prepared_store(pg_url))
    standby = await start_node(pg_url, "standby", writer)
    try:
        wall = await standby.client("wall")
        await handshake(wall)
        desk = await standby.client("commander")
        await handshake(desk)
        refused = await desk.command("report", report_args(writer))
        assert isinstance(refused, Error) and refused.code == ErrorCode.NOT_WRITER

        await writer.server.stop()  # the writer stops: its lock goes with it
        writer.store.close()
        loop = asyncio.get_running_loop()
        began = loop.time()
        while standby.server.role != "writer":
            assert loop.time() - began < 5, "no takeover within 5 s"
            await asyncio.sleep(0.05)
        taken = await desk.command("report", report_args(writer, title="接管之后"))
        assert isinstance(taken, Result)
        # Its wall never disconnected: the new writer's delta reaches it.
        delta = await wall.until(lambda m: isinstance(m, Delta) and m.data.title == "接管之后")
        assert isinstance(delta, Delta) and delta.seq == taken.seq
        assert standby.store.head()[0] == taken.seq
    finally:
        await standby.server.stop()
        standby.store.close()


async def test_an_admins_category_table_change_reaches_a_gateways_clients(
    sqlite_url, monkeypatch
) -> None:
    monkeypatch.setattr(server_module, "TABLE_FOLLOW_SECONDS", 0.2)
    writer = await start_server(prepared_store(sqlite_url))
    node = await start_node(sqlite_url, "gateway", writer)
    try:
        wall = await node.client("wall")
        await handshake(wall)
        admin = await admin_of(writer)
        # An admin change sent to the gateway is refused there: it goes to the writer.
        refused = await ask(await _admin_at(node), edit(limits=LIMITS))
        assert isinstance(refused, Error) and refused.code == ErrorCode.NOT_WRITER
        assert isinstance(await ask(admin, edit(limits=LIMITS)), Result)
        news = await pushed(wall)
        [changed] = [c for c in news.categories if c.code == "01-02"]
        assert changed.limits["handle"].amount == 2
        assert node.server.reference.categories["01-02"] == changed
    finally:
        await node.server.stop()
        node.store.close()
        await writer.server.stop()


LIMITS = {"accept": "1h", "dispatch": "1h", "handle": "2h", "verify": "1h"}


async def _admin_at(node: Running):  # type: ignore[no-untyped-def]
    """The admin (admin_of made it on the writer), connected to another node."""
    client = await node.client("admin")
    await handshake(client)
    return client


async def test_a_gateway_says_when_no_node_writes(pg_url, caplog) -> None:
    """The lease still names the last writer once it has gone: a gateway looks at the
    writer's lock itself, says in its log that no node writes, and stops sending desks to
    the gone writer's address (found by a newcomer's trial)."""
    writer = await start_server(prepared_store(pg_url))
    node = await start_node(pg_url, "gateway", writer)
    try:
        assert node.store.writer_lock_held()
        await until_equal(lambda: node.server.writer_at, f"ws://127.0.0.1:{writer.port}")
        await writer.server.stop()
        writer.store.close()
        assert not node.store.writer_lock_held()
        # Said after NO_WRITER_LOOKS looks in a row (a writer's lost session is taken again
        # within them), every GATEWAY_POLL seconds: 4-6 s, more on a loaded machine.
        await until_equal(lambda: "no node writes" in caplog.text, True, timeout=30)
        desk = await node.client("commander")
        await handshake(desk)
        refused = await desk.command("report", report_args(writer))
        assert isinstance(refused, Error) and refused.code == ErrorCode.NOT_WRITER
        assert not refused.writer and "the writer is not known yet" in refused.message
        # Its clients are told with the figures (the wall says so).
        told = await desk.until(lambda m: isinstance(m, Kpis) and m.no_writer, timeout=10)
        assert isinstance(told, Kpis) and told.no_writer
        # A writer again: named to the desks, and the notice goes.
        store = Store(pg_url)
        again = DispatchServer(store, reference_for(store))  # the same users: the desk stays
        try:
            port = await again.start("127.0.0.1", 0)
            want = f"ws://127.0.0.1:{port}"
            await until_equal(lambda: node.server.writer_at, want, timeout=30)
            back = await desk.until(lambda m: isinstance(m, Kpis) and not m.no_writer, 10)
            assert isinstance(back, Kpis)
        finally:
            await again.stop()
            store.close()
    finally:
        await node.server.stop()
        node.store.close()
