"""The desk's Qt-free core: my to-do tabs, the rows of a list, the actions offered, refusals."""

from __future__ import annotations

import random

import msgspec
import pytest

from desktop.core.actions import available, dispatch_units, handle_limit, main_action
from desktop.core.case_list import (
    ORDERS,
    CaseList,
    Filters,
    KeptLists,
    matcher,
    matches,
    pick,
    sort_key,
)
from desktop.core.refusals import LastChange, explain
from desktop.core.todo import ANNOUNCED, TABS, Me, TodoBook, tabs_of
from protocol.entities import (
    ROLES,
    Assist,
    Category,
    CategoryLimit,
    Department,
    Event,
    Extension,
    Grid,
    Hold,
    Reference,
)
from tests.factories import make_event

NOW = 1_800_000_000.0
LINGHU = Me("clerk", "street", ("340803004",))
COMMUNITY = Me("ws", "community", ("340803004001",))
DISPATCHER = Me("disp", "dispatcher")
COMMANDER = Me("boss", "commander")


# ---- to-do tabs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "tab"),
    [
        ("reported", "accept"),
        ("accepted", "dispatch"),
        ("dispatched", "working"),
        ("handling", "working"),
        ("handled", "verify"),
        ("verified", "close"),
    ],
)
def test_a_street_clerk_has_each_stage_in_its_tab(status: str, tab: str) -> None:
    event = make_event(status=status, assignee="CGJ", due_at=NOW + 3600)
    assert tabs_of(LINGHU, event, NOW) == {tab}


def test_a_community_workstation_does_not_close() -> None:
    assert tabs_of(COMMUNITY, make_event(status="verified"), NOW) == set()
    assert tabs_of(COMMUNITY, make_event(status="handled"), NOW) == {"verify"}


def test_finished_cases_and_holds_are_in_no_tab() -> None:
    for event in (
        make_event(status="closed"),
        make_event(status="rejected"),
        make_event(
            status="dispatched",
            assignee="CGJ",
            hold=Hold(reason="x", requested_by="a", requested_at=1, review_at=2, state="approved"),
        ),
    ):
        assert tabs_of(LINGHU, event, NOW) == set()


def test_a_late_case_is_also_in_the_overdue_tab_and_the_centre_supervises_it() -> None:
    late = make_event(status="accepted", due_at=NOW - 1, overdue=True)
    assert tabs_of(LINGHU, late, NOW) == {"dispatch", "overdue"}
    assert tabs_of(DISPATCHER, late, NOW) == {"supervise", "overdue"}
    supervised = make_event(status="accepted", due_at=NOW - 1, overdue=True, supervised=True)
    assert tabs_of(DISPATCHER, supervised, NOW) == set()


def test_a_pending_extension_waits_on_someone_who_outranks_the_requester() -> None:
    ext = Extension(
        hours=8, reason="缺材料", requested_by="clerk", requested_at=1, requested_role="street"
    )
    event = make_event(status="handling", assignee="CGJ", extension=ext)
    assert tabs_of(DISPATCHER, event, NOW) == {"approve"}
    assert tabs_of(LINGHU, event, NOW) == set()  # the centre's now, not the street's
    own = make_event(
        status="handling",
        assignee="CGJ",
        extension=Extension(
            hours=8, reason="x", requested_by="disp", requested_at=1, requested_role="dispatcher"
        ),
    )
    assert tabs_of(DISPATCHER, own, NOW) == set()  # never one's own request
    assert tabs_of(COMMANDER, own, NOW) == {"approve"}


def test_district_cases_and_consultations_are_the_commanders() -> None:
    event = make_event(status="dispatched", assignee="CGJ", level="district", consulting=True)
    assert tabs_of(COMMANDER, event, NOW) == {"district", "consult"}
    assert tabs_of(LINGHU, event, NOW) == set()


def test_each_role_is_decided_on_new_case_notices() -> None:
    """Every role of the protocol is told or not told of new cases, by decision: those who
    work cases are; an admin (every tab, no case its own), the wall and the gateways not."""
    assert set(ANNOUNCED) == set(ROLES) == set(TABS)
    told = {role for role, yes in ANNOUNCED.items() if yes}
    assert told == {"street", "community", "dispatcher", "commander"}
    # Whoever is told has a list to be told about.
    assert all(TABS[role] for role in told)


