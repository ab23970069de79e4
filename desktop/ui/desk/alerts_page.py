"""视频告警: camera alerts in my jurisdiction. Confirm one into a dispatched case in three
actions (select it, C, Enter: category and lead unit are prefilled), dismiss it as a false
alarm with a reason, or attach it to an open case at the same spot."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.core.actions import own_departments
from desktop.core.district_time import day_hm, happened_at
from desktop.core.outbox import Outbox, Pending
from desktop.core.replica import Changes, Replica
from desktop.core.todo import Me
from desktop.ui.desk.progress import refused_text, show_progress
from desktop.ui.desk.texts import op_text, tr
from protocol.entities import OPEN_STATUSES, Alert, Event
from protocol.workflow import attachable_at
from widgets.action_bar import ActionBar, ActionButton
from widgets.action_form import ActionForm, FieldSpec
from widgets.snapshot_view import SnapshotView

_ID = int(Qt.ItemDataRole.UserRole) + 1


class AlertsPage(QWidget):
    """New camera alerts, the one in hand large, and what to do with it."""

    snapshotWanted = Signal(int, str)  # alert id, snapshot path

    def __init__(
        self,
        replica: Replica,
        me: Callable[[], Me],
        outbox: Outbox,
        clock: Callable[[], float],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.replica = replica
        self._me = me
        self.outbox = outbox
        self._clock = clock
        self.alert_id: int | None = None
        self._op: str | None = None
        self._entry: Pending | None = None
        self._dispatch_to = ""  # the lead unit the confirm form chose, sent once confirmed
        self._chain: dict[str, str] = {}  # command_id of a step -> what follows it
        self.list = QListWidget(self)
        self.list.setObjectName("alertList")
        self.list.setIconSize(QSize(96, 54))
        self.notice = QLabel(self)  # what became of an alert's follow-up steps
        self.notice.setObjectName("casePaneNotice")
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.setWordWrap(True)
        self.notice.hide()
        self.summary = QLabel(self)
        self.summary.setObjectName("mutedLine")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        # As large as the page allows, drawn afresh for its size (the page may be built
        # hidden, and windows differ): see widgets.snapshot_view.
        self.image = SnapshotView(self)
        self.image.setObjectName("alertImage")
        self.details = QLabel(self)
        self.details.setObjectName("alertDetails")
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setWordWrap(True)
        self.action_bar = ActionBar(self)
        self.form = ActionForm(self)
        self.form.hide()
        self._pixmaps: dict[int, QPixmap] = {}  # alert id -> the list's thumbnail
        self._sources: dict[int, bytes] = {}  # alert id -> its snapshot as fetched (listed)
        self._image_of: tuple[int, bool, bool] | None = None  # what the image shows

        left = QWidget(self)
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.summary)
        column.addWidget(self.notice)
        column.addWidget(self.list, 1)
        right = QWidget(self)
        detail = QVBoxLayout(right)
        detail.setContentsMargins(8, 0, 0, 0)
        detail.addWidget(self.image, 1)
        detail.addWidget(self.details)
        detail.addWidget(self.action_bar)
        detail.addWidget(self.form)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(right)
        # The list as wide as its lines need, the snapshot the rest.
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([560, 1340])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.action_bar.set_empty_text(tr("选择一条告警"))
        self.show_alert(None)
        self.list.currentItemChanged.connect(self._current_changed)
        self.action_bar.triggered.connect(self.open_form)
        self.form.submitted.connect(self._submit)
        self.form.cancelled.connect(self.close_form)

    # ---- the list ---------------------------------------------------------------------------

    def apply(self, changes: Changes) -> None:
        """Bring the list up to date (new alerts in, settled ones out)."""
        if not (changes.reset or changes.alerts or changes.units):
            return
        alerts = sorted(
            (a for a in self.replica.alerts.values() if a.status == "new"),
            key=lambda a: -a.last_at,
        )
        keep = self.alert_id
        self.list.blockSignals(True)
        self.list.clear()
        for alert in alerts:
            item = QListWidgetItem(self._line(alert))
            item.setData(_ID, alert.id)
            pixmap = self._pixmaps.get(alert.id)
            if pixmap is not None:
                item.setIcon(pixmap)
            self.list.addItem(item)
            if alert.id == keep:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        listed = {a.id for a in alerts} | ({keep} if keep is not None else set())
        self._sources = {i: d for i, d in self._sources.items() if i in listed}
        self._show_summary(len(alerts))
        if keep is not None and self.list.currentItem() is None and self._entry is None:
            self.show_alert(None)
        elif keep is not None:
            self.show_alert(keep)
        if self.alert_id is None and self._entry is None and self.list.count():
            self.list.setCurrentRow(0)  # nothing in hand: the newest alert
        for alert in alerts[:30]:
            if alert.id not in self._pixmaps:
                self.snapshotWanted.emit(alert.id, alert.snapshot)

    def _line(self, alert: Alert) -> str:
        names = self.replica.names()
        kind = names.get(alert.detection, alert.detection)
        count = tr("（%1次）").replace("%1", str(alert.count)) if alert.count > 1 else ""
        ago = _ago(self._clock() - happened_at(alert.observed_at, alert.last_at))
        return f"{kind}{count} · {alert.camera_name}\n{names.get(alert.grid, alert.grid)} · {ago}"

    def _show_summary(self, waiting: int) -> None:
        names = self.replica.names()
        dismissed = Counter(
            names.get(a.detection, a.detection)
            for a in self.replica.alerts.values()
            if a.status == "dismissed"
        )
        parts = " · ".join(f"{k} {n}" for k, n in dismissed.most_common(4))
        self.summary.setText(
            tr("待处理告警 %1 条").replace("%1", str(waiting))
            + (tr("；误报：%1").replace("%1", parts) if parts else "")
        )

    def snapshot_fetched(self, alert_id: int, data: bytes) -> None:
        """An alert's snapshot as it came: kept while the alert is listed, to be drawn at
        the size the page has."""
        if alert_id in self.replica.alerts:
            self._sources[alert_id] = data
            if alert_id == self.alert_id:
                self._show_image(alert_id)

    def thumbnail_loaded(self, alert_id: int, pixmap: QPixmap) -> None:
        """An alert's snapshot arrived (the list's thumbnail)."""
        self._pixmaps[alert_id] = pixmap
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(_ID) == alert_id:
                item.setIcon(pixmap)
        if alert_id == self.alert_id:
            self._show_image(alert_id)

    def _show_image(self, alert_id: int) -> None:
        source = self._sources.get(alert_id)
        pixmap = self._pixmaps.get(alert_id)
        shown = (alert_id, source is not None, pixmap is not None)
        if shown == self._image_of and self.image.has_snapshot():
            return  # the same picture: not read and drawn again for every change
        self._image_of = shown
        if source is not None and self.image.set_source(source):
            return
        if pixmap is not None:  # fetched before it was listed: as it came
            self.image.set_pixmap(pixmap)
        else:
            self.image.set_text(tr("正在载入抓拍图…"))

    def _current_changed(self, current: QListWidgetItem | None, _: Any) -> None:
        self.show_alert(int(current.data(_ID)) if current is not None else None)

    def select_first(self) -> bool:
        """Take the newest alert in hand (the first of the three actions, from the keyboard)."""
        if self.list.count():
            self.list.setCurrentRow(0)
            self.list.setFocus()
            return True
        return False

    def show_alert(self, alert_id: int | None) -> None:
        """Show an alert large with what may be done with it."""
        if alert_id != self.alert_id and self._entry is None:
            self.close_form()
        self.alert_id = alert_id
        alert = self.replica.alerts.get(alert_id) if alert_id is not None else None
        if alert is None:
            self.details.setText(tr("选择一条告警"))
            self.image.set_text("")
            self._image_of = None
            self.action_bar.set_actions([])
            return
        names = self.replica.names()
        self.details.setText(
            "\n".join(
                [
                    f"{names.get(alert.detection, alert.detection)} · {alert.score:.0%}",
                    tr("摄像机：%1").replace("%1", alert.camera_name),
                    tr("网格：%1 · %2")
                    .replace("%1", names.get(alert.grid, alert.grid))
                    .replace("%2", names.get(alert.street, alert.street)),
                    tr("同一处 %1 次，最近 %2")
                    .replace("%1", str(alert.count))
                    .replace("%2", day_hm(alert.last_at)),
                    *(
                        [
                            # The camera's own time of it, beside the time it came in.
                            tr("发生于 %1（收到 %2）")
                            .replace("%1", day_hm(alert.observed_at))
                            .replace("%2", day_hm(alert.first_at))
                        ]
                        if alert.observed_at is not None
                        else []
                    ),
                ]
            )
        )
        self._show_image(alert.id)
        if alert.id not in self._pixmaps:
            self.snapshotWanted.emit(alert.id, alert.snapshot)
        busy = self._entry is not None
        actions = [
            ActionButton("confirm", tr("确认并派遣"), "C", "primary", not busy, ""),
            ActionButton("dismiss", tr("误报"), "X", "danger", not busy, ""),
        ]
        if self.nearby(alert):
            actions.append(ActionButton("attach", tr("并入已有案件"), "J", "normal", not busy, ""))
        self.action_bar.set_actions(actions)

    # ---- acting -----------------------------------------------------------------------------

    def nearby(self, alert: Alert) -> list[Event]:
        """Open cases at the same spot (the backend's rule: protocol.workflow.attachable_at)."""
        return [
            e
            for e in self.replica.events.values()
            if e.status in OPEN_STATUSES and attachable_at(alert, e)
        ][:20]

    def open_form(self, key: str) -> None:
        """Open the confirm, dismiss or attach form for the alert in hand."""
        self.notice.hide()
        alert = self.replica.alerts.get(self.alert_id) if self.alert_id is not None else None
        if alert is None or self._entry is not None:
            return
        self._op = key
        if key == "confirm":
            units = self._units(alert)
            categories = [("", tr("按检测类型默认"))]
            if self.replica.units is not None:
                categories += [
                    (c.code, f"{c.code} {c.name}") for c in self.replica.units.categories
                ]
            self.form.set_action(
                tr("确认告警并派遣"),
                [
                    FieldSpec(
                        "category",
                        tr("事件类别"),
                        "choice",
                        required=False,
                        choices=categories,
                        default="",
                    ),
                    FieldSpec(
                        "assignee",
                        tr("主办单位（空为只登记）"),
                        "choice",
                        required=False,
                        choices=[("", tr("只登记，不派遣")), *units],
                        default=units[0][0] if units else "",
                    ),
                ],
                tr("确认"),
                tr("确认后自动受理，并派遣给所选单位"),
            )
        elif key == "dismiss":
            self.form.set_action(
                tr("标记为误报"),
                [FieldSpec("reason", tr("原因"), "text", required=True, default=tr("误报"))],
                tr("误报"),
            )
        elif key == "attach":
            cases = [(str(e.id), f"{e.code} {e.title}") for e in self.nearby(alert)]
            self.form.set_action(
                tr("并入同一地点的已有案件"),
                [
                    FieldSpec(
                        "event",
                        tr("案件"),
                        "choice",
                        required=True,
                        choices=cases,
                        default=cases[0][0] if cases else "",
                    ),
                    FieldSpec("note", tr("说明"), "note", required=False),
                ],
                tr("并入"),
            )
        self.form.show()

    def _units(self, alert: Alert) -> list[tuple[str, str]]:
        units = self.replica.units
        if units is None:
            return []
        found: list[tuple[str, str]] = []
        grid = next((g for g in units.grids if g.code == alert.grid), None)
        if grid is not None and grid.worker:
            found.append((f"网格员 {grid.worker}", f"网格员 {grid.worker}"))
        found += [(d.code, d.name) for d in own_departments(units, alert.street)]
        return found

    def close_form(self) -> None:
        """Put the form away."""
        self._op, self._entry = None, None
        self.form.reset()
        self.form.hide()

    def _submit(self, values: dict[str, Any]) -> None:
        alert_id, op = self.alert_id, self._op
        if alert_id is None or op is None:
            return
        if op == "confirm":
            args: dict[str, Any] = {"alert": alert_id}
            if values.get("category"):
                args["category"] = values["category"]
            self._dispatch_to = str(values.get("assignee") or "")
            self._entry = self.outbox.submit("confirm_alert", args)
        elif op == "dismiss":
            self._entry = self.outbox.submit(
                "dismiss_alert", {"alert": alert_id, "reason": values["reason"]}
            )
        else:
            args = {"alert": alert_id, "event": int(values["event"])}
            if values.get("note"):
                args["note"] = values["note"]
            self._entry = self.outbox.submit("attach_alert", args)
        self.entry_changed(self._entry)

    def entry_changed(self, entry: Pending) -> None:
        """A command changed state (forwarded by the window)."""
        follow = self._chain.get(entry.command_id)
        if follow is not None and entry.state == "done":
            # The confirmed alert's case: accepted, then dispatched (each exactly once).
            del self._chain[entry.command_id]
            event = entry.args["event"]
            if follow == "dispatch" and self._dispatch_to:
                nxt = self.outbox.submit(
                    "dispatch", {"event": event, "assignee": self._dispatch_to}
                )
                self._chain[nxt.command_id] = "end"
            return
        if follow is not None and entry.state in ("refused", "abandoned"):
            # The case exists; its next step did not happen: say so, the case is in 我的待办.
            del self._chain[entry.command_id]
            step = op_text(entry.op)
            why = refused_text(entry, self._me().user) if entry.state == "refused" else ""
            self.notice.setText(
                tr("告警已转为案件，但%1未执行：%2。请在“我的待办”中处理。")
                .replace("%1", step)
                .replace("%2", why or tr("连接已关闭"))
            )
            self.notice.show()
            return
        if entry is not self._entry:
            return
        if show_progress(self.form, entry):
            return
        if entry.state == "done":
            self.form.set_done(tr("已完成"))
            if entry.op == "confirm_alert":
                event = int(entry.data.get("event", 0))
                if event:
                    accept = self.outbox.submit("accept", {"event": event})
                    self._chain[accept.command_id] = "dispatch"
            self._entry = None
            self.close_form()
            self.select_first()
        elif entry.state == "refused":
            self._entry = None
            self.form.set_refused(refused_text(entry, self._me().user))


def _ago(seconds: float) -> str:
    """How long ago, in words: 刚刚, 12分钟前, 3小时前, 2天前."""
    minutes = int(max(seconds, 0) // 60)
    if minutes < 1:
        return tr("刚刚")
    if minutes < 60:
        return tr("%1分钟前").replace("%1", str(minutes))
    if minutes < 48 * 60:
        return tr("%1小时前").replace("%1", str(minutes // 60))
    return tr("%1天前").replace("%1", str(minutes // 1440))
