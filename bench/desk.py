"""The desk (中屏管, desktop/ui/desk): issue 10's three targets.

- actions: a street user's desk (菱湖街道) accepts, then dispatches, cases freshly reported
  by the background load, through the desk's own Outbox on the GUI thread, while the
  backend commits 2,000 `report`s a second across the district (the feeder of bench.fanout
  and bench.wall_backend: the writer's commit and the hub's fan-out like any command).
  Measured per action: submit → answer (the Outbox's own stamps, `Pending.made_at` →
  `Pending.answered_at`, both taken on the GUI thread when the command is made and when
  its answer is handled there; the answer is the one that turns the entry "done"), and
  submit → visible on a second client: a wall user's `Session` in a process of its own
  (it receives all 2,000 deltas a second) has applied the delta that shows the new status
  to its replica. Also: submit → the desk's own list re-filed the case (the frame's flush
  ran), GUI stalls (a 5 ms precise timer), CPU. Targets: answer p99 ≤ 50 ms, second
  client p99 ≤ 100 ms.
- cold: a backend holding 6,500 open cases in 菱湖街道 (reported over the last 24 h; a
  third accepted, a third of those dispatched), then `python -m desktop desk --server URL
  --token-file F` as that street's user, a fresh process under QT_QPA_PLATFORM=offscreen,
  timed from this process's Popen to the desk's own log line "desk usable" (the snapshot
  filed into the to-do tabs and the list's model filled) and to "screenshot saved"
  (`--screenshot-after 0`: the whole window rendered with the list's rows, and written as
  PNG). Imports from cached bytecode, as an installed application's are. Target ≤ 3 s.
- browse: a desk on 10,000 cases in one tab (待受理) pages down through the list, jumps
  the scroll bar, types searches (the filter applies after the 150 ms pause), switches
  tabs, orders and filters; a 1 ms precise timer on the GUI thread gives the longest
  stall, and each operation's time to its rows painted. Target: no stall > 16 ms.

Backend: a DispatchServer on a fresh SQLite file in a process of its own (bench.common),
users 菱湖分中心 (street) and 大屏 (wall). The Qt side is bench/desk_window.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from bench import common
from bench.desk_window import WHAT_IF

LINGHU = "340803004"  # 菱湖街道: 60 of the district's 351 grids
STREET_USER = "菱湖分中心"
TARGET_ANSWER_P99_MS = 50.0
TARGET_SEEN_P99_MS = 100.0
TARGET_COLD_S = 3.0
TARGET_STALL_MS = 16.0
PARTS = ("actions", "cold", "browse")


# ---- the backend process -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Seed:
    """Open cases to put in the desk's street before it connects: `reported` in all, of which
    `accepted` were accepted and `dispatched` of those dispatched; reported evenly over the
    last `hours`, each step 20 minutes after the one before."""

    reported: int = 0
    accepted: int = 0
    dispatched: int = 0
    hours: float = 24.0


def backend_main(conn: Connection, seed: Seed) -> None:
    """A spawned process: serve on a fresh database until told to stop (see Backend)."""
    asyncio.run(_serve(conn, seed))


async def _serve(conn: Connection, seed: Seed) -> None:
    from dispatch.server import tune_gc

    with common.database("sqlite") as url:
        store, reference = common.prepared(url)
        tokens = {
            "street": store.create_user(STREET_USER, "street", [LINGHU]),
            "wall": store.create_user("大屏", "wall"),
        }
        server = await common.started(store, reference)
        try:
            started = time.monotonic()
            seeded = await _seed(server, reference, seed)
            tune_gc()  # again: the seeded cases are the day's, as if loaded at start
            seeded["seconds"] = round(time.monotonic() - started, 1)
            conn.send(("ready", server.port, tokens, seeded))
            while True:
                message = await asyncio.to_thread(conn.recv)
                if message[0] == "stop":
                    break
                if message[0] == "load":
                    conn.send(("loaded", await _load(server, reference, *message[1:])))
        finally:
            await server.stop()
            store.close()


async def _seed(server: Any, reference: Any, seed: Seed) -> dict[str, Any]:
    """Report, accept and dispatch the seed's cases through the writer, in the past."""
    from dispatch.state import Actor
    from dispatch.writer import CommandRequest, TickRequest
    from protocol.commands import Dispatch, EventRef

    if not seed.reported:
        return {}
    writer = server.writer
    street = Actor(STREET_USER, "street", frozenset({LINGHU}))
    span = seed.hours * 3600
    now = time.time()
    first = now - span
    step = span / seed.reported
    pool = common.report_pool(reference, seed.reported, seed=10, streets=[LINGHU])
    answers = await asyncio.gather(
        *(
            writer.submit(CommandRequest(common.BENCH_ACTOR, "report", args, at=first + i * step))
            for i, args in enumerate(pool)
        )
    )
    ids = [int(a.data["event"]) for a in answers if a.ok]
    # Accepting and dispatching later in the day: spread over the same span, in time order.
    later = sorted(ids[: seed.accepted], key=lambda i: server.state.events[i].reported_at)
    for op, chosen in (("accept", later), ("dispatch", later[: seed.dispatched])):
        requests = []
        for event_id in chosen:
            event = server.state.events[event_id]
            at = min(now - 1, event.reported_at + (1200 if op == "accept" else 2400))
            if op == "accept":
                args: Any = EventRef(event=event_id)
            else:
                worker = reference.grids[event.grid].worker
                args = Dispatch(event=event_id, assignee=f"网格员 {worker}")
            requests.append((at, CommandRequest(street, op, args, at=at)))
        requests.sort(key=lambda r: r[0])
        done = await asyncio.gather(*(writer.submit(r) for _, r in requests))
        refused = [a for a in done if not a.ok]
        if refused:
            raise RuntimeError(f"seeding: {len(refused)} {op} refused: {refused[0].message}")
    # The deadline check now, not in the server's next tick: it re-files every seeded case
    # that is already late (thousands of deltas), which the desk must not meet mid-run.
    head = server.hub.head
    await writer.submit(TickRequest())
    swept = server.hub.head - head
    statuses: dict[str, int] = {}
    for event in server.state.events.values():
        statuses[event.status] = statuses.get(event.status, 0) + 1
    return {"cases": len(ids), "statuses": statuses, "swept": swept}


