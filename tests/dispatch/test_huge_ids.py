"""An id past the database's integer range names nothing: `not_found`, never `internal`.

EventId is any integer >= 1 on the wire (docs/protocol.md §7). An event id of 2**63 or more
used to reach the driver when the live state did not hold it (the archive lookup, a case's
history): OverflowError on SQLite, DataError on PostgreSQL, so the writer's whole batch
failed and every command in it — other users' too — was answered `internal`; a history
read answered `internal`. Found by tests/reliability's fuzzing.
"""

from __future__ import annotations

import uuid

from protocol.codec import encode
from protocol.messages import Command, Error, History, Result
from tests.dispatch.conftest import Running
from tests.dispatch.test_server import handshake, report_args


async def test_a_huge_event_id_is_not_found_and_spoils_no_other_command(running: Running) -> None:
    dispatcher = await running.client("dispatcher")
    await handshake(dispatcher)
    commander = await running.client("commander")
    await handshake(commander)
    head = running.server.hub.head
    for event in (2**63, 10**30):
        reply = await dispatcher.command("accept", {"event": event})
        assert isinstance(reply, Error), reply
        assert (reply.code, reply.message) == ("not_found", f"no event {event}")
        reply = await commander.command("instruct", {"event": event, "text": "注意"})
        assert isinstance(reply, Error) and reply.code == "not_found", reply
    assert running.server.hub.head == head  # nothing was written
    # Sent together, so that the writer may take them in one batch: the good one commits.
    huge = Command(id=50, command_id=uuid.uuid4().hex, op="accept", args={"event": 2**64})
    good = Command(id=51, command_id=uuid.uuid4().hex, op="report", args=report_args(running))
    await dispatcher.ws.send(encode(huge).decode())
    await commander.ws.send(encode(good).decode())
    refused = await dispatcher.until(lambda m: isinstance(m, (Result, Error)) and m.id == 50)
    done = await commander.until(lambda m: isinstance(m, (Result, Error)) and m.id == 51)
    assert isinstance(refused, Error) and refused.code == "not_found", refused
    assert isinstance(done, Result) and done.seq == head + 1, done
    await dispatcher.ws.close()
    await commander.ws.close()


async def test_the_history_of_a_huge_event_id_is_not_found(running: Running) -> None:
    client = await running.client("wall")
    await handshake(client)
    for request_id, event in ((2, 2**63), (3, 10**40)):
        await client.ws.send(encode(History(id=request_id, event=event)).decode())
        reply = await client.until(lambda m, i=request_id: isinstance(m, Error) and m.id == i)
        assert isinstance(reply, Error)
        assert (reply.code, reply.message) == ("not_found", f"no event {event}")
    await client.ws.close()
