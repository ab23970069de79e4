"""The wall display (desktop/): event-to-screen latency, GUI stalls, cold start, memory.

Three processes: the backend (bench.wall_backend: `dispatch demo` on SQLite with a feeder
and commit timing), the window (bench.wall_window: `python -m desktop --server ...` under
offscreen Qt, with timing hooks swapped in from the bench side) and this one, which only
starts them and analyses what they wrote. See those two modules for what is hooked.

- latency: `report`s at 100/s, then 2,000/s (3 s warm-up, 20 s measured each), committed by
  the backend's writer and fanned out to the window. Latency = end of the first paint of
  the queue's viewport after the flush that put the event's row in the queue - the time
  `Store.commit` returned in the backend. Every new open event counts (the queue shows
  them all); "on screen" are those whose row was inside the viewport at that paint.
  Stalls: a 5 ms precise QTimer on the GUI thread, the largest gap beyond 5 ms over the
  2,000/s window.
- cold: a data set of ~20,000 events (the simulator's day at 20,000 events/day, replayed
  over the last 24 h: made once, cached in .cache/bench/ for 6 h), served by a fresh
  backend; from this process's launch of the window process to its first full frame: the
  queue's first paint holding the snapshot's rows and the map's first full batch applied
  (window.tg.counts() in the page shows every area and marker of the batch). Imports use
  cached bytecode, as an installed application's do.
- enter: Enter → complete wall, as an operator starts it: `./tg run --data DIR` (its
  setup check, the interpreter, the embedded backend loading the data set, the window), on a
  warm machine (a first, uncounted run: the setup stamp current, bytecode compiled, the
  files in the page cache, the day caught up to now). From this process's launch of `./tg`
  to the wall complete: the snapshot in every panel, the figures whole (the backend no
  longer catching up), the map's whole batch applied in its page (the wall's own
  `--report-start` marks, wall-clock, in the same process tree).
- memory: the window on a backend whose simulator runs a day in 60 s (--speed 1440):
  RSS of the window process and of its QtWebEngine helpers, the page's JS heap, the
  replica's size, every 2 s.

`--what-if NAME` applies a runtime patch in the window process only (see
bench.wall_window.WHAT_IF), to measure a suggested change before anyone makes it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench import common
from bench.common import FLAT, second_half_trend
from bench.wall_window import WHAT_IF
from desktop.core.backend import EmbeddedBackend

# Issue 11's targets.
TARGET_P99_MS = 33.0  # at 2,000 events/s
TARGET_P50_MS = 10.0  # at 100 events/s
TARGET_STALL_MS = 16.0  # the longest GUI stall at 2,000 events/s
TARGET_COLD_S = 3.0
TARGET_ENTER_S = 3.0  # from the Enter key (the launch of ./tg run) to the complete wall
PARTS = ("latency", "cold", "enter", "memory", "playback")
CACHE = common.ROOT / ".cache" / "bench"
CACHE_MAX_AGE = 6 * 3600  # settled events leave the backend's memory after 36 h
WINDOW_SIZE = "1920x1080"
PYCACHE = CACHE / "pycache"


# ---- processes -----------------------------------------------------------------------------


class BenchBackend(EmbeddedBackend):
    """The embedded backend's own launcher, running bench.wall_backend instead of dispatch."""

    def command(self) -> list[str]:
        """`python -m bench.wall_backend demo ...` (the same arguments)."""
        cmd = super().command()
        cmd[cmd.index("dispatch")] = "bench.wall_backend"
        return cmd


def start_backend(
    data: Path, args: Sequence[str] = (), env: dict[str, str] | None = None
) -> tuple[BenchBackend, str]:
    """Start a backend on `data`; its URL once it listens."""
    backend = BenchBackend(data, args=args, env=env)
    backend.start()
    try:
        url, _token = asyncio.run(backend.wait_ready(180))
    except Exception:
        backend.stop()
        raise
    return backend, url


def qt_env(mode: str = "", js_gc: bool = False) -> dict[str, str]:
    """Offscreen Qt; Chromium without its sandbox (we may run as root); bytecode cached.

    An installed application imports from cached bytecode; a shell with
    PYTHONDONTWRITEBYTECODE=1 would make every window compile ~400 modules from source
    (+1.2 s at start-up). The cache goes to .cache/bench/pycache, not into the source tree.
    """
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    if mode == "memory":
        # performance.memory is otherwise rounded and refreshed every 20 minutes.
        flags = env.get("QTWEBENGINE_CHROMIUM_FLAGS", "") + " --enable-precise-memory-info"
        if js_gc:  # window.gc(): each sample first collects the page's garbage
            flags += " --js-flags=--expose-gc"
        env["QTWEBENGINE_CHROMIUM_FLAGS"] = flags.strip()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(common.ROOT), env.get("PYTHONPATH")]))
    return env


