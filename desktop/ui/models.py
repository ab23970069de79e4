"""Qt item models over the replica, updated in batches once per frame."""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor

from desktop.core.district_time import happened_at, moment
from desktop.core.replica import Changes, Replica
from desktop.i18n import QT_TRANSLATE_NOOP
from protocol.entities import OPEN_STATUSES, Alert, Event, is_overdue
from protocol.messages import CaseRisk
from widgets.text_table import Cell

SortKey = tuple[float, ...]
Index = QModelIndex | QPersistentModelIndex

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
_USER = int(Qt.ItemDataRole.UserRole)
_CENTRE = int(Qt.AlignmentFlag.AlignCenter)
_LEFT = int(Qt.AlignmentFlag.AlignLeft)
_ELIDE_MIDDLE = Qt.TextElideMode.ElideMiddle
_ELIDE_RIGHT = Qt.TextElideMode.ElideRight
AMBER = QColor("#ffb300")
RED = QColor("#ff4d4f")
# The deadline-risk badge (docs/kpis.md §8): amber, as a warning, before the countdown is red.
RISK = AMBER


def sort_key(event: Event) -> SortKey:
    """Urgent first, then newest first; the id breaks ties so keys are unique."""
    return (event.priority, -event.reported_at, -event.id)


def deadline_key(event: Event) -> SortKey:
    """The nearest (or longest past) deadline first, cases without one last; then urgent."""
    deadline = event.deadline if event.deadline is not None else math.inf
    return (deadline, event.priority, -event.id)


ORDERS: dict[str, Callable[[Event], SortKey]] = {"priority": sort_key, "deadline": deadline_key}


class _SortedRows(QAbstractTableModel):
    """Rows of replica entities in a sort order, updated in batches once per frame.

    `apply(ids)` brings the rows for these ids up to date: rows that kept their place get one
    dataChanged per contiguous run, moved/new/removed rows are removed and inserted in
    contiguous blocks; `rebuild` resets the model (a snapshot, a new filter).
    """

    COLUMNS: tuple[str, ...] = ()
    ID_ROLE = _USER + 1

    def __init__(self, replica: Replica, parent: Any = None) -> None:
        super().__init__(parent)
        self.replica = replica
        self._ids: list[int] = []
        self._keys: list[SortKey] = []
        self._key_of: dict[int, SortKey] = {}  # shown id -> its key: the row is a bisect away
        self._streets: frozenset[str] | None = None

    # what subclasses define
    def _source(self) -> dict[int, Any]:
        raise NotImplementedError

    def _key(self, entity: Any) -> SortKey:
        raise NotImplementedError

    def _visible(self, entity: Any) -> bool:
        raise NotImplementedError

    def rebuild(self) -> None:
        """Reset the rows from the replica."""
        self.beginResetModel()
        rows = sorted((self._key(e), e.id) for e in self._source().values() if self._visible(e))
        self._keys = [k for k, _ in rows]
        self._ids = [i for _, i in rows]
        self._key_of = {i: k for k, i in rows}
        self.endResetModel()

    def apply_ids(self, ids: Iterable[int]) -> None:
        """Bring the rows of these entity ids up to date with the replica."""
        source = self._source()
        keys = self._keys
        in_place: list[int] = []
        to_remove: list[int] = []
        to_insert: list[tuple[SortKey, int]] = []
        for entity_id in ids:
            entity = source.get(entity_id)
            shown = self._key_of.get(entity_id)
            row = bisect.bisect_left(keys, shown) if shown is not None else None
            visible = entity is not None and self._visible(entity)
            key = self._key(entity) if visible else ()
            if row is not None:
                if visible and key == self._keys[row]:
                    in_place.append(row)
                    continue
                to_remove.append(row)
            if visible:
                to_insert.append((key, entity_id))
        last_column = max(0, self.columnCount() - 1)
        for start, end in _runs(sorted(in_place)):
            self.dataChanged.emit(self.index(start, 0), self.index(end, last_column))
        for start, end in reversed(_runs(sorted(to_remove))):
            self.beginRemoveRows(QModelIndex(), start, end)
            for entity_id in self._ids[start : end + 1]:
                del self._key_of[entity_id]
            del self._ids[start : end + 1]
            del self._keys[start : end + 1]
            self.endRemoveRows()
        to_insert.sort()
        block: list[tuple[SortKey, int]] = []
        block_at = -1
        for key, entity_id in to_insert:
            at = bisect.bisect_left(self._keys, key)
            if block and at != block_at:
                self._insert_block(block_at, block)
                block = []
                at = bisect.bisect_left(self._keys, key)
            if not block:
                block_at = at
            block.append((key, entity_id))
        if block:
            self._insert_block(block_at, block)

    def _insert_block(self, at: int, block: list[tuple[SortKey, int]]) -> None:
        self.beginInsertRows(QModelIndex(), at, at + len(block) - 1)
        self._keys[at:at] = [k for k, _ in block]
        self._ids[at:at] = [i for _, i in block]
        self._key_of.update((i, k) for k, i in block)
        self.endInsertRows()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """Rows: visible entities."""
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """Columns: COLUMNS."""
        return 0 if parent.isValid() else len(self.COLUMNS)

    def id_at(self, row: int) -> int | None:
        """The entity id shown in a row."""
        return self._ids[row] if 0 <= row < len(self._ids) else None


