"""The wall's tour: the focus moves through the streets every N seconds.

It pauses for a while on a new urgent event (the focus goes to that event's street) and
while an operator is using the mouse or keyboard; it resumes by itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QTimer, Signal


class Tour(QObject):
    """Emits `focus(street code, or "" for the whole district)` as the tour moves on."""

    focus = Signal(str)

    def __init__(
        self,
        streets: Sequence[str],
        dwell: float,
        *,
        urgent_hold: float = 60.0,
        idle_resume: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.stops: list[str] = ["", *streets]  # the district first, then each street
        self.dwell = dwell
        self.urgent_hold = urgent_hold
        self.idle_resume = idle_resume
        self._clock = clock
        self._index = 0
        self._next_move = clock() + dwell
        self._paused_until = 0.0
        self.reason = ""  # why it is paused: "urgent", "operator" or ""
        self._timer = QTimer(self)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.step)

    @property
    def current(self) -> str:
        """The street in focus ("" = the district)."""
        return self.stops[self._index]

    @property
    def paused(self) -> bool:
        """Whether the tour holds its current stop."""
        return self._clock() < self._paused_until

    def start(self) -> None:
        """Begin at the district view."""
        self._next_move = self._clock() + self.dwell
        self._timer.start()
        self.focus.emit(self.current)

    def stop(self) -> None:
        """Stop moving (the focus stays where it is)."""
        self._timer.stop()

    def step(self) -> None:
        """Move on when the dwell time is up and nothing holds the tour (called by a timer)."""
        now = self._clock()
        if now < self._paused_until:
            self._next_move = max(self._next_move, self._paused_until)
            return
        self.reason = ""
        if now >= self._next_move:
            self._index = (self._index + 1) % len(self.stops)
            self._next_move = now + self.dwell
            self.focus.emit(self.current)

    def hold_on(self, street: str) -> None:
        """A new urgent event: show its street and stay there for `urgent_hold` seconds."""
        if street in self.stops:
            self._index = self.stops.index(street)
            self.focus.emit(street)  # even if the tour was there: an operator may have moved
            self._pause(self.urgent_hold, "urgent")

    def sync(self, street: str) -> None:
        """The focus moved by other means (an operator): carry on from there."""
        if street in self.stops:
            self._index = self.stops.index(street)

    def operator_active(self) -> None:
        """Someone is using the mouse or keyboard: hold until they have been idle a while."""
        self._pause(self.idle_resume, "operator")

    def _pause(self, seconds: float, reason: str) -> None:
        until = self._clock() + seconds
        if until >= self._paused_until:
            self._paused_until = until
            self.reason = reason
        self._next_move = max(self._next_move, self._paused_until)
