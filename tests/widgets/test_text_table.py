"""TextTable paints its rows itself from prepared texts; the view's behaviour stays Qt's."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPoint, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage

from widgets.text_table import Cell, PreparedTexts, TextTable

RED = QColor("#ff0000")


class Rows(QAbstractTableModel):
    def __init__(self, rows: list[tuple[Cell, ...]]) -> None:
        super().__init__()
        self.rows = rows
        self.asked = 0

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else 3

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole:
            return self.rows[index.row()][index.column()].text
        return None

    def cells(self, row: int) -> tuple[Cell, ...]:
        self.asked += 1
        return self.rows[row]


def table_with(qtbot, rows: list[tuple[Cell, ...]]) -> tuple[TextTable, Rows]:
    model = Rows(rows)
    table = TextTable(model.cells)
    table.setModel(model)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(30)
    table.setStyleSheet("QTableView { background: #000000; color: #ffffff; }")
    table.resize(420, 200)
    qtbot.addWidget(table)
    table.show()
    qtbot.waitExposed(table)
    return table, model


def paint(qtbot, table: TextTable) -> None:
    """One more paint of the viewport, as the event loop does it."""
    before = table.paints
    table.viewport().update()
    qtbot.waitUntil(lambda: table.paints > before, timeout=2000)


def red_pixels(image: QImage, x0: int, x1: int, y0: int, y1: int) -> int:
    return sum(
        1
        for x in range(x0, x1)
        for y in range(y0, y1)
        if (c := image.pixelColor(x, y)).red() > 150 and c.green() < 90 and c.blue() < 90
    )


def test_rows_are_painted_from_their_cells_in_colour(qtbot) -> None:
    rows = [
        (Cell("特急", RED, int(Qt.AlignmentFlag.AlignCenter)), Cell("菱湖街道"), Cell("0:59")),
        (Cell("一般"), Cell("德宽路街道"), Cell("超 1:30", RED)),
    ] + [(Cell("一般"), Cell(f"第{i}网格"), Cell("2:00")) for i in range(20)]
    table, model = table_with(qtbot, rows)
    for column in range(3):
        table.setColumnWidth(column, 130)
    paint(qtbot, table)
    model.asked = 0
    paint(qtbot, table)
    image = table.viewport().grab().toImage()
    header = 0  # the viewport starts below the header
    assert red_pixels(image, 0, 130, header, header + 30) > 20  # 特急 in red
    assert red_pixels(image, 130, 260, header, header + 30) == 0  # the street in white
    assert red_pixels(image, 260, 390, header + 30, header + 60) > 20  # overdue in red
    # Only the visible rows were asked for, once per paint.
    visible = table.rowAt(table.viewport().height() - 1) + 1
    assert 0 < model.asked <= 3 * visible and visible < len(rows)


def test_texts_are_prepared_once_and_elided_to_the_column(qtbot) -> None:
    rows = [(Cell("一般"), Cell("一个非常非常非常长的网格名称" * 3), Cell("1:00"))] * 4
    table, _ = table_with(qtbot, rows)
    table.setColumnWidth(1, 120)
    paint(qtbot, table)
    prepared = table.texts.prepared
    assert 0 < prepared <= 3  # the same three texts on every row
    for _ in range(5):
        paint(qtbot, table)
    assert table.texts.prepared == prepared
    static, width, _height = table.texts.get(rows[0][1].text, 120 - 2 * table.padding)
    assert width <= 120 and static.text().endswith("…")


def test_selection_clicks_and_empty_models_behave_as_a_table(qtbot) -> None:
    rows = [(Cell("一般"), Cell(f"第{i}网格"), Cell("1:00")) for i in range(5)]
    table, _ = table_with(qtbot, rows)
    table.setSelectionBehavior(TextTable.SelectionBehavior.SelectRows)
    clicked: list[int] = []
    table.clicked.connect(lambda index: clicked.append(index.row()))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(40, 30 + 15))
    assert clicked == [1]
    assert [i.row() for i in table.selectionModel().selectedRows()] == [1]
    paint(qtbot, table)  # the selected row gets the highlight
    image = table.viewport().grab().toImage()
    assert image.pixelColor(3, 30 + 3) != image.pixelColor(3, 3)
    table.setModel(Rows([]))
    table.viewport().update()
    qtbot.wait(50)  # an empty model paints nothing and raises nothing


def test_prepared_texts_forget_the_oldest_and_follow_the_font() -> None:
    texts = PreparedTexts(capacity=2)
    texts.get("一", 100)
    texts.get("二", 100)
    texts.get("三", 100)
    assert texts.prepared == 3
    texts.get("三", 100)
    assert texts.prepared == 3
    texts.get("一", 100)  # forgotten: laid out again
    assert texts.prepared == 4
    font = QFont(texts.font)
    font.setPointSize(font.pointSize() + 10)
    texts.use_font(font)
    texts.get("一", 100)
    assert texts.prepared == 5


def test_a_hidden_column_or_row_takes_its_cells_with_it(qtbot) -> None:
    # Cells are by model column: hiding the first must not shift the red one left.
    rows = [(Cell("一般"), Cell("超 1:30", RED), Cell("菱湖街道"))] + [
        (Cell("一般"), Cell("2:00"), Cell("德宽路街道"))
    ] * 5
    table, _ = table_with(qtbot, rows)
    for column in range(3):
        table.setColumnWidth(column, 130)
    table.setColumnHidden(0, True)
    paint(qtbot, table)
    image = table.viewport().grab().toImage()
    assert red_pixels(image, 0, 130, 0, 30) > 20  # column 1 is now first, still red
    assert red_pixels(image, 130, 260, 0, 30) == 0
    rows.insert(2, rows.pop(0))  # the red row in the middle, then hidden
    table.model().layoutChanged.emit()
    table.setRowHidden(2, True)
    paint(qtbot, table)
    image = table.viewport().grab().toImage()
    assert red_pixels(image, 0, 390, 0, 150) == 0  # gone, and nothing drawn over the others


def test_selected_rows_draw_plain_text_in_the_highlighted_colour(qtbot) -> None:
    rows = [(Cell("一般"), Cell("第一网格"), Cell("1:00"))] * 3
    table, _ = table_with(qtbot, rows)
    table.setStyleSheet(
        "QTableView { background: #000000; color: #ffffff;"
        " selection-background-color: #202020; selection-color: #ff0000; }"
    )
    table.setSelectionBehavior(TextTable.SelectionBehavior.SelectRows)
    table.selectRow(1)
    paint(qtbot, table)
    image = table.viewport().grab().toImage()
    assert red_pixels(image, 0, 390, 30, 60) > 20 and red_pixels(image, 0, 390, 0, 30) == 0


def test_a_narrow_column_shows_the_first_shorter_form_that_fits(qtbot) -> None:
    name, shorter = "腊树园社区第8网格", ("腊树园第8网格", "腊树园第8")
    rows = [(Cell("一般"), Cell(name, shorter=shorter), Cell(name))]
    table, _ = table_with(qtbot, rows)
    metrics = QFontMetrics(table.font())
    width = metrics.horizontalAdvance("腊树园第8") + 4  # the shortest form fits, no other
    for column in (1, 2):
        table.setColumnWidth(column, width + 2 * table.padding)
    paint(qtbot, table)
    assert table.texts.get(name, width, shorter)[0].text() == "腊树园第8"
    assert table.texts.get(name, width)[0].text().endswith("…")  # no forms: elided
    wider = metrics.horizontalAdvance("腊树园第8网格") + 4
    assert table.texts.get(name, wider, shorter)[0].text() == "腊树园第8网格"
    # Not even the shortest fits: it is elided where the cell says (the end by default).
    narrow = metrics.horizontalAdvance("腊树园") + 2
    assert table.texts.get(name, narrow, shorter)[0].text() == "腊树…"
    middle = table.texts.get(name, narrow, shorter, Qt.TextElideMode.ElideMiddle)[0].text()
    assert middle.startswith("腊") and middle.endswith("8") and "…" in middle


def test_whole_rows_fill_the_view_and_a_row_that_would_be_cut_is_not_drawn(qtbot) -> None:
    rows = [(Cell("一般"), Cell(f"第{i}网格", RED), Cell("1时0分")) for i in range(30)]
    table, _ = table_with(qtbot, rows)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.set_whole_rows(32)
    for height in (200, 217, 331):
        table.resize(420, height)
        qtbot.waitUntil(lambda h=height: table.height() == h)
        view = table.viewport().height()
        row = table.verticalHeader().defaultSectionSize()
        fits = table.visible_rows()
        # Rows stretched alike to fill the view: less than one pixel a row is left over.
        assert row >= 32 and fits == view // row and view - fits * row < fits
        # A row text close to the bottom edge would show there: with whole rows, none.
        table.verticalHeader().setDefaultSectionSize(row + 7)
        paint(qtbot, table)
        image = table.viewport().grab().toImage()
        shown = view // (row + 7)
        assert red_pixels(image, 0, image.width(), shown * (row + 7), view) == 0
        assert red_pixels(image, 0, image.width(), 0, shown * (row + 7)) > 0
        table.set_whole_rows(32)
