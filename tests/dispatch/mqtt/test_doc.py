"""docs/intake.md (MQTT section), tested: its configuration is read as written, and every
example payload is published through the shared Mosquitto in order, with the outcome the
document writes beside it checked."""

from __future__ import annotations

import asyncio
import json
import re
import tomllib
import uuid
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from dispatch.clock import Clock
from dispatch.domain.calendar import CST
from dispatch.intake.config import read_config
from dispatch.intake.mqtt.settings import Device, MqttSettings
from tests.dispatch.conftest import start_server
from tests.dispatch.mqtt.conftest import Publisher, start_intake, until

DOC = Path(__file__).resolve().parents[3] / "docs" / "intake.md"
DOC_CLOCK = datetime(2026, 11, 25, 10, 10, tzinfo=CST).timestamp()  # the examples' morning
_EXAMPLE = re.compile(r"<!-- mqtt: topic=(\S+) expect=(\S+) -->\n```json\n(.*?)\n```", re.S)
_CONFIG = re.compile(r"<!-- mqtt-config -->\n```toml\n(.*?)\n```", re.S)


def examples() -> list[tuple[str, str, bytes]]:
    text = DOC.read_text(encoding="utf-8")
    return [(t, e, body.encode()) for t, e, body in _EXAMPLE.findall(text)]


def doc_settings() -> MqttSettings:
    (toml,) = _CONFIG.findall(DOC.read_text(encoding="utf-8"))
    config = read_config(tomllib.loads(toml), DOC.parent)
    settings = config.get("mqtt", MqttSettings)
    assert settings is not None
    return settings


def test_the_document_has_its_examples():
    found = examples()
    assert len(found) >= 15
    assert {e.split(":")[0] for _, e, _ in found} == {
        "alert",
        "refined",
        "case",
        "nothing",
        "rejected",
        "untimed",
        "same",
    }


async def test_every_example_payload_has_the_outcome_written(sqlite_store, shared_broker, nvr):
    documented = doc_settings()
    assert documented.cameras == {"gate_east": "34080300011320000001"}
    assert documented.rules["gas"].threshold == 20.0
    probe = await start_server(sqlite_store)
    grids = sorted(
        (g for g in probe.server.reference.grids.values() if g.street == "340803004"),
        key=lambda g: g.code,
    )
    await probe.server.stop()
    devices = dict(documented.devices)
    for n, (device, kind) in enumerate(
        [
            ("HY-0001", "hydrant"),
            ("WM-0001", "water"),
            ("EL-0001", "elevator"),
            ("EB-0001", "ebike"),
        ]
    ):
        lon, lat = grids[n + 1].centre
        devices[device] = Device(device, kind, lon, lat)
    tag = uuid.uuid4().hex[:10]
    settings = replace(
        documented,
        host=shared_broker[0],
        port=shared_broker[1],
        client_id=f"tongguan-doc-{tag}",
        frigate_topic=f"d-{tag}/frigate/events",
        frigate_reviews_topic=f"d-{tag}/frigate/reviews",
        sensor_topic=f"d-{tag}/tongguan/sensors",
        nvr_url=nvr.url,
        session_expiry=60,
        devices=devices,
    )
    # The district clock of the examples' own times (their sources' clocks are checked by it).
    run = await start_intake(sqlite_store, settings, Clock(1.0, DOC_CLOCK))
    pub = await asyncio.to_thread(Publisher, *shared_broker)
    hub = run.running.server.hub
    fr, si = run.intake.frigate, run.intake.sensors
    try:
        for topic, expect, body in examples():
            topic = topic.replace("frigate/events", settings.frigate_topic, 1)
            topic = topic.replace("frigate/reviews", settings.frigate_reviews_topic, 1)
            topic = topic.replace("tongguan/sensors", settings.sensor_topic, 1)
            seen = (fr.accepted, sum(fr.rejected.values()), si.readings, sum(si.rejected.values()))
            alerts = dict(hub.alerts)
            refused = {"frigate": dict(fr.rejected), "sensors": dict(si.rejected)}
            events = {e.id for e in hub.events.values()}
            bad_times = fr.bad_times
            reviews = fr.reviews
            pub.publish(topic, body)
            await asyncio.to_thread(pub.flush)
            what, _, rest = expect.partition(":")
            if what in ("alert", "untimed"):
                await until(lambda: fr.accepted > seen[0], what=expect)
                (new,) = [a for a in hub.alerts.values() if a.id not in alerts]
                assert new.detection == rest and new.camera == "34080300011320000001"
                start = json.loads(body)["after"]["start_time"]
                if what == "alert":  # the camera's own time kept beside the times received
                    assert new.observed_at == start and new.first_at != start
                    assert fr.bad_times == bad_times
                else:  # an absurd one: dropped (counted), the alert goes ahead
                    assert new.observed_at is None and fr.bad_times == bad_times + 1
            elif what == "same":  # a review of a detection frigate/events brought already
                await until(lambda: fr.reviews > reviews, what=expect)
                await asyncio.sleep(0.2)
                assert [a for a in hub.alerts.values() if a.id not in alerts] == []
                assert {a.detection for a in hub.alerts.values()} >= {rest}
                assert all(a.count == 1 for a in hub.alerts.values())
            elif what == "refined":
                await until(lambda: fr.accepted > seen[0], what=expect)
                await until(lambda: any(a.score == float(rest) for a in hub.alerts.values()))
                assert len(hub.alerts) == len(alerts)
                assert all(a.count == 1 for a in hub.alerts.values())
            elif what in ("case", "nothing"):
                await until(lambda: si.readings > seen[2], what=expect)
                await asyncio.sleep(0.2)
                new_events = [e for e in hub.events.values() if e.id not in events]
                if what == "nothing":
                    assert new_events == []
                else:
                    (case,) = new_events
                    assert case.category == rest and case.source == "sensor"
                    # The reading's own time is kept on the case, beside the time received.
                    measured = datetime.fromisoformat(json.loads(body)["time"]).timestamp()
                    assert case.intake is not None and case.intake.channel == "sensor"
                    assert case.intake.observed_at == measured != case.reported_at
                    assert case.intake.ref == json.loads(body)["device"]
            else:
                source, reason = rest.split(":")
                counter = fr.rejected if source == "frigate" else si.rejected
                before = refused[source].get(reason, 0)
                await until(
                    lambda: (
                        counter[reason] > before
                        or sum(counter.values()) > seen[1 if source == "frigate" else 3]
                    ),
                    what=expect,
                )
                assert counter[reason] == before + 1, (expect, dict(counter))
        # The snapshot of the documented Frigate event was fetched and stored.
        await until(lambda: fr.snapshots >= 1)
        assert "/api/events/1795572000.123456-ab12cd/snapshot.jpg" in nvr.requests
        # What the desk's 接入 tab is told (intake_status, protocol.md §6.12).
        health = run.intake.health()
        assert health["connected"] is True and health["last_at"] is not None
        assert health["frigate"]["reviews"] == 3 and health["frigate"]["from_reviews"] == 1
        cameras = {c["name"]: c for c in health["cameras"]}
        assert cameras["gate_east"]["camera"] == "34080300011320000001"
        assert cameras["lobby_3"]["camera"] == ""  # heard of, not mapped
        devices = {d["device"]: d for d in health["devices"]}
        assert devices["GAS-0001"]["alarm"] is True and devices["GAS-0001"]["value"] == 22.0
        assert devices["HY-0001"]["kind"] == "hydrant" and devices["HY-0001"]["readings"] == 1
    finally:
        await asyncio.to_thread(pub.close)
        await run.stop()