def run_window(
    mode: str,
    workdir: Path,
    url: str,
    token_file: Path,
    options: Sequence[str],
    timeout: float,
    tag: str = "",
    extra_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run the window process to the end of its scenario; its result document."""
    result = workdir / f"window-{mode}{tag}.json"
    log_path = workdir / f"window-{mode}{tag}.log"
    result.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "bench.wall_window",
        mode,
        "--result",
        str(result),
        *options,
        "--",
        "--server",
        url,
        "--token-file",
        str(token_file),
        "--size",
        WINDOW_SIZE,
    ]
    launched = time.time()
    if mode == "cold":
        cmd[4:4] = ["--launched-at", repr(launched)]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=common.ROOT,
            env={**qt_env(mode, js_gc="--js-gc" in options), **(extra_env or {})},
        )
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise RuntimeError(
                f"window process timed out after {timeout:g} s ({log_path})"
            ) from None
    if not result.exists():
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-25:])
        raise RuntimeError(f"window process wrote no result (exit {proc.returncode}):\n{tail}")
    doc: dict[str, Any] = json.loads(result.read_text())
    if "error" in doc:
        raise RuntimeError(f"window process failed: {doc['error']}\n{doc.get('trace', '')}")
    return doc


def token_file(data: Path) -> Path:
    """The demo wall user's token, as the embedded backend writes it."""
    return data / "tokens" / "demo-wall.token"


# ---- latency and stalls --------------------------------------------------------------------


def run_latency(args: argparse.Namespace, workdir: Path) -> list[dict[str, Any]]:
    """`--repeat` runs, each on a fresh backend and window; every rate's results, run by run."""
    results = []
    for run in range(1, args.repeat + 1):
        for result in _latency_run(args, workdir / f"run-{run}"):
            result["run"] = run
            results.append(result)
    return results


def _latency_run(args: argparse.Namespace, workdir: Path) -> list[dict[str, Any]]:
    """Feed each rate, measure in the window, analyse against the backend's commit times."""
    workdir.mkdir(parents=True, exist_ok=True)
    data = workdir / "latency"
    backend_env = window_env = None
    if args.split_cores:
        backend_env = {**os.environ, "TG_BENCH_CPUS": "1"}
        window_env = {"TG_BENCH_CPUS": "0"}
    backend, url = start_backend(data, ["--no-warm-up"], env=backend_env)
    try:
        options = [
            "--data",
            str(data),
            "--backend-pid",
            str(backend.pid),
            "--rates",
            args.rates,
            "--duration",
            str(args.duration),
            "--warmup",
            str(args.warmup),
        ]
        if args.profile:
            options += ["--profile", "--profile-out", str(workdir / "wall-gui.prof")]
        for name in args.what_if:
            options += ["--what-if", name]
        if args.py_spy:
            options += ["--py-spy", args.py_spy, "--py-spy-out", str(workdir / "wall-py-spy.txt")]
        rates = [r for r in args.rates.split(",") if r]
        timeout = 90 + len(rates) * (args.duration + args.warmup + 40)
        doc = run_window(
            "latency", workdir, url, token_file(data), options, timeout, extra_env=window_env
        )
    finally:
        backend.stop()
    return [analyse_phase(p) for p in doc["phases"]]


def _ms(values: np.ndarray, q: float) -> float:
    return common.pct(values, q) * 1000


def analyse_phase(phase: dict[str, Any]) -> dict[str, Any]:
    """Latency percentiles (all, on screen, per stage), stalls, flush costs, CPU."""
    backend = phase["backend"]
    commits = np.array(backend["commits"], dtype=np.float64).reshape(-1, 3)
    lo, hi = phase["measure_from"], phase["stop"]
    first = commits[:, 0].astype(np.int64)
    counts = commits[:, 1].astype(np.int64)
    base = int(first.min()) if len(first) else 0
    top = int((first + counts).max()) if len(first) else 0
    commit_at = np.full(top - base + 1, np.nan)
    for f, n, t in zip(first, counts, commits[:, 2], strict=True):
        commit_at[f - base : f - base + n] = t
    committed_in_window = int(((commit_at >= lo) & (commit_at <= hi)).sum())

    cols = ["id", "seq", "at", "received", "flush0", "flush1", "paint0", "paint1", "on_screen"]
    rec = np.array(phase["records"], dtype=np.float64).reshape(-1, len(cols))
    r = {name: rec[:, i] for i, name in enumerate(cols)}
    seq = r["seq"].astype(np.int64)
    known = (seq >= base) & (seq <= top)
    commit = np.full(len(seq), np.nan)
    commit[known] = commit_at[seq[known] - base]
    keep = (commit >= lo) & (commit <= hi)
    lat = r["paint1"][keep] - commit[keep]
    screen = r["on_screen"][keep] > 0

    flushes = np.array(phase["flushes"], dtype=np.float64).reshape(-1, 3)
    in_win = (flushes[:, 0] >= lo) & (flushes[:, 0] <= hi)
    flush_ms = (flushes[in_win, 1] - flushes[in_win, 0]) * 1000
    maps = np.array(phase["map_flushes"], dtype=np.float64).reshape(-1, 3)
    map_ms = (
        maps[(maps[:, 0] >= lo) & (maps[:, 0] <= hi), 1]
        - maps[(maps[:, 0] >= lo) & (maps[:, 0] <= hi), 0]
    ) * 1000
    paints = np.array(phase["paints"], dtype=np.float64).reshape(-1, 2)
    paints_in = int(((paints[:, 0] >= lo) & (paints[:, 0] <= hi)).sum())

    cpu0, cpu1 = phase["cpu"]
    wall = cpu1["wall"] - cpu0["wall"]
    cpu = {k: 100 * (cpu1[k] - cpu0[k]) / wall for k in cpu0 if k != "wall"}
    (bw0, bcpu0), (bw1, bcpu1) = backend["cpu"]
    backend_threads = {k: 100 * (bcpu1[k] - bcpu0[k]) / (bw1 - bw0) for k in bcpu0}
    stalls = phase["stalls"]
    return {
        "rate": phase["rate"],
        "profiled": phase["profiled"],
        "achieved": committed_in_window / (hi - lo),
        "committed": committed_in_window,
        "counted": int(keep.sum()),
        "unpainted": phase["unpainted"],
        "p50": _ms(lat, 50),
        "p99": _ms(lat, 99),
        "max": float(lat.max() * 1000) if len(lat) else float("nan"),
        "screen_n": int(screen.sum()),
        "screen_p50": _ms(lat[screen], 50),
        "screen_p99": _ms(lat[screen], 99),
        "to_session_p50": _ms((r["received"] - commit)[keep], 50),
        "to_session_p99": _ms((r["received"] - commit)[keep], 99),
        "to_flush_p50": _ms((r["flush1"] - r["received"])[keep], 50),
        "to_flush_p99": _ms((r["flush1"] - r["received"])[keep], 99),
        "to_paint_p50": _ms((r["paint1"] - r["flush1"])[keep], 50),
        "to_paint_p99": _ms((r["paint1"] - r["flush1"])[keep], 99),
        "at_before_commit_ms": _ms((commit - r["at"])[keep], 50),
        "flushes": int(in_win.sum()),
        "flush_p50": common.pct(flush_ms, 50),
        "flush_p99": common.pct(flush_ms, 99),
        "flush_max": float(flush_ms.max()) if len(flush_ms) else float("nan"),
        "map_flushes": len(map_ms),
        "map_p50": common.pct(map_ms, 50),
        "map_max": float(map_ms.max()) if len(map_ms) else float("nan"),
        "paints": paints_in,
        "stall_ms": stalls["worst_ms"],
        "stalls_over_50": sum(1 for g in stalls["gaps"] if g[1] > 50),
        "stall_split": common.stall_split(stalls["gaps"], 5.0),
        "where": common.where_time_went(
            [
                *(("queue flush", s, e) for s, e, _ in phase["flushes"]),
                *(("map batch", s, e) for s, e, _ in phase["map_flushes"]),
                *(("queue paint", s, e) for s, e in phase["paints"]),
                *phase.get("spans", []),
            ],
            [g for g in stalls["gaps"] if lo <= g[0] <= hi],
            5.0,
        ),
        "stalls_over_16": len(stalls["gaps"]),
        # The stalls the GUI thread's own work made (it ran > 16 ms of the tick), load apart.
        "busy_stalls": sorted((g[2] for g in stalls["gaps"] if g[2] > 16.0), reverse=True),
        "timer_ticks": stalls["ticks"],
        "cpu": cpu,
        "backend_threads": backend_threads,
        "queue_rows": phase["queue_rows"],
        "profile": phase.get("profile", ""),
    }


def median_of(results: list[dict[str, Any]], rate: int, key: str) -> float:
    """The median of one figure over the runs at a rate."""
    return float(np.median([o[key] for o in results if o["rate"] == rate]))


def print_latency(results: list[dict[str, Any]], duration: float) -> None:
    """The latency and stall tables and the verdicts."""
    runs = len({o["run"] for o in results})
    rows = []
    for o in results:
        rows.append(
            [
                (f"run {o['run']}: " if runs > 1 else "")
                + f"{o['rate']:,}"
                + (" (profiled)" if o["profiled"] else ""),
                f"{o['achieved']:,.0f}",
                f"{o['counted']:,}" + (f" ({o['unpainted']} unpainted)" if o["unpainted"] else ""),
                f"{o['p50']:.1f}",
                f"{o['p99']:.1f}",
                f"{o['max']:.0f}",
                f"{o['screen_n']:,}: {o['screen_p50']:.1f} / {o['screen_p99']:.1f}",
                f"{o['to_session_p50']:.0f}/{o['to_session_p99']:.0f} · "
                f"{o['to_flush_p50']:.0f}/{o['to_flush_p99']:.0f} · "
                f"{o['to_paint_p50']:.0f}/{o['to_paint_p99']:.0f}",
                f"{o['queue_rows']:,}",
            ]
        )
    print(f"\nevent-to-screen latency ({duration:g} s measured per rate):")
    print(
        common.table(
            [
                "events/s",
                "committed/s",
                "events counted",
                "p50 ms",
                "p99 ms",
                "max ms",
                "on screen: n, p50 / p99 ms",
                "p50/p99 ms: commit→session · →flushed · →painted",
                "queue rows at end",
            ],
            rows,
        )
    )
    rows = []
    for o in results:
        c, b = o["cpu"], o["backend_threads"]
        rows.append(
            [
                (f"run {o['run']}: " if runs > 1 else "") + f"{o['rate']:,}",
                f"{o['stall_ms']:.0f}",
                f"{o['stalls_over_50']} / {o['stalls_over_16']}",
                "{:.0f} / {:.0f} / {:.0f}".format(*o["stall_split"]),
                f"{o['flushes']} ({o['flush_p50']:.1f} / {o['flush_p99']:.1f}"
                f" / {o['flush_max']:.0f})",
                f"{o['map_flushes']} ({o['map_p50']:.1f} / {o['map_max']:.0f})",
                f"{o['paints']}",
                f"{c['gui']:.0f}% / {c['window']:.0f}% / {c['webengine']:.0f}%",
                f"{c.get('backend', 0):.0f}%"
                f" ({b['loop']:.0f} / {b['writer']:.0f} / {b['feeder']:.0f})",
            ]
        )
    print("\nGUI thread and CPU over the same windows:")
    print(
        common.table(
            [
                "events/s",
                "worst stall ms",
                "stalls > 50 / > 16 ms",
                "in stalls > 16 ms: % ran / waited for CPU / blocked",
                "queue flushes (p50 / p99 / max ms)",
                "map batches (p50 / max ms)",
                "queue paints",
                "GUI thread / window proc / WebEngine CPU",
                "backend CPU (loop / writer / feeder)",
            ],
            rows,
        )
    )
    for o in results:
        busy = o["busy_stalls"]
        print(
            f"\nat {o['rate']:,}/s, ticks in which the GUI thread itself ran > 16 ms: {len(busy)}"
            + (f" (ran {', '.join(f'{b:.0f}' for b in busy[:8])} ms)" if busy else "")
        )
        lost = sum(row["in_stalls"] for row in o["where"] if row["kind"] == "none of these")
        print(
            f"\nwhere the time of the stalls > 16 ms went at {o['rate']:,}/s"
            f" (ms of stall time each kind overlapped; {lost:.0f} ms covered by none):"
        )
        print(
            common.table(
                ["GUI-thread work", "n", "p50 ms", "max ms", "ms in stalls"],
                [
                    [
                        r["kind"],
                        r["n"],
                        f"{r['p50']:.1f}",
                        f"{r['max']:.0f}",
                        f"{r['in_stalls']:.0f}",
                    ]
                    for r in o["where"]
                ],
            )
        )
    if runs > 1:
        print(f"\nmedian of {runs} runs:")
        print(
            common.table(
                ["events/s", "p50 ms", "p99 ms", "worst stall ms", "p99 of each run"],
                [
                    [
                        f"{rate:,}",
                        f"{median_of(results, rate, 'p50'):.1f}",
                        f"{median_of(results, rate, 'p99'):.1f}",
                        f"{median_of(results, rate, 'stall_ms'):.0f}",
                        " / ".join(f"{o['p99']:.0f}" for o in results if o["rate"] == rate),
                    ]
                    for rate in sorted({o["rate"] for o in results})
                ],
            )
        )
    top = [o for o in results if o["rate"] == 2000 and not o["profiled"]]
    if top:
        p99 = median_of(top, 2000, "p99")
        worst = median_of(top, 2000, "stall_ms")
        unpainted = any(o["unpainted"] for o in top)
        lat = "met" if p99 <= TARGET_P99_MS and not unpainted else "MISSED"
        stall = "met" if worst <= TARGET_STALL_MS else "MISSED"
        of = f", median of {len(top)} runs" if len(top) > 1 else ""
        print(f"\ntarget p99 <= {TARGET_P99_MS:.0f} ms at 2,000 events/s: {lat} ({p99:.1f} ms{of})")
        print(
            f"target GUI stall <= {TARGET_STALL_MS:.0f} ms at 2,000 events/s: {stall}"
            f" ({worst:.0f} ms{of})"
        )
    calm = [o for o in results if o["rate"] == 100 and not o["profiled"]]
    if calm:
        p50 = median_of(calm, 100, "p50")
        verdict = "met" if p50 <= TARGET_P50_MS else "MISSED"
        print(f"target p50 <= {TARGET_P50_MS:.0f} ms at 100 events/s: {verdict} ({p50:.1f} ms)")
    for o in results:
        if o["profile"]:
            print(f"\ncProfile of the GUI thread at {o['rate']:,}/s (measured window):")
            print(o["profile"])


# ---- cold start ----------------------------------------------------------------------------


def dataset(events: int) -> Path:
    """A data dir holding about `events` events (the simulator's day), made once and cached."""
    folder = CACHE / f"wall-{events}"
    stamp = folder / "bench-warmed.json"
    if stamp.exists() and time.time() - stamp.stat().st_mtime < CACHE_MAX_AGE:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"  preparing the data set ({events:,} events over the last 24 h; cached in {folder})")
    started = time.monotonic()
    backend, _url = start_backend(
        folder,
        env={"TG_BENCH_REPLAY_HOURS": "24", "TG_BENCH_DAILY_EVENTS": str(events)},
    )
    try:
        deadline = time.monotonic() + 600
        while not stamp.exists():
            if time.monotonic() > deadline or not backend.running:
                raise RuntimeError(f"data set not ready: {backend.log_tail()}")
            time.sleep(0.5)
    finally:
        backend.stop()
    made = json.loads(stamp.read_text())
    print(
        f"  made in {time.monotonic() - started:.0f} s: {made['events']:,} events, "
        f"{made['alerts']:,} alerts, log head {made['head']:,}"
    )
    return folder


