"""我的待办: the highlighted row is always the case in hand (the card), whatever moves the rows:
an action of mine or someone else's, a new case above it, a new order, a search.

The list's rows are re-announced or reset as cases change; Qt moves the view's current row by
position when a row goes (it selects the next one) and clears it on a reset. The page puts the
highlight back by the case's id, never by position.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop.ui.desk.window import DeskWindow
from dispatch.store.store import Store
from protocol.messages import Result
from tests.desktop.test_desk import act, open_desk, press, ready, reported, stop_all
from tests.desktop.test_wall import run_in_qt, until
from tests.dispatch.conftest import start_server


def highlighted(window: DeskWindow) -> list[int]:
    """The cases of the rows shown selected (the current row is one of them, if any)."""
    todo = window.todo
    rows = todo.table.selectionModel().selectedRows()
    ids = [i for r in rows if (i := todo.model.id_at(r.row())) is not None]
    current = todo.table.currentIndex()
    if current.isValid():
        assert todo.model.id_at(current.row()) in ids, "the current row is not highlighted"
    return ids


def in_hand(window: DeskWindow) -> int | None:
    return window.case_pane.event_id


@pytest.mark.timeout(180)
def test_the_highlighted_row_is_always_the_case_in_hand(qapp, qtbot, sqlite_store: Store) -> None:
    async def scenario() -> None:
        running = await start_server(sqlite_store)
        url = f"ws://127.0.0.1:{running.port}"
        first = await reported(running, title="第一件")
        second = await reported(running, title="第二件")
        third = await reported(running, title="第三件")
        window, link = open_desk(url, running.tokens["linghu"])
        other = await running.client("commander")
        try:
            await ready(window)
            todo = window.todo
            assert todo.model.tab == "accept"
            assert list(todo.model.rows.ids) == [first, second, third]
            # Nothing taken yet: the desk shows the top case, highlighted.
            await until(lambda: in_hand(window) == first, 5, "the desk picks the top case")
            assert highlighted(window) == [first]

            # Someone else accepts the case the desk picked: the next one is shown, and it is
            # the one highlighted (the view alone had moved the highlight, not the card).
            answer = await other.command("accept", {"event": first})
            assert isinstance(answer, Result), answer
            await until(lambda: first not in todo.model.rows, 10, "gone from 待受理")
            assert in_hand(window) == second
            assert highlighted(window) == [second]

            # I accept the case in hand by keys: it leaves the list and stays in hand (its
            # card shows what I did); no other row is highlighted meanwhile.
            await act(window, "A", second, "accepted")
            await until(lambda: second not in todo.model.rows, 10, "gone from 待受理")
            assert in_hand(window) == second
            assert highlighted(window) == []
            await until(lambda: not window.case_pane.form.isVisible(), 5, "the form put away")
            assert in_hand(window) == second and highlighted(window) == []

            # Down takes the next case; the card follows the highlight.
            todo.table.setFocus()
            press(Qt.Key.Key_Down)
            await until(lambda: in_hand(window) == third, 5, "the card follows the key")
            assert highlighted(window) == [third]

            # Another order (a reset of the rows): still the same case.
            todo.order.setCurrentIndex(todo.order.findData("newest"))
            assert todo.model.order == "newest"
            assert highlighted(window) == [third] and in_hand(window) == third

            # A new case comes in above it: the highlight stays on the case, not the row.
            fourth = await reported(running, title="第四件")
            await until(lambda: fourth in todo.model.rows, 10, "the new case listed")
            assert todo.model.rows.row_of(fourth) == 0 and todo.model.rows.row_of(third) == 1
            assert highlighted(window) == [third] and in_hand(window) == third

            # A search that leaves the case out: nothing highlighted, the card stays; the
            # search cleared, the case is highlighted again.
            todo.search.setText("第四件")
            await until(lambda: list(todo.model.rows.ids) == [fourth], 5, "searched")
            assert highlighted(window) == [] and in_hand(window) == third
            todo.search.clear()
            await until(lambda: third in todo.model.rows, 5, "search cleared")
            assert highlighted(window) == [third] and in_hand(window) == third

            # The deadline order again, and the case I hold is accepted by someone else.
            todo.order.setCurrentIndex(todo.order.findData("deadline"))
            assert highlighted(window) == [third]
            answer = await other.command("accept", {"event": third})
            assert isinstance(answer, Result), answer
            await until(lambda: third not in todo.model.rows, 10, "gone from 待受理")
            assert in_hand(window) == third and highlighted(window) == []
        finally:
            await other.ws.close()
            await stop_all(link, window)
            await running.server.stop()

    run_in_qt(qapp, qtbot, scenario)
