"""What synchronous replication costs the users: a command's acknowledgement and throughput
with the standby's flush waited for, and without (issue 16, item 4).

One primary and its hot standby of the bench's own (bench/reliability/replicated_pg.py), a
real `dispatch serve` on their multi-host URL with the district prepared, and real websocket
clients (a street user's) sending `report` commands as tests/reliability/test_pg_replication's
writers do, each waiting for its answer:

- serial: one client sends N commands one after another: command → acknowledgement latency
  p50 / p95 / p99;
- concurrent: 8 clients as fast as they go for T seconds: acknowledgements a second and p99.

Both are measured with the standby in `synchronous_standby_names` (`sync`: with
`synchronous_commit = on` a COMMIT returns once the standby has flushed its WAL) and with it
cleared by `ALTER SYSTEM` and `pg_reload_conf()` (`async`: the same clusters, the standby
still streaming), alternating sync / async over 8 short rounds (the machine's load drifts:
many short rounds, not two long phases). Reported: each round; the medians of the rounds; the
median of the rounds' paired differences (sync less async); all rounds pooled; the standby's
flush_lag sampled meanwhile; the load average. The clusters, the backend and the clients
share one machine, so the standby's "network" is the loopback and its flush the same disk's.

Every connection may send 50 commands a second after a burst of 200 (dispatch/limits.py),
which would bound 8 clients below what the backend acknowledges: each concurrent client has
two connections and sends each command, still one at a time, on the one with more allowance
(every connection receives every delta: 17 connections of one street user in all). The bench
waits for the allowances to fill before each phase and counts any `rate_limited` answer
(resent, as a client does); a run that met one says so.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from websockets.asyncio.client import ClientConnection, connect

from bench import common
from bench.children import stop_process
from bench.reliability.replicated_pg import STANDBY_NAME, ReplicatedPostgres, replicated_postgres
from dispatch.limits import Limits
from protocol.codec import decode_server, encode
from protocol.messages import Command, Hello, Result

ROOT = Path(__file__).resolve().parents[1]
MODES = ("sync", "async")
LINGHU = "340803004"  # 菱湖街道: the street user's, where its cases are reported
WARMUP = 20  # unmeasured commands after each switch of mode
ANSWER_TIMEOUT = 30.0
# Connections of each concurrent client: one connection's 50 commands a second (after its
# burst of 200) bounded 8 clients to 400-670 a second, below what the backend acknowledges.
LINKS = 2
_LIMITS = Limits()


class BenchError(RuntimeError):
    """The bench could not measure (the backend, the clusters or an answer went wrong)."""


@dataclass
class Phase:
    """One measured phase: its mode, round and kind, the latencies (s) of its acknowledged
    commands, how long it ran, and how many answers were rate_limited."""

    mode: str
    round: int
    kind: str  # serial or concurrent
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    rate_limited: int = 0
    # The standby's flush_lag (pg_stat_replication, ms) sampled during the phase: from the
    # primary's own flush of a commit's WAL to the standby's report of its flush, what a
    # synchronous commit waits for on top of an asynchronous one.
    flush_lags: list[float] = field(default_factory=list)

    def ms(self, q: float) -> float:
        """Percentile `q` of the latencies, in ms."""
        return 1000 * common.pct(np.array(self.latencies), q)

    @property
    def rate(self) -> float:
        """Acknowledgements a second."""
        return len(self.latencies) / self.seconds if self.seconds else float("nan")


@dataclass
class Figures:
    """A run's phases, the load averages seen during it and the setting it ran with."""

    phases: list[Phase] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)  # 1-minute load averages, per phase
    commands: int = 0
    seconds: float = 0.0
    clients: int = 0
    rounds: int = 0
    postgresql: str = ""

    def of(self, mode: str, kind: str) -> list[Phase]:
        """The phases of one mode and kind, in the order they ran."""
        return [p for p in self.phases if p.mode == mode and p.kind == kind]

    def round(self, mode: str, r: int) -> dict[str, float]:
        """One round's figures of one mode."""
        return _figures(
            [p for p in self.of(mode, "serial") if p.round == r],
            [p for p in self.of(mode, "concurrent") if p.round == r],
        )

    def medians(self, mode: str) -> dict[str, float]:
        """The medians over the rounds of one mode's figures."""
        rounds = [self.round(mode, r) for r in range(self.rounds)]
        return {k: _median([f[k] for f in rounds]) for k in rounds[0]}

    def pooled(self, mode: str) -> dict[str, float]:
        """One mode's figures over the commands of all its rounds together."""
        return _figures(self.of(mode, "serial"), self.of(mode, "concurrent"))

    def paired(self) -> dict[str, float]:
        """The median over the rounds of each round's sync figure less its async one (the
        rate: sync's in % of async's, less 100): the load's drift between rounds cancels."""
        out: dict[str, list[float]] = {}
        for r in range(self.rounds):
            sync, asyn = self.round("sync", r), self.round("async", r)
            for k in sync:
                diff = 100 * (sync[k] / asyn[k] - 1) if k == "rate" else sync[k] - asyn[k]
                out.setdefault(k, []).append(diff)
        return {k: _median(v) for k, v in out.items()}

    def rounds_table(self) -> str:
        """Every phase pair, in the order they ran."""
        rows = []
        for r in range(self.rounds):
            for mode in MODES:
                serial = next(p for p in self.of(mode, "serial") if p.round == r)
                conc = next(p for p in self.of(mode, "concurrent") if p.round == r)
                rows.append(
                    [
                        r + 1,
                        mode,
                        f"{serial.ms(50):.2f}",
                        f"{serial.ms(95):.2f}",
                        f"{serial.ms(99):.2f}",
                        f"{conc.rate:.0f}",
                        f"{conc.ms(50):.1f}",
                        f"{conc.ms(99):.1f}",
                        _lag(serial.flush_lags + conc.flush_lags),
                    ]
                )
        headers = ["round", "mode", "1 client p50 ms", "p95 ms", "p99 ms"]
        headers += [f"{self.clients} clients acks/s", "p50 ms", "p99 ms", "flush_lag ms"]
        return common.table(headers, rows)

    def table(self) -> str:
        """The medians of the rounds, the paired cost of sync, and all rounds pooled."""

        def row(name: str, m: dict[str, float], sign: str = "") -> list[str]:
            rate = f"{m['rate']:{sign}.0f}" + (" %" if sign else "")
            lag = "" if sign else f"{m['lag']:.2f}"
            latencies = [f"{m[k]:{sign}.2f}" for k in ("p50", "p95", "p99")]
            many = [f"{m[k]:{sign}.1f}" for k in ("c50", "c99")]
            return [name, *latencies, rate, *many, lag]

        rows = [
            row("sync, median of rounds", self.medians("sync")),
            row("async, median of rounds", self.medians("async")),
            row("sync − async, median of the rounds'", self.paired(), "+"),
            row("sync, all rounds pooled", self.pooled("sync")),
            row("async, all rounds pooled", self.pooled("async")),
        ]
        headers = ["", "1 client p50 ms", "p95 ms", "p99 ms"]
        headers += [f"{self.clients} clients acks/s", "p50 ms", "p99 ms", "flush_lag ms"]
        return common.table(headers, rows)

    def summary(self) -> str:
        """What ran, the load, and any rate_limited answers."""
        limited = sum(p.rate_limited for p in self.phases)
        serial = sum(len(p.latencies) for p in self.phases if p.kind == "serial")
        conc = sum(len(p.latencies) for p in self.phases if p.kind == "concurrent")
        lines = [
            f"PostgreSQL {self.postgresql}; {self.rounds} rounds of sync then async; per phase "
            f"{self.commands} commands one after another, then {self.clients} clients for "
            f"{self.seconds:g} s ({serial} + {conc} acknowledged commands measured)",
            f"load average (1 min) during the phases: {min(self.loads):.2f}–{max(self.loads):.2f}"
            f" on {os.cpu_count()} cores (the machine is shared: other work runs meanwhile)",
        ]
        if limited:
            lines.append(
                f"warning: {limited} answers were rate_limited (50 a second per connection): "
                "those phases' figures are bounded by the limit, not by the database"
            )
        return "\n".join(lines)


