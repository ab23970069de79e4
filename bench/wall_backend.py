"""The wall benchmark's backend: `python -m dispatch demo` with measuring hooks.

`python -m bench.wall_backend demo ARGS...` patches a few things in its own process and then
hands over to `dispatch.cli.main`, so the server, the simulator, the demo users, the ready
file and `--exit-with-parent` are exactly what the desktop's embedded backend runs.
bench.wall starts it through `desktop.core.backend.EmbeddedBackend` (see `BenchBackend` there).

The patches (this process only):

- `Store.commit` records `(first seq, count, time.time())` right after every commit;
- `DispatchServer.start` keeps the server and starts a feeder thread. The feeder watches
  `$TONGGUAN_DATA/bench-feed.json` for a phase `{"id", "rate", "start", "stop"}` (wall-clock
  times) and submits `report` commands to the writer at that rate from `start` to `stop`,
  10 ms ticks, as bench.fanout's producer does: they go through the writer's commit and
  the hub's fan-out like any command. Once the writer has drained it writes
  `bench-commits-<id>.json`: the commits since the phase began and this process's CPU
  (per thread) at `start` and `stop`;
- with `TG_BENCH_REPLAY_HOURS=H` and `TG_BENCH_DAILY_EVENTS=N` (preparing the cold-start
  data set): the simulator's warm-up replays the last H hours (instead of today since
  midnight) at N events a day, and `bench-warmed.json` is written once it has caught up.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

FEED_FILE = "bench-feed.json"
COMMITS_FILE = "bench-commits-{id}.json"
WARMED_FILE = "bench-warmed.json"

_commits: list[tuple[int, int, float]] = []
_server: list[Any] = []


def pin_to_cpus() -> None:
    """With TG_BENCH_CPUS="0" (or "0,1"): this thread, and every thread and child process it
    starts afterwards, runs on those CPUs only (bench.wall --split-cores)."""
    cpus = os.environ.get("TG_BENCH_CPUS")
    if cpus:
        os.sched_setaffinity(0, {int(c) for c in cpus.split(",")})


def _data_dir() -> Path:
    from dispatch.app import data_dir

    return data_dir()


def _write_json(path: Path, doc: object) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(doc))
    os.replace(tmp, path)


def _patch_commit() -> None:
    from dispatch.store.store import Store

    original = Store.commit

    def timed(self: Store, changes: Any, *args: Any, **kwargs: Any) -> int:
        first = original(self, changes, *args, **kwargs)
        if changes:
            _commits.append((first, len(changes), time.time()))
        return first

    Store.commit = timed  # type: ignore[method-assign]


def _patch_server() -> None:
    from dispatch.server import DispatchServer

    original = DispatchServer.start

    async def start(self: DispatchServer, *args: Any, **kwargs: Any) -> int:
        port = await original(self, *args, **kwargs)
        _server.append(self)
        loop_tid = threading.get_native_id()
        threading.Thread(
            target=_feeder, args=(self, loop_tid), name="bench-feeder", daemon=True
        ).start()
        return port

    DispatchServer.start = start  # type: ignore[method-assign]


def _feeder(server: Any, loop_tid: int) -> None:
    """Wait for phases in the feed file; run each; write its commits once drained."""
    from bench import common
    from bench.fanout import produce

    path = _data_dir() / FEED_FILE
    requests = common.report_requests(common.report_pool(server.reference, 4096))
    done: set[int] = set()
    ids: dict[str, int | None] = {
        "loop": loop_tid,
        "writer": server.writer._thread.native_id,
        "feeder": threading.get_native_id(),
        "process": -os.getpid(),  # negative: the whole process
    }
    while True:
        time.sleep(0.02)
        try:
            phase = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if phase["id"] in done:
            continue
        done.add(phase["id"])
        begin = len(_commits)
        time.sleep(max(0.0, phase["start"] - time.time()))
        cpu0 = common.thread_cpu(ids)
        wall0 = time.time()
        fed = produce(server.writer, requests, phase["rate"], 0.01, phase["start"], phase["stop"])
        cpu1 = common.thread_cpu(ids)
        wall1 = time.time()
        # Drain: the writer's queue empty and no new commit for 0.3 s.
        quiet_since = time.monotonic()
        seen = len(_commits)
        while time.monotonic() - quiet_since < 0.3:
            time.sleep(0.05)
            if len(_commits) != seen or server.writer._queue.qsize():
                seen, quiet_since = len(_commits), time.monotonic()
        _write_json(
            _data_dir() / COMMITS_FILE.format(id=phase["id"]),
            {
                "phase": phase,
                "fed": fed,
                "commits": _commits[max(0, begin - 50) :],
                "cpu": [[wall0, cpu0], [wall1, cpu1]],
            },
        )


def _patch_simulator(hours: float, daily_events: int) -> None:
    import dispatch.simulator as sim
    from dispatch.kpi import day_start

    first = [True]

    def replay_start(now: float) -> float:
        # Simulator.run asks for the start of today once, first: answer "H hours ago".
        if first[0]:
            first[0] = False
            return now - hours * 3600
        return day_start(now)

    sim.day_start = replay_start  # type: ignore[attr-defined]
    original_init = sim.Simulator.__init__

    def init(self: Any, server: Any, **kwargs: Any) -> None:
        kwargs["daily_events"] = daily_events
        original_init(self, server, **kwargs)
        threading.Thread(target=_warm_watch, args=(self,), daemon=True).start()

    sim.Simulator.__init__ = init  # type: ignore[method-assign]


def _warm_watch(simulator: Any) -> None:
    started = time.monotonic()
    while not simulator.warmed_up:
        time.sleep(0.2)
    server = simulator.server
    _write_json(
        _data_dir() / WARMED_FILE,
        {
            "seconds": time.monotonic() - started,
            "events": len(server.state.events),
            "alerts": len(server.state.alerts),
            "submitted": simulator.submitted,
            "head": server.hub.head,
        },
    )


def main(argv: list[str] | None = None) -> int:
    """Patch, then run the dispatch command line with these arguments."""
    pin_to_cpus()
    _patch_commit()
    _patch_server()
    hours = os.environ.get("TG_BENCH_REPLAY_HOURS")
    if hours:
        _patch_simulator(float(hours), int(os.environ.get("TG_BENCH_DAILY_EVENTS", "720")))
    from dispatch.cli import main as dispatch_main

    return dispatch_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
