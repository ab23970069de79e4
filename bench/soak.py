"""Soak: does a backend that runs a whole (simulated) day stay the same size?

A `dispatch demo` backend — its own process, a fresh SQLite database, the simulator at 60×
district time — serves 50 websocket clients for 24 simulated hours (24 real minutes;
`--hours`, `--speed`, `--clients`). The clients are the desktop's Qt-free core (a `Session`
keeping a `Replica`, bench/reliability/clients.Reader): district-wide wall readers,
commanders and dispatchers, street users of every street and a community user. Every
`--cut-every` seconds one of them loses its connection (the socket dropped, as a network
does) and resumes from its (epoch, seq); street users also ask for the KPIs (`stats`) and a
case's history now and then. Every `--sample` seconds the backend's RSS, open file
descriptors and threads are read from /proc, its asyncio tasks and the bytes in its resume
ring from /health, and whether the demo's private Mosquitto still runs.

A warm-up of `--warm-up` simulated hours (24 by default) comes first, with the same clients,
cuts and requests: its samples are printed, not judged. The backend's bounded structures
fill up in it — the resume ring (16 MiB, which a fresh database's catch-up of a day and a
bit leaves at ~12 MiB), the 36-hour live window, the KPIs' day sums — so that the judged
hours measure what a backend that has run for days does, not its filling up to its bounds
(bench/RESULTS.md §9). The warm-up begins `--warm-up` hours before `--start`: the judged
window still begins at `--start`, its second half the busy day.

Figures: each measure's first, middle and last values and its second-half trend (the rise of
the least-squares line through the second half's samples over that half, against its start:
common.second_half_trend) over the judged window; flat is under 5 %. Losses: at the end every
reader's replica must equal a fresh snapshot, and no reader may have seen a delta twice, a gap
or a reset. Intakes: the demo's MQTT intake must have been alive throughout the judged window
(its Mosquitto running at every sample, and camera alerts or sensor reports committed through
it in the window: external ids of its users, counted in the database). The measured time
begins once the backend has caught up with its clock (it replays yesterday and today to the
warm-up's start first) and every client is attached.

If the backend dies on the way (killed, crashed, out of memory), the soak stops there: it
says when and how, keeps the backend's log (and its data directory) and prints where it is,
and the verdict is FAIL; it neither waits for a backend that is gone nor ends in a
traceback.

`python -m bench soak [--hours 24] [--warm-up 24] [--speed 60] [--clients 50] [--sample 5]`;
not part of `python -m bench` (it takes as long as it simulates).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import shutil
import sqlite3
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from bench import common
from bench.common import FLAT, second_half_trend
from bench.reliability.backend import Backend, BackendFailed
from bench.reliability.clients import Reader, converge
from dispatch.store.store import Store
from protocol.messages import Result, Stats

THREAD_SLACK = 2  # threads that may start late in the judged half (bounded pools)
DEFAULT_START = "2026-11-25T20:00"  # the second half is the busy day of a Thursday
# Simulated hours before the judged ones: a whole district day (from 20:00 the day before),
# after which the ring is at its bound (RESULTS §9: full near log head 19,700; the judged
# window then begins at ~22,300) and the live window and day sums have had a day's turn.
DEFAULT_WARM_UP = 24.0
# The demo's MQTT intake's users (dispatch/intake/mqtt/settings.py): what it commits is
# recorded under their names with the Frigate event's or the reading's id (external_ids).
MQTT_USERS = ("frigate", "sensors")
WATCH_EVERY = 0.2  # seconds between looks at whether the backend still runs
MEASURES = (
    ("rss", "RSS (MiB)"),
    ("fds", "open files"),
    ("tasks", "asyncio tasks"),
    ("threads", "threads"),
)
MIB = 1024 * 1024


@dataclass
class Sample:
    """The backend at one moment."""

    t: float  # real seconds since the measured time (the warm-up's) began
    rss: float  # MiB
    fds: int
    threads: int
    tasks: int
    clients: int
    head: int
    ring: float = 0.0  # MiB of delta frames in the resume ring
    broker: bool = True  # the demo's Mosquitto was running
    judged: bool = True  # False: in the warm-up


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
    warm_up: float = 0.0  # simulated hours before the judged ones
    start: str = ""  # the district time the judged window begins at
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
    # External ids committed by each intake user in the warm-up and in the judged window.
    warm_up_arrivals: Counter[str] = field(default_factory=Counter)
    arrivals: Counter[str] = field(default_factory=Counter)

    @property
    def judged(self) -> list[Sample]:
        """The samples of the judged window (the warm-up's left out)."""
        return [s for s in self.samples if s.judged]

    def trends(self) -> dict[str, float]:
        """Each measure's second-half trend over the judged window."""
        judged = self.judged
        half = judged[len(judged) // 2 :]
        return {
            key: second_half_trend([(s.t, float(getattr(s, key))) for s in half])
            for key, _ in MEASURES
        }

    @property
    def flat(self) -> bool:
        """Every measure flat in the second half. The backend's pools are whole from the
        start (dispatch/pools.py), but a library may still start a thread of its own late:
        one is 7 % of 15, not a leak, so their count may rise by THREAD_SLACK in the half."""
        judged = self.judged
        half = judged[len(judged) // 2 :]
        rise = max(s.threads for s in half) - half[0].threads if half else 0
        return all(
            trend < FLAT or (key == "threads" and rise <= THREAD_SLACK)
            for key, trend in self.trends().items()
        )

    @property
    def mqtt_arrivals(self) -> int:
        """What the demo's MQTT intake committed in the judged window."""
        return sum(self.arrivals[user] for user in MQTT_USERS)

    @property
    def intakes_alive(self) -> bool:
        """The demo's MQTT intake alive throughout the judged window: its broker running at
        every sample, and alerts or reports committed through it."""
        judged = self.judged
        return bool(judged) and all(s.broker for s in judged) and self.mqtt_arrivals > 0

    @property
    def passed(self) -> bool:
        """Flat, nothing lost, the intakes alive, a clean stop."""
        return (
            not self.died
            and self.flat
            and self.intakes_alive
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


def health(port: int, token: str) -> tuple[int, int, int, int]:
    """The backend's head, attached clients, asyncio tasks and resume ring bytes
    (docs/protocol.md §14)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/health")
    request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    found = re.fullmatch(r"ok head=(\d+) clients=(\d+) tasks=(\d+) ring=(\d+)\n", text)
    if found is None:
        raise RuntimeError(f"/health said {text!r}")
    head, clients, tasks, ring = (int(g) for g in found.groups())
    return head, clients, tasks, ring


def children_named(pid: int, name: str) -> int:
    """How many child processes of `pid` run a program called `name` (from /proc)."""
    count = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        open_, close = stat.find("("), stat.rfind(")")
        fields = stat[close + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == pid and stat[open_ + 1 : close] == name:
            count += 1
    return count


def intake_counts(db: Path) -> Counter[str]:
    """The external ids committed so far, by the intake user that sent them."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)) as conn:
        rows = conn.execute("SELECT actor, count(*) FROM external_ids GROUP BY actor")
        return Counter({str(actor): int(n) for actor, n in rows})


def sample(backend: Backend, token: str, began: float, judged: bool) -> Sample:
    """Read the backend's figures now (a worker thread: /proc and HTTP)."""
    assert backend.proc is not None
    pid = backend.proc.pid
    rss, threads = proc_status(pid)
    fds = open_files(pid)
    head, clients, tasks, ring = health(backend.port, token)
    broker = children_named(pid, "mosquitto") > 0
    return Sample(
        time.monotonic() - began,
        rss,
        fds,
        threads,
        tasks,
        clients,
        head,
        ring / MIB,
        broker,
        judged,
    )


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


def warm_up_start(start: str, warm_up: float) -> str:
    """The district time `warm_up` hours before `start` (both local, YYYY-MM-DDTHH:MM[:SS])."""
    if not warm_up:
        return start
    moment = datetime.fromisoformat(start) - timedelta(hours=warm_up)
    return moment.isoformat(timespec="minutes" if moment.second == 0 else "seconds")


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
    warm_up: float = 0.0,
) -> Report:
    """Run one soak in `work` (a new temporary directory by default), its judged window of
    `hours` from `start` after `warm_up` simulated hours; its report."""
    rng = random.Random(seed)
    work = work or Path(tempfile.mkdtemp(prefix="tg-soak-"))
    db = work / "dispatch.db"
    url = f"sqlite:///{db}"
    backend = Backend(
        url,
        work / "backend",
        command="demo",
        extra=[
            *("--speed", f"{speed:g}", "--start", warm_up_start(start, warm_up)),
            *("--seed", str(seed)),
        ],
    )
    report = Report(hours, speed, Counter(), warm_up=warm_up, start=start)
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
            warming = (
                f"after a warm-up of {warm_up:g} simulated hours"
                f" ({warm_up * 3600 / speed / 60:.1f} min), "
                if warm_up
                else ""
            )
            minutes = hours * 3600 / speed / 60
            print(
                f"caught up after {report.catch_up_s:.0f} s; {len(readers)} clients attached;"
                f" {warming}soaking {hours:g} simulated hours ({minutes:.1f} min)",
                flush=True,
            )
        began = time.monotonic()
        counted = await asyncio.to_thread(intake_counts, db)
        streets = [r for r in readers if not r.district_wide]
        background = [
            asyncio.create_task(cutter(readers, cut_every, report, rng), name="cutter"),
            asyncio.create_task(asker(streets, ask_every, report, rng), name="asker"),
        ]
        warm_up_s = warm_up * 3600 / speed
        duration = warm_up_s + hours * 3600 / speed
        step = 0
        judging = False
        while time.monotonic() - began < duration:
            if not judging and step * every >= warm_up_s:
                # The judged window begins: what the intakes sent so far was the warm-up's.
                judging = True
                now = await asyncio.to_thread(intake_counts, db)
                report.warm_up_arrivals = now - counted
                counted = now
                if say and warm_up:
                    print(f"  warm-up over: judging {hours:g} simulated hours", flush=True)
            taken = asyncio.to_thread(sample, backend, token, began, judging)
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
                    f" {s.threads} threads, {s.clients} clients, head {s.head:,},"
                    f" ring {s.ring:.1f} MiB{'' if s.broker else ', NO MOSQUITTO'}",
                    flush=True,
                )
            pause = max(0.0, began + step * every - time.monotonic())
            await watched(backend, asyncio.sleep(pause), "soaking")
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        background = []
        report.arrivals = await asyncio.to_thread(intake_counts, db) - counted
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
    samples = report.judged
    if report.died:
        print(f"\nsoak stopped: {report.died}")
        print(f"the backend's log is kept: {report.log_kept}")
        for line in report.log_errors[:5]:
            print(f"  {line}")
    if not samples:
        print("no samples" if not report.samples else "no samples after the warm-up")
        if report.died:
            print("verdict: FAIL")
        return
    mix = ", ".join(f"{n} {kind}" for kind, n in report.mix.most_common())
    real = (samples[-1].t - samples[0].t) / 60
    warm_up = samples[0].t / 60  # real minutes the warm-up took
    print(
        f"\nsoak: {report.hours:g} simulated hours at {report.speed:g}x ({real:.1f} real"
        f" minutes after a {report.catch_up_s:.0f} s start and catch-up"
        + (
            f" and a warm-up of {report.warm_up:g} simulated hours ({warm_up:.1f} min,"
            f" {len(report.samples) - len(samples)} samples not judged)"
            if report.warm_up
            else ""
        )
        + f"), {sum(report.mix.values())} clients ({mix}); {len(samples)} samples judged"
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
    # The run every ~2 simulated hours (every 12th of the judged window, as many in the
    # warm-up), as the trend's raw material; district hours from the judged window's start.
    every = (len(samples) - 1) / 12
    first = len(report.samples) - len(samples)
    picks = sorted(
        {first + round(i * every) for i in range(13)}
        | {first - round(i * every) for i in range(1, 1 + int(first / every) if every else 1)}
    )
    picks = [i for i in picks if 0 <= i < len(report.samples)]
    begins = samples[0].t
    print(
        common.table(
            [
                *("district h", "real min", "RSS MiB", "files", "tasks", "threads"),
                *("clients", "head", "ring MiB", "mosquitto"),
            ],
            [
                [
                    f"{(s.t - begins) * report.speed / 3600:+.1f}"
                    + ("" if s.judged else " (warm-up)"),
                    f"{s.t / 60:.1f}",
                    f"{s.rss:.1f}",
                    s.fds,
                    s.tasks,
                    s.threads,
                    s.clients,
                    f"{s.head:,}",
                    f"{s.ring:.1f}",
                    "up" if s.broker else "DOWN",
                ]
                for s in (report.samples[i] for i in picks)
            ],
        )
    )
    later = len(samples) - len(samples) // 2
    print(
        f"(second-half trend: the least-squares line through the last {later} samples, its"
        f" rise over that half against its start; < {FLAT * 100:.0f} % is flat)"
    )
    down = sum(not s.broker for s in samples)
    print(
        f"ring {samples[0].ring:.1f} -> {samples[-1].ring:.1f} MiB in the judged window"
        f" ({report.samples[0].ring:.1f} MiB when the measured time began)"
    )
    arrived = ", ".join(f"{user} {n:,}" for user, n in sorted(report.arrivals.items()))
    warmed = ", ".join(f"{user} {n:,}" for user, n in sorted(report.warm_up_arrivals.items()))
    print(
        f"intakes: external ids committed in the judged window: {arrived or 'none'}"
        + (f" (in the warm-up: {warmed or 'none'})" if report.warm_up else "")
        + f"; the demo's mosquitto running at {len(samples) - down} of {len(samples)} samples"
    )
    if report.intakes_alive:
        print(
            f"MQTT intake alive: {report.mqtt_arrivals:,} alerts and reports through it"
            " in the judged window, its broker up throughout"
        )
    else:
        print(
            f"MQTT INTAKE NOT ALIVE: {report.mqtt_arrivals:,} alerts and reports through it"
            f" in the judged window, its broker down at {down} samples"
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
    parser.add_argument("--hours", type=float, default=24.0, help="simulated hours judged (24)")
    parser.add_argument(
        "--warm-up",
        type=float,
        default=DEFAULT_WARM_UP,
        help=f"simulated hours before them, not judged ({DEFAULT_WARM_UP:g})",
    )
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
            warm_up=args.warm_up,
        )
    )
    print_report(report, ["soak", *argv])
