"""The desk's 管理 page, tabs 排班 and 事项分类, against a real backend: an admin plans a day's
duty (the duty in force takes it) and changes a category's time limits (every client gets
the table; a new case's deadline and the dispatch form follow it), by keyboard; what the
form or the backend refuses is said in plain words and changes nothing."""

from __future__ import annotations

import json
from datetime import datetime
from importlib import resources

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QLineEdit, QPlainTextEdit

from desktop.ui.desk.forms import form_for
from dispatch.clock import Clock
from dispatch.domain.calendar import CST
from dispatch.store.store import Store
from protocol.entities import CategoryLimit, Duty, Person
from protocol.messages import Delta, Result
from tests.desktop.test_desk import open_desk, press, ready, stop_all
from tests.desktop.test_wall import run_in_qt, until
from tests.dispatch.conftest import start_server
from tests.dispatch.test_server import handshake, report_args

ADMIN = "系统管理员"
START = datetime(2026, 11, 25, 10, 0, tzinfo=CST).timestamp()  # a Wednesday, office hours
TODAY, TOMORROW = "2026-11-25", "2026-11-26"


def type_into(editor: object, text: str) -> None:
    """Replace a field's text, as typing would."""
    if isinstance(editor, QLineEdit):
        editor.setText(text)
    else:
        assert isinstance(editor, QPlainTextEdit)
        editor.setPlainText(text)


