"""Commit-to-client latency of the live fan-out: 100 raw websocket clients, 1,000+ deltas/s.

The server (SQLite in a temp dir) runs in this process; the clients run in a child process
so that their CPU is not counted as the server's. A producer thread feeds `report` commands
to the writer at a fixed rate; the commit time of every seq is taken right after
`Store.commit` returns, and each client timestamps every delta it reads.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import msgspec
import numpy as np

from bench import common, whatif
from bench.rawclient import Received, connect
from dispatch.store.store import Store
from dispatch.writer import Request, Writer

TARGET_P99_MS = 5.0
_KEEP_UP_P99_MS = 50.0  # beyond this the deltas are queueing, not just waiting for a turn


# ---- the client process --------------------------------------------------------------------


def clients_main(port: int, token: str, n: int, conn: Connection) -> None:
    """Entry point of the client process: connect `n` clients, record, report on 'stop'."""
    asyncio.run(_clients(port, token, n, conn))


async def _clients(port: int, token: str, n: int, conn: Connection) -> None:
    loop = asyncio.get_running_loop()
    hello = msgspec.json.encode(
        {"id": 1, "type": "hello", "protocol": 1, "token": token, "client": "bench"}
    )
    clients = []
    # A few at a time: a hundred 1 MB snapshots at once only measure the kernel's buffers.
    for i in range(0, n, 10):
        batch = await asyncio.gather(*(connect("127.0.0.1", port, hello) for _ in range(10)))
        clients.extend(batch[: n - i])
        await asyncio.wait_for(asyncio.gather(*(c.snapshot for c in batch)), 60)
    conn.send(("ready", len(clients)))
    command, head = await loop.run_in_executor(None, conn.recv)
    assert command == "stop"
    cpu = time.process_time()
    # Let late deltas arrive: wait until every live client has read up to the final head.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if all(c.last >= head or c.lost.done() for c in clients):
            break
        await asyncio.sleep(0.05)
    records = [c.received() for c in clients]
    for c in clients:
        if c.transport is not None:
            c.transport.abort()
    conn.send(("done", records, cpu))


# ---- the server process -------------------------------------------------------------------


@dataclass(slots=True)
class Outcome:
    """Figures of one run at one rate."""

    clients: int
    rate: int
    achieved: float
    seqs: int
    expected: int
    delivered: int
    duplicates: int
    out_of_order: int
    closed: int
    p50_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    server_cpu: float
    threads: dict[str, float]
    client_cpu: float
    kpi_events: int

    @property
    def lost(self) -> int:
        """Deliveries expected but not seen."""
        return self.expected - self.delivered

    @property
    def keeps_up(self) -> bool:
        """Every delta reached every client, at the asked rate, without queueing up."""
        return (
            self.lost == 0
            and self.closed == 0
            and self.achieved >= 0.98 * self.rate
            and self.p99_ms <= _KEEP_UP_P99_MS
        )


def produce(
    writer: Writer, requests: Sequence[Request], rate: int, tick: float, start: float, stop: float
) -> int:
    """Submit `rate` requests a second in ticks of `tick` seconds from `start` until `stop`."""
    per_tick = max(1, round(rate * tick))
    submitted = 0
    ticks = 0
    i = 0
    n = len(requests)
    while True:
        now = time.time()
        if now >= stop:
            return submitted
        due = int((now - start) / tick) + 1
        # An oversleep is caught up in the next tick, so the average rate stays exact.
        for _ in range((due - ticks) * per_tick):
            writer.submit_nowait(requests[i])
            i = (i + 1) % n
            submitted += 1
        ticks = due
        time.sleep(max(0.0, start + ticks * tick - time.time()))


def run_rate(
    rate: int, n_clients: int, duration: float, warmup: float, patches: Sequence[str] = ()
) -> Outcome:
    """One full run in this process: fresh database, server, client process, producer."""
    whatif.apply(patches)
    return asyncio.run(_run_rate(rate, n_clients, duration, warmup))


async def _run_rate(
    rate: int, n_clients: int, duration: float, warmup: float, tick: float = 0.01
) -> Outcome:
    with common.database("sqlite") as url:
        store, reference = common.prepared(url)
        token = store.create_user("bench", "dispatcher")
        commits: list[tuple[int, int, float]] = []
        _time_commits(store, commits)
        server = await common.started(store, reference)
        assert server.writer is not None and server.hub is not None
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        proc = ctx.Process(
            target=clients_main, args=(server.port, token, n_clients, child), daemon=True
        )
        proc.start()
        try:
            kind, connected = await asyncio.to_thread(parent.recv)
            assert kind == "ready" and connected == n_clients, (kind, connected)
            requests = common.report_requests(common.report_pool(reference, 4096))
            start = time.time() + 0.2
            measure_from = start + warmup
            measure_to = measure_from + duration
            producer = threading.Thread(
                target=produce,
                args=(server.writer, requests, rate, tick, start, measure_to),
                name="bench-producer",
                daemon=True,
            )
            producer.start()
            ids = common.server_threads(server, producer=producer)
            ids["clients"] = -(proc.pid or 0)  # negative: a whole process, not a thread
            (mark0, _), (mark1, _) = await common.Window(ids, measure_from, measure_to).done()
            await asyncio.to_thread(producer.join)
            head = await _settled_head(server)
            kpi_events = len(server.hub.events)
            parent.send(("stop", head))
            kind, records, _ = await asyncio.to_thread(parent.recv)
            assert kind == "done"
            await asyncio.to_thread(proc.join, 10)
        finally:
            if proc.is_alive():
                proc.kill()
            await server.stop()
            store.close()
    return _analyse(rate, n_clients, commits, records, mark0, mark1, kpi_events)


def _time_commits(store: Store, commits: list[tuple[int, int, float]]) -> None:
    # Wrapping this one instance's method: the writer calls store.commit on it.
    original = store.commit

    def timed(changes: Any, *args: Any, **kwargs: Any) -> int:
        first = original(changes, *args, **kwargs)
        commits.append((first, len(changes), time.time()))
        return first

    store.commit = timed  # type: ignore[method-assign]


async def _settled_head(server: Any, limit: float = 15.0) -> int:
    # The writer may still hold a backlog when the producer stops: give it a bounded drain.
    head, stable_since = server.hub.head, time.monotonic()
    give_up = stable_since + limit
    while time.monotonic() - stable_since < 0.5 and time.monotonic() < give_up:
        await asyncio.sleep(0.05)
        if server.hub.head != head:
            head, stable_since = server.hub.head, time.monotonic()
    return int(head)


def _analyse(
    rate: int,
    n_clients: int,
    commits: list[tuple[int, int, float]],
    records: list[Received],
    mark0: common.CpuMark,
    mark1: common.CpuMark,
    kpi_events: int,
) -> Outcome:
    measure_from, measure_to = mark0.wall, mark1.wall
    top = max((first + n - 1 for first, n, _ in commits), default=0)
    commit_at = np.full(top + 2, np.nan)
    for first, n, t in commits:
        commit_at[first : first + n] = t
    in_window = (commit_at >= measure_from) & (commit_at <= measure_to)
    seqs = int(in_window.sum())
    if not seqs:
        raise RuntimeError("no commit in the measured window: see the server's log above")
    latencies = []
    delivered = duplicates = out_of_order = closed = 0
    for rec in records:
        starts = np.frombuffer(rec.starts, dtype=np.int64)
        ends = np.frombuffer(rec.ends, dtype=np.int64)
        times = np.frombuffer(rec.times, dtype=np.float64)
        lengths = ends - starts + 1
        # Expand the runs to one (seq, receipt time) per delta.
        offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        seq = np.repeat(starts, lengths) + offsets
        received = np.repeat(times, lengths)
        keep = (seq <= top) & in_window[np.minimum(seq, top)]
        seq, received = seq[keep], received[keep]
        unique = len(np.unique(seq))
        delivered += unique
        duplicates += len(seq) - unique
        out_of_order += rec.out_of_order
        closed += rec.close_code is not None
        latencies.append(received - commit_at[seq])
    ms = np.concatenate(latencies) * 1000 if latencies else np.array([])
    server_cpu, threads = common.cpu_share(mark0, mark1)
    return Outcome(
        clients=n_clients,
        rate=rate,
        achieved=seqs / (measure_to - measure_from),
        seqs=seqs,
        expected=seqs * n_clients,
        delivered=delivered,
        duplicates=duplicates,
        out_of_order=out_of_order,
        closed=closed,
        p50_ms=common.pct(ms, 50),
        p99_ms=common.pct(ms, 99),
        p999_ms=common.pct(ms, 99.9),
        max_ms=float(ms.max()) if len(ms) else float("nan"),
        server_cpu=server_cpu,
        threads=threads,
        client_cpu=threads.pop("clients"),
        kpi_events=kpi_events,
    )


# ---- reporting -----------------------------------------------------------------------------


def rows(outcomes: Sequence[Outcome]) -> tuple[list[str], list[list[object]]]:
    """Table headers and rows for a set of runs."""
    headers = [
        "clients x deltas/s",
        "achieved/s",
        "delivered / expected",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms",
        "server CPU",
        "loop / writer / producer",
        "client proc CPU",
        "keeps up",
    ]
    out = []
    for o in outcomes:
        faults = []
        if o.lost:
            faults.append(f"{o.lost} lost")
        if o.duplicates:
            faults.append(f"{o.duplicates} dup")
        if o.out_of_order:
            faults.append(f"{o.out_of_order} out of order")
        if o.closed:
            faults.append(f"{o.closed} clients closed")
        delivered = f"{o.delivered:,} / {o.expected:,}" + (
            f" ({', '.join(faults)})" if faults else ""
        )
        t = o.threads
        out.append(
            [
                f"{o.clients} x {o.rate:,}",
                f"{o.achieved:,.0f}",
                delivered,
                f"{o.p50_ms:.2f}",
                f"{o.p99_ms:.2f}",
                f"{o.p999_ms:.1f}",
                f"{o.max_ms:.1f}",
                f"{o.server_cpu:.0f}%",
                f"{t['loop']:.0f}% / {t['writer']:.0f}% / {t['producer']:.0f}%",
                f"{o.client_cpu:.0f}%",
                "yes" if o.keeps_up else "**no**",
            ]
        )
    return headers, out


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5 s windows instead of 20 s")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--rates", default="1000,2000,5000", help="deltas/s, comma-separated")
    parser.add_argument("--duration", type=float, help="measured seconds per rate")
    parser.add_argument("--warmup", type=float, help="unmeasured seconds before the window")
    whatif.add_option(parser)
    args = parser.parse_args(argv)
    args.duration = args.duration or (5.0 if args.quick else 20.0)
    args.warmup = args.warmup or (2.0 if args.quick else 3.0)
    return args


def main(argv: Sequence[str] | None = None) -> list[Outcome]:
    """Run every rate, print the table and the command that reproduces it."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse(argv)
    rates = [int(r) for r in args.rates.split(",") if r]
    print(f"fan-out: {args.clients} clients, {args.duration:.0f} s per rate, SQLite")
    whatif.describe(args.what_if)
    outcomes = []
    for rate in rates:
        # Each rate in a fresh process: a writer still draining a backlog must not leak
        # into the next run.
        outcome = common.isolated(
            run_rate, rate, args.clients, args.duration, args.warmup, args.what_if
        )
        outcomes.append(outcome)
        print(
            f"  {rate:>6}/s: p50 {outcome.p50_ms:.2f} ms  p99 {outcome.p99_ms:.2f} ms  "
            f"max {outcome.max_ms:.1f} ms  delivered {outcome.delivered}/{outcome.expected}  "
            f"server CPU {outcome.server_cpu:.0f}%",
            flush=True,
        )
    headers, body = rows(outcomes)
    print()
    print(common.table(headers, body))
    first = outcomes[0] if outcomes else None
    if first is not None and first.rate == 1000 and first.clients == 100:
        verdict = "met" if first.p99_ms <= TARGET_P99_MS and first.keeps_up else "MISSED"
        print(f"\ntarget p99 <= {TARGET_P99_MS:.0f} ms at 100 x 1,000/s: {verdict}")
    print(f"\nreproduce: {common.reproduce('bench.fanout', argv)}")
    return outcomes


if __name__ == "__main__":
    # Through the package name, so that spawned processes find the same functions.
    from bench.fanout import main as _main

    _main()
