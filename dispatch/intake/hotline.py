"""12345 work orders: the [intake.hotline] settings, the pushed work order's schema, and the
endpoint that turns each signed push into an event through the writer.

    POST /12345/v1/orders    one work order (JSON, signed: signing.py)

Idempotent by 工单编号 (the peer's external id): a push sent again answers with the same
event and creates nothing. The category comes from the mapping table (mapping.py; unmapped:
the triage queue), the place from the coordinates or the gazetteer (geocode.py). The wire
format is ours (no published one exists): docs/intake.md, played by tests/dispatch/intake/.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from dispatch.intake import signing, submit
from dispatch.intake.config import ConfigError, only, secret, section, take
from dispatch.intake.geocode import Gazetteer, gcj02_to_wgs84
from dispatch.intake.http import Counts, HttpError, error_response, json_response, read_body
from dispatch.intake.mapping import HotlineMapping
from dispatch.intake.outbox import Retry
from dispatch.jurisdiction import DISTRICT_WIDTH
from protocol import commands as c
from protocol.entities import Intake

log = logging.getLogger("dispatch.intake.hotline")
_encode = msgspec.json.Encoder().encode
CHANNEL = "12345"
ORDERS_PATH = "/12345/v1/orders"
BATCH_PATH = "/12345/v1/orders/batch"
BATCH_MAX = 200  # work orders in one batch push
_NAME = re.compile(r"\A[a-z0-9][a-z0-9_.-]{0,62}\Z")
_PHONE = re.compile(r"(?<!\d)(1\d{2})\d{4}(\d{4})(?!\d)")


@dataclass(frozen=True, slots=True)
class Peer:
    """A 12345 platform allowed to push: its name (the audit actor), key and feedback URL."""

    name: str
    key: bytes = b""
    feedback_url: str = ""


@dataclass(frozen=True, slots=True)
class HotlineSettings:
    """[intake.hotline]."""

    enabled: bool
    peers: dict[str, Peer]
    mapping: Path | None = None
    coordinates: Literal["wgs84", "gcj02"] = "wgs84"
    retry: Retry = field(default_factory=Retry)


@section("hotline")
def read_hotline(table: dict[str, Any], base: Path) -> HotlineSettings:
    """[intake.hotline] enabled, mapping, coordinates, [intake.hotline.peers.NAME] key or
    key_file, feedback_url."""
    where = "intake.hotline"
    only(
        table,
        where,
        {
            "enabled",
            "mapping",
            "coordinates",
            "peers",
            "retry_base",
            "retry_cap",
            "feedback_timeout",
        },
    )
    retry = Retry(
        base=take(table, where, "retry_base", float, 1.0),
        cap=take(table, where, "retry_cap", float, 300.0),
        timeout=take(table, where, "feedback_timeout", float, 5.0),
    )
    if not (0 < retry.base <= retry.cap <= 86400 and 0 < retry.timeout <= 300):
        raise ConfigError(
            f"[{where}] retry_base, retry_cap, feedback_timeout: 0 < base <= cap <= 86400,"
            " 0 < timeout <= 300"
        )
    enabled = take(table, where, "enabled", bool, False)
    mapping = take(table, where, "mapping", str, "")
    coordinates = take(table, where, "coordinates", str, "wgs84")
    if coordinates not in ("wgs84", "gcj02"):
        raise ConfigError(f"[{where}] coordinates: wgs84 or gcj02, not {coordinates!r}")
    peers_table = take(table, where, "peers", dict, {})
    peers: dict[str, Peer] = {}
    for name, spec in peers_table.items():
        at = f"{where}.peers.{name}"
        if not _NAME.match(name):
            raise ConfigError(f"[{at}] a peer's name is 1-63 of [a-z0-9_.-]")
        if not isinstance(spec, dict):
            raise ConfigError(f"[{at}] must be a table")
        only(spec, at, {"key", "key_file", "feedback_url"})
        url = take(spec, at, "feedback_url", str, "")
        if url and not url.startswith(("http://", "https://")):
            raise ConfigError(f"[{at}] feedback_url: an http(s) URL, not {url!r}")
        peers[name] = Peer(name, secret(spec, at, base), url)
    if enabled and not peers:
        raise ConfigError(f"[{where}] enabled without any [intake.hotline.peers.NAME]")
    return HotlineSettings(
        enabled,
        peers,
        (base / mapping) if mapping else None,
        "gcj02" if coordinates == "gcj02" else "wgs84",
        retry,
    )


# ---- the work order as pushed ----------------------------------------------------------------

OrderNo = Annotated[
    str, msgspec.Meta(min_length=1, max_length=64, pattern="\\A[^\\x00-\\x1f\\x7f]+\\Z")
]


class WorkOrder(msgspec.Struct, kw_only=True):
    """A 12345 work order (unknown fields are ignored: the platform may send more)."""

    order_no: OrderNo  # 工单编号
    kind: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]  # 诉求类型
    content: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]  # 诉求内容
    address: Annotated[str, msgspec.Meta(max_length=500)] = ""  # 地址
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)] | None = None  # 坐标
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)] | None = None
    crs: Literal["wgs84", "gcj02"] | None = None  # of lon/lat; default: the peer's setting
    caller: Annotated[str, msgspec.Meta(max_length=100)] = ""  # 来电人 (masked)
    appeal: Annotated[str, msgspec.Meta(max_length=20)] = ""  # 咨询/求助/投诉/举报/建议
    title: Annotated[str, msgspec.Meta(max_length=200)] = ""
    received_at: str = ""  # 来电时间, ISO 8601 with offset
    deadline_at: str = ""  # 办理时限, ISO 8601 with offset
    urgent: bool = False


class _Batch(msgspec.Struct):
    """A batch push: its orders are read one by one (a bad one is refused alone)."""

    orders: Annotated[list[Any], msgspec.Meta(min_length=1, max_length=BATCH_MAX)]


def _answer(number: str, item: c.BatchReport, outcome: submit.Outcome) -> dict[str, Any]:
    assert item.intake is not None
    return {
        "ok": True,
        "order_no": number,
        "event": outcome.event,
        "code": outcome.code,
        "repeat": outcome.repeat,
        # What this push would be filed as (a repeat keeps what the first push made).
        "category": item.category,
        "triage": bool(item.intake.triage),
        "place": item.intake.place,
        "confidence": item.intake.confidence,
    }


def _refusal(number: str, reason: str, message: str) -> dict[str, Any]:
    return {"ok": False, "order_no": number, "error": reason, "message": message}


def _content_type(value: str) -> None:
    if value.split(";")[0].strip() != "application/json":
        raise HttpError(415, "unsupported_media_type", "Content-Type must be application/json")


def _content_length(value: str | None, limit: int) -> None:
    """Refuse a declared length that is not a number (400) or over `limit` (413)."""
    if value is None:
        return
    if not value.isdigit():
        raise HttpError(400, "bad_request", "Content-Length is not a number")
    if int(value) > limit:
        raise HttpError(413, "too_large", f"body of {value} bytes exceeds {limit}")


async def _receive_body(receive: Receive, limit: int) -> bytes:
    """An ASGI request's body, refused (413) past `limit` bytes without reading it all."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise HttpError(400, "disconnected", "the client left before sending its body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise HttpError(413, "too_large", f"body exceeds {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _moment(text: str, field: str) -> float | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise HttpError(400, "bad_payload", f"{field}: not an ISO 8601 time: {text!r}") from None
    if moment.tzinfo is None:
        raise HttpError(400, "bad_payload", f"{field}: the time needs an offset (+08:00)")
    return moment.timestamp()


