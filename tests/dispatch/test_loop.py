"""The loop as the standards define it: separation of duties, returns, lead and assisting
units, holds, reopening, automatic supervision, extensions, and the facts the KPIs count."""

from __future__ import annotations

from datetime import datetime

import msgspec
import pytest
from msgspec.structs import replace

from dispatch import ops
from dispatch.domain.calendar import CST
from dispatch.state import Actor, State
from dispatch.workflow import STEPS, WorkflowError, roles_for
from protocol import commands as c
from protocol.codes import ErrorCode
from protocol.entities import Assist, Event, Extension, Hold, responsible
from tests.dispatch.conftest import DEKUAN, LINGHU, point_in

COMMANDER = Actor("指挥长", "commander")
DISPATCHER = Actor("调度员", "dispatcher")
LINGHU_STAFF = Actor("菱湖分中心", "street", frozenset({LINGHU}))
WORKER = Actor("网格员 张三", "street", frozenset({LINGHU}))
DEKUAN_STAFF = Actor("德宽路分中心", "street", frozenset({DEKUAN}))
WALL = Actor("大屏", "wall")
HOUR = 3600.0
# Monday 2026-11-23 09:00 local: a working day.
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=CST).timestamp()
FRIDAY_16 = datetime(2026, 11, 27, 16, 0, tzinfo=CST).timestamp()
NEXT_MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=CST).timestamp()


@pytest.fixture
def state(reference) -> State:
    return State(reference)


def report(state: State, *, urgent: bool = True, at: float = MONDAY_9) -> int:
    """A 暴露垃圾 case in Linghu; urgent ones (priority 1) run in natural time: accept 1 h,
    dispatch 1 h, handle 4 h, verify 1 h, due 7 h after the report."""
    lon, lat = point_in(state.reference, LINGHU)
    args = c.Report(category="01-02", title="t", lon=lon, lat=lat, priority=1 if urgent else None)
    return int(state.apply(COMMANDER, "report", args, at).data["event"])


def run(state: State, actor: Actor, op: str, args: object, at: float) -> Event:
    state.apply(actor, op, args, at)  # type: ignore[arg-type]
    return state.events[args.event]  # type: ignore[attr-defined]


def to_handling(state: State, eid: int, at: float = MONDAY_9, assist: list[str] | None = None):
    run(state, LINGHU_STAFF, "accept", c.EventRef(event=eid), at)
    dispatch = c.Dispatch(event=eid, assignee=WORKER.name, assist=assist or [])
    run(state, LINGHU_STAFF, "dispatch", dispatch, at)
    return run(state, WORKER, "start", c.EventRef(event=eid), at)


def to_verified(state: State, eid: int, at: float = MONDAY_9) -> Event:
    to_handling(state, eid, at)
    run(state, WORKER, "handled", c.EventRef(event=eid), at)
    return run(state, LINGHU_STAFF, "verify", c.Verify(event=eid, passed=True), at)


def refused(state: State, actor: Actor, op: str, args: object, at: float = MONDAY_9) -> str:
    """The error code of a refused op; asserts that nothing changed."""
    events = dict(state.events)
    with pytest.raises(WorkflowError) as info:
        state.apply(actor, op, args, at)  # type: ignore[arg-type]
    assert state.events == events and all(state.events[k] is v for k, v in events.items())
    return info.value.code


# ---- the registry ------------------------------------------------------------------------


def test_every_op_has_one_handler_with_its_schema_and_roles() -> None:
    assert set(ops.REGISTRY) == set(c.ARGS) == set(c.Op.__args__)
    for name, op in ops.REGISTRY.items():
        assert op.args is c.ARGS[name] and op.roles == roles_for(name) and op.roles
        assert op.handler.__doc__
    assert set(STEPS) <= set(ops.REGISTRY)


def test_unknown_op_and_wrong_args_type(state) -> None:
    eid = report(state)
    assert refused(state, COMMANDER, "fly", c.EventRef(event=eid)) == ErrorCode.UNKNOWN_OP
    assert refused(state, COMMANDER, "reject", c.EventRef(event=eid)) == ErrorCode.BAD_ARGS


