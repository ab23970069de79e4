"""What the screens show, worked out from the replica without Qt: ranking rows, the duty
panel's cases, a grid's card, the KPI values and the calendar warning.

Texts that need translating stay out: these return data (status keys, deadlines, unit
keys), and the ui layer words them in the installed language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from desktop.core.replica import Changes, Replica
from protocol.entities import OPEN_STATUSES, Event, Kpi, Reference, is_overdue

Tone = Literal["normal", "good", "warn", "alarm"]
DUTY_CASES = 20  # cases a duty list shows
GRID_CASES = 8  # open cases a grid's card lists


@dataclass(frozen=True, slots=True)
class RankingRow:
    """A street's place in this month's ranking; `score` None while it has none."""

    key: str
    name: str
    value: float  # the score, 100 without one: what the bar and the order go by
    score: float | None
    overdue: int
    tone: Tone


def ranking_rows(replica: Replica) -> list[RankingRow]:
    """Streets by this month's score, ties by fewer overdue now, then by name."""
    units = replica.units
    if units is None:
        return []
    ranked: list[tuple[float, int, str, RankingRow]] = []
    for street in units.streets:
        # This month's score (docs/kpis.md §4): on-time closure, overdue now, rework and
        # satisfaction. A morning's few cases leave most streets level; a month does not.
        kpi = replica.kpis_month.get(street.code) or replica.kpis.get(street.code)
        if kpi is None:
            continue
        value = kpi.score if kpi.score is not None else 100.0
        tone: Tone = "normal" if value >= 90 else ("warn" if value >= 80 else "alarm")
        row = RankingRow(street.code, street.name, value, kpi.score, kpi.overdue_now, tone)
        ranked.append((-value, kpi.overdue_now, street.name, row))
    ranked.sort(key=lambda r: r[:3])
    return [row for *_, row in ranked]


def stage_late(event: Event, now: float) -> bool:
    """Late at a stage while its closure deadline is still ahead (a time left would read as
    if all were well)."""
    return is_overdue(event, now) and (event.due_at is None or event.due_at >= now)


@dataclass(frozen=True, slots=True)
class CaseLine:
    """A case in a duty list: `status` a status key, lateness as `due_at` or `stage_late`."""

    key: int
    code: str
    title: str
    place: str
    status: str
    due_at: float | None
    stage_late: bool


@dataclass(slots=True)
class DutyCases:
    """The open cases in consultation and the supervised ones overdue, kept up per change."""

    consulting: set[int] = field(default_factory=set)
    supervised: set[int] = field(default_factory=set)

    def track(self, replica: Replica, changes: Changes, now: float) -> None:
        """Take in the cases `changes` touched (every case after a reset)."""
        ids: Iterable[int] = replica.events.keys() if changes.reset else changes.events
        if changes.reset:
            self.consulting.clear()
            self.supervised.clear()
        for event_id in list(ids):
            event = replica.events.get(event_id)
            is_open = event is not None and event.status in OPEN_STATUSES
            if is_open and event is not None and event.consulting:
                self.consulting.add(event_id)
            else:
                self.consulting.discard(event_id)
            if is_open and event is not None and event.supervised and is_overdue(event, now):
                self.supervised.add(event_id)
            else:
                self.supervised.discard(event_id)


def case_lines(replica: Replica, ids: Iterable[int], now: float) -> list[CaseLine]:
    """The first DUTY_CASES of these cases, most urgent first, then the earliest reported."""
    events = sorted(
        (e for i in ids if (e := replica.events.get(i)) is not None),
        key=lambda e: (e.priority, e.reported_at),
    )
    names = replica.names()
    return [
        CaseLine(
            key=e.id,
            code=e.code,
            title=e.title,
            place=names.get(e.street, "") + " " + names.get(e.community, ""),
            status=e.status,
            due_at=e.due_at,
            stage_late=stage_late(e, now),
        )
        for e in events[:DUTY_CASES]
    ]


