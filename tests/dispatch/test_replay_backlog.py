"""A resume whose replay from the ring is larger than the backlog bound is delivered whole to
a client that reads it, and the connection stays open (docs/protocol.md §5, §13)."""

from __future__ import annotations

import socket

from websockets.asyncio.client import connect

from dispatch.limits import Limits
from protocol.codec import encode
from protocol.messages import Delta, Hello, Result, Resume, Welcome
from tests.dispatch.conftest import Client, start_server
from tests.dispatch.test_server import handshake, report_args


async def test_a_replay_over_the_backlog_bound_is_not_closed_with_4008(sqlite_store) -> None:
    limits = Limits(max_backlog=16 * 1024, commands_per_second=1e4, command_burst=10**4)
    running = await start_server(sqlite_store, limits)
    try:
        c = await running.client("commander")
        welcome, snapshot = await handshake(c)
        for i in range(400):
            r = await c.command("report", report_args(running, title=f"回放{i}" + "长" * 150))
            assert isinstance(r, Result)
        head = running.server.hub.head
        ring = running.server.hub.ring_after
        # Small kernel buffers on the connections accepted from now on, so that the replay
        # queues in the server (where the bound applies) rather than in the kernel.
        for listening in running.server._server.sockets:
            listening.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        assert head - snapshot.seq == 400
        # The units are cached (as a desk's are), so the welcome alone precedes the replay.
        ws = await connect(f"ws://127.0.0.1:{running.port}", max_size=None, compression=None)
        hello = Hello(
            id=1,
            protocol=1,
            token=running.tokens["dispatcher"],
            resume=Resume(epoch=welcome.epoch, seq=snapshot.seq),
            reference=snapshot.reference,
        )
        await ws.send(encode(hello).decode())
        resumed = Client(ws)
        w = await resumed.recv()
        assert isinstance(w, Welcome) and w.resume == "replay"
        [client] = [cl for cl in running.server.hub.clients if cl.user.name == "调度员"]
        assert len(ring(client, snapshot.seq)) > 10 * limits.max_backlog  # well over the bound
        seen: list[int] = []
        while not seen or seen[-1] < head:
            m = await resumed.recv(timeout=10)
            if isinstance(m, Delta):
                seen.append(m.seq)
        assert seen == list(range(snapshot.seq + 1, head + 1))
        # Still connected: it answers a command.
        answer = await resumed.command("report", report_args(running, title="回放之后"))
        assert isinstance(answer, Result)
        await resumed.ws.close()
        await c.ws.close()
    finally:
        await running.server.stop()
