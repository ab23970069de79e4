"""Writers and readers over the wire, as the desktop's Qt-free core speaks it.

A reader is a `desktop.core.session.Session` keeping a `desktop.core.replica.Replica`: it
resumes from its (epoch, seq) after every cut. A writer is a Session sending commands; one
whose answer did not come is sent again with the same command_id once the link is back
(docs/protocol.md §6.2), until it is acknowledged. Each writer keeps a ledger of what it sent
and what it was told, for checks.py to hold against the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import connect

from desktop.core.replica import Replica, ReplicaError
from desktop.core.session import Session
from protocol.codec import decode_server, encode
from protocol.entities import Alert, Duty, Event
from protocol.messages import Delta, Error, Hello, Result, ServerMessage, Snapshot, Welcome
from protocol.retention import prune_settled

# Reconnect quickly: the figures measure the backend, not a client's patience. (The desk and
# the wall back off up to 5 s.)
MAX_BACKOFF = 0.5
# The chain of ops each writer's cases go through, with the status each one leaves.
CHAIN = (
    ("report", "reported"),
    ("accept", "accepted"),
    ("dispatch", "dispatched"),
    ("start", "handling"),
    ("handled", "handled"),
)
# Answers after which the same command is sent again, unchanged (§11).
RETRY_CODES = frozenset({"rate_limited", "internal"})


# ---- readers ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Visit:
    """One connection of a reader: when its welcome came, how it resumed, when it caught up."""

    welcome_at: float
    resume: str  # none, replay or reset
    head: int
    caught_up_at: float | None = None


class Reader:
    """A client that keeps a replica of what it may see, resuming after every cut."""

    def __init__(self, name: str, url: str, token: str, district_wide: bool = True) -> None:
        self.name = name
        self.district_wide = district_wide
        self.replica = Replica()
        self.visits: list[Visit] = []
        self.problems: list[str] = []
        self.deltas = 0
        self.session = Session(
            url,
            token,
            on_message=self._on_message,
            client=f"reliability-reader/{name}",
            max_backoff=MAX_BACKOFF,
            replica=self.replica,
        )
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Connect, and stay connected until stop()."""
        self._task = asyncio.create_task(self.session.run(), name=f"reader {self.name}")

    async def stop(self) -> None:
        """Close the connection and end the session."""
        await self.session.stop()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, 30)
            if not self._task.cancelled() and self._task.exception() is not None:
                self.problems.append(f"session ended with {self._task.exception()!r}")

    def _on_message(self, message: ServerMessage) -> None:
        now = time.time()
        if isinstance(message, Welcome):
            visit = Visit(now, message.resume, message.head)
            if message.resume == "replay" and self.replica.seq >= message.head:
                visit.caught_up_at = now
            if message.resume == "reset":
                self.problems.append(f"resume at seq {self.replica.seq} was answered by a reset")
            self.visits.append(visit)
        elif isinstance(message, Delta):
            self.deltas += 1
            if message.seq <= self.replica.seq:
                self.problems.append(f"delta {message.seq} after {self.replica.seq}: seen twice")
            current = self.visits[-1] if self.visits else None
            if (
                current is not None
                and current.caught_up_at is None
                and self.district_wide
                and message.seq >= current.head
            ):
                current.caught_up_at = now
        try:
            self.replica.apply(message)
        except Exception as exc:
            self.problems.append(f"could not apply a {type(message).__name__}: {exc!r}")
            raise ReplicaError("apply failed") from exc

    @property
    def connected(self) -> bool:
        """Whether the session holds a live connection with its state."""
        return self.session.status.connected