@dataclass(frozen=True, slots=True)
class GridCase:
    """An open case on a grid's card: the code's tail, the category's name, a status key."""

    code: str
    category: str
    status: str
    deadline: float | None


@dataclass(frozen=True, slots=True)
class GridCard:
    """A grid's details card: its name and units, its people, its open cases."""

    title: str
    worker: str
    worker_phone: str
    leader: str
    cases: list[GridCase]
    more: int  # open cases beyond those listed


def grid_card(replica: Replica, code: str) -> GridCard | None:
    """The card of a grid (None if unknown): its open cases most urgent, then newest, first."""
    units = replica.units
    if units is None:
        return None
    grid = next((g for g in units.grids if g.code == code), None)
    if grid is None:
        return None
    names = replica.names()
    title = " · ".join(
        part for part in (grid.name, names.get(grid.community), names.get(grid.street)) if part
    )
    open_events = sorted(
        (e for e in replica.events.values() if e.grid == code and e.status in OPEN_STATUSES),
        key=lambda e: (e.priority, -e.reported_at),
    )
    cases = [
        GridCase(e.code[-6:], names.get(e.category, e.category), e.status, e.deadline)
        for e in open_events[:GRID_CASES]
    ]
    more = max(0, len(open_events) - GRID_CASES)
    return GridCard(title, grid.worker, grid.worker_phone, grid.leader, cases, more)


@dataclass(frozen=True, slots=True)
class KpiValue:
    """A KPI tile's value and tone; `unit` a key the screen words ("minutes", "hours")."""

    value: str
    tone: Tone = "normal"
    unit: Literal["", "minutes", "hours"] = ""


def kpi_values(kpi: Kpi, partial: bool = False) -> dict[str, KpiValue]:
    """The six KPI tiles' values for a scope; dots while the figures are partial."""
    keys = ("received", "dispatched", "closed", "on_time", "overdue", "handling")
    if partial:
        return {key: KpiValue("…") for key in keys}
    rate = kpi.on_time_rate
    if rate is None:
        on_time = KpiValue("—")
    else:
        tone: Tone = "good" if rate >= 0.95 else ("warn" if rate >= 0.85 else "alarm")
        on_time = KpiValue(f"{rate * 100:.1f}%", tone)
    minutes = kpi.avg_handling_minutes
    if minutes is None:
        handling = KpiValue("—")
    elif minutes < 120:
        handling = KpiValue(str(round(minutes)), unit="minutes")
    else:
        handling = KpiValue(f"{minutes / 60:.1f}", unit="hours")
    return {
        "received": KpiValue(str(kpi.received)),
        "dispatched": KpiValue(str(kpi.dispatched)),
        # Colours mean a target (legend: met, near, missed): a count of closures has none.
        "closed": KpiValue(str(kpi.closed)),
        "on_time": on_time,
        "overdue": KpiValue(str(kpi.overdue_now), "alarm" if kpi.overdue_now else "good"),
        "handling": handling,
    }


@dataclass(frozen=True, slots=True)
class CalendarWarning:
    """Deadlines on the screen rest on a guess about `year`: the calendar's estimate of its
    holidays (`estimated`), or, without one, its weekends alone."""

    year: int
    estimated: bool


def calendar_warning(units: Reference | None, events: Iterable[Event]) -> CalendarWarning | None:
    """Whether to warn the room that deadlines are guesses, and about which year: only when
    it matters.

    The working calendar lacks official data for this year or the next (the units' calendar
    status) and an open case's working-time deadline reaches a day it only guesses (the
    backend marks such a case `calendar_guess`). A missing next year alone says nothing:
    the note came all year long before (2027 is estimated from the first day of 2026); now
    it comes with the first deadline that runs into that year (in December, for the longest
    limits) and goes when those cases are closed or the year's notice is loaded
    (`dispatch load-calendar`).
    """
    status = units.calendar if units is not None else None
    if status is None or not status.missing:
        return None
    if not any(e.calendar_guess and e.status in OPEN_STATUSES for e in events):
        return None
    year = status.missing[0]
    return CalendarWarning(year, year in status.estimated)
