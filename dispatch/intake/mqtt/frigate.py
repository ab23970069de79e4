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
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, Literal

import httpx
import msgspec

from dispatch.intake.district_codes import resolve, unknown
from dispatch.intake.mqtt.client import Message
from dispatch.intake.mqtt.settings import MqttSettings
from dispatch.jurisdiction import DISTRICT_WIDTH
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


class ReviewData(msgspec.Struct):
    """`data` of a Frigate review item: the tracked objects' event ids (those of
    `frigate/events`), their labels and the zones they entered (the rest ignored)."""

    detections: list[_Id] = []
    objects: list[_Name] = []
    zones: list[str] = []


class ReviewItem(msgspec.Struct):
    """A review item (`before`/`after` of `frigate/reviews`, Frigate 0.14+)."""

    id: _Id
    camera: _Name
    severity: Literal["alert", "detection"]
    data: ReviewData
    start_time: float = 0.0
    end_time: float | None = None


class FrigateReview(msgspec.Struct):
    """A `frigate/reviews` message."""

    type: Literal["new", "update", "end"]
    after: ReviewItem
    before: ReviewItem | None = None


_decode_review = msgspec.json.Decoder(FrigateReview).decode
SEVERITY = {"detection": 0, "alert": 1}


class _RecordData(msgspec.Struct):
    """`data` of Frigate's event record (0.13 on): the scores live there."""

    score: float | None = None
    top_score: float | None = None


class FrigateRecord(msgspec.Struct):
    """An event as Frigate's `GET /api/events` lists it (the fields we read)."""

    id: _Id
    camera: _Name
    label: _Name
    start_time: float
    end_time: float | None = None
    false_positive: bool | None = False
    zones: list[str] = []
    has_snapshot: bool = False
    top_score: float | None = None  # up to 0.12; later in `data`
    data: _RecordData | None = None


_decode_records = msgspec.json.Decoder(list[FrigateRecord]).decode
# Frigate's record is read this many events a request, at most this many requests a pass,
# each pass from this long before the previous one began.
# Attempts at an id's first picture before its alert is submitted without one (0.25 s
# apart; then it is fetched again after the commit, nvr_tries times).
FIRST_TRIES = 2
RECONCILE_LIMIT = 100
RECONCILE_PAGES = 20
RECONCILE_OVERLAP = 600.0
# Frigate ids remembered for their snapshots (their `end` forgets them; bounded for ids
# whose end never comes).
KEEP_IDS = 50_000
# Camera names remembered for the desk's intake view (a flood of made-up names stops here).
KEEP_CAMERAS = 500

# The writer's submit: a request in, the future of its answer (after the commit) out.
Submit = Callable[[Request], "asyncio.Future[Answer]"]