# ---- every new op refused for the wrong role, jurisdiction and state ----------------------

NEW_OPS = {
    "return_case": lambda e: c.ReturnCase(event=e, reason="非本单位职责"),
    "acknowledge": lambda e: c.Acknowledge(event=e),
    "assist_report": lambda e: c.AssistReport(event=e, unit="区住建局", text="已完成"),
    "request_hold": lambda e: c.RequestHold(event=e, reason="待资金", review_at=MONDAY_9 + 86400),
    "decide_hold": lambda e: c.DecideHold(event=e, approve=True),
    "release_hold": lambda e: c.ReleaseHold(event=e),
    "reopen": lambda e: c.Reopen(event=e, reason="回访不满意"),
}


@pytest.mark.parametrize("op", sorted(NEW_OPS))
def test_new_op_refused_for_the_wall_role(state, op) -> None:
    eid = report(state)
    assert refused(state, WALL, op, NEW_OPS[op](eid)) == ErrorCode.FORBIDDEN


def test_hold_decision_refused_for_the_street_role(state) -> None:
    eid = report(state)
    to_handling(state, eid)
    run(state, WORKER, "request_hold", NEW_OPS["request_hold"](eid), MONDAY_9)
    assert refused(state, LINGHU_STAFF, "decide_hold", NEW_OPS["decide_hold"](eid)) == "forbidden"


@pytest.mark.parametrize("op", sorted(NEW_OPS))
def test_new_op_outside_the_jurisdiction_is_not_found(state, op) -> None:
    eid = report(state)
    actor = DEKUAN_STAFF if op != "decide_hold" else Actor("德宽路调度", "dispatcher", {DEKUAN})
    assert refused(state, actor, op, NEW_OPS[op](eid)) == ErrorCode.NOT_FOUND


@pytest.mark.parametrize("op", sorted(NEW_OPS))
def test_new_op_in_the_wrong_state_is_an_illegal_transition(state, op) -> None:
    eid = report(state)  # reported: no new op applies yet
    code = refused(state, COMMANDER, op, NEW_OPS[op](eid))
    assert code == ErrorCode.ILLEGAL_TRANSITION


# ---- facts the KPIs count ------------------------------------------------------------------


def test_accept_and_reject_decide_acceptance(state) -> None:
    taken, refused_case = report(state), report(state)
    assert run(state, LINGHU_STAFF, "accept", c.EventRef(event=taken), MONDAY_9 + 60).accepted_at
    late = MONDAY_9 + 2 * HOUR
    gone = run(state, LINGHU_STAFF, "reject", c.Reject(event=refused_case, reason="重复"), late)
    assert gone.accepted_at == late and gone.missed == ["accept"]  # rejected late
    assert state.events[taken].accepted_at == MONDAY_9 + 60 and not state.events[taken].missed


def test_first_dispatch_kept_and_handling_time_summed_over_rework(state) -> None:
    eid = report(state)
    run(state, LINGHU_STAFF, "accept", c.EventRef(event=eid), MONDAY_9)
    run(state, LINGHU_STAFF, "dispatch", c.Dispatch(event=eid, assignee="y"), MONDAY_9)
    run(state, LINGHU_STAFF, "dispatch", c.Dispatch(event=eid, assignee="x"), MONDAY_9 + 60)
    assert refused(state, WORKER, "handled", c.EventRef(event=eid)) == "illegal_transition"
    run(state, WORKER, "start", c.EventRef(event=eid), MONDAY_9 + 120)
    first = run(state, WORKER, "handled", c.EventRef(event=eid), MONDAY_9 + HOUR + 60)
    assert first.handled_by == WORKER.name and first.handle_used == HOUR  # from the re-dispatch
    failed = c.Verify(event=eid, passed=False, note="未整改")
    rework = run(state, LINGHU_STAFF, "verify", failed, MONDAY_9 + 2 * HOUR)
    assert rework.status == "dispatched" and rework.verified_by == LINGHU_STAFF.name
    run(state, WORKER, "start", c.EventRef(event=eid), MONDAY_9 + 2 * HOUR)
    other = Actor("网格员 李四", "street", frozenset({LINGHU}))
    second = run(state, other, "handled", c.EventRef(event=eid), MONDAY_9 + 2.5 * HOUR)
    assert second.handle_used == 1.5 * HOUR and second.handled_by == other.name
    assert second.first_dispatched_at == MONDAY_9 and second.dispatched_at == MONDAY_9 + 2 * HOUR
    # The first handler may now verify: the latest handling is someone else's.
    done = run(state, WORKER, "verify", c.Verify(event=eid, passed=True), MONDAY_9 + 3 * HOUR)
    assert done.verified_by == WORKER.name and done.missed == []
    closed = run(state, COMMANDER, "close", c.EventRef(event=eid), MONDAY_9 + 3 * HOUR)
    rated = run(
        state, LINGHU_STAFF, "evaluate", c.Evaluate(event=eid, score=4), MONDAY_9 + 4 * HOUR
    )
    assert closed.closed_at == MONDAY_9 + 3 * HOUR and rated.evaluated_at == MONDAY_9 + 4 * HOUR


