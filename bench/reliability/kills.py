"""`kill -9` under load: the backend killed again and again while writers and readers work.

The backend (`python -m dispatch serve`, no simulator: the writers are the load) is SIGKILLed
at random moments and restarted on the same database. Writers resend every unanswered
command with the same command_id once their session is back; readers resume from their
(epoch, seq). Afterwards: the database audited (checks.py), every acknowledged command in it
once, and every reader's replica equal to a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from bench.common import report_pool
from bench.reliability.backend import Backend
from bench.reliability.checks import Audit, LedgerCheck, audit, ledger_check
from bench.reliability.clients import Reader, Writer, converge
from dispatch.app import load_reference, prepare
from dispatch.store.store import Store

STALLED = "停读大屏"  # the reader that stops reading
# A report's description: long enough that deltas weigh what real ones do (1–3 KB).
DESCRIPTION = "可靠性测试：居民反映该处问题已持续多日，请尽快核实处置并回复。" * 12


@dataclass
class Accounts:
    """Users made for a run, with their tokens, and each writer's reports."""

    writers: dict[str, str] = field(default_factory=dict)  # name -> token
    readers: dict[str, str] = field(default_factory=dict)
    street_readers: dict[str, str] = field(default_factory=dict)
    stalled: str = ""  # the token of a wall user that stops reading
    reports: dict[str, list[dict[str, object]]] = field(default_factory=dict)


def prepare_database(
    url: str, writers: int, readers: int, street_readers: int, reports: int = 150, seed: int = 1
) -> Accounts:
    """Schema, district and users: writers are street users (each its street's reports),
    readers the wall (district-wide) or street users."""
    store = Store(url)
    try:
        prepare(store)
        reference = load_reference(store)
        streets = sorted(reference.streets)  # the district's, for street users
        accounts = Accounts()
        for i in range(writers):
            name, street = f"写入{i:02d}", streets[i % len(streets)]
            accounts.writers[name] = store.create_user(name, "street", [street])
            pool = report_pool(reference, reports, seed=seed * 1000 + i, streets=[street])
            accounts.reports[name] = [
                {**msgspec.to_builtins(r), "description": DESCRIPTION} for r in pool
            ]
        for i in range(readers):
            name = f"大屏{i:02d}"
            accounts.readers[name] = store.create_user(name, "wall")
        accounts.stalled = store.create_user(STALLED, "wall")
        for i in range(street_readers):
            name = f"街道{i:02d}"
            street = streets[(i * 4) % len(streets)]
            accounts.street_readers[name] = store.create_user(name, "street", [street])
    finally:
        store.close()
    return accounts


@dataclass
class KillReport:
    """What a run of kills under load did and found."""

    database: str
    kills: int = 0
    seconds: float = 0.0
    restart_s: list[float] = field(default_factory=list)  # kill -> listening again
    reconverge_s: list[float] = field(default_factory=list)  # kill -> a reader caught up
    not_reconverged: int = 0  # (kill, reader) pairs still behind at the next kill
    deltas: int = 0  # delivered to the readers
    resumes: int = 0  # reader connections that resumed with a replay
    readers: int = 0
    writers: int = 0
    ledger: LedgerCheck = field(default_factory=LedgerCheck)
    audit: Audit = field(default_factory=Audit)
    replica_differences: dict[str, list[str]] = field(default_factory=dict)
    client_problems: list[str] = field(default_factory=list)
    stalled: StalledResult | None = None
    rates: list[float] = field(default_factory=list)  # acknowledged/s before each db restart
    back_to_rate_s: list[float] = field(default_factory=list)  # db answering -> at that rate

    @property
    def problems(self) -> list[str]:
        """Everything that should not have happened."""
        found = [*self.audit.problems, *self.ledger.problems, *self.client_problems]
        found += [f"reader {r}: {d}" for r, ds in self.replica_differences.items() for d in ds]
        if self.ledger.unacknowledged:
            found.append(f"{self.ledger.unacknowledged} commands never acknowledged")
        if self.stalled is not None:
            found += self.stalled.problems
        return found


@dataclass
class StalledResult:
    """A reader that stopped reading: how it was closed, and how long that took."""

    close_code: int | None = None  # 4008, or None when the TCP connection went first (1006)
    seconds: float = 0.0  # from the stop to the close
    buffered: int = 0  # bytes it found waiting when it read again
    problems: list[str] = field(default_factory=list)


