"""The desk's window: header, the pages (我的待办, 视频告警, 县干指挥长), keys, and the one
pass per frame that feeds them from the session."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import QRect, Qt, QTimer, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QGuiApplication,
    QKeySequence,
    QPixmap,
    QResizeEvent,
    QShortcut,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRhiWidget,
    QStackedWidget,
    QSystemTrayIcon,
    QTabBar,
    QVBoxLayout,
    QWidget,
)

from desktop.core.district_time import day_hms
from desktop.core.feed import Feed
from desktop.core.link import Inbox
from desktop.core.outbox import Outbox, Pending, Send
from desktop.core.replica import Changes, Replica
from desktop.core.session import Status, node_name
from desktop.core.supervisor import BackendState
from desktop.core.time_machine import Ask
from desktop.core.todo import Me, TodoBook
from desktop.ui.coalescer import FRAME_MS, LONGEST_FRAME_MS, Coalescer
from desktop.ui.desk.admin_page import AdminPage, AdminRequests
from desktop.ui.desk.alerts_page import AlertsPage
from desktop.ui.desk.case_pane import CasePane
from desktop.ui.desk.duty_page import DutyPage
from desktop.ui.desk.files import ExportDialog, FileFetcher
from desktop.ui.desk.intake_tab import IntakeTab
from desktop.ui.desk.map_page import MapPage
from desktop.ui.desk.texts import role_text
from desktop.ui.desk.todo_page import TodoPage
from desktop.ui.replay_mode import ReplayMode
from desktop.ui.sound import Chime
from desktop.ui.thumbnails import ThumbnailLoader
from protocol.codes import CloseCode
from protocol.messages import Error, Result
from widgets.time_bar import TimeBar

log = logging.getLogger("desktop.ui.desk")


# --page: the 管理 page's tabs (users, duty roster, category table, intakes).
ADMIN_TABS = {"admin": 0, "admin-roster": 1, "admin-categories": 2, "admin-intakes": 3}
PHOTOS_KEPT = 200  # snapshots kept for the alerts list and the cases (~1 MiB each at most)


def composite_from_the_start(window: QWidget) -> QWidget | None:
    """A hidden GPU-composited (RHI) child, so that `window` is made composited when it is
    first shown; None where the platform draws without a GPU (offscreen).

    The map page's web view, built once the list is up, is such a child: added to a window
    already shown without one, it has Qt destroy the native window and make it anew (a new
    window id), and the screen shows one black frame between the two. With this child the
    window is made that way once, before its first frame. It is never shown, so it renders
    nothing and holds no GPU resources.
    """
    if QGuiApplication.platformName() in ("offscreen", "minimal"):
        return None  # nothing composited there: nothing to make anew either
    anchor = QRhiWidget(window)
    anchor.setObjectName("compositedFromTheStart")
    anchor.hide()
    return anchor


class DeskWindow(QWidget):
    """The desk."""

    snapshotShown = Signal()  # the first snapshot is on screen: the to-do list is usable
    linkChanged = Signal(bool)  # the session got in (welcomed, its state shown) or dropped

    def __init__(self, replica: Replica, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("desk")
        self.setWindowTitle(self.tr("通观 · 中屏管"))
        self.composited = composite_from_the_start(self)
        self.replica = replica
        self.feed = Feed(replica, on_status=self.set_status)
        self.coalescer = Coalescer(
            FRAME_MS, self, source=self._collect, longest_ms=LONGEST_FRAME_MS
        )
        # 复盘 (F8): the desk shows a past moment, read-only, with the time bar at its foot.
        self.replay = ReplayMode(replica, self.feed, self.coalescer, self, self._place_time_bar)
        self.replay.changed.connect(self._replay_changed)
        self.book = TodoBook(Me("", "wall"))
        self._send: Send | None = None
        self._history: Callable[[int], Awaitable[Result | Error]] | None = None
        self._user_requests: AdminRequests | None = None
        self.outbox = Outbox(self._send_command, self._entry_changed)
        self.chime = Chime(parent=self)
        self.tray: QSystemTrayIcon | None = None
        self._shown_snapshot = False
        # "admin", "admin-roster", "admin-categories", "admin-intakes": open on 管理 (that
        # tab) once offered.
        self.start_page = ""
        self._photo_loader: ThumbnailLoader | None = None
        self._photos: dict[int, QPixmap] = {}  # alert id -> snapshot, the latest PHOTOS_KEPT
        self._status = Status(False, time.time(), 0.0)
        self._backend: BackendState | None = None  # our embedded backend, when we run one
        self._heard = False  # a status from the session (a connection was tried)

        self.title = QLabel(self.tr("通观 · 中屏管"), self)
        self.title.setObjectName("deskTitle")
        self.who = QLabel(self)
        self.who.setObjectName("deskWho")
        self.who.setTextFormat(Qt.TextFormat.PlainText)
        self.link = QLabel(self)
        self.link.setObjectName("deskLink")
        self.waiting = QLabel(self)
        self.waiting.setObjectName("deskWaiting")
        self.clock = QLabel(self)
        self.clock.setObjectName("deskClock")
        self.notice = QLabel(self)
        self.notice.setObjectName("deskNotice")
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addWidget(self.who)
        header.addStretch(1)
        header.addWidget(self.notice)
        header.addWidget(self.waiting)
        header.addWidget(self.link)
        header.addWidget(self.clock)
        # 导出事件 (Ctrl+E): the cases this user may see, to CSV or XLSX.
        self.export_button = QPushButton(self.tr("导出事件…"), self)
        self.export_button.setObjectName("deskExport")
        self.export_button.setShortcut(QKeySequence("Ctrl+E"))
        # Reached by its key or the mouse: it never takes the keyboard focus from a page
        # (the pages' own keys act within them).
        self.export_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.export_button.clicked.connect(self.open_export)
        header.addWidget(self.export_button)

        self.case_pane = CasePane(
            replica, self.me, self.outbox, self._history_of, self.district_now, self
        )
        self.todo = TodoPage(replica, self.book, self.case_pane, self.district_now, self)
        self.alerts = AlertsPage(replica, self.me, self.outbox, self.district_now, self)
        self._files: FileFetcher | None = None
        self.duty = DutyPage(
            replica,
            self.me,
            self.outbox,
            self.district_now,
            self,
            requests=lambda: self._user_requests,
            fetcher=lambda: self._files,
        )
        self.map = MapPage(
            replica, self.coalescer, self.district_now, lambda: self.case_pane.event_id, self
        )
        # 管理 F5: a page of its own, offered once the backend says the user is an admin.
        self.admin = AdminPage(
            replica, self.me, lambda: self._user_requests, self.district_now, self
        )
        self.admin.hide()
        # 接入 F5: the intakes and the feedback outbox, a page of its own for a dispatcher
        # (an admin has it as a tab of 管理).
        self.intakes = IntakeTab(self.me, lambda: self._user_requests, self)
        self.intakes.hide()
        self._intakes_key: QShortcut | None = None
        self.nav = QTabBar(self)
        self.nav.setObjectName("deskNav")
        self.nav.setExpanding(False)
        self.pages = QStackedWidget(self)
        for page, label in (
            (self.todo, self.tr("我的待办 F1")),
            (self.alerts, self.tr("视频告警 F2")),
            (self.duty, self.tr("县干指挥长 F3")),
            (self.map, self.tr("地图 F4")),
        ):
            self.nav.addTab(label)
            self.pages.addWidget(page)
        self.nav.currentChanged.connect(self.pages.setCurrentIndex)
        for index, key in enumerate(("F1", "F2", "F3", "F4")):
            QShortcut(QKeySequence(key), self, lambda i=index: self.nav.setCurrentIndex(i))
        QShortcut(QKeySequence("F8"), self, self.replay.toggle)
        QShortcut(QKeySequence("End"), self, self.replay.leave)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 8)
        layout.addLayout(header)
        layout.addWidget(self.nav)
        layout.addWidget(self.pages, 1)

        for subscriber in (
            self.todo.apply,
            self.alerts.apply,
            self.duty.apply,
            self.map.apply,
            self.admin.apply,
            self._after,
        ):
            self.coalescer.subscribe(subscriber)
        self.todo.newForMe.connect(self._new_for_me)
        self.duty.caseChosen.connect(self.show_case)
        self.map.caseChosen.connect(self.show_case)
        self._second = QTimer(self)
        self._second.start(1000)
        self._second.timeout.connect(self._every_second)
        self._every_second()
        self.set_status(self._status)
        self._heard = False  # that was no connection tried: connecting, not down
        self._show_connecting()

    # ---- wiring -----------------------------------------------------------------------------

    def listen(self, inbox: Inbox, resync: Callable[[], bool] | None = None) -> None:
        """Take the session's messages from `inbox` once per frame."""
        self.feed.listen(inbox, resync)
        self.destroyed.connect(inbox.close)

    def attach(
        self,
        send: Send,
        history: Callable[[int], Awaitable[Result | Error]],
        users: AdminRequests | None = None,
    ) -> None:
        """Where commands, history requests and an admin's requests go (the session's
        thread)."""
        self._send = send
        self._history = history
        self._user_requests = users
        self.duty.reports.list_once()  # already on screen: it can ask for its shifts now

    def use_replay(self, ask: Ask) -> None:
        """Where the time machine's requests go (the session's thread)."""
        self.replay.use(ask)

    def _collect(self) -> Changes:
        return self.replay.collect()

    def _place_time_bar(self, bar: TimeBar) -> None:
        """The time bar over the foot of the pages."""
        area = self.pages.geometry()
        height = min(bar.sizeHint().height(), area.height() // 2)
        bar.setGeometry(QRect(area.left(), area.bottom() + 1 - height, area.width(), height))

    def _retarget(self, url: str) -> None:
        if self._files is not None:
            self._files.retarget(url)
        if self._photo_loader is not None:
            self._photo_loader.retarget(url)

    def _replay_changed(self, active: bool) -> None:
        self.notice.setText(self.tr("复盘中：只读，不能操作；End 回到实时") if active else "")
        # The past is read only: no action offered (and one sent anyway is refused).
        for bar in (self.case_pane.action_bar, self.alerts.action_bar, self.duty.action_bar):
            bar.setEnabled(not active)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Keep the time bar at the foot of the pages."""
        super().resizeEvent(event)
        if self.replay.bar.isVisible():
            self._place_time_bar(self.replay.bar)

    async def _send_command(self, op: str, args: dict[str, Any], **options: Any) -> Result | Error:
        if self.replay.active:  # the past is read-only: nothing is sent from it
            return Error(id=0, code="forbidden", message=self.tr("复盘中不能操作：按 End 回到实时"))
        if self._send is None:
            raise ConnectionError("not connected yet")
        return await self._send(op, args, **options)

    async def _history_of(self, event_id: int) -> Result | Error:
        if self._history is None:
            raise ConnectionError("not connected yet")
        return await self._history(event_id)

    def use_files(self, fetcher: FileFetcher) -> None:
        """Where files asked for over the websocket are fetched from (the backend's HTTP)."""
        self._files = fetcher

    def open_export(self) -> ExportDialog | None:
        """The export dialog (导出事件), once connected."""
        requests, fetcher = self._user_requests, self._files
        if requests is None or fetcher is None:
            self.notice.setText(self.tr("尚未连接调度服务"))
            return None
        dialog = ExportDialog(self.replica, requests, fetcher, self.district_now, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def use_photos(self, loader: ThumbnailLoader) -> None:
        """Where alert snapshots and case photos are fetched from (the backend's HTTP)."""
        self._photo_loader = loader
        loader.loaded.connect(self._photo_loaded)
        loader.fetched.connect(self.alerts.snapshot_fetched)
        self.alerts.snapshotWanted.connect(self.want_photo)
        self.case_pane.photoWanted.connect(self.want_photo)

    def want_photo(self, alert_id: int, path: str) -> None:
        """A snapshot, from the cache if it came already (the loader fetches each once)."""
        pixmap = self._photos.get(alert_id)
        if pixmap is not None:
            self._photo_loaded(alert_id, pixmap)
        elif self._photo_loader is not None:
            self._photo_loader.want(alert_id, path)

    def _photo_loaded(self, alert_id: int, pixmap: QPixmap) -> None:
        self._photos[alert_id] = pixmap
        while len(self._photos) > PHOTOS_KEPT:
            self._photos.pop(next(iter(self._photos)))
        self.alerts.thumbnail_loaded(alert_id, pixmap)
        self.case_pane.photo_loaded(alert_id, pixmap)

    def me(self) -> Me:
        """Who is signed in (from the backend's welcome)."""
        role = self.replica.role or "wall"
        return Me(self.replica.user, role, tuple(self.replica.jurisdiction))  # type: ignore[arg-type]

    def district_now(self) -> float:
        """The district's clock (the simulator's in a demo), else the wall clock."""
        return self.replica.now() or time.time()

    def show_case(self, event_id: int) -> None:
        """Bring a case up in 我的待办."""
        self.nav.setCurrentIndex(0)
        self.todo.select_case(event_id)

    # ---- each frame -------------------------------------------------------------------------

    def _after(self, changes: Changes) -> None:
        me = self.me()
        if me != self.book.me and self.replica.units is not None:
            # Signed in (or as someone else): the tabs are this user's from now on.
            self.book.me = me
            self.who.setText(self._who(me))
            self._offer_admin(me.role == "admin")
            self._offer_intakes(me.role == "dispatcher")
            self.todo.set_units()
            self.todo.apply(Changes(reset=True))
        if changes.units:
            self.todo.set_units()
        if changes.people and self.book.me.user:
            self.who.setText(self._who(self.book.me))
        if changes.kpis or changes.reset:
            self._show_standing()
        if not self._shown_snapshot and changes.reset and self.replica.units is not None:
            self._shown_snapshot = True
            self.snapshotShown.emit()
            # The map's web page takes a second to build: after the list is up, not before.
            QTimer.singleShot(1500, self, self.map.prepare)

    def _offer_admin(self, admin: bool) -> None:
        """The 管理 page, F5, for an admin only."""
        shown = self.pages.indexOf(self.admin) >= 0
        if admin and not shown:
            self.pages.addWidget(self.admin)
            self.nav.addTab(self.tr("管理 F5"))
            self._admin_key = QShortcut(QKeySequence("F5"), self)
            self._admin_key.activated.connect(
                lambda: self.nav.setCurrentIndex(self.pages.indexOf(self.admin))
            )
            if self.start_page in ADMIN_TABS:
                self.nav.setCurrentIndex(self.pages.indexOf(self.admin))
                self.admin.show_tab(ADMIN_TABS[self.start_page])
        elif not admin and shown:
            self.nav.removeTab(self.pages.indexOf(self.admin))
            self.pages.removeWidget(self.admin)
            self.admin.hide()
            self._admin_key.setEnabled(False)

    def _offer_intakes(self, dispatcher: bool) -> None:
        """The 接入 page, F5, for a dispatcher (who may look, not send again)."""
        shown = self.pages.indexOf(self.intakes) >= 0
        if dispatcher and not shown:
            self.pages.addWidget(self.intakes)
            self.nav.addTab(self.tr("接入 F5"))
            self._intakes_key = QShortcut(QKeySequence("F5"), self)
            self._intakes_key.activated.connect(
                lambda: self.nav.setCurrentIndex(self.pages.indexOf(self.intakes))
            )
        elif not dispatcher and shown:
            self.nav.removeTab(self.pages.indexOf(self.intakes))
            self.pages.removeWidget(self.intakes)
            self.intakes.hide()
            if self._intakes_key is not None:
                self._intakes_key.setEnabled(False)

    def _show_standing(self) -> None:
        """What holds for every case now: no node writes (a gateway's `kpis`), or the
        backend still loading its day; gone when it no longer holds."""
        loading = self.tr("调度服务正在载入今日数据，待办与超期数可能暂不准确…")
        waiting = self.tr("暂无主节点：案件办理暂停，操作将排队，主节点恢复后发送")
        if self.replica.no_writer:
            self.notice.setText(waiting)
        elif self.replica.kpis_partial:
            self.notice.setText(loading)
        elif self.notice.text() in (loading, waiting):
            self.notice.setText("")

    def _who(self, me: Me) -> str:
        names = self.replica.names()
        units = self.replica.units
        whole = self.tr("全市") if units is not None and units.districts else self.tr("全区")
        where = "、".join(names.get(c, c) for c in me.jurisdiction) or whole
        role = role_text(me.role)
        # By the name people know (the sign-in name when the user has none), without what
        # that name says already ("菱湖街道分中心 王芳" is a street clerk of 菱湖街道).
        name = self.replica.person(me.user)
        return " · ".join([name, *(part for part in (role, where) if part not in name)])

    def _every_second(self) -> None:
        pruned = self.feed.every_second()
        if pruned and not self.replay.active:  # in the past, the live state set aside
            self.coalescer.push(pruned)
        self.todo.every_second()
        self.clock.setText(day_hms(self.district_now()))

    # ---- connection, commands, news ---------------------------------------------------------

    def set_backend(self, state: BackendState) -> None:
        """Our embedded backend's supervisor: starting, ready, or restarting."""
        self._backend = state
        if self._heard:
            self.set_status(self._status)
        else:
            self._show_connecting()

    def _show_connecting(self) -> None:
        """Nothing tried yet: connecting, not down."""
        self.link.setText(self.tr("● 正在连接调度服务…"))
        self.link.setProperty("tone", "")
        self.link.style().unpolish(self.link)
        self.link.style().polish(self.link)

    def set_status(self, status: Status) -> None:
        """The connection changed."""
        if status.connected != self._status.connected:
            self.linkChanged.emit(status.connected)
        self._status = status
        self._heard = True
        self.outbox.set_connected(status.connected)
        if status.fatal:
            code = status.error.split(":", 1)[0]
            if code == str(int(CloseCode.CREDENTIALS_CHANGED)):
                why = self.tr("账号的令牌或权限已变更，请重新登录")
            elif code == str(int(CloseCode.AUTH_FAILED)):
                why = self.tr("令牌无效或已吊销，请向管理员索取新令牌")
            else:
                why = self.tr("登录被拒绝：%1").replace("%1", status.error)
            self.link.setText(why)
            self.link.setProperty("tone", "alarm")
        elif status.connected:
            connected = self.tr("● 已连接")
            # Several servers: which one is in use (a standby, say), and the files and
            # photos from it too.
            if status.nodes > 1:
                connected += f" · {node_name(status.node)}"
                self._retarget(status.node)
            self.link.setText(connected)
            self.link.setProperty("tone", "good")
        elif self._backend is not None and self._backend.phase == "restarting":
            # Our own embedded backend failed: say what is being done about it.
            self.link.setText(
                self.tr("● 调度服务重启中，第 %1 次").replace("%1", str(self._backend.attempt))
            )
            self.link.setProperty("tone", "alarm")
        else:
            self.link.setText(self.tr("● 连接中断，正在重连…"))
            self.link.setProperty("tone", "alarm")
        self.link.style().unpolish(self.link)
        self.link.style().polish(self.link)
        self._show_waiting()

    def _entry_changed(self, entry: Pending) -> None:
        self.case_pane.entry_changed(entry)
        self.alerts.entry_changed(entry)
        self.duty.entry_changed(entry)
        self._show_waiting()

    def _show_waiting(self) -> None:
        waiting = self.outbox.waiting
        if not waiting:
            self.waiting.setText("")
        elif self.outbox.connected:
            self.waiting.setText(self.tr("%1 条提交中").replace("%1", str(waiting)))
        else:
            self.waiting.setText(self.tr("%1 条待发送").replace("%1", str(waiting)))

    def _new_for_me(self, ids: list[int]) -> None:
        if self.replica.kpis_partial or self.replay.active:
            return  # the day so far being replayed, or the past: nothing of it is news
        events = [e for i in ids if (e := self.replica.events.get(i)) is not None]
        if not events:
            return
        first = events[0]
        more = self.tr("等 %1 件").replace("%1", str(len(events))) if len(events) > 1 else ""
        message = self.tr("新待办：%1 %2").replace("%1", first.code).replace("%2", first.title)
        self.notice.setText(message + more)
        self.chime.ring()
        if self.tray is not None and self.tray.isVisible():
            self.tray.showMessage(self.tr("通观 · 新待办"), message + more)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop the timers; the application stops the session."""
        self._second.stop()
        super().closeEvent(event)
