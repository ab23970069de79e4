"""新待办 notices go to those who work cases: a street clerk's desk chimes and says so for a new
case; an admin's desk lists it (an admin sees every tab) but neither chimes nor says so
(desktop.core.todo.ANNOUNCED decides per role)."""

from __future__ import annotations

import pytest

from dispatch.store.store import Store
from tests.desktop.test_desk import open_desk, ready, reported, stop_all
from tests.desktop.test_wall import run_in_qt, until
from tests.dispatch.conftest import start_server


@pytest.mark.timeout(180)
def test_a_new_case_chimes_for_the_clerk_not_for_the_admin(
    qapp, qtbot, sqlite_store: Store
) -> None:
    admin_token = sqlite_store.create_user("系统管理员", "admin")

    async def scenario() -> None:
        running = await start_server(sqlite_store)
        url = f"ws://127.0.0.1:{running.port}"
        clerk, clerk_link = open_desk(url, running.tokens["linghu"])
        admin, admin_link = open_desk(url, admin_token)
        try:
            await ready(clerk)
            await ready(admin)
            assert admin.book.me.role == "admin"
            for window in (clerk, admin):
                window.chime.muted = False
                window.chime.gap = 0.0
            event_id = await reported(running, title="楼道堆物")
            for window in (clerk, admin):
                await until(lambda w=window: event_id in w.book.tabs, 10, "listed")
            # Both list it (an admin sees every tab) ...
            assert clerk.book.tabs[event_id] == {"accept"}
            assert admin.book.tabs[event_id] == {"accept"}
            assert event_id in admin.todo.model.rows
            # ... only the clerk is told.
            assert "楼道堆物" in clerk.notice.text() and clerk.chime.played == 1
            assert admin.notice.text() == "" and admin.chime.played == 0
        finally:
            await stop_all(clerk_link, admin_link, clerk, admin)
            await running.server.stop()

    run_in_qt(qapp, qtbot, scenario)
