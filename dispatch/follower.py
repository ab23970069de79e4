"""A standby's or a gateway's state: the committed log followed into its hub as it is written.

PostgreSQL's LISTEN/NOTIFY is the wake-up (the writer notifies at each commit of log rows,
Store.log_channel) and the log table the truth. A notification holds the commit's rows when
they fit (dispatch/store/log_notice.py): when the ones received hold every row after the last
one read, they are filed as they are; otherwise (a seq alone, a gap, the first round after
listening, POLL_SECONDS without a notification: one is lost with a dropped connection) the
rows after the last one read are read from the log. Either way they are framed in order and
handed to the hub in one call, which files them and fans them out as the writer's own
deliveries are: same seq, same frames, so a client resumes on any node with the (epoch, seq)
it had.

PostgreSQL lets any role that can connect NOTIFY any channel: rows are taken only from a
backend logged in as this node's own role (which could write the log itself); from any other
sender a notification is only a wake-up.

On PostgreSQL all of it runs on the event loop: the listening connection is an asyncio one,
so a notification wakes the loop itself, which reads the rows on that connection and sends
them on at once. A thread of its own handed every batch to the loop thread, which had to be
woken and given the interpreter's lock: 0.5-2.3 ms at the median on a loaded 2-core machine
(bench/RESULTS.md §16). The store's reads (SQLite, which has no notifications; rows moved to
the archive; the catch-up of a promotion) run in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import psycopg
from sqlalchemy.exc import SQLAlchemyError

from dispatch.frames import delta_json, text_frame
from dispatch.replay import decode_row
from dispatch.store.log_notice import read_notice
from dispatch.store.store import LogRow, Store
from dispatch.writer import Published
from protocol.entities import Alert, Event

log = logging.getLogger("dispatch.follower")

# Read the log this often with no notification (PostgreSQL), and this often on SQLite, which
# has no notifications.
POLL_SECONDS = 1.0
SQLITE_POLL_SECONDS = 0.1
ROWS_AT_ONCE = 5000  # log rows read in one statement
# A sender's backend checked to be of the node's own role is trusted this long, one that is
# not distrusted this long: a pid can be reused by another backend once the first has gone
# (kept short: a question every few seconds costs nothing beside the rows it vouches for).
SENDER_TRUSTED_SECONDS = 5.0
SENDER_DISTRUSTED_SECONDS = 10.0
# pg_stat_activity's usename is the role a session logged in as (session_user).
_SENDERS_OF_MY_ROLE = (
    "SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s) AND usename = session_user"
)
_NO_END = 2**62
# The live log's rows after a seq, documents as UTF-8 bytes (Store.log_rows reads the archive
# too; a follower at the head needs only the live table).
_LIVE_ROWS = (
    "SELECT seq, at, actor, action, entity, street, convert_to(after, 'UTF8')"
    " FROM log WHERE seq > %s ORDER BY seq LIMIT %s"
)

# (seq, kind, id, key, entity, frame, wire): a Published but for `before`, which is taken
# from the hub's read model as the row is filed.
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
        self.head = head  # the last seq read
        self.delivered = head  # the last seq filed
        self.rows = 0  # rows followed since the start
        self.wakeups = 0  # notifications that woke it
        self.noticed_rows = 0  # rows filed from notifications, without reading the log
        self._noticed: list[LogRow] = []  # rows the notifications since the last read held
        self._noticed_last = head  # the last seq a notification told of
        self._must_read = True  # the log must be read: the notifications may not hold it all
        self._senders: set[int] = set()  # backends whose notifications' rows are in _noticed
        # sender pid -> (of this node's role, until when that holds)
        self._known_senders: dict[int, tuple[bool, float]] = {}
        self._untrusted_told = False
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._listener: psycopg.AsyncConnection[Any] | None = None  # LISTENing (PostgreSQL)
        self._notifying = store.engine.dialect.name == "postgresql"
        self._gap_told = False

    def start(self) -> None:
        """Start following, in a task on the loop."""
        self._task = self.loop.create_task(self._run(), name="follower")

    async def stop(self) -> None:
        """Stop following: what was read but not filed is dropped, for catch_up() to read
        again."""
        self._stopping = True
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close_listener()
        self.head = self.delivered
        self._noticed, self._senders, self._must_read = [], set(), True

    async def catch_up(self) -> None:
        """After stop(): read every row after the last one read and file them (a promotion,
        once it holds the writer's lock and lease: nothing more can be committed meanwhile)."""
        rows: list[_Row] = []
        while batch := self._advance(await asyncio.to_thread(self._read_stored, self.head)):
            rows += batch
        if rows:
            self._hand_over(rows, stopped_too=True)

    # ---- following ------------------------------------------------------------------------

    async def _run(self) -> None:
        away_since = 0.0
        while not self._stopping:
            try:
                if self._notifying and self._listener is None:
                    await self._listen()
                while not self._stopping and (rows := await self._read()):
                    self._hand_over(rows)
                    if len(rows) < ROWS_AT_ONCE:
                        # The log's end: a commit after this read notifies after it too (a
                        # notification that came during the read is kept for the wait).
                        break
                    await asyncio.sleep(0)  # far behind: the loop serves between batches
                if away_since:
                    log.warning("the database answers again: following the log")
                    away_since = 0.0
                await self._wait()
            except (SQLAlchemyError, OSError, psycopg.Error, _ListenerLost) as exc:
                await self._close_listener()
                if not away_since:
                    away_since = time.monotonic()
                    log.warning("following the log: the database does not answer: %s", _line(exc))
                await asyncio.sleep(POLL_SECONDS)
            except Exception:  # a bug: logged, and the next round tries again
                log.exception("following the log failed")
                await asyncio.sleep(POLL_SECONDS)

    async def _listen(self) -> None:
        args, params = self.store.connect_args()
        channel = await asyncio.to_thread(lambda: self.store.log_channel)  # may ask the database
        connection = await psycopg.AsyncConnection.connect(*args, autocommit=True, **params)
        try:
            await connection.execute(f"LISTEN {channel}")
        except BaseException:
            await connection.close()
            raise
        self._listener = connection
        self._must_read = True  # what was committed before the LISTEN was told to no-one
        self._known_senders = {}  # perhaps another server now (a failover): its own pids

    async def _wait(self) -> None:
        """Until a notification, POLL_SECONDS, or stop()."""
        if self._listener is None:
            await asyncio.sleep(SQLITE_POLL_SECONDS if not self._notifying else POLL_SECONDS)
            return
        news = False
        try:
            # Every notification one read of the socket brought: the read after takes all
            # their rows. No second poll for more (a turn of the loop before every read):
            # one that comes during the read is kept by psycopg and wakes the next wait.
            async for notify in self._listener.notifies(timeout=POLL_SECONDS, stop_after=1):
                self.wakeups += 1
                news = self._take_notice(notify.payload, notify.pid) or news
        except psycopg.Error as exc:  # the connection went away
            raise _ListenerLost(str(exc)) from exc
        if not news:
            # The poll (a notification may have been lost), or only notifications of nothing
            # new (which anyone may send: they must not hold the poll off).
            self._must_read = True

    def _take_notice(self, payload: str, sender: int) -> bool:
        """Note what a notification tells; whether it tells of rows after `head`."""
        told = read_notice(payload)
        if told is None:
            self._must_read = True
            return True
        last, rows = told
        if last <= self.head:
            return False
        self._noticed_last = max(self._noticed_last, last)
        if rows:
            self._noticed += [LogRow(*row) for row in rows]
            self._senders.add(sender)
        else:
            self._must_read = True  # the seq alone: the rows are in the log only
        return True

    async def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(Exception):
                await listener.close()

    async def _read(self) -> list[_Row]:
        """The next rows after `head` (at most ROWS_AT_ONCE), decoded and framed: the ones
        the notifications held when they hold them all, else the log's."""
        noticed, self._noticed = self._noticed, []
        senders, self._senders = self._senders, set()
        must_read, self._must_read = self._must_read, False
        if self._listener is not None and not must_read and await self._trust(senders):
            told = self._told(noticed)
            if told is not None:
                self.noticed_rows += len(told)
                return self._advance(self._framed(told, self.head))
        found = await self._read_live() if self._listener is not None else None
        if found is None or (found and found[0].seq != self.head + 1):
            # No listening connection (SQLite, or PostgreSQL away), or the rows after `head`
            # moved to the archive (a follower far behind): the store's read of both tables.
            rows = await asyncio.to_thread(self._read_stored, self.head)
        else:
            rows = self._framed(found, self.head)
        if len(rows) == ROWS_AT_ONCE:
            self._must_read = True  # more to read after these
        self._advance(rows)
        # The log is the truth: what the notifications so far told of was read, or was not
        # there (told by another role's backend).
        self._noticed_last = self.head
        return rows

    async def _trust(self, senders: set[int]) -> bool:
        """Whether every sender is a backend of this node's own role (asked of PostgreSQL
        once a sender and SENDER_TRUSTED_SECONDS; one that is not, or has gone, is
        distrusted SENDER_DISTRUSTED_SECONDS without asking)."""
        now = time.monotonic()
        known = self._known_senders
        unknown = []
        for pid in senders:
            trusted, until = known.get(pid, (False, 0.0))
            if until < now:
                unknown.append(pid)
            elif not trusted:
                return False
        if not unknown:
            return True
        assert self._listener is not None
        try:
            cursor = await self._listener.execute(_SENDERS_OF_MY_ROLE, (unknown,))
            mine = {int(pid) for (pid,) in await cursor.fetchall()}
        except psycopg.Error as exc:  # the connection went away
            raise _ListenerLost(str(exc)) from exc
        if len(known) > 1000:  # pids of backends long gone
            self._known_senders = known = {p: v for p, v in known.items() if v[1] >= now}
        for pid in unknown:
            mine_too = pid in mine
            known[pid] = (
                mine_too,
                now + (SENDER_TRUSTED_SECONDS if mine_too else SENDER_DISTRUSTED_SECONDS),
            )
        if mine.issuperset(unknown):
            return True
        if not self._untrusted_told:
            log.warning(
                "rows notified on %s by backends not of this node's role, or gone (pids %s):"
                " read from the log",
                self.store.log_channel,
                sorted(set(unknown) - mine),
            )
            self._untrusted_told = True
        return False

    def _told(self, noticed: list[LogRow]) -> list[LogRow] | None:
        """The rows after `head` up to the last seq told of, when `noticed` holds every one
        of them, in order; else None."""
        fresh = [row for row in noticed if row.seq > self.head]
        expected = self.head + 1
        for row in fresh:
            if row.seq != expected:
                return None
            expected += 1
        return fresh if expected > self._noticed_last else None

    def _read_stored(self, head: int) -> list[_Row]:
        """The rows after `head` as the store reads them (the live log and the archive),
        decoded and framed; in a worker thread, so it leaves `head` to the loop (a stop()
        meanwhile drops what it read)."""
        return self._framed(self.store.log_rows(head, _NO_END, ROWS_AT_ONCE), head)

    def _framed(self, found: list[LogRow], head: int) -> list[_Row]:
        if found and found[0].seq != head + 1 and not self._gap_told:
            # Commits are serialised on the log's counter, so rows appear in seq order: a
            # gap means rows were removed (a restore to an older backup changes the epoch).
            log.error("the log jumps from %d to %d: rows are missing", head, found[0].seq)
            self._gap_told = True
        rows: list[_Row] = []
        for row in found:
            entity = decode_row(row)
            ident = entity.id if isinstance(entity, (Event, Alert)) else 0
            frame = delta_json(row.seq, row.action, row.actor, row.at, row.doc)
            rows.append((row.seq, row.entity, ident, row.key, entity, frame, text_frame(frame)))
        return rows

    def _advance(self, rows: list[_Row]) -> list[_Row]:
        """Rows read: `head` moves past them."""
        if rows:
            self.head = rows[-1][0]
            self.rows += len(rows)
        return rows

    async def _read_live(self) -> list[LogRow]:
        """The live log's rows after `head`, on the listening connection itself: one round
        trip, no pool checkout (whose ping is another) and no statement built."""
        assert self._listener is not None
        try:
            cursor = await self._listener.execute(
                _LIVE_ROWS, (self.head, ROWS_AT_ONCE), binary=True
            )
            found = await cursor.fetchall()
        except psycopg.Error as exc:  # the connection went away
            raise _ListenerLost(str(exc)) from exc
        return [LogRow(int(q), float(t), a, n, e, k, bytes(d)) for q, t, a, n, e, k, d in found]

    # ---- the loop -----------------------------------------------------------------------

    def _hand_over(self, rows: list[_Row], stopped_too: bool = False) -> None:
        if self._stopping and not stopped_too:
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
