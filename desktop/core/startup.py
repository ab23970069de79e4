"""Marks of the start-up path, in seconds since the process started. Qt-free.

The wall logs them once it is complete (the snapshot in every panel, whole figures, the map
drawn), and with `--report-start FILE` writes them as JSON for the benchmark, which adds the
time from the Enter key (its launch of `./tg run`) to the process's start.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

_IMPORTED = time.time()


def process_started_at() -> float:
    """This process's start, wall clock (from /proc on Linux, 10 ms steps; elsewhere the
    moment this module was first imported)."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[19])  # starttime, in clock ticks after boot
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return _IMPORTED
    return time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK")


class Milestones:
    """The first time each named step of the start was reached."""

    def __init__(self) -> None:
        self.started = process_started_at()
        self.marks: dict[str, float] = {}

    def mark(self, name: str) -> None:
        """Note `name` now, unless it was noted before."""
        self.marks.setdefault(name, time.time())

    def since_start(self, name: str) -> float | None:
        """Seconds from the process's start to `name` (None if not reached)."""
        at = self.marks.get(name)
        return None if at is None else at - self.started

    def summary(self) -> str:
        """'window shown 0.84 s · backend ready 1.52 s · …' in the order reached."""
        ordered = sorted(self.marks.items(), key=lambda item: item[1])
        return " · ".join(f"{name} {at - self.started:.2f} s" for name, at in ordered)

    def write(self, path: Path | str) -> None:
        """{"process_started": t, "marks": {name: t}} (wall-clock seconds), atomically."""
        path = Path(path)
        doc = {"process_started": self.started, "marks": self.marks}
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(doc), encoding="utf-8")
        os.replace(tmp, path)
