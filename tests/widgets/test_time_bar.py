"""The replay bar: its banner, seeking on the curve, by time and by day, the play controls,
its keys, its sizes on the wall and the desk, in Chinese and in English.

`TG_SHOT=docs/screenshots/time-bar.png pytest tests/widgets/test_time_bar.py` also saves the
bar at 1920 wide with a day's curve (the screenshot in docs/)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from itertools import combinations, pairwise
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, QTranslator
from PySide6.QtGui import QFont, QHelpEvent, QKeySequence, QShortcut
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyle,
    QStyleOptionFrame,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from widgets.fit_text import ElidedLabel
from widgets.time_bar import DAY, TimeBar, parse_time_of_day

QM = Path(__file__).resolve().parents[2] / "desktop" / "i18n" / "tongguan_en.qm"
CHINA = timezone(timedelta(hours=8))
D = datetime(2026, 11, 24, tzinfo=CHINA).timestamp()  # the day shown: 2026-11-24 00:00
CURVE = [12, 8, 5, 4, 6, 15, 38, 72, 96, 88, 81, 64, 55, 70, 83, 79, 72, 66, 58, 50, 41, 33, 25]
CURVE += [18]
AT = D + 9 * 3600 + 40 * 60 + 25  # 09:40:25


@pytest.fixture(autouse=True)
def cjk_font(qapp) -> Iterator[None]:
    """The application's CJK font families, as the wall and the desk set them."""
    font = qapp.font()
    wanted = QFont()
    wanted.setFamilies(["Noto Sans CJK SC", "WenQuanYi Micro Hei", "Sans Serif"])
    qapp.setFont(wanted)
    try:
        yield
    finally:
        qapp.setFont(font)


@pytest.fixture
def english(qapp) -> Iterator[None]:
    """The app's English translation (what `--lang en` loads)."""
    translator = QTranslator()
    assert translator.load(str(QM))
    assert qapp.installTranslator(translator)
    try:
        yield
    finally:
        qapp.removeTranslator(translator)


def make(
    qtbot,
    width: int = 1920,
    px: int | None = 18,
    earliest: float = D - 20 * DAY,
    latest: float = D + 3 * DAY,
    curve: list[int] = CURVE,
) -> TimeBar:
    bar = TimeBar()
    qtbot.addWidget(bar)
    if px is not None:
        bar.set_text_px(px)
    bar.set_day(D, curve, earliest, latest)
    bar.set_position(AT, False, 1.0)
    bar.resize(width, bar.sizeHint().height())
    bar.show()
    qtbot.waitExposed(bar)
    qtbot.waitUntil(lambda: bar.width() == width)
    return bar


def seeks(bar: TimeBar) -> list[float]:
    found: list[float] = []
    bar.seekRequested.connect(found.append)
    return found


def point_at(bar: TimeBar, moment: float) -> QPoint:
    curve = bar.curve
    return QPoint(round(curve.x_of(moment)), round(curve.area().center().y()))


def test_the_banner_says_replay_the_moment_and_not_live(qtbot) -> None:
    bar = make(qtbot)
    assert bar.banner_text() == "回放 2026-11-24 09:40 · 非实时"
    assert bar.banner.full_text() == bar.banner_text() and not bar.banner.is_elided()
    assert bar.banner.objectName() == "replayBanner"
    assert bar.date.full_text() == "2026-11-24"
    bar.set_position(D + 23 * 3600 + 59 * 60 + 59, True, 60.0)  # China time, not UTC
    assert bar.banner.full_text() == "回放 2026-11-24 23:59 · 非实时"
    bar.set_position(D + DAY, True, 60.0)
    assert bar.banner.full_text() == "回放 2026-11-25 00:00 · 非实时"


