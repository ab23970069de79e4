"""`dispatch check`: what an operator (or a monitoring probe) asks of an installed backend.

Each check gives one line: ok, warn (look at it soon) or FAIL (a problem: the exit status
is non-zero). Read-only: nothing is created or changed, not even an empty database.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from dispatch.store.log_notice import QUEUE_SHARE_FOR_ROWS
from dispatch.store.store import Store, redact_url

OK, WARN, FAIL = "ok", "warn", "FAIL"
# The free space under which the data directory fails the check (default of --min-free-mb).
MIN_FREE_MB = 1024
# A difference between the database server's clock and ours over this fails the check; the
# backend takes small steps in gradually (docs/operations.md §4), a large one is a wrong clock.
MAX_SKEW_SECONDS = 5.0
# Audit rows stamped this far after our clock: our clock was set back (or theirs ran ahead).
FUTURE_ROWS_SECONDS = 60.0
# Feedback to a 12345 peer still undelivered this long after it was due: the peer is down.
OVERDUE_SECONDS = 3600.0
# From this month on, next year's calendar missing is a warning.
NOTICE_MONTH = 11
# PostgreSQL's notification queue (8 GB) this full fails the check: a session LISTENing that
# stopped reading holds every later notification, and a full queue fails every notifying
# commit. From QUEUE_SHARE_FOR_ROWS on it warns: the writer sends followers seqs only.
QUEUE_FAIL_SHARE = 0.5
# Seconds before a second look at the writer's lock, when the first found it free.
WRITER_LOOK_AGAIN = 3.0
# The writer's newest deadline-risk model this old warns: it retrains every hour, and its
# standbys and gateways score every case with the one it keeps (docs/kpis.md §8).
RISK_MODEL_STALE_SECONDS = 3 * 3600.0


@dataclass(frozen=True, slots=True)
class Finding:
    """One check's verdict: name, level (ok, warn, FAIL) and what it saw."""

    name: str
    level: str
    text: str


def _schema(store: Store) -> Finding:
    from dispatch.backup import known_revisions

    known = known_revisions()
    try:
        with store.engine.connect() as conn:
            stored = [r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))]
    except SQLAlchemyError:
        return Finding("schema", FAIL, "no schema: run `dispatch init-db`")
    revision = stored[0] if len(stored) == 1 else ""
    if revision == known[-1]:
        return Finding("schema", OK, f"{revision}, this code's newest")
    if revision in known:
        return Finding(
            "schema",
            FAIL,
            f"{revision}, older than this code's {known[-1]}: run `dispatch init-db`",
        )
    return Finding(
        "schema",
        FAIL,
        f"{revision or stored!r}, unknown to this code (newest {known[-1]}):"
        " a newer version wrote it",
    )


def _calendar(store: Store, today: date) -> Finding:
    from dispatch.app import working_calendar

    try:
        status = working_calendar(store).status(today)
    except RuntimeError as exc:
        return Finding("calendar", FAIL, str(exc))
    official = ", ".join(str(y) for y in status.official) or "none"
    if today.year in status.missing:
        return Finding(
            "calendar",
            FAIL,
            f"no official calendar for {today.year} (official: {official}): "
            "load the State Council notice with `dispatch load-calendar FILE`",
        )
    if status.missing:
        # The State Council publishes next year's holidays in the autumn (late October to
        # December): only then is its absence worth a warning.
        level = WARN if today.month >= NOTICE_MONTH else OK
        return Finding(
            "calendar",
            level,
            f"official: {official}; none yet for {today.year + 1} (load it when published)",
        )
    return Finding("calendar", OK, f"official: {official}")


def _disk(where: Path, min_free_mb: int) -> Finding:
    # A data directory not made yet (a node on PostgreSQL that has written nothing of its own
    # there): the file system it will be made on.
    made = where
    while not made.exists() and made.parent != made:
        made = made.parent
    try:
        usage = shutil.disk_usage(made)
    except OSError as exc:
        return Finding("disk", FAIL, f"{where}: {exc.strerror or exc}")
    free_mb = usage.free // 2**20
    said = f"{free_mb} MiB free of {usage.total // 2**20} MiB at {where}"
    if made != where:
        said += f" (not made yet: at {made})"
    if free_mb < min_free_mb:
        return Finding("disk", FAIL, f"{said} (under {min_free_mb} MiB)")
    return Finding("disk", OK, said)


def _clock(store: Store, now: Callable[[], float]) -> list[Finding]:
    from dispatch.store.models import LogEntry

    found = []
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect() as conn:
            before = now()
            theirs = float(
                conn.execute(text("SELECT extract(epoch FROM clock_timestamp())")).scalar_one()
            )
            after = now()
        skew = theirs - (before + after) / 2
        said = f"database server's clock {skew:+.1f} s from ours (±{(after - before) / 2:.2f} s)"
        found.append(Finding("clock", FAIL if abs(skew) > MAX_SKEW_SECONDS else OK, said))
    with store.engine.connect() as conn:
        newest = conn.execute(select(func.max(LogEntry.at))).scalar()
    if newest is not None and newest - now() > FUTURE_ROWS_SECONDS:
        found.append(
            Finding(
                "clock",
                FAIL,
                f"the newest audit row is stamped {newest - now():.0f} s ahead of this clock:"
                " the system clock was set back (district time runs on it)",
            )
        )
    elif not found:
        found.append(Finding("clock", OK, "no audit row stamped ahead of this clock"))
    return found


