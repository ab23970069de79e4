"""Which actions the desk offers on a case: those the backend would accept from me now.

The table of ops, statuses and roles is the one the backend enforces (protocol.workflow);
the conditions on flags and people mirror dispatch/ops.py's refusals, so an action that
would be refused is not offered. The backend still checks everything: a case may change
between the offer and the click, and its refusal is then shown (desktop/core/refusals.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from desktop.core.todo import Me
from protocol.entities import Category, CategoryLimit, Department, Event, Reference, on_hold
from protocol.workflow import FINAL_STATUSES, STEPS, outranks

# A unit code's first six digits are its district (a city's user holds several districts').
DISTRICT_DIGITS = 6

# The order the desk shows them in: the loop's next step first, then the side paths.
ORDER: tuple[str, ...] = (
    "accept",
    "reject",
    "classify",
    "dispatch",
    "acknowledge",
    "start",
    "handled",
    "verify",
    "close",
    "evaluate",
    "return_case",
    "request_extension",
    "decide_extension",
    "request_hold",
    "decide_hold",
    "release_hold",
    "escalate",
    "supervise",
    "consult",
    "decide",
    "end_consult",
    "instruct",
    "reopen",
)

# The main step of each status: the one the Enter key / first button goes to.
MAIN: dict[str, str] = {
    "reported": "accept",
    "accepted": "dispatch",
    "dispatched": "acknowledge",
    "handling": "handled",
    "handled": "verify",
    "verified": "close",
    "closed": "evaluate",
}


def available(event: Event, me: Me, now: float) -> list[str]:
    """The ops `me` may take on `event` now, in ORDER."""
    return [op for op in ORDER if _allowed(op, event, me, now)]


def _allowed(op: str, event: Event, me: Me, now: float) -> bool:
    if op == "instruct":
        return me.role in ("commander", "admin") and event.status not in FINAL_STATUSES
    step = STEPS[op]
    if me.role not in step.roles or event.status not in step.sources:
        return False
    held = on_hold(event)
    if held and step.target is not None and step.target != event.status:
        return False  # an approved hold freezes the status until it is released
    check = _CONDITIONS.get(op)
    return check is None or check(event, me, now)


def _pending(event: Event, what: str) -> bool:
    request = event.extension if what == "extension" else event.hold
    return request is not None and request.state == "pending"


def _may_extend(event: Event, me: Me, now: float) -> bool:
    if _pending(event, "extension") or on_hold(event):
        return False
    late = event.deadline is not None and now > event.deadline
    past_due = event.due_at is not None and now > event.due_at
    return not (late or past_due or "closure" in event.missed)


def _may_decide_extension(event: Event, me: Me, now: float) -> bool:
    ext = event.extension
    return (
        ext is not None
        and ext.state == "pending"
        and ext.requested_by != me.user
        and outranks(me.role, ext.requested_role)
    )


def _may_decide_hold(event: Event, me: Me, now: float) -> bool:
    hold = event.hold
    return (
        hold is not None
        and hold.state == "pending"
        and hold.requested_by != me.user
        and outranks(me.role, hold.requested_role)
    )


def _may_request_hold(event: Event, me: Me, now: float) -> bool:
    return event.hold is None or event.hold.state not in ("pending", "approved")


def _not_handler(event: Event, me: Me, now: float) -> bool:
    return me.user != event.handled_by


def _assists_reported(event: Event, me: Me, now: float) -> bool:
    return all(a.reported_at is not None for a in event.assisting)


def _not_signed(event: Event, me: Me, now: float) -> bool:
    return event.acknowledged_at is None and bool(event.assignee)


def _supervisable(event: Event, me: Me, now: float) -> bool:
    return not event.supervised and event.overdue


def triage(event: Event) -> bool:
    """The case waits for triage (待分拨): an intake's type no mapping rule knew."""
    return event.intake is not None and bool(event.intake.triage)


_CONDITIONS: dict[str, Callable[[Event, Me, float], bool]] = {
    # 分拨 is offered for a case waiting for triage; the backend also lets a case be
    # re-classified before dispatch, which the desk does not offer unasked.
    "classify": lambda e, me, now: triage(e),
    "dispatch": lambda e, me, now: not triage(e),
    "acknowledge": _not_signed,
    "handled": _assists_reported,
    "verify": _not_handler,
    "close": _not_handler,
    "request_extension": _may_extend,
    "decide_extension": _may_decide_extension,
    "request_hold": _may_request_hold,
    "decide_hold": _may_decide_hold,
    "release_hold": lambda e, me, now: on_hold(e),
    "escalate": lambda e, me, now: e.level != "district",
    "supervise": _supervisable,
    "consult": lambda e, me, now: not e.consulting,
    "decide": lambda e, me, now: e.consulting,
    "end_consult": lambda e, me, now: e.consulting,
}


def main_action(event: Event, ops: list[str]) -> str | None:
    """The op the case's next step is, if it is on offer."""
    main = "classify" if triage(event) else MAIN.get(event.status)
    return main if main in ops else (ops[0] if ops else None)


# ---- what a dispatch form offers ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit a case can be dispatched to: `value` is what the op takes as assignee."""

    value: str
    name: str
    suggested: bool = False


def dispatch_units(reference: Reference | None, event: Event) -> list[Unit]:
    """Lead units for a case: its grid's worker and its category's department first, then
    every department."""
    if reference is None:
        return []
    units: list[Unit] = []
    grid = next((g for g in reference.grids if g.code == event.grid), None)
    if grid is not None and grid.worker:
        units.append(Unit(f"网格员 {grid.worker}", f"网格员 {grid.worker}", True))
    category = category_of(reference, event.category, event.street)
    suggested = category.department if category is not None else ""
    departments = sorted(
        own_departments(reference, event.street), key=lambda d: (d.code != suggested, d.code)
    )
    for department in departments:
        units.append(Unit(department.code, department.name, department.code == suggested))
    return units


def own_departments(reference: Reference, street: str) -> list[Department]:
    """The departments of `street`'s district: a city's user holds every district's, and a
    case (or an alert) goes to its own district's; all of them when none is marked so."""
    home = street[:DISTRICT_DIGITS]
    own = [d for d in reference.departments if (d.district or reference.district) == home]
    return own or list(reference.departments)


def category_of(reference: Reference | None, code: str, street: str = "") -> Category | None:
    """A category of the units by code: of `street`'s district's table when given (a city's
    user holds every district's, the same code once in each), else the first found."""
    if reference is None:
        return None
    found = [c for c in reference.categories if c.code == code]
    home = street[:DISTRICT_DIGITS]
    mine = [c for c in found if (c.district or reference.district) == home]
    return next(iter(mine or found), None)


def handle_limit(reference: Reference | None, event: Event) -> tuple[CategoryLimit | None, bool]:
    """The case's handling limit from its category, and whether it runs around the clock
    (natural time) rather than in working hours (the backend's calendar decides the date)."""
    category = category_of(reference, event.category, event.street)
    limit = category.limits.get("handle") if category is not None else None
    return limit, event.basis == "natural"
