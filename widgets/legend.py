"""A colour legend for a wall panel: what each colour, dot or ring means, in words.

Keys flow left to right and wrap onto more lines when the width runs out; a caption stays on
the line of its group's first key. The height for a width depends on the keys and the font
only (never on data), so a wall can give the legend a fixed share of its panel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

Shape = Literal["dot", "ring", "square", "line", "dash"]
CAPTION = QColor("#8fb3e8")
TEXT = QColor("#e8f1ff")
SLOT = 1.35  # a swatch and the space after it, in swatch widths


@dataclass(frozen=True, slots=True)
class Key:
    """One colour and its meaning; `shape` how the colour is used (a dot, a ring, an area)."""

    label: str
    colour: str
    shape: Shape = "dot"


@dataclass(frozen=True, slots=True)
class KeyGroup:
    """Keys under a caption ("事件", "网格"); the caption may be empty."""

    caption: str
    keys: tuple[Key, ...]


@dataclass(slots=True)
class _Placed:
    x: float
    line: int
    width: float
    text: str
    key: Key | None  # None: a caption


class Legend(QWidget):
    """Groups of keys painted in one font; `lines_for(width)` says how many lines they take."""

    def __init__(self, groups: Sequence[KeyGroup] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._groups: tuple[KeyGroup, ...] = tuple(groups)
        self._placed: list[_Placed] = []
        self._placed_for = -1

    def set_groups(self, groups: Sequence[KeyGroup]) -> None:
        """Show these groups instead."""
        self._groups = tuple(groups)
        self._placed_for = -1
        self.updateGeometry()
        self.update()

    def groups(self) -> tuple[KeyGroup, ...]:
        """The groups shown."""
        return self._groups

    def set_text_px(self, pixels: int) -> None:
        """The legend's text size."""
        font = QFont(self.font())
        font.setPixelSize(pixels)
        self.setFont(font)
        self._placed_for = -1
        self.updateGeometry()

    def fonts(self) -> list[QFont]:
        """The fonts the legend paints with."""
        return [QFont(self.font())]

    def line_height(self) -> int:
        """One line of keys."""
        return math.ceil(QFontMetricsF(self.font()).height() * 1.2)

    def lines_for(self, width: int) -> int:
        """How many lines the keys take at `width` (at least one)."""
        return 1 + max((p.line for p in self._place(width)), default=0)

    def hasHeightForWidth(self) -> bool:
        """More lines when narrower."""
        return True

    def heightForWidth(self, width: int) -> int:
        """The lines' height at `width`."""
        return self.lines_for(width) * self.line_height()

    def sizeHint(self) -> QSize:
        """Everything on one line."""
        placed = self._place(1 << 20)
        width = max((p.x + p.width for p in placed), default=0.0)
        return QSize(math.ceil(width) + 1, self.line_height())

    def paintEvent(self, event: QPaintEvent) -> None:
        """Each key's swatch and words; captions muted."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setFont(self.font())
        metrics = QFontMetricsF(self.font())
        line = self.line_height()
        swatch = metrics.capHeight() * 1.15
        for placed in self._place(self.width()):
            top = placed.line * line
            rect = QRectF(placed.x, top, placed.width, line)
            text_x = placed.x
            if placed.key is not None:
                centre = QPointF(placed.x + swatch / 2, top + line / 2)
                self._swatch(painter, placed.key, centre, swatch)
                text_x += swatch * SLOT
            painter.setPen(CAPTION if placed.key is None else TEXT)
            text = metrics.elidedText(
                placed.text, Qt.TextElideMode.ElideRight, max(0.0, rect.right() - text_x) + 1
            )
            painter.drawText(
                QRectF(text_x, top, rect.right() - text_x + 1, line),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                text,
            )
        painter.end()

    @staticmethod
    def _swatch(painter: QPainter, key: Key, centre: QPointF, size: float) -> None:
        colour = QColor(key.colour)
        half = size / 2
        box = QRectF(centre.x() - half, centre.y() - half, size, size)
        if key.shape == "dot":
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawEllipse(box)
        elif key.shape == "ring":
            painter.setBrush(QColor("#40a9ff"))
            painter.setPen(QPen(colour, max(2.0, size / 5)))
            painter.drawEllipse(box.adjusted(size / 10, size / 10, -size / 10, -size / 10))
        elif key.shape == "square":
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRect(box)
        else:
            painter.setPen(QPen(colour, max(2.0, size / 5)))
            y = centre.y()
            if key.shape == "dash":  # two dashes with a gap: a dashed line at any size
                third = size / 3
                painter.drawLine(QPointF(box.left(), y), QPointF(box.left() + third, y))
                painter.drawLine(QPointF(box.right() - third, y), QPointF(box.right(), y))
            else:
                painter.drawLine(QPointF(box.left(), y), QPointF(box.right(), y))

    def _place(self, width: int) -> list[_Placed]:
        if width == self._placed_for:
            return self._placed
        metrics = QFontMetricsF(self.font())
        swatch = metrics.capHeight() * 1.15 * SLOT
        gap = metrics.height() * 0.35
        group_gap = metrics.height() * 0.8
        placed: list[_Placed] = []
        x, line = 0.0, 0
        for number, group in enumerate(self._groups):
            if number and x > 0:
                x += group_gap - gap
            tokens: list[tuple[str, Key | None]] = [(group.caption, None)] if group.caption else []
            tokens += [(k.label, k) for k in group.keys]
            glued = False  # the first key after a caption stays on the caption's line
            for index, (text, key) in enumerate(tokens):
                size = metrics.horizontalAdvance(text) + (swatch if key is not None else 0.0)
                unit = size
                if key is None and index + 1 < len(tokens):
                    unit += gap + metrics.horizontalAdvance(tokens[index + 1][0]) + swatch
                if x > 0 and x + unit > width and not glued:
                    x, line = 0.0, line + 1
                glued = key is None
                placed.append(_Placed(x, line, min(size, max(width - x, 0.0)), text, key))
                x += size + gap
        self._placed, self._placed_for = placed, width
        return placed
