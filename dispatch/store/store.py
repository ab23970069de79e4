"""Persistence: one transaction per batch of changes, the log, users, commands, reference units.

Every method is blocking and meant for the writer thread or a worker thread, never the loop.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import math
import operator
import os
import re
import secrets
import socket
import threading
import time
import unicodedata
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple, cast

import msgspec
from sqlalchemy import (
    ColumnElement,
    Engine,
    LargeBinary,
    Table,
    Update,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    text,
    tuple_,
    union_all,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.sql import Subquery

from dispatch.jurisdiction import DISTRICT_WIDTH, width_of
from dispatch.private import create_private, open_private, tighten
from dispatch.state import Change, ExternalRecord, OutboxItem
from dispatch.store.log_notice import NOTIFY_SQL, QUEUE_SHARE_FOR_ROWS, notice_payload
from dispatch.store.models import (
    AdminLogRow,
    AlertImage,
    AlertRow,
    AuditColumns,
    Checkpoint,
    CommandRow,
    DutyPlanRow,
    DutyRow,
    EventRow,
    LogArchiveEntry,
    LogEntry,
    LogHead,
    MetaRow,
    OutboxRow,
    RiskModelRow,
    UnitRow,
    UserRow,
    WriterLease,
)
from protocol.entities import ROLES, Alert, Duty, DutyPlan, Event, Role
from protocol.messages import USER_NAME_MAX

log = logging.getLogger("dispatch.store")
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_REVISION = re.compile(
    r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(None|'[^']*'|\"[^\"]*\")\s*$", re.MULTILINE
)


# How far a log row's time may lag a later row's (rows are written in commit order, stamped
# by one clock): a read of the log by time looks this much further on each side.
TIME_SLACK = 60.0


def head_revision() -> str | None:
    """The newest migration, read from the files (alembic's own reading costs its import):
    None unless the revisions form one plain chain (then alembic decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        found = {m.group(1): m.group(2) for m in _REVISION.finditer(source)}
        revision, parent = found.get("revision"), found.get("down_revision")
        if revision is None or revision == "None" or parent is None:
            return None  # not a migration written the plain way
        revisions.add(revision.strip("'\""))
        if parent != "None":
            parents.add(parent.strip("'\""))
    heads = revisions - parents
    if len(heads) != 1 or not parents <= revisions or len(parents) != len(revisions) - 1:
        return None
    return heads.pop()


_encode = msgspec.json.Encoder().encode
_event_decoder = msgspec.json.Decoder(Event)
_alert_decoder = msgspec.json.Decoder(Alert)
_duty_decoder = msgspec.json.Decoder(Duty)
_plan_decoder = msgspec.json.Decoder(DutyPlan)
# The district of a store that names none (meta `district`): the default's.
DEFAULT_DISTRICT = "340803"


def _duty_of(district: str, doc: str) -> Duty:
    """A stored duty, naming its district (one stored before districts had their own does
    not: its row does)."""
    duty = _duty_decoder.decode(doc)
    return duty if duty.district else msgspec.structs.replace(duty, district=district)


def _plan_of(district: str, doc: str) -> DutyPlan:
    """A stored plan, naming its district (as _duty_of)."""
    plan = _plan_decoder.decode(doc)
    return plan if plan.district else msgspec.structs.replace(plan, district=district)


# The meta key of the first seq whose log key is a community code (older rows: a street's).
COMMUNITY_KEYS_FROM = "community_keys_from"
# Ids are BIGINT columns: a larger one (EventId is any integer >= 1 on the wire) names no
# row, and must not reach the driver, which raises on it (OverflowError, DataError).
MAX_ID = 2**63 - 1


def _update_by_id(table: Table) -> Update:
    # No values(): the SET list comes from the parameter dicts, one executemany per batch.
    return update(table).where(table.c.id == bindparam("b_id"))


_UPDATE_EVENT = _update_by_id(EventRow.__table__)  # type: ignore[arg-type]
_UPDATE_ALERT = _update_by_id(AlertRow.__table__)  # type: ignore[arg-type]


_SQLITE_LOCKS: dict[str, threading.Lock] = {}
_SQLITE_LOCKS_GUARD = threading.Lock()


def _sqlite_lock(url: str) -> threading.Lock:
    with _SQLITE_LOCKS_GUARD:
        return _SQLITE_LOCKS.setdefault(url, threading.Lock())


def hash_token(token: str) -> str:
    """The stored form of a token: tokens are 256-bit random, so one SHA-256 is enough."""
    return hashlib.sha256(token.encode()).hexdigest()


def redact_url(url: str) -> str:
    """A database URL fit for a log line: the password replaced by ***."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@dataclass(frozen=True, slots=True)
class User:
    """A user as the server sees it after authentication."""

    name: str
    role: Role
    jurisdiction: frozenset[str] | None  # street or community codes; None: the whole district
    # When this name was (re)created: a re-keyed user has a new one, so a connection made
    # with the old token can be told from one made with the new.
    created_at: float = 0.0


@dataclass(frozen=True, slots=True)
class Account:
    """A user as an administrator sees it: revoked ones too, and when it was made."""

    name: str
    role: str
    jurisdiction: list[str]  # street or community codes, sorted; empty: the whole district
    created_at: float
    revoked: bool
    display_name: str = ""


@dataclass(frozen=True, slots=True)
class AdminEntry:
    """One row of the admin log: who asked what about whom, and how it ended. No token."""

    at: float
    actor: str
    peer: str
    action: str  # users, create_user, update_user, revoke_user, roster, …, more_refusals
    target: str = ""
    detail: str = ""
    outcome: str = "ok"  # or the error code
    message: str = ""


# How each side names the jurisdiction's parts in its refusals: the options, or the fields.
USER_WORDS = {"cli": ("--street", "--community"), "wire": ("streets", "communities")}
RESERVED_NAMES = frozenset({"system"})  # the clock's changes are filed under it


def check_user(
    name: str,
    role: str,
    streets: Iterable[str],
    communities: Iterable[str],
    known: Callable[[str], Collection[str]],
    words: str = "cli",
) -> tuple[Role, list[str]]:
    """The role and the jurisdiction's codes of a user to create, or ValueError saying what
    is wrong (the command line's create-user and the protocol's create_user alike).

    The jurisdiction is street codes (role street; other roles optionally), district codes
    (6 digits, given among the streets: roles other than street and community, in a store
    holding several districts of a city) or, for role community only, community codes; none
    at all is the whole district (the whole city). `known(kind)` gives the codes of the
    loaded units of a kind; `words` whose names the messages use.
    """
    street_word, community_word = USER_WORDS[words]
    if not 1 <= len(name) <= USER_NAME_MAX:
        raise ValueError(f"a user's name is 1 to {USER_NAME_MAX} characters, not {len(name)}")
    if name != name.strip() or any(unicodedata.category(c).startswith("C") for c in name):
        raise ValueError(
            "a user's name may not start or end with a space, nor hold control characters"
        )
    if name in RESERVED_NAMES:
        raise ValueError(f"the name {name!r} is reserved for the system's own changes")
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    streets, communities = sorted(set(streets)), sorted(set(communities))
    if role == "community":
        if streets:
            raise ValueError(
                f"a community user's jurisdiction is communities ({community_word}), not streets"
            )
        if not communities:
            raise ValueError(f"a community user needs at least one community ({community_word})")
    elif communities:
        raise ValueError(
            f"only community users have communities in their jurisdiction; a {role} user's"
            f" is streets ({street_word}) or the whole district"
        )
    if role == "street" and not streets:
        raise ValueError("a street user needs at least one street in its jurisdiction")
    districts = [code for code in streets if len(code) == DISTRICT_WIDTH]
    if districts and len(districts) != len(streets):
        raise ValueError(
            f"a jurisdiction is districts or streets ({street_word}), not both: "
            + ", ".join(streets)
        )
    if districts and role == "street":
        raise ValueError(
            f"a street user's jurisdiction is streets, not districts: {', '.join(districts)}"
        )
    kind = "community" if communities else "district" if districts else "street"
    codes = communities or streets
    if codes:
        loaded = set(known(kind))
        if not loaded:
            raise ValueError("no district loaded: run `dispatch load-district` first")
        unknown = [code for code in codes if code not in loaded]
        if unknown:
            shown = ", ".join(unknown[:20]) + (" …" if len(unknown) > 20 else "")
            raise ValueError(f"unknown {kind} code(s): {shown}")
    return role, codes


def check_display_name(text: str) -> str:
    """A display name as given, or ValueError saying what is wrong: at most USER_NAME_MAX
    characters, no space at either end, no control characters; "" for none."""
    if len(text) > USER_NAME_MAX:
        raise ValueError(f"a display name is at most {USER_NAME_MAX} characters, not {len(text)}")
    if text != text.strip() or any(unicodedata.category(c).startswith("C") for c in text):
        raise ValueError(
            "a display name may not start or end with a space, nor hold control characters"
        )
    return text


# How each side names the parts of an update-user (its options, or the fields).
UPDATE_WORDS = {
    "cli": {
        "role": "--role",
        "streets": "--street",
        "communities": "--community",
        "whole_district": "--whole-district",
        "display_name": "--display-name",
        "new_token": "--new-token",
    },
    "wire": {
        part: part
        for part in (
            "role",
            "streets",
            "communities",
            "whole_district",
            "display_name",
            "new_token",
        )
    },
}


def check_update(
    role: str | None,
    streets: Sequence[str],
    communities: Sequence[str],
    whole_district: bool,
    display_name: str | None,
    new_token: bool,
    words: str = "cli",
) -> tuple[list[str] | None, str, str]:
    """What an update-user asks (the command line's update-user and the protocol's
    update_user alike): the new jurisdiction's codes (None: unchanged, [] the whole
    district), their kind (street or community) and the admin log's detail; or ValueError
    when the parts asked for do not go together or nothing is asked. Store.update_user
    checks the result as check_user does."""
    said = UPDATE_WORDS[words]
    codes: list[str] | None = None
    kind = "community" if communities else "street"
    if whole_district:
        if streets or communities:
            raise ValueError(
                f"{said['whole_district']} takes no {said['streets']} or {said['communities']}"
            )
        codes = []
    elif streets or communities:
        if streets and communities:
            raise ValueError(f"give {said['streets']} or {said['communities']} codes, not both")
        codes = list(streets or communities)
    if role is None and codes is None and not new_token and display_name is None:
        raise ValueError(
            f"nothing to change: give {said['role']}, {said['streets']},"
            f" {said['communities']}, {said['whole_district']}, {said['display_name']}"
            f" or {said['new_token']}"
        )
    asked = [f"role={role}"] if role else []
    if codes is not None:
        asked.append(f"codes={','.join(codes) or 'district'}")
    if display_name is not None:
        asked.append(f"display_name={display_name}")
    if new_token:
        asked.append("new_token")
    return codes, kind, " ".join(asked)[:2000]


def user_detail(
    role: str, streets: Iterable[str], communities: Iterable[str], display_name: str = ""
) -> str:
    """What a create-user asked, for the admin log and its log line: role, codes, and the
    display name if one was given."""
    parts = [f"role={role}"]
    for word, codes in (("streets", list(streets)), ("communities", list(communities))):
        if codes:
            parts.append(f"{word}={','.join(codes)}")
    if display_name:
        parts.append(f"display_name={display_name}")
    return " ".join(parts)[:2000]


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """A command applied once, kept to answer repeats with the first result."""

    command_id: str
    user: str
    op: str
    digest: str
    result: str  # JSON of the Result message's data (ok) or of the error (code, message)
    seq: int | None  # given to commit() as the offset of its last change within the batch
    at: float


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One row of the log as replay needs it; `key` is who may see it (jurisdiction.py)."""

    seq: int
    at: float
    actor: str
    action: str
    entity: str
    key: str
    after: str


class LogRow(NamedTuple):
    """One audit row as a replay folds it: its document as UTF-8 bytes (no str made)."""

    seq: int
    at: float
    actor: str
    action: str
    entity: str
    key: str  # who may see it (jurisdiction.py): a community's code, "" for everyone
    doc: bytes


@dataclass(frozen=True, slots=True)
class Image:
    """A stored alert snapshot; `street` and `grid` are the alert's, filled in when read, and
    `event_street`, `event_grid` those of the case it was confirmed into or attached to."""

    content_type: str
    body: bytes
    street: str = ""
    grid: str = ""
    event_street: str = ""
    event_grid: str = ""


class _Place(msgspec.Struct):
    """Where a stored alert is: the part of its document an image check needs."""

    grid: str = ""
    event: int | None = None


_place_decoder = msgspec.json.Decoder(_Place)


class StoreError(Exception):
    """A storage failure the caller should report (nothing of the batch was kept)."""


class _Held(Exception):
    """The claim is held by another backend (`who`, as far as the database says)."""

    def __init__(self, message: str, who: str) -> None:
        super().__init__(message)
        self.who = who


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A feedback row of the intake outbox as stored."""

    id: int
    key: str
    channel: str
    peer: str
    ref: str
    event: int
    kind: str
    body: str
    state: str
    attempts: int
    next_at: float
    created_at: float
    delivered_at: float | None
    last_error: str


class ExternalConflict(StoreError):
    """A batch's commit refused: an external id it took for new was stored already. Nothing
    of the batch was kept; applied again with each external id looked up, it commits."""


class Deposed(StoreError):
    """A commit refused: another backend took the writer lease (its fencing number is not
    this backend's any more). Nothing of the batch was kept; this backend must stop writing."""


# How often a standby asks for the writer's lock (a takeover within a second of the lock's
# release: the session of a killed writer ends as soon as PostgreSQL sees its socket close).
STANDBY_POLL_SECONDS = 0.5
# Taking the lease waits this long for its row, then ends the deposed writer holding it
# (_end_deposed_writers) and tries again, this many times in all.
LEASE_LOCK_TIMEOUT = "1s"
LEASE_TRIES = 5


class UserExists(ValueError):
    """create_user without `exists_ok` on a name that is taken."""

    def __init__(self, name: str, words: str = "cli") -> None:
        super().__init__(
            f"user {name} exists: `dispatch update-user {name}` changes its role or "
            "jurisdiction (--new-token gives it a new token)"
            if words == "cli"
            else f"user {name} exists: update_user changes its role or jurisdiction"
            " (new_token gives it a new token)"
        )


def _session_of(conn: Connection) -> tuple[int, Any]:
    """(backend pid, backend start) of a PostgreSQL connection's session."""
    row = conn.execute(
        text("SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()")
    ).one()
    return int(row[0]), row[1]


def make_engine(url: str, *, writer: bool = False, read_only: bool = False) -> Engine:
    """An engine for SQLite (WAL, one file) or PostgreSQL, tuned for the writer's batches;
    `writer`: the writer's own, one connection that no reader can take from it; `read_only`:
    connections the database refuses to write on (another process's reads)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        database = engine.url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            path = Path(database)

            @event.listens_for(engine, "do_connect")
            def _private(*_args: Any) -> None:
                # Made mode 600 before SQLite opens it (its -wal and -shm files take the
                # database's mode): events, reporters, phone numbers and token hashes are
                # for the backend's account only. Tightened if it was looser.
                if path.parent.is_dir():
                    create_private(path)
                    for suffix in ("-wal", "-shm", ".owner"):
                        tighten(path.with_name(path.name + suffix))

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # FULL: an acknowledged command survives a power cut (NORMAL could lose the last
            # commits, and resuming clients would then see other history under the same seqs).
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            if read_only:
                cursor.execute("PRAGMA query_only=ON")
            cursor.close()

        return engine
    if read_only:  # one connection, on which PostgreSQL refuses every write
        engine = create_engine(url, pool_size=1, max_overflow=0, pool_pre_ping=True)

        @event.listens_for(engine, "connect")
        def _read_only(dbapi_connection: Any, _record: Any) -> None:
            # A statement, not the URL's `options` (a URL's own options, e.g. a search_path,
            # would be replaced); committed, or the pool's reset would roll it back.
            cursor = dbapi_connection.cursor()
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            cursor.close()
            dbapi_connection.commit()

        return engine
    if writer:
        return create_engine(url, pool_size=1, max_overflow=0, pool_pre_ping=True)
    return create_engine(url, pool_size=5, max_overflow=5, pool_pre_ping=True)


class Store:
    """The dispatch backend's database."""

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        """`read_only`: a reader in another process (the risk training's): its connections
        refuse writes, and it never claims the database nor writes."""
        self.url = url
        self.engine = make_engine(url, read_only=read_only)
        # The writer's commits on a connection of their own: readers (history, admin, the
        # intakes' look-ups) holding every pooled one never make a commit wait.
        self.writer_engine = make_engine(url, writer=True, read_only=read_only)
        self._copy = self.engine.dialect.name == "postgresql"
        self._notify = self._copy  # LISTEN/NOTIFY: PostgreSQL's
        mark = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        self._insert_log_sql = (
            f"INSERT INTO log ({', '.join(_LOG_COLUMNS)}) VALUES ({', '.join([mark] * 9)})"
        )
        self._insert_external_sql = (
            f"INSERT INTO external_ids ({', '.join(_EXTERNAL_COLUMNS)}) "
            f"VALUES ({', '.join([mark] * len(_EXTERNAL_COLUMNS))})"
        )
        # SQLite's busy handler polls, so writers in one process can starve each other for
        # longer than the busy timeout; queue them on one lock per file instead.
        self._write_lock = (
            _sqlite_lock(url) if url.startswith("sqlite") else contextlib.nullcontext()
        )
        self._claim: Any = None  # what holds the claim: a locked file or a PG session
        self._claim_lost = False  # the PG session that held it is gone: to be taken again
        # That session's (backend pid, start) on PostgreSQL: the pair names it on one server
        # only (after a failover, the same pid on the new server is another session).
        self._claim_session: tuple[int, Any] | None = None
        self._key = 0  # the advisory lock key of a PostgreSQL claim
        self._seed: bytes | None = None  # the lock key's seed: the schema (PostgreSQL)
        # The writer lease's fencing number this backend holds (take_lease); None: not the
        # writer (tools, tests writing directly), whose commits are not fenced.
        self.fence: int | None = None

    def close(self) -> None:
        """Release the claim and the connection pools."""
        self.release()
        self.fence = None
        self.engine.dispose()
        self.writer_engine.dispose()

    def drop_pooled_connections(self) -> None:
        """Forget the idle pooled connections (readers' and the writer's); the next use opens
        new ones.

        Called by the writer after a batch failed on the database (its commit, or a read
        before it): its server may be gone without a word (a machine cut off sends no
        reset), and a pooled connection to it used within the last keepalive interval still
        looks alive, so the pre-ping of the next checkout would wait tcp_user_timeout before
        giving up (measured: 2-5 s more, docs/deployment.md). SQLAlchemy invalidates the
        connection that failed, and only in its own pool, not in the other one.
        Closing a connection only queues its goodbye: no wait.
        The claim's connection is checked out, so kept: the advisory lock stays held.
        PostgreSQL only (SQLite has no server to lose; an in-memory one lives in its pool)."""
        if self.engine.dialect.name != "postgresql":
            return
        self.engine.dispose()
        self.writer_engine.dispose()

    # ---- one backend per database ------------------------------------------------------------

    def claim(self) -> None:
        """Become the one backend writing to this database, or fail saying another one is.

        SQLite: an exclusive lock on a file beside the database (released by the OS if the
        process dies); PostgreSQL: a session advisory lock. A standby asks for it with
        claim_unless_held and try_claim instead.
        """
        try:
            self._claim_once()
        except _Held as held:
            raise StoreError(str(held)) from None

    def _claim_once(self) -> None:
        """One try at the claim: _Held when another backend has it."""
        if self._claim is not None:
            return
        if self.engine.dialect.name == "sqlite":
            database = self.engine.url.database or ""
            if not database or database == ":memory:":
                return
            path = Path(database)
            holder = path.with_name(path.name + ".owner")
            try:
                fd = open_private(holder, os.O_RDWR | os.O_APPEND)
                handle = os.fdopen(fd, "a+", encoding="utf-8")
            except OSError as exc:
                raise StoreError(f"cannot claim {path}: {exc.strerror or exc}") from None
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                who = handle.read().strip() or "another process"
                handle.close()
                raise _Held(
                    f"another dispatch backend is serving {path} ({who}): stop it first", who
                ) from None
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}")
            handle.flush()
            self._claim = handle
            return
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            key = self._key = self._lock_key(conn)
            got = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
            if got:
                self._claim_session = _session_of(conn)
        except BaseException:
            conn.close()
            raise
        if not got:
            who = "another backend"
            with contextlib.suppress(SQLAlchemyError):  # no lease table yet (before 0009)
                lease = conn.execute(select(WriterLease.holder, WriterLease.fence)).first()
                if lease is not None and lease[0]:
                    who = f"{lease[0]}, fence {lease[1]}"
            conn.close()
            raise _Held(
                f"another dispatch backend is serving {redact_url(self.url)} ({who}): "
                "stop it first, or start this one with --standby",
                who,
            )
        self._claim = conn

    def _lock_key(self, conn: Connection | None = None) -> int:
        """The advisory lock's key. Advisory locks are per database; the schema is part of
        the key so that schemas of one database (the tests') stay independent: the schema
        the server resolves the tables in (asked once, on `conn` or a pooled connection),
        not the URL's spelling of it, which differs from node to node (`-csearch_path=x`,
        `-c search_path=x`, more options beside it: each had a key of its own, and a second
        writer started beside the first). The seeds are the ones earlier versions made of
        the two usual spellings (no options, `-csearch_path=x`), so their nodes agree."""
        if self._seed is None:
            if conn is None:
                with self.engine.connect() as own:
                    schema = own.execute(text("SELECT current_schema()")).scalar()
            else:
                schema = conn.execute(text("SELECT current_schema()")).scalar()
            if schema is None:  # not cached: the key would be every missing schema's
                raise StoreError(
                    f"{redact_url(self.url)}: no schema of its search_path exists: create it"
                    " first (or name one that does)"
                )
            path = "" if schema == "public" else f"-csearch_path={schema}"
            self._seed = f"tongguan-backend:{path}".encode()
        return int.from_bytes(hashlib.sha256(self._seed).digest()[:8], "big", signed=True)

    @property
    def log_channel(self) -> str:
        """The PostgreSQL channel the writer notifies at each commit of log rows (its payload:
        the rows or the last seq, log_notice.py); one per database and schema, like the
        advisory lock (the first use may ask the database: not on an event loop)."""
        return self._log_channel()

    def _log_channel(self, conn: Connection | None = None) -> str:
        """log_channel, asking on `conn` if the schema is not known yet (a commit asks on its
        own connection: the pool's may all be taken)."""
        return f"tongguan_log_{self._lock_key(conn) & 0xFFFFFFFFFFFF:012x}"

    def connect_args(self) -> tuple[list[Any], dict[str, Any]]:
        """The URL's connection parameters (host, database, schema...) for a psycopg
        connection of one's own (a LISTEN's), as the engine would connect."""
        args, params = self.engine.dialect.create_connect_args(self.engine.url)
        params.pop("context", None)  # the synchronous dialect's adapters, not psycopg's
        return list(args), dict(params)

    def keep_claim(self) -> bool:
        """The writer, every few seconds: whether it still holds the writer's lock.

        On PostgreSQL the lock lives in the session that took it. When that session is lost
        (the database restarted, or failed over to a replica, where it was never taken) the
        lock is taken again on a new one: without it, gateways would say no node writes and
        a second backend would not be refused. False when another backend holds it now (a
        standby took over); true while the database does not answer (asked again later).
        """
        claim = self._claim
        if isinstance(claim, Connection) and not self._claim_lost:
            try:
                claim.execute(text("SELECT 1"))
                return True
            except SQLAlchemyError as exc:
                if not getattr(exc, "connection_invalidated", False):
                    return True  # the session is there (a statement's error): asked again
                log.warning(
                    "the writer's lock was lost with its session: %s", str(exc).split("\n")[0]
                )
                self._claim, self._claim_lost = None, True
                with contextlib.suppress(Exception):
                    claim.invalidate()
                with contextlib.suppress(Exception):
                    claim.close()
        if not self._claim_lost:
            return True  # SQLite's file lock (the kernel's while the process lives)
        try:
            self._claim_once()
        except _Held:
            return self._held_by_our_lost_session()
        except SQLAlchemyError:
            return True
        self._claim_lost = False
        log.warning("took the writer's lock again, on a new session")
        return True

    def _held_by_our_lost_session(self) -> bool:
        """The lock is held, and this writer lost its session: whether that is still its own
        (the lease's fencing number unchanged: the server has not ended the old session yet,
        after a network cut), ended now so the next look takes the lock; False when another
        backend took the lease (or this one never held one: nothing tells them apart)."""
        if self.fence is None:
            return False
        try:
            self.check_lease()
        except Deposed:
            return False
        except SQLAlchemyError:
            return True  # the database away again: asked again later
        if self._claim_session is not None:
            pid, started = self._claim_session
            ended = text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE pid = :pid AND backend_start = :started"
            )
            with contextlib.suppress(SQLAlchemyError), self.engine.connect() as conn:
                conn.execute(ended, {"pid": pid, "started": started})
        return True

    def try_claim(self) -> bool:
        """One try at becoming the one backend serving this database (see claim): whether it
        is now held; a database that does not answer counts as not held."""
        try:
            self._claim_once()
        except _Held:
            return False
        except SQLAlchemyError as exc:
            log.warning("the database does not answer: %s", str(exc).split("\n")[0])
            return False
        return True

    def claim_unless_held(self) -> bool:
        """Claim the database unless another backend holds it: whether this one now does.
        A database that does not answer is waited for (said once), asking every
        STANDBY_POLL_SECONDS: a standby starting while its database restarts."""
        away = False
        while True:
            try:
                self._claim_once()
                return True
            except _Held:
                return False
            except SQLAlchemyError as exc:
                if not away:
                    first_line = str(exc).split("\n")[0]
                    log.warning("standby: the database does not answer: %s", first_line)
                away = True
            time.sleep(STANDBY_POLL_SECONDS)

    def set_endpoint(self, endpoint: str) -> None:
        """The writer says where it serves (a standby refusing a command names it); fenced
        like its commits: a deposed writer cannot overwrite its successor's."""
        table = cast(Table, WriterLease.__table__)
        with self._write_lock, self.writer_engine.begin() as conn:
            query = update(table).where(table.c.id == 1).values(endpoint=endpoint)
            if self.fence is not None:
                query = query.where(table.c.fence == self.fence)
            conn.execute(query)

    def writer_endpoint(self) -> tuple[str, str]:
        """(holder, endpoint) of the writer lease: who writes, and where it serves ("" when it
        has not said)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(WriterLease.holder, WriterLease.endpoint)).first()
        return ("", "") if row is None else (str(row[0]), str(row[1]))

    def writer_lock_held(self) -> bool:
        """Whether some backend holds the writer's lock (PostgreSQL: its session advisory
        lock in pg_locks, not taken to find out; SQLite: not known, so true)."""
        if self.engine.dialect.name != "postgresql":
            return True
        query = text(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND classid::bigint = :high AND objid::bigint = :low AND objsubid = 1)"
        )
        with self.engine.connect() as conn:
            key = self._lock_key(conn) & 0xFFFFFFFFFFFFFFFF
            return bool(conn.execute(query, {"high": key >> 32, "low": key & 0xFFFFFFFF}).scalar())

    def take_lease(self) -> int:
        """Become the writer: add one to the lease's fencing number in the transaction that
        reads it, keep it and return it. Called once the claim is held and the schema is
        current, before the state is loaded (its ids then follow what the last writer
        committed). Every later commit of this Store checks the number is still its own."""
        if self.fence is not None:
            return self.fence
        table = cast(Table, WriterLease.__table__)
        holder = f"{socket.gethostname()} pid {os.getpid()}"
        for attempt in range(LEASE_TRIES):
            try:
                fence = self._bump_lease(table, holder)
                break
            except OperationalError as exc:
                # A writer transaction of a deposed backend holds the row: ended below.
                if "lock timeout" not in str(exc) or attempt == LEASE_TRIES - 1:
                    raise
        self.fence = fence
        log.info("writer lease taken: fence %d", fence)
        return fence

    def _end_deposed_writers(self) -> None:
        """PostgreSQL, holding the claim: end the sessions with a write on the lease open.

        Only a writer updates that row, and this backend holds the writer's lock: such a
        session is a deposed writer's, paused mid-commit (its lock gone with another
        connection). Left alone, its transaction would hold the row, and the takeover with
        it, until it woke."""
        if not isinstance(self._claim, Connection):
            return
        self._claim.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks"
                " WHERE relation = to_regclass('writer_lease') AND mode = 'RowExclusiveLock'"
                " AND granted AND pid <> pg_backend_pid() AND database ="
                " (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        )

    def _bump_lease(self, table: Table, holder: str) -> int:
        """One try at adding one to the fencing number; its new value."""
        self._end_deposed_writers()
        with self._write_lock, self.writer_engine.begin() as conn:
            if self.engine.dialect.name == "postgresql":
                conn.execute(text(f"SET LOCAL lock_timeout = '{LEASE_LOCK_TIMEOUT}'"))
            bumped = conn.execute(
                update(table)
                .where(table.c.id == 1)
                .values(fence=table.c.fence + 1, holder=holder, taken_at=time.time(), endpoint="")
            )
            if bumped.rowcount != 1:  # a schema built without the migration's row
                conn.execute(
                    insert(table).values(id=1, fence=1, holder=holder, taken_at=time.time())
                )
            return int(conn.execute(select(table.c.fence).where(table.c.id == 1)).scalar_one())

    def check_lease(self) -> None:
        """Deposed if another backend took the writer lease since this one did (a read:
        the writer asks at its clock ticks, so that a deposed writer with nothing to commit
        stops too, its other writes with it)."""
        if self.fence is None:
            return
        with self.writer_engine.connect() as conn:
            stored = conn.execute(select(WriterLease.fence).where(WriterLease.id == 1)).scalar()
        if stored != self.fence:
            raise Deposed(
                f"this backend is no longer the writer: another took the writer lease "
                f"(fence {stored}; this one held fence {self.fence})"
            )

    def _check_fence(self, conn: Connection) -> None:
        """Inside a writer transaction: Deposed unless the lease's number is still ours.

        On PostgreSQL the UPDATE locks the row until this transaction ends, so a standby's
        bump waits for a commit under way and every commit after the bump sees it."""
        if self.fence is None:
            return
        table = cast(Table, WriterLease.__table__)
        kept = conn.execute(
            update(table)
            .where(table.c.id == 1, table.c.fence == self.fence)
            .values(fence=table.c.fence)
        )
        if kept.rowcount != 1:
            raise Deposed(
                f"this backend is no longer the writer: another took the writer lease "
                f"(this one held fence {self.fence}); nothing was applied"
            )

    def release(self) -> None:
        """Give up the claim (a stopped backend; the next one may serve)."""
        claim, self._claim = self._claim, None
        if claim is None:
            return
        if isinstance(claim, Connection):
            try:
                # Unlocked at once: a closed session's locks go only once the server notices
                # (a backend starting right after this one stopped could still find it held).
                with contextlib.suppress(Exception):
                    claim.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
                # A pooled connection outlives close(): end the session itself.
                claim.invalidate()
            finally:
                with contextlib.suppress(Exception):
                    claim.close()
        else:
            claim.close()  # closing the file drops its lock

    # ---- schema ----------------------------------------------------------------------------

    def upgrade(self) -> None:
        """Create or upgrade the schema to the newest migration, and set the epoch.

        A database already at the newest migration is seen without alembic, whose import
        alone is a quarter of a second of every start of the backend."""
        if not self._at_head():
            from alembic import command as alembic_command
            from alembic.config import Config

            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS))
            with self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                alembic_command.upgrade(cfg, "head")
        with self.engine.begin() as conn:
            if conn.execute(select(LogHead.seq).where(LogHead.id == 1)).first() is None:
                conn.execute(insert(LogHead).values(id=1, seq=0, trimmed=0))
            if self._meta(conn, "epoch") is None:
                conn.execute(insert(MetaRow).values(key="epoch", value=uuid.uuid4().hex[:16]))

    def _at_head(self) -> bool:
        """Whether the database records the newest migration (read from the migration files
        and the alembic_version table; False whenever that is not plain)."""
        head = head_revision()
        if head is None:
            return False
        try:
            with self.engine.connect() as conn:
                stored = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        except SQLAlchemyError:
            return False  # no schema yet
        return [row[0] for row in stored] == [head]

    def is_current(self) -> bool:
        """Whether the schema exists and is at the newest migration."""
        from alembic.config import Config
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        head = ScriptDirectory.from_config(cfg).get_current_head()
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision() == head

    @staticmethod
    def _meta(conn: Connection, key: str) -> str | None:
        return conn.execute(select(MetaRow.value).where(MetaRow.key == key)).scalar()

    def meta(self, key: str) -> str | None:
        """A meta value."""
        with self.engine.connect() as conn:
            return self._meta(conn, key)

    def meta_items(self, prefix: str) -> dict[str, str]:
        """The meta values whose keys start with `prefix`, by key."""
        query = select(MetaRow.key, MetaRow.value).where(
            MetaRow.key.startswith(prefix, autoescape=True)
        )
        with self.engine.connect() as conn:
            return {key: value for key, value in conn.execute(query).all()}

    def set_meta(self, key: str, value: str) -> None:
        """Set a meta value."""
        with self.engine.begin() as conn:
            conn.execute(delete(MetaRow).where(MetaRow.key == key))
            conn.execute(insert(MetaRow).values(key=key, value=value))

    def epoch(self) -> str:
        """This database's epoch: changes when its history is no longer continuous."""
        value = self.meta("epoch")
        if value is None:
            raise StoreError("database not initialised: run `dispatch init-db`")
        return value

    # ---- the log ---------------------------------------------------------------------------

    def head(self) -> tuple[int, int]:
        """(last seq handed out, last seq trimmed away)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(LogHead.seq, LogHead.trimmed).where(LogHead.id == 1)).one()
            return int(row[0]), int(row[1])

    def community_keys_from(self) -> int:
        """The seq after which every log row is keyed by community: rows up to it may be
        keyed by street (written before community jurisdictions), and a community user
        resuming before it gets a snapshot rather than a replay that would miss them.

        Set to the head the first time it is asked (by the backend starting); rows are never
        rewritten (the log is append-only), so the boundary is remembered instead.
        """
        with self._write_lock, self.engine.begin() as conn:
            value = self._meta(conn, COMMUNITY_KEYS_FROM)
            if value is not None:
                return int(value)
            head = int(conn.execute(select(LogHead.seq).where(LogHead.id == 1)).scalar_one())
            conn.execute(insert(MetaRow).values(key=COMMUNITY_KEYS_FROM, value=str(head)))
            return head

    def commit(
        self,
        changes: Sequence[Change],
        commands: Sequence[CommandRecord] = (),
        images: Sequence[tuple[int, Image]] = (),
        docs: Sequence[tuple[bytes, bytes | None]] | None = None,
        externals: Sequence[ExternalRecord] = (),
        outbox: Sequence[OutboxItem] = (),
    ) -> int:
        """Write a batch in one transaction; return the seq of its first change.

        `docs` are the changes' (after, before) entities already encoded, when the caller has
        them (the writer does, for the deltas): each entity is then encoded once.
        `externals` are the external ids of the reports it creates (report_batch).

        The counter row is bumped first: its lock serialises writers, so a reader of
        `seq > last` never sees a later seq commit before an earlier one.
        """
        try:
            with self._write_lock, self.writer_engine.begin() as conn:
                self._check_fence(conn)
                first, log_rows = self._commit(conn, changes, commands, images, docs)
                if changes and self._notify:
                    # Delivered at the commit, to every standby and gateway that listens: the
                    # rows themselves when they fit (dispatch/store/log_notice.py).
                    last = str(first + len(changes) - 1)
                    told = notice_payload([_noticed_fields(row) for row in log_rows])
                    conn.exec_driver_sql(
                        NOTIFY_SQL,
                        (self._log_channel(conn), QUEUE_SHARE_FOR_ROWS, last, told or last),
                    )
                if externals:
                    self._insert_externals(conn, externals)
                if outbox:
                    conn.execute(insert(OutboxRow), [_outbox_row(item) for item in outbox])
                return first
        except (ExternalConflict, Deposed):
            raise
        except Exception as exc:
            raise StoreError(f"commit failed: {exc}") from exc

    # ---- the intake outbox (migration 0006, dispatch/intake/outbox.py) ---------------------

    def outbox_pending(self, limit: int = 5000) -> list[OutboxEntry]:
        """The oldest pending feedback, in the order it was made."""
        query = (
            select(*_OUTBOX_COLUMNS)
            .where(OutboxRow.state == "pending")
            .order_by(OutboxRow.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [OutboxEntry(*row) for row in conn.execute(query)]  # type: ignore[call-arg]

    def outbox_mark(
        self,
        delivered: Sequence[tuple[int, float]] = (),
        failed: Sequence[tuple[int, int, float, str]] = (),
        refused: Sequence[tuple[int, int, str]] = (),
    ) -> None:
        """Record deliveries (id, at), failures to retry (id, attempts, next_at, error) and
        refusals (id, attempts, error), in one transaction."""
        table = cast(Table, OutboxRow.__table__)
        with self._write_lock, self.engine.begin() as conn:
            if delivered:
                conn.execute(
                    update(table)
                    .where(table.c.id == bindparam("b_id"))
                    .values(
                        state="delivered",
                        delivered_at=bindparam("b_at"),
                        attempts=table.c.attempts + 1,
                        last_error="",
                    ),
                    [{"b_id": i, "b_at": at} for i, at in delivered],
                )
            if failed:
                conn.execute(
                    update(table)
                    .where(table.c.id == bindparam("b_id"))
                    .values(
                        attempts=bindparam("b_attempts"),
                        next_at=bindparam("b_next"),
                        last_error=bindparam("b_error"),
                    ),
                    [
                        {"b_id": i, "b_attempts": n, "b_next": t, "b_error": e[:2000]}
                        for i, n, t, e in failed
                    ],
                )
            if refused:
                conn.execute(
                    update(table)
                    .where(table.c.id == bindparam("b_id"))
                    .values(
                        state="refused",
                        attempts=bindparam("b_attempts"),
                        last_error=bindparam("b_error"),
                    ),
                    [{"b_id": i, "b_attempts": n, "b_error": e[:2000]} for i, n, e in refused],
                )

    def outbox_entries(
        self, state: str | None = None, event: int | None = None, limit: int = 100
    ) -> list[OutboxEntry]:
        """Feedback rows, newest first (a state's, an event's)."""
        query = select(*_OUTBOX_COLUMNS).order_by(OutboxRow.id.desc()).limit(limit)
        if state is not None:
            query = query.where(OutboxRow.state == state)
        if event is not None:
            query = query.where(OutboxRow.event_id == event)
        with self.engine.connect() as conn:
            return [OutboxEntry(*row) for row in conn.execute(query)]  # type: ignore[call-arg]

    def outbox_counts(self) -> dict[str, int]:
        """How many feedback rows are in each state."""
        query = select(OutboxRow.state, func.count()).group_by(OutboxRow.state)
        with self.engine.connect() as conn:
            return {state: int(n) for state, n in conn.execute(query)}

    def outbox_peer_counts(self) -> dict[str, dict[str, int]]:
        """How many feedback rows each peer has in each state."""
        query = select(OutboxRow.peer, OutboxRow.state, func.count()).group_by(
            OutboxRow.peer, OutboxRow.state
        )
        out: dict[str, dict[str, int]] = {}
        with self.engine.connect() as conn:
            for peer, state, n in conn.execute(query):
                out.setdefault(peer, {})[state] = int(n)
        return out

    def outbox_retry_ids(self, ids: Iterable[int], now: float) -> list[int]:
        """Send refused (or pending) feedback again now; the ids that were (the others are
        delivered already or absent)."""
        wanted = sorted(set(ids))
        with self._write_lock, self.engine.begin() as conn:
            found = [
                int(i)
                for (i,) in conn.execute(
                    select(OutboxRow.id).where(
                        OutboxRow.id.in_(wanted), OutboxRow.state != "delivered"
                    )
                )
            ]
            if found:
                conn.execute(
                    update(OutboxRow)
                    .where(OutboxRow.id.in_(found))
                    .values(state="pending", next_at=now)
                )
            return sorted(found)

    def outbox_retry(self, ids: Iterable[int], now: float) -> int:
        """Send refused (or pending) feedback again now; how many rows were found."""
        wanted = list(ids)
        with self._write_lock, self.engine.begin() as conn:
            result = conn.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(wanted), OutboxRow.state != "delivered")
                .values(state="pending", next_at=now)
            )
            return int(result.rowcount or 0)

    def _insert_externals(self, conn: Connection, externals: Sequence[ExternalRecord]) -> None:
        """Write a batch's external ids; ExternalConflict when one is stored already (the
        key refuses it, and the transaction is rolled back)."""
        rows = [(r.actor, r.external_id, r.event, r.code, r.at) for r in externals]
        dbapi = conn.dialect.loaded_dbapi
        try:
            if self._copy:
                _copy_rows(conn, "external_ids", _EXTERNAL_COLUMNS, rows)
            else:
                conn.exec_driver_sql(self._insert_external_sql, rows)
        except Exception as exc:
            driver = getattr(exc, "orig", exc)  # SQLAlchemy wraps the driver's errors
            if isinstance(driver, dbapi.IntegrityError):
                raise ExternalConflict(f"an external id is stored already: {driver}") from exc
            raise

    def _commit(
        self,
        conn: Connection,
        changes: Sequence[Change],
        commands: Sequence[CommandRecord],
        images: Sequence[tuple[int, Image]],
        docs: Sequence[tuple[bytes, bytes | None]] | None,
    ) -> tuple[int, list[tuple[Any, ...]]]:
        """Write the batch's rows; (the seq of its first change, its log rows)."""
        n = len(changes)
        conn.execute(update(LogHead).where(LogHead.id == 1).values(seq=LogHead.seq + n))
        last = int(conn.execute(select(LogHead.seq).where(LogHead.id == 1)).scalar_one())
        first = last - n + 1
        log_rows: list[tuple[Any, ...]] = []
        events, alerts = _Upserts(), _Upserts()
        duties: dict[tuple[str, str], dict[str, Any]] = {}
        for offset, change in enumerate(changes):
            if docs is not None:
                after_doc, before_doc = docs[offset]
                doc = after_doc.decode()
                before = None if before_doc is None else before_doc.decode()
            else:
                doc = _encode(change.after).decode()
                before = None if change.before is None else _encode(change.before).decode()
            log_rows.append(
                (
                    first + offset,
                    change.at,
                    change.actor,
                    change.action,
                    change.kind,
                    change.id,
                    change.key,  # the `street` column holds the visibility key
                    before,
                    doc,
                )
            )
            after = change.after
            if isinstance(after, Event):
                events.put(after.id, _event_row(after, doc), change.before is None)
            elif isinstance(after, Alert):
                alerts.put(after.id, _alert_row(after, doc), change.before is None)
            else:
                # A duty's change is filed under its district's code (State._make_change).
                district = change.key or after.district
                duties[(district, after.day)] = {
                    "district": district,
                    "day": after.day,
                    "updated_at": change.at,
                    "doc": doc,
                }
        # The hot inserts go straight to the driver: COPY on PostgreSQL, executemany on
        # SQLite; SQLAlchemy's per-row parameter processing cost more than the insert itself.
        if log_rows:
            if self._copy:
                _copy_rows(conn, "log", _LOG_COLUMNS, log_rows)
            else:
                conn.exec_driver_sql(self._insert_log_sql, log_rows)
        events.write(conn, EventRow.__table__, _UPDATE_EVENT, self._copy)  # type: ignore[arg-type]
        alerts.write(conn, AlertRow.__table__, _UPDATE_ALERT, self._copy)  # type: ignore[arg-type]
        if duties:
            conn.execute(
                delete(DutyRow).where(tuple_(DutyRow.district, DutyRow.day).in_(list(duties)))
            )
            conn.execute(insert(DutyRow), list(duties.values()))
        if images:
            # A later snapshot of an alert (a camera platform's better picture) replaces it.
            images = list(dict(images).items())
            conn.execute(delete(AlertImage).where(AlertImage.alert_id.in_([i for i, _ in images])))
            conn.execute(
                insert(AlertImage),
                [
                    {"alert_id": i, "content_type": im.content_type, "body": im.body}
                    for i, im in images
                ],
            )
        if commands:
            conn.execute(
                insert(CommandRow),
                [
                    {
                        "command_id": r.command_id,
                        "user": r.user,
                        "op": r.op,
                        "digest": r.digest,
                        "result": r.result,
                        "seq": None if r.seq is None else first + r.seq,
                        "at": r.at,
                    }
                    for r in commands
                ],
            )
        return first, log_rows

    def read_log(
        self,
        after: int,
        limit: int = 10_000,
        jurisdiction: frozenset[str] | None = None,
        home: str = "",
    ) -> list[LogRecord]:
        """Log rows with seq > `after`, oldest first, limited to a jurisdiction (street or
        community codes: a row is in it when its key begins with one of them or is its
        district's code; a row filed under "", a duty's from before each district had its
        own, is the first district's, `home`: everyone's when that is not given).

        Rows that a `trim-log` running meanwhile moved to the archive are read from there, so
        a replay paging through the log never skips one. The log is read first: a row can
        only move from the log to the archive, never back, so it is found in one or both.
        """
        live = _LOG_RECORD.where(LogEntry.seq > after).order_by(LogEntry.seq).limit(limit)
        archived = (
            _ARCHIVE_RECORD.where(LogArchiveEntry.seq > after)
            .order_by(LogArchiveEntry.seq)
            .limit(limit)
        )
        if jurisdiction is not None:
            # A prefix test that means the same on SQLite and PostgreSQL whatever the
            # collation (a range bound like code || ':' does not, under a locale collation);
            # the seq range still drives the query through the primary key.
            # A district's duty is filed under the district's code: every user inside sees it.
            districts = sorted({code[:DISTRICT_WIDTH] for code in jurisdiction})
            old_duty = [""] if not home or home in districts else []
            width, codes = width_of(jurisdiction), [*jurisdiction, *old_duty]
            if jurisdiction:
                live = live.where(
                    func.substr(LogEntry.street, 1, width).in_(codes)
                    | LogEntry.street.in_(districts)
                )
                archived = archived.where(
                    func.substr(LogArchiveEntry.street, 1, width).in_(codes)
                    | LogArchiveEntry.street.in_(districts)
                )
            else:  # nothing but what everyone sees
                live = live.where(LogEntry.street.in_(old_duty))
                archived = archived.where(LogArchiveEntry.street.in_(old_duty))
        with self.engine.connect() as conn:
            rows = [LogRecord(*row) for row in conn.execute(live)]
            # Usually an empty probe of the archive's primary key.
            moved = [LogRecord(*row) for row in conn.execute(archived)]
        if not moved:
            return rows
        merged = {r.seq: r for r in moved} | {r.seq: r for r in rows}
        return [merged[seq] for seq in sorted(merged)[:limit]]

    def trim_log(self, upto: int, chunk: int = 5_000) -> int:
        """Move log rows with seq <= `upto` to the archive; return how many moved.

        Clients whose resume point is behind `upto` get a reset; `history` still reads the
        rows. Each chunk is one transaction that copies rows to the archive, deletes them
        from the log and raises `trimmed`, so an interruption leaves every row in exactly one
        of the two tables and `trimmed` saying which. Chunks keep the live writer's wait
        short; `log_head` is locked last, for the same reason.
        """
        head, trimmed = self.head()
        if not 0 <= upto <= head:
            raise ValueError(f"cannot archive up to seq {upto}: the log holds seqs up to {head}")
        if chunk < 1:
            raise ValueError("chunk must be at least 1")
        moved = 0
        while trimmed < upto:
            bound = min(upto, trimmed + chunk)
            try:
                with self._write_lock, self.engine.begin() as conn:
                    copied = conn.execute(_ARCHIVE_UPTO, {"bound": bound}).rowcount
                    deleted = conn.execute(delete(LogEntry).where(LogEntry.seq <= bound)).rowcount
                    if copied != deleted:
                        raise StoreError(
                            f"archived {copied} rows but {deleted} left the log: rolled back"
                        )
                    conn.execute(
                        update(LogHead)
                        .where(LogHead.id == 1, LogHead.trimmed < bound)
                        .values(trimmed=bound)
                    )
            except StoreError:
                raise
            except Exception as exc:
                raise StoreError(f"trim stopped at seq {trimmed}: {exc}") from exc
            moved += int(copied or 0)
            trimmed = bound
        return moved

    # ---- state -----------------------------------------------------------------------------

    def _utf8(self, doc: Any) -> ColumnElement[bytes]:
        """A document column read as its UTF-8 bytes, for a bulk read.

        A month of documents read as text costs twice: the driver decodes each into a str,
        and the JSON decoder encodes the str back to UTF-8 (non-ASCII: no cached form). Read
        as bytes, neither happens: 33,604 events load in half the time."""
        if self.engine.dialect.name == "postgresql":
            return func.convert_to(doc, "UTF8", type_=LargeBinary)
        return sql_cast(doc, LargeBinary)

    def load_state(
        self, since: float
    ) -> tuple[list[Event], list[Alert], dict[str, Duty], int, int]:
        """Open events plus those changed since `since`; new alerts plus recent ones; each
        district's duty in force, by district."""
        with self.engine.connect() as conn:
            return self._read_state(conn, since)

    def load_state_at_head(
        self, since: float
    ) -> tuple[tuple[int, int], tuple[list[Event], list[Alert], dict[str, Duty], int, int]]:
        """The log's (head, trimmed) and load_state, read as of one moment (PostgreSQL:
        one REPEATABLE READ transaction): a follower starting while the writer commits
        files the rows after that head, none twice and none missed."""
        with self.engine.connect() as conn:
            if self.engine.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                row = conn.execute(
                    select(LogHead.seq, LogHead.trimmed).where(LogHead.id == 1)
                ).one()
                state = self._read_state(conn, since)
        return (int(row[0]), int(row[1])), state

    def _read_state(
        self, conn: Connection, since: float
    ) -> tuple[list[Event], list[Alert], dict[str, Duty], int, int]:
        open_statuses = ("reported", "accepted", "dispatched", "handling", "handled", "verified")
        events = [
            _event_decoder.decode(doc)
            for (doc,) in conn.execute(
                select(self._utf8(EventRow.doc))
                .where((EventRow.status.in_(open_statuses)) | (EventRow.updated_at >= since))
                .order_by(EventRow.id)
            )
        ]
        alerts = [
            _alert_decoder.decode(doc)
            for (doc,) in conn.execute(
                select(self._utf8(AlertRow.doc))
                .where((AlertRow.status == "new") | (AlertRow.last_at >= since))
                .order_by(AlertRow.id)
            )
        ]
        # Each district's latest duty: its row of the latest day it has (days sort as text).
        latest = (
            select(DutyRow.district, func.max(DutyRow.day).label("day"))
            .group_by(DutyRow.district)
            .subquery()
        )
        duty_rows = conn.execute(
            select(DutyRow.district, DutyRow.doc).join(
                latest, (DutyRow.district == latest.c.district) & (DutyRow.day == latest.c.day)
            )
        ).all()
        max_event = conn.execute(select(EventRow.id).order_by(EventRow.id.desc()).limit(1))
        max_alert = conn.execute(select(AlertRow.id).order_by(AlertRow.id.desc()).limit(1))
        next_event = int(max_event.scalar() or 0) + 1
        next_alert = int(max_alert.scalar() or 0) + 1
        duties = {district: _duty_of(district, doc) for district, doc in duty_rows}
        return events, alerts, duties, next_event, next_alert

    def events_reported(
        self,
        start: float,
        end: float,
        *,
        streets: Iterable[str] = (),
        statuses: Iterable[str] = (),
        categories: Iterable[str] = (),
        chunk: int = 2000,
    ) -> Iterator[Event]:
        """Events reported in [start, end), in report order, as stored now (live or settled
        long ago), narrowed to the streets, statuses and categories given; read in chunks."""
        query = select(self._utf8(EventRow.doc)).where(
            (EventRow.reported_at >= start) & (EventRow.reported_at < end)
        )
        for column, wanted in (
            (EventRow.street, streets),
            (EventRow.status, statuses),
            (EventRow.category, categories),
        ):
            values = list(wanted)
            if values:
                query = query.where(column.in_(values))
        query = query.order_by(EventRow.reported_at, EventRow.id)
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=chunk).execute(query)
            for rows in result.partitions():
                yield from (_event_decoder.decode(doc) for (doc,) in rows)

    def log_between(
        self, entities: Iterable[str], start: float, end: float
    ) -> list[tuple[int, float, str, str, str, int, str]]:
        """Audit rows of these entities made in [start, end), archived and live, in log
        order: (seq, at, actor, action, entity, entity_id, after)."""
        kinds = list(entities)
        both = _live_and_archived(
            lambda log: (
                log.seq,
                log.at,
                log.actor,
                log.action,
                log.entity,
                log.entity_id,
                log.after,
            ),
            lambda log: (log.at >= start, log.at < end, log.entity.in_(kinds)),
        )
        with self.engine.connect() as conn:
            rows = conn.execute(select(both).order_by(both.c.seq))
            return [(int(a), float(b), c, d, e, int(f), g) for a, b, c, d, e, f, g in rows]

    def seq_range(self, start: float, end: float) -> tuple[int, int]:
        """The log positions holding the rows made in [start, end), found by bisecting the
        log (its times rise with its positions: one clock, rows in commit order), widened
        by TIME_SLACK on each side; the caller keeps the rows whose `at` is in range."""
        head, _ = self.head()
        with self.engine.connect() as conn:
            return (
                _first_at_or_after(conn, head, start - TIME_SLACK),
                _first_at_or_after(conn, head, end + TIME_SLACK),
            )

    # ---- replay (dispatch/replay.py) -------------------------------------------------------

    def last_seq_at(self, moment: float) -> int:
        """The last log position whose row was made at or before `moment` (0: none), by the
        same bisection as seq_range (the log's times rise with its positions)."""
        head, _ = self.head()
        with self.engine.connect() as conn:
            return _first_at_or_after(conn, head, math.nextafter(moment, math.inf)) - 1

    def log_span(self) -> tuple[tuple[int, float], tuple[int, float]] | None:
        """(seq, at) of the first and the last row kept, archived or live (None: no rows)."""
        ends = []
        with self.engine.connect() as conn:
            for pick, best in ((func.min, min), (func.max, max)):
                found = []
                for table in (LogEntry, LogArchiveEntry):
                    seq = conn.execute(select(pick(table.seq))).scalar()
                    if seq is not None:
                        found.append(int(seq))
                if not found:
                    return None
                seq = best(found)
                for table in (LogEntry, LogArchiveEntry):
                    at = conn.execute(select(table.at).where(table.seq == seq)).scalar()
                    if at is not None:
                        ends.append((seq, float(at)))
                        break
        if len(ends) < 2:  # a trim moved the row between the two reads: look again
            return self.log_span()
        return ends[0], ends[1]

    def log_rows(self, after: int, upto: int, limit: int) -> list[LogRow]:
        """The audit rows with `after` < seq <= `upto`, archived and live (one statement: a
        trim meanwhile hides none), in log order, at most `limit`."""
        both = _live_and_archived(
            lambda log: (
                *(log.seq, log.at, log.actor, log.action, log.entity, log.street),
                self._utf8(log.after).label("doc"),
            ),
            lambda log: (log.seq > after, log.seq <= upto),
        )
        with self.engine.connect() as conn:
            rows = conn.execute(select(both).order_by(both.c.seq).limit(limit))
            return [LogRow(int(s), float(a), c, n, e, k, bytes(d)) for s, a, c, n, e, k, d in rows]

    def checkpoint_before(self, seq: int, epoch: str) -> tuple[int, float, bytes] | None:
        """(seq, at, doc) of this epoch's last checkpoint at or before `seq`."""
        query = (
            select(Checkpoint.seq, Checkpoint.at, Checkpoint.doc)
            .where(Checkpoint.seq <= seq, Checkpoint.epoch == epoch)
            .order_by(Checkpoint.seq.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else (int(row[0]), float(row[1]), bytes(row[2]))

    def checkpoints(self, epoch: str) -> list[tuple[int, float]]:
        """(seq, at) of this epoch's checkpoints, oldest first."""
        query = select(Checkpoint.seq, Checkpoint.at).where(Checkpoint.epoch == epoch)
        with self.engine.connect() as conn:
            return [(int(s), float(a)) for s, a in conn.execute(query.order_by(Checkpoint.seq))]

    def save_checkpoint(self, seq: int, at: float, epoch: str, doc: bytes) -> None:
        """Keep a checkpoint (one per position: a second of the same seq is the same state)."""
        with self._write_lock, self.engine.begin() as conn:
            if conn.execute(select(Checkpoint.seq).where(Checkpoint.seq == seq)).first():
                return
            conn.execute(insert(Checkpoint).values(seq=seq, at=at, epoch=epoch, doc=doc))

    def drop_checkpoints(self, seqs: Iterable[int], epoch: str | None = None) -> int:
        """Forget these checkpoints (every other epoch's too, given `epoch`); how many."""
        gone = sorted(set(seqs))
        dropped = 0
        with self._write_lock, self.engine.begin() as conn:
            for i in range(0, len(gone), 500):
                part = gone[i : i + 500]
                dropped += conn.execute(delete(Checkpoint).where(Checkpoint.seq.in_(part))).rowcount
            if epoch is not None:
                dropped += conn.execute(
                    delete(Checkpoint).where(Checkpoint.epoch != epoch)
                ).rowcount
        return int(dropped)

    def save_risk_model(self, trained_at: float, doc: bytes, keep: int = 3) -> None:
        """Keep the writer's newest deadline-risk model (its JSON) and the `keep` - 1 before."""
        with self._write_lock, self.engine.begin() as conn:
            conn.execute(insert(RiskModelRow).values(trained_at=trained_at, doc=doc))
            kept = select(RiskModelRow.id).order_by(RiskModelRow.id.desc()).limit(keep)
            conn.execute(delete(RiskModelRow).where(RiskModelRow.id.not_in(kept.scalar_subquery())))

    def risk_model_after(self, stored_id: int) -> tuple[int, bytes] | None:
        """(id, JSON) of the newest deadline-risk model kept, if it is newer than `stored_id`."""
        query = select(RiskModelRow.id, RiskModelRow.doc).order_by(RiskModelRow.id.desc())
        with self.engine.connect() as conn:
            row = conn.execute(query.where(RiskModelRow.id > stored_id).limit(1)).first()
        return None if row is None else (int(row[0]), bytes(row[1]))

    def event_changes(
        self, start: float, end: float, scope: str = ""
    ) -> list[tuple[float, int, int]]:
        """(at, event id, seq) of every event audit row made in [start, end), archived rows
        included: the log's positions of those times (seq_range), read in order; of the
        rows filed under `scope` (a unit code's prefix: one district's) when given."""
        low, high = self.seq_range(start, end)
        rows: list[tuple[float, int, int]] = []
        with self.engine.connect() as conn:
            for table in (LogEntry, LogArchiveEntry):
                query = select(table.at, table.entity_id, table.seq).where(
                    table.seq >= low, table.seq < high, table.entity == "event"
                )
                if scope:
                    query = query.where(table.street.startswith(scope, autoescape=True))
                rows += [(a, i, q) for a, i, q in conn.execute(query).all() if start <= a < end]
        return rows

    def log_index(
        self,
        entities: Iterable[str],
        start: float,
        end: float,
        actions: Iterable[str] | None = None,
        ids: Iterable[int] | None = None,
        scope: str = "",
        old_duty: bool = False,
    ) -> list[tuple[int, float, str, str, str, int]]:
        """Audit rows of these entities made in [start, end) (of these actions, of these
        entity ids, filed under `scope`, a unit code's prefix, when given; and under "",
        the first district's duty before each district had its own, with `old_duty`),
        archived and live, in log order, without their documents: (seq, at, actor, action,
        entity, entity_id); read by position (seq_range)."""
        kinds = frozenset(entities)
        low, high = self.seq_range(start, end)
        chosen = None if actions is None else list(actions)
        wanted = None if ids is None else list(ids)

        def where(log: type[AuditColumns]) -> list[ColumnElement[bool]]:
            clauses = [log.seq >= low, log.seq < high]
            if chosen is not None:
                clauses.append(log.action.in_(chosen))
            if wanted is not None:
                clauses.append(log.entity_id.in_(wanted))
            if scope:
                scoped = log.street.startswith(scope, autoescape=True)
                clauses.append(scoped | (log.street == "") if old_duty else scoped)
            return clauses

        both = _live_and_archived(
            lambda log: (log.seq, log.at, log.actor, log.action, log.entity, log.entity_id), where
        )
        with self.engine.connect() as conn:
            rows = conn.execute(select(both).order_by(both.c.seq)).all()
            return [
                (a, b, c, d, e, f) for a, b, c, d, e, f in rows if e in kinds and start <= b < end
            ]

    def log_docs(self, seqs: Iterable[int], chunk: int = 900) -> dict[int, bytes]:
        """The documents (`after`, as UTF-8) of these audit rows, archived or live."""
        wanted = sorted(set(seqs))
        found: dict[int, bytes] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(wanted), chunk):
                part = wanted[i : i + chunk]
                for table in (LogEntry, LogArchiveEntry):
                    query = select(table.seq, self._utf8(table.after)).where(table.seq.in_(part))
                    for seq, doc in conn.execute(query):
                        found[int(seq)] = bytes(doc)
        return found

    def duty_log(
        self, start: float | None = None, end: float | None = None, duty_id: int | None = None
    ) -> list[tuple[int, float, str, str, Duty]]:
        """Every change of the duty (handovers, instructions, notes, rosters) made in
        [start, end), in log order: (seq, at, actor, action, the duty after it); of one
        district's duty when `duty_id` is given (State: 0 for the store's first district,
        else the district's code as a number)."""
        rows = self.log_between(
            ["duty"], -1.0 if start is None else start, 1e12 if end is None else end
        )
        return [
            (r[0], r[1], r[2], r[3], _duty_decoder.decode(r[6]))
            for r in rows
            if duty_id is None or r[5] == duty_id
        ]

    def events_as_of(self, ids: Iterable[int], before: float) -> dict[int, Event]:
        """Each of these events as its last audit row before `before` left it (absent: no
        row before then)."""
        wanted = sorted(set(ids))
        found: dict[int, tuple[int, str]] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(wanted), 500):
                part = wanted[i : i + 500]
                for table in (LogEntry, LogArchiveEntry):
                    last = (
                        select(table.entity_id, func.max(table.seq).label("seq"))
                        .where(
                            table.entity == "event",
                            table.entity_id.in_(part),
                            table.at < before,
                        )
                        .group_by(table.entity_id)
                        .subquery()
                    )
                    query = select(table.entity_id, table.seq, table.after).join(
                        last, (table.entity_id == last.c.entity_id) & (table.seq == last.c.seq)
                    )
                    for entity_id, seq, after in conn.execute(query):
                        if entity_id not in found or found[entity_id][0] < seq:
                            found[entity_id] = (seq, after)
        return {key: _event_decoder.decode(after) for key, (_, after) in found.items()}

    def events_open_or_changed(
        self, reported_before: float, changed_from: float, scope: str = ""
    ) -> list[Event]:
        """Events reported before `reported_before` that are open now or were changed at or
        after `changed_from`, as stored now; of the streets under `scope` (a district's
        code) when given."""
        open_statuses = ("reported", "accepted", "dispatched", "handling", "handled", "verified")
        query = select(self._utf8(EventRow.doc)).where(
            EventRow.reported_at < reported_before,
            EventRow.status.in_(open_statuses) | (EventRow.updated_at >= changed_from),
        )
        if scope:
            query = query.where(EventRow.street.startswith(scope, autoescape=True))
        with self.engine.connect() as conn:
            return [_event_decoder.decode(doc) for (doc,) in conn.execute(query)]

    def event(self, event_id: int) -> Event | None:
        """One event as stored, whether or not the live state still holds it."""
        if not 0 < event_id <= MAX_ID:
            return None
        with self.engine.connect() as conn:
            doc = conn.execute(select(EventRow.doc).where(EventRow.id == event_id)).scalar()
        return _event_decoder.decode(doc) if doc is not None else None

    def arrivals(self, start: float, end: float) -> list[tuple[str, float]]:
        """(street, reported_at) of every event reported in [start, end), pruned or not."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(EventRow.street, EventRow.reported_at).where(
                    (EventRow.reported_at >= start) & (EventRow.reported_at < end)
                )
            )
            return [(street, reported_at) for street, reported_at in rows]

    def arrivals_placed(self, start: float, end: float) -> list[tuple[str, str, float]]:
        """(street, grid, reported_at) of every event reported in [start, end), pruned or not:
        arrivals a community's jurisdiction can be told by (its grids' codes begin with it)."""
        # reported_at has no index; updated_at has, and is never before it (a case is made
        # with both at its report's moment): recent days read their rows, not the table.
        # (A month of 720 cases a day: the last two days in 0.7 ms instead of a 9.7 ms scan;
        # two days a month back in 13 ms, reading most of the index.)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(EventRow.street, EventRow.grid, EventRow.reported_at).where(
                    (EventRow.updated_at >= start)
                    & (EventRow.reported_at >= start)
                    & (EventRow.reported_at < end)
                )
            )
            return [(street, grid, reported_at) for street, grid, reported_at in rows]

    def event_history(self, event_id: int) -> list[LogRecord]:
        """Every audit row of one event, archived and live, oldest first (the audit trail)."""
        if not 0 < event_id <= MAX_ID:
            return []
        # One statement: a trim committing meanwhile cannot hide a row or show it twice.
        both = _live_and_archived(
            lambda log: (log.seq, log.at, log.actor, log.action, log.entity, log.street, log.after),
            lambda log: (log.entity == "event", log.entity_id == event_id),
        )
        with self.engine.connect() as conn:
            return [LogRecord(*row) for row in conn.execute(select(both).order_by(both.c.seq))]

    def image(self, alert_id: int) -> Image | None:
        """An alert's snapshot image."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(AlertImage.content_type, AlertImage.body, AlertRow.street, AlertRow.doc)
                .join(AlertRow, AlertRow.id == AlertImage.alert_id)
                .where(AlertImage.alert_id == alert_id)
            ).first()
            if row is None:
                return None
            place = _place_decoder.decode(row[3])
            case = None
            if place.event is not None:
                # An alert attached to a case across a grid line is in that case's media:
                # whoever works the case must see it too.
                case = conn.execute(
                    select(EventRow.street, EventRow.grid).where(EventRow.id == place.event)
                ).first()
        event_street, event_grid = case if case is not None else ("", "")
        return Image(row[0], bytes(row[1]), row[2], place.grid, event_street, event_grid)

    def find_commands(self, command_ids: Iterable[str]) -> dict[str, CommandRecord]:
        """Stored commands by id, for the ids given."""
        ids = list(command_ids)
        if not ids:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    CommandRow.command_id,
                    CommandRow.user,
                    CommandRow.op,
                    CommandRow.digest,
                    CommandRow.result,
                    CommandRow.seq,
                    CommandRow.at,
                ).where(CommandRow.command_id.in_(ids))
            )
            return {row[0]: CommandRecord(*row) for row in rows}

    def find_external(self, actor: str, external_ids: Iterable[str]) -> dict[str, tuple[int, str]]:
        """(event id, event code) of each of the external ids `actor` has created events
        under, among those given."""
        ids = list(external_ids)
        found: dict[str, tuple[int, str]] = {}
        mark = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        with self.engine.connect() as conn:
            for start in range(0, len(ids), _EXTERNAL_CHUNK):
                chunk = ids[start : start + _EXTERNAL_CHUNK]
                # Straight to the driver: the ingest path asks this for every new report.
                rows = conn.exec_driver_sql(
                    "SELECT external_id, event_id, code FROM external_ids WHERE actor = "
                    f"{mark} AND external_id IN ({', '.join([mark] * len(chunk))})",
                    (actor, *chunk),
                )
                found.update((row[0], (int(row[1]), row[2])) for row in rows)
        return found

    # ---- users -----------------------------------------------------------------------------

    def create_user(
        self,
        name: str,
        role: Role | str,
        streets: Iterable[str] = (),
        communities: Iterable[str] = (),
        *,
        audit: AdminEntry | None = None,
        words: str = "cli",
        exists_ok: bool = True,
        display_name: str | None = None,
    ) -> str:
        """Create (or re-key) a user; return the new token. Only its hash is stored.

        Checked by check_user and check_display_name (ValueError); a user is replaced only
        once the new one is valid, in its own row (its id stays). Without `exists_ok` an
        existing name is refused (UserExists). `display_name`: the name shown (None: none
        for a new user, the one it had for a re-keyed one). With `audit`, the admin log
        gets its row in the same transaction (and the refusal's row when the user is
        refused): a change is never kept unrecorded.
        """
        streets, communities = list(streets), list(communities)
        try:
            checked_role, codes = check_user(
                name, role, streets, communities, self._unit_codes, words
            )
            if display_name is not None:
                check_display_name(display_name)
        except ValueError as exc:
            if audit is not None:
                self.record_admin(replace(audit, outcome="bad_args", message=str(exc)))
            raise
        token = secrets.token_urlsafe(32)
        values: dict[str, Any] = {
            "name": name,
            "role": checked_role,
            "streets": ",".join(codes),  # the jurisdiction's codes, streets or communities
            "token_hash": hash_token(token),
            "created_at": time.time(),
            "revoked": False,
        }
        refusal: ValueError | None = None
        with self._write_lock, self.engine.begin() as conn:
            exists = conn.execute(select(UserRow.id).where(UserRow.name == name)).first()
            if exists is not None and not exists_ok:
                refusal = UserExists(name, words)
                audit = audit and replace(audit, outcome="conflict", message=str(refusal))
            elif exists is not None:
                if display_name is not None:
                    values["display_name"] = display_name
                conn.execute(update(UserRow).where(UserRow.name == name).values(**values))
            else:
                values["display_name"] = display_name or ""
                conn.execute(insert(UserRow).values(**values))
            if audit is not None:
                conn.execute(insert(AdminLogRow).values(**_admin_row(audit)))
        if refusal is not None:
            raise refusal
        return token

    def update_user(
        self,
        name: str,
        role: Role | str | None = None,
        codes: Sequence[str] | None = None,
        *,
        new_token: bool = False,
        audit: AdminEntry | None = None,
        display_name: str | None = None,
        words: str = "cli",
        kind: str = "",
    ) -> str | None:
        """Change a user's role, jurisdiction (its street or community codes; `[]` the whole
        district), display name ("" none) or token, in its own row; None keeps that part.
        Returns the new token (`new_token`: the old one stops working, a revoked user is
        active again) or None.

        LookupError when there is no such user, ValueError when check_user refuses the
        result; then nothing changes. With `audit`, the admin log gets its row (the
        refusal's too) in the same transaction.
        """
        refusal: LookupError | ValueError | None = None
        token = None
        with self._write_lock, self.engine.begin() as conn:
            row = conn.execute(
                select(UserRow.role, UserRow.streets).where(UserRow.name == name)
            ).first()
            try:
                if row is None:
                    raise LookupError(f"no user {name}")
                role = row.role if role is None else role
                if codes is None:
                    codes = [c for c in row.streets.split(",") if c]
                    if codes and (role == "community") != (row.role == "community"):
                        # Its codes are of the other kind: never widened in silence.
                        said = UPDATE_WORDS[words]
                        raise ValueError(
                            f"a {role} user's jurisdiction is "
                            + (
                                f"communities: give {said['communities']}"
                                if role == "community"
                                else f"streets: give {said['streets']}, or {said['whole_district']}"
                            )
                        )
                # Codes given as communities (`kind`) are communities whatever the role:
                # check_user then says which role has them.
                as_communities = kind == "community" if kind else role == "community"
                streets, communities = ((), codes) if as_communities else (codes, ())
                checked_role, checked = check_user(
                    name, role, streets, communities, self._unit_codes, words
                )
                if display_name is not None:
                    check_display_name(display_name)
            except (LookupError, ValueError) as exc:
                refusal = exc
                outcome = "bad_args" if isinstance(exc, ValueError) else "not_found"
                audit = audit and replace(audit, outcome=outcome, message=str(exc))
            else:
                values: dict[str, Any] = {"role": checked_role, "streets": ",".join(checked)}
                if display_name is not None:
                    values["display_name"] = display_name
                if new_token:
                    token = secrets.token_urlsafe(32)
                    values.update(
                        token_hash=hash_token(token), created_at=time.time(), revoked=False
                    )
                conn.execute(update(UserRow).where(UserRow.name == name).values(**values))
            if audit is not None:
                conn.execute(insert(AdminLogRow).values(**_admin_row(audit)))
        if refusal is not None:
            raise refusal
        return token

    def revoke_user(self, name: str, *, audit: AdminEntry | None = None) -> bool:
        """Revoke a user's token; return whether the user existed. With `audit`, the admin
        log gets its row (ok, or not_found) in the same transaction."""
        with self._write_lock, self.engine.begin() as conn:
            result = conn.execute(update(UserRow).where(UserRow.name == name).values(revoked=True))
            found = bool(result.rowcount)
            if audit is not None:
                if not found:
                    audit = replace(audit, outcome="not_found", message=f"no user {name}")
                conn.execute(insert(AdminLogRow).values(**_admin_row(audit)))
            return found

    def accounts(self) -> list[Account]:
        """Every user, revoked ones too, by name."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    UserRow.name,
                    UserRow.role,
                    UserRow.streets,
                    UserRow.created_at,
                    UserRow.revoked,
                    UserRow.display_name,
                ).order_by(UserRow.name)
            )
            return [
                Account(
                    name, role, sorted(c for c in codes.split(",") if c), at, bool(revoked), shown
                )
                for name, role, codes, at, revoked, shown in rows
            ]

    def people(self) -> dict[str, str]:
        """The display name of every user that has one, revoked ones too (what they did
        stays on record under their name), by name."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(UserRow.name, UserRow.display_name)
                .where(UserRow.display_name != "")
                .order_by(UserRow.name)
            )
            return {name: shown for name, shown in rows}

    def record_admin(self, entry: AdminEntry) -> None:
        """Add a row to the admin log (a request refused before it could change anything)."""
        with self._write_lock, self.engine.begin() as conn:
            conn.execute(insert(AdminLogRow).values(**_admin_row(entry)))

    def admin_log(self, limit: int = 50) -> list[AdminEntry]:
        """The newest `limit` rows of the admin log, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    AdminLogRow.at,
                    AdminLogRow.actor,
                    AdminLogRow.peer,
                    AdminLogRow.action,
                    AdminLogRow.target,
                    AdminLogRow.detail,
                    AdminLogRow.outcome,
                    AdminLogRow.message,
                )
                .order_by(AdminLogRow.id.desc())
                .limit(limit)
            ).all()
        return [AdminEntry(*row) for row in reversed(rows)]

    # ---- the duty roster ---------------------------------------------------------------------

    def duty_plans(
        self, first: str, last: str | None = None, district: str | None = None
    ) -> list[DutyPlan]:
        """The planned days from `first` to `last` (yyyy-mm-dd, both included; no `last`:
        every later one) of one district (None: of every district), in order of day, each
        naming its district."""
        query = select(DutyPlanRow.district, DutyPlanRow.doc).where(DutyPlanRow.day >= first)
        if last is not None:
            query = query.where(DutyPlanRow.day <= last)
        if district is not None:
            query = query.where(DutyPlanRow.district == district)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(DutyPlanRow.day)).all()
        plans = [_plan_of(code, doc) for code, doc in rows]
        # Ordered here too: yyyy-mm-dd sorts the same under any collation, but be sure.
        return sorted(plans, key=lambda plan: (plan.day, plan.district))

    def set_duty_plan(
        self, day: str, plan: DutyPlan | None, *, audit: AdminEntry, district: str | None = None
    ) -> bool:
        """Plan a district's day (or, with None, remove its plan) and record it in the admin
        log, in one transaction; whether the day had a plan before. The district: the plan's,
        else `district`, else the store's first."""
        if plan is not None and plan.district:
            district = plan.district
        with self._write_lock, self.engine.begin() as conn:
            district = district or self._meta(conn, "district") or DEFAULT_DISTRICT
            removed = conn.execute(
                delete(DutyPlanRow).where(
                    (DutyPlanRow.district == district) & (DutyPlanRow.day == day)
                )
            )
            if plan is not None:
                conn.execute(
                    insert(DutyPlanRow).values(
                        district=district,
                        day=day,
                        updated_at=plan.updated_at,
                        updated_by=plan.updated_by[:100],
                        doc=_encode(plan).decode(),
                    )
                )
            conn.execute(insert(AdminLogRow).values(**_admin_row(audit)))
            return bool(removed.rowcount)

    def users(self) -> list[User]:
        """Every active user."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(UserRow.name, UserRow.role, UserRow.streets, UserRow.created_at)
                .where(UserRow.revoked.is_(False))
                .order_by(UserRow.name)
            )
            return [_user(*row) for row in rows]

    def authenticate(self, token: str) -> User | None:
        """The active user holding `token`, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(UserRow.name, UserRow.role, UserRow.streets, UserRow.created_at).where(
                    UserRow.token_hash == hash_token(token), UserRow.revoked.is_(False)
                )
            ).first()
        return _user(*row) if row else None

    # ---- reference units -------------------------------------------------------------------

    def save_units(self, units: Iterable[tuple[str, str, str, str, bytes]]) -> int:
        """Replace every reference unit with (kind, code, parent, name, wire-json) rows."""
        rows = [
            {"kind": kind, "code": code, "parent": parent, "name": name, "doc": doc.decode()}
            for kind, code, parent, name, doc in units
        ]
        with self.engine.begin() as conn:
            conn.execute(delete(UnitRow))
            if rows:
                conn.execute(insert(UnitRow), rows)
        return len(rows)

    def _unit_codes(self, kind: str) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(UnitRow.code).where(UnitRow.kind == kind)).scalars())

    def units(self, kind: str) -> list[bytes]:
        """The wire documents of every unit of a kind, by code."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(UnitRow.doc).where(UnitRow.kind == kind).order_by(UnitRow.code)
            )
            return [doc.encode() for (doc,) in rows]

    def unit_rows(self, kind: str) -> list[tuple[str, str, str, str, bytes]]:
        """Every unit of a kind as the (kind, code, parent, name, wire-json) rows it was saved."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(UnitRow.kind, UnitRow.code, UnitRow.parent, UnitRow.name, UnitRow.doc)
                .where(UnitRow.kind == kind)
                .order_by(UnitRow.code)
            )
            return [(k, code, parent, name, doc.encode()) for k, code, parent, name, doc in rows]

    def category_use(
        self, keep: Iterable[str] | None = None, events_in: str = ""
    ) -> dict[str, int]:
        """Stored events per category code (only codes outside `keep`, when given; only
        events whose street begins with `events_in`: a district's)."""
        with self.engine.connect() as conn:
            return self._category_use(conn, keep, events_in)

    @staticmethod
    def _category_use(
        conn: Connection, keep: Iterable[str] | None, events_in: str = ""
    ) -> dict[str, int]:
        query = select(EventRow.category, func.count()).group_by(EventRow.category)
        if keep is not None:
            query = query.where(EventRow.category.not_in(list(keep)))
        if events_in:
            query = query.where(EventRow.street.startswith(events_in, autoescape=True))
        return {code: int(n) for code, n in conn.execute(query)}

    def replace_categories(
        self,
        units: Iterable[tuple[str, str, str, str, bytes]],
        meta: dict[str, str],
        *,
        audit: AdminEntry | None = None,
        scope: str = "",
        events_in: str = "",
    ) -> dict[str, int]:
        """Replace one district's category and detection units and set `meta`, in one
        transaction, unless its stored events use a category code the new units lack: then
        change nothing and return those codes with their event counts. With `audit`, the
        admin log gets its row in the same transaction (only when the table is replaced).

        `scope` is the district's key in the units' codes (a city's further district's
        `340802:`; "" the first's, whose codes have none); `events_in` the prefix of the
        streets whose events use the table ("" every event)."""
        rows = [
            {"kind": kind, "code": code, "parent": parent, "name": name, "doc": doc.decode()}
            for kind, code, parent, name, doc in units
        ]
        if any(not row["code"].startswith(scope) for row in rows):
            raise ValueError(f"category units outside their district's key {scope!r}")
        codes = [row["code"][len(scope) :] for row in rows if row["kind"] == "category"]
        mine = (
            UnitRow.code.startswith(scope, autoescape=True)
            if scope
            else UnitRow.code.not_like("%:%")
        )
        with self._write_lock, self.engine.begin() as conn:
            in_use = self._category_use(conn, codes, events_in)
            if in_use:
                return in_use
            conn.execute(delete(UnitRow).where(UnitRow.kind.in_(("category", "detection")), mine))
            if rows:
                conn.execute(insert(UnitRow), rows)
            for key, value in meta.items():
                conn.execute(delete(MetaRow).where(MetaRow.key == key))
                conn.execute(insert(MetaRow).values(key=key, value=value))
            if audit is not None:
                conn.execute(insert(AdminLogRow).values(**_admin_row(audit)))
        return {}


