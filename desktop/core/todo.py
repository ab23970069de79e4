"""我的待办: which cases wait for *my* action, by role, jurisdiction and stage, without Qt.

The backend already sends a user only what their jurisdiction covers; here each case is put
in the to-do tabs of the role that must act on it now (protocol.entities.responsible), kept
up per change, so a frame with a few changed cases costs a few lookups whatever the list's
size. The ui words the tab keys.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from protocol.entities import Event, Role, is_overdue, on_hold, responsible
from protocol.workflow import CENTRE, CLOSERS, COMMANDER, outranks

TabKey = Literal[
    "triage",  # 待分拨: an intake case whose type no mapping rule knew, to classify
    "accept",  # 待受理: reported, waiting for intake
    "dispatch",  # 待派遣: accepted (or sent back), waiting for a lead unit
    "working",  # 处置中: with the lead unit; tracked, escalated, extended from here
    "verify",  # 待核查: handled, waiting for the check on site
    "close",  # 待结案: verified, waiting for closure
    "approve",  # 待审批: an extension or hold this user may decide
    "district",  # 区级案件: escalated to the district, the duty commander's
    "consult",  # 会商中: in consultation
    "supervise",  # 待督办: overdue and not yet supervised
    "overdue",  # 超期: every case of this list that is late now
]

# The tabs each role works in, in the order they are shown.
TABS: dict[Role, tuple[TabKey, ...]] = {
    "street": ("accept", "dispatch", "working", "verify", "close", "overdue"),
    "community": ("accept", "dispatch", "working", "verify", "overdue"),
    # A dispatcher (分拨) finds the cases an intake could not put in a category first.
    "dispatcher": ("triage", "approve", "supervise", "district", "overdue"),
    "commander": ("district", "consult", "approve", "supervise", "overdue"),
    "admin": (
        "accept",
        "dispatch",
        "triage",
        "working",
        "verify",
        "close",
        "approve",
        "district",
        "consult",
        "supervise",
        "overdue",
    ),
    "wall": (),
    "gateway": (),
}

# Who is told of a case new to their list (the header's line, a chime, a desktop
# notification), decided per role: those who work cases. An admin sees every tab (the
# protocol lets an admin act on any case, to put a stuck one right) but is no case's
# handler: a chime for each of the district's new cases would only teach the admin's desk
# to be muted. The wall and the intake gateways have no to-do list at all.
ANNOUNCED: dict[Role, bool] = {
    "street": True,
    "community": True,
    "dispatcher": True,
    "commander": True,
    "admin": False,
    "wall": False,
    "gateway": False,
}

_STAGE_TAB: dict[str, TabKey] = {
    "reported": "accept",
    "accepted": "dispatch",
    "dispatched": "working",
    "handling": "working",
    "handled": "verify",
    "verified": "close",
}


# Where a case waiting for triage may be classified (the op's statuses).
_TRIAGE_STATUSES = frozenset({"reported", "accepted"})


@dataclass(frozen=True, slots=True)
class Me:
    """Who is at the desk: the user's name, role and jurisdiction (street or community
    codes; empty for the whole district)."""

    user: str
    role: Role
    jurisdiction: tuple[str, ...] = ()


def tabs_of(me: Me, event: Event, now: float) -> frozenset[TabKey]:
    """The to-do tabs `event` is in for `me` now (empty: nothing for me to do)."""
    holder = responsible(event)
    role = me.role
    found: set[TabKey] = set()
    if holder is not None:
        if holder in ("street", "assignee") and role in ("street", "community", "admin"):
            tab = _STAGE_TAB.get(event.status)
            # A community workstation works its cases but does not close them (结案).
            if tab is not None and (tab != "close" or role in CLOSERS):
                found.add(tab)
        elif holder == "centre" and role in CENTRE and _may_decide(me, event):
            found.add("approve")
        elif holder == "commander" and role in COMMANDER:
            found.add("district")
    if event.status in _TRIAGE_STATUSES and event.intake is not None and event.intake.triage:
        found.add("triage")  # classify applies before dispatch (protocol.md §7.2)
    if event.status in _STAGE_TAB and not on_hold(event):
        if event.consulting and role in COMMANDER:
            found.add("consult")
        late = is_overdue(event, now)
        if late and not event.supervised and role in CENTRE:
            found.add("supervise")
        if late and found:
            found.add("overdue")
    return frozenset(t for t in found if t in TABS.get(role, ()))


def _may_decide(me: Me, event: Event) -> bool:
    """Whether `me` may decide the case's pending extension or hold: someone else than the
    requester, of a higher level (protocol.workflow.outranks)."""
    for request in (event.extension, event.hold):
        if request is None or request.state != "pending":
            continue
        if request.requested_by != me.user and outranks(me.role, request.requested_role):
            return True
    return False


def due_of(event: Event) -> float | None:
    """The deadline a to-do list counts down to: the current stage's, else the closure's."""
    return event.deadline if event.deadline is not None else event.due_at


@dataclass(slots=True)
class TodoBook:
    """Every case's to-do tabs for one user, kept up per change; counts per tab."""

    me: Me
    tabs: dict[int, frozenset[TabKey]] = field(default_factory=dict)
    members: dict[TabKey, set[int]] = field(default_factory=dict)  # the ids in each tab
    # (closure deadline, id) of open cases: a case turns late by the clock alone, with no
    # change from the backend, and must then move into the overdue tabs.
    _deadlines: list[tuple[float, int]] = field(default_factory=list)
    _queued: dict[int, float] = field(default_factory=dict)  # the deadline queued per case

    def reset(self, events: Iterable[Event], now: float) -> None:
        """Work out every case afresh (after a snapshot, or the user changed)."""
        self.tabs.clear()
        self._deadlines.clear()
        self._queued.clear()
        self.members = {tab: set() for tab in TABS.get(self.me.role, ())}
        for event in events:
            self.update(event.id, event, now)

    def tick(self, events: Mapping[int, Event], now: float) -> set[int]:
        """Re-file the cases whose closure deadline has passed since; their ids, if their
        tabs changed."""
        moved: set[int] = set()
        heap = self._deadlines
        while heap and heap[0][0] <= now:
            due, event_id = heapq.heappop(heap)
            if self._queued.get(event_id) == due:
                del self._queued[event_id]
            if self.update(event_id, events.get(event_id), now):
                moved.add(event_id)
        return moved

    def update(self, event_id: int, event: Event | None, now: float) -> bool:
        """Re-file one case (None: it is gone); whether its tabs changed."""
        old = self.tabs.get(event_id, frozenset())
        new = tabs_of(self.me, event, now) if event is not None else frozenset()
        due = event.due_at if event is not None else None
        if due is not None and due > now and self._queued.get(event_id) != due:
            # A stale entry (the case closed, or its deadline moved) is harmless: re-filing
            # a case that did not change changes nothing.
            self._queued[event_id] = due
            heapq.heappush(self._deadlines, (due, event_id))
        if new == old:
            return False
        for tab in old - new:
            self.members[tab].discard(event_id)
        for tab in new - old:
            self.members.setdefault(tab, set()).add(event_id)
        if new:
            self.tabs[event_id] = new
        else:
            self.tabs.pop(event_id, None)
        return True

    def ids(self, tab: TabKey) -> set[int]:
        """The cases in `tab` (unordered; the book's own set: read, do not keep)."""
        return self.members.get(tab, set())

    def count(self, tab: TabKey) -> int:
        """How many cases are in `tab`."""
        return len(self.members.get(tab, ()))
