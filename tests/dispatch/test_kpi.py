"""KPIs by the standard definitions: fixtures with answers worked out by hand (docs/kpis.md)."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import datetime

import msgspec
import pytest
from msgspec.structs import replace

from dispatch import kpi
from dispatch.domain.calendar import CST
from protocol.entities import OPEN_STATUSES, Event, Extension, Hold, is_overdue
from tests.factories import make_event

LINGHU, DEKUAN = "340803004", "340803001"


def at(day: int, hour: float) -> float:
    """Epoch seconds of 2026-11-`day` at `hour` o'clock, China time."""
    return datetime(2026, 11, day, tzinfo=CST).timestamp() + hour * 3600


NOW = at(25, 10)  # Wednesday 25 November 2026, 10:00; the week began on Monday the 23rd


def case(event_id: int, **fields: object) -> Event:
    """A case in 菱湖街道 reported on the 19th, with the fields given."""
    values: dict[str, object] = {"reported_at": at(19, 9), "updated_at": NOW - 60}
    values.update(fields)
    return make_event(event_id, **values)


def closed(event_id: int, closed_at: float, due_at: float, **fields: object) -> Event:
    """A closed case."""
    return case(
        event_id,
        status="closed",
        accepted_at=closed_at - 7200,
        first_dispatched_at=closed_at - 5400,
        closed_at=closed_at,
        due_at=due_at,
        updated_at=closed_at,
        **fields,
    )


HOLD = Hold(reason="等待规划", requested_by="a", requested_at=at(21, 9), review_at=at(30, 9))
CASES = [
    # 1: overdue since the 20th and still in handling: the backlog counts as late.
    case(1, status="handling", due_at=at(20, 17.5), missed=["handle", "closure"], overdue=True),
    # 2: reported today 06:00, handled 07:00 (1 h), closed 08:00, due 09:00: on time.
    closed(
        2, at(25, 8), at(25, 9), reported_at=at(25, 6), handled_at=at(25, 7), handle_used=3600.0
    ),
    # 3: reported today 08:00, due 17:30 today, open and not late yet: not due.
    case(3, status="accepted", reported_at=at(25, 8), accepted_at=at(25, 8.2), due_at=at(25, 17.5)),
    # 4: due yesterday noon, closed today 09:00: closed late.
    closed(4, at(25, 9), at(24, 12)),
    # 5: closed on time on Monday: this week and this month only.
    closed(5, at(23, 15), at(23, 17.5)),
    # 6: closed on time on the 10th, in 德宽路: this month only, and not in 菱湖.
    closed(6, at(10, 15), at(10, 17.5), street=DEKUAN, community="340803001001"),
    # 7: on an approved hold, its deadline passed: neither due nor overdue.
    case(7, status="dispatched", due_at=at(22, 17.5), hold=replace(HOLD, state="approved")),
    # 8: extended before its deadline, then closed on time today.
    closed(
        8,
        at(25, 9.5),
        at(26, 17.5),
        extensions=1,
        extension=Extension(
            hours=8, reason="r", requested_by="a", requested_at=at(24, 9), state="approved"
        ),
    ),
    # 9: accepted late but closed before its closure deadline: a missed stage is lateness.
    closed(9, at(25, 9.8), at(27, 17.5), missed=["accept"]),
    # 10: reported today 07:30, handled 09:00 after one rework (2 h in all): not yet due.
    case(
        10,
        status="handled",
        reported_at=at(25, 7.5),
        handled_at=at(25, 9),
        handle_used=7200.0,
        rework_count=1,
        due_at=at(26, 12),
    ),
    # 11: closed yesterday on time, evaluated today 2 of 5 (不满意).
    closed(11, at(24, 11), at(24, 17.5), evaluation=2, evaluated_at=at(25, 9.9)),
]


@pytest.fixture
def book() -> kpi.KpiBook:
    return kpi.compute(CASES, NOW)


