"""The 12345 gateway: the 12345 pushes read in a process of their own.

    [intake.gateway]  enabled, host, port, loop

Reading a push (HTTP, the HMAC signature, the JSON and its schema) cost the backend's loop
about half of a push's CPU (bench/RESULTS.md §7). With the gateway on, a child process of
the backend serves `POST /12345/v1/orders` and `/orders/batch` on a port of its own and
hands the work orders it has read to the backend over a private socket pair; the backend
files what arrives together (`HotlineIntake.file`: one report_batch per peer, so one commit)
and answers; the gateway answers each push only then, after the commit. A push the gateway
could not get filed (the backend gone, or too slow) is answered 503 and nothing of it is
acknowledged: the platform sends it again, and the 工单编号 makes a repeat create nothing.

The backend binds the listening socket and hands it to the child (its port stays across the
child's restarts, and pushes wait in its backlog meanwhile); a child that exits is started
again (backoff 0.5 s doubling to 10 s); a child whose backend is gone (its end of the socket
pair closed, even by SIGKILL) stops. The peers' keys reach the child through the socket pair,
never its command line or environment.

The link's frames: a 4-byte big-endian length, then a msgpack list of messages (below).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import itertools
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import msgspec
import uvicorn
from starlette.types import Receive, Scope, Send

from dispatch.intake.config import ConfigError, only, section, take
from dispatch.intake.demo import demo_section
from dispatch.intake.hotline import (
    BATCH_PATH,
    CHANNEL,
    ORDERS_PATH,
    HotlineIntake,
    HotlineReader,
    WorkOrder,
)
from dispatch.intake.http import Counts, HttpError

log = logging.getLogger("dispatch.intake.gateway")
READY_SECONDS = 30.0  # for the child to serve after its start
ANSWER_SECONDS = 30.0  # for the backend to file a push: past it, 503 (sent again: idempotent)
# For the child to finish the pushes under way when stopped (within the backend's bound on
# stopping the intakes, INTAKE_STOP_SECONDS): uvicorn's graceful shutdown, then a SIGKILL.
GRACE_SECONDS = 1
STOP_SECONDS = 1.5
TALLY_SECONDS = 0.5  # how often the child's refusal counters reach the backend
IN_FLIGHT = 2  # frames of work orders awaiting the backend's answers (_Link)
BACKOFF_FIRST, BACKOFF_CAP, STEADY_SECONDS = 0.5, 10.0, 30.0


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    """[intake.gateway]."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 8781
    loop: Literal["auto", "uvloop", "asyncio"] = "auto"


@section("gateway")
def read_gateway(table: dict[str, Any], base: Path) -> GatewaySettings:
    """[intake.gateway] enabled, host, port (0: any free one), loop (auto: uvloop when
    installed)."""
    where = "intake.gateway"
    only(table, where, {"enabled", "host", "port", "loop"})
    port = take(table, where, "port", int, 8781)
    if not 0 <= port <= 65535:
        raise ConfigError(f"[{where}] port: 0..65535, not {port}")
    loop = take(table, where, "loop", str, "auto")
    if loop not in ("auto", "uvloop", "asyncio"):
        raise ConfigError(f"[{where}] loop: auto, uvloop or asyncio, not {loop!r}")
    enabled = take(table, where, "enabled", bool, False)
    if enabled and os.name != "posix":
        raise ConfigError(f"[{where}] enabled: the gateway runs on Linux or macOS only")
    return GatewaySettings(
        enabled,
        take(table, where, "host", str, "127.0.0.1"),
        port,
        "uvloop" if loop == "uvloop" else "asyncio" if loop == "asyncio" else "auto",
    )


@demo_section
def _demo(keys: Path) -> str:
    # The demo's 12345 platform pushes through the gateway (any free port: logged).
    return '[intake.gateway]\nenabled = true\nhost = "127.0.0.1"\nport = 0\n'


# ---- the link's messages -------------------------------------------------------------------


class Hello(msgspec.Struct, tag="hello"):
    """Backend -> child, first: what the child needs to read pushes."""

    keys: dict[str, bytes]
    max_body: int
    loop: str
    log_level: int


class Ready(msgspec.Struct, tag="ready"):
    """Child -> backend: serving."""

    pid: int
    loop: str


class File(msgspec.Struct, tag="file"):
    """Child -> backend: a push's work orders (read, signature checked) to file."""

    id: int
    peer: str
    orders: list[WorkOrder]


class Tally(msgspec.Struct, tag="tally"):
    """Child -> backend: the child's refusals since its last tally, by reason."""

    answers: dict[str, int]


