"""The wall's Qt application: the window, its event loop, the session and the backend.

`desktop/app.py` reads the command line and prepares the environment, then calls `run`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from desktop.i18n import FOLDER as I18N

if TYPE_CHECKING:
    import qasync
    from PySide6.QtWebEngineWidgets import QWebEngineView
    from PySide6.QtWidgets import QApplication, QWidget

    from desktop.core.backend import BackendError, EmbeddedBackend
    from desktop.core.link import SessionThread
    from desktop.core.supervisor import BackendState, Supervisor
    from desktop.ui.thumbnails import ThumbnailLoader
    from desktop.ui.wall import WallWindow

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


REPLAY_SHOT_BACK = 3 * 3600.0  # --screenshot-of replay: this long before the present


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


async def until(predicate: Callable[[], bool], every: float = 0.05) -> None:
    """Return once `predicate()` holds (looked at every `every` seconds)."""
    while not predicate():  # noqa: ASYNC110 - what it waits for has no signal of its own
        await asyncio.sleep(every)


async def page_caught_up(view: QWebEngineView, patience: float = 10.0) -> None:
    """Return once a web page has run every script sent to it before this call."""
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def answered(_value: object) -> None:
        if not done.done():
            done.set_result(None)

    view.page().runJavaScript("0", 0, answered)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done, patience)


def loading_outline(window: WallWindow, key: str, embedded: bool) -> None:
    """Draw the district's outline on the map before the backend answers: the one last seen
    from this backend, else (the embedded demo) the default district's."""
    from desktop.core import outline

    found = outline.recall(key) or (outline.bundled() if embedded else None)
    if found is not None:
        window.map_view.show_outline(*found)


def follow_backend(
    show: Callable[[BackendState], None],
    session: Callable[[], SessionThread | None],
    loader: Callable[[], ThumbnailLoader | None],
) -> Callable[[BackendState], None]:
    """The supervisor's callback: `show` tells the screen what happens; once the backend is
    back (perhaps on another port) the session and the snapshot loader go to it at once."""

    def on_state(state: BackendState) -> None:
        show(state)
        link = session()
        if state.phase == "ready" and link is not None:
            link.retarget(state.url)
            photos = loader()
            if photos is not None:
                photos.retarget(state.url)

    return on_state


def wall_session(window: WallWindow, url: str | Sequence[str], secret: str) -> SessionThread:
    """The wall's session, on a thread of its own (not started), and its snapshot loader,
    wired to the window: each frame the window takes what arrived."""
    from desktop.core.link import SessionThread
    from desktop.ui.thumbnails import ThumbnailLoader

    session = SessionThread(url, secret, wake=window.coalescer.wake, view=window.replica.view)
    window.listen(
        session.inbox, resync=session.resync, history=session.history, replay=session.replay
    )
    loader = ThumbnailLoader(url if isinstance(url, str) else url[0], secret, parent=window)
    loader.loaded.connect(window.thumbnail_loaded)
    window.thumbnail_loader = loader
    return session


def wall_supervisor(
    window: WallWindow,
    backend: EmbeddedBackend,
    session: Callable[[], SessionThread | None],
    clock: Callable[[], float] | None = None,
) -> Supervisor:
    """The supervisor of the wall's embedded backend: the banner tells its restarts, and
    the session (`session()`, once there is one) follows it."""
    from desktop.core.supervisor import Supervisor

    on_state = follow_backend(window.set_backend, session, lambda: window.thumbnail_loader)
    supervisor = Supervisor(backend, on_state=on_state, clock=clock)
    # A session in on it for a while: the backend is well again, its restarts count afresh.
    window.linkChanged.connect(supervisor.link)
    return supervisor


