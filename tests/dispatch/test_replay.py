"""The time machine's backend (复盘, issue 15 item 1, docs/protocol.md §6.14): the real
simulator writes a seeded day and a quarter through the real writer into a real SQLite file
while real clients keep replicas of what they are sent over a real websocket; then `replay`
requests over a real websocket seek to the moments recorded, with and without checkpoints,
after a trim-log, and as a street user, and must give back exactly what was shown: the
state, and the day's KPIs as the live `kpis` pushes had them."""

from __future__ import annotations

import asyncio
import contextlib
import math
import shutil
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest

from bench.risk import END
from desktop.core.replica import Replica
from dispatch import kpi, replay
from dispatch.app import load_reference, prepare
from dispatch.clock import Clock
from dispatch.hub import kpi_scopes
from dispatch.limits import Limits
from dispatch.reference import ReferenceData
from dispatch.server import DispatchServer
from dispatch.simulator import Simulator
from dispatch.store.store import Store
from protocol.codec import decode_server, encode
from protocol.entities import Alert, Duty, Event, Kpi
from protocol.messages import Error, Hello, Kpis, Replay, Result, ServerMessage, Snapshot
from protocol.retention import View
from tests.dispatch.conftest import LINGHU, Client, Running, point_in
from tests.dispatch.test_server import handshake, report_args

DAILY, SEED = 300, 11
MARK_EVERY = 700
LIVE_REPORTS = 3  # cases reported once live, each followed by a kpis push
PAGE = 1_000  # log rows between two recordings of the live replicas
USERS = {"commander": ("commander", []), "wall": ("wall", []), "linghu": ("street", [LINGHU])}


@dataclass
class Moment:
    """A live replica as it stood at log position `seq`."""

    seq: int
    events: dict[int, Event]
    alerts: dict[int, Alert]
    duty: Duty | None


@dataclass
class Day:
    path: Path
    tokens: dict[str, str]
    moments: dict[str, list[Moment]]  # by user
    kpis: dict[str, list[tuple[int, Kpis]]]  # by user: each `kpis` message, at its replica's seq


async def _connect(port: int, token: str, view: View = "all") -> Client:
    from websockets.asyncio.client import connect

    ws = await connect(f"ws://127.0.0.1:{port}", max_size=None, compression=None)
    hello = Hello(id=1, protocol=1, token=token, client="pytest", view=view)
    await ws.send(encode(hello).decode())
    return Client(ws)


def _moment(replica: Replica) -> Moment:
    return Moment(replica.seq, dict(replica.events), dict(replica.alerts), replica.duty)


async def _follow(
    client: Client,
    replica: Replica,
    moments: list[Moment],
    kpis: list[tuple[int, Kpis]],
    moved: asyncio.Event,
) -> None:
    """Apply everything the client is sent; record the replica every MARK_EVERY rows, and
    every `kpis` message with the log position the replica stood at when it came."""
    mark = MARK_EVERY
    async for raw in client.ws:
        message = decode_server(raw)
        replica.apply(message)
        if isinstance(message, Kpis):
            kpis.append((replica.seq, message))
        moved.set()
        if replica.seq >= mark:
            moments.append(_moment(replica))
            mark = replica.seq + MARK_EVERY