class Filed(msgspec.Struct, tag="filed"):
    """Backend -> child: a File's answers, one per order, after their commit."""

    id: int
    answers: list[dict[str, Any]]


ToBackend = list[Ready | File | Tally]
ToChild = list[Filed]
_encoder = msgspec.msgpack.Encoder()


def frame(messages: Sequence[msgspec.Struct]) -> bytes:
    """One frame of the link."""
    body = _encoder.encode(messages)
    return len(body).to_bytes(4, "big") + body


async def read_frame(reader: asyncio.StreamReader) -> bytes | None:
    """The next frame's body; None at the end of the link."""
    try:
        head = await reader.readexactly(4)
        return await reader.readexactly(int.from_bytes(head, "big"))
    except (asyncio.IncompleteReadError, ConnectionError):
        return None


# ---- the backend's side ---------------------------------------------------------------------


class Gateway:
    """The backend's end: the listening socket, the child (started, watched, restarted) and
    the filing of what it reads."""

    def __init__(self, settings: GatewaySettings, intake: HotlineIntake, counts: Counts) -> None:
        self.settings = settings
        self.intake = intake
        self.counts = counts
        self.port = 0
        self.pid: int | None = None
        self.starts = 0  # children started (1 + restarts)
        self.loop_name = ""
        self.frames = self.filed = 0  # frames of work orders filed, and their work orders
        self._listen: socket.socket | None = None
        self._task: asyncio.Task[None] | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._ready = asyncio.Event()
        self._stopping = False
        self._handlers: set[asyncio.Task[None]] = set()
        self._decode = msgspec.msgpack.Decoder(ToBackend).decode

    async def start(self) -> int:
        """Bind, start the child and wait until it serves; the port."""
        host, port = self.settings.host, self.settings.port
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # see IntakeHttp.start
        try:
            sock.bind((host, port))
        except OSError:
            sock.close()
            raise
        sock.listen(1024)
        self._listen = sock
        self.port = sock.getsockname()[1]
        self._task = asyncio.create_task(self._supervise(), name="intake-gateway")
        try:
            await asyncio.wait_for(self._ready.wait(), READY_SECONDS)
        except TimeoutError:
            log.error("the 12345 gateway did not start within %.0f s", READY_SECONDS)
        log.info("12345 gateway on %s:%d (pid %s)", host, self.port, self.pid)
        return self.port

    def health(self) -> dict[str, Any]:
        """Its port, child and how many times it was started."""
        alive = self._proc is not None and self._proc.returncode is None
        return {
            "port": self.port,
            "pid": self.pid if alive else None,
            "starts": self.starts,
            "frames": self.frames,
            "orders": self.filed,
        }

    async def _supervise(self) -> None:
        backoff = BACKOFF_FIRST
        while not self._stopping:
            began = time.monotonic()
            try:
                code = await self._run_child()
            except Exception:
                log.exception("the 12345 gateway failed")
                code = None
            if self._stopping:
                return
            if time.monotonic() - began > STEADY_SECONDS:
                backoff = BACKOFF_FIRST
            log.warning("the 12345 gateway exited (%s); starting it in %.1f s", code, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_CAP)

    async def _run_child(self) -> int | None:
        assert self._listen is not None
        ours, theirs = socket.socketpair()
        listen = self._listen.fileno()
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "dispatch.intake.gateway",
                str(listen),
                str(theirs.fileno()),
                pass_fds=(listen, theirs.fileno()),
                stdin=subprocess.DEVNULL,
                # Its own session: a terminal's Ctrl-C stops the backend, which stops it.
                start_new_session=True,
            )
        finally:
            theirs.close()
        self._proc, self.pid = proc, proc.pid
        self.starts += 1
        reader, writer = await asyncio.open_connection(sock=ours)
        level = logging.getLogger().getEffectiveLevel()
        hello = Hello(self.intake.keys, self.intake.max_body, self.settings.loop, level)
        writer.write(frame([hello]))
        try:
            while (body := await read_frame(reader)) is not None:
                try:
                    messages = self._decode(body)
                except msgspec.DecodeError as exc:
                    log.error("the 12345 gateway sent what cannot be read: %s", exc)
                    break
                task = asyncio.create_task(self._handle(messages, writer))
                self._handlers.add(task)
                task.add_done_callback(self._handlers.discard)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            try:
                await asyncio.wait_for(proc.wait(), STOP_SECONDS)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        return proc.returncode

    async def _handle(
        self, messages: list[Ready | File | Tally], writer: asyncio.StreamWriter
    ) -> None:
        by_peer: dict[str, list[File]] = {}
        for message in messages:
            if isinstance(message, File):
                by_peer.setdefault(message.peer, []).append(message)
            elif isinstance(message, Tally):
                for reason, n in message.answers.items():
                    self.counts.add(CHANNEL, reason, n)
            else:
                self.loop_name = message.loop
                self._ready.set()
                log.info("12345 gateway pid %d serving (%s loop)", message.pid, message.loop)
        if not by_peer:
            return
        # One frame of answers for each frame of work orders (the child counts on it).
        self.frames += 1
        filed = await asyncio.gather(*(self._file(peer, files) for peer, files in by_peer.items()))
        if not writer.is_closing():
            writer.write(frame([answer for answers in filed for answer in answers]))

    async def _file(self, peer: str, files: list[File]) -> list[Filed]:
        """One peer's pushes of a frame filed together (one report_batch, one commit)."""
        orders = [order for f in files for order in f.orders]
        self.filed += len(orders)
        if peer not in self.intake.keys:  # the child checked the signature: not expected
            answers = [_refused(o, "unauthorized", f"unknown peer {peer!r}") for o in orders]
        else:
            try:
                answers = await self.intake.file(peer, orders)
            except Exception:
                log.exception("filing %d work orders of %s failed", len(orders), peer)
                answers = [_refused(o, "internal", "the backend failed") for o in orders]
        out, at = [], 0
        for f in files:
            out.append(Filed(f.id, answers[at : at + len(f.orders)]))
            at += len(f.orders)
        return out

    async def stop(self) -> None:
        """Stop the child (it finishes the pushes under way), then release the port."""
        self._stopping = True
        proc = self._proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), STOP_SECONDS + 0.3)
            except TimeoutError:
                if proc is not None and proc.returncode is None:
                    proc.kill()
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._task
        if self._handlers:
            await asyncio.wait(set(self._handlers), timeout=STOP_SECONDS)
        if self._listen is not None:
            self._listen.close()
            self._listen = None


