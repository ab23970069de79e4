"""Community-level users (社区工作站): a jurisdiction of community codes, on a real server."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from dispatch.app import load_reference
from dispatch.cli import main
from dispatch.jurisdiction import covers, width_of
from dispatch.reference import ReferenceData, UnitCodeError
from dispatch.server import Limits
from dispatch.state import Actor, Change, State
from dispatch.store.store import Store
from dispatch.workflow import WorkflowError
from protocol import commands as c
from protocol.codes import ErrorCode
from protocol.entities import Event
from protocol.messages import Delta, Error, Kpis, Result, Resume, Snapshot, Units, Welcome
from tests.dispatch.conftest import (
    DEKUAN,
    LINGHU,
    LINGHU_SQ,
    YIYUAN,
    Running,
    detect_by,
    prepared_store,
    reference_for,
    start_server,
    units,
)
from tests.dispatch.test_http_and_audit import http_get
from tests.dispatch.test_server import handshake, report_args
from tests.dispatch.test_server_kpis import ask

SHEQU = Actor("菱湖社区工作站", "community", frozenset({LINGHU_SQ}))
COMMANDER = Actor("指挥长", "commander")


async def drain(client, quiet: float = 0.5) -> list:  # type: ignore[no-untyped-def]
    """Every message until the connection has been quiet for `quiet` seconds."""
    got = []
    while True:
        try:
            got.append(await client.recv(timeout=quiet))
        except TimeoutError:
            return got


def deltas(messages: list) -> list[Delta]:  # type: ignore[type-arg]
    return [m for m in messages if isinstance(m, Delta)]


# ---- jurisdictions as code prefixes ----------------------------------------------------------


def test_a_jurisdiction_covers_the_codes_under_its_own() -> None:
    street, community = frozenset({LINGHU}), frozenset({LINGHU_SQ})
    assert width_of(street) == 9 and width_of(community) == 12 and width_of(None) == 0
    assert covers(street, 9, LINGHU_SQ) and covers(street, 9, YIYUAN) and covers(street, 9, LINGHU)
    assert covers(community, 12, LINGHU_SQ) and covers(community, 12, LINGHU_SQ + "001")
    # A community user sees neither its neighbours nor rows keyed by its street.
    assert not covers(community, 12, YIYUAN) and not covers(community, 12, LINGHU)
    assert not covers(street, 9, "340803001002") and not covers(community, 12, "")
    with pytest.raises(ValueError, match="all be of one level"):
        width_of({LINGHU, YIYUAN})


# ---- nesting checked at load -------------------------------------------------------------------


def _with(reference: ReferenceData, **fields: object) -> ReferenceData:
    bad = msgspec.structs.replace(reference.reference, **fields)
    return ReferenceData(bad, reference.calendar, reference.camera_kinds.values())


def test_units_whose_codes_do_not_nest_are_refused(sqlite_store: Store) -> None:
    ref = reference_for(sqlite_store)
    first = ref.reference.communities[0]
    moved = msgspec.structs.replace(first, code="340803009001")  # under another street
    with pytest.raises(UnitCodeError, match=r"community 340803009001 does not begin with"):
        _with(ref, communities=[moved, *ref.reference.communities[1:]])
    grid = ref.reference.grids[0]
    short = msgspec.structs.replace(grid, code=grid.code[:14])
    with pytest.raises(UnitCodeError, match=r"is not a 15-digit code"):
        _with(ref, grids=[short, *ref.reference.grids[1:]])
    orphan = msgspec.structs.replace(grid, community="340803004099", code="340803004099001")
    with pytest.raises(UnitCodeError, match="unknown community 340803004099"):
        _with(ref, grids=[orphan, *ref.reference.grids[1:]])
    camera = msgspec.structs.replace(ref.reference.cameras[0], grid="nowhere")
    with pytest.raises(UnitCodeError, match="unknown grid 'nowhere'"):
        _with(ref, cameras=[camera, *ref.reference.cameras[1:]])


def test_serve_refuses_a_stored_district_that_does_not_nest(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    store = prepared_store(url)
    kind, code, parent, name, doc = store.unit_rows("community")[0]
    moved = {**msgspec.json.decode(doc), "code": "340803009001"}
    rows = [r for r in units() if r[:2] != (kind, code)]
    store.save_units([*rows, (kind, "340803009001", parent, name, msgspec.json.encode(moved))])
    with pytest.raises(UnitCodeError, match="community 340803009001 does not begin with"):
        load_reference(store)
    store.close()
    with pytest.raises(SystemExit) as info:
        main(["--url", url, "serve", "--port", "0"])
    assert "unit codes do not nest" in str(info.value.code)
    assert "community 340803009001 does not begin with its street's code" in str(info.value.code)


def test_a_community_user_sees_its_communities_units(sqlite_store: Store) -> None:
    ref = reference_for(sqlite_store)
    view = ref.view(frozenset({LINGHU_SQ}))
    assert [s.code for s in view.streets] == [LINGHU]  # its street's outline
    assert [m.code for m in view.communities] == [LINGHU_SQ]
    assert view.grids and all(g.community == LINGHU_SQ for g in view.grids)
    assert view.cameras and all(cam.grid.startswith(LINGHU_SQ) for cam in view.cameras)
    assert len(view.categories) == len(ref.reference.categories)


# ---- users ---------------------------------------------------------------------------------------


def test_create_user_with_communities_and_its_bad_inputs(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    assert main(["--url", url, "load-district"]) == 0
    capsys.readouterr()
    base = ["--url", url, "create-user"]
    assert main([*base, "社区", "--role", "community", "--community", LINGHU_SQ]) == 0
    token = capsys.readouterr().out.strip()
    bad = [
        (["社区", "--role", "community"], "needs at least one community"),
        (["社区", "--role", "community", "--community", "340803004999"], "unknown community"),
        (["社区", "--role", "community", "--community", LINGHU], "unknown community"),
        (["社区", "--role", "community", "--street", LINGHU], "not streets"),
        (
            ["社区", "--role", "community", "--community", LINGHU_SQ, "--street", LINGHU],
            "not streets",
        ),
        (["社区", "--role", "street", "--community", LINGHU_SQ], "only community users"),
        (["社区", "--role", "dispatcher", "--community", LINGHU_SQ], "only community users"),
    ]
    for args, error in bad:
        assert main([*base, *args]) == 2, args
        assert error in capsys.readouterr().err, args
    # Nothing was lost: the user made first still holds its token and jurisdiction.
    store = Store(url)
    user = store.authenticate(token)
    assert user is not None and user.role == "community"
    assert user.jurisdiction == {LINGHU_SQ}
    assert main(["--url", url, "users"]) == 0
    listed = next(line for line in capsys.readouterr().out.splitlines() if "社区" in line)
    assert listed.split() == ["社区", "community", LINGHU_SQ]
    store.close()


# ---- the rules, in memory ------------------------------------------------------------------------


def test_a_community_user_works_its_cases_but_does_not_close_them(sqlite_store: Store) -> None:
    ref = reference_for(sqlite_store)
    state = State(ref)
    ours = _report(state, COMMANDER, LINGHU_SQ, 100.0)
    theirs = _report(state, COMMANDER, YIYUAN, 101.0)
    assert state.events[ours].community == LINGHU_SQ
    state.apply(SHEQU, "accept", c.EventRef(event=ours), 102.0)
    with pytest.raises(WorkflowError) as hidden:
        state.apply(SHEQU, "accept", c.EventRef(event=theirs), 103.0)
    assert hidden.value.code == "not_found" and hidden.value.message == f"no event {theirs}"
    lon, lat = ref.grids[state.events[theirs].grid].centre
    with pytest.raises(WorkflowError, match="outside your jurisdiction"):
        state.apply(SHEQU, "report", c.Report(category="01-02", title="t", lon=lon, lat=lat), 104)
    for op, args in (
        ("dispatch", c.Dispatch(event=ours, assignee="环卫所")),
        ("start", c.EventRef(event=ours)),
        ("handled", c.EventRef(event=ours)),
    ):
        state.apply(COMMANDER if op != "dispatch" else SHEQU, op, args, 110.0)
    state.apply(SHEQU, "verify", c.Verify(event=ours, passed=True), 120.0)
    before = state.events[ours]
    with pytest.raises(WorkflowError) as refused:
        state.apply(SHEQU, "close", c.EventRef(event=ours), 130.0)
    assert refused.value.code == "forbidden" and "role community may not close" in str(
        refused.value
    )
    assert state.events[ours] is before  # nothing changed
    street = Actor("菱湖分中心", "street", frozenset({LINGHU}))
    state.apply(street, "close", c.EventRef(event=ours), 140.0)
    assert state.events[ours].status == "closed"


def _report(state: State, actor: Actor, community: str, now: float) -> int:
    grid = next(g for g in state.reference.grids.values() if g.community == community)
    lon, lat = grid.centre
    args = c.Report(category="01-02", title="测试", lon=lon, lat=lat)
    outcome = state.apply(actor, "report", args, now)
    assert outcome.changes[0].key == community  # the change is filed under its community
    return int(str(outcome.data["event"]))


# ---- over the wire -------------------------------------------------------------------------------


async def test_a_community_user_gets_only_its_community(running: Running) -> None:
    boss = await running.client("commander")
    await handshake(boss)
    ours = await boss.command("report", report_args(running, LINGHU_SQ, "菱湖社区的"))
    theirs = await boss.command("report", report_args(running, YIYUAN, "宜园社区的"))
    far = await boss.command("report", report_args(running, DEKUAN, "德宽路的"))
    assert all(isinstance(r, Result) for r in (ours, theirs, far))
    shequ = await running.client("community")
    welcome, snapshot = await handshake(shequ)
    assert welcome.role == "community" and welcome.jurisdiction == [LINGHU_SQ]
    assert {e.id for e in snapshot.events} == {ours.data["event"]}
    units = shequ.units.reference
    assert [s.code for s in units.streets] == [LINGHU]
    assert [m.code for m in units.communities] == [LINGHU_SQ]
    assert all(g.community == LINGHU_SQ for g in units.grids)
    # The street user still sees both of its communities.
    linghu = await running.client("linghu")
    _, street_snapshot = await handshake(linghu)
    assert {ours.data["event"], theirs.data["event"]} <= {e.id for e in street_snapshot.events}
    # Live: only its community's changes reach it.
    await boss.command("accept", {"event": theirs.data["event"]})
    await boss.command("accept", {"event": far.data["event"]})
    await boss.command("accept", {"event": ours.data["event"]})
    got = deltas(await drain(shequ))
    assert [d.data.id for d in got] == [ours.data["event"]]
    street_got = deltas(await drain(linghu))
    assert [d.data.id for d in street_got] == [theirs.data["event"], ours.data["event"]]
    # Acting on another community's case looks like it does not exist; closing is not its.
    refused = await shequ.command("dispatch", {"event": theirs.data["event"], "assignee": "x"})
    assert isinstance(refused, Error) and refused.code == ErrorCode.NOT_FOUND
    assert refused.message == f"no event {theirs.data['event']}"
    close = await shequ.command("close", {"event": ours.data["event"]})
    assert isinstance(close, Error) and close.code == ErrorCode.FORBIDDEN
    done = await shequ.command("dispatch", {"event": ours.data["event"], "assignee": "环卫所"})
    assert isinstance(done, Result)
    for client in (boss, shequ, linghu):
        await client.ws.close()


async def test_kpis_and_stats_hold_only_its_communities(running: Running) -> None:
    boss = await running.client("commander")
    await handshake(boss)
    ours = await boss.command("report", report_args(running, LINGHU_SQ))
    await boss.command("report", report_args(running, YIYUAN))
    shequ = await running.client("community")
    _, snapshot = await handshake(shequ)
    assert set(snapshot.kpis) | set(snapshot.kpis_week) | set(snapshot.kpis_month) <= {LINGHU_SQ}
    pushed = await shequ.until(lambda m: isinstance(m, Kpis) and bool(m.scopes), timeout=10)
    assert isinstance(pushed, Kpis) and set(pushed.scopes) == {LINGHU_SQ}
    assert pushed.scopes[LINGHU_SQ].received == 1  # not its neighbour's report
    assert set(pushed.week) == set(pushed.month) == {LINGHU_SQ}
    for kind in ("street", "department", "worker"):
        refused = await ask(shequ, kind)
        assert isinstance(refused, Error) and refused.code == ErrorCode.FORBIDDEN, kind
    communities = await ask(shequ, "community")
    assert isinstance(communities, Result) and set(communities.data["rows"]) == {LINGHU_SQ}
    grids = await ask(shequ, "grid", "month")
    grid = running.server.state.events[ours.data["event"]].grid
    assert isinstance(grids, Result) and grid in grids.data["rows"]
    assert all(code.startswith(LINGHU_SQ) for code in grids.data["rows"])
    # The street user sees every community of its street, not another street's.
    linghu = await running.client("linghu")
    await handshake(linghu)
    theirs = await ask(linghu, "community")
    assert isinstance(theirs, Result) and {LINGHU_SQ, YIYUAN} <= set(theirs.data["rows"])
    assert all(code.startswith(LINGHU) for code in theirs.data["rows"])
    for client in (boss, shequ, linghu):
        await client.ws.close()


@pytest.mark.parametrize("ring_size", [200_000, 2], ids=["ring", "database"])
async def test_a_community_user_resumes_with_only_its_community(store, ring_size) -> None:
    running = await start_server(store, Limits(ring_size=ring_size))
    try:
        shequ = await running.client("community")
        welcome, snapshot = await handshake(shequ)
        await shequ.ws.close()
        boss = await running.client("commander")
        await handshake(boss)
        mine = []
        for i in range(3):
            r = await boss.command("report", report_args(running, LINGHU_SQ, f"本社区{i}"))
            await boss.command("report", report_args(running, YIYUAN, f"邻社区{i}"))
            mine.append(r.data["event"])
        resumed = await running.client("community", Resume(epoch=welcome.epoch, seq=snapshot.seq))
        w = await resumed.recv()
        assert isinstance(w, Welcome) and w.resume == "replay"
        got = await drain(resumed)
        assert not any(isinstance(m, Snapshot) for m in got)
        assert [d.data.id for d in deltas(got)] == mine
        await resumed.ws.close()
        await boss.ws.close()
    finally:
        await running.server.stop()


# ---- the log from before community keys ---------------------------------------------------------


def _old_row(event: Event, before: Event | None, action: str) -> Change:
    """A log row as written before community keys: filed under the street."""
    return Change(
        "event", event.id, event.street, action, "tester", event.updated_at, before, event
    )


async def test_street_keyed_rows_still_reach_street_users(store: Store) -> None:
    """Rows written before this change carry 9-digit street keys: a street user resuming from
    the database gets them; a community user resuming before them gets a fresh snapshot."""
    ref = reference_for(store)
    old = State(ref)
    ids = [_report(old, COMMANDER, LINGHU_SQ, 1000.0 + n) for n in range(2)]
    other = _report(old, COMMANDER, "340803001002", 1003.0)
    store.commit([_old_row(ch.after, ch.before, ch.action) for ch in old.journal])  # type: ignore[arg-type]
    assert {r.key for r in store.read_log(0)} == {LINGHU, DEKUAN}
    running = await start_server(store, Limits(ring_size=2))
    try:
        assert running.server.hub.community_keys_from == 3
        boss = await running.client("commander")
        _, snapshot = await handshake(boss)
        new = await boss.command("report", report_args(running, LINGHU_SQ, "新的"))
        for i in range(3):  # enough to push the first new row out of the ring
            await boss.command("report", report_args(running, DEKUAN, f"别处{i}"))
        epoch = snapshot.epoch
        # The street user, from the very start: old and new rows of its street, from the log.
        street = await running.client("linghu", Resume(epoch=epoch, seq=0))
        w = await street.recv()
        assert isinstance(w, Welcome) and w.resume == "replay"
        replayed = deltas(await drain(street))
        assert [d.data.id for d in replayed] == [*ids, new.data["event"]]
        assert other not in [d.data.id for d in replayed]
        await street.ws.close()
        # The community user from before the boundary: a snapshot, never a silent gap.
        shequ = await running.client("community", Resume(epoch=epoch, seq=0))
        w = await shequ.recv()
        assert isinstance(w, Welcome) and w.resume == "reset"
        got = await drain(shequ)
        assert isinstance(got[0], Units)
        reset = got[1]
        assert isinstance(reset, Snapshot) and reset.reason == "reset"
        assert {e.id for e in reset.events} == {*ids, new.data["event"]}
        await shequ.ws.close()
        # From the boundary on, the community's rows replay from the log.
        after = await running.client("community", Resume(epoch=epoch, seq=3))
        w = await after.recv()
        assert isinstance(w, Welcome) and w.resume == "replay"
        assert [d.data.id for d in deltas(await drain(after))] == [new.data["event"]]
        await after.ws.close()
        await boss.ws.close()
    finally:
        await running.server.stop()
    # The boundary is remembered: a restart does not move it past the rows written since.
    assert store.community_keys_from() == 3


async def detect_at(running: Running, community: str) -> int:
    """A camera detection with a snapshot image, by a camera of the community."""
    camera = next(
        cam for cam in running.server.reference.cameras.values() if cam.grid[:12] == community
    )
    return await detect_by(running, camera.code)


async def test_snapshot_images_by_community(running_sqlite: Running) -> None:
    ours = await detect_at(running_sqlite, LINGHU_SQ)
    theirs = await detect_at(running_sqlite, YIYUAN)
    token = running_sqlite.tokens["community"]
    get = asyncio.to_thread
    status, _, _ = await get(http_get, running_sqlite.port, f"/snapshots/{ours}", token)
    assert status == 200
    status, body, _ = await get(http_get, running_sqlite.port, f"/snapshots/{theirs}", token)
    assert status == 404 and body == b"not found\n"
    street = running_sqlite.tokens["linghu"]
    for alert in (ours, theirs):
        status, _, _ = await get(http_get, running_sqlite.port, f"/snapshots/{alert}", street)
        assert status == 200
    shequ = await running_sqlite.client("community")
    _, snapshot = await handshake(shequ)
    assert [a.id for a in snapshot.alerts] == [ours]
    hidden = await shequ.command("dismiss_alert", {"alert": theirs, "reason": "误报"})
    assert isinstance(hidden, Error) and hidden.code == ErrorCode.NOT_FOUND
    done = await shequ.command("dismiss_alert", {"alert": ours, "reason": "误报"})
    assert isinstance(done, Result)
    await shequ.ws.close()


def test_read_log_matches_keys_by_prefix(store: Store) -> None:
    """Street keys (old rows), community keys and the district's (the duty), on SQLite and
    PostgreSQL."""
    ref = reference_for(store)
    state = State(ref)
    for community in (LINGHU_SQ, YIYUAN, "340803001002"):
        _report(state, COMMANDER, community, 100.0)
    old = [_old_row(ch.after, ch.before, ch.action) for ch in state.journal]  # type: ignore[arg-type]
    new = list(state.journal)
    state.journal.clear()
    duty = state.apply(COMMANDER, "handover", c.Handover(commander="张三"), 101.0).changes
    store.commit([*old, *new, *duty])  # seqs 1-3 by street, 4-6 by community, 7 everyone's

    def seqs(codes: frozenset[str] | None) -> list[int]:
        return [r.seq for r in store.read_log(0, jurisdiction=codes)]

    assert seqs(None) == [1, 2, 3, 4, 5, 6, 7]
    assert seqs(frozenset({LINGHU})) == [1, 2, 4, 5, 7]
    assert seqs(frozenset({LINGHU_SQ})) == [4, 7]
    assert seqs(frozenset({LINGHU_SQ, YIYUAN})) == [4, 5, 7]
    assert seqs(frozenset({DEKUAN, LINGHU})) == [1, 2, 3, 4, 5, 6, 7]
    # No unit at all: no district either, so not even its duty (nothing is everyone's now).
    assert seqs(frozenset()) == []
