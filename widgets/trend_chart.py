"""Events received per hour today (bars) against yesterday (dashed line), for a wall display."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPen, QResizeEvent
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

        self.plot = pg.PlotWidget(background=None)
        self.plot.setFrameShape(QFrame.Shape.NoFrame)
        self.plot.setStyleSheet("background: transparent; border: none;")
        self.plot.viewport().setAutoFillBackground(False)
        self._make_inert(self.plot)
        item = self.plot.getPlotItem()
        item.setContentsMargins(0, 0, 4, 0)
        self.plot.setXRange(-0.6, HOURS - 0.4, padding=0)
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(BORDER, width=1))
            axis.setTextPen(pg.mkPen(SECONDARY))
            axis.setStyle(autoReduceTextSpace=True, tickLength=0)
        item.getAxis("bottom").setStyle(hideOverlappingLabels=False)  # keep "0时" at the edge
        self._hour_step = 0
        self._set_hour_step(3)
        item.getAxis("left").setGrid(90)
        # The wall's few big labels may fill the axis (pyqtgraph keeps them to 80 % of it).
        item.getAxis("left").setStyle(textFillLimits=[(0, 0.95), (2, 0.9), (4, 0.8), (6, 0.6)])

        self.today_bars = pg.BarGraphItem(
            x=np.zeros(0),
            height=np.zeros(0),
            width=BAR_WIDTH,
            brush=pg.mkBrush(TODAY_COLOUR),
            pen=pg.mkPen(None),
        )
        self.yesterday_curve = pg.PlotDataItem(
            x=np.zeros(0), y=np.zeros(0), pen=self._yesterday_pen(2.0), antialias=True
        )
        self.empty_text = pg.TextItem(self.tr("暂无数据"), color=SECONDARY, anchor=(0.5, 0.5))
        item.addItem(self.today_bars)
        item.addItem(self.yesterday_curve)
        item.addItem(self.empty_text, ignoreBounds=True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(4)
        layout.addLayout(header)
        layout.addWidget(self.plot, 1)

        self._shown: tuple[tuple[int, ...], tuple[int, ...]] | None = None
        self._top = 0
        self._step = 0
        self._peak = 0
        self._headroom = 1.08
        self._set_y_scale(*nice_scale(0))
        self._scale = 0.0
        self.text_px = 0  # the least text size; 0: by the height alone
        self._place_empty_text()
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
        now, before = data
        self.today_bars.setOpts(
            x=np.arange(len(now), dtype=float), height=np.asarray(now, dtype=float)
        )
        self.yesterday_curve.setData(
            x=np.arange(len(before), dtype=float), y=np.asarray(before, dtype=float)
        )
        self._peak = max(now + before, default=0)
        self._fit_values()
        self.empty_text.setVisible(not now and not before)
        self._place_empty_text()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Scale fonts, tick labels and line widths with the height (capped by a narrow width)."""
        self._rescale()
        super().resizeEvent(event)
        self._fit_values()

    def _fit_values(self) -> None:
        """A round top over the data in as many steps as the height holds without crowding."""
        line = QFontMetricsF(self.tick_font()).height()
        steps = min(5, max(1, int(self.plot.height() / (line * 1.6))))
        top, step = nice_scale(self._peak, steps)
        # Room above the top line for half its label, so the label is drawn too.
        headroom = max(1.08, 1 / max(0.5, 1 - 0.6 * line / max(self.plot.height(), 1)))
        if (top, step, headroom) != (self._top, self._step, self._headroom):
            self._headroom = headroom
            self._set_y_scale(top, step)

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
        tick_font = self._font(max(11, least, round(16 * scale)))
        item = self.plot.getPlotItem()
        for name in ("left", "bottom"):
            item.getAxis(name).setStyle(tickFont=tick_font, tickTextOffset=max(3, round(6 * scale)))
        # "0时" is centred on the first bar, the top value on the top line: let them reach
        # past the axes' ends.
        for name in ("left", "bottom"):
            item.getAxis(name).setStyle(hideOverlappingLabels=tick_font.pixelSize() * 2)
        self.yesterday_curve.setPen(self._yesterday_pen(max(1.5, 2.0 * scale)))
        self.empty_text.setFont(self._font(max(14, least, round(22 * scale))))
        self._fit_hours()

    def _fit_hours(self) -> None:
        """Label every 3rd hour, or fewer when the labels would crowd (by width, not data)."""
        metrics = QFontMetricsF(self.tick_font())
        widest = metrics.horizontalAdvance(self.tr("{0}时").format(21))
        per_hour = max(self.width() - 2 * widest, 1.0) / HOURS
        step = next((s for s in (3, 4, 6, 8, 12) if s * per_hour >= widest * 1.3), 12)
        self._set_hour_step(step)

    def _set_hour_step(self, step: int) -> None:
        if step == self._hour_step:
            return
        self._hour_step = step
        self.plot.getPlotItem().getAxis("bottom").setTicks(
            [[(hour, self.tr("{0}时").format(hour)) for hour in range(0, HOURS, step)], []]
        )

    def tick_font(self) -> QFont:
        """The font of the axis tick labels (it scales with the widget)."""
        font = self.plot.getPlotItem().getAxis("bottom").style["tickFont"]
        return QFont(font) if font is not None else QFont(self.font())

    def fonts(self) -> list[QFont]:
        """Every font the chart paints text with: the axes' and the empty note's."""
        fonts = [self.tick_font()]
        if self.empty_text.isVisible():
            fonts.append(QFont(self.empty_text.textItem.font()))
        return fonts

    def _font(self, pixels: int, bold: bool = False) -> QFont:
        font = QFont(self.font())
        font.setPixelSize(pixels)
        return emphasised(font) if bold else font

    def _set_y_scale(self, top: int, step: int) -> None:
        self._top, self._step = top, step
        self.plot.setYRange(0, self._headroom * top, padding=0)
        self.plot.getPlotItem().getAxis("left").setTicks(
            [[(value, str(value)) for value in range(0, top + 1, step)], []]
        )

    def _place_empty_text(self) -> None:
        self.empty_text.setPos((HOURS - 1) / 2, self._top / 2)

    @staticmethod
    def _yesterday_pen(width: float) -> QPen:
        pen: QPen = pg.mkPen(YESTERDAY_COLOUR, width=width, style=Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        return pen

    @staticmethod
    def _make_inert(plot: pg.PlotWidget) -> None:
        """No pan, zoom, context menu or auto-range button: this is a wall, not a workstation."""
        plot.setMouseEnabled(x=False, y=False)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.getPlotItem().getViewBox().setMouseEnabled(x=False, y=False)
        plot.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        plot.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        plot.setInteractive(False)
