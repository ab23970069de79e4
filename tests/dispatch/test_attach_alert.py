"""attach_alert: a camera alert joins an open case at the same spot instead of a duplicate."""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Callable
from datetime import datetime

import pytest

from dispatch.domain.calendar import CST
from dispatch.reference import ReferenceData
from dispatch.state import ALERT_BURST_WINDOW, Actor, State
from dispatch.workflow import ATTACH_RADIUS_M, WorkflowError
from protocol import commands as c
from protocol.codes import ErrorCode
from protocol.entities import Alert, Camera, Event, Grid
from protocol.messages import Delta, Error, Result
from protocol.workflow import metres_apart
from tests.dispatch.conftest import DEKUAN, LINGHU, Running, detect_by
from tests.dispatch.test_http_and_audit import http_get
from tests.dispatch.test_server import handshake

COMMANDER = Actor("指挥长", "commander")
LINGHU_STAFF = Actor("菱湖分中心", "street", frozenset({LINGHU}))
WORKER = Actor("网格员 张三", "street", frozenset({LINGHU}))
WALL = Actor("大屏", "wall")
# Monday 2026-11-23 09:00 local: a working day.
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=CST).timestamp()
KIND = "exposed_garbage"


@pytest.fixture
def state(reference) -> State:
    return State(reference)


def offset(lon: float, lat: float, east: float, north: float) -> tuple[float, float]:
    """The point `east` and `north` metres from (lon, lat)."""
    metres_per_degree = 111_195.0
    return (
        lon + east / (metres_per_degree * math.cos(math.radians(lat))),
        lat + north / metres_per_degree,
    )


Spot = tuple[Camera, dict[float, tuple[float, float]]]


def spot(
    reference: ReferenceData,
    radii: tuple[float, ...],
    fits: Callable[[Camera, Grid], bool],
    street: str = LINGHU,
) -> Spot:
    """A camera of `street` and, on one bearing from it, a point at each radius whose grid
    `fits`: found in the real district, so the rules are tried on real grid lines."""
    for camera in sorted(reference.cameras.values(), key=lambda cam: cam.code):
        if camera.street != street:
            continue
        for bearing in range(0, 360, 15):
            east, north = math.sin(math.radians(bearing)), math.cos(math.radians(bearing))
            points = {r: offset(camera.lon, camera.lat, east * r, north * r) for r in radii}
            grids = [reference.grid_at(*p) for p in points.values()]
            if all(g is not None and fits(camera, g) for g in grids):
                return camera, points
    raise AssertionError("no such spot in the district")


def report_at(state: State, point: tuple[float, float], actor: Actor = COMMANDER) -> int:
    args = c.Report(category="01-02", title="垃圾堆放", lon=point[0], lat=point[1])
    return int(state.apply(actor, "report", args, MONDAY_9).data["event"])


def detect(state: State, camera: Camera, at: float = MONDAY_9 + 60) -> int:
    return int(state.detect(camera.code, KIND, 0.9, at, "/snapshots/{id}").data["alert"])


def refused(state: State, actor: Actor, args: c.AttachAlert) -> WorkflowError:
    """The refusal of an attach; asserts that nothing changed, the burst key included."""
    events, alerts, keys = dict(state.events), dict(state.alerts), dict(state.burst_keys)
    journal = len(state.journal)
    with pytest.raises(WorkflowError) as info:
        state.apply(actor, "attach_alert", args, MONDAY_9 + 120)
    assert state.events == events and state.alerts == alerts and state.burst_keys == keys
    assert len(state.journal) == journal
    return info.value


