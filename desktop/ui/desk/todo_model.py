"""The to-do list's Qt model: the rows of one tab, searched, filtered and ordered, announced
row by row as cases change (selection and scroll position stay where the user left them)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtGui import QColor

from desktop.core.case_list import (
    ORDERS,
    CaseList,
    Filters,
    KeptLists,
    Order,
    haystack,
    matcher,
    pick,
    sort_key,
)
from desktop.core.replica import Replica
from desktop.core.todo import TABS, TabKey, TodoBook, due_of
from desktop.ui.models import (
    AMBER,
    PRIORITY_COLOURS,
    PRIORITY_TEXT,
    RED,
    RISK,
    SOURCE_TEXT,
    STATUS_TEXT,
    countdown,
    risk_badge,
    text,
)
from protocol.entities import Event, is_overdue
from widgets.text_table import Cell

Index = QModelIndex | QPersistentModelIndex
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
ID_ROLE = int(Qt.ItemDataRole.UserRole) + 1
_ROLES = frozenset({_DISPLAY, _FOREGROUND, _ALIGN, _TOOLTIP, ID_ROLE})
_CENTRE = int(Qt.AlignmentFlag.AlignCenter)
_LEFT = int(Qt.AlignmentFlag.AlignLeft)


# Above this many changed cases a frame rebuilds the list (one reset, ~30 ms for 10,000 rows)
# instead of announcing each row (a 10,000-case deadline pass took 0.5 s row by row).
REBUILD_OVER = 1000
# The search's texts made per idle step (about 2 µs each).
WARM_PER_STEP = 2000
BUILD_EVERY_MS = 25  # one list (≤ 10 ms for 10,000 cases) or one part of the texts per step


class TodoModel(QAbstractTableModel):
    """One tab of my to-do list."""

    # What the list is worked by first (the state, the time left, the risk of missing it),
    # before what is read on the card anyway: a narrow list still shows the countdown.
    COLUMNS = ("priority", "code", "status", "due", "risk", "category", "title", "place", "source")
    _CENTRED = frozenset({"priority", "status", "risk", "due", "source"})

    def __init__(
        self, replica: Replica, book: TodoBook, clock: Callable[[], float], parent: Any = None
    ) -> None:
        super().__init__(parent)
        self.replica = replica
        self.book = book
        self._clock = clock
        self.rows = CaseList()
        self.kept = KeptLists()  # every tab in every order, sorted
        # After a snapshot the other tabs' and orders' lists are built while the desk idles.
        self._build_timer = QTimer(self)
        self._build_timer.setInterval(BUILD_EVERY_MS)
        self._build_timer.timeout.connect(self._build_step)
        self.tab: TabKey | None = None
        self.filters = Filters()
        self.order: Order = "deadline"
        # Each case's searched text, kept while the units' names stay the same object.
        self._haystacks: dict[int, tuple[Event, str]] = {}
        self._haystack_names: dict[str, str] | None = None
        self.changing = False  # rows are being announced: a view's current row moves by itself
        self.headers = {
            "priority": self.tr("紧急"),
            "code": self.tr("编号"),
            "category": self.tr("类别"),
            "title": self.tr("事项"),
            "place": self.tr("地点"),
            "status": self.tr("状态"),
            "risk": self.tr("风险"),
            "due": self.tr("剩余时限"),
            "source": self.tr("来源"),
        }

    # ---- what is shown ----------------------------------------------------------------------

    def set_view(
        self, tab: TabKey | None, filters: Filters | None = None, order: Order | None = None
    ) -> None:
        """Show another tab, search or order (one reset; the kept lists make it a lookup,
        a filter one pass over one of them)."""
        self.tab = tab
        if filters is not None:
            self.filters = filters
        if order is not None:
            self.order = order
        self.refill()

    def rebuild(self) -> None:
        """Work the rows out afresh (a snapshot: every kept list goes)."""
        self.kept.clear()
        self.refill()
        self._build_timer.start()

    def _build_step(self) -> None:
        if not self.build_kept():
            self._build_timer.stop()

    def refill(self) -> None:
        """Fill the rows from the view's kept list (one reset), filtered if a filter is set."""
        self.beginResetModel()
        tab = self.tab
        if tab is None:
            self.rows = CaseList()
        else:
            base = self.kept.get((tab, self.order), self.book.ids(tab), self.replica.events)
            if self._matcher(self._clock()) is None:
                self.rows = base  # shared: the kept list's own edits are this model's rows
            else:
                shown = pick(
                    base.ids,
                    self.replica.events,
                    self.filters,
                    self._clock(),
                    self._name,
                    self._haystacks,
                )
                self.rows = base.subset(shown)
        self.endResetModel()

    @property
    def filtered(self) -> bool:
        """Whether the rows are a search or filter's part of the tab (not the kept list)."""
        return self.tab is not None and self.rows is not self.kept.get_if((self.tab, self.order))

    def build_kept(self) -> bool:
        """Build one more kept list (tab and order) and warm a part of the search's texts,
        while the desk is idle; whether there is more to do."""
        wanted = [(t, o) for t in TABS.get(self.book.me.role, ()) for o in ORDERS]
        if self.kept.build_one(wanted, self.book.ids, self.replica.events):
            return True
        return self._warm_search(WARM_PER_STEP)

    def _warm_search(self, limit: int) -> bool:
        self._matcher(self._clock())  # drops the texts if the names changed
        kept, names = self._haystacks, self._name
        made = 0
        for event_id, event in self.replica.events.items():
            if event_id not in self.book.tabs:
                continue
            found = kept.get(event_id)
            if found is None or found[0] is not event:
                kept[event_id] = (event, haystack(event, names))
                made += 1
                if made >= limit:
                    return True
        return False

    def apply(self, ids: Collection[int]) -> None:
        """Bring these cases' rows up to date (after the book re-filed them); a great many at
        once (a snapshot's worth, a deadline passing for thousands) are one rebuild."""
        if len(ids) > REBUILD_OVER:
            self.rebuild()
            return
        self.changing = True
        try:
            self._apply(ids)
        finally:
            self.changing = False

    def _apply(self, ids: Iterable[int]) -> None:
        events = self.replica.events
        now = self._clock()
        tab = self.tab
        watched = (tab, self.order) if tab is not None else None
        filtered = self.filtered
        book_tabs = self.book.tabs
        for event_id in ids:
            event = events.get(event_id)
            tabs = book_tabs.get(event_id, ())
            edits = self.kept.update(event_id, event, tabs, None if filtered else watched)
            if filtered:
                show = event is not None and tab in tabs and self._shown(event, now)
                key = sort_key(event, self.order) if show and event is not None else None
                edits = self.rows.put(event_id, key)
            if not edits:
                row = self.rows.row_of(event_id)
                if row is not None:  # same place, new content
                    self.dataChanged.emit(
                        self.index(row, 0), self.index(row, len(self.COLUMNS) - 1)
                    )
                continue
            # The list has already made each edit; announce them in the same order.
            for edit in edits:
                if edit.kind == "remove":
                    self.beginRemoveRows(QModelIndex(), edit.row, edit.row)
                    self.endRemoveRows()
                else:
                    self.beginInsertRows(QModelIndex(), edit.row, edit.row)
                    self.endInsertRows()

    def _shown(self, event: Event, now: float) -> bool:
        shown = self._matcher(now)
        return shown is None or shown(event)

    def _matcher(self, now: float) -> Callable[[Event], bool] | None:
        names = self.replica.names()
        if names is not self._haystack_names or len(self._haystacks) > 2 * len(self.replica.events):
            self._haystacks, self._haystack_names = {}, names
        return matcher(self.filters, now, self._name, self._haystacks)

    def _name(self, code: str) -> str:
        return self.replica.names().get(code, "")

    def tick(self) -> None:
        """Repaint what the clock moves (once a second): status colour and countdown."""
        if len(self.rows):
            status, due = self.COLUMNS.index("status"), self.COLUMNS.index("due")
            self.dataChanged.emit(self.index(0, status), self.index(len(self.rows) - 1, due))

    def id_at(self, row: int) -> int | None:
        """The case shown in a row."""
        ids = self.rows.ids
        return ids[row] if 0 <= row < len(ids) else None

    # ---- Qt ---------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """Rows shown."""
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """Columns."""
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        """Column titles."""
        if (
            int(role) == _DISPLAY
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self.COLUMNS)
        ):
            return self.headers[self.COLUMNS[section]]
        return None

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        """Cell texts and colours, and the case id."""
        role = int(role)
        if role not in _ROLES or not index.isValid():
            return None
        event_id = self.id_at(index.row())
        event = self.replica.events.get(event_id) if event_id is not None else None
        if event is None:
            return None
        column = self.COLUMNS[index.column()]
        if role == ID_ROLE:
            return event.id
        if role == _ALIGN:
            return _CENTRE if column in self._CENTRED else None
        now = self._clock()
        if role == _FOREGROUND:
            return self._colour(event, column, now)
        if role == _TOOLTIP and column == "risk":  # why: the badge is not a black box
            risk = self.replica.shown_risk(event, now)
            return risk.why if risk is not None else None
        value = self._text(event, column, now)
        if role == _TOOLTIP:
            return value if column in ("title", "place") else None
        return value

    def row_cells(self, row: int) -> tuple[Cell, ...]:
        """Every cell of a row at once, as widgets.text_table.TextTable paints it (the view
        asks once per row, not a dozen roles per cell)."""
        event_id = self.id_at(row)
        event = self.replica.events.get(event_id) if event_id is not None else None
        if event is None:
            return ()
        now = self._clock()
        centred = self._CENTRED
        return tuple(
            Cell(
                self._text(event, column, now),
                self._colour(event, column, now),
                _CENTRE if column in centred else _LEFT,
            )
            for column in self.COLUMNS
        )

    def _text(self, event: Event, column: str, now: float) -> str:
        names = self.replica.names()
        if column == "priority":
            return text(PRIORITY_TEXT, event.priority)
        if column == "code":
            return event.code
        if column == "category":
            return names.get(event.category, event.category)
        if column == "title":
            return event.title
        if column == "place":
            grid = names.get(event.grid, event.grid)
            return f"{event.address} · {grid}" if event.address else grid
        if column == "status":
            return text(STATUS_TEXT, event.status)
        if column == "risk":
            return risk_badge(self.replica.shown_risk(event, now))
        if column == "due":
            return countdown(due_of(event), now)
        return text(SOURCE_TEXT, event.source)

    def _colour(self, event: Event, column: str, now: float) -> QColor | None:
        if column == "risk":
            return RISK if self.replica.shown_risk(event, now) is not None else None
        if column == "priority":
            return PRIORITY_COLOURS.get(event.priority)
        due = due_of(event)
        if column in ("status", "due") and (
            is_overdue(event, now) or (due is not None and due < now)
        ):
            return RED
        if column == "due":
            start = event.dispatched_at or event.reported_at
            if due is not None and (due - now) <= 0.25 * max(due - start, 1.0):
                return AMBER
        return None