class FrigateIntake:
    """Turns Frigate events into DetectRequests for the writer, as the intake's user."""

    def __init__(
        self,
        settings: MqttSettings,
        reference: ReferenceData,
        submit: Submit,
        refusals: RefusalLog,
        has_image: Callable[[int], Awaitable[bool]] | None = None,  # a snapshot stored?
        now: Callable[[], float] = time.time,  # our clock, for the events' own times
    ) -> None:
        self.settings = settings
        self.reference = reference
        self.submit = submit
        self.refusals = refusals
        self.has_image = has_image
        self.now = now
        # Events whose own time was absurd: the alert went ahead on the time received.
        self.bad_times = 0
        self.actor = Actor(settings.frigate_actor, "gateway")
        self.accepted = 0
        self.rejected: Counter[str] = Counter()
        self.snapshots = 0
        self.snapshot_failures = 0
        # Frigate ids whose snapshot went beside their alert (this run): the ones that own it.
        self._owners: dict[str, int] = {}
        self._pictured: dict[str, int] = {}
        # Snapshot fetches started per Frigate id: only the latest one's picture is stored.
        self._fetches: dict[str, int] = {}
        # First pictures being fetched before their alert is submitted, by Frigate id.
        self._prefetching: dict[str, asyncio.Future[None]] = {}
        # Frigate ids seen (over MQTT or in Frigate's record): the record's pass skips them.
        self._seen: dict[str, int] = {}
        self._since: float | None = None  # where the next pass of Frigate's record begins
        self.reconciled = 0
        self.reviews = 0  # frigate/reviews messages read
        self.from_reviews = 0  # detections a review brought before frigate/events did
        # Frigate camera name -> [events, when the last came (wall clock)], for the desk.
        self.cameras: dict[str, list[float]] = {}
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

    def handle(self, message: Message) -> asyncio.Future[None] | None:
        """One `frigate/events` message: None when it is refused (done), else the future of
        its commit."""
        if len(message.payload) > self.settings.max_payload:
            self.reject("oversized", "%d bytes", len(message.payload))
            return None
        try:
            event = _decode(message.payload)
        except msgspec.ValidationError as exc:  # a DecodeError too: caught first
            self.reject("schema", "%s", str(exc))
            return None
        except msgspec.DecodeError as exc:
            self.reject("malformed", "%s", str(exc))
            return None
        self._remember(self._seen, event.after.id, 1)
        return self.take(event)

    def handle_review(self, message: Message) -> asyncio.Future[None] | None:
        """One `frigate/reviews` message: each of its detections not yet brought by
        `frigate/events` (nor by Frigate's record) fed in under its own event id, so that
        the same detection never makes two alerts whichever topic brings it first. Its kind
        comes from the review's objects and zones (`label@zone` first) when they name one
        kind; with several, which detection is which is not said: those are left to
        `frigate/events` and the record (counted `ambiguous`). None when nothing is
        submitted (done), else the future of the commits."""
        if len(message.payload) > self.settings.max_payload:
            self.reject("oversized", "%d bytes", len(message.payload))
            return None
        try:
            review = _decode_review(message.payload)
        except msgspec.ValidationError as exc:
            self.reject("schema", "review: %s", str(exc))
            return None
        except msgspec.DecodeError as exc:
            self.reject("malformed", "review: %s", str(exc))
            return None
        item = review.after
        self.reviews += 1
        if SEVERITY[item.severity] < SEVERITY[self.settings.review_severity]:
            self.rejected["below_severity"] += 1  # our choice, not an error to log
            return None
        kinds = {
            kind
            for label in item.data.objects
            if (kind := self._kind_of(item.camera, label, item.data.zones)) is not None
        }
        if not kinds:
            self.reject(
                "unmapped_label",
                "review %s: labels %s (camera %s) map to no kind",
                item.id,
                ",".join(item.data.objects) or "none",
                item.camera,
            )
            return None
        fresh = [d for d in item.data.detections if d not in self._seen]
        if not fresh:
            return None  # every detection came through frigate/events already
        if len(kinds) > 1:
            self.rejected["ambiguous"] += len(fresh)
            return None
        (kind,) = kinds
        label = next(
            label
            for label in item.data.objects
            if self._kind_of(item.camera, label, item.data.zones) == kind
        )
        waiting: list[asyncio.Future[None]] = []
        for detection in fresh:
            self._remember(self._seen, detection, 1)
            obj = FrigateObject(
                id=detection,
                camera=item.camera,
                label=label,
                start_time=item.start_time,
                end_time=item.end_time,
                entered_zones=list(item.data.zones),
            )
            ended: Literal["end", "update"] = "end" if review.type == "end" else "update"
            future = self.take(FrigateEvent(type=ended, after=obj))
            if future is not None:
                waiting.append(future)
        if not waiting:
            return None
        self.from_reviews += len(waiting)
        return asyncio.ensure_future(_all(waiting))

    def _kind_of(self, camera: str, label: str, zones: list[str]) -> str | None:
        return self._kind(FrigateObject(id="-", camera=camera, label=label, entered_zones=zones))

    def take(self, event: FrigateEvent) -> asyncio.Future[None] | None:
        """A Frigate event read (from MQTT or Frigate's own record): None when it is refused
        (done), else the future of its commit."""
        after = event.after
        self._saw(after.camera)
        if after.false_positive:
            self.rejected["false_positive"] += 1  # Frigate's own: not an error to log
            return None
        camera = self._camera(after.camera)
        if camera is None:
            self.reject("unknown_camera", "camera %s is not mapped", after.camera)
            return None
        kind = self._kind(after)
        if kind is None:
            self.reject(
                "unmapped_label", "label %s (camera %s) maps to no kind", after.label, after.camera
            )
            return None
        # Submitted in the order the messages came: the writer applies them in that order,
        # so a Frigate id's update never overtakes its new. The message is done
        # (acknowledged) when the alert is committed, and its snapshot if one is fetched.
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        score = after.top_score or after.score
        ahead = self._prefetching.get(after.id)
        if ahead is not None:
            # The id's first picture is being fetched to go with its alert: after it.
            ahead.add_done_callback(lambda _: self._send(event, camera, kind, score, done))
        elif (
            after.has_snapshot
            and self.http is not None
            and after.id not in self._fetches
            and after.id not in self._pictured
        ):
            # Noted now, not when the task starts: the id's next message may come first.
            gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._prefetching[after.id] = gate
            self._remember(self._fetches, after.id, 1)
            asyncio.get_running_loop().create_task(
                self._fetch_then_send(event, camera, kind, score, done, gate)
            )
        else:
            self._send(event, camera, kind, score, done)
        return done

    def _saw(self, name: str) -> None:
        seen = self.cameras.get(name)
        if seen is None:
            if len(self.cameras) >= KEEP_CAMERAS:
                return
            seen = self.cameras[name] = [0, 0.0]
        seen[0] += 1
        seen[1] = time.time()

    def seen(self) -> list[dict[str, Any]]:
        """The Frigate cameras heard of this run: our camera each maps to ("" none), how
        many events came and when the last did."""
        out = []
        for name, (count, last) in sorted(self.cameras.items()):
            camera = self.settings.cameras.get(name)
            if camera is None and name in self.reference.cameras:
                camera = name
            if camera is not None and camera not in self.reference.cameras:
                camera = None
            out.append(
                {"name": name, "camera": camera or "", "events": int(count), "last_at": last}
            )
        return out

    def _send(
        self,
        event: FrigateEvent,
        camera: str,
        kind: str,
        score: float,
        done: asyncio.Future[None],
        image: Image | None = None,
    ) -> None:
        """Submit the detection (with its picture, if fetched first)."""
        request = DetectRequest(
            camera,
            kind,
            score,
            image,
            actor=self.actor,
            external_id=event.after.id,
            observed_at=self._observed(event.after),
        )
        committed = self.submit(request)
        committed.add_done_callback(
            lambda f: self._committed(f.result(), event, camera, kind, score, done, image)
        )

    async def _fetch_then_send(
        self,
        event: FrigateEvent,
        camera: str,
        kind: str,
        score: float,
        done: asyncio.Future[None],
        gate: asyncio.Future[None],
    ) -> None:
        """The first picture of an id, fetched before its alert is submitted (briefly: a
        wall that shows the alert asks for its picture at once); the id's later messages wait
        for this one's submission."""
        event_id = event.after.id
        image = None
        try:
            image = await self._snapshot(event_id, FIRST_TRIES, quiet=True)
        finally:
            self._send(event, camera, kind, score, done, image)
            self._prefetching.pop(event_id, None)
            gate.set_result(None)

    def _observed(self, obj: FrigateObject) -> float | None:
        """The event's own time (its start_time), or None when it has none or an absurd
        one: then the alert keeps only the time it was received (logged and counted; the
        alert itself goes ahead, a camera's clock is no reason to lose what it saw)."""
        if obj.start_time <= 0:
            return None
        fault = self.settings.time_fault(obj.start_time, self.now())
        if fault is None:
            return obj.start_time
        self.bad_times += 1
        self.refusals.note(
            log,
            "frigate",
            "MQTT frigate event time refused (time): event %s of camera %s: its start_time is %s; "
            "its alert takes the time it was received",
            obj.id,
            obj.camera,
            fault,
        )
        return None

    def _kind(self, obj: FrigateObject) -> str | None:
        """The detection kind of the object's label (`label@zone` first) among the kinds
        of its camera's district: a label mapped to a kind that district lacks (or keyed
        by another district) is passed over; a label that is one of its kinds is that
        kind (a model trained on our own kinds)."""
        camera = self.reference.cameras.get(self._camera(obj.camera) or "")
        street = camera.street if camera is not None else self.reference.first
        district = street[:DISTRICT_WIDTH]
        kinds = self.reference.kinds_of(street)
        labels = self.settings.labels
        for key in (*(f"{obj.label}@{zone}" for zone in obj.entered_zones), obj.label):
            mapped = labels.get(key)
            kind = resolve(mapped, district, kinds) if mapped is not None else None
            if kind is not None:
                return kind
        return obj.label if obj.label in kinds else None

    def _camera(self, name: str) -> str | None:
        """Our camera code of a Frigate camera name (mapped, or our code itself)."""
        camera = self.settings.cameras.get(name)
        if camera is None and name in self.reference.cameras:
            camera = name
        return camera if camera in self.reference.cameras else None

    def _committed(
        self,
        answer: Answer,
        event: FrigateEvent,
        camera: str,
        kind: str,
        score: float,
        done: asyncio.Future[None],
        image: Image | None = None,
    ) -> None:
        after = event.after
        if not answer.ok:
            self.reject(answer.code or "refused", "%s", answer.message)
            done.set_result(None)
            return
        self.accepted += 1
        alert_id = int(answer.data["alert"])
        if not answer.data.get("repeat"):
            self._remember(self._owners, after.id, alert_id)
        if image is not None and answer.data.get("image"):
            self.snapshots += 1
            self._remember(self._pictured, after.id, alert_id)
        if not after.has_snapshot or self.http is None:
            done.set_result(None)
            return
        retry = image is None and after.id not in self._pictured  # the first fetch failed
        task = asyncio.get_running_loop().create_task(
            self._picture(event, camera, kind, score, alert_id, retry)
        )
        task.add_done_callback(lambda t: _chain(t, done))

    async def _picture(
        self,
        event: FrigateEvent,
        camera: str,
        kind: str,
        score: float,
        alert_id: int,
        retry: bool = False,
    ) -> None:
        """The snapshot of the Frigate id that raised the alert, after its commit: at its end
        (Frigate's best frame by then), or when the brief first fetch failed (`retry`)."""
        after = event.after
        fetch = event.type == "end" or retry
        if fetch and after.id not in self._owners:
            # Not the id that raised the alert this run: fetch only when the alert has no
            # picture yet (after a restart: ours is stored, or another hit's is).
            fetch = self.has_image is not None and not await self.has_image(alert_id)
        if not fetch:
            return
        ticket = self._fetches.get(after.id, 0) + 1
        self._remember(self._fetches, after.id, ticket)
        image = await self._snapshot(after.id)
        if image is None or self._fetches.get(after.id) != ticket:
            return  # none, or a later fetch (the end's) is under way: its picture wins
        stored = await self._submit(
            DetectRequest(camera, kind, score, image, actor=self.actor, external_id=after.id)
        )
        if stored.ok and stored.data.get("image"):
            self.snapshots += 1
            self._remember(self._owners, after.id, alert_id)
            self._remember(self._pictured, after.id, alert_id)
        if event.type == "end":
            self._owners.pop(after.id, None)
            self._pictured.pop(after.id, None)
            self._fetches.pop(after.id, None)

    @staticmethod
    def _remember(table: dict[str, int], key: str, value: int) -> None:
        table[key] = value
        if len(table) > KEEP_IDS:  # ids whose end never came: forget the oldest
            for old in list(table)[: KEEP_IDS // 10]:
                del table[old]

    async def _submit(self, request: Request) -> Answer:
        answer: Answer = await self.submit(request)
        return answer

    async def reconcile(self) -> int:
        """Frigate's own record of its events (`GET /api/events?after=`) since the last pass
        (an hour back at the first), each one MQTT has not brought fed in like an `end` or
        `update` message: Frigate publishes at QoS 0 by default and drops what it publishes
        while it is disconnected, so MQTT alone can miss events. The number fed in."""
        assert self.http is not None
        started = time.time()
        since = self._since if self._since is not None else started - self.settings.reconcile_window
        url = f"{self.settings.nvr_url.rstrip('/')}/api/events"
        fed = 0
        waiting: list[asyncio.Future[None]] = []
        for page in range(RECONCILE_PAGES):
            params = {
                "after": f"{since:.6f}",
                "limit": str(RECONCILE_LIMIT),
                "offset": str(page * RECONCILE_LIMIT),
                "include_thumbnails": "0",
            }
            response = await self.http.get(url, params=params)
            response.raise_for_status()
            records = _decode_records(response.content)
            for record in records:
                if record.id in self._seen or record.false_positive:
                    continue
                self._remember(self._seen, record.id, 1)
                data = record.data or _RecordData()
                top = data.top_score if data.top_score is not None else record.top_score
                obj = FrigateObject(
                    id=record.id,
                    camera=record.camera,
                    label=record.label,
                    score=data.score or 0.0,
                    top_score=top or 0.0,
                    has_snapshot=record.has_snapshot,
                    start_time=record.start_time,
                    end_time=record.end_time,
                    current_zones=[],
                    entered_zones=list(record.zones),
                )
                ended = record.end_time is not None
                future = self.take(FrigateEvent(type="end" if ended else "update", after=obj))
                fed += 1
                if future is not None:
                    waiting.append(future)
            if len(records) < RECONCILE_LIMIT:
                break
        if waiting:
            await asyncio.gather(*waiting, return_exceptions=True)
        # The next pass overlaps this one: an event may be recorded a little after it began.
        self._since = started - RECONCILE_OVERLAP
        self.reconciled += fed
        if fed:
            log.info("Frigate's record gave %d events MQTT had not brought", fed)
        return fed

    async def reconcile_forever(self) -> None:
        """`reconcile` every `reconcile_every` seconds (the first pass at once)."""
        while True:
            try:
                await self.reconcile()
            except (httpx.HTTPError, msgspec.DecodeError) as exc:
                self.refusals.note(
                    log,
                    "frigate",
                    "Frigate's event record unreadable (%s): again in %g s",
                    f"{type(exc).__name__}: {exc}",
                    self.settings.reconcile_every,
                    level=logging.WARNING,
                )
            await asyncio.sleep(self.settings.reconcile_every)

    async def _snapshot(
        self, event_id: str, tries: int | None = None, quiet: bool = False
    ) -> Image | None:
        """The event's snapshot from the NVR, retried with a growing pause while it is slow,
        fails or has none yet (404 while Frigate writes it); `quiet`: a failure is neither
        counted nor logged (it is tried again)."""
        assert self.http is not None
        url = f"{self.settings.nvr_url.rstrip('/')}/api/events/{event_id}/snapshot.jpg"
        pause = 0.25
        problem = ""
        for attempt in range(tries or self.settings.nvr_tries):
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
        if quiet:
            return None
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


async def _all(futures: list[asyncio.Future[None]]) -> None:
    """Every one done (the first failure raised: the message stays unacknowledged)."""
    for future in futures:
        await future


def _chain(task: asyncio.Task[None], done: asyncio.Future[None]) -> None:
    """Pass the outcome of `task` (its exception: the message stays unacknowledged) on."""
    if task.cancelled():
        done.cancel()
    elif task.exception() is not None:
        done.set_exception(task.exception())  # type: ignore[arg-type]
    else:
        done.set_result(None)


def label_problems(labels: Mapping[str, str], reference: ReferenceData) -> list[str]:
    """[intake.mqtt.labels] entries naming no detection kind of any district the store
    serves (a kind bare or keyed by its district: district_codes.py)."""
    tables = {district: reference.kinds_of(district) for district in reference.districts}
    return [
        f"[intake.mqtt.labels] {label!r}: unknown detection kind {kind!r} ({why})"
        for label, kind in labels.items()
        if (why := unknown(kind, tables)) is not None
    ]
