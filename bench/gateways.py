"""Fan-out over gateways (issue 16): 10,000 clients over 4 gateway processes, 1,000 deltas/s.

Tongguan's side: one writer backend on PostgreSQL (a fresh schema) in this process, a
producer thread feeding it `report` commands at a fixed rate (as bench/fanout does), and
`--gateways N` gateway processes (followers of the committed log that serve the protocol;
0: every client on the writer itself). The commit time of every seq is taken right after
`Store.commit` returns in the writer.

The baseline: `--gateways N` bare `websockets` servers in their own processes (N >= 1), each
doing bench/fanout_baseline.py's `batched` send (a tick's messages framed once, one write
per client), fed by one producer in this process over a pipe per server: the producer
stamps each tick's messages, frames them once and hands the bytes to every server.

The clients: `--client-procs` processes (spawned), each holding its share of the
connections, spread over the gateways. Every connection does the handshake and counts the
delta frames it gets (bench/rawclient.py SkimClient: no decoding, payloads skipped); only
`--sample` of them (spread over the processes and gateways) decode and timestamp every
delta (RawClient), and the latencies are theirs. By default the clients send the units'
version in hello, as a desk that has connected before does: their snapshots then leave the
~0.9 MB of units out (`--cold`: the full first snapshot for every connection).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import multiprocessing as mp
import statistics
import sys
import threading
import time
from array import array
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import msgspec

from bench import common
from bench.fanout import _settled_head, _time_commits, produce
from bench.fanout_measure import MAX_DRIFT_MS, Outcome, analyse, payload_size
from bench.rawclient import RawClient, Received, SkimClient, connect, connect_skim
from dispatch.limits import Limits

TARGET_P99_MS = 50.0  # issue 16: commit -> client p99 at 10,000 clients x 1,000 deltas/s
TARGET_RATIO = 1.5  # the same ratio to the baseline as bench/fanout's (issue 9)
DEFAULT_MESSAGE_BYTES = 514  # a `report` delta's JSON, for baseline-only runs
USER_CONNECTIONS = 60  # connections per bench user: under the default per-user cap (64)
_SNAPSHOT = b'{"type":"snapshot","seq":0}'


# ---- who connects where ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Plan:
    """One run's parameters, the same for Tongguan and the baseline."""

    clients: int
    serving: int  # Tongguan: gateways (0: the writer serves every client); baseline: servers
    procs: int  # client processes
    rate: int  # deltas/s
    seconds: float  # measured
    warmup: float  # unmeasured, before
    sample: int  # connections that time their deltas
    at_once: int  # connections opened together
    cold: bool = False  # no cached units in hello (Tongguan)
    size: int = DEFAULT_MESSAGE_BYTES  # the baseline's message bytes
    tick: float = 0.01  # the producers' tick (longer below 100/s)

    @property
    def every(self) -> float:
        """The producers' tick at this rate: at least one message a tick."""
        return max(self.tick, 1.0 / self.rate)


