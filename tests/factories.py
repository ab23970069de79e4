"""Wire entities for tests, with plausible defaults and keyword overrides."""

from __future__ import annotations

from typing import Any

from protocol.entities import Alert, Event
from protocol.messages import Welcome


def make_event(event_id: int = 1, **fields: Any) -> Event:
    """An Event in 菱湖街道, reported, with any field overridden."""
    values: dict[str, Any] = {
        "id": event_id,
        "code": f"DG-20261122-{event_id:06d}",
        "source": "hotline",
        "category": "01-02",
        "title": "暴露垃圾",
        "lon": 117.05,
        "lat": 30.53,
        "grid": "340803004001001",
        "community": "340803004001",
        "street": "340803004",
        "priority": 3,
        "status": "reported",
        "level": "grid",
        "reported_at": 1.0,
        "updated_at": float(event_id),
    }
    values.update(fields)
    return Event(**values)


def make_alert(alert_id: int = 1, **fields: Any) -> Alert:
    """A new camera Alert in 菱湖街道, with any field overridden."""
    values: dict[str, Any] = {
        "id": alert_id,
        "camera": "34080300001320000002",
        "camera_name": "路口",
        "detection": "smoke_fire",
        "score": 0.9,
        "first_at": 1.0,
        "last_at": 1.0,
        "count": 1,
        "status": "new",
        "lon": 117.0,
        "lat": 30.5,
        "grid": "340803004001001",
        "street": "340803004",
        "snapshot": f"/snapshots/{alert_id}",
    }
    values.update(fields)
    return Alert(**values)


def make_welcome(**fields: Any) -> Welcome:
    """A welcome to the wall user, with no resume, with any field overridden."""
    values: dict[str, Any] = {
        "id": 1,
        "protocol": 1,
        "user": "大屏",
        "role": "wall",
        "jurisdiction": [],
        "epoch": "e",
        "head": 0,
        "resume": "none",
        "server_time": 0.0,
    }
    values.update(fields)
    return Welcome(**values)
