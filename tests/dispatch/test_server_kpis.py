"""KPIs over the wire: week and month, the stats request, the catching-up flag, a restart."""

from __future__ import annotations

from protocol.codec import encode
from protocol.codes import ErrorCode
from protocol.messages import Error, Kpis, Result, Stats
from tests.dispatch.conftest import LINGHU, Running, start_server
from tests.dispatch.test_server import handshake, report_args


async def ask(client, by: str, period: str = "today") -> Result | Error:  # type: ignore[no-untyped-def]
    request_id = next(client.ids)
    await client.ws.send(encode(Stats(id=request_id, by=by, period=period)).decode())  # type: ignore[arg-type]
    reply = await client.until(lambda m: isinstance(m, (Result, Error)) and m.id == request_id)
    assert isinstance(reply, (Result, Error))
    return reply


async def test_kpis_carry_week_and_month(running_sqlite: Running) -> None:
    c = await running_sqlite.client("commander")
    await handshake(c)
    await c.command("report", report_args(running_sqlite))
    k = await c.until(lambda m: isinstance(m, Kpis) and m.scopes.get("district") is not None)
    assert isinstance(k, Kpis)
    assert k.week["district"].received >= k.scopes["district"].received >= 1
    assert k.month["district"].received >= k.week["district"].received
    assert not k.catching_up
    await c.ws.close()


async def test_stats_by_every_kind_within_the_jurisdiction(running_sqlite: Running) -> None:
    c = await running_sqlite.client("commander")
    await handshake(c)
    ok = await c.command("report", report_args(running_sqlite))
    assert isinstance(ok, Result)
    await c.until(lambda m: isinstance(m, Kpis) and m.scopes.get("district") is not None)
    grid = running_sqlite.server.state.events[ok.data["event"]].grid
    reply = await ask(c, "grid", "month")
    assert isinstance(reply, Result) and reply.data["rows"][grid]["received"] == 1
    assert isinstance(await ask(c, "department"), Result)
    street_user = await running_sqlite.client("dekuan")
    await handshake(street_user)
    theirs = await ask(street_user, "grid")
    assert isinstance(theirs, Result) and grid not in theirs.data["rows"]  # 菱湖's grid
    refused = await ask(street_user, "department")
    assert isinstance(refused, Error) and refused.code == ErrorCode.FORBIDDEN
    # A bad request is answered and the connection stays up.
    await street_user.ws.send('{"type": "stats", "id": 99, "by": "planet"}')
    bad = await street_user.until(lambda m: isinstance(m, Error))
    assert isinstance(bad, Error) and bad.code == ErrorCode.BAD_MESSAGE
    assert isinstance(await ask(street_user, "street"), Result)
    await c.ws.close()
    await street_user.ws.close()


async def test_catching_up_is_announced_then_cleared(running_sqlite: Running) -> None:
    running_sqlite.server.catching_up = True
    c = await running_sqlite.client("wall")
    await handshake(c)
    partial = await c.until(lambda m: isinstance(m, Kpis) and m.catching_up)
    assert isinstance(partial, Kpis)
    running_sqlite.server.catching_up = False
    whole = await c.until(lambda m: isinstance(m, Kpis) and not m.catching_up)
    assert isinstance(whole, Kpis)
    await c.ws.close()


async def test_a_restart_counts_the_month_again(sqlite_store) -> None:
    run = await start_server(sqlite_store)
    c = await run.client("commander")
    await handshake(c)
    for _ in range(3):
        await c.command("report", report_args(run))
    await c.ws.close()
    await run.server.stop()
    from dispatch.server import DispatchServer

    again = DispatchServer(sqlite_store, run.server.reference)
    await again.start("127.0.0.1", 0)
    try:
        assert again.hub is not None
        assert again.hub.kpis.kpi("month", LINGHU).received == 3
    finally:
        await again.stop()


async def test_stats_requests_share_the_command_allowance(sqlite_store) -> None:
    from dispatch.server import Limits

    run = await start_server(sqlite_store, Limits(commands_per_second=1, command_burst=3))
    try:
        c = await run.client("commander")
        await handshake(c)
        answers = [await ask(c, "grid") for _ in range(5)]
        refused = [a for a in answers if isinstance(a, Error)]
        assert refused and all(a.code == ErrorCode.RATE_LIMITED for a in refused)
        assert isinstance(answers[0], Result) and answers[0].data["catching_up"] is False
        await c.ws.close()
    finally:
        await run.server.stop()


async def test_a_return_visit_reopens_a_case_closed_days_ago(sqlite_store) -> None:
    """The live state lets settled cases go after 36 h; a return visit still finds them."""
    from dispatch.state import Actor
    from dispatch.writer import CommandRequest
    from protocol import commands as cmd

    run = await start_server(sqlite_store)
    try:
        c = await run.client("commander")
        await handshake(c)
        reported = await c.command("report", report_args(run))
        assert isinstance(reported, Result)
        eid = reported.data["event"]
        staff = Actor("菱湖分中心", "street", frozenset({LINGHU}))
        worker = Actor("网格员 张三", "street", frozenset({LINGHU}))
        steps = [
            (staff, "accept", cmd.EventRef(event=eid)),
            (staff, "dispatch", cmd.Dispatch(event=eid, assignee=worker.name)),
            (worker, "start", cmd.EventRef(event=eid)),
            (worker, "handled", cmd.EventRef(event=eid)),
            (staff, "verify", cmd.Verify(event=eid, passed=True)),
            (staff, "close", cmd.EventRef(event=eid)),
        ]
        for actor, op, args in steps:
            answer = await run.server.submit(CommandRequest(actor, op, args))
            assert answer.ok, (op, answer.message)
        # Let go of by the live state and the hub, as 36 hours after closing.
        assert run.server.hub is not None
        run.server.state.events.pop(eid)
        run.server.hub.events.pop(eid)
        evaluated = await c.command("evaluate", {"event": eid, "score": 1, "note": "回访不满意"})
        assert isinstance(evaluated, Result), evaluated
        assert run.server.state.events[eid].status == "dispatched"  # a low score reopens it
        outsider = await run.client("dekuan")
        await handshake(outsider)
        run.server.state.events.pop(eid)
        hidden = await outsider.command("reopen", {"event": eid, "reason": "x"})
        assert isinstance(hidden, Error) and hidden.code == "not_found"
        await c.ws.close()
        await outsider.ws.close()
    finally:
        await run.server.stop()
