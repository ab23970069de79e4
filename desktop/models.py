"""Qt item models over the replica, updated in batches once per frame."""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from desktop.replica import Changes, Replica
from protocol.entities import Event

OPEN = frozenset({"reported", "accepted", "dispatched", "handling", "handled", "verified"})
SortKey = tuple[int, float, int]
Index = QModelIndex | QPersistentModelIndex

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
_USER = int(Qt.ItemDataRole.UserRole)
AMBER = QColor("#ffb300")
RED = QColor("#ff4d4f")


def sort_key(event: Event) -> SortKey:
    """Urgent first, then newest first; the id breaks ties so keys are unique."""
    return (event.priority, -event.reported_at, -event.id)


class EventQueueModel(QAbstractTableModel):
    """Open events, urgent and newest first, filtered by street and status.

    `apply(changes)` is called once per frame: rows that kept their place get one
    dataChanged per contiguous run, moved/new/removed rows are removed and inserted in
    contiguous blocks; a snapshot resets the model.
    """

    COLUMNS = ("priority", "source", "category", "grid", "status", "deadline")
    ID_ROLE = _USER + 1
    DEADLINE_ROLE = _USER + 2

    def __init__(self, replica: Replica, parent: Any = None) -> None:
        super().__init__(parent)
        self.replica = replica
        self._ids: list[int] = []
        self._keys: list[SortKey] = []
        self._streets: frozenset[str] | None = None
        self._statuses: frozenset[str] = OPEN
        self._names: dict[str, str] = {}
        self.headers = {
            "priority": self.tr("紧急"),
            "source": self.tr("来源"),
            "category": self.tr("类别"),
            "grid": self.tr("网格"),
            "status": self.tr("状态"),
            "deadline": self.tr("剩余时限"),
        }

    # ---- filtering -------------------------------------------------------------------------

    def set_filter(
        self, streets: Iterable[str] | None = None, statuses: Iterable[str] | None = None
    ) -> None:
        """Show only these streets (None: all) and statuses (None: the open ones)."""
        self._streets = frozenset(streets) if streets is not None else None
        self._statuses = frozenset(statuses) if statuses is not None else OPEN
        self._rebuild()

    def _visible(self, event: Event) -> bool:
        return event.status in self._statuses and (
            self._streets is None or event.street in self._streets
        )

    def _rebuild(self) -> None:
        self.beginResetModel()
        rows = sorted((sort_key(e), e.id) for e in self.replica.events.values() if self._visible(e))
        self._keys = [k for k, _ in rows]
        self._ids = [i for _, i in rows]
        if self.replica.units is not None:
            self._names = {c.code: c.name for c in self.replica.units.categories}
            self._names.update({g.code: g.name for g in self.replica.units.grids})
        self.endResetModel()

    # ---- batched updates -------------------------------------------------------------------

    def apply(self, changes: Changes) -> None:
        """Bring the rows up to date with the replica after a frame's changes."""
        if changes.reset or changes.units:
            self._rebuild()
            return
        if not changes.events:
            return
        row_of = {event_id: row for row, event_id in enumerate(self._ids)}
        in_place: list[int] = []
        to_remove: list[int] = []
        to_insert: list[tuple[SortKey, int]] = []
        for event_id in changes.events:
            event = self.replica.events.get(event_id)
            row = row_of.get(event_id)
            visible = event is not None and self._visible(event)
            if row is not None:
                if visible and event is not None and sort_key(event) == self._keys[row]:
                    in_place.append(row)
                    continue
                to_remove.append(row)
            if visible and event is not None:
                to_insert.append((sort_key(event), event_id))
        for start, end in _runs(sorted(in_place)):
            self.dataChanged.emit(self.index(start, 0), self.index(end, len(self.COLUMNS) - 1))
        for start, end in reversed(_runs(sorted(to_remove))):
            self.beginRemoveRows(QModelIndex(), start, end)
            del self._ids[start : end + 1]
            del self._keys[start : end + 1]
            self.endRemoveRows()
        to_insert.sort()
        block: list[tuple[SortKey, int]] = []
        block_at = -1
        for key, event_id in to_insert:
            at = bisect.bisect_left(self._keys, key)
            if block and at != block_at:
                self._insert_block(block_at, block)
                block = []
                at = bisect.bisect_left(self._keys, key)
            if not block:
                block_at = at
            block.append((key, event_id))
        if block:
            self._insert_block(block_at, block)

    def _insert_block(self, at: int, block: list[tuple[SortKey, int]]) -> None:
        self.beginInsertRows(QModelIndex(), at, at + len(block) - 1)
        self._keys[at:at] = [k for k, _ in block]
        self._ids[at:at] = [i for _, i in block]
        self.endInsertRows()

    def tick(self) -> None:
        """Repaint the countdown column (once a second)."""
        if self._ids:
            column = self.COLUMNS.index("deadline")
            self.dataChanged.emit(self.index(0, column), self.index(len(self._ids) - 1, column))

    # ---- the model interface ---------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """Rows: visible events."""
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """Columns: COLUMNS."""
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = _DISPLAY,
    ) -> Any:
        """Column titles."""
        if (
            int(role) == _DISPLAY
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self.COLUMNS)
        ):
            return self.headers[self.COLUMNS[section]]
        return None

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        """Cell text, countdown colours, and the event id / deadline for views."""
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        event = self.replica.events.get(self._ids[index.row()])
        if event is None:
            return None
        role = int(role)
        column = self.COLUMNS[index.column()]
        if role == _DISPLAY:
            return self._text(event, column)
        if role == _FOREGROUND and column == "deadline":
            return _deadline_colour(event)
        if role == self.ID_ROLE:
            return event.id
        if role == self.DEADLINE_ROLE:
            return event.deadline
        if role == _ALIGN and column in ("priority", "deadline"):
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    def _text(self, event: Event, column: str) -> str:
        if column == "priority":
            return PRIORITY_TEXT.get(event.priority, str(event.priority))
        if column == "source":
            return SOURCE_TEXT.get(event.source, event.source)
        if column == "category":
            return self._names.get(event.category, event.category)
        if column == "grid":
            return self._names.get(event.grid, event.grid)
        if column == "status":
            return STATUS_TEXT.get(event.status, event.status)
        return countdown(event.deadline)

    def event_at(self, row: int) -> Event | None:
        """The event shown in a row."""
        return self.replica.events.get(self._ids[row]) if 0 <= row < len(self._ids) else None


