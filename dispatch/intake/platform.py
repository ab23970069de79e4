"""A stand-in 12345 platform: it pushes work orders to the backend as a real one would
(signed, over HTTP) and takes the backend's feedback on a real HTTP server of its own.

Used by the simulator (the demo's 12345 traffic goes through the real endpoint), the bench
and the tests. It checks each feedback's signature, de-duplicates by `Idempotency-Key` as a
platform must, and can misbehave on purpose (`faults`: time out, answer 500, or take the
feedback and answer 500 anyway, so that it comes again: a duplicate).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from dispatch.intake import signing
from dispatch.intake.config import HttpSettings
from dispatch.intake.hotline import ORDERS_PATH
from dispatch.intake.http import Counts, IntakeHttp, json_response
from dispatch.intake.outbox import IDEMPOTENCY_KEY

log = logging.getLogger("dispatch.intake.platform")
FEEDBACK_PATH = "/feedback"
Fault = Literal["timeout", "error", "lost_answer", "refuse"]


@dataclass
class Received:
    """What the platform got back: every feedback by key (the first copy), how often each
    key came, and the refusals of unsigned or badly signed requests."""

    by_key: dict[str, dict[str, Any]] = field(default_factory=dict)
    copies: Counter[str] = field(default_factory=Counter)
    bad: int = 0
    faults: Counter[str] = field(default_factory=Counter)

    @property
    def duplicates(self) -> int:
        """Copies beyond the first of each key (answered as repeats, never applied twice)."""
        return sum(self.copies.values()) - len(self.copies)


class FakePlatform:
    """A 12345 platform: `push` work orders, receive feedback on `url`."""

    def __init__(self, peer: str, key: bytes, intake_url: str = "", hang: float = 30.0) -> None:
        self.peer = peer
        self.key = key
        self.intake_url = intake_url  # the backend's intake base URL (http://host:port)
        self.hang = hang  # how long a "timeout" fault keeps the request
        self.received = Received()
        self.faults: deque[Fault] = deque()  # the next requests' misbehaviour, in order
        self.down = False  # answer every feedback 503 (an outage)
        self._server: IntakeHttp | None = None
        self._client: httpx.AsyncClient | None = None

    @property
    def url(self) -> str:
        """The feedback URL to configure for this peer."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.port}{FEEDBACK_PATH}"

    async def start(self, port: int = 0) -> str:
        """Serve the feedback endpoint; its URL."""
        self._server = IntakeHttp(
            HttpSettings("127.0.0.1", port, 1 << 20),
            [Route(FEEDBACK_PATH, self._feedback, methods=["POST"])],
            Counts(),
        )
        await self._server.start()
        return self.url

    async def stop(self) -> None:
        """Stop serving and pushing."""
        if self._client is not None:
            await self._client.aclose()
        if self._server is not None:
            await self._server.stop()

    async def _feedback(self, request: Request) -> Response:
        try:
            body = await request.body()
        except ClientDisconnect:  # the backend was killed mid-request: it will send again
            return Response(status_code=400)
        headers = {k: v for k, v in request.headers.items() if k.startswith("x-tg-")}
        try:
            signing.verify(
                {self.peer: self.key}, headers, "POST", request.url.path, body, _NoReplay()
            )
        except signing.SignatureError as exc:
            self.received.bad += 1
            return json_response(exc.status, {"ok": False, "error": exc.reason})
        key = request.headers.get(IDEMPOTENCY_KEY, "")
        if self.down:
            self.received.faults["down"] += 1
            return json_response(503, {"ok": False, "error": "maintenance"})
        fault = self.faults.popleft() if self.faults else None
        if fault == "timeout":
            self.received.faults[fault] += 1
            await asyncio.sleep(self.hang)
            return json_response(504, {"ok": False})
        if fault == "error":
            self.received.faults[fault] += 1
            return json_response(500, {"ok": False, "error": "internal"})
        if fault == "refuse":  # the platform's final no: the row waits for a person
            self.received.faults[fault] += 1
            return json_response(422, {"ok": False, "error": "unknown order"})
        self.received.copies[key] += 1
        repeat = key in self.received.by_key
        if not repeat:
            self.received.by_key[key] = json.loads(body)
        if fault == "lost_answer":  # taken, but the answer says otherwise: it comes again
            self.received.faults[fault] += 1
            return json_response(500, {"ok": False, "error": "internal"})
        return json_response(200, {"ok": True, "repeat": repeat})

    async def push(self, order: dict[str, Any]) -> httpx.Response:
        """Push one work order to the backend, signed."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=10)
        body = json.dumps(order, ensure_ascii=False).encode()
        headers = signing.sign(self.key, self.peer, "POST", ORDERS_PATH, body)
        headers["content-type"] = "application/json"
        return await self._client.post(self.intake_url + ORDERS_PATH, content=body, headers=headers)


class _NoReplay(signing.ReplayGuard):
    """The platform checks signatures; replays of feedback are its de-dup's business."""

    def check(self, peer: str, nonce: str, stamp: float, now: float) -> None:
        if abs(now - stamp) > self.window:
            raise signing.SignatureError("stale_timestamp", "stale")
