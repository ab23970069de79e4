"""The wall benchmark's window process: `python -m desktop --server ...` with measuring hooks.

`python -m bench.wall_window MODE --result FILE [options] -- DESKTOP_ARGS` runs
`desktop.app.main(DESKTOP_ARGS)` itself, unchanged, after swapping three classes in their
modules (this process only): `WallWindow`, `Replica` and `Session` become subclasses that
time what they do. Nothing in desktop/ or widgets/ is edited. The module imports only the
standard library at the top, so its start-up costs what `python -m desktop`'s does.

What the hooks record (all `time.time()`, comparable with the backend's clock):

- per new open event: its delta's seq and `at`, when the session applied it, the start and
  end of the window's flush (`on_flush`) that put it in the queue, and the start and end of
  the first paint of the queue's viewport after that flush (an event filter sees the Paint
  event; a zero-time timer stamps the moment after the paint and the backing-store flush
  returned), with whether its row was inside the viewport then;
- a 5 ms precise QTimer: the largest gap beyond its interval (GUI-thread stalls);
- marks of the start-up path (cold mode); RSS samples (memory mode).

MODE `latency` writes `bench-feed.json` phases for bench.wall_backend's feeder; `cold` closes
the window after its first full frame; `memory` samples for a simulated day. The result is
one JSON document in FILE.
"""

from __future__ import annotations

import time

PROCESS_SEEN = time.time()  # first statement after the interpreter and `bench` import

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from protocol.entities import OPEN_STATUSES  # noqa: E402

# Runtime patches that test a suggested fix in this window process only (`--what-if NAME`).
# Those measured at 05:40 and then made in desktop/ (fixed queue column widths, rows found
# by bisection, unserved roles first, gc frozen, thumbnails dropped) are gone from here.
WHAT_IF = {
    "frame-16": "the window's coalescer flushes 16 ms after a frame's first change, not 33",
    "ws-queue": "the session's websocket buffers up to 1,024 messages (max_queue) before it"
    " pauses reading (16 by default: each resume makes qasync create a new socket notifier)",
    "no-pulse": "no pulsing ring on the map for new urgent events",
    "no-map": "the map gets its first full batch and nothing after (shows what the live map costs)",
}
_CLK_TCK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


# ---- /proc -----------------------------------------------------------------------------------


def process_started_at() -> float:
    """This process's start (wall clock, 10 ms resolution) from /proc/self/stat and uptime."""
    fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    started_ticks = int(fields[19])
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    return time.time() - (uptime - started_ticks / _CLK_TCK)