def test_no_handling_time_is_left_out_of_the_wire_like_any_default(state) -> None:
    """Handled on a Sunday, a working-time case used no handling time: the event's JSON
    leaves handle_used out, as every default is (docs/protocol.md §2), not `0.0`."""
    sunday = datetime(2026, 11, 22, 10, 0, tzinfo=CST).timestamp()
    eid = report(state, urgent=False, at=sunday)
    to_handling(state, eid, sunday)
    done = run(state, WORKER, "handled", c.EventRef(event=eid), sunday + HOUR)
    assert done.handle_used == 0 and b"handle_used" not in msgspec.json.encode(done)


def test_handling_time_counts_working_time_for_working_cases(state) -> None:
    eid = report(state, urgent=False, at=FRIDAY_16)
    to_handling(state, eid, FRIDAY_16)
    done = run(state, WORKER, "handled", c.EventRef(event=eid), NEXT_MONDAY_9)
    # Friday 16:00–17:30 and Monday 08:30–09:00: two working hours over the weekend.
    assert done.basis == "working" and done.handle_used == 2 * HOUR


@pytest.mark.parametrize(
    ("late_op", "stage"),
    [("accept", "accept"), ("dispatch", "dispatch"), ("handled", "handle"), ("verify", "verify")],
)
def test_a_stage_completed_late_is_missed_without_the_clock(state, late_op, stage) -> None:
    eid = report(state)
    steps = [
        ("accept", LINGHU_STAFF, c.EventRef(event=eid)),
        ("dispatch", LINGHU_STAFF, c.Dispatch(event=eid, assignee="x")),
        ("start", WORKER, c.EventRef(event=eid)),
        ("handled", WORKER, c.EventRef(event=eid)),
        ("verify", LINGHU_STAFF, c.Verify(event=eid, passed=True)),
    ]
    at = MONDAY_9
    for op, actor, args in steps:
        if op == late_op:
            at = state.events[eid].deadline + 1
        event = run(state, actor, op, args, at)
        if op == late_op:
            break
    assert event.missed == [stage] and not event.overdue  # the flag is the clock's


def test_closure_missed_at_a_late_close_and_by_the_clock(state) -> None:
    eid, other = report(state), report(state)
    due = state.events[eid].due_at
    assert due == MONDAY_9 + 7 * HOUR
    to_verified(state, eid, due - 60)
    closed = run(state, COMMANDER, "close", c.EventRef(event=eid), due + 1)
    assert closed.missed[-1] == "closure" and closed.closed_at == due + 1
    # The other case: the clock notices the closure deadline while it is still open.
    run(state, LINGHU_STAFF, "accept", c.EventRef(event=other), MONDAY_9)
    dispatch = c.Dispatch(event=other, assignee="x")
    # A pending hold stops nothing: the case stays in the loop.
    ask = c.RequestHold(event=other, reason="r", review_at=due)
    run(state, LINGHU_STAFF, "request_hold", ask, MONDAY_9)
    run(state, LINGHU_STAFF, "dispatch", dispatch, MONDAY_9)
    handle_by = state.events[other].deadline
    assert [ch.action for ch in state.tick(handle_by + 1)] == ["auto_escalate"]
    # The next level's grace window runs past the closure deadline: only that is noticed.
    assert state.events[other].deadline > due
    changes = state.tick(due + 1)
    assert [(ch.id, ch.action) for ch in changes] == [(other, "missed")]
    assert state.events[other].missed == ["handle", "closure"]
    assert state.tick(due + 2) == []  # noticed once


