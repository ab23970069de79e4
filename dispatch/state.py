"""The authoritative in-memory state, owned by the writer thread; every op returns its Changes.

Structs are never mutated once published: an op builds a new struct with `replace`, so the
event loop may keep references to earlier versions while the writer moves on.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import msgspec
from msgspec.structs import replace

from dispatch.jurisdiction import DistrictUnclear, covers, pick_district, width_of
from dispatch.reference import ReferenceData, local
from dispatch.workflow import WorkflowError, level_above
from protocol import commands as c
from protocol.entities import (
    OPEN_STATUSES,
    Alert,
    Basis,
    Category,
    CategoryLimit,
    Decision,
    Duty,
    DutyPlan,
    Event,
    Grid,
    Person,
    Role,
    Stage,
    is_overdue,
    on_hold,
)
from protocol.retention import prune_settled

Entity = Event | Alert | Duty
EntityKind = Literal["event", "alert", "duty"]
log = logging.getLogger("dispatch")
# Repeated detections of one camera and kind within this window are one alert.
ALERT_BURST_WINDOW = 120.0
# The `code` an external id of an alert (not an event) is stored with (external_ids table).
ALERT_CODE = "alert"
# Committed external ids kept in memory (ExternalIds.recent).
RECENT_EXTERNAL_IDS = 100_000
# After an automatic escalation the next level has this long before it escalates again.
_ESCALATION_GRACE = CategoryLimit(amount=4, unit="hour")
# The timed stage a case in each open status is in.
STAGE_OF_STATUS: dict[str, Stage] = {
    "reported": "accept",
    "accepted": "dispatch",
    "dispatched": "handle",
    "handling": "handle",
    "handled": "verify",
    "verified": "verify",
}


# Urgent cases (特急, 紧急) run around the clock whatever their category's table says.
URGENT_PRIORITY = 2


def basis_of(category_basis: Basis, priority: int) -> Basis:
    """How a case's limits run: natural time when urgent or when its category says so."""
    return "natural" if priority <= URGENT_PRIORITY else category_basis


def with_missed(missed: list[Stage], stage: Stage) -> list[Stage]:
    """`missed` with `stage` added once (the list is sticky: nothing is ever removed)."""
    return missed if stage in missed else [*missed, stage]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who does something: a user, the clock, or a simulated grid worker."""

    name: str
    role: Role
    # Street or community codes (dispatch/jurisdiction.py); None: the whole district.
    jurisdiction: frozenset[str] | None = None
    width: int = field(default=0, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "width", width_of(self.jurisdiction))

    def may_see(self, key: str) -> bool:
        """Whether this actor's jurisdiction covers `key` (a community's or grid's code, or a
        street's for street-wide users)."""
        return covers(self.jurisdiction, self.width, key)


SYSTEM = Actor("system", "admin")


def duty_district(actor: Actor, asked: str | None, held: Sequence[str]) -> str:
    """The district whose duty an actor acts on (jurisdiction.pick_district), or
    WorkflowError."""
    try:
        return pick_district(actor.jurisdiction, asked, held, "duty")
    except DistrictUnclear as exc:
        raise WorkflowError(exc.code, str(exc)) from exc


@dataclass(slots=True)
class Change:
    """One committed-to-be change of one entity; becomes one log row and one delta."""

    kind: EntityKind
    id: int
    # Who may see it (jurisdiction.py): its community's code; a duty's, its district's.
    key: str
    action: str
    actor: str
    at: float
    before: Entity | None
    after: Entity


@dataclass(slots=True)
class Savepoint:
    """Counters to restore when a batch fails to commit."""

    next_event_id: int
    next_alert_id: int
    day_counters: dict[tuple[str, str], int]
    burst_keys: dict[tuple[str, str], int]


