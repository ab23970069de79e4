"""Commit-to-client latency of the live fan-out: 100 raw websocket clients, 1,000+ deltas/s.

Tongguan's server (SQLite in a temp dir) runs in a fresh process per rate; the clients run
in a child process so that their CPU is not counted as the server's. A producer thread feeds
`report` commands to the writer at a fixed rate; the commit time of every seq is taken right
after `Store.commit` returns, and each client timestamps every delta it reads.

Right after each Tongguan run, the same clients measure the baselines at the same rate: bare
`websockets` servers sending messages of the size of Tongguan's deltas, one
`websockets.broadcast` per message, or each tick's messages framed once and written once per
client (bench/fanout_baseline.py). The target compares the p99s of the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import statistics
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from bench import common, fanout_baseline, whatif
from bench.fanout_measure import Outcome, analyse, clients_main, payload_size, rows
from bench.fanout_trace import Tracer
from dispatch.limits import Limits
from dispatch.store.store import Store
from dispatch.writer import CommandRequest, Writer

TARGET_P99_MS = 5.0  # the first target: Tongguan alone at 100 x 1,000/s
TARGET_RATIO = 1.5  # issue 9: Tongguan's p99 / the baseline's p99 at 1,000 and 2,000/s
RATIO_RATES = (1000, 2000)
KEEP_UP_RATE = 5000
DEFAULT_MESSAGE_BYTES = 514  # a `report` delta's JSON, for baseline-only runs


# ---- Tongguan's server ------------------------------------------------------------------


def produce(
    writer: Writer,
    requests: Sequence[CommandRequest],
    rate: int,
    tick: float,
    start: float,
    stop: float,
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
    rate: int,
    n_clients: int,
    duration: float,
    warmup: float,
    patches: Sequence[str] = (),
    trace: bool = False,
) -> Outcome:
    """One full run in this process: fresh database, server, client process, producer."""
    whatif.apply(patches)
    tracer = Tracer() if trace else None
    if tracer is not None:
        tracer.install()
    return asyncio.run(_run_rate(rate, n_clients, duration, warmup, tracer))


async def _run_rate(
    rate: int,
    n_clients: int,
    duration: float,
    warmup: float,
    tracer: Tracer | None,
    tick: float = 0.01,
) -> Outcome:
    with common.database("sqlite") as url:
        store, reference = common.prepared(url)
        token = store.create_user("bench", "dispatcher")
        commits: list[tuple[int, int, float]] = []
        _time_commits(store, commits)
        # Every client is the one bench user: the per-user cap (64) would refuse most.
        limits = Limits(connections_per_user=max(n_clients, Limits().connections_per_user))
        server = await common.started(store, reference, limits)
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
            sizes = [payload_size(wire) for _, _, wire in server.hub.ring]
            parent.send(("stop", head))
            kind, records, _ = await asyncio.to_thread(parent.recv)
            assert kind == "done"
            await asyncio.to_thread(proc.join, 10)
        finally:
            if proc.is_alive():
                proc.kill()
            await server.stop()
            store.close()
    size = sum(sizes) / len(sizes) if sizes else float("nan")
    outcome = analyse(
        "tongguan", rate, n_clients, commits, records, (mark0, mark1), size, kpi_events
    )
    if tracer is not None:
        outcome.notes = tracer.report(commits, records, (mark0.wall, mark1.wall))
    return outcome


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


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5 s windows instead of 20 s")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--rates", default="1000,2000,5000", help="deltas/s, comma-separated")
    parser.add_argument("--duration", type=float, help="measured seconds per rate")
    parser.add_argument("--warmup", type=float, help="unmeasured seconds before the window")
    parser.add_argument(
        "--servers",
        default="tongguan,broadcast,batched",
        help="comma-separated, run in this order at each rate: tongguan and the baselines "
        + ", ".join(fanout_baseline.MODES),
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="run every rate N times (verdicts use medians)"
    )
    parser.add_argument(
        "--size",
        type=int,
        help="baseline message bytes (default: the mean of Tongguan's deltas in the same run,"
        f" {DEFAULT_MESSAGE_BYTES} without tongguan)",
    )
    parser.add_argument(
        "--trace",
        action="store_true",
        help="stamp Tongguan's pauses (gc, KPI recount, fan-out, writer) and say which ones"
        " the p99 deliveries waited for (bench/fanout_trace.py)",
    )
    whatif.add_option(parser)
    args = parser.parse_args(argv)
    args.duration = args.duration or (5.0 if args.quick else 20.0)
    args.warmup = args.warmup or (2.0 if args.quick else 3.0)
    return args


def _line(o: Outcome) -> str:
    return (
        f"  {o.server:>8} {o.rate:>6}/s: p50 {o.p50_ms:.2f} ms  p99 {o.p99_ms:.2f} ms  "
        f"max {o.max_ms:.1f} ms  drift {o.drift_ms:+.1f} ms  "
        f"delivered {o.delivered}/{o.expected}  {o.message_bytes:.0f} B  "
        f"server CPU {o.server_cpu:.0f}%"
    )


def main(argv: Sequence[str] | None = None) -> list[Outcome]:
    """Run every rate (Tongguan, then the baselines), print the tables and the verdicts."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse(argv)
    rates = [int(r) for r in args.rates.split(",") if r]
    servers = [s for s in args.servers.split(",") if s]
    unknown = set(servers) - {"tongguan", *fanout_baseline.MODES}
    if unknown:
        raise SystemExit(f"unknown servers: {', '.join(sorted(unknown))}")
    print(
        f"fan-out: {args.clients} clients, {args.duration:.0f} s per rate, "
        f"{' then '.join(servers)}, {args.repeat} time(s)"
    )
    whatif.describe(args.what_if)
    outcomes: list[Outcome] = []
    for _ in range(args.repeat):
        for rate in rates:
            size = args.size or DEFAULT_MESSAGE_BYTES
            for name in servers:
                # Each run in a fresh process: a writer still draining a backlog must not
                # leak into the next run.
                if name == "tongguan":
                    outcome = common.isolated(
                        run_rate,
                        rate,
                        args.clients,
                        args.duration,
                        args.warmup,
                        args.what_if,
                        args.trace,
                    )
                    size = args.size or round(outcome.message_bytes)
                else:
                    outcome = common.isolated(
                        fanout_baseline.run_rate,
                        name,
                        rate,
                        args.clients,
                        args.duration,
                        args.warmup,
                        size,
                    )
                outcomes.append(outcome)
                print(_line(outcome), flush=True)
                if outcome.notes:
                    print("    " + outcome.notes.replace("\n", "\n    "), flush=True)
    headers, body = rows(outcomes)
    print()
    print(common.table(headers, body))
    verdicts(outcomes)
    print(f"\nreproduce: {common.reproduce('bench.fanout', argv)}")
    return outcomes


