"""Run every backend benchmark in turn: `python -m bench [--quick]`."""

from __future__ import annotations

import argparse
import sys
import time

from bench import common, fanout, ingest


def main(argv: list[str] | None = None) -> None:
    """Print the machine, then run the fan-out and the ingest benchmarks."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short windows (about 2 minutes)")
    args = parser.parse_args(argv)
    extra = ["--quick"] if args.quick else []
    started = time.monotonic()
    print("machine:")
    common.print_machine()
    print(f"\nreproduce all: {common.reproduce('bench', extra)}\n")
    fanout.main(extra)
    print()
    ingest.main(extra)
    print(f"\nall benchmarks took {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
