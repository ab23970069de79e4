"""The desk's Qt application: sign-in, the window, the session and (for the demo) a backend.

`desktop/app.py` reads the command line (`python -m desktop desk …`) and calls `run`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import time
from pathlib import Path

from desktop.core.backend import BackendError, EmbeddedBackend, default_data_dir
from desktop.core.sign_in import DEMO_USERS, SignInError, demo_token, shared_backend
from desktop.core.supervisor import Supervisor, follow_shared

log = logging.getLogger("desktop.desk")


def run(args: argparse.Namespace, token: str) -> int:
    """Run the desk until its window closes; return the exit code."""
    from PySide6.QtCore import QSize
    from PySide6.QtWidgets import QSystemTrayIcon

    import widgets.grid_map  # noqa: F401 - QtWebEngine before the QApplication
    from desktop.core.link import SessionThread
    from desktop.core.priority import make_display_critical
    from desktop.core.replica import Replica
    from desktop.ui.app import (
        abandon,
        end_with_window,
        follow_backend,
        run_until_closed,
        shoot,
        start_qt,
        wind_down,
    )
    from desktop.ui.desk import style
    from desktop.ui.desk.files import FileFetcher
    from desktop.ui.desk.sign_in import SignInDialog
    from desktop.ui.desk.window import DeskWindow
    from desktop.ui.thumbnails import ThumbnailLoader

    started = time.monotonic()
    app, loop = start_qt(args.lang)
    app.setStyleSheet(style.stylesheet())
    server, secret, who = args.server, token, args.who
    if not server and not who:
        dialog = SignInDialog()
        if not dialog.exec() or dialog.choice is None:
            return 1
        chosen, maybe_token = dialog.choice
        if maybe_token is None:
            who = chosen
        else:
            server, secret = chosen, maybe_token

    replica = Replica()
    window = DeskWindow(replica)
    width, _, height = args.size.partition("x")
    window.resize(int(width), int(height))
    window.show()
    if QSystemTrayIcon.isSystemTrayAvailable():
        tray = QSystemTrayIcon(app.windowIcon(), window)
        tray.show()
        window.tray = tray
    pages = {"todo": 0, "alerts": 1, "duty": 2, "map": 3}
    window.nav.setCurrentIndex(pages.get(args.page, 0))
    window.start_page = args.page

    backend: EmbeddedBackend | None = None
    supervisor: Supervisor | None = None
    session: SessionThread | None = None
    photos: ThumbnailLoader | None = None
    files: FileFetcher | None = None
    finished = asyncio.Event()
    live = asyncio.Event()
    exit_code = 0
    data = Path(args.data) if args.data else default_data_dir()
    extra = ["--speed", str(args.speed)] if args.speed != 1.0 else []
    extra += ["--start", args.start] if args.start else []

    async def own_backend() -> tuple[str, str]:
        """Start an embedded backend of our own, supervised: (url, token)."""
        nonlocal backend, supervisor
        assert who is not None
        backend = EmbeddedBackend(data, user=DEMO_USERS[who], args=extra)
        on_state = follow_backend(window.set_backend, lambda: session, lambda: photos)
        clock = replica.now if args.speed != 1.0 or args.start else None
        supervisor = Supervisor(backend, on_state=on_state, clock=clock)
        # A session in on it for a while: the backend is well again, its restarts count
        # afresh.
        window.linkChanged.connect(supervisor.link)
        return await supervisor.start(timeout=120)

    def moved(url: str) -> None:
        if session is not None:
            session.retarget(url)
        if photos is not None:
            photos.retarget(url)
        if files is not None:
            files.retarget(url)

    async def take_over() -> str:
        try:
            url, _ = await own_backend()
        except BackendError:
            if backend is not None:
                backend.stop()
            raise
        return url

    async def follow(owner: int) -> None:
        """A backend shared with a wall: followed where its wall restarts it; ours, and
        supervised, once that wall is gone."""
        assert session is not None
        link = session
        await follow_shared(
            data,
            owner,
            connected=lambda: link.status.connected,
            url=lambda: link.session.url,
            moved=moved,
            take_over=take_over,
        )
        assert supervisor is not None
        await supervisor.run()

    async def connect() -> None:
        nonlocal session, photos, files, exit_code, server, secret
        owner = 0
        if not server:
            shared = shared_backend(data)
            if shared is not None:
                server, owner = shared.url, shared.owner
                log.info("using the embedded backend already running on %s", server)
                try:
                    secret = demo_token(data, who)
                except SignInError as exc:
                    window.notice.setText(str(exc))
                    exit_code = 3
                    return
            else:
                window.notice.setText(window.tr("正在启动内置调度服务…"))
                try:
                    server, secret = await own_backend()
                except BackendError as exc:
                    log.error("embedded backend failed: %s\n%s", exc, exc.log_tail)
                    window.notice.setText(
                        window.tr("内置调度服务启动失败：%1").replace("%1", str(exc))
                    )
                    exit_code = 3
                    return
                window.notice.setText("")
        # A list of servers given: the next is used when one goes away (a standby).
        urls = args.servers if args.servers and server == args.server else [server]
        session = SessionThread(urls, secret, wake=window.coalescer.wake, client="tongguan-desk")
        window.listen(session.inbox, resync=session.resync)
        window.attach(session.command, session.history, session)
        window.use_replay(session.replay)
        photos = ThumbnailLoader(server, secret, size=QSize(640, 360), parent=window)
        window.use_photos(photos)
        files = FileFetcher(server, secret, parent=window)
        window.use_files(files)
        shown = asyncio.Event()
        window.snapshotShown.connect(shown.set)
        session.start()
        # Our own backend is restarted when it fails; a shared one is followed (with
        # --server the session alone reconnects).
        heal: asyncio.Future[None] | None = None
        if supervisor is not None:
            heal = asyncio.ensure_future(supervisor.run())
        elif owner:
            heal = asyncio.ensure_future(follow(owner))
        try:
            await serve(session, shown)
        finally:
            if heal is not None:
                heal.cancel()

    async def serve(session: SessionThread, shown: asyncio.Event) -> None:
        """Until the session ends (refused) or the window closes."""
        # After the session's thread has started (it keeps its priority): the GUI thread is
        # level with the display's threads, as on the wall.
        make_display_critical()
        run_task = asyncio.ensure_future(session.finished())
        connected = asyncio.ensure_future(shown.wait())
        await asyncio.wait({run_task, connected}, return_when=asyncio.FIRST_COMPLETED)
        if connected.done():
            log.info("desk usable %.2f s after start", time.monotonic() - started)
            gc.freeze()
            # Young objects collected less often: a busy list churns many (as on the wall).
            gc.set_threshold(50_000, 20, 100)
            live.set()
        else:
            connected.cancel()
        await run_task

    async def screenshot() -> None:
        await shoot(
            window,
            live,
            args.screenshot_after,
            args.screenshot,
            settled=lambda: not replica.kpis_partial,
        )

    end_with_window(app, loop, window, finished)

    async def main() -> None:
        task = asyncio.ensure_future(connect())
        shot = asyncio.ensure_future(screenshot()) if args.screenshot else None
        await finished.wait()
        await window.outbox.close()
        await wind_down([shot, task], session, backend)

    if not run_until_closed(loop, main(), lambda: abandon(session, backend)):
        return exit_code or 1
    return exit_code
