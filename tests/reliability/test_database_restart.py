"""PostgreSQL restarted under load (a cluster of the test's own): every command in flight
either commits once or is answered `internal` (retryable: resent with the same command_id,
it is applied once); nothing acknowledged is lost; the backend stays up and writes again
within seconds of the database's return (docs/operations.md §3).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections import Counter

import pytest
import sqlalchemy as sa

from bench.reliability import private_pg
from dispatch.store.models import EventRow
from protocol.messages import Error, Result
from tests.dispatch.conftest import LINGHU, Running, point_in, prepared_store, start_server

WRITERS = 8


async def write(
    running: Running, name: str, acknowledged: dict[str, int], stop: asyncio.Event
) -> Counter[str]:
    """Report, one command at a time; an `internal` answer is resent with the same id."""
    seen: Counter[str] = Counter()
    client = await running.client("commander")
    for _ in range(3):  # welcome, units, snapshot
        await client.recv(timeout=30)
    lon, lat = point_in(running.server.reference, LINGHU)
    n = 0
    while not stop.is_set():
        n += 1
        command_id = f"{name}-{n}-{uuid.uuid4().hex[:6]}"
        args = {"category": "01-02", "title": command_id, "lon": lon, "lat": lat}
        while True:
            answer = await client.command("report", {**args, "source": "patrol"}, command_id)
            if isinstance(answer, Result):
                acknowledged[command_id] = int(answer.data["event"])
                seen["acknowledged"] += 1
                break
            assert isinstance(answer, Error) and answer.code == "internal", answer
            seen["internal"] += 1
            await asyncio.sleep(0.2)
    await client.ws.close()
    return seen


@pytest.mark.timeout(300)
async def test_a_postgresql_restart_under_load_loses_nothing_and_applies_nothing_twice() -> None:
    if os.environ.get("CI") != "true" and not private_pg.available():
        pytest.skip("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    with private_pg.private_postgres() as cluster:
        store = prepared_store(cluster.url)
        running = await start_server(store)
        acknowledged: dict[str, int] = {}
        stop = asyncio.Event()
        try:
            writers = [
                asyncio.create_task(write(running, f"w{i}", acknowledged, stop))
                for i in range(WRITERS)
            ]
            await asyncio.sleep(3)
            before = len(acknowledged)
            assert before > 50
            back = await asyncio.to_thread(cluster.restart, 1.0)
            # Back to writing: the first acknowledgement after the database is.
            while len(acknowledged) <= before + WRITERS * 5:
                assert time.monotonic() - back < 10, "not writing 10 s after the database's return"
                assert not running.server.fatal, running.server.fatal
                await asyncio.sleep(0.05)
            recovered = time.monotonic() - back
            await asyncio.sleep(2)
            stop.set()
            seen = sum((await asyncio.gather(*writers)), Counter())
        finally:
            stop.set()
            await running.server.stop()
        assert not running.server.fatal
        assert seen["internal"] > 0, "the restart met no command in flight"
        # Every acknowledged report is in the database once, under the id it was given.
        engine = sa.create_engine(cluster.url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(sa.select(EventRow.id, EventRow.doc)).all()
        finally:
            engine.dispose()
        titles = Counter()
        ids = {}
        for event_id, doc in rows:
            title = json.loads(doc)["title"]
            titles[title] += 1
            ids[title] = event_id
        assert [t for t, n in titles.items() if n > 1] == []
        assert {c: ids.get(c) for c in acknowledged} == acknowledged
        store.close()
        print(f"recovered {recovered:.2f} s after the database; {seen}")
