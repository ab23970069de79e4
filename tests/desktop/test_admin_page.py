"""The desk's 管理 page against a real backend: an admin creates a user, sees its token once,
revokes it (and the user's own session ends for good); changes a user (修改, E) and gives it
a new token, shown once; a taken name is refused in plain words; other roles have no such
page."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QListWidget

from desktop.core.session import Session, Status
from desktop.ui.desk.admin_page import UsersTab
from dispatch.store.store import Store
from protocol.codes import CloseCode
from protocol.messages import Error
from tests.desktop.test_desk import open_desk, press, ready, stop_all
from tests.desktop.test_wall import run_in_qt, until
from tests.dispatch.conftest import DEKUAN, LINGHU, start_server

ADMIN = "系统管理员"


def row_of(page: UsersTab, name: str) -> list[str]:
    """The texts of a user's row in the table."""
    for row in range(page.table.rowCount()):
        if page.table.item(row, 0).text() == name:
            return [page.table.item(row, c).text() for c in range(page.table.columnCount())]
    raise AssertionError(f"{name} is not listed")


def checked(page: UsersTab, field: str) -> list[str]:
    """The codes ticked in a multi field of the open form."""
    items = page.form.editor(field)
    assert isinstance(items, QListWidget)
    return [
        items.item(i).data(Qt.ItemDataRole.UserRole)
        for i in range(items.count())
        if items.item(i).checkState() == Qt.CheckState.Checked
    ]


def tick(page: UsersTab, field: str, codes: list[str]) -> None:
    """Tick exactly these codes in a multi field of the open form."""
    items = page.form.editor(field)
    assert isinstance(items, QListWidget)
    for i in range(items.count()):
        item = items.item(i)
        chosen = item.data(Qt.ItemDataRole.UserRole) in codes
        item.setCheckState(Qt.CheckState.Checked if chosen else Qt.CheckState.Unchecked)


def fill_create_form(
    page: UsersTab, name: str, role: str, street: str | None, display_name: str = ""
) -> None:
    form = page.form
    shown = form.editor("display_name")
    assert isinstance(shown, QLineEdit)
    shown.setText(display_name)
    editor = form.editor("name")
    assert isinstance(editor, QLineEdit)
    editor.setText(name)
    roles = form.editor("role")
    assert isinstance(roles, QComboBox)
    roles.setCurrentIndex(roles.findData(role))
    streets = form.editor("streets")
    assert isinstance(streets, QListWidget)
    for index in range(streets.count()):
        item = streets.item(index)
        chosen = item.data(Qt.ItemDataRole.UserRole) == street
        item.setCheckState(Qt.CheckState.Checked if chosen else Qt.CheckState.Unchecked)
    editor.setFocus()