# The columns of a LogRecord, in its field order.
def _first_at_or_after(conn: Connection, head: int, moment: float) -> int:
    """The first seq whose row is at or after `moment` (head + 1: none), by bisection."""
    low, high = 1, head + 1
    while low < high:
        middle = (low + high) // 2
        at = None
        for table in (LogEntry, LogArchiveEntry):
            at = conn.execute(select(table.at).where(table.seq == middle)).scalar()
            if at is not None:
                break
        if at is None or at >= moment:  # a missing row: look lower
            high = middle
        else:
            low = middle + 1
    return low


def _live_and_archived(
    columns: Callable[[type[AuditColumns]], Sequence[Any]],
    where: Callable[[type[AuditColumns]], Iterable[ColumnElement[bool]]],
) -> Subquery:
    """One statement over the live log and its archive (a trim committing meanwhile cannot
    hide a row or show it twice): the `columns` of the rows `where` picks in each."""
    return union_all(
        *(select(*columns(log)).where(*where(log)) for log in (LogEntry, LogArchiveEntry))
    ).subquery()


_LOG_RECORD = select(
    LogEntry.seq,
    LogEntry.at,
    LogEntry.actor,
    LogEntry.action,
    LogEntry.entity,
    LogEntry.street,
    LogEntry.after,
)
_ARCHIVE_RECORD = select(
    LogArchiveEntry.seq,
    LogArchiveEntry.at,
    LogArchiveEntry.actor,
    LogArchiveEntry.action,
    LogArchiveEntry.entity,
    LogArchiveEntry.street,
    LogArchiveEntry.after,
)
_LOG_COLUMNS = ["seq", "at", "actor", "action", "entity", "entity_id", "street", "before", "after"]
# A log row's fields a notification carries (log_notice.notice_payload), by their names.
_noticed_fields = operator.itemgetter(
    *map(_LOG_COLUMNS.index, ("seq", "at", "actor", "action", "entity", "street", "after"))
)
_EXTERNAL_COLUMNS = ["actor", "external_id", "event_id", "code", "at"]
_OUTBOX_COLUMNS = (
    OutboxRow.id,
    OutboxRow.key,
    OutboxRow.channel,
    OutboxRow.peer,
    OutboxRow.ref,
    OutboxRow.event_id,
    OutboxRow.kind,
    OutboxRow.body,
    OutboxRow.state,
    OutboxRow.attempts,
    OutboxRow.next_at,
    OutboxRow.created_at,
    OutboxRow.delivered_at,
    OutboxRow.last_error,
)


