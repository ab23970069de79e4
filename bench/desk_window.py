"""The desk benchmark's Qt side: a DeskWindow in a spawned process, wired as the application
wires it (desktop/ui/desk/app.py: the stylesheet, a SessionThread, window.listen and
window.attach, gc.freeze() once the list is shown), driven by a scenario.

- `actions`: acts on freshly reported cases through `window.outbox` (accept, then dispatch,
  the case first brought into the case pane with `todo.select_case`), records each
  command's `Pending` (made_at and answered_at are the Outbox's own stamps) and when the
  desk's list re-filed the case; GUI stalls by bench.wall_window's 5 ms StallTimer.
- `browse`: pages, scrolls, searches, switches tabs, orders and filters on the list; a
  1 ms heartbeat gives every gap of the GUI thread's event loop, a viewport event filter
  every paint of the list, and a wrapper on the model's `refill` every fill of its rows
  (a tab, an order, a filter, a search, a snapshot).

Nothing in desktop/ is edited: two bound methods of this window's objects are wrapped
(`outbox._on_change` to wake the scenario when an answer arrives, `model.refill` to time
it). The result goes back over the pipe bench.desk gave.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import io
import os
import pstats
import random
import sys
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

WINDOW_SIZE = (1920, 1080)
# Runtime patches that measure a suggested change in the desk process only (`--what-if`).
WHAT_IF = {
    "gc-threshold": "after gc.freeze(), gc.set_threshold(50_000, 20, 100), as the wall's"
    " application does (desktop/ui/app.py): fewer young collections on a busy GUI thread",
}
WATCHED = ("accepted", "dispatched")


def main(conn: Connection, mode: str, url: str, token: str, options: dict[str, Any]) -> None:
    """Open the desk and run the scenario; its result (or the error) goes to `conn`."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        from desktop.app import prepare_web_engine

        prepare_web_engine()  # the desk builds its map page once the list is up
        from PySide6.QtCore import qInstallMessageHandler

        import widgets.grid_map  # noqa: F401 - QtWebEngine before the QApplication

        qInstallMessageHandler(_quiet_offscreen)
        from desktop.core.link import SessionThread
        from desktop.core.replica import Replica
        from desktop.ui.app import start_qt
        from desktop.ui.desk import style
        from desktop.ui.desk.window import DeskWindow

        app, loop = start_qt("zh")
        app.setStyleSheet(style.stylesheet())
        window = DeskWindow(Replica())
        window.resize(*WINDOW_SIZE)
        window.show()
        link = SessionThread(url, token, wake=window.coalescer.wake, client="bench-desk")
        window.listen(link.inbox, resync=link.resync)
        window.attach(link.command, link.history)
        link.start()
        scenario = {"actions": actions, "browse": browse}[mode]

        async def run() -> None:
            try:
                await scenario(conn, window, link, options)
            finally:
                await window.outbox.close()
                await link.stop(patience=3)
                window.close()

        with loop:
            loop.run_until_complete(run())
    except Exception as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (every core, every process) so far."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:9]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def _quiet_offscreen(mode: Any, context: Any, message: str) -> None:
    # The offscreen platform warns about every window hint it cannot honour.
    if "propagateSizeHints" not in message:
        print(message, file=sys.stderr)