async def _load(
    server: Any, reference: Any, rate: int, start: float, stop: float, where: str
) -> dict[str, Any]:
    """Feed `rate` reports a second from `start` to `stop` (wall clock); commits and CPU."""
    from bench.fanout import _settled_head, produce

    streets = None
    if where == "elsewhere":
        streets = [s for s in {g.street for g in reference.grids.values()} if s != LINGHU]
    pool = common.report_pool(reference, 4096, seed=3, streets=streets)
    requests = common.report_requests(pool)
    in_street = sum(1 for r in pool if reference.grid_at(r.lon, r.lat).street == LINGHU)
    feeder = threading.Thread(
        target=produce,
        args=(server.writer, requests, rate, 0.01, start, stop),
        name="bench-feeder",
        daemon=True,
    )
    ids = common.server_threads(server, feeder=feeder)
    ids["process"] = -os.getpid()
    await asyncio.sleep(max(0.0, start - time.time()))
    head0 = server.hub.head
    feeder.start()
    ids["feeder"] = feeder.native_id
    mark0 = common.cpu_mark(ids)
    await asyncio.to_thread(feeder.join)
    mark1 = common.cpu_mark(ids)
    head = await _settled_head(server)
    _, threads = common.cpu_share(mark0, mark1)
    return {
        "rate": rate,
        "committed": head - head0,
        "seconds": stop - start,
        "in_street_share": in_street / len(pool),
        "cpu": threads,
    }


class Backend:
    """The backend process, driven over a pipe."""

    def __init__(self, seed: Seed | None = None) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=backend_main, args=(child, seed or Seed()), daemon=True)
        self.proc.start()
        child.close()
        if not self._conn.poll(600):
            raise RuntimeError("the backend did not start within 600 s")
        kind, port, self.tokens, self.seeded = self._conn.recv()
        assert kind == "ready", kind
        self.url = f"ws://127.0.0.1:{port}"

    def load(self, rate: int, start: float, stop: float, where: str) -> None:
        """Start feeding (returns at once; `loaded` waits for the outcome)."""
        self._conn.send(("load", rate, start, stop, where))

    def loaded(self) -> dict[str, Any]:
        """The last load's outcome."""
        kind, result = self._conn.recv()
        assert kind == "loaded", kind
        return result  # type: ignore[no-any-return]

    def stop(self) -> None:
        """Stop the server and the process."""
        if self.proc.is_alive():
            with contextlib.suppress(OSError):
                self._conn.send(("stop",))
            self.proc.join(20)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()


