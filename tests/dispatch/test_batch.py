"""report_batch: a gateway's many reports in one command, each under its own external id,
against a real server on port 0, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from websockets.exceptions import ConnectionClosed

from dispatch.server import Limits
from dispatch.store.store import Store
from protocol.codec import encode
from protocol.codes import CloseCode, ErrorCode
from protocol.commands import BATCH_MAX, BatchResult
from protocol.entities import Event
from protocol.messages import Command, Delta, Error, Result
from tests.dispatch.conftest import (
    DEKUAN,
    LINGHU,
    Client,
    Running,
    prepared_store,
    start_server,
)
from tests.dispatch.test_server import handshake


def grid_points(running: Running, street: str | None = None) -> list[tuple[float, float]]:
    """The centre of every grid (of one street), in code order."""
    grids = sorted(running.server.reference.grids.values(), key=lambda g: g.code)
    return [tuple(g.centre) for g in grids if street is None or g.street == street]  # type: ignore[misc]


def reports(
    running: Running, n: int, prefix: str = "12345-", street: str | None = None
) -> list[dict[str, Any]]:
    """`n` valid reports at grid centres, external ids prefix0001, prefix0002…"""
    points = grid_points(running, street)
    return [
        {
            "external_id": f"{prefix}{i:04d}",
            "category": "01-02",
            "title": f"市民来电 {i}",
            "lon": points[i % len(points)][0],
            "lat": points[i % len(points)][1],
        }
        for i in range(1, n + 1)
    ]


async def gateway(running: Running, name: str = "12345热线", streets: list[str] = ()) -> Client:
    """A gateway user's client, past its snapshot."""
    token = running.store.create_user(name, "gateway", streets)
    running.tokens[name] = token
    client = await running.client(name)
    await handshake(client)
    return client


def result_of(reply: Result | Error) -> BatchResult:
    assert isinstance(reply, Result), reply
    return msgspec.convert(reply.data, BatchResult)


