"""MQTT camera intake: Frigate events/s through a real Mosquitto, and publish -> wall latency.

A private `mosquitto` on a free port (persistence on, as in production). The backend (in
this process, SQLite or PostgreSQL) runs the MQTT intake (dispatch/intake/mqtt) with its
persistent QoS 1 session and acknowledgements after the commit. A child process publishes
Frigate `frigate/events` messages with QoS 1 at a set rate: per Frigate event id a `new`, an
`update` (higher score) and an `end`, ids spread over CAMERAS cameras, so every camera's
events are de-duplicated into one alert (its count is the number of ids). The same child
holds a wall user's websocket: each `new` is timed from just before its publish to the
arrival of the delta whose alert count it raised (the first delta for that camera and
count). Reported: messages/s the intake sustained (all messages committed / time from the
first publish to the last commit), and the latency percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

from bench import common

RATE = 5000  # messages/s offered live
BACKLOG = 60_000  # messages queued while the intake is away, then drained
DURATION = 15.0
CAMERAS = 500
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


@dataclass
class Outcome:
    """One run's figures."""

    db: str
    backlog: int
    drain_rate: float  # messages/s committed while draining a backlog
    drain_cpu: float  # backend process CPU meanwhile, % of one core
    offered: float
    messages: int
    rate: float  # messages/s committed under the offered rate
    live_cpu: float
    alerts: int
    p50: float
    p99: float
    p_max: float
    samples: int
    news: int


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _broker(directory: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    conf = directory / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\n"
        f"user {os.environ.get('USER') or 'root'}\n"
        f"persistence true\npersistence_location {directory}/\n"
        "max_queued_messages 1000000\n"
    )
    proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stderr=subprocess.DEVNULL)
    for _ in range(200):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, port
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("mosquitto did not start")


