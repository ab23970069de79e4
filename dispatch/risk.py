"""Deadline risk (issue 15 item 4): for each open case, the chance it misses a deadline.

Learned from the cases the store keeps (the last 30 days), explainable and cheap: a
logistic regression over one-hot features, fitted with Newton's method in numpy with an L2
penalty (a Gaussian prior that pulls rare categories, streets and assignees back to the
average), and a smoothed hierarchical late rate (category within street, shrunk to the
category's, shrunk to the district's) that gives the reason the badge shows ("同类案件本街道
近30天超期率 38%"). docs/kpis.md §8 defines every figure; `python -m bench risk` back-tests
it against the naive baseline (the category's historic late rate).

A case is seen at moments of its life: on entering a timed stage (受理, 派遣, 处置, 核查) and
at a quarter, half and three quarters of that stage's time. A moment is a training sample
when the case was not late yet then, and its label is whether it went on to miss a deadline
(any stage's from this one on, or the closure deadline): what the badge predicts. Features:
category, street, assignee, stage × share of the stage's time used, hour of day (3-hour
bands), weekend, priority, class of category × stage, and the open load of the street and of the
assignee at that moment (bands). Nothing here knows about Qt or the event loop.

Each street's forecast counts the cases that turn overdue in the next 24 hours: the risks
of its open cases whose next deadline falls in them, times a scale fitted on the 14 days
before the training (what the same sum said at each day's start against what came of it),
plus its new cases a day that turned overdue the day they came, over those 14 days.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from msgspec.structs import replace

from dispatch.reference import ReferenceData
from protocol.entities import OPEN_STATUSES, Event, Stage, is_overdue, on_hold

DAY = 86400.0
WINDOW_DAYS = 30  # the history a model is trained on
STAGES: tuple[Stage, ...] = ("accept", "dispatch", "handle", "verify")
STAGE_OF_STATUS: dict[str, Stage] = {
    "reported": "accept",
    "accepted": "dispatch",
    "dispatched": "handle",
    "handling": "handle",
    "handled": "verify",
    "verified": "verify",
}
STAGE_NAMES = {"accept": "受理", "dispatch": "派遣", "handle": "处置", "verify": "核查"}
FRACTIONS = (0.0, 0.25, 0.5, 0.75)  # the moments of a stage a case is sampled at
LOAD_BANDS = (0, 2, 5, 10, 20, 40)  # lower bounds of the load bands: 0-1, 2-4, ... 40+
SMOOTH = 10.0  # pseudo-cases a smoothed rate borrows from the level above it
L2 = 5.0  # the penalty on every weight (but the bias): a prior of that many cases' weight
NEWTON_STEPS = 30
HORIZON = DAY  # the forecast's window: the next 24 hours (at 00:00, exactly tomorrow)
ARRIVAL_DAYS = 14  # the past windows the forecast's new cases and its scale are counted over
CALIBRATION_PRIOR = 5.0  # pseudo-cases that keep the open cases' scale near 1
EXACT_STEPS = 4  # Newton steps with the curvature worked out afresh
CST_OFFSET = 8 * 3600.0
# Groups of features (each sample has one token of each), and those a reason may name.
GROUPS = ("b", "c", "s", "a", "u", "h", "w", "p", "cs", "ls", "la")
_NAMED = ("u", "a", "h", "w", "p", "ls", "la")


def _band(n: int) -> int:
    band = 0
    for i, low in enumerate(LOAD_BANDS):
        if n >= low:
            band = i
    return band


def _band_text(band: int) -> str:
    low = LOAD_BANDS[band]
    return f"{low}件以上" if band == len(LOAD_BANDS) - 1 else f"{low}–{LOAD_BANDS[band + 1] - 1}件"


def late_stages(event: Event) -> set[str]:
    """The deadlines a settled case missed: its missed stages, and the closure deadline
    when it closed after it."""
    missed: set[str] = set(event.missed)
    if event.closed_at is not None and event.due_at is not None and event.closed_at > event.due_at:
        missed.add("closure")
    return missed


def first_overdue(event: Event, reference: ReferenceData, until: float) -> float | None:
    """When a case turned overdue (red), as known at `until`: the deadline of the first
    stage it missed, or its closure deadline when it closed after it (or is still open past
    it), whichever came first; None when no deadline of it had passed unmet by `until`.
    (A missed stage's deadline is worked out from the stage's start and limit: an
    extension it had is not counted.)"""
    if event.status == "rejected":
        return None
    times: list[float] = []
    category = reference.category(event.street, event.category)
    if category is not None:
        for stage in STAGES:
            if stage in event.missed:
                start, end = _stage_span(event, stage)
                limit = category.limits.get(stage)
                if start is not None and limit is not None:
                    deadline = reference.deadline(start, limit, event.basis, event.street)
                    if end is None or end > deadline:  # done after it, or not done yet
                        times.append(deadline)
                break
    due = event.due_at
    if due is not None and (event.closed_at if event.closed_at is not None else math.inf) > due:
        times.append(due)
    first = min(times, default=None)
    return first if first is not None and first < until else None


def _stage_span(event: Event, stage: Stage) -> tuple[float | None, float | None]:
    """When a case entered a stage and when it left it (None: not yet)."""
    if stage == "accept":
        return event.reported_at, event.accepted_at
    if stage == "dispatch":
        return event.accepted_at, event.first_dispatched_at
    if stage == "handle":
        return event.first_dispatched_at, event.handled_at
    return event.handled_at, event.closed_at


@dataclass(slots=True)
class Moment:
    """A case at one moment: what the model sees."""

    event: Event
    at: float
    stage: Stage
    used: float  # share of the stage's time used, 0..1
    street_load: int
    assignee_load: int
    label: int = 0


@dataclass
class Loads:
    """Open cases per street and per assignee at any moment, from the cases' times."""

    starts: dict[str, list[float]] = field(default_factory=dict)
    ends: dict[str, list[float]] = field(default_factory=dict)

    @classmethod
    def of(cls, events: Iterable[Event]) -> Loads:
        loads = cls()
        for e in events:
            end = e.closed_at if e.closed_at is not None else math.inf
            if e.status == "rejected":
                end = e.accepted_at or e.updated_at
            loads.starts.setdefault("s:" + e.street, []).append(e.reported_at)
            loads.ends.setdefault("s:" + e.street, []).append(end)
            if e.assignee and e.first_dispatched_at is not None:
                done = e.handled_at if e.handled_at is not None else end
                loads.starts.setdefault("a:" + e.assignee, []).append(e.first_dispatched_at)
                loads.ends.setdefault("a:" + e.assignee, []).append(
                    max(done, e.first_dispatched_at)
                )
        for times in (*loads.starts.values(), *loads.ends.values()):
            times.sort()
        return loads

    def at(self, key: str, moment: float) -> int:
        starts = self.starts.get(key)
        if starts is None:
            return 0
        return max(0, bisect_right(starts, moment) - bisect_right(self.ends[key], moment))


