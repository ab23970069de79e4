"""Smart-scene sensor readings (`tongguan/sensors/<kind>/<device>`) -> cases, with hysteresis.

A reading on the alarm side of its threshold opens a case of the kind's sensor category
(report_batch, as the intake's user, the external id `<device>@<reading time in ms>`: a
reading sent again makes nothing twice). While the device is in alarm no other case opens:
the alarm ends only when its readings have stayed on the safe side, past the threshold by
the kind's band, for the kind's `clear_after` seconds. A flapping sensor makes one case.
At start the devices with an open case of theirs are taken as in alarm (a restart does not
open a second case). Payloads and rules: docs/intake.md.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import msgspec

from dispatch.intake.mqtt.client import Message
from dispatch.intake.mqtt.frigate import Submit
from dispatch.intake.mqtt.settings import MqttSettings
from dispatch.logs import RefusalLog
from dispatch.state import Actor, Outcome, State
from dispatch.writer import Answer, CallRequest, CommandRequest
from protocol import commands as c
from protocol.entities import OPEN_STATUSES, Intake

log = logging.getLogger("dispatch.intake.sensors")

DeviceId = Annotated[
    str, msgspec.Meta(min_length=1, max_length=48, pattern="\\A[A-Za-z0-9_.:-]+\\Z")
]


class Reading(msgspec.Struct, forbid_unknown_fields=True):
    """A sensor's reading as published (docs/intake.md)."""

    device: DeviceId
    kind: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    reading: float
    time: datetime  # ISO 8601 with its offset
    threshold: float | None = None  # the device's own; else the rule's
    unit: Annotated[str, msgspec.Meta(max_length=16)] = ""


_decode = msgspec.json.Decoder(Reading).decode


@dataclass(slots=True)
class _DeviceState:
    active: bool = False  # in alarm: a case is open for this episode
    clear_since: float | None = None  # first safe reading of a run of them
    last: float = float("-inf")  # time of the newest reading seen
    value: float | None = None  # that reading (shown in the desk's intake view)
    readings: int = 0  # readings taken from this device (this run)


