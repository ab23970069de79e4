"""Opt-in runtime patches that test a suggested fix inside the benchmark process only.

They never change the project's code: each one monkeypatches the running server, so that a
suggestion in RESULTS.md comes with a measured figure. Off unless `--what-if` names them.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence

from dispatch.server import Hub

PATCHES = {
    "kpi-off": "no KPI recomputation over every event in memory, once a second on the loop"
    " (shows what that costs the deltas' latency)",
    "gc-off": "gc.disable() in the server process: no cyclic-GC pauses (they grow with the"
    " number of live objects: every event in memory, the resume ring)",
    "switch=S": "sys.setswitchinterval(S): how long a thread waiting for the GIL waits before"
    " it asks the running one to drop it (default 0.005)",
}


def add_option(parser: argparse.ArgumentParser) -> None:
    """Add --what-if NAME (repeatable) to a benchmark's options."""
    parser.add_argument(
        "--what-if",
        action="append",
        default=[],
        metavar="PATCH",
        help="apply a runtime patch to test a fix: "
        + "; ".join(f"{k}: {v}" for k, v in PATCHES.items()),
    )


def describe(names: Sequence[str]) -> None:
    """Print which patches a run uses (nothing when none)."""
    for name in names:
        print(f"  WHAT-IF {name}: {PATCHES.get(name.split('=')[0] + '=S', PATCHES.get(name))}")


def apply(names: Sequence[str]) -> None:
    """Apply the named patches to this process."""
    for name in names:
        if name == "kpi-off":
            # The hub has had both shapes: an async sliced refresh, or a plain push.
            if hasattr(Hub, "refresh_kpis"):
                Hub.refresh_kpis = _no_refresh  # type: ignore[method-assign]
            else:
                Hub.push_kpis = _no_kpis  # type: ignore[method-assign]
        elif name == "gc-off":
            gc.disable()
        elif name.startswith("switch="):
            sys.setswitchinterval(float(name.split("=", 1)[1]))
        else:
            raise SystemExit(f"unknown --what-if {name!r}; known: {', '.join(PATCHES)}")


def _no_kpis(self: Hub, *_: object) -> None:
    self.kpi_dirty = False


async def _no_refresh(self: Hub, *_: object) -> None:
    self.kpi_dirty = False
