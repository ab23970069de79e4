"""The dispatch backend on its event loop: starts and stops the writer, hub and listener.

The event loop never touches the database directly: authentication, replay reads and image
reads go to worker threads; writes go to the Writer. The parts: hub.py (read model, resume
ring, fan-out, backlog, KPI push), handshake.py (hello, authentication, snapshot/replay/
reset), session.py (pings, commands, stats, history), admin.py (users, create_user,
revoke_user), tables.py (the duty roster and the category table), replays.py and
replay.py (the time machine: replays and their checkpoints), http.py (/health, /snapshots).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import ctypes
import functools
import gc
import importlib
import logging
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import msgspec
from sqlalchemy.exc import SQLAlchemyError
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from dispatch import kept_kpis, kpi, risk, risk_json
from dispatch.admin import UserAdmin
from dispatch.app import stored_tables
from dispatch.clock import Clock
from dispatch.downloads import Downloads
from dispatch.follower import Follower
from dispatch.handshake import Authenticator, Handshake, peer_of
from dispatch.http import HttpEndpoints
from dispatch.hub import SERVER_FULL, TOO_MANY_CONNECTIONS, Client, Hub, abort
from dispatch.intake.config import HttpSettings, IntakeConfig
from dispatch.intake.desk import IntakeDesk
from dispatch.limits import Limits
from dispatch.pools import started_pool
from dispatch.reference import ReferenceData, local
from dispatch.replay import keep_checkpoints
from dispatch.replays import Replays
from dispatch.risk_process import RiskTrainer, WorkerFailed, train_on
from dispatch.session import Session
from dispatch.state import State
from dispatch.store.store import STANDBY_POLL_SECONDS, Store
from dispatch.tables import TableAdmin
from dispatch.writer import Answer, PruneRequest, Published, Request, TickRequest, Writer
from protocol.codes import CloseCode
from protocol.entities import Alert, Duty, Event
from protocol.messages import CaseRisk, Hello
from protocol.retention import KEEP_CLOSED_SECONDS, prune_settled

if TYPE_CHECKING:
    from dispatch.intake.service import IntakeService

__all__ = ["Client", "DispatchServer", "Hub", "Limits", "tune_gc"]

# A stop (SIGTERM, SIGINT) ends the process within 5 s (docs/operations): the server's part
# takes at most SHUTDOWN_SECONDS, the interpreter's end the rest.
SHUTDOWN_SECONDS = 4.0
# At start the heavy work waits for a first client's snapshot, at most this long.
FIRST_CLIENT_SECONDS = 1.0
CLOSE_SECONDS = 1.5  # for every client at once to complete the closing handshake
INTAKE_STOP_SECONDS = 2.0

log = logging.getLogger("dispatch.server")
# What a node does: writes (and serves); follows the log, serves and takes over when the
# writer stops; follows and serves only (a fan-out gateway).
Role = Literal["writer", "standby", "gateway"]
PRUNE_EVERY = 600.0  # seconds (real or district) between drops of what settled 36 h ago
TRIM_EVERY = 60.0  # real seconds between returns of the C heap's free pages (malloc_trim)
TABLE_FOLLOW_SECONDS = 5.0  # between a standby's or a gateway's reads of the category table
GATEWAY_POLL = 2.0  # seconds between a gateway's looks at the writer (lease and lock)
# Looks in a row without the writer's lock before a gateway says no node writes: a writer
# whose database session was lost takes its lock again within a look or two (_claim_loop).
NO_WRITER_LOOKS = 3
NO_WRITER = "\0no writer"  # what a gateway last said of the writer: that none writes


async def _within(awaitable: Awaitable[object], what: str, patience: float) -> bool:
    """Await something during shutdown for at most `patience` seconds; say what hangs.

    Not `wait_for`: on a timeout it waits for the cancelled task to end, and a task that
    ignores its cancellation would hang the shutdown after all."""
    future = asyncio.ensure_future(awaitable)
    try:
        await asyncio.wait({future}, timeout=patience)
    finally:
        if not future.done():
            future.cancel()
            # Left to end on its own: how it ends is not news (nor "never retrieved").
            future.add_done_callback(lambda f: f.cancelled() or f.exception())
    if future.done():
        if not future.cancelled():
            future.result()  # its exception, if any, is the caller's
        return True
    pending = [
        f"{task.get_name()} at {frame.f_code.co_filename}:{frame.f_lineno}"
        for task in asyncio.all_tasks()
        if task is not asyncio.current_task()
        for frame in task.get_stack(limit=1)
    ]
    log.warning(
        "shutdown: %s took over %.0f s; going on. Pending: %s",
        what,
        patience,
        "; ".join(pending) or "nothing",
    )
    return False


async def _ended(task: asyncio.Task[None]) -> None:
    """Wait for a cancelled task to end, whatever it ended with."""
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


def _keep_model(store: Store, model: risk.RiskModel) -> None:
    """The writer's model kept in the store, as JSON, for its followers."""
    store.save_risk_model(model.trained_at, risk_json.dumps(model))


def _kept_model(store: Store, after: int) -> tuple[int, risk.RiskModel | None] | None:
    """The writer's newest kept model if newer than `after`: its id, and the model (None
    when unreadable: a writer of another version, said in the log)."""
    kept = store.risk_model_after(after)
    if kept is None:
        return None
    stored_id, doc = kept
    try:
        return stored_id, risk_json.loads(doc)
    except ValueError as exc:  # this node trains its own once none readable has come
        log.warning("the writer's deadline-risk model %d is unreadable: %s", stored_id, exc)
        return stored_id, None