def test_a_click_on_the_curve_seeks_once_to_the_moment_under_the_mouse(qtbot) -> None:
    bar = make(qtbot)
    found = seeks(bar)
    target = D + 15 * 3600 + 20 * 60
    QTest.mouseClick(bar.curve, Qt.MouseButton.LeftButton, pos=point_at(bar, target))
    assert len(found) == 1 and abs(found[0] - target) < 60
    # The playhead is there at once, before the backend reports the new position.
    shown = bar.curve.shown_at()
    assert shown is not None and abs(shown - target) < 60
    bar.set_position(found[0], False, 1.0)
    assert bar.curve.pending is None and bar.curve.shown_at() == found[0]


def test_a_drag_moves_the_playhead_and_seeks_once_on_release(qtbot) -> None:
    bar = make(qtbot)
    found = seeks(bar)
    curve = bar.curve
    QTest.mousePress(curve, Qt.MouseButton.LeftButton, pos=point_at(bar, D + 3 * 3600))
    for hour in (4, 6, 9, 12, 14):
        moment = D + hour * 3600
        QTest.mouseMove(curve, point_at(bar, moment))
        shown = curve.shown_at()
        assert shown is not None and abs(shown - moment) < 60
        bar.set_position(AT + hour, True, 60.0)  # the backend plays on: the mouse wins
        assert curve.shown_at() == shown
    assert found == []  # nothing while the mouse moves
    end = D + 14 * 3600 + 35 * 60
    QTest.mouseRelease(curve, Qt.MouseButton.LeftButton, pos=point_at(bar, end))
    assert len(found) == 1 and abs(found[0] - end) < 60


def test_a_drag_dropped_by_hiding_seeks_nowhere(qtbot) -> None:
    bar = make(qtbot)
    found = seeks(bar)
    QTest.mousePress(bar.curve, Qt.MouseButton.LeftButton, pos=point_at(bar, D + 3 * 3600))
    bar.hide()  # e.g. End: back to live while the mouse is down
    QTest.mouseRelease(bar.curve, Qt.MouseButton.LeftButton, pos=point_at(bar, D + 5 * 3600))
    assert found == [] and bar.curve.shown_at() == AT


def test_the_curve_tells_each_hours_arrivals(qtbot) -> None:
    bar = make(qtbot)
    curve = bar.curve
    point = point_at(bar, D + 8.5 * 3600)
    event = QHelpEvent(QEvent.Type.ToolTip, point, curve.mapToGlobal(point))
    QApplication.sendEvent(curve, event)
    assert QToolTip.text() == "08:00–09:00 接报 96 件"
    QToolTip.hideText()


def test_the_curve_seeks_no_further_than_the_history_kept(qtbot) -> None:
    latest = D + 13 * 3600 + 12 * 60  # today, so far
    bar = make(qtbot, earliest=D - 5 * DAY, latest=latest, curve=CURVE[:14])
    found = seeks(bar)
    QTest.mouseClick(bar.curve, Qt.MouseButton.LeftButton, pos=point_at(bar, D + 20 * 3600))
    assert found == [latest]
    assert not bar.next_day.isEnabled()


def test_enter_in_the_time_field_seeks_to_that_time_of_the_day_shown(qtbot) -> None:
    bar = make(qtbot)
    found = seeks(bar)
    field = bar.time_field
    for text, expected in (("13:05", 13 * 3600 + 5 * 60), ("7:30", 7.5 * 3600), ("0000", 0)):
        field.setText(text)
        QTest.keyClick(field, Qt.Key.Key_Return)
        assert found[-1] == D + expected
        assert bar.message_text() == "" and field.text() == ""
    assert len(found) == 3
    assert parse_time_of_day("09：40") == 9 * 3600 + 40 * 60  # a Chinese input method's colon


@pytest.mark.parametrize("text", ["25:99", "abc", "24:00", "12:60", "", "1:2:3"])
def test_a_bad_time_shows_a_message_and_seeks_nowhere(qtbot, text: str) -> None:
    bar = make(qtbot)
    found = seeks(bar)
    bar.time_field.setText(text)
    QTest.keyClick(bar.time_field, Qt.Key.Key_Return)
    assert found == []
    assert bar.message.full_text() == f"时间“{text}”无效：请输入 00:00 至 23:59，如 09:40"
    assert bar.message.isVisible() and bar.time_field.property("invalid") is True
    bar.time_field.selectAll()
    QTest.keyClicks(bar.time_field, "1")  # editing again clears the complaint
    assert bar.message.full_text() == "" and bar.time_field.property("invalid") is False