def test_missed_is_sticky_and_never_twice(state) -> None:
    eid = report(state)
    late = state.events[eid].deadline + 1
    state.tick(late)  # the clock notices first: missed, overdue, escalated
    event = run(state, LINGHU_STAFF, "accept", c.EventRef(event=eid), late + 60)
    assert event.missed == ["accept"] and event.overdue and event.level == "community"


# ---- separation of duties ----------------------------------------------------------------


def test_the_handler_may_neither_verify_nor_close(state) -> None:
    eid = report(state)
    to_handling(state, eid)
    run(state, WORKER, "handled", c.EventRef(event=eid), MONDAY_9)
    verify = c.Verify(event=eid, passed=True)
    assert refused(state, WORKER, "verify", verify) == ErrorCode.SEPARATION_OF_DUTIES
    run(state, LINGHU_STAFF, "verify", verify, MONDAY_9)
    assert refused(state, WORKER, "close", c.EventRef(event=eid)) == "separation_of_duties"
    # The street sub-centre (another person) closes.
    assert run(state, LINGHU_STAFF, "close", c.EventRef(event=eid), MONDAY_9).status == "closed"


def test_a_decision_is_never_by_its_requester(state) -> None:
    eid = report(state)
    to_handling(state, eid)
    ask = c.RequestExtension(event=eid, hours=2, reason="协调")
    run(state, DISPATCHER, "request_extension", ask, MONDAY_9)
    decide = c.DecideExtension(event=eid, approve=True)
    assert refused(state, DISPATCHER, "decide_extension", decide) == "separation_of_duties"
    assert refused(state, LINGHU_STAFF, "decide_extension", decide) == "forbidden"
    hold = c.RequestHold(event=eid, reason="待资金", review_at=MONDAY_9 + 86400)
    run(state, COMMANDER, "request_hold", hold, MONDAY_9)
    decide_hold = c.DecideHold(event=eid, approve=True)
    assert refused(state, COMMANDER, "decide_hold", decide_hold) == "separation_of_duties"


# ---- 退单 --------------------------------------------------------------------------------


def test_return_sends_the_case_back_to_be_dispatched_again(state) -> None:
    eid = report(state)
    run(state, LINGHU_STAFF, "accept", c.EventRef(event=eid), MONDAY_9)
    dispatch = c.Dispatch(event=eid, assignee="区城管局", assist=["区住建局"])
    run(state, LINGHU_STAFF, "dispatch", dispatch, MONDAY_9)
    back = run(state, LINGHU_STAFF, "return_case", NEW_OPS["return_case"](eid), MONDAY_9 + 60)
    assert back.status == "accepted" and back.assignee == "" and back.assisting == []
    assert back.returned_by == ["区城管局"] and back.deadline == MONDAY_9 + 60 + HOUR
    assert back.decisions[-1].text == "return_case: 非本单位职责"
    again = c.Dispatch(event=eid, assignee="区市政中心")
    run(state, LINGHU_STAFF, "dispatch", again, MONDAY_9 + 120)
    run(state, WORKER, "start", c.EventRef(event=eid), MONDAY_9 + 180)
    # Once handling has started the case is the unit's own.
    assert (
        refused(state, WORKER, "return_case", NEW_OPS["return_case"](eid)) == "illegal_transition"
    )
    assert state.events[eid].first_dispatched_at == MONDAY_9


# ---- 主协办 ------------------------------------------------------------------------------


