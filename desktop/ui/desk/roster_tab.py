"""管理 · 排班: the planned duty of the coming four weeks, a day at a time: the duty commander
(县干指挥长) and the centre's roster. The backend checks and records every change (protocol
roster, set_roster); when the day's duty begins it takes its roster from here, and today's
duty in force takes a changed plan at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import date
from typing import Any, Protocol

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.admin_tables import (
    COMMANDER_TITLE,
    RosterProblem,
    parse_roster,
    phone_ok,
    plan_people,
    plannable,
    roster_days,
)
from desktop.core.district_time import date_hm, local
from desktop.core.refusals import roster_refusal
from desktop.core.todo import Me
from desktop.i18n import QT_TRANSLATE_NOOP
from desktop.ui.desk.admin_common import admin_table, answer_of, start_read, status_line
from desktop.ui.desk.district_picker import show_districts
from desktop.ui.desk.table_keys import KEY_ROLE, select_key, selected_key
from desktop.ui.desk.texts import tr
from protocol.codec import ProtocolError, convert
from protocol.codes import ErrorCode
from protocol.entities import DutyPlan, Person
from protocol.messages import Error, Result
from widgets.action_bar import ActionBar, ActionButton
from widgets.action_form import ActionForm, FieldSpec

log = logging.getLogger("desktop.ui.desk")

_DAY = KEY_ROLE
COLUMNS = (
    QT_TRANSLATE_NOOP("Desk", "日期"),
    QT_TRANSLATE_NOOP("Desk", "县干指挥长"),
    QT_TRANSLATE_NOOP("Desk", "职务"),
    QT_TRANSLATE_NOOP("Desk", "电话"),
    QT_TRANSLATE_NOOP("Desk", "值班人员"),
    QT_TRANSLATE_NOOP("Desk", "更新"),
)
WEEKDAYS = (
    QT_TRANSLATE_NOOP("Desk", "周一"),
    QT_TRANSLATE_NOOP("Desk", "周二"),
    QT_TRANSLATE_NOOP("Desk", "周三"),
    QT_TRANSLATE_NOOP("Desk", "周四"),
    QT_TRANSLATE_NOOP("Desk", "周五"),
    QT_TRANSLATE_NOOP("Desk", "周六"),
    QT_TRANSLATE_NOOP("Desk", "周日"),
)


class RosterRequests(Protocol):
    """Where the tab's requests go (desktop.core.link.SessionThread)."""

    async def roster(self, first: str, last: str, *, district: str = "") -> Result | Error:
        """The planned days from first to last (of a district: "" the user's own)."""
        ...

    async def set_roster(
        self, day: str, commander: Person | None, roster: list[Person], *, district: str = ""
    ) -> Result | Error:
        """Plan a day, or remove its plan (no commander)."""
        ...


