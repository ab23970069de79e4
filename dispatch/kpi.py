"""KPIs by the standards' definitions, kept incrementally (docs/kpis.md has every formula).

Every case contributes a small vector of counts to each period (today, this week, this
month, each up to now) of each scope it belongs to (the district, its street, community
and grid, the unit or worker it is assigned to). `KpiBook` keeps the sums: a changed case
takes its old vector out and puts its new one in, so a busy second costs what changed in
it, not a recount of the month. Two things change a vector without a delta: time passing a
closure deadline (a heap of deadlines wakes those cases) and a new day, week or month.

Only open cases are kept one by one. A settled case (closed, evaluated, rejected) no longer
depends on the clock: each of its counts falls on one day (received on the day it was
reported, closed on the day it closed...), so its vector is filed into per-day sums and the
case itself let go of. A period's figures are the sum of its days plus the open cases; memory
grows with the days of the month, not with its cases. When a settled case changes again (an
evaluation, a return visit reopening it), the caller hands in the version that was filed
(`note(event, before)`) and exactly that is taken out again.

`compute()` is the same arithmetic from scratch; tests hold the two equal.
"""

from __future__ import annotations

import heapq
import itertools
import math
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, MutableSequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import msgspec

from dispatch.reference import local
from protocol.entities import OPEN_STATUSES, Event, Kpi, is_overdue, on_hold

DISTRICT = "district"
Period = Literal["today", "week", "month"]
PERIODS: tuple[Period, ...] = ("today", "week", "month")
ScopeKind = Literal["street", "community", "grid", "department", "worker"]
SCOPE_KINDS: tuple[ScopeKind, ...] = ("street", "community", "grid", "department", "worker")

# Positions in a contribution vector and a tally; names match Kpi's fields.
(
    RECEIVED,
    ACCEPTED,
    ACCEPTED_ON_TIME,
    DISPATCHED,
    DISPATCHED_ON_TIME,
    HANDLED,
    HANDLE_DUE,
    REWORKED,
    CLOSED,
    CLOSED_ON_TIME,
    DUE,
    EXTENDED,
    OVERDUE_NOW,
    OPEN_NOW,
    ON_HOLD,
    RETURNED,
    REOPENED,
    EVALUATED,
    SATISFIED,
    HANDLE_SECONDS,
) = range(20)
_WIDTH = 20
_RESIDUE = 1e-6  # what adding and taking out the same handling seconds may leave behind
_CLOSED = frozenset({"closed", "evaluated"})
_HANDLING = frozenset({"dispatched", "handling"})
# A score of 3 (基本满意) or better counts as satisfied; 1-2 is 不满意.
SATISFIED_SCORE = 3
# Weights of the ranking score (docs/kpis.md §4).
SCORE_WEIGHTS = (("on_time", 0.6), ("not_overdue", 0.2), ("no_rework", 0.1), ("satisfaction", 0.1))


_CST_OFFSET = 8 * 3600  # the district's time is UTC+8 all year (no daylight saving)


def day_start(now: float) -> float:
    """Epoch seconds of the local midnight that began today."""
    # Arithmetic, not datetime: called for every count of every case when the books are
    # filled (140,000 times for a day of 20,000 cases: 0.5 s through datetime).
    return float(math.floor((now + _CST_OFFSET) / 86400) * 86400 - _CST_OFFSET)


def period_starts(now: float) -> tuple[float, float, float]:
    """Local midnight of today, of this week's Monday and of this month's first day."""
    midnight = local(now).replace(hour=0, minute=0, second=0, microsecond=0)
    monday = midnight - timedelta(days=midnight.weekday())
    first = midnight.replace(day=1)
    return midnight.timestamp(), monday.timestamp(), first.timestamp()


def is_late(event: Event) -> bool:
    """Whether a case missed any deadline on its way (lateness is never erased)."""
    return bool(event.missed) or (
        event.closed_at is not None and event.due_at is not None and event.closed_at > event.due_at
    )


Vector = tuple[tuple[int, float], ...]  # the non-zero (position, amount) pairs


