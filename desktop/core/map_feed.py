"""Turns the replica into the grid map's batches: units once, then only what changed.

Qt-free: it produces plain dicts for `GridMap.apply_batch`. Grids are shaded by their open
and overdue load; open events are markers coloured by priority and status; a new urgent
event pulses; closed events leave the map.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from desktop.core.privacy import mask_phones
from desktop.core.replica import Changes, Replica, short_name
from protocol.entities import OPEN_STATUSES, Event, Reference, is_overdue

URGENT = 1  # priority 特急: pulses on the map, sounds, pauses the tour

PRIORITY_COLOURS = {1: "#ff4d4f", 2: "#ffb300", 3: "#40a9ff", 4: "#8c9db5"}
_WAITING = frozenset({"reported", "accepted"})  # not yet dispatched: a white rim


@dataclass(frozen=True, slots=True)
class Load:
    """A grid's open and overdue events."""

    open: int = 0
    overdue: int = 0


def load_style(load: Load) -> tuple[str, float]:
    """Fill colour and opacity for a grid's load: calm blue to amber to red."""
    if load.overdue >= 3:
        return "#cf1322", 0.55
    if load.overdue:
        return "#d46b08", 0.5
    if load.open >= 6:
        return "#1d62d8", 0.55
    if load.open >= 3:
        return "#1a4fa8", 0.45
    if load.open:
        return "#173e80", 0.38
    return "#10284d", 0.25


def bounds(rings: Iterable[list[list[float]]]) -> list[list[float]]:
    """[[min lon, min lat], [max lon, max lat]] of some rings."""
    points = [p for ring in rings for p in ring]
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    return [[min(lons), min(lats)], [max(lons), max(lats)]]


def label_zoom(
    box: list[list[float]], chars: int, char_px: float = 17.0, line_px: float = 22.0
) -> int:
    """The lowest web-map zoom at which a label of `chars` characters fits its area: as wide
    as the text and three lines high (so neighbouring labels do not run into each other)."""
    width = max(box[1][0] - box[0][0], 1e-6)  # degrees of longitude
    # Degrees of latitude stretch by 1/cos(lat) on a web map.
    height = max(box[1][1] - box[0][1], 1e-6) / math.cos(math.radians((box[0][1] + box[1][1]) / 2))
    by_width = math.log2(chars * char_px * 360 / (256 * width))
    by_height = math.log2(3 * line_px * 360 / (256 * height))
    return max(0, math.ceil(max(by_width, by_height)))


def marker_event(marker: str) -> int | None:
    """The event a marker id names ("e123" -> 123; None: not an event's marker)."""
    if marker.startswith("e") and marker[1:].isascii() and marker[1:].isdigit():
        return int(marker[1:])
    return None


def outline_batch(district: str, rings: list[list[list[float]]]) -> dict[str, Any]:
    """The district's outline alone, framed: the map while the wall is still connecting
    (the units, when they come, replace it)."""
    return {
        "units_reset": True,
        "areas": [
            {
                "id": district,
                "rings": rings,
                "fill": None,
                "stroke": "#a8cbff",
                "weight": 4,
                "interactive": False,
            }
        ],
        "markers": [],
        "remove": [],
        "labels": [],
        "fit": bounds(rings),
    }


