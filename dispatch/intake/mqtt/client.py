"""The MQTT consumer: paho driven by the event loop, each message handled on the loop and
acknowledged (PUBACK) only once its handler has finished, i.e. after the commit.

A persistent session: a fixed client id with Clean Session off (MQTT 3.1.1), or Clean Start
off and a Session Expiry Interval (MQTT 5): the broker keeps our subscriptions and queues
QoS 1 messages while we are away (broker restart, backend restart), and sends again
whatever we had not acknowledged. Acknowledgements go out in the order the messages came
(MQTT requires it for QoS 1); those of a connection that has since dropped are never sent
(their message ids may be reused): the broker sends those messages again and the handlers,
idempotent by the message's own ids, make nothing twice.

paho runs without its network thread: its socket is watched by the loop (add_reader /
add_writer), so a message goes from the socket to its handler and its acknowledgement back
without a thread switch (with paho's thread, the two threads' hand-offs under the GIL cost
more than the work). Only the TCP connect runs in a worker thread (it may block). The
reconnection loop pauses `reconnect_min` after a failure, doubling up to `reconnect_max`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from dispatch.intake.mqtt.settings import MqttSettings

log = logging.getLogger("dispatch.intake.mqtt")

# Packets read per readiness of the socket before the loop runs other work.
READ_BURST = 500


class _BufferedClient(paho.Client):
    """paho's client reading its socket 64 KiB at a time: paho reads a packet with three or
    four receives (its type byte, each length byte, the rest), a system call each with the
    GIL let go and taken again; at thousands of messages a second those calls and the
    `more already there?` peek were a third of the loop thread's time (bench/RESULTS.md §8).
    The bytes read ahead are served from here (and forgotten with their socket)."""

    _ahead = b""
    _at = 0
    _of: object = None  # the socket they came from

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._of is not self._sock:  # a new connection: nothing of the old one is kept
            self._ahead, self._at, self._of = b"", 0, self._sock
        if self._at >= len(self._ahead):
            data = super()._sock_recv(max(bufsize, 65536))  # BlockingIOError: nothing there
            if len(data) <= bufsize:
                return data
            self._ahead, self._at = data, 0
        start = self._at
        self._at = min(start + bufsize, len(self._ahead))
        return self._ahead[start : self._at]

    def buffered(self) -> bool:
        """Whether bytes read ahead from the current socket wait to be handled."""
        return self._of is self._sock and self._at < len(self._ahead)


@dataclass(frozen=True, slots=True)
class Message:
    """A received message as the handlers see it."""

    topic: str
    payload: bytes
    qos: int
    retain: bool


# A handler returns None when it is done with the message at once, else what to wait for
# before the message is acknowledged (a coroutine becomes a task).
Handler = Callable[[Message], Awaitable[None] | None]


class _Pending:
    __slots__ = ("done", "generation", "mid", "qos")

    def __init__(self, mid: int, qos: int, generation: int) -> None:
        self.mid = mid
        self.qos = qos
        self.generation = generation
        self.done = False


class Consumer:
    """Subscribes `topics` (filter -> handler) with QoS 1 and runs each message's handler."""

    def __init__(
        self,
        settings: MqttSettings,
        topics: dict[str, Handler],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.settings = settings
        self.topics = topics
        self.loop = loop
        self.connected = asyncio.Event()  # set once subscribed (SUBACK) on a connection
        self.connects = 0
        self.received = 0
        self.last_at: float | None = None  # when the last message came (wall clock)
        self.failed = 0  # handlers that raised (the message is not acknowledged)
        self._generation = 0  # bumped at each connection and loss
        self._acks: deque[_Pending] = deque()
        self._tasks: set[asyncio.Future[None]] = set()
        self._routes: dict[str, Handler] = {}  # topic -> its handler, once matched
        self._sock: Any = None  # paho's socket while open
        self._lost = asyncio.Event()  # the socket closed: time to reconnect
        self._runner: asyncio.Task[None] | None = None
        self._stopping = False
        self._was_up = False  # the current connection got its CONNACK
        self._loop_thread: int | None = None
        self.v5 = settings.protocol == "5"
        client = _BufferedClient(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            protocol=paho.MQTTv5 if self.v5 else paho.MQTTv311,
            clean_session=None if self.v5 else False,
            manual_ack=True,
        )
        if settings.username:
            client.username_pw_set(settings.username, settings.password or None)
        client.connect_timeout = 5.0
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        client.on_socket_open = self._on_socket_open
        client.on_socket_close = self._on_socket_close
        client.on_socket_register_write = self._on_register_write
        client.on_socket_unregister_write = self._on_unregister_write
        self.client = client

    def start(self) -> None:
        """Connect in the background, and again after any loss."""
        self._loop_thread = threading.get_ident()  # start() runs on the loop
        self._runner = self.loop.create_task(self._keep_connected(), name="mqtt-connection")

    async def stop(self) -> None:
        """Let running handlers finish (their messages acknowledged), then disconnect."""
        self._stopping = True
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10)
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        if self._sock is not None:
            self.client.loop_write()  # the last acknowledgements
            self.client.disconnect()
            self.client.loop_write()
        if self._sock is not None:
            self._forget_socket(self._sock)
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None

    # ---- the connection ------------------------------------------------------------------

    async def _keep_connected(self) -> None:
        settings = self.settings
        pause = settings.reconnect_min
        first = True
        while not self._stopping:
            self._lost.clear()
            self._was_up = False
            try:
                await asyncio.to_thread(self._connect, first)
                first = False
            except (OSError, ValueError) as exc:
                log.warning(
                    "MQTT broker %s:%d unreachable (%s); again in %.1f s",
                    settings.host,
                    settings.port,
                    exc,
                    pause,
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, settings.reconnect_max)
                continue
            # Connected (CONNACK on its way): keep alive until the socket closes.
            while not self._lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._lost.wait(), 1.0)
                if self.client.loop_misc() != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    break
            if self._stopping:
                break
            if self._was_up:
                pause = settings.reconnect_min  # it worked: the backoff starts afresh
            await asyncio.sleep(pause)
            pause = min(pause * 2, settings.reconnect_max)

    def _connect(self, first: bool) -> None:
        """TCP connect and CONNECT (in a worker thread: it may block)."""
        settings = self.settings
        if self.v5:
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = settings.session_expiry
            props.ReceiveMaximum = settings.receive_maximum
            if first:
                self.client.connect(
                    settings.host,
                    settings.port,
                    keepalive=settings.keepalive,
                    clean_start=False,
                    properties=props,
                )
            else:
                self.client.reconnect()
        elif first:
            self.client.connect(settings.host, settings.port, keepalive=settings.keepalive)
        else:
            self.client.reconnect()

    def _in_loop(self, call: Callable[..., object], *args: object) -> None:
        """Run `call` on the loop: now when on its thread, else as soon as it can."""
        if threading.get_ident() == self._loop_thread:
            call(*args)
        else:
            self.loop.call_soon_threadsafe(call, *args)

    # ---- paho's socket callbacks ---------------------------------------------------------

    def _on_socket_open(self, _client: paho.Client, _userdata: object, sock: Any) -> None:
        self._in_loop(self._watch, sock)

    def _watch(self, sock: Any) -> None:
        self._sock = sock
        self.loop.add_reader(sock, self._readable)

    def _readable(self) -> None:
        client, sock = self.client, self._sock
        plain = isinstance(sock, socket.socket)
        for _ in range(READ_BURST):
            if client.loop_read() != MQTTErrorCode.MQTT_ERR_SUCCESS or self._sock is not sock:
                return
            if client.buffered():
                continue  # the next packet is (partly) read already: no system call
            if not plain:
                return
            try:  # more already there? (paho reads a packet at a time)
                if not sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT):
                    return
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
        if client.buffered():  # READ_BURST handled; the socket may not wake us for the rest
            self.loop.call_soon(self._readable)

    def _on_socket_close(self, _client: paho.Client, _userdata: object, sock: Any) -> None:
        self._in_loop(self._forget_socket, sock)

    def _forget_socket(self, sock: Any) -> None:
        with contextlib.suppress(ValueError, OSError):
            self.loop.remove_reader(sock)
            self.loop.remove_writer(sock)
        if self._sock is sock:
            self._sock = None
        self._lost.set()

    def _on_register_write(self, _client: paho.Client, _userdata: object, sock: Any) -> None:
        self._in_loop(self._want_write, sock)

    def _want_write(self, sock: Any) -> None:
        if sock is self._sock or self._sock is None:
            with contextlib.suppress(ValueError, OSError):
                self.loop.add_writer(sock, self.client.loop_write)

    def _on_unregister_write(self, _client: paho.Client, _userdata: object, sock: Any) -> None:
        self._in_loop(self._no_write, sock)

    def _no_write(self, sock: Any) -> None:
        with contextlib.suppress(ValueError, OSError):
            self.loop.remove_writer(sock)

    # ---- paho's protocol callbacks (on the loop) -------------------------------------------

    def _on_connect(
        self,
        client: paho.Client,
        _userdata: object,
        flags: paho.ConnectFlags,
        reason: ReasonCode,
        _props: Properties | None,
    ) -> None:
        if reason.is_failure:
            log.warning(
                "MQTT broker %s:%d refused us: %s", self.settings.host, self.settings.port, reason
            )
            return
        self._generation += 1
        self._was_up = True
        log.info(
            "MQTT connected to %s:%d as %s (session %s)",
            self.settings.host,
            self.settings.port,
            self.settings.client_id,
            "resumed" if flags.session_present else "new",
        )
        client.subscribe([(topic, 1) for topic in self.topics])
        self.connects += 1

    def _on_subscribe(
        self,
        _client: paho.Client,
        _userdata: object,
        _mid: int,
        reasons: list[ReasonCode],
        _props: Properties | None,
    ) -> None:
        refused = [r for r in reasons if r.is_failure]
        if refused:
            log.error("MQTT broker refused our subscriptions: %s", refused)
            return
        self._in_loop(self.connected.set)

    def _on_disconnect(
        self,
        _client: paho.Client,
        _userdata: object,
        _flags: paho.DisconnectFlags,
        reason: ReasonCode,
        _props: Properties | None,
    ) -> None:
        self._generation += 1  # acknowledgements still owed are void now
        self._in_loop(self.connected.clear)
        if reason.is_failure and not self._stopping:
            log.warning("MQTT connection lost (%s); reconnecting", reason)

    def _on_message(self, _client: paho.Client, _userdata: object, msg: paho.MQTTMessage) -> None:
        message = Message(msg.topic, bytes(msg.payload), msg.qos, bool(msg.retain))
        self.received += 1
        self.last_at = time.time()
        pending = _Pending(msg.mid, message.qos, self._generation)
        self._acks.append(pending)
        try:
            waiting = self._handler_of(message.topic)(message)
        except Exception:
            self._failed(message, pending)
            return
        if waiting is None:
            self._finish(pending)
            return
        future = asyncio.ensure_future(waiting, loop=self.loop)
        self._tasks.add(future)
        future.add_done_callback(lambda f: self._settle(f, message, pending))

    def _handler_of(self, topic: str) -> Handler:
        handler = self._routes.get(topic)
        if handler is not None:
            return handler
        for pattern, candidate in self.topics.items():
            if paho.topic_matches_sub(pattern, topic):  # slow: remembered per topic
                if len(self._routes) < 100_000:
                    self._routes[topic] = candidate
                return candidate
        raise LookupError(topic)  # the broker only sends what we subscribed

    def _settle(self, future: asyncio.Future[None], message: Message, pending: _Pending) -> None:
        self._tasks.discard(future)
        if future.cancelled() or future.exception() is not None:
            self._failed(message, pending, future.exception() if not future.cancelled() else None)
        else:
            self._finish(pending)

    def _failed(
        self, message: Message, pending: _Pending, exc: BaseException | None = None
    ) -> None:
        # Not acknowledged: the broker sends it again after the next reconnection.
        self.failed += 1
        log.error(
            "MQTT message on %s failed; left unacknowledged",
            message.topic,
            exc_info=exc if exc is not None else True,
        )
        pending.generation = -1
        self._finish(pending)

    def _finish(self, pending: _Pending) -> None:
        pending.done = True
        self._ack_ready()

    def _ack_ready(self) -> None:
        acks = self._acks
        generation = self._generation
        while acks and acks[0].done:
            head = acks.popleft()
            if head.generation == generation and head.qos > 0 and self._sock is not None:
                self.client.ack(head.mid, head.qos)
