"""Fuzzed frames against a running backend (a `dispatch serve` child), every answer held
against the document (oracle.py), the backend alive and consistent afterwards.

Lanes run side by side, each on connections of its own: district-wide `wall` users (every
command must be `forbidden`, so the oracle knows each answer exactly) and a `dispatcher`
(its commands change the state: any workflow answer, and a repeat the stored first one).
Each connection sends at most 150 frames that draw on its allowance (burst 200, §6.4), so no
answer depends on timing; a separate probe checks the allowance itself. Frames go in small
pipelined batches: answers given at once must come in order, later ones (commands after
their commit, history and admin reads) are matched by id. Another lane fuzzes first frames
(§3's refusals) and another sends websocket-level oddities (RFC 6455: not UTF-8, reserved
opcodes, unmasked, fragmented, over 64 KiB). A reader stays connected throughout and must
never be cut, and must end equal to a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import random
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.common import report_pool
from bench.rawclient import masked_frame
from bench.reliability.backend import Backend
from bench.reliability.checks import Audit, audit
from bench.reliability.clients import Reader, converge, fresh_snapshot
from bench.reliability.frames import FrameMaker
from bench.reliability.oracle import WORKFLOW_CODES, Expect, Oracle, Registry, first_frame
from dispatch.app import load_reference, prepare
from dispatch.store.store import Store
from protocol.codec import decode_server, encode
from protocol.messages import Error, Hello, Result, Welcome

PER_CONNECTION = 150  # frames drawing on the allowance, per connection (burst 200)
LANES = 8  # connections fuzzed at once: 6 wall, 2 dispatcher
_PUSHED = (b'{"type":"delta"', b'{"type":"kpis"')


@dataclass
class Mismatch:
    """A frame whose answer was not the documented one."""

    frame: bytes
    expected: str
    got: str

    def __str__(self) -> str:
        shown = self.frame[:300] + (b"..." if len(self.frame) > 300 else b"")
        return f"frame {shown!r}: expected {self.expected}; got {self.got}"


@dataclass
class FuzzReport:
    """What the fuzzing sent, what came back, and what was wrong."""

    frames: int = 0  # after the welcome, every lane
    first_frames: int = 0  # as a connection's first message
    probes: int = 0  # websocket-level
    connections: int = 0
    seconds: float = 0.0
    labels: Counter[str] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)  # answers by code ("result")
    undocumented: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    rate_limit: str = ""
    log_lines: int = 0  # backend log lines written while fuzzing
    audit: Audit = field(default_factory=Audit)
    problems: list[str] = field(default_factory=list)

    @property
    def all_problems(self) -> list[str]:
        """Mismatches and every other problem."""
        return [*(str(m) for m in self.mismatches), *self.problems, *self.audit.problems]


@dataclass
class Target:
    """The backend under fuzz and its users."""

    url: str
    tokens: dict[str, str]  # name -> token
    roles: dict[str, str]
    epoch: str
    reference: str  # the units version of a district-wide user
    points: list[dict[str, Any]]


def prepare_fuzz(url: str) -> tuple[dict[str, str], dict[str, str], list[dict[str, Any]]]:
    """Users for the lanes and the reader, and report args at real places."""
    store = Store(url)
    try:
        prepare(store)
        reference = load_reference(store)
        roles = {"模糊大屏1": "wall", "模糊大屏2": "wall", "模糊大屏3": "wall"}
        roles |= {"模糊调度": "dispatcher", "旁观大屏": "wall"}
        tokens = {name: store.create_user(name, role) for name, role in roles.items()}
        points = [msgspec.to_builtins(r) for r in report_pool(reference, 40, seed=7)]
    finally:
        store.close()
    return tokens, roles, points


async def fuzz(
    url: str,
    data: Path,
    frames: int,
    *,
    seed: int = 1,
    say: Callable[[str], None] = lambda _s: None,
) -> FuzzReport:
    """Start a backend on `url`, fuzz it with about `frames` frames, check it afterwards."""
    report = FuzzReport()
    began = time.monotonic()
    backend, target = await start_target(url, data)
    tokens = target.tokens
    bystander = Reader("旁观大屏", backend.ws_url, tokens["旁观大屏"])
    try:
        bystander.start()
        await asyncio.wait_for(bystander.session.wait_connected(), 60)
        mark = backend.log_size()
        registry = Registry()
        # Most answers wait for a commit (an fsync on SQLite): lanes side by side keep the
        # backend busy. Lanes of one user share its command_ids, as its connections would.
        lanes = [*(f"模糊大屏{1 + i % 3}" for i in range(LANES - 2)), "模糊调度", "模糊调度"]
        share = frames // len(lanes)
        jobs = [
            _lane(target, name, share, registry, random.Random(seed * 100 + i), report)
            for i, name in enumerate(lanes)
        ]
        jobs += [
            _first_frames(target, max(1, frames // 100), random.Random(seed * 10 + i), report)
            for i in range(2)
        ]
        jobs.append(_probes(target, rounds=max(1, frames // 5000), report=report))
        jobs.append(_rate_limit(target, report))
        started = time.monotonic()
        await asyncio.gather(*jobs)
        report.seconds = time.monotonic() - started
        say(f"{report.frames:,} frames in {report.seconds:.0f} s; checking the backend")
        if not backend.alive():
            report.problems.append(f"the backend died: {backend.log_tail()}")
            return report
        report.log_lines = len(backend.log_text(mark).splitlines())
        found = await converge(bystander, backend.ws_url, tokens["旁观大屏"], patience=60)
        report.problems += [f"the bystander reader: {d}" for d in found]
        if len(bystander.visits) != 1:
            report.problems.append(f"the bystander reader was cut ({len(bystander.visits)} visits)")
        report.problems += [f"the bystander reader: {p}" for p in bystander.problems]
    finally:
        await bystander.stop()
        status = backend.stop()
    if status not in (0, None):
        report.problems.append(f"the backend's clean stop exited with {status}")
    report.audit = await asyncio.to_thread(audit, url)
    report.seconds = report.seconds or time.monotonic() - began
    return report


async def start_target(url: str, data: Path) -> tuple[Backend, Target]:
    """A prepared database served by a backend child: what the lanes need to know of it."""
    tokens, roles, points = await asyncio.to_thread(prepare_fuzz, url)
    backend = Backend(url, data / "backend")
    await asyncio.to_thread(backend.start)
    try:
        welcome, snapshot = await fresh_snapshot(backend.ws_url, tokens["旁观大屏"])
    except BaseException:
        backend.stop()
        raise
    target = Target(backend.ws_url, tokens, roles, welcome.epoch, snapshot.reference, points)
    return backend, target


# ---- after the welcome ---------------------------------------------------------------------


async def _open(target: Target, name: str) -> ClientConnection:
    """A connection past its welcome and snapshot (units cached: not sent)."""
    ws = await connect(target.url, max_size=None, max_queue=None, compression=None, open_timeout=60)
    hello = Hello(
        id=1, protocol=1, token=target.tokens[name], client="fuzz", reference=target.reference
    )
    await ws.send(encode(hello).decode())
    async with asyncio.timeout(60):
        while not str(await ws.recv())[:30].startswith('{"type":"snapshot"'):
            pass
    return ws


async def _lane(
    target: Target,
    name: str,
    frames: int,
    registry: Registry,
    rng: random.Random,
    report: FuzzReport,
) -> None:
    """Connections one after another, each sent up to PER_CONNECTION frames in batches."""
    maker = FrameMaker(rng, target.points, events=0)
    sent = 0
    while sent < frames:
        ws = await _open(target, name)
        report.connections += 1
        oracle = Oracle(name, target.roles[name], registry)
        drawn = 0
        try:
            alive = True
            while alive and drawn < PER_CONNECTION and sent < frames:
                oracle.events = maker.events = registry.events
                oracle.batches = 0  # the last exchange had every answer
                batch: list[tuple[bytes, bool, Expect]] = []
                last: tuple[bytes, bool, Expect] | None = None
                for _ in range(rng.randint(1, 8)):
                    raw, binary = maker.frame(oracle)
                    expect = oracle.after_welcome(raw)
                    if expect.when in ("close", "lenient"):
                        last = (raw, binary, expect)  # alone, once the rest is answered
                        break
                    batch.append((raw, binary, expect))
                for part in (batch, [last] if last is not None else []):
                    if not part or not alive:
                        continue
                    drawn += sum(1 for _, _, e in part if e.label != "ping")
                    sent += len(part)
                    report.frames += len(part)
                    alive = await _exchange(ws, part, registry, report)
        finally:
            await ws.close()


async def send_frames(
    target: Target, name: str, frames: Sequence[bytes], registry: Registry, report: FuzzReport
) -> None:
    """Send given frames (text when UTF-8, else binary) as a lane sends its own: in order, on
    as many connections as the frames need (an oversized or undocumented one ends one), each
    answer checked."""
    todo = list(frames)
    while todo:
        ws = await _open(target, name)
        report.connections += 1
        oracle = Oracle(name, target.roles[name], registry)
        oracle.events = registry.events
        try:
            batch: list[tuple[bytes, bool, Expect]] = []
            alive = True
            while todo and alive:
                raw = todo.pop(0)
                expect = oracle.after_welcome(raw)
                special = expect.when in ("close", "lenient")
                if not special:
                    batch.append((raw, not _is_utf8(raw), expect))
                if special or not todo:
                    for part in (batch, [(raw, not _is_utf8(raw), expect)] if special else []):
                        if part and alive:
                            report.frames += len(part)
                            alive = await _exchange(ws, part, registry, report)
                    batch = []
                    oracle.batches = 0
                    alive = alive and not special
        finally:
            await ws.close()


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


async def _exchange(
    ws: ClientConnection,
    batch: list[tuple[bytes, bool, Expect]],
    registry: Registry,
    report: FuzzReport,
) -> bool:
    """Send a batch and check what comes back; False when the connection is done."""
    now: deque[tuple[bytes, Expect]] = deque()
    later: dict[int, tuple[bytes, Expect]] = {}
    closing: tuple[bytes, Expect] | None = None
    for raw, binary, expect in batch:
        report.labels[expect.label.split(":")[0]] += 1
        if expect.when == "later":
            later[expect.id] = (raw, expect)
        elif expect.when == "now":
            now.append((raw, expect))
        else:
            closing = (raw, expect)
        try:
            await ws.send(raw if binary else raw.decode())
        except ConnectionClosed as exc:
            report.mismatches.append(Mismatch(raw, "the connection up", f"closed: {exc}"))
            return False
    try:
        async with asyncio.timeout(60):
            while now or later:
                answer = await _answer(ws)
                report.codes[_code(answer)] += 1
                if now and now[0][1].judge(answer) is None:
                    now.popleft()
                    continue
                pending = later.pop(answer.id, None)
                if pending is not None and pending[1].judge(answer) is None:
                    _record(pending[1], answer, registry)
                    continue
                # Blame the frame the answer most looks like it was meant for.
                if now and (pending is None or _code(answer) in now[0][1].codes):
                    raw, expect = now[0]
                else:
                    raw, expect = pending or (b"", Expect("?", "now"))
                problem = expect.judge(answer) if expect.label != "?" else "no frame was due one"
                report.mismatches.append(
                    Mismatch(raw, _describe(expect), f"{_show(answer)}: {problem}")
                )
                return False
    except TimeoutError:
        due = [*(r for r, _ in now), *(r for r, _ in later.values())]
        report.mismatches.append(Mismatch(due[0], "an answer within 60 s", "none"))
        return False
    except ConnectionClosed as exc:
        frame = closing[0] if closing is not None else (now[0][0] if now else b"")
        code = exc.rcvd.code if exc.rcvd else None
        report.mismatches.append(Mismatch(frame, "the connection up", f"closed {code}: {exc}"))
        return False
    if closing is None:
        return True
    raw, expect = closing
    if expect.when == "lenient":
        report.undocumented += 1
        return await _still_up(ws, raw, report)
    try:  # an oversized frame: the connection must be closed with 1009, nothing applied
        async with asyncio.timeout(30):
            while True:
                await ws.recv()
    except ConnectionClosed as exc:
        code = exc.rcvd.code if exc.rcvd else None
        if code != expect.close_code:
            report.mismatches.append(Mismatch(raw, f"close {expect.close_code}", f"close {code}"))
    except TimeoutError:
        report.mismatches.append(Mismatch(raw, f"close {expect.close_code}", "still open"))
    return False


async def _answer(ws: ClientConnection) -> Result | Error:
    """The next result or error (pushed deltas and KPIs skipped undecoded)."""
    while True:
        raw = await ws.recv()
        head = raw[:16].encode() if isinstance(raw, str) else raw[:16]
        if head.startswith(_PUSHED):
            continue
        message = decode_server(raw)
        if isinstance(message, (Result, Error)):
            return message


async def _still_up(ws: ClientConnection, raw: bytes, report: FuzzReport) -> bool:
    """After a frame the document does not settle: a ping is still answered (a result, or
    bad_id should that frame have taken an even larger id)."""
    ping_id = 10**60
    try:
        await ws.send(f'{{"id":{ping_id},"type":"ping"}}')
        async with asyncio.timeout(60):
            while True:
                answer = await _answer(ws)
                if answer.id == ping_id:
                    return False  # done with this connection either way
    except (ConnectionClosed, TimeoutError) as exc:
        report.mismatches.append(Mismatch(raw, "the connection up", repr(exc)))
    return False


def _record(expect: Expect, answer: Result | Error, registry: Registry) -> None:
    """A command's first answer, as the server records it (§6.2), or its removal."""
    if expect.stored is None:
        return
    command_id, _ = expect.stored
    recorded = isinstance(answer, Result) or answer.code in WORKFLOW_CODES
    registry.answer(command_id, answer if recorded else None)


