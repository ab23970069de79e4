"""The desk's time machine (复盘): F8 shows a past moment of a real backend's recorded day,
read-only (an action made meanwhile is refused on the desk, in words, and nothing reaches
the backend), and End brings the live desk back whole."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from desktop.ui.desk.window import DeskWindow
from tests.desktop.test_desk import open_desk, press, ready, stop_all
from tests.desktop.test_wall import run_in_qt, until
from tests.dispatch.test_replay import Day, Served, day, serving  # noqa: F401 (the fixture)


def test_the_desk_replays_read_only_and_comes_back_live(
    qapp,
    qtbot,
    day: Day,  # noqa: F811
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with serving(day, tmp_path) as served:
            await acted(served)

    async def acted(served: Served) -> None:
        server = served.server
        port = served.port
        window, link = open_desk(f"ws://127.0.0.1:{port}", day.tokens["commander"])
        window.use_replay(link.replay)
        try:
            await ready(window)
            await until(lambda: bool(window.replica.events), 20, "the desk's cases")
            live = dict(window.replica.events)
            assert server.hub is not None
            head = server.hub.head
            window.activateWindow()
            press(Qt.Key.Key_F8)
            await until(lambda: window.replay.active, 15, "into the past")
            assert window.replay.bar.isVisible()
            assert "复盘中" in window.notice.text()
            assert not window.case_pane.action_bar.isEnabled()
            moment = day.moments["commander"][1]
            await window.replay.seek(seq=moment.seq)
            assert window.replica.seq == moment.seq
            assert window.replica.events == moment.events
            # An action made in the past is refused on the desk, in words: nothing is sent.
            case = next(e for e in moment.events.values() if e.status == "reported")
            entry = window.outbox.submit("accept", {"event": case.id})
            await until(lambda: not entry.open, 5, "the refusal")
            assert entry.state == "refused" and "复盘中不能操作" in entry.message
            assert server.hub.head == head
            # End: the live desk, whole.
            press(Qt.Key.Key_End)
            await until(lambda: not window.replay.active, 5, "back to live")
            assert not window.replay.bar.isVisible() and window.notice.text() == ""
            assert window.case_pane.action_bar.isEnabled()
            assert window.replica.events == live
        finally:
            await stop_all(link, window)

    run_in_qt(qapp, qtbot, scenario, timeout=180)


def test_a_desk_with_no_session_yet_does_not_go_into_the_past(qtbot) -> None:
    from desktop.core.replica import Replica

    window = DeskWindow(Replica())
    qtbot.addWidget(window)
    window.replay.enter()
    assert not window.replay.active and not window.replay.bar.isVisible()
