"""Deadline-risk training and the event loop (issue 15, item 4): the loop's worst stall while
a model trains in a thread of the loop's own process (the backend before item 4) or in a
process of its own (dispatch.risk_process, the backend now).

History: bench/risk.py's (the real simulator replays `--days` days of the demo district into
SQLite; cached in .cache/bench/). On one asyncio loop a ticker sleeps 5 ms over and over and
records how late each wake-up is. First a quiet window (`--quiet` seconds, nothing else
running), then `--runs` trainings of the model at the history's end, each as the backend
trains it: `--in thread` in a worker thread of this process (the store read, the reference
data, dispatch.risk_process.train_on: the backend's fallback, and what it did before), `--in
process` in a process of its own (RiskTrainer: `python -m dispatch train-risk` started from
the loop's thread, its answer awaited in a worker thread, as the backend does; its start-up
counted in the training's time). Prints each training's wall time and the ticks' worst and
99th-percentile lateness during it, and the command to reproduce.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence

from bench.risk import END, history
from dispatch.app import load_reference
from dispatch.risk import RiskModel
from dispatch.risk_process import RiskTrainer, train_on
from dispatch.store.store import Store

TICK = 0.005  # the ticker's sleep: about what the wall's fan-out waits between frames


class Ticker:
    """Sleeps TICK over and over on the loop; how late each wake-up was (seconds)."""

    def __init__(self) -> None:
        self.late: list[float] = []

    async def run(self) -> None:
        """Until cancelled."""
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(TICK)
            self.late.append(time.perf_counter() - asked - TICK)


async def _window(work: Awaitable[object] | float) -> tuple[float, list[float], object]:
    """Run `work` (or sleep that many seconds) with the ticker going: its wall time, the
    ticks' lateness meanwhile, and what it returned."""
    ticker = Ticker()
    task = asyncio.create_task(ticker.run())
    await asyncio.sleep(0.1)  # the ticker going before the work begins
    ticker.late.clear()
    began = time.perf_counter()
    result = await (asyncio.sleep(work) if isinstance(work, float) else work)
    took = time.perf_counter() - began
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return took, ticker.late, result


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) > 1 else max(values, default=0)


def _in_thread(url: str, now: float) -> RiskModel | None:
    """The training as the backend's fallback runs it (its reference read at start)."""
    store = Store(url, read_only=True)
    try:
        return train_on(store, load_reference(store, now), now)
    finally:
        store.close()


async def _in_process(trainer: RiskTrainer, now: float) -> RiskModel | None:
    """The training as the backend runs it: its process started on the loop's thread."""
    return await asyncio.to_thread(trainer.collect, trainer.start(now))


async def _measure(url: str, where: str, runs: int, quiet: float) -> None:
    trainer = RiskTrainer(url)
    train: Callable[[], Awaitable[RiskModel | None]]
    if where == "process":
        train = lambda: _in_process(trainer, END)  # noqa: E731
    else:
        train = lambda: asyncio.to_thread(_in_thread, url, END)  # noqa: E731
    try:
        _took, late, _ = await _window(quiet)
        print(
            f"quiet {quiet:.0f} s: {len(late)} ticks, worst late {max(late) * 1000:.1f} ms, "
            f"p99 {_p99(late) * 1000:.1f} ms"
        )
        for run in range(runs):
            took, late, model = await _window(train())
            assert isinstance(model, RiskModel), "too little history to train"
            print(
                f"training {run + 1} in a {where}: {took:.1f} s ({model.samples} moments), "
                f"{len(late)} ticks, worst late {max(late) * 1000:.1f} ms, "
                f"p99 {_p99(late) * 1000:.1f} ms"
            )
    finally:
        trainer.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench risk_stall", description=__doc__)
    parser.add_argument("--in", dest="where", choices=("thread", "process"), default="process")
    parser.add_argument("--days", type=int, default=35)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quiet", type=float, default=3.0)
    args = parser.parse_args(argv)
    path = history(args.days, args.seed)
    print(f"history: {path}; load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    asyncio.run(_measure(f"sqlite:///{path}", args.where, args.runs, args.quiet))
    print(
        f"\nreproduce: .venv/bin/python -m bench risk_stall --in {args.where} "
        f"--days {args.days} --seed {args.seed} --runs {args.runs}"
    )
    return 0
