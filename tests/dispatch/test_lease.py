"""The writer lease (migration 0009): a writer whose fencing number another backend bumped
commits nothing more, and stops; the migration from 0008 adds the lease and keeps the rest."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time

import pytest
import sqlalchemy as sa

from dispatch.state import Actor
from dispatch.store.store import Deposed, Store, StoreError
from dispatch.writer import CommandRequest, TickRequest
from protocol.codes import ErrorCode
from protocol.commands import Report
from tests.dispatch.conftest import prepared_store, start_server
from tests.dispatch.test_migrations import _migrate
from tests.dispatch.test_server import report_args


async def test_a_deposed_writer_commits_nothing_and_stops(db_url) -> None:
    running = await start_server(prepared_store(db_url))
    server, store = running.server, running.store
    try:
        actor = Actor("指挥长", "commander")
        args = Report(**report_args(running))
        first = await server.submit(CommandRequest(actor, "report", args))
        assert first.ok
        assert store.fence is not None
        head = store.head()[0]
        # Another backend becomes the writer (a standby taking over while this one seemed
        # gone): it bumps the fencing number.
        other = Store(db_url)
        try:
            assert other.take_lease() == store.fence + 1
        finally:
            other.close()
        refused = await server.submit(CommandRequest(actor, "report", args))
        assert not refused.ok and refused.code == ErrorCode.INTERNAL
        assert "no longer the writer" in refused.message
        assert "nothing was applied" in refused.message
        assert store.head()[0] == head  # nothing written
        events, _, _, next_event, _ = store.load_state(0.0)
        assert [e.id for e in events] == [first.data["event"]]
        assert next_event == first.data["event"] + 1
        reason = await asyncio.wait_for(server.writer_stopped(), 5)
        assert reason.startswith("deposed")
        assert server.writer.failed
        later = await server.submit(CommandRequest(actor, "report", args))
        assert not later.ok and store.head()[0] == head
    finally:
        await server.stop()


async def test_a_deposed_writer_with_nothing_to_commit_stops_at_its_tick(db_url) -> None:
    running = await start_server(prepared_store(db_url))
    server = running.server
    try:
        server.writer.submit_nowait(TickRequest())
        await asyncio.sleep(1.1)  # the lease is read at most once a second (LEASE_CHECK_SECONDS)
        assert not server.writer.failed  # still the writer: the tick changes nothing
        other = Store(db_url)
        try:
            other.take_lease()
        finally:
            other.close()
        server.writer.submit_nowait(TickRequest())
        reason = await asyncio.wait_for(server.writer_stopped(), 5)
        assert reason.startswith("deposed") and "no longer the writer" in reason
        assert server.writer.failed
    finally:
        await server.stop()


def test_a_fenced_commit_is_refused_by_the_store(db_url) -> None:
    store = prepared_store(db_url)
    other = Store(db_url)
    try:
        mine = store.take_lease()
        assert store.take_lease() == mine  # once per backend
        store.commit([], [])  # still ours
        assert other.take_lease() == mine + 1
        with pytest.raises(Deposed, match=f"held fence {mine}"):
            store.commit([], [])
        other.commit([], [])  # the new writer's go through
    finally:
        other.close()
        store.close()


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_the_upgrade_from_0008_adds_the_lease(request, database, tmp_path) -> None:
    sqlite = f"sqlite:///{tmp_path / 'd.db'}"
    url: str = sqlite if database == "sqlite" else request.getfixturevalue("pg_url")
    _migrate(url, "0008")
    store = Store(url)
    try:
        assert not store.is_current()
        store.upgrade()
        assert store.is_current()
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, fence FROM writer_lease")).all()
        assert [tuple(r) for r in rows] == [(1, 0)]
        assert store.take_lease() == 1
        # And back: 0008 without the lease; up again, the number starts over.
        store.close()
        _migrate(url, "0008", down=True)
        with engine.connect() as conn:
            assert "writer_lease" not in sa.inspect(conn).get_table_names()
        engine.dispose()
    finally:
        store.close()


def test_a_second_backend_is_told_who_writes_and_of_standby(pg_url) -> None:
    first = prepared_store(pg_url)
    second = Store(pg_url)
    try:
        first.claim()
        fence = first.take_lease()
        with pytest.raises(StoreError) as refused:
            second.claim()
        message = str(refused.value)
        assert f"pid {os.getpid()}, fence {fence}" in message
        assert "start this one with --standby" in message
        # A standby asks without waiting: held, it learns who writes from the lease.
        assert not second.try_claim() and not second.claim_unless_held()
        first.set_endpoint("ws://a.example:8765")
        assert second.writer_endpoint() == (
            f"{socket.gethostname()} pid {os.getpid()}",
            "ws://a.example:8765",
        )
        first.release()
        assert second.try_claim()
        assert second.take_lease() == fence + 1
    finally:
        first.close()
        second.close()


def test_a_takeover_ends_a_deposed_writer_paused_mid_commit(pg_url) -> None:
    old = prepared_store(pg_url)
    mine = old.take_lease()
    # The old writer in the middle of a commit (it checked its fence, holds the row) when it
    # was paused; its lock went with its other connection.
    paused = sa.create_engine(pg_url)
    conn = paused.connect()
    conn.execute(sa.text("UPDATE writer_lease SET fence = fence WHERE fence = :f"), {"f": mine})
    new = Store(pg_url)
    try:
        new.claim()
        started = time.monotonic()
        assert new.take_lease() == mine + 1
        assert time.monotonic() - started < 5
        # Its transaction was ended: woken, its commit fails; nothing of it is kept.
        with pytest.raises(sa.exc.OperationalError):
            conn.execute(sa.text("SELECT 1"))
            conn.commit()
    finally:
        with contextlib.suppress(Exception):
            conn.close()
        paused.dispose()
        new.close()
        old.close()


def test_a_url_spelled_otherwise_is_the_same_database_and_schema(pg_url) -> None:
    """The claim and the log's channel follow the schema the server resolves, not the URL's
    spelling: a node given `-c search_path=x` and another option is refused while one given
    `-csearch_path=x` writes (before, it started as a second writer and deposed the first)."""
    schema = pg_url.rsplit("%3D", 1)[1]
    spelled = pg_url.replace(
        f"options=-csearch_path%3D{schema}",
        f"options=-c%20search_path%3D{schema}%20-c%20statement_timeout%3D0",
    )
    assert spelled != pg_url
    first = prepared_store(pg_url)
    second = Store(spelled)
    try:
        first.claim()
        first.take_lease()
        with pytest.raises(StoreError, match="another dispatch backend is serving"):
            second.claim()
        assert second.log_channel == first.log_channel
    finally:
        second.close()
        first.close()


def test_the_lock_key_is_the_one_earlier_versions_gave_the_usual_spellings(pg_url) -> None:
    """Nodes of an earlier version, started with no options or `-csearch_path=x`, hold the
    same lock: a mixed set of nodes still has one writer."""
    import hashlib

    def earlier(options: str) -> int:
        seed = f"tongguan-backend:{options}".encode()
        return int.from_bytes(hashlib.sha256(seed).digest()[:8], "big", signed=True)

    schema = pg_url.rsplit("%3D", 1)[1]
    store = Store(pg_url)
    public = Store(pg_url.split("?", 1)[0])
    try:
        assert store._lock_key() == earlier(f"-csearch_path={schema}")
        assert public._lock_key() == earlier("")
    finally:
        store.close()
        public.close()


def _end_claim_session(store: Store, admin: Store) -> None:
    """The database loses the session holding `store`'s lock (a restart, a failover)."""
    claim = store._claim
    assert isinstance(claim, sa.Connection)
    pid = claim.execute(sa.text("SELECT pg_backend_pid()")).scalar()
    with admin.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    # Until the session is gone (the lock with it); not "until the lock is free": a serving
    # writer's own loop may take it again between two looks.
    deadline = time.monotonic() + 10
    query = sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
    while True:
        with admin.engine.connect() as conn:
            if not conn.execute(query, {"pid": pid}).scalar():
                return
        assert time.monotonic() < deadline, "the session outlived its end"
        time.sleep(0.05)


