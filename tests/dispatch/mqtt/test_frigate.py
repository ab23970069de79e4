"""Frigate camera events through the shared Mosquitto into alerts, with snapshots from a
real fake NVR; bad messages refused, counted, nothing stored, the rest flowing."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid

import pytest
import sqlalchemy as sa

from protocol.entities import Alert
from protocol.messages import Result
from tests.dispatch.mqtt.conftest import (
    JPEG,
    FakeNvr,
    Intake,
    Publisher,
    settings_for,
    start_intake,
    until,
)
from tests.dispatch.mqtt.frames import frigate_message


def camera_codes(intake_: Intake) -> list[str]:
    return sorted(intake_.running.server.reference.cameras)


def alerts_of(intake_: Intake) -> list[Alert]:
    hub = intake_.running.server.hub
    assert hub is not None
    return sorted(hub.alerts.values(), key=lambda a: a.id)


def stored(intake_: Intake, sql: str) -> list[tuple]:
    engine = intake_.running.store.engine
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql))]


@pytest.fixture(params=["3.1.1", "5"])
async def frigate(request, sqlite_store, shared_broker, nvr: FakeNvr):
    settings = settings_for(*shared_broker, nvr.url, nvr_tries=4, protocol=request.param)
    running_intake = await start_intake(sqlite_store, settings)
    yield running_intake
    await running_intake.stop()


def test_frame_helper_is_valid_json():
    assert json.loads(frigate_message("new", "1-a", "cam"))["type"] == "new"


async def test_new_update_end_make_one_alert_with_its_snapshot(frigate, publisher: Publisher, nvr):
    camera = camera_codes(frigate)[0]
    topic = frigate.settings.frigate_topic
    event_id = "1718000000.123456-ab12cd"
    publisher.publish(topic, frigate_message("new", event_id, camera, score=0.7))
    publisher.publish(topic, frigate_message("update", event_id, camera, score=0.86))
    publisher.publish(topic, frigate_message("end", event_id, camera, score=0.86, end_time=1.0))
    await asyncio.to_thread(publisher.flush)
    fr = frigate.intake.frigate
    assert fr is not None
    await until(lambda: fr.accepted == 3 and fr.snapshots >= 1, what="three messages")
    await until(lambda: nvr.requests.count(f"/api/events/{event_id}/snapshot.jpg") == 2)
    alerts = alerts_of(frigate)
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert.camera, alert.detection, alert.score, alert.count) == (
        camera,
        "smoke_fire",
        0.86,
        1,
    )
    image = frigate.running.store.image(alert.id)
    assert image is not None and image.content_type == "image/jpeg"
    assert image.body == JPEG + event_id.encode()
    # The audit log names the intake's user; the external id is stored under it.
    actors = stored(
        frigate, f"SELECT DISTINCT actor FROM log WHERE entity = 'alert' AND entity_id = {alert.id}"
    )
    assert actors == [("frigate",)]
    assert stored(frigate, "SELECT actor, external_id, event_id, code FROM external_ids") == [
        ("frigate", event_id, alert.id, "alert")
    ]


async def test_redelivered_messages_change_nothing(frigate, publisher: Publisher):
    camera = camera_codes(frigate)[1]
    topic = frigate.settings.frigate_topic
    for _ in range(3):  # QoS 1 means at least once: the same message again and again
        publisher.publish(topic, frigate_message("new", "e-dup-1", camera, has_snapshot=False))
    await asyncio.to_thread(publisher.flush)
    fr = frigate.intake.frigate
    await until(lambda: fr.accepted == 3)
    alerts = alerts_of(frigate)
    assert [(a.count, a.camera) for a in alerts] == [(1, camera)]
    rows = stored(frigate, "SELECT count(*) FROM log WHERE entity = 'alert'")
    assert rows == [(1,)]


async def test_burst_of_frigate_events_is_one_alert_and_confirm_works(
    frigate, publisher: Publisher
):
    camera = camera_codes(frigate)[2]
    topic = frigate.settings.frigate_topic
    for n in range(4):  # four Frigate events of one camera and kind within the burst window
        publisher.publish(topic, frigate_message("new", f"burst-{n}", camera, has_snapshot=False))
    publisher.publish(
        topic,
        frigate_message("new", "other-kind", camera, label="ebike_in_building", has_snapshot=False),
    )
    await asyncio.to_thread(publisher.flush)
    fr = frigate.intake.frigate
    await until(lambda: fr.accepted == 5)
    alerts = alerts_of(frigate)
    assert sorted((a.detection, a.count) for a in alerts) == [
        ("ebike_in_building", 1),
        ("smoke_fire", 4),
    ]
    smoke = next(a for a in alerts if a.detection == "smoke_fire")
    # An update of a later event of the burst refines the same alert, counts no hit.
    publisher.publish(
        topic, frigate_message("update", "burst-3", camera, score=0.95, has_snapshot=False)
    )
    await asyncio.to_thread(publisher.flush)
    await until(lambda: fr.accepted == 6)
    refined = next(a for a in alerts_of(frigate) if a.id == smoke.id)
    assert (refined.count, refined.score) == (4, 0.95)
    desk = await frigate.running.client("dispatcher")
    await desk.recv()
    await desk.recv()
    reply = await desk.command("confirm_alert", {"alert": smoke.id})
    assert isinstance(reply, Result), reply
    other = next(a for a in alerts if a.detection == "ebike_in_building")
    reply = await desk.command("dismiss_alert", {"alert": other.id, "reason": "误报"})
    assert isinstance(reply, Result), reply
    # After confirmation the camera's next Frigate event opens a new alert.
    publisher.publish(topic, frigate_message("new", "burst-after", camera, has_snapshot=False))
    await asyncio.to_thread(publisher.flush)
    await until(lambda: fr.accepted == 7)
    assert len([a for a in alerts_of(frigate) if a.detection == "smoke_fire"]) == 2
    await desk.ws.close()


async def test_slow_nvr_is_retried(frigate, publisher: Publisher, nvr: FakeNvr):
    nvr.slow = 2  # two 503s per event before the picture
    camera = camera_codes(frigate)[3]
    publisher.publish(frigate.settings.frigate_topic, frigate_message("new", "slow-1", camera))
    await asyncio.to_thread(publisher.flush)
    fr = frigate.intake.frigate
    await until(lambda: fr.snapshots == 1, timeout=15)
    assert nvr.requests.count("/api/events/slow-1/snapshot.jpg") == 3
    (alert,) = alerts_of(frigate)
    assert frigate.running.store.image(alert.id) is not None


async def test_nvr_that_never_answers_leaves_the_alert_without_a_picture(frigate, publisher, nvr):
    nvr.slow = 99
    camera = camera_codes(frigate)[4]
    publisher.publish(frigate.settings.frigate_topic, frigate_message("new", "dead-1", camera))
    await asyncio.to_thread(publisher.flush)
    fr = frigate.intake.frigate
    await until(lambda: fr.snapshot_failures == 1, timeout=15)
    (alert,) = alerts_of(frigate)  # the alert itself is not held up by its picture
    assert frigate.running.store.image(alert.id) is None


BAD = [
    ("malformed", b"{not json"),
    ("schema", json.dumps({"type": "new", "after": {"id": "x"}}).encode()),
    (
        "schema",
        json.dumps(
            {"type": "created", "after": {"id": "x", "camera": "c", "label": "smoke"}}
        ).encode(),
    ),
    (
        "schema",
        json.dumps(
            {"type": "new", "after": {"id": "x", "camera": "c", "label": "smoke", "score": 7}}
        ).encode(),
    ),
    ("oversized", b" " * (70 * 1024)),
    ("unknown_camera", frigate_message("new", "u-1", "no_such_camera")),
    ("unmapped_label", None),
]


async def test_bad_messages_are_refused_counted_and_the_rest_flows(frigate, publisher, caplog):
    caplog.set_level(logging.INFO, "dispatch.intake.frigate")
    camera = camera_codes(frigate)[5]
    topic = frigate.settings.frigate_topic
    for reason, payload in BAD:
        if payload is None:
            payload = frigate_message("new", "l-1", camera, label="giraffe")
        publisher.publish(topic, payload)
    publisher.publish(topic, frigate_message("new", "good-1", camera, has_snapshot=False))
    await asyncio.to_thread(publisher.flush)
    fr = frigate.intake.frigate
    await until(lambda: fr.accepted == 1 and sum(fr.rejected.values()) == len(BAD))
    expected: dict[str, int] = {}
    for reason, _ in BAD:
        expected[reason] = expected.get(reason, 0) + 1
    assert dict(fr.rejected) == expected
    assert len(alerts_of(frigate)) == 1
    assert stored(frigate, "SELECT count(*) FROM external_ids") == [(1,)]
    assert (
        "MQTT frigate message refused (unknown_camera): camera no_such_camera is not mapped"
        in caplog.text
    )
    stats = frigate.intake.stats()
    assert stats["frigate"]["rejected"]["malformed"] == 1


async def test_camera_names_map_to_cameras(sqlite_store, shared_broker, publisher):
    settings = settings_for(*shared_broker)
    running = await start_intake(sqlite_store, settings)
    try:
        camera = sorted(running.running.server.reference.cameras)[6]
        from dataclasses import replace as _r

        running.intake.frigate.settings = _r(
            settings,
            cameras={"gate_east": camera},
            labels={"motorcycle@lobby": "ebike_in_building"},
        )
        publisher.publish(
            settings.frigate_topic,
            frigate_message(
                "new", "m-1", "gate_east", label="motorcycle", zones=["lobby"], has_snapshot=False
            ),
        )
        await asyncio.to_thread(publisher.flush)
        await until(lambda: running.intake.frigate.accepted == 1)
        (alert,) = alerts_of(running)
        assert (alert.camera, alert.detection) == (camera, "ebike_in_building")
    finally:
        await running.stop()


async def test_refusals_are_logged_at_most_50_per_window_and_counted(frigate, publisher, caplog):
    caplog.set_level(logging.INFO, "dispatch")
    topic = frigate.settings.frigate_topic
    for n in range(80):
        publisher.publish(topic, frigate_message("new", f"x-{n}", f"nowhere_{n}"))
    await asyncio.to_thread(publisher.flush)
    fr = frigate.intake.frigate
    await until(lambda: fr.rejected["unknown_camera"] == 80)
    lines = [r for r in caplog.records if "refused (unknown_camera)" in r.getMessage()]
    assert len(lines) == 50
    frigate.intake.refusals.flush()
    assert (
        "… and 30 more refusals suppressed in the last 10 s (most from frigate: 30)" in caplog.text
    )
    assert alerts_of(frigate) == []


def record(event_id: str, camera: str, start: float, **more) -> dict:
    """An event as Frigate's GET /api/events lists it (0.14+: the scores in `data`)."""
    values = {
        "id": event_id,
        "label": "smoke",
        "sub_label": None,
        "camera": camera,
        "start_time": start,
        "end_time": start + 20,
        "false_positive": False,
        "zones": [],
        "thumbnail": "",
        "has_clip": True,
        "has_snapshot": True,
        "retain_indefinitely": False,
        "plus_id": None,
        "model_hash": None,
        "detector_type": "cpu",
        "model_type": "ssd",
        "data": {
            "box": [0, 0, 1, 1],
            "region": [0, 0, 1, 1],
            "score": 0.7,
            "top_score": 0.83,
            "attributes": [],
            "type": "object",
        },
    }
    values.update(more)
    return values


