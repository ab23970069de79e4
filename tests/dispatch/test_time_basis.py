"""Time limits as a linkage centre counts them: natural time for emergencies, working time
for the rest, and deadlines computed on a guessed calendar year marked as such."""

from __future__ import annotations

from datetime import datetime

import pytest

from dispatch.domain.calendar import CST
from dispatch.state import Actor, State
from protocol import commands as c
from tests.dispatch.conftest import LINGHU, point_in

COMMANDER = Actor("指挥长", "commander")
FRIDAY_18 = datetime(2026, 11, 27, 18, 0, tzinfo=CST).timestamp()
SUNDAY_10 = datetime(2026, 11, 29, 10, 0, tzinfo=CST).timestamp()
MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=CST).timestamp()


def report(reference, category: str, at: float, priority: int | None = None):  # type: ignore[no-untyped-def]
    state = State(reference)
    lon, lat = point_in(reference, LINGHU)
    args = c.Report(category=category, title="t", lon=lon, lat=lat, priority=priority)
    event_id = int(state.apply(COMMANDER, "report", args, at).data["event"])
    return state.events[event_id]


def test_a_gas_leak_on_friday_evening_is_accepted_that_evening(reference) -> None:
    event = report(reference, "04-03", FRIDAY_18)  # 燃气管道破裂, natural time
    limit = reference.categories["04-03"].limits["accept"]
    assert event.basis == "natural"
    assert event.deadline == pytest.approx(FRIDAY_18 + limit.amount * 3600)
    assert event.deadline < MONDAY_9


def test_an_urgent_case_of_a_working_time_category_runs_around_the_clock(reference) -> None:
    routine = report(reference, "01-02", SUNDAY_10)  # 暴露垃圾: working time
    urgent = report(reference, "01-02", SUNDAY_10, priority=1)
    assert routine.basis == "working" and urgent.basis == "natural"
    assert routine.deadline is not None and routine.deadline > MONDAY_9  # counts from Monday
    assert urgent.deadline is not None and urgent.deadline < MONDAY_9


def test_deadlines_through_a_guessed_year_are_marked(reference) -> None:
    # 2027 has no official notice yet (an estimate ships): a 20-working-day limit reported
    # in late December runs into it; one reported in November does not.
    december = datetime(2026, 12, 28, 10, tzinfo=CST).timestamp()
    assert report(reference, "01-01", december).calendar_guess  # 私搭乱建, 20 working days
    assert not report(reference, "01-01", MONDAY_9).calendar_guess
    # Natural time does not use the calendar at all.
    assert not report(reference, "04-03", december).calendar_guess