def _refused(order: WorkOrder, reason: str, message: str) -> dict[str, Any]:
    return {"ok": False, "order_no": order.order_no, "error": reason, "message": message}


# ---- the child's side -----------------------------------------------------------------------


class _Link:
    """The child's end: pushes' work orders out, their answers back. At most IN_FLIGHT
    frames of work orders await their answers; what arrives meanwhile goes in the next
    frame, so the busier the backend, the more one frame (one report_batch, one commit)
    carries."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.lost = asyncio.Event()
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[list[dict[str, Any]]]] = {}
        self._out: list[msgspec.Struct] = []
        self._files = 0  # File messages in _out
        self._in_flight = 0  # frames of File messages not answered yet
        self._scheduled = False
        self._loop = asyncio.get_running_loop()
        self._decode = msgspec.msgpack.Decoder(ToChild).decode

    def send(self, message: msgspec.Struct) -> None:
        """Queue a message for the next frame (written at the end of this loop turn, or when
        a frame in flight is answered)."""
        self._out.append(message)
        if isinstance(message, File):
            self._files += 1
        if not self._scheduled and (self._in_flight < IN_FLIGHT or not self._files):
            self._scheduled = True
            self._loop.call_soon(self._flush_soon)

    def _flush_soon(self) -> None:
        self._scheduled = False
        if self._in_flight < IN_FLIGHT or not self._files:
            self.flush()

    def flush(self) -> None:
        """Write what was queued as one frame."""
        out, self._out = self._out, []
        files, self._files = self._files, 0
        if out and not self.lost.is_set():
            self.writer.write(frame(out))
            if files:
                self._in_flight += 1

    async def file(self, peer: str, orders: list[WorkOrder]) -> list[dict[str, Any]]:
        """HotlineReader's filer: the answers of the backend, after the commit."""
        if self.lost.is_set():
            raise HttpError(503, "unavailable", "the backend is not reachable; push again")
        number = next(self._ids)
        future: asyncio.Future[list[dict[str, Any]]] = self._loop.create_future()
        self._pending[number] = future
        self.send(File(number, peer, orders))
        try:
            return await asyncio.wait_for(future, ANSWER_SECONDS)
        except TimeoutError:
            raise HttpError(503, "unavailable", "the backend did not answer in time") from None
        except ConnectionError:
            raise HttpError(
                503, "unavailable", "the backend is not reachable; push again"
            ) from None
        finally:
            self._pending.pop(number, None)

    async def answers(self) -> None:
        """Resolve the pushes as their answers come, until the link ends."""
        while (body := await read_frame(self.reader)) is not None:
            self._in_flight -= 1  # one frame of answers for each frame of work orders
            if self._out:
                self.flush()
            for filed in self._decode(body):
                future = self._pending.get(filed.id)
                if future is not None and not future.done():
                    future.set_result(filed.answers)
        self.lost.set()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionError("the backend is gone"))


