"""The desk end to end: real windows, keyboard input, a real backend (in this process on port 0,
or a `dispatch serve` process where it must be killed), and a second client watching.

Like tests/desktop/test_wall.py these drive their own qasync loop over the GUI thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from desktop.core.link import SessionThread
from desktop.core.replica import Replica
from desktop.core.session import Session
from desktop.ui.desk.window import DeskWindow
from desktop.ui.thumbnails import ThumbnailLoader
from desktop.ui.wall import WallWindow
from dispatch.store.store import Image, Store
from dispatch.writer import DetectRequest
from protocol.messages import Error, Result
from tests.desktop.test_wall import close_window, free_port, live_session, run_in_qt, until
from tests.dispatch.conftest import (
    DEKUAN,
    LINGHU,
    Running,
    start_server,
)
from tests.dispatch.test_server import report_args

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = (
    b"<svg xmlns='http://www.w3.org/2000/svg' width='160' height='90'>"
    b"<rect width='160' height='90' fill='#345'/></svg>"
)


# ---- driving a desk --------------------------------------------------------------------------


def open_desk(url: str, token: str) -> tuple[DeskWindow, SessionThread]:
    """A desk window on its own session, wired as the application wires it."""
    window = DeskWindow(Replica())
    window.resize(1600, 900)
    window.show()
    link = SessionThread(url, token, wake=window.coalescer.wake, client="test-desk")
    window.listen(link.inbox, resync=link.resync)
    window.attach(link.command, link.history, link)
    link.start()
    return window, link


async def ready(window: DeskWindow) -> None:
    """Until the desk knows who it is and has its list."""
    await until(lambda: bool(window.book.me.user) and window.todo.model.tab is not None, 20, "desk")


def press(
    key: Qt.Key | str, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
) -> None:
    """One key press, where the keyboard focus is (as a user types). With no focus widget and
    no active window (a form just put away on a loaded machine), the desk window takes it, as
    its window shortcuts would: a press to nobody was lost and the test waited in vain."""
    target: QWidget | None = QApplication.focusWidget() or QApplication.activeWindow()
    if target is None:
        target = next(
            w for w in QApplication.topLevelWidgets() if isinstance(w, DeskWindow) and w.isVisible()
        )
    QTest.keyClick(target, key, modifier)  # type: ignore[arg-type]


async def act(window: DeskWindow, key: str, event_id: int, status: str) -> None:
    """Press an action's shortcut, then Enter on its form; wait until the case is `status`."""
    form = window.case_pane.form
    await until(lambda: not form.isVisible(), 5, "the last action's form put away")

    def editing() -> bool:
        return form.isVisible() and form.state() == "editing"

    # On a loaded machine a key pressed while the window was still taking the focus can be
    # lost: pressed again (a form that opened is not pressed for twice).
    for _ in range(4):
        window.activateWindow()
        window.case_pane.setFocus()
        press(key)
        with contextlib.suppress(AssertionError):
            await until(editing, 4, f"form of {key}")
            break
    assert editing(), f"the form of {key} did not open"
    press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    await until(
        lambda: (e := window.replica.events.get(event_id)) is not None and e.status == status,
        10,
        f"{key} -> {status}",
    )


async def stop_all(*parts: object) -> None:
    for part in parts:
        if isinstance(part, SessionThread):
            await part.stop(patience=3)
        elif isinstance(part, DeskWindow):
            await part.outbox.close()
            if part.map.view is not None:
                # A web page closed while it loads leaves QtWebEngine's threads running at
                # exit (an abort): let it finish loading first.
                await until(lambda w=part: w.map.map.is_ready, 20, "the map page loaded")
            # Kept alive until the process ends, as the wall's tests keep theirs: its map's
            # web page torn down mid-run leaves QtWebEngine's threads to abort the exit.
            await close_window(part)
        elif isinstance(part, WallWindow):
            await close_window(part)
        elif isinstance(part, Session):
            await part.stop()


async def reported(running: Running, street: str = LINGHU, title: str = "测试事件") -> int:
    client = await running.client("commander")
    try:
        answer = await client.command("report", report_args(running, street, title))
    finally:
        await client.ws.close()
    assert isinstance(answer, Result), answer
    return int(answer.data["event"])