def _median(values: list[float]) -> float:
    finite = [v for v in values if not np.isnan(v)]
    return statistics.median(finite) if finite else float("nan")


def _figures(serial: list[Phase], concurrent: list[Phase]) -> dict[str, float]:
    """Latency percentiles (ms) of the serial phases' commands, the concurrent phases' rate
    and percentiles, and the median flush_lag sampled in both."""
    one = np.array([t for p in serial for t in p.latencies])
    many = np.array([t for p in concurrent for t in p.latencies])
    lags = [x for p in serial + concurrent for x in p.flush_lags]
    seconds = sum(p.seconds for p in concurrent)
    return {
        "p50": 1000 * common.pct(one, 50),
        "p95": 1000 * common.pct(one, 95),
        "p99": 1000 * common.pct(one, 99),
        "rate": len(many) / seconds if seconds else float("nan"),
        "c50": 1000 * common.pct(many, 50),
        "c99": 1000 * common.pct(many, 99),
        "lag": statistics.median(lags) if lags else float("nan"),
    }


def _lag(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}" if values else "-"


# ---- the backend ---------------------------------------------------------------------------


@contextlib.contextmanager
def _backend(url: str) -> Iterator[int]:
    """A `dispatch serve` child on `url`, once it listens; its port. SIGTERM at the end."""
    with tempfile.TemporaryDirectory(prefix="tg-pgsync-") as tmp:
        data = Path(tmp)
        ready = data / "ready.json"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TONGGUAN_DATA": str(data)}
        command = [sys.executable, "-m", "dispatch", "--url", url, "serve", "--port", "0"]
        log = data / "backend.log"
        proc = subprocess.Popen(
            [*command, "--ready-file", str(ready), "--log-file", str(log)], cwd=ROOT, env=env
        )
        try:
            deadline = time.monotonic() + 60
            while not ready.exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    tail = log.read_text()[-2000:] if log.exists() else "no log"
                    raise BenchError(f"the backend did not start: {tail}")
                time.sleep(0.05)
            yield int(json.loads(ready.read_text())["url"].rsplit(":", 1)[1])
        finally:
            stop_process(proc)


