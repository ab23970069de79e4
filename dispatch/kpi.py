"""KPIs for today (local day), for the district and for each street.

Definitions follow the local performance rules: on-time closure rate (按期结案率) = cases
closed on time / cases due; rework rate (返工率) = reworked / handled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from dispatch.reference import local
from protocol.entities import OPEN_STATUSES, Event, Kpi, is_overdue

DISTRICT = "district"


@dataclass(slots=True)
class _Tally:
    received: int = 0
    dispatched: int = 0
    closed: int = 0
    due: int = 0
    closed_on_time: int = 0
    reworked: int = 0
    handled: int = 0
    overdue_now: int = 0
    open_now: int = 0
    handling_seconds: float = 0.0
    handling_count: int = 0
    hourly: list[int] = field(default_factory=lambda: [0] * 24)

    def kpi(self, yesterday: list[int]) -> Kpi:
        last_hour = max((h for h, n in enumerate(self.hourly) if n), default=-1)
        return Kpi(
            received=self.received,
            dispatched=self.dispatched,
            closed=self.closed,
            due=self.due,
            closed_on_time=self.closed_on_time,
            on_time_rate=round(self.closed_on_time / self.due, 4) if self.due else None,
            rework_rate=round(self.reworked / self.handled, 4) if self.handled else None,
            overdue_now=self.overdue_now,
            open_now=self.open_now,
            avg_handling_minutes=(
                round(self.handling_seconds / self.handling_count / 60, 1)
                if self.handling_count
                else None
            ),
            hourly=self.hourly[: last_hour + 1],
            hourly_yesterday=yesterday,
        )


def day_start(now: float) -> float:
    """Epoch seconds of the local midnight that began today."""
    moment = local(now)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


class Accumulator:
    """Tallies events in slices, so a large day never stalls the event loop in one go."""

    def __init__(self, now: float, yesterday: dict[str, list[int]] | None = None) -> None:
        self.now = now
        self.today = day_start(now)
        self.tallies: dict[str, _Tally] = {DISTRICT: _Tally()}
        self.yesterday = yesterday or {}

    def add(self, events: Iterable[Event]) -> None:
        """Count a slice of events."""
        today, now, tallies = self.today, self.now, self.tallies
        for event in events:
            street = tallies.get(event.street)
            if street is None:
                street = tallies[event.street] = _Tally()
            for tally in (tallies[DISTRICT], street):
                if event.reported_at >= today:
                    tally.received += 1
                    tally.hourly[min(23, int((event.reported_at - today) // 3600))] += 1
                if event.dispatched_at is not None and event.dispatched_at >= today:
                    tally.dispatched += 1
                closed_today = (
                    event.closed_at is not None
                    and event.closed_at >= today
                    and (event.status in ("closed", "evaluated"))
                )
                came_due = event.due_at is not None and today <= event.due_at <= now
                if closed_today or (came_due and event.status in OPEN_STATUSES):
                    tally.due += 1
                if closed_today:
                    tally.closed += 1
                    assert event.closed_at is not None
                    if event.due_at is None or event.closed_at <= event.due_at:
                        tally.closed_on_time += 1
                    tally.handling_seconds += max(0.0, event.closed_at - event.reported_at)
                    tally.handling_count += 1
                if event.handled_at is not None and event.handled_at >= today:
                    tally.handled += 1
                    if event.rework_count:
                        tally.reworked += 1
                if event.status in OPEN_STATUSES:
                    tally.open_now += 1
                    if is_overdue(event, now):  # the rule the desktop colours by
                        tally.overdue_now += 1

    def result(self) -> dict[str, Kpi]:
        """KPIs keyed by 'district' and by street code."""
        return {
            scope: tally.kpi(self.yesterday.get(scope, [])) for scope, tally in self.tallies.items()
        }


def hourly(rows: Iterable[tuple[str, float]], start: float) -> dict[str, list[int]]:
    """Counts per local hour of the day beginning at `start`, by street and for the district."""
    counts: dict[str, list[int]] = {DISTRICT: [0] * 24}
    for street, reported_at in rows:
        hour = int((reported_at - start) // 3600)
        if 0 <= hour < 24:
            counts[DISTRICT][hour] += 1
            counts.setdefault(street, [0] * 24)[hour] += 1
    return counts


def compute(
    events: Iterable[Event], now: float, yesterday: dict[str, list[int]] | None = None
) -> dict[str, Kpi]:
    """KPIs keyed by 'district' and by street code, in one go."""
    accumulator = Accumulator(now, yesterday)
    accumulator.add(events)
    return accumulator.result()
