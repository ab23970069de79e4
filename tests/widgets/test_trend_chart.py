"""The hourly trend plots today against yesterday in place, inertly, with fonts that scale."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from widgets.trend_chart import HourlyTrend, nice_scale

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


def test_bars_and_line_carry_the_data(qtbot) -> None:
    trend = make(qtbot)
    trend.show(TODAY, YESTERDAY)
    assert np.array_equal(trend.today_bars.opts["x"], np.arange(len(TODAY)))
    assert np.array_equal(trend.today_bars.opts["height"], TODAY)
    x, y = trend.yesterday_curve.getData()
    assert np.array_equal(x, np.arange(24)) and np.array_equal(y, YESTERDAY)
    assert trend.yesterday_curve.opts["pen"].style() == Qt.PenStyle.DashLine
    top = trend.plot.getPlotItem().getViewBox().viewRange()[1][1]
    assert max(YESTERDAY) < top < max(YESTERDAY) * 1.5
    assert not trend.empty_text.isVisible()
    assert trend.title.text() == "今日与昨日每小时接报量"
    assert (trend.today_key.text(), trend.yesterday_key.text()) == ("今日", "昨日")
    ticks = trend.plot.getPlotItem().getAxis("bottom")._tickLevels[0]
    assert [label for _, label in ticks] == [f"{h}时" for h in range(0, 24, 3)]


def test_repeated_data_costs_nothing_and_items_are_reused(qtbot, monkeypatch) -> None:
    trend = make(qtbot)
    calls = []
    bars_set, curve_set = trend.today_bars.setOpts, trend.yesterday_curve.setData
    monkeypatch.setattr(trend.today_bars, "setOpts", lambda **kw: calls.append(1) or bars_set(**kw))
    monkeypatch.setattr(
        trend.yesterday_curve, "setData", lambda **kw: calls.append(2) or curve_set(**kw)
    )
    items = list(trend.plot.getPlotItem().items)
    trend.show(TODAY, YESTERDAY)
    trend.show(list(TODAY), list(YESTERDAY))
    assert calls == [1, 2]
    trend.show([*TODAY, 90], YESTERDAY)
    assert calls == [1, 2, 1, 2]
    assert np.array_equal(trend.today_bars.opts["height"], [*TODAY, 90])
    assert trend.plot.getPlotItem().items == items  # updated in place, nothing recreated


def test_empty_state_and_overlong_input(qtbot) -> None:
    trend = make(qtbot)
    trend.show([], [])
    assert trend.empty_text.isVisible() and trend.empty_text.textItem.toPlainText() == "暂无数据"
    assert len(trend.today_bars.opts["height"]) == 0
    trend.show(list(range(30)), [])
    assert not trend.empty_text.isVisible()
    assert len(trend.today_bars.opts["height"]) == 24


def test_no_mouse_interaction(qtbot) -> None:
    trend = make(qtbot)
    view = trend.plot.getPlotItem().getViewBox()
    assert view.state["mouseEnabled"] == [False, False]
    assert not view.menuEnabled()
    assert trend.plot.testAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)


def test_fonts_scale_with_height(qtbot) -> None:
    trend = make(qtbot)
    small_tick, small_title = trend.tick_font().pixelSize(), trend.title.font().pixelSize()
    trend.resize(3840, 900)
    qtbot.waitUntil(lambda: trend.tick_font().pixelSize() > small_tick)
    assert trend.title.font().pixelSize() > small_title
    assert trend.today_key.font().pixelSize() > 16


def test_nice_scale_gives_round_tops() -> None:
    assert nice_scale(0) == (5, 1)
    assert nice_scale(102) == (125, 25)
    for peak in (1, 7, 46, 480, 999, 25000):
        top, step = nice_scale(peak)
        assert top > peak and top % step == 0 and top // step <= 5
