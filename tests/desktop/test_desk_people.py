"""People by their names: the desk shows the display names the backend sends (welcome.people,
then `people` messages) where a user's sign-in name would be: who is signed in, who did what
in a case's timeline, who gave an instruction, who got there first. A name changed on the
server reaches an open desk without a reconnect."""

from __future__ import annotations

import pytest

from desktop.core.refusals import LastChange, explain
from desktop.core.replica import Replica
from desktop.ui.desk.texts import op_text, person_text
from dispatch.store.store import Store
from protocol.messages import People, Welcome
from protocol.workflow import ALERT_OPS, OTHER_OPS, STEPS
from tests.desktop.test_desk import act, open_desk, ready, reported, stop_all
from tests.desktop.test_wall import run_in_qt, until
from tests.dispatch.conftest import start_server
from tests.factories import make_event


def welcome(people: dict[str, str]) -> Welcome:
    return Welcome(
        id=1,
        protocol=1,
        user="demo-linghu",
        role="street",
        jurisdiction=["340803004"],
        epoch="0123456789abcdef",
        head=0,
        resume="none",
        server_time=1_800_000_000.0,
        people=people,
    )


def test_the_replica_keeps_the_names_and_says_when_they_change() -> None:
    replica = Replica()
    changes = replica.apply(welcome({"demo-linghu": "菱湖街道分中心 王芳"}))
    assert changes.people and bool(changes)
    assert replica.person("demo-linghu") == "菱湖街道分中心 王芳"
    assert replica.person("区联动中心 孙丽") == "区联动中心 孙丽"  # not a user: as it is
    assert replica.person("system") == "system"
    assert not replica.apply(welcome({"demo-linghu": "菱湖街道分中心 王芳"})).people  # same
    assert replica.apply(People(people={})).people
    assert replica.person("demo-linghu") == "demo-linghu"


def test_a_refusal_names_who_got_there_first_by_the_name_people_know() -> None:
    seen = make_event(1, status="reported", updated_at=10.0)
    now = make_event(1, status="accepted", updated_at=20.0)
    refusal = explain(
        "illegal_transition",
        "accept is not allowed",
        seen=seen,
        now=now,
        last=LastChange("demo-linghu", "accept", 20.0),
        me="demo-linghu-2",
        people={"demo-linghu": "菱湖街道分中心 王芳"},
    )
    assert (refusal.kind, refusal.by) == ("taken", "菱湖街道分中心 王芳")
    # Compared by sign-in name: my own change is no one else's, whatever the names.
    mine = explain(
        "illegal_transition",
        "",
        seen=seen,
        now=now,
        last=LastChange("demo-linghu", "accept", 20.0),
        me="demo-linghu",
        people={"demo-linghu": "菱湖街道分中心 王芳"},
    )
    assert mine.kind == "moved_on"


# What the backend's clock writes in a case's log (actor "system"; docs/protocol.md §4.2,
# §6.8, §7.x), and the failed check's own action.
LOG_ONLY_ACTIONS = (
    "rework",
    "overdue",
    "missed",
    "auto_escalate",
    "auto_supervise",
    "auto_reopen",
    "hold_expired",
)


def test_every_step_in_a_timeline_is_worded_and_the_clock_is_named(qapp) -> None:
    ops = [*STEPS, *ALERT_OPS, *OTHER_OPS, *LOG_ONLY_ACTIONS]
    unworded = [op for op in ops if op not in ("report_batch",) and op_text(op) == op]
    assert not unworded, unworded
    assert op_text("auto_escalate") == "自动上报"
    replica = Replica()
    replica.apply(welcome({"demo-linghu": "菱湖街道分中心 王芳"}))
    assert person_text(replica, "system") == "系统"
    assert person_text(replica, "demo-linghu") == "菱湖街道分中心 王芳"
    assert person_text(replica, "网格员 孙敏英") == "网格员 孙敏英"


@pytest.mark.timeout(180)
def test_the_desk_shows_people_by_their_display_names(qapp, qtbot, sqlite_store: Store) -> None:
    async def scenario() -> None:
        running = await start_server(sqlite_store)
        sqlite_store.update_user("菱湖分中心", display_name="菱湖街道分中心 王芳")
        sqlite_store.update_user("指挥长", display_name="县干指挥长 李明")
        await running.server.reread_people()
        url = f"ws://127.0.0.1:{running.port}"
        window, link = open_desk(url, running.tokens["linghu"])
        commander = await running.client("commander")
        try:
            await ready(window)
            # Who is signed in: the name, never the sign-in id.
            await until(lambda: "菱湖街道分中心 王芳" in window.who.text(), 5, "header")
            assert "菱湖分中心 ·" not in window.who.text()
            # Nothing the name says already is said again beside it.
            assert window.who.text() == "菱湖街道分中心 王芳"

            event_id = await reported(running, title="占道经营")  # by 指挥长
            await until(lambda: event_id in window.book.tabs, 10, "listed")
            window.todo.select_case(event_id)
            await act(window, "A", event_id, "accepted")
            card = window.case_pane.card

            def actors() -> list[str]:
                return [t.actor for t in card.timeline_entries() or []]

            await until(lambda: len(actors()) >= 2, 5, "the timeline")
            assert actors() == ["县干指挥长 李明", "菱湖街道分中心 王芳"]

            # The commander's instruction, on the duty page, by name.
            answer = await commander.command("handover", {"commander": "李明"})
            assert answer.__class__.__name__ == "Result", answer
            answer = await commander.command("instruct", {"text": "今晚加强夜巡"})
            assert answer.__class__.__name__ == "Result", answer
            window.nav.setCurrentIndex(2)
            lines = window.duty.lists["instructions"]
            await until(lambda: lines.count() >= 1, 10, "the instruction listed")
            assert "县干指挥长 李明：今晚加强夜巡" in lines.item(0).text()
            # A consultation's latest decision: its words (not the op's name) and who.
            answer = await commander.command("consult", {"event": event_id, "note": "请城管局会商"})
            assert answer.__class__.__name__ == "Result", answer
            consult = window.duty.lists["consult"]
            await until(lambda: consult.count() >= 1, 10, "the consultation listed")
            assert "意见：请城管局会商（县干指挥长 李明）" in consult.item(0).text()

            # Renamed on the server (the command line's update-user): the open desk follows,
            # without a reconnect.
            sqlite_store.update_user("菱湖分中心", display_name="菱湖街道分中心 王芳芳")
            await running.server.reread_people()
            await until(lambda: "王芳芳" in window.who.text(), 5, "the header renamed")
            window.nav.setCurrentIndex(0)
            await until(lambda: "菱湖街道分中心 王芳芳" in actors(), 5, "the timeline renamed")
            assert link.status.connected
        finally:
            await commander.ws.close()
            await stop_all(link, window)
            await running.server.stop()

    run_in_qt(qapp, qtbot, scenario)