class RosterTab(QWidget):
    """The coming days with their plans; a form to plan a day, a confirmation to clear one."""

    def __init__(
        self,
        me: Callable[[], Me],
        requests: Callable[[], RosterRequests | None],
        clock: Callable[[], float],
        parent: QWidget | None = None,
        person: Callable[[str], str] = str,
        districts: Callable[[], dict[str, str]] = dict,
    ) -> None:
        super().__init__(parent)
        self._me = me
        # The districts a city's admin plans, code → name (several: a picker is shown).
        self._districts = districts
        self._requests = requests
        self._clock = clock
        self._person = person  # who changed a plan, by the name people know
        self._op: str | None = None  # the open form's: "edit" or "clear"
        self._day = ""  # the day the open form is about
        self._task: asyncio.Future[None] | None = None  # the plans being read
        self._acting: asyncio.Task[None] | None = None  # a change under way
        self.today = local(clock()).date()  # the backend's, once it answered
        self.plans: dict[str, DutyPlan] = {}
        self._counts = ""  # the days counted
        self._said = ""  # what was just done

        title = QLabel(tr("排班表（今起四周）"), self)
        title.setObjectName("sectionTitle")
        self.status = status_line(self)
        self.table = admin_table(self, "adminRoster", COLUMNS, 4, single=True)
        self.table.itemSelectionChanged.connect(self._offer_actions)
        self.table.itemActivated.connect(lambda _item: self.open_form("edit"))
        self.action_bar = ActionBar(self)
        self.action_bar.triggered.connect(self.open_form)
        self.form = ActionForm(self)
        self.form.hide()
        self.form.submitted.connect(self._submit)
        self.form.cancelled.connect(self.close_form)

        side = QVBoxLayout()
        side.addWidget(self.form)
        side.addStretch(1)
        side_panel = QWidget(self)
        side_panel.setLayout(side)
        side_panel.setFixedWidth(460)
        self.district_picker = QComboBox(self)
        self.district_picker.setObjectName("rosterDistrict")
        self.district_picker.hide()
        self.district_picker.currentIndexChanged.connect(lambda _index: self.refresh())
        heading = QHBoxLayout()
        heading.addWidget(title)
        heading.addWidget(self.district_picker)
        heading.addWidget(self.status, 1)
        left = QVBoxLayout()
        left.addLayout(heading)
        left.addWidget(self.table, 1)
        left.addWidget(self.action_bar)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addWidget(side_panel)
        self.show_plans([])

    # ---- the list ---------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        """Read the plans afresh whenever the tab comes up."""
        super().showEvent(event)
        if not event.spontaneous():
            self.refresh()

    def district(self) -> str:
        """The district picked ("" for a user of one district: its own)."""
        return show_districts(self.district_picker, self._districts())

    def refresh(self) -> None:
        """Ask the backend for the plans of the days listed."""
        days = roster_days(local(self._clock()).date())
        district = self.district()

        def load(requests: RosterRequests) -> Coroutine[Any, Any, None]:
            return self._load(requests, days[0], days[-1], district)

        self._task = start_read(self._task, self._requests(), self.status, load, tr("正在载入…"))

    async def _load(self, requests: RosterRequests, first: str, last: str, district: str) -> None:
        answer = await answer_of(
            "roster",
            requests.roster(first, last, district=district),
            self.status,
            tr("排班表暂时无法载入（连接中断）"),
            tr("排班表无法载入：%1"),
            refusal_text,
        )
        if answer is None:
            return
        try:
            plans = [convert(d, DutyPlan) for d in answer.data.get("days", [])]
            today = date.fromisoformat(str(answer.data.get("today", "")))
        except (ProtocolError, ValueError) as exc:
            self.status.setText(tr("排班表无法载入：%1").replace("%1", str(exc)))
            return
        self.today = today
        self.show_plans(plans)

    def show_plans(self, plans: list[DutyPlan]) -> None:
        """Fill the table: every listed day, planned or not (the selection stays on its day)."""
        chosen = self.selected_day()
        self.plans = {p.day: p for p in plans}
        days = roster_days(self.today)
        self.table.setRowCount(len(days))
        for row, day in enumerate(days):
            plan = self.plans.get(day)
            when = date.fromisoformat(day)
            label = f"{day} {tr(WEEKDAYS[when.weekday()])}"
            if when == self.today:
                label += tr("（今日）")
            if plan is None:
                cells = (label, tr("未排班"), "", "", "", "")
            else:
                staff = "、".join(f"{p.name}（{p.title}）" for p in plan.roster)
                updated = f"{self._person(plan.updated_by)} {date_hm(plan.updated_at)}"
                commander = plan.commander
                cells = (label, commander.name, commander.title, commander.phone, staff, updated)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(_DAY, day)
                if plan is None and column:
                    item.setForeground(Qt.GlobalColor.gray)
                self.table.setItem(row, column, item)
            if day == chosen:
                self.table.selectRow(row)
        if chosen is None and days:
            self.table.selectRow(0)  # today: E plans it at once
        planned = sum(day in self.plans for day in days)
        self._counts = (
            tr("%1 天中已排 %2 天").replace("%1", str(len(days))).replace("%2", str(planned))
        )
        self._show_status()
        self._offer_actions()

    def say(self, text: str) -> None:
        """What was just done, beside the counts (until the next): a reload must not wipe it."""
        self._said = text
        self._show_status()

    def _show_status(self) -> None:
        self.status.setText(" · ".join(t for t in (self._counts, self._said) if t))

    def selected_day(self) -> str | None:
        """The day whose row is selected, if any."""
        return selected_key(self.table)

    def select_day(self, day: str) -> bool:
        """Select a day's row; whether it is listed."""
        return select_key(self.table, day)

    def _offer_actions(self) -> None:
        day = self.selected_day()
        chosen = day is not None
        planned = chosen and day in self.plans
        self.action_bar.set_actions(
            [
                ActionButton("edit", tr("编辑排班"), "E", "primary", chosen, tr("先选择一天")),
                ActionButton("clear", tr("清除"), "Delete", "danger", planned, tr("这一天未排班")),
                ActionButton("refresh", tr("刷新"), "Ctrl+R"),
            ]
        )

    # ---- the forms ----------------------------------------------------------------------------

    def open_form(self, key: str) -> None:
        """The day's plan form, the clear confirmation, or a fresh list."""
        if key == "refresh":
            self.refresh()
            return
        day = self.selected_day()
        if day is None or (self._acting is not None and not self._acting.done()):
            return
        if key == "edit":
            name, title, phone, staff = plan_people(self.plans.get(day))
            self._op, self._day = "edit", day
            hint = tr("值班人员每行一人：姓名 岗位 电话（电话可省略），如“赵磊 值班长 13800001111”")
            if date.fromisoformat(day) == self.today:
                hint += "\n" + tr("今日的值班若已交接，值班人员即时更新；指挥长变更须交接班")
            self.form.set_action(
                tr("排班 · %1").replace("%1", day),
                [
                    FieldSpec(
                        "commander",
                        tr("县干指挥长"),
                        "text",
                        required=True,
                        default=name,
                        max_length=50,
                    ),
                    FieldSpec(
                        "title", tr("职务"), "text", default=title or COMMANDER_TITLE, max_length=50
                    ),
                    FieldSpec(
                        "phone",
                        tr("电话"),
                        "text",
                        default=phone,
                        placeholder=tr("手机或固话，如 13912345678、0556-5512345"),
                        max_length=30,
                    ),
                    FieldSpec("roster", tr("值班人员"), "note", default=staff, max_length=2000),
                ],
                tr("保存"),
                hint,
            )
        elif key == "clear" and day in self.plans:
            self._op, self._day = "clear", day
            self.form.set_action(
                tr("清除排班 · %1").replace("%1", day),
                [],
                tr("确认清除"),
                tr("这一天将不再有排班；交接班时沿用上一班的值班人员。按 Enter 确认，Esc 取消"),
            )
        else:
            return
        self.form.show()
        self.form.focus_first()

    def close_form(self) -> None:
        """Put the form away (the keyboard back on the table if it was in the form)."""
        self._op, self._day = None, ""
        focused = QApplication.focusWidget()
        held = focused is not None and self.form.isAncestorOf(focused)
        self.form.reset()
        self.form.hide()
        if held:
            # Else it may stay on the hidden form's button, where no key of the page works.
            self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def _submit(self, values: dict[str, Any]) -> None:
        requests = self._requests()
        if requests is None:
            self.form.set_refused(tr("尚未连接到调度服务"))
            return
        day = self._day
        if not plannable(day, self.today):
            self.form.set_refused(tr("%1 已过去，不能排班").replace("%1", day))
            return
        if self._op == "clear":
            self.form.set_pending(tr("正在清除…"))
            self._acting = asyncio.ensure_future(self._send(requests, day, None, []))
            return
        phone = str(values.get("phone") or "")
        if not phone_ok(phone):
            self.form.set_refused(tr("指挥长电话“%1”不是手机号或固定电话").replace("%1", phone))
            return
        roster, problems = parse_roster(str(values.get("roster") or ""))
        if problems:
            self.form.set_refused("\n".join(problem_text(p) for p in problems[:8]))
            return
        commander = Person(
            name=str(values["commander"]),
            title=str(values.get("title") or COMMANDER_TITLE),
            phone=phone,
        )
        self.form.set_pending(tr("正在保存…"))
        self._acting = asyncio.ensure_future(self._send(requests, day, commander, roster))

    async def _send(
        self,
        requests: RosterRequests,
        day: str,
        commander: Person | None,
        roster: list[Person],
    ) -> None:
        try:
            answer = await requests.set_roster(day, commander, roster, district=self.district())
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.info("set_roster: %s", exc)
            self.form.set_refused(tr("连接中断，不能确定是否已保存；请刷新核对"))
            return
        if isinstance(answer, Error):
            self.form.set_refused(tr("未保存：%1").replace("%1", refusal_text(answer)))
            return
        self.close_form()
        if commander is None:
            done = tr("已清除 %1 的排班").replace("%1", day)
        elif answer.data.get("duty"):
            done = tr("已保存 %1 的排班，当前值班已更新").replace("%1", day)
        else:
            done = tr("已保存 %1 的排班").replace("%1", day)
        self.say(done)
        self.refresh()


