"""The demo's MQTT: a private mosquitto child, the stand-in NVR, the simulator's live camera
and sensor traffic through the intake; and the fallback where no mosquitto can be had."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dispatch.intake.mqtt.demo import DemoMqtt, find_mosquitto
from dispatch.simulator import Simulator
from dispatch.store.store import Image
from dispatch.writer import DetectRequest
from tests.dispatch.conftest import start_server
from tests.dispatch.mqtt.conftest import until


@pytest.fixture
def mosquitto() -> str:
    binary = find_mosquitto()
    if binary is None:
        pytest.skip("mosquitto is not installed")
    return binary


async def test_the_simulators_live_traffic_goes_through_mqtt(sqlite_store, tmp_path, mosquitto):
    running = await start_server(sqlite_store)
    demo = DemoMqtt(running.server, tmp_path / "mqtt")
    publisher = await demo.start()
    try:
        assert publisher is not None and demo.broker is not None
        assert (tmp_path / "mqtt" / "mosquitto.conf").exists()
        sim = Simulator(running.server, mqtt=publisher)
        sim.warmed_up = True  # live: the catch-up submits directly
        camera = sorted(running.server.reference.cameras)[0]
        svg = b"<svg xmlns='http://www.w3.org/2000/svg'/>"
        now = running.server.clock.now()
        sim._detect(
            DetectRequest(camera, "smoke_fire", 0.9, Image("image/svg+xml", svg)), None, now
        )
        hub = running.server.hub
        await until(lambda: any(a.camera == camera for a in hub.alerts.values()), what="alert")
        (alert,) = [a for a in hub.alerts.values() if a.camera == camera]
        await until(lambda: demo.intake.frigate.snapshots >= 1, what="snapshot")
        image = running.store.image(alert.id)
        assert image is not None and image.body == svg and image.content_type == "image/svg+xml"
        grid = sorted(running.server.reference.grids.values(), key=lambda g: g.code)[0]
        category = next(k for k in sim.categories if k.code == "20-08")
        sim._sensor_alarm("gas", grid, category, now)
        await until(
            lambda: any(e.reporter == f"gas-{grid.code}" for e in hub.events.values()), what="case"
        )
        (case,) = [e for e in hub.events.values() if e.reporter == f"gas-{grid.code}"]
        assert (case.category, case.source, case.grid) == ("20-08", "sensor", grid.code)
    finally:
        await demo.stop()
        await running.server.stop()
    assert demo.broker is not None and demo.broker.process is None  # stopped with the demo


async def test_without_mosquitto_the_demo_submits_directly_and_says_so(
    sqlite_store, tmp_path, monkeypatch, caplog
):
    monkeypatch.setenv("TONGGUAN_MOSQUITTO", "none")
    caplog.set_level(logging.WARNING, "dispatch.intake.mqtt.demo")
    running = await start_server(sqlite_store)
    demo = DemoMqtt(running.server, tmp_path / "mqtt")
    try:
        assert await demo.start() is None
        assert "mosquitto not found" in caplog.text and "directly, not through MQTT" in caplog.text
        sim = Simulator(running.server, mqtt=None)
        sim.warmed_up = True
        camera = sorted(running.server.reference.cameras)[1]
        sim._detect(DetectRequest(camera, "smoke_fire", 0.9), None, running.server.clock.now())
        hub = running.server.hub
        await until(lambda: any(a.camera == camera for a in hub.alerts.values()), what="alert")
    finally:
        await demo.stop()
        await running.server.stop()


async def test_a_mosquitto_that_cannot_start_falls_back(
    sqlite_store, tmp_path, monkeypatch, caplog
):
    monkeypatch.setenv("TONGGUAN_MOSQUITTO", "/bin/false")
    caplog.set_level(logging.WARNING, "dispatch.intake.mqtt.demo")
    running = await start_server(sqlite_store)
    demo = DemoMqtt(running.server, tmp_path / "mqtt")
    try:
        assert await demo.start() is None
        assert "the demo's mosquitto did not start" in caplog.text
    finally:
        await demo.stop()
        await running.server.stop()


ROOT = Path(__file__).resolve().parents[3]


def start_demo(data: Path, log: Path, *more: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TONGGUAN_DATA": str(data), "PYTHONPATH": str(ROOT)}
    env.pop("TONGGUAN_DB_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "dispatch", "demo", "--port", "0", "--no-warm-up", *more],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )


def children(pid: int) -> list[str]:
    """`pid comm` of each child process."""
    return subprocess.run(
        ["ps", "-o", "pid=,comm=", "--ppid", str(pid)], capture_output=True, text=True
    ).stdout.splitlines()


def mosquitto_child_of(pid: int) -> int:
    (broker,) = [int(line.split()[0]) for line in children(pid) if "mosquitto" in line]
    return broker


def gone(pid: int) -> bool:
    """Ended (a zombie until init reaps it counts as ended)."""
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().split()[2] in ("Z", "X")
    except OSError:
        return True


async def test_the_demos_mosquitto_ends_with_a_killed_backend(tmp_path, mosquitto):
    """`dispatch demo` SIGKILLed (as the wall's supervision or a crash may): its mosquitto
    child does not outlive it."""
    log = tmp_path / "demo.log"
    proc = start_demo(tmp_path, log)
    try:
        await until(lambda: "demo MQTT: mosquitto on" in log.read_text(), timeout=120)
        broker = mosquitto_child_of(proc.pid)
        assert not gone(broker)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    await until(lambda: gone(broker), timeout=15, what="the demo's mosquitto gone")


def test_the_demo_config_turns_the_demo_mqtt_on(tmp_path):
    """`dispatch demo`'s file has `[intake.mqtt] demo = true` (the private broker keeps its
    data in mqtt/ beside the file); a file written before the MQTT intake gets it added."""
    from dispatch.intake.config import load_config
    from dispatch.intake.demo import write_demo_config
    from dispatch.intake.mqtt.settings import MqttSettings

    path = write_demo_config(tmp_path)
    settings = load_config(path).get("mqtt", MqttSettings)
    assert settings is not None and settings.demo_dir == str(tmp_path / "mqtt")
    old = "\n".join(
        line for line in path.read_text().splitlines() if "intake.mqtt" not in line
    ).replace("demo = true", "")
    path.write_text(old)
    assert load_config(path).get("mqtt", MqttSettings) is None
    write_demo_config(tmp_path)
    assert load_config(path).get("mqtt", MqttSettings) is not None


async def test_no_mqtt_demo_serves_without_the_broker(tmp_path):
    """`dispatch demo --no-mqtt`: no MQTT intake, no mosquitto child; the simulator submits
    its camera and sensor traffic directly."""
    log = tmp_path / "demo.log"
    proc = start_demo(tmp_path, log, "--no-mqtt")
    try:
        await until(lambda: "intakes enabled:" in log.read_text(), timeout=120)
        assert "intakes enabled: hotline, open311\n" in log.read_text()
        assert "[intake.mqtt]" in (tmp_path / "intake-demo.toml").read_text()  # kept in the file
        assert not [line for line in children(proc.pid) if "mosquitto" in line]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