class DispatchServer:
    """Everything the backend runs on its event loop."""

    def __init__(
        self,
        store: Store,
        reference: ReferenceData,
        clock: Clock | None = None,
        limits: Limits | None = None,
        intake: IntakeConfig | None = None,
    ) -> None:
        self.store = store
        self.intake_config = intake
        self.intake: IntakeService | None = None
        self.fatal = ""  # why the writer stopped for good ("" while it writes)
        self._risk_worker: ThreadPoolExecutor | None = None
        # The model is trained in a process of its own (dispatch/risk_process.py).
        self.risk_trainer = RiskTrainer(store.url)
        self.risk_model: risk.RiskModel | None = None  # the one the cases are scored with
        self._risk_read_failing = False  # a follower's reads of the writer's model fail
        self._fatal = asyncio.Event()
        # Set once this node writes (from the start, or on taking over as a standby): what
        # only a writer may run (the simulator) waits for it.
        self.writing = asyncio.Event()
        # Its own: an admin's new category table is swapped into it (tables.py), which must
        # not reach another server given the same reference (tests, benchmarks).
        self.reference = copy.copy(reference)
        self.clock = clock or Clock()
        self.limits = limits or Limits()
        self.state = State(self.reference)
        self.state.archive = store.event
        self.state.external.read = store.find_external
        self.hub: Hub | None = None
        self.writer: Writer | None = None
        self.role: Role = "writer"
        self.follower: Follower | None = None  # a standby's or a gateway's
        self.endpoint = ""  # where this node serves (ws://HOST:PORT unless told)
        self.writer_at = ""  # where the writer serves, as its lease says
        self._server: Server | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.auth = Authenticator(store, self.limits.auth_recheck)
        self.handshake: Handshake | None = None
        self.session: Session | None = None
        self.downloads: Downloads | None = None
        self.port = 0
        self.ticking = True  # the simulator pauses the clock's deadline checks while warming up
        self._open = 0  # websocket connections being served, handshakes included
        self._per_user: Counter[str] = Counter()  # users' connections past their hello
        self._catching_up = False
        self._listening_since = 0.0

    @property
    def catching_up(self) -> bool:
        """The simulator is replaying the day so far: the KPIs are partial until it has."""
        return self._catching_up

    def begin_catching_up(self) -> None:
        """The simulator is about to replay the day so far: every KPI figure (snapshot,
        `kpis`, `stats`) says it is partial from now on (before start(): from the first
        snapshot on), until caught_up()."""
        self._catching_up = True
        if self.hub is not None:
            self.hub.catching_up = True
            self.hub.kpi_dirty = True

    async def caught_up(self) -> None:
        """The simulator has replayed the day (every change of it delivered): make the KPIs
        whole — yesterday's curve read again from the store, which the replay wrote to, and
        every case counted — then clear the flag and push them, with no await in between.
        So the `kpis` message that completes the figures is the one that says so, and every
        snapshot or `stats` answer says partial exactly until it is queued."""
        if not self._catching_up:
            return
        self._catching_up = False
        hub = self.hub
        if hub is None:
            return
        day = kpi.day_start(self.clock.now())
        rows = await asyncio.to_thread(self.store.arrivals, day - 86400, day)
        hub.kpis.set_yesterday(kpi.hourly(rows, day - 86400))
        now = self.clock.now()
        await hub.count_kpis(now)
        hub.catching_up = False  # the figures are whole: this push says so
        hub.push_kpis(now)

    async def start(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        intake_now: bool = True,
        role: Role = "writer",
        endpoint: str = "",
    ) -> int:
        """Claim the database, load state, start the writer and the listener (and the
        intakes, unless `intake_now` is false: then `start_intake`); return the port.

        `role` "standby": follow the log and serve, take over when the writer stops;
        "gateway": follow and serve only. `endpoint`: the URL clients reach this node at
        (named to clients of the standbys while this node writes; default ws://HOST:PORT)."""
        loop = asyncio.get_running_loop()
        self.role = role
        if role == "writer":
            await asyncio.to_thread(self.store.claim)  # StoreError if another backend serves it
            # The fencing number bumped before the state is read: ids follow what the previous
            # writer committed, and it can commit nothing more.
            await asyncio.to_thread(self.store.take_lease)
        now = self.clock.now()
        head, trimmed = await asyncio.to_thread(self.store.head)
        epoch = await asyncio.to_thread(self.store.epoch)
        # The KPI books as the last clean stop kept them, if they describe this very log.
        departments = frozenset(self.reference.departments)
        kept_path = self._kept_kpis_path() if role == "writer" else None
        kept = None
        if kept_path is not None:
            key = kept_kpis.key_for(epoch, head, departments)
            kept = await asyncio.to_thread(kept_kpis.take, kept_path, key)
        counted, events, alerts, duties, at_head = await self._load_state(
            now, counted_too=kept is None, head_too=role != "writer"
        )
        if at_head is not None:  # a follower: the head its state was read at
            head, trimmed = at_head
        keyed_from = await asyncio.to_thread(self.store.community_keys_from)
        self.hub = Hub(self.reference, epoch, head, trimmed, self.limits, self.clock.now)
        self.hub.catching_up = self.catching_up  # a simulator about to catch up said so
        self.hub.community_keys_from = keyed_from
        self.hub.load(events, alerts, duties)
        self.hub.people = await asyncio.to_thread(self.store.people)
        if kept is not None and kept.starts[0] == kpi.period_starts(now)[0]:
            hours_yesterday = kept.yesterday  # still yesterday's: kept the same day
        else:
            hours_yesterday = await self._yesterday(now)
        # The KPI books: read back when kept; else filled from the loaded cases in a worker
        # thread while the listener serves (snapshots go out at once, their figures marked
        # partial until the filled book takes over; a stand-in notes the changes meanwhile).
        if kept is not None:
            self.hub.kpis = kpi.KpiBook.restored(kept, now, departments, hours_yesterday)
            log.info("KPI books read back as the last clean stop kept them")
        else:
            self.hub.kpis = kpi.KpiBook(now, departments, filling=True)
            self.hub.kpis_filled.clear()
        self.downloads = Downloads(self.hub, self.store, self.reference, self.clock)
        if role != "gateway":
            self.downloads.watch()  # the duty in force now: its report is made when it ends
        if role == "writer":
            self._start_writer(loop, head)
        else:
            # Named in not_writer answers from the first command on (the lease loop rereads it).
            _, self.writer_at = await asyncio.to_thread(self.store.writer_endpoint)
            self.follower = Follower(self.store, loop, self._deliver, self._held, head)
            self.follower.start()
        self.handshake = Handshake(
            self.hub, self.store, self.reference, self.clock, self.limits, self.auth
        )
        self.session = Session(
            self.hub,
            self.writer,
            self.clock,
            self.limits,
            self.store,
            UserAdmin(self.hub, self.store, self.auth),
            TableAdmin(self.hub, self.store, self.reference, self.clock, self.submit),
            IntakeDesk(self.hub, self.store, lambda: self.intake),
            self.downloads,
            Replays(self.hub, self.store, self.reference, self.clock, self.limits),
            lambda: self.writer_at,
        )
        endpoints = HttpEndpoints(self.hub, self.store, self.reference, self.auth, self.downloads)
        self._server = await serve(
            self._handle,
            host,
            port,
            compression=None,
            max_size=self.limits.max_frame,
            max_queue=64,
            ping_interval=20,
            ping_timeout=20,
            close_timeout=5,
            process_request=endpoints.process_request,
            server_header="tongguan-dispatch",
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self.endpoint = endpoint or f"ws://{host}:{self.port}"
        self._listening_since = time.monotonic()
        self._tasks = []
        if kept is None:
            fill = self._fill_kpis(counted, now, hours_yesterday)
            self._tasks.append(asyncio.create_task(fill, name="fill"))
        self._tasks += [
            asyncio.create_task(self._kpi_loop(), name="kpis"),
            asyncio.create_task(self._credentials_loop(), name="credentials"),
        ]
        # Every node works out the risks of the cases it serves (the model trained from the
        # store in a process of its own, once an hour): a desk on a gateway gets them too.
        self._tasks.append(asyncio.create_task(self._risk_loop(), name="risk"))
        if role == "writer":
            await self._writer_begins(intake_now)
        else:
            self._tasks.append(asyncio.create_task(self._lease_loop(), name="lease"))
        log.info(
            "serving %d events, %d alerts at head %d (epoch %s) on %s:%d%s",
            len(events),
            len(alerts),
            head,
            epoch,
            host,
            self.port,
            "" if role == "writer" else f" as a {role}: following the log",
        )
        return self.port

    async def _load_state(
        self, now: float, counted_too: bool, head_too: bool = False
    ) -> tuple[list[Event], list[Event], list[Alert], dict[str, Duty], tuple[int, int] | None]:
        """Read the live state from the database into the writer's State (whose ids follow
        what the database holds): (cases to count the KPIs from, the live cases, alerts and
        duty). One read for the live state and the KPIs: the cases retention keeps and every
        open one, and with `counted_too`, this month's (this week's, when it began last
        month) to count them again. `head_too`: with the log's (head, trimmed) read as of
        the same moment (a follower, whose writer commits meanwhile)."""
        earliest = now - KEEP_CLOSED_SECONDS
        if counted_too:
            earliest = min(earliest, *kpi.period_starts(now))
        at_head: tuple[int, int] | None = None
        if head_too:
            at_head, loaded = await asyncio.to_thread(self.store.load_state_at_head, earliest)
        else:
            loaded = await asyncio.to_thread(self.store.load_state, earliest)
        counted, loaded_alerts, duties, next_event, next_alert = loaded
        live_events = {e.id: e for e in counted}
        live_alerts = {a.id: a for a in loaded_alerts}
        prune_settled(live_events, live_alerts, now)
        events, alerts = list(live_events.values()), list(live_alerts.values())
        self.state.load(events, alerts, duties)
        yesterday = local(now - 86400).strftime("%Y-%m-%d")
        plans = await asyncio.to_thread(self.store.duty_plans, yesterday)
        self.state.plans = {(plan.district, plan.day): plan for plan in plans}
        self.state.next_event_id = next_event
        self.state.next_alert_id = next_alert
        return counted, events, alerts, self.state.duties, at_head

    def _deliver(self, published: list[Published]) -> None:
        """A committed batch, the writer's or the log's, into the hub and out to clients."""
        assert self.hub is not None and self.downloads is not None
        self.hub.deliver(published)
        if self.role != "gateway":
            self.downloads.watch()

    def _held(self, kind: str, ident: int) -> Event | Alert | None:
        """The entity as the hub holds it (a followed row's `before`)."""
        assert self.hub is not None
        if kind == "event":
            return self.hub.events.get(ident)
        return self.hub.alerts.get(ident) if kind == "alert" else None

    def _start_writer(self, loop: asyncio.AbstractEventLoop, head: int) -> None:
        self.writer = Writer(self.store, self.state, self.clock, loop, self._deliver, head)
        self.writer.on_fatal = self._writer_stopped
        self.writer.start()

    async def _writer_begins(self, intake_now: bool) -> None:
        """What only the writer runs: the intakes, the clock's ticks, the checkpoints; and it
        says where it serves, for the standbys to name it."""
        try:
            await asyncio.to_thread(self.store.set_endpoint, self.endpoint)
        except Exception:  # clients of standbys are told "not known yet" meanwhile
            log.exception("saying where this writer serves failed")
        self.writer_at = self.endpoint
        self.writing.set()
        if intake_now:
            await self.start_intake()
        self._tasks += [
            asyncio.create_task(self._clock_loop(), name="clock"),
            asyncio.create_task(self._checkpoint_loop(), name="checkpoints"),
        ]
        if self.store.engine.dialect.name == "postgresql":  # SQLite's is the kernel's file lock
            self._tasks.append(asyncio.create_task(self._claim_loop(), name="claim"))

    async def _claim_loop(self) -> None:
        """The writer keeps its lock (Store.keep_claim: taken again when the database lost
        its session) every GATEWAY_POLL seconds, as often as a gateway looks for it; it
        stops when another backend holds it (a standby took over: its commits would fail)."""
        while True:
            await asyncio.sleep(GATEWAY_POLL)
            try:
                held = await asyncio.to_thread(self.store.keep_claim)
            except Exception:  # a bug: said, and tried again
                log.exception("keeping the writer's lock failed")
                continue
            if not held:
                self._writer_stopped(
                    "deposed: this backend is no longer the writer: another backend holds"
                    " the writer's lock"
                )
                return

    async def _lease_loop(self) -> None:
        """A standby asks for the writer's lock every STANDBY_POLL_SECONDS and takes over
        when it gets it; standbys and gateways read where the writer serves meanwhile."""
        told = ""  # the writer last named in the log ("" none yet; NO_WRITER: none writes)
        table_read = time.monotonic()
        unseen = 0  # a gateway's looks in a row without the writer's lock
        while True:
            if self.role == "standby" and await asyncio.to_thread(self.store.try_claim):
                await self._promote()
                return
            if time.monotonic() - table_read >= TABLE_FOLLOW_SECONDS:
                table_read = time.monotonic()
                await self._follow_table()
            try:
                holder, self.writer_at, writing = await asyncio.to_thread(self._writer_seen)
            except Exception as exc:  # the database away: the follower says so too
                log.debug("reading the writer lease: %s", exc)
            else:
                unseen = 0 if writing else unseen + 1
                told = self._note_writer(holder, unseen < NO_WRITER_LOOKS, told)
            # A gateway never takes over: it only names the writer to desks, and says when
            # none writes; it asks less often (each ask is a round trip and a thread's turn).
            await asyncio.sleep(STANDBY_POLL_SECONDS if self.role == "standby" else GATEWAY_POLL)

    def _note_writer(self, holder: str, writing: bool, told: str) -> str:
        """Tell the clients (a gateway's `kpis.no_writer`) and the log what a look at the
        writer found, once per change; what the log now says."""
        hub = self.hub
        gateway = self.role == "gateway"
        if gateway and hub is not None and writing == hub.no_writer:
            hub.no_writer = not writing
            hub.kpi_dirty = True  # clients told with the next second's figures
        if gateway and not writing:
            # The lease names the last writer, gone: commands wait (the desks ask again)
            # until a writer or a standby starts.
            self.writer_at = ""
            if told != NO_WRITER:
                log.warning(
                    "no node writes: the writer's lock is free (%s has gone); commands wait"
                    " until a writer or a standby starts",
                    holder or "the writer",
                )
            return NO_WRITER
        if holder and holder != told:
            # A node's normal state: not a warning (but after "no node writes", a writer
            # back is said as loudly as its absence was).
            level = logging.WARNING if told == NO_WRITER else logging.INFO
            log.log(
                level,
                "%s of the writer %s at %s%s",
                self.role,
                holder,
                self.writer_at or "(not said yet)",
                ": taking over when it stops" if self.role == "standby" else "",
            )
            return holder
        return told

    def _writer_seen(self) -> tuple[str, str, bool]:
        """(who writes, where it serves, whether its lock is held: a gateway's look; true
        for a standby, which learns that by asking for the lock itself)."""
        holder, endpoint = self.store.writer_endpoint()
        return holder, endpoint, self.role != "gateway" or self.store.writer_lock_held()

    async def _follow_table(self) -> None:
        """An admin's new category table reaches the writer's clients at once (tables.py);
        a standby or a gateway reads the stored one and, if it changed, takes it the same way."""
        assert self.session is not None
        try:
            tables = await asyncio.to_thread(stored_tables, self.store)
        except Exception as exc:  # the database away: the follower says so
            log.debug("reading the category table: %s", exc)
            return
        changed = []
        for district, (categories, kinds) in tables.items():
            if district not in self.reference.districts:
                continue
            mark = "" if district == self.reference.first else district
            now = [msgspec.structs.replace(c, district=mark) for c in categories]
            current = self.reference.tables.get(district)
            known = self.reference.kinds.get(district, {})
            if (
                current is not None
                and now == list(current.values())
                and {k.code: k for k in kinds} == known
            ):
                continue
            self.reference.replace_categories(categories, kinds, district)
            changed.append(district)
        if not changed:
            return
        sent = self.session.tables.push_categories()
        log.info(
            "the writer's category table of %s changed: taken, sent to %d client(s)",
            ", ".join(changed),
            sent,
        )

    async def _promote(self) -> None:
        """The writer stopped and this standby holds its lock: take the lease (no commit of
        the old writer can land after it), file the rest of the log, read the state whole,
        and write. Its clients stay connected throughout: they only see the deltas go on."""
        began = time.monotonic()
        log.warning("the writer stopped: this standby takes over")
        await asyncio.to_thread(self.store.take_lease)
        assert self.follower is not None and self.hub is not None and self.session is not None
        await self.follower.stop()
        await self.follower.catch_up()
        head, _ = await asyncio.to_thread(self.store.head)
        if head != self.hub.head:
            log.error("took over at log position %d, the hub holds %d", head, self.hub.head)
        await self._load_state(self.clock.now(), counted_too=False)
        self._start_writer(asyncio.get_running_loop(), head)
        self.session.writer = self.writer
        self.role = "writer"
        await self._writer_begins(intake_now=True)
        log.warning(
            "took over as the writer at log position %d in %.2f s", head, time.monotonic() - began
        )

    def _writer_stopped(self, reason: str) -> None:
        if not self.fatal:
            self.fatal = reason
            self._fatal.set()

    async def writer_stopped(self) -> str:
        """Wait until the writer stops for good; why (the backend should then exit)."""
        await self._fatal.wait()
        return self.fatal

    async def start_intake(self) -> None:
        """Start the intakes of the config (their HTTP server, MQTT): part of `start`, or
        later for a demo, whose wall should not wait for them."""
        if self.intake_config is None or self.intake is not None:
            return
        assert self.writer is not None
        # Imported here, in a worker thread: the intakes' frameworks (Starlette, uvicorn,
        # httpx, paho) are half a second of imports a wall's start need not wait for, nor
        # the loop serving it once it has started.
        await asyncio.to_thread(importlib.import_module, "dispatch.intake.service")
        from dispatch.intake.service import Context, IntakeService

        self.intake = IntakeService(
            self.intake_config,
            Context(
                self.store,
                self.reference,
                self.clock,
                self.writer.submit,
                self.intake_config.get("http", HttpSettings) or HttpSettings(),
                self.writer.outbox_rules,
                authenticate=self.auth.authenticate,
            ),
        )
        await self.intake.start()

    async def stop(self) -> None:
        """Stop within SHUTDOWN_SECONDS whatever the clients do: stop listening, tell every
        client at once ('going away': resume), drop those that do not answer, let the writer
        finish its queue (what it acknowledged is committed already), release the database.

        Clients are closed side by side, not in turn: 200 whose loops had stalled made a stop
        wait 3 s for each, and systemd would have killed it first."""
        began = time.monotonic()
        if self._server is not None:
            self._server.close(close_connections=False)  # no new connections
        for task in self._tasks:
            task.cancel()
        parts: list[Awaitable[object]] = [self._close_clients()]
        if self.follower is not None and self.writer is None:
            parts.append(_within(self.follower.stop(), "stopping the follower", 2.0))
        if self.intake is not None:
            parts.append(_within(self.intake.stop(), "stopping the intakes", INTAKE_STOP_SECONDS))
        parts += [_ended(task) for task in self._tasks]
        if self.downloads is not None:
            parts.append(_within(self.downloads.finish(), "a handover report", 2.0))
        await _within(asyncio.gather(*parts), "stopping", SHUTDOWN_SECONDS - 1.0)
        if self.session is not None:
            # The counts of refusals not recorded one by one get their rows while the
            # store is open.
            await _within(self.session.admin.sum_up(everything=True), "admin log rows", 1.0)
        try:
            if self.writer is not None:
                left = SHUTDOWN_SECONDS - (time.monotonic() - began)
                await asyncio.to_thread(self.writer.stop, max(left, 0.5))
                await _within(self._keep_kpis(), "keeping the KPI books", 1.0)
        finally:
            self.risk_trainer.stop()  # a training under way: its process killed and reaped
            if self._risk_worker is not None:
                self._risk_worker.shutdown(wait=False, cancel_futures=True)
            self.store.release()
            if self.hub is not None:
                self.hub.refusals.close()
                self.hub.connections_log.close()

    def _kept_kpis_path(self) -> Path | None:
        """Where this backend keeps its KPI books across a clean restart (SQLite only)."""
        url = self.store.engine.url
        return kept_kpis.path_beside(url.database) if url.get_backend_name() == "sqlite" else None

    async def _keep_kpis(self) -> None:
        """Keep the KPI books for the next start, when they count exactly what the log
        holds: filled, every commit delivered, the writer not stopped by a failure."""
        path, hub = self._kept_kpis_path(), self.hub
        if path is None or hub is None or hub.kpis.filling or self.fatal:
            return
        await asyncio.sleep(0)  # the writer's last deliveries, scheduled on this loop
        head, _ = await asyncio.to_thread(self.store.head)
        if head != hub.head:
            log.info("KPI books not kept: the log is at %d, the book at %d", head, hub.head)
            return
        key = kept_kpis.key_for(hub.epoch, head, frozenset(self.reference.departments))
        try:
            saved = hub.kpis.saved(self.clock.now())
            await asyncio.to_thread(kept_kpis.keep, path, key, saved)
        except Exception:  # only the next start's speed is at stake: it fills instead
            log.exception("KPI books not kept in %s", path)

    async def _close_clients(self) -> None:
        """Send every connection 'going away' at once; abort those that do not complete the
        close within CLOSE_SECONDS (a stalled loop, a dead link)."""
        if self._server is None:
            return
        # The server's own set forgets a connection once its close has begun: the clients'
        # too, for those told already, and those still in their handshake.
        sockets = {client.ws for client in self.hub.clients} if self.hub is not None else set()
        sockets |= set(self._server.connections)

        # A writer that stopped ends the process for a supervisor to start it again: 1012.
        code = CloseCode.SERVICE_RESTART if self.fatal else CloseCode.GOING_AWAY

        async def close(ws: ServerConnection) -> None:
            with contextlib.suppress(Exception):
                await ws.close(code, "server restarting: resume")

        closing = {ws: asyncio.ensure_future(close(ws)) for ws in sockets}
        if closing:
            await asyncio.wait(closing.values(), timeout=CLOSE_SECONDS)
        late = [ws for ws, task in closing.items() if not task.done()]
        if late:
            log.info("shutdown: %d connection(s) did not close in time: dropped", len(late))
            for ws in late:
                abort(ws)
            await asyncio.wait([closing[ws] for ws in late], timeout=0.5)
        self._server.close(close_connections=False)
        await _within(self._server.wait_closed(), "closing connections", 0.5)

    async def first_snapshot(self) -> None:
        """Wait until a first client has its snapshot queued, or FIRST_CLIENT_SECONDS after
        the start: the KPI books' count waits for it (in a thread it holds the interpreter
        half the time), so a wall starting with its backend gets its snapshot at once."""
        assert self.hub is not None
        left = FIRST_CLIENT_SECONDS - (time.monotonic() - self._listening_since)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.hub.snapshot_sent.wait(), max(left, 0.0))

    async def _yesterday(self, now: float) -> dict[str, list[int]]:
        """Yesterday's arrivals per hour, by scope, read from the store."""
        day = kpi.day_start(now)
        rows = await asyncio.to_thread(self.store.arrivals, day - 86400, day)
        return kpi.hourly(rows, day - 86400)

    async def _fill_kpis(
        self, events: list[Event], now: float, yesterday: dict[str, list[int]]
    ) -> None:
        """Count this month's cases (and this week's, when it began last month) in a worker
        thread, hand the changes noted meanwhile to the filled book, and push the figures."""
        assert self.hub is not None
        departments = frozenset(self.reference.departments)
        # The first client's snapshot first (a wall starting with its backend): counting in
        # a thread holds the interpreter half the time, and would slow its encoding down.
        await self.first_snapshot()
        began = time.monotonic()
        try:
            book = await asyncio.to_thread(kpi.filled, events, now, departments, yesterday)
        except Exception:  # a bug: the figures stay marked partial, visibly, and it is logged
            log.exception("filling the KPI books failed")
            raise
        log.info("KPI books filled from %d cases in %.2f s", len(events), time.monotonic() - began)
        hub = self.hub
        hub.kpis = hub.kpis.hand_over(book)
        hub.kpis_filled.set()
        if not hub.catching_up:  # a catch-up's end counts and pushes them itself
            await hub.refresh_kpis(self.clock.now())

    def submit(self, request: Request) -> asyncio.Future[Answer]:
        """Queue a request to the writer (for the simulator and tests)."""
        assert self.writer is not None
        return self.writer.submit(request)

    # ---- periodic work ---------------------------------------------------------------------

    async def _kpi_loop(self) -> None:
        assert self.hub is not None
        last_day = kpi.day_start(self.clock.now())
        pushed = 0.0
        while True:
            await asyncio.sleep(self.limits.kpi_interval)
            now = self.clock.now()
            day = kpi.day_start(now)
            started = time.perf_counter()
            if day != last_day:
                # Yesterday's curve comes from the store: its early closed events have
                # left memory by tonight. (After a catch-up, caught_up() reads it again.)
                rows = await asyncio.to_thread(self.store.arrivals, day - 86400, day)
                self.hub.kpis.set_yesterday(kpi.hourly(rows, day - 86400))
                last_day = day
            if self.hub.kpi_dirty or started - pushed >= self.limits.kpi_heartbeat:
                pushed = started
                await self.hub.refresh_kpis(now)

    async def _clock_loop(self) -> None:
        assert self.writer is not None and self.hub is not None
        pruned_at = trimmed_at = time.monotonic()
        pruned_then = self.clock.now()
        while True:
            await asyncio.sleep(self.limits.tick_interval)
            self.clock.follow()  # a stepped system clock is taken in gradually
            if self.ticking:
                self.writer.submit_nowait(TickRequest())
            now = self.clock.now()
            # Every 10 minutes, of real time or of district time if that passes sooner: a
            # demo at 60x keeps the same 36 h as a real day does, not 10 hours more.
            if time.monotonic() - pruned_at > PRUNE_EVERY or now - pruned_then > PRUNE_EVERY:
                pruned_at, pruned_then = time.monotonic(), now
                self.writer.submit_nowait(PruneRequest())
                self.hub.prune(now)
            if time.monotonic() - trimmed_at > TRIM_EVERY:
                trimmed_at = time.monotonic()
                release_free_memory()

    async def _checkpoint_loop(self) -> None:
        """Every `checkpoint_interval` real seconds, the replay's checkpoints the log is owed
        (dispatch/replay.py) made and the aged ones pruned, on a worker thread with reads of
        its own (never the writer's); a failure is logged and the next round tries again.
        Not before the first client's snapshot: an upgraded store's first round walks its
        whole history."""
        assert self.hub is not None
        hub = self.hub
        await self.first_snapshot()
        while True:
            await asyncio.sleep(self.limits.checkpoint_interval)
            try:
                made, dropped = await asyncio.to_thread(
                    keep_checkpoints, self.store, hub.epoch, self.clock.now()
                )
            except Exception:  # a database hiccup, or a bug: replays fold more of the log
                log.exception("making the replay's checkpoints failed")
                continue
            if made or dropped:
                release_free_memory()  # the states it folded, freed: back to the system
                log.info("replay checkpoints: %d made, %d dropped", made, dropped)

    async def _in_risk_thread[T](self, work: Callable[..., T], *args: object) -> T:
        """Run the deadline risk's work on its own thread, made at start: the process's
        threads stay as many while it runs (an executor's new thread an hour into a run
        would look like a leak to anyone counting them)."""
        if self._risk_worker is None:
            self._risk_worker = started_pool(1, "risk")
        return await asyncio.get_running_loop().run_in_executor(
            self._risk_worker, functools.partial(work, *args)
        )

    def train_risk(self, now: float) -> risk.RiskModel | None:
        """A deadline-risk model trained in this process (dispatch/risk_process.py
        train_on): the fallback when the training process cannot be started. Runs in a
        worker thread: a read of its own and numpy, never the writer's."""
        return train_on(self.store, self.reference, now)

    async def _train(self, now: float) -> risk.RiskModel | None:
        """A model trained in a process of its own (the loop and the walls never wait for
        its seconds of numpy); in the risk thread only if that process cannot be started."""
        try:
            proc = self.risk_trainer.start(now)
        except OSError as exc:
            log.warning(
                "the deadline-risk training process could not be started (%s): training in "
                "the backend's risk thread instead",
                exc,
            )
            return await self._in_risk_thread(self.train_risk, now)
        return await self._in_risk_thread(self.risk_trainer.collect, proc)

    async def _risk_loop(self) -> None:
        """Every `risk_interval` seconds, the open cases' risks, and what changed pushed
        (Hub.push_risk). The writer retrains the model in a process of its own every
        `risk_retrain` real seconds or 6 district hours, at once after a catch-up, and every
        minute while there is too little history for one, and keeps it in the store; a
        standby or a gateway scores with the newest kept there (the same risks on every
        node), and trains its own only when no new one has come for twice `risk_retrain`."""
        assert self.hub is not None
        hub = self.hub
        await self._in_risk_thread(int)  # its thread made now, before anyone counts them
        # Not before the first client's snapshot and the KPI books are filled: a wall
        # starting with its backend gets them at once (training, in its own process, still
        # takes a core for seconds).
        await self.first_snapshot()
        await hub.kpis_filled.wait()
        since_listening = time.monotonic() - self._listening_since
        await asyncio.sleep(max(self.limits.risk_first_delay - since_listening, 0.0))
        stored = 0  # the id of the writer's newest model read from the store (0: none)
        trained_real = trained_district = -math.inf
        heard = time.monotonic()  # a follower's: when the writer's last readable model came
        caught_up = not hub.catching_up
        while True:
            now = self.clock.now()
            just_caught_up = not caught_up and not hub.catching_up
            caught_up = not hub.catching_up
            since = time.monotonic() - trained_real
            due = self.limits.risk_retrain if self.risk_model is not None else 60.0
            # Every 6 district hours too (a simulated day at 60x), but never more than once a
            # real minute (a test's clock at 7,200x would retrain every 3 s).
            stale = since >= due or (now - trained_district >= 6 * 3600 and since >= 60.0)
            fresh: risk.RiskModel | None = None
            if self.role != "writer" and (kept := await self._writers_model(stored)):
                stored, fresh = kept  # None: unreadable, not asked again
                if fresh is not None:
                    heard = trained_real = time.monotonic()
                    trained_district = now
            elif caught_up and (stale or just_caught_up) and self._trains(heard):
                trained_real, trained_district = time.monotonic(), now
                fresh = await self._train_and_keep(now)
                release_free_memory()  # what it read (in the fallback) freed: back to the system
            if fresh is not None:
                self.risk_model = fresh
                await self._push_risk(fresh, resync=True)
            elif self.risk_model is not None and caught_up:
                await self._push_risk(self.risk_model)
            await asyncio.sleep(self.limits.risk_interval)

    def _trains(self, heard: float) -> bool:
        """Whether this node trains a model: the writer does; a follower only when no new
        readable model of the writer's has come since `heard` for twice `risk_retrain` (the
        writer's trainings or saves fail, or it is of a version that keeps none)."""
        if self.role == "writer":
            return True
        return time.monotonic() - heard >= 2 * self.limits.risk_retrain

    async def _train_and_keep(self, now: float) -> risk.RiskModel | None:
        """A model trained now (None: too little history, or the training failed: the old
        one goes on); the writer keeps it in the store for its followers."""
        try:
            model = await self._train(now)
        except WorkerFailed as exc:  # killed, out of memory, a bug: its stderr says
            log.warning("training the deadline-risk model failed (%s); the old one goes on", exc)
            return None
        except Exception:  # a database hiccup, or a bug: the old model goes on
            log.exception("training the deadline-risk model failed")
            return None
        if model is not None and self.role == "writer" and not self.fatal:  # not deposed
            try:  # encoded in the risk thread too: not on the loop
                await self._in_risk_thread(_keep_model, self.store, model)
            except Exception:  # its followers keep the older one meanwhile
                log.exception("keeping the deadline-risk model in the store failed")
        return model

    async def _writers_model(self, stored: int) -> tuple[int, risk.RiskModel | None] | None:
        """The writer's newest model kept in the store, when newer than `stored`: its id,
        and the model (None when unreadable)."""
        try:  # read and decoded in the risk thread: not on the loop
            kept = await self._in_risk_thread(_kept_model, self.store, stored)
        except Exception as exc:  # the database away: asked again next round, said once
            if not self._risk_read_failing:
                log.warning("reading the writer's deadline-risk model failed: %s", exc)
            self._risk_read_failing = True
            return None
        self._risk_read_failing = False
        return kept

    async def _push_risk(self, model: risk.RiskModel, *, resync: bool = False) -> None:
        """Push the risks; a failure is logged and the next round tries again."""
        try:
            await self._push_risk_now(model, resync=resync)
        except Exception:
            log.exception("working out the deadline risks failed")

    async def _push_risk_now(self, model: risk.RiskModel, *, resync: bool = False) -> None:
        """Work the open cases' risks out in a worker thread, push what changed."""
        assert self.hub is not None
        now = self.clock.now()
        events = list(self.hub.events.values())  # the structs are immutable: safe to share
        cases, forecast = await self._in_risk_thread(_risks, model, events, now)
        self.hub.push_risk(cases, forecast, now, model.trained_at, resync=resync)

    async def _credentials_loop(self) -> None:
        """Every `users_poll` seconds, catch the user changes made outside this server
        (`dispatch revoke-user`, `update-user`): close those users' connections and forget
        their cached tokens, and send changed display names to everyone. (The protocol's
        own admin requests do both at once.)"""
        while True:
            await asyncio.sleep(self.limits.users_poll)
            try:
                await self.drop_changed()
                await self.reread_people()
            except (SQLAlchemyError, OSError) as exc:  # the database away: next round
                log.warning(
                    "checking for revoked or re-keyed users failed (tried again in %g s): %s",
                    self.limits.users_poll,
                    str(exc).split("\n")[0],
                )
            except Exception:  # a bug: logged whole, and the next round tries again
                log.exception("checking for revoked or re-keyed users failed")

    async def reread_people(self) -> None:
        """Read the display names; if they changed, every client is sent them."""
        assert self.hub is not None
        people = await asyncio.to_thread(self.store.people)
        sent = self.hub.set_people(people)
        if sent:
            log.info("display names changed: sent to %d client(s)", sent)

    async def drop_changed(self) -> None:
        """Close the connections of users revoked, re-keyed or given another role or
        jurisdiction since they signed in (their new authority applies from their next hello)."""
        assert self.hub is not None
        generation = self.auth.generation
        current = {u.name: u for u in await asyncio.to_thread(self.store.users)}
        if self.auth.generation != generation:
            return  # an admin request changed someone meanwhile: the read may predate it
        stale = self.auth.stale(current)
        stale.update(c.user.name for c in self.hub.clients if current.get(c.user.name) != c.user)
        for name in sorted(stale):
            self.auth.forget(name)
            closed = self.hub.close_user(name)
            log.warning(
                "%s was revoked, re-keyed or changed outside this server: %d connection(s) closed",
                name,
                closed,
            )

    # ---- one websocket connection ------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        assert self.hub is not None and self.handshake is not None and self.session is not None
        self._open += 1
        try:
            if self._open > self.limits.connections:
                peer = peer_of(ws)
                self.hub.refusals.note(
                    log, peer, "%s: refused: %d connections open", peer, self._open - 1
                )
                await ws.close(CloseCode.SERVER_FULL, SERVER_FULL)
                return
            greeted = await self.handshake.greet(ws)
            if greeted is not None:
                await self._serve(*greeted)
        finally:
            self._open -= 1

    async def _serve(self, client: Client, hello: Hello) -> None:
        assert self.hub is not None and self.handshake is not None and self.session is not None
        name = client.user.name
        if self._per_user[name] >= self.limits.connections_per_user:
            self.hub.refusals.note(
                log,
                f"{client.peer} ({name})",
                "%s: %s refused: %d connections of it open",
                client.peer,
                name,
                self._per_user[name],
            )
            await client.ws.close(CloseCode.TOO_MANY_CONNECTIONS, TOO_MANY_CONNECTIONS)
            return
        self._per_user[name] += 1
        try:
            await self.handshake.attach(client, hello)
            await self.session.serve(client)
        except ConnectionClosed:
            pass
        finally:
            self._per_user[name] -= 1
            if not self._per_user[name]:
                del self._per_user[name]
            self.hub.clients.discard(client)
            self.hub.connections_log.note(
                log,
                f"{client.peer} ({name})",
                "%s: %s disconnected (%s)",
                client.peer,
                name,
                client.ws.close_code,
            )


