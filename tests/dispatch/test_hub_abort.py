"""Dropping a connection (dispatch.hub.abort): a connection already gone is left alone."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from websockets.protocol import State

from dispatch.hub import abort


class _Sink(asyncio.Protocol):
    """A peer that reads everything until the other side closes."""

    def __init__(self) -> None:
        self.done = asyncio.get_running_loop().create_future()
        self.got = 0

    def data_received(self, data: bytes) -> None:
        self.got += len(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.done.set_result(self.got)


class _Quiet(asyncio.Protocol):
    def __init__(self, made: asyncio.Future[asyncio.Transport]) -> None:
        self.made = made
        self.lost = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.made.set_result(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost.set_result(None)


async def _closed_with_bytes_queued() -> Any:
    """A server transport closed while megabytes were still queued, sent since: its
    connection_lost has run by the drain, not by close() (Python's selector transport)."""
    loop = asyncio.get_running_loop()
    made: asyncio.Future[asyncio.Transport] = loop.create_future()
    side = _Quiet(made)
    server = await loop.create_server(lambda: side, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    _, sink = await loop.create_connection(_Sink, "127.0.0.1", port)
    transport = await asyncio.wait_for(made, 10)
    transport.write(bytes(8 << 20))  # more than the sockets take at once
    assert transport.get_write_buffer_size() > 0
    transport.close()
    assert await asyncio.wait_for(sink.done, 10) == 8 << 20
    await asyncio.wait_for(side.lost, 10)
    server.close()
    await server.wait_closed()
    return transport


async def test_a_connection_gone_after_its_queued_bytes_is_not_aborted_again() -> None:
    transport = await _closed_with_bytes_queued()
    # websockets marks a connection CLOSED in its connection_lost: abort() leaves it alone
    # (Python 3.12's transport.abort() here fails: "'NoneType' object has no attribute
    # 'call_soon'").
    abort(SimpleNamespace(protocol=SimpleNamespace(state=State.CLOSED), transport=transport))


async def test_an_open_connection_is_aborted() -> None:
    aborted: list[bool] = []
    transport = SimpleNamespace(abort=lambda: aborted.append(True))
    abort(SimpleNamespace(protocol=SimpleNamespace(state=State.OPEN), transport=transport))
    abort(SimpleNamespace(protocol=SimpleNamespace(state=State.CLOSING), transport=transport))
    assert aborted == [True, True]
