"""The 管理 page's 接入 tab, offscreen: an intake_status answer (docs/protocol.md §6.12)
shown as the intakes' lines, the cameras and sensors heard of and the feedback outbox with
its states; an admin sends a refused feedback again (R), a dispatcher may only look; and the
answer read without Qt (desktop/core/intakes.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from desktop.core.intakes import parse_status, row_state, state_counts
from desktop.core.todo import Me
from desktop.ui.desk.intake_tab import IntakeTab
from protocol.messages import Error, OutboxRow, Result
from tests.desktop.test_wall import run_in_qt, until

NOW = 1796174400.0


def _row(id_: int, state: str, error: str = "", attempts: int = 1) -> dict[str, Any]:
    return {
        "id": id_,
        "peer": "anqing12345",
        "ref": f"AQ12345-20261125-00004{id_}",
        "event": id_,
        "status": "签收",
        "state": state,
        "attempts": attempts,
        "created_at": NOW,
        "next_at": NOW + 30,
        "delivered_at": NOW + 1 if state == "delivered" else None,
        "error": error,
    }


STATUS: dict[str, Any] = {
    "intakes": {
        "hotline": {
            "enabled": True,
            "answers": {"ok": 7, "repeat": 2, "bad_signature": 1},
            "last_at": NOW,
            "peers": [{"name": "anqing12345", "feedback": True}],
        },
        "mqtt": {
            "enabled": True,
            "broker": "127.0.0.1:1883",
            "connected": False,
            "connects": 1,
            "received": 12,
            "failed": 0,
            "last_at": NOW - 5,
            "demo": False,
            "frigate": {
                "accepted": 5,
                "rejected": {"unknown_camera": 2, "false_positive": 4},
                "snapshots": 3,
                "snapshot_failures": 0,
                "reconciled": 0,
                "bad_times": 0,
            },
            "cameras": [
                {
                    "name": "gate_east",
                    "camera": "34080300011320000001",
                    "events": 5,
                    "last_at": NOW,
                },
                {"name": "lobby_3", "camera": "", "events": 2, "last_at": NOW},
            ],
            "sensors": {"readings": 3, "cases": 1, "rejected": {"schema": 1}},
            "devices": [
                {
                    "device": "GAS-0001",
                    "kind": "gas",
                    "name": "3栋燃气",
                    "readings": 3,
                    "value": 31.5,
                    "at": NOW,
                    "alarm": True,
                }
            ],
        },
        "open311": {"enabled": False},
    },
    "outbox": {
        "counts": {"delivered": 1, "refused": 1, "pending": 1},
        "peers": {"anqing12345": {"delivered": 1, "refused": 1, "pending": 1}},
        "rows": [
            _row(3, "pending", "HTTP 503: maintenance", 2),
            _row(2, "refused", "HTTP 422: unknown order"),
            _row(1, "delivered"),
        ],
    },
}


class FakeRequests:
    """The backend's side of the tab, answering as it would."""

    def __init__(self) -> None:
        self.asked = 0
        self.retried: list[list[int]] = []

    async def intake_status(self, state: str | None = None, limit: int = 100) -> Result | Error:
        self.asked += 1
        return Result(id=self.asked, data=STATUS)

    async def retry_feedback(self, ids: list[int]) -> Result | Error:
        self.retried.append(ids)
        return Result(id=99, data={"retried": ids, "skipped": []})


def test_the_answer_is_read_without_qt() -> None:
    state = parse_status(STATUS)
    hotline, open311, mqtt = state.lines
    assert (hotline.name, hotline.taken, hotline.refused) == ("hotline", 9, 1)
    assert hotline.reasons == {"bad_signature": 1} and hotline.where == "anqing12345"
    assert not open311.enabled
    # Frigate's own false positives are no refusal of ours.
    assert (mqtt.connected, mqtt.taken, mqtt.refused) == (False, 8, 3)
    assert [(s.kind, s.name, s.maps_to) for s in state.sources] == [
        ("camera", "gate_east", "34080300011320000001"),
        ("camera", "lobby_3", ""),
        ("sensor", "GAS-0001", "gas"),
    ]
    assert state.sources[2].alarm and state.sources[2].value == 31.5
    assert [row_state(r) for r in state.rows] == ["failing", "refused", "delivered"]
    assert state_counts(state.rows) == {"failing": 1, "refused": 1, "delivered": 1}
    assert isinstance(state.rows[0], OutboxRow)


def _texts(table: Any, row: int) -> list[str]:
    return [table.item(row, c).text() for c in range(table.columnCount())]


