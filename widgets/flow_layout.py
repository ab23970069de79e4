"""A layout that places its items left to right and wraps onto more rows when narrow.

Qt's flow layout example, typed: each row is as tall as its tallest item, and the layout's
height for a width is what `heightForWidth` says, so a parent layout makes room for the rows.
"""

from __future__ import annotations

from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QStyle, QWidget

DEFAULT_SPACING = 6  # when neither the layout nor the style says


class FlowLayout(QLayout):
    """Items in reading order, wrapped to the width; spacing -1 follows the style."""

    def __init__(
        self, parent: QWidget | None = None, h_spacing: int = -1, v_spacing: int = -1
    ) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._h_spacing = h_spacing
        self._v_spacing = v_spacing

    def addItem(self, item: QLayoutItem) -> None:
        """Append an item (addWidget ends up here)."""
        self._items.append(item)
        self.invalidate()

    def count(self) -> int:
        """How many items."""
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        """The item at `index`, or None past the end."""
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        """Remove and return the item at `index` (None past the end)."""
        if 0 <= index < len(self._items):
            item = self._items.pop(index)
            self.invalidate()
            return item
        return None

    def horizontalSpacing(self) -> int:
        """Space between items in a row."""
        if self._h_spacing >= 0:
            return self._h_spacing
        return self._smart_spacing(QStyle.PixelMetric.PM_LayoutHorizontalSpacing)

    def verticalSpacing(self) -> int:
        """Space between rows."""
        if self._v_spacing >= 0:
            return self._v_spacing
        return self._smart_spacing(QStyle.PixelMetric.PM_LayoutVerticalSpacing)

    def expandingDirections(self) -> Qt.Orientation:
        """A flow never asks for more room than its rows need."""
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        """The height depends on the width (more rows when narrower)."""
        return True

    def heightForWidth(self, width: int) -> int:
        """The height the rows take at `width`."""
        return self._do_layout(QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect: QRect) -> None:
        """Place the items in `rect`."""
        super().setGeometry(rect)
        self._do_layout(rect, apply=True)

    def sizeHint(self) -> QSize:
        """All items on one row."""
        width = 0
        height = 0
        spacing = self.horizontalSpacing()
        shown = [item for item in self._items if not item.isEmpty()]
        for i, item in enumerate(shown):
            hint = item.sizeHint()
            width += hint.width() + (spacing if i else 0)
            height = max(height, hint.height())
        margins = self.contentsMargins()
        return QSize(
            width + margins.left() + margins.right(), height + margins.top() + margins.bottom()
        )

    def minimumSize(self) -> QSize:
        """As wide as the widest item, as tall as one row."""
        size = QSize()
        for item in self._items:
            if not item.isEmpty():
                size = size.expandedTo(item.minimumSize())
        margins: QMargins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    def _do_layout(self, rect: QRect, apply: bool) -> int:
        margins = self.contentsMargins()
        area = rect.adjusted(margins.left(), margins.top(), -margins.right(), -margins.bottom())
        x, y = area.x(), area.y()
        row_height = 0
        h_space, v_space = self.horizontalSpacing(), self.verticalSpacing()
        for item in self._items:
            if item.isEmpty():  # hidden widgets take no room
                continue
            hint = item.sizeHint()
            # An item wider than the whole row gets the row (and elides or wraps inside).
            width = min(hint.width(), max(area.width(), item.minimumSize().width()))
            next_x = x + width + h_space
            if next_x - h_space > area.right() + 1 and row_height > 0:
                x = area.x()
                y += row_height + v_space
                next_x = x + width + h_space
                row_height = 0
            if apply:
                item.setGeometry(QRect(QPoint(x, y), QSize(width, hint.height())))
            x = next_x
            row_height = max(row_height, hint.height())
        return y + row_height - rect.y() + margins.bottom()

    def _smart_spacing(self, metric: QStyle.PixelMetric) -> int:
        parent = self.parent()
        spacing = -1
        if isinstance(parent, QWidget):
            spacing = parent.style().pixelMetric(metric, None, parent)
        elif isinstance(parent, QLayout):
            spacing = parent.spacing()
        return spacing if spacing >= 0 else DEFAULT_SPACING
