"""`kill -9` while the backend starts: in its imports, its migrations, its district load,
right after it listens, during the simulator's catch-up (`demo` replays the day so far at
start) and once live. Then it must start, catch up and serve consistent data: the audit of
checks.py, the epoch kept once served, a fresh snapshot equal to the database, a reader that
lived through the kills equal to a fresh snapshot, no stretch of the day simulated twice.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import sqlalchemy as sa

from bench.reliability.backend import PHASES, Backend, phase_of
from bench.reliability.checks import Audit, audit
from bench.reliability.clients import Reader, converge, fresh_snapshot
from dispatch.store.models import EventRow, LogEntry
from protocol.entities import OPEN_STATUSES
from protocol.messages import Snapshot

# What to aim each kill at: the phase's opening log line ("start": the spawn), and how long
# after it to strike at most (seconds, drawn uniformly). A kill aimed at a phase that does
# not come (the schema is current: no migration) strikes at the first later phase instead.
AIM = {
    "start": ("", 0.3),
    "migration": ("Running upgrade", 0.01),  # 20-40 ms on SQLite: watched every 1 ms
    "district": ("Running upgrade 0002 -> 0003", 0.3),
    "reference": (" ready in ", 0.3),
    "catch-up": ("simulator running", 0.5),
    "live": ("simulator caught up", 0.8),
}
DEFAULT_AIMS = (
    "start",
    "migration",
    "migration",
    "district",
    "reference",
    "catch-up",
    "catch-up",
    "catch-up",
    "live",
)
_MARKERS = [marker for _, marker in PHASES]


def later_markers(marker: str) -> list[str]:
    """`marker` and the opening lines of every phase after the one it opens."""
    if not marker:
        return []
    first = next(i for i, m in enumerate(_MARKERS) if m in marker or marker in m)
    return [marker, *_MARKERS[first + 1 :]]


@dataclass
class StartupReport:
    """Where the kills landed, and what was found after the last start."""

    database: str
    aimed: list[str] = field(default_factory=list)
    landed: Counter[str] = field(default_factory=Counter)  # phase -> kills
    seconds: float = 0.0
    final_start_s: float = 0.0  # spawn -> caught up, after the last kill
    kpis_lag_s: float = 0.0  # caught up -> a snapshot no longer says catching up
    events: int = 0
    audit: Audit = field(default_factory=Audit)
    problems: list[str] = field(default_factory=list)

    @property
    def kills(self) -> int:
        """How many kills there were."""
        return sum(self.landed.values())


async def kills_at_start(
    url: str,
    data: Path,
    *,
    database: str = "sqlite",
    aims: Sequence[str] = DEFAULT_AIMS,
    seed: int = 1,
    say: Callable[[str], None] = lambda _s: None,
) -> StartupReport:
    """Kill a `demo` backend once per aim on a fresh database, then start it for good and
    check what it serves."""
    rng = random.Random(seed)
    report = StartupReport(database, aimed=list(aims))
    began = time.monotonic()
    backend = Backend(url, data / "backend", command="demo")
    token_file = backend.data / "tokens" / "demo-wall.token"
    reader: Reader | None = None
    epoch = ""
    try:
        for aim in aims:
            marker, within = AIM[aim]
            since = backend.log_size()
            backend.spawn()
            seen = marker
            if marker:
                seen = await asyncio.to_thread(
                    backend.wait_for_line, later_markers(marker), since, 120.0, 0.001
                )
            if seen == marker:
                await asyncio.sleep(rng.uniform(0.0, within))
            backend.kill()
            landed = phase_of(backend.log_text(since))
            if landed == "migration" and await asyncio.to_thread(_schema_current, url):
                landed = "district"  # migrated: the district's load or the demo users
            report.landed[landed] += 1
            say(f"aimed at {aim}, killed in {landed}")
            if not epoch and _served(landed):
                epoch = audit(url).epoch
            if reader is None and token_file.exists() and _served(landed):
                reader = Reader("wall", backend.ws_url, token_file.read_text().strip())
                reader.start()  # it connects whenever a backend listens
        since = backend.log_size()
        started = time.monotonic()
        backend.spawn()
        if not await asyncio.to_thread(backend.wait_for_line, "caught up", since, 300.0):
            report.problems.append(f"did not catch up after the kills: {backend.log_tail()}")
            return report
        report.final_start_s = time.monotonic() - started
        token = token_file.read_text().strip()
        # The KPIs stop saying "catching up" before the simulator's "caught up" line is
        # logged (the push that makes them whole says so): the lag is the fresh connection's.
        caught_up = time.monotonic()
        welcome, snapshot = await fresh_snapshot(backend.ws_url, token)
        while snapshot.kpis_catching_up and time.monotonic() - caught_up < 30:
            await asyncio.sleep(0.2)
            welcome, snapshot = await fresh_snapshot(backend.ws_url, token)
        report.kpis_lag_s = time.monotonic() - caught_up
        if snapshot.kpis_catching_up:
            report.problems.append("30 s after the catch-up the KPIs still say catching up")
        if epoch and welcome.epoch != epoch:
            report.problems.append(f"the epoch changed from {epoch} to {welcome.epoch}")
        report.problems += await asyncio.to_thread(_snapshot_is_the_database, url, snapshot)
        if reader is not None:
            found = await converge(reader, backend.ws_url, token, patience=60)
            report.problems += [f"the reader that lived through the kills: {d}" for d in found]
            report.problems += [f"the reader: {p}" for p in reader.problems]
    finally:
        if reader is not None:
            await reader.stop()
        status = backend.stop()
    if status not in (0, None):
        report.problems.append(f"the backend's clean stop exited with {status}")
    report.audit = await asyncio.to_thread(audit, url)
    report.events = report.audit.events
    report.problems += report.audit.problems
    report.problems += await asyncio.to_thread(_twice_simulated, url)
    report.seconds = time.monotonic() - began
    return report


def _schema_current(url: str) -> bool:
    """Whether the database's schema is at the newest migration."""
    from dispatch.store.store import Store

    store = Store(url)
    try:
        return store.is_current()
    except Exception:
        return False
    finally:
        store.engine.dispose()


