"""The desktop's Qt-free replica of the backend state, fed by units, snapshots and deltas.

`apply` returns what changed, so the GUI layer can coalesce many messages into one model
update per frame; nothing here knows about Qt.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeGuard

import msgspec

from protocol.entities import OPEN_STATUSES, Alert, Duty, Event, Kpi, Reference, is_overdue
from protocol.messages import (
    RISK_SHOWN_FROM,
    CaseRisk,
    Categories,
    Delta,
    Kpis,
    People,
    Risk,
    ServerMessage,
    Snapshot,
    Units,
    Welcome,
)
from protocol.retention import FINAL_STATUSES, View, prune_settled


def _settled(data: Event | Alert | Duty) -> TypeGuard[Event | Alert]:
    """Whether a delta's entity is finished (an event) or settled (an alert)."""
    if isinstance(data, Event):
        return data.status in FINAL_STATUSES
    return isinstance(data, Alert) and data.status != "new"


@dataclass(slots=True)
class Changes:
    """What one or more applied messages changed; `merge` folds a later one in."""

    reset: bool = False  # everything was replaced (snapshot)
    units: bool = False
    # The category table changed (units.categories and .detections; nothing else of them).
    categories: bool = False
    events: set[int] = field(default_factory=set)  # ids added or updated
    new_events: set[int] = field(default_factory=set)  # ids seen for the first time
    alerts: set[int] = field(default_factory=set)
    new_alerts: set[int] = field(default_factory=set)
    duty: bool = False
    kpis: bool = False
    people: bool = False  # the users' display names changed (welcome, people)
    risks: set[int] = field(default_factory=set)  # ids whose deadline risk changed
    forecast: bool = False  # the streets' forecast of tomorrow's overdue cases changed

    def merge(self, later: Changes) -> None:
        """Fold a later change set into this one."""
        self.reset |= later.reset
        self.units |= later.units
        self.categories |= later.categories
        self.events |= later.events
        self.alerts |= later.alerts
        # New means new since the last snapshot: whatever a later one brought is its state.
        if later.reset:
            self.new_events = set(later.new_events)
            self.new_alerts = set(later.new_alerts)
        else:
            self.new_events |= later.new_events
            self.new_alerts |= later.new_alerts
        self.duty |= later.duty
        self.kpis |= later.kpis
        self.people |= later.people
        self.risks |= later.risks
        self.forecast |= later.forecast

    def __bool__(self) -> bool:
        return bool(
            self.reset
            or self.units
            or self.categories
            or self.events
            or self.alerts
            or self.duty
            or self.kpis
            or self.people
            or self.risks
            or self.forecast
        )


MIN_PACE_INTERVAL = 0.5  # seconds between two readings of the clock to judge its pace by
MAX_PACE = 100_000.0  # district seconds per real second: beyond any simulator speed

_UNIT_SUFFIXES = ("街道办事处", "街道", "社区", "镇", "乡")


def short_name(name: str) -> str:
    """A unit's name without its kind (菱湖街道 → 菱湖), for where the full one does not fit."""
    for suffix in _UNIT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


class ReplicaError(Exception):
    """The stream broke the protocol's promises (a seq going backwards in an epoch)."""


class ApplyFailed(ReplicaError):
    """A message could not be applied; those before it were (their changes are in `into`)."""

    def __init__(self, index: int, message: ServerMessage) -> None:
        super().__init__(f"could not apply message {index} (a {type(message).__name__})")
        self.index = index
        self.message = message


