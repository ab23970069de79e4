"""Settled cases and alerts leave the live state after 36 h: snapshots keep the window to the
second, whenever the periodic prune last ran."""

from __future__ import annotations

import asyncio

from dispatch.clock import Clock
from dispatch.server import PRUNE_EVERY, Limits, release_free_memory
from dispatch.writer import PruneRequest
from protocol.messages import Result
from protocol.retention import KEEP_CLOSED_SECONDS
from tests.dispatch.conftest import detect_by, start_server
from tests.dispatch.test_server import handshake, report_args


async def test_a_snapshot_leaves_out_what_settled_over_36_hours_ago(sqlite_store) -> None:
    clock = Clock()
    running = await start_server(sqlite_store, clock=clock)
    try:
        c = await running.client("commander")
        await handshake(c)
        settled = await c.command("report", report_args(running, title="已驳回"))
        still_open = await c.command("report", report_args(running, title="仍在办理"))
        assert isinstance(settled, Result) and isinstance(still_open, Result)
        rejected = await c.command("reject", {"event": settled.data["event"], "reason": "重复"})
        assert isinstance(rejected, Result)
        first, second = list(running.server.reference.cameras)[:2]  # two cameras: two alerts
        dismissed, new = await detect_by(running, first), await detect_by(running, second)
        answer = await c.command("dismiss_alert", {"alert": dismissed, "reason": "误报"})
        assert isinstance(answer, Result)
        await c.ws.close()

        # 36 h and a minute later by the district clock; the prune (every 10 min of real
        # time) has not run, yet a new client's snapshot holds only what is kept.
        clock.skip(KEEP_CLOSED_SECONDS + 60)
        fresh = await running.client("commander")
        _, snapshot = await handshake(fresh)
        events = {e.id for e in snapshot.events}
        alerts = {a.id for a in snapshot.alerts}
        assert still_open.data["event"] in events and settled.data["event"] not in events
        assert new in alerts and dismissed not in alerts
        await fresh.ws.close()
    finally:
        await running.server.stop()


async def test_the_writers_prune_lets_go_of_the_documents_of_what_it_drops(sqlite_store) -> None:
    """The writer keeps each entity's last encoded document (its next change's `before`);
    the prune that drops a settled case drops that too, so a long run does not keep every
    case it ever changed (found by `python -m bench soak`)."""
    clock = Clock()
    running = await start_server(sqlite_store, clock=clock)
    try:
        c = await running.client("commander")
        await handshake(c)
        settled = await c.command("report", report_args(running, title="已驳回"))
        still_open = await c.command("report", report_args(running, title="仍在办理"))
        assert isinstance(settled, Result) and isinstance(still_open, Result)
        gone, kept = settled.data["event"], still_open.data["event"]
        assert isinstance(await c.command("reject", {"event": gone, "reason": "重复"}), Result)
        writer = running.server.writer
        assert writer is not None
        assert {("event", gone), ("event", kept)} <= set(writer._docs)
        clock.skip(KEEP_CLOSED_SECONDS + 60)
        assert (await running.server.submit(PruneRequest())).ok
        assert ("event", gone) not in writer._docs and ("event", kept) in writer._docs
        assert gone not in running.server.state.events
        # The kept case's next change still finds its `before` (and so does the log).
        answer = await c.command("accept", {"event": kept})
        assert isinstance(answer, Result)
        await c.ws.close()
    finally:
        await running.server.stop()
    assert [r.action for r in sqlite_store.event_history(kept)] == ["report", "accept"]


async def test_the_prune_follows_district_time_too(sqlite_store) -> None:
    """Every 10 minutes of real time, or of district time if that passes sooner: a demo at
    60x lets go of what settled 36 h ago as a real day does (it used to keep 10 district
    hours more, and the soak saw it grow)."""
    clock = Clock()
    running = await start_server(sqlite_store, Limits(tick_interval=0.05), clock=clock)
    try:
        c = await running.client("commander")
        await handshake(c)
        settled = await c.command("report", report_args(running, title="已驳回"))
        assert isinstance(settled, Result)
        gone = settled.data["event"]
        assert isinstance(await c.command("reject", {"event": gone, "reason": "重复"}), Result)
        await c.ws.close()
        clock.skip(KEEP_CLOSED_SECONDS + PRUNE_EVERY + 60)
        hub, state = running.server.hub, running.server.state
        assert hub is not None
        for _ in range(100):  # a few ticks of 0.05 s, not 10 minutes
            if gone not in hub.events and gone not in state.events:
                break
            await asyncio.sleep(0.05)
        assert gone not in hub.events and gone not in state.events
    finally:
        await running.server.stop()
    release_free_memory()  # glibc's malloc_trim here; nothing where there is none