def test_the_book_counts_tabs_and_moves_a_case_when_the_clock_makes_it_late() -> None:
    book = TodoBook(LINGHU)
    events = {
        1: make_event(1, status="reported", due_at=NOW + 60),
        2: make_event(2, status="accepted", due_at=NOW + 7200),
        3: make_event(3, status="closed"),
    }
    book.reset(events.values(), NOW)
    assert (book.count("accept"), book.count("dispatch"), book.count("overdue")) == (1, 1, 0)
    assert book.tick(events, NOW + 30) == set()
    assert book.tick(events, NOW + 61) == {1}
    assert book.count("overdue") == 1 and set(book.ids("overdue")) == {1}
    events[1] = make_event(1, status="accepted", due_at=NOW + 60, updated_at=NOW + 62)
    assert book.update(1, events[1], NOW + 62)
    assert (book.count("accept"), book.count("dispatch")) == (0, 2)
    assert book.update(2, None, NOW + 62)
    assert book.count("dispatch") == 1 and 2 not in book.tabs


# ---- the rows of a list ----------------------------------------------------------------------


def test_rows_stay_sorted_through_random_changes_and_report_the_edits() -> None:
    rng = random.Random(7)
    rows = CaseList()
    shown: list[int] = []
    keys: dict[int, tuple[float, float, int]] = {}
    for _ in range(2000):
        event_id = rng.randrange(200)
        key = None if rng.random() < 0.3 else (rng.choice([1.0, 2.0, 3.0]), 3.0, event_id)
        for edit in rows.put(event_id, key):
            # Replaying the edits on a plain list gives the same rows: what a model announces.
            if edit.kind == "remove":
                assert shown.pop(edit.row) == edit.event_id
            else:
                shown.insert(edit.row, edit.event_id)
        if key is None:
            keys.pop(event_id, None)
        else:
            keys[event_id] = key
        assert shown == rows.ids
    assert rows.ids == sorted(keys, key=keys.__getitem__)
    assert all(rows.row_of(i) == rows.ids.index(i) for i in keys)


def test_kept_lists_equal_a_fresh_sort_through_random_changes() -> None:
    """Each tab's list in each order, kept case by case, is what sorting afresh gives, and
    the watched list's edits replay onto what its model showed."""
    rng = random.Random(11)
    book = TodoBook(LINGHU)
    events: dict[int, Event] = {}
    kept = KeptLists()
    book.reset((), NOW)
    for tab in ("accept", "dispatch", "overdue"):
        for order in ORDERS:
            kept.get((tab, order), book.ids(tab), events)
    watched = ("accept", "newest")
    shown = list(kept.get(watched, book.ids("accept"), events).ids)
    statuses = ("reported", "accepted", "dispatched", "closed")
    for _ in range(3000):
        event_id = rng.randrange(150)
        event: Event | None = None
        if rng.random() > 0.1:
            event = make_event(
                event_id,
                status=rng.choice(statuses),
                priority=rng.randint(1, 4),
                reported_at=NOW - rng.randrange(86400),
                due_at=NOW + rng.randrange(-3600, 86400),
                street="340803004",
            )
            events[event_id] = event
        else:
            events.pop(event_id, None)
        book.update(event_id, event, NOW)
        tabs = book.tabs.get(event_id, frozenset())
        for edit in kept.update(event_id, event, tabs, watched):
            if edit.kind == "remove":
                assert shown.pop(edit.row) == edit.event_id
            else:
                shown.insert(edit.row, edit.event_id)
    assert shown == kept.get(watched, (), events).ids
    for tab in ("accept", "dispatch", "overdue"):
        for order in ORDERS:
            fresh = sorted(book.ids(tab), key=lambda i, o=order: sort_key(events[i], o))
            assert kept.get((tab, order), (), events).ids == fresh, (tab, order)
    # A list asked for the first time is built from the tab's ids; a filter keeps the order.
    built = kept.get(("working", "deadline"), book.ids("working"), events)
    assert built.ids == sorted(book.ids("working"), key=lambda i: sort_key(events[i], "deadline"))
    urgent = built.subset([i for i in built.ids if events[i].priority <= 2])
    assert urgent.ids == [i for i in built.ids if events[i].priority <= 2]
    assert all(urgent.row_of(i) == n for n, i in enumerate(urgent.ids))


