"""The desktop's time machine (复盘) against a real backend: a seeded simulated day written
through the real writer into a real SQLite file while live replicas were recorded over a real
websocket; then a real session's TimeMachine seeks, steps and plays through that day, and
must show exactly what the live replica held at each recorded position, keep the live state
fed meanwhile, and come back to it whole."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass

import pytest

from desktop.core.feed import Feed
from desktop.core.link import Inbox
from desktop.core.replay_answers import Moment, Page
from desktop.core.replica import Replica
from desktop.core.session import Session
from desktop.core.time_machine import TimeMachine
from dispatch.store.store import LogRow
from protocol.messages import Error
from tests.dispatch.conftest import LINGHU
from tests.dispatch.test_replay import Day, Served, day, served  # noqa: F401 (fixtures)


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Screen:
    replica: Replica
    feed: Feed
    session: Session
    machine: TimeMachine
    clock: Clock

    async def settle(self) -> None:
        """Let the session's messages reach the replica (the wall's frame)."""
        for _ in range(50):
            await asyncio.sleep(0.02)
            self.feed.collect()


@pytest.fixture
async def screen(served: Served) -> AsyncIterator[Screen]:  # noqa: F811
    """A commander's screen on the served day: replica, feed, session, time machine."""
    clock = Clock()
    replica = Replica(view="all")
    feed = Feed(replica)
    inbox = Inbox(lambda: None)
    session = Session(
        f"ws://127.0.0.1:{served.port}",
        served.day.tokens["commander"],
        on_message=inbox.put,
        on_status=inbox.put,
        view="all",
    )
    feed.listen(inbox)
    task = asyncio.create_task(session.run())
    await asyncio.wait_for(session.wait_connected(), 15)
    machine = TimeMachine(replica, feed, session.replay, monotonic=clock)
    shown = Screen(replica, feed, session, machine, clock)
    await shown.settle()
    try:
        yield shown
    finally:
        await session.stop()
        await asyncio.gather(task, return_exceptions=True)


def _held(replica: Replica) -> tuple[object, object, object]:
    return replica.events, replica.alerts, replica.duty


async def test_a_seek_shows_what_the_live_replica_held_and_live_comes_back_whole(
    screen: Screen,
    served: Served,  # noqa: F811
) -> None:
    live_before = (dict(screen.replica.events), dict(screen.replica.alerts))
    for moment in served.day.moments["commander"][:-1]:
        assert await screen.machine.seek(seq=moment.seq), screen.machine.message
        assert screen.machine.active and screen.replica.seq == moment.seq
        assert _held(screen.replica) == (moment.events, moment.alerts, moment.duty)
        changes = screen.machine.take_changes()
        assert changes.reset and not changes.new_events  # the past is never news
        assert screen.replica.risk == {} and screen.replica.kpis_month == {}
        # The day's figures as they stood then, the scopes the live ones have.
        assert "district" in screen.replica.kpis
        assert set(screen.replica.kpis) <= set(screen.machine.live.kpis) | {"district"}  # type: ignore[union-attr]
        assert len(screen.machine.curve) == 24 and screen.machine.day <= screen.machine.at
    # Live goes on meanwhile: a case reported now reaches the live state, not the screen.
    shown = dict(screen.replica.events)
    from tests.dispatch.test_server import report_args

    assert screen.machine.live is not None
    result = await screen.session.command(
        "report", report_args(_Running(served), LINGHU, "回放时新报")
    )
    await screen.settle()
    new_id = result.data["event"]  # type: ignore[union-attr]
    assert new_id in screen.machine.live.events and new_id not in screen.replica.events
    assert screen.replica.events == shown
    changes = screen.machine.go_live()
    assert changes.reset and not screen.machine.active and screen.feed.replica is screen.replica
    assert new_id in screen.replica.events
    assert set(live_before[0]) | {new_id} == set(screen.replica.events)