async def kills_under_load(
    url: str,
    data: Path,
    *,
    database: str = "sqlite",
    writers: int = 4,
    readers: int = 4,
    street_readers: int = 2,
    kills: int = 5,
    between: tuple[float, float] = (1.0, 3.0),
    cases_at_once: int = 3,
    stall_reader: bool = False,
    seed: int = 1,
    say: Callable[[str], None] = lambda _s: None,
    restart_database: Callable[[float], float] | None = None,
) -> KillReport:
    """Run the scenario; the report says what happened (its `problems` should be empty).

    With `restart_database` (a private cluster's `restart(down)`, returning when it answered
    again) the fault is the database's instead: restarted under the same load while the
    backend stays up; the report then also says how soon the writers were back to their
    rate after each return (`back_to_rate_s`)."""
    rng = random.Random(seed)
    report = KillReport(database, readers=readers + street_readers, writers=writers)
    began = time.monotonic()
    accounts = await asyncio.to_thread(
        prepare_database, url, writers, readers, street_readers, 150, seed
    )
    backend = Backend(url, data / "backend")
    await asyncio.to_thread(backend.start)
    say(f"backend listening on {backend.ws_url} ({database})")
    tokens = {**accounts.readers, **accounts.street_readers}
    all_readers = [Reader(n, backend.ws_url, t) for n, t in accounts.readers.items()]
    all_readers += [
        Reader(n, backend.ws_url, t, district_wide=False)
        for n, t in accounts.street_readers.items()
    ]
    all_writers = [
        Writer(n, backend.ws_url, t, accounts.reports[n], cases_at_once)
        for n, t in accounts.writers.items()
    ]
    try:
        for reader in all_readers:
            reader.start()
        async with asyncio.timeout(120):
            for reader in all_readers:
                await reader.session.wait_connected()
        for writer in all_writers:
            writer.start()
        if stall_reader:
            report.stalled = await stalled_reader(backend, accounts.stalled, say=say)
            cut = [r.name for r in all_readers if len(r.visits) != 1]
            if cut:
                report.stalled.problems.append(f"readers cut meanwhile: {cut}")
        kill_times: list[float] = []
        for k in range(kills):
            await asyncio.sleep(rng.uniform(*between))
            await _while_commands_fly(all_writers)
            if restart_database is not None:
                await _restart_database(report, all_writers, restart_database, rng, say)
                continue
            killed_at = time.time()
            backend.kill()
            for writer in all_writers:
                writer.cut()
            kill_times.append(killed_at)
            await asyncio.sleep(rng.uniform(0.0, 0.2))  # down a moment, as a crash would be
            await asyncio.to_thread(backend.start)
            report.restart_s.append(time.time() - killed_at)
            report.kills += 1
            if (k + 1) % 10 == 0:
                say(f"{k + 1} kills")
        await asyncio.sleep(between[0])  # load after the last restart too
        say("draining the writers")
        await asyncio.gather(*(w.drain(patience=180) for w in all_writers))
        say("comparing the replicas with fresh snapshots")
        differences = await asyncio.gather(
            *(converge(r, backend.ws_url, tokens[r.name], patience=60) for r in all_readers)
        )
        report.replica_differences = {
            r.name: d for r, d in zip(all_readers, differences, strict=True) if d
        }
        _reconvergence(report, kill_times, all_readers)
        report.deltas = sum(r.deltas for r in all_readers)
        report.resumes = sum(v.resume == "replay" for r in all_readers for v in r.visits)
    finally:
        for reader in all_readers:
            await reader.stop()
        for writer in all_writers:
            with contextlib.suppress(Exception):
                await writer.drain(patience=1)
        status = backend.stop()
    for reader in all_readers:
        report.client_problems += [f"reader {reader.name}: {p}" for p in reader.problems]
    for writer in all_writers:
        report.client_problems += [f"writer {writer.user}: {p}" for p in writer.problems]
    if status not in (0, None):
        report.client_problems.append(f"the backend's clean stop exited with {status}")
    report.audit = await asyncio.to_thread(audit, url, accounts.writers)
    report.ledger = ledger_check(all_writers, report.audit)
    report.seconds = time.monotonic() - began
    return report


def _acknowledged(writers: list[Writer]) -> int:
    return sum(1 for w in writers for sent in w.ledger if sent.answers and sent.acknowledged)