def _code(answer: Result | Error) -> str:
    return "result" if isinstance(answer, Result) else answer.code


def _describe(expect: Expect) -> str:
    return f"{expect.label}: {'/'.join(sorted(expect.codes))} id {expect.id}"


def _show(answer: Result | Error) -> str:
    text = encode(answer).decode()
    return text[:300]


# ---- first frames --------------------------------------------------------------------------


async def _first_frames(target: Target, count: int, rng: random.Random, report: FuzzReport) -> None:
    """§3: a connection's first message gets a welcome or the documented close."""
    maker = FrameMaker(rng, target.points, events=0)
    tokens = [target.tokens[n] for n in ("模糊大屏1", "模糊调度")]
    valid = set(target.tokens.values())
    for _ in range(count):
        raw = maker.first(tokens, target.epoch, 10, target.reference)
        expect = first_frame(raw, valid, target.epoch)
        report.first_frames += 1
        report.labels[f"first: {expect.label.split(':')[0]}"] += 1
        try:
            raw.decode("utf-8")
            message: str | bytes = raw.decode()
        except UnicodeDecodeError:
            message = raw
        if isinstance(message, str) and rng.random() < 0.1:
            message = raw  # binary, decoded the same (§1)
        got = await _first_answer(target.url, message)
        if expect.close_code == -1:
            report.undocumented += 1
            continue
        problem = _judge_first(expect, got)
        if problem:
            report.mismatches.append(Mismatch(raw, f"first frame: {expect.label}", problem))