def recount(
    events: Iterable[Event], now: float, departments: frozenset[str] = frozenset()
) -> tuple[dict[str, list[float]], dict[str, list[float]], dict[str, list[float]]]:
    """Every period's tallies counted from scratch, case by case, without the book: each
    case's contribution over each period in each of its scopes (docs/kpis.md §1, §3)."""
    out: tuple[dict[str, list[float]], ...] = ({}, {}, {})
    starts = kpi.period_starts(now)
    for event in events:
        overdue = is_overdue(event, now)
        scopes = kpi.scopes_of(event, departments)
        units = [f"{'department' if u in departments else 'worker'}:{u}" for u in event.returned_by]
        for tallies, start in zip(out, starts, strict=True):
            vector = kpi.contribution(event, start, overdue)
            for scope in scopes:
                tally = tallies.setdefault(scope, [0.0] * 20)
                for i, x in vector:
                    tally[i] += x
            if any(i == kpi.DISPATCHED for i, _ in vector):
                for scope in units:
                    tallies.setdefault(scope, [0.0] * 20)[kpi.RETURNED] += 1
    return out  # type: ignore[return-value]


def same(a: list[float] | None, b: list[float] | None) -> bool:
    """Two tallies equal (None: all zeros); handling seconds to a millisecond."""
    zeros = [0.0] * 20
    return all(abs(x - y) < 1e-3 for x, y in zip(a or zeros, b or zeros, strict=True))


def assert_filed_by_day(book: kpi.KpiBook, period: kpi.Period) -> None:
    """A period's settled part is the sum of its days' (the month = its days + open cases)."""
    index = kpi.PERIODS.index(period)
    summed = book.day_sums(period)
    for scope in set(summed) | set(book.settled[index]):
        assert same(book.settled[index].get(scope), summed.get(scope)), (period, scope)
    assert all(day >= min(book.starts) for day in book.days)


def one_by_one(events: Iterable[Event], now: float, departments: frozenset[str]) -> kpi.KpiBook:
    """A book that counted `events` case by case, as changes arriving (not loaded in bulk)."""
    book = kpi.KpiBook(now, departments)
    for event in events:
        book.note(event)
    book.refresh(now)
    return book


def assert_same_books(loaded: kpi.KpiBook, counted: kpi.KpiBook) -> None:
    """Two books hold the same figures, day sums, arrival hours, open cases and deadlines."""
    for index in range(len(kpi.PERIODS)):
        for part in ("tallies", "settled"):
            a, b = getattr(loaded, part)[index], getattr(counted, part)[index]
            for scope in set(a) | set(b):
                assert same(a.get(scope), b.get(scope)), (part, index, scope)
    assert set(loaded.days) == set(counted.days)
    for day, sums in loaded.days.items():
        other = counted.days[day]
        for scope in set(sums.tallies) | set(other.tallies):
            got, want = sums.tallies.get(scope), other.tallies.get(scope)
            assert same(got and list(got), want and list(want)), (day, scope)
        assert {k: v for k, v in sums.hourly.items() if any(v)} == {
            k: v for k, v in other.hourly.items() if any(v)
        }
    assert {k: v for k, v in loaded.hourly.items() if any(v)} == {
        k: v for k, v in counted.hourly.items() if any(v)
    }
    assert loaded.entries.keys() == counted.entries.keys()
    assert sorted(loaded._deadlines) == sorted(counted._deadlines)


def test_a_bulk_load_fills_the_book_as_counting_case_by_case_does() -> None:
    """compute() and the backend's start load in bulk: settled cases straight into day sums."""
    events = spread_cases()
    for now in (NOW, at(26, 1), at(30, 9)):
        units = frozenset({"CGJ"})
        assert_same_books(
            kpi.compute(events, now, departments=units), one_by_one(events, now, units)
        )


