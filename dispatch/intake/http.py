"""The intakes' HTTP server: Starlette on uvicorn, served inside the backend's own event loop
beside the websocket server, on its own port ([intake.http]).

Each intake contributes its routes; this module owns the server, the body limit, the JSON
error shape and the counters every answer is counted in (GET /intake/stats).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import msgspec
import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from dispatch.http import bearer_token
from dispatch.intake.config import HttpSettings
from dispatch.store.store import User

log = logging.getLogger("dispatch.intake")
# Who may read the answer counters: the administrators, and the intake systems themselves.
STATS_ROLES = frozenset({"admin", "gateway"})
_encode = msgspec.json.Encoder().encode


class HttpError(Exception):
    """An answer other than success: HTTP status, a short reason code and a message."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message


def json_response(status: int, body: dict[str, Any]) -> Response:
    """A JSON answer (UTF-8, msgspec-encoded)."""
    return Response(_encode(body), status, media_type="application/json")


def error_response(error: HttpError) -> Response:
    """The JSON of a refusal: {"ok": false, "error": reason, "message": ...}."""
    body = {"ok": False, "error": error.reason, "message": error.message}
    return json_response(error.status, body)


async def read_body(request: Request, limit: int) -> bytes:
    """The request's body, refused (413) past `limit` bytes without reading it all."""
    length = request.headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise HttpError(400, "bad_request", "Content-Length is not a number")
        if int(length) > limit:
            raise HttpError(413, "too_large", f"body of {length} bytes exceeds {limit}")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise HttpError(413, "too_large", f"body exceeds {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:  # gone before its body was in: nothing to answer, nothing kept
        raise HttpError(400, "disconnected", "the client left before sending its body") from None
    return b"".join(chunks)


class Counts:
    """Answers given, by intake and reason ("ok", "repeat", "bad_signature", ...)."""

    def __init__(self) -> None:
        self.counter: Counter[tuple[str, str]] = Counter()
        self.last: dict[str, float] = {}  # intake -> when it last answered (wall clock)

    def note(self, intake: str, reason: str) -> None:
        """Count one answer."""
        self.counter[(intake, reason)] += 1
        self.last[intake] = time.time()

    def add(self, intake: str, reason: str, n: int) -> None:
        """Count `n` answers given elsewhere (the 12345 gateway process's refusals)."""
        self.counter[(intake, reason)] += n
        self.last[intake] = time.time()

    def of(self, intake: str) -> dict[str, Any]:
        """One intake's answers by reason and when it last answered (None: never)."""
        answers = {r: n for (i, r), n in sorted(self.counter.items()) if i == intake}
        return {"answers": answers, "last_at": self.last.get(intake)}

    def as_dict(self) -> dict[str, dict[str, int]]:
        """{intake: {reason: count}}."""
        out: dict[str, dict[str, int]] = {}
        for (intake, reason), n in sorted(self.counter.items()):
            out.setdefault(intake, {})[reason] = n
        return out


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the backend owns SIGINT/SIGTERM and stops
    this server itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class IntakeHttp:
    """The HTTP server of the enabled intakes."""

    def __init__(
        self,
        settings: HttpSettings,
        routes: list[BaseRoute],
        counts: Counts,
        authenticate: Callable[[str], Awaitable[User | None]] | None = None,
        fast: dict[str, ASGIApp] | None = None,
    ) -> None:
        self.settings = settings
        self.counts = counts
        self.authenticate = authenticate
        self.starlette = Starlette(routes=[*routes, Route("/intake/stats", self._stats)])
        # POSTs to these paths skip Starlette (routing, Request, Response): plain ASGI
        # callables for the hot routes; any other method still gets Starlette's answer.
        self.fast = dict(fast or {})
        self.app: ASGIApp = self._app if self.fast else self.starlette
        self.port = 0
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def _app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            fast = self.fast.get(scope["path"])
            if fast is not None:
                await fast(scope, receive, send)
                return
        await self.starlette(scope, receive, send)

    async def _stats(self, request: Request) -> Response:
        """The answer counters, for an admin's or a gateway's token only (they tell who
        pushes what and how often it fails: not for anyone who can reach the port)."""
        token = bearer_token(request.headers.get("authorization"))
        user = None
        if token is not None and self.authenticate is not None:
            user = await self.authenticate(token)
        if user is None:
            error = HttpError(401, "unauthorized", "send Authorization: Bearer <token>")
            response = error_response(error)
            response.headers["www-authenticate"] = "Bearer"
            return response
        if user.role not in STATS_ROLES:
            log.warning("GET /intake/stats refused to %s (role %s)", user.name, user.role)
            message = "the intake counters are for an admin or a gateway"
            return error_response(HttpError(403, "forbidden", message))
        return json_response(200, {"answers": self.counts.as_dict()})

    async def start(self) -> int:
        """Bind (port 0: any free port) and serve in this loop; the port."""
        host, port = self.settings.host, self.settings.port
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # IPPROTO_TCP named, not 0: asyncio sets TCP_NODELAY only on sockets whose proto says
        # TCP, and the accepted ones copy it. Without it Nagle held each answer's body until
        # the client's delayed ACK: 40 ms on every request.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Inherited by the accepted connections (Linux): an answer written in two pieces
        # must not wait for the client's delayed ACK (40 ms) under Nagle's algorithm.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind((host, port))
        except OSError:
            sock.close()
            raise
        sock.listen(1024)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            interface="asgi3",  # said, not guessed: a bound method looks like ASGI 2 to uvicorn
            log_config=None,
            access_log=False,
            server_header=False,
            date_header=False,
            timeout_keep_alive=30,
            backlog=1024,
        )
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="intake-http")
        while not self._server.started:
            if self._task.done():
                self._task.result()  # its failure, raised here
            await asyncio.sleep(0.01)
        log.info("intake HTTP on %s:%d", host, self.port)
        return self.port

    async def stop(self) -> None:
        """Stop taking requests, finish those under way (bounded), release the port."""
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self._task), 5.0)
        except TimeoutError:
            self._server.force_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, 2.0)