# ---- writers ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Sent:
    """One command of a writer's ledger: what was sent and every answer it drew."""

    command_id: str
    op: str
    args: dict[str, Any]
    case: int  # the writer's case number (its report's title names it)
    answers: list[Result | Error] = field(default_factory=list)
    cut: int = 0  # kills it was in flight at: each time resent unchanged once the link was back

    @property
    def acknowledged(self) -> Result | None:
        """The first result, if any came."""
        return next((a for a in self.answers if isinstance(a, Result)), None)

    @property
    def refused(self) -> Error | None:
        """A final refusal (not one to retry), if any came."""
        return next(
            (a for a in self.answers if isinstance(a, Error) and a.code not in RETRY_CODES), None
        )


@dataclass(slots=True)
class Case:
    """One event a writer takes through CHAIN."""

    number: int
    title: str
    event: int | None = None
    done: list[str] = field(default_factory=list)  # ops acknowledged, in order


class Writer:
    """A user sending commands over its own session, resending unanswered ones unchanged."""

    def __init__(
        self,
        user: str,
        url: str,
        token: str,
        reports: Sequence[dict[str, Any]],
        cases_at_once: int = 3,
        pause: float = 0.0,
    ) -> None:
        self.user = user
        self.reports = list(reports)
        self.cases_at_once = cases_at_once
        self.pause = pause  # seconds between a case's commands (0: as fast as answered)
        self.ledger: list[Sent] = []
        self.cases: list[Case] = []
        self.problems: list[str] = []
        self.retried = 0  # answers rate_limited or internal, sent again
        self.in_flight: dict[str, Sent] = {}  # sent and not answered yet, by command_id
        self.flying = asyncio.Event()  # set while in_flight holds any
        self.session = Session(
            url,
            token,
            on_message=lambda _m: None,
            client=f"reliability-writer/{user}",
            max_backoff=MAX_BACKOFF,
        )
        self._numbers = itertools.count()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._cases: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Connect and begin sending."""
        self._task = asyncio.create_task(self.session.run(), name=f"writer {self.user}")
        self._cases = [
            asyncio.create_task(self._run_cases(), name=f"writer {self.user} cases")
            for _ in range(self.cases_at_once)
        ]

    def cut(self) -> int:
        """The backend was just killed: mark the commands in flight (they go again, unchanged,
        once the session is back); how many there were."""
        for sent in self.in_flight.values():
            sent.cut += 1
        return len(self.in_flight)

    def finish(self) -> None:
        """Begin no new command; those under way go on until acknowledged."""
        self._stopping.set()

    async def drain(self, patience: float) -> None:
        """Wait until every command under way is acknowledged (or refused), at most
        `patience` seconds; then end the session. Commands left unanswered stay so in the
        ledger."""
        self.finish()
        done, pending = (
            await asyncio.wait(self._cases, timeout=patience) if self._cases else ((), ())
        )
        for task in pending:
            task.cancel()
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                self.problems.append(f"case loop failed: {task.exception()!r}")
        await self.session.stop()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._task, 30)

    async def _run_cases(self) -> None:
        while not self._stopping.is_set():
            number = next(self._numbers)
            report = dict(self.reports[number % len(self.reports)])
            report["title"] = f"可靠性 {self.user} #{number}"
            case = Case(number, report["title"])
            self.cases.append(case)
            for op, _status in CHAIN:
                if self._stopping.is_set():
                    return
                args = report if op == "report" else self._args(op, case)
                answer = await self.send(op, args, case.number)
                if not isinstance(answer, Result):
                    return  # refused (a problem already noted) or cancelled while unanswered
                if op == "report":
                    case.event = int(answer.data["event"])
                case.done.append(op)
                if self.pause:
                    await asyncio.sleep(self.pause)

    def _args(self, op: str, case: Case) -> dict[str, Any]:
        assert case.event is not None
        if op == "dispatch":
            return {"event": case.event, "assignee": f"网格员 {self.user}", "note": "可靠性测试"}
        return {"event": case.event}

    async def send(self, op: str, args: dict[str, Any], case: int) -> Result | Error | None:
        """Send until acknowledged or refused, always with the same command_id."""
        sent = Sent(uuid.uuid4().hex, op, args, case)
        self.ledger.append(sent)
        while True:
            # The session sends it again by itself after a reconnect, same command_id.
            self.in_flight[sent.command_id] = sent
            self.flying.set()
            try:
                answer = await self.session.command(
                    op, args, command_id=sent.command_id, patience=30.0
                )
            except TimeoutError:
                continue  # the link is down a long time: keep the command, try again
            finally:
                self.in_flight.pop(sent.command_id, None)
                if not self.in_flight:
                    self.flying.clear()
            sent.answers.append(answer)
            if isinstance(answer, Result):
                return answer
            if answer.code in RETRY_CODES:
                self.retried += 1
                await asyncio.sleep(0.2)
                continue
            self.problems.append(f"{op} {args} refused: {answer.code} {answer.message}")
            return answer


# ---- a fresh look --------------------------------------------------------------------------


async def fresh_snapshot(url: str, token: str, patience: float = 60.0) -> tuple[Welcome, Snapshot]:
    """Connect without resuming and take the welcome and the snapshot (then close)."""
    # An unbounded queue: closing does not wait behind unread messages (see fuzz.py).
    connection = connect(
        url, max_size=None, max_queue=None, compression=None, open_timeout=patience
    )
    async with connection as ws:
        hello = Hello(id=1, protocol=1, token=token, client="reliability-fresh")
        await ws.send(encode(hello).decode())
        welcome: Welcome | None = None
        async with asyncio.timeout(patience):
            while True:
                message = decode_server(await ws.recv())
                if isinstance(message, Welcome):
                    welcome = message
                elif isinstance(message, Snapshot):
                    assert welcome is not None
                    return welcome, message


def differences(replica: Replica, welcome: Welcome, snapshot: Snapshot) -> list[str]:
    """How a replica differs from a fresh snapshot ([] when equal): events, alerts and duty,
    the replica pruned as the server prunes at the snapshot's time (KPIs are not compared:
    they are not sequenced)."""
    events: dict[int, Event] = dict(replica.events)
    alerts: dict[int, Alert] = dict(replica.alerts)
    prune_settled(events, alerts, welcome.server_time)
    found: list[str] = []
    if replica.epoch != snapshot.epoch:
        found.append(f"epoch {replica.epoch} != {snapshot.epoch}")
    for kind, mine, theirs in (
        ("event", events, {e.id: e for e in snapshot.events}),
        ("alert", alerts, {a.id: a for a in snapshot.alerts}),
    ):
        missing = sorted(set(theirs) - set(mine))
        extra = sorted(set(mine) - set(theirs))
        unequal = sorted(i for i in set(mine) & set(theirs) if mine[i] != theirs[i])
        if missing:
            found.append(f"{len(missing)} {kind}s missing, e.g. {missing[:5]}")
        if extra:
            found.append(f"{len(extra)} {kind}s too many, e.g. {extra[:5]}")
        if unequal:
            found.append(f"{len(unequal)} {kind}s differ, e.g. {unequal[:5]}")
    duty: Duty | None = replica.duty
    if duty != snapshot.duty:
        found.append("the duty differs")
    return found


async def converge(reader: Reader, url: str, token: str, patience: float) -> list[str]:
    """Wait until the reader's replica equals a fresh snapshot taken after it (polled, since
    the head may move meanwhile); the differences left when the time runs out."""
    deadline = time.monotonic() + patience
    while True:
        welcome, snapshot = await fresh_snapshot(url, token)
        # The reader may still be reading up to the snapshot's seq; give it a moment.
        while reader.replica.seq < snapshot.seq and time.monotonic() < deadline:
            if reader.district_wide or not reader.connected:
                await asyncio.sleep(0.05)
            else:
                break  # a user with a jurisdiction skips seqs: compare now
        found = differences(reader.replica, welcome, snapshot)
        if not found or time.monotonic() >= deadline:
            return found
        await asyncio.sleep(0.2)