# ---- the second client: a wall user's session in a process of its own ----------------------

WATCHED = ("accepted", "dispatched")


def watcher_main(conn: Connection, url: str, token: str) -> None:
    """A spawned process: a wall user's Session; when each case first showed a WATCHED
    status in its replica (time.time() right after the delta was applied)."""
    asyncio.run(_watch(conn, url, token))


async def _watch(conn: Connection, url: str, token: str) -> None:
    from desktop.core.replica import Changes
    from desktop.core.session import Session

    seen: dict[tuple[int, str], float] = {}
    deltas = [0]

    def on_changes(changes: Changes) -> None:
        now = time.time()
        deltas[0] += 1
        events = session.replica.events
        for event_id in changes.events:
            event = events.get(event_id)
            if event is not None and event.status in WATCHED:
                seen.setdefault((event_id, event.status), now)

    session = Session(url, token, on_changes=on_changes, client="bench-wall")
    task = asyncio.ensure_future(session.run())
    await session.wait_connected()
    conn.send(("ready", len(session.replica.events)))
    await asyncio.to_thread(conn.recv)
    conn.send(("seen", [[i, s, t] for (i, s), t in seen.items()], deltas[0]))
    await session.stop()
    task.cancel()


# ---- the desk process ------------------------------------------------------------------------


def desk_process(mode: str, url: str, token: str, options: dict[str, Any]) -> Any:
    """Start bench.desk_window's scenario in a spawned process; (process, pipe)."""
    from bench import desk_window

    ctx = mp.get_context("spawn")
    conn, child = ctx.Pipe()
    proc = ctx.Process(target=desk_window.main, args=(child, mode, url, token, options))
    proc.start()
    child.close()
    return proc, conn


def _recv(conn: Connection, timeout: float, what: str) -> Any:
    if not conn.poll(timeout):
        raise RuntimeError(f"no {what} within {timeout:g} s")
    try:
        message = conn.recv()
    except EOFError:
        raise RuntimeError(f"no {what}: the process ended") from None
    if message[0] == "error":
        raise RuntimeError(f"{what}: {message[1]}")
    return message


# ---- 1. actions under load -------------------------------------------------------------------


def run_actions(args: argparse.Namespace, where: str) -> dict[str, Any]:
    """Backend, second client, desk; load at `args.rate` (`where`); the desk acts; analyse."""
    # A few hundred cases already waiting (the desk's list is not empty when it starts).
    backend = Backend(Seed(600, 0, 0, hours=2))
    procs: list[Any] = []
    try:
        ctx = mp.get_context("spawn")
        wconn, wchild = ctx.Pipe()
        watcher = ctx.Process(
            target=watcher_main, args=(wchild, backend.url, backend.tokens["wall"]), daemon=True
        )
        watcher.start()
        procs.append(watcher)
        desk, dconn = desk_process(
            "actions",
            backend.url,
            backend.tokens["street"],
            {
                "pause": args.pause,
                "backend_pid": backend.proc.pid,
                "watcher_pid": watcher.pid,
                "profile": args.profile,
                "what_if": args.what_if,
            },
        )
        procs.append(desk)
        _recv(wconn, 60, "second client's snapshot")
        _recv(dconn, 60, "desk ready")
        start = time.time() + 0.5
        measure_from = start + args.warmup
        stop = measure_from + args.duration
        backend.load(args.rate, start, stop, where)
        dconn.send(("go", measure_from, stop))
        _, desk_doc = _recv(dconn, args.warmup + args.duration + 90, "desk results")
        load = backend.loaded()
        time.sleep(1.0)  # the last deltas reach the second client
        wconn.send(("stop",))
        _, seen, wall_deltas = _recv(wconn, 30, "second client's records")
        desk.join(30)
        watcher.join(30)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.kill()
                proc.join()
        backend.stop()
    result = analyse_actions(desk_doc["entries"], seen, desk_doc["listed"])
    result.update(
        rate=args.rate,
        load=load,
        wall_deltas=wall_deltas,
        desk=desk_doc,
        where=where,
        duration=args.duration,
    )
    return result


