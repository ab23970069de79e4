"""The dispatch backend's command line: database, district, users, serve, demo, watch."""

from __future__ import annotations

import _thread
import argparse
import asyncio
import contextlib
import getpass
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from dispatch import exits
from dispatch.app import (
    CALENDAR_META,
    DEFAULT_SEED,
    calendar_overlays,
    data_dir,
    default_url,
    load_district,
    load_reference,
    loaded_calendar_years,
    parse_districts,
    prepare,
    read_calendar_file,
    store_calendar_year,
    working_calendar,
)
from dispatch.clock import Clock
from dispatch.domain.calendar import CalendarError, shipped_years
from dispatch.domain.district import DEFAULT_CODE, DISTRICT_CODES
from dispatch.intake.config import ConfigError, IntakeConfig, load_config
from dispatch.intake.demo import write_demo_config
from dispatch.logs import DATE_FORMAT, LOG_BACKUPS, LOG_FORMAT, LOG_MAX_BYTES, log_to_file
from dispatch.pools import default_workers, started_pool
from dispatch.private import private_dir, write_private, write_whole
from dispatch.store.store import (
    AdminEntry,
    Store,
    StoreError,
    check_update,
    redact_url,
    user_detail,
)
from protocol.entities import ROLES, SOURCES, STATUSES

if TYPE_CHECKING:
    from dispatch.intake.citizen_app import CitizenApp
    from dispatch.intake.platform import FakePlatform
    from dispatch.server import DispatchServer, Role
    from dispatch.simulator import Simulator

log = logging.getLogger("dispatch")

# (name, role, jurisdiction: street codes, or community codes for role community)
DEMO_USERS = (
    ("demo-wall", "wall", ()),
    ("demo-commander", "commander", ()),
    ("demo-dispatcher", "dispatcher", ()),
    ("demo-linghu", "street", ("340803004",)),
    ("demo-community", "community", ("340803004001",)),  # 菱湖街道's first community
    ("demo-admin", "admin", ()),  # the desk's 管理 page: users and their tokens
)
# The names the demo users are shown by (the simulator's own actors are named alike: the
# centre's duty staff, "菱湖街道分中心", "县干指挥长").
DEMO_NAMES = {
    "demo-wall": "指挥大厅大屏",
    "demo-commander": "县干指挥长",
    "demo-dispatcher": "区联动中心 钱峰",
    "demo-linghu": "菱湖街道分中心 王芳",
    "demo-community": "菱湖社区工作站 陈静",
    "demo-admin": "系统管理员 吴敏",
}
# A city demo (demo --districts): a wall for each district, named by its adcode.
DISTRICT_DEMO_NAME = "demo-wall-{code}"


def _logging(verbose: bool, log_file: Path | None = None) -> None:
    # One line per outbound request (httpx), server start (uvicorn), page laid out (a
    # handover report's PDF: weasyprint, fontTools) or Alembic plugin (at every start) is
    # noise in a log that says what the centre did; their warnings and errors still come
    # through. (Alembic's "Running upgrade" lines stay: a migration is an event.)
    noisy_loggers = ("httpx", "httpcore", "uvicorn.error", "weasyprint", "fontTools")
    for noisy in (*noisy_loggers, "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if log_file is not None:
        # Rotated by size, mode 600; stdout and stderr go there too (see dispatch/logs.py).
        log_to_file(log_file, verbose)
        return
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format=LOG_FORMAT, datefmt=DATE_FORMAT
    )
    logging.getLogger("websockets").setLevel(logging.WARNING)


def _write_secret(path: Path, secret: str) -> None:
    # Mode 600 from the start, atomically; a symlink at `path` is replaced, never followed.
    write_private(path, secret + "\n")


def demo_token(store: Store, name: str, role: str, codes: tuple[str, ...]) -> Path:
    """Make sure a demo user exists with a token in the data dir's tokens/ (mode 600), and
    with its display name (a data dir made before there were any gets them)."""
    path = private_dir(data_dir() / "tokens") / f"{name}.token"
    shown = DEMO_NAMES.get(name, "")
    if path.exists():
        user = store.authenticate(path.read_text().strip())
        if user is not None and user.name == name:
            if shown and name not in store.people():
                store.update_user(name, display_name=shown)
            return path
    streets, communities = ((), codes) if role == "community" else (codes, ())
    token = store.create_user(name, role, streets, communities, display_name=shown)
    _write_secret(path, token)
    return path


class ParentWatch:
    """`--exit-with-parent`: when stdin reaches EOF the parent has gone, so shut down cleanly.

    The parent (the desktop) holds the write end of our stdin pipe; the kernel closes it when
    the parent exits for any reason, SIGKILL included. A daemon thread blocks reading stdin;
    at EOF it asks the event loop to stop (the SIGTERM/Ctrl-C path). Before the loop serves,
    it interrupts the main thread instead, which unwinds like Ctrl-C.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._gone = False
        self._stop: Callable[[], None] | None = None

    def start(self) -> None:
        threading.Thread(target=self._watch, name="parent-watch", daemon=True).start()

    def _watch(self) -> None:
        # os.read on the descriptor, not sys.stdin: a daemon thread holding the buffered
        # reader's lock would make interpreter shutdown abort.
        try:
            fd = sys.stdin.fileno()
            while os.read(fd, 4096):
                pass
        except (AttributeError, OSError, ValueError):
            pass  # no usable stdin: treat like EOF
        with self._lock:
            self._gone = True
            stop = self._stop
        log.info("parent process gone (stdin closed): shutting down")
        if stop is None:
            _thread.interrupt_main()
        else:
            stop()

    def attach(self, stop: Callable[[], None]) -> None:
        """From now on, EOF calls `stop` (from the watch thread); at once if it came already."""
        with self._lock:
            self._stop = stop
            gone = self._gone
        if gone:
            stop()


def _client_host(host: str) -> str:
    """The address a local client uses for a server bound to `host`."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - mapping the wildcard, not binding it
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def write_ready_file(path: Path, url: str, intake: str = "") -> None:
    """Atomically write {"url", "pid", "data"} (and "intake": the intake HTTP server's base
    URL, when one serves) once the server listens (mode 600)."""
    doc: dict[str, object] = {"url": url, "pid": os.getpid(), "data": str(data_dir())}
    if intake:
        doc["intake"] = intake
    write_private(path, json.dumps(doc) + "\n")


def remove_ready_file(path: Path) -> None:
    """At shutdown: a ready file means a server is listening, so it goes (if still ours)."""
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()


def _sigterm_before_serving(signum: int, frame: object) -> NoReturn:
    raise KeyboardInterrupt


def _parent_watch(args: argparse.Namespace) -> ParentWatch | None:
    """Start watching stdin if `--exit-with-parent` was given."""
    if not args.exit_with_parent:
        return None
    watch = ParentWatch()
    watch.start()
    return watch