def contribution(event: Event, start: float, overdue: bool) -> Vector:
    """What one case adds to one scope's tally of the period that began at `start`.

    `overdue` is is_overdue(event, now), passed in so that taking the vector out later
    subtracts exactly what was added.
    """
    v: list[tuple[int, float]] = []
    add = v.append
    if event.reported_at >= start:
        add((RECEIVED, 1))
    missed = event.missed
    if event.accepted_at is not None and event.accepted_at >= start:
        add((ACCEPTED, 1))
        if "accept" not in missed:
            add((ACCEPTED_ON_TIME, 1))
    if event.first_dispatched_at is not None and event.first_dispatched_at >= start:
        add((DISPATCHED, 1))
        if "dispatch" not in missed:
            add((DISPATCHED_ON_TIME, 1))
        if event.returned_by:
            add((RETURNED, 1))
    status = event.status
    handled = event.handled_at is not None and event.handled_at >= start
    if handled:
        add((HANDLED, 1))
        if event.handle_used:
            add((HANDLE_SECONDS, event.handle_used))
        if event.rework_count:
            add((REWORKED, 1))
    if handled or (status in _HANDLING and "handle" in missed and not on_hold(event)):
        add((HANDLE_DUE, 1))
    closed = status in _CLOSED and event.closed_at is not None and event.closed_at >= start
    if closed:
        add((CLOSED, 1))
        if not is_late(event):
            add((CLOSED_ON_TIME, 1))
    if closed or overdue:
        add((DUE, 1))
        if event.extensions:
            add((EXTENDED, 1))
    if overdue:
        add((OVERDUE_NOW, 1))
    if status in OPEN_STATUSES:
        add((OPEN_NOW, 1))
        if event.hold is not None and on_hold(event):
            add((ON_HOLD, 1))
    if event.reopened and event.dispatched_at is not None and event.dispatched_at >= start:
        add((REOPENED, 1))
    if event.evaluated_at is not None and event.evaluated_at >= start:
        add((EVALUATED, 1))
        if (event.evaluation or 0) >= SATISFIED_SCORE:
            add((SATISFIED, 1))
    return tuple(v)


def tally(events: Iterable[Event], start: float, now: float) -> Kpi:
    """The district's figures of the period from `start` up to `now`, from the cases as they
    stood at `now`: what the book shows for a period beginning at `start` (a shift's)."""
    t = [0.0] * _WIDTH
    for event in events:
        for position, amount in contribution(event, start, is_overdue(event, now)):
            t[position] += amount
    return to_kpi(t)


