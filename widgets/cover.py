"""A calm note laid over a view's rows while what they would show is not whole yet.

It covers the view's viewport exactly (an opaque label, its child), so the rows under it are
not seen, while the view keeps its place, its header and its size: showing or hiding the
cover moves nothing.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QAbstractScrollArea, QLabel


class Cover(QLabel):
    """A centred note over the whole of `view`'s viewport, following its size; hidden at
    first. Style it by its object name ("cover" unless given): give it an opaque
    background."""

    def __init__(self, text: str, view: QAbstractScrollArea, name: str = "cover") -> None:
        viewport = view.viewport()
        super().__init__(text, viewport)
        self._viewport = viewport
        self.setObjectName(name)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        # Painted whole even without a style sheet: the rows under it never show through.
        self.setAutoFillBackground(True)
        self.resize(viewport.size())
        viewport.installEventFilter(self)  # only the viewport's own events: its resizes
        self.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Follow the viewport's size."""
        if event.type() == QEvent.Type.Resize and watched is self._viewport:
            self.resize(self._viewport.size())
        return False

    def set_covering(self, covering: bool) -> None:
        """Show the note over the rows, or the rows again."""
        if covering == self.isHidden():
            if covering:
                self.resize(self._viewport.size())
                self.raise_()
            self.setVisible(covering)

    # A click on the note must not reach the rows it hides (a label passes it on to them).
    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Kept from the rows under the cover."""
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """Kept from the rows under the cover."""
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        """Kept from the rows under the cover."""
        event.accept()

    def wheelEvent(self, event: QWheelEvent) -> None:
        """Kept from the rows under the cover."""
        event.accept()