def _risks(
    model: risk.RiskModel, events: list[Event], now: float
) -> tuple[dict[int, tuple[str, CaseRisk]], dict[str, float]]:
    """The open cases' risks as the hub files them (id → community, risk) and the streets'
    forecast: in a worker thread."""
    assessment = risk.assess(model, events, now)
    where = {e.id: e.community for e in events if e.id in assessment.cases}
    cases = {i: (where[i], CaseRisk(p=r.p, why=r.why)) for i, r in assessment.cases.items()}
    return cases, assessment.forecast


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None where the C library has none (musl, macOS, Windows)."""
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except Exception:  # no such symbol, or no C library to ask
        return None
    return trim


_TRIM = _malloc_trim()


def release_free_memory() -> None:
    """Give the C heap's free pages back to the system (glibc's malloc_trim; elsewhere
    nothing). Snapshots, replays and store reads allocate and free megabytes on several
    threads: glibc keeps what was freed in its arenas, so the process's resident size
    crept up by a few MiB an hour with no more live data (`python -m bench soak`). Takes
    about a millisecond."""
    if _TRIM is not None:
        _TRIM(0)


def tune_gc() -> None:
    """Call once the server has started: keeps the collector's pauses short on a busy day.

    What was loaded at start-up (reference, state) lives for the whole run, so it is moved
    out of the collector's reach; young objects are collected less often.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