async def _restart_database(
    report: KillReport,
    writers: list[Writer],
    restart: Callable[[float], float],
    rng: random.Random,
    say: Callable[[str], None],
) -> None:
    """Restart the database under load; how long from its return until the writers were
    acknowledged at 80 % of their rate before (over a second)."""
    window = 2.0
    first = _acknowledged(writers)
    await asyncio.sleep(window)
    rate = (_acknowledged(writers) - first) / window
    began = time.monotonic()
    back = await asyncio.to_thread(restart, rng.uniform(0.5, 2.0))
    report.kills += 1
    report.restart_s.append(back - began)
    report.rates.append(rate)
    while True:
        count, at = _acknowledged(writers), time.monotonic()
        await asyncio.sleep(1.0)
        if (_acknowledged(writers) - count) / (time.monotonic() - at) >= 0.8 * rate:
            report.back_to_rate_s.append(at - back)
            break
        if time.monotonic() - back > 60:
            report.client_problems.append("not back to its rate 60 s after the database")
            break
    say(
        f"database restarted: down {back - began:.1f} s, back to {rate:.0f}/s after"
        f" {report.back_to_rate_s[-1] if report.back_to_rate_s else float('nan'):.2f} s"
    )


async def _while_commands_fly(writers: list[Writer], patience: float = 2.0) -> None:
    """Wait (at most `patience` seconds) until some writer has a command on its way, so that
    the kill cuts one: writers held back by the rate limit (§6.4) spend most of their time
    waiting to send again, and a kill then may find none in flight."""
    waits = [asyncio.create_task(w.flying.wait()) for w in writers]
    await asyncio.wait(waits, timeout=patience, return_when=asyncio.FIRST_COMPLETED)
    for wait in waits:
        wait.cancel()


def _reconvergence(report: KillReport, kill_times: list[float], readers: list[Reader]) -> None:
    """Seconds from each kill to each district-wide reader's catching up after it."""
    for k, killed_at in enumerate(kill_times):
        until = kill_times[k + 1] if k + 1 < len(kill_times) else float("inf")
        for reader in readers:
            if not reader.district_wide:
                continue
            visit = next((v for v in reader.visits if killed_at < v.welcome_at < until), None)
            if visit is None or visit.caught_up_at is None or visit.caught_up_at > until:
                report.not_reconverged += 1
                continue
            report.reconverge_s.append(visit.caught_up_at - killed_at)


async def stalled_reader(
    backend: Backend,
    token: str,
    patience: float = 300.0,
    say: Callable[[str], None] = lambda _s: None,
) -> StalledResult:
    """A district-wide client that stops reading after its snapshot (docs/protocol.md §13):
    the backend must close it once over 16 MiB wait for it, while the others read on. Its
    close frame cannot pass the data queued before it, so it is told by the backend's log
    (`closing <peer> (<user>): N bytes unread`); reading again, the client then finds 4008 or,
    once the connection was dropped, the end of the stream (1006)."""
    from bench.rawclient import RawClient

    result = StalledResult()
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    sock.setblocking(False)
    await loop.sock_connect(sock, ("127.0.0.1", backend.port))
    peer = f"127.0.0.1:{sock.getsockname()[1]}"
    hello = msgspec.json.encode({"id": 1, "type": "hello", "protocol": 1, "token": token})
    _, client = await loop.create_connection(
        lambda: RawClient("127.0.0.1", backend.port, hello), sock=sock
    )
    await asyncio.wait_for(client.snapshot, 60)
    assert client.transport is not None
    mark = backend.log_size()
    client.transport.pause_reading()
    stopped = time.monotonic()
    say("a reader stopped reading")
    marker = f"closing {peer} ({STALLED})"
    seen = await asyncio.to_thread(backend.wait_for_line, marker, mark, patience, 0.2)
    result.seconds = time.monotonic() - stopped
    client.transport.resume_reading()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(client.lost), 60)
    result.close_code = client.close_code
    result.buffered = client.frames
    if not seen:
        result.problems.append(f"a reader that stopped reading was not closed in {patience} s")
    if not client.lost.done():
        result.problems.append("a reader that stopped reading was still connected afterwards")
        client.transport.close()
    elif client.close_code not in (4008, None):
        result.problems.append(f"a reader that stopped reading was closed with {client.close_code}")
    say(f"the stalled reader was closed ({client.close_code}) after {result.seconds:.0f} s")
    return result