async def _simulate(path: Path) -> Day:
    store = Store(f"sqlite:///{path}")
    prepare(store)
    tokens = {
        name: store.create_user(name, role, streets) for name, (role, streets) in USERS.items()
    }
    reference = load_reference(store, END)
    # No checkpoint round while it runs: the replays below start with none.
    limits = Limits(checkpoint_interval=3600.0)
    server = DispatchServer(store, reference, Clock(speed=0.001, start=END), limits)
    server.begin_catching_up()
    port = await server.start("127.0.0.1", 0, intake_now=False)
    views: dict[str, View] = {"commander": "all", "wall": "open", "linghu": "all"}
    moments: dict[str, list[Moment]] = {name: [] for name in views}
    kpis: dict[str, list[tuple[int, Kpis]]] = {name: [] for name in views}
    clients, followers, replicas = [], [], {}
    moved = asyncio.Event()  # the commander's replica applied something
    for name, view in views.items():
        client = await _connect(port, tokens[name], view)
        clients.append(client)
        replica = replicas[name] = Replica(view=view)
        told = moved if name == "commander" else asyncio.Event()
        followers.append(
            asyncio.create_task(_follow(client, replica, moments[name], kpis[name], told))
        )
    await asyncio.sleep(0.2)  # every replica has its (empty) snapshot
    simulator = Simulator(server, seed=SEED, daily_events=DAILY, history_days=1)
    task = asyncio.create_task(simulator.run(warm_up=True))
    try:
        await asyncio.wait_for(simulator.live.wait(), 120)
        assert server.hub is not None
        await _live_changes(port, tokens["commander"], reference, kpis["commander"])
        head = server.hub.head
        # Each replica as it stands at the head too, once every delta has reached it.
        while replicas["commander"].seq < head:
            moved.clear()
            await asyncio.wait_for(moved.wait(), 10)
        for name, replica in replicas.items():
            moments[name].append(_moment(replica))
        # The whole figures the catch-up's end pushed (already queued): each user's, received.
        for _ in range(200):
            if all(any(not k.catching_up for _, k in kpis[name]) for name in views):
                break
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        for client in clients:
            await client.ws.close()
        await asyncio.gather(*followers, return_exceptions=True)
        await server.stop()
        store.close()
    return Day(path, tokens, moments, kpis)


async def _live_changes(
    port: int, token: str, reference: ReferenceData, pushed: list[tuple[int, Kpis]]
) -> None:
    """A few cases reported once live, each followed by a push of whole figures (`pushed`,
    the commander's replica's): more moments to hold the replayed KPIs to the live ones."""
    desk = await _connect(port, token)
    while not isinstance(await desk.recv(timeout=15), Snapshot):
        pass
    lon, lat = point_in(reference, LINGHU)
    for step in range(LIVE_REPORTS):
        args = {"category": "01-02", "title": f"复盘{step}", "lon": lon, "lat": lat}
        reply = await desk.command("report", {**args, "source": "hotline"})
        assert isinstance(reply, Result) and reply.seq is not None, reply
        for _ in range(200):
            if any(seq >= reply.seq and not k.catching_up for seq, k in pushed):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"no whole kpis push after seq {reply.seq}")
    await desk.ws.close()


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Day:
    """A seeded simulated day and a quarter, with the live replicas recorded as it ran."""
    path = tmp_path_factory.mktemp("replay") / "day.db"
    return asyncio.run(_simulate(path))


@dataclass
class Served:
    server: DispatchServer
    store: Store
    port: int
    day: Day

    async def client(self, name: str, view: View = "all") -> Client:
        client = await _connect(self.port, self.day.tokens[name], view)
        while not isinstance(await client.recv(timeout=15), Snapshot):
            pass
        return client


@contextlib.asynccontextmanager
async def serving(day: Day, folder: Path) -> AsyncIterator[Served]:
    """A backend on a copy of the day's store (in `folder`), its clock an hour past the
    day's end; stopped, and the store closed, on the way out."""
    path = folder / "day.db"
    shutil.copy(day.path, path)
    store = Store(f"sqlite:///{path}")
    server = DispatchServer(
        store,
        load_reference(store, END),
        Clock(speed=0.001, start=END + 3600),
        # Range answers of at most PAGE rows: the day's few thousand rows make several pages.
        Limits(checkpoint_interval=3600.0, replay_rows=PAGE),
    )
    try:
        port = await server.start("127.0.0.1", 0, intake_now=False)
        yield Served(server, store, port, day)
    finally:
        await server.stop()
        store.close()


@pytest.fixture
async def served(day: Day, tmp_path: Path) -> AsyncIterator[Served]:
    """A backend on a copy of the day's store (see `serving`)."""
    async with serving(day, tmp_path) as running:
        yield running


async def _ask(client: Client, **fields: Any) -> Result | Error:
    request_id = next(client.ids)
    await client.ws.send(encode(Replay(id=request_id, **fields)).decode())
    return await _answer(client, request_id)


async def _answer(client: Client, request_id: int) -> Result | Error:
    def answers(m: ServerMessage) -> bool:
        return isinstance(m, (Result, Error)) and m.id == request_id

    reply = await client.until(answers, timeout=30)
    assert isinstance(reply, (Result, Error))
    return reply