class EventQueueModel(_SortedRows):
    """Open events, urgent and newest first (or nearest deadline first), filtered by street,
    by status or to the cases late now."""

    COLUMNS = ("priority", "source", "category", "grid", "status", "risk", "deadline")
    DEADLINE_ROLE = _USER + 2
    PRIORITY_ROLE = _USER + 3
    _ROLES = frozenset(
        {_DISPLAY, _FOREGROUND, _ALIGN, _SortedRows.ID_ROLE, DEADLINE_ROLE, PRIORITY_ROLE}
    )
    _CENTRED = frozenset({"priority", "risk", "deadline", "source"})

    def __init__(self, replica: Replica, parent: Any = None, *, clock: Callable[[], float]) -> None:
        super().__init__(replica, parent)
        self._clock = clock  # the district's: deadlines are in its time (faster in a demo)
        self._statuses: frozenset[str] = OPEN_STATUSES
        self._overdue_only = False
        self._order: Callable[[Event], SortKey] = sort_key
        self.headers = {
            "priority": self.tr("紧急"),
            "source": self.tr("来源"),
            "category": self.tr("类别"),
            "grid": self.tr("网格"),
            "status": self.tr("状态"),
            "risk": self.tr("风险"),
            "deadline": self.tr("时限"),
        }

    def set_filter(
        self,
        streets: Iterable[str] | None = None,
        statuses: Iterable[str] | None = None,
        *,
        overdue: bool = False,
        order: str = "priority",
    ) -> None:
        """Show only these streets (None: all) and statuses (None: the open ones), only the
        cases late now if `overdue`, in an order of ORDERS."""
        self._streets = frozenset(streets) if streets is not None else None
        self._statuses = frozenset(statuses) if statuses is not None else OPEN_STATUSES
        self._overdue_only = overdue
        self._order = ORDERS[order]
        self.rebuild()

    def _source(self) -> dict[int, Any]:
        return self.replica.events

    def _key(self, entity: Any) -> SortKey:
        return self._order(entity)

    def _visible(self, entity: Any) -> bool:
        return (
            entity.status in self._statuses
            and (self._streets is None or entity.street in self._streets)
            and (not self._overdue_only or is_overdue(entity, self._clock()))
        )

    def apply(self, changes: Changes) -> None:
        """Bring the rows up to date with the replica after a frame's changes."""
        if changes.reset or changes.units:
            self.rebuild()
        elif changes.events or changes.risks:
            self.apply_ids(changes.events | changes.risks)

    def tick(self) -> None:
        """Repaint what the clock moves (once a second): the status (late now?), the risk
        badge (gone once late), the countdown;
        with only the late cases shown, take in those that went late since."""
        if self._overdue_only:
            now = self._clock()
            went_late = [
                event.id
                for event in self.replica.events.values()
                if event.id not in self._key_of
                and event.status in self._statuses
                and (self._streets is None or event.street in self._streets)
                and is_overdue(event, now)
            ]
            if went_late:
                self.apply_ids(went_late)
        if self._ids:
            clocked = [
                self.COLUMNS.index("status"),
                self.COLUMNS.index("risk"),
                self.COLUMNS.index("deadline"),
            ]
            first, last = min(clocked), max(clocked)
            self.dataChanged.emit(self.index(0, first), self.index(len(self._ids) - 1, last))

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
        """Cell text, countdown and priority colours, and the event id / deadline for views."""
        role = int(role)
        # Views ask for a dozen roles per cell: answer the unserved ones before any lookup.
        if role not in self._ROLES or not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        event = self.replica.events.get(self._ids[index.row()])
        if event is None:
            return None
        column = self.COLUMNS[index.column()]
        if role == _DISPLAY:
            return self._text(event, column, self._clock())
        if role == _FOREGROUND:
            return self._colour(event, column, self._clock())
        if role == self.ID_ROLE:
            return event.id
        if role == self.DEADLINE_ROLE:
            return event.deadline
        if role == self.PRIORITY_ROLE:
            return event.priority
        if role == _ALIGN and column in self._CENTRED:
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    def row_cells(self, row: int) -> tuple[Cell, ...]:
        """Every cell of a row at once, as a widgets.text_table.TextTable paints it."""
        event = self.event_at(row)
        if event is None:
            return ()
        centred = self._CENTRED
        now = self._clock()
        shorter = self.replica.grid_short_forms()
        return tuple(
            Cell(
                self._text(event, column, now),
                self._colour(event, column, now),
                _CENTRE if column in centred else _LEFT,
                shorter.get(event.grid, ()) if column == "grid" else (),
                # Even the shortest grid name too long: keep its number (腊…第4, not 腊树…).
                _ELIDE_MIDDLE if column == "grid" else _ELIDE_RIGHT,
            )
            for column in self.COLUMNS
        )

    def _colour(self, event: Event, column: str, now: float) -> QColor | None:
        if column == "risk":
            return RISK if self.replica.shown_risk(event, now) is not None else None
        if column == "deadline":
            return _deadline_colour(event, now)
        if column == "priority":
            return PRIORITY_COLOURS.get(event.priority)
        if column == "status" and is_overdue(event, now):
            # Late as the KPI tiles and the map count it, also when it was escalated and the
            # next level's deadline (the countdown) is still ahead.
            return RED
        return None

    def _text(self, event: Event, column: str, now: float) -> str:
        if column == "priority":
            return text(PRIORITY_TEXT, event.priority)
        if column == "source":
            return text(SOURCE_TEXT, event.source)
        if column == "category":
            return self.replica.names().get(event.category, event.category)
        if column == "grid":
            return self.replica.names().get(event.grid, event.grid)
        if column == "status":
            return text(STATUS_TEXT, event.status)
        if column == "risk":
            return risk_badge(self.replica.shown_risk(event, now))
        return countdown(event.deadline, now)

    def event_at(self, row: int) -> Event | None:
        """The event shown in a row."""
        return self.replica.events.get(self._ids[row]) if 0 <= row < len(self._ids) else None


