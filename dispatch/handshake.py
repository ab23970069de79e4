"""The handshake: hello, authentication (cached), then snapshot, replay or reset.

Authentication and log reads go to worker threads; between reading the hub's head and
queueing the client's first frames there is no await, so no delta can slip in between.
"""

from __future__ import annotations

import asyncio
import logging
import time

import msgspec
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from dispatch.clock import Clock
from dispatch.frames import delta_json, text_frame
from dispatch.hub import CREDENTIALS_CHANGED, TOO_SLOW, Client, Hub, close_slow
from dispatch.jurisdiction import STREET_WIDTH
from dispatch.limits import Limits
from dispatch.reference import ReferenceData
from dispatch.store.store import Store, User
from protocol.codec import ProtocolError, decode_client
from protocol.codes import CloseCode
from protocol.messages import PROTOCOL_VERSION, Hello, Welcome

log = logging.getLogger("dispatch.handshake")
_encode = msgspec.json.Encoder().encode


class Authenticator:
    """Tokens to users, each answer cached for `recheck` seconds.

    When a user's credentials change (revoked, or re-keyed by an update_user new_token),
    `forget(name)` drops that user's cached tokens at once and moves the generation on: a
    store read begun before the change is read again, and a connection authenticated before
    it is told by `changed_since` (the handshake checks before the client joins the hub).
    """

    def __init__(self, store: Store, recheck: float) -> None:
        self.store = store
        self.recheck = recheck
        self._cache: dict[str, tuple[float, User | None]] = {}
        self.generation = 0  # moved on by every forget()
        self._changed: dict[str, int] = {}  # user name -> the generation of its last change

    async def authenticate(self, token: str) -> User | None:
        """The token's user, or None; at most one store read per token per recheck."""
        user, _ = await self.check(token)
        return user

    async def check(self, token: str) -> tuple[User | None, int]:
        """The token's user (or None) and the generation it is valid as of."""
        if not token or len(token) > 200:
            return None, self.generation
        cached = self._cache.get(token)
        if cached is not None and time.monotonic() - cached[0] < self.recheck:
            return cached[1], self.generation
        while True:
            generation = self.generation
            user = await asyncio.to_thread(self.store.authenticate, token)
            if generation == self.generation:
                break
            # Credentials changed while the store was read: the answer may predate it.
        self._cache[token] = (time.monotonic(), user)
        if len(self._cache) > 10_000:
            self._cache.clear()
        return user, generation

    def forget(self, name: str) -> None:
        """A user's credentials changed: no cached token of it is trusted from now on."""
        self.generation += 1
        self._changed[name] = self.generation
        self._cache = {t: v for t, v in self._cache.items() if v[1] is None or v[1].name != name}

    def changed_since(self, name: str, generation: int) -> bool:
        """Whether the user's credentials changed after `generation` (see check)."""
        return self._changed.get(name, -1) > generation

    def stale(self, current: dict[str, User]) -> set[str]:
        """Names of cached users that are no longer as `current` has them (every active user
        by name): revoked, re-keyed, or given another role or jurisdiction since their token
        was read."""
        return {
            user.name
            for _, user in self._cache.values()
            if user is not None and current.get(user.name) != user
        }