def _prepare(url: str) -> tuple[str, tuple[float, float]]:
    """The district in the database; a street user's token and a point of its street."""
    from dispatch.app import load_reference, prepare
    from dispatch.store.store import Store

    store = Store(url)
    try:
        prepare(store)
        token = store.create_user("菱湖分中心", "street", [LINGHU])
        grid = next(g for g in load_reference(store).grids.values() if g.street == LINGHU)
        return token, (float(grid.centre[0]), float(grid.centre[1]))
    finally:
        store.close()


def set_mode(pair: ReplicatedPostgres, mode: str) -> None:
    """Name the standby in the primary's synchronous_standby_names (sync) or clear it
    (async), reload, and wait until the primary's walsender reports the standby so."""
    names = STANDBY_NAME if mode == "sync" else ""
    pair.sql(pair.primary, f"ALTER SYSTEM SET synchronous_standby_names = '{names}'")
    pair.sql(pair.primary, "SELECT pg_reload_conf()")
    deadline = time.monotonic() + 30
    while pair.sql(pair.primary, "SELECT sync_state FROM pg_stat_replication") != mode:
        if time.monotonic() > deadline:
            raise BenchError(f"the standby did not become {mode} in 30 s")
        time.sleep(0.05)


# ---- clients -------------------------------------------------------------------------------