class AlertFeedModel(_SortedRows):
    """Camera alerts, newest burst first; one row per alert (a burst carries its count).

    One column; a delegate paints the card from the roles below.
    """

    COLUMNS = ("alert",)
    CAMERA_ROLE = _USER + 2
    KIND_ROLE = _USER + 3
    SCORE_ROLE = _USER + 4
    TIME_ROLE = _USER + 5
    COUNT_ROLE = _USER + 6
    STATUS_ROLE = _USER + 7
    SNAPSHOT_ROLE = _USER + 8
    THUMBNAIL_ROLE = _USER + 9
    PLACE_ROLE = _USER + 10

    def __init__(
        self, replica: Replica, parent: Any = None, *, clock: Callable[[], float] | None = None
    ) -> None:
        super().__init__(replica, parent)
        self._clock = clock or replica.now  # the district's: what "today" is
        self._show_settled = False
        self.thumbnails: dict[int, Any] = {}  # alert id -> QPixmap, filled by a loader

    def set_filter(self, streets: Iterable[str] | None = None, settled: bool = False) -> None:
        """Show only these streets (None: all); settled (confirmed/dismissed) ones if asked."""
        self._streets = frozenset(streets) if streets is not None else None
        self._show_settled = settled
        self.rebuild()

    def _source(self) -> dict[int, Any]:
        return self.replica.alerts

    def _key(self, entity: Any) -> SortKey:
        return (-entity.last_at, -entity.id)

    def _visible(self, entity: Any) -> bool:
        return (self._show_settled or entity.status == "new") and (
            self._streets is None or entity.street in self._streets
        )

    def apply(self, changes: Changes) -> None:
        """Bring the rows up to date with the replica after a frame's changes."""
        if changes.reset or changes.units:
            self.rebuild()
        elif changes.alerts:
            self.apply_ids(changes.alerts)

    def thumbnail_ready(self, alert_id: int, pixmap: Any) -> None:
        """A loader fetched an alert's snapshot: keep it and repaint its row."""
        self.thumbnails[alert_id] = pixmap
        try:
            row = self._ids.index(alert_id)
        except ValueError:
            return
        self.dataChanged.emit(self.index(row, 0), self.index(row, 0))

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        """The card's fields by role."""
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        alert = self.replica.alerts.get(self._ids[index.row()])
        if alert is None:
            return None
        role = int(role)
        if role == _DISPLAY:
            return f"{alert.camera_name} {self.kind_name(alert)}"
        if role == self.ID_ROLE:
            return alert.id
        if role == self.CAMERA_ROLE:
            return alert.camera_name
        if role == self.KIND_ROLE:
            return self.kind_name(alert)
        if role == self.SCORE_ROLE:
            return alert.score
        if role == self.TIME_ROLE:
            # The time it happened (the camera's own, when it said), not of its arrival.
            return moment(happened_at(alert.observed_at, alert.last_at), self._clock())
        if role == self.COUNT_ROLE:
            return alert.count
        if role == self.STATUS_ROLE:
            return alert.status
        if role == self.SNAPSHOT_ROLE:
            return alert.snapshot
        if role == self.THUMBNAIL_ROLE:
            return self.thumbnails.get(alert.id)
        if role == self.PLACE_ROLE:
            return self.replica.names().get(alert.grid, alert.grid)
        return None

    def kind_name(self, alert: Alert) -> str:
        """The detection kind's name (the code when the reference does not know it)."""
        return self.replica.names().get(alert.detection, alert.detection)

    def alert_at(self, row: int) -> Alert | None:
        """The alert shown in a row."""
        return self.replica.alerts.get(self._ids[row]) if 0 <= row < len(self._ids) else None

    def forget_thumbnails(self, keep_rows: int = 24) -> set[int]:
        """Drop the thumbnails of alerts below the first rows (memory stays bounded over a
        day); return the ids whose thumbnails are kept."""
        shown = set(self._ids[:keep_rows])
        for alert_id in [i for i in self.thumbnails if i not in shown]:
            del self.thumbnails[alert_id]
        return shown


