"""The triage queue (待分拨): an unmapped 12345 type is filed, shown, refused for dispatch
until a dispatcher classifies it over the websocket; the desk offers 分拨定类 first."""

from __future__ import annotations

from desktop.core.actions import available, main_action
from desktop.core.todo import Me
from protocol.messages import Error, Result
from tests.dispatch.intake.conftest import Hotline, order


async def test_a_triaged_case_is_classified_before_dispatch(hotline: Hotline) -> None:
    got = (await hotline.push(order(kind="其他/未分类诉求"))).json()
    event_id = got["event"]
    desk = await hotline.running.client("dispatcher")
    await desk.recv()  # welcome
    assert isinstance(await desk.command("accept", {"event": event_id}), Result)
    refused = await desk.command("dispatch", {"event": event_id, "assignee": "CGJ"})
    assert isinstance(refused, Error) and refused.code == "illegal_transition"
    assert "waits for triage (待分拨: 其他/未分类诉求): classify it first" in refused.message
    unknown = await desk.command("classify", {"event": event_id, "category": "99-99"})
    assert isinstance(unknown, Error) and unknown.code == "bad_args"
    before = hotline.server.state.events[event_id]
    done = await desk.command("classify", {"event": event_id, "category": "01-02", "note": "涂鸦"})
    assert isinstance(done, Result), done
    after = hotline.server.state.events[event_id]
    assert after.category == "01-02" and after.intake.triage == ""
    assert after.intake.ref == before.intake.ref  # the rest of the intake record stays
    assert after.due_at != before.due_at  # 暴露垃圾's limits, not 意见建议's
    assert after.decisions[-1].text == "classify: 06-14 → 01-02；涂鸦"
    again = await desk.command("classify", {"event": event_id, "category": "01-02"})
    assert isinstance(again, Error) and "already of category 01-02" in again.message
    assert isinstance(
        await desk.command("dispatch", {"event": event_id, "assignee": "CGJ"}), Result
    )
    await desk.ws.close()


def test_the_desk_offers_classify_first_and_no_dispatch() -> None:
    from protocol.entities import Event, Intake

    intake = Intake(channel="12345", ref="X", peer="p", place="none", confidence=0.0, triage="?")
    event = Event(
        id=1,
        code="DG-1",
        source="hotline",
        category="06-14",
        title="t",
        lon=117.0,
        lat=30.5,
        grid="g",
        community="c",
        street="s",
        priority=3,
        status="accepted",
        level="grid",
        reported_at=0.0,
        updated_at=0.0,
        intake=intake,
    )
    me = Me(user="调度员", role="dispatcher")
    ops = available(event, me, 1.0)
    assert "classify" in ops and "dispatch" not in ops
    assert main_action(event, ops) == "classify"
    from msgspec.structs import replace

    classified = replace(event, intake=replace(intake, triage=""))
    ops = available(classified, me, 1.0)
    assert "classify" not in ops and main_action(classified, ops) == "dispatch"
