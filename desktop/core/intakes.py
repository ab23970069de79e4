"""The 管理 page's 接入 tab without Qt: an `intake_status` answer (docs/protocol.md §6.12)
read into plain data — each intake's line, the cameras and sensors heard of, the feedback
outbox's rows with their state — for the tab to show."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from protocol.codec import ProtocolError, convert
from protocol.codes import ErrorCode
from protocol.messages import OutboxRow

# The intakes a backend has, in the order shown.
INTAKES = ("hotline", "open311", "mqtt")
# Answers of the HTTP intakes that took something (or answered a read): the others refused.
TAKEN = frozenset(
    {"ok", "repeat", "discovery", "services", "definition", "query", "request", "token"}
)
# Frigate's own skips (an object it later called a false positive): not a refusal of ours.
NOT_REFUSALS = frozenset({"false_positive"})

RowState = Literal["pending", "failing", "delivered", "refused"]


@dataclass(frozen=True, slots=True)
class IntakeLine:
    """One intake: on or off, connected (MQTT; None: not a connection), how much it took and
    refused, when it last heard something, and its refusals by reason."""

    name: str
    enabled: bool
    connected: bool | None = None
    taken: int = 0
    refused: int = 0
    last_at: float | None = None
    reasons: dict[str, int] = field(default_factory=dict)
    where: str = ""  # the broker (MQTT), the peers (12345)


@dataclass(frozen=True, slots=True)
class Source:
    """A camera or a sensor the MQTT intake heard of."""

    kind: Literal["camera", "sensor"]
    name: str  # the Frigate camera's name, the sensor's id
    maps_to: str  # our camera code ("" not mapped), the sensor's kind
    count: int  # events or readings this run
    last_at: float | None  # when the last came (a sensor: its own time of it)
    value: float | None = None  # a sensor's newest reading
    alarm: bool = False  # a sensor in alarm
    label: str = ""  # a sensor's name


@dataclass(frozen=True, slots=True)
class IntakeState:
    """An intake_status answer, read."""

    lines: list[IntakeLine]
    sources: list[Source]
    counts: dict[str, int]
    peers: dict[str, dict[str, int]]
    rows: list[OutboxRow]


def row_state(row: OutboxRow) -> RowState:
    """A row's state as the desk shows it: a pending row with an error is failing."""
    if row.state == "pending" and row.error:
        return "failing"
    return row.state


def retriable(row: OutboxRow) -> bool:
    """Whether `retry_feedback` would send the row again (refused, or waiting to)."""
    return row.state != "delivered"


def state_counts(rows: list[OutboxRow]) -> dict[RowState, int]:
    """The rows listed, by the desk's states."""
    out: dict[RowState, int] = {}
    for row in rows:
        state = row_state(row)
        out[state] = out.get(state, 0) + 1
    return out


def _int_map(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    return {str(k): int(v) for k, v in value.items() if isinstance(v, int | float)}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _time(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and value > 0 else None


def _line(name: str, part: dict[str, Any]) -> IntakeLine:
    enabled = bool(part.get("enabled"))
    if not enabled:
        return IntakeLine(name, False)
    if name == "mqtt":
        frigate = _dict(part.get("frigate"))
        sensors = _dict(part.get("sensors"))
        reasons: dict[str, int] = {}
        for what in (frigate, sensors):
            for reason, n in _int_map(what.get("rejected")).items():
                if reason not in NOT_REFUSALS:
                    reasons[reason] = reasons.get(reason, 0) + n
        taken = int(frigate.get("accepted", 0) or 0) + int(sensors.get("readings", 0) or 0)
        return IntakeLine(
            name,
            True,
            connected=bool(part.get("connected")),
            taken=taken,
            refused=sum(reasons.values()),
            last_at=_time(part.get("last_at")),
            reasons=reasons,
            where=str(part.get("broker", "")),
        )
    answers = _int_map(part.get("answers"))
    refusals = {r: n for r, n in answers.items() if r not in TAKEN}
    peers = part.get("peers")
    peers = peers if isinstance(peers, list) else []
    return IntakeLine(
        name,
        True,
        taken=sum(n for r, n in answers.items() if r in TAKEN),
        refused=sum(refusals.values()),
        last_at=_time(part.get("last_at")),
        reasons=refusals,
        where="、".join(str(p.get("name", "")) for p in peers if isinstance(p, dict)),
    )


def _sources(mqtt: dict[str, Any]) -> list[Source]:
    out = []
    for camera in mqtt.get("cameras") or []:
        if isinstance(camera, dict):
            out.append(
                Source(
                    "camera",
                    str(camera.get("name", "")),
                    str(camera.get("camera", "")),
                    int(camera.get("events", 0) or 0),
                    _time(camera.get("last_at")),
                )
            )
    for device in mqtt.get("devices") or []:
        if isinstance(device, dict):
            value = device.get("value")
            out.append(
                Source(
                    "sensor",
                    str(device.get("device", "")),
                    str(device.get("kind", "")),
                    int(device.get("readings", 0) or 0),
                    _time(device.get("at")),
                    float(value) if isinstance(value, int | float) else None,
                    bool(device.get("alarm")),
                    str(device.get("name", "")),
                )
            )
    return out


def parse_status(data: dict[str, Any]) -> IntakeState:
    """An intake_status answer's data read; ProtocolError when its rows are malformed (the
    intakes' own figures are read leniently: a newer backend may say more)."""
    intakes = data.get("intakes")
    outbox = data.get("outbox")
    if not isinstance(intakes, dict) or not isinstance(outbox, dict):
        raise ProtocolError(
            ErrorCode.BAD_MESSAGE, "an intake_status answer needs intakes and outbox"
        )
    names = [n for n in INTAKES if n in intakes] + sorted(set(intakes) - set(INTAKES))
    lines = [_line(n, intakes[n]) for n in names if isinstance(intakes[n], dict)]
    mqtt = intakes.get("mqtt")
    sources = _sources(mqtt) if isinstance(mqtt, dict) and mqtt.get("enabled") else []
    rows = [convert(r, OutboxRow) for r in outbox.get("rows") or []]
    peers_raw = outbox.get("peers")
    peers = (
        {str(p): _int_map(c) for p, c in peers_raw.items()} if isinstance(peers_raw, dict) else {}
    )
    return IntakeState(lines, sources, _int_map(outbox.get("counts")), peers, rows)