def run(
    args: argparse.Namespace,
    token: str,
    tiles: str | None,
    embedded: EmbeddedBackend | BackendError | None = None,
) -> int:
    """Run the wall until its window closes; return the exit code.

    `embedded`: the embedded backend already spawned (desktop.app starts it before Qt, so
    that it loads while the window starts), or why it could not be; None with --server.
    """
    # QtWebEngine must be imported before the QApplication exists.
    from PySide6.QtCore import QCoreApplication, QSize, QTimer

    import widgets.grid_map  # noqa: F401
    from desktop.core.backend import BackendError
    from desktop.core.priority import make_display_critical
    from desktop.core.replica import Replica
    from desktop.core.startup import Milestones
    from desktop.ui.wall import WallWindow

    milestones = Milestones()
    app, loop = start_qt(args.lang)

    # The wall shows only what is open: it asks for no finished cases (a day and a half of
    # them would be ~90 % of its first snapshot) and forgets each case once it is finished.
    replica = Replica(view="open")
    window = WallWindow(replica, tile_url=tiles)
    # Every start rings (a wall muted yesterday must not miss today's 特急 chimes): muted
    # only with --mute; M mutes until the wall is closed.
    window.header.set_muted(args.mute)
    width, _, height = args.size.partition("x")
    window.normal_size = QSize(int(width), int(height))
    if args.kiosk:
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
        window.enter_kiosk(screen)
    else:
        window.resize(window.normal_size)
        window.show()
    # Active, so that its keys work from the start (an X server without a window manager
    # gives the keyboard to no one otherwise).
    window.activateWindow()
    QTimer.singleShot(0, lambda: milestones.mark("window shown"))
    backend = embedded if not isinstance(embedded, BackendError) else None
    key = args.server or f"embedded:{backend.data_dir.resolve() if backend else args.data}"
    loading_outline(window, key, embedded=not args.server)
    tour = args.tour if args.tour is not None else (20.0 if args.kiosk else 0.0)

    session: SessionThread | None = None
    supervisor: Supervisor | None = None
    finished = asyncio.Event()
    live = asyncio.Event()
    complete = asyncio.Event()
    exit_code = 0

    def failed(exc: BackendError) -> None:
        nonlocal exit_code
        log.error("embedded backend failed: %s\n%s", exc, exc.log_tail)
        window.banner.show_alarm(
            QCoreApplication.translate("WallWindow", "内置调度服务启动失败：%s") % str(exc)
        )
        exit_code = 3

    def still_starting() -> None:
        if window.status is None:  # a first start on a fresh data directory: say why
            window.banner.show_progress(
                QCoreApplication.translate(
                    "WallWindow",
                    "正在连接调度服务…（内置调度服务启动中，首次启动需载入全区数据）",
                )
            )

    async def connect() -> None:
        nonlocal supervisor
        url: str | Sequence[str] = args.servers
        secret = token
        watch: asyncio.Future[None] | None = None
        if isinstance(embedded, BackendError):
            failed(embedded)
            return
        if backend is not None:
            # Demo clocks that are not real time restart where the district was.
            clock = replica.now if args.speed != 1.0 or args.start else None
            supervisor = wall_supervisor(window, backend, lambda: session, clock)
            slow = loop.call_later(5.0, still_starting)
            try:
                url, secret = await supervisor.start(timeout=120)
            except BackendError as exc:
                failed(exc)
                return
            finally:
                slow.cancel()
            milestones.mark("backend ready")
            # From now on a backend that dies or hangs is started again (until the window
            # closes and this task is cancelled).
            watch = asyncio.ensure_future(supervisor.run())
        try:
            await serve(url, secret)
        finally:
            if watch is not None:
                watch.cancel()

    async def serve(url: str | Sequence[str], secret: str) -> None:
        """The session on `url`, until it ends (refused) or the window closes."""
        nonlocal session
        # The socket and the decoding run on a thread of their own; each frame the window
        # takes what arrived.
        session = wall_session(window, url, secret)
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
            milestones.mark("snapshot shown")
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

    async def completed() -> None:
        """Note when the wall is complete: every panel has the snapshot, the figures are
        whole (not the backend's catch-up), the map has drawn it all."""
        await live.wait()
        whole = asyncio.Event()

        def check(*_: object) -> None:
            if not replica.kpis_partial:
                milestones.mark("figures whole")
            if window.map_view.drawn():
                milestones.mark("map sent")
            if not replica.kpis_partial and window.map_view.drawn():
                whole.set()

        # Looked at after every frame, every map batch and the page's (re)load.
        signals = (window.coalescer.flushed, window.map_view.pump.flushed, window.map.ready)
        for source in signals:
            source.connect(check)
        check()
        await whole.wait()
        for source in signals:
            source.disconnect(check)
        await page_caught_up(window.map)
        milestones.mark("wall complete")
        log.info("the wall is complete: %s (since the process started)", milestones.summary())
        if replica.units is not None:
            from desktop.core import outline

            outline.remember(key, replica.units)
        complete.set()
        if args.report_start:
            milestones.write(args.report_start)
            window.close()

    async def screenshot() -> None:
        if args.screenshot_of == "wall":
            await shoot(window, complete, args.screenshot_after, args.screenshot)
            return
        ready = asyncio.Event()
        if args.screenshot_of == "loading":
            # Nothing was started: the wall as it is before the backend answers.
            await until(lambda: window.map.is_ready)
            await page_caught_up(window.map)
            ready.set()
        elif args.screenshot_of == "replay":
            # 复盘: the wall three hours ago, as it was then.
            await complete.wait()
            window.replay.enter()
            await until(lambda: window.replay.active)
            await window.replay.seek(replica.now() - REPLAY_SHOT_BACK)
            ready.set()
        elif backend is not None and backend.pid is not None:
            await complete.wait()
            os.kill(backend.pid, signal.SIGKILL)
            await until(lambda: window.backend is not None and window.backend.phase == "restarting")
            ready.set()
        await shoot(window, ready, args.screenshot_after, args.screenshot)

    end_with_window(app, loop, window, finished)

    async def main() -> None:
        loading_shot = args.screenshot and args.screenshot_of == "loading"
        task = asyncio.ensure_future(connect()) if not loading_shot else None
        done = asyncio.ensure_future(completed())
        shot = asyncio.ensure_future(screenshot()) if args.screenshot else None
        await finished.wait()
        await wind_down([shot, done, task], session, backend)

    if not run_until_closed(loop, main(), lambda: abandon(session, backend)):
        return exit_code or 1
    return exit_code
