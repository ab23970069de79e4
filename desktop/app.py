"""`python -m desktop`: the wall display, on an embedded backend or a real one.

Without `--server` it starts the embedded backend (`dispatch demo` in a child process on
SQLite, with the simulator) and stops it on exit. With `--server URL` the token comes from
`--token-file` or $TONGGUAN_TOKEN, never from the command line.
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
from pathlib import Path

log = logging.getLogger("desktop")

I18N = Path(__file__).resolve().parent / "i18n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m desktop",
        description="通观 wall display (大屏). Without --server it runs an embedded backend.",
        allow_abbrev=False,  # "--token x" must never be taken for "--token-file x"
    )
    parser.add_argument("--token", action=_RefuseToken, help=argparse.SUPPRESS)
    parser.add_argument("--server", help="backend websocket URL, e.g. ws://10.0.0.5:8765")
    parser.add_argument(
        "--token-file", help="file holding the token for --server (else $TONGGUAN_TOKEN)"
    )
    parser.add_argument("--data", help="data directory of the embedded backend")
    parser.add_argument("--speed", type=float, default=1.0, help="embedded simulator speed")
    parser.add_argument(
        "--start",
        metavar="YYYY-MM-DDTHH:MM",
        help="embedded simulator: start the district clock at this local time (a fresh --data)",
    )
    parser.add_argument("--kiosk", action="store_true", help="full screen, no chrome, no cursor")
    parser.add_argument("--screen", type=int, default=None, help="screen number for the wall")
    parser.add_argument(
        "--tour", type=float, default=None, help="seconds per street on tour (0: off)"
    )
    parser.add_argument("--lang", choices=("zh", "en"), default="zh")
    parser.add_argument("--mute", action="store_true", help="start muted")
    parser.add_argument(
        "--tiles", help="base map: an XYZ URL (intranet tile server) or a local tile folder"
    )
    parser.add_argument("--size", default="1920x1080", help="window size when not in kiosk")
    parser.add_argument("--screenshot", help="save a screenshot of the wall to this PNG, then exit")
    parser.add_argument(
        "--screenshot-after", type=float, default=8.0, help="seconds after data to shoot"
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser.parse_args(argv)


class _RefuseToken(argparse.Action):
    """A token on the command line would sit in shell history and `ps`: refuse it, unechoed."""

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        parser.error(
            "a token is never given on the command line: use --token-file or $TONGGUAN_TOKEN"
        )


def tile_url(option: str | None) -> str | None:
    """An XYZ URL as given, or a local folder as a file:// {z}/{x}/{y}.png template."""
    if not option:
        return None
    if "://" in option:
        return option
    folder = Path(option).expanduser().resolve()
    if not folder.is_dir():
        raise SystemExit(f"--tiles: no folder {folder}")
    return folder.as_uri() + "/{z}/{x}/{y}.png"


def read_token(args: argparse.Namespace) -> str:
    """The token for --server: from --token-file or $TONGGUAN_TOKEN."""
    if args.token_file:
        try:
            token = Path(args.token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SystemExit(f"--token-file: {exc.strerror}: {args.token_file}") from exc
    else:
        token = os.environ.get("TONGGUAN_TOKEN", "").strip()
    if not token:
        raise SystemExit("--server needs a token: --token-file FILE or $TONGGUAN_TOKEN")
    return token


def check_display() -> None:
    """Fail with a clear message instead of Qt's abort when there is no screen to draw on."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("QT_QPA_PLATFORM")
        or os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
    ):
        raise SystemExit(
            "no display: run this on a desktop session, or under `xvfb-run -a`, or with "
            "QT_QPA_PLATFORM=offscreen (screenshots only)"
        )


def main(argv: list[str] | None = None) -> int:
    """Run the wall until its window closes; return the exit code."""
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    check_display()
    token = read_token(args) if args.server else ""
    tiles = tile_url(args.tiles)
    # The page's script heap is collected by the page itself every 15 s (see grid_map):
    # V8 otherwise lets a day of batches pile up as garbage (+150 MiB in a simulated day).
    flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
    if "--expose-gc" not in flags:
        os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = (flags + " --js-flags=--expose-gc").strip()
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Chromium refuses to sandbox as root; the page is local and its requests are blocked.
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")

    # QtWebEngine must be imported before the QApplication exists.
    import qasync
    from PySide6.QtCore import QCoreApplication, QLocale, QSettings, Qt, QTimer, QTranslator
    from PySide6.QtWidgets import QApplication

    import widgets.grid_map  # noqa: F401
    from desktop import theme
    from desktop.backend import BackendError, EmbeddedBackend
    from desktop.link import SessionThread
    from desktop.priority import make_display_critical
    from desktop.replica import Replica
    from desktop.thumbnails import ThumbnailLoader
    from desktop.wall import WallWindow

    app = QApplication(sys.argv[:1])
    app.setApplicationName("tongguan")
    app.setOrganizationName("tongguan")
    translator = QTranslator(app)
    if args.lang == "en":
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
        window.listen(session.inbox, resync=session.resync)
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
        await live.wait()
        await asyncio.sleep(args.screenshot_after)
        window.grab().save(args.screenshot)
        log.info("screenshot saved to %s", args.screenshot)
        window.close()

    def shutdown() -> None:
        finished.set()

    # The loop ends when run() has stopped the session and the backend, not when Qt quits.
    app.setQuitOnLastWindowClosed(False)
    app.lastWindowClosed.connect(shutdown)
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGTERM, window.close)
        loop.add_signal_handler(signal.SIGINT, window.close)
    # Let Python see signals while Qt sleeps.
    heartbeat = QTimer()
    heartbeat.start(250)
    heartbeat.timeout.connect(lambda: None)

    async def run() -> None:
        task = asyncio.ensure_future(connect())
        shot = asyncio.ensure_future(screenshot()) if args.screenshot else None
        await finished.wait()
        for pending in (shot, task):
            if pending is not None:
                pending.cancel()
        if session is not None:
            with contextlib.suppress(Exception):
                await session.stop(patience=3)
        if backend is not None:
            backend.stop()

    with loop:
        main_task = loop.create_task(run())
        try:
            loop.run_until_complete(main_task)
        except RuntimeError as exc:
            if main_task.done():
                raise  # run() itself failed: not the case below
            # Qt's own loop ended under us: the display went away (an X server killed with
            # the terminal's Ctrl+C, say). The backend must not outlive the window.
            log.warning("the window's event loop ended early (%s): stopping", exc)
            if session is not None:
                session.inbox.close()
            if backend is not None:
                backend.stop()
            return exit_code or 1
    return exit_code