# Texts are marked for lupdate here and translated when looked up (`text`), so a language
# installed at start-up applies to them too.
PRIORITY_TEXT: dict[Any, str] = {
    1: QT_TRANSLATE_NOOP("Texts", "特急"),
    2: QT_TRANSLATE_NOOP("Texts", "紧急"),
    3: QT_TRANSLATE_NOOP("Texts", "一般"),
    4: QT_TRANSLATE_NOOP("Texts", "较低"),
}
PRIORITY_COLOURS = {1: QColor("#ff4d4f"), 2: QColor("#ffb300")}
SOURCE_TEXT: dict[Any, str] = {
    "hotline": QT_TRANSLATE_NOOP("Texts", "12345"),
    "patrol": QT_TRANSLATE_NOOP("Texts", "巡查"),
    "citizen": QT_TRANSLATE_NOOP("Texts", "随手拍"),
    "camera": QT_TRANSLATE_NOOP("Texts", "视频"),
    "sensor": QT_TRANSLATE_NOOP("Texts", "感知"),
    "assigned": QT_TRANSLATE_NOOP("Texts", "交办"),
}
STATUS_TEXT: dict[Any, str] = {
    "reported": QT_TRANSLATE_NOOP("Texts", "待受理"),
    "accepted": QT_TRANSLATE_NOOP("Texts", "已受理"),
    "rejected": QT_TRANSLATE_NOOP("Texts", "不予受理"),
    "dispatched": QT_TRANSLATE_NOOP("Texts", "已派遣"),
    "handling": QT_TRANSLATE_NOOP("Texts", "处置中"),
    "handled": QT_TRANSLATE_NOOP("Texts", "已处置"),
    "verified": QT_TRANSLATE_NOOP("Texts", "已核查"),
    "closed": QT_TRANSLATE_NOOP("Texts", "已结案"),
    "evaluated": QT_TRANSLATE_NOOP("Texts", "已评价"),
}
LEVEL_TEXT: dict[Any, str] = {
    "grid": QT_TRANSLATE_NOOP("Texts", "网格"),
    "community": QT_TRANSLATE_NOOP("Texts", "社区"),
    "street": QT_TRANSLATE_NOOP("Texts", "街道"),
    "district": QT_TRANSLATE_NOOP("Texts", "区级"),
}


