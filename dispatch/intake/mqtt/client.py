"""The MQTT consumer: paho on its own network thread, each message handled on the event loop
and acknowledged (PUBACK) only once its handler has finished, i.e. after the commit.

MQTT 5 with a fixed client id, Clean Start off and a Session Expiry Interval: the broker
keeps our subscriptions and queues QoS 1 messages while we are away (broker restart, backend
restart), and sends again whatever we had not acknowledged. Acknowledgements go out in the
order the messages came (MQTT requires it for QoS 1); those of a connection that has since
dropped are never sent (their message ids may be reused): the broker sends those messages
again and the handlers, idempotent by the message's own ids, make nothing twice.
Reconnection is paho's, with a capped exponential backoff.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from dispatch.intake.mqtt.settings import MqttSettings

log = logging.getLogger("dispatch.intake.mqtt")


@dataclass(frozen=True, slots=True)
class Message:
    """A received message as the handlers see it."""

    topic: str
    payload: bytes
    qos: int
    retain: bool


Handler = Callable[[Message], Awaitable[None]]


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
        self.failed = 0  # handlers that raised (the message is not acknowledged)
        self._generation = 0  # bumped at each (re)connection
        self._acks: deque[_Pending] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = threading.Lock()
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            protocol=paho.MQTTv5,
            manual_ack=True,
        )
        if settings.username:
            client.username_pw_set(settings.username, settings.password or None)
        client.reconnect_delay_set(
            min_delay=max(1, round(settings.reconnect_min)),
            max_delay=max(1, round(settings.reconnect_max)),
        )
        client.max_inflight_messages_set(settings.receive_maximum)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        self.client = client

    def start(self) -> None:
        """Connect in the background; paho's thread reconnects after any loss."""
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.settings.session_expiry
        props.ReceiveMaximum = self.settings.receive_maximum
        self.client.connect_async(
            self.settings.host,
            self.settings.port,
            keepalive=self.settings.keepalive,
            clean_start=False,
            properties=props,
        )
        self.client.loop_start()

    async def stop(self) -> None:
        """Let running handlers finish (their messages acknowledged), then disconnect."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10)
        await asyncio.sleep(0)  # the last acknowledgements leave on paho's thread
        self.client.disconnect()
        await asyncio.to_thread(self.client.loop_stop)

    # ---- paho's thread ---------------------------------------------------------------------

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
        with self._lock:
            self._generation += 1
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
        self.loop.call_soon_threadsafe(self.connected.set)

    def _on_disconnect(
        self,
        _client: paho.Client,
        _userdata: object,
        _flags: paho.DisconnectFlags,
        reason: ReasonCode,
        _props: Properties | None,
    ) -> None:
        with self._lock:
            self._generation += 1  # acknowledgements still owed are void now
        self.loop.call_soon_threadsafe(self.connected.clear)
        if reason.is_failure:
            log.warning("MQTT connection lost (%s); reconnecting", reason)

    def _on_message(self, _client: paho.Client, _userdata: object, msg: paho.MQTTMessage) -> None:
        with self._lock:
            generation = self._generation
        message = Message(msg.topic, bytes(msg.payload), msg.qos, bool(msg.retain))
        self.loop.call_soon_threadsafe(self._take, message, msg.mid, generation)

    # ---- the event loop --------------------------------------------------------------------

    def _take(self, message: Message, mid: int, generation: int) -> None:
        self.received += 1
        pending = _Pending(mid, message.qos, generation)
        self._acks.append(pending)
        handler = self._handler_of(message.topic)
        task = self.loop.create_task(self._run(handler, message, pending))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _handler_of(self, topic: str) -> Handler:
        for pattern, handler in self.topics.items():
            if paho.topic_matches_sub(pattern, topic):
                return handler
        raise LookupError(topic)  # the broker only sends what we subscribed

    async def _run(self, handler: Handler, message: Message, pending: _Pending) -> None:
        try:
            await handler(message)
        except Exception:
            # Not acknowledged: the broker sends it again after the next reconnection.
            self.failed += 1
            log.exception("MQTT message on %s failed; left unacknowledged", message.topic)
            pending.generation = -1
        pending.done = True
        self._ack_ready()

    def _ack_ready(self) -> None:
        acks = self._acks
        with self._lock:
            generation = self._generation
        while acks and acks[0].done:
            head = acks.popleft()
            if head.generation == generation and head.qos > 0:
                self.client.ack(head.mid, head.qos)