class Replica:
    """Events, alerts, duty, KPIs and units as the server last described them."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic, view: View = "all") -> None:
        # What the server is asked to send (hello.view), and what is kept of later deltas:
        # an "open" replica forgets a case the moment it is finished.
        self.view: View = view
        self.epoch: str | None = None
        self.seq = 0
        self.units: Reference | None = None
        self.units_version: str | None = None
        self.events: dict[int, Event] = {}
        # Who brought each case's current state (actor, action, at), from its last delta:
        # the desk says "已由张三受理" when someone got there first. Unknown after a snapshot.
        self.last_change: dict[int, tuple[str, str, float]] = {}
        self.alerts: dict[int, Alert] = {}
        # The duty in force of the user's district (of several: the first's).
        self.duty: Duty | None = None
        # Each district's, by code, for a user who sees several districts of a city.
        self.duties: dict[str, Duty] = {}
        self.kpis: dict[str, Kpi] = {}
        self.kpis_month: dict[str, Kpi] = {}  # this month's, for rankings
        # The backend is still catching up on the day after a start: the figures are partial.
        self.kpis_partial = False
        # No node of the backend writes (a gateway told so): commands wait, figures stand still.
        self.no_writer = False
        self.kpis_at = 0.0  # the district clock when last heard
        self._monotonic = monotonic
        self._heard_at = 0.0  # monotonic time it was last heard
        self._pace = 1.0  # district seconds per real second
        self.user = ""
        self.role = ""
        self.jurisdiction: list[str] = []
        # The name each user is shown by (welcome.people, then people messages).
        self.people: dict[str, str] = {}
        # Deadline risk (`risk` messages): each open case's chance of missing a deadline
        # and why; each street's expected overdue cases tomorrow.
        self.risk: dict[int, CaseRisk] = {}
        self.forecast: dict[str, float] = {}
        # Lookups derived from the units, rebuilt when their version changes.
        self._names: dict[str, str] = {}
        self._short_forms: dict[str, tuple[str, ...]] = {}
        self._lookups_version: str | None = None

    def apply_all(self, messages: Sequence[ServerMessage], into: Changes | None = None) -> Changes:
        """Apply messages in order; return what they changed, together (in `into` if given,
        so what the messages before a failing one changed is kept: see ApplyFailed)."""
        total = into if into is not None else Changes()
        for index, message in enumerate(messages):
            try:
                if isinstance(message, Delta):
                    self._delta(message, total)
                else:
                    total.merge(self.apply(message))
            except Exception as exc:
                raise ApplyFailed(index, message) from exc
        return total

    def apply(self, message: ServerMessage) -> Changes:
        """Apply one server message; return what it changed (empty for results/errors)."""
        if isinstance(message, Delta):
            changes = Changes()
            self._delta(message, changes)
            return changes
        if isinstance(message, Kpis):
            self.kpis = dict(message.scopes)
            self.kpis_month = dict(message.month)
            self.kpis_partial = message.catching_up
            self.no_writer = message.no_writer
            self._hear_clock(message.at)
            return Changes(kpis=True)
        if isinstance(message, Risk):
            return self._risk(message)
        if isinstance(message, Snapshot):
            return self._snapshot(message)
        if isinstance(message, Units):
            self.units = message.reference
            self.units_version = message.version
            return Changes(units=True)
        if isinstance(message, Categories):
            if self.units is None:  # never before the units; nothing to patch
                return Changes()
            self.units = msgspec.structs.replace(
                self.units, categories=message.categories, detections=message.detections
            )
            self.units_version = message.version
            return Changes(categories=True)
        if isinstance(message, People):
            self.people = dict(message.people)
            return Changes(people=True)
        if isinstance(message, Welcome):
            # The district clock moves on with the welcome too: a replay after an outage must
            # not look "just reported" against a clock stopped at the outage.
            if message.server_time > self.kpis_at:
                self._hear_clock(message.server_time)
            self.user, self.role = message.user, message.role
            self.jurisdiction = list(message.jurisdiction)
            if message.resume == "replay" and message.epoch != self.epoch:
                raise ReplicaError("replay offered for another epoch")
            people = dict(message.people)
            if people != self.people:
                self.people = people
                return Changes(people=True)
        return Changes()

    def _risk(self, message: Risk) -> Changes:
        changed = set(message.cases) | set(message.gone)
        if message.full:
            changed |= set(self.risk)
            self.risk = dict(message.cases)
        else:
            for event_id in message.gone:
                self.risk.pop(event_id, None)
            self.risk.update(message.cases)
        if message.full or message.forecast:  # a forecast, when sent, is whole
            self.forecast = dict(message.forecast)
        return Changes(risks=changed, forecast=message.full or bool(message.forecast))

    def shown_risk(self, event: Event, now: float) -> CaseRisk | None:
        """The risk badge a case shows now, if any: its risk when it is at least
        RISK_SHOWN_FROM and the case is open and not late (once late, its countdown is red
        and says more than a risk)."""
        risk = self.risk.get(event.id)
        if risk is None or risk.p < RISK_SHOWN_FROM or event.status not in OPEN_STATUSES:
            return None
        if is_overdue(event, now):
            return None
        if event.deadline is not None and event.deadline < now:
            return None
        return risk

    def _snapshot(self, snapshot: Snapshot) -> Changes:
        self.epoch = snapshot.epoch
        self.seq = snapshot.seq
        self.events = {e.id: e for e in snapshot.events}
        self.last_change = {}
        self.alerts = {a.id: a for a in snapshot.alerts}
        self.duty = snapshot.duty
        self.duties = dict(snapshot.duties)
        self.kpis = dict(snapshot.kpis)
        self.kpis_month = dict(snapshot.kpis_month)
        self.kpis_partial = snapshot.kpis_catching_up
        self.no_writer = False  # perhaps another node now: its next `kpis` says
        return Changes(
            reset=True,
            events=set(self.events),
            alerts=set(self.alerts),
            duty=True,
            kpis=True,
        )

    def _delta(self, delta: Delta, changes: Changes) -> None:
        """Apply a delta, adding what it changed to `changes`."""
        if delta.seq <= self.seq:
            # Already applied (a defensive check: the server never repeats a seq).
            return
        self.seq = delta.seq
        data = delta.data
        if self.view == "open" and _settled(data):
            self._forget(data, changes)
        elif isinstance(data, Event):
            if data.id not in self.events:
                changes.new_events.add(data.id)
            self.events[data.id] = data
            self.last_change[data.id] = (delta.actor, delta.action, delta.at)
            changes.events.add(data.id)
        elif isinstance(data, Alert):
            if data.id not in self.alerts:
                changes.new_alerts.add(data.id)
            self.alerts[data.id] = data
            changes.alerts.add(data.id)
        else:
            self._duty(data)
            changes.duty = True

    def _duty(self, duty: Duty) -> None:
        """Take a district's new duty: the user's own district's (its first), and each
        one's when the user sees several."""
        several = self.units.districts if self.units is not None else {}
        first = next(iter(several)) if several else ""
        district = duty.district or first
        if not several or district == first:
            self.duty = duty  # one district's user is sent its district's duty only
        if several:
            self.duties[district] = duty

    def _forget(self, data: Event | Alert, changes: Changes) -> None:
        """Drop an entity the view does not keep (reported as changed if it was held)."""
        if isinstance(data, Event):
            self.last_change.pop(data.id, None)
            if self.events.pop(data.id, None) is not None:
                changes.events.add(data.id)
        elif self.alerts.pop(data.id, None) is not None:
            changes.alerts.add(data.id)

    def person(self, name: str) -> str:
        """How a user is shown: by their display name, else by the name itself (a user
        without one, the clock's "system", the simulator's actors, units)."""
        return self.people.get(name, name)

    def names(self) -> dict[str, str]:
        """Code -> name of every unit, category and detection kind the units know (cached per
        units version; empty before the units arrive)."""
        self._refresh_lookups()
        return self._names

    def grid_short_forms(self) -> dict[str, tuple[str, ...]]:
        """Grid code -> shorter forms of its name, longest first, for narrow columns
        (华茂社区第3网格 -> 华茂第3网格, 华…第3网格); cached per units version."""
        self._refresh_lookups()
        return self._short_forms

    def _refresh_lookups(self) -> None:
        if self._lookups_version == self.units_version:
            return
        units = self.units
        names: dict[str, str] = {}
        forms: dict[str, tuple[str, ...]] = {}
        if units is not None:
            for group in (units.streets, units.communities, units.grids, units.categories):
                names.update((u.code, u.name) for u in group)
            names.update(units.detections)
            # A district user's jurisdiction is its district's code (a city of districts).
            names[units.district] = units.district_name
            for grid in units.grids:
                community = names.get(grid.community, "")
                if not community or not grid.name.startswith(community):
                    continue
                # A shorter form is still a whole name (华茂第3网格, never 华茂第3, which reads
                # as a name of its own); narrower, the place is cut with "…" before the
                # grid's number, which stays (花亭…第12网格).
                place = short_name(community)
                tail = grid.name[len(community) :]
                cut = [place[:n] + "…" + tail for n in range(len(place) - 1, 0, -1)]
                forms[grid.code] = tuple(
                    f for f in dict.fromkeys([place + tail, *cut]) if f != grid.name
                )
        self._names, self._short_forms = names, forms
        self._lookups_version = self.units_version

    @property
    def syncing(self) -> bool:
        """Whether a state is in but not whole: the backend is still catching up on the day
        (replaying it after a start), so its cases, alerts and figures are a part of the day;
        nothing shown from them may pass for the day as it is."""
        return self.epoch is not None and self.kpis_partial

    def now(self) -> float:
        """The district clock: as last heard (KPI pushes and the welcome carry it), moved on
        since at the pace it has been keeping; 0 before it was first heard."""
        if not self.kpis_at:
            return 0.0
        return self.kpis_at + (self._monotonic() - self._heard_at) * self._pace

    def district_at(self, moment: float) -> float:
        """The district clock at a past wall-clock moment (`time.time()` then), reckoned back
        from now at the clock's pace; 0 before the clock was first heard."""
        if not self.kpis_at:
            return 0.0
        return self.now() - max(0.0, time.time() - moment) * self._pace

    def _hear_clock(self, at: float) -> None:
        # Between pushes (seconds apart; none while the link is down) deadlines keep passing:
        # the clock runs on at the pace of the last two readings (1 in production, the
        # simulator's speed in a demo).
        heard = self._monotonic()
        elapsed = heard - self._heard_at
        if self.kpis_at and at > self.kpis_at and elapsed >= MIN_PACE_INTERVAL:
            self._pace = min(max((at - self.kpis_at) / elapsed, 1.0), MAX_PACE)
        self.kpis_at, self._heard_at = at, heard

    def prune(self, now: float) -> Changes:
        """Forget what the backend has forgotten (the same retention rule); report removals."""
        alerts_before = set(self.alerts)
        gone = prune_settled(self.events, self.alerts, now, self.view)
        for event_id in gone:
            self.last_change.pop(event_id, None)
        return Changes(events=set(gone), alerts=alerts_before - set(self.alerts))

    # ---- the time machine's (desktop/core/time_machine.py) -------------------------------

    def copy(self) -> Replica:
        """Another replica holding the same state (its own containers: applying to one
        leaves the other as it was)."""
        other = Replica(self._monotonic, self.view)
        other.take_state(self)
        return other

    def take_state(self, other: Replica) -> None:
        """Hold what `other` holds, as it holds it now (its containers copied)."""
        self.view, self.epoch, self.seq = other.view, other.epoch, other.seq
        self.units, self.units_version = other.units, other.units_version
        self.events, self.alerts = dict(other.events), dict(other.alerts)
        self.last_change = dict(other.last_change)
        self.duty, self.duties = other.duty, dict(other.duties)
        self.kpis, self.kpis_month = dict(other.kpis), dict(other.kpis_month)
        self.kpis_partial, self.no_writer = other.kpis_partial, other.no_writer
        self.kpis_at, self._heard_at, self._pace = other.kpis_at, other._heard_at, other._pace
        self.user, self.role = other.user, other.role
        self.jurisdiction = list(other.jurisdiction)
        self.people = dict(other.people)
        self.risk, self.forecast = dict(other.risk), dict(other.forecast)

    def load_moment(
        self,
        epoch: str,
        seq: int,
        events: Sequence[Event],
        alerts: Sequence[Alert],
        duty: Duty | None,
        kpis: dict[str, Kpi],
        duties: dict[str, Duty] | None = None,
    ) -> None:
        """Hold a past moment's state (a `replay` answer): its cases, alerts, duty and the
        day's figures then; no month's figures, no risk, no forecast (none was kept)."""
        self.epoch, self.seq = epoch, seq
        self.events = {e.id: e for e in events}
        self.alerts = {a.id: a for a in alerts}
        self.last_change = {}
        self.duty, self.duties = duty, dict(duties or {})
        self.kpis, self.kpis_month = dict(kpis), {}
        self.kpis_partial = False
        self.risk, self.forecast = {}, {}

    def set_clock(self, at: float, pace: float) -> None:
        """Set the district clock: at `at` now, moving on at `pace` (0: standing still)."""
        self.kpis_at, self._heard_at, self._pace = at, self._monotonic(), pace

    def resume_point(self) -> tuple[str, int] | None:
        """(epoch, seq) to resume from, once a snapshot has been applied."""
        return (self.epoch, self.seq) if self.epoch is not None else None
