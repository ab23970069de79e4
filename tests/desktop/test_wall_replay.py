"""The wall's time machine (复盘) as a wall operator uses it: F8 into the past over a real
backend's recorded day, the queue and the map showing exactly the moment's open cases, the
bar's banner saying it is not live, nothing ringing, and End back to the live wall whole."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QAbstractButton, QComboBox, QLabel, QWidget

from desktop.core.district_time import date_hm
from desktop.core.link import SessionThread
from desktop.core.replica import Replica
from desktop.ui.wall import WallWindow
from tests.desktop.test_desk import stop_all
from tests.desktop.test_wall import run_in_qt, until
from tests.dispatch.test_replay import Day, Served, day, serving  # noqa: F401 (the fixture)


def _queued(wall: WallWindow) -> set[int]:
    model = wall.queue_view.model
    return {e.id for r in range(model.rowCount()) if (e := model.event_at(r)) is not None}


def test_the_wall_goes_into_the_past_and_back_to_live(
    qapp,
    qtbot,
    day: Day,  # noqa: F811
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with serving(day, tmp_path) as served:
            await shown(served)

    async def shown(served: Served) -> None:
        wall = WallWindow(Replica(view="open"))
        wall.resize(1920, 1080)
        wall.show()
        link = SessionThread(
            f"ws://127.0.0.1:{served.port}",
            day.tokens["wall"],
            wake=wall.coalescer.wake,
            view="open",
        )
        wall.listen(link.inbox, resync=link.resync, history=link.history, replay=link.replay)
        link.start()
        rings: list[bool] = []
        wall.chime.ring = lambda: rings.append(True)  # type: ignore[method-assign]
        try:
            await until(lambda: wall.replica.epoch is not None and bool(_queued(wall)), 30)
            live = set(wall.replica.events)
            assert _queued(wall) == live
            # F8: the present, paused, with the bar and its banner over the map's foot.
            wall.shortcuts["F8"].activated.emit()
            await until(lambda: wall.replay.active, 15, "into the past")
            bar = wall.replay.bar
            assert bar.isVisible() and bar.banner_text().startswith("回放")
            assert bar.banner_text().endswith("非实时")
            assert wall.rect().contains(bar.geometry()) and bar.geometry().bottom() == 1079
            # The panels end above the bar: none of their rows lies under it.
            panels = (wall.kpi_panel, wall.map_panel, wall.duty_panel, wall.alert_panel)
            in_replay = {panel: panel.geometry() for panel in panels}
            assert all(p.geometry().bottom() < bar.geometry().top() for p in panels)
            assert wall.header.freshness.full_text() == "复盘 · 非实时"
            # Read from 5 m: none of the bar's texts under 1/60 of the screen's height.
            smallest = min(
                QFontMetrics(part.font()).capHeight()
                for part in bar.findChildren(QWidget)
                if part.isVisible() and isinstance(part, (QLabel, QAbstractButton, QComboBox))
            )
            assert smallest >= wall.height() / 60, smallest
            # A recorded moment: the queue lists exactly the cases open then.
            machine = wall.replay.machine
            assert machine is not None
            for moment in day.moments["wall"][:3]:
                await wall.replay.seek(seq=moment.seq)
                assert not machine.message and wall.replica.seq == moment.seq
                assert bar.banner_text() == f"回放 {date_hm(machine.at)} · 非实时"
                wall.coalescer.flush()
                assert set(wall.replica.events) == set(moment.events)
                assert _queued(wall) == set(moment.events)
            if shot := os.environ.get("TG_SHOT"):
                await asyncio.sleep(3.0)  # the map's page drawn
                wall.grab().save(shot)
            # → steps one change; Space plays and pauses.
            seq = wall.replica.seq
            wall.shortcuts["Right"].activated.emit()
            await until(lambda: wall.replica.seq > seq, 15, "a step")
            wall.shortcuts["Space"].activated.emit()
            assert machine.mode == "playing"
            await until(lambda: wall.replica.seq > seq + 20, 30, "playing on")
            wall.shortcuts["Space"].activated.emit()
            assert machine.mode == "paused"
            # Paused: the tiles wait for the moment's own figures (those on the replica are
            # the last mark's, an earlier moment's), then show them.
            wall.coalescer.flush()
            assert machine.figures == "pending"
            assert wall.kpi_panel.title.text() == "正在计算此刻指标…"
            assert {tile.value.full_text() for tile in wall.kpis.tiles.values()} == {"…"}
            await until(lambda: machine.figures == "shown", 30, "the paused moment's figures")
            wall.coalescer.flush()
            assert wall.kpi_panel.title.text().startswith("复盘当日指标")
            assert "…" not in {tile.value.full_text() for tile in wall.kpis.tiles.values()}
            assert not rings  # nothing in the past rings
            # End: the live wall, whole, the bar gone.
            wall.shortcuts["End"].activated.emit()
            wall.coalescer.flush()
            assert not wall.replay.active and not bar.isVisible()
            assert set(wall.replica.events) == live and _queued(wall) == live
            assert all(p.geometry().bottom() > in_replay[p].bottom() for p in panels)  # room back
            # Left alone in the past (paused, no key, no mouse), the wall goes back to live.
            wall.shortcuts["F8"].activated.emit()
            await until(lambda: wall.replay.active, 15, "into the past again")
            wall._every_second()
            assert wall.replay.active  # just touched: stays
            wall.replay_idle = 0.0
            await asyncio.sleep(0.01)
            wall._every_second()
            assert not wall.replay.active and not bar.isVisible()
        finally:
            await stop_all(link, wall)

    run_in_qt(qapp, qtbot, scenario, timeout=180)