def test_attach_joins_the_open_case_instead_of_a_duplicate(state, reference) -> None:
    camera, _ = spot(reference, (0.0,), lambda cam, g: g.code == cam.grid)
    eid = report_at(state, (camera.lon, camera.lat))
    aid = detect(state, camera)
    events = len(state.events)
    args = c.AttachAlert(alert=aid, event=eid, note="同一处垃圾")
    out = state.apply(LINGHU_STAFF, "attach_alert", args, MONDAY_9 + 120)
    assert out.data == {"alert": aid, "event": eid}
    # Two changes, the event's then the alert's, both recorded as attach_alert.
    assert [(ch.kind, ch.id, ch.action) for ch in out.changes] == [
        ("event", eid, "attach_alert"),
        ("alert", aid, "attach_alert"),
    ]
    alert, event = state.alerts[aid], state.events[eid]
    assert alert.status == "confirmed" and alert.event == eid and alert.last_at == MONDAY_9 + 120
    assert event.media == [alert.snapshot] == [f"/snapshots/{aid}"]
    name = reference.camera_kinds[KIND].name
    note = event.decisions[-1]
    assert note.text == f"attach_alert: {camera.name} {name} — 同一处垃圾"
    assert note.by == LINGHU_STAFF.name and note.at == MONDAY_9 + 120
    assert event.updated_at == MONDAY_9 + 120 and event.status == "reported"
    assert len(state.events) == events  # no duplicate case
    # The burst is settled: the camera's next sighting opens a new alert.
    assert detect(state, camera, MONDAY_9 + 130) != aid


def test_without_a_note_the_decision_names_camera_and_detection(state, reference) -> None:
    camera, _ = spot(reference, (0.0,), lambda cam, g: g.code == cam.grid)
    eid = report_at(state, (camera.lon, camera.lat))
    aid = detect(state, camera)
    state.apply(COMMANDER, "attach_alert", c.AttachAlert(alert=aid, event=eid), MONDAY_9 + 120)
    name = reference.camera_kinds[KIND].name
    assert state.events[eid].decisions[-1].text == f"attach_alert: {camera.name} {name}"


def test_an_alert_is_attached_or_confirmed_once(state, reference) -> None:
    camera, _ = spot(reference, (0.0,), lambda cam, g: g.code == cam.grid)
    eid, other = (
        report_at(state, (camera.lon, camera.lat)),
        report_at(state, (camera.lon, camera.lat)),
    )
    aid = detect(state, camera)
    state.apply(COMMANDER, "attach_alert", c.AttachAlert(alert=aid, event=eid), MONDAY_9 + 120)
    again = refused(state, COMMANDER, c.AttachAlert(alert=aid, event=other))
    assert again.code == ErrorCode.ILLEGAL_TRANSITION
    assert again.message == f"alert {aid} is confirmed"
    with pytest.raises(WorkflowError) as info:
        state.apply(COMMANDER, "confirm_alert", c.ConfirmAlert(alert=aid), MONDAY_9 + 130)
    assert info.value.code == ErrorCode.ILLEGAL_TRANSITION
    # A dismissed alert cannot be attached either.
    dismissed = detect(state, camera, MONDAY_9 + 140)
    state.apply(COMMANDER, "dismiss_alert", c.DismissAlert(alert=dismissed), MONDAY_9 + 150)
    gone = refused(state, COMMANDER, c.AttachAlert(alert=dismissed, event=other))
    assert gone.code == ErrorCode.ILLEGAL_TRANSITION and "dismissed" in gone.message


def test_a_case_just_over_the_grid_line_within_the_radius(state, reference) -> None:
    inside, outside = ATTACH_RADIUS_M - 20, ATTACH_RADIUS_M + 20
    camera, points = spot(
        reference, (inside, outside), lambda cam, g: g.code != cam.grid and g.street == LINGHU
    )
    near, far = report_at(state, points[inside]), report_at(state, points[outside])
    assert state.events[near].grid != camera.grid != state.events[far].grid
    aid = detect(state, camera)
    error = refused(state, COMMANDER, c.AttachAlert(alert=aid, event=far))
    distance = metres_apart(camera.lon, camera.lat, *points[outside])
    assert error.code == ErrorCode.BAD_ARGS
    assert f"is {distance:.0f} m from event {state.events[far].code}" in error.message
    assert f"within {ATTACH_RADIUS_M:.0f} m" in error.message
    state.apply(COMMANDER, "attach_alert", c.AttachAlert(alert=aid, event=near), MONDAY_9 + 120)
    assert state.alerts[aid].event == near


def test_a_case_in_the_same_grid_beyond_the_radius(state, reference) -> None:
    far = ATTACH_RADIUS_M + 20
    camera, points = spot(reference, (far,), lambda cam, g: g.code == cam.grid)
    eid = report_at(state, points[far])
    assert state.events[eid].grid == camera.grid
    aid = detect(state, camera)
    state.apply(COMMANDER, "attach_alert", c.AttachAlert(alert=aid, event=eid), MONDAY_9 + 120)
    assert state.alerts[aid].status == "confirmed"


