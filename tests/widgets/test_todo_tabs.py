"""The to-do tabs: counts in the labels, the chosen list kept across updates, Ctrl+1..9."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QListWidget, QVBoxLayout, QWidget

from widgets.todo_tabs import TodoTabs, tab_text

TABS = [
    ("intake", "待受理", 12),
    ("dispatch", "待派遣", 3),
    ("verify", "待核查", 0),
    ("overdue", "已超期", 5),
]


class Desk:
    def __init__(self, qtbot) -> None:
        self.window = QWidget()
        layout = QVBoxLayout(self.window)
        self.tabs = TodoTabs()
        self.todo = QListWidget()
        layout.addWidget(self.tabs)
        layout.addWidget(self.todo)
        self.seen: list[str] = []
        self.tabs.currentKeyChanged.connect(self.seen.append)
        qtbot.addWidget(self.window)
        self.window.resize(640, 300)
        self.window.show()
        qtbot.waitExposed(self.window)
        self.window.activateWindow()
        self.todo.setFocus()
        qtbot.waitUntil(lambda: QApplication.focusWidget() is self.todo)


def texts(tabs: TodoTabs) -> list[str]:
    return [tabs.tabText(i) for i in range(tabs.count())]


def test_tabs_show_labels_with_counts(qtbot) -> None:
    desk = Desk(qtbot)
    desk.tabs.set_tabs(TABS)
    assert texts(desk.tabs) == ["待受理 12", "待派遣 3", "待核查 0", "已超期 5"]
    assert desk.tabs.current_key() == "intake" and desk.seen == ["intake"]
    assert desk.tabs.tabToolTip(1) == "待派遣（3）  Ctrl+2"
    assert tab_text("待受理", 12345) == "待受理 999+"


def test_the_chosen_list_stays_chosen_across_updates(qtbot) -> None:
    desk = Desk(qtbot)
    desk.tabs.set_tabs(TABS)
    assert desk.tabs.set_current_key("verify")
    assert desk.seen == ["intake", "verify"]
    desk.tabs.set_tabs([(k, label, n + 1) for k, label, n in TABS])  # counts change
    assert desk.tabs.current_key() == "verify" and texts(desk.tabs)[2] == "待核查 1"
    # Reordered, one more, one fewer: still on 待核查, and nothing is announced.
    desk.tabs.set_tabs(
        [("verify", "待核查", 1), ("supervised", "督办", 2), ("intake", "待受理", 9)]
    )
    assert desk.tabs.current_key() == "verify" and desk.tabs.currentIndex() == 0
    assert desk.seen == ["intake", "verify"]
    # The chosen list goes away: the first is chosen, and that is announced.
    desk.tabs.set_tabs([("supervised", "督办", 2), ("intake", "待受理", 9)])
    assert desk.tabs.current_key() == "supervised"
    assert desk.seen == ["intake", "verify", "supervised"]
    desk.tabs.set_tabs([])
    assert desk.tabs.current_key() is None and desk.tabs.count() == 0
    assert not desk.tabs.set_current_key("intake")


def test_a_narrow_bar_scrolls_rather_than_hide_the_counts(qtbot) -> None:
    desk = Desk(qtbot)
    desk.tabs.set_tabs(TABS)
    desk.window.resize(200, 300)
    qtbot.waitUntil(lambda: desk.tabs.width() <= 200)
    assert desk.tabs.elideMode() == Qt.TextElideMode.ElideNone and desk.tabs.usesScrollButtons()
    metrics = desk.tabs.fontMetrics()
    for i in range(desk.tabs.count()):
        assert desk.tabs.tabRect(i).width() > metrics.horizontalAdvance(desk.tabs.tabText(i))


def test_unchanged_tabs_cost_nothing(qtbot) -> None:
    desk = Desk(qtbot)
    desk.tabs.set_tabs(TABS)
    changes: list[int] = []
    desk.tabs.currentChanged.connect(changes.append)
    desk.tabs.set_tabs(list(TABS))
    desk.tabs.set_tabs([(k, label, n + 5) for k, label, n in TABS])
    assert changes == [] and desk.seen == ["intake"]


def test_ctrl_digits_switch_tabs_from_anywhere_in_the_window(qtbot) -> None:
    desk = Desk(qtbot)
    desk.tabs.set_tabs(TABS)
    QTest.keyClick(desk.todo, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert desk.tabs.current_key() == "verify"
    QTest.keyClick(desk.todo, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(desk.todo, Qt.Key.Key_9, Qt.KeyboardModifier.ControlModifier)  # no 9th tab
    assert desk.tabs.current_key() == "overdue"
    QTest.keyClick(desk.todo, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert desk.seen == ["intake", "verify", "overdue", "intake"]
    qtbot.keyClick(desk.window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert desk.tabs.current_key() == "dispatch"


def test_clicking_a_tab_announces_its_key(qtbot) -> None:
    desk = Desk(qtbot)
    desk.tabs.set_tabs(TABS)
    QTest.mouseClick(desk.tabs, Qt.MouseButton.LeftButton, pos=desk.tabs.tabRect(1).center())
    assert desk.seen == ["intake", "dispatch"]


def test_labels_from_data_are_literal(qtbot) -> None:
    desk = Desk(qtbot)
    desk.tabs.set_tabs([("a", "<b>督办&会商</b>", 2)])
    assert desk.tabs.tabText(0) == "<b>督办&&会商</b> 2"  # shows one "&", no mnemonic


def test_repeated_keys_are_refused_and_the_tabs_kept(qtbot) -> None:
    desk = Desk(qtbot)
    desk.tabs.set_tabs(TABS)
    with pytest.raises(ValueError, match="repeat"):
        desk.tabs.set_tabs([("a", "甲", 1), ("a", "乙", 2)])
    assert desk.tabs.tabs() == TABS and texts(desk.tabs)[0] == "待受理 12"
