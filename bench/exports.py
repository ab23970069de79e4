"""Exports (issue 15, item 3): 100,000 cases to CSV and to XLSX, target ≤ 10 s each.

A SQLite store of `--events` cases spread over 30 days (every street, category, source and
status; a third settled late), made once and cached in .cache/bench/; then
`dispatch export` in-process for the whole period: the store's read, the rows and the file,
timed from the call to the file in place. Prints the figures and the command to reproduce.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench import common
from dispatch.app import load_reference, prepare
from dispatch.cli import main as cli_main
from dispatch.state import Change
from dispatch.store.store import Store
from protocol.entities import SOURCES, STATUSES, Event

CACHE = common.ROOT / ".cache" / "bench"
START = 1_793_462_400.0  # 2026-11-01 00:00 China Standard Time
TARGET_S = 10.0


def dataset(events: int) -> Path:
    """A database of `events` cases over November, made once."""
    path = CACHE / f"exports-{events}.db"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.unlink(missing_ok=True)
    store = Store(f"sqlite:///{partial}")
    prepare(store, 7)
    reference = load_reference(store)
    grids = list(reference.grids.values())
    categories = list(reference.categories)
    rng = random.Random(7)
    batch: list[Change] = []
    for event_id in range(1, events + 1):
        grid = rng.choice(grids)
        reported = START + rng.uniform(0, 30 * 86400)
        status = rng.choice(STATUSES)
        settled = status in ("closed", "evaluated")
        event = Event(
            id=event_id,
            code=f"DG-202611-{event_id:07d}",
            source=rng.choice(SOURCES),
            category=rng.choice(categories),
            title=f"{grid.name}案件{event_id}",
            description="群众来电称：附近存在问题，请尽快处置。" * 2,
            address=f"{grid.name}门前",
            lon=117.05,
            lat=30.53,
            grid=grid.code,
            community=grid.community,
            street=grid.street,
            priority=rng.randint(1, 4),
            status=status,
            level="grid",
            reported_at=reported,
            updated_at=reported + 3600,
            accepted_at=reported + 600,
            first_dispatched_at=reported + 1200,
            handled_at=reported + 7200 if settled else None,
            closed_at=reported + 9000 if settled else None,
            due_at=reported + (3 if rng.random() < 0.33 else 48) * 3600,
            assignee="网格员 张强",
            evaluation=rng.randint(1, 5) if status == "evaluated" else None,
        )
        batch.append(
            Change("event", event_id, event.street, "report", "bench", reported, None, event)
        )
        if len(batch) == 5000:
            store.commit(batch)
            batch = []
    if batch:
        store.commit(batch)
    store.close()
    partial.replace(path)
    return path


def run(events: int, workdir: Path) -> list[list[object]]:
    """Export the whole month to each format; seconds and sizes."""
    source = dataset(events)
    database = workdir / "d.db"
    shutil.copy(source, database)
    rows = []
    for fmt in ("csv", "xlsx"):
        out = workdir / f"cases.{fmt}"
        began = time.perf_counter()
        code = cli_main(
            [
                "--url",
                f"sqlite:///{database}",
                "export",
                str(out),
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-30",
            ]
        )
        took = time.perf_counter() - began
        assert code == 0, f"export to {fmt} failed"
        verdict = "met" if took <= TARGET_S else "MISSED"
        rows.append(
            [fmt, f"{events:,}", f"{took:.2f}", f"{out.stat().st_size / 2**20:.1f}", verdict]
        )
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    """Run and print."""
    parser = argparse.ArgumentParser(prog="python -m bench exports", description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tg-exports-") as tmp:
        rows = run(args.events, Path(tmp))
    print(common.table(["format", "cases", "seconds", "MiB", f"target ≤ {TARGET_S:.0f} s"], rows))
    print(
        f"reproduce: cd {common.ROOT} && .venv/bin/python -m bench exports --events {args.events}"
    )
