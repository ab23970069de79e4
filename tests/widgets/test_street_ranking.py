"""The street ranking paints up to nine bars, repaints only on change, and reports clicks."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from widgets.street_ranking import RankRow, StreetRanking

NAMES = ["菱湖街道", "德宽路街道", "玉琳路街道", "龙山路街道", "石化路街道"]
NAMES += ["集贤路街道", "花亭街道", "十里铺乡", "山口乡", "海口镇"]
VALUES = [128, 117, 96, 88, 73, 61, 40, 22, 9, 3]
TONES = ["alarm", "warn"] + ["normal"] * 8
ROWS = [
    RankRow(f"s{i}", name, value, f"{value}件", tone)
    for i, (name, value, tone) in enumerate(zip(NAMES, VALUES, TONES, strict=True))
]


def make(qtbot, title: str = "各街道今日受理量") -> StreetRanking:
    ranking = StreetRanking(title)
    qtbot.addWidget(ranking)
    ranking.show()
    ranking.resize(480, 360)
    qtbot.waitUntil(lambda: ranking.height() == 360)
    return ranking


def near(colour: QColor, hex_colour: str) -> bool:
    want = QColor(hex_colour)
    return all(abs(a - b) < 12 for a, b in zip(colour.getRgb()[:3], want.getRgb()[:3], strict=True))


def test_rows_are_shown_nine_at_most_with_tone_colours(qtbot) -> None:
    ranking = make(qtbot)
    ranking.show(ROWS)
    assert ranking.rows() == tuple(ROWS[:9])
    assert ranking.title() == "各街道今日受理量"
    image = ranking.grab().toImage()
    y = round(ranking.row_rect(0).center().y())
    top_bar = [
        image.pixelColor(x, y) for x in range(ranking.width() // 2, ranking.width() // 2 + 5)
    ]
    assert all(near(c, "#ff4d4f") for c in top_bar)  # the alarm row's bar is red
    y = round(ranking.row_rect(1).center().y())
    assert near(image.pixelColor(ranking.width() // 2, y), "#ffb300")
    y = round(ranking.row_rect(2).center().y())
    assert near(image.pixelColor(ranking.width() // 2, y), "#5b8def")


def test_unchanged_rows_do_not_repaint(qtbot, monkeypatch) -> None:
    ranking = make(qtbot)
    updates = []
    monkeypatch.setattr(ranking, "update", lambda: updates.append(1))
    ranking.show(ROWS)
    ranking.show(list(ROWS))
    assert updates == [1]
    ranking.show([*ROWS[:8], RankRow("s9", "山口乡", 10, "10件")])
    assert updates == [1, 1]
    ranking.set_title("各街道今日受理量")
    assert updates == [1, 1]


def test_empty_state_is_painted(qtbot) -> None:
    ranking = make(qtbot)
    ranking.show([])
    assert ranking.rows() == ()
    image = ranking.grab().toImage()
    centre = ranking.rect().center()
    pixels = [
        image.pixelColor(x, y)
        for x in range(centre.x() - 60, centre.x() + 60)
        for y in range(centre.y() - 15, centre.y() + 15)
    ]
    assert any(p.lightness() > 100 for p in pixels)  # "暂无数据" is drawn in the middle


def test_clicking_a_row_emits_its_key(qtbot) -> None:
    ranking = make(qtbot)
    ranking.show(ROWS)
    with qtbot.waitSignal(ranking.clicked, timeout=1000) as blocker:
        qtbot.mouseClick(
            ranking, Qt.MouseButton.LeftButton, pos=ranking.row_rect(3).center().toPoint()
        )
    assert blocker.args == ["s3"]
    ranking.show(ROWS[:2])
    with qtbot.assertNotEmitted(ranking.clicked):
        qtbot.mouseClick(
            ranking, Qt.MouseButton.LeftButton, pos=ranking.row_rect(5).center().toPoint()
        )


def test_fonts_scale_with_height(qtbot) -> None:
    ranking = make(qtbot)
    ranking.show(ROWS)
    small, title = ranking.font().pixelSize(), ranking.title_font.pixelSize()
    ranking.resize(3840, 1440)
    qtbot.waitUntil(lambda: ranking.font().pixelSize() > small)
    assert ranking.title_font.pixelSize() > title
    assert ranking.row_rect(8).bottom() <= ranking.height()


def test_without_a_title_the_rows_take_the_space(qtbot) -> None:
    ranking = make(qtbot, title="")
    ranking.show(ROWS)
    no_title = ranking.row_rect(0).height()
    ranking.set_title("街道按期结案率排名")
    assert ranking.row_rect(0).height() < no_title


def test_the_figures_are_never_cut_the_names_give_way(qtbot) -> None:
    """On the wall the text is at least 1/60 of the screen high and the panel narrow: the
    bars and then the names give way, never the figures ("98.6分 · 超…" hid the count)."""
    ranking = StreetRanking("街道综合得分 · 本月")
    ranking.set_text_px(18)  # the wall's floor at 1080p
    qtbot.addWidget(ranking)
    ranking.show()
    ranking.resize(400, 360)
    qtbot.waitUntil(lambda: ranking.width() == 400)
    rows = [
        RankRow(f"s{i}", name, 98.0 - i, f"{98.0 - i:.1f}分 · 超期{12 + i}")
        for i, name in enumerate(NAMES[:9])
    ]
    ranking.show(rows)
    painted = ranking.painted_texts()
    assert [text for _, text in painted] == [row.text for row in rows]
    assert all(name == row.name or name.endswith("…") for (name, _), row in zip(painted, rows))
