"""All workflow rules in one place: which op moves an event from which status to which, who may.

The closed loop: reported → accepted (or rejected) → dispatched → handling → handled →
verified → closed → evaluated. Verification that fails sends the event back to dispatched
(rework); a wrongly dispatched case goes back to accepted (退单); a closed case whose return
visit fails goes back to dispatched (二次派单). Flags (extension, hold, consultation,
supervision, level, assisting units) change without a status move.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.entities import (
    LEVELS,
    OPEN_STATUSES,
    STATUSES,
    Event,
    Level,
    Role,
    Status,
    on_hold,
)

FINAL_STATUSES: frozenset[Status] = frozenset(STATUSES) - OPEN_STATUSES
WORKING_STATUSES: frozenset[Status] = frozenset({"dispatched", "handling"})


class WorkflowError(Exception):
    """A step the workflow refuses; `code` is the protocol error code to answer with."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Step:
    """One op on an event: the statuses it may start from and the status it leads to."""

    sources: frozenset[Status]
    target: Status | None  # None: the status stays, only fields or flags change
    roles: frozenset[Role]


# The centre and the street sub-centres: every desk op, closure (结案) included.
_CLOSERS: frozenset[Role] = frozenset({"commander", "dispatcher", "street", "admin"})
# ... and the community workstations (社区工作站), which work their communities' cases but
# do not close them: the standards give 结案 to the centre or the street sub-centre.
_ALL_DESK: frozenset[Role] = _CLOSERS | {"community"}
_CENTRE: frozenset[Role] = frozenset({"commander", "dispatcher", "admin"})
_COMMANDER: frozenset[Role] = frozenset({"commander", "admin"})

# Statuses a long-term hold (挂账) may be asked for, decided and released in: after intake,
# before the handling is reported. An approved hold freezes the status.
HOLD_STATUSES: frozenset[Status] = frozenset({"accepted", "dispatched", "handling"})

# Ops on events. "verify" leads to "verified" or back to "dispatched"; see next_status().
STEPS: dict[str, Step] = {
    "accept": Step(frozenset({"reported"}), "accepted", _ALL_DESK),
    "reject": Step(frozenset({"reported"}), "rejected", _ALL_DESK),
    "dispatch": Step(frozenset({"accepted", "dispatched"}), "dispatched", _ALL_DESK),
    "start": Step(frozenset({"dispatched"}), "handling", _ALL_DESK),
    "handled": Step(frozenset({"handling"}), "handled", _ALL_DESK),
    "verify": Step(frozenset({"handled"}), "verified", _ALL_DESK),
    # The centre or the street sub-centre closes (never the handler: checked on the person).
    "close": Step(frozenset({"verified"}), "closed", _CLOSERS),
    "evaluate": Step(frozenset({"closed"}), "evaluated", _ALL_DESK),
    # 退单: only before the unit has started; a case being handled is the unit's own.
    "return_case": Step(frozenset({"dispatched"}), "accepted", _ALL_DESK),
    # 二次派单: the return visit found the problem still there.
    "reopen": Step(frozenset({"closed", "evaluated"}), "dispatched", _ALL_DESK),
    "acknowledge": Step(WORKING_STATUSES, None, _ALL_DESK),
    "assist_report": Step(WORKING_STATUSES, None, _ALL_DESK),
    "request_extension": Step(WORKING_STATUSES, None, _ALL_DESK),
    "decide_extension": Step(WORKING_STATUSES, None, _CENTRE),
    "request_hold": Step(HOLD_STATUSES, None, _ALL_DESK),
    "decide_hold": Step(HOLD_STATUSES, None, _CENTRE),
    "release_hold": Step(HOLD_STATUSES, None, _ALL_DESK),
    "escalate": Step(OPEN_STATUSES, None, _ALL_DESK),
    "consult": Step(OPEN_STATUSES, None, _COMMANDER),
    "decide": Step(OPEN_STATUSES, None, _COMMANDER),
    "end_consult": Step(OPEN_STATUSES, None, _COMMANDER),
    "supervise": Step(OPEN_STATUSES, None, _CENTRE),
}

# Ops that are not on an event.
ALERT_OPS: dict[str, frozenset[Role]] = {
    "confirm_alert": _ALL_DESK,
    "dismiss_alert": _ALL_DESK,
}
OTHER_OPS: dict[str, frozenset[Role]] = {
    "report": _ALL_DESK,
    "instruct": _COMMANDER,
    "handover": _COMMANDER,
}


def roles_for(op: str) -> frozenset[Role]:
    """The roles that may issue `op` at all (before jurisdiction and state checks)."""
    if op in STEPS:
        return STEPS[op].roles
    if op in ALERT_OPS:
        return ALERT_OPS[op]
    return OTHER_OPS.get(op, frozenset())


def next_status(event: Event, op: str, *, passed: bool = True) -> Status:
    """The status `op` leads to from the event's status; raise WorkflowError when illegal."""
    step = STEPS.get(op)
    if step is None:
        raise WorkflowError("unknown_op", f"unknown op {op!r}")
    if event.status not in step.sources:
        allowed = "/".join(sorted(step.sources))
        raise WorkflowError(
            "illegal_transition",
            f"{op} is not allowed on event {event.code} in status {event.status} (needs {allowed})",
        )
    if op == "verify" and not passed:
        return "dispatched"
    target = step.target or event.status
    if target != event.status and on_hold(event):
        raise WorkflowError(
            "illegal_transition",
            f"event {event.code} is on hold (挂账) until released; {op} must wait",
        )
    return target


def refuse(event: Event, why: str) -> WorkflowError:
    """The error for an op the event's flags or fields do not allow: `event <code> <why>`."""
    return WorkflowError("illegal_transition", f"event {event.code} {why}")


def not_by(event: Event, actor_name: str, other: str, duty: str) -> None:
    """Refuse when the actor is `other`, the person who may not also do `duty` on this case."""
    if other and actor_name == other:
        raise WorkflowError(
            "separation_of_duties",
            f"{duty} on event {event.code} must be done by someone other than {other}",
        )


# Levels of authority for approvals (延期, 挂账): an approver must stand above the requester;
# the duty commander is the top and may approve another commander's request.
_AUTHORITY: dict[Role, int] = {
    "wall": 0,
    "community": 1,
    "street": 2,
    "dispatcher": 3,
    "commander": 4,
    "admin": 4,
}


def above(event: Event, approver: Role, requester: Role | None, duty: str) -> None:
    """Refuse an approval by someone not of a higher level than the requester."""
    if requester is None:
        return  # requested before roles were recorded: only "someone else" applies
    rank, asked = _AUTHORITY[approver], _AUTHORITY[requester]
    if rank > asked or (approver == "commander" and asked == rank):
        return
    raise WorkflowError(
        "separation_of_duties",
        f"{duty} on event {event.code} needs a higher level than the requester's ({requester})",
    )


def level_above(level: Level) -> Level:
    """The next level up; the district is the top."""
    index = LEVELS.index(level)
    return LEVELS[min(index + 1, len(LEVELS) - 1)]
