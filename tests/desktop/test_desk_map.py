"""The desk's map end to end: a case reported with script and HTML in every text reaches the
real map page as text, runs nothing there, and a click on its marker selects the case and
shows it in 我的待办 (a real backend in this process, a real QtWebEngine page)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from dispatch.store.store import Store
from protocol.messages import Result
from tests.desktop.test_desk import open_desk, ready, stop_all
from tests.desktop.test_wall import run_in_qt, until
from tests.dispatch.conftest import LINGHU, start_server
from tests.dispatch.test_server import report_args
from widgets.grid_map import GridMap

PAYLOAD = (
    "<img src=x onerror=\"window.pwned=1;console.log('pwned')\">"
    '<script>window.pwned=2</script><svg onload="window.pwned=3"></svg>'
    '<iframe src="file:///etc/hostname"></iframe>'
)
TITLE = "井盖缺失" + PAYLOAD
REPORTER = "王小明 13812345678"


async def page_js(view: GridMap, script: str) -> Any:
    """Evaluate JavaScript in the map page and return its value (through JSON)."""
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    view.page().runJavaScript(
        f"JSON.stringify({script})", 0, lambda value: future.done() or future.set_result(value)
    )
    return json.loads(await asyncio.wait_for(future, 5))


@pytest.mark.timeout(180)
def test_a_marker_click_selects_its_case_and_the_case_text_never_runs(
    qapp, qtbot, sqlite_store: Store, tmp_path
) -> None:
    async def scenario() -> None:
        running = await start_server(sqlite_store)
        window, link = open_desk(f"ws://127.0.0.1:{running.port}", running.tokens["commander"])
        try:
            await ready(window)
            client = await running.client("commander")
            try:
                args = report_args(running, LINGHU, title=TITLE)
                args |= {"address": "人民路1号" + PAYLOAD, "description": PAYLOAD}
                args |= {"reporter": REPORTER}
                answer = await client.command("report", args)
            finally:
                await client.ws.close()
            assert isinstance(answer, Result), answer
            event_id = int(answer.data["event"])
            await until(lambda: event_id in window.replica.events, 10, "the case at the desk")

            window.nav.setCurrentIndex(3)  # 地图 F4
            await until(lambda: window.map.view is not None, 10, "the map built")
            view = window.map.map
            await until(lambda: view.is_ready, 30, "the map page loaded")
            marker = f"e{event_id}"

            async def where() -> QPoint | None:
                point = await page_js(view, f"window.tg.point('{marker}')")
                return None if point is None else QPoint(round(point["x"]), round(point["y"]))

            # Until the marker is on the page and the page has framed the district.
            point, settled = None, 0
            while settled < 3:
                await asyncio.sleep(0.2)
                now = await where()
                settled = settled + 1 if now is not None and now == point else 0
                point = now
            assert point is not None
            target = view.focusProxy() or view
            tips = "Array.from(document.querySelectorAll('.leaflet-tooltip'), t => t.textContent)"
            label = f"{window.replica.events[event_id].code} {TITLE}"
            for step in range(60):  # hover, a pixel to and fro, until the tooltip shows
                QTest.mouseMove(target, point + QPoint(step % 3 - 1, 0))
                await asyncio.sleep(0.05)
                if label in await page_js(view, tips):
                    break
            assert label in await page_js(view, tips)  # the title as written, as text

            chosen: list[int] = []
            window.map.caseChosen.connect(chosen.append)
            QTest.mouseClick(target, Qt.MouseButton.LeftButton, pos=point)
            await until(lambda: window.case_pane.event_id == event_id, 5, "the case selected")
            assert chosen == [event_id] and window.nav.currentIndex() == 0  # shown in 我的待办
            item = window.map.cases.currentItem()
            assert item is not None and item.text().startswith(label.split(" ", 1)[0])
            card = window.case_pane.card.view()
            assert card is not None and card.title == TITLE and card.description == PAYLOAD
            # A commander calls the reporter back: the desk shows the reporter in full.
            assert ("反映人", REPORTER) in card.fields

            await asyncio.sleep(0.3)  # time for anything that would have run
            assert await page_js(view, "typeof window.pwned") == "undefined"
            assert await page_js(view, "document.querySelectorAll('iframe, svg').length") == 0
            assert view.console_messages == [] and view.blocked_requests == []

            # The map as it stands, saved as one file to pass on (导出态势图): the case is in
            # it as data (no "<" of its texts in the file), with no file left half written.
            folder = tmp_path / "out"
            folder.mkdir()
            saved = folder / "态势图.html"
            assert window.map.write_situation_map(saved) >= 1
            html = saved.read_text(encoding="utf-8")
            assert f'"e{event_id}"' in html and "井盖缺失\\u003cimg src=x" in html
            assert "<img" not in html and "<iframe" not in html
            assert sorted(p.name for p in folder.iterdir()) == ["态势图.html"]
            with pytest.raises(OSError):
                window.map.write_situation_map(folder / "missing" / "x.html")
            assert sorted(p.name for p in folder.iterdir()) == ["态势图.html"]
        finally:
            await stop_all(link, window)
            await running.server.stop()

    run_in_qt(qapp, qtbot, scenario)
