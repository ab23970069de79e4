"""管理 · 事项分类: the category table (立案结案标准) the backend works to: each category's class,
time limits per stage and how they run, priority and usual department. An admin changes a
category's limits or department, adds a category, or loads a whole table file; the backend
checks each with the table's own validation (protocol set_category, load_categories) and
sends the new table to every client, whose new cases' deadlines follow it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.actions import own_departments
from desktop.core.admin_tables import (
    CODE,
    STAGES,
    URGENT_PRIORITY,
    LimitProblemKind,
    classes_of,
    limit_problem,
    limit_text,
    pack_table,
)
from desktop.core.refusals import TableProblem, table_refusal
from desktop.core.replica import Changes, Replica
from desktop.i18n import QT_TRANSLATE_NOOP
from desktop.ui.desk.district_picker import show_districts
from desktop.ui.desk.table_keys import KEY_ROLE, select_key, selected_key
from desktop.ui.desk.texts import tr
from desktop.ui.models import PRIORITY_TEXT, text
from protocol.codes import ErrorCode
from protocol.entities import Category, CategoryLimit, Reference
from protocol.messages import Error, Result
from widgets.action_bar import ActionBar, ActionButton
from widgets.action_form import ActionForm, FieldSpec

log = logging.getLogger("desktop.ui.desk")

_CODE = KEY_ROLE
COLUMNS = (
    QT_TRANSLATE_NOOP("Desk", "编码"),
    QT_TRANSLATE_NOOP("Desk", "大类"),
    QT_TRANSLATE_NOOP("Desk", "名称"),
    QT_TRANSLATE_NOOP("Desk", "受理"),
    QT_TRANSLATE_NOOP("Desk", "派遣"),
    QT_TRANSLATE_NOOP("Desk", "处置"),
    QT_TRANSLATE_NOOP("Desk", "核查"),
    QT_TRANSLATE_NOOP("Desk", "计时"),
    QT_TRANSLATE_NOOP("Desk", "紧急程度"),
    QT_TRANSLATE_NOOP("Desk", "责任部门"),
    QT_TRANSLATE_NOOP("Desk", "立案结案标准"),
)
STAGE_TEXT = {
    "accept": QT_TRANSLATE_NOOP("Desk", "受理时限"),
    "dispatch": QT_TRANSLATE_NOOP("Desk", "派遣时限"),
    "handle": QT_TRANSLATE_NOOP("Desk", "处置时限"),
    "verify": QT_TRANSLATE_NOOP("Desk", "核查时限"),
}
BASIS_TEXT = {
    "working": QT_TRANSLATE_NOOP("Desk", "工作时间"),
    "natural": QT_TRANSLATE_NOOP("Desk", "自然时间"),
}
# The table's fields as the backend's messages name them, in the installed language.
FIELD_TEXT = {
    "code": QT_TRANSLATE_NOOP("Desk", "编码"),
    "name": QT_TRANSLATE_NOOP("Desk", "名称"),
    "standard": QT_TRANSLATE_NOOP("Desk", "结案标准"),
    "priority": QT_TRANSLATE_NOOP("Desk", "紧急程度"),
    "basis": QT_TRANSLATE_NOOP("Desk", "计时方式"),
    "department": QT_TRANSLATE_NOOP("Desk", "责任部门"),
    "limits": QT_TRANSLATE_NOOP("Desk", "时限"),
    "cls": QT_TRANSLATE_NOOP("Desk", "大类"),
    "classes": QT_TRANSLATE_NOOP("Desk", "大类"),
    "category": QT_TRANSLATE_NOOP("Desk", "对应分类"),
    "sources": QT_TRANSLATE_NOOP("Desk", "来源渠道"),
    "weight": QT_TRANSLATE_NOOP("Desk", "权重"),
    **{f"limits.{stage}": text for stage, text in STAGE_TEXT.items()},
}
# Problems shown of a refused table; the rest are counted.
PROBLEMS_SHOWN = 8


class CategoryRequests(Protocol):
    """Where the tab's requests go (desktop.core.link.SessionThread)."""

    async def set_category(self, fields: dict[str, Any]) -> Result | Error:
        """Add or replace a category."""
        ...

    async def load_categories(
        self, file: str, content: str, check: bool = False, *, district: str = ""
    ) -> Result | Error:
        """Load (or only check) a whole table file (`district`: whose table, in a city)."""
        ...


