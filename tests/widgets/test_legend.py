"""A legend says what each colour means, wraps to its width and keeps a caption with its key."""

from __future__ import annotations

from PySide6.QtGui import QColor

from widgets.legend import Key, KeyGroup, Legend

GROUPS = [
    KeyGroup(
        "事件", (Key("特急", "#ff4d4f"), Key("紧急", "#ffb300"), Key("未派遣", "#ffffff", "ring"))
    ),
    KeyGroup("网格", (Key("有超期", "#d46b08", "square"), Key("昨日", "#9aa8bd", "dash"))),
]


def test_keys_wrap_to_the_width_and_a_caption_stays_with_its_first_key(qtbot) -> None:
    legend = Legend(GROUPS)
    qtbot.addWidget(legend)
    legend.set_text_px(26)
    wide = legend.sizeHint().width()
    assert legend.lines_for(wide + 10) == 1
    assert legend.heightForWidth(wide + 10) == legend.line_height()
    assert legend.lines_for(wide // 2) >= 2
    for width in range(120, wide, 40):
        placed = legend._place(width)
        for index, item in enumerate(placed):
            if item.key is None:  # a caption: its first key follows on the same line
                assert placed[index + 1].line == item.line
            assert item.x + item.width <= width + 1
    assert [f.pixelSize() for f in legend.fonts()] == [26]


def test_each_key_is_painted_in_its_colour(qtbot) -> None:
    legend = Legend(GROUPS)
    qtbot.addWidget(legend)
    legend.set_text_px(20)
    legend.resize(legend.sizeHint().width() + 20, legend.line_height())
    legend.show()
    qtbot.waitExposed(legend)
    image = legend.grab().toImage()
    colours = {
        image.pixelColor(x, y).name() for x in range(image.width()) for y in range(image.height())
    }
    for key in ("#ff4d4f", "#ffb300", "#d46b08"):
        assert any(_near(QColor(c), QColor(key)) for c in colours), key


def _near(a: QColor, b: QColor) -> bool:
    return abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue()) < 30
