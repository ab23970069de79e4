"""Soak: does a backend that runs a whole (simulated) day stay the same size?

A `dispatch demo` backend — its own process, a fresh SQLite database, the simulator at 60×
district time — serves 50 websocket clients for 24 simulated hours (24 real minutes;
`--hours`, `--speed`, `--clients`). The clients are the desktop's Qt-free core (a `Session`
keeping a `Replica`, bench/reliability/clients.Reader): district-wide wall readers,
commanders and dispatchers, street users of every street and a community user. Every
`--cut-every` seconds one of them loses its connection (the socket dropped, as a network
does) and resumes from its (epoch, seq); street users also ask for the KPIs (`stats`) and a
case's history now and then. Every `--sample` seconds the backend's RSS, open file
descriptors and threads are read from /proc, its asyncio tasks from /health.

Figures: each measure's first, middle and last values and its second-half trend (the rise of
the least-squares line through the second half's samples over that half, against its start:
common.second_half_trend); flat is under 5 %. Losses: at the end every reader's replica must
equal a fresh snapshot, and no reader may have seen a delta twice, a gap or a reset. The
measured window begins once the backend has caught up with its clock (it replays yesterday
and today to `--start` first) and every client is attached.

If the backend dies on the way (killed, crashed, out of memory), the soak stops there: it
says when and how, keeps the backend's log (and its data directory) and prints where it is,
and the verdict is FAIL; it neither waits for a backend that is gone nor ends in a
traceback.

`python -m bench soak [--hours 24] [--speed 60] [--clients 50] [--sample 5]`; not part of
`python -m bench` (it takes as long as it simulates).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import shutil
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench import common
from bench.common import FLAT, second_half_trend
from bench.reliability.backend import Backend, BackendFailed
from bench.reliability.clients import Reader, converge
from dispatch.store.store import Store
from protocol.messages import Result, Stats

THREAD_SLACK = 2  # threads that may start late in the judged half (bounded pools)
DEFAULT_START = "2026-11-25T20:00"  # the second half is the busy day of a Thursday
WATCH_EVERY = 0.2  # seconds between looks at whether the backend still runs
MEASURES = (
    ("rss", "RSS (MiB)"),
    ("fds", "open files"),
    ("tasks", "asyncio tasks"),
    ("threads", "threads"),
)


@dataclass
class Sample:
    """The backend at one moment."""

    t: float  # real seconds since the measured window began
    rss: float  # MiB
    fds: int
    threads: int
    tasks: int
    clients: int
    head: int


@dataclass
class Mix:
    """Who the clients are: (label, token, district-wide) each."""

    clients: list[tuple[str, str, bool]] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        """How many of each kind."""
        return Counter(label.split("-")[0] for label, _, _ in self.clients)


@dataclass
class Report:
    """What one soak found."""

    hours: float
    speed: float
    mix: Counter[str]
    catch_up_s: float = 0.0
    samples: list[Sample] = field(default_factory=list)
    cuts: int = 0
    connections: int = 0
    resumes: Counter[str] = field(default_factory=Counter)
    asked: Counter[str] = field(default_factory=Counter)
    deltas: int = 0
    problems: list[str] = field(default_factory=list)
    exit_status: int | None = None
    log_errors: list[str] = field(default_factory=list)
    died: str = ""  # how the backend died during the soak ("" it did not)
    log_kept: Path | None = None  # its log, kept when it died

    def trends(self) -> dict[str, float]:
        """Each measure's second-half trend."""
        half = self.samples[len(self.samples) // 2 :]
        return {
            key: second_half_trend([(s.t, float(getattr(s, key))) for s in half])
            for key, _ in MEASURES
        }

    @property
    def flat(self) -> bool:
        """Every measure flat in the second half. Threads are a few dozen at most: one pool
        worker started late (the default executor's, bounded, lazily) is 7 % of 15, not a
        leak; their count may rise by THREAD_SLACK in the half."""
        half = self.samples[len(self.samples) // 2 :]
        rise = max(s.threads for s in half) - half[0].threads if half else 0
        return all(
            trend < FLAT or (key == "threads" and rise <= THREAD_SLACK)
            for key, trend in self.trends().items()
        )

    @property
    def passed(self) -> bool:
        """Flat, nothing lost, a clean stop."""
        return (
            not self.died
            and self.flat
            and not self.problems
            and self.exit_status == 0
            and not self.log_errors
        )


class BackendDied(Exception):
    """The backend process ended during the soak."""


async def watched[T](backend: Backend, work: Awaitable[T], what: str) -> T:
    """Await `work`, unless the backend process ends first: then BackendDied (saying what
    the soak was doing), and the work is cancelled rather than left waiting for it."""
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=WATCH_EVERY)
            if done:
                return task.result()
            if not backend.alive():
                raise BackendDied(f"{_how_it_ended(backend)} while {what}")
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def _how_it_ended(backend: Backend) -> str:
    status = backend.proc.poll() if backend.proc is not None else None
    if status is None:
        return "the backend stopped"
    if status < 0:
        return f"the backend was killed by signal {-status}"
    return f"the backend exited with status {status}"


# ---- the backend from outside ------------------------------------------------------------------


def proc_status(pid: int) -> tuple[float, int]:
    """The process's resident memory (MiB) and thread count, from /proc."""
    text = Path(f"/proc/{pid}/status").read_text()
    rss = re.search(r"^VmRSS:\s+(\d+) kB", text, re.M)
    threads = re.search(r"^Threads:\s+(\d+)", text, re.M)
    assert rss is not None and threads is not None
    return int(rss.group(1)) / 1024, int(threads.group(1))


def open_files(pid: int) -> int:
    """The process's open file descriptors (sockets, the database, the log…)."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def health(port: int, token: str) -> tuple[int, int, int]:
    """The backend's head, attached clients and asyncio tasks (docs/protocol.md §14)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/health")
    request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    found = re.fullmatch(r"ok head=(\d+) clients=(\d+) tasks=(\d+)\n", text)
    if found is None:
        raise RuntimeError(f"/health said {text!r}")
    head, clients, tasks = (int(g) for g in found.groups())
    return head, clients, tasks


def sample(backend: Backend, token: str, began: float) -> Sample:
    """Read the backend's figures now (a worker thread: /proc and HTTP)."""
    assert backend.proc is not None
    pid = backend.proc.pid
    rss, threads = proc_status(pid)
    fds = open_files(pid)
    head, clients, tasks = health(backend.port, token)
    return Sample(time.monotonic() - began, rss, fds, threads, tasks, clients, head)


# ---- the clients ---------------------------------------------------------------------------------


def streets_of(url: str) -> list[str]:
    """The district's street codes, as loaded."""
    import msgspec

    store = Store(url)
    try:
        return sorted(msgspec.json.decode(doc)["code"] for doc in store.units("street"))
    finally:
        store.close()


def mix_of(url: str, tokens: Path, count: int) -> Mix:
    """The clients: about a third wall readers, some commanders and dispatchers, the rest
    street users of every street (one user per street, made here) and one community user."""
    demo = {p.stem: p.read_text().strip() for p in tokens.glob("demo-*.token")}
    streets = streets_of(url)
    store = Store(url)
    try:
        street_tokens = {"340803004": demo["demo-linghu"]}
        for code in streets:
            if code not in street_tokens:
                street_tokens[code] = store.create_user(f"soak-{code}", "street", [code])
    finally:
        store.close()
    walls = max(1, count // 3)
    commanders = max(1, count // 12)
    dispatchers = max(1, count // 25)
    community = 1 if count > walls + commanders + dispatchers else 0
    mix = Mix()
    for i in range(walls):
        mix.clients.append((f"wall-{i}", demo["demo-wall"], True))
    for i in range(commanders):
        mix.clients.append((f"commander-{i}", demo["demo-commander"], True))
    for i in range(dispatchers):
        mix.clients.append((f"dispatcher-{i}", demo["demo-dispatcher"], True))
    for i in range(community):
        mix.clients.append((f"community-{i}", demo["demo-community"], False))
    left = count - len(mix.clients)
    for i in range(left):
        code = streets[i % len(streets)]
        mix.clients.append((f"street-{code}-{i // len(streets)}", street_tokens[code], False))
    return mix


def cut(reader: Reader) -> bool:
    """Drop a reader's connection as a network would (no close frame): it resumes."""
    ws = reader.session._ws  # the bench reaches in: a Session has no "drop" of its own
    if ws is None or not reader.connected:
        return False
    ws.transport.abort()
    return True


async def cutter(readers: list[Reader], every: float, report: Report, rng: random.Random) -> None:
    """Every `every` seconds one reader, chosen at random, loses its connection."""
    while True:
        await asyncio.sleep(every)
        if cut(rng.choice(readers)):
            report.cuts += 1


async def asker(readers: list[Reader], every: float, report: Report, rng: random.Random) -> None:
    """Street users ask for their grids' KPIs and a case's history, each about every
    `every` seconds (spread over them)."""
    if not readers:
        return
    while True:
        for reader in readers:
            await asyncio.sleep(every / len(readers))
            session = reader.session
            try:
                # stats is not a request the desktop makes (no Session method): sent as is.
                answer = await session._request(
                    "stats", lambda i: Stats(id=i, by="grid", period="today"), 10.0
                )
                report.asked["stats " + _outcome(answer)] += 1
                events = list(reader.replica.events)
                if events:
                    answer = await session.history(rng.choice(events), 10.0)
                    report.asked["history " + _outcome(answer)] += 1
            except (ConnectionError, TimeoutError):
                report.asked["cut short"] += 1


def _outcome(answer: object) -> str:
    return "ok" if isinstance(answer, Result) else getattr(answer, "code", "?")


# ---- the soak ------------------------------------------------------------------------------------


async def soak(
    hours: float,
    speed: float,
    clients: int,
    every: float,
    cut_every: float,
    ask_every: float,
    start: str,
    seed: int,
    say: bool = True,
    work: Path | None = None,
) -> Report:
    """Run one soak in `work` (a new temporary directory by default); its report."""
    rng = random.Random(seed)
    work = work or Path(tempfile.mkdtemp(prefix="tg-soak-"))
    url = f"sqlite:///{work}/dispatch.db"
    backend = Backend(
        url,
        work / "backend",
        command="demo",
        extra=["--speed", f"{speed:g}", "--start", start, "--seed", str(seed)],
    )
    report = Report(hours, speed, Counter())
    readers: list[Reader] = []
    background: list[asyncio.Task[None]] = []
    try:
        spawned = time.monotonic()
        await asyncio.to_thread(backend.start, 300.0)
        if not await asyncio.to_thread(backend.wait_for_line, "simulator caught up", 0, 1200.0):
            if not backend.alive():
                raise BackendDied(f"{_how_it_ended(backend)} while catching up")
            raise RuntimeError(f"the backend did not catch up: {backend.log_tail()}")
        report.catch_up_s = time.monotonic() - spawned
        mix = await asyncio.to_thread(mix_of, url, backend.data / "tokens", clients)
        report.mix = mix.counts()
        token = next(t for label, t, _ in mix.clients if label.startswith("wall"))
        for label, user_token, wide in mix.clients:
            reader = Reader(label, backend.ws_url, user_token, district_wide=wide)
            reader.start()
            readers.append(reader)
        for reader in readers:
            await watched(
                backend,
                asyncio.wait_for(reader.session.wait_connected(), 120),
                "the clients connected",
            )
        await watched(backend, asyncio.sleep(5), "the snapshots drained")
        if say:
            print(
                f"caught up after {report.catch_up_s:.0f} s; {len(readers)} clients attached;"
                f" soaking {hours:g} simulated hours ({hours * 3600 / speed / 60:.1f} min)",
                flush=True,
            )
        began = time.monotonic()
        streets = [r for r in readers if not r.district_wide]
        background = [
            asyncio.create_task(cutter(readers, cut_every, report, rng), name="cutter"),
            asyncio.create_task(asker(streets, ask_every, report, rng), name="asker"),
        ]
        duration = hours * 3600 / speed
        step = 0
        while time.monotonic() - began < duration:
            taken = asyncio.to_thread(sample, backend, token, began)
            try:
                report.samples.append(await watched(backend, taken, "soaking"))
            except (OSError, RuntimeError):
                if backend.alive():
                    raise
                # Gone between two looks: /proc or /health answered no more.
                raise BackendDied(f"{_how_it_ended(backend)} while soaking") from None
            step += 1
            if say and step % max(1, int(600 / every)) == 0:
                s = report.samples[-1]
                print(
                    f"  {s.t / 60:5.1f} min: RSS {s.rss:.0f} MiB, {s.fds} files, {s.tasks} tasks,"
                    f" {s.threads} threads, {s.clients} clients, head {s.head:,}",
                    flush=True,
                )
            pause = max(0.0, began + step * every - time.monotonic())
            await watched(backend, asyncio.sleep(pause), "soaking")
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        background = []
        # Nothing lost: every replica equals a fresh snapshot; no gap, no repeat, no reset.
        for (label, user_token, _), reader in zip(mix.clients, readers, strict=True):
            found = await watched(
                backend,
                converge(reader, backend.ws_url, user_token, patience=60),
                "the replicas were compared",
            )
            report.problems += [f"{label}: {d}" for d in found]
            report.problems += [f"{label}: {p}" for p in reader.problems]
            report.connections += reader.session.connections
            report.resumes.update(v.resume for v in reader.visits)
            report.deltas += reader.deltas
    except (BackendDied, BackendFailed) as exc:
        report.died = str(exc) if isinstance(exc, BackendDied) else f"the backend failed: {exc}"
        if report.samples:
            minutes = report.samples[-1].t / 60
            report.died += f" ({minutes:.1f} min into the soak, {len(report.samples)} samples)"
        if say:
            print(f"soak stopped: {report.died}", flush=True)
    finally:
        for task in background:
            task.cancel()
        for reader in readers:
            with contextlib.suppress(Exception):
                await reader.stop()
        report.exit_status = await asyncio.to_thread(backend.stop)
        text = backend.log_text()
        report.log_errors = [
            line for line in text.splitlines() if " ERROR " in line or "Traceback" in line
        ]
        if report.died:
            # Kept to read why: the log, and the database beside it.
            report.log_kept = backend.log_file
            if say:
                print(f"the backend's log is kept: {backend.log_file}", flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return report


# ---- the figures ---------------------------------------------------------------------------------


def print_report(report: Report, argv: Sequence[str]) -> None:
    """The figures, the verdict and the command that reproduces them."""
    samples = report.samples
    if report.died:
        print(f"\nsoak stopped: {report.died}")
        print(f"the backend's log is kept: {report.log_kept}")
        for line in report.log_errors[:5]:
            print(f"  {line}")
    if not samples:
        print("no samples")
        if report.died:
            print("verdict: FAIL")
        return
    mix = ", ".join(f"{n} {kind}" for kind, n in report.mix.most_common())
    real = samples[-1].t / 60
    print(
        f"\nsoak: {report.hours:g} simulated hours at {report.speed:g}x ({real:.1f} real"
        f" minutes after a {report.catch_up_s:.0f} s start and catch-up),"
        f" {sum(report.mix.values())} clients ({mix}); {len(samples)} samples"
    )
    half = samples[len(samples) // 2]
    trends = report.trends()
    rows = []
    for key, name in MEASURES:
        values = [getattr(s, key) for s in samples]
        trend = trends[key]
        rows.append(
            [
                name,
                _num(values[0]),
                _num(getattr(half, key)),
                _num(values[-1]),
                f"{_num(min(values))}–{_num(max(values))}",
                f"{100 * trend:+.2f} %",
                "flat" if trend < FLAT else "NOT flat",
            ]
        )
    print(
        common.table(
            ["measure", "first", "at half", "last", "range", "second-half trend", "verdict"],
            rows,
        )
    )
    # The run every ~2 simulated hours (every 12th of it), as the trend's raw material.
    picks = sorted({round(i * (len(samples) - 1) / 12) for i in range(13)})
    print(
        common.table(
            ["district h", "real min", "RSS MiB", "files", "tasks", "threads", "clients", "head"],
            [
                [
                    f"{samples[i].t * report.speed / 3600:.1f}",
                    f"{samples[i].t / 60:.1f}",
                    f"{samples[i].rss:.1f}",
                    samples[i].fds,
                    samples[i].tasks,
                    samples[i].threads,
                    samples[i].clients,
                    f"{samples[i].head:,}",
                ]
                for i in picks
            ],
        )
    )
    later = len(samples) - len(samples) // 2
    print(
        f"(second-half trend: the least-squares line through the last {later} samples, its"
        f" rise over that half against its start; < {FLAT * 100:.0f} % is flat)"
    )
    print(
        f"log head {samples[0].head:,} -> {samples[-1].head:,}"
        f" (+{samples[-1].head - samples[0].head:,} changes); deltas read by the clients"
        f" {report.deltas:,}; connections {report.connections} after {report.cuts} cuts"
        f" (welcomes: {dict(report.resumes)}); requests {dict(report.asked)}"
    )
    if report.problems:
        print(f"LOSSES / PROBLEMS ({len(report.problems)}):")
        for problem in report.problems[:20]:
            print(f"  {problem}")
    else:
        print("nothing lost: every replica equal to a fresh snapshot, no gap, no repeat, no reset")
    if report.log_errors:
        print(f"backend log: {len(report.log_errors)} ERROR lines, e.g. {report.log_errors[0]}")
    print(f"backend exit status {report.exit_status}")
    print(f"verdict: {'PASS' if report.passed else 'FAIL'}")
    print(f"reproduce: {common.reproduce('bench', argv)}")


def _num(value: float) -> str:
    return f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench soak", description=__doc__)
    parser.add_argument("--hours", type=float, default=24.0, help="simulated hours (24)")
    parser.add_argument("--speed", type=float, default=60.0, help="district time speed (60)")
    parser.add_argument("--clients", type=int, default=50, help="websocket clients (50)")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between samples (5)")
    parser.add_argument(
        "--cut-every", type=float, default=10.0, help="seconds between dropped connections (10)"
    )
    parser.add_argument(
        "--ask-every",
        type=float,
        default=30.0,
        help="seconds between one street user's stats and history requests (30)",
    )
    parser.add_argument("--start", default=DEFAULT_START, help=f"district start ({DEFAULT_START})")
    parser.add_argument("--seed", type=int, default=20261125)
    return parser.parse_args(list(argv))


def main(argv: Sequence[str]) -> None:
    """Run the soak and print its figures."""
    args = parse(argv)
    report = asyncio.run(
        soak(
            args.hours,
            args.speed,
            args.clients,
            args.sample,
            args.cut_every,
            args.ask_every,
            args.start,
            args.seed,
        )
    )
    print_report(report, ["soak", *argv])
