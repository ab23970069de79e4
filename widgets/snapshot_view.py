"""A camera snapshot drawn as large as its widget allows, its aspect ratio kept, and crisp.

A picture scaled once when it arrives stays at the size its widget had then: a page built
hidden (its widget at its minimum) shows it small ever after, and one scaled up from a
thumbnail is blurred. This view keeps the source (SVG or an encoded image) and draws it for
the size it has on every resize, at the screen's pixel density: an SVG is rendered at that
size (sharp at any size), a raster image scaled down smoothly from its full resolution (and
up only as far as the space asks). One rendering is kept for the current size.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QRectF, QSize, QSizeF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPixmap, QResizeEvent
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QSizePolicy, QWidget


class SnapshotView(QWidget):
    """`set_source(data)` with an SVG or an encoded image (or `set_pixmap` with a picture
    only); `set_text` for a line in its place (loading, none)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._svg: QSvgRenderer | None = None
        self._image: QImage | None = None
        self._text = ""
        self._rendered: QPixmap | None = None  # for the current size and pixel density
        self._rendered_for: tuple[int, int, float] | None = None

    # ---- what is shown ----------------------------------------------------------------------

    def set_source(self, data: bytes) -> bool:
        """Show a snapshot from its bytes (SVG, PNG, JPEG…); whether they were readable."""
        svg = QSvgRenderer(QByteArray(data))
        if svg.isValid() and not svg.defaultSize().isEmpty():
            self._show(svg, None)
            return True
        image = QImage.fromData(data)
        if image.isNull():
            return False
        self._show(None, image)
        return True

    def set_pixmap(self, pixmap: QPixmap) -> None:
        """Show a picture that has no source to draw from again (scaled as it is)."""
        self._show(None, pixmap.toImage())

    def set_text(self, text: str) -> None:
        """Show a line of text instead of a snapshot ("" shows nothing)."""
        self._svg, self._image, self._text = None, None, text
        self._forget()

    def has_snapshot(self) -> bool:
        """Whether a snapshot (not a text) is shown."""
        return self._svg is not None or self._image is not None

    def text(self) -> str:
        """The line shown in place of a snapshot."""
        return self._text

    def source_size(self) -> QSize:
        """The snapshot's own size (empty when none)."""
        if self._svg is not None:
            return self._svg.defaultSize()
        if self._image is not None:
            return self._image.size()
        return QSize()

    def target(self) -> QRectF:
        """Where the snapshot is drawn: as large as the widget allows, its aspect kept,
        centred (empty when none)."""
        source = self.source_size()
        if source.isEmpty():
            return QRectF()
        fitted = QSizeF(source).scaled(QSizeF(self.size()), Qt.AspectRatioMode.KeepAspectRatio)
        left = (self.width() - fitted.width()) / 2
        top = (self.height() - fitted.height()) / 2
        return QRectF(left, top, fitted.width(), fitted.height())

    def rendered(self) -> QPixmap | None:
        """The snapshot as drawn for the current size (made on demand)."""
        target = self.target()
        if target.isEmpty():
            return None
        ratio = self.devicePixelRatioF()
        key = (round(target.width() * ratio), round(target.height() * ratio), ratio)
        if self._rendered is None or self._rendered_for != key:
            self._rendered, self._rendered_for = self._render(QSize(key[0], key[1]), ratio), key
        return self._rendered

    def _render(self, pixels: QSize, ratio: float) -> QPixmap:
        if self._svg is not None:
            image = QImage(pixels, QImage.Format.Format_ARGB32_Premultiplied)
            image.fill(QColor(0, 0, 0))
            painter = QPainter(image)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            self._svg.render(painter, QRectF(0, 0, pixels.width(), pixels.height()))
            painter.end()
        else:
            assert self._image is not None
            image = self._image.scaled(
                pixels,
                Qt.AspectRatioMode.IgnoreAspectRatio,  # the target has the image's aspect
                Qt.TransformationMode.SmoothTransformation,
            )
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(ratio)
        return pixmap

    def _show(self, svg: QSvgRenderer | None, image: QImage | None) -> None:
        self._svg, self._image, self._text = svg, image, ""
        self._forget()

    def _forget(self) -> None:
        self._rendered, self._rendered_for = None, None
        self.update()

    # ---- Qt ---------------------------------------------------------------------------------

    def sizeHint(self) -> QSize:
        """A 16:9 picture of a useful size; the layout gives it whatever is free."""
        return QSize(960, 540)

    def minimumSizeHint(self) -> QSize:
        """Small enough for a low window; the layout grows it."""
        return QSize(320, 180)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Drawn again for the new size when next painted."""
        super().resizeEvent(event)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        """The snapshot fitted and centred, or the text."""
        painter = QPainter(self)
        pixmap = self.rendered()
        if pixmap is not None:
            painter.drawPixmap(self.target().topLeft(), pixmap)
        elif self._text:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._text)
        painter.end()