# ---- scenarios --------------------------------------------------------------------------------


@pytest.mark.timeout(180)
def test_a_street_clerk_accepts_and_dispatches_by_keyboard_and_the_wall_shows_it(
    qapp, qtbot, sqlite_store: Store
) -> None:
    async def scenario() -> None:
        running = await start_server(sqlite_store)
        url = f"ws://127.0.0.1:{running.port}"
        window, link = open_desk(url, running.tokens["linghu"])
        wall = WallWindow(Replica())
        wall.show()
        wall_link = live_session(wall, url, running.tokens["wall"])
        wall_link.start()
        try:
            await ready(window)
            assert window.book.me.role == "street"
            event_id = await reported(running, title="人行道垃圾堆放")
            other = await reported(running, DEKUAN, title="别的街道")
            await until(lambda: event_id in window.book.tabs, 10, "new case in my to-do")
            assert window.book.tabs[event_id] == {"accept"}
            assert other not in window.replica.events  # another street's: never sent
            assert "人行道垃圾堆放" in window.notice.text()  # announced
            assert window.todo.select_case(event_id)
            ops = [b.key for b in window.case_pane.action_bar.current_actions()]
            assert ops[:2] == ["accept", "reject"] and "consult" not in ops

            await act(window, "A", event_id, "accepted")
            assert window.book.tabs[event_id] == {"dispatch"}
            await act(window, "D", event_id, "dispatched")
            event = window.replica.events[event_id]
            assert event.assignee.startswith("网格员 ")

            def on_wall() -> bool:
                wall_event = wall.replica.events.get(event_id)
                return wall_event is not None and wall_event.status == "dispatched"

            await until(on_wall, 5, "the wall shows the dispatched case")
            await until(
                lambda: len(window.case_pane.card.timeline_entries() or []) >= 3, 5, "timeline"
            )
            timeline = window.case_pane.card.timeline_entries() or []
            assert [t.actor for t in timeline][-2:] == ["菱湖分中心", "菱湖分中心"]
        finally:
            await stop_all(link, wall_link, window, wall)
            await running.server.stop()

    run_in_qt(qapp, qtbot, scenario)


@pytest.mark.timeout(180)
def test_a_whole_loop_by_keyboard_and_a_forbidden_action_forced_is_refused_and_audited(
    qapp, qtbot, sqlite_store: Store
) -> None:
    async def scenario() -> None:
        running = await start_server(sqlite_store)
        url = f"ws://127.0.0.1:{running.port}"
        window, link = open_desk(url, running.tokens["linghu"])
        unit = Session(url, running.tokens["commander"], on_changes=lambda c: None)
        unit_task = asyncio.ensure_future(unit.run())
        try:
            await ready(window)
            await unit.wait_connected()
            event_id = await reported(running)
            await until(lambda: event_id in window.book.tabs, 10, "in my to-do")
            window.todo.select_case(event_id)
            await act(window, "A", event_id, "accepted")
            await act(window, "D", event_id, "dispatched")
            # The grid worker's own app reports the handling (here: another client).
            for op in ("start", "handled"):
                assert isinstance(await unit.command(op, {"event": event_id}), Result)
            await until(lambda: window.book.tabs.get(event_id) == {"verify"}, 10, "to verify")
            window.todo.select_case(event_id)
            await act(window, "V", event_id, "verified")
            await act(window, "C", event_id, "closed")
            await act(window, "P", event_id, "evaluated")
            assert event_id not in window.book.tabs

            # Consultation is the commander's: not offered, and refused when forced.
            second = await reported(running)
            await until(lambda: second in window.replica.events, 10, "second case")
            answer = await link.command("consult", {"event": second}, command_id="forced-1")
            assert isinstance(answer, Error) and answer.code == "forbidden"
            other = await reported(running, DEKUAN)
            answer = await link.command("accept", {"event": other}, command_id="forced-2")
            assert isinstance(answer, Error) and answer.code == "not_found"
            audited = sqlite_store.find_commands(["forced-1", "forced-2"])
            assert set(audited) == {"forced-1", "forced-2"}
            assert (
                audited["forced-1"].user == "菱湖分中心"
                and "forbidden" in audited["forced-1"].result
            )
        finally:
            await stop_all(link, window, unit)
            await unit_task
            await running.server.stop()

    run_in_qt(qapp, qtbot, scenario)