class Client:
    """One websocket connection of the street user: commands sent and their answers timed.

    Only results and errors are decoded (by their first bytes): the deltas and KPIs every
    connection gets cost the shared machine's CPU as little as possible.
    """

    def __init__(self, ws: ClientConnection, name: str, place: tuple[float, float]) -> None:
        self.ws, self.name, self.place = ws, name, place
        self._ids = 1
        self._waiting: dict[int, asyncio.Future[tuple[object, float]]] = {}
        self._sent = 0
        # The server's token bucket as this client can tell it (dispatch/session.py).
        self._allowance, self._allowance_at = float(_LIMITS.command_burst), time.monotonic()
        self._reading = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, port: int, token: str, name: str, place: tuple[float, float]) -> Client:
        """Connect, say hello and wait for the snapshot."""
        ws = await connect(f"ws://127.0.0.1:{port}", max_size=None, compression=None)
        await ws.send(encode(Hello(id=1, protocol=1, token=token, client="bench-pg-sync")))
        while True:
            raw = await asyncio.wait_for(ws.recv(), ANSWER_TIMEOUT)
            head = raw[:40] if isinstance(raw, bytes) else raw[:40].encode()
            if head.startswith(b'{"type":"snapshot"'):
                return cls(ws, name, place)
            if head.startswith(b'{"type":"error"'):
                raise BenchError(f"hello refused: {raw!r}")

    async def _read(self) -> None:
        async for raw in self.ws:
            now = time.perf_counter()
            head = raw[:16] if isinstance(raw, bytes) else raw[:16].encode()
            if head.startswith((b'{"type":"result', b'{"type":"error"')):
                message = decode_server(raw)
                future = self._waiting.pop(getattr(message, "id", 0), None)
                if future is not None and not future.done():
                    future.set_result((message, now))

    def until_full(self) -> float:
        """Seconds until the server's allowance for this connection is full again."""
        self._refill()
        return max(0.0, (_LIMITS.command_burst - self._allowance) / _LIMITS.commands_per_second)

    def allowance(self) -> float:
        """The commands this connection may send now without a rate_limited answer."""
        self._refill()
        return self._allowance

    def _refill(self) -> None:
        now = time.monotonic()
        rate = _LIMITS.commands_per_second
        full = float(_LIMITS.command_burst)
        self._allowance = min(full, self._allowance + (now - self._allowance_at) * rate)
        self._allowance_at = now

    async def report(self, phase: Phase | None) -> None:
        """Report a case and wait for it to be acknowledged (resent with its command_id after
        a rate_limited answer); its latency goes to `phase` (None: unmeasured)."""
        self._sent += 1
        command_id = uuid.uuid4().hex
        args = {
            "category": "01-02",
            "title": f"同步提交 {self.name}-{self._sent}",
            "lon": self.place[0],
            "lat": self.place[1],
            "source": "hotline",
        }
        while True:
            self._ids += 1
            request = self._ids
            future: asyncio.Future[tuple[object, float]] = (
                asyncio.get_running_loop().create_future()
            )
            self._waiting[request] = future
            self._refill()
            self._allowance -= 1
            sent = time.perf_counter()
            await self.ws.send(
                encode(Command(id=request, command_id=command_id, op="report", args=args))
            )
            try:
                answer, at = await asyncio.wait_for(future, ANSWER_TIMEOUT)
            except TimeoutError:
                raise BenchError(f"no answer within {ANSWER_TIMEOUT:g} s") from None
            if isinstance(answer, Result):
                if phase is not None:
                    phase.latencies.append(at - sent)
                return
            if getattr(answer, "code", "") == "rate_limited":
                if phase is not None:
                    phase.rate_limited += 1
                self._allowance = 0.0
                await asyncio.sleep(1 / _LIMITS.commands_per_second)
                continue
            raise BenchError(f"report refused: {answer}")

    async def close(self) -> None:
        """Close the connection."""
        with contextlib.suppress(Exception):
            await self.ws.close()
        self._reading.cancel()
        with contextlib.suppress(BaseException):
            await self._reading


async def _allowances_full(clients: Sequence[Client]) -> None:
    await asyncio.sleep(max(c.until_full() for c in clients) + 0.05)