def _outbox_row(item: OutboxItem) -> dict[str, Any]:
    return {
        "key": item.key,
        "channel": item.channel,
        "peer": item.peer,
        "ref": item.ref,
        "event_id": item.event,
        "kind": item.kind,
        "body": item.body,
        "state": "pending",
        "attempts": 0,
        "next_at": item.at,
        "created_at": item.owed or item.at,
        "delivered_at": None,
        "last_error": "",
    }


_EXTERNAL_CHUNK = 500  # external ids looked up by one statement
# Every column copied as it is: the archive holds the very rows the log held. (A text
# statement: SQLAlchemy reports no rowcount for an INSERT ... SELECT on psycopg.)
_ARCHIVE_UPTO = text(
    f"INSERT INTO log_archive ({', '.join(_LOG_COLUMNS)}) "
    f"SELECT {', '.join(_LOG_COLUMNS)} FROM log WHERE seq <= :bound"
)


def _copy_rows(
    conn: Connection, table: str, columns: list[str], rows: list[tuple[Any, ...]]
) -> None:
    """Bulk insert with PostgreSQL's COPY, inside the connection's current transaction."""
    driver = conn.connection.driver_connection
    assert driver is not None
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


class _Upserts:
    """Latest row per id within a batch, split into inserts (new ids) and updates."""

    def __init__(self) -> None:
        self.new: dict[int, dict[str, Any]] = {}
        self.old: dict[int, dict[str, Any]] = {}

    def put(self, key: int, row: dict[str, Any], created: bool) -> None:
        # An entity created earlier in the same batch stays an insert of its latest state.
        (self.new if created or key in self.new else self.old)[key] = row

    def write(self, conn: Connection, table: Table, update_by_id: Update, copy: bool) -> None:
        if self.new:
            columns = [c.name for c in table.columns]
            rows = [tuple(r[c] for c in columns) for r in self.new.values()]
            if copy:
                _copy_rows(conn, table.name, columns, rows)
            else:
                mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
                marks = ", ".join([mark] * len(columns))
                conn.exec_driver_sql(
                    f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", rows
                )
        if self.old:
            conn.execute(update_by_id, [{**r, "b_id": r["id"]} for r in self.old.values()])