def spread(
    ports: Sequence[int], clients: int, procs: int, sample: int
) -> list[list[tuple[int, bool]]]:
    """Per client process, its connections as (port, timed): round-robin over the ports,
    every k-th connection of each port timed, the timed ones spread over the processes."""
    step = max(1, clients // max(1, sample)) if sample else 0
    out: list[list[tuple[int, bool]]] = [[] for _ in range(procs)]
    for i in range(clients):
        nth = i // len(ports)  # the connection's rank among its port's
        timed = bool(step) and nth % step == 0
        # Each port's connections go round the processes: every process talks to every port.
        out[(nth + i % len(ports)) % procs].append((ports[i % len(ports)], timed))
    return out


def hello(token: str, reference: str | None) -> bytes:
    """The hello every bench connection sends (with the units' version: a warm desk)."""
    msg: dict[str, Any] = {"id": 1, "type": "hello", "protocol": 1, "token": token}
    msg["client"] = "bench-gateways"
    if reference is not None:
        msg["reference"] = reference
    return msgspec.json.encode(msg)


# ---- the client processes ----------------------------------------------------------------


@dataclass(slots=True)
class Counted:
    """What one client process's connections saw: the timed ones' records, every one's count."""

    records: list[Received]
    deltas: array[int]  # delta frames per connection (timed ones included)
    closed: int
    cpu: float  # CPU seconds of the process while measuring (from 'stop' excluded)


def clients_main(
    targets: list[tuple[int, bool]], hellos: list[bytes], at_once: int, conn: Connection
) -> None:
    """Entry point of a client process: connect, report ready, count, report on 'stop'."""
    try:
        asyncio.run(_clients(targets, hellos, at_once, conn))
    except Exception as exc:
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        raise


async def _clients(
    targets: list[tuple[int, bool]], hellos: list[bytes], at_once: int, conn: Connection
) -> None:
    loop = asyncio.get_running_loop()
    scratch = memoryview(bytearray(256 * 1024))
    clients: list[RawClient | SkimClient] = []
    # A few at a time: thousands of handshakes at once only measure the listen backlog.
    for i in range(0, len(targets), at_once):
        opening: list[Coroutine[Any, Any, RawClient | SkimClient]] = [
            connect("127.0.0.1", port, hellos[(i + j) % len(hellos)])
            if timed
            else connect_skim("127.0.0.1", port, hellos[(i + j) % len(hellos)], scratch)
            for j, (port, timed) in enumerate(targets[i : i + at_once])
        ]
        batch: list[RawClient | SkimClient] = list(await asyncio.gather(*opening))
        clients.extend(batch)
        await asyncio.wait_for(asyncio.gather(*(c.snapshot for c in batch)), 120)
    conn.send(("ready", len(clients)))
    command, head, base = await loop.run_in_executor(None, conn.recv)
    assert command == "stop"
    cpu = time.process_time()
    # Let late deltas arrive: until every live connection has them all, 30 s at most.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if all(_has(c, head, base) or c.lost.done() for c in clients):
            break
        await asyncio.sleep(0.05)
    out = Counted(
        [c.received() for c in clients if isinstance(c, RawClient)],
        array("q", (_deltas(c) for c in clients)),
        sum(c.close_code is not None for c in clients),
        cpu,
    )
    for c in clients:
        if c.transport is not None and not c.lost.done():
            c.transport.abort()  # (once lost, Python 3.12's abort() may fail: dispatch.hub.abort)
    conn.send(("done", out))


def _has(c: RawClient | SkimClient, head: int, base: int) -> bool:
    return c.last >= head if isinstance(c, RawClient) else c.deltas >= head - base


def _deltas(c: RawClient | SkimClient) -> int:
    if isinstance(c, SkimClient):
        return c.deltas
    return sum(e - s + 1 for s, e in zip(c.starts, c.ends, strict=True))


class Clients:
    """The client processes of one run."""

    def __init__(self, plans: list[list[tuple[int, bool]]], hellos: list[bytes], at_once: int):
        ctx = mp.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs: list[BaseProcess] = []
        for targets in plans:
            parent, child = ctx.Pipe()
            proc = ctx.Process(
                target=clients_main, args=(targets, hellos, at_once, child), daemon=True
            )
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)

    async def ready(self) -> int:
        """Wait until every process has its connections up; how many there are."""
        total = 0
        for pipe in self.pipes:
            kind, value = await asyncio.to_thread(_recv, pipe)
            if kind != "ready":
                raise RuntimeError(f"a client process failed: {value}")
            total += value
        return total

    def ids(self) -> dict[str, int | None]:
        """CPU clock ids of the processes (negative: a whole process)."""
        return {f"clients {i + 1}": -(p.pid or 0) for i, p in enumerate(self.procs)}

    async def stop(self, head: int, base: int) -> list[Counted]:
        """Tell them the final head; their counts once they have it (or gave up)."""
        for pipe in self.pipes:
            pipe.send(("stop", head, base))
        out = []
        for pipe in self.pipes:
            kind, value = await asyncio.to_thread(_recv, pipe)
            if kind != "done":
                raise RuntimeError(f"a client process failed: {value}")
            out.append(value)
        for proc in self.procs:
            await asyncio.to_thread(proc.join, 10)
        return out

    def kill(self) -> None:
        """End whatever is still running."""
        for proc in self.procs:
            if proc.is_alive():
                proc.kill()


