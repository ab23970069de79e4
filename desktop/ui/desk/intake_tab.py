"""管理 · 接入: how the intakes stand (12345, Open311, MQTT: on or off, connected, what they
took and refused, when they last heard something; the cameras and sensors heard of) and the
feedback owed to the 12345 platform, row by row with its delivery (pending, failing,
delivered, refused). An admin sends a failed feedback again from here (protocol
intake_status, retry_feedback; docs/protocol.md §6.12). The answer is read without Qt by
desktop/core/intakes.py; this tab only shows it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.district_time import day_hms
from desktop.core.intakes import (
    IntakeLine,
    IntakeState,
    RowState,
    Source,
    parse_status,
    retriable,
    row_state,
    state_counts,
)
from desktop.core.todo import Me
from desktop.i18n import QT_TRANSLATE_NOOP
from desktop.ui.desk.admin_common import admin_table, answer_of, start_read, status_line
from desktop.ui.desk.table_keys import KEY_ROLE
from desktop.ui.desk.texts import tr
from protocol.codec import ProtocolError
from protocol.codes import ErrorCode
from protocol.messages import Error, OutboxRow, Result
from widgets.action_bar import ActionBar, ActionButton

log = logging.getLogger("desktop.ui.desk")

# How often the tab asks again while it is shown (ms).
REFRESH_MS = 10_000
# Outbox rows asked for: the newest.
ROWS = 200

INTAKE_NAMES = {
    "hotline": QT_TRANSLATE_NOOP("Desk", "12345 工单"),
    "open311": QT_TRANSLATE_NOOP("Desk", "Open311 市民上报"),
    "mqtt": QT_TRANSLATE_NOOP("Desk", "MQTT 视频告警与传感器"),
}
STATE_NAMES: dict[RowState, str] = {
    "pending": QT_TRANSLATE_NOOP("Desk", "待发送"),
    "failing": QT_TRANSLATE_NOOP("Desk", "发送失败，重试中"),
    "delivered": QT_TRANSLATE_NOOP("Desk", "已送达"),
    "refused": QT_TRANSLATE_NOOP("Desk", "被拒收"),
}
INTAKE_COLUMNS = (
    QT_TRANSLATE_NOOP("Desk", "接入"),
    QT_TRANSLATE_NOOP("Desk", "状态"),
    QT_TRANSLATE_NOOP("Desk", "接收"),
    QT_TRANSLATE_NOOP("Desk", "拒收"),
    QT_TRANSLATE_NOOP("Desk", "最近消息"),
    QT_TRANSLATE_NOOP("Desk", "说明"),
)
SOURCE_COLUMNS = (
    QT_TRANSLATE_NOOP("Desk", "类型"),
    QT_TRANSLATE_NOOP("Desk", "名称"),
    QT_TRANSLATE_NOOP("Desk", "对应"),
    QT_TRANSLATE_NOOP("Desk", "次数"),
    QT_TRANSLATE_NOOP("Desk", "最近"),
    QT_TRANSLATE_NOOP("Desk", "读数"),
)
OUTBOX_COLUMNS = (
    QT_TRANSLATE_NOOP("Desk", "编号"),
    QT_TRANSLATE_NOOP("Desk", "对端"),
    QT_TRANSLATE_NOOP("Desk", "工单编号"),
    QT_TRANSLATE_NOOP("Desk", "反馈"),
    QT_TRANSLATE_NOOP("Desk", "状态"),
    QT_TRANSLATE_NOOP("Desk", "尝试"),
    QT_TRANSLATE_NOOP("Desk", "时间"),
    QT_TRANSLATE_NOOP("Desk", "最后错误"),
)
# The outbox filter's choices: (state or "" for all, label).
FILTERS: tuple[tuple[str, str], ...] = (
    ("", QT_TRANSLATE_NOOP("Desk", "全部")),
    ("pending", STATE_NAMES["pending"]),
    ("failing", STATE_NAMES["failing"]),
    ("refused", STATE_NAMES["refused"]),
    ("delivered", STATE_NAMES["delivered"]),
)


class IntakeRequests(Protocol):
    """Where the tab's requests go (desktop.core.link.SessionThread)."""

    async def intake_status(self, state: str | None = None, limit: int = 100) -> Result | Error:
        """The intakes' state and the outbox."""
        ...

    async def retry_feedback(self, ids: list[int]) -> Result | Error:
        """Send feedback again now."""
        ...


def _when(at: float | None) -> str:
    return day_hms(at) if at else tr("无")


