"""Smart-scene sensor readings through the shared Mosquitto into sensor cases: each kind's
rule, hysteresis against flapping, bad readings refused and counted, a restart that does
not open a second case."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from protocol.entities import Event
from tests.dispatch.conftest import start_server
from tests.dispatch.mqtt.conftest import (
    Intake,
    Publisher,
    devices_in,
    settings_for,
    start_intake,
    until,
)

# An hour ago, by the clock the intake checks the readings' own times against (5.5).
T0 = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)


def reading(device: str, kind: str, value: float, minute: float, **more) -> bytes:
    body = {
        "device": device,
        "kind": kind,
        "reading": value,
        "time": (T0 + timedelta(minutes=minute)).isoformat(),
        **more,
    }
    return json.dumps(body).encode()


def cases(run: Intake) -> list[Event]:
    hub = run.running.server.hub
    assert hub is not None
    return sorted((e for e in hub.events.values() if e.source == "sensor"), key=lambda e: e.id)


@pytest.fixture
async def sensors(sqlite_store, shared_broker):
    # The devices sit in grids: a server first to find them, then the intake on it.
    probe = await start_server(sqlite_store)
    devices = devices_in(probe)
    await probe.server.stop()
    settings = settings_for(*shared_broker, devices=devices)
    run = await start_intake(sqlite_store, settings)
    yield run
    await run.stop()


def device_of(run: Intake, kind: str) -> str:
    return next(d.id for d in run.settings.devices.values() if d.kind == kind)


def topic(run: Intake, kind: str, device: str) -> str:
    return f"{run.settings.sensor_topic}/{kind}/{device}"


ALARMS = [  # kind, a normal reading, an alarming one, category
    ("water", 0.05, 0.0, "20-01"),
    ("hydrant", 0.3, 0.08, "20-03"),
    ("elevator", 0, 2, "20-04"),
    ("ebike", 0, 450, "20-06"),
    ("gas", 3, 40, "20-08"),
]


async def test_each_kind_alarm_opens_one_case_of_its_category(sensors, publisher: Publisher):
    for kind, normal, alarm, _ in ALARMS:
        device = device_of(sensors, kind)
        publisher.publish(topic(sensors, kind, device), reading(device, kind, normal, 0))
        publisher.publish(topic(sensors, kind, device), reading(device, kind, alarm, 1))
    await asyncio.to_thread(publisher.flush)
    si = sensors.intake.sensors
    await until(lambda: si.cases == 5 and si.readings == 10)
    got = {(e.category, e.reporter) for e in cases(sensors)}
    assert got == {(cat, device_of(sensors, kind)) for kind, _, _, cat in ALARMS}
    gas = next(e for e in cases(sensors) if e.category == "20-08")
    assert gas.priority == 1 and gas.title.startswith("燃气泄漏")
    assert "阈值 25%LEL" in gas.description
    with sensors.running.store.engine.connect() as conn:
        actors = conn.execute(
            sa.text("SELECT DISTINCT actor FROM log WHERE entity = 'event' AND action = 'report'")
        ).all()
    assert actors == [("sensors",)]


async def test_a_flapping_sensor_makes_one_case_until_it_stays_clear(sensors, publisher):
    device = device_of(sensors, "hydrant")  # below 0.14 MPa alarms; clear at 0.16 for 10 min
    t = topic(sensors, "hydrant", device)
    values = [
        0.13,
        0.15,
        0.12,
        0.145,
        0.13,
        0.17,
        0.11,
        0.17,
    ]  # near the threshold, and a short clear
    for minute, value in enumerate(values):
        publisher.publish(t, reading(device, "hydrant", value, minute))
    await asyncio.to_thread(publisher.flush)
    si = sensors.intake.sensors
    await until(lambda: si.readings == len(values) and si.cases == 1)
    await asyncio.sleep(0.3)  # anything more would show now
    assert si.cases == 1 and len(cases(sensors)) == 1
    # Clear for longer than clear_after (600 s): the next alarm is a new case.
    publisher.publish(t, reading(device, "hydrant", 0.2, 10))
    publisher.publish(t, reading(device, "hydrant", 0.2, 21))
    publisher.publish(t, reading(device, "hydrant", 0.09, 22))
    await asyncio.to_thread(publisher.flush)
    await until(lambda: si.readings == len(values) + 3)
    await until(lambda: si.cases == 2)
    assert len(cases(sensors)) == 2


async def test_the_device_threshold_wins_and_the_same_reading_twice_is_one_case(sensors, publisher):
    device = device_of(sensors, "gas")
    t = topic(sensors, "gas", device)
    publisher.publish(t, reading(device, "gas", 12, 0, threshold=10, unit="%LEL"))
    await asyncio.to_thread(publisher.flush)
    si = sensors.intake.sensors
    await until(lambda: si.cases == 1)
    # The device back to normal and the alarm reading delivered again much later (QoS 1):
    # its external id is the same, nothing is made twice.
    si.devices[device].active = False
    si.devices[device].last = float("-inf")
    publisher.publish(t, reading(device, "gas", 12, 0, threshold=10, unit="%LEL"))
    await asyncio.to_thread(publisher.flush)
    await until(lambda: si.readings == 2)
    await asyncio.sleep(0.2)
    assert len(cases(sensors)) == 1 and si.cases == 1


BAD = [
    ("malformed", None, b"{oops"),
    ("schema", None, json.dumps({"device": "X", "kind": "gas"}).encode()),
    (
        "schema",
        None,
        json.dumps(
            {"device": "X", "kind": "gas", "reading": "high", "time": "2026-11-25T10:00:00+08:00"}
        ).encode(),
    ),
    (
        "schema",
        None,
        json.dumps(
            {
                "device": "X",
                "kind": "gas",
                "reading": 1,
                "time": "2026-11-25T10:00:00+08:00",
                "colour": "red",
            }
        ).encode(),
    ),
    (
        "schema",
        None,
        json.dumps(
            {"device": "X", "kind": "gas", "reading": 1, "time": "2026-11-25T10:00:00"}
        ).encode(),
    ),
    ("oversized", None, b"[" + b" " * (70 * 1024) + b"]"),
]


async def test_bad_readings_are_refused_counted_and_the_rest_flows(sensors, publisher, caplog):
    import logging

    caplog.set_level(logging.INFO, "dispatch.intake.sensors")
    gas = device_of(sensors, "gas")
    for _, _, payload in BAD:
        publisher.publish(topic(sensors, "gas", gas), payload)
    # Unknown device; a device on another kind's topic; a device of another kind.
    publisher.publish(topic(sensors, "gas", "NOPE-1"), reading("NOPE-1", "gas", 99, 0))
    publisher.publish(topic(sensors, "water", gas), reading(gas, "gas", 99, 0))
    publisher.publish(topic(sensors, "water", gas), reading(gas, "water", 0, 0))
    publisher.publish(topic(sensors, "gas", gas), reading(gas, "gas", 99, 1))
    await asyncio.to_thread(publisher.flush)
    si = sensors.intake.sensors
    await until(lambda: si.cases == 1 and sum(si.rejected.values()) == len(BAD) + 3)
    assert dict(si.rejected) == {
        "malformed": 1,
        "schema": 4,
        "oversized": 1,
        "unknown_device": 1,
        "topic": 1,
        "kind": 1,
    }
    assert len(cases(sensors)) == 1
    assert (
        "MQTT sensor reading refused (unknown_device): device NOPE-1 is not registered"
        in caplog.text
    )


async def test_a_device_outside_every_grid_is_refused_by_the_writer(
    sqlite_store, shared_broker, publisher
):
    from tests.dispatch.mqtt.conftest import Device

    settings = settings_for(
        *shared_broker, devices={"GAS-FAR": Device("GAS-FAR", "gas", 100.0, 10.0)}
    )
    run = await start_intake(sqlite_store, settings)
    try:
        publisher.publish(topic(run, "gas", "GAS-FAR"), reading("GAS-FAR", "gas", 90, 0))
        await asyncio.to_thread(publisher.flush)
        si = run.intake.sensors
        await until(lambda: si.rejected["refused"] == 1)
        assert cases(run) == [] and not si.devices["GAS-FAR"].active
    finally:
        await run.stop()


async def test_a_restart_keeps_the_alarm_of_an_open_case(sqlite_store, shared_broker, publisher):
    probe = await start_server(sqlite_store)
    devices = devices_in(probe)
    await probe.server.stop()
    settings = settings_for(*shared_broker, devices=devices)
    run = await start_intake(sqlite_store, settings)
    device = next(d.id for d in devices.values() if d.kind == "elevator")
    t = topic(run, "elevator", device)
    publisher.publish(t, reading(device, "elevator", 3, 0))
    await asyncio.to_thread(publisher.flush)
    await until(lambda: run.intake.sensors.cases == 1)
    await run.stop()
    run = await start_intake(sqlite_store, settings)
    try:
        assert run.intake.sensors.devices[device].active
        publisher.publish(t, reading(device, "elevator", 3, 5))  # still trapped
        await asyncio.to_thread(publisher.flush)
        await until(lambda: run.intake.sensors.readings == 1)
        await asyncio.sleep(0.2)
        assert len(cases(run)) == 1
    finally:
        await run.stop()


async def test_absurd_reading_times_are_refused_and_do_not_poison_the_rules(
    sensors, publisher, caplog
):
    import logging

    caplog.set_level(logging.INFO, "dispatch.intake.sensors")
    gas = device_of(sensors, "gas")
    t = topic(sensors, "gas", gas)
    # A clock five years ahead, then one from before the last week: both refused whole.
    publisher.publish(t, reading(gas, "gas", 40, 5 * 365 * 24 * 60))
    publisher.publish(t, reading(gas, "gas", 40, -8 * 24 * 60))
    # Five minutes ahead is a clock a little fast: taken. A true alarm after the refused
    # future one still opens its case (the refused time was never weighed).
    publisher.publish(t, reading(gas, "gas", 40, 60 + 4))
    await asyncio.to_thread(publisher.flush)
    si = sensors.intake.sensors
    await until(lambda: si.cases == 1 and si.rejected["time"] == 2)
    assert si.readings == 1 and dict(si.rejected) == {"time": 2}
    (case,) = cases(sensors)
    assert case.intake is not None and case.intake.channel == "sensor"
    assert case.intake.observed_at == (T0 + timedelta(minutes=64)).timestamp()
    assert case.intake.ref == gas and case.intake.peer == "sensors"
    refused = [r.getMessage() for r in caplog.records if "(time)" in r.getMessage()]
    assert any("s ahead of our clock (allowed 300 s)" in m for m in refused), refused
    assert any("s old (allowed 604800 s)" in m for m in refused), refused


def test_the_time_bounds_are_configuration():
    from dispatch.intake.config import ConfigError, read_config
    from dispatch.intake.mqtt.settings import MqttSettings

    config = read_config({"intake": {"mqtt": {"max_ahead": 60.0, "max_age": 3600.0}}}, Path())
    settings = config.get("mqtt", MqttSettings)
    assert settings is not None
    assert settings.time_fault(1000.0, 1000.0) is None
    assert settings.time_fault(1061.0, 1000.0) == "61 s ahead of our clock (allowed 60 s)"
    assert settings.time_fault(1000.0, 4601.0) == "3601 s old (allowed 3600 s)"
    with pytest.raises(ConfigError, match="max_ahead, max_age"):
        read_config({"intake": {"mqtt": {"max_age": 0.0}}}, Path())