def test_the_tab_shows_the_intakes_and_an_admin_sends_a_refused_feedback_again(qapp, qtbot) -> None:
    requests = FakeRequests()
    tab = IntakeTab(lambda: Me("系统管理员", "admin", ()), lambda: requests)
    qtbot.addWidget(tab)

    async def scenario() -> None:
        tab.show()
        await until(lambda: tab.state is not None, 10, "the status shown")
        assert _texts(tab.intakes, 0)[:5] == [
            "12345 工单",
            "已开启",
            "9",
            "1",
            tab.intakes.item(0, 4).text(),
        ]
        assert "bad_signature 1" in tab.intakes.item(0, 5).text()
        assert _texts(tab.intakes, 1)[1] == "未开启"
        assert _texts(tab.intakes, 2)[1:4] == ["未连接", "8", "3"]
        assert tab.sources.rowCount() == 3
        assert _texts(tab.sources, 1)[1:3] == ["lobby_3", "未对应"]
        assert _texts(tab.sources, 2)[5] == "31.5 告警中"
        assert [_texts(tab.outbox, r)[4] for r in range(3)] == [
            "发送失败，重试中",
            "被拒收",
            "已送达",
        ]
        assert "HTTP 422" in tab.outbox.item(1, 7).text()
        assert "其中 1 条发送失败" in tab.outbox_counts.text()
        # A delivered row cannot be sent again: the button stays off.
        tab.outbox.selectRow(2)
        retry = tab.action_bar.button("retry")
        assert retry is not None and not retry.isEnabled()
        tab.outbox.selectRow(1)
        retry = tab.action_bar.button("retry")
        assert retry is not None and retry.isEnabled()
        tab.act("retry")
        await until(lambda: requests.retried == [[2]], 10, "retry_feedback sent")
        await until(lambda: "已安排重发 1 条反馈" in tab.notice.text(), 10, "the answer shown")
        # The filter shows the failing rows only.
        tab.filter.setCurrentIndex(tab.filter.findData("failing"))
        assert tab.outbox.rowCount() == 1 and tab.outbox.item(0, 0).text() == "3"
        tab.hide()

    run_in_qt(qapp, qtbot, scenario)


def test_a_dispatcher_looks_but_sends_nothing_again(qapp, qtbot) -> None:
    requests = FakeRequests()
    tab = IntakeTab(lambda: Me("调度员", "dispatcher", ()), lambda: requests)
    qtbot.addWidget(tab)

    async def scenario() -> None:
        tab.show()
        await until(lambda: tab.state is not None, 10, "the status shown")
        tab.outbox.selectRow(1)
        assert tab.action_bar.button("retry") is None
        tab.act("retry")
        await asyncio.sleep(0.05)
        assert requests.retried == []
        tab.hide()

    run_in_qt(qapp, qtbot, scenario)


async def test_the_desks_session_reads_a_real_backends_intakes(sqlite_store, tmp_path) -> None:
    """The desktop's session against a backend with the 12345 intake on and its platform
    down: a pushed work order accepted owes 签收, which fails (503) and is read as failing;
    a commander may not look; an admin's retry is answered."""
    from desktop.core.session import Session
    from dispatch.intake.platform import FakePlatform
    from tests.dispatch.conftest import start_server
    from tests.dispatch.intake import conftest as hotline

    platform = FakePlatform(hotline.PEER, hotline.KEY.encode())
    await platform.start()
    platform.down = True
    intake = hotline.config(tmp_path, feedback_url=platform.url, retry_base=0.05, retry_cap=0.2)
    running = await start_server(sqlite_store, intake=intake)
    assert running.server.intake is not None
    platform.intake_url = f"http://127.0.0.1:{running.server.intake.port}"
    admin = sqlite_store.create_user("系统管理员", "admin")
    sessions = {
        name: Session(f"ws://127.0.0.1:{running.port}", token, on_changes=lambda c: None)
        for name, token in (
            ("admin", admin),
            ("dispatcher", running.tokens["dispatcher"]),
            ("commander", running.tokens["commander"]),
        )
    }
    tasks = [asyncio.create_task(s.run()) for s in sessions.values()]
    try:
        for session in sessions.values():
            await asyncio.wait_for(session.wait_connected(), 10)
        pushed = await platform.push(hotline.order())
        assert pushed.status_code == 200, pushed.text
        accepted = await sessions["dispatcher"].command("accept", {"event": 1})
        assert isinstance(accepted, Result)
        await until(lambda: platform.received.faults["down"] >= 1, 10, "a failed delivery")
        answer = await sessions["dispatcher"].intake_status()
        assert isinstance(answer, Result), answer
        state = parse_status(answer.data)
        assert [(line.name, line.enabled) for line in state.lines] == [
            ("hotline", True),
            ("open311", False),
            ("mqtt", False),
        ]
        assert state.lines[0].taken == 1 and state.lines[0].where == hotline.PEER
        (row,) = state.rows
        assert (row.status, row_state(row)) in {("签收", "failing"), ("签收", "pending")}
        refused = await sessions["commander"].intake_status()
        assert isinstance(refused, Error) and refused.code == "forbidden"
        mine = await sessions["dispatcher"].retry_feedback([row.id])
        assert isinstance(mine, Error) and mine.code == "forbidden"
        retried = await sessions["admin"].retry_feedback([row.id])
        assert isinstance(retried, Result) and retried.data == {"retried": [row.id], "skipped": []}
        platform.down = False
        await until(lambda: sqlite_store.outbox_counts() == {"delivered": 1}, 10, "delivered")
        again = await sessions["admin"].retry_feedback([row.id])
        assert isinstance(again, Error) and again.code == "not_found"
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await running.server.stop()
        await platform.stop()
