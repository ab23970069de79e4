"""交班时态势图: the map at handover in the shift report, one inline SVG made in Python.

The district's grids, its streets' boundaries with their names and its outline (the
reference data, as the desktop's map draws them), and a dot for every case open at the
shift's end, coloured as the wall colours a case's time: red when late (`is_overdue`, the
report's 交班时超期), amber when less than a quarter of its stage's time is left or its stage
deadline has passed unflagged (the wall's 剩余不足¼), blue otherwise. No script, no network:
WeasyPrint draws inline SVG into the PDF; a browser shows the same page. Every text from
the data (street names, case titles in the dots' tooltips) is escaped. The outline is not an
approved map (resources/district/README.md): the figure says 示意图. docs/reports.md §4.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Literal

from protocol.entities import OPEN_STATUSES, Event, Reference, is_overdue, on_hold

Tone = Literal["late", "near", "open"]
WIDTH = 960.0  # the drawing's width in user units (CSS px at 100 %)
MARGIN = 14.0
# A case's dot, by tone: the late ones a little larger, to be found in a crowd.
RADIUS: dict[str, float] = {"late": 4.0, "near": 3.0, "open": 2.6}
# The wall's colours (desktop/ui/models.py RED and AMBER) and the map's 一般 blue
# (desktop/core/map_feed.py): the same meanings on the report as on the screens.
COLOURS: dict[Tone, str] = {"late": "#ff4d4f", "near": "#ffb300", "open": "#40a9ff"}
NAMES: dict[Tone, str] = {"late": "超期", "near": "剩余时限不足¼", "open": "其他在办"}
# Drawn in this order: the late ones on top, never hidden under a crowd of others.
ORDER: tuple[Tone, ...] = ("open", "near", "late")
_FONT = "WenQuanYi Micro Hei, Noto Sans CJK SC, Microsoft YaHei, sans-serif"


def tone(event: Event, now: float) -> Tone:
    """How a case open at `now` is coloured: late, near its deadline, or neither (on an
    approved hold its clock stands still: neither)."""
    if is_overdue(event, now):
        return "late"
    if on_hold(event) or event.deadline is None:
        return "open"
    if event.deadline < now:
        return "near"  # past its stage's deadline, the clock's flag not yet set
    start = event.dispatched_at or event.reported_at
    left = (event.deadline - now) / max(event.deadline - start, 1.0)
    return "near" if left <= 0.25 else "open"


@dataclass(frozen=True, slots=True)
class Frame:
    """Longitude and latitude to the drawing's units: equirectangular at the district's mean
    latitude (over 30 km the error is nothing a schematic shows), north up."""

    west: float
    north: float
    scale: float  # units per degree of latitude
    shrink: float  # cos(latitude): a degree of longitude is that much shorter
    height: float

    @classmethod
    def of(cls, rings: Iterable[Sequence[Sequence[float]]]) -> Frame:
        """The frame that fits these rings in WIDTH with MARGIN around."""
        points = [p for ring in rings for p in ring]
        west, east = min(p[0] for p in points), max(p[0] for p in points)
        south, north = min(p[1] for p in points), max(p[1] for p in points)
        shrink = math.cos(math.radians((south + north) / 2))
        scale = (WIDTH - 2 * MARGIN) / max((east - west) * shrink, 1e-9)
        return cls(west, north, scale, shrink, (north - south) * scale + 2 * MARGIN)

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        """A point's place in the drawing, to a tenth of a unit."""
        return (
            round(MARGIN + (lon - self.west) * self.shrink * self.scale, 1),
            round(MARGIN + (self.north - lat) * self.scale, 1),
        )

    def path(self, rings: Iterable[Sequence[Sequence[float]]]) -> str:
        """An SVG path's data for some rings (one subpath each)."""
        parts: list[str] = []
        for ring in rings:
            points = [self.xy(p[0], p[1]) for p in ring]
            if len(points) < 3:
                continue
            first, *rest = points
            parts.append(f"M{first[0]:g} {first[1]:g}L" + " ".join(f"{x:g} {y:g}" for x, y in rest))
            parts.append("Z")
        return "".join(parts)


def open_cases(cases: Iterable[Event]) -> list[Event]:
    """The cases open among these, in a fixed order (by id)."""
    return sorted((e for e in cases if e.status in OPEN_STATUSES), key=lambda e: e.id)


