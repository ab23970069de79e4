"""The replay bar (回放): shown at the bottom of the wall and the desk while they show the past.

Plain data in (the day shown, its hourly arrivals, the playhead), signals out (seek, play,
pause, step, live); it knows nothing of the backend. Times are district unix seconds, shown
in China time (UTC+8, no daylight saving).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import shiboken6
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QHelpEvent,
    QHideEvent,
    QIcon,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QPolygonF,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from widgets.fit_text import ElidedLabel

DAY = 86400.0
HOURS = 24
CHINA = 8 * 3600  # UTC+8 all year: no daylight saving
DEFAULT_TEXT_PX = 15  # the desk's text size (its style sheet's)

BAR_BACKGROUND = "#15112b"
BAND = "#9254de"  # violet: neither live (green/blue), the outage (red) nor a note (amber)
BANNER = "#531dab"
TEXT = "#e8f1ff"
MUTED = "#8fb3e8"
BUTTON = "#16325c"
BORDER = "#1f3b73"
NOTE = "#ffb300"
ERROR = "#ff7875"
PLAYED = "#5b8def"
TO_COME = "#34507d"
OUT_OF_RANGE = "#5a5a66"
PLAYHEAD = "#ffffff"
TICK = "#3a4e78"

_TIME = re.compile(r"^\s*(\d{1,2})\s*[:：.]?\s*(\d{2})\s*$")


def local_text(at: float, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A district moment as China time, by `pattern` (strftime)."""
    return datetime.fromtimestamp(at + CHINA, UTC).strftime(pattern)


def parse_time_of_day(text: str) -> float | None:
    """Seconds after midnight for "HH:MM" (also "H:MM", "HHMM", a full-width colon); None
    when it is not a time of day from 00:00 to 23:59."""
    match = _TIME.match(text)
    if match is None:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours > 23 or minutes > 59:
        return None
    return float(hours * 3600 + minutes * 60)


def _triangle(side: int, pointing: int) -> QIcon:
    """A filled triangle pointing left (-1) or right (1), greyed when its button is disabled."""
    icon = QIcon()
    for mode, colour in ((QIcon.Mode.Normal, TEXT), (QIcon.Mode.Disabled, "#5a6b85")):
        pixmap = QPixmap(side, side)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(colour))
        tip, back = (0.1 * side, 0.85 * side) if pointing < 0 else (0.9 * side, 0.15 * side)
        painter.drawPolygon(
            QPolygonF(
                [QPointF(tip, side / 2), QPointF(back, 0.1 * side), QPointF(back, 0.9 * side)]
            )
        )
        painter.end()
        icon.addPixmap(pixmap, mode)
    return icon


def _room(label: QLabel, text: str) -> int:
    """The width a label needs to show `text` whole (its padding and margins included)."""
    margins = label.contentsMargins()
    advance = math.ceil(label.fontMetrics().horizontalAdvance(text))
    return advance + margins.left() + margins.right() + 2 * max(0, label.margin()) + 2


