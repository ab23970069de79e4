"""A read-only table of one-line text cells that repaints cheaply many times a second.

A `QTableView` paints cell by cell: for each it asks the model for a dozen roles through
the style and lays the text out again (itemize, shape with HarfBuzz, elide). On the event
queue, which repaints with every frame, that was most of the GUI thread (15 ms a repaint
at 1080p). `TextTable` keeps the view's header, scrolling, selection and clicks, but paints
the visible rows itself in one pass: one call per row for its `Cell`s, and a `QStaticText`
prepared once per text, width and shorter forms (about 1 ms a repaint).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import NamedTuple

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QStaticText,
)
from PySide6.QtWidgets import QTableView, QWidget

_CENTRE = int(Qt.AlignmentFlag.AlignHCenter)
_RIGHT = int(Qt.AlignmentFlag.AlignRight)


class Cell(NamedTuple):
    """What a cell shows: its text, its colour (None: the table's text colour), its
    horizontal alignment (Qt.AlignmentFlag as int; left by default), and shorter forms of
    the text, longest first, for a column too narrow for it (the first that fits is shown,
    else the shortest, elided where `elide` says: at the end by default)."""

    text: str
    colour: QColor | None = None
    align: int = int(Qt.AlignmentFlag.AlignLeft)
    shorter: tuple[str, ...] = ()
    elide: Qt.TextElideMode = Qt.TextElideMode.ElideRight


class PreparedTexts:
    """Laid-out texts for one font, elided to a width; the least recently used go first."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self.font = QFont()
        self._metrics = QFontMetrics(self.font)
        # (text, width, shorter forms, elision) -> (prepared text, its width, its height)
        self._texts: OrderedDict[tuple[object, ...], tuple[QStaticText, int, int]] = OrderedDict()
        self.prepared = 0  # texts laid out so far (each a cache miss)

    def use_font(self, font: QFont) -> None:
        """Lay texts out in this font from now on (forgets the others if it changed)."""
        if font != self.font:
            self.font, self._metrics = QFont(font), QFontMetrics(font)
            self._texts.clear()

    def get(
        self,
        text: str,
        width: int,
        shorter: tuple[str, ...] = (),
        elide: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
    ) -> tuple[QStaticText, int, int]:
        """The prepared text for `width` (the first of it and its shorter forms that fits,
        else the shortest elided), its width and height."""
        key = (text, width, shorter, elide)
        found = self._texts.get(key)
        if found is not None:
            self._texts.move_to_end(key)
            return found
        advance = self._metrics.horizontalAdvance
        shown = next((form for form in (text, *shorter) if advance(form) <= width), None)
        if shown is None:
            last = shorter[-1] if shorter else text
            shown = self._metrics.elidedText(last, elide, max(width, 0))
        static = QStaticText(shown)
        static.setTextFormat(Qt.TextFormat.PlainText)
        static.prepare(font=self.font)
        size = static.size()
        found = (static, int(size.width()), int(size.height()))
        self._texts[key] = found
        self.prepared += 1
        if len(self._texts) > self.capacity:
            self._texts.popitem(last=False)
        return found


class TextTable(QTableView):
    """A `QTableView` whose rows come from `rows(row) -> Sequence[Cell]`, painted in one pass.

    The model still gives the row and column counts, the header titles and whatever else
    reads it (clicks, accessibility, tests); only painting goes through `rows`.
    """

    resized = Signal()  # after the rows were fitted to a new size

    def __init__(
        self,
        rows: Callable[[int], Sequence[Cell]] | None = None,
        parent: QWidget | None = None,
        *,
        padding: int = 6,
    ) -> None:
        super().__init__(parent)
        self.rows = rows
        self.padding = padding
        self.texts = PreparedTexts()
        self.paints = 0
        self._least_row = 0  # set_whole_rows: rows stretched to fill the view, none cut

    def set_whole_rows(self, least: int) -> None:
        """Rows at least `least` pixels tall, stretched alike so that a whole number of them
        fills the view: no row is ever cut at the bottom."""
        self._least_row = least
        self._fit_rows()

    def visible_rows(self) -> int:
        """How many whole rows the view holds."""
        height = self.verticalHeader().defaultSectionSize()
        return self.viewport().height() // max(height, 1)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Fit whole rows again for the new height."""
        super().resizeEvent(event)
        self._fit_rows()
        self.resized.emit()

    def _fit_rows(self) -> None:
        if self._least_row <= 0:
            return
        height = self.viewport().height()
        rows = max(1, height // self._least_row)
        section = max(self._least_row, height // rows)
        header = self.verticalHeader()
        header.setMinimumSectionSize(min(header.minimumSectionSize(), section))
        if header.defaultSectionSize() != section:
            header.setDefaultSectionSize(section)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Alternate and selected row backgrounds, then each visible cell's prepared text."""
        model = self.model()
        rows = self.rows
        if model is None or rows is None:
            super().paintEvent(event)
            return
        count = model.rowCount()
        area = event.rect()
        first = self.rowAt(area.top())
        if count == 0 or first < 0:
            return
        last = self.rowAt(area.bottom())
        if last < 0:
            last = count - 1
        self.paints += 1
        # (model column, x, width) of the shown columns: a row's cells are by model column.
        columns = [
            (c, self.columnViewportPosition(c), self.columnWidth(c))
            for c in range(model.columnCount())
            if not self.isColumnHidden(c)
        ]
        palette = self.palette()
        alternate = palette.alternateBase() if self.alternatingRowColors() else None
        highlight = palette.highlight()
        text_colour = palette.text().color()
        highlighted_text = palette.highlightedText().color()
        selection = self.selectionModel()
        selected = (
            {i.row() for i in selection.selectedRows()}
            if selection is not None and selection.hasSelection()
            else set()
        )
        texts = self.texts
        texts.use_font(self.font())
        pad = self.padding
        width = self.viewport().width()
        # With whole rows, a row the view cannot show entirely is not shown at all.
        bottom = self.viewport().height() if self._least_row > 0 else None
        painter = QPainter(self.viewport())
        painter.setFont(texts.font)
        try:
            for row in range(first, last + 1):
                if self.isRowHidden(row):
                    continue
                top = self.rowViewportPosition(row)
                height = self.rowHeight(row)
                if bottom is not None and top + height > bottom:
                    break
                chosen = row in selected
                if chosen:
                    painter.fillRect(0, top, width, height, highlight)
                elif alternate is not None and row % 2:
                    painter.fillRect(0, top, width, height, alternate)
                cells = rows(row)
                for c, x, w in columns:
                    if c >= len(cells):
                        break
                    text, colour, align, shorter, elide = cells[c]
                    if not text:
                        continue
                    if colour is None:  # a cell's own colour (overdue red) outranks selection
                        colour = highlighted_text if chosen else text_colour
                    static, text_w, text_h = texts.get(text, w - 2 * pad, shorter, elide)
                    if align & _CENTRE:
                        left = x + (w - text_w) // 2
                    elif align & _RIGHT:
                        left = x + w - pad - text_w
                    else:
                        left = x + pad
                    painter.setPen(colour)
                    painter.drawStaticText(left, top + (height - text_h) // 2, static)
        finally:
            painter.end()
