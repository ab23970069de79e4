"""A client's session once attached: pings, commands (rate-limited, to the writer), stats,
case histories (read from the store on a worker thread), admin requests (dispatch/admin.py:
users; dispatch/tables.py: the duty roster and the category table; dispatch/intake/desk.py:
the intakes' state and the feedback outbox; dispatch/replays.py: the time machine's replays)."""

from __future__ import annotations

import asyncio
import logging
import time
import typing
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

import msgspec

from dispatch.admin import AdminRequest, UserAdmin
from dispatch.batch import read_batch
from dispatch.clock import Clock
from dispatch.downloads import DownloadRequest, Downloads
from dispatch.hub import Client, Hub
from dispatch.intake.desk import IntakeDesk, IntakeRequest
from dispatch.limits import Limits
from dispatch.logs import printable
from dispatch.replays import Replays
from dispatch.state import Actor, args_digest
from dispatch.store.store import LogRecord, Store
from dispatch.tables import TableAdmin, TableRequest
from dispatch.writer import Answer, CommandRequest, Writer
from protocol.codec import ProtocolError, convert, decode_client
from protocol.codes import ErrorCode
from protocol.commands import ARGS
from protocol.entities import Decision, Level, Status
from protocol.glossary import FEEDBACK_NAMES
from protocol.messages import (
    HISTORY_LIMIT,
    Command,
    CreateUser,
    Download,
    Error,
    FeedbackEntry,
    Hello,
    History,
    HistoryEntry,
    IntakeStatus,
    LoadCategories,
    Ping,
    Replay,
    Result,
    RetryFeedback,
    RevokeUser,
    Roster,
    SetCategory,
    SetRoster,
    Shifts,
    Stats,
    UpdateUser,
    Users,
    valid_command_id,
)

log = logging.getLogger("dispatch.session")
# What changes the database: only the writer takes these (a standby refuses: not_writer).
_Write = (
    CreateUser | UpdateUser | RevokeUser | SetRoster | SetCategory | LoadCategories | RetryFeedback
)
_WRITES = (Command, *typing.get_args(_Write))
_encode = msgspec.json.Encoder().encode