class ReplayCurve(QWidget):
    """The day's arrivals per hour as bars, hour ticks every 3 h, the playhead as a line;
    clicking or dragging moves the playhead at once and seeks once, on release."""

    released = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("replayCurve")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setMouseTracking(False)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.day_start = 0.0
        self.curve: tuple[int, ...] = ()
        self.earliest = 0.0
        self.latest = 0.0
        self.at: float | None = None
        self.dragging: float | None = None  # the moment under the mouse while the button is down
        self.pending: float | None = None  # the moment released, until the backend is there
        self.pending_since = 0.0
        self.text_px = DEFAULT_TEXT_PX
        self.tick_font = QFont(self.font())
        self.tick_font.setPixelSize(self.text_px)
        self._peak = 1
        self.has_day = False

    def set_text_px(self, pixels: int) -> None:
        """The size of the hour labels (and so of the whole curve)."""
        self.text_px = pixels
        self.tick_font = QFont(self.font())
        self.tick_font.setPixelSize(pixels)
        self.updateGeometry()
        self.update()

    def set_day(
        self, day_start: float, curve: Sequence[int], earliest: float, latest: float
    ) -> None:
        """The day drawn and the bounds one may seek within."""
        self.day_start, self.earliest, self.latest = day_start, earliest, latest
        self.curve = tuple(max(0, int(v)) for v in curve[:HOURS])
        self._peak = max(self.curve, default=0) or 1
        self.has_day = True
        self.pending = None
        self.update()

    def sizeHint(self) -> QSize:
        """Three text lines: the bars in about two, the hour labels under them."""
        line = QFontMetricsF(self.tick_font).height()
        return QSize(round(line * 20), math.ceil(line * 3.0))

    def minimumSizeHint(self) -> QSize:
        """As tall as its hint; as narrow as a few hour labels."""
        return QSize(round(QFontMetricsF(self.tick_font).height() * 8), self.sizeHint().height())

    def area(self) -> QRectF:
        """Where the bars go: the width less room for half a label each side, above the labels."""
        metrics = QFontMetricsF(self.tick_font)
        side = math.ceil(metrics.horizontalAdvance("00:00") / 2) + 2
        top = max(2.0, self.text_px * 0.2)
        bottom = metrics.height() + max(2.0, self.text_px * 0.2)
        return QRectF(
            side, top, max(self.width() - 2 * side, 1.0), max(self.height() - top - bottom, 1.0)
        )

    def x_of(self, moment: float) -> float:
        """The x of a moment of the day shown."""
        area = self.area()
        return area.left() + (moment - self.day_start) / DAY * area.width()

    def moment_at(self, x: float) -> float:
        """The moment under x, kept within the day and the history one may seek to."""
        area = self.area()
        moment = float(round(self.day_start + (x - area.left()) / area.width() * DAY))
        moment = min(max(moment, self.day_start), self.day_start + DAY - 60)
        return min(max(moment, self.earliest), self.latest)

    def shown_at(self) -> float | None:
        """Where the playhead is drawn: under the mouse, at a seek on its way, or reported."""
        if self.dragging is not None:
            return self.dragging
        return self.pending if self.pending is not None else self.at

    def hour_step(self) -> int:
        """Label every 3rd hour, or fewer when the labels would crowd."""
        metrics = QFontMetricsF(self.tick_font)
        widest = metrics.horizontalAdvance("00:00") * 1.4
        per_hour = self.area().width() / HOURS
        return next((s for s in (3, 4, 6, 12) if s * per_hour >= widest), 24)

    def hour_labels(self) -> list[tuple[QRectF, str]]:
        """Each hour label and the box it is drawn in."""
        metrics = QFontMetricsF(self.tick_font)
        area = self.area()
        labels = []
        for hour in range(0, HOURS + 1, self.hour_step()):
            text = f"{hour:02d}:00"
            width = metrics.horizontalAdvance(text)
            x = area.left() + hour / HOURS * area.width()
            left = min(max(x - width / 2, 0.0), self.width() - width)
            labels.append((QRectF(left, area.bottom() + 2, width, metrics.height()), text))
        return labels

    def paintEvent(self, event: QPaintEvent) -> None:
        """Bars, ticks, the part one cannot seek to, the playhead: one pass."""
        painter = QPainter(self)
        try:
            self._paint(painter)
        finally:
            painter.end()

    def _paint(self, painter: QPainter) -> None:
        area = self.area()
        slot = area.width() / HOURS
        at = self.shown_at()
        painter.setPen(QPen(QColor(TICK), 1))
        painter.drawLine(area.bottomLeft(), area.bottomRight())
        painter.setPen(Qt.PenStyle.NoPen)
        for hour, value in enumerate(self.curve):
            if value <= 0:
                continue
            start = self.day_start + hour * 3600
            if start >= self.latest or start + 3600 <= self.earliest:
                colour = OUT_OF_RANGE
            elif at is not None and start + 3600 <= at:
                colour = PLAYED
            else:
                colour = TO_COME if at is not None else PLAYED
            height = value / self._peak * area.height()
            painter.setBrush(QColor(colour))
            left = area.left() + hour * slot + slot * 0.12
            painter.drawRect(QRectF(left, area.bottom() - height, slot * 0.76, height))
        # What one cannot seek to (after the latest moment kept, or before the earliest): grey.
        painter.setBrush(QColor(128, 128, 140, 70))
        end = self.day_start + DAY
        if self.latest < end:
            x = max(self.x_of(self.latest), area.left())
            painter.drawRect(QRectF(x, area.top(), area.right() - x, area.height()))
        if self.earliest > self.day_start:
            x = min(self.x_of(self.earliest), area.right())
            painter.drawRect(QRectF(area.left(), area.top(), x - area.left(), area.height()))
        painter.setFont(self.tick_font)
        tick = QPen(QColor(TICK), 1)
        for box, text in self.hour_labels():
            x = area.left() + int(text[:2]) / HOURS * area.width()
            painter.setPen(tick)
            painter.drawLine(QPointF(x, area.bottom()), QPointF(x, area.bottom() + 3))
            painter.setPen(QColor(MUTED))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        if at is None or not self.day_start <= at <= end:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        x = self.x_of(at)
        width = max(2.0, self.text_px / 9)
        painter.setPen(QPen(QColor(PLAYHEAD), width))
        painter.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()))
        knob = max(4.0, self.text_px * 0.35)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(PLAYHEAD))
        top = area.top()
        painter.drawPolygon(
            QPolygonF([QPointF(x - knob, top), QPointF(x + knob, top), QPointF(x, top + knob)])
        )
        if self.dragging is not None:  # where the seek will go, beside the line
            text = local_text(self.dragging, "%H:%M")
            metrics = QFontMetricsF(self.tick_font)
            pad = max(2.0, self.text_px * 0.25)
            box_width = metrics.horizontalAdvance(text) + 2 * pad
            left = x + knob if x + knob + box_width <= self.width() else x - knob - box_width
            box = QRectF(left, top, box_width, metrics.height())
            painter.setBrush(QColor(BANNER))
            painter.drawRect(box)
            painter.setPen(QColor(PLAYHEAD))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Put the playhead under the mouse at once."""
        if event.button() != Qt.MouseButton.LeftButton or not self.has_day:
            super().mousePressEvent(event)
            return
        self.dragging = self.moment_at(event.position().x())
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Follow the mouse while the button is down; no seek yet."""
        if self.dragging is None:
            super().mouseMoveEvent(event)
            return
        self.dragging = self.moment_at(event.position().x())
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """One seek, to the moment under the mouse where the button came up."""
        if self.dragging is None or event.button() != Qt.MouseButton.LeftButton:
            super().mouseReleaseEvent(event)
            return
        moment = self.moment_at(event.position().x())
        self.dragging = None
        self.pending, self.pending_since = moment, time.monotonic()
        self.update()
        self.released.emit(moment)

    def hideEvent(self, event: QHideEvent) -> None:
        """Hidden mid-drag (back to live): the drag is dropped, nothing is sought."""
        super().hideEvent(event)
        self.dragging = None

    def event(self, event: QEvent) -> bool:
        """A tooltip with the hour under the mouse and its arrivals."""
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            area = self.area()
            hour = int((event.pos().x() - area.left()) / area.width() * HOURS)
            if 0 <= hour < len(self.curve):
                text = self.tr("%s–%s 接报 %s 件") % (
                    f"{hour:02d}:00",
                    f"{hour + 1:02d}:00",
                    self.curve[hour],
                )
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)


