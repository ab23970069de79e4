"""The websocket server: handshake, snapshot/replay, live fan-out, commands, snapshots over HTTP.

The event loop never touches the database directly: authentication, replay reads and image
reads go to worker threads; writes go to the Writer. The hub keeps a read model of what the
writer committed (in seq order), a ring of recent delta frames for resume, and the clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import http
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Container, Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request as HttpRequest
from websockets.http11 import Response
from websockets.protocol import State as WsState

from dispatch import kpi
from dispatch.clock import Clock
from dispatch.frames import delta_json, text_frame
from dispatch.jurisdiction import COMMUNITY_WIDTH, STREET_WIDTH, covers, width_of
from dispatch.reference import ReferenceData
from dispatch.state import Actor, State, args_digest
from dispatch.store.store import Store, User
from dispatch.writer import (
    Answer,
    CommandRequest,
    PruneRequest,
    Published,
    Request,
    TickRequest,
    Writer,
)
from protocol.codec import ProtocolError, convert, decode_client
from protocol.codes import CloseCode, ErrorCode
from protocol.commands import ARGS
from protocol.entities import Alert, Duty, Event, Kpi
from protocol.messages import (
    PROTOCOL_VERSION,
    Command,
    Error,
    Hello,
    Kpis,
    Ping,
    Result,
    Snapshot,
    Stats,
    Welcome,
)
from protocol.retention import KEEP_CLOSED_SECONDS, prune_settled

log = logging.getLogger("dispatch.server")
_TOO_SLOW = "too slow: reconnect and resume"
_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what one client may cost the server."""

    hello_timeout: float = 10.0
    max_frame: int = 64 * 1024  # client->server frames
    max_backlog: int = 16 * 1024 * 1024  # bytes queued to one client beyond its snapshot
    commands_per_second: float = 50.0
    command_burst: int = 200
    ring_size: int = 200_000  # recent delta frames kept in memory for resume
    kpi_interval: float = 1.0
    kpi_heartbeat: float = 5.0  # KPIs go out at least this often: clients see the link is live
    tick_interval: float = 5.0  # real seconds between deadline checks
    auth_recheck: float = 30.0  # real seconds between checks for revoked users (= cache life)


@dataclass(slots=True, eq=False)
class Client:
    """One authenticated connection."""

    ws: ServerConnection
    user: User
    peer: str
    jurisdiction: frozenset[str] | None  # street or community codes; None: the whole district
    last_id: int = 0
    allowance: float = 0.0
    allowance_at: float = field(default_factory=time.monotonic)
    catching_up: bool = False
    pending: list[tuple[int, bytes]] = field(default_factory=list)
    pending_bytes: int = 0
    outbox: list[bytes] = field(default_factory=list)
    baseline: int = 0  # bytes of the snapshot, allowed on top of max_backlog
    closing: bool = False
    width: int = field(default=0, init=False)  # of the jurisdiction's codes (jurisdiction.py)
    # Each key's verdict, worked out once: keys are unit codes (a few dozen), and a dict
    # lookup is cheaper than slicing (a new string, hashed) for every delta on the fan-out.
    verdicts: dict[str, bool] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.width = width_of(self.jurisdiction)

    def sees(self, key: str) -> bool:
        """Whether a change filed under `key` is in this client's jurisdiction ("" is
        everyone's): its code begins with one of the jurisdiction's."""
        if self.jurisdiction is None:
            return True
        try:
            return self.verdicts[key]
        except KeyError:
            if len(self.verdicts) > 4096:  # never with unit codes; a bound all the same
                self.verdicts.clear()
            verdict = self.verdicts[key] = not key or covers(self.jurisdiction, self.width, key)
            return verdict


# Cases a delivery counts into the KPIs right after its fan-out; more wait for the pass.
KPI_ABSORB = 400