def _served(phase: str) -> bool:
    """Whether a backend killed in `phase` had started serving."""
    names = [name for name, _ in PHASES]
    return phase in names and names.index(phase) >= names.index("serving")


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})


def _snapshot_is_the_database(url: str, snapshot: Snapshot) -> list[str]:
    """The backend's memory against its database at the snapshot's seq (the simulator goes
    on meanwhile): each event of the snapshot as the last log row up to that seq left it,
    and every event open then is in the snapshot."""
    engine = _engine(url)
    at_seq: dict[int, dict[str, Any]] = {}
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(LogEntry.entity_id, LogEntry.after)
                .where(LogEntry.entity == "event", LogEntry.seq <= snapshot.seq)
                .order_by(LogEntry.seq)
            )
            for entity_id, after in rows:
                at_seq[int(entity_id)] = json.loads(after)
    finally:
        engine.dispose()
    problems = []
    shown = {e.id: msgspec.to_builtins(e) for e in snapshot.events}
    differ = [i for i, doc in shown.items() if at_seq.get(i) != doc]
    if differ:
        problems.append(f"{len(differ)} events of the snapshot differ from the log: {differ[:5]}")
    missing = [i for i, doc in at_seq.items() if doc["status"] in OPEN_STATUSES and i not in shown]
    if missing:
        problems.append(f"{len(missing)} open events are not in the snapshot: {missing[:5]}")
    return problems


def _twice_simulated(url: str) -> list[str]:
    """A stretch of the day simulated twice shows as events at the same time and place."""
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            docs = [json.loads(d) for (d,) in conn.execute(sa.select(EventRow.doc))]
    finally:
        engine.dispose()
    seen = Counter((d["reported_at"], d["lon"], d["lat"], d["title"]) for d in docs)
    twice = [k for k, n in seen.items() if n > 1]
    if twice:
        return [
            f"{len(twice)} events reported twice (same time, place and title), e.g. {twice[:3]}"
        ]
    return []
