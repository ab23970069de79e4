"""Sustained ingest with group commit, on SQLite and PostgreSQL, in-process and over websockets.

`submit`: a producer thread feeds pre-built `report` CommandRequests to the writer as fast as it
drains them (at most ~20,000 outstanding), so the figure is the writer's group-commit
throughput plus the hub's read-model update on the loop. `ws-street` / `ws-desk`: the same
reports arrive as websocket `command`s from 4 clients in a child process, each pipelining
with its own command_ids; street clerks see only their own street's deltas, desk
dispatchers see every delta (so the server also fans each one out 4 times). `ws-batch` /
`ws-batch-all`: the same reports sent as `report_batch` commands of BATCH reports each, every
report under its own external id, by 4 `gateway` users, each with at most BATCH_WINDOW
batches in flight; street gateways (`ws-batch`) see their own street's deltas, district-wide
ones (`ws-batch-all`) every delta.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import re
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection

import msgspec
import sqlalchemy as sa

from bench import common, whatif
from dispatch.server import Hub, Limits
from dispatch.store.store import Store
from dispatch.writer import CommandRequest, Writer
from protocol.commands import Report

TARGET_EVENTS_PER_S = 20_000
MAX_OUTSTANDING = 20_000
WS_CLIENTS = 4
WS_WINDOW = 1000  # commands in flight per websocket client
# Reports per report_batch: with the same reports as the other paths (title, point,
# description) 400 make a frame of ~56 KB, 500 would pass the 64 KiB limit.
BATCH = 400
BATCH_WINDOW = 8  # report_batch commands in flight per gateway (the server's default bound)
MODES = ("submit", "ws-street", "ws-desk", "ws-batch", "ws-batch-all")
BATCH_MODES = ("ws-batch", "ws-batch-all")
_CODE = re.compile(r'"code":"([^"]*)"')


# ---- the websocket client process ----------------------------------------------------------


def ws_clients_main(
    port: int, tokens: list[str], args_json: list[list[bytes]], conn: Connection, batch: int = 0
) -> None:
    """Entry point of the client process: hello, snapshot, then pipeline until told to stop
    (`batch` > 0: report_batch commands of that many reports)."""
    asyncio.run(_ws_clients(port, tokens, args_json, conn, batch))


async def _ws_clients(
    port: int, tokens: list[str], args_json: list[list[bytes]], conn: Connection, batch: int
) -> None:
    from websockets.asyncio.client import connect

    loop = asyncio.get_running_loop()
    sockets = []
    for token in tokens:
        ws = await connect(
            f"ws://127.0.0.1:{port}", compression=None, max_size=None, ping_interval=None
        )
        hello = {"id": 1, "type": "hello", "protocol": 1, "token": token, "client": "bench"}
        await ws.send(msgspec.json.encode(hello).decode())
        # Welcome, maybe the reference units, then the snapshot: the stream starts after it.
        while True:
            message = await ws.recv()
            assert isinstance(message, str), type(message)
            if message.startswith('{"type":"snapshot"'):
                break
            assert not message.startswith('{"type":"error"'), message[:300]
        sockets.append(ws)
    counts = [[0, 0, 0] for _ in sockets]  # sent, acknowledged, refused
    codes: dict[str, int] = {}  # why commands were refused
    stopping = asyncio.Event()
    conn.send("ready")
    pump = _pump_batches if batch else _pump
    pumps = [
        asyncio.create_task(pump(ws, k, args_json[k], counts[k], codes, stopping, batch))
        for k, ws in enumerate(sockets)
    ]
    await loop.run_in_executor(None, conn.recv)
    stopping.set()
    # Closing with answers still in flight would only measure the server's reaction to that.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*pumps), 30)
    for ws in sockets:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(), 5)
    conn.send((counts, codes))


async def _pump(
    ws: object,
    k: int,
    args_json: list[bytes],
    count: list[int],
    codes: dict[str, int],
    stopping: asyncio.Event,
    _batch: int = 0,
) -> None:
    """Keep WS_WINDOW commands in flight until `stopping`, then wait for the last answers."""
    from websockets.asyncio.client import ClientConnection

    assert isinstance(ws, ClientConnection)
    window = asyncio.Semaphore(WS_WINDOW)

    async def replies() -> None:
        async for message in ws:
            if isinstance(message, str) and message.startswith('{"type":"result"'):
                count[1] += 1
                window.release()
            elif isinstance(message, str) and message.startswith('{"type":"error"'):
                count[2] += 1
                found = _CODE.search(message)
                code = found.group(1) if found else "?"
                codes[code] = codes.get(code, 0) + 1
                window.release()

    reader = asyncio.create_task(replies())
    try:
        n = len(args_json)
        i = 2  # hello was id 1; ids must increase
        while not stopping.is_set():
            await window.acquire()
            args = args_json[i % n].decode()
            await ws.send(
                f'{{"id":{i},"type":"command","command_id":"b{k}-{i}","op":"report","args":{args}}}'
            )
            count[0] += 1
            i += 1
        for _ in range(WS_WINDOW):  # every permit back: every command answered
            await window.acquire()
    finally:
        reader.cancel()


_COUNTS = re.compile(r'"created":(\d+)')


async def _pump_batches(
    ws: object,
    k: int,
    args_json: list[bytes],
    count: list[int],
    codes: dict[str, int],
    stopping: asyncio.Event,
    batch: int = BATCH,
) -> None:
    """Keep BATCH_WINDOW report_batch commands in flight until `stopping`, each report under
    a new external id, numbered in order as work orders are (g0-000000001, …); `count` is
    reports sent, created and refused (batches refused whole count all their reports)."""
    from websockets.asyncio.client import ClientConnection

    assert isinstance(ws, ClientConnection)
    window = asyncio.Semaphore(BATCH_WINDOW)
    reports = [a.decode()[1:] for a in args_json]  # each without its opening brace

    async def replies() -> None:
        async for message in ws:
            if isinstance(message, str) and message.startswith('{"type":"result"'):
                found = _COUNTS.search(message)
                created = int(found.group(1)) if found else 0
                count[1] += created
                count[2] += batch - created
                window.release()
            elif isinstance(message, str) and message.startswith('{"type":"error"'):
                count[2] += batch
                found = _CODE.search(message)
                code = found.group(1) if found else "?"
                codes[code] = codes.get(code, 0) + 1
                window.release()

    reader = asyncio.create_task(replies())
    try:
        n = len(reports)
        i = 2  # hello was id 1; ids must increase
        sent = 0
        while not stopping.is_set():
            await window.acquire()
            items = ",".join(
                f'{{"external_id":"g{k}-{sent + j:09d}",{reports[(sent + j) % n]}'
                for j in range(batch)
            )
            frame = (
                f'{{"id":{i},"type":"command","command_id":"b{k}-{i}","op":"report_batch",'
                f'"args":{{"reports":[{items}]}}}}'
            )
            await ws.send(frame)
            count[0] += batch
            sent += batch
            i += 1
        for _ in range(BATCH_WINDOW):  # every permit back: every batch answered
            await window.acquire()
    finally:
        reader.cancel()


def batch_reports(pool: Sequence[Report]) -> list[bytes]:
    """The reports as a gateway sends them: the fields given, no defaults (a batch of BATCH
    of them must fit in the 64 KiB frame)."""
    encode = msgspec.json.Encoder().encode
    return [
        encode(
            {
                "category": r.category,
                "title": r.title,
                "lon": r.lon,
                "lat": r.lat,
                "description": r.description,
            }
        )
        for r in pool
    ]


# ---- the server process -------------------------------------------------------------------


@dataclass(slots=True)
class Outcome:
    """Figures of one ingest run."""

    db: str
    mode: str
    events_per_s: float
    committed: int
    window: float
    batches: int
    mean_batch: float
    rows: int
    log_rows: int
    server_cpu: float
    threads: dict[str, float]
    refused: int = 0

    @property
    def met(self) -> bool:
        """Whether the sustained rate reaches the target."""
        return self.events_per_s >= TARGET_EVENTS_PER_S


def feed(
    writer: Writer, hub: Hub, requests: Sequence[CommandRequest], stop: threading.Event, cap: int
) -> None:
    """Submit requests as fast as the writer drains them, never more than `cap` outstanding."""
    submitted = 0
    chunk = 500
    i = 0
    n = len(requests)
    while not stop.is_set():
        # hub.delivered is bumped on the loop after each commit: a cheap committed counter.
        if submitted - hub.delivered > cap - chunk:
            time.sleep(0.005)  # polling faster only takes the GIL from the writer
            continue
        for _ in range(chunk):
            writer.submit_nowait(requests[i])
            i = (i + 1) % n
        submitted += chunk


def run_ingest(
    db: str, mode: str, duration: float, warmup: float, patches: Sequence[str] = ()
) -> Outcome:
    """One full run in this process: fresh database and server, load, measurement."""
    whatif.apply(patches)
    return asyncio.run(_run(db, mode, duration, warmup))


async def _run(db: str, mode: str, duration: float, warmup: float) -> Outcome:
    with common.database(db) as url:
        store, reference = common.prepared(url)
        # The default limit (50 commands/s per client) is for people; this measures the server.
        limits = Limits(commands_per_second=1e9, command_burst=10**9)
        server = await common.started(store, reference, limits)
        assert server.writer is not None and server.hub is not None
        hub, writer = server.hub, server.writer
        stop = threading.Event()
        extra: dict[str, threading.Thread] = {}
        proc = None
        parent: Connection | None = None
        refused = 0
        try:
            if mode == "submit":
                requests = common.report_requests(common.report_pool(reference, 20_000))
                producer = threading.Thread(
                    target=feed,
                    args=(writer, hub, requests, stop, MAX_OUTSTANDING),
                    name="bench-producer",
                    daemon=True,
                )
                producer.start()
                extra["producer"] = producer
            else:
                streets = sorted(reference.streets)[:WS_CLIENTS]
                tokens, args_json = [], []
                for k, street in enumerate(streets):
                    if mode in ("ws-street", "ws-batch"):
                        role = "street" if mode == "ws-street" else "gateway"
                        tokens.append(store.create_user(f"bench-{k}", role, [street]))
                        pool = common.report_pool(reference, 5000, seed=k, streets=[street])
                    else:
                        role = "dispatcher" if mode == "ws-desk" else "gateway"
                        tokens.append(store.create_user(f"bench-{k}", role))
                        pool = common.report_pool(reference, 5000, seed=k)
                    if mode in BATCH_MODES:
                        args_json.append(batch_reports(pool))
                    else:
                        args_json.append([msgspec.json.encode(a) for a in pool])
                ctx = mp.get_context("spawn")
                parent, child = ctx.Pipe()
                proc = ctx.Process(
                    target=ws_clients_main,
                    args=(
                        server.port,
                        tokens,
                        args_json,
                        child,
                        BATCH if mode in BATCH_MODES else 0,
                    ),
                    daemon=True,
                )
                proc.start()
                ready = await asyncio.to_thread(parent.recv)
                assert ready == "ready", ready
            ids = common.server_threads(server, **extra)
            if proc is not None:
                ids["clients"] = -(proc.pid or 0)
            start = time.time() + warmup
            (mark0, (d0, b0, a0)), (mark1, (d1, b1, a1)) = await common.Window(
                ids,
                start,
                start + duration,
                lambda: (hub.delivered, writer.batches, writer.applied),
            ).done()
            stop.set()
            if parent is not None:
                parent.send("stop")
                counts, codes = await asyncio.to_thread(parent.recv)
                refused = sum(c[2] for c in counts)
                if codes:
                    print(f"  {db} {mode}: refused commands by code: {codes}", flush=True)
            for thread in extra.values():
                await asyncio.to_thread(thread.join)
        finally:
            stop.set()
            if proc is not None:
                await asyncio.to_thread(proc.join, 10)
                if proc.is_alive():
                    proc.kill()
            await server.stop()
        rows, log_rows = _count_rows(store)
        store.close()
    server_cpu, threads = common.cpu_share(mark0, mark1)
    window = mark1.wall - mark0.wall
    batches = b1 - b0
    return Outcome(
        db=db,
        mode=mode,
        events_per_s=(d1 - d0) / window,
        committed=d1 - d0,
        window=window,
        batches=batches,
        mean_batch=(a1 - a0) / batches if batches else 0.0,
        rows=rows,
        log_rows=log_rows,
        server_cpu=server_cpu,
        threads=threads,
        refused=refused,
    )


def _count_rows(store: Store) -> tuple[int, int]:
    with store.engine.connect() as conn:
        events = conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one()
        log = conn.execute(sa.text("SELECT count(*) FROM log")).scalar_one()
    return int(events), int(log)


# ---- reporting -----------------------------------------------------------------------------


def rows(outcomes: Sequence[Outcome]) -> tuple[list[str], list[list[object]]]:
    """Table headers and rows."""
    headers = [
        "database",
        "path",
        "events/s",
        "mean batch",
        "commits/s",
        "events rows at end",
        "server CPU",
        "loop / writer / producer / clients",
        f">= {TARGET_EVENTS_PER_S:,}/s",
    ]
    body = []
    for o in outcomes:
        t = o.threads
        parts = [f"{t['loop']:.0f}%", f"{t['writer']:.0f}%"]
        parts.append(f"{t['producer']:.0f}%" if "producer" in t else "-")
        parts.append(f"{t['clients']:.0f}%" if "clients" in t else "-")
        refused = f" ({o.refused} refused)" if o.refused else ""
        body.append(
            [
                o.db,
                o.mode,
                f"{o.events_per_s:,.0f}{refused}",
                f"{o.mean_batch:,.0f}",
                f"{o.batches / o.window:,.1f}",
                f"{o.rows:,}",
                f"{o.server_cpu:.0f}%",
                " / ".join(parts),
                "yes" if o.met else "**no**",
            ]
        )
    return headers, body


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="4 s windows instead of 15 s")
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite and/or postgres")
    parser.add_argument("--modes", default=",".join(MODES), help=", ".join(MODES))
    parser.add_argument("--duration", type=float, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    whatif.add_option(parser)
    args = parser.parse_args(argv)
    args.duration = args.duration or (4.0 if args.quick else 15.0)
    return args


def main(argv: Sequence[str] | None = None) -> list[Outcome]:
    """Run every database x path, print the table and the command that reproduces it."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse(argv)
    print(f"ingest: {args.duration:.0f} s windows after {args.warmup:.0f} s warm-up")
    whatif.describe(args.what_if)
    outcomes = []
    for db in [d for d in args.db.split(",") if d]:
        for mode in [m for m in args.modes.split(",") if m]:
            # A fresh process per run: nothing of one run's writer or data survives into the next.
            o = common.isolated(run_ingest, db, mode, args.duration, args.warmup, args.what_if)
            outcomes.append(o)
            print(
                f"  {db:<8} {mode:<9}: {o.events_per_s:>9,.0f} events/s  "
                f"mean batch {o.mean_batch:,.0f}  rows {o.rows:,}  CPU {o.server_cpu:.0f}%",
                flush=True,
            )
    headers, body = rows(outcomes)
    print()
    print(common.table(headers, body))
    print(f"\nreproduce: {common.reproduce('bench.ingest', argv)}")
    return outcomes


if __name__ == "__main__":
    # Through the package name, so that spawned processes find the same functions.
    from bench.ingest import main as _main

    _main()