def _recv(pipe: Connection) -> tuple[str, Any]:
    try:
        return pipe.recv()  # type: ignore[no-any-return]
    except EOFError:
        return ("failed", "the process died")


# ---- one run's figures ---------------------------------------------------------------------


@dataclass(slots=True)
class GwOutcome:
    """Figures of one run: the timed sample's latencies, every connection's counts, CPU."""

    server: str  # tongguan or baseline
    gateways: int  # serving processes (0: Tongguan's clients on the writer itself)
    clients: int
    timed: Outcome  # the sample's figures (bench/fanout_measure.py)
    counted: int  # delta frames every connection got, over the whole run
    expected: int  # ...and should have got
    closed: int
    cpu: dict[str, float] = field(default_factory=dict)  # % of one core per process/thread
    notes: list[str] = field(default_factory=list)

    def us_per_delivery(self, kinds: tuple[str, ...]) -> float:
        """CPU µs the processes named `kinds…` spent per offered delivery in the window (one
        delta to one connection, at the rate achieved): what the fan-out costs, apart from how
        busy the machine is (an underestimate for a run that does not keep up)."""
        busy = sum(v for k, v in self.cpu.items() if k.startswith(kinds))
        per_second = self.timed.achieved * self.clients
        return 1e4 * busy / per_second if per_second else float("nan")

    @property
    def keeps_up(self) -> bool:
        """Every connection got every delta, the sample at the rate and without a growing lag."""
        o = self.timed
        return (
            self.counted == self.expected
            and self.closed == 0
            and o.lost == 0
            and o.achieved >= 0.98 * o.rate
            and o.drift_ms <= MAX_DRIFT_MS
        )


def outcome(
    server: str,
    gateways: int,
    rate: int,
    sent: list[tuple[int, int, float]],
    counted: list[Counted],
    marks: tuple[common.CpuMark, common.CpuMark],
    size: float,
    head: int,
    base: int,
) -> GwOutcome:
    """The figures of one run from the sent (commit) times and the clients' reports."""
    records = [r for c in counted for r in c.records]
    mark0, mark1 = marks
    # analyse() takes one "clients" clock: the first process's (all of them are in `cpu`).
    timed = analyse(server, rate, len(records), sent, records, marks, size)
    _, cpu = common.cpu_share(mark0, mark1)
    n = sum(len(c.deltas) for c in counted)
    return GwOutcome(
        server=server,
        gateways=gateways,
        clients=n,
        timed=timed,
        counted=sum(sum(c.deltas) for c in counted),
        expected=n * (head - base),
        closed=sum(c.closed for c in counted),
        cpu=cpu,
    )


def _clock_ids(clients: Clients, extra: dict[str, int | None]) -> dict[str, int | None]:
    ids = dict(extra)
    ids.update(clients.ids())
    ids["clients"] = ids["clients 1"]  # the one analyse() pops
    return ids


# ---- the baseline --------------------------------------------------------------------------


def baseline_server_main(feed: Connection, told: Connection) -> None:
    """Entry point of one baseline server process: serve, send what the feed brings."""
    asyncio.run(_baseline_server(feed, told))


async def _baseline_server(feed: Connection, told: Connection) -> None:
    from websockets.asyncio.server import ServerConnection, serve
    from websockets.protocol import State

    from dispatch.server import tune_gc

    loop = asyncio.get_running_loop()
    live: set[ServerConnection] = set()
    done = asyncio.Event()

    async def handle(ws: ServerConnection) -> None:
        await ws.recv()  # the client's hello
        await ws.send(_SNAPSHOT, text=True)
        live.add(ws)
        try:
            await ws.wait_closed()
        finally:
            live.discard(ws)

    def send_joined(wire: bytes) -> None:
        for ws in live:
            if ws.protocol.state is State.OPEN:
                ws.transport.write(wire)

    def pump() -> None:
        # The producer's framed ticks, in order; the end of the pipe ends the server.
        while True:
            try:
                wire = feed.recv_bytes()
            except EOFError:
                break
            loop.call_soon_threadsafe(send_joined, wire)
        loop.call_soon_threadsafe(done.set)

    limits = Limits()
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
        backlog=1024,
    )
    tune_gc()
    told.send(server.sockets[0].getsockname()[1])
    threading.Thread(target=pump, name="bench-pump", daemon=True).start()
    await done.wait()
    server.close()
    await server.wait_closed()


