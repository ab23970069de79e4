"""A case as the desk and the wall show it: the card (details, flags, deadlines, the camera
snapshot) and its audit timeline from the backend, kept up as the case changes.

The desk puts its actions under it (desktop/ui/desk/case_pane.py); the wall shows it alone
when a queue row, a marker or a supervision item is opened. Who looks decides what is
masked (the reporter is shown in full only to the roles that call back).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QVBoxLayout, QWidget

from desktop.core.district_time import day_hm
from desktop.core.privacy import REPORTER_ROLES, mask_phones, reporter_for
from desktop.core.replica import Replica
from desktop.core.todo import due_of
from desktop.ui.desk.texts import (
    PLACE_TEXT,
    due_text,
    note_text,
    op_text,
    person_text,
    status_text,
    tr,
)
from desktop.ui.models import LEVEL_TEXT, PRIORITY_TEXT, SOURCE_TEXT, risk_badge, text
from protocol.codec import ProtocolError, convert
from protocol.entities import Event, Role, is_overdue, on_hold
from protocol.messages import Error, FeedbackEntry, HistoryEntry, Result
from widgets.case_card import CaseCard, CaseView, TimelineEntry

log = logging.getLogger("desktop.ui.case_sheet")

History = Callable[[int], Awaitable[Result | Error]]


class CaseSheet(QWidget):
    """One case's card and timeline, redrawn from the replica."""

    photoWanted = Signal(int, str)  # alert id, snapshot path: the case's camera snapshot

    def __init__(
        self,
        replica: Replica,
        role: Callable[[], Role],
        history: History | None,
        clock: Callable[[], float],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.replica = replica
        self._role = role
        self._history = history
        self._clock = clock
        self.event_id: int | None = None
        self._history_task: asyncio.Task[None] | None = None
        self._history_for: tuple[int, float] | None = None  # (id, updated_at) fetched
        # The timeline last read: (case id, entries, note), drawn again when names change.
        self._timeline: tuple[int, list[HistoryEntry], list[FeedbackEntry], str] | None = None
        self.card = CaseCard(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.card)
        # The timeline is read again a moment after the case changes, not on every change.
        self._history_timer = QTimer(self)
        self._history_timer.setSingleShot(True)
        self._history_timer.setInterval(300)
        self._history_timer.timeout.connect(self._fetch_history)

    def set_history(self, history: History | None) -> None:
        """Where the timeline is read from (the session's `history`, once connected)."""
        self._history = history

    def show_case(self, event_id: int | None) -> None:
        """Show another case (None: none): its card now, its timeline and photo to come."""
        self.event_id = event_id
        self._history_for = None
        self.card.set_timeline(None)
        self.card.set_image(None)
        self.refresh()
        # After the card shows the case: a new case's card starts without a photo.
        event = self.replica.events.get(event_id) if event_id is not None else None
        photo = photo_of(event) if event is not None else None
        if photo is not None:
            self.photoWanted.emit(*photo)

    def refresh(self, *, timeline: bool = True) -> Event | None:
        """Redraw from the replica (the case changed, or the clock moved); the case, or None
        when it is gone. `timeline`: read the timeline again if the case changed since."""
        event = self.replica.events.get(self.event_id) if self.event_id is not None else None
        if event is None:
            self.card.show_case(None)
            if self.event_id is not None:
                # A wall keeps only open cases (its replica's view): gone means finished there.
                gone = (
                    tr("该案件已结束（办结或不予受理），大屏只显示办理中的案件")
                    if self.replica.view == "open"
                    else tr("该案件已不在您的列表中")
                )
                self.card.set_timeline([], gone)
            return None
        self.card.show_case(self._view(event, self._clock()))
        if timeline:
            self.want_timeline(event)
        return event

    def want_timeline(self, event: Event) -> None:
        """Read the case's timeline again shortly, if it changed since it was read."""
        if self._history is not None and (event.id, event.updated_at) != self._history_for:
            self._history_timer.start()

    def _view(self, event: Event, now: float) -> CaseView:
        # Free texts keep the phone numbers people gave only for those who call back.
        role = self._role()

        def shown(text: str) -> str:
            return text if role in REPORTER_ROLES else mask_phones(text)

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
        intake = event.intake
        if intake is not None and intake.triage:
            flags.append(tr("待分拨"))
        if late:
            flags.append(tr("超期"))
        # Amber before red: the chance of missing a deadline, and why (docs/kpis.md §8).
        risk = self.replica.shown_risk(event, now)
        if risk is not None:
            flags.append(risk_badge(risk))
        assignee = self.replica.person(
            names.get(event.assignee, "") or department_name(self.replica, event.assignee)
        )
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
                            shown(event.address),
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
        if intake is not None:
            # Where an intake case came from and how sure its place is (docs/intake.md).
            if intake.channel == "open311":
                # A citizens' app: its request id is the case's own code; say which app.
                fields.append((tr("接入渠道"), f"Open311 · {intake.peer}"))
            elif intake.channel == "sensor":
                fields.append((tr("接入渠道"), tr("传感器 %1").replace("%1", intake.ref)))
            else:
                fields.append((tr("工单编号"), f"{intake.channel} {intake.ref}"))
            place = f"{text(PLACE_TEXT, intake.place)} {intake.confidence:.2f}"
            if intake.matched and intake.place != "point":
                place += f"（{intake.matched}）"
            fields.append((tr("定位"), place))
            if intake.observed_at is not None:
                # The source's own time of it (a sensor's reading), beside 上报时间 (received).
                fields.append((tr("发生时间"), day_hm(intake.observed_at)))
            if intake.triage:
                fields.append((tr("原诉求类型"), intake.triage))
            if intake.deadline_at is not None:
                fields.append((tr("办理时限"), day_hm(intake.deadline_at)))
            if intake.media_url:
                fields.append((tr("附件链接"), intake.media_url))
            if intake.attributes:
                answers = "；".join(f"{k}={v}" for k, v in intake.attributes.items())
                fields.append((tr("补充信息"), shown(answers)))
        if event.reporter:
            # In full for those who call the reporter back, masked for anyone else.
            fields.append((tr("反映人"), reporter_for(role, event.reporter)))
        if assignee:
            fields.append((tr("主办单位"), assignee))
        if event.assisting:
            fields.append(
                (
                    tr("协办单位"),
                    "、".join(department_name(self.replica, a.unit) for a in event.assisting),
                )
            )
        if event.due_at is not None:
            fields.append((tr("结案时限"), day_hm(event.due_at)))
        if risk is not None:
            fields.append((tr("超期风险"), f"{risk_badge(risk)}：{risk.why}"))
        due = due_of(event)
        return CaseView(
            code=event.code,
            title=shown(event.title),
            status_text=status_text(event.status),
            tone="alarm"
            if late
            else (
                "good"
                if event.status in ("closed", "evaluated")
                else ("warn" if risk is not None else "normal")
            ),
            fields=fields,
            description=shown(event.description),
            countdown_text=due_text(due, now)
            if event.status not in ("closed", "evaluated", "rejected")
            else "",
            flags=flags,
        )

    def photo_loaded(self, alert_id: int, pixmap: QPixmap) -> None:
        """A snapshot arrived: shown if it is the case in hand's."""
        event = self.replica.events.get(self.event_id) if self.event_id is not None else None
        photo = photo_of(event) if event is not None else None
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
            feedback = [convert(f, FeedbackEntry) for f in answer.data.get("feedback", [])]
        except ProtocolError as exc:
            self.card.set_timeline([], tr("处理记录无法载入：%1").replace("%1", exc.message))
            return
        note = tr("仅显示最近的记录") if answer.data.get("truncated") else ""
        self._timeline = (event_id, entries, feedback, note)
        self._draw_timeline()

    def redraw_timeline(self) -> None:
        """Draw the timeline read last again (the users' display names changed)."""
        if self._timeline is not None and self._timeline[0] == self.event_id:
            self._draw_timeline()

    def _draw_timeline(self) -> None:
        assert self._timeline is not None
        _, entries, feedback, note = self._timeline
        # The platform's feedback (12345) beside the steps that owed it, in time order.
        steps = [(e.at, self._timeline_entry(e)) for e in entries]
        steps += [(f.at, feedback_entry(f)) for f in feedback]
        steps.sort(key=lambda step: step[0])
        self.card.set_timeline([entry for _, entry in steps], note)

    def _timeline_entry(self, entry: HistoryEntry) -> TimelineEntry:
        return TimelineEntry(
            time_text=day_hm(entry.at),
            actor=person_text(self.replica, entry.actor),
            action_text=op_text(entry.action),
            status_text=status_text(entry.status),
            text=bare_note(entry.text),
        )


def feedback_entry(feedback: FeedbackEntry) -> TimelineEntry:
    """A feedback to the intake platform as a step of the timeline: what it was told, and
    whether it has heard (送达), is still being tried, or refused it."""
    if feedback.state == "delivered":
        state = tr("已送达")
    elif feedback.state == "refused":
        state = tr("被拒收")
    else:
        state = tr("待送达（已试%1次）").replace("%1", str(feedback.attempts))
    return TimelineEntry(
        time_text=day_hm(feedback.at),
        actor=feedback.peer,
        action_text=tr("反馈%1").replace("%1", feedback.status),
        status_text=state,
        text=feedback.error,
    )


def photo_of(event: Event) -> tuple[int, str] | None:
    """The case's first camera snapshot as (alert id, path), if it has one."""
    for path in event.media:
        tail = path.rstrip("/").rsplit("/", 1)[-1]
        if path.startswith("/snapshots/") and tail.isdigit():
            return int(tail), path
    return None


def bare_note(text: str) -> str:
    """A note without the op name the backend files it under ("handled: 已处置" -> "已处置")."""
    return "；".join(note_text(part) for part in text.split("；"))


def department_name(replica: Replica, code: str) -> str:
    """A department's name by its code (the code when the units do not know it)."""
    units = replica.units
    if units is not None:
        for department in units.departments:
            if department.code == code:
                return department.name
    return code