def test_the_documented_configuration_refuses_typos():
    from dispatch.intake.config import ConfigError

    with pytest.raises(ConfigError, match=r"\[intake.mqtt\] unknown key\(s\): hots"):
        read_config({"intake": {"mqtt": {"hots": "x"}}}, DOC.parent)
    with pytest.raises(ConfigError, match=r"\[intake.mqtt.devices.X\] kind: one of"):
        read_config(
            {"intake": {"mqtt": {"devices": {"X": {"kind": "smoke", "lon": 1, "lat": 1}}}}},
            DOC.parent,
        )
    with pytest.raises(ConfigError, match=r"\[intake.mqtt.rules.lava\] unknown sensor kind"):
        read_config({"intake": {"mqtt": {"rules": {"lava": {}}}}}, DOC.parent)
    with pytest.raises(ConfigError, match=r"\[intake.mqtt\] port: must be int"):
        read_config({"intake": {"mqtt": {"port": "1883"}}}, DOC.parent)
    with pytest.raises(
        ConfigError, match=r"\[intake.mqtt\] frigate_topic: a topic without wildcards"
    ):
        read_config({"intake": {"mqtt": {"frigate_topic": "frigate/#"}}}, DOC.parent)
    with pytest.raises(ConfigError, match=r"\[intake.nope\]: unknown section"):
        read_config({"intake": {"nope": {}}}, DOC.parent)


def test_serve_refuses_a_bad_intake_file_before_it_serves(tmp_path, caplog):
    """`dispatch serve --config FILE`: a file it cannot use stops it at once (exit 2), the
    log naming the table and key; nothing is served."""
    from dispatch.cli import main
    from tests.dispatch.conftest import prepared_store

    url = f"sqlite:///{tmp_path / 'd.db'}"
    prepared_store(url).close()
    bad = tmp_path / "intake.toml"
    bad.write_text('[intake.mqtt]\nport = "1883"\n')
    assert main(["--url", url, "serve", "--port", "0", "--config", str(bad)]) == 2
    assert "[intake.mqtt] port: must be int, not '1883'" in caplog.text
    bad.write_text("[intake.mqtt\n")
    assert main(["--url", url, "serve", "--port", "0", "--config", str(bad)]) == 2
    assert "not TOML" in caplog.text
    assert main(["--url", url, "serve", "--port", "0", "--config", str(tmp_path / "none")]) == 2
    assert "cannot read" in caplog.text
