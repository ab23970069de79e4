"""Coalesces the session's changes into at most one model update per frame."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.replica import Changes


class Coalescer(QObject):
    """Merges every Changes pushed during a frame and emits them once when the frame ends.

    The session calls `push` for every message (a plain call, no signal); widgets hear one
    `flushed` per frame interval at most, and nothing at all while the stream is idle. The
    first change after a quiet spell goes out at once (on the next turn of the event loop,
    with whatever else has arrived by then); the next flush waits out the rest of the
    interval. So a lone event is not held back a frame, and a burst is still one per frame.
    """

    flushed = Signal(object)  # Changes

    def __init__(self, interval_ms: int = 33, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pending: Changes | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.flush)
        self._interval = interval_ms / 1000
        self._last_flush = -1e9
        self.flushes = 0

    def push(self, changes: Changes) -> None:
        """Add one message's changes; the first push of a frame starts the frame's timer."""
        if self._pending is None:
            self._pending = changes
            wait = self._interval - (time.monotonic() - self._last_flush)
            self._timer.start(max(0, round(wait * 1000)))
        else:
            self._pending.merge(changes)

    def flush(self) -> None:
        """Emit what has accumulated (called by the timer; tests may call it directly)."""
        pending, self._pending = self._pending, None
        self._timer.stop()
        if pending:
            self._last_flush = time.monotonic()
            self.flushes += 1
            self.flushed.emit(pending)
