"""The admin tables' rows keyed by a string kept on each row's first cell (a user's name, a
day, a category's code): which key is selected, and selecting a row by its key."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableWidget

KEY_ROLE = int(Qt.ItemDataRole.UserRole) + 1


def selected_key(table: QTableWidget) -> str | None:
    """The key of the selected row, if any."""
    rows = table.selectionModel().selectedRows()
    if not rows:
        return None
    item = table.item(rows[0].row(), 0)
    key = item.data(KEY_ROLE) if item is not None else None
    return key if isinstance(key, str) else None


def select_key(table: QTableWidget, key: str) -> bool:
    """Select the row of `key`; whether it is listed."""
    for row in range(table.rowCount()):
        item = table.item(row, 0)
        if item is not None and item.data(KEY_ROLE) == key:
            table.selectRow(row)
            return True
    return False
