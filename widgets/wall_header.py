"""The wall's header (title, focus, clock, data freshness, mute) and its outage banner."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QDateTime, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QWidget

from widgets.fit_text import ElidedLabel

_FRESH = "#52c41a"
_STALE = "#ffb300"
_DOWN = "#ff4d4f"
_REPLAY = "#b37feb"  # violet: the time machine's colour, never live green
# Each part's share of the header's width, left to right: fixed, so no text moves another.
# The title's, the calendar notice's and the clock's whole in Chinese and English at 1080 and
# 2160 lines; the freshness ("数据 0.4 秒前 · 10.0.0.21", a server's short name beside the
# age) also takes the notice's room while there is no notice, its text right-aligned: only
# its room changes, nothing moves.
SHARES = {"title": 0.27, "scope": 0.15, "notice": 0.225, "freshness": 0.195, "clock": 0.16}


class WallHeader(QFrame):
    """Title on the left; focus in the middle; freshness, clock and mute on the right."""

    muteToggled = Signal(bool)

    def __init__(
        self,
        title: str,
        parent: QWidget | None = None,
        clock_text: Callable[[], str] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("wallHeader")
        self._clock_text = clock_text or (
            lambda: QDateTime.currentDateTime().toString("yyyy-MM-dd  HH:mm:ss")
        )
        self.title = ElidedLabel(title, self)
        self.title.setObjectName("headerTitle")
        self.scope = ElidedLabel("", self)
        self.scope.setObjectName("headerScope")
        self.scope.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.notice = ElidedLabel("", self)
        self.notice.setObjectName("headerNotice")  # amber, sized by the app's theme
        self.notice.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.notice.hide()
        self.freshness = ElidedLabel("", self)
        self.freshness.setObjectName("headerFreshness")
        self.freshness.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._colour = ""
        self.clock = ElidedLabel("", self)
        self.clock.setObjectName("headerClock")
        self.clock.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.mute = QPushButton(self)
        self.mute.setObjectName("muteButton")
        self.mute.setCheckable(True)
        self.mute.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.mute.toggled.connect(self._muted)
        self.margin = 16
        self._muted(False)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        self._timer.start()
        self._tick()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Each part in its fixed share of the width; the mute button at the right end."""
        super().resizeEvent(event)
        self.place()

    def place(self) -> None:
        """Lay the parts out for the header's size (after a resize or a new style)."""
        margin = self.margin
        height = self.height()
        self.mute.ensurePolished()
        hint = self.mute.sizeHint()
        mute_width = max(hint.width(), round(height * 1.4))
        mute_height = min(height - 2, max(hint.height(), round(height * 0.62)))
        right = self.width() - margin
        self.mute.setGeometry(
            QRect(right - mute_width, (height - mute_height) // 2, mute_width, mute_height)
        )
        room = right - mute_width - margin - margin
        x = margin
        gap = margin
        notice_left = x
        for name, share in SHARES.items():
            width = round(room * share)
            label: QLabel = getattr(self, name)
            if name == "notice":
                notice_left = x
            left = notice_left if name == "freshness" and self.notice.isHidden() else x
            label.setGeometry(QRect(left, 0, max(x + width - gap - left, 1), height))
            x += width

    def _tick(self) -> None:
        self.clock.set_full_text(self._clock_text())

    def _muted(self, muted: bool) -> None:
        self.mute.setText(self.tr("静音") if muted else self.tr("声音"))
        self.mute.setToolTip(self.tr("新特急事件提示音（M 键切换）"))
        self.muteToggled.emit(muted)

    def set_muted(self, muted: bool) -> None:
        """Show the mute state (emits muteToggled when it changes)."""
        self.mute.setChecked(muted)

    def set_scope(self, text: str) -> None:
        """What the wall focuses on now (the district, or a street on tour)."""
        self.scope.set_full_text(text)

    def set_notice(self, text: str) -> None:
        """A standing warning in amber (e.g. the calendar lacks a year); empty hides it."""
        if text != self.notice.full_text():
            self.notice.set_full_text(text)
            self.notice.setVisible(bool(text))
            self.place()  # the freshness gives the notice its room back, or takes it

    def set_connecting(self) -> None:
        """Before the first connection has been tried: connecting, in amber, not yet down."""
        self._show_freshness(self.tr("正在连接…"), _STALE)

    def set_freshness(self, connected: bool, age: float | None, node: str = "") -> None:
        """The age of the last update, coloured: green, amber after 10 s, red when down;
        `node`: the server in use, named after it when there are several."""
        if not connected:
            text, colour = self.tr("连接中断"), _DOWN
        elif age is None:
            text, colour = self.tr("正在载入…"), _STALE
        else:
            seconds = max(0.0, age)
            text = (
                self.tr("数据 %s 秒前") % f"{seconds:.1f}"
                if seconds < 60
                else self.tr("数据 %s 分钟前") % int(seconds // 60)
            )
            colour = _FRESH if seconds < 10 else _STALE
        self._show_freshness(f"{text} · {node}" if node else text, colour)

    def set_replaying(self) -> None:
        """The wall shows the past: no age of live data, but that it is not live."""
        self._show_freshness(self.tr("复盘 · 非实时"), _REPLAY)

    def _show_freshness(self, text: str, colour: str) -> None:
        self.freshness.set_full_text(text)
        if colour != self._colour:  # a style sheet re-polishes the label: only on a change
            self._colour = colour
            self.freshness.setStyleSheet(f"color: {colour};")


class OutageBanner(QLabel):
    """A red bar across the wall while the data are not live: '数据截至 hh:mm:ss'; a calm
    one (property `calm`) while the wall is still connecting and nothing has failed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("outageBanner")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setProperty("calm", False)
        self.hide()

    @property
    def calm(self) -> bool:
        """Whether the banner shows progress (not an outage)."""
        return bool(self.property("calm"))

    def _tone(self, calm: bool) -> None:
        if self.calm != calm:
            self.setProperty("calm", calm)
            self.style().unpolish(self)
            self.style().polish(self)

    def show_progress(self, text: str) -> None:
        """A calm note: the wall is starting or connecting, nothing is wrong yet."""
        self._tone(True)
        self.setText(text)
        self.show()

    def show_alarm(self, text: str) -> None:
        """A red bar with this text (a failure the room must know of)."""
        self._tone(False)
        self.setText(text)
        self.show()

    def show_outage(self, stamp: str | None, attempt: int, detail: str = "") -> None:
        """Show since when (hh:mm:ss) the data are stale and that reconnecting goes on."""
        if stamp:
            text = self.tr("连接中断，数据截至 %s") % stamp
        else:
            text = self.tr("尚未连接到调度服务，暂无数据")
        if attempt:
            text += self.tr("　·　正在第 %s 次重连") % attempt
        if detail:
            text += self.tr("（%s）") % detail if attempt else self.tr("　·　%s") % detail
        self.show_alarm(text)

    def hide_outage(self) -> None:
        """Back to live."""
        self.hide()