def test_lead_and_assisting_units_sign_and_report(state) -> None:
    eid = report(state)
    event = to_handling(state, eid, assist=["区住建局", "区市场监管局"])
    assert event.assisting == [Assist(unit="区住建局"), Assist(unit="区市场监管局")]
    run(state, WORKER, "acknowledge", c.Acknowledge(event=eid), MONDAY_9 + 1)
    signed = run(
        state, DISPATCHER, "acknowledge", c.Acknowledge(event=eid, unit="区住建局"), MONDAY_9 + 2
    )
    assert (
        signed.acknowledged_at == MONDAY_9 + 1
        and signed.assisting[0].acknowledged_at == MONDAY_9 + 2
    )
    again = c.Acknowledge(event=eid, unit=WORKER.name)
    assert refused(state, WORKER, "acknowledge", again) == "illegal_transition"
    stranger = c.Acknowledge(event=eid, unit="区教体局")
    assert refused(state, WORKER, "acknowledge", stranger) == "bad_args"
    with pytest.raises(WorkflowError, match="区住建局、区市场监管局"):
        state.apply(WORKER, "handled", c.EventRef(event=eid), MONDAY_9 + 3)
    report_one = c.AssistReport(event=eid, unit="区住建局", text="已完成管道检修")
    run(state, LINGHU_STAFF, "assist_report", report_one, MONDAY_9 + 4)
    assert refused(state, LINGHU_STAFF, "assist_report", report_one) == "illegal_transition"
    with pytest.raises(WorkflowError, match="区市场监管局") as info:
        state.apply(WORKER, "handled", c.EventRef(event=eid), MONDAY_9 + 5)
    assert info.value.code == "illegal_transition" and "区住建局" not in info.value.message
    report_two = c.AssistReport(event=eid, unit="区市场监管局", text="已约谈商户")
    done = run(state, LINGHU_STAFF, "assist_report", report_two, MONDAY_9 + 6)
    assert done.assisting[1] == Assist(
        unit="区市场监管局",
        acknowledged_at=MONDAY_9 + 6,
        reported_at=MONDAY_9 + 6,
        text="已约谈商户",
    )
    assert run(state, WORKER, "handled", c.EventRef(event=eid), MONDAY_9 + 7).status == "handled"


def test_dispatch_refuses_a_lead_that_also_assists_or_a_unit_twice(state) -> None:
    eid = report(state)
    run(state, LINGHU_STAFF, "accept", c.EventRef(event=eid), MONDAY_9)
    both = c.Dispatch(event=eid, assignee="区城管局", assist=["区城管局"])
    assert refused(state, LINGHU_STAFF, "dispatch", both) == "bad_args"
    twice = c.Dispatch(event=eid, assignee="区城管局", assist=["区住建局", "区住建局"])
    assert refused(state, LINGHU_STAFF, "dispatch", twice) == "bad_args"


# ---- 挂账 --------------------------------------------------------------------------------


def test_an_approved_hold_stops_the_clocks_and_release_moves_them_on(state) -> None:
    eid = report(state)
    event = to_handling(state, eid)
    deadline, due = event.deadline, event.due_at
    review = MONDAY_9 + 10 * 86400
    ask = c.RequestHold(event=eid, reason="需列入年度改造计划", review_at=review)
    held = run(state, WORKER, "request_hold", ask, MONDAY_9 + HOUR)
    assert held.hold == Hold(
        reason=ask.reason,
        requested_by=WORKER.name,
        requested_at=MONDAY_9 + HOUR,
        review_at=review,
        requested_role="street",
    )
    run(state, COMMANDER, "decide_hold", c.DecideHold(event=eid, approve=True), MONDAY_9 + 2 * HOUR)
    assert responsible(state.events[eid]) is None
    # The clock passes the deadlines by: nothing happens while held.
    assert state.tick(due + 86400) == []
    assert refused(state, WORKER, "handled", c.EventRef(event=eid), due) == "illegal_transition"
    extend = c.RequestExtension(event=eid, hours=2, reason="r")
    assert refused(state, WORKER, "request_extension", extend) == "illegal_transition"
    released = run(
        state, LINGHU_STAFF, "release_hold", c.ReleaseHold(event=eid), MONDAY_9 + 26 * HOUR
    )
    assert released.hold.state == "released" and released.hold.released_at == MONDAY_9 + 26 * HOUR
    assert released.deadline == deadline + 24 * HOUR and released.due_at == due + 24 * HOUR
    assert not released.overdue and released.missed == []
    assert (
        refused(state, LINGHU_STAFF, "release_hold", c.ReleaseHold(event=eid))
        == "illegal_transition"
    )


