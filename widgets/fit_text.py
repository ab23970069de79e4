"""Text that never overflows its widget: a one-line label that elides with "…", and a helper
that lets a word-wrapped label break long unspaced runs (codes, URLs, numbers)."""

from __future__ import annotations

import re

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

ZERO_WIDTH_SPACE = "\u200b"
# Runs a word-wrapped QLabel cannot break: anything but white space and CJK (which breaks
# between any two characters). QLabel wraps at word boundaries only, so one long run makes
# its minimum width the run's width and pushes the layout wider than the screen.
_UNBREAKABLE = re.compile(r"[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]{25,}")
_CHUNK = 20


def breakable(text: str) -> str:
    """`text` with a zero-width space every 20 characters of any unspaced run of 25 or more."""

    def split(match: re.Match[str]) -> str:
        run = match.group(0)
        return ZERO_WIDTH_SPACE.join(run[i : i + _CHUNK] for i in range(0, len(run), _CHUNK))

    return _UNBREAKABLE.sub(split, text)


def plain(text: str) -> str:
    """The text a `breakable` label shows, without the break hints."""
    return text.replace(ZERO_WIDTH_SPACE, "")


class ElidedLabel(QLabel):
    """One line of plain text, shortened with "…" when narrower than the text (full text in
    the tooltip); it may shrink to a few characters, so it never widens its layout."""

    def __init__(
        self,
        text: str = "",
        parent: QWidget | None = None,
        mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
    ) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._mode = mode
        self._full = ""
        self.set_full_text(text)

    def set_full_text(self, text: str) -> None:
        """Show `text` (elided to the width when needed)."""
        text = " ".join(text.split())  # one line: newlines and runs of spaces become one space
        if text == self._full:
            return
        self._full = text
        self._fit()
        self.updateGeometry()

    def full_text(self) -> str:
        """The whole text, even when the label shows it shortened."""
        return self._full

    def is_elided(self) -> bool:
        """Whether the label shows a shortened form."""
        return self.text() != self._full

    def sizeHint(self) -> QSize:
        """Room for the whole text on one line."""
        hint = super().sizeHint()
        metrics = self.fontMetrics()
        extra = metrics.horizontalAdvance(self._full) - metrics.horizontalAdvance(self.text())
        return QSize(hint.width() + max(0, extra), hint.height())

    def minimumSizeHint(self) -> QSize:
        """A few characters: the label elides rather than push its layout wider."""
        full = self.sizeHint()
        metrics = self.fontMetrics()
        chrome = super().sizeHint().width() - metrics.horizontalAdvance(self.text())
        least = chrome + metrics.horizontalAdvance(self._full[:2] + "…")
        return QSize(min(full.width(), least), full.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Elide again for the new width."""
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event: QEvent) -> None:
        """A new font (from a style sheet) changes what fits."""
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit()
            self.updateGeometry()  # the room it asks for grew or shrank with the font

    def _fit(self) -> None:
        width = self.contentsRect().width() - 2 * max(0, self.margin())
        metrics = self.fontMetrics()
        shown = (
            self._full
            if metrics.horizontalAdvance(self._full) <= width
            else metrics.elidedText(self._full, self._mode, max(0, width))
        )
        if shown != self.text():
            self.setText(shown)
        tip = self._full if shown != self._full else ""
        if tip != self.toolTip():
            self.setToolTip(tip)
