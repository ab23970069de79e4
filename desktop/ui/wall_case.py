"""The case opened on the wall: the desk's card and audit timeline (desktop/ui/case_sheet),
large over the map and the figures left of it (the queue it was opened from stays in view),
read only, with what visitors must not read masked.

A queue row, a marker or a supervision item opens it; Esc, its close button or a minute
without anyone touching the wall closes it, so an unattended wall goes back to the district.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.core.replica import Changes, Replica
from desktop.ui.case_sheet import CaseSheet, History

CLOSE_AFTER_MS = 60_000  # an opened case left alone this long closes
TEXT_SCALE = 2.0  # the desk's card sizes times this at 1080p: read from 5 m


class WallCase(QFrame):
    """One case, shown large over the map until closed."""

    closed = Signal()
    photoWanted = Signal(int, str)  # alert id, snapshot path

    def __init__(
        self,
        replica: Replica,
        clock: Callable[[], float],
        area: Callable[[], QRect],
        anchor: QWidget,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("wallCase")
        self.setFrameShape(QFrame.Shape.Box)
        self.setAutoFillBackground(True)
        self.sheet = CaseSheet(replica, lambda: "wall", None, clock, self)
        self.sheet.photoWanted.connect(self.photoWanted)
        self.title = QLabel(self.tr("案件详情 · Esc 关闭"), self)
        self.title.setObjectName("wallCaseTitle")
        self.close_button = QPushButton("✕", self)
        self.close_button.setObjectName("wallCaseClose")
        self.close_button.setFlat(True)
        self.close_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.close_button.clicked.connect(self.close_case)
        bar = QHBoxLayout()
        bar.addWidget(self.title, 1)
        bar.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.sheet, 1)
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.setInterval(CLOSE_AFTER_MS)
        self._idle.timeout.connect(self.close_case)
        self._scale = 0.0
        self.set_scale(1.0)
        self._area = area
        anchor.installEventFilter(self)  # placed again whenever the map moves or resizes
        self.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Follow the parent's size."""
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Move) and self.isVisible():
            self.place()
        return False

    @property
    def event_id(self) -> int | None:
        """The case shown (None when closed)."""
        return self.sheet.event_id if self.isVisible() else None

    def set_history(self, history: History | None) -> None:
        """Where the timeline is read from (the session's `history`)."""
        self.sheet.set_history(history)

    def set_scale(self, scale: float) -> None:
        """The wall's scale (1 at 1080p): the card's text is TEXT_SCALE times the desk's."""
        if abs(scale - self._scale) < 0.01:
            return
        self._scale = scale
        self.sheet.card.set_scale(TEXT_SCALE * scale)
        size = round(28 * scale)
        self.setStyleSheet(
            f"#wallCase {{ background: #0f213b; border: {max(1, round(2 * scale))}px solid "
            f"#5b8def; }} #wallCaseTitle {{ color: #8fb3e8; font-size: {size}px; }} "
            f"#wallCaseClose {{ color: #e8f1ff; font-size: {size}px; border: none; }}"
        )

    def open_case(self, event_id: int) -> None:
        """Show a case over the map (another one open is replaced)."""
        self.sheet.show_case(event_id)
        self.place()
        self.show()
        self.raise_()
        self._idle.start()

    def close_case(self) -> None:
        """Close the case (back to the map)."""
        if not self.isVisible():
            return
        self._idle.stop()
        self.hide()
        self.sheet.show_case(None)
        self.closed.emit()

    def touched(self) -> None:
        """Someone used the wall: the case stays open another minute."""
        if self.isVisible():
            self._idle.start()

    def place(self) -> None:
        """Cover the area the wall gives it (the map and what is left of it)."""
        self.setGeometry(self._area())

    def on_flush(self, changes: Changes) -> None:
        """A frame's changes: the open case redrawn if it changed."""
        shown = self.sheet.event_id
        if self.isVisible() and (
            changes.reset or shown in changes.events or shown in changes.risks
        ):
            self.sheet.refresh()

    def every_second(self) -> None:
        """The clock moved: countdowns."""
        if self.isVisible():
            self.sheet.refresh(timeline=False)

    def photo_loaded(self, alert_id: int, pixmap: QPixmap) -> None:
        """A snapshot arrived: shown if it is the open case's."""
        if self.isVisible():
            self.sheet.photo_loaded(alert_id, pixmap)
