"""Shared pieces of the benchmarks: databases, a started server, report requests, CPU clocks."""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing as mp
import os
import platform
import random
import shlex
import sqlite3
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from dispatch.app import load_reference, prepare
from dispatch.reference import ReferenceData
from dispatch.server import DispatchServer, Limits, tune_gc
from dispatch.state import Actor
from dispatch.store.store import Store
from dispatch.writer import CommandRequest
from protocol.commands import Report

PG_URL = os.environ.get(
    "TONGGUAN_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ROOT = Path(__file__).resolve().parent.parent
BENCH_ACTOR = Actor("bench", "dispatcher")
_CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---- databases ---------------------------------------------------------------------------


@contextlib.contextmanager
def database(kind: str) -> Iterator[str]:
    """A fresh, empty database URL: a SQLite file in a temp dir, or a PostgreSQL schema."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="tg-bench-") as tmp:
            yield f"sqlite:///{tmp}/dispatch.db"
        return
    import sqlalchemy as sa

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def prepared(url: str) -> tuple[Store, ReferenceData]:
    """A store with the schema and the default district, and its reference data."""
    store = Store(url)
    prepare(store)
    return store, load_reference(store)


async def started(
    store: Store, reference: ReferenceData, limits: Limits | None = None
) -> DispatchServer:
    """A DispatchServer listening on a free loopback port, tuned as `dispatch serve` tunes it."""
    server = DispatchServer(store, reference, limits=limits)
    await server.start("127.0.0.1", 0)
    tune_gc()
    return server


# ---- isolation -----------------------------------------------------------------------------


def _isolated_entry(fn: Callable[..., Any], args: tuple[Any, ...], conn: Connection) -> None:
    try:
        conn.send((True, fn(*args)))
    except BaseException as exc:
        conn.send((False, f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
        raise


def isolated[T](fn: Callable[..., T], *args: Any) -> T:
    """Run `fn(*args)` in a fresh spawned process and return its result."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_isolated_entry, args=(fn, args, child))
    proc.start()
    child.close()
    try:
        ok, value = parent.recv()
    except EOFError:
        proc.join()
        raise RuntimeError(f"benchmark process died (exit code {proc.exitcode})") from None
    proc.join()
    if not ok:
        raise RuntimeError(f"benchmark process failed: {value}")
    return value  # type: ignore[no-any-return]


# ---- load ----------------------------------------------------------------------------------


def report_pool(
    reference: ReferenceData, n: int, seed: int = 1, streets: Sequence[str] | None = None
) -> list[Report]:
    """`n` report args at random valid points (of the given streets, else of every grid)."""
    rng = random.Random(seed)
    grids = [g.code for g in reference.grids.values() if streets is None or g.street in streets]
    categories = sorted(reference.categories)
    pool: list[Report] = []
    while len(pool) < n:
        lon, lat = reference.random_point(rng.choice(grids), rng)
        # Rounding can push a point on a boundary into a neighbour (or out of the district):
        # keep only points the server will accept, so that every command commits.
        grid = reference.grid_at(lon, lat)
        if grid is None or (streets is not None and grid.street not in streets):
            continue
        i = len(pool)
        pool.append(
            Report(
                category=rng.choice(categories),
                title=f"压测事件{i}",
                lon=lon,
                lat=lat,
                source="hotline",
                description="benchmark load",
            )
        )
    return pool


def report_requests(pool: Sequence[Report]) -> list[CommandRequest]:
    """One fire-and-forget `report` CommandRequest per args in the pool."""
    # The writer never mutates a request it gets by submit_nowait, so they can be reused.
    return [CommandRequest(BENCH_ACTOR, "report", args) for args in pool]


# ---- measuring -----------------------------------------------------------------------------


def thread_cpu(native_ids: dict[str, int | None]) -> dict[str, float]:
    """CPU seconds (user + system) used so far by each named thread (negative id: a process)."""
    out = {}
    for name, tid in native_ids.items():
        path = (
            f"/proc/{-tid}/stat" if tid is not None and tid < 0 else f"/proc/self/task/{tid}/stat"
        )
        try:
            stat = Path(path).read_text()
        except (OSError, TypeError):
            out[name] = 0.0
            continue
        fields = stat.rsplit(")", 1)[1].split()
        out[name] = (int(fields[11]) + int(fields[12])) / _CLK_TCK
    return out


@dataclass(slots=True)
class CpuMark:
    """Process and per-thread CPU clocks at one moment."""

    wall: float
    process: float
    threads: dict[str, float]


def cpu_mark(native_ids: dict[str, int | None]) -> CpuMark:
    """Read the clocks now."""
    return CpuMark(time.time(), time.process_time(), thread_cpu(native_ids))


def server_threads(server: DispatchServer, **extra: threading.Thread) -> dict[str, int | None]:
    """Native ids of the loop thread, the writer thread and any extra threads."""
    assert server.writer is not None
    ids: dict[str, int | None] = {
        "loop": threading.get_native_id(),
        "writer": server.writer._thread.native_id,
    }
    ids.update({name: t.native_id for name, t in extra.items()})
    return ids


class Window:
    """CPU marks (and a probe's values) at two wall-clock moments, taken off the event loop.

    A thread takes them, not a coroutine: when the loop falls behind, a coroutine would wake
    late and shrink the measured window exactly when the server is in trouble.
    """

    def __init__(
        self,
        ids: dict[str, int | None],
        start: float,
        end: float,
        probe: Callable[[], tuple[int, ...]] = tuple,
    ) -> None:
        self.ids, self.start, self.end, self.probe = ids, start, end, probe
        self.marks: list[tuple[CpuMark, tuple[int, ...]]] = []
        self._thread = threading.Thread(target=self._run, name="bench-window", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for moment in (self.start, self.end):
            time.sleep(max(0.0, moment - time.time()))
            self.marks.append((cpu_mark(self.ids), self.probe()))

    async def done(self) -> tuple[tuple[CpuMark, tuple[int, ...]], tuple[CpuMark, tuple[int, ...]]]:
        """Wait for the end of the window; the (mark, probe) pairs at its two ends."""
        import asyncio

        await asyncio.to_thread(self._thread.join)
        return self.marks[0], self.marks[1]


def cpu_share(a: CpuMark, b: CpuMark) -> tuple[float, dict[str, float]]:
    """Process CPU and per-thread CPU between two marks, in % of one core."""
    wall = b.wall - a.wall
    threads = {k: 100 * (b.threads[k] - a.threads.get(k, 0.0)) / wall for k in b.threads}
    return 100 * (b.process - a.process) / wall, threads


def pct(values: np.ndarray, q: float) -> float:
    """Percentile `q` of `values` (nan when empty)."""
    return float(np.percentile(values, q)) if len(values) else float("nan")


# ---- reporting -----------------------------------------------------------------------------


def reproduce(module: str, argv: Sequence[str]) -> str:
    """The exact command that reruns a benchmark with these arguments."""
    args = " ".join(shlex.quote(a) for a in argv)
    return f"cd {ROOT} && .venv/bin/python -m {module}{' ' + args if args else ''}"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (also readable as plain text)."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    lines += [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in cells
    ]
    return "\n".join(lines)


def postgres_version() -> str:
    """The PostgreSQL server's version string, or why it is unknown."""
    try:
        import sqlalchemy as sa

        engine = sa.create_engine(PG_URL)
        with engine.connect() as conn:
            version = str(conn.execute(sa.text("SHOW server_version")).scalar())
        engine.dispose()
        return version
    except Exception as exc:
        return f"unavailable ({type(exc).__name__})"


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    meminfo = Path("/proc/meminfo").read_text().split()
    mem_gib = int(meminfo[meminfo.index("MemTotal:") + 1]) / 1024 / 1024
    model = fields.get("model name", platform.processor() or "?")
    family = f"family {fields.get('cpu family', '?')} model {fields.get('model', '?')}"
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{model} ({family})",
        "cores": str(os.cpu_count()),
        "ram": f"{mem_gib:.1f} GiB",
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres_version(),
        "kernel": platform.release(),
    }