class SensorIntake:
    """Applies the rules of MqttSettings.rules to readings of registered devices."""

    def __init__(
        self,
        settings: MqttSettings,
        submit: Submit,
        refusals: RefusalLog,
        now: Callable[[], float] = time.time,  # our clock, for the readings' own times
    ) -> None:
        self.settings = settings
        self.now = now
        self.submit = submit
        self.refusals = refusals
        self.actor = Actor(settings.sensor_actor, "gateway")
        self.devices: dict[str, _DeviceState] = {}
        self.readings = 0
        self.cases = 0
        self.rejected: Counter[str] = Counter()

    async def load(self) -> None:
        """Devices with an open case of their own are in alarm (after a restart)."""
        registered = set(self.settings.devices)

        def open_devices(state: State, _now: float) -> Outcome:
            found = sorted(
                {
                    e.reporter
                    for e in state.events.values()
                    if e.source == "sensor"
                    and e.reporter in registered
                    and e.status in OPEN_STATUSES
                }
            )
            return Outcome([], {"devices": found})

        answer: Answer = await self.submit(CallRequest(open_devices))
        for device in answer.data.get("devices", []):
            self.devices[str(device)] = _DeviceState(active=True)
        if answer.data.get("devices"):
            log.info("sensors in alarm with an open case: %s", ", ".join(answer.data["devices"]))

    def seen(self) -> list[dict[str, Any]]:
        """Every registered device: its kind and name, its readings this run, the newest
        one's value and time (the device's clock), and whether it is in alarm."""
        out = []
        for device in sorted(self.settings.devices.values(), key=lambda d: d.id):
            state = self.devices.get(device.id)
            out.append(
                {
                    "device": device.id,
                    "kind": device.kind,
                    "name": device.name,
                    "readings": state.readings if state else 0,
                    "value": state.value if state else None,
                    "at": state.last if state and state.readings else None,
                    "alarm": bool(state and state.active),
                }
            )
        return out

    def reject(self, reason: str, message: str, *args: object) -> None:
        """Count and log (rate-limited) a reading refused as a whole: nothing was stored."""
        self.rejected[reason] += 1
        self.refusals.note(
            log, "sensors", "MQTT sensor reading refused (%s): " + message, reason, *args
        )

    async def handle(self, message: Message) -> None:
        """One reading."""
        if len(message.payload) > self.settings.max_payload:
            self.reject("oversized", "%d bytes on %s", len(message.payload), message.topic)
            return
        try:
            reading = _decode(message.payload)
        except msgspec.ValidationError as exc:  # a DecodeError too: caught first
            self.reject("schema", "%s on %s", str(exc), message.topic)
            return
        except msgspec.DecodeError as exc:
            self.reject("malformed", "%s on %s", str(exc), message.topic)
            return
        if reading.time.tzinfo is None:
            self.reject("schema", "time %s has no UTC offset", reading.time.isoformat())
            return
        prefix = self.settings.sensor_topic.rstrip("/")
        if message.topic != f"{prefix}/{reading.kind}/{reading.device}":
            self.reject(
                "topic", "%s/%s published on %s", reading.kind, reading.device, message.topic
            )
            return
        device = self.settings.devices.get(reading.device)
        if device is None:
            self.reject("unknown_device", "device %s is not registered", reading.device)
            return
        if device.kind != reading.kind:
            self.reject(
                "kind", "device %s is a %s sensor, not %s", device.id, device.kind, reading.kind
            )
            return
        at = reading.time.timestamp()
        fault = self.settings.time_fault(at, self.now())
        if fault is not None:
            # Refused whole: the rules run on the device's time, and one reading from the
            # far future would make every later true one "older than one already weighed".
            self.reject("time", "device %s reading at %s is %s", device.id, reading.time, fault)
            return
        self.readings += 1
        rule = self.settings.rules[device.kind]
        threshold = rule.threshold if reading.threshold is None else reading.threshold
        value = reading.reading
        if rule.direction == "below":
            alarming, safe = value < threshold, value >= threshold + rule.band
        else:
            alarming, safe = value >= threshold, value < threshold - rule.band
        state = self.devices.setdefault(device.id, _DeviceState())
        state.readings += 1
        if at < state.last:
            return  # older than one already weighed (sent again, or late): no say
        state.last = at
        state.value = value
        if state.active:
            if not safe:
                state.clear_since = None
            elif state.clear_since is None:
                state.clear_since = at
            if state.clear_since is not None and at - state.clear_since >= rule.clear_after:
                state.active = False
                state.clear_since = None
                log.info("sensor %s back to normal (%s %s)", device.id, value, rule.unit)
            return
        if not alarming:
            return
        state.active = True  # before the await: a second alarm reading meanwhile opens nothing
        unit = reading.unit or rule.unit
        when = reading.time.isoformat(timespec="seconds")
        report = c.BatchReport(
            category=rule.category,
            title=f"{rule.title}（{device.name or device.id}）",
            lon=device.lon,
            lat=device.lat,
            source="sensor",
            description=f"{device.kind} 读数 {value:g}{unit}，阈值 {threshold:g}{unit}（{when}）",
            address=device.address,
            reporter=device.id,
            external_id=f"{device.id}@{round(at * 1000)}",
            # The device and the time of its reading, kept on the case (the desk shows when
            # it happened beside when it was received).
            intake=Intake(
                channel="sensor",
                ref=device.id,
                peer=self.actor.name,
                place="point",
                confidence=1.0,
                observed_at=at,
            ),
        )
        answer: Answer = await self.submit(
            CommandRequest(self.actor, "report_batch", c.ReportBatch(reports=[report]))
        )
        item = answer.data["reports"][0] if answer.ok else None
        if item is None or item.error:
            state.active = False
            why = answer.message if item is None else f"{item.error}: {item.message}"
            self.reject("refused", "device %s: %s", device.id, why)
            return
        if not item.repeat:
            self.cases += 1
            log.info("sensor %s alarm: case %s (%s %s)", device.id, item.code, value, unit)
