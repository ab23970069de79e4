"""Plain HTTP beside the websocket: /health, /snapshots/<alert> images, and the refusal
of a websocket URL that carries a token (credentials only ever travel in hello)."""

from __future__ import annotations

import asyncio
import http
import logging
import re
import urllib.parse

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request as HttpRequest
from websockets.http11 import Response

from dispatch.downloads import Downloads
from dispatch.handshake import Authenticator, peer_of
from dispatch.hub import Hub
from dispatch.reference import ReferenceData
from dispatch.state import Actor
from dispatch.store.store import Store

log = logging.getLogger("dispatch.http")


class HttpEndpoints:
    """The websocket server's `process_request`: what is not a websocket upgrade."""

    def __init__(
        self,
        hub: Hub,
        store: Store,
        reference: ReferenceData,
        auth: Authenticator,
        downloads: Downloads | None = None,
    ) -> None:
        self.hub = hub
        self.store = store
        self.reference = reference
        self.auth = auth
        self.downloads = downloads

    async def process_request(
        self, connection: ServerConnection, request: HttpRequest
    ) -> Response | None:
        """Answer a plain HTTP request, refuse a token in a websocket URL, or let it upgrade."""
        if request.headers.get("Upgrade", "").lower() == "websocket":
            if "token" in _decoded(request.path).lower():
                peer = peer_of(connection)
                self.hub.refusals.note(
                    log,
                    peer,
                    "refused a websocket URL carrying a token from %s",
                    peer,
                    level=logging.WARNING,
                )
                return _plain(
                    http.HTTPStatus.BAD_REQUEST,
                    "credentials never go in the URL; send them in hello\n",
                )
            return None
        path = request.path.split("?", 1)[0]
        if path == "/health":
            return await self._health(request)
        if path.startswith("/snapshots/"):
            return await self._image(connection, request)
        if path.startswith("/downloads/") and self.downloads is not None:
            return await self._download(request, path, self.downloads)
        return _plain(http.HTTPStatus.NOT_FOUND, "not found\n")

    async def _health(self, request: HttpRequest) -> Response:
        """Liveness for anyone; the head, the number of clients and of the backend's asyncio
        tasks (for monitoring: it stays flat on a healthy backend) and the resume ring's bytes
        (it fills up to its bound, then stays there) for a valid token only."""
        token = _bearer(request)
        if token is not None and await self.auth.authenticate(token) is not None:
            tasks = len(asyncio.all_tasks())
            hub = self.hub
            text = (
                f"ok head={hub.head} clients={len(hub.clients)} tasks={tasks}"
                f" ring={hub.ring_bytes}\n"
            )
        else:
            text = "ok\n"
        return _plain(http.HTTPStatus.OK, text)

    async def _image(self, connection: ServerConnection, request: HttpRequest) -> Response:
        token = _bearer(request)
        user = await self.auth.authenticate(token) if token is not None else None
        if user is None:
            return _plain(http.HTTPStatus.UNAUTHORIZED, "send Authorization: Bearer <token>\n")
        # Strict: digits only (no sign, no "_", no spaces), at most 18 of them (no overflow
        # in the database), then an optional suffix such as ".svg".
        match = _IMAGE_PATH.fullmatch(request.path.split("?", 1)[0])
        if match is None:
            return _plain(http.HTTPStatus.NOT_FOUND, "not found\n")
        alert_id = int(match.group(1))
        try:
            image = await asyncio.to_thread(self.store.image, alert_id)
        except Exception:
            log.exception("reading the image of alert %d failed", alert_id)
            return _plain(http.HTTPStatus.INTERNAL_SERVER_ERROR, "could not read the image\n")
        actor = Actor(user.name, user.role, user.jurisdiction)
        # Outside the jurisdiction looks exactly like absent; an alert is also seen where the
        # case it joined is (attach_alert may join a case just over a community line).
        if image is None or not (
            actor.may_see(self.reference.key_at(image.grid, image.street))
            or (
                image.event_street != ""
                and actor.may_see(self.reference.key_at(image.event_grid, image.event_street))
            )
        ):
            return _plain(http.HTTPStatus.NOT_FOUND, "not found\n")
        headers = Headers(
            [
                ("Content-Type", image.content_type),
                ("Content-Length", str(len(image.body))),
                ("Cache-Control", "private, max-age=86400"),
            ]
        )
        return Response(200, "OK", headers, image.body)

    async def _download(self, request: HttpRequest, path: str, downloads: Downloads) -> Response:
        """A file asked for over the websocket (`download`): once, by its own user, while its
        ticket is good (docs/protocol.md §14)."""
        token = _bearer(request)
        user = await self.auth.authenticate(token) if token is not None else None
        if user is None:
            return _plain(http.HTTPStatus.UNAUTHORIZED, "send Authorization: Bearer <token>\n")
        ticket = downloads.take(path.removeprefix("/downloads/"), user.name)
        if ticket is None:
            return _plain(
                http.HTTPStatus.NOT_FOUND,
                "no such file: fetched already, expired, or not yours; ask again\n",
            )
        headers = Headers(
            [
                ("Content-Type", ticket.content_type),
                ("Content-Length", str(len(ticket.body))),
                (
                    "Content-Disposition",
                    f"attachment; filename*=UTF-8''{urllib.parse.quote(ticket.name)}",
                ),
                ("Cache-Control", "no-store"),
            ]
        )
        return Response(200, "OK", headers, ticket.body)


def _plain(status: http.HTTPStatus, text: str) -> Response:
    body = text.encode()
    headers = Headers(
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    )
    return Response(status.value, status.phrase, headers, body)


_IMAGE_PATH = re.compile(r"/snapshots/([0-9]{1,18})(?:\.[A-Za-z0-9]{1,10})?", re.ASCII)
_BEARER = re.compile(r"Bearer ([!-~]{1,200})", re.ASCII | re.IGNORECASE)


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header's value (the scheme's name in
    any case, one space, then the token); None without one, or for any other form."""
    match = _BEARER.fullmatch(header) if header is not None else None
    return match.group(1) if match else None


def _bearer(request: HttpRequest) -> str | None:
    """The token of the request's `Authorization: Bearer <token>` header, if any."""
    return bearer_token(request.headers.get("Authorization"))


def _decoded(path: str) -> str:
    """A request target with its percent-escapes (and a form's "+") decoded, again and
    again until nothing changes: `/?tok%65n=…` is checked as `/?token=…`."""
    for _ in range(5):
        decoded = urllib.parse.unquote_plus(path)
        if decoded == path:
            break
        path = decoded
    return path
