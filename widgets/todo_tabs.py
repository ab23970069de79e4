"""Tabs over the desk's to-do lists with their counts ("待受理 12"), switched with Ctrl+1..9."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QTabBar, QWidget

STYLE = """
QTabBar { font-size: 15px; }
QTabBar::tab { color: #8fb3e8; background: #10233f; border: 1px solid #1f3b73;
    border-bottom: none; padding: 5px 14px; margin-right: 2px;
    border-top-left-radius: 4px; border-top-right-radius: 4px; }
QTabBar::tab:selected { color: #ffffff; background: #1d4f9a; border-color: #5b8def;
    font-weight: bold; }
QTabBar::tab:hover:!selected { color: #e8f1ff; }
QTabBar::tab:focus { border-color: #adc6ff; }
"""
MAX_SHOWN_COUNT = 999


def tab_text(label: str, count: int) -> str:
    """What a tab shows: the label and the count ("待受理 12"; past 999 "999+")."""
    shown = f"{MAX_SHOWN_COUNT}+" if count > MAX_SHOWN_COUNT else str(max(0, count))
    return f"{label} {shown}"


class TodoTabs(QTabBar):
    """One tab per list; `currentKeyChanged(key)` when the chosen list changes (by click,
    arrow keys, Ctrl+1..9 or because the list it was on went away)."""

    currentKeyChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("todoTabs")
        self.setStyleSheet(STYLE)
        self.setExpanding(False)
        # The count is the point of a tab: never elide it away; scroll when too narrow.
        self.setElideMode(Qt.TextElideMode.ElideNone)
        self.setUsesScrollButtons(True)
        self.setDocumentMode(True)
        self._tabs: list[tuple[str, str, int]] = []
        self._key: str | None = None
        self._quiet = False  # set_tabs rebuilding: no signals for the tabs passing by
        self.currentChanged.connect(self._changed)
        self.shortcuts: list[QShortcut] = []
        for n in range(1, 10):
            shortcut = QShortcut(QKeySequence(f"Ctrl+{n}"), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)  # anywhere in the window
            shortcut.activated.connect(lambda n=n: self._jump(n - 1))
            self.shortcuts.append(shortcut)

    def set_tabs(self, tabs: list[tuple[str, str, int]]) -> None:
        """Show these (key, label, count) tabs in order; the chosen key stays chosen while it
        is there, else the first tab is chosen (and `currentKeyChanged` says so)."""
        keys = [key for key, _label, _count in tabs]
        if len(set(keys)) != len(keys):
            raise ValueError(f"tab keys repeat: {keys}")
        if tabs == self._tabs:
            return
        old_keys = [key for key, _label, _count in self._tabs]
        self._tabs = list(tabs)
        previous = self._key
        self._quiet = True
        try:
            if keys != old_keys:  # different tabs: rebuild (counts alone are set in place)
                while self.count():
                    self.removeTab(self.count() - 1)
                for key, label, count in tabs:
                    index = self.addTab("")
                    self.setTabData(index, key)
                    self._label(index, label, count)
                chosen = keys.index(previous) if previous in keys else 0
                self.setCurrentIndex(chosen if tabs else -1)
            else:
                for index, (_key, label, count) in enumerate(tabs):
                    self._label(index, label, count)
        finally:
            self._quiet = False
        self._key = self.current_key()
        if self._key is not None and self._key != previous:
            self.currentKeyChanged.emit(self._key)

    def tabs(self) -> list[tuple[str, str, int]]:
        """The (key, label, count) tabs shown."""
        return list(self._tabs)

    def current_key(self) -> str | None:
        """The chosen tab's key (None when there are no tabs)."""
        index = self.currentIndex()
        if index < 0 or index >= len(self._tabs):
            return None
        return self._tabs[index][0]

    def set_current_key(self, key: str) -> bool:
        """Choose the tab `key` (False when there is none)."""
        for index, (tab_key, _label, _count) in enumerate(self._tabs):
            if tab_key == key:
                self.setCurrentIndex(index)
                return True
        return False

    def _label(self, index: int, label: str, count: int) -> None:
        text = tab_text(label, count).replace("&", "&&")  # a data "&" is not a mnemonic
        if self.tabText(index) != text:
            self.setTabText(index, text)
        position = f"Ctrl+{index + 1}" if index < 9 else ""
        tip = f"{label}（{count}）  {position}".rstrip()
        if self.tabToolTip(index) != tip:
            self.setTabToolTip(index, tip)

    def _jump(self, index: int) -> None:
        if 0 <= index < self.count() and self.isVisible():
            self.setCurrentIndex(index)

    def _changed(self, _index: int) -> None:
        if self._quiet:
            return
        key = self.current_key()
        if key is not None and key != self._key:
            self._key = key
            self.currentKeyChanged.emit(key)
