"""The case in hand: its card (details, photo, audit timeline), the actions my role may take
in its state, and the form of the one chosen, pending until the backend answers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from desktop.core.actions import available, main_action
from desktop.core.outbox import Outbox, Pending
from desktop.core.refusals import LastChange, explain
from desktop.core.replica import Replica
from desktop.core.todo import Me
from desktop.ui.case_sheet import CaseSheet, History
from desktop.ui.desk.forms import args_for, form_for
from desktop.ui.desk.progress import show_progress
from desktop.ui.desk.texts import (
    DANGER,
    SHORTCUTS,
    SYSTEM,
    op_text,
    refusal_text,
    tr,
)
from protocol.entities import Event
from widgets.action_bar import ActionBar, ActionButton
from widgets.action_form import ActionForm

log = logging.getLogger("desktop.ui.desk")

# How long a refusal waits for the change that caused it before it is told without a name.
REFUSAL_PATIENCE_MS = 2000


class CasePane(QWidget):
    """One case: card, actions and the open action's form."""

    photoWanted = Signal(int, str)  # alert id, snapshot path: the case's camera snapshot
    formOpened = Signal(int)  # an action's form opened on this case (the user acts on it)

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
        self._clock = clock
        self.event_id: int | None = None
        self.op: str | None = None  # the open form's op
        self._seen: Event | None = None  # the case as the open form was filled in on
        self._entry: Pending | None = None  # the open form's command, once made
        self._refused: Pending | None = None  # refused; explained once the case's change is in
        self.sheet = CaseSheet(replica, lambda: me().role, history, clock, self)
        self.sheet.photoWanted.connect(self.photoWanted)
        self.card = self.sheet.card
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
        layout.addWidget(self.sheet, 1)
        layout.addWidget(self.notice)
        layout.addWidget(self.action_bar)
        layout.addWidget(self.form)
        self.action_bar.triggered.connect(self.open_form)
        self.form.submitted.connect(self._submit)
        self.form.cancelled.connect(self.close_form)
        self.show_case(None)

    # ---- which case -------------------------------------------------------------------------

    def show_case(self, event_id: int | None) -> None:
        """Show a case (None: none); an open form of another case closes."""
        if event_id != self.event_id:
            self.close_form()
            self.set_notice("")
            self.event_id = event_id
            self.sheet.show_case(event_id)
            self._refresh_actions(self.replica.events.get(event_id) if event_id else None)
            return
        self.refresh()

    def refresh(self) -> None:
        """Redraw from the replica (the case changed, or the clock moved)."""
        # The timeline is asked for last: a refusal being explained comes first.
        event = self.sheet.refresh(timeline=False)
        if self._refresh_actions(event) and event is not None:
            self.sheet.want_timeline(event)

    def _refresh_actions(self, event: Event | None) -> bool:
        """The actions offered on the case; False when a refusal was explained instead."""
        if event is None:
            self.action_bar.set_actions([])
            return True
        now = self._clock()
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
            return False
        return True

    def set_notice(self, text: str) -> None:
        """The line about the last action whose form is gone ("" hides it)."""
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def photo_loaded(self, alert_id: int, pixmap: QPixmap) -> None:
        """A snapshot arrived: shown if it is the case in hand's."""
        self.sheet.photo_loaded(alert_id, pixmap)

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
        self.formOpened.emit(event.id)

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
            people={**self.replica.people, SYSTEM: tr("系统")},
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
