"""KPIs over the wire: week and month, the stats request, the catching-up flag, a restart."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from datetime import datetime
from pathlib import Path

from msgspec.structs import replace

from dispatch import kpi
from dispatch.clock import Clock
from dispatch.domain.calendar import CST
from dispatch.server import DispatchServer
from dispatch.simulator import Simulator
from dispatch.store.store import Store
from protocol.codec import encode
from protocol.codes import ErrorCode
from protocol.messages import Error, Kpis, Result, Stats
from tests.dispatch.conftest import (
    DEKUAN,
    LINGHU,
    Running,
    open_client,
    reference_for,
    start_server,
)
from tests.dispatch.test_server import handshake, report_args


async def ask(client, by: str, period: str = "today") -> Result | Error:  # type: ignore[no-untyped-def]
    request_id = next(client.ids)
    await client.ws.send(encode(Stats(id=request_id, by=by, period=period)).decode())  # type: ignore[arg-type]
    reply = await client.until(lambda m: isinstance(m, (Result, Error)) and m.id == request_id)
    assert isinstance(reply, (Result, Error))
    return reply


async def test_kpis_carry_week_and_month(running_sqlite: Running) -> None:
    c = await running_sqlite.client("commander")
    await handshake(c)
    await c.command("report", report_args(running_sqlite))
    k = await c.until(lambda m: isinstance(m, Kpis) and m.scopes.get("district") is not None)
    assert isinstance(k, Kpis)
    assert k.week["district"].received >= k.scopes["district"].received >= 1
    assert k.month["district"].received >= k.week["district"].received
    assert not k.catching_up
    await c.ws.close()


async def test_stats_by_every_kind_within_the_jurisdiction(running_sqlite: Running) -> None:
    c = await running_sqlite.client("commander")
    await handshake(c)
    ok = await c.command("report", report_args(running_sqlite))
    assert isinstance(ok, Result)
    await c.until(lambda m: isinstance(m, Kpis) and m.scopes.get("district") is not None)
    grid = running_sqlite.server.state.events[ok.data["event"]].grid
    reply = await ask(c, "grid", "month")
    assert isinstance(reply, Result) and reply.data["rows"][grid]["received"] == 1
    assert isinstance(await ask(c, "department"), Result)
    street_user = await running_sqlite.client("dekuan")
    await handshake(street_user)
    theirs = await ask(street_user, "grid")
    assert isinstance(theirs, Result) and grid not in theirs.data["rows"]  # 菱湖's grid
    refused = await ask(street_user, "department")
    assert isinstance(refused, Error) and refused.code == ErrorCode.FORBIDDEN
    # A bad request is answered and the connection stays up.
    await street_user.ws.send('{"type": "stats", "id": 99, "by": "planet"}')
    bad = await street_user.until(lambda m: isinstance(m, Error))
    assert isinstance(bad, Error) and bad.code == ErrorCode.BAD_MESSAGE
    # Figures by street: every street with cases for the district's user, a street's own
    # for its users (None of them under the district's scope).
    streets = await ask(c, "street")
    assert isinstance(streets, Result) and streets.data["rows"][LINGHU]["received"] == 1
    assert "district" not in streets.data["rows"]
    own = await ask(street_user, "street")
    assert isinstance(own, Result) and set(own.data["rows"]) <= {DEKUAN}
    await c.ws.close()
    await street_user.ws.close()


async def test_catching_up_is_announced_then_cleared(running_sqlite: Running) -> None:
    running_sqlite.server.begin_catching_up()
    c = await running_sqlite.client("wall")
    _, snapshot = await handshake(c)
    assert snapshot.kpis_catching_up
    partial = await c.until(lambda m: isinstance(m, Kpis) and m.catching_up)
    assert isinstance(partial, Kpis)
    await running_sqlite.server.caught_up()
    assert not running_sqlite.server.hub.kpis_partial  # at once, not at the next recount
    whole = await c.until(lambda m: isinstance(m, Kpis) and not m.catching_up, timeout=0.5)
    assert isinstance(whole, Kpis)
    await c.ws.close()


async def test_the_kpis_stop_saying_catching_up_in_the_push_that_makes_them_whole(
    sqlite_store,
) -> None:
    """§4.3: a backend replaying yesterday and the night (the simulator on a fresh database,
    its clock almost still afterwards, so nothing changes once it has caught up). The wall's
    `kpis` say `catching_up` until the one whose figures are whole — equal to figures counted
    from scratch from the database, yesterday's curve included — and that one says `false`;
    a snapshot or a `stats` answer says the same as the latest push at every moment."""
    start = datetime(2026, 11, 25, 2, 0, tzinfo=CST).timestamp()
    reference = reference_for(sqlite_store)
    wall_token = sqlite_store.create_user("大屏", "wall")
    server = DispatchServer(sqlite_store, reference, Clock(speed=0.01, start=start))
    server.begin_catching_up()  # as `dispatch demo` does before it listens
    port = await server.start("127.0.0.1", 0)
    assert server.hub is not None
    simulator = Simulator(server, seed=5, daily_events=200, daily_alerts=60)
    wall = await open_client(port, wall_token)
    _, snapshot = await handshake(wall)
    assert snapshot.kpis_catching_up
    pushes: list[Kpis] = []
    # What a snapshot or a stats answer would say whenever the loop runs: partial until the
    # whole figures are pushed, and whole from the moment the simulator has caught up.
    partial_when_caught_up: list[bool] = []
    flips = 0

    async def watch() -> None:
        nonlocal flips
        partial = server.hub.kpis_partial
        while not simulator.warmed_up:
            await asyncio.sleep(0)
            flips += partial != server.hub.kpis_partial
            partial = server.hub.kpis_partial
        partial_when_caught_up.append(partial)

    task = asyncio.create_task(simulator.run(warm_up=True))
    watcher = asyncio.create_task(watch())
    try:
        while True:
            message = await wall.recv(timeout=120)
            if isinstance(message, Kpis):
                pushes.append(message)
                if not message.catching_up:
                    break
        whole = pushes[-1]
        assert len(pushes) > 1 and all(k.catching_up for k in pushes[:-1])
        await asyncio.wait_for(watcher, 10)
        # Once, from partial to whole; and whole by the time the simulator says it has
        # caught up (`simulator caught up` in the log), not a recount later.
        assert partial_when_caught_up == [False] and flips == 1
        answer = await ask(wall, "street")
        assert isinstance(answer, Result) and answer.data["catching_up"] is False
        # Counted from scratch: every event in the database, yesterday's arrivals from it.
        day = kpi.day_start(whole.at)
        events, *_ = await asyncio.to_thread(sqlite_store.load_state, 0.0)
        rows = await asyncio.to_thread(sqlite_store.arrivals, day - 86400, day)
        assert rows, "the replay wrote yesterday"
        fresh = kpi.compute(
            events, whole.at, kpi.hourly(rows, day - 86400), frozenset(reference.departments)
        )
        assert whole.scopes == fresh.scopes("today")
        assert whole.week == fresh.scopes("week") and whole.month == fresh.scopes("month")
        assert whole.scopes["district"].received > 0
        # The last partial push was not whole yet.
        assert pushes[-2].scopes != whole.scopes or pushes[-2].week != whole.week
    finally:
        watcher.cancel()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await wall.ws.close()
        await server.stop()


async def test_a_restart_serves_at_once_and_counts_what_changed_while_the_books_filled(
    sqlite_store, monkeypatch
) -> None:
    """After a restart the listener serves while the month's cases are counted in a worker
    thread: snapshots and `stats` say the figures are partial until the filled book takes
    over. What changes meanwhile — a new case, a case closed before the restart and
    evaluated now (settled, then changed again) — is counted once, as a recount says."""
    from dispatch.state import Actor
    from dispatch.writer import CommandRequest
    from protocol import commands as cmd

    run = await start_server(sqlite_store)
    c = await run.client("commander")
    await handshake(c)
    ids = []
    for _ in range(3):
        reported = await c.command("report", report_args(run))
        assert isinstance(reported, Result)
        ids.append(reported.data["event"])
    closed = ids[0]
    staff = Actor("菱湖分中心", "street", frozenset({LINGHU}))
    worker = Actor("网格员 张三", "street", frozenset({LINGHU}))
    for actor, op, args in [
        (staff, "accept", cmd.EventRef(event=closed)),
        (staff, "dispatch", cmd.Dispatch(event=closed, assignee=worker.name)),
        (worker, "start", cmd.EventRef(event=closed)),
        (worker, "handled", cmd.EventRef(event=closed)),
        (staff, "verify", cmd.Verify(event=closed, passed=True)),
        (staff, "close", cmd.EventRef(event=closed)),
    ]:
        answer = await run.server.submit(CommandRequest(actor, op, args))
        assert answer.ok, (op, answer.message)
    await c.ws.close()
    await run.server.stop()
    kept_book(sqlite_store).unlink()  # as after a crash: no book kept, the start fills

    gate = threading.Event()
    fill = kpi.filled

    def held(*args):  # type: ignore[no-untyped-def]
        assert gate.wait(10)
        return fill(*args)

    monkeypatch.setattr(kpi, "filled", held)
    again = DispatchServer(sqlite_store, run.server.reference)
    port = await again.start("127.0.0.1", 0)
    hub = again.hub
    assert hub is not None
    try:
        wall = await open_client(port, run.tokens["commander"])
        _, snapshot = await handshake(wall)
        assert snapshot.kpis_catching_up and snapshot.kpis == {}  # served before counted
        answer = await ask(wall, "street", "month")
        assert isinstance(answer, Result) and answer.data["catching_up"] is True
        assert isinstance(await wall.command("report", report_args(run)), Result)
        evaluated = await wall.command("evaluate", {"event": closed, "score": 5, "note": "满意"})
        assert isinstance(evaluated, Result), evaluated
        gate.set()
        whole = await wall.until(lambda m: isinstance(m, Kpis) and not m.catching_up)
        assert isinstance(whole, Kpis)
        assert whole.month[LINGHU].received == 4 and whole.month[LINGHU].evaluated == 1
        assert whole.month[LINGHU].closed == 1
        events, *_ = await asyncio.to_thread(sqlite_store.load_state, 0.0)
        fresh = kpi.compute(
            events, whole.at, departments=frozenset(run.server.reference.departments)
        )
        assert whole.month == fresh.scopes("month") and whole.week == fresh.scopes("week")
        assert not hub.kpis_partial and not hub.kpis.filling
        await wall.ws.close()
    finally:
        gate.set()
        await again.stop()


def kept_book(store: Store) -> Path:
    """Where a clean stop keeps the KPI books of this SQLite store (dispatch/kept_kpis.py)."""
    return Path(f"{store.engine.url.database}.kpis")


async def test_a_clean_restart_serves_whole_figures_from_its_first_snapshot(
    sqlite_store, monkeypatch
) -> None:
    """A clean stop keeps the KPI books; the next start on the same log reads them back
    instead of counting the month again: its first snapshot's figures are whole, and equal a
    recount from the database, also after new changes. A start on a log that moved on since
    (the kept book is taken once) counts again."""
    run = await start_server(sqlite_store)
    c = await run.client("commander")
    await handshake(c)
    for _ in range(3):
        assert isinstance(await c.command("report", report_args(run)), Result)
    await c.ws.close()
    await run.server.stop()
    assert kept_book(sqlite_store).exists()

    def never(*_args):  # type: ignore[no-untyped-def]
        raise AssertionError("the month was counted again")

    monkeypatch.setattr(kpi, "filled", never)
    departments = frozenset(run.server.reference.departments)
    again = DispatchServer(sqlite_store, run.server.reference)
    port = await again.start("127.0.0.1", 0)
    try:
        assert not kept_book(sqlite_store).exists()  # taken
        wall = await open_client(port, run.tokens["commander"])
        _, snapshot = await handshake(wall)
        assert not snapshot.kpis_catching_up
        assert snapshot.kpis["district"].received == 3
        assert isinstance(await wall.command("report", report_args(run)), Result)
        pushed = await wall.until(
            lambda m: isinstance(m, Kpis) and m.scopes["district"].received == 4
        )
        assert isinstance(pushed, Kpis)
        events, *_ = await asyncio.to_thread(sqlite_store.load_state, 0.0)
        fresh = kpi.compute(events, pushed.at, departments=departments)
        # (Today's curve of yesterday comes from the store, beside the book.)
        assert pushed.month == fresh.scopes("month") and pushed.week == fresh.scopes("week")
        await wall.ws.close()
    finally:
        await again.stop()
    monkeypatch.undo()
    # The log moves on without a clean stop (a crash): the book kept at the last clean stop
    # describes an older head and is not used.
    kept = kept_book(sqlite_store).read_bytes()
    moved = await start_server(sqlite_store)
    c = await moved.client("commander")
    await handshake(c)
    assert isinstance(await c.command("report", report_args(moved)), Result)
    await c.ws.close()
    await moved.server.stop()
    kept_book(sqlite_store).write_bytes(kept)  # the older book, as a crash leaves it
    last = DispatchServer(sqlite_store, run.server.reference)
    port = await last.start("127.0.0.1", 0)
    try:
        assert not kept_book(sqlite_store).exists()
        assert last.hub is not None and last.hub.kpis.filling  # counting again
        await last.hub.kpis_filled.wait()
        events, *_ = await asyncio.to_thread(sqlite_store.load_state, 0.0)
        now = last.clock.now()
        await last.hub.count_kpis(now)
        assert last.hub.kpis.scopes("month") == kpi.compute(
            events, now, departments=departments
        ).scopes("month")
    finally:
        await last.stop()


async def test_stats_requests_share_the_command_allowance(sqlite_store) -> None:
    from dispatch.server import Limits

    run = await start_server(sqlite_store, Limits(commands_per_second=1, command_burst=3))
    try:
        c = await run.client("commander")
        await handshake(c)
        answers = [await ask(c, "grid") for _ in range(5)]
        refused = [a for a in answers if isinstance(a, Error)]
        assert refused and all(a.code == ErrorCode.RATE_LIMITED for a in refused)
        assert isinstance(answers[0], Result) and answers[0].data["catching_up"] is False
        await c.ws.close()
    finally:
        await run.server.stop()


async def test_a_return_visit_reopens_a_case_closed_days_ago(sqlite_store) -> None:
    """The live state lets settled cases go after 36 h; a return visit still finds them."""
    from dispatch.state import Actor
    from dispatch.writer import CommandRequest
    from protocol import commands as cmd

    run = await start_server(sqlite_store)
    try:
        c = await run.client("commander")
        await handshake(c)
        reported = await c.command("report", report_args(run))
        assert isinstance(reported, Result)
        eid = reported.data["event"]
        staff = Actor("菱湖分中心", "street", frozenset({LINGHU}))
        worker = Actor("网格员 张三", "street", frozenset({LINGHU}))
        steps = [
            (staff, "accept", cmd.EventRef(event=eid)),
            (staff, "dispatch", cmd.Dispatch(event=eid, assignee=worker.name)),
            (worker, "start", cmd.EventRef(event=eid)),
            (worker, "handled", cmd.EventRef(event=eid)),
            (staff, "verify", cmd.Verify(event=eid, passed=True)),
            (staff, "close", cmd.EventRef(event=eid)),
        ]
        for actor, op, args in steps:
            answer = await run.server.submit(CommandRequest(actor, op, args))
            assert answer.ok, (op, answer.message)
        # Let go of by the live state and the hub, as 36 hours after closing.
        assert run.server.hub is not None
        run.server.state.events.pop(eid)
        run.server.hub.events.pop(eid)
        evaluated = await c.command("evaluate", {"event": eid, "score": 1, "note": "回访不满意"})
        assert isinstance(evaluated, Result), evaluated
        assert run.server.state.events[eid].status == "dispatched"  # a low score reopens it
        outsider = await run.client("dekuan")
        await handshake(outsider)
        run.server.state.events.pop(eid)
        hidden = await outsider.command("reopen", {"event": eid, "reason": "x"})
        assert isinstance(hidden, Error) and hidden.code == "not_found"
        await c.ws.close()
        await outsider.ws.close()
    finally:
        await run.server.stop()


async def test_week_and_month_equal_a_recount_from_the_store_across_days(sqlite_store) -> None:
    """The book keeps only open cases one by one and files settled ones by day (docs/kpis.md
    §7). After a simulated run from a Sunday evening across Monday's midnight (a new day and
    week) and 1 December's (a new day and month), with evaluations and reopenings of closed
    cases on the way, today's, this week's and this month's figures equal figures counted
    from scratch from the database, and the book holds no settled case."""
    from protocol.entities import OPEN_STATUSES
    from tests.dispatch.test_kpi import assert_filed_by_day, recount, same

    start = datetime(2026, 11, 29, 20, 0, tzinfo=CST).timestamp()  # Sunday 20:00
    end = datetime(2026, 12, 1, 2, 0, tzinfo=CST).timestamp()  # Tuesday 02:00
    reference = reference_for(sqlite_store)
    clock = Clock(speed=7200.0, start=start)
    server = DispatchServer(sqlite_store, reference, clock)
    server.begin_catching_up()
    await server.start("127.0.0.1", 0)
    hub = server.hub
    assert hub is not None
    simulator = Simulator(server, seed=3, daily_events=300, daily_alerts=40)
    task = asyncio.create_task(simulator.run(warm_up=True))
    try:
        settled_seen = 0
        # Past Tuesday 02:00 and caught up (a loaded machine may take longer than the clock's
        # 15 s); by Saturday at the latest, or the week's and month's figures change meaning.
        latest = datetime(2026, 12, 5, 0, 0, tzinfo=CST).timestamp()
        while clock.now() < end or not simulator.warmed_up:
            assert clock.now() < latest, "the simulator did not catch up by Saturday"
            await asyncio.sleep(0.2)
            settled_seen = max(settled_seen, sum(1 for d in hub.kpis.days.values() if d.tallies))
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    try:
        # Hold the clock still and let the writer finish what the simulator submitted.
        server.ticking = False
        frozen = clock.now()
        clock.speed, clock._sim0, clock._real0 = 1e-9, frozen, time.monotonic()
        for _ in range(100):
            await asyncio.sleep(0.05)
            head, _ = await asyncio.to_thread(sqlite_store.head)
            if hub.head == head:
                break
        assert hub.head == head
        now = clock.now()
        await hub.count_kpis(now)
        book = hub.kpis
        assert book.starts == kpi.period_starts(now) and not book.rolling
        events, *_ = await asyncio.to_thread(sqlite_store.load_state, 0.0)
        departments = frozenset(reference.departments)
        fresh = kpi.compute(events, now, departments=departments)
        counted = recount(events, now, departments)
        assert counted[2]["district"][kpi.CLOSED] > 0, "nothing closed this month"
        assert counted[1]["district"][kpi.CLOSED] > counted[2]["district"][kpi.CLOSED]
        for index, period in enumerate(kpi.PERIODS):
            # What is sent (yesterday's curve is read from the store apart: left out).
            shown = {s: replace(k, hourly_yesterday=[]) for s, k in book.scopes(period).items()}
            assert shown == fresh.scopes(period)
            for scope in set(book.tallies[index]) | set(counted[index]):
                assert same(book.tallies[index].get(scope), counted[index].get(scope)), (
                    period,
                    scope,
                )
                got, want = book.kpi(period, scope), fresh.kpi(period, scope)
                assert replace(got, hourly_yesterday=[]) == want, (period, scope)
            assert_filed_by_day(book, period)
        # Only open cases are kept one by one; the days are this week's (it began in November).
        assert {e.id for e in events if e.status in OPEN_STATUSES} == set(book.entries)
        assert min(book.days) >= book.starts[1] and settled_seen >= 2
        assert any(e.evaluated_at and e.evaluated_at >= book.starts[2] for e in events)
    finally:
        await server.stop()