def test_a_time_outside_the_history_is_refused_with_the_bounds(qtbot) -> None:
    bar = make(qtbot, earliest=D - DAY, latest=D + 13 * 3600, curve=CURVE[:14])
    found = seeks(bar)
    bar.set_message("检查点已载入")
    bar.time_field.setText("23:30")
    QTest.keyClick(bar.time_field, Qt.Key.Key_Return)
    assert found == []
    assert bar.message.full_text() == (
        "2026-11-24 23:30 不在可回放的范围内（2026-11-23 00:00 至 2026-11-24 13:00）"
    )
    bar.time_field.setText("12:00")
    QTest.keyClick(bar.time_field, Qt.Key.Key_Return)
    assert found == [D + 12 * 3600]
    assert bar.message.full_text() == "检查点已载入"  # the backend's note again


def test_the_day_buttons_seek_the_same_time_a_day_away_within_the_history(qtbot) -> None:
    bar = make(qtbot, earliest=D - 2 * DAY + 600, latest=D + DAY + 12 * 3600)
    found = seeks(bar)
    assert bar.previous_day.isEnabled() and bar.next_day.isEnabled()
    QTest.mouseClick(bar.previous_day, Qt.MouseButton.LeftButton)
    QTest.mouseClick(bar.next_day, Qt.MouseButton.LeftButton)
    assert found == [AT - DAY, AT + DAY]
    # The next day, the last one kept: 09:40 is there; no day after it.
    bar.set_day(D + DAY, CURVE[:12], D - 2 * DAY + 600, D + DAY + 12 * 3600)
    bar.set_position(AT + DAY, False, 1.0)
    assert bar.previous_day.isEnabled() and not bar.next_day.isEnabled()
    QTest.mouseClick(bar.next_day, Qt.MouseButton.LeftButton)  # disabled: nothing
    assert len(found) == 2
    # The first day kept starts at 00:10: its previous day is out, and 00:05 goes to 00:10.
    bar.set_day(D - DAY, CURVE, D - 2 * DAY + 600, D + DAY + 12 * 3600)
    bar.set_position(D - DAY + 300, False, 1.0)
    assert bar.previous_day.isEnabled()
    QTest.mouseClick(bar.previous_day, Qt.MouseButton.LeftButton)
    assert found[-1] == D - 2 * DAY + 600
    bar.set_day(D - 2 * DAY, CURVE, D - 2 * DAY + 600, D + DAY + 12 * 3600)
    assert not bar.previous_day.isEnabled() and bar.next_day.isEnabled()


def test_play_pause_speed_step_and_live(qtbot) -> None:
    bar = make(qtbot)
    events: list[tuple[str, float | None]] = []
    bar.playRequested.connect(lambda speed: events.append(("play", speed)))
    bar.pauseRequested.connect(lambda: events.append(("pause", None)))
    bar.stepRequested.connect(lambda: events.append(("step", None)))
    bar.liveRequested.connect(lambda: events.append(("live", None)))
    assert bar.play.text() == "播放"
    QTest.mouseClick(bar.play, Qt.MouseButton.LeftButton)
    QTest.mouseClick(bar.speed_buttons[2], Qt.MouseButton.LeftButton)  # paused: only chosen
    assert events == [("play", 1.0)] and bar.speed() == 60.0
    QTest.mouseClick(bar.play, Qt.MouseButton.LeftButton)
    bar.set_position(AT + 60, True, 60.0)
    assert bar.play.text() == "暂停" and bar.is_playing()
    QTest.mouseClick(bar.speed_buttons[3], Qt.MouseButton.LeftButton)  # playing: plays faster
    QTest.mouseClick(bar.play, Qt.MouseButton.LeftButton)
    QTest.mouseClick(bar.step, Qt.MouseButton.LeftButton)
    QTest.mouseClick(bar.live, Qt.MouseButton.LeftButton)
    assert events[1:] == [
        ("play", 60.0),
        ("play", 600.0),
        ("pause", None),
        ("step", None),
        ("live", None),
    ]
    assert [b.text() for b in bar.speed_buttons] == ["1×", "10×", "60×", "600×", "3600×"]
    assert bar.step.text() == "一步" and bar.live.text() == "回到实时 (End)"
    bar.set_position(AT + 120, True, 3600.0)  # the backend's speed is shown
    assert bar.speed_buttons[4].isChecked() and bar.speed() == 3600.0


