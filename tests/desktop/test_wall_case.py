"""The wall opens a case over the map: the desk's card and audit timeline, read from 5 m,
the reporter masked, closed by Esc (then Esc goes back to the whole district).

`TG_SHOT=docs/screenshots/wall-case.png pytest tests/desktop/test_wall_case.py` also saves
what the wall shows with the case open (the README's screenshot)."""

from __future__ import annotations

import asyncio
import os

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel

from desktop.core.link import SessionThread
from desktop.core.replica import Replica
from desktop.ui.wall import WallWindow
from dispatch.store.store import Store
from protocol.messages import Result
from tests.desktop.test_desk import stop_all
from tests.desktop.test_wall import run_in_qt, until
from tests.dispatch.conftest import start_server
from tests.dispatch.test_server import report_args


@pytest.mark.timeout(180)
def test_a_queue_row_opens_the_case_large_with_its_timeline_and_the_reporter_masked(
    qapp, qtbot, sqlite_store: Store
) -> None:
    async def scenario() -> None:
        running = await start_server(sqlite_store)
        url = f"ws://127.0.0.1:{running.port}"
        wall = WallWindow(Replica(view="open"))  # as desktop.ui.app makes it
        wall.resize(1920, 1080)
        wall.show()
        link = SessionThread(
            url, running.tokens["wall"], wake=wall.coalescer.wake, view=wall.replica.view
        )
        wall.listen(link.inbox, resync=link.resync, history=link.history)
        link.start()
        try:
            client = await running.client("commander")
            args = report_args(running, title="井盖缺失")
            answer = await client.command("report", {**args, "reporter": "王小明 13812345678"})
            assert isinstance(answer, Result)
            event_id = int(answer.data["event"])
            accepted = await client.command("accept", {"event": event_id, "note": "立即处理"})
            assert isinstance(accepted, Result)
            model = wall.queue_view.model

            def row(wanted: int = event_id) -> int | None:
                return next(
                    (
                        r
                        for r in range(model.rowCount())
                        if (e := model.event_at(r)) and e.id == wanted
                    ),
                    None,
                )

            await until(lambda: row() is not None, 10, "the case in the queue")
            rect = wall.queue.visualRect(model.index(row(), 2))
            QTest.mouseClick(wall.queue.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
            case = wall.case_view
            await until(case.isVisible, 5, "the case opened")
            assert case.event_id == event_id
            card = case.sheet.card
            await until(lambda: len(card.timeline_entries() or []) >= 2, 10, "its timeline")
            assert [e.actor for e in card.timeline_entries() or []] == ["指挥长", "指挥长"]
            # Opened the first time, a short field label is on one line (not 类/别 stacked).
            await asyncio.sleep(0.2)
            for name, _ in card._field_labels:
                if name.isVisible():
                    needed = name.fontMetrics().horizontalAdvance(name.text())
                    assert name.width() >= needed, (name.text(), name.width(), needed)
            texts = " ".join(label.text() for label in case.findChildren(QLabel))
            assert "井盖缺失" in texts and "13812345678" not in texts and "王小明" not in texts
            assert "138****5678" in texts
            # Read from 5 m: no text on it under 1/60 of the screen's height.
            smallest = min(
                QFontMetrics(label.font()).capHeight()
                for label in case.findChildren(QLabel)
                if label.isVisible() and label.text()
            )
            assert smallest >= 1080 / 60, smallest
            if shot := os.environ.get("TG_SHOT"):
                await asyncio.sleep(1.0)
                wall.grab().save(shot)
            # Over the map and the figures left of it; the queue stays in view.
            area = case.geometry()
            map_rect = wall.map.geometry().translated(
                wall.map.mapTo(wall, wall.map.pos()) - wall.map.pos()
            )
            assert area.contains(map_rect.center()) and wall.rect().contains(area)
            queue_left = wall.queue.mapTo(wall, wall.queue.rect().topLeft()).x()
            assert area.right() < queue_left
            # Esc: first back to the map, then to the whole district.
            wall.set_focus(wall.replica.events[event_id].street)
            QTest.keyClick(wall, Qt.Key.Key_Escape)
            assert not case.isVisible() and case.event_id is None
            assert wall.focus_street != ""
            QTest.keyClick(wall, Qt.Key.Key_Escape)
            assert wall.focus_street == ""
            # A case finished while its card is open: the wall (open cases only) says so.
            answer = await client.command("report", report_args(running, title="重复上报"))
            assert isinstance(answer, Result)
            repeat = int(answer.data["event"])
            await until(lambda: row(repeat) is not None, 10, "the second case in the queue")
            rect = wall.queue.visualRect(model.index(row(repeat), 2))
            QTest.mouseClick(wall.queue.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
            await until(lambda: case.isVisible() and case.event_id == repeat, 5, "it opened")
            rejected = await client.command("reject", {"event": repeat, "reason": "重复"})
            assert isinstance(rejected, Result)
            await until(lambda: repeat not in wall.replica.events, 10, "the wall forgot it")
            await until(lambda: row(repeat) is None, 5, "its row gone")
            words = " ".join(label.text() for label in case.findChildren(QLabel))
            await until(
                lambda: (
                    "大屏只显示办理中的案件"
                    in " ".join(label.text() for label in case.findChildren(QLabel))
                ),
                5,
                f"the card says the case ended ({words})",
            )
            await client.ws.close()
        finally:
            await stop_all(link, wall)
            await running.server.stop()

    run_in_qt(qapp, qtbot, scenario)