def text(table: dict[Any, str], key: Any) -> str:
    """A table's text for a key, in the installed language (the key itself if unknown)."""
    source = table.get(key)
    return QCoreApplication.translate("Texts", source) if source is not None else str(key)


def countdown(deadline: float | None, now: float) -> str:
    """Time to a deadline in words that cannot be misread: "49分", "2时15分", "3天4时", and
    past it "超时17分". Whole minutes: what is left rounded up (never 0 while time is left),
    what is past rounded down (at least 1)."""
    if deadline is None:
        return ""
    left = deadline - now
    minutes = max(1, math.ceil(left / 60) if left >= 0 else math.floor(-left / 60))
    hours, days = minutes // 60, minutes // 1440
    if days:
        span = QCoreApplication.translate("Texts", "%1天%2时")
        span = span.replace("%1", str(days)).replace("%2", str(hours % 24))
    elif hours:
        span = QCoreApplication.translate("Texts", "%1时%2分")
        span = span.replace("%1", str(hours)).replace("%2", str(minutes % 60))
    else:
        span = QCoreApplication.translate("Texts", "%1分").replace("%1", str(minutes))
    if left < 0:
        return QCoreApplication.translate("Texts", "超时%1").replace("%1", span)
    return span


def risk_badge(risk: CaseRisk | None) -> str:
    """A case's risk badge: "险 38%" (its chance of missing a deadline), "" for none."""
    if risk is None:
        return ""
    return QCoreApplication.translate("Texts", "险%1%").replace("%1", str(round(risk.p * 100)))


def _deadline_colour(event: Event, now: float) -> QColor | None:
    if event.deadline is None:
        return None
    if event.deadline < now:  # red only when past the deadline it counts down to
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
