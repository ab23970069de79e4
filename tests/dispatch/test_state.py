"""Workflow rules on the in-memory state, including a property test over random op sequences."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch import kpi
from dispatch.domain.calendar import CST
from dispatch.state import ALERT_BURST_WINDOW, Actor, State
from dispatch.workflow import FINAL_STATUSES, STEPS, WorkflowError
from protocol import commands as c
from protocol.entities import LEVELS, STATUSES, on_hold
from tests.dispatch.conftest import DEKUAN, LINGHU, point_in

COMMANDER = Actor("指挥长", "commander")
LINGHU_STAFF = Actor("菱湖分中心", "street", frozenset({LINGHU}))
# The unit that handles (a grid worker): someone else verifies and closes its work.
WORKER = Actor("网格员 张三", "street", frozenset({LINGHU}))
HANDS_ON = ("start", "handled")
# Monday 2026-11-23 09:00 local: a working day.
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=CST).timestamp()


def new_state(reference) -> State:
    return State(reference)


def report(
    state: State,
    reference,
    street: str = LINGHU,
    category: str = "01-02",
    at: float = MONDAY_9,
    actor: Actor = COMMANDER,
) -> int:
    lon, lat = point_in(reference, street)
    out = state.apply(actor, "report", c.Report(category=category, title="t", lon=lon, lat=lat), at)
    return int(out.data["event"])


LOOP = ("accept", "dispatch", "start", "handled", "verify", "close")


def advance(state: State, eid: int, until: str, at: float = MONDAY_9) -> None:
    """Take an event round the loop up to and including the step `until`."""
    args = {
        "dispatch": c.Dispatch(event=eid, assignee="x"),
        "verify": c.Verify(event=eid, passed=True),
    }
    for op in LOOP[: LOOP.index(until) + 1]:
        actor = WORKER if op in HANDS_ON else COMMANDER
        state.apply(actor, op, args.get(op, c.EventRef(event=eid)), at)


def test_full_loop_with_deadlines(reference) -> None:
    state = new_state(reference)
    eid = report(state, reference)
    event = state.events[eid]
    assert event.status == "reported" and event.level == "grid" and event.street == LINGHU
    assert event.deadline is not None and event.deadline > MONDAY_9
    assert event.due_at is not None and event.due_at > event.deadline
    t = MONDAY_9
    for op, args in [
        ("accept", c.EventRef(event=eid)),
        ("dispatch", c.Dispatch(event=eid, assignee="网格员 张三")),
        ("start", c.EventRef(event=eid)),
        ("handled", c.EventRef(event=eid)),
        ("verify", c.Verify(event=eid, passed=True)),
        ("close", c.EventRef(event=eid)),
        ("evaluate", c.Evaluate(event=eid, score=5)),
    ]:
        t += 600
        state.apply(WORKER if op in HANDS_ON else LINGHU_STAFF, op, args, t)
    final = state.events[eid]
    assert final.status == "evaluated" and final.closed_at is not None
    assert final.assignee == "网格员 张三" and final.evaluation == 5


def test_exposed_garbage_deadline_is_four_working_hours_across_lunch(reference) -> None:
    state = new_state(reference)
    eid = report(state, reference, at=datetime(2026, 11, 23, 10, 0, tzinfo=CST).timestamp())
    state.apply(
        COMMANDER,
        "accept",
        c.EventRef(event=eid),
        datetime(2026, 11, 23, 10, 0, tzinfo=CST).timestamp(),
    )
    dispatched_at = datetime(2026, 11, 23, 11, 0, tzinfo=CST).timestamp()
    state.apply(COMMANDER, "dispatch", c.Dispatch(event=eid, assignee="x"), dispatched_at)
    # 4 working hours from 11:00: one hour before lunch, three after 14:00 -> 17:00.
    deadline = datetime.fromtimestamp(state.events[eid].deadline, CST)
    assert (deadline.hour, deadline.minute) == (17, 0)


def test_rework_returns_to_dispatched(reference) -> None:
    state = new_state(reference)
    eid = report(state, reference)
    advance(state, eid, "handled")
    out = state.apply(
        COMMANDER, "verify", c.Verify(event=eid, passed=False, note="未整改到位"), MONDAY_9 + 60
    )
    assert out.changes[0].action == "rework"
    assert state.events[eid].status == "dispatched" and state.events[eid].rework_count == 1


@pytest.mark.parametrize(
    ("op", "args"),
    [
        ("close", lambda e: c.EventRef(event=e)),
        ("start", lambda e: c.EventRef(event=e)),
        ("verify", lambda e: c.Verify(event=e, passed=True)),
        ("end_consult", lambda e: c.EventRef(event=e)),
        ("decide_extension", lambda e: c.DecideExtension(event=e, approve=True)),
        ("supervise", lambda e: c.EventRef(event=e)),
    ],
)
def test_illegal_steps_refused_and_nothing_changes(reference, op, args) -> None:
    state = new_state(reference)
    eid = report(state, reference)
    before = state.events[eid]
    with pytest.raises(WorkflowError) as info:
        state.apply(COMMANDER, op, args(eid), MONDAY_9 + 10)
    assert info.value.code == "illegal_transition" and before.code in info.value.message
    assert state.events[eid] is before


def test_jurisdiction_hides_other_streets(reference) -> None:
    state = new_state(reference)
    eid = report(state, reference, street=DEKUAN)
    with pytest.raises(WorkflowError) as info:
        state.apply(LINGHU_STAFF, "accept", c.EventRef(event=eid), MONDAY_9)
    assert info.value.code == "not_found"
    with pytest.raises(WorkflowError) as info:
        report(state, reference, street=DEKUAN, actor=LINGHU_STAFF)
    assert info.value.code == "forbidden"


def test_unknown_category_and_outside_location(reference) -> None:
    state = new_state(reference)
    with pytest.raises(WorkflowError, match="unknown category"):
        report(state, reference, category="99-99")
    with pytest.raises(WorkflowError, match="outside every grid"):
        state.apply(
            COMMANDER, "report", c.Report(category="01-02", title="t", lon=0, lat=0), MONDAY_9
        )
    assert state.events == {}


def test_overdue_tick_escalates_level_by_level(reference) -> None:
    state = new_state(reference)
    eid = report(state, reference)
    actions = []
    now = MONDAY_9
    for _ in range(5):
        now = state.events[eid].deadline + 1
        for ch in state.tick(now):
            actions.append((ch.action, ch.after.level))
    escalations = [(a, lvl) for a, lvl in actions if a != "auto_supervise"]
    assert [lvl for _, lvl in escalations] == [
        "community",
        "street",
        "district",
        "district",
        "district",
    ]
    assert escalations[0][0] == "auto_escalate" and escalations[-1][0] == "overdue"
    # The second escalation puts it under supervision (督办), once.
    assert [a for a, _ in actions].count("auto_supervise") == 1
    assert actions[2] == ("auto_supervise", "street")
    event = state.events[eid]
    assert event.overdue and event.supervised and event.missed[0] == "accept"


def test_supervise_by_hand_needs_an_overdue_case(reference) -> None:
    state = new_state(reference)
    eid = report(state, reference)
    state.tick(state.events[eid].deadline + 1)
    assert state.events[eid].overdue and not state.events[eid].supervised
    state.apply(COMMANDER, "supervise", c.EventRef(event=eid), MONDAY_9 + 86400)
    assert state.events[eid].supervised


def test_extension_moves_deadline(reference) -> None:
    state = new_state(reference)
    eid = report(state, reference)
    advance(state, eid, "dispatch")
    before = state.events[eid].deadline
    state.apply(
        LINGHU_STAFF,
        "request_extension",
        c.RequestExtension(event=eid, hours=7, reason="协调"),
        MONDAY_9,
    )
    with pytest.raises(WorkflowError):
        state.apply(
            LINGHU_STAFF,
            "request_extension",
            c.RequestExtension(event=eid, hours=7, reason="again"),
            MONDAY_9,
        )
    state.apply(COMMANDER, "decide_extension", c.DecideExtension(event=eid, approve=True), MONDAY_9)
    after = state.events[eid]
    assert after.extension.state == "approved"
    # Seven working hours is one working day later at the same time of day.
    assert after.deadline - before >= 24 * 3600 - 1


def test_consultation(reference) -> None:
    state = new_state(reference)
    eid = report(state, reference)
    state.apply(COMMANDER, "consult", c.EventRef(event=eid), MONDAY_9)
    state.apply(COMMANDER, "decide", c.Decide(event=eid, text="城管牵头"), MONDAY_9)
    state.apply(COMMANDER, "end_consult", c.EventRef(event=eid), MONDAY_9)
    event = state.events[eid]
    assert not event.consulting and event.decisions[-1].text == "城管牵头"


def test_camera_burst_is_one_alert_and_confirm_makes_event(reference) -> None:
    state = new_state(reference)
    camera = next(iter(reference.cameras))
    ids = {
        state.detect(camera, "exposed_garbage", 0.8, MONDAY_9 + i * 10, "/s/{id}").data["alert"]
        for i in range(5)
    }
    assert len(ids) == 1
    alert = state.alerts[ids.pop()]
    assert alert.count == 5 and alert.status == "new"
    later = state.detect(
        camera, "exposed_garbage", 0.8, MONDAY_9 + 40 + ALERT_BURST_WINDOW + 1, "/s/{id}"
    )
    assert later.data["alert"] != alert.id
    out = state.apply(COMMANDER, "confirm_alert", c.ConfirmAlert(alert=alert.id), MONDAY_9 + 500)
    event = state.events[int(out.data["event"])]
    assert event.source == "camera" and event.alert == alert.id
    assert state.alerts[alert.id].status == "confirmed"
    with pytest.raises(WorkflowError):
        state.apply(COMMANDER, "dismiss_alert", c.DismissAlert(alert=alert.id), MONDAY_9 + 600)


def test_rollback_restores_everything(reference) -> None:
    state = new_state(reference)
    eid = report(state, reference)
    point = state.savepoint()
    before = dict(state.events)
    out = state.apply(COMMANDER, "accept", c.EventRef(event=eid), MONDAY_9)
    out2 = state.apply(
        COMMANDER,
        "report",
        c.Report(category="01-02", title="t", lon=state.events[eid].lon, lat=state.events[eid].lat),
        MONDAY_9,
    )
    state.rollback(point, [*out.changes, *out2.changes])
    assert state.events == before and state.next_event_id == eid + 1


def test_kpis(reference) -> None:
    state = new_state(reference)
    eid = report(state, reference)
    advance(state, eid, "close", MONDAY_9 + 600)
    report(state, reference, street=DEKUAN)
    book = kpi.compute(state.events.values(), MONDAY_9 + 3600)
    k = {scope: book.kpi("today", scope) for scope in ("district", LINGHU, DEKUAN)}
    assert k["district"].received == 2 and k["district"].closed == 1
    assert k["district"].on_time_rate == 1.0 and k["district"].open_now == 1
    assert k[LINGHU].closed == 1 and k[DEKUAN].open_now == 1


EVENT_OPS = list(STEPS)
# Who may act in the random walk: two people at the centre, the street sub-centre, a worker.
PEOPLE = (COMMANDER, Actor("调度员", "dispatcher"), LINGHU_STAFF, WORKER)


def random_args(op: str, eid: int, flag: bool, now: float) -> c.EventRef | object:
    """Plausible args of `op` for the random walk."""
    return {
        "dispatch": c.Dispatch(event=eid, assignee="x", assist=["y"] if flag else []),
        "verify": c.Verify(event=eid, passed=flag),
        "evaluate": c.Evaluate(event=eid, score=2 if flag else 4),
        "request_extension": c.RequestExtension(event=eid, hours=2, reason="r"),
        "decide_extension": c.DecideExtension(event=eid, approve=flag),
        "escalate": c.Escalate(event=eid, reason="r"),
        "decide": c.Decide(event=eid, text="d"),
        "reject": c.Reject(event=eid, reason="r"),
        "return_case": c.ReturnCase(event=eid, reason="r"),
        "acknowledge": c.Acknowledge(event=eid, unit="y" if flag else None),
        "assist_report": c.AssistReport(event=eid, unit="y", text="done"),
        "request_hold": c.RequestHold(event=eid, reason="r", review_at=now + 86400),
        "decide_hold": c.DecideHold(event=eid, approve=flag),
        "release_hold": c.ReleaseHold(event=eid),
        "reopen": c.Reopen(event=eid, reason="r"),
    }.get(op, c.EventRef(event=eid))


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ops=st.lists(
        st.tuples(
            st.sampled_from(EVENT_OPS),
            st.booleans(),
            st.integers(0, 50_000),
            st.sampled_from(PEOPLE),
        ),
        max_size=50,
    )
)
def test_random_ops_never_reach_an_illegal_state(reference, ops) -> None:
    state = new_state(reference)
    eid = report(state, reference)
    now = MONDAY_9
    refusals = {"illegal_transition", "separation_of_duties", "forbidden", "bad_args"}
    for op, flag, dt, actor in ops:
        now += dt
        before = state.events[eid]
        try:
            state.apply(actor, op, random_args(op, eid, flag, now), now)
        except WorkflowError as exc:
            assert exc.code in refusals, exc
            assert state.events[eid] is before
        else:
            if op in ("verify", "close"):  # never by the one who handled it
                assert actor.name != before.handled_by
        if flag:
            state.tick(now)
        event = state.events[eid]
        assert event.status in STATUSES and event.level in LEVELS
        if before.status in FINAL_STATUSES and event.status != before.status:
            # Only evaluation (from closed) and reopening leave a final status.
            assert (before.status, event.status) in {
                ("closed", "evaluated"),
                ("closed", "dispatched"),
                ("evaluated", "dispatched"),
            }
        if event.status in ("closed", "evaluated", "rejected"):
            assert event.closed_at is not None and event.deadline is None
        if on_hold(before):
            assert event.status == before.status
        # What the KPIs count never goes backwards.
        assert before.missed == event.missed[: len(before.missed)]
        assert len(set(event.missed)) == len(event.missed)
        assert before.first_dispatched_at in (None, event.first_dispatched_at)
        assert event.handle_used >= before.handle_used
        assert event.extensions >= before.extensions and event.reopened >= before.reopened
        assert (event.status == "reported") == (event.accepted_at is None)
        assert event.rework_count >= 0 and LEVELS.index(event.level) >= LEVELS.index(before.level)


def test_grid_lookup_agrees_with_exact_geometry(reference) -> None:
    import random

    import shapely

    rng = random.Random(5)
    grids = list(reference.grids.values())
    shapes = {g.code: shapely.Polygon(g.polygon[0], g.polygon[1:]) for g in grids}
    minx, miny, maxx, maxy = shapely.total_bounds(list(shapes.values()))
    for _ in range(3000):
        lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        found = reference.grid_at(lon, lat)
        inside = [code for code, shape in shapes.items() if shape.contains(shapely.Point(lon, lat))]
        if inside:
            assert found is not None and found.code in inside
        elif found is not None:  # only on a shared edge
            assert shapes[found.code].intersects(shapely.Point(lon, lat))


def test_instruction_on_an_event_stays_off_the_duty_board(reference) -> None:
    state = new_state(reference)
    state.handover(COMMANDER, c.Handover(commander="王建国"), MONDAY_9)
    eid = report(state, reference)
    state.apply(COMMANDER, "instruct", c.Instruct(text="菱湖：今天办结", event=eid), MONDAY_9)
    state.apply(COMMANDER, "instruct", c.Instruct(text="各街道加强巡查"), MONDAY_9)
    assert [d.text for d in state.duty.instructions] == ["各街道加强巡查"]
    assert state.events[eid].decisions[-1].text == "菱湖：今天办结"
