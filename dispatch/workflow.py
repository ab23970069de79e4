"""The workflow's checks on the backend: status moves, separation of duties, authority.

The table of which op goes from which status to which, and who may issue it, is shared with
the desk in protocol/workflow.py; here are the checks that raise the protocol's errors.
"""

from __future__ import annotations

from protocol.entities import LEVELS, Event, Level, Role, Status, on_hold
from protocol.workflow import (
    ALERT_OPS,
    ATTACH_RADIUS_M,
    FINAL_STATUSES,
    HOLD_STATUSES,
    OTHER_OPS,
    STEPS,
    WORKING_STATUSES,
    Step,
    alert_distance,
    attachable_at,
    outranks,
    roles_for,
)

__all__ = [
    "ALERT_OPS",
    "ATTACH_RADIUS_M",
    "FINAL_STATUSES",
    "HOLD_STATUSES",
    "OTHER_OPS",
    "STEPS",
    "WORKING_STATUSES",
    "Step",
    "WorkflowError",
    "above",
    "alert_distance",
    "attachable_at",
    "level_above",
    "next_status",
    "not_by",
    "refuse",
    "roles_for",
]


class WorkflowError(Exception):
    """A step the workflow refuses; `code` is the protocol error code to answer with."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


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


def above(event: Event, approver: Role, requester: Role | None, duty: str) -> None:
    """Refuse an approval by someone not of a higher level than the requester."""
    if outranks(approver, requester):
        return
    raise WorkflowError(
        "separation_of_duties",
        f"{duty} on event {event.code} needs a higher level than the requester's ({requester})",
    )


def level_above(level: Level) -> Level:
    """The next level up; the district is the top."""
    index = LEVELS.index(level)
    return LEVELS[min(index + 1, len(LEVELS) - 1)]
