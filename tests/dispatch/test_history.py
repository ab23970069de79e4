"""The history request over the wire: a case's audit timeline, within the jurisdiction."""

from __future__ import annotations

import asyncio
import logging

from dispatch.server import Limits
from dispatch.state import Actor
from dispatch.store.store import Store
from dispatch.writer import CommandRequest
from protocol import commands as cmd
from protocol.codec import convert, encode
from protocol.codes import ErrorCode
from protocol.messages import HISTORY_LIMIT, Error, History, HistoryEntry, Result
from tests.dispatch.conftest import LINGHU_SQ, YIYUAN, Client, Running, start_server
from tests.dispatch.test_server import handshake, report_args


async def ask_history(client: Client, event: int) -> Result | Error:
    request_id = next(client.ids)
    await client.ws.send(encode(History(id=request_id, event=event)).decode())
    reply = await client.until(
        lambda m: isinstance(m, (Result, Error)) and m.id == request_id, timeout=10
    )
    assert isinstance(reply, (Result, Error))
    return reply


def entries_of(reply: Result | Error) -> list[HistoryEntry]:
    assert isinstance(reply, Result), reply
    return [convert(entry, HistoryEntry) for entry in reply.data["entries"]]


async def worked_case(running: Running, street: str = LINGHU_SQ) -> tuple[int, list[int]]:
    """A case reported, accepted with a note (by the street), dispatched with a note, taken
    into consultation and decided on; its id and the seqs of the five steps."""
    commander = await running.client("commander")
    await handshake(commander)
    street_user = await running.client("linghu")
    await handshake(street_user)
    reported = await commander.command("report", report_args(running, street))
    assert isinstance(reported, Result), reported
    eid = reported.data["event"]
    replies = [
        reported,
        await street_user.command("accept", {"event": eid, "note": "已核实，属实"}),
        await commander.command(
            "dispatch", {"event": eid, "assignee": "网格员 张三", "note": "请今日处理"}
        ),
        await commander.command("consult", {"event": eid}),
        await commander.command("decide", {"event": eid, "text": "城管、市场监管联合处置"}),
    ]
    assert all(isinstance(r, Result) for r in replies), replies
    await commander.ws.close()
    await street_user.ws.close()
    return eid, [r.seq for r in replies if isinstance(r, Result) and r.seq is not None]


async def test_a_worked_case_reads_back_step_by_step(running: Running) -> None:
    eid, seqs = await worked_case(running)
    c = await running.client("commander")
    await handshake(c)
    reply = await ask_history(c, eid)
    assert isinstance(reply, Result)
    assert reply.data["event"] == eid and reply.data["truncated"] is False
    entries = entries_of(reply)
    assert [e.seq for e in entries] == seqs
    assert [e.action for e in entries] == ["report", "accept", "dispatch", "consult", "decide"]
    assert [e.actor for e in entries] == ["指挥长", "菱湖分中心", "指挥长", "指挥长", "指挥长"]
    assert [e.status for e in entries] == [
        "reported",
        "accepted",
        "dispatched",
        "dispatched",
        "dispatched",
    ]
    assert [e.assignee for e in entries] == ["", "", "网格员 张三", "网格员 张三", "网格员 张三"]
    assert [e.text for e in entries] == [
        "",
        "accept: 已核实，属实",
        "dispatch: 请今日处理",
        "",
        "城管、市场监管联合处置",
    ]
    assert all(e.level == "grid" for e in entries)
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    # Every field is on the wire, defaults included: the desk reads them as they come.
    assert set(reply.data["entries"][0]) == set(HistoryEntry.__struct_fields__)
    # The same timeline for everyone who may see the case: its street, its community and
    # the read-only wall.
    for user in ("linghu", "community", "wall"):
        other = await running.client(user)
        await handshake(other)
        assert entries_of(await ask_history(other, eid)) == entries
        await other.ws.close()
    await c.ws.close()


async def test_outside_the_jurisdiction_looks_like_absent(running: Running) -> None:
    eid, _ = await worked_case(running, YIYUAN)  # 菱湖街道 宜园社区
    missing = eid + 1000
    for user in ("dekuan", "community"):  # another street; another community of the street
        c = await running.client(user)
        await handshake(c)
        theirs, absent = await ask_history(c, eid), await ask_history(c, missing)
        assert isinstance(theirs, Error) and isinstance(absent, Error)
        assert (theirs.code, theirs.message) == (ErrorCode.NOT_FOUND, f"no event {eid}")
        assert (absent.code, absent.message) == (ErrorCode.NOT_FOUND, f"no event {missing}")
        if user == "community":  # the connection stays up and serves what it may see
            own = await c.command("report", report_args(running, LINGHU_SQ))
            assert isinstance(own, Result)
            mine = entries_of(await ask_history(c, own.data["event"]))
            assert [(e.action, e.actor) for e in mine] == [("report", "菱湖社区工作站")]
        await c.ws.close()
    c = await running.client("commander")
    await handshake(c)
    absent = await ask_history(c, missing)
    assert isinstance(absent, Error) and absent.code == ErrorCode.NOT_FOUND
    await c.ws.close()


