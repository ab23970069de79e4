"""Run the benchmarks: `python -m bench [--quick]` runs all; `python -m bench NAME [ARGS]` one.

NAME is fanout, ingest, wall, desk, intake, mqtt, soak, exports, risk, risk_stall,
handover, replay, chaos, gateways, pg-sync or bundle_start (all but the first four run only by name;
the soak is a 24-hour warm-up and 24 judged simulated hours: 48 minutes); ARGS go to that
benchmark (e.g. `python -m bench wall --only latency`).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from bench import (
    bundle_start,
    chaos,
    common,
    desk,
    exports,
    fanout,
    gateways,
    handover,
    ingest,
    intake,
    mqtt,
    pg_sync,
    replay,
    risk,
    risk_stall,
    soak,
    wall,
)

BENCHMARKS: dict[str, Callable[[list[str]], object]] = {
    "fanout": fanout.main,
    "ingest": ingest.main,
    "wall": wall.main,
    "desk": desk.main,
    "intake": intake.main,
    "mqtt": mqtt.main,
    "soak": soak.main,
    "exports": exports.main,
    "risk": risk.main,
    "risk_stall": risk_stall.main,
    "bundle_start": bundle_start.main,
    "handover": handover.main,
    "replay": replay.main,
    "chaos": chaos.main,
    "gateways": gateways.main,
    "pg-sync": pg_sync.main,
}


def main(argv: list[str] | None = None) -> None:
    """Print the machine, then run the fan-out, ingest, wall and desk benchmarks (or one)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in BENCHMARKS:
        print("machine:")
        common.print_machine()
        print()
        BENCHMARKS[argv[0]](argv[1:])
        return
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short windows (about 6 minutes)")
    args = parser.parse_args(argv)
    extra = ["--quick"] if args.quick else []
    started = time.monotonic()
    print("machine:")
    common.print_machine()
    print(f"\nreproduce all: {common.reproduce('bench', extra)}\n")
    fanout.main(extra)
    print()
    ingest.main(extra)
    print()
    wall.main(extra)
    print()
    desk.main(extra)
    print(f"\nall benchmarks took {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
