"""Synthetic camera alert snapshots: small SVG frames that look like a real camera's.

Simulated alerts need a picture so that the desk and the wall show what operators are used
to: a street scene, a red detection box labelled with the kind and score, and the on-screen
display (OSD) that Hikvision/Dahua cameras burn into every frame (date and time top left,
camera name bottom right). At night the frame turns grey, as cameras switch to infrared.
A vector frame of a few KB costs nothing to store and scales on the wall.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape, quoteattr

from dispatch.domain.calendar import CST

__all__ = ["FONT_FAMILY", "HEIGHT", "WIDTH", "render_alert_snapshot"]

WIDTH = 320
"""Snapshot width in SVG user units (pixels)."""
HEIGHT = 180
"""Snapshot height (16:9, like a camera's main stream)."""
FONT_FAMILY = "WenQuanYi Micro Hei, Microsoft YaHei, Noto Sans CJK SC, sans-serif"
"""CJK fonts found on Debian (fonts-wqy-microhei), Windows and most Linux desktops."""

_HORIZON = 92


@dataclass(frozen=True)
class _Palette:
    sky: tuple[str, ...]
    building: tuple[str, ...]
    road: str
    pavement: str
    car: tuple[str, ...]
    tree: str
    window: str


_DAY = _Palette(
    sky=("#b9cde0", "#c8d6e3", "#aebfcf"),
    building=("#8c8f96", "#a39a8f", "#7d8793", "#b3aca2", "#6f7a86"),
    road="#55585c",
    pavement="#9a968e",
    car=("#c0392b", "#ecf0f1", "#2c3e50", "#7f8c8d", "#1f5f8b"),
    tree="#4d6b3c",
    window="#cfd8e0",
)
# Infrared night mode: everything grey, lit windows faintly yellow.
_NIGHT = _Palette(
    sky=("#2a2a2a", "#333333", "#262626"),
    building=("#4a4a4a", "#555555", "#3f3f3f", "#5c5c5c", "#474747"),
    road="#3a3a3a",
    pavement="#505050",
    car=("#8a8a8a", "#bdbdbd", "#6a6a6a", "#9a9a9a", "#7a7a7a"),
    tree="#404040",
    window="#d8c98a",
)


def _n(x: float) -> str:
    """A coordinate with at most one decimal: keeps the file small."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


def render_alert_snapshot(
    camera_name: str, kind_name: str, score: float, at: datetime, seed: int
) -> bytes:
    """A 320x180 SVG camera frame (UTF-8, under 6 KB) for an AI alert.

    The scene is drawn from `seed`, so the same alert always gets the same picture; `at` must
    be timezone-aware and is shown in CST as yyyy-mm-dd hh:mm:ss.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("timezone-aware datetime required")
    local = at.astimezone(CST)
    rng = random.Random(seed)
    night = local.hour < 6 or local.hour >= 19
    pal = _NIGHT if night else _DAY
    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family={quoteattr(FONT_FAMILY)}>',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="{rng.choice(pal.sky)}"/>',
    ]
    parts += _buildings(rng, pal)
    parts += _street(rng, pal)
    parts += _detection(rng, kind_name, score)
    parts += _osd(camera_name, local)
    parts.append("</svg>")
    return "".join(parts).encode("utf-8")


def _buildings(rng: random.Random, pal: _Palette) -> list[str]:
    """A row of blocks on the horizon, windows drawn with one shared pattern."""
    out = [
        '<defs><pattern id="w" width="8" height="9" patternUnits="userSpaceOnUse">'
        f'<rect x="2" y="2" width="4" height="4" fill="{pal.window}" opacity="0.7"/>'
        "</pattern></defs>"
    ]
    x = -rng.uniform(0, 20)
    while x < WIDTH:
        w = rng.uniform(30, 70)
        top = rng.uniform(8, 60)
        h = _HORIZON - top
        out.append(
            f'<rect x="{_n(x)}" y="{_n(top)}" width="{_n(w)}" height="{_n(h)}" '
            f'fill="{rng.choice(pal.building)}"/>'
        )
        if rng.random() < 0.7:
            out.append(
                f'<rect x="{_n(x + 3)}" y="{_n(top + 4)}" width="{_n(w - 6)}" '
                f'height="{_n(h - 10)}" fill="url(#w)"/>'
            )
        x += w + rng.uniform(-4, 6)
    return out