class Handshake:
    """Greets a connection: checks its hello, then snapshots, replays or resets it."""

    def __init__(
        self,
        hub: Hub,
        store: Store,
        reference: ReferenceData,
        clock: Clock,
        limits: Limits,
        auth: Authenticator,
    ) -> None:
        self.hub = hub
        self.store = store
        self.reference = reference
        self.clock = clock
        self.limits = limits
        self.auth = auth

    async def greet(self, ws: ServerConnection) -> tuple[Client, Hello] | None:
        """Read and check the hello and its token: the client, or None once `ws` is closed."""
        peer = peer_of(ws)
        try:
            raw = await asyncio.wait_for(ws.recv(), self.limits.hello_timeout)
        except TimeoutError:
            self.hub.refusals.note(
                log, peer, "%s: no hello within %.0f s", peer, self.limits.hello_timeout
            )
            await ws.close(CloseCode.HANDSHAKE_TIMEOUT, "hello expected first")
            return None
        except ConnectionClosed:
            return None
        try:
            hello = decode_client(raw)
        except ProtocolError as exc:
            await ws.close(CloseCode.PROTOCOL_VIOLATION, _reason(f"first message: {exc.message}"))
            return None
        if not isinstance(hello, Hello):
            await ws.close(CloseCode.PROTOCOL_VIOLATION, "first message must be hello")
            return None
        if hello.protocol != PROTOCOL_VERSION:
            await ws.close(
                CloseCode.UNSUPPORTED_VERSION,
                f"protocol {hello.protocol} unsupported; this server speaks {PROTOCOL_VERSION}",
            )
            return None
        user, generation = await self.auth.check(hello.token)
        if user is None:
            self.hub.refusals.note(
                log,
                peer,
                "%s: authentication failed (client %s)",
                peer,
                hello.client[:40],  # made printable by note()
                level=logging.WARNING,
            )
            await ws.close(CloseCode.AUTH_FAILED, "authentication failed")
            return None
        client = Client(
            ws,
            user,
            peer,
            user.jurisdiction,
            last_id=hello.id,
            allowance=float(self.limits.command_burst),
            credentials=generation,
            view=hello.view,
            home=self.reference.reference.district,
        )
        # On their own budget: a burst of connections cannot fill the log.
        self.hub.connections_log.note(
            log,
            f"{peer} ({user.name})",
            "%s: %s (%s) connected with %s",
            peer,
            user.name,
            user.role,
            # Made printable by note (cut here: a client's name is short in the log).
            hello.client[:40] + ("…" if len(hello.client) > 40 else "") or "unnamed client",
        )
        return client, hello

    async def attach(self, client: Client, hello: Hello) -> None:
        """Bring the client up to date (snapshot, replay or reset) and add it to the hub."""
        hub = self.hub
        resume = hello.resume
        mode = "none"
        if resume is not None and resume.seq < hub.ring_start():
            # The log may have been trimmed by another process since start-up.
            _, hub.trimmed = await asyncio.to_thread(self.store.head)
        if self.auth.changed_since(client.user.name, client.credentials):
            # Revoked or re-keyed since its hello was checked (the hub's clients were closed
            # then, but this one was not among them yet): it must not join.
            client.closing = True
            await close_slow(client.ws, CloseCode.CREDENTIALS_CHANGED, CREDENTIALS_CHANGED)
            raise ConnectionClosed(None, None)
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
                people=hub.people,
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
            hub.snapshot_sent.set()
            return
        assert resume is not None
        # Units changed since the client cached them (a new district load): send them first.
        version, units = self.reference.units_frame(client.jurisdiction)
        welcome_frames = [welcome] if hello.reference == version else [welcome, units]
        if resume.seq >= hub.ring_start():
            # A replay is allowed on top of the backlog bound, like a snapshot: welcome and
            # replay go out in one write, so that the welcome alone (once it drained) does
            # not end the allowance before the replay is queued.
            wire = b"".join(text_frame(f) for f in welcome_frames) + hub.ring_after(
                client, resume.seq
            )
            client.baseline = len(wire)
            hub.send_wire(client, wire)
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
            rows = await asyncio.to_thread(
                self.store.read_log, last, 5000, client.jurisdiction, client.home
            )
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
                await close_slow(client.ws, CloseCode.TOO_SLOW, TOO_SLOW)
                raise ConnectionClosed(None, None)
            await asyncio.sleep(0.01)
            waited += 0.01


def peer_of(ws: ServerConnection) -> str:
    """The connection's remote address as host:port, for the logs."""
    address = ws.remote_address
    return f"{address[0]}:{address[1]}" if address else "?"


def _reason(text: str) -> str:
    """A close reason that fits a control frame (123 bytes) whatever the client sent."""
    return text.encode()[:120].decode(errors="ignore")
