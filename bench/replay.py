"""Replay (issue 15, item 1): seek to random moments of 30 days of history, target ≤ 1 s.

History: the real simulator writes `--days` days of the demo district (`--daily` cases a
day) through the real writer into a SQLite store, made once and cached in .cache/bench/ (the
deadline-risk bench's history: `python -m bench risk` makes the same file). A copy is
upgraded, its checkpoints made as the backend makes them (dispatch/replay.py; timed), and a
real backend serves it. A real client (the commander: the whole district; then 菱湖分中心)
sends `replay {"at": T}` for `--seeks` moments drawn uniformly from the kept history, one at
a time, over a real websocket, then as many with `only_kpis` (a player's look ahead); a
seek's time is from the request sent to the answer decoded (decode_server), and every answer
carries the day's KPIs at T and its curve. Then a few seeks with every checkpoint dropped,
for comparison (the log applied from its first row). Prints p50/p99/max, the answers' sizes
and the command to reproduce.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

from bench import common
from bench.risk import END, history
from dispatch import kpi
from dispatch.app import load_reference
from dispatch.clock import Clock
from dispatch.limits import Limits
from dispatch.replay import make_checkpoints, state_at
from dispatch.server import DispatchServer
from dispatch.store.store import Store
from protocol.codec import decode_server, encode
from protocol.entities import OPEN_STATUSES
from protocol.messages import Hello, Replay, Result, Snapshot

TARGET_S = 1.0
LINGHU = "340803004"  # 菱湖街道


async def _client(port: int, token: str) -> ClientConnection:
    ws = await connect(f"ws://127.0.0.1:{port}", max_size=None, compression=None)
    await ws.send(encode(Hello(id=1, protocol=1, token=token, client="bench", view="all")))
    while not isinstance(decode_server(await ws.recv()), Snapshot):
        pass
    return ws


async def _seek(
    ws: ClientConnection, request: int, at: float, *, only_kpis: bool = False
) -> tuple[float, int, int]:
    """(seconds, answer bytes, events) of one seek; live messages meanwhile passed over.
    Every answer holds the day's KPIs at `at` and its curve (checked)."""
    started = time.perf_counter()
    await ws.send(encode(Replay(id=request, at=at, only_kpis=only_kpis)))
    while True:
        raw = await ws.recv()
        message = decode_server(raw)
        if isinstance(message, Result) and message.id == request:
            took = time.perf_counter() - started
            data = message.data
            assert isinstance(data["kpis"], dict) and len(data["curve"]) == 24, data
            return took, len(raw), len(data["events"])


def _figures(times: list[float]) -> str:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return (
        f"p50 {statistics.median(ordered) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms,"
        f" max {ordered[-1] * 1000:.0f} ms"
    )


