"""Deadline risk (issue 15 item 4, docs/kpis.md §8): the model on a seeded simulated history
(made by the real simulator through the real writer into a real SQLite file), and the
`risk` messages a real client gets over a real websocket."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from msgspec.structs import replace

from bench.risk import END, backtest, history
from dispatch import risk
from dispatch.app import load_reference
from dispatch.clock import Clock
from dispatch.kpi import day_start
from dispatch.limits import Limits
from dispatch.reference import ReferenceData
from dispatch.store.store import Store
from protocol.entities import OPEN_STATUSES, Event, is_overdue
from protocol.messages import Result, Risk, Snapshot
from tests.dispatch.conftest import LINGHU, start_server
from tests.dispatch.test_server import handshake

DAYS, DAILY, SEED = 4, 400, 3


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four simulated days of 400 cases each (and the fifth's morning), seeded."""
    return history(DAYS, SEED, tmp_path_factory.getbasetemp() / "risk-history", daily=DAILY)


@pytest.fixture(scope="module")
def loaded(simulated: Path) -> tuple[list[Event], ReferenceData]:
    store = Store(f"sqlite:///{simulated}")
    try:
        return list(store.events_reported(0.0, math.inf)), load_reference(store, END)
    finally:
        store.close()


def test_the_model_trains_and_predicts_deterministically(
    loaded: tuple[list[Event], ReferenceData],
) -> None:
    events, reference = loaded
    cutoff = day_start(END)
    first = risk.train(events, reference, cutoff)
    again = risk.train(list(reversed(events)), reference, cutoff)  # order does not matter
    assert first is not None and again is not None
    assert first.index == again.index
    assert np.array_equal(first.weights, again.weights)
    assert first.samples > 1000
    live = {e.id: e for e in events}
    a, b = risk.assess(first, live, END), risk.assess(again, live, END)
    assert a.cases == b.cases and a.forecast == b.forecast
    # Every open case on time now has a risk; none late, held or settled has one.
    expected = {
        e.id for e in events if e.status in OPEN_STATUSES and not is_overdue(e, END) and not e.hold
    }
    assert set(a.cases) == expected and expected
    assert all(0.0 <= r.p <= 1.0 for r in a.cases.values())
    for event_id, r in a.cases.items():
        assert r.why.startswith(f"同类案件本街道近{risk.WINDOW_DAYS}天超期率 "), r.why
        e = live[event_id]
        rate = first.rates.of_category_street(e.category, e.street)
        assert r.why.split("；")[0].endswith(f" {round(rate * 100)}%")
    # The forecast covers the streets, and is never below what their open cases add up to.
    streets = {e.street for e in events}
    assert set(a.forecast) <= streets and len(a.forecast) >= len(streets) - 1
    for street, expected_count in a.forecast.items():
        open_sum = sum(r.p for i, r in a.cases.items() if live[i].street == street)
        assert expected_count >= round(open_sum, 2) - 0.01


def test_no_outcome_after_the_cutoff_reaches_the_model(
    loaded: tuple[list[Event], ReferenceData],
) -> None:
    """Cases reported before the cutoff that settled after it, on time at the cutoff: what
    became of them is not known then, and rewriting it changes nothing."""
    events, reference = loaded
    cutoff = day_start(END) - 86400
    later = [
        e
        for e in events
        if e.reported_at < cutoff
        and (e.closed_at or math.inf) > cutoff
        and (e.due_at or math.inf) >= cutoff
    ]
    assert later, "the history should hold cases open across the cutoff"
    ids = {e.id for e in later}
    rewritten = [
        replace(e, missed=["handle"], closed_at=(e.due_at or END) + 86400) if e.id in ids else e
        for e in events
    ]
    honest = risk.train(events, reference, cutoff)
    cheated = risk.train(rewritten, reference, cutoff)
    assert honest is not None and cheated is not None
    assert honest.index == cheated.index
    assert np.array_equal(honest.weights, cheated.weights)


def test_the_model_beats_the_category_rate_on_a_later_day(simulated: Path) -> None:
    """Trained at the start of the last whole day, judged on that day's cases."""
    result = backtest(simulated, 1)
    model_brier, _, _ = result["model"]  # type: ignore[misc]
    baseline_brier, _, _ = result["baseline"]  # type: ignore[misc]
    assert result["late"] > 5  # type: ignore[operator]
    assert model_brier < baseline_brier


async def test_risk_reaches_a_client_over_a_websocket(simulated: Path, tmp_path: Path) -> None:
    """A backend on the simulated history: its wall gets every visible case's risk in full,
    a street user only its street's; a case that moves gets a fresh risk in a later, partial
    message, coalesced with the others."""
    path = tmp_path / "served.db"
    shutil.copy(simulated, path)
    store = Store(f"sqlite:///{path}")
    limits = Limits(risk_interval=0.2, risk_first_delay=0.0)
    running = await start_server(store, limits, Clock(speed=1.0, start=END + 60))
    try:
        wall = await running.client("wall")
        _, snapshot = await handshake(wall)
        assert isinstance(snapshot, Snapshot)
        first = await wall.until(lambda m: isinstance(m, Risk), timeout=60)
        assert isinstance(first, Risk) and first.full
        now = first.at
        open_now = {
            e.id: e
            for e in snapshot.events
            if e.status in OPEN_STATUSES and not is_overdue(e, now) and not e.hold
        }
        assert first.cases and set(first.cases) <= set(open_now)
        assert set(first.forecast) >= {e.street for e in open_now.values()}
        for r in first.cases.values():
            assert 0.0 <= r.p <= 1.0 and r.why.startswith("同类案件本街道近30天超期率 ")

        linghu = await running.client("linghu")
        await handshake(linghu)
        own = await linghu.until(lambda m: isinstance(m, Risk), timeout=10)
        assert isinstance(own, Risk) and own.full
        assert set(own.forecast) == {LINGHU}
        assert own.cases and all(open_now[i].street == LINGHU for i in own.cases)

        # A reported case is accepted: its stage changes, and so does its risk.
        reported = next(e for e in open_now.values() if e.status == "reported")
        commander = await running.client("commander")
        await handshake(commander)
        answer = await commander.command("accept", {"event": reported.id})
        assert isinstance(answer, Result), answer
        moved = await wall.until(
            lambda m: isinstance(m, Risk) and not m.full and reported.id in m.cases, timeout=10
        )
        assert isinstance(moved, Risk)
        assert moved.cases[reported.id] != first.cases.get(reported.id)
        assert len(moved.cases) < len(first.cases)  # only what changed
        for client in (wall, linghu, commander):
            await client.ws.close()
    finally:
        await running.server.stop()
        store.close()


def test_training_starts_no_thread_of_the_blas_in_the_backend() -> None:
    """numpy's BLAS starts a thread per core lazily, at the first inverse: a backend counted
    an hour into its run would show it as a leak. The dispatch package keeps it to one."""
    probe = (
        "import os, dispatch.risk, numpy as np\n"
        "before = len(os.listdir('/proc/self/task'))\n"
        "np.linalg.inv(np.eye(300) * 4.0 + np.random.default_rng(1).random((300, 300)))\n"
        "print(before, len(os.listdir('/proc/self/task')))\n"
    )
    env = {k: v for k, v in os.environ.items() if "NUM_THREADS" not in k}
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    )
    before, after = map(int, out.stdout.split())
    assert after == before == 1