class Hub:
    """Read model, resume ring and fan-out, all on the event loop."""

    def __init__(
        self,
        reference: ReferenceData,
        epoch: str,
        head: int,
        trimmed: int,
        limits: Limits,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.reference = reference
        self.now = now  # the district clock
        self.epoch = epoch
        self.head = head
        self.trimmed = trimmed
        self.limits = limits
        self.events: dict[int, Event] = {}
        self.alerts: dict[int, Alert] = {}
        self.duty: Duty | None = None
        self.ring: deque[tuple[int, str, bytes]] = deque(maxlen=limits.ring_size)  # framed
        self.clients: set[Client] = set()
        self._closing: set[asyncio.Task[None]] = set()
        self.kpi_dirty = True
        self.kpis = kpi.KpiBook(0.0, frozenset(reference.departments))
        self.catching_up = False  # the simulator is replaying the day so far: KPIs are partial
        self.delivered = 0
        # Log rows up to this seq may be keyed by street (Store.community_keys_from).
        self.community_keys_from = 0

    def load(self, events: Iterable[Event], alerts: Iterable[Alert], duty: Duty | None) -> None:
        """Start from the state the store loaded."""
        self.events = {e.id: e for e in events}
        self.alerts = {a.id: a for a in alerts}
        self.duty = duty

    def ring_start(self) -> int:
        """The lowest seq such that every delta after it is in the ring."""
        return self.ring[0][0] - 1 if self.ring else self.head

    # ---- committed changes in ----------------------------------------------------------

    def deliver(self, published: list[Published]) -> None:
        """Apply a committed batch to the read model and push it to every client who sees it."""
        for item in published:
            entity = item.entity
            if isinstance(entity, Event):
                self.events[entity.id] = entity
                self.kpis.note(entity)
            elif isinstance(entity, Alert):
                self.alerts[entity.id] = entity
            else:
                self.duty = entity
            self.ring.append((item.seq, item.key, item.wire))
            self.head = item.seq
        self.kpi_dirty = True
        self.delivered += len(published)
        # One joined buffer per jurisdiction, shared by every client that has it.
        wires: dict[frozenset[str] | None, bytes] = {}
        for client in list(self.clients):
            if client.catching_up:
                held = [(p.seq, p.frame) for p in published if client.sees(p.key)]
                client.pending.extend(held)
                client.pending_bytes += sum(len(f) for _, f in held)
                if client.pending_bytes > self.limits.max_backlog and not client.closing:
                    # Falling further behind live than it catches up: start over later.
                    self.close_client(client, CloseCode.TOO_SLOW, _TOO_SLOW)
                continue
            wire = wires.get(client.jurisdiction)
            if wire is None:
                wire = wires[client.jurisdiction] = b"".join(
                    p.wire for p in published if client.sees(p.key)
                )
            if wire:
                self.send_wire(client, wire)
        # Count the batch's cases now, right after their fan-out: the next batch is usually
        # milliseconds away, while a separate KPI pass would sooner or later hold one up.
        self.kpis.absorb(self.now(), KPI_ABSORB)

    def write(self, client: Client, frames: list[bytes]) -> None:
        """Queue JSON messages to a client as text frames, without awaiting."""
        if frames:
            self.send_wire(client, b"".join(text_frame(f) for f in frames))

    def send_wire(self, client: Client, wire: bytes) -> None:
        """Queue ready-framed bytes; close the client if it is too far behind.

        Server frames are unmasked and uncompressed, so one frame's bytes are the same for
        every client: deliver() frames a batch once and hands the same bytes to all.
        """
        ws = client.ws
        if client.closing or ws.protocol.state is not WsState.OPEN or ws.transport.is_closing():
            return
        try:
            ws.transport.write(wire)
        except Exception as exc:  # the transport went away under us
            log.info("write to %s failed: %s", client.peer, exc)
            return
        backlog = ws.transport.get_write_buffer_size()
        if client.baseline and backlog <= self.limits.max_backlog:
            client.baseline = 0  # the snapshot has drained: from now on the plain bound applies
        if backlog > self.limits.max_backlog + client.baseline:
            client.closing = True
            log.warning("closing %s (%s): %d bytes unread", client.peer, client.user.name, backlog)
            # The close frame cannot get past the backlog: abort after the close attempt.
            self.close_client(client, CloseCode.TOO_SLOW, _TOO_SLOW)

    def queue(self, client: Client, frame: bytes) -> None:
        """Add a message to the client's outbox; answers of one batch leave in one write."""
        client.outbox.append(frame)
        if len(client.outbox) == 1:
            asyncio.get_running_loop().call_soon(self._flush_outbox, client)

    def _flush_outbox(self, client: Client) -> None:
        frames, client.outbox = client.outbox, []
        self.write(client, frames)

    def close_client(self, client: Client, code: int, reason: str) -> None:
        """Stop sending to a client and close it (aborting if the close cannot get through)."""
        self.clients.discard(client)
        client.closing = True
        task = asyncio.get_running_loop().create_task(_close_slow(client.ws, code, reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    # ---- snapshot and replay -----------------------------------------------------------

    def snapshot_frames(
        self, client: Client, reason: str, cached_units: str | None, now: float
    ) -> list[bytes]:
        """The units (unless cached) and the full visible state at the current head."""
        sees, key_of = client.sees, self.reference.key_of
        version, units = self.reference.units_frame(client.jurisdiction)
        events = [e for e in self.events.values() if sees(e.community)]
        alerts = [a for a in self.alerts.values() if sees(key_of(a))]
        today, week, month = self.kpi_sets(client.jurisdiction)
        snapshot = _encode(
            Snapshot(
                epoch=self.epoch,
                seq=self.head,
                reason=reason,  # type: ignore[arg-type]
                reference=version,
                events=events,
                alerts=alerts,
                duty=self.duty,
                kpis=today,
                kpis_week=week,
                kpis_month=month,
                kpis_catching_up=self.kpis_partial,
            )
        )
        return [snapshot] if cached_units == version else [units, snapshot]

    def ring_after(self, client: Client, seq: int) -> bytes:
        """Framed deltas after `seq` that the client may see, from the in-memory ring."""
        if not self.ring:
            return b""
        # Seqs in the ring are contiguous: start at the right place instead of scanning.
        start = max(0, seq + 1 - self.ring[0][0])
        return b"".join(
            w for _, key, w in itertools.islice(self.ring, start, None) if client.sees(key)
        )

    # ---- KPIs ------------------------------------------------------------------------------

    @property
    def kpis_partial(self) -> bool:
        """Whether the KPIs are partial now: the simulator is replaying the day, or a new
        day's recount is half done (a snapshot or a stats answer may fall in between)."""
        return self.catching_up or self.kpis.rolling

    def kpi_sets(
        self, jurisdiction: frozenset[str] | None
    ) -> tuple[dict[str, Kpi], dict[str, Kpi], dict[str, Kpi]]:
        """Today's, this week's and this month's KPIs of the scopes a jurisdiction may see:
        the district and every street, its streets, or its communities."""
        kind: kpi.ScopeKind | None = (
            "community" if width_of(jurisdiction) == COMMUNITY_WIDTH else None
        )
        sets = []
        for period in kpi.PERIODS:
            scopes = self.kpis.scopes(period, kind)
            if jurisdiction is not None:
                scopes = {scope: k for scope, k in scopes.items() if scope in jurisdiction}
            sets.append(scopes)
        return sets[0], sets[1], sets[2]

    async def refresh_kpis(self, now: float, slice_size: int = 200) -> None:
        """Count what changed since the last push and send fresh KPIs to every client.

        A slice at a time, with deliveries in between: a busy second's changes cost a few
        milliseconds each slice instead of one long stall of the fan-out.
        """
        self.kpi_dirty = False
        done = self.kpis.refresh(now, slice_size)
        while not done:
            await asyncio.sleep(0)  # a slice done: let deliveries through
            done = self.kpis.refresh(now, slice_size)
        frames: dict[frozenset[str] | None, bytes] = {}
        for client in list(self.clients):
            if client.catching_up:
                continue
            frame = frames.get(client.jurisdiction)
            if frame is None:
                today, week, month = self.kpi_sets(client.jurisdiction)
                frame = frames[client.jurisdiction] = _encode(
                    Kpis(
                        at=now,
                        scopes=today,
                        week=week,
                        month=month,
                        catching_up=self.kpis_partial,
                    )
                )
            self.write(client, [frame])

    def stats(
        self, jurisdiction: frozenset[str] | None, by: kpi.ScopeKind, period: kpi.Period
    ) -> dict[str, Kpi]:
        """Every scope of a kind over a period, as far as a jurisdiction may see it.

        Units and workers serve the whole district, so their figures are district-wide:
        only district-wide users get them; a street's figures are the street's users' and
        the district's, not its communities'.
        """
        rows = self.kpis.scopes(period, by)
        if jurisdiction is None:
            return rows
        width = width_of(jurisdiction)
        level = "street" if width == STREET_WIDTH else "community"
        if by in ("department", "worker"):
            raise PermissionError(f"{by} figures are district-wide; your jurisdiction is a {level}")
        if by == "street" and width != STREET_WIDTH:
            raise PermissionError("street figures cover more than your communities")
        known: dict[str, Container[str]] = {
            "street": self.reference.streets,
            "community": self.reference.communities,
            "grid": self.reference.grids,
        }
        units = known[by]
        return {
            code: k for code, k in rows.items() if code in units and code[:width] in jurisdiction
        }

    def prune(self, now: float) -> None:
        """Drop settled entities from the read model as the writer does from its state."""
        prune_settled(self.events, self.alerts, now)


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


async def _close_slow(ws: ServerConnection, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(ws.close(code, reason), 2)
    ws.transport.abort()


class DispatchServer:
    """Everything the backend runs on its event loop."""

    def __init__(
        self,
        store: Store,
        reference: ReferenceData,
        clock: Clock | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.store = store
        self.reference = reference
        self.clock = clock or Clock()
        self.limits = limits or Limits()
        self.state = State(reference)
        self.state.archive = store.event
        self.hub: Hub | None = None
        self.writer: Writer | None = None
        self._server: Server | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._auth_cache: dict[str, tuple[float, User | None]] = {}
        self.port = 0
        self.ticking = True  # the simulator pauses the clock's deadline checks while warming up
        self.catching_up = False  # ... and marks the KPIs partial until it has caught up

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Claim the database, load state, start the writer and the listener; return the port."""
        loop = asyncio.get_running_loop()
        await asyncio.to_thread(self.store.claim)  # StoreError if another backend serves it
        since = self.clock.now() - KEEP_CLOSED_SECONDS
        events, alerts, duty, next_event, next_alert = await asyncio.to_thread(
            self.store.load_state, since
        )
        head, trimmed = await asyncio.to_thread(self.store.head)
        epoch = await asyncio.to_thread(self.store.epoch)
        keyed_from = await asyncio.to_thread(self.store.community_keys_from)
        self.state.load(events, alerts, duty)
        self.state.next_event_id = next_event
        self.state.next_alert_id = next_alert
        self.hub = Hub(self.reference, epoch, head, trimmed, self.limits, self.clock.now)
        self.hub.catching_up = self.catching_up  # a simulator about to catch up said so
        self.hub.community_keys_from = keyed_from
        self.hub.load(events, alerts, duty)
        await self._load_kpis(events)
        self.writer = Writer(self.store, self.state, self.clock, loop, self.hub.deliver, head)
        self.writer.start()
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
            process_request=self._http,
            server_header="tongguan-dispatch",
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._tasks = [
            asyncio.create_task(self._kpi_loop(), name="kpis"),
            asyncio.create_task(self._clock_loop(), name="clock"),
        ]
        log.info(
            "serving %d events, %d alerts at head %d (epoch %s) on %s:%d",
            len(events),
            len(alerts),
            head,
            epoch,
            host,
            self.port,
        )
        return self.port

    async def stop(self) -> None:
        """Close clients with 'going away', let the writer finish, release the port."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await _within(task, "periodic task", 3.0)
        if self._server is not None:
            self._server.close(close_connections=False)
            if self.hub:
                for client in list(self.hub.clients):
                    with contextlib.suppress(Exception):
                        await _within(
                            client.ws.close(CloseCode.GOING_AWAY, "server restarting: resume"),
                            f"closing {client.peer}",
                            3.0,
                        )
            if not await _within(self._server.wait_closed(), "closing connections", 3.0):
                for connection in list(self._server.connections):
                    connection.transport.abort()
        try:
            if self.writer is not None:
                await asyncio.to_thread(self.writer.stop)
        finally:
            self.store.release()

    async def _load_kpis(self, events: list[Event]) -> None:
        """Count this month's cases (and this week's, when it began last month) from the store."""
        assert self.hub is not None
        now = self.clock.now()
        earliest = min(kpi.period_starts(now))
        if earliest < now - KEEP_CLOSED_SECONDS:
            events = (await asyncio.to_thread(self.store.load_state, earliest))[0]
        day = kpi.day_start(now)
        rows = await asyncio.to_thread(self.store.arrivals, day - 86400, day)
        self.hub.kpis = kpi.KpiBook(now, frozenset(self.reference.departments))
        self.hub.kpis.set_yesterday(kpi.hourly(rows, day - 86400))
        self.hub.kpis.load(events, now)

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
            caught_up = self.hub.catching_up and not self.catching_up
            if day != last_day or caught_up:
                # Yesterday's curve comes from the store: its early closed events have
                # left memory by tonight, and a simulator catching up writes yesterday too.
                rows = await asyncio.to_thread(self.store.arrivals, day - 86400, day)
                self.hub.kpis.set_yesterday(kpi.hourly(rows, day - 86400))
                last_day = day
            if self.hub.catching_up != self.catching_up:
                self.hub.catching_up = self.catching_up
                self.hub.kpi_dirty = True
            if self.hub.kpi_dirty or started - pushed >= self.limits.kpi_heartbeat:
                pushed = started
                await self.hub.refresh_kpis(now)

    async def _clock_loop(self) -> None:
        assert self.writer is not None and self.hub is not None
        pruned_at = checked_at = time.monotonic()
        while True:
            await asyncio.sleep(self.limits.tick_interval)
            if time.monotonic() - checked_at >= self.limits.auth_recheck:
                checked_at = time.monotonic()
                await self._drop_revoked()
            if self.ticking:
                self.writer.submit_nowait(TickRequest())
            if time.monotonic() - pruned_at > 600:
                pruned_at = time.monotonic()
                self.writer.submit_nowait(PruneRequest())
                self.hub.prune(self.clock.now())

    async def _drop_revoked(self) -> None:
        """Close the connections of users revoked since they logged in (checked every 30 s)."""
        assert self.hub is not None
        active = {user.name for user in await asyncio.to_thread(self.store.users)}
        self._auth_cache = {
            t: v for t, v in self._auth_cache.items() if v[1] is None or v[1].name in active
        }
        for client in list(self.hub.clients):
            if client.user.name not in active:
                log.warning("%s: %s was revoked; closing", client.peer, client.user.name)
                self.hub.close_client(client, CloseCode.AUTH_FAILED, "access revoked")

    # ---- HTTP: snapshot images, health -------------------------------------------------

    async def _http(self, connection: ServerConnection, request: HttpRequest) -> Response | None:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            if "token" in request.path.lower():
                log.warning("refused a websocket URL carrying a token from %s", _peer(connection))
                return _plain(
                    http.HTTPStatus.BAD_REQUEST,
                    "credentials never go in the URL; send them in hello\n",
                )
            return None
        path = request.path.split("?", 1)[0]
        if path == "/health":
            assert self.hub is not None
            return _plain(
                http.HTTPStatus.OK, f"ok head={self.hub.head} clients={len(self.hub.clients)}\n"
            )
        if path.startswith("/snapshots/"):
            return await self._image(connection, request)
        return _plain(http.HTTPStatus.NOT_FOUND, "not found\n")

    async def _image(self, connection: ServerConnection, request: HttpRequest) -> Response:
        auth = request.headers.get("Authorization", "")
        user = await self._authenticate(auth.removeprefix("Bearer ").strip()) if auth else None
        if user is None:
            return _plain(http.HTTPStatus.UNAUTHORIZED, "send Authorization: Bearer <token>\n")
        try:
            alert_id = int(request.path.split("?", 1)[0].rsplit("/", 1)[1].split(".")[0])
        except ValueError:
            return _plain(http.HTTPStatus.NOT_FOUND, "not found\n")
        image = await asyncio.to_thread(self.store.image, alert_id)
        # Outside the jurisdiction looks exactly like absent.
        if image is None or not Actor(user.name, user.role, user.jurisdiction).may_see(
            self.reference.key_at(image.grid, image.street)
        ):
            return _plain(http.HTTPStatus.NOT_FOUND, "not found\n")
        headers = Headers(
            [
                ("Content-Type", image.content_type),
                ("Content-Length", str(len(image.body))),
                ("Cache-Control", "private, max-age=86400"),
            ]
        )
        return Response(200, "OK", headers, image.body)

    async def _authenticate(self, token: str) -> User | None:
        if not token or len(token) > 200:
            return None
        cached = self._auth_cache.get(token)
        if cached is not None and time.monotonic() - cached[0] < self.limits.auth_recheck:
            return cached[1]
        user = await asyncio.to_thread(self.store.authenticate, token)
        self._auth_cache[token] = (time.monotonic(), user)
        if len(self._auth_cache) > 10_000:
            self._auth_cache.clear()
        return user

    # ---- one websocket connection ------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        peer = _peer(ws)
        try:
            raw = await asyncio.wait_for(ws.recv(), self.limits.hello_timeout)
        except TimeoutError:
            log.info("%s: no hello within %.0f s", peer, self.limits.hello_timeout)
            await ws.close(CloseCode.HANDSHAKE_TIMEOUT, "hello expected first")
            return
        except ConnectionClosed:
            return
        try:
            hello = decode_client(raw)
        except ProtocolError as exc:
            await ws.close(CloseCode.PROTOCOL_VIOLATION, _reason(f"first message: {exc.message}"))
            return
        if not isinstance(hello, Hello):
            await ws.close(CloseCode.PROTOCOL_VIOLATION, "first message must be hello")
            return
        if hello.protocol != PROTOCOL_VERSION:
            await ws.close(
                CloseCode.UNSUPPORTED_VERSION,
                f"protocol {hello.protocol} unsupported; this server speaks {PROTOCOL_VERSION}",
            )
            return
        user = await self._authenticate(hello.token)
        if user is None:
            log.warning("%s: authentication failed (client %r)", peer, hello.client[:40])
            await ws.close(CloseCode.AUTH_FAILED, "authentication failed")
            return
        assert self.hub is not None
        client = Client(
            ws,
            user,
            peer,
            user.jurisdiction,
            last_id=hello.id,
            allowance=float(self.limits.command_burst),
        )
        log.info(
            "%s: %s (%s) connected with %s",
            peer,
            user.name,
            user.role,
            hello.client[:40] or "unnamed client",
        )
        try:
            await self._attach(client, hello)
            await self._serve_client(client)
        except ConnectionClosed:
            pass
        finally:
            self.hub.clients.discard(client)
            log.info("%s: %s disconnected (%s)", peer, user.name, ws.close_code)

    async def _attach(self, client: Client, hello: Hello) -> None:
        hub = self.hub
        assert hub is not None
        resume = hello.resume
        mode = "none"
        if resume is not None and resume.seq < hub.ring_start():
            # The log may have been trimmed by another process since start-up.
            _, hub.trimmed = await asyncio.to_thread(self.store.head)
        if resume is not None:
            can_replay = (
                resume.epoch == hub.epoch and resume.seq <= hub.head and resume.seq >= hub.trimmed
            )
            if client.width > STREET_WIDTH and resume.seq < hub.community_keys_from:
                # The rows it missed may be keyed by street, which a community's prefix does
                # not cover: a replay would leave a silent gap, a snapshot does not.
                can_replay = False
            mode = "replay" if can_replay else "reset"
        welcome = _encode(
            Welcome(
                id=hello.id,
                protocol=PROTOCOL_VERSION,
                user=client.user.name,
                role=client.user.role,
                jurisdiction=sorted(client.jurisdiction or ()),
                epoch=hub.epoch,
                head=hub.head,
                resume=mode,  # type: ignore[arg-type]
                server_time=self.clock.now(),
            )
        )
        if mode != "replay":
            # No await between reading the head and queueing the frame: no delta can slip in.
            frames = hub.snapshot_frames(
                client, "reset" if mode == "reset" else "initial", hello.reference, self.clock.now()
            )
            client.baseline = sum(len(f) for f in frames)
            hub.write(client, [welcome, *frames])
            hub.clients.add(client)
            return
        assert resume is not None
        # Units changed since the client cached them (a new district load): send them first.
        version, units = self.reference.units_frame(client.jurisdiction)
        welcome_frames = [welcome] if hello.reference == version else [welcome, units]
        if resume.seq >= hub.ring_start():
            replay = hub.ring_after(client, resume.seq)
            # A replay is allowed on top of the backlog bound, like a snapshot.
            client.baseline = sum(len(f) for f in welcome_frames) + len(replay)
            hub.write(client, welcome_frames)
            hub.send_wire(client, replay)
            hub.clients.add(client)
            return
        # Older than the ring: read the log on a thread; live deltas after `upto` wait in
        # `pending` (everything up to `upto` is committed, so the log has it).
        upto = hub.head
        client.catching_up = True
        hub.clients.add(client)
        client.baseline = sum(len(f) for f in welcome_frames)
        hub.write(client, welcome_frames)
        last = resume.seq
        while last < upto:
            rows = await asyncio.to_thread(self.store.read_log, last, 5000, client.jurisdiction)
            frames = [
                delta_json(r.seq, r.action, r.actor, r.at, r.after.encode())
                for r in rows
                if r.seq <= upto
            ]
            if frames:
                # Page by page, each sent once the previous one has drained: a long replay
                # to a client that reads is never mistaken for a client that does not.
                await self._drained(client)
                client.baseline = sum(len(f) for f in frames)
                hub.write(client, frames)
            if not rows or client.closing:
                break
            last = rows[-1].seq
        frames = [f for seq, f in client.pending if seq > upto]
        client.pending.clear()
        client.pending_bytes = 0
        client.catching_up = False
        hub.write(client, frames)

    async def _drained(self, client: Client, patience: float = 30.0) -> None:
        transport = client.ws.transport
        waited = 0.0
        while transport.get_write_buffer_size() > self.limits.max_backlog // 2:
            if waited > patience or client.closing:
                client.closing = True
                await _close_slow(client.ws, CloseCode.TOO_SLOW, _TOO_SLOW)
                raise ConnectionClosed(None, None)
            await asyncio.sleep(0.01)
            waited += 0.01

    async def _serve_client(self, client: Client) -> None:
        async for raw in client.ws:
            try:
                message = decode_client(raw)
            except ProtocolError as exc:
                self._reply_error(client, exc.request_id, exc.code, exc.message)
                continue
            if message.id <= client.last_id:
                self._reply_error(
                    client,
                    message.id,
                    ErrorCode.BAD_ID,
                    f"id {message.id} is not above the previous {client.last_id}",
                )
                continue
            client.last_id = message.id
            if isinstance(message, Ping):
                assert self.hub is not None
                self.hub.write(
                    client,
                    [_encode(Result(id=message.id, data={"server_time": self.clock.now()}))],
                )
            elif isinstance(message, Command):
                self._command(client, message)
            elif isinstance(message, Stats):
                self._stats(client, message)
            else:
                self._reply_error(
                    client,
                    message.id,
                    ErrorCode.BAD_MESSAGE,
                    "hello is only allowed as the first message",
                )

    def _stats(self, client: Client, message: Stats) -> None:
        assert self.hub is not None
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
        if not message.command_id or len(message.command_id) > 64:
            self._reply_error(
                client,
                message.id,
                ErrorCode.BAD_ARGS,
                "command_id must be 1..64 characters",
                message.command_id,
            )
            return
        try:
            args = convert(message.args, args_type)
        except ProtocolError as exc:
            self._reply_error(
                client, message.id, ErrorCode.BAD_ARGS, exc.message, message.command_id
            )
            return
        actor = Actor(client.user.name, client.user.role, client.jurisdiction)
        request = CommandRequest(
            actor,
            message.op,
            args,
            message.command_id,
            args_digest(message.op, message.args),
        )
        assert self.writer is not None
        future = self.writer.submit(request)
        future.add_done_callback(lambda f: self._answered(client, message, f))

    def _answered(self, client: Client, message: Command, future: asyncio.Future[Answer]) -> None:
        answer = future.result()
        if log.isEnabledFor(logging.INFO):
            verb = "repeat" if answer.repeat else ("ok" if answer.ok else answer.code)
            log.info(
                "%s %s %s %s -> %s%s",
                client.user.name,
                message.op,
                _target(message.args),
                message.command_id,
                verb,
                "" if answer.ok else f" ({answer.message})",
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
        assert self.hub is not None
        self.hub.queue(client, frame)

    def _reply_error(
        self,
        client: Client,
        request_id: int,
        code: str,
        message: str,
        command_id: str | None = None,
    ) -> None:
        log.info(
            "%s (%s): refused request %d: %s %s",
            client.peer,
            client.user.name,
            request_id,
            code,
            message[:200],
        )
        assert self.hub is not None
        self.hub.write(
            client,
            [
                _encode(
                    Error(id=request_id, code=code, message=message[:500], command_id=command_id)
                )
            ],
        )


def tune_gc() -> None:
    """Call once the server has started: keeps the collector's pauses short on a busy day.

    What was loaded at start-up (reference, state) lives for the whole run, so it is moved
    out of the collector's reach; young objects are collected less often.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def _reason(text: str) -> str:
    """A close reason that fits a control frame (123 bytes) whatever the client sent."""
    return text.encode()[:120].decode(errors="ignore")


def _plain(status: http.HTTPStatus, text: str) -> Response:
    body = text.encode()
    headers = Headers(
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    )
    return Response(status.value, status.phrase, headers, body)


def _peer(ws: ServerConnection) -> str:
    address = ws.remote_address
    return f"{address[0]}:{address[1]}" if address else "?"


def _target(args: dict[str, Any]) -> str:
    for key in ("event", "alert"):
        if key in args:
            return f"{key}={args[key]}"
    return ""