async def _run(path: Path, seeks: int, cold: int, seed: int) -> None:
    store = Store(f"sqlite:///{path}")
    store.upgrade()
    tokens = {
        "commander": store.create_user("指挥长", "commander"),
        "linghu": store.create_user("菱湖分中心", "street", [LINGHU]),
    }
    epoch = store.epoch()
    head, _ = store.head()
    span = store.log_span()
    assert span is not None
    (_, first_at), (_, last_at) = span
    started = time.perf_counter()
    before = len(store.checkpoints(epoch))  # those the backend made while writing it
    made = make_checkpoints(store, epoch, head)
    took = time.perf_counter() - started
    kept = store.checkpoints(epoch)
    size = (await asyncio.to_thread(path.stat)).st_size
    print(
        f"history: {head:,} log rows over {(last_at - first_at) / 86400:.1f} days;"
        f" {before} checkpoints made by the backend as it wrote it, {made} more now in"
        f" {took:.1f} s ({took / max(made, 1) * 1000:.0f} ms each),"
        f" store {size / 2**20:.0f} MiB with them"
    )
    # Nothing else of the backend's own work while it measures: no checkpoint round, no
    # deadline-risk training (it would hold the interpreter for seconds at a time).
    limits = Limits(checkpoint_interval=3600.0, risk_first_delay=3600.0)
    server = DispatchServer(store, load_reference(store, END), Clock(0.001, END + 600), limits)
    port = await server.start("127.0.0.1", 0, intake_now=False)
    assert server.hub is not None
    rng = random.Random(seed)
    rows = []
    worst = 0.0
    try:
        for user in ("commander", "linghu"):
            ws = await _client(port, tokens[user])
            await server.hub.kpis_filled.wait()  # the start's KPI count, on a worker thread
            await _seek(ws, 2, first_at)  # warm: the store's first pages read
            times, sizes, counts = [], [], []
            for request in range(3, seeks + 3):
                seconds, size, events = await _seek(ws, request, rng.uniform(first_at, last_at))
                times.append(seconds)
                sizes.append(size)
                counts.append(events)
            worst = max(worst, *times)
            rows.append(
                [
                    f"{user}, {len(kept)} checkpoints",
                    seeks,
                    _figures(times),
                    f"{statistics.median(sizes) / 1024:.0f} KiB",
                    f"{statistics.median(counts):.0f}",
                ]
            )
            # A player's look ahead: the same moments' KPIs without the state.
            times, sizes = [], []
            for request in range(seeks + 3, 2 * seeks + 3):
                at = rng.uniform(first_at, last_at)
                seconds, size, _ = await _seek(ws, request, at, only_kpis=True)
                times.append(seconds)
                sizes.append(size)
            worst = max(worst, *times)
            rows.append(
                [
                    f"{user}, only_kpis",
                    seeks,
                    _figures(times),
                    f"{statistics.median(sizes) / 1024:.1f} KiB",
                    "0",
                ]
            )
            await ws.close()
        print(_parts(store, epoch, server, [rng.uniform(first_at, last_at) for _ in range(30)]))
        if cold:
            store.drop_checkpoints([seq for seq, _ in kept])
            ws = await _client(port, tokens["commander"])
            times = []
            await _seek(ws, 2, first_at)
            for request in range(3, cold + 3):
                seconds, _, _ = await _seek(ws, request, rng.uniform(first_at, last_at))
                times.append(seconds)
            rows.append(["commander, no checkpoint", cold, _figures(times), "", ""])
            await ws.close()
    finally:
        await server.stop()
        store.close()
    print(common.table(["seeks (at: random moment)", "n", "seek time", "answer", "events"], rows))
    met = "met" if worst <= TARGET_S else "MISSED"
    print(f"target: every seek with checkpoints ≤ {TARGET_S:.0f} s: {met}")


def _parts(store: Store, epoch: str, server: DispatchServer, moments: list[float]) -> str:
    """What a seek's KPIs cost on top of its state, timed apart at these moments (the
    replay's own steps, dispatch/replays.py): the state rebuilt, the two days' arrivals read,
    the day's KPIs counted."""
    departments = frozenset(server.reference.departments)
    state, read, count, cases = [], [], [], []
    for at in moments:
        started = time.perf_counter()
        picture = state_at(store, store.last_seq_at(at), epoch)
        rebuilt = time.perf_counter()
        day = kpi.day_start(at)
        rows = store.arrivals_placed(day - 86400, day + 86400)
        yesterday = kpi.hourly(((s, t) for s, _, t in rows if t < day), day - 86400)
        arrived = time.perf_counter()
        today = [
            e for e in picture.events.values() if e.status in OPEN_STATUSES or e.updated_at >= day
        ]
        kpi.compute(today, at, yesterday, departments).scopes("today")
        counted = time.perf_counter()
        state.append(rebuilt - started)
        read.append(arrived - rebuilt)
        count.append(counted - arrived)
        cases.append(len(today))
    return (
        f"a seek's parts, {len(moments)} moments (median / max): state rebuilt"
        f" {statistics.median(state) * 1000:.0f} / {max(state) * 1000:.0f} ms; two days'"
        f" arrivals read {statistics.median(read) * 1000:.1f} / {max(read) * 1000:.1f} ms;"
        f" the day's KPIs counted over {statistics.median(cases):.0f} cases"
        f" {statistics.median(count) * 1000:.1f} / {max(count) * 1000:.1f} ms"
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Make (or reuse) the history, copy it, make its checkpoints, seek, print."""
    parser = argparse.ArgumentParser(prog="python -m bench replay", description=__doc__)
    parser.add_argument("--days", type=int, default=30, help="days of simulated history (30)")
    parser.add_argument("--daily", type=int, default=720, help="cases a day (720)")
    parser.add_argument("--seeks", type=int, default=100, help="seeks per user (100)")
    parser.add_argument("--cold", type=int, default=5, help="seeks without checkpoints (5)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    cached = history(args.days, args.seed, daily=args.daily)
    print(f"history made or found in {time.perf_counter() - started:.0f} s: {cached}")
    with tempfile.TemporaryDirectory(prefix="replay-bench-") as tmp:
        path = Path(tmp) / "replay.db"
        shutil.copy(cached, path)
        asyncio.run(_run(path, args.seeks, args.cold, args.seed))
    print(f"reproduce: {common.reproduce('bench', ['replay', *(argv or [])])}")
