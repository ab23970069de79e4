"""One case on the desk: header (code, status, countdown), title, key facts, description,
badges, the photo and the handling record, all from plain data and all as plain text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from widgets.fit_text import ElidedLabel, breakable
from widgets.flow_layout import FlowLayout

Tone = Literal["normal", "warn", "alarm", "good"]
FIELD_LABEL_MAX_WIDTH = 110  # about seven characters at 14 px
PHOTO_MAX_HEIGHT = 360  # a photo never pushes the facts and the record off a 1080p desk


def style(scale: float = 1.0) -> str:
    """The card's stylesheet with every size times `scale` (the wall reads it from across a
    room)."""

    def px(size: int) -> int:
        return max(1, round(size * scale))

    return f"""
#caseCard {{ background: #0f213b; }}
QLabel {{ color: #e8f1ff; font-size: {px(14)}px; }}
#casePlaceholder, #timelineEmpty {{ color: #8fb3e8; font-size: {px(15)}px; }}
#caseCode {{ color: #ffffff; font-size: {px(15)}px; font-weight: bold; }}
#caseStatus, #caseCountdown {{ font-size: {px(14)}px; padding: {px(1)}px {px(8)}px;
    border-radius: {px(4)}px; border: {px(1)}px solid #1f3b73; background: #16325c;
    color: #e8f1ff; }}
#caseStatus[tone="warn"], #caseCountdown[tone="warn"] {{
    color: #ffb300; border-color: #ffb300; background: #3d2e0a; }}
#caseStatus[tone="alarm"], #caseCountdown[tone="alarm"] {{
    color: #ff7875; border-color: #ff4d4f; background: #4a1418; }}
#caseStatus[tone="good"], #caseCountdown[tone="good"] {{
    color: #73d13d; border-color: #52c41a; background: #173a12; }}
#caseTitle {{ color: #ffffff; font-size: {px(17)}px; font-weight: bold; }}
#caseFieldLabel {{ color: #8fb3e8; }}
#caseDescription {{ color: #e8f1ff; }}
#caseFlag {{ color: #ffd666; border: {px(1)}px solid #ad8b00; border-radius: {px(4)}px;
    padding: 0 {px(6)}px; background: #2b2410; font-size: {px(13)}px; }}
#caseSection {{ color: #8fb3e8; font-size: {px(14)}px; font-weight: bold;
    border-left: {px(3)}px solid #5b8def; padding-left: {px(6)}px; }}
#timelineNote {{ color: #ffb300; }}
#timelineTime {{ color: #8fb3e8; font-family: monospace; }}
#timelineHead {{ color: #e8f1ff; font-weight: bold; }}
#timelineText {{ color: #c9d8f0; }}
#timelineEntry {{ border-bottom: {px(1)}px solid #1a3358; }}
QScrollArea, #caseDetailsBody, #timelineBody {{ background: transparent; border: none; }}
QSplitter::handle {{ background: #1f3b73; }}
"""


STYLE = style()


@dataclass(frozen=True, slots=True)
class CaseView:
    """What the card shows of a case; `fields` are (label, value) rows in order, `flags` short
    badges (督办, 会商, 挂账…), the countdown already formatted (e.g. "剩 2小时15分")."""

    code: str
    title: str
    status_text: str
    tone: Tone = "normal"
    fields: list[tuple[str, str]] = field(default_factory=list)
    description: str = ""
    countdown_text: str = ""
    flags: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One step of the handling record: when (formatted), who, what, the status after, a note."""

    time_text: str
    actor: str
    action_text: str
    status_text: str = ""
    text: str = ""


def _wrapping(name: str, selectable: bool = False) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _set_text(label: QLabel, text: str) -> None:
    text = breakable(text)
    if label.text() != text:
        label.setText(text)


def _set_tone(widget: QWidget, tone: str) -> None:
    if widget.property("tone") != tone:
        widget.setProperty("tone", tone)
        widget.style().unpolish(widget)  # property selectors are matched at polish time
        widget.style().polish(widget)


class Photo(QWidget):
    """A picture scaled to the width with its aspect kept, never taller than `max_height`
    nor larger than itself; hidden when there is none."""

    def __init__(self, parent: QWidget | None = None, max_height: int = PHOTO_MAX_HEIGHT) -> None:
        super().__init__(parent)
        self.setObjectName("casePhoto")
        self.max_height = max_height
        self._pixmap: QPixmap | None = None
        self._scaled: QPixmap | None = None
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.hide()

    def pixmap(self) -> QPixmap | None:
        """The picture shown, or None."""
        return self._pixmap

    def set_pixmap(self, pixmap: QPixmap | None) -> None:
        """Show `pixmap` (None or a null pixmap hides the photo)."""
        self._pixmap = pixmap if pixmap is not None and not pixmap.isNull() else None
        self._scaled = None
        self.setVisible(self._pixmap is not None)
        self.updateGeometry()
        self.update()

    def hasHeightForWidth(self) -> bool:
        """The height follows the width."""
        return True

    def heightForWidth(self, width: int) -> int:
        """The scaled height at `width` (0 without a picture)."""
        if self._pixmap is None:
            return 0
        size = self._pixmap.deviceIndependentSize()
        height = size.height() * min(1.0, width / max(1.0, size.width()))
        return int(min(self.max_height, height))

    def sizeHint(self) -> QSize:
        """The picture's own size, within the height limit."""
        if self._pixmap is None:
            return QSize(0, 0)
        width = int(self._pixmap.deviceIndependentSize().width())
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:
        """It shrinks to any width."""
        return QSize(0, 0)

    def target_size(self) -> QSize:
        """The size the picture is drawn at in the current geometry."""
        if self._pixmap is None:
            return QSize(0, 0)
        size = self._pixmap.deviceIndependentSize().toSize()
        bound = QSize(min(self.width(), size.width()), min(self.height(), size.height()))
        return size.scaled(bound, Qt.AspectRatioMode.KeepAspectRatio)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Draw the picture at the left, scaled once per size."""
        if self._pixmap is None:
            return
        target = self.target_size()
        ratio = self.devicePixelRatioF()
        if self._scaled is None or self._scaled.deviceIndependentSize().toSize() != target:
            self._scaled = self._pixmap.scaled(
                target * ratio,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            self._scaled.setDevicePixelRatio(ratio)
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._scaled)
        painter.end()


class TimelineRow(QFrame):
    """One entry of the handling record: time, then who did what (and the status after), then
    the entry's text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timelineEntry")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 4, 2, 6)
        layout.setSpacing(2)
        top = QHBoxLayout()
        top.setSpacing(10)
        self.time = ElidedLabel(parent=self)
        self.time.setObjectName("timelineTime")
        self.head = _wrapping("timelineHead")
        top.addWidget(self.time, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.head, 1)
        layout.addLayout(top)
        self.text = _wrapping("timelineText", selectable=True)
        layout.addWidget(self.text)
        self.entry: TimelineEntry | None = None

    def show_entry(self, entry: TimelineEntry) -> None:
        """Show `entry` (unchanged entries cost nothing)."""
        if entry == self.entry:
            return
        self.entry = entry
        self.time.set_full_text(entry.time_text)
        head = "  ".join(part for part in (entry.actor, entry.action_text) if part)
        if entry.status_text:
            head += f" → {entry.status_text}"
        _set_text(self.head, head)
        _set_text(self.text, entry.text)
        self.text.setVisible(bool(entry.text))


class CaseCard(QFrame):
    """The selected case; `show_case` again with the same code updates it in place (scroll
    positions kept), a new code starts over (record loading, no photo)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("caseCard")
        self.setStyleSheet(STYLE)
        self.scale = 1.0
        self._view: CaseView | None = None
        self._entries: list[TimelineEntry] | None = None
        self._follow = True  # keep the record scrolled to its newest entry

        outer = QVBoxLayout(self)
        outer.setContentsMargins(12, 10, 12, 10)
        outer.setSpacing(6)
        self.placeholder = QLabel(self.tr("选择一个案件"))
        self.placeholder.setObjectName("casePlaceholder")
        self.placeholder.setTextFormat(Qt.TextFormat.PlainText)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        outer.addWidget(self.placeholder, 1)

        self.body = QWidget()
        outer.addWidget(self.body, 1)
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(6)

        header = QHBoxLayout()
        header.setSpacing(8)
        self.code = ElidedLabel()
        self.code.setObjectName("caseCode")
        self.code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = ElidedLabel()
        self.status.setObjectName("caseStatus")
        self.countdown = ElidedLabel()
        self.countdown.setObjectName("caseCountdown")
        header.addWidget(self.code, 0)
        header.addWidget(self.status, 0)
        header.addStretch(1)
        header.addWidget(self.countdown, 0)
        body.addLayout(header)

        self.title = _wrapping("caseTitle", selectable=True)
        body.addWidget(self.title)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        body.addWidget(self.splitter, 1)

        self.details = QScrollArea()
        self.details.setObjectName("caseDetails")
        self.details.setWidgetResizable(True)
        self.details.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.details.setFrameShape(QFrame.Shape.NoFrame)
        details_body = QWidget()
        details_body.setObjectName("caseDetailsBody")
        details = QVBoxLayout(details_body)
        details.setContentsMargins(0, 0, 4, 0)
        details.setSpacing(8)
        self._grid = QGridLayout()
        self._grid.setHorizontalSpacing(12)
        self._grid.setVerticalSpacing(4)
        self._grid.setColumnStretch(1, 1)
        self._field_labels: list[tuple[QLabel, QLabel]] = []
        details.addLayout(self._grid)
        self.description = _wrapping("caseDescription", selectable=True)
        details.addWidget(self.description)
        self.flags = QWidget()
        self._flag_layout = FlowLayout(self.flags, 6, 4)
        self._flag_layout.setContentsMargins(0, 0, 0, 0)
        self._flag_labels: list[ElidedLabel] = []
        details.addWidget(self.flags)
        self.photo = Photo()
        details.addWidget(self.photo)
        details.addStretch(1)
        self.details.setWidget(details_body)
        self.splitter.addWidget(self.details)

        record = QWidget()
        record_layout = QVBoxLayout(record)
        record_layout.setContentsMargins(0, 6, 0, 0)
        record_layout.setSpacing(4)
        self.record_title = QLabel(self.tr("处理记录"))
        self.record_title.setObjectName("caseSection")
        self.record_title.setTextFormat(Qt.TextFormat.PlainText)
        record_layout.addWidget(self.record_title)
        self.timeline_note = _wrapping("timelineNote")
        record_layout.addWidget(self.timeline_note)
        self.timeline_empty = _wrapping("timelineEmpty")
        record_layout.addWidget(self.timeline_empty)
        self.timeline = QScrollArea()
        self.timeline.setObjectName("caseTimeline")
        self.timeline.setWidgetResizable(True)
        self.timeline.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.timeline.setFrameShape(QFrame.Shape.NoFrame)
        timeline_body = QWidget()
        timeline_body.setObjectName("timelineBody")
        self._rows_layout = QVBoxLayout(timeline_body)
        self._rows_layout.setContentsMargins(0, 0, 4, 0)
        self._rows_layout.setSpacing(0)
        self._rows_layout.addStretch(1)  # few entries sit at the top
        self._rows: list[TimelineRow] = []
        self.timeline.setWidget(timeline_body)
        record_layout.addWidget(self.timeline, 1)
        self.splitter.addWidget(record)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([600, 400])  # the facts over the record, 3:2, until dragged

        bar = self.timeline.verticalScrollBar()
        bar.rangeChanged.connect(self._range_changed)
        bar.valueChanged.connect(self._scrolled)
        self.show_case(None)

    # -- public ---------------------------------------------------------------------------

    def view(self) -> CaseView | None:
        """The case shown, or None."""
        return self._view

    def timeline_entries(self) -> list[TimelineEntry] | None:
        """The record shown (None while loading)."""
        return None if self._entries is None else list(self._entries)

    def show_case(self, view: CaseView | None) -> None:
        """Show `view` (None: the placeholder). The same code updates in place; another code
        also clears the photo and puts the record back to loading."""
        previous = self._view
        if view == previous and view is not None:
            return
        self.setUpdatesEnabled(False)
        try:
            self._view = view
            if view is None:
                self.body.hide()
                self.placeholder.show()
                self.set_image(None)
                self._reset_timeline()
                return
            if previous is None or previous.code != view.code:
                self.set_image(None)
                self._reset_timeline()
                self.details.verticalScrollBar().setValue(0)
            self._fill(view)
            self.placeholder.hide()
            self.body.show()
        finally:
            self.setUpdatesEnabled(True)

    def set_timeline(self, entries: list[TimelineEntry] | None, note: str = "") -> None:
        """Show the handling record, oldest first (None: loading), with an optional note
        (e.g. why it could not be loaded)."""
        self.setUpdatesEnabled(False)
        try:
            self._set_entries(entries, note)
        finally:
            self.setUpdatesEnabled(True)

    def set_image(self, pixmap: QPixmap | None) -> None:
        """The case's photo (None: none)."""
        self.photo.set_pixmap(pixmap)

    def set_scale(self, scale: float) -> None:
        """Every text and the photo's height times `scale` (1 on a desk)."""
        if abs(scale - self.scale) < 0.01:
            return
        self.scale = scale
        self.setStyleSheet(style(scale))
        self.photo.max_height = round(PHOTO_MAX_HEIGHT * scale)
        self.photo.updateGeometry()
        for name, _ in self._field_labels:
            name.setMaximumWidth(round(FIELD_LABEL_MAX_WIDTH * scale))
        if self._view is not None:
            self._fill(self._view)

    # -- internals ------------------------------------------------------------------------

    def _fill(self, view: CaseView) -> None:
        self.code.set_full_text(view.code)
        self.status.set_full_text(view.status_text)
        self.status.setVisible(bool(view.status_text))
        _set_tone(self.status, view.tone)
        self.countdown.set_full_text(view.countdown_text)
        self.countdown.setVisible(bool(view.countdown_text))
        _set_tone(self.countdown, view.tone)
        _set_text(self.title, view.title)

        while len(self._field_labels) > len(view.fields):
            name, value = self._field_labels.pop()
            for label in (name, value):
                self._grid.removeWidget(label)
                label.hide()  # gone now, not when the deletion comes round
                label.deleteLater()
        for row, (name_text, value_text) in enumerate(view.fields):
            if row == len(self._field_labels):
                name = _wrapping("caseFieldLabel")
                name.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
                # A long label wraps, not the value.
                name.setMaximumWidth(round(FIELD_LABEL_MAX_WIDTH * self.scale))
                name.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
                value = _wrapping("caseFieldValue", selectable=True)
                self._grid.addWidget(name, row, 0, Qt.AlignmentFlag.AlignTop)
                self._grid.addWidget(value, row, 1)
                self._field_labels.append((name, value))
            name, value = self._field_labels[row]
            _set_text(name, name_text)
            _set_text(value, value_text)
            # A short label stays on one line (紧急程度, not 紧急程/度); a long one wraps.
            # Measured with the style sheet's font (a label made a moment ago has not been
            # polished yet: its default font is smaller, and the label stacked 类/别).
            name.ensurePolished()
            wanted = name.fontMetrics().horizontalAdvance(name_text) + 4
            name.setMinimumWidth(min(round(FIELD_LABEL_MAX_WIDTH * self.scale), wanted))

        _set_text(self.description, view.description)
        self.description.setVisible(bool(view.description))

        while len(self._flag_labels) > len(view.flags):
            badge = self._flag_labels.pop()
            self._flag_layout.removeWidget(badge)
            badge.hide()
            badge.deleteLater()
        for i, flag in enumerate(view.flags):
            if i == len(self._flag_labels):
                badge = ElidedLabel(parent=self.flags)
                badge.setObjectName("caseFlag")
                self._flag_layout.addWidget(badge)
                self._flag_labels.append(badge)
            self._flag_labels[i].set_full_text(flag)
        self.flags.setVisible(bool(view.flags))

    def _reset_timeline(self) -> None:
        for row in self._rows:
            self._rows_layout.removeWidget(row)
            row.hide()
            row.deleteLater()
        self._rows = []
        self._follow = True  # a new case's record opens at its newest entry
        self._set_entries(None, "")

    def _set_entries(self, entries: list[TimelineEntry] | None, note: str) -> None:
        # Loading again (None) keeps the rows shown: a refresh of the same case never blanks.
        if entries is not None and entries != self._entries:
            self._show_rows(entries)
        self._entries = None if entries is None else list(entries)
        _set_text(self.timeline_note, note)
        self.timeline_note.setVisible(bool(note))
        if entries is None:
            empty = self.tr("正在载入处理记录…")
        elif not entries:
            empty = self.tr("暂无处理记录")
        else:
            empty = ""
        if self.timeline_empty.text() != empty:
            self.timeline_empty.setText(empty)
        self.timeline_empty.setVisible(bool(empty))
        if self._follow:
            self._to_bottom()

    def _show_rows(self, entries: list[TimelineEntry]) -> None:
        while len(self._rows) > len(entries):
            row = self._rows.pop()
            self._rows_layout.removeWidget(row)
            row.hide()
            row.deleteLater()
        for i, entry in enumerate(entries):
            if i == len(self._rows):
                row = TimelineRow()
                self._rows_layout.insertWidget(self._rows_layout.count() - 1, row)
                self._rows.append(row)
            self._rows[i].show_entry(entry)

    def _to_bottom(self) -> None:
        bar = self.timeline.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _range_changed(self, _minimum: int, _maximum: int) -> None:
        if self._follow:
            self._to_bottom()

    def _scrolled(self, value: int) -> None:
        # The reader scrolled up: stay where they are; back at the bottom: follow again.
        self._follow = value >= self.timeline.verticalScrollBar().maximum()
