"""The writer's notification at each commit (dispatch/store/log_notice.py): the rows as the log
holds them when they fit, the last seq alone when they do not or PostgreSQL's notification
queue is crowded; and a follower that files the rows it was told of, reads the log whenever
they fall short, and takes rows only from a backend of its own role."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from dispatch import follower as follower_module
from dispatch.store import store as store_module
from dispatch.store.log_notice import (
    NOTIFY_SQL,
    PAYLOAD_MAX_BYTES,
    QUEUE_SHARE_FOR_ROWS,
    notice_payload,
    read_notice,
)
from dispatch.store.store import Store
from protocol.messages import Delta, Result
from tests import factories
from tests.conftest import PG_URL
from tests.dispatch.conftest import prepared_store, start_server
from tests.dispatch.test_follower import start_node, until_equal
from tests.dispatch.test_server import handshake, report_args
from tests.dispatch.test_store import change

TRICKY = '宜纺社区 "非机动车" 乱停放\\n😀 <b>&amp;</b> \u2028\t'


def test_a_payload_gives_back_the_rows_it_was_made_of() -> None:
    rows = [
        (7, 1764900000.25, "张三", "report", "event", "340803004001", b'{"title":"a"}'),
        (8, 1764900001.0, TRICKY, "assign", "alert", "", '{"t":"宜"}'.encode()),
    ]
    payload = notice_payload([(*row[:6], row[6].decode()) for row in rows])
    assert payload is not None
    assert read_notice(payload) == (8, rows)


def test_rows_too_big_for_a_payload_give_none() -> None:
    doc = '{"d":"' + "宜" * (PAYLOAD_MAX_BYTES // 3) + '"}'
    assert notice_payload([(1, 0.0, "a", "report", "event", "", doc)]) is None


DEEP = '[1,[[1,0.0,"a","b","event","",' + "[" * 3975 + "]" * 3975 + "]]]"


@pytest.mark.parametrize(
    ("payload", "read"),
    [
        ("42", (42, [])),
        ("", None),
        ("garbage", None),
        ('[1, "x"]', None),
        ("[1,[[1]]]", None),
        ("²", None),  # a digit to str.isdigit, not to int()
        ("9" * 5000, None),  # past int()'s limit
        (DEEP, None),  # nested past the decoder's recursion
    ],
)
def test_a_seq_alone_or_a_payload_that_is_neither(payload: str, read: Any) -> None:
    """Anyone who may connect may notify: whatever the payload, an answer, no exception."""
    assert len(DEEP.encode()) < 8000
    assert read_notice(payload) == read


# ---- the writer's side, on the real PostgreSQL --------------------------------------------


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[Store]:
    store = Store(pg_url)
    store.upgrade()
    yield store
    store.close()


def listening(store: Store) -> psycopg.Connection[Any]:
    """A connection of the store's own parameters, LISTENing on its log channel."""
    args, params = store.connect_args()
    connection = psycopg.connect(*args, autocommit=True, **params)
    connection.execute(f"LISTEN {store.log_channel}")
    return connection


def payloads(connection: psycopg.Connection[Any]) -> list[str]:
    """What was notified: the first waited for up to 10 s (a loaded machine), then any
    that follow within 0.3 s (one is expected; a second would be a fault)."""
    first = [n.payload for n in connection.notifies(timeout=10, stop_after=1)]
    return first + [n.payload for n in connection.notifies(timeout=0.3)]


def test_a_commit_notifies_its_rows_as_the_log_holds_them(pg_store: Store) -> None:
    listener = listening(pg_store)
    try:
        event = factories.make_event(1)
        tricky = factories.make_event(2, title=TRICKY, description=TRICKY)
        pg_store.commit([change(event), change(tricky)])
        [payload] = payloads(listener)
        assert read_notice(payload) == (2, pg_store.log_rows(0, 2, 10))
    finally:
        listener.close()


def test_a_batch_too_big_for_a_payload_notifies_its_last_seq(pg_store: Store) -> None:
    listener = listening(pg_store)
    try:
        events = [factories.make_event(i, description="宜" * 300) for i in range(1, 21)]
        pg_store.commit([change(e) for e in events])
        assert payloads(listener) == ["20"]
        assert pg_store.head()[0] == 20  # the commit went through
    finally:
        listener.close()


def test_the_server_sends_the_seq_when_the_payload_is_too_long_in_its_encoding(
    pg_store: Store,
) -> None:
    """PostgreSQL counts a payload's bytes in its own encoding, which may take more than
    UTF-8: the server itself checks the length, and a commit never fails on it."""
    listener = listening(pg_store)
    try:
        with pg_store.writer_engine.begin() as conn:
            conn.exec_driver_sql(
                NOTIFY_SQL, (pg_store.log_channel, QUEUE_SHARE_FOR_ROWS, "5", "宜" * 2700)
            )
        assert payloads(listener) == ["5"]
    finally:
        listener.close()