PRIORITY_TEXT = {1: "特急", 2: "紧急", 3: "一般", 4: "较低"}
SOURCE_TEXT = {
    "hotline": "12345",
    "patrol": "巡查",
    "citizen": "随手拍",
    "camera": "视频",
    "sensor": "感知",
    "assigned": "交办",
}
STATUS_TEXT = {
    "reported": "待受理",
    "accepted": "已受理",
    "rejected": "不予受理",
    "dispatched": "已派遣",
    "handling": "处置中",
    "handled": "已处置",
    "verified": "已核查",
    "closed": "已结案",
    "evaluated": "已评价",
}


def countdown(deadline: float | None, now: float | None = None) -> str:
    """Time left to a deadline as h:mm, or how long it is overdue ('超 h:mm')."""
    if deadline is None:
        return ""
    left = deadline - (time.time() if now is None else now)
    minutes = int(abs(left) // 60)
    text = f"{minutes // 60}:{minutes % 60:02d}"
    return f"超 {text}" if left < 0 else text


def _deadline_colour(event: Event) -> QColor | None:
    if event.deadline is None:
        return None
    now = time.time()
    if event.overdue or event.deadline < now:
        return RED
    start = event.dispatched_at or event.reported_at
    span = max(event.deadline - start, 1.0)
    return AMBER if (event.deadline - now) / span <= 0.25 else None


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and row == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], row)
        elif not runs or row != runs[-1][1]:
            runs.append((row, row))
    return runs
