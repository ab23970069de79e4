"""Take an intake's case round the whole loop over the protocol, as the desk would."""

from __future__ import annotations

from protocol.messages import Result
from tests.dispatch.conftest import Running


async def work_the_case(running: Running, event_id: int, handled: str, closed: str) -> None:
    """Accept, dispatch, start, handle (note `handled`), verify and close (note `closed`)."""
    desk = await running.client("dispatcher")
    chief = await running.client("commander")
    await desk.recv()
    await chief.recv()
    for op, args, who in [
        ("accept", {}, desk),
        ("dispatch", {"assignee": "CGJ"}, desk),
        ("start", {}, desk),
        ("handled", {"note": handled}, desk),
        ("verify", {"passed": True}, chief),
        ("close", {"note": closed}, chief),
    ]:
        reply = await who.command(op, {"event": event_id, **args})
        assert isinstance(reply, Result), (op, reply)
    await desk.ws.close()
    await chief.ws.close()