def _street(rng: random.Random, pal: _Palette) -> list[str]:
    """Pavement, a road in perspective with lane marks, parked cars, trees and passers-by."""
    vx = rng.uniform(120, 200)  # vanishing point
    out = [
        f'<rect y="{_HORIZON}" width="{WIDTH}" height="{HEIGHT - _HORIZON}" '
        f'fill="{pal.pavement}"/>',
        f'<polygon points="{_n(vx - 14)},{_HORIZON} {_n(vx + 14)},{_HORIZON} '
        f'{WIDTH + 40},{HEIGHT} -40,{HEIGHT}" fill="{pal.road}"/>',
        f'<line x1="{_n(vx)}" y1="{_HORIZON}" x2="{_n(vx + rng.uniform(-30, 30))}" '
        f'y2="{HEIGHT}" stroke="#e8e4c9" stroke-width="2" stroke-dasharray="9 7"/>',
    ]
    for _ in range(rng.randint(1, 3)):
        tx, ty = rng.uniform(0, WIDTH), rng.uniform(_HORIZON - 10, _HORIZON + 6)
        out.append(
            f'<circle cx="{_n(tx)}" cy="{_n(ty)}" r="{_n(rng.uniform(7, 13))}" fill="{pal.tree}"/>'
        )
    for _ in range(rng.randint(1, 4)):
        scale = rng.uniform(0.5, 1.3)
        cy = _HORIZON + 12 + (scale - 0.5) * 70
        cx = rng.uniform(0, WIDTH - 40 * scale)
        w, h = 40 * scale, 16 * scale
        out.append(
            f'<rect x="{_n(cx)}" y="{_n(cy)}" width="{_n(w)}" height="{_n(h)}" '
            f'rx="{_n(3 * scale)}" fill="{rng.choice(pal.car)}"/>'
            f'<rect x="{_n(cx + w * 0.2)}" y="{_n(cy - h * 0.45)}" width="{_n(w * 0.55)}" '
            f'height="{_n(h * 0.5)}" rx="{_n(2 * scale)}" fill="#1c2530" opacity="0.8"/>'
        )
    for _ in range(rng.randint(0, 3)):
        px, py, s = rng.uniform(10, WIDTH - 10), rng.uniform(100, 160), rng.uniform(0.7, 1.2)
        colour = rng.choice(("#34495e", "#7f3b2e", "#2e4a7f", "#6b6b2e"))
        out.append(
            f'<circle cx="{_n(px)}" cy="{_n(py)}" r="{_n(3 * s)}" fill="#d9b99b"/>'
            f'<rect x="{_n(px - 3 * s)}" y="{_n(py + 3 * s)}" width="{_n(6 * s)}" '
            f'height="{_n(14 * s)}" fill="{colour}"/>'
        )
    return out


def _detection(rng: random.Random, kind_name: str, score: float) -> list[str]:
    """The red detection box with its label, as analytics cameras draw it."""
    w, h = rng.uniform(60, 120), rng.uniform(40, 70)
    x = rng.uniform(8, WIDTH - w - 8)
    y = rng.uniform(_HORIZON - 20, HEIGHT - h - 22)
    label = f"{kind_name} {score:.2f}"
    label_w = 12 * len(kind_name) + 34  # CJK glyphs ~12 px at 12 px, plus the score
    label_y = y - 16 if y > 34 else y + h
    label_x = min(x - 1, WIDTH - label_w - 2)  # keep long kind names inside the frame
    return [
        f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" fill="none" '
        'stroke="#ff2a2a" stroke-width="2"/>',
        f'<rect x="{_n(label_x)}" y="{_n(label_y)}" width="{label_w}" height="16" fill="#ff2a2a"/>',
        f'<text x="{_n(label_x + 3)}" y="{_n(label_y + 12)}" font-size="12" fill="#fff">'
        f"{escape(label)}</text>",
    ]


def _osd(camera_name: str, local: datetime) -> list[str]:
    """Date/time top left and camera name bottom right, white with a dark outline."""
    style = 'fill="#fff" stroke="#000" stroke-width="2" paint-order="stroke" font-size="13"'
    stamp = local.strftime("%Y-%m-%d %H:%M:%S")
    return [
        f'<text x="8" y="18" {style}>{stamp}</text>',
        f'<text x="{WIDTH - 8}" y="{HEIGHT - 8}" text-anchor="end" {style}>'
        f"{escape(camera_name)}</text>",
    ]
