"""The time machine (复盘) of a screen, without Qt: leave live mode for any kept moment, play
the log forward at 1× to 3,600×, step by change, and come back to live as it is now.

The screen keeps drawing from one replica. Going into the past moves the live state aside
into a copy that the feed goes on filling (nothing live is lost meanwhile), and fills the
screen's replica from the backend's `replay` answers (docs/protocol.md §6.14): a moment's
state, then pages of the deltas after it, applied as the playhead passes their times. Coming
back puts the live copy in place again, whole. Nothing here sends a command, rings or
notifies: the screen asks `active` before it does any of those.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from desktop.core.district_time import midnight
from desktop.core.feed import Feed
from desktop.core.replay_answers import Moment, Page
from desktop.core.replica import Changes, Replica
from protocol.entities import Kpi
from protocol.messages import Delta, Error

log = logging.getLogger("desktop.core.time_machine")

Mode = Literal["live", "paused", "playing"]
# Whether the figures on the screen's replica are the playhead's: "shown" (a seek's, a mark's
# reached while playing, or the paused moment's own), "pending" (paused or stepped: the
# moment's are asked for; those on screen are an earlier moment's) or "failed" (not had).
Figures = Literal["shown", "pending", "failed"]
Ask = Callable[..., Awaitable[Moment | Page | Error]]  # Session.replay: fields -> answer

SPEEDS = (1.0, 10.0, 60.0, 600.0, 3600.0)  # district seconds per real second
LOOKAHEAD = 2.0  # real seconds of play kept fetched ahead of the playhead
KPIS_EVERY = 1.0  # real seconds between two fetches of the figures while playing
# Real seconds a paused or stepped moment is held before its figures are asked for: a key
# held down steps many times a second, and a request per step spent the connection's
# allowance (the pages' fetches were then refused "too many requests").
FIGURES_SETTLE = 0.25
DEFAULT_SPEED = 60.0
# Log positions asked for at once while playing: a page of a busy district's deltas is
# received and decoded on the session's thread in one go, holding the interpreter's lock
# (the wall's frames wait): pages of 2,000 made ticks up to 22 ms late at 3,600x on a busy
# district's day, pages of 1,000 none over 13 ms (bench/RESULTS.md §15b).
PAGE_POSITIONS = 1_000


class ReplayRefused(Exception):
    """The backend refused a replay request; the message is its words."""


@dataclass(slots=True)
class _Mark:
    """The day's figures as they stood at a log position ahead of the playhead."""

    seq: int
    kpis: dict[str, Kpi]