@pytest.mark.timeout(180)
def test_two_desks_on_one_case_the_second_is_told_who_got_there_first(
    qapp, qtbot, sqlite_store: Store
) -> None:
    second_token = sqlite_store.create_user("菱湖分中心值班2", "street", [LINGHU])

    async def scenario() -> None:
        running = await start_server(sqlite_store)
        url = f"ws://127.0.0.1:{running.port}"
        first, first_link = open_desk(url, running.tokens["linghu"])
        second, second_link = open_desk(url, second_token)
        try:
            await ready(first)
            await ready(second)
            event_id = await reported(running)
            for window in (first, second):
                await until(lambda w=window: event_id in w.book.tabs, 10, "both see it")
                window.todo.select_case(event_id)
                window.case_pane.open_form("accept")
            # Both submit before either hears of the other's.
            first.case_pane.form.submitted.emit({})
            second.case_pane.form.submitted.emit({})
            await until(lambda: first.replica.events[event_id].status == "accepted", 10, "ok")
            await until(
                lambda: first.outbox.waiting == 0 and second.outbox.waiting == 0, 10, "answered"
            )
            # Each desk's link sends on its own connection: either may get there first.
            states = {w: [e.state for e in w.outbox.entries] for w in (first, second)}
            (loser,) = [w for w, s in states.items() if s == ["refused"]]
            (winner,) = [w for w, s in states.items() if s == ["done"]]
            # The refusal may come before the winner's change: it is explained once the change
            # is in (or, without a name, after CasePane's patience).
            await until(lambda: loser.case_pane.notice.isVisible(), 5, "the refusal explained")
            text = loser.case_pane.notice.text()
            assert "已由" in text, text
            assert not loser.case_pane.form.isVisible()
            assert winner.book.me.user in text and "受理" in text
            assert [r.action for r in sqlite_store.event_history(event_id)].count("accept") == 1
        finally:
            await stop_all(first_link, second_link, first, second)
            await running.server.stop()

    run_in_qt(qapp, qtbot, scenario)


@pytest.mark.timeout(180)
def test_an_alert_becomes_a_dispatched_case_in_three_actions(
    qapp, qtbot, sqlite_store: Store
) -> None:
    async def scenario() -> None:
        running = await start_server(sqlite_store)
        url = f"ws://127.0.0.1:{running.port}"
        window, link = open_desk(url, running.tokens["linghu"])
        window.use_photos(ThumbnailLoader(url, running.tokens["linghu"], parent=window))
        try:
            await ready(window)
            camera = next(
                c.code for c in running.server.reference.cameras.values() if c.street == LINGHU
            )
            answer = await running.server.submit(
                DetectRequest(camera, "exposed_garbage", 0.9, Image("image/svg+xml", SNAPSHOT))
            )
            alert_id = int(answer.data["alert"])
            window.nav.setCurrentIndex(1)
            await until(lambda: window.alerts.list.count() >= 1, 10, "the alert is listed")
            window.activateWindow()
            actions = 0
            window.alerts.select_first()  # 1: take the newest alert
            actions += 1
            assert window.alerts.alert_id == alert_id
            press("C")  # 2: confirm (category and lead unit prefilled)
            actions += 1
            await until(lambda: window.alerts.form.isVisible(), 5, "confirm form")
            press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # 3: submit
            actions += 1

            def dispatched() -> bool:
                alert = window.replica.alerts.get(alert_id)
                event = window.replica.events.get(alert.event or 0) if alert else None
                return event is not None and event.status == "dispatched"

            await until(dispatched, 15, "confirmed, accepted and dispatched")
            assert actions == 3
            event = window.replica.events[window.replica.alerts[alert_id].event or 0]
            assert event.source == "camera" and event.assignee
            # The case shows the camera's snapshot, fetched from the backend once.
            window.show_case(event.id)
            await until(lambda: window.case_pane.card.photo.pixmap() is not None, 10, "photo")
        finally:
            await stop_all(link, window)
            await running.server.stop()

    run_in_qt(qapp, qtbot, scenario)


# ---- the backend killed in the middle of an action ------------------------------------------


