"""SnapshotView: a snapshot as large as the widget allows, its aspect kept, drawn afresh (and
sharp) for every size, also when it arrived while the widget was hidden and small."""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize
from PySide6.QtGui import QColor, QImage

from widgets.snapshot_view import SnapshotView

# 320x180 (16:9, as the backend's snapshots): white left half, black right half.
SVG = (
    b"<svg xmlns='http://www.w3.org/2000/svg' width='320' height='180'>"
    b"<rect width='160' height='180' fill='#fff'/>"
    b"<rect x='160' width='160' height='180' fill='#000'/></svg>"
)


def png(width: int, height: int) -> bytes:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("#3366cc"))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


def test_an_svg_fills_the_width_or_the_height_and_is_drawn_at_that_size(qtbot) -> None:
    view = SnapshotView()
    qtbot.addWidget(view)
    view.resize(1200, 900)
    view.show()
    assert view.set_source(SVG)
    target = view.target()
    assert (target.width(), target.height()) == (1200, 675)  # the width, 16:9 kept
    assert (target.left(), target.top()) == (0, 112.5)  # centred
    pixmap = view.rendered()
    assert pixmap is not None
    ratio = view.devicePixelRatioF()
    assert pixmap.size() == QSize(round(1200 * ratio), round(675 * ratio))
    # Sharp: the edge between the halves is drawn at this size, one pixel wide at most,
    # not a 320-pixel picture blown up (a blur several pixels wide).
    row = pixmap.toImage().copy(0, pixmap.height() // 2, pixmap.width(), 1)
    greys = [QColor(row.pixel(x, 0)).lightness() for x in range(row.width())]
    between = [g for g in greys if 10 < g < 245]
    assert len(between) <= 1, between
    # Taller than wide: the height is filled instead.
    view.resize(400, 900)
    target = view.target()
    assert (target.width(), target.height()) == (400, 225)


def test_a_snapshot_set_while_hidden_and_small_is_large_once_shown(qtbot) -> None:
    view = SnapshotView()
    qtbot.addWidget(view)
    view.resize(320, 180)
    assert view.set_source(SVG)  # hidden, small (a page not shown yet)
    view.resize(1600, 900)
    view.show()
    qtbot.waitExposed(view)
    pixmap = view.rendered()
    assert pixmap is not None
    assert pixmap.deviceIndependentSize().toSize() == QSize(1600, 900)


def test_a_raster_image_keeps_its_aspect_and_bad_bytes_change_nothing(qtbot) -> None:
    view = SnapshotView()
    qtbot.addWidget(view)
    view.resize(1000, 1000)
    assert view.set_source(png(800, 600))
    assert view.source_size() == QSize(800, 600)
    target = view.target()
    assert (target.width(), target.height()) == (1000, 750)
    assert not view.set_source(b"not a picture")  # refused: the snapshot stays
    assert view.has_snapshot() and view.source_size() == QSize(800, 600)
    view.set_text("正在载入抓拍图…")
    assert not view.has_snapshot() and view.rendered() is None
    assert view.text() == "正在载入抓拍图…"
