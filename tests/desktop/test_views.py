"""The screens' view models without Qt: ranking rows, duty cases, a grid's card, KPI values."""

from __future__ import annotations

from desktop.core.replica import Changes, Replica
from desktop.core.views import (
    DUTY_CASES,
    GRID_CASES,
    CalendarWarning,
    DutyCases,
    KpiValue,
    calendar_warning,
    case_lines,
    grid_card,
    kpi_values,
    ranking_rows,
    stage_late,
)
from protocol.entities import CalendarStatus, Community, Grid, Kpi, Reference, Street
from protocol.messages import Units
from tests.factories import make_event

SQUARE = [[[117.0, 30.5], [117.01, 30.5], [117.01, 30.51], [117.0, 30.5]]]
NOW = 1_800_000_000.0


def reference(**parts: object) -> Reference:
    """A district whose streets are 菱湖街道, 德宽路街道 and 海口镇, with any part given."""
    names = {"340803004": "菱湖街道", "340803002": "德宽路街道", "340803003": "海口镇"}
    values: dict[str, object] = {
        "district": "340803",
        "district_name": "大观区",
        "outline": SQUARE,
        "streets": [
            Street(code=c, name=n, kind="街道", polygon=SQUARE, centre=[117.0, 30.5])
            for c, n in names.items()
        ],
        "communities": [],
        "grids": [],
        "departments": [],
        "cameras": [],
        "categories": [],
    }
    values.update(parts)
    return Reference(**values)  # type: ignore[arg-type]


def test_streets_rank_by_month_score_then_fewer_overdue_then_name() -> None:
    replica = Replica()
    assert ranking_rows(replica) == []  # no units yet
    replica.units = reference()
    replica.kpis = {
        "340803004": Kpi(overdue_now=5, score=96.0),
        "340803002": Kpi(overdue_now=1, score=50.0),  # today's: the month's comes first
        "340803003": Kpi(overdue_now=0, score=84.0),
    }
    replica.kpis_month = {"340803002": Kpi(overdue_now=1, score=96.0)}
    rows = ranking_rows(replica)
    assert [(r.name, r.value, r.overdue, r.tone) for r in rows] == [
        ("德宽路街道", 96.0, 1, "normal"),
        ("菱湖街道", 96.0, 5, "normal"),
        ("海口镇", 84.0, 0, "warn"),
    ]
    # No score yet: ranked as 100 (nothing against it) and says it has none.
    replica.kpis_month = {}
    replica.kpis["340803002"] = Kpi(overdue_now=0)
    replica.kpis["340803003"] = Kpi(score=70.0)
    rows = ranking_rows(replica)
    assert [(r.name, r.score, r.tone) for r in rows] == [
        ("德宽路街道", None, "normal"),
        ("菱湖街道", 96.0, "normal"),
        ("海口镇", 70.0, "alarm"),
    ]
    del replica.kpis["340803003"]  # a street without figures is left out
    assert [r.key for r in ranking_rows(replica)] == ["340803002", "340803004"]


def test_duty_cases_follow_consultation_and_supervised_lateness() -> None:
    replica = Replica()
    replica.events = {
        1: make_event(1, consulting=True),
        2: make_event(2, supervised=True, overdue=True, due_at=NOW + 3600),
        3: make_event(3, supervised=True, due_at=NOW + 3600),  # on time: not listed
        4: make_event(4, consulting=True, status="closed"),
    }
    cases = DutyCases()
    cases.track(replica, Changes(reset=True), NOW)
    assert cases.consulting == {1} and cases.supervised == {2}
    replica.events[1] = make_event(1, consulting=False)
    replica.events[3] = make_event(3, supervised=True, due_at=NOW - 600)
    cases.track(replica, Changes(events={1, 3}), NOW)
    assert cases.consulting == set() and cases.supervised == {2, 3}
    del replica.events[2]
    cases.track(replica, Changes(events={2}), NOW)  # gone from the replica: gone from the list
    assert cases.supervised == {3}


def test_case_lines_most_urgent_first_with_their_lateness() -> None:
    replica = Replica()
    community = Community(
        code="340803004001",
        name="石化社区",
        street="340803004",
        polygon=SQUARE,
        centre=[117.0, 30.5],
    )
    replica.apply(Units(version="1", reference=reference(communities=[community])))
    replica.events = {
        1: make_event(1, priority=3, reported_at=1.0, overdue=True, due_at=NOW + 3600),
        2: make_event(2, priority=1, reported_at=5.0, due_at=NOW - 600),
        3: make_event(3, priority=3, reported_at=0.5),
    }
    lines = case_lines(replica, {1, 2, 3, 99}, NOW)
    assert [line.key for line in lines] == [2, 3, 1]
    assert lines[0].place == "菱湖街道 石化社区" and lines[0].status == "reported"
    assert not lines[0].stage_late and lines[0].due_at == NOW - 600
    assert lines[2].stage_late  # late at a stage, its closure deadline an hour ahead
    replica.events = {i: make_event(i) for i in range(1, DUTY_CASES + 6)}
    assert len(case_lines(replica, replica.events, NOW)) == DUTY_CASES