def spread_cases(count: int = 400) -> list[Event]:
    """CASES again and again, moved back by up to three days (across midnights, the week's
    and the month's starts), some returned or reopened."""
    rng = random.Random(11)
    events = []
    for i in range(count):
        base = CASES[i % len(CASES)]
        shift = rng.uniform(-3 * 86400, 0)
        times = {
            name: getattr(base, name) + shift
            for name in (
                "reported_at",
                "accepted_at",
                "first_dispatched_at",
                "handled_at",
                "closed_at",
                "dispatched_at",
                "evaluated_at",
                "updated_at",
                "due_at",
            )
            if getattr(base, name) is not None
        }
        sent_back = ("W-7", "CGJ")[: i % 3]
        events.append(
            replace(base, id=1000 + i, returned_by=sent_back, reopened=int(i % 5 == 0), **times)
        )
    return events


def test_a_kept_book_read_back_later_counts_as_a_fresh_fill_then(tmp_path) -> None:
    """dispatch/kept_kpis.py: a book kept at a clean stop and read back at the next start,
    the same moment or days later (midnights, a new month, deadlines passed), holds what a
    fresh fill of the same cases holds then."""
    from dispatch import kept_kpis

    events, units = spread_cases(), frozenset({"CGJ"})
    path = tmp_path / "dispatch.db.kpis"
    for later in (NOW, NOW + 600, at(26, 1), at(30, 9), at(30, 10) + 2 * 86400):
        book = kpi.compute(events, NOW, departments=units)
        kept_kpis.keep(path, "key", book.saved(NOW))
        assert path.stat().st_mode & 0o777 == 0o600  # the cases' figures: the owner's only
        saved = kept_kpis.take(path, "key")
        assert saved is not None and not path.exists()  # taken once
        restored = kpi.KpiBook.restored(saved, later, units, {})
        assert_same_books(restored, kpi.compute(events, later, departments=units))
        for period in kpi.PERIODS:
            assert restored.scopes(period) == kpi.compute(events, later, departments=units).scopes(
                period
            )


def test_a_kept_book_that_does_not_match_or_cannot_be_read_is_dropped(tmp_path, caplog) -> None:
    """Another log, other rules or a damaged file: nothing is read back (the start fills
    instead), and the file is gone, so no later start can take it either."""
    from dispatch import kept_kpis

    path = tmp_path / "dispatch.db.kpis"
    assert kept_kpis.take(path, "key") is None  # none kept
    kept_kpis.keep(path, kept_kpis.key_for("epoch", 7, {"CGJ"}), kpi.compute(CASES, NOW).saved(NOW))
    assert kept_kpis.take(path, kept_kpis.key_for("epoch", 8, {"CGJ"})) is None
    assert not path.exists()
    path.write_bytes(b"\x92\xa3key\x01")  # the key, then no book
    assert kept_kpis.take(path, "key") is None and not path.exists()
    assert "unreadable" in caplog.text
    # The key names the log's place, the departments and the counting rules.
    assert kept_kpis.key_for("e", 1, {"A"}) != kept_kpis.key_for("e", 1, {"B"})
    assert kept_kpis.key_for("e", 1, {"A"}).split(":")[1] == kept_kpis.rules_digest()


def _pair(change: Change) -> tuple[Event, Event | None]:
    after, before = change.after, change.before
    assert isinstance(after, Event) and (before is None or isinstance(before, Event))
    return after, before


def test_today_by_hand(book: kpi.KpiBook) -> None:
    k = book.kpi("today", "district")
    assert (k.closed, k.closed_on_time, k.overdue_now, k.due) == (4, 2, 1, 5)
    assert k.on_time_rate == 0.4 and k.closure_rate == 0.8
    assert k.extended == 1 and k.extension_rate == 0.2
    assert (k.open_now, k.on_hold) == (4, 1)
    assert (k.handled, k.reworked, k.handle_due) == (2, 1, 3)
    assert k.rework_rate == 0.5 and k.handling_rate == 0.6667
    assert k.avg_handling_minutes == 90.0
    assert (k.evaluated, k.satisfied, k.satisfaction_rate) == (1, 0, 0.0)
    assert k.received == 3 and k.hourly == [0, 0, 0, 0, 0, 0, 1, 1, 1]
    # 60 % on time, 20 % not overdue (3 of 4 open), 10 % no rework, 10 % satisfaction.
    assert k.score == 44.0


