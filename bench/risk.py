"""Deadline risk (issue 15, item 4): a back-test of the model against the naive baseline.

History: the real simulator replays `--days` days of the demo district through the real
writer into a fresh SQLite store (made once and cached in .cache/bench/; about 4 s a day).
Back-test: for each of the `--test-days` last whole days D before the end of the history
(the last day left for the cases to settle), a model is trained at D 00:00 from what the
store would have known then (cases settled before D, or past their closure deadline
before D: dispatch.risk.history_moments), and judged on the moments of the cases reported
on D (each stage's entry and a quarter, half and three quarters of its time, while not yet
late; label: the case went on to miss a deadline), whose outcomes come from the end of
the history. Cases still open and on time at the end are left out (outcome unknown).
Baseline: each case's category's late rate in the same training window (smoothed as the
model's reason is), whatever its stage. Prints Brier scores, log loss, recall at a fixed
precision, and the command to reproduce. The per-street forecast of the cases turning
overdue (first missing a deadline) during each judged day, made at its 00:00 from the open
cases as they stood then, against the naive forecast (the street's cases that turned
overdue a day over the 14 days before): mean absolute error per street and day.
docs/kpis.md §8 defines the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import numpy as np

from bench import common
from dispatch import risk
from dispatch.app import load_reference, prepare
from dispatch.clock import Clock
from dispatch.domain.calendar import CST
from dispatch.kpi import day_start
from dispatch.server import DispatchServer
from dispatch.simulator import Simulator
from dispatch.store.store import Store
from protocol.messages import RISK_SHOWN_FROM

CACHE = common.ROOT / ".cache" / "bench"
END = datetime(2026, 11, 30, 6, 0, tzinfo=CST).timestamp()  # the history ends here
PRECISION = 0.5  # recall is measured at this precision (the badge's "one in two is late")


async def _simulate(path: Path, days: int, seed: int, daily: int) -> None:
    store = Store(f"sqlite:///{path}")
    prepare(store)
    reference = load_reference(store, END)
    # The clock barely moves: the simulator replays the days before it at full speed.
    server = DispatchServer(store, reference, Clock(speed=0.001, start=END))
    server.begin_catching_up()
    await server.start("127.0.0.1", 0, intake_now=False)
    simulator = Simulator(server, seed=seed, daily_events=daily, history_days=days)
    task = asyncio.create_task(simulator.run(warm_up=True))
    try:
        await simulator.live.wait()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await server.stop()
        store.close()


def history(days: int, seed: int, cache: Path = CACHE, daily: int = 720) -> Path:
    """A store holding `days` simulated days before END (and END's morning) of `daily`
    cases a day, made once."""
    path = cache / f"risk-{days}d-{seed}-{daily}.db"
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    for leftover in cache.glob(partial.name + "*"):
        leftover.unlink()
    asyncio.run(_simulate(partial, days, seed, daily))
    for leftover in cache.glob(partial.name + "?*"):  # -wal, -shm, .owner
        leftover.unlink()
    partial.replace(path)
    return path


def brier(p: np.ndarray, y: np.ndarray) -> float:
    """Mean squared difference of probability and outcome (lower is better)."""
    return float(np.mean((p - y) ** 2))


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log-likelihood (lower is better)."""
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


def recall_at(p: np.ndarray, y: np.ndarray, precision: float) -> float:
    """The largest share of the late moments flagged by a threshold whose flags are at
    least `precision` right (0 when no threshold reaches it). Ties flag together."""
    positives = float(y.sum())
    if not positives:
        return float("nan")
    best = 0.0
    for threshold in np.unique(p):
        flagged = p >= threshold
        hits = float(y[flagged].sum())
        if flagged.any() and hits / float(flagged.sum()) >= precision:
            best = max(best, hits / positives)
    return best


def at_threshold(p: np.ndarray, y: np.ndarray, threshold: float) -> tuple[float, float, float]:
    """The badge's threshold: the share of moments flagged, their precision, the recall."""
    flagged = p >= threshold
    hits = float(y[flagged].sum())
    precision = hits / float(flagged.sum()) if flagged.any() else float("nan")
    return float(flagged.mean()), precision, hits / max(float(y.sum()), 1.0)


def backtest(path: Path, test_days: int) -> dict[str, object]:
    """Train at each test day's start, judge on its cases; the pooled figures."""
    store = Store(f"sqlite:///{path}")
    try:
        reference = load_reference(store, END)
        events = list(store.events_reported(0.0, math.inf))
    finally:
        store.close()
    end = max(e.updated_at for e in events)
    last = day_start(end) - 86400  # the last whole day has a day to settle its cases
    model_p: list[np.ndarray] = []
    base_p: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    trained: list[float] = []
    samples: list[int] = []
    scales: list[float] = []  # the forecast's open-case scale of each day's model
    forecast_errors: list[float] = []
    totals = [0.0, 0.0, 0.0]  # forecast, naive, actual: summed over streets and days
    naive_errors: list[float] = []
    streets = sorted(reference.streets)
    for k in range(test_days, 0, -1):
        day = last - (k - 1) * 86400
        started = time.perf_counter()
        model = risk.train(events, reference, day)
        trained.append(time.perf_counter() - started)
        if model is None:
            continue
        samples.append(model.samples)
        scales.append(model.open_scale)
        judged = [
            m
            for m in risk.history_moments(events, reference, end, day)
            if m.event.reported_at < day + 86400
        ]
        model_p.append(model.predict(judged))
        base_p.append(np.array([model.rates.of_category(m.event.category) for m in judged]))
        labels.append(np.array([m.label for m in judged], dtype=np.float64))
        # The forecast at 00:00 against what came of the day: the cases that turned overdue
        # during it (known at the end of the history), and the naive forecast: the street's
        # cases that turned overdue a day over the 14 days before (known at 00:00).
        standing = risk.state_at(events, reference, day)
        forecast = risk.assess(model, standing, day).forecast
        late: Counter[str] = Counter()
        naive: Counter[str] = Counter()
        for e in events:
            turned = risk.first_overdue(e, reference, end)
            if turned is not None and day <= turned < day + 86400:
                late[e.street] += 1
            turned = risk.first_overdue(e, reference, day)
            if turned is not None and day - 14 * 86400 <= turned:
                naive[e.street] += 1
        for street in streets:
            forecast_errors.append(abs(forecast.get(street, 0.0) - late[street]))
            naive_errors.append(abs(naive[street] / 14.0 - late[street]))
            totals[0] += forecast.get(street, 0.0)
            totals[1] += naive[street] / 14.0
            totals[2] += late[street]
    p, b, y = np.concatenate(model_p), np.concatenate(base_p), np.concatenate(labels)
    return {
        "events": len(events),
        "moments": len(y),
        "late": int(y.sum()),
        "train_s": float(np.mean(trained)),
        "train_samples": int(np.mean(samples)),
        "model": (brier(p, y), log_loss(p, y), recall_at(p, y, PRECISION)),
        "baseline": (brier(b, y), log_loss(b, y), recall_at(b, y, PRECISION)),
        "climatology": brier(np.full_like(y, y.mean()), y),
        "badge": (at_threshold(p, y, RISK_SHOWN_FROM), at_threshold(b, y, RISK_SHOWN_FROM)),
        "forecast_mae": (float(np.mean(forecast_errors)), float(np.mean(naive_errors))),
        "forecast_totals": tuple(totals),
        "open_scale": (min(scales), max(scales)),
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Make (or reuse) the history, back-test, print."""
    parser = argparse.ArgumentParser(prog="python -m bench risk", description=__doc__)
    parser.add_argument("--days", type=int, default=35, help="days of simulated history (35)")
    parser.add_argument("--test-days", type=int, default=5, help="days judged (5)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    path = history(args.days, args.seed)
    made = time.perf_counter() - started
    r = backtest(path, args.test_days)
    print(
        f"history: {args.days} simulated days, {r['events']:,} cases ({made:.0f} s to make or"
        f" open); judged: the last {args.test_days} whole days, {r['moments']:,} moments,"
        f" {r['late']:,} of them late ({r['late'] / r['moments']:.1%});"  # type: ignore[operator]
        f" a model trained per day on ~{r['train_samples']:,} moments in"
        f" {r['train_s']:.2f} s"
    )
    rows = []
    for name, key in (
        ("model (logistic, numpy)", "model"),
        ("baseline: category's rate", "baseline"),
    ):
        b, ll, rec = r[key]  # type: ignore[misc,has-type]
        rows.append([name, f"{b:.4f}", f"{ll:.4f}", f"{rec:.1%}"])
    rows.append(["(one rate for all: base rate)", f"{r['climatology']:.4f}", "", ""])
    print(common.table(["", "Brier", "log loss", f"recall at precision ≥ {PRECISION:.0%}"], rows))
    (share, precision, recall), (b_share, b_precision, b_recall) = r["badge"]  # type: ignore[misc]
    print(
        f"the badge (p ≥ {RISK_SHOWN_FROM:.0%}): the model flags {share:.1%} of the moments,"
        f" {precision:.1%} of them end late, {recall:.1%} of the late ones flagged; the"
        f" baseline at the same threshold: {b_share:.1%}, {b_precision:.1%}, {b_recall:.1%}"
    )
    model_mae, naive_mae = r["forecast_mae"]  # type: ignore[misc]
    print(
        f"tomorrow's cases turning overdue per street (at 00:00 for the day): mean absolute"
        f" error {model_mae:.2f} cases (forecast) against {naive_mae:.2f} (naive: the"
        " street's cases turning overdue a day over the 14 days before); in all, forecast"
        " %.1f, naive %.1f, actual %.0f" % r["forecast_totals"]  # type: ignore[str-format]
    )
    low, high = r["open_scale"]  # type: ignore[misc]
    print(f"the open cases' scale fitted at each training: {low:.2f}–{high:.2f}")
    print(f"reproduce: {common.reproduce('bench', ['risk', *(argv or [])])}")
