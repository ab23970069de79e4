"""The transport: the hub's read model, resume ring, clients, fan-out, backlog and KPI push.

Everything here runs on the event loop. The hub keeps a read model of what the writer
committed (in seq order), a ring of recent delta frames for resume, and the clients; each
committed batch is framed once and the same bytes go to every client who may see them.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass, field

import msgspec
from websockets.asyncio.server import ServerConnection
from websockets.protocol import State as WsState

from dispatch import kpi
from dispatch.frames import text_frame
from dispatch.jurisdiction import (
    COMMUNITY_WIDTH,
    DISTRICT_WIDTH,
    STREET_WIDTH,
    covers,
    width_of,
)
from dispatch.limits import Limits
from dispatch.logs import RefusalLog, RowBudget
from dispatch.reference import ReferenceData
from dispatch.replay import districts_seen, duty_view, put
from dispatch.store.store import User
from dispatch.writer import Published
from protocol.codes import CloseCode
from protocol.entities import Alert, Duty, Event, Kpi
from protocol.messages import CaseRisk, Kpis, People, Risk, Snapshot
from protocol.retention import View, alert_kept, event_kept, prune_settled, view_horizon

log = logging.getLogger("dispatch.hub")
TOO_SLOW = "too slow: reconnect and resume"
CREDENTIALS_CHANGED = "credentials changed: sign in again"
TOO_MANY_CONNECTIONS = "too many connections for this user"
SERVER_FULL = "server full: try again later"
_encode = msgspec.json.Encoder().encode


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
    batches: int = 0  # report_batch commands sent and not yet answered
    catching_up: bool = False
    pending: list[tuple[int, bytes]] = field(default_factory=list)
    pending_bytes: int = 0
    outbox: list[bytes] = field(default_factory=list)
    baseline: int = 0  # bytes of the snapshot, allowed on top of max_backlog
    closing: bool = False
    credentials: int = 0  # the Authenticator's generation its token was checked at
    view: View = "all"  # hello.view: what its snapshots hold
    # The store's first district: whose duty a log row filed under "" holds (one written
    # before each district had its own duty; jurisdiction.LEGACY_DUTY_KEY).
    home: str = ""
    width: int = field(default=0, init=False)  # of the jurisdiction's codes (jurisdiction.py)
    # Each key's verdict, worked out once: keys are unit codes (a few dozen), and a dict
    # lookup is cheaper than slicing (a new string, hashed) for every delta on the fan-out.
    verdicts: dict[str, bool] = field(default_factory=dict, init=False)
    # It holds the risks as last sent in full, plus the changes since (Hub.push_risk).
    risk_synced: bool = False

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
            shown = key or self.home  # "": an old duty row, the first district's
            verdict = self.verdicts[key] = not shown or covers(self.jurisdiction, self.width, shown)
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
        # Each district's duty in force, by district (replay.ReadModel).
        self.duties: dict[str, Duty] = {}
        self.ring: deque[tuple[int, str, bytes]] = deque(maxlen=limits.ring_size)  # framed
        self.ring_bytes = 0  # the frames' bytes in the ring (at most limits.ring_bytes)
        self.clients: set[Client] = set()
        self._closing: set[asyncio.Task[None]] = set()
        self.kpi_dirty = True
        self.kpis = kpi.KpiBook(0.0, frozenset(reference.departments))
        # Cleared while the book is filled in a worker thread (a stand-in takes the notes).
        self.kpis_filled = asyncio.Event()
        self.kpis_filled.set()
        self.snapshot_sent = asyncio.Event()  # a first client has its snapshot queued
        self.catching_up = False  # the simulator is replaying the day so far: KPIs are partial
        self.no_writer = False  # a gateway found that no node writes (told in `kpis`)
        self.delivered = 0
        # Log rows up to this seq may be keyed by street (Store.community_keys_from).
        self.community_keys_from = 0
        # Every refusal's log line, the server's whole: a flood cannot fill the log.
        self.refusals = RefusalLog(limits.refusal_log_window, limits.refusal_log_lines)
        # The connected and disconnected lines, on their own budget.
        self.connections_log = RefusalLog(
            limits.connection_log_window, limits.connection_log_lines, what="connection lines"
        )
        # The admin log's rows of refused admin requests, per user (dispatch.admin).
        self.refused_rows = RowBudget(limits.admin_log_rows, limits.admin_log_window)
        # The users' display names by name (welcome.people), sent to all when they change.
        self.people: dict[str, str] = {}
        # Deadline risk as last pushed: id → (community, risk); street → forecast.
        self.risk_cases: dict[int, tuple[str, CaseRisk]] = {}
        self.risk_forecast: dict[str, float] = {}
        self.risk_trained_at = 0.0

    def load(
        self, events: Iterable[Event], alerts: Iterable[Alert], duties: dict[str, Duty]
    ) -> None:
        """Start from the state the store loaded."""
        self.events = {e.id: e for e in events}
        self.alerts = {a.id: a for a in alerts}
        self.duties = dict(duties)

    @property
    def duty(self) -> Duty | None:
        """The duty in force of the store's first district."""
        home = self.reference.reference.district
        return self.duties.get(home) or self.duties.get("")

    def set_people(self, people: dict[str, str]) -> int:
        """The display names from now on; when they changed, every client is sent them (a
        `people` message, one frame for all): how many clients it went to."""
        if people == self.people:
            return 0
        self.people = people
        frame = _encode(People(people=people))
        clients = list(self.clients)
        for client in clients:
            self.write(client, [frame])
        return len(clients)

    def ring_start(self) -> int:
        """The lowest seq such that every delta after it is in the ring."""
        return self.ring[0][0] - 1 if self.ring else self.head

    # ---- committed changes in ----------------------------------------------------------

    def deliver(self, published: list[Published]) -> None:
        """Apply a committed batch to the read model and push it to every client who sees it."""
        for item in published:
            entity = item.entity
            put(self, entity)  # as a replay files a log row (dispatch/replay.py)
            if isinstance(entity, Event):
                self.kpis.note(entity, item.before)
            ring = self.ring
            if len(ring) == ring.maxlen:
                self.ring_bytes -= len(ring[0][2])  # the append pushes it out
            ring.append((item.seq, item.key, item.wire))
            self.ring_bytes += len(item.wire)
            while self.ring_bytes > self.limits.ring_bytes and len(ring) > 1:
                self.ring_bytes -= len(ring.popleft()[2])
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
                    self.close_client(client, CloseCode.TOO_SLOW, TOO_SLOW)
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
            self.close_client(client, CloseCode.TOO_SLOW, TOO_SLOW)

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
        task = asyncio.get_running_loop().create_task(close_slow(client.ws, code, reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def close_user(self, name: str) -> int:
        """Close every connection of a user whose credentials changed; how many there were."""
        clients = [c for c in self.clients if c.user.name == name]
        for client in clients:
            self.close_client(client, CloseCode.CREDENTIALS_CHANGED, CREDENTIALS_CHANGED)
        return len(clients)

    # ---- snapshot and replay -----------------------------------------------------------

    def snapshot_frames(
        self, client: Client, reason: str, cached_units: str | None, now: float
    ) -> list[bytes]:
        """The units (unless cached) and the full visible state at the current head."""
        sees, key_of = client.sees, self.reference.key_of
        version, units = self.reference.units_frame(client.jurisdiction)
        # Pruning runs every few minutes; a snapshot keeps the 36 h window to the second.
        horizon = view_horizon(client.view, now)
        events = [e for e in self.events.values() if sees(e.community) and event_kept(e, horizon)]
        alerts = [a for a in self.alerts.values() if sees(key_of(a)) and alert_kept(a, horizon)]
        today, week, month = self.kpi_sets(client.jurisdiction)
        mine = districts_seen(self.reference.districts, client.jurisdiction)
        duty, duties = duty_view(self.duties, mine, self.reference.reference.district)
        snapshot = _encode(
            Snapshot(
                epoch=self.epoch,
                seq=self.head,
                reason=reason,  # type: ignore[arg-type]
                reference=version,
                events=events,
                alerts=alerts,
                duty=duty,
                duties=duties,
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
        """Whether the KPIs are partial now: the simulator is replaying the day, the book is
        being filled at start, or a new day's recount is half done (a snapshot or a stats
        answer may fall in between)."""
        return self.catching_up or self.kpis.partial

    def kpi_sets(
        self, jurisdiction: frozenset[str] | None
    ) -> tuple[dict[str, Kpi], dict[str, Kpi], dict[str, Kpi]]:
        """Today's, this week's and this month's KPIs of the scopes a jurisdiction may see:
        the district and every street, its streets, or its communities."""
        today, week, month = (kpi_scopes(self.kpis, period, jurisdiction) for period in kpi.PERIODS)
        return today, week, month

    async def refresh_kpis(self, now: float, slice_size: int = 200) -> None:
        """Count what changed since the last push and send fresh KPIs to every client."""
        await self.count_kpis(now, slice_size)
        self.push_kpis(now)

    async def count_kpis(self, now: float, slice_size: int = 200) -> None:
        """Count what changed since the last push, until nothing is left to count.

        A slice at a time, with deliveries in between: a busy second's changes cost a few
        milliseconds each slice instead of one long stall of the fan-out.
        """
        await self.kpis_filled.wait()
        self.kpi_dirty = False
        done = self.kpis.refresh(now, slice_size)
        while not done:
            await asyncio.sleep(0)  # a slice done: let deliveries through
            done = self.kpis.refresh(now, slice_size)

    def push_kpis(self, now: float) -> None:
        """Send the KPIs as they stand to every client (one frame per jurisdiction); call
        right after count_kpis(), with no await in between, so nothing is left uncounted."""
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
                        no_writer=self.no_writer,
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
        level = {DISTRICT_WIDTH: "district", STREET_WIDTH: "street"}.get(width, "community")
        if by in ("department", "worker"):
            # In a city store the departments and workers are the whole store's too.
            raise PermissionError(f"{by} figures are district-wide; your jurisdiction is a {level}")
        if by == "street" and width > STREET_WIDTH:
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

    # ---- deadline risk --------------------------------------------------------------------

    def push_risk(
        self,
        cases: dict[int, tuple[str, CaseRisk]],
        forecast: dict[str, float],
        at: float,
        trained_at: float,
        *,
        resync: bool = False,
    ) -> int:
        """Send every client what changed in the risks it may see since the last push: one
        `risk` message per jurisdiction (the same bytes for all who share it), none when
        nothing it sees changed; in full to a client that has not had them yet (or to all
        with `resync`: a retrained model). `cases`: id → (the case's community, its risk).
        How many clients were sent one."""
        before, self.risk_cases = self.risk_cases, cases
        changed = {i: v for i, v in cases.items() if before.get(i) != v}
        gone = {i: v[0] for i, v in before.items() if i not in cases}
        forecast_changed = forecast != self.risk_forecast
        self.risk_forecast = forecast
        self.risk_trained_at = trained_at
        frames: dict[tuple[frozenset[str] | None, bool], bytes | None] = {}
        sent = 0
        for client in list(self.clients):
            if client.catching_up:
                client.risk_synced = False  # a snapshot on its way: the risks in full after
                continue
            full = resync or not client.risk_synced
            if not full and not (changed or gone or forecast_changed):
                continue
            key = (client.jurisdiction, full)
            if key not in frames:
                sees = client.sees
                shown = cases if full else changed
                message = Risk(
                    at=at,
                    trained_at=trained_at,
                    full=full,
                    cases={i: r for i, (where, r) in shown.items() if sees(where)},
                    gone=[] if full else sorted(i for i, where in gone.items() if sees(where)),
                    forecast=(
                        {s: n for s, n in forecast.items() if sees(s)}
                        if full or forecast_changed
                        else {}
                    ),
                )
                empty = not (message.cases or message.gone or message.forecast)
                frames[key] = None if empty and not full else _encode(message)
            frame = frames[key]
            client.risk_synced = True
            if frame is not None:
                self.write(client, [frame])
                sent += 1
        return sent

    def prune(self, now: float) -> None:
        """Drop settled entities from the read model as the writer does from its state."""
        prune_settled(self.events, self.alerts, now)


def kpi_scopes(
    book: kpi.KpiBook, period: kpi.Period, jurisdiction: frozenset[str] | None
) -> dict[str, Kpi]:
    """One period's KPIs of the scopes a jurisdiction may see: the district and every street
    (the whole district), its streets (a street user), or its communities (a community user);
    a district user of a city store: its district's own total as `district`, and its
    streets. The live `kpis` message's and a replay's (dispatch/replays.py) alike."""
    width = width_of(jurisdiction)
    kind: kpi.ScopeKind | None = "community" if width == COMMUNITY_WIDTH else None
    scopes = book.scopes(period, kind)
    if jurisdiction is None:
        return scopes
    if width == DISTRICT_WIDTH:
        mine = {scope: k for scope, k in scopes.items() if scope[:width] in jurisdiction}
        return {kpi.DISTRICT: book.total(period, sorted(jurisdiction)), **mine}
    return {scope: k for scope, k in scopes.items() if scope in jurisdiction}


async def close_slow(ws: ServerConnection, code: int, reason: str) -> None:
    """Close a client politely if it reads within 2 s, else abort its connection."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(ws.close(code, reason), 2)
    abort(ws)


def abort(ws: ServerConnection) -> None:
    """Drop a connection at once, unless it is gone already: Python 3.12's abort() of a
    transport that was closed with bytes still queued, and has sent them since, fails with
    "'NoneType' object has no attribute 'call_soon'" (its connection_lost has run, and
    websockets has marked the connection CLOSED)."""
    if ws.protocol.state is not WsState.CLOSED:
        ws.transport.abort()