def _stat(path: str) -> list[str] | None:
    try:
        return Path(path).read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def cpu_seconds(pid: int, tid: int | None = None) -> float:
    """User + system CPU of a process (or one of its threads)."""
    fields = _stat(f"/proc/{pid}/task/{tid}/stat" if tid else f"/proc/{pid}/stat")
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK if fields else 0.0


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (QtWebEngine's helper processes)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(f"/proc/{entry}/stat")
            if fields:
                children.setdefault(int(fields[1]), []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def rss(pid: int | str = "self") -> int:
    """Resident set size in bytes."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
    except OSError:
        return 0


def cpu_mark(backend_pid: int | None) -> dict[str, float]:
    """CPU clocks now: this process, its GUI thread, its WebEngine helpers, the backend."""
    me = os.getpid()
    mark = {
        "wall": time.time(),
        "window": cpu_seconds(me),
        "gui": cpu_seconds(me, me),
        "webengine": sum(cpu_seconds(p) for p in descendants(me)),
    }
    if backend_pid:
        mark["backend"] = cpu_seconds(backend_pid)
    return mark


# ---- the probe -------------------------------------------------------------------------------


class Probe:
    """Everything the hooks record, in this process."""

    def __init__(self) -> None:
        self.marks: dict[str, float] = {}
        self.counts: dict[str, Any] = {}
        self.recording = False
        self.pending: dict[int, tuple[int, float, float]] = {}  # id -> (seq, at, received)
        self.received: dict[int, float] = {}  # seq -> decoded (the session's thread)
        self.flushed: list[list[Any]] = []  # waiting for a paint
        self.records: list[list[Any]] = []
        self.flushes: list[tuple[float, float, int]] = []
        self.map_flushes: list[tuple[float, float, int]] = []
        self.paints: list[tuple[float, float]] = []
        # Other GUI-thread work, for the stalls' attribution: (kind, start, end).
        self.spans: list[tuple[str, float, float]] = []
        self._gc_started = 0.0
        self.gui_thread = 0
        self.window: Any = None
        self.snapshot_events = 0
        self.profiler: Any = None

    def mark(self, name: str, at: float | None = None) -> None:
        """The first time something happened."""
        self.marks.setdefault(name, time.time() if at is None else at)

    def collected(self, phase: str, info: dict[str, int]) -> None:
        """gc.callbacks: each collection on the GUI thread, by generation."""
        if threading_native_id() != self.gui_thread:
            return
        if phase == "start":
            self._gc_started = time.time()
        else:
            self.spans.append((f"gc gen {info['generation']}", self._gc_started, time.time()))

    def listen_to_collector(self) -> None:
        """Time every collection from now on (the GUI thread's only)."""
        import gc

        self.gui_thread = threading_native_id()
        gc.callbacks.append(self.collected)


PROBE = Probe()


def install_hooks() -> None:
    """Swap WallWindow, Replica and Session for timing subclasses (module attributes)."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    import desktop.core.link
    import desktop.core.replica
    import desktop.core.session
    import desktop.ui.wall
    from desktop.core.replica import Changes, Replica
    from desktop.core.session import Session
    from desktop.ui.wall import WallWindow
    from protocol.messages import Delta, Snapshot, Units, Welcome

    class TimedReplica(Replica):
        def apply(self, message: Any) -> Changes:
            changes = super().apply(message)
            if isinstance(message, Units):
                PROBE.mark("units applied")
            elif isinstance(message, Snapshot):
                PROBE.mark("snapshot applied")
                PROBE.snapshot_events = len(self.events)
            return changes

        def _delta(self, delta: Delta, changes: Changes) -> None:
            received = PROBE.received.pop(delta.seq, None)
            known = len(changes.new_events)
            super()._delta(delta, changes)
            if PROBE.recording and len(changes.new_events) > known:
                # On the session's thread when it decoded the delta; now if it was not seen.
                got = received if received is not None else time.time()
                PROBE.pending[delta.data.id] = (delta.seq, delta.at, got)

    class TimedSession(Session):
        """Runs on the session's thread: stamps what it decodes there."""

        def _receive(self, raw: str | bytes) -> None:
            self._raw_size = len(raw)
            super()._receive(raw)

        def _advance(self, message: Any) -> None:
            now = time.time()
            if isinstance(message, Delta):
                if PROBE.recording:
                    PROBE.received[message.seq] = now
            elif isinstance(message, Welcome):
                PROBE.mark("welcome", now)
            elif isinstance(message, Units):
                PROBE.mark("units received", now)
            elif isinstance(message, Snapshot):
                PROBE.mark("snapshot received", now)
                PROBE.counts["snapshot_bytes"] = self._raw_size
            super()._advance(message)

    class PaintProbe(QObject):
        def __init__(self, view: Any) -> None:
            super().__init__(view)
            self.view = view
            self.scheduled = False
            self.painting: list[list[Any]] = []
            self.started = 0.0

        def eventFilter(self, obj: Any, event: Any) -> bool:
            if event.type() == QEvent.Type.Paint and not self.scheduled:
                self.started = time.time()
                self.scheduled = True
                if PROBE.flushed:
                    self.painting, PROBE.flushed = PROBE.flushed, []
                    view = self.view
                    model = view.model()
                    top = view.rowAt(0)
                    bottom = view.rowAt(view.viewport().height() - 1)
                    if top < 0:
                        top = 0
                    if bottom < 0:
                        bottom = model.rowCount() - 1
                    shown = {model.id_at(r) for r in range(top, bottom + 1)}
                    for rec in self.painting:
                        rec.append(rec[0] in shown)
                QTimer.singleShot(0, self.after)
            return False

        def after(self) -> None:
            if not self.scheduled:
                return  # already finished by the window's update request (see BenchWall.event)
            done = time.time()
            self.scheduled = False
            PROBE.paints.append((self.started, done))
            filled = PROBE.marks.get("models filled")
            if filled is not None and self.started >= filled:
                PROBE.mark("queue painted", done)
            for rec in self.painting:
                rec.insert(-1, self.started)
                rec.insert(-1, done)
                PROBE.records.append(rec)
            self.painting = []

    class BenchWall(WallWindow):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            PROBE.mark("window init")
            super().__init__(*args, **kwargs)
            PROBE.mark("window built")
            PROBE.window = self
            # Timed as a whole: a frame (every panel's view, in order) and a map batch.
            self._subscribers = list(self.coalescer.subscribers)
            self.coalescer.subscribers[:] = [self.on_flush]
            self.map_view.pump.subscribers[:] = [self._map_flush]
            self._paint_probe = PaintProbe(self.queue)
            self.queue.viewport().installEventFilter(self._paint_probe)
            self.map.ready.connect(lambda: PROBE.mark("map page ready"))
            original = self.map.apply_batch

            def apply_batch(batch: dict[str, Any]) -> None:
                original(batch)
                if self.map.is_ready and len(batch.get("areas") or ()) > 300:
                    PROBE.mark("map full batch sent")
                    # The page counts distinct ids (a full batch restyles every grid too).
                    expected = (
                        len({a["id"] for a in batch["areas"]}),
                        len({m["id"] for m in batch.get("markers") or ()}),
                    )
                    PROBE.counts.setdefault("map_expected", expected)
                    self.map.page().runJavaScript(
                        "JSON.stringify(window.tg.counts())",
                        0,
                        lambda value: _map_counted(value, expected),
                    )

            self.map.apply_batch = apply_batch  # type: ignore[method-assign]
            if "ws-queue" in OPTIONS.what_if:
                import functools

                import desktop.core.session

                desktop.core.session.connect = functools.partial(  # type: ignore[attr-defined]
                    desktop.core.session.connect, max_queue=1024
                )
            if "frame-16" in OPTIONS.what_if:
                self.coalescer._interval = 0.016
            if "no-pulse" in OPTIONS.what_if:
                import desktop.core.map_feed

                desktop.core.map_feed.URGENT = 0  # type: ignore[misc]
            QTimer.singleShot(0, _start_scenario)

        def _every_second(self) -> None:
            started = time.time()
            super()._every_second()
            PROBE.spans.append(("once a second", started, time.time()))

        def _map_flush(self, changes: Changes) -> None:
            started = time.time()
            self.map_view.send(changes)
            PROBE.map_flushes.append((started, time.time(), len(changes.events)))

        def event(self, event: Any) -> bool:
            # The repaint pass (paint every dirty widget, flush the window) is the handling
            # of the top-level's UpdateRequest: its end is when the queue's paint is out.
            if event.type() != QEvent.Type.UpdateRequest:
                return super().event(event)
            handled = super().event(event)
            PROBE.counts["update_requests"] = PROBE.counts.get("update_requests", 0) + 1
            self._paint_probe.after()
            return handled

        def showEvent(self, event: Any) -> None:
            PROBE.mark("window shown")
            super().showEvent(event)

        def on_flush(self, changes: Changes) -> None:
            started = time.time()
            # Records exist before the flush runs: the window may paint within it.
            records: list[list[Any]] = []
            if PROBE.recording and changes.new_events:
                events = self.replica.events
                for event_id in changes.new_events:
                    info = PROBE.pending.pop(event_id, None)
                    event = events.get(event_id)
                    if info is not None and event is not None and event.status in OPEN_STATUSES:
                        records.append([event_id, *info, started, started])
                PROBE.flushed.extend(records)
            for subscriber in self._subscribers:
                subscriber(changes)
            done = time.time()
            for rec in records:
                rec[5] = done
            PROBE.flushes.append((started, done, len(changes.events)))
            if changes.reset:
                PROBE.mark("models filled", done)
                PROBE.counts["queue_rows"] = self.queue_view.model.rowCount()

    def _map_counted(value: str, expected: tuple[int, int]) -> None:
        counts = json.loads(value)
        PROBE.counts.setdefault("map_counts", counts)
        if counts["areas"] >= expected[0] and counts["markers"] >= expected[1]:
            PROBE.mark("map batch applied")
            if "no-map" in OPTIONS.what_if:
                PROBE.window.map.apply_batch = lambda batch: None

    desktop.ui.wall.WallWindow = BenchWall  # type: ignore[misc]
    desktop.core.replica.Replica = TimedReplica  # type: ignore[misc]
    desktop.core.session.Session = TimedSession  # type: ignore[misc]
    desktop.core.link.Session = TimedSession  # type: ignore[misc]


class StallTimer:
    """A precise 5 ms timer on the GUI thread; gaps beyond its interval are stalls.

    Each tick also reads the thread's schedstat (ns on a CPU, ns waiting for one), so that a
    stall splits into time the GUI thread ran, time it was runnable but had no CPU (the
    other processes had both cores) and the rest (blocked, e.g. in a system call).
    """

    def __init__(self, interval_ms: int = 5) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.interval = interval_ms / 1000
        self._schedstat = os.open(f"/proc/self/task/{threading_native_id()}/schedstat", os.O_RDONLY)
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.reset()
        self.timer.start()

    def _sched(self) -> tuple[int, int]:
        ran, waited, _ = os.pread(self._schedstat, 128, 0).split()
        return int(ran), int(waited)

    def reset(self) -> None:
        """Start a new measuring window."""
        self.last = time.perf_counter()
        self.last_sched = self._sched()
        self.ticks = 0
        self.worst = 0.0
        self.worst_at = 0.0
        # (wall time, gap ms, ran ms, waited for a CPU ms) of gaps over 16 ms
        self.gaps: list[tuple[float, float, float, float]] = []

    def _tick(self) -> None:
        now = time.perf_counter()
        sched = self._sched()
        gap = now - self.last - self.interval
        ran = (sched[0] - self.last_sched[0]) / 1e6
        waited = (sched[1] - self.last_sched[1]) / 1e6
        self.last, self.last_sched = now, sched
        self.ticks += 1
        if gap > self.worst:
            self.worst, self.worst_at = gap, time.time()
        if gap > 0.016:
            self.gaps.append((time.time(), gap * 1000, ran, waited))

    def summary(self) -> dict[str, Any]:
        """Figures of the current window."""
        return {
            "ticks": self.ticks,
            "worst_ms": self.worst * 1000,
            "worst_at": self.worst_at,
            "gaps": self.gaps,
        }


def threading_native_id() -> int:
    """This thread's kernel id."""
    import threading

    return threading.get_native_id()


# ---- scenarios -------------------------------------------------------------------------------

OPTIONS: argparse.Namespace


def _start_scenario() -> None:
    scenarios = {"latency": latency, "cold": cold, "memory": memory, "playback": playback}
    scenario = scenarios[OPTIONS.mode]
    loop = asyncio.get_event_loop()
    task = loop.create_task(_guarded(scenario))
    _TASKS.append(task)


_TASKS: list[asyncio.Task[None]] = []


async def _guarded(scenario: Callable[[], Any]) -> None:
    try:
        await scenario()
    except Exception as exc:  # the result file says why; the window closes anyway
        import traceback

        _write({"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()})
    finally:
        PROBE.window.close()


def _write(doc: dict[str, Any]) -> None:
    doc.setdefault("marks", PROBE.marks)
    doc.setdefault("counts", PROBE.counts)
    path = Path(OPTIONS.result)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc))
    os.replace(tmp, path)


async def until(predicate: Callable[[], bool], timeout: float, what: str) -> None:  # noqa: ASYNC109
    """Wait for a condition (or fail saying what did not happen)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout:g} s: {what}")
        await asyncio.sleep(0.02)


async def sleep_until(moment: float) -> None:
    """Sleep until a wall-clock moment."""
    await asyncio.sleep(max(0.0, moment - time.time()))


async def js(script: str) -> Any:
    """Evaluate JavaScript in the map page (through JSON)."""
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    PROBE.window.map.page().runJavaScript(
        f"JSON.stringify({script})", 0, lambda v: future.done() or future.set_result(v)
    )
    return json.loads(await asyncio.wait_for(future, 10))


async def _live() -> None:
    window = PROBE.window
    await until(lambda: window.replica.epoch is not None, 60, "snapshot")
    await until(lambda: window.map.is_ready, 60, "map page ready")
    await until(lambda: "map full batch sent" in PROBE.marks, 60, "map full batch sent")
    deadline = time.monotonic() + 60
    while "map batch applied" not in PROBE.marks:
        # The callback after the batch normally marks it; this poll is the fallback.
        await asyncio.sleep(0.1)
        counts = await js("window.tg.counts()")
        expected = PROBE.counts.get("map_expected", (1, 1))
        if counts["areas"] >= expected[0] and counts["markers"] >= expected[1]:
            PROBE.mark("map batch applied")
        if time.monotonic() > deadline:
            raise TimeoutError(f"map batch not applied within 60 s: {counts}, {PROBE.marks}")


async def latency() -> None:
    """Phases at each rate: feed, measure, collect the records and the backend's commits."""
    opts = OPTIONS
    await _live()
    await asyncio.sleep(2.0)  # start-up work (KPIs, thumbnails) out of the way
    stall = StallTimer(5)
    PROBE.listen_to_collector()
    feed = Path(opts.data) / "bench-feed.json"
    phases = []
    rates = [int(r) for r in opts.rates.split(",") if r]
    profile_rate = max(rates) if opts.profile else None
    for index, rate in enumerate(rates):
        start = time.time() + 0.5
        measure_from = start + opts.warmup
        stop = measure_from + opts.duration
        tmp = feed.with_name(feed.name + ".tmp")
        tmp.write_text(json.dumps({"id": index, "rate": rate, "start": start, "stop": stop}))
        os.replace(tmp, feed)
        PROBE.records, PROBE.flushes, PROBE.paints, PROBE.map_flushes = [], [], [], []
        PROBE.spans = []
        PROBE.recording = True
        await sleep_until(measure_from)
        profiler = spy = None
        if rate == max(rates) and opts.py_spy:
            import subprocess

            spy = subprocess.Popen(  # noqa: ASYNC220 - returns at once; waited in a thread
                [
                    opts.py_spy,
                    "record",
                    "--native",
                    "--threads",
                    "-r",
                    "100",
                    "-f",
                    "raw",
                    "-o",
                    opts.py_spy_out,
                    "--pid",
                    str(os.getpid()),
                    "--duration",
                    str(max(1, round(opts.duration))),
                ]
            )
        if rate == profile_rate:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        cpu0 = cpu_mark(opts.backend_pid)
        stall.reset()
        await sleep_until(stop)
        cpu1 = cpu_mark(opts.backend_pid)
        stalls = stall.summary()
        if profiler is not None:
            profiler.disable()
        if spy is not None:
            await asyncio.to_thread(spy.wait)
        commits_path = Path(opts.data) / f"bench-commits-{index}.json"
        await until(commits_path.exists, 60, "the backend's commit times")
        await asyncio.sleep(1.0)  # the last deltas reach the screen
        PROBE.recording = False
        unpainted = len(PROBE.flushed) + len(PROBE.pending)
        PROBE.flushed, PROBE.pending = [], {}
        PROBE.received.clear()
        phase = {
            "rate": rate,
            "start": start,
            "measure_from": measure_from,
            "stop": stop,
            "cpu": [cpu0, cpu1],
            "stalls": stalls,
            "records": PROBE.records,
            "flushes": PROBE.flushes,
            "paints": PROBE.paints,
            "map_flushes": PROBE.map_flushes,
            "spans": PROBE.spans,
            "unpainted": unpainted,
            "queue_rows": PROBE.window.queue_view.model.rowCount(),
            "replica_events": len(PROBE.window.replica.events),
            "backend": json.loads(commits_path.read_text()),
            "profiled": profiler is not None or spy is not None,
        }
        if profiler is not None:
            phase["profile"] = _profile_text(profiler, opts.profile_out)
        phases.append(phase)
    _write({"mode": "latency", "phases": phases})


def _profile_text(profiler: Any, out: str | None) -> str:
    import io
    import pstats

    if out:
        profiler.dump_stats(out)
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(45)
    return text.getvalue()


async def cold() -> None:
    """Wait for the first full frame, then report the start-up marks."""
    await _live()
    await until(lambda: "queue painted" in PROBE.marks, 30, "queue painted")
    if PROBE.profiler is not None:
        PROBE.profiler.disable()
        PROBE.counts["profile"] = _profile_text(PROBE.profiler, OPTIONS.profile_out)
    counts = await js("window.tg.counts()")
    # Marker clustering loads in chunks: how long until every marker is in the cluster.
    deadline = time.monotonic() + 10
    while counts["clustered"] < counts["markers"] - counts["statics"] and (
        time.monotonic() < deadline
    ):
        await asyncio.sleep(0.05)
        counts = await js("window.tg.counts()")
    PROBE.mark("map clustered")
    PROBE.counts["map_final"] = counts
    _write(
        {
            "mode": "cold",
            "launched_at": OPTIONS.launched_at,
            "process_started_at": process_started_at(),
            "module_seen": PROCESS_SEEN,
            "snapshot_events": PROBE.snapshot_events,
            "open_events": sum(
                1 for e in PROBE.window.replica.events.values() if e.status in OPEN_STATUSES
            ),
        }
    )


async def memory() -> None:
    """Sample RSS (this process and its WebEngine helpers) over a simulated day."""
    opts = OPTIONS
    window = PROBE.window
    await _live()
    await until(lambda: window.replica.kpis_at > 0, 30, "district clock (KPIs)")
    await asyncio.sleep(3.0)
    day0 = window.replica.now()
    span = opts.days * 86400
    samples = []
    real_limit = time.monotonic() + span / opts.speed * 1.5 + 30
    while True:
        helpers = descendants(os.getpid())
        _, counts, heap, nodes = await js(
            "["
            + ("window.gc()" if opts.js_gc else "0")
            + ", window.tg.counts(), performance.memory ? {used: performance.memory.usedJSHeapSize,"
            " total: performance.memory.totalJSHeapSize} : null,"
            " document.getElementsByTagName('*').length]"
        )
        now = window.replica.now()
        samples.append(
            {
                "wall": time.time(),
                "district": now - day0,
                "rss": rss(),
                "webengine_rss": sum(rss(p) for p in helpers),
                "webengine_procs": len(helpers),
                "events": len(window.replica.events),
                "open": sum(1 for e in window.replica.events.values() if e.status in OPEN_STATUSES),
                "alerts": len(window.replica.alerts),
                "queue_rows": window.queue_view.model.rowCount(),
                "map_markers": counts["markers"],
                "js_heap": (heap or {}).get("used", 0),
                "js_heap_total": (heap or {}).get("total", 0),
                "dom_nodes": nodes,
                "thumbnails": len(window.alert_view.model.thumbnails),
            }
        )
        if now - day0 >= span or time.monotonic() > real_limit:
            break
        await asyncio.sleep(opts.every)
    _write(
        {
            "mode": "memory",
            "day0": day0,
            "speed": opts.speed,
            "js_gc": opts.js_gc,
            "samples": samples,
        }
    )


async def playback() -> None:
    """复盘: F8 into the present, a seek `--hours` back, then play at `--play-speed` for
    `--duration` seconds with the stall timer running; what was applied, how far behind."""
    opts = OPTIONS
    window = PROBE.window
    await _live()
    await until(lambda: window.replica.kpis_at > 0, 30, "district clock (KPIs)")
    mode = window.replay
    machine = mode.machine
    await asyncio.sleep(2.0)
    asked = time.monotonic()
    mode.enter()
    await until(lambda: machine.active and not machine.busy, 120, "into the past")
    entered = time.monotonic() - asked
    start_at = window.replica.now() - opts.hours * 3600
    asked = time.monotonic()
    mode.bar.seekRequested.emit(start_at)
    await until(
        lambda: abs(machine.at - start_at) < 1 and not machine.busy, 120, "the seek answered"
    )
    sought = time.monotonic() - asked
    await asyncio.sleep(1.0)  # the seek's frame drawn
    PROBE.listen_to_collector()
    stall = StallTimer(5)
    seq0, at0, flushes0 = window.replica.seq, machine.at, window.coalescer.flushes
    cpu0 = cpu_mark(opts.backend_pid)
    mode.bar.playRequested.emit(opts.play_speed)
    started = time.monotonic()
    await asyncio.sleep(opts.duration)
    stalls = stall.summary()
    cpu1 = cpu_mark(opts.backend_pid)
    played = time.monotonic() - started
    behind = [d.at for d in list(machine._pending)[:1]]
    _write(
        {
            "mode": "playback",
            "enter_s": entered,
            "seek_s": sought,
            "played_s": played,
            "speed": opts.play_speed,
            "district_s": machine.at - at0,
            "playing": machine.mode == "playing",
            "rows": window.replica.seq - seq0,
            "flushes": window.coalescer.flushes - flushes0,
            "behind_s": max(0.0, machine.at - behind[0]) if behind else 0.0,
            "open_events": len(window.replica.events),
            "queue_rows": window.queue_view.model.rowCount(),
            "cpu": [cpu0, cpu1],
            "stalls": stalls,
            "spans": [
                *PROBE.spans,
                *(("queue flush", s, e) for s, e, _ in PROBE.flushes),
                *(("map batch", s, e) for s, e, _ in PROBE.map_flushes),
                *(("paint", s, e) for s, e in PROBE.paints),
            ],
        }
    )


# ---- entry -----------------------------------------------------------------------------------


def parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """Our options before `--`, the desktop's after."""
    cut = argv.index("--") if "--" in argv else len(argv)
    ours, desktop_args = argv[:cut], argv[cut + 1 :]
    parser = argparse.ArgumentParser(prog="python -m bench.wall_window")
    parser.add_argument("mode", choices=("latency", "cold", "memory", "playback"))
    parser.add_argument("--result", required=True)
    parser.add_argument("--data", help="the backend's data dir (latency: the feed file)")
    parser.add_argument("--backend-pid", type=int)
    parser.add_argument("--rates", default="100,2000")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--profile-out")
    parser.add_argument("--what-if", action="append", default=[], choices=sorted(WHAT_IF))
    parser.add_argument("--py-spy", help="py-spy binary: sample this process at the top rate")
    parser.add_argument("--py-spy-out")
    parser.add_argument("--launched-at", type=float, default=0.0)
    parser.add_argument("--speed", type=float, default=1440.0)
    parser.add_argument("--days", type=float, default=1.0)
    parser.add_argument("--every", type=float, default=2.0)
    parser.add_argument("--js-gc", action="store_true", help="window.gc() before each sample")
    parser.add_argument("--hours", type=float, default=22.0, help="playback: from this long ago")
    parser.add_argument("--play-speed", type=float, default=3600.0, help="playback: its speed")
    return parser.parse_args(ours), desktop_args


def import_desktop() -> None:
    """The imports desktop.app.main does before it builds the QApplication."""
    import qasync  # noqa: F401
    from PySide6.QtCore import QLocale, QSettings, Qt, QTimer, QTranslator  # noqa: F401
    from PySide6.QtWidgets import QApplication  # noqa: F401

    import desktop.app  # noqa: F401
    import widgets.grid_map  # noqa: F401
    from desktop.core.backend import BackendError, EmbeddedBackend  # noqa: F401
    from desktop.core.replica import Replica  # noqa: F401
    from desktop.core.session import Session  # noqa: F401
    from desktop.ui import theme  # noqa: F401
    from desktop.ui.thumbnails import ThumbnailLoader  # noqa: F401
    from desktop.ui.wall import WallWindow  # noqa: F401


def main(argv: list[str] | None = None) -> int:
    """Import what `python -m desktop` imports, hook, run the desktop's main."""
    global OPTIONS
    PROBE.mark("main", PROCESS_SEEN)
    OPTIONS, desktop_args = parse(sys.argv[1:] if argv is None else argv)
    from bench.wall_backend import pin_to_cpus

    pin_to_cpus()  # before Qt starts its threads and QtWebEngine its processes
    if OPTIONS.mode == "cold" and OPTIONS.profile:
        import cProfile

        PROBE.profiler = cProfile.Profile()
        PROBE.profiler.enable()
    import_desktop()
    import desktop.app

    PROBE.mark("imports")
    install_hooks()
    code = desktop.app.main(desktop_args)
    if not Path(OPTIONS.result).exists():
        _write({"error": f"the window exited (code {code}) before the scenario ended"})
    return code


if __name__ == "__main__":
    sys.exit(main())