def svg(units: Reference, cases: Sequence[Event], now: float, tooltips: bool) -> str:
    """The map of the cases open at `now` (`cases`: the open ones) over these units (a
    district's), as an inline <svg>. `tooltips`: each dot's case code and title for a
    browser's hover (a PDF has no use for them)."""
    frame = Frame.of(units.outline)
    height = round(frame.height, 1)
    grids = frame.path(ring for g in units.grids for ring in g.polygon)
    streets = "".join(
        f'<path d="{frame.path(s.polygon)}"/>' for s in sorted(units.streets, key=lambda s: s.code)
    )
    labels = []
    for street in sorted(units.streets, key=lambda s: s.code):
        x, y = frame.xy(street.centre[0], street.centre[1])
        name = escape(street.name)
        labels.append(f'<text x="{x:g}" y="{y:g}">{name}</text>')
    by_tone: dict[Tone, list[Event]] = {t: [] for t in ORDER}
    for event in cases:
        by_tone[tone(event, now)].append(event)
    dots = "".join(_dots(frame, t, by_tone[t], tooltips) for t in ORDER)
    label_attrs = f'font-family="{_FONT}" font-size="15" text-anchor="middle"'
    return (
        f'<svg class="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH:g} {height:g}" '
        f'width="100%" role="img" aria-label="交班时态势图（示意图）">'
        f'<path d="{grids}" fill="#f1f5fb" stroke="#c3d0e2" stroke-width="0.5"/>'
        f'<g fill="none" stroke="#4f78b0" stroke-width="1.6">{streets}</g>'
        f'<path d="{frame.path(units.outline)}" fill="none" stroke="#0d47a1" stroke-width="3"/>'
        f"{dots}"
        # The names over the dots, each on a white halo (drawn first) to stay legible.
        f'<g {label_attrs} fill="#ffffff" stroke="#ffffff" stroke-width="4" '
        f'stroke-linejoin="round">{"".join(labels)}</g>'
        f'<g {label_attrs} fill="#0d2c5a">{"".join(labels)}</g>'
        f'<text x="{MARGIN:g}" y="{MARGIN + 14:g}" font-family="{_FONT}" font-size="14" '
        f'fill="#b71c1c">示意图，非标准地图</text>'
        "</svg>"
    )


def _dots(frame: Frame, kind: Tone, cases: Sequence[Event], tooltips: bool) -> str:
    """The dots of one colour: a circle each, with its case's code and title as a tooltip;
    or, without tooltips (the PDF), two paths of them all, a dark rim under the colour, each
    dot a zero-length line with round caps (PDF draws such a line as a disc). WeasyPrint
    took 3 s more to draw 3,200 circles or arcs, 0.6 s for these (bench/RESULTS.md §14)."""
    r = RADIUS[kind]
    if not tooltips:
        if not cases:
            return ""
        data = "".join(f"M{x:g} {y:g}h0" for x, y in (frame.xy(e.lon, e.lat) for e in cases))
        caps = 'fill="none" stroke-linecap="round"'
        return (
            f'<path d="{data}" {caps} stroke="#1a1a1a" stroke-width="{2 * r + 1.2:g}"/>'
            f'<path class="cases {kind}" d="{data}" {caps} stroke="{COLOURS[kind]}" '
            f'stroke-width="{2 * r:g}"/>'
        )
    circles = []
    for event in cases:
        x, y = frame.xy(event.lon, event.lat)
        circles.append(
            f'<circle cx="{x:g}" cy="{y:g}" r="{r:g}">'
            f"<title>{escape(event.code)} {escape(event.title)}</title></circle>"
        )
    paint = f'fill="{COLOURS[kind]}" stroke="#1a1a1a" stroke-width="0.6"'
    return f'<g class="cases {kind}" {paint}>{"".join(circles)}</g>'


def section(units: Reference, cases: Sequence[Event], now: float, tooltips: bool) -> str:
    """The map with its legend (the count of each colour) and its caption, as HTML."""
    counts = {t: 0 for t in ORDER}
    for event in cases:
        counts[tone(event, now)] += 1
    legend = "".join(
        f'<span class="key"><span class="dot {t}"></span>{NAMES[t]} {counts[t]} 件</span>'
        for t in ("late", "near", "open")
    )
    return (
        f'<figure class="map">{svg(units, cases, now, tooltips)}'
        f'<figcaption><span class="schematic">示意图</span>（非标准地图，边界为示意）：'
        f"交班时全部在办案件 {len(cases)} 件的位置，网格与街道边界。{legend}</figcaption></figure>"
    )
