"""The district's outline for the map while the wall is still connecting. Qt-free.

The wall draws the outline it last received (kept in the user's cache directory, per
backend) at once, before the backend has answered; the embedded demo's first run uses the
outline bundled with the default district. The units that arrive replace it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from pathlib import Path

import platformdirs

from desktop.core.backend import PROJECT_ROOT
from protocol.entities import Reference

log = logging.getLogger("desktop.core.outline")

BUNDLED = PROJECT_ROOT / "resources" / "district" / "district_outline.geojson"
BUNDLED_CODE = "340803"  # the default district (大观区) the embedded demo serves

Rings = list[list[list[float]]]


def cache_dir() -> Path:
    """Where the desktop keeps what it may show before the backend answers."""
    return Path(os.environ.get("TONGGUAN_CACHE") or platformdirs.user_cache_dir("tongguan"))


def _path(backend: str, folder: Path | None) -> Path:
    digest = hashlib.sha256(backend.encode()).hexdigest()[:16]
    return (folder or cache_dir()) / f"outline-{digest}.json"


def remember(backend: str, units: Reference, folder: Path | None = None) -> None:
    """Keep the outline of `units` for the next start against `backend` (a key: the
    server's URL, or the embedded backend's data directory)."""
    if not units.outline:
        return
    path = _path(backend, folder)
    doc = {"district": units.district, "outline": units.outline}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(doc), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        log.info("could not keep the district outline in %s: %s", path, exc)


def recall(backend: str, folder: Path | None = None) -> tuple[str, Rings] | None:
    """The outline last seen from `backend`: (district code, rings), or None."""
    with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
        doc = json.loads(_path(backend, folder).read_text(encoding="utf-8"))
        code, rings = doc["district"], doc["outline"]
        if isinstance(code, str) and _rings(rings):
            return code, rings
    return None


def bundled() -> tuple[str, Rings] | None:
    """The default district's outline from resources/ (the embedded demo's district)."""
    with contextlib.suppress(OSError, ValueError, TypeError, KeyError, IndexError):
        doc = json.loads(BUNDLED.read_text(encoding="utf-8"))
        rings: Rings = []
        for feature in doc["features"]:
            geometry = feature["geometry"]
            polygons = (
                geometry["coordinates"]
                if geometry["type"] == "MultiPolygon"
                else [geometry["coordinates"]]
            )
            rings.extend(polygon[0] for polygon in polygons)  # exterior rings
        if _rings(rings):
            return BUNDLED_CODE, rings
    return None


def _rings(value: object) -> bool:
    """Whether `value` looks like rings of [lon, lat] points."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(
            isinstance(ring, list)
            and len(ring) >= 3
            and all(isinstance(p, list) and len(p) >= 2 for p in ring)
            for ring in value
        )
    )
