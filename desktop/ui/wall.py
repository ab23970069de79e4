"""The wall display (大屏): map in the centre, queue and camera alerts on the right, KPIs,
trends and street ranking on the left, the duty commander's panel under the map.

The window lays the panels out and handles keys, size, focus, the tour and the link's
status. The data reach the panels once per frame, never per message: the session's thread
fills an inbox, each frame takes it whole and applies it to the replica (`listen`), and the
coalescer calls each panel's view (desktop/ui/panels.py) with the frame's changes, in order.
The map gets its own slower batches. A banner shows while the data are not live.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QCursor,
    QFontMetrics,
    QKeyEvent,
    QKeySequence,
    QPixmap,
    QResizeEvent,
    QScreen,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QVBoxLayout,
    QWidget,
)

from desktop.core.district_time import clock_text, hms
from desktop.core.feed import Feed, urgent_news
from desktop.core.link import Inbox
from desktop.core.replica import Changes, Replica
from desktop.core.session import Status
from desktop.core.supervisor import BackendState
from desktop.core.views import grid_card
from desktop.i18n import QT_TRANSLATE_NOOP
from desktop.ui.coalescer import Coalescer
from desktop.ui.models import (
    PRIORITY_TEXT,
    SOURCE_TEXT,
    STATUS_TEXT,
    AlertFeedModel,
    EventQueueModel,
    countdown,
    text,
)
from desktop.ui.panels import AlertView, DutyView, KpiView, MapView, QueueView
from desktop.ui.sound import Chime
from desktop.ui.theme import stylesheet
from desktop.ui.thumbnails import ThumbnailLoader
from desktop.ui.tour import Tour
from widgets.alert_card import AlertCardDelegate, CardRoles
from widgets.duty_panel import DutyPanel
from widgets.grid_details import GridDetails
from widgets.grid_map import GridMap
from widgets.kpi_board import KpiBoard
from widgets.panel import Panel
from widgets.street_ranking import StreetRanking
from widgets.text_table import TextTable
from widgets.trend_chart import HourlyTrend
from widgets.wall_header import OutageBanner, WallHeader

KPI_KEYS = ["received", "dispatched", "closed", "on_time", "overdue", "handling"]
# Status filter choices for the queue: (label, statuses or None for every open one).
STATUS_FILTERS: list[tuple[str, frozenset[str] | None]] = [
    (QT_TRANSLATE_NOOP("WallWindow", "全部在办"), None),
    (QT_TRANSLATE_NOOP("WallWindow", "待受理"), frozenset({"reported", "accepted"})),
    (QT_TRANSLATE_NOOP("WallWindow", "处置中"), frozenset({"dispatched", "handling"})),
    (QT_TRANSLATE_NOOP("WallWindow", "待核查"), frozenset({"handled", "verified"})),
]
QUIT_WITHIN_MS = 3000  # kiosk: a second Ctrl+Q within this quits
KEY_QUIT = "Ctrl+Q"
KEY_KIOSK = "Ctrl+Shift+K"


class WallWindow(QWidget):
    """The big-screen view over a replica; its panels' views and `set_status` feed it."""

    focusChanged = Signal(str)
    snapshotShown = Signal()  # a snapshot has reached every panel

    def __init__(
        self,
        replica: Replica,
        *,
        title: str = "",
        tile_url: str | None = None,
        clock: Callable[[], float] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("wall")
        self.setWindowTitle(self.tr("通观 · 智慧联动指挥大屏"))
        self.replica = replica
        self._clock = clock or self._district_now
        self.status: Status | None = None
        self.focus_street = ""
        self.tour: Tour | None = None
        # Someone at the wall holds the tour: a key press reaches the window (its parts take
        # no focus), a mouse is noticed by its moves. (An application-wide Python event
        # filter would see every event of every object, and PySide6 crashes wrapping objects
        # half destroyed.)
        self._cursor = QCursor.pos()
        self.tour_dwell = 20.0
        self.chime = Chime(parent=self)
        self._scale = 0.0
        self._units_version: str | None = None
        self.last_flush_at = 0.0
        self.flushes = 0

        # ---- parts -------------------------------------------------------------------------
        self.header = WallHeader(
            title or self.tr("大观区智慧联动中心 · 一网统管"),
            self,
            # The district's clock, as the countdowns and the KPIs: the server's time (not
            # this PC's), and the simulated one in a demo.
            clock_text=lambda: clock_text(self._clock()),
        )
        self.banner = OutageBanner(self)
        # Calm until the first connection has been tried: nothing has failed yet.
        self.banner.show_progress(self.tr("正在连接调度服务…"))
        self.backend: BackendState | None = None  # the embedded backend, when it is ours
        self._reconnecting = False  # it is back after a restart, the session not yet
        self.kiosk = False
        self.normal_size = QSize(1920, 1080)  # the window's size out of kiosk mode
        self._quit_armed = False

        self.kpis = KpiBoard(KPI_KEYS, columns=3)
        self.trend = HourlyTrend(framed=False)
        self.trend.set_title("")
        self.ranking = StreetRanking(framed=False)
        self.ranking.clicked.connect(self.set_focus)

        self.map = GridMap(centre=(117.06, 30.53), zoom=12, tile_url=tile_url, label_px=15)
        self.map.areaClicked.connect(self.show_grid)
        self.grid_details = GridDetails(self.map)

        queue_model = EventQueueModel(replica, self, clock=self._clock)
        # It repaints with every frame: rows painted from prepared text in one pass.
        self.queue = TextTable(queue_model.row_cells)
        self.queue.setModel(queue_model)
        self.queue.setObjectName("eventQueue")
        self.queue.verticalHeader().hide()
        self.queue.setShowGrid(False)
        self.queue.setAlternatingRowColors(True)
        self.queue.setWordWrap(False)
        self.queue.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.queue.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.queue.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.queue.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        # Read from across the room, not scrolled (a wheel still scrolls): a scroll bar would
        # only repaint with every frame.
        self.queue.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.queue.horizontalHeader()
        # Fixed widths from the font, never ResizeToContents: that measures up to 1,000 rows
        # per column on every insert (most of the GUI thread at 2,000 events/s).
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        header.setHighlightSections(False)
        self.queue.clicked.connect(self._queue_clicked)

        self.street_filter = QComboBox()
        self.street_filter.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.street_filter.addItem(self.tr("全部街道"), "")
        self.street_filter.currentIndexChanged.connect(self._street_filter_changed)
        self.status_filter = QComboBox()
        self.status_filter.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for label, statuses in STATUS_FILTERS:
            self.status_filter.addItem(self.tr(label), statuses)

        alert_model = AlertFeedModel(replica, self)
        self.alerts = QListView()
        self.alerts.setObjectName("alertFeed")
        self.alerts.setModel(alert_model)
        self.alerts.setUniformItemSizes(True)
        self.alerts.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.alerts.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        # As the queue: the newest on top, a wheel still scrolls; a bar is clutter on a wall.
        self.alerts.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.card = AlertCardDelegate(
            CardRoles(
                camera=AlertFeedModel.CAMERA_ROLE,
                kind=AlertFeedModel.KIND_ROLE,
                score=AlertFeedModel.SCORE_ROLE,
                time=AlertFeedModel.TIME_ROLE,
                count=AlertFeedModel.COUNT_ROLE,
                status=AlertFeedModel.STATUS_ROLE,
                thumbnail=AlertFeedModel.THUMBNAIL_ROLE,
                place=AlertFeedModel.PLACE_ROLE,
            ),
            self.alerts,
        )
        self.alerts.setItemDelegate(self.card)
        self.alerts_empty = QLabel(self.tr("暂无待处理告警"), self.alerts.viewport())
        self.alerts_empty.setObjectName("emptyNote")
        self.alerts_empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.alerts_empty.hide()  # until a snapshot says there are none

        self.duty = DutyPanel(framed=False)
        self.duty.caseClicked.connect(self._case_clicked)
        self.duty_view = DutyView(replica, self.duty, clock=self._clock)
        self.map_view = MapView(replica, self.map, clock=self._clock, parent=self)

        # ---- panels ------------------------------------------------------------------------
        self.kpi_panel = Panel(self.tr("今日指标"), self.kpis)
        self.kpi_view = KpiView(
            replica,
            self.kpi_panel,
            self.kpis,
            self.trend,
            self.ranking,
            street_name=self.street_name,
            notice=self.header.set_notice,
        )
        self.trend_panel = Panel(self.tr("每小时接报量 · 今日与昨日"), self.trend)
        self.ranking_panel = Panel(self.tr("街道综合得分排名 · 本月"), self.ranking)
        self.map_panel = Panel(self.tr("网格态势"), self.map)
        self.map_legend = self._legend()
        self.map_panel.add_control(self.map_legend)
        self.duty_panel = Panel(self.tr("县干指挥长"), self.duty)
        self.queue_panel = Panel(self.tr("事件队列"), self.queue)
        self.queue_panel.add_control(self.street_filter)
        self.queue_panel.add_control(self.status_filter)
        self.alert_panel = Panel(self.tr("视频告警"), self.alerts)
        self.queue_view = QueueView(
            replica, queue_model, self.queue_panel, self.street_filter, self.status_filter
        )
        self.status_filter.currentIndexChanged.connect(self.queue_view.apply_filter)
        self.alert_view = AlertView(
            replica, alert_model, self.alert_panel, self.alerts, self.alerts_empty
        )

        body = QGridLayout()
        body.setSpacing(10)
        body.setContentsMargins(10, 10, 10, 10)
        left = QVBoxLayout()
        left.setSpacing(10)
        left.addWidget(self.kpi_panel, 30)
        left.addWidget(self.trend_panel, 33)
        left.addWidget(self.ranking_panel, 37)
        centre = QVBoxLayout()
        centre.setSpacing(10)
        centre.addWidget(self.map_panel, 68)
        centre.addWidget(self.duty_panel, 32)
        right = QVBoxLayout()
        right.setSpacing(10)
        right.addWidget(self.queue_panel, 58)
        right.addWidget(self.alert_panel, 42)
        body.addLayout(left, 0, 0)
        body.addLayout(centre, 0, 1)
        body.addLayout(right, 0, 2)
        body.setColumnStretch(0, 24)
        body.setColumnStretch(1, 44)
        body.setColumnStretch(2, 32)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.header)
        outer.addWidget(self.banner)
        outer.addLayout(body, 1)

        # ---- feeding -----------------------------------------------------------------------
        self.feed = Feed(replica, on_status=self.set_status)
        self.coalescer = Coalescer(33, self, source=self.feed.collect)
        # One pass per frame, in this order: the map's batching and the chime and tour
        # (`_after_panels`) come after the models have the frame.
        for subscriber in (
            self.queue_view.on_flush,
            self.alert_view.on_flush,
            self.map_view.on_flush,
            self.duty_view.on_flush,
            self.kpi_view.on_flush,
            self._after_panels,
        ):
            self.coalescer.subscribe(subscriber)
        self._second = QTimer(self)
        self._second.setInterval(1000)
        self._second.timeout.connect(self._every_second)
        self._second.start()
        self._last_prune = time.monotonic()
        self._last_overdue_check = time.monotonic()
        self.header.muteToggled.connect(self._set_muted)

        # ---- keys that work wherever the focus is ------------------------------------------
        self.key_hint = QLabel(self)
        self.key_hint.setObjectName("keyHint")
        self.key_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.key_hint.hide()
        self._hint_timer = QTimer(self)
        self._hint_timer.setSingleShot(True)
        self._hint_timer.timeout.connect(self._disarm_quit)
        self.shortcuts: dict[str, QShortcut] = {}
        for key, action in (
            ("Esc", self.whole_district),
            (KEY_QUIT, self._quit_key),
            (KEY_KIOSK, self.toggle_kiosk),
            ("M", self.toggle_mute),
            ("T", self.toggle_tour),
            ("Left", lambda: self.step_street(-1)),
            ("Right", lambda: self.step_street(1)),
        ):
            # Shortcuts, not keyPressEvent: the map's page takes the keyboard focus when
            # clicked (and at start), and would keep every key from the window.
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(self._key(action))
            self.shortcuts[QKeySequence(key).toString()] = shortcut
        self._show_freshness()
        # Until the first snapshot the panels that would draw empty figures (zero badges, an
        # empty chart's axis) stay blank: nothing is known yet, not zero.
        self._unknown = [self.duty, self.trend, self.ranking]
        for part in self._unknown:
            policy = part.sizePolicy()
            policy.setRetainSizeWhenHidden(True)  # the panels keep their layout meanwhile
            part.setSizePolicy(policy)
            part.hide()
        self.resize(1920, 1080)

    # ---- the data path ---------------------------------------------------------------------

    def listen(self, inbox: Inbox, resync: Callable[[], bool] | None = None) -> None:
        """Take the session's messages from `inbox` once per frame (its wake is
        `self.coalescer.wake`); `resync` asks the session for a fresh snapshot."""
        self.feed.listen(inbox, resync)
        # The session's thread may outlive this window: it must stop waking a deleted one.
        self.destroyed.connect(inbox.close)

    def push(self, changes: Changes) -> None:
        """Merge changes made to the replica on this thread (a session applying each
        message at once, the pruning) into this frame."""
        self.feed.note_data()
        self.coalescer.push(changes)

    def _after_panels(self, changes: Changes) -> None:
        """The wall's own share of a frame, after every panel has drawn it."""
        self.flushes += 1
        if changes.units and self.replica.units is not None:
            self._units_arrived()
        if changes.new_events:  # after a snapshot: only those reported after it
            self._announce(changes.new_events)
        self.last_flush_at = time.monotonic()
        if changes.reset:
            for part in self._unknown:
                part.show()
            self._unknown = []
            self.snapshotShown.emit()

    @property
    def thumbnail_loader(self) -> ThumbnailLoader | None:
        """Fetches the alert cards' snapshots (set once the session is known)."""
        return self.alert_view.loader

    @thumbnail_loader.setter
    def thumbnail_loader(self, loader: ThumbnailLoader | None) -> None:
        self.alert_view.loader = loader

    def set_status(self, status: Status) -> None:
        """The session's status callback: the banner while not live."""
        self.status = status
        if status.connected:
            self._reconnecting = False
        self._show_banner()
        self._show_freshness()

    def set_backend(self, state: BackendState) -> None:
        """The embedded backend's supervisor: starting, ready, or restarting (and why)."""
        # Back after a restart: until the session is in again, that is what the room hears.
        self._reconnecting = state.phase == "ready" and state.attempt > 0
        self.backend = state
        self._show_banner()

    def _show_banner(self) -> None:
        status, backend = self.status, self.backend
        if status is None:
            # Not tried yet: the embedded backend is starting, or the session about to connect.
            restarting = backend is not None and backend.phase == "restarting"
            if not restarting:
                self.banner.show_progress(self.tr("正在连接调度服务…"))
                return
        if status is not None and status.connected:
            self.banner.hide_outage()
            return
        stamp = self._data_time(status)
        if (
            backend is not None
            and backend.phase == "restarting"
            and not (status is not None and status.fatal)
        ):
            # The backend is ours and down: say what is being done about it, in plain words.
            self.banner.show_outage(stamp, 0, self._restart_text(backend))
        elif self._reconnecting:
            self.banner.show_outage(stamp, 0, self.tr("调度服务已重启，正在恢复数据"))
        elif status is not None:
            self.banner.show_outage(stamp, status.attempt, self._reason(status))

    def _data_time(self, status: Status | None) -> str | None:
        """hh:mm:ss of the last data, on the district's clock as the header shows it."""
        last = max(self.feed.last_data, status.last_data if status is not None else 0.0)
        if not last:
            return None
        return hms(self.replica.district_at(last) or last)

    def _restart_text(self, state: BackendState) -> str:
        text = self.tr("调度服务重启中，第 %s 次") % state.attempt
        why = {
            "exited": self.tr("调度服务意外退出"),
            "unresponsive": self.tr("调度服务无响应"),
            "failed": self.tr("上次重启未成功"),
        }.get(state.reason, "")
        return text + (self.tr("：%s") % why if why else "")

    def _reason(self, status: Status) -> str:
        """Why the link is down, in words for the room (the details are in the log)."""
        error = status.error.lower()
        if status.fatal:
            return self.tr("调度服务拒绝了本终端，请联系管理员")
        if "refused" in error or "errno 111" in error or "connect call failed" in error:
            return self.tr("调度服务未响应")
        if "timed out" in error or "timeout" in error:
            return self.tr("连接超时")
        if "closed" in error:
            return self.tr("连接被关闭")
        return self.tr("网络异常") if error else ""

    def _every_second(self) -> None:
        self.queue_view.model.tick()
        self._show_freshness()
        self.feed.every_second()
        now = time.monotonic()
        if now - self._last_overdue_check > 30:
            self._last_overdue_check = now
            self.map_view.refresh_overdue()
        if now - self._last_prune > 60 and self.replica.kpis_at:
            self._last_prune = now
            pruned = self.replica.prune(self.replica.now())
            if pruned:
                self.coalescer.push(pruned)
            self.alert_view.forget_thumbnails()
        if self.tour is not None:
            cursor = QCursor.pos()
            if cursor != self._cursor:
                self._cursor = cursor
                self.tour.operator_active()
            self._show_scope()

    def _show_freshness(self) -> None:
        status = self.status
        if status is None:
            self.header.set_connecting()  # not tried yet: nothing is down
            return
        last = max(self.feed.last_data, status.last_data)
        # Partial figures are not fresh data, however recent: "loading" until they are whole.
        age = time.time() - last if last and not self.replica.kpis_partial else None
        self.header.set_freshness(status.connected, age)

    def _district_now(self) -> float:
        return self.replica.now() or time.time()

    # ---- units, focus and tour -------------------------------------------------------------

    def _units_arrived(self) -> None:
        units = self.replica.units
        assert units is not None
        if self.replica.units_version == self._units_version:
            return
        self._units_version = self.replica.units_version
        self._tour_streets()
        self.header.title.setText(self.tr("%s智慧联动中心 · 一网统管") % units.district_name)

    def _tour_streets(self) -> None:
        if self.tour is not None and self.replica.units is not None:
            self.tour.stops = ["", *(s.code for s in self.replica.units.streets)]

    def street_name(self, code: str) -> str:
        """A street's name ('全区' for the district)."""
        if not code:
            return self.tr("全区")
        units = self.replica.units
        if units is not None:
            for street in units.streets:
                if street.code == code:
                    return street.name
        return code

    def set_focus(self, street: str) -> None:
        """Focus the wall on a street ('' = the district): map, queue, alerts, KPIs."""
        self.focus_street = street
        if self.tour is not None:
            self.tour.sync(street)
        self.queue_view.set_focus(street)
        self.alert_view.set_focus(street)
        self.map_view.set_focus(street)
        self.kpi_view.set_focus(street)
        self._show_scope()
        self.focusChanged.emit(street)

    def start_tour(self, dwell: float) -> None:
        """Move the focus through the streets every `dwell` seconds."""
        units = self.replica.units
        streets = [s.code for s in units.streets] if units is not None else []
        self.stop_tour()
        self.tour_dwell = dwell
        tour = self.tour = Tour(streets, dwell, parent=self)
        tour.focus.connect(self.set_focus)
        self._cursor = QCursor.pos()
        tour.start()

    def stop_tour(self) -> None:
        """Stop touring; the focus stays where it is."""
        if self.tour is None:
            return
        self.tour.stop()
        self.tour.deleteLater()
        self.tour = None
        self._show_scope()

    def _show_scope(self) -> None:
        name = self.street_name(self.focus_street)
        if self.tour is not None:
            if self.tour.paused:
                reason = (
                    self.tr("新特急事件") if self.tour.reason == "urgent" else self.tr("操作中")
                )
                name += self.tr("（轮巡暂停：%s）") % reason
            else:
                name += self.tr("（轮巡）")
        self.header.set_scope(name)

    def _street_filter_changed(self) -> None:
        street = self.street_filter.currentData() or ""
        if street != self.focus_street:
            if self.tour is not None:
                self.tour.operator_active()
            self.set_focus(street)

    # ---- panels ----------------------------------------------------------------------------

    def _announce(self, new_ids: set[int]) -> None:
        urgent = urgent_news(self.replica, new_ids, self._clock())
        if not urgent:
            return
        self.chime.ring()
        if self.tour is not None:
            newest = max(urgent, key=lambda e: e.reported_at)
            self.tour.hold_on(newest.street)

    def thumbnail_loaded(self, alert_id: int, pixmap: QPixmap) -> None:
        """A snapshot arrived for an alert card."""
        self.alert_view.thumbnail_loaded(alert_id, pixmap)

    def show_grid(self, code: str) -> None:
        """The details card of a grid: its people and its open events."""
        card = grid_card(self.replica, code)
        if card is None:
            return
        people = []
        if card.worker:
            people.append(self.tr("网格员 %s  %s") % (card.worker, card.worker_phone))
        if card.leader:
            people.append(self.tr("网格长 %s") % card.leader)
        now = self._clock()
        lines = [
            f"{c.code}  {c.category}  {text(STATUS_TEXT, c.status)}  {countdown(c.deadline, now)}"
            for c in card.cases
        ]
        self.grid_details.show_grid(card.title, people, lines, card.more)
        self._place_details()
        if self.tour is not None:
            self.tour.operator_active()

    def _place_details(self) -> None:
        width = max(320, int(self.map.width() * 0.42))
        self.grid_details.setFixedWidth(width)
        self.grid_details.adjustSize()
        self.grid_details.move(self.map.width() - width - 12, 12)

    def _queue_clicked(self, index: Any) -> None:
        event = self.queue_view.model.event_at(index.row())
        if event is not None:
            self.show_grid(event.grid)

    def _case_clicked(self, event_id: int) -> None:
        event = self.replica.events.get(event_id)
        if event is not None:
            self.show_grid(event.grid)

    def _legend(self) -> QWidget:
        box = QWidget(self)
        layout = QHBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        for colour, label in (
            ("#ff4d4f", self.tr("特急")),
            ("#ffb300", self.tr("紧急")),
            ("#40a9ff", self.tr("一般")),
            ("#8c9db5", self.tr("较低")),
            ("#d46b08", self.tr("网格有超期")),
        ):
            item = QLabel(f'<span style="color:{colour}">●</span> {label}')
            item.setObjectName("legendItem")
            layout.addWidget(item)
        return box

    # ---- sound, keys, size -----------------------------------------------------------------

    def _set_muted(self, muted: bool) -> None:
        self.chime.muted = muted

    def whole_district(self) -> None:
        """Esc: back to the whole district from any state (a street in focus, on tour, a
        grid's card open); a tour goes on from there after its pause."""
        self.grid_details.hide()
        self.set_focus("")

    def _quit_key(self) -> None:
        """Ctrl+Q: quit. On a kiosk wall (no dialogs) only a second Ctrl+Q within 3 s does,
        and the first says so on the screen."""
        if not self.kiosk or self._quit_armed:
            self._disarm_quit()
            self.close()
            return
        self._quit_armed = True
        self._show_hint(self.tr("再按一次 Ctrl+Q 退出大屏（Ctrl+Shift+K 退出全屏）"))
        self._hint_timer.start(QUIT_WITHIN_MS)

    def _disarm_quit(self) -> None:
        self._quit_armed = False
        self._hint_timer.stop()
        self.key_hint.hide()

    def _show_hint(self, text: str) -> None:
        self.key_hint.setText(text)
        self.key_hint.adjustSize()
        self.key_hint.move(
            (self.width() - self.key_hint.width()) // 2,
            (self.height() - self.key_hint.height()) // 2,
        )
        self.key_hint.show()
        self.key_hint.raise_()

    def enter_kiosk(self, screen: QScreen | None = None) -> None:
        """Full screen on `screen` (the current one if None), no frame, no cursor."""
        if not self.kiosk and self.isVisible():  # a window switched to kiosk: back to it later
            self.normal_size = self.size()
        self.kiosk = True
        self.setWindowFlags(Qt.WindowType.FramelessWindowHint | Qt.WindowType.Window)
        if screen is not None:
            self.setScreen(screen)
            self.setGeometry(screen.geometry())
        self.showFullScreen()
        # New flags made a new native window: give it the keys again once it is shown.
        QTimer.singleShot(0, self.activateWindow)
        QApplication.setOverrideCursor(Qt.CursorShape.BlankCursor)

    def leave_kiosk(self) -> None:
        """Back to a normal window with its frame and the cursor (Ctrl+Shift+K)."""
        if not self.kiosk:
            return
        self.kiosk = False
        self._disarm_quit()
        QApplication.restoreOverrideCursor()
        self.setWindowFlags(Qt.WindowType.Window)
        self.showNormal()
        self.resize(self.normal_size)
        QTimer.singleShot(0, self.activateWindow)

    def toggle_kiosk(self) -> None:
        """Ctrl+Shift+K: leave kiosk mode, or enter it again."""
        if self.kiosk:
            self.leave_kiosk()
        else:
            self.enter_kiosk(self.screen())

    def _key(self, action: Callable[[], None]) -> Callable[[], None]:
        """A key's action: someone is at the wall, so a tour holds for a while first."""

        def pressed() -> None:
            if self.tour is not None:
                self.tour.operator_active()
            action()

        return pressed

    def toggle_mute(self) -> None:
        """M: sound on or off."""
        self.header.set_muted(not self.chime.muted)

    def toggle_tour(self) -> None:
        """T: start the tour, or stop it where it is."""
        if self.tour is None:
            self.start_tour(self.tour_dwell)
        else:
            self.stop_tour()

    def step_street(self, step: int) -> None:
        """←/→: the previous or next street (the district between the last and the first)."""
        units = self.replica.units
        streets = [""] + [s.code for s in units.streets] if units is not None else [""]
        at = streets.index(self.focus_street) if self.focus_street in streets else 0
        self.set_focus(streets[(at + step) % len(streets)])

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Any other key: someone is at the wall. The wall's keys are shortcuts (see
        __init__: they work wherever the keyboard focus is, the map's page included); one
        that reaches the window as a plain key (an X server without a window manager may
        leave the window inactive) does the same."""
        shortcut = self.shortcuts.get(QKeySequence(event.keyCombination()).toString())
        if shortcut is not None:
            shortcut.activated.emit()
            return
        if self.tour is not None:
            self.tour.operator_active()
        super().keyPressEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Scale fonts and rows by the screen's narrower side (2.0 at 3840x2160, 7680x2160)."""
        size: QSize = event.size()
        scale = max(0.6, min(size.width() / 1920, size.height() / 1080))
        if abs(scale - self._scale) > 0.02:
            self._scale = scale
            self.setStyleSheet(stylesheet(scale))
            self.card.scale = scale
            self.queue.verticalHeader().setDefaultSectionSize(int(34 * scale))
            self.queue.padding = int(8 * scale)
            self._size_queue_columns(scale)
            self.alerts.doItemsLayout()
            self.map.setZoomFactor(scale)  # labels and markers grow with the wall
        if self.grid_details.isVisible():
            self._place_details()
        super().resizeEvent(event)

    def _size_queue_columns(self, scale: float) -> None:
        """Widths that hold every text the narrow columns can show, in this language."""
        self.queue.ensurePolished()
        metrics = QFontMetrics(self.queue.font())
        header = self.queue.horizontalHeader()
        samples = {
            "priority": [text(PRIORITY_TEXT, p) for p in PRIORITY_TEXT],
            "source": [text(SOURCE_TEXT, s) for s in SOURCE_TEXT],
            "status": [text(STATUS_TEXT, s) for s in STATUS_TEXT],
            "deadline": [countdown(0, 47 * 3600), countdown(9 * 86400, 0), "47:59"],
        }
        bold = QFontMetrics(header.font())
        for column, texts in samples.items():
            index = EventQueueModel.COLUMNS.index(column)
            title = self.queue_view.model.headers[column]
            width = max(
                max(metrics.horizontalAdvance(t) for t in texts),
                bold.horizontalAdvance(title) + int(6 * scale),
            )
            header.resizeSection(index, width + int(20 * scale))

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop the timers (the app stops the session and the backend)."""
        self._second.stop()
        self.stop_tour()
        if self.kiosk:
            self.kiosk = False
            QApplication.restoreOverrideCursor()
        super().closeEvent(event)