async def _first_answer(url: str, message: str | bytes) -> Welcome | tuple[int | None, str]:
    """The welcome, or the close code and reason (-2 and what came: anything else).

    Messages not read are queued without bound: a bounded queue stops reading the socket
    once full, and closing then waits out its timeout for a close frame behind them (a
    replay's deltas follow the welcome at once)."""
    async with connect(url, max_size=None, max_queue=None, compression=None, open_timeout=60) as ws:
        await ws.send(message)
        try:
            async with asyncio.timeout(60):
                raw = await ws.recv()
        except ConnectionClosed as exc:
            return (exc.rcvd.code if exc.rcvd else None, exc.rcvd.reason if exc.rcvd else "")
        except TimeoutError:
            return (-2, "nothing within 60 s")
        decoded = decode_server(raw)
        return decoded if isinstance(decoded, Welcome) else (-2, str(raw)[:200])


def _judge_first(expect: Any, got: Welcome | tuple[int | None, str]) -> str | None:
    if isinstance(got, Welcome):
        if expect.close_code:
            return f"a welcome where close {expect.close_code} was due"
        if got.resume not in expect.resume:
            return f"resume {got.resume} where {'/'.join(sorted(expect.resume))} was due"
        return None
    code, reason = got
    if code != expect.close_code:
        return f"close {code} ({reason}) where {expect.close_code or 'a welcome'} was due"
    if not reason.startswith(expect.reason):
        return f"close reason {reason!r} where {expect.reason!r}… was due"
    return None


