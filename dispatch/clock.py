"""The backend's clock: real time, or accelerated for the simulator.

District time runs on the monotonic clock from a wall-clock anchor taken at start, so a step
of the system clock (a wrong clock corrected, an NTP step) never makes it jump: forwards an
hour would fire every escalation at once, backwards a minute would freeze every countdown.
A clock that follows the wall clock (speed 1, no simulated start) is instead slewed towards
it by `follow()`, at most 10 % faster or slower, never backwards (docs/operations.md §4).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

MAX_SLEW = 0.10  # district time runs at 0.9x to 1.1x while it catches a stepped clock up
SLEW_HORIZON = 10.0  # seconds: below MAX_SLEW, an error is taken in over about this long
JUMP = 2.0  # seconds of difference said in the log (once per jump)


class Clock:
    """Maps real time to (possibly accelerated) district time, in epoch seconds."""

    def __init__(
        self,
        speed: float = 1.0,
        start: float | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self.speed = speed
        self._monotonic = monotonic
        self._wall = wall
        # Only real time is slewed to the wall clock: a simulated day has no wall to follow.
        self.follows_wall = speed == 1.0 and start is None
        real0 = monotonic()
        # One segment at a time: (monotonic then, district time then, district s per real s);
        # replaced whole, so a reader on another thread never sees half of one.
        self._segment = (real0, wall() if start is None else start, speed)
        self._said = False

    def now(self) -> float:
        """The current district time."""
        real0, district0, rate = self._segment
        return district0 + (self._monotonic() - real0) * rate

    def skip(self, seconds: float) -> None:
        """Move district time on by `seconds` at once (tests and tools, never the backend:
        a step is what `follow` exists to avoid)."""
        real0, district0, rate = self._segment
        self._segment = (real0, district0 + seconds, rate)

    def real_delay(self, sim_seconds: float) -> float:
        """Real seconds until `sim_seconds` of district time have passed."""
        return max(0.0, sim_seconds / self.speed)

    def follow(self) -> float:
        """Steer towards the wall clock (call every few seconds); the error, in seconds."""
        if not self.follows_wall:
            return 0.0
        real = self._monotonic()
        real0, district0, _ = self._segment
        district = district0 + (real - real0) * self._segment[2]
        error = self._wall() - district
        if abs(error) > JUMP and not self._said:
            self._said = True
            log.warning(
                "the system clock differs from district time by %+.1f s (stepped?): district"
                " time takes it in at %.0f%% %s, never jumping",
                error,
                MAX_SLEW * 100,
                "faster" if error > 0 else "slower",
            )
        elif abs(error) <= JUMP / 4:
            self._said = False
        slew = max(-MAX_SLEW, min(MAX_SLEW, error / SLEW_HORIZON))
        self._segment = (real, district, 1.0 + slew)
        return error