COLD_STEPS = [
    ("process started", "process_started_at"),
    ("bench.wall_window runs (interpreter up)", "main"),
    ("imports done (PySide6, QtWebEngine, desktop)", "imports"),
    ("QApplication, loop; WallWindow() starts", "window init"),
    ("WallWindow built", "window built"),
    ("window shown", "window shown"),
    ("welcome received", "welcome"),
    ("units received / applied", "units received", "units applied"),
    ("snapshot received / applied", "snapshot received", "snapshot applied"),
    ("models filled (first flush)", "models filled"),
    ("queue painted with the snapshot", "queue painted"),
    ("WebEngine page ready", "map page ready"),
    ("map full batch sent", "map full batch sent"),
    ("map batch applied (tg.counts)", "map batch applied"),
    ("all markers in the cluster", "map clustered"),
]


def backend_on_copy(args: argparse.Namespace, data: Path) -> tuple[Path, BenchBackend, str]:
    """A backend (`--no-warm-up`) serving a fresh copy of the cached data set in `data`."""
    shutil.copytree(dataset(args.events), data)
    for stale in data.glob("backend-*.ready.json"):
        stale.unlink()
    backend, url = start_backend(data, ["--no-warm-up"])
    return data, backend, url


def run_cold(args: argparse.Namespace, workdir: Path) -> list[dict[str, Any]]:
    """Launch the window `args.cold_runs` times against a backend serving the data set."""
    data, backend, url = backend_on_copy(args, workdir / "cold")
    runs = []
    try:
        time.sleep(2.0)  # the backend's first KPI recount over 20,000 events
        # Fill the bytecode cache first (what any earlier start of the application did).
        subprocess.run(
            [sys.executable, "-c", "import bench.wall_window as w; w.import_desktop()"],
            cwd=common.ROOT,
            env=qt_env(),
            check=True,
        )
        options = [f"--what-if={name}" for name in args.what_if]
        if args.profile:
            options += ["--profile", "--profile-out", str(workdir / "wall-cold.prof")]
        for i in range(args.cold_runs):
            doc = run_window("cold", workdir, url, token_file(data), options, 90, tag=f"-{i}")
            runs.append(doc)
            time.sleep(1.0)
    finally:
        backend.stop()
    return runs


