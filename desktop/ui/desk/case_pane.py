"""The case in hand: its card (details, photo, audit timeline), the actions my role may take
in its state, and the form of the one chosen, pending until the backend answers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from desktop.core.actions import available, main_action
from desktop.core.district_time import day_hm
from desktop.core.outbox import Outbox, Pending
from desktop.core.privacy import reporter_for
from desktop.core.refusals import LastChange, explain
from desktop.core.replica import Replica
from desktop.core.todo import Me, due_of
from desktop.ui.desk.forms import args_for, form_for
from desktop.ui.desk.progress import show_progress
from desktop.ui.desk.texts import (
    DANGER,
    SHORTCUTS,
    due_text,
    note_text,
    op_text,
    refusal_text,
    status_text,
    tr,
)
from desktop.ui.models import LEVEL_TEXT, PRIORITY_TEXT, SOURCE_TEXT, text
from protocol.codec import ProtocolError, convert
from protocol.entities import Event, is_overdue, on_hold
from protocol.messages import Error, HistoryEntry, Result
from widgets.action_bar import ActionBar, ActionButton
from widgets.action_form import ActionForm
from widgets.case_card import CaseCard, CaseView, TimelineEntry

log = logging.getLogger("desktop.ui.desk")

History = Callable[[int], Awaitable[Result | Error]]
# How long a refusal waits for the change that caused it before it is told without a name.
REFUSAL_PATIENCE_MS = 2000


class CasePane(QWidget):
    """One case: card, actions and the open action's form."""

    photoWanted = Signal(int, str)  # alert id, snapshot path: the case's camera snapshot

    def __init__(
        self,
        replica: Replica,
        me: Callable[[], Me],
        outbox: Outbox,
        history: History | None,
        clock: Callable[[], float],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("casePane")
        self.replica = replica
        self._me = me
        self.outbox = outbox
        self._history = history
        self._clock = clock
        self.event_id: int | None = None
        self.op: str | None = None  # the open form's op
        self._seen: Event | None = None  # the case as the open form was filled in on
        self._entry: Pending | None = None  # the open form's command, once made
        self._refused: Pending | None = None  # refused; explained once the case's change is in
        self._history_task: asyncio.Task[None] | None = None
        self._history_for: tuple[int, float] | None = None  # (id, updated_at) fetched
        self.card = CaseCard(self)
        self.action_bar = ActionBar(self)
        self.form = ActionForm(self)
        self.form.hide()
        # What became of the last action when its form is gone (refused, overtaken).
        self.notice = QLabel(self)
        self.notice.setObjectName("casePaneNotice")
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.setWordWrap(True)
        self.notice.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.card, 1)
        layout.addWidget(self.notice)
        layout.addWidget(self.action_bar)
        layout.addWidget(self.form)
        self.action_bar.triggered.connect(self.open_form)
        self.form.submitted.connect(self._submit)
        self.form.cancelled.connect(self.close_form)
        # The timeline is read again a moment after the case changes, not on every change.
        self._history_timer = QTimer(self)
        self._history_timer.setSingleShot(True)
        self._history_timer.setInterval(300)
        self._history_timer.timeout.connect(self._fetch_history)
        self.show_case(None)

    # ---- which case -------------------------------------------------------------------------

    def show_case(self, event_id: int | None) -> None:
        """Show a case (None: none); an open form of another case closes."""
        if event_id != self.event_id:
            self.close_form()
            self.set_notice("")
            self.event_id = event_id
            self._history_for = None
            self.card.set_timeline(None)
            self.card.set_image(None)
            self.refresh()
            # After the card shows the case: a new case's card starts without a photo.
            event = self.replica.events.get(event_id) if event_id is not None else None
            photo = _photo_of(event) if event is not None else None
            if photo is not None:
                self.photoWanted.emit(*photo)
            return
        self.refresh()

    def refresh(self) -> None:
        """Redraw from the replica (the case changed, or the clock moved)."""
        event = self.replica.events.get(self.event_id) if self.event_id is not None else None
        if event is None:
            self.card.show_case(None)
            self.action_bar.set_actions([])
            if self.event_id is not None:
                self.card.set_timeline([], tr("该案件已不在您的列表中"))
            return
        now = self._clock()
        self.card.show_case(self._view(event, now))
        ops = available(event, self._me(), now)
        main = main_action(event, ops)
        waiting = self.outbox.open_for(event=event.id)
        self.action_bar.set_actions(
            [
                ActionButton(
                    op,
                    op_text(op),
                    SHORTCUTS.get(op, ""),
                    "primary" if op == main else ("danger" if op in DANGER else "normal"),
                    not waiting,
                    tr("等待上一操作的答复") if waiting else "",
                )
                for op in ops
            ]
        )
        if self.op is not None and self._entry is None and self.op not in ops:
            # Someone else moved the case on while the form was open: say so, offer the rest.
            self.close_form()
            self.set_notice(tr("案件已被他人更新，请重新选择操作"))
        refused = self._refused
        seen = self._seen
        if refused is not None and seen is not None and event.updated_at > seen.updated_at:
            self._explain(refused)
            return
        stamp = (event.id, event.updated_at)
        if self._history is not None and stamp != self._history_for:
            self._history_timer.start()

    def _view(self, event: Event, now: float) -> CaseView:
        names = self.replica.names()
        late = is_overdue(event, now)
        flags = []
        if event.supervised:
            flags.append(tr("督办"))
        if event.consulting:
            flags.append(tr("会商"))
        if on_hold(event):
            flags.append(tr("挂账"))
        if event.extension is not None and event.extension.state == "pending":
            flags.append(tr("延期待批"))
        if event.hold is not None and event.hold.state == "pending":
            flags.append(tr("挂账待批"))
        if event.rework_count:
            flags.append(tr("返工%1次").replace("%1", str(event.rework_count)))
        if event.reopened:
            flags.append(tr("重办%1次").replace("%1", str(event.reopened)))
        if late:
            flags.append(tr("超期"))
        assignee = names.get(event.assignee, "") or _department(self.replica, event.assignee)
        fields = [
            (tr("类别"), names.get(event.category, event.category)),
            (tr("紧急程度"), text(PRIORITY_TEXT, event.priority)),
            (tr("来源"), text(SOURCE_TEXT, event.source)),
            (
                tr("地点"),
                # An address that is only the grid's name is said once.
                " · ".join(
                    dict.fromkeys(
                        p
                        for p in (
                            event.address,
                            names.get(event.grid, ""),
                            names.get(event.community, ""),
                            names.get(event.street, ""),
                        )
                        if p
                    )
                ),
            ),
            (tr("层级"), text(LEVEL_TEXT, event.level)),
            (tr("上报时间"), day_hm(event.reported_at)),
        ]
        if event.reporter:
            # In full for those who call the reporter back, masked for anyone else.
            fields.append((tr("反映人"), reporter_for(self._me().role, event.reporter)))
        if assignee:
            fields.append((tr("主办单位"), assignee))
        if event.assisting:
            fields.append(
                (
                    tr("协办单位"),
                    "、".join(_department(self.replica, a.unit) for a in event.assisting),
                )
            )
        if event.due_at is not None:
            fields.append((tr("结案时限"), day_hm(event.due_at)))
        due = due_of(event)
        return CaseView(
            code=event.code,
            title=event.title,
            status_text=status_text(event.status),
            tone="alarm"
            if late
            else ("good" if event.status in ("closed", "evaluated") else "normal"),
            fields=fields,
            description=event.description,
            countdown_text=due_text(due, now)
            if event.status not in ("closed", "evaluated", "rejected")
            else "",
            flags=flags,
        )

    def set_notice(self, text: str) -> None:
        """The line about the last action whose form is gone ("" hides it)."""
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def photo_loaded(self, alert_id: int, pixmap: QPixmap) -> None:
        """A snapshot arrived: shown if it is the case in hand's."""
        event = self.replica.events.get(self.event_id) if self.event_id is not None else None
        photo = _photo_of(event) if event is not None else None
        if photo is not None and photo[0] == alert_id:
            self.card.set_image(pixmap)

    # ---- the audit timeline -----------------------------------------------------------------

    def _fetch_history(self) -> None:
        event = self.replica.events.get(self.event_id) if self.event_id is not None else None
        if event is None or self._history is None or not self.isVisible():
            return  # a closed window asks for nothing
        self._history_for = (event.id, event.updated_at)
        if self._history_task is not None and not self._history_task.done():
            self._history_task.cancel()
        self._history_task = asyncio.ensure_future(self._load_history(event.id))

    async def _load_history(self, event_id: int) -> None:
        assert self._history is not None
        try:
            answer = await self._history(event_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.info("history of %d: %s", event_id, exc)
            if event_id == self.event_id:
                self._history_for = None
                self.card.set_timeline(
                    self.card.timeline_entries() or [], tr("处理记录暂时无法载入（连接中断）")
                )
            return
        if event_id != self.event_id:
            return
        if isinstance(answer, Error):
            self.card.set_timeline([], tr("处理记录无法载入：%1").replace("%1", answer.message))
            return
        try:
            entries = [convert(e, HistoryEntry) for e in answer.data.get("entries", [])]
        except ProtocolError as exc:
            self.card.set_timeline([], tr("处理记录无法载入：%1").replace("%1", exc.message))
            return
        note = tr("仅显示最近的记录") if answer.data.get("truncated") else ""
        self.card.set_timeline([self._timeline_entry(e) for e in entries], note)

    def _timeline_entry(self, entry: HistoryEntry) -> TimelineEntry:
        return TimelineEntry(
            time_text=day_hm(entry.at),
            actor=entry.actor,
            action_text=op_text(entry.action),
            status_text=status_text(entry.status),
            text=_bare(entry.text),
        )

    # ---- acting -----------------------------------------------------------------------------

    def open_form(self, op: str) -> None:
        """Open the form of `op` on the case in hand (a button or its shortcut)."""
        event = self.replica.events.get(self.event_id) if self.event_id is not None else None
        if event is None or op not in available(event, self._me(), self._clock()):
            return
        spec = form_for(op, event, self.replica, self._clock())
        self.set_notice("")
        self.op, self._seen, self._entry = op, event, None
        self.form.set_action(spec.title, spec.fields, spec.submit, spec.hint)
        self.form.show()

    def open_main(self) -> None:
        """Open the form of the case's next step (Enter on the list)."""
        event = self.replica.events.get(self.event_id) if self.event_id is not None else None
        if event is None:
            return
        op = main_action(event, available(event, self._me(), self._clock()))
        if op is not None:
            self.open_form(op)

    def close_form(self) -> None:
        """Put the form away (Esc, done, or another case)."""
        self.op, self._seen, self._entry, self._refused = None, None, None, None
        self.form.reset()
        self.form.hide()

    def _submit(self, values: dict[str, Any]) -> None:
        event, op = self._seen, self.op
        if event is None or op is None:
            return
        self._entry = self.outbox.submit(op, args_for(op, event, values))
        self.entry_changed(self._entry)

    def entry_changed(self, entry: Pending) -> None:
        """A command changed state (the outbox's callback, forwarded by the window)."""
        if entry is not self._entry:
            if entry.event == self.event_id:
                self.refresh()  # its buttons wait, or are free again
            return
        if show_progress(self.form, entry):
            pass
        elif entry.state == "done":
            self.form.set_done(tr("%1 已完成").replace("%1", op_text(entry.op)))
            QTimer.singleShot(1200, self, lambda e=entry: self._finished(e))
        elif entry.state == "refused":
            now = self.replica.events.get(entry.event) if entry.event is not None else None
            seen = self._seen
            behind = (
                entry.code == "illegal_transition"
                and now is not None
                and seen is not None
                and now.updated_at <= seen.updated_at
            )
            if behind and self._refused is None:
                # The case moved on and its delta is still on the way: say who moved it once
                # it is here (or after a moment, without the name).
                self._refused = entry
                self.form.set_pending(tr("正在核对案件的最新状态…"))
                QTimer.singleShot(REFUSAL_PATIENCE_MS, self, lambda e=entry: self._explain(e))
                return
            self._explain(entry)
            return
        self.refresh()

    def _explain(self, entry: Pending) -> None:
        """Show why `entry` was refused, in plain words (see desktop.core.refusals)."""
        if entry is not self._entry:
            return
        self._refused = None
        now = self.replica.events.get(entry.event) if entry.event is not None else None
        last = self.replica.last_change.get(entry.event) if entry.event is not None else None
        refusal = explain(
            entry.code,
            entry.message,
            seen=self._seen,
            now=now,
            last=LastChange(*last) if last is not None else None,
            me=self._me().user,
        )
        self._entry = None
        still = now is not None and entry.op in available(now, self._me(), self._clock())
        if still:
            self.form.set_refused(refusal_text(refusal))
        else:  # nothing left to retry: the form goes, the reason stays
            self.close_form()
            self.set_notice(refusal_text(refusal))
        self.refresh()

    def _finished(self, entry: Pending) -> None:
        if entry is self._entry:
            self.close_form()
            self.refresh()


def _photo_of(event: Event) -> tuple[int, str] | None:
    """The case's first camera snapshot as (alert id, path), if it has one."""
    for path in event.media:
        tail = path.rstrip("/").rsplit("/", 1)[-1]
        if path.startswith("/snapshots/") and tail.isdigit():
            return int(tail), path
    return None


def _bare(text: str) -> str:
    """A note without the op name the backend files it under ("handled: 已处置" -> "已处置")."""
    return "；".join(note_text(part) for part in text.split("；"))


def _department(replica: Replica, code: str) -> str:
    units = replica.units
    if units is not None:
        for department in units.departments:
            if department.code == code:
                return department.name
    return code
