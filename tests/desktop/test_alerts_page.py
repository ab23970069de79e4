"""The alerts page's follow-up steps: a confirmed alert's case is accepted and dispatched, and
when one of those steps is refused the page says so instead of staying silent."""

from __future__ import annotations

import asyncio
from typing import Any

from desktop.core.outbox import Outbox
from desktop.core.replica import Changes, Replica
from desktop.core.todo import Me
from desktop.ui.desk.alerts_page import AlertsPage
from protocol.messages import Error, Result
from tests.desktop.test_wall import run_in_qt
from tests.factories import make_alert


def test_a_refused_follow_up_is_told(qapp, qtbot) -> None:
    sent: list[str] = []

    async def backend(op: str, args: dict[str, Any], **_: Any) -> Result | Error:
        # The answers a backend gives when someone accepted the new case first.
        sent.append(op)
        if op == "confirm_alert":
            return Result(id=2, data={"alert": args["alert"], "event": 5})
        return Error(id=3, code="illegal_transition", message="accept is not allowed")

    async def scenario() -> None:
        replica = Replica()
        replica.alerts = {1: make_alert(1)}
        pages: list[AlertsPage] = []
        outbox = Outbox(backend, lambda e: pages[0].entry_changed(e) if pages else None)
        outbox.set_connected(True)
        page = AlertsPage(replica, lambda: Me("clerk", "street"), outbox, lambda: 2.0)
        pages.append(page)
        qtbot.addWidget(page)
        page.show()
        page.apply(Changes(reset=True, alerts={1}))
        assert page.alert_id == 1
        page.open_form("confirm")
        page.form.submitted.emit({"category": "", "assignee": "CGJ"})
        for _ in range(100):
            if page.notice.isVisible():
                break
            await asyncio.sleep(0.02)
        assert sent == ["confirm_alert", "accept"]
        assert "受理未执行" in page.notice.text() and "我的待办" in page.notice.text()
        await outbox.close()

    run_in_qt(qapp, qtbot, scenario)