def test_a_faraway_case_is_refused_with_the_distance(state, reference) -> None:
    camera, _ = spot(reference, (0.0,), lambda cam, g: g.code == cam.grid)
    away = next(
        g
        for g in sorted(reference.grids.values(), key=lambda g: g.code)
        if g.street == LINGHU and metres_apart(camera.lon, camera.lat, *g.centre) > 1000
    )
    eid = report_at(state, (away.centre[0], away.centre[1]))
    aid = detect(state, camera)
    error = refused(state, LINGHU_STAFF, c.AttachAlert(alert=aid, event=eid))
    metres = metres_apart(camera.lon, camera.lat, *away.centre)
    assert error.code == ErrorCode.BAD_ARGS
    assert error.message == (
        f"alert {aid} ({camera.name}) is {metres:.0f} m from event {state.events[eid].code}, "
        f"in another grid: an alert joins a case in its grid or within 300 m"
    )
    assert state.alerts[aid].status == "new" and state.events[eid].media == []


@pytest.mark.parametrize("end", ["close", "reject"])
def test_a_finished_case_is_refused(state, reference, end) -> None:
    camera, _ = spot(reference, (0.0,), lambda cam, g: g.code == cam.grid)
    eid = report_at(state, (camera.lon, camera.lat))
    if end == "reject":
        state.apply(COMMANDER, "reject", c.Reject(event=eid, reason="重复"), MONDAY_9)
    else:
        state.apply(COMMANDER, "accept", c.EventRef(event=eid), MONDAY_9)
        state.apply(COMMANDER, "dispatch", c.Dispatch(event=eid, assignee=WORKER.name), MONDAY_9)
        state.apply(WORKER, "start", c.EventRef(event=eid), MONDAY_9)
        state.apply(WORKER, "handled", c.EventRef(event=eid), MONDAY_9)
        state.apply(COMMANDER, "verify", c.Verify(event=eid, passed=True), MONDAY_9)
        state.apply(COMMANDER, "close", c.EventRef(event=eid), MONDAY_9)
    status = state.events[eid].status
    aid = detect(state, camera)
    error = refused(state, COMMANDER, c.AttachAlert(alert=aid, event=eid))
    assert error.code == ErrorCode.ILLEGAL_TRANSITION
    assert error.message.startswith(f"event {state.events[eid].code} is closed ({status})")


def test_jurisdiction_hides_another_streets_alert_and_case(state, reference) -> None:
    # A Linghu camera with a Dekuan case close enough that the centre may attach it.
    camera, points = spot(reference, (ATTACH_RADIUS_M - 20,), lambda cam, g: g.street == DEKUAN)
    theirs = report_at(state, points[ATTACH_RADIUS_M - 20])
    ours = report_at(state, (camera.lon, camera.lat))
    alert = detect(state, camera)
    dekuan_camera, _ = spot(reference, (0.0,), lambda cam, g: g.code == cam.grid, DEKUAN)
    their_alert = detect(state, dekuan_camera)
    error = refused(state, LINGHU_STAFF, c.AttachAlert(alert=alert, event=theirs))
    assert error.code == ErrorCode.NOT_FOUND and error.message == f"no event {theirs}"
    error = refused(state, LINGHU_STAFF, c.AttachAlert(alert=their_alert, event=ours))
    assert error.code == ErrorCode.NOT_FOUND and error.message == f"no alert {their_alert}"
    # Looks exactly like an id that does not exist.
    absent = refused(state, LINGHU_STAFF, c.AttachAlert(alert=alert, event=999_999))
    assert absent.code == ErrorCode.NOT_FOUND and absent.message == "no event 999999"
    # The centre sees both: the same attach goes through.
    state.apply(COMMANDER, "attach_alert", c.AttachAlert(alert=alert, event=theirs), MONDAY_9)
    assert state.alerts[alert].event == theirs


