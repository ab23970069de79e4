"""The wall display (大屏): map in the centre, queue and camera alerts on the right, KPIs,
trends and street ranking on the left, the duty commander's panel under the map.

The window lays the panels out and handles keys, size, focus, the tour and the link's
status. The data reach the panels once per frame, never per message: the session's thread
fills an inbox, each frame takes it whole and applies it to the replica (`listen`), and the
coalescer calls each panel's view (desktop/ui/panels.py) with the frame's changes, in order.
The map gets its own slower batches. A banner shows while the data are not live.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QColor,
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
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QSizePolicy,
    QWidget,
)

from desktop.core.district_time import clock_text, hms
from desktop.core.feed import Feed, urgent_news
from desktop.core.link import Inbox
from desktop.core.map_feed import PRIORITY_COLOURS as MARKER_COLOURS
from desktop.core.map_feed import Load, load_style, marker_event
from desktop.core.privacy import mask_phone
from desktop.core.replica import Changes, Replica
from desktop.core.session import Status, node_name, short_node_names
from desktop.core.supervisor import BackendState
from desktop.core.time_machine import Ask, Figures
from desktop.core.views import grid_card
from desktop.i18n import QT_TRANSLATE_NOOP
from desktop.ui.case_sheet import History
from desktop.ui.coalescer import FRAME_MS, LONGEST_FRAME_MS, Coalescer
from desktop.ui.models import (
    AMBER,
    PRIORITY_TEXT,
    RED,
    RISK,
    STATUS_TEXT,
    AlertFeedModel,
    EventQueueModel,
    countdown,
    risk_badge,
    text,
)
from desktop.ui.panels import OVERDUE, AlertView, DutyView, KpiView, MapView, QueueView
from desktop.ui.replay_mode import ReplayMode
from desktop.ui.sound import Chime
from desktop.ui.theme import BACKGROUND, Sizes, stylesheet
from desktop.ui.thumbnails import ThumbnailLoader
from desktop.ui.tour import Tour
from desktop.ui.wall_case import WallCase
from protocol.messages import CaseRisk
from widgets.alert_card import AlertCardDelegate, CardRoles
from widgets.cover import Cover
from widgets.duty_panel import DutyPanel
from widgets.grid_details import GridDetails
from widgets.grid_map import GridMap
from widgets.kpi_board import TONE_COLOURS, KpiBoard
from widgets.legend import Key, KeyGroup, Legend
from widgets.panel import Panel
from widgets.street_ranking import BAR_COLOURS, StreetRanking
from widgets.text_table import TextTable
from widgets.time_bar import TimeBar
from widgets.trend_chart import TODAY_COLOUR, YESTERDAY_COLOUR, HourlyTrend
from widgets.wall_header import OutageBanner, WallHeader

KPI_KEYS = ["received", "dispatched", "closed", "on_time", "overdue", "handling"]
# The queue's status filter: every open case, each open status by the very word its rows
# show, and the cases late now (a choice's data: None, a status, or OVERDUE).
QUEUE_STATUSES = ("reported", "accepted", "dispatched", "handling", "handled", "verified")
# The queue's orders: (label, model order).
QUEUE_ORDERS = [
    (QT_TRANSLATE_NOOP("WallWindow", "按紧急程度"), "priority"),
    (QT_TRANSLATE_NOOP("WallWindow", "按剩余时限"), "deadline"),
]
QUIT_WITHIN_MS = 3000  # kiosk: a second Ctrl+Q within this quits
KEY_QUIT = "Ctrl+Q"
KEY_KIOSK = "Ctrl+Shift+K"
# 复盘 left alone this long (not playing, no key, no mouse) goes back to live: a wall the
# room leaves unattended never stays on the past.
REPLAY_IDLE = 600.0

log = logging.getLogger("desktop.ui.wall")

# The layout, in fixed shares of the screen: what the panels show never moves them.
HEADER_SHARE = 0.06  # of the height
COLUMN_SHARES = (0.22, 0.35, 0.43)  # left, centre, right
LEFT_SHARES = (0.37, 0.25, 0.38)  # KPIs, trend, ranking
CENTRE_SHARES = (0.57, 0.43)  # map, duty
RIGHT_SHARES = (0.60, 0.40)  # queue, alerts
# The queue's grid column holds a grid's short name this long if it can, this short at least;
# the categories keep room for a name this long.
GRID_SAMPLES = ("腊树园第12网格", "宜纺第12网格")
CATEGORY_SAMPLE = "井盖缺失破损"
MAP_LABEL_PX = 28  # the map's street names and tooltips, in CSS pixels at 1080 lines


def split(start: int, length: int, shares: tuple[float, ...], gap: int) -> list[tuple[int, int]]:
    """(position, size) of parts sharing `length` in fixed proportions, `gap` between them."""
    room = length - gap * (len(shares) - 1)
    total = sum(shares)
    parts: list[tuple[int, int]] = []
    edge = 0.0
    for share in shares:
        begin = start + round(edge)
        edge += room * share / total
        end = start + round(edge)
        parts.append((begin, max(end - begin, 1)))
        edge += gap
    return parts


def blend(colour: str, opacity: float, under: str = BACKGROUND) -> str:
    """The colour an area filled with `colour` at `opacity` shows over `under`."""
    top, bottom = QColor(colour), QColor(under)
    mixed = QColor(
        round(top.red() * opacity + bottom.red() * (1 - opacity)),
        round(top.green() * opacity + bottom.green() * (1 - opacity)),
        round(top.blue() * opacity + bottom.blue() * (1 - opacity)),
    )
    return str(mixed.name())


class WallWindow(QWidget):
    """The big-screen view over a replica; its panels' views and `set_status` feed it."""

    focusChanged = Signal(str)
    snapshotShown = Signal()  # a snapshot has reached every panel
    linkChanged = Signal(bool)  # the session got in (welcomed, its state shown) or dropped

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
        self.banner = OutageBanner(self)  # over the header: it never moves the panels
        # Calm until the first connection has been tried: nothing has failed yet.
        self.banner.show_progress(self.tr("正在连接调度服务…"))
        self.backend: BackendState | None = None  # the embedded backend, when it is ours
        self._reconnecting = False  # it is back after a restart, the session not yet
        self.kiosk = False
        self.normal_size = QSize(1920, 1080)  # the window's size out of kiosk mode
        self._quit_armed = False

        self.kpis = KpiBoard(KPI_KEYS, columns=2)
        self.trend = HourlyTrend(framed=False)
        self.trend.set_title("")
        self.trend.show_key(False)  # the panel's bar has the key
        self.ranking = StreetRanking(framed=False)
        self.ranking.clicked.connect(self.set_focus)

        # Street names on the map as large as every other text (the page's CSS pixels, which
        # the zoom factor multiplies with the screen).
        self.map = GridMap(
            centre=(117.06, 30.53), zoom=12, tile_url=tile_url, label_px=MAP_LABEL_PX
        )
        self.map.areaClicked.connect(self.show_grid)
        self.map.markerClicked.connect(self._marker_clicked)
        self.grid_details = GridDetails(self.map)
        # Over the map while the backend catches up: the page shows the units, no cases.
        self.map_note = QLabel(self.tr("正在同步…"), self.map)
        self.map_note.setObjectName("mapNote")
        self.map_note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.map_note.hide()
        # A queue row, a marker or a supervision item opens the case over the map.
        self.case_view = WallCase(replica, self._clock, self._case_area, self.map, self)
        self.case_view.photoWanted.connect(self._want_photo)

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
        # Whole rows only: a wheel moves a row at a time and the rows fill the view exactly.
        self.queue.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerItem)
        self.queue.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        # Read from across the room, not scrolled (a wheel still scrolls): a scroll bar would
        # only repaint with every frame.
        self.queue.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.queue.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # The source is for the desk: the wall has room for what, where, which stage and how
        # long, in letters big enough to read.
        self.queue.setColumnHidden(EventQueueModel.COLUMNS.index("source"), True)
        header = self.queue.horizontalHeader()
        # Fixed widths from the font, never ResizeToContents: that measures up to 1,000 rows
        # per column on every insert (most of the GUI thread at 2,000 events/s).
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(
            EventQueueModel.COLUMNS.index("category"), QHeaderView.ResizeMode.Stretch
        )
        header.setHighlightSections(False)
        self.queue.clicked.connect(self._queue_clicked)
        self.queue.resized.connect(self._size_columns)

        self.street_filter = self._combo()
        self.street_filter.addItem(self.tr("全部街道"), "")
        self.street_filter.currentIndexChanged.connect(self._street_filter_changed)
        self.status_filter = self._combo()
        self.status_filter.addItem(self.tr("全部在办"), None)
        for status in QUEUE_STATUSES:  # named as the rows name them: 待受理 lists 待受理
            self.status_filter.addItem(text(STATUS_TEXT, status), status)
        self.status_filter.addItem(self.tr("超期"), OVERDUE)
        self.queue_order = self._combo()
        for label, order in QUEUE_ORDERS:
            self.queue_order.addItem(self.tr(label), order)

        alert_model = AlertFeedModel(replica, self, clock=self._clock)
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
        )
        self.alerts = WholeCards(self.card)
        self.alerts.setObjectName("alertFeed")
        self.alerts.setModel(alert_model)
        self.alerts.setUniformItemSizes(True)
        self.alerts.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerItem)
        self.alerts.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        # As the queue: the newest on top, a wheel still scrolls; a bar is clutter on a wall.
        self.alerts.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.alerts.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.card.setParent(self.alerts)
        self.alerts.setItemDelegate(self.card)
        self.alerts_empty = QLabel(self.tr("暂无待处理告警"), self.alerts.viewport())
        self.alerts_empty.setObjectName("emptyNote")
        self.alerts_empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.alerts.empty = self.alerts_empty
        self.alerts_empty.hide()  # until a snapshot says there are none
        # While the backend catches up on the day (a fresh start replays it), the rows and
        # cards would be a part of the day passing for the whole: a calm note covers them,
        # and the views keep their place (the layout never moves).
        syncing = self.tr("正在同步…")
        self.queue_cover = Cover(syncing, self.queue, "syncCover")
        self.alerts_cover = Cover(syncing, self.alerts, "syncCover")

        self.duty = DutyPanel(framed=False)
        self.duty.caseClicked.connect(self._case_clicked)
        self.duty_view = DutyView(replica, self.duty, clock=self._clock)
        self.map_view = MapView(
            replica, self.map, clock=self._clock, parent=self, label_px=MAP_LABEL_PX, hold=True
        )

        # ---- panels ------------------------------------------------------------------------
        self.kpi_panel = Panel(self.tr("今日指标"), self.kpis, self)
        self.kpi_legend = Legend(
            [
                KeyGroup(
                    "",
                    (
                        Key(self.tr("达标"), TONE_COLOURS["good"]),
                        Key(self.tr("预警"), TONE_COLOURS["warn"]),
                        Key(self.tr("未达标"), TONE_COLOURS["alarm"]),
                    ),
                )
            ]
        )
        self.kpi_panel.set_footer(self.kpi_legend)
        self.kpi_view = KpiView(
            replica,
            self.kpi_panel,
            self.kpis,
            self.trend,
            self.ranking,
            street_name=self.street_name,
            notice=self.header.set_notice,
            replay_figures=self._replay_figures,
        )
        self.trend_panel = Panel(self.tr("每小时接报量"), self.trend, self)
        self.trend_legend = Legend(
            [
                KeyGroup(
                    "",
                    (
                        Key(self.tr("今日"), TODAY_COLOUR, "square"),
                        Key(self.tr("昨日"), YESTERDAY_COLOUR, "dash"),
                    ),
                )
            ]
        )
        self.trend_panel.add_control(self.trend_legend)
        self.ranking_panel = Panel(self.tr("街道综合得分 · 本月"), self.ranking, self)
        self.ranking_legend = Legend(
            [
                KeyGroup(
                    "",
                    (
                        Key(self.tr("≥90分"), BAR_COLOURS["normal"].name(), "square"),
                        Key(self.tr("80–90分"), BAR_COLOURS["warn"].name(), "square"),
                        Key(self.tr("<80分"), BAR_COLOURS["alarm"].name(), "square"),
                    ),
                )
            ]
        )
        self.ranking_panel.set_footer(self.ranking_legend)
        self.map_panel = Panel(self.tr("网格态势"), self.map, self)
        # T paused the tour: the wall says so (and how to go on) until T resumes it.
        self.tour_hint = QLabel(self.tr("轮巡已暂停 · T 继续"))
        self.tour_hint.setObjectName("tourHint")
        self.tour_hint.hide()
        self.map_panel.add_control(self.tour_hint)
        self.map_legend = self._map_legend()
        self.map_panel.set_footer(self.map_legend)
        self.duty_panel = Panel(self.tr("县干指挥长"), self.duty, self)
        self.queue_panel = Panel(self.tr("事件队列"), self.queue, self)
        self.queue_legend = Legend(
            [
                # The colours of the status, risk and time columns (the priorities name
                # themselves); the risk badge's threshold is docs/kpis.md §8's.
                KeyGroup(
                    self.tr("状态、时限"),
                    (
                        Key(self.tr("超期"), RED.name(), "square"),
                        Key(self.tr("剩余不足¼"), AMBER.name(), "square"),
                        Key(self.tr("险: 超期风险≥20%"), RISK.name(), "dot"),
                    ),
                ),
            ]
        )
        self.queue_panel.set_footer(self.queue_legend)
        self.queue_filters = QWidget()
        filters = QHBoxLayout(self.queue_filters)
        filters.setContentsMargins(0, 0, 0, 0)
        for combo in (self.street_filter, self.status_filter, self.queue_order):
            filters.addWidget(combo, 1)
        self.queue_panel.add_row(self.queue_filters)
        self.alert_panel = Panel(self.tr("视频告警"), self.alerts, self)
        self.queue_view = QueueView(
            replica,
            queue_model,
            self.queue_panel,
            self.street_filter,
            self.status_filter,
            self.queue_order,
            self.queue_cover,
        )
        self.status_filter.currentIndexChanged.connect(self.queue_view.apply_filter)
        self.queue_order.currentIndexChanged.connect(self.queue_view.apply_filter)
        self.alert_view = AlertView(
            replica,
            alert_model,
            self.alert_panel,
            self.alerts,
            self.alerts_empty,
            self.alerts_cover,
        )
        self.panels = {
            "kpi": self.kpi_panel,
            "trend": self.trend_panel,
            "ranking": self.ranking_panel,
            "map": self.map_panel,
            "duty": self.duty_panel,
            "queue": self.queue_panel,
            "alerts": self.alert_panel,
        }
        self.banner.raise_()

        # ---- feeding -----------------------------------------------------------------------
        self.feed = Feed(replica, on_status=self.set_status)
        self.coalescer = Coalescer(
            FRAME_MS, self, source=self._collect, longest_ms=LONGEST_FRAME_MS
        )
        # 复盘 (F8): the wall shows a past moment, with the time bar over the map's foot.
        self.replay = ReplayMode(replica, self.feed, self.coalescer, self, self._place_time_bar)
        self.replay.changed.connect(self._replay_changed)
        self.replay_idle = REPLAY_IDLE
        self._touched = time.monotonic()  # the last key or mouse move at the wall
        self._pointer = QCursor.pos()
        # One pass per frame, in this order: the map's batching and the chime and tour
        # (`_after_panels`) come after the models have the frame.
        for subscriber in (
            self.queue_view.on_flush,
            self.alert_view.on_flush,
            self.map_view.on_flush,
            self.duty_view.on_flush,
            self.kpi_view.on_flush,
            self.case_view.on_flush,
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
        self.sizes = Sizes.for_screen(1920, 1080)

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
            ("Right", self._right),
            ("F8", self.replay.toggle),
            ("End", self.replay.leave),
            ("Space", self.replay.play_or_pause),
        ):
            # Shortcuts, not keyPressEvent: the map's page takes the keyboard focus when
            # clicked (and at start), and would keep every key from the window.
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(self._key(action))
            self.shortcuts[QKeySequence(key).toString()] = shortcut
        self._show_freshness()
        # Until the first snapshot the panels that would draw empty figures (zero badges, an
        # empty chart's axis) stay blank: nothing is known yet, not zero. So do they while
        # the backend is still replaying the day (a fresh start): the duty would read as
        # yesterday's until it has caught up.
        self._unknown = [self.duty, self.trend, self.ranking]
        self._snapshot_seen = False
        for part in self._unknown:
            policy = part.sizePolicy()
            policy.setRetainSizeWhenHidden(True)  # the panels keep their layout meanwhile
            part.setSizePolicy(policy)
            part.hide()
        self.resize(1920, 1080)
        self._lay_out(QSize(1920, 1080))

    # ---- the data path ---------------------------------------------------------------------

    def listen(
        self,
        inbox: Inbox,
        resync: Callable[[], bool] | None = None,
        history: History | None = None,
        replay: Ask | None = None,
    ) -> None:
        """Take the session's messages from `inbox` once per frame (its wake is
        `self.coalescer.wake`); `resync` asks the session for a fresh snapshot, `history`
        for an opened case's audit timeline, `replay` for the past (复盘)."""
        self.feed.listen(inbox, resync)
        if replay is not None:
            self.replay.use(replay)
        self.case_view.set_history(history)
        # The session's thread may outlive this window: it must stop waking a deleted one.
        self.destroyed.connect(inbox.close)

    def _collect(self) -> Changes:
        return self.replay.collect()

    def _replay_figures(self) -> Figures:
        machine = self.replay.machine
        return "shown" if machine is None else machine.figures

    def _replay_changed(self, active: bool) -> None:
        """Into the past or back: the header says which at once; the panels make room for
        the time bar, or take it back."""
        self._show_freshness()
        self.kpi_view.set_replaying(active)
        self._lay_out(self.size())
        self.map_view.refit()

    def _right(self) -> None:
        """→: the next street; in the past, the next change."""
        if self.replay.active:
            self.replay.step()
        else:
            self.step_street(1)

    def _place_time_bar(self, bar: TimeBar) -> None:
        """The time bar across the wall's foot, its texts the wall's size: a mode of the
        whole wall, with room for the day's curve (the panels above it keep whole rows)."""
        height = self._time_bar_height(bar, self.height())
        bar.setGeometry(QRect(0, self.height() - height, self.width(), height))

    def _time_bar_height(self, bar: TimeBar, wall_height: int) -> int:
        bar.set_text_px(self.sizes.text)
        bar.ensurePolished()
        return min(bar.sizeHint().height(), wall_height // 3)

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
            self._snapshot_seen = True
        whole = self._snapshot_seen and not self.replica.kpis_partial
        for part in self._unknown:
            if part.isVisible() != whole:
                part.setVisible(whole)
        if self.replica.syncing == self.map_note.isHidden():
            self.map_note.setVisible(self.replica.syncing)
            self._place_map_note()
        if changes.reset:
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
        if status.connected != (self.status is not None and self.status.connected):
            self.linkChanged.emit(status.connected)
        self.status = status
        if status.connected:
            self._reconnecting = False
            loader = self.thumbnail_loader
            if status.nodes > 1 and loader is not None:
                loader.retarget(status.node)  # the snapshots from the server in use
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
            reason = self._reason(status)
            if status.nodes > 1 and not status.fatal:  # several servers: which one is next
                reason += self.tr("，正在连接 %s") % node_name(status.node)
            self.banner.show_outage(stamp, status.attempt, reason)

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
        self.case_view.every_second()
        self._show_freshness()
        pruned = self.feed.every_second()
        if pruned and not self.replay.active:  # in the past, the live state set aside
            self.coalescer.push(pruned)
        now = time.monotonic()
        if now - self._last_overdue_check > 30:
            self._last_overdue_check = now
            self.map_view.refresh_overdue()
        if now - self._last_prune > 60:
            self._last_prune = now
            self.alert_view.forget_thumbnails()
        if self.tour is not None:
            cursor = QCursor.pos()
            if cursor != self._cursor:
                self._cursor = cursor
                self.tour.operator_active()
            self._show_scope()
        self._leave_an_unattended_past(now)

    def _leave_an_unattended_past(self, now: float) -> None:
        """Back to live when 复盘 has been left alone (paused) for `replay_idle` seconds."""
        pointer = QCursor.pos()
        if pointer != self._pointer:
            self._pointer, self._touched = pointer, now
        machine = self.replay.machine
        if (
            machine is not None
            and machine.active
            and machine.mode != "playing"
            and now - self._touched > self.replay_idle
        ):
            log.info("复盘 left alone for %.0f s: back to live", now - self._touched)
            self.replay.leave()

    def _show_freshness(self) -> None:
        if self.replay.active:
            self.header.set_replaying()
            return
        status = self.status
        if status is None:
            self.header.set_connecting()  # not tried yet: nothing is down
            return
        last = max(self.feed.last_data, status.last_data)
        # Partial figures are not fresh data, however recent: "loading" until they are whole.
        age = time.time() - last if last and not self.replica.kpis_partial else None
        # Several servers: the one in use is named beside the age (a standby, say).
        node = self._node_label(status) if status.nodes > 1 and status.connected else ""
        self.header.set_freshness(status.connected, age, node)

    def _node_label(self, status: Status) -> str:
        """The server in use, as short as tells it from the others (the header's room is
        a fifth of the wall's width): its host, its port, or its place in the list."""
        if status.node not in status.servers:
            return node_name(status.node)
        position = status.servers.index(status.node)
        names = short_node_names(status.servers)
        return names[position] if names is not None else self.tr("节点%s") % (position + 1)

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
        self.header.title.set_full_text(self.tr("%s智慧联动中心 · 一网统管") % units.district_name)

    def _tour_streets(self) -> None:
        if self.tour is not None and self.replica.units is not None:
            self.tour.stops = ["", *(s.code for s in self.replica.units.streets)]

    def street_name(self, code: str) -> str:
        """A street's name ('全区' for the district, '全市' for a city's several)."""
        units = self.replica.units
        if not code:
            return self.tr("全市") if units is not None and units.districts else self.tr("全区")
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
        self.tour_hint.hide()
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
        if self.replay.active:  # nothing in the past rings
            return
        urgent = urgent_news(self.replica, new_ids, self._clock())
        if not urgent:
            return
        self.chime.ring()
        if self.tour is not None:
            newest = max(urgent, key=lambda e: e.reported_at)
            self.tour.hold_on(newest.street)

    def thumbnail_loaded(self, alert_id: int, pixmap: QPixmap) -> None:
        """A snapshot arrived for an alert card (or the open case)."""
        self.alert_view.thumbnail_loaded(alert_id, pixmap)
        self.case_view.photo_loaded(alert_id, pixmap)

    def _want_photo(self, alert_id: int, path: str) -> None:
        loader = self.alert_view.loader
        if loader is not None:
            loader.want(alert_id, path)

    def show_grid(self, code: str) -> None:
        """The details card of a grid: its people and its open events."""
        card = grid_card(self.replica, code)
        if card is None:
            return
        people = []
        if card.worker:
            # Visitors see the wall: the phone number masked (the desk has it in full).
            people.append(self.tr("网格员 %s  %s") % (card.worker, mask_phone(card.worker_phone)))
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

    def _place_map_note(self) -> None:
        """The map's note at the top of the map, in the middle."""
        note = self.map_note
        note.adjustSize()
        note.move((self.map.width() - note.width()) // 2, self.sizes.px(12))
        note.raise_()

    def _place_details(self) -> None:
        width = max(320, int(self.map.width() * 0.6))
        self.grid_details.setFixedWidth(width)
        self.grid_details.adjustSize()
        self.grid_details.move(self.map.width() - width - 12, 12)

    def _case_area(self) -> QRect:
        """Where an opened case goes: from the window's left margin to the map's right edge,
        from the map's top to the bottom margin (the queue on the right stays in view)."""
        top_left = self.map.mapTo(self, QPoint(0, 0))
        margin = self.sizes.px(8)
        return QRect(
            margin,
            top_left.y(),
            top_left.x() + self.map.width() - margin,
            self.height() - top_left.y() - margin,
        )

    def _queue_clicked(self, index: Any) -> None:
        event = self.queue_view.model.event_at(index.row())
        if event is not None:
            self._case_clicked(event.id)

    def _marker_clicked(self, marker: str) -> None:
        event_id = marker_event(marker)
        if event_id is not None:
            self._case_clicked(event_id)

    def _case_clicked(self, event_id: int) -> None:
        if event_id in self.replica.events:
            self.grid_details.hide()
            self.case_view.open_case(event_id)
            if self.tour is not None:
                self.tour.operator_active()

    def _combo(self) -> QComboBox:
        """A filter in the queue's row of filters: a third of the row, whatever it says."""
        combo = QComboBox()
        combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        combo.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Expanding)
        return combo

    def _map_legend(self) -> Legend:
        """What the map's colours mean: the cases' dots and rims, the grids' shades, the
        clusters' colours."""
        dots = (
            Key(self.tr("特急"), MARKER_COLOURS[1]),
            Key(self.tr("紧急"), MARKER_COLOURS[2]),
            Key(self.tr("一般"), MARKER_COLOURS[3]),
            Key(self.tr("较低"), MARKER_COLOURS[4]),
            Key(self.tr("未派遣"), "#ffffff", "ring"),
            # (Its own words, not the filter's 超期: English says it shorter, "Late".)
            Key(self.tr("已超期"), "#ff4d4f", "ring"),
        )
        shades = (
            Key(self.tr("1–2件"), blend(*load_style(Load(open=1))), "square"),
            Key(self.tr("3–5件"), blend(*load_style(Load(open=3))), "square"),
            Key(self.tr("≥6件"), blend(*load_style(Load(open=6))), "square"),
            Key(self.tr("有超期"), blend(*load_style(Load(open=1, overdue=1))), "square"),
            Key(self.tr("超期≥3件"), blend(*load_style(Load(open=3, overdue=3))), "square"),
        )
        # (The clusters' colours and the numbers in them are the page's: the map's own part.)
        # The dots need no caption (their words are the priorities and the stages), and
        # without it the keys take two lines in English too, as in Chinese.
        return Legend([KeyGroup("", dots), KeyGroup(self.tr("网格"), shades)])

    # ---- sound, keys, size -----------------------------------------------------------------

    def _set_muted(self, muted: bool) -> None:
        self.chime.muted = muted

    def whole_district(self) -> None:
        """Esc: back to the whole district from any state (a street in focus, on tour, a
        grid's card open); an opened case closes first, back to the map."""
        if self.case_view.isVisible():
            self.case_view.close_case()
            return
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
            self._touched = time.monotonic()
            if self.tour is not None:
                self.tour.operator_active()
            self.case_view.touched()
            action()

        return pressed

    def toggle_mute(self) -> None:
        """M: sound on or off."""
        self.header.set_muted(not self.chime.muted)

    def toggle_tour(self) -> None:
        """T: start the tour, or pause it where it is (the map's title bar then says so
        until T resumes it)."""
        if self.tour is None:
            self.start_tour(self.tour_dwell)
        else:
            self.stop_tour()
            self.tour_hint.show()

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
        self._touched = time.monotonic()
        if self.tour is not None:
            self.tour.operator_active()
        self.case_view.touched()
        super().keyPressEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Lay the wall out again for the new size."""
        self._lay_out(event.size())
        super().resizeEvent(event)

    def _lay_out(self, size: QSize) -> None:
        """Every part in its fixed share of the screen, every text at least 1/60 of its
        height tall (readable from 5 m), whatever the data say."""
        width, height = size.width(), size.height()
        sizes = Sizes.for_screen(width, height)
        if sizes != self.sizes or not self.styleSheet():
            self.sizes = sizes
            self._apply_sizes(sizes)
        header = round(height * HEADER_SHARE)
        self.header.setGeometry(QRect(0, 0, width, header))
        self.header.place()
        # The banner lies over the header: a link going down moves nothing.
        self.banner.setGeometry(QRect(0, 0, width, header))
        self.banner.raise_()
        margin = sizes.px(10)
        top = header + margin
        # In 复盘 the panels end above the time bar (it lay over their last rows: a duty
        # row and an alert card cut in half, found by a newcomer's trial).
        bar = self.replay.bar
        foot = self._time_bar_height(bar, height) if not bar.isHidden() else 0
        columns = split(margin, width - 2 * margin, COLUMN_SHARES, margin)
        stacks = (
            (LEFT_SHARES, (self.kpi_panel, self.trend_panel, self.ranking_panel)),
            (CENTRE_SHARES, (self.map_panel, self.duty_panel)),
            (RIGHT_SHARES, (self.queue_panel, self.alert_panel)),
        )
        for (x, column_width), (shares, panels) in zip(columns, stacks, strict=True):
            rows = split(top, height - foot - top - margin, shares, margin)
            for (y, row_height), panel in zip(rows, panels, strict=True):
                panel.setGeometry(QRect(x, y, column_width, row_height))
                layout = panel.layout()
                if layout is not None:
                    layout.activate()
        self._size_legends()
        self._size_columns()
        self.alerts.fit_cards()
        if self.grid_details.isVisible():
            self._place_details()
        self._place_map_note()
        if foot:
            bar.setGeometry(QRect(0, height - foot, width, foot))

    def _apply_sizes(self, sizes: Sizes) -> None:
        """Fonts, bars and spacing for a screen's sizes."""
        self.setStyleSheet(stylesheet(sizes))
        self.header.margin = sizes.px(16)
        text = sizes.text
        margin, spacing = sizes.px(8), sizes.px(6)
        for panel in self.panels.values():
            panel.set_sizes(sizes.bar, margin, spacing)
        # Each legend takes the lines it needs at its panel's width (by the words, never by
        # the data); set again in _size_legends once the widths are known.
        legends = (self.kpi_legend, self.trend_legend, self.ranking_legend, self.map_legend)
        for legend in (*legends, self.queue_legend):
            legend.set_text_px(text)
        self.trend_legend.setFixedWidth(self.trend_legend.sizeHint().width())
        self.kpis.set_text_px(text, sizes.px(8))
        self.trend.set_text_px(text)
        self.ranking.set_text_px(text)
        self.duty.set_text_px(text)
        self.card.scale = sizes.unit
        self.card.text_px = text
        self.queue.padding = sizes.px(6)
        self.queue.set_whole_rows(sizes.row)
        self.queue.horizontalHeader().setFixedHeight(sizes.row)
        self.map.setZoomFactor(sizes.unit)  # labels and markers grow with the wall
        self.case_view.set_scale(sizes.unit)
        self.grid_details.layout().setContentsMargins(  # type: ignore[union-attr]
            sizes.px(14), sizes.px(10), sizes.px(14), sizes.px(12)
        )

    def _size_legends(self) -> None:
        """Each legend under a panel as many lines high as its words take at its width."""
        for panel in (self.kpi_panel, self.ranking_panel, self.map_panel, self.queue_panel):
            legend = panel.footer
            if legend is not None:
                inner = panel.contentsRect().width() - 2 * self.sizes.px(8)
                legend.setFixedHeight(legend.heightForWidth(max(inner, 1)))
                layout = panel.layout()
                if layout is not None:
                    layout.activate()

    def _size_columns(self) -> None:
        """The queue's columns: each fixed one as wide as the longest text it can hold in this
        language, the grids room for a short name, the categories what remains."""
        self.queue.ensurePolished()
        metrics = QFontMetrics(self.queue.font())
        header = self.queue.horizontalHeader()
        bold = QFontMetrics(header.font())
        pad = 2 * self.queue.padding
        samples = {
            "priority": [text(PRIORITY_TEXT, p) for p in PRIORITY_TEXT],
            "status": [text(STATUS_TEXT, s) for s in QUEUE_STATUSES],
            # The longest a countdown gets: days are shorter than 23 h 59 min.
            "deadline": [countdown(0, 23 * 3600 + 59 * 60), countdown(86340, 0)],
            "risk": [risk_badge(CaseRisk(p=1.0, why=""))],
        }
        used = 0
        for column, texts in samples.items():
            index = EventQueueModel.COLUMNS.index(column)
            title = self.queue_view.model.headers[column]
            width = max(
                max(metrics.horizontalAdvance(t) for t in texts),
                bold.horizontalAdvance(title) + self.sizes.px(8),
            )
            header.resizeSection(index, width + pad)
            used += width + pad
        # A longer grid name is cut before its number (花亭…第12网格).
        rest = max(self.queue.viewport().width() - used, 2)
        longest, shortest = (metrics.horizontalAdvance(s) + pad for s in GRID_SAMPLES)
        category = metrics.horizontalAdvance(CATEGORY_SAMPLE) + pad
        grid = min(longest, max(rest - category, shortest))
        header.resizeSection(EventQueueModel.COLUMNS.index("grid"), grid)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop the timers (the app stops the session and the backend)."""
        self._second.stop()
        self.stop_tour()
        if self.kiosk:
            self.kiosk = False
            QApplication.restoreOverrideCursor()
        super().closeEvent(event)


class WholeCards(QListView):
    """A list of equal cards, as many whole ones as fit: each stretched so none is cut."""

    def __init__(self, card: AlertCardDelegate) -> None:
        super().__init__()
        self.card = card
        self.empty: QLabel | None = None  # a note over the whole view when there is no card

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Fit whole cards to the new height."""
        super().resizeEvent(event)
        self.fit_cards()
        if self.empty is not None:
            self.empty.resize(self.viewport().size())

    def fit_cards(self) -> None:
        """Stretch the cards so that a whole number of them fills the view; what is left over
        (a few pixels) lies outside the view, so no card is ever cut."""
        height = self.viewport().height() + self.viewportMargins().bottom()
        least = self.card.natural_height()
        cards = max(1, height // max(least, 1))
        fitted = max(least, height // cards)
        spare = max(0, height - cards * fitted)
        if spare != self.viewportMargins().bottom():
            self.setViewportMargins(0, 0, 0, spare)
        if fitted != self.card.row_height:
            self.card.row_height = fitted
            self.doItemsLayout()