def run_baseline(plan: Plan) -> GwOutcome:
    """One baseline run in this process: N server processes, the clients, the producer."""
    return asyncio.run(_run_baseline(plan))


async def _run_baseline(plan: Plan) -> GwOutcome:
    from websockets.frames import Frame, Opcode

    from bench.fanout_baseline import produce as produce_baseline

    ctx = mp.get_context("spawn")
    feeds: list[Connection] = []
    serving: list[BaseProcess] = []
    ports: list[int] = []
    clients: Clients | None = None
    try:
        for _ in range(plan.serving):
            out, into = ctx.Pipe(duplex=False)
            told_r, told_w = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=baseline_server_main, args=(out, told_w), daemon=True)
            proc.start()
            feeds.append(into)
            serving.append(proc)
            ports.append(await asyncio.to_thread(told_r.recv))
        targets = spread(ports, plan.clients, plan.procs, plan.sample)
        clients = Clients(targets, [hello("bench", None)], plan.at_once)
        connected = await clients.ready()
        assert connected == plan.clients, (connected, plan.clients)

        def hand_over(batch: list[bytes]) -> None:
            # Framed once, as Tongguan's writer frames its batch, then to every server.
            wire = b"".join(Frame(Opcode.TEXT, data).serialize(mask=False) for data in batch)
            for feed in feeds:
                feed.send_bytes(wire)

        sent: list[tuple[int, int, float]] = []
        start = time.time()  # not later: a start ahead makes the producers send seqs <= 0
        measure_from = start + plan.warmup
        measure_to = measure_from + plan.seconds
        producer = threading.Thread(
            target=produce_baseline,
            args=(hand_over, sent, plan.rate, plan.size, plan.every, start, measure_to),
            name="bench-producer",
            daemon=True,
        )
        producer.start()
        ids = _clock_ids(
            clients,
            {"producer": producer.native_id}
            | {f"server {i + 1}": -(p.pid or 0) for i, p in enumerate(serving)},
        )
        (mark0, _), (mark1, _) = await common.Window(ids, measure_from, measure_to).done()
        await asyncio.to_thread(producer.join)
        head = sent[-1][0] + sent[-1][1] - 1 if sent else 0
        counted = await clients.stop(head, 0)
    finally:
        for feed in feeds:
            feed.close()
        if clients is not None:
            clients.kill()
        for server in serving:
            await asyncio.to_thread(server.join, 5)
            if server.is_alive():
                server.kill()
    marks = (mark0, mark1)
    return outcome("baseline", plan.serving, plan.rate, sent, counted, marks, plan.size, head, 0)


# ---- Tongguan ------------------------------------------------------------------------------


def gateway_main(url: str, limits: Limits, told: Connection) -> None:
    """Entry point of one gateway process: follow the log and serve until told to stop."""
    asyncio.run(_gateway(url, limits, told))


@dataclass(slots=True)
class Followed:
    """What one gateway's follower did, stamped in wall-clock time (set against the writer's
    commit times afterwards): every read of the log and every delivery on the loop."""

    wakeups: int = 0
    # (first seq, last seq, woken, read began, read done): `woken` is the end of the wait
    # before the read (a notification, or the poll's timeout).
    reads: list[tuple[int, int, float, float, float]] = field(default_factory=list)
    queries: list[float] = field(default_factory=list)  # seconds each
    # (first seq, last seq, began, done): the loop's filing and fan-out of a batch.
    deliveries: list[tuple[int, int, float, float]] = field(default_factory=list)