def _rate(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def score(kpi: Kpi) -> float | None:
    """The ranking score, 0-100: on-time closure, share not overdue, no rework, satisfaction.

    A term with nothing to measure (nothing due, nothing handled...) drops out and the others
    are weighed up, so a quiet street is neither helped nor hurt by what it did not have.
    """
    terms = {
        "on_time": kpi.on_time_rate,
        "not_overdue": 1 - kpi.overdue_now / kpi.open_now if kpi.open_now else None,
        "no_rework": 1 - kpi.rework_rate if kpi.rework_rate is not None else None,
        "satisfaction": kpi.satisfaction_rate,
    }
    total = weight = 0.0
    for name, w in SCORE_WEIGHTS:
        value = terms[name]
        if value is not None:
            total += w * value
            weight += w
    return round(100 * total / weight, 2) if weight else None


def to_kpi(
    t: list[float], hourly: list[int] | None = None, yesterday: list[int] | None = None
) -> Kpi:
    """A tally's counts with the rates made of them."""
    handled = int(t[HANDLED])
    kpi = Kpi(
        received=int(t[RECEIVED]),
        dispatched=int(t[DISPATCHED]),
        closed=int(t[CLOSED]),
        due=int(t[DUE]),
        closed_on_time=int(t[CLOSED_ON_TIME]),
        on_time_rate=_rate(t[CLOSED_ON_TIME], t[DUE]),
        rework_rate=_rate(t[REWORKED], handled),
        overdue_now=int(t[OVERDUE_NOW]),
        open_now=int(t[OPEN_NOW]),
        avg_handling_minutes=round(t[HANDLE_SECONDS] / handled / 60, 1) if handled else None,
        hourly=hourly or [],
        hourly_yesterday=yesterday or [],
        accepted=int(t[ACCEPTED]),
        accepted_on_time=int(t[ACCEPTED_ON_TIME]),
        dispatched_on_time=int(t[DISPATCHED_ON_TIME]),
        handled=handled,
        handle_due=int(t[HANDLE_DUE]),
        reworked=int(t[REWORKED]),
        extended=int(t[EXTENDED]),
        on_hold=int(t[ON_HOLD]),
        returned=int(t[RETURNED]),
        reopened=int(t[REOPENED]),
        evaluated=int(t[EVALUATED]),
        satisfied=int(t[SATISFIED]),
        closure_rate=_rate(t[CLOSED], t[DUE]),
        handling_rate=_rate(handled, t[HANDLE_DUE]),
        timely_accept_rate=_rate(t[ACCEPTED_ON_TIME], t[ACCEPTED]),
        timely_dispatch_rate=_rate(t[DISPATCHED_ON_TIME], t[DISPATCHED]),
        extension_rate=_rate(t[EXTENDED], t[DUE]),
        satisfaction_rate=_rate(t[SATISFIED], t[EVALUATED]),
    )
    kpi.score = score(kpi)
    return kpi


def scopes_of(event: Event, departments: Mapping[str, object] | frozenset[str]) -> tuple[str, ...]:
    """The scopes a case counts in: district, street, community, grid, its unit or worker."""
    scopes = [DISTRICT, event.street, f"community:{event.community}", f"grid:{event.grid}"]
    if event.assignee:
        kind = "department" if event.assignee in departments else "worker"
        scopes.append(f"{kind}:{event.assignee}")
    return tuple(scopes)


def _times(event: Event) -> tuple[float, ...]:
    """Every moment a vector compares with a period's start."""
    return tuple(
        t
        for t in (
            event.accepted_at,
            event.first_dispatched_at,
            event.handled_at,
            event.closed_at,
            event.dispatched_at,
            event.evaluated_at,
        )
        if t is not None
    )


def _difference(before: Vector, after: Vector) -> list[tuple[int, float]]:
    """after - before, as non-zero (position, amount) pairs."""
    if before == after:
        return []
    change: dict[int, float] = {}
    for i, x in before:
        change[i] = change.get(i, 0.0) - x
    for i, x in after:
        change[i] = change.get(i, 0.0) + x
    return [(i, x) for i, x in change.items() if x]


def _unit_scope(unit: str, departments: Mapping[str, object] | frozenset[str]) -> str:
    return f"{'department' if unit in departments else 'worker'}:{unit}"


@dataclass(slots=True)
class _Entry:
    """What a case added to the tallies, to take out exactly that when it changes."""

    event: Event
    overdue: bool
    scopes: tuple[str, ...]
    returns: tuple[str, ...]  # unit scopes that sent it back, one per return
    vectors: tuple[Vector, Vector, Vector]  # what it added to today, this week, this month


@dataclass(slots=True)
class _Day:
    """What the settled cases filed add to one day: counts by scope, arrivals by hour."""

    tallies: DayTallies
    hourly: defaultdict[str, list[int]]


Counts = dict[str, list[float]]


class SavedBook(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    """A book as it stood when its backend stopped cleanly (KpiBook.saved): what a fresh
    fill from the same log would count, in a form that is read back in milliseconds."""

    starts: tuple[float, float, float]
    tallies: tuple[Counts, Counts, Counts]
    settled: tuple[Counts, Counts, Counts]
    days: list[tuple[float, Counts, dict[str, list[int]]]]
    hourly: dict[str, list[int]]
    # The open cases' entries: (case, overdue, scopes, returns, today/week/month vectors).
    entries: list[
        tuple[Event, bool, tuple[str, ...], tuple[str, ...], tuple[Vector, Vector, Vector]]
    ]
    deadlines: list[tuple[float, int]]
    # Yesterday's arrivals per hour, by scope: still yesterday's when read back the same day.
    yesterday: dict[str, list[int]] = {}


class KpiBook:
    """Tallies per (period, scope), kept up to date case by case."""

    def __init__(
        self,
        now: float,
        departments: Mapping[str, object] | frozenset[str],
        *,
        filling: bool = False,
    ) -> None:
        self.departments = departments
        # A stand-in while the real book is filled elsewhere: it only notes changes, for
        # hand_over() to pass on, and counts nothing (its figures are empty and partial).
        self.filling = filling
        self.starts = period_starts(now)
        self.entries: dict[int, _Entry] = {}  # the open cases, one by one
        self.tallies = _new_tallies()  # every case's counts: settled + open
        self.settled = _new_tallies()  # the settled cases' part of them
        self.days: dict[float, _Day] = {}  # the settled cases' counts by local midnight
        self.hourly = _new_hourly()
        # The filed version of a settled case that changed again, until its change is counted.
        self._filed: dict[int, Event] = {}
        self.yesterday: dict[str, list[int]] = {}
        self._pending: dict[int, Event] = {}
        self._deadlines: list[tuple[float, int]] = []  # (due_at, id) of open cases
        self._rolling = False
        self._version = 0  # bumped on every change of the tallies
        self._views: dict[tuple[Period, ScopeKind | None], tuple[int, dict[str, Kpi]]] = {}

    # ---- input -------------------------------------------------------------------------

    def note(self, event: Event, before: Event | None = None) -> None:
        """Remember a changed case; it is counted at the next refresh (cheap on the hot path).

        `before` is the case as it was before this change (None for a new one): when that was
        settled, the book filed it into day sums and kept nothing else of it, so it is what
        has to come out again."""
        event_id = event.id
        if (
            before is not None
            and before.status not in OPEN_STATUSES
            and event_id not in self._pending
            and event_id not in self.entries
        ):
            self._filed[event_id] = before
        self._pending[event_id] = event

    def set_yesterday(self, counts: dict[str, list[int]]) -> None:
        """Yesterday's arrivals per hour, by scope (counted from the store)."""
        self.yesterday = counts
        self._version += 1

    def absorb(self, now: float, limit: int) -> None:
        """Count up to `limit` changed cases now, when the caller has time to spare; time's
        effects (deadlines passing, a new day) wait for refresh()."""
        pending = self._pending
        if self.filling or not pending or len(pending) > limit or period_starts(now) != self.starts:
            return
        self._pending = {}
        for event in pending.values():
            self._put(event, now)

    def load(self, events: Iterable[Event], now: float) -> None:
        """Count cases loaded at start (the month's, and every open one).

        The same figures as noting each case and refreshing, reached in bulk: a settled case
        only goes into its days' sums, and cases that add the same counts to the same scopes
        are added once, times their number (a day of 20,000 cases shares a few thousand
        such sums). The tallies are then the periods' day sums plus the open cases."""
        if self.entries or self.days or self._pending or self._filed:
            for event in events:  # not a fresh book: the general way
                self._pending[event.id] = event
            self.refresh(now)
            return
        starts = period_starts(now)
        if starts != self.starts:
            self._roll(starts, now)
        self._pending = {}
        floor, today = min(starts), starts[0]
        # Per day and set of scopes, the sum of its cases' pieces: a few thousand sums where
        # there are tens of thousands of cases (their vectors differ: handling seconds).
        pieces: defaultdict[tuple[float, tuple[str, ...], tuple[str, ...]], list[float]] = (
            defaultdict(lambda: [0.0] * _WIDTH)
        )
        arrivals: Counter[tuple[float, tuple[str, ...], int]] = Counter()
        opened: list[Event] = []
        latest = {event.id: event for event in events}  # a case loaded twice: its last version
        for event in latest.values():
            if event.status in OPEN_STATUSES:
                opened.append(event)
                continue
            if event.updated_at < floor:
                continue  # settled before every period: counted nowhere
            scopes = scopes_of(event, self.departments)
            returns = tuple(_unit_scope(u, self.departments) for u in event.returned_by)
            for day, vector in _pieces(event):
                if day >= floor:
                    total = pieces[(day, scopes, returns)]
                    for i, x in vector:
                        total[i] += x
            reported = event.reported_at
            day = day_start(reported)
            if day >= floor:
                arrivals[(day, scopes[:2], min(23, int((reported - day) // 3600)))] += 1
        days = self.days
        for (day, scopes, returns), total in pieces.items():
            sums = days.get(day)
            if sums is None:
                sums = days[day] = _Day(_new_day_tally(), _new_hourly())
            summed = tuple((i, x) for i, x in enumerate(total) if x)
            for scope in scopes:
                tally = sums.tallies[scope]
                for i, x in summed:
                    tally[i] += x
            for scope in returns:  # one return per first dispatch among the summed cases
                sums.tallies[scope][RETURNED] += total[DISPATCHED]
        for (day, scopes, hour), count in arrivals.items():
            sums = days.get(day)
            if sums is None:
                sums = days[day] = _Day(_new_day_tally(), _new_hourly())
            for scope in scopes:
                sums.hourly[scope][hour] += count
        settled = [_sum_days(days, start) for start in starts]
        self.settled = (settled[0], settled[1], settled[2])
        self.tallies = (_copy(settled[0]), _copy(settled[1]), _copy(settled[2]))
        self.hourly = _new_hourly()
        filed_today = days.get(today)
        if filed_today is not None:
            for scope, hours in filed_today.hourly.items():
                self.hourly[scope] = list(hours)
        self._version += 1
        self._rolling = False
        for event in opened:
            self._put(event, now)

    def saved(self, now: float) -> SavedBook:
        """Everything counted, as a SavedBook (what changed is counted first)."""
        if self.filling:
            raise RuntimeError("a stand-in book has nothing to save")
        self.refresh(now)
        return SavedBook(
            starts=self.starts,
            tallies=(dict(self.tallies[0]), dict(self.tallies[1]), dict(self.tallies[2])),
            settled=(dict(self.settled[0]), dict(self.settled[1]), dict(self.settled[2])),
            days=[
                (
                    day,
                    {scope: list(counts) for scope, counts in sums.tallies.items()},
                    dict(sums.hourly),
                )
                for day, sums in self.days.items()
            ],
            hourly=dict(self.hourly),
            entries=[
                (e.event, e.overdue, e.scopes, e.returns, e.vectors) for e in self.entries.values()
            ],
            deadlines=list(self._deadlines),
            yesterday=dict(self.yesterday),
        )

    @classmethod
    def restored(
        cls,
        saved: SavedBook,
        now: float,
        departments: Mapping[str, object] | frozenset[str],
        yesterday: dict[str, list[int]],
    ) -> KpiBook:
        """The book a SavedBook describes, brought to `now` (a new day, deadlines passed)."""
        book = cls(now, departments)
        book.starts = saved.starts
        for mine, theirs in zip(
            (*book.tallies, *book.settled), (*saved.tallies, *saved.settled), strict=True
        ):
            mine.update(theirs)
        for day, tallies, hourly in saved.days:
            sums = book.days[day] = _Day(_new_day_tally(), _new_hourly())
            for scope, counts in tallies.items():
                sums.tallies[scope] = array("d", counts)
            sums.hourly.update(hourly)
        book.hourly.update(saved.hourly)
        for event, overdue, scopes, returns, vectors in saved.entries:
            book.entries[event.id] = _Entry(event, overdue, scopes, returns, vectors)
        book._deadlines = list(saved.deadlines)
        heapq.heapify(book._deadlines)
        book.set_yesterday(yesterday)
        book.refresh(now)
        return book

    def hand_over(self, filled: KpiBook) -> KpiBook:
        """Pass the changes this stand-in noted on to `filled`, the book loaded meanwhile
        from the cases as they were before those changes; return it."""
        if not self.filling:
            raise RuntimeError("only a stand-in book hands over its notes")
        for event_id, before in self._filed.items():
            filled._filed.setdefault(event_id, before)
        filled._pending.update(self._pending)
        if self.yesterday:  # a midnight passed meanwhile: the new day's yesterday
            filled.set_yesterday(self.yesterday)
        self._pending, self._filed = {}, {}
        return filled

    def refresh(self, now: float, limit: int | None = None) -> bool:
        """Count what changed since the last refresh and what time has made late; at most
        `limit` cases when given (the rest wait for the next call). True when all is counted."""
        if self.filling:
            raise RuntimeError("a stand-in book counts nothing: refresh the filled one")
        starts = period_starts(now)
        if starts != self.starts:
            self._roll(starts, now)
        pending, deadlines = self._pending, self._deadlines
        while deadlines and deadlines[0][0] < now:
            _, event_id = heapq.heappop(deadlines)
            entry = self.entries.get(event_id)
            if entry is not None and event_id not in pending:
                pending[event_id] = entry.event
        if len(deadlines) > 2 * len(self.entries) + 256:
            # Cases settled before their deadline leave their slot behind until it passes
            # (days, in working time): drop those, so the heap is the open cases' size.
            deadlines[:] = [
                (e.event.due_at, i)
                for i, e in self.entries.items()
                if e.event.due_at is not None and not e.overdue
            ]
            heapq.heapify(deadlines)
        if limit is None or len(pending) <= limit:
            batch, self._pending = pending, {}
        else:
            batch = dict(itertools.islice(pending.items(), limit))
            for event_id in batch:
                del pending[event_id]
        for event in batch.values():
            self._put(event, now)
        if not self._pending:
            self._rolling = False
        return not self._pending

    # ---- output ------------------------------------------------------------------------

    def kpi(self, period: Period, scope: str) -> Kpi:
        """The KPIs of one scope over one period (empty when it has no cases)."""
        tally = self.tallies[PERIODS.index(period)].get(scope)
        if tally is None:
            return to_kpi([0.0] * _WIDTH)
        if period == "today":
            return to_kpi(tally, self._hours(scope), self.yesterday.get(scope, []))
        return to_kpi(tally)

    @property
    def rolling(self) -> bool:
        """Whether a new day's recount is under way: the tallies are partial until it ends."""
        return self._rolling

    @property
    def partial(self) -> bool:
        """Whether the figures are partial: a stand-in's, or a new day's half recounted."""
        return self._rolling or self.filling

    def scopes(self, period: Period, kind: ScopeKind | None = None) -> dict[str, Kpi]:
        """Every scope of a kind ('district' and streets when None) over a period.

        Built once per change of the tallies: every jurisdiction's push and every `stats`
        request in between share it (treat it as read-only)."""
        key = (period, kind)
        cached = self._views.get(key)
        if cached is not None and cached[0] == self._version:
            return cached[1]
        out: dict[str, Kpi] = {}
        for scope, tally in self.tallies[PERIODS.index(period)].items():
            if not any(abs(x) > _RESIDUE for x in tally):
                # A scope whose cases all came out again (moved, unfiled) counts nothing:
                # left out, as a recount that never saw them leaves it out.
                continue
            if kind is None or kind == "street":
                # Streets are kept under their bare codes, beside 'district'.
                if ":" in scope or (kind == "street" and scope == DISTRICT):
                    continue
                out[scope] = self.kpi(period, scope)
            elif scope.startswith(f"{kind}:"):
                out[scope.split(":", 1)[1]] = self.kpi(period, scope)
        self._views[key] = (self._version, out)
        return out

    # ---- bookkeeping ---------------------------------------------------------------------

    def total(self, period: Period, districts: Iterable[str]) -> Kpi:
        """The KPIs of every case in some districts of a store holding several: their
        streets' tallies summed (a case counts in exactly one street), for a district user's
        `district` figure, the store-wide one being the city's."""
        codes = tuple(districts)
        tallies = self.tallies[PERIODS.index(period)]
        streets = [s for s in tallies if ":" not in s and s != DISTRICT and s.startswith(codes)]
        summed = [0.0] * _WIDTH
        for street in streets:
            for i, x in enumerate(tallies[street]):
                summed[i] += x
        if period != "today":
            return to_kpi(summed)
        hours, before = [0] * 24, [0] * 24
        for street in streets:
            for h, n in enumerate(self.hourly.get(street, ())):
                hours[h] += n
        for street, counts in self.yesterday.items():
            if street.startswith(codes):
                for h, n in enumerate(counts):
                    before[h] += n
        # Yesterday's hours whole, as the district's are when the day was counted at all.
        return to_kpi(summed, _up_to_last(hours), before if self.yesterday else [])

    def _hours(self, scope: str) -> list[int]:
        return _up_to_last(self.hourly.get(scope, []))

    def _put(self, event: Event, now: float) -> None:
        self._version += 1
        filed = self._filed.pop(event.id, None)
        if filed is not None:
            self._unfile(filed)
        old = self.entries.get(event.id)
        if not self._relevant(event):
            if old is not None:
                self._add(old, -1)
                del self.entries[event.id]
            return
        overdue = is_overdue(event, now)
        entry = self._entry(event, now, overdue)
        self.entries[event.id] = entry
        if (
            old is not None
            and old.scopes == entry.scopes
            and old.returns == entry.returns
            and old.event.reported_at == event.reported_at
        ):
            self._shift(old, entry)  # most changes move a counter or two: add only that
        else:
            if old is not None:
                self._add(old, -1)
            self._add(entry, 1)
        if event.status not in OPEN_STATUSES:
            # Settled: its counts no longer move with the clock. They stay in the tallies;
            # the case goes, its vector filed by day.
            del self.entries[event.id]
            self._file(entry)
            return
        due = event.due_at
        if (
            due is not None
            and not overdue
            and due >= now
            and event.status in OPEN_STATUSES
            and (old is None or old.event.due_at != due or old.overdue)
        ):
            heapq.heappush(self._deadlines, (due, event.id))

    def _shift(self, old: _Entry, new: _Entry) -> None:
        """Add the difference between two entries of the same case in the same scopes."""
        first: list[tuple[int, float]] = []
        for index in range(len(PERIODS)):
            before, after = old.vectors[index], new.vectors[index]
            if index and before is old.vectors[0] and after is new.vectors[0]:
                diff = first  # the same vectors as today's: the same difference
            else:
                diff = _difference(before, after)
            if index == 0:
                first = diff
            if not diff:
                continue
            tallies = self.tallies[index]
            for scope in new.scopes:
                tally = tallies[scope]
                for i, x in diff:
                    tally[i] += x
            dispatched = sum(x for i, x in diff if i == DISPATCHED)
            for scope in new.returns if dispatched else ():
                tally = tallies[scope]
                tally[RETURNED] += dispatched

    def _relevant(self, event: Event) -> bool:
        """Whether a case still counts in some period: open, or touched since the earliest."""
        return event.status in OPEN_STATUSES or event.updated_at >= min(self.starts)

    def _add(self, entry: _Entry, sign: int) -> None:
        _apply(self.tallies, entry, sign)
        event = entry.event
        today = self.starts[0]
        if event.reported_at >= today:
            hour = min(23, int((event.reported_at - today) // 3600))
            for scope in entry.scopes[:2]:  # district and street
                self.hourly[scope][hour] += sign

    def _file(self, entry: _Entry, sign: int = 1) -> None:
        """Put a settled case's counts in (or take them out of) the settled tallies and the
        day sums; the tallies themselves are the caller's."""
        _apply(self.settled, entry, sign)
        event, days, floor = entry.event, self.days, min(self.starts)
        for day, vector in _pieces(event):
            if day < floor:
                continue  # before every period: counted nowhere
            sums = days.get(day)
            if sums is None:
                sums = days[day] = _Day(_new_day_tally(), _new_hourly())
            _apply_vector(sums.tallies, entry.scopes, entry.returns, vector, sign)
        # Its arrival hour too: today's curve after a roll is the new day's filed arrivals.
        reported = event.reported_at
        day = day_start(reported)
        if day >= floor:
            sums = days.get(day)
            if sums is None:
                sums = days[day] = _Day(_new_day_tally(), _new_hourly())
            hour = min(23, int((reported - day) // 3600))
            for scope in entry.scopes[:2]:
                sums.hourly[scope][hour] += sign

    def _unfile(self, event: Event) -> None:
        """Take out exactly what a filed settled case added, before its new version goes in."""
        if not self._relevant(event):
            return  # filed nowhere that still counts (its days are gone)
        entry = self._entry(event, 0.0, False)
        self._add(entry, -1)
        self._file(entry, -1)

    def _entry(self, event: Event, now: float, overdue: bool) -> _Entry:
        returns = tuple(_unit_scope(u, self.departments) for u in event.returned_by)
        today, week, month = self.starts
        vector = contribution(event, today, overdue)
        # Every time of a case begun today is inside all three periods: one vector for all.
        if event.reported_at >= today and all(t >= today for t in _times(event)):
            vectors = (vector, vector, vector)
        else:
            vectors = (
                vector,
                contribution(event, week, overdue),
                contribution(event, month, overdue),
            )
        return _Entry(event, overdue, scopes_of(event, self.departments), returns, vectors)

    def _roll(self, starts: tuple[float, float, float], now: float) -> None:
        """A new day (week, month): the settled part of a period that begins now is its days'
        sums; every open case is counted again against the new periods (queued like changed
        cases, so the recount is sliced like any refresh)."""
        latest = {entry.event.id: entry.event for entry in self.entries.values()}
        latest.update(self._pending)
        floor = min(starts)
        self.days = {day: sums for day, sums in self.days.items() if day >= floor}
        settled = list(self.settled)
        for index, (start, before) in enumerate(zip(starts, self.starts, strict=True)):
            if start != before:
                settled[index] = _sum_days(self.days, start)
        self.settled = (settled[0], settled[1], settled[2])
        self.starts = starts
        self.entries = {}
        self.tallies = (_copy(settled[0]), _copy(settled[1]), _copy(settled[2]))
        self.hourly = _new_hourly()
        today = self.days.get(starts[0])
        if today is not None:
            for scope, hours in today.hourly.items():
                self.hourly[scope] = list(hours)
        self._deadlines = []
        self._pending = latest
        self._rolling = True
        self._version += 1

    def day_sums(self, period: Period) -> Tallies:
        """A period's settled part summed from its days afresh (kept incrementally in
        `settled`; tests hold the two equal)."""
        return _sum_days(self.days, self.starts[PERIODS.index(period)])


Tallies = defaultdict[str, list[float]]  # scope -> counts, made on first use
# A day's sums are kept for the rest of the month: packed doubles, a third of a list's size.
DayTallies = defaultdict[str, "array[float]"]
_ZEROS = array("d", bytes(8 * _WIDTH))


def _new_tally() -> Tallies:
    return defaultdict(lambda: [0.0] * _WIDTH)


def _new_tallies() -> tuple[Tallies, Tallies, Tallies]:
    """Empty tallies of today, this week and this month."""
    return (_new_tally(), _new_tally(), _new_tally())


def _new_day_tally() -> DayTallies:
    return defaultdict(lambda: array("d", _ZEROS))


def _copy(tally: Tallies) -> Tallies:
    out = _new_tally()
    for scope, counts in tally.items():
        out[scope] = list(counts)
    return out


def _sum_days(days: dict[float, _Day], start: float) -> Tallies:
    """The settled part of the period that began at `start`: its days' sums."""
    out = _new_tally()
    for day in sorted(days):
        if day < start:
            continue
        for scope, counts in days[day].tallies.items():
            total = out[scope]
            for i, x in enumerate(counts):
                if x:
                    total[i] += x
    return out


def _apply_vector(
    tallies: Mapping[str, MutableSequence[float]],
    scopes: tuple[str, ...],
    returns: tuple[str, ...],
    vector: Vector,
    sign: int,
) -> None:
    """Add (sign 1) or take out (-1) one vector in each scope, or add it `sign` times; a
    return counts against the unit that sent it back where the case's first dispatch counts."""
    if not vector:
        return
    for scope in scopes:
        tally = tallies[scope]
        for i, x in vector:
            tally[i] += sign * x
    if returns and any(i == DISPATCHED for i, _ in vector):
        for scope in returns:
            tallies[scope][RETURNED] += sign


def _apply(tallies: tuple[Tallies, Tallies, Tallies], entry: _Entry, sign: int) -> None:
    for period, vector in zip(tallies, entry.vectors, strict=True):
        _apply_vector(period, entry.scopes, entry.returns, vector, sign)


def _pieces(event: Event) -> list[tuple[float, Vector]]:
    """A settled case's counts split by the local day each falls on.

    Every count of a settled case hangs on one moment of it (reported, accepted, first
    dispatched, handled, closed, dispatched again, evaluated) and none on the clock, so its
    vector over a period that begins at a midnight is the sum of its pieces of the days from
    there on: contribution() itself, differenced between consecutive days.
    """
    first = day_start(event.reported_at)
    times = _times(event)
    if all(first <= t < first + 86400 for t in times):  # begun and settled on one day
        whole = contribution(event, first, False)
        return [(first, whole)] if whole else []
    days = sorted({first, *(day_start(t) for t in times)}, reverse=True)
    pieces: list[tuple[float, Vector]] = []
    later: Vector = ()
    for day in days:
        whole = contribution(event, day, False)
        piece = _difference(later, whole)
        if piece:
            pieces.append((day, tuple(piece)))
        later = whole
    return pieces


def _new_hourly() -> defaultdict[str, list[int]]:
    """Empty arrivals per hour of today, by scope; the district's always there."""
    hourly: defaultdict[str, list[int]] = defaultdict(lambda: [0] * 24)
    hourly[DISTRICT]
    return hourly


def filled(
    events: Iterable[Event],
    now: float,
    departments: Mapping[str, object] | frozenset[str],
    yesterday: dict[str, list[int]],
) -> KpiBook:
    """A book of `events` loaded in bulk: pure, so a worker thread can build it while the
    loop serves (the events are never changed in place, only replaced)."""
    book = KpiBook(now, departments)
    book.set_yesterday(yesterday)
    book.load(events, now)
    return book


def compute(
    events: Iterable[Event],
    now: float,
    yesterday: dict[str, list[int]] | None = None,
    departments: frozenset[str] = frozenset(),
) -> KpiBook:
    """Every tally counted from scratch, in one go (the reference for the incremental book)."""
    book = KpiBook(now, departments)
    book.set_yesterday(yesterday or {})
    book.load(events, now)
    return book


def hourly(rows: Iterable[tuple[str, float]], start: float) -> dict[str, list[int]]:
    """Counts per local hour of the day beginning at `start`, by street and for the district."""
    counts: dict[str, list[int]] = {DISTRICT: [0] * 24}
    for street, reported_at in rows:
        hour = int((reported_at - start) // 3600)
        if 0 <= hour < 24:
            counts[DISTRICT][hour] += 1
            counts.setdefault(street, [0] * 24)[hour] += 1
    return counts


def _up_to_last(hours: list[int]) -> list[int]:
    """Hourly counts up to the last hour with any (none after it yet: not sent)."""
    last = max((h for h, n in enumerate(hours) if n), default=-1)
    return hours[: last + 1]