def problem_text(problem: RosterProblem) -> str:
    """A roster line's problem in the installed language."""
    line = tr("第 %1 行：").replace("%1", str(problem.line))
    if problem.kind == "no_title":
        return line + tr("请写明%1的岗位，如“%1 调度员”").replace("%1", problem.value)
    if problem.kind == "bad_phone":
        return line + tr("“%1”不是手机号或固定电话").replace("%1", problem.value)
    if problem.kind == "too_long":
        return line + tr("姓名、岗位或单位过长（每项至多 50 字）")
    if problem.kind == "twice":
        return line + tr("%1 重复").replace("%1", problem.value)
    return tr("值班人员至多 %1 人").replace("%1", problem.value)


def refusal_text(error: Error) -> str:
    """Why the backend refused a roster request, in plain words."""
    if error.code == ErrorCode.FORBIDDEN:
        return tr("无权执行（已记录）")
    if error.code == ErrorCode.RATE_LIMITED:
        return tr("服务暂时繁忙，请稍后重试")
    if error.code != ErrorCode.BAD_ARGS:
        return error.message
    kind, value = roster_refusal(error.message)
    if kind == "past":
        return tr("这一天已过去（调度服务的今日为 %1）").replace("%1", value)
    if kind == "too_far":
        return tr("至多提前 %1 天排班").replace("%1", value)
    if kind == "bad_date":
        return tr("日期“%1”无效").replace("%1", value)
    if kind == "bad_phone":
        return tr("电话“%1”不是手机号或固定电话").replace("%1", value)
    return tr("未通过检查：%1").replace("%1", value)