def print_machine() -> None:
    """Print the machine block."""
    for key, value in machine().items():
        print(f"  {key:<10} {value}")


# ---- trends ------------------------------------------------------------------------------

FLAT = 0.05  # growth over the second half of a run that still counts as flat (wall, soak)


def second_half_trend(points: list[tuple[float, float]]) -> float:
    """The rise of the least-squares line through (time, bytes) points over their span,
    relative to the line's value at the start (0 for fewer than two points)."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    if not spread:
        return 0.0
    slope = sum((t - mean_t) * (v - mean_v) for t, v in points) / spread
    start, stop = points[0][0], points[-1][0]
    at_start = mean_v + slope * (start - mean_t)
    return slope * (stop - start) / at_start


def stall_split(gaps: Sequence[Sequence[float]], interval_ms: float) -> tuple[float, float, float]:
    """Of the ticks that came late ((end, gap, ran, waited) ms: the thread's schedstat over
    the whole tick, gap + interval): % the GUI thread ran, waited for a CPU, and neither
    (blocked, e.g. in a system call)."""
    total = sum(g[1] + interval_ms for g in gaps)
    if not total:
        return (0.0, 0.0, 0.0)
    ran = min(total, sum(g[2] for g in gaps))
    waited = min(total - ran, sum(g[3] for g in gaps))
    return (100 * ran / total, 100 * waited / total, 100 * (total - ran - waited) / total)


def where_time_went(
    spans: Sequence[Sequence[Any]], gaps: Sequence[Sequence[float]], interval_ms: float
) -> list[dict[str, Any]]:
    """Per kind of GUI-thread work: how many, p50 / max ms, and how much of the time lost in
    the stalls (`gaps`: (end, gap ms, …), a gap beyond the timer's interval) it overlapped.

    A collection inside a flush counts for both; "none of these" is stall time no span
    covers (the session's answers and deltas handed over, asyncio, Qt's own events).
    """
    stalls = [(t - (g + interval_ms) / 1000, t) for t, g, *_ in gaps]
    kinds: dict[str, list[tuple[float, float]]] = {}
    for kind, start, end in spans:
        kinds.setdefault(str(kind), []).append((float(start), float(end)))
    rows = []
    for kind, found in sorted(kinds.items()):
        durations = np.array([(e - s) * 1000 for s, e in found])
        rows.append(
            {
                "kind": kind,
                "n": len(found),
                "p50": pct(durations, 50),
                "max": float(durations.max()),
                "in_stalls": 1000 * sum(_overlap(a, b, found) for a, b in stalls),
            }
        )
    every = [(float(s), float(e)) for _, s, e in spans]
    lost = sum(b - a for a, b in stalls)
    covered = sum(_covered(a, b, every) for a, b in stalls)
    rows.append(
        {
            "kind": "none of these",
            "n": 0,
            "p50": float("nan"),
            "max": float("nan"),
            "in_stalls": 1000 * (lost - covered),
        }
    )
    return rows


def _overlap(a: float, b: float, spans: Sequence[tuple[float, float]]) -> float:
    return sum(max(0.0, min(b, e) - max(a, s)) for s, e in spans)


def _covered(a: float, b: float, spans: Sequence[tuple[float, float]]) -> float:
    """How much of [a, b] the union of the spans covers."""
    parts = sorted((max(a, s), min(b, e)) for s, e in spans if e > a and s < b)
    total, reach = 0.0, a
    for s, e in parts:
        if e > reach:
            total += e - max(s, reach)
            reach = e
    return total