def test_soonest_deadline_first_none_last() -> None:
    soon = make_event(1, deadline=NOW + 10)
    later = make_event(2, due_at=NOW + 100)
    none = make_event(3)
    rows = CaseList()
    rows.replace((e.id, sort_key(e, "deadline")) for e in (none, later, soon))
    assert rows.ids == [1, 2, 3]


def test_search_and_filters() -> None:
    names = {"01-02": "暴露垃圾", "340803004001001": "菱北社区第1网格"}.get
    event = make_event(title="垃圾堆放", address="菱湖南路12号", priority=2, overdue=True)

    def look(**f: object) -> bool:
        return matches(event, Filters(**f), NOW, lambda c: names(c) or "")  # type: ignore[arg-type]

    assert look(text="菱湖南路") and look(text="dg-20261122") and look(text="第1网格")
    assert not look(text="井盖")
    assert look(urgent_only=True, overdue_only=True)
    assert not look(street="340803002")


def test_a_list_search_reads_the_filters_once_and_keeps_each_case_text() -> None:
    names = {"01-02": "暴露垃圾"}.get
    assert matcher(Filters(text="  "), NOW, lambda c: names(c) or "") is None  # all pass
    kept: dict[int, tuple[Event, str]] = {}
    test = matcher(Filters(text="Garbage"), NOW, lambda c: names(c) or "", kept)
    assert test is not None
    first = make_event(1, title="Street GARBAGE", address="菱湖南路")
    assert test(first) and kept[1][0] is first
    # A match never runs from one field into the next (title "…路", address "12号").
    joined = matcher(Filters(text="路12"), NOW, lambda c: "", kept)
    assert joined is not None and not joined(make_event(2, title="菱湖南路", address="12号"))
    # A changed case is a new object: its text is read again, not the kept one.
    changed = make_event(1, title="井盖缺失", address="菱湖南路")
    assert not test(changed) and kept[1][0] is changed


# ---- actions offered -------------------------------------------------------------------------


def test_actions_follow_the_state_the_role_and_the_person() -> None:
    assert available(make_event(status="reported"), LINGHU, NOW)[:2] == ["accept", "reject"]
    handled = make_event(status="handled", handled_by="clerk")
    assert "verify" not in available(handled, LINGHU, NOW)  # never one's own work
    assert "verify" in available(handled, Me("other", "street"), NOW)
    assert "close" not in available(make_event(status="verified"), COMMUNITY, NOW)
    assert "consult" not in available(make_event(status="accepted"), LINGHU, NOW)
    assert "consult" in available(make_event(status="accepted"), COMMANDER, NOW)
    waiting = make_event(status="handling", assisting=[Assist(unit="ZJJ")])
    assert "handled" not in available(waiting, LINGHU, NOW)
    assert available(make_event(status="closed"), Me("w", "wall"), NOW) == []


def test_a_hold_freezes_the_loop_but_may_be_released() -> None:
    held = make_event(
        status="dispatched",
        assignee="CGJ",
        hold=Hold(reason="x", requested_by="a", requested_at=1, review_at=2, state="approved"),
    )
    ops = available(held, LINGHU, NOW)
    assert "release_hold" in ops and "start" not in ops and "return_case" not in ops


def test_an_extension_is_offered_only_before_the_deadline() -> None:
    event = make_event(status="handling", deadline=NOW + 60, due_at=NOW + 600)
    assert "request_extension" in available(event, LINGHU, NOW)
    assert "request_extension" not in available(event, LINGHU, NOW + 61)


def test_main_action_is_the_next_step() -> None:
    event = make_event(status="accepted")
    assert main_action(event, available(event, LINGHU, NOW)) == "dispatch"


