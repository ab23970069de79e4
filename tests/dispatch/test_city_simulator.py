"""The simulator on a city store: a district's day in each district, each in its own units."""

from __future__ import annotations

import asyncio
from collections import Counter

from dispatch.app import load_reference, prepare
from dispatch.clock import Clock
from dispatch.server import DispatchServer
from dispatch.simulator import Simulator
from dispatch.store.store import Store


async def test_two_districts_each_have_their_own_day(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = Store(f"sqlite:///{tmp_path / 'city.db'}")
    prepare(store, codes=("340803", "340802"))
    reference = load_reference(store)
    server = DispatchServer(store, reference, Clock(speed=1.0))
    await server.start("127.0.0.1", 0)
    simulator = Simulator(server, seed=7, daily_events=400, daily_alerts=150)
    assert simulator.districts == ["340802", "340803"]
    assert (simulator.daily_events, simulator.daily_alerts) == (800, 300)
    task = asyncio.create_task(simulator.run(warm_up=True))
    try:
        for _ in range(900):
            await asyncio.sleep(0.1)
            if simulator.warmed_up:
                break
        assert simulator.warmed_up
        events = list(server.hub.events.values())
        by_district = Counter(e.street[:6] for e in events)
        assert set(by_district) == {"340802", "340803"}
        # The same share each (a district's day), within chance.
        assert 0.6 < by_district["340802"] / by_district["340803"] < 1.6, by_district
        for e in events:
            assert e.grid.startswith(e.community) and e.community.startswith(e.street)
        alerts = list(server.hub.alerts.values())
        assert {a.street[:6] for a in alerts} == {"340802", "340803"}
        # Each case is worked by its own street's sub-centre, never another district's.
        names = {s.code: s.name for s in reference.reference.streets}
        rows = await asyncio.to_thread(store.read_log, 0, 1_000_000)
        centres = [r for r in rows if r.actor.endswith("分中心") and r.key]
        assert centres
        for row in centres:
            assert row.actor == f"{names[row.key[:9]]}分中心", row
        # ... and sent to its own district's departments (迎江区's keyed 340802:…).
        sent = [e for e in events if e.assignee in reference.departments]
        assert {e.street[:6] for e in sent} == {"340802", "340803"}
        for e in sent:
            assert e.assignee.startswith("340802:") == (e.street[:6] == "340802"), e
            assert all(
                a.unit not in reference.departments or a.unit in reference.departments_of(e.street)
                for a in e.assisting
            )
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await server.stop()
        store.close()