def stream(cameras: list[str], n: int) -> tuple[list[bytes], list[tuple[str, int] | None]]:
    """`n` Frigate messages: per event id a new, an update and an end, ids round the
    cameras; beside each `new` the (camera, alert count) its delta will show."""
    frames: list[bytes] = []
    keys: list[tuple[str, int] | None] = []
    hits = dict.fromkeys(cameras, 0)
    base = time.time()
    for i in range(n):
        camera = cameras[(i // 3) % len(cameras)]
        event_id = f"{base:.6f}-{i // 3:06x}"
        step = i % 3
        if step == 0:
            hits[camera] += 1
            keys.append((camera, hits[camera]))
            frames.append(_frame("new", event_id, camera, 0.7))
        else:
            keys.append(None)
            frames.append(
                _frame("update" if step == 1 else "end", event_id, camera, 0.7 + 0.1 * step)
            )
    return frames, keys


def _frame(kind: str, event_id: str, camera: str, score: float) -> bytes:
    after = {
        "id": event_id,
        "camera": camera,
        "label": "smoke",
        "score": score,
        "top_score": score,
        "false_positive": False,
        "start_time": time.time(),
        "end_time": time.time() if kind == "end" else None,
        "current_zones": [],
        "entered_zones": [],
        "has_snapshot": False,
        "has_clip": False,
    }
    return json.dumps({"type": kind, "before": after, "after": after}).encode()


# ---- the child: publisher and wall client ---------------------------------------------------


def _remaining(n: int) -> bytes:
    """MQTT's variable-length 'remaining length'."""
    out = bytearray()
    while True:
        n, digit = n >> 7, n & 0x7F
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def publish_packet(topic: str, payload: bytes, packet_id: int) -> bytes:
    """An MQTT 3.1.1 PUBLISH at QoS 1."""
    name = topic.encode()
    body = len(name).to_bytes(2, "big") + name + packet_id.to_bytes(2, "big") + payload
    return b"\x32" + _remaining(len(body)) + body


class RawPublisher:
    """An MQTT 3.1.1 publisher on a plain socket: packets encoded ahead, PUBACKs counted by a
    reader thread. paho in Python took about 0.6 of a core at 5,000/s, which the backend under
    test then did not have."""

    def __init__(self, port: int, client_id: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        ident = client_id.encode()
        variable = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(ident).to_bytes(2, "big") + ident
        self.sock.sendall(b"\x10" + _remaining(len(variable)) + variable)
        connack = self.sock.recv(4)
        if len(connack) < 4 or connack[0] != 0x20 or connack[3] != 0:
            raise RuntimeError(f"the broker refused the connection: {connack!r}")
        self.acks = 0
        self._acked = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def send(self, data: bytes) -> None:
        """Write packets (already encoded)."""
        self.sock.sendall(data)

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            count = 0
            while len(buffer) >= 2:
                length = buffer[1]  # PUBACKs (0x40) are 4 bytes: a one-byte length
                if len(buffer) < 2 + length:
                    break
                count += buffer[0] == 0x40
                buffer = buffer[2 + length :]
            if count:
                with self._acked:
                    self.acks += count
                    self._acked.notify_all()

    def wait_acks(self, n: int, timeout: float) -> None:
        """Wait until the broker acknowledged `n` publishes."""
        with self._acked:
            self._acked.wait_for(lambda: self.acks >= n, timeout)

    def close(self) -> None:
        """DISCONNECT and close."""
        with contextlib.suppress(OSError):
            self.sock.sendall(b"\xe0\x00")
        self.sock.close()


def client_main(
    port: int,
    ws_port: int,
    token: str,
    topic: str,
    cameras: list[str],
    rate: float,
    duration: float,
    conn: Connection,
) -> None:
    """Publish at `rate` for `duration`, time each `new` to its delta on the wall's socket."""
    asyncio.run(_client(port, ws_port, token, topic, cameras, rate, duration, conn))


async def _client(
    port: int,
    ws_port: int,
    token: str,
    topic: str,
    cameras: list[str],
    rate: float,
    duration: float,
    conn: Connection,
) -> None:
    from websockets.asyncio.client import connect

    from protocol.codec import decode_server, encode
    from protocol.entities import Alert
    from protocol.messages import Delta, Hello, Snapshot

    ws = await connect(f"ws://127.0.0.1:{ws_port}", max_size=None, compression=None)
    await ws.send(encode(Hello(id=1, protocol=1, token=token, client="bench")).decode())
    while not isinstance(decode_server(await ws.recv()), Snapshot):
        pass
    arrived: dict[tuple[str, int], float] = {}

    async def read() -> None:
        async for raw in ws:
            now = time.time()
            message = decode_server(raw)
            if isinstance(message, Delta) and isinstance(message.data, Alert):
                arrived.setdefault((message.data.camera, message.data.count), now)

    reader = asyncio.create_task(read())
    sent: dict[tuple[str, int], float] = {}
    done = threading.Event()
    total = [0]
    first = [0.0]

    def publish() -> None:
        frames, keys = stream(cameras, int(rate * duration))
        packets = [publish_packet(topic, body, n % 65535 + 1) for n, body in enumerate(frames)]
        publisher = RawPublisher(port, f"bench-pub-{os.getpid()}")
        start = time.time()
        first[0] = start
        n = 0
        while n < len(packets):
            # Every packet now due, in one write: a Frigate box publishes as it detects,
            # and this costs the machine little (the broker and the backend need the cores).
            due = min(len(packets), int((time.time() - start) * rate) + 1)
            if due <= n:
                time.sleep(min((n - due + 1) / rate, 0.001))
                continue
            now = time.time()
            for k in range(n, due):
                key = keys[k]
                if key is not None:
                    sent[key] = now
            publisher.send(b"".join(packets[n:due]))
            n = due
        publisher.wait_acks(len(packets), 60)
        publisher.close()
        total[0] = len(frames)
        done.set()

    thread = threading.Thread(target=publish, daemon=True)
    thread.start()
    await asyncio.to_thread(done.wait)
    conn.send((total[0], first[0]))  # the parent waits for the commits of this many
    conn.recv()  # all committed: the last deltas are on their way
    await asyncio.sleep(1.0)
    reader.cancel()
    await ws.close()
    latencies = [arrived[k] - t for k, t in sent.items() if k in arrived]
    conn.send((latencies, len(sent)))


# ---- the parent: broker, backend, intake --------------------------------------------------------


def run_mqtt(db: str, rate: float, duration: float, backlog: int, protocol: str = "5") -> Outcome:
    """One run on a fresh database and broker (in a fresh process)."""
    return asyncio.run(_run(db, rate, duration, backlog, protocol))


def _publish_all(port: int, topic: str, frames: list[bytes]) -> None:
    publisher = RawPublisher(port, f"bench-backlog-{os.getpid()}")
    chunk = 1000
    for n in range(0, len(frames), chunk):
        last = min(n + chunk, len(frames))
        packets = [publish_packet(topic, frames[k], k % 65535 + 1) for k in range(n, last)]
        publisher.send(b"".join(packets))
        publisher.wait_acks(last - 30_000, 120)  # at most 30,000 unacknowledged
    publisher.wait_acks(len(frames), 120)
    publisher.close()


async def _run(db: str, rate: float, duration: float, backlog: int, protocol: str) -> Outcome:
    import uuid

    from dispatch.intake.mqtt import MqttIntake
    from dispatch.intake.mqtt.settings import MqttSettings

    with tempfile.TemporaryDirectory(prefix="tg-mqtt-") as tmp, common.database(db) as url:
        broker, port = _broker(Path(tmp))
        store, reference = common.prepared(url)
        token = store.create_user("bench-wall", "wall")
        server = await common.started(store, reference)
        tag = uuid.uuid4().hex[:8]
        settings = MqttSettings(
            port=port,
            client_id=f"bench-{tag}",
            frigate_topic=f"b-{tag}/frigate/events",
            sensor_topic="",
            protocol=protocol,
        )
        every = sorted(reference.cameras)
        threads = common.server_threads(server)

        # 1. A backlog: published while the intake is away (its session keeps it), drained.
        intake = MqttIntake(server, settings)
        await intake.start()
        assert intake.consumer is not None
        await asyncio.wait_for(intake.consumer.connected.wait(), 15)
        await intake.stop()
        frames, _ = stream(every[:CAMERAS], backlog)
        await asyncio.to_thread(_publish_all, port, settings.frigate_topic, frames)
        intake = MqttIntake(server, settings)
        mark = common.cpu_mark(threads)
        start = time.time()
        await intake.start()
        frigate = intake.frigate
        assert frigate is not None
        while frigate.accepted + sum(frigate.rejected.values()) < backlog:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        drained = time.time() - start
        drain_cpu, _ = common.cpu_share(mark, common.cpu_mark(threads))
        base = frigate.accepted

        # 2. Live: `rate` messages/s offered by a child that also holds a wall's websocket.
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        proc = ctx.Process(
            target=client_main,
            args=(
                port,
                server.port,
                token,
                settings.frigate_topic,
                every[CAMERAS : 2 * CAMERAS],
                rate,
                duration,
                child,
            ),
        )
        proc.start()
        mark = common.cpu_mark(threads)
        total, first = await asyncio.to_thread(parent.recv)
        while frigate.accepted + sum(frigate.rejected.values()) - base < total:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        live = time.time() - first
        live_cpu, _ = common.cpu_share(mark, common.cpu_mark(threads))
        parent.send(True)
        latencies, news = await asyncio.to_thread(parent.recv)
        proc.join(30)
        alerts = len(server.hub.alerts) if server.hub else 0
        await intake.stop()
        await server.stop()
        store.close()
        broker.terminate()
        broker.wait(10)
    values = np.array(latencies) * 1000
    return Outcome(
        db=db,
        backlog=backlog,
        drain_rate=backlog / drained,
        drain_cpu=drain_cpu,
        offered=rate,
        messages=total,
        rate=total / live,
        live_cpu=live_cpu,
        alerts=alerts,
        p50=common.pct(values, 50),
        p99=common.pct(values, 99),
        p_max=float(values.max()) if len(values) else float("nan"),
        samples=len(values),
        news=news,
    )


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The benchmark's arguments."""
    parser = argparse.ArgumentParser(prog="python -m bench mqtt", description=__doc__)
    parser.add_argument("--db", default="sqlite", help="sqlite, postgres or both (comma)")
    parser.add_argument("--rate", type=float, default=RATE, help="messages/s offered live")
    parser.add_argument("--duration", type=float, default=DURATION, help="s of live traffic")
    parser.add_argument("--backlog", type=int, default=BACKLOG, help="messages queued, drained")
    parser.add_argument("--quick", action="store_true", help="6 s live, 20,000 backlog")
    parser.add_argument("--protocol", default="5", choices=("5", "3.1.1"), help="the intake's MQTT")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration = 6.0
        args.backlog = 20_000
    return args


def main(argv: Sequence[str] | None = None) -> list[Outcome]:
    """Run each database, print the table and the command that reproduces it."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse(argv)
    if not Path(MOSQUITTO).exists():
        print("mqtt: mosquitto is not installed (apt-get install mosquitto)")
        return []
    print(
        f"mqtt: a backlog of {args.backlog:,} Frigate messages drained, then "
        f"{args.rate:,.0f} msg/s offered live for {args.duration:.0f} s (the intake on MQTT "
        f"{args.protocol})"
    )
    outcomes = []
    for db in [d for d in args.db.split(",") if d]:
        o = common.isolated(run_mqtt, db, args.rate, args.duration, args.backlog, args.protocol)
        outcomes.append(o)
        print(
            f"  {db:<8}: drain {o.drain_rate:>7,.0f} msg/s (CPU {o.drain_cpu:.0f}%); live "
            f"{o.rate:,.0f} msg/s of {o.offered:,.0f} offered ({o.messages:,} messages, CPU "
            f"{o.live_cpu:.0f}%), publish->wall p50 {o.p50:.1f} ms p99 {o.p99:.1f} ms max "
            f"{o.p_max:.1f} ms ({o.samples:,} of {o.news:,} alerts' hits timed)",
            flush=True,
        )
    print()
    print(
        common.table(
            ["db", "drain msg/s", "offered msg/s", "live msg/s", "p50 ms", "p99 ms", "max ms"],
            [
                [
                    o.db,
                    f"{o.drain_rate:,.0f}",
                    f"{o.offered:,.0f}",
                    f"{o.rate:,.0f}",
                    f"{o.p50:.1f}",
                    f"{o.p99:.1f}",
                    f"{o.p_max:.1f}",
                ]
                for o in outcomes
            ],
        )
    )
    print(f"\nreproduce: {common.reproduce('bench', ['mqtt', *argv])}")
    return outcomes


if __name__ == "__main__":
    from bench.mqtt import main as _main

    _main()