def mask(caller: str) -> str:
    """A caller with any mobile number's middle four digits hidden (the platform should have
    masked it; we never store it whole)."""
    return _PHONE.sub(r"\1****\2", caller)


Filer = Callable[[str, list[WorkOrder]], Awaitable[list[dict[str, Any]]]]


def refusal_status(reason: str) -> int:
    """The HTTP status of a single push refused after its reading: 400 for what the order
    says, 503 when the backend could not file it (try again), 422 otherwise."""
    if reason == "bad_payload":
        return 400
    return 503 if reason in ("internal", "unavailable") else 422


class _Counted(HttpError):
    """A refusal already counted where it was decided (the filer)."""


class HotlineReader:
    """The HTTP side of the 12345 endpoint: reads a push, checks its signature and its
    schema, and hands the work orders read to a filer (`HotlineIntake.file` in the backend,
    or the link to it from the 12345 gateway process: gateway.py), answering each push with
    what the filer answered (after the commit)."""

    def __init__(self, keys: dict[str, bytes], counts: Counts, max_body: int, filer: Filer) -> None:
        self.keys = keys
        self.counts = counts
        self.max_body = max_body
        self.filer = filer
        self.guard = signing.ReplayGuard()
        self._decoder = msgspec.json.Decoder(WorkOrder)

    def routes(self) -> list[Route]:
        """The endpoint's routes."""
        return [
            Route(ORDERS_PATH, self.push, methods=["POST"]),
            Route(BATCH_PATH, self.push_batch, methods=["POST"]),
        ]

    async def push(self, request: Request) -> Response:
        """POST /12345/v1/orders: one work order (through Starlette: the ASGI path, `asgi`,
        answers the same without it)."""
        return await self._answer_request(request, self._one)

    async def push_batch(self, request: Request) -> Response:
        """POST /12345/v1/orders/batch: {"orders": [work order, ...]} (1 to BATCH_MAX), each
        created, repeated or refused on its own; one answer per order, in order."""
        return await self._answer_request(request, self._many)

    async def _answer_request(
        self, request: Request, answer: Callable[[str, bytes], Awaitable[dict[str, Any]]]
    ) -> Response:
        try:
            _content_type(request.headers.get("content-type", ""))
            _content_length(request.headers.get("content-length"), self.max_body)
            body = await read_body(request, self.max_body)
            headers = {k: v for k, v in request.headers.items() if k.startswith("x-tg-")}
            peer = self._peer(headers, request.method, request.url.path, body)
            data = await answer(peer, body)
        except HttpError as exc:
            self._refused(exc, request.url.path)
            return error_response(exc)
        return json_response(200, data)

    async def asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A POST to either route as a plain ASGI callable (IntakeHttp's `fast` paths): the
        same checks and answers as `push`/`push_batch` without Starlette's Request, routing
        and Response, which were a good share of a push's cost (bench/RESULTS.md §7)."""
        path: str = scope["path"]
        status, data = 200, b""
        try:
            content_type, length, headers = "", None, {}
            for name, value in scope["headers"]:
                if name == b"content-type":
                    content_type = value.decode("latin-1")
                elif name == b"content-length":
                    length = value.decode("latin-1")
                elif name.startswith(b"x-tg-"):
                    headers[name.decode("latin-1")] = value.decode("latin-1")
            _content_type(content_type)
            _content_length(length, self.max_body)
            body = await _receive_body(receive, self.max_body)
            peer = self._peer(headers, scope["method"], path, body)
            answer = self._many if path == BATCH_PATH else self._one
            data = _encode(await answer(peer, body))
        except HttpError as exc:
            self._refused(exc, path)
            status = exc.status
            data = _encode({"ok": False, "error": exc.reason, "message": exc.message})
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-length", str(len(data)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": data})

    def _refused(self, exc: HttpError, path: str) -> None:
        if not isinstance(exc, _Counted):
            self.counts.note(CHANNEL, exc.reason)
        what = "12345 batch push" if path == BATCH_PATH else "12345 push"
        if exc.status >= 500:
            log.error("%s: %s", what, exc.message)
        else:
            log.info("%s refused (%s): %s", what, exc.reason, exc.message)

    def _peer(self, headers: dict[str, str], method: str, path: str, body: bytes) -> str:
        """The signing peer of a push; HttpError when its signature is refused."""
        try:
            return signing.verify(self.keys, headers, method, path, body, self.guard)
        except signing.SignatureError as exc:
            raise HttpError(exc.status, exc.reason, exc.message) from None

    async def _one(self, peer: str, body: bytes) -> dict[str, Any]:
        try:
            order = self._decoder.decode(body)
        except msgspec.ValidationError as exc:
            raise HttpError(400, "bad_payload", str(exc)) from None
        except msgspec.DecodeError as exc:
            raise HttpError(400, "malformed_json", str(exc)) from None
        answer = (await self.filer(peer, [order]))[0]
        if not answer["ok"]:
            reason = answer["error"]
            raise _Counted(refusal_status(reason), reason, answer["message"])
        return answer

    async def _many(self, peer: str, body: bytes) -> dict[str, Any]:
        try:
            batch = msgspec.json.decode(body, type=_Batch)
        except msgspec.ValidationError as exc:
            raise HttpError(400, "bad_payload", str(exc)) from None
        except msgspec.DecodeError as exc:
            raise HttpError(400, "malformed_json", str(exc)) from None
        answers: list[dict[str, Any] | None] = []
        orders: list[tuple[int, WorkOrder]] = []
        for index, raw in enumerate(batch.orders):
            where = f"orders[{index}]"
            given = raw.get("order_no") if isinstance(raw, dict) else None
            number = given if isinstance(given, str) else ""
            try:
                order = msgspec.convert(raw, WorkOrder)
            except msgspec.ValidationError as exc:
                text = str(exc)
                at = f"`$.{where}"
                text = text.replace("`$", at) if "`$" in text else f"{text} - at {at}`"
                self.counts.note(CHANNEL, "bad_payload")
                answers.append(_refusal(number, "bad_payload", text))
                continue
            orders.append((index, order))
            answers.append(None)
        if orders:
            filed = await self.filer(peer, [order for _, order in orders])
            for (index, _), answer in zip(orders, filed, strict=True):
                answers[index] = answer
        done = [a for a in answers if a is not None]
        return {"ok": True, "orders": done}