def test_dispatch_units_put_the_grid_worker_and_the_category_department_first() -> None:
    square = [[[117.0, 30.5], [117.01, 30.5], [117.01, 30.51], [117.0, 30.5]]]
    reference = Reference(
        district="340803",
        district_name="大观区",
        outline=square,
        streets=[],
        communities=[],
        grids=[
            Grid(
                code="340803004001001",
                name="菱北第1网格",
                community="340803004001",
                street="340803004",
                polygon=square,
                centre=[117.0, 30.5],
                worker="王芳",
            )
        ],
        departments=[
            Department(code="AJJ", name="区住建局"),
            Department(code="CGJ", name="城管局"),
        ],
        cameras=[],
        categories=[
            Category(
                code="01-02",
                name="暴露垃圾",
                cls="市容环境",
                standard="",
                priority=3,
                limits={"handle": CategoryLimit(amount=1, unit="day")},
                department="CGJ",
            )
        ],
    )
    units = dispatch_units(reference, make_event())
    assert [u.value for u in units] == ["网格员 王芳", "CGJ", "AJJ"]
    assert [u.suggested for u in units] == [True, True, False]

    # A city's user holds every district's departments and tables: a 迎江区 case gets its
    # own district's, its category read in its own table.
    theirs = Category(
        code="01-02",
        name="暴露垃圾",
        cls="市容环境",
        standard="",
        priority=3,
        limits={"handle": CategoryLimit(amount=3, unit="day")},
        department="340802:CGJ",
        district="340802",
    )
    city = msgspec.structs.replace(
        reference,
        departments=[
            *reference.departments,
            Department(code="340802:CGJ", name="区城管局", district="340802"),
            Department(code="340802:AJJ", name="区住建局", district="340802"),
        ],
        categories=[*reference.categories, theirs],
    )
    yingjiang = make_event(street="340802006", community="340802006001", grid="340802006001001")
    units = dispatch_units(city, yingjiang)
    assert [u.value for u in units] == ["340802:CGJ", "340802:AJJ"]
    assert [u.suggested for u in units] == [True, False]
    assert handle_limit(city, yingjiang)[0] == CategoryLimit(amount=3, unit="day")
    assert handle_limit(city, make_event())[0] == CategoryLimit(amount=1, unit="day")
    assert [u.value for u in dispatch_units(city, make_event())][1:] == ["CGJ", "AJJ"]


# ---- refusals --------------------------------------------------------------------------------


def test_someone_else_got_there_first() -> None:
    seen = make_event(status="reported", updated_at=NOW)
    now = make_event(status="accepted", updated_at=NOW + 5)
    refusal = explain(
        "illegal_transition",
        "accept is not allowed",
        seen=seen,
        now=now,
        last=LastChange("张三", "accept", NOW + 5),
        me="clerk",
    )
    assert (refusal.kind, refusal.by, refusal.action, refusal.status) == (
        "taken",
        "张三",
        "accept",
        "accepted",
    )
    unknown = explain("illegal_transition", "x", seen=seen, now=now, last=None, me="clerk")
    assert unknown.kind == "moved_on"
    for code, kind in [
        ("not_found", "gone"),
        ("forbidden", "forbidden"),
        ("separation_of_duties", "same_person"),
        ("bad_args", "invalid"),
        ("internal", "busy"),
    ]:
        assert explain(code, "m", seen=seen, now=seen, last=None, me="clerk").kind == kind


def test_a_list_filtered_in_one_pass_keeps_what_the_matcher_keeps_in_order() -> None:
    rng = random.Random(5)
    events = {
        i: make_event(
            i,
            title=rng.choice(["垃圾堆放", "井盖缺失", "占道经营"]),
            priority=rng.randint(1, 4),
            street=rng.choice(["340803004", "340803002"]),
            due_at=NOW + rng.randrange(-3600, 3600),
            overdue=rng.random() < 0.3,
        )
        for i in range(300)
    }
    order = rng.sample(sorted(events), len(events))
    names = {"01-02": "暴露垃圾"}.get
    kept: dict[int, tuple[Event, str]] = {}
    for filters in (
        Filters(text="垃圾"),
        Filters(text="暴露", urgent_only=True),
        Filters(overdue_only=True, street="340803004"),
        Filters(text="nothing"),
    ):
        test = matcher(filters, NOW, lambda c: names(c) or "")
        assert test is not None
        expected = [i for i in order if test(events[i])]
        assert pick(order, events, filters, NOW, lambda c: names(c) or "", kept) == expected
    # A case that changed is searched by its new text, not the kept one.
    events[order[0]] = make_event(order[0], title="全新的标题")
    found = pick(order, events, Filters(text="全新"), NOW, lambda c: "", kept)
    assert found == [order[0]]