def test_a_hold_over_a_weekend_moves_working_deadlines_by_nothing(state) -> None:
    eid = report(state, urgent=False, at=FRIDAY_16)
    deadline = to_handling(state, eid, FRIDAY_16).deadline
    office_opens = NEXT_MONDAY_9 - 30 * 60  # Monday 08:30
    ask = c.RequestHold(event=eid, reason="r", review_at=office_opens)
    run(state, WORKER, "request_hold", ask, FRIDAY_16 + 2 * HOUR)
    approve = c.DecideHold(event=eid, approve=True)
    run(state, COMMANDER, "decide_hold", approve, FRIDAY_16 + 2 * HOUR)
    assert state.tick(office_opens - 1) == []  # the review date is not there yet
    (change,) = state.tick(office_opens)
    assert change.action == "hold_expired" and change.actor == "system"
    assert change.after.deadline == deadline and change.after.hold.state == "released"


def test_a_hold_needs_a_review_date_ahead_and_one_at_a_time(state) -> None:
    eid = report(state)
    to_handling(state, eid)
    past = c.RequestHold(event=eid, reason="r", review_at=MONDAY_9 - 1)
    assert refused(state, WORKER, "request_hold", past) == "bad_args"
    far = c.RequestHold(event=eid, reason="r", review_at=MONDAY_9 + 400 * 86400)
    assert refused(state, WORKER, "request_hold", far) == "bad_args"
    run(state, WORKER, "request_hold", NEW_OPS["request_hold"](eid), MONDAY_9)
    assert (
        refused(state, WORKER, "request_hold", NEW_OPS["request_hold"](eid)) == "illegal_transition"
    )
    refuse_it = c.DecideHold(event=eid, approve=False, note="可先行处置")
    assert run(state, COMMANDER, "decide_hold", refuse_it, MONDAY_9).hold.state == "refused"
    assert refused(state, COMMANDER, "decide_hold", refuse_it) == "illegal_transition"


# ---- reopening and automatic supervision -------------------------------------------------


def test_reopen_after_a_failed_return_visit(state) -> None:
    eid = report(state)
    to_verified(state, eid)
    run(state, COMMANDER, "close", c.EventRef(event=eid), MONDAY_9 + HOUR)
    back = run(
        state,
        DISPATCHER,
        "reopen",
        c.Reopen(event=eid, reason="回访：垃圾仍在"),
        MONDAY_9 + 2 * HOUR,
    )
    assert back.status == "dispatched" and back.reopened == 1 and back.closed_at is None
    assert back.deadline == MONDAY_9 + 6 * HOUR and back.due_at == MONDAY_9 + 7 * HOUR
    assert back.dispatched_at == MONDAY_9 + 2 * HOUR and back.first_dispatched_at == MONDAY_9
    assert back.assignee == WORKER.name and not back.supervised


def test_a_low_evaluation_reopens_and_supervises(state) -> None:
    eid = report(state)
    to_verified(state, eid)
    run(state, COMMANDER, "close", c.EventRef(event=eid), MONDAY_9 + HOUR)
    out = state.apply(LINGHU_STAFF, "evaluate", c.Evaluate(event=eid, score=2), MONDAY_9 + 2 * HOUR)
    assert [ch.action for ch in out.changes] == ["evaluate", "auto_reopen"]
    assert out.data == {"event": eid, "status": "dispatched"}
    event = state.events[eid]
    assert event.evaluation == 2 and event.evaluated_at == MONDAY_9 + 2 * HOUR
    assert event.status == "dispatched" and event.supervised and event.reopened == 1


