"""Streets ranked as horizontal bars: rank and name on the left, the value's text on the right."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QHelpEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
)
from PySide6.QtWidgets import QToolTip, QWidget

from widgets.cjk_font import emphasised

MAX_ROWS = 9
BACKGROUND = QColor("#10233f")
BORDER = QColor("#1f3b73")
TRACK = QColor("#17305a")
TEXT = QColor("#e8f1ff")
SECONDARY = QColor("#8fb3e8")
BAR_COLOURS: dict[str, QColor] = {
    "normal": QColor("#5b8def"),
    "warn": QColor("#ffb300"),
    "alarm": QColor("#ff4d4f"),
}
TEXT_COLOURS: dict[str, QColor] = {
    "normal": TEXT,
    "warn": BAR_COLOURS["warn"],
    "alarm": BAR_COLOURS["alarm"],
}


@dataclass(frozen=True, slots=True)
class RankRow:
    """A ranked street: bar length from `value`, `text` beside it, tone normal/warn/alarm."""

    key: str
    name: str
    value: float
    text: str
    tone: str = "normal"


class StreetRanking(QWidget):
    """Up to nine ranked rows painted as horizontal bars; `clicked(key)` when a row is clicked."""

    clicked = Signal(str)

    def __init__(
        self, title: str = "", parent: QWidget | None = None, *, framed: bool = True
    ) -> None:
        super().__init__(parent)
        self._framed = framed
        self.setMinimumSize(240, 160)
        self._title = title
        self._rows: tuple[RankRow, ...] = ()
        self._empty = ""  # the empty state's words ("": 暂无数据)
        self._shown = False
        self.title_font = QFont(self.font())
        self.text_px = 0  # the least text size; 0: by the height alone
        self._rescale()

    def set_text_px(self, pixels: int) -> None:
        """The least text size: a wall's readable size."""
        if pixels != self.text_px:
            self.text_px = pixels
            self._rescale()
            self.update()

    def fonts(self) -> list[QFont]:
        """The fonts the rows (and the title, if any) are painted with."""
        self._rescale()
        return [QFont(self.font()), *([QFont(self.title_font)] if self._title else [])]

    def set_title(self, title: str) -> None:
        """Change the heading above the bars."""
        if title != self._title:
            self._title = title
            self.update()

    def title(self) -> str:
        """The heading above the bars."""
        return self._title

    def set_empty_text(self, text: str) -> None:
        """What shows with no rows ("" for the default, 暂无数据)."""
        if text != self._empty:
            self._empty = text
            self.update()

    def rows(self) -> tuple[RankRow, ...]:
        """The rows on display (at most nine)."""
        return self._rows

    def show(self, rows: Sequence[RankRow] | None = None) -> None:
        """Display rows in the given order (unchanged rows cost nothing); no rows: show widget."""
        if rows is None:
            super().show()
            return
        shown = tuple(rows[:MAX_ROWS])
        if self._shown and shown == self._rows:
            return
        self._shown = True
        self._rows = shown
        self._rescale()
        self.setCursor(Qt.CursorShape.PointingHandCursor if shown else Qt.CursorShape.ArrowCursor)
        self.update()

    def row_rect(self, index: int) -> QRectF:
        """The band occupied by row `index` (0 is the top row), in widget coordinates."""
        top, row_height = self._rows_area()
        return QRectF(0, top + index * row_height, self.width(), row_height)

    def row_at(self, point: QPointF) -> int | None:
        """The index of the row under `point`, or None."""
        top, row_height = self._rows_area()
        if row_height <= 0 or point.y() < top:
            return None
        index = int((point.y() - top) // row_height)
        return index if index < len(self._rows) else None

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Scale the fonts with the widget's height (shrunk to fit a narrow widget)."""
        self._rescale()
        super().resizeEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """Emit `clicked` with the key of the row under the pointer."""
        index = self.row_at(event.position())
        if event.button() == Qt.MouseButton.LeftButton and index is not None:
            self.clicked.emit(self._rows[index].key)
        super().mouseReleaseEvent(event)

    def event(self, event: QEvent) -> bool:
        """Show the full name and value of the hovered row as a tooltip."""
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            index = self.row_at(QPointF(event.pos()))
            if index is None:
                QToolTip.hideText()
            else:
                row = self._rows[index]
                QToolTip.showText(event.globalPos(), f"{row.name}  {row.text}", self)
            return True
        return super().event(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint the title, then one bar per row, or the empty state."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        if self._framed:
            bounds = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
            painter.setPen(BORDER)
            painter.setBrush(BACKGROUND)
            painter.drawRoundedRect(bounds, 6, 6)

        pad = self._pad()
        top, row_height = self._rows_area()
        painter.setFont(self.title_font)
        painter.setPen(TEXT)
        painter.drawText(
            QRectF(pad, pad * 0.6, self.width() - 2 * pad, top - pad * 0.6),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            self._title,
        )
        if not self._rows:
            painter.setFont(self.font())
            painter.setPen(SECONDARY)
            painter.drawText(
                QRectF(pad, top, self.width() - 2 * pad, self.height() - top - pad),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self._empty or self.tr("暂无数据"),
            )
            painter.end()
            return
        self._paint_rows(painter, pad, top, row_height)
        painter.end()

    def _columns(self, pad: float) -> tuple[float, float, float, float]:
        """Widths of the rank, name and value columns, and the gap between columns."""
        metrics = QFontMetricsF(self.font())
        width = self.width() - 2 * pad
        gap = metrics.height() * 0.5
        rank_width = metrics.horizontalAdvance("9") + gap
        # The figures are what is read: they are never cut ("98.2分 · 超…" hid the overdue
        # count). The bars take what is left, a tenth of the width at least; then the
        # names give way (cut with "…"; the tooltip says them whole).
        value_width = min(
            max(metrics.horizontalAdvance(row.text) for row in self._rows),
            width * 0.9 - rank_width - 3 * gap - metrics.horizontalAdvance("…") * 2,
        )
        name_width = min(
            max(metrics.horizontalAdvance(row.name) for row in self._rows),
            width * 0.36,
            max(width * 0.9 - rank_width - value_width - 3 * gap, 1.0),
        )
        return rank_width, name_width, value_width, gap

    def painted_texts(self) -> list[tuple[str, str]]:
        """Each row's name and figures as they are painted (cut to fit, or whole)."""
        if not self._rows:
            return []
        self._rescale()
        metrics = QFontMetricsF(self.font())
        _, name_width, value_width, _ = self._columns(self._pad())
        elide = Qt.TextElideMode.ElideRight
        return [
            (
                metrics.elidedText(row.name, elide, name_width),
                metrics.elidedText(row.text, elide, value_width),
            )
            for row in self._rows
        ]

    def _paint_rows(self, painter: QPainter, pad: float, top: float, row_height: float) -> None:
        font = self.font()
        metrics = QFontMetricsF(font)
        width = self.width() - 2 * pad
        rank_width, name_width, value_width, gap = self._columns(pad)
        bar_left = pad + rank_width + name_width + gap
        bar_span = max(width - (bar_left - pad) - value_width - gap, 1.0)
        peak = max((row.value for row in self._rows), default=0.0)
        thickness = row_height * 0.52
        painter.setFont(font)
        for index, row in enumerate(self._rows):
            y = top + index * row_height
            band = QRectF(pad, y, width, row_height)
            centre = QRectF(pad, y, rank_width, row_height)
            painter.setPen(TEXT if index < 3 else SECONDARY)
            painter.drawText(
                centre, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, str(index + 1)
            )
            name = metrics.elidedText(row.name, Qt.TextElideMode.ElideRight, name_width)
            painter.setPen(TEXT)
            painter.drawText(
                QRectF(pad + rank_width, y, name_width, row_height),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                name,
            )
            bar_y = y + (row_height - thickness) / 2
            radius = thickness / 4
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(TRACK)
            painter.drawRoundedRect(QRectF(bar_left, bar_y, bar_span, thickness), radius, radius)
            length = bar_span * max(row.value, 0.0) / peak if peak > 0 else 0.0
            if length > 0:
                painter.setBrush(BAR_COLOURS.get(row.tone, BAR_COLOURS["normal"]))
                painter.drawRoundedRect(
                    QRectF(bar_left, bar_y, max(length, radius * 2), thickness), radius, radius
                )
            text = metrics.elidedText(row.text, Qt.TextElideMode.ElideRight, value_width)
            painter.setPen(TEXT_COLOURS.get(row.tone, TEXT))
            painter.drawText(
                QRectF(band.right() - value_width, y, value_width, row_height),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                text,
            )

    def _pad(self) -> float:
        return max(8.0, self.height() * 0.03)

    def _rows_area(self) -> tuple[float, float]:
        """Top of the first row and the height of each of the nine row slots."""
        self._rescale()
        pad = self._pad()
        if not self._title:
            return pad, max((self.height() - 2 * pad) / MAX_ROWS, 1.0)
        top = pad * 0.6 + QFontMetricsF(self.title_font).height() * 1.5
        return top, max((self.height() - top - pad) / MAX_ROWS, 1.0)

    def _rescale(self) -> None:
        """Size the fonts by the height, shrunk if the names and texts would squeeze the bars."""
        height = max(self.height(), 160)
        pixels = max(11, round(height * 0.052))
        if self._rows:
            font = QFont(self.font())
            font.setPixelSize(pixels)
            metrics = QFontMetricsF(font)
            text = (
                metrics.horizontalAdvance("9")
                + max(metrics.horizontalAdvance(row.name) for row in self._rows)
                + max(metrics.horizontalAdvance(row.text) for row in self._rows)
                + metrics.height() * 2
            )
            room = (self.width() - 2 * self._pad()) * 0.75  # a quarter at least for the bars
            if text > room > 0:
                pixels = max(11, int(pixels * room / text))
        pixels = max(pixels, self.text_px)
        title_pixels = max(13, self.text_px, round(height * 0.066))
        if self.font().pixelSize() == pixels and self.title_font.pixelSize() == title_pixels:
            return
        font = QFont(self.font())
        font.setPixelSize(pixels)
        self.setFont(font)
        title = QFont(font)
        title.setPixelSize(title_pixels)
        self.title_font = emphasised(title)