class Session:
    """Answers what attached clients send; commands go to the writer, answers back in order."""

    def __init__(
        self,
        hub: Hub,
        writer: Writer | None,
        clock: Clock,
        limits: Limits,
        store: Store,
        admin: UserAdmin,
        tables: TableAdmin,
        intakes: IntakeDesk,
        downloads: Downloads,
        replays: Replays,
        writer_at: Callable[[], str] = str,
    ) -> None:
        self.hub = hub
        # None on a standby or a gateway: commands and admin changes are refused there with
        # not_writer and where the writer serves (`writer_at`), until a promotion sets it.
        self.writer = writer
        self.writer_at = writer_at
        self.clock = clock
        self.limits = limits
        self.store = store
        self.admin = admin
        self.tables = tables
        self.intakes = intakes
        self.downloads = downloads
        self.replays = replays
        self._reading: set[asyncio.Task[None]] = set()  # history and admin requests under way

    async def serve(self, client: Client) -> None:
        """Answer the client's messages until it disconnects."""
        async for raw in client.ws:
            try:
                message = decode_client(raw)
            except ProtocolError as exc:
                self._refuse_frame(client, exc.request_id, exc.code, exc.message)
                continue
            if isinstance(message, Hello):  # refused, so its id is not taken (§2)
                self._refuse_frame(
                    client,
                    message.id,
                    ErrorCode.BAD_MESSAGE,
                    "hello is only allowed as the first message",
                )
                continue
            if message.id <= client.last_id:
                self._refuse_frame(
                    client,
                    message.id,
                    ErrorCode.BAD_ID,
                    f"id {message.id} is not above the previous {client.last_id}",
                )
                continue
            client.last_id = message.id
            if isinstance(message, Ping):
                self.hub.write(
                    client,
                    [_encode(Result(id=message.id, data={"server_time": self.clock.now()}))],
                )
            elif self.writer is None and isinstance(message, _WRITES):
                self._not_writer(client, message)
            elif isinstance(message, Command):
                self._command(client, message)
            elif isinstance(message, Stats):
                self._stats(client, message)
            elif isinstance(message, History):
                self._history(client, message)
            elif isinstance(message, (Users, CreateUser, UpdateUser, RevokeUser)):
                self._admin(client, message, self.admin.answer)
            elif isinstance(message, (Roster, SetRoster, SetCategory, LoadCategories)):
                self._admin(client, message, self.tables.answer)
            elif isinstance(message, (IntakeStatus, RetryFeedback)):
                self._admin(client, message, self.intakes.answer)
            elif isinstance(message, (Shifts, Download)):
                self._admin(client, message, self.downloads.answer)
            elif isinstance(message, Replay):
                self._admin(client, message, self.replays.answer)
            else:
                self._reply_error(
                    client,
                    message.id,
                    ErrorCode.BAD_MESSAGE,
                    "hello is only allowed as the first message",
                )

    def _not_writer(self, client: Client, message: Command | _Write) -> None:
        """A standby or a gateway only reads: the writer's address, for the same request
        (same command_id) to be sent there."""
        writer = self.writer_at()
        where = f"the writer serves at {writer}" if writer else "the writer is not known yet"
        command_id = message.command_id if isinstance(message, Command) else None
        self.hub.refusals.note(
            log,
            f"{client.peer} ({client.user.name})",
            "%s (%s): request %d sent to a node that does not write: %s",
            client.peer,
            client.user.name,
            message.id,
            where,
            level=logging.DEBUG,  # routine: the desk sends it on (and asks again meanwhile)
        )
        error = Error(
            id=message.id,
            code=ErrorCode.NOT_WRITER,
            message=f"this node does not write; {where}: send it there, with the same command_id",
            command_id=command_id,
            writer=writer,
        )
        self.hub.write(client, [_encode(error)])

    def _stats(self, client: Client, message: Stats) -> None:
        if not self._allowed(client):
            # A stats answer costs the loop about as much as a command: the same allowance.
            self._reply_error(client, message.id, ErrorCode.RATE_LIMITED, "too many requests")
            return
        try:
            rows = self.hub.stats(client.jurisdiction, message.by, message.period)
        except PermissionError as exc:
            self._reply_error(client, message.id, ErrorCode.FORBIDDEN, str(exc))
            return
        data = {
            "by": message.by,
            "period": message.period,
            "rows": rows,
            "catching_up": self.hub.kpis_partial,
        }
        self.hub.write(client, [_encode(Result(id=message.id, data=data))])

    def _history(self, client: Client, message: History) -> None:
        if not self._allowed(client):
            # A store read costs about what a command does: the same allowance.
            self._reply_error(client, message.id, ErrorCode.RATE_LIMITED, "too many requests")
            return
        # Read on the side, so that the client's pings and commands are not held up by it
        # (answers are matched by id); the task is kept until it ends.
        task = asyncio.get_running_loop().create_task(self._answer_history(client, message))
        self._reading.add(task)
        task.add_done_callback(self._reading.discard)

    def _admin[M: (AdminRequest, TableRequest, IntakeRequest, DownloadRequest, Replay)](
        self, client: Client, message: M, answer: Callable[[Client, M], Coroutine[Any, Any, None]]
    ) -> None:
        if not self._allowed(client):
            # Not audited: a flood must not fill the admin log (it is logged).
            self._reply_error(client, message.id, ErrorCode.RATE_LIMITED, "too many requests")
            return
        # On the side like a history read: the store is read and written on a worker thread.
        task = asyncio.get_running_loop().create_task(answer(client, message))
        self._reading.add(task)
        task.add_done_callback(self._reading.discard)

    async def _answer_history(self, client: Client, message: History) -> None:
        actor = Actor(client.user.name, client.user.role, client.jurisdiction)
        try:
            data = await asyncio.to_thread(self._read_history, actor, message.event)
        except Exception:
            log.exception("history of event %d for %s failed", message.event, client.user.name)
            self._reply_error(client, message.id, ErrorCode.INTERNAL, "could not read the history")
            return
        if data is None:
            # Outside the jurisdiction looks exactly like absent: ids cannot be probed.
            self._reply_error(client, message.id, ErrorCode.NOT_FOUND, f"no event {message.event}")
            return
        # A client gone meanwhile is skipped by the hub's write.
        self.hub.write(client, [_encode(Result(id=message.id, data=data))])

    def _read_history(self, actor: Actor, event_id: int) -> dict[str, Any] | None:
        """The answer's data, or None when the event is absent or not the actor's to see
        (a worker thread: the store read and the decoding stay off the event loop)."""
        rows = self.store.event_history(event_id)
        if rows:
            community = _step_decoder.decode(rows[-1].after).community
        else:
            # No audit row, yet the case may exist (rows lost to a trim before the archive).
            event = self.store.event(event_id)
            if event is None:
                return None
            community = event.community
        if not actor.may_see(community):
            return None
        entries = timeline(rows)
        data: dict[str, Any] = {
            "event": event_id,
            "entries": msgspec.to_builtins(entries[-HISTORY_LIMIT:]),
            "truncated": len(entries) > HISTORY_LIMIT,
        }
        feedback = self.store.outbox_entries(event=event_id, limit=HISTORY_LIMIT)
        if feedback:  # an intake case: what the platform was told, and whether it heard
            data["feedback"] = msgspec.to_builtins(
                [
                    FeedbackEntry(
                        at=row.created_at,
                        peer=row.peer,
                        status=FEEDBACK_NAMES.get(row.kind, row.kind),
                        state=row.state,  # type: ignore[arg-type]
                        attempts=row.attempts,
                        delivered_at=row.delivered_at,
                        error=row.last_error,
                    )
                    for row in reversed(feedback)
                ]
            )
        return data

    def _refuse_frame(self, client: Client, request_id: int, code: str, message: str) -> None:
        """Refuse a frame that is no request: it costs an answer and a log line, so it draws
        on the requests' allowance too; past it the answer is rate_limited (§6.4)."""
        if not self._allowed(client):
            code, message = ErrorCode.RATE_LIMITED, "too many requests"
        self._reply_error(client, request_id, code, message)

    def _allowed(self, client: Client) -> bool:
        """Take one from the client's token bucket of requests; False when it is empty."""
        now = time.monotonic()
        rate = self.limits.commands_per_second
        client.allowance = min(
            float(self.limits.command_burst), client.allowance + (now - client.allowance_at) * rate
        )
        client.allowance_at = now
        if client.allowance < 1:
            return False
        client.allowance -= 1
        return True

    def _command(self, client: Client, message: Command) -> None:
        if not self._allowed(client):
            self._reply_error(
                client,
                message.id,
                ErrorCode.RATE_LIMITED,
                "too many commands; retry with the same command_id",
                message.command_id,
            )
            return
        args_type = ARGS.get(message.op)
        if args_type is None:
            self._reply_error(
                client,
                message.id,
                ErrorCode.UNKNOWN_OP,
                f"unknown op {message.op!r}",
                message.command_id,
            )
            return
        if not valid_command_id(message.command_id):
            self._reply_error(
                client,
                message.id,
                ErrorCode.BAD_ARGS,
                "command_id must be 1..64 characters, none of them a control character",
                message.command_id,
            )
            return
        batch = message.op == "report_batch"
        try:
            # A batch's reports are read one by one: a malformed one is refused alone.
            args = read_batch(message.args) if batch else convert(message.args, args_type)
        except ProtocolError as exc:
            self._reply_error(
                client, message.id, ErrorCode.BAD_ARGS, exc.message, message.command_id
            )
            return
        if batch:
            if client.batches >= self.limits.batches_in_flight:
                self._reply_error(
                    client,
                    message.id,
                    ErrorCode.RATE_LIMITED,
                    f"{client.batches} batches are waiting for their answers already; "
                    "retry with the same command_id once one is answered",
                    message.command_id,
                )
                return
            client.batches += 1
        actor = Actor(client.user.name, client.user.role, client.jurisdiction)
        request = CommandRequest(
            actor,
            message.op,
            args,
            message.command_id,
            args_digest(message.op, message.args),
        )
        assert self.writer is not None  # serve() refuses commands to a node without one
        future = self.writer.submit(request)
        future.add_done_callback(lambda f: self._answered(client, message, f))

    def _answered(self, client: Client, message: Command, future: asyncio.Future[Answer]) -> None:
        answer = future.result()
        if message.op == "report_batch":
            client.batches -= 1
        if not answer.ok:  # a refusal: its line counts with the others (hub.refusals)
            self.hub.refusals.note(
                log,
                f"{client.peer} ({client.user.name})",
                "%s %s %s %s -> %s (%s)",
                client.user.name,
                message.op,
                _target(message.args),
                message.command_id,
                answer.code,
                answer.message,
            )
        elif log.isEnabledFor(logging.INFO):
            outcome = "repeat" if answer.repeat else "ok"
            if message.op == "report_batch":
                data = answer.data
                outcome += (
                    f" ({data.get('created')} created, {data.get('repeats')} repeats,"
                    f" {data.get('refused')} refused)"
                )
            log.info(
                "%s %s %s %s -> %s",
                client.user.name,
                message.op,
                _target(message.args),
                printable(message.command_id),
                outcome,
            )
        if answer.ok:
            frame = _encode(
                Result(
                    id=message.id,
                    command_id=message.command_id,
                    seq=answer.seq,
                    data=answer.data,
                    repeat=answer.repeat,
                )
            )
        else:
            frame = _encode(
                Error(
                    id=message.id,
                    code=answer.code,
                    message=answer.message,
                    command_id=message.command_id,
                )
            )
        self.hub.queue(client, frame)

    def _reply_error(
        self,
        client: Client,
        request_id: int,
        code: str,
        message: str,
        command_id: str | None = None,
    ) -> None:
        self.hub.refusals.note(
            log,
            f"{client.peer} ({client.user.name})",
            "%s (%s): refused request %d: %s %s",
            client.peer,
            client.user.name,
            request_id,
            code,
            message,
        )
        self.hub.write(
            client,
            [
                _encode(
                    Error(id=request_id, code=code, message=message[:500], command_id=command_id)
                )
            ],
        )


