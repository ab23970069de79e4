"""The deadline-risk badge (docs/kpis.md §8) in the real wall window, offscreen, fed by a real
backend over a real websocket serving a seeded simulated history (bench.risk.history)."""

from __future__ import annotations

import asyncio
import math
import os
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics

from bench.risk import END, history
from desktop.core.link import SessionThread
from desktop.core.replica import Replica
from desktop.ui.models import RISK
from desktop.ui.wall import WallWindow
from dispatch import risk
from dispatch.app import load_reference
from dispatch.clock import Clock
from dispatch.limits import Limits
from dispatch.store.store import Store
from protocol.messages import RISK_SHOWN_FROM
from tests.desktop.test_desk import open_desk, ready, stop_all
from tests.desktop.test_wall import run_in_qt, until
from tests.dispatch.conftest import LINGHU, start_server


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return history(4, 3, tmp_path_factory.getbasetemp() / "risk-history", daily=400)


def a_risky_moment(path: Path, street: str = "") -> float:
    """A district time after the history's end when some open case runs a clear risk (the
    model as the backend will train it then): its cases stand still, their stages' time
    runs on; with `street`, a case of that street."""
    store = Store(f"sqlite:///{path}")
    try:
        reference = load_reference(store, END)
        events = list(store.events_reported(0.0, math.inf))
    finally:
        store.close()
    for step in range(0, 24):
        moment = END + 60 + step * 3600
        model = risk.train(events, reference, moment)
        assert model is not None
        assessed = risk.assess(model, events, moment)
        streets = {e.id: e.street for e in events}
        chances = [r.p for i, r in assessed.cases.items() if not street or streets[i] == street]
        if max(chances, default=0.0) >= RISK_SHOWN_FROM + 0.03:
            return moment
    raise AssertionError("no case at risk within a day")


def test_an_amber_badge_shows_on_the_wall_before_the_countdown_turns_red(
    qapp, qtbot, simulated: Path, tmp_path: Path
) -> None:
    start = a_risky_moment(simulated)
    served = tmp_path / "served.db"
    shutil.copy(simulated, served)
    store = Store(f"sqlite:///{served}")

    async def scenario() -> None:
        running = await start_server(
            store, Limits(risk_interval=0.2, risk_first_delay=0.0), Clock(start=start)
        )
        wall = WallWindow(Replica())
        wall.resize(1920, 1080)
        wall.show()
        link = SessionThread(
            f"ws://127.0.0.1:{running.port}", running.tokens["wall"], wake=wall.coalescer.wake
        )
        wall.listen(link.inbox, resync=link.resync, history=link.history)
        link.start()
        try:
            model = wall.queue_view.model
            column = model.COLUMNS.index("risk")

            def badged() -> list[int]:
                return [
                    r
                    for r in range(model.rowCount())
                    if (cells := model.row_cells(r)) and cells[column].text.startswith("险")
                ]

            await until(lambda: bool(badged()), 60, "a risk badge in the queue")
            now = wall.replica.now()
            for row in badged():
                event = model.event_at(row)
                assert event is not None
                shown = wall.replica.risk[event.id]
                cells = model.row_cells(row)
                assert cells[column].text == f"险{round(shown.p * 100)}%"
                assert cells[column].colour == RISK
                assert shown.p >= RISK_SHOWN_FROM and shown.why.startswith("同类案件本街道")
                # Before the countdown turns red: never on a late case.
                assert event.deadline is None or event.deadline > now - 5
            # Below the threshold, or with no risk: no badge.
            for row in range(model.rowCount()):
                event = model.event_at(row)
                assert event is not None
                known = wall.replica.risk.get(event.id)
                if known is None or known.p < RISK_SHOWN_FROM:
                    assert model.row_cells(row)[column].text == ""
            # Read from 5 m: the queue's text (the badge's) at least 1/60 of the height.
            assert QFontMetrics(wall.queue.font()).capHeight() >= wall.height() / 60
            header = wall.queue.horizontalHeader()
            needed = QFontMetrics(wall.queue.font()).horizontalAdvance("险100%")
            assert header.sectionSize(column) >= needed
            assert "险" in " ".join(k.label for g in wall.queue_legend._groups for k in g.keys)
            # Opened, the case's card says the risk and why, amber before red.
            event = model.event_at(badged()[0])
            assert event is not None
            wall._case_clicked(event.id)
            await until(wall.case_view.isVisible, 5, "the case opened")
            card = wall.case_view.sheet.card
            fields = {n.text(): v.text() for n, v in card._field_labels if n.isVisible()}
            shown = wall.replica.risk[event.id]
            risk_text = fields.get("超期风险", "").replace("\u200b", "")
            assert risk_text == f"险{round(shown.p * 100)}%：{shown.why}", fields
            assert card.status.property("tone") == "warn"
            wall.case_view.hide()
            if shot := os.environ.get("TG_SHOT"):
                await asyncio.sleep(3.0)  # the map's page drawn
                wall.grab().save(shot)
        finally:
            await stop_all(link, wall)
            await running.server.stop()
            store.close()

    run_in_qt(qapp, qtbot, scenario, timeout=180)