def test_the_numbers_beside_each_other_agree(book: kpi.KpiBook) -> None:
    for period in kpi.PERIODS:
        k = book.kpi(period, "district")
        closed_late = k.closed - k.closed_on_time
        assert k.due - k.closed_on_time == closed_late + k.overdue_now


def test_week_and_month_by_hand(book: kpi.KpiBook) -> None:
    week = book.kpi("week", "district")
    assert (week.closed, week.closed_on_time, week.due) == (6, 4, 7)
    month = book.kpi("month", "district")
    assert (month.closed, month.closed_on_time, month.due) == (7, 5, 8)
    assert month.on_time_rate == 0.625
    assert book.kpi("month", LINGHU).due == 7 and book.kpi("month", DEKUAN).due == 1
    assert book.kpi("today", DEKUAN).due == 0


def test_scopes_of_every_kind() -> None:
    events = [
        case(1, assignee="CGJ", status="dispatched", first_dispatched_at=at(25, 8)),
        case(2, assignee="张三", status="dispatched", first_dispatched_at=at(25, 8)),
        case(
            3,
            assignee="CGJ",
            status="dispatched",
            first_dispatched_at=at(25, 8),
            returned_by=["SWJ"],
        ),
    ]
    book = kpi.compute(events, NOW, departments=frozenset({"CGJ", "SWJ"}))
    assert book.scopes("today", "department")["CGJ"].dispatched == 2
    assert book.scopes("today", "department")["CGJ"].returned == 1  # counted case by case
    assert book.scopes("today", "department")["SWJ"].returned == 1  # and against who returned
    assert book.scopes("today", "worker")["张三"].dispatched == 1
    assert book.scopes("today", "grid")["340803004001001"].open_now == 3
    assert book.scopes("today", "community")["340803004001"].open_now == 3
    assert set(book.scopes("today")) == {"district", LINGHU}


def test_time_passing_a_deadline_makes_a_case_due_and_late() -> None:
    book = kpi.compute(CASES, NOW)
    book.refresh(at(25, 18))  # case 3 was due at 17:30 and is still open
    k = book.kpi("today", "district")
    assert (k.overdue_now, k.due) == (2, 6)
    assert k == kpi.compute(CASES, at(25, 18)).kpi("today", "district")


def test_a_new_day_starts_today_afresh() -> None:
    book = kpi.compute(CASES, NOW)
    tomorrow = at(26, 1)
    book.refresh(tomorrow)
    assert book.kpi("today", "district").closed == 0
    assert book.kpi("week", "district") == kpi.compute(CASES, tomorrow).kpi("week", "district")


def test_a_new_month_forgets_what_is_settled() -> None:
    book = kpi.compute(CASES, NOW)
    december = datetime(2026, 12, 1, 1, tzinfo=CST).timestamp()
    book.refresh(december)
    assert book.kpi("month", "district").closed == 0
    assert set(book.entries) == {1, 3, 7, 10}  # the open cases only


def test_incremental_equals_recount_whatever_the_order() -> None:
    rng = random.Random(7)
    for _ in range(20):
        book = kpi.KpiBook(NOW, frozenset())
        timeline = list(CASES)
        rng.shuffle(timeline)
        seen: dict[int, Event] = {}
        # Each case arrives first in an earlier shape, then as it is now.
        for event in timeline:
            early = replace(event, status="reported", closed_at=None, handled_at=None)
            book.note(early)
            if rng.random() < 0.5:
                book.refresh(NOW)
            book.note(event)
            seen[event.id] = event
        book.refresh(NOW)
        fresh = kpi.compute(seen.values(), NOW)
        for period in kpi.PERIODS:
            for scope in ("district", LINGHU, DEKUAN):
                assert book.kpi(period, scope) == fresh.kpi(period, scope), (period, scope)