def test_two_escalations_bring_supervision(state) -> None:
    eid = report(state)
    first = state.apply(LINGHU_STAFF, "escalate", c.Escalate(event=eid, reason="r"), MONDAY_9)
    assert [ch.action for ch in first.changes] == ["escalate"]
    second = state.apply(LINGHU_STAFF, "escalate", c.Escalate(event=eid, reason="r"), MONDAY_9)
    assert [(ch.action, ch.actor) for ch in second.changes] == [
        ("escalate", LINGHU_STAFF.name),
        ("auto_supervise", "system"),
    ]
    assert state.events[eid].supervised and state.events[eid].level == "street"


def test_overdue_at_district_brings_supervision(state) -> None:
    eid = report(state)
    state.apply(COMMANDER, "escalate", c.Escalate(event=eid, reason="区级协调"), MONDAY_9)
    for _ in range(2):  # to street, then district (one by hand, one by the clock)
        state.tick(state.events[eid].deadline + 1)
    event = state.events[eid]
    assert event.level == "district" and event.supervised  # escalated twice on the way
    fresh = report(state)
    # At district level already (escalated by hand with a reason that needs no second step).
    state.events[fresh] = replace(state.events[fresh], level="district")
    changes = state.tick(state.events[fresh].deadline + 1)
    assert [ch.action for ch in changes if ch.id == fresh] == ["overdue", "auto_supervise"]


# ---- extension -----------------------------------------------------------------------------


def test_extension_only_before_the_deadline_and_lateness_stays(state) -> None:
    eid = report(state)
    late = state.events[eid].deadline + 1
    state.tick(late)  # the acceptance was late: missed and overdue
    to_handling(state, eid, late)
    ask = c.RequestExtension(event=eid, hours=2, reason="协调")
    run(state, WORKER, "request_extension", ask, late + 60)
    before = state.events[eid]
    after = run(
        state,
        DISPATCHER,
        "decide_extension",
        c.DecideExtension(event=eid, approve=True),
        late + 120,
    )
    assert after.extensions == 1 and after.extension.state == "approved"
    assert after.deadline == before.deadline + 2 * HOUR and after.due_at == before.due_at + 2 * HOUR
    assert after.overdue and after.missed == ["accept"]  # never erased
    # Past the (extended) deadline no more extension may be asked.
    again = c.RequestExtension(event=eid, hours=2, reason="再次")
    code = refused(state, WORKER, "request_extension", again, after.deadline + 1)
    assert code == "illegal_transition"


def test_no_extension_once_the_clock_flagged_the_handling_deadline(state) -> None:
    eid = report(state)
    event = to_handling(state, eid)
    state.tick(event.deadline + 1)  # flagged; the next level got a grace window
    event = state.events[eid]
    assert event.deadline > event.updated_at and "handle" in event.missed
    ask = c.RequestExtension(event=eid, hours=2, reason="r")
    with pytest.raises(WorkflowError, match="missed its handling deadline"):
        state.apply(WORKER, "request_extension", ask, event.updated_at + 60)


# ---- who must act now ------------------------------------------------------------------------


def _case(**fields) -> Event:
    base = {
        "id": 1,
        "code": "DG-1",
        "source": "hotline",
        "category": "01-02",
        "title": "t",
        "lon": 0.0,
        "lat": 0.0,
        "grid": "g",
        "community": "c",
        "street": LINGHU,
        "priority": 3,
        "status": "dispatched",
        "level": "grid",
        "reported_at": 0.0,
        "updated_at": 0.0,
        "assignee": "区城管局",
    }
    return Event(**{**base, **fields})