async def until(predicate: Callable[[], bool], timeout: float, what: str) -> None:  # noqa: ASYNC109
    """Wait for a condition (or fail saying what did not happen)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout:g} s: {what}")
        await asyncio.sleep(0.01)


async def ready(window: Any, what_if: list[str]) -> None:
    """Until the desk knows who it is, has the snapshot and shows a tab; then what the
    application does once the desk is usable (gc.freeze())."""
    await until(
        lambda: bool(window.book.me.user) and window.todo.model.tab is not None, 60, "desk ready"
    )
    gc.freeze()
    if "gc-threshold" in what_if:
        gc.set_threshold(50_000, 20, 100)


# ---- what the GUI thread does --------------------------------------------------------------


class Tracer:
    """Spans (kind, start, end; time.time()) of what runs on the GUI thread: each frame's
    flush (every coalescer subscriber, timed as one), each repaint pass (the window's
    UpdateRequest to the end of that pass: a zero-time timer runs once it returned), the
    once-a-second tick, and every garbage collection (gc.callbacks, by generation)."""

    def __init__(self, window: Any) -> None:
        from PySide6.QtCore import QEvent, QObject, QTimer

        self.spans: list[tuple[str, float, float]] = []
        self.on = False
        spans = self.spans
        tracer = self
        subscribers = list(window.coalescer.subscribers)

        def flush(changes: Any) -> None:
            started = time.time()
            for subscriber in subscribers:
                subscriber(changes)
            if tracer.on:
                spans.append(("flush", started, time.time()))

        window.coalescer.subscribers[:] = [flush]
        every_second = window._every_second

        def tick() -> None:
            started = time.time()
            every_second()
            if tracer.on:
                spans.append(("once a second", started, time.time()))

        window._second.timeout.disconnect()
        window._second.timeout.connect(tick)

        class Repaints(QObject):
            started = 0.0

            def eventFilter(self, obj: Any, event: Any) -> bool:
                if event.type() == QEvent.Type.UpdateRequest and not self.started:
                    self.started = time.time()
                    QTimer.singleShot(0, self.after)
                return False

            def after(self) -> None:
                if tracer.on:
                    spans.append(("repaint", self.started, time.time()))
                self.started = 0.0

        self._repaints = Repaints()
        window.installEventFilter(self._repaints)
        self._gc_started = 0.0

        def collected(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                self._gc_started = time.time()
            elif tracer.on:
                spans.append((f"gc gen {info['generation']}", self._gc_started, time.time()))

        self._collected = collected
        gc.callbacks.append(collected)

    def close(self) -> None:
        """Stop hearing the collector."""
        gc.callbacks.remove(self._collected)


# ---- actions ---------------------------------------------------------------------------------


async def actions(conn: Connection, window: Any, link: Any, opts: dict[str, Any]) -> None:
    """Accept and dispatch the newest reported cases until the stop time; report."""
    from bench import common
    from bench.wall_window import StallTimer
    from desktop.core.actions import dispatch_units
    from desktop.core.replica import Changes

    await ready(window, opts.get("what_if", []))
    loop = asyncio.get_running_loop()
    replica, book = window.replica, window.book
    fresh: list[int] = []  # new cases as they reach the desk, oldest first
    listed: dict[tuple[int, str], float] = {}
    watched: set[int] = set()
    counting = [False, 0]

    def on_flush(changes: Changes) -> None:
        # After the to-do page's own subscriber: the list has re-filed these cases.
        now = time.time()
        fresh.extend(sorted(changes.new_events))
        if counting[0]:
            counting[1] += len(changes.new_events)
        for event_id in changes.events & watched:
            event = replica.events.get(event_id)
            if event is not None and event.status in WATCHED:
                listed.setdefault((event_id, event.status), now)

    tracer = Tracer(window)
    window.coalescer.subscribe(on_flush)  # after the timed flush: the list is up to date
    waiters: dict[int, asyncio.Future[None]] = {}
    original = window.outbox._on_change

    def on_change(entry: Any) -> None:
        original(entry)
        waiter = waiters.get(entry.number)
        if waiter is not None and not entry.open and not waiter.done():
            waiter.set_result(None)

    window.outbox._on_change = on_change
    backlog = sorted(i for i, tabs in book.tabs.items() if "accept" in tabs)
    used: set[int] = set()

    def pick() -> int | None:
        for source in (fresh, backlog):
            while source:
                event_id = source.pop()
                event = replica.events.get(event_id)
                if (
                    event_id not in used
                    and event is not None
                    and event.status == "reported"
                    and "accept" in book.tabs.get(event_id, ())
                ):
                    return event_id
        return None

    async def command(op: str, args: dict[str, Any]) -> Any:
        entry = window.outbox.submit(op, args)
        waiter = waiters[entry.number] = loop.create_future()
        await asyncio.wait_for(waiter, 30)
        return entry

    conn.send(("ready", len(replica.events)))
    _, measure_from, stop = await asyncio.to_thread(conn.recv)
    ids: dict[str, int | None] = {
        "desk": -os.getpid(),
        "gui": threading.get_native_id(),
        "session": link._thread.native_id,
        "watcher": -int(opts["watcher_pid"]),
        "backend": -int(opts["backend_pid"]),
    }
    await asyncio.sleep(max(0.0, measure_from - time.time()))
    fresh.clear()  # from now on: cases reported during the measured window
    stall = StallTimer(5)
    tracer.on = True
    mark0 = common.cpu_mark(ids)
    busy0 = machine_busy()
    counting[0] = True
    profiler = cProfile.Profile() if opts.get("profile") else None
    if profiler is not None:
        profiler.enable()
    while time.time() < stop:
        event_id = pick()
        if event_id is None:
            await asyncio.sleep(0.01)
            continue
        used.add(event_id)
        watched.add(event_id)
        # As at the desk: the case brought up, a moment to read it, then the action, and
        # the next one once the answer is in.
        window.todo.select_case(event_id)
        await asyncio.sleep(opts["pause"])
        accepted = await command("accept", {"event": event_id})
        await asyncio.sleep(opts["pause"])
        event = replica.events.get(event_id)
        if accepted.state == "done" and event is not None:
            assignee = dispatch_units(replica.units, event)[0].value
            await command("dispatch", {"event": event_id, "assignee": assignee})
            await asyncio.sleep(opts["pause"])
    mark1 = common.cpu_mark(ids)
    busy1 = machine_busy()
    tracer.on = False
    counting[0] = False
    if profiler is not None:
        profiler.disable()
    stalls = stall.summary()
    stall.timer.stop()
    await asyncio.sleep(1.5)  # the last changes reach the list
    _, threads = common.cpu_share(mark0, mark1)
    threads["machine"] = 100 * (busy1 - busy0) / (mark1.wall - mark0.wall)
    model = window.todo.model
    doc = {
        "entries": [
            [e.event, e.op, e.state, e.made_at, e.answered_at or 0.0, e.code]
            for e in window.outbox.entries
            if e.made_at >= measure_from
        ],
        "listed": [[i, s, t] for (i, s), t in listed.items()],
        "stalls": stalls,
        "spans": [list(span) for span in tracer.spans],
        "cpu": threads,
        "deltas": counting[1],
        "rows_at_end": model.rowCount(),
        "accept_at_end": book.count("accept"),
    }
    if profiler is not None:
        doc["profile"] = profile_text(profiler)
    conn.send(("done", doc))


# ---- browse ----------------------------------------------------------------------------------


class Heartbeat:
    """A precise 1 ms timer on the GUI thread: every gap beyond its interval over 2 ms, as
    (end, gap ms, ran ms, waited-for-a-CPU ms), end in time.time() seconds."""

    def __init__(self, interval_ms: int = 1) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.interval = interval_ms / 1000
        self._schedstat = os.open(
            f"/proc/self/task/{threading.get_native_id()}/schedstat", os.O_RDONLY
        )
        self.gaps: list[tuple[float, float, float, float]] = []
        self.last = time.perf_counter()
        self.last_sched = self._sched()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _sched(self) -> tuple[int, int]:
        ran, waited, _ = os.pread(self._schedstat, 128, 0).split()
        return int(ran), int(waited)

    def _tick(self) -> None:
        now = time.perf_counter()
        sched = self._sched()
        gap = now - self.last - self.interval
        if gap > 0.002:
            self.gaps.append(
                (
                    time.time(),
                    gap * 1000,
                    (sched[0] - self.last_sched[0]) / 1e6,
                    (sched[1] - self.last_sched[1]) / 1e6,
                )
            )
        self.last, self.last_sched = now, sched


async def browse(conn: Connection, window: Any, link: Any, opts: dict[str, Any]) -> None:
    """The browsing operations, timed; report per operation kind."""
    from PySide6.QtCore import QEvent, Qt
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    await ready(window, opts.get("what_if", []))
    page = window.todo
    model, table = page.model, page.table
    await until(lambda: model.tab == "accept" and model.rowCount() > 0, 30, "待受理 shown")
    await asyncio.sleep(1.5)  # the first paints, the first KPIs

    tracer = Tracer(window)
    rebuilds: list[tuple[float, float]] = []
    refill = model.refill

    def timed_refill() -> None:
        started = time.time()
        refill()
        rebuilds.append((started, time.time()))

    model.refill = timed_refill
    rng = random.Random(5)
    bar = table.verticalScrollBar()
    key = QTest.keyClick

    def type_char(ch: str) -> None:
        # QTest.keyClicks knows ASCII keys only: a key event carrying the text, as an input
        # method delivers a committed character.
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(
                page.search, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, ch)
            )

    def typing(text: str) -> list[Callable[[], None]]:
        return [lambda ch=ch: type_char(ch) for ch in text]

    # (kind, action, settle seconds): each action runs alone on the GUI thread, then the
    # loop runs freely for the settle time (paints, the search's 150 ms pause).
    plan: list[tuple[str, Callable[[], None], float]] = []
    table.setFocus()
    plan += [("page down", lambda: key(table, Qt.Key.Key_PageDown), 0.04)] * opts["pages"]
    plan += [
        ("end / home", lambda: key(table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier), 0.1)
    ]
    plan += [("page up", lambda: key(table, Qt.Key.Key_PageUp), 0.04)] * 20
    plan += [
        (
            "end / home",
            lambda: key(table, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier),
            0.1,
        )
    ]
    for v in [rng.random() for _ in range(20)]:
        plan.append(("scroll bar jump", lambda v=v: bar.setValue(int(v * bar.maximum())), 0.06))
    for text in ("事件12", "菱湖", "zzz"):
        keys = typing(text)
        plan += [("search: a key typed", k, 0.06) for k in keys[:-1]]
        plan.append(("search: last key (filter after 150 ms)", keys[-1], 0.45))
        plan.append(("search: cleared (Esc)", lambda: key(page.search, Qt.Key.Key_Escape), 0.45))
    for _ in range(2):
        for tab in ("dispatch", "working", "overdue", "accept"):
            plan.append((f"tab → {tab}", lambda t=tab: page.tabs.set_current_key(t), 0.15))
    for _ in range(2):
        for index in (1, 2, 0):
            plan.append(("order", lambda i=index: page.order.setCurrentIndex(i), 0.15))
    for _ in range(2):
        for box in (page.urgent_only, page.overdue_only):
            plan.append(("filter on / off", lambda b=box: b.setChecked(not b.isChecked()), 0.15))
            plan.append(("filter on / off", lambda b=box: b.setChecked(not b.isChecked()), 0.15))
    plan.append(("select next row (↓)", lambda: key(table, Qt.Key.Key_Down), 0.05))
    plan += [("select next row (↓)", lambda: key(table, Qt.Key.Key_Down), 0.05)] * 19

    await asyncio.sleep(0.3)
    beat = Heartbeat(1)
    tracer.on = True
    busy0, mine0 = machine_busy(), time.process_time()
    began = time.time()
    done: list[tuple[str, float, float, float]] = []
    for kind, action, settle in plan:
        if kind.startswith(("page", "end", "select")):
            table.setFocus()
        t0 = time.time()
        action()
        t1 = time.time()
        await asyncio.sleep(settle)
        done.append((kind, t0, t1, time.time()))
    ended = time.time()
    busy1, mine1 = machine_busy(), time.process_time()
    beat.timer.stop()
    tracer.on = False
    paints = [(start, end) for kind, start, end in tracer.spans if kind == "repaint"]
    groups = analyse_browse(done, beat.gaps, paints, rebuilds)
    over = [g for g in beat.gaps if began <= g[0] <= ended and g[1] > 16]
    doc: dict[str, Any] = {
        "groups": groups,
        "worst_ms": max((g[1] for g in beat.gaps if began <= g[0] <= ended), default=0.0),
        "over_16": len(over),
        "seconds": ended - began,
        "cpu": {
            "desk": 100 * (mine1 - mine0) / (ended - began),
            "machine": 100 * (busy1 - busy0) / (ended - began),
        },
        "gaps": over,
        "spans": [list(span) for span in tracer.spans]
        + [["refill", *r] for r in rebuilds]
        + [["operation's own handling", t0, t1] for _, t0, t1, _ in done],
        "rows": window.book.count("accept"),
        "tabs": ", ".join(f"{k} {window.book.count(k):,}" for k in page._tab_keys),
        "size": "x".join(map(str, WINDOW_SIZE)),
    }
    if opts.get("profile"):
        doc["profile"] = await _profile(plan, groups)
    conn.send(("done", doc))


def analyse_browse(
    done: list[tuple[str, float, float, float]],
    gaps: list[tuple[float, float, float, float]],
    paints: list[tuple[float, float]],
    rebuilds: list[tuple[float, float]],
) -> dict[str, dict[str, Any]]:
    """Per kind of operation: how many, time to the rows painted, rebuilds, stalls (ms).

    An operation's window runs from its action to the end of its settle time. Its rows are
    painted at the end of the first paint that starts after its action returned and after
    any rebuild in its window ended; the time counts from the action, or from the rebuild's
    start when the rebuild came later (the search's pause is the user's, not the desk's).
    A stall belongs to the window its end falls in.
    """
    out: dict[str, dict[str, Any]] = {}
    for kind, t0, t1, t2 in done:
        mine = [r for r in rebuilds if t0 <= r[0] <= t2]
        after = max([t1, *(r[1] for r in mine)])
        start = mine[0][0] if mine and mine[0][0] > t1 else t0
        paint = next((p for p in paints if p[0] >= after and p[0] <= t2), None)
        stalls = [g[1] for g in gaps if t0 <= g[0] <= t2]
        o = out.setdefault(
            kind, {"n": 0, "painted": [], "rebuilt": [], "stalls": [], "unpainted": 0}
        )
        o["n"] += 1
        if paint is not None:
            o["painted"].append((paint[1] - start) * 1000)
        else:
            o["unpainted"] += 1
        o["rebuilt"] += [(r[1] - r[0]) * 1000 for r in mine]
        o["stalls"] += stalls
    for o in out.values():
        painted, rebuilt, stalls = o.pop("painted"), o.pop("rebuilt"), o.pop("stalls")
        painted.sort()
        o["painted_p50"] = painted[len(painted) // 2] if painted else float("nan")
        o["painted_max"] = max(painted, default=float("nan"))
        o["rebuild_max"] = max(rebuilt, default=0.0)
        o["stall_max"] = max(stalls, default=0.0)
        o["stalls_over"] = sum(1 for s in stalls if s > 16)
    return out


async def _profile(
    plan: list[tuple[str, Callable[[], None], float]], groups: dict[str, Any]
) -> str:
    """cProfile the kind of operation with the longest stall, run again."""
    worst = max(groups, key=lambda k: groups[k]["stall_max"])
    profiler = cProfile.Profile()
    for kind, action, settle in plan:
        if kind != worst and not (worst.startswith("search") and kind.startswith("search")):
            continue
        profiler.enable()
        action()
        await asyncio.sleep(settle)
        profiler.disable()
    return f"({worst})\n" + profile_text(profiler)


def profile_text(profiler: cProfile.Profile, top: int = 30) -> str:
    """The profile's top functions by own time, then by cumulative time."""
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return text.getvalue()