@pytest.mark.timeout(180)
def test_an_admin_plans_a_day_and_changes_a_limit_from_the_desk(
    qapp, qtbot, sqlite_store: Store, tmp_path
) -> None:
    admin_token = sqlite_store.create_user(ADMIN, "admin", display_name="系统管理员 吴敏")

    async def scenario() -> None:
        running = await start_server(sqlite_store, clock=Clock(1.0, START))
        url = f"ws://127.0.0.1:{running.port}"
        window, link = open_desk(url, admin_token)
        commander = await running.client("commander")
        await handshake(commander)
        try:
            await ready(window)
            await until(lambda: window.nav.count() == 5, 10, "the 管理 page offered")
            window.activateWindow()
            press(Qt.Key.Key_F5)
            page = window.admin
            assert [page.tabs.tabText(i) for i in range(3)] == ["用户", "排班", "事项分类"]

            # ---- 排班: Ctrl+2, today's duty in force, tomorrow and today planned ----
            assert isinstance(await commander.command("handover", {"commander": "李红梅"}), Result)
            press(Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
            roster = page.roster_tab
            assert page.tabs.currentWidget() is roster
            await until(lambda: roster.status.text() == "28 天中已排 0 天", 10, "the days listed")
            assert roster.table.rowCount() == 28
            assert roster.table.item(0, 0).text() == f"{TODAY} 周三（今日）"
            assert roster.table.item(1, 1).text() == "未排班"

            assert roster.select_day(TOMORROW)
            roster.table.setFocus()
            press("E")
            form = roster.form
            await until(lambda: form.isVisible() and form.state() == "editing", 5, "plan form")
            assert form.field_names() == ["commander", "title", "phone", "roster"]
            assert form.editor("title").text() == "县干指挥长"  # type: ignore[attr-defined]
            type_into(form.editor("commander"), "王建国")
            type_into(form.editor("title"), "副区长")
            type_into(form.editor("phone"), "12345")
            type_into(form.editor("roster"), "赵磊 值班长 13800001111\n孙丽")
            form.editor("commander").setFocus()
            press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
            assert form.state() == "refused"
            assert form.message_text() == "指挥长电话“12345”不是手机号或固定电话"
            type_into(form.editor("phone"), "13912345678")
            press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
            assert form.message_text() == "第 2 行：请写明孙丽的岗位，如“孙丽 调度员”"
            assert sqlite_store.duty_plans(TODAY) == []  # nothing was sent
            type_into(form.editor("roster"), "赵磊 值班长 13800001111\n孙丽，调度员，0556-5512345")
            press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
            await until(lambda: TOMORROW in roster.plans, 10, "tomorrow planned and listed")
            assert not form.isVisible()
            assert [roster.table.item(1, c).text() for c in range(1, 5)] == [
                "王建国",
                "副区长",
                "13912345678",
                "赵磊（值班长）、孙丽（调度员）",
            ]
            # Who planned it, by the name people know (the sign-in name is on record).
            assert roster.table.item(1, 5).text().startswith("系统管理员 吴敏 ")
            [plan] = sqlite_store.duty_plans(TOMORROW)
            assert plan.roster == [
                Person(name="赵磊", title="值班长", phone="13800001111"),
                Person(name="孙丽", title="调度员", phone="0556-5512345"),
            ]

            # Today's plan: the duty handed over this morning takes its roster at once.
            assert roster.select_day(TODAY)
            roster.table.setFocus()
            press("E")
            await until(lambda: form.isVisible() and form.state() == "editing", 5, "today's form")
            assert form.editor("commander").text() == ""  # type: ignore[attr-defined]
            type_into(form.editor("commander"), "李红梅")
            type_into(form.editor("roster"), "钱峰 调度员")
            form.editor("commander").setFocus()
            press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
            await until(
                lambda: (
                    roster.status.text()
                    == f"28 天中已排 2 天 · 已保存 {TODAY} 的排班，当前值班已更新"
                ),
                10,
                "today saved",
            )
            await until(
                lambda: (
                    window.replica.duty is not None
                    and [p.name for p in window.replica.duty.roster] == ["钱峰"]
                ),
                10,
                "the desk's duty took the roster",
            )
            delta = await commander.until(
                lambda m: isinstance(m, Delta) and m.action == "set_roster"
            )
            assert isinstance(delta, Delta) and isinstance(delta.data, Duty)

            # Clearing tomorrow: Delete, then Enter confirms.
            assert roster.select_day(TOMORROW)
            roster.table.setFocus()
            press(Qt.Key.Key_Delete)
            await until(lambda: form.isVisible() and form.field_names() == [], 5, "confirm")
            press(Qt.Key.Key_Return)
            # Done once the form is put away (a read of the plans under way since today's
            # save may show tomorrow gone before the answer came; keys then went to the form).
            await until(lambda: not form.isVisible(), 10, "the clear answered")
            await until(lambda: TOMORROW not in roster.plans and TODAY in roster.plans, 10)
            assert [p.day for p in sqlite_store.duty_plans(TODAY)] == [TODAY]

            # ---- 事项分类: Ctrl+3, 01-02's limits and department ----
            linghu = await running.client("linghu")
            await handshake(linghu)
            old = await linghu.command("report", report_args(running))
            assert isinstance(old, Result)
            press(Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
            tab = page.categories_tab
            await until(lambda: page.tabs.currentWidget() is tab, 5, "事项分类 shown")
            await until(lambda: tab.table.rowCount() == 188, 10, "the table shown")
            assert tab.status.text() == "共 20 个大类、188 项"
            assert tab.row_texts("01-02")[10].startswith("道路、广场、绿地等公共场所")
            assert tab.row_texts("01-02")[:10] == [
                "01-02",
                "市容环境",
                "暴露垃圾",
                "1 小时",
                "1 小时",
                "4 小时",
                "1 小时",
                "工作时间",
                "一般",
                "区城管局",
            ]
            tab.filter.setText("暴露")
            shown = [r for r in range(tab.table.rowCount()) if not tab.table.isRowHidden(r)]
            assert [tab.table.item(r, 0).text() for r in shown] == ["01-02"]
            assert tab.select_code("01-02")
            tab.table.setFocus()
            press("E")
            edit = tab.form
            await until(lambda: edit.isVisible() and edit.state() == "editing", 5, "category form")
            assert edit.editor("handle").text() == "4h"  # type: ignore[attr-defined]
            type_into(edit.editor("accept"), "4x")
            edit.editor("name").setFocus()
            press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
            assert edit.state() == "refused"
            assert edit.message_text() == "受理时限“4x”写法不对，应如 4h、0.5h、30m、3d"
            type_into(edit.editor("accept"), "30m")
            type_into(edit.editor("handle"), "6h")
            departments = edit.editor("department")
            assert isinstance(departments, QComboBox)
            departments.setCurrentIndex(departments.findData("ZJJ"))
            press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
            await until(lambda: tab.row_texts("01-02")[3] == "30 分钟", 10, "the new limits")
            await until(lambda: not edit.isVisible(), 5, "the form put away once answered")
            assert tab.row_texts("01-02")[5] == "6 小时" and tab.row_texts("01-02")[9] == "区住建局"
            await until(
                lambda: (
                    tab.status.text()
                    == "共 20 个大类、188 项 · 已保存 01-02 暴露垃圾：新时限对此后登记的案件生效"
                ),
                5,
                "said",
            )

            # Every client has the table; new cases and the dispatch form follow it.
            limit = running.server.reference.categories["01-02"].limits["accept"]
            assert limit == CategoryLimit(amount=0.5, unit="hour")
            new = await linghu.command("report", report_args(running))
            assert isinstance(new, Result)
            await until(lambda: int(new.data["event"]) in window.replica.events, 10, "new case")
            case = window.replica.events[int(new.data["event"])]
            assert case.deadline is not None and case.deadline - case.reported_at <= 1800
            form_spec = form_for("dispatch", case, window.replica, window.district_now())
            assert form_spec.hint == "处置时限：派遣后 6个工作小时"
            assignee = form_spec.fields[0]
            assert assignee.default == "网格员 " + assignee.default.removeprefix("网格员 ")
            assert ("ZJJ", "区住建局（建议）") in assignee.choices

            # A table file the backend refuses: its problems in plain words, nothing changed.
            path = resources.files("resources") / "district" / "categories.json"
            table = json.loads(path.read_text(encoding="utf-8"))
            table["categories"][0]["department"] = "XXJ"
            bad = tmp_path / "分类表.json"
            bad.write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
            tab.load_file(str(bad))
            await until(lambda: tab.form.state() == "refused", 10, "the file refused")
            assert tab.form.message_text() == (
                "文件未通过检查，未作任何更改：\n01-01 责任部门：没有部门“XXJ”"
            )
            assert running.server.reference.categories["01-02"].department == "ZJJ"

            # Put right in the file, Enter checks it again: what it would change; Enter loads.
            table["categories"][0]["department"] = "CGJ"
            table["categories"][0]["limits"]["handle"] = "15d"
            bad.write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
            await until(lambda: tab.form.isAncestorOf(QApplication.focusWidget()), 5, "focus")
            press(Qt.Key.Key_Return)
            await until(lambda: tab.form.state() == "editing", 10, "the file checked")
            assert tab.form.hint.text().startswith("检查通过：新增 0 项、修改 2 项、删除 0 项")
            assert running.server.reference.categories["01-01"].limits["handle"].amount == 20
            press(Qt.Key.Key_Return)
            await until(lambda: tab.row_texts("01-01")[5] == "15 天", 10, "the file loaded")
            await until(
                lambda: tab.status.text().endswith(
                    "已载入 分类表.json：新增 0 项、修改 2 项、删除 0 项"
                ),
                5,
                "said",
            )
            # The file's 01-02 is the default one again: the desk's edit is undone by it.
            assert tab.row_texts("01-02")[3] == "1 小时"

            log = [(r.action, r.target, r.outcome) for r in sqlite_store.admin_log(100)]
            assert ("set_roster", TOMORROW, "ok") in log and ("set_roster", TODAY, "ok") in log
            assert ("set_category", "01-02", "ok") in log
            assert ("load_categories", "分类表.json", "bad_args") in log
            assert log.count(("load_categories", "分类表.json", "ok")) == 2  # check, load
        finally:
            await stop_all(link, window)
            await running.server.stop()

    run_in_qt(qapp, qtbot, scenario)


def test_a_city_admins_tab_shows_and_names_its_units_district() -> None:
    from desktop.ui.desk.categories_tab import own_table, table_district
    from protocol.entities import Category, Reference

    def category(district: str) -> Category:
        limits = {"accept": CategoryLimit(amount=1, unit="hour")}
        return Category(
            code="01-02", name="暴露垃圾", cls="市容环境", standard="", priority=3,
            limits=limits, district=district,
        )  # fmt: skip

    def units(district: str, *marks: str, districts: dict[str, str] | None = None) -> Reference:
        return Reference(
            district=district, district_name="", outline=[], streets=[], communities=[],
            grids=[], departments=[], cameras=[], categories=[category(m) for m in marks],
            districts=districts or {},
        )  # fmt: skip

    # One district's table (a store of one, or a district admin's units): nothing named.
    assert table_district(units("340803", "")) == ""
    assert table_district(units("340802", "340802")) == ""
    assert table_district(None) == ""
    assert [c.district for c in own_table(units("340802", "340802"))] == ["340802"]
    # A city admin's units hold both (named after the city, the districts listed): the tab
    # shows the first's, and names it.
    city = units("340800", "340803", "340802", districts={"340803": "大观区", "340802": "迎江区"})
    assert table_district(city) == "340803"
    assert [c.district for c in own_table(city)] == ["340803"]
    assert [c.district for c in own_table(city, "340802")] == ["340802"]


def test_a_city_admin_picks_the_district_whose_table_the_tab_shows(qtbot) -> None:  # type: ignore[no-untyped-def]
    from desktop.core.replica import Replica
    from desktop.ui.desk.categories_tab import CategoriesTab
    from protocol.entities import Category, Reference
    from protocol.messages import Units

    def category(code: str, name: str, district: str) -> Category:
        limits = {"accept": CategoryLimit(amount=1, unit="hour")}
        return Category(
            code=code, name=name, cls="市容环境", standard="", priority=3, limits=limits,
            district=district,
        )  # fmt: skip

    replica = Replica()
    reference = Reference(
        district="340800", district_name="安庆市", outline=[], streets=[], communities=[],
        grids=[], departments=[], cameras=[],
        categories=[
            category("01-02", "暴露垃圾", "340803"), category("09-01", "江堤巡查", "340802")
        ],
        districts={"340803": "大观区", "340802": "迎江区"},
    )  # fmt: skip
    replica.apply(Units(version="v", reference=reference))
    tab = CategoriesTab(replica, lambda: None)
    qtbot.addWidget(tab)
    tab.show()
    tab.show_table()
    picker = tab.district_picker
    assert picker.isVisible() and [picker.itemText(i) for i in range(2)] == ["大观区", "迎江区"]
    assert list(tab.categories) == ["01-02"] and tab.district() == "340803"
    picker.setCurrentIndex(1)
    assert list(tab.categories) == ["09-01"] and tab.district() == "340802"