class CategoriesTab(QWidget):
    """The table, filtered as typed; forms to change a category, add one, load a file."""

    def __init__(
        self,
        replica: Replica,
        requests: Callable[[], CategoryRequests | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.replica = replica
        self._requests = requests
        self._op: str | None = None  # the open form's: "edit", "add" or "load"
        self._code = ""  # the category being changed
        self._path = ""  # the table file chosen
        self._file: tuple[str, str] | None = None  # (name, packed content) checked, to load
        self._acting: asyncio.Task[None] | None = None
        self._dirty = True
        self._counts = ""  # the table counted
        self._said = ""  # what was just done
        self.categories: dict[str, Category] = {}

        title = QLabel(tr("事项分类（立案结案标准）"), self)
        title.setObjectName("sectionTitle")
        self.status = QLabel(self)
        self.status.setObjectName("mutedLine")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.filter = QLineEdit(self)
        self.filter.setObjectName("adminCategoryFilter")
        self.filter.setPlaceholderText(tr("筛选：编码、名称、大类或部门（Ctrl+F）"))
        self.filter.setClearButtonEnabled(True)
        self.filter.setMinimumWidth(340)
        self.filter.textChanged.connect(self._apply_filter)
        find = QShortcut(QKeySequence("Ctrl+F"), self)
        find.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.activated.connect(lambda: self.filter.setFocus(Qt.FocusReason.ShortcutFocusReason))
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("adminCategories")
        self.table.setHorizontalHeaderLabels([tr(c) for c in COLUMNS])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
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
        # A city's admin picks the district whose table the tab shows and changes.
        self.district_picker = QComboBox(self)
        self.district_picker.setObjectName("categoryDistrict")
        self.district_picker.hide()
        self.district_picker.currentIndexChanged.connect(self._district_changed)
        heading = QHBoxLayout()
        heading.addWidget(title)
        heading.addWidget(self.district_picker)
        heading.addWidget(self.status, 1)
        heading.addWidget(self.filter)
        left = QVBoxLayout()
        left.addLayout(heading)
        left.addWidget(self.table, 1)
        left.addWidget(self.action_bar)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addWidget(side_panel)
        self._offer_actions()

    # ---- the table ----------------------------------------------------------------------------

    def apply(self, changes: Changes) -> None:
        """The table changed (an admin's change reached every client), or the units came."""
        if changes.categories or changes.units or changes.reset:
            self._dirty = True
        if self._dirty and self.isVisible():
            self.show_table()

    def showEvent(self, event: Any) -> None:
        """Catch up when shown."""
        super().showEvent(event)
        if self._dirty:
            self.show_table()

    def district(self) -> str:
        """The district whose table the tab shows: the one picked of a city's (its units
        list several), "" when the units hold one district's (the backend takes the
        admin's own)."""
        units = self.replica.units
        return show_districts(self.district_picker, units.districts if units is not None else {})

    def _district_changed(self, _index: int) -> None:
        self.close_form()
        self._dirty = True
        if self.isVisible():
            self.show_table()

    def show_table(self) -> None:
        """Fill the table from the units (the selection stays on its code)."""
        self._dirty = False
        units = self.replica.units
        # A city's admin holds every district's table: the tab shows (and changes) the one
        # of the district picked, the city's first at the start.
        categories = own_table(units, self.district()) if units is not None else []
        names = {d.code: d.name for d in units.departments} if units is not None else {}
        chosen = self.selected_code()
        self.categories = {c.code: c for c in categories}
        self.table.setRowCount(len(categories))
        for row, category in enumerate(categories):
            cells = (
                category.code,
                category.cls,
                category.name,
                *(limit_words(category.limits.get(stage)) for stage in STAGES),
                tr(BASIS_TEXT.get(category.basis, category.basis)),
                text(PRIORITY_TEXT, category.priority),
                names.get(category.department, category.department),
                category.standard,
            )
            for column, cell in enumerate(cells):
                item = QTableWidgetItem(cell)
                item.setData(_CODE, category.code)
                if column in (2, len(COLUMNS) - 1):
                    item.setToolTip(category.standard)
                self.table.setItem(row, column, item)
            if category.code == chosen:
                self.table.selectRow(row)
        if chosen is None and categories:
            self.table.selectRow(0)
        self._apply_filter()
        self._counts = (
            tr("共 %1 个大类、%2 项")
            .replace("%1", str(len(classes_of(categories))))
            .replace("%2", str(len(categories)))
        )
        self._show_status()
        self._offer_actions()

    def say(self, text: str) -> None:
        """What was just done, beside the counts (until the next)."""
        self._said = text
        self._show_status()

    def _show_status(self) -> None:
        self.status.setText(" · ".join(t for t in (self._counts, self._said) if t))

    def _apply_filter(self) -> None:
        words = self.filter.text().strip().lower()
        for row in range(self.table.rowCount()):
            cells = [self.table.item(row, c) for c in (0, 1, 2, 9)]
            shown = not words or any(
                item is not None and words in item.text().lower() for item in cells
            )
            self.table.setRowHidden(row, not shown)

    def selected_code(self) -> str | None:
        """The code of the category whose row is selected, if any."""
        return selected_key(self.table)

    def select_code(self, code: str) -> bool:
        """Select a category's row; whether it is listed."""
        return select_key(self.table, code)

    def row_texts(self, code: str) -> list[str]:
        """The texts of a category's row, as shown."""
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and item.data(_CODE) == code:
                cells = (self.table.item(row, c) for c in range(self.table.columnCount()))
                return [cell.text() if cell is not None else "" for cell in cells]
        raise KeyError(code)

    def _offer_actions(self) -> None:
        chosen = self.selected_code() is not None
        self.action_bar.set_actions(
            [
                ActionButton("edit", tr("修改"), "E", "primary", chosen, tr("先选择一项分类")),
                ActionButton("add", tr("新增分类"), "N"),
                ActionButton("load", tr("载入分类表文件"), "Ctrl+O"),
            ]
        )

    # ---- the forms ----------------------------------------------------------------------------

    def open_form(self, key: str) -> None:
        """The change form of the selected category, the new one's, or a file to load."""
        if self._acting is not None and not self._acting.done():
            return
        if key == "load":
            self.choose_file()
            return
        units = self.replica.units
        if units is None:
            return
        category = self.categories.get(self.selected_code() or "")
        if key == "edit" and category is None:
            return
        home = self.district() or units.district
        departments = [(d.code, d.name) for d in own_departments(units, home)]
        fields = category_fields(category if key == "edit" else None, departments)
        hint = tr(
            "时限写法：h 小时、m 分钟、d 天（如 4h、30m、3d）；按工作时间计时每个工作日 7 小时。"
            "新时限对此后登记的案件生效"
        )
        if key == "edit" and category is not None:
            self._op, self._code = "edit", category.code
            title = tr("修改分类 · %1 %2").replace("%1", category.code).replace("%2", category.name)
            self.form.set_action(title, fields, tr("保存"), hint)
        elif key == "add":
            self._op, self._code = "add", ""
            head = [
                FieldSpec(
                    "code",
                    tr("编码"),
                    "text",
                    required=True,
                    max_length=5,
                    placeholder=tr("大类-序号，如 01-99"),
                ),
                FieldSpec("cls", tr("大类名称（新大类时填写）"), "text", max_length=50),
            ]
            self.form.set_action(tr("新增分类"), [*head, *fields], tr("新增"), hint)
        else:
            return
        self.form.show()
        self.form.focus_first()

    def close_form(self) -> None:
        """Put the form away (the keyboard back on the table if it was in the form)."""
        self._op, self._code, self._file = None, "", None
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
        if self._op == "load":
            if self._file is None:  # the check was refused: read the file and check it again
                self.load_file(self._path)
                return
            name, content = self._file
            self.form.set_pending(tr("正在载入…"))
            self._acting = asyncio.ensure_future(self._load(requests, name, content))
            return
        fields = self._fields(values)
        problem = self._problem(fields)
        if problem:
            self.form.set_refused(problem)
            return
        self.form.set_pending(tr("正在保存…"))
        self._acting = asyncio.ensure_future(self._save(requests, fields))

    def _fields(self, values: dict[str, Any]) -> dict[str, Any]:
        """A set_category's fields from the form."""
        code = self._code if self._op == "edit" else str(values.get("code") or "")
        fields: dict[str, Any] = {
            "code": code,
            "name": str(values["name"]),
            "standard": str(values["standard"]),
            "priority": int(str(values["priority"])),
            "department": str(values["department"]),
            "basis": str(values["basis"]),
            "limits": {stage: str(values[stage]).strip().lower() for stage in STAGES},
        }
        cls = str(values.get("cls") or "")
        if cls:
            fields["cls"] = cls
        district = self.district()
        if district:
            fields["district"] = district
        return fields

    def _problem(self, fields: dict[str, Any]) -> str:
        """What the backend would refuse about a category, said before asking it."""
        code = fields["code"]
        if self._op == "add":
            if not CODE.match(code):
                return tr("编码须为“大类-序号”，如 01-99")
            if code in self.categories:
                return (
                    tr("编码 %1 已有（%2），请选中后修改")
                    .replace("%1", code)
                    .replace("%2", self.categories[code].name)
                )
            classes = classes_of(list(self.categories.values()))
            if code[:2] not in classes and "cls" not in fields:
                return tr("大类 %1 尚无，请填写大类名称").replace("%1", code[:2])
            if code[:2] in classes and fields.get("cls", classes[code[:2]]) != classes[code[:2]]:
                return (
                    tr("大类 %1 名为“%2”").replace("%1", code[:2]).replace("%2", classes[code[:2]])
                )
        if fields["priority"] <= URGENT_PRIORITY and fields["basis"] == "working":
            return tr("特急、紧急事项须按自然时间计时")
        for stage in STAGES:
            kind = limit_problem(fields["limits"][stage], fields["basis"])
            if kind is not None:
                return limit_problem_text(tr(STAGE_TEXT[stage]), fields["limits"][stage], kind)
        return ""

    async def _save(self, requests: CategoryRequests, fields: dict[str, Any]) -> None:
        try:
            answer = await requests.set_category(fields)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.info("set_category: %s", exc)
            self.form.set_refused(tr("连接中断，不能确定是否已保存；请稍候核对表中时限"))
            return
        if isinstance(answer, Error):
            self.form.set_refused(tr("未保存：%1").replace("%1", refusal_text(answer)))
            return
        self.close_form()
        done = tr("已保存 %1 %2：新时限对此后登记的案件生效")
        self.say(done.replace("%1", fields["code"]).replace("%2", fields["name"]))
        self.select_code(fields["code"])

    # ---- a table file -------------------------------------------------------------------------

    def choose_file(self) -> None:
        """Ask for a table file (the dialog does not hold up the desk)."""
        dialog = QFileDialog(self, tr("选择分类表文件"), "", tr("分类表 (*.json)"))
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        dialog.fileSelected.connect(self.load_file)
        dialog.open()

    def load_file(self, path: str) -> None:
        """Read a table file and have the backend check it; the form then says what loading
        it would change, and Enter loads it."""
        requests = self._requests()
        if requests is None or (self._acting is not None and not self._acting.done()):
            return
        self._op, self._code, self._file, self._path = "load", "", None, path
        name = Path(path).name
        self.form.set_action(tr("载入分类表 · %1").replace("%1", name), [], tr("载入"))
        self.form.show()
        self.form.set_pending(tr("正在检查…"))
        self._acting = asyncio.ensure_future(self._check(requests, path, name))

    async def _check(self, requests: CategoryRequests, path: str, name: str) -> None:
        try:
            data = await asyncio.to_thread(Path(path).read_bytes)
        except OSError as exc:
            self.form.set_refused(tr("无法读取文件：%1").replace("%1", exc.strerror or str(exc)))
            return
        content = pack_table(data)
        try:
            district = self.district()
            if district:
                answer = await requests.load_categories(name, content, True, district=district)
            else:
                answer = await requests.load_categories(name, content, True)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.info("load_categories (check): %s", exc)
            self.form.set_refused(tr("连接中断，未载入"))
            return
        if isinstance(answer, Error):
            self.form.set_refused(
                tr("文件未通过检查，未作任何更改：\n%1").replace("%1", refusal_text(answer))
            )
            return
        self._file = (name, content)
        hint = tr("检查通过：%1。按 Enter 载入，Esc 取消").replace("%1", change_words(answer.data))
        title = tr("载入分类表 · %1").replace("%1", name)
        self.form.set_action(title, [], tr("载入"), hint + unmapped_words(answer.data))

    async def _load(self, requests: CategoryRequests, name: str, content: str) -> None:
        try:
            district = self.district()
            if district:
                answer = await requests.load_categories(name, content, district=district)
            else:
                answer = await requests.load_categories(name, content)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.info("load_categories: %s", exc)
            self.form.set_refused(tr("连接中断，不能确定是否已载入；请稍候核对分类表"))
            return
        if isinstance(answer, Error):
            self.form.set_refused(tr("未载入：%1").replace("%1", refusal_text(answer)))
            return
        self.close_form()
        self.say(tr("已载入 %1：%2").replace("%1", name).replace("%2", change_words(answer.data)))


def table_district(units: Reference | None) -> str:
    """The district a change names when the units hold several districts' tables (a city's
    admin: `districts` lists them): the first listed, whose table the tab shows; "" when they
    hold one district's (the backend takes the admin's own)."""
    if units is None or not units.districts:
        return ""
    return next(iter(units.districts))


def own_table(units: Reference, district: str = "") -> list[Category]:
    """The categories of one district of a city's units (default: the first), all of them
    in a one-district store's."""
    district = district or table_district(units) or units.district
    return [c for c in units.categories if (c.district or units.district) == district]


def category_fields(
    category: Category | None, departments: list[tuple[str, str]]
) -> list[FieldSpec]:
    """The fields of a category's form, holding its values (a new one's: the usual ones)."""
    limits = category.limits if category is not None else {}
    return [
        FieldSpec(
            "name",
            tr("名称"),
            "text",
            required=True,
            max_length=100,
            default=category.name if category is not None else None,
        ),
        FieldSpec(
            "department",
            tr("责任部门"),
            "choice",
            required=True,
            choices=departments,
            default=category.department if category is not None else None,
        ),
        FieldSpec(
            "priority",
            tr("紧急程度"),
            "choice",
            required=True,
            choices=[(str(p), text(PRIORITY_TEXT, p)) for p in (1, 2, 3, 4)],
            default=str(category.priority) if category is not None else "3",
        ),
        FieldSpec(
            "basis",
            tr("计时方式"),
            "choice",
            required=True,
            choices=[(b, tr(t)) for b, t in BASIS_TEXT.items()],
            default=category.basis if category is not None else "working",
        ),
        *(
            FieldSpec(
                stage,
                tr(STAGE_TEXT[stage]),
                "text",
                required=True,
                max_length=12,
                placeholder=tr("如 4h、30m、3d"),
                default=limit_text(limits[stage]) if stage in limits else None,
            )
            for stage in STAGES
        ),
        FieldSpec(
            "standard",
            tr("立案结案标准"),
            "note",
            required=True,
            max_length=2000,
            default=category.standard if category is not None else None,
        ),
    ]


def limit_words(limit: CategoryLimit | None) -> str:
    """A limit in words: 4 小时, 30 分钟, 3 天."""
    if limit is None:
        return ""
    if limit.unit == "day":
        return tr("%1 天").replace("%1", f"{limit.amount:g}")
    if limit.amount < 1:
        return tr("%1 分钟").replace("%1", f"{limit.amount * 60:g}")
    return tr("%1 小时").replace("%1", f"{limit.amount:g}")


def limit_problem_text(field: str, value: str, kind: LimitProblemKind) -> str:
    """What is wrong with a limit, in the installed language."""
    if kind == "too_long":
        return tr("%1“%2”超过一年（长期案件请挂账）").replace("%1", field).replace("%2", value)
    if kind == "half_day":
        return (
            tr("%1“%2”：按工作时间计时须为整数天，或改用小时（每个工作日 7 小时）")
            .replace("%1", field)
            .replace("%2", value)
        )
    return tr("%1“%2”写法不对，应如 4h、0.5h、30m、3d").replace("%1", field).replace("%2", value)


def change_words(data: dict[str, Any]) -> str:
    """A table change counted: 新增 1 项、修改 2 项、删除 0 项."""
    return (
        tr("新增 %1 项、修改 %2 项、删除 %3 项")
        .replace("%1", str(len(data.get("added", []))))
        .replace("%2", str(len(data.get("changed", []))))
        .replace("%3", str(len(data.get("removed", []))))
    )


def unmapped_words(data: dict[str, Any]) -> str:
    """The warning about camera detections the table no longer maps, if any."""
    unmapped = data.get("unmapped") or []
    if not unmapped:
        return ""
    return "\n" + tr("注意：以下视频识别类型没有对应分类，确认告警时须手选分类：%1").replace(
        "%1", "、".join(str(u) for u in unmapped)
    )


def problem_words(problem: TableProblem) -> str:
    """One problem of a refused table, in the installed language."""
    where = problem.where
    if where.startswith("camera kind "):
        where = tr("识别类型 %1").replace("%1", where.removeprefix("camera kind "))
    field = tr(FIELD_TEXT[problem.field]) if problem.field in FIELD_TEXT else problem.field
    head = f"{where} {field}：" if where else ""
    value = problem.value
    words = {
        "bad_limit": tr("“%1”写法不对，应如 4h、0.5h、30m、3d"),
        "too_long": tr("“%1”超过一年"),
        "half_day": tr("“%1”：按工作时间计时须为整数天"),
        "unknown_department": tr("没有部门“%1”"),
        "no_department": tr("未填写"),
        "empty": tr("未填写"),
        "priority_range": tr("“%1”须为 1 到 4"),
        "urgent_working": tr("紧急程度 %1 须按自然时间计时"),
        "bad_basis": tr("“%1”须为工作时间或自然时间"),
        "missing_limits": tr("缺少 %1 的时限"),
        "unknown_stage": tr("没有这一环节"),
        "duplicate": tr("重复"),
        "bad_code": tr("编码写法不对，应如 01-02"),
        "unknown_class": tr("没有大类 %1"),
        "unknown_category": tr("对应的分类 %1 不在表中"),
        "class_name": tr("大类 %1 已有名称；改名须载入分类表"),
        "not_json": tr("文件不是有效的 JSON"),
    }
    template = words.get(problem.kind)
    if template is None:
        return problem.detail
    return head + template.replace("%1", value)


def refusal_text(error: Error) -> str:
    """Why the backend refused a category change, in plain words."""
    if error.code == ErrorCode.FORBIDDEN:
        return tr("无权执行（已记录）")
    if error.code == ErrorCode.RATE_LIMITED:
        return tr("服务暂时繁忙，请稍后重试")
    if error.code != ErrorCode.BAD_ARGS:
        return error.message
    refusal = table_refusal(error.message)
    if refusal.in_use is not None:
        used = "、".join(
            tr("%1（%2 件）").replace("%1", code).replace("%2", str(n))
            for code, n in sorted(refusal.in_use.items())
        )
        return tr("已有案件使用表中删去的分类：%1。未作任何更改，请在表中保留这些分类").replace(
            "%1", used
        )
    lines = [problem_words(p) for p in refusal.problems[:PROBLEMS_SHOWN]]
    more = refusal.more + max(0, len(refusal.problems) - PROBLEMS_SHOWN)
    if more:
        lines.append(tr("另有 %1 处问题").replace("%1", str(more)))
    return "\n".join(lines)
