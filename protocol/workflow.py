"""The closed loop's rules as both ends need them: which op moves a case from which status to
which, and which roles may issue it.

The closed loop: reported → accepted (or rejected) → dispatched → handling → handled →
verified → closed → evaluated. Verification that fails sends the event back to dispatched
(rework); a wrongly dispatched case goes back to accepted (退单); a closed case whose return
visit fails goes back to dispatched (二次派单). Flags (extension, hold, consultation,
supervision, level, assisting units) change without a status move.

The backend enforces these (dispatch/workflow.py, dispatch/ops.py); the desk offers only what
they allow, so a forbidden action is never shown as if it could succeed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from protocol.entities import OPEN_STATUSES, STATUSES, Alert, Event, Role, Status

FINAL_STATUSES: frozenset[Status] = frozenset(STATUSES) - OPEN_STATUSES
WORKING_STATUSES: frozenset[Status] = frozenset({"dispatched", "handling"})


@dataclass(frozen=True, slots=True)
class Step:
    """One op on an event: the statuses it may start from and the status it leads to."""

    sources: frozenset[Status]
    target: Status | None  # None: the status stays, only fields or flags change
    roles: frozenset[Role]


# The centre and the street sub-centres: every desk op, closure (结案) included.
CLOSERS: frozenset[Role] = frozenset({"commander", "dispatcher", "street", "admin"})
# ... and the community workstations (社区工作站), which work their communities' cases but
# do not close them: the standards give 结案 to the centre or the street sub-centre.
ALL_DESK: frozenset[Role] = CLOSERS | {"community"}
CENTRE: frozenset[Role] = frozenset({"commander", "dispatcher", "admin"})
COMMANDER: frozenset[Role] = frozenset({"commander", "admin"})

# Statuses a long-term hold (挂账) may be asked for, decided and released in: after intake,
# before the handling is reported. An approved hold freezes the status.
HOLD_STATUSES: frozenset[Status] = frozenset({"accepted", "dispatched", "handling"})

# Ops on events. "verify" leads to "verified" or back to "dispatched" (failed: rework).
STEPS: dict[str, Step] = {
    "accept": Step(frozenset({"reported"}), "accepted", ALL_DESK),
    "reject": Step(frozenset({"reported"}), "rejected", ALL_DESK),
    "dispatch": Step(frozenset({"accepted", "dispatched"}), "dispatched", ALL_DESK),
    "start": Step(frozenset({"dispatched"}), "handling", ALL_DESK),
    "handled": Step(frozenset({"handling"}), "handled", ALL_DESK),
    "verify": Step(frozenset({"handled"}), "verified", ALL_DESK),
    # The centre or the street sub-centre closes (never the handler: checked on the person).
    "close": Step(frozenset({"verified"}), "closed", CLOSERS),
    "evaluate": Step(frozenset({"closed"}), "evaluated", ALL_DESK),
    # 退单: only before the unit has started; a case being handled is the unit's own.
    "return_case": Step(frozenset({"dispatched"}), "accepted", ALL_DESK),
    # 二次派单: the return visit found the problem still there.
    "reopen": Step(frozenset({"closed", "evaluated"}), "dispatched", ALL_DESK),
    "acknowledge": Step(WORKING_STATUSES, None, ALL_DESK),
    "assist_report": Step(WORKING_STATUSES, None, ALL_DESK),
    "request_extension": Step(WORKING_STATUSES, None, ALL_DESK),
    "decide_extension": Step(WORKING_STATUSES, None, CENTRE),
    "request_hold": Step(HOLD_STATUSES, None, ALL_DESK),
    "decide_hold": Step(HOLD_STATUSES, None, CENTRE),
    "release_hold": Step(HOLD_STATUSES, None, ALL_DESK),
    "escalate": Step(OPEN_STATUSES, None, ALL_DESK),
    "consult": Step(OPEN_STATUSES, None, COMMANDER),
    "decide": Step(OPEN_STATUSES, None, COMMANDER),
    "end_consult": Step(OPEN_STATUSES, None, COMMANDER),
    "supervise": Step(OPEN_STATUSES, None, CENTRE),
    # 分拨: the category is set before dispatch (a triaged intake case must be).
    "classify": Step(frozenset({"reported", "accepted"}), None, ALL_DESK),
}

# Ops that are not on an event.
ALERT_OPS: dict[str, frozenset[Role]] = {
    "confirm_alert": ALL_DESK,
    "dismiss_alert": ALL_DESK,
    "attach_alert": ALL_DESK,
}
# attach_alert: a camera alert joins an open case at the same spot, the same grid or this
# close to it (a camera sees about this far; a case just over a grid line is the same spot).
ATTACH_RADIUS_M = 300.0
# The mean Earth radius (IUGG), in metres.
EARTH_RADIUS_M = 6_371_008.8


def metres_apart(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """The great-circle (haversine) distance between two WGS84 points, in metres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    h = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def alert_distance(alert: Alert, event: Event) -> float:
    """How far the alert's camera is from the event, in metres."""
    return metres_apart(alert.lon, alert.lat, event.lon, event.lat)


def attachable_at(alert: Alert, event: Event) -> bool:
    """Whether the alert is at the event's spot: the same grid, or within ATTACH_RADIUS_M."""
    return alert.grid == event.grid or alert_distance(alert, event) <= ATTACH_RADIUS_M


# Who may report: the desk, and the intake gateways, which may do nothing else.
INTAKE: frozenset[Role] = ALL_DESK | {"gateway"}

OTHER_OPS: dict[str, frozenset[Role]] = {
    "report": INTAKE,
    "report_batch": INTAKE,
    "instruct": COMMANDER,
    "handover": COMMANDER,
    "shift_note": COMMANDER,
}


def roles_for(op: str) -> frozenset[Role]:
    """The roles that may issue `op` at all (before jurisdiction and state checks)."""
    if op in STEPS:
        return STEPS[op].roles
    if op in ALERT_OPS:
        return ALERT_OPS[op]
    return OTHER_OPS.get(op, frozenset())


# Levels of authority for approvals (延期, 挂账): an approver must stand above the requester;
# the duty commander is the top and may approve another commander's request.
AUTHORITY: dict[Role, int] = {
    "wall": 0,
    "gateway": 0,
    "community": 1,
    "street": 2,
    "dispatcher": 3,
    "commander": 4,
    "admin": 4,
}


def outranks(approver: Role, requester: Role | None) -> bool:
    """Whether `approver` may approve a request made by someone of role `requester`
    (None: requested before roles were recorded, so only "someone else" applies)."""
    if requester is None:
        return True
    rank, asked = AUTHORITY[approver], AUTHORITY[requester]
    return rank > asked or (approver == "commander" and asked == rank)