def test_stage_lateness_is_only_while_the_closure_deadline_is_ahead() -> None:
    assert stage_late(make_event(1, overdue=True, due_at=NOW + 60), NOW)
    assert stage_late(make_event(1, overdue=True), NOW)
    assert not stage_late(make_event(1, due_at=NOW - 60), NOW)
    assert not stage_late(make_event(1, due_at=NOW + 60), NOW)


def test_a_grid_card_lists_its_people_and_open_cases() -> None:
    replica = Replica()
    assert grid_card(replica, "340803004001001") is None  # no units yet
    grid = Grid(
        code="340803004001001",
        name="第一网格",
        community="340803004001",
        street="340803004",
        polygon=SQUARE,
        centre=[117.0, 30.5],
        worker="王芳",
        worker_phone="13800000000",
    )
    replica.apply(Units(version="1", reference=reference(grids=[grid])))
    assert grid_card(replica, "nowhere") is None
    replica.events = {
        i: make_event(i, priority=1 if i == 3 else 3, reported_at=float(i), due_at=NOW)
        for i in range(1, GRID_CASES + 4)
    }
    replica.events[1] = make_event(1, status="closed")
    replica.events[2] = make_event(2, grid="340803004001002")
    card = grid_card(replica, "340803004001001")
    assert card is not None
    assert card.title == "第一网格 · 菱湖街道"  # the community is not in the units
    assert (card.worker, card.worker_phone, card.leader) == ("王芳", "13800000000", "")
    assert [c.code for c in card.cases][:3] == ["000003", f"{GRID_CASES + 3:06d}", "000010"]
    assert len(card.cases) == GRID_CASES and card.more == 1
    assert card.cases[0].status == "reported" and card.cases[0].category == "01-02"


def test_kpi_values_and_tones() -> None:
    values = kpi_values(
        Kpi(received=10, closed=3, on_time_rate=0.8, overdue_now=2, avg_handling_minutes=150)
    )
    assert values["received"] == KpiValue("10")
    assert values["closed"] == KpiValue("3")  # a count, no target: no colour
    assert values["on_time"] == KpiValue("80.0%", "alarm")
    assert values["overdue"] == KpiValue("2", "alarm")
    assert values["handling"] == KpiValue("2.5", unit="hours")
    assert kpi_values(Kpi(on_time_rate=0.9, avg_handling_minutes=42.4))["handling"] == KpiValue(
        "42", unit="minutes"
    )
    assert kpi_values(Kpi(on_time_rate=0.9))["on_time"].tone == "warn"
    assert kpi_values(Kpi(on_time_rate=0.95))["on_time"].tone == "good"
    empty = kpi_values(Kpi())
    assert empty["on_time"] == empty["handling"] == KpiValue("—")
    assert empty["closed"].tone == "normal" and empty["overdue"].tone == "good"
    partial = kpi_values(Kpi(received=12, overdue_now=741), partial=True)
    assert list(partial) == list(empty) and set(partial.values()) == {KpiValue("…")}


def test_the_calendar_warning_comes_only_with_a_deadline_that_rests_on_a_guess() -> None:
    """2027 is estimated from the first day of 2026 (the notice comes in November): the
    header said so all year. Now only while an open case's deadline reaches a guessed day."""
    units = reference(
        calendar=CalendarStatus(official=[2025, 2026], estimated=[2027], missing=[2027])
    )
    ordinary = make_event(1, status="handling")
    into_2027 = make_event(2, status="dispatched", calendar_guess=True)
    assert calendar_warning(units, [ordinary]) is None  # November: nothing reaches 2027
    assert calendar_warning(units, [ordinary, into_2027]) == CalendarWarning(2027, True)
    closed = make_event(3, status="closed", calendar_guess=True)
    assert calendar_warning(units, [ordinary, closed]) is None  # closed: its deadline is past
    # Not even an estimate: deadlines count weekends only.
    bare = reference(calendar=CalendarStatus(official=[2026], missing=[2027]))
    assert calendar_warning(bare, [into_2027]) == CalendarWarning(2027, False)
    # This year itself unknown (a wall left running into 2028): every guess is about it.
    late = reference(calendar=CalendarStatus(official=[2026, 2027], missing=[2028, 2029]))
    assert calendar_warning(late, [into_2027]) == CalendarWarning(2028, False)
    # The notice loaded (dispatch load-calendar): nothing missing, nothing to say.
    loaded = reference(calendar=CalendarStatus(official=[2026, 2027]))
    assert calendar_warning(loaded, [into_2027]) is None
    assert calendar_warning(None, [into_2027]) is None
    assert calendar_warning(reference(), [into_2027]) is None  # a backend that says nothing
