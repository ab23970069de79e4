"""How long settled entities stay in the live state, on the backend and in every replica.

One rule on both sides: the backend stops sending what it forgot, so a client that kept it
would grow without bound and show cases the server no longer has.
"""

from __future__ import annotations

import math
from typing import Literal

from protocol.entities import Alert, Event

FINAL_STATUSES = frozenset({"rejected", "closed", "evaluated"})
# Closed events stay in memory (and in snapshots) this long after their last change.
KEEP_CLOSED_SECONDS = 36 * 3600.0

# What a client keeps (hello.view): "all" keeps settled entities for the keep window, as the
# backend does; "open" keeps none (a wall shows only what is open, and its start need not
# decode a day and a half of finished cases).
View = Literal["all", "open"]


def view_horizon(view: View, now: float) -> float:
    """The oldest settled change a view keeps at `now` (infinity: none)."""
    return math.inf if view == "open" else now - KEEP_CLOSED_SECONDS


def event_kept(event: Event, horizon: float) -> bool:
    """Whether an event is still in the live state: open, or settled at or after `horizon`
    (now − KEEP_CLOSED_SECONDS)."""
    return event.status not in FINAL_STATUSES or event.updated_at >= horizon


def alert_kept(alert: Alert, horizon: float) -> bool:
    """Whether an alert is still in the live state: new, or settled at or after `horizon`."""
    return alert.status == "new" or alert.last_at >= horizon


def prune_settled(
    events: dict[int, Event], alerts: dict[int, Alert], now: float, view: View = "all"
) -> list[int]:
    """Drop closed events and settled alerts older than the view's keep window; return the
    event ids.

    Alerts dropped are not listed: a caller that needs them compares before and after.
    """
    horizon = view_horizon(view, now)
    old_events = [i for i, e in events.items() if not event_kept(e, horizon)]
    for i in old_events:
        del events[i]
    old_alerts = [i for i, a in alerts.items() if not alert_kept(a, horizon)]
    for i in old_alerts:
        del alerts[i]
    return old_events
