"""The desk of a city's commander: the duty page picks the district whose duty it shows and
acts on (a real server on port 0 holding 大观区 and 迎江区, a real desk window)."""

from __future__ import annotations

from dispatch.app import load_reference
from dispatch.server import DispatchServer
from tests.desktop.test_desk import open_desk, ready, stop_all
from tests.desktop.test_wall import run_in_qt, until
from tests.dispatch.conftest import Running
from tests.dispatch.test_city import DAGUAN, YINGJIANG, city_store


def test_a_city_commander_picks_the_district_on_the_duty_page(qapp, qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        store = city_store(f"sqlite:///{tmp_path / 'city.db'}")
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
            picker.setCurrentIndex(1)
            await until(lambda: "孙明辉" in page.duty.text(), 10, "迎江区's duty")
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
        finally:
            await theirs.ws.close()
            await stop_all(link, window)
            await server.stop()
            store.close()

    run_in_qt(qapp, qtbot, scenario)