async def test_frigates_record_brings_what_mqtt_missed(frigate, publisher: Publisher, nvr):
    """Frigate publishes at QoS 0 by default and drops publishes while disconnected: its
    record (GET /api/events?after=) is read, and what MQTT never brought becomes an alert,
    once; what MQTT brought is not made again."""
    import time

    cams = camera_codes(frigate)
    now = time.time()
    publisher.publish(
        frigate.settings.frigate_topic,
        frigate_message("new", "seen-1", cams[10], has_snapshot=False),
    )
    await asyncio.to_thread(publisher.flush)
    fr = frigate.intake.frigate
    await until(lambda: fr.accepted == 1)
    nvr.events = [
        record("seen-1", cams[10], now - 60),
        record("missed-1", cams[11], now - 50),
        record("missed-fp", cams[12], now - 40, false_positive=True),
        record("missed-far", "lobby_3", now - 30),
        record("too-old", cams[13], now - 7200),
    ]
    fed = await fr.reconcile()
    assert fed == 2  # missed-1, and missed-far (refused); not the old one, nor the fp
    await until(lambda: fr.snapshots >= 1)
    alerts = alerts_of(frigate)
    assert sorted(a.camera for a in alerts) == [cams[10], cams[11]]
    missed = next(a for a in alerts if a.camera == cams[11])
    assert missed.score == 0.83 and frigate.running.store.image(missed.id) is not None
    assert fr.rejected["unknown_camera"] == 1
    assert await fr.reconcile() == 0  # a second pass: nothing new, nothing counted twice
    assert fr.rejected["unknown_camera"] == 1 and len(alerts_of(frigate)) == 2
    assert "after=" in next(r for r in nvr.requests if r.startswith("/api/events?"))


