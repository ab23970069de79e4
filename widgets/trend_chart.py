"""Events received per hour today (bars) against yesterday (dashed line), for a wall display.

Painted with QPainter in one pass: a wall's chart of 24 bars needs no plotting library (the
one it used cost the wall's start a third of a second of imports, numpy included).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPaintEvent, QPen, QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from widgets.cjk_font import emphasised

HOURS = 24
BACKGROUND = "#10233f"
BORDER = "#1f3b73"
TEXT = "#e8f1ff"
SECONDARY = "#8fb3e8"
TODAY_COLOUR = "#5b8def"
YESTERDAY_COLOUR = "#9aa8bd"
GRID_COLOUR = "#2a4a80"
BAR_WIDTH = 0.62
X_MARGIN = 0.6  # hours of room left of the first bar's centre and right of the last's


def nice_scale(peak: int, steps: int = 5) -> tuple[int, int]:
    """Return (top, step): a round y-axis top just above `peak`, in at most `steps` (five by
    default) integer steps."""
    steps = max(1, steps)
    wanted = max(peak, 4) * 1.08
    magnitude = 10 ** max(0, math.floor(math.log10(wanted / steps)))
    for factor in (1, 2, 2.5, 5, 10, 20, 25, 50):
        step = factor * magnitude
        if step == int(step) and math.ceil(wanted / step) <= steps:
            break
    step = int(step)
    return step * math.ceil(wanted / step), step


class TrendPlot(QWidget):
    """The plot itself: y grid and labels, hour labels, today's bars, yesterday's line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.today: tuple[int, ...] = ()
        self.yesterday: tuple[int, ...] = ()
        self.top, self.step, self.headroom = 5, 1, 1.08
        self.hour_step = 3
        self.hour_format = "{0}时"
        self.empty_text = ""
        self.tick_font = QFont(self.font())
        self.empty_font = QFont(self.font())
        self.line_width = 2.0
        self.label_gap = 6.0

    def y_labels(self) -> list[tuple[int, str]]:
        """The values the y axis marks, with their labels."""
        return [(value, str(value)) for value in range(0, self.top + 1, self.step)]

    def hour_labels(self) -> list[tuple[int, str]]:
        """The hours the x axis marks, with their labels."""
        return [(h, self.hour_format.format(h)) for h in range(0, HOURS, self.hour_step)]

    def showing_empty(self) -> bool:
        """Whether the "no data" note is painted instead of bars and a line."""
        return not self.today and not self.yesterday

    def area(self) -> QRectF:
        """Where the bars go: inside the axis labels."""
        metrics = QFontMetricsF(self.tick_font)
        left = max(metrics.horizontalAdvance(label) for _, label in self.y_labels())
        left += self.label_gap
        bottom = metrics.height() + self.label_gap
        top = metrics.height() / 2  # room for the top value's label, centred on its line
        return QRectF(
            left, top, max(self.width() - left - 4, 1.0), max(self.height() - top - bottom, 1.0)
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        """Grid, labels, bars and line in one pass."""
        painter = QPainter(self)
        try:
            self._paint(painter)
        finally:
            painter.end()

    def _paint(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        area = self.area()
        span = HOURS - 1 + 2 * X_MARGIN
        ceiling = self.headroom * self.top

        def x_of(hour: float) -> float:
            return area.left() + (hour + X_MARGIN) / span * area.width()

        def y_of(value: float) -> float:
            return area.bottom() - value / ceiling * area.height()

        metrics = QFontMetricsF(self.tick_font)
        painter.setFont(self.tick_font)
        grid = QPen(QColor(GRID_COLOUR), 1)
        label_colour = QColor(SECONDARY)
        for value, label in self.y_labels():
            y = y_of(value)
            painter.setPen(grid)
            painter.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
            painter.setPen(label_colour)
            box = QRectF(
                0, y - metrics.height() / 2, area.left() - self.label_gap, metrics.height()
            )
            painter.drawText(
                box, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label
            )
        painter.setPen(QPen(QColor(BORDER), 1))
        painter.drawLine(area.bottomLeft(), area.bottomRight())
        painter.drawLine(area.bottomLeft(), area.topLeft())
        painter.setPen(label_colour)
        baseline = area.bottom() + self.label_gap
        for hour, label in self.hour_labels():
            width = metrics.horizontalAdvance(label)
            # Centred under its bar, kept inside the widget ("0时" at the left edge).
            left = min(max(x_of(hour) - width / 2, 0.0), self.width() - width)
            painter.drawText(QRectF(left, baseline, width + 1, metrics.height()), label)
        if self.showing_empty():
            painter.setFont(self.empty_font)
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, self.empty_text)
            return
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(TODAY_COLOUR))
        half = BAR_WIDTH / 2 / span * area.width()
        for hour, value in enumerate(self.today):
            if value > 0:
                x, y = x_of(hour), y_of(value)
                painter.drawRect(QRectF(x - half, y, 2 * half, area.bottom() - y))
        if self.yesterday:
            pen = QPen(QColor(YESTERDAY_COLOUR), self.line_width, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            points = [QPointF(x_of(h), y_of(v)) for h, v in enumerate(self.yesterday)]
            painter.drawPolyline(points)


class HourlyTrend(QWidget):
    """Hourly arrivals so far today as bars, yesterday's 24 hours as a thin dashed line."""

    def __init__(self, parent: QWidget | None = None, *, framed: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("hourlyTrend")
        if framed:  # a tile of its own; unframed, it shows through to its container
            self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
            self.setStyleSheet(
                f"#hourlyTrend {{ background: {BACKGROUND}; border: 1px solid {BORDER};"
                " border-radius: 6px; }"
            )
        self.title = QLabel(self.tr("今日与昨日每小时接报量"))
        self.title.setStyleSheet(f"color: {TEXT};")
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.today_key = QLabel(self.tr("今日"))
        self.today_key.setStyleSheet(f"color: {TEXT};")
        self.today_swatch = QFrame()
        self.today_swatch.setStyleSheet(f"background: {TODAY_COLOUR}; border: none;")
        self.yesterday_key = QLabel(self.tr("昨日"))
        self.yesterday_key.setStyleSheet(f"color: {SECONDARY};")
        self.yesterday_swatch = QLabel("- - -")
        self.yesterday_swatch.setStyleSheet(f"color: {YESTERDAY_COLOUR};")

        header = QHBoxLayout()
        header.setSpacing(6)
        header.addWidget(self.title, 1)
        header.addStretch(0)  # takes the title's place when it is hidden
        header.addWidget(self.today_swatch, 0, Qt.AlignmentFlag.AlignVCenter)
        header.addWidget(self.today_key)
        header.addSpacing(12)
        header.addWidget(self.yesterday_swatch)
        header.addWidget(self.yesterday_key)
        self._header = header

        self.plot = TrendPlot()
        self.plot.hour_format = self.tr("{0}时")
        self.plot.empty_text = self.tr("暂无数据")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(4)
        layout.addLayout(header)
        layout.addWidget(self.plot, 1)

        self._shown: tuple[tuple[int, ...], tuple[int, ...]] | None = None
        self._peak = 0
        self._scale = 0.0
        self.text_px = 0  # the least text size; 0: by the height alone
        self._rescale(1.0)  # as at 1080p until the first resize says otherwise

    def show_key(self, visible: bool) -> None:
        """Show or hide the today/yesterday key above the plot (a wall may show its own)."""
        for part in (self.today_swatch, self.today_key, self.yesterday_swatch, self.yesterday_key):
            part.setVisible(visible)

    def set_title(self, title: str) -> None:
        """Replace the heading; an empty title hides it (the legend stays)."""
        self.title.setText(title)
        self.title.setVisible(bool(title))

    def show(
        self, today: Sequence[int] | None = None, yesterday: Sequence[int] | None = None
    ) -> None:
        """Plot hourly counts (unchanged data cost nothing); with no arguments, show the widget."""
        if today is None and yesterday is None:
            super().show()
            return
        data = (
            tuple(int(v) for v in (today or ())[:HOURS]),
            tuple(int(v) for v in (yesterday or ())[:HOURS]),
        )
        if data == self._shown:
            return
        self._shown = data
        self.plot.today, self.plot.yesterday = data
        self._peak = max(data[0] + data[1], default=0)
        self._fit_values()
        self.plot.update()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Scale fonts, tick labels and line widths with the height (capped by a narrow width)."""
        self._rescale()
        super().resizeEvent(event)
        self._fit_values()

    def _fit_values(self) -> None:
        """A round top over the data in as many steps as the height holds without crowding."""
        line = QFontMetricsF(self.tick_font()).height()
        height = max(self.plot.height(), 1)
        steps = min(5, max(1, int(height / (line * 1.6))))
        top, step = nice_scale(self._peak, steps)
        plot = self.plot
        if (top, step) != (plot.top, plot.step):
            plot.top, plot.step = top, step
            plot.update()

    def set_text_px(self, pixels: int) -> None:
        """The least text size (axis labels, legend): a wall's readable size."""
        if pixels != self.text_px:
            self.text_px = pixels
            self._scale = 0.0
            self._rescale()

    def _rescale(self, scale: float | None = None) -> None:
        if scale is None:
            # the height sets the size; a narrow chart caps it so the hour labels never collide
            scale = max(min(self.height() / 300, self.width() / 480), 0.4)
        if abs(scale - self._scale) < 0.01:
            self._fit_hours()
            return
        self._scale = scale
        least = self.text_px
        self.title.setFont(self._font(max(13, least, round(21 * scale)), bold=True))
        small = self._font(max(11, least, round(16 * scale)))
        for label in (self.today_key, self.yesterday_key, self.yesterday_swatch):
            label.setFont(small)
        side = max(8, round(13 * scale))
        self.today_swatch.setFixedSize(side, side)
        self._header.setSpacing(max(4, round(6 * scale)))
        margin = max(6, round(10 * scale))
        layout = self.layout()
        if layout is not None:
            layout.setContentsMargins(round(margin * 1.2), margin, round(margin * 1.2), margin)
        plot = self.plot
        plot.tick_font = self._font(max(11, least, round(16 * scale)))
        plot.label_gap = max(3, round(6 * scale))
        plot.line_width = max(1.5, 2.0 * scale)
        plot.empty_font = self._font(max(14, least, round(22 * scale)))
        self._fit_hours()
        plot.update()

    def _fit_hours(self) -> None:
        """Label every 3rd hour, or fewer when the labels would crowd (by width, not data)."""
        metrics = QFontMetricsF(self.tick_font())
        widest = metrics.horizontalAdvance(self.plot.hour_format.format(21))
        per_hour = max(self.width() - 2 * widest, 1.0) / HOURS
        step = next((s for s in (3, 4, 6, 8, 12) if s * per_hour >= widest * 1.3), 12)
        if step != self.plot.hour_step:
            self.plot.hour_step = step
            self.plot.update()

    def tick_font(self) -> QFont:
        """The font of the axis tick labels (it scales with the widget)."""
        return QFont(self.plot.tick_font)

    def fonts(self) -> list[QFont]:
        """Every font the chart paints text with: the axes' and the empty note's."""
        fonts = [self.tick_font()]
        if self.plot.showing_empty():
            fonts.append(QFont(self.plot.empty_font))
        return fonts

    def _font(self, pixels: int, bold: bool = False) -> QFont:
        font = QFont(self.font())
        font.setPixelSize(pixels)
        return emphasised(font) if bold else font
