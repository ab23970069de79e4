"""A card over the map with one grid's details: its people and its open events."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QVBoxLayout, QWidget


class GridDetails(QFrame):
    """Non-modal; closes itself after `linger_ms` so a wall never keeps a stale card."""

    def __init__(self, parent: QWidget | None = None, linger_ms: int = 30_000) -> None:
        super().__init__(parent)
        self.setObjectName("gridDetails")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 12)
        self.close_button = QPushButton("×", self)
        self.close_button.setObjectName("gridDetailsClose")
        self.close_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.close_button.clicked.connect(self.hide)
        self.title = QLabel("")
        self.title.setObjectName("gridDetailsTitle")
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.people = QLabel("")
        self.people.setObjectName("gridDetailsPeople")
        self.people.setWordWrap(True)
        self.people.setTextFormat(Qt.TextFormat.PlainText)
        self.events = QLabel("")
        self.events.setObjectName("gridDetailsEvents")
        self.events.setWordWrap(True)
        self.events.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.title)
        layout.addWidget(self.people)
        layout.addWidget(self.events, 1)
        self._linger = QTimer(self)
        self._linger.setSingleShot(True)
        self._linger.setInterval(linger_ms)
        self._linger.timeout.connect(self.hide)
        self.hide()

    def show_grid(self, title: str, people: list[str], events: list[str], more: int = 0) -> None:
        """Fill and show the card (replacing what it showed)."""
        self.title.setText(title)
        self.people.setText("\n".join(people) if people else self.tr("网格员信息暂缺"))
        lines = events if events else [self.tr("暂无在办事件")]
        if more:
            lines = [*lines, self.tr("另有 %s 件…") % more]
        self.events.setText("\n".join(lines))
        self.adjustSize()
        self.show()
        self.raise_()
        self._linger.start()

    def resizeEvent(self, event: object) -> None:
        """Keep the close button in the top-right corner."""
        size = self.close_button.sizeHint()
        self.close_button.setGeometry(
            self.width() - size.width() - 4, 4, size.width(), size.height()
        )
        super().resizeEvent(event)  # type: ignore[arg-type]