@pytest.mark.timeout(180)
def test_an_admin_creates_a_user_sees_the_token_once_and_revokes_it(
    qapp, qtbot, sqlite_store: Store
) -> None:
    admin_token = sqlite_store.create_user(ADMIN, "admin")

    async def scenario() -> None:
        running = await start_server(sqlite_store)
        url = f"ws://127.0.0.1:{running.port}"
        window, link = open_desk(url, admin_token)
        newcomer: Session | None = None
        newcomer_task = None
        try:
            await ready(window)
            await until(lambda: window.nav.count() == 5, 10, "the 管理 page offered")
            assert window.nav.tabText(4) == "管理 F5"
            window.activateWindow()
            press(Qt.Key.Key_F5)
            page = window.admin.users_tab
            assert window.pages.currentWidget() is window.admin and page.isVisible()
            await until(lambda: "菱湖分中心" in page.users, 10, "the users listed")
            assert row_of(page, "菱湖分中心") == [
                "菱湖分中心",
                "",  # no display name
                "街道分中心",
                "菱湖街道",
                row_of(page, "菱湖分中心")[4],
                "有效",
            ]
            assert row_of(page, "指挥长")[2:4] == ["指挥长", "全区"]
            assert row_of(page, "菱湖社区工作站")[2] == "社区工作站"

            # A street user without a street: said at once, nothing sent.
            page.table.setFocus()
            press("N")
            form = page.form
            await until(lambda: form.isVisible() and form.state() == "editing", 5, "create form")
            assert form.field_names() == ["name", "display_name", "role", "streets", "communities"]
            fill_create_form(page, "新网格员", "street", None)
            press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
            assert form.state() == "refused"
            assert form.message_text() == "街道分中心用户须至少选择一个街道"
            # The backend's own refusal, shown as it says it.
            fill_create_form(page, "system", "commander", None)
            press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
            await until(lambda: form.state() == "refused" and "system" in form.message_text(), 10)
            assert form.message_text().startswith("未创建：the name 'system' is reserved")
            assert not page.token_box.isVisible()

            fill_create_form(page, "新网格员", "street", LINGHU, "网格员 孙敏英")
            press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
            await until(lambda: page.token_box.isVisible(), 10, "the token shown")
            token = page.token.text()
            assert len(token) >= 40 and page.token.isReadOnly()
            assert page.warning.text() == "只显示这一次，请立即交给本人；令牌等同密码"
            assert page.token_title.text() == "新网格员 的令牌"
            assert not form.isVisible()
            user = sqlite_store.authenticate(token)
            assert user is not None and user.name == "新网格员" and user.jurisdiction == {LINGHU}
            page.copy_button.click()
            assert QGuiApplication.clipboard().text() == token
            await until(lambda: "新网格员" in page.users, 10, "the list read again")
            assert row_of(page, "新网格员")[1:] == [
                "网格员 孙敏英",
                "街道分中心",
                "菱湖街道",
                row_of(page, "新网格员")[4],
                "有效",
            ]
            # Every desk knows the name now (the admin's own too).
            assert window.replica.person("新网格员") == "网格员 孙敏英"

            # Leaving the page takes the token away; coming back does not bring it again.
            press(Qt.Key.Key_F1)
            assert window.nav.currentIndex() == 0
            assert page.token.text() == "" and page.token_box.isHidden()
            press(Qt.Key.Key_F5)
            assert window.pages.currentWidget() is window.admin and page.token_box.isHidden()

            # The new user signs in; the admin revokes it: its session ends for good.
            statuses: list[Status] = []
            newcomer = Session(url, token, on_changes=lambda c: None, on_status=statuses.append)
            newcomer_task = asyncio.ensure_future(newcomer.run())
            await asyncio.wait_for(newcomer.wait_connected(), 20)
            await until(lambda: not page._task or page._task.done(), 10, "the list read")
            assert page.select_user("新网格员")
            page.table.setFocus()
            press(Qt.Key.Key_Delete)
            await until(lambda: form.isVisible() and form.state() == "editing", 5, "confirm")
            assert form.field_names() == [] and "新网格员" in form.title.text()
            press(Qt.Key.Key_Return)  # Enter confirms
            await until(lambda: page.users["新网格员"].revoked, 10, "revoked and listed so")
            assert row_of(page, "新网格员")[5] == "已停用"
            assert not form.isVisible() and page.status.text().startswith("共 ")
            await asyncio.wait_for(newcomer_task, 10)  # gave up: no reconnecting
            assert statuses[-1].fatal
            assert statuses[-1].error.startswith(f"{CloseCode.CREDENTIALS_CHANGED}: ")
            assert newcomer.connections == 1
            assert sqlite_store.authenticate(token) is None

            # The admin cannot revoke himself from here; the backend would refuse it anyway.
            assert page.select_user(ADMIN)
            revoke = next(b for b in page.action_bar.current_actions() if b.key == "revoke")
            assert not revoke.enabled and revoke.tooltip == "不能停用自己的账号"
            log = [(r.actor, r.action, r.target, r.outcome) for r in sqlite_store.admin_log()]
            assert (ADMIN, "create_user", "新网格员", "ok") in log
            assert (ADMIN, "create_user", "system", "bad_args") in log
            assert (ADMIN, "revoke_user", "新网格员", "ok") in log
        finally:
            if newcomer is not None:
                await newcomer.stop()
            if newcomer_task is not None:
                await asyncio.wait({newcomer_task}, timeout=5)
            await stop_all(link, window)
            await running.server.stop()

    run_in_qt(qapp, qtbot, scenario)


@pytest.mark.timeout(180)
def test_desks_of_other_roles_have_no_admin_page(qapp, qtbot, sqlite_store: Store) -> None:
    async def scenario() -> None:
        running = await start_server(sqlite_store)
        url = f"ws://127.0.0.1:{running.port}"
        window, link = open_desk(url, running.tokens["commander"])
        try:
            await ready(window)
            assert window.nav.count() == 4
            assert window.pages.indexOf(window.admin) == -1 and not window.admin.isVisible()
            window.activateWindow()
            press(Qt.Key.Key_F5)
            assert window.nav.currentIndex() == 0 and not window.admin.isVisible()
            # Asked all the same, the backend refuses (and records it).
            answer = await link.users()
            assert isinstance(answer, Error) and answer.code == "forbidden"
            assert [r.outcome for r in sqlite_store.admin_log()] == ["forbidden"]
        finally:
            await stop_all(link, window)
            await running.server.stop()

    run_in_qt(qapp, qtbot, scenario)


