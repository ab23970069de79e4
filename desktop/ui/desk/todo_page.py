"""我的待办: my tabs with counts, a search and filters, the list, and the case in hand."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.core.case_list import Filters, Order
from desktop.core.replica import Changes, Replica
from desktop.core.todo import ANNOUNCED, TABS, TabKey, TodoBook
from desktop.ui.desk.case_pane import CasePane
from desktop.ui.desk.texts import tab_text
from desktop.ui.desk.todo_model import TodoModel
from widgets.text_table import TextTable
from widgets.todo_tabs import TodoTabs

SHOW_AFTER_MS = 60  # the case pane follows the current row once it stays this long


class TodoPage(QWidget):
    """The to-do list and the case pane beside it."""

    newForMe = Signal(list)  # ids of cases that just arrived in my to-do

    def __init__(
        self,
        replica: Replica,
        book: TodoBook,
        pane: CasePane,
        clock: Callable[[], float],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.replica = replica
        self.book = book
        self.pane = pane
        self._clock = clock
        self.model = TodoModel(replica, book, clock, self)
        self.tabs = TodoTabs(self)
        self.search = QLineEdit(self)
        self.search.setObjectName("todoSearch")
        self.search.setPlaceholderText(self.tr("搜索编号、地址、内容（Ctrl+F）"))
        self.search.setClearButtonEnabled(True)
        self.overdue_only = QCheckBox(self.tr("只看超期"), self)
        self.urgent_only = QCheckBox(self.tr("只看紧急"), self)
        self.street = QComboBox(self)
        self.order = QComboBox(self)
        for key, label in (
            ("deadline", self.tr("按时限")),
            ("newest", self.tr("按上报时间")),
            ("priority", self.tr("按紧急程度")),
        ):
            self.order.addItem(label, key)
        self.count = QLabel(self)
        self.count.setObjectName("todoCount")
        self.count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        # Painted row by row from prepared texts: a QTableView's own painting (a dozen roles
        # and a text layout per cell) took 35 ms a repaint at 1080p, and the list repaints
        # with every page down and every frame that changes its rows.
        self.table = TextTable(self.model.row_cells, self)
        self.table.setObjectName("todoTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(30)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        # The time column holds the longest countdown: 超时23时59分.
        widths = (64, 170, 90, 116, 72, 110, 220, 220, 64)
        for index, width in enumerate(widths):
            header.resizeSection(index, width)
        header.setSectionResizeMode(
            self.model.COLUMNS.index("title"), QHeaderView.ResizeMode.Stretch
        )

        filters = QHBoxLayout()
        filters.addWidget(self.search, 1)
        filters.addWidget(self.overdue_only)
        filters.addWidget(self.urgent_only)
        filters.addWidget(self.street)
        filters.addWidget(self.order)
        filters.addWidget(self.count)
        # Room for the longest count in this language, whatever the numbers: it is never
        # cut at the pane's edge, and the filters do not move as it changes.
        self.count.ensurePolished()
        widest = self.tr("%1 / %2 件").replace("%1", "9999").replace("%2", "9999")
        margins = self.count.contentsMargins()
        self.count.setMinimumWidth(
            self.count.fontMetrics().horizontalAdvance(widest) + margins.left() + margins.right()
        )
        left = QWidget(self)
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.tabs)
        column.addLayout(filters)
        column.addWidget(self.table, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(pane)
        splitter.setStretchFactor(0, 11)
        splitter.setStretchFactor(1, 9)
        splitter.setSizes([1100, 900])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self.tabs.currentKeyChanged.connect(self._tab_changed)
        self.order.currentIndexChanged.connect(lambda _: self._view_changed())
        self.street.currentIndexChanged.connect(lambda _: self._view_changed())
        self.overdue_only.toggled.connect(lambda _: self._view_changed())
        self.urgent_only.toggled.connect(lambda _: self._view_changed())
        # A search runs once typing pauses, not on every key.
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(150)
        self._search_timer.timeout.connect(self._view_changed)
        self.search.textChanged.connect(lambda _: self._search_timer.start())
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        self.table.activated.connect(lambda _: self.pane.open_main())
        QShortcut(QKeySequence("Ctrl+F"), self, self._focus_search)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self.search, self._leave_search)
        self._tab_keys: tuple[TabKey, ...] = ()
        self._chosen = False  # the case in hand was taken by the user (not picked by the desk)
        self._showing: int | None = None  # the row's case the pane is to show
        self._show_timer = QTimer(self)
        self._show_timer.setSingleShot(True)
        self._show_timer.setInterval(SHOW_AFTER_MS)
        self._show_timer.timeout.connect(self._show_chosen)
        self.pane.formOpened.connect(self._acted_on)

    # ---- what the user chose ----------------------------------------------------------------

    def _focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _leave_search(self) -> None:
        self.search.clear()
        self.table.setFocus()

    def filters(self) -> Filters:
        """The search and filters as set."""
        return Filters(
            text=self.search.text(),
            overdue_only=self.overdue_only.isChecked(),
            urgent_only=self.urgent_only.isChecked(),
            street=str(self.street.currentData() or ""),
        )

    def _tab_changed(self, key: str) -> None:
        tab = key if key in self._tab_keys else None
        self.model.set_view(tab, self.filters())
        self._after_rebuild()

    def _view_changed(self) -> None:
        order: Order = self.order.currentData() or "deadline"
        self.model.set_view(self.model.tab, self.filters(), order)
        self._after_rebuild()

    def _after_rebuild(self) -> None:
        self._show_count()
        self._keep_selection(scroll=True)

    def in_hand(self) -> int | None:
        """The case in hand: the one the pane shows, or is about to (the keys paused)."""
        if self._show_timer.isActive() and self._showing is not None:
            return self._showing
        return self.pane.event_id

    def _keep_selection(self, *, scroll: bool = False) -> None:
        """After the rows changed (a case moved, a new order, a filter): highlight the case in
        hand's row, wherever it is now, and no other (none when it left the list).

        The view moves its current row by itself when rows go (Qt selects the next one), and
        a reset clears it: the highlight is put back by the case's id, never by position. A
        case the user took stays in hand when its row goes (after an action on it); one the
        desk picked by itself (nothing taken yet) is replaced by the top of the list.
        """
        event_id = self.in_hand()
        rows = self.model.rows
        if not self._chosen and (event_id is None or event_id not in rows) and len(rows):
            event_id = self.model.id_at(0)
            self._show_timer.stop()
            self._showing = event_id
            self.pane.show_case(event_id)
        self._highlight(event_id, scroll=scroll)

    def _highlight(self, event_id: int | None, *, scroll: bool = False) -> None:
        """Select the row of `event_id` (none if it is not listed), quietly: this follows
        the case in hand, it does not choose one."""
        row = self.model.rows.row_of(event_id) if event_id is not None else None
        selection = self.table.selectionModel()
        selection.blockSignals(True)
        try:
            if row is None:
                selection.clear()
            else:
                selection.setCurrentIndex(
                    self.model.index(row, 0),
                    QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows,
                )
        finally:
            selection.blockSignals(False)
        self.table.viewport().update()
        if scroll and row is not None:
            self.table.scrollTo(self.model.index(row, 0))

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self.model.changing:
            return  # the view moves its current row while rows go: not the user's choice
        event_id = self.model.id_at(current.row()) if current.isValid() else None
        if event_id is not None:
            self._chosen = True  # a click or a key
            # The pane follows once the keys pause: paging through a list redraws the list
            # at every step, the case (its card, its history request) only where one stops.
            self._showing = event_id
            self._show_timer.start()

    def _show_chosen(self) -> None:
        if self._showing is not None and self._showing != self.pane.event_id:
            self.pane.show_case(self._showing)

    def _acted_on(self, event_id: int) -> None:
        """An action's form opened on the case in hand: the user has taken it (it stays in
        hand when the action moves it out of the list)."""
        if event_id == self.pane.event_id:
            self._chosen = True

    def select_case(self, event_id: int) -> bool:
        """Show a case: in the current tab if it is there, else in the first tab it is in."""
        tabs = self.book.tabs.get(event_id, frozenset())
        self._chosen = True
        self._show_timer.stop()
        self._showing = event_id
        self.pane.show_case(event_id)
        if self.model.tab not in tabs:
            for key in self._tab_keys:
                if key in tabs:
                    self.tabs.set_current_key(key)  # its refill highlights the case
                    break
        self._highlight(event_id, scroll=True)
        return event_id in self.model.rows

    # ---- the data ---------------------------------------------------------------------------

    def set_units(self) -> None:
        """The user is known (welcome) and the units arrived: tabs and the street filter."""
        self._tab_keys = TABS.get(self.book.me.role, ())
        self.street.blockSignals(True)
        self.street.clear()
        self.street.addItem(self.tr("全部街道"), "")
        units = self.replica.units
        if units is not None and len(units.streets) > 1:
            for street in units.streets:
                self.street.addItem(street.name, street.code)
        self.street.setVisible(self.street.count() > 2)
        self.street.blockSignals(False)
        self._show_tabs()

    def apply(self, changes: Changes) -> None:
        """A frame's changes: re-file the changed cases, update the rows and the counts."""
        now = self._clock()
        book = self.book
        if changes.reset or changes.units:
            # A snapshot (a start, a reconnect) brings what was there: nothing rings.
            book.reset(self.replica.events.values(), now)
            self.model.rebuild()
            self._after_rebuild()
        else:
            entered = []
            for event_id in changes.events:
                was_mine = event_id in book.tabs
                book.update(event_id, self.replica.events.get(event_id), now)
                if not was_mine and event_id in book.tabs:
                    entered.append(event_id)
            self._announce(entered)
            self.model.apply(changes.events | changes.risks)
            if changes.categories:  # the rows' category names (an admin changed the table)
                self.model.rebuild()
            self._keep_selection()
        self._show_tabs()
        if self.pane.event_id is not None and (
            changes.reset
            or self.pane.event_id in changes.events
            or self.pane.event_id in changes.risks  # its risk and why are on the card
        ):
            self.pane.refresh()
        if changes.people:  # who did what, by the names people know
            self.pane.sheet.redraw_timeline()

    def every_second(self) -> None:
        """The clock moved: late cases change tabs, countdowns tick."""
        moved = self.book.tick(self.replica.events, self._clock())
        if moved:
            self.model.apply(moved)
            self._keep_selection()
            self._show_tabs()
        self.model.tick()
        if self.pane.event_id is not None:
            self.pane.refresh()

    def _announce(self, ids: Iterable[int]) -> None:
        if not ANNOUNCED.get(self.book.me.role, False):
            return  # not a case handler (an admin): nothing is news to this desk
        fresh = [i for i in ids if i in self.book.tabs and "overdue" not in self.book.tabs[i]]
        if fresh:
            self.newForMe.emit(fresh)

    def _show_tabs(self) -> None:
        self.tabs.set_tabs([(k, tab_text(k), self.book.count(k)) for k in self._tab_keys])
        if self.model.tab is None and self._tab_keys:
            self.tabs.set_current_key(self._tab_keys[0])
            self._tab_changed(self._tab_keys[0])
        self._show_count()

    def _show_count(self) -> None:
        shown = len(self.model.rows)
        total = self.book.count(self.model.tab) if self.model.tab else 0
        self.count.setText(
            self.tr("%1 件").replace("%1", str(shown))
            if shown == total
            else self.tr("%1 / %2 件").replace("%1", str(shown)).replace("%2", str(total))
        )