# ---- websocket-level probes ---------------------------------------------------------------


# (what, frame bytes to send after the snapshot, the close code due; 0: a result is due)
def _probe_frames() -> list[tuple[str, bytes, int]]:
    ping = b'{"id":7,"type":"ping"}'
    unmasked = bytes([0x81, len(ping)]) + ping
    first = bytearray(masked_frame(0x1, ping[:9]))
    first[0] = 0x01  # text, not final
    last = masked_frame(0x0, ping[9:])  # continuation, final
    fragmented = bytes(first) + last
    rsv = bytearray(masked_frame(0x1, ping))
    rsv[0] |= 0x40
    return [
        ("text not UTF-8", masked_frame(0x1, b'{"id":7,"type":"ping","x":"\xff"}'), 1007),
        ("reserved opcode", masked_frame(0x3, ping), 1002),
        ("unmasked", unmasked, 1002),
        ("RSV1 without an extension", bytes(rsv), 1002),
        ("fragmented text", fragmented, 0),
        ("65,537 bytes", masked_frame(0x1, ping + b" " * (65_537 - len(ping))), 1009),
        ("65,536 bytes", masked_frame(0x1, ping + b" " * (65_536 - len(ping))), 0),
    ]


async def _probes(target: Target, rounds: int, report: FuzzReport) -> None:
    """RFC 6455 at the edges (§1): the right close, or the answer, and only that client."""
    host, port = target.url.removeprefix("ws://").split(":")
    hello = encode(
        Hello(id=1, protocol=1, token=target.tokens["模糊大屏3"], reference=target.reference)
    )
    for _ in range(rounds):
        for what, frame, due in _probe_frames():
            report.probes += 1
            report.labels[f"probe: {what}"] += 1
            try:
                got = await _raw_probe(host, int(port), hello, frame)
            except (OSError, TimeoutError, ValueError) as exc:
                got = f"failed: {exc!r}"
            wanted = f"close {due}" if due else "result 7"
            if got != wanted:
                report.mismatches.append(Mismatch(frame[:60], f"{what}: {wanted}", got))


