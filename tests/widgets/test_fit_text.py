"""Text that fits: eliding labels, breakable runs, and the flow layout they sit in."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from widgets.fit_text import ZERO_WIDTH_SPACE, ElidedLabel, breakable, plain
from widgets.flow_layout import FlowLayout


def test_breakable_splits_only_long_unspaced_runs() -> None:
    assert breakable("小区地下车库长期积水" * 10) == "小区地下车库长期积水" * 10
    assert breakable("13905621234 TG-20261122-0031") == "13905621234 TG-20261122-0031"
    run = "a" * 45
    assert (
        breakable(f"见 {run} 。")
        == f"见 {'a' * 20}{ZERO_WIDTH_SPACE}{'a' * 20}{ZERO_WIDTH_SPACE}aaaaa 。"
    )
    assert plain(breakable(run)) == run


def test_a_long_run_no_longer_widens_a_wrapped_label(qtbot) -> None:
    run = "https://example.org/" + "abcdefghij" * 20
    raw = QLabel(run)
    raw.setWordWrap(True)
    fixed = QLabel(breakable(run))
    fixed.setWordWrap(True)
    qtbot.addWidget(raw)
    qtbot.addWidget(fixed)
    assert raw.minimumSizeHint().width() > 1000
    assert fixed.minimumSizeHint().width() < 300


def test_an_elided_label_shortens_and_grows_back(qtbot) -> None:
    holder = QWidget()
    layout = QHBoxLayout(holder)
    label = ElidedLabel("菱湖街道办事处城市管理综合执法中队第三网格")
    layout.addWidget(label)
    qtbot.addWidget(holder)
    holder.resize(120, 40)
    holder.show()
    qtbot.waitExposed(holder)
    qtbot.waitUntil(label.is_elided)
    assert label.text().endswith("…") and label.toolTip() == label.full_text()
    assert label.width() <= 120
    holder.resize(800, 40)
    qtbot.waitUntil(lambda: not label.is_elided())
    assert label.text() == "菱湖街道办事处城市管理综合执法中队第三网格" and label.toolTip() == ""
    label.set_full_text("第一行\n第二行")  # one line always
    assert label.full_text() == "第一行 第二行"
    assert label.minimumSizeHint().width() < label.sizeHint().width()


def test_flow_layout_wraps_and_skips_hidden_items(qtbot) -> None:
    holder = QWidget()
    flow = FlowLayout(holder, 6, 4)
    flow.setContentsMargins(0, 0, 0, 0)
    buttons = [QPushButton(f"按钮{i}") for i in range(6)]
    for button in buttons:
        flow.addWidget(button)
    qtbot.addWidget(holder)
    one_row = flow.heightForWidth(5000)
    assert flow.heightForWidth(buttons[0].sizeHint().width() + 1) >= 6 * one_row
    buttons[5].hide()
    holder.resize(5000, one_row)
    holder.show()
    qtbot.waitExposed(holder)
    assert len({b.y() for b in buttons[:5]}) == 1
    assert flow.count() == 6 and flow.itemAt(6) is None and flow.takeAt(9) is None
    item = flow.takeAt(0)
    assert item is not None and item.widget() is buttons[0] and flow.count() == 5
