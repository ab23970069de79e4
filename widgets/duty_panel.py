"""The duty commander panel: today's commander and roster, cases under consultation or overdue
under supervision, and the commander's latest instructions, painted for a wall display."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QHelpEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import QToolTip, QWidget

from widgets.cjk_font import emphasised

BACKGROUND = QColor("#10233f")
BORDER = QColor("#1f3b73")
CARD = QColor("#16305a")
ROW = QColor("#142b50")
TEXT = QColor("#e8f1ff")
SECONDARY = QColor("#8fb3e8")
ACCENT = QColor("#5b8def")
AMBER = QColor("#ffb300")
RED = QColor("#ff4d4f")
GREEN = QColor("#52c41a")
TONE_COLOURS: dict[str, QColor] = {"normal": SECONDARY, "good": GREEN, "warn": AMBER, "alarm": RED}
MAX_NOTES = 5
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
CENTRE = Qt.AlignmentFlag.AlignCenter


@dataclass(frozen=True, slots=True)
class PersonView:
    """A person on duty: name, title, post on today's roster, phone."""

    name: str
    title: str
    post: str = ""
    phone: str = ""


@dataclass(frozen=True, slots=True)
class NoteView:
    """An instruction: when (already formatted), by whom, and what."""

    at: str
    by: str
    text: str


@dataclass(frozen=True, slots=True)
class CaseView:
    """A case in a list: `key` for `caseClicked`, code, title, place, a short info, a tone."""

    key: int
    code: str
    title: str
    place: str
    info: str
    tone: str = "normal"


@dataclass(slots=True)
class _Text:
    rect: QRectF
    text: str
    font: QFont
    colour: QColor
    align: Qt.AlignmentFlag = LEFT


@dataclass(slots=True)
class _Box:
    rect: QRectF
    fill: QColor
    radius: float = 0.0
    border: QColor | None = None


@dataclass(slots=True)
class _Hit:
    rect: QRectF
    tip: str
    key: int | None = None


