"""The desk of a city's commander: the duty page picks the district whose duty it shows and
acts on; the export offers each category code once, by every district's names, and a code
only a further district has exports its cases (a real server on port 0 holding 大观区 and
迎江区, 迎江区 with its own category table, a real desk window)."""

from __future__ import annotations

import csv

from desktop.ui.desk.files import FileFetcher
from dispatch.app import load_reference
from dispatch.cli import main
from dispatch.server import DispatchServer
from protocol.messages import Result
from tests.desktop.test_desk import open_desk, ready, stop_all
from tests.desktop.test_wall import run_in_qt, until
from tests.dispatch.conftest import Running
from tests.dispatch.test_city import BINJIANG, DAGUAN, YINGJIANG, city_store, report
from tests.dispatch.test_city_reports import OWN, RENAMED, yingjiang_table


def test_a_city_commander_picks_the_district_on_the_duty_page(qapp, qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        url = f"sqlite:///{tmp_path / 'city.db'}"
        store = city_store(url)
        table = str(yingjiang_table(tmp_path))
        assert main(["--url", url, "load-categories", table, "--district", YINGJIANG]) == 0
        tokens = {
            "city": store.create_user("市指挥长", "commander"),
            "yingjiang": store.create_user("迎江区指挥长", "commander", [YINGJIANG]),
        }
        server = DispatchServer(store, load_reference(store))
        running = Running(server, store, await server.start("127.0.0.1", 0), tokens)
        theirs = await running.client("yingjiang")
        window, link = open_desk(f"ws://127.0.0.1:{running.port}", tokens["city"])
        try:
            await ready(window)
            boss = await running.client("city")
            for client in (boss, theirs):
                await client.until(lambda m: m.__class__.__name__ == "Snapshot")
            assert (
                await boss.command("handover", {"commander": "王建国", "district": DAGUAN})
            ).__class__.__name__ == "Result"
            done = await theirs.command("handover", {"commander": "孙明辉"})
            assert done.__class__.__name__ == "Result", done
            await boss.ws.close()
            page = window.duty
            window.nav.setCurrentIndex(2)
            picker = page.district_picker
            await until(lambda: picker.isVisible() and picker.count() == 2, 10, "the picker")
            assert [picker.itemText(i) for i in range(2)] == ["大观区", "迎江区"]
            await until(lambda: "王建国" in page.duty.text(), 10, "大观区's duty")
            # The handover reports list the district picked, unasked (no 刷新 pressed).
            shifts = page.reports.list

            def listed(commander: str) -> bool:
                return shifts.count() == 1 and commander in shifts.item(0).text()

            await until(lambda: listed("王建国"), 10, "大观区's shifts listed")
            picker.setCurrentIndex(1)
            await until(lambda: "孙明辉" in page.duty.text(), 10, "迎江区's duty")
            await until(lambda: listed("孙明辉"), 10, "迎江区's shifts listed")
            # An instruction from the page goes to the district picked.
            page.open_form("instruct")
            page.form.submitted.emit({"text": "迎江沿江加强巡查"})
            await until(
                lambda: server.state.duties[YINGJIANG].instructions[-1:] != [],
                10,
                "the instruction stored",
            )
            assert server.state.duties[YINGJIANG].instructions[-1].text == "迎江沿江加强巡查"
            assert not server.state.duties[DAGUAN].instructions[1:]
            lines = page.lists["instructions"]
            await until(lambda: lines.count() >= 1, 10, "the instruction listed")
            assert "迎江沿江加强巡查" in lines.item(0).text()
            # The desk holds the city's units, named after the city.
            units = window.replica.units
            assert units is not None and units.district_name == "安庆市"
            assert window.who.text().endswith("全市")

            # The export: each code once, named as each district's table names it.
            args = {**report(running, BINJIANG, "江滩漂浮垃圾"), "category": "01-97"}
            reported = await theirs.command("report", args)
            assert isinstance(reported, Result), reported
            window.use_files(
                FileFetcher(f"ws://127.0.0.1:{running.port}", tokens["city"], parent=window)
            )
            dialog = window.open_export()
            assert dialog is not None
            box = dialog.category
            codes = [box.itemData(i) for i in range(1, box.count())]
            assert len(codes) == len(set(codes)) and "01-97" in codes
            assert box.itemText(box.findData("01-02")) == f"01-02 暴露垃圾／{RENAMED}"
            box.setCurrentIndex(box.findData("01-97"))
            dialog.format.setCurrentIndex(dialog.format.findData("csv"))
            target = tmp_path / "01-97.csv"
            dialog.save_as = lambda name, fmt: str(target)
            await dialog.export()
            assert dialog.written == target, dialog.message.text()
            with target.open(encoding="utf-8-sig") as handle:
                rows = list(csv.DictReader(handle))
            code = server.state.events[int(reported.data["event"])].code
            assert [(r["案件编号"], r["类别"]) for r in rows] == [(code, OWN)]
            dialog.close()
        finally:
            await theirs.ws.close()
            await stop_all(link, window)
            await server.stop()
            store.close()

    run_in_qt(qapp, qtbot, scenario)