@pytest.mark.parametrize(
    ("fields", "holder"),
    [
        ({"status": "reported"}, "street"),
        ({"status": "accepted"}, "street"),
        ({}, "assignee"),
        ({"status": "handling", "level": "community"}, "assignee"),
        ({"status": "handled"}, "street"),
        ({"status": "verified", "level": "community"}, "street"),
        ({"level": "street"}, "street"),
        ({"level": "district"}, "commander"),
        ({"level": "district", "status": "reported"}, "commander"),
        ({"extension": Extension(hours=1, reason="r", requested_by="x", requested_at=0)}, "centre"),
        ({"hold": Hold(reason="r", requested_by="x", requested_at=0, review_at=1)}, "centre"),
        (
            {
                "hold": Hold(
                    reason="r",
                    requested_by="x",
                    requested_at=0,
                    review_at=1,
                    state="approved",
                    since=0,
                )
            },
            None,
        ),
        ({"status": "closed"}, None),
        ({"status": "rejected"}, None),
    ],
)
def test_responsible(fields, holder) -> None:
    assert responsible(_case(**fields)) == holder


# ---- review findings: lateness never erased, held time not handling time, approval levels ----


def test_no_extension_once_the_closure_deadline_passed_after_a_rework(state) -> None:
    eid = report(state)  # urgent: due 7 h after the report
    to_handling(state, eid, MONDAY_9)
    run(state, WORKER, "handled", c.EventRef(event=eid), MONDAY_9 + 3 * HOUR)
    # A failed verification gives a fresh handling window that outlasts the case's deadline.
    run(state, LINGHU_STAFF, "verify", c.Verify(event=eid, passed=False), MONDAY_9 + 3.9 * HOUR)
    due = state.events[eid].due_at
    assert due is not None and state.events[eid].deadline > due  # type: ignore[operator]
    state.tick(due + 60)
    assert state.events[eid].overdue and "closure" in state.events[eid].missed
    with pytest.raises(WorkflowError) as info:
        state.apply(
            WORKER,
            "request_extension",
            c.RequestExtension(event=eid, hours=8, reason="r"),
            due + 600,
        )
    assert info.value.code == "illegal_transition" and "closure deadline" in info.value.message


def test_an_extension_approved_after_the_deadline_keeps_the_case_late(state) -> None:
    eid = report(state)
    to_handling(state, eid, MONDAY_9)
    ask = c.RequestExtension(event=eid, hours=8, reason="r")
    run(state, WORKER, "request_extension", ask, MONDAY_9 + 2 * HOUR)
    deadline = state.events[eid].deadline
    assert deadline is not None
    # Approved a minute after the handling deadline, before the clock noticed it.
    decide = c.DecideExtension(event=eid, approve=True)
    after = run(state, DISPATCHER, "decide_extension", decide, deadline + 60)
    assert "handle" in after.missed and after.overdue and after.extensions == 1


def test_time_on_hold_is_not_handling_time(state) -> None:
    eid = report(state)
    to_handling(state, eid, MONDAY_9)
    review = MONDAY_9 + 30 * 86400
    run(
        state,
        WORKER,
        "request_hold",
        c.RequestHold(event=eid, reason="r", review_at=review),
        MONDAY_9 + 60,
    )
    run(state, DISPATCHER, "decide_hold", c.DecideHold(event=eid, approve=True), MONDAY_9 + 120)
    released = MONDAY_9 + 20 * 86400
    run(state, WORKER, "release_hold", c.ReleaseHold(event=eid), released)
    handled = run(state, WORKER, "handled", c.EventRef(event=eid), released + 600)
    assert handled.handle_used == pytest.approx(120 + 600)  # before the hold, and after it


def test_approval_needs_a_higher_level_than_the_requester(state) -> None:
    eid = report(state)
    to_handling(state, eid, MONDAY_9)
    ask = c.RequestExtension(event=eid, hours=2, reason="r")
    run(state, DISPATCHER, "request_extension", ask, MONDAY_9 + 60)
    other_dispatcher = Actor("调度员乙", "dispatcher")
    decide = c.DecideExtension(event=eid, approve=True)
    with pytest.raises(WorkflowError) as info:
        state.apply(other_dispatcher, "decide_extension", decide, MONDAY_9 + 120)
    assert info.value.code == "separation_of_duties" and "higher level" in info.value.message
    assert run(state, COMMANDER, "decide_extension", decide, MONDAY_9 + 180).extensions == 1