# ---- incremental = recount after any sequence of commands ---------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from dispatch.state import Actor, Change, State  # noqa: E402
from dispatch.workflow import WorkflowError  # noqa: E402
from tests.dispatch import test_state as walk  # noqa: E402


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from([*walk.EVENT_OPS, "report", "tick"]),
            st.integers(1, 4),  # which case
            st.booleans(),
            st.integers(0, 30_000),  # seconds that pass (a day boundary comes within reach)
            st.sampled_from(walk.PEOPLE),
        ),
        max_size=60,
    )
)
def test_incremental_kpis_equal_a_recount_after_any_commands(reference, steps) -> None:
    state = State(reference)
    now = walk.MONDAY_9
    ids = [walk.report(state, reference), walk.report(state, reference, street=DEKUAN)]
    book = kpi.KpiBook(now, frozenset(reference.departments))
    for event_id in ids:
        book.note(state.events[event_id])
    for op, which, flag, dt, actor in steps:
        now += dt
        changed: list[tuple[Event, Event | None]] = []
        try:
            if op == "report":
                street = LINGHU if flag else DEKUAN
                ids.append(walk.report(state, reference, street=street, at=now))
                changed = [(state.events[ids[-1]], None)]
            elif op == "tick":
                changed = [_pair(ch) for ch in state.tick(now) if ch.kind == "event"]
            else:
                event_id = ids[which % len(ids)]
                out = state.apply(actor, op, walk.random_args(op, event_id, flag, now), now)
                changed = [_pair(ch) for ch in out.changes if ch.kind == "event"]
        except WorkflowError:
            pass
        for after, before in changed:
            book.note(after, before)  # as the hub does: the version it replaces too
        if flag:
            book.refresh(now)
    book.refresh(now)
    departments = frozenset(reference.departments)
    fresh = kpi.compute(state.events.values(), now, departments=departments)
    counted = recount(state.events.values(), now, departments)
    for index, period in enumerate(kpi.PERIODS):
        scopes = set(book.tallies[index]) | set(fresh.tallies[index]) | set(counted[index])
        for scope in scopes:
            got, want = book.kpi(period, scope), fresh.kpi(period, scope)
            assert got == want, (period, scope)
            assert same(book.tallies[index].get(scope), counted[index].get(scope)), (period, scope)
        assert_filed_by_day(book, period)
    assert_same_books(fresh, one_by_one(state.events.values(), now, departments))
    # Kept at a clean stop and read back: the same book (dispatch/kept_kpis.py).
    saved = msgspec.msgpack.decode(msgspec.msgpack.encode(book.saved(now)), type=kpi.SavedBook)
    assert_same_books(kpi.KpiBook.restored(saved, now, departments, {}), book)
    # Only open cases are kept one by one; settled ones are in the day sums.
    assert {e.id for e in state.events.values() if e.status in OPEN_STATUSES} >= set(book.entries)
    assert all(e.event.status in OPEN_STATUSES for e in book.entries.values())


def test_a_day_roll_in_slices_says_the_tallies_are_partial_until_done() -> None:
    events = [case(100 + i, reported_at=at(25, 8) + i) for i in range(450)]
    book = kpi.compute(events, NOW)
    assert not book.rolling and book.kpi("week", "district").received == 450
    tomorrow = at(26, 1)
    assert not book.refresh(tomorrow, 200)  # the first slice of a sliced refresh
    assert book.rolling  # a snapshot or stats answer now says "catching up"
    while not book.refresh(tomorrow, 200):
        pass
    assert not book.rolling and book.kpi("week", "district").received == 450


def test_scope_tables_are_built_once_per_change() -> None:
    book = kpi.compute(CASES, NOW)
    first = book.scopes("today")
    assert book.scopes("today") is first  # every jurisdiction's push shares it
    book.note(replace(CASES[2], status="dispatched", first_dispatched_at=at(25, 9.5)))
    book.refresh(NOW)
    again = book.scopes("today")
    assert again is not first and again["district"].dispatched == first["district"].dispatched + 1


# ---- settled cases are filed by day, not kept ------------------------------------------------