def _user(name: str, role: str, jurisdiction: str, created_at: float) -> User:
    codes = frozenset(code for code in jurisdiction.split(",") if code)
    return User(name, role, codes or None, created_at)  # type: ignore[arg-type]


def _admin_row(entry: AdminEntry) -> dict[str, Any]:
    """An admin log row; what a client sent is cut to the columns' sizes."""
    return {
        "at": entry.at,
        "actor": entry.actor[:100],
        "peer": entry.peer[:64],
        "action": entry.action[:20],
        "target": entry.target[:100],
        "detail": entry.detail[:2000],
        "outcome": entry.outcome[:40],
        "message": entry.message[:2000],
    }


def _event_row(event: Event, doc: str) -> dict[str, Any]:
    return {
        "id": event.id,
        "code": event.code,
        "status": event.status,
        "street": event.street,
        "grid": event.grid,
        "category": event.category,
        "priority": event.priority,
        "reported_at": event.reported_at,
        "updated_at": event.updated_at,
        "due_at": event.due_at,
        "closed_at": event.closed_at,
        "doc": doc,
    }


def _alert_row(alert: Alert, doc: str) -> dict[str, Any]:
    return {
        "id": alert.id,
        "camera": alert.camera,
        "detection": alert.detection,
        "status": alert.status,
        "street": alert.street,
        "last_at": alert.last_at,
        "doc": doc,
    }