async def _raw_probe(host: str, port: int, hello: bytes, frame: bytes) -> str:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        async with asyncio.timeout(60):
            status = await reader.readuntil(b"\r\n\r\n")
            if not status.startswith(b"HTTP/1.1 101"):
                return f"upgrade refused: {status[:40]!r}"
            writer.write(masked_frame(0x1, hello))
            while True:  # welcome, then the snapshot
                opcode, payload = await _read_frame(reader)
                if opcode == 0x1 and payload.startswith(b'{"type":"snapshot"'):
                    break
            writer.write(frame)
            await writer.drain()
            while True:
                opcode, payload = await _read_frame(reader)
                if opcode == 0x8:
                    return (
                        f"close {int.from_bytes(payload[:2], 'big') if len(payload) >= 2 else None}"
                    )
                if opcode == 0x1 and payload.startswith(b'{"type":"result","id":7'):
                    return "result 7"
                if opcode == 0x1 and payload.startswith(b'{"type":"error"'):
                    return payload[:120].decode(errors="replace")
    except asyncio.IncompleteReadError:
        return "closed without a close frame"
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def _read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readexactly(2)
    size = head[1] & 0x7F
    if size == 126:
        size = int.from_bytes(await reader.readexactly(2), "big")
    elif size == 127:
        size = int.from_bytes(await reader.readexactly(8), "big")
    return head[0] & 0x0F, await reader.readexactly(size)


# ---- the allowance -------------------------------------------------------------------------


async def _rate_limit(target: Target, report: FuzzReport, frames: int = 400) -> None:
    """§6.4: refused frames draw on the allowance (burst 200, 50/s): the first 200 get their
    own answer, and past that no more than the refill lets through."""
    ws = await _open(target, "模糊大屏2")
    report.connections += 1
    try:
        began = time.monotonic()
        for _ in range(frames):
            await ws.send("{")
        own = limited = 0
        order: list[str] = []
        async with asyncio.timeout(60):
            while own + limited < frames:
                answer = await _answer(ws)
                assert isinstance(answer, Error), answer
                order.append(answer.code)
                own += answer.code == "bad_message"
                limited += answer.code == "rate_limited"
        elapsed = time.monotonic() - began
        report.frames += frames
        report.labels["rate limit probe"] += frames
        allowed = 200 + 50 * elapsed + 1
        report.rate_limit = (
            f"{frames} refused frames at once: {own} answered bad_message, {limited} "
            f"rate_limited in {elapsed:.2f} s (the allowance lets through at most {allowed:.0f})"
        )
        if order[:200] != ["bad_message"] * 200:
            report.problems.append(
                f"rate limit: the first 200 were not all answered: {order[:210]}"
            )
        if own > allowed:
            report.problems.append(f"rate limit: {report.rate_limit}")
        await ws.send('{"id":2,"type":"ping"}')  # pings are not limited (§6.4)
        async with asyncio.timeout(60):
            answer = await _answer(ws)
        if not (isinstance(answer, Result) and answer.id == 2):
            report.problems.append(f"rate limit: a ping after the flood got {answer}")
    finally:
        await ws.close()
