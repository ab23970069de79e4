"""What the 管理 page's tabs share (users: admin_page.py, roster: roster_tab.py, intakes:
intake_tab.py): their read-only tables, the heading's status line, and reading the backend
one request at a time with its failures shown in that line."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableWidget, QWidget

from desktop.ui.desk.texts import tr
from protocol.messages import Error, Result

log = logging.getLogger("desktop.ui.desk")


def admin_table(
    parent: QWidget,
    name: str,
    columns: tuple[str, ...] | list[str],
    stretch: int,
    *,
    single: bool = False,
    wrap: bool = False,
) -> QTableWidget:
    """A read-only table of whole rows, its columns fitted to their contents but `stretch`
    (which takes the room left); one row selectable at a time when `single`."""
    table = QTableWidget(0, len(columns), parent)
    table.setObjectName(name)
    table.setHorizontalHeaderLabels([tr(c) for c in columns])
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    if single:
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.setWordWrap(wrap)
    table.verticalHeader().hide()
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return table


def status_line(parent: QWidget) -> QLabel:
    """The muted line beside a tab's title (loading, failures)."""
    status = QLabel(parent)
    status.setObjectName("mutedLine")
    status.setTextFormat(Qt.TextFormat.PlainText)
    return status


def start_read[R](
    task: asyncio.Future[None] | None,
    requests: R | None,
    status: QLabel,
    load: Callable[[R], Coroutine[Any, Any, None]],
    loading: str = "",
) -> asyncio.Future[None] | None:
    """A tab's refresh: `load(requests)` started unless not connected (said in `status`)
    or a read is under way already; the task reading (the one under way, if any)."""
    if requests is None:
        status.setText(tr("尚未连接到调度服务"))
        return task
    if task is not None and not task.done():
        return task
    if loading:
        status.setText(loading)
    return asyncio.ensure_future(load(requests))


async def answer_of(
    what: str,
    ask: Awaitable[Result | Error],
    status: QLabel,
    offline: str,
    refused: str,
    refusal: Callable[[Error], str],
) -> Result | None:
    """The backend's answer to a read; None when there is none to show: the connection
    failed (`offline` shown) or the backend refused (`refused` with %1 = `refusal(error)`)."""
    try:
        answer = await ask
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.info("%s: %s", what, exc)
        status.setText(offline)
        return None
    if isinstance(answer, Error):
        status.setText(refused.replace("%1", refusal(answer)))
        return None
    return answer
