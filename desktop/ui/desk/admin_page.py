"""管理: the administrator's page, shown only to role admin, in three tabs: 用户 (users and
their roles: create one, change one (修改: role, jurisdiction, display name, or a new token),
see a token once, revoke one), 排班 (the duty roster, roster_tab.py) and 事项分类 (the
category table, categories_tab.py).

Every request is the backend's to check and audit (protocol users, create_user, update_user,
revoke_user, roster, set_roster, set_category, load_categories); the token of a new user, or
a user's new token, is shown once, in a read-only field with a copy button, and is gone when
the tab is left.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QHideEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.core.district_time import date_hm
from desktop.core.replica import Changes, Replica
from desktop.core.todo import Me
from desktop.i18n import QT_TRANSLATE_NOOP
from desktop.ui.desk.admin_common import admin_table, answer_of, start_read, status_line
from desktop.ui.desk.categories_tab import CategoriesTab, CategoryRequests
from desktop.ui.desk.files import FileRequests
from desktop.ui.desk.intake_tab import IntakeRequests, IntakeTab
from desktop.ui.desk.roster_tab import RosterRequests, RosterTab
from desktop.ui.desk.table_keys import KEY_ROLE, select_key, selected_key
from desktop.ui.desk.texts import person_text, role_text, tr
from protocol.codec import ProtocolError, convert
from protocol.codes import ErrorCode
from protocol.entities import ROLES
from protocol.messages import Error, Result, UserEntry
from widgets.action_bar import ActionBar, ActionButton
from widgets.action_form import ActionForm, FieldSpec

log = logging.getLogger("desktop.ui.desk")

_NAME = KEY_ROLE
WARNING = QT_TRANSLATE_NOOP("Desk", "只显示这一次，请立即交给本人；令牌等同密码")
STYLE = """
QFrame#adminToken { background: #0f213b; }
#adminTokenTitle { color: #ffffff; font-size: 16px; font-weight: bold; }
#adminTokenText { font-family: monospace; font-size: 14px; }
"""
COLUMNS = (
    QT_TRANSLATE_NOOP("Desk", "用户名"),
    QT_TRANSLATE_NOOP("Desk", "显示名"),
    QT_TRANSLATE_NOOP("Desk", "角色"),
    QT_TRANSLATE_NOOP("Desk", "辖区"),
    QT_TRANSLATE_NOOP("Desk", "创建时间"),
    QT_TRANSLATE_NOOP("Desk", "状态"),
)
JURISDICTION = COLUMNS.index("辖区")


class UserRequests(Protocol):
    """Where the page's requests go (desktop.core.link.SessionThread)."""

    async def users(self) -> Result | Error:
        """Every user."""
        ...

    async def create_user(
        self,
        name: str,
        role: str,
        streets: list[str] | None,
        communities: list[str] | None,
        *,
        display_name: str = "",
    ) -> Result | Error:
        """Create a user; the answer holds its token (conflict: the name is taken)."""
        ...

    async def update_user(
        self,
        name: str,
        role: str | None = None,
        streets: list[str] | None = None,
        communities: list[str] | None = None,
        *,
        whole_district: bool = False,
        display_name: str | None = None,
        new_token: bool = False,
    ) -> Result | Error:
        """Change a user; with `new_token` the answer holds its new token."""
        ...

    async def revoke_user(self, name: str) -> Result | Error:
        """Revoke a user."""
        ...


