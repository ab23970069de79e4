"""Frigate's `frigate/events` messages -> camera alerts, snapshots from the NVR's HTTP API.

One alert per Frigate event id (the external id, stored in external_ids under the intake's
user): `new` raises it (or counts one more hit on the open alert of the camera's burst, as
every detection does), `update` and `end` refine it (a higher score, a better snapshot).
The snapshot is fetched from `/api/events/<id>/snapshot.jpg` the first time a message says
`has_snapshot` and again at `end` (Frigate's best frame by then), with retries while the NVR
is slow; the message is acknowledged after the alert and its snapshot are committed (or the
snapshot given up, logged and counted).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Annotated, Any, Literal

import httpx
import msgspec

from dispatch.intake.mqtt.client import Message
from dispatch.intake.mqtt.settings import MqttSettings
from dispatch.logs import RefusalLog
from dispatch.reference import ReferenceData
from dispatch.state import Actor
from dispatch.store.store import Image
from dispatch.writer import Answer, DetectRequest, Request

log = logging.getLogger("dispatch.intake.frigate")

_Id = Annotated[
    str, msgspec.Meta(min_length=1, max_length=64, pattern="\\A[^\\x00-\\x1f\\x7f/]+\\Z")
]
_Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
_Score = Annotated[float, msgspec.Meta(ge=0, le=1)]


class FrigateObject(msgspec.Struct):
    """The fields of Frigate's tracked object (`before`/`after`) we read; the rest (they
    differ by version: docs/intake.md) are ignored."""

    id: _Id
    camera: _Name
    label: _Name
    score: _Score = 0.0
    top_score: _Score = 0.0
    false_positive: bool = False
    has_snapshot: bool = False
    start_time: float = 0.0
    end_time: float | None = None
    current_zones: list[str] = []
    entered_zones: list[str] = []


class FrigateEvent(msgspec.Struct):
    """A `frigate/events` message."""

    type: Literal["new", "update", "end"]
    after: FrigateObject
    before: FrigateObject | None = None


_decode = msgspec.json.Decoder(FrigateEvent).decode

Submit = Any  # Callable[[Request], asyncio.Future[Answer]]


class FrigateIntake:
    """Turns Frigate events into DetectRequests for the writer, as the intake's user."""

    def __init__(
        self,
        settings: MqttSettings,
        reference: ReferenceData,
        submit: Submit,
        refusals: RefusalLog,
        has_image: Any = None,  # Callable[[int], Awaitable[bool]]: is a snapshot stored?
    ) -> None:
        self.settings = settings
        self.reference = reference
        self.submit = submit
        self.refusals = refusals
        self.has_image = has_image
        self.actor = Actor(settings.frigate_actor, "gateway")
        self.accepted = 0
        self.rejected: Counter[str] = Counter()
        self.snapshots = 0
        self.snapshot_failures = 0
        # Frigate ids whose snapshot went beside their alert (this run): the ones that own it.
        self._owners: dict[str, int] = {}
        self._pictured: set[str] = set()
        # Messages of one Frigate id are handled in order (a new one waits for the last).
        self._tails: dict[str, asyncio.Future[None]] = {}
        self.http = httpx.AsyncClient(timeout=settings.nvr_timeout) if settings.nvr_url else None

    async def close(self) -> None:
        """Close the NVR's HTTP client."""
        if self.http is not None:
            await self.http.aclose()

    def reject(self, reason: str, message: str, *args: object) -> None:
        """Count and log (rate-limited) a message refused as a whole: nothing was stored."""
        self.rejected[reason] += 1
        self.refusals.note(
            log, "frigate", "MQTT frigate message refused (%s): " + message, reason, *args
        )

    async def handle(self, message: Message) -> None:
        """One `frigate/events` message."""
        if len(message.payload) > self.settings.max_payload:
            self.reject("oversized", "%d bytes", len(message.payload))
            return
        try:
            event = _decode(message.payload)
        except msgspec.ValidationError as exc:  # a DecodeError too: caught first
            self.reject("schema", "%s", str(exc))
            return
        except msgspec.DecodeError as exc:
            self.reject("malformed", "%s", str(exc))
            return
        after = event.after
        if after.false_positive:
            self.rejected["false_positive"] += 1  # Frigate's own: not an error to log
            return
        camera = self.settings.cameras.get(after.camera)
        if camera is None and after.camera in self.reference.cameras:
            camera = after.camera
        if camera is None or camera not in self.reference.cameras:
            self.reject("unknown_camera", "camera %s is not mapped", after.camera)
            return
        kind = self._kind(after)
        if kind is None:
            self.reject(
                "unmapped_label", "label %s (camera %s) maps to no kind", after.label, after.camera
            )
            return
        previous = self._tails.get(after.id)
        tail: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[after.id] = tail
        try:
            if previous is not None:
                await asyncio.shield(previous)
            await self._apply(event, camera, kind)
        finally:
            tail.set_result(None)
            if self._tails.get(after.id) is tail:
                del self._tails[after.id]

    def _kind(self, obj: FrigateObject) -> str | None:
        labels = self.settings.labels
        for zone in obj.entered_zones:
            kind = labels.get(f"{obj.label}@{zone}")
            if kind is not None:
                return kind
        kind = labels.get(obj.label)
        if kind is None and obj.label in self.reference.camera_kinds:
            kind = obj.label  # a model trained on our own kinds
        return kind

    async def _apply(self, event: FrigateEvent, camera: str, kind: str) -> None:
        after = event.after
        score = after.top_score or after.score
        answer = await self._submit(
            DetectRequest(camera, kind, score, actor=self.actor, external_id=after.id)
        )
        if not answer.ok:
            self.reject(answer.code or "refused", "%s", answer.message)
            return
        self.accepted += 1
        alert_id = int(answer.data["alert"])
        if not answer.data.get("repeat"):
            self._owners[after.id] = alert_id
        if not after.has_snapshot or self.http is None:
            return
        fetch = event.type == "end" or after.id not in self._pictured
        if fetch and after.id not in self._owners:
            # Not the id that raised the alert this run: fetch only when the alert has no
            # picture yet (after a restart: ours is stored, or another hit's is).
            fetch = self.has_image is not None and not await self.has_image(alert_id)
        if not fetch:
            return
        image = await self._snapshot(after.id)
        if image is None:
            return
        stored = await self._submit(
            DetectRequest(camera, kind, score, image, actor=self.actor, external_id=after.id)
        )
        if stored.ok and stored.data.get("image"):
            self.snapshots += 1
            self._owners[after.id] = alert_id
            self._pictured.add(after.id)
        if event.type == "end":
            self._owners.pop(after.id, None)
            self._pictured.discard(after.id)

    async def _submit(self, request: Request) -> Answer:
        answer: Answer = await self.submit(request)
        return answer

    async def _snapshot(self, event_id: str) -> Image | None:
        """The event's snapshot from the NVR, retried with a growing pause while it is slow,
        fails or has none yet (404 while Frigate writes it)."""
        assert self.http is not None
        url = f"{self.settings.nvr_url.rstrip('/')}/api/events/{event_id}/snapshot.jpg"
        pause = 0.25
        problem = ""
        for attempt in range(self.settings.nvr_tries):
            if attempt:
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)
            try:
                response = await self.http.get(url)
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code != 200:
                problem = f"HTTP {response.status_code}"
                continue
            body = response.content
            content_type = response.headers.get("content-type", "").split(";")[0].strip()
            if not content_type.startswith("image/") or not body:
                problem = f"not an image ({content_type or 'no content type'})"
                break
            if len(body) > self.settings.snapshot_max:
                problem = f"{len(body)} bytes"
                break
            return Image(content_type, body)
        self.snapshot_failures += 1
        self.refusals.note(
            log,
            "frigate",
            "snapshot of Frigate event %s not stored: %s",
            event_id,
            problem,
            level=logging.WARNING,
        )
        return None
