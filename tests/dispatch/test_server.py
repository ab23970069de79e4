"""A real server on port 0 with real websocket clients, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import socket
import uuid

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from dispatch.server import Limits
from dispatch.store.store import Store
from protocol.codec import decode_server, encode
from protocol.codes import RESUMABLE_CLOSE_CODES, CloseCode, ErrorCode
from protocol.entities import Event
from protocol.messages import Delta, Error, Hello, Kpis, Result, Resume, Snapshot, Units, Welcome
from tests.dispatch.conftest import DEKUAN, LINGHU, Running, open_client, point_in, start_server


def report_args(running: Running, street: str = LINGHU, title: str = "测试事件") -> dict:
    lon, lat = point_in(running.server.reference, street)
    return {"category": "01-02", "title": title, "lon": lon, "lat": lat, "source": "hotline"}


async def handshake(client) -> tuple[Welcome, Snapshot]:
    """Welcome, the units (kept on the client as `.units`), then the snapshot."""
    welcome = await client.recv()
    assert isinstance(welcome, Welcome)
    units = await client.recv(timeout=15)
    assert isinstance(units, Units)
    client.units = units
    snapshot = await client.recv(timeout=15)
    assert isinstance(snapshot, Snapshot) and snapshot.reference == units.version
    return welcome, snapshot


async def test_snapshot_then_deltas(running: Running) -> None:
    wall = await running.client("wall")
    welcome, snapshot = await handshake(wall)
    assert welcome.role == "wall" and welcome.resume == "none"
    assert snapshot.seq == welcome.head
    assert len(wall.units.reference.streets) == 9
    assert len(wall.units.reference.grids) == 351
    commander = await running.client("commander")
    await handshake(commander)
    reply = await commander.command("report", report_args(running))
    assert isinstance(reply, Result), reply
    delta = await wall.until(lambda m: isinstance(m, Delta))
    assert isinstance(delta, Delta) and isinstance(delta.data, Event)
    assert delta.seq == snapshot.seq + 1 == reply.seq
    assert delta.data.status == "reported" and delta.data.street == LINGHU
    assert delta.data.code.startswith("DG-")
    await wall.ws.close()
    await commander.ws.close()


async def test_command_acknowledged_after_commit_and_audited(running: Running) -> None:
    c = await running.client("commander")
    await handshake(c)
    reply = await c.command("report", report_args(running))
    assert isinstance(reply, Result)
    event_id = reply.data["event"]
    for op, args in [("accept", {}), ("dispatch", {"assignee": "网格员 张三"}), ("start", {})]:
        r = await c.command(op, {"event": event_id, **args})
        assert isinstance(r, Result), r
    # The answer came after commit: the log already holds every step, with its actor.
    history = await asyncio.to_thread(running.store.event_history, event_id)
    assert [h.action for h in history] == ["report", "accept", "dispatch", "start"]
    assert {h.actor for h in history} == {"指挥长"}
    await c.ws.close()


async def test_illegal_transition_refused_clearly(running: Running) -> None:
    c = await running.client("commander")
    await handshake(c)
    reply = await c.command("report", report_args(running))
    event_id = reply.data["event"]
    bad = await c.command("close", {"event": event_id})
    assert isinstance(bad, Error) and bad.code == ErrorCode.ILLEGAL_TRANSITION
    assert "reported" in bad.message and "verified" in bad.message
    # Nothing changed: the event is still reported, and the connection still works.
    assert running.server.hub.events[event_id].status == "reported"
    ok = await c.command("accept", {"event": event_id})
    assert isinstance(ok, Result)
    await c.ws.close()


async def test_repeated_command_applies_once(running: Running) -> None:
    c = await running.client("commander")
    await handshake(c)
    command_id = uuid.uuid4().hex
    first = await c.command("report", report_args(running), command_id)
    head = running.server.hub.head
    again = await c.command("report", report_args(running), command_id)
    assert isinstance(first, Result) and isinstance(again, Result)
    assert again.repeat and again.data == first.data and again.seq == first.seq
    assert running.server.hub.head == head  # nothing new was written
    other = await c.command("report", report_args(running, title="别的"), command_id)
    assert isinstance(other, Error) and other.code == ErrorCode.CONFLICT
    await c.ws.close()
    # A reconnect (new connection) repeating the id still gets the stored first result.
    c2 = await running.client("commander")
    await handshake(c2)
    third = await c2.command("report", report_args(running), command_id)
    assert isinstance(third, Result) and third.repeat and third.data == first.data
    await c2.ws.close()


async def test_a_command_id_the_server_cannot_record_is_refused(running: Running) -> None:
    # PostgreSQL's text holds no NUL: such an id once reached the refusal's record and
    # answered `internal` (found by the fuzzer). Every database now refuses it up front.
    c = await running.client("commander")
    await handshake(c)
    head = running.server.hub.head
    for command_id in ["\x00<script>", "a\nb", "\x7f", "x" * 65]:
        for op, args in [
            ("report", report_args(running)),
            ("reopen", {"event": 1, "reason": "再"}),
        ]:
            bad = await c.command(op, args, command_id)
            assert isinstance(bad, Error) and bad.code == ErrorCode.BAD_ARGS, bad
            assert bad.message == (
                "command_id must be 1..64 characters, none of them a control character"
            )
    assert running.server.hub.head == head  # nothing recorded
    ok = await c.command("report", report_args(running), "好的-id")
    assert isinstance(ok, Result)
    await c.ws.close()


async def test_street_user_sees_only_its_street(running: Running) -> None:
    c = await running.client("commander")
    await handshake(c)
    mine = await c.command("report", report_args(running, LINGHU))
    theirs = await c.command("report", report_args(running, DEKUAN))
    linghu = await running.client("linghu")
    welcome, snapshot = await handshake(linghu)
    assert welcome.jurisdiction == [LINGHU]
    assert {e.street for e in snapshot.events} == {LINGHU}
    assert {s.code for s in linghu.units.reference.streets} == {LINGHU}
    assert all(g.street == LINGHU for g in linghu.units.reference.grids)
    assert all(c.street == LINGHU for c in linghu.units.reference.cameras)
    assert set(snapshot.kpis) <= {LINGHU}
    # Live: a Dekuan change is not sent, a Linghu one is.
    await c.command("accept", {"event": theirs.data["event"]})
    await c.command("accept", {"event": mine.data["event"]})
    delta = await linghu.until(lambda m: isinstance(m, Delta))
    assert delta.data.street == LINGHU and delta.data.id == mine.data["event"]
    # Acting on another street's event looks like it does not exist.
    refused = await linghu.command("dispatch", {"event": theirs.data["event"], "assignee": "x"})
    assert isinstance(refused, Error) and refused.code == ErrorCode.NOT_FOUND
    # Replay: resume from before both reports gets only Linghu's deltas.
    await linghu.ws.close()
    again = await running.client("linghu", Resume(epoch=welcome.epoch, seq=snapshot.seq - 2))
    w2 = await again.recv()
    assert isinstance(w2, Welcome) and w2.resume == "replay"
    replayed = []
    while True:
        try:
            m = await again.recv(timeout=0.5)
        except TimeoutError:
            break
        if isinstance(m, Delta):
            replayed.append(m)
    assert replayed and all(m.data.street == LINGHU for m in replayed)
    await again.ws.close()
    await c.ws.close()


async def test_wall_may_act_on_nothing(running: Running) -> None:
    wall = await running.client("wall")
    await handshake(wall)
    head = running.server.hub.head
    refused = await wall.command("report", report_args(running))
    assert isinstance(refused, Error) and refused.code == ErrorCode.FORBIDDEN
    assert running.server.hub.head == head
    await wall.ws.close()


async def test_resume_after_cut_gets_every_delta_exactly_once(running: Running) -> None:
    c = await running.client("commander")
    await handshake(c)
    watcher = await running.client("dispatcher")
    welcome, snapshot = await handshake(watcher)
    seen: list[int] = []

    async def produce(n: int) -> None:
        for i in range(n):
            r = await c.command("report", report_args(running, title=f"事件{i}"))
            assert isinstance(r, Result)

    await produce(10)
    while len(seen) < 5:
        m = await watcher.recv()
        if isinstance(m, Delta):
            seen.append(m.seq)
    # Cut the connection abruptly mid-stream, keep producing, then resume.
    watcher.ws.transport.abort()
    await produce(10)
    resumed = await running.client("dispatcher", Resume(epoch=welcome.epoch, seq=seen[-1]))
    w = await resumed.recv()
    assert isinstance(w, Welcome) and w.resume == "replay"
    head = running.server.hub.head
    while not seen or seen[-1] < head:
        m = await resumed.recv()
        if isinstance(m, Delta):
            seen.append(m.seq)
    assert seen == list(range(snapshot.seq + 1, head + 1))
    await resumed.ws.close()
    await c.ws.close()


async def test_resume_from_the_log_when_ring_is_short(store) -> None:
    running = await start_server(store, Limits(ring_size=3))
    try:
        c = await running.client("commander")
        _, snapshot = await handshake(c)
        for i in range(8):
            await c.command("report", report_args(running, title=f"事件{i}"))
        resumed = await running.client(
            "commander", Resume(epoch=running.server.hub.epoch, seq=snapshot.seq)
        )
        w = await resumed.recv()
        assert w.resume == "replay"
        seqs = []
        while len(seqs) < 8:
            m = await resumed.recv()
            if isinstance(m, Delta):
                seqs.append(m.seq)
        assert seqs == list(range(snapshot.seq + 1, snapshot.seq + 9))
        await resumed.ws.close()
        await c.ws.close()
    finally:
        await running.server.stop()


async def test_the_ring_keeps_at_most_its_bytes_and_older_deltas_come_from_the_log(
    store,
) -> None:
    """§5, §13: the deltas kept in memory are bounded in bytes too (the backlog bound): the
    oldest go first, and a resume from before them is replayed from the database, whole."""
    running = await start_server(store, Limits(ring_bytes=4000))
    try:
        c = await running.client("commander")
        _, snapshot = await handshake(c)
        for i in range(10):
            await c.command("report", report_args(running, title=f"事件{i}"))
        hub = running.server.hub
        assert hub is not None
        assert hub.ring_bytes == sum(len(w) for _, _, w in hub.ring) <= 4000
        assert 1 < len(hub.ring) < 10 and hub.ring[-1][0] == hub.head
        assert hub.ring_start() > snapshot.seq  # the first reports left memory
        for since, source in ((snapshot.seq, "the log"), (hub.ring_start(), "memory")):
            resumed = await running.client("commander", Resume(epoch=hub.epoch, seq=since))
            w = await resumed.recv()
            assert isinstance(w, Welcome) and w.resume == "replay", source
            seqs = []
            while not seqs or seqs[-1] < hub.head:
                m = await resumed.recv()
                if isinstance(m, Delta):
                    seqs.append(m.seq)
            assert seqs == list(range(since + 1, hub.head + 1)), source
            await resumed.ws.close()
        await c.ws.close()
    finally:
        await running.server.stop()


async def test_resume_with_unknown_epoch_or_trimmed_history_resets(running: Running) -> None:
    c = await running.client("commander", Resume(epoch="not-this-one", seq=5))
    w = await c.recv()
    assert isinstance(w, Welcome) and w.resume == "reset"
    assert isinstance(await c.recv(timeout=15), Units)
    snap = await c.recv(timeout=15)
    assert isinstance(snap, Snapshot) and snap.reason == "reset"
    await c.ws.close()
    ahead = await running.client("commander", Resume(epoch=w.epoch, seq=w.head + 100))
    w2 = await ahead.recv()
    assert w2.resume == "reset"
    await ahead.ws.close()


async def test_malformed_frame_answered_connection_stays(running_sqlite: Running) -> None:
    c = await running_sqlite.client("commander")
    await handshake(c)
    await c.ws.send("{not json")
    err = await c.until(lambda m: isinstance(m, Error))
    assert err.code == ErrorCode.BAD_MESSAGE and err.id == 0
    await c.ws.send('{"id": 7, "type": "command", "command_id": "x", "op": "accept", "extra": 1}')
    err = await c.until(lambda m: isinstance(m, Error))
    assert err.code == ErrorCode.BAD_MESSAGE and err.id == 7 and "extra" in err.message
    await c.ws.send('{"id": 8, "type": "command", "command_id": "y", "op": "launch", "args": {}}')
    err = await c.until(lambda m: isinstance(m, Error))
    assert err.code == ErrorCode.UNKNOWN_OP and err.id == 8
    await c.ws.send(
        '{"id": 9, "type": "command", "command_id": "z", "op": "accept", "args": {"event": "one"}}'
    )
    err = await c.until(lambda m: isinstance(m, Error))
    assert err.code == ErrorCode.BAD_ARGS and err.id == 9
    await c.ws.send('{"id": 3, "type": "ping"}')
    err = await c.until(lambda m: isinstance(m, Error))
    assert err.code == ErrorCode.BAD_ID
    c.ids = itertools.count(100)
    ok = await c.command("report", report_args(running_sqlite))  # still serving
    assert isinstance(ok, Result)
    await c.ws.close()


async def test_oversized_frame_closes_that_client_only(running_sqlite: Running) -> None:
    other = await running_sqlite.client("wall")
    await handshake(other)
    big = await running_sqlite.client("commander")
    await handshake(big)
    await big.ws.send("x" * (running_sqlite.server.limits.max_frame + 1))
    with pytest.raises(ConnectionClosed) as info:
        while True:
            await big.recv()
    assert info.value.rcvd.code == CloseCode.MESSAGE_TOO_BIG
    c = await running_sqlite.client("commander")
    await handshake(c)
    await c.command("report", report_args(running_sqlite))
    assert isinstance(await other.until(lambda m: isinstance(m, Delta)), Delta)
    await other.ws.close()
    await c.ws.close()


async def test_handshake_refusals(running_sqlite: Running) -> None:
    port = running_sqlite.port
    bad = await open_client(port, "wrong-token")
    with pytest.raises(ConnectionClosed) as info:
        await bad.recv()
    assert info.value.rcvd.code == CloseCode.AUTH_FAILED
    async with connect(f"ws://127.0.0.1:{port}") as ws:
        await ws.send('{"id":1,"type":"ping"}')
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
        assert info.value.rcvd.code == CloseCode.PROTOCOL_VIOLATION
    async with connect(f"ws://127.0.0.1:{port}") as ws:
        await ws.send('{"id":1,"type":"hello","protocol":99,"token":"x"}')
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
        assert info.value.rcvd.code == CloseCode.UNSUPPORTED_VERSION
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"ws://127.0.0.1:{port}/?token=abc"):
            pass
    assert refused.value.response.status_code == 400


async def test_hello_timeout(sqlite_store) -> None:
    running = await start_server(sqlite_store, Limits(hello_timeout=0.3))
    try:
        async with connect(f"ws://127.0.0.1:{running.port}") as ws:
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
            assert info.value.rcvd.code == CloseCode.HANDSHAKE_TIMEOUT
    finally:
        await running.server.stop()


async def test_slow_client_closed_without_slowing_others(sqlite_store) -> None:
    running = await start_server(
        sqlite_store, Limits(max_backlog=64 * 1024, commands_per_second=1e4, command_burst=10**4)
    )
    try:
        slow = await running.client("wall")
        await handshake(slow)
        slow.ws.transport.pause_reading()  # a client that stops reading
        # Small socket buffers so the backlog shows up in the server's queue, not the kernel's.
        slow.ws.transport.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_RCVBUF, 4096
        )
        for cl in running.server.hub.clients:
            cl.ws.transport.get_extra_info("socket").setsockopt(
                socket.SOL_SOCKET, socket.SO_SNDBUF, 4096
            )
        fast = await running.client("dispatcher")
        await handshake(fast)
        c = await running.client("commander")
        await handshake(c)
        got = 0

        async def read_fast() -> None:
            nonlocal got
            while got < 300:
                if isinstance(await fast.recv(timeout=20), Delta):
                    got += 1

        reader = asyncio.create_task(read_fast())
        for i in range(300):
            await c.command("report", report_args(running, title=f"批量{i}" + "长" * 150))
        await asyncio.wait_for(reader, 30)
        assert got == 300
        assert all(cl.user.name != "大屏" for cl in running.server.hub.clients)
        slow.ws.transport.resume_reading()
        with pytest.raises(ConnectionClosed) as info:
            while True:
                # The server aborts 2 s after its close frame, later on a loaded machine.
                await slow.recv(timeout=20)
        assert info.value.rcvd is None or info.value.rcvd.code == CloseCode.TOO_SLOW
        await fast.ws.close()
        await c.ws.close()
    finally:
        await running.server.stop()


async def test_kpis_pushed(running_sqlite: Running) -> None:
    c = await running_sqlite.client("commander")
    await handshake(c)
    await c.command("report", report_args(running_sqlite))
    k = await c.until(lambda m: isinstance(m, Kpis), timeout=5)
    assert k.scopes["district"].received >= 1 and LINGHU in k.scopes
    # Arrivals per hour: today's so far add up to today's received; yesterday has 24 hours.
    district = k.scopes["district"]
    assert sum(district.hourly) == district.received and len(district.hourly) <= 24
    assert len(district.hourly_yesterday) == 24
    await c.ws.close()


async def test_rate_limit_answers_and_keeps_connection(sqlite_store) -> None:
    running = await start_server(sqlite_store, Limits(commands_per_second=1, command_burst=2))
    try:
        c = await running.client("commander")
        await handshake(c)
        replies = [await c.command("report", report_args(running)) for _ in range(4)]
        codes = [r.code if isinstance(r, Error) else "ok" for r in replies]
        assert codes[:2] == ["ok", "ok"] and ErrorCode.RATE_LIMITED in codes[2:]
        await c.ws.close()
    finally:
        await running.server.stop()


async def test_repeat_in_the_same_batch_answers_like_the_first(running_sqlite: Running) -> None:
    from dispatch.state import Actor, args_digest
    from dispatch.writer import CommandRequest
    from protocol.commands import Report

    args = report_args(running_sqlite)
    actor = Actor("指挥长", "commander")
    requests = [
        CommandRequest(actor, "report", Report(**args), "same-id", args_digest("report", args))
        for _ in range(3)
    ]
    head = running_sqlite.server.hub.head
    answers = await asyncio.gather(*(running_sqlite.server.submit(r) for r in requests))
    assert all(a.ok for a in answers)
    assert [a.repeat for a in answers] == [False, True, True]
    assert {a.seq for a in answers} == {head + 1} and running_sqlite.server.hub.head == head + 1


async def test_cached_units_are_not_sent_again(running_sqlite: Running) -> None:
    first = await running_sqlite.client("linghu")
    _, snapshot = await handshake(first)
    await first.ws.close()
    async with connect(f"ws://127.0.0.1:{running_sqlite.port}", max_size=None) as ws:
        hello = Hello(
            id=1, protocol=1, token=running_sqlite.tokens["linghu"], reference=snapshot.reference
        )
        await ws.send(encode(hello).decode())
        assert isinstance(decode_server(await ws.recv()), Welcome)
        second = decode_server(await ws.recv())
        assert isinstance(second, Snapshot) and second.reference == snapshot.reference


async def test_replay_sends_units_only_when_the_cached_version_is_stale(
    running_sqlite: Running,
) -> None:
    first = await running_sqlite.client("linghu")
    welcome, snapshot = await handshake(first)
    await first.ws.close()
    for cached, expect_units in ((snapshot.reference, False), ("stale-version", True)):
        async with connect(f"ws://127.0.0.1:{running_sqlite.port}", max_size=None) as ws:
            hello = Hello(
                id=1,
                protocol=1,
                token=running_sqlite.tokens["linghu"],
                resume=Resume(epoch=welcome.epoch, seq=snapshot.seq),
                reference=cached,
            )
            await ws.send(encode(hello).decode())
            w = decode_server(await ws.recv())
            assert isinstance(w, Welcome) and w.resume == "replay"
            if expect_units:
                units = decode_server(await ws.recv())
                assert isinstance(units, Units) and units.version == snapshot.reference
            else:
                # Kpis or a clock's delta may come meanwhile (a loaded CI machine
                # sent one); what must not come is the units table.
                later = await _received_within(ws, 0.3)
                assert not any(isinstance(m, Units) for m in later), later


async def _received_within(ws: ClientConnection, seconds: float) -> list[object]:
    """Every server message that arrives on `ws` within `seconds`."""
    received: list[object] = []
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while (left := end - loop.time()) > 0:
        try:
            received.append(decode_server(await asyncio.wait_for(ws.recv(), left)))
        except TimeoutError:
            break
    return received


async def test_an_op_failing_half_way_leaves_nothing_behind(running_sqlite: Running) -> None:
    from dispatch.state import Actor, State
    from dispatch.workflow import WorkflowError
    from dispatch.writer import CallRequest, CommandRequest
    from protocol.commands import Report

    server = running_sqlite.server
    args = Report(**report_args(running_sqlite))
    actor = Actor("指挥长", "commander")
    events_before = dict(server.state.events)
    head = server.hub.head

    def report_then_fail(state: State, now: float):
        state.report(actor, args, now)
        raise WorkflowError("illegal_transition", "refused after a partial change")

    answer = await server.submit(CallRequest(report_then_fail))
    assert not answer.ok and answer.code == "illegal_transition"
    assert server.state.events == events_before and server.hub.head == head
    ok = await server.submit(CommandRequest(actor, "report", args))
    assert ok.ok and server.hub.head == head + 1


async def test_same_command_id_by_another_user_in_one_batch_conflicts(
    running_sqlite: Running,
) -> None:
    from dispatch.state import Actor, args_digest
    from dispatch.writer import CommandRequest
    from protocol.commands import Report

    args = report_args(running_sqlite)
    digest = args_digest("report", args)
    requests = [
        CommandRequest(Actor(name, "commander"), "report", Report(**args), "shared", digest)
        for name in ("甲", "乙")
    ]
    first, second = await asyncio.gather(*(running_sqlite.server.submit(r) for r in requests))
    assert first.ok and not second.ok and second.code == ErrorCode.CONFLICT


async def test_resume_into_a_log_trimmed_by_another_process_resets(sqlite_store) -> None:
    running = await start_server(sqlite_store, Limits(ring_size=3))
    try:
        c = await running.client("commander")
        welcome, snapshot = await handshake(c)
        for i in range(10):
            await c.command("report", report_args(running, title=f"事件{i}"))
        other = Store(sqlite_store.url)  # `dispatch trim-log` runs as its own process
        other.trim_log(running.server.hub.head - 2)
        resumed = await running.client("commander", Resume(epoch=welcome.epoch, seq=snapshot.seq))
        w = await resumed.recv()
        assert isinstance(w, Welcome) and w.resume == "reset"  # never a silent gap
        await resumed.ws.close()
        await c.ws.close()
    finally:
        await running.server.stop()


async def test_revoked_user_is_cut_off(sqlite_store) -> None:
    running = await start_server(sqlite_store, Limits(auth_recheck=0.2, tick_interval=0.05))
    try:
        linghu = await running.client("linghu")
        await handshake(linghu)
        running.store.revoke_user("菱湖分中心")  # as `dispatch revoke-user` does, outside
        with pytest.raises(ConnectionClosed) as info:
            while True:
                await linghu.recv(timeout=5)
        assert info.value.rcvd.code == CloseCode.CREDENTIALS_CHANGED
        again = await running.client("linghu")
        with pytest.raises(ConnectionClosed) as info:
            await again.recv()
        assert info.value.rcvd.code == CloseCode.AUTH_FAILED
    finally:
        await running.server.stop()


async def test_hello_with_a_long_chinese_field_name_gets_4000(running_sqlite: Running) -> None:
    async with connect(f"ws://127.0.0.1:{running_sqlite.port}") as ws:
        await ws.send('{"id":1,"type":"hello","protocol":1,"token":"x","' + "网格" * 80 + '":1}')
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
        assert info.value.rcvd.code == CloseCode.PROTOCOL_VIOLATION


async def test_uncertain_commit_stops_the_writer(running_sqlite: Running) -> None:
    from dispatch.state import Actor
    from dispatch.store.store import StoreError
    from dispatch.writer import CommandRequest
    from protocol.commands import Report

    server = running_sqlite.server
    store = server.store
    real_commit = store.commit

    def commit_then_lose_the_connection(*args, **kwargs):
        real_commit(*args, **kwargs)  # COMMIT went through...
        raise StoreError("connection lost")  # ...but the answer never came back

    wall = await running_sqlite.client("wall")
    await handshake(wall)
    store.commit = commit_then_lose_the_connection
    actor = Actor("指挥长", "commander")
    args = Report(**report_args(running_sqlite))
    first = await server.submit(CommandRequest(actor, "report", args))
    assert not first.ok and first.code == ErrorCode.INTERNAL
    store.commit = real_commit
    later = await server.submit(CommandRequest(actor, "report", args))
    assert not later.ok and "restart" in later.message  # fail-stop: no diverging writes
    assert server.writer.failed
    # The backend is told, to exit for a supervisor to start it again (dispatch serve exits
    # with status 3: tests/reliability/test_disk_full.py); its clients hear 1012, resumable.
    reason = await asyncio.wait_for(server.writer_stopped(), 2)
    assert reason == "commit outcome uncertain"
    await server.stop()
    with pytest.raises(ConnectionClosed) as info:
        while True:
            await wall.recv(timeout=5)
    assert info.value.rcvd is not None and info.value.rcvd.code == CloseCode.SERVICE_RESTART
    assert CloseCode.SERVICE_RESTART in RESUMABLE_CLOSE_CODES


async def test_a_failed_commit_drops_the_pooled_connections(running_sqlite: Running) -> None:
    # Its server may be gone without a reset: a stale pooled connection's pre-ping would wait
    # tcp_user_timeout first (tests/reliability/test_pg_partition.py).
    from sqlalchemy.exc import OperationalError

    from dispatch.state import Actor
    from dispatch.store.store import StoreError
    from dispatch.writer import CommandRequest
    from protocol.commands import Report

    server = running_sqlite.server
    store = server.store
    real_commit, real_drop = store.commit, store.drop_pooled_connections
    dropped: list[int] = []

    def lose_the_connection(*args, **kwargs):
        raise StoreError("commit failed: connection lost")

    store.commit = lose_the_connection
    store.drop_pooled_connections = lambda: dropped.append(1)
    actor = Actor("指挥长", "commander")
    args = Report(**report_args(running_sqlite))
    first = await server.submit(CommandRequest(actor, "report", args))
    assert not first.ok and first.code == ErrorCode.INTERNAL, first
    assert "nothing was applied" in first.message and dropped == [1]
    store.commit = real_commit
    # The same when the batch's reads fail, before any commit (a command's id looked up).
    real_find = store.find_commands

    def lose_it_reading(*args, **kwargs):
        raise OperationalError("SELECT", {}, Exception("could not receive data from server"))

    store.find_commands = lose_it_reading
    read = await server.submit(CommandRequest(actor, "report", args, command_id="c-1"))
    assert not read.ok and read.code == ErrorCode.INTERNAL, read
    assert "nothing was applied" in read.message and dropped == [1, 1]
    store.find_commands, store.drop_pooled_connections = real_find, real_drop
    again = await server.submit(CommandRequest(actor, "report", args, command_id="c-1"))
    assert again.ok and not server.writer.failed


def test_dropping_the_pooled_connections_keeps_the_claim(pg_url: str) -> None:
    from dispatch.store.store import StoreError

    store, other = Store(pg_url), Store(pg_url)
    try:
        store.upgrade()
        store.claim()
        head = store.head()
        store.drop_pooled_connections()
        assert store.engine.pool.checkedin() == 0
        assert store.head() == head  # new connections, the same database
        with pytest.raises(StoreError, match="another dispatch backend"):
            other.claim()  # the advisory lock's session was checked out: not dropped
    finally:
        other.close()
        store.close()


async def test_one_backend_per_database(db_url) -> None:
    from dispatch.server import DispatchServer
    from dispatch.store.store import StoreError
    from tests.dispatch.conftest import prepared_store, reference_for

    first = await start_server(prepared_store(db_url))
    other = Store(db_url)  # as another process would open it
    try:
        second = DispatchServer(other, reference_for(other))
        with pytest.raises(StoreError, match="another dispatch backend"):
            await second.start("127.0.0.1", 0)
        await first.server.stop()  # released: now the other may serve
        port = await second.start("127.0.0.1", 0)
        assert port > 0
        await second.stop()
    finally:
        await first.server.stop()
        other.close()
        first.store.close()


async def test_return_and_separation_of_duties_over_the_wire(running: Running) -> None:
    commander = await running.client("commander")
    await handshake(commander)
    linghu = await running.client("linghu")
    await handshake(linghu)
    dispatcher = await running.client("dispatcher")
    await handshake(dispatcher)
    wall = await running.client("wall")
    await handshake(wall)
    dekuan = await running.client("dekuan")
    await handshake(dekuan)
    eid = (await commander.command("report", report_args(running))).data["event"]
    await commander.command("accept", {"event": eid})
    sent = {"event": eid, "assignee": "区城管局", "assist": ["区住建局"]}
    assert isinstance(await commander.command("dispatch", sent), Result)
    # 退单: the wall may not, another street cannot see it, the reason is required.
    back = {"event": eid, "reason": "非本单位职责"}
    refused = await wall.command("return_case", back)
    assert isinstance(refused, Error) and refused.code == ErrorCode.FORBIDDEN
    hidden = await dekuan.command("return_case", back)
    assert isinstance(hidden, Error) and hidden.code == ErrorCode.NOT_FOUND
    no_reason = await linghu.command("return_case", {"event": eid})
    assert isinstance(no_reason, Error) and no_reason.code == ErrorCode.BAD_ARGS
    returned = await linghu.command("return_case", back)
    assert isinstance(returned, Result) and returned.data == {"event": eid, "status": "accepted"}
    delta = await commander.until(lambda m: isinstance(m, Delta) and m.action == "return_case")
    assert delta.data.returned_by == ["区城管局"] and delta.data.assignee == ""
    assert delta.actor == "菱湖分中心" and delta.seq == returned.seq
    again = await linghu.command("return_case", back)
    assert isinstance(again, Error) and again.code == ErrorCode.ILLEGAL_TRANSITION
    # Dispatched again with an assisting unit: the lead's report waits for it.
    await commander.command("dispatch", {**sent, "assignee": "区市政中心"})
    await linghu.command("start", {"event": eid})
    early = await linghu.command("handled", {"event": eid})
    assert isinstance(early, Error) and early.code == ErrorCode.ILLEGAL_TRANSITION
    assert "区住建局" in early.message
    part = {"event": eid, "unit": "区住建局", "text": "管道已修复"}
    assert isinstance(await dispatcher.command("assist_report", part), Result)
    assert isinstance(await linghu.command("handled", {"event": eid}), Result)
    # The handler may neither verify nor close his own work.
    own = await linghu.command("verify", {"event": eid, "passed": True})
    assert isinstance(own, Error) and own.code == ErrorCode.SEPARATION_OF_DUTIES
    assert isinstance(await commander.command("verify", {"event": eid, "passed": True}), Result)
    own = await linghu.command("close", {"event": eid})
    assert isinstance(own, Error) and own.code == "separation_of_duties"
    assert isinstance(await dispatcher.command("close", {"event": eid}), Result)
    event = running.server.hub.events[eid]
    assert event.status == "closed" and event.handled_by == "菱湖分中心"
    assert event.verified_by == "指挥长" and event.first_dispatched_at is not None
    history = await asyncio.to_thread(running.store.event_history, eid)
    assert [h.action for h in history] == [
        "report",
        "accept",
        "dispatch",
        "return_case",
        "dispatch",
        "start",
        "assist_report",
        "handled",
        "verify",
        "close",
    ]
    for client in (commander, linghu, dispatcher, wall, dekuan):
        await client.ws.close()


async def test_a_hello_asking_for_an_unknown_view_gets_4000(running_sqlite: Running) -> None:
    """§3: `view` is "all" or "open"; anything else closes with the decoder's reason."""
    token = running_sqlite.tokens["commander"]
    async with connect(f"ws://127.0.0.1:{running_sqlite.port}") as ws:
        await ws.send(
            '{"id":1,"type":"hello","protocol":1,"token":"' + token + '","view":"closed"}'
        )
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
        assert info.value.rcvd.code == CloseCode.PROTOCOL_VIOLATION
        assert "view" in info.value.rcvd.reason
