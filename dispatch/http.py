"""Plain HTTP beside the websocket: /health, /snapshots/<alert> images, and the refusal
of a websocket URL that carries a token (credentials only ever travel in hello)."""

from __future__ import annotations

import asyncio
import http
import logging

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request as HttpRequest
from websockets.http11 import Response

from dispatch.handshake import Authenticator, peer_of
from dispatch.hub import Hub
from dispatch.reference import ReferenceData
from dispatch.state import Actor
from dispatch.store.store import Store

log = logging.getLogger("dispatch.http")


class HttpEndpoints:
    """The websocket server's `process_request`: what is not a websocket upgrade."""

    def __init__(
        self, hub: Hub, store: Store, reference: ReferenceData, auth: Authenticator
    ) -> None:
        self.hub = hub
        self.store = store
        self.reference = reference
        self.auth = auth

    async def process_request(
        self, connection: ServerConnection, request: HttpRequest
    ) -> Response | None:
        """Answer a plain HTTP request, refuse a token in a websocket URL, or let it upgrade."""
        if request.headers.get("Upgrade", "").lower() == "websocket":
            if "token" in request.path.lower():
                log.warning("refused a websocket URL carrying a token from %s", peer_of(connection))
                return _plain(
                    http.HTTPStatus.BAD_REQUEST,
                    "credentials never go in the URL; send them in hello\n",
                )
            return None
        path = request.path.split("?", 1)[0]
        if path == "/health":
            return _plain(
                http.HTTPStatus.OK, f"ok head={self.hub.head} clients={len(self.hub.clients)}\n"
            )
        if path.startswith("/snapshots/"):
            return await self._image(connection, request)
        return _plain(http.HTTPStatus.NOT_FOUND, "not found\n")

    async def _image(self, connection: ServerConnection, request: HttpRequest) -> Response:
        auth = request.headers.get("Authorization", "")
        user = await self.auth.authenticate(auth.removeprefix("Bearer ").strip()) if auth else None
        if user is None:
            return _plain(http.HTTPStatus.UNAUTHORIZED, "send Authorization: Bearer <token>\n")
        try:
            alert_id = int(request.path.split("?", 1)[0].rsplit("/", 1)[1].split(".")[0])
        except ValueError:
            return _plain(http.HTTPStatus.NOT_FOUND, "not found\n")
        image = await asyncio.to_thread(self.store.image, alert_id)
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


def _plain(status: http.HTTPStatus, text: str) -> Response:
    body = text.encode()
    headers = Headers(
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    )
    return Response(status.value, status.phrase, headers, body)
