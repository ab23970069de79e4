"""The fan-out bench's baselines: bare `websockets` servers that only send.

Same library and version as dispatch/server.py and the same settings (compression off,
max_size, max_queue, ping and close timeouts), the same clients (bench/rawclient.py, in a
child process), messages of the size of Tongguan's deltas, at the same rates. A producer
thread stamps each tick's messages with their send time (the `at` field, and the list the
analysis reads, as Tongguan's commit times are) and hands them to the loop. No store, no
state, no KPIs: what Tongguan's p99 adds to a baseline's is Tongguan's own cost.

- `broadcast`: the loop sends each message with `websockets.asyncio.server.broadcast`, as a
  plain websockets app would. That frames and writes every message to every client: one
  `transport.write` (a `send()` syscall) per message per client, ~6 µs of CPU each here,
  so 100 clients x 2,000/s need more than one core.
- `batched`: the same messages, framed once by websockets' `Frame.serialize` per tick and
  written to each client in one `transport.write`, i.e. what `broadcast` does for one
  message, done for a tick's worth. This is the floor of Tongguan's own design (one
  joined buffer per batch, shared by every client).
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import threading
import time
from collections.abc import Callable

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from bench import common
from bench.fanout_measure import Outcome, analyse, clients_main
from dispatch.server import Limits, tune_gc

# The raw clients wait for a message that starts like a snapshot before they count as live.
_SNAPSHOT = b'{"type":"snapshot","seq":0}'
MODES = ("broadcast", "batched")


def message(seq: int, at: float, size: int) -> bytes:
    """A delta-shaped JSON text of `size` bytes (or the least it can be) sent at `at`."""
    head = b'{"type":"delta","seq":%d,"action":"report","actor":"bench","at":%.6f,"data":{"pad":"'
    head = head % (seq, at)
    tail = b'"}}'
    return head + b"x" * max(0, size - len(head) - len(tail)) + tail


def produce(
    hand_over: Callable[[list[bytes]], None],
    sent: list[tuple[int, int, float]],
    rate: int,
    size: int,
    tick: float,
    start: float,
    stop: float,
) -> int:
    """Stamp and hand over `rate` messages a second in ticks of `tick` seconds; the last seq."""
    per_tick = max(1, round(rate * tick))
    seq = ticks = 0
    while True:
        now = time.time()
        if now >= stop:
            return seq
        due = int((now - start) / tick) + 1
        # An oversleep is caught up in the next tick, as in Tongguan's producer.
        n = (due - ticks) * per_tick
        at = time.time()
        batch = [message(seq + 1 + i, at, size) for i in range(n)]
        sent.append((seq + 1, n, at))
        seq += n
        hand_over(batch)
        ticks = due
        time.sleep(max(0.0, start + ticks * tick - time.time()))


def run_rate(
    mode: str, rate: int, n_clients: int, duration: float, warmup: float, size: int
) -> Outcome:
    """One full baseline run in this process: server, client process, producer."""
    if mode not in MODES:
        raise ValueError(f"unknown baseline {mode!r}; known: {', '.join(MODES)}")
    return asyncio.run(_run_rate(mode, rate, n_clients, duration, warmup, size))


async def _run_rate(
    mode: str,
    rate: int,
    n_clients: int,
    duration: float,
    warmup: float,
    size: int,
    tick: float = 0.01,
) -> Outcome:
    loop = asyncio.get_running_loop()
    limits = Limits()
    live: set[ServerConnection] = set()

    async def handle(ws: ServerConnection) -> None:
        await ws.recv()  # the client's hello
        await ws.send(_SNAPSHOT, text=True)
        live.add(ws)
        try:
            await ws.wait_closed()
        finally:
            live.discard(ws)

    def send_each(batch: list[bytes]) -> None:
        for data in batch:
            broadcast(live, data, text=True)

    def send_joined(wire: bytes) -> None:
        for ws in live:
            if ws.protocol.state is State.OPEN:
                ws.transport.write(wire)

    def hand_over(batch: list[bytes]) -> None:
        if mode == "broadcast":
            loop.call_soon_threadsafe(send_each, batch)
        else:
            # Framed off the loop, as Tongguan's writer frames its deltas.
            wire = b"".join(Frame(Opcode.TEXT, data).serialize(mask=False) for data in batch)
            loop.call_soon_threadsafe(send_joined, wire)

    server = await serve(
        handle,
        "127.0.0.1",
        0,
        compression=None,
        max_size=limits.max_frame,
        max_queue=64,
        ping_interval=20,
        ping_timeout=20,
        close_timeout=5,
    )
    tune_gc()  # as Tongguan's server is tuned (bench/common.started)
    port = server.sockets[0].getsockname()[1]
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=clients_main, args=(port, "bench", n_clients, child), daemon=True)
    proc.start()
    sent: list[tuple[int, int, float]] = []
    try:
        kind, connected = await asyncio.to_thread(parent.recv)
        assert kind == "ready" and connected == n_clients, (kind, connected)
        start = time.time() + 0.2
        measure_from = start + warmup
        measure_to = measure_from + duration
        producer = threading.Thread(
            target=produce,
            args=(hand_over, sent, rate, size, tick, start, measure_to),
            name="bench-producer",
            daemon=True,
        )
        producer.start()
        ids: dict[str, int | None] = {
            "loop": threading.get_native_id(),
            "producer": producer.native_id,
            "clients": -(proc.pid or 0),  # negative: a whole process, not a thread
        }
        (mark0, _), (mark1, _) = await common.Window(ids, measure_from, measure_to).done()
        await asyncio.to_thread(producer.join)
        head = sent[-1][0] + sent[-1][1] - 1 if sent else 0
        parent.send(("stop", head))
        kind, records, _ = await asyncio.to_thread(parent.recv)
        assert kind == "done"
        await asyncio.to_thread(proc.join, 10)
    finally:
        if proc.is_alive():
            proc.kill()
        server.close()
        await server.wait_closed()
    return analyse(mode, rate, n_clients, sent, records, (mark0, mark1), size)