def test_a_writer_whose_session_was_lost_takes_its_lock_again(pg_url) -> None:
    """The lock lives in a session: lost with it (the database restarted or failed over),
    the writer takes it again on a new one, so gateways see a writer and a second backend
    is refused; if another backend got there first, the writer learns it is not held."""
    store = prepared_store(pg_url)
    other = Store(pg_url)
    try:
        store.claim()
        assert store.keep_claim()  # its session is there: nothing to do
        _end_claim_session(store, other)
        assert store.keep_claim()  # taken again
        assert other.writer_lock_held() and not other.try_claim()
        _end_claim_session(store, other)
        assert other.try_claim()  # a standby got there first
        assert not store.keep_claim()
        assert not store.keep_claim()  # and stays not held
    finally:
        other.release()
        other.close()
        store.close()


async def test_the_writer_takes_its_lock_again_by_itself(pg_url) -> None:
    """A serving writer's own loop: its lock back within a few seconds of losing it, the
    writer still writing (gateways said "no node writes" until it stopped: found in review)."""
    store = prepared_store(pg_url)
    store.claim()
    running = await start_server(store)
    other = Store(pg_url)
    try:
        await asyncio.to_thread(_end_claim_session, store, other)
        deadline = time.monotonic() + 15
        while not await asyncio.to_thread(other.writer_lock_held):
            assert time.monotonic() < deadline, "the writer did not take its lock again"
            await asyncio.sleep(0.1)
        assert not running.server.fatal
        actor = Actor("指挥长", "commander")
        done = await running.server.submit(
            CommandRequest(actor, "report", Report(**report_args(running)))
        )
        assert done.ok, done
    finally:
        await running.server.stop()
        other.close()


def test_a_search_path_naming_no_schema_is_refused_not_keyed_as_public(pg_url) -> None:
    """current_schema() is NULL when no schema of the search_path exists: its key would be
    public's (and every other missing schema's), so the claim is refused, saying why."""
    missing = pg_url.split("?")[0] + "?options=-csearch_path%3Dt_nowhere_at_all"
    store = Store(missing)
    try:
        with pytest.raises(StoreError, match="no schema of its search_path exists"):
            store.claim()
        assert store._seed is None  # not remembered: asked again once it exists
    finally:
        store.close()


def test_a_writer_cut_off_from_its_session_ends_it_and_takes_the_lock_again(pg_url) -> None:
    """After a network cut the server may keep the writer's old session (and the lock) for
    a while: with the lease still its own, the writer ends that session and takes the lock
    on its next look, rather than stopping as if deposed (found in review)."""
    store = prepared_store(pg_url)
    other = Store(pg_url)
    try:
        store.claim()
        store.take_lease()
        cut_off = store._claim  # the client lost it; the server still holds it
        store._claim, store._claim_lost = None, True
        assert other.writer_lock_held()
        assert store.keep_claim()  # its own: the old session ended, asked again
        deadline = time.monotonic() + 10
        while store._claim_lost:
            assert time.monotonic() < deadline, "the lock was not taken again"
            assert store.keep_claim()
            time.sleep(0.1)
        assert other.writer_lock_held() and not other.try_claim()
        with contextlib.suppress(Exception):
            cut_off.close()
    finally:
        other.close()
        store.close()
