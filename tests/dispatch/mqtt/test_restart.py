"""No alert lost across a broker restart or a backend restart (graceful or SIGKILL): the
messages published meanwhile each make exactly one alert once both are back."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from dispatch.store.store import Store
from tests.dispatch.conftest import prepared_store
from tests.dispatch.mqtt.conftest import (
    PrivateBroker,
    Publisher,
    settings_for,
    start_intake,
    until,
)
from tests.dispatch.mqtt.frames import frigate_message

ROOT = Path(__file__).resolve().parents[3]


def cameras_of(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT code FROM units WHERE kind = 'camera' ORDER BY code"))
        return [r[0] for r in rows]


def tally(store: Store) -> tuple[int, int, int]:
    """external ids, alerts, alerts' detect rows in the log."""
    with store.engine.connect() as conn:
        ids = conn.execute(sa.text("SELECT count(*) FROM external_ids")).scalar_one()
        alerts = conn.execute(sa.text("SELECT count(*) FROM alerts")).scalar_one()
        detects = conn.execute(
            sa.text("SELECT count(*) FROM log WHERE entity = 'alert' AND action = 'detect'")
        ).scalar_one()
    return ids, alerts, detects


def publish_range(pub: Publisher, topic: str, cameras: list[str], start: int, end: int) -> None:
    for n in range(start, end):
        pub.publish(topic, frigate_message("new", f"ev-{n:05d}", cameras[n], has_snapshot=False))


@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
async def test_broker_restart_loses_nothing(sqlite_store, private_broker: PrivateBroker, protocol):
    settings = settings_for("127.0.0.1", private_broker.port, protocol=protocol)
    run = await start_intake(sqlite_store, settings)
    cameras = sorted(run.running.server.reference.cameras)
    pub = await asyncio.to_thread(Publisher, "127.0.0.1", private_broker.port)
    fr = run.intake.frigate
    try:
        publish_range(pub, settings.frigate_topic, cameras, 0, 20)
        await asyncio.to_thread(pub.flush)
        await until(lambda: fr.accepted == 20)
        await asyncio.to_thread(private_broker.stop)
        # Published while the broker is down: the publisher keeps them (QoS 1).
        publish_range(pub, settings.frigate_topic, cameras, 20, 40)
        await asyncio.sleep(0.5)
        await asyncio.to_thread(private_broker.start)
        await asyncio.to_thread(pub.flush, 30)
        await until(lambda: fr.accepted >= 40, timeout=30, what="40 accepted")
        await asyncio.sleep(0.3)
        assert tally(sqlite_store) == (40, 40, 40)
        assert run.intake.consumer.connects >= 2
    finally:
        await asyncio.to_thread(pub.close)
        await run.stop()


async def test_backend_restart_loses_nothing(sqlite_url, private_broker: PrivateBroker):
    settings = settings_for("127.0.0.1", private_broker.port)
    store = prepared_store(sqlite_url)
    run = await start_intake(store, settings)
    cameras = sorted(run.running.server.reference.cameras)
    pub = await asyncio.to_thread(Publisher, "127.0.0.1", private_broker.port)
    try:
        publish_range(pub, settings.frigate_topic, cameras, 0, 10)
        await asyncio.to_thread(pub.flush)
        await until(lambda: run.intake.frigate.accepted == 10)
        await run.stop(forget=False)
        # Published while the backend is down: the broker queues them for its session.
        publish_range(pub, settings.frigate_topic, cameras, 10, 30)
        await asyncio.to_thread(pub.flush)
        # The broker restarts too while the backend is away (its persistence keeps them).
        await asyncio.to_thread(private_broker.stop)
        await asyncio.to_thread(private_broker.start)
        run = await start_intake(store, settings)
        await until(lambda: tally(store)[0] == 30, timeout=20, what="30 external ids")
        await asyncio.sleep(0.3)
        assert tally(store) == (30, 30, 30)
    finally:
        await asyncio.to_thread(pub.close)
        await run.stop()
        store.close()


async def test_backend_killed_mid_stream_loses_nothing_and_doubles_nothing(
    tmp_path, private_broker: PrivateBroker
):
    """`dispatch serve --config` SIGKILLed while messages flow, started again: every Frigate
    event is in the database once (acknowledged only after the commit)."""
    url = f"sqlite:///{tmp_path / 'kill.db'}"
    store = prepared_store(url)
    cameras = cameras_of(store)
    store.close()
    settings = settings_for("127.0.0.1", private_broker.port)
    config = tmp_path / "intake.toml"
    config.write_text(
        "[intake.mqtt]\n"
        f"port = {private_broker.port}\n"
        f'client_id = "{settings.client_id}"\n'
        f'frigate_topic = "{settings.frigate_topic}"\n'
        'sensor_topic = ""\n'
        "reconnect_min = 1\nreconnect_max = 2\nsession_expiry = 60\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def serve() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dispatch",
                "--url",
                url,
                "serve",
                "--port",
                "0",
                "--config",
                str(config),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / "serve.log", "ab"),
        )

    total = 600
    proc = serve()
    pub = await asyncio.to_thread(Publisher, "127.0.0.1", private_broker.port)
    reader = Store(url)
    try:
        await until(lambda: "MQTT connected" in (tmp_path / "serve.log").read_text(), timeout=30)
        await asyncio.sleep(0.5)

        async def stream() -> None:
            for n in range(0, total, 20):
                publish_range(pub, settings.frigate_topic, cameras, n, n + 20)
                await asyncio.sleep(0.02)

        streaming = asyncio.create_task(stream())
        await until(lambda: tally(reader)[0] >= 100, timeout=30, what="100 stored")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        killed_at = tally(reader)[0]
        await streaming
        await asyncio.to_thread(pub.flush)
        proc = serve()
        await until(lambda: tally(reader)[0] == total, timeout=60, what=f"{total} stored")
        await asyncio.sleep(1.0)  # anything delivered twice would show now
        assert tally(reader) == (total, total, total)
        assert killed_at < total
    finally:
        await asyncio.to_thread(pub.close)
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
        reader.close()