async def test_bad_history_requests_are_refused_and_the_connection_stays(
    running_sqlite: Running,
) -> None:
    eid, _ = await worked_case(running_sqlite)
    c = await running_sqlite.client("commander")
    await handshake(c)
    head = running_sqlite.server.hub.head
    frames = {
        20: ('{"type": "history", "id": 20, "event": 0}', "Expected `int` >= 1 - at `$.event`"),
        21: ('{"type": "history", "id": 21, "event": -3}', ">= 1 - at `$.event`"),
        22: (
            f'{{"type": "history", "id": 22, "event": {eid}, "since": 5}}',
            "unknown field `since`",
        ),
        23: ('{"type": "history", "id": 23, "event": "one"}', "Expected `int`, got `str`"),
        24: ('{"type": "history", "id": 24}', "missing required field `event`"),
    }
    for request_id, (frame, why) in frames.items():
        await c.ws.send(frame)
        err = await c.until(lambda m: isinstance(m, Error) and m.id == request_id)
        assert isinstance(err, Error) and err.code == ErrorCode.BAD_MESSAGE, err
        assert why in err.message, err.message
    assert running_sqlite.server.hub.head == head  # nothing was written
    # Refused frames do not advance the id counter; the next good one is answered in full.
    c.ids = iter(range(21, 100))
    assert len(entries_of(await ask_history(c, eid))) == 5
    await c.ws.close()


async def test_archived_rows_still_appear(sqlite_store) -> None:
    running = await start_server(sqlite_store)
    try:
        eid, seqs = await worked_case(running)
        c = await running.client("commander")
        await handshake(c)
        before = entries_of(await ask_history(c, eid))
        # `dispatch trim-log` runs as its own process: the first three steps leave the log.
        other = Store(sqlite_store.url)
        moved = await asyncio.to_thread(other.trim_log, seqs[2])
        other.engine.dispose()
        assert moved >= 3
        after = entries_of(await ask_history(c, eid))
        assert after == before and [e.seq for e in after] == seqs
        await c.ws.close()
    finally:
        await running.server.stop()


async def test_history_shares_the_command_allowance(sqlite_store) -> None:
    running = await start_server(sqlite_store, Limits(commands_per_second=1, command_burst=3))
    try:
        c = await running.client("commander")
        await handshake(c)
        reported = await c.command("report", report_args(running))
        assert isinstance(reported, Result)
        answers = [await ask_history(c, reported.data["event"]) for _ in range(4)]
        assert isinstance(answers[0], Result)
        refused = [a for a in answers if isinstance(a, Error)]
        assert refused and all(a.code == ErrorCode.RATE_LIMITED for a in refused)
        assert refused[0].message == "too many requests"
        await c.ws.close()
    finally:
        await running.server.stop()


async def test_a_long_history_keeps_the_newest_entries(running_sqlite: Running) -> None:
    c = await running_sqlite.client("commander")
    await handshake(c)
    reported = await c.command("report", report_args(running_sqlite))
    assert isinstance(reported, Result)
    eid = reported.data["event"]
    commander = Actor("指挥长", "commander")
    futures = [
        running_sqlite.server.submit(CommandRequest(commander, "accept", cmd.EventRef(event=eid)))
    ]
    for i in range(HISTORY_LIMIT):
        op = "end_consult" if i % 2 else "consult"
        futures.append(
            running_sqlite.server.submit(CommandRequest(commander, op, cmd.EventRef(event=eid)))
        )
    answers = await asyncio.gather(*futures)
    assert all(a.ok for a in answers)
    reply = await ask_history(c, eid)
    assert isinstance(reply, Result) and reply.data["truncated"] is True
    entries = entries_of(reply)
    assert len(entries) == HISTORY_LIMIT
    # The newest: the report and the accept (the two oldest of 502) are left out.
    assert entries[-1].seq == running_sqlite.server.hub.head
    assert entries[0].action == "consult" and entries[-1].action == "end_consult"
    assert [e.seq for e in entries] == sorted(e.seq for e in entries)
    await c.ws.close()


async def test_a_client_gone_before_its_answer_breaks_nothing(
    running_sqlite: Running, caplog
) -> None:
    eid, _ = await worked_case(running_sqlite)
    quitter = await running_sqlite.client("commander")
    await handshake(quitter)
    caplog.set_level(logging.INFO, logger="dispatch")
    for request_id in range(10, 30):
        await quitter.ws.send(encode(History(id=request_id, event=eid)).decode())
    quitter.ws.transport.abort()  # gone without a close, answers still being read
    await asyncio.sleep(0.5)
    # No failed answer, no task dying unheard.
    watched = ("dispatch.session", "dispatch.hub", "dispatch.server", "asyncio")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and r.name in watched]
    c = await running_sqlite.client("commander")
    await handshake(c)
    assert len(entries_of(await ask_history(c, eid))) == 5
    await c.ws.close()


async def test_a_store_that_cannot_be_read_answers_internal(running_sqlite: Running) -> None:
    import sqlalchemy as sa

    eid, _ = await worked_case(running_sqlite)
    c = await running_sqlite.client("commander")
    await handshake(c)
    engine = sa.create_engine(running_sqlite.store.url)
    with engine.begin() as conn:  # the archive gone from under the backend
        conn.execute(sa.text("ALTER TABLE log_archive RENAME TO log_archive_away"))
    try:
        failed = await ask_history(c, eid)
        assert isinstance(failed, Error) and failed.code == ErrorCode.INTERNAL
        assert failed.message == "could not read the history"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE log_archive_away RENAME TO log_archive"))
        engine.dispose()
    assert len(entries_of(await ask_history(c, eid))) == 5  # the connection stayed up
    await c.ws.close()