def assert_as_counted(book: kpi.KpiBook, state: State, now: float, departments: frozenset[str]):  # type: ignore[no-untyped-def]
    """The book's figures equal figures counted from scratch, with and without a book."""
    fresh = kpi.compute(state.events.values(), now, departments=departments)
    counted = recount(state.events.values(), now, departments)
    for index, period in enumerate(kpi.PERIODS):
        for scope in set(book.tallies[index]) | set(counted[index]):
            assert book.kpi(period, scope) == fresh.kpi(period, scope), (period, scope)
            assert same(book.tallies[index].get(scope), counted[index].get(scope)), (period, scope)
        assert_filed_by_day(book, period)


def test_a_settled_case_that_changes_again_comes_out_of_its_days(reference) -> None:
    """Closed cases are filed by day and let go of; an evaluation days later, a low score
    reopening one and its second closure after the month turned take out exactly what the
    filed version added (the version before the change is handed in, as the hub does)."""
    departments = frozenset(reference.departments)
    state = State(reference)
    now = walk.MONDAY_9  # Monday 23 November
    book = kpi.KpiBook(now, departments)

    def run(actor, op: str, args: object, at: float) -> None:  # type: ignore[no-untyped-def]
        if actor is walk.WORKER:  # the case's own street's worker
            street = state.events[args.event].street  # type: ignore[attr-defined]
            actor = Actor(walk.WORKER.name, "street", frozenset({street}))
        for change in state.apply(actor, op, args, at).changes:
            if change.kind == "event":
                book.note(*_pair(change))

    ids = []
    for street in (LINGHU, DEKUAN, LINGHU):
        ids.append(walk.report(state, reference, street=street, at=now))
        book.note(state.events[ids[-1]])
    for eid in ids:
        for op in walk.LOOP:
            args = {
                "dispatch": walk.c.Dispatch(event=eid, assignee="x"),
                "verify": walk.c.Verify(event=eid, passed=True),
            }.get(op, walk.c.EventRef(event=eid))
            run(walk.WORKER if op in walk.HANDS_ON else walk.COMMANDER, op, args, now + 600)
    book.refresh(now + 3600)
    assert not book.entries  # all three closed: filed by day, none kept
    assert_as_counted(book, state, now + 3600, departments)

    wednesday = now + 2 * 86400  # a new day: today's closures are gone, the week's stay
    book.refresh(wednesday)
    assert book.kpi("today", "district").closed == 0
    assert book.kpi("week", "district").closed == 3
    run(walk.COMMANDER, "evaluate", walk.c.Evaluate(event=ids[0], score=5), wednesday)
    run(walk.COMMANDER, "evaluate", walk.c.Evaluate(event=ids[1], score=1), wednesday + 60)
    assert state.events[ids[1]].status in OPEN_STATUSES  # a low score reopens it
    book.refresh(wednesday + 120)
    assert set(book.entries) == {ids[1]}
    assert book.kpi("week", "district").closed == 2  # the reopened one is not closed now
    assert book.kpi("today", "district").evaluated == 2
    assert_as_counted(book, state, wednesday + 120, departments)

    december = datetime(2026, 12, 1, 9, tzinfo=CST).timestamp()  # a new month (and week)
    book.refresh(december)
    assert_as_counted(book, state, december, departments)
    eid = ids[1]
    for op in ("start", "handled", "verify", "close"):
        args = (
            walk.c.Verify(event=eid, passed=True) if op == "verify" else walk.c.EventRef(event=eid)
        )
        run(walk.WORKER if op in walk.HANDS_ON else walk.COMMANDER, op, args, december + 600)
    run(walk.COMMANDER, "evaluate", walk.c.Evaluate(event=ids[2], score=4), december + 700)
    book.refresh(december + 800)
    assert not book.entries
    month = book.kpi("month", "district")
    assert (month.closed, month.evaluated, month.received) == (1, 1, 0)
    assert_as_counted(book, state, december + 800, departments)
    assert list(book.days) == [kpi.day_start(december)]  # November's days are gone