@dataclass(slots=True)
class Outcome:
    """What an op produced: its changes and the data for the client's result."""

    changes: list[Change] = field(default_factory=list)
    data: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ExternalRecord:
    """An external id (a gateway's own id of a report) and the event it created."""

    actor: str  # the user who reported it: external ids are unique per user
    external_id: str
    event: int
    code: str
    at: float


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A feedback owed to an intake peer because of a change (dispatch/intake/outbox.py):
    written in the change's own transaction, delivered afterwards."""

    key: str  # the idempotency key the peer de-duplicates on
    channel: str
    peer: str
    ref: str  # the peer's id of the case (工单编号)
    event: int
    kind: str  # sign, progress, done, return, extend, reopen
    body: str  # the JSON to send
    at: float  # wall-clock time it was owed (the sender's schedule runs on the wall clock)
    # The district time of the change that owed it (what the case's history shows beside
    # the change; a demo's or a replay's district clock runs faster than the wall's).
    owed: float = 0.0


class ExternalIds:
    """Which external ids have created which events: the store's, plus those created in the
    writer batch under way (written with it, forgotten if it fails).

    With `look_up` off the store is not asked: every id not created in this batch counts as
    new, and the store's unique key refuses the batch's commit if one was not (the writer
    then applies the batch again, looking each one up). Ids sent again are rare, a look-up
    per new report is not.
    """

    def __init__(self) -> None:
        # Reads the stored ones of a user (the store's, on the writer's thread).
        self.read: Callable[[str, list[str]], dict[str, tuple[int, str]]] | None = None
        self.look_up = True
        self.pending: dict[tuple[str, str], ExternalRecord] = {}
        # Recently committed ones (remember): a camera platform sends each id again and
        # again (Frigate's update and end messages), which must not cost a store look-up or
        # a refused commit each time.
        self.recent: OrderedDict[tuple[str, str], tuple[int, str]] = OrderedDict()

    def find(self, actor: str, ids: list[str]) -> dict[str, tuple[int, str]]:
        """(event, code) of each of `ids` `actor` has created already (of those in the store,
        only while `look_up` is on)."""
        found: dict[str, tuple[int, str]] = {}
        missing = []
        for external_id in ids:
            record = self.pending.get((actor, external_id))
            if record is not None:
                found[external_id] = (record.event, record.code)
                continue
            seen = self.recent.get((actor, external_id))
            if seen is None:
                missing.append(external_id)
            else:
                found[external_id] = seen
        if missing and self.look_up and self.read is not None:
            found.update(self.read(actor, missing))
        return found

    def add(self, record: ExternalRecord) -> None:
        """Note an external id that created an event in this batch."""
        self.pending[(record.actor, record.external_id)] = record

    def mark(self) -> int:
        """How many are pending: `undo` to it forgets the ones noted after."""
        return len(self.pending)

    def undo(self, mark: int) -> None:
        """Forget the ones noted after `mark` (an op that failed half-way)."""
        while len(self.pending) > mark:
            self.pending.popitem()

    def remember(self, records: list[ExternalRecord]) -> None:
        """Keep committed records in `recent` (the newest RECENT_EXTERNAL_IDS)."""
        for r in records:
            self.recent[(r.actor, r.external_id)] = (r.event, r.code)
        while len(self.recent) > RECENT_EXTERNAL_IDS:
            self.recent.popitem(last=False)

    def take(self) -> list[ExternalRecord]:
        """The batch's new ones, to be written with it; none pending afterwards."""
        records = list(self.pending.values())
        self.pending.clear()
        return records


def parse_code(code: str) -> tuple[str, str, int] | None:
    """(prefix, day, number) of a case code `PREFIX-yyyymmdd-nnnnnn`; None for a code of
    another form (an old or imported one)."""
    parts = code.split("-")
    if len(parts) != 3:
        return None
    prefix, day, number = parts
    if not (prefix and day.isdigit() and len(day) == 8 and number.isdigit()):
        return None
    return prefix, day, int(number)


def args_digest(op: str, args: dict[str, object]) -> str:
    """A stable digest of a command's op and args, to spot a command_id reused differently."""
    return hashlib.sha256(msgspec.json.encode([op, args], order="sorted")).hexdigest()


