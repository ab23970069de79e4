"""What must hold of a database after any number of kills, and of the writers' ledgers.

`audit` reads the database directly (SQLAlchemy, the backend's own tables): the audit log is
gap-free, each entity's log rows chain (every row's `before` is the previous row's `after`),
every stored document is its last log row's `after`, every recorded command points at a log
row of its user. `ledger_check` holds what the writers were told against it: every
acknowledged command is in the database exactly as acknowledged (else it is *lost*), and
nothing was applied twice (*duplicated*).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from bench.reliability.clients import CHAIN, Writer
from dispatch.store.models import AlertRow, CommandRow, DutyRow, EventRow, LogEntry, LogHead
from protocol.messages import Result

_STATUS_AFTER = dict(CHAIN)


@dataclass
class Audit:
    """The database's state as checks found it."""

    head: int = 0
    log_rows: int = 0
    events: int = 0
    alerts: int = 0
    commands: int = 0
    epoch: str = ""
    problems: list[str] = field(default_factory=list)
    # For ledger_check: (actor, action, entity id) -> log seqs; command_id -> (user, op, seq).
    by_actor: dict[tuple[str, str, int], list[int]] = field(default_factory=dict)
    log: dict[int, tuple[str, str, str, int]] = field(default_factory=dict)  # seq -> row
    commands_by_id: dict[str, tuple[str, str, int | None]] = field(default_factory=dict)
    titles: Counter[str] = field(default_factory=Counter)
    statuses: dict[int, str] = field(default_factory=dict)


def _engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        return sa.create_engine(url, connect_args={"timeout": 30})
    return sa.create_engine(url, pool_size=1, max_overflow=0)


def audit(url: str, actors: Iterable[str] = ()) -> Audit:
    """Check the database at `url` (no backend needs to run; one may). `actors` are the users
    whose log rows are indexed for ledger_check."""
    watched = set(actors)
    found = Audit()
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            _audit(conn, found, watched)
    finally:
        engine.dispose()
    return found


def _audit(conn: sa.Connection, found: Audit, watched: set[str]) -> None:
    problems = found.problems
    head_row = conn.execute(sa.select(LogHead.seq, LogHead.trimmed)).all()
    if len(head_row) != 1:
        problems.append(f"log_head has {len(head_row)} rows")
        return
    head, trimmed = int(head_row[0][0]), int(head_row[0][1])
    found.head = head
    found.epoch = str(conn.execute(sa.text("SELECT value FROM meta WHERE key = 'epoch'")).scalar())
    last_after: dict[tuple[str, int], str] = {}
    last_duty: dict[str, Any] = {}
    expected = trimmed + 1
    rows = conn.execute(
        sa.select(
            LogEntry.seq,
            LogEntry.actor,
            LogEntry.action,
            LogEntry.entity,
            LogEntry.entity_id,
            LogEntry.before,
            LogEntry.after,
        ).order_by(LogEntry.seq)
    )
    for seq, actor, action, entity, entity_id, before, after in rows:
        found.log_rows += 1
        if seq != expected:
            problems.append(f"log seq {seq} where {expected} was due (a gap or a repeat)")
            expected = seq
        expected += 1
        key = (entity, int(entity_id))
        if entity == "duty":
            doc = json.loads(after)
            last_duty[doc["day"]] = doc
        else:
            previous = last_after.get(key)
            if previous is not None and (before is None or json.loads(before) != previous):
                problems.append(
                    f"log seq {seq}: {entity} {entity_id}'s before is not its last after"
                )
            if previous is None and before is not None and trimmed == 0:
                problems.append(f"log seq {seq}: {entity} {entity_id} has a before but no history")
            last_after[key] = json.loads(after)
        found.log[seq] = (actor, action, entity, int(entity_id))
        if actor in watched:
            found.by_actor.setdefault((actor, action, int(entity_id)), []).append(seq)
    if expected - 1 != head:
        problems.append(f"log ends at seq {expected - 1} but log_head says {head}")
    for kind, table in (("event", EventRow), ("alert", AlertRow)):
        ids: set[int] = set()
        for entity_id, doc in conn.execute(sa.select(table.id, table.doc)):
            ids.add(int(entity_id))
            stored = json.loads(doc)
            logged = last_after.get((kind, int(entity_id)))
            if logged is None:
                if trimmed == 0:
                    problems.append(f"{kind} {entity_id} has no log row")
            elif logged != stored:
                problems.append(f"{kind} {entity_id}'s row is not its last logged state")
            if kind == "event":
                found.titles[stored["title"]] += 1
                found.statuses[int(entity_id)] = stored["status"]
        logged_ids = {i for k, i in last_after if k == kind}
        if logged_ids - ids:
            problems.append(f"{len(logged_ids - ids)} logged {kind}s have no row")
        setattr(found, f"{kind}s", len(ids))
    for day, doc in conn.execute(sa.select(DutyRow.day, DutyRow.doc)):
        if day in last_duty and json.loads(doc) != last_duty[day]:
            problems.append(f"duty {day}'s row is not its last logged state")
    for command_id, user, op, at in conn.execute(
        sa.select(CommandRow.command_id, CommandRow.user, CommandRow.op, CommandRow.seq)
    ):
        found.commands += 1
        found.commands_by_id[command_id] = (user, op, None if at is None else int(at))
        if at is not None and int(at) > head:
            problems.append(f"command {command_id} points past the head ({at} > {head})")
        elif at is not None and not _made_by(found.log, int(at), user):
            problems.append(f"command {command_id} of {user} points at another's log row {at}")