def analyse_actions(
    entries: Sequence[Sequence[Any]],
    seen: Sequence[Sequence[Any]],
    listed: Sequence[Sequence[Any]],
) -> dict[str, Any]:
    """Per-op and overall figures (ms): submit → answer, → second client, → desk's list.

    `entries`: (event id, op, state, made_at, answered_at) of each command the desk made;
    `seen` / `listed`: (event id, status, time) of the first time the second client's
    replica / the desk's list showed the case in that status.
    """
    status_of = {"accept": "accepted", "dispatch": "dispatched"}
    wall = {(int(i), s): t for i, s, t in seen}
    desk = {(int(i), s): t for i, s, t in listed}
    out: dict[str, Any] = {"ops": {}}
    every: dict[str, list[float]] = {"answer": [], "seen": [], "listed": []}
    for op in ("accept", "dispatch"):
        mine = [e for e in entries if e[1] == op]
        done = [e for e in mine if e[2] == "done"]
        answer = np.array([(e[4] - e[3]) * 1000 for e in done])
        key = [(int(e[0]), status_of[op]) for e in done]
        on_wall = np.array(
            [(wall[k] - e[3]) * 1000 for k, e in zip(key, done, strict=True) if k in wall]
        )
        on_desk = np.array(
            [(desk[k] - e[3]) * 1000 for k, e in zip(key, done, strict=True) if k in desk]
        )
        out["ops"][op] = {
            "n": len(mine),
            "done": len(done),
            "answer": _stats(answer),
            "seen": _stats(on_wall),
            "seen_n": len(on_wall),
            "listed": _stats(on_desk),
            "listed_n": len(on_desk),
        }
        every["answer"] += list(answer)
        every["seen"] += list(on_wall)
        every["listed"] += list(on_desk)
    out["n"] = len(entries)
    out["done"] = sum(1 for e in entries if e[2] == "done")
    out["states"] = {s: sum(1 for e in entries if e[2] == s) for s in {e[2] for e in entries}}
    for name, values in every.items():
        out[name] = _stats(np.array(values))
    return out


def _stats(values: np.ndarray) -> dict[str, float]:
    if not len(values):
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan"), "n": 0}
    return {
        "p50": common.pct(values, 50),
        "p99": common.pct(values, 99),
        "max": float(values.max()),
        "n": len(values),
    }