def history_moments(
    events: Iterable[Event], reference: ReferenceData, cutoff: float, since: float
) -> list[Moment]:
    """The training moments of the cases reported in [since, cutoff), as far as their
    outcome was known at `cutoff`: settled by then (their deadlines all judged), or past
    their closure deadline by then (late, whatever happens next). A case still open and
    on time at `cutoff` is left out: its outcome was not known yet. Only moments before
    `cutoff` are used."""
    pool = list(events)
    loads = Loads.of(pool)
    moments: list[Moment] = []
    for e in pool:
        if not since <= e.reported_at < cutoff or e.status == "rejected" or e.due_at is None:
            continue
        settled = e.status not in OPEN_STATUSES and (e.closed_at or math.inf) <= cutoff
        late_by_cutoff = e.due_at < cutoff
        if not settled and not late_by_cutoff:
            continue
        missed = late_stages(e) if settled else {"closure"}
        for m in case_moments(e, reference, cutoff, loads, check_missed=settled):
            m.label = int("closure" in missed or any(s in missed for s in _from(m.stage)))
            moments.append(m)
    return moments


def _from(stage: Stage) -> tuple[Stage, ...]:
    return STAGES[STAGES.index(stage) :]


def case_moments(
    e: Event, reference: ReferenceData, cutoff: float, loads: Loads, *, check_missed: bool
) -> list[Moment]:
    """A settled (or late) case's sampled moments: each stage it went through, at its
    entry and at FRACTIONS of its time, while it was in the stage and not yet late."""
    category = reference.category(e.street, e.category)
    if category is None:
        return []
    out: list[Moment] = []
    for index, stage in enumerate(STAGES):
        if check_missed and any(s in e.missed for s in STAGES[:index]):
            break  # late at an earlier stage: red from then on, not a risk any more
        start, end = _stage_span(e, stage)
        if start is None:
            break
        limit = category.limits.get(stage)
        if limit is None:
            continue
        # A working-time limit runs no faster than natural time: a stage left before a
        # quarter of that has one moment only, and needs no walk through the calendar.
        natural = limit.amount * (3600.0 if limit.unit == "hour" else DAY)
        if end is not None and end <= start + natural * FRACTIONS[1]:
            span = natural
        else:
            span = max(reference.deadline(start, limit, e.basis, e.street) - start, 60.0)
        for fraction in FRACTIONS:
            moment = start + span * fraction
            if moment >= cutoff or (end is not None and moment >= end):
                break
            if e.due_at is not None and moment >= e.due_at:
                break
            assignee = e.assignee if stage in ("handle", "verify") else ""
            out.append(
                Moment(
                    e,
                    moment,
                    stage,
                    fraction,
                    loads.at("s:" + e.street, moment),
                    loads.at("a:" + assignee, moment) if assignee else 0,
                )
            )
    return out


