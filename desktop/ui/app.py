"""The wall's Qt application: the window, its event loop, the session and the backend.

`desktop/app.py` reads the command line and prepares the environment, then calls `run`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from desktop.i18n import FOLDER as I18N

if TYPE_CHECKING:
    import qasync
    from PySide6.QtWidgets import QApplication, QWidget

    from desktop.core.backend import EmbeddedBackend
    from desktop.core.link import SessionThread

log = logging.getLogger("desktop")


def start_qt(lang: str) -> tuple[QApplication, qasync.QEventLoop]:
    """The application in `lang` with the dark palette, and its asyncio loop (installed)."""
    import qasync
    from PySide6.QtCore import QLocale, QTranslator
    from PySide6.QtWidgets import QApplication

    from desktop.ui import theme

    app = QApplication(sys.argv[:1])
    app.setApplicationName("tongguan")
    app.setOrganizationName("tongguan")
    translator = QTranslator(app)
    if lang == "en":
        if translator.load(str(I18N / "tongguan_en.qm")):
            app.installTranslator(translator)
        else:
            log.warning("no English translation at %s: showing Chinese", I18N)
        QLocale.setDefault(QLocale(QLocale.Language.English))
    else:
        QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    theme.apply_palette(app)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    return app, loop


def end_with_window(
    app: QApplication, loop: qasync.QEventLoop, window: QWidget, finished: asyncio.Event
) -> None:
    """Set `finished` when the last window closes; SIGTERM and SIGINT close the window.

    The loop then ends when the caller has stopped the session and the backend, not when Qt
    quits. A heartbeat owned by the window lets Python see signals while Qt sleeps.
    """
    from PySide6.QtCore import QTimer

    app.setQuitOnLastWindowClosed(False)
    app.lastWindowClosed.connect(finished.set)
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGTERM, window.close)
        loop.add_signal_handler(signal.SIGINT, window.close)
    heartbeat = QTimer(window)
    heartbeat.start(250)
    heartbeat.timeout.connect(lambda: None)


async def shoot(
    window: QWidget,
    live: asyncio.Event,
    after: float,
    path: str,
    settled: Callable[[], bool] = lambda: True,
    patience: float = 120.0,
) -> None:
    """Once live, `settled` (the backend no longer catching up on the day, say; at most
    `patience` seconds) and `after` seconds on, save the screen's pixels of the window, then
    close it (a widget grab can miss the map's last web frame)."""
    await live.wait()
    waited = 0.0
    while not settled() and waited < patience:
        await asyncio.sleep(0.25)
        waited += 0.25
    await asyncio.sleep(after)
    screen = window.screen()
    shot = screen.grabWindow(window.winId()) if screen is not None else window.grab()
    if shot.isNull():
        shot = window.grab()
    shot.save(path)
    log.info("screenshot saved to %s", path)
    window.close()


async def wind_down(
    tasks: list[asyncio.Future[None] | None],
    session: SessionThread | None,
    backend: EmbeddedBackend | None,
) -> None:
    """The window closed: cancel its tasks, stop the session, then the embedded backend."""
    for pending in tasks:
        if pending is not None:
            pending.cancel()
    if session is not None:
        with contextlib.suppress(Exception):
            await session.stop(patience=3)
    if backend is not None:
        backend.stop()


def abandon(session: SessionThread | None, backend: EmbeddedBackend | None) -> None:
    """The loop is gone under us: drop the session's output; the backend must not outlive the
    window."""
    if session is not None:
        session.inbox.close()
    if backend is not None:
        backend.stop()


def run_until_closed(
    loop: qasync.QEventLoop, main: Coroutine[Any, Any, None], stop_now: Callable[[], None]
) -> bool:
    """Run `main` to its end; False when Qt's own loop ended first (the display went away:
    an X server killed with the terminal's Ctrl+C, say), after calling `stop_now`."""
    with loop:
        task = loop.create_task(main)
        try:
            loop.run_until_complete(task)
        except RuntimeError as exc:
            if task.done():
                raise  # main itself failed: not the case below
            log.warning("the window's event loop ended early (%s): stopping", exc)
            stop_now()
            return False
    return True


def run(args: argparse.Namespace, token: str, tiles: str | None) -> int:
    """Run the wall until its window closes; return the exit code."""
    # QtWebEngine must be imported before the QApplication exists.
    from PySide6.QtCore import QCoreApplication, QSettings, Qt

    import widgets.grid_map  # noqa: F401
    from desktop.core.backend import BackendError, EmbeddedBackend
    from desktop.core.link import SessionThread
    from desktop.core.priority import make_display_critical
    from desktop.core.replica import Replica
    from desktop.ui.thumbnails import ThumbnailLoader
    from desktop.ui.wall import WallWindow

    app, loop = start_qt(args.lang)

    replica = Replica()
    window = WallWindow(replica, tile_url=tiles)
    settings = QSettings()
    window.header.set_muted(args.mute or bool(settings.value("muted", False, type=bool)))
    window.header.muteToggled.connect(lambda muted: settings.setValue("muted", muted))
    width, _, height = args.size.partition("x")
    if args.kiosk:
        window.setWindowFlags(Qt.WindowType.FramelessWindowHint | Qt.WindowType.Window)
        screens = app.screens()
        screen = app.primaryScreen()
        if args.screen is not None:
            if 0 <= args.screen < len(screens):
                screen = screens[args.screen]
            else:
                # A wall that stays dark helps nobody: show it, and say where to look.
                known = ", ".join(f"{i} {s.name()}" for i, s in enumerate(screens))
                log.warning(
                    "no screen %d (screens: %s); the wall is on the primary screen, %s",
                    args.screen,
                    known,
                    screen.name(),
                )
        window.setScreen(screen)
        window.setGeometry(screen.geometry())
        window.showFullScreen()
        app.setOverrideCursor(Qt.CursorShape.BlankCursor)
    else:
        window.resize(int(width), int(height))
        window.show()
    tour = args.tour if args.tour is not None else (20.0 if args.kiosk else 0.0)

    backend: EmbeddedBackend | None = None
    session: SessionThread | None = None
    finished = asyncio.Event()
    live = asyncio.Event()
    exit_code = 0

    async def connect() -> None:
        nonlocal backend, session, exit_code
        url, secret = args.server, token
        if not url:
            extra = ["--speed", str(args.speed)] if args.speed != 1.0 else []
            extra += ["--start", args.start] if args.start else []
            backend = EmbeddedBackend(args.data, args=extra)
            window.banner.setText(
                QCoreApplication.translate(
                    "WallWindow", "正在启动内置调度服务（首次启动需载入全区数据）…"
                )
            )
            backend.start()
            try:
                url, secret = await backend.wait_ready(timeout=120)
            except BackendError as exc:
                log.error("embedded backend failed: %s\n%s", exc, exc.log_tail)
                window.banner.setText(
                    QCoreApplication.translate("WallWindow", "内置调度服务启动失败：%s") % str(exc)
                )
                exit_code = 3
                return
        # The socket and the decoding run on a thread of their own; each frame the window
        # takes what arrived.
        session = SessionThread(url, secret, wake=window.coalescer.wake)
        window.listen(session.inbox, resync=session.resync, history=session.history)
        loader = ThumbnailLoader(url, secret, parent=window)
        loader.loaded.connect(window.thumbnail_loaded)
        window.thumbnail_loader = loader
        shown = asyncio.Event()
        window.snapshotShown.connect(shown.set)
        session.start()
        # After the embedded backend and the session's thread have started: they keep
        # their priority; the GUI thread is level with QtWebEngine's display threads.
        make_display_critical()
        run = asyncio.ensure_future(session.finished())
        connected = asyncio.ensure_future(shown.wait())
        # The session ends by itself only when the backend refuses us (a bad token): the
        # banner says so through the status callback.
        await asyncio.wait({run, connected}, return_when=asyncio.FIRST_COMPLETED)
        if connected.done():
            # What start-up built (Qt wrappers, the units, the first snapshot) lives for the
            # whole run: out of the collector's reach; young objects collected less often.
            gc.freeze()
            gc.set_threshold(50_000, 20, 100)
            live.set()
            if tour > 0:
                window.start_tour(tour)
        else:
            connected.cancel()
        await run

    async def screenshot() -> None:
        await shoot(
            window,
            live,
            args.screenshot_after,
            args.screenshot,
            settled=lambda: not replica.kpis_partial,
        )

    end_with_window(app, loop, window, finished)

    async def run() -> None:
        task = asyncio.ensure_future(connect())
        shot = asyncio.ensure_future(screenshot()) if args.screenshot else None
        await finished.wait()
        await wind_down([shot, task], session, backend)

    if not run_until_closed(loop, run(), lambda: abandon(session, backend)):
        return exit_code or 1
    return exit_code