def print_actions(r: dict[str, Any]) -> None:
    """The action tables and verdicts."""
    load = r["load"]
    desk = r["desk"]
    share = load["in_street_share"]
    print(
        f"\n1. actions under load: {load['rate']:,} reports/s "
        + (
            f"across the district ({share:.0%} of them in the desk's street)"
            if r["where"] == "district"
            else "outside the desk's street"
        )
        + f", committed {load['committed'] / load['seconds']:,.0f}/s; {r['duration']:g} s measured"
    )
    rows = []
    for op, o in r["ops"].items():
        rows.append(
            [
                op,
                f"{o['done']}/{o['n']}",
                _fmt(o["answer"]),
                _fmt(o["seen"]) + f" (n={o['seen_n']})",
                _fmt(o["listed"]) + f" (n={o['listed_n']})",
            ]
        )
    rows.append(
        ["all", f"{r['done']}/{r['n']}", _fmt(r["answer"]), _fmt(r["seen"]), _fmt(r["listed"])]
    )
    print(
        common.table(
            [
                "op",
                "done",
                "submit → answer p50 / p99 / max ms",
                "→ second client p50 / p99 / max ms",
                "→ desk's list p50 / p99 / max ms",
            ],
            rows,
        )
    )
    stalls = desk["stalls"]
    cpu = desk["cpu"]
    print(
        f"desk: worst GUI stall {stalls['worst_ms']:.0f} ms, stalls > 16 ms: "
        f"{sum(1 for g in stalls['gaps'] if g[1] > 16)}, > 50 ms: "
        f"{sum(1 for g in stalls['gaps'] if g[1] > 50)}; to-do rows at end "
        f"{desk['rows_at_end']:,} (待受理 {desk['accept_at_end']:,}); desk's deltas "
        f"{desk['deltas']:,}, second client's {r['wall_deltas']:,}"
    )
    rows = [
        [
            o["kind"],
            o["n"] or "",
            "" if o["kind"] == "none of these" else f"{o['p50']:.1f} / {o['max']:.0f}",
            f"{o['in_stalls']:.0f}",
        ]
        for o in common.where_time_went(desk["spans"], stalls["gaps"], 5.0)
    ]
    lost = sum(g[1] + 5 for g in stalls["gaps"])
    print(f"  what the GUI thread did (late ticks of stalls > 16 ms: {lost:.0f} ms in all):")
    print(common.table(["work", "n", "p50 / max ms", "ms of it in stalls > 16 ms"], rows))
    ran, waited, blocked = common.stall_split(stalls["gaps"], 5.0)
    print(
        f"  in those late ticks the GUI thread ran {ran:.0f}%, waited for a CPU "
        f"{waited:.0f}%, was blocked {blocked:.0f}%"
    )
    others = cpu["machine"] - cpu["desk"] - cpu["watcher"] - cpu["backend"]
    print(
        f"CPU (% of a core): desk process {cpu['desk']:.0f} (GUI thread {cpu['gui']:.0f}, "
        f"session thread {cpu['session']:.0f}), second client {cpu['watcher']:.0f}, backend "
        f"{cpu['backend']:.0f} (writer {load['cpu'].get('writer', 0):.0f}, loop "
        f"{load['cpu'].get('loop', 0):.0f}, feeder {load['cpu'].get('feeder', 0):.0f}); "
        f"the whole machine {cpu['machine']:.0f} of 200 (other processes {max(0, others):.0f})"
    )
    if desk.get("profile"):
        print("\ncProfile of the desk's GUI thread over the measured window:\n" + desk["profile"])
    answer, seen = r["answer"]["p99"], r["seen"]["p99"]
    print(
        f"target submit → answer p99 <= {TARGET_ANSWER_P99_MS:.0f} ms: "
        f"{'met' if answer <= TARGET_ANSWER_P99_MS else 'MISSED'} ({answer:.1f} ms)"
    )
    print(
        f"target submit → second client p99 <= {TARGET_SEEN_P99_MS:.0f} ms: "
        f"{'met' if seen <= TARGET_SEEN_P99_MS else 'MISSED'} ({seen:.1f} ms)"
    )


def _fmt(s: dict[str, float]) -> str:
    return f"{s['p50']:.1f} / {s['p99']:.1f} / {s['max']:.0f}"


# ---- 2. cold start ---------------------------------------------------------------------------


def run_cold(args: argparse.Namespace) -> dict[str, Any]:
    """`args.cold_runs` fresh desk processes against a backend holding the day's cases."""
    from bench.wall import qt_env

    seed = Seed(args.cases, args.cases // 3, args.cases // 9)
    backend = Backend(seed)
    runs = []
    try:
        time.sleep(1.5)  # the backend's first KPI recount
        env = qt_env()
        # Fill the bytecode cache first (what any earlier start of the application did).
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import qasync, desktop.app, desktop.ui.desk.app, desktop.ui.desk.window,"
                " desktop.core.link, desktop.ui.thumbnails",
            ],
            cwd=common.ROOT,
            env=env,
            check=True,
        )
        with tempfile.TemporaryDirectory(prefix="tg-desk-") as tmp:
            token_file = Path(tmp) / "street.token"
            token_file.write_text(backend.tokens["street"])
            token_file.chmod(0o600)
            for i in range(args.cold_runs):
                runs.append(cold_once(backend.url, token_file, Path(tmp) / f"desk-{i}.png", env))
                time.sleep(0.5)
    finally:
        backend.stop()
    return {"seeded": backend.seeded, "runs": runs}