def test_keys_in_the_bar_and_in_its_window(qtbot) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    other = QLabel("表格", window)
    other.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    bar = TimeBar(window)
    layout = QVBoxLayout(window)
    layout.addWidget(other)
    layout.addWidget(bar)
    bar.set_day(D, CURVE, D - DAY, D + DAY)
    window.resize(1280, 300)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)
    keys: list[str] = []
    bar.playRequested.connect(lambda speed: keys.append(f"play {speed:g}"))
    bar.pauseRequested.connect(lambda: keys.append("pause"))
    bar.stepRequested.connect(lambda: keys.append("step"))
    bar.liveRequested.connect(lambda: keys.append("live"))
    for target in (bar, other):  # the bar focused; anything else in its window
        for key in (Qt.Key.Key_Space, Qt.Key.Key_Right, Qt.Key.Key_End):
            QTest.keyClick(target, key)
    assert keys == ["play 1", "step", "live"] * 2
    keys.clear()
    bar.set_position(AT, True, 1.0)
    QTest.keyClick(other, Qt.Key.Key_Space)
    assert keys == ["pause"]
    keys.clear()
    # Keys a focused widget uses stay with it: the time field's cursor, a button's Space.
    for key in (Qt.Key.Key_Space, Qt.Key.Key_Right, Qt.Key.Key_End):
        QTest.keyClick(bar.time_field, key)
    QTest.keyClick(bar.step, Qt.Key.Key_Space)
    QTest.keyClick(bar.live, Qt.Key.Key_Return)  # Enter presses a focused button too
    assert keys == ["step", "live"]
    keys.clear()
    # A window's own End wins (no ambiguous shortcut: both would be silenced).
    own: list[str] = []
    shortcut = QShortcut(QKeySequence(Qt.Key.Key_End), window)
    shortcut.activated.connect(lambda: own.append("window"))
    shortcut.activatedAmbiguously.connect(lambda: own.append("ambiguous"))
    other.setFocus()
    QTest.keyClick(other, Qt.Key.Key_End)
    assert own == ["window"] and keys == []
    # Hidden, the bar takes no key of its window.
    bar.hide()
    QTest.keyClick(other, Qt.Key.Key_Right)
    assert keys == []


def test_a_window_destroyed_with_the_bar_in_it(qtbot) -> None:
    """The bar hides as its window goes: it lets go of the window's keys without touching
    the window's remains (pytest-qt fails the test on an exception in a Qt override)."""
    window = QWidget()
    bar = TimeBar(window)
    window.show()
    qtbot.waitExposed(window)
    assert bar.isVisible()
    shiboken6.delete(window)
    assert not shiboken6.isValid(bar)


def test_every_control_is_reachable_by_tab(qtbot) -> None:
    bar = make(qtbot)
    bar.activateWindow()
    bar.previous_day.setFocus()
    order = []
    widget: QWidget | None = bar.previous_day
    for _ in range(11):
        assert widget is not None
        order.append(widget)
        widget = widget.nextInFocusChain()
        while widget is not None and not widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
            widget = widget.nextInFocusChain()
    assert order == [
        bar.previous_day,
        bar.next_day,
        bar.time_field,
        bar.play,
        *bar.speed_buttons,
        bar.step,
        bar.live,
    ]


