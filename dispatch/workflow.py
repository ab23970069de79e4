"""All workflow rules in one place: which op moves an event from which status to which, who may.

The closed loop: reported → accepted (or rejected) → dispatched → handling → handled →
verified → closed → evaluated. Verification that fails sends the event back to dispatched
(rework). Flags (extension, consultation, supervision, level) change without a status move.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.entities import LEVELS, OPEN_STATUSES, STATUSES, Event, Level, Role, Status

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


_ALL_DESK: frozenset[Role] = frozenset({"commander", "dispatcher", "street", "admin"})
_CENTRE: frozenset[Role] = frozenset({"commander", "dispatcher", "admin"})
_COMMANDER: frozenset[Role] = frozenset({"commander", "admin"})

# Ops on events. "verify" leads to "verified" or back to "dispatched"; see next_status().
STEPS: dict[str, Step] = {
    "accept": Step(frozenset({"reported"}), "accepted", _ALL_DESK),
    "reject": Step(frozenset({"reported"}), "rejected", _ALL_DESK),
    "dispatch": Step(frozenset({"accepted", "dispatched"}), "dispatched", _ALL_DESK),
    "start": Step(frozenset({"dispatched"}), "handling", _ALL_DESK),
    "handled": Step(frozenset({"handling"}), "handled", _ALL_DESK),
    "verify": Step(frozenset({"handled"}), "verified", _ALL_DESK),
    "close": Step(frozenset({"verified"}), "closed", _ALL_DESK),
    "evaluate": Step(frozenset({"closed"}), "evaluated", _ALL_DESK),
    "request_extension": Step(WORKING_STATUSES, None, _ALL_DESK),
    "decide_extension": Step(WORKING_STATUSES, None, _CENTRE),
    "escalate": Step(OPEN_STATUSES, None, _ALL_DESK),
    "consult": Step(OPEN_STATUSES, None, _COMMANDER),
    "decide": Step(OPEN_STATUSES, None, _COMMANDER),
    "end_consult": Step(OPEN_STATUSES, None, _COMMANDER),
    "supervise": Step(OPEN_STATUSES, None, _CENTRE),
    # Backend-only steps (the clock and the simulator's grid workers use them too).
    "overdue": Step(OPEN_STATUSES, None, frozenset()),
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
    return step.target or event.status


def check_flags(event: Event, op: str) -> None:
    """Refuse flag ops that make no sense in the event's current flags."""
    if op == "request_extension" and event.extension and event.extension.state == "pending":
        raise WorkflowError("illegal_transition", f"event {event.code} has a pending extension")
    if op == "decide_extension" and not (event.extension and event.extension.state == "pending"):
        raise WorkflowError("illegal_transition", f"event {event.code} has no pending extension")
    if op == "escalate" and event.level == "district":
        raise WorkflowError("illegal_transition", f"event {event.code} is already at district")
    if op == "consult" and event.consulting:
        raise WorkflowError("illegal_transition", f"event {event.code} is already in consultation")
    if op in ("decide", "end_consult") and not event.consulting:
        raise WorkflowError("illegal_transition", f"event {event.code} is not in consultation")
    if op == "supervise":
        if event.supervised:
            raise WorkflowError("illegal_transition", f"event {event.code} is already supervised")
        if not event.overdue:
            raise WorkflowError("illegal_transition", f"event {event.code} is not overdue")


def level_above(level: Level) -> Level:
    """The next level up; the district is the top."""
    index = LEVELS.index(level)
    return LEVELS[min(index + 1, len(LEVELS) - 1)]