def _intake(store: Store, config: Path | None, now: float) -> list[Finding]:
    from dispatch.intake.config import ConfigError, load_config

    found = []
    if config is not None:
        try:
            parsed = load_config(config)
        except ConfigError as exc:
            found.append(Finding("intake", FAIL, f"config: {exc}"))
        else:
            parts = ", ".join(sorted(parsed.sections)) or "no intake"
            found.append(Finding("intake", OK, f"config {config}: {parts}"))
    counts = store.outbox_counts()
    entries = store.outbox_entries("pending", limit=1_000_000)
    overdue = [e for e in entries if now - e.next_at > OVERDUE_SECONDS]
    said = ", ".join(f"{state} {n}" for state, n in sorted(counts.items())) or "empty"
    if counts.get("refused"):
        found.append(
            Finding(
                "outbox",
                FAIL,
                f"{said}: feedback a peer refused (`dispatch intake-outbox --state refused`)",
            )
        )
    elif overdue:
        peers = ", ".join(sorted({e.peer for e in overdue}))
        found.append(
            Finding("outbox", WARN, f"{said}: {len(overdue)} due over an hour ago (to {peers})")
        )
    else:
        found.append(Finding("outbox", OK, said))
    return found


def _notifications(store: Store) -> Finding:
    with store.engine.connect() as conn:
        usage = float(conn.execute(text("SELECT pg_notification_queue_usage()")).scalar_one())
    said = f"PostgreSQL's notification queue {usage:.2%} full"
    if usage < QUEUE_SHARE_FOR_ROWS:
        return Finding("notifications", OK, said)
    stalled = (
        "a session listening stopped reading (a standby or a gateway hanging, or a stopped"
        " process): restart it"
    )
    if usage >= QUEUE_FAIL_SHARE:
        return Finding("notifications", FAIL, f"{said}, full it fails every commit: {stalled}")
    return Finding("notifications", WARN, f"{said}, followers get seqs only: {stalled}")


def _writer(store: Store) -> Finding:
    holder, endpoint = store.writer_endpoint()
    # A second look before failing: a writer whose database session was lost takes its
    # lock again within a look of its own (every 2 s: dispatch/server.py _claim_loop).
    held = store.writer_lock_held()
    if not held:
        time.sleep(WRITER_LOOK_AGAIN)
        held = store.writer_lock_held()
    if held:
        return Finding("writer", OK, f"{holder or 'a backend'} at {endpoint or '(not said yet)'}")
    gone = f" ({holder} has gone)" if holder else ""
    return Finding(
        "writer",
        FAIL,
        f"no node writes{gone}: cases wait; start a writer, or a standby takes over",
    )


def _risk_model(store: Store, now: float) -> Finding:
    from dispatch import risk_json
    from dispatch.reference import local

    kept = store.risk_model_after(0)
    if kept is None:
        return Finding("risk model", OK, "none kept yet (the writer trains once it has history)")
    try:
        model = risk_json.loads(kept[1])
    except ValueError as exc:
        return Finding(
            "risk model",
            WARN,
            f"the writer's newest does not read ({exc}): a writer of another version? its"
            " standbys and gateways train their own after two hours",
        )
    said = f"the writer's, trained {local(model.trained_at):%Y-%m-%d %H:%M} on {model.samples}"
    if now - model.trained_at > RISK_MODEL_STALE_SECONDS:
        hours = RISK_MODEL_STALE_SECONDS / 3600
        return Finding(
            "risk model",
            WARN,
            f"{said} moments, over {hours:g} hours ago: its training fails (see the writer's"
            " log), or no writer runs",
        )
    return Finding("risk model", OK, f"{said} moments")


def run_checks(
    url: str,
    data: Path,
    *,
    config: Path | None = None,
    min_free_mb: int = MIN_FREE_MB,
    now: Callable[[], float] = time.time,
    today: date | None = None,
) -> list[Finding]:
    """Every check, in order: schema, calendar (for `today`, default the district's), disk,
    clock, intake, the risk model, the writer and notifications on PostgreSQL (those after
    the schema only with a current one)."""
    from dispatch.reference import local

    target = make_url(url)
    database = target.database or ""
    sqlite = target.get_backend_name() == "sqlite"
    where = Path(database).parent if sqlite and database else data
    findings = [_disk(where, min_free_mb)]
    if sqlite and (not database or not Path(database).exists()):
        missing = f"no database at {database}: run `dispatch init-db`"
        return [Finding("database", FAIL, missing), *findings]
    store = Store(url)
    try:
        try:
            schema = _schema(store)
        except SQLAlchemyError as exc:
            reason = str(exc.orig if hasattr(exc, "orig") else exc).strip().splitlines()[0]
            return [Finding("database", FAIL, f"{redact_url(url)}: {reason}"), *findings]
        findings.insert(0, schema)
        findings.insert(0, Finding("database", OK, redact_url(url)))
        if schema.level != OK:
            return findings
        findings.insert(2, _calendar(store, today or local(now()).date()))
        findings += _clock(store, now)
        findings += _intake(store, config, now())
        findings.append(_risk_model(store, now()))
        if not sqlite:
            findings += [_writer(store), _notifications(store)]
    finally:
        store.close()
    return findings
