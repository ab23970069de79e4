"""Cold start of the bundled wall against the source run, side by side (issue 14: within 1.2×).

    .venv/bin/python -m bench bundle_start [--runs 5] [--events 20000] [--dist DIR] [--keep]

Three ways of starting the same wall on the same day of data, each on its own copy of the
data set (bench.wall's cold-start day) with its own map cache:

- `bundle`: `dist/tongguan/tongguan` (PyInstaller, packaging/), its embedded backend the same
  program (`tongguan -m dispatch demo`), with no PYTHONPATH and no virtualenv;
- `source`: `.venv/bin/python -m desktop`, its backend `python -m dispatch demo`;
- `./tg run`: the source run as an operator starts it (bash, the setup stamp checked, exec).

Each is started once uncounted (the machine and the data set warm), then `--runs` rounds in
which the three are started one after the other (so a change of the machine's load falls on
all three alike), each `--data DIR --size 1920x1080 --report-start FILE`: the wall closes
itself once complete (every panel has the snapshot, the figures are whole, the map has drawn
it) and writes its start-up marks. The time counted is from the launch (this process's clock
before it starts the program) to "wall complete"; the ratio is bundle / source on the median.
Offscreen (QT_QPA_PLATFORM=offscreen), as bench.wall.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import common, wall

TARGET_RATIO = 1.2
STEPS = [
    ("process started", "process started"),
    ("window shown (loading state)", "window shown"),
    ("embedded backend ready", "backend ready"),
    ("snapshot in every panel", "snapshot shown"),
    ("**wall complete**", "wall complete"),
]


def environment(kind: str, workdir: Path) -> dict[str, str]:
    """The bundle's: nothing of Python's; the source's: as ./tg gives it. Both offscreen."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "VIRTUAL_ENV", "TONGGUAN", "QT_"))
    }
    env.update(QT_QPA_PLATFORM="offscreen", TONGGUAN_CACHE=str(workdir / f"cache-{kind}"))
    if os.geteuid() == 0:
        env["QTWEBENGINE_DISABLE_SANDBOX"] = "1"
    if kind == "bundle":
        env["PATH"] = "/usr/bin:/bin:/usr/sbin:/sbin"
    return env


def command(kind: str, dist: Path) -> list[str]:
    if kind == "bundle":
        return [str(dist / "tongguan" / "tongguan")]
    if kind == "source":
        return [str(common.ROOT / ".venv" / "bin" / "python"), "-m", "desktop"]
    return [str(common.ROOT / "tg"), "run"]


def start_once(kind: str, dist: Path, workdir: Path) -> dict[str, Any]:
    """One start of the wall; its marks (wall-clock) and the launch time."""
    data = workdir / f"data-{kind}"
    report = workdir / f"start-{kind}.json"
    report.unlink(missing_ok=True)
    for stale in data.glob("backend-*.ready.json"):
        stale.unlink()
    args = ["--data", str(data), "--size", wall.WINDOW_SIZE, "--report-start", str(report)]
    log_path = workdir / f"{kind}.log"
    launched = time.time()
    with log_path.open("ab") as log:
        code = subprocess.run(
            [*command(kind, dist), *args],
            cwd=common.ROOT if kind != "bundle" else workdir,
            env=environment(kind, workdir),
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=300,
        ).returncode
    if not report.exists():
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-25:])
        raise RuntimeError(f"{kind}: no start-up report (exit {code}):\n{tail}")
    doc: dict[str, Any] = json.loads(report.read_text())
    times = {name: at - launched for name, at in doc["marks"].items()}
    times["process started"] = doc["process_started"] - launched
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench bundle_start", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="counted rounds (5)")
    parser.add_argument("--events", type=int, default=20_000, help="events a day (20,000)")
    parser.add_argument("--dist", type=Path, default=common.ROOT / "dist")
    parser.add_argument("--kinds", default="bundle,source,tg", help="of bundle, source, tg")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (logs)")
    args = parser.parse_args(argv)
    kinds = args.kinds.split(",")
    if "bundle" in kinds and not (args.dist / "tongguan" / "tongguan").exists():
        raise SystemExit(f"no bundle in {args.dist}: ./tg package bundles")
    print(f"reproduce: {common.reproduce('bench bundle_start', argv or [])}")
    source = wall.dataset(args.events)
    workdir = Path(tempfile.mkdtemp(prefix="tg-bench-bundle-"))
    try:
        for kind in kinds:
            shutil.copytree(source, workdir / f"data-{kind}")
            start_once(kind, args.dist, workdir)  # uncounted: warms the machine and its cache
        runs: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
        for index in range(args.runs):
            for kind in kinds:
                times = start_once(kind, args.dist, workdir)
                runs[kind].append(times)
                print(f"  round {index + 1}: {kind:6} {times['wall complete']:.2f} s", flush=True)
                time.sleep(1.0)
        report(runs)
    finally:
        if args.keep:
            print(f"work dir kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def report(runs: dict[str, list[dict[str, float]]]) -> None:
    """Medians per step and kind, every run's total, the verdict."""
    medians = {
        kind: {key: float(np.median([t[key] for t in ts if key in t])) for _, key in STEPS}
        for kind, ts in runs.items()
    }
    headers = ["step (median s since the launch)", *runs]
    rows = [[label, *(f"{medians[k][key]:.2f}" for k in runs)] for label, key in STEPS]
    rows.append(
        ["every run's wall complete", *(" / ".join(f"{t['wall complete']:.2f}" for t in ts)
                                       for ts in runs.values())]
    )  # fmt: skip
    print()
    print(common.table(headers, rows))
    if "bundle" in runs and "source" in runs:
        ratio = medians["bundle"]["wall complete"] / medians["source"]["wall complete"]
        verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
        print(
            f"\ntarget bundle within {TARGET_RATIO}x of the source run: {verdict} "
            f"(bundle / source = {ratio:.2f})"
        )


if __name__ == "__main__":
    main()