def _serve(data: Path, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, TONGGUAN_DATA=str(data), PYTHONPATH=str(ROOT))
    env.pop("TONGGUAN_DB_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "dispatch", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(data / "serve.log").open("ab"),
    )


def _cli(data: Path, *args: str) -> str:
    env = dict(os.environ, TONGGUAN_DATA=str(data), PYTHONPATH=str(ROOT))
    env.pop("TONGGUAN_DB_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "dispatch", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@pytest.mark.timeout(240)
def test_the_backend_killed_mid_action_applies_it_exactly_once(qapp, qtbot, tmp_path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    _cli(data, "init-db")
    _cli(data, "load-district")
    for name, role, extra in (
        ("菱湖分中心", "street", ["--street", LINGHU]),
        ("指挥长", "commander", []),
    ):
        _cli(data, "create-user", name, "--role", role, *extra, "--token-file", str(data / name))
    tokens = {n: (data / n).read_text().strip() for n in ("菱湖分中心", "指挥长")}
    port = free_port()
    url = f"ws://127.0.0.1:{port}"

    async def scenario() -> None:
        proc = _serve(data, port)
        window = link = None
        unit = Session(url, tokens["指挥长"], on_changes=lambda c: None, max_backoff=0.5)
        unit_task = asyncio.ensure_future(unit.run())
        try:
            await asyncio.wait_for(unit.wait_connected(), 60)
            window, link = open_desk(url, tokens["菱湖分中心"])
            await ready(window)
            store = Store(f"sqlite:///{data / 'dispatch.db'}")
            answer = await unit.command("report", _report_args(data))
            assert isinstance(answer, Result)
            event_id = int(answer.data["event"])
            await until(lambda: event_id in window.book.tabs, 10, "in my to-do")
            window.todo.select_case(event_id)
            window.case_pane.open_form("accept")
            window.case_pane.form.submitted.emit({"note": "断线中受理"})
            proc.send_signal(signal.SIGKILL)  # in the middle: sent, maybe applied, no answer
            proc.wait(10)
            await until(lambda: not window.outbox.connected, 10, "the desk sees the outage")
            assert window.case_pane.form.state() == "pending"
            assert "待发送" in window.waiting.text() or window.outbox.waiting == 0
            proc = _serve(data, port)
            await until(
                lambda: (
                    (e := window.replica.events.get(event_id)) is not None
                    and e.status == "accepted"
                ),
                60,
                "applied after the backend returned",
            )
            await until(lambda: window.outbox.waiting == 0, 10, "answered")
            history = store.event_history(event_id)
            assert [r.action for r in history].count("accept") == 1
            store.close()
        finally:
            await stop_all(*(p for p in (link, window) if p is not None), unit)
            await unit_task
            proc.terminate()
            proc.wait(10)

    run_in_qt(qapp, qtbot, scenario, timeout=200)


def _report_args(data: Path) -> dict[str, object]:
    """A report at a point of 菱湖街道 read from the stored units."""
    store = Store(f"sqlite:///{data / 'dispatch.db'}")
    try:
        grid = next(
            doc for _, code, _, _, doc in store.unit_rows("grid") if code.startswith(LINGHU)
        )
    finally:
        store.close()
    import msgspec

    from protocol.entities import Grid

    centre = msgspec.json.decode(grid, type=Grid).centre
    return {"category": "01-02", "title": "断线测试", "lon": centre[0], "lat": centre[1]}


def test_while_no_node_writes_the_desk_says_its_actions_wait(qtbot) -> None:
    """A gateway's `kpis` say no node writes (protocol §4.3): the desk's standing notice
    says case handling is paused and actions queue, until a `kpis` says a writer is back
    (the desk showed a green 已连接 and nothing else: found by a newcomer's trial)."""
    from desktop.core.replica import Changes
    from protocol.messages import Kpis

    window = DeskWindow(Replica())
    qtbot.addWidget(window)
    window.replica.apply(Kpis(at=1.0, scopes={}, no_writer=True))
    window._after(Changes(kpis=True))
    assert window.notice.text() == "暂无主节点：案件办理暂停，操作将排队，主节点恢复后发送"
    window.replica.apply(Kpis(at=2.0, scopes={}))
    window._after(Changes(kpis=True))
    assert window.notice.text() == ""