async def _serve(
    store: Store,
    host: str,
    port: int,
    simulate: bool,
    speed: float,
    seed: int,
    warm_up: bool,
    banner: str = "",
    ready_file: Path | None = None,
    parent: ParentWatch | None = None,
    start: float | None = None,
    intake: IntakeConfig | None = None,
    role: Role = "writer",
    endpoint: str = "",
) -> int:
    from dispatch.server import DispatchServer, tune_gc
    from dispatch.simulator import Simulator

    # SIGINT, SIGTERM and the parent's exit (--exit-with-parent) all take the same path:
    # cancel the simulator, server.stop() (clients told 'going away', the writer finishes).
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # Before anything runs in a thread: the pool is whole from the start (dispatch/pools.py).
    loop.set_default_executor(started_pool(default_workers(), "asyncio"))
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    if parent is not None:

        def wake() -> None:
            with contextlib.suppress(RuntimeError):  # the loop has closed already
                loop.call_soon_threadsafe(stop.set)

        parent.attach(wake)
    try:
        reference = await asyncio.to_thread(load_reference, store)
    except (RuntimeError, ValueError) as exc:  # no district, or units whose codes do not nest
        raise SystemExit(f"error: {exc}") from None
    server = DispatchServer(store, reference, Clock(speed, start), intake=intake)
    # The first snapshots, before the simulator's catch-up begins, must not pass for live
    # (a standby's simulator waits for its takeover: its clients see the writer's day).
    if simulate and warm_up and role == "writer":
        server.begin_catching_up()
    # A demo's wall waits for the listener and the catch-up, not for the intakes (their
    # imports, HTTP server, broker and stand-in platform): they start once it has caught up.
    defer_intake = simulate
    try:
        bound = await server.start(
            host, port, intake_now=not defer_intake, role=role, endpoint=endpoint
        )
    except OSError as exc:
        await server.stop()
        raise SystemExit(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    except StoreError as exc:
        raise SystemExit(f"error: {exc}") from None
    except ValueError as exc:  # an intake that cannot start: its mapping table, its config
        await server.stop()
        raise SystemExit(f"error: {exc}") from None
    tune_gc()
    tasks: list[asyncio.Task[None]] = []
    simulator = None
    if simulate:
        simulator = Simulator(server, seed=seed)
        tasks.append(asyncio.create_task(simulator.run(warm_up=warm_up), name="simulator"))
        if role == "writer":
            log.info("simulator running at %gx real time (seed %d)", speed, seed)
        else:
            log.info(
                "simulator at %gx real time (seed %d) from this standby's takeover", speed, seed
            )
    if banner:
        print(banner.format(port=bound), flush=True)
    url = f"ws://{_client_host(host)}:{bound}"
    if intake_url := _intake_url(server):
        log.info("intake HTTP at %s", intake_url)
    unannounced = ""  # why the ready file could not be written: nobody can find us, stop
    if (
        ready_file is not None
        and not stop.is_set()
        and (unannounced := _announce(ready_file, url, _intake_url(server)))
    ):
        log.critical("cannot write the ready file %s: %s; stopping", ready_file, unannounced)
        stop.set()
    platform: FakePlatform | None = None
    if simulator is not None and not stop.is_set():
        try:
            platform = await _demo_intakes(server, simulator, stop)
        except ValueError as exc:
            await server.stop()
            raise SystemExit(f"error: {exc}") from None
        # Now with the intake's; the first one still says where the clients go (a full disk
        # then is the writer's to find, and it stops the backend itself).
        if (
            ready_file is not None
            and not stop.is_set()
            and _intake_url(server)
            and (problem := _announce(ready_file, url, _intake_url(server)))
        ):
            log.error("the ready file %s keeps no intake address: %s", ready_file, problem)
        # The simulator sends through MQTT once it has it (its catch-up submits directly).
        tasks.append(asyncio.create_task(_demo_mqtt(server, simulator), name="demo-mqtt"))
    for task in tasks:
        task.add_done_callback(_say_if_failed)
    try:
        stopped = asyncio.ensure_future(stop.wait())
        failed = asyncio.ensure_future(server.writer_stopped())
        await asyncio.wait({stopped, failed}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        failed.cancel()
        if server.fatal:
            log.critical("stopping: %s (exit status %d)", server.fatal, exits.WRITER_STOPPED)
        log.info("shutting down")
        for task in tasks:
            task.cancel()
        await server.stop()
        if platform is not None:
            await platform.stop()
        if simulator is not None and simulator.open311 is not None:
            await simulator.open311.stop()
    finally:
        if ready_file is not None:
            remove_ready_file(ready_file)
        log.info("stopped")
    if server.fatal:
        return exits.WRITER_STOPPED
    return exits.FAILED if unannounced else exits.OK


def _announce(path: Path, url: str, intake: str) -> str:
    """Write the ready file: "", or why it could not be (a full disk must not end the
    backend with a traceback nobody can write either)."""
    try:
        write_ready_file(path, url, intake)
    except OSError as exc:
        return exc.strerror or str(exc)
    return ""


def _say_if_failed(task: asyncio.Task[None]) -> None:
    """A task of the backend's that ended on an exception says so (it died in silence)."""
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("%s stopped: %s", task.get_name(), exc, exc_info=exc)


def _intake_url(server: DispatchServer) -> str:
    """The intake HTTP server's base URL, once one serves ("" otherwise)."""
    if server.intake is None or not server.intake.port:
        return ""
    return f"http://{_client_host(server.intake.context.http.host)}:{server.intake.port}"


async def _demo_intakes(
    server: DispatchServer, simulator: Simulator, stop: asyncio.Event
) -> FakePlatform | None:
    """Once the simulator has caught up (or the demo is stopped first): the intakes, and
    the stand-in 12345 platform that the simulator's live calls go through."""
    live = asyncio.create_task(simulator.live.wait())
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({live, stopped}, return_when=asyncio.FIRST_COMPLETED)
    live.cancel()
    stopped.cancel()
    if stop.is_set():
        return None
    await server.start_intake()
    if url := _intake_url(server):
        log.info("intake HTTP at %s", url)
    platform = await _demo_platform(server)
    simulator.hotline = platform
    simulator.open311 = _demo_citizen_app(server)
    return platform


def _demo_citizen_app(server: DispatchServer) -> CitizenApp | None:
    """The simulator's citizens' app, when the intake serves the demo's Open311 client: the
    live citizen reports go through the real endpoint."""
    from dispatch.intake.citizen_app import CitizenApp
    from dispatch.intake.demo import DEMO_OPEN311_CLIENT
    from dispatch.intake.open311 import Open311Settings

    intake = server.intake
    url = _intake_url(server)
    settings = intake.config.get("open311", Open311Settings) if intake is not None else None
    if not url or settings is None or not settings.enabled:
        return None
    if DEMO_OPEN311_CLIENT not in settings.clients:
        return None
    log.info("simulated citizens' app: reports to %s/open311/v2", url)
    return CitizenApp(settings.clients[DEMO_OPEN311_CLIENT].key, url)


async def _demo_mqtt(server: DispatchServer, simulator: Simulator) -> None:
    """Hand the simulator the demo's MQTT publisher once the demo's broker is up (when the
    config has the demo's [intake.mqtt] and a mosquitto could be started)."""
    from dispatch.intake.mqtt_part import MqttPart

    part = server.intake.parts.get("mqtt") if server.intake is not None else None
    if isinstance(part, MqttPart):
        simulator.mqtt = await part.publisher()


async def _demo_platform(server: DispatchServer) -> FakePlatform | None:
    """The simulator's 12345 platform, when the intake serves the demo's peer: it pushes the
    live calls to the real endpoint and takes the feedback on a port of its own."""
    from dispatch.intake.demo import DEMO_PEER
    from dispatch.intake.hotline import HotlineSettings
    from dispatch.intake.hotline_part import HotlinePart
    from dispatch.intake.platform import FakePlatform

    intake = server.intake
    if intake is None or intake.port == 0:
        return None
    settings = intake.config.get("hotline", HotlineSettings)
    part = intake.parts.get("hotline")
    if settings is None or not isinstance(part, HotlinePart) or DEMO_PEER not in settings.peers:
        return None
    peer = settings.peers[DEMO_PEER]
    http = intake.context.http
    host, port = http.host, intake.port
    if part.gateway is not None:  # [intake.gateway] on: the pushes go through it
        host, port = part.gateway.settings.host, part.push_port
    platform = FakePlatform(DEMO_PEER, peer.key, f"http://{_client_host(host)}:{port}")
    url = await platform.start()
    if not peer.feedback_url:
        part.feed_back_to(DEMO_PEER, url)
    log.info("simulated 12345 platform: pushes to %s, feedback at %s", platform.intake_url, url)
    return platform


def cmd_init_db(args: argparse.Namespace) -> int:
    """Create or upgrade the schema."""
    store = Store(args.url)
    store.upgrade()
    print(f"database ready: {redact_url(args.url)}")
    return 0


def cmd_load_district(args: argparse.Namespace) -> int:
    """Load the default district, or several districts of the city (--districts), replacing
    the reference units."""
    try:
        codes = parse_districts(args.districts)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    store = Store(args.url)
    store.upgrade()
    try:
        count = load_district(store, args.seed, codes)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"loaded {count} units of {','.join(codes)} (seed {args.seed})")
    return 0


def cmd_load_categories(args: argparse.Namespace) -> int:
    """Load a deployment's own category table (validated; `--check` only validates)."""
    from dispatch.app import (
        category_change,
        further,
        in_use_text,
        load_categories_into,
        stored_departments,
    )
    from dispatch.domain.categories import CategoryTableError, read_categories
    from dispatch.domain.district import DEPARTMENTS

    store = Store(args.url)
    ready = store.is_current() and bool(store.units("district"))
    if not ready and not args.check:
        print(
            "error: no district loaded: run `dispatch init-db` and `load-district` first",
            file=sys.stderr,
        )
        return 2
    district = ""
    if ready:
        try:
            district = further(store, args.district)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    elif args.district:
        print("error: no district loaded: --district needs a loaded city", file=sys.stderr)
        return 2
    departments = stored_departments(store, district) if ready else {d for d, _, _ in DEPARTMENTS}
    try:
        table = read_categories(args.file, departments)
    except CategoryTableError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        print("nothing changed", file=sys.stderr)
        return 2
    print(
        f"{args.file}: valid: {len(table.categories)} categories in {len(table.classes)} "
        f"classes, {len(table.camera_kinds)} camera kinds"
    )
    if not ready:
        print("checked against the default district's departments (no district loaded)")
        return 0
    if args.check:
        change = category_change(store, table, district)
    else:
        origin = f"loaded from {args.file.name}"
        change = load_categories_into(store, table, origin, district=district)
    if change.unmapped:
        print(
            f"warning: cameras run detection kinds the table does not map: "
            f"{', '.join(change.unmapped)} (their alerts need a category when confirmed)"
        )
    counts = (
        f"{len(change.added)} added, {len(change.changed)} changed, {len(change.removed)} removed"
    )
    if change.in_use:
        used = in_use_text(change.in_use)
        print(
            f"error: refused: stored events use categories the table drops: {used}", file=sys.stderr
        )
        print("nothing changed; keep those codes in the table", file=sys.stderr)
        return 2
    if args.check:
        print(f"would change: {counts} (version {change.version}); nothing changed (--check)")
        return 0
    whose = f" as {district}'s table" if district else ""
    print(f"loaded into {redact_url(args.url)}{whose}: {counts} (version {change.version})")
    print("a running backend picks it up at its next start")
    return 0


def _cli_entry(action: str, target: str, detail: str = "") -> AdminEntry:
    """The admin log's row for a user change made here (the OS user is the actor)."""
    try:
        who = getpass.getuser()
    except Exception:  # no name for this uid (a bare container): still recorded
        who = f"uid {os.getuid()}"
    return AdminEntry(time.time(), f"cli:{who}", "cli", action, target, detail)


# A running backend notices user changes made here within Limits.users_poll.
_NOTICED = "a running backend closes its open connections within 1 s"


_DISTRICT_HELP = (
    "district adcode of the jurisdiction, in a store holding several districts (repeat;"
    " not for street or community users; the store keeps them among the streets)"
)


def _streets(args: argparse.Namespace) -> list[str]:
    """The jurisdiction's street codes with any district codes (--district): check_user
    tells them apart by their width and refuses a mixture."""
    return [*(args.street or ()), *(args.district or ())]


def cmd_create_user(args: argparse.Namespace) -> int:
    """Create a user and print (or write) its token; only the hash is stored. An existing
    name is refused: `update-user` changes a user."""
    store = _current_store(args.url)
    if store is None:
        return 2
    streets, communities = _streets(args), args.community or ()
    shown = args.display_name or ""
    audit = _cli_entry(
        "create_user", args.name, user_detail(args.role, streets, communities, shown)
    )
    try:
        token = store.create_user(
            args.name,
            args.role,
            streets,
            communities,
            audit=audit,
            exists_ok=False,
            display_name=shown,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _hand_over(args, token)
    return 0


def _hand_over(args: argparse.Namespace, token: str) -> None:
    """Print the token, or write it to --token-file (mode 600) and say so."""
    if args.token_file:
        _write_secret(Path(args.token_file), token)
        print(f"user {args.name}; token written to {args.token_file}")
    else:
        print(token)


def cmd_update_user(args: argparse.Namespace) -> int:
    """Change a user's role or jurisdiction, or give it a new token (--new-token); its open
    connections on a running backend are closed (4004) within 1 s."""
    store = _current_store(args.url)
    if store is None:
        return 2
    shown: str | None = args.display_name
    try:
        codes, kind, asked = check_update(
            args.role,
            _streets(args),
            args.community or (),
            args.whole_district,
            shown,
            args.new_token,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    audit = _cli_entry("update_user", args.name, asked)
    try:
        token = store.update_user(
            args.name,
            args.role,
            codes,
            new_token=args.new_token,
            audit=audit,
            display_name=shown,
            kind=kind,
        )
    except LookupError:
        print(f"error: no user {args.name}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    account = next(a for a in store.accounts() if a.name == args.name)
    where = ",".join(account.jurisdiction) or "the whole district"
    named = f", shown as {account.display_name}" if account.display_name else ""
    renamed_only = args.role is None and codes is None and not args.new_token
    # A new name changes no one's authority: no connection is closed for it.
    noticed = "a running backend shows the name within 1 s" if renamed_only else _NOTICED
    # stderr: stdout may be a script's capture of the token alone.
    print(
        f"updated {args.name}: role {account.role}, {where}{named}"
        + ("; its old token no longer works" if token else "")
        + f"; {noticed}",
        file=sys.stderr,
    )
    if token is not None:
        _hand_over(args, token)
    return 0


def cmd_revoke_user(args: argparse.Namespace) -> int:
    """Revoke a user's token (a running backend closes its connections within 1 s)."""
    store = _current_store(args.url)
    if store is None:
        return 2
    ok = store.revoke_user(args.name, audit=_cli_entry("revoke_user", args.name))
    print(f"revoked; {_NOTICED}" if ok else f"no user {args.name}")
    return 0 if ok else 1


def cmd_admin_log(args: argparse.Namespace) -> int:
    """Print the newest admin requests (users, roster, categories): who, when, what, outcome."""
    from dispatch.reference import local

    store = _current_store(args.url)
    if store is None:
        return 2
    rows = store.admin_log(args.limit)
    if not rows and args.limit:
        print("the admin log is empty")
        return 0
    print("times in China Standard Time")
    for row in rows:
        when = local(row.at).strftime("%Y-%m-%d %H:%M:%S")
        what = " ".join(p for p in (row.action, row.target, row.detail) if p)
        outcome = row.outcome if not row.message else f"{row.outcome}: {row.message}"
        print(f"{when}  {row.actor} ({row.peer})  {what}  -> {outcome}")
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    """List active users (name, role, jurisdiction, the name shown)."""
    store = Store(args.url)
    people = store.people()
    for user in store.users():
        codes = ",".join(sorted(user.jurisdiction)) if user.jurisdiction else "全区"
        print(f"{user.name:24} {user.role:11} {codes:12} {people.get(user.name, '')}".rstrip())
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    """Print an event's whole audit trail, archived rows included."""
    import msgspec

    from dispatch.reference import local

    store = _current_store(args.url)
    if store is None:
        return 2
    rows = store.event_history(args.event)
    if not rows:
        print(f"no audit trail for event {args.event}", file=sys.stderr)
        return 1
    deleted_upto = store.meta("audit_deleted_upto")
    latest = msgspec.json.decode(rows[-1].after)
    print(
        f"event {latest.get('code', args.event)} · {latest.get('title', '')} · "
        f"category {latest.get('category', '')} · grid {latest.get('grid', '')} · "
        f"now {latest.get('status', '')} (times in China Standard Time)"
    )
    for index, row in enumerate(rows):
        after = msgspec.json.decode(row.after)
        if index == 0 and deleted_upto and row.at > after.get("reported_at", row.at):
            print(
                f"(the first steps were deleted by a trim-log before the archive existed: "
                f"audit rows up to seq {deleted_upto} are lost)"
            )
        when = local(row.at).strftime("%Y-%m-%d %H:%M:%S")
        print(f"{row.seq:>9} {when} {row.action:18} {after.get('status', ''):10} {row.actor}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write the cases reported in a period (any filter) to a CSV or XLSX file."""
    from dispatch.app import load_reference
    from dispatch.exports import FORMATS, Filter, export

    fmt = next(
        (f for f in FORMATS if f == (args.format or Path(args.out).suffix.lstrip(".").lower())),
        None,
    )
    if fmt is None:
        print("error: name a .csv or .xlsx file, or say --format", file=sys.stderr)
        return 2
    try:
        start, end = _day(args.start), _day(args.end) + 86400
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if end <= start:
        print("error: --to is before --from", file=sys.stderr)
        return 2
    store = _current_store(args.url)
    if store is None:
        return 2
    reference = load_reference(store)
    chosen = Filter(
        start,
        end,
        frozenset(args.street),
        frozenset(args.status),
        frozenset(args.category),
        frozenset(args.source),
    )
    unknown = (
        [f"street {s}" for s in chosen.streets if s not in reference.streets]
        # A bare code: that category in every district whose table has it.
        + [f"category {c}" for c in chosen.categories if c not in reference.category_codes(None)]
        + [f"status {s}" for s in chosen.statuses if s not in STATUSES]
        + [f"source {s}" for s in chosen.sources if s not in SOURCES]
    )
    if unknown:
        print(f"error: unknown {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    out = Path(args.out)
    events = store.events_reported(
        start, end, streets=chosen.streets, statuses=chosen.statuses, categories=chosen.categories
    )
    count = _write_out(
        out, lambda partial: export(events, reference, partial, fmt, chosen, time.time())
    )
    if count is None:
        return 1
    print(f"{count} case(s) written to {out}")
    return 0


def cmd_weekly_report(args: argparse.Namespace) -> int:
    """Write the week's 《民声快报》 (HTML): the week at a glance, hot topics, streets, repeats."""
    from dispatch.app import load_reference
    from dispatch.weekly import WEEK, gather, render, week_start

    try:
        day = (
            datetime.strptime(args.week, "%Y-%m-%d").date()
            if args.week
            else (datetime.now(UTC) + timedelta(hours=8) - timedelta(days=7)).date()
        )
    except ValueError:
        print(f"error: {args.week!r} is not a date like 2026-11-24", file=sys.stderr)
        return 2
    store = _current_store(args.url)
    if store is None:
        return 2
    reference = load_reference(store)
    start = week_start(day)
    now = time.time()
    week = gather(store.events_reported(start - WEEK, start + WEEK), reference, start, now)
    out = Path(args.out)
    # The whole store's week: a city's (安庆市) when it holds several districts.
    page = render(week, reference.view(None).district_name, now)
    if _write_out(out, lambda partial: partial.write_text(page, encoding="utf-8")) is None:
        return 1
    print(f"the week of {day:%Y-%m-%d}: {week.figures.received} case(s); written to {out}")
    return 0


def cmd_handover_report(args: argparse.Namespace) -> int:
    """Write a shift's handover report (交接班报告, HTML or PDF), rebuilt from the audit log."""
    from dispatch.app import load_reference
    from dispatch.handover import ShiftError, district_shifts, file_name, make, shift_at
    from dispatch.reference import local

    fmt = args.format or Path(args.out or "").suffix.lstrip(".").lower()
    if not args.list and fmt not in ("html", "pdf"):
        print("error: name a .html or .pdf file, or say --format", file=sys.stderr)
        return 2
    store = _current_store(args.url)
    if store is None:
        return 2
    first = store.meta("district") or "340803"
    held = sorted((c for _, c, _, _, _ in store.unit_rows("district")), key=lambda c: c != first)
    district = args.district or first
    if district not in held:
        print(f"error: no district {district}: the store holds {', '.join(held)}", file=sys.stderr)
        return 2
    found = district_shifts(store, district, held)
    if args.list:
        for shift in found:
            end = local(shift.end).strftime("%Y-%m-%d %H:%M") if shift.end else "(in force)"
            note = " note" if shift.note else ""
            print(
                f"{local(shift.start):%Y-%m-%dT%H:%M:%S}  to {end}  "
                f"{shift.duty.commander.name}{note}"
            )
        return 0
    if not args.out:
        print("error: name the file to write (or say --list)", file=sys.stderr)
        return 2
    now = time.time()
    try:
        if args.shift in (None, "last"):
            ended = [s for s in found if s.end is not None]
            if not ended:
                raise ShiftError("no shift has ended yet")
            shift = ended[-1]
        elif args.shift == "current":
            shift = shift_at(found, now)
        else:
            shift = shift_at(found, _moment(args.shift))
    except (ShiftError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    reference = load_reference(store)
    started = time.perf_counter()
    body = make(store, reference, shift, fmt, now)
    out = Path(args.out)
    if _write_out(out, lambda partial: partial.write_bytes(body)) is None:
        return 1
    print(
        f"{file_name(shift, fmt)}: the shift from {local(shift.start):%Y-%m-%d %H:%M} "
        f"({shift.duty.commander.name}) written to {out} in {time.perf_counter() - started:.2f} s"
    )
    return 0


def _moment(text: str) -> float:
    """Epoch seconds of a local time (YYYY-MM-DDTHH:MM[:SS] or YYYY-MM-DD HH:MM, China
    Standard Time)."""
    from dispatch.domain.calendar import CST

    for form in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(text, form).replace(tzinfo=CST).timestamp()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a time like 2026-11-24T09:40 (or last, current)")


def _write_out[T](out: Path, fill: Callable[[Path], T]) -> T | None:
    """Write `out` whole or not at all (dispatch.private.write_whole); None, said, when it
    cannot be written."""
    try:
        return write_whole(out, fill)
    except OSError as exc:
        print(f"error: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return None


def _day(text: str) -> float:
    """Epoch seconds of a local date's midnight (YYYY-MM-DD, China Standard Time)."""
    from dispatch.domain.calendar import CST

    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=CST).timestamp()
    except ValueError:
        raise ValueError(f"{text!r} is not a date like 2026-11-24") from None


_NOT_CURRENT = "database {url} is not initialised or not current: run `dispatch init-db`"


def _current_store(url: str) -> Store | None:
    """The store at `url` when it exists and is current; else say why (None).

    An SQLite file that is not there is not created: a read-only command pointed at the
    wrong place must not leave an empty database behind."""
    from sqlalchemy.engine import make_url

    target = make_url(url)
    database = target.database
    if target.get_backend_name() == "sqlite" and database and not Path(database).exists():
        print(
            f"error: no database at {database}: run `dispatch init-db`, or pass "
            "--url (the embedded one is in the data directory, $TONGGUAN_DATA)",
            file=sys.stderr,
        )
        return None
    store = Store(url)
    if not store.is_current():
        print(_NOT_CURRENT.format(url=redact_url(url)), file=sys.stderr)
        return None
    return store


def _interruptible(cmd: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Ctrl-C, SIGTERM or the parent's exit before serving: a one-line exit, not a traceback.

    Until the event loop installs its own handlers, SIGTERM raises KeyboardInterrupt like
    Ctrl-C, so a stop during migrations or the district load unwinds (transactions roll back).
    """

    def run(args: argparse.Namespace) -> int:
        previous = None
        with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
            previous = signal.signal(signal.SIGTERM, _sigterm_before_serving)
        try:
            return cmd(args)
        except KeyboardInterrupt:
            log.warning("interrupted before serving")
            return 130
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    run.__doc__ = cmd.__doc__
    return run


def _claim(store: Store) -> None:
    """Be the one backend writing to this database, or stop with a clear message."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        store.claim()
    except StoreError as exc:
        raise SystemExit(f"error: {exc}") from None
    except SQLAlchemyError as exc:
        # No server that takes writes answers (down, or a standby not promoted yet; a
        # standby backend waits instead): one line and status 1, for systemd to try again.
        first_line = str(exc).split("\n")[0]
        raise SystemExit(f"error: the database does not answer: {first_line}") from None


@_interruptible
def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the backend (optionally with the simulator)."""
    _logging(args.verbose, args.log_file)
    parent = _parent_watch(args)
    try:  # before the database is claimed: a bad file changes nothing
        intake = _intake_config(args.config)
    except ConfigError as exc:
        log.error("%s", exc)
        return 2
    if args.gateway and args.simulate:
        log.error(
            "a gateway never writes: --simulate runs on the writer, or on a standby, which"
            " starts it when it takes over"
        )
        return 2
    store = Store(args.url)
    role: Role = "writer"
    if args.gateway:
        role = "gateway"
    elif args.standby and not store.claim_unless_held():
        role = "standby"  # another writes: follow it, take over when it stops
    else:
        _claim(store)
    if not store.is_current():
        log.error(
            "database %s is not initialised or not current: run `dispatch init-db`",
            redact_url(args.url),
        )
        return 2
    log.info("database %s", redact_url(args.url))
    return asyncio.run(
        _serve(
            store,
            args.host,
            args.port,
            args.simulate,
            args.speed,
            args.seed,
            not args.no_warm_up,
            ready_file=args.ready_file,
            parent=parent,
            start=args.start,
            intake=intake,
            role=role,
            endpoint=args.advertise,
        )
    )


def _intake_config(path: Path | None) -> IntakeConfig | None:
    """The intake settings of `--config FILE` (None without one); ConfigError (the table
    and key at fault) when the file cannot be used."""
    return None if path is None else load_config(path)


@_interruptible
def cmd_demo(args: argparse.Namespace) -> int:
    """Prepare an embedded database and demo identities, then serve with the simulator."""
    _logging(args.verbose, args.log_file)
    parent = _parent_watch(args)
    try:  # before the database is claimed: a bad file changes nothing
        intake = _intake_config(args.config)
    except ConfigError as exc:
        log.error("%s", exc)
        return 2
    try:
        districts = None if args.districts is None else parse_districts(args.districts)
    except ValueError as exc:
        log.error("%s", exc)
        return 2
    store = Store(args.url)
    # Before anything is written: a second demo must not migrate the database or replace
    # the demo tokens under a backend that is serving it.
    _claim(store)
    started = time.monotonic()
    try:
        prepare(store, args.seed, districts)
    except RuntimeError as exc:  # a data dir holding other districts: never replaced here
        log.error("%s", exc)
        return 2
    paths = {name: demo_token(store, name, role, codes) for name, role, codes in DEMO_USERS}
    held = [code for _, code, _, _, _ in store.unit_rows("district")]
    if len(held) > 1:  # a wall of each district's own, besides the city's
        for code in held:
            name = DISTRICT_DEMO_NAME.format(code=code)
            paths[name] = demo_token(store, name, "wall", (code,))
    first = store.meta("district")
    rows = sorted(store.unit_rows("district"), key=lambda row: (row[1] != first, row[1]))
    names = "、".join(name for _, _, _, name, _ in rows)
    plan_demo_week(store, args.start if args.start is not None else time.time())
    log.info("database %s ready in %.1f s", redact_url(args.url), time.monotonic() - started)
    if intake is None:
        try:
            intake = _intake_config(write_demo_config(data_dir()))
        except ConfigError as exc:  # the demo's own file, edited by hand
            log.error("%s", exc)
            return 2
    if args.no_mqtt and intake is not None:
        # The simulator submits its camera and sensor traffic directly.
        intake = IntakeConfig(
            {k: v for k, v in intake.sections.items() if k != "mqtt"}, intake.path
        )
    wall = paths["demo-wall"]
    banner = (
        f"\n  Tongguan dispatch backend: the simulated {names} on ws://{args.host}:{{port}}\n"
        "  Watch it live:   ./tg watch          (or: ./tg dispatch watch --user demo-linghu)\n"
        f"  Any websocket client: python -m websockets ws://{args.host}:{{port}}  and paste the\n"
        f"  hello line that `./tg dispatch hello` prints. Demo tokens: {wall.parent}/\n"
        "  Stop with Ctrl-C.\n"
    )
    return asyncio.run(
        _serve(
            store,
            args.host,
            args.port,
            True,
            args.speed,
            args.seed,
            not args.no_warm_up,
            banner,
            ready_file=args.ready_file,
            parent=parent,
            start=args.start,
            intake=intake,
        )
    )


def plan_demo_week(store: Store, start: float) -> int:
    """Plan the demo's coming week (排班) unless any day from `start`'s on is planned already;
    recorded in the admin log as the demo's. How many days were planned."""
    from dispatch.reference import local
    from dispatch.simulator import demo_plans

    if store.duty_plans(local(start).strftime("%Y-%m-%d")):
        return 0
    plans = demo_plans(start)
    for plan in plans:
        names = ",".join(p.name for p in plan.roster)
        entry = AdminEntry(
            time.time(),
            "demo",
            "cli",
            "set_roster",
            plan.day,
            f"commander={plan.commander.name} roster={names}",
        )
        store.set_duty_plan(plan.day, plan, audit=entry)
    return len(plans)


def cmd_hello(args: argparse.Namespace) -> int:
    """Print a hello message for a demo user, to paste into a generic websocket client."""
    import msgspec

    path = data_dir() / "tokens" / f"{args.user}.token"
    if not path.exists():
        print(f"no token file {path}: start the demo first (./tg run)", file=sys.stderr)
        return 1
    hello = {
        "id": 1,
        "type": "hello",
        "protocol": 1,
        "token": path.read_text().strip(),
        "client": "websockets-cli",
    }
    print(msgspec.json.encode(hello).decode())
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    """Connect like a client and print the stream in a readable form."""
    from dispatch.watch import watch

    token_file = (
        Path(args.token_file) if args.token_file else (data_dir() / "tokens" / f"{args.user}.token")
    )
    if not token_file.exists():
        print(
            f"no token file {token_file}: name a user's with --token-file (`create-user`"
            " writes one), or start the demo (./tg run), which writes its users'",
            file=sys.stderr,
        )
        return 1
    return asyncio.run(watch(args.server, token_file.read_text().strip(), args.seconds))


def cmd_trim_log(args: argparse.Namespace) -> int:
    """Archive log rows older than the newest N (clients behind them get a fresh snapshot)."""
    store = _current_store(args.url)
    if store is None:
        return 2
    head, trimmed = store.head()
    upto = max(0, head - args.keep)
    if upto <= trimmed:
        print(f"nothing to archive: the log holds seqs {trimmed + 1} to {head}")
        return 0
    try:
        moved = store.trim_log(upto)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    rows = "row" if moved == 1 else "rows"
    print(f"archived {moved} log {rows} up to seq {upto} into log_archive (`history` reads them)")
    return 0


def cmd_load_calendar(args: argparse.Namespace) -> int:
    """Load one year's holidays and make-up days (调休上班) from a JSON file, as official."""
    path = Path(args.file)
    store = None if args.check else Store(args.url)
    if store is not None:
        store.upgrade()
    district = args.district
    if store is not None and district:
        held = sorted(code for _, code, _, _, _ in store.unit_rows("district"))
        if district not in held:
            print(
                f"error: the database holds no district {district!r}: it holds "
                f"{', '.join(held) or 'none (run `dispatch load-district`)'}",
                file=sys.stderr,
            )
            return 2
    loaded = [] if store is None else loaded_calendar_years(store)
    try:
        year, raw = read_calendar_file(path, loaded, overlay=bool(district))
    except CalendarError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"nothing stored: {len(exc.problems)} problem(s) in {path}", file=sys.stderr)
        return 2
    summary = (
        f"{year.year}: {len(year.festivals)} festivals, {len(year.holidays)} days off, "
        f"{len(year.makeup_days)} make-up working days"
    )
    if store is None:
        print(f"{path} is valid: {summary} (--check: nothing stored)")
        return 0
    if district:
        before = any(y.year == year.year for y in calendar_overlays(store).get(district, []))
        store_calendar_year(store, year, raw, path, district)
        print(
            f"loaded {summary} as {district}'s own days on the national calendar"
            f"{'; replaces its days loaded before' if before else ''}. A running backend "
            "uses them from its next start."
        )
        return 0
    shipped = {y.year: y.status for y in shipped_years()}
    if any(y.year == year.year for y in loaded):
        replaces = "; replaces the year loaded before"
    elif year.year in shipped:
        replaces = f"; replaces the shipped {shipped[year.year]} data"
    else:
        replaces = ""
    store_calendar_year(store, year, raw, path)
    print(f"loaded {summary}, official{replaces}. A running backend uses it from its next start.")
    return 0


def cmd_calendar(args: argparse.Namespace) -> int:
    """List the working calendar's years: official, estimated, loaded, missing."""
    from dispatch.reference import local

    store = _current_store(args.url)
    if store is None:
        return 2
    stored = store.meta_items(CALENDAR_META)
    status = working_calendar(store).status(local(time.time()).date())
    years = sorted({*status.official, *status.estimated, *status.missing})
    for year in years:
        doc = stored.get(f"{CALENDAR_META}{year}")
        if doc is not None:
            meta = json.loads(doc)
            when, source = meta.get("_loaded_at", ""), meta.get("_loaded_from", "")
            what = f"official   loaded {when} from {source}"
        elif year in status.official:
            what = "official   shipped"
        elif year in status.estimated:
            what = "estimated  shipped estimate: its deadlines are marked as guesses"
        else:
            what = "missing    weekends only: its deadlines are marked as guesses"
        print(f"{year}  {what}")
    for district, overlays in calendar_overlays(store).items():
        for own in overlays:
            print(
                f"{own.year}  {district}'s own days: {len(own.holidays)} days off, "
                f"{len(own.makeup_days)} extra working days ({', '.join(own.festivals)})"
            )
    if status.missing:
        print(
            "no official data for "
            + ", ".join(str(y) for y in status.missing)
            + ": load the State Council notice with `dispatch load-calendar FILE`"
        )
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """Write a consistent backup of the database to PATH, also while the backend runs
    (SQLite: its online backup API; PostgreSQL: pg_dump -Fc)."""
    from dispatch.backup import BackupError, backup

    try:
        info = backup(args.url, args.path)
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"backed up {redact_url(args.url)} to {args.path}: {info.kind}, schema {info.revision},"
        f" {info.size} bytes"
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Restore a backup written by `dispatch backup` into the database (stopped backend only),
    then upgrade its schema; a database with tables is refused unless --force."""
    from dispatch.backup import BackupError, restore

    try:
        info = restore(args.path, args.url, force=args.force)
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("nothing was changed", file=sys.stderr)
        return 1
    print(f"restored {args.path} (schema {info.revision}) into {redact_url(args.url)}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Check an installation: schema, calendar, disk space, clock, intake; exit status 1
    on any FAIL."""
    import platformdirs

    from dispatch.health import FAIL, run_checks

    # Not data_dir(): a check creates nothing, not even the directory.
    data = Path(os.environ.get("TONGGUAN_DATA") or platformdirs.user_data_dir("tongguan"))
    findings = run_checks(args.url, data, config=args.config, min_free_mb=args.min_free_mb)
    width = max(len(f.name) for f in findings)
    for finding in findings:
        print(f"{finding.level:<4}  {finding.name:<{width}}  {finding.text}")
    return 1 if any(f.level == FAIL for f in findings) else 0


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="dispatch", description=__doc__)
    parser.add_argument(
        "--url",
        default=None,
        help="database URL (default: TONGGUAN_DB_URL or SQLite in the data dir)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("init-db", help=cmd_init_db.__doc__).set_defaults(func=cmd_init_db)
    p = sub.add_parser("load-district", help=cmd_load_district.__doc__)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument(
        "--districts",
        default=DEFAULT_CODE,
        help=f"district adcodes, comma-separated, the first the default: one of"
        f" {','.join(DISTRICT_CODES)} (default {DEFAULT_CODE}, 大观区 alone)",
    )
    p.set_defaults(func=cmd_load_district)

    p = sub.add_parser("load-categories", help=cmd_load_categories.__doc__)
    p.add_argument("file", type=Path, help="a category table in the format of categories.json")
    p.add_argument("--check", action="store_true", help="validate only; change nothing")
    p.add_argument(
        "--district",
        default="",
        help="in a city store, the district whose table it is (6 digits; default: the first)",
    )
    p.set_defaults(func=cmd_load_categories)

    p = sub.add_parser("create-user", help=cmd_create_user.__doc__)
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--street", action="append", help="street code of the jurisdiction (repeat)")
    p.add_argument(
        "--community",
        action="append",
        help="community code of a community user's jurisdiction (repeat; role community only)",
    )
    p.add_argument("--district", action="append", help=_DISTRICT_HELP)
    p.add_argument("--display-name", help="the name people are shown (e.g. 菱湖街道分中心 王芳)")
    p.add_argument("--token-file", help="write the token here (mode 600) instead of stdout")
    p.set_defaults(func=cmd_create_user)
    p = sub.add_parser("update-user", help=cmd_update_user.__doc__)
    p.add_argument("name")
    p.add_argument("--role", choices=ROLES, help="the new role (default: unchanged)")
    p.add_argument("--street", action="append", help="the new jurisdiction's streets (repeat)")
    p.add_argument(
        "--community", action="append", help="a community user's new communities (repeat)"
    )
    p.add_argument("--district", action="append", help=_DISTRICT_HELP)
    p.add_argument(
        "--whole-district", action="store_true", help="no jurisdiction: the whole district"
    )
    p.add_argument(
        "--display-name", help='the name people are shown ("" for none: the name itself)'
    )
    p.add_argument(
        "--new-token", action="store_true", help="a new token; the old one stops working"
    )
    p.add_argument("--token-file", help="write the new token here (mode 600) instead of stdout")
    p.set_defaults(func=cmd_update_user)
    p = sub.add_parser("revoke-user", help=cmd_revoke_user.__doc__)
    p.add_argument("name")
    p.set_defaults(func=cmd_revoke_user)
    sub.add_parser("users", help=cmd_users.__doc__).set_defaults(func=cmd_users)
    p = sub.add_parser("admin-log", help=cmd_admin_log.__doc__)
    p.add_argument(
        "--limit", type=_count, default=50, help="how many of the newest rows (default 50)"
    )
    p.set_defaults(func=cmd_admin_log)
    p = sub.add_parser("history", help=cmd_history.__doc__)
    p.add_argument("event", type=int)
    p.set_defaults(func=cmd_history)
    p = sub.add_parser("trim-log", help=cmd_trim_log.__doc__)
    p.add_argument(
        "--keep", type=_count, default=1_000_000, help="log rows to keep live (default 1000000)"
    )
    p.set_defaults(func=cmd_trim_log)
    p = sub.add_parser("load-calendar", help=cmd_load_calendar.__doc__)
    p.add_argument(
        "file",
        help='one year as JSON: {"year": 2027, "festivals": [{"name", "from", "to", "makeup"}]}',
    )
    p.add_argument("--check", action="store_true", help="validate the file only; store nothing")
    p.add_argument(
        "--district",
        default="",
        help="a district's own days (local holidays, extra working days) on top of the "
        "national calendar, for that district's cases only (6 digits)",
    )
    p.set_defaults(func=cmd_load_calendar)
    sub.add_parser("calendar", help=cmd_calendar.__doc__).set_defaults(func=cmd_calendar)
    p = sub.add_parser("export", help=cmd_export.__doc__)
    p.add_argument("out", help="the file to write (.csv or .xlsx)")
    p.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD (included)")
    p.add_argument("--format", choices=("csv", "xlsx"), help="default: by the file's suffix")
    for flag, what in (
        ("--street", "a street's code"),
        ("--status", "a status (reported, closed…)"),
        ("--category", "a category's code (05-06…)"),
        ("--source", "a source (hotline, patrol…)"),
    ):
        p.add_argument(flag, action="append", default=[], help=f"{what}; repeat for more")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("weekly-report", help=cmd_weekly_report.__doc__)
    p.add_argument("out", help="the HTML file to write")
    p.add_argument("--week", help="any day of the week (YYYY-MM-DD); default: last week")
    p.set_defaults(func=cmd_weekly_report)
    p = sub.add_parser("handover-report", help=cmd_handover_report.__doc__)
    p.add_argument("out", nargs="?", help="the file to write (.html or .pdf)")
    p.add_argument(
        "--shift",
        help="last (default: the last shift that ended), current, or a local time "
        "(YYYY-MM-DDTHH:MM): the shift in force then",
    )
    p.add_argument("--format", choices=("html", "pdf"), help="default: by the file's suffix")
    p.add_argument("--list", action="store_true", help="list the shifts the log knows")
    p.add_argument(
        "--district",
        help="whose centre's shifts (a district code of a city store; default: the first)",
    )
    p.set_defaults(func=cmd_handover_report)
    p = sub.add_parser("backup", help=cmd_backup.__doc__)
    p.add_argument("path", type=Path, help="the backup file to write (must not exist)")
    p.set_defaults(func=cmd_backup)
    p = sub.add_parser("restore", help=cmd_restore.__doc__)
    p.add_argument("path", type=Path, help="a file written by `dispatch backup`")
    p.add_argument("--force", action="store_true", help="replace what the database holds already")
    p.set_defaults(func=cmd_restore)
    p = sub.add_parser("check", help=cmd_check.__doc__)
    p.add_argument("--config", type=Path, help="the intake settings (TOML) to check too")
    p.add_argument(
        "--min-free-mb",
        type=_count,
        default=1024,
        help="free space under which the data directory fails (default 1024 MiB)",
    )
    p.set_defaults(func=cmd_check)

    for name, func in (("serve", cmd_serve), ("demo", cmd_demo)):
        p = sub.add_parser(name, help=func.__doc__)
        # None: from the config's [server], else 127.0.0.1:8765 (main fills them in).
        p.add_argument("--host", default=None, help="listen address (default 127.0.0.1)")
        p.add_argument("--port", type=int, default=None, help="port (default 8765; 0: any)")
        p.add_argument(
            "--speed",
            type=float,
            default=1.0,
            help="simulated time per real second (default: real time)",
        )
        p.add_argument("--seed", type=int, default=DEFAULT_SEED)
        p.add_argument(
            "--start",
            type=_district_time,
            metavar="YYYY-MM-DDTHH:MM",
            help="start the district clock at this local time instead of now (a replayable day)",
        )
        p.add_argument(
            "--no-warm-up", action="store_true", help="do not replay today so far before going live"
        )
        p.add_argument(
            "--ready-file",
            type=Path,
            help="once listening, write {url, pid, data} here as JSON (removed at shutdown)",
        )
        p.add_argument(
            "--exit-with-parent",
            action="store_true",
            help="shut down cleanly when stdin reaches EOF (the parent holding the pipe exited)",
        )
        p.add_argument(
            "--log-file",
            type=Path,
            help="log here instead of to stderr (stdout and stderr too), mode 600, rotated at"
            f" {LOG_MAX_BYTES // 2**20} MiB, {LOG_BACKUPS} old files kept (FILE.1 the newest)",
        )
        p.add_argument(
            "--config",
            type=Path,
            help="settings (TOML: [server] url, host, port; [intake.http], [intake.hotline], ...;"
            " docs/intake.md)"
            + ("; default: the demo's, every intake on" if name == "demo" else ""),
        )
        p.add_argument("-v", "--verbose", action="store_true")
        if name == "demo":
            p.add_argument(
                "--districts",
                help="district adcodes, comma-separated, the first the default: a city demo"
                f" (one of {','.join(DISTRICT_CODES)}; default: what the data dir holds, on a"
                f" fresh one {DEFAULT_CODE}, 大观区 alone); the simulator runs a district's day"
                " in each",
            )
            p.add_argument(
                "--no-mqtt",
                action="store_true",
                help="no [intake.mqtt]: the simulator submits its camera and sensor traffic"
                " directly instead of through the demo's private mosquitto",
            )
        if name == "serve":
            p.add_argument("--simulate", action="store_true", help="run the traffic simulator")
            role = p.add_mutually_exclusive_group()
            role.add_argument(
                "--standby",
                action="store_true",
                help="when another backend writes to the database, follow its log, serve"
                " walls and desks, and take over when it stops (docs/deployment.md)",
            )
            role.add_argument(
                "--gateway",
                action="store_true",
                help="follow the writer's log and serve walls and desks, never write: a"
                " fan-out gateway (docs/deployment.md)",
            )
            p.add_argument(
                "--advertise",
                metavar="URL",
                default="",
                help="the websocket URL clients reach this node at, named to the clients of"
                " standbys and gateways while it writes (default ws://HOST:PORT)",
            )
        p.set_defaults(func=func)

    p = sub.add_parser("intake-outbox", help=cmd_intake_outbox.__doc__)
    p.add_argument("--state", choices=("pending", "delivered", "refused"))
    p.add_argument("--event", type=int, help="only this event's feedback")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--retry", type=int, nargs="+", metavar="ID", help="send these again now")
    p.set_defaults(func=cmd_intake_outbox)
    p = sub.add_parser("intake-mapping", help=cmd_intake_mapping.__doc__)
    p.add_argument("--check", type=Path, metavar="FILE", help="check this table")
    p.add_argument("--file", type=Path, help="the table to map with (default: the shipped one)")
    p.add_argument("type", nargs="*", help="诉求类型 to map")
    p.set_defaults(func=cmd_intake_mapping)
    p = sub.add_parser("hello", help=cmd_hello.__doc__)
    p.add_argument("--user", default="demo-wall")
    p.set_defaults(func=cmd_hello)
    p = sub.add_parser("watch", help=cmd_watch.__doc__)
    p.add_argument("--server", default="ws://127.0.0.1:8765")
    p.add_argument("--user", default="demo-wall", help="demo user whose token file to use")
    p.add_argument("--token-file")
    p.add_argument("--seconds", type=float, default=0, help="stop after this long (0: never)")
    p.set_defaults(func=cmd_watch)
    return parser


def cmd_intake_outbox(args: argparse.Namespace) -> int:
    """Show the feedback owed to intake peers (12345 签收/办理中/办结/退回) and its delivery;
    --retry sends refused feedback again."""
    from dispatch.intake.outbox import STATUS

    store = _current_store(args.url)
    if store is None:
        return 2
    if args.retry:
        found = store.outbox_retry(args.retry, time.time())
        print(f"{found} of {len(args.retry)} feedback(s) will be sent again")
        return 0 if found == len(args.retry) else 1
    counts = store.outbox_counts()
    print(", ".join(f"{state} {n}" for state, n in sorted(counts.items())) or "the outbox is empty")
    for row in store.outbox_entries(args.state, args.event, args.limit):
        when = local_text(row.delivered_at if row.delivered_at else row.next_at)
        what = (
            "delivered" if row.state == "delivered" else ("next" if row.state == "pending" else "")
        )
        print(
            f"{row.id}\t{row.state}\t{STATUS.get(row.kind, row.kind)}\t{row.peer}\t{row.ref}"
            f"\tevent {row.event}\tattempts {row.attempts}\t{what} {when}"
            + (f"\t{row.last_error}" if row.last_error else "")
        )
    return 0


def local_text(seconds: float) -> str:
    """District time, to the second."""
    from dispatch.domain.calendar import CST

    return datetime.fromtimestamp(seconds, CST).strftime("%Y-%m-%d %H:%M:%S")


def cmd_intake_mapping(args: argparse.Namespace) -> int:
    """Check a 12345 诉求类型 → category mapping table against the category table in force
    (the stored one, else the default), or show how types map."""
    from sqlalchemy.engine import make_url

    from dispatch.domain.categories import load_categories
    from dispatch.intake.district_codes import split
    from dispatch.intake.mapping import MappingError, load_mapping

    target = make_url(args.url)
    stored = not (
        target.get_backend_name() == "sqlite"
        and target.database
        and not Path(target.database).exists()
    )
    store = Store(args.url) if stored else None
    # Each district's table: the first's rows bare, a further district's keyed by it.
    tables: dict[str, dict[str, str]] = {}
    if store is not None and store.is_current():
        first = store.meta("district") or ""
        for _, code, _, name, _ in store.unit_rows("category"):
            district, bare = split(code)
            tables.setdefault(district or first, {})[bare] = name
        tables = dict(sorted(tables.items(), key=lambda item: item[0] != first))
    if not tables:  # no database yet: the default table is the one a new one gets
        tables = {"": {c.code: c.name for c in load_categories()}}
    try:
        mapping = load_mapping(args.check or args.file, tables)
    except MappingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    names = next(iter(tables.values()))
    if args.check:
        print(
            f"{args.check}: {len(mapping.raw)} types, triage under {mapping.triage}"
            f" {names.get(split(mapping.triage)[1], '?')}: ok"
        )
    for kind in args.type:
        hit = mapping.map(kind)
        what = "triage (待分拨)" if hit.triage else hit.rule
        print(f"{kind}\t{hit.category} {names.get(hit.category, '?')}\t{what}")
    return 0


def _district_time(text: str) -> float:
    """Epoch seconds of a local (China Standard Time) date and time given as ISO text."""
    from dispatch.domain.calendar import CST

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date and time: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CST)
    return moment.timestamp()


# What a config file's [server] table may set, with its type (the command line wins).
SERVER_KEYS = {"url": str, "host": str, "port": int}


def server_settings(path: Path) -> dict[str, str | int]:
    """The [server] table of a config file (url, host, port); SystemExit(2) naming the key
    at fault when it cannot be used (a missing or unreadable file is load_config's to say)."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    table = data.get("server", {})
    if not isinstance(table, dict):
        raise SystemExit(f"error: {path}: [server] must be a table")
    settings: dict[str, str | int] = {}
    for key, value in table.items():
        kind = SERVER_KEYS.get(key)
        if kind is None:
            raise SystemExit(
                f"error: {path}: [server] has no key {key!r} (only {', '.join(SERVER_KEYS)})"
            )
        if not isinstance(value, kind) or isinstance(value, bool):
            raise SystemExit(f"error: {path}: [server] {key} must be a {kind.__name__}")
        settings[key] = value if isinstance(value, int) else str(value)
    return settings


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    if (sys.argv[1:] if argv is None else argv) == ["train-risk"]:  # risk_process.COMMAND
        # The backend's deadline-risk training process (dispatch/risk_process.py): not a
        # command of the operator's, so not in the parser (nor its help).
        from dispatch.risk_process import worker_main

        return worker_main()
    args = build_parser().parse_args(argv)
    # A config file's [server] (serve --config, or TONGGUAN_CONFIG for every command: the
    # installed service's /etc/tongguan/dispatch.toml) fills what the command line left out.
    config: Path | None = getattr(args, "config", None)
    from_env = os.environ.get("TONGGUAN_CONFIG")
    if config is None and from_env and args.command != "demo":
        config = Path(from_env)
        if args.command == "serve":
            args.config = config  # its [intake.*] too
    server = server_settings(config) if config is not None else {}
    if args.url is None:
        args.url = str(server.get("url") or default_url())
    if getattr(args, "host", "") is None:
        args.host = str(server.get("host", "127.0.0.1"))
    if getattr(args, "port", 0) is None:
        args.port = int(server.get("port", 8765))
    result: int = args.func(args)
    return result