async def _gateway(url: str, limits: Limits, told: Connection) -> None:
    from dispatch.app import load_reference
    from dispatch.server import DispatchServer, tune_gc
    from dispatch.store.store import Store

    # As `dispatch serve --gateway` starts one, but with the connection caps raised: the CLI
    # keeps the defaults (512 connections a process, 64 a user).
    store = Store(url)
    reference = await asyncio.to_thread(load_reference, store)
    server = DispatchServer(store, reference, limits=limits)
    port = await server.start("127.0.0.1", 0, role="gateway")
    tune_gc()
    follower = server.follower
    assert follower is not None
    # Stamps, with the wrapped methods of this one instance (as bench/fanout wraps
    # Store.commit): the follower's waits and reads of the log (the query inside them), and
    # the loop's filing and fan-out of what it read.
    followed = Followed()
    woken = [0.0]
    wait, read, deliver = follower._wait, follower._read, follower._deliver
    query, live = store.log_rows, follower._read_live  # the archive's and the live log's

    async def timed_wait() -> None:
        try:
            await wait()
        finally:
            woken[0] = time.time()

    async def timed_read() -> Any:
        after, began = follower.head, time.time()
        rows = await read()
        if rows:
            followed.reads.append((after + 1, follower.head, woken[0], began, time.time()))
        return rows

    def timed(method: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                followed.queries.append(time.perf_counter() - began)

        return run

    async def timed_live() -> Any:
        began = time.perf_counter()
        try:
            return await live()
        finally:
            followed.queries.append(time.perf_counter() - began)

    def timed_deliver(published: Any) -> None:
        began = time.time()
        deliver(published)
        followed.deliveries.append((published[0].seq, published[-1].seq, began, time.time()))

    follower._wait = timed_wait  # type: ignore[method-assign]
    follower._read = timed_read  # type: ignore[method-assign]
    store.log_rows = timed(query)  # type: ignore[method-assign]
    follower._read_live = timed_live  # type: ignore[method-assign]
    follower._deliver = timed_deliver
    told.send(port)
    await asyncio.to_thread(_recv, told)  # "stop", or the parent gone
    followed.wakeups = follower.wakeups
    told.send(("followed", followed))
    await server.stop()
    store.close()


class Gateways:
    """The gateway processes of one run."""

    def __init__(self, url: str, n: int, limits: Limits) -> None:
        ctx = mp.get_context("spawn")
        self.procs: list[BaseProcess] = []
        self.pipes: list[Connection] = []
        for _ in range(n):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=gateway_main, args=(url, limits, child), daemon=True)
            proc.start()
            self.procs.append(proc)
            self.pipes.append(parent)

    async def ports(self) -> list[int]:
        """Their ports, once each listens."""
        out = []
        for pipe in self.pipes:
            port = await asyncio.to_thread(pipe.recv)
            out.append(int(port))
        return out

    def ids(self) -> dict[str, int | None]:
        """CPU clock ids of the processes (negative: a whole process)."""
        return {f"gateway {i + 1}": -(p.pid or 0) for i, p in enumerate(self.procs)}

    async def stop(self) -> list[Followed]:
        """Stop them (cleanly, else killed); what their followers did."""
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send("stop")
        out = []
        for pipe in self.pipes:
            kind, value = await asyncio.to_thread(_recv, pipe)
            if kind == "followed":
                out.append(value)
        for proc in self.procs:
            await asyncio.to_thread(proc.join, 10)
            if proc.is_alive():
                proc.kill()
        return out


