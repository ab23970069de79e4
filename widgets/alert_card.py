"""Paints a camera alert as a card: snapshot thumbnail, camera, kind, score, time, count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget


@dataclass(frozen=True, slots=True)
class CardRoles:
    """Which model roles hold each field (the delegate knows no model)."""

    camera: int
    kind: int
    score: int
    time: int  # the time as display text
    count: int
    status: int
    thumbnail: int
    place: int


class AlertCardDelegate(QStyledItemDelegate):
    """One card per row; `scale` follows the screen (1.0 at 1080p)."""

    def __init__(self, roles: CardRoles, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.roles = roles
        self.scale = 1.0
        self.text_px = 0  # the least text size; 0: by the scale alone
        self.row_height = 0  # a card's height when the view sets it (whole cards fill it)

    def natural_height(self) -> int:
        """A card's least height: three lines of text and the margins."""
        return max(int(92 * self.scale), round(self._px(15) * 1.15 * 3 + 14 * self.scale))

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        """Every card has the same height (uniform rows keep the view cheap)."""
        return QSize(int(300 * self.scale), self.row_height or self.natural_height())

    def fonts(self) -> list[QFont]:
        """The fonts a card paints with: the kind's (bold) and the other lines'."""
        kind, other = QFont(), QFont()
        kind.setPixelSize(self._px(17))
        kind.setBold(True)
        other.setPixelSize(self._px(15))
        return [kind, other]

    def _px(self, size: float) -> int:
        return max(9, self.text_px, int(size * self.scale))

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        """Draw the card."""
        s = self.scale
        rect: QRect = option.rect.adjusted(int(4 * s), int(3 * s), int(-4 * s), int(-3 * s))
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.setPen(QColor("#1f3b73"))
        painter.setBrush(QColor("#16325c" if selected else "#10233f"))
        painter.drawRoundedRect(rect, 6 * s, 6 * s)

        thumb_h = rect.height() - int(8 * s)
        thumb = QRect(
            rect.left() + int(4 * s), rect.top() + int(4 * s), int(thumb_h * 16 / 9), thumb_h
        )
        pixmap: QPixmap | None = _get(index, self.roles.thumbnail)
        if pixmap is not None and not pixmap.isNull():
            painter.drawPixmap(thumb, pixmap)
        else:
            painter.fillRect(thumb, QColor("#0b1a2e"))
            painter.setPen(QColor("#3d5a80"))
            painter.setFont(self.fonts()[1])
            painter.drawText(thumb, Qt.AlignmentFlag.AlignCenter, self.tr("抓拍"))

        text_left = thumb.right() + int(10 * s)
        width = rect.right() - text_left - int(6 * s)
        line_h = min(thumb_h // 3, round(self._px(15) * 1.5))
        font = QFont(painter.font())
        font.setPixelSize(self._px(17))
        font.setBold(True)
        painter.setFont(font)
        kind = str(_get(index, self.roles.kind) or "")
        status = _get(index, self.roles.status)
        painter.setPen(QColor("#ffb300") if status == "new" else QColor("#8fb3e8"))
        top = thumb.top() + max(0, (thumb_h - 3 * line_h) // 2)
        painter.drawText(
            QRect(text_left, top, width, line_h),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            kind,
        )
        count = int(_get(index, self.roles.count) or 1)
        if count > 1:
            badge = f"×{count}"
            badge_w = painter.fontMetrics().horizontalAdvance(badge) + int(12 * s)
            badge_rect = QRect(
                rect.right() - badge_w - int(6 * s), top + int(2 * s), badge_w, line_h - int(4 * s)
            )
            painter.setBrush(QColor("#ff4d4f"))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawRoundedRect(badge_rect, 8 * s, 8 * s)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(badge_rect, Qt.AlignmentFlag.AlignCenter, badge)

        font.setBold(False)
        font.setPixelSize(self._px(15))
        painter.setFont(font)
        painter.setPen(QColor("#e8f1ff"))
        camera = str(_get(index, self.roles.camera) or "")
        place = str(_get(index, self.roles.place) or "")
        painter.drawText(
            QRect(text_left, top + line_h, width, line_h),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            painter.fontMetrics().elidedText(camera, Qt.TextElideMode.ElideRight, width),
        )
        painter.setPen(QColor("#8fb3e8"))
        score = _get(index, self.roles.score)
        stamp = str(_get(index, self.roles.time) or "")
        detail = "  ".join(
            part
            for part in (
                stamp,
                self.tr("置信度 %s%%") % round(float(score) * 100) if score is not None else "",
                place,
            )
            if part
        )
        painter.drawText(
            QRect(text_left, top + 2 * line_h, width, line_h),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            painter.fontMetrics().elidedText(detail, Qt.TextElideMode.ElideRight, width),
        )
        painter.restore()


def _get(index: QModelIndex | QPersistentModelIndex, role: int) -> Any:
    return index.data(role)