class State:
    """Events, alerts and duty, with every rule that changes them."""

    def __init__(self, reference: ReferenceData) -> None:
        self.reference = reference
        # Reads a case the live state no longer holds (the store's, on the writer's thread).
        self.archive: Callable[[int], Event | None] | None = None
        self.events: dict[int, Event] = {}
        self.alerts: dict[int, Alert] = {}
        # The store's first district: a duty or plan recorded before each district had its
        # own (district "") is its.
        self.home = reference.reference.district
        # The duty in force of each district's centre, by district code.
        self.duties: dict[str, Duty] = {}
        # The planned duty of the days from yesterday on (排班), by (district, day): a day's
        # duty takes its roster from here when it begins (handover).
        self.plans: dict[tuple[str, str], DutyPlan] = {}
        self.next_event_id = 1
        self.next_alert_id = 1
        # The last case number given, by (prefix, local day): each district numbers its
        # own cases (DG-20261122-000123, YJ-20261122-000007).
        self.day_counters: dict[tuple[str, str], int] = {}
        self.burst_keys: dict[tuple[str, str], int] = {}
        self._intake_cache: dict[tuple[str, str, Basis, float], tuple[float, float, Category]] = {}
        # Every change made, in order, until the writer takes it: an op that fails half-way
        # (a confirm whose report succeeded) can then be undone whole.
        self.journal: list[Change] = []
        # External ids of reports (report_batch): the events they created.
        self.external = ExternalIds()
        self._day_index = -1
        self._day_text = ""

    # ---- loading and bookkeeping ----------------------------------------------------------

    @property
    def duty(self) -> Duty | None:
        """The duty in force of the store's first district."""
        return self.duties.get(self.home)

    def district_of(self, duty: Duty | DutyPlan) -> str:
        """The district whose duty or plan it is (one recorded before districts had their
        own: the store's first)."""
        return duty.district or self.home

    def duty_district(self, actor: Actor, asked: str | None) -> str:
        """The district whose duty an actor acts on (see duty_district)."""
        return duty_district(actor, asked, list(self.reference.districts))

    def plan_of(self, district: str, day: str) -> DutyPlan | None:
        """The planned duty of one district's day, if any."""
        return self.plans.get((district, day))

    def load(self, events: list[Event], alerts: list[Alert], duties: dict[str, Duty]) -> None:
        """Fill the state from the store at start-up."""
        unreadable = 0
        for event in events:
            self.events[event.id] = event
            parsed = parse_code(event.code)
            if parsed is None:
                unreadable += 1
                continue
            prefix, day, number = parsed
            key = (prefix, day)
            self.day_counters[key] = max(self.day_counters.get(key, 0), number)
        if unreadable:
            # Such a code cannot clash with a new one (they all have the PREFIX-day-number
            # form), so the cases are served as they are.
            log.warning("%d stored case codes are not PREFIX-yyyymmdd-nnnnnn", unreadable)
        for alert in alerts:
            self.alerts[alert.id] = alert
            if alert.status == "new":
                self.burst_keys[(alert.camera, alert.detection)] = alert.id
        self.duties = {self.district_of(duty): duty for duty in duties.values()}

    def savepoint(self) -> Savepoint:
        """Remember the counters before a batch."""
        return Savepoint(
            self.next_event_id, self.next_alert_id, dict(self.day_counters), dict(self.burst_keys)
        )

    def undo(self, changes: list[Change]) -> None:
        """Put back what `changes` replaced, newest first (counters are left as they are)."""
        for change in reversed(changes):
            table: dict[int, Event] | dict[int, Alert]
            if change.kind == "duty":
                district = change.key or self.home
                if isinstance(change.before, Duty):
                    self.duties[district] = change.before
                else:
                    self.duties.pop(district, None)
                continue
            table = self.events if change.kind == "event" else self.alerts
            if change.before is None:
                table.pop(change.id, None)
            else:
                table[change.id] = change.before  # type: ignore[assignment]

    def rollback(self, point: Savepoint, changes: list[Change]) -> None:
        """Undo a batch that failed to commit, counters included."""
        self.undo(changes)
        self.external.pending.clear()
        self.next_event_id = point.next_event_id
        self.next_alert_id = point.next_alert_id
        self.day_counters = point.day_counters
        self.burst_keys = point.burst_keys

    def prune(self, now: float) -> int:
        """Forget closed events and settled alerts older than the keep window."""
        before = len(self.events) + len(self.alerts)
        prune_settled(self.events, self.alerts, now)
        return before - len(self.events) - len(self.alerts)

    # ---- primitives the op handlers (dispatch/ops.py) build on ----------------------------

    def event_for(self, actor: Actor, event_id: int) -> Event:
        """The event `actor` names; not_found when absent or outside the jurisdiction.

        A settled case the live state has let go of (closed more than a day and a half ago)
        is read back from the store: a return visit may still reopen or evaluate it.
        """
        event = self.events.get(event_id)
        if event is None and self.archive is not None:
            stored = self.archive(event_id)
            if stored is not None and stored.status not in OPEN_STATUSES:
                event = self.events[event_id] = stored
        if event is None or not actor.may_see(event.community):
            # Outside the jurisdiction looks exactly like absent: no existence leak.
            raise WorkflowError("not_found", f"no event {event_id}")
        return event

    def alert_for(self, actor: Actor, alert_id: int) -> Alert:
        """The alert `actor` names; not_found when absent or outside the jurisdiction."""
        alert = self.alerts.get(alert_id)
        if alert is None or not actor.may_see(self.reference.key_of(alert)):
            raise WorkflowError("not_found", f"no alert {alert_id}")
        return alert

    def deadline(self, start: float, limit: CategoryLimit, basis: Basis, where: str = "") -> float:
        """When `limit` from `start` runs out, in `basis` (by the calendar of `where`'s
        district: a case's street)."""
        return self.reference.deadline(start, limit, basis, where)

    def _intake_deadlines(
        self, category: Category, basis: Basis, now: float, street: str
    ) -> tuple[float, float]:
        # A burst of reports in the same second shares its deadlines: computed once per
        # (category, basis, second), to the second, instead of four calendar walks per event.
        # The entry holds the category it was computed for: a table changed meanwhile (an
        # admin's set_category) brings new limits, and the entry does not apply to them.
        # Keyed by the case's district too: each has its own table and calendar.
        second = float(int(now))
        key = (street[:6], category.code, basis, second)
        cached = self._intake_cache.get(key)
        if cached is None or cached[2] is not category:
            accept_by = self.deadline(second, category.limits["accept"], basis, street)
            # The closure deadline: every stage's limit laid end to end from the report.
            due = self._laid_end_to_end(
                category.limits, basis, accept_by, ("dispatch", "handle", "verify"), street
            )
            if len(self._intake_cache) > 4096:
                self._intake_cache.clear()
            cached = self._intake_cache[key] = (accept_by, due, category)
        return cached[0], cached[1]

    def closure_deadline(
        self, street: str, category: str, basis: Basis, start: float, stages: tuple[Stage, ...]
    ) -> float:
        """The end of `stages`' limits (of `category` in `street`'s district's table) laid
        end to end from `start`."""
        limits = self.reference.categories_of(street)[category].limits
        return self._laid_end_to_end(limits, basis, start, stages, street)

    def _laid_end_to_end(
        self,
        limits: dict[str, CategoryLimit],
        basis: Basis,
        start: float,
        stages: tuple[Stage, ...],
        street: str,
    ) -> float:
        due = start
        for stage in stages:
            due = self.deadline(due, limits[stage], basis, street)
        return due

    def stage_deadline(self, event: Event, status: str, now: float) -> float | None:
        """The deadline of the stage `status` belongs to, for an event entering it now."""
        limits = self.reference.categories_of(event.street)[event.category].limits
        stage = limits.get(STAGE_OF_STATUS.get(status, ""))
        if stage is None:
            return None
        if status == "handling" and event.deadline is not None:
            return event.deadline  # the handling limit runs from dispatch, not from start
        return self.deadline(now, stage, event.basis, event.street)

    def released(self, event: Event, now: float) -> Event:
        """The event with its approved hold ended now and its deadlines moved on by the time
        it was held (counted in its basis: a hold over a weekend moves a working-time
        deadline by nothing)."""
        hold = event.hold
        assert hold is not None and hold.since is not None
        held = self.reference.elapsed(hold.since, now, event.basis, event.street)
        shift = CategoryLimit(amount=held / 3600, unit="hour")

        def moved(moment: float | None) -> float | None:
            return (
                None if moment is None else self.deadline(moment, shift, event.basis, event.street)
            )

        return replace(
            event,
            hold=replace(hold, state="released", released_at=now),
            deadline=moved(event.deadline),
            due_at=moved(event.due_at),
            updated_at=now,
        )

    def supervision(self, event: Event, now: float) -> Change | None:
        """Automatic 督办: an open case overdue at district level, or escalated twice, is put
        under supervision (action auto_supervise) unless it already is."""
        if event.supervised or event.status not in OPEN_STATUSES or on_hold(event):
            return None
        late_at_top = event.level == "district" and is_overdue(event, now)
        if not (late_at_top or event.escalations >= 2):
            return None
        after = replace(event, supervised=True, updated_at=now)
        return self.record("event", event, after, "auto_supervise", SYSTEM)

    def record(
        self,
        kind: EntityKind,
        before: Entity | None,
        after: Entity,
        action: str,
        actor: Actor,
        at: float | None = None,
    ) -> Change:
        """Put `after` in place of `before` and journal the change (`at`: when, for a duty
        change that is neither a handover nor an instruction)."""
        change = self._make_change(kind, before, after, action, actor, at)
        self.journal.append(change)
        return change

    def _mark_guess(self, before: Entity | None, after: Event) -> Event:
        """Mark a case whose working-time deadlines run through a year the calendar only
        guesses (estimated, or weekends only), whenever its deadlines are set."""
        if (
            isinstance(before, Event)
            and before.deadline == after.deadline
            and before.due_at == after.due_at
        ):
            return after
        guess = False
        if after.basis == "working":
            ends = [t for t in (after.deadline, after.due_at) if t is not None]
            guess = bool(ends) and self.reference.guessed(after.updated_at, max(ends))
        return after if guess == after.calendar_guess else replace(after, calendar_guess=guess)

    def _make_change(
        self,
        kind: EntityKind,
        before: Entity | None,
        after: Entity,
        action: str,
        actor: Actor,
        at: float | None = None,
    ) -> Change:
        if isinstance(after, Event):
            after = self._mark_guess(before, after)
            self.events[after.id] = after
            return Change(
                kind, after.id, after.community, action, actor.name, after.updated_at, before, after
            )
        if isinstance(after, Alert):
            self.alerts[after.id] = after
            key = self.reference.key_of(after)
            return Change(kind, after.id, key, action, actor.name, after.last_at, before, after)
        district = self.district_of(after)
        self.duties[district] = after
        if at is None:
            at = after.instructions[-1].at if action == "instruct" else after.handover_at
        # Filed under its district, which every user inside it sees (jurisdiction.covers);
        # the first district's duty keeps the id it always had.
        duty_id = 0 if district == self.home else int(district)
        return Change(kind, duty_id, district, action, actor.name, at, before, after)

    def _new_code(self, now: float, street: str) -> str:
        """The next case number of the local day in `street`'s district (its prefix's)."""
        # The local day's string changes once a day; strftime per event is measurable.
        day_index = int((now + 8 * 3600) // 86400)
        if day_index != self._day_index:
            self._day_index, self._day_text = day_index, local(now).strftime("%Y%m%d")
        prefix = self.reference.prefix_of(street)
        key = (prefix, self._day_text)
        number = self.day_counters.get(key, 0) + 1
        self.day_counters[key] = number
        return f"{prefix}-{self._day_text}-{number:06d}"

    # ---- what other parts call directly ----------------------------------------------------

    def apply(self, actor: Actor, op: str, args: msgspec.Struct, now: float) -> Outcome:
        """Apply a validated command through its registered handler (dispatch/ops.py)."""
        # ops builds on this module, so it is looked up when first used, not at import.
        from dispatch.ops import apply

        return apply(self, actor, op, args, now)

    def report(
        self,
        actor: Actor,
        args: c.Report,
        now: float,
        *,
        alert: int | None = None,
        media: list[str] | None = None,
        grid: Grid | None = None,
    ) -> Outcome:
        """Register a new event at its grid (`grid`: the point's, already looked up; a batch
        looks up its points at once); deadlines come from its category."""
        if grid is None:
            grid = self.reference.grid_at(args.lon, args.lat)
        if grid is None:
            raise WorkflowError("bad_args", f"({args.lon}, {args.lat}) is outside every grid")
        # The category of the point's district's table (each district has its own).
        category = self.reference.category(grid.street, args.category)
        if category is None:
            raise WorkflowError("bad_args", f"unknown category {args.category!r}")
        if not actor.may_see(grid.community):
            raise WorkflowError("forbidden", "the location is outside your jurisdiction")
        event_id = self.next_event_id
        self.next_event_id += 1
        priority = args.priority or category.priority
        basis = basis_of(category.basis, priority)
        accept_by, due = self._intake_deadlines(category, basis, now, grid.street)
        event = Event(
            id=event_id,
            code=self._new_code(now, grid.street),
            source=args.source,
            category=category.code,
            title=args.title,
            description=args.description,
            address=args.address,
            reporter=args.reporter,
            lon=round(args.lon, 6),
            lat=round(args.lat, 6),
            grid=grid.code,
            community=grid.community,
            street=grid.street,
            priority=priority,
            basis=basis,
            status="reported",
            level="grid",
            reported_at=now,
            updated_at=now,
            deadline=accept_by,
            due_at=due,
            alert=alert,
            media=media or [],
            intake=getattr(args, "intake", None),  # a gateway's BatchReport may carry it
        )
        change = self.record("event", None, event, "report", actor)
        return Outcome([change], {"event": event_id, "code": event.code})

    def handover(
        self, actor: Actor, args: c.Handover, now: float, roster: list[Person] | None = None
    ) -> Outcome:
        """Start a new duty: a commander, the roster, an empty instruction list.

        Without a `roster` given, the day's plan gives it (the previous duty's when the day
        has none), and the plan gives the commander's phone when it names the same person.
        """
        day = local(now).strftime("%Y-%m-%d")
        district = self.duty_district(actor, args.district)
        before = self.duties.get(district)
        plan = self.plan_of(district, day)
        if roster is None:
            roster = plan.roster if plan is not None else (before.roster if before else [])
        phone = plan.commander.phone if plan and plan.commander.name == args.commander else ""
        duty = Duty(
            day=day,
            commander=Person(name=args.commander, title=args.title, post="县干指挥长", phone=phone),
            roster=roster,
            handover_at=now,
            instructions=[Decision(at=now, by=actor.name, text=args.note)] if args.note else [],
            district=district,
        )
        outcome: dict[str, object] = {"day": day, "district": district}
        return Outcome([self.record("duty", before, duty, "handover", actor)], outcome)

    def plan_day(
        self, actor: Actor, day: str, plan: DutyPlan | None, now: float, district: str = ""
    ) -> Outcome:
        """Take a day's new plan (None: its plan removed), as stored by an admin. When the
        duty in force is that day's, it takes the plan's roster now (action set_roster), and
        its commander's phone when the plan names the same commander; the commander himself
        changes only by a handover."""
        district = district or (self.district_of(plan) if plan is not None else self.home)
        if plan is None:
            self.plans.pop((district, day), None)
        else:
            self.plans[(district, day)] = plan
        yesterday = local(now - 86400).strftime("%Y-%m-%d")
        for gone in [key for key in self.plans if key[1] < yesterday]:
            del self.plans[gone]
        before = self.duties.get(district)
        if plan is None or before is None or before.day != day:
            return Outcome([], {"duty": False})
        commander = before.commander
        if plan.commander.name == commander.name and plan.commander.phone:
            commander = replace(commander, phone=plan.commander.phone)
        after = replace(before, roster=plan.roster, commander=commander)
        if after == before:
            return Outcome([], {"duty": False})
        change = self.record("duty", before, after, "set_roster", actor, at=now)
        return Outcome([change], {"duty": True})

    def tick(self, now: float) -> list[Change]:
        """The clock: flag missed stage and closure deadlines, escalate late cases a level,
        supervise the ones the rules say, release holds whose review date came.

        Cases on an approved hold are skipped: their clocks stand still.
        """
        changes: list[Change] = []
        for before in list(self.events.values()):
            if before.status not in OPEN_STATUSES:
                continue
            if on_hold(before):
                assert before.hold is not None
                if before.hold.review_at <= now:
                    after = self.released(before, now)
                    changes.append(self.record("event", before, after, "hold_expired", SYSTEM))
                continue
            after, action = before, ""
            if before.deadline is not None and before.deadline <= now:
                stage = STAGE_OF_STATUS[before.status]
                after = replace(
                    before, overdue=True, updated_at=now, missed=with_missed(before.missed, stage)
                )
                action = "overdue"
                if before.level != "district":
                    action = "auto_escalate"
                    after = replace(
                        after, level=level_above(before.level), escalations=before.escalations + 1
                    )
                # The next level gets a fresh stage window before it escalates again.
                grace = self.deadline(now, _ESCALATION_GRACE, before.basis, before.street)
                after = replace(after, deadline=grace)
            if after.due_at is not None and after.due_at < now and "closure" not in after.missed:
                # Flagged, not only past due: nothing that moves due_at later (an extension
                # approved late) can make the case look on time again.
                after = replace(
                    after, missed=[*after.missed, "closure"], overdue=True, updated_at=now
                )
                action = action or "missed"
            if action:
                changes.append(self.record("event", before, after, action, SYSTEM))
            supervised = self.supervision(after, now)
            if supervised is not None:
                changes.append(supervised)
        return changes

    def detect(
        self,
        camera_code: str,
        detection: str,
        score: float,
        now: float,
        snapshot_path: str,
        actor: Actor = SYSTEM,
        external_id: str = "",
        image: bool = False,
        observed_at: float | None = None,
    ) -> Outcome:
        """A camera detection: a new alert, or one more hit on the open alert of its burst.

        With an `external_id` (a camera platform's id of the detection, e.g. Frigate's event
        id) the detection is one alert's, however often it is sent: the id seen again only
        refines that alert (a higher score; `image` true: a new snapshot is stored for it).
        `data["image"]` says whether the request's image goes beside the alert.
        """
        if external_id:
            hit = self.external.find(actor.name, [external_id]).get(external_id)
            if hit is not None:
                return self._refine(hit[0], score, now, actor, image)
        camera = self.reference.cameras.get(camera_code)
        if camera is None:
            raise WorkflowError("bad_args", f"unknown camera {camera_code!r}")
        key = (camera_code, detection)
        open_id = self.burst_keys.get(key)
        if open_id is not None:
            current = self.alerts.get(open_id)
            if current and current.status == "new" and now - current.last_at <= ALERT_BURST_WINDOW:
                after = replace(
                    current,
                    count=current.count + 1,
                    last_at=now,
                    score=round(max(current.score, score), 3),
                )
                change = self.record("alert", current, after, "detect_repeat", actor)
                self._note_external(actor, external_id, open_id, now)
                return Outcome([change], {"alert": open_id, "repeat": True, "image": False})
        alert_id = self.next_alert_id
        self.next_alert_id += 1
        alert = Alert(
            id=alert_id,
            camera=camera.code,
            camera_name=camera.name,
            detection=detection,
            score=round(score, 3),
            first_at=now,
            last_at=now,
            count=1,
            status="new",
            lon=camera.lon,
            lat=camera.lat,
            grid=camera.grid,
            street=camera.street,
            snapshot=snapshot_path.format(id=alert_id),
            observed_at=observed_at,  # the burst's first detection's own time
        )
        self.burst_keys[key] = alert_id
        change = self.record("alert", None, alert, "detect", actor)
        self._note_external(actor, external_id, alert_id, now)
        return Outcome([change], {"alert": alert_id, "repeat": False, "image": True})

    def _refine(
        self, alert_id: int, score: float, now: float, actor: Actor, image: bool
    ) -> Outcome:
        """A detection sent again under its external id: its alert's score (and snapshot)
        refined while the alert is new; nothing changes once it is settled or pruned."""
        current = self.alerts.get(alert_id)
        if current is None or current.status != "new":
            return Outcome([], {"alert": alert_id, "repeat": True, "image": False})
        best = round(max(current.score, score), 3)
        if best == current.score and not image:
            return Outcome([], {"alert": alert_id, "repeat": True, "image": False})
        after = replace(current, score=best, last_at=max(current.last_at, now))
        change = self.record("alert", current, after, "detect_update", actor)
        return Outcome([change], {"alert": alert_id, "repeat": True, "image": image})

    def _note_external(self, actor: Actor, external_id: str, alert_id: int, now: float) -> None:
        if external_id:
            self.external.add(ExternalRecord(actor.name, external_id, alert_id, ALERT_CODE, now))