@pytest.mark.timeout(180)
def test_an_admin_changes_a_user_and_gives_it_a_new_token(qapp, qtbot, sqlite_store: Store) -> None:
    admin_token = sqlite_store.create_user(ADMIN, "admin")

    async def scenario() -> None:
        running = await start_server(sqlite_store)
        url = f"ws://127.0.0.1:{running.port}"
        window, link = open_desk(url, admin_token)
        old_token = running.tokens["linghu"]
        try:
            await ready(window)
            await until(lambda: window.nav.count() == 5, 10, "the 管理 page offered")
            window.activateWindow()
            press(Qt.Key.Key_F5)
            page = window.admin.users_tab
            await until(lambda: "菱湖分中心" in page.users, 10, "the users listed")
            form = page.form

            # A taken name: the backend's refusal in plain words; the user keeps its token.
            before = sqlite_store.accounts()
            page.table.setFocus()
            press("N")
            await until(lambda: form.isVisible() and form.state() == "editing", 5, "create form")
            fill_create_form(page, "菱湖分中心", "street", DEKUAN)
            press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
            await until(lambda: form.state() == "refused", 10, "the conflict said")
            assert form.message_text() == (
                "未创建：已有同名用户。要修改该用户或重新生成其令牌，请在列表中选中它，按 E 修改"
            )
            assert sqlite_store.accounts() == before and not page.token_box.isVisible()
            assert sqlite_store.authenticate(old_token) is not None
            press(Qt.Key.Key_Escape)
            await until(lambda: not form.isVisible(), 5, "the form put away")

            # 修改 (E): the form holds the user's own role, streets and name.
            assert page.select_user("菱湖分中心")
            page.table.setFocus()
            press("E")
            await until(lambda: form.isVisible() and form.state() == "editing", 5, "edit form")
            assert "菱湖分中心" in form.title.text()
            assert form.field_names() == [
                "display_name",
                "role",
                "streets",
                "communities",
                "new_token",
            ]
            roles = form.editor("role")
            assert isinstance(roles, QComboBox) and roles.currentData() == "street"
            assert checked(page, "streets") == [LINGHU] and checked(page, "communities") == []
            renew = form.editor("new_token")
            assert isinstance(renew, QCheckBox) and not renew.isChecked()
            assert renew.text().startswith("重新生成令牌")
            # What the form can tell at once: said, nothing sent.
            roles.setCurrentIndex(roles.findData("community"))
            form.editor("display_name").setFocus()
            press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
            assert form.message_text() == "社区工作站用户的辖区是社区，不能选街道"
            roles.setCurrentIndex(roles.findData("street"))
            shown = form.editor("display_name")
            assert isinstance(shown, QLineEdit) and shown.text() == ""
            shown.setText("菱湖街道分中心 王芳")
            tick(page, "streets", [LINGHU, DEKUAN])
            renew.setChecked(True)
            shown.setFocus()
            press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
            await until(lambda: page.token_box.isVisible(), 10, "the new token shown")
            token = page.token.text()
            assert len(token) >= 40 and page.token.isReadOnly()
            assert page.token_title.text() == "菱湖分中心 的令牌"
            assert not form.isVisible()
            user = sqlite_store.authenticate(token)
            assert user is not None and user.jurisdiction == {LINGHU, DEKUAN}
            assert sqlite_store.authenticate(old_token) is None  # the old one is dead
            await until(
                lambda: row_of(page, "菱湖分中心")[1] == "菱湖街道分中心 王芳", 10, "listed again"
            )
            assert set(row_of(page, "菱湖分中心")[3].split("、")) == {"菱湖街道", "德宽路街道"}

            # A new name only: no token, the list says it.
            assert page.select_user("菱湖分中心")
            page.table.setFocus()
            press("E")
            await until(lambda: form.isVisible() and form.state() == "editing", 5, "edit again")
            assert sorted(checked(page, "streets")) == sorted([LINGHU, DEKUAN])
            shown = form.editor("display_name")
            assert isinstance(shown, QLineEdit) and shown.text() == "菱湖街道分中心 王芳"
            shown.setText("王芳")
            press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
            await until(lambda: row_of(page, "菱湖分中心")[1] == "王芳", 10, "renamed")
            assert page.token_box.isHidden() and sqlite_store.authenticate(token) is not None

            # His own account is not changed from here.
            assert page.select_user(ADMIN)
            edit = next(b for b in page.action_bar.current_actions() if b.key == "edit")
            assert not edit.enabled and edit.tooltip == "不能在此修改自己的账号"
            log = [(r.action, r.target, r.outcome) for r in sqlite_store.admin_log()]
            assert ("create_user", "菱湖分中心", "conflict") in log
            assert log.count(("update_user", "菱湖分中心", "ok")) == 2
        finally:
            await stop_all(link, window)
            await running.server.stop()

    run_in_qt(qapp, qtbot, scenario)


@pytest.mark.timeout(180)
def test_a_dispatchers_desk_has_the_intakes_page(qapp, qtbot, sqlite_store: Store) -> None:
    """接入 F5: a dispatcher sees the intakes (none on here) and the outbox, and may not
    send feedback again; a commander's desk has no such page."""

    async def scenario() -> None:
        running = await start_server(sqlite_store)
        url = f"ws://127.0.0.1:{running.port}"
        window, link = open_desk(url, running.tokens["dispatcher"])
        try:
            await ready(window)
            assert window.nav.count() == 5 and window.nav.tabText(4) == "接入 F5"
            window.activateWindow()
            press(Qt.Key.Key_F5)
            await until(lambda: window.intakes.state is not None, 20, "the intakes read")
            assert window.pages.currentWidget() is window.intakes
            state = window.intakes.state
            assert state is not None and not any(line.enabled for line in state.lines)
            assert window.intakes.outbox_counts.text() == "发件箱为空"
            assert window.intakes.action_bar.button("retry") is None
        finally:
            await stop_all(link, window)
            await running.server.stop()

    run_in_qt(qapp, qtbot, scenario)
