"""Chaos: three `dispatch serve --standby` nodes on one PostgreSQL database, the writer
killed (-9) every 10–20 s (issue 16's check).

Writers (desktop sessions given all three URLs) report cases without pause, each command
with its own command_id, resent with it until answered; readers (desktop sessions, each
starting on one node, the others its fallbacks) keep replicas. Each killed node is started
again as a standby two seconds later, so three nodes serve throughout. At the end:

- every acknowledged command is in the database once (0 lost, 0 applied twice);
- every reader's replica equals a fresh snapshot;
- takeover: from the kill to the first command acknowledged after it (p50, p99, max);
- readers live again: from that acknowledgement until each reader's replica holds it.

`python -m bench chaos` runs ten minutes (the issue's); tests/reliability/test_chaos.py runs
it bounded. Needs the PostgreSQL of the project's machines (127.0.0.1:5432, database test).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from bench import common
from bench.children import stop_process

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("TONGGUAN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NODES = 3
RESTART_AFTER = 2.0  # seconds before a killed node is started again (a supervisor's)


@dataclass
class Figures:
    """What a chaos run measured, and what it found wrong (`problems`: empty when none)."""

    kills: int = 0
    acknowledged: int = 0
    takeovers: list[float] = field(default_factory=list)
    live_again: list[float] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    unequal_replicas: int = 0
    readers: int = 0
    problems: list[str] = field(default_factory=list)

    def table(self) -> str:
        """The figures as printed (and kept in bench/RESULTS.md)."""

        def spread(values: list[float]) -> str:
            if not values:
                return "-"
            ordered = sorted(values)
            p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
            return (
                f"p50 {statistics.median(ordered):.2f} s, p99 {p99:.2f} s, max {ordered[-1]:.2f} s"
                f" (n={len(ordered)})"
            )

        return "\n".join(
            [
                f"kills of the writer:        {self.kills}",
                f"commands acknowledged:      {self.acknowledged}",
                f"lost / applied twice:       {len(self.lost)} / {len(self.doubled)}",
                f"replicas unequal to a fresh snapshot: {self.unequal_replicas} of {self.readers}",
                f"takeover (kill -> next ack): {spread(self.takeovers)}",
                f"readers live again after it: {spread(self.live_again)}",
            ]
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Node:
    """One `dispatch serve --standby` process on its own port (restarted on the same)."""

    def __init__(self, url: str, data: Path, port: int) -> None:
        self.url, self.data, self.port = url, data, port
        self.ws = f"ws://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None
        data.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        """Start it (as a standby: it writes only if none does)."""
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TONGGUAN_DATA": str(self.data)}
        ready = self.data / "ready.json"
        with contextlib.suppress(FileNotFoundError):
            ready.unlink()
        command = [sys.executable, "-m", "dispatch", "--url", self.url, "serve"]
        self.proc = subprocess.Popen(
            [
                *command,
                *("--port", str(self.port), "--standby", "--advertise", self.ws),
                *("--ready-file", str(ready), "--log-file", str(self.data / "backend.log")),
            ],
            cwd=ROOT,
            env=env,
        )

    def wait_listening(self, seconds: float = 60) -> None:
        """Until it listens."""
        deadline = time.monotonic() + seconds
        while not (self.data / "ready.json").exists():
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"node {self.ws} exited: {self.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"node {self.ws} did not listen: {self.log_tail()}")
            time.sleep(0.05)

    def log_tail(self) -> str:
        """The end of its log."""
        path = self.data / "backend.log"
        return path.read_text()[-1500:] if path.exists() else "no log"

    def kill(self) -> None:
        """kill -9, and reap it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        """SIGTERM, then kill if it lingers."""
        stop_process(self.proc)


