"""A client's session once attached: pings, commands (rate-limited, to the writer), stats."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import msgspec

from dispatch.clock import Clock
from dispatch.hub import Client, Hub
from dispatch.limits import Limits
from dispatch.state import Actor, args_digest
from dispatch.writer import Answer, CommandRequest, Writer
from protocol.codec import ProtocolError, convert, decode_client
from protocol.codes import ErrorCode
from protocol.commands import ARGS
from protocol.messages import Command, Error, Ping, Result, Stats

log = logging.getLogger("dispatch.session")
_encode = msgspec.json.Encoder().encode


class Session:
    """Answers what attached clients send; commands go to the writer, answers back in order."""

    def __init__(self, hub: Hub, writer: Writer, clock: Clock, limits: Limits) -> None:
        self.hub = hub
        self.writer = writer
        self.clock = clock
        self.limits = limits

    async def serve(self, client: Client) -> None:
        """Answer the client's messages until it disconnects."""
        async for raw in client.ws:
            try:
                message = decode_client(raw)
            except ProtocolError as exc:
                self._reply_error(client, exc.request_id, exc.code, exc.message)
                continue
            if message.id <= client.last_id:
                self._reply_error(
                    client,
                    message.id,
                    ErrorCode.BAD_ID,
                    f"id {message.id} is not above the previous {client.last_id}",
                )
                continue
            client.last_id = message.id
            if isinstance(message, Ping):
                self.hub.write(
                    client,
                    [_encode(Result(id=message.id, data={"server_time": self.clock.now()}))],
                )
            elif isinstance(message, Command):
                self._command(client, message)
            elif isinstance(message, Stats):
                self._stats(client, message)
            else:
                self._reply_error(
                    client,
                    message.id,
                    ErrorCode.BAD_MESSAGE,
                    "hello is only allowed as the first message",
                )

    def _stats(self, client: Client, message: Stats) -> None:
        if not self._allowed(client):
            # A stats answer costs the loop about as much as a command: the same allowance.
            self._reply_error(client, message.id, ErrorCode.RATE_LIMITED, "too many requests")
            return
        try:
            rows = self.hub.stats(client.jurisdiction, message.by, message.period)
        except PermissionError as exc:
            self._reply_error(client, message.id, ErrorCode.FORBIDDEN, str(exc))
            return
        data = {
            "by": message.by,
            "period": message.period,
            "rows": rows,
            "catching_up": self.hub.kpis_partial,
        }
        self.hub.write(client, [_encode(Result(id=message.id, data=data))])

    def _allowed(self, client: Client) -> bool:
        """Take one from the client's token bucket of requests; False when it is empty."""
        now = time.monotonic()
        rate = self.limits.commands_per_second
        client.allowance = min(
            float(self.limits.command_burst), client.allowance + (now - client.allowance_at) * rate
        )
        client.allowance_at = now
        if client.allowance < 1:
            return False
        client.allowance -= 1
        return True

    def _command(self, client: Client, message: Command) -> None:
        if not self._allowed(client):
            self._reply_error(
                client,
                message.id,
                ErrorCode.RATE_LIMITED,
                "too many commands; retry with the same command_id",
                message.command_id,
            )
            return
        args_type = ARGS.get(message.op)
        if args_type is None:
            self._reply_error(
                client,
                message.id,
                ErrorCode.UNKNOWN_OP,
                f"unknown op {message.op!r}",
                message.command_id,
            )
            return
        if not message.command_id or len(message.command_id) > 64:
            self._reply_error(
                client,
                message.id,
                ErrorCode.BAD_ARGS,
                "command_id must be 1..64 characters",
                message.command_id,
            )
            return
        try:
            args = convert(message.args, args_type)
        except ProtocolError as exc:
            self._reply_error(
                client, message.id, ErrorCode.BAD_ARGS, exc.message, message.command_id
            )
            return
        actor = Actor(client.user.name, client.user.role, client.jurisdiction)
        request = CommandRequest(
            actor,
            message.op,
            args,
            message.command_id,
            args_digest(message.op, message.args),
        )
        future = self.writer.submit(request)
        future.add_done_callback(lambda f: self._answered(client, message, f))

    def _answered(self, client: Client, message: Command, future: asyncio.Future[Answer]) -> None:
        answer = future.result()
        if log.isEnabledFor(logging.INFO):
            verb = "repeat" if answer.repeat else ("ok" if answer.ok else answer.code)
            log.info(
                "%s %s %s %s -> %s%s",
                client.user.name,
                message.op,
                _target(message.args),
                message.command_id,
                verb,
                "" if answer.ok else f" ({answer.message})",
            )
        if answer.ok:
            frame = _encode(
                Result(
                    id=message.id,
                    command_id=message.command_id,
                    seq=answer.seq,
                    data=answer.data,
                    repeat=answer.repeat,
                )
            )
        else:
            frame = _encode(
                Error(
                    id=message.id,
                    code=answer.code,
                    message=answer.message,
                    command_id=message.command_id,
                )
            )
        self.hub.queue(client, frame)

    def _reply_error(
        self,
        client: Client,
        request_id: int,
        code: str,
        message: str,
        command_id: str | None = None,
    ) -> None:
        log.info(
            "%s (%s): refused request %d: %s %s",
            client.peer,
            client.user.name,
            request_id,
            code,
            message[:200],
        )
        self.hub.write(
            client,
            [
                _encode(
                    Error(id=request_id, code=code, message=message[:500], command_id=command_id)
                )
            ],
        )


def _target(args: dict[str, Any]) -> str:
    for key in ("event", "alert"):
        if key in args:
            return f"{key}={args[key]}"
    return ""