def cold_times(doc: dict[str, Any]) -> dict[str, float]:
    """Seconds from the launch to each mark."""
    t0 = doc["launched_at"]
    marks = dict(doc["marks"])
    marks["process_started_at"] = doc["process_started_at"]
    times = {k: v - t0 for k, v in marks.items()}
    if "queue painted" in times and "map batch applied" in times:
        times["first full frame"] = max(times["queue painted"], times["map batch applied"])
    return times


def print_cold(runs: list[dict[str, Any]]) -> None:
    """The start-up split per run and the verdict on the median."""
    all_times = [cold_times(d) for d in runs]
    headers = ["step", *(f"run {i + 1} s" for i in range(len(runs)))]
    rows = []
    for label, *keys in COLD_STEPS:
        cells = []
        for times in all_times:
            cells.append(" / ".join(f"{times[k]:.2f}" if k in times else "-" for k in keys))
        rows.append([label, *cells])
    rows.append(
        [
            "**first full frame** (queue painted and map batch applied)",
            *(f"**{t.get('first full frame', float('nan')):.2f}**" for t in all_times),
        ]
    )
    first = runs[0]
    c = first["counts"]
    print(
        f"\ncold start: snapshot of {first['snapshot_events']:,} events "
        f"({first['open_events']:,} open; {c.get('snapshot_bytes', 0) / 1e6:.1f} MB), "
        f"queue {c.get('queue_rows', 0):,} rows, map {c.get('map_final', {})}"
    )
    print(common.table(headers, rows))
    frames = [t.get("first full frame", float("nan")) for t in all_times]
    median = float(np.median(frames))
    verdict = "met" if median <= TARGET_COLD_S else "MISSED"
    print(f"\ntarget cold start <= {TARGET_COLD_S:.0f} s: {verdict} (median {median:.2f} s)")
    if c.get("profile"):
        print("\ncProfile of the window process, from main() to the first full frame (run 1):")
        print(c["profile"])


