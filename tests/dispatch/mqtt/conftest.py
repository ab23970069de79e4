"""Real brokers and a real fake NVR for the MQTT intake's tests.

The shared Mosquitto at 127.0.0.1:1883 serves the tests that do not restart a broker, each
under topics and a client id of its own; the tests that restart one start a private
`mosquitto` on a free port with a temporary config and persistence directory.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from dispatch.clock import Clock
from dispatch.intake.config import IntakeConfig
from dispatch.intake.mqtt import MqttIntake
from dispatch.intake.mqtt.settings import Device, MqttSettings
from dispatch.intake.mqtt_part import MqttPart
from dispatch.store.store import Store
from tests.dispatch.conftest import Running, start_server

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
SHARED = ("127.0.0.1", 1883)
JPEG = b"\xff\xd8\xff\xe0" + b"JFIF-test-snapshot" * 20 + b"\xff\xd9"


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


@pytest.fixture(scope="session")
def shared_broker() -> tuple[str, int]:
    """The machine's Mosquitto (./tg installs and starts it); CI=true requires it."""
    if not _port_open(*SHARED):
        if os.environ.get("CI") == "true":
            pytest.fail("no MQTT broker at 127.0.0.1:1883 (./tg test starts one)")
        pytest.skip("no MQTT broker at 127.0.0.1:1883")
    return SHARED


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PrivateBroker:
    """A mosquitto process of a test's own: stop (SIGTERM saves its persistence) and start
    again on the same port and directory."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        conf = self.directory / "mosquitto.conf"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            f"user {getpass.getuser()}\n"  # as root it would drop to `mosquitto`: no access
            "persistence true\n"
            f"persistence_location {self.directory}/\n"
            "max_queued_messages 100000\n"
            f"log_dest file {self.directory}/mosquitto.log\n"
        )
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(conf)])
        deadline = time.monotonic() + 10
        while not _port_open("127.0.0.1", self.port):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("private mosquitto did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(10)
        self.process = None


@pytest.fixture
def private_broker(tmp_path) -> Iterator[PrivateBroker]:
    if not Path(MOSQUITTO).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("mosquitto is not installed (./tg test installs it)")
        pytest.skip("mosquitto is not installed")
    directory = tmp_path / "broker"
    directory.mkdir()
    broker = PrivateBroker(directory)
    broker.start()
    yield broker
    broker.stop()


class Publisher:
    """A real MQTT client publishing with QoS 1 under a persistent session of its own (it
    keeps what it publishes while the broker is away and sends it on reconnection)."""

    def __init__(self, host: str, port: int) -> None:
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"pub-{uuid.uuid4().hex[:12]}",
            clean_session=False,
        )
        self.client.reconnect_delay_set(1, 2)
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.client.connect(host, port)
        self.client.loop_start()
        self.infos: list[paho.MQTTMessageInfo] = []

    def publish(self, topic: str, payload: bytes | str, qos: int = 1) -> None:
        self.infos.append(self.client.publish(topic, payload, qos=qos))

    def flush(self, timeout: float = 30) -> None:
        """Wait for the broker's PUBACK of everything published (also of what was published
        while the broker was away: paho keeps it, its rc says "not connected")."""
        deadline = time.monotonic() + timeout
        for info in self.infos:
            while not info._published:  # is_published() raises for a queued message
                if time.monotonic() > deadline:
                    raise TimeoutError("publishes not acknowledged by the broker")
                time.sleep(0.01)
        self.infos.clear()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class FakeNvr:
    """Frigate's HTTP API as far as snapshots go: a real HTTP server on port 0.
    `slow` answers 503 that many times per event first; `delay` holds each answer."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.failures: dict[str, int] = {}
        self.slow = 0
        self.delay = 0.0
        self.images: dict[str, bytes] = {}
        self.events: list[dict[str, object]] = []  # Frigate's record (GET /api/events)
        nvr = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                nvr.requests.append(self.path)
                path, _, query = self.path.partition("?")
                if path == "/api/events":
                    self.events(dict(urllib.parse.parse_qsl(query)))
                    return
                parts = path.split("/")
                # /api/events/<id>/snapshot.jpg
                if len(parts) != 5 or parts[1:3] != ["api", "events"] or parts[4] != "snapshot.jpg":
                    self.send_error(404)
                    return
                event_id = parts[3]
                if nvr.delay:
                    time.sleep(nvr.delay)
                seen = nvr.failures.get(event_id, 0)
                if seen < nvr.slow:
                    nvr.failures[event_id] = seen + 1
                    self.send_response(503)
                    self.end_headers()
                    return
                body = nvr.images.get(event_id, JPEG + event_id.encode())
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def events(self, query: dict[str, str]) -> None:
                # Frigate's record: started after `after`, newest first, a page of them.
                after = float(query.get("after", 0))
                limit, offset = int(query.get("limit", 100)), int(query.get("offset", 0))
                chosen = sorted(
                    (e for e in nvr.events if e["start_time"] > after),
                    key=lambda e: -e["start_time"],
                )[offset : offset + limit]
                body = json.dumps(chosen).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def nvr() -> Iterator[FakeNvr]:
    fake = FakeNvr()
    yield fake
    fake.close()