async def test_the_wall_sees_an_alert_with_its_picture_already_stored(
    frigate, publisher: Publisher, nvr
):
    """The first picture is fetched before the alert is submitted: by the time a wall gets
    the alert, its snapshot is there to ask for (a wall asks at once)."""
    from protocol.messages import Delta
    from tests.dispatch.test_server import handshake

    wall = await frigate.running.client("wall")
    await handshake(wall)
    nvr.delay = 0.2  # a slow NVR holds the alert, not its picture's arrival after it
    camera = camera_codes(frigate)[20]
    topic = frigate.settings.frigate_topic
    publisher.publish(topic, frigate_message("new", "pic-1", camera, score=0.7))
    publisher.publish(topic, frigate_message("end", "pic-1", camera, score=0.9, end_time=1.0))
    await asyncio.to_thread(publisher.flush)
    delta = await wall.until(
        lambda m: isinstance(m, Delta) and isinstance(m.data, Alert) and m.data.camera == camera,
        timeout=15,
    )
    assert delta.action == "detect"
    assert frigate.running.store.image(delta.data.id) is not None
    await until(lambda: frigate.intake.frigate.accepted == 2)
    await wall.ws.close()


def _review(
    review_id: str, camera: str, detections: list[str], objects: list[str], severity: str
) -> bytes:
    after = {
        "id": review_id,
        "camera": camera,
        "start_time": 0,
        "end_time": None,
        "severity": severity,
        "data": {"detections": detections, "objects": objects, "zones": [], "audio": []},
    }
    return json.dumps({"type": "new", "before": None, "after": after}).encode()