def test_cases_settled_before_their_deadline_leave_no_slot_behind() -> None:
    """The heap of deadlines holds the open cases', not every case settled early this month."""
    book = kpi.KpiBook(NOW, frozenset())
    late = case(1, status="accepted", reported_at=at(25, 8), due_at=at(25, 11))
    book.note(late)
    for i in range(2, 1200):
        book.note(case(i, status="accepted", reported_at=at(25, 8), due_at=at(27, 17.5)))
    book.refresh(NOW)
    for i in range(2, 1200):
        book.note(closed(i, at(25, 9), at(27, 17.5), reported_at=at(25, 8)))
        book.refresh(NOW + i)  # each case closed well before its deadline
    assert len(book.entries) == 1 and len(book._deadlines) <= 2 + 256
    book.refresh(at(25, 12))  # the one open case's deadline still wakes it
    k = book.kpi("today", "district")
    assert (k.overdue_now, k.closed, k.due) == (1, 1198, 1199)
    assert k == kpi.compute(
        [
            late,
            *(closed(i, at(25, 9), at(27, 17.5), reported_at=at(25, 8)) for i in range(2, 1200)),
        ],
        at(25, 12),
    ).kpi("today", "district")


def test_day_start_by_arithmetic_is_the_local_midnight() -> None:
    """day_start is arithmetic (UTC+8 all year), not datetime: the same midnights, to the
    second, at and around every midnight and anywhere in the day."""
    import random
    from datetime import datetime

    from dispatch.domain.calendar import CST
    from dispatch.kpi import day_start

    def by_datetime(now: float) -> float:
        moment = datetime.fromtimestamp(now, CST)
        return moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()

    rng = random.Random(7)
    moments = [rng.uniform(1.5e9, 2.1e9) for _ in range(20_000)]
    midnight = by_datetime(1_795_000_000.0)
    for day in range(400):
        at = midnight + day * 86400
        moments += [at, at - 1e-6, at + 1e-6, at - 0.5]
    assert [day_start(t) for t in moments] == [by_datetime(t) for t in moments]


def test_a_stand_in_hands_over_what_it_noted_and_counts_nothing_itself() -> None:
    """While the real book is filled elsewhere, a stand-in takes the changes: a new case, a
    settled case changed again (the version filed comes out), a midnight's yesterday."""
    loaded = [case for case in CASES]
    settled = next(c for c in loaded if c.status == "closed")
    stand_in = kpi.KpiBook(NOW, frozenset(), filling=True)
    assert stand_in.partial
    reopened = replace(settled, status="dispatched", closed_at=None, reopened=1)
    newcomer = replace(CASES[0], id=999, reported_at=NOW - 60, updated_at=NOW - 60)
    stand_in.note(reopened, settled)
    stand_in.note(newcomer)
    stand_in.set_yesterday({"district": [1] * 24})
    stand_in.absorb(NOW, 100)  # counts nothing
    with pytest.raises(RuntimeError):
        stand_in.refresh(NOW)
    book = stand_in.hand_over(kpi.filled(loaded, NOW, frozenset(), {}))
    book.refresh(NOW)
    now_cases = [reopened if c.id == settled.id else c for c in loaded] + [newcomer]
    assert_same_books(book, one_by_one(now_cases, NOW, frozenset()))
    assert book.yesterday == {"district": [1] * 24} and not book.partial


def test_a_scope_whose_cases_all_left_is_not_listed() -> None:
    """A case moved to another street leaves its old street's tally at zero: the book lists
    the scopes a recount would list, not those it once touched."""
    first = CASES[0]
    book = kpi.compute([first], NOW)
    assert first.street in book.scopes("today")
    moved = replace(first, street=DEKUAN, community="340803001001", grid="340803001001001")
    book.note(moved, first)
    book.refresh(NOW)
    assert first.street not in book.scopes("today") and DEKUAN in book.scopes("today")
    assert book.scopes("month") == kpi.compute([moved], NOW).scopes("month")
