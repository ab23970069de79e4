"""The action bar: a button per action, shortcuts that fire once and go with their buttons."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from widgets.action_bar import ActionBar, ActionButton, key_sequence

REPORTED = [
    ActionButton("accept", "受理", "A", "primary", tooltip="受理该事件"),
    ActionButton("reject", "不予受理", "R", "danger"),
    ActionButton("escalate", "上报", "Ctrl+E"),
    ActionButton("consult", "发起会商", "", enabled=False, tooltip="仅指挥长可发起"),
]
DISPATCHED = [
    ActionButton("start", "开始处置", "S", "primary"),
    ActionButton("return_case", "退单", "A", "danger"),  # A now means something else
]


class Desk:
    """A desk window: a list with the focus (as the todo list has it), a search field, the bar."""

    def __init__(self, qtbot) -> None:
        self.window = QWidget()
        layout = QVBoxLayout(self.window)
        self.todo = QListWidget()
        self.todo.addItems(["TG-0031 小区地下车库长期积水", "TG-0044 农贸市场周边占道经营"])
        self.search = QLineEdit()
        self.bar = ActionBar()
        layout.addWidget(self.todo)
        layout.addWidget(self.search)
        layout.addWidget(self.bar)
        self.seen: list[str] = []
        self.bar.triggered.connect(self.seen.append)
        qtbot.addWidget(self.window)
        self.window.resize(640, 400)
        self.window.show()
        qtbot.waitExposed(self.window)
        self.window.activateWindow()
        self.todo.setFocus()
        qtbot.waitUntil(lambda: QApplication.focusWidget() is self.todo)

    def press(self, qtbot, key: Qt.Key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
        QTest.keyClick(QApplication.focusWidget(), key, modifiers)
        self.settle(qtbot)

    def settle(self, qtbot) -> None:
        # A shortcut animates its button's click: pressed now, clicked when released.
        qtbot.waitUntil(
            lambda: not any(b.isDown() for b in self.bar.findChildren(QPushButton)), timeout=2000
        )


def test_buttons_show_label_shortcut_tone_and_state(qtbot) -> None:
    desk = Desk(qtbot)
    desk.bar.set_actions(REPORTED)
    texts = [desk.bar.button(a.key).text() for a in REPORTED]
    assert texts == ["受理 A", "不予受理 R", "上报 Ctrl+E", "发起会商"]
    accept = desk.bar.button("accept")
    assert accept.property("tone") == "primary" and accept.toolTip() == "受理该事件（A）"
    assert desk.bar.button("reject").property("tone") == "danger"
    assert not desk.bar.button("consult").isEnabled()
    assert desk.bar.button("consult").toolTip() == "仅指挥长可发起"
    danger = desk.bar.button("reject")
    assert danger.palette().color(danger.foregroundRole()) == QColor("#ffccc7")
    assert not desk.bar.empty.isVisible()
    assert desk.bar.current_actions() == REPORTED


def test_a_click_emits_the_key(qtbot) -> None:
    desk = Desk(qtbot)
    desk.bar.set_actions(REPORTED)
    QTest.mouseClick(desk.bar.button("reject"), Qt.MouseButton.LeftButton)
    QTest.mouseClick(desk.bar.button("consult"), Qt.MouseButton.LeftButton)  # disabled
    assert desk.seen == ["reject"]


def test_shortcuts_trigger_their_action_from_anywhere_in_the_window(qtbot) -> None:
    desk = Desk(qtbot)
    desk.bar.set_actions(REPORTED)
    desk.press(qtbot, Qt.Key.Key_A)
    assert desk.seen == ["accept"]
    desk.press(qtbot, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert desk.seen == ["accept", "escalate"]
    desk.press(qtbot, Qt.Key.Key_R)
    assert desk.seen == ["accept", "escalate", "reject"]
    qtbot.keyClick(desk.window, Qt.Key.Key_A)  # sent to the window itself
    desk.settle(qtbot)
    assert desk.seen == ["accept", "escalate", "reject", "accept"]


def test_letters_typed_into_a_field_are_text_not_shortcuts(qtbot) -> None:
    desk = Desk(qtbot)
    desk.bar.set_actions(REPORTED)
    desk.search.setFocus()
    desk.press(qtbot, Qt.Key.Key_A)
    assert desk.seen == [] and desk.search.text() == "a"
    desk.press(qtbot, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)  # not a letter
    assert desk.seen == ["escalate"]


def test_set_actions_again_leaves_no_stale_shortcut(qtbot) -> None:
    desk = Desk(qtbot)
    desk.bar.set_actions(REPORTED)
    old_accept = desk.bar.button("accept")
    desk.bar.set_actions(DISPATCHED)
    desk.press(qtbot, Qt.Key.Key_R)  # 不予受理 is gone, and so is its key
    desk.press(qtbot, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert desk.seen == []
    desk.press(qtbot, Qt.Key.Key_A)  # A is 退单 now, and fires once
    assert desk.seen == ["return_case"]
    desk.press(qtbot, Qt.Key.Key_S)
    assert desk.seen == ["return_case", "start"]
    assert [b.text() for b in desk.bar.findChildren(type(old_accept)) if b.isVisible()] == [
        "开始处置 S",
        "退单 A",
    ]
    desk.bar.set_actions([])
    for key in (Qt.Key.Key_A, Qt.Key.Key_S):
        desk.press(qtbot, key)
    assert desk.seen == ["return_case", "start"]
    desk.bar.set_actions(REPORTED)
    desk.press(qtbot, Qt.Key.Key_A)
    assert desk.seen == ["return_case", "start", "accept"]


def test_a_disabled_or_hidden_action_does_nothing(qtbot) -> None:
    desk = Desk(qtbot)
    desk.bar.set_actions([ActionButton("accept", "受理", "A", enabled=False)])
    desk.press(qtbot, Qt.Key.Key_A)
    assert desk.seen == []
    desk.bar.set_actions([ActionButton("accept", "受理", "A")])
    desk.bar.hide()
    desk.press(qtbot, Qt.Key.Key_A)
    assert desk.seen == []
    desk.bar.show()
    desk.press(qtbot, Qt.Key.Key_A)
    assert desk.seen == ["accept"]


def test_no_action_shows_a_muted_line(qtbot) -> None:
    desk = Desk(qtbot)
    desk.bar.set_actions([])
    assert desk.bar.empty.isVisible()
    assert desk.bar.empty.text() == "当前状态下没有可做的操作"
    assert desk.bar.empty.palette().color(desk.bar.empty.foregroundRole()) == QColor("#8fb3e8")
    desk.bar.set_empty_text("只读：本案件不在你的辖区")
    assert desk.bar.empty.full_text() == "只读：本案件不在你的辖区"
    desk.bar.set_actions(REPORTED[:1])
    assert not desk.bar.empty.isVisible()


def test_a_narrow_bar_wraps_onto_more_rows(qtbot) -> None:
    desk = Desk(qtbot)
    many = [ActionButton(f"op{i}", f"操作{i}号按钮", chr(ord("A") + i)) for i in range(8)]
    desk.bar.set_actions(many)
    wide = desk.bar.heightForWidth(2000)
    narrow = desk.bar.heightForWidth(240)
    assert narrow >= 3 * wide
    desk.window.resize(260, 600)
    qtbot.waitUntil(lambda: desk.bar.width() <= 260)
    qtbot.wait(20)
    buttons = [desk.bar.button(a.key) for a in many]
    assert len({b.y() for b in buttons}) >= 3
    for b in buttons:
        assert b.geometry().right() < desk.bar.width()
        assert b.geometry().bottom() < desk.bar.height()


def test_text_from_data_is_literal(qtbot) -> None:
    desk = Desk(qtbot)
    desk.bar.set_actions([ActionButton("x", "<b>办结&归档</b>", "X")])
    button = desk.bar.button("x")
    assert button.text() == "<b>办结&&归档</b> X"  # "&&" shows one "&", no mnemonic
    desk.press(qtbot, Qt.Key.Key_G, Qt.KeyboardModifier.AltModifier)
    assert desk.seen == []


@pytest.mark.parametrize(
    ("actions", "message"),
    [
        ([ActionButton("a", "甲", "A"), ActionButton("a", "乙", "B")], "keys repeat"),
        ([ActionButton("a", "甲", "A"), ActionButton("b", "乙", "a")], "shortcuts repeat"),
        ([ActionButton("a", "甲", "Ctrl+Foo")], "not a keyboard shortcut"),
        ([ActionButton("a", "甲", "A, B")], "not a keyboard shortcut"),
    ],
)
def test_bad_actions_are_refused_and_the_bar_is_kept(qtbot, actions, message) -> None:
    desk = Desk(qtbot)
    desk.bar.set_actions(REPORTED)
    with pytest.raises(ValueError, match=message):
        desk.bar.set_actions(actions)
    assert desk.bar.current_actions() == REPORTED
    desk.press(qtbot, Qt.Key.Key_A)
    assert desk.seen == ["accept"]


def test_key_sequence_reads_portable_text() -> None:
    assert key_sequence("ctrl+e").toString() == "Ctrl+E"
    assert key_sequence("F5").toString() == "F5"
