"""县干指挥长: today's duty, hard cases, consultations and their decisions, the supervision
list, approvals waiting, instructions to the streets, and the handover with a note."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.district_time import hm
from desktop.core.outbox import Outbox, Pending
from desktop.core.replica import Changes, Replica, short_name
from desktop.core.todo import Me
from desktop.ui.desk.district_picker import show_districts
from desktop.ui.desk.files import FileFetcher, FileRequests, ShiftReports
from desktop.ui.desk.progress import refused_text, show_progress
from desktop.ui.desk.texts import due_text, note_text, person_text, status_text, tr
from protocol.entities import OPEN_STATUSES, Duty, Event, is_overdue
from widgets.action_bar import ActionBar, ActionButton
from widgets.action_form import ActionForm, FieldSpec

_ID = int(Qt.ItemDataRole.UserRole) + 1
LIST_LIMIT = 200


# A district's code (340802): a jurisdiction of such codes covers whole districts.
DISTRICT_CODE_LENGTH = 6


class DutyPage(QWidget):
    """The duty commander's page."""

    caseChosen = Signal(int)  # double-click / Enter on a case: show it in 我的待办

    def __init__(
        self,
        replica: Replica,
        me: Callable[[], Me],
        outbox: Outbox,
        clock: Callable[[], float],
        parent: QWidget | None = None,
        requests: Callable[[], FileRequests | None] = lambda: None,
        fetcher: Callable[[], FileFetcher | None] = lambda: None,
    ) -> None:
        super().__init__(parent)
        self.replica = replica
        self._me = me
        self.outbox = outbox
        self._clock = clock
        self._op: str | None = None
        self._entry: Pending | None = None
        # A city's user picks the district whose duty the page shows and acts on.
        self.district_picker = QComboBox(self)
        self.district_picker.setObjectName("dutyDistrict")
        self.district_picker.hide()
        self.district_picker.currentIndexChanged.connect(self._district_changed)
        self.duty = QLabel(self)
        self.duty.setObjectName("dutyLine")
        self.duty.setTextFormat(Qt.TextFormat.PlainText)
        self.duty.setWordWrap(True)
        # Each street's expected cases turning overdue in the next 24 hours (docs/kpis.md §8).
        self.forecast = QLabel(self)
        self.forecast.setObjectName("forecastLine")
        self.forecast.setTextFormat(Qt.TextFormat.PlainText)
        self.forecast.setWordWrap(True)
        self.forecast.hide()
        self.lists: dict[str, QListWidget] = {}
        self.titles: dict[str, QLabel] = {}
        grid = QGridLayout()
        names = {
            "district": tr("区级疑难案件"),
            "consult": tr("会商中"),
            "supervised": tr("督办中"),
            "approvals": tr("待审批延期与挂账"),
            "instructions": tr("今日批示"),
        }
        self._names = names
        for index, (key, name) in enumerate(names.items()):
            title = QLabel(name, self)
            title.setObjectName("sectionTitle")
            listing = QListWidget(self)
            listing.setObjectName(f"duty_{key}")
            listing.setWordWrap(True)
            # Long lines wrap to the column's width (re-laid out on a resize), never scroll
            # sideways.
            listing.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            listing.setResizeMode(QListView.ResizeMode.Adjust)
            listing.itemActivated.connect(self._activated)
            self.lists[key], self.titles[key] = listing, title
            row, col = divmod(index, 3)
            box = QVBoxLayout()
            box.addWidget(title)
            box.addWidget(listing, 1)
            grid.addLayout(box, row, col)
        # 交接班报告: the sixth cell of the grid (the district centre's users only).
        self.reports = ShiftReports(requests, fetcher, clock, self, district=self.district)
        grid.addWidget(self.reports, 1, 2)
        self.action_bar = ActionBar(self)
        self.form = ActionForm(self)
        self.form.hide()
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(self.duty, 1)
        top.addWidget(self.district_picker, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)
        layout.addWidget(self.forecast)
        layout.addLayout(grid, 1)
        layout.addWidget(self.action_bar)
        layout.addWidget(self.form)
        self.action_bar.triggered.connect(self.open_form)
        self.form.submitted.connect(self._submit)
        self.form.cancelled.connect(self.close_form)
        self._dirty = True

    def apply(self, changes: Changes) -> None:
        """Redraw when the duty or any case changed (lazily: only while shown)."""
        if (
            changes.reset
            or changes.duty
            or changes.events
            or changes.units
            or changes.people
            or changes.forecast
        ):
            self._dirty = True
        if self.isVisible() and self._dirty:
            self.redraw()

    def showEvent(self, event: Any) -> None:
        """Catch up when shown."""
        super().showEvent(event)
        if self._dirty:
            self.redraw()

    def district(self) -> str:
        """The district picked ("" for a user of one district: its own)."""
        if self.district_picker.isHidden():
            return ""
        code = self.district_picker.currentData()
        return code if isinstance(code, str) else ""

    def _district_changed(self, _index: int) -> None:
        self._dirty = True
        if self.isVisible():
            self.redraw()
            if self.reports.isVisible():
                self.reports.refresh_soon()

    def _fill_picker(self) -> None:
        """List the districts a city's user sees (shown only when they are several)."""
        units = self.replica.units
        show_districts(self.district_picker, units.districts if units is not None else {})

    def _duty(self) -> Duty | None:
        """The duty the page shows: the picked district's, else the user's own."""
        code = self.district()
        return self.replica.duties.get(code) if code else self.replica.duty

    def redraw(self) -> None:
        """Fill every list from the replica."""
        self._dirty = False
        now = self._clock()
        self._fill_picker()
        duty = self._duty()
        code = self.district()
        if duty is None:
            self.duty.setText(tr("今日值班尚未交接"))
        else:
            roster = "、".join(f"{p.title} {p.name}" for p in duty.roster[:8])
            self.duty.setText(
                tr("%1 值班指挥长：%2 %3（%4 交班）")
                .replace("%1", duty.day)
                .replace("%2", duty.commander.title)
                .replace("%3", duty.commander.name)
                .replace("%4", hm(duty.handover_at))
                + (("\n" + tr("值班人员：%1").replace("%1", roster)) if roster else "")
            )
        forecast = forecast_text(self.replica, code)
        self.forecast.setText(forecast)
        self.forecast.setVisible(bool(forecast))
        open_cases = [
            e
            for e in self.replica.events.values()
            if e.status in OPEN_STATUSES and e.street.startswith(code)
        ]
        self._fill("district", [e for e in open_cases if e.level == "district"], now)
        self._fill("consult", [e for e in open_cases if e.consulting], now, decisions=True)
        self._fill("supervised", [e for e in open_cases if e.supervised], now)
        self._fill(
            "approvals",
            [
                e
                for e in open_cases
                if (e.extension is not None and e.extension.state == "pending")
                or (e.hold is not None and e.hold.state == "pending")
            ],
            now,
        )
        instructions = self.lists["instructions"]
        instructions.clear()
        for decision in reversed(duty.instructions if duty is not None else []):
            by = person_text(self.replica, decision.by)
            instructions.addItem(f"{hm(decision.at)} {by}：{note_text(decision.text)}")
        self.titles["instructions"].setText(
            f"{self._names['instructions']}（{instructions.count()}）"
        )
        me = self._me()
        role = me.role
        # The duty and its reports are a whole district's: its users' and the city's, not
        # those of a user of some streets (the backend refuses them: pick_district).
        whole = all(len(c) == DISTRICT_CODE_LENGTH for c in me.jurisdiction)
        commander = role in ("commander", "admin") and whole
        self.reports.setVisible(role in ("commander", "dispatcher", "admin") and whole)
        self.action_bar.set_actions(
            [
                ActionButton("instruct", tr("发布批示"), "I", "primary", commander, ""),
                ActionButton("shift_note", tr("交班记录"), "N", "normal", commander, ""),
                ActionButton("handover", tr("交接班"), "Shift+H", "normal", commander, ""),
            ]
            if commander
            else []
        )

    def _fill(self, key: str, events: list[Event], now: float, decisions: bool = False) -> None:
        names = self.replica.names()
        listing = self.lists[key]
        listing.clear()
        events.sort(key=lambda e: (e.due_at or float("inf"), e.id))
        for event in events[:LIST_LIMIT]:
            late = tr("（超期）") if is_overdue(event, now) else ""
            line = (
                f"{event.code} {event.title} · {names.get(event.street, '')} · "
                f"{status_text(event.status)}{late} {due_text(event.due_at, now)}"
            )
            if decisions and event.decisions:
                last = event.decisions[-1]
                line += "\n  " + tr("意见：%1（%2）").replace("%1", note_text(last.text)).replace(
                    "%2", person_text(self.replica, last.by)
                )
            item = QListWidgetItem(line)
            item.setData(_ID, event.id)
            listing.addItem(item)
        self.titles[key].setText(f"{self._names[key]}（{len(events)}）")

    def _activated(self, item: QListWidgetItem) -> None:
        event_id = item.data(_ID)
        if isinstance(event_id, int):
            self.caseChosen.emit(event_id)

    # ---- instructions and handover ----------------------------------------------------------

    def open_form(self, key: str) -> None:
        """The instruction or handover form."""
        if self._entry is not None:
            return
        self._op = key
        if key == "instruct":
            self.form.set_action(
                tr("发布批示"),
                [FieldSpec("text", tr("批示内容"), "note", required=True, max_length=200)],
                tr("发布"),
                tr("批示发往全区各中心，并显示在大屏上"),
            )
        elif key == "shift_note":
            duty = self._duty()
            self.form.set_action(
                tr("交班记录"),
                [
                    FieldSpec(
                        "text",
                        tr("留给下一班的交班记录"),
                        "note",
                        required=True,
                        max_length=2000,
                        default=duty.note.text if duty is not None and duty.note else "",
                    )
                ],
                tr("保存"),
                tr("写入本班交接班报告；再次保存将替换"),
            )
        else:
            self.form.set_action(
                tr("交接班"),
                [
                    FieldSpec("commander", tr("接班指挥长"), "text", required=True),
                    FieldSpec("title", tr("职务"), "text", required=True, default=tr("县干指挥长")),
                    FieldSpec("note", tr("交班说明"), "note", required=False),
                ],
                tr("交班"),
            )
        self.form.show()

    def close_form(self) -> None:
        """Put the form away."""
        self._op, self._entry = None, None
        self.form.reset()
        self.form.hide()

    def _submit(self, values: dict[str, Any]) -> None:
        # A city's user acts on the district picked; one district's user on its own.
        district = {"district": self.district()} if self.district() else {}
        if self._op == "instruct":
            self._entry = self.outbox.submit("instruct", {"text": values["text"], **district})
        elif self._op == "shift_note":
            self._entry = self.outbox.submit("shift_note", {"text": values["text"], **district})
        elif self._op == "handover":
            args = {"commander": values["commander"], "title": values["title"], **district}
            if values.get("note"):
                args["note"] = values["note"]
            self._entry = self.outbox.submit("handover", args)
        if self._entry is not None:
            self.entry_changed(self._entry)

    def entry_changed(self, entry: Pending) -> None:
        """A command changed state (forwarded by the window)."""
        if entry is not self._entry:
            return
        if show_progress(self.form, entry):
            return
        if entry.state == "done":
            self._entry = None
            self.close_form()
        elif entry.state == "refused":
            self._entry = None
            self.form.set_refused(refused_text(entry, self._me().user))


def forecast_text(replica: Replica, district: str = "") -> str:
    """The streets' expected cases turning overdue in the next 24 hours, most first, with
    their sum ("" when there is no forecast): an estimate, and said to be one; of one
    district's streets when `district` names it (a city's user picked one)."""
    forecast = {s: v for s, v in replica.forecast.items() if s.startswith(district)}
    if not forecast:
        return ""
    names = replica.names()
    parts = [
        f"{short_name(names.get(street, street))} {value:.1f}"
        for street, value in sorted(forecast.items(), key=lambda item: (-item[1], item[0]))
    ]
    total = sum(forecast.values())
    return (
        tr("未来24小时预计转为超期：%1（合计 %2，模型估计，口径见指标定义 §8）")
        .replace("%1", " · ".join(parts))
        .replace("%2", f"{total:.1f}")
    )
