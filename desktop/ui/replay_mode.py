"""A screen's time machine (复盘) in Qt: the bar, the frame timer while playing, and the
changes it makes on the screen's replica fed to the screen's coalescer like the live ones.

The wall and the desk each own one. `collect` is their coalescer's source: live changes
while live, the time machine's while in the past (the live ones then go to the live state
set aside, not to the screen).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from desktop.core.feed import Feed
from desktop.core.replica import Changes, Replica
from desktop.core.time_machine import Ask, TimeMachine
from desktop.ui.coalescer import Coalescer
from widgets.time_bar import TimeBar

log = logging.getLogger("desktop.ui.replay_mode")

PLAY_FRAME_MS = 33  # the playhead moves about 30 times a second while playing


class ReplayMode(QObject):
    """Into the past and back for one screen; `changed` says when it goes in or out."""

    changed = Signal(bool)  # whether the screen shows the past now

    def __init__(
        self,
        replica: Replica,
        feed: Feed,
        coalescer: Coalescer,
        parent: QWidget,
        place: Callable[[TimeBar], None],
    ) -> None:
        super().__init__(parent)
        self._replica = replica
        self._feed = feed
        self._coalescer = coalescer
        self._place = place
        self.machine: TimeMachine | None = None
        self.bar = TimeBar(parent)
        self.bar.hide()
        self.bar.seekRequested.connect(self._seek)
        self.bar.playRequested.connect(self._play)
        self.bar.pauseRequested.connect(self.pause)
        self.bar.stepRequested.connect(self.step)
        self.bar.liveRequested.connect(self.leave)
        self._frames = QTimer(self)
        self._frames.setInterval(PLAY_FRAME_MS)
        self._frames.timeout.connect(self._frame)
        self._tasks: set[asyncio.Future[None]] = set()

    def use(self, ask: Ask) -> None:
        """Where replay requests go (the session's thread); until then none can be made."""
        self.machine = TimeMachine(self._replica, self._feed, ask, changed=self._coalescer.wake)

    @property
    def active(self) -> bool:
        """Whether the screen shows the past: no sound, command or notification then."""
        return self.machine is not None and self.machine.active

    def collect(self) -> Changes:
        """The coalescer's source: the live messages applied (to the live state), and the
        changes the screen is to draw (the live ones, or the time machine's)."""
        changes = self._feed.collect()
        if self.machine is not None and (self.machine.active or self.machine.busy):
            return self.machine.take_changes()
        return changes

    # ---- going in and out ------------------------------------------------------------------

    def enter(self) -> None:
        """Show the present moment paused, with the bar, ready to go back in time."""
        machine = self.machine
        if machine is None or machine.active or machine.busy:
            return
        self._run(self.seek(machine.live_now()))

    def toggle(self) -> None:
        """In if live, out if in the past."""
        if self.active:
            self.leave()
        else:
            self.enter()

    def leave(self) -> None:
        """Back to live, the screen redrawn from the live state as it is now."""
        machine = self.machine
        if machine is None or not (machine.active or machine.busy):
            return
        self._frames.stop()
        for task in list(self._tasks):
            task.cancel()
        changes = machine.go_live()
        self.bar.hide()
        self._coalescer.push(changes)
        self.changed.emit(False)

    def pause(self) -> None:
        """Stop the playhead."""
        if self.machine is not None:
            self.machine.pause()
            self._frames.stop()
            self._show_position()

    def play_or_pause(self) -> None:
        """Space: play at the chosen speed, or pause."""
        if self.machine is None or not self.machine.active:
            return
        if self.machine.mode == "playing":
            self.pause()
        else:
            self._play(self.machine.speed)

    def step(self) -> None:
        """One change forward."""
        machine = self.machine
        if machine is None or not machine.active:
            return
        self._frames.stop()
        self._run(self._stepped(machine))

    # ---- the work --------------------------------------------------------------------------

    def _seek(self, at: float) -> None:
        self._run(self.seek(at))

    def _play(self, speed: float) -> None:
        if self.machine is None or not self.machine.active:
            return
        self.machine.play(speed)
        self._frames.start()
        self._show_position()

    async def seek(self, at: float | None = None, *, seq: int | None = None) -> None:
        """Show a past moment (`at`) or log position (`seq`), the bar with it."""
        machine = self.machine
        if machine is None:
            return
        was_active = machine.active
        self.bar.set_busy(True)
        try:
            shown = await machine.seek(at, seq=seq)
        finally:
            self.bar.set_busy(False)
        self.bar.set_message(machine.message)
        if not shown:
            return
        if not was_active:
            self._place(self.bar)
            self.bar.show()
            self.bar.raise_()
            self.changed.emit(True)
        self.bar.set_day(machine.day, machine.curve, 0.0, machine.live_now())
        self._show_position()

    async def _stepped(self, machine: TimeMachine) -> None:
        await machine.step()
        self.bar.set_message(machine.message)
        self._show_position()

    def _frame(self) -> None:
        machine = self.machine
        if machine is None or machine.mode != "playing":
            self._frames.stop()
            self._show_position()
            return
        machine.tick()
        self._show_position()

    def _show_position(self) -> None:
        machine = self.machine
        if machine is None or not machine.active:
            return
        if machine.mode != "playing":
            self._frames.stop()
        self.bar.set_position(machine.at, machine.mode == "playing", machine.speed)

    def _run(self, work: Coroutine[Any, Any, None]) -> None:
        """Run a coroutine on the GUI's loop (qasync), remembered so `leave` can cancel it."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Future[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled():
            with contextlib.suppress(asyncio.CancelledError):
                failure = task.exception()
                if failure is not None:
                    log.error("replay request failed", exc_info=failure)
                    self.bar.set_message(str(failure) or type(failure).__name__)
