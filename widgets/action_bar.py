"""The buttons for what can be done to a case now, each with its keyboard shortcut, wrapping
onto more rows when the bar is narrow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QPushButton, QSizePolicy, QWidget

from widgets.fit_text import ElidedLabel
from widgets.flow_layout import FlowLayout

ButtonTone = Literal["primary", "normal", "danger"]

STYLE = """
QPushButton#actionButton { font-size: 14px; padding: 5px 14px; color: #e8f1ff;
    background: #16325c; border: 1px solid #1f3b73; border-radius: 4px; }
QPushButton#actionButton:hover { border-color: #5b8def; }
QPushButton#actionButton:focus { border-color: #adc6ff; }
QPushButton#actionButton:pressed { background: #0f2547; }
QPushButton#actionButton[tone="primary"] { background: #1d4f9a; border-color: #5b8def;
    font-weight: bold; color: #ffffff; }
QPushButton#actionButton[tone="danger"] { background: #4a1418; border-color: #ff4d4f;
    color: #ffccc7; }
QPushButton#actionButton:disabled { color: #6b84a8; background: #122641;
    border-color: #1a3358; }
#actionEmpty { color: #8fb3e8; font-size: 14px; }
"""


@dataclass(frozen=True, slots=True)
class ActionButton:
    """One action: `key` (the op) for `triggered`, the label, a shortcut such as "A" or
    "Ctrl+E" ("" for none), its tone, whether it can be used now, and a tooltip."""

    key: str
    label: str
    shortcut: str = ""
    tone: ButtonTone = "normal"
    enabled: bool = True
    tooltip: str = ""


def key_sequence(shortcut: str) -> QKeySequence:
    """The key sequence for a shortcut text ("A", "Ctrl+E"); ValueError if it is not one."""
    sequence = QKeySequence(shortcut, QKeySequence.SequenceFormat.PortableText)
    combination = sequence[0] if sequence.count() == 1 else None  # type: ignore[index]
    if combination is None or combination.key() == Qt.Key.Key_unknown:
        raise ValueError(f"not a keyboard shortcut: {shortcut!r}")
    return sequence


class ActionBar(QWidget):
    """A button per action ("受理 A"); a click or the shortcut emits `triggered(key)`.

    Shortcuts are the buttons' own (window-wide while the bar is shown; a disabled button's
    does nothing; a text field with the focus keeps plain letters for typing), replaced on
    every `set_actions`.
    """

    triggered = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("actionBar")
        self.setStyleSheet(STYLE)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self._layout = FlowLayout(self, 8, 6)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.empty = ElidedLabel(self.tr("当前状态下没有可做的操作"))
        self.empty.setObjectName("actionEmpty")
        self._layout.addWidget(self.empty)
        self._actions: list[ActionButton] = []
        self._buttons: list[QPushButton] = []

    def set_actions(self, actions: list[ActionButton]) -> None:
        """Show these actions (in order), replacing the others and their shortcuts."""
        keys = [action.key for action in actions]
        if len(set(keys)) != len(keys):
            raise ValueError(f"action keys repeat: {keys}")
        sequences = [key_sequence(a.shortcut) if a.shortcut else None for a in actions]
        taken = [s.toString() for s in sequences if s is not None]
        if len(set(taken)) != len(taken):
            raise ValueError(f"shortcuts repeat: {taken}")
        if actions == self._actions:
            return
        self._actions = list(actions)
        while len(self._buttons) > len(actions):
            button = self._buttons.pop()
            button.setShortcut(QKeySequence())  # now, not when the button is finally deleted
            self._layout.removeWidget(button)
            button.hide()
            button.deleteLater()
        for button in self._buttons:  # free every key before any is given out again
            button.setShortcut(QKeySequence())
        for i, (action, sequence) in enumerate(zip(actions, sequences, strict=True)):
            if i == len(self._buttons):
                button = QPushButton(self)
                button.setObjectName("actionButton")
                button.clicked.connect(lambda _=False, b=button: self._clicked(b))
                self._layout.addWidget(button)
                self._buttons.append(button)
            self._show(self._buttons[i], action, sequence)
        self.empty.setVisible(not actions)
        self.updateGeometry()

    def set_empty_text(self, text: str) -> None:
        """The muted line shown when there is no action."""
        self.empty.set_full_text(text)

    def current_actions(self) -> list[ActionButton]:
        """The actions shown, in order."""
        return list(self._actions)

    def button(self, key: str) -> QPushButton | None:
        """The button of action `key`, or None."""
        for button in self._buttons:
            if button.property("key") == key:
                return button
        return None

    def hasHeightForWidth(self) -> bool:
        """More rows when narrower."""
        return True

    def heightForWidth(self, width: int) -> int:
        """The height of the rows at `width`."""
        return self._layout.heightForWidth(width)

    def _show(
        self, button: QPushButton, action: ActionButton, sequence: QKeySequence | None
    ) -> None:
        label = action.label.replace("&", "&&")  # a data "&" is not a mnemonic
        shown = sequence.toString(QKeySequence.SequenceFormat.NativeText) if sequence else ""
        text = f"{label} {shown.replace('&', '&&')}" if shown else label
        if button.text() != text:
            button.setText(text)
        button.setProperty("key", action.key)
        if sequence is not None:
            button.setShortcut(sequence)
        tip = action.tooltip or action.label
        button.setToolTip(f"{tip}（{shown}）" if shown else tip)
        button.setEnabled(action.enabled)
        if button.property("tone") != action.tone:
            button.setProperty("tone", action.tone)
            button.style().unpolish(button)  # property selectors are matched at polish time
            button.style().polish(button)
        button.show()

    def _clicked(self, button: QPushButton) -> None:
        key = button.property("key")
        if isinstance(key, str):
            self.triggered.emit(key)
