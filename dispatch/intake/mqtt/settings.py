"""`[intake.mqtt]`: the broker, the Frigate camera mapping, the sensor devices and rules.

    [intake.mqtt]
    host = "127.0.0.1"            # the broker (Mosquitto)
    port = 1883
    client_id = "tongguan-intake" # fixed: the broker keeps the session under it
    frigate_topic = "frigate/events"      # "" switches the camera intake off
    sensor_topic = "tongguan/sensors"     # prefix of <kind>/<device>; "" switches it off
    nvr_url = "http://127.0.0.1:5000"     # Frigate's HTTP API for snapshots; "" none

    [intake.mqtt.cameras]         # Frigate camera name -> our camera code
    gate_north = "C0001"
    [intake.mqtt.labels]          # Frigate label -> our detection kind
    motorcycle = "ebike_in_building"
    [intake.mqtt.devices.WM-0001] # a sensor: its kind and where it is
    kind = "water"
    lon = 117.19
    lat = 30.51
    [intake.mqtt.rules.gas]       # a kind's rule, overriding the defaults of RULES
    threshold = 20.0

`demo = true` (the file `dispatch demo` writes): the broker is the demo's own mosquitto,
started with the backend on a free port (persistence in `mqtt/` beside the file), the NVR
the simulator's stand-in, a sensor of each kind in every grid; host and port are not used.

Docs: docs/intake.md §5 (MQTT).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from dispatch.intake.config import ConfigError, only, section, take

Direction = Literal["below", "above"]


@dataclass(frozen=True, slots=True)
class Rule:
    """How a sensor kind's readings become a case: the category, when a reading alarms
    (below or at/above the threshold), and the hysteresis that clears it again."""

    kind: str
    category: str
    direction: Direction
    threshold: float  # used when a reading carries none
    band: float  # cleared only this far back on the safe side of the threshold
    clear_after: float  # seconds the readings must stay cleared before a new case may open
    unit: str
    title: str


# The five smart scenes of the seeds' centres, with their sensor categories (20-xx of
# resources/district/categories.json) and default thresholds (sources: docs/intake.md).
RULES: dict[str, Rule] = {
    r.kind: r
    for r in (
        Rule("water", "20-01", "below", 0.01, 0.005, 3600.0, "m³", "独居老人用水异常"),
        Rule("hydrant", "20-03", "below", 0.14, 0.02, 600.0, "MPa", "消防水压不足"),
        Rule("elevator", "20-04", "above", 1.0, 0.0, 300.0, "人", "电梯困人"),
        Rule("ebike", "20-06", "above", 100.0, 20.0, 1800.0, "W", "电动车违规充电"),
        Rule("gas", "20-08", "above", 25.0, 5.0, 600.0, "%LEL", "燃气泄漏"),
    )
}

# Frigate's labels (its COCO model, Frigate+ models) and our own kinds' codes (a model
# trained on them sends them as labels) -> our detection kinds.
DEFAULT_LABELS: dict[str, str] = {
    "fire": "smoke_fire",
    "smoke": "smoke_fire",
}


@dataclass(frozen=True, slots=True)
class Device:
    """A registered sensor: its kind and place."""

    id: str
    kind: str
    lon: float
    lat: float
    address: str = ""
    name: str = ""


@dataclass(frozen=True, slots=True)
class MqttSettings:
    """The MQTT intake's settings (see the module's docstring)."""

    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str = "tongguan-intake"
    protocol: str = "5"  # or "3.1.1" (docs/intake.md §5.2)
    username: str = ""
    password: str = ""
    keepalive: int = 30
    session_expiry: int = 7 * 86400  # seconds the broker keeps our session while we are away
    receive_maximum: int = 1000  # unacknowledged messages the broker may have sent us
    max_payload: int = 64 * 1024
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0
    frigate_topic: str = "frigate/events"
    # Frigate 0.14+'s review items (docs/intake.md §5.3a); "": not read.
    frigate_reviews_topic: str = ""
    # The lowest review severity that raises alerts: "detection" (all) or "alert".
    review_severity: str = "detection"
    sensor_topic: str = "tongguan/sensors"
    frigate_actor: str = "frigate"
    sensor_actor: str = "sensors"
    nvr_url: str = ""
    nvr_timeout: float = 5.0
    nvr_tries: int = 4
    snapshot_max: int = 2 * 1024 * 1024
    reconcile_every: float = 60.0  # s between passes over Frigate's record; 0: none
    reconcile_window: float = 3600.0  # s back the first pass reads
    # A source's own time (a Frigate event's start_time, a reading's time) further ahead of
    # our clock than this, or older than max_age, is absurd (a device clock gone wrong).
    max_ahead: float = 300.0
    max_age: float = 7 * 86400.0
    cameras: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_LABELS))
    devices: dict[str, Device] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=lambda: dict(RULES))
    demo_dir: str = ""  # `demo = true`: the demo's private broker keeps its data here

    def time_fault(self, at: float, now: float) -> str | None:
        """What is absurd about a source's own time `at` by our clock `now`, if anything:
        further ahead than max_ahead, or older than max_age."""
        if at - now > self.max_ahead:
            return f"{at - now:.0f} s ahead of our clock (allowed {self.max_ahead:g} s)"
        if now - at > self.max_age:
            return f"{now - at:.0f} s old (allowed {self.max_age:g} s)"
        return None

    @classmethod
    def from_table(cls, table: dict[str, Any], base: Path | None = None) -> MqttSettings:
        """Read `[intake.mqtt]` (ConfigError naming the key at fault)."""
        del base  # no file names in this section
        return read_mqtt(table, Path())


_SCALARS: dict[str, type] = {
    "host": str,
    "port": int,
    "client_id": str,
    "protocol": str,
    "username": str,
    "password": str,
    "keepalive": int,
    "session_expiry": int,
    "receive_maximum": int,
    "max_payload": int,
    "reconnect_min": float,
    "reconnect_max": float,
    "frigate_topic": str,
    "frigate_reviews_topic": str,
    "review_severity": str,
    "sensor_topic": str,
    "frigate_actor": str,
    "sensor_actor": str,
    "nvr_url": str,
    "nvr_timeout": float,
    "nvr_tries": int,
    "snapshot_max": int,
    "reconcile_every": float,
    "reconcile_window": float,
    "max_ahead": float,
    "max_age": float,
}


@section("mqtt")
def read_mqtt(table: dict[str, Any], base: Path) -> MqttSettings:
    """[intake.mqtt] and its sub-tables cameras, labels, devices, rules."""
    where = "intake.mqtt"
    only(table, where, {*_SCALARS, "demo", "cameras", "labels", "devices", "rules"})
    values: dict[str, Any] = {}
    defaults = MqttSettings()
    for key, kind in _SCALARS.items():
        values[key] = take(table, where, key, kind, getattr(defaults, key))
    if not 0 < values["port"] <= 65535:
        raise ConfigError(f"[{where}] port: 1..65535, not {values['port']}")
    if not values["client_id"]:
        raise ConfigError(f"[{where}] client_id: needed for a persistent session")
    if values["protocol"] not in ("3.1.1", "5"):
        raise ConfigError(f'[{where}] protocol: "3.1.1" or "5", not {values["protocol"]!r}')
    if not 1 <= values["receive_maximum"] <= 65535:
        raise ConfigError(f"[{where}] receive_maximum: 1..65535")
    if values["session_expiry"] < 60:
        raise ConfigError(f"[{where}] session_expiry: at least 60 seconds")
    if not 0 < values["reconnect_min"] <= values["reconnect_max"]:
        raise ConfigError(f"[{where}] reconnect_min, reconnect_max: 0 < min <= max")
    if values["reconcile_every"] < 0 or values["reconcile_window"] < 0:
        raise ConfigError(f"[{where}] reconcile_every, reconcile_window: not negative")
    if values["max_ahead"] < 0 or values["max_age"] <= 0:
        raise ConfigError(f"[{where}] max_ahead, max_age: max_ahead >= 0, max_age > 0")
    if values["nvr_tries"] < 1:
        raise ConfigError(f"[{where}] nvr_tries: at least 1")
    if values["review_severity"] not in ("detection", "alert"):
        raise ConfigError(f'[{where}] review_severity: "detection" or "alert"')
    for key in ("frigate_topic", "frigate_reviews_topic", "sensor_topic"):
        if any(ch in values[key] for ch in "+#"):
            raise ConfigError(f"[{where}] {key}: a topic without wildcards")
    values["cameras"] = _names(table.get("cameras", {}), f"{where}.cameras")
    labels = dict(DEFAULT_LABELS)
    labels.update(_names(table.get("labels", {}), f"{where}.labels"))
    values["labels"] = labels
    values["rules"] = _rules(table.get("rules", {}), f"{where}.rules")
    if take(table, where, "demo", bool, False):
        values["demo_dir"] = str(base / "mqtt")
    values["devices"] = _devices(table.get("devices", {}), f"{where}.devices", values["rules"])
    return MqttSettings(**values)


def _names(table: object, where: str) -> dict[str, str]:
    if not isinstance(table, dict):
        raise ConfigError(f"[{where}] must be a table")
    for key, value in table.items():
        if not isinstance(value, str) or not value:
            raise ConfigError(f"[{where}] {key}: must be a non-empty string")
    return dict(table)


def _rules(table: object, where: str) -> dict[str, Rule]:
    if not isinstance(table, dict):
        raise ConfigError(f"[{where}] must be a table")
    rules = dict(RULES)
    for kind, sub in table.items():
        here = f"{where}.{kind}"
        rule = rules.get(kind)
        if rule is None:
            raise ConfigError(f"[{here}] unknown sensor kind (known: {', '.join(RULES)})")
        if not isinstance(sub, dict):
            raise ConfigError(f"[{here}] must be a table")
        only(sub, here, {"threshold", "band", "clear_after", "category"})
        rules[kind] = replace(
            rule,
            threshold=take(sub, here, "threshold", float, rule.threshold),
            band=take(sub, here, "band", float, rule.band),
            clear_after=take(sub, here, "clear_after", float, rule.clear_after),
            category=take(sub, here, "category", str, rule.category),
        )
        if rules[kind].band < 0 or rules[kind].clear_after < 0:
            raise ConfigError(f"[{here}] band, clear_after: not negative")
    return rules


def _devices(table: object, where: str, rules: dict[str, Rule]) -> dict[str, Device]:
    if not isinstance(table, dict):
        raise ConfigError(f"[{where}] must be a table")
    devices = {}
    for device_id, sub in table.items():
        here = f"{where}.{device_id}"
        if not isinstance(sub, dict):
            raise ConfigError(f"[{here}] must be a table")
        only(sub, here, {"kind", "lon", "lat", "address", "name"})
        kind = take(sub, here, "kind", str)
        if kind not in rules:
            raise ConfigError(f"[{here}] kind: one of {', '.join(rules)}, not {kind!r}")
        lon, lat = take(sub, here, "lon", float), take(sub, here, "lat", float)
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ConfigError(f"[{here}] lon, lat: WGS84 degrees")
        devices[device_id] = Device(
            device_id,
            kind,
            lon,
            lat,
            take(sub, here, "address", str, ""),
            take(sub, here, "name", str, ""),
        )
    return devices
