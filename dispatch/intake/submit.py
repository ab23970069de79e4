"""The one way an intake's report reaches the writer: a report_batch command of the peer,
exactly as a websocket gateway sends it (same op, same handler, same idempotency by external
id, same audit log with the peer as actor). No side door."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from dispatch.state import Actor
from dispatch.writer import Answer, CommandRequest, Request
from protocol import commands as c

Submit = Callable[[Request], "asyncio.Future[Answer]"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one report: its event (new or a repeat), or the refusal."""

    ok: bool
    event: int | None = None
    code: str = ""
    repeat: bool = False
    error: str = ""  # a protocol ErrorCode (bad_args, forbidden, internal...)
    message: str = ""


def gateway(name: str) -> Actor:
    """The actor an intake peer reports as: a gateway of the whole district."""
    return Actor(name, "gateway")


async def report(submit: Submit, actor: Actor, item: c.BatchReport) -> Outcome:
    """Send one report through the writer (answered after its commit)."""
    answer = await submit(CommandRequest(actor, "report_batch", c.ReportBatch(reports=[item])))
    if not answer.ok:
        return Outcome(False, error=answer.code, message=answer.message)
    got = answer.data["reports"][0]
    # A stored answer read back (a command repeat) is plain JSON.
    first = got if isinstance(got, c.BatchItem) else c.BatchItem(**got)
    if first.error:
        return Outcome(False, error=first.error, message=first.message)
    return Outcome(True, first.event, first.code, first.repeat)
