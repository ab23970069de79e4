"""`python -m desktop`: the wall display, on an embedded backend or a real one.

Without `--server` it starts the embedded backend (`dispatch demo` in a child process on
SQLite, with the simulator) and stops it on exit. With `--server URL` the token comes from
`--token-file` or $TONGGUAN_TOKEN, never from the command line.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desktop.core.backend import BackendError, EmbeddedBackend

log = logging.getLogger("desktop")


def with_servers(args: argparse.Namespace) -> argparse.Namespace:
    """`servers`: every --server URL in order (repeated, or comma lists); `server` the first
    (None: the embedded or demo backend)."""
    args.servers = [u.strip() for value in args.server or [] for u in value.split(",") if u.strip()]
    args.server = args.servers[0] if args.servers else None
    return args


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m desktop",
        description="通观 wall display (大屏). Without --server it runs an embedded backend.",
        allow_abbrev=False,  # "--token x" must never be taken for "--token-file x"
    )
    parser.add_argument("--token", action=_RefuseToken, help=argparse.SUPPRESS)
    parser.add_argument(
        "--server",
        action="append",
        help="backend websocket URL, e.g. ws://10.0.0.5:8765; several (repeated or a comma"
        " list): when one goes away the next is used",
    )
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
        "--screenshot-after",
        type=float,
        default=8.0,
        help="seconds to wait, once the day is loaded, before the screenshot",
    )
    parser.add_argument(
        "--screenshot-of",
        choices=("wall", "loading", "restart", "replay"),
        default="wall",
        help="what the screenshot shows: the complete wall; its loading state (nothing is"
        " started); the embedded backend killed (kill -9) and being restarted; 复盘, the"
        " wall three hours ago",
    )
    parser.add_argument(
        "--report-start",
        metavar="FILE",
        help="benchmarks: once the wall is complete, write its start-up marks (JSON) here and"
        " close",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    return with_servers(parser.parse_args(argv))


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
        # The map asks this server for these tiles and nothing else (widgets/grid_map.py).
        if not option.startswith(("http://", "https://")) or not all(
            key in option for key in ("{z}", "{x}", "{y}")
        ):
            raise SystemExit(f"--tiles: an http(s) URL with {{z}}, {{x}} and {{y}}: {option}")
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


def parse_desk_args(argv: list[str]) -> argparse.Namespace:
    """The desk's command line (`python -m desktop desk …`)."""
    parser = argparse.ArgumentParser(
        prog="python -m desktop desk",
        description="通观 desk (中屏管): act on cases. Without --server it uses the local demo.",
        allow_abbrev=False,
    )
    parser.add_argument("--token", action=_RefuseToken, help=argparse.SUPPRESS)
    parser.add_argument(
        "--as",
        dest="who",
        choices=("commander", "dispatcher", "street", "community", "admin"),
        help="sign in to the local demo as this demo user (street: 菱湖街道 sub-centre staff;"
        " admin: users and their tokens, page 管理 F5)",
    )
    parser.add_argument(
        "--server",
        action="append",
        help="backend websocket URL, e.g. ws://10.0.0.5:8765; several (repeated or a comma"
        " list): when one goes away the next is used",
    )
    parser.add_argument(
        "--token-file", help="file (mode 600) holding the token for --server (else $TONGGUAN_TOKEN)"
    )
    parser.add_argument("--data", help="data directory of the local demo backend")
    parser.add_argument("--speed", type=float, default=1.0, help="demo simulator speed")
    parser.add_argument("--start", metavar="YYYY-MM-DDTHH:MM", help="demo: district start time")
    parser.add_argument(
        "--page",
        choices=(
            "todo",
            "alerts",
            "duty",
            "map",
            "admin",
            "admin-roster",
            "admin-categories",
            "admin-intakes",
        ),
        default="todo",
        help="the page to open on (admin-roster, admin-categories, admin-intakes: 管理's 排班,"
        " 事项分类 and 接入 tabs)",
    )
    parser.add_argument("--lang", choices=("zh", "en"), default="zh")
    parser.add_argument("--size", default="1920x1080", help="window size")
    parser.add_argument("--screenshot", help="save a screenshot of the desk to this PNG, then exit")
    parser.add_argument("--screenshot-after", type=float, default=5.0)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = with_servers(parser.parse_args(argv))
    if args.server and args.who:
        parser.error("--as signs in to the local demo; with --server give --token-file")
    return args


def prepare_web_engine() -> None:
    """Environment the map's web engine needs, set before Qt starts."""
    # The page's script heap is collected by the page itself every 15 s (see grid_map):
    # V8 otherwise lets a day of batches pile up as garbage (+150 MiB in a simulated day).
    flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
    if "--expose-gc" not in flags:
        os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = (flags + " --js-flags=--expose-gc").strip()
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Chromium refuses to sandbox as root; the page is local and its requests are blocked.
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")


def main(argv: list[str] | None = None) -> int:
    """Run the wall (or, with `desk` first, the desk) until its window closes."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["desk"]:
        return desk(parse_desk_args(argv[1:]))
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    check_display()
    token = read_token(args) if args.server else ""
    tiles = tile_url(args.tiles)
    prepare_web_engine()
    loading_shot = bool(args.screenshot) and args.screenshot_of == "loading"
    backend = start_embedded(args) if not (args.server or loading_shot) else None

    from desktop.ui.app import run

    return run(args, token, tiles, backend)


def embedded_args(args: argparse.Namespace) -> list[str]:
    """The embedded backend's options from ours (the simulator's speed and start)."""
    extra = ["--speed", str(args.speed)] if args.speed != 1.0 else []
    return extra + (["--start", args.start] if args.start else [])


def start_embedded(args: argparse.Namespace) -> EmbeddedBackend | BackendError:
    """Spawn the embedded backend first of all: it loads the day while Qt and the window
    start. The backend, or why it could not be spawned (the window says so)."""
    from desktop.core.backend import BackendError, EmbeddedBackend

    backend = EmbeddedBackend(args.data, args=embedded_args(args))
    try:
        backend.start()
    except BackendError as exc:
        return exc
    return backend


def desk(args: argparse.Namespace) -> int:
    """Run the desk until its window closes; return the exit code."""
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    check_display()
    prepare_web_engine()
    token = ""
    if args.server and args.token_file:
        from desktop.core.sign_in import SignInError, read_token_file

        try:
            token = read_token_file(Path(args.token_file))
        except SignInError as exc:
            raise SystemExit(f"--token-file: {exc}") from None
    elif args.server:
        token = read_token(args)
    from desktop.ui.desk.app import run

    return run(args, token)
