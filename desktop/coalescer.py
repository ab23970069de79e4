"""Coalesces the session's changes into at most one model update per frame."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.replica import Changes


class Coalescer(QObject):
    """Merges every Changes pushed during a frame and emits them once when the frame ends.

    The session calls `push` for every message (a plain call, no signal); widgets hear one
    `flushed` per frame interval at most, and nothing at all while the stream is idle.
    """

    flushed = Signal(object)  # Changes

    def __init__(self, interval_ms: int = 33, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pending: Changes | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.flush)
        self.flushes = 0

    def push(self, changes: Changes) -> None:
        """Add one message's changes; the first push of a frame starts the frame's timer."""
        if self._pending is None:
            self._pending = changes
            self._timer.start()
        else:
            self._pending.merge(changes)

    def flush(self) -> None:
        """Emit what has accumulated (called by the timer; tests may call it directly)."""
        pending, self._pending = self._pending, None
        self._timer.stop()
        if pending:
            self.flushes += 1
            self.flushed.emit(pending)
