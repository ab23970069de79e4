"""The hourly trend plots today against yesterday in place, inertly, with fonts that scale."""

from __future__ import annotations

import os
import subprocess
import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage

from widgets.trend_chart import TODAY_COLOUR, YESTERDAY_COLOUR, HourlyTrend, nice_scale

TODAY = [12, 8, 5, 4, 6, 15, 38, 72, 96, 88, 81, 64, 55, 70]
YESTERDAY = [10, 7, 6, 5, 7, 18, 41, 80, 102, 95, 77, 60, 58, 75, 83, 79, 72, 66, 58, 50, 41, 33]
YESTERDAY += [25, 18]


def make(qtbot, width: int = 640, height: int = 300) -> HourlyTrend:
    trend = HourlyTrend()
    qtbot.addWidget(trend)
    trend.show()
    trend.resize(width, height)
    qtbot.waitUntil(lambda: trend.height() == height)
    return trend


def painted(trend: HourlyTrend) -> QImage:
    return trend.plot.grab().toImage()


def colours(image: QImage) -> set[str]:
    return {
        image.pixelColor(x, y).name()
        for x in range(0, image.width(), 2)
        for y in range(0, image.height(), 2)
    }


def test_bars_and_line_carry_the_data(qtbot) -> None:
    trend = make(qtbot)
    trend.show(TODAY, YESTERDAY)
    plot = trend.plot
    assert plot.today == tuple(TODAY) and plot.yesterday == tuple(YESTERDAY)
    assert max(YESTERDAY) < plot.top * plot.headroom < max(YESTERDAY) * 1.5
    assert not plot.showing_empty()
    assert trend.title.text() == "今日与昨日每小时接报量"
    assert (trend.today_key.text(), trend.yesterday_key.text()) == ("今日", "昨日")
    assert [label for _, label in plot.hour_labels()] == [f"{h}时" for h in range(0, 24, 3)]
    assert [v for v, _ in plot.y_labels()] == list(range(0, plot.top + 1, plot.step))
    # Drawn: today's bars in their colour; the tallest bar's top near the top of the area.
    image = painted(trend)
    assert QColor(TODAY_COLOUR).name() in colours(image)
    area = plot.area()
    x = round(area.left() + (8 + 0.6) / 24.2 * area.width())  # 08时, 96 cases
    tops = [y for y in range(image.height()) if image.pixelColor(x, y).name() == TODAY_COLOUR]
    expected = area.bottom() - 96 / (plot.top * plot.headroom) * area.height()
    assert tops and abs(min(tops) - expected) <= 2


def test_repeated_data_costs_nothing(qtbot, monkeypatch) -> None:
    trend = make(qtbot)
    updates = []
    monkeypatch.setattr(trend.plot, "update", lambda: updates.append(1))
    trend.show(TODAY, YESTERDAY)
    assert updates
    updates.clear()
    trend.show(list(TODAY), list(YESTERDAY))
    assert not updates
    trend.show([*TODAY, 90], YESTERDAY)
    assert updates and trend.plot.today[-1] == 90


def test_empty_state_and_overlong_input(qtbot) -> None:
    trend = make(qtbot)
    trend.show([], [])
    assert trend.plot.showing_empty() and trend.plot.empty_text == "暂无数据"
    assert len(trend.fonts()) == 2  # the note's font is checked for the wall's 1/60 rule too
    assert QColor(TODAY_COLOUR).name() not in colours(painted(trend))
    trend.show(list(range(30)), [])
    assert not trend.plot.showing_empty()
    assert len(trend.plot.today) == 24


def test_yesterday_is_a_dashed_line(qtbot) -> None:
    trend = make(qtbot)
    trend.show([], YESTERDAY)
    line = QColor(YESTERDAY_COLOUR)
    image = painted(trend)
    near = [
        c
        for c in colours(image)
        if abs(QColor(c).red() - line.red()) < 24 and abs(QColor(c).blue() - line.blue()) < 24
    ]
    assert near, "the line was not drawn"
    assert QColor(TODAY_COLOUR).name() not in colours(image)


def test_no_mouse_interaction(qtbot) -> None:
    trend = make(qtbot)
    assert trend.plot.testAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
    assert trend.plot.focusPolicy() == Qt.FocusPolicy.NoFocus


def test_fonts_scale_with_height(qtbot) -> None:
    trend = make(qtbot)
    small_tick, small_title = trend.tick_font().pixelSize(), trend.title.font().pixelSize()
    trend.resize(3840, 900)
    qtbot.waitUntil(lambda: trend.tick_font().pixelSize() > small_tick)
    assert trend.title.font().pixelSize() > small_title
    assert trend.today_key.font().pixelSize() > 16


def test_the_wall_and_the_desk_import_no_plotting_library() -> None:
    """The chart is painted by hand: starting the wall or the desk imports neither pyqtgraph
    nor numpy (a third of a second of the wall's start, on the machines of bench §4)."""
    probe = (
        "import sys, desktop.ui.app, desktop.ui.wall, desktop.ui.desk.window;"
        "print(sorted(m for m in ('pyqtgraph', 'numpy') if m in sys.modules))"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "[]"


def test_nice_scale_gives_round_tops() -> None:
    assert nice_scale(0) == (5, 1)
    assert nice_scale(102) == (125, 25)
    for peak in (1, 7, 46, 480, 999, 25000):
        top, step = nice_scale(peak)
        assert top > peak and top % step == 0 and top // step <= 5
