"""Frigate `frigate/events` messages as Frigate 0.16 builds them (shared/intake README §2.3)."""

from __future__ import annotations

import json
from typing import Any


def frigate_object(
    event_id: str,
    camera: str,
    label: str = "smoke",
    score: float = 0.8,
    *,
    has_snapshot: bool = True,
    end_time: float | None = None,
    zones: list[str] | None = None,
    false_positive: bool = False,
) -> dict[str, Any]:
    start = 1718000000.123456
    return {
        "id": event_id,
        "camera": camera,
        "frame_time": start + 1.3,
        "snapshot": {
            "frame_time": start + 1.3,
            "box": [305, 198, 386, 430],
            "area": 18792,
            "region": [200, 100, 520, 420],
            "score": score,
            "attributes": [],
        },
        "label": label,
        "sub_label": None,
        "top_score": score,
        "false_positive": false_positive,
        "start_time": start,
        "end_time": end_time,
        "score": score,
        "box": [305, 198, 386, 430],
        "area": 18792,
        "ratio": 0.35,
        "region": [200, 100, 520, 420],
        "active": True,
        "stationary": False,
        "motionless_count": 0,
        "position_changes": 0,
        "current_zones": zones or [],
        "entered_zones": zones or [],
        "has_clip": True,
        "has_snapshot": has_snapshot,
        "attributes": {},
        "current_attributes": [],
        "pending_loitering": False,
        "max_severity": "alert",
        "current_estimated_speed": 0,
        "average_estimated_speed": 0,
        "velocity_angle": 0,
        "path_data": [],
        "recognized_license_plate": None,
    }


def frigate_message(kind: str, event_id: str, camera: str, **fields: Any) -> bytes:
    after = frigate_object(event_id, camera, **fields)
    before = dict(after, false_positive=kind == "new", has_snapshot=False, snapshot=None)
    return json.dumps({"type": kind, "before": before, "after": after}).encode()
