"""The intake HTTP server answers without Nagle's delay: its accepted connections have
TCP_NODELAY (asyncio sets it only on sockets whose proto says TCP). Without it every answer
whose headers and body are written apart waited for the client's delayed ACK, 40 ms."""

from __future__ import annotations

import asyncio
import socket
import time

from tests.dispatch.intake.open311_env import Open311, open311_sqlite

__all__ = ["open311_sqlite"]  # the fixture, used by name


async def test_accepted_connections_have_nodelay(open311_sqlite: Open311) -> None:
    http = open311_sqlite.server.intake.http
    reader, writer = await asyncio.open_connection("127.0.0.1", http.port)
    try:
        writer.write(b"GET /intake/stats HTTP/1.1\r\nHost: t\r\n\r\n")
        await writer.drain()
        await reader.readuntil(b"\r\n\r\n")
        connections = list(http._server.server_state.connections)
        assert connections
        for protocol in connections:
            sock = protocol.transport.get_extra_info("socket")
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        # And so a keep-alive connection's answers come at once (40 ms each without it).
        took = []
        for _ in range(10):
            start = time.perf_counter()
            writer.write(b"GET /intake/stats HTTP/1.1\r\nHost: t\r\n\r\n")
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            await reader.readexactly(length)
            took.append(time.perf_counter() - start)
        assert sorted(took)[len(took) // 2] < 0.035, took
    finally:
        writer.close()
