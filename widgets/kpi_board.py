"""KPI tiles for a wall display: a big number, its label, and a tone (normal, warn, alarm)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QResizeEvent
from PySide6.QtWidgets import QFrame, QWidget

from widgets.fit_text import ElidedLabel

Tone = Literal["normal", "good", "warn", "alarm"]
TONE_COLOURS: dict[str, str] = {
    "normal": "#e8f1ff",
    "good": "#52c41a",
    "warn": "#ffb300",
    "alarm": "#ff4d4f",
}


@dataclass(frozen=True, slots=True)
class Tile:
    """What one tile shows."""

    label: str
    value: str
    tone: Tone = "normal"
    hint: str = ""


class KpiTile(QFrame):
    """One tile: the value large enough to read across a room, the label under it.

    Both are one line, shortened with "…" if they ever had to be; their sizes follow the
    tile's height (the label never below `text_px`), never what they show.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("kpiTile")
        self.setStyleSheet(
            "#kpiTile { background: #10233f; border: 1px solid #1f3b73; border-radius: 6px; }"
        )
        self.value = ElidedLabel("—", self)
        self.value.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label = ElidedLabel("", self)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setStyleSheet("color: #8fb3e8;")
        self.text_px = 11
        self._tile: Tile | None = None

    def show_tile(self, tile: Tile) -> None:
        """Display a tile; unchanged tiles cost nothing."""
        if tile == self._tile:
            return
        self._tile = tile
        self.value.set_full_text(tile.value)
        self.value.setStyleSheet(f"color: {TONE_COLOURS[tile.tone]}; font-weight: bold;")
        self.label.set_full_text(tile.label)
        self.setToolTip(tile.hint)

    def set_text_px(self, pixels: int) -> None:
        """The least text size (the label's); the value is larger."""
        self.text_px = pixels
        self._place()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Scale the fonts with the tile, from 1080p to 8K walls."""
        super().resizeEvent(event)
        self._place()

    def _place(self) -> None:
        height, width = max(self.height(), 20), self.width()
        small = QFont(self.label.font())
        small.setPixelSize(max(self.text_px, 6))
        self.label.setFont(small)
        label_height = math.ceil(QFontMetricsF(small).height())
        pad = max(2, round(height * 0.04))
        label_top = height - pad - label_height
        box = max(label_top - pad, 1)
        # As large as the tile allows: a whole line in the room above the label.
        big = QFont(self.value.font())
        big.setPixelSize(100)
        line = QFontMetricsF(big).height() / 100
        fits = min(int(box / line), round(width * 0.2))
        big.setPixelSize(max(self.text_px, 6, fits))
        self.value.setFont(big)
        self.value.setGeometry(QRect(pad, pad, width - 2 * pad, box))
        self.label.setGeometry(QRect(pad, label_top, width - 2 * pad, label_height))

    def fonts(self) -> list[QFont]:
        """The fonts of the value and the label."""
        return [QFont(self.value.font()), QFont(self.label.font())]


class KpiBoard(QWidget):
    """A grid of tiles keyed by name in fixed equal cells; `show_tiles` updates them in one go."""

    def __init__(self, keys: list[str], columns: int = 3, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.columns = max(1, columns)
        self.spacing = 8
        self.tiles: dict[str, KpiTile] = {}
        for key in keys:
            self.tiles[key] = KpiTile(self)

    def show_tiles(self, tiles: Mapping[str, Tile]) -> None:
        """Update the tiles named in `tiles`; others keep what they show."""
        for key, tile in tiles.items():
            widget = self.tiles.get(key)
            if widget is not None:
                widget.show_tile(tile)

    def set_text_px(self, pixels: int, spacing: int | None = None) -> None:
        """The least text size of every tile, and the space between tiles."""
        if spacing is not None:
            self.spacing = spacing
        for tile in self.tiles.values():
            tile.set_text_px(pixels)
        self._place()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Equal cells for the tiles, whatever they show."""
        super().resizeEvent(event)
        self._place()

    def _place(self) -> None:
        count = len(self.tiles)
        rows = max(1, -(-count // self.columns))
        gap = self.spacing
        cell_w = (self.width() - gap * (self.columns - 1)) / self.columns
        cell_h = (self.height() - gap * (rows - 1)) / rows
        for index, tile in enumerate(self.tiles.values()):
            row, column = divmod(index, self.columns)
            x, y = round(column * (cell_w + gap)), round(row * (cell_h + gap))
            right = round(column * (cell_w + gap) + cell_w)
            bottom = round(row * (cell_h + gap) + cell_h)
            tile.setGeometry(QRect(x, y, max(right - x, 1), max(bottom - y, 1)))