def cold_once(url: str, token_file: Path, shot: Path, env: dict[str, str]) -> dict[str, Any]:
    """One desk process: seconds from Popen to its log lines, and what it said."""
    cmd = [
        sys.executable,
        "-m",
        "desktop",
        "desk",
        "--server",
        url,
        "--token-file",
        str(token_file),
        "--screenshot",
        str(shot),
        "--screenshot-after",
        "0",
    ]
    launched = time.time()
    proc = subprocess.Popen(
        cmd, cwd=common.ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    out: dict[str, Any] = {"lines": []}
    assert proc.stderr is not None
    killer = threading.Timer(60, proc.kill)
    killer.start()
    try:
        for raw in proc.stderr:
            at = time.time() - launched
            line = raw.decode(errors="replace").rstrip()
            out["lines"].append(line)
            if "desk usable" in line:
                out["usable"] = at
                out["usable_logged"] = float(line.split("desk usable")[1].split()[0])
            elif "screenshot saved" in line:
                out["rendered"] = at
        proc.wait()
        out["exited"] = time.time() - launched
    finally:
        killer.cancel()
    out["code"] = proc.returncode
    if "usable" not in out or "rendered" not in out:
        tail = "\n".join(out["lines"][-20:])
        raise RuntimeError(
            f"the desk did not report usable / rendered (exit {proc.returncode}):\n{tail}"
        )
    out["png_bytes"] = shot.stat().st_size if shot.exists() else 0
    del out["lines"]
    return out


def print_cold(r: dict[str, Any]) -> None:
    """The cold-start table and verdict."""
    seeded = r["seeded"]
    statuses = ", ".join(f"{k} {v:,}" for k, v in sorted(seeded["statuses"].items()))
    print(
        f"\n2. cold start: {seeded['cases']:,} open cases in the desk's street ({statuses}; "
        f"seeded in {seeded['seconds']} s), `python -m desktop desk --server … --token-file …` "
        "under QT_QPA_PLATFORM=offscreen, seconds from Popen:"
    )
    rows = [
        [
            f"run {i + 1}",
            f"{o['usable']:.2f}",
            f"{o['usable_logged']:.2f}",
            f"{o['rendered']:.2f}",
            f"{o['exited']:.2f}",
        ]
        for i, o in enumerate(r["runs"])
    ]
    print(
        common.table(
            [
                "",
                '"desk usable" logged (s)',
                "(the desk's own figure, from run())",
                "window rendered with rows, PNG saved (s)",
                "process exited (s)",
            ],
            rows,
        )
    )
    usable = float(np.median([o["usable"] for o in r["runs"]]))
    rendered = float(np.median([o["rendered"] for o in r["runs"]]))
    print(
        f"target cold start <= {TARGET_COLD_S:.0f} s: "
        f"{'met' if max(usable, rendered) <= TARGET_COLD_S else 'MISSED'} (median usable "
        f"{usable:.2f} s, rendered {rendered:.2f} s)"
    )


# ---- 3. browsing 10,000 cases ----------------------------------------------------------------


def run_browse(args: argparse.Namespace) -> dict[str, Any]:
    """A desk on `args.tab_cases` cases in 待受理 (and a few hundred in the other tabs)."""
    seed = Seed(args.tab_cases + 1200, 1200, 600)
    backend = Backend(seed)
    try:
        time.sleep(1.0)
        desk, conn = desk_process(
            "browse",
            backend.url,
            backend.tokens["street"],
            {"pages": args.pages, "profile": args.profile, "what_if": args.what_if},
        )
        try:
            _, doc = _recv(conn, 240, "browse results")
            desk.join(30)
        finally:
            if desk.is_alive():
                desk.kill()
                desk.join()
    finally:
        backend.stop()
    doc["seeded"] = backend.seeded
    return doc  # type: ignore[no-any-return]


def print_browse(r: dict[str, Any]) -> None:
    """Per-operation figures and the verdict."""
    print(
        f"\n3. browsing: {r['rows']:,} cases in 待受理 ({r['tabs']}), window "
        f"{r['size']}; a 1 ms precise timer on the GUI thread:"
    )
    rows = []
    for name, o in r["groups"].items():
        rows.append(
            [
                name,
                o["n"],
                f"{o['painted_p50']:.1f} / {o['painted_max']:.1f}"
                + (f" ({o['unpainted']} unpainted)" if o["unpainted"] else ""),
                f"{o['rebuild_max']:.1f}" if o["rebuild_max"] else "-",
                f"{o['stall_max']:.1f}",
                o["stalls_over"],
            ]
        )
    print(
        common.table(
            [
                "operation",
                "n",
                "to rows painted p50 / max ms",
                "rows refilled max ms",
                "longest stall ms",
                "stalls > 16 ms",
            ],
            rows,
        )
    )
    rows = [
        [
            o["kind"],
            o["n"] or "",
            "" if o["kind"] == "none of these" else f"{o['p50']:.1f} / {o['max']:.0f}",
            f"{o['in_stalls']:.0f}",
        ]
        for o in common.where_time_went(r["spans"], r["gaps"], 1.0)
    ]
    print(common.table(["work", "n", "p50 / max ms", "ms of it in stalls > 16 ms"], rows))
    worst = r["worst_ms"]
    ran, waited, _ = common.stall_split(r["gaps"], 1.0)
    print(
        f"over the whole run ({r['seconds']:.0f} s): worst stall {worst:.1f} ms, "
        f"{r['over_16']} stalls > 16 ms (in their late ticks the GUI thread ran {ran:.0f}%, "
        f"waited for a CPU {waited:.0f}%); CPU: the desk process {r['cpu']['desk']:.0f}% of a "
        f"core, the whole machine {r['cpu']['machine']:.0f} of 200"
    )
    print(
        f"target no GUI stall > {TARGET_STALL_MS:.0f} ms: "
        f"{'met' if worst <= TARGET_STALL_MS else 'MISSED'} ({worst:.1f} ms)"
    )
    if r.get("profile"):
        print("\nprofile of the slowest operation kind:\n" + r["profile"])


# ---- main ------------------------------------------------------------------------------------


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench.desk", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter windows (~2.5 min)")
    parser.add_argument("--only", action="append", choices=PARTS, help="one part (repeatable)")
    parser.add_argument("--rate", type=int, default=2000, help="background reports/s")
    parser.add_argument(
        "--load",
        action="append",
        choices=("district", "elsewhere"),
        help="background reports across the district (the desk's street gets its share: the"
        " list changes every frame) or only outside the desk's street (the desk sees its own"
        " actions only); repeatable; default: district, then elsewhere (--quick: district)",
    )
    parser.add_argument("--duration", type=float, help="measured seconds of actions")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument(
        "--pause",
        type=float,
        default=0.15,
        help="seconds between a case brought up and each action",
    )
    parser.add_argument("--cases", type=int, default=6500, help="open cases for the cold start")
    parser.add_argument("--cold-runs", type=int)
    parser.add_argument("--tab-cases", type=int, default=10_000)
    parser.add_argument("--pages", type=int, help="page-downs through the list")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile the desk's GUI thread (actions: the measured window; browse: the"
        " slowest kind of operation, run again)",
    )
    parser.add_argument(
        "--what-if",
        action="append",
        default=[],
        choices=sorted(WHAT_IF),
        help="patch the desk process of the actions and browse parts (bench.desk_window.WHAT_IF)",
    )
    args = parser.parse_args(argv)
    args.only = args.only or list(PARTS)
    args.load = args.load or (["district"] if args.quick else ["district", "elsewhere"])
    args.duration = args.duration or (20.0 if args.quick else 60.0)
    args.cold_runs = args.cold_runs or (2 if args.quick else 3)
    args.pages = args.pages or (60 if args.quick else 150)
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the chosen parts; print their figures and the command that reproduces them."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse(argv)
    started = time.monotonic()
    print(f"desk: {', '.join(args.only)} (offscreen Qt)", flush=True)
    for name in args.what_if:
        print(f"  WHAT-IF {name}: {WHAT_IF[name]}")
    out: dict[str, Any] = {}
    if "actions" in args.only:
        out["actions"] = []
        for where in args.load:
            out["actions"].append(run_actions(args, where))
            print_actions(out["actions"][-1])
    if "cold" in args.only:
        out["cold"] = run_cold(args)
        print_cold(out["cold"])
    if "browse" in args.only:
        out["browse"] = run_browse(args)
        print_browse(out["browse"])
    print(f"\ndesk benchmark took {time.monotonic() - started:.0f} s")
    print(f"reproduce: {common.reproduce('bench.desk', argv)}")
    return out


if __name__ == "__main__":
    from bench.desk import main as _main

    print("machine:")
    common.print_machine()
    print()
    _main()
