"""Camera alerts (Frigate's `frigate/events`) and smart-scene sensors over MQTT.

`MqttIntake` connects to the broker with a persistent session and feeds the backend's
writer: camera detections as DetectRequests, sensor alarms as report_batch commands, each
as the intake's own user (audit log). A message is acknowledged after its commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, Protocol

from dispatch.clock import Clock
from dispatch.intake.mqtt.client import Consumer, Handler
from dispatch.intake.mqtt.frigate import FrigateIntake
from dispatch.intake.mqtt.sensors import SensorIntake
from dispatch.intake.mqtt.settings import MqttSettings
from dispatch.intake.submit import Submit
from dispatch.logs import RefusalLog
from dispatch.reference import ReferenceData
from dispatch.store.store import Store

log = logging.getLogger("dispatch.intake.mqtt")

__all__ = ["Backend", "MqttIntake", "MqttSettings"]


class Backend(Protocol):
    """What the intake uses of the backend (the intakes' Context, or a DispatchServer)."""

    @property
    def store(self) -> Store:
        """The store (snapshots already kept)."""
        ...

    @property
    def reference(self) -> ReferenceData:
        """The district (cameras)."""
        ...

    @property
    def submit(self) -> Submit:
        """The writer's way in."""
        ...

    @property
    def clock(self) -> Clock:
        """The district clock (what a source's own times are checked against)."""
        ...


class MqttIntake:
    """The MQTT intake of one backend: started after the writer, stopped before it
    (dispatch/intake/mqtt_part.py runs it as the `[intake.mqtt]` intake)."""

    def __init__(self, server: Backend, settings: MqttSettings) -> None:
        self.server = server
        self.settings = settings
        self.refusals = RefusalLog()
        self.frigate: FrigateIntake | None = None
        self.sensors: SensorIntake | None = None
        self.consumer: Consumer | None = None
        self._reconciling: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect (in the background: a broker that is down is retried with backoff)."""
        settings, server = self.settings, self.server
        # httpx logs every request at INFO: a line per snapshot would drown the log.
        logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger("httpx").level))
        topics: dict[str, Handler] = {}
        if settings.frigate_topic:
            now: Callable[[], float] = server.clock.now
            self.frigate = FrigateIntake(
                settings, server.reference, server.submit, self.refusals, self._has_image, now
            )
            topics[settings.frigate_topic] = self.frigate.handle
            if settings.frigate_reviews_topic:
                topics[settings.frigate_reviews_topic] = self.frigate.handle_review
        if settings.sensor_topic:
            self.sensors = SensorIntake(settings, server.submit, self.refusals, server.clock.now)
            await self.sensors.load()
            topics[f"{settings.sensor_topic.rstrip('/')}/+/+"] = self.sensors.handle
        if not topics:
            log.warning("MQTT intake configured with no topic: nothing to do")
            return
        self.consumer = Consumer(settings, topics, asyncio.get_running_loop())
        self.consumer.start()
        if self.frigate is not None and self.frigate.http is not None and settings.reconcile_every:
            self._reconciling = asyncio.create_task(
                self.frigate.reconcile_forever(), name="frigate-reconcile"
            )
        log.info(
            "MQTT intake: broker %s:%d, topics %s", settings.host, settings.port, ", ".join(topics)
        )

    async def _has_image(self, alert_id: int) -> bool:
        return await asyncio.to_thread(self.server.store.image, alert_id) is not None

    async def stop(self) -> None:
        """Finish the messages under way (acknowledged), disconnect, say what was refused."""
        if self._reconciling is not None:
            self._reconciling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconciling
        if self.consumer is not None:
            await self.consumer.stop()
        if self.frigate is not None:
            await self.frigate.close()
        self.refusals.close()
        log.info("MQTT intake stopped: %s", self.stats())

    def health(self) -> dict[str, Any]:
        """For the desk's intake view: the broker, whether we are connected, the counts,
        when the last message came, the cameras heard of and the registered sensors."""
        consumer = self.consumer
        out: dict[str, Any] = {
            "broker": f"{self.settings.host}:{self.settings.port}",
            "connected": consumer is not None and consumer.connected.is_set(),
            "last_at": consumer.last_at if consumer is not None else None,
            **self.stats(),
        }
        if self.frigate is not None:
            out["cameras"] = self.frigate.seen()
        if self.sensors is not None:
            out["devices"] = self.sensors.seen()
        return out

    def stats(self) -> dict[str, Any]:
        """Counts: received, accepted, rejected by reason, snapshots, cases."""
        out: dict[str, Any] = {}
        if self.consumer is not None:
            out["received"] = self.consumer.received
            out["failed"] = self.consumer.failed
            out["connects"] = self.consumer.connects
        if self.frigate is not None:
            out["frigate"] = {
                "accepted": self.frigate.accepted,
                "rejected": dict(self.frigate.rejected),
                "snapshots": self.frigate.snapshots,
                "snapshot_failures": self.frigate.snapshot_failures,
                "reconciled": self.frigate.reconciled,
                "bad_times": self.frigate.bad_times,
                "reviews": self.frigate.reviews,
                "from_reviews": self.frigate.from_reviews,
            }
        if self.sensors is not None:
            out["sensors"] = {
                "readings": self.sensors.readings,
                "cases": self.sensors.cases,
                "rejected": dict(self.sensors.rejected),
            }
        return out
