"""The desktop's session with the dispatch backend: connect, resume, reconnect, commands,
case histories, and an admin's requests (users, the duty roster, the category table).

Qt-free asyncio. The application runs it on a thread of its own (desktop/link.py) and hands
the decoded messages to the GUI once per frame; tools and tests may run it on any loop and
apply each message to a replica as it arrives. The reconnect loop is written out by hand (no
`async for ws in connect(...)`, whose async generator qasync never finalises).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import logging
import time
import urllib.parse
import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from desktop.core.replay_answers import FrameHead, Moment, MomentAnswer, Page, PageAnswer
from desktop.core.replica import Changes, Replica, ReplicaError
from protocol.codec import ProtocolError, decode_server, encode
from protocol.codes import CloseCode, ErrorCode
from protocol.entities import Person
from protocol.messages import (
    PROTOCOL_VERSION,
    Categories,
    Command,
    CreateUser,
    Delta,
    Download,
    Error,
    Hello,
    History,
    IntakeStatus,
    LoadCategories,
    Replay,
    Result,
    Resume,
    RetryFeedback,
    RevokeUser,
    Roster,
    ServerMessage,
    SetCategory,
    SetRoster,
    Shifts,
    Snapshot,
    Units,
    UpdateUser,
    Users,
    Welcome,
)
from protocol.retention import View

log = logging.getLogger("desktop.core.session")

_frame_head = msgspec.json.Decoder(FrameHead)
_moment_answer = msgspec.json.Decoder(MomentAnswer)
_page_answer = msgspec.json.Decoder(PageAnswer)

# Close codes after which reconnecting cannot help: wrong token, wrong protocol, a bug, and
# a token revoked or replaced meanwhile (the same token would only be refused).
FATAL_CLOSE_CODES = frozenset(
    {
        CloseCode.AUTH_FAILED,
        CloseCode.UNSUPPORTED_VERSION,
        CloseCode.PROTOCOL_VIOLATION,
        CloseCode.CREDENTIALS_CHANGED,
    }
)


# A connection that lasts this long after a resync shows the resync worked.
STABLE_SECONDS = 30.0
# A command refused with not_writer by a node whose writer is not in the list is sent to it
# again after this pause, until the command's patience runs out (a standby taking over).
NOT_WRITER_PAUSE = 0.5


def node_name(url: str) -> str:
    """A server as people read it: its host (and port when not the default)."""
    parsed = urllib.parse.urlsplit(url)
    host = parsed.hostname or url
    return f"{host}:{parsed.port}" if parsed.port and parsed.port != 8765 else host


# The longest server name the wall's header shows whole beside the data's age at 1080p and
# 4K, in both languages (tests/desktop/test_wall_window.py): an IPv4 address's 15 characters;
# a longer name would be cut where names differ.
LONGEST_NODE_NAME = 15


def short_node_names(urls: Sequence[str]) -> list[str] | None:
    """Each server's shortest name that still tells it from the others, for the wall's
    header (read from across the room): the host when the hosts differ (a DNS name's first
    label when those differ: `standby`, not `standby.district.gov.cn`), `:port` when only
    the ports differ; None when neither does, or when a name is longer than the header
    shows whole (the wall then numbers them by position)."""
    names = _telling_names(urls)
    if names is None or max(map(len, names)) > LONGEST_NODE_NAME:
        return None
    return names


def _telling_names(urls: Sequence[str]) -> list[str] | None:
    parts = [urllib.parse.urlsplit(url) for url in urls]
    hosts = [part.hostname or url for part, url in zip(parts, urls, strict=True)]
    if len(set(hosts)) == len(hosts):
        firsts = [host.split(".", 1)[0] for host in hosts]
        if not any(_is_address(host) for host in hosts) and len(set(firsts)) == len(firsts):
            return firsts
        return hosts
    ports = [part.port or 8765 for part in parts]
    if len(set(hosts)) == 1 and len(set(ports)) == len(ports):
        return [f":{port}" for port in ports]
    return None


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class _ConnectionLost(Exception):
    """The connection went away while a command waited for its answer."""


@dataclass(frozen=True, slots=True)
class Status:
    """The connection as the header shows it."""

    connected: bool
    since: float  # wall time of the last state change
    last_data: float  # wall time of the last message received (0: none yet)
    attempt: int = 0
    error: str = ""
    fatal: bool = False
    node: str = ""  # the server tried or connected to (its URL)
    nodes: int = 1  # how many servers the session moves between
    servers: tuple[str, ...] = ()  # their URLs, in the order they are tried


class Session:
    """One user's live connection.

    Either `on_message` hears every decoded state message (the application's link to the
    GUI thread), or the session applies each one to `replica` and tells `on_changes` what
    changed. It keeps its own resume point, the (epoch, seq) of the last message it passed
    on, so it never has to read state that another thread owns.
    """

    def __init__(
        self,
        url: str | Sequence[str],
        token: str,
        *,
        on_changes: Callable[[Changes], None] | None = None,
        on_message: Callable[[ServerMessage], None] | None = None,
        on_status: Callable[[Status], None] | None = None,
        client: str = "tongguan-desktop",
        max_backoff: float = 5.0,
        replica: Replica | None = None,
        view: View | None = None,
    ) -> None:
        if (on_changes is None) == (on_message is None):
            raise TypeError("give a session on_changes (with a replica) or on_message")
        # The servers to use, in order: when one goes away the next is tried (a standby).
        self.urls = [url] if isinstance(url, str) else list(url)
        if not self.urls:
            raise ValueError("a session needs at least one server URL")
        self._node = 0
        self._tried_in_round = 0  # servers tried since one last answered
        self._token = token  # kept private: never logged, never in a URL
        self.client = client
        self.replica = replica if replica is not None else Replica()
        # What its snapshots hold (hello.view): the replica's, unless the messages go elsewhere.
        self.view: View = view if view is not None else self.replica.view
        self.on_changes = on_changes
        self.on_message = on_message if on_message is not None else self._apply
        self.on_status = on_status
        self.epoch: str | None = None
        self.seq = 0
        self.units_version: str | None = None
        self.max_backoff = max_backoff
        self._ids = itertools.count(2)
        self._ws: ClientConnection | None = None
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        # Requests whose answer is decoded straight into its own shape (a replay's: thousands
        # of cases in one frame, decoded once instead of into dicts and then converted).
        self._typed: dict[int, msgspec.json.Decoder[Any]] = {}
        self._connected = asyncio.Event()
        self._stopping = False
        self._stop_requested = asyncio.Event()
        self._poke = asyncio.Event()  # retarget(): connect now, do not wait out the backoff
        self._resyncing = False
        self._to_writer = False  # the connection was closed to move to the writer
        self.status = Status(False, time.time(), 0.0)
        self.connections = 0
        self._last_server: str | None = None  # the server of the last connection made

    @property
    def url(self) -> str:
        """The server this session uses now."""
        return self.urls[self._node]

    def _move_on(self) -> bool:
        """After losing the server or failing to reach it: the next one of the list is
        tried next; whether a server of this round is still untried (no wait before it)."""
        if len(self.urls) == 1:
            return False
        self._node = (self._node + 1) % len(self.urls)
        self._tried_in_round += 1
        if self._tried_in_round < len(self.urls):
            return True
        self._tried_in_round = 0
        return False

    # ---- lifecycle -------------------------------------------------------------------------

    async def run(self) -> None:
        """Stay connected until stop(): reconnect with capped backoff, resume from (epoch, seq)."""
        backoff = 0.25
        attempt = 0
        while not self._stopping:
            attempt += 1
            began = time.monotonic()
            ended_cleanly = False
            try:
                if not await self._unless_stopped(self._connect_once()):
                    break  # stop() came while connecting: do not wait out the open timeout
                ended_cleanly = True
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd else None
                if code in FATAL_CLOSE_CODES:
                    reason = exc.rcvd.reason if exc.rcvd else ""
                    self._set_status(False, error=f"{code}: {reason}", fatal=True)
                    log.error("backend refused the session (%s %s)", code, reason)
                    return
                self._set_status(False, attempt=attempt, error=f"connection closed ({code})")
            except (OSError, InvalidHandshake, TimeoutError, ProtocolError) as exc:
                self._set_status(False, attempt=attempt, error=str(exc) or type(exc).__name__)
            except ReplicaError as exc:
                # The stream cannot be followed from here: start over from a snapshot.
                log.warning("%s; reconnecting for a snapshot", exc, exc_info=exc.__cause__)
                self._forget_resume_point()
                self._set_status(False, attempt=attempt, error=str(exc))
            finally:
                self._connected.clear()
                self._ws = None
                for future in self._waiting.values():
                    if not future.done():
                        future.set_exception(_ConnectionLost())
            # A connection that lasted starts the backoff afresh however it ended; a short
            # one that ended cleanly too, unless a resync ended it: something that fails on
            # every snapshot must not reload one four times a second.
            lasted = time.monotonic() - began
            if lasted >= STABLE_SECONDS or (ended_cleanly and not self._resyncing):
                backoff = 0.25
                attempt = 0
            resynced = ended_cleanly and self._resyncing
            if ended_cleanly:
                self._resyncing = False
            if self._stopping:
                break
            if self._to_writer:
                self._to_writer = False  # _node is the writer's already: go there at once
                continue
            # A resync asks the same server again; anything else tries the next server at
            # once, and waits out the backoff only once every server was tried.
            if not resynced and self._move_on():
                await self._pause(0.05)
                continue
            await self._pause(backoff)
            backoff = min(backoff * 2, self.max_backoff)

    async def _pause(self, seconds: float) -> None:
        """Wait before the next attempt: `seconds`, or until stop() or retarget()."""
        if not self._poke.is_set():
            waits = {
                asyncio.ensure_future(self._stop_requested.wait()),
                asyncio.ensure_future(self._poke.wait()),
            }
            try:
                await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiting in waits:
                    waiting.cancel()
        self._poke.clear()

    def retarget(self, url: str | None = None) -> None:
        """Connect to `url` (if given) from the next attempt on, and make that attempt now
        if the session is waiting to reconnect: the backend is back (on this session's
        loop)."""
        if url:
            self.urls, self._node, self._tried_in_round = [url], 0, 0
        self._poke.set()

    async def _unless_stopped(self, attempt: Coroutine[Any, Any, None]) -> bool:
        """Await `attempt` unless stop() is called first (then cancel it and say False)."""
        task = asyncio.ensure_future(attempt)
        stopper = asyncio.ensure_future(self._stop_requested.wait())
        interrupted = True
        try:
            await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
            interrupted = not task.done()
        finally:
            stopper.cancel()
            if interrupted:
                # Stopped, or run() itself was cancelled: the attempt must not outlive it.
                task.cancel()
                await asyncio.wait({task})  # a cancellation of run() meanwhile still raises
                if not task.cancelled():
                    task.exception()  # how a cut-short attempt ended does not matter now
        if interrupted:
            return False
        task.result()  # its exception, if any, is the caller's
        return True

    async def stop(self) -> None:
        """Close the connection and end run() (at once, even while it connects or waits)."""
        self._stopping = True
        ws = self._ws
        if ws is not None:
            await ws.close()
        self._stop_requested.set()
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(_ConnectionLost())

    async def resync(self) -> None:
        """Forget the resume point and reconnect: the backend sends a whole snapshot.

        For when what the session passed on could not be applied: resuming would skip it."""
        log.warning("resynchronising: the next connection asks for a snapshot")
        self._forget_resume_point()
        self._resyncing = True
        ws = self._ws
        if ws is not None:
            await ws.close(CloseCode.GOING_AWAY, "resync")

    def _forget_resume_point(self) -> None:
        # The units too: they may have been taken but not applied, and the server sends
        # them only to a client that does not already have this version.
        self.epoch, self.seq, self.units_version = None, 0, None

    async def wait_connected(self) -> None:
        """Wait until the session has its state (a snapshot or a replay has started)."""
        await self._connected.wait()

    async def _connect_once(self) -> None:
        async with connect(
            self.url,
            max_size=None,
            compression=None,
            open_timeout=10,
            ping_interval=20,
            ping_timeout=20,
            close_timeout=3,
        ) as ws:
            self._ws = ws
            self.connections += 1
            hello = Hello(
                id=1,
                protocol=PROTOCOL_VERSION,
                token=self._token,
                client=self.client,
                resume=Resume(epoch=self.epoch, seq=self.seq) if self.epoch else None,
                reference=self.units_version,
                view=self.view,
            )
            await ws.send(encode(hello).decode())
            self._ids = itertools.count(2)
            async for raw in ws:
                self._receive(raw)

    def _receive(self, raw: str | bytes) -> None:
        if self._typed and self._typed_answer(raw):
            return
        message = decode_server(raw)
        if isinstance(message, (Result, Error)):
            future = self._waiting.pop(message.id, None)
            if future is not None and not future.done():
                future.set_result(message)
            elif isinstance(message, Error):
                log.warning("server error %s: %s", message.code, message.message)
            return
        self._advance(message)
        self.on_message(message)
        if not self._connected.is_set() and (
            isinstance(message, Snapshot)
            or (isinstance(message, Welcome) and message.resume == "replay")
        ):
            self._tried_in_round = 0
            self._connected.set()
            self._set_status(True)
            self._log_connected()
        status = self.status  # per message: built directly (dataclasses.replace is slower)
        self.status = Status(
            status.connected,
            status.since,
            time.time(),
            node=status.node,
            nodes=status.nodes,
            servers=status.servers,
        )

    def _log_connected(self) -> None:
        """One INFO line per connection (the wall's and the desk's): which server, and
        whether it is another one than before (a standby taking over)."""
        where = f"{self.url} (server {self._node + 1} of {len(self.urls)})"
        if len(self.urls) == 1:
            where = self.url
        if self._last_server is not None and self._last_server != self.url:
            log.info("moved to %s from %s", where, self._last_server)
        else:
            log.info("connected to %s", where)
        self._last_server = self.url

    def _typed_answer(self, raw: str | bytes) -> bool:
        """Hand a typed request its result, decoded in its own shape; whether it was one."""
        try:
            head = _frame_head.decode(raw)
        except msgspec.DecodeError:
            return False  # decode_server says what is wrong with it
        decoder = self._typed.get(head.id) if head.type == "result" else None
        if decoder is None:
            return False
        future = self._waiting.pop(head.id, None)
        try:
            answer = decoder.decode(raw)
        except msgspec.DecodeError as exc:
            answer = ConnectionError(f"an answer not understood ({exc})")
        if future is not None and not future.done():
            if isinstance(answer, Exception):
                future.set_exception(answer)
            else:
                future.set_result(answer)
        return True

    def _advance(self, message: ServerMessage) -> None:
        """Move the resume point past a message (before anyone applies it)."""
        if isinstance(message, Delta):
            self.seq = max(self.seq, message.seq)
        elif isinstance(message, Snapshot):
            self.epoch, self.seq = message.epoch, message.seq
        elif isinstance(message, (Units, Categories)):
            self.units_version = message.version
        elif (
            isinstance(message, Welcome)
            and message.resume == "replay"
            and message.epoch != self.epoch
        ):
            if self.epoch is None:  # a connection opened before a resync dropped the epoch
                raise ReplicaError("a replay from before the resync")
            raise ReplicaError("replay offered for another epoch")

    def _apply(self, message: ServerMessage) -> None:
        try:
            changes = self.replica.apply(message)
        except Exception as exc:
            raise ReplicaError(f"could not apply a {type(message).__name__}") from exc
        if changes and self.on_changes is not None:
            self.on_changes(changes)

    def _set_status(
        self, connected: bool, *, attempt: int = 0, error: str = "", fatal: bool = False
    ) -> None:
        self.status = Status(
            connected,
            time.time(),
            self.status.last_data,
            attempt,
            error,
            fatal,
            node=self.url,
            nodes=len(self.urls),
            servers=tuple(self.urls),
        )
        if self.on_status is not None:
            self.on_status(self.status)

    # ---- commands --------------------------------------------------------------------------

    async def command(
        self,
        op: str,
        args: dict[str, Any],
        *,
        patience: float = 15.0,
        command_id: str | None = None,
    ) -> Result | Error:
        """Send a command; if the connection drops first, resend it (same id) after reconnect."""
        command_id = command_id or uuid.uuid4().hex
        deadline = time.monotonic() + patience
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{op}: no answer within {patience:.0f} s")
            await asyncio.wait_for(self._connected.wait(), remaining)
            ws = self._ws
            if ws is None:
                continue
            request_id = next(self._ids)
            future: asyncio.Future[Result | Error] = asyncio.get_running_loop().create_future()
            self._waiting[request_id] = future
            try:
                await ws.send(
                    encode(Command(id=request_id, command_id=command_id, op=op, args=args)).decode()
                )
                answer = await asyncio.wait_for(
                    asyncio.shield(future), max(0.1, deadline - time.monotonic())
                )
                if not (isinstance(answer, Error) and answer.code == ErrorCode.NOT_WRITER):
                    return answer
                # A standby or a gateway: to the writer it names if it is one of ours, else
                # again here in a moment (a standby may be taking over); same command_id.
                if time.monotonic() + NOT_WRITER_PAUSE >= deadline:
                    return answer
                if answer.writer and self._go_to(answer.writer):
                    await ws.close(CloseCode.GOING_AWAY, "moving to the writer")
                else:
                    await asyncio.sleep(NOT_WRITER_PAUSE)
            except (ConnectionClosed, _ConnectionLost):
                if self._stopping:
                    raise
                # The server applies a command_id at most once: resending is safe.
                await asyncio.sleep(0.05)
            finally:
                self._waiting.pop(request_id, None)
                with contextlib.suppress(Exception):
                    future.cancel()

    def _go_to(self, writer: str) -> bool:
        """Make the writer's URL, if it is in this session's list and not the server in use,
        the next one connected to; whether it is. (Only a listed server is ever given the
        token: a URL from a message is not trusted with it.)"""
        wanted = writer.rstrip("/")
        for index, url in enumerate(self.urls):
            if url.rstrip("/") == wanted and index != self._node:
                self._node, self._tried_in_round, self._to_writer = index, 0, True
                return True
        return False

    async def history(self, event: int, patience: float = 10.0) -> Result | Error:
        """Ask for a case's audit timeline (data: event, entries, truncated; see
        protocol.messages.HistoryEntry); an Error such as not_found is returned.

        A read, so nothing is resent: TimeoutError when no connection comes or no answer
        arrives within `patience` seconds, ConnectionError when the connection drops first.
        """
        return await self._request("history", lambda i: History(id=i, event=event), patience)

    async def users(self, patience: float = 10.0) -> Result | Error:
        """Ask for every user (data: users, see protocol.messages.UserEntry); role admin
        only, others get Error forbidden. Not resent, as history()."""
        return await self._request("users", lambda i: Users(id=i), patience)

    async def create_user(
        self,
        name: str,
        role: str,
        streets: list[str] | None = None,
        communities: list[str] | None = None,
        patience: float = 10.0,
        display_name: str = "",
    ) -> Result | Error:
        """Create a user (data: user, token: the new token, shown nowhere else); Error
        conflict when the name is taken (update_user changes a user). `display_name` the
        name it is shown by ("" none).

        Never resent, as history(). When the connection drops first (ConnectionError)
        whether it was done is unknown: list the users to see."""

        def message(request_id: int) -> CreateUser:
            return CreateUser(
                id=request_id,
                name=name,
                role=role,
                streets=list(streets or []),
                communities=list(communities or []),
                display_name=display_name,
            )

        return await self._request("create_user", message, patience)

    async def update_user(
        self,
        name: str,
        role: str | None = None,
        streets: list[str] | None = None,
        communities: list[str] | None = None,
        *,
        whole_district: bool = False,
        display_name: str | None = None,
        new_token: bool = False,
        patience: float = 10.0,
    ) -> Result | Error:
        """Change a user (data: user, role, jurisdiction, display_name, and token when
        `new_token`: shown nowhere else); None or empty keeps that part. Never resent, as
        create_user: a second copy would re-key the user again."""

        def message(request_id: int) -> UpdateUser:
            return UpdateUser(
                id=request_id,
                name=name,
                role=role,
                streets=list(streets or []),
                communities=list(communities or []),
                whole_district=whole_district,
                display_name=display_name,
                new_token=new_token,
            )

        return await self._request("update_user", message, patience)

    async def revoke_user(self, name: str, patience: float = 10.0) -> Result | Error:
        """Revoke a user's token (data: user); Error not_found when there is no such user."""
        return await self._request("revoke_user", lambda i: RevokeUser(id=i, name=name), patience)

    async def roster(
        self, first: str, last: str, patience: float = 10.0, *, district: str = ""
    ) -> Result | Error:
        """Ask for the planned duty of a district ("": the user's own) of the days `first` to
        `last` (data: today, days: see protocol.entities.DutyPlan); roles commander,
        dispatcher, admin. Not resent."""
        return await self._request(
            "roster",
            lambda i: Roster(id=i, first=first, last=last, district=district),
            patience,
        )

    async def set_roster(
        self,
        day: str,
        commander: Person | None,
        roster: list[Person],
        patience: float = 10.0,
        *,
        district: str = "",
    ) -> Result | Error:
        """Plan a district's day ("": the user's own district), or remove its plan with no
        commander (data: day, planned, duty); role admin only. Not resent."""

        def message(request_id: int) -> SetRoster:
            return SetRoster(
                id=request_id,
                day=day,
                commander=commander,
                roster=list(roster),
                district=district,
            )

        return await self._request("set_roster", message, patience)

    async def set_category(self, fields: dict[str, Any], patience: float = 10.0) -> Result | Error:
        """Add or replace a category (`fields` as protocol.messages.SetCategory's: code,
        name, standard, priority, department, limits, basis, cls); role admin only. Not
        resent. The table, once changed, comes as a `categories` message."""
        return await self._request("set_category", lambda i: SetCategory(id=i, **fields), patience)

    async def load_categories(
        self,
        file: str,
        content: str,
        check: bool = False,
        patience: float = 30.0,
        *,
        district: str = "",
    ) -> Result | Error:
        """Load a whole category table (`content`: the file zlib-compressed, base64), or
        with `check` only hear what it would change; role admin only. Not resent.
        `district`: whose table, in a city of several (default: the admin's own)."""

        def message(request_id: int) -> LoadCategories:
            return LoadCategories(
                id=request_id, file=file, content=content, check=check, district=district
            )

        return await self._request("load_categories", message, patience)

    async def intake_status(
        self, state: str | None = None, limit: int = 100, patience: float = 10.0
    ) -> Result | Error:
        """Ask how the intakes stand and what the feedback outbox holds (data: intakes,
        outbox: see docs/protocol.md §6.12); roles dispatcher, admin. Not resent."""

        def message(request_id: int) -> IntakeStatus:
            return IntakeStatus(id=request_id, state=state, limit=limit)  # type: ignore[arg-type]

        return await self._request("intake_status", message, patience)

    async def retry_feedback(self, ids: list[int], patience: float = 10.0) -> Result | Error:
        """Send feedback of the outbox again now (data: retried, skipped); role admin only.
        Not resent."""
        return await self._request(
            "retry_feedback", lambda i: RetryFeedback(id=i, ids=list(ids)), patience
        )

    async def shifts(
        self, first: str, last: str, patience: float = 10.0, district: str = ""
    ) -> Result | Error:
        """Ask for the shifts of a district's centre ("": the user's own) that began from
        day `first` to day `last` (data: shifts, newest first: start, end, day, commander,
        note); roles commander, dispatcher, admin of the whole district. Not resent."""
        return await self._request(
            "shifts", lambda i: Shifts(id=i, first=first, last=last, district=district), patience
        )

    async def download(self, patience: float = 60.0, **fields: Any) -> Result | Error:
        """Ask for a file (a handover report, an export; docs/protocol.md §6.13): data
        path, name, bytes, expires_in; one GET of the path with the token fetches it. Not
        resent."""
        return await self._request("download", lambda i: Download(id=i, **fields), patience)

    async def replay(self, patience: float = 30.0, **fields: Any) -> Moment | Page | Error:
        """Ask the time machine for a past moment (`at` or `seq`) or a range of deltas
        (`from_seq`, `to_seq`), docs/protocol.md §6.14; the answer decoded here, off the
        GUI thread. Not resent; ConnectionError for an answer of another shape."""
        decoder = _page_answer if "from_seq" in fields else _moment_answer
        answer = await self._exchange(
            "replay", lambda i: Replay(id=i, **fields), patience, decoder=decoder
        )
        if isinstance(answer, Error):
            return answer
        if not isinstance(answer, (MomentAnswer, PageAnswer)):
            raise ConnectionError("replay: an answer of another shape")
        return answer.data

    async def _request(
        self, what: str, message: Callable[[int], Any], patience: float
    ) -> Result | Error:
        """Send one request (built with its id) and await its answer; never resent."""
        answer = await self._exchange(what, message, patience)
        if not isinstance(answer, (Result, Error)):
            raise ConnectionError(f"{what}: an answer of another shape")
        return answer

    async def _exchange(
        self,
        what: str,
        message: Callable[[int], Any],
        patience: float,
        *,
        decoder: msgspec.json.Decoder[Any] | None = None,
    ) -> Any:
        """Send one request (built with its id) and await its answer (a Result, an Error,
        or what `decoder` makes of a result frame); never resent."""
        deadline = time.monotonic() + patience
        try:
            await asyncio.wait_for(self._connected.wait(), patience)
        except TimeoutError:
            raise TimeoutError(f"{what}: not connected within {patience:.0f} s") from None
        ws = self._ws
        if ws is None:
            raise ConnectionError(f"{what}: the connection dropped")
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        if decoder is not None:
            self._typed[request_id] = decoder
        try:
            await ws.send(encode(message(request_id)).decode())
            return await asyncio.wait_for(
                asyncio.shield(future), max(0.1, deadline - time.monotonic())
            )
        except TimeoutError:
            raise TimeoutError(f"{what}: no answer within {patience:.0f} s") from None
        except (ConnectionClosed, _ConnectionLost) as exc:
            raise ConnectionError(f"{what}: the connection dropped before the answer") from exc
        finally:
            self._typed.pop(request_id, None)
            self._waiting.pop(request_id, None)
            with contextlib.suppress(Exception):
                future.cancel()