def live_moment(e: Event, now: float, street_load: int, assignee_load: int) -> Moment | None:
    """An open case now, or None when it has no risk to show: settled, on hold, or late
    already (then its countdown is red)."""
    if e.status not in OPEN_STATUSES or on_hold(e) or is_overdue(e, now):
        return None
    stage = STAGE_OF_STATUS[e.status]
    start = {
        "accept": e.reported_at,
        "dispatch": e.accepted_at,
        "handle": e.dispatched_at,
        "verify": e.handled_at,
    }[stage]
    used = 0.0
    if start is not None and e.deadline is not None and e.deadline > start:
        used = min(max((now - start) / (e.deadline - start), 0.0), 0.999)
    assignee = e.assignee if stage in ("handle", "verify") else ""
    return Moment(e, now, stage, used, street_load, assignee_load if assignee else 0)


def _unit(assignee: str) -> str:
    """An assignee as the model tells them apart: a department by its code, every grid
    worker as one (351 workers with a handful of cases each say nothing one by one)."""
    if not assignee:
        return "-"
    return "网格员" if assignee.startswith("网格员") else assignee


def tokens(m: Moment) -> tuple[str, ...]:
    """A moment's features, one token per group of GROUPS."""
    e = m.event
    hour = int(((m.at + CST_OFFSET) % DAY) // 3600)
    weekday = int(((m.at + CST_OFFSET) // DAY + 3) % 7)  # 1970-01-01 was a Thursday
    assignee = e.assignee if m.stage in ("handle", "verify") else ""
    return (
        "b",
        "c:" + e.category,
        "s:" + e.street,
        "a:" + _unit(assignee),
        f"u:{m.stage}:{min(int(m.used * 4), 3)}",
        f"h:{hour // 3}",
        f"w:{int(weekday >= 5)}",
        f"p:{e.priority}",
        f"cs:{e.category[:2]}:{m.stage}",
        f"ls:{_band(m.street_load)}",
        f"la:{_band(m.assignee_load)}",
    )


@dataclass(frozen=True)
class Rates:
    """Smoothed late rates of the training cases (per case, not per moment)."""

    district: float
    category: dict[str, float]
    category_street: dict[tuple[str, str], float]
    assignee: dict[str, float]
    cases: int

    @classmethod
    def of(cls, outcomes: list[tuple[str, str, str, int]]) -> Rates:
        """From (category, street, assignee, late) of each case."""
        n = len(outcomes)
        late = sum(o[3] for o in outcomes)
        district = (late + 0.5) / (n + 1.0)
        by_c: Counter[str] = Counter()
        late_c: Counter[str] = Counter()
        by_cs: Counter[tuple[str, str]] = Counter()
        late_cs: Counter[tuple[str, str]] = Counter()
        by_a: Counter[str] = Counter()
        late_a: Counter[str] = Counter()
        for c, s, a, y in outcomes:
            by_c[c] += 1
            late_c[c] += y
            by_cs[c, s] += 1
            late_cs[c, s] += y
            if a:
                by_a[a] += 1
                late_a[a] += y
        category = {c: (late_c[c] + SMOOTH * district) / (k + SMOOTH) for c, k in by_c.items()}
        category_street = {
            (c, s): (late_cs[c, s] + SMOOTH * category[c]) / (k + SMOOTH)
            for (c, s), k in by_cs.items()
        }
        assignee = {a: (late_a[a] + SMOOTH * district) / (k + SMOOTH) for a, k in by_a.items()}
        return cls(district, category, category_street, assignee, n)

    def of_category(self, category: str) -> float:
        return self.category.get(category, self.district)

    def of_category_street(self, category: str, street: str) -> float:
        return self.category_street.get((category, street), self.of_category(category))


def outcomes_of(moments: Iterable[Moment]) -> list[tuple[str, str, str, int]]:
    """Each case's (category, street, assignee, late) once, from its moments."""
    seen: dict[int, tuple[str, str, str, int]] = {}
    for m in moments:  # a case's first moment is its earliest: its label is the case's
        e = m.event
        seen.setdefault(e.id, (e.category, e.street, e.assignee, m.label))
    return list(seen.values())


@dataclass(frozen=True)
class Risk:
    """One open case's risk: the probability and why."""

    p: float
    why: str


@dataclass
class RiskModel:
    """A trained model: token index, weights, rates for the reasons, the forecast's parts."""

    index: dict[str, int]
    weights: np.ndarray
    rates: Rates
    trained_at: float
    samples: int
    # street: cases a day, over the last ARRIVAL_DAYS windows of HORIZON, that were reported
    # and turned overdue within the same window (the forecast's part for new cases)
    new_overdue: dict[str, float] = field(default_factory=dict)
    open_scale: float = 1.0  # the open cases' part's calibration (`open_scale`)
    # Reasons already written, by what they depend on: a case's text is made once per
    # change of its features, not every few seconds.
    _reasons: dict[tuple[object, ...], str] = field(default_factory=dict, repr=False)

    def logits(self, moments: list[Moment]) -> np.ndarray:
        if not moments:
            return np.zeros(0)
        idx = np.array([[self.index.get(t, 0) for t in tokens(m)] for m in moments])
        logit: np.ndarray = self.weights[idx].sum(axis=1)
        return logit

    def predict(self, moments: list[Moment]) -> np.ndarray:
        """The probability each moment's case misses a deadline from here on."""
        return _sigmoid(self.logits(moments))

    def explain(self, m: Moment) -> str:
        """Why, in Chinese: the case's kind's late rate in its street over the window, and
        the one other feature that raises its odds most (when one does markedly)."""
        e = m.event
        toks = tokens(m)
        key = (toks, e.assignee, int(m.used * 100), m.street_load, m.assignee_load, e.priority)
        known = self._reasons.get(key)
        if known is not None:
            return known
        if len(self._reasons) > 50_000:
            self._reasons.clear()
        self._reasons[key] = why = self._explain(m, toks)
        return why

    def _explain(self, m: Moment, toks: tuple[str, ...]) -> str:
        e = m.event
        rate = self.rates.of_category_street(e.category, e.street)
        parts = [f"同类案件本街道近{WINDOW_DAYS}天超期率 {round(rate * 100)}%"]
        best, best_weight = "", 0.4  # log-odds: a factor of 1.5
        for group, token in zip(GROUPS, toks, strict=True):
            if group not in _NAMED:
                continue
            weight = float(self.weights[self.index.get(token, 0)])
            if weight > best_weight:
                best, best_weight = group, weight
        if best == "u":
            parts.append(f"{STAGE_NAMES[m.stage]}时限已用{int(m.used * 100)}%")
        elif best == "a":
            rate_a = self.rates.assignee.get(e.assignee, self.rates.district)
            parts.append(f"承办单位近{WINDOW_DAYS}天超期率 {round(rate_a * 100)}%")
        elif best == "h":
            band = int(toks[5][2:]) * 3
            parts.append(f"{band}–{band + 3}时段办理较慢")
        elif best == "w":
            parts.append("周末")
        elif best == "p":
            parts.append(f"{e.priority}级案件")
        elif best == "ls":
            parts.append(f"本街道在办{_band_text(_band(m.street_load))}")
        elif best == "la":
            parts.append(f"承办单位在办{_band_text(_band(m.assignee_load))}")
        return "；".join(parts)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))
    return out


def fit(
    moments: list[Moment], l2: float = L2, steps: int = NEWTON_STEPS
) -> tuple[dict[str, int], np.ndarray]:
    """The penalised maximum-likelihood weights (Newton's method; deterministic)."""
    counts: Counter[str] = Counter()
    rows = [tokens(m) for m in moments]
    for row in rows:
        counts.update(row)
    index = {"?": 0}
    for token in sorted(counts):
        index[token] = len(index)
    size = len(index)
    idx = np.array([[index[t] for t in row] for row in rows], dtype=np.int64).reshape(
        -1, len(GROUPS)
    )
    labels = np.array([m.label for m in moments], dtype=np.float64)
    # Moments alike in every feature are one row, weighed by how many there are.
    idx, inverse_rows = np.unique(idx, axis=0, return_inverse=True)
    inverse_rows = inverse_rows.ravel()
    count = np.bincount(inverse_rows).astype(np.float64)
    late = np.bincount(inverse_rows, weights=labels, minlength=len(count))
    y = late / np.maximum(count, 1.0)  # the late share of each row
    w = np.zeros(size)
    penalty = np.full(size, l2)
    penalty[index.get("b", 0)] = 1e-6
    groups = idx.shape[1]
    if len(labels):
        positives = float(labels.sum())
        w[index["b"]] = math.log((positives + 0.5) / (len(labels) - positives + 0.5))
    inverse = np.zeros((size, size))
    for step_number in range(steps):
        p = _sigmoid(w[idx].sum(axis=1))
        residual = count * (p - y)
        gradient = np.bincount(idx.ravel(), weights=np.repeat(residual, groups), minlength=size)
        gradient += penalty * w
        if step_number < EXACT_STEPS:  # then the last curvature serves (quasi-Newton)
            s = count * p * (1.0 - p)
            hessian = np.zeros((size, size))
            for a in range(groups):
                for b in range(a, groups):
                    pairs = idx[:, a] * size + idx[:, b]
                    block = np.bincount(pairs, weights=s, minlength=size * size)
                    block = block.reshape(size, size)
                    hessian += block if a == b else block + block.T
            hessian[np.diag_indices(size)] += penalty
            inverse = np.linalg.inv(hessian)
        step = inverse @ gradient
        largest = float(np.abs(step).max())
        if largest > 1.0:  # a damped step: Newton's full one can overshoot from far away
            step *= 1.0 / largest
        w -= step
        if largest < 1e-5:
            break
    return index, w


def train(
    events: Iterable[Event], reference: ReferenceData, now: float, window_days: int = WINDOW_DAYS
) -> RiskModel | None:
    """A model from the cases reported in the last `window_days` before `now` (as far as
    their outcomes were known at `now`), or None when there is too little history (fewer
    than 50 moments, or none late)."""
    pool = list(events)
    since = now - window_days * DAY
    moments = history_moments(pool, reference, now, since)
    if len(moments) < 50 or not any(m.label for m in moments):
        return None
    index, weights = fit(moments)
    outcomes = outcomes_of(moments)
    rates = Rates.of(outcomes)
    # The new cases' part of the forecast: over each of the last ARRIVAL_DAYS windows of
    # HORIZON before `now` (aligned to it), the cases reported in the window that turned
    # overdue before its end; a window's outcomes are all known by `now`.
    recent = now - ARRIVAL_DAYS * HORIZON
    turned: Counter[str] = Counter()
    for e in pool:
        if not recent <= e.reported_at < now:
            continue
        turned[e.street] += 0  # a street with cases and none overdue forecasts 0
        window_end = e.reported_at + ((now - e.reported_at) % HORIZON or HORIZON)
        first = first_overdue(e, reference, now)
        if first is not None and first < window_end:
            turned[e.street] += 1
    model = RiskModel(
        index,
        weights,
        rates,
        now,
        len(moments),
        {s: n / ARRIVAL_DAYS for s, n in sorted(turned.items())},
    )
    model.open_scale = open_scale(model, pool, reference, now)
    return model


def open_scale(model: RiskModel, pool: list[Event], reference: ReferenceData, now: float) -> float:
    """The forecast's scale for its open cases' part, fitted on the training window: at the
    start of each of the last ARRIVAL_DAYS windows of HORIZON (their outcomes all known by
    `now`), the cases open and on time then as they stood (`state_at`), the sum of their
    risks (those whose next deadline fell in the window) against how many of them turned
    overdue in it; (turned + CALIBRATION_PRIOR) / (sum + CALIBRATION_PRIOR)."""
    since = now - ARRIVAL_DAYS * HORIZON
    # Only cases open at some point of those windows can count.
    alive = [e for e in pool if e.reported_at < now and (e.closed_at or math.inf) > since]
    by_id = {e.id: e for e in alive}
    said = came = 0.0
    for k in range(1, ARRIVAL_DAYS + 1):
        start = now - k * HORIZON
        moments = _live(state_at(alive, reference, start), start)
        for m, p in zip(moments, model.predict(moments), strict=True):
            if _next_deadline(m.event) < start + HORIZON:
                said += float(p)
                # The case as stored (its later times: when it closed, what it missed).
                turned = first_overdue(by_id[m.event.id], reference, now)
                came += turned is not None and start <= turned < start + HORIZON
    return (came + CALIBRATION_PRIOR) / (said + CALIBRATION_PRIOR)


def state_at(events: list[Event], reference: ReferenceData, moment: float) -> list[Event]:
    """The cases open at `moment` as they stood then, from their stored times: the status
    of the stage they were in, that stage's deadline, late if it had passed. (Holds and
    extensions are not rebuilt.) What the forecast's calibration and its back-test replay."""
    out = []
    for e in events:
        if e.reported_at > moment or e.status == "rejected":
            continue
        if e.closed_at is not None and e.closed_at <= moment:
            continue
        category = reference.category(e.street, e.category)
        if category is None:
            continue
        if e.accepted_at is None or e.accepted_at > moment:
            status, start, stage = "reported", e.reported_at, "accept"
        elif e.first_dispatched_at is None or e.first_dispatched_at > moment:
            status, start, stage = "accepted", e.accepted_at, "dispatch"
        elif e.handled_at is None or e.handled_at > moment:
            status, start, stage = "handling", e.first_dispatched_at, "handle"
        else:
            status, start, stage = "handled", e.handled_at, "verify"
        limit = category.limits.get(stage)  # a stage without a limit has no deadline
        deadline = None if limit is None else reference.deadline(start, limit, e.basis, e.street)
        out.append(
            replace(
                e,
                status=status,
                deadline=deadline,
                dispatched_at=e.first_dispatched_at if stage in ("handle", "verify") else None,
                handled_at=e.handled_at if stage == "verify" else None,
                overdue=deadline is not None and deadline < moment,
                hold=None,
                closed_at=None,
            )
        )
    return out


@dataclass
class Assessment:
    """The risks of the open cases at one moment, and each street's forecast for tomorrow."""

    at: float
    cases: dict[int, Risk]
    forecast: dict[str, float]


def assess(
    model: RiskModel, events: Mapping[int, Event] | Iterable[Event], now: float
) -> Assessment:
    """Every open case's risk now (cases late already, held or settled have none), and each
    street's expected number of cases that turn overdue in the next HORIZON: the risks of
    its open cases whose next deadline falls in it (no other can turn red in it) plus the
    cases a window that were reported and turned overdue within the same window, over the
    last ARRIVAL_DAYS (docs/kpis.md §8)."""
    pool = list(events.values()) if isinstance(events, Mapping) else list(events)
    moments = _live(pool, now)
    probabilities = model.predict(moments)
    cases: dict[int, Risk] = {}
    forecast: dict[str, float] = dict(model.new_overdue)
    for m, p in zip(moments, probabilities, strict=True):
        value = round(float(p), 3)
        cases[m.event.id] = Risk(value, model.explain(m))
        if _next_deadline(m.event) < now + HORIZON:
            street = m.event.street
            forecast[street] = forecast.get(street, 0.0) + model.open_scale * float(p)
    return Assessment(now, cases, {s: round(v, 2) for s, v in sorted(forecast.items())})


def _live(pool: list[Event], now: float) -> list[Moment]:
    """The open cases that have a risk now, with the loads of their street and assignee."""
    street_load: Counter[str] = Counter()
    assignee_load: Counter[str] = Counter()
    for e in pool:
        if e.status in OPEN_STATUSES:
            street_load[e.street] += 1
            if e.assignee and e.status in ("dispatched", "handling"):
                assignee_load[e.assignee] += 1
    return [
        m
        for e in pool
        if (m := live_moment(e, now, street_load[e.street], assignee_load[e.assignee])) is not None
    ]


def _next_deadline(e: Event) -> float:
    """The first deadline ahead of an open case: its stage's or its closure deadline."""
    ahead = [t for t in (e.deadline, e.due_at) if t is not None]
    return min(ahead, default=math.inf)