class UsersTab(QWidget):
    """Users: a table, a create form and a change form (修改) whose answers show a token
    once, revocation."""

    def __init__(
        self,
        replica: Replica,
        me: Callable[[], Me],
        requests: Callable[[], UserRequests | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.replica = replica
        self._me = me
        self._requests = requests
        self._op: str | None = None  # the open form's: "create", "edit" or "revoke"
        self._target = ""  # the user the change or revoke form is about
        self._task: asyncio.Future[None] | None = None  # the list being read
        self._acting: asyncio.Task[None] | None = None  # a create, change or revoke under way
        self.users: dict[str, UserEntry] = {}

        title = QLabel(tr("用户与角色"), self)
        title.setObjectName("sectionTitle")
        self.status = status_line(self)
        # The jurisdiction takes the room left (a street user's streets can be many).
        self.table = admin_table(self, "adminUsers", COLUMNS, JURISDICTION, single=True, wrap=True)
        self.table.itemSelectionChanged.connect(self._offer_actions)
        self.action_bar = ActionBar(self)
        self.action_bar.triggered.connect(self.open_form)
        self.form = ActionForm(self)
        self.form.hide()
        self.form.submitted.connect(self._submit)
        self.form.cancelled.connect(self.close_form)

        # The new token: once, read-only but selectable, with a copy button and the warning.
        self.token_box = QFrame(self)
        self.token_box.setObjectName("adminToken")
        self.token_box.setStyleSheet(STYLE)
        self.token_title = QLabel(self.token_box)
        self.token_title.setObjectName("adminTokenTitle")
        self.token_title.setTextFormat(Qt.TextFormat.PlainText)
        self.token = QLineEdit(self.token_box)
        self.token.setObjectName("adminTokenText")
        self.token.setReadOnly(True)
        self.copy_button = QPushButton(tr("复制"), self.token_box)
        self.copy_button.clicked.connect(self.copy_token)
        self.warning = QLabel(tr(WARNING), self.token_box)
        self.warning.setObjectName("formError")
        self.warning.setTextFormat(Qt.TextFormat.PlainText)
        self.warning.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.warning, 1)
        row.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignTop)
        box = QVBoxLayout(self.token_box)
        box.setContentsMargins(12, 10, 12, 10)
        box.addWidget(self.token_title)
        box.addWidget(self.token)  # the whole width: 43 characters fit
        box.addLayout(row)
        self.token_box.hide()

        side = QVBoxLayout()
        side.addWidget(self.form)
        side.addWidget(self.token_box)
        side.addStretch(1)
        side_panel = QWidget(self)
        side_panel.setLayout(side)
        side_panel.setFixedWidth(460)
        heading = QHBoxLayout()
        heading.addWidget(title)
        heading.addWidget(self.status, 1)
        left = QVBoxLayout()
        left.addLayout(heading)
        left.addWidget(self.table, 1)
        left.addWidget(self.action_bar)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addWidget(side_panel)
        self._offer_actions()

    # ---- the list -----------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        """Read the list afresh whenever the page comes up."""
        super().showEvent(event)
        if not event.spontaneous():
            self.refresh()

    def hideEvent(self, event: QHideEvent) -> None:
        """Leaving the tab takes the token away (a window minimised keeps it)."""
        super().hideEvent(event)
        if not event.spontaneous():
            self.forget_token()

    def refresh(self) -> None:
        """Ask the backend for every user."""
        self._task = start_read(
            self._task, self._requests(), self.status, self._load, tr("正在载入…")
        )

    async def _load(self, requests: UserRequests) -> None:
        answer = await answer_of(
            "users",
            requests.users(),
            self.status,
            tr("用户列表暂时无法载入（连接中断）"),
            tr("用户列表无法载入：%1"),
            _refusal,
        )
        if answer is None:
            return
        try:
            entries = [convert(u, UserEntry) for u in answer.data.get("users", [])]
        except ProtocolError as exc:
            self.status.setText(tr("用户列表无法载入：%1").replace("%1", exc.message))
            return
        self.show_users(entries)

    def show_users(self, entries: list[UserEntry]) -> None:
        """Fill the table (the selection stays on the same name)."""
        chosen = self.selected_name()
        self.users = {u.name: u for u in entries}
        names = self.replica.names()
        self.table.setRowCount(len(entries))
        for row, user in enumerate(entries):
            where = "、".join(names.get(c, c) for c in user.jurisdiction) or tr("全区")
            cells = (
                user.name,
                user.display_name,
                role_text(user.role),
                where,
                date_hm(user.created_at),
                tr("已停用") if user.revoked else tr("有效"),
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(_NAME, user.name)
                if user.revoked:
                    item.setForeground(Qt.GlobalColor.gray)
                self.table.setItem(row, column, item)
            if user.name == chosen:
                self.table.selectRow(row)
        active = sum(not u.revoked for u in entries)
        counts = tr("共 %1 个用户，%2 个有效").replace("%1", str(len(entries)))
        self.status.setText(counts.replace("%2", str(active)))
        self._offer_actions()

    def selected_name(self) -> str | None:
        """The name of the user whose row is selected, if any."""
        return selected_key(self.table)

    def select_user(self, name: str) -> bool:
        """Select a user's row; whether it is listed."""
        return select_key(self.table, name)

    def _offer_actions(self) -> None:
        name = self.selected_name()
        user = self.users.get(name) if name is not None else None
        mine = user is not None and user.name == self._me().user
        revocable = user is not None and not user.revoked and not mine
        why = tr("不能停用自己的账号") if mine else ""
        # One's own account is changed by another admin or on the server: a change here
        # would cut off this very session.
        why_not_edit = tr("不能在此修改自己的账号") if mine else ""
        self.action_bar.set_actions(
            [
                ActionButton("create", tr("新建用户"), "N", "primary"),
                ActionButton(
                    "edit", tr("修改"), "E", "normal", user is not None and not mine, why_not_edit
                ),
                ActionButton("revoke", tr("停用"), "Delete", "danger", revocable, why),
                ActionButton("refresh", tr("刷新"), "Ctrl+R"),
            ]
        )

    # ---- the forms ----------------------------------------------------------------------------

    def open_form(self, key: str) -> None:
        """The create form, the change form, the revoke confirmation, or a fresh list."""
        if key == "refresh":
            self.refresh()
            return
        if self._acting is not None and not self._acting.done():
            return
        self.forget_token()
        if key == "create":
            self._op = "create"
            self.form.set_action(
                tr("新建用户"),
                [
                    FieldSpec("name", tr("用户名"), "text", required=True, max_length=100),
                    *self._user_fields(None),
                ],
                tr("创建"),
                tr("用户名不能与已有用户相同；令牌只显示一次"),
            )
        elif key == "edit":
            name = self.selected_name()
            user = self.users.get(name) if name is not None else None
            if user is None or user.name == self._me().user:
                return
            self._op, self._target = "edit", user.name
            self.form.set_action(
                tr("修改用户 · %1").replace("%1", user.name),
                [
                    *self._user_fields(user),
                    FieldSpec("new_token", tr("重新生成令牌（旧令牌立即失效）"), "bool"),
                ],
                tr("保存"),
                tr("改变角色、辖区或令牌后，该用户已打开的连接会被断开，需重新登录"),
            )
        elif key == "revoke":
            name = self.selected_name()
            if name is None:
                return
            self._op, self._target = "revoke", name
            self.form.set_action(
                tr("停用用户 · %1").replace("%1", name),
                [],
                tr("确认停用"),
                tr("%1 的令牌将立即失效，已打开的连接会被断开。按 Enter 确认，Esc 取消").replace(
                    "%1", name
                ),
            )
        else:
            return
        self.form.show()
        self.form.focus_first()

    def _user_fields(self, user: UserEntry | None) -> list[FieldSpec]:
        """The display name, role and jurisdiction fields (a user's own values as defaults)."""
        units = self.replica.units
        streets = [(s.code, s.name) for s in units.streets] if units is not None else []
        communities = [(c.code, c.name) for c in units.communities] if units else []
        community = user is not None and user.role == "community"
        codes = list(user.jurisdiction) if user is not None else []
        return [
            FieldSpec(
                "display_name",
                tr("显示名（如 菱湖街道分中心 王芳；可不填）"),
                "text",
                max_length=100,
                default=user.display_name if user is not None else None,
            ),
            FieldSpec(
                "role",
                tr("角色"),
                "choice",
                required=True,
                choices=[(r, role_text(r)) for r in ROLES],
                default=user.role if user is not None else None,
            ),
            FieldSpec(
                "streets",
                tr("街道（不选为全区）"),
                "multi",
                choices=streets,
                default=[] if community else codes,
            ),
            FieldSpec(
                "communities",
                tr("社区（仅社区工作站）"),
                "multi",
                choices=communities,
                default=codes if community else [],
            ),
        ]

    def close_form(self) -> None:
        """Put the form away (the keyboard back on the table if it was in the form)."""
        self._op, self._target = None, ""
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
        if self._op in ("create", "edit"):
            role = str(values["role"])
            shown = str(values.get("display_name") or "")
            streets = list(values.get("streets") or [])
            communities = list(values.get("communities") or [])
            problem = _jurisdiction_problem(role, streets, communities)
            if problem:
                self.form.set_refused(problem)
                return
            if self._op == "create":
                name = str(values["name"])
                self.form.set_pending(tr("正在创建…"))
                self._start(self._create(requests, name, role, streets, communities, shown))
            else:
                self.form.set_pending(tr("正在保存…"))
                change = _Change(role, streets, communities, shown, bool(values.get("new_token")))
                self._start(self._edit(requests, self._target, change))
        elif self._op == "revoke":
            self.form.set_pending(tr("正在停用…"))
            self._start(self._revoke(requests, self._target))

    def _start(self, work: Coroutine[Any, Any, None]) -> None:
        self._acting = asyncio.ensure_future(work)

    async def _create(
        self,
        requests: UserRequests,
        name: str,
        role: str,
        streets: list[str],
        communities: list[str],
        display_name: str = "",
    ) -> None:
        try:
            answer = await requests.create_user(
                name, role, streets, communities, display_name=display_name
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.info("create_user: %s", exc)
            # Never resent: a second copy would re-key the user again.
            self.form.set_refused(tr("连接中断，不能确定是否已创建；请刷新列表核对创建时间"))
            return
        if isinstance(answer, Error):
            self.form.set_refused(tr("未创建：%1").replace("%1", _refusal(answer)))
            return
        token = answer.data.get("token")
        if not isinstance(token, str):
            self.form.set_refused(tr("未收到令牌，请重试"))
            return
        self.close_form()
        self.show_token(name, token)
        self.refresh()

    async def _edit(self, requests: UserRequests, name: str, change: _Change) -> None:
        try:
            answer = await requests.update_user(
                name,
                change.role,
                change.streets if change.role != "community" else None,
                change.communities if change.role == "community" else None,
                # No street chosen: the whole district (a community user always has some).
                whole_district=change.role != "community" and not change.streets,
                display_name=change.display_name,
                new_token=change.new_token,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.info("update_user: %s", exc)
            # Never resent: a second copy would re-key the user again.
            self.form.set_refused(tr("连接中断，不能确定是否已修改；请刷新列表核对"))
            return
        if isinstance(answer, Error):
            self.form.set_refused(tr("未修改：%1").replace("%1", _refusal(answer)))
            return
        token = answer.data.get("token")
        if change.new_token and not isinstance(token, str):
            self.form.set_refused(tr("未收到令牌，请重试"))
            return
        self.close_form()
        self.status.setText(tr("已修改 %1").replace("%1", name))
        if isinstance(token, str):
            self.show_token(name, token)
        self.refresh()

    async def _revoke(self, requests: UserRequests, name: str) -> None:
        try:
            answer = await requests.revoke_user(name)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.info("revoke_user: %s", exc)
            self.form.set_refused(tr("连接中断，不能确定是否已停用；请刷新列表核对"))
            return
        if isinstance(answer, Error):
            self.form.set_refused(tr("未停用：%1").replace("%1", _refusal(answer)))
            return
        self.close_form()
        self.status.setText(tr("已停用 %1").replace("%1", name))
        self.refresh()

    # ---- the token, once ----------------------------------------------------------------------

    def show_token(self, name: str, token: str) -> None:
        """Show a new user's token until the page is left."""
        self.token_title.setText(tr("%1 的令牌").replace("%1", name))
        self.token.setText(token)
        self.token.setCursorPosition(0)
        self.token_box.show()
        self.token.setFocus(Qt.FocusReason.OtherFocusReason)
        self.token.selectAll()

    def copy_token(self) -> None:
        """Put the token on the clipboard."""
        if self.token.text():
            QGuiApplication.clipboard().setText(self.token.text())
            self.copy_button.setText(tr("已复制"))

    def forget_token(self) -> None:
        """The token goes from the screen (it is shown only once)."""
        self.token.clear()
        self.token_title.clear()
        self.copy_button.setText(tr("复制"))
        self.token_box.hide()


@dataclass(frozen=True)
class _Change:
    """What the change form asks for a user."""

    role: str
    streets: list[str]
    communities: list[str]
    display_name: str
    new_token: bool


def _jurisdiction_problem(role: str, streets: list[str], communities: list[str]) -> str:
    """What the backend would refuse about a jurisdiction, said before asking it."""
    if role == "community":
        if streets:
            return tr("社区工作站用户的辖区是社区，不能选街道")
        if not communities:
            return tr("社区工作站用户须至少选择一个社区")
    elif communities:
        return tr("只有社区工作站用户的辖区是社区；其他角色请选街道（不选为全区）")
    if role == "street" and not streets:
        return tr("街道分中心用户须至少选择一个街道")
    return ""


def _refusal(error: Error) -> str:
    if error.code == ErrorCode.FORBIDDEN:
        return tr("无权执行（已记录）：%1").replace("%1", error.message)
    if error.code == ErrorCode.NOT_FOUND:
        return tr("没有这个用户")
    if error.code == ErrorCode.CONFLICT:
        return tr("已有同名用户。要修改该用户或重新生成其令牌，请在列表中选中它，按 E 修改")
    if error.code == ErrorCode.RATE_LIMITED:
        return tr("服务暂时繁忙，请稍后重试")
    return error.message


class AdminRequests(
    UserRequests, RosterRequests, CategoryRequests, IntakeRequests, FileRequests, Protocol
):
    """Where the admin page's requests go (desktop.core.link.SessionThread)."""


class AdminPage(QWidget):
    """The tabs 用户, 排班, 事项分类 and 接入 (Ctrl+1 to Ctrl+4)."""

    def __init__(
        self,
        replica: Replica,
        me: Callable[[], Me],
        requests: Callable[[], AdminRequests | None],
        clock: Callable[[], float],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.users_tab = UsersTab(replica, me, requests, self)
        self.roster_tab = RosterTab(
            me,
            requests,
            clock,
            self,
            person=lambda name: person_text(replica, name),
            districts=lambda: dict(replica.units.districts) if replica.units else {},
        )
        self.categories_tab = CategoriesTab(replica, requests, self)
        self.intake_tab = IntakeTab(me, requests, self)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("adminTabs")
        for index, (tab, label) in enumerate(
            (
                (self.users_tab, tr("用户")),
                (self.roster_tab, tr("排班")),
                (self.categories_tab, tr("事项分类")),
                (self.intake_tab, tr("接入")),
            )
        ):
            self.tabs.addTab(tab, label)
            self.tabs.setTabToolTip(index, f"Ctrl+{index + 1}")
            key = QShortcut(QKeySequence(f"Ctrl+{index + 1}"), self)
            key.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            key.activated.connect(lambda i=index: self.show_tab(i))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.tabs)

    def show_tab(self, index: int) -> None:
        """Bring a tab up (0 用户, 1 排班, 2 事项分类, 3 接入) and put the focus in its table."""
        self.tabs.setCurrentIndex(index)
        tab = self.tabs.currentWidget()
        table = getattr(tab, "table", None)
        if isinstance(table, QTableWidget):
            table.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def apply(self, changes: Changes) -> None:
        """A frame's changes: the category table may have changed."""
        self.categories_tab.apply(changes)
