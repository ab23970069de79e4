"""KPI tiles for a wall display: a big number, its label, and a tone (normal, warn, alarm)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

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
    """One tile: the value large enough to read across a room, the label under it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("kpiTile")
        self.setStyleSheet(
            "#kpiTile { background: #10233f; border: 1px solid #1f3b73; border-radius: 6px; }"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        self.value = QLabel("—")
        self.value.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label = QLabel("")
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setStyleSheet("color: #8fb3e8;")
        layout.addWidget(self.value, 3)
        layout.addWidget(self.label, 1)
        self._tile: Tile | None = None

    def show_tile(self, tile: Tile) -> None:
        """Display a tile; unchanged tiles cost nothing."""
        if tile == self._tile:
            return
        self._tile = tile
        self.value.setText(tile.value)
        self.value.setStyleSheet(f"color: {TONE_COLOURS[tile.tone]}; font-weight: bold;")
        self.label.setText(tile.label)
        self.setToolTip(tile.hint)

    def resizeEvent(self, event: object) -> None:
        """Scale the fonts with the tile, from 1080p to 8K walls."""
        height = max(self.height(), 40)
        font = self.value.font()
        font.setPixelSize(max(14, int(height * 0.42)))
        self.value.setFont(font)
        small = self.label.font()
        small.setPixelSize(max(11, int(height * 0.16)))
        self.label.setFont(small)
        super().resizeEvent(event)  # type: ignore[arg-type]


class KpiBoard(QWidget):
    """A grid of tiles keyed by name; `show_tiles` updates them in one go."""

    def __init__(self, keys: list[str], columns: int = 3, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setSpacing(8)
        layout.setContentsMargins(0, 0, 0, 0)
        self.tiles: dict[str, KpiTile] = {}
        for index, key in enumerate(keys):
            tile = KpiTile(self)
            layout.addWidget(tile, index // columns, index % columns)
            self.tiles[key] = tile

    def show_tiles(self, tiles: Mapping[str, Tile]) -> None:
        """Update the tiles named in `tiles`; others keep what they show."""
        for key, tile in tiles.items():
            widget = self.tiles.get(key)
            if widget is not None:
                widget.show_tile(tile)
