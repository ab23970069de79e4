"""Frigate labels on a city store (大观区 and 迎江区, 迎江区's detection kinds with one of its
own, `river_litter`): [intake.mqtt.labels] is checked at start against every district's
kinds (a kind bare or keyed by its district, `340802:river_litter`), and each camera's
detection is resolved among its own district's kinds. Through the shared Mosquitto."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dispatch.app import load_reference
from dispatch.intake.config import ConfigError, IntakeConfig
from dispatch.intake.mqtt_part import MqttPart
from dispatch.server import DispatchServer
from dispatch.store.store import Store
from tests.dispatch.conftest import Running
from tests.dispatch.intake.city_env import DAGUAN, OWN_KIND, YINGJIANG, city_store
from tests.dispatch.mqtt.conftest import Intake, Publisher, settings_for, until
from tests.dispatch.mqtt.frames import frigate_message

LABELS = {"litter": f"{YINGJIANG}:{OWN_KIND}", "rubbish": OWN_KIND, "heap": "exposed_garbage"}


@pytest.fixture
async def city(tmp_path: Path, shared_broker: tuple[str, int]) -> AsyncIterator[Intake]:
    store = city_store(tmp_path / "city.db")
    settings = settings_for(*shared_broker, labels=LABELS)
    server = DispatchServer(store, load_reference(store), intake=IntakeConfig({"mqtt": settings}))
    port = await server.start("127.0.0.1", 0)
    assert server.intake is not None
    part = server.intake.parts["mqtt"]
    assert isinstance(part, MqttPart) and part.intake is not None
    assert part.intake.consumer is not None
    await asyncio.wait_for(part.intake.consumer.connected.wait(), 15)
    running = Intake(Running(server, store, port, {}), part.intake, settings)
    yield running
    await running.stop()
    store.close()


def camera_in(line: Intake, district: str) -> str:
    return min(c for c in line.running.server.reference.cameras if c.startswith(district))


async def test_a_cameras_label_is_resolved_among_its_districts_kinds(
    city: Intake, publisher: Publisher
) -> None:
    yingjiang, daguan = camera_in(city, YINGJIANG), camera_in(city, DAGUAN)
    sent = [
        ("y-own", yingjiang, OWN_KIND),  # our own kind as the label: 迎江区 has it
        ("y-keyed", yingjiang, "litter"),  # mapped to 迎江区's kind, keyed by it
        ("y-bare", yingjiang, "rubbish"),  # mapped to a bare kind 迎江区 has
        ("y-shared", yingjiang, "heap"),  # a kind both districts have
        ("d-shared", daguan, "heap"),
        ("d-own", daguan, OWN_KIND),  # 大观区 lacks it: refused, nothing stored
        ("d-keyed", daguan, "litter"),  # keyed by 迎江区: not 大观区's
        ("d-bare", daguan, "rubbish"),  # 大观区 lacks it
    ]
    topic = city.settings.frigate_topic
    for event_id, camera, label in sent:
        message = frigate_message("new", event_id, camera, label=label, has_snapshot=False)
        publisher.publish(topic, message)
    await asyncio.to_thread(publisher.flush)
    frigate = city.intake.frigate
    assert frigate is not None
    await until(lambda: frigate.accepted + sum(frigate.rejected.values()) == len(sent))
    assert frigate.accepted == 5 and dict(frigate.rejected) == {"unmapped_label": 3}
    hub = city.running.server.hub
    assert hub is not None
    alerts = sorted((a.camera, a.detection, a.count) for a in hub.alerts.values())
    assert alerts == [
        (yingjiang, "exposed_garbage", 1),
        (yingjiang, OWN_KIND, 3),  # one burst of one camera and kind
        (daguan, "exposed_garbage", 1),
    ]
    # Only the accepted events' ids were stored.
    with city.running.store.engine.connect() as conn:
        ids = {row[0] for row in conn.exec_driver_sql("SELECT external_id FROM external_ids")}
    assert ids == {"y-own", "y-keyed", "y-bare", "y-shared", "d-shared"}


BAD_LABELS = [
    (
        {"x": "no_such_kind"},
        "[intake.mqtt.labels] 'x': unknown detection kind 'no_such_kind' ('no_such_kind' is in"
        " no district's table)",
    ),
    (
        {"x": f"{DAGUAN}:{OWN_KIND}"},
        f"[intake.mqtt.labels] 'x': unknown detection kind '{DAGUAN}:{OWN_KIND}'"
        f" ('{OWN_KIND}' is not in district {DAGUAN}'s table)",
    ),
    (
        {"x": "340811:exposed_garbage"},
        "[intake.mqtt.labels] 'x': unknown detection kind '340811:exposed_garbage' (no district"
        " 340811 is served here (served: 340803, 340802))",
    ),
]


@pytest.mark.parametrize(("labels", "message"), BAD_LABELS, ids=["unknown", "other", "nowhere"])
async def test_a_label_naming_no_districts_kind_stops_the_start(
    tmp_path: Path, labels: dict[str, str], message: str
) -> None:
    store: Store = city_store(tmp_path / "city.db")
    # No broker is needed: the labels are checked before the part connects.
    settings = settings_for("127.0.0.1", 1, labels=labels)
    server = DispatchServer(store, load_reference(store), intake=IntakeConfig({"mqtt": settings}))
    try:
        with pytest.raises(ConfigError) as refused:
            await server.start("127.0.0.1", 0)
        assert str(refused.value) == message
    finally:
        await server.stop()
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM alerts").scalar() == 0
    assert store.event(1) is None
    store.close()