async def test_reviews_below_the_severity_or_of_unknown_cameras_make_nothing(
    sqlite_store, shared_broker, publisher: Publisher
):
    """`review_severity = "alert"`: a review Frigate graded `detection` is skipped; a review
    of an unmapped camera is refused; an alert-grade review of a mapped one raises its
    alert, and the same detection's event afterwards makes no second one (docs/intake.md
    §5.3a)."""
    tag = uuid.uuid4().hex[:10]
    settings = settings_for(
        *shared_broker, frigate_reviews_topic=f"t-{tag}/frigate/reviews", review_severity="alert"
    )
    run = await start_intake(sqlite_store, settings)
    try:
        fr = run.intake.frigate
        assert fr is not None
        camera = camera_codes(run)[0]
        topic = settings.frigate_reviews_topic
        publisher.publish(topic, _review("r1", camera, ["1-low"], ["smoke"], "detection"))
        publisher.publish(topic, _review("r2", "lobby_9", ["1-cam"], ["smoke"], "alert"))
        publisher.publish(topic, _review("r3", camera, ["1-top"], ["fire"], "alert"))
        publisher.publish(
            settings.frigate_topic, frigate_message("new", "1-top", camera, score=0.9)
        )
        await asyncio.to_thread(publisher.flush)
        await until(lambda: fr.accepted == 2, what="the review's and the event's detection")
        assert fr.rejected["below_severity"] == 1 and fr.rejected["unknown_camera"] == 1
        alerts = alerts_of(run)
        assert [(a.detection, a.count, a.score) for a in alerts] == [("smoke_fire", 1, 0.9)]
        assert fr.from_reviews == 1
    finally:
        await run.stop()
