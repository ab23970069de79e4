"""One handler per command op, registered with its args schema and the roles that may use it.

A handler checks its op's own preconditions, builds the new versions of what the op changes
and records them on the State. The State owns the data, dispatch/workflow.py the statuses
each op goes from and to and the roles, protocol/commands.py the args.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
from msgspec.structs import replace

from dispatch.batch import ReadBatch
from dispatch.state import (
    STAGE_OF_STATUS,
    SYSTEM,
    Actor,
    Change,
    ExternalRecord,
    Outcome,
    State,
    basis_of,
    with_missed,
)
from dispatch.workflow import (
    ATTACH_RADIUS_M,
    FINAL_STATUSES,
    WorkflowError,
    above,
    alert_distance,
    attachable_at,
    level_above,
    next_status,
    not_by,
    refuse,
    roles_for,
)
from protocol import commands as c
from protocol.entities import (
    OPEN_STATUSES,
    Assist,
    CategoryLimit,
    Decision,
    Duty,
    Event,
    Extension,
    Hold,
    Role,
    Stage,
    on_hold,
)

Handler = Callable[[State, Actor, Any, float], Outcome]
_H = TypeVar("_H", bound=Handler)

# An evaluation this low (不满意) sends the case back: reopened for rework and supervised.
LOW_SCORE = 2
# How far ahead a hold's review date may be set.
HOLD_LONGEST = 366 * 86400.0
# Event.handle_used's default itself: msgspec omits a default by identity, so a computed
# 0.0 (a case handled outside working hours) would be sent unless replaced by this object.
_NO_HANDLING_TIME = next(
    f.default for f in msgspec.structs.fields(Event) if f.name == "handle_used"
)


@dataclass(frozen=True, slots=True)
class Op:
    """A registered op: its args schema, the roles that may use it, and its one handler."""

    name: str
    args: type[msgspec.Struct]
    roles: frozenset[Role]
    handler: Handler


REGISTRY: dict[str, Op] = {}


def handles(name: str) -> Callable[[_H], _H]:
    """Register the decorated function as the handler of op `name`."""

    def register(handler: _H) -> _H:
        if name in REGISTRY:
            raise RuntimeError(f"op {name} has two handlers")
        REGISTRY[name] = Op(name, c.ARGS[name], roles_for(name), handler)
        return handler

    return register


def apply(state: State, actor: Actor, op: str, args: msgspec.Struct, now: float) -> Outcome:
    """Apply a command whose args passed their schema: the role first, then its handler."""
    spec = REGISTRY.get(op)
    if spec is None:
        raise WorkflowError("unknown_op", f"unknown op {op!r}")
    if actor.role not in spec.roles:
        raise WorkflowError("forbidden", f"role {actor.role} may not {op}")
    if not isinstance(args, spec.args):
        raise WorkflowError("bad_args", f"{op} takes {spec.args.__name__} args")
    return spec.handler(state, actor, args, now)


# ---- the parts every event op shares --------------------------------------------------------


def _begin(
    state: State, actor: Actor, op: str, event_id: int, now: float, *, passed: bool = True
) -> tuple[Event, Event]:
    """The event before, and after the op's status move (with the new stage's deadline)."""
    before = state.event_for(actor, event_id)
    status = next_status(before, op, passed=passed)
    after = replace(before, status=status, updated_at=now)
    if status != before.status:
        after = replace(
            after,
            deadline=state.stage_deadline(after, status, now),
            overdue=False if status in FINAL_STATUSES else before.overdue,
        )
    return before, after


def _late(before: Event, stage: Stage, now: float) -> list[Stage]:
    """`missed`, with `stage` added when the op completing it comes after its deadline."""
    if before.deadline is not None and now > before.deadline:
        return with_missed(before.missed, stage)
    return before.missed


def _finish(
    state: State,
    actor: Actor,
    op: str,
    before: Event,
    after: Event,
    now: float,
    note: str = "",
    action: str = "",
) -> Outcome:
    """Record the op's change; its note or reason goes on the event's record."""
    if note:
        decision = Decision(at=now, by=actor.name, text=f"{op}: {note}")
        after = replace(after, decisions=[*after.decisions, decision])
    change = state.record("event", before, after, action or op, actor)
    return Outcome([change], {"event": after.id, "status": after.status})


def _reopened(state: State, event: Event, now: float) -> Event:
    """The event sent back to its assignee for another round after closure (二次派单)."""
    after = replace(
        event,
        status="dispatched",
        updated_at=now,
        closed_at=None,
        reopened=event.reopened + 1,
        dispatched_at=now,
        acknowledged_at=None,
    )
    # A fresh round: the handling and verification limits from now.
    return replace(
        after,
        deadline=state.stage_deadline(after, "dispatched", now),
        due_at=state.closure_deadline(
            event.street, event.category, event.basis, now, ("handle", "verify")
        ),
    )


def _own_departments(state: State, event: Event, units: list[str]) -> None:
    """Refuse a department of another district of the city (each district's cases go to
    its own departments; a unit that is no department, a grid worker, is not checked)."""
    reference = state.reference
    mine = reference.departments_of(event.street)
    for unit in units:
        if unit in reference.departments and unit not in mine:
            theirs = reference.departments[unit]
            home = theirs.district or reference.first
            name = reference.districts.get(home, (home, []))[0]
            raise WorkflowError(
                "bad_args",
                f"{unit} ({theirs.name}) is a department of {name}, not of event "
                f"{event.code}'s district: dispatch it to its own district's departments",
            )


def _assist_index(event: Event, unit: str) -> int:
    for index, assist in enumerate(event.assisting):
        if assist.unit == unit:
            return index
    units = "、".join(a.unit for a in event.assisting) or "none"
    raise WorkflowError(
        "bad_args", f"{unit} is not an assisting unit of event {event.code} (they are: {units})"
    )


def _with_assist(event: Event, index: int, assist: Assist) -> list[Assist]:
    return [assist if i == index else a for i, a in enumerate(event.assisting)]


# ---- the loop --------------------------------------------------------------------------------


@handles("report")
def report(state: State, actor: Actor, args: c.Report, now: float) -> Outcome:
    """Register a new event (see State.report)."""
    return state.report(actor, args, now)


@handles("report_batch")
def report_batch(state: State, actor: Actor, args: c.ReportBatch, now: float) -> Outcome:
    """Many reports, each under its own external id, each created, repeated or refused alone.

    An external id this user has created before answers with that event (a repeat) and
    creates nothing, whatever the report says now; the first of two equal ids in one batch
    creates and the second repeats. A report refused (its schema, its category, a point
    outside every grid or outside the user's jurisdiction) leaves nothing behind.
    """
    unread = args.unread if isinstance(args, ReadBatch) else {}
    known = state.external.find(actor.name, [r.external_id for r in args.reports])
    grids = iter(state.reference.grids_at([(r.lon, r.lat) for r in args.reports]))
    journal = state.journal
    changes: list[Change] = []
    items: list[c.BatchItem] = []
    created = repeats = 0
    reports = iter(args.reports)
    for index in range(len(args.reports) + len(unread)):
        refusal = unread.get(index)
        if refusal is not None:
            items.append(refusal)
            continue
        item, grid = next(reports), next(grids)
        external_id = item.external_id
        hit = known.get(external_id)
        if hit is not None:
            items.append(c.BatchItem(external_id, hit[0], hit[1], repeat=True))
            repeats += 1
            continue
        mark = len(journal)
        try:
            outcome = state.report(actor, item, now, grid=grid)
        except WorkflowError as exc:
            state.undo(journal[mark:])  # all or nothing, for each report
            del journal[mark:]
            items.append(c.BatchItem(external_id, error=exc.code, message=exc.message))
            continue
        event = outcome.changes[0].after
        assert isinstance(event, Event)
        state.external.add(ExternalRecord(actor.name, external_id, event.id, event.code, now))
        known[external_id] = (event.id, event.code)
        changes.extend(outcome.changes)
        items.append(c.BatchItem(external_id, event.id, event.code))
        created += 1
    refused = len(items) - created - repeats
    return Outcome(
        changes, {"created": created, "repeats": repeats, "refused": refused, "reports": items}
    )


@handles("accept")
def accept(state: State, actor: Actor, args: c.EventRef, now: float) -> Outcome:
    """受理: take the case in."""
    before, after = _begin(state, actor, "accept", args.event, now)
    after = replace(after, accepted_at=now, missed=_late(before, "accept", now))
    return _finish(state, actor, "accept", before, after, now, args.note)


@handles("reject")
def reject(state: State, actor: Actor, args: c.Reject, now: float) -> Outcome:
    """Refuse the case at intake: acceptance is decided, the case is finished."""
    before, after = _begin(state, actor, "reject", args.event, now)
    after = replace(
        after, accepted_at=now, closed_at=now, deadline=None, missed=_late(before, "accept", now)
    )
    return _finish(state, actor, "reject", before, after, now, args.reason)


@handles("classify")
def classify(state: State, actor: Actor, args: c.Classify, now: float) -> Outcome:
    """分拨: set the category before dispatch; clears the triage mark of an intake case.

    The case's limits follow the new category as if it had been reported under it: the
    current stage's deadline from the stage's start, the closure deadline from the report.
    """
    before, after = _begin(state, actor, "classify", args.event, now)
    category = state.reference.category(before.street, args.category)
    if category is None:
        raise WorkflowError("bad_args", f"unknown category {args.category!r}")
    triage = before.intake is not None and bool(before.intake.triage)
    if category.code == before.category and not triage:
        raise refuse(before, f"is already of category {category.code}")
    basis = basis_of(category.basis, before.priority)
    after = replace(after, category=category.code, basis=basis)
    if before.intake is not None and triage:
        after = replace(after, intake=replace(before.intake, triage=""))
    since = before.accepted_at if before.status == "accepted" else before.reported_at
    stage = "dispatch" if before.status == "accepted" else "accept"
    where = before.street  # its district's calendar
    start = since or before.reported_at
    deadline = state.reference.deadline(start, category.limits[stage], basis, where)
    accept_by = state.reference.deadline(
        before.reported_at, category.limits["accept"], basis, where
    )
    stages: tuple[Stage, ...] = ("dispatch", "handle", "verify")
    due = state.closure_deadline(before.street, category.code, basis, accept_by, stages)
    after = replace(after, deadline=deadline, due_at=due)
    note = f"{before.category} → {category.code}" + (f"；{args.note}" if args.note else "")
    return _finish(state, actor, "classify", before, after, now, note)


@handles("dispatch")
def dispatch(state: State, actor: Actor, args: c.Dispatch, now: float) -> Outcome:
    """派遣 to a lead unit with any assisting units; again from dispatched to re-dispatch."""
    before, after = _begin(state, actor, "dispatch", args.event, now)
    if before.intake is not None and before.intake.triage:
        raise refuse(
            before, f"waits for triage (待分拨: {before.intake.triage}): classify it first"
        )
    if args.assignee in args.assist:
        raise WorkflowError("bad_args", f"{args.assignee} cannot both lead and assist")
    if len(set(args.assist)) != len(args.assist):
        raise WorkflowError("bad_args", "an assisting unit is named twice")
    _own_departments(state, before, [args.assignee, *args.assist])
    first = before.first_dispatched_at if before.first_dispatched_at is not None else now
    after = replace(
        after,
        assignee=args.assignee,
        dispatched_at=now,
        first_dispatched_at=first,
        acknowledged_at=None,
        assisting=[Assist(unit=unit) for unit in args.assist],
        missed=_late(before, "dispatch", now) if before.status == "accepted" else before.missed,
    )
    return _finish(state, actor, "dispatch", before, after, now, args.note)


@handles("acknowledge")
def acknowledge(state: State, actor: Actor, args: c.Acknowledge, now: float) -> Outcome:
    """签收: the lead unit (no `unit`, or the assignee) or an assisting unit signs for it."""
    before, after = _begin(state, actor, "acknowledge", args.event, now)
    if args.unit is None or args.unit == before.assignee:
        if before.acknowledged_at is not None:
            raise refuse(before, f"was already signed for by {before.assignee}")
        after = replace(after, acknowledged_at=now)
    else:
        index = _assist_index(before, args.unit)
        assist = before.assisting[index]
        if assist.acknowledged_at is not None:
            raise refuse(before, f"was already signed for by {assist.unit}")
        after = replace(
            after, assisting=_with_assist(before, index, replace(assist, acknowledged_at=now))
        )
    return _finish(state, actor, "acknowledge", before, after, now, args.note)


@handles("assist_report")
def assist_report(state: State, actor: Actor, args: c.AssistReport, now: float) -> Outcome:
    """An assisting unit reports its part (signing for it too, if it had not)."""
    before, after = _begin(state, actor, "assist_report", args.event, now)
    index = _assist_index(before, args.unit)
    assist = before.assisting[index]
    if assist.reported_at is not None:
        raise refuse(before, f"already has the report of {assist.unit}")
    signed = assist.acknowledged_at if assist.acknowledged_at is not None else now
    done = replace(assist, acknowledged_at=signed, reported_at=now, text=args.text)
    after = replace(after, assisting=_with_assist(before, index, done))
    return _finish(state, actor, "assist_report", before, after, now)


@handles("return_case")
def return_case(state: State, actor: Actor, args: c.ReturnCase, now: float) -> Outcome:
    """退单: the assignee sends a wrongly dispatched case back, to be dispatched again."""
    before, after = _begin(state, actor, "return_case", args.event, now)
    after = replace(
        after,
        assignee="",
        acknowledged_at=None,
        assisting=[],
        returned_by=[*before.returned_by, before.assignee],
    )
    return _finish(state, actor, "return_case", before, after, now, args.reason)


@handles("start")
def start(state: State, actor: Actor, args: c.EventRef, now: float) -> Outcome:
    """The unit starts handling (the handling limit still runs from dispatch)."""
    before, after = _begin(state, actor, "start", args.event, now)
    return _finish(state, actor, "start", before, after, now, args.note)


@handles("handled")
def handled(state: State, actor: Actor, args: c.EventRef, now: float) -> Outcome:
    """处置: the lead reports the case handled, once every assisting unit has reported."""
    before, after = _begin(state, actor, "handled", args.event, now)
    waiting = [a.unit for a in before.assisting if a.reported_at is None]
    if waiting:
        raise refuse(before, f"waits for its assisting units to report: {'、'.join(waiting)}")
    used = 0.0
    if before.dispatched_at is not None:
        used = state.reference.elapsed(before.dispatched_at, now, before.basis, before.street)
        hold = before.hold
        if (
            hold is not None
            and hold.since is not None
            and hold.released_at is not None
            and hold.since >= before.dispatched_at
        ):
            # The clocks stood still while it was held: that time is not handling time.
            used -= state.reference.elapsed(
                hold.since, hold.released_at, before.basis, before.street
            )
    after = replace(
        after,
        handled_at=now,
        handled_by=actor.name,
        handle_used=before.handle_used + used or _NO_HANDLING_TIME,
        missed=_late(before, "handle", now),
    )
    return _finish(state, actor, "handled", before, after, now, args.note)


@handles("verify")
def verify(state: State, actor: Actor, args: c.Verify, now: float) -> Outcome:
    """核查 by someone other than the handler: passed, or back to dispatched (rework)."""
    before, after = _begin(state, actor, "verify", args.event, now, passed=args.passed)
    not_by(before, actor.name, before.handled_by, "verification (核查)")
    after = replace(after, verified_by=actor.name, missed=_late(before, "verify", now))
    if not args.passed:
        after = replace(after, rework_count=before.rework_count + 1, dispatched_at=now)
    action = "verify" if args.passed else "rework"
    return _finish(state, actor, "verify", before, after, now, args.note, action)


@handles("close")
def close(state: State, actor: Actor, args: c.EventRef, now: float) -> Outcome:
    """结案 by the centre or the street sub-centre, never by the handler."""
    before, after = _begin(state, actor, "close", args.event, now)
    not_by(before, actor.name, before.handled_by, "closure (结案)")
    missed = _late(before, "verify", now)
    if before.due_at is not None and now > before.due_at:
        missed = with_missed(missed, "closure")
    after = replace(after, closed_at=now, deadline=None, consulting=False, missed=missed)
    return _finish(state, actor, "close", before, after, now, args.note)


@handles("evaluate")
def evaluate(state: State, actor: Actor, args: c.Evaluate, now: float) -> Outcome:
    """评价; a score of LOW_SCORE or less sends the case back, reopened and supervised."""
    before, after = _begin(state, actor, "evaluate", args.event, now)
    after = replace(after, evaluation=args.score, evaluated_at=now)
    outcome = _finish(state, actor, "evaluate", before, after, now, args.note)
    if args.score <= LOW_SCORE:
        evaluated = state.events[before.id]
        back = replace(_reopened(state, evaluated, now), supervised=True)
        why = Decision(
            at=now, by=SYSTEM.name, text=f"auto_reopen: 评价 {args.score} 分，退回重办并督办"
        )
        back = replace(back, decisions=[*back.decisions, why])
        outcome.changes.append(state.record("event", evaluated, back, "auto_reopen", SYSTEM))
        outcome.data["status"] = back.status
    return outcome


@handles("reopen")
def reopen(state: State, actor: Actor, args: c.Reopen, now: float) -> Outcome:
    """二次派单: the return visit failed; the case goes back to its assignee."""
    before, _ = _begin(state, actor, "reopen", args.event, now)
    return _finish(state, actor, "reopen", before, _reopened(state, before, now), now, args.reason)


# ---- extension and hold ------------------------------------------------------------------------


@handles("request_extension")
def request_extension(state: State, actor: Actor, args: c.RequestExtension, now: float) -> Outcome:
    """延期申请, only while the handling deadline has not passed."""
    before, after = _begin(state, actor, "request_extension", args.event, now)
    if before.extension is not None and before.extension.state == "pending":
        raise refuse(before, "has a pending extension")
    if on_hold(before):
        raise refuse(before, "is on hold: its clocks stand still")
    stage = STAGE_OF_STATUS[before.status]
    if before.deadline is not None and now > before.deadline:
        raise refuse(before, "is past its deadline: an extension must be asked before it")
    if before.overdue and stage in before.missed:
        # After the clock flagged it, the deadline left is the next level's grace window.
        raise refuse(before, "already missed its handling deadline: it cannot be extended")
    if "closure" in before.missed or (before.due_at is not None and now > before.due_at):
        # A rework's fresh handling window can outlast the case's own deadline.
        raise refuse(before, "is past its closure deadline: an extension must be asked before it")
    extension = Extension(
        hours=args.hours,
        reason=args.reason,
        requested_by=actor.name,
        requested_at=now,
        requested_role=actor.role,
    )
    after = replace(after, extension=extension)
    return _finish(state, actor, "request_extension", before, after, now, args.reason)


@handles("decide_extension")
def decide_extension(state: State, actor: Actor, args: c.DecideExtension, now: float) -> Outcome:
    """延期审批 by someone other than the requester; lateness already incurred stays."""
    before, after = _begin(state, actor, "decide_extension", args.event, now)
    if before.extension is None or before.extension.state != "pending":
        raise refuse(before, "has no pending extension")
    not_by(before, actor.name, before.extension.requested_by, "deciding an extension (延期审批)")
    above(before, actor.role, before.extension.requested_role, "deciding an extension (延期审批)")
    extension = replace(before.extension, state="approved" if args.approve else "refused")
    after = replace(after, extension=extension)
    if args.approve:
        # A deadline that passed while the request waited was missed: recorded here, before
        # the deadlines move, whether or not the clock noticed it yet.
        missed = after.missed
        if before.deadline is not None and now > before.deadline:
            missed = with_missed(missed, STAGE_OF_STATUS[before.status])
        if before.due_at is not None and now > before.due_at:
            missed = with_missed(missed, "closure")
        if missed != after.missed:
            after = replace(after, missed=missed, overdue=True)
        hours = CategoryLimit(amount=extension.hours, unit="hour")
        after = replace(
            after,
            deadline=state.deadline(before.deadline or now, hours, before.basis, before.street),
            due_at=state.deadline(before.due_at or now, hours, before.basis, before.street),
            extensions=before.extensions + 1,
        )
    return _finish(state, actor, "decide_extension", before, after, now, args.note)


@handles("request_hold")
def request_hold(state: State, actor: Actor, args: c.RequestHold, now: float) -> Outcome:
    """挂账申请: the case waits on something outside the centre's reach."""
    before, after = _begin(state, actor, "request_hold", args.event, now)
    if before.hold is not None and before.hold.state in ("pending", "approved"):
        raise refuse(before, f"already has a {before.hold.state} hold")
    if not now < args.review_at <= now + HOLD_LONGEST:
        raise WorkflowError("bad_args", "review_at must be in the future, within a year")
    hold = Hold(
        reason=args.reason,
        requested_by=actor.name,
        requested_at=now,
        review_at=args.review_at,
        requested_role=actor.role,
    )
    after = replace(after, hold=hold)
    return _finish(state, actor, "request_hold", before, after, now, args.reason)


@handles("decide_hold")
def decide_hold(state: State, actor: Actor, args: c.DecideHold, now: float) -> Outcome:
    """挂账审批 by someone other than the requester: approved, the case's clocks stop."""
    before, after = _begin(state, actor, "decide_hold", args.event, now)
    if before.hold is None or before.hold.state != "pending":
        raise refuse(before, "has no pending hold")
    not_by(before, actor.name, before.hold.requested_by, "deciding a hold (挂账审批)")
    above(before, actor.role, before.hold.requested_role, "deciding a hold (挂账审批)")
    if args.approve:
        hold = replace(before.hold, state="approved", approved_by=actor.name, since=now)
    else:
        hold = replace(before.hold, state="refused")
    after = replace(after, hold=hold)
    return _finish(state, actor, "decide_hold", before, after, now, args.note)


@handles("release_hold")
def release_hold(state: State, actor: Actor, args: c.ReleaseHold, now: float) -> Outcome:
    """End an approved hold: back into the loop, deadlines moved on by the time held."""
    before, after = _begin(state, actor, "release_hold", args.event, now)
    if not on_hold(before):
        raise refuse(before, "is not on an approved hold")
    after = state.released(after, now)
    return _finish(state, actor, "release_hold", before, after, now, args.note)


# ---- escalation, consultation, supervision ---------------------------------------------------


@handles("escalate")
def escalate(state: State, actor: Actor, args: c.Escalate, now: float) -> Outcome:
    """Up one level; the second escalation (or lateness at district) brings 督办."""
    before, after = _begin(state, actor, "escalate", args.event, now)
    if before.level == "district":
        raise refuse(before, "is already at district")
    after = replace(after, level=level_above(before.level), escalations=before.escalations + 1)
    outcome = _finish(state, actor, "escalate", before, after, now, args.reason)
    supervised = state.supervision(state.events[before.id], now)
    if supervised is not None:
        outcome.changes.append(supervised)
    return outcome


@handles("consult")
def consult(state: State, actor: Actor, args: c.EventRef, now: float) -> Outcome:
    """会商: the duty commander takes the case into consultation."""
    before, after = _begin(state, actor, "consult", args.event, now)
    if before.consulting:
        raise refuse(before, "is already in consultation")
    after = replace(after, consulting=True)
    return _finish(state, actor, "consult", before, after, now, args.note)


@handles("decide")
def decide(state: State, actor: Actor, args: c.Decide, now: float) -> Outcome:
    """A consultation decision, on the case's record."""
    before, after = _begin(state, actor, "decide", args.event, now)
    if not before.consulting:
        raise refuse(before, "is not in consultation")
    decision = Decision(at=now, by=actor.name, text=args.text)
    after = replace(after, decisions=[*before.decisions, decision])
    return _finish(state, actor, "decide", before, after, now)


@handles("end_consult")
def end_consult(state: State, actor: Actor, args: c.EventRef, now: float) -> Outcome:
    """End the consultation."""
    before, after = _begin(state, actor, "end_consult", args.event, now)
    if not before.consulting:
        raise refuse(before, "is not in consultation")
    after = replace(after, consulting=False)
    return _finish(state, actor, "end_consult", before, after, now, args.note)


@handles("supervise")
def supervise(state: State, actor: Actor, args: c.EventRef, now: float) -> Outcome:
    """督办 by hand, on an overdue case."""
    before, after = _begin(state, actor, "supervise", args.event, now)
    if before.supervised:
        raise refuse(before, "is already supervised")
    if not before.overdue:
        raise refuse(before, "is not overdue")
    after = replace(after, supervised=True)
    return _finish(state, actor, "supervise", before, after, now, args.note)


# ---- alerts and the duty ---------------------------------------------------------------------


@handles("confirm_alert")
def confirm_alert(state: State, actor: Actor, args: c.ConfirmAlert, now: float) -> Outcome:
    """Turn a new alert into an event of the detection's category."""
    before = state.alert_for(actor, args.alert)
    if before.status != "new":
        raise WorkflowError("illegal_transition", f"alert {before.id} is {before.status}")
    kind = state.reference.kinds_of(before.street).get(before.detection)
    category = args.category or (kind.category if kind else None)
    if category is None:
        raise WorkflowError("bad_args", "no category for this detection; give one")
    title = args.title or f"{kind.name if kind else before.detection}（{before.camera_name}）"
    reported = state.report(
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
    event_id = int(str(reported.data["event"]))
    after = replace(before, status="confirmed", event=event_id, last_at=now)
    state.burst_keys.pop((before.camera, before.detection), None)
    change = state.record("alert", before, after, "confirm_alert", actor)
    return Outcome([*reported.changes, change], {"alert": before.id, **reported.data})


@handles("dismiss_alert")
def dismiss_alert(state: State, actor: Actor, args: c.DismissAlert, now: float) -> Outcome:
    """Mark a new alert as a false detection."""
    before = state.alert_for(actor, args.alert)
    if before.status != "new":
        raise WorkflowError("illegal_transition", f"alert {before.id} is {before.status}")
    after = replace(before, status="dismissed", last_at=now, note=args.reason)
    state.burst_keys.pop((before.camera, before.detection), None)
    change = state.record("alert", before, after, "dismiss_alert", actor)
    return Outcome([change], {"alert": before.id})


@handles("attach_alert")
def attach_alert(state: State, actor: Actor, args: c.AttachAlert, now: float) -> Outcome:
    """Attach a new alert to an open case at the same spot instead of opening a duplicate."""
    alert = state.alert_for(actor, args.alert)
    if alert.status != "new":
        raise WorkflowError("illegal_transition", f"alert {alert.id} is {alert.status}")
    event = state.event_for(actor, args.event)
    if event.status not in OPEN_STATUSES:
        raise WorkflowError(
            "illegal_transition",
            f"event {event.code} is closed ({event.status}): an alert joins only an open case",
        )
    if not attachable_at(alert, event):
        raise WorkflowError(
            "bad_args",
            f"alert {alert.id} ({alert.camera_name}) is {alert_distance(alert, event):.0f} m "
            f"from event {event.code}, in another grid: an alert joins a case in its grid "
            f"or within {ATTACH_RADIUS_M:.0f} m",
        )
    kind = state.reference.kinds_of(alert.street).get(alert.detection)
    text = f"attach_alert: {alert.camera_name} {kind.name if kind else alert.detection}"
    if args.note:
        text = f"{text} — {args.note}"
    media = event.media if alert.snapshot in event.media else [*event.media, alert.snapshot]
    event_after = replace(
        event,
        media=media,
        decisions=[*event.decisions, Decision(at=now, by=actor.name, text=text)],
        updated_at=now,
    )
    alert_after = replace(alert, status="confirmed", event=event.id, last_at=now)
    key = (alert.camera, alert.detection)
    if state.burst_keys.get(key) == alert.id:
        # Settled: the camera's next detection of this kind opens a new alert. Only this
        # alert's key: a newer burst of the same camera and kind keeps counting on its own.
        del state.burst_keys[key]
    changes = [
        state.record("event", event, event_after, "attach_alert", actor),
        state.record("alert", alert, alert_after, "attach_alert", actor),
    ]
    return Outcome(changes, {"alert": alert.id, "event": event.id})


@handles("handover")
def handover(state: State, actor: Actor, args: c.Handover, now: float) -> Outcome:
    """交接班 (see State.handover)."""
    return state.handover(actor, args, now)


def _duty_in_force(state: State, actor: Actor, district: str | None) -> Duty:
    """The duty in force of the district an actor acts on (State.duty_district)."""
    duty = state.duties.get(state.duty_district(actor, district))
    if duty is None:
        raise WorkflowError("illegal_transition", "no duty has been handed over yet")
    return duty


@handles("shift_note")
def shift_note(state: State, actor: Actor, args: c.ShiftNote, now: float) -> Outcome:
    """The duty commander's note for the next shift (交班记录), on the duty in force: the
    shift's handover report carries the latest one."""
    before = _duty_in_force(state, actor, args.district)
    text = args.text.strip()
    if not text:
        raise WorkflowError("bad_args", "the note is empty")
    after = replace(before, note=Decision(at=now, by=actor.name, text=text))
    return Outcome([state.record("duty", before, after, "shift_note", actor, at=now)], {})


@handles("instruct")
def instruct(state: State, actor: Actor, args: c.Instruct, now: float) -> Outcome:
    """A commander's instruction: on the event when it names one (seen only where the event
    is), else on the duty board of a district's centre, which every user in it sees."""
    if args.event is not None:
        event = state.event_for(actor, args.event)
        after_event = replace(
            event,
            updated_at=now,
            decisions=[*event.decisions, Decision(at=now, by=actor.name, text=args.text)],
        )
        return Outcome([state.record("event", event, after_event, "instruct", actor)], {})
    before = _duty_in_force(state, actor, args.district)
    latest = [*before.instructions, Decision(at=now, by=actor.name, text=args.text)][-20:]
    after = replace(before, instructions=latest)
    return Outcome([state.record("duty", before, after, "instruct", actor)], {})