# ---- Enter to the complete wall ------------------------------------------------------------

ENTER_STEPS = [
    ("./tg started (its process becomes the wall: exec)", "process started"),
    ("window shown (loading state)", "window shown"),
    ("embedded backend ready", "backend ready"),
    ("snapshot in every panel", "snapshot shown"),
    ("figures whole (backend caught up)", "figures whole"),
    ("map's whole batch sent", "map sent"),
]


def run_enter(args: argparse.Namespace, workdir: Path) -> list[dict[str, Any]]:
    """`./tg run` on a copy of the data set, `args.enter_runs` times after an uncounted one."""
    source = dataset(args.events)
    data = workdir / "enter"
    shutil.copytree(source, data)
    for stale in data.glob("backend-*.ready.json"):
        stale.unlink()
    report = workdir / "enter-start.json"
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    env["TONGGUAN_CACHE"] = str(workdir / "enter-cache")  # the wall's own cache, kept warm
    command = [
        str(common.ROOT / "tg"),
        "run",
        "--data",
        str(data),
        "--size",
        WINDOW_SIZE,
        "--report-start",
        str(report),
    ]
    runs = []
    for index in range(args.enter_runs + 1):
        report.unlink(missing_ok=True)
        log_path = workdir / f"enter-{index}.log"
        launched = time.time()
        with log_path.open("wb") as log:
            code = subprocess.run(
                command, cwd=common.ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=600
            ).returncode
        if not report.exists():
            tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-25:])
            raise RuntimeError(f"./tg run wrote no start-up report (exit {code}):\n{tail}")
        doc: dict[str, Any] = json.loads(report.read_text())
        doc["launched_at"] = launched
        doc["exited"] = time.time()
        if index:  # the first run only warmed the machine up
            runs.append(doc)
        time.sleep(2.0)
    return runs


