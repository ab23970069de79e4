"""Coalesces the session's changes into at most one model update per frame."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from desktop.core.replica import Changes

# Flushes no closer than this however idle the GUI is: a change reaches the next frame of a
# 60 Hz display whatever its phase, and a trickle of events is not held back for a tick.
FRAME_MS = 8
LONGEST_FRAME_MS = 50  # under load, flushes no further apart than this


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

    The interval is short (FRAME_MS) while the GUI thread is idle, and stretches, up to
    `longest_ms`, to `BUSY_RATIO` times the GUI thread's CPU time since the last flush
    began: that flush, the repaints it caused, and whatever else the thread did. It is
    checked when the flush is due (by then the repaints are done), so under load the thread
    spends about half its time on the stream and keeps the rest for input and the map (a
    third, with 3, held a lone event at 100 a second ~12 ms and the 2,000/s p99 at 44 ms on
    a 2-core AMD machine; with 2, 7 and 36 ms, and no longer stalls: bench/RESULTS.md §4).
    """

    BUSY_RATIO = 2.0

    flushed = Signal(object)  # Changes
    _woken = Signal()

    def __init__(
        self,
        interval_ms: int = 16,
        parent: QObject | None = None,
        *,
        source: Callable[[], Changes] | None = None,
        longest_ms: int | None = None,
    ) -> None:
        super().__init__(parent)
        self._pending: Changes | None = None
        self._source = source
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._due)
        self._interval = interval_ms / 1000
        self._longest = (longest_ms if longest_ms is not None else interval_ms) / 1000
        self._gap = self._interval  # the wait after the last flush: the interval, or longer
        self._last_flush = -1e9
        self._flush_cpu = time.thread_time()  # the GUI thread's CPU time at the last flush
        self.flushes = 0
        self.subscribers: list[Callable[[Changes], None]] = []
        # Emitted from another thread, delivered on this object's (the GUI) thread.
        self._woken.connect(self._schedule, Qt.ConnectionType.QueuedConnection)

    @property
    def gap(self) -> float:
        """Seconds the next flush waits after the last one (the interval, or longer under
        load)."""
        return self._gap

    def set_interval(self, interval_ms: int) -> None:
        """Flush at most once per this many milliseconds from now on (however cheap)."""
        self._interval = interval_ms / 1000
        self._longest = max(self._longest, self._interval)
        self._gap = self._interval

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
            self._timer.start(max(0, round(self._wait() * 1000)))

    def _wait(self) -> float:
        """Seconds still to leave the GUI thread, by what it did since the last flush."""
        used = time.thread_time() - self._flush_cpu
        self._gap = max(self._interval, min(self._longest, self.BUSY_RATIO * used))
        return self._gap - (time.monotonic() - self._last_flush)

    def _due(self) -> None:
        # Asked again: the frame's repaints may have run since the timer was set.
        wait = self._wait()
        if wait > 0.001:
            self._timer.start(round(wait * 1000))
        else:
            self.flush()

    def flush(self) -> None:
        """Emit what has accumulated (called when due; tests may call it directly)."""
        started, cpu = time.monotonic(), time.thread_time()
        pending, self._pending = self._pending, None
        self._timer.stop()
        if self._source is not None:
            collected = self._source()
            if pending is None:
                pending = collected
            else:
                pending.merge(collected)
        if pending:
            self._last_flush, self._flush_cpu = started, cpu
            self.flushes += 1
            for subscriber in self.subscribers:
                subscriber(pending)
            self.flushed.emit(pending)
