"""The authoritative in-memory state, owned by the writer thread; every op returns its Changes.

Structs are never mutated once published: an op builds a new struct with `replace`, so the
event loop may keep references to earlier versions while the writer moves on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

import msgspec
from msgspec.structs import replace

from dispatch.reference import ReferenceData, local
from dispatch.workflow import (
    FINAL_STATUSES,
    STEPS,
    WorkflowError,
    check_flags,
    level_above,
    next_status,
)
from protocol import commands as c
from protocol.entities import (
    OPEN_STATUSES,
    Alert,
    Basis,
    CategoryLimit,
    Decision,
    Duty,
    Event,
    Extension,
    Person,
    Role,
)
from protocol.retention import prune_settled

Entity = Event | Alert | Duty
EntityKind = Literal["event", "alert", "duty"]
# Repeated detections of one camera and kind within this window are one alert.
ALERT_BURST_WINDOW = 120.0
# After an automatic escalation the next level has this long before it escalates again.
_ESCALATION_GRACE = CategoryLimit(amount=4, unit="hour")
_STAGE_OF_STATUS = {
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


@dataclass(frozen=True, slots=True)
class Actor:
    """Who does something: a user, the clock, or a simulated grid worker."""

    name: str
    role: Role
    streets: frozenset[str] | None = None  # None: the whole district

    def may_see(self, street: str) -> bool:
        """Whether this actor's jurisdiction covers `street`."""
        return self.streets is None or street in self.streets


SYSTEM = Actor("system", "admin")


@dataclass(slots=True)
class Change:
    """One committed-to-be change of one entity; becomes one log row and one delta."""

    kind: EntityKind
    id: int
    street: str  # "" when every user may see it (duty)
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
    day_counters: dict[str, int]
    burst_keys: dict[tuple[str, str], int]


@dataclass(slots=True)
class Outcome:
    """What an op produced: its changes and the data for the client's result."""

    changes: list[Change] = field(default_factory=list)
    data: dict[str, object] = field(default_factory=dict)


def args_digest(op: str, args: dict[str, object]) -> str:
    """A stable digest of a command's op and args, to spot a command_id reused differently."""
    return hashlib.sha256(msgspec.json.encode([op, args], order="sorted")).hexdigest()