def followed_text(
    followed: list[Followed], commits: list[tuple[int, int, float]], window: tuple[float, float]
) -> list[str]:
    """The gateways' followers in two lines: their reads and deliveries (median / p99 / max
    ms), and where a delta's time went from its commit, for the seqs committed in `window`:
    until its gateway woke, had read it, began delivering it, had written it to every client."""
    reads = [r for f in followed for r in f.reads]
    if not reads:
        return []
    rows = [last - first + 1 for first, last, *_ in reads]
    wakeups = sum(f.wakeups for f in followed)

    def ms(values: Sequence[float]) -> str:
        v = sorted(1000 * t for t in values) or [math.nan]
        return f"{statistics.median(v):.1f} / {v[int(0.99 * (len(v) - 1))]:.1f} / {v[-1]:.1f}"

    spent = (
        f"gateways' followers: {wakeups} wake-ups, {len(reads)} reads of the log, "
        f"{statistics.mean(rows):.1f} rows a read (max {max(rows)}); median / p99 / max ms: "
        f"read {ms([done - began for *_, began, done in reads])} (of which the query "
        f"{ms([q for f in followed for q in f.queries])}; the rest decoding and framing), "
        f"the loop's filing and fan-out "
        f"{ms([done - began for *_, began, done in (d for f in followed for d in f.deliveries)])}"
    )
    committed: dict[int, float] = {}
    for first, n, at in commits:
        if window[0] <= at <= window[1]:
            committed.update(dict.fromkeys(range(first, first + n), at))
    since: dict[str, list[float]] = {"woken": [], "read": [], "on the loop": [], "written": []}
    for f in followed:
        for first, last, woke, _, done in f.reads:
            for at in filter(None, map(committed.get, range(first, last + 1))):
                since["woken"].append(woke - at)
                since["read"].append(done - at)
        for first, last, began, done in f.deliveries:
            for at in filter(None, map(committed.get, range(first, last + 1))):
                since["on the loop"].append(began - at)
                since["written"].append(done - at)
    stages = "; ".join(f"{k} {ms(v)}" for k, v in since.items())
    return [spent, f"from the commit, median / p99 / max ms: {stages}"]


def run_tongguan(plan: Plan) -> GwOutcome:
    """One Tongguan run in this process: PostgreSQL, writer, gateways, clients, producer."""
    return asyncio.run(_run_tongguan(plan))


async def _run_tongguan(plan: Plan) -> GwOutcome:
    with common.database("postgresql") as url:
        store, reference = common.prepared(url)
        # Several users: a gateway keeps the default per-user cap; one token per 60.
        users = max(1, math.ceil(plan.clients / USER_CONNECTIONS))
        tokens = [store.create_user(f"bench{i}", "dispatcher") for i in range(users)]
        commits: list[tuple[int, int, float]] = []
        _time_commits(store, commits)
        # The writer serves every client itself only without gateways.
        limits = Limits(connections=plan.clients + 64, connections_per_user=plan.clients + 64)
        server = await common.started(store, reference, limits)
        assert server.writer is not None and server.hub is not None
        version = None if plan.cold else reference.units_frame(None)[0]
        hellos = [hello(t, version) for t in tokens]
        serving = Gateways(url, plan.serving, limits)
        clients: Clients | None = None
        followed: list[Followed] = []
        try:
            ports = await serving.ports() or [server.port]
            targets = spread(ports, plan.clients, plan.procs, plan.sample)
            clients = Clients(targets, hellos, plan.at_once)
            connected = await clients.ready()
            assert connected == plan.clients, (connected, plan.clients)
            base = int(server.hub.head)
            requests = common.report_requests(common.report_pool(reference, 4096))
            start = time.time()  # as the baseline's (see there)
            measure_from = start + plan.warmup
            measure_to = measure_from + plan.seconds
            producer = threading.Thread(
                target=produce,
                args=(server.writer, requests, plan.rate, plan.every, start, measure_to),
                name="bench-producer",
                daemon=True,
            )
            producer.start()
            ids = _clock_ids(
                clients,
                common.server_threads(server, producer=producer) | serving.ids(),
            )
            (mark0, _), (mark1, _) = await common.Window(ids, measure_from, measure_to).done()
            await asyncio.to_thread(producer.join)
            # A starved writer may still hold submitted reports, and the head may stand still
            # for longer than _settled_head's half second: first until its queue is empty.
            for _ in range(1200):  # a minute at most
                if server.writer._queue.empty():
                    break
                await asyncio.sleep(0.05)
            head = await _settled_head(server)
            sizes = [payload_size(wire) for _, _, wire in server.hub.ring]
            counted = await clients.stop(head, base)
        finally:
            if clients is not None:
                clients.kill()
            followed = await serving.stop()
            await server.stop()
            store.close()
    size = sum(sizes) / len(sizes) if sizes else float("nan")
    marks = (mark0, mark1)
    result = outcome("tongguan", plan.serving, plan.rate, commits, counted, marks, size, head, base)
    result.cpu["writer process"] = result.timed.server_cpu
    result.notes += followed_text(followed, commits, (mark0.wall, mark1.wall))
    return result