def test_the_wall_may_not_attach(state, reference) -> None:
    camera, _ = spot(reference, (0.0,), lambda cam, g: g.code == cam.grid)
    eid = report_at(state, (camera.lon, camera.lat))
    aid = detect(state, camera)
    error = refused(state, WALL, c.AttachAlert(alert=aid, event=eid))
    assert error.code == ErrorCode.FORBIDDEN and error.message == "role wall may not attach_alert"


def test_a_snapshot_already_on_the_case_is_not_added_twice(state, reference) -> None:
    camera, _ = spot(reference, (0.0,), lambda cam, g: g.code == cam.grid)
    # A camera feed whose snapshots share one path: the second alert's is already there.
    first = int(state.detect(camera.code, KIND, 0.9, MONDAY_9, "/snapshots/live").data["alert"])
    out = state.apply(COMMANDER, "confirm_alert", c.ConfirmAlert(alert=first), MONDAY_9 + 10)
    eid = int(str(out.data["event"]))
    later = MONDAY_9 + 20 + ALERT_BURST_WINDOW
    second = int(state.detect(camera.code, KIND, 0.9, later, "/snapshots/live").data["alert"])
    assert second != first
    state.apply(COMMANDER, "attach_alert", c.AttachAlert(alert=second, event=eid), later + 10)
    assert state.events[eid].media == ["/snapshots/live"]
    assert state.alerts[second].event == eid


def test_an_older_alert_leaves_the_newer_burst_counting(state, reference) -> None:
    camera, _ = spot(reference, (0.0,), lambda cam, g: g.code == cam.grid)
    eid = report_at(state, (camera.lon, camera.lat))
    old = detect(state, camera, MONDAY_9)
    newer = detect(state, camera, MONDAY_9 + ALERT_BURST_WINDOW + 10)
    assert newer != old
    state.apply(COMMANDER, "attach_alert", c.AttachAlert(alert=old, event=eid), MONDAY_9 + 200)
    assert detect(state, camera, MONDAY_9 + 210) == newer
    assert state.alerts[newer].count == 2


# ---- over the wire: a real server and its store ------------------------------------------


async def test_attach_over_the_wire(running: Running) -> None:
    reference = running.server.reference
    camera, _ = spot(reference, (0.0,), lambda cam, g: g.code == cam.grid)
    linghu = await running.client("linghu")
    await handshake(linghu)
    report = {"category": "01-02", "title": "垃圾堆放", "lon": camera.lon, "lat": camera.lat}
    reported = await linghu.command("report", report)
    assert isinstance(reported, Result), reported
    eid = int(reported.data["event"])
    aid = await detect_by(running, camera.code)
    await linghu.until(lambda m: isinstance(m, Delta) and isinstance(m.data, Alert))
    head = running.server.hub.head
    command_id = uuid.uuid4().hex
    args = {"alert": aid, "event": eid, "note": "同一处"}
    done = await linghu.command("attach_alert", args, command_id)
    assert isinstance(done, Result), done
    assert done.data == {"alert": aid, "event": eid} and done.seq == head + 2
    # Its two deltas came before the result: the event's, then the alert's.
    deltas = [m for m in linghu.inbox if isinstance(m, Delta) and m.seq > head]
    assert [(d.seq, type(d.data), d.action) for d in deltas] == [
        (head + 1, Event, "attach_alert"),
        (head + 2, Alert, "attach_alert"),
    ]
    assert deltas[0].data.media == [f"/snapshots/{aid}"]
    assert deltas[1].data.status == "confirmed" and deltas[1].data.event == eid
    # Committed: two log rows, the case's history, the stored case and alert.
    rows = await asyncio.to_thread(running.store.read_log, head)
    assert [(r.entity, r.action, r.actor) for r in rows] == [
        ("event", "attach_alert", "菱湖分中心"),
        ("alert", "attach_alert", "菱湖分中心"),
    ]
    history = await asyncio.to_thread(running.store.event_history, eid)
    assert [h.action for h in history] == ["report", "attach_alert"]
    stored = await asyncio.to_thread(running.store.event, eid)
    assert stored is not None and stored.media == [f"/snapshots/{aid}"]
    _, alerts, *_ = await asyncio.to_thread(running.store.load_state, 0.0)
    saved = next(a for a in alerts if a.id == aid)
    assert saved.status == "confirmed" and saved.event == eid
    # A retry with the same command_id is answered from the first time, applied once.
    again = await linghu.command("attach_alert", args, command_id)
    assert isinstance(again, Result) and again.repeat and again.data == done.data
    assert again.seq == done.seq and running.server.hub.head == head + 2
    # The same attach as a new command is refused: the alert is settled.
    twice = await linghu.command("attach_alert", args)
    assert isinstance(twice, Error) and twice.code == ErrorCode.ILLEGAL_TRANSITION
    assert twice.message == f"alert {aid} is confirmed"
    assert running.server.hub.head == head + 2
    await linghu.ws.close()