class TimeMachine:
    """Takes a screen's replica into the past and back; see the module's docstring."""

    def __init__(
        self,
        screen: Replica,
        feed: Feed,
        ask: Ask,
        monotonic: Callable[[], float] = time.monotonic,
        changed: Callable[[], None] = lambda: None,
    ) -> None:
        self.screen = screen
        self.feed = feed
        self._ask = ask
        # Said whenever the screen's replica changed (a seek's answer, a frame's deltas,
        # figures arriving later): the screen takes them with `take_changes` at its next frame.
        self._changed = changed
        self._monotonic = monotonic
        self.mode: Mode = "live"
        self.speed = DEFAULT_SPEED
        self.at = 0.0  # the playhead: the district moment shown
        self.day = 0.0  # the shown day's local midnight
        self.curve: list[int] = []  # its arrivals per hour, for the scrubber
        self.message = ""  # the backend's last refusal, for the bar ("" none)
        self.busy = False  # a seek is under way
        self.live: Replica | None = None  # the live state, held aside while in the past
        self._pending: deque[Delta] = deque()  # fetched deltas the playhead has not reached
        self._fetched = 0  # the last log position fetched (deltas up to it are pending/applied)
        self._exhausted = False  # nothing more to fetch up to the live head for now
        self._marks: deque[_Mark] = deque()
        self._played_from = (0.0, 0.0)  # (district moment, monotonic) playing started from
        self._generation = 0  # bumped by each seek and by going live: older answers are dropped
        self._fetching: asyncio.Future[None] | None = None
        self._figuring: asyncio.Future[None] | None = None
        self._figured_at = 0.0
        self.figures: Figures = "shown"
        self._changes = Changes()

    # ---- state ---------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        """Whether the screen shows the past (no sound, no command, no notification)."""
        return self.mode != "live"

    def live_now(self) -> float:
        """The district clock as the live state keeps it."""
        replica = self.live if self.live is not None else self.screen
        return replica.now()

    def _note(self, changes: Changes) -> None:
        self._changes.merge(changes)
        self._changed()

    def take_changes(self) -> Changes:
        """What the time machine changed on the screen's replica since the last call."""
        changes, self._changes = self._changes, Changes()
        return changes

    # ---- into the past and back ----------------------------------------------------------

    async def seek(self, at: float | None = None, *, seq: int | None = None) -> bool:
        """Show the moment `at` (district seconds; never after the live clock) or the log
        position `seq`, paused or playing on as before; whether it is shown (a refusal's words
        are in `message`, and what was shown stays)."""
        self._generation += 1
        generation = self._generation
        self.busy = True
        # Never past the clock as last heard from the backend: its own is at least there.
        latest = (self.live or self.screen).kpis_at or self.live_now()
        position = {"seq": seq} if seq is not None else {"at": min(at or 0.0, latest)}
        try:
            moment = await self._moment(**position)
        except ReplayRefused as refused:
            if generation == self._generation:
                self.message = str(refused)
            return False
        finally:
            if generation == self._generation:
                self.busy = False
        if generation != self._generation:
            return False  # a later seek, or live again, meanwhile
        self.message = ""
        self._show(moment)
        return True

    def _show(self, moment: Moment) -> None:
        if self.live is None:
            self._set_aside()
        shown = moment.at if moment.at is not None else self.at
        self.at = shown
        # The day the backend counted the curve for; its midnight here if it says none.
        self.day = moment.day if moment.day is not None else midnight(shown)
        self.curve = list(moment.curve)
        old_risks = set(self.screen.risk)
        self.screen.load_moment(
            moment.epoch,
            moment.seq,
            moment.events,
            moment.alerts,
            moment.duty,
            moment.kpis,
            moment.duties,
        )
        self._pending.clear()
        self._marks.clear()
        self._fetched, self._exhausted = moment.seq, False
        self.figures = "shown"
        if self.mode == "live":
            self.mode = "paused"
        self._restart_clock()
        self._note(
            Changes(
                reset=True,
                events=set(self.screen.events),
                alerts=set(self.screen.alerts),
                duty=True,
                kpis=True,
                risks=old_risks,
                forecast=True,
            )
        )

    def _set_aside(self) -> None:
        """Move the live state into a copy the feed keeps filling meanwhile."""
        self.live = self.screen.copy()
        self.feed.replica = self.live

    def go_live(self) -> Changes:
        """Back to live: the screen's replica takes the live state as it is now, whole."""
        self._generation += 1
        for task in (self._fetching, self._figuring):
            if task is not None:
                task.cancel()
        self._fetching = self._figuring = None
        self.mode = "live"
        self.figures = "shown"
        self.busy = False
        self.message = ""
        self._pending.clear()
        self._marks.clear()
        self._changes = Changes()
        if self.live is None:
            return Changes()
        old_events, old_alerts = set(self.screen.events), set(self.screen.alerts)
        old_risks = set(self.screen.risk)
        self.screen.take_state(self.live)
        self.feed.replica = self.screen
        self.live = None
        return Changes(
            reset=True,
            units=True,
            categories=True,
            events=old_events | set(self.screen.events),
            alerts=old_alerts | set(self.screen.alerts),
            duty=True,
            kpis=True,
            people=True,
            risks=old_risks | set(self.screen.risk),
            forecast=True,
        )

    # ---- playing -------------------------------------------------------------------------

    def play(self, speed: float | None = None) -> None:
        """Play forward from the playhead at `speed` (the last one if None)."""
        if not self.active:
            return
        if speed is not None:
            self.speed = min(max(float(speed), SPEEDS[0]), SPEEDS[-1])
        if self.figures != "shown" and self._figuring is not None:
            # The paused moment's figures would come too late: playing, the figures are the
            # last mark's (a second of play ahead), as they were before the pause.
            self._figuring.cancel()
            self._figuring = None
        self.figures = "shown"
        self.mode = "playing"
        self._restart_clock()

    def pause(self) -> None:
        """Stop the playhead where it is; the figures are fetched for that very moment."""
        if self.mode != "playing":
            return
        self.mode = "paused"
        self._restart_clock()
        self._figure_now()

    def _restart_clock(self) -> None:
        self._played_from = (self.at, self._monotonic())
        pace = self.speed if self.mode == "playing" else 0.0
        self.screen.set_clock(self.at, pace)

    def tick(self) -> None:
        """Move the playhead to where the clock has brought it, applying the deltas it
        passed; fetch more ahead when they run short (call once per frame while playing)."""
        if self.mode != "playing" or self.busy:
            return
        start_at, started = self._played_from
        target = start_at + (self._monotonic() - started) * self.speed
        head = self.live_now()
        if target >= head:  # caught up with the present: stop at it
            target = head
        self._advance_to(target)
        if target >= head and not self._pending:
            self.at = target
            self.mode = "paused"
            self._restart_clock()
            self._figure_now()
            return
        self._want_more(target)
        self._want_figures(target)

    async def step(self) -> bool:
        """Apply the next change one may see (fetching it if needed); whether there was one."""
        if not self.active:
            return False
        if self.mode == "playing":
            self.mode = "paused"
        generation = self._generation
        while not self._pending and not self._exhausted:
            await self._fetch(generation)
            if generation != self._generation:
                return False
        if not self._pending:
            return False
        delta = self._pending.popleft()
        self._apply([delta])
        self.at = max(self.at, delta.at)
        self._restart_clock()
        self._figure_now()
        return True

    def _advance_to(self, target: float) -> None:
        passed: list[Delta] = []
        while self._pending and self._pending[0].at <= target:
            passed.append(self._pending.popleft())
        if passed:
            self._apply(passed)
        self.at = target

    def _apply(self, deltas: list[Delta]) -> None:
        changes = self.screen.apply_all(deltas)
        # Figures fetched for a position now reached: the last of them are the figures there.
        reached: _Mark | None = None
        while self._marks and self._marks[0].seq <= self.screen.seq:
            reached = self._marks.popleft()
        if reached is not None:
            self.screen.kpis = dict(reached.kpis)
            self.figures = "shown"
            changes.kpis = True
        changes.new_events.clear()  # nothing in the past is news
        changes.new_alerts.clear()
        self._note(changes)

    def _want_more(self, target: float) -> None:
        if self._fetching is not None or self._exhausted:
            return
        ahead = target + LOOKAHEAD * self.speed
        if self._pending and self._pending[-1].at >= ahead:
            return
        self._fetching = asyncio.ensure_future(self._fetch(self._generation))

    async def _fetch(self, generation: int) -> None:
        """Fetch the next page of deltas after the last position fetched."""
        try:
            head = self.live.seq if self.live is not None else self.screen.seq
            upto = min(self._fetched + PAGE_POSITIONS, head)
            if upto <= self._fetched:
                self._exhausted = True
                return
            answer = await self._ask(from_seq=self._fetched, to_seq=upto)
            if generation != self._generation:
                return
            if isinstance(answer, Error):
                self.message = answer.message
                self._exhausted = True
                return
            if not isinstance(answer, Page):
                raise TypeError("a range answered with a moment")
            self._pending.extend(d for d in answer.deltas if d.seq > self._fetched)
            self._fetched = answer.to_seq
            self._exhausted = not answer.more and answer.to_seq >= head
        except (TimeoutError, ConnectionError, TypeError) as exc:
            log.warning("replay: no deltas after %d (%s)", self._fetched, exc)
            if generation == self._generation:
                self.message = str(exc)
                self._exhausted = True
        finally:
            if generation == self._generation:
                self._fetching = None

    # ---- the figures ----------------------------------------------------------------------

    def _want_figures(self, target: float) -> None:
        """While playing, fetch the figures of a position a second of play ahead, to show
        when the playhead reaches it."""
        now = self._monotonic()
        if self._figuring is not None or now - self._figured_at < KPIS_EVERY:
            return
        ahead = target + KPIS_EVERY * self.speed
        times = [d.at for d in self._pending]
        index = bisect.bisect_right(times, ahead) - 1
        if index < 0:
            return
        self._figured_at = now
        seq = self._pending[index].seq
        self._figuring = asyncio.ensure_future(self._figures(self._generation, seq=seq))

    def _figure_now(self) -> None:
        """Fetch the figures of the playhead's moment itself (paused, stepped)."""
        if self._figuring is not None:
            self._figuring.cancel()
        self._marks.clear()
        at = self.at
        self.figures = "pending"
        self._note(Changes(kpis=True))
        self._figuring = asyncio.ensure_future(self._figures(self._generation, at=at))

    async def _figures(self, generation: int, **position: Any) -> None:
        # A request replaced by a later one (cancelled, or answered late) changes nothing:
        # only the latest speaks for the playhead.
        me = asyncio.current_task()
        try:
            if "at" in position:
                await asyncio.sleep(FIGURES_SETTLE)  # a later step cancels this one meanwhile
            moment = await self._moment(only_kpis=True, **position)
        except Exception as exc:  # refused, timed out, the connection gone, or a bug
            log.warning("replay: no figures for %s (%s)", position, exc)
            if "at" in position and self._figuring is me and self.figures == "pending":
                # The older figures stay on the replica, but they are not this moment's.
                self.figures = "failed"
                self._note(Changes(kpis=True))
            return
        finally:
            if generation == self._generation and self._figuring is me:
                self._figuring = None
        if generation != self._generation:
            return
        if "at" in position:
            if self.mode != "playing" and math.isclose(position["at"], self.at, rel_tol=0.0):
                self.screen.kpis = dict(moment.kpis)
                self.figures = "shown"
                self._note(Changes(kpis=True))
            return
        if moment.seq <= self.screen.seq:
            return  # the playhead passed it meanwhile: a later mark will come
        self._marks.append(_Mark(moment.seq, moment.kpis))

    async def _moment(self, **fields: Any) -> Moment:
        answer = await self._ask(**fields)
        if isinstance(answer, Error):
            raise ReplayRefused(answer.message)
        if not isinstance(answer, Moment):
            raise ConnectionError("a moment answered with a range")
        return answer
