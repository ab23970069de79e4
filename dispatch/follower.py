"""A standby's or a gateway's state: the committed log followed into its hub as it is written.

PostgreSQL's LISTEN/NOTIFY is the wake-up (the writer notifies at each commit of log rows,
Store.log_channel) and the log table the truth: after every wake-up, and every POLL_SECONDS
without one (a notification is lost with a dropped connection), the rows after the last one
delivered are read in order and handed to the event loop in one call, which files them into
the hub and fans them out as the writer's own deliveries are: same seq, same frames, so a
client resumes on any node with the (epoch, seq) it had.

Reading and framing happen on the follower's thread; the loop only files and sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from dispatch.frames import delta_json, text_frame
from dispatch.replay import decode_row
from dispatch.store.store import LogRow, Store
from dispatch.writer import Published
from protocol.entities import Alert, Event

log = logging.getLogger("dispatch.follower")

# Read the log this often with no notification (PostgreSQL), and this often on SQLite, which
# has no notifications.
POLL_SECONDS = 1.0
SQLITE_POLL_SECONDS = 0.1
ROWS_AT_ONCE = 5000  # log rows read in one statement
_NO_END = 2**62
# The live log's rows after a seq, documents as UTF-8 bytes (Store.log_rows reads the archive
# too; a follower at the head needs only the live table).
_LIVE_ROWS = (
    "SELECT seq, at, actor, action, entity, street, convert_to(after, 'UTF8')"
    " FROM log WHERE seq > %s ORDER BY seq LIMIT %s"
)

# (seq, kind, id, key, entity, frame, wire): a Published but for `before`, which the loop
# takes from the hub's read model as it files the row.
_Row = tuple[int, str, int, str, Any, bytes, bytes]


class Follower:
    """Follows the committed log from `head` on, handing each batch to `deliver` on the loop."""

    def __init__(
        self,
        store: Store,
        loop: asyncio.AbstractEventLoop,
        deliver: Callable[[list[Published]], None],
        before: Callable[[str, int], Any],
        head: int,
    ) -> None:
        self.store = store
        self.loop = loop
        self._deliver = deliver
        self._before = before  # (kind, id) -> the entity as the hub holds it, or None
        self.head = head  # the last seq read (the follower's thread's)
        self.delivered = head  # the last seq the loop has filed
        self.rows = 0  # rows followed since the start
        self.wakeups = 0  # notifications that woke it
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listener: Any = None  # the SQLAlchemy pool connection LISTENing (PostgreSQL)
        self._notifying = store.engine.dialect.name == "postgresql"
        self._gap_told = False

    def start(self) -> None:
        """Start following on a thread of its own."""
        self._thread = threading.Thread(target=self._run, name="follower", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        """Stop following: the thread ends (within POLL_SECONDS) and what it read but the loop
        has not filed is dropped, for catch_up() to read again."""
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, POLL_SECONDS + 2.0)
        self._close_listener()
        self.head = self.delivered

    async def catch_up(self) -> None:
        """After stop(): read every row after the last one read and file them (a promotion,
        once it holds the writer's lock and lease: nothing more can be committed meanwhile)."""
        rows: list[_Row] = []
        while batch := await asyncio.to_thread(self._read):
            rows += batch
        if rows:
            self._hand_over(rows, stopped_too=True)

    # ---- the thread ---------------------------------------------------------------------

    def _run(self) -> None:
        away_since = 0.0
        while not self._stop.is_set():
            try:
                if self._notifying and self._listener is None:
                    self._listen()
                while not self._stop.is_set() and (rows := self._read()):
                    self.loop.call_soon_threadsafe(self._hand_over, rows)
                if away_since:
                    log.warning("the database answers again: following the log")
                    away_since = 0.0
                self._wait()
            except (SQLAlchemyError, OSError, _ListenerLost) as exc:
                self._close_listener()
                if not away_since:
                    away_since = time.monotonic()
                    log.warning("following the log: the database does not answer: %s", _line(exc))
                self._stop.wait(POLL_SECONDS)
            except Exception:  # a bug: logged, and the next round tries again
                log.exception("following the log failed")
                self._stop.wait(POLL_SECONDS)

    def _listen(self) -> None:
        connection = self.store.engine.raw_connection()
        try:
            driver: Any = connection.driver_connection
            driver.autocommit = True
            driver.execute(f"LISTEN {self.store.log_channel}")
        except BaseException:
            connection.invalidate()
            raise
        self._listener = connection

    def _wait(self) -> None:
        """Until a notification, POLL_SECONDS, or stop()."""
        if self._listener is None:
            self._stop.wait(SQLITE_POLL_SECONDS if not self._notifying else POLL_SECONDS)
            return
        driver: Any = self._listener.driver_connection
        try:
            for _ in driver.notifies(timeout=POLL_SECONDS, stop_after=1):
                self.wakeups += 1
            # The others that came meanwhile (kept by psycopg while a read ran): the next
            # read takes their rows too.
            for _ in driver.notifies(timeout=0):
                self.wakeups += 1
        except Exception as exc:  # psycopg's OperationalError: the connection went away
            raise _ListenerLost(str(exc)) from exc

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(Exception):
                listener.invalidate()  # never back to the pool, still listening

    def _read(self) -> list[_Row]:
        """The next rows after `head` (at most ROWS_AT_ONCE), decoded and framed."""
        found = self._read_live() if self._listener is not None else None
        if found is None or (found and found[0].seq != self.head + 1):
            # No listening connection (SQLite, or PostgreSQL away), or the rows after `head`
            # moved to the archive (a follower far behind): the store's read of both tables.
            found = self.store.log_rows(self.head, _NO_END, ROWS_AT_ONCE)
        if not found:
            return []
        if found[0].seq != self.head + 1 and not self._gap_told:
            # Commits are serialised on the log's counter, so rows appear in seq order: a
            # gap means rows were removed (a restore to an older backup changes the epoch).
            log.error("the log jumps from %d to %d: rows are missing", self.head, found[0].seq)
            self._gap_told = True
        rows: list[_Row] = []
        for row in found:
            entity = decode_row(row)
            ident = entity.id if isinstance(entity, (Event, Alert)) else 0
            frame = delta_json(row.seq, row.action, row.actor, row.at, row.doc)
            rows.append((row.seq, row.entity, ident, row.key, entity, frame, text_frame(frame)))
        self.head = rows[-1][0]
        self.rows += len(rows)
        return rows

    def _read_live(self) -> list[LogRow]:
        """The live log's rows after `head`, on the listening connection itself: one round
        trip, no pool checkout (whose ping is another) and no statement built. Each wait on
        the socket gives the interpreter's lock to the event loop, which holds it for up to
        the switch interval (5 ms) before the answer is taken: a read through the pool took
        10 ms at the median in a busy gateway, against 3.8 ms in a process of its own."""
        driver: Any = self._listener.driver_connection
        try:
            cursor = driver.execute(_LIVE_ROWS, (self.head, ROWS_AT_ONCE), binary=True)
            found = cursor.fetchall()
        except Exception as exc:  # psycopg's OperationalError: the connection went away
            raise _ListenerLost(str(exc)) from exc
        return [LogRow(int(q), float(t), a, n, e, k, bytes(d)) for q, t, a, n, e, k, d in found]

    # ---- the loop -----------------------------------------------------------------------

    def _hand_over(self, rows: list[_Row], stopped_too: bool = False) -> None:
        if self._stop.is_set() and not stopped_too:
            return  # stopped: catch_up() files what is left, in order
        published = []
        latest: dict[tuple[str, int], Any] = {}  # the batch's own earlier rows come first
        for seq, kind, ident, key, entity, frame, wire in rows:
            if seq <= self.delivered:
                continue
            before = latest.get((kind, ident)) or self._before(kind, ident)
            latest[kind, ident] = entity
            published.append(Published(seq, kind, ident, key, entity, frame, wire, before))
        if published:
            self.delivered = published[-1].seq
            self._deliver(published)


class _ListenerLost(Exception):
    """The LISTENing connection failed."""


def _line(exc: BaseException) -> str:
    return str(exc).split("\n")[0]