async def test_attach_refusals_over_the_wire(running: Running) -> None:
    reference = running.server.reference
    camera, _ = spot(reference, (0.0,), lambda cam, g: g.code == cam.grid)
    commander = await running.client("commander")
    await handshake(commander)
    report = {"category": "01-02", "title": "垃圾堆放", "lon": camera.lon, "lat": camera.lat}
    eid = int((await commander.command("report", report)).data["event"])  # type: ignore[union-attr]
    aid = await detect_by(running, camera.code)
    head = running.server.hub.head
    wall, dekuan = await running.client("wall"), await running.client("dekuan")
    await handshake(wall)
    await handshake(dekuan)
    args = {"alert": aid, "event": eid}
    forbidden = await wall.command("attach_alert", args)
    assert isinstance(forbidden, Error) and forbidden.code == ErrorCode.FORBIDDEN
    hidden = await dekuan.command("attach_alert", args)
    assert isinstance(hidden, Error) and hidden.code == ErrorCode.NOT_FOUND
    unknown = await commander.command("attach_alert", {**args, "camera": "x"})
    assert isinstance(unknown, Error) and unknown.code == ErrorCode.BAD_ARGS
    no_event = await commander.command("attach_alert", {"alert": aid})
    assert isinstance(no_event, Error) and no_event.code == ErrorCode.BAD_ARGS
    assert running.server.hub.head == head
    assert running.server.state.alerts[aid].status == "new"
    for client in (commander, wall, dekuan):
        await client.ws.close()


def test_haversine_distance() -> None:
    # One degree of latitude is 111.195 km on the mean sphere; a degree of longitude shrinks
    # with the cosine of the latitude.
    assert metres_apart(117.0, 30.0, 117.0, 31.0) == pytest.approx(111_195, abs=1)
    assert metres_apart(117.0, 30.0, 118.0, 30.0) == pytest.approx(96_297, abs=5)
    assert metres_apart(117.0, 30.5, 117.0, 30.5) == 0.0


async def test_the_case_across_a_street_line_sees_the_attached_snapshot(
    running_sqlite: Running,
) -> None:
    running = running_sqlite
    near = ATTACH_RADIUS_M - 20
    camera, points = spot(running.server.reference, (near,), lambda cam, g: g.street == DEKUAN)
    commander = await running.client("commander")
    await handshake(commander)
    lon, lat = points[near]
    report = {"category": "01-02", "title": "垃圾堆放", "lon": lon, "lat": lat}
    eid = int((await commander.command("report", report)).data["event"])  # type: ignore[union-attr]
    aid = await detect_by(running, camera.code)
    path, dekuan = f"/snapshots/{aid}", running.tokens["dekuan"]
    status, _, _ = await asyncio.to_thread(http_get, running.port, path, dekuan)
    assert status == 404  # a Linghu camera's alert: not Dekuan's
    done = await commander.command("attach_alert", {"alert": aid, "event": eid})
    assert isinstance(done, Result), done
    # Now in the media of a Dekuan case: Dekuan's users, who work it, may fetch it.
    status, body, _ = await asyncio.to_thread(http_get, running.port, path, dekuan)
    assert status == 200 and body.startswith(b"<svg")
    linghu = running.tokens["linghu"]
    status, _, _ = await asyncio.to_thread(http_get, running.port, path, linghu)
    assert status == 200
    # Another street still gets nothing.
    other = running.store.create_user("玉琳路分中心", "street", ["340803002"])
    status, _, _ = await asyncio.to_thread(http_get, running.port, path, other)
    assert status == 404
    await commander.ws.close()
