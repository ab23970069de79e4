"""The backend's clock: real time, or accelerated for the simulator."""

from __future__ import annotations

import time


class Clock:
    """Maps real time to (possibly accelerated) district time, in epoch seconds."""

    def __init__(self, speed: float = 1.0, start: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self.speed = speed
        self._real0 = time.monotonic()
        self._sim0 = time.time() if start is None else start

    def now(self) -> float:
        """The current district time."""
        return self._sim0 + (time.monotonic() - self._real0) * self.speed

    def real_delay(self, sim_seconds: float) -> float:
        """Real seconds until `sim_seconds` of district time have passed."""
        return max(0.0, sim_seconds / self.speed)