class _Step(msgspec.Struct):
    """What a history entry needs of an event's document after a change (the rest skipped)."""

    status: Status
    level: Level
    community: str = ""
    assignee: str = ""
    decisions: list[Decision] = []


_step_decoder = msgspec.json.Decoder(_Step)


def timeline(rows: list[LogRecord]) -> list[HistoryEntry]:
    """An event's audit rows (oldest first) as history entries; each entry's text is what
    its change added to the case's record, compared with the previous row's document."""
    entries = []
    previous: Counter[tuple[float, str, str]] = Counter()
    for row in rows:
        step = _step_decoder.decode(row.after)
        current = Counter((d.at, d.by, d.text) for d in step.decisions)
        # A multiset difference, not a suffix: a record trimmed in front still compares right.
        added = current - previous
        texts = []
        for d in step.decisions:
            mark = (d.at, d.by, d.text)
            if added[mark]:
                added[mark] -= 1
                texts.append(d.text)
        entries.append(
            HistoryEntry(
                seq=row.seq,
                at=row.at,
                actor=row.actor,
                action=row.action,
                status=step.status,
                level=step.level,
                assignee=step.assignee,
                text="；".join(texts),
            )
        )
        previous = current
    return entries


def _target(args: dict[str, Any]) -> str:
    for key in ("event", "alert"):
        if key in args:
            return f"{key}={args[key]}"
    reports = args.get("reports")
    return f"reports={len(reports)}" if isinstance(reports, list) else ""
