"""The wall's keys, pressed for real (key events through Qt's shortcut map, sent where the
keyboard focus is: the map's page when it holds it, as after a click on the map)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QApplication, QWidget

import desktop.ui.wall
from desktop.core.replica import Replica
from desktop.ui.wall import WallWindow
from protocol.messages import Units
from tests.desktop.test_replica_stream import messages as recorded_stream

LINGHU = "340803004"


def active_wall(qtbot) -> WallWindow:
    """A shown, active wall with the recorded stream's units (菱湖街道); the keyboard focus
    on the map's page, where a click on the map leaves it."""
    wall = WallWindow(Replica())
    qtbot.addWidget(wall)
    units = next(m for m in recorded_stream() if isinstance(m, Units))
    wall.push(wall.replica.apply(units))
    wall.coalescer.flush()
    wall.show()
    with qtbot.waitActive(wall):
        wall.activateWindow()
    page = wall.map.focusProxy() or wall.map
    qtbot.mouseClick(page, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    page.setFocus()
    return wall


def active(wall: WallWindow) -> bool:
    """Whether the wall's native window has the keyboard (after new window flags Qt may not
    name it QApplication.activeWindow() again, but its shortcuts match)."""
    handle = wall.windowHandle()
    return handle is not None and handle.isActive()


def press(qtbot, wall: WallWindow, key: Qt.Key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """A key pressed at the wall: delivered to the widget holding the keyboard focus."""
    target: QWidget = QApplication.focusWidget() or wall
    qtbot.keyClick(target, key, modifiers)


def test_esc_returns_to_the_whole_district_from_every_state(qtbot) -> None:
    wall = active_wall(qtbot)
    assert QApplication.focusWidget() is not wall  # the map's page holds the keys

    # A street in focus (→ moves to the first street).
    press(qtbot, wall, Qt.Key.Key_Right)
    assert wall.focus_street == LINGHU
    press(qtbot, wall, Qt.Key.Key_Escape)
    assert wall.focus_street == "" and "全区" in wall.header.scope.text()

    # A grid's card open over a street.
    wall.set_focus(LINGHU)
    wall.grid_details.show_grid("菱湖街道第1网格", ["网格员 张三"], [])
    assert wall.grid_details.isVisible()
    press(qtbot, wall, Qt.Key.Key_Escape)
    assert wall.focus_street == "" and not wall.grid_details.isVisible()

    # On tour, at a street: back to the district, the tour holds there a while, then goes on.
    wall.start_tour(20)
    tour = wall.tour
    assert tour is not None
    press(qtbot, wall, Qt.Key.Key_Right)
    assert wall.focus_street == LINGHU and tour.current == LINGHU
    press(qtbot, wall, Qt.Key.Key_Escape)
    assert wall.focus_street == "" and tour.current == ""
    assert tour.paused and tour.reason == "operator" and wall.tour is tour


def test_the_other_keys_work_from_the_map_too(qtbot) -> None:
    wall = active_wall(qtbot)
    muted = wall.chime.muted
    press(qtbot, wall, Qt.Key.Key_M)
    assert wall.chime.muted is not muted
    press(qtbot, wall, Qt.Key.Key_T)
    assert wall.tour is not None and not wall.tour_hint.isVisible()
    press(qtbot, wall, Qt.Key.Key_T)
    assert wall.tour is None
    # Paused: the wall says so, and how to go on, readable from the room (≥ 1/60 of the
    # screen's height) and whole, beside the map's title.
    hint = wall.tour_hint
    assert hint.isVisible() and hint.text() == "轮巡已暂停 · T 继续"
    assert QFontMetricsF(hint.font()).capHeight() >= wall.height() / 60
    assert hint.width() >= hint.fontMetrics().horizontalAdvance(hint.text())
    assert wall.map_panel.title.text() == "网格态势"  # and the title keeps its words
    press(qtbot, wall, Qt.Key.Key_T)
    assert wall.tour is not None and not hint.isVisible()
    press(qtbot, wall, Qt.Key.Key_T)
    press(qtbot, wall, Qt.Key.Key_Left)
    assert wall.focus_street == LINGHU  # from the district back to the last street


def test_a_key_that_reaches_the_window_itself_does_the_same(qtbot) -> None:
    """An X server without a window manager may leave the window inactive: its keys then
    arrive as plain key events, and still work."""
    wall = WallWindow(Replica())
    qtbot.addWidget(wall)
    wall.set_focus(LINGHU)
    qtbot.keyClick(wall, Qt.Key.Key_Escape)
    assert wall.focus_street == ""


def test_ctrl_q_quits_a_window_at_once(qtbot) -> None:
    wall = active_wall(qtbot)
    press(qtbot, wall, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert not wall.isVisible()


def test_a_kiosk_quits_on_a_second_ctrl_q_within_3_s_and_ctrl_shift_k_leaves_it(
    qtbot, monkeypatch
) -> None:
    monkeypatch.setattr(desktop.ui.wall, "QUIT_WITHIN_MS", 300)
    wall = active_wall(qtbot)
    wall.enter_kiosk(wall.screen())
    qtbot.waitUntil(lambda: active(wall))
    assert wall.kiosk and wall.isFullScreen()
    assert wall.windowFlags() & Qt.WindowType.FramelessWindowHint
    cursor = QApplication.overrideCursor()
    assert cursor is not None and cursor.shape() == Qt.CursorShape.BlankCursor

    # No dialogs on a kiosk: the first Ctrl+Q says how to quit, on the screen.
    ctrl = Qt.KeyboardModifier.ControlModifier
    press(qtbot, wall, Qt.Key.Key_Q, ctrl)
    assert wall.isVisible() and wall.key_hint.isVisible()
    assert "Ctrl+Q" in wall.key_hint.text() and "Ctrl+Shift+K" in wall.key_hint.text()
    qtbot.waitUntil(lambda: not wall.key_hint.isVisible(), timeout=2000)  # too late now
    press(qtbot, wall, Qt.Key.Key_Q, ctrl)
    assert wall.isVisible()  # a first press again

    # Ctrl+Shift+K: a normal window, with its frame and the cursor.
    press(qtbot, wall, Qt.Key.Key_K, ctrl | Qt.KeyboardModifier.ShiftModifier)
    assert not wall.kiosk and not wall.isFullScreen() and not wall.key_hint.isVisible()
    assert not wall.windowFlags() & Qt.WindowType.FramelessWindowHint
    assert QApplication.overrideCursor() is None
    # ... and back into kiosk mode, where two presses in time quit.
    qtbot.waitUntil(lambda: active(wall))
    press(qtbot, wall, Qt.Key.Key_K, ctrl | Qt.KeyboardModifier.ShiftModifier)
    assert wall.kiosk
    qtbot.waitUntil(lambda: active(wall))
    press(qtbot, wall, Qt.Key.Key_Q, ctrl)
    press(qtbot, wall, Qt.Key.Key_Q, ctrl)
    assert not wall.isVisible()
    assert QApplication.overrideCursor() is None  # closing gave the cursor back