def _prepare(schema_url: str, readers: int, writers: int) -> tuple[list[str], list[str], tuple]:
    """The district, users and tokens; (writer tokens, reader tokens, a point in 菱湖)."""
    from dispatch.app import load_reference, prepare
    from dispatch.store.store import Store

    store = Store(schema_url)
    try:
        prepare(store)
        lon, lat = _point(load_reference(store))
        writer_tokens = [store.create_user(f"调度员{n}", "dispatcher") for n in range(writers)]
        wall = [store.create_user(f"大屏{n}", "wall") for n in range((readers + 7) // 8)]
    finally:
        store.close()
    # At most 8 connections per user (Limits.connections_per_user): readers share users.
    return writer_tokens, [wall[n // 8] for n in range(readers)], (lon, lat)


def _point(reference: object) -> tuple[float, float]:
    grids = reference.grids.values()  # type: ignore[attr-defined]
    grid = next(g for g in grids if g.street == "340803004")
    return float(grid.centre[0]), float(grid.centre[1])


def _writer_pid(engine: sa.Engine) -> int | None:
    with engine.connect() as conn:
        holder = conn.execute(sa.text("SELECT holder FROM writer_lease")).scalar()
    if not holder or " pid " not in holder:
        return None
    return int(str(holder).rsplit(" pid ", 1)[1])


async def run(
    seconds: float,
    readers: int = 50,
    writers: int = 4,
    kill_every: tuple[float, float] = (10.0, 20.0),
    seed: int = 16,
    pg_url: str = PG_URL,
) -> Figures:
    """One chaos run of `seconds` of kills; its figures."""
    from desktop.core.replica import Changes
    from desktop.core.session import Session
    from protocol.messages import Result

    figures = Figures(readers=readers)
    schema = f"chaos_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = f"{pg_url}?options=-csearch_path%3D{schema}"
    engine = sa.create_engine(url)
    work = Path(tempfile.mkdtemp(prefix="tongguan-chaos-"))
    nodes = [Node(url, work / f"node{n}", _free_port()) for n in range(NODES)]
    sessions: list[Session] = []
    tasks: list[asyncio.Task[None]] = []
    try:
        writer_tokens, reader_tokens, (lon, lat) = await asyncio.to_thread(
            _prepare, url, readers, writers
        )
        nodes[0].start()  # the first writes; the others follow it
        await asyncio.to_thread(nodes[0].wait_listening)
        for node in nodes[1:]:
            node.start()
        for node in nodes[1:]:
            await asyncio.to_thread(node.wait_listening)
        urls = [n.ws for n in nodes]

        # Readers: each starts on one node, the other two its fallbacks.
        seen_at: list[dict[int, float]] = [{} for _ in range(readers)]

        def recorder(index: int):  # type: ignore[no-untyped-def]
            def changed(changes: Changes) -> None:
                now = time.monotonic()
                marks = seen_at[index]
                for event_id in changes.events:
                    marks.setdefault(event_id, now)

            return changed

        reader_sessions: list[Session] = []
        for n in range(readers):
            order = urls[n % NODES :] + urls[: n % NODES]
            session = Session(order, reader_tokens[n], on_changes=recorder(n), max_backoff=0.5)
            reader_sessions.append(session)
        sessions += reader_sessions
        for session in reader_sessions:
            tasks.append(asyncio.create_task(session.run()))
        await asyncio.gather(*(asyncio.wait_for(s.wait_connected(), 60) for s in reader_sessions))

        # Writers: report without pause; each command resent with its id until answered.
        acknowledged: dict[str, tuple[int, float]] = {}  # title -> (event id, answered at)
        stop_writing = asyncio.Event()

        async def write(token: str, n: int) -> None:
            session = Session(urls, token, on_message=lambda m: None, max_backoff=0.5)
            sessions.append(session)
            tasks.append(asyncio.create_task(session.run()))
            count = 0
            while not stop_writing.is_set():
                count += 1
                title = f"混沌 {n}-{count}"
                args = {"category": "01-02", "title": title, "lon": lon, "lat": lat}
                try:
                    answer = await session.command(
                        "report", {**args, "source": "hotline"}, patience=60
                    )
                except TimeoutError:
                    figures.problems.append(f"{title}: no answer within 60 s")
                    continue
                if isinstance(answer, Result):
                    acknowledged[title] = (int(answer.data["event"]), time.monotonic())
                else:
                    figures.problems.append(f"{title}: {answer.code} {answer.message}")
                await asyncio.sleep(0.05)

        writing = [asyncio.create_task(write(t, n)) for n, t in enumerate(writer_tokens)]
        rng = random.Random(seed)
        ended = time.monotonic() + seconds
        restarts: list[asyncio.Task[None]] = []
        while True:
            pause = rng.uniform(*kill_every)
            if time.monotonic() + pause > ended:
                break
            await asyncio.sleep(pause)
            pid = await asyncio.to_thread(_writer_pid, engine)
            victim = next((n for n in nodes if n.proc is not None and n.proc.pid == pid), None)
            if victim is None:
                figures.problems.append(f"no node of ours writes (lease holder pid {pid})")
                continue
            killed = time.monotonic()
            victim.kill()
            figures.kills += 1

            async def restart(node: Node) -> None:
                await asyncio.sleep(RESTART_AFTER)
                node.start()
                await asyncio.to_thread(node.wait_listening)

            restarts.append(asyncio.create_task(restart(victim)))
            # The takeover: the first acknowledgement after the kill.
            while not any(at > killed for _, at in acknowledged.values()):
                if time.monotonic() - killed > 60:
                    figures.problems.append("no command acknowledged within 60 s of a kill")
                    break
                await asyncio.sleep(0.01)
            else:
                title, (event, acked) = min(
                    ((t, v) for t, v in acknowledged.items() if v[1] > killed),
                    key=lambda item: item[1][1],
                )
                figures.takeovers.append(acked - killed)
                await asyncio.sleep(3.0)  # the readers' time to be live again, and more
                for marks in seen_at:
                    if event in marks:
                        figures.live_again.append(max(marks[event] - acked, 0.0))
                    else:
                        figures.live_again.append(float("inf"))
                        figures.problems.append(f"a reader never got {title} ({event})")
        stop_writing.set()
        await asyncio.gather(*writing)
        await asyncio.gather(*restarts)
        figures.acknowledged = len(acknowledged)

        # The database: each acknowledged report once, and nothing else.
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, doc FROM events")).all()
        titles: dict[str, list[int]] = {}
        for event_id, doc in rows:
            titles.setdefault(json.loads(doc)["title"], []).append(int(event_id))
        figures.lost = [t for t in acknowledged if t not in titles]
        figures.doubled = [t for t, ids in titles.items() if len(ids) > 1]
        wrong_ids = [t for t, (e, _) in acknowledged.items() if titles.get(t, [e]) != [e]]
        figures.problems += [f"{t}: acknowledged with another id" for t in wrong_ids]

        # Every replica equals a fresh snapshot of the writer's.
        await asyncio.sleep(2.0)
        fresh = Session(urls, reader_tokens[0], on_changes=lambda c: None)
        sessions.append(fresh)
        tasks.append(asyncio.create_task(fresh.run()))
        await asyncio.wait_for(fresh.wait_connected(), 30)
        await asyncio.sleep(1.0)
        truth = dict(fresh.replica.events)
        figures.unequal_replicas = sum(dict(s.replica.events) != truth for s in reader_sessions)
        if figures.lost or figures.doubled or figures.unequal_replicas:
            figures.problems.append("lost, doubled or unequal: see the figures")
        return figures
    finally:
        for session in sessions:
            with contextlib.suppress(Exception):
                await session.stop()
        for task in tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 5)
        for node in nodes:
            node.stop()
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    """Run the chaos bench and print its figures."""
    parser = argparse.ArgumentParser(prog="python -m bench chaos", description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args(argv)
    print(f"reproduce: {common.reproduce('bench chaos', list(argv or []))}")
    figures = asyncio.run(run(args.minutes * 60, args.readers, args.writers, seed=args.seed))
    print(figures.table())
    for problem in figures.problems[:20]:
        print("problem:", problem)
    print("load:", os.getloadavg())


if __name__ == "__main__":
    main()