async def test_steps_and_play_reach_the_next_recorded_moments_exactly(
    screen: Screen,
    served: Served,  # noqa: F811
) -> None:
    moments = served.day.moments["commander"]
    first, second, third = moments[0], moments[1], moments[2]
    assert await screen.machine.seek(seq=first.seq)
    # Step by step (fetching a page of deltas as they run out) to the next recorded moment.
    while screen.replica.seq < second.seq:
        assert await screen.machine.step()
        # Each step asks for its moment's figures, the one before's request cancelled: that
        # one's end must not forget the new request (it did: found in review), and only a
        # moment held FIGURES_SETTLE is asked for (a request a step spent the allowance:
        # the pages' fetches below were then refused "too many requests").
        asking = screen.machine._figuring
        await asyncio.sleep(0)
        assert screen.machine._figuring in (asking, None)
    assert screen.replica.seq == second.seq
    assert _held(screen.replica) == (second.events, second.alerts, second.duty)
    assert not screen.machine.take_changes().new_events
    # Play at 3,600x: the playhead passes the deltas' times as the clock moves; stopped
    # exactly at the third moment's last change, nothing after it is applied yet.
    third_at = _page(served, third.seq - 1, third.seq)[0].at
    after = _page(served, third.seq, third.seq + 1)
    screen.machine.play(3600.0)
    assert screen.machine.mode == "playing"
    start_at, started = screen.machine.at, screen.clock.now
    # The pages come from the backend as the playhead needs them: on a loaded machine
    # (CI) they took longer than the 2 s of ticks this once allowed.
    deadline = asyncio.get_running_loop().time() + 60
    step = 0
    while screen.replica.seq < third.seq and asyncio.get_running_loop().time() < deadline:
        step += 1
        screen.clock.now = started + min(step * 0.05, (third_at - start_at) / 3600.0)
        screen.machine.tick()
        await asyncio.sleep(0.005)  # the next page's fetch runs meanwhile
    assert screen.machine.at <= third_at
    assert screen.replica.seq == third.seq or (after and after[0].at == third_at)
    screen.machine.pause()
    assert screen.machine.mode == "paused"
    # Paused, the figures of that very moment arrive: those of a seek to it. Until then
    # the figures on the replica are not the moment's, and the machine says so.
    assert screen.machine.figures == "pending"
    paused_at = screen.machine.at
    for _ in range(1500):  # a busy machine (CI) took over 2 s
        await asyncio.sleep(0.01)
        if screen.machine.figures != "pending":
            break
    assert screen.machine.figures == "shown", "the paused moment's figures never came"
    figures = dict(screen.replica.kpis)
    assert await screen.machine.seek(paused_at)
    assert screen.replica.kpis == figures
    if screen.replica.seq == third.seq:
        assert _held(screen.replica) == (third.events, third.alerts, third.duty)
    assert not screen.machine.take_changes().new_events


async def test_figures_that_do_not_come_are_said_not_to_be_the_moments(
    screen: Screen,
    served: Served,  # noqa: F811
) -> None:
    """Paused with the backend gone, the moment's figures cannot come: the older ones stay
    on the replica but the machine says they are not the playhead's (the wall shows dots),
    until a later answer brings the right ones."""
    session = screen.session

    def ask(**fields: object) -> Awaitable[Moment | Page | Error]:
        return session.replay(patience=0.5, **fields)  # not the screen's 30 s: a test's

    machine = TimeMachine(screen.replica, screen.feed, ask, monotonic=screen.clock)
    moments = served.day.moments["commander"]
    assert await machine.seek(seq=moments[1].seq)
    assert machine.figures == "shown"
    # Played on before the paused moment's figures come: the marks' figures are shown then.
    machine.play(60.0)
    machine.pause()
    assert machine.figures == "pending"
    machine.play(60.0)
    assert machine.figures == "shown" and machine._figuring is None
    shown = dict(screen.replica.kpis)
    await session.stop()
    machine.play(60.0)
    machine.pause()
    assert machine.figures == "pending"
    for _ in range(3000):  # 30 s: a loaded machine's 0.5 s of patience
        await asyncio.sleep(0.01)
        if machine.figures != "pending":
            break
    assert machine.figures == "failed"
    assert screen.replica.kpis == shown  # kept, but not called the moment's
    assert machine.take_changes().kpis  # the screen is told to redraw them
    machine.go_live()
    assert machine.figures == "shown"


def _page(served: Served, low: int, high: int) -> list[LogRow]:  # noqa: F811
    """The log rows in (low, high]."""
    return served.store.log_rows(low, high, high - low)


class _Running:
    """What tests.dispatch.test_server.report_args needs of a running backend."""

    def __init__(self, served: Served) -> None:  # noqa: F811
        self.server = served.server


async def test_a_refused_seek_says_why_and_keeps_what_was_shown(
    screen: Screen,
    served: Served,  # noqa: F811
) -> None:
    moment = served.day.moments["commander"][0]
    assert await screen.machine.seek(seq=moment.seq)
    assert not await screen.machine.seek(at=0.0 + 86400 * 365 * 30)
    assert "before the kept history" in screen.machine.message
    assert screen.replica.seq == moment.seq
    assert _held(screen.replica) == (moment.events, moment.alerts, moment.duty)
