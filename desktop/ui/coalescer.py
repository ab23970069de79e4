"""Coalesces the session's changes into at most one model update per frame."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from desktop.core.replica import Changes


class Coalescer(QObject):
    """Merges every Changes of a frame and emits them once when the frame ends.

    Changes come in two ways, neither a signal per message: `push` (a plain call on the GUI
    thread) merges them at once; `wake` (callable from any thread) says that `source` has
    something, and `source()` is called when the frame ends to collect it. The subscribers
    (`subscribe`) are called in the order they subscribed, then `flushed` is emitted: once
    per frame interval at most, and nothing at all while the stream is idle. The
    first change after a quiet spell goes out at once (on the next turn of the event loop,
    with whatever else has arrived by then); the next flush waits out the rest of the
    interval. So a lone event is not held back a frame, and a burst is still one per frame.
    """

    flushed = Signal(object)  # Changes
    _woken = Signal()

    def __init__(
        self,
        interval_ms: int = 33,
        parent: QObject | None = None,
        *,
        source: Callable[[], Changes] | None = None,
    ) -> None:
        super().__init__(parent)
        self._pending: Changes | None = None
        self._source = source
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.flush)
        self._interval = interval_ms / 1000
        self._last_flush = -1e9
        self.flushes = 0
        self.subscribers: list[Callable[[Changes], None]] = []
        # Emitted from another thread, delivered on this object's (the GUI) thread.
        self._woken.connect(self._schedule, Qt.ConnectionType.QueuedConnection)

    def set_interval(self, interval_ms: int) -> None:
        """Flush at most once per this many milliseconds from now on."""
        self._interval = interval_ms / 1000

    def subscribe(self, callback: Callable[[Changes], None]) -> None:
        """Call `callback` with each flush's changes, after the earlier subscribers."""
        self.subscribers.append(callback)

    def push(self, changes: Changes) -> None:
        """Add one message's changes; the first push of a frame starts the frame's timer."""
        if self._pending is None:
            self._pending = changes
            self._schedule()
        else:
            self._pending.merge(changes)

    def wake(self) -> None:
        """`source` has something (any thread): flush it with this frame."""
        self._woken.emit()

    @Slot()  # a queued cross-thread connection needs a declared slot (PYSIDE-3124)
    def _schedule(self) -> None:
        if not self._timer.isActive():
            wait = self._interval - (time.monotonic() - self._last_flush)
            self._timer.start(max(0, round(wait * 1000)))

    def flush(self) -> None:
        """Emit what has accumulated (called by the timer; tests may call it directly)."""
        pending, self._pending = self._pending, None
        self._timer.stop()
        if self._source is not None:
            collected = self._source()
            if pending is None:
                pending = collected
            else:
                pending.merge(collected)
        if pending:
            self._last_flush = time.monotonic()
            self.flushes += 1
            for subscriber in self.subscribers:
                subscriber(pending)
            self.flushed.emit(pending)