def test_the_desk_badges_a_case_at_risk_and_its_card_says_why(
    qapp, qtbot, simulated: Path, tmp_path: Path
) -> None:
    """The street clerk's desk: the to-do row's 险 badge with the reason as its tooltip,
    and the case's card with the risk and why, amber (`TG_SHOT=… ` saves the desk)."""
    start = a_risky_moment(simulated, LINGHU)
    served = tmp_path / "served.db"
    shutil.copy(simulated, served)
    store = Store(f"sqlite:///{served}")

    async def scenario() -> None:
        running = await start_server(
            store, Limits(risk_interval=0.2, risk_first_delay=0.0), Clock(start=start)
        )
        window, link = open_desk(f"ws://127.0.0.1:{running.port}", running.tokens["linghu"])
        try:
            await ready(window)

            def at_risk() -> list[int]:
                now = window.replica.now()
                return [
                    e.id
                    for e in window.replica.events.values()
                    if window.replica.shown_risk(e, now) is not None
                ]

            await until(lambda: bool(at_risk()), 60, "a case at risk on the desk")
            event_id = at_risk()[0]
            assert window.todo.select_case(event_id)
            model = window.todo.model
            column = model.COLUMNS.index("risk")
            await until(lambda: event_id in [model.id_at(r) for r in range(model.rowCount())], 10)
            row = next(r for r in range(model.rowCount()) if model.id_at(r) == event_id)
            shown = window.replica.risk[event_id]
            assert model.row_cells(row)[column].text == f"险{round(shown.p * 100)}%"
            tip = model.data(model.index(row, column), Qt.ItemDataRole.ToolTipRole)
            assert tip == shown.why and tip.startswith("同类案件本街道")
            await until(lambda: window.case_pane.event_id == event_id, 10, "the case in hand")
            card = window.case_pane.sheet.card

            def risk_field() -> str:
                fields = {n.text(): v.text() for n, v in card._field_labels if n.isVisible()}
                return fields.get("超期风险", "").replace("\u200b", "")

            await until(lambda: risk_field().endswith(shown.why), 10, "the risk on the card")
            assert risk_field() == f"险{round(shown.p * 100)}%：{shown.why}"
            if shot := os.environ.get("TG_SHOT"):
                await asyncio.sleep(1.0)
                window.grab().save(shot)
            # 县干指挥长 (F3): the street's forecast of cases turning overdue, said as one.
            window.nav.setCurrentIndex(2)
            await until(lambda: bool(window.replica.forecast), 30, "a forecast")
            await until(window.duty.forecast.isVisible, 5, "the forecast line")
            expected = f"菱湖 {window.replica.forecast[LINGHU]:.1f}"
            await until(lambda: expected in window.duty.forecast.text(), 5, "its figure")
            assert "模型估计" in window.duty.forecast.text()
        finally:
            await stop_all(link, window)
            await running.server.stop()
            store.close()

    run_in_qt(qapp, qtbot, scenario, timeout=180)
