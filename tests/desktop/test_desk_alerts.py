"""视频告警 (F2): the snapshot in hand uses the page's free space, its aspect kept, drawn at the
size shown, also when it arrived while the page was hidden (the desk opens on 我的待办)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSize, Qt

from desktop.ui.thumbnails import ThumbnailLoader
from dispatch.store.store import Image, Store
from dispatch.writer import DetectRequest
from tests.desktop.test_desk import SNAPSHOT, open_desk, press, ready, stop_all
from tests.desktop.test_wall import run_in_qt, until
from tests.dispatch.conftest import LINGHU, start_server


@pytest.mark.timeout(180)
def test_the_snapshot_fills_the_free_space_once_the_page_shows(
    qapp, qtbot, sqlite_store: Store
) -> None:
    async def scenario() -> None:
        running = await start_server(sqlite_store)
        url = f"ws://127.0.0.1:{running.port}"
        window, link = open_desk(url, running.tokens["linghu"])
        window.resize(1600, 900)
        window.use_photos(ThumbnailLoader(url, running.tokens["linghu"], parent=window))
        try:
            await ready(window)
            camera = next(
                c.code for c in running.server.reference.cameras.values() if c.street == LINGHU
            )
            answer = await running.server.submit(
                DetectRequest(camera, "exposed_garbage", 0.9, Image("image/svg+xml", SNAPSHOT))
            )
            alert_id = int(answer.data["alert"])
            page = window.alerts
            assert not page.isVisible()  # on 我的待办: the alerts page is built hidden
            await until(lambda: page.alert_id == alert_id, 10, "the alert in hand")
            await until(lambda: alert_id in page._sources, 10, "its snapshot fetched")
            assert page.image.has_snapshot()

            window.activateWindow()
            press(Qt.Key.Key_F2)
            await until(lambda: page.isVisible(), 5, "F2 shows the alerts page")
            image = page.image
            # The snapshot's widget takes what the page has left beside the list.
            assert image.width() >= 0.55 * window.width(), (image.width(), window.width())
            assert image.height() >= 0.5 * window.height(), (image.height(), window.height())
            # The snapshot (160x90 here) fills its width or its height, 16:9 kept, centred.
            target = image.target()
            assert target.width() / target.height() == pytest.approx(16 / 9, abs=0.01)
            fills_width = abs(target.width() - image.width()) <= 1
            fills_height = abs(target.height() - image.height()) <= 1
            assert fills_width or fills_height, (target, image.size())
            # Drawn at the size shown (not a small picture blown up).
            pixmap = image.rendered()
            assert pixmap is not None
            ratio = image.devicePixelRatioF()
            assert pixmap.size() == QSize(
                round(target.width() * ratio), round(target.height() * ratio)
            )
            # A larger window: larger still.
            before = target.width()
            window.resize(1900, 1000)
            await until(lambda: image.target().width() > before, 5, "grown with the window")
        finally:
            await stop_all(link, window)
            await running.server.stop()

    run_in_qt(qapp, qtbot, scenario)