def _made_by(log: dict[int, tuple[str, str, str, int]], seq: int, user: str) -> bool:
    """Whether the log row a command's result points at is the user's: its own, or the
    clock's follow-up right after one of its own (an escalation to the district is put under
    supervision by `system` in the same command: the result names the last change)."""
    row = log.get(seq)
    if row is None or row[0] == user:
        return True
    return row[0] == "system" and log.get(seq - 1, ("",))[0] == user


@dataclass
class LedgerCheck:
    """What the writers were told, held against the database."""

    sent: int = 0  # distinct commands
    resent: int = 0  # in flight at a kill, so sent again with their command_id after it
    retried: int = 0  # answered `internal` (a database fault), sent again with the same id
    acknowledged: int = 0
    repeats: int = 0  # acknowledged with repeat: true (applied before, answer lost)
    unacknowledged: int = 0
    refused: int = 0
    lost: int = 0
    duplicated: int = 0
    problems: list[str] = field(default_factory=list)


def ledger_check(writers: Iterable[Writer], found: Audit) -> LedgerCheck:
    """Lost: an acknowledged command the database does not hold as acknowledged (its record,
    its log row by its user at the acknowledged seq, the case's status). Duplicated: a
    (user, op, event) logged more than once, or a report's title on more than one event."""
    check = LedgerCheck()
    problems = check.problems
    for writer in writers:
        statuses: dict[int, str] = {}
        for sent in writer.ledger:
            check.sent += 1
            check.resent += sent.cut > 0
            check.retried += sum(getattr(a, "code", "") == "internal" for a in sent.answers)
            result = sent.acknowledged
            if sent.refused is not None:
                check.refused += 1
            if result is None:
                check.unacknowledged += sent.refused is None
                continue
            check.acknowledged += 1
            check.repeats += any(isinstance(a, Result) and a.repeat for a in sent.answers)
            seqs = {a.seq for a in sent.answers if isinstance(a, Result)}
            if len(seqs) != 1:
                problems.append(f"{sent.command_id}: acknowledged with different seqs {seqs}")
            event = int(result.data["event"]) if sent.op == "report" else sent.args["event"]
            statuses[event] = _STATUS_AFTER[sent.op]
            record = found.commands_by_id.get(sent.command_id)
            row = found.log.get(result.seq or 0)
            if (
                record != (writer.user, sent.op, result.seq)
                or row is None
                or row[:2] != (writer.user, sent.op)
                or row[3] != event
            ):
                check.lost += 1
                problems.append(
                    f"lost: {writer.user} {sent.op} {sent.command_id} acknowledged at seq "
                    f"{result.seq}; database: record {record}, log row {row}"
                )
        for event, status in statuses.items():
            if found.statuses.get(event) != status:
                check.lost += 1
                problems.append(
                    f"lost: {writer.user}'s event {event} is {found.statuses.get(event)}, "
                    f"acknowledged {status}"
                )
        for case in writer.cases:
            if found.titles.get(case.title, 0) > 1:
                check.duplicated += found.titles[case.title] - 1
                problems.append(f"duplicated: {found.titles[case.title]} events '{case.title}'")
    for (actor, action, entity_id), rows in found.by_actor.items():
        if len(rows) > 1 and action != "report":
            check.duplicated += len(rows) - 1
            problems.append(f"duplicated: {actor} {action} event {entity_id} at seqs {rows}")
    return check


def problems_by_kind(problems: Iterable[str], limit: int = 20) -> str:
    """A few problems per leading word, for a readable failure message."""
    groups: defaultdict[str, list[str]] = defaultdict(list)
    for problem in problems:
        groups[problem.split(":")[0].split(" ")[0]].append(problem)
    lines = []
    for kind, items in groups.items():
        lines.append(f"{len(items)} × {kind}:")
        lines += [f"  {p}" for p in items[:limit]]
    return "\n".join(lines)