def settings_for(host: str, port: int, nvr_url: str = "", **more: object) -> MqttSettings:
    """Settings under topics and a client id of this test's own."""
    tag = uuid.uuid4().hex[:10]
    base = MqttSettings(
        host=host,
        port=port,
        client_id=f"tongguan-test-{tag}",
        frigate_topic=f"t-{tag}/frigate/events",
        sensor_topic=f"t-{tag}/sensors",
        nvr_url=nvr_url,
        reconnect_min=1,
        reconnect_max=2,
        session_expiry=60,  # the shared broker forgets a test's session soon after
    )
    return replace(base, **more)  # type: ignore[arg-type]


def devices_in(running: Running) -> dict[str, Device]:
    """One device of each kind at the centre of a grid of 菱湖街道."""
    grids = sorted(
        (g for g in running.server.reference.grids.values() if g.street == "340803004"),
        key=lambda g: g.code,
    )
    kinds = ["water", "hydrant", "elevator", "ebike", "gas"]
    out = {}
    for i, kind in enumerate(kinds):
        lon, lat = grids[i].centre
        device = f"{kind.upper()}-{i:03d}"
        out[device] = Device(device, kind, lon, lat, f"{grids[i].code} 号楼", f"{kind} sensor {i}")
    return out


@dataclass
class Intake:
    """A server with the MQTT intake on it."""

    running: Running
    intake: MqttIntake
    settings: MqttSettings

    async def stop(self, forget: bool = True) -> None:
        await self.running.server.stop()  # its intakes stopped first, then the writer
        if forget:
            await asyncio.to_thread(forget_session, self.settings)


def forget_session(settings: MqttSettings) -> None:
    """End a test's persistent session at the broker (a clean connection under its id), so
    the shared broker does not keep one per test run."""
    client = paho.Client(
        CallbackAPIVersion.VERSION2, client_id=settings.client_id, clean_session=True
    )
    try:
        client.connect(settings.host, settings.port)
        client.loop_start()
        client.disconnect()
        client.loop_stop()
    except OSError:
        pass  # the broker is gone (a private one): so is the session


async def start_intake(store: Store, settings: MqttSettings, clock: Clock | None = None) -> Intake:
    # The way a backend runs it: `[intake.mqtt]` of its config, built by the MQTT part.
    running = await start_server(store, clock=clock, intake=IntakeConfig({"mqtt": settings}))
    assert running.server.intake is not None
    part = running.server.intake.parts["mqtt"]
    assert isinstance(part, MqttPart) and part.intake is not None
    intake = part.intake
    assert intake.consumer is not None
    await asyncio.wait_for(intake.consumer.connected.wait(), 15)
    return Intake(running, intake, settings)


async def until(predicate, timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.fixture
async def publisher(shared_broker) -> AsyncIterator[Publisher]:
    pub = await asyncio.to_thread(Publisher, *shared_broker)
    yield pub
    await asyncio.to_thread(pub.close)