# ---- the command ---------------------------------------------------------------------------


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench gateways", description=__doc__)
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=1000, help="deltas/s")
    parser.add_argument(
        "--gateways",
        type=int,
        default=4,
        help="serving processes (Tongguan: gateways, 0 = the writer serves every client;"
        " the baseline: broadcast servers, at least 1)",
    )
    parser.add_argument("--client-procs", type=int, default=4, help="client processes")
    parser.add_argument("--sample", type=int, default=500, help="connections that time deltas")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds before")
    parser.add_argument("--at-once", type=int, default=20, help="connections opened together")
    parser.add_argument(
        "--servers", default="tongguan,baseline", help="tongguan and/or baseline, in this order"
    )
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--size", type=int, help="baseline message bytes (default: Tongguan's)")
    parser.add_argument(
        "--cold", action="store_true", help="no cached units in hello: full first snapshots"
    )
    args = parser.parse_args(argv)
    args.servers = [s for s in args.servers.split(",") if s]
    if set(args.servers) - {"tongguan", "baseline"}:
        parser.error(f"unknown servers in {args.servers}")
    return args


def cpu_text(o: GwOutcome) -> str:
    """CPU per process (and the writer's threads), % of one core."""
    c = o.cpu
    parts = []
    if "writer process" in c:
        parts.append(
            f"writer proc {c['writer process']:.0f}% (loop {c.get('loop', 0):.0f}, "
            f"writer {c.get('writer', 0):.0f}, producer {c.get('producer', 0):.0f})"
        )
    elif "producer" in c:
        parts.append(f"producer {c['producer']:.0f}%")
    for kind in ("gateway", "server"):
        each = [v for k, v in sorted(c.items()) if k.startswith(kind + " ")]
        if each:
            parts.append(f"{kind}s " + " / ".join(f"{v:.0f}" for v in each) + "%")
    clients = [v for k, v in sorted(c.items()) if k.startswith("clients ")]
    parts.append("clients " + " / ".join(f"{v:.0f}" for v in clients) + "%")
    serving = o.us_per_delivery(("gateway ", "server ", "writer process"))
    clients_us = o.us_per_delivery(("clients ",))
    parts.append(f"µs an offered delivery: serving {serving:.2f}, clients {clients_us:.2f}")
    return "; ".join(parts)


def rows(outcomes: Sequence[GwOutcome]) -> tuple[list[str], list[list[object]]]:
    """Table headers and rows."""
    headers = [
        "server",
        "serving procs",
        "clients x deltas/s",
        "achieved/s",
        "timed: delivered / expected",
        "all: delivered / expected",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms",
        "lag drift ms",
        "CPU (% of a core)",
        "keeps up",
    ]
    body: list[list[object]] = []
    for o in outcomes:
        t = o.timed
        closed = f" ({o.closed} closed)" if o.closed else ""
        serving = (
            f"{o.gateways} gateways"
            if o.server == "tongguan" and o.gateways
            else "writer only"
            if o.server == "tongguan"
            else f"{o.gateways} servers"
        )
        body.append(
            [
                o.server,
                serving,
                f"{o.clients:,} x {t.rate:,}",
                f"{t.achieved:,.0f}",
                f"{t.delivered:,} / {t.expected:,} ({t.clients} timed)",
                f"{o.counted:,} / {o.expected:,}{closed}",
                f"{t.p50_ms:.2f}",
                f"{t.p99_ms:.2f}",
                f"{t.p999_ms:.1f}",
                f"{t.max_ms:.1f}",
                f"{t.drift_ms:+.1f}",
                cpu_text(o),
                "yes" if o.keeps_up else "**no**",
            ]
        )
    return headers, body


def _line(o: GwOutcome) -> str:
    t = o.timed
    return (
        f"  {o.server:>8} x{o.gateways} {o.clients:,} x {t.rate:,}/s: p50 {t.p50_ms:.2f} ms  "
        f"p99 {t.p99_ms:.2f} ms  p99.9 {t.p999_ms:.1f} ms  max {t.max_ms:.1f} ms  "
        f"drift {t.drift_ms:+.1f} ms  timed {t.delivered}/{t.expected}  "
        f"(dup {t.duplicates}, out of order {t.out_of_order})  "
        f"all {o.counted}/{o.expected}  {t.message_bytes:.0f} B  {cpu_text(o)}  "
        f"keeps up: {'yes' if o.keeps_up else 'no'}"
    )


def main(argv: Sequence[str] | None = None) -> list[GwOutcome]:
    """Run Tongguan then the baseline (each `--repeat` times), print the table and verdicts."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse(argv)
    print(
        f"gateways: {args.clients:,} clients ({args.sample} timed, the rest count frames) in "
        f"{args.client_procs} processes, {args.rate:,} deltas/s, {args.gateways} serving "
        f"processes, {args.warmup:.0f} s warm-up + {args.seconds:.0f} s measured, "
        f"{' then '.join(args.servers)}, {args.repeat} time(s)"
    )
    print(f"  load before: {common_uptime()}")
    outcomes: list[GwOutcome] = []
    plan = Plan(
        clients=args.clients,
        serving=args.gateways,
        procs=args.client_procs,
        rate=args.rate,
        seconds=args.seconds,
        warmup=args.warmup,
        sample=args.sample,
        at_once=args.at_once,
        cold=args.cold,
        size=args.size or DEFAULT_MESSAGE_BYTES,
    )
    for _ in range(args.repeat):
        for name in args.servers:
            if name == "tongguan":
                o = common.isolated(run_tongguan, plan)
                if not args.size and not math.isnan(o.timed.message_bytes):
                    # The baseline's messages of the size of Tongguan's deltas.
                    plan = replace(plan, size=round(o.timed.message_bytes))
            else:
                o = common.isolated(run_baseline, replace(plan, serving=max(1, plan.serving)))
            outcomes.append(o)
            print(_line(o), flush=True)
            for note in o.notes:
                print(f"    {note}", flush=True)
    headers, body = rows(outcomes)
    print()
    print(common.table(headers, body))
    verdicts(outcomes)
    print(f"  load after: {common_uptime()}")
    print(f"\nreproduce: {common.reproduce('bench gateways', argv)}")
    return outcomes


def verdicts(outcomes: Sequence[GwOutcome]) -> None:
    """The p99 target and the ratio to the baseline (medians over repeats, paired runs)."""
    ours = [o for o in outcomes if o.server == "tongguan"]
    base = [o for o in outcomes if o.server == "baseline"]
    if ours:
        p99 = statistics.median(o.timed.p99_ms for o in ours)
        full = ours[0].clients >= 10_000 and ours[0].timed.rate >= 1000 and ours[0].gateways == 4
        met = p99 <= TARGET_P99_MS and all(o.keeps_up for o in ours)
        scope = "" if full else " (not the target's configuration: 10,000 x 1,000/s, 4 gateways)"
        print(
            f"\ntarget p99 <= {TARGET_P99_MS:.0f} ms and keeps up: "
            f"{'met' if met else 'MISSED'} ({p99:.2f} ms){scope}"
        )
    if ours and base:
        pairs = list(zip(ours, base, strict=False))
        if any(math.isnan(t.timed.p99_ms) or math.isnan(b.timed.p99_ms) for t, b in pairs):
            # Nothing of the window reached a timed client before the clients gave up.
            done = " / ".join(
                f"{t.counted / b.counted:.2f}" if b.counted else "-" for t, b in pairs
            )
            print(
                f"target p99 <= {TARGET_RATIO}x the baseline's: not measurable (a side timed "
                f"nothing in time); deliveries by the end, Tongguan's / the baseline's: {done}"
            )
            return
        each = [t.timed.p99_ms / b.timed.p99_ms for t, b in pairs]
        ratio = statistics.median(each)
        caveat = "" if all(b.keeps_up for b in base) else "; the baseline did not keep up"
        print(
            f"target p99 <= {TARGET_RATIO}x the baseline's: "
            f"{'met' if ratio <= TARGET_RATIO else 'MISSED'} "
            f"({' / '.join(f'{r:.2f}' for r in each)}, median {ratio:.2f}x{caveat})"
        )


def common_uptime() -> str:
    """The load averages now."""
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


if __name__ == "__main__":
    from bench.gateways import main as _main

    _main()
