"""12345 feedback beyond 签收/办理中/办结/退回 (docs/intake.md §3): an approved extension owes
the platform 延期 with the new deadline, a reopened case (by hand after a failed return
visit, or by a low evaluation) owes 重办; a refused extension owes nothing. Against the
stand-in platform (dispatch/intake/platform.py) on its own port."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from dispatch.domain.calendar import CST
from dispatch.intake.platform import FakePlatform
from protocol.codec import encode
from protocol.messages import History, Result
from tests.dispatch.conftest import LINGHU, point_in
from tests.dispatch.intake.conftest import KEY, PEER, Hotline, order, start_hotline
from tests.dispatch.intake.loop import work_the_case
from tests.dispatch.intake.test_outbox import FAST, until

DOC = Path(__file__).resolve().parents[3] / "docs" / "intake.md"


@pytest.fixture
async def platform() -> AsyncIterator[FakePlatform]:
    fake = FakePlatform(PEER, KEY.encode(), hang=3.0)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def line(store, tmp_path, platform) -> AsyncIterator[Hotline]:
    hotline = await start_hotline(store, tmp_path, feedback_url=platform.url, **FAST)
    platform.intake_url = hotline.url
    yield hotline
    await hotline.http.aclose()
    await hotline.running.server.stop()


def _told(platform: FakePlatform) -> list[dict[str, Any]]:
    # In the order the platform took them (one case's feedback goes out in order).
    return list(platform.received.by_key.values())


async def _ok(client: Any, op: str, **args: Any) -> Result:
    reply = await client.command(op, args)
    assert isinstance(reply, Result), (op, reply)
    return reply


async def _in_linghu(line: Hotline, platform: FakePlatform) -> int:
    """A work order with coordinates in 菱湖街道 (so 菱湖分中心 works it); its event id."""
    lon, lat = point_in(line.server.reference, LINGHU)
    got = (await platform.push(order(lon=lon, lat=lat))).json()
    assert got["place"] == "point", got
    return int(got["event"])


async def test_an_approved_extension_is_fed_back_with_its_new_deadline(line, platform) -> None:
    event_id = await _in_linghu(line, platform)
    street = await line.running.client("linghu")
    chief = await line.running.client("commander")
    await street.recv()
    await chief.recv()
    await _ok(street, "accept", event=event_id)
    await _ok(street, "dispatch", event=event_id, assignee="CGJ")
    # A first request refused: the platform hears nothing of it.
    await _ok(street, "request_extension", event=event_id, hours=24, reason="先问问")
    await _ok(chief, "decide_extension", event=event_id, approve=False, note="理由不足")
    await _ok(street, "request_extension", event=event_id, hours=48, reason="店主外出，需约谈")
    await until(lambda: len(platform.received.by_key) == 2)  # 签收, 办理中
    await _ok(chief, "decide_extension", event=event_id, approve=True)
    await until(lambda: len(platform.received.by_key) == 3)
    told = _told(platform)
    assert [b["status"] for b in told] == ["签收", "办理中", "延期"]
    extended = told[-1]
    event = line.server.state.events[event_id]
    assert extended["text"] == "店主外出，需约谈"
    assert extended["deadline"] == datetime.fromtimestamp(event.due_at, CST).isoformat(
        timespec="seconds"
    )
    assert extended["order_no"] == order()["order_no"] and extended["event"] == event.code
    # The body has the keys docs/intake.md §3 shows for it.
    shown = re.search(r"An approved extension:\n\n```json\n(.*?)\n```", DOC.read_text(), re.S)
    assert shown is not None
    assert set(json.loads(shown.group(1))) == set(extended)
    assert json.loads(shown.group(1))["status"] == "延期"
    # The history says so too, delivered.
    await street.ws.send(encode(History(id=99, event=event_id)).decode())
    answer = await street.until(lambda m: isinstance(m, Result) and m.id == 99)
    await until(lambda: line.running.store.outbox_counts() == {"delivered": 3})
    assert [f["status"] for f in answer.data["feedback"]] == ["签收", "办理中", "延期"]
    await street.ws.close()
    await chief.ws.close()


async def test_a_reopened_case_is_fed_back_as_redo_then_done_again(line, platform) -> None:
    got = (await platform.push(order())).json()
    event_id = got["event"]
    await work_the_case(line.running, event_id, "已约谈店主", "噪音问题已解决")
    await until(lambda: len(platform.received.by_key) == 3)
    chief = await line.running.client("commander")
    await chief.recv()
    # 回访不满意: reopened by hand with the reason.
    await _ok(chief, "reopen", event=event_id, reason="回访不满意，晚上仍有噪音")
    await until(lambda: len(platform.received.by_key) == 4)
    assert [(b["status"], b["text"]) for b in _told(platform)][-1] == (
        "重办",
        "回访不满意，晚上仍有噪音",
    )
    await chief.ws.close()
    # Worked again and closed: 办结 again (its own key), nothing else twice.
    desk = await line.running.client("dispatcher")
    chief = await line.running.client("commander")
    await desk.recv()
    await chief.recv()
    await _ok(desk, "start", event=event_id)
    await _ok(desk, "handled", event=event_id, note="已加装隔音")
    await _ok(chief, "verify", event=event_id, passed=True)
    await _ok(chief, "close", event=event_id, note="隔音已加装，复查安静")
    await until(lambda: len(platform.received.by_key) == 5)
    assert [b["status"] for b in _told(platform)] == ["签收", "办理中", "办结", "重办", "办结"]
    assert platform.received.duplicates == 0
    await desk.ws.close()
    await chief.ws.close()


async def test_a_low_evaluation_reopens_and_is_fed_back_as_redo(line, platform) -> None:
    got = (await platform.push(order())).json()
    event_id = got["event"]
    await work_the_case(line.running, event_id, "已约谈店主", "噪音问题已解决")
    desk = await line.running.client("dispatcher")
    await desk.recv()
    reply = await _ok(desk, "evaluate", event=event_id, score=1, note="回访：仍然很吵")
    assert reply.data["status"] == "dispatched"
    await until(lambda: len(platform.received.by_key) == 4)
    told = _told(platform)
    assert [b["status"] for b in told] == ["签收", "办理中", "办结", "重办"]
    assert told[-1]["text"] == "评价 1 分，退回重办并督办"
    await desk.ws.close()


async def test_a_good_evaluation_owes_nothing(line, platform) -> None:
    got = (await platform.push(order())).json()
    await work_the_case(line.running, got["event"], "已约谈店主", "噪音问题已解决")
    desk = await line.running.client("dispatcher")
    await desk.recv()
    await _ok(desk, "evaluate", event=got["event"], score=5)
    await until(lambda: line.running.store.outbox_counts() == {"delivered": 3})
    assert [b["status"] for b in _told(platform)] == ["签收", "办理中", "办结"]
    await desk.ws.close()