def _state(reply: Result | Error) -> tuple[dict[int, Event], dict[int, Alert], Duty | None]:
    assert isinstance(reply, Result), reply
    data = reply.data
    events = msgspec.convert(data["events"], list[Event])
    alerts = msgspec.convert(data["alerts"], list[Alert])
    duty = None if data["duty"] is None else msgspec.convert(data["duty"], Duty)
    return {e.id: e for e in events}, {a.id: a for a in alerts}, duty


async def _seek_each(served: Served, name: str, view: View = "all") -> int:
    """Seek to every recorded moment of `name`'s replica; assert the same state."""
    client = await served.client(name, view)
    moments = served.day.moments[name]
    assert len(moments) >= 3, "the day was too short to record several moments"
    for moment in moments:
        reply = await _ask(client, seq=moment.seq)
        events, alerts, duty = _state(reply)
        assert isinstance(reply, Result) and reply.data["seq"] == moment.seq
        assert events == moment.events, moment.seq
        assert alerts == moment.alerts, moment.seq
        assert duty == moment.duty
    await client.ws.close()
    return len(moments)


async def test_a_seek_gives_what_the_live_replica_held(served: Served) -> None:
    assert served.store.checkpoints(served.server.hub.epoch) == []  # type: ignore[union-attr]
    assert await _seek_each(served, "commander") >= 3
    # The wall's view: open cases only, as its live replica kept them.
    await _seek_each(served, "wall", "open")


async def test_a_street_user_replays_only_its_street(served: Served) -> None:
    await _seek_each(served, "linghu")
    client = await served.client("linghu")
    events, alerts, _ = _state(await _ask(client, seq=served.day.moments["commander"][-1].seq))
    assert events and all(e.street == LINGHU for e in events.values())
    assert all(a.street == LINGHU for a in alerts.values())
    whole = served.day.moments["commander"][-1]
    assert set(events) == {i for i, e in whole.events.items() if e.street == LINGHU}
    await client.ws.close()


async def test_checkpoints_change_nothing_but_the_speed(served: Served) -> None:
    store, hub = served.store, served.server.hub
    assert hub is not None
    made = await asyncio.to_thread(
        replay.make_checkpoints, store, hub.epoch, hub.head, every_rows=700
    )
    assert made >= 5 and len(store.checkpoints(hub.epoch)) == made
    await _seek_each(served, "commander")
    await _seek_each(served, "linghu")
    # A checkpoint is one seq's state: the same whether rebuilt from it or from nothing.
    for seq, _ in store.checkpoints(hub.epoch)[:3]:
        a = replay.state_at(store, seq + 5, hub.epoch)
        b = replay.state_at(store, seq + 5, hub.epoch, checkpoints=False)
        horizon = max(a.at, b.at)
        assert a.visible(bool, lambda _: "", "all", horizon) == b.visible(
            bool, lambda _: "", "all", horizon
        )


async def test_archived_rows_are_still_replayed(served: Served) -> None:
    store, hub = served.store, served.server.hub
    assert hub is not None
    moments = served.day.moments["commander"]
    moved = await asyncio.to_thread(store.trim_log, moments[1].seq + 10)
    assert moved > moments[1].seq
    await _seek_each(served, "commander")


async def test_a_seek_by_time_and_a_range_of_deltas(served: Served) -> None:
    client = await served.client("commander")
    moment = served.day.moments["commander"][1]
    by_seq = await _ask(client, seq=moment.seq)
    assert isinstance(by_seq, Result)
    # The moment that position was reached: the same state (the last row made by then).
    by_time = await _ask(client, at=by_seq.data["at"])
    assert isinstance(by_time, Result) and by_time.data["seq"] >= moment.seq
    later = served.day.moments["commander"][2]
    # From one moment to the next by the deltas in between, a page at a time.
    events, alerts, duty = dict(moment.events), dict(moment.alerts), moment.duty
    low, pages = moment.seq, 0
    while True:
        page = await _ask(client, from_seq=low, to_seq=later.seq)
        assert isinstance(page, Result), page
        pages += 1
        for delta in page.data["deltas"]:
            assert delta["type"] == "delta" and low < delta["seq"] <= later.seq
            data = delta["data"]
            if data["kind"] == "event":
                events[data["id"]] = msgspec.convert(data, Event)
            elif data["kind"] == "alert":
                alerts[data["id"]] = msgspec.convert(data, Alert)
            else:
                duty = msgspec.convert(data, Duty)
        low = page.data["to_seq"]
        if not page.data["more"]:
            break
    assert low == later.seq
    assert (events, alerts, duty) == (later.events, later.alerts, later.duty)
    # The audit: every replay answered is a row of the admin log.
    rows = [r for r in served.store.admin_log(100) if r.action == "replay"]
    assert len(rows) == 2 + pages and all(r.actor == "commander" for r in rows)
    await client.ws.close()


