"""A desk shown on a real X server, watched through its first seconds (run by
test_desk_start.py as `python -m tests.desktop.desk_on_x11 URL TOKEN SECONDS` with DISPLAY set
to an Xvfb of its own).

It opens the desk as the application does (signed in on a real backend, the map page built
once the list is up), then until SECONDS have passed it grabs what the X server shows, every
20 ms and after every paint of the window, and notes every new native window id. It prints
one JSON line: the frames' mean brightness in order (from the first frame the window shows),
the window ids seen, and whether the map page was built meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

import widgets.grid_map  # noqa: F401 - QtWebEngine before the QApplication
from desktop.core.link import SessionThread
from desktop.core.replica import Replica
from desktop.ui.app import start_qt, until
from desktop.ui.desk import style
from desktop.ui.desk.window import DeskWindow


def brightness(image: QImage) -> float:
    """The mean of a sample of the image's pixels' grey levels (0 black, 1 white)."""
    small = image.scaled(96, 54).convertToFormat(QImage.Format.Format_Grayscale8)
    total = sum(small.pixelColor(x, y).red() for y in range(54) for x in range(96))
    return total / (96 * 54 * 255)


class Watcher(QObject):
    """Grabs the screen after the window's paints and on a timer; notes window ids."""

    def __init__(self, window: DeskWindow) -> None:
        super().__init__(window)
        self.window = window
        self.frames: list[float] = []
        self.ids: list[int] = []
        self._timer = QTimer(self)
        self._timer.setInterval(20)
        self._timer.timeout.connect(self.grab)
        self._timer.start()
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """After a paint, or a new native window, look at the screen."""
        kind = event.type()
        if kind == QEvent.Type.WinIdChange:
            self.ids.append(int(self.window.winId()))
        if kind in (QEvent.Type.Paint, QEvent.Type.WinIdChange, QEvent.Type.Expose):
            QTimer.singleShot(0, self.grab)
        return False

    def grab(self) -> None:
        """What the X server shows now (the whole screen: the root window)."""
        screen = QApplication.primaryScreen()
        if screen is None or not self.window.isVisible():
            return
        self.frames.append(brightness(screen.grabWindow(0).toImage()))


async def watch(url: str, token: str, seconds: float) -> dict[str, Any]:
    """Open the desk, watch it for `seconds`, close it; what was seen."""
    window = DeskWindow(Replica())
    window.resize(1280, 720)
    watcher = Watcher(window)
    window.show()
    shown_id = int(window.winId())
    link = SessionThread(url, token, wake=window.coalescer.wake, client="x11-desk")
    window.listen(link.inbox, resync=link.resync)
    window.attach(link.command, link.history, link)
    link.start()
    await asyncio.sleep(seconds)
    built = window.map.view is not None
    if built:  # a page closed mid-load aborts QtWebEngine at exit
        await asyncio.wait_for(until(lambda: window.map.map.is_ready), 20)
    await link.stop(patience=3)
    await window.outbox.close()
    result = {
        "shown_id": shown_id,
        "ids": watcher.ids,
        "last_id": int(window.winId()),
        "frames": watcher.frames,
        "map_built": built,
        "platform": QApplication.platformName(),
    }
    window.close()
    return result


def main() -> None:
    """Run the watch and print its JSON line."""
    url, token, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    app, loop = start_qt("zh")  # as the desk starts: palette, locale, the loop
    app.setStyleSheet(style.stylesheet())
    with loop:
        result = loop.run_until_complete(watch(url, token, seconds))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