class State:
    """Events, alerts and duty, with every rule that changes them."""

    def __init__(self, reference: ReferenceData) -> None:
        self.reference = reference
        self.events: dict[int, Event] = {}
        self.alerts: dict[int, Alert] = {}
        self.duty: Duty | None = None
        self.next_event_id = 1
        self.next_alert_id = 1
        self.day_counters: dict[str, int] = {}
        self.burst_keys: dict[tuple[str, str], int] = {}
        self._intake_cache: dict[tuple[str, Basis, float], tuple[float, float]] = {}
        # Every change made, in order, until the writer takes it: an op that fails half-way
        # (a confirm whose report succeeded) can then be undone whole.
        self.journal: list[Change] = []
        self._day_index = -1
        self._day_text = ""

    # ---- loading and bookkeeping ----------------------------------------------------------

    def load(self, events: list[Event], alerts: list[Alert], duty: Duty | None) -> None:
        """Fill the state from the store at start-up."""
        for event in events:
            self.events[event.id] = event
            day = event.code.split("-")[1]
            number = int(event.code.rsplit("-", 1)[1])
            self.day_counters[day] = max(self.day_counters.get(day, 0), number)
        for alert in alerts:
            self.alerts[alert.id] = alert
            if alert.status == "new":
                self.burst_keys[(alert.camera, alert.detection)] = alert.id
        self.duty = duty

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
                self.duty = change.before if isinstance(change.before, Duty) else None
                continue
            table = self.events if change.kind == "event" else self.alerts
            if change.before is None:
                table.pop(change.id, None)
            else:
                table[change.id] = change.before  # type: ignore[assignment]

    def rollback(self, point: Savepoint, changes: list[Change]) -> None:
        """Undo a batch that failed to commit, counters included."""
        self.undo(changes)
        self.next_event_id = point.next_event_id
        self.next_alert_id = point.next_alert_id
        self.day_counters = point.day_counters
        self.burst_keys = point.burst_keys

    def prune(self, now: float) -> int:
        """Forget closed events and settled alerts older than the keep window."""
        before = len(self.events) + len(self.alerts)
        prune_settled(self.events, self.alerts, now)
        return before - len(self.events) - len(self.alerts)

    # ---- helpers ---------------------------------------------------------------------------

    def _event(self, actor: Actor, event_id: int) -> Event:
        event = self.events.get(event_id)
        if event is None or not actor.may_see(event.street):
            # Outside the jurisdiction looks exactly like absent: no existence leak.
            raise WorkflowError("not_found", f"no event {event_id}")
        return event

    def _alert(self, actor: Actor, alert_id: int) -> Alert:
        alert = self.alerts.get(alert_id)
        if alert is None or not actor.may_see(alert.street):
            raise WorkflowError("not_found", f"no alert {alert_id}")
        return alert

    def _deadline(self, start: float, limit: CategoryLimit, basis: Basis) -> float:
        return self.reference.deadline(start, limit, basis)

    def _intake_deadlines(self, category: str, basis: Basis, now: float) -> tuple[float, float]:
        # A burst of reports in the same second shares its deadlines: computed once per
        # (category, basis, second), to the second, instead of four calendar walks per event.
        second = float(int(now))
        key = (category, basis, second)
        cached = self._intake_cache.get(key)
        if cached is None:
            limits = self.reference.categories[category].limits
            accept_by = self._deadline(second, limits["accept"], basis)
            # The closure deadline: every stage's limit laid end to end from the report.
            due = accept_by
            for stage in ("dispatch", "handle", "verify"):
                due = self._deadline(due, limits[stage], basis)
            if len(self._intake_cache) > 4096:
                self._intake_cache.clear()
            cached = self._intake_cache[key] = (accept_by, due)
        return cached

    def _stage_deadline(self, event: Event, status: str, now: float) -> float | None:
        limits = self.reference.categories[event.category].limits
        stage = limits.get(_STAGE_OF_STATUS.get(status, ""))
        if stage is None:
            return None
        if status == "handling" and event.deadline is not None:
            return event.deadline  # the handling limit runs from dispatch, not from start
        return self._deadline(now, stage, event.basis)

    def _change(
        self, kind: EntityKind, before: Entity | None, after: Entity, action: str, actor: Actor
    ) -> Change:
        change = self._make_change(kind, before, after, action, actor)
        self.journal.append(change)
        return change

    def _make_change(
        self, kind: EntityKind, before: Entity | None, after: Entity, action: str, actor: Actor
    ) -> Change:
        if isinstance(after, Event):
            self.events[after.id] = after
            return Change(
                kind, after.id, after.street, action, actor.name, after.updated_at, before, after
            )
        if isinstance(after, Alert):
            self.alerts[after.id] = after
            return Change(
                kind, after.id, after.street, action, actor.name, after.last_at, before, after
            )
        self.duty = after
        at = after.instructions[-1].at if action == "instruct" else after.handover_at
        return Change(kind, 0, "", action, actor.name, at, before, after)

    def _new_code(self, now: float) -> str:
        # The local day's string changes once a day; strftime per event is measurable.
        day_index = int((now + 8 * 3600) // 86400)
        if day_index != self._day_index:
            self._day_index, self._day_text = day_index, local(now).strftime("%Y%m%d")
        day = self._day_text
        number = self.day_counters.get(day, 0) + 1
        self.day_counters[day] = number
        return f"{self.reference.code_prefix}-{day}-{number:06d}"

    # ---- ops -------------------------------------------------------------------------------

    def report(
        self,
        actor: Actor,
        args: c.Report,
        now: float,
        *,
        alert: int | None = None,
        media: list[str] | None = None,
    ) -> Outcome:
        """Register a new event at its grid; deadlines come from its category."""
        category = self.reference.categories.get(args.category)
        if category is None:
            raise WorkflowError("bad_args", f"unknown category {args.category!r}")
        grid = self.reference.grid_at(args.lon, args.lat)
        if grid is None:
            raise WorkflowError("bad_args", f"({args.lon}, {args.lat}) is outside every grid")
        if not actor.may_see(grid.street):
            raise WorkflowError("forbidden", "the location is outside your jurisdiction")
        event_id = self.next_event_id
        self.next_event_id += 1
        priority = args.priority or category.priority
        basis = basis_of(category.basis, priority)
        accept_by, due = self._intake_deadlines(category.code, basis, now)
        event = Event(
            id=event_id,
            code=self._new_code(now),
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
        )
        change = self._change("event", None, event, "report", actor)
        return Outcome([change], {"event": event_id, "code": event.code})

    def step(self, actor: Actor, op: str, args: msgspec.Struct, now: float) -> Outcome:
        """Apply an event op (accept, dispatch, verify, escalate...) under the workflow rules."""
        event_id: int = args.event  # type: ignore[attr-defined]
        before = self._event(actor, event_id)
        passed = bool(getattr(args, "passed", True))
        status = next_status(before, op, passed=passed)
        check_flags(before, op)
        note = str(getattr(args, "note", "") or getattr(args, "reason", "") or "")
        after = replace(before, status=status, updated_at=now)
        if status != before.status:
            after = replace(
                after,
                deadline=self._stage_deadline(after, status, now),
                overdue=False if status in FINAL_STATUSES else before.overdue,
            )
        action = op
        if op == "dispatch":
            assert isinstance(args, c.Dispatch)
            after = replace(after, assignee=args.assignee, dispatched_at=now)
        elif op == "handled":
            after = replace(after, handled_at=now)
        elif op == "verify" and not passed:
            action = "rework"
            after = replace(after, rework_count=before.rework_count + 1, dispatched_at=now)
        elif op == "close":
            after = replace(after, closed_at=now, deadline=None, consulting=False)
        elif op == "reject":
            after = replace(after, closed_at=now, deadline=None)
        elif op == "evaluate":
            assert isinstance(args, c.Evaluate)
            after = replace(after, evaluation=args.score)
        elif op == "request_extension":
            assert isinstance(args, c.RequestExtension)
            after = replace(
                after,
                extension=Extension(
                    hours=args.hours, reason=args.reason, requested_by=actor.name, requested_at=now
                ),
            )
        elif op == "decide_extension":
            assert isinstance(args, c.DecideExtension) and before.extension is not None
            ext = replace(before.extension, state="approved" if args.approve else "refused")
            after = replace(after, extension=ext)
            if args.approve:
                hours = CategoryLimit(amount=ext.hours, unit="hour")
                after = replace(
                    after,
                    deadline=self._deadline(before.deadline or now, hours, before.basis),
                    due_at=self._deadline(before.due_at or now, hours, before.basis),
                    overdue=False,
                )
        elif op == "escalate":
            after = replace(
                after, level=level_above(before.level), escalations=before.escalations + 1
            )
        elif op == "consult":
            after = replace(after, consulting=True)
        elif op == "decide":
            assert isinstance(args, c.Decide)
            after = replace(
                after,
                decisions=[*before.decisions, Decision(at=now, by=actor.name, text=args.text)],
            )
        elif op == "end_consult":
            after = replace(after, consulting=False)
        elif op == "supervise":
            after = replace(after, supervised=True)
        if note:  # every op's note or reason is kept on the event's record
            after = replace(
                after,
                decisions=[*after.decisions, Decision(at=now, by=actor.name, text=f"{op}: {note}")],
            )
        change = self._change("event", before, after, action, actor)
        return Outcome([change], {"event": event_id, "status": after.status})

    def tick(self, now: float) -> list[Change]:
        """The clock: mark events past their stage deadline overdue and escalate them a level."""
        changes: list[Change] = []
        for before in list(self.events.values()):
            if before.status not in OPEN_STATUSES or before.deadline is None:
                continue
            if before.deadline > now:
                continue
            after = replace(before, overdue=True, updated_at=now)
            action = "overdue"
            if before.level != "district":
                action = "auto_escalate"
                after = replace(
                    after, level=level_above(before.level), escalations=before.escalations + 1
                )
            # The next level gets a fresh stage window before it escalates again.
            after = replace(after, deadline=self._deadline(now, _ESCALATION_GRACE, before.basis))
            changes.append(self._change("event", before, after, action, SYSTEM))
        return changes

    def detect(
        self, camera_code: str, detection: str, score: float, now: float, snapshot_path: str
    ) -> Outcome:
        """A camera detection: a new alert, or one more hit on the open alert of its burst."""
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
                change = self._change("alert", current, after, "detect_repeat", SYSTEM)
                return Outcome([change], {"alert": open_id, "repeat": True})
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
        )
        self.burst_keys[key] = alert_id
        change = self._change("alert", None, alert, "detect", SYSTEM)
        return Outcome([change], {"alert": alert_id, "repeat": False})

    def confirm_alert(self, actor: Actor, args: c.ConfirmAlert, now: float) -> Outcome:
        """Turn a new alert into an event of the detection's category."""
        before = self._alert(actor, args.alert)
        if before.status != "new":
            raise WorkflowError("illegal_transition", f"alert {before.id} is {before.status}")
        kind = self.reference.camera_kinds.get(before.detection)
        category = args.category or (kind.category if kind else None)
        if category is None:
            raise WorkflowError("bad_args", "no category for this detection; give one")
        title = args.title or f"{kind.name if kind else before.detection}（{before.camera_name}）"
        report = self.report(
            actor,
            c.Report(
                category=category,
                title=title,
                lon=before.lon,
                lat=before.lat,
                source="camera",
                address=before.camera_name,
                priority=kind.priority if kind else None,
            ),
            now,
            alert=before.id,
            media=[before.snapshot],
        )
        event_id = int(str(report.data["event"]))
        after = replace(before, status="confirmed", event=event_id, last_at=now)
        self.burst_keys.pop((before.camera, before.detection), None)
        change = self._change("alert", before, after, "confirm_alert", actor)
        return Outcome([*report.changes, change], {"alert": before.id, **report.data})

    def dismiss_alert(self, actor: Actor, args: c.DismissAlert, now: float) -> Outcome:
        """Mark a new alert as a false detection."""
        before = self._alert(actor, args.alert)
        if before.status != "new":
            raise WorkflowError("illegal_transition", f"alert {before.id} is {before.status}")
        after = replace(before, status="dismissed", last_at=now, note=args.reason)
        self.burst_keys.pop((before.camera, before.detection), None)
        change = self._change("alert", before, after, "dismiss_alert", actor)
        return Outcome([change], {"alert": before.id})

    def handover(
        self, actor: Actor, args: c.Handover, now: float, roster: list[Person] | None = None
    ) -> Outcome:
        """Start a new duty: a commander, the roster, an empty instruction list."""
        day = local(now).strftime("%Y-%m-%d")
        before = self.duty
        duty = Duty(
            day=day,
            commander=Person(name=args.commander, title=args.title, post="县干指挥长"),
            roster=roster if roster is not None else (before.roster if before else []),
            handover_at=now,
            instructions=[Decision(at=now, by=actor.name, text=args.note)] if args.note else [],
        )
        return Outcome([self._change("duty", before, duty, "handover", actor)], {"day": day})

    def instruct(self, actor: Actor, args: c.Instruct, now: float) -> Outcome:
        """A commander's instruction: on the event when it names one (seen only where the
        event is), else on the duty board that every user sees."""
        if args.event is not None:
            event = self._event(actor, args.event)
            after_event = replace(
                event,
                updated_at=now,
                decisions=[*event.decisions, Decision(at=now, by=actor.name, text=args.text)],
            )
            return Outcome([self._change("event", event, after_event, "instruct", actor)], {})
        if self.duty is None:
            raise WorkflowError("illegal_transition", "no duty has been handed over yet")
        before = self.duty
        latest = [*before.instructions, Decision(at=now, by=actor.name, text=args.text)][-20:]
        after = replace(before, instructions=latest)
        return Outcome([self._change("duty", before, after, "instruct", actor)], {})

    def apply(self, actor: Actor, op: str, args: msgspec.Struct, now: float) -> Outcome:
        """Route a validated command to its rule."""
        if op == "report":
            assert isinstance(args, c.Report)
            return self.report(actor, args, now)
        if op in STEPS and op != "overdue":
            return self.step(actor, op, args, now)
        if op == "confirm_alert":
            assert isinstance(args, c.ConfirmAlert)
            return self.confirm_alert(actor, args, now)
        if op == "dismiss_alert":
            assert isinstance(args, c.DismissAlert)
            return self.dismiss_alert(actor, args, now)
        if op == "handover":
            assert isinstance(args, c.Handover)
            return self.handover(actor, args, now)
        if op == "instruct":
            assert isinstance(args, c.Instruct)
            return self.instruct(actor, args, now)
        raise WorkflowError("unknown_op", f"unknown op {op!r}")