class IntakeTab(QWidget):
    """The intakes, the cameras and sensors heard of, and the feedback outbox."""

    def __init__(
        self,
        me: Callable[[], Me],
        requests: Callable[[], IntakeRequests | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._me = me
        self._requests = requests
        self._task: asyncio.Future[None] | None = None
        self._acting: asyncio.Task[None] | None = None
        self.state: IntakeState | None = None

        title = QLabel(tr("接入状态"), self)
        title.setObjectName("sectionTitle")
        self.status = status_line(self)
        self.intakes = admin_table(self, "intakeLines", INTAKE_COLUMNS, 5)
        self.sources = admin_table(self, "intakeSources", SOURCE_COLUMNS, 1)
        outbox_title = QLabel(tr("12345 反馈发件箱"), self)
        outbox_title.setObjectName("sectionTitle")
        self.outbox_counts = QLabel(self)
        self.outbox_counts.setObjectName("mutedLine")
        self.outbox_counts.setTextFormat(Qt.TextFormat.PlainText)
        self.filter = QComboBox(self)
        self.filter.setObjectName("outboxFilter")
        for state, label in FILTERS:
            self.filter.addItem(tr(label), state)
        self.filter.currentIndexChanged.connect(lambda _i: self._show_rows())
        self.outbox = admin_table(self, "intakeOutbox", OUTBOX_COLUMNS, 7)
        self.outbox.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.outbox.itemSelectionChanged.connect(self._offer_actions)
        self.action_bar = ActionBar(self)
        self.action_bar.triggered.connect(self.act)
        self.notice = QLabel(self)  # what became of the last retry
        self.notice.setObjectName("mutedLine")
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)

        heading = QHBoxLayout()
        heading.addWidget(title)
        heading.addWidget(self.status, 1)
        outbox_heading = QHBoxLayout()
        outbox_heading.addWidget(outbox_title)
        outbox_heading.addWidget(self.outbox_counts, 1)
        outbox_heading.addWidget(self.filter)
        top = QWidget(self)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addLayout(heading)
        top_layout.addWidget(self.intakes, 1)
        top_layout.addWidget(self.sources, 1)
        bottom = QWidget(self)
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addLayout(outbox_heading)
        bottom_layout.addWidget(self.outbox, 1)
        bottom_layout.addWidget(self.notice)
        bottom_layout.addWidget(self.action_bar)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(top)
        splitter.addWidget(bottom)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self._offer_actions()

    # ---- reading ------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        """Read afresh whenever the tab comes up, and every REFRESH_MS while it is up."""
        super().showEvent(event)
        if not event.spontaneous():
            self.refresh()
        self._timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        """No reading while hidden."""
        self._timer.stop()
        super().hideEvent(event)

    def refresh(self) -> None:
        """Ask the backend how the intakes stand."""
        self._task = start_read(self._task, self._requests(), self.status, self._load)

    async def _load(self, requests: IntakeRequests) -> None:
        answer = await answer_of(
            "intake_status",
            requests.intake_status(None, ROWS),
            self.status,
            tr("接入状态暂时无法载入（连接中断）"),
            tr("接入状态无法载入：%1"),
            _refusal,
        )
        if answer is None:
            return
        try:
            state = parse_status(answer.data)
        except ProtocolError as exc:
            self.status.setText(tr("接入状态无法载入：%1").replace("%1", exc.message))
            return
        self.show_state(state)

    # ---- showing ------------------------------------------------------------------------------

    def show_state(self, state: IntakeState) -> None:
        """Fill the three tables (the outbox's selection stays on its rows)."""
        self.state = state
        self._show_intakes(state.lines)
        self._show_sources(state.sources)
        on = sum(line.enabled for line in state.lines)
        self.status.setText(
            tr("已开启 %1 个接入，共 %2 个")
            .replace("%1", str(on))
            .replace("%2", str(len(state.lines)))
        )
        parts = []
        for peer, counts in sorted(state.peers.items()):
            figures = "，".join(
                f"{tr(STATE_NAMES[s])} {counts[s]}"
                for s in ("pending", "refused", "delivered")
                if counts.get(s)
            )
            none = tr("无")
            parts.append(f"{peer}：{figures or none}")
        failing = state_counts(state.rows).get("failing", 0)
        if failing:
            parts.append(tr("其中 %1 条发送失败，重试中").replace("%1", str(failing)))
        self.outbox_counts.setText("；".join(parts) or tr("发件箱为空"))
        self._show_rows()

    def _show_intakes(self, lines: list[IntakeLine]) -> None:
        self.intakes.setRowCount(len(lines))
        for row, line in enumerate(lines):
            name = tr(INTAKE_NAMES[line.name]) if line.name in INTAKE_NAMES else line.name
            if not line.enabled:
                cells = (name, tr("未开启"), "", "", "", "")
            else:
                if line.connected is None:
                    status = tr("已开启")
                elif line.connected:
                    status = tr("已连接")
                else:
                    status = tr("未连接")
                reasons = "，".join(f"{r} {n}" for r, n in sorted(line.reasons.items()))
                note = "；".join(x for x in (line.where, reasons) if x)
                cells = (
                    name,
                    status,
                    str(line.taken),
                    str(line.refused),
                    _when(line.last_at),
                    note,
                )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if not line.enabled or (column == 1 and line.connected is False):
                    item.setForeground(
                        Qt.GlobalColor.gray if not line.enabled else Qt.GlobalColor.red
                    )
                self.intakes.setItem(row, column, item)

    def _show_sources(self, sources: list[Source]) -> None:
        self.sources.setRowCount(len(sources))
        for row, source in enumerate(sources):
            if source.kind == "camera":
                cells = (
                    tr("摄像头"),
                    source.name,
                    source.maps_to or tr("未对应"),
                    str(source.count),
                    _when(source.last_at),
                    "",
                )
            else:
                value = "" if source.value is None else f"{source.value:g}"
                if source.alarm:
                    alarm = tr("告警中")
                    value = f"{value} {alarm}".strip()
                cells = (
                    tr("传感器"),
                    f"{source.name} {source.label}".strip(),
                    source.maps_to,
                    str(source.count),
                    _when(source.last_at),
                    value,
                )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if (source.kind == "camera" and not source.maps_to) or (
                    source.alarm and column == 5
                ):
                    item.setForeground(Qt.GlobalColor.red)
                self.sources.setItem(row, column, item)

    def shown_rows(self) -> list[OutboxRow]:
        """The outbox rows the filter lets through."""
        if self.state is None:
            return []
        wanted = self.filter.currentData() or ""
        return [r for r in self.state.rows if not wanted or row_state(r) == wanted]

    def _show_rows(self) -> None:
        chosen = set(self.selected_ids())
        rows = self.shown_rows()
        self.outbox.setRowCount(len(rows))
        self.outbox.clearSelection()
        for index, entry in enumerate(rows):
            state = row_state(entry)
            if state == "delivered":
                when = entry.delivered_at
            elif state in ("pending", "failing"):
                when = entry.next_at
            else:
                when = entry.created_at
            cells = (
                str(entry.id),
                entry.peer,
                entry.ref,
                entry.status,
                tr(STATE_NAMES[state]),
                str(entry.attempts),
                _when(when),
                entry.error,
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(KEY_ROLE, entry.id)
                if state in ("failing", "refused") and column == 4:
                    item.setForeground(Qt.GlobalColor.red)
                if column == 7:
                    item.setToolTip(entry.error)
                self.outbox.setItem(index, column, item)
            if entry.id in chosen:
                self.outbox.selectRow(index)
        self._offer_actions()

    def selected_ids(self) -> list[int]:
        """The outbox rows selected, by id."""
        ids = set()
        for item in self.outbox.selectedItems():
            value = item.data(KEY_ROLE)
            if isinstance(value, int):
                ids.add(value)
        return sorted(ids)

    def _offer_actions(self) -> None:
        admin = self._me().role == "admin"
        rows = {r.id: r for r in self.shown_rows()}
        again = [i for i in self.selected_ids() if i in rows and retriable(rows[i])]
        buttons = [ActionButton("refresh", tr("刷新"), "Ctrl+R")]
        if admin:
            why = tr("先选择未送达的反馈")
            buttons.insert(
                0, ActionButton("retry", tr("立即重发"), "R", "primary", bool(again), why)
            )
        self.action_bar.set_actions(buttons)

    # ---- acting -------------------------------------------------------------------------------

    def act(self, key: str) -> None:
        """A fresh reading, or the selected feedback sent again."""
        if key == "refresh":
            self.refresh()
            return
        if key != "retry" or self._me().role != "admin":
            return  # only an admin sends again (the backend says so too)
        if self._acting is not None and not self._acting.done():
            return
        requests = self._requests()
        rows = {r.id: r for r in self.shown_rows()}
        ids = [i for i in self.selected_ids() if i in rows and retriable(rows[i])]
        if requests is None or not ids:
            return
        self._acting = asyncio.ensure_future(self._retry(requests, ids))

    async def _retry(self, requests: IntakeRequests, ids: list[int]) -> None:
        try:
            answer = await requests.retry_feedback(ids)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.info("retry_feedback: %s", exc)
            self.notice.setText(tr("重发未能送出（连接中断），请稍后再试"))
            return
        if isinstance(answer, Error):
            self.notice.setText(tr("重发被拒绝：%1").replace("%1", _refusal(answer)))
        else:
            retried = answer.data.get("retried") or []
            self.notice.setText(tr("已安排重发 %1 条反馈").replace("%1", str(len(retried))))
        self.refresh()


def _refusal(error: Error) -> str:
    if error.code == ErrorCode.FORBIDDEN:
        return tr("当前角色无此权限")
    if error.code == ErrorCode.NOT_FOUND:
        return tr("所选反馈已送达或不存在")
    if error.code == ErrorCode.RATE_LIMITED:
        return tr("服务暂时繁忙，请稍后重试")
    return error.message