async def test_a_long_range_comes_in_pages(served: Served) -> None:
    hub = served.server.hub
    assert hub is not None
    client = await served.client("commander")
    page = await _ask(client, from_seq=0, to_seq=hub.head)
    assert isinstance(page, Result) and page.data["more"] is True
    assert page.data["to_seq"] == PAGE and len(page.data["deltas"]) == PAGE
    # A street user's page reads as many rows, and holds only what it may see.
    street = await served.client("linghu")
    mine = await _ask(street, from_seq=0, to_seq=hub.head)
    assert isinstance(mine, Result) and mine.data["more"] is True
    assert mine.data["to_seq"] == PAGE and 0 < len(mine.data["deltas"]) < PAGE
    for delta in mine.data["deltas"]:
        data = delta["data"]
        assert data["kind"] == "duty" or data["street"] == LINGHU, delta
    await street.ws.close()
    await client.ws.close()


def _kpis(reply: Result | Error) -> dict[str, Kpi]:
    assert isinstance(reply, Result), reply
    return msgspec.convert(reply.data["kpis"], dict[str, Kpi])


def _per_hour(events: Iterable[Event], day: float, upto: float = math.inf) -> list[int]:
    """Cases reported in the day that began at `day` (and by `upto`), per hour."""
    hours = [0] * 24
    for event in events:
        if day <= event.reported_at < day + 86400 and event.reported_at <= upto:
            hours[int((event.reported_at - day) // 3600)] += 1
    return hours


async def test_replayed_kpis_are_the_live_ones(served: Served) -> None:
    """At each moment the live stream pushed whole figures (the catch-up's end, and every
    push after it), a replay `at` that moment answers the very `scopes` the client was sent.

    Exact, not close: the live book counted every change delivered before its push at
    `now`, the message's `at`, and the replay counts the log up to the last row made by
    that `at`, at that `at`. They are compared where that log position is the one the
    client's replica stood at when the message came (a change stamped before `at` but
    delivered after the push would differ, through no fault of either). The pushes during
    the catch-up are partial (`catching_up`) and counted at the clock's time, not the
    rows': not comparable, and left out. A push's log position is the commander's replica's
    (a street user's replica stands at the last change it may see)."""
    heads = {live.at: seq for seq, live in served.day.kpis["commander"]}
    for name in ("commander", "linghu"):
        client = await served.client(name)
        compared = 0
        for _, live in served.day.kpis[name]:
            if live.catching_up:
                continue
            reply = await _ask(client, at=live.at)
            assert isinstance(reply, Result), reply
            if reply.data["seq"] != heads.get(live.at):
                continue
            assert _kpis(reply) == live.scopes, (name, live.at)
            if name == "commander":
                assert {"district", LINGHU} <= set(live.scopes)
                assert live.scopes["district"].hourly and live.scopes["district"].received
            else:
                assert set(live.scopes) == {LINGHU}
            compared += 1
        # Pushed: the catch-up's end and one after each live report; one may be lost to
        # the race above, not more.
        assert compared >= LIVE_REPORTS, [(k.at, k.catching_up) for _, k in served.day.kpis[name]]
        await client.ws.close()


async def test_replayed_kpis_and_curve_at_every_moment(served: Served) -> None:
    """With checkpoints (each drops the cases settled 36 h before it), each recorded moment's
    KPIs are kpi.compute() over the whole log walked from its first row at that moment;
    today's arrivals per hour up to the moment are those of the cases the live replica held
    then, and the curve is the whole day's, as the store has them."""
    store, server = served.store, served.server
    hub = server.hub
    assert hub is not None
    made = await asyncio.to_thread(
        replay.make_checkpoints, store, hub.epoch, hub.head, every_rows=700
    )
    assert made >= 5
    departments = frozenset(server.reference.departments)
    final = served.day.moments["commander"][-1]
    client = await served.client("commander")
    days = set()
    for moment in served.day.moments["commander"]:
        reply = await _ask(client, seq=moment.seq)
        assert isinstance(reply, Result), reply
        at = reply.data["at"]
        day = kpi.day_start(at)
        days.add(day)
        assert reply.data["day"] == day
        whole = replay.state_at(store, moment.seq, hub.epoch, checkpoints=False)
        yesterday = kpi.hourly(store.arrivals(day - 86400, day), day - 86400)
        book = kpi.compute(whole.events.values(), at, yesterday, departments)
        kpis = _kpis(reply)
        assert kpis == kpi_scopes(book, "today", None), moment.seq
        hours = _per_hour(moment.events.values(), day, at)
        last = max((h for h, n in enumerate(hours) if n), default=-1)
        assert kpis["district"].hourly == hours[: last + 1]
        assert kpis["district"].hourly_yesterday == yesterday.get("district")
        curve = reply.data["curve"]
        reported = list(store.events_reported(day, day + 86400))
        assert curve == _per_hour(reported, day) == _per_hour(final.events.values(), day)
        assert sum(curve) == len(reported) > 0
        # The hours before the moment's are whole in both.
        assert curve[: int((at - day) // 3600)] == hours[: int((at - day) // 3600)]
    assert len(days) == 2  # moments of both days of the history
    await client.ws.close()


async def test_a_street_or_community_user_gets_its_own_figures(served: Served) -> None:
    """A street user's KPIs are its street's scope only, a community user's its community's;
    each one's curve counts only the cases it may see."""
    final = served.day.moments["commander"][-1]
    mine = Counter(e.community for e in final.events.values() if e.street == LINGHU)
    community = mine.most_common(1)[0][0]
    token = served.store.create_user("社区", "community", communities=[community])
    commander = await served.client("commander")
    whole = await _ask(commander, seq=final.seq)
    assert isinstance(whole, Result)
    day = whole.data["day"]
    reported = list(served.store.events_reported(day, day + 86400))
    assert sum(whole.data["curve"]) == len(reported)
    for name, code in (("linghu", LINGHU), ("社区", community)):
        if name == "linghu":
            client = await served.client(name)
        else:
            client = await _connect(served.port, token)
            while not isinstance(await client.recv(timeout=15), Snapshot):
                pass
        reply = await _ask(client, seq=final.seq)
        assert isinstance(reply, Result), reply
        kpis, curve = _kpis(reply), reply.data["curve"]
        assert set(kpis) == {code}, set(kpis)
        seen = [e for e in reported if e.community.startswith(code)]
        assert curve == _per_hour(seen, day)
        assert 0 < sum(curve) < sum(whole.data["curve"])
        # At the head, the day's arrivals so far are the whole day's.
        assert kpis[code].received == sum(curve)
        if name == "linghu":
            assert kpis[code] == _kpis(whole)[code]  # the commander's figures of the street
        await client.ws.close()
    await commander.ws.close()


async def test_only_kpis_leaves_the_state_out(served: Served) -> None:
    client = await served.client("commander")
    moment = served.day.moments["commander"][1]
    full = await _ask(client, seq=moment.seq)
    lean = await _ask(client, seq=moment.seq, only_kpis=True)
    assert isinstance(full, Result) and isinstance(lean, Result)
    assert full.data["events"] and full.data["kpis"]["district"]
    assert (lean.data["events"], lean.data["alerts"], lean.data["duty"]) == ([], [], None)
    assert {k: v for k, v in lean.data.items() if k not in ("events", "alerts", "duty")} == {
        k: v for k, v in full.data.items() if k not in ("events", "alerts", "duty")
    }
    by_time = await _ask(client, at=full.data["at"], only_kpis=True)
    assert isinstance(by_time, Result) and by_time.data["events"] == []
    assert by_time.data["kpis"] == full.data["kpis"] and by_time.data["seq"] == moment.seq
    # Before the first row: no moment, nothing counted; the day and its curve the first row's.
    start = await _ask(client, seq=0, only_kpis=True)
    assert isinstance(start, Result), start
    span = served.store.log_span()
    assert span is not None and start.data["day"] == kpi.day_start(span[0][1])
    assert (start.data["at"], start.data["kpis"]) == (None, {})
    day = start.data["day"]
    reported = list(served.store.events_reported(day, day + 86400))
    assert start.data["curve"] == _per_hour(reported, day) and reported
    # Audited like any replay, the request's form named.
    targets = [(r.outcome, r.target) for r in served.store.admin_log(3)]
    assert targets == [
        ("ok", f"seq={moment.seq} only_kpis"),
        ("ok", f"at={full.data['at']} only_kpis"),
        ("ok", "seq=0 only_kpis"),
    ]
    await client.ws.close()


# Each refusal's request and the words its answer must hold (all bad_args).
REFUSED: list[tuple[dict[str, Any], str]] = [
    (
        {"at": END - 40 * 86400},
        "at 2026-10-21 06:00:00 is before the kept history, which begins at 2026-11-29 00:00",
    ),
    ({"at": END + 7 * 86400}, "at 2026-12-07 06:00:00 is in the future"),
    ({"at": 1e300}, "at 1e+300 is in the future"),
    ({"seq": 10**9}, "seq 1000000000 is beyond the log's head"),
    ({"from_seq": 200, "to_seq": 100}, "the range (200, 100] is reversed"),
    ({"from_seq": 0, "to_seq": 200_001}, "spans over 100000 positions: page it"),
    ({"from_seq": 0, "to_seq": 10**9 + 1}, "spans over 100000 positions: page it"),
    ({"from_seq": 3_000, "to_seq": 10**5}, "to_seq 100000 is beyond the log's head"),
    ({"from_seq": 10}, "a range needs both `from_seq` and `to_seq`"),
    ({"to_seq": 10}, "a range needs both `from_seq` and `to_seq`"),
    ({"at": END, "seq": 5}, "name one of `at`, `seq`, or `from_seq` with `to_seq`"),
    ({}, "name one of `at`, `seq`, or `from_seq` with `to_seq`"),
    (
        {"from_seq": 0, "to_seq": 10, "only_kpis": True},
        "`only_kpis` is for a moment (`at` or `seq`), not a range of deltas",
    ),
    ({"only_kpis": True}, "name one of `at`, `seq`, or `from_seq` with `to_seq`"),
]


async def test_bad_replays_are_refused_and_change_nothing(served: Served) -> None:
    hub = served.server.hub
    assert hub is not None
    head, events = hub.head, dict(hub.events)
    client = await served.client("commander")
    for fields, words in REFUSED:
        reply = await _ask(client, **fields)
        assert isinstance(reply, Error) and reply.code == "bad_args", (fields, reply)
        assert words in reply.message, (fields, reply.message)
        refused = served.store.admin_log(5)[-1]
        assert (refused.action, refused.outcome, refused.message) == (
            "replay",
            "bad_args",
            reply.message,
        )
    # Nothing changed, and the connection still answers.
    assert hub.head == head and hub.events == events
    assert isinstance(await _ask(client, seq=head), Result)
    await client.ws.close()


async def test_malformed_replays_are_bad_messages(served: Served) -> None:
    client = await served.client("commander")
    for frame, words in (
        ('{"type":"replay","id":%d,"at":"noon"}', "Expected `float | null`, got `str`"),
        ('{"type":"replay","id":%d,"at":1e999}', "Number out of range"),
        ('{"type":"replay","id":%d,"seq":-1}', "Expected `int` >= 0"),
        ('{"type":"replay","id":%d,"at":1,"view":"all"}', "unknown field `view`"),
        ('{"type":"replay","id":%d,"seq":1,"only_kpis":1}', "Expected `bool`, got `int`"),
    ):
        request_id = next(client.ids)
        await client.ws.send(frame % request_id)
        reply = await _answer(client, request_id)
        assert isinstance(reply, Error) and reply.code == "bad_message", reply
        assert words in reply.message, reply.message
    assert isinstance(await _ask(client, seq=1), Result)  # still served
    await client.ws.close()


async def test_the_backend_makes_its_checkpoints_on_its_own(day: Day, tmp_path: Path) -> None:
    path = tmp_path / "day.db"
    shutil.copy(day.path, path)
    store = Store(f"sqlite:///{path}")
    limits = Limits(checkpoint_interval=0.1)
    server = DispatchServer(store, load_reference(store, END), Clock(0.001, END + 3600), limits)
    await server.start("127.0.0.1", 0, intake_now=False)
    try:
        assert server.hub is not None
        epoch, head = server.hub.epoch, server.hub.head
        kept: list[tuple[int, float]] = []
        for _ in range(100):  # until a round has walked the whole log (the next adds none)
            await asyncio.sleep(0.3)
            before, kept = kept, await asyncio.to_thread(store.checkpoints, epoch)
            if kept and kept == before:
                break
        # One at the last row before each district hour's turn: the day and a quarter's.
        assert 25 <= len(kept) <= 32, kept
        assert all(0 < seq <= head for seq, _ in kept)
        hours = [at // 3600 for _, at in kept]
        assert hours == sorted(set(hours))
    finally:
        await server.stop()
        store.close()


def test_old_checkpoints_thin_out() -> None:
    hour, now = 3600.0, 100 * 86400.0
    kept = [(i + 1, now - 30 * 86400 + i * hour) for i in range(30 * 24)]
    drop = set(replay.checkpoints_to_drop(kept, now))
    left = [(seq, at) for seq, at in kept if seq not in drop]
    recent = [at for _, at in left if at >= now - replay.KEEP_ALL_SECONDS]
    older = [at for _, at in left if at < now - replay.KEEP_ALL_SECONDS]
    assert len(recent) == 48  # hourly for the last two days
    assert len(older) == 28 * 4  # one every 6 hours before
    assert replay.checkpoints_to_drop(left, now) == []  # pruning again drops nothing more


async def test_an_intake_system_may_not_replay(served: Served) -> None:
    token = served.store.create_user("网关", "gateway")
    client = await _connect(served.port, token)
    while not isinstance(await client.recv(timeout=15), Snapshot):
        pass
    reply = await _ask(client, seq=1)
    assert isinstance(reply, Error) and reply.code == "forbidden", reply
    assert reply.message == "role gateway may not replay"
    await client.ws.close()


async def test_the_store_side_on_sqlite_and_postgresql(running: Running) -> None:
    """The log reads, the checkpoints and a `replay` on both databases: a few changes, one
    row trimmed to the archive, a checkpoint every row; each position's state the same from
    its checkpoint and from nothing, and as the live snapshot had it."""
    commander = await running.client("commander")
    await handshake(commander)
    for title in ("一", "二", "三"):
        reply = await commander.command("report", report_args(running, title=title))
        assert isinstance(reply, Result), reply
    reply = await commander.command("accept", {"event": 2})
    assert isinstance(reply, Result) and reply.seq == 4
    store, epoch = running.store, running.server.hub.epoch  # type: ignore[union-attr]
    assert await asyncio.to_thread(store.trim_log, 1) == 1
    span = store.log_span()
    assert span is not None and (span[0][0], span[1][0]) == (1, 4)
    assert [r.seq for r in store.log_rows(0, 4, 10)] == [1, 2, 3, 4]
    assert store.last_seq_at(span[1][1]) == 4 and store.last_seq_at(span[0][1] - 1) == 0
    made = await asyncio.to_thread(replay.make_checkpoints, store, epoch, 4, every_rows=1)
    assert made == 3 and [seq for seq, _ in store.checkpoints(epoch)] == [1, 2, 3]
    for seq in range(5):
        fast = replay.state_at(store, seq, epoch)
        slow = replay.state_at(store, seq, epoch, checkpoints=False)
        assert (fast.seq, fast.events, fast.duties) == (slow.seq, slow.events, slow.duties)
        assert fast.seq == seq and fast.duties == {}
        assert sorted(fast.events) == list(range(1, min(seq, 3) + 1))
    # Another epoch's checkpoints are never used, and go with the next prune.
    assert replay.state_at(store, 4, "another").events == replay.state_at(store, 4, epoch).events
    assert store.checkpoint_before(4, "another") is None
    wall = await running.client("wall")
    _, snapshot = await handshake(wall)
    answer = await _ask(wall, seq=snapshot.seq)
    events, alerts, duty = _state(answer)
    assert events == {e.id: e for e in snapshot.events} and duty == snapshot.duty
    assert alerts == {a.id: a for a in snapshot.alerts}
    # The day's figures and arrivals, read the same on both databases.
    assert isinstance(answer, Result)
    day = answer.data["day"]
    placed = store.arrivals_placed(day, day + 86400)
    assert len(placed) == 3 and all(grid.startswith(street) for street, grid, _ in placed)
    assert sum(answer.data["curve"]) == 3
    district = _kpis(answer)["district"]
    assert (district.received, district.accepted, sum(district.hourly)) == (3, 1, 3)
    for client in (commander, wall):
        await client.ws.close()