def test_set_text_px_scales_every_text(qtbot) -> None:
    bar = make(qtbot, px=None)
    small = bar.height()
    for px in (18, 30):
        bar.set_text_px(px)
        texts = [bar.banner, bar.date, bar.time_field, *bar.findChildren(QPushButton)]
        assert {w.font().pixelSize() for w in texts} == {px}
        assert bar.curve.tick_font.pixelSize() == px
        assert bar.banner.font().bold()
    bar.resize(1920, bar.sizeHint().height())
    assert bar.sizeHint().height() > small * 1.5


class _LayoutRequests(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


def test_set_position_repaints_only_the_curve_and_the_banner(qtbot, monkeypatch) -> None:
    bar = make(qtbot)
    QApplication.processEvents()
    requests = _LayoutRequests()
    for widget in (bar, *bar.findChildren(QWidget)):
        widget.installEventFilter(requests)
    geometries = {w: w.geometry() for w in bar.findChildren(QWidget)}
    repaints: list[int] = []
    monkeypatch.setattr(bar.curve, "update", lambda: repaints.append(1))
    for step in range(300):  # 3600×: a new minute on every call; play and pause flip
        bar.set_position(AT + (step + 1) * 120, step % 50 < 25, 3600.0)
    QApplication.processEvents()
    assert requests.count == 0
    assert {w: w.geometry() for w in bar.findChildren(QWidget)} == geometries
    assert len(repaints) == 300
    assert bar.banner.full_text() == "回放 2026-11-24 19:40 · 非实时"


def test_busy_and_messages_leave_the_controls_usable(qtbot) -> None:
    bar = make(qtbot)
    bar.set_busy(True)
    assert bar.busy.isVisible() and bar.busy.full_text() == "正在载入…"
    controls = [bar.play, bar.step, bar.live, bar.previous_day, bar.time_field]
    assert all(w.isEnabled() for w in [*controls, *bar.speed_buttons])
    found = seeks(bar)
    QTest.mouseClick(bar.curve, Qt.MouseButton.LeftButton, pos=point_at(bar, D + 6 * 3600))
    assert len(found) == 1
    bar.set_position(AT, False, 1.0)  # the old position, while the seek is loading
    assert bar.curve.shown_at() == found[0]
    bar.set_busy(False)
    assert not bar.busy.isVisible() and bar.curve.shown_at() == AT
    bar.set_message("回放数据缺失：2026-11-20 的检查点已被清理")
    assert bar.message.full_text() == "回放数据缺失：2026-11-20 的检查点已被清理"
    assert bar.message.isVisible() and not bar.message.is_elided()
    bar.set_message("")
    assert bar.message.full_text() == ""


def test_no_timer_of_its_own(qtbot) -> None:
    bar = make(qtbot)
    bar.set_position(AT, True, 60.0)
    assert [t for t in bar.findChildren(QTimer) if t.isActive()] == []
    bar.hide()
    assert [t for t in bar.findChildren(QTimer) if t.isActive()] == []


def clashes(bar: TimeBar) -> list[str]:
    """Texts cut short or widgets over one another: what a reader would see wrong."""
    found = []
    row = [w for w in bar.findChildren(QWidget) if w.isVisible() and w is not bar.curve]
    for widget in row:
        hint = widget.sizeHint()
        if isinstance(widget, ElidedLabel):
            if widget.is_elided():
                found.append(f"{widget.objectName()} elided: {widget.full_text()!r}")
        elif isinstance(widget, QLineEdit):  # its hint is generic: what it shows must fit
            option = QStyleOptionFrame()
            widget.initStyleOption(option)
            room = widget.style().subElementRect(
                QStyle.SubElement.SE_LineEditContents, option, widget
            )
            metrics = widget.fontMetrics()
            for text in ("23:59", widget.placeholderText()):
                if metrics.horizontalAdvance(text) > room.width() - 4:  # 2 px each side
                    found.append(f"{widget.objectName()} cuts {text!r}")
            if room.height() < metrics.height():
                found.append(f"{widget.objectName()} too low")
        elif widget.width() < hint.width() or widget.height() < hint.height():
            found.append(f"{widget.objectName()} {widget.size()} < {hint}")
        if not bar.rect().contains(widget.geometry()):
            found.append(f"{widget.objectName()} outside the bar")
    for first, second in combinations([*row, bar.curve], 2):
        if first.geometry().intersects(second.geometry()):
            found.append(f"{first.objectName()} over {second.objectName()}")
    labels = bar.curve.hour_labels()
    for (one, _), (two, _) in pairwise(labels):
        if one.right() >= two.left():
            found.append("hour labels overlap")
    if len(labels) < 9:
        found.append(f"hour labels every {bar.curve.hour_step()} h")
    return found


SIZES = [(1920, 18), (1280, None)]


@pytest.mark.parametrize(("width", "px"), SIZES, ids=["1920-18px", "1280-default"])
def test_nothing_is_cut_or_overlaps_in_chinese(qtbot, width: int, px: int | None) -> None:
    bar = make(qtbot, width=width, px=px)
    bar.set_busy(True)
    bar.set_message("无法载入检查点：连接中断")
    bar.set_position(AT, True, 3600.0)
    assert clashes(bar) == []
    if px is not None:
        assert min(w.font().pixelSize() for w in bar.findChildren(QPushButton)) >= px


@pytest.mark.parametrize(("width", "px"), SIZES, ids=["1920-18px", "1280-default"])
def test_nothing_is_cut_or_overlaps_in_english(qtbot, english, width: int, px: int | None) -> None:
    bar = make(qtbot, width=width, px=px)
    bar.set_busy(True)
    bar.set_message("Checkpoint missing")
    bar.set_position(AT, True, 3600.0)
    assert clashes(bar) == []


def test_in_english_the_banner_says_not_live(qtbot, english) -> None:
    bar = make(qtbot)
    assert bar.banner_text() == "Replay 2026-11-24 09:40 · NOT LIVE"
    assert bar.banner.full_text() == bar.banner_text() and not bar.banner.is_elided()
    assert bar.live.text() == "Back to live (End)"
    assert (bar.play.text(), bar.step.text()) == ("Play", "Step")
    bar.time_field.setText("abc")
    QTest.keyClick(bar.time_field, Qt.Key.Key_Return)
    assert bar.message.full_text() == "Invalid time “abc”: enter 00:00 to 23:59, e.g. 09:40"


def test_a_language_change_retranslates_the_bar(qtbot, qapp) -> None:
    bar = make(qtbot)
    banner = bar.banner.width()
    translator = QTranslator()
    assert translator.load(str(QM)) and qapp.installTranslator(translator)
    try:
        qtbot.waitUntil(lambda: bar.banner.full_text() == "Replay 2026-11-24 09:40 · NOT LIVE")
        assert bar.play.text() == "Play" and bar.previous_day.toolTip().startswith("The same")
        assert not bar.banner.is_elided() and bar.banner.width() > banner
    finally:
        qapp.removeTranslator(translator)
    qtbot.waitUntil(lambda: bar.banner.full_text() == "回放 2026-11-24 09:40 · 非实时")


def test_screenshot(qtbot) -> None:
    """The bar at 1920 wide (the wall's text size), playing at 60×, after 15:00 not yet kept."""
    bar = make(qtbot, latest=D + 15 * 3600 + 25 * 60, curve=CURVE[:16])
    bar.set_position(AT, True, 60.0)
    bar.set_busy(True)
    bar.set_message("检查点 09:30 已载入")
    image = bar.grab()
    assert image.width() == 1920
    target = os.environ.get("TG_SHOT")
    if target and target.endswith("time-bar.png"):
        assert image.save(target)