class MapFeed:
    """Keeps per-grid load and the markers on the map; answers with batches."""

    def __init__(self, replica: Replica, label_px: float = 17.0, *, hold: bool = False) -> None:
        self.replica = replica
        # Hold the cases back while the backend catches up on the day (the wall: nothing
        # of a part of the day may pass for the whole; a desk works on what there is).
        self.hold = hold
        self.label_px = label_px  # the page's street names (CSS px): when they fit their area
        self._loads: dict[str, Load] = {}
        self._placed: dict[int, tuple[str, bool, bool]] = {}  # event -> (grid, open, overdue)
        self._grids: set[str] = set()
        self.street_bounds: dict[str, list[list[float]]] = {}
        self._units_sent: str | None = None
        self.district_bounds: list[list[float]] = []
        # The street the page is framed on when the units go to it ("" = the whole district):
        # a street's desk opens on its street.
        self.home = ""
        # Collected for the next batch: markers by event id, removed ids, grids to restyle;
        # or the whole state (after a snapshot or new units).
        self._markers: dict[int, dict[str, Any]] = {}
        self._removed: set[int] = set()
        self._touched: set[str] = set()
        self._whole = False
        # The page shows the units alone while the backend catches up on the day (its cases
        # are a part of the day): nothing to send until that ends or the units change.
        self._holding = False
        self._shown_styles: dict[str, tuple[str, float]] = {}  # grid -> (fill, opacity) sent

    # ---- whole state -----------------------------------------------------------------------

    def full(self, now: float) -> dict[str, Any]:
        """Everything: units (first time), every open event, every grid's shade. Holding
        (`hold`) while the backend catches up on the day (`Replica.syncing`): the units
        alone, no case and no shade; everything follows once the day is whole."""
        units = self.replica.units
        batch: dict[str, Any] = {"areas": [], "markers": [], "remove": [], "labels": []}
        # Removals collected but not yet sent still have to leave the page.
        pending_removals = self._removed
        self._markers, self._removed, self._touched = {}, set(), set()
        holding = self._syncing
        self._whole = self._holding = holding
        if units is None:
            return batch
        if self._units_sent != self.replica.units_version:
            # The page keeps the units; after a reset with the same units only state moves.
            batch.update(self._units(units))
            self._units_sent = self.replica.units_version
        # A snapshot replaces the state: every marker placed before that does not come back
        # open goes (gone from the replica, or closed while the link was down).
        was_open = {i for i, placed in self._placed.items() if placed[1]} | pending_removals
        self._placed = {}
        self._loads = {}
        markers: list[dict[str, Any]] = batch["markers"]
        for event in () if holding else self.replica.events.values():
            marker = self._place(event, now, pulse=False)
            if marker is not None:
                markers.append(marker)
                was_open.discard(event.id)
        batch["remove"] = [f"e{i}" for i in sorted(was_open)]
        batch["areas"].extend(self._grid_styles((g.code for g in units.grids), every=True))
        return batch

    def _units(self, units: Reference) -> dict[str, Any]:
        self._grids = {g.code for g in units.grids}
        self.street_bounds = {s.code: bounds(s.polygon) for s in units.streets}
        self.district_bounds = bounds(units.outline) if units.outline else []
        areas: list[dict[str, Any]] = []
        for grid in units.grids:
            fill, opacity = load_style(Load())
            # Plain text (the page shows it as text): a line break, never "<br>".
            label = f"{grid.name}\n{grid.worker}" if grid.worker else grid.name
            areas.append(
                {
                    "id": grid.code,
                    "rings": grid.polygon,
                    "fill": fill,
                    "opacity": opacity,
                    "stroke": "#2b4a78",
                    "weight": 0.6,
                    "label": label,
                }
            )
        for community in units.communities:
            areas.append(
                {
                    "id": community.code,
                    "rings": community.polygon,
                    "fill": None,
                    "stroke": "#4f78b0",
                    "weight": 1,
                    "dash": "4 4",
                    "interactive": False,
                }
            )
        for street in units.streets:
            areas.append(
                {
                    "id": street.code,
                    "rings": street.polygon,
                    "fill": None,
                    "stroke": "#7fb2ff",
                    "weight": 2.5,
                    "interactive": False,
                }
            )
        if units.outline:
            areas.append(
                {
                    "id": units.district,
                    "rings": units.outline,
                    "fill": None,
                    "stroke": "#a8cbff",
                    "weight": 4,
                    "interactive": False,
                }
            )
        cameras = [
            {
                "id": f"c{camera.code}",
                "lon": camera.lon,
                "lat": camera.lat,
                "color": "#6b7c93",
                "stroke": "#6b7c93",
                "radius": 2,
                "weight": 0,
                "opacity": 0.7,
                "static": True,
                "interactive": False,
            }
            for camera in units.cameras
        ]
        size = (self.label_px, self.label_px * 1.3)
        labels = [
            {
                "lon": s.centre[0],
                "lat": s.centre[1],
                "text": s.name,
                "minZoom": label_zoom(self.street_bounds[s.code], len(s.name), *size),
                "short": short,
                "shortZoom": label_zoom(self.street_bounds[s.code], len(short), *size),
            }
            for s in units.streets
            for short in (short_name(s.name),)
        ]
        return {
            "units_reset": True,  # the page drops the units it had (a new version replaces them)
            "areas": areas,
            "markers": cameras,
            "labels": labels,
            "fit": self.street_bounds.get(self.home) or self.district_bounds or None,
        }

    @property
    def _syncing(self) -> bool:
        return self.hold and self.replica.syncing

    @property
    def held_until_whole(self) -> bool:
        """Whether the cases are held back until the day is whole (the page has the units
        alone) and the day now is: the whole state should go at once."""
        return self._whole and self._holding and not self._syncing

    @property
    def whole_sent(self) -> bool:
        """Whether the page has the current units and the whole state, none still to send."""
        return (
            self._units_sent is not None
            and self._units_sent == self.replica.units_version
            and not self._whole
        )

    def page_lost(self) -> None:
        """The page was loaded again: the next full batch carries the units too."""
        self._units_sent = None
        self._shown_styles = {}

    # ---- changes ---------------------------------------------------------------------------

    def collect(self, changes: Changes, now: float) -> None:
        """Account for a frame's changes now; their markers wait for the next `take`.

        Called every frame, so the work is spread thinly instead of landing on the GUI
        thread all at once when the map's batch goes out.
        """
        if changes.reset or changes.units:
            self._holding = False  # the page needs what changed (the units, or none held)
        if changes.reset or changes.units or self._whole or self._syncing:
            # The next batch is the whole state, built from the replica as it is then: the
            # frames until it goes need no accounting of their own.
            self._whole = True
            return
        markers, removed, touched = self._markers, self._removed, self._touched
        events = self.replica.events
        for event_id in changes.events:
            before = self._placed.get(event_id)
            if before is not None:
                touched.add(before[0])
            event = events.get(event_id)
            if event is None:
                if before is not None:
                    self._unplace(event_id)
                    self._remove(event_id)
                continue
            touched.add(event.grid)
            was_open = before is not None and before[1]
            marker = self._place(event, now, pulse=event_id in changes.new_events)
            if marker is not None:
                earlier = markers.pop(event_id, None)
                if earlier is not None and earlier.get("pulse"):
                    marker["pulse"] = True  # still new to the page
                markers[event_id] = marker
                removed.discard(event_id)
            elif was_open or event_id in markers:
                self._remove(event_id)

    def _remove(self, event_id: int) -> None:
        self._markers.pop(event_id, None)
        self._removed.add(event_id)

    def take(self, now: float) -> dict[str, Any] | None:
        """The batch for everything collected since the last one (None: nothing to redraw)."""
        if self._whole:
            if self._holding and self._syncing:
                return None  # the page has the units; the cases wait until the day is whole
            return self.full(now)
        markers, removed, touched = self._markers, self._removed, self._touched
        self._markers, self._removed, self._touched = {}, set(), set()
        areas = self._grid_styles(touched)
        if not (markers or removed or areas):
            return None
        return {
            "markers": list(markers.values()),
            "remove": [f"e{i}" for i in removed],
            "areas": areas,
        }

    def update(self, changes: Changes, now: float) -> dict[str, Any] | None:
        """The batch for these changes and whatever was collected before them."""
        self.collect(changes, now)
        return self.take(now)

    def refresh_overdue(self, now: float) -> dict[str, Any] | None:
        """Re-judge open events whose deadline passed since they were placed (once a minute)."""
        changed = {
            i
            for i, (_grid, is_open, overdue) in self._placed.items()
            if is_open
            and not overdue
            and (e := self.replica.events.get(i)) is not None
            and is_overdue(e, now)
        }
        if not changed:
            return None
        return self.update(Changes(events=changed), now)

    def _place(self, event: Event, now: float, pulse: bool) -> dict[str, Any] | None:
        """Account for an event's load and return its marker (None: not on the map)."""
        if event.id in self._placed:
            self._unplace(event.id)
        is_open = event.status in OPEN_STATUSES
        overdue = is_overdue(event, now)
        self._placed[event.id] = (event.grid, is_open, overdue)
        load = self._loads.get(event.grid, Load())
        self._loads[event.grid] = Load(load.open + is_open, load.overdue + overdue)
        if not is_open:
            return None
        marker: dict[str, Any] = {
            "id": f"e{event.id}",
            "lon": event.lon,
            "lat": event.lat,
            "color": PRIORITY_COLOURS.get(event.priority, "#40a9ff"),
            "stroke": "#ff4d4f"
            if overdue
            else ("#ffffff" if event.status in _WAITING else "#0b1a2e"),
            "weight": 2 if overdue or event.status in _WAITING else 1,
            "radius": 8 if event.priority <= 2 else 6,
            # Text (never HTML) on a map visitors may see: phone numbers masked.
            "label": f"{event.code} {mask_phones(event.title)}",
        }
        if pulse and event.priority <= URGENT:
            marker["pulse"] = True
        return marker

    def _unplace(self, event_id: int) -> None:
        grid, is_open, overdue = self._placed.pop(event_id)
        load = self._loads.get(grid, Load())
        self._loads[grid] = Load(load.open - is_open, load.overdue - overdue)

    def _grid_styles(self, grids: Iterable[str], every: bool = False) -> list[dict[str, Any]]:
        """Styles of these grids that differ from what the page shows (all of them: every)."""
        styles = []
        shown = self._shown_styles
        for grid in grids:
            if grid not in self._grids:
                continue
            fill, opacity = load_style(self._loads.get(grid, Load()))
            if not every and shown.get(grid) == (fill, opacity):
                continue  # one more open case in a busy grid: the same shade, nothing to send
            shown[grid] = (fill, opacity)
            styles.append(
                {"id": grid, "fill": fill, "opacity": opacity, "stroke": "#2b4a78", "weight": 0.6}
            )
        return styles

    def load_of(self, grid: str) -> Load:
        """A grid's current load."""
        return self._loads.get(grid, Load())
