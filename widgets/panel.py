"""A titled panel for a wall: a title bar (with room for controls) over one content widget."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget


class Panel(QFrame):
    """Title on the left, optional controls on the right, the content below."""

    def __init__(self, title: str, content: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 10)
        layout.setSpacing(6)
        bar = QHBoxLayout()
        bar.setSpacing(8)
        self.title = QLabel(title)
        self.title.setObjectName("panelTitle")
        self.count = QLabel("")
        self.count.setObjectName("panelCount")
        bar.addWidget(self.title)
        bar.addWidget(self.count)
        bar.addStretch(1)
        self._bar = bar
        layout.addLayout(bar)
        layout.addWidget(content, 1)
        self.content = content

    def add_control(self, widget: QWidget) -> None:
        """Put a control (a filter, a button) in the title bar."""
        self._bar.addWidget(widget)

    def set_count(self, text: str) -> None:
        """A short figure next to the title (e.g. how many rows)."""
        self.count.setText(text)
