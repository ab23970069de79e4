"""KPI tiles show their values, tones and scale their fonts with their size."""

from __future__ import annotations

from widgets.kpi_board import KpiBoard, Tile


def test_tiles_show_values_and_tones(qtbot) -> None:
    board = KpiBoard(["received", "on_time", "overdue"], columns=3)
    qtbot.addWidget(board)
    board.resize(900, 200)
    board.show()
    board.show_tiles(
        {
            "received": Tile("今日受理", "412"),
            "on_time": Tile("按期结案率", "97.8%", "good"),
            "overdue": Tile("当前超期", "7", "alarm", hint="超期未办结"),
            "unknown": Tile("忽略", "0"),
        }
    )
    assert board.tiles["received"].value.text() == "412"
    assert board.tiles["on_time"].label.text() == "按期结案率"
    assert "#ff4d4f" in board.tiles["overdue"].value.styleSheet()
    assert board.tiles["overdue"].toolTip() == "超期未办结"


def test_fonts_scale_with_the_wall(qtbot) -> None:
    board = KpiBoard(["received"], columns=1)
    qtbot.addWidget(board)
    board.show()
    board.resize(300, 100)
    qtbot.waitUntil(lambda: board.tiles["received"].height() > 0)
    small = board.tiles["received"].value.font().pixelSize()
    board.resize(1200, 400)
    qtbot.waitUntil(lambda: board.tiles["received"].value.font().pixelSize() > small)
