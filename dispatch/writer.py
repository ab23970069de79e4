"""The single writer: applies requests to the state and commits them in groups.

One thread owns the authoritative State and the database writes. It takes whatever requests
have queued up (a burst becomes one transaction), applies each under the workflow rules,
commits once, then hands the committed deltas and the answers to the event loop in one call.
Nothing is acknowledged before its commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, assert_never

import msgspec
from sqlalchemy import exc as sa_exc

from dispatch import ops
from dispatch.clock import Clock
from dispatch.frames import delta_json, text_frame
from dispatch.state import SYSTEM, Actor, Change, OutboxItem, Outcome, Savepoint, State
from dispatch.store.store import (
    CommandRecord,
    Deposed,
    ExternalConflict,
    Image,
    Store,
    StoreError,
)
from dispatch.workflow import WorkflowError
from protocol.codes import ErrorCode
from protocol.commands import ReportBatch

log = logging.getLogger("dispatch.writer")
_encode = msgspec.json.Encoder().encode
# A writer batch takes requests until it holds this many (a report_batch counts as its
# reports): one transaction each.
MAX_BATCH = 4000
# Answers of recent commands kept in memory (the rest are read back from the store): this
# many at most, and at most this many bytes of them (a report_batch's answer is ~50 KB).
COMMAND_CACHE = 200_000
COMMAND_CACHE_BYTES = 64 * 1024 * 1024
# After a batch refused for an external id sent again, this many writer batches look every
# external id up before they create its event (ExternalIds.look_up).
LOOK_UP_AFTER_CONFLICT = 50
# A database that fails every commit for this long (a lost connection not coming back) ends
# the backend: a supervisor, systemd or a standby does better than refusing for ever.
DATABASE_GRACE_SECONDS = 30.0
# A tick with nothing to commit reads the writer lease at most this often (a simulator
# catching up ticks thousands of times a second).
LEASE_CHECK_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class CommandRequest:
    """A user's command: an op with its args; a command_id makes a repeat answer the same."""

    actor: Actor
    op: str
    args: msgspec.Struct
    command_id: str | None = None
    digest: str = ""  # of the op and args as sent: a reused command_id must match it
    at: float | None = None  # district time; None: the clock's now at apply time


@dataclass(frozen=True, slots=True)
class DetectRequest:
    """A camera's detection, with the snapshot image stored beside the alert it raises."""

    camera: str
    kind: str
    score: float
    image: Image | None = None
    at: float | None = None
    actor: Actor = SYSTEM  # an intake's own user, for the audit log
    # A camera platform's id of the detection: one alert per id (State.detect).
    external_id: str = ""
    # When the camera saw it, by its own clock (checked by the intake), if it says.
    observed_at: float | None = None


@dataclass(frozen=True, slots=True)
class TickRequest:
    """The clock's deadline check."""

    at: float | None = None


@dataclass(frozen=True, slots=True)
class PruneRequest:
    """Drop settled entities from the state."""

    at: float | None = None


@dataclass(frozen=True, slots=True)
class CallRequest:
    """Any function of the state and the time, applied like an op (simulator, tests)."""

    call: Callable[[State, float], Outcome]
    at: float | None = None


Request = CommandRequest | DetectRequest | TickRequest | PruneRequest | CallRequest


@dataclass(slots=True)
class Answer:
    """The outcome of a request: ok with data and seq, or an error code and message."""

    ok: bool
    data: dict[str, Any] = field(default_factory=dict)
    seq: int | None = None
    code: str = ""
    message: str = ""
    repeat: bool = False


@dataclass(frozen=True, slots=True)
class Published:
    """One committed change as the event loop needs it: position, visibility, frame."""

    seq: int
    kind: str
    id: int
    key: str  # who may see it (jurisdiction.py): a community's code, "" for everyone
    entity: Any
    frame: bytes  # the delta message's JSON
    wire: bytes  # the same as a websocket text frame, built here, off the event loop
    # The entity as it was before (None when new): the KPI book takes a settled case's old
    # counts out by it (it keeps no copy of settled cases).
    before: Any = None


