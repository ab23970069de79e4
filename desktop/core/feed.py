"""What a screen is fed each frame, without Qt: the session's inbox applied to the replica,
the resync after a message that cannot be applied, and which new cases are urgent news.

The screen calls `collect` from its coalescer's flush and `every_second` from a timer; the
clocks and the way to ask for a snapshot are passed in, so the rules run without a GUI.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from desktop.core.link import Inbox
from desktop.core.map_feed import URGENT
from desktop.core.replica import ApplyFailed, Changes, Replica
from desktop.core.session import Status
from protocol.entities import OPEN_STATUSES, Event
from protocol.messages import Delta, ServerMessage, Snapshot

log = logging.getLogger("desktop.core.feed")

SNAPSHOT_PATIENCE = 15.0  # seconds: a resync's snapshot not here by then is asked for again
ANNOUNCE_WITHIN = 120.0  # seconds: a new urgent case older than this does not ring
# Settled cases the backend has forgotten are forgotten here once a minute, or every half
# hour of district time when a simulator runs its clock fast (memory stays flat either way).
PRUNE_EVERY = 60.0
PRUNE_EVERY_DISTRICT = 1800.0


class Feed:
    """Applies the session's messages to a replica once per frame and keeps it whole."""

    def __init__(
        self,
        replica: Replica,
        *,
        on_status: Callable[[Status], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        wall_time: Callable[[], float] = time.time,
    ) -> None:
        self.replica = replica
        self._on_status = on_status
        self._monotonic = monotonic
        self._wall_time = wall_time
        self._inbox: Inbox | None = None
        self._resync: Callable[[], bool] | None = None
        self.awaiting_snapshot = False
        self._snapshot_asked_at = 0.0
        self.last_data = 0.0  # wall time of the last change taken in
        self._pruned_at = monotonic()
        self._pruned_district = 0.0

    def listen(self, inbox: Inbox, resync: Callable[[], bool] | None = None) -> None:
        """Take messages from `inbox`; `resync` asks the session for a fresh snapshot."""
        self._inbox = inbox
        self._resync = resync

    def note_data(self) -> None:
        """Changes reached the replica another way (a session applying at once, pruning)."""
        self.last_data = self._wall_time()

    def collect(self) -> Changes:
        """Apply what the session's thread has received since the last frame."""
        if self._inbox is None:
            return Changes()
        messages = []
        status: Status | None = None
        for item in self._inbox.take():
            if isinstance(item, Status):
                status = item
            else:
                messages.append(item)
        changes = Changes()
        while messages:
            if self.awaiting_snapshot:
                messages = self._drop_stale_deltas(messages)
                if not messages:
                    break  # only stale deltas: nothing fresh to show
            self.note_data()
            try:
                self.replica.apply_all(messages, into=changes)
                break
            except ApplyFailed as failure:
                # The session has moved its resume point past this message: resuming would
                # skip it. Start over from a snapshot, which replaces the replica whole; what
                # came after it still counts (units, a snapshot), but not its deltas.
                log.error("%s; reloading the snapshot", failure, exc_info=failure.__cause__)
                if isinstance(failure.message, Snapshot):
                    changes.reset = True  # half replaced: every part redraws from the replica
                if not self.awaiting_snapshot:  # a second request would cut the first short
                    self.awaiting_snapshot = self._ask_for_snapshot()
                messages = messages[failure.index + 1 :]
        if status is not None and self._on_status is not None:
            self._on_status(status)
        return changes

    def every_second(self) -> Changes:
        """Ask again for a snapshot that has not come within SNAPSHOT_PATIENCE; forget what
        the backend has forgotten (the removals, for the screen to show)."""
        if (
            self.awaiting_snapshot
            and self._monotonic() - self._snapshot_asked_at > SNAPSHOT_PATIENCE
        ):
            log.warning("no snapshot %.0f s after asking for one: asking again", SNAPSHOT_PATIENCE)
            self.awaiting_snapshot = self._ask_for_snapshot()
        return self._prune()

    def _prune(self) -> Changes:
        district = self.replica.now()
        if not district:  # the district clock has not been heard yet
            return Changes()
        now = self._monotonic()
        if (
            now - self._pruned_at < PRUNE_EVERY
            and district - self._pruned_district < PRUNE_EVERY_DISTRICT
        ):
            return Changes()
        self._pruned_at, self._pruned_district = now, district
        return self.replica.prune(district)

    def _ask_for_snapshot(self) -> bool:
        """Ask the session for a snapshot; whether the request went out."""
        self._snapshot_asked_at = self._monotonic()
        if self._resync is None:
            return False
        try:
            return self._resync()
        except Exception:  # the session is going away: it will not be applied to anyway
            log.exception("could not ask the session for a snapshot")
            return False

    def _drop_stale_deltas(self, messages: list[ServerMessage]) -> list[ServerMessage]:
        """Drop the old connection's deltas until the snapshot asked for arrives."""
        for index, message in enumerate(messages):
            if isinstance(message, Snapshot):
                self.awaiting_snapshot = False
                return [m for m in messages[:index] if not isinstance(m, Delta)] + messages[index:]
        return [m for m in messages if not isinstance(m, Delta)]


def urgent_news(replica: Replica, new_ids: Iterable[int], now: float) -> list[Event]:
    """The new cases that ring the chime and hold the tour: urgent, open, reported just now
    (a replay after a (re)connect brings older ones)."""
    recent = now - ANNOUNCE_WITHIN
    return [
        e
        for i in new_ids
        if (e := replica.events.get(i)) is not None
        and e.priority <= URGENT
        and e.status in OPEN_STATUSES
        and e.reported_at >= recent
    ]
