"""The desk's commands on their way: pending until the backend answers, queued while the link
is down, resent with the same command_id until answered (the backend applies an id once).

Qt-free asyncio: `send` is the session's command coroutine (desktop.core.link), awaited on
the caller's loop; `on_change` hears every change of an entry's state, on that loop.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from protocol.messages import Error, Result

log = logging.getLogger("desktop.core.outbox")

State = Literal["sending", "queued", "done", "refused", "abandoned"]
Send = Callable[..., Awaitable[Result | Error]]
# How long one attempt waits for the link and the answer; then it is tried again (same id).
ATTEMPT_SECONDS = 20.0


@dataclass(slots=True)
class Pending:
    """One command: what it asks, and where it is (`state`)."""

    number: int  # the order it was made in on this desk
    command_id: str
    op: str
    args: dict[str, Any]
    made_at: float  # wall time
    state: State = "queued"
    attempts: int = 0
    code: str = ""  # the refusal's error code
    message: str = ""  # the refusal's message (English, from the backend)
    seq: int | None = None  # log position of the change, once applied
    data: dict[str, Any] = field(default_factory=dict)  # the result's data
    answered_at: float | None = None

    @property
    def event(self) -> int | None:
        """The case the command is about, if any."""
        value = self.args.get("event")
        return value if isinstance(value, int) else None

    @property
    def alert(self) -> int | None:
        """The camera alert the command is about, if any."""
        value = self.args.get("alert")
        return value if isinstance(value, int) else None

    @property
    def open(self) -> bool:
        """Not answered yet."""
        return self.state in ("sending", "queued")


class Outbox:
    """Every command made on this desk, the open ones retried until answered."""

    def __init__(
        self,
        send: Send,
        on_change: Callable[[Pending], None],
        *,
        attempt_seconds: float = ATTEMPT_SECONDS,
    ) -> None:
        self._send = send
        self._on_change = on_change
        self._attempt_seconds = attempt_seconds
        self._numbers = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self.entries: list[Pending] = []
        self.connected = False
        self._closed = False

    def submit(self, op: str, args: dict[str, Any]) -> Pending:
        """Make a command and start sending it (on the running loop)."""
        if self._closed:
            raise RuntimeError("the outbox is closed")
        entry = Pending(next(self._numbers), uuid.uuid4().hex, op, dict(args), time.time())
        entry.state = "sending" if self.connected else "queued"
        self.entries.append(entry)
        task = asyncio.ensure_future(self._deliver(entry))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._on_change(entry)
        return entry

    def set_connected(self, connected: bool) -> None:
        """The link came up or went down: open commands show it (sending / 待发送)."""
        self.connected = connected
        for entry in self.entries:
            if entry.open:
                state: State = "sending" if connected else "queued"
                if entry.state != state:
                    entry.state = state
                    self._on_change(entry)

    def open_for(self, *, event: int | None = None, alert: int | None = None) -> list[Pending]:
        """The unanswered commands about a case or an alert."""
        return [
            e
            for e in self.entries
            if e.open and ((event is not None and e.event == event) or (alert and e.alert == alert))
        ]

    @property
    def waiting(self) -> int:
        """How many commands are not answered yet."""
        return sum(1 for e in self.entries if e.open)

    async def close(self) -> None:
        """Stop sending (the desk is closing); unanswered commands are left abandoned."""
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks)
        for entry in self.entries:
            if entry.open:
                entry.state = "abandoned"
                self._on_change(entry)

    async def _deliver(self, entry: Pending) -> None:
        while True:
            entry.attempts += 1
            try:
                answer = await self._send(
                    entry.op,
                    entry.args,
                    patience=self._attempt_seconds,
                    command_id=entry.command_id,
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # The link is down or the answer is late: the same command_id again is safe.
                log.info("%s %s: attempt %d: %s", entry.op, entry.command_id, entry.attempts, exc)
                if entry.state != "queued" and not self.connected:
                    entry.state = "queued"
                    self._on_change(entry)
                await asyncio.sleep(min(0.25 * entry.attempts, 2.0))
                continue
            if isinstance(answer, Error) and answer.code in ("rate_limited", "not_writer"):
                # Nothing was applied. not_writer: the session found no writer in its list
                # within the attempt (a standby taking over, or only gateways listed); it
                # waits queued, to be sent again with the same command_id.
                if answer.code == "not_writer" and entry.state != "queued":
                    entry.state = "queued"
                    self._on_change(entry)
                await asyncio.sleep(1.0)
                continue
            entry.answered_at = time.time()
            if isinstance(answer, Result):
                entry.state = "done"
                entry.seq = answer.seq
                entry.data = dict(answer.data)
            else:
                entry.state = "refused"
                entry.code = answer.code
                entry.message = answer.message
            self._on_change(entry)
            return
