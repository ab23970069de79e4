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
    return (await reports(submit, actor, [item]))[0]


async def reports(submit: Submit, actor: Actor, items: list[c.BatchReport]) -> list[Outcome]:
    """Send reports (at most c.BATCH_MAX) through the writer as one report_batch: one
    outcome each, in order (answered after their commit)."""
    answer = await submit(CommandRequest(actor, "report_batch", c.ReportBatch(reports=items)))
    if not answer.ok:
        return [Outcome(False, error=answer.code, message=answer.message) for _ in items]
    outcomes = []
    for got in answer.data["reports"]:
        # A stored answer read back (a command repeat) is plain JSON.
        item = got if isinstance(got, c.BatchItem) else c.BatchItem(**got)
        if item.error:
            outcomes.append(Outcome(False, error=item.error, message=item.message))
        else:
            outcomes.append(Outcome(True, item.event, item.code, item.repeat))
    return outcomes