def wrap_text(
    text: str, font: QFont, first_width: float, width: float, max_lines: int
) -> list[str]:
    """Break `text` into at most `max_lines` lines, the first narrower; elide what does not fit."""
    text = " ".join(text.split())
    layout = QTextLayout(text, font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    metrics = QFontMetricsF(font)
    lines: list[str] = []
    layout.beginLayout()
    while len(lines) < max_lines:
        line = layout.createLine()
        if not line.isValid():
            break
        line_width = max(first_width if not lines else width, 1.0)
        line.setLineWidth(line_width)
        start, length = line.textStart(), line.textLength()
        if len(lines) == max_lines - 1 and start + length < len(text):
            lines.append(metrics.elidedText(text[start:], Qt.TextElideMode.ElideRight, line_width))
        else:
            lines.append(text[start : start + length].rstrip())
    layout.endLayout()
    return lines


class DutyPanel(QWidget):
    """Commander card and roster, two case lists with counts, latest instructions; `caseClicked`."""

    caseClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None, *, framed: bool = True) -> None:
        super().__init__(parent)
        self._framed = framed
        self.setMinimumSize(450, 150)
        self._duty: tuple[PersonView | None, tuple[PersonView, ...], tuple[NoteView, ...]] = (
            None,
            (),
            (),
        )
        self._roster_title: str | None = None
        self._cases: tuple[tuple[CaseView, ...], tuple[CaseView, ...]] = ((), ())
        self._totals = (0, 0)
        self._items: list[_Text | _Box] = []
        self._hits: list[_Hit] = []
        self._dirty = True
        self.layouts = 0  # how often the content was laid out: unchanged data adds none
        self._unit = 0.0
        self.text_px = 0  # the least text size; 0: by the panel's size alone
        self._rescale()

    def set_text_px(self, pixels: int) -> None:
        """The least text size: a wall's readable size (larger texts are multiples of it)."""
        if pixels != self.text_px:
            self.text_px = pixels
            self._unit = 0.0
            self._rescale()
            self._invalidate()

    def fonts(self) -> list[QFont]:
        """Every font a text is painted with now."""
        self._ensure_layout()
        fonts: list[QFont] = []
        for item in self._items:
            if isinstance(item, _Text) and item.text and item.font not in fonts:
                fonts.append(QFont(item.font))
        return fonts

    def show_duty(
        self,
        commander: PersonView | None,
        roster: Sequence[PersonView],
        instructions: Sequence[NoteView],
        roster_title: str | None = None,
    ) -> None:
        """Show today's commander, the roster and the instructions (newest first, as given);
        `roster_title` heads the roster instead of 值班人员 (a city's wall lists the other
        districts' commanders there)."""
        duty = (commander, tuple(roster), tuple(instructions))
        if duty == self._duty and roster_title == self._roster_title:
            return
        self._duty = duty
        self._roster_title = roster_title
        self._invalidate()

    def show_cases(
        self,
        consulting: Sequence[CaseView],
        supervised: Sequence[CaseView],
        totals: tuple[int, int] | None = None,
    ) -> None:
        """Show the cases under consultation and those overdue under supervision (the
        first of them: `totals` says how many there are, when more than given)."""
        cases = (tuple(consulting), tuple(supervised))
        counted = totals or (len(consulting), len(supervised))
        if cases == self._cases and counted == self._totals:
            return
        self._cases = cases
        self._totals = (max(counted[0], len(consulting)), max(counted[1], len(supervised)))
        self._invalidate()

    def texts(self) -> list[str]:
        """Every piece of text currently laid out, in painting order."""
        self._ensure_layout()
        return [item.text for item in self._items if isinstance(item, _Text)]

    def text_font(self, text: str) -> QFont | None:
        """The font `text` is drawn with, or None when it is not on the panel."""
        self._ensure_layout()
        return next(
            (QFont(i.font) for i in self._items if isinstance(i, _Text) and i.text == text), None
        )

    def clashes(self) -> list[str]:
        """Texts drawn beyond their place or over another text (none, whatever the words:
        a language's longer words are shortened, never drawn over a badge or a neighbour)."""
        self._ensure_layout()
        drawn: list[tuple[str, QRectF]] = []
        problems: list[str] = []
        for item in self._items:
            if not isinstance(item, _Text) or not item.text:
                continue
            width = QFontMetricsF(item.font).horizontalAdvance(item.text)
            rect = item.rect
            if item.align & Qt.AlignmentFlag.AlignRight:
                left = rect.right() - width
            elif item.align & Qt.AlignmentFlag.AlignHCenter:
                left = rect.center().x() - width / 2
            else:
                left = rect.left()
            ink = QRectF(left, rect.top(), width, rect.height())
            if ink.left() < rect.left() - 1 or ink.right() > rect.right() + 1:
                problems.append(f"{item.text!r} beyond its place")
            for other, box in drawn:
                if ink.adjusted(1, 1, -1, -1).intersects(box.adjusted(1, 1, -1, -1)):
                    problems.append(f"{item.text!r} over {other!r}")
            drawn.append((item.text, ink))
        return problems

    def case_rect(self, key: int) -> QRectF | None:
        """Where the row of case `key` is drawn, or None when it is not visible."""
        self._ensure_layout()
        return next((hit.rect for hit in self._hits if hit.key == key), None)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Scale everything with the panel and lay it out again."""
        self._rescale()
        self._dirty = True
        super().resizeEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """Emit `caseClicked` with the key of the case row under the pointer."""
        if event.button() == Qt.MouseButton.LeftButton:
            hit = self._hit_at(event.position())
            if hit is not None and hit.key is not None:
                self.caseClicked.emit(hit.key)
        super().mouseReleaseEvent(event)

    def event(self, event: QEvent) -> bool:
        """Tooltips give the full text of whatever was shortened to fit."""
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            hit = self._hit_at(QPointF(event.pos()))
            if hit is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), hit.tip, self)
            return True
        return super().event(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint the laid-out boxes and texts."""
        self._ensure_layout()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        for item in self._items:
            if isinstance(item, _Box):
                if item.border is None:
                    painter.setPen(Qt.PenStyle.NoPen)
                else:
                    painter.setPen(item.border)
                painter.setBrush(item.fill)
                painter.drawRoundedRect(item.rect, item.radius, item.radius)
            else:
                painter.setFont(item.font)
                painter.setPen(item.colour)
                painter.drawText(item.rect, item.align, item.text)
        painter.end()

    # -- layout ---------------------------------------------------------------------------

    def _invalidate(self) -> None:
        self._dirty = True
        self.update()

    def _rescale(self) -> None:
        unit = max(0.5, min(self.height() / 300, self.width() / 900))
        if abs(unit - self._unit) < 0.005:
            return
        self._unit = unit
        font = QFont(self.font())
        font.setPixelSize(max(11, self.text_px, round(17 * unit)))
        self.setFont(font)

    def _font(self, size: float, bold: bool = False) -> QFont:
        """A font `size` times the body text (never smaller than it)."""
        font = QFont(self.font())
        body = self.font().pixelSize()
        font.setPixelSize(max(body, round(size * body)))
        return emphasised(font) if bold else font

    @property
    def _line(self) -> float:
        return round(self.font().pixelSize() * 1.4)

    def _hit_at(self, point: QPointF) -> _Hit | None:
        self._ensure_layout()
        return next((hit for hit in self._hits if hit.rect.contains(point)), None)

    def _ensure_layout(self) -> None:
        if not self._dirty:
            return
        self._rescale()
        self._dirty = False
        self.layouts += 1
        self._items = []
        self._hits = []
        body = self.font().pixelSize()
        width, height = float(self.width()), float(self.height())
        if self._framed:
            outline = QRectF(0.5, 0.5, width - 1, height - 1)
            self._items.append(_Box(outline, BACKGROUND, 6, BORDER))
        pad = round(body * 0.6) if self._framed else 0.0
        gap = round(body * 0.9)
        column_height = height - 2 * pad
        # Three columns when each holds a dozen characters or more; else the cases and the
        # instructions share the right-hand one.
        three = width - 2 * pad >= 36 * body
        inner = width - 2 * pad - (2 if three else 1) * gap
        shares = (0.32, 0.38, 0.30) if three else (0.40, 0.60)
        columns: list[QRectF] = []
        x = pad
        for share in shares:
            columns.append(QRectF(x, pad, inner * share, column_height))
            x += inner * share + gap
        for column in columns[1:]:
            self._items.append(_Box(QRectF(column.x() - gap / 2, pad, 1, column_height), BORDER))
        self._layout_duty(columns[0])
        consulting, supervised = self._cases
        cases = columns[1]
        if three:
            notes = columns[2]
            halves = (cases.height() - self._line * 0.3) / 2
            first = QRectF(cases.x(), cases.y(), cases.width(), halves)
            second = QRectF(cases.x(), cases.bottom() - halves, cases.width(), halves)
        else:
            # Whole lines for each part: the cases' lists and the instructions.
            lines = max(int(cases.height() // self._line), 6)
            each = max(lines // 3, 2)
            first = QRectF(cases.x(), cases.y(), cases.width(), each * self._line)
            second = QRectF(cases.x(), first.bottom(), cases.width(), each * self._line)
            notes = QRectF(
                cases.x(), second.bottom(), cases.width(), cases.bottom() - second.bottom()
            )
        self._layout_cases(first, self.tr("会商中"), consulting, self._totals[0], ACCENT)
        self._layout_cases(second, self.tr("督办超期"), supervised, self._totals[1], RED)
        self._layout_notes(notes)

    def _header(self, area: QRectF, title: str, room: float | None = None) -> float:
        """Draw a section heading with an amber marker (the title shortened to `room` if
        given); return its height."""
        font = self._font(1.08, bold=True)
        height = self._line
        marker = self._marker()
        self._items.append(
            _Box(QRectF(area.x(), area.y() + height * 0.2, marker, height * 0.6), AMBER, marker / 2)
        )
        width = area.width() - marker * 2.2 if room is None else room
        self._elided(QRectF(area.x() + marker * 2.2, area.y(), width, height), title, font, TEXT)
        return height

    def _marker(self) -> float:
        """The width of a heading's amber marker."""
        return max(3.0, round(self.font().pixelSize() * 0.22))

    def _layout_duty(self, area: QRectF) -> None:
        commander, roster, _ = self._duty
        line = self._line
        small_gap = round(line * 0.15)
        y = area.y() + self._header(area, self.tr("今日县干指挥长")) + small_gap
        body = self._font(1.0)
        name_font = self._font(1.6, bold=True)
        name_height = round(name_font.pixelSize() * 1.25)
        card_height = name_height + line * (2 if commander is not None and commander.phone else 1)
        card = QRectF(area.x(), y, area.width(), card_height + 2 * small_gap)
        self._items.append(_Box(card, CARD, small_gap))
        self._items.append(
            _Box(QRectF(card.x(), card.y(), small_gap, card.height()), AMBER, small_gap / 2)
        )
        inset = card.adjusted(small_gap * 3, small_gap, -small_gap * 2, -small_gap)
        if commander is None:
            self._items.append(_Text(inset, self.tr("暂无"), body, SECONDARY))
        else:
            name = QRectF(inset.x(), inset.y(), inset.width(), name_height)
            metrics = QFontMetricsF(name_font)
            name_width = min(metrics.horizontalAdvance(commander.name + "  "), inset.width())
            self._elided(name, commander.name, name_font, TEXT)
            # The title beside the name when it fits, else on its own line.
            title_rect = QRectF(inset.x() + name_width, inset.y(), 0, name_height)
            title_rect.setRight(inset.right())
            on_line = QFontMetricsF(body).horizontalAdvance(commander.title) <= title_rect.width()
            if not on_line:
                title_rect = QRectF(inset.x(), name.bottom(), inset.width(), line)
            self._elided(title_rect, commander.title, body, SECONDARY)
            below = name.bottom() + (0 if on_line else line)
            if commander.phone:
                phone = QRectF(inset.x(), below, inset.width(), line)
                label = self.tr("电话")
                label_width = QFontMetricsF(body).horizontalAdvance(label + " ")
                self._items.append(_Text(phone, label, body, SECONDARY))
                self._elided(phone.adjusted(label_width, 0, 0, 0), commander.phone, body, AMBER)
            self._hits.append(
                _Hit(
                    card,
                    " ".join(p for p in (commander.name, commander.title, commander.phone) if p),
                )
            )
        y = card.bottom() + small_gap
        self._items.append(
            _Text(
                QRectF(area.x(), y, area.width(), line),
                self._roster_title or self.tr("值班人员"),
                body,
                SECONDARY,
            )
        )
        y += line
        fits = max(int((area.bottom() - y) // line), 1)
        if not roster:
            self._items.append(
                _Text(QRectF(area.x(), y, area.width(), line), self.tr("暂无"), body, SECONDARY)
            )
            return
        shown = roster if len(roster) <= fits else roster[: fits - 1]
        metrics = QFontMetricsF(body)
        for person in shown:
            row = QRectF(area.x(), y, area.width(), line)
            name_width = min(metrics.horizontalAdvance(person.name), row.width() * 0.4)
            self._elided(QRectF(row.x(), y, name_width, line), person.name, body, TEXT)
            rest = " · ".join(part for part in (person.title, person.post) if part)
            if rest:
                self._elided(row.adjusted(name_width, 0, 0, 0), " · " + rest, body, SECONDARY)
            self._hits.append(
                _Hit(row, " ".join(p for p in (person.name, rest, person.phone) if p))
            )
            y += line
        if len(shown) < len(roster):
            more = self.tr("另有{0}人").format(len(roster) - len(shown))
            self._items.append(
                _Text(QRectF(area.x(), y, area.width(), line), more, body, SECONDARY)
            )

    def _layout_cases(
        self, area: QRectF, title: str, cases: tuple[CaseView, ...], total: int, badge: QColor
    ) -> None:
        line = self._line
        header = line
        heading = self._font(1.08, bold=True)
        body = self._font(1.0)
        badge_font = self._font(1.0, bold=True)
        count = str(total)
        marker = self._marker()
        spacing = round(line * 0.1)
        row_height = line - spacing
        y = area.y() + header
        fits = max(int((area.bottom() - y + spacing) // line), 1)
        more = self.tr("另有{0}件").format(total - fits) if total > fits else ""
        # The heading's line: the title, its count in a badge, and how many more than the
        # rows show, right-aligned; never drawn under one another. Without room for all
        # three, "more" goes first (the badge still counts them all), then the title is
        # shortened.
        badge_height = min(header * 0.86, QFontMetricsF(badge_font).height() * 1.05)
        badge_width = max(
            QFontMetricsF(badge_font).horizontalAdvance(count) + badge_height * 0.6, badge_height
        )
        badge_gap = badge_height * 0.4
        title_width = QFontMetricsF(heading).horizontalAdvance(title)
        room = max(area.width() - marker * 2.2 - badge_gap - badge_width, 0.0)
        more_width = QFontMetricsF(body).horizontalAdvance(more) + badge_gap if more else 0.0
        if title_width + more_width > room:
            more = ""
        self._header(area, title, room)
        title_width = min(title_width, room)
        badge_rect = QRectF(
            area.x() + marker * 2.2 + title_width + badge_gap,
            area.y() + (header - badge_height) / 2,
            badge_width,
            badge_height,
        )
        self._items.append(_Box(badge_rect, badge if cases else BORDER, badge_rect.height() / 2))
        self._items.append(
            _Text(badge_rect, count, badge_font, TEXT if cases else SECONDARY, CENTRE)
        )
        if not cases:
            self._items.append(
                _Text(
                    QRectF(area.x(), y, area.width(), row_height), self.tr("暂无"), body, SECONDARY
                )
            )
            return
        if more:
            after = badge_rect.right() + badge_gap
            self._elided(
                QRectF(after, area.y(), max(area.right() - after, 0.0), header),
                more,
                body,
                SECONDARY,
                RIGHT,
            )
        metrics = QFontMetricsF(body)
        pad = round(body.pixelSize() * 0.3)
        for case in cases[:fits]:
            row = QRectF(area.x(), y, area.width(), row_height)
            self._items.append(_Box(row, ROW, pad))
            inner = row.adjusted(pad, 0, -pad, 0)
            info_width = min(metrics.horizontalAdvance(case.info), inner.width() * 0.5)
            self._elided(
                QRectF(inner.right() - info_width, y, info_width, row_height),
                case.info,
                body,
                TONE_COLOURS.get(case.tone, SECONDARY),
                RIGHT,
            )
            title_rect = QRectF(
                inner.x(), y, max(inner.width() - info_width - pad, 0.0), row_height
            )
            self._elided(title_rect, case.title, body, TEXT)
            tip = "\n".join(
                p for p in (f"{case.code} {case.title}".strip(), case.place, case.info) if p
            )
            self._hits.append(_Hit(row, tip, case.key))
            y += line

    def _layout_notes(self, area: QRectF) -> None:
        notes = self._duty[2]
        line = self._line
        y = area.y() + self._header(area, self.tr("指挥长最新指示"))
        body = self._font(1.0)
        metrics = QFontMetricsF(body)
        if not notes:
            self._items.append(
                _Text(QRectF(area.x(), y, area.width(), line), self.tr("暂无"), body, SECONDARY)
            )
            return
        for index, note in enumerate(notes[:MAX_NOTES]):
            room = int((area.bottom() - y) // line)
            if room < 1:
                break
            at_width = metrics.horizontalAdvance(note.at + " ") if note.at else 0.0
            by = f"{note.by}：" if note.by else ""
            by_width = min(metrics.horizontalAdvance(by), area.width() * 0.45)
            lines = wrap_text(
                note.text,
                body,
                area.width() - at_width - by_width,
                area.width(),
                min(3 if index == 0 else 2, room),
            )
            top = y
            self._items.append(_Text(QRectF(area.x(), y, at_width, line), note.at, body, AMBER))
            self._elided(QRectF(area.x() + at_width, y, by_width, line), by, body, SECONDARY)
            for number, text in enumerate(lines or [""]):
                x = area.x() + (at_width + by_width if number == 0 else 0.0)
                self._items.append(_Text(QRectF(x, y, area.right() - x, line), text, body, TEXT))
                y += line
            self._hits.append(
                _Hit(QRectF(area.x(), top, area.width(), y - top), f"{note.at} {by}{note.text}")
            )
            if index + 1 < min(len(notes), MAX_NOTES) and y + line <= area.bottom():
                self._items.append(_Box(QRectF(area.x(), y, area.width(), 1), BORDER))

    def _elided(
        self, rect: QRectF, text: str, font: QFont, colour: QColor, align: Qt.AlignmentFlag = LEFT
    ) -> None:
        if not text or rect.width() <= 0:
            return
        shown = QFontMetricsF(font).elidedText(
            text, Qt.TextElideMode.ElideRight, rect.width() + 0.5
        )
        self._items.append(_Text(rect, shown, font, colour, align))