def count(store: Store, table: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def heads(running: Running) -> tuple[int, int, int, int]:
    """What a batch may have written: events, log rows, external ids, the log head."""
    store = running.store
    return (
        count(store, "events"),
        count(store, "log"),
        count(store, "external_ids"),
        running.server.hub.head,
    )


async def test_a_batch_creates_an_event_per_report(running: Running) -> None:
    wall = await running.client("wall")
    _, snapshot = await handshake(wall)
    gw = await gateway(running)
    sent = reports(running, 120)
    reply = await gw.command("report_batch", {"reports": sent})
    result = result_of(reply)
    assert (result.created, result.repeats, result.refused) == (120, 0, 0)
    assert [item.external_id for item in result.reports] == [r["external_id"] for r in sent]
    ids = [item.event for item in result.reports]
    assert len(set(ids)) == 120 and all(not item.repeat for item in result.reports)
    assert reply.seq == snapshot.seq + 120  # the last change of the batch
    # Every event went out as a `report` delta by the gateway, in order, before the result.
    deltas = [await wall.until(lambda m: isinstance(m, Delta)) for _ in range(120)]
    assert [d.seq for d in deltas] == list(range(snapshot.seq + 1, snapshot.seq + 121))
    assert [d.data.id for d in deltas] == ids
    first = deltas[0].data
    assert isinstance(first, Event) and deltas[0].action == "report"
    assert deltas[0].actor == "12345热线" and first.title == "市民来电 1"
    assert first.code == result.reports[0].code and first.status == "reported"
    assert heads(running)[:3] == (120, 120, 120)
    await wall.ws.close()
    await gw.ws.close()


async def test_the_same_command_again_answers_the_same(running: Running) -> None:
    gw = await gateway(running)
    args = {"reports": reports(running, 30)}
    first = await gw.command("report_batch", args, command_id="batch-1")
    before = heads(running)
    again = await gw.command("report_batch", args, command_id="batch-1")
    assert isinstance(again, Result) and again.repeat
    assert (again.seq, again.data) == (first.seq, first.data)
    assert heads(running) == before  # nothing written twice
    # The same command_id for other reports is a conflict, as for any command.
    other = await gw.command("report_batch", {"reports": reports(running, 2)}, "batch-1")
    assert isinstance(other, Error) and other.code == ErrorCode.CONFLICT
    await gw.ws.close()


async def test_a_new_command_with_old_external_ids_creates_nothing_twice(running: Running) -> None:
    gw = await gateway(running)
    sent = reports(running, 40)
    first = result_of(await gw.command("report_batch", {"reports": sent[:30]}))
    before = heads(running)
    # A gateway re-sending after a lost answer, under a new command_id, with 10 new reports.
    # The first 30 are answered with their events, whatever they say now.
    changed = [{**r, "title": "改过的标题"} for r in sent[:30]]
    reply = await gw.command("report_batch", {"reports": changed + sent[30:]})
    again = result_of(reply)
    assert isinstance(reply, Result) and not reply.repeat
    assert (again.created, again.repeats, again.refused) == (10, 30, 0)
    assert again.reports[:30] == [
        msgspec.structs.replace(item, repeat=True) for item in first.reports
    ]
    after = heads(running)
    assert after[:3] == (before[0] + 10, before[1] + 10, before[2] + 10)
    assert reply.seq == after[3]
    # All of them known: nothing new at all, and no seq (no change was made).
    third = await gw.command("report_batch", {"reports": sent})
    assert isinstance(third, Result) and third.seq is None
    assert result_of(third).repeats == 40 and heads(running) == after
    await gw.ws.close()


async def test_bad_reports_are_refused_alone(running: Running) -> None:
    gw = await gateway(running)
    good = reports(running, 4)
    sent = [
        good[0],
        {**good[1], "category": "99-99"},  # unknown category
        {**good[2], "lon": 116.0, "lat": 30.0},  # outside every grid
        {**good[3], "title": ""},  # its schema: an empty title
        {"external_id": "12345-0005", "category": "01-02"},  # its schema: fields missing
        7,  # not even an object
        {**good[0], "title": "同一工单再次推送"},  # the first one's external id again
        {**good[3], "external_id": "12345-0009"},
    ]
    result = result_of(await gw.command("report_batch", {"reports": sent}))
    assert (result.created, result.repeats, result.refused) == (2, 1, 5)
    items = result.reports
    assert items[0].event is not None and not items[0].repeat
    assert (items[1].error, items[1].message) == ("bad_args", "unknown category '99-99'")
    assert (items[2].error, items[2].message) == (
        "bad_args",
        "(116.0, 30.0) is outside every grid",
    )
    assert (items[3].external_id, items[3].error, items[3].message) == (
        "12345-0004",
        "bad_args",
        "Expected `str` of length >= 1 - at `$.reports[3].title`",
    )
    assert items[4].message == "Object missing required field `title` - at `$.reports[4]`"
    assert (items[5].external_id, items[5].message) == (
        "",
        "Expected `object`, got `int` - at `$.reports[5]`",
    )
    assert (items[6].event, items[6].repeat) == (items[0].event, True)
    assert items[7].event is not None and items[7].event != items[0].event
    assert all(item.event is None for item in items[1:6])
    assert heads(running)[:3] == (2, 2, 2)  # a refused report leaves nothing behind
    # Its external id was not taken: fixed, the report goes in under the same id.
    fixed = result_of(await gw.command("report_batch", {"reports": [good[1], good[3]]}))
    assert fixed.created == 2 and heads(running)[:3] == (4, 4, 4)
    await gw.ws.close()


async def test_a_street_gateway_reports_only_in_its_jurisdiction(running: Running) -> None:
    linghu = await gateway(running, "菱湖随手拍", [LINGHU])
    inside = reports(running, 2, "SSP-", LINGHU)
    outside = reports(running, 1, "SSP-X", DEKUAN)
    result = result_of(
        await linghu.command("report_batch", {"reports": [inside[0], *outside, inside[1]]})
    )
    assert (result.created, result.refused) == (2, 1)
    assert (result.reports[1].error, result.reports[1].message) == (
        "forbidden",
        "the location is outside your jurisdiction",
    )
    # External ids are each user's own: another gateway's same id is another report.
    district = await gateway(running, "12345热线")
    other = result_of(await district.command("report_batch", {"reports": inside[:1]}))
    assert other.created == 1 and other.reports[0].event != result.reports[0].event
    await linghu.ws.close()
    await district.ws.close()


async def test_who_may_send_a_batch(running: Running) -> None:
    args = {"reports": reports(running, 1)}
    wall = await running.client("wall")
    await handshake(wall)
    refused = await wall.command("report_batch", args)
    assert isinstance(refused, Error) and refused.code == ErrorCode.FORBIDDEN
    assert refused.message == "role wall may not report_batch"
    # A gateway reports, one by one or in batches, and does nothing else.
    gw = await gateway(running)
    single = await gw.command(
        "report", {k: v for k, v in args["reports"][0].items() if k != "external_id"}
    )
    assert isinstance(single, Result)
    accept = await gw.command("accept", {"event": single.data["event"]})
    assert isinstance(accept, Error) and accept.message == "role gateway may not accept"
    # The desk's roles may use it too: a dispatcher keying in a stack of paper forms.
    desk = await running.client("dispatcher")
    await handshake(desk)
    assert result_of(await desk.command("report_batch", args)).created == 1
    for client in (wall, gw, desk):
        await client.ws.close()


async def test_a_batch_too_large_is_refused_whole(running: Running) -> None:
    gw = await gateway(running)
    before = heads(running)
    many = reports(running, BATCH_MAX + 1)
    for r in many:  # short enough for 501 to fit in a frame
        r["title"] = "t"
    refused = await gw.command("report_batch", {"reports": many}, command_id="too-many")
    assert isinstance(refused, Error) and refused.code == ErrorCode.BAD_ARGS
    assert refused.message == f"Expected `array` of length <= {BATCH_MAX} - at `$.reports`"
    empty = await gw.command("report_batch", {"reports": []})
    assert isinstance(empty, Error) and empty.code == ErrorCode.BAD_ARGS
    assert heads(running) == before
    # Not recorded: the same command_id with the batch cut to size goes through.
    ok = result_of(await gw.command("report_batch", {"reports": many[:BATCH_MAX]}, "too-many"))
    assert ok.created == BATCH_MAX
    # A frame over 64 KiB closes the connection (1009) and applies nothing of it.
    before = heads(running)
    long = reports(running, 300, "BIG-")
    for r in long:
        r["description"] = "情况说明" * 20
    frame = encode(
        Command(id=next(gw.ids), command_id="big", op="report_batch", args={"reports": long})
    )
    assert len(frame) > 65536
    await gw.ws.send(frame.decode())
    with pytest.raises(ConnectionClosed) as info:
        while True:
            await gw.recv()
    assert info.value.rcvd is not None and info.value.rcvd.code == CloseCode.MESSAGE_TOO_BIG
    await asyncio.sleep(0.2)
    assert heads(running) == before


async def test_external_ids_survive_a_restart(db_url) -> None:
    store = prepared_store(db_url)
    running = await start_server(store)
    try:
        gw = await gateway(running)
        args = {"reports": reports(running, 25)}
        first = await gw.command("report_batch", args, command_id="before-restart")
        await gw.ws.close()
    finally:
        await running.server.stop()
    before = heads(running)[:3]
    store.close()
    store = Store(db_url)  # the next backend on the same database
    from dispatch.server import DispatchServer
    from tests.dispatch.conftest import reference_for

    server = DispatchServer(store, reference_for(store))
    port = await server.start("127.0.0.1", 0)
    again = Running(server, store, port, running.tokens)
    try:
        client = await again.client("12345热线")
        await handshake(client)
        same = await client.command("report_batch", args, command_id="before-restart")
        assert isinstance(same, Result) and same.repeat and same.data == first.data
        fresh = result_of(await client.command("report_batch", args, command_id="after"))
        assert fresh.repeats == 25 and fresh.created == 0
        assert [i.event for i in fresh.reports] == [i.event for i in result_of(first).reports]
        assert heads(again)[:3] == before
        await client.ws.close()
    finally:
        await server.stop()
        store.close()


def _hold_writer(running: Running) -> threading.Event:
    """Block the writer thread until the event returned is set (requests queue meanwhile)."""
    from dispatch.state import Outcome, State
    from dispatch.writer import CallRequest

    release = threading.Event()

    def wait(_state: State, _now: float) -> Outcome:
        release.wait(10)
        return Outcome()

    running.server.writer.submit_nowait(CallRequest(wait))
    return release


async def _send(client: Client, args: dict[str, Any], command_id: str) -> int:
    request_id = next(client.ids)
    command = Command(id=request_id, command_id=command_id, op="report_batch", args=args)
    await client.ws.send(encode(command).decode())
    return request_id


async def _reply(client: Client, request_id: int) -> Result | Error:
    reply = await client.until(
        lambda m: isinstance(m, (Result, Error)) and m.id == request_id, timeout=10
    )
    assert isinstance(reply, (Result, Error))
    return reply


async def test_two_batches_in_one_writer_batch_share_their_external_ids(
    running_sqlite: Running,
) -> None:
    running = running_sqlite
    gw = await gateway(running)
    sent = reports(running, 20)
    release = _hold_writer(running)
    first = await _send(gw, {"reports": sent[:15]}, "one")
    second = await _send(gw, {"reports": sent[5:]}, "two")  # 5..14 in both
    await asyncio.sleep(0.3)  # both wait in the writer's queue: one writer batch
    release.set()
    one, two = result_of(await _reply(gw, first)), result_of(await _reply(gw, second))
    assert (one.created, two.created, two.repeats) == (15, 5, 10)
    assert [i.event for i in two.reports[:10]] == [i.event for i in one.reports[5:]]
    assert heads(running)[:3] == (20, 20, 20)
    await gw.ws.close()


async def test_batches_in_flight_per_connection_are_bounded(sqlite_store) -> None:
    running = await start_server(sqlite_store, Limits(batches_in_flight=1))
    try:
        gw = await gateway(running)
        sent = reports(running, 4)
        release = _hold_writer(running)
        first = await _send(gw, {"reports": sent[:2]}, "first")
        second = await _send(gw, {"reports": sent[2:]}, "second")
        refused = await _reply(gw, second)
        assert isinstance(refused, Error) and refused.code == ErrorCode.RATE_LIMITED
        assert refused.message == (
            "1 batches are waiting for their answers already; "
            "retry with the same command_id once one is answered"
        )
        release.set()
        assert result_of(await _reply(gw, first)).created == 2
        retry = await gw.command("report_batch", {"reports": sent[2:]}, "second")
        assert result_of(retry).created == 2  # not recorded: the retry is the first time
        await gw.ws.close()
    finally:
        await running.server.stop()


async def test_a_failed_commit_keeps_no_external_id(running_sqlite: Running) -> None:
    from dispatch.store.store import StoreError

    running = running_sqlite
    store = running.server.store
    real_commit = store.commit
    calls = []

    def fail_once(*args: Any, **kwargs: Any) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise StoreError("server closed the connection unexpectedly")  # once, then back
        return real_commit(*args, **kwargs)

    store.commit = fail_once  # type: ignore[method-assign]
    gw = await gateway(running)
    args = {"reports": reports(running, 10)}
    failed = await gw.command("report_batch", args, command_id="retry-me")
    assert isinstance(failed, Error) and failed.code == ErrorCode.INTERNAL
    assert heads(running)[:3] == (0, 0, 0)
    assert running.server.state.events == {}
    again = result_of(await gw.command("report_batch", args, command_id="retry-me"))
    assert (again.created, again.repeats) == (10, 0)  # created now, once
    assert [i.event for i in again.reports] == list(range(1, 11))
    await gw.ws.close()


def test_a_batch_result_decodes_as_documented() -> None:
    data = json.loads(
        '{"created": 1, "repeats": 1, "refused": 1, "reports": ['
        '{"external_id": "a", "event": 3, "code": "DG-20261122-000003"},'
        '{"external_id": "b", "event": 1, "code": "DG-20261122-000001", "repeat": true},'
        '{"external_id": "c", "error": "bad_args", "message": "unknown category \'99-99\'"}]}'
    )
    result = msgspec.convert(data, BatchResult)
    assert [i.repeat for i in result.reports] == [False, True, False]
    assert json.loads(msgspec.json.encode(result)) == data  # defaults omitted both ways


async def test_an_external_id_sent_again_costs_the_others_in_its_writer_batch_nothing(
    running: Running,
) -> None:
    """The writer takes new external ids for new (the store's key would refuse a repeat):
    a writer batch holding one sent again is applied again, with every id looked up, and
    the other requests in it are applied once."""
    gw = await gateway(running)
    sent = reports(running, 30)
    first = result_of(await gw.command("report_batch", {"reports": sent[:20]}))
    # Ids committed lately are known from memory (ExternalIds.recent); these 20 must be
    # found in the store only, as after a restart or when they are older than the memory.
    running.server.state.external.recent.clear()
    desk = await running.client("dispatcher")
    await handshake(desk)
    before = heads(running)
    release = _hold_writer(running)
    single = next(desk.ids)
    single_args = {k: v for k, v in sent[0].items() if k != "external_id"}
    await desk.ws.send(
        encode(Command(id=single, command_id="desk-1", op="report", args=single_args)).decode()
    )
    again = await _send(gw, {"reports": sent[10:]}, "again")  # 10 stored, 10 new
    await asyncio.sleep(0.3)
    release.set()
    desk_reply = await _reply(desk, single)
    result = result_of(await _reply(gw, again))
    assert isinstance(desk_reply, Result)
    assert (result.created, result.repeats) == (10, 10)
    assert [i.event for i in result.reports[:10]] == [i.event for i in first.reports[10:]]
    after = heads(running)
    assert after[:3] == (before[0] + 11, before[1] + 11, before[2] + 10)
    assert after[3] == before[3] + 11  # no seq lost or taken twice by the second try
    assert running.server.writer._look_up_until > running.server.writer.batches
    await gw.ws.close()
    await desk.ws.close()


async def test_an_external_id_committed_lately_is_known_without_a_second_try(
    running: Running,
) -> None:
    """A repeat of an id the writer committed lately (a camera platform sends each of its
    ids again and again) is answered from memory: no refused commit, no look-ups after."""
    gw = await gateway(running)
    sent = reports(running, 4)
    first = result_of(await gw.command("report_batch", {"reports": sent[:2]}))
    again = result_of(await gw.command("report_batch", {"reports": sent}))
    assert (again.created, again.repeats) == (2, 2)
    assert [i.event for i in again.reports[:2]] == [i.event for i in first.reports]
    assert running.server.writer._look_up_until == 0
    await gw.ws.close()


async def test_a_gateway_made_on_the_command_line(tmp_path, capsys) -> None:
    """`dispatch create-user NAME --role gateway [--street CODE]`: a street's platform that
    reports in its street, and may not work a case; a community is refused as for others."""
    from dispatch.cli import main
    from dispatch.server import DispatchServer
    from tests.dispatch.conftest import open_client, reference_for

    url = f"sqlite:///{tmp_path / 'd.db'}"
    assert main(["--url", url, "init-db"]) == 0
    assert main(["--url", url, "load-district"]) == 0
    capsys.readouterr()
    made = ["--url", url, "create-user", "菱湖随手拍", "--role", "gateway", "--street", LINGHU]
    assert main(made) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["--url", url, "create-user", "x", "--role", "gateway", "--community", "1"]) == 2
    assert "only community users have communities" in capsys.readouterr().err
    assert main(["--url", url, "users"]) == 0
    assert re.search(r"菱湖随手拍\s+gateway\s+340803004", capsys.readouterr().out)
    store = Store(url)
    server = DispatchServer(store, reference_for(store))
    port = await server.start("127.0.0.1", 0)
    try:
        client = await open_client(port, token)
        welcome, _ = await handshake(client)
        assert (welcome.role, welcome.jurisdiction) == ("gateway", [LINGHU])
        running = Running(server, store, port, {})
        sent = reports(running, 1, "SSP-", LINGHU) + reports(running, 1, "SSP-D", DEKUAN)
        result = result_of(await client.command("report_batch", {"reports": sent}))
        assert (result.created, result.reports[1].error) == (1, "forbidden")
        await client.ws.close()
    finally:
        await server.stop()
        store.close()


def test_a_batch_of_points_is_located_as_each_point_alone(reference) -> None:
    """grids_at (one vectorised test for a batch's points) answers what grid_at does, for
    points inside grids, outside the district and on grid boundaries."""
    import random

    rng = random.Random(7)
    codes = sorted(reference.grids)
    points = [reference.random_point(rng.choice(codes), rng) for _ in range(2000)]
    points += [(rng.uniform(116.9, 117.2), rng.uniform(30.4, 30.7)) for _ in range(1000)]
    for code in codes[:200]:  # vertices: on the line between two grids
        ring = reference.grids[code].polygon[0]
        points += [tuple(ring[0]), tuple(ring[len(ring) // 2])]
    points += [(0.0, 0.0), (180.0, 90.0)]
    one = [reference.grid_at(lon, lat) for lon, lat in points]
    many = [
        g
        for start in range(0, len(points), 400)
        for g in reference.grids_at(points[start : start + 400])
    ]
    assert [g and g.code for g in many] == [g and g.code for g in one]
    assert sum(g is None for g in one) > 100 and reference.grids_at([]) == []