class LagSampler:
    """Samples the standby's flush_lag on the primary every `every` seconds while a phase
    runs (a connection of its own; the lag is NULL once the standby idles, caught up)."""

    def __init__(self, pair: ReplicatedPostgres, every: float = 0.2) -> None:
        import psycopg

        self.every = every
        self.conn = psycopg.connect(
            f"host=127.0.0.1 port={pair.primary.port} user=postgres dbname=test",
            autocommit=True,
        )

    def sample(self) -> float | None:
        """The flush_lag now, in ms (None: no recent WAL to measure)."""
        row = self.conn.execute(
            "SELECT extract(epoch FROM flush_lag) * 1000 FROM pg_stat_replication"
        ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    @contextlib.asynccontextmanager
    async def during(self, phase: Phase) -> AsyncIterator[None]:
        """Sample into `phase` while the block runs."""

        async def sampling() -> None:
            while True:
                await asyncio.sleep(self.every)
                lag = await asyncio.to_thread(self.sample)
                if lag is not None:
                    phase.flush_lags.append(lag)

        task = asyncio.create_task(sampling())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def close(self) -> None:
        """Close its connection."""
        self.conn.close()


async def _serial(client: Client, phase: Phase, commands: int) -> None:
    started = time.perf_counter()
    for _ in range(commands):
        await client.report(phase)
    phase.seconds = time.perf_counter() - started


async def _concurrent(clients: Sequence[Sequence[Client]], phase: Phase, seconds: float) -> None:
    ends = time.perf_counter() + seconds

    async def one(links: Sequence[Client]) -> None:
        # One command at a time, on whichever of its connections the server allows more.
        while time.perf_counter() < ends:
            await max(links, key=Client.allowance).report(phase)

    started = time.perf_counter()
    await asyncio.gather(*(one(c) for c in clients))
    # Commands sent before the end are answered after it: the rate is over all the time.
    phase.seconds = time.perf_counter() - started


def check(commands: int, seconds: float, clients: int, rounds: int) -> None:
    """ValueError, saying which, for a setting the bench cannot measure with."""
    if commands < 1 or not seconds > 0 or clients < 1 or rounds < 1:
        raise ValueError("commands, seconds, clients and rounds must be positive")
    if commands > _LIMITS.command_burst:
        # More would meet the connection's rate limit, not the database.
        raise ValueError(
            f"at most {_LIMITS.command_burst} serial commands a phase (a connection's burst)"
        )
    if clients * LINKS + 1 > _LIMITS.connections_per_user:
        raise ValueError(
            f"at most {(_LIMITS.connections_per_user - 1) // LINKS} clients (one user's"
            f" {_LIMITS.connections_per_user} connections, {LINKS} a client and the serial one)"
        )


async def run(
    commands: int = 100, seconds: float = 3.0, clients: int = 8, rounds: int = 8
) -> Figures:
    """One run on a fresh replicated pair: `rounds` × (sync, async) × (serial, concurrent)."""
    check(commands, seconds, clients, rounds)
    figures = Figures(commands=commands, seconds=seconds, clients=clients, rounds=rounds)
    with replicated_postgres() as pair:
        figures.postgresql = pair.sql(pair.primary, "SHOW server_version")
        token, place = await asyncio.to_thread(_prepare, pair.url)
        with _backend(pair.url) as port:
            lags = LagSampler(pair)
            opened: list[Client] = []
            try:
                for n in range(clients * LINKS + 1):
                    opened.append(await Client.open(port, token, f"c{n}", place))
                serial = opened[0]
                many = [opened[1 + n * LINKS : 1 + (n + 1) * LINKS] for n in range(clients)]
                for r in range(rounds):
                    for mode in MODES:
                        await asyncio.to_thread(set_mode, pair, mode)
                        # The backend's sessions take the reload at their next statement.
                        for _ in range(WARMUP):
                            await serial.report(None)
                        await _allowances_full([serial])
                        phase = Phase(mode, r, "serial")
                        async with lags.during(phase):
                            await _serial(serial, phase, commands)
                        figures.phases.append(phase)
                        await _allowances_full(opened[1:])
                        phase = Phase(mode, r, "concurrent")
                        async with lags.during(phase):
                            await _concurrent(many, phase, seconds)
                        figures.phases.append(phase)
                        figures.loads.append(os.getloadavg()[0])
            finally:
                for client in opened:
                    await client.close()
                lags.close()
    return figures


def report(figures: Figures) -> str:
    """What a run prints: what ran and the load, each round, the medians and the cost."""
    return "\n\n".join([figures.summary(), figures.rounds_table(), figures.table()])


def main(argv: Sequence[str] | None = None) -> None:
    """Run the bench and print its figures and the command to reproduce them."""
    parser = argparse.ArgumentParser(prog="python -m bench pg-sync", description=__doc__)
    parser.add_argument(
        "--commands", type=int, default=100, help="serial commands a phase (at most 200)"
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="a concurrent phase's length")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--rounds", type=int, default=8, help="sync/async pairs")
    args = parser.parse_args(argv)
    try:
        check(args.commands, args.seconds, args.clients, args.rounds)
    except ValueError as exc:
        parser.error(str(exc))
    print(f"reproduce: {common.reproduce('bench pg-sync', list(argv or []))}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    started = time.monotonic()
    figures = asyncio.run(run(args.commands, args.seconds, args.clients, args.rounds))
    print(report(figures))
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"took {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