def verdicts(outcomes: Sequence[Outcome]) -> None:
    """Print the ratio table and whether the targets are met (medians over repeats)."""
    by: dict[tuple[str, int], list[Outcome]] = {}
    for o in outcomes:
        by.setdefault((o.server, o.rate), []).append(o)
    first = by.get(("tongguan", 1000), [])
    if first and first[0].clients == 100:
        p99 = statistics.median(o.p99_ms for o in first)
        met = p99 <= TARGET_P99_MS and all(o.keeps_up for o in first)
        print(
            f"\ntarget p99 <= {TARGET_P99_MS:.0f} ms at 100 x 1,000/s: "
            f"{'met' if met else 'MISSED'} ({p99:.2f} ms)"
        )
    table = []
    ratios: dict[tuple[str, int], float] = {}
    for rate in sorted({o.rate for o in outcomes}):
        ours = by.get(("tongguan", rate), [])
        for mode in fanout_baseline.MODES:
            base = by.get((mode, rate), [])
            if not ours or not base:
                continue
            # Paired by repetition: each Tongguan run against the baseline run right after it.
            each = [t.p99_ms / b.p99_ms for t, b in zip(ours, base, strict=False)]
            ratios[mode, rate] = statistics.median(each)
            table.append(
                [
                    f"{rate:,}",
                    mode,
                    " / ".join(f"{o.p99_ms:.2f}" for o in ours),
                    " / ".join(f"{o.p99_ms:.2f}" for o in base),
                    " / ".join(f"{r:.2f}" for r in each),
                    f"{ratios[mode, rate]:.2f}",
                    f"{sum(o.keeps_up for o in ours)}/{len(ours)}",
                    f"{sum(o.keeps_up for o in base)}/{len(base)}",
                ]
            )
    if table:
        print()
        print(
            common.table(
                [
                    "deltas/s",
                    "baseline",
                    "Tongguan p99 ms",
                    "baseline p99 ms",
                    "ratio",
                    "median ratio",
                    "Tongguan keeps up",
                    "baseline keeps up",
                ],
                table,
            )
        )
    for (mode, rate), ratio in ratios.items():
        if rate not in RATIO_RATES:
            continue
        base = by[mode, rate]
        caveat = "" if all(o.keeps_up for o in base) else "; the baseline did not keep up"
        print(
            f"target p99 <= {TARGET_RATIO}x {mode}'s at {rate:,}/s: "
            f"{'met' if ratio <= TARGET_RATIO else 'MISSED'} ({ratio:.2f}x{caveat})"
        )
    fast = by.get(("tongguan", KEEP_UP_RATE), [])
    if fast:
        met = all(o.keeps_up for o in fast)
        print(
            f"target Tongguan keeps up at {KEEP_UP_RATE:,}/s: {'met' if met else 'MISSED'} "
            f"({sum(o.keeps_up for o in fast)}/{len(fast)} runs)"
        )


if __name__ == "__main__":
    # Through the package name, so that spawned processes find the same functions.
    from bench.fanout import main as _main

    _main()