def enter_times(doc: dict[str, Any]) -> dict[str, float]:
    """Seconds from the launch of ./tg to each mark."""
    t0 = doc["launched_at"]
    times = {name: at - t0 for name, at in doc["marks"].items()}
    times["process started"] = doc["process_started"] - t0
    return times


def print_enter(runs: list[dict[str, Any]]) -> None:
    """The path from Enter to the complete wall per run, and the verdict on the median."""
    all_times = [enter_times(d) for d in runs]
    headers = ["step (s since Enter)", *(f"run {i + 1}" for i in range(len(runs)))]
    rows = [
        [label, *(f"{t[key]:.2f}" if key in t else "-" for t in all_times)]
        for label, key in ENTER_STEPS
    ]
    rows.append(
        [
            "**wall complete** (every panel, whole figures, the map drawn)",
            *(f"**{t.get('wall complete', float('nan')):.2f}**" for t in all_times),
        ]
    )
    print("\nEnter → complete wall: `./tg run --data <a day of data>` on a warm machine")
    print(common.table(headers, rows))
    median = float(np.median([t.get("wall complete", float("nan")) for t in all_times]))
    verdict = "met" if median <= TARGET_ENTER_S else "MISSED"
    print(
        f"\ntarget Enter → complete wall <= {TARGET_ENTER_S:.0f} s: {verdict}"
        f" (median {median:.2f} s)"
    )


# ---- memory --------------------------------------------------------------------------------


