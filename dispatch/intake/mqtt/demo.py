"""The demo's MQTT: a private Mosquitto, a stand-in NVR, and the simulator's publisher.

`dispatch demo` (the wall's embedded backend) sends the simulator's live camera and sensor
traffic through the real intake path: the simulator publishes Frigate `frigate/events`
messages and sensor readings to a broker, the MQTT intake consumes them, fetches each
snapshot from the stand-in NVR (the simulator's rendered frames over HTTP) and commits.
The demo must run on machines without a broker, so it starts a `mosquitto` child of its own
on a free loopback port (persistence in the data directory; it ends with the backend) when
the Debian binary is there; otherwise the simulator submits directly and the log says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from dispatch.intake.mqtt import Backend, MqttIntake
from dispatch.intake.mqtt.settings import RULES, Device, MqttSettings
from dispatch.reference import ReferenceData

log = logging.getLogger("dispatch.intake.mqtt.demo")

DEMO_CLIENT_ID = "tongguan-demo-intake"
# The sensor categories the intake's rules make, by kind.
KIND_OF_CATEGORY = {rule.category: kind for kind, rule in RULES.items()}


def find_mosquitto() -> str | None:
    """The mosquitto binary: $TONGGUAN_MOSQUITTO (a path, or `none` for no broker), else
    on PATH or in /usr/sbin (Debian's place, often not on PATH); None when there is none."""
    chosen = os.environ.get("TONGGUAN_MOSQUITTO")
    if chosen:
        return None if chosen == "none" else chosen
    found = shutil.which("mosquitto")
    if found:
        return found
    return "/usr/sbin/mosquitto" if os.access("/usr/sbin/mosquitto", os.X_OK) else None


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the backend dies, even by SIGKILL (Linux)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class PrivateBroker:
    """A mosquitto child on a free loopback port, persistence under `directory`."""

    def __init__(self, binary: str, directory: Path) -> None:
        self.binary = binary
        self.directory = directory
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it (from the thread that lives as long as the backend: the child's death
        signal follows the thread that forked it); `ready()` waits until it listens."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        conf = self.directory / "mosquitto.conf"
        user = os.environ.get("USER") or "root"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            f"user {user}\n"  # as root mosquitto would drop to `mosquitto`: keep our files ours
            "persistence true\n"
            f"persistence_location {self.directory}/\n"
            "max_queued_messages 100000\n"
            f"log_dest file {self.directory}/mosquitto.log\n"
        )
        self.process = subprocess.Popen(  # noqa: S603 - our binary, our config file
            [self.binary, "-c", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,  # only prctl() before exec
        )

    def ready(self, timeout: float = 10.0) -> int:
        """Wait until it listens (OSError if it does not); the port."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise OSError(f"mosquitto exited with {self.process.returncode}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self.port
            time.sleep(0.05)
        self.stop()
        raise OSError("mosquitto did not listen in time")

    def stop(self) -> None:
        """SIGTERM (it saves its persistence), then wait."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None


class StandInNvr:
    """Frigate's snapshot endpoint for the simulator's frames: `/api/events/<id>/snapshot.jpg`
    (the newest 2,000 kept)."""

    def __init__(self) -> None:
        self.images: OrderedDict[str, tuple[str, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        nvr = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 5.0  # a client that stops half-way does not hold the others for long

            def do_GET(self) -> None:
                parts = self.path.split("?")[0].split("/")
                with nvr._lock:
                    found = nvr.images.get(parts[3]) if len(parts) == 5 else None
                if found is None or parts[4] != "snapshot.jpg":
                    self.send_response(404)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"success":false,"message":"Event not found"}')
                    return
                content_type, body = found
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        # One request at a time on one thread: a frame is a few KiB read from memory, and a
        # thread per request would make the backend's thread count jump about.
        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="nvr", daemon=True)

    def start(self) -> None:
        """Serve in a thread."""
        self.thread.start()

    def put(self, event_id: str, content_type: str, body: bytes) -> None:
        """Keep a frame for an event."""
        with self._lock:
            self.images[event_id] = (content_type, body)
            while len(self.images) > 2000:
                self.images.popitem(last=False)

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


def demo_devices(reference: ReferenceData) -> dict[str, Device]:
    """One sensor of each kind in every grid, at the grid's centre: `<kind>-<grid code>`."""
    devices = {}
    for grid in reference.grids.values():
        lon, lat = grid.centre
        for kind in RULES:
            device = f"{kind}-{grid.code}"
            devices[device] = Device(device, kind, lon, lat, grid.name, f"{grid.name} {kind}")
    return devices


class DemoPublisher:
    """The simulator's side: publishes Frigate events and sensor readings (QoS 1) and keeps
    each snapshot at the stand-in NVR."""

    def __init__(self, settings: MqttSettings, nvr: StandInNvr) -> None:
        self.settings = settings
        self.nvr = nvr
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"tongguan-demo-sim-{uuid.uuid4().hex[:8]}",
        )
        self.client.max_inflight_messages_set(100)
        self.client.max_queued_messages_set(0)
        self.published = 0

    def start(self) -> None:
        """Connect (paho's thread keeps the connection)."""
        self.client.connect(self.settings.host, self.settings.port)
        self.client.loop_start()

    def stop(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()

    def camera_event(
        self,
        camera: str,
        label: str,
        score: float,
        image: tuple[str, bytes] | None,
        at: float | None = None,
    ) -> str:
        """A Frigate object seen and gone (`new`, then `end`); its id. `at`: when it was
        seen, by the district clock (a demo's runs fast: the camera's time is checked by
        it), else now."""
        now = time.time() if at is None else at
        event_id = f"{now:.6f}-{uuid.uuid4().hex[:6]}"
        if image is not None:
            self.nvr.put(event_id, *image)
        after = {
            "id": event_id,
            "camera": camera,
            "frame_time": now,
            "label": label,
            "sub_label": None,
            "top_score": round(score, 3),
            "false_positive": False,
            "start_time": now,
            "end_time": None,
            "score": round(score, 3),
            "current_zones": [],
            "entered_zones": [],
            "has_clip": False,
            "has_snapshot": image is not None,
        }
        before = dict(after, false_positive=True, has_snapshot=False, top_score=0.0)
        self._publish(
            self.settings.frigate_topic, {"type": "new", "before": before, "after": after}
        )
        end = dict(after, end_time=now + 1.0)
        self._publish(self.settings.frigate_topic, {"type": "end", "before": after, "after": end})
        return event_id

    def reading(self, device: Device, value: float, at: str) -> None:
        """A sensor reading (`at`: ISO 8601 with offset)."""
        topic = f"{self.settings.sensor_topic}/{device.kind}/{device.id}"
        body = {"device": device.id, "kind": device.kind, "reading": value, "time": at}
        self._publish(topic, body)

    def _publish(self, topic: str, body: object) -> None:
        self.client.publish(topic, json.dumps(body, ensure_ascii=False), qos=1)
        self.published += 1


def demo_settings(
    port: int, nvr_url: str, reference: ReferenceData, base: MqttSettings | None = None
) -> MqttSettings:
    """The demo intake (`base`'s topics, rules...): our camera codes as Frigate camera names,
    a sensor of each kind in every grid."""
    return replace(
        base or MqttSettings(),
        host="127.0.0.1",
        port=port,
        client_id=DEMO_CLIENT_ID,
        nvr_url=nvr_url,
        nvr_tries=3,
        reconcile_every=0.0,  # the stand-in NVR keeps no record of events
        devices=demo_devices(reference),
    )


class DemoMqtt:
    """The demo's broker, stand-in NVR, intake and publisher, started and stopped together."""

    def __init__(self, server: Backend, directory: Path, base: MqttSettings | None = None) -> None:
        self.server = server
        self.directory = directory
        self.base = base or MqttSettings()
        self.broker: PrivateBroker | None = None
        self.nvr: StandInNvr | None = None
        self.intake: MqttIntake | None = None
        self.publisher: DemoPublisher | None = None

    async def start(self) -> DemoPublisher | None:
        """Everything up, or None (and a log line saying why) where no broker can be had."""
        binary = find_mosquitto()
        if binary is None:
            log.warning(
                "mosquitto not found (Debian package `mosquitto`): the simulator's camera and "
                "sensor traffic goes to the backend directly, not through MQTT"
            )
            return None
        try:
            self.broker = PrivateBroker(binary, self.directory)
            self.broker.start()
            port = await asyncio.to_thread(self.broker.ready)
        except OSError as exc:
            log.warning(
                "the demo's mosquitto did not start (%s): the simulator's camera and sensor "
                "traffic goes to the backend directly, not through MQTT",
                exc,
            )
            self.broker = None
            return None
        self.nvr = StandInNvr()
        self.nvr.start()
        settings = demo_settings(port, self.nvr.url, self.server.reference, self.base)
        self.intake = MqttIntake(self.server, settings)
        await self.intake.start()
        assert self.intake.consumer is not None
        await asyncio.wait_for(self.intake.consumer.connected.wait(), 15)
        self.publisher = DemoPublisher(settings, self.nvr)
        await asyncio.to_thread(self.publisher.start)
        log.info(
            "demo MQTT: mosquitto on 127.0.0.1:%d (persistence in %s), stand-in NVR at %s; "
            "the simulator's live camera and sensor traffic goes through it",
            port,
            self.directory,
            self.nvr.url,
        )
        return self.publisher

    async def stop(self) -> None:
        """Publisher, intake (what is under way committed), NVR, broker."""
        if self.publisher is not None:
            await asyncio.to_thread(self.publisher.stop)
        if self.intake is not None:
            await self.intake.stop()
        if self.nvr is not None:
            await asyncio.to_thread(self.nvr.stop)
        if self.broker is not None:
            await asyncio.to_thread(self.broker.stop)
