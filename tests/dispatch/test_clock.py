"""District time never jumps: a stepped system clock is taken in at most 10 % faster or
slower (docs/operations.md §4), so a forward hour does not fire every escalation at once and
a backward minute does not freeze the countdowns."""

from __future__ import annotations

import logging

import pytest

from dispatch.clock import MAX_SLEW, Clock


class Machine:
    """A monotonic clock and a wall clock that can be stepped."""

    def __init__(self) -> None:
        self.mono = 1000.0
        self.wall = 1_795_000_000.0

    def run(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += seconds


def run_for(clock: Clock, machine: Machine, seconds: float, tick: float = 5.0) -> list[float]:
    """District times seen every tick, following the wall as the backend's clock loop does."""
    seen = []
    for _ in range(int(seconds / tick)):
        machine.run(tick)
        clock.follow()
        seen.append(clock.now())
    return seen


@pytest.mark.parametrize("step", [3600.0, -60.0], ids=["forward an hour", "back a minute"])
def test_a_stepped_system_clock_is_taken_in_gradually_never_jumping(step, caplog) -> None:
    machine = Machine()
    clock = Clock(monotonic=lambda: machine.mono, wall=lambda: machine.wall)
    assert clock.now() == machine.wall
    run_for(clock, machine, 60)
    before = clock.now()
    machine.wall += step  # the system clock is stepped
    with caplog.at_level(logging.WARNING, "dispatch.clock"):
        seen = run_for(clock, machine, abs(step) / MAX_SLEW * 1.2)
    rates = [(b - a) / 5.0 for a, b in zip([before, *seen], seen, strict=False)]
    # Never backwards, never frozen, never faster than 1.1x: no burst of escalations.
    assert min(rates) >= 1 - MAX_SLEW - 1e-9 and max(rates) <= 1 + MAX_SLEW + 1e-9
    # Caught up in about |step| / 10 % (an hour in ten hours, a minute in ten minutes).
    assert abs(clock.now() - machine.wall) < 0.5
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and f"{step:+.1f} s" in said[0]


def test_a_simulated_clock_does_not_follow_the_wall() -> None:
    machine = Machine()
    clock = Clock(60.0, start=1_700_000_000.0, monotonic=lambda: machine.mono)
    machine.run(10)
    clock.follow()
    assert clock.now() == 1_700_000_000.0 + 600.0
    fixed = Clock(start=1_700_000_000.0, monotonic=lambda: machine.mono)
    machine.run(10)
    fixed.follow()
    assert fixed.now() == 1_700_000_010.0