# A request and the future its submitter awaits (None: nobody waits for the answer).
_Queued = tuple[Request, asyncio.Future[Answer] | None]
_Waiting = asyncio.Future[Answer] | None


def disk_full(exc: BaseException) -> bool:
    """Whether a storage error says the disk (or the database's file system) is full."""
    text = f"{exc} {exc.__cause__ or ''}".lower()
    return "disk is full" in text or "no space left" in text or "disk full" in text


class Writer:
    """Owns State and Store writes on its own thread; the loop talks to it by `submit`."""

    def __init__(
        self,
        store: Store,
        state: State,
        clock: Clock,
        loop: asyncio.AbstractEventLoop,
        deliver: Callable[[list[Published]], None],
        head: int | None = None,
    ) -> None:
        self.store = store
        self.state = state
        self.clock = clock
        self.loop = loop
        self.deliver = deliver
        self._queue: queue.SimpleQueue[_Queued | None] = queue.SimpleQueue()
        self._commands: OrderedDict[str, CommandRecord] = OrderedDict()
        self._commands_bytes = 0
        self._docs: dict[tuple[str, int], tuple[Any, bytes]] = {}
        self._thread = threading.Thread(target=self._run, name="dispatch-writer", daemon=True)
        self.batches = 0
        self.applied = 0
        self.head = store.head()[0] if head is None else head  # last seq known committed
        self._look_up_until = 0  # writer batches (self.batches) that look external ids up
        self.failed = False
        # Told (on the event loop) when the writer stops for good: the backend then exits.
        self.on_fatal: Callable[[str], None] = lambda reason: None
        self._failing_since: float | None = None  # the first of a run of failed commits
        self._lease_checked = 0.0  # when a tick last read the writer lease (monotonic)
        # Rules that turn a change into feedback owed to an intake peer (the intakes add
        # theirs before they take requests): written in the change's own transaction.
        self.outbox_rules: list[Callable[[Change], OutboxItem | None]] = []

    def start(self) -> None:
        """Start the writer thread."""
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish what is queued, then stop the thread."""
        self._queue.put(None)
        self._thread.join(timeout)

    def submit(self, request: Request) -> asyncio.Future[Answer]:
        """Queue a request (from the event loop); the future resolves after its commit."""
        future: asyncio.Future[Answer] = self.loop.create_future()
        self._queue.put((request, future))
        return future

    def submit_nowait(self, request: Request) -> None:
        """Queue a request whose answer nobody waits for (simulator, clock); any thread."""
        self._queue.put((request, None))

    # ---- the thread ------------------------------------------------------------------------

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            weight = _weight(first[0])
            while weight < MAX_BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batch.append(more)
                weight += _weight(more[0])
            if self.failed:
                self._answer_all(
                    batch,
                    Answer(
                        False,
                        code=ErrorCode.INTERNAL,
                        message="the writer has stopped; restart needed",
                    ),
                )
                continue
            try:
                self._process(batch)
            except Exception as exc:  # keep the writer alive; every request gets an answer
                if isinstance(exc, sa_exc.OperationalError | StoreError):
                    # The database went away while the batch read what it needed (a
                    # restart): one line per batch, not a traceback; nothing was written.
                    log.error("writer batch: the database failed: %s", str(exc).split("\n")[0])
                    message = "storage failure; nothing was applied"
                    # As after a failed commit: its server may have vanished without a word.
                    self.store.drop_pooled_connections()
                else:
                    log.exception("writer batch failed")
                    message = "internal error; nothing was applied"
                self._answer_all(batch, Answer(False, code=ErrorCode.INTERNAL, message=message))

    def _fatal(self, reason: str) -> None:
        """Stop writing for good (every later request is refused) and tell the loop."""
        self.failed = True
        log.critical("%s: the writer stops; the backend exits to be started again", reason)
        with contextlib.suppress(RuntimeError):  # the loop has closed already
            self.loop.call_soon_threadsafe(self.on_fatal, reason)

    def _committed_anyway(self) -> bool | None:
        """After a failed commit: whether it went through all the same (the log's head
        moved), once the database answers again; None if it did not answer within
        DATABASE_GRACE_SECONDS (a restart of PostgreSQL takes a few; the writer waits,
        its queue with it, rather than refuse everything meanwhile)."""
        deadline = time.monotonic() + DATABASE_GRACE_SECONDS
        pause = 0.05
        while True:
            try:
                head, _ = self.store.head()
            except Exception:
                if time.monotonic() + pause > deadline:
                    return None
                time.sleep(pause)
                # At most a quarter of a second between tries: a promoted standby (or a
                # restarted server) is written to that soon after it takes writes.
                pause = min(pause * 2, 0.25)
                continue
            return head != self.head

    def _known_commands(self, batch: list[_Queued]) -> dict[str, CommandRecord]:
        ids = [r.command_id for r, _ in batch if isinstance(r, CommandRequest) and r.command_id]
        known = {i: self._commands[i] for i in ids if i in self._commands}
        missing = [i for i in ids if i not in known]
        if missing:
            known.update(self.store.find_commands(missing))
        return known

    def _process(self, batch: list[_Queued]) -> None:
        state = self.state
        state.journal.clear()
        state.external.pending.clear()
        state.external.look_up = self.batches < self._look_up_until
        point: Savepoint = state.savepoint()
        known = self._known_commands(batch)
        changes: list[Change] = []
        answers: list[tuple[_Waiting, Answer, int, int]] = []  # future, answer, first, end
        first_in_batch: dict[str, int] = {}  # command_id -> index in answers
        repeats: list[tuple[_Waiting, int]] = []
        records: list[CommandRecord] = []
        images: list[tuple[int, Image]] = []
        try:
            self._apply_all(
                batch, known, changes, answers, records, images, first_in_batch, repeats
            )
        except Exception:
            state.rollback(point, changes)  # nothing half-applied stays in memory
            raise
        docs = [self._docs_of(c) for c in changes]
        externals = state.external.take()
        outbox = [
            item
            for rule in self.outbox_rules
            for change in changes
            if (item := rule(change)) is not None
        ]
        first = 0
        if changes or records:
            try:
                first = self.store.commit(changes, records, images, docs, externals, outbox)
            except ExternalConflict:
                state.rollback(point, changes)
                if state.external.look_up:  # looked up, yet stored: not ours to write
                    raise
                # An external id sent again (a gateway's retry under a new command_id): the
                # same requests once more, each external id looked up this time.
                log.info("an external id came again: the writer batch is applied again")
                self._look_up_until = self.batches + LOOK_UP_AFTER_CONFLICT
                self._process(batch)
                return
            except Deposed as exc:
                # Another backend took the writer lease (a standby, after this one seemed
                # gone): nothing of the batch was written, and nothing more may be.
                state.rollback(point, changes)
                self._fatal(f"deposed: {exc}")
                self._answer_all(batch, Answer(False, code=ErrorCode.INTERNAL, message=str(exc)))
                return
            except StoreError as exc:
                log.error("commit of %d changes failed: %s", len(changes), exc)
                state.rollback(point, changes)
                # Its server may have vanished: no pre-ping of a stale connection to it.
                self.store.drop_pooled_connections()
                committed = self._committed_anyway() if changes else False
                if committed is None:
                    self._fatal(f"the database did not answer for {DATABASE_GRACE_SECONDS:.0f} s")
                elif committed:
                    # The connection failed after COMMIT went through: memory no longer
                    # matches the database. Stop writing rather than diverge; a restart
                    # reloads the truth.
                    self._fatal("commit outcome uncertain")
                elif disk_full(exc):
                    self._fatal("the disk is full")
                else:
                    now = time.monotonic()
                    self._failing_since = self._failing_since or now
                    if now - self._failing_since > DATABASE_GRACE_SECONDS:
                        self._fatal(
                            f"the database failed every commit for {DATABASE_GRACE_SECONDS:.0f} s"
                        )
                why = "the disk is full" if disk_full(exc) else "storage failure"
                self._answer_all(
                    batch,
                    Answer(False, code=ErrorCode.INTERNAL, message=f"{why}; nothing was applied"),
                )
                return
        elif (
            any(isinstance(request, TickRequest) for request, _ in batch)
            and time.monotonic() - self._lease_checked >= LEASE_CHECK_SECONDS
        ):
            self._lease_checked = time.monotonic()
            # Nothing to commit, so no commit's fence check: a deposed writer would live on
            # (its admin writes with it) until its next command. The tick asks instead.
            try:
                self.store.check_lease()
            except Deposed as exc:
                self._fatal(f"deposed: {exc}")
                self._answer_all(batch, Answer(False, code=ErrorCode.INTERNAL, message=str(exc)))
                return
        self._failing_since = None
        if externals:
            state.external.remember(externals)
        if changes:
            self.head = first + len(changes) - 1
        for record in records:
            absolute = None if record.seq is None else first + record.seq
            self._remember(_with_seq(record, absolute))
        published = []
        for i, c in enumerate(changes):
            frame = delta_json(first + i, c.action, c.actor, c.at, docs[i][0])
            published.append(
                Published(
                    first + i, c.kind, c.id, c.key, c.after, frame, text_frame(frame), c.before
                )
            )
        self.batches += 1
        self.applied += len(changes)
        final: list[tuple[_Waiting, Answer]] = []
        for future, answer, start, end in answers:
            if answer.ok and end > start:
                answer = Answer(True, data=answer.data, seq=first + end - 1, repeat=answer.repeat)
            final.append((future, answer))
        for future, index in repeats:
            final.append((future, dataclasses.replace(final[index][1], repeat=True)))
        self.loop.call_soon_threadsafe(self._hand_over, published, final)

    def _apply_all(
        self,
        batch: list[_Queued],
        known: dict[str, CommandRecord],
        changes: list[Change],
        answers: list[tuple[_Waiting, Answer, int, int]],
        records: list[CommandRecord],
        images: list[tuple[int, Image]],
        first_in_batch: dict[str, int],
        repeats: list[tuple[_Waiting, int]],
    ) -> None:
        """Apply each request of a batch in order, collecting changes and answers."""
        for request, future in batch:
            command = request if isinstance(request, CommandRequest) else None
            command_id = command.command_id if command else None
            if command and command_id and command_id in known:
                original = first_in_batch.get(command_id)
                stored = known[command_id]
                if (
                    original is not None
                    and stored.digest == command.digest
                    and stored.user == command.actor.name
                ):
                    # A repeat of a command in this very batch: answered like the original
                    # once the batch's seqs are known.
                    repeats.append((future, original))
                    continue
                answers.append((future, _repeat(stored, command), 0, 0))
                continue
            now = request.at if request.at is not None else self.clock.now()
            start = len(changes)
            journal = self.state.journal
            mark = len(journal)
            external = self.state.external.mark()
            try:
                outcome = self._apply(request, now)
            except Exception as exc:
                # Whatever the op changed before failing is put back: all or nothing.
                self.state.undo(journal[mark:])
                del journal[mark:]
                self.state.external.undo(external)
                if not isinstance(exc, WorkflowError):
                    raise
                answer = Answer(False, code=exc.code, message=exc.message)
            else:
                changes.extend(outcome.changes)
                answer = Answer(True, data=outcome.data)
                image = request.image if isinstance(request, DetectRequest) else None
                if image is not None and outcome.data.get("image"):
                    images.append((int(str(outcome.data["alert"])), image))
            if command and command_id:
                record = CommandRecord(
                    command_id,
                    command.actor.name,
                    command.op,
                    command.digest,
                    _encode(
                        {
                            "ok": answer.ok,
                            "data": answer.data,
                            "code": answer.code,
                            "message": answer.message,
                        }
                    ).decode(),
                    len(changes) - 1 if len(changes) > start else None,
                    now,
                )
                records.append(record)
                known[command_id] = record
                first_in_batch[command_id] = len(answers)
            answers.append((future, answer, start, len(changes)))

    def _apply(self, request: Request, now: float) -> Outcome:
        state = self.state
        match request:
            case CommandRequest(actor=actor, op=op, args=args):
                return ops.apply(state, actor, op, args, now)
            case DetectRequest(camera=camera, kind=kind, score=score):
                return state.detect(
                    camera,
                    kind,
                    score,
                    now,
                    "/snapshots/{id}",
                    request.actor,
                    request.external_id,
                    request.image is not None,
                    request.observed_at,
                )
            case TickRequest():
                return Outcome(state.tick(now))
            case PruneRequest():
                state.prune(now)
                self._forget_docs(state)
                return Outcome()
            case CallRequest(call=call):
                return call(state, now)
            case _:
                assert_never(request)

    def _docs_of(self, change: Change) -> tuple[bytes, bytes | None]:
        # Each entity version is encoded once: as `after` now, reused as `before` next time.
        key = (change.kind, change.id)
        cached = self._docs.get(key)
        before: bytes | None = None
        if change.before is not None:
            before = cached[1] if cached and cached[0] is change.before else _encode(change.before)
        after = _encode(change.after)
        self._docs[key] = (change.after, after)
        if len(self._docs) > 300_000:
            self._docs.clear()
        return after, before

    def _forget_docs(self, state: State) -> None:
        """Drop the encoded documents of entities the state has let go of: their next change
        (a return visit, rare) encodes its `before` again. Without this the cache kept every
        entity ever changed — about a thousand more a simulated day — until 300,000."""
        events, alerts = state.events, state.alerts
        self._docs = {
            key: value
            for key, value in self._docs.items()
            if (key[1] in events if key[0] == "event" else key[0] != "alert" or key[1] in alerts)
        }

    def _remember(self, record: CommandRecord) -> None:
        old = self._commands.pop(record.command_id, None)
        if old is not None:
            self._commands_bytes -= len(old.result)
        self._commands[record.command_id] = record
        self._commands_bytes += len(record.result)
        while len(self._commands) > COMMAND_CACHE or self._commands_bytes > COMMAND_CACHE_BYTES:
            _, gone = self._commands.popitem(last=False)
            self._commands_bytes -= len(gone.result)

    def _answer_all(self, batch: list[_Queued], answer: Answer) -> None:
        self.loop.call_soon_threadsafe(self._hand_over, [], [(f, answer) for _, f in batch])

    # ---- back on the loop ------------------------------------------------------------------

    def _hand_over(
        self, published: list[Published], answers: list[tuple[_Waiting, Answer]]
    ) -> None:
        if published:
            self.deliver(published)
        for future, answer in answers:
            if future is not None and not future.done():
                future.set_result(answer)


def _weight(request: Request) -> int:
    """What a request counts for in a writer batch: its reports for a report_batch."""
    if isinstance(request, CommandRequest) and isinstance(request.args, ReportBatch):
        return max(1, len(request.args.reports))
    return 1


def _with_seq(record: CommandRecord, seq: int | None) -> CommandRecord:
    return CommandRecord(
        record.command_id, record.user, record.op, record.digest, record.result, seq, record.at
    )


def _repeat(record: CommandRecord, request: CommandRequest) -> Answer:
    if record.digest != request.digest or record.user != request.actor.name:
        return Answer(
            False,
            code=ErrorCode.CONFLICT,
            message=f"command_id {record.command_id} was used for another command",
        )
    stored = msgspec.json.decode(record.result)
    return Answer(
        bool(stored["ok"]),
        data=stored["data"],
        seq=record.seq,
        code=stored["code"],
        message=stored["message"],
        repeat=True,
    )
