"""Files on the desk against a real backend: the duty page lists the shifts, opens a shift's
handover report as a page and saves its PDF; 交班记录 is written from the desk; a street's
export holds its street only, and a refused export says why."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from desktop.ui.desk.files import FileFetcher
from dispatch.store.store import Store
from protocol.messages import Result
from tests.desktop.test_desk import open_desk, ready, stop_all
from tests.desktop.test_wall import run_in_qt, until
from tests.dispatch.conftest import DEKUAN, LINGHU, start_server
from tests.dispatch.test_server import report_args


@pytest.mark.timeout(240)
def test_shift_reports_and_exports_from_the_desk(
    qapp, qtbot, sqlite_store: Store, tmp_path: Path
) -> None:
    async def scenario() -> None:
        running = await start_server(sqlite_store)
        url = f"ws://127.0.0.1:{running.port}"
        client = await running.client("commander")
        window, link = open_desk(url, running.tokens["commander"])
        street, street_link = open_desk(url, running.tokens["linghu"])
        try:
            assert isinstance(await client.command("handover", {"commander": "王建国"}), Result)
            for where, title in ((LINGHU, "菱湖井盖缺失"), (DEKUAN, "德宽路占道经营")):
                answer = await client.command("report", report_args(running, where, title))
                assert isinstance(answer, Result)
            await ready(window)
            window.use_files(FileFetcher(url, running.tokens["commander"], parent=window))
            # 交班记录 from the duty page's form, then the next commander takes over.
            window.nav.setCurrentIndex(2)
            page = window.duty
            await until(lambda: page.reports.isVisible(), 10, "the reports on the duty page")
            # Listed as the page is first shown: nobody pressed 刷新.
            shown = page.reports.list
            await until(lambda: shown.count() == 1, 10, "the shifts listed without 刷新")
            assert "王建国" in shown.item(0).text() and "进行中" in shown.item(0).text()
            page.open_form("shift_note")
            page._submit({"text": "夜间菱湖片区积水点已安排专人值守"})
            await until(
                lambda: window.replica.duty is not None and window.replica.duty.note is not None,
                10,
                "the note on the duty",
            )
            assert isinstance(await client.command("handover", {"commander": "李红梅"}), Result)
            reports = page.reports
            await reports.refresh()
            assert reports.list.count() == 2 and reports.list.currentRow() == 1
            assert "王建国" in reports.list.item(1).text()
            assert "有交班记录" in reports.list.item(1).text()
            opened: list[Path] = []
            reports.opened = opened.append
            reports.folder = tmp_path / "reports"
            await reports.open_chosen()
            assert len(opened) == 1, reports.status.text()
            html = opened[0].read_text(encoding="utf-8")
            assert "交接班报告" in html and "夜间菱湖片区积水点已安排专人值守" in html
            assert "菱湖井盖缺失" in html and "德宽路占道经营" in html
            saved = tmp_path / "shift.pdf"
            reports.save_as = lambda name: str(saved)
            await reports.save_chosen()
            assert saved.read_bytes().startswith(b"%PDF-"), reports.status.text()
            assert not [name for name in os.listdir(tmp_path) if name.endswith(".part")]

            # A street's export: its street only.
            await ready(street)
            street.use_files(FileFetcher(url, running.tokens["linghu"], parent=street))
            dialog = street.open_export()
            assert dialog is not None
            dialog.format.setCurrentIndex(dialog.format.findData("csv"))
            target = tmp_path / "cases.csv"
            dialog.save_as = lambda name, fmt: str(target)
            await dialog.export()
            assert dialog.written == target, dialog.message.text()
            with target.open(encoding="utf-8-sig") as handle:
                rows = list(csv.DictReader(handle))
            assert [r["标题"] for r in rows] == ["菱湖井盖缺失"]
            assert [r["街道"] for r in rows] == ["菱湖街道"]
            dialog.first.setDate(dialog.last.date().addDays(1))
            await dialog.export()
            assert dialog.message.text().startswith("导出失败：last ")
            assert "is before first" in dialog.message.text()
            dialog.close()
        finally:
            await client.ws.close()
            await stop_all(link, window, street_link, street)
            await running.server.stop()

    run_in_qt(qapp, qtbot, scenario)