class HotlineIntake(HotlineReader):
    """The 12345 endpoint in the backend: reads (HotlineReader), maps, places and reports
    each work order through the writer (`file`, also the filer of the 12345 gateway's
    orders: gateway.py)."""

    def __init__(
        self,
        settings: HotlineSettings,
        mapping: HotlineMapping,
        gazetteer: Gazetteer,
        submit: submit.Submit,
        counts: Counts,
        max_body: int,
    ) -> None:
        super().__init__(
            {p.name: p.key for p in settings.peers.values()}, counts, max_body, self.file
        )
        self.settings = settings
        self.mapping = mapping
        self.gazetteer = gazetteer
        self.submit = submit

    async def file(self, peer: str, orders: list[WorkOrder]) -> list[dict[str, Any]]:
        """File `peer`'s work orders (already read and verified): each mapped, placed and
        reported through the writer as one report_batch per c.BATCH_MAX; one answer each, in
        order, given after the commit (a refusal: {"ok": false, "error", "message"})."""
        answers: list[dict[str, Any] | None] = [None] * len(orders)
        items: list[tuple[int, str, c.BatchReport]] = []
        for index, order in enumerate(orders):
            try:
                items.append((index, order.order_no, self.report_of(order, peer)))
            except HttpError as exc:
                self.counts.note(CHANNEL, exc.reason)
                answers[index] = _refusal(order.order_no, exc.reason, exc.message)
        actor = submit.gateway(peer)
        for at in range(0, len(items), c.BATCH_MAX):
            chunk = items[at : at + c.BATCH_MAX]
            outcomes = await submit.reports(self.submit, actor, [item for _, _, item in chunk])
            for (index, number, item), outcome in zip(chunk, outcomes, strict=True):
                if outcome.ok:
                    self.counts.note(CHANNEL, "repeat" if outcome.repeat else "ok")
                    answers[index] = _answer(number, item, outcome)
                else:
                    self.counts.note(CHANNEL, outcome.error or "refused")
                    answers[index] = _refusal(number, outcome.error or "refused", outcome.message)
        return [a for a in answers if a is not None]

    def report_of(self, order: WorkOrder, peer: str) -> c.BatchReport:
        """The report a work order becomes (category mapped, place found); HttpError
        (bad_payload) when a field is inconsistent."""
        if (order.lon is None) != (order.lat is None):
            raise HttpError(400, "bad_payload", "lon and lat come together or not at all")
        lon, lat = order.lon, order.lat
        gcj02 = (order.crs or self.settings.coordinates) == "gcj02"
        if lon is not None and lat is not None and gcj02:
            lon, lat = gcj02_to_wgs84(lon, lat)
        placed, _ = self.gazetteer.place(order.address, lon, lat)
        # The category in the table of the district the order is placed in (a point outside
        # every district lands at the first's centre).
        grid = self.gazetteer.reference.grid_at(placed.lon, placed.lat)
        mapped = self.mapping.map(order.kind, grid.code[:DISTRICT_WIDTH] if grid else "")
        received = _moment(order.received_at, "received_at")
        deadline = _moment(order.deadline_at, "deadline_at")
        del received  # the event's time is ours (its arrival); the call's time is in the text
        title = (order.title or f"{order.kind}：{order.content}")[:60]
        description = order.content
        if order.appeal:
            description = f"[{order.appeal}] {description}"[:2000]
        return c.BatchReport(
            external_id=order.order_no,
            category=mapped.category,
            title=title,
            lon=placed.lon,
            lat=placed.lat,
            source="hotline",
            description=description,
            address=order.address,
            reporter=mask(order.caller),
            priority=2 if order.urgent else None,
            intake=Intake(
                channel=CHANNEL,
                ref=order.order_no,
                peer=peer,
                place=placed.place,
                confidence=placed.confidence,
                matched=placed.matched,
                triage=order.kind if mapped.triage else "",
                deadline_at=deadline,
            ),
        )