class _App:
    """The child's ASGI app: the two 12345 POSTs, and a JSON 404/405 for anything else."""

    def __init__(self, reader: HotlineReader) -> None:
        self.reader = reader

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path in (ORDERS_PATH, BATCH_PATH):
            if scope["method"] == "POST":
                await self.reader.asgi(scope, receive, send)
                return
            status, reason, message = 405, "method_not_allowed", f"{path} takes POST only"
        else:
            status, reason = 404, "not_found"
            message = f"this port takes 12345 pushes only: POST {ORDERS_PATH}, {BATCH_PATH}"
        body = msgspec.json.encode({"ok": False, "error": reason, "message": message})
        headers = [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/json"),
        ]
        if status == 405:
            headers.append((b"allow", b"POST"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class _Tally:
    """The child's refusal counters, sent to the backend as they grow."""

    def __init__(self, counts: Counts, link: _Link) -> None:
        self.counts = counts
        self.link = link
        self.sent: dict[str, int] = {}

    def send(self) -> None:
        now = self.counts.of(CHANNEL)["answers"]
        delta = {r: n - self.sent.get(r, 0) for r, n in now.items() if n != self.sent.get(r, 0)}
        if delta:
            self.link.send(Tally(delta))
            self.sent = dict(now)

    async def run(self) -> None:
        while not self.link.lost.is_set():
            await asyncio.sleep(TALLY_SECONDS)
            self.send()


async def _serve(listen_fd: int, link_sock: socket.socket, hello: Hello, loop_name: str) -> None:
    reader, writer = await asyncio.open_connection(sock=link_sock)
    link = _Link(reader, writer)
    counts = Counts()
    intake = HotlineReader(hello.keys, counts, hello.max_body, link.file)
    listen = socket.socket(fileno=listen_fd)
    config = uvicorn.Config(
        _App(intake),
        lifespan="off",
        interface="asgi3",
        log_config=None,
        access_log=False,
        server_header=False,
        date_header=False,
        timeout_keep_alive=30,
        timeout_graceful_shutdown=GRACE_SECONDS,
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listen]))
    answers = asyncio.create_task(link.answers())
    tallies = _Tally(counts, link)
    tally = asyncio.create_task(tallies.run())
    while not server.started and not serving.done():  # noqa: ASYNC110 - uvicorn's flag
        await asyncio.sleep(0.01)
    if server.started:
        link.send(Ready(os.getpid(), loop_name))
    lost = asyncio.create_task(link.lost.wait())
    await asyncio.wait({serving, lost}, return_when=asyncio.FIRST_COMPLETED)
    if lost.done() and not serving.done():
        log.warning("the backend is gone: the 12345 gateway stops")
        server.should_exit = True
    await serving
    # The last counts, then the link closed (the backend sees its end).
    tallies.send()
    link.flush()
    for task in (tally, answers, lost):
        task.cancel()
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()


def _loop_factory(wanted: str) -> tuple[Any, str]:
    if wanted in ("auto", "uvloop"):
        try:
            uvloop = importlib.import_module("uvloop")  # optional: not a dependency
        except ImportError:
            if wanted == "uvloop":
                log.warning("loop = uvloop but uvloop is not installed: asyncio's loop")
        else:
            return uvloop.new_event_loop, "uvloop"
    return asyncio.new_event_loop, "asyncio"


def _read_hello(link: socket.socket) -> Hello:
    def exactly(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = link.recv(n - len(data))
            if not chunk:
                raise SystemExit("the backend closed the link before its hello")
            data += chunk
        return data

    size = int.from_bytes(exactly(4), "big")
    (hello,) = msgspec.msgpack.decode(exactly(size), type=list[Hello])
    return hello


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m dispatch.intake.gateway LISTEN_FD LINK_FD` (started by the backend)."""
    args = list(sys.argv[1:] if argv is None else argv)
    listen_fd, link_fd = int(args[0]), int(args[1])
    link = socket.socket(fileno=link_fd)
    hello = _read_hello(link)
    logging.basicConfig(  # the backend's format (dispatch/logs.py), the process named
        level=hello.log_level,
        format="%(asctime)s %(levelname)-7s %(name)s: [12345 gateway %(process)d] %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
        stream=sys.stderr,
    )
    link.setblocking(False)
    factory, name = _loop_factory(hello.loop)
    asyncio.run(_serve(listen_fd, link, hello, name), loop_factory=factory)


if __name__ == "__main__":
    main()