def run_memory(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """The window on a fast simulated day; RSS samples."""
    data = workdir / "memory"
    backend, url = start_backend(data, ["--no-warm-up", "--speed", str(args.mem_speed)])
    try:
        options = ["--speed", str(args.mem_speed), "--days", str(args.mem_days), "--every", "2"]
        if args.mem_js_gc:
            options.append("--js-gc")
        options += [f"--what-if={name}" for name in args.what_if]
        timeout = 120 + 1.6 * args.mem_days * 86400 / args.mem_speed
        return run_window("memory", workdir, url, token_file(data), options, timeout)
    finally:
        backend.stop()


def run_playback(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """The window against a backend serving the data set's day: 复盘 at --play-speed."""
    data, backend, url = backend_on_copy(args, workdir / "playback")
    try:
        options = [
            "--duration",
            str(args.duration),
            "--play-speed",
            str(args.play_speed),
            "--hours",
            str(args.play_hours),
            "--backend-pid",
            str(backend.pid),
        ]
        return run_window("playback", workdir, url, token_file(data), options, 300)
    finally:
        backend.stop()


def print_playback(doc: dict[str, Any]) -> None:
    """The playback's figures: stalls while playing, what was applied, how far behind."""
    stalls = doc["stalls"]
    gaps = stalls["gaps"]
    ran, waited, other = common.stall_split(gaps, 5.0)
    own = sum(1 for g in gaps if g[2] > 16.0)
    played = doc["played_s"]
    print(
        f"\n复盘 playback at {doc['speed']:,.0f}x for {played:.1f} s "
        f"(F8 in: {doc['enter_s']:.2f} s; seek {doc['seek_s']:.2f} s):"
    )
    print(
        common.table(
            ["", "value"],
            [
                ["district time played", f"{doc['district_s'] / 3600:.1f} h"],
                ["log rows applied", f"{doc['rows']:,} ({doc['rows'] / played:,.0f}/s)"],
                ["frames (flushes)", f"{doc['flushes']:,} ({doc['flushes'] / played:.1f}/s)"],
                ["worst GUI stall", f"{stalls['worst_ms']:.1f} ms"],
                [
                    "stalls > 16 ms",
                    f"{len(gaps)} (ran {ran:.0f} %, waited for a CPU {waited:.0f} %"
                    f", other {other:.0f} %)",
                ],
                ["ticks the GUI thread itself ran > 16 ms", f"{own}"],
                ["the applied state behind the playhead", f"{doc['behind_s']:.0f} s district"],
                [
                    "open cases shown / queue rows",
                    f"{doc['open_events']:,} / {doc['queue_rows']:,}",
                ],
            ],
        )
    )
    if gaps:
        print("where the stalls' time went:")
        rows = common.where_time_went(doc["spans"], gaps, 5.0)
        print(
            common.table(
                ["GUI-thread work", "n", "p50 ms", "max ms", "ms within stalls"],
                [
                    [
                        r["kind"],
                        r["n"],
                        f"{r['p50']:.1f}",
                        f"{r['max']:.1f}",
                        f"{r['in_stalls']:.0f}",
                    ]
                    for r in rows
                ],
            )
        )
    met = stalls["worst_ms"] <= 16.0
    print(f"target: GUI stalls <= 16 ms while playing at 3,600x: {'met' if met else 'MISSED'}")


def print_memory(doc: dict[str, Any], days: float) -> None:
    """RSS at fractions of the day; the second half's growth."""
    samples = doc["samples"]
    span = days * 86400
    rows = []
    picked = []
    for frac in (0, 0.25, 0.5, 0.75, 1.0):
        s = min(samples, key=lambda x: abs(x["district"] - frac * span))
        picked.append(s)
        rows.append(
            [
                f"{frac:g}",
                f"{s['district'] / 3600:.1f}",
                f"{s['rss'] / 2**20:.0f}",
                f"{s['webengine_rss'] / 2**20:.0f} ({s['webengine_procs']})",
                f"{s['events']:,}",
                f"{s['open']:,}",
                f"{s['alerts']:,}",
                f"{s['map_markers']:,}",
                f"{s['js_heap'] / 2**20:.0f} / {s['js_heap_total'] / 2**20:.0f}",
                f"{s['dom_nodes']:,}",
                f"{s['thumbnails']}",
            ]
        )
    gc_note = "; JS garbage collected before each sample" if doc.get("js_gc") else ""
    print(
        f"\nmemory over {days:g} simulated day(s) at {doc['speed']:g}x"
        f" ({len(samples)} samples{gc_note}):"
    )
    print(
        common.table(
            [
                "day",
                "district h",
                "window RSS MiB",
                "WebEngine RSS MiB (procs)",
                "replica events",
                "open",
                "alerts",
                "map markers",
                "JS heap used / total MiB",
                "DOM nodes",
                "thumbnails",
            ],
            rows,
        )
    )
    half, end = picked[2], picked[4]
    later = [x for x in samples if x["district"] >= half["district"]]
    parts = [
        ("window RSS", [(x["district"], x["rss"]) for x in later]),
        ("WebEngine RSS", [(x["district"], x["webengine_rss"]) for x in later]),
        ("both", [(x["district"], x["rss"] + x["webengine_rss"]) for x in later]),
    ]
    judged = []
    for name, points in parts:
        trend = second_half_trend(points)
        ends = (points[-1][1] - points[0][1]) / points[0][1]
        verdict = "flat" if trend < FLAT else "NOT flat"
        judged.append(
            f"{name} trend {100 * trend:+.1f}% ({verdict}; end to end {100 * ends:+.1f}%)"
        )
    print(
        f"\nsecond half ({len(later)} samples): {', '.join(judged)}"
        f" (< {FLAT * 100:.0f}% counts as flat: the least-squares line through the half's"
        " samples, its rise over the half against its start, so that where a garbage"
        " collection happens to fall does not decide);"
        f" replica events {end['events'] - half['events']:+,},"
        f" thumbnails {half['thumbnails']} -> {end['thumbnails']}"
    )


# ---- main ----------------------------------------------------------------------------------


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench.wall", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short windows (about 1.5 minutes)")
    parser.add_argument(
        "--only", default=",".join(PARTS), help="comma-separated: " + ", ".join(PARTS)
    )
    parser.add_argument("--rates", default="100,2000", help="events/s, comma-separated")
    parser.add_argument("--duration", type=float, help="measured seconds per rate (20)")
    parser.add_argument(
        "--split-cores",
        action="store_true",
        help="latency: the backend (and its feeder) on CPU 1, the window and QtWebEngine on"
        " CPU 0, as if the backend ran on another machine and the wall had one core",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="latency: runs, each on a fresh backend and window; targets judged on the median",
    )
    parser.add_argument("--warmup", type=float, help="fed but unmeasured seconds per rate (3)")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the GUI thread at the top rate"
    )
    parser.add_argument(
        "--py-spy", help="py-spy binary: native profile of the window process at the top rate"
    )
    parser.add_argument(
        "--what-if",
        action="append",
        default=[],
        choices=sorted(WHAT_IF),
        metavar="PATCH",
        help="a runtime patch in the window process to test a fix: "
        + "; ".join(f"{k}: {v}" for k, v in WHAT_IF.items()),
    )
    parser.add_argument("--events", type=int, default=20_000, help="cold start: events a day")
    parser.add_argument("--cold-runs", type=int, help="cold start: window launches (3)")
    parser.add_argument(
        "--enter-runs", type=int, help="Enter → complete wall: measured ./tg runs (3)"
    )
    parser.add_argument("--mem-speed", type=float, help="memory: simulator speed (1440)")
    parser.add_argument("--mem-days", type=float, default=1.0, help="memory: simulated days")
    parser.add_argument(
        "--mem-js-gc",
        action="store_true",
        help="memory: collect the page's JS garbage (window.gc) before each sample",
    )
    parser.add_argument(
        "--play-speed", type=float, default=3600.0, help="playback: district s per real s"
    )
    parser.add_argument(
        "--play-hours", type=float, default=22.0, help="playback: start this long ago"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work dir (logs, results)")
    args = parser.parse_args(argv)
    args.duration = args.duration or (5.0 if args.quick else 20.0)
    args.warmup = args.warmup or (2.0 if args.quick else 3.0)
    args.cold_runs = args.cold_runs or (1 if args.quick else 3)
    args.enter_runs = args.enter_runs or (1 if args.quick else 3)
    args.mem_speed = args.mem_speed or (2880.0 if args.quick else 1440.0)
    args.only = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = set(args.only) - set(PARTS)
    if unknown:
        parser.error(f"--only: unknown part(s) {', '.join(sorted(unknown))}")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the chosen parts; print their tables and the command that reproduces them."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse(argv)
    started = time.monotonic()
    print(f"wall display: {', '.join(args.only)} (window {WINDOW_SIZE}, offscreen Qt)", flush=True)
    for name in args.what_if:
        print(f"  WHAT-IF {name}: {WHAT_IF[name]}")
    out: dict[str, Any] = {}
    workdir = Path(tempfile.mkdtemp(prefix="tg-wall-"))
    try:
        if "latency" in args.only:
            out["latency"] = run_latency(args, workdir)
            print_latency(out["latency"], args.duration)
        if "cold" in args.only:
            out["cold"] = run_cold(args, workdir)
            print_cold(out["cold"])
        if "enter" in args.only:
            out["enter"] = run_enter(args, workdir)
            print_enter(out["enter"])
        if "memory" in args.only:
            out["memory"] = run_memory(args, workdir)
            print_memory(out["memory"], args.mem_days)
        if "playback" in args.only:
            out["playback"] = run_playback(args, workdir)
            print_playback(out["playback"])
    finally:
        if args.keep:
            print(f"\nwork dir kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"\nwall benchmark took {time.monotonic() - started:.0f} s")
    print(f"reproduce: {common.reproduce('bench.wall', argv)}")
    return out


if __name__ == "__main__":
    from bench.wall import main as _main

    _main()