class TimeBar(QWidget):
    """The replay bar: a violet banner "回放 YYYY-MM-DD HH:MM · 非实时", the previous and next
    day around the date, a time field (HH:MM, Enter seeks in the day shown), the day's curve
    (click or drag to seek), play/pause, the speed, one step, and back to live.

    Keys, while the bar has the focus or is visible in its window (a key a focused widget
    uses itself, e.g. Right in the time field or Space on a button, stays with it, and a
    shortcut the window binds itself wins): Space plays or pauses, Right steps to the next
    change, End goes back to live.

    set_position() is cheap (called up to ~30 times a second): it repaints the curve and,
    when the minute changes, the banner's text, which has a fixed size: no relayout. The
    bar runs no timer of its own.
    """

    seekRequested = Signal(float)
    playRequested = Signal(float)
    pauseRequested = Signal()
    stepRequested = Signal()
    liveRequested = Signal()
    SPEEDS = (1.0, 10.0, 60.0, 600.0, 3600.0)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timeBar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # a click on the curve: the keys work
        self._day: float | None = None
        self._at: float | None = None
        self._minute: int | None = None
        self._playing = False
        self._speed = self.SPEEDS[0]
        self._busy = False
        self._backend_message = ""
        self._field_message = ""
        self._window: QWidget | None = None
        self.text_px = DEFAULT_TEXT_PX

        self.banner = ElidedLabel("", self)
        self.banner.setObjectName("replayBanner")
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.previous_day = self._button("previousDay")
        self.date = ElidedLabel("", self)
        self.date.setObjectName("replayDate")
        self.date.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.next_day = self._button("nextDay")
        self.time_field = QLineEdit(self)
        self.time_field.setObjectName("replayTime")
        self.time_field.setMaxLength(5)
        self.time_field.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.time_field.setProperty("invalid", False)
        self.busy = ElidedLabel("", self)
        self.busy.setObjectName("replayBusy")
        self.busy.hide()
        self.message = ElidedLabel("", self)
        self.message.setObjectName("replayMessage")
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.play = self._button("replayPlay")
        self.speeds = QButtonGroup(self)
        self.speeds.setExclusive(True)
        self.speed_buttons: list[QPushButton] = []
        for index, speed in enumerate(self.SPEEDS):
            button = self._button("replaySpeed")
            button.setCheckable(True)
            button.setText(f"{speed:g}×")
            button.setChecked(index == 0)
            self.speeds.addButton(button, index)
            self.speed_buttons.append(button)
        self.step = self._button("replayStep")
        self.live = self._button("replayLive")
        self.curve = ReplayCurve(self)

        self.previous_day.clicked.connect(lambda: self._day_seek(-1))
        self.next_day.clicked.connect(lambda: self._day_seek(1))
        self.time_field.returnPressed.connect(self._time_entered)
        self.time_field.textEdited.connect(self._time_edited)
        self.curve.released.connect(self.seekRequested)
        self.play.clicked.connect(self.toggle_play)
        self.speeds.idClicked.connect(self._speed_chosen)
        self.step.clicked.connect(self.stepRequested)
        self.live.clicked.connect(self.liveRequested)

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.banner)
        row.addWidget(self.previous_day)
        row.addWidget(self.date)
        row.addWidget(self.next_day)
        row.addWidget(self.time_field)
        row.addWidget(self.busy)
        row.addWidget(self.message, 1)
        row.addWidget(self.play)
        speeds = QHBoxLayout()
        speeds.setSpacing(0)  # one segmented control
        for button in self.speed_buttons:
            speeds.addWidget(button)
        row.addLayout(speeds)
        row.addWidget(self.step)
        row.addWidget(self.live)
        self._row = row
        layout = QVBoxLayout(self)
        layout.addWidget(self.curve)
        layout.addLayout(row)
        for first, second in zip(
            [self.previous_day, self.next_day, self.time_field, self.play, *self.speed_buttons],
            [self.next_day, self.time_field, self.play, *self.speed_buttons, self.step],
            strict=True,
        ):
            QWidget.setTabOrder(first, second)
        QWidget.setTabOrder(self.step, self.live)
        self._retranslate()
        self._enable_days()
        self.set_text_px(DEFAULT_TEXT_PX)

    def _button(self, name: str) -> QPushButton:
        button = QPushButton(self)
        button.setObjectName(name)
        button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        button.setAutoDefault(True)  # Enter presses the focused button, as Space does
        return button

    # -- the data ---------------------------------------------------------------------------

    def set_day(
        self, day_start: float, curve: Sequence[int], earliest: float, latest: float
    ) -> None:
        """The day shown (its local midnight), its arrivals per hour (24 bins; fewer: the day
        is not over) and the bounds of the kept history one may seek within."""
        self._day = day_start
        self.curve.set_day(day_start, curve, earliest, latest)
        self.date.set_full_text(local_text(day_start, "%Y-%m-%d"))
        if self._at is None:
            self._at = day_start
            self._show_banner()
        self._enable_days()

    def set_position(self, at: float, playing: bool, speed: float) -> None:
        """The playhead: the moment shown, whether it plays and how fast. Cheap: it repaints
        the curve and, on a new minute, the banner (of fixed size: no relayout)."""
        self._at = at
        curve = self.curve
        if curve.at != at:
            curve.at = at
            if curve.pending is not None and (
                abs(at - curve.pending) < 61
                or (not self._busy and time.monotonic() - curve.pending_since > 1.0)
            ):
                curve.pending = None
            curve.update()
        if int(at // 60) != self._minute:
            self._show_banner()
        if playing != self._playing:
            self._playing = playing
            self._show_play()
        if speed != self._speed and speed in self.SPEEDS:
            self._speed = speed
            self.speed_buttons[self.SPEEDS.index(speed)].setChecked(True)

    def set_busy(self, busy: bool) -> None:
        """A seek is under way ("正在载入…"); the controls stay usable."""
        if busy == self._busy:
            return
        self._busy = busy
        self.busy.setVisible(busy)
        if not busy:
            self.curve.pending = None
            self.curve.update()

    def set_message(self, text: str) -> None:
        """An error or a note from the backend, shown as text ("" clears it)."""
        self._backend_message = text
        self._show_message()

    def set_text_px(self, px: int) -> None:
        """The size of every text of the bar (a wall's readable size); spacing follows it."""
        self.text_px = px = max(6, int(px))
        pad = max(2, round(px * 0.3))
        wide = max(4, round(px * 0.6))
        radius = max(2, round(px * 0.2))
        band = max(2, round(px * 0.18))
        self.setStyleSheet(
            f"""
            #timeBar {{ background: {BAR_BACKGROUND}; border-top: {band}px solid {BAND}; }}
            #timeBar QLabel, #timeBar QPushButton, #timeBar QLineEdit {{ font-size: {px}px; }}
            #replayBanner {{ background: {BANNER}; color: #ffffff; font-weight: bold;
                             border: 1px solid {BAND}; border-radius: {radius}px;
                             padding: {pad}px {wide}px; }}
            #replayDate {{ color: {TEXT}; font-weight: bold; }}
            #replayBusy {{ color: {MUTED}; }}
            #replayMessage {{ color: {NOTE}; }}
            #replayMessage[error="true"] {{ color: {ERROR}; }}
            #timeBar QPushButton {{ background: {BUTTON}; color: {TEXT}; border: 1px solid {BORDER};
                                    border-radius: {radius}px; padding: {pad}px {wide}px; }}
            #timeBar QPushButton:hover {{ border-color: {PLAYED}; }}
            #timeBar QPushButton:pressed {{ background: #0d1f38; }}
            #timeBar QPushButton:focus {{ border: 2px solid #ffffff; }}
            #timeBar QPushButton:disabled {{ color: #5a6b85; background: transparent;
                                      border-color: #2a3550; }}
            #timeBar QPushButton#replaySpeed {{ border-radius: 0px; padding: {pad}px {pad}px; }}
            #timeBar QPushButton#replaySpeed:checked {{ background: {BANNER}; color: #ffffff;
                                                        border-color: {BAND}; }}
            #timeBar QPushButton#replayLive {{ background: #135200; border-color: #52c41a; }}
            #timeBar QLineEdit {{ background: #0d1f38; color: {TEXT}; border: 1px solid #3d5f99;
                                  border-radius: {radius}px; padding: {pad}px {pad}px; }}
            #timeBar QLineEdit:focus {{ border: 2px solid #ffffff; }}
            #timeBar QLineEdit[invalid="true"] {{ border: 2px solid {ERROR}; }}
            """
        )
        margin = max(4, round(px * 0.5))
        layout = self.layout()
        if layout is not None:
            layout.setContentsMargins(margin, band + max(2, round(px * 0.2)), margin, margin)
            layout.setSpacing(max(2, round(px * 0.25)))
        self._row.setSpacing(max(4, round(px * 0.45)))
        self.curve.set_text_px(px)
        side = max(6, round(px * 0.85))
        for button, pointing in ((self.previous_day, -1), (self.next_day, 1)):
            button.setIcon(_triangle(side, pointing))
            button.setIconSize(QSize(side, side))
        self._fix_sizes()

    def banner_text(self) -> str:
        """The banner's words: "回放 2026-11-24 09:40 · 非实时"."""
        stamp = local_text(self._at) if self._at is not None else "—"
        return self.tr("回放 %s · 非实时") % stamp

    # -- the controls -----------------------------------------------------------------------

    def toggle_play(self) -> None:
        """Pause while playing; else play at the speed chosen."""
        if self._playing:
            self.pauseRequested.emit()
        else:
            self.playRequested.emit(self.speed())

    def speed(self) -> float:
        """The speed chosen (district seconds per real second)."""
        return self.SPEEDS[max(0, self.speeds.checkedId())]

    def is_playing(self) -> bool:
        """Whether the last position said it plays."""
        return self._playing

    def _speed_chosen(self, index: int) -> None:
        if self._playing:
            self.playRequested.emit(self.SPEEDS[index])

    def _day_seek(self, days: int) -> None:
        if self._day is None:
            return
        at = self._at if self._at is not None else self._day
        moment = at + days * DAY
        moment = min(max(moment, self.curve.earliest), self.curve.latest)
        self.seekRequested.emit(moment)

    def _time_entered(self) -> None:
        text = self.time_field.text()
        offset = parse_time_of_day(text)
        if self._day is None:
            self._field_error(self.tr("尚无可回放的日期"))
            return
        if offset is None:
            self._field_error(self.tr("时间“%s”无效：请输入 00:00 至 23:59，如 09:40") % text)
            return
        moment = self._day + offset
        earliest, latest = self.curve.earliest, self.curve.latest
        if not earliest <= moment <= latest:
            self._field_error(
                self.tr("%s 不在可回放的范围内（%s 至 %s）")
                % (local_text(moment), local_text(earliest), local_text(latest))
            )
            return
        self._field_error("")
        self.time_field.clear()  # the banner says where replay is; a stale time here would not
        self.seekRequested.emit(moment)

    def _time_edited(self, _text: str) -> None:
        if self._field_message:
            self._field_error("")

    def _field_error(self, text: str) -> None:
        self._field_message = text
        if bool(text) != self.time_field.property("invalid"):
            self.time_field.setProperty("invalid", bool(text))
            self.time_field.style().unpolish(self.time_field)
            self.time_field.style().polish(self.time_field)
        self._show_message()

    def message_text(self) -> str:
        """What the message place says: the time field's error first, else the backend's."""
        return self._field_message or self._backend_message

    def _show_message(self) -> None:
        error = bool(self._field_message)
        if error != bool(self.message.property("error")):
            self.message.setProperty("error", error)
            self.message.style().unpolish(self.message)
            self.message.style().polish(self.message)
        self.message.set_full_text(self.message_text())

    def _enable_days(self) -> None:
        day = self._day
        self.previous_day.setEnabled(day is not None and day > self.curve.earliest)
        self.next_day.setEnabled(day is not None and day + DAY <= self.curve.latest)
        self.time_field.setEnabled(day is not None)

    # -- showing ----------------------------------------------------------------------------

    def _show_banner(self) -> None:
        self._minute = int(self._at // 60) if self._at is not None else None
        self.banner.set_full_text(self.banner_text())

    def _show_play(self) -> None:
        self.play.setText(self.tr("暂停") if self._playing else self.tr("播放"))

    def _retranslate(self) -> None:
        # Arrows around the date (a pager): the words are the tooltip and what a screen reader says.
        self.previous_day.setAccessibleName(self.tr("前一天"))
        self.next_day.setAccessibleName(self.tr("后一天"))
        self.previous_day.setToolTip(self.tr("前一天的同一时刻"))
        self.next_day.setToolTip(self.tr("后一天的同一时刻"))
        self.time_field.setPlaceholderText(self.tr("时:分"))
        self.time_field.setToolTip(self.tr("输入时:分后按回车，跳到这一天的该时刻"))
        self.busy.set_full_text(self.tr("正在载入…"))
        self.play.setToolTip(self.tr("播放或暂停（空格）"))
        for button, speed in zip(self.speed_buttons, self.SPEEDS, strict=True):
            button.setToolTip(self.tr("回放速度：每秒 %s 秒") % f"{speed:g}")
        self.step.setText(self.tr("一步"))
        self.step.setToolTip(self.tr("前进到下一次变化（→）"))
        self.live.setText(self.tr("回到实时 (End)"))
        self.live.setToolTip(self.tr("结束回放，显示实时数据"))
        self._show_play()
        self._show_banner()

    def _fix_sizes(self) -> None:
        """Fixed sizes for what set_position changes (the banner, play/pause), so that a new
        text never asks for a relayout; each as wide as its widest text."""
        for child in self.findChildren(QWidget):
            child.ensurePolished()
        banner = self.banner
        digits = max("0123456789", key=banner.fontMetrics().horizontalAdvance)
        day = f"{digits * 4}-{digits * 2}-{digits * 2}"
        sample = self.tr("回放 %s · 非实时") % f"{day} {digits * 2}:{digits * 2}"
        banner.setFixedSize(_room(banner, sample), banner.sizeHint().height())
        self.date.setFixedWidth(_room(self.date, day))
        play = self.play
        texts = (self.tr("播放"), self.tr("暂停"))
        widest = max(play.fontMetrics().horizontalAdvance(t) for t in texts)
        chrome = play.sizeHint().width() - play.fontMetrics().horizontalAdvance(play.text())
        play.setFixedWidth(chrome + widest)
        field = self.time_field
        metrics = field.fontMetrics()
        room = max(
            metrics.horizontalAdvance("00:00"), metrics.horizontalAdvance(field.placeholderText())
        )
        field.setFixedWidth(room + round(self.text_px * 1.6))
        height = max(play.sizeHint().height(), field.sizeHint().height())
        for widget in (banner, field, *self.findChildren(QPushButton)):
            widget.setFixedHeight(height)

    # -- keys -------------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Space plays or pauses, Right steps, End goes live (when no child used the key)."""
        if not self._key(event):
            super().keyPressEvent(event)

    def _key(self, event: QKeyEvent) -> bool:
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        key = event.key()
        if key == Qt.Key.Key_Space:
            self.toggle_play()
        elif key == Qt.Key.Key_Right:
            self.stepRequested.emit()
        elif key == Qt.Key.Key_End:
            self.liveRequested.emit()
        else:
            return False
        event.accept()
        return True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The window's keys that nothing else used, while the bar is visible in it."""
        if (
            watched is self._window
            and watched is not self
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and self.isVisible()
        ):
            return self._key(event)
        return super().eventFilter(watched, event)

    def showEvent(self, event: QShowEvent) -> None:
        """Listen to the window's unused keys while shown."""
        super().showEvent(event)
        window = self.window()
        if window is not self._window:
            self._forget_window()
            self._window = window
            if window is not self:
                window.installEventFilter(self)

    def hideEvent(self, event: QHideEvent) -> None:
        """Hidden: the window's keys are its own again."""
        super().hideEvent(event)
        self._forget_window()

    def _forget_window(self) -> None:
        window, self._window = self._window, None
        # The window may be gone already: the bar hides while its window is destroyed.
        if window is not None and window is not self and shiboken6.isValid(window):
            window.removeEventFilter(self)

    def changeEvent(self, event: QEvent) -> None:
        """A new language: every text again."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
            self._fix_sizes()