def test_a_crowded_notification_queue_gets_seqs_only(pg_store: Store, monkeypatch) -> None:
    listener = listening(pg_store)
    try:
        monkeypatch.setattr(store_module, "QUEUE_SHARE_FOR_ROWS", 0.0)  # always crowded
        pg_store.commit([change(factories.make_event(1))])
        assert payloads(listener) == ["1"]
    finally:
        listener.close()


# ---- the follower's side ------------------------------------------------------------------


async def test_a_gateway_files_the_notified_rows_and_reads_the_log_when_they_fall_short(
    pg_url: str, monkeypatch
) -> None:
    # No poll of the log meanwhile: the rows come from the notifications or not at all.
    monkeypatch.setattr(follower_module, "POLL_SECONDS", 60.0)
    writer = await start_server(prepared_store(pg_url))
    node = await start_node(pg_url, "gateway", writer)
    try:
        follower = node.server.follower
        assert follower is not None
        desk = await writer.client()
        await handshake(desk)
        wall = await node.client("wall")
        await handshake(wall)
        # Once a case has reached the wall the gateway listens (it listens, then reads).
        await desk.command("report", report_args(writer, title="开始"))
        await wall.until(lambda m: isinstance(m, Delta) and m.data.title == "开始")

        told = follower.noticed_rows
        first = await desk.command("report", report_args(writer, title="通知带来"))
        assert isinstance(first, Result)
        delta = await wall.until(lambda m: isinstance(m, Delta) and m.data.title == "通知带来")
        assert delta.seq == first.seq
        assert follower.noticed_rows > told  # filed from the notification itself

        told = follower.noticed_rows
        monkeypatch.setattr(store_module, "QUEUE_SHARE_FOR_ROWS", 0.0)  # seqs only
        second = await desk.command("report", report_args(writer, title="日志读来"))
        assert isinstance(second, Result)
        delta = await wall.until(lambda m: isinstance(m, Delta) and m.data.title == "日志读来")
        assert delta.seq == second.seq
        assert follower.noticed_rows == told  # read from the log
        await until_equal(lambda: node.server.hub.head, writer.server.hub.head)
        assert node.server.hub.events == writer.server.hub.events
    finally:
        await node.server.stop()
        node.store.close()
        await writer.server.stop()


@pytest.fixture
def other_role(pg_url: str) -> Iterator[str]:
    """A URL of the test database as a role that is not the backend's (may only connect)."""
    role = f"forger_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE ROLE {role} LOGIN"))
    try:
        yield PG_URL.replace("postgresql+psycopg://postgres@", f"postgresql://{role}@")
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP ROLE {role}"))
        admin.dispose()


async def test_rows_notified_by_another_roles_backend_are_not_taken(
    pg_url: str, other_role: str
) -> None:
    """Any role may NOTIFY any channel: a forged delta never reaches a gateway's walls."""
    writer = await start_server(prepared_store(pg_url))
    node = await start_node(pg_url, "gateway", writer)
    forger = await psycopg.AsyncConnection.connect(other_role, autocommit=True)
    try:
        follower = node.server.follower
        assert follower is not None
        wall = await node.client("wall")
        await handshake(wall)
        desk = await writer.client()
        await handshake(desk)
        real = await desk.command("report", report_args(writer, title="真的"))
        assert isinstance(real, Result)
        await wall.until(lambda m: isinstance(m, Delta) and m.data.title == "真的")

        # The forger copies a real row, renames the case and tells it as the next seq.
        [row] = node.store.log_rows(real.seq - 1, real.seq, 1)
        forged_doc = row.doc.decode().replace("真的", "伪造")
        forged = notice_payload([(real.seq + 1, *row[1:6], forged_doc)])
        await forger.execute("SELECT pg_notify(%s, %s)", (writer.store.log_channel, forged))
        await asyncio.sleep(0.3)
        after = await desk.command("report", report_args(writer, title="之后"))
        assert isinstance(after, Result) and after.seq == real.seq + 1
        delta = await wall.until(lambda m: isinstance(m, Delta) and m.seq == after.seq)
        assert delta.data.title == "之后"
        assert not any(
            isinstance(m, Delta) and getattr(m.data, "title", "") == "伪造" for m in wall.inbox
        )
        await until_equal(lambda: node.server.hub.head, writer.server.hub.head)
        assert node.server.hub.events == writer.server.hub.events
    finally:
        await forger.close()
        await node.server.stop()
        node.store.close()
        await writer.server.stop()
