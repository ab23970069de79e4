"""待分拨 on the desk: a 12345 work order whose type no mapping rule knows (docs/intake.md
§2.4) is listed under the dispatcher's 待分拨 tab, first of its tabs; Enter on it opens
分拨定类 (classify), and once classified it leaves the tab. A real desk window offscreen,
on a real backend whose 12345 intake takes a signed push over HTTP."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop.core.todo import TABS, Me, tabs_of
from dispatch.store.store import Store
from protocol.entities import Event, Intake
from tests.desktop.test_desk import open_desk, press, ready, stop_all
from tests.desktop.test_wall import run_in_qt, until
from tests.dispatch.intake.conftest import order, start_hotline


def _event(status: str, triage: str) -> Event:
    intake = Intake(channel="12345", ref="X", peer="p", place="none", confidence=0.0, triage=triage)
    return Event(
        id=1,
        code="DG-1",
        source="hotline",
        category="06-14",
        title="t",
        lon=117.0,
        lat=30.5,
        grid="340803004001001",
        community="340803004001",
        street="340803004",
        priority=3,
        status=status,
        level="grid",
        reported_at=0.0,
        updated_at=0.0,
        deadline=1e12,
        intake=intake,
    )


def test_the_triage_tab_holds_the_cases_waiting_for_classify() -> None:
    dispatcher = Me("调度员", "dispatcher")
    assert TABS["dispatcher"][0] == "triage" and "triage" in TABS["admin"]
    for status in ("reported", "accepted"):
        assert "triage" in tabs_of(dispatcher, _event(status, "其他/未分类诉求"), 1.0)
    # Classified (the mark cleared), or past the stages classify applies to: not there.
    assert "triage" not in tabs_of(dispatcher, _event("accepted", ""), 1.0)
    assert "triage" not in tabs_of(dispatcher, _event("rejected", "其他"), 1.0)
    # A street works the case in its own tabs (and sees 待分拨 on its card), not this one.
    street = Me("菱湖分中心", "street", ("340803004",))
    assert tabs_of(street, _event("reported", "其他"), 1.0) == frozenset({"accept"})


@pytest.mark.timeout(180)
def test_a_dispatcher_finds_a_triaged_case_and_classifies_it(
    qapp, qtbot, sqlite_store: Store, tmp_path
) -> None:
    async def scenario() -> None:
        line = await start_hotline(sqlite_store, tmp_path)
        running = line.running
        window, link = open_desk(f"ws://127.0.0.1:{running.port}", running.tokens["dispatcher"])
        try:
            await ready(window)
            todo = window.todo
            assert todo.tabs.tabs()[0][0] == "triage"
            mapped = (await line.push(order("AQ-MAPPED-1"))).json()
            got = await line.push(
                order(
                    "AQ-TRIAGE-1",
                    kind="其他/未分类诉求",
                    content="小区门口的石狮子被人涂了油漆。",
                    address="大观区菱湖街道菱湖社区",
                )
            )
            event_id = got.json()["event"]
            assert got.json()["triage"] is True and mapped["triage"] is False
            await until(
                lambda: dict((k, c) for k, _, c in todo.tabs.tabs())["triage"] == 1,
                10,
                "待分拨 counts the case",
            )
            tabs = {key: label for key, label, _ in todo.tabs.tabs()}
            assert tabs["triage"].startswith("待分拨")
            todo.tabs.set_current_key("triage")
            await until(lambda: todo.model.tab == "triage", 5, "the tab shown")
            assert list(todo.model.rows.ids) == [event_id]  # the mapped case is not there
            await until(lambda: window.case_pane.event_id == event_id, 5, "the case in hand")
            # Enter on the list: its main action is 分拨定类.
            todo.table.setFocus()
            press(Qt.Key.Key_Return)
            pane = window.case_pane
            await until(lambda: pane.form.isVisible() and pane.op == "classify", 5, "classify")
            assert "其他/未分类诉求" in pane.form.hint.text()
            pane.form.submitted.emit({"category": "01-02", "note": "涂鸦"})
            await until(
                lambda: (
                    (e := window.replica.events.get(event_id)) is not None
                    and e.category == "01-02"
                    and e.intake is not None
                    and not e.intake.triage
                ),
                10,
                "classified",
            )
            await until(lambda: event_id not in todo.model.rows, 10, "gone from 待分拨")
            assert dict((k, c) for k, _, c in todo.tabs.tabs())["triage"] == 0
        finally:
            await stop_all(link, window)
            await line.http.aclose()
            await running.server.stop()

    run_in_qt(qapp, qtbot, scenario)
